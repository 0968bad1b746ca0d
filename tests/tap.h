/* tap.h - TAP output and a seeded generator for the unit tests on a
 * simulated clock (test_ratelimit, test_fairshare). Header-only: each
 * test is one translation unit. */
#ifndef PMTUD_TESTS_TAP_H
#define PMTUD_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct tally {
	int n;
	int failed;
};

static void check(struct tally *t, bool cond, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One TAP line: "ok N - ..." or "not ok N - ...". */
static void check(struct tally *t, bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++t->n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		t->failed++;
}

/* The plan, and the exit status: 0 if every check passed. */
static int tap_done(const struct tally *t)
{
	printf("1..%d\n", t->n);
	if (t->failed)
		printf("# %d of %d checks failed\n", t->failed, t->n);
	return t->failed ? 1 : 0;
}

/* splitmix64: reproducible, and a bijection of its state. */
static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

#endif
