/* input_nflog.c - receive captured PTBs from an NFLOG group.
 *
 * libmnl carries the netlink traffic; libnetfilter_log's nflog_nlmsg_*
 * helpers build the config messages and parse the packet attributes.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <libnetfilter_log/linux_nfnetlink_log.h>
#include "batch_adapt.h"
#include "input_nflog.h"
#include "nfnl_sock.h"
#include "nlmsg_walk.h"

/* Receive: one recvmmsg() takes up to NFLOG_RX_SLOTS datagrams. With
 * queue threshold 1 each packet is its own datagram; with kernel
 * batching one datagram carries a whole batch, up to the skb's
 * tailroom: NFLOG_BATCH_BUFSIZ rounded up by the page allocator to
 * 256 KiB, less the skb's shared info (261824 bytes), below a slot.
 * Batches are taken one datagram per call (NFLOG_RX_SLOTS_BATCH): each
 * is decided while the kernel's copy of it is still in the cache. The
 * slots are allocated at open (nfnl_rx: not on the stack, nothing per
 * packet). A longer datagram arrives truncated, is skipped, and shows
 * up as a sequence gap. */
#define NFLOG_RX_SLOTS		16
#define NFLOG_RX_SLOT		(260 * 1024)
#define NFLOG_RX_SLOTS_BATCH	1

/* Kernel batching (see batch_adapt.h): a threshold of 1000 packets,
 * and the largest buffer the kernel takes (131072), which its
 * allocator rounds up to 256 KiB: the batch fills all of that. Half
 * the batch (128 KiB less the skb's overhead, not rounded up) cost a
 * third more CPU per PTB with 548-byte quotes, in receives, wakeups
 * and skb frees. Immediate mode goes back to one page. */
#define NFLOG_BATCH_QTHRESH	1000
#define NFLOG_BATCH_BUFSIZ	131072

/* Bounded work per wakeup: at most this many packets (plus the rest of
 * the last recvmmsg()) before the event loop serves its other sources;
 * the socket stays readable, so the loop comes straight back. */
#define NFLOG_RX_BUDGET		1024


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
		ret = nlmsg_cb_run(buf, (size_t)n, seq, in->portid, ack_data_cb, NULL);
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

	/* Packets up to the largest relayable PTB (a longer one is
	 * oversized, whatever its tail holds), no batching to start with:
	 * a lone PTB must not wait for a flush timer (adapt() turns
	 * batching on under load, with flush timeout 0: the next tick).
	 * Sequence numbers reveal drops that happen before our socket
	 * (e.g. ENOBUFS). */
	nlh = cfg_header(buf, in->group, 2);
	if (nflog_attr_put_cfg_mode(nlh, NFULNL_COPY_PACKET, PTB_COPY_RANGE) < 0) {
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

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}


int input_nflog_open(struct nflog_input *in, uint16_t group, uint32_t rcvbuf,
		     char *err, size_t errlen)
{
	char what[32];

	memset(in, 0, sizeof(*in));
	in->fd = -1;
	in->group = group;
	in->adaptive = true;
	batch_adapt_init(&in->adapt, mono_ns());
	snprintf(what, sizeof(what), "NFLOG group %u", group);
	in->rx = nfnl_rx_new(NFLOG_RX_SLOTS, NFLOG_RX_SLOT);
	if (!in->rx) {
		snprintf(err, errlen, "%s: receive buffer: %s", what, strerror(errno));
		return -1;
	}
	in->nl = nfnl_sock_open(rcvbuf, what, err, errlen);
	if (!in->nl) {
		nfnl_rx_free(in->rx);
		in->rx = NULL;
		return -1;
	}
	in->fd = mnl_socket_get_fd(in->nl);
	in->portid = mnl_socket_get_portid(in->nl);
	if (nflog_bind(in, err, errlen) < 0 ||
	    nfnl_sock_nonblock(in->nl, what, err, errlen) < 0) {
		input_nflog_close(in);
		return -1;
	}
	return 0;
}

/* The group's batching, changed on the bound instance. No ACK awaited
 * (the socket is the event loop's now): a refusal comes back as an
 * error message, which the receive path skips. */
static int set_batching(struct nflog_input *in, bool on)
{
	_Alignas(struct nlmsghdr) char buf[NFLOG_CFGBUF];
	struct nlmsghdr *nlh;
	long page = sysconf(_SC_PAGESIZE);

	nlh = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC, in->group);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(on ? NFLOG_BATCH_QTHRESH : 1));
	mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ,
			 htonl(on ? NFLOG_BATCH_BUFSIZ : page > 0 && page < 8192 ? (uint32_t)page : 8192));
	return mnl_socket_sendto(in->nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

/* Once per receive (one clock read per batch, not per packet). */
static void adapt(struct nflog_input *in, unsigned n, uint64_t now)
{
	if (!in->adaptive || !batch_adapt_update(&in->adapt, now, n))
		return;
	if (set_batching(in, in->adapt.batching) < 0)
		batch_adapt_set(&in->adapt, !in->adapt.batching, now);
}

int input_nflog_idle(struct nflog_input *in)
{
	uint64_t due, now;

	if (!in->nl || !in->adaptive || !(due = batch_adapt_due(&in->adapt)))
		return -1;
	now = mono_ns();
	if (now >= due) {
		adapt(in, 0, now);
		if (!(due = batch_adapt_due(&in->adapt)))
			return -1;
	}
	return (int)((due - now + 999999) / 1000000);
}

struct rx_ctx {
	struct nflog_input *in;
	pkt_cb cb;
	void *arg;
	int delivered;
};

/* Attribute access in line (libmnl's are calls into the library);
 * input_nflog_parse() checked the lengths. */
static const void *attr_data(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

static size_t attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static uint32_t attr_be32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, attr_data(a), sizeof(v));
	return ntohl(v);
}

static uint16_t attr_be16(const struct nlattr *a)
{
	uint16_t v;

	memcpy(&v, attr_data(a), sizeof(v));
	return ntohs(v);
}

static void track_seq(struct nflog_input *in, const struct nlattr *a)
{
	uint32_t seq;

	if (!a)
		return;
	seq = attr_be32(a);
	/* Unsigned difference: correct across the 2^32 wrap. */
	if (in->have_seq && seq != in->next_seq)
		in->seq_gaps += (uint32_t)(seq - in->next_seq);
	in->next_seq = seq + 1;
	in->have_seq = true;
}

/* The attributes of one packet message in one pass, without
 * callbacks (under a flood, libnetfilter_log's validating parser was a
 * third of the agent's time). */
bool input_nflog_parse(const struct nlmsghdr *nlh, const struct nlattr **attr)
{
	static const uint8_t min_len[NFULA_MAX + 1] = {
		[NFULA_PACKET_HDR] = sizeof(struct nfulnl_msg_packet_hdr),
		[NFULA_IFINDEX_INDEV] = sizeof(uint32_t),
		[NFULA_HWTYPE] = sizeof(uint16_t),
		[NFULA_SEQ] = sizeof(uint32_t),
	};
	static const struct nlattr *const none[NFULA_MAX + 1];
	const uint8_t *p, *end;
	const struct nlattr *a;
	uint16_t type;

	/* A copy of a constant, not an initializer: compilers zero an
	 * array this size with "rep stos", slow to start, per packet. */
	memcpy(attr, none, sizeof(none));
	if (!nfnl_attrs(nlh, &p, &end))
		return false;
	while ((a = nfnl_attr_next(&p, end))) {
		type = a->nla_type & NLA_TYPE_MASK;
		if (type <= NFULA_MAX) {
			if (a->nla_len - sizeof(*a) < min_len[type])
				return false;
			attr[type] = a;
		}
	}
	return nfnl_attrs_clean(p, end);
}

static int rx_data_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *attr[NFULA_MAX + 1];
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
	if (!input_nflog_parse(nlh, attr))
		return MNL_CB_OK;
	track_seq(rx->in, attr[NFULA_SEQ]);
	payload = attr[NFULA_PAYLOAD];
	if (!payload)
		return MNL_CB_OK;
	if ((a = attr[NFULA_PACKET_HDR])) {
		ph = attr_data(a);
		meta.hw_protocol = ntohs(ph->hw_protocol);
	}
	if ((a = attr[NFULA_IFINDEX_INDEV]))
		meta.ifindex = attr_be32(a);
	if ((a = attr[NFULA_HWTYPE]))
		meta.hwtype = attr_be16(a);
	if ((a = attr[NFULA_HWHEADER])) {
		meta.hwhdr = attr_data(a);
		meta.hwhdr_len = attr_len(a);
	}
	rx->in->received++;
	rx->delivered++;
	rx->cb(rx->arg, attr_data(payload), attr_len(payload), &meta);
	return MNL_CB_OK;
}

int input_nflog_datagram(struct nflog_input *in, const void *buf, size_t len,
			 pkt_cb cb, void *arg)
{
	struct rx_ctx rx = { .in = in, .cb = cb, .arg = arg };
	const struct nlmsghdr *nlh;
	size_t off = 0;

	/* Not mnl_cb_run(), nor nlmsg_cb_run(): one walk, not a check and
	 * a walk, and an error message must not end the datagram (see
	 * nlmsg_walk.h). rx_data_cb() takes packet
	 * messages only; control messages (an error for a refused batching
	 * change) are skipped, the rest of the datagram still read. */
	while ((nlh = nlmsg_walk_next(buf, len, &off)))
		rx_data_cb(nlh, &rx);
	return rx.delivered;
}

int input_nflog_receive(struct nflog_input *in, pkt_cb cb, void *arg)
{
	struct mmsghdr *msgs;
	unsigned vlen, counted = 0;
	int i, n, got, delivered = 0;

	if (!in->nl)
		return -1;
	msgs = in->rx->msgs;
	while (delivered < NFLOG_RX_BUDGET) {
		/* By what the datagrams hold, not by the mode: after a
		 * switch to batching, the packets queued before it still
		 * come one per datagram, NFLOG_RX_SLOTS at a time. */
		vlen = in->batches ? NFLOG_RX_SLOTS_BATCH : NFLOG_RX_SLOTS;
		n = recvmmsg(in->fd, msgs, vlen, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* The kernel dropped packets for us: count and go on;
			 * the sequence gap tells how many. */
			if (errno == ENOBUFS) {
				in->lost_enobufs++;
				continue;
			}
			return -1;
		}
		/* Error messages (a refused batching change) are skipped; a
		 * malformed message ends its datagram only; the socket stays
		 * usable. */
		for (i = 0; i < n; i++) {
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			got = input_nflog_datagram(in, nfnl_rx_slot(in->rx, (unsigned)i),
						   msgs[i].msg_len, cb, arg);
			in->batches = got > 1;
			delivered += got;
		}
		/* Fewer than asked for: the queue was empty, no need for
		 * one more call to hear EAGAIN. */
		if ((unsigned)n < vlen)
			break;
		/* A flood met in immediate mode is counted call by call,
		 * not after a whole budget: every PTB received before the
		 * switch costs a message of its own, and so does every one
		 * the kernel queues meanwhile. */
		if (!in->adapt.batching) {
			adapt(in, (unsigned)delivered - counted, mono_ns());
			counted = (unsigned)delivered;
		}
	}
	adapt(in, (unsigned)delivered - counted, mono_ns());
	return delivered;
}

void input_nflog_close(struct nflog_input *in)
{
	_Alignas(struct nlmsghdr) char buf[NFLOG_CFGBUF];
	struct nlmsghdr *nlh;

	nfnl_rx_free(in->rx);
	in->rx = NULL;
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
