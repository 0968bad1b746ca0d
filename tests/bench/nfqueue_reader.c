/* nfqueue_reader.c - the benchmark's NFQUEUE ceiling: a minimal libmnl
 * reader that binds the queue (copy packet, fail-open), takes up to
 * SLOTS messages per recvmmsg(), accepts them all with one
 * NFQNL_MSG_VERDICT_BATCH (the highest packet id), parses each and
 * only counts it. The kernel builds one message per packet whatever
 * the reader does; batching the receive and the verdict is the best a
 * reader can do.
 *
 * Usage: nfqueue_reader [-q QUEUE] [-r RCVBUF]   (defaults 33, 4194304)
 * Prints "nfqueue_reader: ready" once bound; on SIGUSR1 and at exit
 * (SIGTERM/SIGINT) one line, in the agent's names:
 *	counters: received=N lost_enobufs=E seq_gaps=G (packet id gaps)
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include "reader.h"

#define SLOTS	64
#define SLOT	(65536 + 8192)

struct reader {
	struct mnl_socket *nl;
	uint16_t queue;
	uint64_t received, enobufs, gaps;
	uint32_t next_id, max_id;
};

static int data_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	const struct nfqnl_msg_packet_hdr *ph;
	struct reader *r = arg;
	uint32_t id;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    !attr[NFQA_PAYLOAD])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	r->gaps += (uint32_t)(id - r->next_id);
	r->next_id = id + 1;
	r->max_id = id;
	r->received++;
	return MNL_CB_OK;
}

static int send_msg(struct reader *r, struct nlmsghdr *nlh, bool ack)
{
	char buf[8192];

	if (ack)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	if (!ack)
		return 0;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
		int ret;

		if (n < 0)
			return -1;
		ret = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq,
				 mnl_socket_get_portid(r->nl), NULL, NULL);
		if (ret <= MNL_CB_STOP)
			return ret;
	}
}

/* Bind (seq 1), then copy mode and fail-open (seq 2). */
static int bind_queue(struct reader *r)
{
	char buf[8192];
	struct nlmsghdr *nlh;
	uint32_t seq;

	for (seq = 1; seq <= 2; seq++) {
		nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, r->queue);
		nlh->nlmsg_seq = seq;
		if (seq == 1) {
			nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
		} else {
			nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
			mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
			mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
		}
		if (send_msg(r, nlh, true) < 0)
			return -1;
	}
	r->next_id = 1;
	return 0;
}

static uint8_t buf[SLOTS][SLOT];
static struct mmsghdr msgs[SLOTS];
static struct iovec iov[SLOTS];

static void report(void *arg)
{
	const struct reader *r = arg;

	printf("counters: received=%" PRIu64 " lost_enobufs=%" PRIu64
	       " seq_gaps=%" PRIu64 "\n", r->received, r->enobufs, r->gaps);
}

static int drain(void *arg)
{
	struct reader *r = arg;
	char vbuf[512];
	struct nlmsghdr *nlh;
	int n, i;

	for (;;) {
		n = recvmmsg(mnl_socket_get_fd(r->nl), msgs, SLOTS, MSG_DONTWAIT, NULL);
		if (n < 0 && errno == ENOBUFS) {
			r->enobufs++;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		for (i = 0; i < n; i++)
			mnl_cb_run(buf[i], msgs[i].msg_len, 0, 0, data_cb, r);
		nlh = nfq_nlmsg_put(vbuf, NFQNL_MSG_VERDICT_BATCH, r->queue);
		nfq_nlmsg_verdict_put(nlh, (int)r->max_id, NF_ACCEPT);
		if (send_msg(r, nlh, false) < 0)
			return -1;
		if (n < SLOTS)
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct reader r = { .queue = 33 };
	unsigned long rcvbuf = 4194304;
	int o, i;

	while ((o = getopt(argc, argv, "q:r:")) != -1) {
		switch (o) {
		case 'q': r.queue = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'r': rcvbuf = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: nfqueue_reader [-q QUEUE] [-r RCVBUF]\n");
			return 2;
		}
	}
	for (i = 0; i < SLOTS; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = SLOT;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	r.nl = reader_socket(rcvbuf);
	if (!r.nl || bind_queue(&r) < 0) {
		perror("nfqueue_reader: bind");
		return 1;
	}
	return reader_run("nfqueue_reader", r.nl, drain, report, &r);
}
