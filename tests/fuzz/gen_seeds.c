/* gen_seeds.c - write the classify seed corpus (tests/fuzz/corpus/classify).
 *
 * Run once by hand when the input layout changes; the output is
 * committed. Each seed is the FC_HDR policy/metadata bytes of
 * classify_input.h, an optional Ethernet header, then a PTB built by
 * pktbuild.h: valid ones of both families (options, extension headers,
 * VLAN tags, each L4 protocol) and broken ones (cut short, wrong type,
 * bad MTU, mismatched addresses), so the fuzzer starts next to every
 * decision of the classifier.
 *
 * From the top of the tree (the empty config.h stands for autoconf's):
 *   : > /tmp/config.h && cc -std=c11 -D_GNU_SOURCE -I/tmp -Isrc -Itests \
 *      -Itests/fuzz tests/fuzz/gen_seeds.c -o /tmp/gen_seeds &&
 *   /tmp/gen_seeds tests/fuzz/corpus/classify
 */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "classify.h"
#include "pktbuild.h"
#include "classify_input.h"

#define OUT4	"203.0.113.10"		/* us: PTB destination, quoted source */
#define CLI4	"198.51.100.7"
#define RTR4	"198.51.100.1"
#define OUT6	"2001:db8:1::10"
#define CLI6	"2001:db8:2::7"
#define RTR6	"2001:db8:2::1"

static const char *dir;
static unsigned n_written;

static void put(const char *name, uint8_t flags, uint8_t hwproto,
		uint8_t minmtu, uint8_t maxmtu, uint8_t nports,
		const uint8_t *hw, size_t hwlen, const uint8_t *pkt, size_t len)
{
	uint8_t hdr[FC_HDR] = { flags, (uint8_t)hwlen, hwproto, minmtu,
				maxmtu, nports };
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wbe");
	if (!f || fwrite(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
	    (hwlen && fwrite(hw, 1, hwlen, f) != hwlen) ||
	    (len && fwrite(pkt, 1, len, f) != len) || fclose(f) != 0) {
		fprintf(stderr, "gen_seeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	n_written++;
}

/* No metadata, any port, default MTU range (68..65535). */
static void plain(const char *name, const struct pkt *p)
{
	put(name, 0, 0, 1, 7, 0, NULL, 0, p->b, p->len);
}

static struct pb_ptb4 v4(uint8_t proto, uint16_t sport)
{
	return (struct pb_ptb4){
		.src = RTR4, .dst = OUT4, .mtu = 1400,
		.q = { OUT4, CLI4, proto, sport, 40000 }, .payload = 4,
	};
}

static struct pb_ptb6 v6(uint8_t proto, uint16_t sport)
{
	return (struct pb_ptb6){
		.src = RTR6, .dst = OUT6, .mtu = 1400,
		.q = { OUT6, CLI6, proto, sport, 40000 }, .payload = 4,
	};
}

static void seeds4(void)
{
	static const struct { const char *name; uint8_t proto; } l4[] = {
		{ "v4_tcp", IPPROTO_TCP }, { "v4_udp", IPPROTO_UDP },
		{ "v4_sctp", IPPROTO_SCTP }, { "v4_gre", IPPROTO_GRE },
	};
	struct pb_ptb4 o;
	struct pkt p;

	for (size_t i = 0; i < sizeof(l4) / sizeof(l4[0]); i++) {
		o = v4(l4[i].proto, 443);
		pb_ptb4(&p, &o);
		plain(l4[i].name, &p);
	}
	o = v4(IPPROTO_TCP, 443);
	o.outer_opt_words = 2;
	o.quote_opt_words = 3;
	pb_ptb4(&p, &o);
	plain("v4_options", &p);

	o = v4(IPPROTO_TCP, 443);
	pb_ptb4(&p, &o);
	put("v4_ports_443", FC_PORTS, 0, 1, 7, 4, NULL, 0, p.b, p.len);
	put("v4_ports_miss", FC_PORTS, 0, 1, 7, 2, NULL, 0, p.b, p.len);
	put("v4_minmtu_1500", 0, 0, 5, 7, 0, NULL, 0, p.b, p.len);
	put("v4_trunc", 0, 0, 1, 7, 0, NULL, 0, p.b, PB4_QUOTE + 24);
	p.b[PB4_ICMP] = 11;			/* time exceeded */
	pb_fix(&p);
	plain("v4_not_ptb", &p);

	o = v4(IPPROTO_TCP, 443);
	o.mtu = 40;
	pb_ptb4(&p, &o);
	plain("v4_bad_mtu", &p);

	o = v4(IPPROTO_TCP, 443);
	o.q.src = "203.0.113.99";
	pb_ptb4(&p, &o);
	plain("v4_dst_mismatch", &p);

	o = v4(IPPROTO_TCP, 443);
	o.src = FC_DENY4;
	pb_ptb4(&p, &o);
	put("v4_denied", FC_DENY, 0, 1, 7, 0, NULL, 0, p.b, p.len);

	o = v4(IPPROTO_TCP, 443);
	pb_ptb4(&p, &o);
	p.b[PB4_FRAG] = 0x20;			/* MF */
	pb_fix(&p);
	plain("v4_fragment", &p);

	o = v4(IPPROTO_TCP, 443);
	pb_ptb4(&p, &o);
	p.b[PB4_ICMP + 2] ^= 0x01;
	plain("v4_bad_checksum", &p);

	o = v4(IPPROTO_TCP, 443);
	o.payload = PTB_MAX4 + 1 - 68;		/* one byte too long */
	pb_ptb4(&p, &o);
	plain("v4_oversized", &p);
}

static void seeds6(void)
{
	static const struct pb_ext chain[] = {
		{ IPPROTO_HOPOPTS, 0, 0, false }, { IPPROTO_ROUTING, 2, 0, false },
		{ IPPROTO_FRAGMENT, 0, 0, true }, { IPPROTO_AH, 4, 0, false },
		{ IPPROTO_DSTOPTS, 1, 0, false },
	};
	static const struct pb_ext later_frag[] = {
		{ IPPROTO_FRAGMENT, 0, 185, false },
	};
	static const struct pb_ext outer[] = {
		{ IPPROTO_HOPOPTS, 0, 0, false }, { IPPROTO_DSTOPTS, 0, 0, false },
	};
	struct pb_ptb6 o;
	struct pkt p;

	o = v6(IPPROTO_TCP, 443);
	pb_ptb6(&p, &o);
	plain("v6_tcp", &p);
	put("v6_ports_443", FC_PORTS, 0, 1, 7, 4, NULL, 0, p.b, p.len);
	put("v6_trunc", 0, 0, 1, 7, 0, NULL, 0, p.b, PB6_QUOTE + 44);
	put("v6_maxmtu_1280", 0, 0, 1, 3, 0, NULL, 0, p.b, p.len);

	o = v6(IPPROTO_UDP, 53);
	pb_ptb6(&p, &o);
	plain("v6_udp", &p);

	o = v6(IPPROTO_TCP, 443);
	o.ext = chain;
	o.n_ext = sizeof(chain) / sizeof(chain[0]);
	pb_ptb6(&p, &o);
	plain("v6_exthdr_chain", &p);

	o = v6(IPPROTO_TCP, 443);
	o.ext = later_frag;
	o.n_ext = 1;
	pb_ptb6(&p, &o);
	put("v6_later_fragment", FC_PORTS, 0, 1, 7, 4, NULL, 0, p.b, p.len);

	o = v6(IPPROTO_TCP, 443);
	o.outer_ext = outer;
	o.n_outer_ext = 2;
	pb_ptb6(&p, &o);
	plain("v6_outer_ext", &p);

	o = v6(IPPROTO_TCP, 443);
	o.mtu = 1200;
	pb_ptb6(&p, &o);
	plain("v6_bad_mtu", &p);

	o = v6(IPPROTO_TCP, 443);
	o.src = FC_DENY6;
	pb_ptb6(&p, &o);
	put("v6_denied", FC_DENY, 0, 1, 7, 0, NULL, 0, p.b, p.len);

	o = v6(IPPROTO_TCP, 443);
	o.q.src = "2001:db8:1::99";
	pb_ptb6(&p, &o);
	plain("v6_dst_mismatch", &p);

	o = v6(IPPROTO_TCP, 443);
	pb_ptb6(&p, &o);
	p.b[PB6_SRC + 15] ^= 0x01;		/* pseudo-header only */
	plain("v6_bad_checksum", &p);

	o = v6(IPPROTO_TCP, 443);
	o.payload = PTB_MAX6 + 1 - 108;
	pb_ptb6(&p, &o);
	plain("v6_oversized", &p);
}

/* Link-layer metadata: unicast, broadcast, VLAN tags, wrong EtherType. */
static void seeds_l2(void)
{
	static const uint8_t uni[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint16_t tags[2] = { 0x88a8, 0x8100 };
	const uint8_t eth = FC_META | FC_HWHDR | 1 << 4;	/* ARPHRD_ETHER */
	struct pb_ptb4 o4 = v4(IPPROTO_TCP, 443);
	struct pb_ptb6 o6 = v6(IPPROTO_TCP, 443);
	struct pkt p4, p6;
	uint8_t hw[32];
	size_t n;

	pb_ptb4(&p4, &o4);
	pb_ptb6(&p6, &o6);
	n = pb_eth(hw, uni, NULL, 0, 0x0800);
	put("l2_v4_unicast", eth, 1, 1, 7, 0, hw, n, p4.b, p4.len);
	n = pb_eth(hw, bc, NULL, 0, 0x0800);
	put("l2_v4_broadcast", eth, 1, 1, 7, 0, hw, n, p4.b, p4.len);
	n = pb_eth(hw, uni, tags, 2, 0x86dd);
	put("l2_v6_qinq", eth, 2, 1, 7, 0, hw, n, p6.b, p6.len);
	put("l2_v6_qinq_cut", eth, 2, 1, 7, 0, hw, n - 3, p6.b, p6.len);
	n = pb_eth(hw, uni, NULL, 0, 0x0800);
	put("l2_v6_wrong_ethertype", eth, 2, 1, 7, 0, hw, n, p6.b, p6.len);
	put("meta_hwproto_mismatch", FC_META, 1, 1, 7, 0, NULL, 0, p6.b, p6.len);
	n = pb_eth(hw, bc, NULL, 0, 0x86dd);
	put("l2_loopback_hwtype", FC_META | FC_HWHDR | 2 << 4, 2, 1, 7, 0,
	    hw, n, p6.b, p6.len);
}

/* Not IP at all. */
static void seeds_junk(void)
{
	static const uint8_t junk[] = { 0x00, 0x45, 0x60, 0xff, 0x50 };

	put("empty", 0, 0, 1, 7, 0, NULL, 0, NULL, 0);
	put("junk", 0, 0, 1, 7, 0, NULL, 0, junk, sizeof(junk));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds DIR\n");
		return 2;
	}
	dir = argv[1];
	seeds4();
	seeds6();
	seeds_l2();
	seeds_junk();
	printf("gen_seeds: %u seeds in %s\n", n_written, dir);
	return 0;
}
