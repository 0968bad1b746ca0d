/* dedup.h - relay identical PTBs once per window.
 *
 * Contract:
 *  - A PTB is identified by (family, outer source = the router, quoted
 *    source, quoted destination, quoted protocol, quoted ports, MTU):
 *    what a router repeats for every oversized segment of one flow.
 *    The IP ID, checksums and the rest of the quote are left out.
 *  - Fixed memory: DEDUP_ENTRIES slots of (64-bit fingerprint,
 *    expiry), inside the struct; nothing is allocated, ever. Slots are
 *    2-way sets chosen by SipHash-2-4 under a random key, so a sender
 *    cannot aim collisions; a full set evicts the entry expiring first.
 *    Eviction only costs an extra copy, which the rate limits bound.
 *  - Time is passed in (CLOCK_MONOTONIC ns, ratelimit_now()), so tests
 *    drive a simulated clock.
 *  - dedup_fingerprint() remembers the last tuples it hashed
 *    (DEDUP_MEMO, 2-way sets, compared in full): a router repeating
 *    one PTB (or an IPv4 and an IPv6 one), the common flood, costs a
 *    compare instead of a SipHash. The memo only ever returns the hash
 *    of the very same tuple.
 *  - dedup_seen() only looks; dedup_record() starts the window, and
 *    the agent calls it once a copy went out: a PTB the rate limits
 *    held back does not silence its repetitions. A duplicate does not
 *    extend the window, so a steady repetition is relayed once per
 *    window.
 */
#ifndef PMTUD_DEDUP_H
#define PMTUD_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "classify.h"

#define DEDUP_ENTRIES	4096	/* power of two */
#define DEDUP_WAYS	2

struct dedup_slot {
	uint64_t fp;		/* SipHash of the tuple */
	uint64_t expiry_ns;	/* 0: empty */
};

#define DEDUP_MEMO	8	/* 2-way sets: even */

/* A tuple as 8 words (dedup.c), and its fingerprint. */
struct dedup_memo {
	uint64_t w[8];		/* w[0] == 0: empty (a tuple has a family) */
	uint64_t fp;
};

struct dedup {
	uint64_t window_ns;	/* 0: off */
	uint8_t key[16];
	struct dedup_slot slot[DEDUP_ENTRIES];
	struct dedup_memo memo[DEDUP_MEMO];
	uint8_t memo_next[DEDUP_MEMO / 2];	/* way a miss replaces */
};

/* window in seconds (0: off; capped at one hour). key: 16 bytes, or
 * NULL to draw one from getrandom(). 0, or -1 with errno set. */
int dedup_init(struct dedup *d, double window_s, const uint8_t key[16]);

/* Reload: known entries keep their expiry; later ones use the new
 * window. 0 turns the table off (dedup_seen() then says false). */
void dedup_set_window(struct dedup *d, double window_s);

/* The tuple's fingerprint, for dedup_seen() and dedup_record(). */
uint64_t dedup_fingerprint(struct dedup *d, const struct ptb_info *info);

/* Was this fingerprint recorded less than a window before now_ns? */
bool dedup_seen(const struct dedup *d, uint64_t fp, uint64_t now_ns);

/* Start a window for fp at now_ns (no-op when off). */
void dedup_record(struct dedup *d, uint64_t fp, uint64_t now_ns);

#endif
