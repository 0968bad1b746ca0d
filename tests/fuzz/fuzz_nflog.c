/* fuzz_nflog.c - libFuzzer target for the NFLOG receive path.
 *
 * The input is one datagram as recvmsg() would return it from the
 * NFLOG socket: netlink messages, each a packet (or anything else).
 * It goes through input_nflog_datagram() - the bounded message walk
 * (nlmsg_walk.h), the one-pass attribute parser, the sequence tracking and the metadata
 * the agent builds - into a callback that checks every pointer it is
 * given lies within the datagram, then hands exact-size heap copies of
 * the payload and link-layer header to the classifier, so ASan sees
 * any read past what the attributes said. Seeds: corpus/nflog
 * (gen_seeds_nflog.c).
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "classify.h"
#include "input_nflog.h"

struct seen {
	const uint8_t *lo, *hi;	/* the datagram */
	unsigned packets;
};

static void check(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_nflog: invariant violated: %s\n", what);
		abort();
	}
}

static bool inside(const struct seen *s, const uint8_t *p, size_t n)
{
	return p >= s->lo && p <= s->hi && n <= (size_t)(s->hi - p);
}

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (!d)
		abort();
	memcpy(d, p, n);
	return d;
}

static void on_packet(void *arg, const uint8_t *pkt, size_t len,
		      struct pkt_meta *meta)
{
	static const struct classify_policy pol = { 0 };
	struct seen *s = arg;
	struct pkt_meta m = *meta;
	struct ptb_info info;
	uint8_t *p, *hw = NULL;
	enum classify_reason r;

	check(inside(s, pkt, len), "payload within the datagram");
	check(!meta->hwhdr || inside(s, meta->hwhdr, meta->hwhdr_len),
	      "link-layer header within the datagram");
	check(meta->hwhdr || meta->hwhdr_len == 0, "no header, no length");
	s->packets++;
	p = dup_exact(pkt, len);
	if (meta->hwhdr)
		m.hwhdr = hw = dup_exact(meta->hwhdr, meta->hwhdr_len);
	m.link_mtu = 1500;
	r = classify_packet(&pol, p, len, &m, &info);
	check((unsigned)r < REASON_MAX, "reason in range");
	free(hw);
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nflog_input in;
	struct seen s;
	uint8_t *buf = dup_exact(data, size);	/* malloc: aligned */
	int n;

	memset(&in, 0, sizeof(in));
	s = (struct seen){ .lo = buf, .hi = buf + size };
	n = input_nflog_datagram(&in, buf, size, on_packet, &s);
	check(n >= 0 && (unsigned)n == s.packets && in.received == s.packets,
	      "every packet delivered counted once");
	/* A packet message is at least its headers: 16 + 4 bytes. */
	check(s.packets <= size / 20, "no more packets than messages");
	free(buf);
	return 0;
}
