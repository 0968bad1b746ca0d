/* own_addr.c - the host's own addresses: a small fixed table. */
#include "config.h"
#include <string.h>
#include "own_addr.h"
#include "peerset.h"

void own_addr_clear(struct own_addrs *o)
{
	o->n = 0;
	o->missed = 0;
}

static int find(const struct own_addrs *o, const struct pmtud_addr *a, int ifindex)
{
	unsigned i;

	for (i = 0; i < o->n; i++)
		if (o->e[i].ifindex == ifindex && pmtud_addr_eq(&o->e[i].addr, a))
			return (int)i;
	return -1;
}

bool own_addr_add(struct own_addrs *o, const struct pmtud_addr *a, int ifindex)
{
	if (find(o, a, ifindex) >= 0)
		return false;
	if (o->n == OWN_ADDR_MAX) {
		o->missed++;
		return false;
	}
	o->e[o->n].addr = *a;
	o->e[o->n].ifindex = ifindex;
	o->n++;
	return true;
}

/* The last entry takes the freed place: order does not matter. */
bool own_addr_del(struct own_addrs *o, const struct pmtud_addr *a, int ifindex)
{
	int i = find(o, a, ifindex);

	if (i < 0)
		return false;
	o->e[i] = o->e[--o->n];
	return true;
}

unsigned own_addr_deny_list(const struct own_addrs *o,
			    const struct pmtud_addr *peers, unsigned n_peers,
			    struct pmtud_addr *out)
{
	unsigned i, n = 0;

	for (i = 0; i < n_peers; i++)
		out[n++] = peers[i];
	for (i = 0; i < o->n; i++)
		out[n++] = o->e[i].addr;
	return (unsigned)peerset_normalize(out, n);
}
