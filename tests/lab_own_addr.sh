#!/bin/bash
# lab_own_addr.sh - a PTB sent from one of the host's own addresses is
# never relayed (denied_source), and the agent follows its addresses as
# they change (rtnetlink, src/iface_watch.c).
#
# Deterministic lab (tests/lab/lib.sh): PTBs from C reach S2 (ICMP to
# the VIP goes to S2), whose agent relays them; S1 counts the broadcast
# copies (the wire). C sends from its own client addresses A (index 26),
# B (27) and D (28), IPv4 and IPv6; S2 holds A on lo before its agent
# starts, and gets D while it runs. Proves, for v4 and v6:
#  1. control: a PTB from B (not S2's) is relayed;
#  2. a PTB from A (S2's since start) is not relayed: denied_source;
#  3. D added to S2 at run time: a PTB from D is not relayed;
#  4. D removed again: a PTB from D is relayed.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 120 deterministic

plen() { [ "$1" = v4 ] && echo 32 || echo 128; }
# on_s2 add|del FAMILY INDEX: client address INDEX on S2's lo.
on_s2() { lab_exec S2 ip addr "$1" "$(lab_client_addr "$2" "$3")/$(plen "$2")" dev lo; }
for f in v4 v6; do
	on_s2 add $f 26 || { echo "Bail out! address A on S2"; exit 1; }
done

# -vv: the agent logs each own address it learns or forgets (debug).
echo '{}' >"$LAB_DIR/empty.json"
lab_start_agent S2 -c "$LAB_DIR/empty.json" -i "$LAB_SEG_IF" -vv --src-rate 1000 \
	--src-burst 1000 --iface-rate 1000 --iface-burst 1000 --dedup-window 0 ||
	{ echo "Bail out! agent S2"; exit 1; }
LOG=$LAB_DIR/agent-S2.log
# The input is bound before the table exists: wait for the table.
lab_poll 5 lab_exec S2 nft list table inet pmtud >/dev/null 2>&1 ||
	{ echo "Bail out! no table on S2"; exit 1; }
logged() { grep -qF "own address $1 $2" "$LOG"; }

# Quoted clients: a new one per PTB, so that nothing else can match.
Q=0
qdst()
{
	Q=$((Q + 1))
	case $1 in
	v4) echo "203.0.113.$((100 + Q))" ;;
	v6) printf '2001:db8:c:1::%x\n' "$Q" ;;
	esac
}

RX=0 C=""
wire() { lab_ptb_count S1 "$1" bcast; }
cnt() { lab_counter "$C" "$1"; }

# expect FAMILY INDEX relayed|denied WHY: one PTB from C's client
# address INDEX; relayed: one more copy on the wire; denied: none, and
# denied_source one more. S2's counters end up in $C.
expect()
{
	local f=$1 src w n
	src=$(lab_client_addr "$f" "$2")
	w=$(wire "$f") n=$(cnt denied_source)
	lab_send_ptb C "$f" 1 "src=$src" "qdst=$(qdst "$f")" >/dev/null ||
		{ echo "Bail out! lab_send_ptb from $src"; exit 1; }
	RX=$((RX + 1))
	C=$(lab_agent_wait_received S2 "$RX") || { echo "Bail out! S2 did not receive: $C"; exit 1; }
	sleep 0.2	# a (wrong) copy reaches S1's counter
	C=$(lab_agent_counters S2)
	if [ "$3" = relayed ]; then
		lab_ok "$f: $4: a PTB from $src is relayed ($w -> $(wire "$f"))" \
			[ "$(wire "$f")" -eq $((w + 1)) ]
	else
		lab_ok "$f: $4: a PTB from $src is not relayed ($(wire "$f")), denied_source $n -> $(cnt denied_source)" \
			eval "[ $(wire "$f") -eq $w ] && [ $(cnt denied_source) -eq $((n + 1)) ]"
	fi
}

lab_ptb_reset || { echo "Bail out! lab_ptb_reset"; exit 1; }
for f in v4 v6; do
	a=$(lab_client_addr $f 26) d=$(lab_client_addr $f 28)
	lab_ok "$f: the agent knows $a (on S2 since start) as its own" logged "$a" added
	expect $f 27 relayed "control, not S2's"
	expect $f 26 denied "S2's own since start"

	on_s2 add $f 28 || { echo "Bail out! address D on S2"; exit 1; }
	lab_ok "$f: $d added to S2 at run time: the agent learns it" lab_poll 5 logged "$d" added
	expect $f 28 denied "S2's own since now"

	on_s2 del $f 28 || { echo "Bail out! deleting D on S2"; exit 1; }
	lab_ok "$f: $d removed from S2: the agent forgets it" lab_poll 5 logged "$d" removed
	expect $f 28 relayed "S2's no more"
done
lab_note "S2 ${C#*counters: }"
lab_finish
