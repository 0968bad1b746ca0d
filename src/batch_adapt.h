/* batch_adapt.h - when the NFLOG input lets the kernel batch.
 *
 * A queue threshold of 1 delivers a lone PTB at once but costs one
 * netlink message (skb) and one receive per PTB; kernel batching
 * (threshold > 1, flush timeout 0) costs a fraction of that per PTB
 * but holds a lone PTB until the next timer tick. This module picks
 * one from the input's own rate.
 *
 * Contract: pure logic on the caller's clock (CLOCK_MONOTONIC ns), no
 * I/O, no allocation; the caller applies the mode to the kernel.
 *  - Starts in immediate mode (threshold 1).
 *  - batch_adapt_update(s, now, n) after each receive that delivered n
 *    packets (n may be 0). Immediate -> batching once BA_UP_COUNT
 *    packets arrive within one BA_UP_WINDOW (>= 5120/s); batching ->
 *    immediate when a whole BA_DOWN_WINDOW ends with fewer than
 *    BA_DOWN_COUNT packets (< 1000/s). The gap between the two rates
 *    and the dwell of at least one BA_DOWN_WINDOW in batching mode are
 *    the hysteresis: at most one round trip per BA_DOWN_WINDOW.
 *    Returns true when the mode changed; then the caller applies
 *    s->batching, or puts the old mode back with batch_adapt_set() if
 *    it could not. Every change is counted (to_batch, to_immediate).
 *  - batch_adapt_due(s): the time at which an update is needed even
 *    without packets (the end of the batching window, so calm is seen
 *    with no traffic at all), 0 when none is.
 */
#ifndef PMTUD_BATCH_ADAPT_H
#define PMTUD_BATCH_ADAPT_H

#include <stdbool.h>
#include <stdint.h>

#define BA_UP_WINDOW	50000000ULL	/* 50 ms */
#define BA_UP_COUNT	256
#define BA_DOWN_WINDOW	500000000ULL	/* 500 ms */
#define BA_DOWN_COUNT	500

struct batch_adapt {
	bool batching;
	uint64_t win_start;	/* current window, ns */
	uint64_t win_count;	/* packets in it */
	uint64_t to_batch;	/* switches, for the metrics */
	uint64_t to_immediate;
};

void batch_adapt_init(struct batch_adapt *s, uint64_t now);
bool batch_adapt_update(struct batch_adapt *s, uint64_t now, uint64_t n);
/* Put a mode back (a switch the kernel refused): not counted. */
void batch_adapt_set(struct batch_adapt *s, bool batching, uint64_t now);
uint64_t batch_adapt_due(const struct batch_adapt *s);

#endif
