/* batch_adapt.c - immediate delivery while calm, kernel batching under
 * load (see batch_adapt.h). Tumbling windows: a counter and a start
 * time, nothing per packet. */
#include "config.h"
#include "batch_adapt.h"

static void window(struct batch_adapt *s, uint64_t now)
{
	s->win_start = now;
	s->win_count = 0;
}

void batch_adapt_init(struct batch_adapt *s, uint64_t now)
{
	*s = (struct batch_adapt){ 0 };
	window(s, now);
}

void batch_adapt_set(struct batch_adapt *s, bool batching, uint64_t now)
{
	s->batching = batching;
	window(s, now);
}

bool batch_adapt_update(struct batch_adapt *s, uint64_t now, uint64_t n)
{
	uint64_t age = now - s->win_start;

	if (!s->batching) {
		/* A window that ended below the rate starts over. */
		if (age >= BA_UP_WINDOW)
			window(s, now);
		s->win_count += n;
		if (s->win_count < BA_UP_COUNT)
			return false;
		s->to_batch++;
		batch_adapt_set(s, true, now);
		return true;
	}
	/* Packets at the window's end still belong to it. */
	s->win_count += n;
	if (age < BA_DOWN_WINDOW)
		return false;
	if (s->win_count >= BA_DOWN_COUNT) {
		window(s, now);
		return false;
	}
	s->to_immediate++;
	batch_adapt_set(s, false, now);
	return true;
}

uint64_t batch_adapt_due(const struct batch_adapt *s)
{
	return s->batching ? s->win_start + BA_DOWN_WINDOW : 0;
}
