#!/bin/bash
# lab_stall.sh - the problem pmtud-nf solves, reproduced without it.
#
# In the namespace lab (tests/lab/lib.sh) the edge router's egress
# towards the client has MTU 1280 and the servers send 1500-byte
# segments. Proves that:
#  - deterministic ECMP (TCP to S1, ICMP to S2): v4 and v6 downloads
#    from the VIP stall; E did emit PTBs; they all reached S2, none S1;
#    flipping the owner flips where they land;
#  - controls: the same download completes when E's MTU is 1500, and
#    when the PTBs reach the owner (so the stall is the misdelivery);
#    the owner then caches PMTU 1280 for that one client address;
#  - multipath ECMP (L4 hash): of 16 concurrent downloads from 16
#    client addresses per family, some stall and some complete.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 100 deterministic

STALL_MS=3000
NFLOWS=16

# Run lab_get for each "FAMILY INDEX" pair at once; results go to
# $LAB_DIR/get.FAMILY.INDEX as "LINE rc=N".
get_many()
{
	local fam idx pids=()
	while [ $# -ge 2 ]; do
		fam=$1 idx=$2
		shift 2
		{
			lab_get "$fam" "$idx" "$STALL_MS"
			echo "rc=$?"
		} >"$LAB_DIR/get.$fam.$idx" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
}

result() { tr '\n' ' ' <"$LAB_DIR/get.$1.$2" | sed 's/ $//'; }
is_rc() { grep -qx "rc=$3" "$LAB_DIR/get.$1.$2"; }
stalled_empty() { grep -qx "stall 0 [0-9]*" "$LAB_DIR/get.$1.$2" && is_rc "$1" "$2" 1; }

# 1. Deterministic misdelivery: flows owned by S1, PTBs routed to S2.
lab_ptb_reset
get_many v4 0 v6 0
for f in v4 v6; do
	lab_ok "$f download stalls with PTBs misdelivered ($(result $f 0))" \
		stalled_empty $f 0
	n_e=$(lab_ptb_count E $f out)
	n_s1=$(lab_ptb_count S1 $f)
	n_s2=$(lab_ptb_count S2 $f)
	lab_note "$f PTBs: emitted by E $n_e, received by S1 $n_s1, by S2 $n_s2"
	lab_ok "$f: E emitted PTBs ($n_e)" [ "$n_e" -gt 0 ]
	lab_ok "$f: PTBs landed on S2 ($n_s2)" [ "$n_s2" -gt 0 ]
	lab_ok "$f: no PTB reached the owner S1 ($n_s1)" [ "$n_s1" -eq 0 ]
done
lab_ok "S1 learned no PMTU for the stalled v4 client" \
	eval '! lab_exec S1 ip route get 198.51.100.10 | grep -q "mtu 1280"'

# 2. Flip: flows owned by S2, PTBs to S1.
lab_flush
lab_ptb_reset
lab_set_owner S2 || { echo "Bail out! lab_set_owner S2"; exit 1; }
get_many v4 1 v6 1
for f in v4 v6; do
	n_s1=$(lab_ptb_count S1 $f)
	n_s2=$(lab_ptb_count S2 $f)
	lab_ok "flipped owner: $f stalls ($(result $f 1)), PTBs on S1 $n_s1, S2 $n_s2" \
		eval "stalled_empty $f 1 && [ $n_s1 -gt 0 ] && [ $n_s2 -eq 0 ]"
done

# 3a. Control: no MTU problem, same routing, same download.
lab_flush
lab_ptb_reset
lab_set_owner S1
lab_set_edge_mtu 1500
get_many v4 2 v6 2
for f in v4 v6; do
	lab_ok "control, edge MTU 1500: $f completes ($(result $f 2))" \
		is_rc $f 2 0
	lab_ok "control, edge MTU 1500: $f needed no PTB" \
		[ "$(lab_ptb_count E $f out)" -eq 0 ]
done
lab_set_edge_mtu 1280

# 3b. Control: MTU 1280 but PTBs routed to the owner: PMTUD works.
lab_flush
lab_ptb_reset
lab_set_owner S1 S1
get_many v4 3 v6 3
for f in v4 v6; do
	lab_ok "control, PTBs to the owner: $f completes ($(result $f 3)), S1 got $(lab_ptb_count S1 $f) PTBs" \
		is_rc $f 3 0
done
lab_ok "owner S1 cached PMTU 1280 for that v4 client address only" \
	eval 'lab_exec S1 ip route get 198.51.100.13 | grep -q "mtu 1280" &&
	      ! lab_exec S1 ip route get 198.51.100.14 | grep -q "mtu 1280"'
lab_ok "owner S1 cached PMTU 1280 for that v6 client address only" \
	eval 'lab_exec S1 ip -6 route get 2001:db8:c::13 | grep -q "mtu 1280" &&
	      ! lab_exec S1 ip -6 route get 2001:db8:c::14 | grep -q "mtu 1280"'

# 4. Multipath ECMP with an L4 hash: each PTB is hashed on its own
# header, so it reaches the owner only by chance.
lab_flush
lab_ptb_reset
lab_mode multipath || { echo "Bail out! lab_mode multipath"; exit 1; }
args=()
for f in v4 v6; do
	for i in $(seq 8 $((8 + NFLOWS - 1))); do
		args+=("$f" "$i")
	done
done
get_many "${args[@]}"
for f in v4 v6; do
	n_ok=0 n_stall=0 n_err=0
	for i in $(seq 8 $((8 + NFLOWS - 1))); do
		if is_rc $f "$i" 0; then
			n_ok=$((n_ok + 1))
		elif is_rc $f "$i" 1; then
			n_stall=$((n_stall + 1))
		else
			n_err=$((n_err + 1))
			lab_note "$f flow $i: $(result $f "$i")"
		fi
	done
	lab_note "multipath $f: $NFLOWS flows: $n_ok completed, $n_stall stalled, $n_err failed;" \
		"PTBs on S1 $(lab_ptb_count S1 $f), on S2 $(lab_ptb_count S2 $f)"
	lab_ok "multipath $f: some of $NFLOWS flows stall ($n_stall)" [ "$n_stall" -gt 0 ]
	lab_ok "multipath $f: the others complete ($n_ok), none fails otherwise ($n_err)" \
		eval "[ $n_ok -gt 0 ] && [ $n_err -eq 0 ]"
done

lab_finish
