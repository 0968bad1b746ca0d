/* metrics.h - the agent's counters, written two ways from one list:
 * a Prometheus text file (metrics_file, every stats_interval) and the
 * "counters: ..." log line (SIGUSR1, and at exit).
 *
 * Contract:
 *  - One list in metrics.c names every counter: its Prometheus family
 *    (pmtud_<name>_total, with HELP and TYPE counter), its label if
 *    any, and its key in the log line. Both outputs walk that list, in
 *    the same order, so a name cannot differ between them.
 *  - Gauges (pmtud_peers) are the exception: TYPE gauge, no _total.
 *  - Every drop reason of classify.h is present, also when 0, as
 *    pmtud_dropped_total{reason="<classify_reason_name>"}.
 *  - metrics_write_file() replaces the file atomically: readers see
 *    the old or the new content, never a partial one.
 */
#ifndef PMTUD_METRICS_H
#define PMTUD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "counters.h"
#include "pmtud.h"

/* Per-peer counters, when the agent relays to peers (may be none). */
struct metrics_peer {
	char name[PMTUD_ADDRSTRLEN];	/* label value: the peer's address */
	uint64_t sent;
	uint64_t errors;
};

struct metrics_view {
	const struct counters *c;
	/* Per-peer series; with more peers than metrics_peer_limit, one
	 * named "all" for all of them. */
	const struct metrics_peer *peers;
	unsigned n_peers;
	/* Peers configured (addresses or names): the gauge pmtud_peers
	 * {family="ipv4|ipv6"} (the set's size now) and the counter
	 * pmtud_peer_resolve_total{result="ok|changed|failed|empty"}. */
	bool peers_on;
	unsigned peers_family[2];	/* [0] IPv4, [1] IPv6 */
};

/* Label values: "local" / "remote" / "unknown", "found" / "absent" /
 * "error" / "limited", "broadcast" / "peer"; "?" out of range. */
const char *metrics_owner_name(enum owner_kind k);
const char *metrics_lookup_name(enum owner_result r);
const char *metrics_via_name(enum copy_via v);

/* The exposition format (version 0.0.4) to out. 0, or -1 on a write
 * error (ferror). */
int metrics_write_prom(FILE *out, const struct metrics_view *v);

/* "received=N forwarded=N ... bad_mtu=N ..." (no trailing newline).
 * Returns the length needed, like snprintf; buf is always terminated. */
size_t metrics_format_line(char *buf, size_t len, const struct metrics_view *v);

/* The flow-owner families, one log line each (they would not fit in
 * one): line i (0..) is "pmtud_ptb_owner_total: {family=\"4\",owner=
 * \"local\"}=N ...", the series as in the Prometheus text. Returns the
 * length needed like metrics_format_line(), 0 past the last family. */
size_t metrics_format_owner_line(char *buf, size_t len,
				 const struct metrics_view *v, unsigned i);

/* Write path.XXXXXX in the same directory (mode 0644), fsync, rename
 * over path. 0, or -1 with a one-line reason in err (the temp file is
 * removed). */
int metrics_write_file(const char *path, const struct metrics_view *v,
		       char *err, size_t errlen);

#endif
