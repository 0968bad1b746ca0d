/* classify.h - decide whether one captured packet is a PTB to forward.
 *
 * Contract: a pure function. No I/O, no allocation, no global state;
 * safe on any input. Every byte read is bounds-checked against the
 * given lengths; a packet that is short, malformed or not a PTB gets a
 * DROP reason and is never read past its end.
 *
 * Input is the packet as NFLOG/NFQUEUE deliver it: starting at the
 * IPv4/IPv6 header. Optional metadata carries the link-layer header
 * (NFULA_HWHEADER) when the kernel supplied one.
 *
 * Size: a genuine PTB is at most PTB_MAX4 bytes (IPv4, RFC 1812 4.3.2.3)
 * or PTB_MAX6 (IPv6, RFC 4443 2.4); anything longer is "oversized",
 * also when its total length is past the bytes given (at the prerouting
 * hook the kernel has already checked the total length against the
 * packet, so a shorter copy was cut by the copy range, which is
 * PTB_COPY_RANGE: longer than any relayable PTB). Hence every PTB that
 * passes is complete, and its ICMP checksum is verified over the whole
 * message, as the receiving kernel will: a relayed copy is exactly the
 * checked bytes.
 */
#ifndef PMTUD_CLASSIFY_H
#define PMTUD_CLASSIFY_H

#include <linux/if_ether.h>
#include <net/if_arp.h>
#include <stddef.h>
#include <stdint.h>
#include "pmtud.h"

#define PTB_MAX4	576	/* IPv4: RFC 1812 4.3.2.3, RFC 792 */
#define PTB_MAX6	1280	/* IPv6: RFC 4443 2.4 (c) */
/* What the inputs copy of a packet (NFLOG copy range, NFQUEUE copy
 * range, the log rule's snaplen): the largest relayable PTB. */
#define PTB_COPY_RANGE	PTB_MAX6

/* Stable names (classify_reason_name) are used in logs and metrics:
 * never rename one, only add at the end before REASON_MAX. */
enum classify_reason {
	REASON_FORWARD = 0,	/* "forward": not a drop */
	REASON_TRUNCATED,	/* "truncated": outer IP or ICMP header short */
	REASON_BAD_IP,		/* "bad_ip": version, IHL, total/payload length */
	REASON_FRAGMENT,	/* "fragment": outer packet is a fragment */
	REASON_NOT_ICMP,	/* "not_icmp": outer protocol not ICMP/ICMPv6 */
	REASON_NOT_PTB,		/* "not_ptb": other ICMP type or code */
	REASON_BAD_MTU,		/* "bad_mtu": MTU outside the accepted range */
	REASON_QUOTE_TRUNCATED,	/* "quote_truncated": inner IP + 8 bytes L4 missing */
	REASON_QUOTE_BAD,	/* "quote_bad": inner header malformed / other family */
	REASON_QUOTE_EXTHDR,	/* "quote_exthdr": IPv6 ext header chain not walkable */
	REASON_QUOTE_PROTO,	/* "quote_proto": no ports for the quoted protocol while a port filter is set */
	REASON_PORT,		/* "port_filtered": quoted source port not in "ports" */
	REASON_DST_MISMATCH,	/* "dst_mismatch": outer dst != quoted src */
	REASON_L2_BROADCAST,	/* "l2_broadcast": arrived as an Ethernet broadcast (a copy) */
	REASON_DENIED_SOURCE,	/* "denied_source": outer source is a peer or our own address */
	REASON_NOT_VIP,		/* "not_vip": quoted source outside "vips" */
	REASON_BAD_CHECKSUM,	/* "bad_checksum": ICMP/ICMPv6 checksum wrong */
	REASON_OVERSIZED,	/* "oversized": over PTB_MAX4/PTB_MAX6, the link MTU, or the copy */
	REASON_MAX
};

const char *classify_reason_name(enum classify_reason r);

/* Link-layer metadata; any field may be absent (hwhdr NULL, len 0).
 * hwhdr is taken as Ethernet only when hwtype is ARPHRD_ETHER or 0 and
 * it holds at least 14 bytes; a shorter one is ignored, never read.
 * Its EtherType (past up to two 802.1Q/802.1ad tags) and hw_protocol,
 * when they name IPv4 or IPv6, must agree with the IP version. */
struct pkt_meta {
	const uint8_t *hwhdr;	/* link-layer header, e.g. Ethernet (+802.1Q tags) */
	size_t hwhdr_len;
	uint16_t hwtype;	/* ARPHRD_*, 0 if unknown */
	uint16_t hw_protocol;	/* EtherType from NFULA_PACKET_HDR, host order, 0 if unknown */
	uint32_t ifindex;	/* input interface, 0 if unknown */
	uint32_t link_mtu;	/* its MTU (the copy goes out there), 0 if unknown */
};

/* What the classifier accepted, for the rate limiter, logs and sender.
 * Filled as far as parsing got, also on DROP (fields not reached stay 0). */
struct ptb_info {
	uint8_t family;			/* AF_INET / AF_INET6 */
	struct pmtud_addr outer_src;	/* the router that sent the PTB */
	struct pmtud_addr outer_dst;
	struct pmtud_addr quoted_src;	/* our side of the quoted flow */
	struct pmtud_addr quoted_dst;	/* the remote client */
	uint8_t quoted_proto;		/* IPPROTO_TCP, ... */
	bool has_ports;			/* quoted L4 ports were read */
	uint16_t quoted_sport, quoted_dport;	/* host order */
	uint32_t mtu;			/* advertised next-hop MTU */
	size_t len;			/* IP total length: the bytes to relay */
	size_t icmp;			/* offset of the ICMP header */
};

/* Policy applied by the classifier; built once from the config. */
struct classify_policy {
	const uint16_t *ports;		/* sorted ascending; NULL/0 = any port */
	unsigned n_ports;
	uint32_t min_mtu4;		/* IPv4: accept max(68, min_mtu4)..max_mtu */
	uint32_t max_mtu;		/* both families (IPv6 floor is 1280);
					 * 0 = no upper bound */
	/* peers and own addresses, in peerset.h's canonical order
	 * (peerset_normalize()): searched by bisection */
	const struct pmtud_addr *deny_src;
	unsigned n_deny_src;
	const struct pmtud_prefix *vips;	/* quoted source must be in one; */
	unsigned n_vips;			/* NULL/0 = any address */
	bool any_dst;		/* no dst_mismatch check: parsing a copy from a
				 * peer, sent to our node address (owner.c) */
};

/* Decide on one packet. out is zeroed, then filled as far as parsing
 * got. Check order and reasons are documented at the top of classify.c.
 * No allocation, no syscalls: meant for the per-packet hot path. */
enum classify_reason classify_packet(const struct classify_policy *pol,
				     const uint8_t *pkt, size_t len,
				     const struct pkt_meta *meta,
				     struct ptb_info *out);

/* What the agent reads of a packet it does not classify (load
 * shedding, agent.c): whether it is a copy another agent broadcast
 * (check 1 of classify.c, from meta alone; meta not NULL), and the
 * outer source address of an IPv4/IPv6 header at least 20/40 bytes
 * long (false, *src zeroed, otherwise). Neither validates anything
 * else. Inline: asked of every packet of a flood. */
static inline bool classify_eth_bcast(const uint8_t *dst_mac)
{
	return (dst_mac[0] & dst_mac[1] & dst_mac[2] & dst_mac[3] &
		dst_mac[4] & dst_mac[5]) == 0xff;
}

/* meta carries an Ethernet header (see struct pkt_meta). */
static inline bool classify_eth_hdr(const struct pkt_meta *meta)
{
	return meta->hwhdr && meta->hwhdr_len >= ETH_HLEN &&
	       (meta->hwtype == 0 || meta->hwtype == ARPHRD_ETHER);
}

static inline bool classify_l2_broadcast(const struct pkt_meta *meta)
{
	return classify_eth_hdr(meta) && classify_eth_bcast(meta->hwhdr);
}

bool classify_outer_src(const uint8_t *pkt, size_t len,
			struct pmtud_addr *src);

/* classify_packet() without check 6b: every check but the ICMP
 * checksum, in the same order, so the packet is read no further than
 * its headers (the quoted ones included). Its FORWARD means "a PTB to
 * relay if classify_checksum() says so"; with any other reason the
 * checksum is not known. For the agent, which verifies the checksum
 * only of a PTB it is about to relay: a packet dropped for another
 * reason is never read to its end (as the kernel verifies a UDP
 * checksum when it delivers the datagram, not when it drops it). */
enum classify_reason classify_headers(const struct classify_policy *pol,
				      const uint8_t *pkt, size_t len,
				      const struct pkt_meta *meta,
				      struct ptb_info *out);

/* Check 6b for a packet classify_headers() passed, info its result:
 * REASON_FORWARD, or REASON_BAD_CHECKSUM. */
enum classify_reason classify_checksum(const uint8_t *pkt,
				       const struct ptb_info *info);

/* One-line human description of info, for verbose logs:
 * "192.0.2.1 -> 203.0.113.10 mtu 1400 quoting tcp 203.0.113.10:80 ->
 * 198.51.100.7:40000" (IPv6 endpoints as [addr]:port; no ports when
 * has_ports is false; the quote part only once the quote was parsed).
 * Returns snprintf()'s value: the length needed, truncating to len. */
int classify_format(const struct ptb_info *info, char *buf, size_t len);

#endif
