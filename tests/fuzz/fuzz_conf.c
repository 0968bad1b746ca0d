/* fuzz_conf.c - libFuzzer target for the configuration loader.
 *
 * The input is the text of /etc/pmtud.json. Loading must either fail
 * with a one-line message or give a configuration whose dump is a
 * fixed point: loading the dump gives the same struct and the same
 * dump again (what --check-config promises). Violations abort().
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond, const char *what, const char *detail)
{
	if (!cond) {
		fprintf(stderr, "fuzz_conf: invariant violated: %s\n%s\n", what,
			detail ? detail : "");
		abort();
	}
}

/* An error is one printable line that names its source. */
static void check_error(const struct conf_error *err)
{
	size_t n = strnlen(err->msg, sizeof(err->msg));

	check(n > 0 && n < sizeof(err->msg), "error message empty or unterminated", NULL);
	check(!strchr(err->msg, '\n'), "error message spans lines", err->msg);
	check(!strncmp(err->msg, "fuzz", 4), "error message does not name the file", err->msg);
}

/* Dump into a malloc'ed string; the caller frees it. */
static char *dump(const struct pmtud_conf *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	check(conf_dump_json(c, f) == 0, "conf_dump_json failed", NULL);
	if (fclose(f) != 0)
		abort();
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pmtud_conf c, back;
	struct conf_error err = { { 0 } };
	char *d1, *d2;
	size_t n1, n2;

	conf_defaults(&c);
	if (conf_load_string(&c, "fuzz", (const char *)data, size, &err) < 0) {
		check_error(&err);
		return 0;
	}
	conf_resolve(&c);
	if (conf_validate(&c, "fuzz", &err) < 0)
		check_error(&err);
	d1 = dump(&c, &n1);

	conf_defaults(&back);
	if (conf_load_string(&back, "fuzz-dump", d1, n1, &err) < 0)
		check(false, "the dump does not load back", err.msg);
	conf_resolve(&back);
	d2 = dump(&back, &n2);
	check(n1 == n2 && memcmp(d1, d2, n1) == 0, "dump(load(dump(x))) != dump(x)", d2);
	check(memcmp(&c, &back, sizeof(c)) == 0, "reloaded struct differs", d1);
	free(d1);
	free(d2);
	return 0;
}
