/* ratelimit.c - token buckets, and a fixed-size per-source table.
 *
 * Per-interface buckets (struct token_bucket) hold their tokens as a
 * double and refill from the time elapsed since the last call.
 *
 * The per-source table is set-associative: 2^k sets of RL_WAYS (8)
 * ways, each set 128 bytes (two cache lines, fingerprints in one, times
 * in the other). A source's key is hashed with SipHash-2-4 under a
 * secret 128-bit key; the low bits pick the set and the whole 64-bit
 * hash is the fingerprint stored in a way. The key itself is not
 * stored, so an entry is 16 bytes, and two sources whose hashes collide
 * (2^-64 per pair) share one bucket.
 *
 * Each entry is a token bucket in "theoretical arrival time" form
 * (GCRA): tat is the time at which the bucket will be full again, so
 *	tokens(now) = burst - max(0, tat - now) / interval,
 * with interval = 1/rate in ns. A packet is allowed iff tokens >= 1,
 * i.e. tat - now <= (burst - 1) * interval, and then tat advances by
 * one interval (from now if it was in the past). This is exactly the
 * continuous-refill bucket of tb_allow(), kept in 8 integer bytes with
 * no drift, and it makes staleness directly comparable: an entry with
 * tat <= now is full, and a full bucket behaves exactly like an absent
 * one (a new source starts full). An empty way (fingerprint 0, tat 0)
 * is therefore just a full bucket too.
 *
 * Eviction: on a miss, the new source takes the way with the smallest
 * tat: an empty or full way if there is one (losing nothing), else the
 * bucket that will be full soonest, i.e. the one that owes the fewest
 * tokens. Consequences, for a table of N entries and W = 8 ways:
 *
 *  - Eviction can only make the limiter more permissive for the
 *    evicted source: when it comes back it gets a full bucket, so it is
 *    allowed at least as often as it would have been, never less. No
 *    pattern of other traffic can starve a source.
 *  - A source S that sends no faster than its rate has, after its last
 *    packet at t, tat = t + interval, and every source allowed a
 *    packet after t has a larger tat. So S is evicted only by a miss
 *    in its set while each of its W - 1 set-mates either was allowed a
 *    packet after t or owes at least as many tokens as S (which, for a
 *    set-mate last allowed before t, means it is drawing on its burst).
 *    In particular: a conforming source that sends at least once per T
 *    is never evicted unless W other keys land in its set within T, or
 *    some set-mates are bursting.
 *  - Keys land in a given set with probability W/N each and cannot be
 *    aimed there without the SipHash key. A flood of F new keys per
 *    second brings F*W/N keys per second into S's set, so S survives
 *    about N/F seconds without sending (W arrivals); e.g. N = 16384 and
 *    F = 10000/s: about 1.6 s.
 *  - Lookups cost one SipHash and a scan of W ways whatever arrives,
 *    and memory is allocated (and touched) once in rl_table_new().
 */
#include "config.h"
#include <errno.h>
#include <float.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ratelimit.h"
#include "siphash.h"

#define RL_WAYS		8
#define RL_MAX_ENTRIES	(UINT32_C(1) << 28)
/* Longest refill span kept, in ns (~31 years): a bucket that slow never
 * refills in practice, and tat + span cannot overflow for ~500 years
 * of uptime. */
#define RL_MAX_SPAN	1e18

/* ---- per-interface bucket ---- */

void tb_init(struct token_bucket *tb, double rate, double burst, uint64_t now_ns)
{
	tb->rate = rate;
	tb->burst = burst;
	tb->tokens = burst;
	tb->last_ns = now_ns;
}

bool tb_allow(struct token_bucket *tb, uint64_t now_ns)
{
	if (!tb_ready(tb, now_ns))
		return false;
	tb->tokens -= 1.0;
	return true;
}

void tb_set_rate(struct token_bucket *tb, double rate, double burst)
{
	bool full = tb->tokens >= tb->burst;

	tb->rate = rate;
	tb->burst = burst;
	if (full || tb->tokens > burst)
		tb->tokens = burst;
}

/* ---- per-source table ---- */

struct rl_set {
	alignas(64) uint64_t fp[RL_WAYS];	/* full SipHash of the key */
	uint64_t tat[RL_WAYS];			/* ns: bucket full again */
};
_Static_assert(sizeof(struct rl_set) == 128, "a set is two cache lines");

struct rl_table {
	struct rl_set *sets;
	uint32_t n_sets;	/* power of two */
	uint64_t interval_ns;	/* 1 / rate */
	uint64_t tau_ns;	/* (burst - 1) / rate: debt still allowed */
	uint64_t now_ns;	/* latest time seen, for rl_table_set_rate() */
	double rate, burst;
	uint8_t key[16];
};

static uint64_t rl_span(double ns)
{
	return ns < RL_MAX_SPAN ? (uint64_t)(ns + 0.5) : (uint64_t)RL_MAX_SPAN;
}

/* Extreme but valid values are clamped rather than refused: above 1e9/s
 * the interval is 1 ns, and spans stop at RL_MAX_SPAN. */
static int rl_params(double rate, double burst, uint64_t *interval, uint64_t *tau)
{
	/* Written so that NaN fails every test. */
	if (!(rate > 0 && rate <= DBL_MAX && burst >= 1 && burst <= DBL_MAX)) {
		errno = EINVAL;
		return -1;
	}
	*interval = rl_span(TB_NS_PER_S / rate);
	if (*interval == 0)
		*interval = 1;
	*tau = rl_span((burst - 1) * (double)*interval);
	return 0;
}

struct rl_table *rl_table_new(uint32_t entries, double rate, double burst,
			      const uint8_t key[16])
{
	struct rl_table *t;
	uint32_t n = RL_WAYS;
	int err;

	if (entries > RL_MAX_ENTRIES) {
		errno = EINVAL;
		return NULL;
	}
	while (n < entries)
		n <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (rl_params(rate, burst, &t->interval_ns, &t->tau_ns) < 0)
		goto fail;
	t->rate = rate;
	t->burst = burst;
	if (siphash_key_init(t->key, key) < 0)
		goto fail;
	t->n_sets = n / RL_WAYS;
	t->sets = aligned_alloc(alignof(struct rl_set),
				(size_t)t->n_sets * sizeof(struct rl_set));
	if (!t->sets)
		goto fail;
	/* Write every page now, so a flood of sources cannot grow RSS. */
	memset(t->sets, 0, (size_t)t->n_sets * sizeof(struct rl_set));
	return t;
fail:
	err = errno;
	rl_table_free(t);
	errno = err;
	return NULL;
}

void rl_table_free(struct rl_table *t)
{
	if (!t)
		return;
	explicit_bzero(t->key, sizeof(t->key));
	free(t->sets);
	free(t);
}

/* The way holding fp, or the one to evict for it: smallest tat. A key
 * hashing to 0 may take an empty way as its own; that way is a full
 * bucket, as a fresh entry would be. */
static unsigned rl_slot(struct rl_set *s, uint64_t fp)
{
	unsigned i, victim = 0;

	for (i = 0; i < RL_WAYS; i++) {
		if (s->fp[i] == fp)
			return i;
		if (s->tat[i] < s->tat[victim])
			victim = i;
	}
	s->fp[victim] = fp;
	s->tat[victim] = 0;
	return victim;
}

bool rl_table_allow(struct rl_table *t, const void *key, size_t keylen,
		    uint64_t now_ns)
{
	uint64_t fp = siphash24(key, keylen, t->key);
	struct rl_set *s = &t->sets[fp & (t->n_sets - 1)];
	unsigned i = rl_slot(s, fp);
	/* A tat in the past means a full bucket; a clock going back just
	 * finds less refilled, never more. */
	uint64_t tat = s->tat[i] > now_ns ? s->tat[i] : now_ns;

	if (now_ns > t->now_ns)
		t->now_ns = now_ns;
	if (tat - now_ns > t->tau_ns)
		return false;
	s->tat[i] = tat + t->interval_ns;
	return true;
}

/* Re-express one entry under the new parameters, as of now. */
static uint64_t rl_rescale(const struct rl_table *t, uint64_t tat, uint64_t now,
			   double burst, uint64_t interval)
{
	double tokens;

	if (tat <= now)
		return tat;	/* full stays full, like an absent source */
	tokens = t->burst - (double)(tat - now) / (double)t->interval_ns;
	if (tokens > burst)
		tokens = burst;
	if (tokens < 0)
		tokens = 0;
	return now + rl_span((burst - tokens) * (double)interval);
}

int rl_table_set_rate(struct rl_table *t, double rate, double burst)
{
	uint64_t interval, tau;
	uint32_t i;
	unsigned w;

	if (rl_params(rate, burst, &interval, &tau) < 0)
		return -1;
	for (i = 0; i < t->n_sets; i++)
		for (w = 0; w < RL_WAYS; w++)
			t->sets[i].tat[w] = rl_rescale(t, t->sets[i].tat[w],
						       t->now_ns, burst, interval);
	t->interval_ns = interval;
	t->tau_ns = tau;
	t->rate = rate;
	t->burst = burst;
	return 0;
}

size_t rl_table_memory(const struct rl_table *t)
{
	return sizeof(*t) + (size_t)t->n_sets * sizeof(struct rl_set);
}

uint64_t ratelimit_now(void)
{
	struct timespec ts;

	/* Cannot fail with a valid clock id; a made-up time would be worse. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		abort();
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}
