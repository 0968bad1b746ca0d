/* test_batch_adapt.c - the NFLOG input's choice between immediate
 * delivery and kernel batching (batch_adapt.c), on a simulated clock.
 *
 * Proves: 1 PTB per ms (the latency benchmark's rate) never batches;
 * a 200 k/s flood batches within 2 ms and stays batching; once the
 * flood ends, the due times bring it back to immediate within two
 * windows without any packet; bursty traffic around the thresholds
 * switches at most once per direction per down window (no flapping);
 * a mode put back with batch_adapt_set() is not counted.
 */
#include "config.h"
#include <stdio.h>
#include "batch_adapt.h"
#include "unit.h"

#define US	1000ULL
#define MS	1000000ULL
#define SEC	1000000000ULL
#define T0	(1000 * SEC)

/* Deliver `rate` packets per second for `dur` ns in receives of
 * `per` packets; returns the time. */
static uint64_t feed(struct batch_adapt *s, uint64_t t, uint64_t dur,
		     uint64_t rate, uint64_t per)
{
	uint64_t step = per * SEC / rate, end = t + dur;

	for (; t < end; t += step)
		batch_adapt_update(s, t, per);
	return t;
}

static void calm_rate(void)
{
	struct batch_adapt s;

	batch_adapt_init(&s, T0);
	feed(&s, T0, 10 * SEC, 1000, 1);
	CHECK(!s.batching);
	CHECK(s.to_batch == 0);
	CHECK(batch_adapt_due(&s) == 0);
	/* 4000/s in bursts of 4 stays below the up rate too. */
	feed(&s, T0 + 10 * SEC, 10 * SEC, 4000, 4);
	CHECK(s.to_batch == 0);
}

static void flood_and_back(void)
{
	struct batch_adapt s;
	uint64_t t = T0, due;
	unsigned i;

	batch_adapt_init(&s, t);
	/* 200 k/s, one packet per receive (threshold 1). */
	for (i = 0; i < 400 && !s.batching; i++, t += 5 * US)
		batch_adapt_update(&s, t, 1);
	CHECK(s.batching);
	CHECK(t - T0 <= 2 * MS);
	CHECK(s.to_batch == 1);
	/* Batches of 600 per 4 ms tick, 5 s: no switch back. */
	t = feed(&s, t, 5 * SEC, 150000, 600);
	CHECK(s.batching);
	CHECK(s.to_immediate == 0);
	/* Silence: nothing arrives. The window holding the flood's end
	 * keeps batching; the next, silent one ends it: back to immediate
	 * within two windows, with updates only at the due times. */
	for (i = 0; i < 3 && s.batching; i++) {
		due = batch_adapt_due(&s);
		CHECK(due > t - 4 * MS && due <= t + (i + 1) * BA_DOWN_WINDOW);
		CHECK(!batch_adapt_update(&s, due - 1, 0));
		batch_adapt_update(&s, due, 0);
	}
	CHECK(!s.batching);
	CHECK(i <= 2);
	CHECK(s.to_immediate == 1);
	CHECK(batch_adapt_due(&s) == 0);
}

static void no_flapping(void)
{
	struct batch_adapt s;
	uint64_t t = T0, sw;
	unsigned i;

	batch_adapt_init(&s, t);
	/* 10 s of 20 ms bursts at 50 k/s every 200 ms (5000/s on average):
	 * each burst would trigger batching, the average keeps it. */
	for (i = 0; i < 50; i++) {
		t = feed(&s, t, 20 * MS, 50000, 50);
		batch_adapt_update(&s, t + 180 * MS, 0);
		t += 180 * MS;
	}
	sw = s.to_batch + s.to_immediate;
	CHECK(s.to_batch >= 1);
	CHECK(sw <= 2 * (10 * SEC / BA_DOWN_WINDOW));
	CHECK(s.to_batch - s.to_immediate <= 1);
	/* 1500/s steady after batching: stays (above the down rate). */
	batch_adapt_init(&s, T0);
	t = feed(&s, T0, 10 * MS, 100000, 10);
	CHECK(s.batching);
	feed(&s, t, 5 * SEC, 1500, 3);
	CHECK(s.batching);
	CHECK(s.to_immediate == 0);
}

static void refused(void)
{
	struct batch_adapt s;
	uint64_t t = T0;

	batch_adapt_init(&s, t);
	CHECK(batch_adapt_update(&s, t, BA_UP_COUNT));
	CHECK(s.batching);
	batch_adapt_set(&s, false, t);	/* the kernel said no */
	CHECK(!s.batching);
	CHECK(s.to_batch == 1 && s.to_immediate == 0);
	/* A fresh window: the next burst asks again. */
	CHECK(!batch_adapt_update(&s, t + 1, BA_UP_COUNT - 1));
	CHECK(batch_adapt_update(&s, t + 2, 1));
}

int main(void)
{
	calm_rate();
	flood_and_back();
	no_flapping();
	refused();
	return unit_result("test_batch_adapt");
}
