/* reload_ctl.c - the --reload helper and the agent's answer to it. */
#include "config.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include "log.h"
#include "reload_ctl.h"

static long long ms_left(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (end->tv_sec - now.tv_sec) * 1000LL +
	       (end->tv_nsec - now.tv_nsec) / 1000000;
}

/* The answer, from pid only: a stray SIGUSR1 from elsewhere is not one. */
static int wait_answer(pid_t pid, const sigset_t *set, int timeout_ms,
		       char *err, size_t errlen)
{
	struct timespec end, ts;
	siginfo_t si;
	long long left;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while ((left = ms_left(&end)) > 0) {
		/* Short waits: notice an agent that died meanwhile. */
		if (left > 200)
			left = 200;
		ts.tv_sec = 0;
		ts.tv_nsec = left * 1000000L;
		if (sigtimedwait(set, &si, &ts) > 0) {
			if (si.si_pid != pid)
				continue;
			return si.si_signo == SIGUSR1 ? 0 : 1;
		}
		if (errno != EAGAIN && errno != EINTR)
			break;
		if (kill(pid, 0) < 0 && errno == ESRCH) {
			snprintf(err, errlen, "pid %d exited during the reload", (int)pid);
			return -1;
		}
	}
	snprintf(err, errlen, "no answer from pid %d within %d ms", (int)pid, timeout_ms);
	return -1;
}

int reload_ctl_request(pid_t pid, int timeout_ms, char *err, size_t errlen)
{
	union sigval v = { .sival_int = RELOAD_CTL_COOKIE };
	sigset_t set, old;
	int rc;

	if (pid <= 1) {
		snprintf(err, errlen, "not a pid: %d", (int)pid);
		return -1;
	}
	/* Blocked before asking: an answer that comes fast stays pending. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0) {
		snprintf(err, errlen, "sigprocmask: %s", strerror(errno));
		return -1;
	}
	if (sigqueue(pid, SIGHUP, v) < 0) {
		snprintf(err, errlen, "cannot signal pid %d: %s", (int)pid, strerror(errno));
		rc = -1;
	} else {
		rc = wait_answer(pid, &set, timeout_ms, err, errlen);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void reload_ctl_begin(void)
{
#ifdef HAVE_LIBSYSTEMD
	struct timespec ts;

	/* MONOTONIC_USEC: what Type=notify-reload (systemd >= 253) wants. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
		   (unsigned long long)ts.tv_nsec / 1000ULL);
#endif
}

void reload_ctl_end(const struct signalfd_siginfo *si, bool applied,
		    const char *status)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notifyf(0, "READY=1\nSTATUS=%s%s", applied ? "" :
		   "last reload failed, configuration unchanged; ", status);
#else
	(void)status;
#endif
	/* Answer only a request: a plain kill -HUP has nobody waiting. */
	if (si->ssi_code != SI_QUEUE || si->ssi_int != RELOAD_CTL_COOKIE)
		return;
	if (kill((pid_t)si->ssi_pid, applied ? SIGUSR1 : SIGUSR2) < 0 && errno != ESRCH)
		log_msg(LOG_WARNING, "reload: cannot answer pid %u: %s",
			si->ssi_pid, strerror(errno));
}
