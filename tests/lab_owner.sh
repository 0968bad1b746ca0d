#!/bin/bash
# lab_owner.sh - flow-owner lookups, copies received and rescues
# (src/owner.c), on real TCP flows in the namespace lab.
#
# R sends TCP for the VIP to S1 and ICMP for the VIP to S2 (every PTB
# is misdelivered) unless a step says otherwise. Proves, for IPv4 and
# IPv6:
#  1. a stalled download is rescued by S2's broadcast copy: S2 counts
#     the PTB owner="remote" (lookup "absent"), S1 counts the copy
#     via="broadcast" owner="local" and pmtud_rescued_total grows;
#  2. the same across subnets with a peer copy: S3 owns the flow, S1
#     gets the PTBs and relays to its peer S3, whose agent counts the
#     copy via="peer" owner="local" and a rescue;
#  3. PTBs that reach the owner itself (R sends ICMP to S1): owner
#     "local"; with relay_owned false no copy on the wire, with
#     --relay-owned one per PTB;
#  4. a crafted PTB for a flow that exists nowhere: "remote", lookup
#     "absent", relayed; the copy counted on the other server as
#     owner="remote";
#  4b. copies are never shed: with S1's interface out of tokens, the
#     PTBs S1 gets are shed, the copies S2 broadcasts still counted
#     (2b: the same on S3 for copies from its peer S1);
#  5. the lookup budget holds under a flood of distinct PTBs (owner_rate
#     20): lookups within burst + rate x time, the rest "limited" and
#     relayed as owner "unknown"; the copies reaching the other server
#     are limited in the kernel to the same rate;
#  6. the metrics file carries the four families with HELP and TYPE,
#     the same values as the SIGUSR1 lines.
set -u
# Single quotes: eval expands later. A && B || bail out: intended.
# shellcheck disable=SC2016,SC2015
# shellcheck source=tests/lab/lib.sh
# The downloads hold their connections open (established, with
# tcp_info) after the last byte until the checks are done: a rescued
# flow ends within milliseconds, before a busy machine may have run the
# agent, and then in TIME_WAIT it has no tcp_info to judge a rescue by.
LAB_BYTES=${LAB_BYTES:-2000000}
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 240 deterministic

CONF=$LAB_DIR/empty.json
echo '{}' >"$CONF"
agent() { lab_start_agent "$@" -c "$CONF" -i "$LAB_SEG_IF" -v; }
completes() { [ "$(lab_get_rc "$1" "$2")" = 0 ]; }
fam_n() { echo "${1#v}"; }
# count NODE SERIES: after a fresh SIGUSR1.
count() { lab_agent_counters "$1" >/dev/null && lab_owner_count "$1" "$2"; }
# wait_count NODE SERIES MIN: ask until the series reaches MIN (5 s).
wait_count()
{
	local i v
	for i in $(seq 20); do
		v=$(count "$1" "$2")
		[ "$v" -ge "$3" ] && break
		sleep 0.25
	done
	echo "$v"
}

# held_gets IDX: downloads v4 and v6 with client IDX in the background,
# each holding its connection after its line until release_gets; wait
# (bounded by their timeout) until both printed their line.
HOLD=$LAB_DIR/release
held_gets()
{
	local _
	rm -f "$HOLD"
	LAB_GET_HOLD=$HOLD lab_get_many 10000 v4 "$1" v6 "$1" &
	GETS=$!
	for _ in $(seq 240); do
		[ -n "$(lab_get_line v4 "$1" 2>/dev/null)" ] &&
			[ -n "$(lab_get_line v6 "$1" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
}
release_gets() { touch "$HOLD"; wait "$GETS"; }

# rescued IDX GOT OWNER VIA WHAT: downloads v4 and v6 with client IDX
# complete; GOT (which the PTBs reached) counts them "remote", OWNER
# counts the copy via VIA as "local", and a rescue (the flows still
# open).
rescued()
{
	local idx=$1 got=$2 own=$3 via=$4 what=$5 f n remote loc resc
	local -A ok
	held_gets "$idx"
	for f in v4 v6; do
		n=$(fam_n $f)
		remote=$(wait_count "$got" "ptb_owner_total{family=\"$n\",owner=\"remote\"}" 1)
		loc=$(wait_count "$own" "copies_received_total{family=\"$n\",via=\"$via\",owner=\"local\"}" 1)
		resc=$(wait_count "$own" "rescued_total{family=\"$n\"}" 1)
		ok[$f]="$remote $loc $resc"
	done
	release_gets
	for f in v4 v6; do
		lab_ok "$what: $f download rescued ($(lab_get_line $f "$idx"))" completes $f "$idx"
		read -r remote loc resc <<<"${ok[$f]}"
		lab_ok "$what: $f $got counts the PTB owner=\"remote\" ($remote); $own the $via copy owner=\"local\" ($loc), rescued ($resc)" \
			eval "[ $remote -ge 1 ] && [ $loc -ge 1 ] && [ $resc -ge 1 ]"
	done
}

# shed_copies NODE VIA ROUTE PER_FAMILY: NODE's agent (started with
# one token: --iface-rate 0.001 --iface-burst 1) gets PER_FAMILY PTBs
# of each family from R: one is relayed, the rest shed unclassified
# and logged so. Then ROUTE (lab_set_owner's arguments) sends R's ICMP
# elsewhere, and the copies of one PTB per family that reach NODE via
# VIA are still counted, none shed.
shed_copies()
{
	local node=$1 via=$2 route=$3 per=$4 line v4 v6 c4 c6 n
	n=$((2 * per))
	lab_send_ptb E v4 "$per" qdst=198.51.100.210 vary=1 >/dev/null &&
		lab_send_ptb E v6 "$per" qdst=2001:db8:c::210 vary=1 >/dev/null
	line=$(lab_agent_wait_received "$node" $n)
	lab_ok "shed: $node relayed 1 of $n PTBs, shed $((n - 1)) unclassified ($(lab_counter "$line" forwarded), $(lab_counter "$line" shed)), logged as such" \
		eval "[ $(lab_counter "$line" received) -eq $n ] && [ $(lab_counter "$line" forwarded) -eq 1 ] &&
		      [ $(lab_counter "$line" shed) -eq $((n - 1)) ] &&
		      [ $(grep -c 'DROP shed: ' "$LAB_DIR/agent-$node.log") -eq $((n - 1)) ]"
	# shellcheck disable=SC2086 # route: one or two node names
	lab_set_owner $route || { echo "Bail out! lab_set_owner $route"; exit 1; }
	c4=$(lab_owner_count "$node" "copies_received_total{family=\"4\",via=\"$via\",owner=\"remote\"}")
	c6=$(lab_owner_count "$node" "copies_received_total{family=\"6\",via=\"$via\",owner=\"remote\"}")
	lab_send_ptb E v4 1 qdst=198.51.100.220 >/dev/null &&
		lab_send_ptb E v6 1 qdst=2001:db8:c::220 >/dev/null
	v4=$(wait_count "$node" "copies_received_total{family=\"4\",via=\"$via\",owner=\"remote\"}" $((c4 + 1)))
	v6=$(wait_count "$node" "copies_received_total{family=\"6\",via=\"$via\",owner=\"remote\"}" $((c6 + 1)))
	line=$(lab_agent_counters "$node")
	lab_ok "shed: with no token left, $node still counts both $via copies ($v4, $v6), none shed ($(lab_counter "$line" shed))" \
		eval "[ $v4 -eq $((c4 + 1)) ] && [ $v6 -eq $((c6 + 1)) ] &&
		      [ $(lab_counter "$line" shed) -eq $((n - 1)) ] && [ $(lab_counter "$line" received) -eq $n ]"
}
ONE_TOKEN=(--iface-rate 0.001 --iface-burst 1)

# 1. Misdelivered PTBs, rescued by a broadcast copy.
agent S1 --metrics-file "$LAB_DIR/s1.prom" --stats-interval 1 &&
	agent S2 --metrics-file "$LAB_DIR/s2.prom" --stats-interval 1 ||
	{ echo "Bail out! agents"; exit 1; }
rescued 0 S2 S1 broadcast "broadcast"
lab_note "S2: $(grep -F 'pmtud_ptb_owner_total: ' "$LAB_DIR/agent-S2.log" | tail -n 1 | cut -d' ' -f2-)"
lab_note "S1: $(grep -F 'pmtud_copies_received_total: ' "$LAB_DIR/agent-S1.log" | tail -n 1 | cut -d' ' -f2-)"
lab_note "S1: $(grep -F 'pmtud_rescued_total: ' "$LAB_DIR/agent-S1.log" | tail -n 1 | cut -d' ' -f2-)"
line=$(lab_agent_counters S1)
lab_ok "S1 relayed none of the copies (forwarded $(lab_counter "$line" forwarded), received $(lab_counter "$line" received))" \
	eval "[ $(lab_counter "$line" forwarded) -eq 0 ] && [ $(lab_counter "$line" received) -eq 0 ]"

# 6. The metrics file: the same families, HELP and TYPE first.
prom_ok()
{
	local file=$1 node=$2 fam
	for fam in ptb_owner copies_received rescued owner_lookups; do
		grep -qx "# HELP pmtud_${fam}_total .*" "$file" &&
			grep -qx "# TYPE pmtud_${fam}_total counter" "$file" || return 1
	done
	# Wait for a write after the SIGUSR1 values (stats_interval 1).
	[ "$(awk '$1 == "pmtud_rescued_total{family=\"4\"}" { print $2 }' "$file")" = \
	  "$(lab_owner_count "$node" 'rescued_total{family="4"}')" ]
}
sleep 1.2
lab_agent_counters S1 >/dev/null
lab_ok "S1's metrics file: the four families with HELP/TYPE, the values of SIGUSR1" prom_ok "$LAB_DIR/s1.prom" S1
lab_note "S1 metrics file:"
grep -E '^pmtud_(ptb_owner|copies_received|rescued|owner_lookups)_total' "$LAB_DIR/s1.prom" |
	grep -v ' 0$' | sed 's/^/#   /'
lab_note "S2 metrics file:"
grep -E '^pmtud_(ptb_owner|copies_received|rescued|owner_lookups)_total' "$LAB_DIR/s2.prom" |
	grep -v ' 0$' | sed 's/^/#   /'

# 4. A PTB for a flow that exists nowhere: remote, absent, relayed.
lab_ptb_reset
line=$(lab_agent_counters S2)
fw=$(lab_counter "$line" forwarded)
abs=$(lab_owner_count S2 'owner_lookups_total{result="absent"}')
r4=$(lab_owner_count S2 'ptb_owner_total{family="4",owner="remote"}')
r6=$(lab_owner_count S2 'ptb_owner_total{family="6",owner="remote"}')
c4=$(lab_owner_count S1 'copies_received_total{family="4",via="broadcast",owner="remote"}')
lab_send_ptb E v4 1 qdst=198.51.100.202 dport=41000 >/dev/null &&
	lab_send_ptb E v6 1 qdst=2001:db8:c::202 dport=41000 >/dev/null
line=$(lab_agent_wait_received S2 "$(( $(lab_counter "$line" received) + 2 ))")
lab_ok "no such flow: S2 counts both remote, lookups absent, relays both" \
	eval "[ $(lab_owner_count S2 'ptb_owner_total{family="4",owner="remote"}') -eq $((r4 + 1)) ] &&
	      [ $(lab_owner_count S2 'ptb_owner_total{family="6",owner="remote"}') -eq $((r6 + 1)) ] &&
	      [ $(lab_owner_count S2 'owner_lookups_total{result="absent"}') -eq $((abs + 2)) ] &&
	      [ $(lab_counter "$line" forwarded) -eq $((fw + 2)) ]"
v=$(wait_count S1 'copies_received_total{family="4",via="broadcast",owner="remote"}' $((c4 + 1)))
lab_ok "no such flow: S1 got the copy, owner=\"remote\" ($v), S1 saw them as broadcasts ($(lab_ptb_count S1 v4 bcast), $(lab_ptb_count S1 v6 bcast))" \
	eval "[ $v -eq $((c4 + 1)) ] && [ $(lab_ptb_count S1 v4 bcast) -eq 1 ] && [ $(lab_ptb_count S1 v6 bcast) -eq 1 ]"
lab_stop_agent S1; lab_stop_agent S2

# 4b. Copies are never shed: S1's interface has one token; of 6 PTBs R
# sends S1, one is relayed and 5 are shed. The copies S2 then
# broadcasts still reach S1's owner lookup.
lab_ptb_reset
agent S1 "${ONE_TOKEN[@]}" && agent S2 || { echo "Bail out! agents (shed)"; exit 1; }
lab_set_owner S1 S1 || { echo "Bail out! lab_set_owner S1 S1"; exit 1; }
shed_copies S1 broadcast S1 3
lab_stop_agent S1; lab_stop_agent S2

# 3. PTBs that reach the owner itself: local; no copy unless relay_owned.
lab_set_owner S1 S1 || { echo "Bail out! lab_set_owner S1 S1"; exit 1; }
owned_run()
{
	local idx=$1 want=$2 what=$3 f n loc b4 b6
	local -A locs
	shift 3
	lab_flush
	lab_ptb_reset
	agent S1 "$@" && agent S2 || { echo "Bail out! agents ($what)"; exit 1; }
	held_gets "$idx"
	for f in v4 v6; do
		locs[$f]=$(wait_count S1 "ptb_owner_total{family=\"$(fam_n $f)\",owner=\"local\"}" 1)
	done
	release_gets
	for f in v4 v6; do
		n=$(fam_n $f) loc=${locs[$f]}
		lab_ok "$what: $f download completes ($(lab_get_line $f "$idx"))" completes $f "$idx"
		lab_ok "$what: $f PTBs reached the owner S1 ($(lab_ptb_count S1 $f)): owner=\"local\" ($loc)" \
			eval "[ $(lab_ptb_count S1 $f) -ge 1 ] && [ $loc -ge 1 ]"
	done
	sleep 0.3	# a broadcast S1 sent would have reached S2 by now
	b4=$(lab_ptb_count S2 v4 bcast) b6=$(lab_ptb_count S2 v6 bcast)
	line=$(lab_agent_counters S1)
	if [ "$want" = none ]; then
		lab_ok "$what: no copy on the wire (S2 got $b4 + $b6 broadcasts, S1 forwarded $(lab_counter "$line" forwarded))" \
			eval "[ $b4 -eq 0 ] && [ $b6 -eq 0 ] && [ $(lab_counter "$line" forwarded) -eq 0 ]"
	else
		lab_ok "$what: the copies went out (S2 got $b4 + $b6 broadcasts, S1 forwarded $(lab_counter "$line" forwarded))" \
			eval "[ $b4 -ge 1 ] && [ $b6 -ge 1 ] && [ $(lab_counter "$line" forwarded) -eq $((b4 + b6)) ]"
	fi
	lab_stop_agent S1; lab_stop_agent S2
}
owned_run 3 none "relay_owned false"
owned_run 4 some "--relay-owned" --relay-owned

# 5. The lookup budget under a flood: 400 distinct PTBs per family.
lab_set_owner S1 || { echo "Bail out! lab_set_owner S1"; exit 1; }
lab_ptb_reset
FAST=(--src-rate 10000 --iface-rate 10000 --dedup-window 0 --owner-rate 20)
agent S2 "${FAST[@]}" && agent S1 "${FAST[@]}" || { echo "Bail out! agents (flood)"; exit 1; }
t0=${EPOCHREALTIME/./}
lab_send_ptb E v4 400 vary=1 >/dev/null && lab_send_ptb E v6 400 vary=1 >/dev/null
line=$(lab_agent_wait_received S2 800)
t1=${EPOCHREALTIME/./}
secs=$(( (t1 - t0 + 999999) / 1000000 ))
max=$((20 + 20 * secs + 1))
asked=$(( $(lab_owner_count S2 'owner_lookups_total{result="absent"}') +
	  $(lab_owner_count S2 'owner_lookups_total{result="found"}') +
	  $(lab_owner_count S2 'owner_lookups_total{result="error"}') ))
lim=$(lab_owner_count S2 'owner_lookups_total{result="limited"}')
unk=$(( $(lab_owner_count S2 'ptb_owner_total{family="4",owner="unknown"}') +
	$(lab_owner_count S2 'ptb_owner_total{family="6",owner="unknown"}') ))
lab_note "flood: 800 PTBs in ${secs}s: $asked lookups asked, $lim limited, $unk owners unknown, $(lab_counter "$line" forwarded) relayed"
lab_ok "the lookup budget holds: $asked lookups <= $max, the rest limited ($lim) and unknown, all relayed" \
	eval "[ $asked -ge 20 ] && [ $asked -le $max ] && [ $((asked + lim)) -eq 800 ] &&
	      [ $unk -eq $lim ] && [ $(lab_counter "$line" forwarded) -eq 800 ]"
sleep 0.5
lab_agent_counters S1 >/dev/null
got=0
for n in 4 6; do
	for o in local remote unknown; do
		got=$((got + $(lab_owner_count S1 "copies_received_total{family=\"$n\",via=\"broadcast\",owner=\"$o\"}")))
	done
done
t1=${EPOCHREALTIME/./}
secs=$(( (t1 - t0 + 999999) / 1000000 ))
lab_ok "copies logged by the kernel within its limit: $got of $(( $(lab_ptb_count S1 v4 bcast) + $(lab_ptb_count S1 v6 bcast) )) broadcasts, <= 2 x (20 + 20 x ${secs})" \
	eval "[ $got -ge 20 ] && [ $got -le $((2 * (20 + 20 * secs))) ]"
lab_stop_agent S1; lab_stop_agent S2

# 2. Across subnets: S3 owns the flows, S1 gets their PTBs and relays
# them to its peer S3.
lab_add_s3 || { echo "Bail out! lab_add_s3 failed"; exit 1; }
lab_set_owner S3 S1 || { echo "Bail out! lab_set_owner S3 S1"; exit 1; }
lab_flush
lab_ptb_reset
agent S1 --peers 192.0.2.130,2001:db8:3::3 && agent S3 --peers 203.0.113.1,2001:db8:1::1 ||
	{ echo "Bail out! agents (peers)"; exit 1; }
rescued 5 S1 S3 peer "peer"
lab_note "S3: $(grep -F 'pmtud_copies_received_total: ' "$LAB_DIR/agent-S3.log" | tail -n 1 | cut -d' ' -f2-)"
line=$(lab_agent_counters S3)
lab_ok "S3 relayed none of the peer copies (forwarded $(lab_counter "$line" forwarded))" \
	[ "$(lab_counter "$line" forwarded)" -eq 0 ]
lab_stop_agent S1; lab_stop_agent S3

# 2b. Peer copies are never shed either: the same on S3, whose
# copies come from its peer S1.
lab_ptb_reset
agent S1 --peers 192.0.2.130,2001:db8:3::3 &&
	agent S3 --peers 203.0.113.1,2001:db8:1::1 "${ONE_TOKEN[@]}" ||
	{ echo "Bail out! agents (peers, shed)"; exit 1; }
lab_set_owner S3 S3 || { echo "Bail out! lab_set_owner S3 S3"; exit 1; }
shed_copies S3 peer "S3 S1" 2
lab_stop_agent S1; lab_stop_agent S3

lab_finish
