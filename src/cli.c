/* cli.c - the command line: getopt_long over the key table's flags
 * (conf_schema.c) plus the few options that are not keys.
 *
 * Flags are collected first and applied after the file is read, so
 * they override it wherever they stand on the line (-c may come last).
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

#define VAL_BASE	0x100	/* getopt value of option i: VAL_BASE + i */

enum { OPT_CONFIG, OPT_CHECK, OPT_QUIET, OPT_RELOAD, OPT_HELP, OPT_VERSION, OPT_N };

/* Options that are not configuration keys (key NULL). */
static const struct conf_flag cli_flags[OPT_N] = {
	[OPT_CONFIG] = { "config", 'c', "FILE", NULL, "configuration file",
			 PMTUD_DEFAULT_CONFIG ", if it exists" },
	[OPT_CHECK] = { "check-config", 0, NULL, NULL,
			"validate the configuration, print it as JSON and exit", NULL },
	[OPT_QUIET] = { "quiet", 'q', NULL, NULL,
			"with --check-config or --reload: print nothing if valid", NULL },
	[OPT_RELOAD] = { "reload", 0, "PID", NULL,
			 "validate, then have agent PID reload and wait for its verdict", NULL },
	[OPT_HELP] = { "help", 'h', NULL, NULL, "show this help and exit", NULL },
	[OPT_VERSION] = { "version", 'V', NULL, NULL, "show the version and exit", NULL },
};

/* A key flag as given, applied once the file is loaded. */
struct given {
	const struct conf_flag *f;
	const char *arg;
};

struct parse {
	struct option *longs;
	char shorts[64];
	struct given *given;
	unsigned n_given;
	const char *config;
	const char *reload_pid;
	bool action[OPT_N];
};

static unsigned n_key_flags(void)
{
	unsigned n = 0;

	while (conf_flag_at(n))
		n++;
	return n;
}

/* Every option in --help order: -c, the key flags, then the actions. */
static const struct conf_flag *flag_at(unsigned i)
{
	unsigned nk = n_key_flags();

	if (i == 0)
		return &cli_flags[OPT_CONFIG];
	if (i - 1 < nk)
		return conf_flag_at(i - 1);
	return i - nk < OPT_N ? &cli_flags[i - nk] : NULL;
}

static int build_options(struct parse *p, struct conf_error *err)
{
	const struct conf_flag *f;
	size_t o = 0;
	unsigned i, n;

	for (n = 0; flag_at(n); n++)
		;
	p->longs = calloc(n + 1, sizeof(*p->longs));
	if (!p->longs) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	/* ':' first: a missing argument returns ':', not '?'. */
	p->shorts[o++] = ':';
	for (i = 0; (f = flag_at(i)); i++) {
		p->longs[i] = (struct option){ f->name,
			f->arg ? required_argument : no_argument, NULL,
			(int)(VAL_BASE + i) };
		if (f->short_opt && o + 3 < sizeof(p->shorts)) {
			p->shorts[o++] = (char)f->short_opt;
			if (f->arg)
				p->shorts[o++] = ':';
		}
	}
	p->shorts[o] = '\0';
	return 0;
}

static const struct conf_flag *flag_of(int val)
{
	const struct conf_flag *f;
	unsigned i;

	if (val <= 0)
		return NULL;
	if (val >= VAL_BASE)
		return flag_at((unsigned)(val - VAL_BASE));
	for (i = 0; (f = flag_at(i)); i++)
		if (f->short_opt == val)
			return f;
	return NULL;
}

/* How many long options start with the text of s (up to any '='). */
static unsigned prefix_matches(const struct parse *p, const char *s)
{
	size_t n = strcspn(s, "=");
	unsigned i, m = 0;

	for (i = 0; p->longs[i].name; i++)
		if (!strncmp(p->longs[i].name, s, n))
			m++;
	return m;
}

/* getopt stays silent (opterr = 0); this is the one line it would say. */
static int opt_error(const struct parse *p, int ret, char **argv,
		     struct conf_error *err)
{
	const char *word = argv[optind - 1];
	const struct conf_flag *f = flag_of(optopt);
	char *m = err->msg;
	size_t len = sizeof(err->msg);

	if (ret == ':' && f && optopt >= VAL_BASE)
		snprintf(m, len, "command line: option '--%s' requires an argument", f->name);
	else if (ret == ':')
		snprintf(m, len, "command line: option '-%c' requires an argument", optopt);
	else if (f && optopt >= VAL_BASE)
		snprintf(m, len, "command line: option '--%s' doesn't allow an argument", f->name);
	else if (optopt)
		snprintf(m, len, "command line: invalid option '-%c'", optopt);
	else if (!strncmp(word, "--", 2) && prefix_matches(p, word + 2) > 1)
		snprintf(m, len, "command line: ambiguous option '%s'", word);
	else
		snprintf(m, len, "command line: unrecognized option '%s'", word);
	strncat(m, " (see --help)", len - strlen(m) - 1);
	return -1;
}

static void take(struct parse *p, const struct conf_flag *f)
{
	if (f->key) {
		p->given[p->n_given++] = (struct given){ f, optarg };
		return;
	}
	if (f == &cli_flags[OPT_CONFIG])
		p->config = optarg;
	if (f == &cli_flags[OPT_RELOAD])
		p->reload_pid = optarg;
	p->action[f - cli_flags] = true;
}

static int scan(struct parse *p, int argc, char **argv, struct conf_error *err)
{
	const struct conf_flag *f;
	int ret;

	p->given = calloc((size_t)argc + 1, sizeof(*p->given));
	if (!p->given) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	optind = 0;	/* restart the scan (glibc and musl) */
	opterr = 0;
	while ((ret = getopt_long(argc, argv, p->shorts, p->longs, NULL)) != -1) {
		f = ret == '?' || ret == ':' ? NULL : flag_of(ret);
		if (!f)
			return opt_error(p, ret, argv, err);
		take(p, f);
	}
	if (optind < argc) {
		snprintf(err->msg, sizeof(err->msg),
			 "command line: unexpected argument '%.200s' (see --help)",
			 argv[optind]);
		return -1;
	}
	return 0;
}

/* -c FILE must exist; the default file only if it is there. */
static int load(const struct parse *p, struct pmtud_conf *c,
		struct cli_result *res, struct conf_error *err)
{
	const char *path = p->config ? p->config : PMTUD_DEFAULT_CONFIG;

	conf_defaults(c);
	if (!p->config && access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (conf_load_file(c, path, true, err) < 0)
		return -1;
	res->config_path = path;
	return 0;
}

/* A list flag given again adds to what its first use set. */
static int apply(const struct parse *p, struct pmtud_conf *c,
		 struct conf_error *err)
{
	unsigned i, j;

	for (i = 0; i < p->n_given; i++) {
		bool again = false;

		for (j = 0; j < i && !again; j++)
			again = p->given[j].f == p->given[i].f;
		if (conf_set_flag(c, p->given[i].f, p->given[i].arg, again, err) < 0)
			return -1;
	}
	return 0;
}

/* --reload's argument: systemd's $MAINPID, a decimal pid > 1. */
static int parse_pid(const char *s, pid_t *pid, struct conf_error *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 1 || v > 0x3fffffff) {
		snprintf(err->msg, sizeof(err->msg),
			 "command line: --reload: not a process id: '%.40s'", s);
		return -1;
	}
	*pid = (pid_t)v;
	return 0;
}

static int configure(struct parse *p, int argc, char **argv,
		     struct pmtud_conf *c, struct cli_result *res,
		     struct conf_error *err)
{
	if (build_options(p, err) < 0 || scan(p, argc, argv, err) < 0)
		return -1;
	if (p->action[OPT_HELP] || p->action[OPT_VERSION]) {
		res->action = p->action[OPT_HELP] ? CLI_HELP : CLI_VERSION;
		return 0;
	}
	if (load(p, c, res, err) < 0 || apply(p, c, err) < 0)
		return -1;
	conf_resolve(c);
	if (conf_validate(c, res->config_path ? res->config_path : "command line", err) < 0)
		return -1;
	res->quiet = p->action[OPT_QUIET];
	res->action = p->action[OPT_CHECK] ? CLI_CHECK_CONFIG : CLI_RUN;
	if (p->action[OPT_RELOAD]) {
		res->action = CLI_RELOAD;
		return parse_pid(p->reload_pid, &res->reload_pid, err);
	}
	return 0;
}

int cli_configure(int argc, char **argv, struct pmtud_conf *c,
		  struct cli_result *res, struct conf_error *err)
{
	struct parse p = { 0 };
	int rc;

	res->action = CLI_RUN;
	res->config_path = NULL;
	res->quiet = false;
	res->reload_pid = 0;
	rc = configure(&p, argc, argv, c, res, err);
	free(p.longs);
	free(p.given);
	return rc;
}

static void usage_line(FILE *out, const struct conf_flag *f)
{
	char left[64], sh[8] = "    ";

	if (f->short_opt)
		snprintf(sh, sizeof(sh), "-%c, ", f->short_opt);
	snprintf(left, sizeof(left), "%s--%s%s%s", sh, f->name,
		 f->arg ? " " : "", f->arg ? f->arg : "");
	fprintf(out, "  %-28s %s", left, f->doc);
	if (f->key)
		fprintf(out, " [%s; %s%s]", f->key, f->def ? "default " : "required",
			f->def ? f->def : "");
	else if (f->def)
		fprintf(out, " [default %s]", f->def);
	fputc('\n', out);
}

void cli_usage(FILE *out)
{
	const struct conf_flag *f;
	unsigned i;

	fprintf(out, "Usage: %s [OPTION]...\n"
		"Relay ICMP \"fragmentation needed\" and ICMPv6 \"packet too big\" errors\n"
		"as Ethernet broadcasts, so that the server behind an anycast address\n"
		"that owns the flow receives them too.\n\n"
		"Options override the configuration key shown in brackets; a list\n"
		"option replaces the file's list, and adds to it when repeated.\n\n",
		PACKAGE_NAME);
	for (i = 0; (f = flag_at(i)); i++)
		usage_line(out, f);
	fprintf(out, "\nExit status:\n"
		"  %d  success; with --check-config: the configuration is valid;\n"
		"     with --reload: the agent applied it\n"
		"  %d  invalid configuration file or command line; with --reload:\n"
		"     the agent refused it and runs the previous one\n"
		"  %d  the nftables table could not be installed\n"
		"  %d  the NFLOG/NFQUEUE input could not be bound (e.g. group busy)\n"
		"  %d  the forwarding socket could not be opened\n"
		"  %d  fatal error while running; with --reload: no answer\n",
		EXIT_OK, EXIT_CONFIG, EXIT_RULES, EXIT_INPUT, EXIT_OUTPUT, EXIT_RUNTIME);
}
