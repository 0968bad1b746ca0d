#!/bin/bash
# lab_agent.sh - pmtud-nf fixes the black hole of lab_stall.sh.
#
# Deterministic ECMP in the namespace lab (tests/lab/lib.sh): TCP to
# the VIP reaches S1, ICMP to the VIP reaches S2. Proves, for IPv4 and
# IPv6, that:
#  - control: without the agent the downloads stall (same run);
#  - with pmtud-nf on S1 and S2 (default configuration, -i eth0), the
#    same downloads complete within BOUND_MS; S2's agent relayed the
#    PTB, S1 got it as an Ethernet broadcast and cached PMTU 1280 for
#    that client address only;
#  - while it runs, the agent's NFLOG group (NFQUEUE with
#    LAB_INPUT=nfqueue) is bound in copy-packet mode (2) and its table
#    "inet pmtud" exists;
#  - one PTB gives exactly one broadcast copy on the segment: S2's
#    agent forwards it once; S1's agent never sees the copy (its rule
#    skips pkttype broadcast); and even when a rule does hand S1 the
#    copy (--no-rules plus an operator's rule without that guard), the
#    classifier refuses it as l2_broadcast: it is counted as a copy
#    received (pmtud_copies_received_total), never relayed;
#  - SIGTERM: exit status 0, table and NFLOG binding gone; SIGKILL:
#    table gone all the same (owner flag) and the group unbound; a
#    restart right after the kill works at once.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 110 deterministic

STALL_MS=2000		# a working download takes ~10 ms here
BOUND_MS=3000
GROUP=33
CONF=$LAB_DIR/empty.json
echo '{}' >"$CONF"

start_agents()
{
	lab_start_agent S1 -c "$CONF" -i "$LAB_SEG_IF" -v &&
		lab_start_agent S2 -c "$CONF" -i "$LAB_SEG_IF" -v
}

has_table() { lab_exec "$1" nft list table inet pmtud >/dev/null 2>&1; }
no_table() { ! has_table "$1"; }

# NFLOG group (or NFQUEUE, LAB_INPUT=nfqueue) $2 bound in NODE's
# namespace with copy mode $3 (/proc/net/netfilter/nfnetlink_log:
# group portid qlen copy_mode ...; nfnetlink_queue alike).
group_mode()
{
	# shellcheck disable=SC2016
	lab_exec "$1" awk -v g="$2" -v m="$3" '$1 == g && $4 == m { f = 1 } END { exit !f }' \
		"$(lab_input_proc)"
}
group_unbound() { ! lab__group_bound "$1" "$2"; }

# Poll CMD for up to 2 s (the kernel releases sockets at exit, so it
# should hold at once; the bound only absorbs scheduling).
eventually()
{
	local i
	for i in $(seq 40); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

client_mtu()
{
	case $1 in
	v4) lab_exec S1 ip route get "$(lab_client_addr v4 "$2")" ;;
	v6) lab_exec S1 ip -6 route get "$(lab_client_addr v6 "$2")" ;;
	esac | grep -Eo 'mtu [0-9]+' | awk '{ print $2 }'
}
mtu_is() { [ "$(client_mtu "$1" "$2")" = "$3" ]; }
mtu_not() { [ "$(client_mtu "$1" "$2")" != "$3" ]; }

# 1. Control: the same lab without the agent.
lab_get_many "$STALL_MS" v4 0 v6 0
for f in v4 v6; do
	lab_ok "control, no agent: $f download stalls ($(lab_get_line $f 0))" \
		[ "$(lab_get_rc $f 0)" = 1 ]
done
lab_flush

# 2. With the agent on both servers.
start_agents || { echo "Bail out! agents did not start"; exit 1; }
for n in S1 S2; do
	lab_ok "$n: $LAB_INPUT group $GROUP bound in copy-packet mode (2)" \
		group_mode $n $GROUP 2
	lab_ok "$n: table inet pmtud installed" has_table $n
done
lab_ptb_reset
lab_get_many "$BOUND_MS" v4 1 v6 1
for f in v4 v6; do
	lab_ok "agent: $f download completes within ${BOUND_MS} ms ($(lab_get_line $f 1))" \
		[ "$(lab_get_rc $f 1)" = 0 ]
	lab_note "$f PTBs: E sent $(lab_ptb_count E $f out), S2 got $(lab_ptb_count S2 $f)," \
		"S1 got $(lab_ptb_count S1 $f bcast) as broadcast"
	lab_ok "agent: S1 received $f PTB copies as Ethernet broadcasts" \
		[ "$(lab_ptb_count S1 $f bcast)" -gt 0 ]
	lab_ok "agent: owner S1 learned PMTU 1280 for $f client 1 ($(client_mtu $f 1)), not for client 2" \
		eval "mtu_is $f 1 1280 && mtu_not $f 2 1280"
done
lab_ok "S2's agent logged FORWARD decisions for both clients" \
	eval "lab_agent_log S2 | grep -q 'FORWARD eth0: .* -> $(lab_client_addr v4 1):' &&
	      lab_agent_log S2 | grep -q 'FORWARD eth0: .* -> \[$(lab_client_addr v6 1)\]:'"

# 3. Exactly one copy per PTB, never relayed again. Crafted PTBs quote
# a client address no download used (fresh rate-limit key).
lab_flush
for f in v4 v6; do
	case $f in
	v4) q=198.51.100.200 n=1 ;;
	v6) q=2001:db8:c::200 n=2 ;;
	esac
	lab_ptb_reset
	if ! c1=$(lab_agent_counters S1) || ! c2=$(lab_agent_counters S2); then
		echo "Bail out! no counters"
		exit 1
	fi
	r1=$(lab_counter "$c1" received) fw1=$(lab_counter "$c1" forwarded)
	fw2=$(lab_counter "$c2" forwarded)
	lab_send_ptb E $f 1 "qdst=$q" >/dev/null
	c2=$(lab_agent_wait_received S2 "$n")
	sleep 0.5	# room for any (wrong) second copy
	c1=$(lab_agent_counters S1)
	c2=$(lab_agent_counters S2)
	lab_note "one $f PTB: S2 ${c2#*counters: }"
	lab_note "one $f PTB: S1 ${c1#*counters: }"
	lab_ok "one $f PTB: E sent 1, S2 received 1, S1 none directly" \
		eval "[ $(lab_ptb_count E $f out) -eq 1 ] && [ $(lab_ptb_count S2 $f) -eq 1 ] &&
		      [ $(lab_ptb_count S1 $f) -eq $(lab_ptb_count S1 $f bcast) ]"
	lab_ok "one $f PTB: S2's agent forwarded it once" \
		[ "$(lab_counter "$c2" forwarded)" -eq $((fw2 + 1)) ]
	lab_ok "one $f PTB: exactly one broadcast copy on the segment (S1 $(lab_ptb_count S1 $f bcast), S2 $(lab_ptb_count S2 $f bcast))" \
		eval "[ $(lab_ptb_count S1 $f bcast) -eq 1 ] && [ $(lab_ptb_count S2 $f bcast) -eq 0 ]"
	lab_ok "one $f PTB: S1's agent never saw the copy (rule skips pkttype broadcast)" \
		eval "[ $(lab_counter "$c1" received) -eq $r1 ] && [ $(lab_counter "$c1" forwarded) -eq $fw1 ]"
done

# 3b. Second line of defence: S1's agent fed by an operator's rule
# that does not skip broadcasts. The copy reaches it; it must drop it.
# (With LAB_INPUT=nfqueue on a kernel without nft_queue no ruleset
# can feed the agent: skipped.)
fed_copies()
{
	lab_stop_agent S1 >/dev/null
	lab_exec S1 nft -f - <<-EOF || { echo "Bail out! user table"; exit 1; }
	table inet labuser {
		chain pre {
			type filter hook prerouting priority raw; policy accept;
			iifname "$LAB_SEG_IF" icmp type destination-unreachable icmp code frag-needed $(lab_input_stmt $GROUP)
			iifname "$LAB_SEG_IF" icmpv6 type packet-too-big $(lab_input_stmt $GROUP)
		}
	}
	EOF
	lab_start_agent S1 -c "$CONF" -i "$LAB_SEG_IF" -v --no-rules ||
		{ echo "Bail out! S1 --no-rules"; exit 1; }
	lab_ok "--no-rules: S1's agent installed no table" no_table S1
	lab_ptb_reset
	fw2=$(lab_counter "$(lab_agent_counters S2)" forwarded)
	lab_send_ptb E v4 1 qdst=198.51.100.201 >/dev/null
	lab_send_ptb E v6 1 qdst=2001:db8:c::201 >/dev/null
	for _ in $(seq 20); do
		lab_agent_counters S1 >/dev/null
		[ $(( $(lab_owner_count S1 'copies_received_total{family="4",via="broadcast",owner="remote"}') +
		      $(lab_owner_count S1 'copies_received_total{family="6",via="broadcast",owner="remote"}') )) -ge 2 ] && break
		sleep 0.25
	done
	sleep 0.5
	c1=$(lab_agent_counters S1)
	c2=$(lab_agent_counters S2)
	lab_note "copies fed to S1: ${c1#*counters: }"
	cp4=$(lab_owner_count S1 'copies_received_total{family="4",via="broadcast",owner="remote"}')
	cp6=$(lab_owner_count S1 'copies_received_total{family="6",via="broadcast",owner="remote"}')
	lab_ok "copies fed to S1's agent are counted as copies received ($cp4 + $cp6), none forwarded" \
		eval "[ $(lab_counter "$c1" received) -eq 0 ] && [ $(lab_counter "$c1" forwarded) -eq 0 ] &&
		      [ $cp4 -eq 1 ] && [ $cp6 -eq 1 ]"
	lab_ok "copies fed to S1's agent: still one copy per PTB on the wire (S2 forwarded $(( $(lab_counter "$c2" forwarded) - fw2 )), S2 got no copy back)" \
		eval "[ $(lab_counter "$c2" forwarded) -eq $((fw2 + 2)) ] &&
		      [ $(lab_ptb_count S1 v4 bcast) -eq 1 ] && [ $(lab_ptb_count S1 v6 bcast) -eq 1 ] &&
		      [ $(lab_ptb_count S2 v4 bcast) -eq 0 ] && [ $(lab_ptb_count S2 v6 bcast) -eq 0 ]"
	lab_stop_agent S1 >/dev/null
	lab_exec S1 nft delete table inet labuser
	lab_start_agent S1 -c "$CONF" -i "$LAB_SEG_IF" -v ||
		{ echo "Bail out! S1 restart"; exit 1; }
}
if lab_input_rules_ok; then
	fed_copies
else
	lab_note "skip: nft cannot load a $LAB_INPUT rule here (no nft_queue)"
fi

# 4. SIGTERM: clean exit, nothing left behind.
for n in S1 S2; do
	lab_stop_agent $n
	rc=$?
	lab_ok "SIGTERM: $n's agent exits with status 0 ($rc)" [ "$rc" -eq 0 ]
	lab_ok "SIGTERM: $n's table inet pmtud is gone" eventually no_table $n
	lab_ok "SIGTERM: $n's $LAB_INPUT group $GROUP is unbound" eventually group_unbound $n $GROUP
done
lab_ok "SIGTERM: the agent logged that it stopped" \
	eval "lab_agent_log S2 | grep -q 'stopping'"

# 5. SIGKILL: the kernel removes the owned table and the binding.
start_agents || { echo "Bail out! agents did not start again"; exit 1; }
for n in S1 S2; do
	var=LAB_AGENT_$n
	kill -KILL "${!var}"
	wait "${!var}" 2>/dev/null	# no "Killed" job message
	rc=$?
	printf -v "$var" '%s' ""
	lab_ok "SIGKILL: $n's agent died of SIGKILL ($rc)" [ "$rc" -eq 137 ]
	lab_ok "SIGKILL: $n's table inet pmtud is gone (owner flag)" eventually no_table $n
	lab_ok "SIGKILL: $n's $LAB_INPUT group $GROUP is unbound" eventually group_unbound $n $GROUP
done
t0=${EPOCHREALTIME/./}
start_agents
rc=$?
t1=${EPOCHREALTIME/./}
lab_ok "restart right after SIGKILL works ($(( (t1 - t0) / 1000 )) ms for both)" \
	eval "[ $rc -eq 0 ] && has_table S1 && has_table S2"
lab_flush
lab_get_many "$BOUND_MS" v4 3 v6 3
for f in v4 v6; do
	lab_ok "after the restart: $f download completes ($(lab_get_line $f 3))" \
		[ "$(lab_get_rc $f 3)" = 0 ]
done

lab_finish
