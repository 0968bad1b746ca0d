/* log.h - diagnostics to stderr.
 *
 * Contract: one line per message. Under systemd (JOURNAL_STREAM set)
 * each line gets a syslog priority prefix "<N>" that journald parses;
 * otherwise plain "pmtud-nf: " text. LOG_DEBUG lines are shown only
 * at verbose >= 2. Not for per-packet lines on the hot path unless the
 * caller checks log_verbose() first.
 */
#ifndef PMTUD_LOG_H
#define PMTUD_LOG_H

#include <syslog.h>

void log_init(int verbose);
int log_verbose(void);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
