/* addr.c - IPv4/IPv6 address helpers shared by config, classifier, logs. */
#include "config.h"
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include "pmtud.h"

int pmtud_addr_parse(struct pmtud_addr *out, const char *s)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->v4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &out->v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -1;
}

const char *pmtud_addr_str(const struct pmtud_addr *a, char *buf)
{
	if (!inet_ntop(a->family, a->a, buf, PMTUD_ADDRSTRLEN))
		strcpy(buf, "?");
	return buf;
}

bool pmtud_addr_eq(const struct pmtud_addr *x, const struct pmtud_addr *y)
{
	size_t n = x->family == AF_INET ? 4 : 16;

	return x->family == y->family && memcmp(x->a, y->a, n) == 0;
}

/* Whole bytes first, then the remaining high bits of the next one. A
 * length past the family's (never from the config) matches nothing. */
bool pmtud_prefix_has(const struct pmtud_prefix *p, const struct pmtud_addr *a)
{
	unsigned bytes = p->len / 8, bits = p->len % 8;
	uint8_t mask;

	if (p->addr.family != a->family ||
	    p->len > (a->family == AF_INET ? 32 : 128) ||
	    memcmp(p->addr.a, a->a, bytes) != 0)
		return false;
	if (!bits)
		return true;
	mask = (uint8_t)(0xff << (8 - bits));
	return ((p->addr.a[bytes] ^ a->a[bytes]) & mask) == 0;
}
