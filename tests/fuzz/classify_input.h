/* classify_input.h - how fuzz_classify reads its input, shared with
 * gen_seeds so the seed corpus and the target agree.
 *
 * The first FC_HDR bytes choose the policy and the metadata, so every
 * branch of classify_packet() is reachable from the input alone:
 *
 *   [0] flags: FC_META, FC_HWHDR, FC_PORTS, FC_DENY, hwtype (FC_HWTYPE),
 *       FC_VIPS
 *   [1] hwhdr length, taken from the bytes after the header (FC_HWHDR)
 *   [2] hw_protocol: index into fc_hwproto[] (modulo its size); its
 *       top 3 bits: the link MTU (size cap), index into fc_mtu[]
 *   [3] min_mtu4: index into fc_mtu[]
 *   [4] max_mtu: index into fc_mtu[]
 *   [5] number of ports from fc_ports[] in the filter (FC_PORTS)
 *
 * then the hwhdr (if any), then the packet from its IP header on.
 */
#ifndef PMTUD_FUZZ_CLASSIFY_INPUT_H
#define PMTUD_FUZZ_CLASSIFY_INPUT_H

#include <stdint.h>

#define FC_HDR		6

#define FC_META		0x01	/* pass a struct pkt_meta */
#define FC_HWHDR	0x02	/* the meta carries a link-layer header */
#define FC_PORTS	0x04	/* port filter on */
#define FC_DENY		0x08	/* deny list on (fc_deny[]) */
#define FC_HWTYPE(f)	(((f) >> 4) & 3)	/* index into fc_hwtype[] */
#define FC_LINK_MTU(b)	((b) >> 5)		/* index into fc_mtu[] */
#define FC_VIPS		0x40	/* vips on (FC_VIP4/FC_VIP6 prefixes) */

static const uint16_t fc_hwtype[4] = { 0, 1 /* ETHER */, 772 /* LOOPBACK */,
				       0xfffe /* NONE */ };
static const uint16_t fc_hwproto[5] = { 0, 0x0800, 0x86dd, 0x0806, 0x8100 };
static const uint32_t fc_mtu[8] = { 0, 68, 576, 1280, 1400, 1500, 9000, 65535 };
static const uint16_t fc_ports[6] = { 22, 53, 80, 443, 8080, 40000 };	/* sorted */

/* Outer sources the seeds use; the deny list matches the first two. */
#define FC_DENY4	"192.0.2.250"
#define FC_DENY6	"2001:db8::fa"
/* vips: a v4 /25 and a v6 /120, so prefix bits are exercised. */
#define FC_VIP4		"203.0.113.0"
#define FC_VIP4_LEN	25
#define FC_VIP6		"2001:db8:10::"
#define FC_VIP6_LEN	120

#endif
