/* nfnl_sock.h - the NETLINK_NETFILTER socket both inputs (NFLOG and
 * NFQUEUE) are built on.
 *
 * Contract: nfnl_sock_open() returns a bound socket with its receive
 * buffer set and a bounded receive timeout for the configuration ACKs
 * (blocking while configuring); nfnl_sock_nonblock() switches it to
 * non-blocking for the event loop. nfnl_instance_owner() reads a
 * /proc/net/netfilter instance table to tell "bound by another
 * process" from "no permission" (the kernel says EPERM for both).
 * Errors fill err with one line starting with `what` (e.g.
 * "NFLOG group 33").
 *
 * nfnl_rx_new() allocates n receive slots of size bytes for
 * recvmmsg(), wired once (msgs[i] reads into nfnl_rx_slot(rx, i)), so
 * the receive paths allocate nothing and keep nothing on the stack;
 * nfnl_rx_free() accepts NULL.
 */
#ifndef PMTUD_NFNL_SOCK_H
#define PMTUD_NFNL_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

struct mnl_socket;
struct mmsghdr;

struct nfnl_rx {
	unsigned n;
	size_t size;
	struct mmsghdr *msgs;
	uint8_t *buf;		/* slot i at buf + i * size */
};

struct mnl_socket *nfnl_sock_open(uint32_t rcvbuf, const char *what,
				  char *err, size_t errlen);
int nfnl_sock_nonblock(struct mnl_socket *nl, const char *what,
		       char *err, size_t errlen);
struct nfnl_rx *nfnl_rx_new(unsigned n, size_t size);
void nfnl_rx_free(struct nfnl_rx *rx);
static inline uint8_t *nfnl_rx_slot(const struct nfnl_rx *rx, unsigned i)
{
	return rx->buf + (size_t)i * rx->size;
}
/* The attributes of one netfilter message, after its nfgenmsg, walked
 * in line (no callbacks: both inputs' per-packet path). nfnl_attrs()
 * sets the bounds (false: no room for the nfgenmsg); nfnl_attr_next()
 * returns the next attribute whose length fits and steps past it, NULL
 * at the end or at one that does not fit; nfnl_attrs_clean() then says
 * which (trailing bytes too few for a header are ignored). */
static inline bool nfnl_attrs(const struct nlmsghdr *nlh, const uint8_t **p,
			      const uint8_t **end)
{
	const size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));

	*p = (const uint8_t *)nlh + off;
	*end = (const uint8_t *)nlh + nlh->nlmsg_len;
	return nlh->nlmsg_len >= off;
}

static inline const struct nlattr *nfnl_attr_next(const uint8_t **p,
						  const uint8_t *end)
{
	const struct nlattr *a = (const struct nlattr *)*p;

	if (end - *p < (ptrdiff_t)sizeof(*a) || a->nla_len < sizeof(*a) ||
	    a->nla_len > end - *p)
		return NULL;
	*p += NLA_ALIGN(a->nla_len);
	return a;
}

static inline bool nfnl_attrs_clean(const uint8_t *p, const uint8_t *end)
{
	return end - p < (ptrdiff_t)sizeof(struct nlattr);
}

bool nfnl_instance_owner(const char *proc_path, uint16_t num, uint32_t *portid);

#endif
