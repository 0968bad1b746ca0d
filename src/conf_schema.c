/* conf_schema.c - the key table of /etc/pmtud.json and what follows
 * from it alone: defaults, derived defaults, the flags.
 *
 * Adding a key: add the field to struct pmtud_conf, then one row to
 * conf_keys[] below (type ops, field, range, flag, doc, default).
 * Nothing else: the loader, cli.c, --help and the dump read the table.
 */
#include "config.h"
#include <assert.h>
#include <string.h>
#include "conf_priv.h"

/* ---- the table ------------------------------------------------------------ */

static const char *const src_key_names[] = {
	[SRC_KEY_FLOW] = "flow", [SRC_KEY_SOURCE] = "source", NULL,
};

static const char *const input_names[] = {
	[INPUT_NFLOG] = "nflog", [INPUT_NFQUEUE] = "nfqueue", NULL,
};

/* In file, --help and --check-config order. flag = { long option,
 * short option, argument name, key, doc, default as text }; the
 * default text is also what conf_defaults() parses, unless dflt says
 * otherwise or derived is set. */
const struct conf_key conf_keys[] = {
	{ .flag = { "iface", 'i', "NAME[,NAME...]", "iface",
		    "interfaces to watch and send copies on; repeatable", NULL },
	  .ops = &conf_iface_ops },
	{ .flag = { "input", 0, "nflog|nfqueue", "input",
		    "how the kernel hands over captured ICMP errors", "nflog" },
	  .ops = &conf_enum_ops, FIELD(input), .names = input_names },
	{ .flag = { "nflog", 0, "GROUP", "nflog_group",
		    "NFLOG group the capture rule logs to", "33" },
	  .ops = &conf_int_ops, FIELD(nflog_group), .min = 0, .max = 65535 },
	{ .flag = { "queue", 0, "NUM", "queue",
		    "NFQUEUE number, with input nfqueue", "33" },
	  .ops = &conf_int_ops, FIELD(queue_num), .min = 0, .max = 65535 },
	{ .flag = { "src-key", 0, "flow|source", "src_key",
		    "rate-limit per source+quoted destination (flow) or per source", "flow" },
	  .ops = &conf_enum_ops, FIELD(src_key), .names = src_key_names },
	{ .flag = { "src-rate", 0, "R", "src_rate",
		    "copies sent per second per rate-limit key (> 0)", "1.0" },
	  .ops = &conf_num_ops, FIELD(src_rate), .dmin = 0, .open = true },
	{ .flag = { "src-burst", 0, "N", "src_burst",
		    "burst allowed per rate-limit key (>= 1)", "max(1, src_rate)" },
	  .ops = &conf_num_ops, FIELD(src_burst), .dmin = 1, .derived = true },
	{ .flag = { "iface-rate", 0, "R", "iface_rate",
		    "copies sent per second per interface (0.001..1000000)", "10.0" },
	  .ops = &conf_num_ops, FIELD(iface_rate), .dmin = PMTUD_IFACE_RATE_MIN,
	  .dmax = PMTUD_IFACE_RATE_MAX },
	{ .flag = { "iface-burst", 0, "N", "iface_burst",
		    "burst allowed per interface (1..1000000)", "max(1, iface_rate)" },
	  .ops = &conf_num_ops, FIELD(iface_burst), .dmin = 1,
	  .dmax = PMTUD_IFACE_BURST_MAX, .derived = true },
	{ .flag = { "src-table-size", 0, "N", "src_table_size",
		    "rate-limit table entries, a power of two", "16384" },
	  .ops = &conf_int_ops, FIELD(src_table_size), .min = 64, .max = 16777216,
	  .pow2 = true },
	{ .flag = { "ports", 0, "P[,P...]", "ports",
		    "relay only PTBs quoting one of these source ports", "any" },
	  .ops = &conf_ports_ops, .min = 1, .max = 65535, .dflt = "" },
	{ .flag = { "peers", 0, "A|NAME[,...]", "peers",
		    "other servers (addresses, host names: all their A/AAAA): each PTB is relayed to them, never one sent from them", "none" },
	  .ops = &conf_peers_ops, .dflt = "" },
	{ .flag = { "peers-refresh-min", 0, "SECONDS", "peers_refresh_min",
		    "re-resolve peer names no sooner than this, whatever the TTL", "5" },
	  .ops = &conf_int_ops, FIELD(peers_refresh_min), .min = 1, .max = 86400 },
	{ .flag = { "peers-refresh-max", 0, "SECONDS", "peers_refresh_max",
		    "re-resolve peer names no later than this, whatever the TTL", "300" },
	  .ops = &conf_int_ops, FIELD(peers_refresh_max), .min = 1, .max = 86400 },
	{ .flag = { "no-broadcast", 0, NULL, "broadcast",
		    "send no Ethernet broadcast copies (peers only)", "true" },
	  .ops = &conf_bool_ops, FIELD(broadcast), .flag_val = false },
	{ .flag = { "peer-ttl", 0, "N", "peer_ttl",
		    "TTL / hop limit of the copies sent to peers", "64" },
	  .ops = &conf_int_ops, FIELD(peer_ttl), .min = 1, .max = 255 },
	{ .flag = { "peer-rate", 0, "R", "peer_rate",
		    "copies sent per second to all peers together (> 0)", "10 x peers" },
	  .ops = &conf_num_ops, FIELD(peer_rate), .dmin = 0, .open = true, .derived = true },
	{ .flag = { "peer-source", 0, "A[,A]", "peer_source",
		    "source address of the copies to peers, one per family (a local address)", "routed" },
	  .ops = &conf_psrc_ops, .dflt = "" },
	{ .flag = { "min-mtu", 0, "N", "min_mtu",
		    "smallest MTU accepted in an IPv4 PTB (IPv6: always 1280)", "552" },
	  .ops = &conf_int_ops, FIELD(min_mtu), .min = 68, .max = 65535 },
	{ .flag = { "max-mtu", 0, "N", "max_mtu",
		    "largest MTU accepted in a PTB", "65535" },
	  .ops = &conf_int_ops, FIELD(max_mtu), .min = 68, .max = 65535 },
	{ .flag = { "vips", 0, "PREFIX[,PREFIX...]", "vips",
		    "relay only PTBs quoting a source in these prefixes (the VIPs)", "any" },
	  .ops = &conf_vips_ops, .dflt = "" },
	{ .flag = { "dedup-window", 0, "SECONDS", "dedup_window",
		    "relay identical PTBs once per this many seconds (0: off, max 3600)", "1.0" },
	  .ops = &conf_num_ops, FIELD(dedup_window), .dmin = 0 },
	{ .flag = { "relay-owned", 0, NULL, "relay_owned",
		    "relay PTBs for flows this host owns too (sock_diag lookup)", "false" },
	  .ops = &conf_bool_ops, FIELD(relay_owned), .flag_val = true },
	{ .flag = { "owner-rate", 0, "R", "owner_rate",
		    "flow-owner lookups per second, rescue checks included (> 0)", "100" },
	  .ops = &conf_num_ops, FIELD(owner_rate), .dmin = 0, .open = true },
	{ .flag = { "table", 0, "NAME", "table",
		    "name of the agent's nftables table (family inet)", "pmtud" },
	  .ops = &conf_name_ops, FIELD(table) },
	{ .flag = { "no-rules", 0, NULL, "install_rules",
		    "install no nftables table: your own rules feed the group", "true" },
	  .ops = &conf_bool_ops, FIELD(install_rules), .flag_val = false },
	{ .flag = { "rules-skip-broadcast", 0, NULL, "rules_skip_broadcast",
		    "with input nfqueue and --no-rules: your rules skip broadcast frames", "false" },
	  .ops = &conf_bool_ops, FIELD(rules_skip_broadcast), .flag_val = true },
	{ .flag = { "use-src-mac", 0, NULL, "use_src_mac",
		    "send copies from the PTB's source MAC, not the interface's", "false" },
	  .ops = &conf_bool_ops, FIELD(use_src_mac), .flag_val = true },
	{ .flag = { "no-prelimit", 0, NULL, "prelimit",
		    "no in-kernel pre-limit: every PTB reaches the agent", "true" },
	  .ops = &conf_bool_ops, FIELD(prelimit), .flag_val = false },
	{ .flag = { "prelimit-rate", 0, "R", "prelimit_rate",
		    "PTBs per second and family the kernel passes to the agent", "10000" },
	  .ops = &conf_int_ops, FIELD(prelimit_rate), .min = 1, .max = 10000000 },
	{ .flag = { "rcvbuf", 0, "BYTES", "rcvbuf",
		    "netlink receive buffer size", "4194304" },
	  .ops = &conf_int_ops, FIELD(rcvbuf), .min = 65536, .max = 268435456 },
	{ .flag = { "cpu", 0, "N", "cpu",
		    "pin the agent to this CPU (-1: no pinning)", "-1" },
	  .ops = &conf_int_ops, FIELD(cpu), .min = -1, .max = 1023 },
	{ .flag = { "dry-run", 0, NULL, "dry_run",
		    "decide and log, but send no copies", "false" },
	  .ops = &conf_bool_ops, FIELD(dry_run), .flag_val = true },
	{ .flag = { "verbose", 'v', NULL, "verbose",
		    "1: log each decision, 2: + debug, 3: + packet hex; repeatable, adds to the file's value", "0" },
	  .ops = &conf_int_ops, FIELD(verbose), .min = 0, .max = 3 },
	{ .flag = { "metrics-file", 0, "PATH", "metrics_file",
		    "write counters there in the Prometheus text format (\"\": off)", "off" },
	  .ops = &conf_path_ops, FIELD(metrics_file), .dflt = "" },
	{ .flag = { "stats-interval", 0, "SECONDS", "stats_interval",
		    "seconds between two writes of the metrics file", "15" },
	  .ops = &conf_int_ops, FIELD(stats_interval), .min = 1, .max = 3600 },
	{ .flag = { "metrics-peer-limit", 0, "N", "metrics_peer_limit",
		    "one metrics series per peer up to N peers, one for all above", "64" },
	  .ops = &conf_int_ops, FIELD(metrics_peer_limit), .min = 0, .max = 4096 },
	{ .flag = { "user", 0, "NAME", "user",
		    "after setup, run as this user, keeping CAP_NET_ADMIN and CAP_NET_RAW", "none" },
	  .ops = &conf_user_ops, FIELD(user), .dflt = "" },
};

const struct conf_key *conf_key_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < conf_n_keys; i++)
		if (!strcmp(conf_keys[i].flag.key, name))
			return &conf_keys[i];
	return NULL;
}
const size_t conf_n_keys = ARRAY_SIZE(conf_keys);

const struct conf_flag *conf_flag_at(unsigned i)
{
	return i < conf_n_keys ? &conf_keys[i].flag : NULL;
}

void conf_defaults(struct pmtud_conf *c)
{
	struct conf_error err;
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < conf_n_keys; i++) {
		const struct conf_key *k = &conf_keys[i];
		const char *d = k->dflt ? k->dflt : k->flag.def;
		struct ctx x = { NULL, k, 0, &err };
		int rc;

		if (k->derived || !d)
			continue;
		rc = k->ops->from_str(&x, c, d, false);
		assert(rc == 0);	/* the table's own defaults parse */
		(void)rc;
	}
}

/* Not fmax(): the agent is not linked with libm. */
static double at_least_one(double rate)
{
	return rate > 1.0 ? rate : 1.0;
}

void conf_resolve(struct pmtud_conf *c)
{
	if (c->src_burst == 0)
		c->src_burst = at_least_one(c->src_rate);
	if (c->iface_burst == 0)
		c->iface_burst = at_least_one(c->iface_rate);
	/* Enough for every peer to get a copy of 10 PTBs per second. With
	 * names in "peers" the set (and so the rate) follows DNS. */
	c->peer_rate_auto = c->peer_rate == 0 && c->n_peer_names;
	if (c->peer_rate == 0)
		c->peer_rate = 10.0 * (c->n_peers ? c->n_peers : 1);
}
