#!/bin/bash
# lab_reload.sh - live reload (SIGHUP) on real traffic.
#
# Deterministic ECMP in the namespace lab (tests/lab/lib.sh): TCP to
# the VIP reaches S1, ICMP to the VIP reaches S2, where pmtud-nf runs
# with -c FILE plus flags. Proves that:
#  - a bad file (invalid value, then invalid JSON) gives one error line
#    each; the agent lives on with the old configuration: a download
#    that stalls without it still completes;
#  - the flags are applied again on top of the re-read file;
#  - "ports": [9999] applied live: the lab's port-8080 PTBs are dropped
#    as port_filtered and the download stalls; back to [] it completes;
#    one PTB sent before and after such a reload is port_filtered the
#    second time (the agent's memo of repeated PTBs is the policy's);
#  - "iface" moved to an interface that carries nothing: no PTB reaches
#    the agent (received unchanged), the download stalls; back: it
#    completes;
#  - "nflog_group" changed: the new group is bound, the old one freed,
#    downloads complete through the new group;
#  - changing "table" is refused ("requires a restart"), table kept;
#  - the table's counters keep counting across a reload that changes
#    the rules; one that changes no rule leaves the rules alone;
#  - during 30 reloads in a row the table is never absent (polled with
#    nft list) and every PTB sent meanwhile is captured (received ==
#    sent); the table stays owned (SIGKILL afterwards: the kernel drops
#    it); the reload counters match what was done.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 150 deterministic

STALL_MS=2000		# a rescued download takes ~10 ms here
CONF=$LAB_DIR/x.json
LOG=$LAB_DIR/agent-S2.log
IDX=0			# client address per download: no PMTU cached

# A second Ethernet interface on S2 that carries none of the traffic.
lab_exec S2 ip link add x0 type veth peer name x1 &&
	lab_exec S2 ip link set x0 up && lab_exec S2 ip link set x1 up ||
	{ echo "Bail out! veth on S2"; exit 1; }

conf() { printf '%s\n' "$1" >"$CONF"; }

reload() { lab_agent_reload S2; }

# get FAMILY: one download from a fresh client address; sets GOT_RC.
get()
{
	lab_flush
	GOT=$(lab_get "$1" "$IDX" "$STALL_MS")
	GOT_RC=$?
	IDX=$((IDX + 1))
}
rescued() { get "$1"; [ "$GOT_RC" -eq 0 ]; }
stalls() { get "$1"; [ "$GOT_RC" -eq 1 ]; }
alive() { kill -0 "$LAB_AGENT_S2" 2>/dev/null; }
counter() { lab_counter "$(lab_agent_counters S2)" "$1"; }
has_table() { lab_exec S2 nft list table inet pmtud >/dev/null 2>&1; }

conf '{"iface": ["eth0"]}'
lab_start_agent S2 -c "$CONF" -v --src-rate 100 --iface-rate 100 ||
	{ echo "Bail out! agent did not start"; exit 1; }

lab_ok "v4 rescued at start" rescued v4
lab_ok "v6 rescued at start" rescued v6

# 1. Bad files: one line each, nothing changes.
for bad in '{"iface": ["eth0"], "ports": [0]}' '{"iface": ["eth0"], "ports": ['; do
	conf "$bad"
	before=$(wc -l <"$LOG")
	line=$(reload)
	sleep 0.3
	after=$(wc -l <"$LOG")
	lab_note "bad file $bad: $line"
	lab_ok "bad file: one error line naming the file ($((after - before)) new)" \
		eval '[ $((after - before)) -eq 1 ] &&
		      [[ $line == *"error: reload failed, configuration unchanged: $CONF"* ]]'
	lab_ok "bad file: agent alive" alive
	lab_ok "bad file: v4 still rescued (old configuration)" rescued v4
done
lab_ok "the table is still there" has_table

# 2. The flags stay on top of the file.
conf '{"iface": ["eth0"], "src_rate": 5}'
line=$(reload)
lab_ok "valid file: applied ($line)" eval '[[ $line == *"reload: configuration from $CONF applied"* ]]'
lab_ok "flags applied again on top of the file (src_rate 100 from --src-rate)" \
	eval 'tail -n 3 "$LOG" | grep -q "src_rate 100/s"'

# 3. Ports.
conf '{"iface": ["eth0"], "ports": [9999]}'
line=$(reload)
lab_ok "ports [9999]: applied" eval '[[ $line == *applied* ]]'
pf0=$(counter port_filtered)
lab_ok "ports [9999]: v4 stalls" stalls v4
pf1=$(counter port_filtered)
lab_note "port_filtered $pf0 -> $pf1"
lab_ok "ports [9999]: the PTBs were dropped as port_filtered" [ "$pf1" -gt "$pf0" ]
conf '{"iface": ["eth0"], "ports": []}'
reload >/dev/null
lab_ok "ports []: v4 rescued again" rescued v4
lab_ok "ports []: v6 rescued again" rescued v6

# 3b. What the agent knows of a repeated PTB (classify_memo.h) goes
# with the policy: the same PTB, sent before and after a reload to
# "ports": [9999], is port_filtered after it, not taken for a repetition.
same_ptb()
{
	local line rx
	rx=$(counter received)
	lab_send_ptb E v4 1 >/dev/null
	line=$(lab_agent_wait_received S2 $((rx + 1))) || return 1
	echo "$(lab_counter "$line" forwarded) $(lab_counter "$line" port_filtered)" \
	     "$(lab_counter "$line" deduplicated)"
}
fw0=$(counter forwarded)
read -r fw1 pf0 dd0 < <(same_ptb)
lab_ok "ports []: the PTB is relayed (forwarded $fw0 -> $fw1)" [ "$((fw1 - fw0))" -eq 1 ]
conf '{"iface": ["eth0"], "ports": [9999]}'
reload >/dev/null
read -r fw2 pf1 dd1 < <(same_ptb)
lab_ok "ports [9999]: the same PTB again is port_filtered (port_filtered $pf0 -> $pf1, deduplicated $dd0 -> $dd1, forwarded $fw1 -> $fw2)" \
	[ "$((pf1 - pf0))" -eq 1 ] && [ "$dd1" -eq "$dd0" ] && [ "$fw2" -eq "$fw1" ]
conf '{"iface": ["eth0"], "ports": []}'
reload >/dev/null

# 4. Interfaces.
conf '{"iface": ["x0"]}'
line=$(reload)
lab_ok "iface x0: applied" eval '[[ $line == *applied* ]]'
lab_ok "iface x0: the rules watch x0" \
	eval 'lab_exec S2 nft list table inet pmtud | grep -q "iifname \"x0\""'
rx0=$(counter received)
fw0=$(counter forwarded)
lab_ok "iface x0: v4 stalls" stalls v4
rx1=$(counter received)
fw1=$(counter forwarded)
lab_ok "iface x0: no PTB captured, no copy sent (received $rx0 -> $rx1, forwarded $fw0 -> $fw1)" \
	eval '[ "$rx1" -eq "$rx0" ] && [ "$fw1" -eq "$fw0" ]'
conf '{"iface": ["eth0"]}'
reload >/dev/null
lab_ok "iface eth0 again: v4 rescued" rescued v4
fw2=$(counter forwarded)
lab_ok "iface eth0 again: copies sent ($fw1 -> $fw2)" [ "$fw2" -gt "$fw1" ]

# 5. NFLOG group.
conf '{"iface": ["eth0"], "nflog_group": 34}'
line=$(reload)
lab_ok "nflog_group 34: applied" eval '[[ $line == *applied* ]]'
lab_ok "group 34 bound, group 33 released" \
	eval 'lab__group_bound S2 34 && ! lab__group_bound S2 33'
lab_ok "group 34: v6 rescued" rescued v6
lab_ok "group 34: v4 rescued" rescued v4

# 6. Restart-only key.
conf '{"iface": ["eth0"], "nflog_group": 34, "table": "other"}'
line=$(reload)
lab_note "$line"
lab_ok "table change refused: requires a restart" \
	eval '[[ $line == *"changing \"table\" requires a restart"* ]]'
lab_ok "table inet pmtud kept, no table other" \
	eval 'has_table && ! lab_exec S2 nft list table inet other >/dev/null 2>&1'
lab_ok "after the refusal: v4 rescued" rescued v4

# 6b. The table's counters keep counting across a reload that changes
# the rules (no other traffic meanwhile: exactly).
c0=$(lab_table_packets S2)
conf '{"iface": ["eth0", "x0"], "nflog_group": 34}'
reload >/dev/null
c1=$(lab_table_packets S2)
lab_send_ptb E v4 20 vary=1 >/dev/null
c2=$(lab_table_packets S2 "$((c1 + 20))")
lab_ok "table counters keep counting across a reload ($c0 -> $c1, +20 PTBs: $c2)" \
	eval '[ "$c0" -gt 0 ] && [ "$c1" -eq "$c0" ] && [ "$c2" -eq "$((c1 + 20))" ]'
# A reload that changes no rule leaves them alone (same handles).
handles() { lab_exec S2 nft -a list chain inet pmtud prerouting | grep -o 'handle [0-9]*$' | paste -sd ' '; }
h0=$(handles)
conf '{"iface": ["eth0", "x0"], "nflog_group": 34, "ports": [8080]}'
line=$(reload)
h1=$(handles)
lab_ok "ports changed only: applied, rules untouched ($h0 -> $h1)" \
	eval '[[ $line == *applied* ]] && [ -n "$h0" ] && [ "$h0" = "$h1" ]'

# 7. 30 reloads while polling the table.
touch "$LAB_DIR/poll.run"
lab_exec S2 bash -c '
	n=0 miss=0
	while [ -e "$1/poll.run" ]; do
		n=$((n + 1))
		nft list table inet pmtud >/dev/null 2>&1 || miss=$((miss + 1))
	done
	echo "$n $miss" >"$1/poll.out"' poll "$LAB_DIR" &
POLL=$!
# PTBs sent all along: each one must be captured, whichever ruleset
# the kernel had at that instant.
rx_before=$(counter received)
(
	n=0
	while [ -e "$LAB_DIR/poll.run" ]; do
		lab_send_ptb E v4 50 vary=1 >/dev/null && n=$((n + 50))
	done
	echo "$n" >"$LAB_DIR/sent.out"
) &
SENDER=$!
sleep 0.2
ok_before=$(counter reloads_ok)
for i in $(seq 30); do
	if [ $((i % 2)) -eq 1 ]; then
		conf '{"iface": ["eth0", "x0"], "nflog_group": 34}'
	else
		conf '{"iface": ["eth0"], "nflog_group": 34}'
	fi
	reload >/dev/null
done
sleep 0.2
rm -f "$LAB_DIR/poll.run"
wait "$POLL" "$SENDER"
read -r polls misses <"$LAB_DIR/poll.out"
read -r sent <"$LAB_DIR/sent.out"
rx_after=$(lab_agent_wait_received S2 "$((rx_before + sent))")
rx_after=$(lab_counter "$rx_after" received)
lab_note "$sent PTBs sent during the reloads, $((rx_after - rx_before)) captured"
lab_ok "every PTB sent during the reloads was captured ($sent sent, $((rx_after - rx_before)) received)" \
	eval '[ "$sent" -gt 0 ] && [ "$((rx_after - rx_before))" -eq "$sent" ]'
ok_after=$(counter reloads_ok)
lab_note "30 reloads: $polls polls of the table, $misses found it absent"
lab_ok "table never absent during 30 reloads ($polls polls, $misses misses)" \
	eval '[ "$polls" -gt 30 ] && [ "$misses" -eq 0 ]'
lab_ok "reloads_ok counted the 30 reloads ($ok_before -> $ok_after)" \
	[ "$((ok_after - ok_before))" -eq 30 ]
lab_ok "reloads_failed counted the 3 refused ones" [ "$(counter reloads_failed)" -eq 3 ]
lab_ok "after 30 reloads: v6 rescued" rescued v6
lab_ok "after 30 reloads: table still owned" \
	eval 'lab_exec S2 nft list table inet pmtud | grep -q "flags owner"'
kill -KILL "$LAB_AGENT_S2"
wait "$LAB_AGENT_S2" 2>/dev/null
LAB_AGENT_S2=
gone() { ! has_table; }
lab_ok "SIGKILL after the reloads: the kernel removed the table (owner kept)" gone

lab_finish
