/* test_owner.c - the flow-owner lookup (src/owner.c).
 *
 * Proves, on netlink messages built field by field: the request is a
 * single exact lookup (no NLM_F_DUMP) carrying the full 4-tuple in the
 * order each protocol's kernel lookup expects, INET_DIAG_INFO only when
 * asked; an answer with the exact tuple is "found" (v4-mapped on a
 * dual-stack socket too), a listener or another tuple is "absent",
 * ENOENT is "absent", another errno "error", an ACK or another sequence
 * number is no answer; tcpi_pmtu is read only from a long enough
 * tcp_info; every truncation of a valid answer is refused or read
 * within bounds. Then, on real sockets on the loopback (IPv4 and IPv6):
 * a connected TCP flow is local from both ends, an unknown tuple and a
 * listener's port are remote, a connected UDP socket is local and an
 * unconnected one unknown, the lookup budget holds, and a copy's
 * rescue is seen at once or by the check after its delay.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include "owner.h"

#include "unit.h"

#define SEQ 4242

static struct owner_flow flow(uint8_t family, uint8_t proto, const char *local,
			      uint16_t lport, const char *remote, uint16_t rport)
{
	struct owner_flow f;

	memset(&f, 0, sizeof(f));
	f.family = family;
	f.proto = proto;
	if (pmtud_addr_parse(&f.local, local) < 0 ||
	    pmtud_addr_parse(&f.remote, remote) < 0)
		abort();
	f.lport = lport;
	f.rport = rport;
	return f;
}

/* The lab's flow: VIP port 8080 to client port 40000. */
static struct owner_flow vip_flow(uint8_t family, uint8_t proto)
{
	if (family == AF_INET)
		return flow(AF_INET, proto, "203.0.113.80", 8080, "198.51.100.10", 40000);
	return flow(AF_INET6, proto, "2001:db8:80::80", 8080, "2001:db8:c::10", 40000);
}

static void test_request(void)
{
	uint8_t buf[512];
	struct owner_flow t4 = vip_flow(AF_INET, IPPROTO_TCP);
	struct owner_flow u6 = vip_flow(AF_INET6, IPPROTO_UDP);
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct inet_diag_req_v2 *r;
	size_t len;

	len = owner_build_request(buf, sizeof(buf), &t4, SEQ, false);
	CHECK(len == NLMSG_LENGTH(sizeof(*r)));
	CHECK(nlh->nlmsg_len == len);
	CHECK(nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY);
	CHECK(nlh->nlmsg_flags == NLM_F_REQUEST);	/* no NLM_F_DUMP: exact lookup */
	CHECK(nlh->nlmsg_seq == SEQ);
	r = NLMSG_DATA(nlh);
	CHECK(r->sdiag_family == AF_INET && r->sdiag_protocol == IPPROTO_TCP);
	CHECK(r->idiag_ext == 0);
	/* TCP: src/sport are the local end. */
	CHECK(ntohs(r->id.idiag_sport) == 8080 && ntohs(r->id.idiag_dport) == 40000);
	CHECK(!memcmp(r->id.idiag_src, t4.local.a, 4) && !memcmp(r->id.idiag_dst, t4.remote.a, 4));
	CHECK(r->id.idiag_src[1] == 0 && r->id.idiag_dst[3] == 0);
	CHECK(r->id.idiag_cookie[0] == INET_DIAG_NOCOOKIE &&
	      r->id.idiag_cookie[1] == INET_DIAG_NOCOOKIE);
	CHECK(r->id.idiag_if == 0);

	len = owner_build_request(buf, sizeof(buf), &u6, SEQ + 1, true);
	CHECK(len == NLMSG_LENGTH(sizeof(*r)));
	CHECK(r->sdiag_family == AF_INET6 && r->sdiag_protocol == IPPROTO_UDP);
	CHECK(r->idiag_ext == 1U << (INET_DIAG_INFO - 1));
	/* UDP: the receive-path lookup, src/sport are the remote end. */
	CHECK(ntohs(r->id.idiag_sport) == 40000 && ntohs(r->id.idiag_dport) == 8080);
	CHECK(!memcmp(r->id.idiag_src, u6.remote.a, 16) && !memcmp(r->id.idiag_dst, u6.local.a, 16));

	CHECK(owner_build_request(buf, len - 1, &u6, SEQ, false) == 0);
}

/* An answer as the kernel writes it: inet_diag_msg from the socket's
 * side, optionally tcp_info (info_len bytes, tcpi_pmtu set). */
static size_t answer(uint8_t *buf, size_t size, uint32_t seq, uint8_t family,
		     uint8_t state, const struct owner_flow *f, size_t info_len,
		     uint32_t pmtu)
{
	struct nlmsghdr *nlh;
	struct inet_diag_msg *m;

	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_seq = seq;
	m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->idiag_family = family;
	m->idiag_state = state;
	m->id.idiag_sport = htons(f->lport);
	m->id.idiag_dport = htons(f->rport);
	if (family == f->family) {
		memcpy(m->id.idiag_src, f->local.a, family == AF_INET ? 4 : 16);
		memcpy(m->id.idiag_dst, f->remote.a, family == AF_INET ? 4 : 16);
	} else {	/* IPv4 flow on an IPv6 socket: v4-mapped */
		uint8_t *s = (uint8_t *)m->id.idiag_src, *d = (uint8_t *)m->id.idiag_dst;

		s[10] = s[11] = d[10] = d[11] = 0xff;
		memcpy(s + 12, f->local.a, 4);
		memcpy(d + 12, f->remote.a, 4);
	}
	if (info_len) {
		uint8_t info[sizeof(struct tcp_info)];
		struct tcp_info ti;

		memset(&ti, 0, sizeof(ti));
		ti.tcpi_pmtu = pmtu;
		memcpy(info, &ti, sizeof(ti));
		mnl_attr_put(nlh, INET_DIAG_INFO, info_len, info);
	}
	return nlh->nlmsg_len;
}

static size_t error_msg(uint8_t *buf, uint32_t seq, int err)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = -err;
	return nlh->nlmsg_len;
}

static void test_parse(void)
{
	uint8_t buf[1024];
	struct owner_flow t4 = vip_flow(AF_INET, IPPROTO_TCP);
	struct owner_flow t6 = vip_flow(AF_INET6, IPPROTO_TCP);
	struct owner_flow u4 = t4, other = t4;
	struct owner_answer a;
	size_t len, cut, full_info = offsetof(struct tcp_info, tcpi_pmtu) + 4;

	u4.proto = IPPROTO_UDP;
	other.rport = 40001;

	len = answer(buf, sizeof(buf), SEQ, AF_INET, 1 /* ESTABLISHED */, &t4, 0, 0);
	CHECK(owner_parse_answer(buf, len, SEQ, &t4, &a) == 1);
	CHECK(a.result == OWNER_FOUND && a.state == 1 && !a.has_pmtu);
	CHECK(owner_kind_of(&t4, a.result) == OWNER_LOCAL);
	/* Another sequence number: not our answer. */
	CHECK(owner_parse_answer(buf, len, SEQ + 1, &t4, &a) == 0);
	/* The kernel's fallback to a listener, another tuple: absent. */
	CHECK(owner_parse_answer(buf, len, SEQ, &other, &a) == 1 && a.result == OWNER_ABSENT);
	CHECK(owner_kind_of(&t4, OWNER_ABSENT) == OWNER_REMOTE);
	len = answer(buf, sizeof(buf), SEQ, AF_INET, 10 /* LISTEN */, &t4, 0, 0);
	CHECK(owner_parse_answer(buf, len, SEQ, &t4, &a) == 1 && a.result == OWNER_ABSENT);
	/* TIME_WAIT still holds the flow. */
	len = answer(buf, sizeof(buf), SEQ, AF_INET, 6, &t4, 0, 0);
	CHECK(owner_parse_answer(buf, len, SEQ, &t4, &a) == 1 && a.result == OWNER_FOUND);
	/* Dual-stack socket: the IPv4 flow reported v4-mapped. */
	len = answer(buf, sizeof(buf), SEQ, AF_INET6, 1, &t4, 0, 0);
	CHECK(owner_parse_answer(buf, len, SEQ, &t4, &a) == 1 && a.result == OWNER_FOUND);
	/* ...but an IPv6 flow never matches a v4-mapped or IPv4 answer. */
	len = answer(buf, sizeof(buf), SEQ, AF_INET6, 1, &t6, 0, 0);
	CHECK(owner_parse_answer(buf, len, SEQ, &t6, &a) == 1 && a.result == OWNER_FOUND);
	CHECK(owner_parse_answer(buf, len, SEQ, &t4, &a) == 1 && a.result == OWNER_ABSENT);

	/* UDP: an unconnected socket (no remote end) is no owner. */
	{
		struct owner_flow unconn = u4;

		memset(&unconn.remote, 0, sizeof(unconn.remote));
		unconn.remote.family = AF_INET;
		unconn.rport = 0;
		len = answer(buf, sizeof(buf), SEQ, AF_INET, 7 /* CLOSE */, &unconn, 0, 0);
		CHECK(owner_parse_answer(buf, len, SEQ, &u4, &a) == 1 && a.result == OWNER_ABSENT);
		CHECK(owner_kind_of(&u4, a.result) == OWNER_UNKNOWN);
		len = answer(buf, sizeof(buf), SEQ, AF_INET, 1, &u4, 0, 0);
		CHECK(owner_parse_answer(buf, len, SEQ, &u4, &a) == 1 && a.result == OWNER_FOUND);
		CHECK(owner_kind_of(&u4, a.result) == OWNER_LOCAL);
	}

	/* tcp_info: tcpi_pmtu read only when the attribute reaches it. */
	len = answer(buf, sizeof(buf), SEQ, AF_INET6, 1, &t6, sizeof(struct tcp_info), 1280);
	CHECK(owner_parse_answer(buf, len, SEQ, &t6, &a) == 1);
	CHECK(a.result == OWNER_FOUND && a.has_pmtu && a.pmtu == 1280);
	len = answer(buf, sizeof(buf), SEQ, AF_INET6, 1, &t6, full_info, 1400);
	CHECK(owner_parse_answer(buf, len, SEQ, &t6, &a) == 1 && a.has_pmtu && a.pmtu == 1400);
	len = answer(buf, sizeof(buf), SEQ, AF_INET6, 1, &t6, full_info - 1, 1400);
	CHECK(owner_parse_answer(buf, len, SEQ, &t6, &a) == 1 && !a.has_pmtu);

	/* Every truncation of a valid answer: within bounds, never a
	 * made-up pmtu. The buffer is cut, or the header lies short. */
	len = answer(buf, sizeof(buf), SEQ, AF_INET, 1, &t4, sizeof(struct tcp_info), 1280);
	for (cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		int rc;

		memcpy(copy, buf, cut);
		rc = owner_parse_answer(copy, cut, SEQ, &t4, &a);
		CHECK(rc == 0 || rc == 1);
		CHECK(rc == 0 || !a.has_pmtu || a.pmtu == 1280);
		free(copy);
	}
	for (cut = sizeof(struct nlmsghdr); cut < len; cut++) {
		int rc;

		((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)cut;
		rc = owner_parse_answer(buf, len, SEQ, &t4, &a);
		if (cut < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
			CHECK(rc == -1 && a.result == OWNER_ERROR);
		else
			CHECK(rc == 1 && a.result == OWNER_FOUND &&
			      (!a.has_pmtu || a.pmtu == 1280));
	}

	/* Errors: ENOENT is the kernel's "no such socket". */
	len = error_msg(buf, SEQ, ENOENT);
	CHECK(owner_parse_answer(buf, len, SEQ, &t4, &a) == 1 && a.result == OWNER_ABSENT);
	len = error_msg(buf, SEQ, EPERM);
	CHECK(owner_parse_answer(buf, len, SEQ, &t4, &a) == 1);
	CHECK(a.result == OWNER_ERROR && a.error == EPERM);
	CHECK(owner_kind_of(&t4, a.result) == OWNER_UNKNOWN);
	len = error_msg(buf, SEQ, 0);
	CHECK(owner_parse_answer(buf, len, SEQ, &t4, &a) == 0);
	len = error_msg(buf, SEQ, ENOENT);
	CHECK(owner_parse_answer(buf, len - 1, SEQ, &t4, &a) == 0);	/* nlmsg_len past the end */
	((struct nlmsghdr *)buf)->nlmsg_len = NLMSG_LENGTH(2);
	CHECK(owner_parse_answer(buf, len, SEQ, &t4, &a) == -1);

	/* A length of 2^31 or more after a valid message: libmnl's walk
	 * took it as negative and read on (nlmsg_walk.h); here the walk
	 * ends at it, within the buffer. */
	len = error_msg(buf, SEQ - 1, ENOENT);
	memset(buf + len, 0xc4, 64);
	CHECK(owner_parse_answer(buf, len + 64, SEQ, &t4, &a) == 0);

	/* A stray answer first, then ours, in one buffer. */
	len = answer(buf, sizeof(buf), SEQ - 1, AF_INET, 1, &t4, 0, 0);
	len += error_msg(buf + len, SEQ, ENOENT);
	CHECK(owner_parse_answer(buf, len, SEQ, &t4, &a) == 1 && a.result == OWNER_ABSENT);
	CHECK(owner_parse_answer(buf, len, SEQ - 1, &t4, &a) == 1 && a.result == OWNER_FOUND);
}

static void test_flow_from_ptb(void)
{
	struct ptb_info info;
	struct owner_flow f;

	memset(&info, 0, sizeof(info));
	info.family = AF_INET;
	pmtud_addr_parse(&info.quoted_src, "203.0.113.80");
	pmtud_addr_parse(&info.quoted_dst, "198.51.100.10");
	info.quoted_proto = IPPROTO_TCP;
	info.quoted_sport = 8080;
	info.quoted_dport = 40000;
	CHECK(!owner_flow_from_ptb(&info, &f));		/* no ports read */
	info.has_ports = true;
	CHECK(owner_flow_from_ptb(&info, &f));
	CHECK(f.lport == 8080 && f.rport == 40000 && f.proto == IPPROTO_TCP);
	CHECK(pmtud_addr_eq(&f.local, &info.quoted_src) && pmtud_addr_eq(&f.remote, &info.quoted_dst));
	info.quoted_proto = IPPROTO_SCTP;
	CHECK(!owner_flow_from_ptb(&info, &f));
}

/* ---- live lookups on the loopback ------------------------------------- */

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		abort();
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void sa(struct sockaddr_storage *ss, socklen_t *sl, int family, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*sl = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		s->sin6_addr = in6addr_loopback;
		*sl = sizeof(*s);
	}
}

static int bound(int family, int type, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	sa(&ss, &sl, family, port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0)
		return -1;
	return fd;
}

static void live_family(struct owner *o, int family)
{
	const char *lo = family == AF_INET ? "127.0.0.1" : "::1";
	struct sockaddr_storage ss;
	socklen_t sl;
	struct owner_flow f, back;
	enum owner_result r;
	int lfd, cfd, afd, ufd, vfd;
	uint16_t lport, cport, uport;
	uint64_t now = ratelimit_now();

	lfd = bound(family, SOCK_STREAM, 0);
	CHECK(lfd >= 0 && listen(lfd, 4) == 0);
	lport = local_port(lfd);
	cfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa(&ss, &sl, family, lport);
	CHECK(cfd >= 0 && connect(cfd, (struct sockaddr *)&ss, sl) == 0);
	afd = accept(lfd, NULL, NULL);
	CHECK(afd >= 0);
	cport = local_port(cfd);

	/* The server's side of the flow (what a PTB to the server quotes). */
	f = flow((uint8_t)family, IPPROTO_TCP, lo, lport, lo, cport);
	CHECK(owner_lookup(o, &f, now, &r) == OWNER_LOCAL && r == OWNER_FOUND);
	back = flow((uint8_t)family, IPPROTO_TCP, lo, cport, lo, lport);
	CHECK(owner_lookup(o, &back, now, &r) == OWNER_LOCAL && r == OWNER_FOUND);
	/* The listener's port with another client: the kernel answers with
	 * the listener, which is no owner. */
	f.rport = (uint16_t)(cport ^ 1);
	CHECK(owner_lookup(o, &f, now, &r) == OWNER_REMOTE && r == OWNER_ABSENT);
	/* No socket at all. */
	f.lport = 9;
	CHECK(owner_lookup(o, &f, now, &r) == OWNER_REMOTE && r == OWNER_ABSENT);

	/* UDP: connected to the client, and an unconnected server socket. */
	ufd = bound(family, SOCK_DGRAM, 0);
	vfd = bound(family, SOCK_DGRAM, 0);
	CHECK(ufd >= 0 && vfd >= 0);
	uport = local_port(vfd);
	sa(&ss, &sl, family, uport);
	CHECK(connect(ufd, (struct sockaddr *)&ss, sl) == 0);
	f = flow((uint8_t)family, IPPROTO_UDP, lo, local_port(ufd), lo, uport);
	CHECK(owner_lookup(o, &f, now, &r) == OWNER_LOCAL && r == OWNER_FOUND);
	f = flow((uint8_t)family, IPPROTO_UDP, lo, uport, lo, 40000);
	CHECK(owner_lookup(o, &f, now, &r) == OWNER_UNKNOWN && r == OWNER_ABSENT);

	/* Rescue check: lo's path MTU is 65536, so a copy advertising 65536
	 * is met, one advertising 1280 is not. */
	{
		uint64_t before = o->rescued[family == AF_INET6];
		struct pollfd p = { .fd = o->timerfd, .events = POLLIN };
		int i;

		f = flow((uint8_t)family, IPPROTO_TCP, lo, lport, lo, cport);
		/* Met at once: counted, nothing queued. */
		CHECK(owner_lookup_copy(o, &f, 65536, ratelimit_now()) == OWNER_LOCAL);
		CHECK(o->n == 0 && o->rescued[family == AF_INET6] == before + 1);
		/* Not met: checked again later, still not met. */
		CHECK(owner_lookup_copy(o, &f, 1280, ratelimit_now()) == OWNER_LOCAL);
		CHECK(o->n == 1);
		owner_schedule_check(o, &f, 65536, ratelimit_now());
		CHECK(o->n == 2);
		for (i = 0; i < 10 && o->n; i++)
			if (poll(&p, 1, 1000) == 1)
				owner_on_timer(o);
		CHECK(o->n == 0);
		CHECK(o->rescued[family == AF_INET6] == before + 2);
		/* No socket: no check queued. */
		f.lport = 9;
		CHECK(owner_lookup_copy(o, &f, 65536, ratelimit_now()) == OWNER_REMOTE);
		CHECK(o->n == 0);
	}
	close(ufd);
	close(vfd);
	close(afd);
	close(cfd);
	close(lfd);
}

static void test_live(void)
{
	struct owner o;
	struct owner_flow f = flow(AF_INET, IPPROTO_TCP, "127.0.0.1", 9, "127.0.0.1", 9);
	char err[256];
	uint64_t now = ratelimit_now();
	enum owner_result r;
	int i;

	if (owner_open(&o, 1e6, 1e6, now, err, sizeof(err)) < 0) {
		printf("# SKIP live lookups: %s\n", err);
		return;
	}
	owner_lookup(&o, &f, now, &r);
	if (r == OWNER_ERROR) {
		printf("# SKIP live lookups: no sock_diag for TCP (inet_diag/tcp_diag)\n");
		owner_close(&o);
		return;
	}
	live_family(&o, AF_INET);
	live_family(&o, AF_INET6);
	CHECK(o.lookups[OWNER_ERROR] == 0);
	owner_close(&o);
	owner_close(&o);	/* idempotent */

	/* The budget: burst 3 at 1/s, a frozen clock. */
	CHECK(owner_open(&o, 1, 3, now, err, sizeof(err)) == 0);
	for (i = 0; i < 10; i++)
		owner_lookup(&o, &f, now, NULL);
	CHECK(o.lookups[OWNER_ABSENT] == 3 && o.lookups[OWNER_LIMITED] == 7);
	owner_lookup(&o, &f, now + 1000000000ULL, &r);
	CHECK(r == OWNER_ABSENT);
	owner_close(&o);
}

int main(void)
{
	test_request();
	test_parse();
	test_flow_from_ptb();
	test_live();
	return unit_result("test_owner");
}
