/* conf_dump.c - the effective configuration as JSON (--check-config),
 * in table order, such that loading it gives back the same struct.
 */
#include "config.h"
#include <jansson.h>
#include <string.h>
#include "conf_priv.h"

static json_t *conf_to_json(const struct pmtud_conf *c)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o && i < conf_n_keys; i++) {
		json_t *v;

		/* An unset peer_rate with peer names follows the resolved
		 * set: no number says that, leaving it out does. */
		if (c->peer_rate_auto && !strcmp(conf_keys[i].flag.key, "peer_rate"))
			continue;
		v = conf_keys[i].ops->to_json(&conf_keys[i], c);

		/* _new takes v even on failure. */
		if (!v || json_object_set_new(o, conf_keys[i].flag.key, v) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int conf_dump_json(const struct pmtud_conf *c, FILE *out)
{
	json_t *o = conf_to_json(c);
	int rc;

	if (!o)
		return -1;
	rc = json_dumpf(o, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
			JSON_REAL_PRECISION(17));
	json_decref(o);
	if (rc < 0 || fputc('\n', out) == EOF || fflush(out) == EOF)
		return -1;
	return 0;
}
