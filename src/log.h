/* log.h - diagnostics to stderr.
 *
 * Contract: one line per message. Under systemd (JOURNAL_STREAM set)
 * each line gets a syslog priority prefix "<N>" that journald parses;
 * otherwise plain "pmtud-nf: " text. LOG_DEBUG lines are shown only
 * at verbose >= 2. Not for per-packet lines on the hot path unless the
 * caller checks log_verbose() first and passes a struct log_limit.
 *
 * Verbose levels: 0 start, stop, reloads, warnings and errors; 1 adds
 * one line per packet decision (rate-limited); 2 adds debug lines;
 * 3 adds a hex dump of each logged packet (same limit).
 */
#ifndef PMTUD_LOG_H
#define PMTUD_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>
#include "ratelimit.h"

void log_init(int verbose);
int log_verbose(void);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Per-packet lines (verbose >= 1) go through a token bucket so that a
 * flood cannot flood the journal: LOG_PACKET_BURST lines at once, then
 * LOG_PACKET_RATE per second. Pure (time passed in, CLOCK_MONOTONIC
 * ns); the caller owns the struct and reports what was suppressed. */
#define LOG_PACKET_RATE		20.0
#define LOG_PACKET_BURST	20.0

struct log_limit {
	struct token_bucket tb;
	uint64_t suppressed;	/* lines refused since the last log_limit_take() */
};

void log_limit_init(struct log_limit *l, double rate, double burst, uint64_t now_ns);
/* True: write the line. False: it is counted as suppressed. */
bool log_limit_allow(struct log_limit *l, uint64_t now_ns);
/* Lines suppressed since the last call (then 0 again), for one
 * "N per-packet log lines suppressed" line. */
uint64_t log_limit_take(struct log_limit *l);

#endif
