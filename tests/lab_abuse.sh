#!/bin/bash
# lab_abuse.sh - the abuse controls hold on real traffic.
#
# Deterministic namespace lab (tests/lab/lib.sh): crafted PTBs sent by
# E reach S2, whose agent relays them; S1 runs no agent and counts the
# copies that reach it as Ethernet broadcasts (the wire); S3 (another
# subnet) counts the unicast copies of the peer phase. Rate limits are
# set high where they are not under test, so only the control under
# test can stop a PTB. Proves, for IPv4 and IPv6 unless said:
#  1. minimum MTU (defaults): IPv4 PTBs advertising 551 and IPv6 ones
#     advertising 1279 are dropped as bad_mtu, none on the wire; 552 and
#     1280 pass; with --min-mtu 68 an IPv4 PTB advertising 68 passes;
#  2. dedup (default window 1 s): the same PTB sent 5 times within
#     the window gives 1 copy on the wire and deduplicated=4; sent again
#     once the window is over it is relayed again; with
#     --dedup-window 0 all 5 copies go out;
#  3. vips (from the config file): PTBs quoting the VIP are relayed,
#     PTBs about S2's own node address are dropped as not_vip, none on
#     the wire; without vips the same node-address PTBs are relayed;
#  4. amplification: 5000 valid, pairwise distinct PTBs (v4: 120 outer
#     sources x distinct client ports; v6: 2500 clients) with
#     --iface-rate 10 --iface-burst 10 and a peer at --peer-rate 5 give
#     at most 10 + 10 x t broadcast copies and 5 + 5 x t peer copies (t:
#     first send to last packet handled), the rest counted. The kernel
#     pre-limit is off (--no-prelimit) so that the whole flood reaches
#     the agent: its own limits are what is measured.
# Independent of the machine's speed: a fresh agent per phase, limits
# not under test out of reach (FAST), the kernel pre-limit off, copies
# polled until they arrive on the wire, bounds that grow with the time
# measured.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 150 deterministic
lab_add_s3 || { echo "Bail out! lab_add_s3 failed"; exit 1; }
# lab_add_s3 leaves S3 the owner: back to TCP to S1, ICMP to S2.
lab_set_owner S1 S2 || { echo "Bail out! lab_set_owner S1 S2"; exit 1; }

CONF=$LAB_DIR/empty.json
echo '{}' >"$CONF"
# Generous limits, no kernel pre-limit: no rate limit interferes
# outside phase 4.
FAST=(--src-rate 1000 --src-burst 1000 --iface-rate 1000 --iface-burst 1000 --no-prelimit)
N4=$(lab_node_addr S2 v4) N6=$(lab_node_addr S2 v6)

# Restart S2's agent with these options and zero the wire counters.
phase()
{
	[ -n "${LAB_AGENT_S2:-}" ] && lab_stop_agent S2 >/dev/null
	lab_start_agent S2 -i "$LAB_SEG_IF" -v "$@" ||
		{ echo "Bail out! agent did not start with: $*"; exit 1; }
	lab_ptb_reset
}

# Quoted clients, one block of 64 per use so no PTB repeats by accident.
qaddr()
{
	case $1 in
	v4) echo "198.51.100.$((64 + $2))" ;;
	v6) printf '2001:db8:c::1:%x\n' "$2" ;;
	esac
}

send() { lab_send_ptb E "$@" >/dev/null || { echo "Bail out! lab_send_ptb $*"; exit 1; }; }
# Wait until S2's agent received WANT in total; a short second wait
# lets any (wrong) extra copy reach the wire. Counters line in $C.
settle()
{
	C=$(lab_agent_wait_received S2 "$1") || { echo "Bail out! S2 received too few: $C"; exit 1; }
	sleep 0.3
	C=$(lab_agent_counters S2)
	lab_note "S2 ${C#*counters: }"
}
# Copies on the wire, polled until WANT arrived: on a loaded machine a
# copy the agent sent may still be on its way.
wire() { lab_ptb_wait S1 "$1" bcast "${2:-0}"; }
cnt() { lab_counter "$C" "$1"; }

# 1 + 2 + 3 (control): defaults, generous limits.
phase -c "$CONF" "${FAST[@]}"
send v4 3 mtu=551 vary=1 "qdst=$(qaddr v4 0)"
send v6 3 mtu=1279 vary=1 "qdst=$(qaddr v6 0)"
settle 6
lab_ok "min MTU: 3 v4 PTBs at 551 and 3 v6 at 1279 dropped as bad_mtu ($(cnt bad_mtu))" \
	[ "$(cnt bad_mtu)" -eq 6 ]
for f in v4 v6; do
	lab_ok "min MTU: no $f copy below the floor on the wire ($(wire $f 0))" [ "$(wire $f 0)" -eq 0 ]
done
send v4 3 mtu=552 vary=1 "qdst=$(qaddr v4 1)"
send v6 3 mtu=1280 vary=1 "qdst=$(qaddr v6 1)"
settle 12
for f in v4 v6; do
	lab_ok "min MTU: 3 $f PTBs at the floor (552 / 1280) relayed ($(wire $f 3))" [ "$(wire $f 3)" -eq 3 ]
done

lab_ptb_reset
send v4 1 "dst=$N4" "qsrc=$N4" "qdst=$(qaddr v4 2)"
send v6 1 "dst=$N6" "qsrc=$N6" "qdst=$(qaddr v6 2)"
settle 14
for f in v4 v6; do
	lab_ok "no vips: a $f PTB about S2's node address is relayed ($(wire $f 1))" [ "$(wire $f 1)" -eq 1 ]
done

lab_ptb_reset
sent4=$(lab_send_ptb E v4 5 "qdst=$(qaddr v4 3)") && sent6=$(lab_send_ptb E v6 5 "qdst=$(qaddr v6 3)") ||
	{ echo "Bail out! lab_send_ptb (dedup)"; exit 1; }
t_dup=${EPOCHREALTIME/./}
settle 24
lab_note "dedup: v4 $sent4 ms, v6 $sent6 ms"
# What matters is that each family's 5 fall in its 1 s window, however
# slow the machine (the sender's own first-to-last time).
lab_ok "dedup: 5 identical PTBs per family sent within the 1 s window" \
	eval "[ ${sent4##* } -lt 900 ] && [ ${sent6##* } -lt 900 ]"
for f in v4 v6; do
	lab_ok "dedup: 5 identical $f PTBs, 1 copy on the wire ($(wire $f 1))" [ "$(wire $f 1)" -eq 1 ]
done
lab_ok "dedup: deduplicated=8 (4 per family), none rate-limited ($(cnt deduplicated))" \
	eval "[ $(cnt deduplicated) -eq 8 ] && [ $(cnt limited_source) -eq 0 ] &&
	      [ $(cnt limited_iface) -eq 0 ] && [ $(cnt shed) -eq 0 ]"
# Once the 1 s window (from the first copy) is over: relayed again.
while [ $(( ${EPOCHREALTIME/./} - t_dup )) -lt 1100000 ]; do sleep 0.1; done
lab_ptb_reset
send v4 1 "qdst=$(qaddr v4 3)"
send v6 1 "qdst=$(qaddr v6 3)"
settle 26
for f in v4 v6; do
	lab_ok "dedup: the same $f PTB after the window is relayed again ($(wire $f 1))" [ "$(wire $f 1)" -eq 1 ]
done
lab_ok "dedup: still deduplicated=8" [ "$(cnt deduplicated)" -eq 8 ]

# 1 + 2 with the controls relaxed.
phase -c "$CONF" "${FAST[@]}" --dedup-window 0 --min-mtu 68
send v4 5 "qdst=$(qaddr v4 4)"
send v6 5 "qdst=$(qaddr v6 4)"
settle 10
for f in v4 v6; do
	lab_ok "--dedup-window 0: 5 identical $f PTBs, 5 copies ($(wire $f 5))" [ "$(wire $f 5)" -eq 5 ]
done
lab_ok "--dedup-window 0: deduplicated=0" [ "$(cnt deduplicated)" -eq 0 ]
lab_ptb_reset
send v4 1 mtu=68 "qdst=$(qaddr v4 5)"
settle 11
lab_ok "--min-mtu 68: a v4 PTB advertising 68 is relayed ($(wire v4 1))" [ "$(wire v4 1)" -eq 1 ]

# 3. vips, from the file.
VCONF=$LAB_DIR/vips.json
printf '{"vips": ["%s/32", "2001:db8:80::/64"]}\n' "$LAB_VIP4" >"$VCONF"
phase -c "$VCONF" "${FAST[@]}"
send v4 2 vary=1 "qdst=$(qaddr v4 6)"
send v6 2 vary=1 "qdst=$(qaddr v6 6)"
send v4 3 vary=1 "dst=$N4" "qsrc=$N4" "qdst=$(qaddr v4 7)"
send v6 3 vary=1 "dst=$N6" "qsrc=$N6" "qdst=$(qaddr v6 7)"
settle 10
for f in v4 v6; do
	lab_ok "vips: only the 2 $f PTBs quoting the VIP are relayed ($(wire $f 2))" [ "$(wire $f 2)" -eq 2 ]
done
lab_ok "vips: the 6 PTBs about S2's node address dropped as not_vip ($(cnt not_vip))" \
	eval "[ $(cnt not_vip) -eq 6 ] && [ $(cnt forwarded) -eq 4 ]"

# 4. Amplification: whatever arrives, copies <= burst + rate x t.
FLOOD=2500
phase -c "$CONF" --iface-rate 10 --iface-burst 10 --src-rate 1000000 \
	--src-burst 1000000 --peers 192.0.2.130,2001:db8:3::3 --peer-rate 5 --no-prelimit
t0=${EPOCHREALTIME/./}
send v4 $FLOOD vary=src,dport "qdst=$(qaddr v4 8)"
send v6 $FLOOD vary=1 "qdst=$(qaddr v6 8)"
t_sent=${EPOCHREALTIME/./}
# t ends when the agent has handled all it will get: received stable
# (the kernel may drop some on the way; the bound holds regardless).
prev=-1 rx=0
for _ in $(seq 50); do
	C=$(lab_agent_counters S2) || { echo "Bail out! no counters"; exit 1; }
	rx=$(cnt received)
	T_RX=${EPOCHREALTIME/./}
	[ "$rx" -ge $((2 * FLOOD)) ] || [ "$rx" -eq "$prev" ] && break
	prev=$rx
	sleep 0.1
done
sleep 0.3
C=$(lab_agent_counters S2)
lab_agent_counters S2 >/dev/null	# the peers line, logged next to it
lab_note "S2 ${C#*counters: }"
el_ms=$(( (T_RX - t0) / 1000 ))
fw=$(cnt forwarded)
bc=$(( $(wire v4) + $(wire v6) ))
pc=$(( $(lab_ptb_count S3 v4) + $(lab_ptb_count S3 v6) ))
max_b=$(( 10 + (10 * el_ms + 999) / 1000 ))
max_p=$(( 5 + (5 * el_ms + 999) / 1000 ))
lab_note "flood: $((2 * FLOOD)) PTBs sent in $(( (t_sent - t0) / 1000 )) ms, $rx received, handled within $el_ms ms: $bc broadcast + $pc peer copies (bounds $max_b + $max_p)"
lab_ok "flood: at least $((2 * FLOOD * 9 / 10)) of $((2 * FLOOD)) PTBs reached the agent ($rx)" \
	[ "$rx" -ge $((2 * FLOOD * 9 / 10)) ]
lab_ok "flood: broadcast copies $bc <= iface_burst + iface_rate x t = $max_b, and >= the burst" \
	eval "[ $bc -ge 10 ] && [ $bc -le $max_b ] && [ $bc -eq $fw ]"
lab_ok "flood: peer copies $pc <= peer burst + peer_rate x t = $max_p" \
	eval "[ $pc -ge 5 ] && [ $pc -le $max_p ]"
lab_ok "flood: every other PTB counted: shed $(cnt shed) + limited_iface $(cnt limited_iface) = received - forwarded, most shed, none deduplicated" \
	eval "[ $(( $(cnt shed) + $(cnt limited_iface) )) -eq $((rx - fw)) ] &&
	      [ $(cnt shed) -ge $(( (rx - fw) / 2 )) ] && [ $(cnt deduplicated) -eq 0 ]"
lab_ok "flood: amplification ($bc + $pc copies for $rx PTBs) within $((max_b + max_p))" \
	[ $((bc + pc)) -le $((max_b + max_p)) ]

lab_finish
