/* forward_peer.h - relay accepted PTBs to peers on other subnets.
 *
 * Contract:
 *  - One raw socket per family that has peers: IPPROTO_ICMP for IPv4,
 *    IPPROTO_ICMPV6 for IPv6. The kernel builds the IP header (TTL or
 *    hop limit peer_ttl, source peer_source when set, else the routed
 *    one) and, for ICMPv6, recomputes the checksum over the new
 *    pseudo-header; the ICMPv4 checksum covers the message only and
 *    stays valid. The ICMP message (type, code, MTU, quote) is sent
 *    exactly as received.
 *  - The sockets never queue what they would receive (every ICMP
 *    arriving at the host): a type filter and a "drop all" BPF program.
 *    IP_RECVERR is off: only errors known at send time are seen (no
 *    router answers an ICMP error with one anyway). Copies are never
 *    fragmented (IP_PMTUDISC_DO, IPV6_DONTFRAG): one longer than the
 *    route's MTU fails with EMSGSIZE, counted like any send error.
 *  - Non-blocking. A send error is counted for that peer and logged at
 *    most once per peer per 10 s (with the number suppressed); never
 *    fatal.
 *  - One token bucket (peer_rate copies/s in total, depth
 *    max(peer_rate, number of peers)) bounds the copies; a PTB that
 *    finds fewer tokens than peers of its family reaches only some of
 *    them, starting with the peer after the last one served.
 *  - The copies of one PTB go out in sendmmsg() batches: one system
 *    call per UIO_MAXIOV peers, not one per peer. The messages (peer
 *    addresses, one shared iovec) are built when the set changes.
 *  - The set of peers changes in place (peer_fwd_set()): sockets and
 *    budget stay, counters follow the addresses that remain. Room for
 *    it is allocated at open, so a change cannot fail.
 */
#ifndef PMTUD_FORWARD_PEER_H
#define PMTUD_FORWARD_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "conf.h"
#include "pmtud.h"
#include "ratelimit.h"

struct peer_state {
	struct pmtud_addr addr;
	uint64_t sent;
	uint64_t errors;
	int last_errno;			/* of the latest failed send, 0: none */
	uint64_t log_after_ns;		/* next error may be logged from then */
	uint64_t log_suppressed;	/* errors not logged since the last line */
};

struct mmsghdr;
struct sockaddr_in6;

/* The peers of one address family, in canonical order (peerset.h). */
struct peer_family {
	int fd;				/* -1: this family is never relayed */
	struct peer_state *peers;	/* cap entries */
	struct sockaddr_in6 *sa;	/* destination of each (a sockaddr_in for IPv4) */
	struct mmsghdr *msgs;		/* one per peer, all on iov */
	unsigned n, cap;
	unsigned next;			/* first peer tried for the next PTB */
};

struct peer_forwarder {
	struct peer_family fam[2];	/* [0] IPv4, [1] IPv6 */
	unsigned n;			/* both families */
	uint32_t ttl;
	double rate;			/* peer_rate; 0: 10 per peer (peer_rate_auto) */
	struct iovec iov;		/* the message being sent */
	struct token_bucket budget;
	uint64_t limited;		/* copies not sent: budget empty */
};

/* Open the sockets for the peers of c (its addresses; with host names,
 * both families), with room for all of them, or PEERSET_MAX per family
 * with names. The set is c's addresses until peer_fwd_set(). Returns
 * 0, EXIT_CONFIG (one line in err) when a peer_source is not a local
 * address, or EXIT_OUTPUT when a socket cannot be set up or memory is
 * short. With no peers nothing is opened and peer_fwd_send() sends
 * nothing. */
int peer_fwd_open(struct peer_forwarder *pf, const struct pmtud_conf *c,
		  uint64_t now_ns, char *err, size_t errlen);

/* Replace the set of peers by v (n addresses, canonical: peerset.h).
 * Addresses of a family without a socket, or past its room, are left
 * out (and counted in the return value). Counters of the addresses
 * that stay are kept. The budget's depth and, with peer_rate_auto,
 * its rate follow the new size. Never fails. */
unsigned peer_fwd_set(struct peer_forwarder *pf, const struct pmtud_addr *v,
		      size_t n);

/* Move the counters of the peers both know from "from" to pf, and the
 * budget's tally (reload: a new relay replaces the old one). */
void peer_fwd_take_counters(struct peer_forwarder *pf,
			    const struct peer_forwarder *from);

/* Send pkt (a PTB as captured: IPv4 or IPv6 header first, already
 * accepted by the classifier) to every peer of its family, within the
 * budget. Returns the number of copies sent. */
unsigned peer_fwd_send(struct peer_forwarder *pf, const uint8_t *pkt,
		       size_t len, uint64_t now_ns);

/* Peers of family (AF_INET, AF_INET6) in the set. */
unsigned peer_fwd_count(const struct peer_forwarder *pf, int family);

/* Peer i (0..n-1: IPv4 first, then IPv6) and its counters, or NULL
 * past the last one. */
const struct peer_state *peer_fwd_peer(const struct peer_forwarder *pf,
				       unsigned i);

/* Totals over all peers: copies sent, send errors. */
void peer_fwd_totals(const struct peer_forwarder *pf, uint64_t *sent,
		     uint64_t *errors);

/* One line with the totals and the copies the budget held back, then
 * one per peer (the first 64 with more): address, sent, errors, last
 * error. Nothing without peers. */
void peer_fwd_log_stats(const struct peer_forwarder *pf);

/* Close the sockets and free the set. Idempotent, also on a zeroed
 * struct with fds -1. */
void peer_fwd_close(struct peer_forwarder *pf);

#endif
