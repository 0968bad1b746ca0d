/* own_addr.h - the host's own addresses, so that a PTB sent from one
 * of them is never relayed (classifier reason denied_source).
 *
 * Contract:
 *  - A fixed table of (address, ifindex) pairs: the same address on two
 *    interfaces stays own until both are gone. No allocation.
 *  - iface_watch.c fills it from an rtnetlink dump at start and keeps
 *    it current from RTM_NEWADDR / RTM_DELADDR; it never holds more
 *    than OWN_ADDR_MAX pairs: the rest are counted in `missed` (the
 *    caller warns) and not denied.
 *  - own_addr_deny_list() builds the classifier's deny list: the peers
 *    and the own addresses, each once, in peerset.h's canonical order
 *    (the classifier bisects it). Pure; unit-tested.
 */
#ifndef PMTUD_OWN_ADDR_H
#define PMTUD_OWN_ADDR_H

#include <stdbool.h>
#include "pmtud.h"

#define OWN_ADDR_MAX	256

struct own_addrs {
	struct {
		struct pmtud_addr addr;
		int ifindex;
	} e[OWN_ADDR_MAX];
	unsigned n;
	unsigned missed;	/* adds refused since the last clear: table full */
};

void own_addr_clear(struct own_addrs *o);
/* true when the table changed. */
bool own_addr_add(struct own_addrs *o, const struct pmtud_addr *a, int ifindex);
bool own_addr_del(struct own_addrs *o, const struct pmtud_addr *a, int ifindex);

/* peers and own addresses, sorted, without repeats, into out (room for
 * n_peers + OWN_ADDR_MAX); returns how many. */
unsigned own_addr_deny_list(const struct own_addrs *o,
			    const struct pmtud_addr *peers, unsigned n_peers,
			    struct pmtud_addr *out);

#endif
