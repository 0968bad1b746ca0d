/* peerset.c - canonical peer sets: sort, merge, diff, apply an answer. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "peerset.h"

/* IPv4 keeps bytes 4..15 zero (pmtud.h), so 16 bytes compare right;
 * family first puts IPv4 (2) before IPv6 (10). */
int peerset_cmp(const struct pmtud_addr *x, const struct pmtud_addr *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->a, y->a, sizeof(x->a));
}

static int qcmp(const void *x, const void *y)
{
	return peerset_cmp(x, y);
}

size_t peerset_normalize(struct pmtud_addr *v, size_t n)
{
	size_t i, out = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), qcmp);
	for (i = 1; i < n; i++)
		if (peerset_cmp(&v[out], &v[i]) != 0)
			v[++out] = v[i];
	return out + 1;
}

size_t peerset_merge(struct pmtud_addr *out, size_t cap,
		     const struct pmtud_addr *a, size_t na,
		     const struct pmtud_addr *b, size_t nb, bool *truncated)
{
	size_t i = 0, j = 0, n = 0;

	while (i < na || j < nb) {
		const struct pmtud_addr *next;
		int c = i == na ? 1 : j == nb ? -1 : peerset_cmp(&a[i], &b[j]);

		next = c <= 0 ? &a[i] : &b[j];
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
		if (n == cap) {
			if (truncated)
				*truncated = true;
			break;
		}
		out[n++] = *next;
	}
	return n;
}

bool peerset_diff(const struct pmtud_addr *old, size_t n_old,
		  const struct pmtud_addr *new_, size_t n_new,
		  struct pmtud_addr *gone, size_t *n_gone,
		  struct pmtud_addr *came, size_t *n_came)
{
	size_t i = 0, j = 0, g = 0, k = 0;

	while (i < n_old || j < n_new) {
		int c = i == n_old ? 1 : j == n_new ? -1 : peerset_cmp(&old[i], &new_[j]);

		if (c < 0) {
			if (gone)
				gone[g] = old[i];
			g++;
			i++;
		} else if (c > 0) {
			if (came)
				came[k] = new_[j];
			k++;
			j++;
		} else {
			i++;
			j++;
		}
	}
	*n_gone = g;
	*n_came = k;
	return g || k;
}

bool peerset_equal(const struct pmtud_addr *a, size_t na,
		   const struct pmtud_addr *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (peerset_cmp(&a[i], &b[i]) != 0)
			return false;
	return true;
}

bool peerset_contains(const struct pmtud_addr *v, size_t n, const struct pmtud_addr *a)
{
	struct pmtud_addr key;

	/* Canonical form: an IPv4 address has bytes 4..15 zero. */
	memset(&key, 0, sizeof(key));
	key.family = a->family;
	memcpy(key.a, a->a, a->family == AF_INET ? 4 : 16);
	return n && bsearch(&key, v, n, sizeof(*v), qcmp) != NULL;
}

size_t peerset_count(const struct pmtud_addr *v, size_t n, int family)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += v[i].family == family;
	return k;
}

const char *peer_result_name(enum peer_result r)
{
	static const char *const names[PEER_RESULT_MAX] = {
		[PEER_RESULT_OK] = "ok", [PEER_RESULT_CHANGED] = "changed",
		[PEER_RESULT_FAILED] = "failed", [PEER_RESULT_EMPTY] = "empty",
	};

	return (unsigned)r < PEER_RESULT_MAX ? names[r] : "?";
}

enum peer_result peerset_answer(struct pmtud_addr *cur, size_t *n_cur, size_t cap,
				bool failed, struct pmtud_addr *ans, size_t n_ans)
{
	if (failed)
		return PEER_RESULT_FAILED;
	n_ans = peerset_normalize(ans, n_ans);
	if (n_ans == 0)
		return PEER_RESULT_EMPTY;
	if (n_ans > cap)
		n_ans = cap;
	if (peerset_equal(cur, *n_cur, ans, n_ans))
		return PEER_RESULT_OK;
	memcpy(cur, ans, n_ans * sizeof(*ans));
	*n_cur = n_ans;
	return PEER_RESULT_CHANGED;
}
