/* conf_check.c - checks across keys once the file and the flags are
 * applied, and those that ask the running host (interfaces).
 */
#include "config.h"
#include <errno.h>
#include <string.h>
#include "conf_priv.h"

int conf_validate(const struct pmtud_conf *c, const char *source,
		  struct conf_error *err)
{
	if (c->n_ifaces == 0)
		return conf_fail(err, "%s: no interface configured (set key \"iface\" "
			    "or use --iface)", source);
	if (c->min_mtu > c->max_mtu)
		return conf_fail(err, "%s: key \"min_mtu\": %u is greater than max_mtu %u",
				 source, c->min_mtu, c->max_mtu);
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
	return 0;
}

int conf_check_ifaces(const struct pmtud_conf *c, const char *source,
		      struct conf_error *err)
{
	unsigned i;

	for (i = 0; i < c->n_ifaces; i++) {
		if (if_nametoindex(c->ifaces[i]) != 0)
			continue;
		if (errno == ENODEV || errno == ENXIO)
			return conf_fail(err, "%s: key \"iface\": no such interface \"%s\"",
					 source, c->ifaces[i]);
		return conf_fail(err, "%s: key \"iface\": cannot look up \"%s\": %s",
				 source, c->ifaces[i], strerror(errno));
	}
	return 0;
}
