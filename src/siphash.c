/* siphash.c - SipHash-2-4, from "SipHash: a fast short-input PRF"
 * (Aumasson, Bernstein, 2012): 2 compression rounds per 8-byte word,
 * 4 finalization rounds, 64-bit output. Words are read little-endian
 * whatever the host, so the hash is the same everywhere. */
#include "config.h"
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include "siphash.h"

int siphash_key_init(uint8_t key[16], const uint8_t given[16])
{
	size_t got = 0;
	ssize_t n;

	if (given) {
		memcpy(key, given, 16);
		return 0;
	}
	while (got < 16) {
		n = getrandom(key + got, 16 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 |
	       (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	       (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl64(s->v2, 32);
}

static inline void sip_compress(struct sip_state *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

uint64_t siphash24(const void *data, size_t len, const uint8_t key[16])
{
	const uint8_t *p = data;
	const uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	struct sip_state s = {
		.v0 = k0 ^ 0x736f6d6570736575ULL,	/* "somepseu" */
		.v1 = k1 ^ 0x646f72616e646f6dULL,	/* "dorandom" */
		.v2 = k0 ^ 0x6c7967656e657261ULL,	/* "lygenera" */
		.v3 = k1 ^ 0x7465646279746573ULL,	/* "tedbytes" */
	};
	size_t left = len;
	uint64_t last;
	int i;

	for (; left >= 8; left -= 8, p += 8)
		sip_compress(&s, load_le64(p));

	/* Final word: the remaining 0..7 bytes, length mod 256 on top. */
	last = (uint64_t)(len & 0xff) << 56;
	for (i = (int)left - 1; i >= 0; i--)
		last |= (uint64_t)p[i] << (8 * i);
	sip_compress(&s, last);

	s.v2 ^= 0xff;
	for (i = 0; i < 4; i++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
