/* input_nfqueue.c - receive captured PTBs from an NFQUEUE queue.
 *
 * libmnl carries the netlink traffic; libnetfilter_queue's nfq_nlmsg_*
 * helpers build the config and verdict messages and parse the packet
 * attributes. Every packet is accepted: the agent only looks, the
 * verdict exists because NFQUEUE holds the packet until it gets one.
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
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include "input_nfqueue.h"
#include "nfnl_sock.h"
#include "nlmsg_walk.h"

/* Room for one message with a full 64 KiB copy range plus headers and
 * attributes, so MSG_TRUNC cannot happen. */
#define NFQ_RXBUF	(65536 + 8192)

/* Receive: one recvmmsg() takes up to NFQ_RX_SLOTS messages (the
 * kernel builds one per packet) and one verdict accepts them all. The
 * slots are allocated at open (nfnl_rx): nothing on the stack,
 * nothing per packet. */
#define NFQ_RX_SLOTS	64

/* Bounded work per wakeup: at most this many packets (plus the rest of
 * the last recvmmsg()) before the event loop serves its other sources;
 * the socket stays readable, so the loop comes straight back. */
#define NFQ_RX_BUDGET	1024


/* Config and verdict messages and their ACKs are tiny; a fixed size
 * also keeps libmnl's sysconf()-based MNL_SOCKET_BUFFER_SIZE from
 * making a VLA. */
#define NFQ_CFGBUF	8192

#define NFQ_PROC	"/proc/net/netfilter/nfnetlink_queue"

static bool is_packet(const struct nlmsghdr *nlh)
{
	return NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_QUEUE &&
	       NFNL_MSG_TYPE(nlh->nlmsg_type) == NFQNL_MSG_PACKET;
}

static bool packet_id(const struct nlattr *const *attr, uint32_t *id,
		      uint16_t *hw_protocol)
{
	const struct nfqnl_msg_packet_hdr *ph;
	const struct nlattr *a = attr[NFQA_PACKET_HDR];

	if (!a || mnl_attr_get_payload_len(a) < sizeof(*ph))
		return false;
	ph = mnl_attr_get_payload(a);
	*id = ntohl(ph->packet_id);
	*hw_protocol = ntohs(ph->hw_protocol);
	return true;
}

/* The packet header attribute of a packet message, by the in-line
 * walk (nfnl_sock.h): the verdict needs only the id, and comes before
 * the full parse. NULL when absent or malformed up to it. */
static const struct nlattr *packet_hdr_attr(const struct nlmsghdr *nlh)
{
	const uint8_t *p, *end;
	const struct nlattr *a;

	if (!nfnl_attrs(nlh, &p, &end))
		return NULL;
	while ((a = nfnl_attr_next(&p, end)))
		if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR)
			return a;
	return NULL;
}

/* One NF_ACCEPT verdict for every queued packet with an id up to
 * max_id (the kernel compares ids modulo 2^32). Returns 0 or -errno. */
static int send_verdict(struct nfqueue_input *in, uint32_t max_id)
{
	_Alignas(struct nlmsghdr) char buf[NFQ_CFGBUF];
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT_BATCH, in->queue);
	nfq_nlmsg_verdict_put(nlh, (int)max_id, NF_ACCEPT);
	for (;;) {
		if (mnl_socket_sendto(in->nl, nlh, nlh->nlmsg_len) >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Highest (last) packet id in one recv's worth of messages. Kernel
 * error answers are counted in *errors when given (after setup the only
 * requests are verdicts). */
static bool scan_ids(const void *buf, size_t len, uint32_t *max_id,
		     uint64_t *errors)
{
	const struct nlmsghdr *nlh;
	size_t off = 0;
	bool any = false;

	while ((nlh = nlmsg_walk_next(buf, len, &off))) {
		/* Only the packet header is looked for here. */
		const struct nlattr *attr[NFQA_PACKET_HDR + 1] = { NULL };
		const struct nlmsgerr *e;
		uint16_t proto;
		uint32_t id;

		if (nlh->nlmsg_type == NLMSG_ERROR) {
			/* Length first: a short message has no error field. */
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (errors && e->error)
				(*errors)++;
			continue;
		}
		if (!is_packet(nlh) ||
		    !(attr[NFQA_PACKET_HDR] = packet_hdr_attr(nlh)) ||
		    !packet_id(attr, &id, &proto))
			continue;
		*max_id = id;	/* ids rise in queue order */
		any = true;
	}
	return any;
}

/* Send one config message with NLM_F_ACK and wait for its ACK.
 * Returns 0, or -errno from the kernel or the socket. */
static int nfq_talk(struct nfqueue_input *in, struct nlmsghdr *nlh)
{
	_Alignas(struct nlmsghdr) char buf[NFQ_RXBUF];
	uint32_t seq = nlh->nlmsg_seq, max_id = 0;
	ssize_t n;
	int ret;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(in->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(in->nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* An operator's rule may feed the queue already: accept
		 * what comes with the ACK (nobody can take it yet). */
		if (scan_ids(buf, (size_t)n, &max_id, NULL) &&
		    send_verdict(in, max_id) < 0)
			in->verdict_errors++;
		ret = nlmsg_cb_run(buf, (size_t)n, seq, in->portid, NULL, NULL);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret < 0)
			return -errno;
		/* Only packets in this read: the ACK is still to come. */
	}
}

static int nfq_bind(struct nfqueue_input *in, char *err, size_t errlen)
{
	_Alignas(struct nlmsghdr) char buf[NFQ_CFGBUF];
	struct nlmsghdr *nlh;
	uint32_t owner;
	int ret;

	/* No PF_UNBIND/PF_BIND: no-ops since Linux 3.8. */
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, in->queue);
	nlh->nlmsg_seq = 1;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	ret = nfq_talk(in, nlh);
	if ((ret == -EPERM || ret == -EBUSY) && nfnl_instance_owner(NFQ_PROC, in->queue, &owner)) {
		snprintf(err, errlen,
			 "NFQUEUE %u is already bound by another process (netlink portid %" PRIu32 ", see %s)",
			 in->queue, owner, NFQ_PROC);
		return -1;
	}
	if (ret < 0) {
		snprintf(err, errlen, "NFQUEUE %u: bind: %s", in->queue, strerror(-ret));
		return -1;
	}

	/* Packets up to the largest relayable PTB (the verdict never
	 * carries one back). Fail-open: when the queue is full the kernel
	 * accepts new packets instead of dropping them, so a slow agent
	 * costs copies, never traffic. */
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, in->queue);
	nlh->nlmsg_seq = 2;
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, PTB_COPY_RANGE);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
	ret = nfq_talk(in, nlh);
	if (ret < 0) {
		snprintf(err, errlen, "NFQUEUE %u: configure: %s", in->queue, strerror(-ret));
		return -1;
	}
	/* A new instance numbers its packets from 1. */
	in->next_id = 1;
	return 0;
}

int input_nfqueue_open(struct nfqueue_input *in, uint16_t queue,
		       uint32_t rcvbuf, char *err, size_t errlen)
{
	char what[32];

	memset(in, 0, sizeof(*in));
	in->fd = -1;
	in->queue = queue;
	snprintf(what, sizeof(what), "NFQUEUE %u", queue);
	in->rx = nfnl_rx_new(NFQ_RX_SLOTS, NFQ_RXBUF);
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
	if (nfq_bind(in, err, errlen) < 0 ||
	    nfnl_sock_nonblock(in->nl, what, err, errlen) < 0) {
		input_nfqueue_close(in);
		return -1;
	}
	return 0;
}

static void track_id(struct nfqueue_input *in, uint32_t id)
{
	/* Unsigned difference: correct across the 2^32 wrap. */
	if (id != in->next_id)
		in->id_gaps += (uint32_t)(id - in->next_id);
	in->next_id = id + 1;
}

static int deliver(struct nfqueue_input *in, const void *buf, size_t len,
		   pkt_cb cb, void *arg)
{
	const struct nlmsghdr *nlh;
	size_t off = 0;
	int delivered = 0;

	while ((nlh = nlmsg_walk_next(buf, len, &off))) {
		struct nlattr *attr[NFQA_MAX + 1] = { NULL };
		struct pkt_meta meta = { 0 };
		const struct nlattr *a, *payload;
		uint32_t id;

		/* Malformed or without payload: skipped (already accepted). */
		if (!is_packet(nlh) || nfq_nlmsg_parse(nlh, attr) < 0 ||
		    !packet_id((const struct nlattr *const *)attr, &id, &meta.hw_protocol))
			continue;
		track_id(in, id);
		payload = attr[NFQA_PAYLOAD];
		if (!payload)
			continue;
		if ((a = attr[NFQA_IFINDEX_INDEV]))
			meta.ifindex = ntohl(mnl_attr_get_u32(a));
		in->received++;
		delivered++;
		cb(arg, mnl_attr_get_payload(payload), mnl_attr_get_payload_len(payload), &meta);
	}
	return delivered;
}

int input_nfqueue_receive(struct nfqueue_input *in, pkt_cb cb, void *arg)
{
	struct mmsghdr *msgs;
	int delivered = 0, n, i;
	uint32_t max_id = 0;
	bool any;

	if (!in->nl)
		return -1;
	msgs = in->rx->msgs;
	while (delivered < NFQ_RX_BUDGET) {
		n = recvmmsg(in->fd, msgs, NFQ_RX_SLOTS, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* The kernel could not queue packets for us; with
			 * fail-open it accepted them: count and go on. */
			if (errno == ENOBUFS) {
				in->lost_enobufs++;
				continue;
			}
			return -1;
		}
		/* Verdict first: the local stack must not wait for the
		 * classifier and the forwarder. The payloads stay valid in
		 * the slots. A verdict that cannot be sent is retried by
		 * the next batch, which covers every lower id. */
		any = false;
		for (i = 0; i < n; i++)
			any |= scan_ids(nfnl_rx_slot(in->rx, (unsigned)i), msgs[i].msg_len,
					&max_id, &in->verdict_errors);
		if (any && send_verdict(in, max_id) < 0)
			in->verdict_errors++;
		for (i = 0; i < n; i++)
			delivered += deliver(in, nfnl_rx_slot(in->rx, (unsigned)i),
					     msgs[i].msg_len, cb, arg);
		/* Fewer than asked for: the queue was empty. */
		if (n < NFQ_RX_SLOTS)
			break;
	}
	return delivered;
}

/* Accept what still waits in the socket: the kernel drops whatever a
 * closing queue holds. Bounded, as packets keep coming while the rules
 * exist; the few queued between this and the unbind are lost. */
static void drain_accept(struct nfqueue_input *in)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NFQ_RXBUF];
	uint32_t max_id = 0;
	ssize_t n;
	int i;

	for (i = 0; i < 4096; i++) {
		n = recv(in->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == ENOBUFS))
			continue;
		if (n < 0)
			return;
		if (scan_ids(buf, (size_t)n, &max_id, &in->verdict_errors) &&
		    send_verdict(in, max_id) < 0)
			in->verdict_errors++;
	}
}

void input_nfqueue_close(struct nfqueue_input *in)
{
	_Alignas(struct nlmsghdr) char buf[NFQ_CFGBUF];
	struct nlmsghdr *nlh;

	nfnl_rx_free(in->rx);
	in->rx = NULL;
	if (!in->nl)
		return;
	drain_accept(in);
	/* Closing the socket destroys the instance too; the explicit
	 * UNBIND (no ACK awaited) just makes the intent visible. */
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, in->queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
	(void)mnl_socket_sendto(in->nl, nlh, nlh->nlmsg_len);
	mnl_socket_close(in->nl);
	in->nl = NULL;
	in->fd = -1;
}
