#!/bin/bash
# lab_multipath.sh - pmtud-nf under ECMP with an L4 hash.
#
# Multipath namespace lab (tests/lab/lib.sh): R spreads TCP flows to
# the VIP over S1 and S2 by their ports, while every PTB from E hashes
# on E's own ICMP header and so lands on one server, P (S1 or S2,
# depending on the namespace's random hash seed). The flows owned by
# the other server "need" a relayed copy. NFLOWS concurrent downloads
# per family, each from its own client address. Proves, for IPv4 and
# IPv6 at once, that:
#  - control, no agent: exactly the flows needing a copy stall (their
#    number is read from SYN counters on the servers), the others
#    complete;
#  - pmtud-nf on S1 and S2 with its default configuration (src_key
#    flow, 1 PTB/s per router+client, 10/s per interface): all flows
#    complete within BOUND_MS;
#  - keyed on the router alone at 1 PTB/s (--src-key source --src-rate
#    1 --src-burst 1, like the original pmtud): P's agent relays at
#    most 1 + elapsed seconds copies per family, at most that many of
#    the needing flows complete, and some stall where the default
#    configuration completed them all.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 110 multipath

NFLOWS=16
STALL_MS=3000		# a download that gets its PTB takes < 100 ms
BOUND_MS=5000
CONF=$LAB_DIR/empty.json
echo '{}' >"$CONF"
# Set by run_flows, per family (some only read through ${!name}).
# shellcheck disable=SC2034
OK_v4=0 OK_v6=0 STALL_v4=0 STALL_v6=0 ERR_v4=0 ERR_v6=0 MAX_v4=0 MAX_v6=0
P_v4=none P_v6=none NEED_v4=-1 NEED_v6=-1 GET_US=0

# SYNs to the VIP port per server and family: one per flow it owns.
syn_reset()
{
	local n
	for n in S1 S2; do
		lab_exec $n nft -f - <<-EOF || return 1
		table inet labsyn
		delete table inet labsyn
		table inet labsyn {
			counter syn4 { }
			counter syn6 { }
			chain in {
				type filter hook input priority 0; policy accept;
				meta nfproto ipv4 tcp dport $LAB_PORT tcp flags & (syn | ack) == syn counter name "syn4"
				meta nfproto ipv6 tcp dport $LAB_PORT tcp flags & (syn | ack) == syn counter name "syn6"
			}
		}
		EOF
	done
}
syn_count()
{
	lab_exec "$1" nft list counter inet labsyn "syn${2#v}" |
		awk '$1 == "packets" { print $2 }'
}
direct_ptbs() { echo $(( $(lab_ptb_count "$1" "$2") - $(lab_ptb_count "$1" "$2" bcast) )); }

# Run NFLOWS downloads per family (client addresses FIRST..) with
# TIMEOUT_MS, all at once; then set, per family f: OK_f, STALL_f,
# ERR_f, MAX_f (slowest completed, ms), P_f (server that got E's PTBs
# directly), NEED_f (flows owned by the other one), and log it all;
# GET_US: how long the downloads ran (us). A stalled download ends
# with a RST, so no PTB (hence no copy) comes after that.
run_flows()
{
	local ms=$1 first=$2 label=$3 args=() f i rc t ok st er mx p need
	lab_flush
	lab_ptb_reset
	syn_reset || { echo "Bail out! SYN counters"; exit 1; }
	for f in v4 v6; do
		for i in $(seq "$first" $((first + NFLOWS - 1))); do
			args+=("$f" "$i")
		done
	done
	t=${EPOCHREALTIME/./}
	lab_get_many "$ms" "${args[@]}"
	GET_US=$(( ${EPOCHREALTIME/./} - t ))
	for f in v4 v6; do
		ok=0 st=0 er=0 mx=0
		for i in $(seq "$first" $((first + NFLOWS - 1))); do
			rc=$(lab_get_rc $f "$i")
			t=$(lab_get_ms $f "$i")
			case $rc in
			0) ok=$((ok + 1)); [ "$t" -gt "$mx" ] && mx=$t ;;
			1) st=$((st + 1)) ;;
			*) er=$((er + 1)); lab_note "$label $f flow $i: $(lab_get_line $f "$i")" ;;
			esac
		done
		if [ "$(direct_ptbs S1 $f)" -gt 0 ] && [ "$(direct_ptbs S2 $f)" -eq 0 ]; then
			p=S1 need=$(syn_count S2 $f)
		elif [ "$(direct_ptbs S2 $f)" -gt 0 ] && [ "$(direct_ptbs S1 $f)" -eq 0 ]; then
			p=S2 need=$(syn_count S1 $f)
		else
			p=none need=-1
		fi
		printf -v "OK_$f" %s $ok
		printf -v "STALL_$f" %s $st
		printf -v "ERR_$f" %s $er
		printf -v "MAX_$f" %s "$mx"
		printf -v "P_$f" %s $p
		printf -v "NEED_$f" %s "$need"
		lab_note "$label $f: $ok completed (slowest $mx ms), $st stalled, $er failed;" \
			"PTBs direct to $p; flows needing a copy: $need;" \
			"times: $(for i in $(seq "$first" $((first + NFLOWS - 1))); do
				printf '%s%s ' "$(lab_get_ms $f "$i")" \
					"$([ "$(lab_get_rc $f "$i")" = 0 ] || echo '!')"; done)"
	done
}

# Forwarded copies so far, as logged by NODE's agent.
forwarded() { lab_counter "$(lab_agent_counters "$1")" forwarded; }

# 1. Control: no agent.
run_flows "$STALL_MS" 0 "no agent"
for f in v4 v6; do
	st=STALL_$f need=NEED_$f ok=OK_$f er=ERR_$f
	lab_ok "no agent, $f: the ${!need} flows needing a relayed PTB stall (${!st}), the ${!ok} others complete" \
		eval "[ ${!need} -gt 0 ] && [ ${!st} -eq ${!need} ] && [ ${!er} -eq 0 ]"
done

# 2. Default configuration.
if ! lab_start_agent S1 -c "$CONF" -i "$LAB_SEG_IF" ||
   ! lab_start_agent S2 -c "$CONF" -i "$LAB_SEG_IF"; then
	echo "Bail out! agents did not start"
	exit 1
fi
run_flows "$BOUND_MS" 0 "default agent"
for f in v4 v6; do
	ok=OK_$f mx=MAX_$f need=NEED_$f
	lab_ok "default agent, $f: all $NFLOWS flows complete within $BOUND_MS ms (${!ok}, slowest ${!mx} ms, ${!need} needed a copy)" \
		[ "${!ok}" -eq "$NFLOWS" ]
done
lab_note "S1 $(lab_agent_counters S1 | sed 's/.*counters: //')"
lab_note "S2 $(lab_agent_counters S2 | sed 's/.*counters: //')"
lab_stop_agent S1 >/dev/null
lab_stop_agent S2 >/dev/null

# 3. Keyed on the router alone, 1 PTB/s. The comparison needs flows
# that depend on a copy: when the port hash left too few of them
# (rare), the phase is rerun with other client addresses.
SRCKEY=(--src-key source --src-rate 1 --src-burst 1)
if ! lab_start_agent S1 -c "$CONF" -i "$LAB_SEG_IF" "${SRCKEY[@]}" ||
   ! lab_start_agent S2 -c "$CONF" -i "$LAB_SEG_IF" "${SRCKEY[@]}"; then
	echo "Bail out! source-keyed agents did not start"
	exit 1
fi
declare -A fw0
for try in 1 2 3; do
	first=$(( (try - 1) * NFLOWS % (LAB_NCLIENT - NFLOWS) ))
	for n in S1 S2; do fw0[$n]=$(forwarded $n); done
	run_flows "$BOUND_MS" "$first" "source-keyed agent"
	# Each family's bucket holds 1 token at the start, gains 1/s.
	el_s=$(( (GET_US + 999999) / 1000000 ))
	[ "$NEED_v4" -ge 0 ] && [ "$NEED_v6" -ge 0 ] &&
		[ $((NEED_v4 + NEED_v6)) -ge 11 ] && break
	lab_note "only $((NEED_v4 + NEED_v6)) flows needed a copy: running again"
done
for f in v4 v6; do
	p=P_$f need=NEED_$f st=STALL_$f ok=OK_$f
	[ "${!p}" = none ] && { lab_ok "source-keyed, $f: PTBs reached one server" false; continue; }
	done_need=$(( ${!need} - ${!st} ))
	lab_ok "source-keyed, $f: only flows needing a copy stall (${!st} <= ${!need})" \
		[ "${!st}" -le "${!need}" ]
	lab_ok "source-keyed, $f: needing flows completed ($done_need) <= copies allowed in ${el_s} s (1 + $el_s)" \
		[ "$done_need" -le $((1 + el_s)) ]
done
# The counters do not split copies by family: bound their sum.
n=$P_v4
fw=$(( $(forwarded "$n") - ${fw0[$n]} ))
[ "$P_v6" != "$n" ] && [ "$P_v6" != none ] && fw=$(( fw + $(forwarded "$P_v6") - ${fw0[$P_v6]} ))
lab_ok "source-keyed: at most 1 + ${el_s} copies per family were relayed ($fw for both)" \
	[ "$fw" -le $(( 2 * (1 + el_s) )) ]
lab_ok "source-keyed: worse than the default: $((STALL_v4 + STALL_v6)) of $((2 * NFLOWS)) flows stalled for $BOUND_MS ms (default: none)" \
	[ $((STALL_v4 + STALL_v6)) -gt 0 ]

lab_finish
