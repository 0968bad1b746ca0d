/* bare_reader.c - the benchmark's ceiling: the agent's NFLOG input
 * (src/input_nflog.c, src/nfnl_sock.c: same group settings, same
 * receive buffer) with a callback that only counts. Nothing else runs
 * per packet, so its CPU time is the cost of the kernel hand-over
 * alone.
 *
 * Usage: bare_reader [GROUP [RCVBUF]]   (defaults 33, 4194304)
 * Prints "bare_reader: ready" once bound; on SIGUSR1 and at exit
 * (SIGTERM/SIGINT) one line:
 *	counters: received=N lost_enobufs=E seq_gaps=G (the agent's names)
 */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "input_nflog.h"

static void count(void *arg, const uint8_t *pkt, size_t len,
		  const struct pkt_meta *meta)
{
	(void)pkt;
	(void)len;
	(void)meta;
	++*(uint64_t *)arg;
}

static void report(const struct nflog_input *in, uint64_t n)
{
	printf("counters: received=%" PRIu64 " lost_enobufs=%" PRIu64
	       " seq_gaps=%" PRIu64 "\n", n, in->lost_enobufs, in->seq_gaps);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct nflog_input in;
	struct pollfd p[2];
	struct signalfd_siginfo si;
	uint64_t n = 0;
	char err[256];
	sigset_t set;
	unsigned long group = argc > 1 ? strtoul(argv[1], NULL, 0) : 33;
	unsigned long rcvbuf = argc > 2 ? strtoul(argv[2], NULL, 0) : 4194304;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (p[1].fd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		perror("bare_reader: signalfd");
		return 1;
	}
	if (input_nflog_open(&in, (uint16_t)group, (uint32_t)rcvbuf, err, sizeof(err)) < 0) {
		fprintf(stderr, "bare_reader: %s\n", err);
		return 1;
	}
	p[0].fd = in.fd;
	p[0].events = p[1].events = POLLIN;
	printf("bare_reader: ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("bare_reader: poll");
			break;
		}
		if ((p[0].revents & POLLIN) && input_nflog_receive(&in, count, &n) < 0) {
			perror("bare_reader: receive");
			break;
		}
		if (!(p[1].revents & POLLIN))
			continue;
		if (read(p[1].fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		report(&in, n);
		if (si.ssi_signo != SIGUSR1)
			break;
	}
	input_nflog_close(&in);
	close(p[1].fd);
	return 0;
}
