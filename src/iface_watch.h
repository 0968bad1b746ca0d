/* iface_watch.h - follow the configured interfaces through link
 * changes (rtnetlink), so the agent survives an interface going down,
 * being deleted and re-created (new ifindex) or changing its MAC.
 *
 * Contract:
 *  - iface_watch_open(): a non-blocking NETLINK_ROUTE socket joined to
 *    RTMGRP_LINK; its fd goes into the agent's epoll set. No privilege
 *    is needed.
 *  - iface_watch_receive(): drains the socket and applies every
 *    RTM_NEWLINK / RTM_DELLINK that concerns a configured name to the
 *    set, in place (positions never move): a new ifindex and MAC when
 *    the name comes back, ifindex 0 (absent) when it is deleted or
 *    renamed away. One log line per change of presence, ifindex, MAC
 *    or up/down state; other link messages are silent.
 *  - The host's own addresses (own_addr.h) the same way: iface_watch_open()
 *    joins RTMGRP_IPV4_IFADDR / RTMGRP_IPV6_IFADDR, then reads them all
 *    (a dump on a socket of its own, so no change falls in between);
 *    every RTM_NEWADDR / RTM_DELADDR then updates them, debug-logged.
 *    The caller rebuilds its deny list after each receive.
 *  - Lost notifications (ENOBUFS) are counted and answered by re-reading
 *    every entry by name (iface_refresh) and every address (a new dump),
 *    so neither stays stale.
 *  - Returns 0, or -1 with errno on a socket error the caller treats as
 *    fatal.
 */
#ifndef PMTUD_IFACE_WATCH_H
#define PMTUD_IFACE_WATCH_H

#include <stdint.h>
#include "iface.h"
#include "own_addr.h"

struct mnl_socket;

struct iface_watch {
	struct mnl_socket *nl;
	int fd;
	uint64_t lost;		/* ENOBUFS events (each followed by a resync) */
	struct own_addrs *own;	/* the caller's, kept current */
};

int iface_watch_open(struct iface_watch *w, struct own_addrs *own,
		     char *err, size_t errlen);
int iface_watch_receive(struct iface_watch *w, struct iface_set *set);
/* Idempotent, also on a zeroed struct. */
void iface_watch_close(struct iface_watch *w);

#endif
