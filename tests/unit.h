/* unit.h - the unit tests' assertion: CHECK() reports a failed
 * condition with its line and goes on; unit_result() ends the test. */
#ifndef PMTUD_TESTS_UNIT_H
#define PMTUD_TESTS_UNIT_H

#include <stdio.h>

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

/* The exit status: 0 when every check passed. */
static inline int unit_result(const char *name)
{
	if (failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

#endif
