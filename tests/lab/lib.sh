# shellcheck shell=bash
# lib.sh - network-namespace lab: a PMTU black hole behind ECMP.
# Sourced by the tests/lab_*.sh scripts (bash).
#
#   C  client        eth0 1500   198.51.100.10-41/24   2001:db8:c::10-41/64
#   |                            (one source address per flow: a learned
#   |                             PMTU is cached per client address)
#   E  edge router   c0   1280   198.51.100.1/24       2001:db8:c::1/64
#   |                r0   1500   192.0.2.1/30          2001:db8:e::1/64
#   |  (c0 is the bottleneck: 1500-byte packets towards C get a PTB,
#   |   mtu 1280; ICMP rate limits are off so every drop is reported)
#   R  ECMP router   e0   1500   192.0.2.2/30          2001:db8:e::2/64
#   |                br0  1500   203.0.113.254/24      2001:db8:1::fe/64
#   |  br0 (in R) is the server segment; ports s1, s2
#   S1 server        eth0        203.0.113.1/24        2001:db8:1::1/64
#   S2 server        eth0        203.0.113.2/24        2001:db8:1::2/64
#      both: lo holds the VIP 203.0.113.80/32 and 2001:db8:80::80/128;
#      `xfer serve` on VIP port 8080 (LAB_BYTES) and 8081 (1000 bytes,
#      fits the bottleneck: a reachability probe immune to PMTU).
#   S3 server on another subnet, only after lab_add_s3: R's port s3
#      192.0.2.129/26 2001:db8:3::fe/64 <-> S3 eth0 192.0.2.130/26
#      2001:db8:3::3/64; same VIP and servers as S1 and S2.
#
# Routing of the VIP on R:
#   deterministic  TCP to the owner (S1 by default, plain /32 route);
#                  ICMP/ICMPv6 to the VIP (ip rule ipproto, table 100)
#                  to the other server: every PTB is misdelivered.
#   multipath      one ECMP route, nexthops S1 and S2, L4 hash
#                  (fib_multipath_hash_policy=1 as hardware does: PTBs
#                  hash on their own header, not the quoted one).
#
# API (all functions return non-zero on failure; none exits but
# require_root and lab_begin):
#   require_root            exit 77 unless root, or if PMTUD_SKIP_LAB=1
#   lab_begin SECONDS [deterministic|multipath]   a lab test's opening:
#                           require_root, lab_init SECONDS, lab_up; a
#                           failed lab_up bails out (exit 1)
#   lab_init [SECONDS]      temp dir, EXIT/INT/TERM trap running
#                           lab_down, watchdog that ends the test after
#                           SECONDS (default LAB_TIMEOUT or 120). Called
#                           by lab_up if not yet done. Do not replace
#                           the EXIT trap; add cleanup with lab_defer.
#   lab_defer CMD...        run CMD at lab_down (before namespaces go)
#   lab_up [deterministic|multipath]   build the topology, start the
#                           servers, probe reachability (v4 and v6)
#   lab_down                kill everything started, delete namespaces
#   lab_ns NODE             namespace name of C, E, R, S1 or S2
#   lab_exec NODE CMD...    run CMD inside NODE's namespace
#   lab_mode deterministic|multipath   switch the VIP routing on R
#   lab_add_s3              after lab_up: add S3 (above), probe it
#   lab_node_addr NODE v4|v6   node (not VIP) address of S1, S2 or S3
#   lab_set_owner S1|S2|S3 [ICMPNODE]   deterministic variant: TCP to
#                           the VIP goes to the first, ICMP to the VIP
#                           to ICMPNODE (default: the other server;
#                           naming the owner removes the misdelivery)
#   lab_set_edge_mtu MTU    MTU of E's egress towards C (1280 = black
#                           hole for 1500-byte segments, 1500 = none)
#   lab_client_addr v4|v6 I client source address number I (0..31)
#   lab_vip v4|v6           the VIP
#   lab_get v4|v6 I TIMEOUT_MS [BYTES [PORT]]   download from the VIP
#                           with client address I; prints xfer's line
#                           ("ok N MS" / "stall N MS" / "error ..."),
#                           returns 0 ok, 1 stall, 2 error; with
#                           LAB_GET_HOLD=FILE set, a completed download
#                           stays connected after its line until FILE
#                           exists (at most TIMEOUT_MS from its start)
#   lab_flush               drop learned PMTUs (route caches), TCP
#                           metrics, and live connections to the VIP
#                           ports (ss -K) in every node
#   lab_ptb_reset           (re)install the counter table "inet lab" on
#                           E, S1 and S2 (zeroes counters)
#   lab_ptb_count NODE v4|v6 [in|bcast|out|passed]   PTBs counted on
#                           NODE: in = received (prerouting, priority
#                           -400, before any other hook; any L2 type),
#                           passed = through every prerouting hook
#                           (priority 1000),
#                           bcast = received in an L2 broadcast frame,
#                           out = emitted locally (E's PTBs)
#   lab_ptb_wait NODE v4|v6 KIND N   lab_ptb_count, polled until it
#                           reaches N (LAB_WIRE_WAIT s, default 5: a
#                           copy in flight on a loaded machine); prints
#                           the count, which may end up above N
#   lab_start_agent NODE ARGS...   run "$PMTUD_NF" ARGS in NODE's
#                           namespace in the background (log in
#                           $LAB_DIR/agent-NODE.log); wait until its
#                           NFLOG group (LAB_NFLOG_GROUP, default 33,
#                           or --nflog N in ARGS) is bound in that
#                           namespace (LAB_AGENT_WAIT whole seconds,
#                           default 5). With --input nfqueue in ARGS,
#                           or LAB_INPUT=nfqueue (which adds that flag
#                           to every agent started), it waits for its
#                           NFQUEUE (--queue N, default 33) instead.
#                           Call it in the test's shell, not in $(...).
#   lab_input_proc          the /proc/net/netfilter file listing the
#                           bindings of LAB_INPUT's kind (nfnetlink_log
#                           or nfnetlink_queue; column 1 is the group or
#                           queue, column 4 the copy mode in both)
#   lab_input_stmt N        the nft statement that feeds an agent of
#                           LAB_INPUT's kind: "log group N" or
#                           "queue num N bypass"
#   lab_input_rules_ok      true unless LAB_INPUT=nfqueue and nft cannot
#                           load a queue rule (kernel without nft_queue:
#                           the agent then falls back to xt NFQUEUE,
#                           which nft cannot express in a ruleset file)
#   lab_stop_agent NODE     SIGTERM (SIGKILL after 5 s); returns the
#                           agent's exit status
#   lab_table_packets NODE [MIN]   sum of the packets counted by the
#                           rules of the agent's table (inet pmtud) on
#                           NODE; with MIN, polls (2 s) until it is
#                           at least MIN
#   lab_agent_reload NODE   SIGHUP the agent on NODE, wait (5 s) for its
#                           answer, print that log line ("reload: ..."
#                           or the error); 1 if none came
#   lab_agent_log NODE      print the agent's log
#   lab_ok DESC CMD...      TAP-style assertion: run CMD, print
#                           "ok N - DESC" or "not ok N - DESC"
#   lab_note TEXT           print "# TEXT"
#   lab_finish              print the plan, return 1 if any failed
#   lab_pair NS_A NS_S      two extra namespaces (created here, to be
#                           deleted by the caller) joined by a veth:
#                           a0 192.0.2.2/24 2001:db8::2/64 in NS_A, s0
#                           192.0.2.1/24 2001:db8::1/64 in NS_S; prints
#                           a0's MAC (for a flooder on s0)
#
# Notes: lab_up's probe uses client address 31 (a 1000-byte answer,
# so it learns no PMTU). Background jobs started by the lab are
# disowned except agents: wait on PIDs, never with a bare `wait`,
# while an agent runs.
#
# Environment: XFER (default $TOP_BUILDDIR/tests/lab/xfer), PMTUD_NF
# (default $TOP_BUILDDIR/src/pmtud-nf),
# LAB_PFX (namespace prefix, default pm$$), LAB_BYTES (default 200000),
# LAB_INPUT (nflog, the default, or nfqueue: the agents' input).
# Every address is from a documentation prefix; nothing in the root
# namespace is touched besides creating and deleting our namespaces.

# Public (read by the tests): LAB_VIP*, LAB_PORT*, LAB_SEG_IF, ...
# shellcheck disable=SC2034
LAB_PFX=${LAB_PFX:-pm$$}
LAB_NODES="C E R S1 S2"
LAB_SERVERS="S1 S2"		# lab_add_s3 adds S3 to both
LAB_ALL_NODES="C E R S1 S2 S3 D"	# what cleanup looks for (D: lab_dns.sh)
LAB_VIP4=203.0.113.80
LAB_VIP6=2001:db8:80::80
LAB_PORT=8080
LAB_PORT_SMALL=8081
LAB_BYTES=${LAB_BYTES:-200000}
LAB_INPUT=${LAB_INPUT:-nflog}
LAB_SEG_IF=eth0			# servers' segment interface
LAB_EDGE_IF=c0			# E's bottleneck interface
LAB_NCLIENT=32
XFER=${XFER:-${TOP_BUILDDIR:-.}/tests/lab/xfer}
[ -x "${PMTUD_NF:-}" ] || PMTUD_NF=${TOP_BUILDDIR:-.}/src/pmtud-nf
LAB_DIR=
LAB_MAIN_PID=$$
LAB_WATCHDOG=
LAB_DEFERRED=()
LAB_NTEST=0
LAB_NSENTER=$(command -v nsenter)
LAB_NFAIL=0

require_root()
{
	if [ "${PMTUD_SKIP_LAB:-0}" = 1 ]; then
		echo "# SKIP: PMTUD_SKIP_LAB=1"
		exit 77
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "# SKIP: needs root (network namespaces)"
		exit 77
	fi
	if ! ip netns list >/dev/null 2>&1 || ! command -v nft >/dev/null; then
		echo "# SKIP: needs iproute2 with netns and nft"
		exit 77
	fi
}

lab_note() { echo "# $*"; }

lab_ok()
{
	local desc=$1
	shift
	LAB_NTEST=$((LAB_NTEST + 1))
	if "$@"; then
		echo "ok $LAB_NTEST - $desc"
		return 0
	fi
	echo "not ok $LAB_NTEST - $desc"
	LAB_NFAIL=$((LAB_NFAIL + 1))
	return 1
}

lab_finish()
{
	echo "1..$LAB_NTEST"
	[ "$LAB_NFAIL" -eq 0 ]
}

lab_ns()
{
	case $1 in
	C) echo "$LAB_PFX-c" ;;
	E) echo "$LAB_PFX-e" ;;
	R) echo "$LAB_PFX-r" ;;
	S1) echo "$LAB_PFX-s1" ;;
	S2) echo "$LAB_PFX-s2" ;;
	S3) echo "$LAB_PFX-s3" ;;
	D) echo "$LAB_PFX-d" ;;
	*) echo "lab: unknown node '$1'" >&2; return 1 ;;
	esac
}

# nsenter only switches the network namespace: much cheaper than
# "ip netns exec" (which also remounts /sys), and enough for ip, nft,
# ss, sysctl and /proc/net. Agents are started with "ip netns exec".
lab_exec()
{
	local ns
	ns=$(lab_ns "$1") || return 1
	shift
	if [ -n "$LAB_NSENTER" ]; then
		"$LAB_NSENTER" --net="/run/netns/$ns" -- "$@"
	else
		ip netns exec "$ns" "$@"
	fi
}

# Only our processes live in our namespaces.
lab__kill_procs()
{
	local node ns pids
	for node in $LAB_ALL_NODES; do
		ns=$(lab_ns "$node")
		[ -e "/run/netns/$ns" ] || continue
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
		[ "${#pids[@]}" -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
	done
}

# Kill every process inside our namespaces, then delete them. Safe to
# call twice and from the watchdog.
lab__destroy()
{
	local node ns pids
	lab__kill_procs
	for node in $LAB_ALL_NODES; do
		ns=$(lab_ns "$node")
		[ -e "/run/netns/$ns" ] || continue
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
		[ "${#pids[@]}" -gt 0 ] && sleep 0.2 &&
			kill -KILL "${pids[@]}" 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
}

lab_defer() { LAB_DEFERRED+=("$*"); }

lab_down()
{
	local cmd
	for cmd in "${LAB_DEFERRED[@]}"; do
		eval "$cmd" || true
	done
	LAB_DEFERRED=()
	lab__destroy
	if [ -n "$LAB_WATCHDOG" ]; then
		kill -TERM "$LAB_WATCHDOG" 2>/dev/null
		LAB_WATCHDOG=
	fi
	if [ -n "$LAB_DIR" ] && [ -z "${LAB_KEEP:-}" ]; then
		rm -rf -- "$LAB_DIR"
	fi
	LAB_DIR=
	return 0
}

lab_begin()
{
	require_root
	lab_init "$1"
	lab_up "${2:-deterministic}" || { echo "Bail out! lab_up failed"; exit 1; }
}

# shellcheck disable=SC2120
lab_init()
{
	local secs=${1:-${LAB_TIMEOUT:-120}}
	[ -n "$LAB_DIR" ] && return 0
	# One lab at a time: `make -j check` would otherwise run several
	# timing-sensitive labs on two cores at once. The lock goes with the
	# test's process (and the agents it starts, which lab_down kills).
	exec {LAB_LOCK_FD}>"${TMPDIR:-/tmp}/pmtud-nf-lab.lock"
	flock -w "${LAB_LOCK_WAIT:-1200}" "$LAB_LOCK_FD" ||
		{ echo "Bail out! $0: lab lock not acquired" >&2; exit 1; }
	LAB_DIR=$(mktemp -d "/tmp/$LAB_PFX.XXXXXX") || return 1
	trap 'lab_down' EXIT
	trap 'exit 1' INT TERM
	# The watchdog TERMs the test, whose trap cleans up. Bash runs the
	# trap only once its foreground command ends: killing what runs in
	# the lab ends it. Past a grace period, it KILLs the test and
	# cleans up itself. Its own sleep dies with it.
	(
		trap 'kill "$sp" 2>/dev/null; exit 0' TERM
		sleep "$secs" & sp=$!
		wait "$sp" || exit 0
		echo "Bail out! $0: timed out after ${secs}s" >&2
		kill -TERM "$LAB_MAIN_PID" 2>/dev/null
		lab__kill_procs
		sleep 5 & sp=$!
		wait "$sp" || exit 0
		kill -KILL "$LAB_MAIN_PID" 2>/dev/null || exit 0
		lab__destroy
		[ -n "${LAB_KEEP:-}" ] || rm -rf -- "$LAB_DIR"
		exit 0
	) >/dev/null &
	LAB_WATCHDOG=$!
	disown "$LAB_WATCHDOG"
}

lab__sysctl()
{
	local node=$1
	shift
	lab_exec "$node" sysctl -qw "$@" >/dev/null ||
		{ echo "lab: $node: sysctl $* failed" >&2; return 1; }
}

# ip -batch stops at the first failing line, which it reports.
# Extra arguments are global options (-6: batch lines cannot say it).
lab__ip()
{
	local node=$1 ns
	ns=$(lab_ns "$node") || return 1
	shift
	ip -n "$ns" "$@" -batch - || { echo "lab: $node: ip batch failed" >&2; return 1; }
}

# Best effort (deleting what may not exist): every line is tried.
lab__ip_try()
{
	local ns
	ns=$(lab_ns "$1") || return 1
	shift
	ip -n "$ns" "$@" -force -batch - >/dev/null 2>&1
	return 0
}

lab_client_addr()
{
	local i=$2
	if [ "$i" -lt 0 ] || [ "$i" -ge "$LAB_NCLIENT" ]; then
		echo "lab: client index $i out of range" >&2
		return 1
	fi
	case $1 in
	v4) echo "198.51.100.$((10 + i))" ;;
	v6) echo "2001:db8:c::$((10 + i))" ;;	# hex 10..41
	*) echo "lab: family '$1'" >&2; return 1 ;;
	esac
}

lab_vip()
{
	case $1 in
	v4) echo "$LAB_VIP4" ;;
	v6) echo "$LAB_VIP6" ;;
	*) echo "lab: family '$1'" >&2; return 1 ;;
	esac
}

lab__build_nodes()
{
	local node ns i
	for node in $LAB_NODES; do
		ns=$(lab_ns "$node")
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up || return 1
		# No DAD: addresses must be usable at once.
		lab__sysctl "$node" net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 \
			net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 || return 1
	done
	# Links are created straight inside the namespaces: no name ever
	# exists in the root namespace.
	ip -n "$(lab_ns C)" link add eth0 type veth peer name c0 netns "$(lab_ns E)" || return 1
	ip -n "$(lab_ns E)" link add r0 type veth peer name e0 netns "$(lab_ns R)" || return 1
	ip -n "$(lab_ns R)" link add s1 type veth peer name eth0 netns "$(lab_ns S1)" || return 1
	ip -n "$(lab_ns R)" link add s2 type veth peer name eth0 netns "$(lab_ns S2)" || return 1

	{
		for i in $(seq 0 $((LAB_NCLIENT - 1))); do
			echo "addr add $(lab_client_addr v4 "$i")/24 dev eth0"
			echo "addr add $(lab_client_addr v6 "$i")/64 dev eth0 nodad"
		done
		cat <<-EOF
		link set eth0 up
		route add default via 198.51.100.1
		EOF
	} | lab__ip C || return 1
	lab_exec C ip -6 route add default via 2001:db8:c::1 || return 1

	lab__sysctl E net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
		net.ipv4.icmp_msgs_per_sec=100000 \
		net.ipv4.icmp_msgs_burst=100000 || return 1
	lab__ip E <<-EOF || return 1
	link set c0 mtu 1280 up
	link set r0 up
	addr add 198.51.100.1/24 dev c0
	addr add 2001:db8:c::1/64 dev c0 nodad
	addr add 192.0.2.1/30 dev r0
	addr add 2001:db8:e::1/64 dev r0 nodad
	route add default via 192.0.2.2
	EOF
	lab_exec E ip -6 route add default via 2001:db8:e::2 || return 1

	lab__sysctl R net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv6.fib_multipath_hash_policy=1 || return 1
	lab__ip R <<-EOF || return 1
	link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	link set s1 master br0 up
	link set s2 master br0 up
	link set br0 up
	link set e0 up
	addr add 192.0.2.2/30 dev e0
	addr add 2001:db8:e::2/64 dev e0 nodad
	addr add 203.0.113.254/24 dev br0
	addr add 2001:db8:1::fe/64 dev br0 nodad
	route add 198.51.100.0/24 via 192.0.2.1
	EOF
	lab_exec R ip -6 route add 2001:db8:c::/64 via 2001:db8:e::1 || return 1

	for i in 1 2; do
		# No PLPMTUD: only PTBs may lower the PMTU. No TCP metrics
		# cache: every test starts from the same state.
		lab__sysctl "S$i" net.ipv4.tcp_mtu_probing=0 \
			net.ipv4.tcp_no_metrics_save=1 \
			net.ipv4.conf.all.arp_ignore=1 || return 1
		lab__ip "S$i" <<-EOF || return 1
		link set eth0 up
		addr add 203.0.113.$i/24 dev eth0
		addr add 2001:db8:1::$i/64 dev eth0 nodad
		addr add $LAB_VIP4/32 dev lo
		addr add $LAB_VIP6/128 dev lo nodad
		route add default via 203.0.113.254
		EOF
		lab_exec "S$i" ip -6 route add default via 2001:db8:1::fe || return 1
	done
}

# lab__start_servers [NODE...]: default S1 S2.
lab__start_servers()
{
	local node ns vip port bytes n nodes=${*:-S1 S2}
	if [ ! -x "$XFER" ]; then
		echo "lab: xfer not found at $XFER (set XFER or TOP_BUILDDIR)" >&2
		return 1
	fi
	for node in $nodes; do
		ns=$(lab_ns "$node")
		for vip in "$LAB_VIP4" "$LAB_VIP6"; do
			for port in $LAB_PORT $LAB_PORT_SMALL; do
				bytes=$LAB_BYTES
				[ "$port" = "$LAB_PORT_SMALL" ] && bytes=1000
				ip netns exec "$ns" "$XFER" serve "$vip" "$port" "$bytes" \
					</dev/null >>"$LAB_DIR/xfer-$node.log" 2>&1 &
				disown $!	# a bare `wait` in a test must not hang
			done
		done
	done
	# Four listeners per server.
	for node in $nodes; do
		for _ in $(seq 50); do
			[ "$(lab_exec "$node" ss -Hltn | wc -l)" -ge 4 ] && break
			sleep 0.1
		done
		[ "$(lab_exec "$node" ss -Hltn | wc -l)" -ge 4 ] ||
			{ echo "lab: $node: servers not listening" >&2; return 1; }
	done
}

# Counter table "inet lab": independent of the agent's own table.
lab_ptb_reset()
{
	local node
	for node in E $LAB_SERVERS; do
		# One transaction: create if missing, delete, define.
		lab_exec "$node" nft -f - <<-'EOF' || return 1
		table inet lab
		delete table inet lab
		table inet lab {
			counter ptb4 { }
			counter ptb6 { }
			counter ptb4_bcast { }
			counter ptb6_bcast { }
			counter ptb4_out { }
			counter ptb6_out { }
			counter ptb4_passed { }
			counter ptb6_passed { }
			chain pre {
				type filter hook prerouting priority -400; policy accept;
				icmp type destination-unreachable icmp code 4 meta pkttype broadcast counter name "ptb4_bcast"
				icmp type destination-unreachable icmp code 4 counter name "ptb4"
				icmpv6 type packet-too-big meta pkttype broadcast counter name "ptb6_bcast"
				icmpv6 type packet-too-big counter name "ptb6"
			}
			chain passed {
				type filter hook prerouting priority 1000; policy accept;
				icmp type destination-unreachable icmp code 4 counter name "ptb4_passed"
				icmpv6 type packet-too-big counter name "ptb6_passed"
			}
			chain out {
				type filter hook output priority -400; policy accept;
				icmp type destination-unreachable icmp code 4 counter name "ptb4_out"
				icmpv6 type packet-too-big counter name "ptb6_out"
			}
		}
		EOF
	done
}

lab_ptb_count()
{
	local node=$1 fam=${2#v} kind=${3:-in} name
	case $kind in
	in) name=ptb$fam ;;
	bcast) name=ptb${fam}_bcast ;;
	out) name=ptb${fam}_out ;;
	passed) name=ptb${fam}_passed ;;
	*) echo "lab: counter kind '$kind'" >&2; return 1 ;;
	esac
	lab_exec "$node" nft list counter inet lab "$name" |
		awk '$1 == "packets" { print $2; found = 1 } END { exit !found }'
}

lab_ptb_wait()
{
	local n i
	for i in $(seq $((${LAB_WIRE_WAIT:-5} * 10))); do
		n=$(lab_ptb_count "$1" "$2" "$3") || return 1
		[ "$n" -ge "$4" ] && break
		sleep 0.1
	done
	echo "$n"
}

lab_mode()
{
	case $1 in
	deterministic)
		lab_set_owner S1
		;;
	multipath)
		lab__ip_try R -4 <<-EOF
		rule del pref 100
		route flush table 100
		EOF
		lab__ip_try R -6 <<-EOF
		rule del pref 100
		route flush table 100
		route del $LAB_VIP6/128
		EOF
		lab__ip R -4 <<-EOF || return 1
		route replace $LAB_VIP4/32 nexthop via 203.0.113.1 dev br0 nexthop via 203.0.113.2 dev br0
		EOF
		lab__ip R -6 <<-EOF || return 1
		route add $LAB_VIP6/128 nexthop via 2001:db8:1::1 dev br0 nexthop via 2001:db8:1::2 dev br0
		EOF
		;;
	*)
		echo "lab: mode '$1'" >&2
		return 1
		;;
	esac
}

# Next hop from R to a server, for "ip route": "via ADDR dev DEV".
lab__nexthop()
{
	case $2 in
	S1|S2) echo "via $(lab_node_addr "$2" "$1") dev br0" ;;
	S3) echo "via $(lab_node_addr S3 "$1") dev s3" ;;
	*) return 1 ;;
	esac
}

lab_node_addr()
{
	case $1/$2 in
	S1/v4|S2/v4) echo "203.0.113.${1#S}" ;;
	S1/v6|S2/v6) echo "2001:db8:1::${1#S}" ;;
	S3/v4) echo 192.0.2.130 ;;
	S3/v6) echo 2001:db8:3::3 ;;
	*) echo "lab: node address '$1' '$2'" >&2; return 1 ;;
	esac
}

lab_set_owner()
{
	local own other
	case $1 in
	S1) own=1 other=2 ;;
	S2) own=2 other=1 ;;
	S3) own=3 other=1 ;;
	*) echo "lab: owner '$1'" >&2; return 1 ;;
	esac
	case ${2:-} in
	'') ;;
	S1|S2|S3) other=${2#S} ;;
	*) echo "lab: ICMP target '$2'" >&2; return 1 ;;
	esac
	lab__ip_try R -4 <<-EOF
	rule del pref 100
	EOF
	lab__ip_try R -6 <<-EOF
	rule del pref 100
	route del $LAB_VIP6/128
	EOF
	lab__ip R -4 <<-EOF || return 1
	route replace $LAB_VIP4/32 $(lab__nexthop v4 "S$own")
	route replace $LAB_VIP4/32 $(lab__nexthop v4 "S$other") table 100
	rule add pref 100 to $LAB_VIP4/32 ipproto icmp lookup 100
	EOF
	lab__ip R -6 <<-EOF
	route add $LAB_VIP6/128 $(lab__nexthop v6 "S$own")
	route replace $LAB_VIP6/128 $(lab__nexthop v6 "S$other") table 100
	rule add pref 100 to $LAB_VIP6/128 ipproto ipv6-icmp lookup 100
	EOF
}

lab_set_edge_mtu()
{
	lab_exec E ip link set dev "$LAB_EDGE_IF" mtu "$1"
}

lab_get()
{
	local fam=$1 idx=$2 ms=$3 bytes=${4:-$LAB_BYTES} port=${5:-$LAB_PORT}
	local src vip
	# No subshells: tests run dozens of these at once.
	if [ "$idx" -lt 0 ] || [ "$idx" -ge "$LAB_NCLIENT" ]; then
		echo "lab: client index $idx out of range" >&2
		return 2
	fi
	case $fam in
	v4) src=198.51.100.$((10 + idx)) vip=$LAB_VIP4 ;;
	v6) src=2001:db8:c::$((10 + idx)) vip=$LAB_VIP6 ;;
	*) echo "lab: family '$fam'" >&2; return 2 ;;
	esac
	lab_exec C "$XFER" get -s "$src" -t "$ms" ${LAB_GET_HOLD:+-k "$LAB_GET_HOLD"} \
		"$vip" "$port" "$bytes"
}

lab_flush()
{
	local node kill
	for node in $LAB_NODES; do
		# ss -K: both ends, so no socket keeps retransmitting.
		case $node in
		S*) kill="ss -K -tn '( sport = :$LAB_PORT or sport = :$LAB_PORT_SMALL )'" ;;
		C) kill="ss -K -tn '( dport = :$LAB_PORT or dport = :$LAB_PORT_SMALL )'" ;;
		*) kill=true ;;
		esac
		lab_exec "$node" sh -c "ip route flush cache && $kill >/dev/null &&
			{ ip -6 route flush cache; ip tcp_metrics flush all; } >/dev/null 2>&1
			exit 0" || { echo "lab: $node: flush failed" >&2; return 1; }
	done
}

lab_up()
{
	local mode=${1:-deterministic} fam
	lab_init || return 1
	if ! lab__build_nodes || ! lab__start_servers || ! lab_ptb_reset ||
	   ! lab_mode "$mode"; then
		echo "lab: lab_up failed" >&2
		lab__destroy
		return 1
	fi
	# A 1000-byte answer fits the bottleneck: this proves routing in
	# both directions whatever the PMTU state, without learning any.
	for fam in v4 v6; do
		if ! lab_get "$fam" $((LAB_NCLIENT - 1)) 5000 1000 $LAB_PORT_SMALL >/dev/null; then
			echo "lab: $fam probe through the lab failed" >&2
			lab__destroy
			return 1
		fi
	done
	lab_flush
}

# S3: a server on its own subnet behind R (peers relay PTBs to it).
lab_add_s3()
{
	local ns fam
	ns=$(lab_ns S3)
	ip netns add "$ns" || return 1
	LAB_NODES="$LAB_NODES S3"
	LAB_SERVERS="$LAB_SERVERS S3"
	ip -n "$ns" link set lo up || return 1
	lab__sysctl S3 net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.tcp_mtu_probing=0 net.ipv4.tcp_no_metrics_save=1 \
		net.ipv4.conf.all.arp_ignore=1 || return 1
	ip -n "$(lab_ns R)" link add s3 type veth peer name eth0 netns "$ns" || return 1
	lab__ip R <<-EOF || return 1
	link set s3 up
	addr add 192.0.2.129/26 dev s3
	addr add 2001:db8:3::fe/64 dev s3 nodad
	EOF
	lab__ip S3 <<-EOF || return 1
	link set eth0 up
	addr add 192.0.2.130/26 dev eth0
	addr add 2001:db8:3::3/64 dev eth0 nodad
	addr add $LAB_VIP4/32 dev lo
	addr add $LAB_VIP6/128 dev lo nodad
	route add default via 192.0.2.129
	EOF
	lab_exec S3 ip -6 route add default via 2001:db8:3::fe || return 1
	lab__start_servers S3 && lab_ptb_reset || return 1
	# Reachability of S3 through R, without learning a PMTU.
	lab_set_owner S3 S3 || return 1
	for fam in v4 v6; do
		lab_get "$fam" $((LAB_NCLIENT - 1)) 5000 1000 $LAB_PORT_SMALL >/dev/null ||
			{ echo "lab: $fam probe of S3 failed" >&2; return 1; }
	done
	lab_flush
}

# The input an agent started with ARGS uses: --input in ARGS, else
# LAB_INPUT.
lab__agent_input()
{
	local i=$LAB_INPUT prev='' a
	for a in "$@"; do
		case $prev in --input) i=$a ;; esac
		case $a in --input=*) i=${a#*=} ;; esac
		prev=$a
	done
	echo "$i"
}

# Its NFLOG group, or its queue with --input nfqueue.
lab__agent_group()
{
	local g=${LAB_NFLOG_GROUP:-33} flag=--nflog prev='' a
	if [ "$(lab__agent_input "$@")" = nfqueue ]; then
		g=33
		flag=--queue
	fi
	for a in "$@"; do
		[ "$prev" = "$flag" ] && g=$a
		case $a in "$flag"=*) g=${a#*=} ;; esac
		prev=$a
	done
	echo "$g"
}

lab_input_proc()
{
	case ${1:-$LAB_INPUT} in
	nfqueue) echo /proc/net/netfilter/nfnetlink_queue ;;
	*) echo /proc/net/netfilter/nfnetlink_log ;;
	esac
}

lab_input_stmt()
{
	case $LAB_INPUT in
	nfqueue) echo "queue num $1 bypass" ;;
	*) echo "log group $1" ;;
	esac
}

lab_input_rules_ok()
{
	local ns=${LAB_PFX}-qprobe rc
	[ "$LAB_INPUT" = nfqueue ] || return 0
	ip netns add "$ns" || return 1
	ip netns exec "$ns" nft -f - >/dev/null 2>&1 <<-EOF
	table inet probe {
		chain c {
			type filter hook prerouting priority 0; policy accept;
			queue num 1 bypass
		}
	}
	EOF
	rc=$?
	ip netns del "$ns"
	return $rc
}

# lab__group_bound NODE N [INPUT]: group/queue N bound in NODE's
# namespace (INPUT default LAB_INPUT).
lab__group_bound()
{
	# shellcheck disable=SC2016
	lab_exec "$1" awk -v g="$2" '$1 == g { f = 1 } END { exit !f }' \
		"$(lab_input_proc "${3:-}")" 2>/dev/null
}

lab_start_agent()
{
	local node=$1 ns pid group end input what
	shift
	ns=$(lab_ns "$node") || return 1
	if [ ! -x "${PMTUD_NF:-}" ]; then
		echo "lab: PMTUD_NF not executable: '${PMTUD_NF:-}'" >&2
		return 1
	fi
	input=$(lab__agent_input "$@")
	# LAB_INPUT runs a whole suite with NFQUEUE; an explicit --input wins.
	if [ "$input" = nfqueue ] && [ "$(LAB_INPUT=none lab__agent_input "$@")" = none ]; then
		set -- "$@" --input nfqueue
	fi
	group=$(lab__agent_group "$@")
	what="NFLOG group $group"
	[ "$input" = nfqueue ] && what="NFQUEUE $group"
	# Else the wait below would be satisfied by someone else.
	if lab__group_bound "$node" "$group" "$input"; then
		echo "lab: $node: $what is already bound" >&2
		return 1
	fi
	ip netns exec "$ns" "$PMTUD_NF" "$@" </dev/null >"$LAB_DIR/agent-$node.log" 2>&1 &
	pid=$!
	printf -v "LAB_AGENT_$node" '%s' "$pid"
	end=$(( ${EPOCHREALTIME/./} + ${LAB_AGENT_WAIT:-5} * 1000000 ))
	while [ "${EPOCHREALTIME/./}" -lt "$end" ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			echo "lab: $node: agent exited ($?) before binding $what" >&2
			lab_agent_log "$node" >&2
			printf -v "LAB_AGENT_$node" '%s' ""
			return 1
		fi
		lab__group_bound "$node" "$group" "$input" && return 0
		sleep 0.05
	done
	echo "lab: $node: $what not bound after ${LAB_AGENT_WAIT:-5}s" >&2
	lab_stop_agent "$node"
	lab_agent_log "$node" >&2
	return 1
}

lab_stop_agent()
{
	local node=$1 var pid i
	var=LAB_AGENT_$node
	pid=${!var:-}
	[ -n "$pid" ] || { echo "lab: $node: no agent running" >&2; return 1; }
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	printf -v "$var" '%s' ""
	wait "$pid"
}

lab_table_packets()
{
	local n i
	for i in $(seq 40); do
		n=$(lab_exec "$1" nft list chain inet pmtud prerouting 2>/dev/null |
			awk '{ for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) }
			     END { print s + 0 }')
		[ "$n" -ge "${2:-0}" ] && break
		sleep 0.05
	done
	echo "$n"
}

# lab__agent_ask NODE SIGNAL PATTERN: signal the agent on NODE, wait
# (5 s) for one more log line matching PATTERN, print it.
lab__agent_ask()
{
	local node=$1 var pid log n i
	var=LAB_AGENT_$node
	pid=${!var:-}
	log=$LAB_DIR/agent-$node.log
	[ -n "$pid" ] || { echo "lab: $node: no agent running" >&2; return 1; }
	n=$(grep -c "$3" "$log")
	kill "-$2" "$pid" || return 1
	for i in $(seq 100); do
		if [ "$(grep -c "$3" "$log")" -gt "$n" ]; then
			grep "$3" "$log" | tail -n 1
			return 0
		fi
		sleep 0.05
	done
	echo "lab: $node: no answer to SIG$2" >&2
	return 1
}

lab_agent_reload() { lab__agent_ask "$1" HUP 'reload'; }

lab_agent_log()
{
	[ -n "$LAB_DIR" ] && cat "$LAB_DIR/agent-$1.log" 2>/dev/null
	return 0
}

# --- Crafted PTBs and agent counters (lab_agent/limits/multipath) ---
#
#   lab_send_ptb NODE v4|v6 COUNT [KEY=VALUE...]
#			send COUNT crafted PTBs (ICMP 3/4, ICMPv6 2/0) from
#			NODE's namespace, as fast as possible; prints
#			"sent N MS". Keys (defaults: as E would send them
#			for flow VIP:8080 -> client address 0):
#			src (outer source, E's r0 address), dst (the VIP),
#			qsrc (quoted source, the VIP), qdst (quoted
#			destination, client address 0), sport (8080),
#			dport (40000), mtu (1280), vary (0; 1: the Ith
#			packet quotes qdst+I, one client address each;
#			a comma list of qdst (= 1), dport (the Ith quotes
#			client port dport+I: same rate-limit key, distinct
#			PTBs) and src (v4 only: outer source 192.0.2.X,
#			X = 4 + I mod 120: no lab node's address));
#			v4 qdst stays in its /24 (the last byte wraps).
#			pad (0: N more quoted bytes; a PTB longer than 1500
#			bytes goes out as IP fragments, from src, which
#			must then be an address of NODE), csum (ok; bad:
#			the ICMP checksum is wrong), rate (0: PTBs per
#			second, 0 as fast as possible)
#   lab_agent_counters NODE   SIGUSR1 the agent on NODE, print the
#			"counters: ..." line it logs in answer (waits 5 s)
#   lab_counter LINE KEY	value of KEY=N in such a line (0 if absent;
#			drop reasons such as port_filtered included)
#   lab_owner_count NODE SERIES	after lab_agent_counters: value of a
#			flow-owner series in NODE's last owner lines, e.g.
#			'ptb_owner_total{family="4",owner="remote"}' (0 if absent)
#   lab_agent_wait_received NODE N   ask counters until received >= N
#			(5 s); print the last line, return 1 if short
#   lab_poll SECONDS CMD...	run CMD every 50 ms until it succeeds;
#			return 1 if it has not within SECONDS
#   lab_get_many TIMEOUT_MS FAMILY INDEX [FAMILY INDEX...]
#			lab_get all the pairs at once; waits for all
#   lab_get_line FAMILY INDEX	xfer's line of that download
#   lab_get_rc FAMILY INDEX	its lab_get status (0 ok, 1 stall, 2 error)
#   lab_get_ms FAMILY INDEX	its duration in ms (xfer's last field)
#   lab_sniff NODE SECONDS OUT	record the frames of NODE's eth0 in
#			the background for SECONDS at most (call it in the
#			test's shell; lab_sniff_stop ends it and waits), one
#			line each in OUT:
#			"DIR LEN FAM FRAG BCAST SRC PTB CSUM": in or out,
#			frame length, v4/v6/-, 1 for an IP fragment, 1 if
#			sent to ff:ff:ff:ff:ff:ff, outer source, 1 for an
#			unfragmented ICMP 3/4 or ICMPv6 2/0 (no extension
#			headers), 1 if its ICMP checksum verifies (IPv6:
#			with the pseudo-header); "-" where it does not apply.
#			Returns once it listens (5 s at most).
#   lab_sniff_stop		end lab_sniff's recording, wait for it

lab_send_ptb()
{
	local node=$1 fam=$2 count=$3
	shift 3
	case $fam in
	v4|v6) ;;
	*) echo "lab: family '$fam'" >&2; return 1 ;;
	esac
	lab_exec "$node" python3 - "$fam" "$count" "$LAB_VIP4" "$LAB_VIP6" \
		"$LAB_PORT" "$@" <<-'PYEOF'
	import ipaddress, socket, struct, sys, time

	fam, count, vip4, vip6, port = sys.argv[1:6]
	v4 = fam == "v4"
	opt = {"src": "192.0.2.1" if v4 else "2001:db8:e::1",
	       "dst": vip4 if v4 else vip6, "qsrc": vip4 if v4 else vip6,
	       "qdst": "198.51.100.10" if v4 else "2001:db8:c::10",
	       "sport": port, "dport": "40000", "mtu": "1280", "vary": "0",
	       "pad": "0", "csum": "ok", "rate": "0"}
	for kv in sys.argv[6:]:
	    k, v = kv.split("=", 1)
	    if k not in opt:
	        sys.exit("lab_send_ptb: unknown key " + k)
	    opt[k] = v

	def csum(b):
	    if len(b) % 2:
	        b += b"\0"
	    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
	    while s >> 16:
	        s = (s & 0xffff) + (s >> 16)
	    return ~s & 0xffff

	def tcp(sport, dport):
	    # ACK|PSH, data offset 5: what a server's data segment looks like.
	    return struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, 0x18,
	                       65535, 0, 0)

	vary = set(opt["vary"].replace("1", "qdst").split(",")) - {"0"}
	if vary - {"qdst", "dport", "src"} or ("src" in vary and not v4):
	    sys.exit("lab_send_ptb: vary=" + opt["vary"])

	def ptb(i):
	    qdst = ipaddress.ip_address(opt["qdst"])
	    if "qdst" in vary and v4:
	        qdst = ipaddress.ip_address((int(qdst) & ~0xff) |
	                                    ((int(qdst) + i) & 0xff))
	    elif "qdst" in vary:
	        qdst += i
	    dport = int(opt["dport"])
	    if "dport" in vary:
	        dport = 1024 + (dport - 1024 + i) % 64512
	    src = opt["src"]
	    if "src" in vary:
	        src = "192.0.2.%d" % (4 + i % 120)
	    th = tcp(int(opt["sport"]), dport) + bytes(int(opt["pad"]))
	    qs = ipaddress.ip_address(opt["qsrc"]).packed
	    if v4:
	        # The quoted 1500-byte segment, DF set.
	        ih = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 1500, i & 0xffff,
	                         0x4000, 63, 6, 0, qs, qdst.packed)
	        ih = ih[:10] + struct.pack("!H", csum(ih)) + ih[12:]
	        body = ih + th
	        icmp = struct.pack("!BBHHH", 3, 4, 0, 0, int(opt["mtu"])) + body
	        icmp = icmp[:2] + struct.pack("!H", csum(icmp) ^ bad) + icmp[4:]
	        if 20 + len(icmp) > 1500:
	            return icmp		# the kernel adds the header, fragments
	        tot = 20 + len(icmp)
	        oh = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, i & 0xffff, 0,
	                         64, 1, 0,
	                         ipaddress.ip_address(src).packed,
	                         ipaddress.ip_address(opt["dst"]).packed)
	        oh = oh[:10] + struct.pack("!H", csum(oh)) + oh[12:]
	        return oh + icmp
	    ih = struct.pack("!IHBB16s16s", 6 << 28, 1460, 6, 63, qs, qdst.packed)
	    icmp = struct.pack("!BBHI", 2, 0, 0, int(opt["mtu"])) + ih + th
	    if not bad:
	        # The kernel fills in the checksum (raw ICMPv6 socket).
	        return icmp
	    # A wrong one needs the header too (IPPROTO_RAW).
	    s6, d6 = (ipaddress.ip_address(a).packed for a in (src, opt["dst"]))
	    ph = s6 + d6 + struct.pack("!I3xB", len(icmp), 58)
	    icmp = icmp[:2] + struct.pack("!H", csum(ph + icmp) ^ bad) + icmp[4:]
	    return struct.pack("!IHBB16s16s", 6 << 28, len(icmp), 58, 64,
	                       s6, d6) + icmp

	bad = 0x5555 if opt["csum"] == "bad" else 0
	if opt["csum"] not in ("ok", "bad"):
	    sys.exit("lab_send_ptb: csum=" + opt["csum"])

	pkts = [ptb(i) for i in range(int(count))]
	if v4 and pkts and pkts[0][0] != 0x45:
	    # ICMP messages only: from src, fragmented without DF.
	    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
	    s.setsockopt(socket.IPPROTO_IP, 10, 0)	# IP_MTU_DISCOVER: DONT
	    s.bind((opt["src"], 0))
	elif v4:
	    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
	elif bad:
	    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
	else:
	    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW,
	                      socket.IPPROTO_ICMPV6)
	    s.bind((opt["src"], 0))
	rate = float(opt["rate"])
	t0 = time.monotonic()
	for i, p in enumerate(pkts):
	    if rate > 0:
	        time.sleep(max(0, t0 + i / rate - time.monotonic()))
	    s.sendto(p, (opt["dst"], 0))
	print("sent %d %d" % (len(pkts), (time.monotonic() - t0) * 1000))
	PYEOF
}

lab_agent_counters() { lab__agent_ask "$1" USR1 'counters: '; }

lab_counter()
{
	local w
	for w in $1; do
		case $w in
		"$2"=*) echo "${w#*=}"; return 0 ;;
		esac
	done
	echo 0
}

lab_owner_count()
{
	local fam=pmtud_${2%%\{*} labels="{${2#*\{}" w
	for w in $(grep -F "$fam: " "$LAB_DIR/agent-$1.log" | tail -n 1); do
		case $w in
		"$labels"=*) echo "${w#"$labels"=}"; return 0 ;;
		esac
	done
	echo 0
}

lab_agent_wait_received()
{
	local node=$1 want=$2 line i
	for i in $(seq 20); do
		line=$(lab_agent_counters "$node") || return 1
		[ "$(lab_counter "$line" received)" -ge "$want" ] && break
		sleep 0.25
	done
	echo "$line"
	[ "$(lab_counter "$line" received)" -ge "$want" ]
}

lab_poll()
{
	local end=$(( ${EPOCHREALTIME/./} + $1 * 1000000 ))
	shift
	until "$@"; do
		[ "${EPOCHREALTIME/./}" -lt "$end" ] || return 1
		sleep 0.05
	done
}

lab_get_many()
{
	local ms=$1 fam idx pids=()
	shift
	while [ $# -ge 2 ]; do
		fam=$1 idx=$2
		shift 2
		{
			lab_get "$fam" "$idx" "$ms"
			echo "rc=$?"
		} >"$LAB_DIR/get.$fam.$idx" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	return 0
}

lab_get_line() { head -n 1 "$LAB_DIR/get.$1.$2"; }
lab_get_rc() { sed -n 's/^rc=//p' "$LAB_DIR/get.$1.$2"; }
lab_get_ms() { head -n 1 "$LAB_DIR/get.$1.$2" | awk '{ print $NF }'; }

# ---- minimal Debian roots (tests/systemd_boot.sh, tests/fresh.sh) --------
#   lab_debian_mirror       the Debian archive URI the host's apt uses
#                           (first deb.debian.org-style entry of
#                           /etc/apt/sources.list*), else deb.debian.org
#   lab_debian_root NAME PKG...   print the path of a cached tarball of a
#                           `mmdebstrap --variant=minbase` root of the
#                           host's suite with PKG... included, built on
#                           first use under LAB_ROOT_CACHE (default
#                           /var/cache/pmtud-nf-test) and kept: its name
#                           carries a hash of suite, mirror and packages,
#                           so a changed list builds a new one.

lab_debian_mirror()
{
	local uri
	uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's|^deb \(\[[^]]*\] \)\{0,1\}\(https\{0,1\}://[^ ]*/debian/\{0,1\}\) .*|\2|p' \
			-e 's|^URIs: *\(https\{0,1\}://[^ ]*/debian/\{0,1\}\)$|\1|p' | head -n 1)
	echo "${uri:-http://deb.debian.org/debian}"
}

lab_debian_root()
{
	local name=$1 suite mirror key tar dir=${LAB_ROOT_CACHE:-/var/cache/pmtud-nf-test}
	shift
	suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
	mirror=$(lab_debian_mirror)
	key=$(echo "$suite $mirror $*" | md5sum | cut -c1-12)
	tar=$dir/$name-$suite-$key.tar
	mkdir -p "$dir" || return 1
	(
		# One builder at a time; the others wait for its tarball.
		flock -w 900 9 || exit 1
		[ -s "$tar" ] && exit 0
		rm -f "$dir/$name-$suite-"*.tar
		# mmdebstrap picks the format from the name: keep ".tar".
		mmdebstrap --quiet --variant=minbase ${1:+--include="$(echo "$*" | tr ' ' ,)"} \
			"$suite" "$dir/.new-$name.tar" "$mirror" >"$tar.log" 2>&1 &&
			mv "$dir/.new-$name.tar" "$tar" ||
			{ tail -n 20 "$tar.log" >&2; rm -f "$dir/.new-$name.tar"; exit 1; }
	) 9>"$dir/.lock" || return 1
	echo "$tar"
}

lab_pair()
{
	local a=$1 s=$2
	ip netns add "$a" && ip netns add "$s" &&
		ip -n "$a" link add a0 type veth peer name s0 netns "$s" || return 1
	ip -n "$a" addr add 192.0.2.2/24 dev a0 &&
		ip -n "$a" addr add 2001:db8::2/64 dev a0 nodad &&
		ip -n "$s" addr add 192.0.2.1/24 dev s0 &&
		ip -n "$s" addr add 2001:db8::1/64 dev s0 nodad &&
		ip -n "$a" link set lo up && ip -n "$s" link set lo up &&
		ip -n "$a" link set a0 up && ip -n "$s" link set s0 up || return 1
	ip -n "$a" -br link show a0 | awk '{print $3}'
}

lab_sniff()
{
	local node=$1 secs=$2 out=$3 i
	rm -f "$out.stop"
	lab_exec "$node" timeout $((secs + 5)) python3 - "$secs" "$out.stop" >"$out" 2>&1 <<-'PYEOF' &
	import os, socket, struct, sys, time
	s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
	s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)	# SO_RCVBUFFORCE
	s.bind(("eth0", 3))
	s.settimeout(0.2)
	def ok(b):
	    if len(b) % 2:
	        b += b"\0"
	    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
	    while t >> 16:
	        t = (t & 0xffff) + (t >> 16)
	    return int(t == 0xffff)
	def parse(ip, et):
	    if et == 0x0800 and len(ip) >= 20:
	        hl, tot = (ip[0] & 15) * 4, struct.unpack("!H", ip[2:4])[0]
	        frag = int(struct.unpack("!H", ip[6:8])[0] & 0x3fff != 0)
	        src = socket.inet_ntop(socket.AF_INET, ip[12:16])
	        m = ip[hl:tot]
	        if frag or ip[9] != 1 or m[:2] != b"\x03\x04":
	            return "v4", frag, src, "-", "-"
	        return "v4", 0, src, 1, ok(m)
	    if et == 0x86dd and len(ip) >= 40:
	        frag = int(ip[6] == 44)
	        src = socket.inet_ntop(socket.AF_INET6, ip[8:24])
	        m = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
	        if ip[6] != 58 or m[:1] != b"\x02":
	            return "v6", frag, src, "-", "-"
	        ph = ip[8:40] + struct.pack("!IxxxB", len(m), 58)
	        return "v6", 0, src, 1, ok(ph + m)
	    return "-", "-", "-", "-", "-"
	print("ready", flush=True)
	end = time.monotonic() + float(sys.argv[1])
	while time.monotonic() < end and not os.path.exists(sys.argv[2]):
	    try:
	        f, a = s.recvfrom(65535)
	    except socket.timeout:
	        continue
	    fam, frag, src, ptb, good = parse(f[14:], struct.unpack("!H", f[12:14])[0])
	    print("out" if a[2] == socket.PACKET_OUTGOING else "in", len(f), fam,
	          frag, int(f[:6] == b"\xff" * 6), src, ptb, good, flush=True)
	PYEOF
	LAB_SNIFF_PID=$! LAB_SNIFF_OUT=$out
	for i in $(seq 50); do
		grep -q '^ready$' "$out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

lab_sniff_stop()
{
	touch "$LAB_SNIFF_OUT.stop"
	wait "$LAB_SNIFF_PID"
}
