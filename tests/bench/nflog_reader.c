/* nflog_reader.c - the benchmark's NFLOG ceiling: a minimal libmnl
 * reader that binds the group, parses each packet message (attributes,
 * sequence number, payload) and only counts it. Nothing else runs per
 * packet, so its CPU time is the cost of the kernel hand-over alone.
 * It parses with the agent's own one-pass parser (input_nflog_parse);
 * -L uses libnetfilter_log's nflog_nlmsg_parse() instead, as a plain
 * libnetfilter_log reader would.
 *
 * Two configurations (run.sh uses both):
 *   -t 1000 -b 131072  kernel batching: the queue threshold lets the
 *                      kernel build one skb of many messages, flushed
 *                      when the buffer (nlbufsiz) is full or at the
 *                      next timer tick (flush timeout 0): the ceiling
 *                      for CPU and throughput;
 *   -t 1               one message per skb and one recv per PTB: the
 *                      lowest latency (a lone PTB is not held).
 *
 * -C also reads every byte of each packet, summing it as 64-bit words:
 * not a ceiling, but the least a relay that checks a checksum must add
 * (the benchmark's "reads every byte" row).
 *
 * Usage: nflog_reader [-g GROUP] [-t QTHRESH] [-b NLBUFSIZ] [-r RCVBUF] [-L] [-C]
 *        (defaults 33, 1, the kernel's, 4194304)
 * Prints "nflog_reader: ready" once bound; on SIGUSR1 and at exit
 * (SIGTERM/SIGINT) one line, in the agent's names:
 *	counters: received=N lost_enobufs=E seq_gaps=G recvs=R max_datagram=B sum=S
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
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <libnetfilter_log/linux_nfnetlink_log.h>
#include "input_nflog.h"
#include "reader.h"

/* A batch is as large as the skb's real tailroom, which slab rounding
 * can make twice nlbufsiz. */
#define RXBUF	(512 * 1024)

struct reader {
	struct mnl_socket *nl;
	uint64_t received, enobufs, gaps, recvs, max_dgram;
	uint32_t next_seq;
	bool libparse;
	bool readall;
	uint64_t sum;		/* -C: printed, so it is not optimized away */
};

/* -C: every byte, 8 at a time, as 32-bit halves into a 64-bit sum. */
static uint64_t sum_bytes(const uint8_t *p, size_t n)
{
	uint64_t q, s = 0;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&q, p + i, sizeof(q));
		s += (q & 0xffffffff) + (q >> 32);
	}
	for (; i < n; i++)
		s += p[i];
	return s;
}

static int data_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *attr[NFULA_MAX + 1];
	struct reader *r = arg;
	uint32_t seq;

	if (r->libparse)	/* the library wants it cleared */
		memset(attr, 0, sizeof(attr));
	if (r->libparse ? nflog_nlmsg_parse(nlh, (struct nlattr **)attr) < 0
			: !input_nflog_parse(nlh, attr))
		return MNL_CB_OK;
	if (!attr[NFULA_PAYLOAD])
		return MNL_CB_OK;
	if (attr[NFULA_SEQ]) {
		seq = ntohl(mnl_attr_get_u32(attr[NFULA_SEQ]));
		r->gaps += (uint32_t)(seq - r->next_seq);
		r->next_seq = seq + 1;
	}
	if (r->readall)
		r->sum += sum_bytes(mnl_attr_get_payload(attr[NFULA_PAYLOAD]),
				    mnl_attr_get_payload_len(attr[NFULA_PAYLOAD]));
	r->received++;
	return MNL_CB_OK;
}

static int config(struct reader *r, uint16_t group, uint32_t seq,
		  uint32_t qthresh, uint32_t nlbufsiz)
{
	char buf[8192];
	struct nlmsghdr *nlh;

	nlh = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC, group);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (seq == 1) {
		nflog_attr_put_cfg_cmd(nlh, NFULNL_CFG_CMD_BIND);
	} else {
		nflog_attr_put_cfg_mode(nlh, NFULNL_COPY_PACKET, 0xffff);
		mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(qthresh));
		mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(0));
		if (nlbufsiz)
			mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(nlbufsiz));
		mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
	}
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
		int ret;

		if (n < 0)
			return -1;
		ret = mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(r->nl), NULL, NULL);
		if (ret <= MNL_CB_STOP)
			return ret;
	}
}

static void report(void *arg)
{
	const struct reader *r = arg;

	printf("counters: received=%" PRIu64 " lost_enobufs=%" PRIu64 " seq_gaps=%" PRIu64
	       " recvs=%" PRIu64 " max_datagram=%" PRIu64 " sum=%" PRIu64 "\n",
	       r->received, r->enobufs, r->gaps, r->recvs, r->max_dgram, r->sum);
}

/* Until EAGAIN: one recv per datagram, as a plain reader does. */
static int drain(void *arg)
{
	static uint8_t buf[RXBUF];
	struct reader *r = arg;

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(r->nl), buf, RXBUF, MSG_DONTWAIT);

		if (n < 0 && errno == ENOBUFS) {
			r->enobufs++;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		r->recvs++;
		if ((uint64_t)n > r->max_dgram)
			r->max_dgram = (uint64_t)n;
		mnl_cb_run(buf, (size_t)n, 0, 0, data_cb, r);
	}
}

int main(int argc, char **argv)
{
	struct reader r = { 0 };
	unsigned long group = 33, qthresh = 1, nlbufsiz = 0, rcvbuf = 4194304;
	int o;

	while ((o = getopt(argc, argv, "g:t:b:r:LC")) != -1) {
		switch (o) {
		case 'L': r.libparse = true; break;
		case 'C': r.readall = true; break;
		case 'g': group = strtoul(optarg, NULL, 0); break;
		case 't': qthresh = strtoul(optarg, NULL, 0); break;
		case 'b': nlbufsiz = strtoul(optarg, NULL, 0); break;
		case 'r': rcvbuf = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: nflog_reader [-g GROUP] [-t QTHRESH] [-b NLBUFSIZ] [-r RCVBUF] [-L] [-C]\n");
			return 2;
		}
	}
	r.nl = reader_socket(rcvbuf);
	if (!r.nl || config(&r, (uint16_t)group, 1, 0, 0) < 0 ||
	    config(&r, (uint16_t)group, 2, (uint32_t)qthresh, (uint32_t)nlbufsiz) < 0) {
		perror("nflog_reader: bind");
		return 1;
	}
	return reader_run("nflog_reader", r.nl, drain, report, &r);
}
