/* rules_expr.c - the expressions of the agent's rules, through libnftnl.
 *
 * The table, as `nft list table inet pmtud` shows it (interfaces and
 * group from the configuration; nft/pmtud.nft is the same ruleset for
 * operators who load it themselves):
 *
 *	table inet pmtud {
 *		comment "pmtud-nf"
 *		chain prerouting {
 *			type filter hook prerouting priority raw; policy accept;
 *			iifname { "eth0", "eth1" } meta pkttype != broadcast icmp type destination-unreachable icmp code frag-needed ip length <= 576 counter log group 33 snaplen 576
 *			iifname { "eth0", "eth1" } meta pkttype != broadcast icmpv6 type packet-too-big icmpv6 code no-route ip6 length <= 1240 counter log group 33 snaplen 1280
 *		}
 *	}
 *
 * The expressions mirror what nft 1.0.6 generates for that text, so the
 * listings of both are identical: one anonymous constant set of
 * interface names per rule, or a plain 16-byte compare when a single
 * interface is configured (nft folds a one-element set the same way);
 * the inet family dependency "meta nfproto" before "meta l4proto"; ICMP
 * type and code loaded as one 2-byte word from the transport header.
 *
 * With "peers", each rule also skips PTBs sent by a peer of its family,
 * after the length match: "ip saddr != 192.0.2.7" for one, "ip6 saddr !=
 * { 2001:db8::7, 2001:db8::8 }" (an anonymous set, inverted lookup) for
 * more, as nft generates them. No peers: the rules are as above.
 * With host names in "peers" (peers_dns.c), the peers of each family
 * are a named set the agent updates as the names resolve:
 *
 *	set peers4 { type ipv4_addr; size 4096; }
 *	... frag-needed ip saddr != @peers4 counter log group 33
 *
 * With "prelimit" (the default), each family's capture rule is preceded
 * by two rules with the same match that end in "return", and the table
 * holds one dynamic set per family:
 *
 *	set prelimit4 { type ipv4_addr; size 65536; flags dynamic,timeout; timeout 1m; }
 *	... ip length <= 576 update @prelimit4 { ip saddr limit rate over 40/second burst 40 packets } counter return
 *	... ip length <= 576 limit rate over 10000/second burst 10000 packets counter return
 *	... ip length <= 576 counter log group 33 snaplen 576
 *
 * Per source 4 x iface_rate (burst 4 x iface_burst): no source can get
 * more than iface_rate copies a second on its interface, so the rest
 * only costs the agent CPU; 4x leaves room for PTBs the agent filters.
 * For all sources, prelimit_rate (burst the same): a flood from random
 * sources escapes the per-source limit, not this one. "return" in a
 * base chain applies the chain's policy, accept: the PTB is only not
 * logged, its fate is unchanged and the host's stack still gets it.
 * A full set stops adding sources (the update fails, the rule does not
 * match): new sources then meet the global limit alone.
 *
 * With "input": "nfqueue" the last statement is "queue num 33 bypass"
 * instead (nft/pmtud-nfqueue.nft): the packet waits in the queue for
 * the agent's ACCEPT verdict, or passes at once when nobody listens.
 * Kernels built without nft_queue get the xtables NFQUEUE target
 * (revision 3, bypass) through nft_compat: same fate for the packet;
 * nft lists it as an xt target.
 *
 * Size: a genuine PTB is at most 576 bytes (IPv4) or 1280 (IPv6, a
 * payload length of 1240): every rule matches only those ("ip length
 * <= 576", "ip6 length <= 1240", after the ICMP match), so a longer one
 * (e.g. reassembled by conntrack before this hook) is neither logged
 * nor counted against its source's pre-limit: it passes untouched and
 * costs the agent nothing. The log rule's snaplen (576, 1280) and the
 * group's copy range (1280, set by the input) bound the copy again for
 * a ruleset written by hand; a copy cut short is dropped as oversized.
 *
 * No rule drops and the chain policy is accept: the rules only observe
 * (the pre-limit's "return" is that policy), every packet continues
 * exactly as without the table.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include "classify.h"
#include "rules_expr.h"

/* Headroom of the per-source pre-limit over what one interface may
 * send in copies: a source never gets more than iface_rate copies per
 * second, so 4x its PTBs still leave room for PTBs the agent filters. */
#define PRE_SRC_FACTOR		4

const struct icmp_match rules_matches[RULES_N_MATCHES] = {
	{ "ICMPv4", NFPROTO_IPV4, IPPROTO_ICMP, { 3, 4 },	/* frag-needed */
	  AF_INET, 12, 4, NFT_TYPE_IPADDR, "prelimit4",
	  2, PTB_MAX4, PTB_MAX4, "peers4" },		/* total length */
	{ "ICMPv6", NFPROTO_IPV6, IPPROTO_ICMPV6, { 2, 0 },	/* packet-too-big */
	  AF_INET6, 8, 16, NFT_TYPE_IP6ADDR, "prelimit6",
	  4, PTB_MAX6 - 40, PTB_MAX6, "peers6" },		/* payload length */
};

void rules_ifname_key(char key[IFNAMSIZ], const char *name)
{
	memset(key, 0, IFNAMSIZ);
	memcpy(key, name, strnlen(name, IFNAMSIZ - 1));
}

unsigned rules_n_peers(const struct pmtud_conf *c, uint8_t family)
{
	unsigned i, n = 0;

	for (i = 0; i < c->n_peers; i++)
		n += c->peers[i].family == family;
	return n;
}

/* Expression builders: each appends one expression to the rule. */
static int expr_meta(struct nftnl_rule *rule, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

static int expr_cmp(struct nftnl_rule *rule, enum nft_cmp_ops op,
		    const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	if (nftnl_expr_set_data(e, NFTNL_EXPR_CMP_DATA, data, len) < 0) {
		nftnl_expr_free(e);
		return -1;
	}
	nftnl_rule_add_expr(rule, e);
	return 0;
}

static int expr_cmp_u8(struct nftnl_rule *rule, enum nft_cmp_ops op, uint8_t v)
{
	return expr_cmp(rule, op, &v, sizeof(v));
}

static int expr_payload(struct nftnl_rule *rule, enum nft_payload_bases base,
			uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* Match register 1 against a set (name, or RULES_ANON_SET and the
 * id); inverted ("not in set") matches when the key is absent. */
static int expr_lookup_set(struct nftnl_rule *rule, const char *name,
			   uint32_t set_id, bool inverted)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, name) < 0) {
		nftnl_expr_free(e);
		return -1;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	if (inverted)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

static int expr_lookup(struct nftnl_rule *rule, uint32_t set_id, bool inverted)
{
	return expr_lookup_set(rule, RULES_ANON_SET, set_id, inverted);
}

uint32_t rules_peer_set_id(enum rule_kind kind, uint32_t set_id)
{
	return PEER_SET_ID_BASE + set_id + (kind == RULE_COPY_PEER ? 2 : 0);
}

/* ip saddr != { peers } (or != peer), or with from: ip saddr { peers }
 * (== peer); with host names in peers, the named set: != @peers4 or
 * @peers4. Nothing without peers. */
static int expr_peer(struct nftnl_rule *rule, const struct pmtud_conf *c,
		     const struct icmp_match *m, uint32_t set_id, bool from)
{
	unsigned i, n = rules_n_peers(c, m->family);

	if (n == 0 && !c->n_peer_names)
		return 0;
	if (expr_payload(rule, NFT_PAYLOAD_NETWORK_HEADER, m->saddr_off,
			 m->addr_len) < 0)
		return -1;
	/* The named set is found by name (the capture rule's batch made it). */
	if (c->n_peer_names)
		return expr_lookup_set(rule, m->peer_set, set_id, !from);
	if (n > 1)
		return expr_lookup(rule, set_id, !from);
	for (i = 0; c->peers[i].family != m->family; i++)
		;
	return expr_cmp(rule, from ? NFT_CMP_EQ : NFT_CMP_NEQ, c->peers[i].a,
			m->addr_len);
}

static int expr_counter(struct nftnl_rule *rule)
{
	struct nftnl_expr *e = nftnl_expr_alloc("counter");

	if (!e)
		return -1;
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* Snaplen: see the top. */
static int expr_log(struct nftnl_rule *rule, uint16_t group, uint32_t snaplen)
{
	struct nftnl_expr *e = nftnl_expr_alloc("log");

	if (!e)
		return -1;
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, snaplen);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* "queue num N bypass", as nft 1.0.6 encodes it (an explicit total of
 * one queue). Bypass: with no listener the packet continues. */
static int expr_queue(struct nftnl_rule *rule, uint16_t num)
{
	struct nftnl_expr *e = nftnl_expr_alloc("queue");

	if (!e)
		return -1;
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, num);
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS, NFT_QUEUE_FLAG_BYPASS);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* The same verdict through nft_compat: the xtables NFQUEUE target,
 * revision 3, for kernels built without nft_queue (CONFIG_NFT_QUEUE)
 * but with xt_NFQUEUE. The kernel wants the info padded to XT_ALIGN;
 * libnftnl takes ownership of the buffer (it frees it with the
 * expression), hence the allocation. */
static int expr_xt_queue(struct nftnl_rule *rule, uint16_t num)
{
	const size_t len = XT_ALIGN(sizeof(struct xt_NFQ_info_v3));
	struct xt_NFQ_info_v3 *info;
	struct nftnl_expr *e = nftnl_expr_alloc("target");

	if (!e)
		return -1;
	info = calloc(1, len);
	if (!info || nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE") < 0) {
		free(info);
		nftnl_expr_free(e);
		return -1;
	}
	info->queuenum = num;
	info->queues_total = 1;
	info->flags = NFQ_FLAG_BYPASS;
	if (nftnl_expr_set_data(e, NFTNL_EXPR_TG_INFO, info, (uint32_t)len) < 0) {
		free(info);
		nftnl_expr_free(e);
		return -1;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* The rule's last statement: where the packet's copy goes. */
static int expr_capture(struct nftnl_rule *rule, const struct pmtud_conf *c,
			const struct icmp_match *m, bool xt_queue)
{
	if (c->input != INPUT_NFQUEUE)
		return expr_log(rule, c->nflog_group, m->snaplen);
	return xt_queue ? expr_xt_queue(rule, c->queue_num)
			: expr_queue(rule, c->queue_num);
}

const char *const rules_kind_names[] = { "", " pre-limit (source)",
					       " pre-limit (all)", " copies (peers)",
					       " copies (broadcast)" };

/* Pre-limit rates and bursts, whole packets (nft's unit), rounded up
 * and clamped to what the kernel's limit accepts without overflow:
 * rate 1 to 1e9 per second (it divides one second in ns by the rate
 * and multiplies by the burst), burst 1 to 2^32 - 1 (0 would select
 * its default). The comparisons also catch NaN: no conversion of an
 * out-of-range double, whatever the configuration holds. */
#define PRE_RATE_MAX	1e9
#define PRE_BURST_MAX	4294967295.0

static uint64_t clamp_up(double v, double max)
{
	uint64_t n;

	if (!(v > 1))
		return 1;
	if (v >= max)
		return (uint64_t)max;
	n = (uint64_t)v;		/* defined: 1 < v < max <= 2^32 */
	return n + ((double)n < v);
}

void rules_pre_source(const struct pmtud_conf *c, uint64_t *rate,
		      uint32_t *burst)
{
	*rate = (uint64_t)clamp_up(PRE_SRC_FACTOR * c->iface_rate, PRE_RATE_MAX);
	*burst = (uint32_t)clamp_up(PRE_SRC_FACTOR * c->iface_burst, PRE_BURST_MAX);
}

uint32_t rules_pre_all(const struct pmtud_conf *c)
{
	return (uint32_t)clamp_up(c->prelimit_rate, PRE_RATE_MAX);
}

/* Copies logged per second and rule: what the owner lookups can take. */
static uint32_t copy_rate(const struct pmtud_conf *c)
{
	return c->owner_rate < 1e6 ? (uint32_t)(c->owner_rate + 0.999) : 1000000;
}

/* "limit rate [over] R/second burst B packets": over matches what
 * exceeds the rate, otherwise what stays within it. */
static struct nftnl_expr *limit_expr(uint64_t rate, uint32_t burst, bool over)
{
	struct nftnl_expr *e = nftnl_expr_alloc("limit");

	if (!e)
		return NULL;
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);	/* per second */
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, over ? NFT_LIMIT_F_INV : 0);
	return e;
}

static struct nftnl_expr *limit_over(uint64_t rate, uint32_t burst)
{
	return limit_expr(rate, burst, true);
}

/* [ip saddr { peers }] limit rate R/second burst R packets counter log
 * group N: a copy from another agent, to the owner lookup only. */
static int expr_copy(struct nftnl_rule *rule, const struct pmtud_conf *c,
		     const struct icmp_match *m, enum rule_kind kind, uint32_t set_id)
{
	struct nftnl_expr *e;

	if (kind == RULE_COPY_PEER &&
	    expr_peer(rule, c, m, rules_peer_set_id(kind, set_id), true) < 0)
		return -1;
	e = limit_expr(copy_rate(c), copy_rate(c), false);
	if (!e)
		return -1;
	nftnl_rule_add_expr(rule, e);
	return expr_counter(rule) < 0 ||
	       expr_log(rule, c->nflog_group, m->snaplen) < 0 ? -1 : 0;
}

/* update @prelimitN { ip saddr limit rate over R/second burst B packets }:
 * matches only when this source is over its rate. */
static int expr_pre_source(struct nftnl_rule *rule, const struct pmtud_conf *c,
			   const struct icmp_match *m, uint32_t set_id)
{
	struct nftnl_expr *e, *lim;
	uint64_t rate;
	uint32_t burst;

	if (expr_payload(rule, NFT_PAYLOAD_NETWORK_HEADER, m->saddr_off,
			 m->addr_len) < 0)
		return -1;
	e = nftnl_expr_alloc("dynset");
	if (!e)
		return -1;
	rules_pre_source(c, &rate, &burst);
	lim = limit_over(rate, burst);
	if (!lim || nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, m->pre_set) < 0) {
		if (lim)
			nftnl_expr_free(lim);
		nftnl_expr_free(e);
		return -1;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, set_id);
	nftnl_expr_set(e, NFTNL_EXPR_DYNSET_EXPR, lim, 0);	/* e owns lim */
	nftnl_rule_add_expr(rule, e);
	return 0;
}

static int expr_pre_all(struct nftnl_rule *rule, const struct pmtud_conf *c)
{
	struct nftnl_expr *e = limit_over(rules_pre_all(c), rules_pre_all(c));

	if (!e)
		return -1;
	nftnl_rule_add_expr(rule, e);
	return 0;
}

static int expr_return(struct nftnl_rule *rule)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NFT_RETURN);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* What follows the ICMP match. */
static int build_tail(struct nftnl_rule *rule, const struct pmtud_conf *c,
		      const struct icmp_match *m, enum rule_kind kind,
		      uint32_t set_id, bool xt_queue)
{
	switch (kind) {
	case RULE_PRE_SOURCE:
		if (expr_pre_source(rule, c, m, PRE_SET_ID_BASE + set_id) < 0)
			return -1;
		break;
	case RULE_PRE_ALL:
		if (expr_pre_all(rule, c) < 0)
			return -1;
		break;
	case RULE_CAPTURE:
		return expr_peer(rule, c, m, rules_peer_set_id(kind, set_id), false) < 0 ||
		       expr_counter(rule) < 0 ||
		       expr_capture(rule, c, m, xt_queue) < 0 ? -1 : 0;
	case RULE_COPY_PEER:
	case RULE_COPY_BCAST:
		return expr_copy(rule, c, m, kind, set_id);
	}
	return expr_counter(rule) < 0 || expr_return(rule) < 0 ? -1 : 0;
}

/* iifname { ... } meta pkttype != broadcast <icmp type/code> ip length
 * <= 576 (ip6 length <= 1240), then
 * the kind's tail: [ip saddr != { peers }] counter log group N | queue
 * num N bypass, or a pre-limit, counter and return, or a copy's limit,
 * counter and log (copies from broadcasts: meta pkttype broadcast).
 * set_id: the family's (1, 2); iface_set: this rule's interface set. */
int rules_build(struct nftnl_rule *rule, const struct pmtud_conf *c,
		const struct icmp_match *m, enum rule_kind kind,
		uint32_t set_id, uint32_t iface_set, bool xt_queue)
{
	const uint8_t len_be[2] = { (uint8_t)(m->len_max >> 8), (uint8_t)m->len_max };

	if (expr_meta(rule, NFT_META_IIFNAME) < 0)
		return -1;
	if (c->n_ifaces == 1) {
		char key[IFNAMSIZ];

		rules_ifname_key(key, c->ifaces[0]);
		if (expr_cmp(rule, NFT_CMP_EQ, key, IFNAMSIZ) < 0)
			return -1;
	} else if (expr_lookup(rule, iface_set, false) < 0) {
		return -1;
	}
	if (expr_meta(rule, NFT_META_PKTTYPE) < 0 ||
	    expr_cmp_u8(rule, kind == RULE_COPY_BCAST ? NFT_CMP_EQ : NFT_CMP_NEQ,
			PACKET_BROADCAST) < 0 ||
	    expr_meta(rule, NFT_META_NFPROTO) < 0 ||
	    expr_cmp_u8(rule, NFT_CMP_EQ, m->nfproto) < 0 ||
	    expr_meta(rule, NFT_META_L4PROTO) < 0 ||
	    expr_cmp_u8(rule, NFT_CMP_EQ, m->l4proto) < 0 ||
	    expr_payload(rule, NFT_PAYLOAD_TRANSPORT_HEADER, 0,
			 sizeof(m->type_code)) < 0 ||
	    expr_cmp(rule, NFT_CMP_EQ, m->type_code, sizeof(m->type_code)) < 0 ||
	    expr_payload(rule, NFT_PAYLOAD_NETWORK_HEADER, m->len_off,
			 sizeof(len_be)) < 0 ||
	    expr_cmp(rule, NFT_CMP_LTE, len_be, sizeof(len_be)) < 0 ||
	    build_tail(rule, c, m, kind, set_id, xt_queue) < 0)
		return -1;
	return 0;
}
