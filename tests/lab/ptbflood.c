/* ptbflood.c - send many IPv4 "fragmentation needed" PTBs fast, for
 * the flood and soak tests (tests/lab_faults.sh).
 *
 *   ptbflood IFNAME DSTMAC OUTER_DST QUOTED_SRC COUNT [SEED]
 *
 * Frames go out on IFNAME through AF_PACKET with sendmmsg(), batches
 * of 64, to DSTMAC. Each PTB is valid (checksums included) and comes
 * from a pseudo-random router in 198.51.100.0/24, quoting a TCP
 * segment from QUOTED_SRC:443 to a pseudo-random client in
 * 203.0.113.0/24 port 1024..65535: many rate-limit keys, all
 * documentation addresses. Prints "sent N in MS ms".
 */
#include "config.h"
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include "../pktbuild.h"

#define BATCH	64

struct frame {
	uint8_t b[14 + PB_MAX];
	size_t len;
};

/* xorshift64: reproducible, no libc state. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int parse_mac(const char *s, uint8_t m[6])
{
	unsigned v[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		m[i] = (uint8_t)v[i];
	return 0;
}

/* One PTB into f, varied by r: router (outer source), client (quoted
 * destination) and client port. */
static void build(struct frame *f, const uint8_t dst[6], const char *outer_dst,
		  const char *qsrc, uint64_t r)
{
	char router[32], client[32];
	struct pkt p;
	struct pb_ptb4 o;
	size_t eth;

	snprintf(router, sizeof(router), "198.51.100.%u", (unsigned)(1 + r % 254));
	snprintf(client, sizeof(client), "203.0.113.%u", (unsigned)(1 + (r >> 8) % 254));
	memset(&o, 0, sizeof(o));
	o.src = router;
	o.dst = outer_dst;
	o.mtu = 1280;
	o.q.src = qsrc;
	o.q.dst = client;
	o.q.proto = IPPROTO_TCP;
	o.q.sport = 443;
	o.q.dport = (uint16_t)(1024 + (r >> 16) % 64512);
	pb_ptb4(&p, &o);
	eth = pb_eth(f->b, dst, NULL, 0, ETH_P_IP);
	memcpy(f->b + eth, p.b, p.len);
	f->len = eth + p.len;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static struct frame fr[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll sll;
	uint8_t dst[6];
	unsigned long count, sent = 0;
	uint64_t seed;
	double t0;
	int fd, i, n;

	if (argc < 6 || parse_mac(argv[2], dst) < 0) {
		fprintf(stderr, "usage: %s IFNAME DSTMAC OUTER_DST QUOTED_SRC COUNT [SEED]\n",
			argv[0]);
		return 2;
	}
	count = strtoul(argv[5], NULL, 10);
	seed = argc > 6 ? strtoull(argv[6], NULL, 10) : 1;
	if (!seed)
		seed = 1;
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("AF_PACKET socket");
		return 1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!sll.sll_ifindex) {
		perror(argv[1]);
		return 1;
	}
	sll.sll_protocol = htons(ETH_P_IP);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, dst, 6);
	t0 = now_ms();
	while (sent < count) {
		n = count - sent < BATCH ? (int)(count - sent) : BATCH;
		for (i = 0; i < n; i++) {
			build(&fr[i], dst, argv[3], argv[4], next_rand(&seed));
			iov[i].iov_base = fr[i].b;
			iov[i].iov_len = fr[i].len;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_name = &sll;
			msgs[i].msg_hdr.msg_namelen = sizeof(sll);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = sendmmsg(fd, msgs, (unsigned)n, 0);
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			perror("sendmmsg");
			return 1;
		}
		sent += (unsigned long)n;
	}
	printf("sent %lu in %.0f ms\n", sent, now_ms() - t0);
	close(fd);
	return 0;
}
