/* input_nflog.c - receive captured PTBs from an NFLOG group.
 *
 * libmnl carries the netlink traffic; libnetfilter_log's nflog_nlmsg_*
 * helpers build the config messages and parse the packet attributes.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <libnetfilter_log/linux_nfnetlink_log.h>
#include "input_nflog.h"
#include "nfnl_sock.h"

/* Receive batching: one recvmmsg() takes up to NFLOG_RX_SLOTS messages
 * (with queue threshold 1 each packet is its own datagram, so a plain
 * recv() costs one system call per PTB; under a flood that call was
 * most of the agent's CPU time). A slot holds any ICMP error a router
 * sends (at most 576 / 1280 bytes by RFC 1812 / 4443), even from a
 * 9000-byte jumbo link, with the NFLOG attributes. A larger one
 * arrives truncated, is skipped, and shows up as a sequence gap. */
#define NFLOG_RX_SLOTS	16
#define NFLOG_RX_SLOT	(12 * 1024)

/* Config messages and their ACKs are tiny; a fixed size also keeps
 * libmnl's sysconf()-based MNL_SOCKET_BUFFER_SIZE from making a VLA. */
#define NFLOG_CFGBUF	8192

#define NFLOG_PROC	"/proc/net/netfilter/nfnetlink_log"

/* The ACK loop may see packets logged between BIND and the config ACK;
 * they are dropped here (still counted: they consumed sequence
 * numbers, so the first real receive reports them as a gap). */
static int ack_data_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	return MNL_CB_OK;
}

/* Send one config message with NLM_F_ACK and wait for its ACK.
 * Returns 0, or -errno from the kernel or the socket. */
static int nflog_talk(struct nflog_input *in, struct nlmsghdr *nlh)
{
	_Alignas(struct nlmsghdr) char buf[NFLOG_CFGBUF];
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(in->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(in->nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, in->portid, ack_data_cb, NULL);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret < 0)
			return -errno;
	}
}

static struct nlmsghdr *cfg_header(char *buf, uint16_t group, uint32_t seq)
{
	struct nlmsghdr *nlh;

	nlh = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC, group);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	return nlh;
}

static int nflog_bind(struct nflog_input *in, char *err, size_t errlen)
{
	_Alignas(struct nlmsghdr) char buf[NFLOG_CFGBUF];
	struct nlmsghdr *nlh;
	uint32_t owner;
	int ret;

	/* No PF_UNBIND/PF_BIND: nft "log group" and xt NFLOG name the
	 * ULOG logger explicitly, and PF_UNBIND would detach the netns
	 * default logger from whoever else relies on it. */
	nlh = cfg_header(buf, in->group, 1);
	if (nflog_attr_put_cfg_cmd(nlh, NFULNL_CFG_CMD_BIND) < 0) {
		snprintf(err, errlen, "NFLOG group %u: cannot build bind message", in->group);
		return -1;
	}
	ret = nflog_talk(in, nlh);
	if ((ret == -EPERM || ret == -EBUSY) && nfnl_instance_owner(NFLOG_PROC, in->group, &owner)) {
		snprintf(err, errlen,
			 "NFLOG group %u is already bound by another process (netlink portid %" PRIu32 ", see %s)",
			 in->group, owner, NFLOG_PROC);
		return -1;
	}
	if (ret < 0) {
		snprintf(err, errlen, "NFLOG group %u: bind: %s", in->group, strerror(-ret));
		return -1;
	}

	/* Full packets, no batching: a lone PTB must not wait for the
	 * kernel's default 1 s flush timer. Sequence numbers reveal drops
	 * that happen before our socket (e.g. ENOBUFS). */
	nlh = cfg_header(buf, in->group, 2);
	if (nflog_attr_put_cfg_mode(nlh, NFULNL_COPY_PACKET, 0xffff) < 0) {
		snprintf(err, errlen, "NFLOG group %u: cannot build config message", in->group);
		return -1;
	}
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(0));
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
	ret = nflog_talk(in, nlh);
	if (ret < 0) {
		snprintf(err, errlen, "NFLOG group %u: configure: %s", in->group, strerror(-ret));
		return -1;
	}
	/* A new instance numbers its packets from 0. */
	in->next_seq = 0;
	in->have_seq = true;
	return 0;
}

int input_nflog_open(struct nflog_input *in, uint16_t group, uint32_t rcvbuf,
		     char *err, size_t errlen)
{
	char what[32];

	memset(in, 0, sizeof(*in));
	in->fd = -1;
	in->group = group;
	snprintf(what, sizeof(what), "NFLOG group %u", group);
	in->nl = nfnl_sock_open(rcvbuf, what, err, errlen);
	if (!in->nl)
		return -1;
	in->fd = mnl_socket_get_fd(in->nl);
	in->portid = mnl_socket_get_portid(in->nl);
	if (nflog_bind(in, err, errlen) < 0 ||
	    nfnl_sock_nonblock(in->nl, what, err, errlen) < 0) {
		mnl_socket_close(in->nl);
		in->nl = NULL;
		in->fd = -1;
		return -1;
	}
	return 0;
}

struct rx_ctx {
	struct nflog_input *in;
	pkt_cb cb;
	void *arg;
	int delivered;
};

static void track_seq(struct nflog_input *in, const struct nlattr *a)
{
	uint32_t seq;

	if (!a || mnl_attr_get_payload_len(a) < sizeof(uint32_t))
		return;
	seq = ntohl(mnl_attr_get_u32(a));
	/* Unsigned difference: correct across the 2^32 wrap. */
	if (in->have_seq && seq != in->next_seq)
		in->seq_gaps += (uint32_t)(seq - in->next_seq);
	in->next_seq = seq + 1;
	in->have_seq = true;
}

static int rx_data_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *attr[NFULA_MAX + 1] = { NULL };
	const struct nfulnl_msg_packet_hdr *ph;
	struct rx_ctx *rx = arg;
	struct pkt_meta meta = { 0 };
	const struct nlattr *a, *payload;

	/* Packets only; anything else on this socket is not ours to act on. */
	if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET ||
	    (nlh->nlmsg_type >> 8) != NFNL_SUBSYS_ULOG)
		return MNL_CB_OK;
	/* Malformed or without payload: skip it, keep the batch. A
	 * skipped packet shows up as a sequence gap. */
	if (nflog_nlmsg_parse(nlh, attr) < 0)
		return MNL_CB_OK;
	track_seq(rx->in, attr[NFULA_SEQ]);
	payload = attr[NFULA_PAYLOAD];
	if (!payload)
		return MNL_CB_OK;
	if ((a = attr[NFULA_PACKET_HDR]) && mnl_attr_get_payload_len(a) >= sizeof(*ph)) {
		ph = mnl_attr_get_payload(a);
		meta.hw_protocol = ntohs(ph->hw_protocol);
	}
	if ((a = attr[NFULA_IFINDEX_INDEV]))
		meta.ifindex = ntohl(mnl_attr_get_u32(a));
	if ((a = attr[NFULA_HWTYPE]))
		meta.hwtype = ntohs(mnl_attr_get_u16(a));
	if ((a = attr[NFULA_HWHEADER])) {
		meta.hwhdr = mnl_attr_get_payload(a);
		meta.hwhdr_len = mnl_attr_get_payload_len(a);
	}
	rx->in->received++;
	rx->delivered++;
	rx->cb(rx->arg, mnl_attr_get_payload(payload), mnl_attr_get_payload_len(payload), &meta);
	return MNL_CB_OK;
}

int input_nflog_receive(struct nflog_input *in, pkt_cb cb, void *arg)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NFLOG_RX_SLOTS][NFLOG_RX_SLOT];
	struct rx_ctx rx = { .in = in, .cb = cb, .arg = arg };
	struct mmsghdr msgs[NFLOG_RX_SLOTS];
	struct iovec iov[NFLOG_RX_SLOTS];
	int i, n;

	if (!in->nl)
		return -1;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < NFLOG_RX_SLOTS; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		n = recvmmsg(in->fd, msgs, NFLOG_RX_SLOTS, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return rx.delivered;
			/* The kernel dropped packets for us: count and go on;
			 * the sequence gap tells how many. */
			if (errno == ENOBUFS) {
				in->lost_enobufs++;
				continue;
			}
			return -1;
		}
		/* Error messages (not expected after setup) and malformed
		 * batches end this datagram only; the socket stays usable. */
		for (i = 0; i < n; i++)
			if (!(msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
				mnl_cb_run(buf[i], msgs[i].msg_len, 0, 0, rx_data_cb, &rx);
		/* Fewer than asked for: the queue was empty, no need for
		 * one more call to hear EAGAIN. */
		if (n < NFLOG_RX_SLOTS)
			return rx.delivered;
	}
}

void input_nflog_close(struct nflog_input *in)
{
	_Alignas(struct nlmsghdr) char buf[NFLOG_CFGBUF];
	struct nlmsghdr *nlh;

	if (!in->nl)
		return;
	/* Closing the socket destroys the instance too; the explicit
	 * UNBIND (no ACK awaited) just makes the intent visible. */
	nlh = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC, in->group);
	if (nflog_attr_put_cfg_cmd(nlh, NFULNL_CFG_CMD_UNBIND) == 0)
		(void)mnl_socket_sendto(in->nl, nlh, nlh->nlmsg_len);
	mnl_socket_close(in->nl);
	in->nl = NULL;
	in->fd = -1;
}
