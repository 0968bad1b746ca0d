/* iface.h - the configured interfaces: index, MAC, and the receiver
 * settings that would make peers ignore our copies.
 *
 * Contract: iface_resolve() fills one entry per configured name
 * (if_nametoindex + SIOCGIFHWADDR); iface_find() maps an input ifindex
 * to its entry (NULL when not configured). iface_warn_settings() logs
 * a warning for each sysctl that makes receivers drop broadcast
 * copies (drop_unicast_in_l2_multicast, v4 and v6).
 */
#ifndef PMTUD_IFACE_H
#define PMTUD_IFACE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conf.h"

struct iface {
	char name[IFNAMSIZ];
	int ifindex;		/* 0: absent (deleted, renamed, not Ethernet) */
	uint8_t mac[6];
	bool up;		/* IFF_UP and IFF_RUNNING */
	uint32_t mtu;		/* a copy longer than this is never sent */
};

struct iface_set {
	struct iface ifs[PMTUD_MAX_IFACES];
	unsigned n;
};

int iface_resolve(struct iface_set *set, const struct pmtud_conf *c,
		  char *err, size_t errlen);
struct iface *iface_find(struct iface_set *set, int ifindex);
/* Re-read ifc (by its name) from the kernel: 0, or -1 with err filled
 * (then ifc is marked absent). */
int iface_refresh(struct iface *ifc, char *err, size_t errlen);
void iface_warn_settings(const struct iface_set *set);

#endif
