/* peers_dns.h - the host names in "peers", resolved in the event loop.
 *
 * Contract:
 *  - c-ares (ares_getaddrinfo, A and AAAA) with the system's resolver
 *    configuration, read when the resolver is made (start, reload).
 *    Nothing blocks: the agent polls one fd (an epoll instance holding
 *    c-ares' sockets and one timer) and calls peers_dns_process() when
 *    it is readable.
 *  - Each name is resolved at once, then again when its answer's TTL
 *    (the smallest of its records) runs out, no sooner than
 *    peers_refresh_min and no later than peers_refresh_max seconds;
 *    after a failed or empty answer, peers_refresh_min later.
 *  - Each name keeps its last good addresses (peerset_answer()): a
 *    failed or empty answer keeps them, a changed one (shrinking
 *    included) replaces them. Each answer is counted by result; a name
 *    changing state (answering, failing, empty) is logged once.
 *  - When a name's addresses changed, the callback runs (from within
 *    peers_dns_process()); peers_dns_addrs() then gives the union.
 */
#ifndef PMTUD_PEERS_DNS_H
#define PMTUD_PEERS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conf.h"
#include "peerset.h"

struct peers_dns;

typedef void (*peers_dns_changed_cb)(void *arg);

/* A resolver for c's peer names (none: returns NULL, err empty).
 * NULL with err filled on failure (c-ares or epoll set-up). */
struct peers_dns *peers_dns_new(const struct pmtud_conf *c, peers_dns_changed_cb cb,
				void *arg, char *err, size_t errlen);

/* Reload: the names of c (a fresh c-ares channel, so a changed
 * resolv.conf applies). Names kept keep their addresses and counts; all
 * are resolved again at once. 0, or -1 with err filled (unchanged). */
int peers_dns_reconfigure(struct peers_dns *d, const struct pmtud_conf *c,
			  char *err, size_t errlen);

/* The fd to poll for input. */
int peers_dns_fd(const struct peers_dns *d);

/* Handle what is ready: answers, timeouts, refreshes due. */
void peers_dns_process(struct peers_dns *d);

/* The union of every name's last good addresses, canonical, into out
 * (room for cap); *truncated set true when some did not fit. */
size_t peers_dns_addrs(const struct peers_dns *d, struct pmtud_addr *out,
		       size_t cap, bool *truncated);

/* Answers by result, since start (reloads included). */
void peers_dns_counts(const struct peers_dns *d, uint64_t out[PEER_RESULT_MAX]);

void peers_dns_free(struct peers_dns *d);

#endif
