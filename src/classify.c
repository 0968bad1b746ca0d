/* classify.c - decide whether one captured packet is a PTB to forward.
 *
 * Check order (first failing check wins; cheap and common first):
 *
 *  1. l2_broadcast     Ethernet hwhdr with dst ff:ff:ff:ff:ff:ff: a copy
 *                      another agent broadcast. The common loop case, and
 *                      decided without touching the packet.
 *  2. truncated        empty packet (no version nibble).
 *  3. bad_ip           EtherType (hwhdr, through up to two VLAN tags, or
 *                      hw_protocol) names the other IP version.
 *  4. outer IP         bad_ip: version not 4/6, IHL < 5, total length <
 *                      IHL*4, IPv6 payload length 0 (jumbo), hop-by-hop
 *                      not first;
 *                      truncated: header or IHL*4 past the buffer, or an
 *                      outer IPv6 extension header past the packet end;
 *                      oversized: total length (v6: 40 + payload length)
 *                      over PTB_MAX4 / PTB_MAX6, over the link MTU (when
 *                      meta gives it), or past the buffer (the copy range
 *                      cut it: see classify.h);
 *                      fragment: MF or offset (IPv4), fragment header (v6);
 *                      not_icmp: protocol / next header not ICMP(v6) after
 *                      up to OUTER_MAX_EXTHDR hop-by-hop/routing/dstopts.
 *                      From here the packet ends at its total length, and
 *                      all of it is in the buffer.
 *  5. truncated        ICMP header (8 bytes) past the packet end.
 *  6. not_ptb          type/code other than 3/4 (v4) or 2/0 (v6).
 *  6b. bad_checksum    (classify_packet() only; classify_headers() leaves
 *                      it to classify_checksum(), after check 12)
 *                      the ICMP checksum over the whole message (v6: with
 *                      the pseudo-header of the outer source and
 *                      destination, RFC 8200 8.1) does not verify: the
 *                      kernel drops such a PTB after netfilter's hooks, so
 *                      must we, or a peer's raw ICMPv6 socket would send
 *                      it on with a fresh, valid checksum. (A routing
 *                      header with segments left makes the header's
 *                      destination not the final one: that sum fails.)
 *  7. denied_source    outer source is a peer or one of our addresses.
 *  8. bad_mtu          v4: 0 or below max(68, min_mtu4); v6: below 1280;
 *                      both: above max_mtu (0 = no upper bound).
 *  9. quoted packet    quote_bad: not the outer family, IHL < 5;
 *                      quote_truncated: inner header + 8 bytes of L4 (or
 *                      an IPv6 extension header) past the packet end;
 *                      quote_exthdr: IPv6 non-first fragment, misplaced
 *                      hop-by-hop, or more than QUOTE_MAX_EXTHDR headers.
 * 10. dst_mismatch     outer dst != quoted src: a genuine PTB goes back to
 *                      the sender of the packet it quotes.
 * 10b. not_vip         vips set and the quoted source (= outer dst) in
 *                      none of them: a PTB about a node's own address
 *                      is not relayed, so no other node's PMTU cache
 *                      for it can be poisoned through us. (Checked once
 *                      the ports are read, so logs show them.)
 * 11. quote_proto      port filter set but the quoted L4 has no ports
 *                      (not TCP/UDP/SCTP/DCCP/UDP-Lite, IPv6 ESP/none/
 *                      unknown header, or a non-first IPv4 fragment).
 * 12. port_filtered    quoted source port (our service) not in the list.
 *
 * Fields are read byte-wise (the buffer may be unaligned) and never as
 * structs.
 */
#include "config.h"
#include <endian.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "classify.h"

#define ICMP_HLEN		8
#define IP4_HLEN		20
#define IP6_HLEN		40
#define L4_MIN			8	/* RFC 792: quote >= 64 bits of L4 */
#define ICMP4_UNREACH		3
#define ICMP4_FRAG_NEEDED	4
#define ICMP6_PTB		2
#define IP4_MIN_MTU		68	/* RFC 791 */
#define IP6_MIN_MTU		1280	/* RFC 8200, RFC 8201 */
#define QUOTE_MAX_EXTHDR	8	/* real chains are 0-3 headers long */
#define OUTER_MAX_EXTHDR	8

static const char *const reason_names[REASON_MAX] = {
	[REASON_FORWARD] = "forward",
	[REASON_TRUNCATED] = "truncated",
	[REASON_BAD_IP] = "bad_ip",
	[REASON_FRAGMENT] = "fragment",
	[REASON_NOT_ICMP] = "not_icmp",
	[REASON_NOT_PTB] = "not_ptb",
	[REASON_BAD_MTU] = "bad_mtu",
	[REASON_QUOTE_TRUNCATED] = "quote_truncated",
	[REASON_QUOTE_BAD] = "quote_bad",
	[REASON_QUOTE_EXTHDR] = "quote_exthdr",
	[REASON_QUOTE_PROTO] = "quote_proto",
	[REASON_PORT] = "port_filtered",
	[REASON_DST_MISMATCH] = "dst_mismatch",
	[REASON_L2_BROADCAST] = "l2_broadcast",
	[REASON_DENIED_SOURCE] = "denied_source",
	[REASON_NOT_VIP] = "not_vip",
	[REASON_BAD_CHECKSUM] = "bad_checksum",
	[REASON_OVERSIZED] = "oversized",
};

const char *classify_reason_name(enum classify_reason r)
{
	if ((unsigned)r >= REASON_MAX)
		return "unknown";
	return reason_names[r];
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Canonical form (pmtud.h): an IPv4 address has bytes 4..15 zero,
 * written here, so addr_order() may compare all 16. Written as one
 * 16-byte store (pmtud_u64x2): dedup reads the address back at once,
 * 16 bytes at a time, and the classifier 8 at a time; both are then
 * forwarded from the store. */
static inline void set_addr(struct pmtud_addr *a, uint8_t family,
			    const uint8_t *p)
{
	pmtud_u64x2 v = { 0, 0 };

	a->family = family;
	if (family == AF_INET) {
		uint32_t v4;

		/* A lane, not memcpy() into v: that would store v, write 4
		 * bytes over it and load it back across the two stores. */
		memcpy(&v4, p, 4);
#if __BYTE_ORDER == __LITTLE_ENDIAN
		v[0] = v4;			/* bytes 0..3, as read */
#else
		v[0] = (uint64_t)v4 << 32;
#endif
	} else {
		memcpy(&v, p, 16);
	}
	memcpy(a->a, &v, 16);
}

static inline uint64_t rd64_be(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

/* peerset_cmp()'s order (family, then the 16 address bytes) with two
 * 64-bit loads instead of a memcmp() call: it runs for every PTB. Both
 * sides canonical: set_addr() here, pmtud_addr_parse() and the DNS
 * answers for the deny list. */
static inline int addr_order(const struct pmtud_addr *x,
			     const struct pmtud_addr *y)
{
	uint64_t xv, yv;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	xv = rd64_be(x->a);
	yv = rd64_be(y->a);
	if (xv == yv) {
		xv = rd64_be(x->a + 8);
		yv = rd64_be(y->a + 8);
	}
	return xv < yv ? -1 : xv > yv;
}

static inline bool addr_eq(const struct pmtud_addr *x,
			   const struct pmtud_addr *y)
{
	return addr_order(x, y) == 0;
}

/* The ICMP error must come from the other family's stack otherwise. */
static inline bool ethertype_mismatch(uint16_t et, unsigned version)
{
	return (et == ETH_P_IP && version != 4) ||
	       (et == ETH_P_IPV6 && version != 6);
}

/* Ethernet hwhdr: is it a broadcast copy, and which EtherType does it
 * carry past at most two VLAN tags (0 if unknown or cut short)? A
 * header shorter than Ethernet's, or of another link type, is ignored. */
static bool l2_parse(const struct pkt_meta *m, uint16_t *et)
{
	const uint8_t *h = m->hwhdr;
	size_t off = 2 * ETH_ALEN;
	uint16_t t;

	*et = 0;
	if (!classify_eth_hdr(m))
		return false;
	t = rd16(h + off);
	for (int i = 0; i < 2 && (t == ETH_P_8021Q || t == ETH_P_8021AD); i++) {
		off += 4;	/* TPID + TCI; inner type follows */
		if (off + 2 > m->hwhdr_len)
			return classify_eth_bcast(h);
		t = rd16(h + off);
	}
	if (t != ETH_P_8021Q && t != ETH_P_8021AD)
		*et = t;
	return classify_eth_bcast(h);
}

/* Outer IPv4: on success the ICMP message is pkt[*icmp, *end), and
 * *end <= min(len, cap). */
static enum classify_reason outer4(const uint8_t *p, size_t len, size_t cap,
				   struct ptb_info *out, size_t *icmp,
				   size_t *end)
{
	size_t hl, tot;

	if (len < IP4_HLEN)
		return REASON_TRUNCATED;
	hl = (size_t)(p[0] & 0x0f) * 4;
	if (hl < IP4_HLEN)
		return REASON_BAD_IP;
	if (hl > len)
		return REASON_TRUNCATED;
	tot = rd16(p + 2);
	if (tot < hl)
		return REASON_BAD_IP;
	out->family = AF_INET;
	set_addr(&out->outer_src, AF_INET, p + 12);
	set_addr(&out->outer_dst, AF_INET, p + 16);
	if (tot > len || tot > cap)
		return REASON_OVERSIZED;
	if (rd16(p + 6) & 0x3fff)	/* MF or fragment offset */
		return REASON_FRAGMENT;
	if (p[9] != IPPROTO_ICMP)
		return REASON_NOT_ICMP;
	*icmp = hl;
	*end = tot;
	return REASON_FORWARD;
}

/* Outer IPv6: hop-by-hop, routing and destination options may precede
 * ICMPv6 on a legitimate PTB; anything else is not one we handle. */
static enum classify_reason outer6(const uint8_t *p, size_t len, size_t cap,
				   struct ptb_info *out, size_t *icmp,
				   size_t *end)
{
	size_t off = IP6_HLEN, plen;
	uint8_t nh;

	if (len < IP6_HLEN)
		return REASON_TRUNCATED;
	plen = rd16(p + 4);
	if (plen == 0)		/* jumbogram: not a PTB */
		return REASON_BAD_IP;
	out->family = AF_INET6;
	set_addr(&out->outer_src, AF_INET6, p + 8);
	set_addr(&out->outer_dst, AF_INET6, p + 24);
	*end = plen + IP6_HLEN;
	if (*end > len || *end > cap)
		return REASON_OVERSIZED;
	nh = p[6];
	for (int n = 0; nh != IPPROTO_ICMPV6; n++) {
		switch (nh) {
		case IPPROTO_HOPOPTS:
			if (n != 0)
				return REASON_BAD_IP;
			/* fall through */
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (n == OUTER_MAX_EXTHDR)
				return REASON_NOT_ICMP;
			if (off + 2 > *end)
				return REASON_TRUNCATED;
			nh = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
			if (off > *end)
				return REASON_TRUNCATED;
			break;
		case IPPROTO_FRAGMENT:
			return REASON_FRAGMENT;
		default:
			return REASON_NOT_ICMP;
		}
	}
	*icmp = off;
	return REASON_FORWARD;
}

static bool l4_has_ports(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
	case IPPROTO_UDPLITE:
		return true;
	default:
		return false;
	}
}

/* Quoted IPv4 header at q (qlen bytes up to the packet end). *l4 is set
 * to the L4 offset, or left at SIZE_MAX when the quote holds no L4
 * header (a non-first fragment: its first bytes are data, not ports). */
static enum classify_reason quote4(const uint8_t *q, size_t qlen,
				   struct ptb_info *out, size_t *l4)
{
	size_t hl;

	if (qlen < 1)
		return REASON_QUOTE_TRUNCATED;
	if (q[0] >> 4 != 4)
		return REASON_QUOTE_BAD;
	if (qlen < IP4_HLEN)
		return REASON_QUOTE_TRUNCATED;
	hl = (size_t)(q[0] & 0x0f) * 4;
	if (hl < IP4_HLEN)
		return REASON_QUOTE_BAD;
	set_addr(&out->quoted_src, AF_INET, q + 12);
	set_addr(&out->quoted_dst, AF_INET, q + 16);
	out->quoted_proto = q[9];
	if (hl + L4_MIN > qlen)
		return REASON_QUOTE_TRUNCATED;
	if ((rd16(q + 6) & 0x1fff) == 0)
		*l4 = hl;
	return REASON_FORWARD;
}

/* Quoted IPv6 header and extension chain. Each header's length is
 * bounds-checked before it is skipped, so an extension header is never
 * taken for a port. Stops at the first non-extension next header. */
static enum classify_reason quote6(const uint8_t *q, size_t qlen,
				   struct ptb_info *out, size_t *l4)
{
	size_t off = IP6_HLEN;
	uint8_t nh;

	if (qlen < 1)
		return REASON_QUOTE_TRUNCATED;
	if (q[0] >> 4 != 6)
		return REASON_QUOTE_BAD;
	if (qlen < IP6_HLEN)
		return REASON_QUOTE_TRUNCATED;
	set_addr(&out->quoted_src, AF_INET6, q + 8);
	set_addr(&out->quoted_dst, AF_INET6, q + 24);
	nh = q[6];
	for (int n = 0;; n++) {
		size_t hlen;

		switch (nh) {
		case IPPROTO_HOPOPTS:
			if (n != 0)	/* RFC 8200 4.1: only first */
				return REASON_QUOTE_EXTHDR;
			/* fall through */
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
		case IPPROTO_FRAGMENT:
			break;
		default:
			out->quoted_proto = nh;
			if (nh == IPPROTO_NONE)
				return REASON_FORWARD;
			if (off + L4_MIN > qlen)
				return REASON_QUOTE_TRUNCATED;
			*l4 = off;
			return REASON_FORWARD;
		}
		if (n == QUOTE_MAX_EXTHDR)
			return REASON_QUOTE_EXTHDR;
		if (off + 2 > qlen)
			return REASON_QUOTE_TRUNCATED;
		if (nh == IPPROTO_FRAGMENT) {
			if (off + 8 > qlen)
				return REASON_QUOTE_TRUNCATED;
			if (rd16(q + off + 2) & 0xfff8)
				return REASON_QUOTE_EXTHDR;
			hlen = 8;
		} else if (nh == IPPROTO_AH) {
			hlen = ((size_t)q[off + 1] + 2) * 4;	/* RFC 4302 */
		} else {
			hlen = ((size_t)q[off + 1] + 1) * 8;
		}
		nh = q[off];
		off += hlen;
		if (off > qlen)
			return REASON_QUOTE_TRUNCATED;
	}
}

static bool port_allowed(const struct classify_policy *pol, uint16_t port)
{
	unsigned lo = 0, hi = pol->n_ports;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (pol->ports[mid] == port)
			return true;
		if (pol->ports[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Binary search: the list is in canonical order (classify.h), and may
 * hold thousands of peers. */
static bool denied(const struct classify_policy *pol,
		   const struct pmtud_addr *src)
{
	size_t lo = 0, hi = pol->n_deny_src;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = addr_order(&pol->deny_src[mid], src);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool vip_allowed(const struct classify_policy *pol,
			const struct pmtud_addr *a)
{
	if (!pol->n_vips)
		return true;
	for (unsigned i = 0; i < pol->n_vips; i++)
		if (pmtud_prefix_has(&pol->vips[i], a))
			return true;
	return false;
}

/* One's complement sum of p[0, n) as 16-bit words in the host's byte
 * order (RFC 1071: the sum is byte-order independent up to a swap of
 * the result, and 0xffff swapped is 0xffff). Since 2^16, 2^32 and 2^64
 * are all 1 modulo 0xffff, wider words fold to the same 16-bit sum:
 * 64-bit words into a 128-bit sum where the compiler has one (an add
 * and an add-with-carry per 8 bytes, two chains), else 32-bit halves
 * into a 64-bit sum. At most 65535 bytes: neither can overflow. */
static inline uint64_t sum_words(uint64_t sum, const uint8_t *p, size_t n)
{
	uint64_t q;
	uint32_t w;
	uint16_t h;
	size_t i = 0;

#ifdef __SIZEOF_INT128__
	__extension__ unsigned __int128 s0 = sum, s1 = 0;

	for (; i + 16 <= n; i += 16) {
		memcpy(&q, p + i, sizeof(q));
		s0 += q;
		memcpy(&q, p + i + 8, sizeof(q));
		s1 += q;
	}
	s0 += s1;
	/* 128 -> 64 -> 33 bits, all kept by a 64-bit sum. */
	q = (uint64_t)s0 + (uint64_t)(s0 >> 64);
	q += q < (uint64_t)s0;
	sum = (q & 0xffffffff) + (q >> 32);
#endif
	for (; i + 8 <= n; i += 8) {
		memcpy(&q, p + i, sizeof(q));
		sum += (q & 0xffffffff) + (q >> 32);
	}
	if (i + 4 <= n) {
		memcpy(&w, p + i, sizeof(w));
		sum += w;
		i += 4;
	}
	if (i + 2 <= n) {
		memcpy(&h, p + i, sizeof(h));
		sum += h;
		i += 2;
	}
	if (i < n) {
		uint8_t last[2] = { p[i], 0 };	/* zero pad */

		memcpy(&h, last, sizeof(h));
		sum += h;
	}
	return sum;
}

/* Internet checksum (RFC 1071) of the ICMP message pkt[icmp, end); for
 * ICMPv6 with the pseudo-header of the outer IPv6 header (addresses,
 * upper-layer length, next header), summed as the bytes it is. */
static bool icmp_csum_ok(const uint8_t *pkt, size_t icmp, size_t end,
			 unsigned version)
{
	size_t n = end - icmp;
	uint64_t sum = 0;

	if (version == 6) {
		uint8_t tail[8] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16),
				    (uint8_t)(n >> 8), (uint8_t)n,
				    0, 0, 0, IPPROTO_ICMPV6 };

		sum = sum_words(sum_words(0, pkt + 8, 32), tail, sizeof(tail));
	}
	sum = sum_words(sum, pkt + icmp, n);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* Largest packet that may be relayed: the family's PTB maximum, or the
 * link's MTU when it is smaller (a frame must never exceed it). */
static size_t size_cap(const struct pkt_meta *meta, unsigned version)
{
	size_t cap = version == 4 ? PTB_MAX4 : PTB_MAX6;

	if (meta && meta->link_mtu && meta->link_mtu < cap)
		cap = meta->link_mtu;
	return cap;
}

/* Advertised MTU; max_mtu 0 means no upper bound. */
static enum classify_reason check_mtu(const struct classify_policy *pol,
				      uint32_t mtu, uint32_t floor)
{
	if (mtu < floor || (pol->max_mtu && mtu > pol->max_mtu))
		return REASON_BAD_MTU;
	return REASON_FORWARD;
}

static enum classify_reason classify(const struct classify_policy *pol,
				     const uint8_t *pkt, size_t len,
				     const struct pkt_meta *meta,
				     struct ptb_info *out, bool checksum)
{
	static const struct ptb_info zero;
	enum classify_reason r;
	size_t icmp = 0, end = 0, l4 = SIZE_MAX;
	const uint8_t *ic;
	unsigned version;
	uint16_t et = 0;

	/* A copy, not memset(): compilers make a variable-free memset of
	 * this size a "rep stos", whose start-up costs more than the
	 * whole classification of a small PTB. */
	*out = zero;
	if (meta && l2_parse(meta, &et))
		return REASON_L2_BROADCAST;
	if (len < 1)
		return REASON_TRUNCATED;
	version = pkt[0] >> 4;
	if (ethertype_mismatch(et, version) ||
	    (meta && ethertype_mismatch(meta->hw_protocol, version)))
		return REASON_BAD_IP;

	if (version == 4)
		r = outer4(pkt, len, size_cap(meta, 4), out, &icmp, &end);
	else if (version == 6)
		r = outer6(pkt, len, size_cap(meta, 6), out, &icmp, &end);
	else
		return REASON_BAD_IP;
	if (r != REASON_FORWARD)
		return r;
	out->len = end;
	out->icmp = icmp;
	if (end - icmp < ICMP_HLEN)
		return REASON_TRUNCATED;
	ic = pkt + icmp;

	if (version == 4 ? ic[0] != ICMP4_UNREACH || ic[1] != ICMP4_FRAG_NEEDED
			 : ic[0] != ICMP6_PTB || ic[1] != 0)
		return REASON_NOT_PTB;
	if (checksum && !icmp_csum_ok(pkt, icmp, end, version))
		return REASON_BAD_CHECKSUM;
	if (denied(pol, &out->outer_src))
		return REASON_DENIED_SOURCE;
	if (version == 4) {
		uint32_t floor = pol->min_mtu4 > IP4_MIN_MTU ?
				 pol->min_mtu4 : IP4_MIN_MTU;

		out->mtu = rd16(ic + 6);
		r = check_mtu(pol, out->mtu, floor);
		if (r == REASON_FORWARD)
			r = quote4(ic + ICMP_HLEN, end - icmp - ICMP_HLEN,
				   out, &l4);
	} else {
		out->mtu = rd32(ic + 4);
		r = check_mtu(pol, out->mtu, IP6_MIN_MTU);
		if (r == REASON_FORWARD)
			r = quote6(ic + ICMP_HLEN, end - icmp - ICMP_HLEN,
				   out, &l4);
	}
	if (r != REASON_FORWARD)
		return r;

	if (!pol->any_dst && !addr_eq(&out->outer_dst, &out->quoted_src))
		return REASON_DST_MISMATCH;
	if (l4 != SIZE_MAX && l4_has_ports(out->quoted_proto)) {
		const uint8_t *p = ic + ICMP_HLEN + l4;

		out->has_ports = true;
		out->quoted_sport = rd16(p);
		out->quoted_dport = rd16(p + 2);
	}
	if (!vip_allowed(pol, &out->quoted_src))
		return REASON_NOT_VIP;
	if (pol->n_ports) {
		if (!out->has_ports)
			return REASON_QUOTE_PROTO;
		if (!port_allowed(pol, out->quoted_sport))
			return REASON_PORT;
	}
	return REASON_FORWARD;
}

enum classify_reason classify_packet(const struct classify_policy *pol,
				     const uint8_t *pkt, size_t len,
				     const struct pkt_meta *meta,
				     struct ptb_info *out)
{
	return classify(pol, pkt, len, meta, out, true);
}

enum classify_reason classify_headers(const struct classify_policy *pol,
				      const uint8_t *pkt, size_t len,
				      const struct pkt_meta *meta,
				      struct ptb_info *out)
{
	return classify(pol, pkt, len, meta, out, false);
}

enum classify_reason classify_checksum(const uint8_t *pkt,
				       const struct ptb_info *info)
{
	return icmp_csum_ok(pkt, info->icmp, info->len,
			    info->family == AF_INET ? 4 : 6) ?
	       REASON_FORWARD : REASON_BAD_CHECKSUM;
}

bool classify_outer_src(const uint8_t *pkt, size_t len,
			struct pmtud_addr *src)
{
	static const struct pmtud_addr zero;

	*src = zero;
	if (len >= IP4_HLEN && pkt[0] >> 4 == 4)
		set_addr(src, AF_INET, pkt + 12);
	else if (len >= IP6_HLEN && pkt[0] >> 4 == 6)
		set_addr(src, AF_INET6, pkt + 8);
	else
		return false;
	return true;
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP:	return "tcp";
	case IPPROTO_UDP:	return "udp";
	case IPPROTO_SCTP:	return "sctp";
	case IPPROTO_DCCP:	return "dccp";
	case IPPROTO_UDPLITE:	return "udplite";
	case IPPROTO_ICMP:	return "icmp";
	case IPPROTO_ICMPV6:	return "icmpv6";
	case IPPROTO_ESP:	return "esp";
	case IPPROTO_AH:	return "ah";
	case IPPROTO_GRE:	return "gre";
	case IPPROTO_NONE:	return "none";
	default:		return NULL;
	}
}

/* "addr" or, with a port, "addr:port" / "[v6addr]:port". */
static void endpoint(char *buf, size_t n, const struct pmtud_addr *a,
		     bool port, uint16_t p)
{
	char s[PMTUD_ADDRSTRLEN];

	pmtud_addr_str(a, s);
	if (!port)
		snprintf(buf, n, "%s", s);
	else if (a->family == AF_INET6)
		snprintf(buf, n, "[%s]:%u", s, (unsigned)p);
	else
		snprintf(buf, n, "%s:%u", s, (unsigned)p);
}

int classify_format(const struct ptb_info *info, char *buf, size_t len)
{
	char src[PMTUD_ADDRSTRLEN], dst[PMTUD_ADDRSTRLEN];
	char qs[PMTUD_ADDRSTRLEN + 8], qd[PMTUD_ADDRSTRLEN + 8], pn[12];
	const char *name;

	if (!info->family)
		return snprintf(buf, len, "(not parsed)");
	pmtud_addr_str(&info->outer_src, src);
	pmtud_addr_str(&info->outer_dst, dst);
	if (!info->quoted_src.family)
		return snprintf(buf, len, "%s -> %s mtu %u", src, dst,
				(unsigned)info->mtu);
	endpoint(qs, sizeof(qs), &info->quoted_src, info->has_ports,
		 info->quoted_sport);
	endpoint(qd, sizeof(qd), &info->quoted_dst, info->has_ports,
		 info->quoted_dport);
	name = proto_name(info->quoted_proto);
	if (!name) {
		snprintf(pn, sizeof(pn), "proto %u",
			 (unsigned)info->quoted_proto);
		name = pn;
	}
	return snprintf(buf, len, "%s -> %s mtu %u quoting %s %s -> %s",
			src, dst, (unsigned)info->mtu, name, qs, qd);
}
