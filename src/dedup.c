/* dedup.c - a fixed table of recently relayed PTB fingerprints. */
#include "config.h"
#include <string.h>
#include "dedup.h"
#include "siphash.h"

#define NSETS		(DEDUP_ENTRIES / DEDUP_WAYS)
#define WINDOW_MAX_S	3600.0

_Static_assert((NSETS & (NSETS - 1)) == 0, "DEDUP_ENTRIES: power of two");

/* The tuple as hashed: fixed layout, zero padding, so a key built from
 * the same PTB is always the same bytes. */
struct dedup_tuple {
	uint8_t family;
	uint8_t proto;
	uint8_t sport[2], dport[2];
	uint8_t mtu[4];
	uint8_t outer_src[16];
	uint8_t quoted_src[16];
	uint8_t quoted_dst[16];
};

static uint64_t window_ns(double s)
{
	if (!(s > 0))		/* also NaN */
		return 0;
	if (s > WINDOW_MAX_S)
		s = WINDOW_MAX_S;
	return (uint64_t)(s * 1e9);
}

int dedup_init(struct dedup *d, double window_s, const uint8_t key[16])
{
	memset(d, 0, sizeof(*d));
	d->window_ns = window_ns(window_s);
	return siphash_key_init(d->key, key);
}

void dedup_set_window(struct dedup *d, double window_s)
{
	d->window_ns = window_ns(window_s);
}

uint64_t dedup_fingerprint(const struct dedup *d, const struct ptb_info *info)
{
	struct dedup_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = info->family;
	t.proto = info->quoted_proto;
	t.sport[0] = (uint8_t)(info->quoted_sport >> 8);
	t.sport[1] = (uint8_t)info->quoted_sport;
	t.dport[0] = (uint8_t)(info->quoted_dport >> 8);
	t.dport[1] = (uint8_t)info->quoted_dport;
	t.mtu[0] = (uint8_t)(info->mtu >> 24);
	t.mtu[1] = (uint8_t)(info->mtu >> 16);
	t.mtu[2] = (uint8_t)(info->mtu >> 8);
	t.mtu[3] = (uint8_t)info->mtu;
	memcpy(t.outer_src, info->outer_src.a, sizeof(t.outer_src));
	memcpy(t.quoted_src, info->quoted_src.a, sizeof(t.quoted_src));
	memcpy(t.quoted_dst, info->quoted_dst.a, sizeof(t.quoted_dst));
	return siphash24(&t, sizeof(t), d->key);
}

static const struct dedup_slot *set_of(const struct dedup *d, uint64_t fp)
{
	return &d->slot[(fp & (NSETS - 1)) * DEDUP_WAYS];
}

bool dedup_seen(const struct dedup *d, uint64_t fp, uint64_t now_ns)
{
	const struct dedup_slot *s = set_of(d, fp);

	if (!d->window_ns)
		return false;
	for (unsigned i = 0; i < DEDUP_WAYS; i++)
		if (s[i].fp == fp && s[i].expiry_ns > now_ns)
			return true;
	return false;
}

/* Same fingerprint first (a window restarted), else the slot that
 * expires first: an expired or empty one if there is one. */
void dedup_record(struct dedup *d, uint64_t fp, uint64_t now_ns)
{
	struct dedup_slot *s = &d->slot[set_of(d, fp) - d->slot];
	struct dedup_slot *victim = &s[0];

	if (!d->window_ns)
		return;
	for (unsigned i = 0; i < DEDUP_WAYS; i++) {
		if (s[i].fp == fp) {
			victim = &s[i];
			break;
		}
		if (s[i].expiry_ns < victim->expiry_ns)
			victim = &s[i];
	}
	victim->fp = fp;
	/* now + window, never 0 (empty) nor wrapping. */
	victim->expiry_ns = now_ns > UINT64_MAX - d->window_ns ? UINT64_MAX
							       : now_ns + d->window_ns;
}
