/* fairshare.c - max-min fair share of an interface bucket between
 * sources (contract and reasoning in fairshare.h).
 *
 * Why a level and not a bucket per source at rate / N: N (the sources
 * active now) is not known with fixed memory, and rate / N is not the
 * max-min share anyway when some sources send less than it. The level
 * finds the share by itself: it rises only on tokens that every source
 * within its share left over, so it climbs exactly as fast as the busy
 * sources can be given equal amounts of what the others leave.
 *
 * Why a reserve: a PTB is decided when it arrives (nothing is queued),
 * so a quiet router's PTB is served at once only if a token is there
 * when it comes. Busy sources leave floor(burst / 2) tokens; sources
 * within their share may take those. The reserve costs no rate (it is
 * refilled, not lost) and only delays a busy source's burst; a source
 * alone on a quiet interface still gets the whole burst, being within
 * its share for burst copies.
 */
#include "config.h"
#include <string.h>
#include "fairshare.h"
#include "siphash.h"

#define NSETS	(FAIR_ENTRIES / FAIR_WAYS)
/* As in ratelimit.c: sums of fractional refills may land a hair under
 * a whole token. */
#define FAIR_EPSILON	1e-9

_Static_assert((NSETS & (NSETS - 1)) == 0, "FAIR_ENTRIES / FAIR_WAYS: power of two");

int fair_table_init(struct fair_table *t, const uint8_t key[16])
{
	memset(t, 0, sizeof(*t));
	return siphash_key_init(t->key, key);
}

void fair_bucket_init(struct fair_bucket *b, double rate, double burst, uint64_t now_ns)
{
	tb_init(&b->tb, rate, burst, now_ns);
	b->level = 0;
}

/* The source's S, or the slot to take for it: the smallest S, which
 * counts least against any level. A new source starts at 0, i.e. at
 * the level once max(S, V) is applied. */
static double *fair_slot(struct fair_table *t, const void *key, size_t keylen)
{
	uint64_t fp = siphash24(key, keylen, t->key);
	struct fair_set *s = &t->set[fp & (NSETS - 1)];
	unsigned i, victim = 0;

	for (i = 0; i < FAIR_WAYS; i++) {
		if (s->fp[i] == fp)
			return &s->s[i];
		if (s->s[i] < s->s[victim])
			victim = i;
	}
	s->fp[victim] = fp;
	s->s[victim] = 0;
	return &s->s[victim];
}

/* Tokens a source over its share must leave to the others. */
static double fair_reserve(const struct token_bucket *tb)
{
	double half = tb->burst / 2;

	/* Doubles from 2^52 on are whole already; below, the cast is
	 * defined and cuts the fraction. */
	return half < 4503599627370496.0 ? (double)(uint64_t)half : half;
}

bool fair_check(struct fair_table *t, struct fair_bucket *b, const void *key,
		size_t keylen, uint64_t now_ns, struct fair_grant *g)
{
	double *slot, s;

	if (!tb_ready(&b->tb, now_ns))
		return false;
	slot = fair_slot(t, key, keylen);
	s = *slot > b->level ? *slot : b->level;
	g->slot = slot;
	g->s = s + 1;
	g->level = b->level;
	g->now_ns = now_ns;
	if (s + 1 <= b->level + b->tb.burst + FAIR_EPSILON)
		return true;	/* within its share */
	if (b->tb.tokens < fair_reserve(&b->tb) + 1 - FAIR_EPSILON)
		return false;	/* over it, and the rest is held back */
	g->level = s + 1 - b->tb.burst;
	return true;
}

void fair_take(struct fair_bucket *b, const struct fair_grant *g)
{
	tb_allow(&b->tb, g->now_ns);
	*g->slot = g->s;
	b->level = g->level;
}
