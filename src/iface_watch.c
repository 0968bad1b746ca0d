/* iface_watch.c - follow link changes of the configured interfaces,
 * and the host's own addresses. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if_arp.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "iface_watch.h"
#include "log.h"
#include "nlmsg_walk.h"

/* A link message carries every attribute of the link (stats, VF info,
 * ...): 32 KiB holds any realistic one. A larger one is treated like a
 * lost notification (resync), never as fatal. */
#define WATCH_BUFSIZE	32768
/* A dump that does not finish within this is given up (and retried at
 * the next resync); its partial result is not used. */
#define DUMP_TIMEOUT_S	2

/* Where msg_cb() applies what it reads. */
struct watch_ctx {
	struct iface_set *set;	/* NULL: addresses only (the dump) */
	struct own_addrs *own;
};

/* What one RTM_NEWLINK / RTM_DELLINK says about a link. */
struct link_msg {
	bool del;
	int ifindex;
	bool ether;
	bool up;
	const char *name;	/* NULL: no IFLA_IFNAME */
	const uint8_t *mac;	/* NULL: no 6-byte IFLA_ADDRESS */
	uint32_t mtu;		/* 0: no IFLA_MTU */
};

static const char *mac_str(const uint8_t m[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/* One line per change between the entry as it was (o) and as it is
 * (n). why says how a present entry went absent. */
static void log_change(const struct iface *o, const struct iface *n, const char *why)
{
	char m1[18], m2[18];

	if (o->ifindex && !n->ifindex) {
		log_msg(LOG_WARNING, "interface %s gone (%s): no copies sent on it "
			"until it is back", o->name, why);
		return;
	}
	if (!n->ifindex)
		return;
	if (o->ifindex != n->ifindex) {
		log_msg(LOG_NOTICE, "interface %s %s: ifindex %d, MAC %s, link %s",
			n->name, o->ifindex ? "re-created" : "back",
			n->ifindex, mac_str(n->mac, m1), n->up ? "up" : "down");
		return;
	}
	if (memcmp(o->mac, n->mac, sizeof(o->mac)) != 0)
		log_msg(LOG_NOTICE, "interface %s: MAC %s -> %s: copies now leave from %s",
			n->name, mac_str(o->mac, m1), mac_str(n->mac, m2), m2);
	if (o->up != n->up)
		log_msg(n->up ? LOG_NOTICE : LOG_WARNING, "interface %s: link %s",
			n->name, n->up ? "up" : "down");
}

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct link_msg *m = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 &&
		    mnl_attr_get_payload_len(attr) <= IFNAMSIZ)
			m->name = mnl_attr_get_str(attr);
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == 6)
			m->mac = mnl_attr_get_payload(attr);
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			m->mtu = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

/* Apply one parsed message to one entry, in place. */
static void apply(struct iface *ifc, const struct link_msg *m)
{
	struct iface o = *ifc;
	bool same_name = m->name && !strcmp(m->name, ifc->name);
	char why[IFNAMSIZ + 16];

	if (m->del) {
		/* By ifindex: the name may already be reused elsewhere. */
		if (ifc->ifindex != m->ifindex)
			return;
		ifc->ifindex = 0;
		ifc->up = false;
		log_change(&o, ifc, "deleted");
		return;
	}
	if (!same_name) {
		/* Our ifindex under another name: renamed away. */
		if (ifc->ifindex != m->ifindex || !m->name)
			return;
		snprintf(why, sizeof(why), "renamed to %s", m->name);
		ifc->ifindex = 0;
		ifc->up = false;
		log_change(&o, ifc, why);
		return;
	}
	/* Copies are Ethernet broadcasts (iface_resolve() insists too). */
	if (!m->ether) {
		ifc->ifindex = 0;
		ifc->up = false;
		log_change(&o, ifc, "not Ethernet");
		return;
	}
	ifc->ifindex = m->ifindex;
	ifc->up = m->up;
	if (m->mac)
		memcpy(ifc->mac, m->mac, sizeof(ifc->mac));
	if (m->mtu)
		ifc->mtu = m->mtu;
	log_change(&o, ifc, "");
}

/* RTM_NEWADDR / RTM_DELADDR: IFA_LOCAL is the address itself (on a
 * point-to-point link IFA_ADDRESS is the far end's); IPv6 sends only
 * IFA_ADDRESS. */
static void addr_msg(const struct nlmsghdr *nlh, struct own_addrs *own)
{
	const struct nlattr *attr, *local = NULL, *address = NULL;
	const struct ifaddrmsg *ifa;
	char buf[PMTUD_ADDRSTRLEN];
	struct pmtud_addr a;
	unsigned missed = own->missed;
	size_t len;
	bool add = nlh->nlmsg_type == RTM_NEWADDR;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = attr;
		else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			address = attr;
	}
	attr = local ? local : address;
	len = ifa->ifa_family == AF_INET ? 4 : 16;
	if (!attr || mnl_attr_get_payload_len(attr) != len)
		return;
	memset(&a, 0, sizeof(a));
	a.family = ifa->ifa_family;
	memcpy(a.a, mnl_attr_get_payload(attr), len);
	if (add ? own_addr_add(own, &a, (int)ifa->ifa_index)
		: own_addr_del(own, &a, (int)ifa->ifa_index))
		log_msg(LOG_DEBUG, "own address %s %s (ifindex %u)%s",
			pmtud_addr_str(&a, buf), add ? "added" : "removed",
			ifa->ifa_index, add ? ": PTBs from it are not relayed" : "");
	if (own->missed && !missed)
		log_msg(LOG_WARNING, "more than %d addresses on this host: PTBs "
			"from %s and later ones are relayed", OWN_ADDR_MAX,
			pmtud_addr_str(&a, buf));
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct watch_ctx *x = data;
	struct iface_set *set = x->set;
	const struct ifinfomsg *ifi;
	struct link_msg m;
	unsigned i;

	if (nlh->nlmsg_type == RTM_NEWADDR || nlh->nlmsg_type == RTM_DELADDR) {
		addr_msg(nlh, x->own);
		return MNL_CB_OK;
	}
	if (!set || (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK))
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	memset(&m, 0, sizeof(m));
	m.del = nlh->nlmsg_type == RTM_DELLINK;
	m.ifindex = ifi->ifi_index;
	m.ether = ifi->ifi_type == ARPHRD_ETHER;
	m.up = (ifi->ifi_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
	/* A malformed attribute stops the walk: keep what was parsed. */
	mnl_attr_parse(nlh, sizeof(*ifi), attr_cb, &m);
	for (i = 0; i < set->n; i++)
		apply(&set->ifs[i], &m);
	return MNL_CB_OK;
}

/* Notifications were lost: read every entry again by name. */
static void resync(struct iface_set *set)
{
	char err[256];
	unsigned i;

	for (i = 0; i < set->n; i++) {
		struct iface o = set->ifs[i];

		if (iface_refresh(&set->ifs[i], err, sizeof(err)) < 0 && o.ifindex)
			log_msg(LOG_DEBUG, "resync: %s", err);
		log_change(&o, &set->ifs[i], "not found on resync");
	}
}

/* Every address of the host, read into a fresh table that replaces
 * *own only once the dump is complete. Returns 0, or -1 with err. */
static int dump_addrs(struct own_addrs *own, char *err, size_t errlen)
{
	_Alignas(struct nlmsghdr) char buf[WATCH_BUFSIZE];
	struct own_addrs fresh;
	struct watch_ctx x = { NULL, &fresh };
	struct timeval tv = { .tv_sec = DUMP_TIMEOUT_S };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	uint32_t seq = 1;
	ssize_t n;
	int ret = MNL_CB_OK;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		snprintf(err, errlen, "rtnetlink address dump: socket: %s", strerror(errno));
		if (nl)
			mnl_socket_close(nl);
		return -1;
	}
	own_addr_clear(&fresh);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		ret = MNL_CB_ERROR;
	while (ret > MNL_CB_STOP) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		ret = n < 0 ? MNL_CB_ERROR : nlmsg_cb_run(buf, (size_t)n, seq,
							  mnl_socket_get_portid(nl), msg_cb, &x);
	}
	if (ret < 0)
		snprintf(err, errlen, "rtnetlink address dump: %s",
			 errno == EAGAIN ? "no answer" : strerror(errno));
	mnl_socket_close(nl);
	if (ret < 0)
		return -1;
	*own = fresh;
	return 0;
}

int iface_watch_open(struct iface_watch *w, struct own_addrs *own,
		     char *err, size_t errlen)
{
	w->lost = 0;
	w->own = own;
	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->nl) {
		snprintf(err, errlen, "rtnetlink socket: %s", strerror(errno));
		w->fd = -1;
		return -1;
	}
	/* Join first, dump second: a change in between is queued. */
	if (mnl_socket_bind(w->nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
			    MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "rtnetlink: joining RTMGRP_LINK and the address "
			 "groups: %s", strerror(errno));
		iface_watch_close(w);
		return -1;
	}
	if (dump_addrs(own, err, errlen) < 0) {
		iface_watch_close(w);
		return -1;
	}
	w->fd = mnl_socket_get_fd(w->nl);
	return 0;
}

int iface_watch_receive(struct iface_watch *w, struct iface_set *set)
{
	char buf[WATCH_BUFSIZE], err[256];
	struct watch_ctx x = { set, w->own };
	ssize_t n;

	for (;;) {
		n = mnl_socket_recvfrom(w->nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			/* ENOBUFS: the kernel dropped notifications; ENOSPC:
			 * libmnl saw a truncated one. Either way the set may
			 * be stale: read it again. */
			if (errno != ENOBUFS && errno != ENOSPC)
				return -1;
			w->lost++;
			log_msg(LOG_WARNING, "link notifications lost (%s): "
				"re-reading the interfaces and addresses", strerror(errno));
			resync(set);
			if (dump_addrs(w->own, err, sizeof(err)) < 0)
				log_msg(LOG_WARNING, "%s: keeping the addresses known", err);
			continue;
		}
		/* Notifications: sequence and port 0 (not checked). */
		if (nlmsg_cb_run(buf, (size_t)n, 0, 0, msg_cb, &x) < 0)
			log_msg(LOG_DEBUG, "rtnetlink: malformed message: %s",
				strerror(errno));
	}
}

void iface_watch_close(struct iface_watch *w)
{
	if (w->nl)
		mnl_socket_close(w->nl);
	w->nl = NULL;
	w->fd = -1;
}
