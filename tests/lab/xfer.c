/* xfer.c - the lab's TCP bulk transfer tool (IPv4 and IPv6).
 *
 *   xfer serve ADDR PORT BYTES
 *	Listen on ADDR:PORT (which need not exist yet: IP_FREEBIND) and
 *	send BYTES to every client, then shut down its side and close
 *	once the client has closed: the socket stays a full one (with
 *	tcp_info) as long as the client holds the connection. One child
 *	per connection, each bounded by an alarm so a black-holed flow
 *	cannot linger.
 *
 *   xfer get [-s SRCADDR] [-t TIMEOUT_MS] [-k FILE] ADDR PORT BYTES
 *	Connect from SRCADDR (any port) and read until BYTES arrived or
 *	TIMEOUT_MS (default 5000) elapsed since the start. With -k, a
 *	completed download keeps the connection open (established) after
 *	its line until FILE exists or TIMEOUT_MS elapsed, so whatever
 *	looks at the flow sees it alive. Prints one line:
 *	  ok BYTES MS		exit 0
 *	  stall RECEIVED MS	exit 1 (timeout: the PMTU black hole)
 *	  error WHAT RECEIVED MS exit 2 (refused, reset, early EOF, ...)
 *	A stalled connection is closed with a RST (zero linger) so the
 *	server stops retransmitting into the black hole.
 *
 * Plain C11 + POSIX sockets; no dependencies.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define XFER_MAX_BYTES		(1ULL << 40)
#define XFER_MAX_TIMEOUT_MS	3600000L
#define XFER_CHILD_SECONDS	120	/* hard bound on one served connection */
#define XFER_BUF		65536

enum { EX_OK = 0, EX_STALL = 1, EX_ERR = 2 };

static void usage(void)
{
	fprintf(stderr,
		"usage: xfer serve ADDR PORT BYTES\n"
		"       xfer get [-s SRCADDR] [-t TIMEOUT_MS] [-k FILE] ADDR PORT BYTES\n");
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_u64(const char *s, unsigned long long max,
		     unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Numeric address and port only: the lab never resolves names. */
static int parse_sockaddr(const char *addr, const char *port,
			  struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints, *ai;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	rc = getaddrinfo(addr, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "xfer: %s port %s: %s\n", addr,
			port ? port : "0", gai_strerror(rc));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int set_int(int fd, int level, int opt, int val, const char *name)
{
	if (setsockopt(fd, level, opt, &val, sizeof(val)) < 0) {
		fprintf(stderr, "xfer: setsockopt %s: %s\n", name,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Child side of serve: push the bytes, then a graceful close once the
 * client closed (the child's alarm bounds the wait). */
static int send_all(int fd, unsigned long long bytes)
{
	static char buf[XFER_BUF];
	ssize_t n;
	size_t chunk;

	memset(buf, 'x', sizeof(buf));
	while (bytes > 0) {
		chunk = bytes < sizeof(buf) ? (size_t)bytes : sizeof(buf);
		n = send(fd, buf, chunk, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		bytes -= (unsigned long long)n;
	}
	if (shutdown(fd, SHUT_WR) < 0)
		return -1;
	/* Clients send nothing: anything read is discarded; 0 is its FIN. */
	while ((n = recv(fd, buf, sizeof(buf), 0)) != 0)
		if (n < 0 && errno != EINTR)
			return -1;
	return 0;
}

static int serve(int argc, char **argv)
{
	struct sockaddr_storage ss;
	unsigned long long bytes;
	socklen_t len;
	pid_t pid;
	int lfd, cfd;

	if (argc != 3 || parse_u64(argv[2], XFER_MAX_BYTES, &bytes) < 0) {
		usage();
		return EX_ERR;
	}
	if (parse_sockaddr(argv[0], argv[1], &ss, &len) < 0)
		return EX_ERR;
	/* Children are never waited for: let the kernel reap them. */
	if (signal(SIGCHLD, SIG_IGN) == SIG_ERR) {
		perror("xfer: signal");
		return EX_ERR;
	}
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		perror("xfer: socket");
		return EX_ERR;
	}
	if (set_int(lfd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR") < 0 ||
	    (ss.ss_family == AF_INET &&
	     set_int(lfd, IPPROTO_IP, IP_FREEBIND, 1, "IP_FREEBIND") < 0) ||
	    (ss.ss_family == AF_INET6 &&
	     (set_int(lfd, IPPROTO_IPV6, IPV6_FREEBIND, 1, "IPV6_FREEBIND") < 0 ||
	      set_int(lfd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY") < 0)))
		goto fail;
	if (bind(lfd, (struct sockaddr *)&ss, len) < 0) {
		perror("xfer: bind");
		goto fail;
	}
	if (listen(lfd, 128) < 0) {
		perror("xfer: listen");
		goto fail;
	}
	for (;;) {
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				continue;
			perror("xfer: accept");
			goto fail;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			/* Default SIGALRM action ends a black-holed child. */
			alarm(XFER_CHILD_SECONDS);
			_exit(send_all(cfd, bytes) < 0 ? EX_ERR : EX_OK);
		}
		if (pid < 0)
			perror("xfer: fork");
		close(cfd);
	}
fail:
	close(lfd);
	return EX_ERR;
}

/* Wait for fd to become ready for events, at most until deadline.
 * Returns 1 ready, 0 deadline passed, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		rc = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

/* Connect without blocking past the deadline.
 * Returns 1 connected, 0 timed out, -1 error (errno set). */
static int connect_by(int fd, const struct sockaddr_storage *dst,
		      socklen_t len, int64_t deadline)
{
	socklen_t elen = sizeof(int);
	int err = 0, rc;

	if (connect(fd, (const struct sockaddr *)dst, len) == 0)
		return 1;
	if (errno != EINPROGRESS)
		return -1;
	rc = wait_fd(fd, POLLOUT, deadline);
	if (rc <= 0)
		return rc;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		return -1;
	if (err) {
		errno = err;
		return -1;
	}
	return 1;
}

static void close_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	/* Best effort: a plain close still ends the connection. */
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* Hold the connection until path exists or the deadline passed. */
static void hold(int fd, const char *path, int64_t deadline)
{
	char c;

	while (access(path, F_OK) < 0 && now_ms() < deadline) {
		/* The server's FIN (0) is expected; a reset ends the wait. */
		if (recv(fd, &c, 1, MSG_DONTWAIT) < 0 && errno != EAGAIN &&
		    errno != EINTR)
			return;
		poll(NULL, 0, 10);
	}
}

static int report(int fd, const char *what, unsigned long long got,
		  int64_t start, int code, const char *hold_path,
		  int64_t deadline)
{
	long long ms = (long long)(now_ms() - start);

	if (code == EX_OK)
		printf("ok %llu %lld\n", got, ms);
	else if (code == EX_STALL)
		printf("stall %llu %lld\n", got, ms);
	else
		printf("error %s %llu %lld\n", what, got, ms);
	if (fflush(stdout) != 0)
		code = EX_ERR;
	if (code == EX_OK && hold_path)
		hold(fd, hold_path, deadline);
	if (code == EX_OK)
		close(fd);
	else
		close_reset(fd);
	return code;
}

static int get(int argc, char **argv)
{
	struct sockaddr_storage dst, src;
	unsigned long long bytes, timeout = 5000, got = 0;
	socklen_t dlen, slen;
	const char *srcaddr = NULL, *hold_path = NULL;
	static char buf[XFER_BUF];
	int64_t start, deadline;
	ssize_t n;
	int fd, opt, rc;

	while ((opt = getopt(argc, argv, "+s:t:k:")) != -1) {
		switch (opt) {
		case 's':
			srcaddr = optarg;
			break;
		case 'k':
			hold_path = optarg;
			break;
		case 't':
			if (parse_u64(optarg, XFER_MAX_TIMEOUT_MS, &timeout) < 0 ||
			    timeout == 0) {
				fprintf(stderr, "xfer: bad timeout: %s\n", optarg);
				return EX_ERR;
			}
			break;
		default:
			usage();
			return EX_ERR;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3 || parse_u64(argv[2], XFER_MAX_BYTES, &bytes) < 0) {
		usage();
		return EX_ERR;
	}
	if (parse_sockaddr(argv[0], argv[1], &dst, &dlen) < 0)
		return EX_ERR;
	if (srcaddr) {
		if (parse_sockaddr(srcaddr, "0", &src, &slen) < 0)
			return EX_ERR;
		if (src.ss_family != dst.ss_family) {
			fprintf(stderr, "xfer: %s and %s: address families differ\n",
				srcaddr, argv[0]);
			return EX_ERR;
		}
	}
	start = now_ms();
	deadline = start + (int64_t)timeout;
	fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("xfer: socket");
		return EX_ERR;
	}
	if (srcaddr && bind(fd, (struct sockaddr *)&src, slen) < 0) {
		fprintf(stderr, "xfer: bind %s: %s\n", srcaddr, strerror(errno));
		return report(fd, "bind", 0, start, EX_ERR, hold_path, deadline);
	}
	rc = connect_by(fd, &dst, dlen, deadline);
	if (rc < 0) {
		fprintf(stderr, "xfer: connect: %s\n", strerror(errno));
		return report(fd, "connect", 0, start, EX_ERR, hold_path, deadline);
	}
	if (rc == 0)
		return report(fd, "connect-timeout", 0, start, EX_ERR, hold_path, deadline);
	while (got < bytes) {
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc == 0)
			return report(fd, "", got, start, EX_STALL, hold_path, deadline);
		if (rc < 0) {
			perror("xfer: poll");
			return report(fd, "poll", got, start, EX_ERR, hold_path, deadline);
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return report(fd, "eof", got, start, EX_ERR, hold_path, deadline);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "xfer: recv: %s\n", strerror(errno));
			return report(fd, "recv", got, start, EX_ERR, hold_path, deadline);
		}
		got += (unsigned long long)n;
	}
	return report(fd, "", got, start, EX_OK, hold_path, deadline);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "get") == 0)
		return get(argc - 1, argv + 1);
	usage();
	return EX_ERR;
}
