/* ratelimit.h - token buckets: one per interface, and a fixed-size
 * table of per-source buckets.
 *
 * Contract:
 *  - Time is passed in by the caller as nanoseconds of CLOCK_MONOTONIC
 *    (ratelimit_now()), so tests drive a simulated clock.
 *  - No allocation after rl_table_new(); memory does not grow with the
 *    number of sources. Lookups are O(ways), whatever arrives.
 *  - Table slots are chosen with SipHash-2-4 under a random 128-bit
 *    key (getrandom), so an attacker cannot aim collisions.
 *  - A bucket starts full (burst tokens); each allowed packet takes one
 *    token; tokens refill at rate/s up to burst.
 */
#ifndef PMTUD_RATELIMIT_H
#define PMTUD_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TB_NS_PER_S	1000000000.0
/* Sums of fractional refills may land a hair under 1.0 (1/3 + 1/3 +
 * 1/3); a billionth of a token of leniency keeps exact rates exact. */
#define TB_EPSILON	1e-9

struct token_bucket {
	double rate;		/* tokens per second, > 0 */
	double burst;		/* capacity, >= 1 */
	double tokens;
	uint64_t last_ns;
};

void tb_init(struct token_bucket *tb, double rate, double burst, uint64_t now_ns);
/* Take one token if at least one is there. A clock that goes back
 * (now_ns < last_ns) refills nothing. */
bool tb_allow(struct token_bucket *tb, uint64_t now_ns);
/* Refill, then say whether tb_allow() would succeed, taking nothing:
 * lets a caller check this bucket before spending a token elsewhere.
 * Inline: the agent asks it of every packet under a flood, where the
 * clock (read once per batch) has not moved and the answer is no. */
static inline bool tb_ready(struct token_bucket *tb, uint64_t now_ns)
{
	if (now_ns > tb->last_ns) {
		tb->tokens += (double)(now_ns - tb->last_ns) * tb->rate / TB_NS_PER_S;
		if (tb->tokens > tb->burst)
			tb->tokens = tb->burst;
		tb->last_ns = now_ns;
	}
	return tb->tokens >= 1.0 - TB_EPSILON;
}
/* Reload: a full bucket stays full; otherwise tokens are kept, capped
 * at the new burst. */
void tb_set_rate(struct token_bucket *tb, double rate, double burst);

struct rl_table;	/* opaque */

/* entries: rounded up to a power of two (>= ways, <= 2^28). key: 16
 * bytes for SipHash, or NULL to draw one from getrandom(). rate > 0
 * and burst >= 1, both finite. Values no configuration needs are
 * clamped: rate to 1e9/s, 1/rate and (burst - 1)/rate to 1e18 ns
 * (~31 years). NULL with errno set on failure (EINVAL for out-of-range
 * values). */
struct rl_table *rl_table_new(uint32_t entries, double rate, double burst,
			      const uint8_t key[16]);
void rl_table_free(struct rl_table *t);

/* Take a token for this source key (any bytes, up to 40). Sources are
 * told apart by a 64-bit keyed hash: two whose hashes collide (2^-64
 * per pair) share one bucket. */
bool rl_table_allow(struct rl_table *t, const void *key, size_t keylen,
		    uint64_t now_ns);

/* Change rate/burst, keeping the state of known sources (reload), as
 * of the latest now_ns passed to rl_table_allow(): a full bucket stays
 * full, others keep their tokens, capped at the new burst. -1 with
 * errno EINVAL (table unchanged) for values rl_table_new() refuses. */
int rl_table_set_rate(struct rl_table *t, double rate, double burst);

/* Bytes held by the table (constant for its lifetime). */
size_t rl_table_memory(const struct rl_table *t);

uint64_t ratelimit_now(void);	/* CLOCK_MONOTONIC in ns */

#endif
