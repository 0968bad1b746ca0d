/* rules.c - the agent's own nftables table, through libnftnl + libmnl.
 *
 * The table, as `nft list table inet pmtud` shows it (interfaces and
 * group from the configuration; nft/pmtud.nft is the same ruleset for
 * operators who load it themselves):
 *
 *	table inet pmtud {
 *		comment "pmtud-nf"
 *		chain prerouting {
 *			type filter hook prerouting priority raw; policy accept;
 *			iifname { "eth0", "eth1" } meta pkttype != broadcast icmp type destination-unreachable icmp code frag-needed counter log group 33
 *			iifname { "eth0", "eth1" } meta pkttype != broadcast icmpv6 type packet-too-big icmpv6 code no-route counter log group 33
 *		}
 *	}
 *
 * The expressions mirror what nft 1.0.6 generates for that text, so the
 * listings of both are identical: one anonymous constant set of
 * interface names per rule, or a plain 16-byte compare when a single
 * interface is configured (nft folds a one-element set the same way);
 * the inet family dependency "meta nfproto" before "meta l4proto"; ICMP
 * type and code loaded as one 2-byte word from the transport header.
 *
 * With "peers", each rule also skips PTBs sent by a peer of its family,
 * after the ICMP match: "ip saddr != 192.0.2.7" for one, "ip6 saddr !=
 * { 2001:db8::7, 2001:db8::8 }" (an anonymous set, inverted lookup) for
 * more, as nft generates them. No peers: the rules are as above.
 *
 * With "prelimit" (the default), each family's capture rule is preceded
 * by two rules with the same match that end in "return", and the table
 * holds one dynamic set per family:
 *
 *	set prelimit4 { type ipv4_addr; size 65536; flags dynamic,timeout; timeout 1m; }
 *	... frag-needed update @prelimit4 { ip saddr limit rate over 40/second burst 40 packets } counter return
 *	... frag-needed limit rate over 10000/second burst 10000 packets counter return
 *	... frag-needed counter log group 33
 *
 * Per source 4 x iface_rate (burst 4 x iface_burst): no source can get
 * more than iface_rate copies a second on its interface, so the rest
 * only costs the agent CPU; 4x leaves room for PTBs the agent filters.
 * For all sources, prelimit_rate (burst the same): a flood from random
 * sources escapes the per-source limit, not this one. "return" in a
 * base chain applies the chain's policy, accept: the PTB is only not
 * logged, its fate is unchanged and the host's stack still gets it.
 * A full set stops adding sources (the update fails, the rule does not
 * match): new sources then meet the global limit alone.
 *
 * With "input": "nfqueue" the last statement is "queue num 33 bypass"
 * instead (nft/pmtud-nfqueue.nft): the packet waits in the queue for
 * the agent's ACCEPT verdict, or passes at once when nobody listens.
 * Kernels built without nft_queue get the xtables NFQUEUE target
 * (revision 3, bypass) through nft_compat: same fate for the packet;
 * nft lists it as an xt target.
 *
 * Snaplen: the log expression carries no NFTA_LOG_SNAPLEN. Then the
 * kernel copies as much as the NFLOG group's copy range allows, which
 * the input sets to 0xffff: the whole packet. An explicit snaplen would
 * only lower that bound, and would list as "snaplen N" unlike the
 * plain "log group N" of pmtud.nft.
 *
 * No rule drops and the chain policy is accept: the rules only observe
 * (the pre-limit's "return" is that policy), every packet continues
 * exactly as without the table.
 *
 * Ownership: the table is created with NFT_TABLE_F_OWNER (Linux >= 5.12)
 * so the kernel deletes it when r->nl closes, whatever kills the agent.
 * Older kernels reject the flag (EOPNOTSUPP, or EINVAL before 5.12's
 * flag mask); the batch is then sent again without it: r->owner is
 * false, rules_remove() must run, and a table left by a crash is
 * replaced at the next start like any table without a live owner.
 */
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/if_packet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include "log.h"
#include "rules.h"

#define RULES_COMMENT	"pmtud-nf"
#define RULES_CHAIN	"prerouting"
#define RULES_PRIO_RAW	(-300)		/* NF_IP_PRI_RAW: before conntrack */
#define RULES_ANON_SET	"__set%d"	/* the kernel picks the number */

/* nftables' datatype ids (nftables src/datatype.h) and byte order
 * (BYTEORDER_HOST_ENDIAN), kept in the set so that nft lists its
 * elements as interface names. */
#define NFT_TYPE_IFNAME		41
#define NFT_TYPE_IPADDR		7
#define NFT_TYPE_IP6ADDR	8
#define NFT_BYTEORDER_HOST	1
#define NFT_BYTEORDER_BIG	2

/* Peer sets are bound to their rule by ids after the interface sets'
 * (those: 1 + family + 4 x rule kind), the pre-limit sets after both. */
#define PEER_SET_ID_BASE	16
#define PRE_SET_ID_BASE		32

/* The per-source pre-limit: sources seen within the last minute, at
 * most 64 Ki per family (a full set only stops adding: new sources
 * then meet the global limit alone). */
#define PRE_SET_SIZE		65536
#define PRE_SET_TIMEOUT_MS	60000
/* Headroom of the per-source pre-limit over what one interface may
 * send in copies: a source never gets more than iface_rate copies per
 * second, so 4x its PTBs still leave room for PTBs the agent filters. */
#define PRE_SRC_FACTOR		4

/* A batch holds at most: delete table, table, chain, and for each of
 * the two rules a set, its elements and the rule. With 64 interfaces
 * it stays under 6 KiB. mnl batches need twice their limit in buffer. */
#define BATCH_LIMIT	32768	/* + 2 peer sets, + pre-limit rules and sets */
#define BATCH_MAXMSG	32
#define NL_TIMEOUT_S	5		/* an answer that never comes */

struct icmp_match {
	const char *name;	/* for messages */
	uint8_t nfproto;
	uint8_t l4proto;
	uint8_t type_code[2];	/* first two bytes of the ICMP header */
	/* "ip saddr != { peers }": the family's peers, where the source
	 * address lies in the network header, its nft datatype. */
	uint8_t family;
	uint8_t saddr_off, addr_len;
	uint32_t addr_type;
	const char *pre_set;	/* the family's per-source pre-limit set */
};

static const struct icmp_match icmp_matches[] = {
	{ "ICMPv4", NFPROTO_IPV4, IPPROTO_ICMP, { 3, 4 },	/* frag-needed */
	  AF_INET, 12, 4, NFT_TYPE_IPADDR, "prelimit4" },
	{ "ICMPv6", NFPROTO_IPV6, IPPROTO_ICMPV6, { 2, 0 },	/* packet-too-big */
	  AF_INET6, 8, 16, NFT_TYPE_IP6ADDR, "prelimit6" },
};

struct batch {
	struct mnl_nlmsg_batch *b;
	uint32_t begin_seq;
	uint32_t first_seq;	/* first acked message */
	unsigned n;		/* acked messages */
	bool overflow;
	char what[BATCH_MAXMSG][96];	/* "add table inet pmtud", by seq */
};

/* Existing table of our name, from NFT_MSG_GETTABLE. */
struct table_info {
	bool exists;
	bool bad;
	uint32_t flags;
	uint32_t owner;		/* netlink port ID, when NFT_TABLE_F_OWNER */
};

static const char *errno_hint(int errnum)
{
	switch (errnum) {
	case EPERM:
		return " (CAP_NET_ADMIN is required)";
	case ENOENT:
	case EOPNOTSUPP:
		return " (kernel module missing? nf_tables, nft_log, nfnetlink_log)";
	default:
		return "";
	}
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int nl_open(struct rules *r, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };

	r->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!r->nl) {
		set_err(err, errlen, "nftables: cannot open netfilter netlink socket: %s%s",
			strerror(errno),
			errno == EPROTONOSUPPORT ? " (kernel without nfnetlink?)" : "");
		return -1;
	}
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		set_err(err, errlen, "nftables: cannot bind netlink socket: %s",
			strerror(errno));
		return -1;
	}
	/* Bound every wait for an answer: a lost ACK must not hang start-up. */
	if (setsockopt(mnl_socket_get_fd(r->nl), SOL_SOCKET, SO_RCVTIMEO,
		       &tv, sizeof(tv)) < 0) {
		set_err(err, errlen, "nftables: SO_RCVTIMEO: %s", strerror(errno));
		return -1;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (uint32_t)time(NULL);
	return 0;
}

/* Read answers until requests lo..hi (all sent with NLM_F_ACK) are
 * acked, or one of them, or the batch header begin_seq, fails. Data
 * messages in that range go to cb. Stale answers are skipped by seq.
 * Returns 0, or -1 with errno set and the failing seq in *fail_seq
 * (0 when nothing answered). */
static int nl_wait(struct rules *r, uint32_t begin_seq, uint32_t lo, uint32_t hi,
		   mnl_cb_t cb, void *data, uint32_t *fail_seq)
{
	char buf[8192] __attribute__((aligned(4)));
	unsigned pending = hi - lo + 1;

	while (pending > 0) {
		ssize_t len = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left;

		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			*fail_seq = 0;	/* no answer to blame on a message */
			return -1;
		}
		for (left = (int)len; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			uint32_t seq = nlh->nlmsg_seq;
			bool ours = seq >= lo && seq <= hi;
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR) {
				if (ours && cb && cb(nlh, data) < MNL_CB_OK) {
					*fail_seq = seq;
					errno = EPROTO;
					return -1;
				}
				continue;
			}
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (!ours && !(seq == begin_seq && begin_seq != 0))
				continue;
			/* The first error is the cause: later ones follow from it. */
			if (e->error != 0) {
				*fail_seq = seq;
				errno = -e->error;
				return -1;
			}
			if (ours)
				pending--;
		}
	}
	return 0;
}

/* A table object naming ours, or NULL. (nftnl_*_free() take no NULL.) */
static struct nftnl_table *table_named(const char *name)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (t && nftnl_table_set_str(t, NFTNL_TABLE_NAME, name) < 0) {
		nftnl_table_free(t);
		t = NULL;
	}
	return t;
}

static int table_info_cb(const struct nlmsghdr *nlh, void *data)
{
	struct table_info *ti = data;
	struct nftnl_table *t;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWTABLE)
		return MNL_CB_OK;
	t = nftnl_table_alloc();
	if (!t)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) < 0) {
		ti->bad = true;
	} else {
		ti->exists = true;
		if (nftnl_table_is_set(t, NFTNL_TABLE_FLAGS))
			ti->flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
		if (nftnl_table_is_set(t, NFTNL_TABLE_OWNER))
			ti->owner = nftnl_table_get_u32(t, NFTNL_TABLE_OWNER);
	}
	nftnl_table_free(t);
	return ti->bad ? MNL_CB_ERROR : MNL_CB_OK;
}

static int table_query(struct rules *r, struct table_info *ti,
		       char *err, size_t errlen)
{
	char buf[512] __attribute__((aligned(4)));
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	uint32_t seq = ++r->seq, fail;

	memset(ti, 0, sizeof(*ti));
	t = table_named(r->table);
	if (!t) {
		set_err(err, errlen, "nftables: out of memory");
		return -1;
	}
	nlh = nftnl_table_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
					  NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);

	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0 ||
	    nl_wait(r, 0, seq, seq, table_info_cb, ti, &fail) < 0) {
		if (errno == ENOENT && !ti->bad)
			return 0;	/* no such table: the usual case */
		set_err(err, errlen, "nftables: cannot query table inet %s: %s%s",
			r->table, strerror(errno), errno_hint(errno));
		return -1;
	}
	return 0;
}

/* Batch assembly: every message but the delimiters asks for an ACK and
 * remembers what it does, so an error names the object. */
static int batch_start(struct batch *bt, void *buf, struct rules *r)
{
	memset(bt, 0, sizeof(*bt));
	bt->b = mnl_nlmsg_batch_start(buf, BATCH_LIMIT);
	if (!bt->b)
		return -1;
	bt->begin_seq = ++r->seq;
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), bt->begin_seq);
	mnl_nlmsg_batch_next(bt->b);
	bt->first_seq = r->seq + 1;
	return 0;
}

static void batch_next(struct batch *bt)
{
	if (!mnl_nlmsg_batch_next(bt->b))
		bt->overflow = true;
}

static struct nlmsghdr *batch_msg(struct batch *bt, struct rules *r,
				  uint16_t type, uint16_t flags, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct nlmsghdr *batch_msg(struct batch *bt, struct rules *r,
				  uint16_t type, uint16_t flags, const char *fmt, ...)
{
	va_list ap;

	if (bt->n == BATCH_MAXMSG) {	/* cannot happen: fixed layout */
		bt->overflow = true;
		bt->n--;
	}
	va_start(ap, fmt);
	vsnprintf(bt->what[bt->n], sizeof(bt->what[0]), fmt, ap);
	va_end(ap);
	bt->n++;
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type,
				     NFPROTO_INET, flags | NLM_F_ACK, ++r->seq);
}

/* Send the batch and wait for every ACK. On failure errno is set and
 * *fail_idx is the failing message (-1: the batch as a whole). */
static int batch_send(struct batch *bt, struct rules *r, int *fail_idx)
{
	uint32_t fail = 0;

	*fail_idx = -1;
	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), ++r->seq);
	batch_next(bt);
	if (bt->overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	if (mnl_socket_sendto(r->nl, mnl_nlmsg_batch_head(bt->b),
			      mnl_nlmsg_batch_size(bt->b)) < 0)
		return -1;
	if (nl_wait(r, bt->begin_seq, bt->first_seq, bt->first_seq + bt->n - 1,
		    NULL, NULL, &fail) < 0) {
		if (fail >= bt->first_seq && fail - bt->first_seq < bt->n)
			*fail_idx = (int)(fail - bt->first_seq);
		return -1;
	}
	return 0;
}

static int put_table(struct batch *bt, struct rules *r, uint16_t type,
		     bool owner)
{
	struct nftnl_udata_buf *ud = NULL;
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	bool add = type == NFT_MSG_NEWTABLE;
	int ret = -1;

	t = table_named(r->table);
	if (!t)
		return -1;
	if (add) {
		ud = nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN);
		if (!ud || !nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT,
						 RULES_COMMENT) ||
		    nftnl_table_set_data(t, NFTNL_TABLE_USERDATA,
					 nftnl_udata_buf_data(ud),
					 nftnl_udata_buf_len(ud)) < 0)
			goto out;
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS,
				    owner ? NFT_TABLE_F_OWNER : 0);
	}
	/* NLM_F_EXCL: a table created since our query is an error, not
	 * something to merge into. */
	nlh = batch_msg(bt, r, type, add ? NLM_F_CREATE | NLM_F_EXCL : 0,
			"%s table inet %s", add ? "add" : "delete", r->table);
	nftnl_table_nlmsg_build_payload(nlh, t);
	batch_next(bt);
	ret = 0;
out:
	nftnl_udata_buf_free(ud);
	nftnl_table_free(t);
	return ret;
}

static int put_chain(struct batch *bt, struct rules *r)
{
	struct nftnl_chain *ch;
	struct nlmsghdr *nlh;

	ch = nftnl_chain_alloc();
	if (!ch)
		return -1;
	if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, r->table) < 0 ||
	    nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, RULES_CHAIN) < 0 ||
	    nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter") < 0) {
		nftnl_chain_free(ch);
		return -1;
	}
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, RULES_PRIO_RAW);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = batch_msg(bt, r, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL,
			"add chain inet %s %s", r->table, RULES_CHAIN);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	nftnl_chain_free(ch);
	batch_next(bt);
	return 0;
}

/* An interface name as the kernel compares it: IFNAMSIZ bytes,
 * zero padded (meta iifname loads the whole array). */
static void ifname_key(char key[IFNAMSIZ], const char *name)
{
	memset(key, 0, IFNAMSIZ);
	memcpy(key, name, strnlen(name, IFNAMSIZ - 1));
}

/* What differs between the agent's sets; the rest is common. */
struct set_spec {
	const char *name;	/* RULES_ANON_SET for anonymous sets */
	uint32_t id;		/* binds the set to the next rule's lookup */
	uint32_t flags;		/* NFT_SET_* */
	uint32_t key_type, key_len, size;
	uint32_t byteorder;	/* NFTNL_UDATA_SET_KEYBYTEORDER, as nft lists it */
	uint64_t timeout_ms;	/* 0: none */
};

/* A set of the agent's table, added to the batch. The set object is
 * returned (the caller adds elements, then frees it); NULL on failure. */
static struct nftnl_set *put_set(struct batch *bt, struct rules *r,
				 const struct set_spec *sp, const char *what)
{
	struct nftnl_udata_buf *ud;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	bool ok;

	s = nftnl_set_alloc();
	ud = nftnl_udata_buf_alloc(64);
	ok = s && ud &&
	     nftnl_set_set_str(s, NFTNL_SET_TABLE, r->table) == 0 &&
	     nftnl_set_set_str(s, NFTNL_SET_NAME, sp->name) == 0 &&
	     nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, sp->byteorder) &&
	     /* libnftnl copies the user data */
	     nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
				nftnl_udata_buf_len(ud)) == 0;
	nftnl_udata_buf_free(ud);
	if (!ok) {
		if (s)
			nftnl_set_free(s);
		return NULL;
	}
	nftnl_set_set_u32(s, NFTNL_SET_ID, sp->id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, sp->flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, sp->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sp->key_len);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, sp->size);
	if (sp->timeout_ms)
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, sp->timeout_ms);
	nlh = batch_msg(bt, r, NFT_MSG_NEWSET, NLM_F_CREATE, "add %s", what);
	nftnl_set_nlmsg_build_payload(nlh, s);
	batch_next(bt);
	return s;
}

/* Add one key to s; false on allocation failure. */
static bool set_add_key(struct nftnl_set *s, const void *key, uint32_t len)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (!e)
		return false;
	if (nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len) < 0) {
		nftnl_set_elem_free(e);
		return false;
	}
	nftnl_set_elem_add(s, e);
	return true;
}

/* The elements of s, as one message of the batch. */
static void put_set_elems(struct batch *bt, struct rules *r,
			  struct nftnl_set *s, const char *what)
{
	struct nlmsghdr *nlh;

	nlh = batch_msg(bt, r, NFT_MSG_NEWSETELEM, NLM_F_CREATE, "add %s", what);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	batch_next(bt);
}

/* Anonymous constant set of the interface names, bound to the next
 * rule by set_id (its name is only known to the kernel). */
static int put_iface_set(struct batch *bt, struct rules *r,
			 const struct pmtud_conf *c, uint32_t set_id,
			 const char *rule_name)
{
	const struct set_spec sp = {
		.name = RULES_ANON_SET, .id = set_id,
		.flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT,
		.key_type = NFT_TYPE_IFNAME, .key_len = IFNAMSIZ,
		.size = c->n_ifaces, .byteorder = NFT_BYTEORDER_HOST,
	};
	char what[64];
	struct nftnl_set *s;
	unsigned i;

	snprintf(what, sizeof(what), "interface set for the %s rule", rule_name);
	s = put_set(bt, r, &sp, what);
	if (!s)
		return -1;
	for (i = 0; i < c->n_ifaces; i++) {
		char key[IFNAMSIZ];

		ifname_key(key, c->ifaces[i]);
		if (!set_add_key(s, key, IFNAMSIZ)) {
			nftnl_set_free(s);
			return -1;
		}
	}
	snprintf(what, sizeof(what), "interfaces to the set of the %s rule", rule_name);
	put_set_elems(bt, r, s, what);
	nftnl_set_free(s);
	return 0;
}

/* set prelimitN { type ipv4_addr; size 65536; flags dynamic,timeout;
 * timeout 1m }: the per-source pre-limit's state, filled by the
 * kernel (one limit per source address). */
static int put_pre_set(struct batch *bt, struct rules *r,
		       const struct icmp_match *m, uint32_t set_id)
{
	const struct set_spec sp = {
		.name = m->pre_set, .id = set_id,
		.flags = NFT_SET_TIMEOUT | NFT_SET_EVAL,
		.key_type = m->addr_type, .key_len = m->addr_len,
		.size = PRE_SET_SIZE, .byteorder = NFT_BYTEORDER_BIG,
		.timeout_ms = PRE_SET_TIMEOUT_MS,
	};
	char what[64];
	struct nftnl_set *s;

	snprintf(what, sizeof(what), "set %s", m->pre_set);
	s = put_set(bt, r, &sp, what);
	if (!s)
		return -1;
	nftnl_set_free(s);
	return 0;
}

static unsigned n_peers_of(const struct pmtud_conf *c, uint8_t family)
{
	unsigned i, n = 0;

	for (i = 0; i < c->n_peers; i++)
		n += c->peers[i].family == family;
	return n;
}

/* Anonymous constant set of the peers of one family: a PTB they send
 * is never captured, so two agents listing each other cannot loop.
 * Only for two peers or more: nft folds one into a plain compare. */
static int put_peer_set(struct batch *bt, struct rules *r,
			const struct pmtud_conf *c, const struct icmp_match *m,
			uint32_t set_id)
{
	const struct set_spec sp = {
		.name = RULES_ANON_SET, .id = set_id,
		.flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT,
		.key_type = m->addr_type, .key_len = m->addr_len,
		.size = n_peers_of(c, m->family), .byteorder = NFT_BYTEORDER_BIG,
	};
	char what[64];
	struct nftnl_set *s;
	unsigned i;

	snprintf(what, sizeof(what), "peer set for the %s rule", m->name);
	s = put_set(bt, r, &sp, what);
	if (!s)
		return -1;
	for (i = 0; i < c->n_peers; i++) {
		if (c->peers[i].family == m->family &&
		    !set_add_key(s, c->peers[i].a, m->addr_len)) {
			nftnl_set_free(s);
			return -1;
		}
	}
	snprintf(what, sizeof(what), "peers to the set of the %s rule", m->name);
	put_set_elems(bt, r, s, what);
	nftnl_set_free(s);
	return 0;
}

/* Expression builders: each appends one expression to the rule. */
static int expr_meta(struct nftnl_rule *rule, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

static int expr_cmp(struct nftnl_rule *rule, enum nft_cmp_ops op,
		    const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	if (nftnl_expr_set_data(e, NFTNL_EXPR_CMP_DATA, data, len) < 0) {
		nftnl_expr_free(e);
		return -1;
	}
	nftnl_rule_add_expr(rule, e);
	return 0;
}

static int expr_cmp_u8(struct nftnl_rule *rule, enum nft_cmp_ops op, uint8_t v)
{
	return expr_cmp(rule, op, &v, sizeof(v));
}

static int expr_payload(struct nftnl_rule *rule, enum nft_payload_bases base,
			uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* Match register 1 against an anonymous set; inverted ("not in set")
 * matches when the key is absent. */
static int expr_lookup(struct nftnl_rule *rule, uint32_t set_id, bool inverted)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, RULES_ANON_SET) < 0) {
		nftnl_expr_free(e);
		return -1;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	if (inverted)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* ip saddr != { peers } (or != peer): nothing without peers. */
static int expr_not_from_peer(struct nftnl_rule *rule, const struct pmtud_conf *c,
			      const struct icmp_match *m, uint32_t set_id)
{
	unsigned i, n = n_peers_of(c, m->family);

	if (n == 0)
		return 0;
	if (expr_payload(rule, NFT_PAYLOAD_NETWORK_HEADER, m->saddr_off,
			 m->addr_len) < 0)
		return -1;
	if (n > 1)
		return expr_lookup(rule, set_id, true);
	for (i = 0; c->peers[i].family != m->family; i++)
		;
	return expr_cmp(rule, NFT_CMP_NEQ, c->peers[i].a, m->addr_len);
}

static int expr_counter(struct nftnl_rule *rule)
{
	struct nftnl_expr *e = nftnl_expr_alloc("counter");

	if (!e)
		return -1;
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* No snaplen: the group's copy range (0xffff) applies, see the top. */
static int expr_log(struct nftnl_rule *rule, uint16_t group)
{
	struct nftnl_expr *e = nftnl_expr_alloc("log");

	if (!e)
		return -1;
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* "queue num N bypass", as nft 1.0.6 encodes it (an explicit total of
 * one queue). Bypass: with no listener the packet continues. */
static int expr_queue(struct nftnl_rule *rule, uint16_t num)
{
	struct nftnl_expr *e = nftnl_expr_alloc("queue");

	if (!e)
		return -1;
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, num);
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS, NFT_QUEUE_FLAG_BYPASS);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* The same verdict through nft_compat: the xtables NFQUEUE target,
 * revision 3, for kernels built without nft_queue (CONFIG_NFT_QUEUE)
 * but with xt_NFQUEUE. The kernel wants the info padded to XT_ALIGN;
 * libnftnl takes ownership of the buffer (it frees it with the
 * expression), hence the allocation. */
static int expr_xt_queue(struct nftnl_rule *rule, uint16_t num)
{
	const size_t len = XT_ALIGN(sizeof(struct xt_NFQ_info_v3));
	struct xt_NFQ_info_v3 *info;
	struct nftnl_expr *e = nftnl_expr_alloc("target");

	if (!e)
		return -1;
	info = calloc(1, len);
	if (!info || nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE") < 0) {
		free(info);
		nftnl_expr_free(e);
		return -1;
	}
	info->queuenum = num;
	info->queues_total = 1;
	info->flags = NFQ_FLAG_BYPASS;
	if (nftnl_expr_set_data(e, NFTNL_EXPR_TG_INFO, info, (uint32_t)len) < 0) {
		free(info);
		nftnl_expr_free(e);
		return -1;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* The rule's last statement: where the packet's copy goes. */
static int expr_capture(struct nftnl_rule *rule, const struct pmtud_conf *c,
			bool xt_queue)
{
	if (c->input != INPUT_NFQUEUE)
		return expr_log(rule, c->nflog_group);
	return xt_queue ? expr_xt_queue(rule, c->queue_num)
			: expr_queue(rule, c->queue_num);
}

/* The rules of one family, in chain order: the two pre-limits return
 * (end this chain, policy accept: the packet goes on unchanged, only
 * not logged) for what exceeds them; the capture rule logs the rest. */
enum rule_kind {
	RULE_CAPTURE = 0,
	RULE_PRE_SOURCE,	/* update @prelimitN { saddr limit rate over } */
	RULE_PRE_ALL,		/* limit rate over prelimit_rate */
};

static const char *const rule_kind_names[] = { "", " pre-limit (source)",
					       " pre-limit (all)" };

/* Pre-limit rates, whole packets per second (nft's unit). */
static uint64_t pre_src_rate(const struct pmtud_conf *c)
{
	return (uint64_t)(PRE_SRC_FACTOR * c->iface_rate + 0.999);
}

static uint32_t pre_src_burst(const struct pmtud_conf *c)
{
	return (uint32_t)(PRE_SRC_FACTOR * c->iface_burst + 0.999);
}

static struct nftnl_expr *limit_over(uint64_t rate, uint32_t burst)
{
	struct nftnl_expr *e = nftnl_expr_alloc("limit");

	if (!e)
		return NULL;
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);	/* per second */
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV);
	return e;
}

/* update @prelimitN { ip saddr limit rate over R/second burst B packets }:
 * matches only when this source is over its rate. */
static int expr_pre_source(struct nftnl_rule *rule, const struct pmtud_conf *c,
			   const struct icmp_match *m, uint32_t set_id)
{
	struct nftnl_expr *e, *lim;

	if (expr_payload(rule, NFT_PAYLOAD_NETWORK_HEADER, m->saddr_off,
			 m->addr_len) < 0)
		return -1;
	e = nftnl_expr_alloc("dynset");
	if (!e)
		return -1;
	lim = limit_over(pre_src_rate(c), pre_src_burst(c));
	if (!lim || nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, m->pre_set) < 0) {
		if (lim)
			nftnl_expr_free(lim);
		nftnl_expr_free(e);
		return -1;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, set_id);
	nftnl_expr_set(e, NFTNL_EXPR_DYNSET_EXPR, lim, 0);	/* e owns lim */
	nftnl_rule_add_expr(rule, e);
	return 0;
}

static int expr_pre_all(struct nftnl_rule *rule, const struct pmtud_conf *c)
{
	struct nftnl_expr *e = limit_over(c->prelimit_rate, c->prelimit_rate);

	if (!e)
		return -1;
	nftnl_rule_add_expr(rule, e);
	return 0;
}

static int expr_return(struct nftnl_rule *rule)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NFT_RETURN);
	nftnl_rule_add_expr(rule, e);
	return 0;
}

/* What follows the ICMP match. */
static int build_tail(struct nftnl_rule *rule, const struct pmtud_conf *c,
		      const struct icmp_match *m, enum rule_kind kind,
		      uint32_t set_id, bool xt_queue)
{
	switch (kind) {
	case RULE_PRE_SOURCE:
		if (expr_pre_source(rule, c, m, PRE_SET_ID_BASE + set_id) < 0)
			return -1;
		break;
	case RULE_PRE_ALL:
		if (expr_pre_all(rule, c) < 0)
			return -1;
		break;
	case RULE_CAPTURE:
		return expr_not_from_peer(rule, c, m, set_id + PEER_SET_ID_BASE) < 0 ||
		       expr_counter(rule) < 0 ||
		       expr_capture(rule, c, xt_queue) < 0 ? -1 : 0;
	}
	return expr_counter(rule) < 0 || expr_return(rule) < 0 ? -1 : 0;
}

/* iifname { ... } meta pkttype != broadcast <icmp type/code>, then
 * the kind's tail: [ip saddr != { peers }] counter log group N | queue
 * num N bypass, or a pre-limit, counter and return. set_id: the
 * family's (1, 2); iface_set: this rule's interface set. */
static int build_rule(struct nftnl_rule *rule, const struct pmtud_conf *c,
		      const struct icmp_match *m, enum rule_kind kind,
		      uint32_t set_id, uint32_t iface_set, bool xt_queue)
{
	if (expr_meta(rule, NFT_META_IIFNAME) < 0)
		return -1;
	if (c->n_ifaces == 1) {
		char key[IFNAMSIZ];

		ifname_key(key, c->ifaces[0]);
		if (expr_cmp(rule, NFT_CMP_EQ, key, IFNAMSIZ) < 0)
			return -1;
	} else if (expr_lookup(rule, iface_set, false) < 0) {
		return -1;
	}
	if (expr_meta(rule, NFT_META_PKTTYPE) < 0 ||
	    expr_cmp_u8(rule, NFT_CMP_NEQ, PACKET_BROADCAST) < 0 ||
	    expr_meta(rule, NFT_META_NFPROTO) < 0 ||
	    expr_cmp_u8(rule, NFT_CMP_EQ, m->nfproto) < 0 ||
	    expr_meta(rule, NFT_META_L4PROTO) < 0 ||
	    expr_cmp_u8(rule, NFT_CMP_EQ, m->l4proto) < 0 ||
	    expr_payload(rule, NFT_PAYLOAD_TRANSPORT_HEADER, 0,
			 sizeof(m->type_code)) < 0 ||
	    expr_cmp(rule, NFT_CMP_EQ, m->type_code, sizeof(m->type_code)) < 0 ||
	    build_tail(rule, c, m, kind, set_id, xt_queue) < 0)
		return -1;
	return 0;
}

static int put_rule(struct batch *bt, struct rules *r,
		    const struct pmtud_conf *c, const struct icmp_match *m,
		    enum rule_kind kind, uint32_t set_id)
{
	uint32_t iface_set = set_id + 4 * (uint32_t)kind;
	struct nftnl_rule *rule;
	struct nlmsghdr *nlh;

	if (c->n_ifaces > 1 && put_iface_set(bt, r, c, iface_set, m->name) < 0)
		return -1;
	if (kind == RULE_CAPTURE && n_peers_of(c, m->family) > 1 &&
	    put_peer_set(bt, r, c, m, set_id + PEER_SET_ID_BASE) < 0)
		return -1;
	rule = nftnl_rule_alloc();
	if (!rule)
		return -1;
	if (nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, r->table) < 0 ||
	    nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, RULES_CHAIN) < 0 ||
	    build_rule(rule, c, m, kind, set_id, iface_set, r->xt_queue) < 0) {
		nftnl_rule_free(rule);
		return -1;
	}
	nlh = batch_msg(bt, r, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
			"add %s%s rule to chain inet %s %s", m->name,
			rule_kind_names[kind], r->table, RULES_CHAIN);
	nftnl_rule_nlmsg_build_payload(nlh, rule);
	nftnl_rule_free(rule);
	batch_next(bt);
	return 0;
}

/* One atomic batch: [delete old table], table, chain, sets and rules.
 * Returns 0, or -1 with errno, *fail_idx and what naming the message. */
static int install_batch(struct rules *r, const struct pmtud_conf *c,
			 bool replace, int *fail_idx, char *what, size_t whatlen)
{
	char buf[2 * BATCH_LIMIT] __attribute__((aligned(4)));
	struct batch bt;
	unsigned i;
	int ret;

	if (batch_start(&bt, buf, r) < 0) {
		*fail_idx = -1;
		snprintf(what, whatlen, "build the batch");
		errno = ENOMEM;
		return -1;
	}
	if ((replace && put_table(&bt, r, NFT_MSG_DELTABLE, false) < 0) ||
	    put_table(&bt, r, NFT_MSG_NEWTABLE, r->owner) < 0 ||
	    put_chain(&bt, r) < 0)
		goto nomem;
	for (i = 0; i < sizeof(icmp_matches) / sizeof(icmp_matches[0]); i++)
		if (c->prelimit && put_pre_set(&bt, r, &icmp_matches[i],
					       PRE_SET_ID_BASE + i + 1) < 0)
			goto nomem;
	for (i = 0; i < sizeof(icmp_matches) / sizeof(icmp_matches[0]); i++)
		if ((c->prelimit &&
		     (put_rule(&bt, r, c, &icmp_matches[i], RULE_PRE_SOURCE, i + 1) < 0 ||
		      put_rule(&bt, r, c, &icmp_matches[i], RULE_PRE_ALL, i + 1) < 0)) ||
		    put_rule(&bt, r, c, &icmp_matches[i], RULE_CAPTURE, i + 1) < 0)
			goto nomem;
	ret = batch_send(&bt, r, fail_idx);
	if (ret < 0)
		snprintf(what, whatlen, "%s", *fail_idx >= 0 ?
			 bt.what[*fail_idx] : "install the table");
	mnl_nlmsg_batch_stop(bt.b);
	return ret;
nomem:
	mnl_nlmsg_batch_stop(bt.b);
	*fail_idx = -1;
	snprintf(what, whatlen, "build the batch");
	errno = ENOMEM;
	return -1;
}

static void install_error(int fail_idx, const char *what, char *err,
			  size_t errlen)
{
	int errnum = errno;

	if (fail_idx < 0 && (errnum == EOPNOTSUPP || errnum == ENOENT ||
			     errnum == EPROTONOSUPPORT))
		set_err(err, errlen, "nftables: nf_tables is not available "
			"(modprobe nf_tables): %s", strerror(errnum));
	else if (errnum == EEXIST && fail_idx >= 0)
		set_err(err, errlen, "nftables: cannot %s: %s (created "
			"concurrently by another process?)", what,
			strerror(errnum));
	else
		set_err(err, errlen, "nftables: cannot %s: %s%s", what,
			strerror(errnum), errno_hint(errnum));
}

int rules_install(struct rules *r, const struct pmtud_conf *c,
		  char *err, size_t errlen)
{
	struct table_info old;
	char what[96];
	int fail_idx, ret;
	size_t len = strnlen(c->table, sizeof(c->table));

	memset(r, 0, sizeof(*r));
	if (len == 0 || len >= sizeof(r->table)) {
		set_err(err, errlen, "nftables: invalid table name");
		return -1;
	}
	if (c->n_ifaces == 0 || c->n_ifaces > PMTUD_MAX_IFACES) {
		set_err(err, errlen, "nftables: %u interfaces, expected 1 to %d",
			c->n_ifaces, PMTUD_MAX_IFACES);
		return -1;
	}
	memcpy(r->table, c->table, len + 1);
	if (nl_open(r, err, errlen) < 0 || table_query(r, &old, err, errlen) < 0)
		goto fail;
	/* An owned table only exists while its owner's socket is open:
	 * that process is alive, and the kernel would refuse to let us
	 * delete the table anyway. */
	if (old.exists && (old.flags & NFT_TABLE_F_OWNER)) {
		set_err(err, errlen, "table inet %s is owned by another process "
			"(netlink port ID %u): is another pmtud-nf running?",
			r->table, old.owner);
		goto fail;
	}

	r->owner = true;
	ret = install_batch(r, c, old.exists, &fail_idx, what, sizeof(what));
	/* Message 0 or 1 is the table (1 after a delete); only its flag
	 * can be new to an old kernel. */
	if (ret < 0 && fail_idx == (old.exists ? 1 : 0) &&
	    (errno == EOPNOTSUPP || errno == EINVAL)) {
		log_msg(LOG_WARNING, "nftables: kernel rejects owned tables "
			"(Linux < 5.12?): table inet %s will be removed on "
			"exit only, or at the next start after a crash",
			r->table);
		r->owner = false;
		ret = install_batch(r, c, old.exists, &fail_idx, what,
				    sizeof(what));
	}
	/* ENOENT past the table and the chain: the kernel has no "queue"
	 * expression (CONFIG_NFT_QUEUE unset). xt_NFQUEUE through
	 * nft_compat gives the packet the same fate. */
	if (ret < 0 && c->input == INPUT_NFQUEUE && errno == ENOENT &&
	    fail_idx > (old.exists ? 2 : 1)) {
		log_msg(LOG_WARNING, "nftables: kernel without nft_queue: "
			"using the xtables NFQUEUE target (nft_compat) in "
			"table inet %s", r->table);
		r->xt_queue = true;
		ret = install_batch(r, c, old.exists, &fail_idx, what,
				    sizeof(what));
	}
	if (ret < 0) {
		install_error(fail_idx, what, err, errlen);
		goto fail;
	}
	if (old.exists)
		log_msg(LOG_WARNING, "nftables: replaced existing table inet %s "
			"(left by an earlier run, or loaded with nft -f)",
			r->table);
	r->installed = true;
	return 0;
fail:
	if (r->nl)
		mnl_socket_close(r->nl);
	r->nl = NULL;
	r->owner = false;
	return -1;
}

/* Reload: delete and re-add in one batch. The kernel swaps rulesets at
 * commit, so packets see the old rules until the new ones apply, never
 * neither. Same socket: an owned table is re-created owned by r->nl.
 * A table someone deleted meanwhile (fallback mode only) is added. */
int rules_replace(struct rules *r, const struct pmtud_conf *c,
		  char *err, size_t errlen)
{
	char what[96];
	int fail_idx, ret;

	if (!r->nl || !r->installed || strcmp(c->table, r->table) != 0) {
		set_err(err, errlen, "nftables: table inet %s is not installed by "
			"this process", c->table);
		return -1;
	}
	if (c->n_ifaces == 0 || c->n_ifaces > PMTUD_MAX_IFACES) {
		set_err(err, errlen, "nftables: %u interfaces, expected 1 to %d",
			c->n_ifaces, PMTUD_MAX_IFACES);
		return -1;
	}
	ret = install_batch(r, c, true, &fail_idx, what, sizeof(what));
	if (ret < 0 && fail_idx == 0 && errno == ENOENT && !r->owner)
		ret = install_batch(r, c, false, &fail_idx, what, sizeof(what));
	if (ret < 0) {
		install_error(fail_idx, what, err, errlen);
		return -1;
	}
	return 0;
}

static int remove_batch(struct rules *r)
{
	char buf[2 * 1024] __attribute__((aligned(4)));
	struct mnl_nlmsg_batch *b;
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	uint32_t bseq = ++r->seq, seq = ++r->seq, fail;
	int ret = -1;

	t = table_named(r->table);
	if (!t) {
		errno = ENOMEM;
		return -1;
	}
	b = mnl_nlmsg_batch_start(buf, sizeof(buf) / 2);
	if (!b) {
		nftnl_table_free(t);
		errno = ENOMEM;
		return -1;
	}
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), bseq);
	mnl_nlmsg_batch_next(b);
	nlh = nftnl_table_nlmsg_build_hdr(mnl_nlmsg_batch_current(b),
					  NFT_MSG_DELTABLE, NFPROTO_INET,
					  NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	mnl_nlmsg_batch_next(b);
	nftnl_batch_end(mnl_nlmsg_batch_current(b), ++r->seq);
	mnl_nlmsg_batch_next(b);
	if (mnl_socket_sendto(r->nl, mnl_nlmsg_batch_head(b),
			      mnl_nlmsg_batch_size(b)) >= 0)
		ret = nl_wait(r, bseq, seq, seq, NULL, NULL, &fail);
	mnl_nlmsg_batch_stop(b);
	nftnl_table_free(t);
	return ret;
}

void rules_remove(struct rules *r)
{
	/* Explicit even with the owner flag, so the table is gone before
	 * the process reports its exit; ENOENT: someone deleted it. */
	if (r->nl && r->installed && remove_batch(r) < 0 && errno != ENOENT)
		log_msg(LOG_WARNING, "nftables: cannot delete table inet %s: %s%s",
			r->table, strerror(errno),
			r->owner ? " (the kernel drops it with our socket)" : "");
	if (r->nl)
		mnl_socket_close(r->nl);
	r->nl = NULL;
	r->installed = false;
}
