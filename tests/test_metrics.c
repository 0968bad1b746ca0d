/* test_metrics.c - the counter renderings (metrics.c) and the per-packet
 * log limiter (log.c), both pure.
 *
 * Proves: the Prometheus text has HELP and TYPE before each family's
 * samples, one family per name, every drop reason (0 included), values
 * as set; the log line carries the same values under the same list;
 * the file is replaced atomically (no temp file left, mode 0644); the
 * limiter lets exactly burst lines through at once, then rate per
 * second, and counts every refused line once.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "metrics.h"

#include "unit.h"

static char *render(const struct metrics_view *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	CHECK(metrics_write_prom(f, v) == 0);
	fclose(f);
	return buf;
}

/* Value of the sample whose text before the space is exactly series. */
static long long sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, series, n) && p[n] == ' ')
			return atoll(p + n + 1);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/* Every sample line follows "# HELP f" and "# TYPE f counter" of its
 * own family f; no family is described twice. */
static void check_structure(const char *text)
{
	char fam[128] = "", seen[64][128];
	unsigned nseen = 0, i;
	const char *p = text;
	bool typed = false, gauge = false;

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char line[512];

		CHECK(e != NULL);	/* the last line ends with \n too */
		CHECK(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%127s", fam);
			for (i = 0; i < nseen; i++)
				CHECK(strcmp(seen[i], fam) != 0);
			if (nseen < 64)
				strcpy(seen[nseen++], fam);
			typed = false;
		} else if (!strncmp(line, "# TYPE ", 7)) {
			char t[128], kind[32];

			CHECK(sscanf(line + 7, "%127s %31s", t, kind) == 2);
			gauge = !strcmp(kind, "gauge");
			CHECK(!strcmp(t, fam) && (!strcmp(kind, "counter") || gauge));
			typed = true;
		} else {
			size_t fl = strlen(fam);

			CHECK(typed);
			CHECK(!strncmp(line, fam, fl) && (line[fl] == ' ' || line[fl] == '{'));
			CHECK(!strncmp(line, "pmtud_", 6));
			CHECK(gauge || strstr(line, "_total") != NULL);
		}
		p += n + (e ? 1 : 0);
	}
}

static void test_prom(void)
{
	struct counters c = { 0 };
	struct metrics_peer peers[2] = {
		{ "192.0.2.7", 5, 1 }, { "2001:db8::7", 6, 0 },
	};
	struct metrics_view v = { .c = &c };
	char series[128], line[2048];
	char *text;
	int i;

	c.received = 100;
	c.forwarded = 40;
	c.dropped[REASON_DST_MISMATCH] = 7;
	c.dropped[REASON_PORT] = 3;
	c.limited_source = 11;
	c.limited_iface = 12;
	c.shed = 14;
	c.send_errors = 2;
	c.unknown_iface = 1;
	c.deduplicated = 13;
	c.dropped[REASON_NOT_VIP] = 8;
	c.input_enobufs = 4;
	c.input_seq_gaps = 9;
	c.reloads_ok = 5;
	c.reloads_failed = 6;
	c.log_suppressed = 1234567890123ULL;
	c.input_to_batch = 3;
	c.input_to_immediate = 2;
	text = render(&v);
	check_structure(text);
	CHECK(sample(text, "pmtud_received_total") == 100);
	CHECK(sample(text, "pmtud_forwarded_total") == 40);
	for (i = 1; i < REASON_MAX; i++) {
		snprintf(series, sizeof(series), "pmtud_dropped_total{reason=\"%s\"}",
			 classify_reason_name((enum classify_reason)i));
		CHECK(sample(text, series) == (long long)c.dropped[i]);
	}
	CHECK(sample(text, "pmtud_dropped_total{reason=\"dst_mismatch\"}") == 7);
	CHECK(sample(text, "pmtud_dropped_total{reason=\"forward\"}") == -1);
	CHECK(sample(text, "pmtud_ratelimited_total{limit=\"source\"}") == 11);
	CHECK(sample(text, "pmtud_ratelimited_total{limit=\"iface\"}") == 12);
	CHECK(sample(text, "pmtud_shed_total") == 14);
	CHECK(sample(text, "pmtud_send_errors_total") == 2);
	CHECK(sample(text, "pmtud_unknown_iface_total") == 1);
	CHECK(sample(text, "pmtud_deduplicated_total") == 13);
	CHECK(sample(text, "pmtud_dropped_total{reason=\"not_vip\"}") == 8);
	CHECK(sample(text, "pmtud_input_lost_enobufs_total") == 4);
	CHECK(sample(text, "pmtud_input_seq_gaps_total") == 9);
	CHECK(sample(text, "pmtud_reloads_total{result=\"ok\"}") == 5);
	CHECK(sample(text, "pmtud_reloads_total{result=\"failed\"}") == 6);
	CHECK(sample(text, "pmtud_log_suppressed_total") == 1234567890123LL);
	CHECK(sample(text, "pmtud_input_mode_switches_total{mode=\"batch\"}") == 3);
	CHECK(sample(text, "pmtud_input_mode_switches_total{mode=\"immediate\"}") == 2);
	CHECK(strstr(text, "pmtud_peer_") == NULL);	/* no peers: no peer families */
	free(text);

	/* The log line: same list, same values, every reason. */
	CHECK(metrics_format_line(line, sizeof(line), &v) < sizeof(line));
	CHECK(!strncmp(line, "received=100 forwarded=40 ", 26));
	CHECK(strstr(line, " dst_mismatch=7 ") && strstr(line, " port_filtered=3 "));
	CHECK(strstr(line, " truncated=0 ") && strstr(line, " denied_source=0 "));
	CHECK(strstr(line, " limited_source=11 limited_iface=12 shed=14 send_errors=2 "));
	CHECK(strstr(line, " not_vip=8 ") && strstr(line, " deduplicated=13 "));
	CHECK(strstr(line, " lost_enobufs=4 seq_gaps=9 reloads_ok=5 reloads_failed=6 "));
	CHECK(strstr(line, " log_suppressed=1234567890123 to_batch=3 to_immediate=2"));

	/* Truncation: terminated, and the needed length reported. */
	{
		char small[16];
		size_t need = metrics_format_line(small, sizeof(small), &v);

		CHECK(need == strlen(line));
		CHECK(strlen(small) == sizeof(small) - 1);
	}

	v.peers = peers;
	v.n_peers = 2;
	text = render(&v);
	check_structure(text);
	CHECK(sample(text, "pmtud_peer_sent_total{peer=\"192.0.2.7\"}") == 5);
	CHECK(sample(text, "pmtud_peer_errors_total{peer=\"192.0.2.7\"}") == 1);
	CHECK(sample(text, "pmtud_peer_sent_total{peer=\"2001:db8::7\"}") == 6);
	free(text);
	metrics_format_line(line, sizeof(line), &v);
	CHECK(strstr(line, " peer_sent[2001:db8::7]=6"));

	/* Peers configured: the set's size by family, the answers by result. */
	v.peers_on = true;
	v.peers_family[0] = 3;
	v.peers_family[1] = 1000;
	c.peer_resolve[PEER_RESULT_FAILED] = 7;
	text = render(&v);
	check_structure(text);
	CHECK(strstr(text, "# TYPE pmtud_peers gauge\n"));
	CHECK(sample(text, "pmtud_peers{family=\"ipv4\"}") == 3);
	CHECK(sample(text, "pmtud_peers{family=\"ipv6\"}") == 1000);
	CHECK(sample(text, "pmtud_peer_resolve_total{result=\"failed\"}") == 7);
	CHECK(sample(text, "pmtud_peer_resolve_total{result=\"changed\"}") == 0);
	free(text);
	metrics_format_line(line, sizeof(line), &v);
	CHECK(strstr(line, " peers_ipv6=1000 resolve_ok=0 resolve_changed=0 resolve_failed=7 resolve_empty=0"));
}

/* The flow-owner families: every series also when 0, the same series
 * in the Prometheus text and in the owner log lines. */
static void test_owner(void)
{
	struct counters c = { 0 };
	struct metrics_view v = { .c = &c };
	char line[1024];
	char *text;
	unsigned i;

	c.ptb_owner[1][OWNER_REMOTE] = 21;
	c.copies[0][VIA_PEER][OWNER_LOCAL] = 22;
	c.rescued[1] = 23;
	c.owner_lookups[OWNER_LIMITED] = 24;
	text = render(&v);
	check_structure(text);
	CHECK(sample(text, "pmtud_ptb_owner_total{family=\"6\",owner=\"remote\"}") == 21);
	CHECK(sample(text, "pmtud_ptb_owner_total{family=\"4\",owner=\"unknown\"}") == 0);
	CHECK(sample(text, "pmtud_copies_received_total{family=\"4\",via=\"peer\",owner=\"local\"}") == 22);
	CHECK(sample(text, "pmtud_copies_received_total{family=\"6\",via=\"broadcast\",owner=\"remote\"}") == 0);
	CHECK(sample(text, "pmtud_rescued_total{family=\"6\"}") == 23);
	CHECK(sample(text, "pmtud_rescued_total{family=\"4\"}") == 0);
	CHECK(sample(text, "pmtud_owner_lookups_total{result=\"limited\"}") == 24);
	CHECK(sample(text, "pmtud_owner_lookups_total{result=\"found\"}") == 0);
	free(text);

	for (i = 0; metrics_format_owner_line(line, sizeof(line), &v, i); i++)
		CHECK(strlen(line) < sizeof(line) - 1);	/* each fits a log line */
	CHECK(i == 4);
	metrics_format_owner_line(line, sizeof(line), &v, 0);
	CHECK(strstr(line, "pmtud_ptb_owner_total: {family=\"4\",owner=\"local\"}=0 ") == line);
	CHECK(strstr(line, " {family=\"6\",owner=\"remote\"}=21"));
	metrics_format_owner_line(line, sizeof(line), &v, 1);
	CHECK(!strncmp(line, "pmtud_copies_received_total: ", 29));
	CHECK(strstr(line, " {family=\"4\",via=\"peer\",owner=\"local\"}=22"));
	metrics_format_owner_line(line, sizeof(line), &v, 2);
	CHECK(!strcmp(line, "pmtud_rescued_total: {family=\"4\"}=0 {family=\"6\"}=23"));
	metrics_format_owner_line(line, sizeof(line), &v, 3);
	CHECK(strstr(line, "pmtud_owner_lookups_total: {result=\"found\"}=0 ") == line);
	CHECK(strstr(line, " {result=\"limited\"}=24"));
	CHECK(!strcmp(metrics_owner_name(OWNER_REMOTE), "remote"));
	CHECK(!strcmp(metrics_lookup_name(OWNER_LIMITED), "limited"));
	CHECK(!strcmp(metrics_via_name(VIA_PEER), "peer"));
	CHECK(!strcmp(metrics_via_name(VIA_MAX), "?"));
}

static void test_file(void)
{
	char dir[] = "/tmp/test_metrics.XXXXXX", path[256], err[512];
	struct counters c = { .received = 3 };
	struct metrics_view v = { .c = &c };
	struct stat st;
	struct dirent *d;
	unsigned n = 0;
	DIR *dh;
	FILE *f;
	char text[8192];
	size_t len;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/pmtud.prom", dir);
	CHECK(metrics_write_file(path, &v, err, sizeof(err)) == 0);
	c.received = 4;
	CHECK(metrics_write_file(path, &v, err, sizeof(err)) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		len = fread(text, 1, sizeof(text) - 1, f);
		text[len] = '\0';
		fclose(f);
		CHECK(sample(text, "pmtud_received_total") == 4);
	}
	dh = opendir(dir);
	while (dh && (d = readdir(dh)))
		if (d->d_name[0] != '.')
			n++;
	if (dh)
		closedir(dh);
	CHECK(n == 1);		/* no temp file left behind */
	unlink(path);
	rmdir(dir);

	/* A directory that does not exist: one line naming the file. */
	CHECK(metrics_write_file("/nonexistent-pmtud/x.prom", &v, err, sizeof(err)) < 0);
	CHECK(strstr(err, "/nonexistent-pmtud/x.prom") != NULL);
	CHECK(strchr(err, '\n') == NULL);
}

static void test_limiter(void)
{
	const uint64_t s = 1000000000ULL;
	struct log_limit l;
	uint64_t t = 5 * s;
	unsigned i, ok = 0;

	log_limit_init(&l, LOG_PACKET_RATE, LOG_PACKET_BURST, t);
	/* A flood at one instant: burst lines, the rest suppressed. */
	for (i = 0; i < 1000; i++)
		ok += log_limit_allow(&l, t);
	CHECK(ok == (unsigned)LOG_PACKET_BURST);
	CHECK(log_limit_take(&l) == 1000 - (unsigned)LOG_PACKET_BURST);
	CHECK(log_limit_take(&l) == 0);
	/* 10 s of a flood at 1000 lines/s: 20 lines/s get through. */
	ok = 0;
	for (i = 1; i <= 10000; i++)
		ok += log_limit_allow(&l, t + i * (s / 1000));
	CHECK(ok >= 199 && ok <= 201);
	CHECK(ok + log_limit_take(&l) == 10000);
	/* Quiet for a while: the burst is back, nothing else. */
	t += 100 * s;
	ok = 0;
	for (i = 0; i < 50; i++)
		ok += log_limit_allow(&l, t);
	CHECK(ok == (unsigned)LOG_PACKET_BURST);
	CHECK(log_limit_take(&l) == 50 - (unsigned)LOG_PACKET_BURST);
}

int main(void)
{
	test_prom();
	test_owner();
	test_file();
	test_limiter();
	return unit_result("test_metrics");
}
