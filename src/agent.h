/* agent.h - the running daemon: privileged setup, then one event loop.
 *
 * Contract: agent_run() owns every piece of runtime state in one
 * struct agent (no other mutable globals). It resolves interfaces,
 * installs the rules, binds the input, opens the forwarder, then loops
 * on epoll over the input socket, a signalfd (SIGHUP reload, SIGUSR1
 * counters) and a stats timerfd until SIGTERM/SIGINT.
 * Returns an exit code from enum pmtud_exit; on every path out, the
 * table is removed and sockets closed.
 */
#ifndef PMTUD_AGENT_H
#define PMTUD_AGENT_H

#include "conf.h"

/* c is copied: the agent owns its configuration. argc/argv are kept
 * (not copied) for SIGHUP, which runs cli_configure() on them again:
 * the file, then the same flags on top. */
int agent_run(const struct pmtud_conf *c, const char *config_path,
	      int argc, char **argv);

#endif
