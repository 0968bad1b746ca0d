/* io_driver.c - test helper for the kernel I/O modules.
 *
 * Binds an NFLOG group through input_nflog (queue threshold 1, not
 * adaptive) and prints one line per packet:
 *	len=N ifindex=I hwproto=0xXXXX hwhdr=NN [fwd=0|fwd=-E]
 * With -f IFNAME (repeatable) each packet that arrived on one of those
 * interfaces is re-sent with forward_broadcast() on it. With -p it
 * reads nothing until SIGUSR1 (lets a test overflow the socket). Exits on
 * SIGTERM/SIGINT or after -n packets, printing
 *	stats received=R lost_enobufs=L seq_gaps=G
 * Exit codes follow enum pmtud_exit (3: bind failed).
 */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "conf.h"
#include "forward.h"
#include "iface.h"
#include "input_nflog.h"
#include "log.h"
#include "pmtud.h"

struct driver {
	struct nflog_input in;
	struct forwarder fwd;
	struct iface_set ifs;
	bool forwarding;
	unsigned long max;	/* 0: unlimited */
};

static void usage(FILE *out)
{
	fprintf(out, "usage: io_driver -g GROUP [-n COUNT] [-b RCVBUF] [-p] [-f IFNAME]...\n");
}

static uint16_t ethertype_of(const uint8_t *pkt, size_t len, uint16_t hw_protocol)
{
	if (hw_protocol)
		return hw_protocol;
	if (len > 0 && pkt[0] >> 4 == 6)
		return 0x86dd;
	return 0x0800;
}

static void on_packet(void *arg, const uint8_t *pkt, size_t len,
		      struct pkt_meta *meta)
{
	struct driver *d = arg;
	struct iface *ifc;
	char fwd[64] = "";
	int ret;

	if (d->forwarding) {
		ifc = iface_find(&d->ifs, (int)meta->ifindex);
		if (!ifc) {
			snprintf(fwd, sizeof(fwd), " fwd=none");
		} else {
			ret = forward_broadcast(&d->fwd, ifc->ifindex, ifc->mac,
						ethertype_of(pkt, len, meta->hw_protocol),
						pkt, len);
			snprintf(fwd, sizeof(fwd), " fwd=%d", ret);
		}
	}
	printf("len=%zu ifindex=%" PRIu32 " hwproto=0x%04x hwhdr=%zu%s\n",
	       len, meta->ifindex, (unsigned)meta->hw_protocol, meta->hwhdr_len, fwd);
}

static int parse_ul(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || end == s || *out > max ? -1 : 0;
}

static int parse_args(int argc, char **argv, struct pmtud_conf *c,
		      unsigned long *group, unsigned long *max,
		      unsigned long *rcvbuf, bool *paused)
{
	int opt;

	while ((opt = getopt(argc, argv, "g:n:b:pf:")) != -1) {
		switch (opt) {
		case 'g':
			if (parse_ul(optarg, UINT16_MAX, group) < 0)
				return -1;
			break;
		case 'n':
			if (parse_ul(optarg, ULONG_MAX, max) < 0)
				return -1;
			break;
		case 'b':
			if (parse_ul(optarg, UINT32_MAX, rcvbuf) < 0)
				return -1;
			break;
		case 'p':
			*paused = true;
			break;
		case 'f':
			if (c->n_ifaces >= PMTUD_MAX_IFACES || strlen(optarg) >= IFNAMSIZ)
				return -1;
			memcpy(c->ifaces[c->n_ifaces++], optarg, strlen(optarg) + 1);
			break;
		default:
			return -1;
		}
	}
	return optind == argc && *group != ULONG_MAX ? 0 : -1;
}

static int open_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* The pending signal's number, or 0 on a read error (treated as stop). */
static int read_signal(int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

/* -p: block until SIGUSR1; false when told to stop instead. */
static bool wait_resume(int sfd)
{
	int sig;

	for (;;) {
		sig = read_signal(sfd);
		if (sig == SIGUSR1)
			return true;
		if (sig != 0 || errno != EINTR)
			return false;
	}
}

static int run(struct driver *d, int sfd)
{
	struct pollfd pfd[2] = {
		{ .fd = d->in.fd, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return EXIT_RUNTIME;
		}
		if (pfd[1].revents && read_signal(sfd) != SIGUSR1)
			return EXIT_OK;
		if (pfd[0].revents && input_nflog_receive(&d->in, on_packet, d) < 0) {
			perror("input_nflog_receive");
			return EXIT_RUNTIME;
		}
		if (d->max && d->in.received >= d->max)
			return EXIT_OK;
	}
}

int main(int argc, char **argv)
{
	/* Large (ports list): keep it off the stack. */
	static struct pmtud_conf conf;
	static struct driver d;
	unsigned long group = ULONG_MAX, max = 0, rcvbuf = 1 << 20;
	bool paused = false;
	char err[256];
	int sfd, ret;

	log_init(0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	d.fwd.fd = -1;
	if (parse_args(argc, argv, &conf, &group, &max, &rcvbuf, &paused) < 0) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	d.max = max;
	d.forwarding = conf.n_ifaces > 0;
	if (iface_resolve(&d.ifs, &conf, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return EXIT_CONFIG;
	}
	iface_warn_settings(&d.ifs);
	if (d.forwarding && forward_open(&d.fwd, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return EXIT_OUTPUT;
	}
	sfd = open_signals();
	if (sfd < 0) {
		perror("signalfd");
		forward_close(&d.fwd);
		return EXIT_RUNTIME;
	}
	if (input_nflog_open(&d.in, (uint16_t)group, (uint32_t)rcvbuf, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		forward_close(&d.fwd);
		close(sfd);
		return EXIT_INPUT;
	}
	d.in.adaptive = false;	/* threshold 1 for good: the latency ceiling */
	printf("ready group=%lu pid=%ld\n", group, (long)getpid());
	ret = paused && !wait_resume(sfd) ? EXIT_OK : run(&d, sfd);
	printf("stats received=%" PRIu64 " lost_enobufs=%" PRIu64 " seq_gaps=%" PRIu64 "\n",
	       d.in.received, d.in.lost_enobufs, d.in.seq_gaps);
	input_nflog_close(&d.in);
	input_nflog_close(&d.in);	/* idempotent by contract */
	forward_close(&d.fwd);
	close(sfd);
	return ret;
}
