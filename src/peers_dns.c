/* peers_dns.c - peer host names resolved by c-ares inside the event
 * loop: one nested epoll instance holds c-ares' sockets (through its
 * socket-state callback) and a timerfd armed for the earliest of the
 * next refresh and c-ares' own retransmission timeout.
 *
 * c-ares rather than getaddrinfo(3): it never blocks the loop, and it
 * reports each record's TTL, which drives the refresh.
 */
#include "config.h"
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <ares.h>
#include "log.h"
#include "peers_dns.h"

#define NS		1000000000ULL
#define QUERY_TIMEOUT_MS 1000	/* first try per server; c-ares doubles it */
#define QUERY_TRIES	2	/* a dead server costs about 3 s, then "failed" */

struct name {
	struct peers_dns *d;
	char host[PMTUD_HOSTNAME_MAXLEN];
	struct pmtud_addr *addrs;	/* last good answer, canonical */
	size_t n;
	enum peer_result state;		/* last answer's; PEER_RESULT_MAX: none yet */
	bool in_flight;
	uint64_t due_ns;		/* next query */
};

struct peers_dns {
	ares_channel ch;
	int ep, tfd;
	struct name *names;
	unsigned n;
	uint32_t refresh_min, refresh_max;	/* seconds */
	struct pmtud_prefix vips[PMTUD_MAX_VIPS];	/* answers inside are no peers */
	unsigned n_vips;
	uint64_t counts[PEER_RESULT_MAX];
	peers_dns_changed_cb cb;
	void *arg;
	bool changed;		/* a name's addresses changed: call cb */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* c-ares opens, watches and closes its sockets through this. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct peers_dns *d = data;
	struct epoll_event ev = { .data.fd = fd };

	if (!readable && !writable) {
		epoll_ctl(d->ep, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	ev.events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
	if (epoll_ctl(d->ep, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		log_msg(LOG_WARNING, "peer names: epoll: %s", strerror(errno));
}

static int channel_new(struct peers_dns *d, ares_channel *ch, char *err,
		       size_t errlen)
{
	struct ares_options o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = d;
	o.timeout = QUERY_TIMEOUT_MS;
	o.tries = QUERY_TRIES;
	rc = ares_init_options(ch, &o, ARES_OPT_SOCK_STATE_CB |
			       ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "peer names: resolver set-up (c-ares): %s",
			 ares_strerror(rc));
		return -1;
	}
	return 0;
}

static uint32_t clamp_ttl(const struct peers_dns *d, long ttl)
{
	if (ttl < (long)d->refresh_min)
		return d->refresh_min;
	if (ttl > (long)d->refresh_max)
		return d->refresh_max;
	return (uint32_t)ttl;
}

/* The addresses of an answer (at most PEERSET_MAX) and its smallest
 * TTL. *v is allocated (NULL when there is none); *nomem on failure. */
static size_t answer_addrs(const struct ares_addrinfo *res, struct pmtud_addr **v,
			   long *ttl, bool *nomem)
{
	const struct ares_addrinfo_node *nd;
	size_t n = 0, cap = 0;

	*v = NULL;
	*ttl = -1;
	for (nd = res ? res->nodes : NULL; nd; nd = nd->ai_next)
		cap++;
	if (cap > PEERSET_MAX)
		cap = PEERSET_MAX;
	if (cap && !(*v = calloc(cap, sizeof(**v)))) {
		*nomem = true;
		return 0;
	}
	for (nd = res ? res->nodes : NULL; nd && n < cap; nd = nd->ai_next) {
		struct pmtud_addr *a = &(*v)[n];

		if (nd->ai_family == AF_INET &&
		    nd->ai_addrlen >= (ares_socklen_t)sizeof(struct sockaddr_in)) {
			a->family = AF_INET;
			a->v4 = ((const struct sockaddr_in *)(const void *)nd->ai_addr)->sin_addr;
		} else if (nd->ai_family == AF_INET6 &&
			   nd->ai_addrlen >= (ares_socklen_t)sizeof(struct sockaddr_in6)) {
			a->family = AF_INET6;
			a->v6 = ((const struct sockaddr_in6 *)(const void *)nd->ai_addr)->sin6_addr;
		} else {
			continue;
		}
		if (*ttl < 0 || nd->ai_ttl < *ttl)
			*ttl = nd->ai_ttl;
		n++;
	}
	return n;
}

/* Left out of an answer: what no peer can be (loopback, multicast,
 * ...), this host's own addresses (a fleet's name lists this server
 * too) and anycast addresses (inside a prefix of vips), as for the
 * addresses configured. Returns the count kept. */
static size_t answer_filter(const struct peers_dns *d, struct pmtud_addr *v, size_t n)
{
	struct ifaddrs *list = NULL;
	size_t i, j, k = 0;

	if (getifaddrs(&list) < 0)
		list = NULL;	/* then only the other tests apply */
	for (i = 0; i < n; i++) {
		bool drop = conf_peer_unusable(&v[i]) || (list && conf_own_iface(list, &v[i]));

		for (j = 0; !drop && j < d->n_vips; j++)
			drop = d->vips[j].len && pmtud_prefix_has(&d->vips[j], &v[i]);
		if (!drop)
			v[k++] = v[i];
	}
	if (list)
		freeifaddrs(list);
	return k;
}

/* One line per change of state, not per answer. */
static void log_answer(const struct name *nm, enum peer_result r,
		       enum peer_result was, size_t n_was, int status, uint32_t next)
{
	unsigned n4 = (unsigned)peerset_count(nm->addrs, nm->n, AF_INET);
	const char *why = status == ARES_SUCCESS ? "no A or AAAA record"
						 : ares_strerror(status);

	switch (r) {
	case PEER_RESULT_CHANGED:
		log_msg(LOG_NOTICE, "peer name %s: %zu address(es) (%u IPv4, %u IPv6), "
			"before %zu; next query in %u s", nm->host, nm->n, n4,
			(unsigned)nm->n - n4, n_was, next);
		break;
	case PEER_RESULT_OK:
		if (was != PEER_RESULT_OK && was != PEER_RESULT_CHANGED)
			log_msg(LOG_NOTICE, "peer name %s answers again: %zu address(es), "
				"unchanged", nm->host, nm->n);
		break;
	case PEER_RESULT_FAILED:
	case PEER_RESULT_EMPTY:
		if (r == was)
			break;
		if (was == PEER_RESULT_MAX)
			log_msg(LOG_WARNING, "peer name %s does not resolve (%s): "
				"relaying without it until it does; retrying every %u s",
				nm->host, why, next);
		else
			log_msg(LOG_WARNING, "peer name %s: %s (%s): keeping its %zu "
				"last address(es); retrying every %u s", nm->host,
				r == PEER_RESULT_EMPTY ? "empty answer" : "no answer",
				why, nm->n, next);
		break;
	default:
		break;
	}
}

static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct name *nm = arg;
	struct peers_dns *d = nm->d;
	struct pmtud_addr *ans = NULL;
	enum peer_result r, was = nm->state;
	size_t n_ans = 0, n_was = nm->n;
	bool nomem = false;
	long ttl = -1;
	uint32_t next;

	(void)timeouts;
	nm->in_flight = false;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
		ares_freeaddrinfo(res);
		return;		/* the channel goes away (reload, exit) */
	}
	if (status == ARES_SUCCESS)
		n_ans = answer_filter(d, ans, answer_addrs(res, &ans, &ttl, &nomem));
	ares_freeaddrinfo(res);
	if (nomem)
		status = ARES_ENOMEM;	/* counted as failed: try again later */
	if (status == ARES_SUCCESS || status == ARES_ENOTFOUND || status == ARES_ENODATA) {
		/* Room for the answer: cur grows only on a change. */
		if (n_ans > nm->n) {
			struct pmtud_addr *grown = realloc(nm->addrs, n_ans * sizeof(*grown));

			if (!grown) {
				free(ans);
				ans = NULL;
				n_ans = 0;
				status = ARES_ENOMEM;
			} else {
				nm->addrs = grown;
			}
		}
	}
	if (status == ARES_SUCCESS || status == ARES_ENOTFOUND || status == ARES_ENODATA)
		r = peerset_answer(nm->addrs, &nm->n, n_ans > nm->n ? n_ans : nm->n,
				   false, ans, n_ans);
	else
		r = PEER_RESULT_FAILED;
	free(ans);
	d->counts[r]++;
	next = r == PEER_RESULT_OK || r == PEER_RESULT_CHANGED ? clamp_ttl(d, ttl)
							     : d->refresh_min;
	nm->due_ns = now_ns() + next * NS;
	nm->state = r;
	log_answer(nm, r, was, n_was, status, next);
	if (r == PEER_RESULT_CHANGED)
		d->changed = true;
}

static void start_due(struct peers_dns *d)
{
	struct ares_addrinfo_hints hints;
	uint64_t now = now_ns();
	unsigned i;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	/* No sorting: c-ares would connect() a socket per address for it. */
	hints.ai_flags = ARES_AI_NOSORT;
	for (i = 0; i < d->n; i++) {
		struct name *nm = &d->names[i];

		if (nm->in_flight || nm->due_ns > now)
			continue;
		nm->in_flight = true;	/* the callback may run at once */
		ares_getaddrinfo(d->ch, nm->host, NULL, &hints, on_answer, nm);
	}
}

/* The timer: the next refresh, or c-ares' next timeout if sooner. */
static void arm(struct peers_dns *d)
{
	struct itimerspec its;
	struct timeval max, tv, *t;
	uint64_t now = now_ns(), next = UINT64_MAX, rel;
	unsigned i;

	for (i = 0; i < d->n; i++)
		if (!d->names[i].in_flight && d->names[i].due_ns < next)
			next = d->names[i].due_ns;
	rel = next == UINT64_MAX ? 3600 * NS : next > now ? next - now : 1;
	max.tv_sec = (time_t)(rel / NS);
	max.tv_usec = (suseconds_t)(rel % NS / 1000);
	t = ares_timeout(d->ch, &max, &tv);
	rel = (uint64_t)t->tv_sec * NS + (uint64_t)t->tv_usec * 1000;
	memset(&its, 0, sizeof(its));
	/* An answer given at once (hosts file) is applied by the next
	 * peers_dns_process(): wake the loop now. 0 would disarm. */
	if (rel == 0 || d->changed)
		rel = 1;
	its.it_value.tv_sec = (time_t)(rel / NS);
	its.it_value.tv_nsec = (long)(rel % NS);
	if (timerfd_settime(d->tfd, 0, &its, NULL) < 0)
		log_msg(LOG_WARNING, "peer names: timer: %s", strerror(errno));
}

static void names_free(struct name *v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n && v; i++)
		free(v[i].addrs);
	free(v);
}

/* The names of c; those also in old (by name, any case) take over its
 * addresses and state (and old's are moved out). */
static struct name *names_from(struct peers_dns *d, const struct pmtud_conf *c,
			       struct name *old, unsigned n_old)
{
	struct name *v = calloc(c->n_peer_names ? c->n_peer_names : 1, sizeof(*v));
	unsigned i, j;

	if (!v)
		return NULL;
	for (i = 0; i < c->n_peer_names; i++) {
		struct name *nm = &v[i];

		nm->d = d;
		nm->state = PEER_RESULT_MAX;
		memcpy(nm->host, c->peer_names[i], sizeof(nm->host));
		nm->host[sizeof(nm->host) - 1] = '\0';
		for (j = 0; j < n_old; j++) {
			if (strcasecmp(old[j].host, nm->host) != 0)
				continue;
			nm->addrs = old[j].addrs;
			nm->n = old[j].n;
			nm->state = old[j].state;
			old[j].addrs = NULL;
			old[j].n = 0;
		}
	}
	return v;
}

static void take_conf(struct peers_dns *d, const struct pmtud_conf *c)
{
	d->refresh_min = c->peers_refresh_min;
	d->refresh_max = c->peers_refresh_max;
	memcpy(d->vips, c->vips, sizeof(d->vips));
	d->n_vips = c->n_vips;
}

struct peers_dns *peers_dns_new(const struct pmtud_conf *c, peers_dns_changed_cb cb,
				void *arg, char *err, size_t errlen)
{
	struct peers_dns *d;
	struct epoll_event ev = { .events = EPOLLIN };
	int rc;

	err[0] = '\0';
	if (!c->n_peer_names)
		return NULL;
	rc = ares_library_init(ARES_LIB_INIT_ALL);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "peer names: c-ares: %s", ares_strerror(rc));
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "peer names: out of memory");
		ares_library_cleanup();
		return NULL;
	}
	d->cb = cb;
	d->arg = arg;
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev.data.fd = d->tfd;
	if (d->ep < 0 || d->tfd < 0 || epoll_ctl(d->ep, EPOLL_CTL_ADD, d->tfd, &ev) < 0) {
		snprintf(err, errlen, "peer names: epoll/timerfd: %s", strerror(errno));
		goto fail;
	}
	if (channel_new(d, &d->ch, err, errlen) < 0)
		goto fail;
	take_conf(d, c);
	d->names = names_from(d, c, NULL, 0);
	if (!d->names) {
		snprintf(err, errlen, "peer names: out of memory");
		ares_destroy(d->ch);
		goto fail;
	}
	d->n = c->n_peer_names;
	start_due(d);
	arm(d);
	return d;
fail:
	if (d->ep >= 0)
		close(d->ep);
	if (d->tfd >= 0)
		close(d->tfd);
	free(d);
	ares_library_cleanup();
	return NULL;
}

int peers_dns_reconfigure(struct peers_dns *d, const struct pmtud_conf *c,
			  char *err, size_t errlen)
{
	ares_channel ch;
	struct name *v;

	if (channel_new(d, &ch, err, errlen) < 0)
		return -1;
	/* Answers still due on the old channel are dropped (EDESTRUCTION);
	 * its sockets leave the epoll set. Names stay valid until then. */
	ares_destroy(d->ch);
	d->ch = ch;
	v = names_from(d, c, d->names, d->n);
	if (!v) {
		/* Keep the old names on the new channel: they resolve again. */
		snprintf(err, errlen, "peer names: out of memory");
		start_due(d);
		arm(d);
		return -1;
	}
	names_free(d->names, d->n);
	d->names = v;
	d->n = c->n_peer_names;
	take_conf(d, c);
	start_due(d);
	arm(d);
	return 0;
}

int peers_dns_fd(const struct peers_dns *d)
{
	return d->ep;
}

void peers_dns_process(struct peers_dns *d)
{
	struct epoll_event evs[16];
	uint64_t expirations;
	int n, i;

	n = epoll_wait(d->ep, evs, 16, 0);
	for (i = 0; i < n; i++) {
		int fd = evs[i].data.fd;

		if (fd == d->tfd) {
			if (read(d->tfd, &expirations, sizeof(expirations)) < 0 &&
			    errno != EAGAIN)
				log_msg(LOG_WARNING, "peer names: timer: %s", strerror(errno));
			continue;
		}
		ares_process_fd(d->ch,
				evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP) ? fd : ARES_SOCKET_BAD,
				evs[i].events & EPOLLOUT ? fd : ARES_SOCKET_BAD);
	}
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);	/* timeouts */
	start_due(d);
	arm(d);
	if (d->changed) {
		d->changed = false;
		d->cb(d->arg);
	}
}

size_t peers_dns_addrs(const struct peers_dns *d, struct pmtud_addr *out,
		       size_t cap, bool *truncated)
{
	struct pmtud_addr *tmp;
	size_t n = 0;
	unsigned i;

	tmp = malloc(cap * sizeof(*tmp));
	if (!tmp) {
		*truncated = true;
		return 0;
	}
	for (i = 0; i < d->n; i++) {
		memcpy(tmp, out, n * sizeof(*tmp));
		n = peerset_merge(out, cap, tmp, n, d->names[i].addrs, d->names[i].n,
				  truncated);
	}
	free(tmp);
	return n;
}

void peers_dns_counts(const struct peers_dns *d, uint64_t out[PEER_RESULT_MAX])
{
	memcpy(out, d->counts, sizeof(d->counts));
}

void peers_dns_free(struct peers_dns *d)
{
	if (!d)
		return;
	ares_destroy(d->ch);
	names_free(d->names, d->n);
	close(d->ep);
	close(d->tfd);
	free(d);
	ares_library_cleanup();
}
