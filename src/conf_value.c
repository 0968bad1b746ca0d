/* conf_value.c - one parser per kind of scalar value (integer, number,
 * boolean, enum, name, path, user) and the error messages they all
 * share: "file: key "k": expected ..., got ...".
 */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <jansson.h>
#include "conf_priv.h"

/* ---- errors ---------------------------------------------------------- */

/* Control bytes from a file name or an argument would split the line. */
static void scrub(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

int conf_fail(struct conf_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	scrub(err->msg);
	return -1;
}

int conf_key_fail(const struct ctx *x, const char *fmt, ...)
{
	char body[384], item[32] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (!x->file)
		return conf_fail(x->err, "command line: --%s: %s", x->k->flag.name, body);
	if (x->item)
		snprintf(item, sizeof(item), "item %u: ", x->item);
	return conf_fail(x->err, "%s: key \"%s\": %s%s", x->file, x->k->flag.key, item, body);
}

int conf_bad_value(const struct ctx *x, const char *got)
{
	char exp[160];

	x->k->ops->expect(x->k, exp, sizeof(exp));
	return conf_key_fail(x, "expected %s, got %s", exp, got);
}

const char *conf_type_name(const json_t *v)
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
const char *conf_render(const json_t *v, char *buf, size_t len)
{
	size_t n = json_dumpb(v, buf, len - 1, JSON_ENCODE_ANY | JSON_COMPACT);

	if (n == 0 || n > len - 1)
		return conf_type_name(v);
	buf[n] = '\0';
	return buf;
}

int conf_bad_type(const struct ctx *x, const json_t *v)
{
	const struct key_ops *o = x->k->ops;
	char exp[160], got[GOTLEN];

	if (o->list_expect && !x->item)
		snprintf(exp, sizeof(exp), "%s", o->list_expect);
	else
		o->expect(x->k, exp, sizeof(exp));
	if (json_is_array(v) || json_is_object(v) || json_is_null(v))
		return conf_key_fail(x, "expected %s, got %s", exp, conf_type_name(v));
	return conf_key_fail(x, "expected %s, got %s %s", exp, conf_type_name(v),
			     conf_render(v, got, sizeof(got)));
}

/* A command-line argument, quoted and escaped, for "got ...". */
const char *conf_quote(const char *s, char *buf, size_t len)
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

int conf_parse_int(const char *s, long long *out)
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
const char *conf_cstr(const json_t *v)
{
	const char *s = json_string_value(v);

	return s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* ---- integers ------------------------------------------------------------ */

void conf_int_expect(const struct conf_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s %lld..%lld",
		 k->pow2 ? "a power of two" : "an integer", k->min, k->max);
}

static int int_store(const struct ctx *x, struct pmtud_conf *c, long long v,
		     const char *got)
{
	const struct conf_key *k = x->k;

	if (v < k->min || v > k->max || (k->pow2 && (v & (v - 1)) != 0))
		return conf_bad_value(x, got);
	int_put(k, c, v);
	return 0;
}

static int int_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_integer(v))
		return conf_bad_type(x, v);
	return int_store(x, c, json_integer_value(v), conf_render(v, got, sizeof(got)));
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
	conf_quote(s, got, sizeof(got));
	if (conf_parse_int(s, &v) < 0)
		return conf_bad_value(x, got);
	return int_store(x, c, v, got);
}

static json_t *int_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	return json_integer(int_get(k, c));
}

const struct key_ops conf_int_ops = {
	.from_json = int_from_json,
	.from_str = int_from_str,
	.to_json = int_to_json,
	.expect = conf_int_expect,
};

/* ---- numbers (integers accepted) ----------------------------------------- */

static void num_expect(const struct conf_key *k, char *buf, size_t len)
{
	if (k->dmax > 0)
		snprintf(buf, len, "a number %.15g..%.15g", k->dmin, k->dmax);
	else
		snprintf(buf, len, "a number %s %g", k->open ? ">" : ">=", k->dmin);
}

static int num_store(const struct ctx *x, struct pmtud_conf *c, double v,
		     const char *got)
{
	const struct conf_key *k = x->k;

	if (!isfinite(v) || (k->open ? v <= k->dmin : v < k->dmin) ||
	    (k->dmax > 0 && v > k->dmax))
		return conf_bad_value(x, got);
	memcpy(field(k, c), &v, sizeof(v));
	return 0;
}

static int num_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_number(v))
		return conf_bad_type(x, v);
	return num_store(x, c, json_number_value(v), conf_render(v, got, sizeof(got)));
}

static int num_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			bool append)
{
	char got[GOTLEN];
	double v;

	(void)append;
	conf_quote(s, got, sizeof(got));
	if (parse_num(s, &v) < 0)
		return conf_bad_value(x, got);
	return num_store(x, c, v, got);
}

static json_t *num_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	double v;

	memcpy(&v, cfield(k, c), sizeof(v));
	return json_real(v);
}

const struct key_ops conf_num_ops = {
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
		return conf_bad_type(x, v);
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
		return conf_bad_value(x, conf_quote(s, got, sizeof(got)));
	return 0;
}

static json_t *bool_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	bool v;

	memcpy(&v, cfield(k, c), sizeof(v));
	return json_boolean(v);
}

const struct key_ops conf_bool_ops = {
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
	return conf_bad_value(x, got);
}

static int enum_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return conf_bad_type(x, v);
	return enum_store(x, c, conf_cstr(v), conf_render(v, got, sizeof(got)));
}

static int enum_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			 bool append)
{
	char got[GOTLEN];

	(void)append;
	return enum_store(x, c, s, conf_quote(s, got, sizeof(got)));
}

static json_t *enum_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	return json_string(k->names[int_get(k, c)]);
}

const struct key_ops conf_enum_ops = {
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
		return conf_bad_value(x, got);
	memcpy(field(x->k, c), s, n + 1);
	return 0;
}

static int name_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return conf_bad_type(x, v);
	return name_store(x, c, conf_cstr(v), conf_render(v, got, sizeof(got)));
}

static int name_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			 bool append)
{
	char got[GOTLEN];

	(void)append;
	return name_store(x, c, s, conf_quote(s, got, sizeof(got)));
}

static json_t *name_to_json(const struct conf_key *k, const struct pmtud_conf *c)
{
	return json_string(cfield(k, c));
}

const struct key_ops conf_name_ops = {
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
		return conf_bad_value(x, got);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return conf_bad_value(x, got);
	memcpy(field(x->k, c), s, n + 1);
	return 0;
}

static int path_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return conf_bad_type(x, v);
	return path_store(x, c, conf_cstr(v), conf_render(v, got, sizeof(got)));
}

static int path_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			 bool append)
{
	char got[GOTLEN];

	(void)append;
	return path_store(x, c, s, conf_quote(s, got, sizeof(got)));
}

const struct key_ops conf_path_ops = {
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
		return conf_bad_value(x, got);
	memcpy(field(x->k, c), s, n + 1);
	return 0;
}

static int user_from_json(const struct ctx *x, struct pmtud_conf *c, json_t *v)
{
	char got[GOTLEN];

	if (!json_is_string(v))
		return conf_bad_type(x, v);
	return user_store(x, c, conf_cstr(v), conf_render(v, got, sizeof(got)));
}

static int user_from_str(const struct ctx *x, struct pmtud_conf *c, const char *s,
			 bool append)
{
	char got[GOTLEN];

	(void)append;
	return user_store(x, c, s, conf_quote(s, got, sizeof(got)));
}

const struct key_ops conf_user_ops = {
	.from_json = user_from_json,
	.from_str = user_from_str,
	.to_json = name_to_json,
	.expect = user_expect,
};
