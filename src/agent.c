/* agent.c - privileged setup, then one event loop:
 *
 *   input_nflog -> (no token on the interface: shed) -> classify (or
 *   classify_memo: a repetition of the last PTB) ->
 *   dedup -> the checksum -> ratelimit (flow, then the interface's
 *   budget, shared fairly between sources: fairshare) -> forward
 *
 * All runtime state is in struct agent, owned by agent_run()'s frame.
 */
#include "config.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include "agent.h"
#include "classify.h"
#include "classify_memo.h"
#include "cli.h"
#include "counters.h"
#include "dedup.h"
#include "fairshare.h"
#include "forward.h"
#include "forward_peer.h"
#include "iface.h"
#include "iface_watch.h"
#include "input_nflog.h"
#include "input_nfqueue.h"
#include "log.h"
#include "metrics.h"
#include "owner.h"
#include "peers_dns.h"
#include "peerset.h"
#include "pmtud.h"
#include "privs.h"
#include "ratelimit.h"
#include "reload_ctl.h"
#include "rules.h"

#define PMTUD_STR_(x)	#x
#define PMTUD_STR(x)	PMTUD_STR_(x)

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd

/* The capture path chosen by "input": NFLOG (a copy; the packet never
 * waits) or NFQUEUE (the packet waits for the agent's ACCEPT). Two
 * modules of the same shape; these wrappers pick one. */
struct input {
	enum input_kind kind;
	union {
		struct nflog_input nflog;
		struct nfqueue_input nfq;
	} u;
};

static int input_open(struct input *in, const struct pmtud_conf *c,
		      char *err, size_t errlen)
{
	in->kind = c->input;
	if (in->kind == INPUT_NFQUEUE)
		return input_nfqueue_open(&in->u.nfq, c->queue_num, c->rcvbuf,
					  err, errlen);
	return input_nflog_open(&in->u.nflog, c->nflog_group, c->rcvbuf,
				err, errlen);
}

static int input_fd(const struct input *in)
{
	return in->kind == INPUT_NFQUEUE ? in->u.nfq.fd : in->u.nflog.fd;
}

static int input_receive(struct input *in, pkt_cb cb, void *arg)
{
	if (in->kind == INPUT_NFQUEUE)
		return input_nfqueue_receive(&in->u.nfq, cb, arg);
	return input_nflog_receive(&in->u.nflog, cb, arg);
}

/* Once per loop turn: ms until the input needs a turn without
 * traffic (NFLOG's return to immediate delivery), -1 for none. */
static int input_idle(struct input *in)
{
	return in->kind == INPUT_NFQUEUE ? -1 : input_nflog_idle(&in->u.nflog);
}

/* Idempotent, also on a zeroed struct (both modules' close are). */
static void input_close(struct input *in)
{
	if (in->kind == INPUT_NFQUEUE)
		input_nfqueue_close(&in->u.nfq);
	else
		input_nflog_close(&in->u.nflog);
}

/* recv() ENOBUFS events. */
static uint64_t input_enobufs(const struct input *in)
{
	return in->kind == INPUT_NFQUEUE ? in->u.nfq.lost_enobufs
					 : in->u.nflog.lost_enobufs;
}

/* Packets the agent never saw, by the kernel's numbering (NFLOG
 * sequence numbers, NFQUEUE packet ids). */
static uint64_t input_gaps(const struct input *in)
{
	return in->kind == INPUT_NFQUEUE ? in->u.nfq.id_gaps
					 : in->u.nflog.seq_gaps;
}

/* NFLOG's batching switches, added to *to_batch and *to_immediate. */
static void input_switches(const struct input *in, uint64_t *to_batch,
			   uint64_t *to_immediate)
{
	if (in->kind == INPUT_NFQUEUE)
		return;
	*to_batch += in->u.nflog.adapt.to_batch;
	*to_immediate += in->u.nflog.adapt.to_immediate;
}

/* "NFLOG group 33" / "NFQUEUE 33", for messages. */
static const char *input_describe(const struct pmtud_conf *c, char *buf,
				  size_t len)
{
	if (c->input == INPUT_NFQUEUE)
		snprintf(buf, len, "NFQUEUE %u", c->queue_num);
	else
		snprintf(buf, len, "NFLOG group %u", c->nflog_group);
	return buf;
}

struct agent {
	/* The effective configuration: one of conf_slot[], which the agent
	 * owns. A reload fills the other slot and switches conf (and the
	 * policy, which points into it) only once everything succeeded. */
	const struct pmtud_conf *conf;
	struct pmtud_conf conf_slot[2];
	int argc;			/* the command line, re-read on reload */
	char **argv;
	struct classify_policy policy;
	struct classify_policy copy_policy;	/* copies from other agents: parse only */
	struct owner owner;		/* flow-owner lookups, rescue checks */
	struct iface_set ifaces;
	struct iface_watch watch;	/* link changes update ifaces in place */
	struct fair_bucket iface_bucket[PMTUD_MAX_IFACES];
	struct fair_table fair;		/* sources' shares of those buckets */
	struct own_addrs own;		/* the host's addresses, from watch */
	/* policy.deny_src: peer_set and the own addresses, sorted, each
	 * once (build_policy); room for PEERSET_MAX + OWN_ADDR_MAX */
	struct pmtud_addr *deny;
	struct rl_table *src_limit;
	struct dedup dedup;		/* identical PTBs: one copy per window */
	struct classify_memo memo;	/* the last PTB of each family */
	struct rules rules;
	struct input input;
	struct forwarder fwd;
	struct peer_forwarder peers;	/* unicast copies to other subnets */
	struct peers_dns *dns;		/* host names in peers; NULL: none */
	struct pmtud_addr *peer_set;	/* the peers now: addresses + names' (PEERSET_MAX) */
	size_t n_peer_set;
	bool peers_pending;		/* the nft peer sets lag: retry at the tick */
	int sigfd;
	int epfd;
	uint64_t wd_half_ns;		/* WatchdogSec/2; 0: no watchdog */
	uint64_t wd_last_ns;		/* last WATCHDOG=1 */
	struct counters cnt;
	struct counters lost_base;	/* input losses of inputs closed on reload,
					 * answers of a resolver closed on reload */
	int timerfd;			/* stats_interval: metrics file, log summary */
	bool metrics_failing;		/* the last write failed (logged once) */
	struct log_limit loglim;	/* per-packet lines */
	bool log_packets;		/* log_verbose() >= 1: at start, at reload */
	uint64_t now;			/* read once per input wakeup, not per PTB */
	const uint8_t *pkt;		/* the packet being decided, for verbose 3 */
	size_t pkt_len;
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

/* Fair-share key: the interface, whose budget is shared, and the
 * PTB's source (the router), whatever clients it speaks for. */
struct fair_key_bytes {
	uint8_t ifindex[4];
	uint8_t family;
	uint8_t outer_src[16];
};

static void build_fair_key(const struct ptb_info *info, uint32_t ifindex,
			   struct fair_key_bytes *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->ifindex, &ifindex, sizeof(k->ifindex));
	k->family = info->family;
	memcpy(k->outer_src, info->outer_src.a, sizeof(k->outer_src));
}

static void report_suppressed(struct agent *a)
{
	uint64_t n = log_limit_take(&a->loglim);

	if (n)
		log_msg(LOG_NOTICE, "%llu per-packet log lines suppressed",
			(unsigned long long)n);
}

/* Every per-packet line asks here first: one token bucket for all of
 * them, so a flood cannot flood the journal. What it refuses is
 * counted, and reported in one line when lines pass again (or at the
 * next stats tick). */
static bool packet_log_ok(struct agent *a)
{
	if (!log_limit_allow(&a->loglim, ratelimit_now())) {
		a->cnt.log_suppressed++;
		return false;
	}
	report_suppressed(a);
	return true;
}

/* verbose 3: the packet itself, one line, at most 256 bytes shown. */
static void log_hex(const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char hex[2 * 256 + 1];
	size_t i, n = len < 256 ? len : 256;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[p[i] >> 4];
		hex[2 * i + 1] = digits[p[i] & 0xf];
	}
	hex[2 * n] = '\0';
	log_msg(LOG_DEBUG, "packet %zu bytes: %s%s", len, hex, n < len ? "..." : "");
}

/* The line, once packet_log_ok() allowed it. */
static void write_decision(const struct agent *a, const struct ptb_info *info,
			   const char *verdict, const char *why)
{
	char desc[256];

	classify_format(info, desc, sizeof(desc));
	log_msg(LOG_INFO, "%s %s: %s", verdict, why, desc);
	if (log_verbose() >= 3 && a->pkt)
		log_hex(a->pkt, a->pkt_len);
}

static void log_decision_line(struct agent *a, const struct ptb_info *info,
			      const char *verdict, const char *why)
{
	if (packet_log_ok(a))
		write_decision(a, info, verdict, why);
}

/* Inline: every dropped PTB of a flood comes here, almost always to do
 * nothing. */
static inline void log_decision(struct agent *a, const struct ptb_info *info,
				const char *verdict, const char *why)
{
	if (a->log_packets)
		log_decision_line(a, info, verdict, why);
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
		log_decision(a, info, "FORWARD", "(dry run, not sent)");
		return;
	}
	/* Broadcast first, then the peers: both after the rate limits. */
	if (!a->conf->broadcast) {
		log_decision(a, info, "FORWARD", "(peers only)");
	} else if ((rc = forward_broadcast(&a->fwd, ifc->ifindex, src_mac,
					   ethertype, pkt, len)) < 0) {
		a->cnt.send_errors++;
		if (packet_log_ok(a))
			log_msg(LOG_WARNING, "send on %s failed: %s", ifc->name, strerror(-rc));
	} else {
		a->cnt.forwarded++;
		log_decision(a, info, "FORWARD", ifc->name);
	}
	peer_fwd_send(&a->peers, pkt, len, a->now);
}

/* One of the peers now: addresses and resolved names. */
static bool from_peer(const struct agent *a, const struct pmtud_addr *src)
{
	return peerset_contains(a->peer_set, a->n_peer_set, src);
}

/* A copy another agent sent (an Ethernet broadcast, or unicast from a
 * peer), which the classifier refused: never relayed, only looked up,
 * and for a local TCP flow checked for a rescue a little later. False
 * when it is no PTB at all (then counted like any refused packet). */
static bool on_copy(struct agent *a, const uint8_t *pkt, size_t len,
		    enum copy_via via)
{
	struct ptb_info info;
	struct owner_flow f;
	enum owner_kind k = OWNER_UNKNOWN;

	if (classify_packet(&a->copy_policy, pkt, len, NULL, &info) != REASON_FORWARD)
		return false;
	if (owner_flow_from_ptb(&info, &f))
		k = owner_lookup_copy(&a->owner, &f, info.mtu, ratelimit_now());
	a->cnt.copies[CNT_FAM(info.family)][via][k]++;
	if (log_verbose() >= 1) {
		char why[48];

		snprintf(why, sizeof(why), "%s, owner %s", metrics_via_name(via),
			 metrics_owner_name(k));
		log_decision(a, &info, "COPY", why);
	}
	return true;
}

/* Does this host own the quoted flow? Counted per family and owner. */
static enum owner_kind ptb_owner(struct agent *a, const struct ptb_info *info,
				 uint64_t now)
{
	struct owner_flow f;
	enum owner_kind k = OWNER_UNKNOWN;

	if (owner_flow_from_ptb(info, &f))
		k = owner_lookup(&a->owner, &f, now, NULL);
	a->cnt.ptb_owner[CNT_FAM(info->family)][k]++;
	return k;
}

/* Load shedding: the interface has no token, so no copy of this
 * packet could go out whatever it holds, and it is counted "shed"
 * without being classified (under a flood of valid PTBs, the fate of
 * nearly all: the kernel's pre-limit does the same before logging).
 * Tokens are only ever taken by PTBs that passed every check, so
 * packets that fail them never empty the bucket: they are classified
 * and counted by reason. Copies from other agents are never shed: they
 * spend no token and are counted for the owner lookup (on_copy), so a
 * broadcast, or a packet from a peer, takes the full path. */
static bool shed(struct agent *a, const struct iface *ifc,
		 const uint8_t *pkt, size_t len, struct pkt_meta *meta)
{
	struct pmtud_addr src;

	if (tb_ready(&a->iface_bucket[ifc - a->ifaces.ifs].tb, a->now) ||
	    classify_l2_broadcast(meta) ||
	    (a->n_peer_set && classify_outer_src(pkt, len, &src) &&
	     from_peer(a, &src)))
		return false;
	a->cnt.received++;
	a->cnt.shed++;
	/* The line describes what it can; a packet is only parsed for a
	 * line the log's limit lets through. */
	if (a->log_packets && packet_log_ok(a)) {
		struct ptb_info info;

		meta->link_mtu = ifc->mtu;
		classify_packet(&a->policy, pkt, len, meta, &info);
		write_decision(a, &info, "DROP", "shed");
	}
	return true;
}

static void on_packet(void *arg, const uint8_t *pkt, size_t len,
		      struct pkt_meta *meta)
{
	struct agent *a = arg;
	const struct classify_memo_entry *seen;
	const struct ptb_info *pi;
	struct ptb_info info;
	struct src_key_bytes key;
	struct fair_key_bytes fkey;
	struct fair_grant grant;
	enum classify_reason r;
	struct fair_bucket *bucket;
	struct iface *ifc;
	uint64_t now, fp;
	size_t klen;

	a->pkt = pkt;
	a->pkt_len = len;
	/* The copy leaves where the PTB came in: never over that MTU. */
	ifc = iface_find(&a->ifaces, (int)meta->ifindex);
	if (ifc && shed(a, ifc, pkt, len, meta))
		return;
	meta->link_mtu = ifc ? ifc->mtu : 0;
	/* A repetition of the last PTB of its family, by every byte the
	 * classifier reads: its result, and its fingerprint, as they were. */
	seen = classify_memo_find(&a->memo, pkt, len, meta);
	if (seen) {
		pi = &seen->info;
		r = REASON_FORWARD;
	} else {
		pi = &info;
		r = classify_headers(&a->policy, pkt, len, meta, &info);
	}
	if ((r == REASON_L2_BROADCAST && on_copy(a, pkt, len, VIA_BROADCAST)) ||
	    (r == REASON_DENIED_SOURCE && from_peer(a, &pi->outer_src) &&
	     on_copy(a, pkt, len, VIA_PEER)))
		return;
	a->cnt.received++;
	if (r != REASON_FORWARD) {
		a->cnt.dropped[r]++;
		log_decision(a, pi, "DROP", classify_reason_name(r));
		return;
	}
	if (!ifc) {
		a->cnt.unknown_iface++;
		log_decision(a, pi, "DROP", "unknown_iface");
		return;
	}
	now = a->now;
	bucket = &a->iface_bucket[ifc - a->ifaces.ifs];
	/* Before the other limits: a repetition spends no token of its
	 * flow. */
	if (seen) {
		fp = seen->value;
	} else {
		fp = dedup_fingerprint(&a->dedup, pi);
		classify_memo_store(&a->memo, pkt, len, meta, pi, fp);
	}
	if (dedup_seen(&a->dedup, fp, now)) {
		a->cnt.deduplicated++;
		log_decision(a, pi, "DROP", "deduplicated");
		return;
	}
	/* Read to its end only now: a PTB dropped above is counted by
	 * its reason, checksum unknown; none with a wrong one goes on. */
	if (classify_checksum(pkt, pi) != REASON_FORWARD) {
		a->cnt.dropped[REASON_BAD_CHECKSUM]++;
		log_decision(a, pi, "DROP", classify_reason_name(REASON_BAD_CHECKSUM));
		return;
	}
	/* The owner's kernel has the PTB: no copy, no token spent. Its
	 * repetitions within the window are not looked up again. */
	if (ptb_owner(a, pi, now) == OWNER_LOCAL && !a->conf->relay_owned) {
		dedup_record(&a->dedup, fp, now);
		log_decision(a, pi, "DROP", "owned");
		return;
	}
	/* Interface first, without taking: a copy the interface cannot
	 * send (no token, or not this source's share of them) must not
	 * spend the flow's token, or the flow waits a full source interval
	 * for a copy that never went out. The flow check still runs before
	 * any interface token is taken. */
	build_fair_key(pi, meta->ifindex, &fkey);
	if (!fair_check(&a->fair, bucket, &fkey, sizeof(fkey), now, &grant)) {
		a->cnt.limited_iface++;
		log_decision(a, pi, "DROP", "ratelimit_iface");
		return;
	}
	klen = build_src_key(a, pi, &key);
	if (!rl_table_allow(a->src_limit, &key, klen, now)) {
		a->cnt.limited_source++;
		log_decision(a, pi, "DROP", "ratelimit_source");
		return;
	}
	fair_take(bucket, &grant);
	dedup_record(&a->dedup, fp, now);
	send_copy(a, ifc, pi, pkt, pi->len, meta);	/* the bytes checked */
}

/* Add the answers d (may be NULL) counted for peer names to to. */
static void add_resolve_counts(uint64_t *to, const struct peers_dns *d)
{
	uint64_t now[PEER_RESULT_MAX];
	unsigned i;

	if (!d)
		return;
	peers_dns_counts(d, now);
	for (i = 0; i < PEER_RESULT_MAX; i++)
		to[i] += now[i];
}

/* The counters as metrics.c names them: the agent's own, plus the
 * input's losses (those of inputs closed by a reload included). */
static void counters_snapshot(const struct agent *a, struct counters *out)
{
	*out = a->cnt;
	out->input_enobufs = a->lost_base.input_enobufs + input_enobufs(&a->input);
	out->input_seq_gaps = a->lost_base.input_seq_gaps + input_gaps(&a->input);
	memcpy(out->owner_lookups, a->owner.lookups, sizeof(out->owner_lookups));
	memcpy(out->rescued, a->owner.rescued, sizeof(out->rescued));
	out->input_to_batch = a->lost_base.input_to_batch;
	out->input_to_immediate = a->lost_base.input_to_immediate;
	input_switches(&a->input, &out->input_to_batch, &out->input_to_immediate);
	memcpy(out->peer_resolve, a->lost_base.peer_resolve, sizeof(out->peer_resolve));
	add_resolve_counts(out->peer_resolve, a->dns);
}

/* The peer gauges of v: the set's size by family, when peers are
 * configured (addresses or names). */
static void peers_view(const struct agent *a, struct metrics_view *v)
{
	v->peers_on = a->conf->n_peers || a->conf->n_peer_names;
	v->peers_family[0] = peer_fwd_count(&a->peers, AF_INET);
	v->peers_family[1] = peer_fwd_count(&a->peers, AF_INET6);
}

static void log_counters(const struct agent *a)
{
	char line[2048];
	struct counters c;
	struct metrics_view v = { .c = &c };
	unsigned i;

	counters_snapshot(a, &c);
	peers_view(a, &v);
	/* The owner lines first: "counters:" comes last, when all is out. */
	for (i = 0; metrics_format_owner_line(line, sizeof(line), &v, i); i++)
		log_msg(LOG_INFO, "%s", line);
	metrics_format_line(line, sizeof(line), &v);
	peer_fwd_log_stats(&a->peers);
	log_msg(LOG_INFO, "counters: %s", line);
}

/* Per-peer series for the metrics file: one per peer up to
 * metrics_peer_limit peers, one named "all" above. (The SIGUSR1 line
 * leaves them out: peer_fwd_log_stats() logs one line per peer.) out
 * has room for max(1, metrics_peer_limit). */
static unsigned peers_snapshot(const struct agent *a, struct metrics_peer *out)
{
	const struct peer_state *p;
	unsigned i;

	if (a->peers.n > a->conf->metrics_peer_limit) {
		snprintf(out[0].name, sizeof(out[0].name), "all");
		peer_fwd_totals(&a->peers, &out[0].sent, &out[0].errors);
		return 1;
	}
	for (i = 0; (p = peer_fwd_peer(&a->peers, i)); i++) {
		pmtud_addr_str(&p->addr, out[i].name);
		out[i].sent = p->sent;
		out[i].errors = p->errors;
	}
	return i;
}

static void write_metrics(struct agent *a)
{
	struct metrics_peer *peers;
	char err[512];
	struct counters c;
	struct metrics_view v = { .c = &c };
	unsigned room = a->conf->metrics_peer_limit ? a->conf->metrics_peer_limit : 1;

	if (!a->conf->metrics_file[0])
		return;
	peers = calloc(room, sizeof(*peers));
	if (!peers) {
		log_msg(LOG_WARNING, "metrics file: out of memory");
		return;
	}
	counters_snapshot(a, &c);
	v.peers = peers;
	v.n_peers = peers_snapshot(a, peers);
	peers_view(a, &v);
	/* One warning when writes start failing, one line when they work
	 * again: a full disk must not repeat itself every interval. */
	if (metrics_write_file(a->conf->metrics_file, &v, err, sizeof(err)) < 0) {
		if (!a->metrics_failing)
			log_msg(LOG_WARNING, "%s (retrying every %u s)", err,
				a->conf->stats_interval);
		a->metrics_failing = true;
	} else {
		if (a->metrics_failing)
			log_msg(LOG_NOTICE, "metrics file %s written again",
				a->conf->metrics_file);
		a->metrics_failing = false;
	}
	free(peers);
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

static void reload(struct agent *a);

/* What STATUS= says while running. */
static const char *status_line(const struct agent *a, char *buf, size_t len)
{
	char what[32];

	snprintf(buf, len, "%s, %u interface(s)",
		 input_describe(a->conf, what, sizeof(what)), a->ifaces.n);
	return buf;
}

/* A reload bracketed for systemd, answered to a --reload request. */
static void reload_answered(struct agent *a, const struct signalfd_siginfo *si)
{
	uint64_t ok = a->cnt.reloads_ok;
	char status[64];

	reload_ctl_begin();
	reload(a);
	reload_ctl_end(si, a->cnt.reloads_ok != ok,
		       status_line(a, status, sizeof(status)));
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
			reload_answered(a, &si);
			break;
		}
	}
	return 1;
}

/* Keep systemd's watchdog fed: WATCHDOG=1 every WatchdogSec/2 counted
 * from the last kick, whatever wakes the loop. Returns the epoll
 * timeout (ms) until the next kick is due, -1 with no watchdog. */
static int watchdog_kick(struct agent *a)
{
	uint64_t now, due;

	if (!a->wd_half_ns)
		return -1;
	now = ratelimit_now();
	if (now - a->wd_last_ns >= a->wd_half_ns) {
#ifdef HAVE_LIBSYSTEMD
		sd_notify(0, "WATCHDOG=1");
#endif
		a->wd_last_ns = now;
	}
	due = a->wd_last_ns + a->wd_half_ns - now;
	if (due > 60000000000ULL)	/* the int timeout; waking once a minute is free */
		due = 60000000000ULL;
	return (int)((due + 999999) / 1000000);
}

static void apply_peers(struct agent *a, bool force);

/* Every stats_interval: the metrics file, and the count of per-packet
 * lines suppressed since the last line got through. */
static void on_tick(struct agent *a)
{
	uint64_t expirations;

	if (read(a->timerfd, &expirations, sizeof(expirations)) < 0)
		return;		/* EAGAIN: a reload re-armed it meanwhile */
	report_suppressed(a);
	if (a->peers_pending)
		apply_peers(a, false);
	write_metrics(a);
}

static int arm_timer(struct agent *a)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = a->conf->stats_interval },
		.it_value = { .tv_sec = a->conf->stats_interval },
	};

	return timerfd_settime(a->timerfd, 0, &its, NULL);
}

/* One input wakeup: a bounded batch, one clock read for all of it. */
static int receive(struct agent *a)
{
	char what[32];

	a->now = ratelimit_now();
	if (input_receive(&a->input, on_packet, a) >= 0)
		return 0;
	log_msg(LOG_ERR, "%s: receive failed: %s",
		input_describe(a->conf, what, sizeof(what)), strerror(errno));
	return -1;
}

static int min_timeout(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

static void build_policy(struct agent *a);

static int event_loop(struct agent *a)
{
	struct epoll_event evs[4];
	int n, i;

	for (;;) {
		n = epoll_wait(a->epfd, evs, 4,
			       min_timeout(watchdog_kick(a), input_idle(&a->input)));
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
			} else if (evs[i].data.fd == a->timerfd) {
				on_tick(a);
			} else if (evs[i].data.fd == a->owner.timerfd) {
				owner_on_timer(&a->owner);
			} else if (evs[i].data.fd == a->owner.fd) {
				owner_drain(&a->owner);
			} else if (a->dns && evs[i].data.fd == peers_dns_fd(a->dns)) {
				peers_dns_process(a->dns);
			} else if (evs[i].data.fd == a->watch.fd) {
				if (iface_watch_receive(&a->watch, &a->ifaces) < 0) {
					log_msg(LOG_ERR, "rtnetlink: receive failed: %s",
						strerror(errno));
					return EXIT_RUNTIME;
				}
				build_policy(a);	/* own addresses may have changed */
			} else if (receive(a) < 0) {
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
	/* A PTB sent by one of our peers (no loops) or from one of our own
	 * addresses is never relayed. */
	a->policy.deny_src = a->deny;
	a->policy.n_deny_src = own_addr_deny_list(&a->own, a->peer_set,
						  (unsigned)a->n_peer_set, a->deny);
	a->policy.vips = c->vips;
	a->policy.n_vips = c->n_vips;
	/* What the memo knows was decided under the old policy. */
	classify_memo_clear(&a->memo);
	/* Copies: the PTB as the router sent it, whoever relayed it. */
	a->copy_policy.min_mtu4 = c->min_mtu;
	a->copy_policy.max_mtu = c->max_mtu;
	a->copy_policy.any_dst = true;
}

/* Lookups: owner_rate per second, the same burst (at least 1). */
static double owner_burst(const struct pmtud_conf *c)
{
	return c->owner_rate > 1 ? c->owner_rate : 1;
}

/* Without sock_diag the agent still relays: every owner is unknown. */
static void setup_owner(struct agent *a)
{
	char err[256];

	if (owner_open(&a->owner, a->conf->owner_rate, owner_burst(a->conf),
		       ratelimit_now(), err, sizeof(err)) < 0) {
		log_msg(LOG_WARNING, "%s: every owner counts as unknown", err);
		return;
	}
	if (epoll_add(a->epfd, a->owner.fd) < 0 ||
	    epoll_add(a->epfd, a->owner.timerfd) < 0) {
		log_msg(LOG_WARNING, "owner lookup: epoll: %s: every owner counts "
			"as unknown", strerror(errno));
		owner_close(&a->owner);
	}
}

/* ---- the set of peers: addresses and what the names resolve to ---- */

/* Make the relay, the nft peer sets and the classifier's deny list hold
 * the configured addresses plus the names' last good ones. The nft
 * transaction goes first: if it fails nothing changes, and the next
 * tick tries again. force: push the nft sets even if the set is the
 * same (a reload rebuilt them from the addresses alone). */
static void apply_peers(struct agent *a, bool force)
{
	struct pmtud_addr lit[PMTUD_MAX_PEERS], *dns, *next;
	size_t n_lit = a->conf->n_peers, n_dns = 0, n, gone, came, n4;
	bool trunc = false, changed;
	char err[512];

	dns = malloc(PEERSET_MAX * sizeof(*dns));
	next = malloc(PEERSET_MAX * sizeof(*next));
	if (!dns || !next) {
		log_msg(LOG_WARNING, "peers: out of memory: keeping the previous set");
		a->peers_pending = true;
		goto out;
	}
	memcpy(lit, a->conf->peers, n_lit * sizeof(lit[0]));
	n_lit = peerset_normalize(lit, n_lit);
	if (a->dns)
		n_dns = peers_dns_addrs(a->dns, dns, PEERSET_MAX, &trunc);
	n = peerset_merge(next, PEERSET_MAX, lit, n_lit, dns, n_dns, &trunc);
	changed = peerset_diff(a->peer_set, a->n_peer_set, next, n, NULL, &gone,
			       NULL, &came);
	if (!changed && !force && !a->peers_pending)
		goto out;
	if (a->conf->install_rules && a->conf->n_peer_names &&
	    rules_set_peers(&a->rules, next, n, err, sizeof(err)) < 0) {
		if (!a->peers_pending)
			log_msg(LOG_WARNING, "peers: %s: keeping the previous set, "
				"retrying every %u s", err, a->conf->stats_interval);
		a->peers_pending = true;
		goto out;
	}
	if (a->peers_pending)
		log_msg(LOG_NOTICE, "peers: the nft peer sets follow again");
	a->peers_pending = false;
	if (peer_fwd_set(&a->peers, next, n))
		log_msg(LOG_WARNING, "peers: some addresses left out of the relay");
	memcpy(a->peer_set, next, n * sizeof(*next));
	a->n_peer_set = n;
	build_policy(a);
	n4 = peerset_count(next, n, AF_INET);
	if (changed)
		log_msg(LOG_NOTICE, "peers: %zu (%zu IPv4, %zu IPv6), %zu added, "
			"%zu removed%s", n, n4, n - n4, came, gone,
			trunc ? " (more than " PMTUD_STR(PEERSET_MAX) ": the lowest kept)" : "");
out:
	free(dns);
	free(next);
}

static void on_peers_changed(void *arg)
{
	apply_peers(arg, false);
}

/* The resolver follows the names of the configuration (start, reload). */
static int dns_follow(struct agent *a, char *err, size_t errlen)
{
	if (!a->conf->n_peer_names) {
		/* Its answers stay in the totals. */
		add_resolve_counts(a->lost_base.peer_resolve, a->dns);
		peers_dns_free(a->dns);	/* closing its fd leaves epoll */
		a->dns = NULL;
		return 0;
	}
	if (a->dns)
		return peers_dns_reconfigure(a->dns, a->conf, err, errlen);
	a->dns = peers_dns_new(a->conf, on_peers_changed, a, err, errlen);
	if (!a->dns)
		return -1;
	if (epoll_add(a->epfd, peers_dns_fd(a->dns)) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		peers_dns_free(a->dns);
		a->dns = NULL;
		return -1;
	}
	return 0;
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
		fair_bucket_init(&a->iface_bucket[i], a->conf->iface_rate,
				 a->conf->iface_burst, now);
	if (fair_table_init(&a->fair, NULL) < 0) {
		log_msg(LOG_ERR, "fair-share key: getrandom: %s", strerror(errno));
		return -1;
	}
	if (dedup_init(&a->dedup, a->conf->dedup_window, NULL) < 0) {
		log_msg(LOG_ERR, "dedup key: getrandom: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Privileged setup. Order matters: bind the input first so a busy
 * group fails before any rule exists; install the rules last. */
static int setup(struct agent *a, const char *source)
{
	char err[512];
	struct conf_error cerr;
	int rc;

	if (conf_check_host(a->conf, source, &cerr) < 0) {
		log_msg(LOG_ERR, "%s", cerr.msg);
		return EXIT_CONFIG;
	}
	/* Watch before resolving: no link change falls in between. */
	if (iface_watch_open(&a->watch, &a->own, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return EXIT_RUNTIME;
	}
	if (iface_resolve(&a->ifaces, a->conf, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s: %s", source, err);
		return EXIT_CONFIG;
	}
	iface_warn_settings(&a->ifaces);
	if (a->conf->cpu >= 0 && pin_cpu(a->conf->cpu) < 0)
		return EXIT_CONFIG;
	a->peer_set = malloc(PEERSET_MAX * sizeof(*a->peer_set));
	a->deny = malloc((PEERSET_MAX + OWN_ADDR_MAX) * sizeof(*a->deny));
	if (!a->peer_set || !a->deny) {
		log_msg(LOG_ERR, "peers: out of memory");
		return EXIT_RUNTIME;
	}
	memcpy(a->peer_set, a->conf->peers, a->conf->n_peers * sizeof(*a->peer_set));
	a->n_peer_set = peerset_normalize(a->peer_set, a->conf->n_peers);
	build_policy(a);
	if (setup_limits(a) < 0)
		return EXIT_RUNTIME;
	rc = peer_fwd_open(&a->peers, a->conf, ratelimit_now(), err, sizeof(err));
	if (rc != EXIT_OK) {
		log_msg(LOG_ERR, "%s: %s", rc == EXIT_CONFIG ? source : "startup", err);
		return rc;
	}
	if (open_signals(a) < 0) {
		log_msg(LOG_ERR, "signalfd: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	if (input_open(&a->input, a->conf, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return EXIT_INPUT;
	}
	if (forward_open(&a->fwd, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return EXIT_OUTPUT;
	}
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0 || epoll_add(a->epfd, a->sigfd) < 0 ||
	    epoll_add(a->epfd, input_fd(&a->input)) < 0 ||
	    epoll_add(a->epfd, a->watch.fd) < 0) {
		log_msg(LOG_ERR, "epoll: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	log_limit_init(&a->loglim, LOG_PACKET_RATE, LOG_PACKET_BURST, ratelimit_now());
	a->log_packets = log_verbose() >= 1;
	setup_owner(a);
	a->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (a->timerfd < 0 || arm_timer(a) < 0 || epoll_add(a->epfd, a->timerfd) < 0) {
		log_msg(LOG_ERR, "stats timer: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	if (a->conf->install_rules &&
	    rules_install(&a->rules, a->conf, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return EXIT_RULES;
	}
	/* Queries leave now; a name that does not answer is only a
	 * warning (peers_dns.c), never a reason not to start. */
	if (dns_follow(a, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* ---- live reload (SIGHUP) ------------------------------------------- */

/* What a reload prepares before touching anything: every step that can
 * fail happens here, so that a failure leaves the agent as it was. */
struct staged {
	struct iface_set ifaces;
	struct fair_bucket iface_bucket[PMTUD_MAX_IFACES];
	struct rl_table *src_limit;	/* new table: its size changed */
	struct input input;		/* new input: group/queue changed */
	bool new_input;
	struct peer_forwarder peers;	/* new peer relay: a peer key changed */
	bool new_peers;
};

/* The peer relay's sockets and budget follow these keys: a change
 * opens a new relay (reload), which takes over the counters of the
 * peers it keeps. */
static bool peers_changed(const struct pmtud_conf *o, const struct pmtud_conf *n)
{
	unsigned i;

	if (o->n_peers != n->n_peers || o->peer_ttl != n->peer_ttl ||
	    o->peer_rate != n->peer_rate || o->peer_rate_auto != n->peer_rate_auto ||
	    o->n_peer_names != n->n_peer_names ||
	    memcmp(o->peer_names, n->peer_names, sizeof(o->peer_names)) != 0 ||
	    !pmtud_addr_eq(&o->peer_source[0], &n->peer_source[0]) ||
	    !pmtud_addr_eq(&o->peer_source[1], &n->peer_source[1]))
		return true;
	for (i = 0; i < n->n_peers; i++)
		if (!pmtud_addr_eq(&o->peers[i], &n->peers[i]))
			return true;
	return false;
}

/* The key whose change a reload cannot apply, or NULL. These are bound
 * to the process: the input kind, the table's name and ownership, the
 * pinned CPU, the socket buffer. */
static const char *restart_key(const struct pmtud_conf *o, const struct pmtud_conf *n)
{
	if (o->input != n->input)
		return "input";
	if (strcmp(o->table, n->table) != 0)
		return "table";
	if (o->install_rules != n->install_rules)
		return "install_rules";
	if (o->cpu != n->cpu)
		return "cpu";
	if (o->rcvbuf != n->rcvbuf)
		return "rcvbuf";
	if (strcmp(o->user, n->user) != 0)
		return "user";
	return NULL;
}

static bool input_changed(const struct pmtud_conf *o, const struct pmtud_conf *n)
{
	if (n->input == INPUT_NFQUEUE)
		return o->queue_num != n->queue_num;
	return o->nflog_group != n->nflog_group;
}

/* Interfaces kept by name keep their bucket (tokens and fair level
 * included). */
static void stage_buckets(const struct agent *a, const struct pmtud_conf *n,
			  struct staged *st)
{
	uint64_t now = ratelimit_now();
	unsigned i, j;

	for (i = 0; i < st->ifaces.n; i++) {
		struct fair_bucket *fb = &st->iface_bucket[i];

		for (j = 0; j < a->ifaces.n; j++)
			if (!strcmp(a->ifaces.ifs[j].name, st->ifaces.ifs[i].name))
				break;
		if (j < a->ifaces.n) {
			*fb = a->iface_bucket[j];
			tb_set_rate(&fb->tb, n->iface_rate, n->iface_burst);
		} else {
			fair_bucket_init(fb, n->iface_rate, n->iface_burst, now);
		}
	}
}

static void unstage(struct staged *st)
{
	rl_table_free(st->src_limit);
	if (st->new_input)
		input_close(&st->input);	/* closing also leaves epoll */
	if (st->new_peers)
		peer_fwd_close(&st->peers);
}

static int stage(struct agent *a, const struct pmtud_conf *n, struct staged *st,
		 char *err, size_t errlen)
{
	if (iface_resolve(&st->ifaces, n, err, errlen) < 0)
		return -1;
	stage_buckets(a, n, st);
	if (n->src_table_size != a->conf->src_table_size) {
		st->src_limit = rl_table_new(n->src_table_size, n->src_rate,
					     n->src_burst, NULL);
		if (!st->src_limit) {
			snprintf(err, errlen, "cannot allocate the rate-limit table: %s",
				 strerror(errno));
			return -1;
		}
	}
	/* The new input is bound before the rules point at it, and the
	 * old one closed after: no PTB finds nobody listening. */
	if (input_changed(a->conf, n)) {
		st->new_input = true;	/* closing a failed open is safe */
		if (input_open(&st->input, n, err, errlen) < 0)
			return -1;
		if (epoll_add(a->epfd, input_fd(&st->input)) < 0) {
			snprintf(err, errlen, "epoll: %s", strerror(errno));
			return -1;
		}
	}
	if (peers_changed(a->conf, n)) {
		st->new_peers = true;	/* closing a failed open is safe */
		if (peer_fwd_open(&st->peers, n, ratelimit_now(), err, errlen) != 0)
			return -1;
	}
	if (n->install_rules && rules_update(&a->rules, a->conf, n, err, errlen) < 0)
		return -1;
	return 0;
}

/* Nothing here can fail: the switch to the staged state. */
static void commit(struct agent *a, const struct pmtud_conf *n, struct staged *st)
{
	if (st->new_input) {
		/* What the old input still holds arrived under the old rules. */
		a->now = ratelimit_now();
		input_receive(&a->input, on_packet, a);
		a->lost_base.input_enobufs += input_enobufs(&a->input);
		a->lost_base.input_seq_gaps += input_gaps(&a->input);
		input_switches(&a->input, &a->lost_base.input_to_batch,
			       &a->lost_base.input_to_immediate);
		input_close(&a->input);
		a->input = st->input;
	}
	if (st->new_peers) {
		peer_fwd_take_counters(&st->peers, &a->peers);
		peer_fwd_close(&a->peers);
		a->peers = st->peers;
	}
	a->ifaces = st->ifaces;
	memcpy(a->iface_bucket, st->iface_bucket, sizeof(a->iface_bucket));
	if (st->src_limit) {
		rl_table_free(a->src_limit);
		a->src_limit = st->src_limit;
	} else if (rl_table_set_rate(a->src_limit, n->src_rate, n->src_burst) < 0) {
		log_msg(LOG_WARNING, "reload: src_rate %g, src_burst %g refused by "
			"the rate limiter: %s", n->src_rate, n->src_burst, strerror(errno));
	}
	if (strcmp(a->conf->metrics_file, n->metrics_file) != 0)
		a->metrics_failing = false;
	dedup_set_window(&a->dedup, n->dedup_window);
	owner_set_rate(&a->owner, n->owner_rate, owner_burst(n));
	a->conf = n;
	build_policy(a);
	log_init(n->verbose);
	a->log_packets = log_verbose() >= 1;
	if (arm_timer(a) < 0)
		log_msg(LOG_WARNING, "reload: stats timer: %s", strerror(errno));
}

static void log_started(const struct agent *a);

/* SIGHUP: the file and the same command line again, into the spare
 * slot. Invalid, or not applicable: one line why, and the running
 * configuration stays exactly as it was. */
static void reload(struct agent *a)
{
	struct pmtud_conf *n = &a->conf_slot[a->conf == &a->conf_slot[0]];
	struct staged st;
	struct cli_result res;
	struct conf_error cerr;
	const char *source, *key;
	char err[512];

	memset(&st, 0, sizeof(st));
	if (cli_configure(a->argc, a->argv, n, &res, &cerr) < 0 ||
	    conf_check_host(n, res.config_path ? res.config_path : "command line",
			    &cerr) < 0) {
		log_msg(LOG_ERR, "reload failed, configuration unchanged: %s", cerr.msg);
		a->cnt.reloads_failed++;
		return;
	}
	source = res.config_path ? res.config_path : "command line";
	key = restart_key(a->conf, n);
	if (key) {
		log_msg(LOG_ERR, "reload refused, configuration unchanged: %s: "
			"changing \"%s\" requires a restart", source, key);
		a->cnt.reloads_failed++;
		return;
	}
	if (stage(a, n, &st, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "reload failed, configuration unchanged: %s: %s",
			source, err);
		unstage(&st);
		a->cnt.reloads_failed++;
		return;
	}
	commit(a, n, &st);
	if (dns_follow(a, err, sizeof(err)) < 0)
		log_msg(LOG_WARNING, "reload: %s: peer names not followed", err);
	apply_peers(a, true);
	a->cnt.reloads_ok++;
	log_msg(LOG_NOTICE, "reload: configuration from %s applied", source);
	iface_warn_settings(&a->ifaces);
	log_started(a);
}

static void log_started(const struct agent *a)
{
	char names[PMTUD_MAX_IFACES * (IFNAMSIZ + 1)], what[32];
	size_t off = 0;
	unsigned i;

	names[0] = '\0';
	for (i = 0; i < a->ifaces.n; i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
					i ? "," : "", a->ifaces.ifs[i].name);
	/* NFQUEUE reports only the source MAC of an IP packet, not its
	 * Ethernet header, which is where use_src_mac takes it from. */
	if (a->conf->input == INPUT_NFQUEUE && a->conf->use_src_mac)
		log_msg(LOG_WARNING, "use_src_mac: NFQUEUE delivers no Ethernet "
			"header: copies carry the interface's MAC address");
	if (!a->conf->install_rules)
		log_msg(LOG_INFO, "rules: not installed (install_rules false): "
			"the operator's ruleset must %s %u",
			a->conf->input == INPUT_NFQUEUE ? "queue (bypass) to queue" : "log to group",
			a->conf->input == INPUT_NFQUEUE ? a->conf->queue_num : a->conf->nflog_group);
	else
		log_msg(LOG_INFO, "rules: table inet %s installed, %s", a->rules.table,
			a->rules.owner ? "owner mode (the kernel removes it when pmtud-nf exits)"
				       : "fallback mode (no owner flag: removed on clean stop, swept at start)");
	log_msg(LOG_INFO, "%s %s running: input %s, interfaces %s, "
		"src_rate %g/s (burst %g, key %s), iface_rate %g/s (burst %g)%s",
		PACKAGE_NAME, PACKAGE_VERSION,
		input_describe(a->conf, what, sizeof(what)), names,
		a->conf->src_rate, a->conf->src_burst,
		a->conf->src_key == SRC_KEY_FLOW ? "flow" : "source",
		a->conf->iface_rate, a->conf->iface_burst,
		a->conf->dry_run ? ", dry run (nothing is sent)" : "");
	if (!a->peers.n && !a->conf->n_peer_names && !a->conf->broadcast)
		log_msg(LOG_WARNING, "broadcast is off and no peer is configured: "
			"no PTB is relayed");
	log_msg(LOG_INFO, "flow owners: %g lookups/s, %s%s", a->conf->owner_rate,
		a->conf->relay_owned ? "owned flows relayed too" : "owned flows not relayed",
		a->conf->input == INPUT_NFQUEUE ? "; copies from other agents not seen "
		"(NFQUEUE input)" : "");
	if (a->peers.n)
		log_msg(LOG_INFO, "relaying to %u peer(s): peer_rate %g/s in total, "
			"ttl %u%s", a->peers.n, a->conf->peer_rate, a->conf->peer_ttl,
			a->conf->broadcast ? "" : ", no broadcast copies");
	if (a->peers.n || a->conf->n_peer_names)
		log_msg(LOG_INFO, "relaying to %u peer(s) and %u name(s): peer_rate "
			"%g/s in total%s, ttl %u%s", a->peers.n, a->conf->n_peer_names,
			a->conf->peer_rate_auto && a->conf->n_peer_names ? 10.0 * (a->peers.n ? a->peers.n : 1)
									 : a->conf->peer_rate,
			a->conf->peer_rate_auto && a->conf->n_peer_names ? " (10 per peer)" : "",
			a->conf->peer_ttl, a->conf->broadcast ? "" : ", no broadcast copies");
}

static void teardown(struct agent *a)
{
	/* NFQUEUE loses nothing avoidable: the rules go first (table and
	 * hook stay), so nothing new is queued; the input then accepts what
	 * it holds and unbinds; only then does the table, with its hook,
	 * go: unregistering a hook drops every packet still queued in the
	 * namespace, and none of ours is left. See pmtud-nf(8). */
	rules_quiesce(&a->rules);
	input_close(&a->input);
	rules_remove(&a->rules);
	forward_close(&a->fwd);
	iface_watch_close(&a->watch);
	peer_fwd_close(&a->peers);
	owner_close(&a->owner);
	peers_dns_free(a->dns);
	free(a->peer_set);
	free(a->deny);
	rl_table_free(a->src_limit);
	if (a->epfd >= 0)
		close(a->epfd);
	if (a->sigfd >= 0)
		close(a->sigfd);
	if (a->timerfd >= 0)
		close(a->timerfd);
}

/* Setup done: from here on only the two capabilities the loop and a
 * reload need (rules, binds: NET_ADMIN; AF_PACKET, peers: NET_RAW). */
static int drop_privileges(const struct agent *a)
{
	char line[256], err[512];
	int rc;

	rc = privs_drop(a->conf->user, line, sizeof(line), err, sizeof(err));
	if (rc != EXIT_OK) {
		log_msg(LOG_ERR, "privileges: %s", err);
		return rc;
	}
	log_msg(LOG_INFO, "%s", line);
	return EXIT_OK;
}

#ifdef HAVE_LIBSYSTEMD
/* WatchdogSec= set (and meant for us): kick at half the interval. */
static void watchdog_setup(struct agent *a)
{
	uint64_t usec;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return;
	a->wd_half_ns = usec * 1000 / 2;
	a->wd_last_ns = ratelimit_now();
	sd_notify(0, "WATCHDOG=1");
	log_msg(LOG_INFO, "systemd watchdog: %llu ms, kicked every %llu ms",
		(unsigned long long)(usec / 1000),
		(unsigned long long)(a->wd_half_ns / 1000000));
}
#endif

int agent_run(const struct pmtud_conf *c, const char *config_path,
	      int argc, char **argv)
{
	/* Large (per-interface state): keep it off the stack. */
	static struct agent a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.conf_slot[0] = *c;
	a.conf = c = &a.conf_slot[0];
	a.argc = argc;
	a.argv = argv;
	a.sigfd = a.epfd = a.fwd.fd = a.timerfd = a.watch.fd = -1;
	a.peers.fam[0].fd = a.peers.fam[1].fd = -1;
	a.owner.fd = a.owner.timerfd = -1;
	rc = setup(&a, config_path ? config_path : "command line");
	if (rc == EXIT_OK)
		rc = drop_privileges(&a);
	if (rc == EXIT_OK) {
		log_started(&a);
#ifdef HAVE_LIBSYSTEMD
		{
			char status[64];

			sd_notifyf(0, "READY=1\nSTATUS=%s",
				   status_line(&a, status, sizeof(status)));
		}
		watchdog_setup(&a);
#endif
		rc = event_loop(&a);
#ifdef HAVE_LIBSYSTEMD
		sd_notify(0, "STOPPING=1");
#endif
		report_suppressed(&a);
		write_metrics(&a);
		log_counters(&a);
	}
	teardown(&a);
	return rc;
}
