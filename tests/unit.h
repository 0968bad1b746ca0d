/* unit.h - what the unit tests report with, header-only (each test is
 * one translation unit):
 *  - CHECK(cond): a failed condition is reported with its line and the
 *    test goes on; unit_result() ends the test;
 *  - check(): one TAP line per check, for the tests that name each one
 *    (test_ratelimit, test_fairshare); tap_done() ends the test;
 *  - splitmix64(): a seeded generator for tests on a simulated clock.
 * All inline: a test uses the style it needs. */
#ifndef PMTUD_TESTS_UNIT_H
#define PMTUD_TESTS_UNIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

static inline int *unit_failures(void)
{
	static int n;

	return &n;
}

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		(*unit_failures())++; \
	} \
} while (0)

/* The exit status: 0 when every check passed. */
static inline int unit_result(const char *name)
{
	int failures = *unit_failures();

	if (failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

struct tally {
	int n;
	int failed;
};

static inline void check(struct tally *t, bool cond, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One TAP line: "ok N - ..." or "not ok N - ...". */
static inline void check(struct tally *t, bool cond, const char *fmt, ...)
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
static inline int tap_done(const struct tally *t)
{
	printf("1..%d\n", t->n);
	if (t->failed)
		printf("# %d of %d checks failed\n", t->failed, t->n);
	return t->failed ? 1 : 0;
}

/* splitmix64: reproducible, and a bijection of its state. */
static inline uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

#endif
