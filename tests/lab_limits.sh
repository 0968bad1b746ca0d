#!/bin/bash
# lab_limits.sh - pmtud-nf's limits and filters hold on real traffic.
#
# Deterministic namespace lab (tests/lab/lib.sh): crafted PTBs sent by
# E to the VIP reach S2, whose agent relays them; S1 runs no agent and
# counts the copies that reach it as Ethernet broadcasts (the wire).
# Every crafted PTB is valid (outer destination = quoted source = the
# VIP, MTU 1280), so only the limit under test can stop it. For IPv4
# and IPv6, proves that:
#  - per-source limit: a flood of 50 PTBs with one rate-limit key
#    (--src-rate 0.001 --src-burst 3) gives exactly 3 copies (the PTBs
#    differ in the quoted client port, so dedup lets each through to
#    the limiter); PTBs for 5
#    other clients still pass (key "flow" = router + client); with
#    --src-key source, 20 PTBs for 20 clients give exactly 3 copies;
#  - per-interface limit: PTBs for many clients with --iface-rate 5
#    --iface-burst 5 give at most 5 + 5/s * elapsed copies;
#  - --ports 8080: PTBs quoting source port 9999 are dropped as
#    port_filtered, not sent; ones quoting 8080 are sent;
#  - --dry-run: the agent counts forwards but sends nothing.
# Independent of the machine's speed: a fresh agent per phase, limits
# not under test out of reach, rates that refill nothing during a phase
# where an exact count is expected, and counts polled until they arrive.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 100 deterministic

CONF=$LAB_DIR/empty.json
echo '{}' >"$CONF"
FLOOD=50

# Restart S2's agent with these options and zero the wire counters.
# No pre-limit: the floods come from one router and test the agent's
# own limits (the kernel's pre-limit: tests/lab_prelimit.sh).
phase()
{
	[ -n "${LAB_AGENT_S2:-}" ] && lab_stop_agent S2 >/dev/null
	lab_start_agent S2 -c "$CONF" -i "$LAB_SEG_IF" -v --no-prelimit "$@" ||
		{ echo "Bail out! agent did not start with: $*"; exit 1; }
	lab_ptb_reset
}

# Client addresses quoted by crafted PTBs: outside the lab's clients,
# one block of 64 per use so no rate-limit key is reused by accident.
qaddr()
{
	case $1 in
	v4) echo "198.51.100.$((64 + $2))" ;;
	v6) printf '2001:db8:c::1:%x\n' "$2" ;;
	esac
}

# Send, then wait until S2's agent received WANT packets in total
# (noted at T_RX, in us); the agent's counters line ends up in $C. A
# short second wait lets any (wrong) extra copy reach the wire before
# the counters are read.
send() { lab_send_ptb E "$@" >/dev/null || { echo "Bail out! lab_send_ptb $*"; exit 1; }; }
settle()
{
	C=$(lab_agent_wait_received S2 "$1") || { echo "Bail out! S2 received too few: $C"; exit 1; }
	T_RX=${EPOCHREALTIME/./}
	sleep 0.3
	C=$(lab_agent_counters S2)
	lab_note "S2 ${C#*counters: }"
}
# Copies on the wire, polled until WANT arrived: on a loaded machine a
# copy the agent sent may still be on its way.
wire() { lab_ptb_wait S1 "$1" bcast "${2:-0}"; }
cnt() { lab_counter "$C" "$1"; }

# Every phase sets the budgets it does not test out of the way (iface
# 1000/s), and a source rate that refills nothing while it runs
# (0.001/s: one token per 1000 s), whatever the machine's speed.
ROOMY=(--iface-rate 1000 --iface-burst 1000)

# 1. Per-source limit, key "flow": one router, one client.
phase --src-rate 0.001 --src-burst 3 "${ROOMY[@]}"
# One key (router, client), distinct PTBs (client ports): not dedup's.
send v4 $FLOOD "qdst=$(qaddr v4 0)" vary=dport
send v6 $FLOOD "qdst=$(qaddr v6 0)" vary=dport
settle $((2 * FLOOD))
for f in v4 v6; do
	lab_ok "src limit: $FLOOD $f PTBs, one key, burst 3: exactly 3 copies on the wire ($(wire $f 3))" \
		[ "$(wire $f 3)" -eq 3 ]
done
lab_ok "src limit: agent forwarded 6, limited_source $((2 * FLOOD - 6)), none deduplicated" \
	eval "[ $(cnt forwarded) -eq 6 ] && [ $(cnt limited_source) -eq $((2 * FLOOD - 6)) ] &&
	      [ $(cnt deduplicated) -eq 0 ]"
lab_ptb_reset
send v4 5 "qdst=$(qaddr v4 1)" vary=1
send v6 5 "qdst=$(qaddr v6 1)" vary=1
settle $((2 * FLOOD + 10))
for f in v4 v6; do
	lab_ok "src limit, key flow: $f PTBs for 5 other clients all pass ($(wire $f 5))" \
		[ "$(wire $f 5)" -eq 5 ]
done

# 2. Per-source limit, key "source": the router alone is the key.
phase --src-key source --src-rate 0.001 --src-burst 3 "${ROOMY[@]}"
send v4 20 "qdst=$(qaddr v4 10)" vary=1
send v6 20 "qdst=$(qaddr v6 10)" vary=1
settle 40
for f in v4 v6; do
	lab_ok "src limit, key source: 20 $f PTBs for 20 clients: exactly 3 copies ($(wire $f 3))" \
		[ "$(wire $f 3)" -eq 3 ]
done
lab_ok "src limit, key source: agent forwarded 6, limited_source 34" \
	eval "[ $(cnt forwarded) -eq 6 ] && [ $(cnt limited_source) -eq 34 ]"

# 3. Per-interface limit: distinct clients (each its own source key),
# both families share eth0's bucket.
phase --iface-rate 5 --iface-burst 5
t0=${EPOCHREALTIME/./}
send v4 $FLOOD "qdst=$(qaddr v4 0)" vary=1
send v6 $FLOOD "qdst=$(qaddr v6 0)" vary=1
settle $((2 * FLOOD))
# Tokens accrue only while the agent handles the flood: between t0 and
# the moment all of it was counted.
el_ms=$(( (T_RX - t0) / 1000 ))
max=$(( 5 + (5 * el_ms + 999) / 1000 ))
fw=$(cnt forwarded)
for _ in $(seq 50); do
	n_wire=$(( $(wire v4) + $(wire v6) ))
	[ "$n_wire" -ge "$fw" ] && break
	sleep 0.1
done
lab_ok "iface limit: $((2 * FLOOD)) PTBs for distinct clients in ${el_ms} ms: 5 <= forwarded $fw <= $max" \
	eval "[ $fw -ge 5 ] && [ $fw -le $max ]"
lab_ok "iface limit: the wire saw the forwarded copies ($n_wire), the rest shed ($(cnt shed)) or limited_iface ($(cnt limited_iface))" \
	eval "[ $n_wire -eq $fw ] && [ $(( $(cnt shed) + $(cnt limited_iface) )) -eq $((2 * FLOOD - fw)) ] &&
	      [ $(cnt limited_source) -eq 0 ]"

# 4. Port filter.
phase --ports 8080 "${ROOMY[@]}"
send v4 5 "qdst=$(qaddr v4 20)" vary=1 sport=9999
send v6 5 "qdst=$(qaddr v6 20)" vary=1 sport=9999
settle 10
lab_ok "--ports 8080: 10 PTBs quoting port 9999 dropped as port_filtered ($(cnt port_filtered))" \
	[ "$(cnt port_filtered)" -eq 10 ]
for f in v4 v6; do
	lab_ok "--ports 8080: no $f copy of a port-9999 PTB on the wire ($(wire $f 0))" \
		[ "$(wire $f 0)" -eq 0 ]
done
send v4 1 "qdst=$(qaddr v4 30)" sport=8080
send v6 1 "qdst=$(qaddr v6 30)" sport=8080
settle 12
for f in v4 v6; do
	lab_ok "--ports 8080: the $f PTB quoting port 8080 was sent ($(wire $f 1))" \
		[ "$(wire $f 1)" -eq 1 ]
done
lab_ok "--ports 8080: agent forwarded 2" [ "$(cnt forwarded)" -eq 2 ]

# 5. Dry run.
phase --dry-run "${ROOMY[@]}"
send v4 3 "qdst=$(qaddr v4 40)" vary=1
send v6 3 "qdst=$(qaddr v6 40)" vary=1
settle 6
lab_ok "--dry-run: agent counts 6 forwards" [ "$(cnt forwarded)" -eq 6 ]
for f in v4 v6; do
	lab_ok "--dry-run: no $f copy on the wire ($(wire $f))" [ "$(wire $f)" -eq 0 ]
done
lab_ok "--dry-run: decisions logged as not sent" \
	eval "[ \$(lab_agent_log S2 | grep -c 'FORWARD (dry run, not sent)') -eq 6 ]"

lab_finish
