/* conf_list.c - the list keys (iface, ports, peers, peer_source, vips):
 * a JSON array in the file, comma-separated on the command line.
 */
#include "config.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "conf_priv.h"

/* ---- lists: a JSON array, or comma-separated on the command line ----- */

int conf_list_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	const struct key_ops *o = x->k->ops;
	struct ctx ix = *x;
	json_t *e;
	size_t i;

	if (o->scalar_ok && json_is_string(v)) {
		o->clear(c);
		return o->add_json(x, c, v);
	}
	if (!json_is_array(v))
		return conf_bad_type(x, v);
	o->clear(c);
	json_array_foreach(v, i, e) {
		ix.item = (unsigned)i + 1;
		if (o->add_json(&ix, c, e) < 0)
			return -1;
	}
	return 0;
}

/* "" is the empty list. */
int conf_list_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
		       bool append)
{
	char *copy, *rest, *tok;
	int rc = 0;

	if (!append)
		x->k->ops->clear(c);
	if (!*s)
		return 0;
	copy = strdup(s);
	if (!copy)
		return conf_fail(x->err, "out of memory");
	rest = copy;
	while (rc == 0 && (tok = strsep(&rest, ",")))
		rc = x->k->ops->add_str(x, c, tok);
	free(copy);
	return rc;
}

/* Interfaces: what the kernel's dev_valid_name() takes, minus ','. */
static bool ifname_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	size_t i;

	if (n < 1 || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || strchr("/:,", s[i]))
			return false;
	return true;
}

static void iface_expect(const struct conf_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "an interface name of 1..%d characters, without "
		 "spaces, '/', ':' or ','", IFNAMSIZ - 1);
}

static void iface_clear(struct pmtud_conf *c)
{
	c->n_ifaces = 0;
}

static int iface_add(const struct ctx *x, struct pmtud_conf *c, const char *s,
		     const char *got)
{
	unsigned i;

	if (!ifname_ok(s))
		return conf_bad_value(x, got);
	for (i = 0; i < c->n_ifaces; i++)
		if (!strcmp(c->ifaces[i], s))
			return conf_key_fail(x, "duplicate interface %s", got);
	if (c->n_ifaces == PMTUD_MAX_IFACES)
		return conf_key_fail(x, "more than %d interfaces", PMTUD_MAX_IFACES);
	memcpy(c->ifaces[c->n_ifaces++], s, strlen(s) + 1);
	return 0;
}

static int iface_add_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return conf_bad_type(x, v);
	return iface_add(x, c, conf_cstr(v), conf_render(v, got, sizeof(got)));
}

static int iface_add_str(const struct ctx *x, struct pmtud_conf *c, const char *s)
{
	char got[GOTLEN];

	return iface_add(x, c, s, conf_quote(s, got, sizeof(got)));
}

static json_t *iface_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	json_t *a = json_array();
	unsigned i;

	(void)k;
	for (i = 0; a && i < c->n_ifaces; i++) {
		if (json_array_append_new(a, json_string(c->ifaces[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

const struct key_ops conf_iface_ops = {
	.from_json = conf_list_from_json,
	.from_str = conf_list_from_str,
	.to_json = iface_to_json,
	.expect = iface_expect,
	.list_expect = "a string or an array of strings",
	.scalar_ok = true,
	.clear = iface_clear,
	.add_json = iface_add_json,
	.add_str = iface_add_str,
};

/* Ports: kept sorted, for the classifier's binary search; a port given
 * twice is an error, as in every other list. */
static void ports_clear(struct pmtud_conf *c)
{
	c->n_ports = 0;
	c->ports_any = true;
}

static int port_add(const struct ctx *x, struct pmtud_conf *c, long long v,
		    const char *got)
{
	unsigned i;

	if (v < x->k->min || v > x->k->max)
		return conf_bad_value(x, got);
	for (i = 0; i < c->n_ports && c->ports[i] < v; i++)
		;
	if (i < c->n_ports && c->ports[i] == v)
		return conf_key_fail(x, "duplicate port %s", got);
	if (c->n_ports == ARRAY_SIZE(c->ports))
		return conf_key_fail(x, "more than %zu ports", ARRAY_SIZE(c->ports));
	memmove(&c->ports[i + 1], &c->ports[i], (c->n_ports - i) * sizeof(c->ports[0]));
	c->ports[i] = (uint16_t)v;
	c->n_ports++;
	c->ports_any = false;
	return 0;
}

static int port_add_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_integer(v))
		return conf_bad_type(x, v);
	return port_add(x, c, json_integer_value(v), conf_render(v, got, sizeof(got)));
}

static int port_add_str(const struct ctx *x, struct pmtud_conf *c, const char *s)
{
	char got[GOTLEN];
	long long v;

	conf_quote(s, got, sizeof(got));
	if (conf_parse_int(s, &v) < 0)
		return conf_bad_value(x, got);
	return port_add(x, c, v, got);
}

static json_t *ports_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	json_t *a = json_array();
	unsigned i;

	(void)k;
	for (i = 0; a && i < c->n_ports; i++) {
		if (json_array_append_new(a, json_integer(c->ports[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

const struct key_ops conf_ports_ops = {
	.from_json = conf_list_from_json,
	.from_str = conf_list_from_str,
	.to_json = ports_to_json,
	.expect = conf_int_expect,
	.list_expect = "an array of integers 1..65535",
	.clear = ports_clear,
	.add_json = port_add_json,
	.add_str = port_add_str,
};

/* Peers: IPv4/IPv6 addresses, or host names (resolved by peers_dns.c). */
static void peer_expect(const struct conf_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "an IPv4 or IPv6 address or a host name");
}

static void peers_clear(struct pmtud_conf *c)
{
	c->n_peers = 0;
	c->n_peer_names = 0;
	/* byte-for-byte comparable (reload, fuzz round-trip) */
	memset(c->peer_names, 0, sizeof(c->peer_names));
}

/* A DNS name: labels of 1..63 letters, digits, '-' or '_' (service
 * names), 253 characters at most, one trailing dot allowed. Digits
 * and dots alone are a mistyped IPv4 address, not a name. */
static bool hostname_ok(const char *s)
{
	size_t n = strlen(s), label = 0, i;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > PMTUD_HOSTNAME_MAXLEN - 1 || strspn(s, "0123456789.") == strlen(s))
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

static int peer_name_add(const struct ctx *x, struct pmtud_conf *c, const char *s,
			 const char *got)
{
	unsigned i;

	if (!hostname_ok(s))
		return conf_bad_value(x, got);
	for (i = 0; i < c->n_peer_names; i++)
		if (!strcasecmp(c->peer_names[i], s))
			return conf_key_fail(x, "duplicate name %s", got);
	if (c->n_peer_names == PMTUD_MAX_PEERS)
		return conf_key_fail(x, "more than %d names", PMTUD_MAX_PEERS);
	memcpy(c->peer_names[c->n_peer_names++], s, strlen(s) + 1);
	return 0;
}

/* Why a peer address cannot reach another host, or NULL. A peer has
 * no interface to go with it, so an IPv6 link-local one is unusable. */
const char *conf_peer_unusable(const struct pmtud_addr *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t zero[16];
	const uint8_t *b = a->a;

	if (a->family == AF_INET) {
		if (b[0] == 0)
			return "an unspecified (\"this network\") address";
		if (b[0] == 127)
			return "a loopback address";
		if (b[0] >= 224 && b[0] <= 239)
			return "a multicast address";
		if (!memcmp(b, "\xff\xff\xff\xff", 4))
			return "the broadcast address";
		return NULL;
	}
	if (!memcmp(b, zero, 16))
		return "the unspecified address";
	if (!memcmp(b, zero, 15) && b[15] == 1)
		return "the loopback address";
	if (b[0] == 0xff)
		return "a multicast address";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "link-local, and a peer has no interface (scope) to use";
	if (!memcmp(b, mapped, sizeof(mapped)))
		return "IPv4-mapped: write the IPv4 address";
	return NULL;
}

static int peer_add(const struct ctx *x, struct pmtud_conf *c, const char *s,
		    const char *got)
{
	struct pmtud_addr a;
	const char *why;
	unsigned i;

	if (!s)
		return conf_bad_value(x, got);
	if (pmtud_addr_parse(&a, s) < 0)
		return peer_name_add(x, c, s, got);
	why = conf_peer_unusable(&a);
	if (why)
		return conf_key_fail(x, "%s is %s: a peer must be a unicast "
				     "address of another host", got, why);
	for (i = 0; i < c->n_peers; i++)
		if (pmtud_addr_eq(&c->peers[i], &a))
			return conf_key_fail(x, "duplicate address %s", got);
	if (c->n_peers == PMTUD_MAX_PEERS)
		return conf_key_fail(x, "more than %d addresses", PMTUD_MAX_PEERS);
	c->peers[c->n_peers++] = a;
	return 0;
}

static int peer_add_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return conf_bad_type(x, v);
	return peer_add(x, c, conf_cstr(v), conf_render(v, got, sizeof(got)));
}

static int peer_add_str(const struct ctx *x, struct pmtud_conf *c, const char *s)
{
	char got[GOTLEN];

	return peer_add(x, c, s, conf_quote(s, got, sizeof(got)));
}

static json_t *peers_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	char buf[PMTUD_ADDRSTRLEN];
	json_t *a = json_array();
	unsigned i;

	(void)k;
	for (i = 0; a && i < c->n_peers + c->n_peer_names; i++) {
		const char *s = i < c->n_peers ? pmtud_addr_str(&c->peers[i], buf)
					       : c->peer_names[i - c->n_peers];

		if (json_array_append_new(a, json_string(s)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

const struct key_ops conf_peers_ops = {
	.from_json = conf_list_from_json,
	.from_str = conf_list_from_str,
	.to_json = peers_to_json,
	.expect = peer_expect,
	.list_expect = "an array of IPv4/IPv6 address strings or host names",
	.clear = peers_clear,
	.add_json = peer_add_json,
	.add_str = peer_add_str,
};

/* Peer sources: at most one address per family, [0] IPv4, [1] IPv6. */
static void psrc_clear(struct pmtud_conf *c)
{
	memset(c->peer_source, 0, sizeof(c->peer_source));
}

static int psrc_add(const struct ctx *x, struct pmtud_conf *c, const char *s,
		    const char *got)
{
	struct pmtud_addr a;
	struct pmtud_addr *slot;

	if (!s || pmtud_addr_parse(&a, s) < 0)
		return conf_bad_value(x, got);
	slot = &c->peer_source[a.family == AF_INET ? 0 : 1];
	if (slot->family)
		return conf_key_fail(x, "more than one %s address %s",
				     a.family == AF_INET ? "IPv4" : "IPv6", got);
	*slot = a;
	return 0;
}

static int psrc_add_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return conf_bad_type(x, v);
	return psrc_add(x, c, conf_cstr(v), conf_render(v, got, sizeof(got)));
}

static int psrc_add_str(const struct ctx *x, struct pmtud_conf *c, const char *s)
{
	char got[GOTLEN];

	return psrc_add(x, c, s, conf_quote(s, got, sizeof(got)));
}

static json_t *psrc_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	char buf[PMTUD_ADDRSTRLEN];
	json_t *a = json_array();
	unsigned i;

	(void)k;
	for (i = 0; a && i < 2; i++) {
		if (!c->peer_source[i].family)
			continue;
		pmtud_addr_str(&c->peer_source[i], buf);
		if (json_array_append_new(a, json_string(buf)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

const struct key_ops conf_psrc_ops = {
	.from_json = conf_list_from_json,
	.from_str = conf_list_from_str,
	.to_json = psrc_to_json,
	.expect = peer_expect,
	.list_expect = "an array of at most one IPv4 and one IPv6 address",
	.clear = psrc_clear,
	.add_json = psrc_add_json,
	.add_str = psrc_add_str,
};

/* VIPs: "addr/len" prefixes, or a bare address (a host prefix). Bits
 * past len must be zero: "203.0.113.81/24" is refused rather than
 * silently widened, since a typo there widens what gets relayed. */
static void vip_expect(const struct conf_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "an IPv4 or IPv6 address or prefix (\"addr/len\", "
		 "host bits zero)");
}

static void vips_clear(struct pmtud_conf *c)
{
	c->n_vips = 0;
}

/* 0, -1 (not a prefix), or -2 (host bits set: *p then holds the
 * network, for the message). */
static int prefix_parse(struct pmtud_prefix *p, const char *s)
{
	char buf[PMTUD_PREFIXSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max, i;
	long long len;
	int dirty = 0;

	/* Padding included: configurations are compared byte for byte
	 * (reload, fuzz round-trip). */
	memset(p, 0, sizeof(*p));
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (pmtud_addr_parse(&p->addr, buf) < 0)
		return -1;
	max = p->addr.family == AF_INET ? 32 : 128;
	len = max;
	if (slash && (conf_parse_int(slash + 1, &len) < 0 || slash[1] == '-' ||
		      len > max || strlen(slash + 1) > 3))
		return -1;
	p->len = (uint8_t)len;
	for (i = (unsigned)len; i < max; i++) {
		uint8_t bit = (uint8_t)(0x80 >> (i % 8));

		if (p->addr.a[i / 8] & bit) {
			p->addr.a[i / 8] &= (uint8_t)~bit;
			dirty = -2;
		}
	}
	return dirty;
}

const char *conf_prefix_str(const struct pmtud_prefix *p, char *buf)
{
	char a[PMTUD_ADDRSTRLEN];

	snprintf(buf, PMTUD_PREFIXSTRLEN, "%s/%u", pmtud_addr_str(&p->addr, a),
		 (unsigned)p->len);
	return buf;
}

static int vip_add(const struct ctx *x, struct pmtud_conf *c, const char *s,
		   const char *got)
{
	char net[PMTUD_PREFIXSTRLEN];
	struct pmtud_prefix p;
	unsigned i;
	int rc;

	rc = s ? prefix_parse(&p, s) : -1;
	if (rc == -1)
		return conf_bad_value(x, got);
	if (rc == -2)
		return conf_key_fail(x, "%s has host bits set past /%u (network %s?)",
				     got, (unsigned)p.len, conf_prefix_str(&p, net));
	for (i = 0; i < c->n_vips; i++)
		if (c->vips[i].len == p.len && pmtud_addr_eq(&c->vips[i].addr, &p.addr))
			return conf_key_fail(x, "duplicate prefix %s", got);
	if (c->n_vips == PMTUD_MAX_VIPS)
		return conf_key_fail(x, "more than %d prefixes", PMTUD_MAX_VIPS);
	c->vips[c->n_vips++] = p;
	return 0;
}

static int vip_add_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return conf_bad_type(x, v);
	return vip_add(x, c, conf_cstr(v), conf_render(v, got, sizeof(got)));
}

static int vip_add_str(const struct ctx *x, struct pmtud_conf *c, const char *s)
{
	char got[GOTLEN];

	return vip_add(x, c, s, conf_quote(s, got, sizeof(got)));
}

static json_t *vips_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	char buf[PMTUD_PREFIXSTRLEN];
	json_t *a = json_array();
	unsigned i;

	(void)k;
	for (i = 0; a && i < c->n_vips; i++) {
		if (json_array_append_new(a, json_string(conf_prefix_str(&c->vips[i], buf))) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

const struct key_ops conf_vips_ops = {
	.from_json = conf_list_from_json,
	.from_str = conf_list_from_str,
	.to_json = vips_to_json,
	.expect = vip_expect,
	.list_expect = "an array of IPv4/IPv6 prefix strings",
	.clear = vips_clear,
	.add_json = vip_add_json,
	.add_str = vip_add_str,
};
