/* privs.h - once set up, keep only what the running agent needs:
 * CAP_NET_ADMIN (nftables, NFLOG/NFQUEUE binds, SO_RCVBUFFORCE on
 * reload) and CAP_NET_RAW (AF_PACKET, raw sockets to peers).
 *
 * Contract: privs_drop(), called once after setup, before the loop:
 *  - drops every other capability from the bounding set
 *    (PR_CAPBSET_DROP); one not there is skipped, and without
 *    CAP_SETPCAP the bounding set is left as it is (noted), so a start
 *    with only the two capabilities (systemd's DynamicUser,
 *    CapabilityBoundingSet, AmbientCapabilities) needs no privilege;
 *  - with a user name, switches to it (its primary group, no
 *    supplementary groups), keeping the permitted set across setuid
 *    with PR_SET_KEEPCAPS;
 *  - sets permitted = effective = the two (those of them held),
 *    inheritable empty (capset(2)), and clears the ambient set. When
 *    nothing beyond the two is held, a refused capset (a seccomp filter)
 *    is tolerated and noted;
 *  - writes one line for the start-up log in summary.
 * Returns EXIT_OK, EXIT_CONFIG (unknown user), or EXIT_RUNTIME, with
 * err filled.
 */
#ifndef PMTUD_PRIVS_H
#define PMTUD_PRIVS_H

#include <stddef.h>

int privs_drop(const char *user, char *summary, size_t slen,
	       char *err, size_t errlen);

#endif
