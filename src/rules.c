/* rules.c - the agent's own nftables table, through libnftnl + libmnl:
 * its lifecycle (install, replace, remove) in netlink batches; the
 * rules' expressions and the ruleset they make are in rules_expr.c.
 *
 * Ownership: the table is created with NFT_TABLE_F_OWNER (Linux >= 5.12)
 * so the kernel deletes it when r->nl closes, whatever kills the agent.
 * Older kernels reject the flag (EOPNOTSUPP, or EINVAL before 5.12's
 * flag mask); the batch is then sent again without it: r->owner is
 * false, rules_remove() must run, and a table left by a crash is
 * replaced at the next start like any table without a live owner.
 *
 * Reload (rules_update): one batch that flushes the chain's rules and
 * adds the new ones, never re-creating table or chain. Unregistering a
 * hook (deleting a base chain) makes the kernel drop every packet then
 * queued in the namespace, ours and other programs'; a kept chain keeps
 * its hook. Shutdown (rules_quiesce, then rules_remove) empties the
 * chain before the input drains and closes, and removes the table last.
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
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include "log.h"
#include "nlmsg_walk.h"
#include "peerset.h"
#include "rules.h"
#include "rules_expr.h"

#define RULES_COMMENT	"pmtud-nf"
#define RULES_CHAIN	"prerouting"
#define RULES_PRIO_RAW	(-300)		/* NF_IP_PRI_RAW: before conntrack */

/* The per-source pre-limit: sources seen within the last minute, at
 * most 64 Ki per family (a full set only stops adding: new sources
 * then meet the global limit alone). */
#define PRE_SET_SIZE		65536
#define PRE_SET_TIMEOUT_MS	60000

/* A batch holds at most: delete table, table, chain, two pre-limit
 * sets, and per family five rules (pre-limits, capture, copies from
 * peers and broadcasts), each with its interface set and elements, two
 * with a peer set and elements: 45 messages; a reload's batch holds
 * fewer (flush, set changes and the rules). With 64 interfaces and 64
 * peers it stays under 48 KiB. mnl batches need twice their limit in
 * buffer. */
#define BATCH_LIMIT	65536
#define BATCH_MAXMSG	48
#define NL_TIMEOUT_S	5		/* an answer that never comes */
#define BATCH_UNANSWERED (-2)		/* batch_send(): see there */

/* At most five rules per family: two pre-limits, the capture, two
 * for copies (see chain_layout()). */
#define RULES_MAX	(5 * RULES_N_MATCHES)

/* A rule's place in the chain: its family (rules_matches) and kind. */
struct slot {
	unsigned m;
	enum rule_kind kind;
};

/* The chain as the kernel lists it: its rules, in order. */
struct chain_dump {
	unsigned n;		/* rules listed (the first RULES_MAX kept) */
	bool bad;		/* a rule that would not parse */
	uint64_t max_handle;
	uint64_t handle[RULES_MAX];
	uint64_t packets[RULES_MAX], bytes[RULES_MAX];
};

/* Counter values a reload carries into the new rules, by slot. */
struct carry {
	uint64_t packets[RULES_N_MATCHES][RULE_COPY_BCAST + 1];
	uint64_t bytes[RULES_N_MATCHES][RULE_COPY_BCAST + 1];
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

/* Read answers until requests lo..hi (all sent with NLM_F_ACK, or
 * dumps: NLMSG_DONE) are acked, or one of them, or the batch header
 * begin_seq, fails. Data
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
		const struct nlmsghdr *nlh;
		size_t off = 0;

		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			*fail_seq = 0;	/* no answer to blame on a message */
			return -1;
		}
		while ((nlh = nlmsg_walk_next(buf, (size_t)len, &off))) {
			uint32_t seq = nlh->nlmsg_seq;
			bool ours = seq >= lo && seq <= hi;
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type == NLMSG_DONE) {	/* a dump's end */
				pending -= ours;
				continue;
			}
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
 * remembers what it does, so an error names the object. buf holds
 * 2 * limit bytes (mnl batches need twice their limit). */
static int batch_start_sized(struct batch *bt, void *buf, size_t limit,
			     struct rules *r)
{
	memset(bt, 0, sizeof(*bt));
	/* Some builders leave padding unwritten: send (and compare) zeros. */
	memset(buf, 0, 2 * limit);
	bt->b = mnl_nlmsg_batch_start(buf, limit);
	if (!bt->b)
		return -1;
	bt->begin_seq = ++r->seq;
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), bt->begin_seq);
	mnl_nlmsg_batch_next(bt->b);
	bt->first_seq = r->seq + 1;
	return 0;
}

static int batch_start(struct batch *bt, void *buf, struct rules *r)
{
	return batch_start_sized(bt, buf, BATCH_LIMIT, r);
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
 * *fail_idx is the failing message (-1: the batch as a whole, not
 * committed; BATCH_UNANSWERED: sent, then no answer blamed anything
 * and not all came: committed or not, only a read-back can tell). */
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
		else if (fail == 0)
			*fail_idx = BATCH_UNANSWERED;
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

		rules_ifname_key(key, c->ifaces[i]);
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

/* The peers of one family: an anonymous constant set, only for two
 * peers or more (nft folds one into a plain compare); with host names
 * the named set peersN, even empty, that rules_set_peers() updates. */
static int put_peer_set(struct batch *bt, struct rules *r,
			const struct pmtud_conf *c, const struct icmp_match *m,
			uint32_t set_id)
{
	const struct set_spec anon = {
		.name = RULES_ANON_SET, .id = set_id,
		.flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT,
		.key_type = m->addr_type, .key_len = m->addr_len,
		.size = rules_n_peers(c, m->family), .byteorder = NFT_BYTEORDER_BIG,
	};
	const struct set_spec named = {
		.name = m->peer_set, .id = set_id,
		.key_type = m->addr_type, .key_len = m->addr_len,
		.size = PEERSET_MAX, .byteorder = NFT_BYTEORDER_BIG,
	};
	char what[64];
	struct nftnl_set *s;
	unsigned i;

	snprintf(what, sizeof(what), "peer set for the %s rule", m->name);
	s = put_set(bt, r, c->n_peer_names ? &named : &anon, what);
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
	if (rules_n_peers(c, m->family))
		put_set_elems(bt, r, s, what);
	nftnl_set_free(s);
	return 0;
}

/* The rule's counter expression (each rule has one), or NULL. */
static struct nftnl_expr *rule_counter(struct nftnl_rule *rule)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(rule);
	struct nftnl_expr *e = NULL;

	while (it && (e = nftnl_expr_iter_next(it)) &&
	       strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") != 0)
		;
	if (it)
		nftnl_expr_iter_destroy(it);
	return e;
}

/* A counter starting at a value: nft_counter takes initial packets
 * and bytes, as nft -f does for "counter packets N bytes M". Without
 * memory for the iterator the count restarts: no harm to packets. */
static void rule_counter_start(struct nftnl_rule *rule, uint64_t packets,
			       uint64_t bytes)
{
	struct nftnl_expr *e = packets || bytes ? rule_counter(rule) : NULL;

	if (e) {
		nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, packets);
		nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, bytes);
	}
}

static int put_rule(struct batch *bt, struct rules *r,
		    const struct pmtud_conf *c, const struct slot *sl,
		    const struct carry *cy)
{
	const struct icmp_match *m = &rules_matches[sl->m];
	uint32_t set_id = sl->m + 1, iface_set = set_id + 4 * (uint32_t)sl->kind;
	struct nftnl_rule *rule;
	struct nlmsghdr *nlh;

	if (c->n_ifaces > 1 && put_iface_set(bt, r, c, iface_set, m->name) < 0)
		return -1;
	/* With names, one named set per family, made with the capture
	 * rule (first in the batch); the copy rule names it too. */
	if ((c->n_peer_names ? sl->kind == RULE_CAPTURE
			     : (sl->kind == RULE_CAPTURE || sl->kind == RULE_COPY_PEER) &&
			       rules_n_peers(c, m->family) > 1) &&
	    put_peer_set(bt, r, c, m, rules_peer_set_id(sl->kind, set_id)) < 0)
		return -1;
	rule = nftnl_rule_alloc();
	if (!rule)
		return -1;
	if (nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, r->table) < 0 ||
	    nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, RULES_CHAIN) < 0 ||
	    rules_build(rule, c, m, sl->kind, set_id, iface_set, r->xt_queue) < 0) {
		nftnl_rule_free(rule);
		return -1;
	}
	if (cy)
		rule_counter_start(rule, cy->packets[sl->m][sl->kind],
				   cy->bytes[sl->m][sl->kind]);
	nlh = batch_msg(bt, r, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
			"add %s%s rule to chain inet %s %s", m->name,
			rules_kind_names[sl->kind], r->table, RULES_CHAIN);
	nftnl_rule_nlmsg_build_payload(nlh, rule);
	nftnl_rule_free(rule);
	batch_next(bt);
	return 0;
}

/* The chain's rules for c, in order: per family the two pre-limits
 * (with "prelimit"), the capture rule, then with the NFLOG input the
 * rules that log copies other agents send us, for the owner lookup
 * (from peers, if any; broadcast): a queued copy would wait for a
 * verdict for nothing. Returns how many. */
static unsigned chain_layout(const struct pmtud_conf *c, struct slot sl[RULES_MAX])
{
	unsigned i, n = 0;

	for (i = 0; i < RULES_N_MATCHES; i++) {
		if (c->prelimit) {
			sl[n++] = (struct slot){ i, RULE_PRE_SOURCE };
			sl[n++] = (struct slot){ i, RULE_PRE_ALL };
		}
		sl[n++] = (struct slot){ i, RULE_CAPTURE };
		if (c->input != INPUT_NFLOG)
			continue;
		if (c->n_peer_names || rules_n_peers(c, rules_matches[i].family))
			sl[n++] = (struct slot){ i, RULE_COPY_PEER };
		sl[n++] = (struct slot){ i, RULE_COPY_BCAST };
	}
	return n;
}

/* The rules of c with their anonymous sets; counters from cy (NULL:
 * from 0). The pre-limit sets must exist or come earlier in the batch. */
static int put_rules(struct batch *bt, struct rules *r,
		     const struct pmtud_conf *c, const struct carry *cy)
{
	struct slot sl[RULES_MAX];
	unsigned i, n = chain_layout(c, sl);

	for (i = 0; i < n; i++)
		if (put_rule(bt, r, c, &sl[i], cy) < 0)
			return -1;
	return 0;
}

static int put_pre_sets(struct batch *bt, struct rules *r)
{
	unsigned i;

	for (i = 0; i < RULES_N_MATCHES; i++)
		if (put_pre_set(bt, r, &rules_matches[i], PRE_SET_ID_BASE + i + 1) < 0)
			return -1;
	return 0;
}

/* Delete the chain's rules, keep the chain: its hook stays registered
 * (unregistering one drops every packet queued in the namespace), and
 * the anonymous sets go with the rules bound to them. */
static int put_flush(struct batch *bt, struct rules *r)
{
	struct nftnl_rule *rule = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!rule)
		return -1;
	if (nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, r->table) < 0 ||
	    nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, RULES_CHAIN) < 0) {
		nftnl_rule_free(rule);
		return -1;
	}
	nlh = batch_msg(bt, r, NFT_MSG_DELRULE, 0, "flush chain inet %s %s",
			r->table, RULES_CHAIN);
	nftnl_rule_nlmsg_build_payload(nlh, rule);
	nftnl_rule_free(rule);
	batch_next(bt);
	return 0;
}

/* The pre-limit sets: type NFT_MSG_DELSET deletes them, NFT_MSG_DELSETELEM
 * without elements empties them (a new per-source rate must not meet
 * limits the kernel keeps with the old one in every element). */
static int put_pre_sets_op(struct batch *bt, struct rules *r, uint16_t type)
{
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	unsigned i;

	for (i = 0; i < RULES_N_MATCHES; i++) {
		s = nftnl_set_alloc();
		if (!s)
			return -1;
		if (nftnl_set_set_str(s, NFTNL_SET_TABLE, r->table) < 0 ||
		    nftnl_set_set_str(s, NFTNL_SET_NAME, rules_matches[i].pre_set) < 0) {
			nftnl_set_free(s);
			return -1;
		}
		nlh = batch_msg(bt, r, type, 0, "%s set %s",
				type == NFT_MSG_DELSET ? "delete" : "flush",
				rules_matches[i].pre_set);
		if (type == NFT_MSG_DELSET)
			nftnl_set_nlmsg_build_payload(nlh, s);
		else
			nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		batch_next(bt);
	}
	return 0;
}

static bool pre_source_changed(const struct pmtud_conf *o,
			       const struct pmtud_conf *n)
{
	uint64_t ro, rn;
	uint32_t bo, bn;

	rules_pre_source(o, &ro, &bo);
	rules_pre_source(n, &rn, &bn);
	return ro != rn || bo != bn;
}

/* The batches, as one builder each: false when out of memory. */
struct batch_job {
	const struct pmtud_conf *o, *n;	/* o: the installed (update only) */
	const struct carry *cy;
	bool replace;			/* install: delete the old table */
};

static bool build_install(struct batch *bt, struct rules *r,
			  const struct batch_job *j)
{
	return !(j->replace && put_table(bt, r, NFT_MSG_DELTABLE, false) < 0) &&
	       put_table(bt, r, NFT_MSG_NEWTABLE, r->owner) == 0 &&
	       put_chain(bt, r) == 0 &&
	       !(j->n->prelimit && put_pre_sets(bt, r) < 0) &&
	       put_rules(bt, r, j->n, NULL) == 0;
}

/* Reload in place: table and chain untouched; new pre-limit sets
 * first (the rules name them), the old rules out, the new ones in, then
 * what no rule names any more. Pre-limit sets kept keep their sources
 * (emptied only when the per-source rate or burst changes). */
static bool build_update(struct batch *bt, struct rules *r,
			 const struct batch_job *j)
{
	const struct pmtud_conf *o = j->o, *n = j->n;

	return !(n->prelimit && !o->prelimit && put_pre_sets(bt, r) < 0) &&
	       put_flush(bt, r) == 0 &&
	       !(n->prelimit && o->prelimit && pre_source_changed(o, n) &&
		 put_pre_sets_op(bt, r, NFT_MSG_DELSETELEM) < 0) &&
	       put_rules(bt, r, n, j->cy) == 0 &&
	       !(o->prelimit && !n->prelimit &&
		 put_pre_sets_op(bt, r, NFT_MSG_DELSET) < 0);
}

static bool build_flush(struct batch *bt, struct rules *r,
			const struct batch_job *j)
{
	(void)j;
	return put_flush(bt, r) == 0;
}

typedef bool (*batch_builder)(struct batch *, struct rules *,
			      const struct batch_job *);

/* Build and send one atomic batch. Returns 0, or -1 with errno,
 * *fail_idx (see batch_send) and what naming the message. */
static int run_batch(struct rules *r, batch_builder build,
		     const struct batch_job *j, const char *action,
		     int *fail_idx, char *what, size_t whatlen)
{
	char buf[2 * BATCH_LIMIT] __attribute__((aligned(4)));
	struct batch bt;
	int ret;

	*fail_idx = -1;
	if (batch_start(&bt, buf, r) < 0) {
		snprintf(what, whatlen, "build the batch");
		errno = ENOMEM;
		return -1;
	}
	if (!build(&bt, r, j)) {
		mnl_nlmsg_batch_stop(bt.b);
		snprintf(what, whatlen, "build the batch");
		errno = ENOMEM;
		return -1;
	}
	ret = batch_send(&bt, r, fail_idx);
	if (ret < 0)
		snprintf(what, whatlen, "%s", *fail_idx >= 0 ?
			 bt.what[*fail_idx] : action);
	mnl_nlmsg_batch_stop(bt.b);
	return ret;
}

/* [delete old table], table, chain, sets and rules. */
static int install_batch(struct rules *r, const struct pmtud_conf *c,
			 bool replace, int *fail_idx, char *what, size_t whatlen)
{
	const struct batch_job j = { .n = c, .replace = replace };

	return run_batch(r, build_install, &j, "install the table", fail_idx,
			 what, whatlen);
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

/* One rule of a chain dump: its handle and counter. */
static int chain_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct chain_dump *d = data;
	struct nftnl_rule *rule;
	struct nftnl_expr *e;
	unsigned i = d->n;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWRULE)
		return MNL_CB_OK;
	rule = nftnl_rule_alloc();
	if (!rule)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, rule) < 0) {
		d->bad = true;
		nftnl_rule_free(rule);
		return MNL_CB_OK;
	}
	d->n++;
	if (i < RULES_MAX) {
		d->handle[i] = nftnl_rule_get_u64(rule, NFTNL_RULE_HANDLE);
		e = rule_counter(rule);
		if (e) {
			d->packets[i] = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
			d->bytes[i] = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
		}
		if (d->handle[i] > d->max_handle)
			d->max_handle = d->handle[i];
	}
	nftnl_rule_free(rule);
	return MNL_CB_OK;
}

/* Read our chain's rules back (a dump: no table, no rules). */
static int chain_read(struct rules *r, struct chain_dump *d)
{
	char buf[512] __attribute__((aligned(4)));
	struct nftnl_rule *rule = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	uint32_t seq = ++r->seq, fail;

	memset(d, 0, sizeof(*d));
	if (!rule) {
		errno = ENOMEM;
		return -1;
	}
	if (nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, r->table) < 0 ||
	    nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, RULES_CHAIN) < 0) {
		nftnl_rule_free(rule);
		errno = ENOMEM;
		return -1;
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
				    NLM_F_DUMP, seq);
	nftnl_rule_nlmsg_build_payload(nlh, rule);
	nftnl_rule_free(rule);
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0 ||
	    nl_wait(r, 0, seq, seq, chain_rule_cb, d, &fail) < 0)
		return -1;
	return 0;
}

/* The counters of the installed rules (layout of o), by slot: a reload
 * carries them into the new rules. Packets counted between this read
 * and the commit are not carried. Anything unexpected: from 0. */
static void carry_counters(struct carry *cy, const struct pmtud_conf *o,
			   const struct chain_dump *d)
{
	struct slot sl[RULES_MAX];
	unsigned i, n = chain_layout(o, sl);

	memset(cy, 0, sizeof(*cy));
	if (d->bad || d->n != n)
		return;
	for (i = 0; i < n; i++) {
		cy->packets[sl[i].m][sl[i].kind] = d->packets[i];
		cy->bytes[sl[i].m][sl[i].kind] = d->bytes[i];
	}
}

/* Whether o and n give the same rules, byte for byte (same seqs): a
 * reload then leaves the kernel alone and the counters stay exact. */
static bool same_rules(struct rules *r, const struct pmtud_conf *o,
		       const struct pmtud_conf *n)
{
	char *buf = malloc(4 * BATCH_LIMIT);
	uint32_t seq = r->seq;
	struct batch a, b;
	bool same = false;

	if (!buf)
		return false;
	if (batch_start(&a, buf, r) == 0) {
		bool built = put_rules(&a, r, o, NULL) == 0 && !a.overflow;

		r->seq = seq;
		if (batch_start(&b, buf + 2 * BATCH_LIMIT, r) == 0) {
			same = built && put_rules(&b, r, n, NULL) == 0 && !b.overflow &&
			       mnl_nlmsg_batch_size(a.b) == mnl_nlmsg_batch_size(b.b) &&
			       !memcmp(mnl_nlmsg_batch_head(a.b), mnl_nlmsg_batch_head(b.b),
				       mnl_nlmsg_batch_size(a.b));
			mnl_nlmsg_batch_stop(b.b);
		}
		mnl_nlmsg_batch_stop(a.b);
	}
	r->seq = seq;
	free(buf);
	return same;
}

/* A batch sent but not fully answered (ACK timeout, ENOBUFS): the
 * kernel committed all of it or nothing. Every rule a commit adds
 * gets a handle above all earlier ones of the table, and the chain only
 * holds our rules, so the chain read back tells which ruleset is in.
 * Returns 0 if ours is, -1 (errno kept) if the old one still is, -1
 * with EPROTO if neither can be recognised. */
static int settle(struct rules *r, const struct pmtud_conf *n,
		  const struct chain_dump *before, int errnum)
{
	struct chain_dump now;
	struct slot sl[RULES_MAX];
	unsigned i, want = chain_layout(n, sl);
	bool fresh = true, same;

	if (chain_read(r, &now) < 0) {
		log_msg(LOG_ERR, "nftables: reload batch unanswered (%s), and "
			"table inet %s cannot be read back: %s", strerror(errnum),
			r->table, strerror(errno));
		errno = EPROTO;
		return -1;
	}
	same = !now.bad && now.n == before->n;
	for (i = 0; i < now.n && i < RULES_MAX; i++) {
		fresh = fresh && now.handle[i] > before->max_handle;
		same = same && now.handle[i] == before->handle[i];
	}
	if (!now.bad && now.n == want && fresh) {
		log_msg(LOG_WARNING, "nftables: reload batch unanswered (%s): "
			"table inet %s read back holds the new rules: applied",
			strerror(errnum), r->table);
		return 0;
	}
	if (same) {
		log_msg(LOG_WARNING, "nftables: reload batch unanswered (%s): "
			"table inet %s read back holds the old rules: not applied",
			strerror(errnum), r->table);
		errno = errnum;
		return -1;
	}
	log_msg(LOG_ERR, "nftables: reload batch unanswered (%s): table inet "
		"%s read back holds neither the old nor the new rules (%u rules)",
		strerror(errnum), r->table, now.n);
	errno = EPROTO;
	return -1;
}

/* Reload in place, in one atomic batch on r->nl (see build_update): the
 * table, its owner, its chain and hook, the pre-limit sets stay; the
 * counters carry over. Rules that would not change are not touched. A table someone deleted meanwhile (fallback mode
 * only: nobody else may touch an owned one) is added afresh. */
int rules_update(struct rules *r, const struct pmtud_conf *o,
		 const struct pmtud_conf *n, char *err, size_t errlen)
{
	struct carry cy;
	const struct batch_job j = { .o = o, .n = n, .cy = &cy };
	struct slot sl[RULES_MAX];
	struct chain_dump before;
	char what[96];
	int fail_idx, ret;

	if (!r->nl || !r->installed || strcmp(n->table, r->table) != 0) {
		set_err(err, errlen, "nftables: table inet %s is not installed by "
			"this process", n->table);
		return -1;
	}
	if (n->n_ifaces == 0 || n->n_ifaces > PMTUD_MAX_IFACES) {
		set_err(err, errlen, "nftables: %u interfaces, expected 1 to %d",
			n->n_ifaces, PMTUD_MAX_IFACES);
		return -1;
	}
	if (chain_read(r, &before) < 0) {
		set_err(err, errlen, "nftables: cannot read table inet %s: %s%s",
			r->table, strerror(errno), errno_hint(errno));
		return -1;
	}
	if (!before.bad && before.n == chain_layout(o, sl) && same_rules(r, o, n))
		return 0;	/* the rules in the kernel are already n's */
	carry_counters(&cy, o, &before);
	ret = run_batch(r, build_update, &j, "update the table", &fail_idx,
			what, sizeof(what));
	if (ret < 0 && fail_idx == BATCH_UNANSWERED)
		ret = settle(r, n, &before, errno);
	if (ret < 0 && fail_idx >= 0 && errno == ENOENT && before.n == 0 &&
	    !r->owner)
		ret = install_batch(r, n, false, &fail_idx, what, sizeof(what));
	if (ret < 0) {
		install_error(fail_idx, what, err, errlen);
		return -1;
	}
	return 0;
}

/* ---- peer sets in place (host names in peers) ----------------------- */

/* Elements per message: the element list is one attribute, whose
 * length field has 16 bits (28 bytes per IPv6 element). */
#define PEER_ELEMS_PER_MSG	1024

/* "flush set": a DELSETELEM without an element list (an empty list
 * would delete nothing). */
static void put_set_flush(struct batch *bt, struct rules *r, const char *set)
{
	struct nlmsghdr *nlh;

	nlh = batch_msg(bt, r, NFT_MSG_DELSETELEM, 0, "flush set inet %s %s",
			r->table, set);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, r->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	batch_next(bt);
}

/* Elements v[0..n) (all of m's family) into set m->peer_set. */
static int put_peer_elems(struct batch *bt, struct rules *r,
			  const struct icmp_match *m,
			  const struct pmtud_addr *v, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i += PEER_ELEMS_PER_MSG) {
		struct nftnl_set *s = nftnl_set_alloc();
		char what[96];

		if (!s || nftnl_set_set_str(s, NFTNL_SET_TABLE, r->table) < 0 ||
		    nftnl_set_set_str(s, NFTNL_SET_NAME, m->peer_set) < 0)
			goto fail;
		for (j = i; j < n && j < i + PEER_ELEMS_PER_MSG; j++)
			if (!set_add_key(s, v[j].a, m->addr_len))
				goto fail;
		snprintf(what, sizeof(what), "elements to set inet %s %s",
			 r->table, m->peer_set);
		put_set_elems(bt, r, s, what);
		nftnl_set_free(s);
		continue;
fail:
		if (s)
			nftnl_set_free(s);
		return -1;
	}
	return 0;
}

int rules_set_peers(struct rules *r, const struct pmtud_addr *v, size_t n,
		    char *err, size_t errlen)
{
	/* Elements, attribute headers and the messages around them. */
	size_t limit = 8192 + n * 40, n4 = peerset_count(v, n, AF_INET);
	struct batch bt;
	char what[96];
	char *buf;
	int fail_idx, ret = -1;

	if (!r->nl || !r->installed) {
		set_err(err, errlen, "nftables: table inet %s is not installed", r->table);
		return -1;
	}
	buf = aligned_alloc(4, 2 * limit);
	if (!buf || batch_start_sized(&bt, buf, limit, r) < 0) {
		free(buf);
		set_err(err, errlen, "nftables: peer sets: out of memory");
		return -1;
	}
	put_set_flush(&bt, r, rules_matches[0].peer_set);
	put_set_flush(&bt, r, rules_matches[1].peer_set);
	if (put_peer_elems(&bt, r, &rules_matches[0], v, n4) < 0 ||
	    put_peer_elems(&bt, r, &rules_matches[1], v + n4, n - n4) < 0) {
		set_err(err, errlen, "nftables: peer sets: out of memory");
		goto out;
	}
	ret = batch_send(&bt, r, &fail_idx);
	if (ret < 0) {
		snprintf(what, sizeof(what), "%s", fail_idx >= 0 ?
			 bt.what[fail_idx] : "update the peer sets");
		install_error(fail_idx, what, err, errlen);
	}
out:
	mnl_nlmsg_batch_stop(bt.b);
	free(buf);
	return ret;
}

/* Shutdown, first step: the rules go, table and hook stay. */
void rules_quiesce(struct rules *r)
{
	char what[96];
	int fail_idx;

	if (r->nl && r->installed &&
	    run_batch(r, build_flush, NULL, "flush the chain", &fail_idx,
		      what, sizeof(what)) < 0 && errno != ENOENT)
		log_msg(LOG_WARNING, "nftables: cannot %s: %s", what,
			strerror(errno));
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
