/* nfnl_sock.h - the NETLINK_NETFILTER socket both inputs (NFLOG and
 * NFQUEUE) are built on.
 *
 * Contract: nfnl_sock_open() returns a bound socket with its receive
 * buffer set and a bounded receive timeout for the configuration ACKs
 * (blocking while configuring); nfnl_sock_nonblock() switches it to
 * non-blocking for the event loop. nfnl_instance_owner() reads a
 * /proc/net/netfilter instance table to tell "bound by another
 * process" from "no permission" (the kernel says EPERM for both).
 * Errors fill err with one line starting with `what` (e.g.
 * "NFLOG group 33").
 */
#ifndef PMTUD_NFNL_SOCK_H
#define PMTUD_NFNL_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;

struct mnl_socket *nfnl_sock_open(uint32_t rcvbuf, const char *what,
				  char *err, size_t errlen);
int nfnl_sock_nonblock(struct mnl_socket *nl, const char *what,
		       char *err, size_t errlen);
bool nfnl_instance_owner(const char *proc_path, uint16_t num, uint32_t *portid);

#endif
