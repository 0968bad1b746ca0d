/* test_own_addr.c - the table of the host's own addresses (own_addr.c)
 * and the deny list built from it.
 *
 * Proves: an address is added once per interface, and stays own until
 * it is gone from every interface; deleting what is not there changes
 * nothing; a full table refuses and counts, and takes again once an
 * entry is freed; the deny list holds the peers first, then each own
 * address once, none repeated when it is also a peer.
 */
#include "config.h"
#include <stdlib.h>
#include "own_addr.h"
#include "peerset.h"
#include "unit.h"

static struct own_addrs own;
static struct pmtud_addr out[2 + OWN_ADDR_MAX];	/* at most 2 peers here */

static struct pmtud_addr addr(const char *s)
{
	struct pmtud_addr a;

	if (pmtud_addr_parse(&a, s) < 0)
		abort();
	return a;
}

static bool listed(unsigned n, const char *s)
{
	struct pmtud_addr a = addr(s);
	unsigned i, seen = 0;

	for (i = 0; i < n; i++)
		seen += pmtud_addr_eq(&out[i], &a);
	return seen == 1;
}

static void test_add_del(void)
{
	struct pmtud_addr a = addr("192.0.2.5"), b = addr("2001:db8::5");

	own_addr_clear(&own);
	CHECK(own_addr_add(&own, &a, 2));
	CHECK(!own_addr_add(&own, &a, 2));	/* again: no change */
	CHECK(own_addr_add(&own, &a, 3));	/* the same on another interface */
	CHECK(own_addr_add(&own, &b, 2));
	CHECK(own.n == 3);
	CHECK(own_addr_del(&own, &a, 2));
	CHECK(own_addr_deny_list(&own, NULL, 0, out) == 2 && listed(2, "192.0.2.5"));
	CHECK(!own_addr_del(&own, &a, 2));	/* gone there already */
	CHECK(!own_addr_del(&own, &b, 3));	/* never there */
	CHECK(own_addr_del(&own, &a, 3));
	CHECK(own_addr_deny_list(&own, NULL, 0, out) == 1 && listed(1, "2001:db8::5"));
}

static void test_full(void)
{
	struct pmtud_addr a = addr("198.51.100.0");
	unsigned i;

	own_addr_clear(&own);
	for (i = 0; i < OWN_ADDR_MAX; i++) {
		a.a[2] = (uint8_t)(i >> 8);
		a.a[3] = (uint8_t)i;
		CHECK(own_addr_add(&own, &a, 1));
	}
	a.a[2] = 0xff;
	CHECK(!own_addr_add(&own, &a, 1) && own.missed == 1);
	CHECK(own.n == OWN_ADDR_MAX);
	CHECK(own_addr_deny_list(&own, NULL, 0, out) == OWN_ADDR_MAX);
	a.a[2] = 0;
	a.a[3] = 7;
	CHECK(own_addr_del(&own, &a, 1));
	a.a[2] = 0xff;
	CHECK(own_addr_add(&own, &a, 1) && own.n == OWN_ADDR_MAX);
	own_addr_clear(&own);
	CHECK(own.n == 0 && own.missed == 0);
}

static void test_deny_list(void)
{
	struct pmtud_addr peers[2] = { addr("203.0.113.7"), addr("192.0.2.5") };
	struct pmtud_addr a = addr("192.0.2.5"), b = addr("2001:db8::5");

	own_addr_clear(&own);
	CHECK(own_addr_deny_list(&own, peers, 2, out) == 2);
	/* Sorted for the classifier's bisection. */
	CHECK(pmtud_addr_eq(&out[0], &peers[1]) && pmtud_addr_eq(&out[1], &peers[0]));
	own_addr_add(&own, &a, 1);	/* also a peer: listed once */
	own_addr_add(&own, &b, 1);
	own_addr_add(&own, &b, 4);	/* on two interfaces: listed once */
	CHECK(own_addr_deny_list(&own, peers, 2, out) == 3);
	CHECK(listed(3, "203.0.113.7") && listed(3, "192.0.2.5") && listed(3, "2001:db8::5"));
	CHECK(peerset_cmp(&out[0], &out[1]) < 0 && peerset_cmp(&out[1], &out[2]) < 0);
}

int main(void)
{
	test_add_del();
	test_full();
	test_deny_list();
	return unit_result("test_own_addr");
}
