/* rules_expr.h - the expressions of the agent's rules (libnftnl).
 *
 * Contract:
 *  - rules_build() appends to an allocated nftnl_rule the expressions
 *    of one rule of the table (see rules_expr.c for the ruleset, as nft
 *    lists it): match on the configured interfaces, not link-layer
 *    broadcast, the family's ICMP type and code and at most the
 *    family's largest PTB, then the kind's tail.
 *    It sends nothing and allocates only expressions owned by the rule;
 *    -1 on allocation failure (the caller frees the rule).
 *  - Anonymous sets are referenced by id: the caller (rules.c) adds the
 *    sets with the ids given here in the same batch, before the rule.
 *  - No expression ever drops: a rule logs, queues with bypass, or
 *    returns (the chain's policy, accept).
 */
#ifndef PMTUD_RULES_EXPR_H
#define PMTUD_RULES_EXPR_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include "conf.h"

struct nftnl_rule;

#define RULES_ANON_SET	"__set%d"	/* the kernel picks the number */

/* nftables' datatype ids (nftables src/datatype.h) and byte order
 * (BYTEORDER_HOST_ENDIAN), kept in the set so that nft lists its
 * elements as interface names. */
#define NFT_TYPE_IFNAME		41
#define NFT_TYPE_IPADDR		7
#define NFT_TYPE_IP6ADDR	8
#define NFT_BYTEORDER_HOST	1
#define NFT_BYTEORDER_BIG	2

/* Peer sets are bound to their rule by ids after the interface sets'
 * (those: family's set id (1, 2) + 4 x rule kind), the pre-limit sets
 * after both: rules_peer_set_id(). */
#define PEER_SET_ID_BASE	20
#define PRE_SET_ID_BASE		32

struct icmp_match {
	const char *name;	/* for messages */
	uint8_t nfproto;
	uint8_t l4proto;
	uint8_t type_code[2];	/* first two bytes of the ICMP header */
	/* "ip saddr != { peers }": the family's peers, where the source
	 * address lies in the network header, its nft datatype. */
	uint8_t family;
	uint8_t saddr_off, addr_len;
	uint32_t addr_type;
	const char *pre_set;	/* the family's per-source pre-limit set */
	/* "ip length <= 576" / "ip6 length <= 1240": only a PTB the
	 * agent may relay is handed over (PTB_MAX4 / PTB_MAX6 bytes in
	 * all); the length field's offset in the network header and its
	 * largest value. snaplen: what the log rule copies, the same. */
	uint8_t len_off;
	uint16_t len_max;
	uint32_t snaplen;
	const char *peer_set;	/* its named peer set (host names in peers) */
};

/* ICMPv4 frag-needed, ICMPv6 packet-too-big: one set of rules each. */
#define RULES_N_MATCHES	2
extern const struct icmp_match rules_matches[RULES_N_MATCHES];

/* The rules of one family, in chain order: the two pre-limits return
 * (end this chain, policy accept: the packet goes on unchanged, only
 * not logged) for what exceeds them; the capture rule logs the rest. */
enum rule_kind {
	RULE_CAPTURE = 0,
	RULE_PRE_SOURCE,	/* update @prelimitN { saddr limit rate over } */
	RULE_PRE_ALL,		/* limit rate over prelimit_rate */
	/* Copies other agents sent us, logged (NFLOG input only) under
	 * an in-kernel limit for the owner lookup, never relayed: the
	 * classifier refuses both kinds (l2_broadcast, denied_source). */
	RULE_COPY_PEER,		/* ip saddr { peers } limit rate owner_rate */
	RULE_COPY_BCAST,	/* meta pkttype broadcast, limit rate owner_rate */
};

/* The anonymous peer set of a capture or copy-from-peers rule. */
uint32_t rules_peer_set_id(enum rule_kind kind, uint32_t set_id);

extern const char *const rules_kind_names[];	/* for messages */

/* An interface name as the kernel compares it: IFNAMSIZ bytes,
 * zero padded (meta iifname loads the whole array). */
void rules_ifname_key(char key[IFNAMSIZ], const char *name);
/* How many peers of that address family c lists. */
unsigned rules_n_peers(const struct pmtud_conf *c, uint8_t family);

/* The pre-limit's values: per source (rate/s, burst) and per family
 * (rate/s = burst), in whole packets, defined for any configuration
 * (rounded up, clamped to what the kernel accepts). */
void rules_pre_source(const struct pmtud_conf *c, uint64_t *rate,
		      uint32_t *burst);
uint32_t rules_pre_all(const struct pmtud_conf *c);

/* The expressions of one rule. set_id: the family's (1, 2); iface_set:
 * this rule's interface set (used with two interfaces or more). */
int rules_build(struct nftnl_rule *rule, const struct pmtud_conf *c,
		const struct icmp_match *m, enum rule_kind kind,
		uint32_t set_id, uint32_t iface_set, bool xt_queue);

#endif
