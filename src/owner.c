/* owner.c - flow-owner lookups and rescue checks through sock_diag.
 *
 * One request per lookup: SOCK_DIAG_BY_FAMILY without NLM_F_DUMP makes
 * the kernel look up one socket by its tuple (inet_diag's "dump one").
 * The kernel handles a netlink request to itself inside sendmsg(): by
 * the time it returns, the answer (one inet_diag_msg, or NLMSG_ERROR
 * with ENOENT) is queued on our socket, so it is read with MSG_DONTWAIT
 * and the event loop never waits.
 *
 * Tuple order: TCP's exact lookup takes idiag_src/sport as the local
 * end; UDP's takes them as the remote end (it calls the receive-path
 * lookup with src = the packet's source). Answers always give the
 * socket's view: src = local, dst = remote.
 */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include "nlmsg_walk.h"
#include "owner.h"

#define TCP_STATE_LISTEN	10	/* TCP_LISTEN in the kernel's enum */
#define OWNER_RECV_TRIES	8	/* stray answers skipped per lookup */

bool owner_flow_from_ptb(const struct ptb_info *info, struct owner_flow *f)
{
	memset(f, 0, sizeof(*f));
	if (!info->has_ports ||
	    (info->quoted_proto != IPPROTO_TCP && info->quoted_proto != IPPROTO_UDP))
		return false;
	f->family = info->family;
	f->proto = info->quoted_proto;
	f->local = info->quoted_src;
	f->remote = info->quoted_dst;
	f->lport = info->quoted_sport;
	f->rport = info->quoted_dport;
	return true;
}

static void put_end(__be16 *port, __be32 addr[4], const struct pmtud_addr *a,
		    uint16_t p, uint8_t family)
{
	*port = htons(p);
	memcpy(addr, a->a, family == AF_INET ? 4 : 16);
}

size_t owner_build_request(void *buf, size_t len, const struct owner_flow *f,
			   uint32_t seq, bool want_info)
{
	struct nlmsghdr *nlh;
	struct inet_diag_req_v2 *req;
	size_t need = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*req));
	bool udp = f->proto == IPPROTO_UDP;

	if (len < need)
		return 0;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = f->family;
	req->sdiag_protocol = f->proto;
	req->idiag_states = ~0U;
	if (want_info)
		req->idiag_ext = 1U << (INET_DIAG_INFO - 1);
	put_end(udp ? &req->id.idiag_dport : &req->id.idiag_sport,
		udp ? req->id.idiag_dst : req->id.idiag_src, &f->local, f->lport, f->family);
	put_end(udp ? &req->id.idiag_sport : &req->id.idiag_dport,
		udp ? req->id.idiag_src : req->id.idiag_dst, &f->remote, f->rport, f->family);
	req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	return nlh->nlmsg_len;
}

/* An address of the answer (family fam) equals a: also an IPv4 flow on
 * a dual-stack IPv6 socket, which reports it v4-mapped. */
static bool addr_is(uint8_t fam, const __be32 w[4], const struct pmtud_addr *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	uint8_t b[16];

	memcpy(b, w, sizeof(b));
	if (a->family == AF_INET6)
		return fam == AF_INET6 && !memcmp(b, a->a, 16);
	if (fam == AF_INET)
		return !memcmp(b, a->a, 4);
	return fam == AF_INET6 && !memcmp(b, mapped, 12) && !memcmp(b + 12, a->a, 4);
}

/* The socket found is the flow's own: exact tuple from its side. A
 * listener (no remote end) or an unconnected UDP socket is not. */
static bool tuple_is(const struct inet_diag_msg *m, const struct owner_flow *f)
{
	if (f->proto == IPPROTO_TCP && m->idiag_state == TCP_STATE_LISTEN)
		return false;
	return ntohs(m->id.idiag_sport) == f->lport &&
	       ntohs(m->id.idiag_dport) == f->rport &&
	       addr_is(m->idiag_family, m->id.idiag_src, &f->local) &&
	       addr_is(m->idiag_family, m->id.idiag_dst, &f->remote);
}

static int info_attr(const struct nlattr *attr, void *data)
{
	struct owner_answer *out = data;
	const size_t end = offsetof(struct tcp_info, tcpi_pmtu) + sizeof(uint32_t);

	if (mnl_attr_get_type(attr) == INET_DIAG_INFO &&
	    mnl_attr_get_payload_len(attr) >= end) {
		memcpy(&out->pmtu, (const uint8_t *)mnl_attr_get_payload(attr) +
		       offsetof(struct tcp_info, tcpi_pmtu), sizeof(out->pmtu));
		out->has_pmtu = true;
	}
	return MNL_CB_OK;
}

static int parse_diag(const struct nlmsghdr *nlh, const struct owner_flow *f,
		      struct owner_answer *out)
{
	struct inet_diag_msg m;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(m))
		return -1;
	memcpy(&m, mnl_nlmsg_get_payload(nlh), sizeof(m));
	out->state = m.idiag_state;
	if (!tuple_is(&m, f)) {
		out->result = OWNER_ABSENT;
		return 1;
	}
	out->result = OWNER_FOUND;
	if (mnl_attr_parse(nlh, sizeof(m), info_attr, out) == MNL_CB_ERROR)
		return -1;
	return 1;
}

static int parse_error(const struct nlmsghdr *nlh, struct owner_answer *out)
{
	struct nlmsgerr e;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(e))
		return -1;
	memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
	if (e.error == 0)
		return 0;	/* an ACK: not the answer */
	out->error = -e.error;
	out->result = out->error == ENOENT ? OWNER_ABSENT : OWNER_ERROR;
	return 1;
}

int owner_parse_answer(const void *buf, size_t len, uint32_t seq,
		       const struct owner_flow *f, struct owner_answer *out)
{
	const struct nlmsghdr *nlh;
	size_t off = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->result = OWNER_ERROR;
	while ((nlh = nlmsg_walk_next(buf, len, &off))) {
		if (nlh->nlmsg_seq != seq)
			continue;
		if (nlh->nlmsg_type == NLMSG_ERROR)
			rc = parse_error(nlh, out);
		else if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY)
			rc = parse_diag(nlh, f, out);
		else
			continue;
		if (rc < 0) {
			memset(out, 0, sizeof(*out));
			out->result = OWNER_ERROR;
			out->error = EBADMSG;
			return -1;
		}
		if (rc > 0)
			return 1;
	}
	return 0;
}

enum owner_kind owner_kind_of(const struct owner_flow *f, enum owner_result r)
{
	if (r == OWNER_FOUND)
		return OWNER_LOCAL;
	/* No UDP socket connected to the client: an unconnected one may
	 * still serve it, which the kernel cannot tell us. */
	if (r == OWNER_ABSENT && f->proto == IPPROTO_TCP)
		return OWNER_REMOTE;
	return OWNER_UNKNOWN;
}

/* ---- the socket -------------------------------------------------------- */

static enum owner_result query(struct owner *o, const struct owner_flow *f,
			       bool want_info, uint64_t now_ns,
			       struct owner_answer *ans)
{
	uint8_t buf[OWNER_BUFSIZE];
	uint32_t seq = ++o->seq;
	size_t len;
	ssize_t n;
	int i;

	memset(ans, 0, sizeof(*ans));
	ans->result = OWNER_ERROR;
	if (o->fd < 0)
		goto out;
	ans->result = OWNER_LIMITED;
	if (!tb_allow(&o->budget, now_ns))
		goto out;
	ans->result = OWNER_ERROR;
	len = owner_build_request(buf, sizeof(buf), f, seq, want_info);
	if (!len || mnl_socket_sendto(o->nl, buf, len) < 0)
		goto out;
	for (i = 0; i < OWNER_RECV_TRIES; i++) {
		n = mnl_socket_recvfrom(o->nl, buf, sizeof(buf));
		if (n < 0)
			break;	/* EAGAIN: no answer (never seen); ENOSPC: too long */
		if (owner_parse_answer(buf, (size_t)n, seq, f, ans) != 0)
			break;
	}
out:
	o->lookups[ans->result]++;
	return ans->result;
}

enum owner_kind owner_lookup(struct owner *o, const struct owner_flow *f,
			     uint64_t now_ns, enum owner_result *res)
{
	struct owner_answer ans;
	enum owner_result r = query(o, f, false, now_ns, &ans);

	if (res)
		*res = r;
	return owner_kind_of(f, r);
}

static bool rescued(struct owner *o, const struct owner_flow *f,
		    const struct owner_answer *ans, uint32_t mtu)
{
	if (ans->result != OWNER_FOUND || !ans->has_pmtu || !ans->pmtu ||
	    ans->pmtu > mtu)
		return false;
	o->rescued[f->family == AF_INET6]++;
	return true;
}

enum owner_kind owner_lookup_copy(struct owner *o, const struct owner_flow *f,
				  uint32_t mtu, uint64_t now_ns)
{
	struct owner_answer ans;
	bool tcp = f->proto == IPPROTO_TCP;
	enum owner_result r = query(o, f, tcp, now_ns, &ans);

	if (tcp && r == OWNER_FOUND && !rescued(o, f, &ans, mtu))
		owner_schedule_check(o, f, mtu, now_ns);
	return owner_kind_of(f, r);
}

static void arm(struct owner *o)
{
	struct itimerspec its = { 0 };
	uint64_t due;

	if (!o->n || o->timerfd < 0)
		return;
	due = o->checks[o->head].due_ns;
	its.it_value.tv_sec = (time_t)(due / 1000000000U);
	its.it_value.tv_nsec = (long)(due % 1000000000U);
	/* Cannot fail with a valid fd and value; a check then waits for
	 * the next one scheduled. */
	(void)timerfd_settime(o->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

void owner_schedule_check(struct owner *o, const struct owner_flow *f,
			  uint32_t mtu, uint64_t now_ns)
{
	struct owner_check *c;

	if (o->n == OWNER_CHECKS || o->timerfd < 0) {
		o->checks_dropped++;
		return;
	}
	c = &o->checks[(o->head + o->n) % OWNER_CHECKS];
	c->flow = *f;
	c->mtu = mtu;
	/* A fixed delay: the ring stays in due order. */
	c->due_ns = now_ns + OWNER_CHECK_DELAY_MS * 1000000ULL;
	if (o->n++ == 0)
		arm(o);
}

static void check_one(struct owner *o, const struct owner_check *c, uint64_t now_ns)
{
	struct owner_answer ans;

	if (query(o, &c->flow, true, now_ns, &ans) == OWNER_LIMITED) {
		o->checks_dropped++;
		return;
	}
	rescued(o, &c->flow, &ans, c->mtu);
}

void owner_on_timer(struct owner *o)
{
	uint64_t expirations, now = ratelimit_now();

	if (read(o->timerfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	while (o->n && o->checks[o->head].due_ns <= now) {
		check_one(o, &o->checks[o->head], now);
		o->head = (o->head + 1) % OWNER_CHECKS;
		o->n--;
	}
	arm(o);
}

void owner_drain(struct owner *o)
{
	uint8_t buf[OWNER_BUFSIZE];
	int i;

	if (!o->nl)
		return;
	/* Bounded: the socket only ever holds answers we stopped waiting for. */
	for (i = 0; i < OWNER_RECV_TRIES; i++)
		if (mnl_socket_recvfrom(o->nl, buf, sizeof(buf)) < 0)
			break;
}

int owner_open(struct owner *o, double rate, double burst, uint64_t now_ns,
	       char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->fd = o->timerfd = -1;
	tb_init(&o->budget, rate, burst, now_ns);
	o->nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!o->nl) {
		snprintf(err, errlen, "owner lookup: sock_diag socket: %s", strerror(errno));
		return -1;
	}
	if (mnl_socket_bind(o->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "owner lookup: sock_diag bind: %s", strerror(errno));
		owner_close(o);
		return -1;
	}
	o->fd = mnl_socket_get_fd(o->nl);
	o->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (o->timerfd < 0) {
		snprintf(err, errlen, "owner lookup: timerfd: %s", strerror(errno));
		owner_close(o);
		return -1;
	}
	return 0;
}

void owner_set_rate(struct owner *o, double rate, double burst)
{
	tb_set_rate(&o->budget, rate, burst);
}

void owner_close(struct owner *o)
{
	if (o->nl)
		mnl_socket_close(o->nl);
	o->nl = NULL;
	o->fd = -1;
	if (o->timerfd >= 0)
		close(o->timerfd);
	o->timerfd = -1;
	o->n = 0;
}
