/* test_peerset.c - peer-set merge and diff, and what a DNS answer does
 * to a name's addresses (peerset.c).
 *
 * Proves: normalize sorts IPv4 before IPv6 and removes duplicates
 * however an address was written; merge is the union, keeps order,
 * drops duplicates across the two sets and reports a cap; diff lists
 * exactly what went and came (both empty for equal sets, all for
 * disjoint ones), and applying it to the old set gives the new one
 * (10^4 random cases); an answer equal to the last good set is "ok",
 * a different one (growing, shrinking, the first) "changed" and
 * applied, a failed or empty one keeps the last good set.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "peerset.h"
#include "unit.h"

static struct pmtud_addr A(const char *s)
{
	struct pmtud_addr a;

	if (pmtud_addr_parse(&a, s) < 0)
		abort();
	return a;
}

/* Fill v from a space-separated list; returns the count. */
static size_t list(struct pmtud_addr *v, const char *s)
{
	char buf[1024], *tok, *rest = buf;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	while ((tok = strsep(&rest, " ")))
		if (*tok)
			v[n++] = A(tok);
	return n;
}

static bool same(const struct pmtud_addr *v, size_t n, const char *s)
{
	struct pmtud_addr w[64];

	return peerset_equal(v, n, w, list(w, s));
}

static void test_normalize(void)
{
	struct pmtud_addr v[16];
	size_t n = list(v, "2001:db8::2 192.0.2.9 2001:db8:0:0::2 192.0.2.1 192.0.2.9 2001:db8::1");

	n = peerset_normalize(v, n);
	CHECK(same(v, n, "192.0.2.1 192.0.2.9 2001:db8::1 2001:db8::2"));
	{
		struct pmtud_addr a = A("2001:db8::2"), b = A("192.0.2.9"), c = A("192.0.2.2");

		CHECK(peerset_contains(v, n, &a) && peerset_contains(v, n, &b));
		CHECK(!peerset_contains(v, n, &c) && !peerset_contains(v, 0, &a));
	}
	CHECK(peerset_count(v, n, AF_INET) == 2 && peerset_count(v, n, AF_INET6) == 2);
	CHECK(peerset_normalize(v, 0) == 0);
}

static void test_merge(void)
{
	struct pmtud_addr a[8], b[8], out[16];
	size_t na = list(a, "192.0.2.1 192.0.2.5 2001:db8::1");
	size_t nb = list(b, "192.0.2.3 192.0.2.5 2001:db8::9");
	bool trunc = false;
	size_t n;

	n = peerset_merge(out, 16, a, na, b, nb, &trunc);
	CHECK(same(out, n, "192.0.2.1 192.0.2.3 192.0.2.5 2001:db8::1 2001:db8::9"));
	CHECK(!trunc);
	n = peerset_merge(out, 3, a, na, b, nb, &trunc);
	CHECK(same(out, n, "192.0.2.1 192.0.2.3 192.0.2.5") && trunc);
	n = peerset_merge(out, 16, a, na, NULL, 0, NULL);
	CHECK(peerset_equal(out, n, a, na));
	n = peerset_merge(out, 16, NULL, 0, b, nb, NULL);
	CHECK(peerset_equal(out, n, b, nb));
	CHECK(peerset_merge(out, 16, NULL, 0, NULL, 0, NULL) == 0);
}

static void test_diff(void)
{
	struct pmtud_addr o[8], n_[8], gone[8], came[8];
	size_t no = list(o, "192.0.2.1 192.0.2.2 2001:db8::1");
	size_t nn = list(n_, "192.0.2.2 192.0.2.3 2001:db8::2");
	size_t ng, nc;

	CHECK(peerset_diff(o, no, n_, nn, gone, &ng, came, &nc));
	CHECK(same(gone, ng, "192.0.2.1 2001:db8::1"));
	CHECK(same(came, nc, "192.0.2.3 2001:db8::2"));
	CHECK(!peerset_diff(o, no, o, no, gone, &ng, came, &nc) && ng == 0 && nc == 0);
	CHECK(peerset_diff(o, no, NULL, 0, NULL, &ng, NULL, &nc) && ng == no && nc == 0);
	CHECK(peerset_diff(NULL, 0, n_, nn, NULL, &ng, NULL, &nc) && ng == 0 && nc == nn);
}

/* Random sets from a small universe: old - gone + came == new. */
static void test_diff_random(void)
{
	struct pmtud_addr o[40], n_[40], gone[40], came[40], r[80];
	unsigned seed = 1, t;

	for (t = 0; t < 10000; t++) {
		size_t no = 0, nn = 0, ng, nc, nr = 0, i, j;

		for (i = 0; i < 40; i++) {
			struct pmtud_addr a;

			memset(&a, 0, sizeof(a));
			a.family = i % 2 ? AF_INET6 : AF_INET;
			a.a[0] = (uint8_t)(i / 2);
			if (rand_r(&seed) % 2)
				o[no++] = a;
			if (rand_r(&seed) % 2)
				n_[nn++] = a;
		}
		no = peerset_normalize(o, no);
		nn = peerset_normalize(n_, nn);
		peerset_diff(o, no, n_, nn, gone, &ng, came, &nc);
		for (i = 0; i < no; i++) {
			for (j = 0; j < ng; j++)
				if (!peerset_cmp(&o[i], &gone[j]))
					break;
			if (j == ng)
				r[nr++] = o[i];
		}
		for (j = 0; j < nc; j++)
			r[nr++] = came[j];
		nr = peerset_normalize(r, nr);
		if (!peerset_equal(r, nr, n_, nn)) {
			CHECK(!"old - gone + came == new");
			return;
		}
	}
}

static void test_answer(void)
{
	struct pmtud_addr cur[8], ans[8];
	size_t n = 0;

	/* The first answer, in any order, with a duplicate. */
	CHECK(peerset_answer(cur, &n, 8, false, ans,
			     list(ans, "192.0.2.7 2001:db8::7 192.0.2.7")) == PEER_RESULT_CHANGED);
	CHECK(same(cur, n, "192.0.2.7 2001:db8::7"));
	CHECK(peerset_answer(cur, &n, 8, false, ans,
			     list(ans, "2001:db8::7 192.0.2.7")) == PEER_RESULT_OK);
	CHECK(peerset_answer(cur, &n, 8, true, ans, 0) == PEER_RESULT_FAILED);
	CHECK(same(cur, n, "192.0.2.7 2001:db8::7"));
	CHECK(peerset_answer(cur, &n, 8, false, ans, 0) == PEER_RESULT_EMPTY);
	CHECK(same(cur, n, "192.0.2.7 2001:db8::7"));
	/* Servers leave: a shrinking answer is applied. */
	CHECK(peerset_answer(cur, &n, 8, false, ans,
			     list(ans, "192.0.2.7")) == PEER_RESULT_CHANGED);
	CHECK(same(cur, n, "192.0.2.7"));
	CHECK(peerset_answer(cur, &n, 2, false, ans,
			     list(ans, "192.0.2.9 192.0.2.8 192.0.2.7")) == PEER_RESULT_CHANGED);
	CHECK(same(cur, n, "192.0.2.7 192.0.2.8"));
	CHECK(!strcmp(peer_result_name(PEER_RESULT_EMPTY), "empty") &&
	      !strcmp(peer_result_name(PEER_RESULT_OK), "ok"));
}

int main(void)
{
	test_normalize();
	test_merge();
	test_diff();
	test_diff_random();
	test_answer();
	return unit_result("test_peerset");
}
