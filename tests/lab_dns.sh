#!/bin/bash
# lab_dns.sh - peers given as a host name, resolved through a real DNS
# server (src/peers_dns.c, c-ares).
#
# The lab of lab_peers.sh (S3 on another subnet; every PTB for S3's
# flows lands on S1), plus D: dnsmasq in its own namespace behind R,
# serving peers.pmtud.test (A and AAAA, TTL 2 s) from a hosts file. The
# agents' namespaces get /etc/netns/NS/resolv.conf pointing at it (ip
# netns exec binds it over /etc/resolv.conf). Proves, IPv4 and IPv6:
#  1. with only the name in their configuration, agents on S1 and S2
#     put S3's addresses in their nft peer sets, and S3's stalled
#     downloads complete (copies arrive by unicast); a name that does
#     not exist is a warning, the agent runs; the metrics count the
#     set by family and the answers by result;
#  2. the record changes: the agents follow within the TTL (the nft
#     sets, and on the wire: copies go to the new addresses only);
#  3. a shrinking answer (AAAA gone) is applied;
#  4. the DNS server black-holed: failures are counted and logged once,
#     the last set stays, downloads from S3 still complete, and the
#     agent answers SIGUSR1 within 100 ms throughout (the loop never
#     waits for DNS); when the server answers again, that is logged;
#  5. cleanup: dnsmasq and its namespace go with the lab, the
#     /etc/netns entries are removed.
set -u
# shellcheck disable=SC2016,SC2015
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

require_root
command -v dnsmasq >/dev/null || { echo "1..0 # SKIP dnsmasq not installed (dnsmasq-base)"; exit 77; }
lab_begin 300 deterministic
lab_add_s3 || { echo "Bail out! lab_add_s3 failed"; exit 1; }
lab_set_owner S3 S1 || { echo "Bail out! lab_set_owner S3 S1"; exit 1; }

NAME=peers.pmtud.test
TTL=2
DNS_ADDR=192.0.2.198
HOSTS=$LAB_DIR/dns.hosts
CONF=$LAB_DIR/empty.json
echo '{}' >"$CONF"
FAST=(--src-rate 1000 --iface-rate 1000 --peer-rate 1000 --dedup-window 0)
DNSMASQ_PID=

# D: R's port d0 192.0.2.197/30 <-> D eth0 192.0.2.198/30.
dns_up()
{
	local ns node i
	ns=$(lab_ns D)
	ip netns add "$ns" && ip -n "$ns" link set lo up || return 1
	ip -n "$(lab_ns R)" link add d0 type veth peer name eth0 netns "$ns" || return 1
	ip -n "$(lab_ns R)" addr add 192.0.2.197/30 dev d0 &&
		ip -n "$(lab_ns R)" link set d0 up &&
		ip -n "$ns" addr add $DNS_ADDR/30 dev eth0 &&
		ip -n "$ns" link set eth0 up &&
		ip -n "$ns" route add default via 192.0.2.197 || return 1
	for node in S1 S2 S3; do
		mkdir -p "/etc/netns/$(lab_ns $node)" || return 1
		lab_defer rm -rf "/etc/netns/$(lab_ns $node)"
		echo "nameserver $DNS_ADDR" >"/etc/netns/$(lab_ns $node)/resolv.conf" || return 1
	done
	: >"$HOSTS"
	# -k: foreground (the lab kills what runs in its namespaces);
	# --local: names under pmtud.test it does not know are NXDOMAIN.
	ip netns exec "$ns" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts \
		--addn-hosts="$HOSTS" --local=/pmtud.test/ --local-ttl=$TTL \
		--listen-address=$DNS_ADDR --bind-interfaces --user=root --group=root \
		--pid-file="$LAB_DIR/dnsmasq.pid" --log-facility="$LAB_DIR/dnsmasq.log" \
		</dev/null >/dev/null 2>&1 &
	DNSMASQ_PID=$!
	for i in $(seq 50); do
		lab_exec D ss -lun | grep -q "$DNS_ADDR:53 " && return 0
		sleep 0.1
	done
	return 1
}

# dns_set "ADDR NAME"...: the hosts file, then SIGHUP: dnsmasq reads it
# again and forgets its cache.
dns_set()
{
	printf '%s\n' "$@" >"$HOSTS.tmp" && mv "$HOSTS.tmp" "$HOSTS" &&
		kill -HUP "$DNSMASQ_PID"
}

agent() { lab_start_agent "$@" -c "$CONF" -i "$LAB_SEG_IF" -v --peers-refresh-min 1; }
completes() { [ "$(lab_get_rc "$1" "$2")" = 0 ]; }
# The elements of NODE's nft peer set SET (peers4, peers6), one line.
set_elems()
{
	lab_exec "$1" nft list set inet pmtud "$2" 2>/dev/null |
		sed -n 's/.*elements = { \(.*\) }.*/\1/p'
}
set_is() { [ "$(set_elems "$1" "$2")" = "$3" ]; }
# wait_ms SECONDS CMD...: poll CMD every 50 ms; print the ms waited.
wait_ms()
{
	local secs=$1 t0 now
	shift
	t0=${EPOCHREALTIME/./}
	while :; do
		now=${EPOCHREALTIME/./}
		if "$@"; then
			echo $(( (now - t0) / 1000 ))
			return 0
		fi
		[ $((now - t0)) -ge $((secs * 1000000)) ] && { echo timeout; return 1; }
		sleep 0.05
	done
}
# S3's input counters per destination address: "packets" of the rule
# whose comment is the address.
s3_rx()
{
	lab_exec S3 nft list chain inet dnslab in |
		sed -n "s/.*counter packets \([0-9]*\) .*comment \"$1\".*/\1/p"
}
s3_counters()
{
	local a
	lab_exec S3 nft delete table inet dnslab 2>/dev/null
	{
		echo 'table inet dnslab { chain in { type filter hook input priority 0; policy accept;'
		for a in 192.0.2.130 192.0.2.131; do
			echo "ip daddr $a icmp type destination-unreachable counter comment \"$a\""
		done
		for a in 2001:db8:3::3 2001:db8:3::4; do
			echo "ip6 daddr $a icmpv6 type packet-too-big counter comment \"$a\""
		done
		printf '}\n}\n'
	} | lab_exec S3 nft -f -
}
# usr1_worst NODE COUNT: SIGUSR1 the agent COUNT times, 100 ms apart;
# print the worst time until its "counters:" line appeared, in ms.
usr1_worst()
{
	local var=LAB_AGENT_$1
	python3 - "${!var}" "$LAB_DIR/agent-$1.log" "$2" <<-'PYEOF'
	import os, signal, sys, time
	pid, log, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
	worst = 0.0
	for _ in range(n):
	    size = os.path.getsize(log)
	    t0 = time.monotonic()
	    os.kill(pid, signal.SIGUSR1)
	    while time.monotonic() - t0 < 2:
	        with open(log, "rb") as f:
	            f.seek(size)
	            if b"counters: " in f.read():
	                break
	        time.sleep(0.001)
	    worst = max(worst, (time.monotonic() - t0) * 1000)
	    time.sleep(0.1)
	print("%.1f" % worst)
	PYEOF
}

dns_up || { echo "Bail out! dnsmasq in namespace D"; exit 1; }
lab_exec S3 ip addr add 192.0.2.131/26 dev eth0 &&
	lab_exec S3 ip -6 addr add 2001:db8:3::4/64 dev eth0 nodad ||
	{ echo "Bail out! S3's second addresses"; exit 1; }
s3_counters || { echo "Bail out! S3 counters"; exit 1; }
dns_set "192.0.2.130 $NAME" "2001:db8:3::3 $NAME" || { echo "Bail out! dns_set"; exit 1; }

# 1. The name alone: S3 rescued.
lab_flush
lab_ptb_reset
agent S1 --peers "$NAME,nosuch.pmtud.test" "${FAST[@]}" &&
	agent S2 --peers "$NAME" "${FAST[@]}" --metrics-file "$LAB_DIR/s2.prom" \
		--stats-interval 1 --metrics-peer-limit 1 || { echo "Bail out! agents"; exit 1; }
for n in S1 S2; do
	ms=$(wait_ms 10 eval "set_is $n peers4 192.0.2.130 && set_is $n peers6 2001:db8:3::3")
	lab_ok "$n: $NAME resolved into the nft peer sets (${ms} ms after start): $(set_elems $n peers4), $(set_elems $n peers6)" \
		[ "$ms" != timeout ]
done
lab_ok "no address in the agents' configuration ($(cat "$CONF"), --peers $NAME)" \
	eval '! grep -q "[0-9]\." "$CONF"'
lab_get_many 10000 v4 1 v6 1
for f in v4 v6; do
	n_in=$(lab_ptb_count S3 $f) n_bc=$(lab_ptb_count S3 $f bcast)
	lab_ok "$f download from S3 completes ($(lab_get_line $f 1)); S3 got $n_in copies by unicast ($n_bc broadcast)" \
		eval "completes $f 1 && [ $n_in -gt 0 ] && [ $n_bc -eq 0 ]"
done
lab_ok "a name that does not exist: one warning, the agent runs ($(grep -F 'nosuch.pmtud.test' "$LAB_DIR/agent-S1.log" | head -n 1 | cut -d' ' -f2-))" \
	eval '[ "$(grep -c "peer name nosuch.pmtud.test does not resolve" "$LAB_DIR/agent-S1.log")" = 1 ] && kill -0 "$LAB_AGENT_S1"'
line=$(lab_agent_counters S1)
lab_note "S1: $(echo "$line" | tr ' ' '\n' | grep -E '^(peers_|resolve_)' | paste -sd' ')"
lab_ok "metrics: the set by family, the answers by result" \
	eval '[ "$(lab_counter "$line" peers_ipv4)" = 1 ] && [ "$(lab_counter "$line" peers_ipv6)" = 1 ] &&
	      [ "$(lab_counter "$line" resolve_changed)" -ge 1 ] && [ "$(lab_counter "$line" resolve_empty)" -ge 1 ]'

prom() { grep -F "$1 " "$LAB_DIR/s2.prom" 2>/dev/null | awk '{ print $2 }'; }
ms=$(wait_ms 5 eval '[ "$(prom "pmtud_peer_sent_total{peer=\"all\"}")" = 0 ]')
lab_ok "metrics_peer_limit 1, 2 peers: one series for all ($ms ms), the set by family in the file" \
	eval '[ "$ms" != timeout ] && [ "$(prom "pmtud_peers{family=\"ipv4\"}")" = 1 ] &&
	      [ "$(prom "pmtud_peers{family=\"ipv6\"}")" = 1 ] && ! grep -q "peer=\"192" "$LAB_DIR/s2.prom"'

# 2. The record changes: followed within the TTL.
lab_ptb_reset
s3_counters
dns_set "192.0.2.131 $NAME" "2001:db8:3::4 $NAME"
# Both agents polled together: each one's own delay.
declare -A follow=()
t0=${EPOCHREALTIME/./}
while [ ${#follow[@]} -lt 2 ] && [ $(( ${EPOCHREALTIME/./} - t0 )) -lt $(( (TTL + 5) * 1000000 )) ]; do
	for n in S1 S2; do
		[ -z "${follow[$n]:-}" ] && set_is $n peers4 192.0.2.131 && set_is $n peers6 2001:db8:3::4 &&
			follow[$n]=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
	done
	sleep 0.05
done
for n in S1 S2; do
	ms=${follow[$n]:-timeout}
	lab_ok "$n follows the changed record in $ms ms (TTL ${TTL} s; + 1 s for the query on a loaded machine)" \
		eval "[ '$ms' != timeout ] && [ '$ms' -le $((TTL * 1000 + 1000)) ]"
done
lab_send_ptb E v4 10 vary=1 >/dev/null && lab_send_ptb E v6 10 vary=1 >/dev/null
lab_agent_wait_received S1 20 >/dev/null
sleep 0.3
lab_note "on the wire at S3: .131 $(s3_rx 192.0.2.131), .130 $(s3_rx 192.0.2.130), ::4 $(s3_rx 2001:db8:3::4), ::3 $(s3_rx 2001:db8:3::3)"
lab_ok "on the wire: copies go to the new addresses only" \
	eval '[ "$(s3_rx 192.0.2.131)" -ge 10 ] && [ "$(s3_rx 2001:db8:3::4)" -ge 10 ] &&
	      [ "$(s3_rx 192.0.2.130)" = 0 ] && [ "$(s3_rx 2001:db8:3::3)" = 0 ]'

# 3. A shrinking answer is applied (servers do leave).
dns_set "192.0.2.131 $NAME"
ms=$(wait_ms $((TTL + 5)) eval "set_is S1 peers6 '' && set_is S1 peers4 192.0.2.131")
lab_ok "AAAA gone: S1's IPv6 peer set emptied in $ms ms, IPv4 kept" [ "$ms" != timeout ]
dns_set "192.0.2.131 $NAME" "2001:db8:3::4 $NAME"
ms=$(wait_ms $((TTL + 5)) eval "set_is S1 peers6 2001:db8:3::4")
lab_ok "AAAA back in $ms ms" [ "$ms" != timeout ]

# 4. The DNS server black-holed.
lab_exec D nft -f - <<-'EOF' || { echo "Bail out! black hole"; exit 1; }
table inet blackhole { chain in { type filter hook input priority 0; policy accept;
	udp dport 53 drop
	tcp dport 53 drop
}
}
EOF
fails() { [ "$(lab_counter "$(lab_agent_counters S1)" resolve_failed)" -ge "$1" ]; }
ms=$(wait_ms $((TTL + 15)) fails 1)
lab_ok "failed answer counted ${ms} ms after the black hole" [ "$ms" != timeout ]
worst=$(usr1_worst S1 30)
lab_note "SIGUSR1 while DNS is black-holed: worst answer $worst ms of 30"
lab_ok "the agent answers SIGUSR1 within 100 ms while DNS is black-holed ($worst ms)" \
	eval "[ \"\${worst%.*}\" -lt 100 ]"
ms=$(wait_ms 15 fails 2)
lab_ok "failures logged once ($(grep -c "peer name $NAME: no answer" "$LAB_DIR/agent-S1.log") line for $(lab_counter "$(lab_agent_counters S1)" resolve_failed) failures)" \
	eval '[ "$ms" != timeout ] && [ "$(grep -c "peer name $NAME: no answer" "$LAB_DIR/agent-S1.log")" = 1 ]'
lab_ok "the last set stays: $(set_elems S1 peers4), $(set_elems S1 peers6)" \
	eval 'set_is S1 peers4 192.0.2.131 && set_is S1 peers6 2001:db8:3::4'
lab_flush
lab_ptb_reset
lab_get_many 10000 v4 4 v6 4
for f in v4 v6; do
	lab_ok "DNS black-holed: $f download from S3 still completes ($(lab_get_line $f 4))" completes $f 4
done
lab_exec D nft delete table inet blackhole
ms=$(wait_ms $((TTL + 15)) grep -q "peer name $NAME answers again" "$LAB_DIR/agent-S1.log")
lab_ok "the server answers again: logged ($ms ms)" [ "$ms" != timeout ]
lab_ok "S1's agent kept running" kill -0 "$LAB_AGENT_S1"
lab_stop_agent S1
lab_stop_agent S2

# 5. Cleanup is lab_down's (D is a lab node) and lab_defer's.
lab_ok "dnsmasq runs inside namespace D only" \
	eval '[ "$(ip netns identify "$DNSMASQ_PID")" = "$(lab_ns D)" ]'
lab_finish
