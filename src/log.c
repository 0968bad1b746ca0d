/* log.c - diagnostics to stderr, journald-aware. */
#include "config.h"
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include "log.h"

/* The only file-scope state: set once at start-up, read-only after. */
static struct {
	int verbose;
	bool prefix;	/* stderr is the journal: "<prio>" prefixes */
} log_cfg;

void log_init(int verbose)
{
	log_cfg.verbose = verbose;
	log_cfg.prefix = getenv("JOURNAL_STREAM") != NULL;
}

int log_verbose(void)
{
	return log_cfg.verbose;
}

static const char *prio_word(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	default:
		return "";
	}
}

void log_msg(int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (prio == LOG_DEBUG && log_cfg.verbose < 2)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line so concurrent writers never interleave. */
	if (log_cfg.prefix)
		fprintf(stderr, "<%d>%s\n", prio, line);
	else
		fprintf(stderr, "pmtud-nf: %s%s\n", prio_word(prio), line);
}

void log_limit_init(struct log_limit *l, double rate, double burst, uint64_t now_ns)
{
	tb_init(&l->tb, rate, burst, now_ns);
	l->suppressed = 0;
}

bool log_limit_allow(struct log_limit *l, uint64_t now_ns)
{
	if (tb_allow(&l->tb, now_ns))
		return true;
	l->suppressed++;
	return false;
}

uint64_t log_limit_take(struct log_limit *l)
{
	uint64_t n = l->suppressed;

	l->suppressed = 0;
	return n;
}
