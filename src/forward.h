/* forward.h - send accepted PTBs back out as Ethernet broadcasts.
 *
 * Contract:
 *  - One AF_PACKET SOCK_RAW socket (protocol 0: it never receives).
 *  - forward_broadcast() sends one frame on ifindex: destination
 *    ff:ff:ff:ff:ff:ff, source src_mac, the given EtherType (0x0800 or
 *    0x86dd), payload the IP packet exactly as received. The header and
 *    payload go out as two iovecs: no copy of the packet.
 *  - Returns 0, or -errno (counted by the caller; never fatal).
 */
#ifndef PMTUD_FORWARD_H
#define PMTUD_FORWARD_H

#include <stddef.h>
#include <stdint.h>

struct forwarder {
	int fd;
};

int forward_open(struct forwarder *f, char *err, size_t errlen);
int forward_broadcast(struct forwarder *f, int ifindex, const uint8_t src_mac[6],
		      uint16_t ethertype, const uint8_t *pkt, size_t len);
void forward_close(struct forwarder *f);

#endif
