/* reader.h - what the benchmark's ceiling readers (nflog_reader.c,
 * nfqueue_reader.c) share: the socket, the signals and the loop.
 * Header-only: each reader is one program built from one file.
 *
 * reader_run() prints "NAME: ready", then calls drain(ctx) whenever
 * the socket is readable, and report(ctx) on SIGUSR1 and once more on
 * SIGTERM/SIGINT, which end it. Returns the exit status.
 */
#ifndef PMTUD_BENCH_READER_H
#define PMTUD_BENCH_READER_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libmnl/libmnl.h>

/* A bound NETLINK_NETFILTER socket with SO_RCVBUFFORCE rcvbuf. */
static struct mnl_socket *reader_socket(unsigned long rcvbuf)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int v = (int)rcvbuf;

	if (nl && (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
		   setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE,
			      &v, sizeof(v)) < 0)) {
		mnl_socket_close(nl);
		nl = NULL;
	}
	return nl;
}

static int reader_run(const char *name, struct mnl_socket *nl,
		      int (*drain)(void *), void (*report)(void *), void *ctx)
{
	struct signalfd_siginfo si;
	struct pollfd p[2];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (p[1].fd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		fprintf(stderr, "%s: signalfd: %s\n", name, strerror(errno));
		return 1;
	}
	p[0].fd = mnl_socket_get_fd(nl);
	p[0].events = p[1].events = POLLIN;
	printf("%s: ready\n", name);
	fflush(stdout);
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((p[0].revents & POLLIN) && drain(ctx) < 0) {
			fprintf(stderr, "%s: receive: %s\n", name, strerror(errno));
			break;
		}
		if (!(p[1].revents & POLLIN) ||
		    read(p[1].fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		report(ctx);
		fflush(stdout);
		if (si.ssi_signo != SIGUSR1)
			break;
	}
	close(p[1].fd);
	mnl_socket_close(nl);
	return 0;
}

#endif
