/* siphash.h - SipHash-2-4 (Aumasson & Bernstein), 64-bit output.
 * Keyed hash for the rate-limit table: collisions cannot be aimed
 * without the key. */
#ifndef PMTUD_SIPHASH_H
#define PMTUD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const void *data, size_t len, const uint8_t key[16]);

/* Fill key with given (16 bytes: tests), or with getrandom() when given
 * is NULL. 0, or -1 with errno set. */
int siphash_key_init(uint8_t key[16], const uint8_t given[16]);

#endif
