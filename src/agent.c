/* agent.c - privileged setup, then one event loop:
 *
 *   input_nflog -> classify -> ratelimit (source, then interface) -> forward
 *
 * All runtime state is in struct agent, owned by agent_run()'s frame.
 */
#include "config.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include "agent.h"
#include "classify.h"
#include "forward.h"
#include "iface.h"
#include "input_nflog.h"
#include "log.h"
#include "pmtud.h"
#include "ratelimit.h"
#include "rules.h"

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd

struct counters {
	uint64_t received;
	uint64_t forwarded;
	uint64_t dropped[REASON_MAX];
	uint64_t unknown_iface;		/* arrived on an interface not configured */
	uint64_t limited_source;
	uint64_t limited_iface;
	uint64_t send_errors;
};

struct agent {
	const struct pmtud_conf *conf;
	struct classify_policy policy;
	struct iface_set ifaces;
	struct token_bucket iface_bucket[PMTUD_MAX_IFACES];
	struct rl_table *src_limit;
	struct rules rules;
	struct nflog_input input;
	struct forwarder fwd;
	int sigfd;
	int epfd;
	struct counters cnt;
};

/* Rate-limit key: family, outer source, and (src_key "flow") the quoted
 * destination, so one edge router speaking for many clients is not
 * throttled to one PTB per second for all of them. */
struct src_key_bytes {
	uint8_t family;
	uint8_t outer_src[16];
	uint8_t quoted_dst[16];
};

static size_t build_src_key(const struct agent *a, const struct ptb_info *info,
			    struct src_key_bytes *k)
{
	memset(k, 0, sizeof(*k));
	k->family = info->family;
	memcpy(k->outer_src, info->outer_src.a, sizeof(k->outer_src));
	if (a->conf->src_key == SRC_KEY_SOURCE)
		return offsetof(struct src_key_bytes, quoted_dst);
	memcpy(k->quoted_dst, info->quoted_dst.a, sizeof(k->quoted_dst));
	return sizeof(*k);
}

static void log_decision(const struct ptb_info *info, const char *verdict,
			 const char *why)
{
	char desc[256];

	if (log_verbose() < 1)
		return;
	classify_format(info, desc, sizeof(desc));
	log_msg(LOG_INFO, "%s %s: %s", verdict, why, desc);
}

static void send_copy(struct agent *a, const struct iface *ifc,
		      const struct ptb_info *info, const uint8_t *pkt, size_t len,
		      const struct pkt_meta *meta)
{
	const uint8_t *src_mac = ifc->mac;
	uint16_t ethertype = info->family == AF_INET ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
	int rc;

	/* Original source MAC (cloudflare's --use-src): only when the
	 * kernel handed us an Ethernet header to take it from. */
	if (a->conf->use_src_mac && meta->hwhdr && meta->hwhdr_len >= 14)
		src_mac = meta->hwhdr + 6;
	if (a->conf->dry_run) {
		a->cnt.forwarded++;
		log_decision(info, "FORWARD", "(dry run, not sent)");
		return;
	}
	rc = forward_broadcast(&a->fwd, ifc->ifindex, src_mac, ethertype, pkt, len);
	if (rc < 0) {
		a->cnt.send_errors++;
		log_msg(LOG_WARNING, "send on %s failed: %s", ifc->name, strerror(-rc));
		return;
	}
	a->cnt.forwarded++;
	log_decision(info, "FORWARD", ifc->name);
}

static void on_packet(void *arg, const uint8_t *pkt, size_t len,
		      const struct pkt_meta *meta)
{
	struct agent *a = arg;
	struct ptb_info info;
	struct src_key_bytes key;
	enum classify_reason r;
	struct iface *ifc;
	uint64_t now;
	size_t klen;

	a->cnt.received++;
	r = classify_packet(&a->policy, pkt, len, meta, &info);
	if (r != REASON_FORWARD) {
		a->cnt.dropped[r]++;
		log_decision(&info, "DROP", classify_reason_name(r));
		return;
	}
	ifc = iface_find(&a->ifaces, (int)meta->ifindex);
	if (!ifc) {
		a->cnt.unknown_iface++;
		log_decision(&info, "DROP", "unknown_iface");
		return;
	}
	now = ratelimit_now();
	klen = build_src_key(a, &info, &key);
	if (!rl_table_allow(a->src_limit, &key, klen, now)) {
		a->cnt.limited_source++;
		log_decision(&info, "DROP", "ratelimit_source");
		return;
	}
	if (!tb_allow(&a->iface_bucket[ifc - a->ifaces.ifs], now)) {
		a->cnt.limited_iface++;
		log_decision(&info, "DROP", "ratelimit_iface");
		return;
	}
	send_copy(a, ifc, &info, pkt, len, meta);
}

static void log_counters(const struct agent *a)
{
	char drops[768];
	size_t off = 0;
	int i;

	drops[0] = '\0';
	for (i = 1; i < REASON_MAX && off < sizeof(drops); i++) {
		if (!a->cnt.dropped[i])
			continue;
		off += (size_t)snprintf(drops + off, sizeof(drops) - off, " %s=%llu",
					classify_reason_name((enum classify_reason)i),
					(unsigned long long)a->cnt.dropped[i]);
	}
	log_msg(LOG_INFO,
		"counters: received=%llu forwarded=%llu limited_source=%llu "
		"limited_iface=%llu send_errors=%llu unknown_iface=%llu "
		"nflog_enobufs=%llu nflog_seq_gaps=%llu dropped:%s",
		(unsigned long long)a->cnt.received,
		(unsigned long long)a->cnt.forwarded,
		(unsigned long long)a->cnt.limited_source,
		(unsigned long long)a->cnt.limited_iface,
		(unsigned long long)a->cnt.send_errors,
		(unsigned long long)a->cnt.unknown_iface,
		(unsigned long long)a->input.lost_enobufs,
		(unsigned long long)a->input.seq_gaps,
		off ? drops : " none");
}

static int open_signals(struct agent *a)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	a->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return a->sigfd < 0 ? -1 : 0;
}

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Returns 1 to keep running, 0 to stop. */
static int handle_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_msg(LOG_INFO, "signal %s: stopping", strsignal((int)si.ssi_signo));
			return 0;
		case SIGUSR1:
			log_counters(a);
			break;
		case SIGHUP:
			log_msg(LOG_NOTICE, "SIGHUP: live reload is not available in this version; configuration unchanged");
			break;
		}
	}
	return 1;
}

static int event_loop(struct agent *a)
{
	struct epoll_event evs[4];
	int n, i;

	for (;;) {
		n = epoll_wait(a->epfd, evs, 4, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERR, "epoll_wait: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == a->sigfd) {
				if (!handle_signal(a))
					return EXIT_OK;
			} else if (input_nflog_receive(&a->input, on_packet, a) < 0) {
				log_msg(LOG_ERR, "NFLOG group %u: receive failed: %s",
					a->conf->nflog_group, strerror(errno));
				return EXIT_RUNTIME;
			}
		}
	}
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		log_msg(LOG_ERR, "cannot pin to CPU %d: %s", cpu, strerror(errno));
		return -1;
	}
	return 0;
}

static void build_policy(struct agent *a)
{
	const struct pmtud_conf *c = a->conf;

	a->policy.ports = c->ports_any ? NULL : c->ports;
	a->policy.n_ports = c->ports_any ? 0 : c->n_ports;
	a->policy.min_mtu4 = c->min_mtu;
	a->policy.max_mtu = c->max_mtu;
	/* A PTB sent by one of our peers is never relayed (no loops). */
	a->policy.deny_src = c->peers;
	a->policy.n_deny_src = c->n_peers;
}

static int setup_limits(struct agent *a)
{
	uint64_t now = ratelimit_now();
	unsigned i;

	a->src_limit = rl_table_new(a->conf->src_table_size, a->conf->src_rate,
				    a->conf->src_burst, NULL);
	if (!a->src_limit) {
		log_msg(LOG_ERR, "cannot allocate the rate-limit table: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < a->ifaces.n; i++)
		tb_init(&a->iface_bucket[i], a->conf->iface_rate, a->conf->iface_burst, now);
	return 0;
}

/* Privileged setup. Order matters: bind the input first so a busy
 * group fails before any rule exists; install the rules last. */
static int setup(struct agent *a, const char *source)
{
	char err[512];
	struct conf_error cerr;

	if (conf_check_ifaces(a->conf, source, &cerr) < 0) {
		log_msg(LOG_ERR, "%s", cerr.msg);
		return EXIT_CONFIG;
	}
	if (iface_resolve(&a->ifaces, a->conf, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s: %s", source, err);
		return EXIT_CONFIG;
	}
	iface_warn_settings(&a->ifaces);
	if (a->conf->cpu >= 0 && pin_cpu(a->conf->cpu) < 0)
		return EXIT_CONFIG;
	build_policy(a);
	if (setup_limits(a) < 0)
		return EXIT_RUNTIME;
	if (open_signals(a) < 0) {
		log_msg(LOG_ERR, "signalfd: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	if (input_nflog_open(&a->input, a->conf->nflog_group, a->conf->rcvbuf, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return EXIT_INPUT;
	}
	if (forward_open(&a->fwd, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return EXIT_OUTPUT;
	}
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0 || epoll_add(a->epfd, a->sigfd) < 0 ||
	    epoll_add(a->epfd, a->input.fd) < 0) {
		log_msg(LOG_ERR, "epoll: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	if (a->conf->install_rules &&
	    rules_install(&a->rules, a->conf, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return EXIT_RULES;
	}
	return EXIT_OK;
}

static void log_started(const struct agent *a)
{
	char names[PMTUD_MAX_IFACES * (IFNAMSIZ + 1)];
	size_t off = 0;
	unsigned i;

	names[0] = '\0';
	for (i = 0; i < a->ifaces.n; i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
					i ? "," : "", a->ifaces.ifs[i].name);
	if (!a->conf->install_rules)
		log_msg(LOG_INFO, "rules: not installed (install_rules false): "
			"the operator's ruleset must log to group %u", a->conf->nflog_group);
	else
		log_msg(LOG_INFO, "rules: table inet %s installed, %s", a->rules.table,
			a->rules.owner ? "owner mode (the kernel removes it when pmtud-nf exits)"
				       : "fallback mode (no owner flag: removed on clean stop, swept at start)");
	log_msg(LOG_INFO, "%s %s running: NFLOG group %u, interfaces %s, "
		"src_rate %g/s (burst %g, key %s), iface_rate %g/s (burst %g)%s",
		PACKAGE_NAME, PACKAGE_VERSION, a->conf->nflog_group, names,
		a->conf->src_rate, a->conf->src_burst,
		a->conf->src_key == SRC_KEY_FLOW ? "flow" : "source",
		a->conf->iface_rate, a->conf->iface_burst,
		a->conf->dry_run ? ", dry run (nothing is sent)" : "");
}

static void teardown(struct agent *a)
{
	rules_remove(&a->rules);
	input_nflog_close(&a->input);
	forward_close(&a->fwd);
	rl_table_free(a->src_limit);
	if (a->epfd >= 0)
		close(a->epfd);
	if (a->sigfd >= 0)
		close(a->sigfd);
}

int agent_run(const struct pmtud_conf *c, const char *config_path)
{
	/* Large (per-interface state): keep it off the stack. */
	static struct agent a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.conf = c;
	a.sigfd = a.epfd = a.input.fd = a.fwd.fd = -1;
	rc = setup(&a, config_path ? config_path : "command line");
	if (rc == EXIT_OK) {
		log_started(&a);
#ifdef HAVE_LIBSYSTEMD
		sd_notifyf(0, "READY=1\nSTATUS=NFLOG group %u, %u interface(s)",
			   c->nflog_group, a.ifaces.n);
#endif
		rc = event_loop(&a);
#ifdef HAVE_LIBSYSTEMD
		sd_notify(0, "STOPPING=1");
#endif
		log_counters(&a);
	}
	teardown(&a);
	return rc;
}
