/* conf_check.c - checks across keys once the file and the flags are
 * applied, and those that ask the running host (interfaces, CPUs,
 * addresses): whatever start-up would refuse, --check-config refuses
 * first, with the same line.
 */
#include "config.h"
#include <errno.h>
#include <ifaddrs.h>
#include <net/if_arp.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "conf_priv.h"

#define IPV6_MIN_MTU	1280

/* A peer inside vips is an anycast address: copies sent there reach
 * whichever server the routers pick, maybe this one. A /0 only says
 * "any address of this family" and is no list of VIPs. */
static int check_peers_vips(const struct pmtud_conf *c, const char *source,
			    struct conf_error *err)
{
	char a[PMTUD_ADDRSTRLEN], p[PMTUD_PREFIXSTRLEN];
	unsigned i, j;

	for (i = 0; i < c->n_peers; i++)
		for (j = 0; j < c->n_vips; j++)
			if (c->vips[j].len && pmtud_prefix_has(&c->vips[j], &c->peers[i]))
				return conf_fail(err, "%s: key \"peers\": %s is inside vips "
						 "%s: a peer must be one server's own address",
						 source, pmtud_addr_str(&c->peers[i], a),
						 conf_prefix_str(&c->vips[j], p));
	return 0;
}

int conf_validate(const struct pmtud_conf *c, const char *source,
		  struct conf_error *err)
{
	if (c->n_ifaces == 0)
		return conf_fail(err, "%s: no interface configured (set key \"iface\" "
				 "or use --iface)", source);
	if (c->min_mtu > c->max_mtu)
		return conf_fail(err, "%s: key \"min_mtu\": %u is greater than max_mtu %u",
				 source, c->min_mtu, c->max_mtu);
	if (c->max_mtu < IPV6_MIN_MTU)
		return conf_fail(err, "%s: key \"max_mtu\": %u is below %d, the IPv6 "
				 "minimum MTU: every IPv6 PTB would be dropped (to relay "
				 "IPv4 only, list only IPv4 prefixes in \"vips\")",
				 source, c->max_mtu, IPV6_MIN_MTU);
	if (c->peers_refresh_min > c->peers_refresh_max)
		return conf_fail(err, "%s: key \"peers_refresh_min\": %u is greater than "
				 "peers_refresh_max %u", source, c->peers_refresh_min,
				 c->peers_refresh_max);
	if (!(c->dedup_window <= PMTUD_DEDUP_MAX))
		return conf_fail(err, "%s: key \"dedup_window\": expected a number "
				 "0..%d, got %g", source, PMTUD_DEDUP_MAX, c->dedup_window);
	/* Only if conf_resolve() was skipped: the setters enforce >= 1. */
	if (!(c->src_burst >= 1))
		return conf_fail(err, "%s: key \"src_burst\": expected a number >= 1, got %g",
				 source, c->src_burst);
	if (!(c->iface_burst >= 1))
		return conf_fail(err, "%s: key \"iface_burst\": expected a number >= 1, got %g",
				 source, c->iface_burst);
	/* Queued packets carry no Ethernet header: only the rule's "meta
	 * pkttype != broadcast" keeps our own copies from coming back. */
	if (c->input == INPUT_NFQUEUE && !c->install_rules && !c->rules_skip_broadcast)
		return conf_fail(err, "%s: key \"install_rules\": false with input "
				 "\"nfqueue\" needs \"rules_skip_broadcast\": true, once your "
				 "rules skip broadcast frames as nft/pmtud-nfqueue.nft does "
				 "(the agent cannot tell a relayed copy from a PTB)", source);
	return check_peers_vips(c, source, err);
}

/* Exists, and is Ethernet: copies are Ethernet broadcast frames. */
static int check_iface(int fd, const char *name, const char *source,
		       struct conf_error *err)
{
	struct ifreq ifr;

	if (if_nametoindex(name) == 0) {
		if (errno == ENODEV || errno == ENXIO)
			return conf_fail(err, "%s: key \"iface\": no such interface \"%s\"",
					 source, name);
		return conf_fail(err, "%s: key \"iface\": cannot look up \"%s\": %s",
				 source, name, strerror(errno));
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name) + 1);	/* < IFNAMSIZ: conf_list.c */
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return conf_fail(err, "%s: key \"iface\": \"%s\": SIOCGIFHWADDR: %s",
				 source, name, strerror(errno));
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return conf_fail(err, "%s: key \"iface\": \"%s\" is not Ethernet (ARPHRD "
				 "type %u): copies are sent as Ethernet frames", source,
				 name, (unsigned)ifr.ifr_hwaddr.sa_family);
	return 0;
}

static int check_ifaces(const struct pmtud_conf *c, const char *source,
			struct conf_error *err)
{
	unsigned i;
	int fd, rc = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return conf_fail(err, "%s: key \"iface\": lookup socket: %s", source,
				 strerror(errno));
	for (i = 0; rc == 0 && i < c->n_ifaces; i++)
		rc = check_iface(fd, c->ifaces[i], source, err);
	close(fd);
	return rc;
}

/* What sched_setaffinity() at start-up will take: a CPU present,
 * online and in this process's cpuset. */
static int check_cpu(const struct pmtud_conf *c, const char *source,
		     struct conf_error *err)
{
	cpu_set_t set;

	if (c->cpu < 0)
		return 0;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return conf_fail(err, "%s: key \"cpu\": sched_getaffinity: %s", source,
				 strerror(errno));
	if (!CPU_ISSET(c->cpu, &set))
		return conf_fail(err, "%s: key \"cpu\": CPU %d is not one this process "
				 "may run on (absent, offline or outside its cpuset)",
				 source, c->cpu);
	return 0;
}

/* The interface holding a, or NULL when a is not the host's. */
const char *conf_own_iface(const struct ifaddrs *list, const struct pmtud_addr *a)
{
	const struct ifaddrs *i;

	for (i = list; i; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;
		const void *raw;

		if (!sa || sa->sa_family != a->family)
			continue;
		raw = sa->sa_family == AF_INET
			? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
			: (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (!memcmp(raw, a->a, a->family == AF_INET ? 4 : 16))
			return i->ifa_name;
	}
	return NULL;
}

static int check_addrs(const struct pmtud_conf *c, const struct ifaddrs *list,
		       const char *source, struct conf_error *err)
{
	char a[PMTUD_ADDRSTRLEN];
	const char *ifn;
	unsigned i;

	for (i = 0; i < c->n_peers; i++) {
		ifn = conf_own_iface(list, &c->peers[i]);
		if (ifn)
			return conf_fail(err, "%s: key \"peers\": %s is an address of this "
					 "host (on %s): a peer must be another server", source,
					 pmtud_addr_str(&c->peers[i], a), ifn);
	}
	for (i = 0; i < 2; i++) {
		const struct pmtud_addr *s = &c->peer_source[i];
		static const uint8_t any[16];

		/* The unspecified address binds like none: routed. */
		if (!s->family || !memcmp(s->a, any, sizeof(any)) || conf_own_iface(list, s))
			continue;
		return conf_fail(err, "%s: key \"peer_source\": %s is not an address "
				 "of this host", source, pmtud_addr_str(s, a));
	}
	return 0;
}

int conf_check_host(const struct pmtud_conf *c, const char *source,
		    struct conf_error *err)
{
	struct ifaddrs *list;
	int rc;

	if (check_ifaces(c, source, err) < 0 || check_cpu(c, source, err) < 0)
		return -1;
	if (!c->n_peers && !c->peer_source[0].family && !c->peer_source[1].family)
		return 0;
	if (getifaddrs(&list) < 0)
		return conf_fail(err, "%s: cannot list this host's addresses: %s",
				 source, strerror(errno));
	rc = check_addrs(c, list, source, err);
	freeifaddrs(list);
	return rc;
}
