/* conf_priv.h - shared by the conf_*.c files only, never by callers
 * of conf.h.
 *
 * Contract:
 *  - conf_keys[] (conf_schema.c) is the one schema; each row names the
 *    key_ops of its kind of value (conf_value.c: scalars, conf_list.c:
 *    lists). Loading, flags, defaults and the dump walk that table.
 *  - Every parser reports through conf_key_fail()/conf_bad_value()/
 *    conf_bad_type(), so a message always names the file or flag, the
 *    key and the offending value; all return -1.
 */
#ifndef PMTUD_CONF_PRIV_H
#define PMTUD_CONF_PRIV_H

#include <stddef.h>
#include <jansson.h>
#include "conf.h"

#define GOTLEN		96	/* room for an offending value in a message */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Enums are stored through the 4-byte integer accessors. */
_Static_assert(sizeof(enum src_key) == 4 && sizeof(enum input_kind) == 4,
	       "enum fields must be 4 bytes");

struct conf_key;

/* Where a value comes from, so every parser reports it the same way. */
struct ctx {
	const char *file;		/* NULL: the command line */
	const struct conf_key *k;
	unsigned item;			/* 1-based index in a JSON array, 0: none */
	struct conf_error *err;
};

/* One parser per kind of key, shared by the file and the flags. */
struct key_ops {
	int (*from_json)(const struct ctx *x, struct pmtud_conf *c, json_t *v);
	/* s is NULL for a flag that takes no argument. */
	int (*from_str)(const struct ctx *x, struct pmtud_conf *c, const char *s,
			bool append);
	json_t *(*to_json)(const struct conf_key *k, const struct pmtud_conf *c);
	/* A valid value (for lists: element), for error messages. */
	void (*expect)(const struct conf_key *k, char *buf, size_t len);
	/* Lists only. */
	const char *list_expect;	/* what the whole value must be */
	bool scalar_ok;			/* a lone string is a list of one */
	void (*clear)(struct pmtud_conf *c);
	int (*add_json)(const struct ctx *x, struct pmtud_conf *c, json_t *v);
	int (*add_str)(const struct ctx *x, struct pmtud_conf *c, const char *s);
};

struct conf_key {
	struct conf_flag flag;		/* flag.key is the name in the file */
	const struct key_ops *ops;
	size_t off, size;		/* the field in struct pmtud_conf */
	long long min, max;		/* integers and list elements */
	double dmin;			/* numbers: > dmin if open, else >= */
	double dmax;			/* numbers: <= dmax; 0: no maximum */
	bool open;
	bool pow2;
	bool flag_val;			/* what a boolean flag sets */
	const char *const *names;	/* enums: name by value, NULL-ended */
	const char *dflt;		/* default fed to from_str, if not flag.def */
	bool derived;			/* default computed by conf_resolve() */
};

#define FIELD(m)	.off = offsetof(struct pmtud_conf, m), \
			.size = sizeof(((struct pmtud_conf *)NULL)->m)


/* The key table, in file, --help and --check-config order. */
extern const struct conf_key conf_keys[];
extern const size_t conf_n_keys;
const struct conf_key *conf_key_by_name(const char *name);

/* The kinds of value. */
extern const struct key_ops conf_int_ops, conf_num_ops, conf_bool_ops,
	conf_enum_ops, conf_name_ops, conf_path_ops, conf_user_ops;
extern const struct key_ops conf_iface_ops, conf_ports_ops, conf_peers_ops,
	conf_psrc_ops, conf_vips_ops;

/* ---- errors (conf_value.c): fill err->msg, return -1 ---------------- */

int conf_fail(struct conf_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int conf_key_fail(const struct ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "expected <what the key takes>, got <got>" */
int conf_bad_value(const struct ctx *x, const char *got);
int conf_bad_type(const struct ctx *x, const json_t *v);

/* ---- helpers (conf_value.c) -------------------------------------------- */

const char *conf_type_name(const json_t *v);
/* A JSON value as written (near enough), for "got ...". */
const char *conf_render(const json_t *v, char *buf, size_t len);
/* A command-line argument, quoted and escaped, for "got ...". */
const char *conf_quote(const char *s, char *buf, size_t len);
/* Strict: no spaces, no '+'; 0 or -1. */
int conf_parse_int(const char *s, long long *out);
/* A JSON string usable as a C string, or NULL. */
const char *conf_cstr(const json_t *v);
void conf_int_expect(const struct conf_key *k, char *buf, size_t len);

/* ---- lists (conf_list.c) ---------------------------------------------- */

int conf_list_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v);
/* "addr/len" into buf (PMTUD_PREFIXSTRLEN bytes); returns buf. */
const char *conf_prefix_str(const struct pmtud_prefix *p, char *buf);
/* "" is the empty list; append false replaces it first. */
int conf_list_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
		       bool append);

#endif
