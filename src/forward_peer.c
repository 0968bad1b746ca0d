/* forward_peer.c - relay accepted PTBs to peers on other subnets.
 *
 * A copy is the ICMP message as received, in a new IP packet from this
 * host to the peer's node address. The peer's kernel matches the
 * quoted flow to its socket and lowers the path MTU whether or not it
 * runs pmtud-nf. Loops cannot form: a copy's outer destination is the
 * peer's node address, not the quoted source, so a receiving agent's
 * classifier drops it (dst_mismatch); and an agent that lists us as a
 * peer neither logs (rules.c) nor relays (classifier) what we send.
 */
#include "config.h"
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include "forward_peer.h"
#include "log.h"
#include "peerset.h"

#define LOG_INTERVAL_NS	(10ULL * 1000000000ULL)	/* one error line per peer */
#define LOG_PEERS_MAX	64	/* per-peer stats lines on SIGUSR1 */
#define MMSG_BATCH	1024	/* UIO_MAXIOV: messages per sendmmsg() */

/* Outer IPv6 headers that may precede the ICMPv6 header (no fragment:
 * the classifier drops fragments). */
#define NH_HOPOPTS	0
#define NH_ROUTING	43
#define NH_DSTOPTS	60

static int open_fail(struct peer_forwarder *pf, char *err, size_t errlen,
		     const char *what, int family)
{
	snprintf(err, errlen, "peer relay: %s socket: %s: %s",
		 family == AF_INET ? "ICMP" : "ICMPv6", what, strerror(errno));
	peer_fwd_close(pf);
	return EXIT_OUTPUT;
}

/* A raw ICMP socket receives a clone of every ICMP packet the host
 * gets. Block all types before the clone is made (ICMP_FILTER covers
 * types 0..31, ICMP6_FILTER all 256), and let a BPF program returning
 * 0 drop whatever remains, so the receive queue stays empty. */
static int block_input(int fd, int family)
{
	static struct sock_filter drop_all[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = drop_all };
	struct icmp6_filter f6;
	struct icmp_filter f4 = { .data = ~0U };

	if (family == AF_INET) {
		if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &f4, sizeof(f4)) < 0)
			return -1;
	} else {
		ICMP6_FILTER_SETBLOCKALL(&f6);
		if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f6, sizeof(f6)) < 0)
			return -1;
	}
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static socklen_t to_sockaddr(const struct pmtud_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr = a->v4;
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a->v6;
		return sizeof(*sin6);
	}
}

/* The anycast VIP usually sits on lo: a copy from it is a martian at
 * every peer that holds the VIP too. We cannot know the VIP; warn. */
static void warn_if_loopback(const struct pmtud_addr *src)
{
	struct ifaddrs *ifa, *i;
	char buf[PMTUD_ADDRSTRLEN];

	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		const void *a;
		size_t alen;

		if (!i->ifa_addr || i->ifa_addr->sa_family != src->family ||
		    !(i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (src->family == AF_INET) {
			a = &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
			alen = 4;
		} else {
			a = &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;
			alen = 16;
		}
		if (memcmp(a, src->a, alen) == 0) {
			log_msg(LOG_WARNING, "peer_source %s is on the loopback "
				"interface %s: if it is the anycast address, peers "
				"holding it drop the copies as martians",
				pmtud_addr_str(src, buf), i->ifa_name);
			break;
		}
	}
	freeifaddrs(ifa);
}

static int open_family(struct peer_forwarder *pf, int family,
		       const struct pmtud_addr *src, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char buf[PMTUD_ADDRSTRLEN];
	int ttl = (int)pf->ttl, pmtudisc = IP_PMTUDISC_DO, on = 1;
	int fd;

	fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	if (fd < 0)
		return open_fail(pf, err, errlen, "socket", family);
	pf->fam[family == AF_INET6].fd = fd;
	if (block_input(fd, family) < 0)
		return open_fail(pf, err, errlen, "receive filter", family);
	/* ICMPv6: the kernel always fills in the checksum of a raw
	 * IPPROTO_ICMPV6 socket (offset 2, IPV6_CHECKSUM is refused). */
	if (family == AF_INET ?
	    setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0 :
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl)) < 0)
		return open_fail(pf, err, errlen, "TTL", family);
	/* Never fragment a copy: the kernel refuses one longer than the
	 * route's MTU with EMSGSIZE (counted per peer). A copy is no
	 * longer than the PTB it carries, which the classifier bounds to
	 * 576 bytes (IPv4) or 1280 (IPv6, the minimum MTU): it fits in
	 * practice. */
	if (family == AF_INET ?
	    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtudisc, sizeof(pmtudisc)) < 0 :
	    setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &on, sizeof(on)) < 0)
		return open_fail(pf, err, errlen, "don't fragment", family);
	if (!src->family)
		return 0;
	if (bind(fd, (struct sockaddr *)&ss, to_sockaddr(src, &ss)) < 0) {
		if (errno != EADDRNOTAVAIL)
			return open_fail(pf, err, errlen, "bind", family);
		snprintf(err, errlen, "key \"peer_source\": %s is not an address "
			 "of this host", pmtud_addr_str(src, buf));
		peer_fwd_close(pf);
		return EXIT_CONFIG;
	}
	warn_if_loopback(src);
	return 0;
}

static int family_alloc(struct peer_family *f, unsigned cap)
{
	f->cap = cap;
	f->peers = calloc(cap, sizeof(*f->peers));
	f->sa = calloc(cap, sizeof(*f->sa));
	f->msgs = calloc(cap, sizeof(*f->msgs));
	return f->peers && f->sa && f->msgs ? 0 : -1;
}

static double budget_rate(const struct peer_forwarder *pf)
{
	if (pf->rate > 0)
		return pf->rate;
	return 10.0 * (pf->n ? pf->n : 1);
}

/* A whole fan-out must fit in the bucket. */
static double budget_burst(const struct peer_forwarder *pf)
{
	double rate = budget_rate(pf);

	return rate > pf->n ? (rate > 1 ? rate : 1) : pf->n;
}

int peer_fwd_open(struct peer_forwarder *pf, const struct pmtud_conf *c,
		  uint64_t now_ns, char *err, size_t errlen)
{
	struct pmtud_addr set[PMTUD_MAX_PEERS];
	size_t n = c->n_peers;
	unsigned i;
	int rc;

	memset(pf, 0, sizeof(*pf));
	pf->fam[0].fd = pf->fam[1].fd = -1;
	pf->ttl = c->peer_ttl;
	pf->rate = c->peer_rate_auto && c->n_peer_names ? 0 : c->peer_rate;
	memcpy(set, c->peers, n * sizeof(set[0]));
	n = peerset_normalize(set, n);
	for (i = 0; i < 2; i++) {
		int family = i ? AF_INET6 : AF_INET;
		unsigned cap = c->n_peer_names ? PEERSET_MAX
					       : (unsigned)peerset_count(set, n, family);

		if (!cap)
			continue;
		if (family_alloc(&pf->fam[i], cap) < 0) {
			snprintf(err, errlen, "peer relay: out of memory");
			peer_fwd_close(pf);
			return EXIT_OUTPUT;
		}
		rc = open_family(pf, family, &c->peer_source[i], err, errlen);
		if (rc)
			return rc;
	}
	tb_init(&pf->budget, 1, 1, now_ns);
	peer_fwd_set(pf, set, n);
	return 0;
}

/* The new peers of one family, in v's order; counters carried over
 * from the old list (both canonical: one merge walk). */
static void family_set(struct peer_family *f, const struct pmtud_addr *v,
		       size_t n, struct iovec *iov)
{
	struct peer_state *old = NULL;
	unsigned i, j = 0, n_old = f->n;

	if (f->n) {
		old = malloc(f->n * sizeof(*old));
		if (old)
			memcpy(old, f->peers, f->n * sizeof(*old));
		else
			n_old = 0;	/* counters restart; the set still changes */
	}
	for (i = 0; i < n; i++) {
		struct peer_state *p = &f->peers[i];
		struct sockaddr_storage ss;
		socklen_t sl = to_sockaddr(&v[i], &ss);

		while (j < n_old && peerset_cmp(&old[j].addr, &v[i]) < 0)
			j++;
		if (j < n_old && peerset_cmp(&old[j].addr, &v[i]) == 0)
			*p = old[j];
		else
			memset(p, 0, sizeof(*p));
		p->addr = v[i];
		memcpy(&f->sa[i], &ss, sl);
		memset(&f->msgs[i], 0, sizeof(f->msgs[i]));
		f->msgs[i].msg_hdr.msg_name = &f->sa[i];
		f->msgs[i].msg_hdr.msg_namelen = sl;
		f->msgs[i].msg_hdr.msg_iov = iov;
		f->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	free(old);
	f->n = (unsigned)n;
	if (f->next >= f->n)
		f->next = 0;
}

unsigned peer_fwd_set(struct peer_forwarder *pf, const struct pmtud_addr *v,
		      size_t n)
{
	size_t n4 = peerset_count(v, n, AF_INET), n6 = n - n4;
	unsigned left_out = 0;

	/* Canonical order: the IPv4 addresses come first. */
	if (pf->fam[0].fd < 0 || n4 > pf->fam[0].cap) {
		left_out += (unsigned)(pf->fam[0].fd < 0 ? n4 : n4 - pf->fam[0].cap);
		family_set(&pf->fam[0], v, pf->fam[0].fd < 0 ? 0 : pf->fam[0].cap, &pf->iov);
	} else {
		family_set(&pf->fam[0], v, n4, &pf->iov);
	}
	if (pf->fam[1].fd < 0 || n6 > pf->fam[1].cap) {
		left_out += (unsigned)(pf->fam[1].fd < 0 ? n6 : n6 - pf->fam[1].cap);
		family_set(&pf->fam[1], v + n4, pf->fam[1].fd < 0 ? 0 : pf->fam[1].cap, &pf->iov);
	} else {
		family_set(&pf->fam[1], v + n4, n6, &pf->iov);
	}
	pf->n = pf->fam[0].n + pf->fam[1].n;
	tb_set_rate(&pf->budget, budget_rate(pf), budget_burst(pf));
	return left_out;
}

void peer_fwd_take_counters(struct peer_forwarder *pf,
			    const struct peer_forwarder *from)
{
	unsigned f, i, j;

	for (f = 0; f < 2; f++) {
		const struct peer_family *o = &from->fam[f];
		struct peer_family *nf = &pf->fam[f];

		for (i = 0, j = 0; i < nf->n; i++) {
			while (j < o->n && peerset_cmp(&o->peers[j].addr, &nf->peers[i].addr) < 0)
				j++;
			if (j < o->n && peerset_cmp(&o->peers[j].addr, &nf->peers[i].addr) == 0) {
				nf->peers[i].sent = o->peers[j].sent;
				nf->peers[i].errors = o->peers[j].errors;
			}
		}
	}
	pf->limited = from->limited;
}

/* Where the ICMP message of a captured PTB starts and ends. */
static int icmp_span(const uint8_t *pkt, size_t len, int *family,
		     size_t *off, size_t *end)
{
	size_t tot, hl;
	uint8_t nh;

	if (len < 1)
		return -1;
	if (pkt[0] >> 4 == 4) {
		if (len < 20)
			return -1;
		*family = AF_INET;
		*off = (size_t)(pkt[0] & 0x0f) * 4;
		tot = (size_t)pkt[2] << 8 | pkt[3];
		*end = tot < len ? tot : len;
		return *off + 8 <= *end ? 0 : -1;
	}
	if (pkt[0] >> 4 != 6 || len < 40)
		return -1;
	*family = AF_INET6;
	tot = 40 + ((size_t)pkt[4] << 8 | pkt[5]);
	*end = tot < len ? tot : len;
	nh = pkt[6];
	*off = 40;
	while (nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_DSTOPTS) {
		if (*off + 8 > *end)
			return -1;
		hl = ((size_t)pkt[*off + 1] + 1) * 8;
		nh = pkt[*off];
		*off += hl;
	}
	return nh == IPPROTO_ICMPV6 && *off + 8 <= *end ? 0 : -1;
}

static void send_failed(struct peer_state *p, int errnum, uint64_t now_ns)
{
	char buf[PMTUD_ADDRSTRLEN];

	p->errors++;
	p->last_errno = errnum;
	if (now_ns < p->log_after_ns) {
		p->log_suppressed++;
		return;
	}
	if (p->log_suppressed)
		log_msg(LOG_WARNING, "peer %s: send failed: %s (and %llu "
			"failures not logged since the last message)",
			pmtud_addr_str(&p->addr, buf), strerror(errnum),
			(unsigned long long)p->log_suppressed);
	else
		log_msg(LOG_WARNING, "peer %s: send failed: %s",
			pmtud_addr_str(&p->addr, buf), strerror(errnum));
	p->log_suppressed = 0;
	p->log_after_ns = now_ns + LOG_INTERVAL_NS;
}

#ifdef PMTUD_PEER_SENDTO
/* For the fan-out benchmark only (tests/bench/fanout.sh): one system
 * call per copy, as before sendmmsg(), to compare the two. */
static int send_batch(int fd, struct mmsghdr *m, unsigned n, int flags)
{
	(void)n;
	return sendmsg(fd, &m->msg_hdr, flags) < 0 ? -1 : 1;
}
#else
#define send_batch(fd, m, n, flags)	sendmmsg(fd, m, n, flags)
#endif

/* Send msgs[0..cnt) (peers[0..cnt) of f). A message the kernel
 * refuses is counted for its peer and skipped: sendmmsg() stops at it
 * (returning the ones before, or -1 for the first), so calling again
 * from there gets its error. Returns the copies sent. */
static unsigned send_range(struct peer_family *f, unsigned first, unsigned cnt,
			   uint64_t now_ns)
{
	unsigned done = 0, i;

	while (done < cnt) {
		unsigned batch = cnt - done < MMSG_BATCH ? cnt - done : MMSG_BATCH;
		int r = send_batch(f->fd, &f->msgs[first + done], batch, MSG_DONTWAIT);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			send_failed(&f->peers[first + done], errno, now_ns);
			done++;
			continue;
		}
		for (i = 0; i < (unsigned)r; i++)
			f->peers[first + done + i].sent++;
		done += (unsigned)r;
	}
	return done;
}

unsigned peer_fwd_send(struct peer_forwarder *pf, const uint8_t *pkt,
		       size_t len, uint64_t now_ns)
{
	struct peer_family *f;
	size_t off, end;
	unsigned k, take, first, sent = 0;
	int family;

	if (pf->n == 0 || icmp_span(pkt, len, &family, &off, &end) < 0)
		return 0;
	f = &pf->fam[family == AF_INET6];
	if (f->fd < 0 || f->n == 0)
		return 0;
	for (take = 0; take < f->n && tb_allow(&pf->budget, now_ns); take++)
		;
	pf->limited += f->n - take;
	if (take == 0)
		return 0;
	pf->iov.iov_base = (void *)(uintptr_t)(pkt + off);
	pf->iov.iov_len = end - off;
	/* From next, wrapping: at most two contiguous runs. */
	first = f->next;
	k = take < f->n - first ? take : f->n - first;
	sent += send_range(f, first, k, now_ns);
	if (k < take)
		sent += send_range(f, 0, take - k, now_ns);
	/* With a short budget, the next PTB starts after the last peer. */
	f->next = (first + take) % f->n;
	return sent;
}

unsigned peer_fwd_count(const struct peer_forwarder *pf, int family)
{
	return pf->fam[family == AF_INET6].n;
}

const struct peer_state *peer_fwd_peer(const struct peer_forwarder *pf,
				       unsigned i)
{
	if (i < pf->fam[0].n)
		return &pf->fam[0].peers[i];
	i -= pf->fam[0].n;
	return i < pf->fam[1].n ? &pf->fam[1].peers[i] : NULL;
}

void peer_fwd_totals(const struct peer_forwarder *pf, uint64_t *sent,
		     uint64_t *errors)
{
	const struct peer_state *p;
	unsigned i;

	*sent = *errors = 0;
	for (i = 0; (p = peer_fwd_peer(pf, i)); i++) {
		*sent += p->sent;
		*errors += p->errors;
	}
}

void peer_fwd_log_stats(const struct peer_forwarder *pf)
{
	char buf[PMTUD_ADDRSTRLEN];
	const struct peer_state *p;
	uint64_t sent, errors;
	unsigned i;

	if (pf->n == 0)
		return;
	peer_fwd_totals(pf, &sent, &errors);
	log_msg(LOG_INFO, "peers: %u (%u IPv4, %u IPv6) sent=%llu errors=%llu limited=%llu",
		pf->n, pf->fam[0].n, pf->fam[1].n,
		(unsigned long long)sent, (unsigned long long)errors,
		(unsigned long long)pf->limited);
	for (i = 0; i < LOG_PEERS_MAX && (p = peer_fwd_peer(pf, i)); i++)
		log_msg(LOG_INFO, "peer %s: sent=%llu errors=%llu last_error=%s",
			pmtud_addr_str(&p->addr, buf),
			(unsigned long long)p->sent, (unsigned long long)p->errors,
			p->last_errno ? strerror(p->last_errno) : "none");
	if (pf->n > LOG_PEERS_MAX)
		log_msg(LOG_INFO, "peers: %u more not listed", pf->n - LOG_PEERS_MAX);
}

void peer_fwd_close(struct peer_forwarder *pf)
{
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct peer_family *f = &pf->fam[i];

		if (f->fd >= 0)
			close(f->fd);
		free(f->peers);
		free(f->sa);
		free(f->msgs);
		memset(f, 0, sizeof(*f));
		f->fd = -1;
	}
	pf->n = 0;
}
