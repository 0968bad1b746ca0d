#!/bin/bash
# lab_peers.sh - relaying PTBs to peers on another subnet (src/forward_peer.c).
#
# The lab gets a third server, S3, on its own subnet behind R, holding
# the VIP too. R sends TCP for the VIP to S3 and ICMP for the VIP to
# S1, so every PTB for S3's flows lands on S1, whose broadcast copies
# never reach S3's segment. Proves, for IPv4 and IPv6:
#  1. without agents, and with broadcast-only agents on S1 and S2,
#     downloads from S3 stall;
#  2. with agents on S1 and S2 listing S3 as a peer, they complete with
#     NO agent on S3 (its kernel applies the relayed PTB), and S3 got
#     the copies as unicast; the relay sockets queue nothing;
#  3. with an agent on S3 listing S1 and S2 (agents that list each
#     other): exactly one copy per PTB, and S3 relays none (its nft rule
#     skips PTBs from peers: loop guard 2);
#  4. an agent on S3 that does not list S1 drops S1's copies as
#     dst_mismatch (loop guard 1: a copy's outer destination is S3's
#     node address, not the quoted source);
#  5. unreachable peers are counted per peer and logged once, the agent
#     keeps running and still relays to the others;
#  6. peer_rate bounds the copies sent to peers, not the broadcasts;
#  7. on the wire, the copy carries the ICMP message as received (IPv6
#     checksum recomputed and valid), TTL peer_ttl, DF (IPv4: a copy is
#     never fragmented); with
#     --no-broadcast no broadcast is sent.
set -u
# Single quotes: eval and awk expand later. A && B || bail out: intended.
# shellcheck disable=SC2016,SC2015
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 150 deterministic
lab_add_s3 || { echo "Bail out! lab_add_s3 failed"; exit 1; }
lab_set_owner S3 S1 || { echo "Bail out! lab_set_owner S3 S1"; exit 1; }

STALL_MS=3000
CONF=$LAB_DIR/empty.json
echo '{}' >"$CONF"
S3_PEERS=192.0.2.130,2001:db8:3::3
S12_PEERS=203.0.113.1,203.0.113.2,2001:db8:1::1,2001:db8:1::2
# High rate limits and no dedup (a download's PTBs are identical): every
# PTB is relayed, so copies can be counted.
FAST=(--src-rate 1000 --iface-rate 1000 --peer-rate 1000 --dedup-window 0)

agent() { lab_start_agent "$@" -c "$CONF" -i "$LAB_SEG_IF" -v; }
completes() { [ "$(lab_get_rc "$1" "$2")" = 0 ]; }
stalls() { [ "$(lab_get_rc "$1" "$2")" = 1 ]; }
# Value of KEY=N in the "peers: ..." or "peer ADDR: ..." line logged
# last on NODE (after lab_agent_counters).
peer_stat()
{
	grep -F "$2: " "$LAB_DIR/agent-$1.log" | tail -n 1 |
		tr ' ' '\n' | sed -n "s/^$3=//p"
}
# rx_queue of the raw sockets (hex) in NODE, one per line.
raw_rx() { lab_exec "$1" awk 'FNR > 1 { split($5, q, ":"); print q[2] }' /proc/net/raw /proc/net/raw6; }
raw_drops() { lab_exec "$1" awk 'FNR > 1 { s += $NF } END { print s + 0 }' /proc/net/raw /proc/net/raw6; }

# 1. The black hole, and broadcasts cannot fix it across subnets.
lab_ptb_reset
lab_get_many "$STALL_MS" v4 0 v6 0
for f in v4 v6; do
	lab_ok "no agent: $f download from S3 stalls ($(lab_get_line $f 0))" stalls $f 0
	lab_ok "no agent: $f PTBs reached S1 ($(lab_ptb_count S1 $f)), none S3" \
		eval "[ $(lab_ptb_count S1 $f) -gt 0 ] && [ $(lab_ptb_count S3 $f) -eq 0 ]"
done
lab_flush
agent S1 && agent S2 || { echo "Bail out! agents"; exit 1; }
lab_get_many "$STALL_MS" v4 1 v6 1
for f in v4 v6; do
	lab_ok "broadcast only: $f download from S3 stalls ($(lab_get_line $f 1))" stalls $f 1
done
lab_stop_agent S1; lab_stop_agent S2

# 2. S1 and S2 list S3; no agent on S3.
lab_flush
lab_ptb_reset
agent S1 --peers "$S3_PEERS" "${FAST[@]}" && agent S2 --peers "$S3_PEERS" "${FAST[@]}" ||
	{ echo "Bail out! agents with peers"; exit 1; }
lab_get_many 10000 v4 2 v6 2
for f in v4 v6; do
	lab_ok "peers, no agent on S3: $f download completes ($(lab_get_line $f 2))" completes $f 2
	n_in=$(lab_ptb_count S3 $f) n_bc=$(lab_ptb_count S3 $f bcast)
	lab_note "$f: E emitted $(lab_ptb_count E $f out), S1 got $(lab_ptb_count S1 $f) and sent $(lab_ptb_count S1 $f out) copies, S3 got $n_in ($n_bc as broadcast)"
	lab_ok "$f: S3 got the copies by unicast ($n_in, $n_bc broadcast)" \
		eval "[ $n_in -gt 0 ] && [ $n_bc -eq 0 ]"
done
lab_ok "S3's kernel learned PMTU 1280 for the v4 client" \
	eval 'lab_exec S3 ip route get 198.51.100.12 | grep -q "mtu 1280"'
lab_ok "S3's kernel learned PMTU 1280 for the v6 client" \
	eval 'lab_exec S3 ip -6 route get 2001:db8:c::12 | grep -q "mtu 1280"'
lab_agent_counters S1 >/dev/null
lab_ok "S1 counts its copies to S3 ($(grep -F 'peers: ' "$LAB_DIR/agent-S1.log" | tail -n 1))" \
	eval '[ "$(peer_stat S1 "peer 192.0.2.130" sent)" = "$(lab_ptb_count S1 v4 out)" ] &&
	      [ "$(peer_stat S1 "peer 2001:db8:3::3" sent)" = "$(lab_ptb_count S1 v6 out)" ]'
rx=$(raw_rx S1 | sort -u | paste -sd,)
lab_note "S1 relay sockets: rx_queue $rx, drops $(raw_drops S1), after $(lab_ptb_count S1 v4) + $(lab_ptb_count S1 v6) PTBs in"
lab_ok "the relay sockets queue nothing they receive (rx_queue $rx)" \
	eval '[ "$(raw_rx S1 | grep -c .)" -eq 2 ] && [ "$rx" = 00000000 ]'

# 3. Agents that list each other: one copy per PTB, none back.
lab_flush
lab_ptb_reset
agent S3 --peers "$S12_PEERS" "${FAST[@]}" || { echo "Bail out! agent S3"; exit 1; }
lab_get_many 10000 v4 3 v6 3
for f in v4 v6; do
	lab_ok "agent on S3 too: $f download completes ($(lab_get_line $f 3))" completes $f 3
	e=$(lab_ptb_count E $f out) n1=$(lab_ptb_count S1 $f) o1=$(lab_ptb_count S1 $f out)
	n3=$(lab_ptb_count S3 $f) o3=$(lab_ptb_count S3 $f out) o2=$(lab_ptb_count S2 $f out)
	lab_note "$f on the wire: E sent $e PTBs, S1 got $n1 and sent $o1 copies, S3 got $n3 and sent $o3, S2 sent $o2"
	lab_ok "$f: exactly one copy per PTB ($n1 PTBs, $o1 copies, $n3 received by S3)" \
		eval "[ $n1 -gt 0 ] && [ $o1 -eq $n1 ] && [ $n3 -eq $o1 ]"
	lab_ok "$f: S3 and S2 send nothing back ($o3, $o2)" eval "[ $o3 -eq 0 ] && [ $o2 -eq 0 ]"
done
line=$(lab_agent_counters S3)
lab_ok "S3's agent never saw its peers' copies (nft: ip saddr != peers): $(lab_counter "$line" received) received" \
	[ "$(lab_counter "$line" received)" -eq 0 ]
lab_stop_agent S3

# 4. An agent on S3 that does not list S1: the classifier stops it.
lab_flush
lab_ptb_reset
agent S3 --peers 203.0.113.2,2001:db8:1::2 || { echo "Bail out! agent S3 (S2 only)"; exit 1; }
lab_get_many 10000 v4 4 v6 4
n3=$(( $(lab_ptb_count S3 v4) + $(lab_ptb_count S3 v6) ))
line=$(lab_agent_wait_received S3 "$n3")
lab_note "S3 (peers: S2 only): $line"
lab_ok "S3 drops every copy from S1 as dst_mismatch ($n3 copies, $(lab_counter "$line" dst_mismatch) dst_mismatch)" \
	eval "[ $n3 -gt 0 ] && [ $(lab_counter "$line" dst_mismatch) -eq $n3 ] &&
	      [ $(lab_counter "$line" forwarded) -eq 0 ] &&
	      [ $(lab_ptb_count S3 v4 out) -eq 0 ] && [ $(lab_ptb_count S3 v6 out) -eq 0 ]"
for f in v4 v6; do
	lab_ok "$f still completes ($(lab_get_line $f 4))" completes $f 4
done
lab_stop_agent S3; lab_stop_agent S1; lab_stop_agent S2

# 5. Unreachable peers: counted, logged once, not fatal.
lab_flush
lab_ptb_reset
lab_exec S1 ip route add unreachable 192.0.2.200/32 &&
	lab_exec S1 ip -6 route add unreachable 2001:db8:99::1/128 ||
	{ echo "Bail out! unreachable routes"; exit 1; }
agent S1 --peers 192.0.2.200,$S3_PEERS,2001:db8:99::1 "${FAST[@]}" ||
	{ echo "Bail out! agent S1 (unreachable peers)"; exit 1; }
lab_send_ptb E v4 20 vary=1 >/dev/null && lab_send_ptb E v6 20 vary=1 >/dev/null
line=$(lab_agent_wait_received S1 40)
lab_get_many 10000 v4 5 v6 5
lab_agent_counters S1 >/dev/null
for p in 192.0.2.200 2001:db8:99::1; do
	lab_note "peer $p: $(grep -F "peer $p: sent" "$LAB_DIR/agent-S1.log" | tail -n 1 | cut -d' ' -f4-)"
	# Every PTB relayed: 20 crafted ones, plus the downloads'.
	case $p in *:*) ok=2001:db8:3::3 ;; *) ok=192.0.2.130 ;; esac
	lab_ok "unreachable peer $p: one error per PTB ($(peer_stat S1 "peer $p" errors), as many as $ok got), none sent" \
		eval "[ '$(peer_stat S1 "peer $p" errors)' -ge 20 ] &&
		      [ '$(peer_stat S1 "peer $p" errors)' = '$(peer_stat S1 "peer $ok" sent)' ] &&
		      [ '$(peer_stat S1 "peer $p" sent)' = 0 ]"
	lab_ok "unreachable peer $p: logged once in 10 s ($(grep -F "peer $p: send failed" "$LAB_DIR/agent-S1.log" | head -n 1 | cut -d' ' -f2-))" \
		[ "$(grep -cF "peer $p: send failed" "$LAB_DIR/agent-S1.log")" -eq 1 ]
done
lab_ok "the reachable peers still got every copy (v4 $(peer_stat S1 "peer 192.0.2.130" sent), v6 $(peer_stat S1 "peer 2001:db8:3::3" sent))" \
	eval '[ "$(peer_stat S1 "peer 192.0.2.130" sent)" -ge 20 ] &&
	      [ "$(peer_stat S1 "peer 2001:db8:3::3" sent)" -ge 20 ]'
for f in v4 v6; do
	lab_ok "with unreachable peers: $f download from S3 completes ($(lab_get_line $f 5))" completes $f 5
done
lab_ok "the agent keeps running" kill -0 "$LAB_AGENT_S1"
lab_stop_agent S1

# 6. The peer budget: peer_rate 5/s (bucket depth 5) against 50 PTBs.
lab_ptb_reset
agent S1 --peers 192.0.2.130 --peer-rate 5 --src-rate 1000 --iface-rate 1000 || { echo "Bail out! agent S1 (budget)"; exit 1; }
sent=$(lab_send_ptb E v4 50 vary=1)
line=$(lab_agent_wait_received S1 50)
lab_agent_counters S1 >/dev/null
ms=${sent##* }
n=$(peer_stat S1 "peer 192.0.2.130" sent) lim=$(peer_stat S1 peers limited)
max=$((5 + (ms * 5 + 999) / 1000 + 1))
lab_note "budget: 50 PTBs in $ms ms: $n copies to the peer, $lim held back, $(lab_counter "$line" forwarded) broadcasts, S3 got $(lab_ptb_count S3 v4)"
lab_ok "peer_rate 5: copies bounded by the bucket ($n in 5..$max), the rest counted ($lim)" \
	eval "[ $n -ge 5 ] && [ $n -le $max ] && [ $((n + lim)) -eq 50 ] && [ $(lab_ptb_count S3 v4) -eq $n ]"
lab_ok "peer_rate does not limit the broadcasts ($(lab_counter "$line" forwarded) of 50)" \
	[ "$(lab_counter "$line" forwarded)" -eq 50 ]
lab_stop_agent S1

# 7. On the wire: the copy carries the ICMP message as received (IPv6:
# checksum recomputed for the new addresses), TTL peer_ttl, DF set (v4;
# the sniffer prints 0 for v6, which has no such bit).
# sniff NODE OUT: first PTB arriving in NODE's namespace, as
# "family ttl df icmp-hex checksum-ok" in OUT (5 s at most).
sniff()
{
	lab_exec "$1" timeout 5 python3 - >"$2" 2>&1 <<-'PYEOF' &
	import socket, struct
	s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
	def csum(b):
	    if len(b) % 2:
	        b += b"\0"
	    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
	    while t >> 16:
	        t = (t & 0xffff) + (t >> 16)
	    return t
	while True:
	    f, a = s.recvfrom(65535)
	    if a[2] == socket.PACKET_OUTGOING:
	        continue
	    et, ip = struct.unpack("!H", f[12:14])[0], f[14:]
	    if et == 0x0800 and ip[9] == 1 and ip[(ip[0] & 15) * 4] == 3:
	        m = ip[(ip[0] & 15) * 4:struct.unpack("!H", ip[2:4])[0]]
	        print("v4", ip[8], (ip[6] >> 6) & 1, m.hex(), csum(m) == 0xffff)
	        break
	    if et == 0x86dd and ip[6] == 58 and ip[40] == 2:
	        m = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
	        ph = ip[8:40] + struct.pack("!IxxxB", len(m), 58)
	        print("v6", ip[7], 0, m.hex(), csum(ph + m) == 0xffff)
	        break
	PYEOF
	SNIFF_PIDS+=($!)
}
# The same message, checksum bytes left out.
body() { awk '{ print substr($4, 1, 4) substr($4, 9) }' "$1"; }
lab_ptb_reset
agent S1 --peers "$S3_PEERS" --peer-ttl 9 --no-broadcast "${FAST[@]}" ||
	{ echo "Bail out! agent S1 (wire)"; exit 1; }
for f in v4 v6; do
	SNIFF_PIDS=()
	sniff S1 "$LAB_DIR/wire-in.$f"
	sniff S3 "$LAB_DIR/wire-out.$f"
	sleep 0.5	# the sniffers' sockets are open
	lab_send_ptb E $f 1 >/dev/null
	wait "${SNIFF_PIDS[@]}"
	read -r _ ttl df hex ok <"$LAB_DIR/wire-out.$f"
	read -r _ _ _ hex_in _ <"$LAB_DIR/wire-in.$f"
	lab_note "$f copy at S3: ttl/hop limit $ttl, DF $df, checksum valid $ok, ${#hex} hex digits; at S1 ${#hex_in}"
	lab_ok "$f: the copy's ICMP message equals the PTB S1 received" \
		eval "[ -n '$hex' ] && [ '$(body "$LAB_DIR/wire-out.$f")' = '$(body "$LAB_DIR/wire-in.$f")' ]"
	want_df=0
	[ $f = v4 ] && want_df=1
	lab_ok "$f: checksum valid ($ok), ttl 9 - 1 hop ($ttl), DF $want_df ($df)" \
		eval "[ '$ok' = True ] && [ '$ttl' = 8 ] && [ '$df' = $want_df ]"
done
lab_ok "v4: the ICMP checksum went out unchanged" \
	[ "$(cut -d' ' -f4 "$LAB_DIR/wire-out.v4")" = "$(cut -d' ' -f4 "$LAB_DIR/wire-in.v4")" ]
lab_ok "--no-broadcast: nothing arrived as a broadcast on S2 ($(lab_ptb_count S2 v4 bcast) + $(lab_ptb_count S2 v6 bcast))" \
	eval "[ $(lab_ptb_count S2 v4 bcast) -eq 0 ] && [ $(lab_ptb_count S2 v6 bcast) -eq 0 ]"
lab_stop_agent S1

lab_finish
