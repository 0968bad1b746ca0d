/* pktbuild.h - build IPv4/IPv6 "packet too big" packets for tests.
 *
 * Header-only. Packets are described by their field values (addresses
 * as text, MTU, quoted flow, extension headers) and laid out with
 * correct IPv4 header and ICMP/ICMPv6 checksums, so the same bytes can
 * also be injected into a real stack. Offsets of the fields tests like
 * to corrupt are exported as PB4_* / PB6_* constants; after editing a
 * field, pb_fix() recomputes the checksums.
 */
#ifndef PMTUD_PKTBUILD_H
#define PMTUD_PKTBUILD_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PB_MAX		1600

/* Outer IPv4 (no options) + ICMP. */
#define PB4_VER_IHL	0
#define PB4_TOTLEN	2
#define PB4_FRAG	6
#define PB4_PROTO	9
#define PB4_SRC		12
#define PB4_DST		16
#define PB4_ICMP	20	/* only when .outer_opt_words == 0 */
#define PB4_QUOTE	(PB4_ICMP + 8)

/* Outer IPv6 (no extension headers) + ICMPv6. */
#define PB6_PLEN	4
#define PB6_NH		6
#define PB6_SRC		8
#define PB6_DST		24
#define PB6_ICMP	40	/* only when .n_outer_ext == 0 */
#define PB6_QUOTE	(PB6_ICMP + 8)

struct pkt {
	uint8_t b[PB_MAX];
	size_t len;
};

/* The quoted (offending) packet: our side (src) to the client (dst). */
struct pb_flow {
	const char *src, *dst;
	uint8_t proto;		/* TCP/UDP get real headers, others 8 bytes */
	uint16_t sport, dport;
};

/* One IPv6 extension header. len is the header's own length field:
 * (len + 1) * 8 bytes for hop-by-hop/routing/dstopts, (len + 2) * 4
 * for AH; ignored for fragment (always 8 bytes). */
struct pb_ext {
	uint8_t type;		/* IPPROTO_HOPOPTS, _ROUTING, _DSTOPTS, ... */
	uint8_t len;
	uint16_t frag_off;	/* fragment: offset in 8-byte units */
	bool frag_more;		/* fragment: M flag */
};

struct pb_ptb4 {
	const char *src, *dst;	/* outer: router -> us */
	uint16_t mtu;
	struct pb_flow q;
	unsigned outer_opt_words;	/* outer IHL = 5 + this */
	unsigned quote_opt_words;	/* quoted IHL = 5 + this */
	size_t payload;		/* quoted bytes after the L4 header */
};

struct pb_ptb6 {
	const char *src, *dst;
	uint32_t mtu;
	struct pb_flow q;
	const struct pb_ext *outer_ext;	/* between outer header and ICMPv6 */
	unsigned n_outer_ext;
	const struct pb_ext *ext;	/* inside the quote */
	unsigned n_ext;
	size_t payload;
};

static inline void pb_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void pb_put32(uint8_t *p, uint32_t v)
{
	pb_put16(p, (uint16_t)(v >> 16));
	pb_put16(p + 2, (uint16_t)v);
}

static inline uint16_t pb_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Aborts on a bad literal: a typo in a test must not pass silently. */
static inline void pb_addr(int af, const char *s, uint8_t *dst)
{
	if (inet_pton(af, s, dst) != 1)
		abort();
}

static inline uint32_t pb_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += pb_get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static inline uint16_t pb_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* IPv4 header checksum of the header at p. */
static inline void pb_ip4_csum(uint8_t *p)
{
	size_t hl = (size_t)(p[0] & 0x0f) * 4;

	pb_put16(p + 10, 0);
	pb_put16(p + 10, pb_fold(pb_sum(0, p, hl)));
}

/* L4 header (and payload pattern) of the quoted flow at p; returns
 * its length. The quoted L4 length claims the untruncated size. */
static inline size_t pb_l4(uint8_t *p, const struct pb_flow *q,
			   size_t payload)
{
	size_t hl = q->proto == IPPROTO_TCP ? 20 : 8;

	memset(p, 0, hl);
	pb_put16(p, q->sport);
	pb_put16(p + 2, q->dport);
	if (q->proto == IPPROTO_TCP) {
		pb_put32(p + 4, 0x11223344);	/* seq */
		p[12] = 5 << 4;			/* data offset */
		p[13] = 0x18;			/* PSH|ACK */
		pb_put16(p + 14, 64240);
	} else if (q->proto == IPPROTO_UDP) {
		pb_put16(p + 4, 1472);
	}
	for (size_t i = 0; i < payload; i++)
		p[hl + i] = (uint8_t)(0xa5 ^ i);
	return hl + payload;
}

/* Quoted IPv4 packet at p; returns the bytes written. */
static inline size_t pb_quote4(uint8_t *p, const struct pb_ptb4 *o)
{
	size_t hl = 20 + 4 * (size_t)o->quote_opt_words;

	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | (hl / 4));
	pb_put16(p + 2, 1500);			/* original, untruncated */
	pb_put16(p + 4, 0x1234);
	pb_put16(p + 6, 0x4000);		/* DF */
	p[8] = 64;
	p[9] = o->q.proto;
	pb_addr(AF_INET, o->q.src, p + 12);
	pb_addr(AF_INET, o->q.dst, p + 16);
	for (size_t i = 20; i < hl; i++)
		p[i] = 1;			/* NOP options */
	pb_ip4_csum(p);
	return hl + pb_l4(p + hl, &o->q, o->payload);
}

/* ICMP checksum of the message b[icmp, end); ICMPv6 (v6) with the
 * pseudo-header of the IPv6 header at b. */
static inline void pb_icmp_csum(uint8_t *b, size_t icmp, size_t end, bool v6)
{
	uint32_t sum = 0;
	size_t n = end - icmp;

	if (v6)
		sum = pb_sum(0, b + 8, 32) + (uint32_t)(n >> 16) +
		      (uint32_t)(n & 0xffff) + IPPROTO_ICMPV6;
	pb_put16(b + icmp + 2, 0);
	pb_put16(b + icmp + 2, pb_fold(pb_sum(sum, b + icmp, n)));
}

/* Recompute the outer IPv4 header and ICMP checksums of p. */
static inline void pb_fix4(struct pkt *p)
{
	size_t hl = (size_t)(p->b[0] & 0x0f) * 4;

	pb_ip4_csum(p->b);
	pb_icmp_csum(p->b, hl, p->len, false);
}

static inline size_t pb_ptb4(struct pkt *p, const struct pb_ptb4 *o)
{
	size_t hl = 20 + 4 * (size_t)o->outer_opt_words;
	uint8_t *ic = p->b + hl;

	memset(p->b, 0, sizeof(p->b));
	p->b[0] = (uint8_t)(0x40 | (hl / 4));
	p->b[1] = 0xc0;				/* DSCP CS6, as routers do */
	pb_put16(p->b + 4, 0x0001);
	p->b[8] = 255;
	p->b[9] = IPPROTO_ICMP;
	pb_addr(AF_INET, o->src, p->b + PB4_SRC);
	pb_addr(AF_INET, o->dst, p->b + PB4_DST);
	for (size_t i = 20; i < hl; i++)
		p->b[i] = 1;
	ic[0] = 3;				/* destination unreachable */
	ic[1] = 4;				/* fragmentation needed */
	pb_put16(ic + 6, o->mtu);
	p->len = hl + 8 + pb_quote4(ic + 8, o);
	pb_put16(p->b + PB4_TOTLEN, (uint16_t)p->len);
	pb_fix4(p);
	return p->len;
}

/* Extension header chain at p ending in next header last; returns its
 * length. Option areas are PadN-filled so the chain is well formed. */
static inline size_t pb_ext6(uint8_t *p, const struct pb_ext *e, unsigned n,
			     uint8_t last)
{
	size_t off = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *h = p + off;
		size_t hl;

		if (e[i].type == IPPROTO_FRAGMENT)
			hl = 8;
		else if (e[i].type == IPPROTO_AH)
			hl = ((size_t)e[i].len + 2) * 4;
		else
			hl = ((size_t)e[i].len + 1) * 8;
		memset(h, 0, hl);
		h[0] = i + 1 < n ? e[i + 1].type : last;
		if (e[i].type == IPPROTO_FRAGMENT) {
			pb_put16(h + 2, (uint16_t)(e[i].frag_off << 3 |
						   e[i].frag_more));
			pb_put32(h + 4, 0xcafe0001);
		} else if (e[i].type == IPPROTO_AH) {
			h[1] = e[i].len;
			pb_put32(h + 4, 0x100);	/* SPI */
		} else {
			h[1] = e[i].len;
			if (e[i].type == IPPROTO_ROUTING) {
				h[2] = 4;		/* SRH type, 0 left */
			} else {
				h[2] = 1;		/* PadN */
				h[3] = (uint8_t)(hl - 4);
			}
		}
		off += hl;
	}
	return off;
}

/* Recompute the ICMPv6 checksum (pseudo-header) at offset icmp. */
static inline void pb_fix6_at(struct pkt *p, size_t icmp)
{
	pb_icmp_csum(p->b, icmp, p->len, true);
}

static inline size_t pb_ptb6(struct pkt *p, const struct pb_ptb6 *o)
{
	uint8_t *q, *ic;
	size_t icmp, qlen;

	memset(p->b, 0, sizeof(p->b));
	p->b[0] = 0x60;
	p->b[PB6_NH] = o->n_outer_ext ? o->outer_ext[0].type : IPPROTO_ICMPV6;
	p->b[7] = 255;
	pb_addr(AF_INET6, o->src, p->b + PB6_SRC);
	pb_addr(AF_INET6, o->dst, p->b + PB6_DST);
	icmp = 40 + pb_ext6(p->b + 40, o->outer_ext, o->n_outer_ext,
			    IPPROTO_ICMPV6);
	ic = p->b + icmp;
	ic[0] = 2;				/* packet too big */
	pb_put32(ic + 4, o->mtu);
	q = ic + 8;
	q[0] = 0x60;
	pb_put16(q + 4, 1460);			/* original, untruncated */
	q[6] = o->n_ext ? o->ext[0].type : o->q.proto;
	q[7] = 64;
	pb_addr(AF_INET6, o->q.src, q + 8);
	pb_addr(AF_INET6, o->q.dst, q + 24);
	qlen = 40 + pb_ext6(q + 40, o->ext, o->n_ext, o->q.proto);
	qlen += pb_l4(q + qlen, &o->q, o->payload);
	p->len = icmp + 8 + qlen;
	pb_put16(p->b + PB6_PLEN, (uint16_t)(p->len - 40));
	pb_fix6_at(p, icmp);
	return p->len;
}

/* Recompute checksums after a field edit, also of an edited length:
 * the message ends at the IPv4 total length (IPv6: 40 + payload
 * length), cut to the buffer; ICMPv6 follows the outer hop-by-hop,
 * routing and destination options headers. A packet too short to
 * hold the checksum field is left as it is. */
static inline void pb_fix(struct pkt *p)
{
	size_t icmp, end;
	uint8_t nh;

	if (p->len >= 20 && p->b[0] >> 4 == 4) {
		icmp = (size_t)(p->b[0] & 0x0f) * 4;
		end = pb_get16(p->b + PB4_TOTLEN);
		end = end < p->len ? end : p->len;
		if (icmp < 20 || icmp + 4 > end)
			return;
		pb_ip4_csum(p->b);
		pb_icmp_csum(p->b, icmp, end, false);
		return;
	}
	if (p->len < 40 || p->b[0] >> 4 != 6)
		return;
	end = 40 + (size_t)pb_get16(p->b + PB6_PLEN);
	end = end < p->len ? end : p->len;
	icmp = 40;
	nh = p->b[PB6_NH];
	while (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
	       nh == IPPROTO_DSTOPTS) {
		if (icmp + 2 > end)
			return;
		nh = p->b[icmp];
		icmp += ((size_t)p->b[icmp + 1] + 1) * 8;
	}
	if (icmp + 4 <= end)
		pb_icmp_csum(p->b, icmp, end, true);
}

/* Ethernet header into hw: dst MAC, source 02:00:00:00:00:01, the
 * given 802.1Q/802.1ad TPIDs (VLAN ids 100, 101, ...), then ethertype. */
static inline size_t pb_eth(uint8_t *hw, const uint8_t dst[6],
			    const uint16_t *tpids, unsigned ntags,
			    uint16_t ethertype)
{
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	size_t off = 12;

	memcpy(hw, dst, 6);
	memcpy(hw + 6, src, 6);
	for (unsigned i = 0; i < ntags; i++) {
		pb_put16(hw + off, tpids[i]);
		pb_put16(hw + off + 2, (uint16_t)(100 + i));
		off += 4;
	}
	pb_put16(hw + off, ethertype);
	return off + 2;
}

#endif
