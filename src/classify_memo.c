/* classify_memo.c - a router's repeated PTB, known by what classify.c
 * reads of it. */
#include "config.h"
#include <string.h>
#include "classify_memo.h"

#define V4_BYTES	56	/* 20 + 8 + 20 + 8: the shortest such PTB */
#define V6_BYTES	96	/* 40 + 8 + 40 + 8 */

/* The bytes classify_headers() reads of the two shapes, check by check
 * (0xff: read; 0xf0: the version nibble only). Not read: TOS/traffic
 * class, flow label, IDs, TTL/hop limit, header and ICMP checksums (the
 * agent verifies the checksum of each PTB it relays, classify_checksum),
 * the ICMPv4 unused word, the quoted lengths, and the quote past the
 * ports (the TCP sequence number). */
static const uint8_t mask4[V4_BYTES] = {
	/* outer: version/IHL, total length, fragment, protocol, addresses */
	0xff, 0, 0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0xff, 0, 0,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	/* ICMP: type, code; the MTU */
	0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff,
	/* quote: version/IHL, fragment, protocol, addresses */
	0xff, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0xff, 0, 0,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	/* quoted ports */
	0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
};

static const uint8_t mask6[V6_BYTES] = {
	/* outer: version, payload length, next header, addresses */
	0xf0, 0, 0, 0, 0xff, 0xff, 0xff, 0,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	/* ICMPv6: type, code; the MTU */
	0xff, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff,
	/* quote: version, next header, addresses */
	0xf0, 0, 0, 0, 0, 0, 0xff, 0,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	/* quoted ports */
	0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
};

/* Of the Ethernet header: the destination (broadcast?) and the
 * EtherType, as two words at offsets 0 and 6. */
static const uint8_t mask_eth[16] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0,
	0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

static inline uint64_t word(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* n bytes of p (a multiple of 8) under mask into w. */
static void masked(uint64_t *w, const uint8_t *p, const uint8_t *mask,
		   size_t n)
{
	for (size_t i = 0; i < n; i += 8)
		w[i / 8] = word(p + i) & word(mask + i);
}

/* Do n bytes of p under mask differ from w? */
static inline bool differ(const uint64_t *w, const uint8_t *p,
			  const uint8_t *mask, size_t n)
{
	uint64_t d = 0;

	for (size_t i = 0; i < n; i += 8)
		d |= (word(p + i) & word(mask + i)) ^ w[i / 8];
	return d != 0;
}

static void eth_words(uint64_t hw[2], const struct pkt_meta *meta)
{
	hw[0] = hw[1] = 0;
	if (classify_eth_hdr(meta)) {
		hw[0] = word(meta->hwhdr) & word(mask_eth);
		hw[1] = word(meta->hwhdr + 6) & word(mask_eth + 8);
	}
}

void classify_memo_clear(struct classify_memo *m)
{
	memset(m, 0, sizeof(*m));
}

/* The shapes whose reads the masks describe (classify_memo.h). */
static size_t shape_bytes(const uint8_t *pkt, size_t len,
			  const struct pkt_meta *meta,
			  const struct ptb_info *info)
{
	if (!meta || (classify_eth_hdr(meta) && meta->hwhdr_len != ETH_HLEN) ||
	    !info->has_ports || info->len != len)
		return 0;
	if (info->family == AF_INET && len >= V4_BYTES && pkt[0] == 0x45 &&
	    info->icmp == 20 && (pkt[28] & 0x0f) == 5)
		return V4_BYTES;
	if (info->family == AF_INET6 && len >= V6_BYTES && info->icmp == 40 &&
	    pkt[54] == info->quoted_proto)
		return V6_BYTES;
	return 0;
}

bool classify_memo_store(struct classify_memo *m, const uint8_t *pkt,
			 size_t len, const struct pkt_meta *meta,
			 const struct ptb_info *info, uint64_t value)
{
	size_t n = shape_bytes(pkt, len, meta, info);
	struct classify_memo_entry *e;

	if (!n)
		return false;
	e = &m->e[n == V6_BYTES];
	memset(e->w, 0, sizeof(e->w));
	masked(e->w, pkt, n == V6_BYTES ? mask6 : mask4, n);
	eth_words(e->hw, meta);
	e->eth = classify_eth_hdr(meta);
	e->len = len;
	e->link_mtu = meta->link_mtu;
	e->hw_protocol = meta->hw_protocol;
	memcpy(&e->info, info, sizeof(e->info));	/* padding too: comparable */
	e->value = value;
	return true;
}

const struct classify_memo_entry *
classify_memo_find(const struct classify_memo *m, const uint8_t *pkt,
		   size_t len, const struct pkt_meta *meta)
{
	const struct classify_memo_entry *e;
	uint64_t hw[2];
	bool v6;

	if (len < V4_BYTES || !meta)
		return NULL;
	v6 = pkt[0] >> 4 == 6;
	e = &m->e[v6];
	if (len != e->len || meta->link_mtu != e->link_mtu ||
	    meta->hw_protocol != e->hw_protocol ||
	    classify_eth_hdr(meta) != e->eth)
		return NULL;
	if (e->eth) {
		if (meta->hwhdr_len != ETH_HLEN)
			return NULL;
		eth_words(hw, meta);
		if ((hw[0] ^ e->hw[0]) | (hw[1] ^ e->hw[1]))
			return NULL;
	}
	if (v6 ? differ(e->w, pkt, mask6, V6_BYTES)
	       : differ(e->w, pkt, mask4, V4_BYTES))
		return NULL;
	return e;
}
