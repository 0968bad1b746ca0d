/* test_classify.c - unit tests for the PTB classifier.
 *
 * Packets are built from field values with pktbuild.h. Every packet
 * handed to classify_packet() is copied into a heap block of exactly
 * its length, so under ASan any read past the end aborts the test.
 * Exit status: 0 all passed, 1 some failed (automake protocol).
 */
#include "config.h"
#include <linux/if_ether.h>
#include <net/if_arp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "classify.h"
#include "classify_memo.h"
#include "classify_order.h"
#include "peerset.h"
#include "pktbuild.h"

static unsigned n_run, n_failed;
/* Every classification is also made in two steps, as the agent makes
 * it: calls and disagreements, reported by test_split(). */
static unsigned n_split, n_split_bad;
/* ... and through a memo of the packets classify_headers() passed
 * under the same policy (classify_memo.h): hits, and hits that are
 * not what classify_headers() says, reported by test_memo_agree(). */
static unsigned n_memo_hit, n_memo_bad;

static void ok(bool cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	n_run++;
	if (!cond)
		n_failed++;
	printf("%sok %u - ", cond ? "" : "not ", n_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Does classify_headers() + classify_checksum() say what r, info said?
 * A PTB the headers pass is r exactly when its checksum is right, else
 * r is bad_checksum; one they refuse has their reason, or, when the
 * full check stopped at a wrong checksum first, a reason of a later
 * check. */
static bool split_agrees(const struct classify_policy *pol,
			 const uint8_t *b, size_t len,
			 const struct pkt_meta *meta,
			 enum classify_reason r, const struct ptb_info *info)
{
	struct ptb_info h;
	enum classify_reason rh = classify_headers(pol, b, len, meta, &h);

	if (rh == REASON_FORWARD) {
		enum classify_reason rc = classify_checksum(b, &h);

		return rc == r && (rc != REASON_FORWARD ||
				   memcmp(&h, info, sizeof(h)) == 0);
	}
	return (r == REASON_BAD_CHECKSUM && after_checksum(rh)) ||
	       (rh == r && memcmp(&h, info, sizeof(h)) == 0);
}

/* A policy by its contents (the tests edit policies in place): FNV-1a
 * over its fields and lists, all free of padding. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t policy_key(const struct classify_policy *pol)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint32_t v[6] = { pol->n_ports, pol->min_mtu4, pol->max_mtu,
			  pol->n_deny_src, pol->n_vips, pol->any_dst };

	h = fnv(h, v, sizeof(v));
	if (pol->n_ports)
		h = fnv(h, pol->ports, pol->n_ports * sizeof(*pol->ports));
	if (pol->n_deny_src)
		h = fnv(h, pol->deny_src, pol->n_deny_src * sizeof(*pol->deny_src));
	if (pol->n_vips)
		h = fnv(h, pol->vips, pol->n_vips * sizeof(*pol->vips));
	return h;
}

/* One memo per policy, the last few policies. */
static struct classify_memo *memo_for(const struct classify_policy *pol)
{
	static struct {
		uint64_t key;
		struct classify_memo memo;
	} m[8];
	static unsigned next;
	uint64_t key = policy_key(pol);
	unsigned i;

	for (i = 0; i < 8; i++)
		if (m[i].key == key)
			return &m[i].memo;
	i = next++ % 8;
	m[i].key = key;
	classify_memo_clear(&m[i].memo);
	return &m[i].memo;
}

/* A memo hit must be a packet classify_headers() passes, with the same
 * result; a packet it passes is then kept. */
static void memo_agrees(const struct classify_policy *pol, const uint8_t *b,
			size_t len, const struct pkt_meta *meta)
{
	struct classify_memo *memo = memo_for(pol);
	const struct classify_memo_entry *e = classify_memo_find(memo, b, len, meta);
	struct ptb_info h;
	enum classify_reason rh = classify_headers(pol, b, len, meta, &h);

	if (e) {
		n_memo_hit++;
		if ((rh != REASON_FORWARD || memcmp(&e->info, &h, sizeof(h)) != 0) &&
		    n_memo_bad++ < 5)
			printf("# memo hit, but classify_headers: %s\n",
			       classify_reason_name(rh));
	}
	if (rh == REASON_FORWARD)
		classify_memo_store(memo, b, len, meta, &h, 0);
}

/* Classify a private, exactly sized copy of pkt (and of the hwhdr),
 * both ways. */
static enum classify_reason run_raw(const struct classify_policy *pol,
				    const uint8_t *b, size_t len,
				    const struct pkt_meta *meta,
				    struct ptb_info *info)
{
	uint8_t *copy = malloc(len ? len : 1), *hw = NULL;
	struct pkt_meta m;
	enum classify_reason r;

	if (!copy)
		abort();
	memcpy(copy, b, len);
	if (meta) {
		m = *meta;
		if (meta->hwhdr) {
			hw = malloc(meta->hwhdr_len ? meta->hwhdr_len : 1);
			if (!hw)
				abort();
			memcpy(hw, meta->hwhdr, meta->hwhdr_len);
			m.hwhdr = hw;
		}
	}
	r = classify_packet(pol, copy, len, meta ? &m : NULL, info);
	n_split++;
	if (!split_agrees(pol, copy, len, meta ? &m : NULL, r, info) &&
	    n_split_bad++ < 5)
		printf("# two-step classification differs: %s\n",
		       classify_reason_name(r));
	memo_agrees(pol, copy, len, meta ? &m : NULL);
	free(hw);
	free(copy);
	return r;
}

static enum classify_reason run(const struct classify_policy *pol,
				const struct pkt *p,
				const struct pkt_meta *meta,
				struct ptb_info *info)
{
	return run_raw(pol, p->b, p->len, meta, info);
}

static void expect(const struct classify_policy *pol, const struct pkt *p,
		   const struct pkt_meta *meta, enum classify_reason want,
		   const char *what)
{
	struct ptb_info info;
	enum classify_reason got = run(pol, p, meta, &info);

	ok(got == want, "%s: %s (got %s)", what, classify_reason_name(want),
	   classify_reason_name(got));
}

static bool addr_is(const struct pmtud_addr *a, const char *s)
{
	struct pmtud_addr x;

	return pmtud_addr_parse(&x, s) == 0 && pmtud_addr_eq(a, &x);
}

/* Policy without filters: the classifier's structural checks only. */
static const struct classify_policy open_pol = {
	.min_mtu4 = 552, .max_mtu = 9000,
};

static const uint16_t web_ports[] = { 53, 443, 8443 };
static const struct classify_policy web_pol = {
	.ports = web_ports, .n_ports = 3,
	.min_mtu4 = 552, .max_mtu = 9000,
};

/* The reference packets: a router tells our server 203.0.113.10 (or
 * 2001:db8:10::10) that its reply to a client was too big. */
static size_t v4(struct pkt *p, uint8_t proto, uint16_t sport, uint16_t dport)
{
	return pb_ptb4(p, &(struct pb_ptb4){
		.src = "198.51.100.1", .dst = "203.0.113.10", .mtu = 1400,
		.q = { "203.0.113.10", "192.0.2.7", proto, sport, dport },
		.payload = 32,
	});
}

static size_t v6x(struct pkt *p, uint8_t proto, uint16_t sport,
		  uint16_t dport, const struct pb_ext *ext, unsigned n_ext)
{
	return pb_ptb6(p, &(struct pb_ptb6){
		.src = "2001:db8:ffff::1", .dst = "2001:db8:10::10",
		.mtu = 1400,
		.q = { "2001:db8:10::10", "2001:db8:20::7", proto, sport,
		       dport },
		.ext = ext, .n_ext = n_ext, .payload = 32,
	});
}

static size_t v6(struct pkt *p, uint8_t proto, uint16_t sport, uint16_t dport)
{
	return v6x(p, proto, sport, dport, NULL, 0);
}

static void test_valid(void)
{
	struct ptb_info i;
	struct pkt p;
	enum classify_reason r;

	v4(&p, IPPROTO_TCP, 443, 40000);
	r = run(&open_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && i.family == AF_INET &&
	   addr_is(&i.outer_src, "198.51.100.1") &&
	   addr_is(&i.outer_dst, "203.0.113.10") &&
	   addr_is(&i.quoted_src, "203.0.113.10") &&
	   addr_is(&i.quoted_dst, "192.0.2.7") &&
	   i.quoted_proto == IPPROTO_TCP && i.has_ports &&
	   i.quoted_sport == 443 && i.quoted_dport == 40000 &&
	   i.mtu == 1400, "v4 tcp PTB forwarded, all fields parsed");

	v4(&p, IPPROTO_UDP, 53, 5353);
	r = run(&open_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && i.quoted_proto == IPPROTO_UDP &&
	   i.has_ports && i.quoted_sport == 53 && i.quoted_dport == 5353,
	   "v4 udp PTB forwarded with ports");

	v6(&p, IPPROTO_TCP, 443, 40000);
	r = run(&open_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && i.family == AF_INET6 &&
	   addr_is(&i.outer_src, "2001:db8:ffff::1") &&
	   addr_is(&i.outer_dst, "2001:db8:10::10") &&
	   addr_is(&i.quoted_src, "2001:db8:10::10") &&
	   addr_is(&i.quoted_dst, "2001:db8:20::7") &&
	   i.quoted_proto == IPPROTO_TCP && i.has_ports &&
	   i.quoted_sport == 443 && i.quoted_dport == 40000 &&
	   i.mtu == 1400, "v6 tcp PTB forwarded, all fields parsed");

	v6(&p, IPPROTO_UDP, 53, 5353);
	r = run(&open_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && i.quoted_proto == IPPROTO_UDP &&
	   i.quoted_sport == 53 && i.quoted_dport == 5353,
	   "v6 udp PTB forwarded with ports");

	pb_ptb4(&p, &(struct pb_ptb4){
		.src = "198.51.100.1", .dst = "203.0.113.10", .mtu = 1400,
		.q = { "203.0.113.10", "192.0.2.7", IPPROTO_TCP, 443, 1 },
		.outer_opt_words = 1, .quote_opt_words = 10,
	});
	r = run(&open_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && i.quoted_sport == 443 && i.quoted_dport == 1,
	   "v4 with outer IHL 6 and quoted IHL 15: ports found after options");

	static const uint8_t protos[] = {
		IPPROTO_SCTP, IPPROTO_DCCP, IPPROTO_UDPLITE
	};
	for (unsigned k = 0; k < 3; k++) {
		v4(&p, protos[k], 443, 999);
		r = run(&web_pol, &p, NULL, &i);
		ok(r == REASON_FORWARD && i.has_ports &&
		   i.quoted_sport == 443 && i.quoted_dport == 999,
		   "v4 proto %u: ports read", protos[k]);
		v6(&p, protos[k], 443, 999);
		r = run(&web_pol, &p, NULL, &i);
		ok(r == REASON_FORWARD && i.has_ports &&
		   i.quoted_sport == 443 && i.quoted_dport == 999,
		   "v6 proto %u: ports read", protos[k]);
	}

	/* Bytes past the IP total length (e.g. Ethernet padding) are
	 * ignored; and the total length, not the buffer, ends the quote. */
	v4(&p, IPPROTO_TCP, 443, 40000);
	p.len += 64;
	expect(&open_pol, &p, NULL, REASON_FORWARD,
	       "v4 trailing bytes beyond total length ignored");
	v6(&p, IPPROTO_TCP, 443, 40000);
	p.len += 64;
	expect(&open_pol, &p, NULL, REASON_FORWARD,
	       "v6 trailing bytes beyond payload length ignored");
	v4(&p, IPPROTO_TCP, 443, 40000);
	pb_put16(p.b + PB4_TOTLEN, PB4_QUOTE + 20 + 7);
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_QUOTE_TRUNCATED,
	       "v4 total length cutting the quoted L4 wins over buffer length");
	v6(&p, IPPROTO_TCP, 443, 40000);
	pb_put16(p.b + PB6_PLEN, 8 + 40 + 7);
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_QUOTE_TRUNCATED,
	       "v6 payload length cutting the quoted L4 wins over buffer");
}

static void test_names(void)
{
	static const char *const want[REASON_MAX] = {
		"forward", "truncated", "bad_ip", "fragment", "not_icmp",
		"not_ptb", "bad_mtu", "quote_truncated", "quote_bad",
		"quote_exthdr", "quote_proto", "port_filtered",
		"dst_mismatch", "l2_broadcast", "denied_source", "not_vip",
		"bad_checksum", "oversized",
	};
	bool good = true;

	for (int r = 0; r < REASON_MAX; r++)
		good &= strcmp(classify_reason_name(r), want[r]) == 0;
	ok(good, "reason names are the stable documented names");
	ok(strcmp(classify_reason_name(REASON_MAX), "unknown") == 0 &&
	   strcmp(classify_reason_name((enum classify_reason)-1),
		  "unknown") == 0, "out-of-range reason is \"unknown\"");
}

static void test_format(void)
{
	struct ptb_info i;
	struct pkt p;
	char buf[256];
	int n;

	v4(&p, IPPROTO_TCP, 80, 40000);
	run(&open_pol, &p, NULL, &i);
	n = classify_format(&i, buf, sizeof(buf));
	ok(n > 0 && strcmp(buf, "198.51.100.1 -> 203.0.113.10 mtu 1400 "
		   "quoting tcp 203.0.113.10:80 -> 192.0.2.7:40000") == 0,
	   "format v4: %s", buf);

	v6(&p, IPPROTO_UDP, 53, 5353);
	run(&open_pol, &p, NULL, &i);
	classify_format(&i, buf, sizeof(buf));
	ok(strcmp(buf, "2001:db8:ffff::1 -> 2001:db8:10::10 mtu 1400 "
		   "quoting udp [2001:db8:10::10]:53 -> "
		   "[2001:db8:20::7]:5353") == 0, "format v6: %s", buf);

	v4(&p, IPPROTO_GRE, 0, 0);
	run(&open_pol, &p, NULL, &i);
	classify_format(&i, buf, sizeof(buf));
	ok(strcmp(buf, "198.51.100.1 -> 203.0.113.10 mtu 1400 "
		   "quoting gre 203.0.113.10 -> 192.0.2.7") == 0,
	   "format without ports: %s", buf);

	v4(&p, 253, 0, 0);
	run(&open_pol, &p, NULL, &i);
	classify_format(&i, buf, sizeof(buf));
	ok(strstr(buf, "quoting proto 253 ") != NULL,
	   "format unnamed protocol by number: %s", buf);

	n = classify_format(&i, buf, 8);
	ok(n > 8 && strlen(buf) == 7, "format truncates safely to buffer");

	memset(&i, 0, sizeof(i));
	classify_format(&i, buf, sizeof(buf));
	ok(strcmp(buf, "(not parsed)") == 0, "format of empty info");
}

static void test_l2(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t ucast[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint16_t q1[] = { ETH_P_8021Q };
	static const uint16_t qinq[] = { ETH_P_8021AD, ETH_P_8021Q };
	static const uint16_t q3[] = { ETH_P_8021AD, ETH_P_8021Q,
				       ETH_P_8021Q };
	struct pkt_meta m = { .hwtype = ARPHRD_ETHER, .ifindex = 2 };
	uint8_t hw[32];
	struct pkt p4, p6;

	v4(&p4, IPPROTO_TCP, 443, 40000);
	v6(&p6, IPPROTO_TCP, 443, 40000);
	m.hwhdr = hw;

	expect(&open_pol, &p4, NULL, REASON_FORWARD, "no meta at all");
	expect(&open_pol, &p4, &(struct pkt_meta){ 0 }, REASON_FORWARD,
	       "meta without hwhdr");

	m.hwhdr_len = pb_eth(hw, ucast, NULL, 0, ETH_P_IP);
	expect(&open_pol, &p4, &m, REASON_FORWARD, "unicast Ethernet v4");
	m.hwhdr_len = pb_eth(hw, ucast, q1, 1, ETH_P_IP);
	expect(&open_pol, &p4, &m, REASON_FORWARD, "802.1Q tagged v4");
	m.hwhdr_len = pb_eth(hw, ucast, qinq, 2, ETH_P_IPV6);
	expect(&open_pol, &p6, &m, REASON_FORWARD, "802.1ad+802.1Q tagged v6");

	m.hwhdr_len = pb_eth(hw, ucast, NULL, 0, ETH_P_IPV6);
	expect(&open_pol, &p4, &m, REASON_BAD_IP,
	       "EtherType IPv6 carrying IPv4");
	m.hwhdr_len = pb_eth(hw, ucast, qinq, 2, ETH_P_IP);
	expect(&open_pol, &p6, &m, REASON_BAD_IP,
	       "EtherType IPv4 behind two tags carrying IPv6");
	m.hwhdr_len = pb_eth(hw, ucast, q3, 3, ETH_P_IPV6);
	expect(&open_pol, &p4, &m, REASON_FORWARD,
	       "third VLAN tag: EtherType unknown, not compared");
	m.hwhdr_len = pb_eth(hw, ucast, q1, 1, ETH_P_IPV6) - 2;
	expect(&open_pol, &p4, &m, REASON_FORWARD,
	       "hwhdr cut inside a tag: EtherType unknown");
	m.hwhdr_len = 0;
	m.hw_protocol = ETH_P_IPV6;
	expect(&open_pol, &p4, &m, REASON_BAD_IP,
	       "hw_protocol IPv6 carrying IPv4");
	m.hw_protocol = ETH_P_IP;
	expect(&open_pol, &p4, &m, REASON_FORWARD, "hw_protocol IPv4 agrees");
	m.hw_protocol = 0;

	m.hwhdr_len = pb_eth(hw, bcast, NULL, 0, ETH_P_IP);
	expect(&open_pol, &p4, &m, REASON_L2_BROADCAST,
	       "Ethernet broadcast copy (ARPHRD_ETHER)");
	m.hwtype = 0;
	expect(&open_pol, &p6, &m, REASON_L2_BROADCAST,
	       "Ethernet broadcast copy (hwtype unknown), checked first");
	m.hwhdr_len = pb_eth(hw, bcast, qinq, 2, ETH_P_IPV6);
	expect(&open_pol, &p6, &m, REASON_L2_BROADCAST,
	       "tagged Ethernet broadcast copy");
	m.hwhdr_len = pb_eth(hw, bcast, q1, 1, ETH_P_IP) - 3;
	expect(&open_pol, &p4, &m, REASON_L2_BROADCAST,
	       "broadcast hwhdr cut inside a tag");
	memset(hw, 0xff, sizeof(hw));
	m.hwhdr_len = 13;
	expect(&open_pol, &p4, &m, REASON_FORWARD,
	       "13-byte all-ones hwhdr is ignored, not read");
	m.hwhdr_len = 14;
	m.hwtype = ARPHRD_IPGRE;
	expect(&open_pol, &p4, &m, REASON_FORWARD,
	       "non-Ethernet hwtype: hwhdr not taken as Ethernet");
}

static void test_v6_quote_ext(void)
{
	static const struct pb_ext hbh_dst[] = {
		{ IPPROTO_HOPOPTS, 0, 0, 0 }, { IPPROTO_DSTOPTS, 1, 0, 0 },
	};
	static const struct pb_ext rt[] = { { IPPROTO_ROUTING, 2, 0, 0 } };
	static const struct pb_ext frag0[] = {
		{ IPPROTO_FRAGMENT, 0, 0, true },
	};
	static const struct pb_ext frag_n[] = {
		{ IPPROTO_FRAGMENT, 0, 185, false },
	};
	static const struct pb_ext ah[] = { { IPPROTO_AH, 4, 0, 0 } };
	static const struct pb_ext all[] = {
		{ IPPROTO_HOPOPTS, 0, 0, 0 }, { IPPROTO_DSTOPTS, 0, 0, 0 },
		{ IPPROTO_ROUTING, 0, 0, 0 }, { IPPROTO_FRAGMENT, 0, 0, 1 },
		{ IPPROTO_AH, 1, 0, 0 }, { IPPROTO_DSTOPTS, 0, 0, 0 },
	};
	static const struct pb_ext late_hbh[] = {
		{ IPPROTO_DSTOPTS, 0, 0, 0 }, { IPPROTO_HOPOPTS, 0, 0, 0 },
	};
	struct pb_ext many[9];
	struct ptb_info i;
	struct pkt p;
	enum classify_reason r;

	for (unsigned k = 0; k < 9; k++)
		many[k] = (struct pb_ext){ IPPROTO_DSTOPTS, 0, 0, 0 };

	v6x(&p, IPPROTO_TCP, 443, 40000, hbh_dst, 2);
	r = run(&web_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && i.quoted_sport == 443 &&
	   i.quoted_dport == 40000 && i.quoted_proto == IPPROTO_TCP,
	   "v6 quote hop-by-hop + dstopts(16 bytes) walked to tcp ports");
	v6x(&p, IPPROTO_UDP, 53, 7, rt, 1);
	r = run(&web_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && i.quoted_sport == 53 && i.quoted_dport == 7,
	   "v6 quote routing header walked to udp ports");
	v6x(&p, IPPROTO_TCP, 443, 40000, frag0, 1);
	r = run(&web_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && i.quoted_sport == 443 &&
	   i.quoted_dport == 40000,
	   "v6 quote first fragment (offset 0, M=1): ports read");
	v6x(&p, IPPROTO_TCP, 443, 40000, frag_n, 1);
	expect(&open_pol, &p, NULL, REASON_QUOTE_EXTHDR,
	       "v6 quote non-first fragment (offset 185): no L4 header");
	v6x(&p, IPPROTO_TCP, 443, 40000, ah, 1);
	r = run(&web_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && i.quoted_sport == 443 &&
	   i.quoted_dport == 40000,
	   "v6 quote AH (len 4 = 24 bytes) walked to tcp ports");
	v6x(&p, IPPROTO_UDP, 8443, 9, all, 6);
	r = run(&web_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && i.quoted_sport == 8443 &&
	   i.quoted_dport == 9, "v6 quote six mixed ext headers walked");
	v6x(&p, IPPROTO_TCP, 443, 40000, late_hbh, 2);
	expect(&open_pol, &p, NULL, REASON_QUOTE_EXTHDR,
	       "v6 quote hop-by-hop not first");
	v6x(&p, IPPROTO_TCP, 443, 40000, many, 8);
	expect(&web_pol, &p, NULL, REASON_FORWARD,
	       "v6 quote 8 ext headers (the cap) walked");
	v6x(&p, IPPROTO_TCP, 443, 40000, many, 9);
	expect(&open_pol, &p, NULL, REASON_QUOTE_EXTHDR,
	       "v6 quote 9 ext headers: beyond the cap");

	/* A destination options header claiming 8 * 201 bytes. */
	v6x(&p, IPPROTO_TCP, 443, 40000, hbh_dst, 2);
	p.b[PB6_QUOTE + 40 + 8 + 1] = 200;
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_QUOTE_TRUNCATED,
	       "v6 quote ext header longer than the quote");
	v6x(&p, IPPROTO_NONE, 0, 0, hbh_dst + 1, 1);
	p.b[PB6_QUOTE + 40 + 1] = 200;
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_QUOTE_TRUNCATED,
	       "v6 quote ext header past the quote, then no-next-header");

	v6(&p, IPPROTO_ESP, 0, 0);
	expect(&web_pol, &p, NULL, REASON_QUOTE_PROTO,
	       "v6 quote ESP with port filter");
	r = run(&open_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && !i.has_ports && i.quoted_proto == IPPROTO_ESP,
	   "v6 quote ESP without filter: forwarded without ports");
	v6(&p, IPPROTO_NONE, 0, 0);
	expect(&web_pol, &p, NULL, REASON_QUOTE_PROTO,
	       "v6 quote no-next-header with port filter");
	r = run(&open_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && !i.has_ports, "v6 quote no-next-header "
	   "without filter: forwarded without ports");
	p.len = PB6_QUOTE + 40;
	pb_put16(p.b + PB6_PLEN, 8 + 40);
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_FORWARD,
	       "v6 quote no-next-header needs no L4 bytes");
	v6(&p, IPPROTO_MH, 0, 0);
	expect(&web_pol, &p, NULL, REASON_QUOTE_PROTO,
	       "v6 quote unknown header (mobility) with port filter");
}

static void test_v6_outer_ext(void)
{
	static const struct pb_ext hbh[] = { { IPPROTO_HOPOPTS, 0, 0, 0 } };
	static const struct pb_ext rt_dst[] = {
		{ IPPROTO_ROUTING, 0, 0, 0 }, { IPPROTO_DSTOPTS, 1, 0, 0 },
	};
	static const struct pb_ext frag[] = {
		{ IPPROTO_FRAGMENT, 0, 0, true },
	};
	static const struct pb_ext ah[] = { { IPPROTO_AH, 1, 0, 0 } };
	static const struct pb_ext late_hbh[] = {
		{ IPPROTO_DSTOPTS, 0, 0, 0 }, { IPPROTO_HOPOPTS, 0, 0, 0 },
	};
	struct pb_ext many[9];
	struct pb_ptb6 o = {
		.src = "2001:db8:ffff::1", .dst = "2001:db8:10::10",
		.mtu = 1280,
		.q = { "2001:db8:10::10", "2001:db8:20::7", IPPROTO_TCP,
		       443, 40000 },
	};
	struct ptb_info i;
	struct pkt p;
	enum classify_reason r;

	for (unsigned k = 0; k < 9; k++)
		many[k] = (struct pb_ext){ IPPROTO_DSTOPTS, 0, 0, 0 };
	o.outer_ext = hbh;
	o.n_outer_ext = 1;
	pb_ptb6(&p, &o);
	r = run(&web_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && i.quoted_sport == 443 && i.mtu == 1280,
	   "v6 outer hop-by-hop before ICMPv6 walked");
	o.outer_ext = rt_dst;
	o.n_outer_ext = 2;
	pb_ptb6(&p, &o);
	expect(&web_pol, &p, NULL, REASON_FORWARD,
	       "v6 outer routing + dstopts walked");
	o.outer_ext = frag;
	o.n_outer_ext = 1;
	pb_ptb6(&p, &o);
	expect(&web_pol, &p, NULL, REASON_FRAGMENT,
	       "v6 outer fragment header");
	o.outer_ext = ah;
	pb_ptb6(&p, &o);
	expect(&web_pol, &p, NULL, REASON_NOT_ICMP,
	       "v6 outer AH: not walked, not ICMPv6");
	o.outer_ext = late_hbh;
	o.n_outer_ext = 2;
	pb_ptb6(&p, &o);
	expect(&web_pol, &p, NULL, REASON_BAD_IP,
	       "v6 outer hop-by-hop not first");
	o.outer_ext = many;
	o.n_outer_ext = 8;
	pb_ptb6(&p, &o);
	expect(&web_pol, &p, NULL, REASON_FORWARD,
	       "v6 outer 8 dstopts headers (the cap) walked");
	o.n_outer_ext = 9;
	pb_ptb6(&p, &o);
	expect(&web_pol, &p, NULL, REASON_NOT_ICMP,
	       "v6 outer 9 dstopts headers: beyond the cap");
	o.outer_ext = hbh;
	o.n_outer_ext = 1;
	pb_ptb6(&p, &o);
	p.b[41] = 10;		/* hop-by-hop claims 88 bytes */
	expect(&web_pol, &p, NULL, REASON_TRUNCATED,
	       "v6 outer ext header past payload length");
}

/* Every proper prefix of a valid packet is dropped (never forwarded);
 * and with the length field shrunk to match, the packet is forwarded
 * exactly from the documented minimum (headers + 8 bytes of L4). */
static void test_truncation(const char *name, const struct pkt *full,
			    size_t min_ok)
{
	bool never = true, boundary = true;
	struct ptb_info i;
	struct pkt p;

	for (size_t l = 0; l < full->len; l++) {
		enum classify_reason r = run_raw(&open_pol, full->b, l, NULL,
						 &i);
		if (r == REASON_FORWARD) {
			never = false;
			printf("# %s: forwarded at length %zu\n", name, l);
		}
	}
	ok(never, "%s: every truncation 0..%zu dropped", name, full->len - 1);

	for (size_t l = 0; l <= full->len; l++) {
		enum classify_reason r;

		p = *full;
		p.len = l;
		if (p.b[0] >> 4 == 4)
			pb_put16(p.b + PB4_TOTLEN, (uint16_t)l);
		else if (l >= 40)
			pb_put16(p.b + PB6_PLEN, (uint16_t)(l - 40));
		pb_fix(&p);
		r = run(&open_pol, &p, NULL, &i);
		if ((r == REASON_FORWARD) != (l >= min_ok)) {
			boundary = false;
			printf("# %s: length %zu -> %s\n", name, l,
			       classify_reason_name(r));
		}
	}
	ok(boundary, "%s: consistent length L forwarded iff L >= %zu",
	   name, min_ok);
}

static void test_truncations(void)
{
	static const struct pb_ext hbh_dst[] = {
		{ IPPROTO_HOPOPTS, 0, 0, 0 }, { IPPROTO_DSTOPTS, 1, 0, 0 },
	};
	struct pkt p;

	v4(&p, IPPROTO_TCP, 443, 40000);
	test_truncation("v4 tcp", &p, 20 + 8 + 20 + 8);
	v4(&p, IPPROTO_UDP, 53, 5353);
	test_truncation("v4 udp", &p, 20 + 8 + 20 + 8);
	v6(&p, IPPROTO_TCP, 443, 40000);
	test_truncation("v6 tcp", &p, 40 + 8 + 40 + 8);
	v6(&p, IPPROTO_UDP, 53, 5353);
	test_truncation("v6 udp", &p, 40 + 8 + 40 + 8);
	v6x(&p, IPPROTO_TCP, 443, 40000, hbh_dst, 2);
	test_truncation("v6 tcp hbh+dst", &p, 40 + 8 + 40 + 24 + 8);
	pb_ptb6(&p, &(struct pb_ptb6){
		.src = "2001:db8:ffff::1", .dst = "2001:db8:10::10",
		.mtu = 1400, .outer_ext = hbh_dst, .n_outer_ext = 2,
		.q = { "2001:db8:10::10", "2001:db8:20::7", IPPROTO_UDP,
		       53, 5353 },
	});
	test_truncation("v6 outer hbh+dst", &p, 40 + 24 + 8 + 40 + 8);
}

static void test_malformed(void)
{
	struct pkt p, good4, good6;
	char what[40];

	v4(&good4, IPPROTO_TCP, 443, 40000);
	v6(&good6, IPPROTO_TCP, 443, 40000);

	p = good4;
	p.b[0] = 0x44;
	expect(&open_pol, &p, NULL, REASON_BAD_IP, "v4 IHL 4");
	p.b[0] = 0x40;
	expect(&open_pol, &p, NULL, REASON_BAD_IP, "v4 IHL 0");
	p = good4;
	p.len = 48;
	pb_put16(p.b + PB4_TOTLEN, 48);
	p.b[0] = 0x4f;
	expect(&open_pol, &p, NULL, REASON_TRUNCATED,
	       "v4 IHL 15 (60 bytes) in a 48-byte packet");
	p = good4;
	pb_put16(p.b + PB4_TOTLEN, (uint16_t)(p.len + 1));
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_OVERSIZED,
	       "v4 total length one past the buffer (cut by the copy range)");
	pb_put16(p.b + PB4_TOTLEN, 19);
	expect(&open_pol, &p, NULL, REASON_BAD_IP,
	       "v4 total length below header length");
	p = good4;
	pb_put16(p.b + PB4_TOTLEN, PB4_ICMP + 7);
	expect(&open_pol, &p, NULL, REASON_TRUNCATED,
	       "v4 ICMP header cut by total length");
	p = good6;
	pb_put16(p.b + PB6_PLEN, (uint16_t)(p.len - 40 + 1));
	expect(&open_pol, &p, NULL, REASON_OVERSIZED,
	       "v6 payload length one past the buffer (cut by the copy range)");
	pb_put16(p.b + PB6_PLEN, 0);
	expect(&open_pol, &p, NULL, REASON_BAD_IP,
	       "v6 payload length 0 (jumbogram)");

	p = good4;
	p.b[0] = 0x55;
	expect(&open_pol, &p, NULL, REASON_BAD_IP, "IP version 5");
	p.b[0] = 0x05;
	expect(&open_pol, &p, NULL, REASON_BAD_IP, "IP version 0");
	p = good6;
	p.b[0] = 0x45;		/* v6 bytes read as a v4 header */
	expect(&open_pol, &p, NULL, REASON_BAD_IP,
	       "v6 packet with version 4: total length 0 < IHL");

	p = good4;
	pb_put16(p.b + PB4_FRAG, 0x2000);
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_FRAGMENT, "v4 outer MF set");
	pb_put16(p.b + PB4_FRAG, 0x0001);
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_FRAGMENT, "v4 outer offset 8");
	pb_put16(p.b + PB4_FRAG, 0x4000);
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_FORWARD, "v4 outer DF only");

	p = good4;
	p.b[PB4_PROTO] = IPPROTO_TCP;
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_NOT_ICMP, "v4 protocol tcp");
	p.b[PB4_PROTO] = IPPROTO_ICMPV6;
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_NOT_ICMP, "v4 protocol 58");
	p = good6;
	p.b[PB6_NH] = IPPROTO_UDP;
	expect(&open_pol, &p, NULL, REASON_NOT_ICMP, "v6 next header udp");
	p.b[PB6_NH] = IPPROTO_ICMP;
	expect(&open_pol, &p, NULL, REASON_NOT_ICMP, "v6 next header 1");

	static const uint8_t tc4[][2] = {
		{ 3, 3 }, { 3, 1 }, { 3, 13 }, { 11, 0 }, { 0, 0 }, { 8, 0 },
		{ 4, 4 },
	};
	static const uint8_t tc6[][2] = {
		{ 1, 4 }, { 2, 1 }, { 3, 0 }, { 128, 0 }, { 4, 0 }, { 0, 0 },
	};
	for (unsigned k = 0; k < sizeof(tc4) / sizeof(tc4[0]); k++) {
		p = good4;
		p.b[PB4_ICMP] = tc4[k][0];
		p.b[PB4_ICMP + 1] = tc4[k][1];
		pb_fix(&p);
		snprintf(what, sizeof(what), "ICMPv4 type %u code %u",
			 tc4[k][0], tc4[k][1]);
		expect(&open_pol, &p, NULL, REASON_NOT_PTB, what);
	}
	for (unsigned k = 0; k < sizeof(tc6) / sizeof(tc6[0]); k++) {
		p = good6;
		p.b[PB6_ICMP] = tc6[k][0];
		p.b[PB6_ICMP + 1] = tc6[k][1];
		pb_fix(&p);
		snprintf(what, sizeof(what), "ICMPv6 type %u code %u",
			 tc6[k][0], tc6[k][1]);
		expect(&open_pol, &p, NULL, REASON_NOT_PTB, what);
	}

	p = good4;
	p.b[PB4_QUOTE] = 0x65;
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_QUOTE_BAD, "ICMPv4 quoting IPv6");
	p = good6;
	p.b[PB6_QUOTE] = 0x45;
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_QUOTE_BAD, "ICMPv6 quoting IPv4");
	p = good4;
	p.b[PB4_QUOTE] = 0x44;
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_QUOTE_BAD, "quoted IHL 4");
	p.b[PB4_QUOTE] = 0x40;
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_QUOTE_BAD, "quoted IHL 0");
	p = good4;
	p.b[PB4_QUOTE] = 0x4f;	/* 60-byte header + 8 of L4 = 68 */
	pb_put16(p.b + PB4_TOTLEN, PB4_QUOTE + 67);
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_QUOTE_TRUNCATED,
	       "quoted IHL 15 beyond the quote");
}

static void test_v4_quote_fragment(void)
{
	struct ptb_info i;
	struct pkt p;
	enum classify_reason r;

	v4(&p, IPPROTO_TCP, 443, 40000);
	pb_put16(p.b + PB4_QUOTE + 6, 0x2000 | 185);	/* MF, offset 1480 */
	pb_fix(&p);
	r = run(&open_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && !i.has_ports,
	   "v4 quote non-first fragment: data not read as ports");
	expect(&web_pol, &p, NULL, REASON_QUOTE_PROTO,
	       "v4 quote non-first fragment with port filter");
	pb_put16(p.b + PB4_QUOTE + 6, 0x2000);		/* MF, offset 0 */
	pb_fix(&p);
	r = run(&web_pol, &p, NULL, &i);
	ok(r == REASON_FORWARD && i.has_ports && i.quoted_sport == 443,
	   "v4 quote first fragment: ports read");
}

static void test_ports(void)
{
	static const uint16_t one[] = { 443 };
	struct classify_policy pol = web_pol;
	uint16_t *many;
	struct ptb_info i;
	struct pkt p;
	bool good = true;

	v4(&p, IPPROTO_TCP, 443, 40000);
	expect(&web_pol, &p, NULL, REASON_FORWARD, "source port 443 listed");
	v4(&p, IPPROTO_TCP, 80, 40000);
	expect(&web_pol, &p, NULL, REASON_PORT, "source port 80 not listed");
	v4(&p, IPPROTO_TCP, 40000, 443);
	expect(&web_pol, &p, NULL, REASON_PORT,
	       "only the quoted source port counts (dport 443)");
	v6(&p, IPPROTO_UDP, 53, 53);
	expect(&web_pol, &p, NULL, REASON_FORWARD, "v6 udp 53 listed");
	v6(&p, IPPROTO_UDP, 54, 53);
	expect(&web_pol, &p, NULL, REASON_PORT, "v6 udp 54 not listed");
	v4(&p, IPPROTO_ICMP, 0, 0);
	expect(&web_pol, &p, NULL, REASON_QUOTE_PROTO,
	       "quoted icmp with port filter");
	expect(&open_pol, &p, NULL, REASON_FORWARD,
	       "quoted icmp without port filter");
	v4(&p, IPPROTO_GRE, 0, 0);
	expect(&web_pol, &p, NULL, REASON_QUOTE_PROTO,
	       "quoted gre with port filter");
	v6(&p, IPPROTO_ICMPV6, 0, 0);
	expect(&web_pol, &p, NULL, REASON_QUOTE_PROTO,
	       "quoted icmpv6 with port filter");

	pol.ports = one;
	pol.n_ports = 1;
	v4(&p, IPPROTO_TCP, 443, 1);
	expect(&pol, &p, NULL, REASON_FORWARD, "one-port list, in it");
	v4(&p, IPPROTO_TCP, 442, 1);
	expect(&pol, &p, NULL, REASON_PORT, "one-port list, not in it");

	/* Binary search against the definition, over every port: the
	 * list holds every third port, including 0 and 65535. */
	many = malloc(21846 * sizeof(*many));
	if (!many)
		abort();
	pol.n_ports = 0;
	for (unsigned v = 0; v <= 65535; v += 3)
		many[pol.n_ports++] = (uint16_t)v;
	pol.ports = many;
	v4(&p, IPPROTO_UDP, 0, 1);
	for (unsigned port = 0; port <= 65535; port++) {
		enum classify_reason r;

		pb_put16(p.b + PB4_QUOTE + 20, (uint16_t)port);
		pb_fix(&p);
		r = classify_packet(&pol, p.b, p.len, NULL, &i);
		if ((r == REASON_FORWARD) != (port % 3 == 0)) {
			good = false;
			printf("# port %u -> %s\n", port,
			       classify_reason_name(r));
		}
	}
	ok(good && pol.n_ports == 21846,
	   "every port 0..65535 against a %u-entry list", pol.n_ports);
	free(many);
}

static void test_dst_mismatch(void)
{
	struct ptb_info i;
	struct pkt p;
	enum classify_reason r;

	pb_ptb4(&p, &(struct pb_ptb4){
		.src = "198.51.100.1", .dst = "203.0.113.10", .mtu = 1400,
		.q = { "203.0.113.11", "192.0.2.7", IPPROTO_TCP, 443, 1 },
	});
	r = run(&open_pol, &p, NULL, &i);
	ok(r == REASON_DST_MISMATCH && addr_is(&i.quoted_src, "203.0.113.11"),
	   "v4 outer dst .10 but quoted src .11");
	pb_ptb4(&p, &(struct pb_ptb4){
		.src = "198.51.100.1", .dst = "203.0.113.10", .mtu = 1400,
		.q = { "192.0.2.7", "203.0.113.10", IPPROTO_TCP, 443, 1 },
	});
	expect(&open_pol, &p, NULL, REASON_DST_MISMATCH,
	       "v4 quote in the wrong direction (addresses swapped)");
	pb_ptb6(&p, &(struct pb_ptb6){
		.src = "2001:db8:ffff::1", .dst = "2001:db8:10::10",
		.mtu = 1400,
		.q = { "2001:db8:10::11", "2001:db8:20::7", IPPROTO_TCP,
		       443, 1 },
	});
	expect(&web_pol, &p, NULL, REASON_DST_MISMATCH,
	       "v6 outer dst ::10 but quoted src ::11");
}

static void test_mtu(void)
{
	static const struct {
		uint32_t min4, max, mtu;
		enum classify_reason want;
	} c4[] = {
		{ 0, 9000, 67, REASON_BAD_MTU },
		{ 0, 9000, 68, REASON_FORWARD },
		{ 552, 9000, 68, REASON_BAD_MTU },
		{ 552, 9000, 551, REASON_BAD_MTU },
		{ 552, 9000, 552, REASON_FORWARD },
		{ 0, 9000, 0, REASON_BAD_MTU }, { 0, 0, 0, REASON_BAD_MTU },
		{ 552, 9000, 9000, REASON_FORWARD },
		{ 552, 9000, 9001, REASON_BAD_MTU },
		{ 552, 0, 65535, REASON_FORWARD },
	};
	static const struct {
		uint32_t max, mtu;
		enum classify_reason want;
	} c6[] = {
		{ 9000, 1279, REASON_BAD_MTU }, { 9000, 1280, REASON_FORWARD },
		{ 9000, 0, REASON_BAD_MTU }, { 9000, 9000, REASON_FORWARD },
		{ 9000, 9001, REASON_BAD_MTU },
		{ 0, 0xffffffff, REASON_FORWARD },
		{ 65535, 65536, REASON_BAD_MTU },
	};
	struct classify_policy pol = open_pol;
	struct ptb_info i;
	struct pkt p;
	char what[80];

	for (unsigned k = 0; k < sizeof(c4) / sizeof(c4[0]); k++) {
		v4(&p, IPPROTO_TCP, 443, 1);
		pb_put16(p.b + PB4_ICMP + 6, (uint16_t)c4[k].mtu);
		pb_fix(&p);
		pol.min_mtu4 = c4[k].min4;
		pol.max_mtu = c4[k].max;
		snprintf(what, sizeof(what), "v4 mtu %u (min %u, max %u)",
			 c4[k].mtu, c4[k].min4, c4[k].max);
		expect(&pol, &p, NULL, c4[k].want, what);
	}
	for (unsigned k = 0; k < sizeof(c6) / sizeof(c6[0]); k++) {
		v6(&p, IPPROTO_TCP, 443, 1);
		pb_put32(p.b + PB6_ICMP + 4, c6[k].mtu);
		pb_fix(&p);
		pol.max_mtu = c6[k].max;
		snprintf(what, sizeof(what), "v6 mtu %u (max %u)",
			 c6[k].mtu, c6[k].max);
		expect(&pol, &p, NULL, c6[k].want, what);
	}
	v6(&p, IPPROTO_TCP, 443, 1);
	pb_put32(p.b + PB6_ICMP + 4, 1279);
	pb_fix(&p);
	run(&open_pol, &p, NULL, &i);
	ok(i.mtu == 1279 && i.family == AF_INET6,
	   "info filled up to the failing check (mtu on bad_mtu)");
}

static void test_denied(void)
{
	struct pmtud_addr deny[3];
	struct classify_policy pol = open_pol;
	struct pkt p;

	if (pmtud_addr_parse(&deny[0], "192.0.2.50") ||
	    pmtud_addr_parse(&deny[1], "2001:db8:ffff::1") ||
	    pmtud_addr_parse(&deny[2], "198.51.100.1"))
		abort();
	pol.deny_src = deny;
	pol.n_deny_src = 2;
	v4(&p, IPPROTO_TCP, 443, 1);
	expect(&pol, &p, NULL, REASON_FORWARD, "v4 source not in deny list");
	v6(&p, IPPROTO_TCP, 443, 1);
	expect(&pol, &p, NULL, REASON_DENIED_SOURCE, "v6 source denied");
	/* The list is in canonical order (IPv4 first): sort the three. */
	pol.n_deny_src = (unsigned)peerset_normalize(deny, 3);
	v4(&p, IPPROTO_TCP, 443, 1);
	expect(&pol, &p, NULL, REASON_DENIED_SOURCE, "v4 source denied");
	v6(&p, IPPROTO_TCP, 443, 1);
	expect(&pol, &p, NULL, REASON_DENIED_SOURCE, "v6 source still denied");
	if (pmtud_addr_parse(&deny[0], "192.0.2.50"))
		abort();
	pol.n_deny_src = 1;
	pb_ptb4(&p, &(struct pb_ptb4){
		.src = "192.0.2.50", .dst = "203.0.113.10", .mtu = 1400,
		.q = { "203.0.113.10", "192.0.2.7", IPPROTO_TCP, 443, 1 },
	});
	expect(&pol, &p, NULL, REASON_DENIED_SOURCE,
	       "v4 own address as source denied");
	/* The denied v4 address as the leading bytes of a v6 source. */
	pb_ptb6(&p, &(struct pb_ptb6){
		.src = "c000:232::", .dst = "2001:db8:10::10", .mtu = 1400,
		.q = { "2001:db8:10::10", "2001:db8:20::7", IPPROTO_TCP,
		       443, 1 },
	});
	expect(&pol, &p, NULL, REASON_FORWARD,
	       "family is part of the deny match");
}

/* A deny list of thousands of peers is bisected: every member is
 * found, from the first to the last, and its neighbours are not. */
static void test_denied_many(void)
{
	static struct pmtud_addr deny[2 * 1500];
	struct classify_policy pol = open_pol;
	unsigned i, n = 0, missed = 0, wrong = 0;
	struct pkt p;
	char s[PMTUD_ADDRSTRLEN];

	/* Even hosts only: 198.51.100.x and 2001:db8:ffff::x, x even. */
	for (i = 0; i < 1500; i++) {
		snprintf(s, sizeof(s), "198.51.%u.%u", 100 + (2 * i) / 256, (2 * i) % 256);
		if (pmtud_addr_parse(&deny[n++], s))
			abort();
		snprintf(s, sizeof(s), "2001:db8:ffff::%x", 2 * i);
		if (pmtud_addr_parse(&deny[n++], s))
			abort();
	}
	pol.deny_src = deny;
	pol.n_deny_src = (unsigned)peerset_normalize(deny, n);
	for (i = 0; i < 2 * 1500; i++) {
		struct ptb_info info;
		enum classify_reason r;

		snprintf(s, sizeof(s), "198.51.%u.%u", 100 + i / 256, i % 256);
		pb_ptb4(&p, &(struct pb_ptb4){
			.src = s, .dst = "203.0.113.10", .mtu = 1400,
			.q = { "203.0.113.10", "192.0.2.7", IPPROTO_TCP, 443, 1 },
		});
		r = classify_packet(&pol, p.b, p.len, NULL, &info);
		if ((i % 2 == 0) != (r == REASON_DENIED_SOURCE))
			++*(i % 2 ? &wrong : &missed);
		snprintf(s, sizeof(s), "2001:db8:ffff::%x", i);
		pb_ptb6(&p, &(struct pb_ptb6){
			.src = s, .dst = "2001:db8:10::10", .mtu = 1400,
			.q = { "2001:db8:10::10", "2001:db8:20::7", IPPROTO_TCP, 443, 1 },
		});
		r = classify_packet(&pol, p.b, p.len, NULL, &info);
		if ((i % 2 == 0) != (r == REASON_DENIED_SOURCE))
			++*(i % 2 ? &wrong : &missed);
	}
	ok(pol.n_deny_src == 3000 && missed == 0 && wrong == 0,
	   "3000 denied sources bisected: every member denied, no neighbour");
}

static struct pmtud_prefix pfx(const char *a, uint8_t len)
{
	struct pmtud_prefix x = { .len = len };

	if (pmtud_addr_parse(&x.addr, a))
		abort();
	return x;
}

/* vips: the quoted source (= outer destination) must lie in one. */
static void test_vips(void)
{
	struct pmtud_prefix vips[4];
	struct classify_policy pol = web_pol;
	struct ptb_info i;
	struct pkt p;

	vips[0] = pfx("203.0.113.8", 29);	/* .8-.15: holds .10 */
	vips[1] = pfx("2001:db8:10::", 64);
	vips[2] = pfx("192.0.2.0", 24);
	vips[3] = pfx("::", 0);			/* every IPv6 address */
	pol.vips = vips;
	pol.n_vips = 2;
	v4(&p, IPPROTO_TCP, 443, 40000);
	expect(&pol, &p, NULL, REASON_FORWARD, "v4 quoted source in a /29 vip");
	v6(&p, IPPROTO_TCP, 443, 40000);
	expect(&pol, &p, NULL, REASON_FORWARD, "v6 quoted source in a /64 vip");
	vips[0] = pfx("203.0.113.0", 29);	/* .0-.7: not .10 */
	v4(&p, IPPROTO_TCP, 443, 40000);
	expect(&pol, &p, NULL, REASON_NOT_VIP, "v4 quoted source outside the /29");
	vips[0] = pfx("203.0.113.10", 32);
	expect(&pol, &p, NULL, REASON_FORWARD, "v4 host prefix matches");
	vips[0] = pfx("203.0.113.11", 32);
	ok(run(&pol, &p, NULL, &i) == REASON_NOT_VIP && i.has_ports &&
	   i.quoted_sport == 443, "v4 neighbour /32: not_vip, ports still read");
	vips[1] = pfx("2001:db8:10::", 124);	/* ::0-::f, not ::10 */
	v6(&p, IPPROTO_TCP, 443, 40000);
	expect(&pol, &p, NULL, REASON_NOT_VIP, "v6 quoted source outside a /124");
	vips[1] = pfx("2001:db8:10::10", 124);
	expect(&pol, &p, NULL, REASON_FORWARD, "v6 quoted source in a /124");
	/* The vip check comes before the port filter. */
	v6(&p, IPPROTO_TCP, 9999, 40000);
	expect(&pol, &p, NULL, REASON_PORT, "port filter still applies in a vip");
	vips[1] = pfx("2001:db8:11::", 48);
	expect(&pol, &p, NULL, REASON_NOT_VIP, "not_vip before port_filtered");
	/* Family is part of the match: 203.0.113.10 as the first bytes of
	 * a v6 prefix does not cover the v4 address, and back. */
	vips[0] = pfx("cb00:710a::", 32);
	v4(&p, IPPROTO_TCP, 443, 40000);
	expect(&pol, &p, NULL, REASON_NOT_VIP, "v6 prefix never matches v4");
	/* A /0 admits its whole family; dst_mismatch still comes first. */
	pol.vips = vips + 2;
	v6(&p, IPPROTO_TCP, 443, 40000);
	expect(&pol, &p, NULL, REASON_FORWARD, "::/0 admits any v6 source");
	pb_ptb6(&p, &(struct pb_ptb6){
		.src = "2001:db8:1::1", .dst = "2001:db8:10::10", .mtu = 1400,
		.q = { "2001:db8:10::11", "2001:db8:20::7", IPPROTO_TCP, 443, 1 },
	});
	expect(&pol, &p, NULL, REASON_DST_MISMATCH, "dst_mismatch before not_vip");
	pol.n_vips = 0;
	v4(&p, IPPROTO_TCP, 443, 40000);
	expect(&pol, &p, NULL, REASON_FORWARD, "no vips: any quoted source");
}

/* bad_checksum: every bit of the ICMP message (and, for ICMPv6, of the
 * pseudo-header's addresses) is covered; the outer IPv4 header is not
 * (the kernel checked it before the hook). */
static void csum_flips(const char *name, const struct pkt *good,
		       size_t from, size_t to, enum classify_reason want)
{
	bool all = true;
	struct ptb_info i;
	struct pkt p;

	for (size_t k = from; k < to; k++) {
		enum classify_reason r;

		p = *good;
		p.b[k] ^= 0x10;
		r = run(&open_pol, &p, NULL, &i);
		if (r != want) {
			all = false;
			printf("# %s: byte %zu flipped -> %s\n", name, k,
			       classify_reason_name(r));
		}
	}
	ok(all, "%s: a flip in bytes %zu..%zu gives %s", name, from, to - 1,
	   classify_reason_name(want));
}

static void test_checksum(void)
{
	static const struct pb_ext hbh[] = { { IPPROTO_HOPOPTS, 0, 0, 0 } };
	struct ptb_info i;
	struct pkt p;

	v4(&p, IPPROTO_TCP, 443, 40000);
	csum_flips("v4 ICMP message", &p, PB4_ICMP + 2, p.len,
		   REASON_BAD_CHECKSUM);
	csum_flips("v4 outer source (no pseudo-header)", &p, PB4_SRC,
		   PB4_DST, REASON_FORWARD);
	v6(&p, IPPROTO_TCP, 443, 40000);
	csum_flips("v6 ICMPv6 message", &p, PB6_ICMP + 2, p.len,
		   REASON_BAD_CHECKSUM);
	csum_flips("v6 pseudo-header source", &p, PB6_SRC, PB6_DST,
		   REASON_BAD_CHECKSUM);

	/* The pseudo-header's destination is also the dst_mismatch
	 * field: with the quote moved along, only the sum can tell. */
	v6(&p, IPPROTO_TCP, 443, 40000);
	p.b[PB6_DST + 15] ^= 1;
	p.b[PB6_QUOTE + 8 + 15] ^= 1;
	expect(&open_pol, &p, NULL, REASON_BAD_CHECKSUM,
	       "v6 destination and quoted source changed together");
	pb_fix(&p);
	expect(&open_pol, &p, NULL, REASON_FORWARD, "... and summed again");

	/* Odd lengths: the last byte is padded with zero. */
	pb_ptb4(&p, &(struct pb_ptb4){
		.src = "198.51.100.1", .dst = "203.0.113.10", .mtu = 1400,
		.q = { "203.0.113.10", "192.0.2.7", IPPROTO_UDP, 53, 9 },
		.payload = 33,
	});
	expect(&open_pol, &p, NULL, REASON_FORWARD, "v4 odd-length message");
	p.b[p.len - 1] ^= 0x01;
	expect(&open_pol, &p, NULL, REASON_BAD_CHECKSUM,
	       "v4 odd-length message, last byte changed");
	pb_ptb6(&p, &(struct pb_ptb6){
		.src = "2001:db8:ffff::1", .dst = "2001:db8:10::10",
		.mtu = 1400, .outer_ext = hbh, .n_outer_ext = 1,
		.q = { "2001:db8:10::10", "2001:db8:20::7", IPPROTO_UDP,
		       53, 9 },
		.payload = 33,
	});
	expect(&open_pol, &p, NULL, REASON_FORWARD,
	       "v6 odd-length message after a hop-by-hop header");
	p.b[p.len - 1] ^= 0x80;
	expect(&open_pol, &p, NULL, REASON_BAD_CHECKSUM,
	       "v6 after a hop-by-hop header, last byte changed");

	/* The sum covers the IP length, not the buffer: trailing bytes
	 * (not relayed) are not summed; and info->len says what to relay. */
	v4(&p, IPPROTO_TCP, 443, 40000);
	p.len += 7;
	p.b[p.len - 1] = 0x5a;
	ok(run(&open_pol, &p, NULL, &i) == REASON_FORWARD &&
	   i.len == p.len - 7, "v4 trailing bytes neither summed nor relayed");
	/* Other ICMP errors are not_ptb whatever their sum. */
	v4(&p, IPPROTO_TCP, 443, 40000);
	p.b[PB4_ICMP + 1] = 1;
	expect(&open_pol, &p, NULL, REASON_NOT_PTB,
	       "host unreachable with a wrong sum: not_ptb first");
}

/* oversized: over 576 (v4) / 1280 (v6) bytes, the link MTU, or the
 * bytes captured; the size limits are inclusive. */
static void test_oversized(void)
{
	struct pkt_meta m = { .ifindex = 2 };
	struct ptb_info i;
	struct pkt p;
	enum classify_reason r;

	pb_ptb4(&p, &(struct pb_ptb4){
		.src = "198.51.100.1", .dst = "203.0.113.10", .mtu = 1400,
		.q = { "203.0.113.10", "192.0.2.7", IPPROTO_TCP, 443, 9 },
		.payload = 576 - 68,
	});
	r = run(&open_pol, &p, NULL, &i);
	ok(p.len == 576 && r == REASON_FORWARD && i.len == 576,
	   "v4 PTB of 576 bytes forwarded");
	pb_ptb4(&p, &(struct pb_ptb4){
		.src = "198.51.100.1", .dst = "203.0.113.10", .mtu = 1400,
		.q = { "203.0.113.10", "192.0.2.7", IPPROTO_TCP, 443, 9 },
		.payload = 577 - 68,
	});
	r = run(&open_pol, &p, NULL, &i);
	ok(p.len == 577 && r == REASON_OVERSIZED &&
	   addr_is(&i.outer_src, "198.51.100.1"),
	   "v4 PTB of 577 bytes oversized, its source still logged");
	pb_ptb6(&p, &(struct pb_ptb6){
		.src = "2001:db8:ffff::1", .dst = "2001:db8:10::10",
		.mtu = 1400,
		.q = { "2001:db8:10::10", "2001:db8:20::7", IPPROTO_TCP,
		       443, 9 },
		.payload = 1280 - 108,
	});
	r = run(&open_pol, &p, NULL, &i);
	ok(p.len == 1280 && r == REASON_FORWARD && i.len == 1280,
	   "v6 PTB of 1280 bytes forwarded");
	m.link_mtu = 1279;
	expect(&open_pol, &p, &m, REASON_OVERSIZED,
	       "v6 PTB of 1280 bytes over a 1279-byte link MTU");
	m.link_mtu = 1280;
	expect(&open_pol, &p, &m, REASON_FORWARD,
	       "v6 PTB of 1280 bytes, link MTU 1280");
	m.link_mtu = 9000;
	expect(&open_pol, &p, &m, REASON_FORWARD, "link MTU 9000");
	pb_ptb6(&p, &(struct pb_ptb6){
		.src = "2001:db8:ffff::1", .dst = "2001:db8:10::10",
		.mtu = 1400,
		.q = { "2001:db8:10::10", "2001:db8:20::7", IPPROTO_TCP,
		       443, 9 },
		.payload = 1281 - 108,
	});
	ok(p.len == 1281 && run(&open_pol, &p, &m, &i) == REASON_OVERSIZED,
	   "v6 PTB of 1281 bytes oversized (link MTU 9000)");

	v4(&p, IPPROTO_TCP, 443, 40000);
	m.link_mtu = (uint32_t)p.len - 1;
	expect(&open_pol, &p, &m, REASON_OVERSIZED,
	       "v4 PTB one byte over the link MTU");
	m.link_mtu = (uint32_t)p.len;
	expect(&open_pol, &p, &m, REASON_FORWARD, "v4 PTB of the link MTU");
	m.link_mtu = 0;
	expect(&open_pol, &p, &m, REASON_FORWARD, "link MTU 0: unknown");

	/* Reassembled by conntrack, then cut by the copy range: the
	 * length fields say 4000, 1280 bytes were copied. */
	v4(&p, IPPROTO_TCP, 443, 40000);
	pb_put16(p.b + PB4_TOTLEN, 4000);
	p.len = 1280;
	expect(&open_pol, &p, NULL, REASON_OVERSIZED,
	       "v4 4000-byte PTB cut to 1280 bytes");
	v6(&p, IPPROTO_TCP, 443, 40000);
	pb_put16(p.b + PB6_PLEN, 4000 - 40);
	p.len = 1280;
	expect(&open_pol, &p, NULL, REASON_OVERSIZED,
	       "v6 4000-byte PTB cut to 1280 bytes");
}

/* ---- randomized robustness ---- */

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;	/* xorshift64*: same sequence everywhere */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static unsigned rndn(uint64_t *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

/* Independent, minimal parse of a packet the classifier forwarded:
 * where are the ICMP header and the quoted header? */
static bool ref_offsets(const uint8_t *b, size_t len, size_t *icmp,
			size_t *end)
{
	if (b[0] >> 4 == 4) {
		*icmp = (size_t)(b[0] & 15) * 4;
		*end = pb_get16(b + 2);
		return b[9] == IPPROTO_ICMP && *end <= len;
	}
	uint8_t nh = b[6];
	size_t off = 40;

	*end = 40 + (size_t)pb_get16(b + 4);
	if (*end > len)
		return false;
	while (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
	       nh == IPPROTO_DSTOPTS) {
		if (off + 2 > *end)
			return false;
		nh = b[off];
		off += ((size_t)b[off + 1] + 1) * 8;
	}
	*icmp = off;
	return nh == IPPROTO_ICMPV6;
}

/* Independent checksum check: byte by byte, ICMPv6 with the
 * pseudo-header (RFC 8200 8.1) of the addresses at b + 8. */
static bool ref_csum_ok(const uint8_t *b, size_t icmp, size_t end, bool v4)
{
	uint64_t s = 0;

	if (!v4) {
		for (size_t k = 8; k < 40; k++)
			s += (uint64_t)b[k] << (k & 1 ? 0 : 8);
		s += (end - icmp) + IPPROTO_ICMPV6;
	}
	for (size_t k = icmp; k < end; k++)
		s += (uint64_t)b[k] << ((k - icmp) & 1 ? 0 : 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/* What must hold whenever the classifier says FORWARD. */
static bool forward_sound(const struct classify_policy *pol,
			  const uint8_t *b, size_t len,
			  const struct pkt_meta *m,
			  const struct ptb_info *i)
{
	bool v4 = b[0] >> 4 == 4;
	size_t icmp, end, alen = v4 ? 4 : 16;
	const uint8_t *q;

	if (m && m->hwhdr_len >= 14 && memcmp(m->hwhdr, "\xff\xff\xff"
						"\xff\xff\xff", 6) == 0)
		return false;
	if (!ref_offsets(b, len, &icmp, &end) || icmp + 8 + 20 + 8 > end)
		return false;
	/* Complete, within the PTB size, checksum right: what is relayed
	 * (i->len bytes) is what the receiving kernel accepts. */
	if (end > (v4 ? 576u : 1280u) || i->len != end ||
	    !ref_csum_ok(b, icmp, end, v4))
		return false;
	q = b + icmp + 8;
	if (v4 ? b[icmp] != 3 || b[icmp + 1] != 4
	       : b[icmp] != 2 || b[icmp + 1] != 0)
		return false;
	if (q[0] >> 4 != (v4 ? 4 : 6))
		return false;
	/* The invariant: outer dst == quoted src, read from the bytes. */
	if (memcmp(b + (v4 ? 16 : 24), q + (v4 ? 12 : 8), alen) != 0)
		return false;
	if (memcmp(i->outer_dst.a, b + (v4 ? 16 : 24), alen) != 0 ||
	    memcmp(i->quoted_src.a, q + (v4 ? 12 : 8), alen) != 0)
		return false;
	if (v4 && (i->mtu < 552 || i->mtu > 9000))
		return false;
	if (!v4 && (i->mtu < 1280 || i->mtu > 9000))
		return false;
	for (unsigned k = 0; k < pol->n_deny_src; k++)
		if (pmtud_addr_eq(&pol->deny_src[k], &i->outer_src))
			return false;
	if (pol->n_vips) {
		bool in = false;

		/* The test's prefixes are whole bytes long. */
		for (unsigned k = 0; k < pol->n_vips; k++)
			in |= pol->vips[k].addr.family == i->quoted_src.family &&
			      memcmp(pol->vips[k].addr.a, q + (v4 ? 12 : 8),
				     pol->vips[k].len / 8) == 0;
		if (!in)
			return false;
	}
	if (pol->n_ports) {
		bool in = false;

		for (unsigned k = 0; k < pol->n_ports; k++)
			in |= pol->ports[k] == i->quoted_sport;
		if (!i->has_ports || !in)
			return false;
	}
	return true;
}

static void test_fuzz(void)
{
	static const struct pb_ext chain[] = {
		{ IPPROTO_HOPOPTS, 0, 0, 0 }, { IPPROTO_FRAGMENT, 0, 0, 1 },
		{ IPPROTO_AH, 1, 0, 0 },
	};
	static const uint8_t magic[] = {
		0, 1, 2, 3, 4, 5, 6, 17, 41, 43, 44, 50, 51, 58, 59, 60, 0x40,
		0x45, 0x4f, 0x60, 0x80, 0xff,
	};
	static const uint16_t tpids[] = { ETH_P_8021Q, ETH_P_8021AD };
	static const uint8_t ucast[6] = { 0x02, 0, 0, 0, 0, 2 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	enum { N = 200000, NT = 6 };
	struct pkt t[NT], p;
	unsigned count[REASON_MAX] = { 0 }, bad = 0, distinct = 0;
	uint64_t seed = 0x706d7475646e66ULL;	/* fixed: deterministic */
	struct pmtud_addr deny[2];
	struct pmtud_prefix vips[2];
	struct classify_policy pols[3] = { open_pol, web_pol, open_pol };
	uint8_t hw[32];
	struct ptb_info i;

	/* One bit away from the templates' outer sources. */
	if (pmtud_addr_parse(&deny[0], "198.51.100.3") ||
	    pmtud_addr_parse(&deny[1], "2001:db8:ffff::3"))
		abort();
	pols[1].deny_src = deny;
	pols[1].n_deny_src = 2;
	/* Third policy: v4 templates are outside the vips, v6 ones in. */
	vips[0] = pfx("198.51.100.0", 24);
	vips[1] = pfx("2001:db8:10::", 64);
	pols[2].vips = vips;
	pols[2].n_vips = 2;
	v4(&t[0], IPPROTO_TCP, 443, 40000);
	v4(&t[1], IPPROTO_UDP, 53, 5353);
	v6(&t[2], IPPROTO_TCP, 443, 40000);
	v6(&t[3], IPPROTO_UDP, 8443, 5353);
	v6x(&t[4], IPPROTO_TCP, 443, 40000, chain, 3);
	pb_ptb4(&t[5], &(struct pb_ptb4){
		.src = "198.51.100.1", .dst = "203.0.113.10", .mtu = 600,
		.q = { "203.0.113.10", "192.0.2.7", IPPROTO_SCTP, 443, 9 },
		.quote_opt_words = 2,
	});

	for (unsigned it = 0; it < N; it++) {
		const struct classify_policy *pol = &pols[it % 3];
		struct pkt_meta m = { 0 }, *mp = NULL;
		unsigned nmut = 1 + rndn(&seed, 3);
		enum classify_reason r;

		p = t[rndn(&seed, NT)];
		for (unsigned k = 0; k < nmut; k++) {
			size_t span = p.len < 128 ? p.len : 128;
			unsigned pos = rndn(&seed, span ? (unsigned)span : 1);

			switch (rndn(&seed, 6)) {
			case 0:		/* bit flip in the headers */
				p.b[pos] ^= (uint8_t)(1 << rndn(&seed, 8));
				break;
			case 1:		/* interesting byte in the headers */
				p.b[pos] = magic[rndn(&seed, sizeof(magic))];
				break;
			case 2:		/* random byte anywhere */
				p.b[rndn(&seed, (unsigned)p.len)] =
					(uint8_t)rnd(&seed);
				break;
			case 3:		/* shorter buffer */
				p.len = rndn(&seed, (unsigned)p.len + 1);
				break;
			case 4:		/* longer buffer, random tail */
				for (unsigned e = rndn(&seed, 64); e; e--)
					if (p.len < PB_MAX)
						p.b[p.len++] =
							(uint8_t)rnd(&seed);
				break;
			default:	/* length field follows the buffer */
				if (p.len >= 40 && p.b[0] >> 4 == 6)
					pb_put16(p.b + PB6_PLEN,
						 (uint16_t)(p.len - 40));
				else if (p.len >= 4)
					pb_put16(p.b + PB4_TOTLEN,
						 (uint16_t)p.len);
				break;
			}
			if (p.len == 0)
				break;
		}
		/* Mostly right checksums, so the checks past it are reached. */
		if (rndn(&seed, 4) != 0)
			pb_fix(&p);
		if (rndn(&seed, 4) == 0) {
			size_t n = pb_eth(hw, rndn(&seed, 2) ? ucast : bcast,
				   tpids, rndn(&seed, 3),
				   p.b[0] >> 4 == 6 ? ETH_P_IPV6 : ETH_P_IP);

			m.hwhdr = hw;
			m.hwhdr_len = rndn(&seed, (unsigned)n + 1);
			if (rndn(&seed, 8) == 0)
				hw[rndn(&seed, (unsigned)n)] ^= 0x08;
			mp = &m;
		}
		r = run(pol, &p, mp, &i);
		if ((unsigned)r >= REASON_MAX) {
			bad++;
			continue;
		}
		count[r]++;
		if (r == REASON_FORWARD && !forward_sound(pol, p.b, p.len, mp,
							  &i)) {
			if (bad++ < 5)
				printf("# unsound forward at iteration %u\n",
				       it);
		}
	}
	for (int r = 0; r < REASON_MAX; r++) {
		printf("# fuzz %-16s %u\n", classify_reason_name(r), count[r]);
		distinct += count[r] != 0;
	}
	ok(bad == 0, "fuzz: %u mutations, no unsound FORWARD, no crash", N);
	ok(count[REASON_FORWARD] > N / 20 && distinct == REASON_MAX,
	   "fuzz: reached forward %u times and %u of %d reasons",
	   count[REASON_FORWARD], distinct, REASON_MAX);
}

/* The memo's own contract (classify_memo.h), case by case. */
static bool memo_hit(const struct classify_memo *memo, const struct pkt *p,
		     const struct pkt_meta *meta, uint64_t value)
{
	const struct classify_memo_entry *e =
		classify_memo_find(memo, p->b, p->len, meta);
	struct ptb_info h;

	return e && e->value == value &&
	       classify_headers(&open_pol, p->b, p->len, meta, &h) == REASON_FORWARD &&
	       memcmp(&e->info, &h, sizeof(h)) == 0;
}

static bool memo_keep(struct classify_memo *memo, const struct pkt *p,
		      const struct pkt_meta *meta, uint64_t value)
{
	struct ptb_info h;

	return classify_headers(&open_pol, p->b, p->len, meta, &h) == REASON_FORWARD &&
	       classify_memo_store(memo, p->b, p->len, meta, &h, value);
}

/* A PTB the classifier passes that the memo does not keep. */
static bool memo_refuses(struct classify_memo *memo, const struct pkt *p,
			 const struct pkt_meta *meta)
{
	struct ptb_info h;

	return classify_headers(&open_pol, p->b, p->len, meta, &h) == REASON_FORWARD &&
	       !classify_memo_store(memo, p->b, p->len, meta, &h, 1);
}

/* A copy of p with the byte at off set to v, checksums fixed. */
static struct pkt edited(const struct pkt *p, size_t off, uint8_t v)
{
	struct pkt q = *p;

	q.b[off] = v;
	pb_fix(&q);
	return q;
}

static void test_memo(void)
{
	static const uint8_t ucast[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint16_t q1[] = { ETH_P_8021Q };
	static const struct pb_ext hop[] = { { IPPROTO_HOPOPTS, 0, 0, 0 } };
	struct pkt_meta m = { .hwtype = ARPHRD_ETHER, .ifindex = 2,
			      .hw_protocol = ETH_P_IP, .link_mtu = 1500 };
	struct pkt_meta m6, mb;
	struct classify_memo memo;
	uint8_t hw[32], hw6[32], hwb[32];
	struct pkt p4, p6, q;
	const size_t qt = PB4_QUOTE;	/* the quoted IPv4 header */

	classify_memo_clear(&memo);
	v4(&p4, IPPROTO_TCP, 443, 40000);
	v6(&p6, IPPROTO_TCP, 443, 40000);
	m.hwhdr = hw;
	m.hwhdr_len = pb_eth(hw, ucast, NULL, 0, ETH_P_IP);
	m6 = m;
	m6.hwhdr = hw6;
	m6.hwhdr_len = pb_eth(hw6, ucast, NULL, 0, ETH_P_IPV6);
	m6.hw_protocol = ETH_P_IPV6;

	ok(!classify_memo_find(&memo, p4.b, p4.len, &m), "memo: empty at start");
	ok(memo_keep(&memo, &p4, &m, 4) && memo_keep(&memo, &p6, &m6, 6),
	   "memo: keeps a plain IPv4 and a plain IPv6 PTB");
	ok(memo_hit(&memo, &p4, &m, 4) && memo_hit(&memo, &p6, &m6, 6),
	   "memo: finds both, with their result and value");

	/* What differs between a router's PTBs for one flow. */
	q = edited(&p4, 4, 0x77);			/* outer ID */
	q = edited(&q, 8, 3);				/* TTL */
	q = edited(&q, 1, 0xb8);			/* TOS */
	q = edited(&q, qt + 4, 0x42);			/* quoted ID */
	q = edited(&q, qt + 2, 0x02);			/* quoted length */
	q = edited(&q, qt + 8, 9);			/* quoted TTL */
	q = edited(&q, qt + 20 + 4, 0xa5);		/* TCP sequence */
	q = edited(&q, qt + 20 + 7, 0x5a);
	q = edited(&q, q.len - 1, 0x11);		/* quoted payload */
	ok(memo_hit(&memo, &q, &m, 4),
	   "memo: IPv4 repetition (IDs, TTLs, TOS, lengths, sequence, checksums) found");
	q = edited(&p6, 1, 0x2f);			/* traffic class, flow label */
	q = edited(&q, 3, 0x99);
	q = edited(&q, 7, 1);				/* hop limit */
	q = edited(&q, PB6_QUOTE + 5, 0x10);		/* quoted payload length */
	q = edited(&q, PB6_QUOTE + 7, 2);		/* quoted hop limit */
	q = edited(&q, PB6_QUOTE + 40 + 5, 0x33);	/* TCP sequence */
	ok(memo_hit(&memo, &q, &m6, 6),
	   "memo: IPv6 repetition (flow label, hop limits, lengths, sequence) found");
	q = p4;
	q.b[PB4_ICMP + 2] ^= 0xff;			/* checksum: not its part */
	ok(memo_hit(&memo, &q, &m, 4),
	   "memo: a wrong checksum is found (classify_checksum() is the agent's next step)");

	/* Every field the classifier reads tells a PTB apart. */
	ok(!memo_hit(&memo, &(struct pkt){ 0 }, &m, 4), "memo: empty packet missed");
	{
		static const struct { size_t off; uint8_t v; const char *what; } f4[] = {
			{ 0, 0x46, "IHL" }, { 3, 0x10, "total length" },
			{ 6, 0x20, "MF" }, { 9, 17, "protocol" },
			{ 15, 2, "outer source" }, { 19, 11, "outer destination" },
			{ PB4_ICMP, 11, "type" }, { PB4_ICMP + 1, 3, "code" },
			{ PB4_ICMP + 7, 0x20, "MTU" }, { qt, 0x46, "quoted IHL" },
			{ qt + 7, 8, "quoted fragment offset" }, { qt + 9, 17, "quoted protocol" },
			{ qt + 15, 11, "quoted source" }, { qt + 19, 8, "quoted destination" },
			{ qt + 20, 2, "source port" }, { qt + 23, 1, "destination port" },
		};
		bool all = true;

		for (size_t k = 0; k < sizeof(f4) / sizeof(f4[0]); k++) {
			q = edited(&p4, f4[k].off, f4[k].v);
			if (memo_hit(&memo, &q, &m, 4) ||
			    classify_memo_find(&memo, q.b, q.len, &m)) {
				all = false;
				printf("# IPv4 %s not told apart\n", f4[k].what);
			}
		}
		ok(all, "memo: IPv4 header, ICMP, quote and port changes missed");
	}
	{
		static const struct { size_t off; uint8_t v; const char *what; } f6[] = {
			{ 0, 0x40, "version" }, { 5, 0x20, "payload length" },
			{ 6, 0, "next header" }, { 23, 2, "outer source" },
			{ 39, 11, "outer destination" }, { PB6_ICMP, 1, "type" },
			{ PB6_ICMP + 1, 1, "code" }, { PB6_ICMP + 6, 0x06, "MTU" },
			{ PB6_QUOTE, 0x40, "quoted version" }, { PB6_QUOTE + 6, 17, "quoted next header" },
			{ PB6_QUOTE + 23, 1, "quoted source" }, { PB6_QUOTE + 39, 1, "quoted destination" },
			{ PB6_QUOTE + 40, 2, "source port" }, { PB6_QUOTE + 43, 1, "destination port" },
		};
		bool all = true;

		for (size_t k = 0; k < sizeof(f6) / sizeof(f6[0]); k++) {
			q = edited(&p6, f6[k].off, f6[k].v);
			if (classify_memo_find(&memo, q.b, q.len, &m6)) {
				all = false;
				printf("# IPv6 %s not told apart\n", f6[k].what);
			}
		}
		ok(all, "memo: IPv6 header, ICMPv6, quote and port changes missed");
	}
	q = p4;
	q.b[q.len++] = 0;				/* one byte more captured */
	ok(!classify_memo_find(&memo, q.b, q.len, &m), "memo: another length missed");
	mb = m;
	mb.link_mtu = 1400;
	ok(!classify_memo_find(&memo, p4.b, p4.len, &mb), "memo: another link MTU missed");
	mb = m;
	mb.hw_protocol = ETH_P_IPV6;
	ok(!classify_memo_find(&memo, p4.b, p4.len, &mb), "memo: another hw_protocol missed");
	mb = m;
	mb.hwhdr = hwb;
	mb.hwhdr_len = pb_eth(hwb, bcast, NULL, 0, ETH_P_IP);
	ok(!classify_memo_find(&memo, p4.b, p4.len, &mb), "memo: a broadcast copy missed");
	mb.hwhdr_len = pb_eth(hwb, ucast, NULL, 0, ETH_P_IPV6);
	ok(!classify_memo_find(&memo, p4.b, p4.len, &mb), "memo: another EtherType missed");
	ok(!classify_memo_find(&memo, p4.b, p4.len, NULL) &&
	   !classify_memo_find(&memo, p4.b, p4.len, &(struct pkt_meta){ .link_mtu = 1500,
				.hw_protocol = ETH_P_IP }),
	   "memo: no meta, or no Ethernet header, missed");
	mb = m;
	mb.hwhdr = hwb;
	mb.hwhdr_len = pb_eth(hwb, ucast, NULL, 0, ETH_P_IP);
	hwb[6] ^= 1;					/* source MAC: not read */
	ok(memo_hit(&memo, &p4, &mb, 4), "memo: another source MAC found");

	/* Only the shapes the masks describe are kept. */
	classify_memo_clear(&memo);
	ok(!classify_memo_find(&memo, p4.b, p4.len, &m), "memo: cleared");
	pb_ptb4(&q, &(struct pb_ptb4){ .src = "198.51.100.1", .dst = "203.0.113.10",
		.mtu = 1400, .q = { "203.0.113.10", "192.0.2.7", IPPROTO_TCP, 443, 9 },
		.outer_opt_words = 1 });
	ok(memo_refuses(&memo, &q, &m), "memo: IPv4 with options not kept");
	pb_ptb4(&q, &(struct pb_ptb4){ .src = "198.51.100.1", .dst = "203.0.113.10",
		.mtu = 1400, .q = { "203.0.113.10", "192.0.2.7", IPPROTO_TCP, 443, 9 },
		.quote_opt_words = 1 });
	ok(memo_refuses(&memo, &q, &m), "memo: quoted IPv4 with options not kept");
	v6x(&q, IPPROTO_TCP, 443, 40000, hop, 1);
	ok(memo_refuses(&memo, &q, &m6), "memo: quoted IPv6 extension header not kept");
	pb_ptb6(&q, &(struct pb_ptb6){ .src = "2001:db8:ffff::1", .dst = "2001:db8:10::10",
		.mtu = 1400, .q = { "2001:db8:10::10", "2001:db8:20::7", IPPROTO_TCP, 443, 9 },
		.outer_ext = hop, .n_outer_ext = 1 });
	ok(memo_refuses(&memo, &q, &m6), "memo: outer IPv6 extension header not kept");
	v4(&q, IPPROTO_GRE, 0, 0);
	ok(memo_refuses(&memo, &q, &m), "memo: a quote without ports not kept");
	mb = m;
	mb.hwhdr = hwb;
	mb.hwhdr_len = pb_eth(hwb, ucast, q1, 1, ETH_P_IP);
	ok(memo_refuses(&memo, &p4, &mb), "memo: an 802.1Q-tagged header not kept");
	ok(!classify_memo_find(&memo, p4.b, p4.len, &m) &&
	   !classify_memo_find(&memo, p6.b, p6.len, &m6), "memo: nothing kept of those");
	mb = m;
	mb.hwhdr = NULL;
	mb.hwhdr_len = 0;
	ok(memo_keep(&memo, &p4, &mb, 9) && memo_hit(&memo, &p4, &mb, 9) &&
	   !classify_memo_find(&memo, p4.b, p4.len, &m),
	   "memo: kept without an Ethernet header, found only without one");
}

static void test_memo_agree(void)
{
	ok(n_memo_hit > 1000 && n_memo_bad == 0,
	   "memo: %u hits over all classifications, each what classify_headers() says (%u not)",
	   n_memo_hit, n_memo_bad);
}

static void test_split(void)
{
	ok(n_split > 200000 && n_split_bad == 0,
	   "classify_headers + classify_checksum agree with classify_packet in %u calls (%u differ)",
	   n_split, n_split_bad);
}

int main(void)
{
	test_names();
	test_valid();
	test_format();
	test_l2();
	test_v6_quote_ext();
	test_v6_outer_ext();
	test_truncations();
	test_malformed();
	test_v4_quote_fragment();
	test_ports();
	test_dst_mismatch();
	test_mtu();
	test_denied();
	test_denied_many();
	test_vips();
	test_checksum();
	test_oversized();
	test_fuzz();
	test_memo();
	test_split();
	test_memo_agree();
	printf("1..%u\n", n_run);
	return n_failed ? 1 : 0;
}
