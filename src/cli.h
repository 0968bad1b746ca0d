/* cli.h - command line of pmtud-nf.
 *
 * Contract: builds the effective configuration in this order:
 * conf_defaults(), the file (-c FILE, else /etc/pmtud.json if present),
 * then every flag given, which overrides the file; then conf_validate().
 * No other side effects (prints nothing; main prints help/version).
 */
#ifndef PMTUD_CLI_H
#define PMTUD_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "conf.h"

enum cli_action {
	CLI_RUN = 0,
	CLI_CHECK_CONFIG,	/* --check-config */
	CLI_RELOAD,		/* --reload PID */
	CLI_HELP,		/* --help */
	CLI_VERSION,		/* --version */
};

struct cli_result {
	enum cli_action action;
	const char *config_path;	/* file that was read, or NULL */
	bool quiet;			/* --quiet */
	pid_t reload_pid;		/* --reload PID */
};

/* Returns 0 and fills res and c, or -1 with err filled (exit 1). */
int cli_configure(int argc, char **argv, struct pmtud_conf *c,
		  struct cli_result *res, struct conf_error *err);

/* The --help text: every option, one line each. */
void cli_usage(FILE *out);

#endif
