/* test_fairshare.c - max-min fair share of an interface bucket between
 * sources (src/fairshare.c), on a simulated clock. Exit 0 if every
 * check passes.
 *
 * Each scenario offers PTBs from several sources, each at its own
 * rate (Poisson arrivals from a fixed seed, or evenly spaced), to one
 * interface bucket, and compares the copies each source got with its
 * max-min fair share of the interface rate, computed by water-filling
 * from the rates actually offered in the measuring window.
 * Tolerance: TOL_SHARE of the interface rate per source, over the
 * measuring window (after WARMUP_S). At every copy, the total since
 * the start is checked against burst + rate x t (the cap is exact,
 * not approximate).
 */
#include "config.h"
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "fairshare.h"
#include "unit.h"

#define NS		1000000000.0
#define MAX_SRC		16
#define WARMUP_S	10.0
#define TOL_SHARE	0.03	/* of the interface rate, per source */

static const uint8_t fixed_key[16] = {
	0x51, 0x0e, 0xa7, 0x3c, 0x92, 0x18, 0x6b, 0xd4,
	0x07, 0xfe, 0x3a, 0x85, 0x2c, 0xb1, 0x69, 0x40,
};

/* Max-min fair shares of rate between demands (water-filling). */
static void maxmin(const double *demand, unsigned n, double rate, double *share)
{
	bool done[MAX_SRC] = { false };
	double left = rate;
	unsigned i, open = n;

	while (open) {
		double level = left / open;
		bool fixed = false;

		for (i = 0; i < n; i++)
			if (!done[i] && demand[i] <= level) {
				share[i] = demand[i];
				left -= demand[i];
				done[i] = true;
				open--;
				fixed = true;
			}
		if (fixed)
			continue;
		for (i = 0; i < n; i++)
			if (!done[i])
				share[i] = level;
		break;
	}
}

struct scenario {
	const char *name;
	double rate, burst;
	unsigned n;
	double demand[MAX_SRC];	/* PTBs/s offered per source */
	bool poisson;
	double seconds;
};

struct result {
	double offered[MAX_SRC];	/* PTBs/s in the measuring window */
	double got[MAX_SRC];		/* copies/s in it */
	unsigned long total;
	bool cap_held;
	unsigned long first_second[MAX_SRC];
};

static double next_gap(const struct scenario *sc, unsigned i, uint64_t *seed)
{
	double u;

	if (!sc->poisson)
		return 1.0 / sc->demand[i];
	u = ((double)(splitmix64(seed) >> 11) + 0.5) / 9007199254740992.0;
	return -log(u) / sc->demand[i];
}

static void run(const struct scenario *sc, struct result *r)
{
	static struct fair_table ft;
	struct fair_bucket fb;
	struct fair_grant g;
	double next[MAX_SRC];
	unsigned long got[MAX_SRC] = { 0 }, offered[MAX_SRC] = { 0 };
	uint64_t seed = 42;
	unsigned i, src;

	memset(r, 0, sizeof(*r));
	r->cap_held = true;
	fair_table_init(&ft, fixed_key);
	fair_bucket_init(&fb, sc->rate, sc->burst, 0);
	for (i = 0; i < sc->n; i++)	/* staggered starts, no ties */
		next[i] = (i + 1) * 1e-4 + (sc->poisson ? next_gap(sc, i, &seed) : 0);
	for (;;) {
		double t;
		uint64_t now;
		uint32_t key;

		for (src = 0, i = 1; i < sc->n; i++)
			if (next[i] < next[src])
				src = i;
		t = next[src];
		if (t >= sc->seconds)
			break;
		next[src] += next_gap(sc, src, &seed);
		now = (uint64_t)(t * NS);
		key = src;
		if (t >= WARMUP_S)
			offered[src]++;
		if (!fair_check(&ft, &fb, &key, sizeof(key), now, &g))
			continue;
		fair_take(&fb, &g);
		r->total++;
		if (r->total > sc->burst + sc->rate * t + 1e-6)
			r->cap_held = false;
		if (t < 1.0)
			r->first_second[src]++;
		if (t >= WARMUP_S)
			got[src]++;
	}
	for (i = 0; i < sc->n; i++) {
		r->offered[i] = (double)offered[i] / (sc->seconds - WARMUP_S);
		r->got[i] = (double)got[i] / (sc->seconds - WARMUP_S);
	}
}

static void test_scenario(struct tally *t, const struct scenario *sc)
{
	double share[MAX_SRC];
	struct result r;
	unsigned i;
	bool ok = true;
	char line[512];
	size_t off = 0;

	/* The shares of what was offered (Poisson draws wander from the
	 * nominal rates). */
	run(sc, &r);
	maxmin(r.offered, sc->n, sc->rate, share);
	for (i = 0; i < sc->n; i++) {
		if (fabs(r.got[i] - share[i]) > TOL_SHARE * sc->rate)
			ok = false;
		off += (size_t)snprintf(line + off, sizeof(line) - off, " %.2f->%.2f(%.2f)",
					r.offered[i], r.got[i], share[i]);
	}
	check(t, ok, "%s: rate %g burst %g, offered->got(max-min share)/s:%s",
	      sc->name, sc->rate, sc->burst, line);
	check(t, r.cap_held, "%s: %lu copies in %g s, never over burst + rate x t",
	      sc->name, r.total, sc->seconds);
}

static const struct scenario scenarios[] = {
	{ "lab: busy source and edge router", 10, 10, 2, { 40, 2 }, false, 60 },
	{ "lab, Poisson", 10, 10, 2, { 40, 2 }, true, 60 },
	{ "four sources", 10, 10, 4, { 1, 2, 6, 200 }, true, 100 },
	{ "six sources", 100, 100, 6, { 5, 10, 20, 50, 500, 1000 }, true, 60 },
	{ "three equal floods", 10, 10, 3, { 300, 300, 300 }, false, 60 },
	{ "three unequal floods", 10, 10, 3, { 20, 100, 1000 }, true, 60 },
	{ "nobody over the share", 10, 10, 3, { 1, 2, 3 }, true, 60 },
	{ "one source alone", 10, 10, 1, { 500 }, false, 60 },
	{ "many light sources, one flood", 50, 50, 12,
	  { 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 1000 }, true, 60 },
};

/* A source within its share is never refused: the router of the lab,
 * 2 PTBs/s evenly spaced, against a 40/s flood, loses none. */
static void test_light_never_refused(struct tally *t)
{
	static struct fair_table ft;
	struct fair_bucket fb;
	struct fair_grant g;
	unsigned long offered = 0, refused = 0;
	uint32_t busy = 1, router = 2;
	uint64_t ms;

	fair_table_init(&ft, fixed_key);
	fair_bucket_init(&fb, 10, 10, 0);
	for (ms = 0; ms < 60000; ms++) {
		uint64_t now = ms * 1000000;

		if (ms % 25 == 0 && fair_check(&ft, &fb, &busy, sizeof(busy), now, &g))
			fair_take(&fb, &g);
		if (ms % 500 == 7) {
			offered++;
			if (fair_check(&ft, &fb, &router, sizeof(router), now, &g))
				fair_take(&fb, &g);
			else
				refused++;
		}
	}
	check(t, refused == 0, "edge router at 2/s against a 40/s flood: %lu of %lu refused",
	      refused, offered);
}

/* A lone source on a quiet interface still gets the whole burst. */
static void test_lone_burst(struct tally *t)
{
	static struct fair_table ft;
	struct fair_bucket fb;
	struct fair_grant g;
	uint32_t k = 7;
	unsigned n = 0;

	fair_table_init(&ft, fixed_key);
	fair_bucket_init(&fb, 5, 5, 0);
	while (n < 100 && fair_check(&ft, &fb, &k, sizeof(k), 0, &g)) {
		fair_take(&fb, &g);
		n++;
	}
	check(t, n == 5, "one source, burst 5, 100 PTBs at once: %u copies", n);
}

/* fair_check() alone spends nothing. */
static void test_check_takes_nothing(struct tally *t)
{
	static struct fair_table ft;
	struct fair_bucket fb;
	struct fair_grant g;
	uint32_t k = 3;
	unsigned i, n = 0;

	fair_table_init(&ft, fixed_key);
	fair_bucket_init(&fb, 1, 2, 0);
	for (i = 0; i < 100; i++)
		n += fair_check(&ft, &fb, &k, sizeof(k), 0, &g);
	check(t, n == 100 && fb.tb.tokens == 2 && fb.level == 0,
	      "fair_check: 100 checks take no token and move no level");
}

/* Fixed memory: a flood of distinct sources changes no size, and the
 * cap holds. */
static void test_many_sources(struct tally *t)
{
	static struct fair_table ft;
	struct fair_bucket fb;
	struct fair_grant g;
	unsigned long copies = 0;
	uint32_t i;

	fair_table_init(&ft, fixed_key);
	fair_bucket_init(&fb, 10, 10, 0);
	for (i = 0; i < 1000000; i++)
		if (fair_check(&ft, &fb, &i, sizeof(i), (uint64_t)i * 1000, &g)) {
			fair_take(&fb, &g);
			copies++;
		}
	check(t, copies <= 10 + 10 * 1 && sizeof(ft) == 16 + FAIR_ENTRIES * 16,
	      "10^6 distinct sources in 1 s: %lu copies (cap 20), table %zu bytes",
	      copies, sizeof(ft));
}

int main(void)
{
	struct tally t = { 0, 0 };
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		test_scenario(&t, &scenarios[i]);
	test_light_never_refused(&t);
	test_lone_burst(&t);
	test_check_takes_nothing(&t);
	test_many_sources(&t);
	return tap_done(&t);
}
