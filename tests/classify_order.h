/* classify_order.h - for the tests of the two-step classification
 * (classify_headers() then classify_checksum()): the reasons of the
 * checks that come after the checksum (6b) in classify.c's order, which
 * classify_packet() does not reach when the checksum fails first. */
#ifndef PMTUD_TEST_CLASSIFY_ORDER_H
#define PMTUD_TEST_CLASSIFY_ORDER_H

#include <stdbool.h>
#include "classify.h"

static inline bool after_checksum(enum classify_reason r)
{
	switch (r) {
	case REASON_DENIED_SOURCE: case REASON_BAD_MTU:
	case REASON_QUOTE_TRUNCATED: case REASON_QUOTE_BAD:
	case REASON_QUOTE_EXTHDR: case REASON_DST_MISMATCH:
	case REASON_NOT_VIP: case REASON_QUOTE_PROTO: case REASON_PORT:
		return true;
	default:
		return false;
	}
}

#endif
