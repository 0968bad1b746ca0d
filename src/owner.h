/* owner.h - does this host hold the flow a PTB quotes? An exact socket
 * lookup through sock_diag (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY with
 * the full 4-tuple, never a dump), and the path MTU check after a copy
 * received from another agent (a "rescue").
 *
 * Contract:
 *  - TCP: a socket with exactly the quoted 4-tuple, in any state
 *    (established, closing, TIME_WAIT, a pending request), is the
 *    owner: "local". None is "remote" (the kernel's exact lookup falls
 *    back to a listener, which is no owner: its answer does not match
 *    the tuple). UDP: only a connected socket whose remote end is the
 *    quoted destination is the owner; anything else is "unknown" (an
 *    unconnected socket bound to the VIP matches any peer). Other
 *    protocols, and quotes without ports: "unknown", no lookup.
 *  - Never blocks. The kernel answers a sock_diag request inside
 *    sendmsg(), so the answer is read at once with MSG_DONTWAIT; when
 *    none is there the lookup counts as an error and the owner is
 *    unknown. Answers to other sequence numbers are skipped.
 *  - A token bucket bounds the lookups per second (rescue checks
 *    included). Past it: "limited", owner unknown, no syscall.
 *  - Rescues: owner_lookup_copy() looks up the flow of a copy another
 *    agent sent with its tcp_info (INET_DIAG_INFO). A local TCP socket
 *    whose tcpi_pmtu is at most the copy's MTU is a rescue, counted per
 *    family. The kernel usually applied the copy before the agent
 *    reads it; when not yet (the socket was busy: the kernel defers
 *    the update), owner_schedule_check() looks again
 *    OWNER_CHECK_DELAY_MS later on the module's timerfd. At most
 *    OWNER_CHECKS are pending; more are dropped (counted).
 *  - owner_build_request() and owner_parse_answer() are pure: every
 *    length in an answer is checked before it is read.
 */
#ifndef PMTUD_OWNER_H
#define PMTUD_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "classify.h"
#include "pmtud.h"
#include "ratelimit.h"

#define OWNER_CHECK_DELAY_MS	5	/* a deferred PMTU update is done by then */
#define OWNER_CHECKS		64	/* pending rescue checks */
#define OWNER_BUFSIZE		8192	/* one answer: message, tcp_info, a few attributes */

/* Label values of the metrics (named in metrics.c): only add before
 * the MAX. */
enum owner_result {
	OWNER_FOUND = 0,	/* "found": a socket with the exact tuple */
	OWNER_ABSENT,		/* "absent": none (or only a listener / unconnected) */
	OWNER_ERROR,		/* "error": the kernel refused, or no answer */
	OWNER_LIMITED,		/* "limited": over the lookup budget, not asked */
	OWNER_RESULT_MAX
};

enum owner_kind {
	OWNER_LOCAL = 0,	/* "local" */
	OWNER_REMOTE,		/* "remote" */
	OWNER_UNKNOWN,		/* "unknown" */
	OWNER_KIND_MAX
};

/* The quoted flow, from this host's side: local = the quoted source. */
struct owner_flow {
	uint8_t family;		/* AF_INET / AF_INET6 */
	uint8_t proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	struct pmtud_addr local, remote;
	uint16_t lport, rport;	/* host order */
};

/* The flow a classified PTB quotes. False when it cannot be looked up
 * (no ports, or neither TCP nor UDP). */
bool owner_flow_from_ptb(const struct ptb_info *info, struct owner_flow *f);

/* A SOCK_DIAG_BY_FAMILY request for f into buf; want_info asks for
 * INET_DIAG_INFO (tcp_info). Returns its length, 0 if len is short. */
size_t owner_build_request(void *buf, size_t len, const struct owner_flow *f,
			   uint32_t seq, bool want_info);

struct owner_answer {
	enum owner_result result;	/* FOUND, ABSENT or ERROR */
	int error;			/* the kernel's errno for ERROR, 0 else */
	uint8_t state;			/* TCP_* of the socket found */
	bool has_pmtu;			/* tcp_info carried tcpi_pmtu */
	uint32_t pmtu;
};

/* Read what len bytes of netlink messages say about request seq for f.
 * 1: answered (out filled); 0: nothing for seq in there; -1: a
 * malformed message (out says ERROR). */
int owner_parse_answer(const void *buf, size_t len, uint32_t seq,
		       const struct owner_flow *f, struct owner_answer *out);

/* The owner a lookup result means for f's protocol. */
enum owner_kind owner_kind_of(const struct owner_flow *f, enum owner_result r);

struct mnl_socket;

struct owner_check {
	struct owner_flow flow;
	uint32_t mtu;		/* the copy's */
	uint64_t due_ns;
};

struct owner {
	struct mnl_socket *nl;
	int fd;			/* the sock_diag socket, -1: closed */
	int timerfd;		/* rescue checks, -1: closed */
	uint32_t seq;
	struct token_bucket budget;
	uint64_t lookups[OWNER_RESULT_MAX];
	uint64_t rescued[2];		/* [0] IPv4, [1] IPv6 */
	uint64_t checks_dropped;	/* queue full, or over budget when due */
	struct owner_check checks[OWNER_CHECKS];	/* ring, due order */
	unsigned head, n;
};

/* rate lookups/s, burst >= 1. 0, or -1 with one line in err. */
int owner_open(struct owner *o, double rate, double burst, uint64_t now_ns,
	       char *err, size_t errlen);
/* Reload: new budget, tokens kept (tb_set_rate). */
void owner_set_rate(struct owner *o, double rate, double burst);

/* Look f up (within the budget). Returns the owner; *res (may be
 * NULL) says how the lookup went. */
enum owner_kind owner_lookup(struct owner *o, const struct owner_flow *f,
			     uint64_t now_ns, enum owner_result *res);

/* The same for the flow of a copy advertising mtu, and the rescue
 * check of a local TCP flow: now, else a little later. */
enum owner_kind owner_lookup_copy(struct owner *o, const struct owner_flow *f,
				  uint32_t mtu, uint64_t now_ns);

/* Queue a rescue check of TCP flow f against mtu. */
void owner_schedule_check(struct owner *o, const struct owner_flow *f,
			  uint32_t mtu, uint64_t now_ns);

/* The timerfd fired: run the checks that are due, re-arm. */
void owner_on_timer(struct owner *o);

/* The socket is readable: only stray answers can be there; drop them. */
void owner_drain(struct owner *o);

/* Idempotent, also on a struct whose fds are -1. */
void owner_close(struct owner *o);

#endif
