/* nfnl_sock.c - the NETLINK_NETFILTER socket shared by the inputs. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <libmnl/libmnl.h>
#include "nfnl_sock.h"

/* The kernel's own buffer limits (NFULA_CFG_NLBUFSIZ) are bounded; the
 * socket receive buffer is what absorbs bursts. FORCE needs
 * CAP_NET_ADMIN and ignores rmem_max; without it the kernel caps
 * SO_RCVBUF silently. */
static int set_rcvbuf(int fd, uint32_t rcvbuf)
{
	int v;

	if (rcvbuf == 0)
		return 0;
	v = rcvbuf > INT32_MAX / 2 ? INT32_MAX / 2 : (int)rcvbuf;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

struct mnl_socket *nfnl_sock_open(uint32_t rcvbuf, const char *what,
				  char *err, size_t errlen)
{
	/* Blocking while configuring: the kernel queues each ACK before
	 * sendmsg() returns. The timeout only guards against the
	 * impossible; it is moot once the socket is non-blocking. */
	const struct timeval ack_wait = { .tv_sec = 5 };
	struct mnl_socket *nl;
	int fd;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl) {
		snprintf(err, errlen, "%s: netlink socket: %s", what, strerror(errno));
		return NULL;
	}
	fd = mnl_socket_get_fd(nl);
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "%s: netlink bind: %s", what, strerror(errno));
	} else if (set_rcvbuf(fd, rcvbuf) < 0) {
		snprintf(err, errlen, "%s: socket receive buffer %" PRIu32 ": %s",
			 what, rcvbuf, strerror(errno));
	} else if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &ack_wait, sizeof(ack_wait)) < 0) {
		snprintf(err, errlen, "%s: SO_RCVTIMEO: %s", what, strerror(errno));
	} else {
		return nl;
	}
	mnl_socket_close(nl);
	return NULL;
}

int nfnl_sock_nonblock(struct mnl_socket *nl, const char *what,
		       char *err, size_t errlen)
{
	int fd = mnl_socket_get_fd(nl);
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "%s: O_NONBLOCK: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

struct nfnl_rx *nfnl_rx_new(unsigned n, size_t size)
{
	struct nfnl_rx *rx = calloc(1, sizeof(*rx));
	struct iovec *iov;
	unsigned i;

	if (!rx)
		return NULL;
	rx->n = n;
	/* Messages are 4-byte aligned within a datagram; so are slots. */
	rx->size = (size + 7) & ~(size_t)7;
	rx->msgs = calloc(n, sizeof(*rx->msgs) + sizeof(*iov));
	rx->buf = malloc(n * rx->size);
	if (!rx->msgs || !rx->buf) {
		nfnl_rx_free(rx);
		return NULL;
	}
	iov = (struct iovec *)(rx->msgs + n);
	for (i = 0; i < n; i++) {
		iov[i].iov_base = nfnl_rx_slot(rx, i);
		iov[i].iov_len = rx->size;
		rx->msgs[i].msg_hdr.msg_iov = &iov[i];
		rx->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return rx;
}

void nfnl_rx_free(struct nfnl_rx *rx)
{
	if (!rx)
		return;
	free(rx->msgs);
	free(rx->buf);
	free(rx);
}

bool nfnl_instance_owner(const char *proc_path, uint16_t num, uint32_t *portid)
{
	char line[160];
	unsigned n, p;
	bool found = false;
	FILE *f;

	f = fopen(proc_path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u", &n, &p) == 2 && n == num) {
			*portid = p;
			found = true;
		}
	}
	fclose(f);
	return found;
}
