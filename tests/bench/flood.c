/* flood.c - inject PTBs on an interface for the benchmark (run.sh).
 *
 * Valid ICMPv4 3/4 and ICMPv6 2/0 frames (tests/pktbuild.h), written
 * with AF_PACKET + sendmmsg straight onto IFACE (one end of a veth;
 * the agent listens on the other). Each frame quotes a TCP segment
 * from the agent's address (-4/-6) to a client; its outer source and
 * quoted destination cycle through -s and -q distinct values:
 *	IPv4: sources and clients in 198.18.0.0/15 (RFC 2544
 *	benchmarking; past 131072 sources the client varies instead),
 *	IPv6: sources 2001:db8:1::/64, clients 2001:db8:2::/64.
 * Frame i has source FIRST + i % SOURCES, client (i / SOURCES) % CLIENTS.
 * -p adds quote payload after the quoted TCP header: -p 508 makes the
 * IPv4 quote 548 bytes (a 576-byte PTB, as routers send).
 * The quoted TCP sequence number carries the frame's index, so the
 * latency mode can match a broadcast copy to its PTB.
 *
 * Flood mode (default): COUNT frames as fast as the interface takes
 * them, batches of 64; prints "sent N in S s (R pps)".
 * Latency mode (-L): one frame every GAP microseconds; on IFACE an
 * AF_PACKET socket with SO_TIMESTAMPNS stamps the frame going out and
 * the broadcast copy coming back; prints the p50/p99/max in
 * microseconds and how many copies came back.
 *
 * Usage: flood -i IFACE -m DSTMAC -4 ADDR -6 ADDR [-f 4|6|46] [-n COUNT]
 *              [-s SOURCES] [-S FIRST] [-q CLIENTS] [-p QUOTE_BYTES]
 *              [-L -g GAP_US]
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "../pktbuild.h"

#define BATCH		64
#define FRAME_MAX	(14 + PB_MAX)

struct opts {
	const char *ifname, *addr4, *addr6;
	uint8_t dmac[6];
	bool v4, v6, latency;
	unsigned long count, sources, clients, gap_us, first_src;
	size_t payload;
};

/* Two templates; per frame only addresses, index and checksums change. */
struct tmpl {
	struct pkt p;
	size_t src_off, qdst_off, seq_off;
	bool v6;
};

static void usage(void)
{
	fprintf(stderr, "usage: flood -i IFACE -m DSTMAC -4 ADDR -6 ADDR [-f 4|6|46] "
		"[-n COUNT] [-s SOURCES] [-S FIRST] [-q CLIENTS] [-p QUOTE_BYTES] [-L -g GAP_US]\n");
	exit(2);
}

static unsigned long num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s)
		usage();
	return v;
}

static void parse(int argc, char **argv, struct opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->v4 = o->v6 = true;
	o->count = 1000000;
	o->sources = o->clients = 1;
	o->gap_us = 1000;
	while ((ch = getopt(argc, argv, "i:m:4:6:f:n:s:S:q:p:Lg:")) != -1) {
		switch (ch) {
		case 'i': o->ifname = optarg; break;
		case 'm':
			if (sscanf(optarg, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &o->dmac[0],
				   &o->dmac[1], &o->dmac[2], &o->dmac[3], &o->dmac[4],
				   &o->dmac[5]) != 6)
				usage();
			break;
		case '4': o->addr4 = optarg; break;
		case '6': o->addr6 = optarg; break;
		case 'f':
			o->v4 = strchr(optarg, '4') != NULL;
			o->v6 = strchr(optarg, '6') != NULL;
			break;
		case 'n': o->count = num(optarg); break;
		case 's': o->sources = num(optarg); break;
		case 'S': o->first_src = num(optarg); break;
		case 'q': o->clients = num(optarg); break;
		case 'p': o->payload = num(optarg); break;
		case 'L': o->latency = true; break;
		case 'g': o->gap_us = num(optarg); break;
		default: usage();
		}
	}
	if (!o->ifname || !o->addr4 || !o->addr6 || (!o->v4 && !o->v6) ||
	    !o->sources || !o->clients || o->payload > 1200)
		usage();
}

static void build(struct tmpl *t, const struct opts *o, bool v6)
{
	memset(t, 0, sizeof(*t));
	t->v6 = v6;
	if (!v6) {
		struct pb_ptb4 p = { .src = "198.18.0.0", .dst = o->addr4, .mtu = 1400,
			.q = { o->addr4, "198.18.0.0", IPPROTO_TCP, 443, 40000 },
			.payload = o->payload };

		pb_ptb4(&t->p, &p);
		t->src_off = PB4_SRC;
		t->qdst_off = PB4_QUOTE + 16;
		t->seq_off = PB4_QUOTE + 20 + 4;
	} else {
		struct pb_ptb6 p = { .src = "2001:db8:1::", .dst = o->addr6, .mtu = 1280,
			.q = { o->addr6, "2001:db8:2::", IPPROTO_TCP, 443, 40000 },
			.payload = o->payload };

		pb_ptb6(&t->p, &p);
		t->src_off = PB6_SRC + 12;	/* low 32 bits */
		t->qdst_off = PB6_QUOTE + 24 + 12;
		t->seq_off = PB6_QUOTE + 40 + 4;
	}
}

/* Frame number i into f (Ethernet header included); returns its length. */
static size_t frame(uint8_t *f, struct tmpl *t, const struct opts *o,
		    unsigned long i)
{
	uint32_t src = (uint32_t)(o->first_src + i % o->sources);
	uint32_t cli = (uint32_t)((i / o->sources) % o->clients);

	pb_put32(t->p.b + t->seq_off, (uint32_t)i);
	if (!t->v6) {
		/* Sources: 198.18.0.0/15; past 131072 of them, the quoted
		 * client (198.18.0.0/15 too) keeps the flows distinct. */
		pb_put32(t->p.b + t->src_off, 0xc6120000u + (src & 0x1ffff));
		pb_put32(t->p.b + t->qdst_off,
			 0xc6120000u + ((cli + (src >> 17)) & 0x1ffff));
	} else {
		pb_put32(t->p.b + t->src_off, src + 1);
		pb_put32(t->p.b + t->qdst_off, cli + 1);
	}
	pb_fix(&t->p);
	memcpy(f, o->dmac, 6);
	memset(f + 6, 0, 6);
	f[6] = 0x02;
	f[11] = 0x01;
	pb_put16(f + 12, t->v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP);
	memcpy(f + 14, t->p.b, t->p.len);
	return 14 + t->p.len;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* proto 0: send only (the flood must not also queue what it sees). */
static int open_socket(const char *ifname, uint16_t proto, struct sockaddr_ll *sll)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(proto));

	if (fd < 0) {
		perror("flood: socket(AF_PACKET)");
		exit(1);
	}
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_protocol = htons(proto);
	sll->sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll->sll_ifindex || bind(fd, (struct sockaddr *)sll, sizeof(*sll)) < 0) {
		fprintf(stderr, "flood: %s: %s\n", ifname, strerror(errno));
		exit(1);
	}
	return fd;
}

static struct tmpl *pick(struct tmpl t[2], const struct opts *o, unsigned long i)
{
	if (o->v4 && o->v6)
		return &t[i & 1];
	return &t[o->v6 ? 1 : 0];
}

static int flood(const struct opts *o, struct tmpl t[2])
{
	static uint8_t bufs[BATCH][FRAME_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll sll;
	unsigned long sent = 0;
	double t0, dt;
	int fd = open_socket(o->ifname, 0, &sll);

	memset(msgs, 0, sizeof(msgs));
	t0 = now_s();
	while (sent < o->count) {
		unsigned n = o->count - sent < BATCH ? (unsigned)(o->count - sent) : BATCH;
		int r;

		for (unsigned k = 0; k < n; k++) {
			iov[k].iov_base = bufs[k];
			iov[k].iov_len = frame(bufs[k], pick(t, o, sent + k), o, sent + k);
			msgs[k].msg_hdr.msg_iov = &iov[k];
			msgs[k].msg_hdr.msg_iovlen = 1;
			msgs[k].msg_hdr.msg_name = &sll;
			msgs[k].msg_hdr.msg_namelen = sizeof(sll);
		}
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
				continue;
			perror("flood: sendmmsg");
			return 1;
		}
		/* A partial batch is rebuilt from its first unsent frame. */
		sent += (unsigned long)r;
	}
	dt = now_s() - t0;
	printf("sent %lu in %.3f s (%.0f pps)\n", sent, dt, (double)sent / dt);
	close(fd);
	return 0;
}

/* ---- latency mode ---------------------------------------------------- */

struct lat {
	int64_t *out, *back;	/* ns, by frame index; 0: not seen */
	unsigned long n;
};

static int64_t ts_of(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		}
	}
	return 0;
}

/* One captured frame: ours going out, or a copy coming back. */
static void capture_one(int fd, struct lat *l)
{
	uint8_t f[FRAME_MAX];
	_Alignas(struct cmsghdr) char cbuf[256];
	struct sockaddr_ll from;
	struct iovec iov = { f, sizeof(f) };
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
			     .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
	size_t seq_off;
	uint32_t idx;
	uint16_t et;

	if (n < 14 + 40)
		return;
	et = pb_get16(f + 12);
	if (et == ETHERTYPE_IP && f[14 + 9] == IPPROTO_ICMP && f[14 + 20] == 3)
		seq_off = 14 + PB4_QUOTE + 20 + 4;
	else if (et == ETHERTYPE_IPV6 && f[14 + 6] == IPPROTO_ICMPV6 && f[14 + 40] == 2)
		seq_off = 14 + PB6_QUOTE + 40 + 4;
	else
		return;
	if ((size_t)n < seq_off + 4)
		return;
	idx = (uint32_t)pb_get16(f + seq_off) << 16 | pb_get16(f + seq_off + 2);
	if (idx >= l->n)
		return;
	if (from.sll_pkttype == PACKET_OUTGOING && !l->out[idx])
		l->out[idx] = ts_of(&mh);
	else if (from.sll_pkttype == PACKET_BROADCAST && !l->back[idx])
		l->back[idx] = ts_of(&mh);
}

static void drain(int fd, struct lat *l, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, timeout_ms) > 0) {
		capture_one(fd, l);
		timeout_ms = 0;
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int latency(const struct opts *o, struct tmpl t[2])
{
	uint8_t f[FRAME_MAX];
	struct sockaddr_ll sll;
	struct lat l = { .n = o->count };
	int64_t *d;
	unsigned long i, m = 0;
	struct sockaddr_ll cap_sll;
	/* Two sockets: a packet socket never sees its own frames go out. */
	int on = 1, fd = open_socket(o->ifname, 0, &sll);
	int cap = open_socket(o->ifname, ETH_P_ALL, &cap_sll);

	l.out = calloc(o->count, sizeof(*l.out));
	l.back = calloc(o->count, sizeof(*l.back));
	d = calloc(o->count, sizeof(*d));
	if (!l.out || !l.back || !d ||
	    setsockopt(cap, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0) {
		perror("flood: latency set-up");
		return 1;
	}
	for (i = 0; i < o->count; i++) {
		size_t len = frame(f, pick(t, o, i), o, i);
		double next = now_s() + (double)o->gap_us / 1e6;

		if (sendto(fd, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			perror("flood: sendto");
			return 1;
		}
		do
			drain(cap, &l, (int)((next - now_s()) * 1000));
		while (now_s() < next);
	}
	drain(cap, &l, 500);
	for (i = 0; i < o->count; i++)
		if (l.out[i] && l.back[i] && l.back[i] >= l.out[i])
			d[m++] = l.back[i] - l.out[i];
	qsort(d, m, sizeof(*d), cmp_i64);
	if (m == 0)
		printf("latency: 0 of %lu copies came back\n", o->count);
	else
		printf("latency_us p50 %.1f p99 %.1f max %.1f copies %lu of %lu\n",
		       (double)d[m / 2] / 1e3, (double)d[(m * 99) / 100] / 1e3,
		       (double)d[m - 1] / 1e3, m, o->count);
	free(l.out);
	free(l.back);
	free(d);
	close(cap);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct tmpl t[2];

	parse(argc, argv, &o);
	build(&t[0], &o, false);
	build(&t[1], &o, true);
	return o.latency ? latency(&o, t) : flood(&o, t);
}
