/* reload_ctl.h - a reload that answers: the --reload helper's request
 * and the agent's verdict.
 *
 * Contract: reload_ctl_request() (the ExecReload= side, run as the
 * agent's user) queues SIGHUP to the agent with a cookie, then waits
 * for the answer: SIGUSR1 applied, SIGUSR2 refused, both from the
 * agent's pid. A plain SIGHUP (kill -HUP) still reloads, unanswered.
 * The agent brackets every reload with RELOADING=1 (and MONOTONIC_USEC)
 * and READY=1 to systemd, so `systemctl reload` waits for it, and
 * answers a queued request after READY=1. No state kept.
 */
#ifndef PMTUD_RELOAD_CTL_H
#define PMTUD_RELOAD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/signalfd.h>
#include <sys/types.h>

#define RELOAD_CTL_COOKIE	0x52454c44	/* "RELD": si_value of a request */
#define RELOAD_CTL_TIMEOUT_MS	30000

/* Returns 0 applied, 1 refused (see the agent's log), -1 no answer
 * (err says why: no such process, not ours, timeout). */
int reload_ctl_request(pid_t pid, int timeout_ms, char *err, size_t errlen);

/* Agent side, around reload(): begin before, end after. */
void reload_ctl_begin(void);
void reload_ctl_end(const struct signalfd_siginfo *si, bool applied,
		    const char *status);

#endif
