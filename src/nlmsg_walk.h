/* nlmsg_walk.h - the netlink messages of one received datagram, with
 * every length checked, in line.
 *
 * libmnl's mnl_nlmsg_ok() compares a message length as an int: one of
 * 2^31 or more passes as negative, and its walk (also mnl_cb_run()'s)
 * then reads past the datagram (found by tests/fuzz/fuzz_nflog.c). The
 * kernel never sends such a length, but a process with CAP_NET_ADMIN
 * can unicast to our sockets. So every datagram is walked here, or
 * handed to libmnl through nlmsg_cb_run(), which checks it first.
 *
 * Contract: nlmsg_walk_next() returns the message at *off whose header
 * and length fit in the len bytes at buf, and steps *off past it
 * (aligned, at most to len); NULL at the end or at a message that does
 * not fit, which ends the walk. nlmsg_walk_sane(): every message fits,
 * and what follows the last is too short for a header. nlmsg_cb_run():
 * mnl_cb_run() on a sane datagram; MNL_CB_ERROR with errno EBADMSG on
 * any other. buf is 4-byte aligned.
 */
#ifndef PMTUD_NLMSG_WALK_H
#define PMTUD_NLMSG_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>

static inline const struct nlmsghdr *nlmsg_walk_next(const void *buf,
						     size_t len, size_t *off)
{
	const struct nlmsghdr *nlh;
	size_t left = len - *off;	/* *off <= len: kept so below */

	if (left < NLMSG_HDRLEN)
		return NULL;
	nlh = (const struct nlmsghdr *)((const uint8_t *)buf + *off);
	if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > left)
		return NULL;
	*off += NLMSG_ALIGN(nlh->nlmsg_len) < left ? NLMSG_ALIGN(nlh->nlmsg_len) : left;
	return nlh;
}

static inline bool nlmsg_walk_sane(const void *buf, size_t len)
{
	size_t off = 0;

	while (nlmsg_walk_next(buf, len, &off))
		;
	return len - off < NLMSG_HDRLEN;
}

static inline int nlmsg_cb_run(const void *buf, size_t len, uint32_t seq,
			       uint32_t portid, mnl_cb_t cb, void *data)
{
	if (!nlmsg_walk_sane(buf, len)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return mnl_cb_run(buf, len, seq, portid, cb, data);
}

#endif
