#!/bin/bash
# test_nfqueue.sh - the NFQUEUE input (src/input_nfqueue.c) through the
# real agent, across a veth:
#
#   S  s0 192.0.2.1/24 2001:db8::1/64  ---veth---  v0 192.0.2.2/24 2001:db8::2/64  A
#
# A runs pmtud-nf --input nfqueue --queue 40 (dry run). Proves:
#  1. the queue is bound in copy-packet mode (2) and the agent says
#     which input is active;
#  2. every PTB (ICMP frag-needed and ICMPv6 packet-too-big) reaches the
#     agent AND A's own stack (the kernel's ICMP counters grow by as many
#     as the rule matched): the verdict is always ACCEPT; other traffic
#     flows;
#  3. fail-open: with the agent stopped (SIGSTOP), the kernel holds at
#     most the queue's 1024 packets and accepts the rest at once (the
#     agent never sees those: the kernel counts them nowhere); after
#     SIGCONT every held PTB is accepted and received;
#     with a small socket buffer (--rcvbuf 65536) the overflow is at the
#     socket instead: accepted all the same, and the agent counts
#     ENOBUFS and exactly the packets it never saw (received + seq_gaps
#     = matched, by packet id);
#  4. a second agent on the same queue exits 3 with "already bound";
#     without CAP_NET_ADMIN: exit 3, one line, no table left;
#  5. SIGTERM: exit 0, queue unbound, table gone, and the PTBs a
#     stopped agent held when it got SIGTERM are accepted, not dropped.
# Needs root; exits 77 otherwise.
set -u

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ "${PMTUD_SKIP_LAB:-0}" = 1 ] && { echo "SKIP: PMTUD_SKIP_LAB=1"; exit 77; }
for cmd in ip nft setpriv timeout; do
	command -v "$cmd" >/dev/null || { echo "SKIP: $cmd missing"; exit 77; }
done
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)} ||
	{ echo "SKIP: python3 missing"; exit 77; }
[ -r /proc/net/netfilter/nfnetlink_queue ] || modprobe nfnetlink_queue 2>/dev/null
[ -r /proc/net/netfilter/nfnetlink_queue ] || { echo "SKIP: no nfnetlink_queue"; exit 77; }

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
TOP_BUILDDIR=${TOP_BUILDDIR:-$TOP_SRCDIR}
PMTUD_NF=${PMTUD_NF:-$TOP_BUILDDIR/src/pmtud-nf}
[ -x "$PMTUD_NF" ] || { echo "FAIL: $PMTUD_NF not built"; exit 1; }

NS_A=pmtud-$$-qa
NS_S=pmtud-$$-qs
QUEUE=40
QPROC=/proc/net/netfilter/nfnetlink_queue
TMP=$(mktemp -d)
AGENT=

cleanup() {
	if [ -n "$AGENT" ]; then
		kill -CONT "$AGENT" 2>/dev/null
		kill -9 "$AGENT" 2>/dev/null
		wait "$AGENT" 2>/dev/null
	fi
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; [ -f "$TMP/agent.log" ] && sed 's/^/# agent: /' "$TMP/agent.log"; exit 1; }
ok() { echo "ok: $*"; }
in_ns() { local ns=$1; shift; timeout 20 ip netns exec "$ns" "$@"; }

echo '{}' >"$TMP/empty.json"
# No pre-limit: the fail-open floods below come from one source, and
# must reach the queue (tests/lab_prelimit.sh covers the pre-limit).
AGENT_ARGS=(-c "$TMP/empty.json" --dry-run -i v0 -v --input nfqueue --queue "$QUEUE" --no-prelimit)

# queue_field N: column N of our queue's line in A's nfnetlink_queue
# (1 queue, 2 portid, 3 waiting, 4 copy mode, 5 range, 6 dropped,
# 7 user dropped, 8 last id), empty when unbound.
queue_field() {
	in_ns "$NS_A" awk -v q="$QUEUE" -v f="$1" '$1 == q { print $f }' "$QPROC"
}

# poll SECONDS CMD...: until CMD succeeds (lab_poll of tests/lab/lib.sh).
# shellcheck source=tests/lab/lib.sh
. "$TOP_SRCDIR/tests/lab/lib.sh"
poll() { lab_poll "$@"; }

queue_bound() { [ -n "$(queue_field 1)" ]; }
queue_unbound() { [ -z "$(queue_field 1)" ]; }
table_exists() { in_ns "$NS_A" nft list table inet pmtud >/dev/null 2>&1; }
no_table() { ! table_exists; }

start_agent() {
	ip netns exec "$NS_A" "$PMTUD_NF" "${AGENT_ARGS[@]}" </dev/null >"$TMP/agent.log" 2>&1 &
	AGENT=$!
	poll 5 eval 'queue_bound && table_exists' || fail "agent did not bind queue $QUEUE and install its table"
}

# Kernel ICMP input counters of A: "<IcmpInDestUnreachs> <Icmp6InPktTooBigs>".
icmp_in() {
	in_ns "$NS_A" "$PYTHON" -c '
snmp = open("/proc/net/snmp").read().split("\n")
hdr, val = [l.split() for l in snmp if l.startswith("Icmp:")][:2]
v4 = val[hdr.index("InDestUnreachs")]
v6 = [l.split()[1] for l in open("/proc/net/snmp6") if l.startswith("Icmp6InPktTooBigs ")][0]
print(v4, v6)'
}

# Packets the two rules matched: "<ICMPv4> <ICMPv6>".
rule_hits() {
	in_ns "$NS_A" nft list table inet pmtud 2>/dev/null |
		sed -n '/ return$/!s/.* counter packets \([0-9]*\) .*/\1/p' | paste -sd ' '
}

# counters: SIGUSR1, then the agent's newest counters line.
counters() {
	local n
	n=$(grep -c 'counters: ' "$TMP/agent.log")
	kill -USR1 "$AGENT" || return 1
	poll 5 eval '[ "$(grep -c "counters: " "$TMP/agent.log")" -gt '"$n"' ]' || return 1
	grep 'counters: ' "$TMP/agent.log" | tail -n 1
}
field() {
	local w
	for w in $1; do
		case $w in "$2"=*) echo "${w#*=}"; return 0 ;; esac
	done
	echo "no $2 in: $1" >&2
	return 1
}

# send 4|6 COUNT: COUNT PTBs from S to A, each quoting another flow.
send() {
	in_ns "$NS_S" "$PYTHON" - "$@" <<'EOF' || fail "send $*"
import socket, struct, sys
fam, count = sys.argv[1], int(sys.argv[2])
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
if fam == "4":
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
for i in range(count):
    udp = struct.pack("!HHHH", 443, 40000 + i % 20000, 16, 0) + b"\0" * 8
    if fam == "4":
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0,
                         socket.inet_aton("192.0.2.2"), socket.inet_aton("203.0.113.%d" % (1 + i % 250)))
        msg = struct.pack("!BBHHH", 3, 4, 0, 0, 1400) + ip + udp
        msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
        s.sendto(msg, ("192.0.2.2", 0))
    else:
        ip6 = struct.pack("!IHBB16s16s", 6 << 28, len(udp), 17, 64,
                          socket.inet_pton(socket.AF_INET6, "2001:db8::2"),
                          socket.inet_pton(socket.AF_INET6, "2001:db8:ff::%x" % (1 + i)))
        s.sendto(struct.pack("!BBHI", 2, 0, 0, 1280) + ip6 + udp, ("2001:db8::2", 0))
EOF
}

ip netns add "$NS_A" || fail "ip netns add"
ip netns add "$NS_S" || fail "ip netns add"
ip -n "$NS_A" link add v0 type veth peer name s0 netns "$NS_S" || fail "veth"
ip -n "$NS_A" addr add 192.0.2.2/24 dev v0
ip -n "$NS_A" addr add 2001:db8::2/64 dev v0 nodad
ip -n "$NS_S" addr add 192.0.2.1/24 dev s0
ip -n "$NS_S" addr add 2001:db8::1/64 dev s0 nodad
for ns in "$NS_A" "$NS_S"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_A" link set v0 up
ip -n "$NS_S" link set s0 up

# 1. Bound, copy-packet mode, input named in the log.
start_agent
[ "$(queue_field 4)" = 2 ] || fail "queue $QUEUE: copy mode '$(queue_field 4)', want 2"
# Copy range: the largest relayable PTB (classify.h), not 64 KiB.
[ "$(queue_field 5)" = 1280 ] || fail "queue $QUEUE: copy range '$(queue_field 5)', want 1280"
grep -q "running: input NFQUEUE $QUEUE," "$TMP/agent.log" || fail "start-up line does not name NFQUEUE $QUEUE"
ok "queue $QUEUE bound in copy-packet mode, copy range 1280; the agent logs 'input NFQUEUE $QUEUE'"

# 2. Every PTB reaches the agent and A's stack.
in_ns "$NS_S" ping -c 1 -W 2 192.0.2.2 >/dev/null || fail "ping: traffic does not flow"
read -r k4 k6 < <(icmp_in)
send 4 20
send 6 20
poll 5 eval '[ "$(rule_hits)" = "20 20" ]' || fail "rules matched '$(rule_hits)', want '20 20'"
poll 5 eval '[ "$(icmp_in)" = "$((k4 + 20)) $((k6 + 20))" ]' ||
	fail "A's stack got '$(icmp_in)' ICMP errors, want '$((k4 + 20)) $((k6 + 20))': verdicts missing"
c=$(counters) || fail "no counters"
[ "$(field "$c" received)" = 40 ] || fail "agent received $(field "$c" received), want 40 ($c)"
[ "$(field "$c" seq_gaps)" = 0 ] || fail "agent counts gaps: $c"
[ "$(queue_field 3)" = 0 ] || fail "$(queue_field 3) packets still wait for a verdict"
in_ns "$NS_S" ping -c 1 -W 2 2001:db8::2 >/dev/null || fail "ping6: traffic does not flow"
ok "40 PTBs: all 40 reached the agent and A's own ICMP stack; none waits; traffic flows"

# 3. Fail-open. Stopped, the agent gives no verdicts: the queue fills up
# to its 1024 entries, then the kernel accepts the rest unqueued.
FLOOD=1300
kill -STOP "$AGENT"
read -r k4 k6 < <(icmp_in)
read -r h4 _ < <(rule_hits)
send 4 "$FLOOD"
poll 10 eval '[ "$(queue_field 3)" = 1024 ]' || fail "stopped agent: $(queue_field 3) queued, want 1024"
read -r m4 _ < <(rule_hits)
matched=$((m4 - h4))
[ "$matched" -gt 1024 ] || fail "only $matched PTBs matched: no overflow to test"
poll 5 eval '[ "$(icmp_in | cut -d" " -f1)" = "$((k4 + matched - 1024))" ]' ||
	fail "stopped agent: A's stack got $(( $(icmp_in | cut -d' ' -f1) - k4 )), want $((matched - 1024)) (fail-open)"
ok "stopped agent: 1024 PTBs held, the other $((matched - 1024)) accepted at once (fail-open)"
kill -CONT "$AGENT"
poll 10 eval '[ "$(icmp_in | cut -d" " -f1)" = "$((k4 + matched))" ]' ||
	fail "after SIGCONT: A's stack got $(( $(icmp_in | cut -d' ' -f1) - k4 )), want $matched"
c=$(counters) || fail "no counters"
[ "$(field "$c" received)" = $((40 + 1024)) ] || fail "agent received $(field "$c" received), want $((40 + 1024)) ($c)"
[ "$(field "$c" seq_gaps)" = 0 ] || fail "agent counts $(field "$c" seq_gaps) gaps, want 0 ($c)"
ok "after SIGCONT: all $matched accepted; the agent received the 1024 held ones"

# 3b. Socket overrun: a 64 KiB receive buffer holds a few dozen packets.
kill -TERM "$AGENT"
wait "$AGENT"
AGENT=
poll 2 eval 'queue_unbound && no_table' || fail "agent did not stop"
AGENT_ARGS+=(--rcvbuf 65536)
start_agent
read -r k4 _ < <(icmp_in)
read -r h4 _ < <(rule_hits)
kill -STOP "$AGENT"
send 4 400
kill -CONT "$AGENT"
send 4 1		# a later id reveals the gap
read -r m4 _ < <(rule_hits)
matched=$((m4 - h4))
poll 5 eval '[ "$(icmp_in | cut -d" " -f1)" = "$((k4 + matched))" ]' ||
	fail "overrun: A's stack got $(( $(icmp_in | cut -d' ' -f1) - k4 )), want $matched"
poll 5 eval '[ "$(queue_field 3)" = 0 ]' || fail "overrun: $(queue_field 3) packets wait"
c=$(counters) || fail "no counters"
r=$(field "$c" received) g=$(field "$c" seq_gaps) e=$(field "$c" lost_enobufs)
[ $((r + g)) = "$matched" ] && [ "$g" -gt 0 ] && [ "$e" -gt 0 ] ||
	fail "overrun: received $r + seq_gaps $g != matched $matched, or no gap/ENOBUFS ($c)"
ok "socket overrun: all $matched accepted; agent received $r, counted $g never seen, $e ENOBUFS"

# 4. Busy queue; no CAP_NET_ADMIN.
rc=0
timeout 10 ip netns exec "$NS_A" "$PMTUD_NF" "${AGENT_ARGS[@]}" >"$TMP/second.log" 2>&1 || rc=$?
[ "$rc" = 3 ] || { cat "$TMP/second.log"; fail "second agent: exit $rc, want 3"; }
grep -q "NFQUEUE $QUEUE is already bound by another process (netlink portid [0-9]*, see $QPROC)" "$TMP/second.log" ||
	{ cat "$TMP/second.log"; fail "second agent: message"; }
kill -0 "$AGENT" && queue_bound && table_exists || fail "the first agent lost its queue or table"
ok "second agent on queue $QUEUE: exit 3, 'already bound'; the first keeps running"

# 5. SIGTERM, with PTBs held.
# SIGTERM first: the agent sees it before the packets when it resumes,
# so it is the exit path (input_nfqueue_close) that must accept them.
kill -STOP "$AGENT"
kill -TERM "$AGENT"
read -r k4 _ < <(icmp_in)
send 4 10
poll 5 eval '[ "$(queue_field 3)" = 10 ]' || fail "stopped agent: $(queue_field 3) held, want 10"
kill -CONT "$AGENT"
rc=0
timeout 5 tail -s 0.05 --pid="$AGENT" -f /dev/null || fail "agent did not exit on SIGTERM"
wait "$AGENT" || rc=$?
AGENT=
[ "$rc" = 0 ] || fail "SIGTERM: exit $rc"
poll 2 queue_unbound || fail "SIGTERM: queue $QUEUE still bound"
poll 2 no_table || fail "SIGTERM: table left"
[ "$(icmp_in | cut -d' ' -f1)" = $((k4 + 10)) ] ||
	fail "SIGTERM: A's stack got $(( $(icmp_in | cut -d' ' -f1) - k4 )) of the 10 held PTBs"
in_ns "$NS_S" ping -c 1 -W 2 192.0.2.2 >/dev/null || fail "ping after stop"
ok "SIGTERM: the 10 held PTBs accepted; exit 0, queue unbound, table gone, traffic flows"

rc=0
timeout 10 ip netns exec "$NS_A" setpriv --bounding-set=-net_admin --inh-caps=-net_admin \
	"$PMTUD_NF" "${AGENT_ARGS[@]}" >"$TMP/nocap.log" 2>&1 || rc=$?
[ "$rc" = 3 ] || { cat "$TMP/nocap.log"; fail "no CAP_NET_ADMIN: exit $rc, want 3"; }
[ "$(wc -l <"$TMP/nocap.log")" = 1 ] || { cat "$TMP/nocap.log"; fail "no CAP_NET_ADMIN: want one line"; }
grep -q "NFQUEUE $QUEUE: bind: " "$TMP/nocap.log" || { cat "$TMP/nocap.log"; fail "no CAP_NET_ADMIN: message"; }
no_table || fail "no CAP_NET_ADMIN: a table was left"
ok "no CAP_NET_ADMIN: exit 3, one line ($(cat "$TMP/nocap.log"))"

exit 0
