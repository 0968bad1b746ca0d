/* fuzz_classify.c - libFuzzer target for classify_packet() and
 * classify_memo.
 *
 * The input's first bytes pick the policy and the link-layer metadata
 * (layout in classify_input.h), the rest is the captured packet. The
 * packet and hwhdr are copied into exactly sized heap blocks so ASan
 * catches a read one byte past either. Besides memory errors, a
 * FORWARD verdict is checked against the raw bytes by an independent
 * reading of the packet; any disagreement abort()s. The memo holds the
 * last inputs classify_headers() passed, under the same policy; an
 * input it claims must be one classify_headers() passes, with the same
 * result.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include "classify.h"
#include "classify_memo.h"
#include "../classify_order.h"
#include "classify_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N(a)	(sizeof(a) / sizeof((a)[0]))

static void check(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_classify: invariant violated: %s\n", what);
		abort();
	}
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

/* Internet checksum over p[0, n) plus sum, byte by byte: true when the
 * message verifies. */
static bool csum_ok(uint64_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += (uint64_t)p[i] << (i & 1 ? 0 : 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static bool addr_is(const struct pmtud_addr *a, int family, const uint8_t *p)
{
	return a->family == family &&
	       memcmp(a->a, p, family == AF_INET ? 4 : 16) == 0;
}

static bool port_listed(const struct classify_policy *pol, uint16_t port)
{
	for (unsigned i = 0; i < pol->n_ports; i++)
		if (pol->ports[i] == port)
			return true;
	return false;
}

/* IPv4 FORWARD: outer header, ICMP 3/4 and the quote, re-read here. */
static void check_forward4(const uint8_t *p, size_t len,
			   const struct ptb_info *in)
{
	size_t hl = (size_t)(p[0] & 0x0f) * 4, tot = rd16(p + 2);
	const uint8_t *ic = p + hl, *q = ic + 8;

	check(in->family == AF_INET, "v4 family");
	check(hl >= 20 && tot <= len && tot >= hl + 8 + 20 + 8, "v4 lengths");
	check(tot <= PTB_MAX4 && in->len == tot, "v4 size");
	check(csum_ok(0, ic, tot - hl), "v4 ICMP checksum");
	check((rd16(p + 6) & 0x3fff) == 0 && p[9] == 1, "v4 not fragment, icmp");
	check(ic[0] == 3 && ic[1] == 4, "v4 type 3 code 4");
	check(in->mtu == rd16(ic + 6), "v4 mtu");
	check(addr_is(&in->outer_src, AF_INET, p + 12) &&
	      addr_is(&in->outer_dst, AF_INET, p + 16), "v4 outer addresses");
	check(q[0] >> 4 == 4 && (q[0] & 0x0f) >= 5, "v4 quoted header");
	check(hl + 8 + (size_t)(q[0] & 0x0f) * 4 + 8 <= tot, "v4 quote holds 8 L4 bytes");
	check(addr_is(&in->quoted_src, AF_INET, q + 12) &&
	      addr_is(&in->quoted_dst, AF_INET, q + 16), "v4 quoted addresses");
	check(in->quoted_proto == q[9], "v4 quoted protocol");
}

/* IPv6 FORWARD; offsets are re-derived only without outer ext headers. */
static void check_forward6(const uint8_t *p, size_t len,
			   const struct ptb_info *in)
{
	size_t end = (size_t)rd16(p + 4) + 40;

	check(in->family == AF_INET6, "v6 family");
	check(end <= len && end >= 40 + 8 + 40, "v6 lengths");
	check(end <= PTB_MAX6 && in->len == end, "v6 size");
	check(addr_is(&in->outer_src, AF_INET6, p + 8) &&
	      addr_is(&in->outer_dst, AF_INET6, p + 24), "v6 outer addresses");
	check(in->mtu >= 1280, "v6 mtu >= 1280");
	if (p[6] == 58) {
		const uint8_t *ic = p + 40, *q = ic + 8;

		uint64_t pseudo = end - 40 + 58;

		for (size_t i = 8; i < 40; i++)
			pseudo += (uint64_t)p[i] << (i & 1 ? 0 : 8);
		check(csum_ok(pseudo, ic, end - 40), "v6 ICMPv6 checksum");
		check(ic[0] == 2 && ic[1] == 0, "v6 type 2 code 0");
		check(in->mtu == rd32(ic + 4), "v6 mtu");
		check(q[0] >> 4 == 6, "v6 quoted version");
		check(addr_is(&in->quoted_src, AF_INET6, q + 8) &&
		      addr_is(&in->quoted_dst, AF_INET6, q + 24),
		      "v6 quoted addresses");
	}
}

/* Bit by bit: independent of the classifier's byte-and-mask match. */
static bool in_vips(const struct classify_policy *pol,
		    const struct pmtud_addr *a)
{
	for (unsigned i = 0; i < pol->n_vips; i++) {
		const struct pmtud_prefix *p = &pol->vips[i];
		unsigned b;

		if (p->addr.family != a->family)
			continue;
		for (b = 0; b < p->len; b++)
			if ((p->addr.a[b / 8] ^ a->a[b / 8]) & (0x80 >> (b % 8)))
				break;
		if (b == p->len)
			return true;
	}
	return false;
}

static bool eth_broadcast(const struct pkt_meta *m)
{
	static const uint8_t ff[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	return m && m->hwhdr && m->hwhdr_len >= 14 &&
	       (m->hwtype == 0 || m->hwtype == 1) &&
	       memcmp(m->hwhdr, ff, 6) == 0;
}

static void check_forward(const struct classify_policy *pol,
			  const uint8_t *p, size_t len,
			  const struct pkt_meta *m, const struct ptb_info *in)
{
	uint32_t floor4 = pol->min_mtu4 > 68 ? pol->min_mtu4 : 68;

	check(len >= 1, "forward of an empty packet");
	check(!eth_broadcast(m), "forwarded an Ethernet broadcast copy");
	if (m && m->hw_protocol == 0x0800)
		check(p[0] >> 4 == 4, "hw_protocol IPv4 but IPv6 forwarded");
	if (m && m->hw_protocol == 0x86dd)
		check(p[0] >> 4 == 6, "hw_protocol IPv6 but IPv4 forwarded");
	if (p[0] >> 4 == 4) {
		check(len >= 20, "v4 short");
		check_forward4(p, len, in);
		check(in->mtu >= floor4, "v4 mtu below floor");
	} else {
		check(p[0] >> 4 == 6 && len >= 40, "version");
		check_forward6(p, len, in);
	}
	check(!pol->max_mtu || in->mtu <= pol->max_mtu, "mtu above max_mtu");
	/* The core rule: a PTB goes back to the sender of what it quotes. */
	check(pmtud_addr_eq(&in->outer_dst, &in->quoted_src), "outer dst == quoted src");
	check(in->quoted_dst.family == in->family, "quoted dst family");
	for (unsigned i = 0; i < pol->n_deny_src; i++)
		check(!pmtud_addr_eq(&pol->deny_src[i], &in->outer_src),
		      "forwarded from a denied source");
	if (pol->n_ports)
		check(in->has_ports && port_listed(pol, in->quoted_sport),
		      "port filter bypassed");
	if (pol->n_vips)
		check(in_vips(pol, &in->quoted_src), "vips bypassed");
}

/* Formatting must fit any buffer and agree with itself. */
static void check_format(const struct ptb_info *in)
{
	char big[512], small[8];
	int n = classify_format(in, big, sizeof(big));

	check(n >= 0 && (size_t)n < sizeof(big) && strlen(big) == (size_t)n,
	      "classify_format length");
	check(classify_format(in, small, sizeof(small)) == n &&
	      strlen(small) == ((size_t)n < sizeof(small) ? (size_t)n : sizeof(small) - 1),
	      "classify_format truncation");
	check(classify_format(in, NULL, 0) == n, "classify_format sizing");
}

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (!d)
		abort();
	if (n)
		memcpy(d, p, n);
	return d;
}

/* The memo across inputs (the fuzzer's are mutations of each other),
 * for one policy: the bytes that pick it. */
static struct classify_memo memo;
static uint8_t memo_pol[4];

static void check_memo(const uint8_t *data, const uint8_t *pkt, size_t size,
		       const struct pkt_meta *meta, enum classify_reason rh,
		       const struct ptb_info *h)
{
	const uint8_t pol[4] = { (uint8_t)(data[0] & (FC_PORTS | FC_VIPS | FC_DENY)),
				 data[3], data[4], data[5] };
	const struct classify_memo_entry *e;

	if (memcmp(pol, memo_pol, sizeof(pol)) != 0) {
		classify_memo_clear(&memo);
		memcpy(memo_pol, pol, sizeof(pol));
	}
	e = classify_memo_find(&memo, pkt, size, meta);
	if (e)
		check(rh == REASON_FORWARD &&
		      memcmp(&e->info, h, sizeof(*h)) == 0,
		      "memo: a hit is what classify_headers() says");
	if (rh == REASON_FORWARD &&
	    classify_memo_store(&memo, pkt, size, meta, h, 0))
		check(classify_memo_find(&memo, pkt, size, meta) != NULL,
		      "memo: a stored packet is found");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pmtud_addr deny[2];
	static struct pmtud_prefix vips[2];
	struct classify_policy pol = { 0 };
	struct pkt_meta meta = { 0 };
	struct ptb_info info, again;
	enum classify_reason r, rh;
	uint8_t *pkt, *hw = NULL;
	size_t hwlen = 0;

	if (size < FC_HDR)
		return 0;
	if (!deny[0].family && (pmtud_addr_parse(&deny[0], FC_DENY4) < 0 ||
				pmtud_addr_parse(&deny[1], FC_DENY6) < 0))
		abort();
	if (data[0] & FC_PORTS) {
		pol.ports = fc_ports;
		pol.n_ports = data[5] % (N(fc_ports) + 1);
	}
	pol.min_mtu4 = fc_mtu[data[3] % N(fc_mtu)];
	pol.max_mtu = fc_mtu[data[4] % N(fc_mtu)];
	if (!vips[0].addr.family &&
	    (pmtud_addr_parse(&vips[0].addr, FC_VIP4) < 0 ||
	     pmtud_addr_parse(&vips[1].addr, FC_VIP6) < 0))
		abort();
	vips[0].len = FC_VIP4_LEN;
	vips[1].len = FC_VIP6_LEN;
	if (data[0] & FC_VIPS) {
		pol.vips = vips;
		pol.n_vips = N(vips);
	}
	if (data[0] & FC_DENY) {
		pol.deny_src = deny;
		pol.n_deny_src = N(deny);
	}
	if (data[0] & FC_HWHDR) {
		hwlen = data[1] < size - FC_HDR ? data[1] : size - FC_HDR;
		hw = dup_exact(data + FC_HDR, hwlen);
		meta.hwhdr = hw;
		meta.hwhdr_len = hwlen;
	}
	meta.hwtype = fc_hwtype[FC_HWTYPE(data[0])];
	meta.hw_protocol = fc_hwproto[data[2] % N(fc_hwproto)];
	meta.link_mtu = fc_mtu[FC_LINK_MTU(data[2])];
	meta.ifindex = 1;
	size -= FC_HDR + hwlen;
	pkt = dup_exact(data + FC_HDR + hwlen, size);

	r = classify_packet(&pol, pkt, size, data[0] & FC_META ? &meta : NULL,
			    &info);
	check((unsigned)r < REASON_MAX, "reason in range");
	check(strcmp(classify_reason_name(r), "unknown") != 0, "reason named");
	if (r == REASON_FORWARD)
		check_forward(&pol, pkt, size, data[0] & FC_META ? &meta : NULL,
			      &info);
	check_format(&info);
	/* Pure: the same input gives the same verdict and the same fields. */
	check(classify_packet(&pol, pkt, size, data[0] & FC_META ? &meta : NULL,
			      &again) == r &&
	      memcmp(&info, &again, sizeof(info)) == 0, "deterministic");
	/* The agent's two steps: every check but the checksum, then the
	 * checksum. They agree with the one-step verdict: a PTB that
	 * passes the headers is r exactly when its checksum is right,
	 * else r is bad_checksum; one they refuse has their reason, or a
	 * later check's when the one-step check stopped at the checksum. */
	rh = classify_headers(&pol, pkt, size, data[0] & FC_META ? &meta : NULL,
			      &again);
	if (rh == REASON_FORWARD)
		check(classify_checksum(pkt, &again) == r &&
		      (r != REASON_FORWARD ||
		       memcmp(&info, &again, sizeof(info)) == 0),
		      "two steps: headers pass, checksum decides");
	else
		check((r == REASON_BAD_CHECKSUM && after_checksum(rh)) ||
		      (rh == r && memcmp(&info, &again, sizeof(info)) == 0),
		      "two steps: the headers' reason");
	check_memo(data, pkt, size, data[0] & FC_META ? &meta : NULL, rh, &again);
	free(pkt);
	free(hw);
	return 0;
}
