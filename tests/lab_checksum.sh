#!/bin/bash
# lab_checksum.sh - a PTB with a wrong ICMP checksum is never relayed.
#
# Deterministic namespace lab (tests/lab/lib.sh): E sends crafted PTBs
# to the VIP, R delivers them to S2, whose agent relays by broadcast on
# the segment and to S1's node address as a peer. netfilter's hooks run
# before the kernel checks ICMP checksums, so the agent sees PTBs its
# own kernel then discards; and a raw ICMPv6 socket writes a fresh
# checksum, so a peer would get a bad IPv6 PTB as a valid one. For IPv4
# and IPv6, proves that:
#  - PTBs with a wrong checksum (IPv6: over the pseudo-header) are
#    dropped as bad_checksum: no broadcast, no copy to the peer;
#  - the same PTBs with the right checksum are relayed, once by
#    broadcast and once to the peer, and every copy S1 receives has a
#    valid checksum;
#  - with dedup on, a PTB with a wrong checksum spends no dedup entry
#    and no owner lookup: the same PTB right after it is relayed.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 90 deterministic

CONF=$LAB_DIR/empty.json
echo '{}' >"$CONF"
N=5

# Every valid PTB relayed: limits high, no dedup, no pre-limit.
lab_start_agent S2 -c "$CONF" -i "$LAB_SEG_IF" -v --no-prelimit \
	--src-rate 1000 --iface-rate 1000 --peer-rate 1000 --dedup-window 0 \
	--peers "$(lab_node_addr S1 v4),$(lab_node_addr S1 v6)" ||
	{ echo "Bail out! agent on S2"; exit 1; }
lab_ptb_reset

# PTBs S1 received: as broadcasts, and as unicast (the peer copies).
bcast() { lab_ptb_count S1 "$1" bcast; }
ucast() { echo $(($(lab_ptb_count S1 "$1") - $(bcast "$1"))); }
# wait_s1 FAMILY N: until S1 received N PTBs of FAMILY (5 s).
wait_s1()
{
	local i
	for i in $(seq 50); do
		[ "$(lab_ptb_count S1 "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# 1. Wrong checksums, then right ones (other clients: no shared key).
for f in v4 v6; do
	case $f in
	v4) q_bad=198.51.100.110 q_ok=198.51.100.120 ;;
	v6) q_bad=2001:db8:c::1:10 q_ok=2001:db8:c::1:20 ;;
	esac
	lab_send_ptb E $f $N vary=1 qdst=$q_bad csum=bad >/dev/null &&
		lab_send_ptb E $f $N vary=1 qdst=$q_ok >/dev/null ||
		{ echo "Bail out! lab_send_ptb $f"; exit 1; }
done
line=$(lab_agent_wait_received S2 $((4 * N))) ||
	{ echo "Bail out! S2's agent did not receive $((4 * N)) PTBs: $line"; exit 1; }
# The copies of the valid ones reach S1; a short wait for any extra one.
wait_s1 v4 $((2 * N)); wait_s1 v6 $((2 * N))
sleep 0.5
line=$(lab_agent_counters S2)
lab_note "S2: $line"
lab_ok "the $((2 * N)) PTBs with a wrong checksum dropped as bad_checksum ($(lab_counter "$line" bad_checksum))" \
	[ "$(lab_counter "$line" bad_checksum)" -eq $((2 * N)) ]
lab_ok "the $((2 * N)) with a right checksum forwarded ($(lab_counter "$line" forwarded))" \
	[ "$(lab_counter "$line" forwarded)" -eq $((2 * N)) ]
for f in v4 v6; do
	lab_note "$f: S1 got $(bcast $f) broadcast and $(ucast $f) unicast PTBs, S2 sent $(lab_ptb_count S2 $f out)"
	lab_ok "$f: only the $N valid PTBs broadcast ($(bcast $f))" [ "$(bcast $f)" -eq $N ]
	lab_ok "$f: only the $N valid PTBs sent to the peer ($(ucast $f))" [ "$(ucast $f)" -eq $N ]
done

# bad_then_good FAMILY QDST [KEY=VALUE...]: E sends one PTB quoting
# QDST with a wrong checksum, then one with the right checksum (and the
# keys given, lab_send_ptb's).
bad_then_good()
{
	local f=$1 q=$2
	shift 2
	lab_send_ptb E "$f" 1 qdst="$q" csum=bad >/dev/null &&
		lab_send_ptb E "$f" 1 qdst="$q" "$@" >/dev/null ||
		{ echo "Bail out! lab_send_ptb $f $q"; exit 1; }
}

# 2. On the wire at S1, while E sends one bad and one good PTB per
# family: every PTB that arrives has a valid checksum.
n4=$(lab_ptb_count S1 v4) n6=$(lab_ptb_count S1 v6)
lab_sniff S1 30 "$LAB_DIR/wire" || { echo "Bail out! sniffer on S1"; exit 1; }
bad_then_good v4 198.51.100.130 dport=40001
bad_then_good v6 2001:db8:c::1:30 dport=40001
wait_s1 v4 $((n4 + 2)); wait_s1 v6 $((n6 + 2))
sleep 0.5	# any extra copy
lab_sniff_stop
# PTBs in: "FAMILY CHECKSUM-OK" per line.
awk '$1 == "in" && $7 == 1 { print $3, $8 }' "$LAB_DIR/wire" >"$LAB_DIR/ptbs"
lab_note "PTBs at S1 (family, checksum valid): $(sort "$LAB_DIR/ptbs" | uniq -c | paste -sd,)"
for f in v4 v6; do
	lab_ok "$f: S1 received the valid PTB's two copies, nothing else ($(grep -c "^$f " "$LAB_DIR/ptbs"))" \
		[ "$(grep -c "^$f 1$" "$LAB_DIR/ptbs")" -eq 2 ]
	lab_ok "$f: no PTB with a wrong checksum reached S1" \
		[ "$(grep -c "^$f 0$" "$LAB_DIR/ptbs")" -eq 0 ]
done
lab_stop_agent S2

# 3. With dedup on: a PTB with a wrong checksum spends neither a dedup
# entry nor an owner lookup (the checksum is checked before both). The
# same PTB with the right checksum, right after it, is relayed and
# looked up once.
lab_start_agent S2 -c "$CONF" -i "$LAB_SEG_IF" -v --no-prelimit --dedup-window 5 ||
	{ echo "Bail out! agent on S2 (dedup)"; exit 1; }
lookups()
{
	local r n=0
	for r in found absent error limited; do
		n=$((n + $(lab_owner_count S2 "owner_lookups_total{result=\"$r\"}")))
	done
	echo $n
}
bad_then_good v4 198.51.100.140
bad_then_good v6 2001:db8:c::1:40
line=$(lab_agent_wait_received S2 4) ||
	{ echo "Bail out! S2's agent did not receive 4 PTBs: $line"; exit 1; }
lab_ok "dedup on: 2 bad_checksum, then the same 2 PTBs relayed, none deduplicated, 2 owner lookups ($(lab_counter "$line" bad_checksum), $(lab_counter "$line" forwarded), $(lab_counter "$line" deduplicated), $(lookups))" \
	eval "[ $(lab_counter "$line" bad_checksum) -eq 2 ] && [ $(lab_counter "$line" forwarded) -eq 2 ] &&
	      [ $(lab_counter "$line" deduplicated) -eq 0 ] && [ $(lookups) -eq 2 ]"
lab_stop_agent S2

lab_finish
