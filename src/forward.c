/* forward.c - send accepted PTBs back out as Ethernet broadcasts. */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include "forward.h"

/* Enough for a burst of full-size frames queued behind a slow qdisc;
 * the kernel clamps it to wmem_max, which is not an error. */
#define FORWARD_SNDBUF	(1 << 20)

static const uint8_t eth_bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

int forward_open(struct forwarder *f, char *err, size_t errlen)
{
	int v = FORWARD_SNDBUF;

	/* Protocol 0: the socket is never attached to a receive hook, so
	 * it costs nothing on the input path. The qdisc is kept (no
	 * PACKET_QDISC_BYPASS): operators may shape this traffic. */
	f->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (f->fd < 0) {
		snprintf(err, errlen, "AF_PACKET socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(f->fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) < 0) {
		snprintf(err, errlen, "AF_PACKET socket: SO_SNDBUF %d: %s", v, strerror(errno));
		close(f->fd);
		f->fd = -1;
		return -1;
	}
	return 0;
}

int forward_broadcast(struct forwarder *f, int ifindex, const uint8_t src_mac[6],
		      uint16_t ethertype, const uint8_t *pkt, size_t len)
{
	struct ethhdr eh;
	struct sockaddr_ll sll;
	struct iovec iov[2];
	struct msghdr msg;

	memcpy(eh.h_dest, eth_bcast, ETH_ALEN);
	memcpy(eh.h_source, src_mac, ETH_ALEN);
	eh.h_proto = htons(ethertype);

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifindex;
	sll.sll_protocol = htons(ethertype);
	sll.sll_halen = ETH_ALEN;
	memcpy(sll.sll_addr, eth_bcast, ETH_ALEN);

	iov[0].iov_base = &eh;
	iov[0].iov_len = sizeof(eh);
	iov[1].iov_base = (void *)pkt;	/* sendmsg only reads it */
	iov[1].iov_len = len;

	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &sll;
	msg.msg_namelen = sizeof(sll);
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;

	for (;;) {
		if (sendmsg(f->fd, &msg, MSG_DONTWAIT) >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

void forward_close(struct forwarder *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}
