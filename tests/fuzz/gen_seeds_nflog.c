/* gen_seeds_nflog.c - write the seed corpus of fuzz_nflog.c
 * (tests/fuzz/corpus/nflog).
 *
 * Run once by hand when the input layout changes; the output is
 * committed. Each seed is one NFLOG datagram as the kernel builds it
 * (libmnl builds the messages; the PTBs come from pktbuild.h): single
 * packets of both families with the attributes the agent reads, a batch
 * with a sequence gap, a broadcast copy, an error message before a
 * packet, and broken ones (an attribute past its message, a message
 * past the datagram, a short packet header, a message of another type).
 *
 * From the top of the tree (the empty config.h stands for autoconf's):
 *   : > /tmp/config.h && cc -std=c11 -D_GNU_SOURCE -I/tmp -Isrc -Itests \
 *      tests/fuzz/gen_seeds_nflog.c -lmnl -o /tmp/gen_seeds_nflog &&
 *   /tmp/gen_seeds_nflog tests/fuzz/corpus/nflog
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include "pktbuild.h"

static const char *dir;
static unsigned n_written;
static struct pkt ptb4, ptb6;

/* A datagram under construction: messages one after the other. */
struct dgram {
	_Alignas(struct nlmsghdr) uint8_t b[8192];
	size_t len;
};

static void put(const char *name, const struct dgram *d)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wbe");
	if (!f || fwrite(d->b, 1, d->len, f) != d->len || fclose(f) != 0) {
		fprintf(stderr, "gen_seeds_nflog: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	n_written++;
}

/* A netfilter message of type (subsystem ULOG) for family, appended. */
static struct nlmsghdr *msg(struct dgram *d, uint8_t type, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(d->b + d->len);
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	nlh->nlmsg_type = (uint16_t)(NFNL_SUBSYS_ULOG << 8 | type);
	g->nfgen_family = family;
	g->res_id = htons(33);
	return nlh;
}

static void done(struct dgram *d, const struct nlmsghdr *nlh)
{
	d->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* A packet message as nfnetlink_log builds it for a PTB on Ethernet. */
static void packet(struct dgram *d, const struct pkt *p, uint32_t seq,
		   bool bcast)
{
	static const uint8_t ucast_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	bool v6 = p->b[0] >> 4 == 6;
	uint16_t et = v6 ? 0x86dd : 0x0800;
	struct nfulnl_msg_packet_hdr ph = { .hw_protocol = htons(et) };
	struct nlmsghdr *nlh = msg(d, NFULNL_MSG_PACKET, v6 ? AF_INET6 : AF_INET);
	uint8_t hw[14];
	size_t hwlen = pb_eth(hw, bcast ? bcast_mac : ucast_mac, NULL, 0, et);

	mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(ph), &ph);
	mnl_attr_put_u32(nlh, NFULA_MARK, 0);
	mnl_attr_put_u32(nlh, NFULA_IFINDEX_INDEV, htonl(2));
	mnl_attr_put_u16(nlh, NFULA_HWTYPE, htons(1));
	mnl_attr_put_u16(nlh, NFULA_HWLEN, htons((uint16_t)hwlen));
	mnl_attr_put(nlh, NFULA_HWHEADER, hwlen, hw);
	mnl_attr_put_strz(nlh, NFULA_PREFIX, "pmtud");
	mnl_attr_put_u32(nlh, NFULA_SEQ, htonl(seq));
	mnl_attr_put(nlh, NFULA_PAYLOAD, p->len, p->b);
	done(d, nlh);
}

/* A message with only a payload attribute, of the given type. */
static struct nlmsghdr *bare(struct dgram *d, uint8_t type)
{
	struct nlmsghdr *nlh = msg(d, type, AF_INET);

	mnl_attr_put(nlh, NFULA_PAYLOAD, ptb4.len, ptb4.b);
	return nlh;
}

static void seeds(void)
{
	struct dgram d;
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;

	d.len = 0; packet(&d, &ptb4, 0, false); put("v4", &d);
	d.len = 0; packet(&d, &ptb6, 0, false); put("v6", &d);
	d.len = 0; packet(&d, &ptb4, 0, true); put("broadcast", &d);
	d.len = 0;
	packet(&d, &ptb4, 1, false);
	packet(&d, &ptb6, 2, false);
	packet(&d, &ptb4, 5, false);
	put("batch_gap", &d);

	d.len = 0;
	nlh = mnl_nlmsg_put_header(d.b);
	nlh->nlmsg_type = NLMSG_ERROR;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = -EINVAL;
	done(&d, nlh);
	packet(&d, &ptb6, 7, false);
	put("error_then_packet", &d);

	d.len = 0; done(&d, bare(&d, NFULNL_MSG_PACKET)); put("bare", &d);

	/* The last attribute claims 200 bytes past its message's end. */
	d.len = 0;
	nlh = bare(&d, NFULNL_MSG_PACKET);
	mnl_attr_put_u32(nlh, NFULA_SEQ, 0);
	((struct nlattr *)((uint8_t *)nlh + nlh->nlmsg_len - 8))->nla_len = 200;
	done(&d, nlh);
	put("attr_past_message", &d);

	/* The message claims 64 bytes more than the datagram holds. */
	d.len = 0;
	nlh = bare(&d, NFULNL_MSG_PACKET);
	done(&d, nlh);
	nlh->nlmsg_len += 64;
	put("message_past_datagram", &d);

	d.len = 0;
	nlh = msg(&d, NFULNL_MSG_PACKET, AF_INET);
	mnl_attr_put(nlh, NFULA_PACKET_HDR, 1, "\x08");
	mnl_attr_put(nlh, NFULA_PAYLOAD, ptb4.len, ptb4.b);
	done(&d, nlh);
	put("short_packet_hdr", &d);

	d.len = 0;
	done(&d, bare(&d, NFULNL_MSG_CONFIG));
	packet(&d, &ptb4, 3, false);
	put("other_message", &d);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds_nflog DIR\n");
		return 2;
	}
	dir = argv[1];
	pb_ptb4(&ptb4, &(struct pb_ptb4){
		.src = "198.51.100.1", .dst = "203.0.113.10", .mtu = 1400,
		.q = { "203.0.113.10", "198.51.100.7", IPPROTO_TCP, 443, 40000 } });
	pb_ptb6(&ptb6, &(struct pb_ptb6){
		.src = "2001:db8:2::1", .dst = "2001:db8:1::10", .mtu = 1280,
		.q = { "2001:db8:1::10", "2001:db8:2::7", IPPROTO_TCP, 443, 40000 } });
	seeds();
	printf("gen_seeds_nflog: %u seeds in %s\n", n_written, dir);
	return 0;
}
