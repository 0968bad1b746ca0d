/* test_prelimit_values.c - the pre-limit's rate and burst (rules_expr.c)
 * for any configured value.
 *
 * Proves: the usual values are 4 x iface_rate and 4 x iface_burst,
 * rounded up; rates under one a second give 1 (the kernel refuses 0),
 * huge ones 1e9 (no overflow in the kernel's token arithmetic), NaN and
 * negative ones 1; bursts of 2^30 and more give 2^32 - 1 instead of
 * wrapping; prelimit_rate 0 gives 1, 2^32 - 1 gives 1e9. Run under
 * UBSan (tests/sanitize.sh builds) no conversion is out of range.
 */
#include "config.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "rules_expr.h"
#include "unit.h"

/* The per-source values for iface_rate, iface_burst. */
static void src(double rate, double burst, uint64_t want_rate, uint32_t want_burst)
{
	struct pmtud_conf c;
	uint64_t r;
	uint32_t b;

	memset(&c, 0, sizeof(c));
	c.iface_rate = rate;
	c.iface_burst = burst;
	rules_pre_source(&c, &r, &b);
	if (r != want_rate || b != want_burst) {
		fprintf(stderr, "iface_rate %g burst %g: got %llu/%u, want %llu/%u\n",
			rate, burst, (unsigned long long)r, b,
			(unsigned long long)want_rate, want_burst);
		(*unit_failures())++;
	}
}

/* The per-family rate (= burst) for prelimit_rate. */
static void all(uint32_t prelimit_rate, uint32_t want)
{
	struct pmtud_conf c;
	uint32_t got;

	memset(&c, 0, sizeof(c));
	c.prelimit_rate = prelimit_rate;
	got = rules_pre_all(&c);
	if (got != want) {
		fprintf(stderr, "prelimit_rate %u: got %u, want %u\n",
			prelimit_rate, got, want);
		(*unit_failures())++;
	}
}

int main(void)
{
	src(10, 10, 40, 40);			/* the defaults */
	src(2.5, 2.5, 10, 10);
	src(10.1, 10.1, 41, 41);		/* rounded up */
	src(0.0001, 0.0001, 1, 1);		/* was 0: refused */
	src(0, 0, 1, 1);
	src(-5, -5, 1, 1);
	src(NAN, NAN, 1, 1);
	src(1e19, 1e19, 1000000000, 4294967295u);	/* was undefined */
	src(INFINITY, INFINITY, 1000000000, 4294967295u);
	src(1e9, 1073741824.0, 1000000000, 4294967295u);	/* burst 2^30 */
	src(2.5e8, 1073741823.75, 1000000000, 4294967295u);
	all(10000, 10000);
	all(0, 1);
	all(UINT32_MAX, 1000000000);
	return unit_result("test_prelimit_values");
}
