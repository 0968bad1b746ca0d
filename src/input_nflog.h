/* input_nflog.h - receive captured PTBs from an NFLOG group (libmnl +
 * libnetfilter_log's nflog_nlmsg_* helpers).
 *
 * Contract:
 *  - input_nflog_open() binds the group in copy-packet mode with the
 *    full copy range, queue threshold 1 and flush timeout 0 (a lone
 *    PTB is delivered at once), asks for per-instance sequence numbers,
 *    and sets SO_RCVBUFFORCE to rcvbuf. A group already bound by
 *    another process is an error (EXIT_INPUT) with a message saying
 *    so, never a silent hang.
 *  - input_nflog_receive() drains the non-blocking socket (recv until
 *    EAGAIN; each recv may carry several messages), calling cb once per
 *    packet with the payload (starting at the IP header) and its
 *    metadata; no allocation per packet. ENOBUFS is counted in
 *    lost_enobufs and receiving continues; packets the kernel could not
 *    queue are counted in seq_gaps.
 *  - input_nflog_close() unbinds and closes. Idempotent (also on a
 *    zeroed struct or after a failed open).
 */
#ifndef PMTUD_INPUT_NFLOG_H
#define PMTUD_INPUT_NFLOG_H

#include <stddef.h>
#include <stdint.h>
#include "classify.h"

struct mnl_socket;

typedef void (*pkt_cb)(void *arg, const uint8_t *pkt, size_t len,
		       const struct pkt_meta *meta);

struct nflog_input {
	struct mnl_socket *nl;
	int fd;
	uint16_t group;
	uint32_t portid;
	uint64_t received;	/* packets handed to cb */
	uint64_t lost_enobufs;	/* recv() ENOBUFS events */
	uint64_t seq_gaps;	/* packets lost per NFULA_SEQ (when present) */
	uint32_t next_seq;
	bool have_seq;
};

int input_nflog_open(struct nflog_input *in, uint16_t group, uint32_t rcvbuf,
		     char *err, size_t errlen);
/* Returns packets delivered (>= 0), or -1 on a fatal socket error. */
int input_nflog_receive(struct nflog_input *in, pkt_cb cb, void *arg);
void input_nflog_close(struct nflog_input *in);


#endif
