#!/bin/bash
# lab_prelimit.sh - the in-kernel pre-limit of the agent's table:
#
#   S  s0 (tests/bench/flood)  ---veth---  a0 192.0.2.2/24  A (pmtud-nf)
#
#  1. 20000 PTBs from one spoofed source: the per-source rule (update
#     @prelimit4 ... limit rate over 80/s) returns nearly all of them,
#     the agent receives about the limited amount, while 10 PTBs from
#     10 other sources, sent during the flood, all reach the agent and
#     are forwarded (broadcast copies counted by the agent);
#  2. 50000 PTBs from 50000 random sources, --prelimit-rate 1000: the
#     per-source rule cannot cut them, the global one does;
#  3. in both, the host's own stack still gets every PTB: the kernel's
#     Icmp InDestUnreachs grows by exactly what was sent ("return" ends
#     the chain with its policy, accept; nothing is dropped);
#  4. --no-prelimit: every PTB of the same flood reaches the agent.
# Needs root; exits 77 otherwise.
set -u

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for cmd in ip nft timeout; do
	command -v "$cmd" >/dev/null || { echo "SKIP: $cmd missing"; exit 77; }
done
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
TOP_BUILDDIR=${TOP_BUILDDIR:-$TOP_SRCDIR}
PMTUD_NF=${PMTUD_NF:-$TOP_BUILDDIR/src/pmtud-nf}
FLOOD=$TOP_BUILDDIR/tests/bench/flood
[ -x "$PMTUD_NF" ] || { echo "FAIL: $PMTUD_NF not built"; exit 1; }
[ -x "$FLOOD" ] || { echo "FAIL: $FLOOD not built"; exit 1; }

S=pmtud-$$-s
A=pmtud-$$-a
TMP=$(mktemp -d)
AGENT=

cleanup() {
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	ip netns del "$A" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$TMP/agent.log" ] && tail -n 5 "$TMP/agent.log"; exit 1; }
ok() { echo "ok: $*"; }

ip netns add "$S" && ip netns add "$A" || fail "ip netns add"
ip -n "$A" link add a0 type veth peer name s0 netns "$S" || fail veth
ip -n "$A" addr add 192.0.2.2/24 dev a0
ip -n "$S" addr add 192.0.2.1/24 dev s0
for ns in "$S" "$A"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set a0 up
ip -n "$S" link set s0 up
MAC=$(ip -n "$A" -br link show a0 | awk '{print $3}')
echo '{}' >"$TMP/empty.json"

flood() {
	ip netns exec "$S" timeout 60 "$FLOOD" -i s0 -m "$MAC" -4 192.0.2.2 -6 2001:db8::2 -f 4 "$@" >/dev/null ||
		fail "flood $*"
}

# iface_rate 20: the per-source pre-limit is 4 x 20 = 80/s, burst 80,
# and the interface's burst (20) has room for a copy to each of the
# legitimate sources and to the flood's one flow.
start_agent() {
	local _
	: >"$TMP/agent.log"
	ip netns exec "$A" "$PMTUD_NF" -c "$TMP/empty.json" -i a0 --iface-rate 20 "$@" \
		>"$TMP/agent.log" 2>&1 &
	AGENT=$!
	for _ in $(seq 100); do
		grep -q running "$TMP/agent.log" && return 0
		kill -0 "$AGENT" 2>/dev/null || break
		sleep 0.05
	done
	fail "agent did not start"
}
stop_agent() {
	kill "$AGENT"
	timeout 5 tail -s 0.05 --pid="$AGENT" -f /dev/null || fail "agent did not stop"
	wait "$AGENT" 2>/dev/null
	AGENT=
}

# counter NAME: the agent's counter, from a fresh SIGUSR1 line.
counter() {
	local n
	n=$(grep -c 'counters: ' "$TMP/agent.log")
	kill -USR1 "$AGENT" || return 1
	timeout 5 bash -c "until [ \$(grep -c 'counters: ' '$TMP/agent.log') -gt $n ]; do sleep 0.02; done" ||
		fail "no counters line"
	grep 'counters: ' "$TMP/agent.log" | tail -n 1 | grep -o "\b$1=[0-9]*" | cut -d= -f2
}
# settle NAME: the counter once it stopped moving.
settle() {
	local prev=-1 v _
	for _ in $(seq 50); do
		v=$(counter "$1")
		[ "$v" = "$prev" ] && { echo "$v"; return 0; }
		prev=$v
		sleep 0.2
	done
	echo "$v"
}
# rule_packets PATTERN: packets of the IPv4 rule whose line matches.
rule_packets() {
	ip netns exec "$A" nft list chain inet pmtud prerouting |
		grep ' icmp type ' | grep -e "$1" | sed -n 's/.* counter packets \([0-9]*\) .*/\1/p'
}
icmp_in() {
	ip netns exec "$A" awk '/^Icmp: / { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
		else print $(c["InDestUnreachs"]) }' /proc/net/snmp
}

# 1. One spoofed source, and legitimate ones meanwhile.
start_agent
i0=$(icmp_in)
flood -n 20000 -s 1 &
fpid=$!
sleep 0.02
flood -n 10 -s 10 -S 5000 -q 1
wait "$fpid" || fail "flood"
recv=$(settle received)
fwd=$(counter forwarded)
src_ret=$(rule_packets '@prelimit4')
all_ret=$(rule_packets 'limit rate over 10000')
logged=$(rule_packets 'pkttype != broadcast .* counter packets [0-9]* bytes [0-9]* log group')
i1=$(icmp_in)
echo "one source: per-source return $src_ret, global return $all_ret, logged $logged, agent received $recv, forwarded $fwd"
[ "$src_ret" -ge 19000 ] || fail "per-source pre-limit returned $src_ret of 20000"
[ "$recv" -ge 10 ] && [ "$recv" -le 300 ] || fail "agent received $recv, want 10..300"
[ "$logged" = "$recv" ] || fail "logged $logged, received $recv"
[ $((src_ret + all_ret + logged)) = 20010 ] || fail "rules saw $((src_ret + all_ret + logged)) of 20010"
ok "flood from one source cut in the kernel ($src_ret of 20000 returned), the agent received $recv"
[ "$fwd" -ge 10 ] || fail "forwarded $fwd, want >= 10 (every legitimate PTB)"
ok "the 10 legitimate PTBs from other sources got through: $fwd copies sent"
[ $((i1 - i0)) = 20010 ] || fail "host ICMP InDestUnreachs +$((i1 - i0)), want +20010"
ok "the host's stack got every PTB (Icmp InDestUnreachs +$((i1 - i0)))"
stop_agent

# 2. Random sources: only the global limit cuts them.
start_agent --prelimit-rate 1000
i0=$(icmp_in)
flood -n 50000 -s 50000 -S 10000
recv=$(settle received)
src_ret=$(rule_packets '@prelimit4')
all_ret=$(rule_packets 'limit rate over 1000/')
i1=$(icmp_in)
echo "random sources: per-source return $src_ret, global return $all_ret, agent received $recv"
[ "$src_ret" = 0 ] || fail "per-source pre-limit returned $src_ret of distinct sources"
[ "$all_ret" -ge 40000 ] || fail "global pre-limit returned $all_ret of 50000"
[ "$recv" -ge 1000 ] && [ "$recv" -le 10000 ] || fail "agent received $recv, want 1000..10000"
ok "random-source flood cut by the global pre-limit ($all_ret of 50000 returned), the agent received $recv"
[ $((i1 - i0)) = 50000 ] || fail "host ICMP InDestUnreachs +$((i1 - i0)), want +50000"
ok "the host's stack got every PTB (Icmp InDestUnreachs +$((i1 - i0)))"
stop_agent

# 4. Without the pre-limit the same flood reaches the agent whole.
start_agent --no-prelimit
flood -n 20000 -s 1
recv=$(settle received)
gaps=$(counter seq_gaps)
[ $((recv + gaps)) = 20000 ] || fail "no pre-limit: received $recv + lost $gaps, want 20000"
ip netns exec "$A" nft list table inet pmtud | grep -q 'return' && fail "no pre-limit: return rules present"
ok "no pre-limit: the agent got all 20000 ($recv received, $gaps lost to a full socket)"
stop_agent
exit 0
