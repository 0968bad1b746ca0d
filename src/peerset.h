/* peerset.h - the set of peer addresses: merge, diff, and what one DNS
 * answer does to a name's addresses. Pure: no I/O, no clock, no
 * allocation (every array belongs to the caller).
 *
 * Contract:
 *  - A peer set is an array of struct pmtud_addr in canonical order
 *    (IPv4 before IPv6, then by address bytes), without duplicates:
 *    peerset_normalize() makes one from any array. Two sets are equal
 *    iff their arrays are equal element by element.
 *  - peerset_merge() is the union of several sets, capped at cap
 *    elements (the lowest in canonical order are kept).
 *  - peerset_diff() lists what went and what came between two sets,
 *    in canonical order.
 *  - peerset_answer() applies one resolution of a name to that name's
 *    last good set: a failed or empty answer keeps it; a different
 *    answer (shrinking included) replaces it.
 */
#ifndef PMTUD_PEERSET_H
#define PMTUD_PEERSET_H

#include <stdbool.h>
#include <stddef.h>
#include "pmtud.h"

/* Addresses a running agent relays to, all names and literals
 * together: an IPv6 set of that size still fits one nftables
 * transaction (about 120 KB of elements). */
#define PEERSET_MAX	4096

/* <0, 0, >0 in canonical order. */
int peerset_cmp(const struct pmtud_addr *x, const struct pmtud_addr *y);

/* Sort v (n elements) and remove duplicates; returns the new count. */
size_t peerset_normalize(struct pmtud_addr *v, size_t n);

/* Union of sets a (na) and b (nb), both canonical, into out (room for
 * cap); returns the count. *truncated (if not NULL) is set true when
 * elements did not fit, left alone otherwise. out may not overlap. */
size_t peerset_merge(struct pmtud_addr *out, size_t cap,
		     const struct pmtud_addr *a, size_t na,
		     const struct pmtud_addr *b, size_t nb, bool *truncated);

/* Elements of old not in new (gone, room for n_old) and of new not in
 * old (came, room for n_new); either array may be NULL to only count.
 * Returns true iff the sets differ. */
bool peerset_diff(const struct pmtud_addr *old, size_t n_old,
		  const struct pmtud_addr *new_, size_t n_new,
		  struct pmtud_addr *gone, size_t *n_gone,
		  struct pmtud_addr *came, size_t *n_came);

bool peerset_equal(const struct pmtud_addr *a, size_t na,
		   const struct pmtud_addr *b, size_t nb);

/* a is in the canonical set v (binary search). */
bool peerset_contains(const struct pmtud_addr *v, size_t n, const struct pmtud_addr *a);

/* Elements of family (AF_INET, AF_INET6) in v. */
size_t peerset_count(const struct pmtud_addr *v, size_t n, int family);

/* What one resolution of a name did (pmtud_peer_resolve_total{result}). */
enum peer_result {
	PEER_RESULT_OK = 0,	/* same addresses as the last good answer */
	PEER_RESULT_CHANGED,	/* different (first answer included): applied */
	PEER_RESULT_FAILED,	/* no answer (timeout, SERVFAIL, ...): kept */
	PEER_RESULT_EMPTY,	/* NXDOMAIN or no A/AAAA: kept */
	PEER_RESULT_MAX,
};

const char *peer_result_name(enum peer_result r);

/* One answer for a name whose last good set is cur (*n_cur elements,
 * room for cap). failed: the query got no answer. ans (n_ans, any
 * order, duplicates allowed; sorted in place) is the answer
 * otherwise; n_ans 0 is an empty answer. cur is replaced, capped at
 * cap, only for PEER_RESULT_CHANGED. */
enum peer_result peerset_answer(struct pmtud_addr *cur, size_t *n_cur, size_t cap,
				bool failed, struct pmtud_addr *ans, size_t n_ans);

#endif
