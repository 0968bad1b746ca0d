/* input_nfqueue.h - receive captured PTBs from an NFQUEUE queue (libmnl +
 * libnetfilter_queue's nfq_nlmsg_* helpers), the alternative to NFLOG.
 *
 * Contract:
 *  - input_nfqueue_open() allocates its receive slots (freed by close),
 *    binds the queue in copy-packet mode with the
 *    full copy range, sets NFQA_CFG_F_FAIL_OPEN (a full queue accepts
 *    packets instead of dropping them) and SO_RCVBUFFORCE to rcvbuf.
 *    A queue already bound by another process is an error (EXIT_INPUT)
 *    with a message saying so, never a silent hang.
 *  - input_nfqueue_receive() reads the non-blocking socket (recvmmsg,
 *    up to 16 messages a call) until it is empty or about 1024 packets
 *    were delivered, whichever comes first, so the event loop serves
 *    its other sources during a flood. For each recvmmsg it first
 *    accepts every packet it got with one NFQNL_MSG_VERDICT_BATCH
 *    (NF_ACCEPT up to the highest packet id), so the local stack gets
 *    each PTB without waiting for the agent's own work, then calls cb
 *    once per packet with the
 *    payload (starting at the IP header) and its metadata; no
 *    allocation per packet. ENOBUFS is counted in lost_enobufs and
 *    receiving continues; packets the agent never saw (fail-open
 *    accepts, socket overruns) are counted in id_gaps.
 *  - Metadata: ifindex and hw_protocol. No link-layer header: for IP
 *    packets the kernel only reports the source MAC (NFQA_HWADDR), so
 *    meta.hwhdr is NULL and the classifier's L2 broadcast check is
 *    left to the rule's "meta pkttype != broadcast".
 *  - input_nfqueue_close() accepts the packets still waiting in the
 *    socket, then unbinds and closes: the kernel drops what a closing
 *    queue holds, and also what any queue holds when a netfilter hook is
 *    unregistered, so call it BEFORE removing the rules (with bypass, a
 *    packet that finds the queue unbound passes). Idempotent (also on a
 *    zeroed struct or after a failed open). After SIGKILL nothing
 *    accepts: held packets are dropped.
 */
#ifndef PMTUD_INPUT_NFQUEUE_H
#define PMTUD_INPUT_NFQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "input_nflog.h"	/* pkt_cb */

struct mnl_socket;
struct nfnl_rx;

struct nfqueue_input {
	struct mnl_socket *nl;
	int fd;
	uint16_t queue;
	uint32_t portid;
	uint64_t received;	/* packets handed to cb */
	uint64_t lost_enobufs;	/* recv() ENOBUFS events */
	uint64_t id_gaps;	/* packet ids never received */
	uint64_t verdict_errors; /* verdicts not sent, or refused */
	uint32_t next_id;
	struct nfnl_rx *rx;	/* receive slots */
};

int input_nfqueue_open(struct nfqueue_input *in, uint16_t queue,
		       uint32_t rcvbuf, char *err, size_t errlen);
/* Returns packets delivered (>= 0), or -1 on a fatal socket error. */
int input_nfqueue_receive(struct nfqueue_input *in, pkt_cb cb, void *arg);
void input_nfqueue_close(struct nfqueue_input *in);

#endif
