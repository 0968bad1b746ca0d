/* counters.h - what the agent counts, as one plain struct.
 *
 * Contract: plain data, monotonic over the agent's life (reloads
 * included: an input rebound on reload carries its losses over).
 * metrics.c is the only place that names these fields for humans and
 * Prometheus, so the log line and the metrics file cannot drift.
 */
#ifndef PMTUD_COUNTERS_H
#define PMTUD_COUNTERS_H

#include <stdint.h>
#include "classify.h"
#include "owner.h"

/* Index of an address family in the per-family counters. */
#define CNT_FAM(af)	((af) == AF_INET6)
#define CNT_FAMILIES	2		/* [0] IPv4, [1] IPv6 */

/* How a copy from another agent reached this host. */
enum copy_via {
	VIA_BROADCAST = 0,	/* "broadcast": an Ethernet broadcast on the segment */
	VIA_PEER,		/* "peer": unicast from a configured peer */
	VIA_MAX
};
#include "peerset.h"

struct counters {
	uint64_t received;		/* packets handed over by the input */
	uint64_t forwarded;		/* copies sent (or decided, in dry run) */
	uint64_t dropped[REASON_MAX];	/* by classifier reason; [0] unused */
	uint64_t unknown_iface;		/* arrived on an interface not configured */
	uint64_t deduplicated;		/* identical to one relayed within dedup_window */
	uint64_t limited_source;
	uint64_t limited_iface;
	uint64_t shed;			/* not classified: the interface had no token */
	uint64_t send_errors;
	uint64_t input_enobufs;		/* NFLOG recv() ENOBUFS events */
	uint64_t input_seq_gaps;	/* packets lost per NFLOG sequence numbers */
	uint64_t input_to_batch;	/* NFLOG: switches to kernel batching */
	uint64_t input_to_immediate;	/* NFLOG: switches back to threshold 1 */
	uint64_t reloads_ok;
	uint64_t reloads_failed;
	uint64_t log_suppressed;	/* per-packet log lines not written */
	/* flow owners (owner.c); label values are named in metrics.c */
	uint64_t ptb_owner[CNT_FAMILIES][OWNER_KIND_MAX];	/* PTBs from routers */
	uint64_t copies[CNT_FAMILIES][VIA_MAX][OWNER_KIND_MAX];	/* copies received */
	uint64_t rescued[CNT_FAMILIES];
	uint64_t owner_lookups[OWNER_RESULT_MAX];
	uint64_t peer_resolve[PEER_RESULT_MAX];	/* answers for peer names, by result */
};

#endif
