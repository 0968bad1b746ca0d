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
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include "forward_peer.h"
#include "log.h"

#define LOG_INTERVAL_NS	(10ULL * 1000000000ULL)	/* one error line per peer */

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
	if (family == AF_INET)
		pf->fd4 = fd;
	else
		pf->fd6 = fd;
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

int peer_fwd_open(struct peer_forwarder *pf, const struct pmtud_conf *c,
		  uint64_t now_ns, char *err, size_t errlen)
{
	bool want4 = false, want6 = false;
	double burst;
	unsigned i;
	int rc;

	memset(pf, 0, sizeof(*pf));
	pf->fd4 = pf->fd6 = -1;
	pf->ttl = c->peer_ttl;
	pf->n = c->n_peers;
	for (i = 0; i < pf->n; i++) {
		pf->peers[i].addr = c->peers[i];
		if (c->peers[i].family == AF_INET)
			want4 = true;
		else
			want6 = true;
	}
	/* A whole fan-out must fit in the bucket. */
	burst = c->peer_rate > pf->n ? c->peer_rate : pf->n;
	tb_init(&pf->budget, c->peer_rate, burst > 1 ? burst : 1, now_ns);
	if (want4 && (rc = open_family(pf, AF_INET, &c->peer_source[0], err, errlen)))
		return rc;
	if (want6 && (rc = open_family(pf, AF_INET6, &c->peer_source[1], err, errlen)))
		return rc;
	return 0;
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

static int send_one(int fd, const struct pmtud_addr *to, const uint8_t *msg,
		    size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(to, &ss);

	for (;;) {
		if (sendto(fd, msg, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

unsigned peer_fwd_send(struct peer_forwarder *pf, const uint8_t *pkt,
		       size_t len, uint64_t now_ns)
{
	size_t off, end;
	unsigned i, k, start = pf->next, sent = 0;
	int family, fd, rc;

	if (pf->n == 0 || icmp_span(pkt, len, &family, &off, &end) < 0)
		return 0;
	fd = family == AF_INET ? pf->fd4 : pf->fd6;
	if (fd < 0)
		return 0;
	for (k = 0; k < pf->n; k++) {
		struct peer_state *p;

		i = (start + k) % pf->n;
		p = &pf->peers[i];
		if (p->addr.family != family)
			continue;
		if (!tb_allow(&pf->budget, now_ns)) {
			pf->limited++;
			continue;
		}
		rc = send_one(fd, &p->addr, pkt + off, end - off);
		if (rc < 0) {
			send_failed(p, -rc, now_ns);
			continue;
		}
		p->sent++;
		sent++;
		/* With a short budget, the next PTB starts after this peer. */
		pf->next = (i + 1) % pf->n;
	}
	return sent;
}

const struct peer_state *peer_fwd_peer(const struct peer_forwarder *pf,
				       unsigned i)
{
	return i < pf->n ? &pf->peers[i] : NULL;
}

void peer_fwd_totals(const struct peer_forwarder *pf, uint64_t *sent,
		     uint64_t *errors)
{
	unsigned i;

	*sent = *errors = 0;
	for (i = 0; i < pf->n; i++) {
		*sent += pf->peers[i].sent;
		*errors += pf->peers[i].errors;
	}
}

void peer_fwd_log_stats(const struct peer_forwarder *pf)
{
	char buf[PMTUD_ADDRSTRLEN];
	uint64_t sent, errors;
	unsigned i;

	if (pf->n == 0)
		return;
	peer_fwd_totals(pf, &sent, &errors);
	log_msg(LOG_INFO, "peers: sent=%llu errors=%llu limited=%llu",
		(unsigned long long)sent, (unsigned long long)errors,
		(unsigned long long)pf->limited);
	for (i = 0; i < pf->n; i++) {
		const struct peer_state *p = &pf->peers[i];

		log_msg(LOG_INFO, "peer %s: sent=%llu errors=%llu last_error=%s",
			pmtud_addr_str(&p->addr, buf),
			(unsigned long long)p->sent, (unsigned long long)p->errors,
			p->last_errno ? strerror(p->last_errno) : "none");
	}
}

void peer_fwd_close(struct peer_forwarder *pf)
{
	if (pf->fd4 >= 0)
		close(pf->fd4);
	if (pf->fd6 >= 0)
		close(pf->fd6);
	pf->fd4 = pf->fd6 = -1;
}
