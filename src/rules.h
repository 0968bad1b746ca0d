/* rules.h - the agent's own nftables table, through libnftnl + libmnl.
 *
 * Contract:
 *  - rules_install() adds, in one atomic netlink batch, table
 *    "inet <conf->table>" with one chain hooked at prerouting, priority
 *    raw (-300), policy accept, whose rules only observe: for packets
 *    arriving on the configured interfaces, not link-layer broadcast,
 *    ICMPv4 type 3 code 4 and ICMPv6 type 2 code 0 -> log group N
 *    (whole packet), or with input nfqueue -> queue num N bypass (the
 *    xtables NFQUEUE target through nft_compat on kernels without
 *    nft_queue; r->xt_queue says so). With conf->prelimit, two rules
 *    per family before that one "return" (the policy, accept: not
 *    logged) what exceeds a per-source rate (dynamic sets prelimit4,
 *    prelimit6) or prelimit_rate; see rules_expr.c. No rule ever drops: the fate of
 *    every packet is unchanged (the agent accepts what it queues).
 *  - The table carries NFT_TABLE_F_OWNER when the kernel supports it
 *    (>= 5.12): the kernel deletes it when r->nl closes, even on
 *    kill -9. Otherwise fallback mode: explicit removal, and a stale
 *    table from an earlier run is swept at start. r->owner says which.
 *  - An existing table of that name: replaced if no live process owns
 *    it (stale, or loaded with nft -f), refused (EXIT_RULES) if another
 *    process owns it.
 *  - Errors fill err with one line; nothing half-installed remains.
 */
#ifndef PMTUD_RULES_H
#define PMTUD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conf.h"

struct mnl_socket;

struct rules {
	struct mnl_socket *nl;	/* stays open while the table lives */
	uint32_t portid;
	uint32_t seq;
	bool owner;		/* NFT_TABLE_F_OWNER in effect */
	bool xt_queue;		/* NFQUEUE via nft_compat, not nft_queue */
	bool installed;
	char table[PMTUD_TABLE_MAXLEN];
};

int rules_install(struct rules *r, const struct pmtud_conf *c,
		  char *err, size_t errlen);
/* Reload: make the installed table (from o) what n describes (same
 * name), in one atomic batch on r->nl, in place: the table, its owner,
 * its chain and the chain's hook stay; the rules are replaced (their
 * counters carry over), the pre-limit sets keep their elements unless
 * the per-source rate or burst changed. A batch whose answer is
 * incomplete (timeout, ENOBUFS) is settled by reading the chain back.
 * On error (err filled) the old rules stay as they were. */
int rules_update(struct rules *r, const struct pmtud_conf *o,
		 const struct pmtud_conf *n, char *err, size_t errlen);
/* Shutdown, before the input closes: delete the chain's rules, keep the
 * table and hook, so nothing new is queued and nothing queued is dropped
 * by a hook going away. Failures are logged. */
void rules_quiesce(struct rules *r);
/* With host names in peers: make the sets peers4 and peers6 hold v
 * (n addresses, canonical: peerset.h), both in one transaction (flush,
 * then add): the hook and the rules stay; the kernel switches from the
 * old elements to the new at commit. On error (err filled) the sets
 * are as they were. */
int rules_set_peers(struct rules *r, const struct pmtud_addr *v, size_t n,
		    char *err, size_t errlen);
/* Delete the table (if installed) and close the socket. Idempotent. */
void rules_remove(struct rules *r);

#endif
