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

/* The tuple as four 16-byte words, read straight from info for the
 * memo: building the hashed tuple byte by byte costs more than a hit.
 * 16 bytes at a time, in registers, as classify.c stores the addresses
 * (pmtud.h: pmtud_u64x2); the memo keeps them as plain words. */
static void tuple_words(const struct ptb_info *info, pmtud_u64x2 t[4])
{
	t[0] = (pmtud_u64x2){
		(uint64_t)info->family << 48 | (uint64_t)info->quoted_proto << 40 |
		(uint64_t)info->quoted_sport << 16 | info->quoted_dport,
		info->mtu };
	memcpy(&t[1], info->outer_src.a, 16);
	memcpy(&t[2], info->quoted_src.a, 16);
	memcpy(&t[3], info->quoted_dst.a, 16);
}

/* The memo's set: 2 ways, so two flows that share a set (a router's
 * IPv4 and IPv6 repetitions, say) both stay. Anyone may pick these
 * bytes and crowd one set: that only costs hashing, since a hit is
 * compared in full. */
static unsigned memo_set(const pmtud_u64x2 t[4])
{
	uint64_t x = (t[0][0] ^ t[0][1] ^ t[1][1] ^ t[3][1]) * 0x9e3779b97f4a7c15ULL;

	return (unsigned)((x >> 32) % (DEDUP_MEMO / 2));
}

static inline bool words_eq(const uint64_t w[8], const pmtud_u64x2 t[4])
{
	pmtud_u64x2 m[4], diff;

	memcpy(m, w, sizeof(m));
	diff = (m[0] ^ t[0]) | (m[1] ^ t[1]) | (m[2] ^ t[2]) | (m[3] ^ t[3]);
	return (diff[0] | diff[1]) == 0;
}

static uint64_t hash_tuple(const struct dedup *d, const struct ptb_info *info)
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

uint64_t dedup_fingerprint(struct dedup *d, const struct ptb_info *info)
{
	struct dedup_memo *m;
	pmtud_u64x2 t[4];
	unsigned set;

	tuple_words(info, t);
	set = memo_set(t);
	m = &d->memo[2 * set];
	if (words_eq(m[0].w, t))
		return m[0].fp;
	if (words_eq(m[1].w, t))
		return m[1].fp;
	/* A hit writes nothing; a miss replaces the ways in turn. */
	m += d->memo_next[set];
	d->memo_next[set] ^= 1;
	memcpy(m->w, t, sizeof(m->w));
	m->fp = hash_tuple(d, info);
	return m->fp;
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
