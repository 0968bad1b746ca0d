/* iface.c - the configured interfaces: index, MAC, receiver settings. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if_arp.h>
#include "iface.h"
#include "log.h"

static int resolve_one(int fd, struct iface *ifc, const char *name,
		       char *err, size_t errlen)
{
	struct ifreq ifr;
	unsigned idx;

	if (strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "interface %.*s...: name too long", IFNAMSIZ, name);
		return -1;
	}
	idx = if_nametoindex(name);
	if (idx == 0) {
		snprintf(err, errlen, "interface %s: %s", name, strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		snprintf(err, errlen, "interface %s: SIOCGIFHWADDR: %s", name, strerror(errno));
		return -1;
	}
	/* The copies are Ethernet broadcasts: other link types (loopback,
	 * tunnels, IPoIB) have no such frame or no peers to reach. */
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		snprintf(err, errlen, "interface %s is not Ethernet (ARPHRD type %u)",
			 name, (unsigned)ifr.ifr_hwaddr.sa_family);
		return -1;
	}
	memcpy(ifc->mac, ifr.ifr_hwaddr.sa_data, sizeof(ifc->mac));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		snprintf(err, errlen, "interface %s: SIOCGIFFLAGS: %s", name, strerror(errno));
		return -1;
	}
	ifc->up = (ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
		snprintf(err, errlen, "interface %s: SIOCGIFMTU: %s", name, strerror(errno));
		return -1;
	}
	ifc->mtu = ifr.ifr_mtu > 0 ? (uint32_t)ifr.ifr_mtu : 0;
	memmove(ifc->name, name, strlen(name) + 1);	/* name may be ifc->name */
	ifc->ifindex = (int)idx;
	return 0;
}

int iface_resolve(struct iface_set *set, const struct pmtud_conf *c,
		  char *err, size_t errlen)
{
	unsigned i;
	int fd;

	memset(set, 0, sizeof(*set));
	if (c->n_ifaces > PMTUD_MAX_IFACES) {
		snprintf(err, errlen, "too many interfaces (%u, at most %d)",
			 c->n_ifaces, PMTUD_MAX_IFACES);
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "interface lookup socket: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < c->n_ifaces; i++) {
		if (resolve_one(fd, &set->ifs[i], c->ifaces[i], err, errlen) < 0) {
			close(fd);
			set->n = 0;
			return -1;
		}
		set->n = i + 1;
	}
	close(fd);
	return 0;
}

struct iface *iface_find(struct iface_set *set, int ifindex)
{
	unsigned i;

	if (ifindex <= 0)	/* never match an absent entry */
		return NULL;
	for (i = 0; i < set->n; i++)
		if (set->ifs[i].ifindex == ifindex)
			return &set->ifs[i];
	return NULL;
}

int iface_refresh(struct iface *ifc, char *err, size_t errlen)
{
	int fd, rc;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "interface lookup socket: %s", strerror(errno));
		rc = -1;
	} else {
		rc = resolve_one(fd, ifc, ifc->name, err, errlen);
		close(fd);
	}
	if (rc < 0) {
		ifc->ifindex = 0;
		ifc->up = false;
	}
	return rc;
}

/* 1 if the sysctl file holds a nonzero value, 0 if zero or absent
 * (IPv6 disabled, old kernel), -1 with errno on other read errors. */
static int sysctl_on(const char *path)
{
	char buf[16];
	FILE *f;
	int v;

	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	v = fgets(buf, sizeof(buf), f) ? (buf[0] != '0') : 0;
	fclose(f);
	return v;
}

/* Returns true when a warning was logged. */
static bool warn_one(const char *family, const char *ifname)
{
	char path[128];
	int on;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/drop_unicast_in_l2_multicast",
		 family, ifname);
	on = sysctl_on(path);
	if (on < 0) {
		log_msg(LOG_DEBUG, "%s: %s", path, strerror(errno));
		return false;
	}
	if (on == 0)
		return false;
	log_msg(LOG_WARNING,
		"net.%s.conf.%s.drop_unicast_in_l2_multicast = 1: this host drops the broadcast PTB copies its peers send",
		family, ifname);
	return true;
}

void iface_warn_settings(const struct iface_set *set)
{
	bool warned = false;
	unsigned i;

	/* IPv4 ORs "all" with the device value; IPv6 reads only the device. */
	warned |= warn_one("ipv4", "all");
	for (i = 0; i < set->n; i++) {
		warned |= warn_one("ipv4", set->ifs[i].name);
		warned |= warn_one("ipv6", set->ifs[i].name);
	}
	if (warned)
		log_msg(LOG_WARNING,
			"the settings above are this host's only; every peer receiving the copies needs drop_unicast_in_l2_multicast = 0 too");
}
