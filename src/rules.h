/* rules.h - the agent's own nftables table, through libnftnl + libmnl.
 *
 * Contract:
 *  - rules_install() adds, in one atomic netlink batch, table
 *    "inet <conf->table>" with one chain hooked at prerouting, priority
 *    raw (-300), policy accept, whose rules only observe: for packets
 *    arriving on the configured interfaces, not link-layer broadcast,
 *    ICMPv4 type 3 code 4 and ICMPv6 type 2 code 0 -> log group N
 *    (whole packet). No rule ever drops or accepts: the fate of every
 *    packet is unchanged.
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
	bool installed;
	char table[PMTUD_TABLE_MAXLEN];
};

int rules_install(struct rules *r, const struct pmtud_conf *c,
		  char *err, size_t errlen);
/* Delete the table (if installed) and close the socket. Idempotent. */
void rules_remove(struct rules *r);

#endif
