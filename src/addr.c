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
