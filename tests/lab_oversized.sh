#!/bin/bash
# lab_oversized.sh - PTBs longer than a genuine one cost nothing and are
# never relayed, with conntrack reassembling fragments before the hook.
#
# Deterministic namespace lab (tests/lab/lib.sh), every PTB for the VIP
# routed to S1, whose agent relays by broadcast on the segment and to
# S2's node address as a peer. S1 has conntrack on (a stateful rule, as
# any firewall has): IP fragments are reassembled before the agent's
# hook, so the hook sees PTBs of any size. For 8 s E sends, per family,
# a stream of 4000-byte PTBs (50/s, from 192.0.2.66 / 2001:db8:e::66,
# each quoting another client; they leave E as IP fragments) and, as
# the edge router (its own address), 2 legitimate PTBs/s for other
# clients. On S1's wire (its eth0, outgoing), proves that:
#  - no frame is longer than the link MTU;
#  - no IP fragment leaves S1: no copy to the peer had to be fragmented;
#  - at least 15 of the router's 16 PTBs per family are relayed, by
#    broadcast and to the peer (the big PTBs spend no token nor dedup
#    slot: the rules do not even hand them to the agent);
#  - the big PTBs really were reassembled (S1's kernel got them whole)
#    and never reached the agent.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 120 deterministic
# ICMP for the VIP to the owner too: IPv6 fragments carry no ICMPv6
# header for R's "ipproto" rule, so they follow the owner's route.
lab_set_owner S1 S1 || { echo "Bail out! lab_set_owner S1 S1"; exit 1; }

SECS=8
BIG=50		# big PTBs per second and family
ROUTER=2	# the router's PTBs per second and family
PAD=3920	# quoted bytes past the TCP header: 4000-byte PTBs (v4)
CONF=$LAB_DIR/empty.json
echo '{}' >"$CONF"

# Conntrack on in S1 (a "ct state" rule loads it and its defrag hooks),
# and a count of what reaches S1's stack: PTBs over 1500 bytes are
# reassembled ones.
lab_exec S1 nft -f - <<-'EOF' || { echo "Bail out! conntrack rule in S1"; exit 1; }
	table inet lab_ct {
		counter big4 { }
		counter big6 { }
		chain pre {
			type filter hook prerouting priority filter; policy accept;
			ct state invalid counter
			icmp type destination-unreachable meta length > 1500 counter name "big4"
			icmpv6 type packet-too-big meta length > 1500 counter name "big6"
		}
	}
EOF
big_in() { lab_exec S1 nft list counter inet lab_ct "big$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
# The big PTBs' source, on E.
lab_exec E ip addr add 192.0.2.66/32 dev lo &&
	lab_exec E ip -6 addr add 2001:db8:e::66/128 dev lo nodad ||
	{ echo "Bail out! flood source addresses on E"; exit 1; }

lab_start_agent S1 -c "$CONF" -i "$LAB_SEG_IF" -v \
	--peers "$(lab_node_addr S2 v4),$(lab_node_addr S2 v6)" ||
	{ echo "Bail out! agent on S1"; exit 1; }

lab_sniff S1 $((SECS + 30)) "$LAB_DIR/wire" || { echo "Bail out! sniffer on S1"; exit 1; }

# The streams, all at once; distinct clients: every PTB is a new flow.
pids=()
lab_send_ptb E v4 $((BIG * SECS)) src=192.0.2.66 vary=1 \
	qdst=198.51.100.0 pad=$PAD rate=$BIG >"$LAB_DIR/big4" & pids+=($!)
lab_send_ptb E v6 $((BIG * SECS)) src=2001:db8:e::66 vary=1 \
	qdst=2001:db8:c::2:0 pad=$((PAD - 20)) rate=$BIG >"$LAB_DIR/big6" & pids+=($!)
lab_send_ptb E v4 $((ROUTER * SECS)) vary=1 qdst=198.51.100.100 \
	rate=$ROUTER >"$LAB_DIR/rtr4" & pids+=($!)
lab_send_ptb E v6 $((ROUTER * SECS)) vary=1 qdst=2001:db8:c::3:0 \
	rate=$ROUTER >"$LAB_DIR/rtr6" & pids+=($!)
wait "${pids[@]}"
lab_note "sent: big v4 $(cat "$LAB_DIR/big4"), big v6 $(cat "$LAB_DIR/big6"), router v4 $(cat "$LAB_DIR/rtr4"), v6 $(cat "$LAB_DIR/rtr6") (count ms)"
# Until the agent decided on the router's PTBs, then a second for the
# copies to leave.
line=$(lab_agent_wait_received S1 $((2 * ROUTER * SECS)))
sleep 1
lab_sniff_stop
mtu=$(lab_exec S1 cat /sys/class/net/eth0/mtu)
line=$(lab_agent_counters S1)
lab_note "S1's agent: $line"
lab_note "S1's stack got $(big_in 4) + $(big_in 6) reassembled PTBs over 1500 bytes"
# Out of S1's eth0: frames over the MTU; IP fragments; the router's
# PTBs copied by broadcast (its address as source) and to the peer
# (from S1, short: a big PTB's copy is fragmented); any big PTB's copy.
out() { awk -v mtu="$mtu" "\$1 == \"out\" && ($1) { n++ } END { print n + 0 }" "$LAB_DIR/wire"; }
big=$(out '$2 > 14 + mtu')
frag4=$(out '$3 == "v4" && $4 == 1') frag6=$(out '$3 == "v6" && $4 == 1')
bcast4=$(out '$7 == 1 && $5 == 1 && $6 == "192.0.2.1"')
bcast6=$(out '$7 == 1 && $5 == 1 && $6 == "2001:db8:e::1"')
peer4=$(out '$7 == 1 && $5 == 0 && $3 == "v4" && $2 <= 14 + 576')
peer6=$(out '$7 == 1 && $5 == 0 && $3 == "v6" && $2 <= 14 + 1280')
bigcopy=$(out '$6 == "192.0.2.66" || $6 == "2001:db8:e::66"')
lab_note "out of S1 (MTU $mtu): over the MTU $big, fragments $frag4 + $frag6, router's PTBs broadcast $bcast4 + $bcast6 and to the peer $peer4 + $peer6, big PTBs' copies $bigcopy"
want=$((ROUTER * SECS - 1))

lab_ok "conntrack reassembled the big PTBs in S1 ($(big_in 4) v4, $(big_in 6) v6 of $((BIG * SECS)) each)" \
	eval '[ "$(big_in 4)" -ge $((BIG * SECS * 9 / 10)) ] && [ "$(big_in 6)" -ge $((BIG * SECS * 9 / 10)) ]'
lab_ok "no frame over the link MTU left S1 ($big)" [ "$big" -eq 0 ]
lab_ok "no IP fragment left S1 (v4 $frag4, v6 $frag6)" eval '[ $frag4 -eq 0 ] && [ $frag6 -eq 0 ]'
lab_ok "no copy of a big PTB left S1 ($bigcopy)" [ "$bigcopy" -eq 0 ]
lab_ok "v4: the router's PTBs broadcast ($bcast4 of $((ROUTER * SECS)))" [ "$bcast4" -ge $want ]
lab_ok "v6: the router's PTBs broadcast ($bcast6 of $((ROUTER * SECS)))" [ "$bcast6" -ge $want ]
lab_ok "v4: the router's PTBs sent to the peer ($peer4 of $((ROUTER * SECS)))" [ "$peer4" -ge $want ]
lab_ok "v6: the router's PTBs sent to the peer ($peer6 of $((ROUTER * SECS)))" [ "$peer6" -ge $want ]
lab_ok "the agent was handed the router's PTBs, none of the big ones ($(lab_counter "$line" received) received)" \
	[ "$(lab_counter "$line" received)" -le $((2 * ROUTER * SECS)) ]
lab_stop_agent S1

lab_finish
