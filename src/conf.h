/* conf.h - the effective configuration of pmtud-nf.
 *
 * Contract:
 *  - One schema (the key table in conf_schema.c) defines every key of
 *    /etc/pmtud.json: its JSON type, range, default, and the matching
 *    command-line flag. Loading, validation, --check-config output and
 *    the documentation all follow that table.
 *  - conf_defaults() then conf_load_file() then the command-line
 *    overrides (cli.c) produce one struct pmtud_conf, validated.
 *  - Every error is one line in err->msg naming the file (or
 *    "command line"), the key, line:column when known, and the reason;
 *    the caller prints it and exits with EXIT_CONFIG.
 *  - No I/O besides reading the file; what depends on the host
 *    (interfaces, CPUs, addresses) is checked by conf_check_host(),
 *    called by --check-config, at start-up and on reload.
 */
#ifndef PMTUD_CONF_H
#define PMTUD_CONF_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "pmtud.h"

#define PMTUD_DEFAULT_CONFIG	"/etc/pmtud.json"
#define PMTUD_MAX_IFACES	64
#define PMTUD_MAX_PEERS		64	/* addresses in "peers"; as many names */
#define PMTUD_HOSTNAME_MAXLEN	254	/* incl. NUL: a DNS name of 253 */
#define PMTUD_MAX_VIPS		256
#define PMTUD_DEDUP_MAX		3600	/* dedup_window ceiling, seconds */
#define PMTUD_TABLE_MAXLEN	64	/* incl. NUL; kernel NFT_NAME_MAXLEN is 256 */
#define PMTUD_PATH_MAXLEN	256	/* incl. NUL: metrics_file */
#define PMTUD_USER_MAXLEN	33	/* incl. NUL: user (useradd's limit is 32) */
/* iface_rate and iface_burst bounds: the pre-limit rule takes 4 x each
 * rounded up as whole packets (rate > 0 and burst < 2^32 for the kernel). */
#define PMTUD_IFACE_RATE_MIN	0.001
#define PMTUD_IFACE_RATE_MAX	1e6
#define PMTUD_IFACE_BURST_MAX	1e6

enum src_key {
	SRC_KEY_FLOW = 0,	/* (outer source, quoted destination): default */
	SRC_KEY_SOURCE,		/* outer source only: the original pmtud */
};

enum input_kind {
	INPUT_NFLOG = 0,
	INPUT_NFQUEUE,
};

struct pmtud_conf {
	char ifaces[PMTUD_MAX_IFACES][IFNAMSIZ];
	unsigned n_ifaces;
	uint16_t nflog_group;		/* default 33 */
	double src_rate;		/* pkt/s per source key, default 1.0 */
	double src_burst;		/* bucket depth, default max(1, src_rate): conf_resolve() */
	double iface_rate;		/* pkt/s sent per interface, default 10.0 */
	double iface_burst;		/* default max(1, iface_rate): conf_resolve() */
	enum src_key src_key;
	uint32_t src_table_size;	/* rate-limit table entries (power of 2) */
	bool ports_any;			/* true when "ports" absent or empty */
	uint16_t ports[1024];		/* sorted, unique */
	unsigned n_ports;
	struct pmtud_addr peers[PMTUD_MAX_PEERS];	/* the addresses in "peers" */
	unsigned n_peers;
	char peer_names[PMTUD_MAX_PEERS][PMTUD_HOSTNAME_MAXLEN];	/* its host names */
	unsigned n_peer_names;
	uint32_t peers_refresh_min;	/* seconds: re-resolve no sooner (TTL 0), default 5 */
	uint32_t peers_refresh_max;	/* seconds: and no later (long TTLs), default 300 */
	/* relaying to peers (forward_peer.c) */
	bool broadcast;			/* default true: Ethernet broadcast copies */
	uint32_t peer_ttl;		/* TTL / hop limit of peer copies, default 64 */
	double peer_rate;		/* peer copies/s in total, default 10 per peer: conf_resolve() */
	bool peer_rate_auto;		/* peer_rate was not set: 10 per peer of the current set */
	struct pmtud_addr peer_source[2];	/* [0] IPv4, [1] IPv6; family 0: routed source */
	uint32_t min_mtu;		/* IPv4 minimum accepted, default 552 (Linux min_pmtu) */
	uint32_t max_mtu;		/* maximum accepted, both families, default 65535 */
	/* abuse controls */
	struct pmtud_prefix vips[PMTUD_MAX_VIPS];	/* quoted source must be in one */
	unsigned n_vips;		/* 0: any address */
	double dedup_window;		/* seconds; 0 = off, default 1.0 */
	/* flow-owner lookups (owner.c) */
	bool relay_owned;		/* relay PTBs for flows owned here, default false */
	double owner_rate;		/* lookups/s (burst the same), default 100 */
	bool dry_run;
	int verbose;			/* 0..3 */
	int cpu;			/* -1: no pinning */
	/* kernel path */
	char table[PMTUD_TABLE_MAXLEN];	/* nft table name (family inet), default "pmtud" */
	bool install_rules;		/* default true; false = operator's own rules */
	bool rules_skip_broadcast;	/* nfqueue + own rules: they skip broadcasts */
	bool use_src_mac;		/* copies carry the original source MAC */
	uint32_t rcvbuf;		/* netlink SO_RCVBUFFORCE bytes, default 4 MiB */
	bool prelimit;			/* in-kernel pre-limit rules, default true */
	uint32_t prelimit_rate;		/* PTBs/s per family passed to the agent, default 10000 */
	enum input_kind input;		/* default nflog */
	uint16_t queue_num;		/* NFQUEUE number, default 33 */
	/* operation (metrics.c) */
	char metrics_file[PMTUD_PATH_MAXLEN];	/* Prometheus text file; "" = off */
	uint32_t stats_interval;	/* seconds between metrics writes, default 15 */
	uint32_t metrics_peer_limit;	/* per-peer series up to this many peers, default 64 */
	/* least privilege (privs.c) */
	char user[PMTUD_USER_MAXLEN];	/* switch to this user after setup; "" = stay */
};

struct conf_error {
	char msg[512];
};

void conf_defaults(struct pmtud_conf *c);

/* Load and validate a JSON file on top of the current values.
 * Returns 0, or -1 with err filled. A missing default file is not an
 * error when must_exist is false. */
int conf_load_file(struct pmtud_conf *c, const char *path, bool must_exist,
		   struct conf_error *err);

/* The same from len bytes of JSON text in memory (not NUL-terminated);
 * name stands for the file in messages. Used by the fuzzer. */
int conf_load_string(struct pmtud_conf *c, const char *name, const char *text,
		     size_t len, struct conf_error *err);

/* Cross-key checks after file + command line (iface present, burst
 * sane, ...). Returns 0 or -1 with err filled ("source" names where
 * the values came from, for the message). */
int conf_validate(const struct pmtud_conf *c, const char *source,
		  struct conf_error *err);

/* What only the running host can tell, as start-up needs it: each
 * interface exists and is Ethernet, the CPU is one this process may
 * run on, no peer is one of the host's addresses and peer_source is.
 * 0 or -1 with err filled. */
int conf_check_host(const struct pmtud_conf *c, const char *source,
		    struct conf_error *err);

/* Why a can be no peer (loopback, multicast, ...), or NULL; the same
 * test for configured addresses and resolved names (peers_dns.c). */
const char *conf_peer_unusable(const struct pmtud_addr *a);

struct ifaddrs;
/* The interface of list (getifaddrs) holding a, or NULL when a is not
 * the host's. */
const char *conf_own_iface(const struct ifaddrs *list, const struct pmtud_addr *a);

/* Print the effective configuration as JSON that conf_load_file()
 * accepts and that reproduces the same struct (round-trip). */
int conf_dump_json(const struct pmtud_conf *c, FILE *out);

/* Helpers shared with cli.c so flags and keys share one parser.
 * Each replaces the list; "" empties it (ports: any, peers: none). */
int conf_set_ifaces_csv(struct pmtud_conf *c, const char *csv, struct conf_error *err);
int conf_set_ports_csv(struct pmtud_conf *c, const char *csv, struct conf_error *err);
int conf_set_peers_csv(struct pmtud_conf *c, const char *csv, struct conf_error *err);

/* The command-line face of the key table: cli.c derives its options
 * and --help from it, so each key has one flag and one parser. */
struct conf_flag {
	const char *name;	/* long option, without "--" */
	int short_opt;		/* e.g. 'i', or 0 */
	const char *arg;	/* argument name for --help; NULL: takes none */
	const char *key;	/* the key it overrides; NULL: command line only */
	const char *doc;	/* one-line meaning */
	const char *def;	/* default as --help shows it; NULL: required */
};

/* The i-th flag of the key table, or NULL past the last one. */
const struct conf_flag *conf_flag_at(unsigned i);

/* Apply one flag from conf_flag_at(); arg is NULL when it takes none.
 * List keys: append false replaces the list (first use on the command
 * line), true adds to it (repeated use). */
int conf_set_flag(struct pmtud_conf *c, const struct conf_flag *f,
		  const char *arg, bool append, struct conf_error *err);

/* Fill the values that default to others: src_burst and iface_burst
 * left unset (0 after conf_defaults) become max(1, rate); peer_rate
 * becomes 10 per peer address (10 when there is none) and, with host
 * names in peers, peer_rate_auto tells the relay to follow the
 * resolved set (10 per peer). Call once,
 * after the file and the flags, before conf_validate(). */
void conf_resolve(struct pmtud_conf *c);

#endif
