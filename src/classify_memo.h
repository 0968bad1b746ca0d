/* classify_memo.h - the last PTB of each family that classify_headers()
 * passed, so that its repetitions are known without classifying them.
 *
 * A router repeats one PTB for every oversized segment of a flow: the
 * copies differ in the TCP sequence number, the IP IDs, TTLs, quoted
 * lengths and checksums, none of which the classifier reads. Under such a flood
 * (the common one) the classifier and the dedup fingerprint were the
 * agent's largest cost per PTB; a masked compare replaces both.
 *
 * Contract:
 *  - classify_memo_store() keeps a packet classify_headers() passed
 *    (REASON_FORWARD), with its ptb_info and a value of the caller's
 *    (the agent: the dedup fingerprint), when it has the common shape:
 *    an Ethernet header of 14 bytes, or none the classifier reads; IPv4
 *    with no options outside and inside the quote, or IPv6 with no
 *    extension header outside or inside the quote; a quoted L4 header
 *    with ports. Other packets are not kept (false).
 *  - classify_memo_find() returns the entry whose packet agrees with
 *    pkt, len and meta on every byte and field classify_headers()
 *    reads for that shape (the masks in classify_memo.c, which follow
 *    classify.c check by check): classify_headers() would then return
 *    REASON_FORWARD and the same ptb_info. NULL otherwise. The bytes
 *    compared are within the stored packet's length, which len equals.
 *  - Valid for one classify_policy: classify_memo_clear() whenever the
 *    policy changes (its lists, limits or filters), and at start.
 *  - Fixed memory, no allocation; a miss costs a few compares.
 *  tests/test_classify.c checks, on every packet of its corpus and on
 *  mutations of stored ones, that a hit is what classify_headers()
 *  says; tests/fuzz/fuzz_classify.c does the same on fuzzed input.
 */
#ifndef PMTUD_CLASSIFY_MEMO_H
#define PMTUD_CLASSIFY_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "classify.h"

#define CLASSIFY_MEMO_BYTES	96	/* IPv6: 40 + 8 + 40 + 8 */

struct classify_memo_entry {
	uint64_t w[CLASSIFY_MEMO_BYTES / 8];	/* the packet, masked */
	uint64_t hw[2];			/* Ethernet header, masked */
	size_t len;			/* 0: empty */
	uint32_t link_mtu;
	uint16_t hw_protocol;
	bool eth;			/* classify_eth_hdr(): hw was read */
	struct ptb_info info;
	uint64_t value;			/* the caller's */
};

struct classify_memo {
	struct classify_memo_entry e[2];	/* IPv4, IPv6 */
};

void classify_memo_clear(struct classify_memo *m);

bool classify_memo_store(struct classify_memo *m, const uint8_t *pkt,
			 size_t len, const struct pkt_meta *meta,
			 const struct ptb_info *info, uint64_t value);

const struct classify_memo_entry *
classify_memo_find(const struct classify_memo *m, const uint8_t *pkt,
		   size_t len, const struct pkt_meta *meta);

#endif
