/* fairshare.h - max-min fair share of an interface's budget between
 * the outer sources (the routers) whose PTBs it relays.
 *
 * Contract:
 *  - The interface's token bucket (iface_rate, iface_burst) stays the
 *    only budget: every copy takes one of its tokens, so the copies of
 *    an interface over t seconds are at most burst + rate x t, exactly
 *    as without fairness. Fairness only decides who gets a token.
 *  - Each interface has a fair level V (copies per source; it never
 *    goes back) and each source s a count S of copies it got, kept in
 *    step with V: S = max(S, V) before a decision, so an idle source
 *    banks nothing. A source under the level plus the burst
 *    (S + 1 <= V + burst) is "within its share" and may take any
 *    token. A source over it may take one only while more than half
 *    the burst (floor(burst / 2)) is left, and raises V to its own
 *    S + 1 - burst: spare tokens lift every source's share by the same
 *    amount. So the level rises by at most one per token nobody within
 *    his share wanted, every busy source gets one copy per unit of
 *    level, and a source sending less than the busy ones get is always
 *    within its share, served first, from the tokens held back: that
 *    is max-min fairness, without queueing a packet. The reserve
 *    needs burst >= 2; with burst < 2 sources share first come, first
 *    served.
 *  - Fixed memory: FAIR_ENTRIES slots of (64-bit fingerprint, S),
 *    inside the struct, nothing allocated. 8-way sets chosen by
 *    SipHash-2-4 under a random key, so collisions cannot be aimed. A
 *    full set evicts its smallest S (the source furthest behind its
 *    level); an evicted source comes back at the level, within its
 *    share: eviction can only favour it.
 *  - Time is passed in (CLOCK_MONOTONIC ns, ratelimit_now()).
 *  - fair_check() decides and changes nothing but the refill;
 *    fair_take() spends what it granted. Nothing may touch the table
 *    or the bucket in between.
 */
#ifndef PMTUD_FAIRSHARE_H
#define PMTUD_FAIRSHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ratelimit.h"

#define FAIR_ENTRIES	4096	/* power of two, multiple of FAIR_WAYS */
#define FAIR_WAYS	8

struct fair_set {
	uint64_t fp[FAIR_WAYS];	/* SipHash of the source key */
	double s[FAIR_WAYS];	/* copies counted against the level */
};

struct fair_table {
	uint8_t key[16];
	struct fair_set set[FAIR_ENTRIES / FAIR_WAYS];
};

/* One per interface. */
struct fair_bucket {
	struct token_bucket tb;	/* the cap: iface_rate, iface_burst */
	double level;		/* V; kept across a reload */
};

/* What fair_check() granted, for fair_take(). */
struct fair_grant {
	double *slot;		/* the source's S */
	double s;		/* its new S */
	double level;		/* the bucket's new V */
	uint64_t now_ns;
};

/* key: 16 bytes, or NULL to draw one from getrandom(). 0, or -1 with
 * errno set. */
int fair_table_init(struct fair_table *t, const uint8_t key[16]);

void fair_bucket_init(struct fair_bucket *b, double rate, double burst, uint64_t now_ns);

/* May this source (any key bytes: the agent passes interface, family
 * and address) have a copy now? Fills *g when it may. */
bool fair_check(struct fair_table *t, struct fair_bucket *b, const void *key,
		size_t keylen, uint64_t now_ns, struct fair_grant *g);

/* Spend the token and the share fair_check() just granted. */
void fair_take(struct fair_bucket *b, const struct fair_grant *g);

#endif
