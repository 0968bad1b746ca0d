/* main.c - pmtud-nf entry point: configure, then run the agent. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "agent.h"
#include "cli.h"
#include "conf.h"
#include "log.h"
#include "pmtud.h"
#include "reload_ctl.h"

/* --reload PID: the file is valid here; now the agent's verdict. */
static int reload_agent(const struct cli_result *res)
{
	char err[128];
	int rc;

	rc = reload_ctl_request(res->reload_pid, RELOAD_CTL_TIMEOUT_MS, err, sizeof(err));
	if (rc < 0) {
		log_msg(LOG_ERR, "reload: %s", err);
		return EXIT_RUNTIME;
	}
	if (rc > 0) {
		log_msg(LOG_ERR, "reload refused by pid %d, configuration unchanged "
			"(its reason is in its log)", (int)res->reload_pid);
		return EXIT_CONFIG;
	}
	if (!res->quiet)
		log_msg(LOG_NOTICE, "reload: pid %d applied %s", (int)res->reload_pid,
			res->config_path ? res->config_path : "the command line");
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	/* Large (ports list): keep it off the stack. */
	static struct pmtud_conf conf;
	struct cli_result res;
	struct conf_error err;

	log_init(0);
	if (cli_configure(argc, argv, &conf, &res, &err) < 0) {
		log_msg(LOG_ERR, "%s", err.msg);
		return EXIT_CONFIG;
	}
	switch (res.action) {
	case CLI_HELP:
		cli_usage(stdout);
		return EXIT_OK;
	case CLI_VERSION:
		printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return EXIT_OK;
	case CLI_CHECK_CONFIG:
	case CLI_RELOAD:
		if (conf_check_host(&conf, res.config_path ? res.config_path : "command line", &err) < 0) {
			log_msg(LOG_ERR, "%s", err.msg);
			return EXIT_CONFIG;
		}
		if (res.action == CLI_RELOAD)
			return reload_agent(&res);
		if (res.quiet)
			return EXIT_OK;
		return conf_dump_json(&conf, stdout) < 0 ? EXIT_CONFIG : EXIT_OK;
	case CLI_RUN:
		break;
	}
	log_init(conf.verbose);
	return agent_run(&conf, res.config_path, argc, argv);
}
