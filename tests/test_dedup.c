/* test_dedup.c - the duplicate filter (dedup.c), on a simulated clock.
 *
 * Proves: an identical PTB within the window is seen, one at or after
 * the window's end is not; a duplicate does not extend the window; a
 * PTB differing in MTU, router, quoted source/destination, protocol or
 * either port is a different one; window 0 is off; a reload keeps the
 * entries; the table's size is fixed (no allocation: it is one
 * struct) and it keeps working after 10^6 distinct tuples, the latest
 * ones still found; fingerprints depend on the key only through
 * SipHash (two keys disagree, one key is stable); the memo in front
 * of the hash returns what a table without it would.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "dedup.h"

#include "unit.h"

#define MS	1000000ULL
#define SEC	1000000000ULL
#define T0	(1000 * SEC)	/* an arbitrary monotonic start */

static const uint8_t key[16] = "0123456789abcdef";

static struct dedup d;	/* 64 KiB: off the stack */

static void ptb4(struct ptb_info *p, uint32_t client)
{
	memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	if (pmtud_addr_parse(&p->outer_src, "192.0.2.1") < 0 ||
	    pmtud_addr_parse(&p->outer_dst, "203.0.113.80") < 0)
		abort();
	p->quoted_src = p->outer_dst;
	p->quoted_dst.family = AF_INET;
	p->quoted_dst.a[0] = 198;
	p->quoted_dst.a[1] = (uint8_t)(client >> 16);
	p->quoted_dst.a[2] = (uint8_t)(client >> 8);
	p->quoted_dst.a[3] = (uint8_t)client;
	p->quoted_proto = 6;
	p->has_ports = true;
	p->quoted_sport = 8080;
	p->quoted_dport = 40000;
	p->mtu = 1280;
}

/* seen, then record (what the agent does for a copy it sends). */
static bool offer(const struct ptb_info *p, uint64_t now)
{
	uint64_t fp = dedup_fingerprint(&d, p);

	if (dedup_seen(&d, fp, now))
		return false;
	dedup_record(&d, fp, now);
	return true;
}

static void test_window(void)
{
	struct ptb_info p;

	CHECK(dedup_init(&d, 1.0, key) == 0);
	ptb4(&p, 7);
	CHECK(offer(&p, T0));
	CHECK(!offer(&p, T0));			/* same instant */
	CHECK(!offer(&p, T0 + 20 * MS));	/* 5 within 100 ms: one copy */
	CHECK(!offer(&p, T0 + 50 * MS));
	CHECK(!offer(&p, T0 + 99 * MS));
	CHECK(!offer(&p, T0 + SEC - 1));	/* last ns of the window */
	CHECK(offer(&p, T0 + SEC));		/* window over */
	/* A duplicate does not extend the window: steady repetition
	 * every 0.5 s is relayed once per second. */
	CHECK(!offer(&p, T0 + SEC + SEC / 2));
	CHECK(offer(&p, T0 + 2 * SEC));
	/* A clock going back finds the entry still live. */
	CHECK(!offer(&p, T0));
}

static void test_fields(void)
{
	struct ptb_info base, p;

	CHECK(dedup_init(&d, 1.0, key) == 0);
	ptb4(&base, 1);
	CHECK(offer(&base, T0));
	p = base; p.mtu = 1400;
	CHECK(offer(&p, T0));			/* other MTU */
	p = base; p.quoted_dport = 40001;
	CHECK(offer(&p, T0));			/* other client port */
	p = base; p.quoted_sport = 443;
	CHECK(offer(&p, T0));			/* other service port */
	p = base; p.quoted_proto = 17;
	CHECK(offer(&p, T0));			/* other protocol */
	p = base; p.outer_src.a[3] = 2;
	CHECK(offer(&p, T0));			/* other router */
	p = base; p.quoted_src.a[3] = 81;
	CHECK(offer(&p, T0));			/* other quoted source */
	ptb4(&p, 2);
	CHECK(offer(&p, T0));			/* other client */
	p = base; p.family = AF_INET6;
	CHECK(offer(&p, T0));			/* same bytes, other family */
	/* Fields outside the tuple do not count. */
	p = base; p.outer_dst.a[3] = 99;
	CHECK(!offer(&p, T0));
	CHECK(!offer(&base, T0 + MS));
}

static void test_off_and_reload(void)
{
	struct ptb_info p;

	CHECK(dedup_init(&d, 0, key) == 0);
	ptb4(&p, 3);
	for (int i = 0; i < 5; i++)
		CHECK(offer(&p, T0 + (uint64_t)i * MS));	/* off: all pass */
	/* Reload to 2 s: entries recorded from now on last 2 s. */
	dedup_set_window(&d, 2.0);
	CHECK(offer(&p, T0));
	CHECK(!offer(&p, T0 + SEC + SEC / 2));
	/* Reload to 0.1 s: the live entry keeps its expiry (T0 + 2 s). */
	dedup_set_window(&d, 0.1);
	CHECK(!offer(&p, T0 + SEC + SEC / 2));
	CHECK(offer(&p, T0 + 2 * SEC));
	CHECK(!offer(&p, T0 + 2 * SEC + 99 * MS));
	CHECK(offer(&p, T0 + 2 * SEC + 100 * MS));
	/* Off again: nothing is a duplicate any more. */
	dedup_set_window(&d, 0);
	CHECK(offer(&p, T0 + 2 * SEC + 101 * MS));
	/* Windows are capped at one hour, NaN/negative mean off. */
	CHECK(dedup_init(&d, 1e12, key) == 0 && d.window_ns == 3600 * SEC);
	CHECK(dedup_init(&d, -1, key) == 0 && d.window_ns == 0);
}

static void test_memory(void)
{
	const size_t size = sizeof(struct dedup);
	struct ptb_info p;
	unsigned found = 0;
	uint32_t i;

	CHECK(size < 70 * 1024);		/* 4096 x 16 bytes + header */
	CHECK(dedup_init(&d, 60.0, key) == 0);
	/* 10^6 distinct tuples, all within one window: the table keeps
	 * its size (a struct cannot grow) and evicts, never fails. */
	for (i = 0; i < 1000000; i++) {
		ptb4(&p, i);
		CHECK(offer(&p, T0 + i));
	}
	ptb4(&p, 999999);
	CHECK(!offer(&p, T0 + i));		/* the latest is there */
	/* Of the last 256, most are still there (2-way sets of 2048). */
	for (i = 1000000 - 256; i < 1000000; i++) {
		ptb4(&p, i);
		found += dedup_seen(&d, dedup_fingerprint(&d, &p), T0 + 1000000);
	}
	printf("# after 1e6 tuples: %u of the last 256 still found, %zu bytes\n",
	       found, size);
	CHECK(found >= 240);
	CHECK(sizeof(d) == size);
}

static void test_key(void)
{
	static struct dedup other;
	const uint8_t key2[16] = "fedcba9876543210";
	struct ptb_info p;

	ptb4(&p, 5);
	CHECK(dedup_init(&d, 1.0, key) == 0);
	CHECK(dedup_init(&other, 1.0, key2) == 0);
	CHECK(dedup_fingerprint(&d, &p) == dedup_fingerprint(&d, &p));
	CHECK(dedup_fingerprint(&d, &p) != dedup_fingerprint(&other, &p));
	CHECK(dedup_init(&other, 1.0, NULL) == 0);	/* getrandom */
	CHECK(dedup_fingerprint(&d, &p) != dedup_fingerprint(&other, &p));
}

/* The memo in front of SipHash returns exactly what a table without
 * it does: tuples cycled through (more than fit, alternating, and
 * repeated), each fingerprint checked against a fresh table's. */
static void test_memo(void)
{
	static struct dedup fresh;
	struct ptb_info p;
	unsigned i, bad = 0;

	CHECK(dedup_init(&d, 1.0, key) == 0);
	for (i = 0; i < 20000; i++) {
		uint32_t client = (i % 3 == 0) ? i % 7 : (i % 5 == 0 ? i : i % 97);

		ptb4(&p, client);
		if (i & 1) {		/* the same numbers as IPv6 */
			p.family = AF_INET6;
			p.quoted_dst.family = AF_INET6;
		}
		CHECK(dedup_init(&fresh, 1.0, key) == 0);
		if (dedup_fingerprint(&d, &p) != dedup_fingerprint(&fresh, &p))
			bad++;
	}
	CHECK(bad == 0);
	/* Two tuples differing only in the MTU, in turn: never mixed up. */
	ptb4(&p, 1);
	uint64_t a = dedup_fingerprint(&d, &p);

	p.mtu = 1281;
	uint64_t b = dedup_fingerprint(&d, &p);

	for (i = 0; i < 100; i++) {
		p.mtu = 1280 + (i & 1);
		if (dedup_fingerprint(&d, &p) != (i & 1 ? b : a))
			bad++;
	}
	CHECK(a != b && bad == 0);
}

int main(void)
{
	test_window();
	test_fields();
	test_off_and_reload();
	test_memory();
	test_key();
	test_memo();
	return unit_result("test_dedup");
}
