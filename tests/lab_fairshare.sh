#!/bin/bash
# lab_fairshare.sh - one busy source cannot take a quiet router's share
# of the interface budget (src/fairshare.c), on real traffic.
#
# Deterministic namespace lab (tests/lab/lib.sh); S2's agent runs the
# default configuration (iface_rate 10, iface_burst 10, src_key flow,
# in-kernel pre-limit on: 40 PTBs/s per source reach the agent). S1
# runs no agent and counts the broadcast copies per outer source. For
# 8 s, E sends IPv6 PTBs from two of its addresses, each PTB quoting a
# client of its own (so no flow key and no dedup entry repeats):
#  - a busy source (2001:db8:c::1) at 250 PTBs/s;
#  - the edge router (2001:db8:e::1) at 2 PTBs/s, 16 in all.
# Proves: at least 15 of the router's 16 PTBs are relayed; the busy
# source is still relayed (at least BUSY_MIN copies); the copies on the
# wire stay within iface_burst + iface_rate x t (t: first send to the
# count); the busy source really offered >= 200 PTBs/s.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 120 deterministic

CONF=$LAB_DIR/empty.json
echo '{}' >"$CONF"
BUSY=2001:db8:c::1 ROUTER=2001:db8:e::1
SECONDS_=8 BUSY_RATE=250 ROUTER_RATE=2
N_ROUTER=$((SECONDS_ * ROUTER_RATE)) N_BUSY=$((SECONDS_ * BUSY_RATE))
# The busy source's share: what the router leaves, 8/s; half of it
# over the run is a loose floor that still tells "starved" from "served".
BUSY_MIN=$((SECONDS_ * 4))

# Broadcast copies on S1, per outer source.
lab_exec S1 nft -f - <<EOF || { echo "Bail out! counter table on S1"; exit 1; }
table inet fairlab {
	counter router { }
	counter busy { }
	chain pre {
		type filter hook prerouting priority -400; policy accept;
		meta pkttype broadcast ip6 saddr $ROUTER icmpv6 type packet-too-big counter name "router"
		meta pkttype broadcast ip6 saddr $BUSY icmpv6 type packet-too-big counter name "busy"
	}
}
EOF
copies()
{
	lab_exec S1 nft list counter inet fairlab "$1" |
		awk '$1 == "packets" { print $2 }'
}

lab_start_agent S2 -c "$CONF" -i "$LAB_SEG_IF" -v ||
	{ echo "Bail out! agent did not start"; exit 1; }
lab_ptb_reset

t0=${EPOCHREALTIME/./}
lab_send_ptb E v6 "$N_BUSY" "src=$BUSY" qdst=2001:db8:c::1:0 vary=qdst \
	"rate=$BUSY_RATE" >"$LAB_DIR/busy.out" 2>&1 &
busy_pid=$!
lab_send_ptb E v6 "$N_ROUTER" "src=$ROUTER" qdst=2001:db8:c::2:0 vary=qdst \
	"rate=$ROUTER_RATE" >"$LAB_DIR/router.out" 2>&1 &
router_pid=$!
wait "$busy_pid" "$router_pid"
# Let the last copies reach the wire.
sleep 0.5
el_ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
n_router=$(copies router) n_busy=$(copies busy) n_wire=$(lab_ptb_count S1 v6 bcast)
C=$(lab_agent_counters S2) || { echo "Bail out! no counters from S2"; exit 1; }
lab_note "S2 ${C#*counters: }"
read -r _ busy_sent busy_ms <"$LAB_DIR/busy.out" || busy_ms=0
read -r _ router_sent _ <"$LAB_DIR/router.out" || router_sent=0
lab_note "busy: sent $busy_sent in $busy_ms ms; router: sent $router_sent"
lab_note "copies: router $n_router, busy $n_busy, wire $n_wire in $el_ms ms"

lab_ok "the busy source offered >= 200 PTBs/s ($busy_sent in $busy_ms ms)" \
	eval "[ $busy_sent -eq $N_BUSY ] && [ $((busy_sent * 1000)) -ge $((200 * busy_ms)) ]"
lab_ok "the router sent its $N_ROUTER PTBs ($router_sent)" [ "$router_sent" -eq "$N_ROUTER" ]
lab_ok "at least $((N_ROUTER - 1)) of the router's $N_ROUTER PTBs relayed ($n_router)" \
	[ "$n_router" -ge $((N_ROUTER - 1)) ]
lab_ok "the busy source is still relayed: >= $BUSY_MIN copies ($n_busy)" \
	[ "$n_busy" -ge "$BUSY_MIN" ]
max=$(( 10 + (10 * el_ms + 999) / 1000 ))
lab_ok "copies on the wire ($n_wire) within the interface cap 10 + 10/s x ${el_ms} ms = $max" \
	eval "[ $n_wire -le $max ] && [ $n_wire -eq $((n_router + n_busy)) ]"
lab_ok "the agent forwarded what the wire saw ($(lab_counter "$C" forwarded))" \
	[ "$(lab_counter "$C" forwarded)" -eq "$n_wire" ]

lab_finish
