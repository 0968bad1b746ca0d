#!/bin/bash
# fanout.sh - CPU per accepted PTB when each one goes to N peers (on
# demand, not part of make check; needs root and a built tree).
#
#   F  s0 (flood.c)  ---veth---  h0  H  p0 ---veth--- q0  P
#                                2001:db8::2     2001:db8:e::2/64
#
# H runs pmtud-nf on h0, pinned to CPU 1, no broadcast, no rate limit
# that could bind (src/iface rates 10^6, peer_rate 10^9, no dedup, no
# pre-limit): every PTB the flood brings is accepted and copied to
# every peer. The peers are N addresses of 2001:db8:f::/64, routed via
# P, whose prerouting chain drops everything: real sends, nobody
# answers. They come from one host name in H's /etc/hosts (ip netns
# exec binds /etc/netns/H/hosts over it): 64 addresses at most can be
# written in "peers", a name has no such limit.
#
# Per row (median of RUNS runs, COUNT IPv6 PTBs from 1000 sources):
#   peers        N
#   accepted     PTBs relayed (peer copies sent / N)
#   us_per_ptb   agent CPU (user+system, /proc/PID/stat) per accepted PTB
#   us_per_copy  the same per copy
#   copies_per_s copies the agent sent per second of its CPU time
#
# Usage: tests/bench/fanout.sh [-r RUNS] [-n COUNT] [-p "10 100 1000"]
#        PMTUD_NF (default ./src/pmtud-nf), TOP_SRCDIR, TOP_BUILDDIR.
#        To compare with one sendmsg() per copy, build the agent with
#        CPPFLAGS=-DPMTUD_PEER_SENDTO and run again with PMTUD_NF=that.
set -u

RUNS=3
COUNT=20000
PEERS="10 100 1000"
while getopts r:n:p: o; do
	case $o in
	r) RUNS=$OPTARG ;;
	n) COUNT=$OPTARG ;;
	p) PEERS=$OPTARG ;;
	*) echo "usage: $0 [-r RUNS] [-n COUNT] [-p \"N...\"]" >&2; exit 2 ;;
	esac
done

# shellcheck source=tests/bench/env.sh
. "$(dirname "$0")/env.sh"
FLOOD=$TOP_BUILDDIR/tests/bench/flood
[ -x "$FLOOD" ] || make -C "$TOP_BUILDDIR" tests/bench/flood >/dev/null ||
	{ echo "cannot build tests/bench/flood" >&2; exit 1; }

F=pmtud-fan-$$-f
H=pmtud-fan-$$-h
P=pmtud-fan-$$-p
NAME=fanout.bench.test
TMP=$(mktemp -d)
AGENT=

cleanup() {
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	ip netns del "$F" 2>/dev/null
	ip netns del "$H" 2>/dev/null
	ip netns del "$P" 2>/dev/null
	rm -rf "/etc/netns/$H" "$TMP"
}
trap cleanup EXIT
die() { echo "fanout.sh: $*" >&2; exit 1; }

ip netns add "$F" && ip netns add "$H" && ip netns add "$P" || die "ip netns add"
for ns in "$F" "$H" "$P"; do ip -n "$ns" link set lo up; done
ip -n "$H" link add h0 type veth peer name s0 netns "$F" || die veth
ip -n "$H" link add p0 type veth peer name q0 netns "$P" || die veth
ip -n "$H" addr add 192.0.2.2/24 dev h0
ip -n "$H" addr add 2001:db8::2/64 dev h0 nodad
ip -n "$H" addr add 2001:db8:e::2/64 dev p0 nodad
ip -n "$P" addr add 2001:db8:e::1/64 dev q0 nodad
ip -n "$F" addr add 192.0.2.1/24 dev s0
ip -n "$F" addr add 2001:db8::1/64 dev s0 nodad
for l in "$H h0" "$H p0" "$F s0" "$P q0"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip -n "$H" route add 2001:db8:f::/64 via 2001:db8:e::1 || die "route to the peers"
ip netns exec "$P" ping -6 -c 1 -W 2 2001:db8:e::2 >/dev/null || die "no connectivity to P"
# From now on P takes every copy and answers nothing.
ip netns exec "$P" nft -f - <<-'EOF' || die "nft in P"
table inet sink {
	chain pre { type filter hook prerouting priority -300; policy drop; }
}
EOF
MAC=$(ip -n "$H" -br link show h0 | awk '{print $3}')
echo '{}' >"$TMP/empty.json"
mkdir -p "/etc/netns/$H" || die "mkdir /etc/netns/$H"
echo "nameserver 127.0.0.1" >"/etc/netns/$H/resolv.conf"

ticks() { awk '{print $14 + $15}' "/proc/$AGENT/stat"; }
# copies_sent: the "peers: ..." line logged at SIGUSR1.
copies_sent() {
	local n
	n=$(grep -c '^pmtud-nf: peers: .* sent=' "$TMP/agent.log")
	kill -USR1 "$AGENT" || return 1
	timeout 60 bash -c "until [ \$(grep -c '^pmtud-nf: peers: .* sent=' '$TMP/agent.log') -gt $n ]; do sleep 0.01; done" ||
		die "no peers line: $(tail -n 5 "$TMP/agent.log")"
	grep '^pmtud-nf: peers: .* sent=' "$TMP/agent.log" | tail -n 1 |
		grep -o 'sent=[0-9]*' | cut -d= -f2
}

# run N: one agent relaying to N peers, one flood; prints
# "accepted us_per_ptb us_per_copy copies_per_s".
run() {
	local n=$1 i s0 s1 k0 k1 prev
	for i in $(seq "$n"); do printf '2001:db8:f::%x %s\n' "$i" "$NAME"; done \
		>"/etc/netns/$H/hosts"
	ip netns exec "$H" "$PMTUD_NF" -c "$TMP/empty.json" -i h0 --cpu 1 \
		--peers "$NAME" --no-broadcast --no-prelimit --dedup-window 0 \
		--src-rate 1000000 --iface-rate 1000000 --peer-rate 1e9 \
		--metrics-peer-limit 0 >"$TMP/agent.log" 2>&1 &
	AGENT=$!
	for i in $(seq 100); do
		grep -q "peers: $n (0 IPv4, $n IPv6)" "$TMP/agent.log" && break
		kill -0 "$AGENT" 2>/dev/null || die "agent: $(cat "$TMP/agent.log")"
		sleep 0.05
	done
	grep -q "peers: $n (0 IPv4, $n IPv6)" "$TMP/agent.log" || die "peers not resolved: $(cat "$TMP/agent.log")"
	s0=$(copies_sent); k0=$(ticks)
	ip netns exec "$F" taskset -c 0 "$FLOOD" -i s0 -m "$MAC" -4 192.0.2.2 \
		-6 2001:db8::2 -f 6 -s 1000 -n "$COUNT" >/dev/null || die "flood"
	prev=-1
	for i in $(seq 300); do
		s1=$(copies_sent)
		[ "$s1" = "$prev" ] && break
		prev=$s1
		sleep 0.3
	done
	k1=$(ticks)
	kill "$AGENT"; wait "$AGENT" 2>/dev/null; AGENT=
	awk -v n="$n" -v c=$((s1 - s0)) -v k=$((k1 - k0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
		cpu = k / hz; a = c / n
		printf "%d %.2f %.3f %.0f\n", a, a ? cpu / a * 1e6 : 0, c ? cpu / c * 1e6 : 0, cpu ? c / cpu : 0 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "# $PMTUD_NF ($("$PMTUD_NF" --version)), $RUNS runs of $COUNT IPv6 PTBs, $(nproc) CPUs"
printf '%-6s %10s %11s %12s %13s\n' peers accepted us_per_ptb us_per_copy copies_per_s
for n in $PEERS; do
	: >"$TMP/rows"
	for _ in $(seq "$RUNS"); do run "$n" >>"$TMP/rows"; done
	printf '%-6s %10s %11s %12s %13s\n' "$n" \
		"$(cut -d' ' -f1 "$TMP/rows" | median)" "$(cut -d' ' -f2 "$TMP/rows" | median)" \
		"$(cut -d' ' -f3 "$TMP/rows" | median)" "$(cut -d' ' -f4 "$TMP/rows" | median)"
done
