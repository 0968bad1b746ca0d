/* conf.c - the key table of /etc/pmtud.json and all it drives:
 * defaults, the file loader, the flags, --help, validation and the
 * --check-config dump.
 *
 * Adding a key: add the field to struct pmtud_conf, then one row to
 * keys[] below (type ops, field, range, flag, doc, default). Nothing
 * else: the loader, cli.c, --help and the dump read the table.
 */
#include "config.h"
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	bool open;
	bool pow2;
	bool flag_val;			/* what a boolean flag sets */
	const char *const *names;	/* enums: name by value, NULL-ended */
	const char *dflt;		/* default fed to from_str, if not flag.def */
	bool derived;			/* default computed by conf_resolve() */
};

#define FIELD(m)	.off = offsetof(struct pmtud_conf, m), \
			.size = sizeof(((struct pmtud_conf *)NULL)->m)

/* ---- errors ---------------------------------------------------------- */

/* Control bytes from a file name or an argument would split the line. */
static void scrub(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int fail(struct conf_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct conf_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	scrub(err->msg);
	return -1;
}

static int key_fail(const struct ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int key_fail(const struct ctx *x, const char *fmt, ...)
{
	char body[384], item[32] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (!x->file)
		return fail(x->err, "command line: --%s: %s", x->k->flag.name, body);
	if (x->item)
		snprintf(item, sizeof(item), "item %u: ", x->item);
	return fail(x->err, "%s: key \"%s\": %s%s", x->file, x->k->flag.key, item, body);
}

static int bad_value(const struct ctx *x, const char *got)
{
	char exp[160];

	x->k->ops->expect(x->k, exp, sizeof(exp));
	return key_fail(x, "expected %s, got %s", exp, got);
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:	return "object";
	case JSON_ARRAY:	return "array";
	case JSON_STRING:	return "string";
	case JSON_INTEGER:	return "integer";
	case JSON_REAL:		return "real";
	case JSON_TRUE:
	case JSON_FALSE:	return "boolean";
	case JSON_NULL:		return "null";
	}
	return "?";
}

/* A JSON value as written (near enough), for "got ...". */
static const char *render(const json_t *v, char *buf, size_t len)
{
	size_t n = json_dumpb(v, buf, len - 1, JSON_ENCODE_ANY | JSON_COMPACT);

	if (n == 0 || n > len - 1)
		return type_name(v);
	buf[n] = '\0';
	return buf;
}

static int bad_type(const struct ctx *x, const json_t *v)
{
	const struct key_ops *o = x->k->ops;
	char exp[160], got[GOTLEN];

	if (o->list_expect && !x->item)
		snprintf(exp, sizeof(exp), "%s", o->list_expect);
	else
		o->expect(x->k, exp, sizeof(exp));
	if (json_is_array(v) || json_is_object(v) || json_is_null(v))
		return key_fail(x, "expected %s, got %s", exp, type_name(v));
	return key_fail(x, "expected %s, got %s %s", exp, type_name(v),
			render(v, got, sizeof(got)));
}

/* A command-line argument, quoted and escaped, for "got ...". */
static const char *quote(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	buf[o++] = '"';
	for (; *s && o + 10 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	if (*s) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* ---- strict number parsing for flags ----------------------------------- */

static int parse_int(const char *s, long long *out)
{
	const char *d = *s == '-' ? s + 1 : s;
	char *end;

	if (!isdigit((unsigned char)*d))
		return -1;	/* strtoll would accept spaces and '+' */
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int parse_num(const char *s, double *out)
{
	const char *d = *s == '-' ? s + 1 : s;
	char *end;

	if (!isdigit((unsigned char)*d) && *d != '.')
		return -1;	/* also rules out "nan" and "inf" */
	errno = 0;
	*out = strtod(s, &end);
	return errno != 0 || *end != '\0' || !isfinite(*out) ? -1 : 0;
}

/* ---- field access -------------------------------------------------------- */

static void *field(const struct conf_key *k, struct pmtud_conf *c)
{
	return (char *)c + k->off;
}

static const void *cfield(const struct conf_key *k, const struct pmtud_conf *c)
{
	return (const char *)c + k->off;
}

/* Integer fields are uint16_t, uint32_t, int or an enum; a negative
 * minimum means the field is signed. */
static long long int_get(const struct conf_key *k, const struct pmtud_conf *c)
{
	uint16_t u16;
	uint32_t u32;
	int32_t s32;

	if (k->size == sizeof(u16)) {
		memcpy(&u16, cfield(k, c), sizeof(u16));
		return u16;
	}
	if (k->min < 0) {
		memcpy(&s32, cfield(k, c), sizeof(s32));
		return s32;
	}
	memcpy(&u32, cfield(k, c), sizeof(u32));
	return u32;
}

static void int_put(const struct conf_key *k, struct pmtud_conf *c, long long v)
{
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;
	int32_t s32 = (int32_t)v;

	if (k->size == sizeof(u16))
		memcpy(field(k, c), &u16, sizeof(u16));
	else if (v < 0)
		memcpy(field(k, c), &s32, sizeof(s32));
	else
		memcpy(field(k, c), &u32, sizeof(u32));
}

/* A JSON string usable as a C string, or NULL (not a string, or an
 * embedded NUL that would silently cut it). */
static const char *cstr(const json_t *v)
{
	const char *s = json_string_value(v);

	return s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* ---- integers ------------------------------------------------------------ */

static void int_expect(const struct conf_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s %lld..%lld",
		 k->pow2 ? "a power of two" : "an integer", k->min, k->max);
}

static int int_store(const struct ctx *x, struct pmtud_conf *c, long long v,
		     const char *got)
{
	const struct conf_key *k = x->k;

	if (v < k->min || v > k->max || (k->pow2 && (v & (v - 1)) != 0))
		return bad_value(x, got);
	int_put(k, c, v);
	return 0;
}

static int int_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_integer(v))
		return bad_type(x, v);
	return int_store(x, c, json_integer_value(v), render(v, got, sizeof(got)));
}

/* Without an argument (-v) the flag counts up, stopping at the max. */
static int int_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			bool append)
{
	char got[GOTLEN];
	long long v;

	(void)append;
	if (!s) {
		v = int_get(x->k, c);
		int_put(x->k, c, v < x->k->max ? v + 1 : v);
		return 0;
	}
	quote(s, got, sizeof(got));
	if (parse_int(s, &v) < 0)
		return bad_value(x, got);
	return int_store(x, c, v, got);
}

static json_t *int_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	return json_integer(int_get(k, c));
}

static const struct key_ops int_ops = {
	.from_json = int_from_json,
	.from_str = int_from_str,
	.to_json = int_to_json,
	.expect = int_expect,
};

/* ---- numbers (integers accepted) ----------------------------------------- */

static void num_expect(const struct conf_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "a number %s %g", k->open ? ">" : ">=", k->dmin);
}

static int num_store(const struct ctx *x, struct pmtud_conf *c, double v,
		     const char *got)
{
	const struct conf_key *k = x->k;

	if (!isfinite(v) || (k->open ? v <= k->dmin : v < k->dmin))
		return bad_value(x, got);
	memcpy(field(k, c), &v, sizeof(v));
	return 0;
}

static int num_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_number(v))
		return bad_type(x, v);
	return num_store(x, c, json_number_value(v), render(v, got, sizeof(got)));
}

static int num_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			bool append)
{
	char got[GOTLEN];
	double v;

	(void)append;
	quote(s, got, sizeof(got));
	if (parse_num(s, &v) < 0)
		return bad_value(x, got);
	return num_store(x, c, v, got);
}

static json_t *num_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	double v;

	memcpy(&v, cfield(k, c), sizeof(v));
	return json_real(v);
}

static const struct key_ops num_ops = {
	.from_json = num_from_json,
	.from_str = num_from_str,
	.to_json = num_to_json,
	.expect = num_expect,
};

/* ---- booleans ------------------------------------------------------------ */

static void bool_expect(const struct conf_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "true or false");
}

static void bool_put(const struct conf_key *k, struct pmtud_conf *c, bool v)
{
	memcpy(field(k, c), &v, sizeof(v));
}

static int bool_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	if (!json_is_boolean(v))
		return bad_type(x, v);
	bool_put(x->k, c, json_is_true(v));
	return 0;
}

/* A flag (s NULL) sets its fixed value; "true"/"false" are defaults. */
static int bool_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			 bool append)
{
	char got[GOTLEN];

	(void)append;
	if (!s)
		bool_put(x->k, c, x->k->flag_val);
	else if (!strcmp(s, "true") || !strcmp(s, "false"))
		bool_put(x->k, c, *s == 't');
	else
		return bad_value(x, quote(s, got, sizeof(got)));
	return 0;
}

static json_t *bool_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	bool v;

	memcpy(&v, cfield(k, c), sizeof(v));
	return json_boolean(v);
}

static const struct key_ops bool_ops = {
	.from_json = bool_from_json,
	.from_str = bool_from_str,
	.to_json = bool_to_json,
	.expect = bool_expect,
};

/* ---- enums (a name per value) -------------------------------------------- */

static void enum_expect(const struct conf_key *k, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "one of");
	unsigned i;

	for (i = 0; k->names[i] && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s \"%s\"",
				      i ? "," : "", k->names[i]);
}

static int enum_store(const struct ctx *x, struct pmtud_conf *c, const char *s,
		      const char *got)
{
	unsigned i;

	for (i = 0; s && x->k->names[i]; i++) {
		if (!strcmp(s, x->k->names[i])) {
			int_put(x->k, c, i);
			return 0;
		}
	}
	return bad_value(x, got);
}

static int enum_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return bad_type(x, v);
	return enum_store(x, c, cstr(v), render(v, got, sizeof(got)));
}

static int enum_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			 bool append)
{
	char got[GOTLEN];

	(void)append;
	return enum_store(x, c, s, quote(s, got, sizeof(got)));
}

static json_t *enum_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	return json_string(k->names[int_get(k, c)]);
}

static const struct key_ops enum_ops = {
	.from_json = enum_from_json,
	.from_str = enum_from_str,
	.to_json = enum_to_json,
	.expect = enum_expect,
};

/* ---- names (nft table): a char array ------------------------------------- */

static const char name_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

static void name_expect(const struct conf_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "a name of 1..%zu characters from A-Z a-z 0-9 _ -",
		 k->size - 1);
}

static int name_store(const struct ctx *x, struct pmtud_conf *c, const char *s,
		      const char *got)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n >= x->k->size || strspn(s, name_chars) != n)
		return bad_value(x, got);
	memcpy(field(x->k, c), s, n + 1);
	return 0;
}

static int name_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return bad_type(x, v);
	return name_store(x, c, cstr(v), render(v, got, sizeof(got)));
}

static int name_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			 bool append)
{
	char got[GOTLEN];

	(void)append;
	return name_store(x, c, s, quote(s, got, sizeof(got)));
}

static json_t *name_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	return json_string(cfield(k, c));
}

static const struct key_ops name_ops = {
	.from_json = name_from_json,
	.from_str = name_from_str,
	.to_json = name_to_json,
	.expect = name_expect,
};

/* ---- paths (metrics_file): a char array, "" = unset ---------------------- */

static void path_expect(const struct conf_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "an absolute path of at most %zu bytes, or \"\" (off)",
		 k->size - 1);
}

static int path_store(const struct ctx *x, struct pmtud_conf *c, const char *s,
		      const char *got)
{
	size_t n = s ? strlen(s) : 0;
	size_t i;

	if (!s || n >= x->k->size || (n && s[0] != '/'))
		return bad_value(x, got);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return bad_value(x, got);
	memcpy(field(x->k, c), s, n + 1);
	return 0;
}

static int path_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return bad_type(x, v);
	return path_store(x, c, cstr(v), render(v, got, sizeof(got)));
}

static int path_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			 bool append)
{
	char got[GOTLEN];

	(void)append;
	return path_store(x, c, s, quote(s, got, sizeof(got)));
}

static const struct key_ops path_ops = {
	.from_json = path_from_json,
	.from_str = path_from_str,
	.to_json = name_to_json,
	.expect = path_expect,
};

/* ---- user: a user name, "" = unset ------------------------------------ */

static const char user_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.";

static void user_expect(const struct conf_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "a user name of at most %zu characters from "
		 "A-Z a-z 0-9 _ - . not starting with -, or \"\" (none)", k->size - 1);
}

static int user_store(const struct ctx *x, struct pmtud_conf *c, const char *s,
		      const char *got)
{
	size_t n = s ? strlen(s) : 0;

	if (!s || n >= x->k->size || s[0] == '-' || strspn(s, user_chars) != n)
		return bad_value(x, got);
	memcpy(field(x->k, c), s, n + 1);
	return 0;
}

static int user_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return bad_type(x, v);
	return user_store(x, c, cstr(v), render(v, got, sizeof(got)));
}

static int user_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			 bool append)
{
	char got[GOTLEN];

	(void)append;
	return user_store(x, c, s, quote(s, got, sizeof(got)));
}

static const struct key_ops user_ops = {
	.from_json = user_from_json,
	.from_str = user_from_str,
	.to_json = name_to_json,
	.expect = user_expect,
};

/* ---- lists: a JSON array, or comma-separated on the command line ----- */

static int list_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	const struct key_ops *o = x->k->ops;
	struct ctx ix = *x;
	json_t *e;
	size_t i;

	if (o->scalar_ok && json_is_string(v)) {
		o->clear(c);
		return o->add_json(x, c, v);
	}
	if (!json_is_array(v))
		return bad_type(x, v);
	o->clear(c);
	json_array_foreach(v, i, e) {
		ix.item = (unsigned)i + 1;
		if (o->add_json(&ix, c, e) < 0)
			return -1;
	}
	return 0;
}

/* "" is the empty list. */
static int list_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			 bool append)
{
	char *copy, *rest, *tok;
	int rc = 0;

	if (!append)
		x->k->ops->clear(c);
	if (!*s)
		return 0;
	copy = strdup(s);
	if (!copy)
		return fail(x->err, "out of memory");
	rest = copy;
	while (rc == 0 && (tok = strsep(&rest, ",")))
		rc = x->k->ops->add_str(x, c, tok);
	free(copy);
	return rc;
}

/* Interfaces: what the kernel's dev_valid_name() takes, minus ','. */
static bool ifname_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	size_t i;

	if (n < 1 || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || strchr("/:,", s[i]))
			return false;
	return true;
}

static void iface_expect(const struct conf_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "an interface name of 1..%d characters, without "
		 "spaces, '/', ':' or ','", IFNAMSIZ - 1);
}

static void iface_clear(struct pmtud_conf *c)
{
	c->n_ifaces = 0;
}

static int iface_add(const struct ctx *x, struct pmtud_conf *c, const char *s,
		     const char *got)
{
	unsigned i;

	if (!ifname_ok(s))
		return bad_value(x, got);
	for (i = 0; i < c->n_ifaces; i++)
		if (!strcmp(c->ifaces[i], s))
			return key_fail(x, "duplicate interface %s", got);
	if (c->n_ifaces == PMTUD_MAX_IFACES)
		return key_fail(x, "more than %d interfaces", PMTUD_MAX_IFACES);
	memcpy(c->ifaces[c->n_ifaces++], s, strlen(s) + 1);
	return 0;
}

static int iface_add_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return bad_type(x, v);
	return iface_add(x, c, cstr(v), render(v, got, sizeof(got)));
}

static int iface_add_str(const struct ctx *x, struct pmtud_conf *c, const char *s)
{
	char got[GOTLEN];

	return iface_add(x, c, s, quote(s, got, sizeof(got)));
}

static json_t *iface_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	json_t *a = json_array();
	unsigned i;

	(void)k;
	for (i = 0; a && i < c->n_ifaces; i++) {
		if (json_array_append_new(a, json_string(c->ifaces[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static const struct key_ops iface_ops = {
	.from_json = list_from_json,
	.from_str = list_from_str,
	.to_json = iface_to_json,
	.expect = iface_expect,
	.list_expect = "a string or an array of strings",
	.scalar_ok = true,
	.clear = iface_clear,
	.add_json = iface_add_json,
	.add_str = iface_add_str,
};

/* Ports: kept sorted and unique, for the classifier's binary search. */
static void ports_clear(struct pmtud_conf *c)
{
	c->n_ports = 0;
	c->ports_any = true;
}

static int port_add(const struct ctx *x, struct pmtud_conf *c, long long v,
		    const char *got)
{
	unsigned i;

	if (v < x->k->min || v > x->k->max)
		return bad_value(x, got);
	for (i = 0; i < c->n_ports && c->ports[i] < v; i++)
		;
	if (i < c->n_ports && c->ports[i] == v)
		return 0;
	if (c->n_ports == ARRAY_SIZE(c->ports))
		return key_fail(x, "more than %zu ports", ARRAY_SIZE(c->ports));
	memmove(&c->ports[i + 1], &c->ports[i], (c->n_ports - i) * sizeof(c->ports[0]));
	c->ports[i] = (uint16_t)v;
	c->n_ports++;
	c->ports_any = false;
	return 0;
}

static int port_add_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_integer(v))
		return bad_type(x, v);
	return port_add(x, c, json_integer_value(v), render(v, got, sizeof(got)));
}

static int port_add_str(const struct ctx *x, struct pmtud_conf *c, const char *s)
{
	char got[GOTLEN];
	long long v;

	quote(s, got, sizeof(got));
	if (parse_int(s, &v) < 0)
		return bad_value(x, got);
	return port_add(x, c, v, got);
}

static json_t *ports_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	json_t *a = json_array();
	unsigned i;

	(void)k;
	for (i = 0; a && i < c->n_ports; i++) {
		if (json_array_append_new(a, json_integer(c->ports[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static const struct key_ops ports_ops = {
	.from_json = list_from_json,
	.from_str = list_from_str,
	.to_json = ports_to_json,
	.expect = int_expect,
	.list_expect = "an array of integers 1..65535",
	.clear = ports_clear,
	.add_json = port_add_json,
	.add_str = port_add_str,
};

/* Peers: IPv4/IPv6 addresses. */
static void peer_expect(const struct conf_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "an IPv4 or IPv6 address");
}

static void peers_clear(struct pmtud_conf *c)
{
	c->n_peers = 0;
}

static int peer_add(const struct ctx *x, struct pmtud_conf *c, const char *s,
		    const char *got)
{
	struct pmtud_addr a;
	unsigned i;

	if (!s || pmtud_addr_parse(&a, s) < 0)
		return bad_value(x, got);
	for (i = 0; i < c->n_peers; i++)
		if (pmtud_addr_eq(&c->peers[i], &a))
			return key_fail(x, "duplicate address %s", got);
	if (c->n_peers == PMTUD_MAX_PEERS)
		return key_fail(x, "more than %d addresses", PMTUD_MAX_PEERS);
	c->peers[c->n_peers++] = a;
	return 0;
}

static int peer_add_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return bad_type(x, v);
	return peer_add(x, c, cstr(v), render(v, got, sizeof(got)));
}

static int peer_add_str(const struct ctx *x, struct pmtud_conf *c, const char *s)
{
	char got[GOTLEN];

	return peer_add(x, c, s, quote(s, got, sizeof(got)));
}

static json_t *peers_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	char buf[PMTUD_ADDRSTRLEN];
	json_t *a = json_array();
	unsigned i;

	(void)k;
	for (i = 0; a && i < c->n_peers; i++) {
		pmtud_addr_str(&c->peers[i], buf);
		if (json_array_append_new(a, json_string(buf)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static const struct key_ops peers_ops = {
	.from_json = list_from_json,
	.from_str = list_from_str,
	.to_json = peers_to_json,
	.expect = peer_expect,
	.list_expect = "an array of IPv4/IPv6 address strings",
	.clear = peers_clear,
	.add_json = peer_add_json,
	.add_str = peer_add_str,
};

/* Peer sources: at most one address per family, [0] IPv4, [1] IPv6. */
static void psrc_clear(struct pmtud_conf *c)
{
	memset(c->peer_source, 0, sizeof(c->peer_source));
}

static int psrc_add(const struct ctx *x, struct pmtud_conf *c, const char *s,
		    const char *got)
{
	struct pmtud_addr a;
	struct pmtud_addr *slot;

	if (!s || pmtud_addr_parse(&a, s) < 0)
		return bad_value(x, got);
	slot = &c->peer_source[a.family == AF_INET ? 0 : 1];
	if (slot->family)
		return key_fail(x, "more than one %s address %s",
				a.family == AF_INET ? "IPv4" : "IPv6", got);
	*slot = a;
	return 0;
}

static int psrc_add_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return bad_type(x, v);
	return psrc_add(x, c, cstr(v), render(v, got, sizeof(got)));
}

static int psrc_add_str(const struct ctx *x, struct pmtud_conf *c, const char *s)
{
	char got[GOTLEN];

	return psrc_add(x, c, s, quote(s, got, sizeof(got)));
}

static json_t *psrc_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	char buf[PMTUD_ADDRSTRLEN];
	json_t *a = json_array();
	unsigned i;

	(void)k;
	for (i = 0; a && i < 2; i++) {
		if (!c->peer_source[i].family)
			continue;
		pmtud_addr_str(&c->peer_source[i], buf);
		if (json_array_append_new(a, json_string(buf)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static const struct key_ops psrc_ops = {
	.from_json = list_from_json,
	.from_str = list_from_str,
	.to_json = psrc_to_json,
	.expect = peer_expect,
	.list_expect = "an array of at most one IPv4 and one IPv6 address",
	.clear = psrc_clear,
	.add_json = psrc_add_json,
	.add_str = psrc_add_str,
};

/* VIPs: "addr/len" prefixes, or a bare address (a host prefix). Bits
 * past len must be zero: "203.0.113.81/24" is refused rather than
 * silently widened, since a typo there widens what gets relayed. */
static void vip_expect(const struct conf_key *k, char *buf, size_t len)
{
	(void)k;
	snprintf(buf, len, "an IPv4 or IPv6 address or prefix (\"addr/len\", "
		 "host bits zero)");
}

static void vips_clear(struct pmtud_conf *c)
{
	c->n_vips = 0;
}

/* 0, -1 (not a prefix), or -2 (host bits set: *p then holds the
 * network, for the message). */
static int prefix_parse(struct pmtud_prefix *p, const char *s)
{
	char buf[PMTUD_PREFIXSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max, i;
	long long len;
	int dirty = 0;

	/* Padding included: configurations are compared byte for byte
	 * (reload, fuzz round-trip). */
	memset(p, 0, sizeof(*p));
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (pmtud_addr_parse(&p->addr, buf) < 0)
		return -1;
	max = p->addr.family == AF_INET ? 32 : 128;
	len = max;
	if (slash && (parse_int(slash + 1, &len) < 0 || slash[1] == '-' ||
		      len > max || strlen(slash + 1) > 3))
		return -1;
	p->len = (uint8_t)len;
	for (i = (unsigned)len; i < max; i++) {
		uint8_t bit = (uint8_t)(0x80 >> (i % 8));

		if (p->addr.a[i / 8] & bit) {
			p->addr.a[i / 8] &= (uint8_t)~bit;
			dirty = -2;
		}
	}
	return dirty;
}

static const char *prefix_str(const struct pmtud_prefix *p, char *buf)
{
	char a[PMTUD_ADDRSTRLEN];

	snprintf(buf, PMTUD_PREFIXSTRLEN, "%s/%u", pmtud_addr_str(&p->addr, a),
		 (unsigned)p->len);
	return buf;
}

static int vip_add(const struct ctx *x, struct pmtud_conf *c, const char *s,
		   const char *got)
{
	char net[PMTUD_PREFIXSTRLEN];
	struct pmtud_prefix p;
	unsigned i;
	int rc;

	rc = s ? prefix_parse(&p, s) : -1;
	if (rc == -1)
		return bad_value(x, got);
	if (rc == -2)
		return key_fail(x, "%s has host bits set past /%u (network %s?)",
				got, (unsigned)p.len, prefix_str(&p, net));
	for (i = 0; i < c->n_vips; i++)
		if (c->vips[i].len == p.len && pmtud_addr_eq(&c->vips[i].addr, &p.addr))
			return key_fail(x, "duplicate prefix %s", got);
	if (c->n_vips == PMTUD_MAX_VIPS)
		return key_fail(x, "more than %d prefixes", PMTUD_MAX_VIPS);
	c->vips[c->n_vips++] = p;
	return 0;
}

static int vip_add_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return bad_type(x, v);
	return vip_add(x, c, cstr(v), render(v, got, sizeof(got)));
}

static int vip_add_str(const struct ctx *x, struct pmtud_conf *c, const char *s)
{
	char got[GOTLEN];

	return vip_add(x, c, s, quote(s, got, sizeof(got)));
}

static json_t *vips_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	char buf[PMTUD_PREFIXSTRLEN];
	json_t *a = json_array();
	unsigned i;

	(void)k;
	for (i = 0; a && i < c->n_vips; i++) {
		if (json_array_append_new(a, json_string(prefix_str(&c->vips[i], buf))) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static const struct key_ops vips_ops = {
	.from_json = list_from_json,
	.from_str = list_from_str,
	.to_json = vips_to_json,
	.expect = vip_expect,
	.list_expect = "an array of IPv4/IPv6 prefix strings",
	.clear = vips_clear,
	.add_json = vip_add_json,
	.add_str = vip_add_str,
};

/* ---- the table ------------------------------------------------------------ */

static const char *const src_key_names[] = {
	[SRC_KEY_FLOW] = "flow", [SRC_KEY_SOURCE] = "source", NULL,
};

static const char *const input_names[] = {
	[INPUT_NFLOG] = "nflog", [INPUT_NFQUEUE] = "nfqueue", NULL,
};

/* In file, --help and --check-config order. flag = { long option,
 * short option, argument name, key, doc, default as text }; the
 * default text is also what conf_defaults() parses, unless dflt says
 * otherwise or derived is set. */
static const struct conf_key keys[] = {
	{ .flag = { "iface", 'i', "NAME[,NAME...]", "iface",
		    "interfaces to watch and send copies on; repeatable", NULL },
	  .ops = &iface_ops },
	{ .flag = { "input", 0, "nflog|nfqueue", "input",
		    "how the kernel hands over captured ICMP errors", "nflog" },
	  .ops = &enum_ops, FIELD(input), .names = input_names },
	{ .flag = { "nflog", 0, "GROUP", "nflog_group",
		    "NFLOG group the capture rule logs to", "33" },
	  .ops = &int_ops, FIELD(nflog_group), .min = 0, .max = 65535 },
	{ .flag = { "queue", 0, "NUM", "queue",
		    "NFQUEUE number, with input nfqueue", "33" },
	  .ops = &int_ops, FIELD(queue_num), .min = 0, .max = 65535 },
	{ .flag = { "src-key", 0, "flow|source", "src_key",
		    "rate-limit per source+quoted destination (flow) or per source", "flow" },
	  .ops = &enum_ops, FIELD(src_key), .names = src_key_names },
	{ .flag = { "src-rate", 0, "R", "src_rate",
		    "copies sent per second per rate-limit key (> 0)", "1.0" },
	  .ops = &num_ops, FIELD(src_rate), .dmin = 0, .open = true },
	{ .flag = { "src-burst", 0, "N", "src_burst",
		    "burst allowed per rate-limit key (>= 1)", "max(1, src_rate)" },
	  .ops = &num_ops, FIELD(src_burst), .dmin = 1, .derived = true },
	{ .flag = { "iface-rate", 0, "R", "iface_rate",
		    "copies sent per second per interface (> 0)", "10.0" },
	  .ops = &num_ops, FIELD(iface_rate), .dmin = 0, .open = true },
	{ .flag = { "iface-burst", 0, "N", "iface_burst",
		    "burst allowed per interface (>= 1)", "max(1, iface_rate)" },
	  .ops = &num_ops, FIELD(iface_burst), .dmin = 1, .derived = true },
	{ .flag = { "src-table-size", 0, "N", "src_table_size",
		    "rate-limit table entries, a power of two", "16384" },
	  .ops = &int_ops, FIELD(src_table_size), .min = 64, .max = 16777216,
	  .pow2 = true },
	{ .flag = { "ports", 0, "P[,P...]", "ports",
		    "relay only PTBs quoting one of these source ports", "any" },
	  .ops = &ports_ops, .min = 1, .max = 65535, .dflt = "" },
	{ .flag = { "peers", 0, "A[,A...]", "peers",
		    "other servers: each PTB is relayed to them, never one sent from them", "none" },
	  .ops = &peers_ops, .dflt = "" },
	{ .flag = { "no-broadcast", 0, NULL, "broadcast",
		    "send no Ethernet broadcast copies (peers only)", "true" },
	  .ops = &bool_ops, FIELD(broadcast), .flag_val = false },
	{ .flag = { "peer-ttl", 0, "N", "peer_ttl",
		    "TTL / hop limit of the copies sent to peers", "64" },
	  .ops = &int_ops, FIELD(peer_ttl), .min = 1, .max = 255 },
	{ .flag = { "peer-rate", 0, "R", "peer_rate",
		    "copies sent per second to all peers together (> 0)", "10 x peers" },
	  .ops = &num_ops, FIELD(peer_rate), .dmin = 0, .open = true, .derived = true },
	{ .flag = { "peer-source", 0, "A[,A]", "peer_source",
		    "source address of the copies to peers, one per family (a local address)", "routed" },
	  .ops = &psrc_ops, .dflt = "" },
	{ .flag = { "min-mtu", 0, "N", "min_mtu",
		    "smallest MTU accepted in an IPv4 PTB (IPv6: always 1280)", "552" },
	  .ops = &int_ops, FIELD(min_mtu), .min = 68, .max = 65535 },
	{ .flag = { "max-mtu", 0, "N", "max_mtu",
		    "largest MTU accepted in a PTB", "65535" },
	  .ops = &int_ops, FIELD(max_mtu), .min = 68, .max = 65535 },
	{ .flag = { "vips", 0, "PREFIX[,PREFIX...]", "vips",
		    "relay only PTBs quoting a source in these prefixes (the VIPs)", "any" },
	  .ops = &vips_ops, .dflt = "" },
	{ .flag = { "dedup-window", 0, "SECONDS", "dedup_window",
		    "relay identical PTBs once per this many seconds (0: off, max 3600)", "1.0" },
	  .ops = &num_ops, FIELD(dedup_window), .dmin = 0 },
	{ .flag = { "table", 0, "NAME", "table",
		    "name of the agent's nftables table (family inet)", "pmtud" },
	  .ops = &name_ops, FIELD(table) },
	{ .flag = { "no-rules", 0, NULL, "install_rules",
		    "install no nftables table: your own rules feed the group", "true" },
	  .ops = &bool_ops, FIELD(install_rules), .flag_val = false },
	{ .flag = { "use-src-mac", 0, NULL, "use_src_mac",
		    "send copies from the PTB's source MAC, not the interface's", "false" },
	  .ops = &bool_ops, FIELD(use_src_mac), .flag_val = true },
	{ .flag = { "no-prelimit", 0, NULL, "prelimit",
		    "no in-kernel pre-limit: every PTB reaches the agent", "true" },
	  .ops = &bool_ops, FIELD(prelimit), .flag_val = false },
	{ .flag = { "prelimit-rate", 0, "R", "prelimit_rate",
		    "PTBs per second and family the kernel passes to the agent", "10000" },
	  .ops = &int_ops, FIELD(prelimit_rate), .min = 1, .max = 10000000 },
	{ .flag = { "rcvbuf", 0, "BYTES", "rcvbuf",
		    "netlink receive buffer size", "4194304" },
	  .ops = &int_ops, FIELD(rcvbuf), .min = 65536, .max = 268435456 },
	{ .flag = { "cpu", 0, "N", "cpu",
		    "pin the agent to this CPU (-1: no pinning)", "-1" },
	  .ops = &int_ops, FIELD(cpu), .min = -1, .max = 1023 },
	{ .flag = { "dry-run", 0, NULL, "dry_run",
		    "decide and log, but send no copies", "false" },
	  .ops = &bool_ops, FIELD(dry_run), .flag_val = true },
	{ .flag = { "verbose", 'v', NULL, "verbose",
		    "1: log each decision, 2: + debug, 3: + packet hex; repeatable, adds to the file's value", "0" },
	  .ops = &int_ops, FIELD(verbose), .min = 0, .max = 3 },
	{ .flag = { "metrics-file", 0, "PATH", "metrics_file",
		    "write counters there in the Prometheus text format (\"\": off)", "off" },
	  .ops = &path_ops, FIELD(metrics_file), .dflt = "" },
	{ .flag = { "stats-interval", 0, "SECONDS", "stats_interval",
		    "seconds between two writes of the metrics file", "15" },
	  .ops = &int_ops, FIELD(stats_interval), .min = 1, .max = 3600 },
	{ .flag = { "user", 0, "NAME", "user",
		    "after setup, run as this user, keeping CAP_NET_ADMIN and CAP_NET_RAW", "none" },
	  .ops = &user_ops, FIELD(user), .dflt = "" },
};

static const struct conf_key *key_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].flag.key, name))
			return &keys[i];
	return NULL;
}

/* ---- API ------------------------------------------------------------------ */

void conf_defaults(struct pmtud_conf *c)
{
	struct conf_error err;
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct conf_key *k = &keys[i];
		const char *d = k->dflt ? k->dflt : k->flag.def;
		struct ctx x = { NULL, k, 0, &err };
		int rc;

		if (k->derived || !d)
			continue;
		rc = k->ops->from_str(&x, c, d, false);
		assert(rc == 0);	/* the table's own defaults parse */
		(void)rc;
	}
}

/* Not fmax(): the agent is not linked with libm. */
static double at_least_one(double rate)
{
	return rate > 1.0 ? rate : 1.0;
}

void conf_resolve(struct pmtud_conf *c)
{
	if (c->src_burst == 0)
		c->src_burst = at_least_one(c->src_rate);
	if (c->iface_burst == 0)
		c->iface_burst = at_least_one(c->iface_rate);
	/* Enough for every peer to get a copy of 10 PTBs per second. */
	if (c->peer_rate == 0)
		c->peer_rate = 10.0 * (c->n_peers ? c->n_peers : 1);
}

static int load_object(struct pmtud_conf *c, const char *path, json_t *root,
		       struct conf_error *err)
{
	const char *name;
	json_t *v;

	if (!json_is_object(root))
		return fail(err, "%s: the top level must be an object, got %s",
			    path, type_name(root));
	json_object_foreach(root, name, v) {
		struct ctx x = { path, key_by_name(name), 0, err };
		char got[GOTLEN];

		if (!x.k)
			return fail(err, "%s: unknown key %s", path,
				    quote(name, got, sizeof(got)));
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
		return fail(err, "%s: cannot read: %s", path, je->text);
	if (!root)
		return fail(err, "%s:%d:%d: invalid JSON: %s", path, je->line,
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
		return fail(err, "%s: cannot open: %s", path, strerror(errno));
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return fail(err, "%s: cannot read: %s", path, strerror(EISDIR));
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	return load_parsed(c, path, root, &je, err);
}

int conf_validate(const struct pmtud_conf *c, const char *source,
		  struct conf_error *err)
{
	if (c->n_ifaces == 0)
		return fail(err, "%s: no interface configured (set key \"iface\" "
			    "or use --iface)", source);
	if (c->min_mtu > c->max_mtu)
		return fail(err, "%s: key \"min_mtu\": %u is greater than max_mtu %u",
			    source, c->min_mtu, c->max_mtu);
	if (!(c->dedup_window <= PMTUD_DEDUP_MAX))
		return fail(err, "%s: key \"dedup_window\": expected a number "
			    "0..%d, got %g", source, PMTUD_DEDUP_MAX, c->dedup_window);
	/* Only if conf_resolve() was skipped: the setters enforce >= 1. */
	if (!(c->src_burst >= 1))
		return fail(err, "%s: key \"src_burst\": expected a number >= 1, got %g",
			    source, c->src_burst);
	if (!(c->iface_burst >= 1))
		return fail(err, "%s: key \"iface_burst\": expected a number >= 1, got %g",
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
			return fail(err, "%s: key \"iface\": no such interface \"%s\"",
				    source, c->ifaces[i]);
		return fail(err, "%s: key \"iface\": cannot look up \"%s\": %s",
			    source, c->ifaces[i], strerror(errno));
	}
	return 0;
}

static json_t *conf_to_json(const struct pmtud_conf *c)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o && i < ARRAY_SIZE(keys); i++) {
		json_t *v = keys[i].ops->to_json(&keys[i], c);

		/* _new takes v even on failure. */
		if (!v || json_object_set_new(o, keys[i].flag.key, v) < 0) {
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

static int set_csv(struct pmtud_conf *c, const char *key, const char *csv,
		   struct conf_error *err)
{
	struct ctx x = { NULL, key_by_name(key), 0, err };

	return list_from_str(&x, c, csv, false);
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

const struct conf_flag *conf_flag_at(unsigned i)
{
	return i < ARRAY_SIZE(keys) ? &keys[i].flag : NULL;
}

int conf_set_flag(struct pmtud_conf *c, const struct conf_flag *f,
		  const char *arg, bool append, struct conf_error *err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		struct ctx x = { NULL, &keys[i], 0, err };

		if (f == &keys[i].flag)
			return keys[i].ops->from_str(&x, c, arg, append);
	}
	return fail(err, "command line: --%s: not a configuration flag", f->name);
}
