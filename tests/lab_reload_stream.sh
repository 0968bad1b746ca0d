#!/bin/bash
# lab_reload_stream.sh - reloads and shutdown cost the host no PTB.
#
# Deterministic lab (tests/lab/lib.sh): every PTB E sends to the VIP
# reaches S2, where pmtud-nf runs (dry run, pre-limit well above the
# stream). For the NFLOG input and then the NFQUEUE input:
#  - a stream of 4000 IPv4 and 4000 IPv6 PTBs at 1000/s each, during
#    which the agent reloads 20 times, each time with other rules (one
#    interface, then two): every PTB that arrived on S2 (prerouting,
#    priority -400) also passed every prerouting hook (a chain at
#    priority 1000), i.e. none was dropped by a hook going away; table
#    and chain kept their handles (never re-created), the rules'
#    counters kept counting (at least 95%: what the old rules count
#    while the kernel applies a batch is not carried) and exactly across
#    a reload without traffic, the pre-limit set kept its sources;
#  - the same stream while the agent stops (SIGTERM): again every PTB
#    that arrived passed, and the table is gone afterwards.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 150 deterministic

CONF=$LAB_DIR/stream.json
N=4000			# PTBs per family and stream
PPS=1000
RELOADS=${RELOADS:-20}
GAP=0.05		# seconds between reloads

lab_exec S2 ip link add x0 type veth peer name x1 &&
	lab_exec S2 ip link set x0 up && lab_exec S2 ip link set x1 up ||
	{ echo "Bail out! veth on S2"; exit 1; }

conf() { printf '%s\n' "$1" >"$CONF"; }
counts() {	# "<arrived v4> <passed v4> <arrived v6> <passed v6>"
	echo "$(lab_ptb_count S2 v4 in) $(lab_ptb_count S2 v4 passed)" \
	     "$(lab_ptb_count S2 v6 in) $(lab_ptb_count S2 v6 passed)"
}
# The table's and the chain's handles ("T C"): a table or chain
# created again gets a new one.
chain_handle() {
	lab_exec S2 nft -a list table inet pmtud 2>/dev/null |
		sed -n 's/^table .* # handle \([0-9]*\).*/\1/p; s/.*chain prerouting { # handle \([0-9]*\)$/\1/p' |
		paste -sd ' '
}
pre_elements() {	# sources the pre-limit sets hold
	lab_exec S2 nft list set inet pmtud prelimit4 2>/dev/null | grep -c 'limit rate'
}

# stream: both families from E, paced, in the background; sets STREAM.
stream() {
	lab_send_ptb E v4 "$N" rate=$PPS vary=1 >"$LAB_DIR/s4.out" &
	S4=$!
	lab_send_ptb E v6 "$N" rate=$PPS vary=1 >"$LAB_DIR/s6.out" &
	S6=$!
}
stream_wait() { wait "$S4" "$S6"; }

# settled: counts stop moving (the last PTBs are through): print them.
settled() {
	local prev='' cur i
	for i in $(seq 40); do
		cur=$(counts)
		[ "$cur" = "$prev" ] && break
		prev=$cur
		sleep 0.25
	done
	echo "$cur"
}

# check WHAT BEFORE AFTER: every PTB that arrived passed, per family.
check_passed() {
	local what=$1 a4 p4 a6 p6 b4 q4 b6 q6
	read -r b4 q4 b6 q6 <<<"$2"
	read -r a4 p4 a6 p6 <<<"$3"
	a4=$((a4 - b4)) p4=$((p4 - q4)) a6=$((a6 - b6)) p6=$((p6 - q6))
	lab_note "$what: v4 $a4 arrived, $p4 passed; v6 $a6 arrived, $p6 passed"
	lab_ok "$what: every PTB that arrived passed every hook (v4 $p4/$a4, v6 $p6/$a6)" \
		eval '[ "$a4" -ge "$N" ] && [ "$a6" -ge "$N" ] &&
		      [ "$p4" -eq "$a4" ] && [ "$p6" -eq "$a6" ]'
}

for input in ${INPUTS:-nflog nfqueue}; do
	if [ "$input" = nfqueue ] && ! LAB_INPUT=nfqueue lab_input_rules_ok; then
		lab_note "nfqueue: kernel without nft_queue: the agent uses xt NFQUEUE"
	fi
	lab_ptb_reset || { echo "Bail out! counter table"; exit 1; }
	conf '{"iface": ["eth0"]}'
	lab_start_agent S2 -c "$CONF" --input "$input" --dry-run \
		--iface-rate 1000 --src-rate 1000 ||
		{ echo "Bail out! $input: agent did not start"; exit 1; }
	handle0=$(chain_handle)

	# Reloads during the stream, each with other rules.
	before=$(counts)
	stream
	sleep 0.3
	fails=0
	for i in $(seq "$RELOADS"); do
		if [ $((i % 2)) -eq 1 ]; then
			conf '{"iface": ["eth0", "x0"]}'
		else
			conf '{"iface": ["eth0"]}'
		fi
		line=$(lab_agent_reload S2)
		[[ $line == *"reload: configuration from $CONF applied"* ]] ||
			{ fails=$((fails + 1)); lab_note "$input: $line"; }
		sleep "$GAP"
	done
	stream_wait
	after=$(settled)
	lab_ok "$input: $RELOADS reloads applied during the stream" [ "$fails" -eq 0 ]
	check_passed "$input, $RELOADS reloads" "$before" "$after"
	handle1=$(chain_handle)
	lab_ok "$input: table and chain were kept (handles $handle0 -> $handle1)" \
		eval '[[ $handle0 == *" "* ]] && [ "$handle0" = "$handle1" ]'

	# Counters and pre-limit sources survive a reload: a quiet one.
	c0=$(lab_table_packets S2)
	e0=$(pre_elements)
	conf '{"iface": ["eth0"], "prelimit_rate": 9000}'
	lab_agent_reload S2 >/dev/null
	c1=$(lab_table_packets S2)
	e1=$(pre_elements)
	lab_send_ptb E v4 10 >/dev/null
	c2=$(lab_table_packets S2 "$((c1 + 10))")
	lab_note "$input: table counters $c0 -> $c1 (reload) -> $c2 (+10 PTBs); pre-limit sources $e0 -> $e1"
	# Exact across a quiet reload; during the stream a reload misses
	# what the old rules count while the kernel applies the batch.
	lab_ok "$input: the table's counters kept counting across reloads ($c0 of $((2 * N)) during the stream; $c0 -> $c1 -> $c2 across a quiet one)" \
		eval '[ "$c0" -ge "$((2 * N * 95 / 100))" ] && [ "$c0" -le "$((2 * N))" ] &&
		      [ "$c1" -eq "$c0" ] && [ "$c2" -eq "$((c1 + 10))" ]'
	lab_ok "$input: the pre-limit set kept its sources ($e0 -> $e1)" \
		eval '[ "$e0" -ge 1 ] && [ "$e1" -eq "$e0" ]'

	# verbose from the file, by reload (the agent runs without -v):
	# the per-packet lines start, and stop again without it.
	decisions() { lab_agent_log S2 | grep -cE ' (FORWARD|DROP) ' || true; }
	v0=$(decisions)
	conf '{"iface": ["eth0"], "prelimit_rate": 9000, "verbose": 1}'
	lab_agent_reload S2 >/dev/null
	lab_send_ptb E v4 5 vary=1 >/dev/null
	sleep 0.5
	v1=$(decisions)
	conf '{"iface": ["eth0"], "prelimit_rate": 9000}'
	lab_agent_reload S2 >/dev/null
	lab_send_ptb E v4 5 vary=1 >/dev/null
	sleep 0.5
	v2=$(decisions)
	lab_ok "$input: verbose 1 by reload logs each PTB ($v0 -> $v1 lines), verbose 0 again stops ($v1 -> $v2)" \
		eval '[ "$v1" -ge "$((v0 + 5))" ] && [ "$v2" -eq "$v1" ]'

	# Shutdown during the stream.
	before=$(counts)
	stream
	sleep 1
	lab_stop_agent S2
	rc=$?
	stream_wait
	after=$(settled)
	lab_ok "$input: SIGTERM during the stream: exit 0" [ "$rc" -eq 0 ]
	check_passed "$input, SIGTERM during the stream" "$before" "$after"
	lab_ok "$input: table gone after SIGTERM" \
		eval '! lab_exec S2 nft list table inet pmtud >/dev/null 2>&1'
done

lab_finish
