/* nlfault.c - LD_PRELOAD shim for tests/test_rules.sh: makes the answer
 * to one nftables batch of the agent ambiguous, as a real socket
 * overrun or a lost ACK would.
 *
 *   PMTUD_NLFAULT=enobufs:N  the Nth nftables batch is sent; the next
 *                            receive on its socket fails with ENOBUFS
 *                            (the kernel's answers stay queued behind)
 *   PMTUD_NLFAULT=drop:N     the Nth batch is not sent, but reported
 *                            sent: no answer comes (ACK timeout)
 *
 * Batches count from 1 (the install at start); only sendto() of a
 * message stream that opens with NFNL_MSG_BATCH_BEGIN for nf_tables
 * counts. Everything else passes through untouched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>

typedef ssize_t (*sendto_fn)(int, const void *, size_t, int,
			     const struct sockaddr *, socklen_t);
typedef ssize_t (*recvmsg_fn)(int, struct msghdr *, int);

static int batches;	/* nftables batches seen */
static int armed_fd = -1;	/* its next receive fails */

static bool is_nft_batch(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	const struct nfgenmsg *g;

	if (len < NLMSG_LENGTH(sizeof(*g)) || nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN)
		return false;
	g = NLMSG_DATA(nlh);
	return ntohs(g->res_id) == NFNL_SUBSYS_NFTABLES;
}

/* The fault asked for, if it is this batch's: 'e' or 'd', else 0. */
static char fault_for(int batch)
{
	const char *v = getenv("PMTUD_NLFAULT");
	const char *colon = v ? strchr(v, ':') : NULL;

	if (!colon || atoi(colon + 1) != batch)
		return 0;
	if (!strncmp(v, "enobufs:", 8))
		return 'e';
	if (!strncmp(v, "drop:", 5))
		return 'd';
	return 0;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *addr, socklen_t alen)
{
	sendto_fn real = (sendto_fn)dlsym(RTLD_NEXT, "sendto");
	char fault = 0;

	if (is_nft_batch(buf, len))
		fault = fault_for(++batches);
	if (fault == 'd')
		return (ssize_t)len;
	if (fault == 'e')
		armed_fd = fd;
	return real(fd, buf, len, flags, addr, alen);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	recvmsg_fn real = (recvmsg_fn)dlsym(RTLD_NEXT, "recvmsg");

	if (fd == armed_fd) {
		armed_fd = -1;
		errno = ENOBUFS;
		return -1;
	}
	return real(fd, msg, flags);
}
