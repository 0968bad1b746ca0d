/* metrics.c - one list of counters, two renderings: the Prometheus
 * text format and the key=value log line.
 *
 * walk() is the list. It calls family() once per metric family, then
 * sample() once per series; each renderer implements both. A family
 * whose series all carry a label (dropped, ratelimited, reloads) is
 * still one family: one HELP and one TYPE line, then its samples.
 */
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "metrics.h"

#define PREFIX	"pmtud_"
#define SUFFIX	"_total"

struct sink {
	void (*family)(struct sink *s, const char *name, const char *help);
	void (*gauge)(struct sink *s, const char *name, const char *help);
	/* label NULL: a series without labels. key: its log line name. */
	void (*sample)(struct sink *s, const char *name, const char *label,
		       const char *value, const char *key, uint64_t n);
	/* A series with several labels, rendered already ("a=\"x\",b=\"y\"":
	 * values from fixed tables, nothing to escape). */
	void (*series)(struct sink *s, const char *name, const char *labels, uint64_t n);
	FILE *f;		/* prom */
	char *buf;		/* line */
	size_t len, off;
	unsigned want, at;	/* owner line: the family wanted, the current one + 1 */
	bool in_gauge;		/* prom: the current family is a gauge */
};

static void one(struct sink *s, const char *name, const char *help,
		const char *key, uint64_t n)
{
	s->family(s, name, help);
	s->sample(s, name, NULL, NULL, key, n);
}

static void walk(struct sink *s, const struct metrics_view *v)
{
	const struct counters *c = v->c;
	char key[PMTUD_ADDRSTRLEN + 16];
	unsigned i;

	one(s, "received", "Packets the kernel handed to the agent (captured PTB candidates).",
	    "received", c->received);
	one(s, "forwarded", "Broadcast copies sent (in dry run: decided, not sent).",
	    "forwarded", c->forwarded);
	s->family(s, "dropped", "Packets the classifier refused, by reason.");
	for (i = 1; i < REASON_MAX; i++) {
		const char *r = classify_reason_name((enum classify_reason)i);

		s->sample(s, "dropped", "reason", r, r, c->dropped[i]);
	}
	one(s, "unknown_iface", "Valid PTBs that arrived on an interface not configured.",
	    "unknown_iface", c->unknown_iface);
	one(s, "deduplicated", "Valid PTBs identical to one relayed less than dedup_window ago.",
	    "deduplicated", c->deduplicated);
	s->family(s, "ratelimited", "Valid PTBs not relayed because a rate limit was exceeded.");
	s->sample(s, "ratelimited", "limit", "source", "limited_source", c->limited_source);
	s->sample(s, "ratelimited", "limit", "iface", "limited_iface", c->limited_iface);
	one(s, "shed", "Packets not classified because their interface had no token for a copy (load shedding under a flood).",
	    "shed", c->shed);
	one(s, "send_errors", "Copies the kernel refused to send.",
	    "send_errors", c->send_errors);
	one(s, "input_lost_enobufs", "Input socket overruns (ENOBUFS): the kernel dropped messages.",
	    "lost_enobufs", c->input_enobufs);
	one(s, "input_seq_gaps", "Packets the kernel could not queue, from NFLOG sequence numbers.",
	    "seq_gaps", c->input_seq_gaps);
	s->family(s, "reloads", "Configuration reloads (SIGHUP), by result.");
	s->sample(s, "reloads", "result", "ok", "reloads_ok", c->reloads_ok);
	s->sample(s, "reloads", "result", "failed", "reloads_failed", c->reloads_failed);
	one(s, "log_suppressed", "Per-packet log lines suppressed by the log rate limit.",
	    "log_suppressed", c->log_suppressed);
	s->family(s, "input_mode_switches", "NFLOG input switches between immediate delivery and kernel batching, by new mode.");
	s->sample(s, "input_mode_switches", "mode", "batch", "to_batch", c->input_to_batch);
	s->sample(s, "input_mode_switches", "mode", "immediate", "to_immediate", c->input_to_immediate);
	if (!v->peers_on && !v->n_peers)
		return;
	s->gauge(s, "peers", "Peers in the current set (addresses and resolved names), by family.");
	s->sample(s, "peers", "family", "ipv4", "peers_ipv4", v->peers_family[0]);
	s->sample(s, "peers", "family", "ipv6", "peers_ipv6", v->peers_family[1]);
	s->family(s, "peer_resolve", "Answers to the queries for peer host names, by result.");
	for (i = 0; i < PEER_RESULT_MAX; i++) {
		const char *r = peer_result_name((enum peer_result)i);

		snprintf(key, sizeof(key), "resolve_%s", r);
		s->sample(s, "peer_resolve", "result", r, key, c->peer_resolve[i]);
	}
	if (!v->n_peers)
		return;
	s->family(s, "peer_sent", "Copies sent to each peer.");
	for (i = 0; i < v->n_peers; i++) {
		snprintf(key, sizeof(key), "peer_sent[%s]", v->peers[i].name);
		s->sample(s, "peer_sent", "peer", v->peers[i].name, key, v->peers[i].sent);
	}
	s->family(s, "peer_errors", "Copies to each peer that could not be sent.");
	for (i = 0; i < v->n_peers; i++) {
		snprintf(key, sizeof(key), "peer_errors[%s]", v->peers[i].name);
		s->sample(s, "peer_errors", "peer", v->peers[i].name, key, v->peers[i].errors);
	}
}

/* ---- flow owners (owner.c) -------------------------------------------- */

static const char *const owner_names[OWNER_KIND_MAX] = {
	[OWNER_LOCAL] = "local", [OWNER_REMOTE] = "remote", [OWNER_UNKNOWN] = "unknown",
};
static const char *const lookup_names[OWNER_RESULT_MAX] = {
	[OWNER_FOUND] = "found", [OWNER_ABSENT] = "absent",
	[OWNER_ERROR] = "error", [OWNER_LIMITED] = "limited",
};
static const char *const via_names[VIA_MAX] = {
	[VIA_BROADCAST] = "broadcast", [VIA_PEER] = "peer",
};
static const char *const family_names[CNT_FAMILIES] = { "4", "6" };

const char *metrics_owner_name(enum owner_kind k)
{
	return (unsigned)k < OWNER_KIND_MAX ? owner_names[k] : "?";
}

const char *metrics_lookup_name(enum owner_result r)
{
	return (unsigned)r < OWNER_RESULT_MAX ? lookup_names[r] : "?";
}

const char *metrics_via_name(enum copy_via v)
{
	return (unsigned)v < VIA_MAX ? via_names[v] : "?";
}

/* Every series, also when 0: label values are bounded (no addresses). */
static void walk_owner(struct sink *s, const struct counters *c)
{
	char l[96];
	unsigned f, k, w;

	s->family(s, "ptb_owner", "PTBs accepted from routers, by family and owner of the "
		  "quoted flow (remote: misdelivered by ECMP).");
	for (f = 0; f < CNT_FAMILIES; f++)
		for (k = 0; k < OWNER_KIND_MAX; k++) {
			snprintf(l, sizeof(l), "family=\"%s\",owner=\"%s\"",
				 family_names[f], owner_names[k]);
			s->series(s, "ptb_owner", l, c->ptb_owner[f][k]);
		}
	s->family(s, "copies_received", "PTB copies received from other agents, by family, "
		  "way (broadcast, peer) and owner of the quoted flow.");
	for (f = 0; f < CNT_FAMILIES; f++)
		for (w = 0; w < VIA_MAX; w++)
			for (k = 0; k < OWNER_KIND_MAX; k++) {
				snprintf(l, sizeof(l), "family=\"%s\",via=\"%s\",owner=\"%s\"",
					 family_names[f], via_names[w], owner_names[k]);
				s->series(s, "copies_received", l, c->copies[f][w][k]);
			}
	s->family(s, "rescued", "Copies after which a local TCP socket's path MTU was at "
		  "most the copy's MTU.");
	for (f = 0; f < CNT_FAMILIES; f++) {
		snprintf(l, sizeof(l), "family=\"%s\"", family_names[f]);
		s->series(s, "rescued", l, c->rescued[f]);
	}
	s->family(s, "owner_lookups", "Flow-owner lookups (sock_diag), by result.");
	for (k = 0; k < OWNER_RESULT_MAX; k++) {
		snprintf(l, sizeof(l), "result=\"%s\"", lookup_names[k]);
		s->series(s, "owner_lookups", l, c->owner_lookups[k]);
	}
}

/* ---- Prometheus text format ------------------------------------------ */

static void prom_family(struct sink *s, const char *name, const char *help)
{
	s->in_gauge = false;
	fprintf(s->f, "# HELP " PREFIX "%s" SUFFIX " %s\n# TYPE " PREFIX "%s" SUFFIX " counter\n",
		name, help, name);
}

static void prom_gauge(struct sink *s, const char *name, const char *help)
{
	s->in_gauge = true;
	fprintf(s->f, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s gauge\n",
		name, help, name);
}

/* Label values: backslash, quote and newline escaped, per the format. */
static void prom_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void prom_sample(struct sink *s, const char *name, const char *label,
			const char *value, const char *key, uint64_t n)
{
	(void)key;
	fputs(PREFIX, s->f);
	fputs(name, s->f);
	if (!s->in_gauge)
		fputs(SUFFIX, s->f);
	if (label) {
		fprintf(s->f, "{%s=\"", label);
		prom_value(s->f, value);
		fputs("\"}", s->f);
	}
	fprintf(s->f, " %llu\n", (unsigned long long)n);
}

static void prom_series(struct sink *s, const char *name, const char *labels, uint64_t n)
{
	fprintf(s->f, PREFIX "%s" SUFFIX "{%s} %llu\n", name, labels, (unsigned long long)n);
}

int metrics_write_prom(FILE *out, const struct metrics_view *v)
{
	struct sink s = { .family = prom_family, .gauge = prom_gauge,
			  .sample = prom_sample, .series = prom_series, .f = out };

	walk(&s, v);
	walk_owner(&s, v->c);
	return ferror(out) ? -1 : 0;
}

/* ---- log line -------------------------------------------------------- */

static void line_family(struct sink *s, const char *name, const char *help)
{
	(void)s;
	(void)name;
	(void)help;
}

static void line_put(struct sink *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void line_put(struct sink *s, const char *fmt, ...)
{
	size_t room = s->off < s->len ? s->len - s->off : 0;
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(room ? s->buf + s->off : NULL, room, fmt, ap);
	va_end(ap);
	if (w > 0)
		s->off += (size_t)w;
}

static void line_sample(struct sink *s, const char *name, const char *label,
			const char *value, const char *key, uint64_t n)
{
	(void)name;
	(void)label;
	(void)value;
	line_put(s, "%s%s=%llu", s->off ? " " : "", key, (unsigned long long)n);
}

size_t metrics_format_line(char *buf, size_t len, const struct metrics_view *v)
{
	struct sink s = { .family = line_family, .gauge = line_family,
			  .sample = line_sample, .buf = buf, .len = len };

	if (len)
		buf[0] = '\0';
	walk(&s, v);
	return s.off;
}

/* ---- owner lines ----------------------------------------------------- */

static void owner_family(struct sink *s, const char *name, const char *help)
{
	(void)help;
	if (s->at++ == s->want)
		line_put(s, PREFIX "%s" SUFFIX ":", name);
}

static void owner_series(struct sink *s, const char *name, const char *labels, uint64_t n)
{
	(void)name;
	if (s->at == s->want + 1)
		line_put(s, " {%s}=%llu", labels, (unsigned long long)n);
}

size_t metrics_format_owner_line(char *buf, size_t len,
				 const struct metrics_view *v, unsigned i)
{
	struct sink s = { .family = owner_family, .series = owner_series,
			  .buf = buf, .len = len, .want = i };

	if (len)
		buf[0] = '\0';
	walk_owner(&s, v->c);
	return s.off;
}

/* ---- the file -------------------------------------------------------- */

static int write_tmp(int fd, const struct metrics_view *v)
{
	FILE *f = fdopen(fd, "w");
	int rc;

	if (!f) {
		close(fd);
		return -1;
	}
	errno = 0;	/* stdio errors need not set it: EIO below */
	rc = metrics_write_prom(f, v);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc < 0 && !errno)
		errno = EIO;
	return rc;
}

int metrics_write_file(const char *path, const struct metrics_view *v,
		       char *err, size_t errlen)
{
	char tmp[4096];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "metrics file %s: path too long", path);
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "metrics file %s: cannot create %s: %s",
			 path, tmp, strerror(errno));
		return -1;
	}
	/* mkstemp makes it 0600; the scraper usually runs as another user.
	 * write_tmp() closes fd, whatever happens. */
	if (fchmod(fd, 0644) < 0) {
		snprintf(err, errlen, "metrics file %s: chmod %s: %s",
			 path, tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (write_tmp(fd, v) < 0) {
		snprintf(err, errlen, "metrics file %s: cannot write %s: %s",
			 path, tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "metrics file %s: cannot rename %s: %s",
			 path, tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
