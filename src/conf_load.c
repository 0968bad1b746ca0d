/* conf_load.c - /etc/pmtud.json (or JSON text) and the command-line
 * flags onto a struct pmtud_conf, through the key table.
 */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include "conf_priv.h"

static int load_object(struct pmtud_conf *c, const char *path, json_t *root,
		       struct conf_error *err)
{
	const char *name;
	json_t *v;

	if (!json_is_object(root))
		return conf_fail(err, "%s: the top level must be an object, got %s",
				 path, conf_type_name(root));
	json_object_foreach(root, name, v) {
		struct ctx x = { path, conf_key_by_name(name), 0, err };
		char got[GOTLEN];

		if (!x.k)
			return conf_fail(err, "%s: unknown key %s", path,
					 conf_quote(name, got, sizeof(got)));
		if (x.k->ops->from_json(&x, c, v) < 0)
			return -1;
	}
	return 0;
}

/* Takes root (NULL: the parser failed, je says why) from either loader. */
static int load_parsed(struct pmtud_conf *c, const char *path, json_t *root,
		       const json_error_t *je, struct conf_error *err)
{
	int rc;

	if (!root && je->line < 1)
		return conf_fail(err, "%s: cannot read: %s", path, je->text);
	if (!root)
		return conf_fail(err, "%s:%d:%d: invalid JSON: %s", path, je->line,
				 je->column, je->text);
	rc = load_object(c, path, root, err);
	json_decref(root);
	return rc;
}

int conf_load_string(struct pmtud_conf *c, const char *name, const char *text,
		     size_t len, struct conf_error *err)
{
	json_error_t je;
	json_t *root;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	return load_parsed(c, name, root, &je, err);
}

int conf_load_file(struct pmtud_conf *c, const char *path, bool must_exist,
		   struct conf_error *err)
{
	json_error_t je;
	struct stat st;
	json_t *root;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return conf_fail(err, "%s: cannot open: %s", path, strerror(errno));
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return conf_fail(err, "%s: cannot read: %s", path, strerror(EISDIR));
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	return load_parsed(c, path, root, &je, err);
}

static int set_csv(struct pmtud_conf *c, const char *key, const char *csv,
		   struct conf_error *err)
{
	struct ctx x = { NULL, conf_key_by_name(key), 0, err };

	return conf_list_from_str(&x, c, csv, false);
}

int conf_set_ifaces_csv(struct pmtud_conf *c, const char *csv, struct conf_error *err)
{
	return set_csv(c, "iface", csv, err);
}

int conf_set_ports_csv(struct pmtud_conf *c, const char *csv, struct conf_error *err)
{
	return set_csv(c, "ports", csv, err);
}

int conf_set_peers_csv(struct pmtud_conf *c, const char *csv, struct conf_error *err)
{
	return set_csv(c, "peers", csv, err);
}

int conf_set_flag(struct pmtud_conf *c, const struct conf_flag *f,
		  const char *arg, bool append, struct conf_error *err)
{
	size_t i;

	for (i = 0; i < conf_n_keys; i++) {
		struct ctx x = { NULL, &conf_keys[i], 0, err };

		if (f == &conf_keys[i].flag)
			return conf_keys[i].ops->from_str(&x, c, arg, append);
	}
	return conf_fail(err, "command line: --%s: not a configuration flag", f->name);
}
