/* input_nflog.h - receive captured PTBs from an NFLOG group (libmnl +
 * libnetfilter_log's nflog_nlmsg_* helpers).
 *
 * Contract:
 *  - input_nflog_open() binds the group in copy-packet mode with the
 *    full copy range, queue threshold 1 and flush timeout 0 (a lone
 *    PTB is delivered at once), asks for per-instance sequence numbers,
 *    allocates its receive slots (freed by close),
 *    and sets SO_RCVBUFFORCE to rcvbuf. A group already bound by
 *    another process is an error (EXIT_INPUT) with a message saying
 *    so, never a silent hang.
 *  - Adaptive batching (in->adaptive, on by default; the benchmark's
 *    fixed-threshold reader turns it off after open): threshold 1
 *    while calm; kernel batching (threshold 1000, nlbufsiz 131072: a
 *    256 KiB batch; flush timeout 0) once batch_adapt.h says the rate
 *    calls for it, and back. The switches are counted in adapt.to_batch and
 *    adapt.to_immediate.
 *  - input_nflog_receive() reads the non-blocking socket (recvmmsg;
 *    each datagram may carry many messages) until it is empty or about
 *    1024 packets were delivered, whichever comes first, so
 *    the event loop serves its other sources during a flood; calling
 *    cb once per packet with the payload (starting at the IP header)
 *    and its metadata (link_mtu 0: the callee, which knows the
 *    interfaces, fills it in place; the struct lives for that call
 *    only; a copy of it would stall on the fields just stored, a few
 *    ns per PTB under a flood); no allocation or system call per packet, one
 *    clock read per call. ENOBUFS is counted in lost_enobufs and
 *    receiving continues; packets the kernel could not queue are
 *    counted in seq_gaps.
 *  - input_nflog_idle() once per event-loop turn: applies a due return
 *    to immediate mode (calm is seen without traffic) and returns the
 *    ms until the next check, -1 for none.
 *  - input_nflog_close() unbinds and closes. Idempotent (also on a
 *    zeroed struct or after a failed open).
 */
#ifndef PMTUD_INPUT_NFLOG_H
#define PMTUD_INPUT_NFLOG_H

#include <stddef.h>
#include <stdint.h>
#include "batch_adapt.h"
#include "classify.h"

struct mnl_socket;
struct nfnl_rx;
struct nlmsghdr;
struct nlattr;

typedef void (*pkt_cb)(void *arg, const uint8_t *pkt, size_t len,
		       struct pkt_meta *meta);

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
	bool batches;		/* the last datagram held more than one packet */
	bool adaptive;		/* false: threshold 1 for good */
	struct batch_adapt adapt;
	struct nfnl_rx *rx;	/* receive slots */
};

int input_nflog_open(struct nflog_input *in, uint16_t group, uint32_t rcvbuf,
		     char *err, size_t errlen);
/* Returns packets delivered (>= 0), or -1 on a fatal socket error. */
int input_nflog_receive(struct nflog_input *in, pkt_cb cb, void *arg);
int input_nflog_idle(struct nflog_input *in);
/* The packets of one datagram as recvmsg() returned it (len bytes at
 * buf, 4-byte aligned), to cb in order: what input_nflog_receive()
 * does with each, also for the fuzzer. Other and malformed messages
 * are skipped; a malformed header ends the datagram. Every pointer cb
 * gets lies within buf. Counts in in (received, seq_gaps); in->nl is
 * not used. Returns the packets delivered. */
int input_nflog_datagram(struct nflog_input *in, const void *buf, size_t len,
			 pkt_cb cb, void *arg);
/* One packet message's attributes into attr[NFULA_MAX + 1] (cleared
 * here first): every attribute within the message, the integer ones
 * (packet header, input ifindex, hwtype, seq) at least their size.
 * false: malformed. Also the benchmark's ceiling reader uses it. */
bool input_nflog_parse(const struct nlmsghdr *nlh, const struct nlattr **attr);
void input_nflog_close(struct nflog_input *in);


#endif
