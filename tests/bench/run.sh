#!/bin/bash
# run.sh - pmtud-nf against the ceilings of its kernel paths under a PTB
# flood (on demand, not part of make check; needs root, cc, libmnl,
# libnetfilter_log, libnetfilter_queue).
#
#   F  s0 (flood.c)  ---veth---  h0 192.0.2.2/24 2001:db8::2/64  H
#
# H runs one reader at a time, pinned to CPU 1 (the flooder on CPU 0:
# the kernel's per-packet work, the nft rules and NFLOG/NFQUEUE, runs in
# the flooder's softirq there):
#   agent     pmtud-nf, its own table, default limits, real sends
#             (copies go out as broadcasts on h0), --no-prelimit in the
#             flood rows so every PTB reaches it;
#   batching  tests/bench/nflog_reader -t 1000 -b 131072: a minimal
#             libmnl reader with kernel batching (queue threshold 1000,
#             the largest nlbufsiz, flush timeout 0, 4 MiB receive
#             buffer), parsing with the agent's one-pass parser: THE
#             ceiling for CPU and throughput;
#   readall   the same, also reading every byte of each packet (-C, a
#             sum of 64-bit words): not a ceiling, the least that a
#             relay checking a checksum adds to it;
#   t100      the same reader at queue threshold 100 with the kernel's
#             default nlbufsiz (one page): the configuration behind the
#             figures issue 11 quoted, a tenth of the ceiling's batch;
#   batchlib  the same, parsing with libnetfilter_log's
#             nflog_nlmsg_parse() (-L), as a plain reader would;
#   qthresh1  the same reader with queue threshold 1 (one skb and one
#             recv per PTB): the configuration of the lowest latency;
#   nfq       tests/bench/nfqueue_reader: a minimal NFQUEUE reader with
#             batched verdicts, the ceiling of the NFQUEUE path (the
#             kernel builds one message per packet whatever the reader);
#   orig      only with PMTUD_ORIG=/path/to/pmtud: the original pmtud in
#             its NFLOG mode, PMTUD_ORIG_ARGS (default "--iface h0
#             --nflog 33 --cpu 1") and the same log rules as the
#             minimal readers (nft/pmtud.nft without the pre-limit: log
#             group 33 for ICMPv4 3/4 and ICMPv6 2/0 on h0, what its
#             README's iptables rules do).
# The readers' rules are nft/pmtud.nft (nft/pmtud-nfqueue.nft) for h0
# without the pre-limit. Every figure is the median of RUNS runs;
# ratios are taken within one run of this script, and the flood rows
# run the readers in turn, run by run, so a slow spell of the machine
# hits them alike (the load is printed; re-run when it is high).
#
# Flood rows: COUNT PTBs (IPv4 and IPv6 alternating) from S distinct
# sources, each source quoting 1000 clients for S = 1000 (10^6 distinct
# flows), quotes of -p bytes of payload (-p 508: 548-byte IPv4 quotes):
#   cpu_s_per_M  CPU seconds (user + system) of the reader per 10^6
#                PTBs (/proc/PID/schedstat)
#   flood_pps    the flooder's rate while that reader runs (the kernel's
#                side of the cost)
#   lost         matched by the log/queue rules but not received
#                (readers with counters; "-" for orig)
#   rss_kib      peak RSS (VmHWM) after the flood
# Pre-limit rows: the agent with its pre-limit on and off, 10 and 10^6
# sources: what reaches it, its CPU, the flooder's rate.
# Latency rows: LAT_COUNT PTBs at 1 ms spacing, PTB out of F -> copy
# back in F, both stamped by the kernel (SO_TIMESTAMPNS on s0); the
# ceiling is tests/io_driver (NFLOG at queue threshold 1, forward.c's
# broadcast out, nothing in between).
#
# Usage: tests/bench/run.sh [-r RUNS] [-n COUNT] [-p QUOTE_BYTES] [-l LAT_COUNT]
#                           [-o SECTIONS]  (comma list of flood, nfqueue,
#                           prelimit, latency; default all)
#        SOURCES (flood rows; default "1 1000 1000000"),
#        READERS (flood rows; default "agent batching readall batchlib
#        t100 qthresh1", plus orig with PMTUD_ORIG), BENCH_DEBUG (each
#        run's counters line), PMTUD_NF (default ./src/pmtud-nf),
#        TOP_SRCDIR, TOP_BUILDDIR,
#        PMTUD_ORIG, PMTUD_ORIG_ARGS
set -u

RUNS=3
COUNT=1000000
QUOTE=0
LAT_COUNT=1000
ONLY=flood,nfqueue,prelimit,latency
while getopts r:n:p:l:o: o; do
	case $o in
	o) ONLY=$OPTARG ;;
	r) RUNS=$OPTARG ;;
	n) COUNT=$OPTARG ;;
	p) QUOTE=$OPTARG ;;
	l) LAT_COUNT=$OPTARG ;;
	*) echo "usage: $0 [-r RUNS] [-n COUNT] [-p QUOTE_BYTES] [-l LAT_COUNT] [-o SECTIONS]" >&2; exit 2 ;;
	esac
done

[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TOP_BUILDDIR=${TOP_BUILDDIR:-.}
TOP_BUILDDIR=$(cd "$TOP_BUILDDIR" && pwd)
PMTUD_NF=${PMTUD_NF:-$TOP_BUILDDIR/src/pmtud-nf}
[ -x "$PMTUD_NF" ] || { echo "PMTUD_NF=$PMTUD_NF: not executable" >&2; exit 1; }
[ -f "$TOP_BUILDDIR/config.h" ] || { echo "$TOP_BUILDDIR/config.h missing (configure)" >&2; exit 1; }
CC=${CC:-cc}

F=pmtud-bench-$$-f
H=pmtud-bench-$$-h
TMP=$(mktemp -d)
READER=

cleanup() {
	[ -n "$READER" ] && kill "$READER" 2>/dev/null && wait "$READER" 2>/dev/null
	ip netns del "$F" 2>/dev/null
	ip netns del "$H" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
die() { echo "run.sh: $*" >&2; exit 1; }

# ---- tools -------------------------------------------------------------

CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -I$TOP_BUILDDIR -I$TOP_SRCDIR/src -I$TOP_SRCDIR/tests"
# shellcheck disable=SC2086
$CC $CFLAGS -o "$TMP/flood" "$TOP_SRCDIR/tests/bench/flood.c" || die "cannot build flood"
# shellcheck disable=SC2086,SC2046
$CC $CFLAGS -o "$TMP/nflog_reader" "$TOP_SRCDIR/tests/bench/nflog_reader.c" \
	"$TOP_SRCDIR/src/input_nflog.c" "$TOP_SRCDIR/src/nfnl_sock.c" "$TOP_SRCDIR/src/batch_adapt.c" \
	$(pkg-config --cflags --libs libmnl libnetfilter_log) || die "cannot build nflog_reader"
# shellcheck disable=SC2086,SC2046
$CC $CFLAGS -o "$TMP/nfqueue_reader" "$TOP_SRCDIR/tests/bench/nfqueue_reader.c" \
	$(pkg-config --cflags --libs libmnl libnetfilter_queue) || die "cannot build nfqueue_reader"
if [ -n "${PMTUD_ORIG:-}" ]; then
	[ -x "$PMTUD_ORIG" ] || die "PMTUD_ORIG=$PMTUD_ORIG: not executable"
fi
PMTUD_ORIG_ARGS=${PMTUD_ORIG_ARGS:---iface h0 --nflog 33 --cpu 1}

# The latency ceiling (built by make check's check_PROGRAMS).
IO_DRIVER=$TOP_BUILDDIR/tests/io_driver
[ -x "$IO_DRIVER" ] || make -C "$TOP_BUILDDIR" tests/io_driver >/dev/null ||
	die "cannot build tests/io_driver"

# ---- namespaces --------------------------------------------------------

ip netns add "$F" && ip netns add "$H" || die "ip netns add"
ip -n "$H" link add h0 type veth peer name s0 netns "$F" || die veth
ip -n "$H" addr add 192.0.2.2/24 dev h0
ip -n "$H" addr add 2001:db8::2/64 dev h0 nodad
ip -n "$F" addr add 192.0.2.1/24 dev s0
ip -n "$F" addr add 2001:db8::1/64 dev s0 nodad
for ns in "$F" "$H"; do ip -n "$ns" link set lo up; done
ip -n "$H" link set h0 up
ip -n "$F" link set s0 up
MAC=$(ip -n "$H" -br link show h0 | awk '{print $3}')
ip netns exec "$F" ping -c 1 -W 2 192.0.2.2 >/dev/null || die "no connectivity"
echo '{}' >"$TMP/empty.json"

# The minimal readers' rules: pmtud.nft / pmtud-nfqueue.nft for h0,
# without the pre-limit.
for f in pmtud pmtud-nfqueue; do
	sed -e 's/{ "eth0" }/{ "h0" }/' -e '/^\tset prelimit[46] {/,/^\t}/d' -e '/ return$/d' \
		"$TOP_SRCDIR/nft/$f.nft" >"$TMP/$f.nft"
done

flood() {
	ip netns exec "$F" taskset -c 0 "$TMP/flood" -i s0 -m "$MAC" -4 192.0.2.2 \
		-6 2001:db8::2 -p "$QUOTE" "$@"
}

# ---- readers -----------------------------------------------------------

wait_log() {
	local _
	for _ in $(seq 200); do
		grep -q "$1" "$TMP/reader.log" && return 0
		kill -0 "$READER" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# start_agent FLAGS...: pmtud-nf on h0, real sends.
start_agent() {
	: >"$TMP/reader.log"
	ip netns exec "$H" "$PMTUD_NF" -c "$TMP/empty.json" -i h0 --cpu 1 "$@" \
		>"$TMP/reader.log" 2>&1 &
	READER=$!
	wait_log running || die "agent did not start: $(cat "$TMP/reader.log")"
}

# start_reader NAME RULES CMD...: a minimal reader (or the original
# pmtud) pinned to CPU 1, then its rules.
start_reader() {
	local name=$1 rules=$2
	shift 2
	: >"$TMP/reader.log"
	ip netns exec "$H" taskset -c 1 "$@" >"$TMP/reader.log" 2>&1 &
	READER=$!
	if [ "$name" = orig ]; then
		sleep 1
		kill -0 "$READER" 2>/dev/null || die "$PMTUD_ORIG did not start: $(cat "$TMP/reader.log")"
	else
		wait_log ready || die "$name did not start"
	fi
	[ "$rules" = none ] || ip netns exec "$H" nft -f "$TMP/$rules.nft" || die "nft -f $rules.nft"
}
start_batching() { start_reader batching pmtud "$TMP/nflog_reader" -t 1000 -b 131072; }
start_readall() { start_reader readall pmtud "$TMP/nflog_reader" -t 1000 -b 131072 -C; }
# The issue's own figure: threshold 100, the kernel's default nlbufsiz.
start_t100() { start_reader t100 pmtud "$TMP/nflog_reader" -t 100; }
start_batchlib() { start_reader batchlib pmtud "$TMP/nflog_reader" -t 1000 -b 131072 -L; }
start_qthresh1() { start_reader qthresh1 pmtud "$TMP/nflog_reader" -t 1; }
# Without nft_queue in the kernel nft cannot load a queue rule (the
# agent falls back to the xt target itself): iptables-nft can.
start_nfq() {
	start_reader nfq none "$TMP/nfqueue_reader"
	ip netns exec "$H" nft -f "$TMP/pmtud-nfqueue.nft" 2>/dev/null && return 0
	command -v iptables >/dev/null || die "no nft_queue in the kernel and no iptables"
	ip netns exec "$H" iptables -t raw -A PREROUTING -i h0 -p icmp --icmp-type fragmentation-needed \
		-m pkttype ! --pkt-type broadcast -j NFQUEUE --queue-num 33 --queue-bypass &&
	ip netns exec "$H" ip6tables -t raw -A PREROUTING -i h0 -p icmpv6 --icmpv6-type packet-too-big \
		-m pkttype ! --pkt-type broadcast -j NFQUEUE --queue-num 33 --queue-bypass ||
		die "iptables NFQUEUE rules"
}
# shellcheck disable=SC2086
start_orig() { start_reader orig pmtud "$PMTUD_ORIG" $PMTUD_ORIG_ARGS; }

stop_reader() {
	kill "$READER" 2>/dev/null
	wait "$READER" 2>/dev/null
	READER=
	ip netns exec "$H" nft delete table inet pmtud 2>/dev/null
	for ipt in iptables ip6tables; do
		command -v $ipt >/dev/null && ip netns exec "$H" $ipt -t raw -F PREROUTING 2>/dev/null
	done
	return 0
}

# counters: SIGUSR1, then the newest "counters:" line (the original
# pmtud has none: empty).
counters() {
	local n
	[ "$READER_KIND" = orig ] && return 0
	n=$(grep -c 'counters: ' "$TMP/reader.log")
	kill -USR1 "$READER" || return 1
	timeout 5 bash -c "until [ \$(grep -c 'counters: ' '$TMP/reader.log') -gt $n ]; do sleep 0.01; done" ||
		die "no counters line"
	grep 'counters: ' "$TMP/reader.log" | tail -n 1
}
field() { local v; v=$(grep -o "\b$1=[0-9]*" <<<"$2" | head -n 1 | cut -d= -f2); echo "${v:-0}"; }
# CPU time in ns (schedstat: user + system, exact, where /proc/PID/stat
# counts 10 ms ticks).
ticks() { awk '{print $1}' "/proc/$READER/schedstat"; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$READER/status"; }
# Packets the log or queue rules (not the pre-limit's) matched: nft's,
# and iptables' NFQUEUE rules when start_nfq had to use them.
logged() {
	{
		ip netns exec "$H" nft list table inet pmtud 2>/dev/null |
			awk '/ (log group|queue num|xt target "NFQUEUE")/ { for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }'
		for ipt in iptables ip6tables; do
			command -v $ipt >/dev/null || continue
			ip netns exec "$H" $ipt -t raw -L PREROUTING -v -x -n 2>/dev/null |
				awk '/NFQUEUE/ { s += $1 } END { print s + 0 }'
		done
	} | awk '{ s += $1 } END { print s + 0 }'
}
now() { date +%s.%N; }

# measure FLOOD_ARGS...: one flood against the running reader; prints
# "pps cpu_s_per_M lost copies rss_kib received cpu_s flood_pps". The
# reader is done when its count (or, without counters, its CPU time)
# stops moving.
measure() {
	local c0 c1 k0 k1 l0 l1 t0 t1 r0 r1 prev cur out fpps lost
	c0=$(counters); k0=$(ticks); l0=$(logged)
	r0=$(field received "$c0")
	t0=$(now)
	out=$(flood -n "$COUNT" "$@") || die "flood failed"
	fpps=$(awk '{print $1}' <<<"${out#*(}")
	prev=-1 t1=$(now)
	for _ in $(seq 300); do
		c1=$(counters)
		cur=$(field received "$c1")
		[ "$READER_KIND" = orig ] && cur=$(ticks)
		[ "$cur" = "$prev" ] && break
		prev=$cur t1=$(now)
		sleep 0.2
	done
	k1=$(ticks); l1=$(logged)
	[ -n "${BENCH_DEBUG:-}" ] && echo "    $c1" >&2
	r1=$(field received "$c1")
	if [ "$READER_KIND" = orig ]; then
		r0=0 r1=$((l1 - l0)) lost=-
	else
		lost=$(( (l1 - l0) - (r1 - r0) ))
		[ "$lost" -lt 0 ] && lost=0
	fi
	awk -v r=$((r1 - r0)) -v t0="$t0" -v t1="$t1" -v k=$((k1 - k0)) -v hz=1000000000 \
	    -v lost="$lost" -v fw="$(( $(field forwarded "$c1") - $(field forwarded "$c0") ))" \
	    -v rss="$(hwm)" -v fpps="$fpps" 'BEGIN {
		cpu = k / hz; dt = t1 - t0
		printf "%.0f %.3f %s %d %d %d %.2f %s\n", r / dt, r ? cpu / r * 1e6 : 0, lost, fw, rss, r, cpu, fpps }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
READER_KIND=

# series NAME KIND START_CMD FLOOD_ARGS...: RUNS measurements, each
# with a fresh reader (VmHWM per run); medians per column into $TMP/NAME.
series() {
	local name=$1 kind=$2 start=$3 i
	shift 3
	: >"$TMP/$name.raw"
	for i in $(seq "$RUNS"); do
		run_one "$name" "$kind" "$start" "$@"
	done
	finish "$name"
}
# run_one NAME KIND START_CMD FLOOD_ARGS...: one measurement with a fresh
# reader, appended to $TMP/NAME.raw.
run_one() {
	local name=$1 start=$3
	READER_KIND=$2
	shift 3
	eval "$start"
	measure "$@" >>"$TMP/$name.raw"
	stop_reader
	echo "    $name: $(tail -n 1 "$TMP/$name.raw")" >&2
}
# finish NAME: the median of each column into $TMP/NAME.
finish() {
	local i
	for i in 1 2 3 4 5 6 7 8; do
		awk -v c=$i '{print $c}' "$TMP/$1.raw" | median
	done | paste -sd ' ' >"$TMP/$1"
}
col() { awk -v c="$2" '{print $c}' "$TMP/$1"; }

echo "flood: $COUNT PTBs per run, $RUNS runs, quote payload $QUOTE bytes; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
on() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }
if [ -z "${READERS:-}" ]; then
	READERS="agent batching readall batchlib t100 qthresh1"
	[ -n "${PMTUD_ORIG:-}" ] && READERS="$READERS orig"
fi
if on flood; then
	for s in ${SOURCES:-1 1000 1000000}; do
		q=1
		[ "$s" = 1000 ] && q=1000
		# Run by run, the readers in turn: a slow spell of the
		# machine hits them alike, not one reader's series.
		echo "... $s sources: $READERS" >&2
		for r in $READERS; do : >"$TMP/$r-$s.raw"; done
		for i in $(seq "$RUNS"); do
			for r in $READERS; do
				case $r in
				agent) run_one "$r-$s" agent "start_agent --no-prelimit" -s "$s" -q "$q" ;;
				*) run_one "$r-$s" "$r" "start_$r" -s "$s" -q "$q" ;;
				esac
			done
		done
		for r in $READERS; do finish "$r-$s"; done
	done
fi
if on nfqueue; then
	echo "... NFQUEUE, 1000000 sources" >&2
	: >"$TMP/agentq.raw"
	: >"$TMP/nfq.raw"
	for i in $(seq "$RUNS"); do
		run_one agentq agent "start_agent --no-prelimit --input nfqueue" -s 1000000 -q 1
		run_one nfq nfq start_nfq -s 1000000 -q 1
	done
	finish agentq
	finish nfq
fi
if on prelimit; then
	for s in 10 1000000; do
		for p in on off; do
			echo "... pre-limit $p, $s sources" >&2
			flag=
			[ "$p" = off ] && flag=--no-prelimit
			series "pre-$p-$s" agent "start_agent $flag" -s "$s" -q 1
		done
	done
fi
if on latency; then
	# Latency: every PTB its own flow and room in the interface budget.
	echo "... latency" >&2
	# Its ceiling: tests/io_driver, the same NFLOG input at queue
	# threshold 1 and forward.c's broadcast send with nothing in between.
	# The two in turn, run by run, as in the flood rows.
	: >"$TMP/lat.raw"
	: >"$TMP/latc.raw"
	for i in $(seq "$RUNS"); do
		start_agent --iface-rate 100000
		flood -L -g 1000 -n "$LAT_COUNT" -s "$LAT_COUNT" >>"$TMP/lat.raw"
		stop_reader
		: >"$TMP/reader.log"
		ip netns exec "$H" taskset -c 1 "$IO_DRIVER" -g 33 -f h0 >/dev/null 2>"$TMP/reader.log" &
		READER=$!
		sleep 0.3
		ip netns exec "$H" nft -f "$TMP/pmtud.nft" || die "nft -f pmtud.nft"
		flood -L -g 1000 -n "$LAT_COUNT" -s "$LAT_COUNT" >>"$TMP/latc.raw"
		stop_reader
		echo "    latency run $i: pmtud-nf $(tail -n 1 "$TMP/lat.raw"); io_driver $(tail -n 1 "$TMP/latc.raw")" >&2
	done
	lat50=$(awk '{print $3}' "$TMP/lat.raw" | median)
	lat99=$(awk '{print $5}' "$TMP/lat.raw" | median)
	latn=$(awk '{print $9}' "$TMP/lat.raw" | median)
	latc50=$(awk '{print $3}' "$TMP/latc.raw" | median)
	latc99=$(awk '{print $5}' "$TMP/latc.raw" | median)
fi
# ---- the table ------------------------------------------------------------

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "-") print "-"; else printf "%.2f\n", a / b }'; }
lbl() { case $1 in 1) echo "1 source" ;; 1000) echo "10^3 src x 10^3 clients" ;; *) echo "10^6 sources" ;; esac; }

if on flood; then
	echo
	echo "Flood, $COUNT PTBs (IPv4+IPv6), quote payload $QUOTE bytes; ratios against the batching ceiling"
	echo
	echo "| sources | reader | CPU s / 10^6 PTBs | ratio | flooder PTBs/s | ratio | lost | peak RSS KiB |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	for s in ${SOURCES:-1 1000 1000000}; do
		for r in batching readall batchlib t100 qthresh1 agent orig; do
			[ -f "$TMP/$r-$s" ] || continue
			name=$r
			[ "$r" = agent ] && name="pmtud-nf --no-prelimit"
			[ "$r" = batching ] && name="minimal reader, qthresh 1000 (ceiling)"
			[ "$r" = batchlib ] && name="minimal reader, qthresh 1000, libnetfilter_log parser"
			[ "$r" = qthresh1 ] && name="minimal reader, qthresh 1"
			[ "$r" = t100 ] && name="minimal reader, qthresh 100, default nlbufsiz"
			[ "$r" = readall ] && name="minimal reader, qthresh 1000, reads every byte"
			[ "$r" = orig ] && name="original pmtud ($(basename "$PMTUD_ORIG"))"
			printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(lbl "$s")" "$name" \
				"$(col "$r-$s" 2)" "$(ratio "$(col "$r-$s" 2)" "$(col "batching-$s" 2)")" \
				"$(col "$r-$s" 8)" "$(ratio "$(col "$r-$s" 8)" "$(col "batching-$s" 8)")" \
				"$(col "$r-$s" 3)" "$(col "$r-$s" 5)"
		done
	done
fi
if on nfqueue; then
	echo
	echo "| NFQUEUE, 10^6 sources | CPU s / 10^6 PTBs | ratio | flooder PTBs/s | lost |"
	echo "|---|---:|---:|---:|---:|"
	printf '| minimal reader, batched verdicts (ceiling) | %s | 1.00 | %s | %s |\n' "$(col nfq 2)" "$(col nfq 8)" "$(col nfq 3)"
	printf '| pmtud-nf --input nfqueue --no-prelimit | %s | %s | %s | %s |\n' "$(col agentq 2)" \
		"$(ratio "$(col agentq 2)" "$(col nfq 2)")" "$(col agentq 8)" "$(col agentq 3)"
fi
if on latency; then
	echo
	echo "| latency, 1 PTB/ms ($latn/$LAT_COUNT back) | p50 us | p99 us |"
	echo "|---|---:|---:|"
	printf '| io_driver, NFLOG qthresh 1 (ceiling) | %s | %s |\n' "$latc50" "$latc99"
	printf '| pmtud-nf | %s | %s |\n' "$lat50" "$lat99"
	printf '| ratio | %s | %s |\n' "$(ratio "$lat50" "$latc50")" "$(ratio "$lat99" "$latc99")"
fi
if on prelimit; then
	echo
	echo "| pre-limit, $COUNT PTBs | flooder PTBs/s | agent received | agent CPU s |"
	echo "|---|---:|---:|---:|"
	for s in 10 1000000; do
		for p in on off; do
			printf '| %s src, pre-limit %s | %s | %s | %s |\n' "$s" "$p" \
				"$(col "pre-$p-$s" 8)" "$(col "pre-$p-$s" 6)" "$(col "pre-$p-$s" 7)"
		done
	done
fi
echo
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r); load before $LOAD0, after $(cut -d' ' -f1-3 /proc/loadavg)"
