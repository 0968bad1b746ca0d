#!/bin/bash
# run.sh - pmtud-nf against its ceiling under a PTB flood (on demand,
# not part of make check; needs root, cc, libmnl, libnetfilter_log).
#
#   F  s0 (flood.c)  ---veth---  h0 192.0.2.2/24 2001:db8::2/64  H
#
# H runs either pmtud-nf (its own table, default limits, real sends:
# copies go out as broadcasts on h0, back to F) or bare_reader.c (the same NFLOG
# input with a callback that only counts; its rules: nft/pmtud.nft).
# The reader is pinned to CPU 1, the flooder to CPU 0 (the kernel's
# per-packet work, the nft rules and NFLOG, runs in the flooder's
# softirq on CPU 0). Every figure is the median of RUNS runs.
#
# Flood rows: COUNT PTBs (IPv4 and IPv6 alternating) from S distinct
# sources, each source quoting 1000 clients for S = 1000 (so 10^6
# distinct flows) -- the agent without its pre-limit, so it sees every
# PTB like the bare reader:
#   pps          PTBs processed per second (received / time until the
#                reader's count stopped moving)
#   cpu_s_per_M  user+system CPU seconds per million PTBs (/proc/PID/stat)
#   lost         logged by the nft rules but not received, + ENOBUFS
#                events + NFULA_SEQ gaps
#   copies       broadcast copies sent (agent counter "forwarded")
#   rss_kib      peak RSS (VmHWM) after the flood
# Pre-limit rows: the agent with its pre-limit on and off, 10^6 PTBs
# from 10 sources and from 10^6: what reaches the agent, its CPU, and
# the flooder's rate (the kernel's own cost is in the flooder's CPU).
# Latency rows: LAT_COUNT PTBs at 1 ms spacing, PTB out of F -> copy
# back in F, both stamped by the kernel (SO_TIMESTAMPNS on s0); the
# ceiling there is tests/io_driver (NFLOG in, forward.c's broadcast
# out, nothing in between).
#
# Usage: tests/bench/run.sh [-r RUNS] [-n COUNT] [-p QUOTE_BYTES] [-l LAT_COUNT]
#        PMTUD_NF (default ./src/pmtud-nf), TOP_SRCDIR, TOP_BUILDDIR
set -u

RUNS=3
COUNT=1000000
QUOTE=0
LAT_COUNT=1000
while getopts r:n:p:l: o; do
	case $o in
	r) RUNS=$OPTARG ;;
	n) COUNT=$OPTARG ;;
	p) QUOTE=$OPTARG ;;
	l) LAT_COUNT=$OPTARG ;;
	*) echo "usage: $0 [-r RUNS] [-n COUNT] [-p QUOTE_BYTES] [-l LAT_COUNT]" >&2; exit 2 ;;
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
$CC $CFLAGS -o "$TMP/bare_reader" "$TOP_SRCDIR/tests/bench/bare_reader.c" \
	"$TOP_SRCDIR/src/input_nflog.c" "$TOP_SRCDIR/src/nfnl_sock.c" \
	$(pkg-config --cflags --libs libmnl libnetfilter_log) || die "cannot build bare_reader"

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

# The bare reader's rules: pmtud.nft for h0, without the pre-limit.
sed -e 's/{ "eth0" }/{ "h0" }/' -e '/^\tset prelimit[46] {/,/^\t}/d' -e '/ return$/d' \
	"$TOP_SRCDIR/nft/pmtud.nft" >"$TMP/bare.nft"

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

start_bare() {
	: >"$TMP/reader.log"
	ip netns exec "$H" taskset -c 1 "$TMP/bare_reader" 33 4194304 >"$TMP/reader.log" 2>&1 &
	READER=$!
	wait_log ready || die "bare_reader did not start"
	ip netns exec "$H" nft -f "$TMP/bare.nft" || die "nft -f bare.nft"
}

stop_reader() {
	kill "$READER" 2>/dev/null
	wait "$READER" 2>/dev/null
	READER=
	ip netns exec "$H" nft delete table inet pmtud 2>/dev/null
}

# counters: SIGUSR1, then the newest "counters:" line.
counters() {
	local n
	n=$(grep -c 'counters: ' "$TMP/reader.log")
	kill -USR1 "$READER" || return 1
	timeout 5 bash -c "until [ \$(grep -c 'counters: ' '$TMP/reader.log') -gt $n ]; do sleep 0.01; done" ||
		die "no counters line"
	grep 'counters: ' "$TMP/reader.log" | tail -n 1
}
field() { local v; v=$(grep -o "\b$1=[0-9]*" <<<"$2" | head -n 1 | cut -d= -f2); echo "${v:-0}"; }
ticks() { awk '{print $14 + $15}' "/proc/$READER/stat"; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$READER/status"; }
# Packets the log rules (not the pre-limit's) matched.
logged() {
	ip netns exec "$H" nft list table inet pmtud |
		awk '/ log group / { for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }'
}
returned() {
	ip netns exec "$H" nft list table inet pmtud |
		awk '/ return$/ { for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }'
}
now() { date +%s.%N; }

# measure FLOOD_ARGS...: one flood against the running reader; prints
# "pps cpu_s_per_M lost copies rss_kib received cpu_s flood_pps"
measure() {
	local c0 c1 k0 k1 l0 l1 t0 t1 r0 r1 prev out fpps lost
	c0=$(counters); k0=$(ticks); l0=$(logged)
	r0=$(field received "$c0")
	t0=$(now)
	out=$(flood -n "$COUNT" "$@") || die "flood failed"
	fpps=$(awk '{print $1}' <<<"${out#*(}")
	prev=-1 t1=$(now)
	for _ in $(seq 300); do
		c1=$(counters)
		r1=$(field received "$c1")
		[ "$r1" = "$prev" ] && break
		prev=$r1 t1=$(now)
		sleep 0.2
	done
	k1=$(ticks); l1=$(logged)
	# Ground truth: what the log rules matched and the reader missed
	# (the kernel's NFLOG drops on a full socket buffer; the reader's
	# ENOBUFS and sequence-gap counters see the same, less exactly).
	lost=$(( (l1 - l0) - (r1 - r0) ))
	[ "$lost" -lt 0 ] && lost=0
	awk -v r=$((r1 - r0)) -v t0="$t0" -v t1="$t1" -v k=$((k1 - k0)) -v hz="$(getconf CLK_TCK)" \
	    -v lost="$lost" -v fw="$(( $(field forwarded "$c1") - $(field forwarded "$c0") ))" \
	    -v rss="$(hwm)" -v fpps="$fpps" 'BEGIN {
		cpu = k / hz; dt = t1 - t0
		printf "%.0f %.3f %d %d %d %d %.2f %s\n", r / dt, r ? cpu / r * 1e6 : 0, lost, fw, rss, r, cpu, fpps }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# series NAME START_CMD FLOOD_ARGS...: RUNS measurements, each with a
# fresh reader (VmHWM per run); medians per column into $TMP/NAME.
series() {
	local name=$1 start=$2 i
	shift 2
	: >"$TMP/$name.raw"
	for i in $(seq "$RUNS"); do
		eval "$start"
		measure "$@" >>"$TMP/$name.raw"
		stop_reader
	done
	for i in 1 2 3 4 5 6 7 8; do
		awk -v c=$i '{print $c}' "$TMP/$name.raw" | median
	done | paste -sd ' ' >"$TMP/$name"
}
col() { awk -v c="$2" '{print $c}' "$TMP/$1"; }

echo "flood: $COUNT PTBs per run, $RUNS runs, quote payload $QUOTE bytes" >&2
for s in 1 1000 1000000; do
	q=1
	[ "$s" = 1000 ] && q=1000
	echo "... $s sources: agent" >&2
	series "agent-$s" "start_agent --no-prelimit" -s "$s" -q "$q"
	echo "... $s sources: bare reader" >&2
	series "bare-$s" start_bare -s "$s" -q "$q"
done
for s in 10 1000000; do
	for p in on off; do
		echo "... pre-limit $p, $s sources" >&2
		flag=
		[ "$p" = off ] && flag=--no-prelimit
		series "pre-$p-$s" "start_agent $flag" -s "$s" -q 1
	done
done

# Latency: every PTB its own flow and room in the interface budget.
echo "... latency" >&2
: >"$TMP/lat.raw"
for i in $(seq "$RUNS"); do
	start_agent --iface-rate 100000
	flood -L -g 1000 -n "$LAT_COUNT" -s "$LAT_COUNT" >>"$TMP/lat.raw"
	stop_reader
done
# Its ceiling: tests/io_driver, the same NFLOG input and forward.c's
# broadcast send with nothing in between (rules: bare.nft).
: >"$TMP/latc.raw"
for i in $(seq "$RUNS"); do
	: >"$TMP/reader.log"
	ip netns exec "$H" taskset -c 1 "$IO_DRIVER" -g 33 -f h0 >/dev/null 2>"$TMP/reader.log" &
	READER=$!
	sleep 0.3
	ip netns exec "$H" nft -f "$TMP/bare.nft" || die "nft -f bare.nft"
	flood -L -g 1000 -n "$LAT_COUNT" -s "$LAT_COUNT" >>"$TMP/latc.raw"
	stop_reader
done
lat50=$(awk '{print $3}' "$TMP/lat.raw" | median)
lat99=$(awk '{print $5}' "$TMP/lat.raw" | median)
latn=$(awk '{print $9}' "$TMP/lat.raw" | median)
latc50=$(awk '{print $3}' "$TMP/latc.raw" | median)
latc99=$(awk '{print $5}' "$TMP/latc.raw" | median)

# ---- the table ------------------------------------------------------------

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'; }
row() { printf '| %-34s | %12s | %12s | %6s |\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }

echo
echo "| flood, $COUNT PTBs (v4+v6)          |    pmtud-nf |     ceiling |  ratio |"
echo "|------------------------------------|-------------:|-------------:|-------:|"
for s in 1 1000 1000000; do
	lbl="$s src"
	[ "$s" = 1000 ] && lbl="1000 src x 1000 clients"
	row "$lbl: PTBs/s" "$(col "agent-$s" 1)" "$(col "bare-$s" 1)"
	row "$lbl: CPU s / 10^6 PTBs" "$(col "agent-$s" 2)" "$(col "bare-$s" 2)"
	row "$lbl: lost" "$(col "agent-$s" 3)" "$(col "bare-$s" 3)"
	row "$lbl: copies sent" "$(col "agent-$s" 4)" "-"
	row "$lbl: peak RSS KiB" "$(col "agent-$s" 5)" "$(col "bare-$s" 5)"
done
row "latency p50 us ($latn/$LAT_COUNT back)" "$lat50" "$latc50"
row "latency p99 us" "$lat99" "$latc99"
echo
echo "| pre-limit, $COUNT PTBs   | flood PTBs/s | agent received | agent CPU s |"
echo "|--------------------------|-------------:|---------------:|------------:|"
for s in 10 1000000; do
	for p in on off; do
		printf '| %-24s | %12s | %14s | %11s |\n' "$s src, pre-limit $p" \
			"$(col "pre-$p-$s" 8)" "$(col "pre-$p-$s" 6)" "$(col "pre-$p-$s" 7)"
	done
done
echo
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
