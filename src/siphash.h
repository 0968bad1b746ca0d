/* siphash.h - SipHash-2-4 (Aumasson & Bernstein), 64-bit output.
 * Keyed hash for the rate-limit table: collisions cannot be aimed
 * without the key. */
#ifndef PMTUD_SIPHASH_H
#define PMTUD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const void *data, size_t len, const uint8_t key[16]);

#endif
