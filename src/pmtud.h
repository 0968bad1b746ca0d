/* pmtud.h - types and constants shared by every module of pmtud-nf.
 *
 * Contract: plain data only; no module state lives here.
 */
#ifndef PMTUD_H
#define PMTUD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* Exit codes, documented in README.md and pmtud-nf(8). */
enum pmtud_exit {
	EXIT_OK = 0,		/* clean stop; --check-config: valid */
	EXIT_CONFIG = 1,	/* invalid config file or command line */
	EXIT_RULES = 2,		/* nftables table could not be installed */
	EXIT_INPUT = 3,		/* NFLOG/NFQUEUE bind failed (e.g. group busy) */
	EXIT_OUTPUT = 4,	/* forwarding socket could not be opened */
	EXIT_RUNTIME = 5,	/* fatal error while running */
};

/* Two 64-bit words moved as one 16-byte access (GCC/clang vector
 * extension). An address the classifier writes and dedup reads back at
 * once must be stored and loaded at the same width: a load that spans
 * two smaller stores is not forwarded from them and stalls until they
 * reach the cache, once per PTB. Moved with memcpy(): no alignment is
 * assumed. */
typedef uint64_t pmtud_u64x2 __attribute__((vector_size(16)));

/* An IPv4 or IPv6 address. Family is AF_INET or AF_INET6. IPv4 is
 * kept in the first 4 bytes of a, the rest zero, so that a key built
 * from it is the same however it was parsed. */
struct pmtud_addr {
	uint8_t family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t a[16];
	};
};

#define PMTUD_ADDRSTRLEN 46	/* INET6_ADDRSTRLEN */

/* An address prefix ("vips"): addr with every bit past len zero (the
 * config parser refuses host bits), len 0..32 or 0..128. */
struct pmtud_prefix {
	struct pmtud_addr addr;
	uint8_t len;
};

#define PMTUD_PREFIXSTRLEN (PMTUD_ADDRSTRLEN + 4)	/* "addr/128" */

/* Parse "192.0.2.1" or "2001:db8::1"; 0 on success, -1 otherwise. */
int pmtud_addr_parse(struct pmtud_addr *out, const char *s);
/* Format into buf (at least PMTUD_ADDRSTRLEN bytes); returns buf. */
const char *pmtud_addr_str(const struct pmtud_addr *a, char *buf);
bool pmtud_addr_eq(const struct pmtud_addr *x, const struct pmtud_addr *y);
/* a lies in p (same family, first p->len bits equal). */
bool pmtud_prefix_has(const struct pmtud_prefix *p, const struct pmtud_addr *a);

#endif
