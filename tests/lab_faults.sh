#!/bin/bash
# lab_faults.sh - pmtud-nf under faults, and its privileges (root).
#
#   A  a0 192.0.2.1/24  ---veth---  b0 192.0.2.2/24  B (agent, -i b0)
#
# A sends PTBs to B's MAC with AF_PACKET and captures the broadcast
# copies (python3, as tests/test_io.sh does). Proves:
#  1. least privilege: after start-up the agent, run with --user
#     nobody, holds CAP_NET_ADMIN and CAP_NET_RAW only (CapEff, CapPrm,
#     CapBnd = 0x3000; CapInh, CapAmb = 0), runs as nobody's uid and
#     says so in one line; it still forwards, and a SIGHUP reload that
#     rebinds NFLOG (new group), replaces the rules and opens the peer
#     sockets works after the drop. Started like systemd does (only the
#     two capabilities, ambient, as nobody) it starts all the same. An
#     unknown user is refused (exit 1) and leaves no table. Under
#     strace, the only file it creates, writes or renames is the
#     metrics file.
#  2. link changes while it runs (rtnetlink, src/iface_watch.c): down
#     and up, a MAC change, delete and re-create (new ifindex): the
#     agent stays up, logs each change in exactly one line, and the
#     next PTB is forwarded again, from the new MAC.
#  3. NFLOG overflow: the agent stopped (SIGSTOP) under a flood with a
#     small socket buffer counts the losses and, once continued,
#     forwards the next legitimate PTB.
#  4. NFLOG group held by another process: a second agent exits 3 with
#     one clear line and leaves no table.
#  5. soak: 10^6 PTBs from random routers and clients (tests/lab/ptbflood,
#     sendmmsg): the agent lives, its RSS grows < 1 MiB between 10^5 and
#     10^6, and the copies on the wire stay within iface_burst +
#     iface_rate x elapsed.
# Elsewhere: kill -9 leaves no table and a restart works at once
# (lab_agent.sh); table owned by another instance, exit 2, and no
# CAP_NET_ADMIN, exit 3 with nothing installed (test_rules.sh).
set -u

[ "$(id -u)" = 0 ] || { echo "lab_faults: needs root, skipped"; exit 77; }
[ "${PMTUD_SKIP_LAB:-0}" = 1 ] && { echo "lab_faults: PMTUD_SKIP_LAB=1, skipped"; exit 77; }
for t in ip nft python3 timeout setpriv; do
	command -v "$t" >/dev/null || { echo "lab_faults: $t missing, skipped"; exit 77; }
done
id nobody >/dev/null 2>&1 || { echo "lab_faults: no user nobody, skipped"; exit 77; }
PMTUD_NF=${PMTUD_NF:-${TOP_BUILDDIR:-.}/src/pmtud-nf}
FLOOD=${PTBFLOOD:-${TOP_BUILDDIR:-.}/tests/lab/ptbflood}
for f in "$PMTUD_NF" "$FLOOD"; do
	[ -x "$f" ] || { echo "lab_faults: $f not built"; exit 1; }
done
# Absolute, so they survive "ip netns exec".
PMTUD_NF=$(cd "$(dirname "$PMTUD_NF")" && pwd)/$(basename "$PMTUD_NF")
FLOOD=$(cd "$(dirname "$FLOOD")" && pwd)/$(basename "$FLOOD")

A=pmtud-$$-fa
B=pmtud-$$-fb
DIR=$(mktemp -d /tmp/lab_faults.XXXXXX)
chmod 755 "$DIR"	# the agent reads its config as nobody
PIDS=()
FAILED=0
N=0
NOBODY=$(id -u nobody)

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT
(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep 150 &
	sp=$!
	wait $sp && { echo "lab_faults: watchdog: timeout" >&2; kill -TERM $$; }
) &
PIDS+=($!)

ok() {
	local desc=$1
	shift
	N=$((N + 1))
	if "$@"; then
		echo "ok $N - $desc"
	else
		echo "not ok $N - $desc"
		FAILED=1
	fi
}
note() { echo "# $*"; }

inA() { ip netns exec "$A" "$@"; }
inB() { ip netns exec "$B" "$@"; }

# wait_for FILE REGEX SECONDS: until a line of FILE matches.
wait_for() {
	timeout "$3" bash -c 'until grep -Eq -- "$1" "$2" 2>/dev/null; do sleep 0.05; done' _ "$2" "$1"
}
# count FILE REGEX: matching lines.
count() { grep -Ec -- "$2" "$1"; }

veth() {
	ip link add a0 netns "$A" type veth peer name b0 netns "$B" &&
	inA ip link set a0 up && inB ip link set b0 up &&
	inA ip addr add 192.0.2.1/24 dev a0 && inB ip addr add 192.0.2.2/24 dev b0
}

setup() {
	ip netns add "$A" && ip netns add "$B" || return 1
	inA ip link set lo up && inB ip link set lo up && veth
}

cat >"$DIR/ptb.py" <<'EOF'
import socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ptb4(seq):
    """A PTB from router 198.51.100.1 to B, quoting B -> a client that
    differs per seq (fresh rate-limit key, never a duplicate)."""
    a = socket.inet_aton
    tcp = struct.pack("!HHI", 443, 1024 + seq % 60000, seq)
    inner = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 1500, 0x4242, 0x4000, 63, 6, 0,
                        a("192.0.2.2"), a("203.0.113.%d" % (1 + seq % 250)))
    inner = inner[:10] + struct.pack("!H", csum(inner)) + inner[12:]
    icmp = struct.pack("!BBHHH", 3, 4, 0, 0, 1280) + inner + tcp
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), seq & 0xffff, 0, 64, 1, 0,
                     a("198.51.100.1"), a("192.0.2.2"))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + icmp

def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))

def smac(b):
    return ":".join("%02x" % x for x in b)

# roundtrip IF DSTMAC SEQ: send one PTB, print the copy's source MAC.
ifname, dst, seq = sys.argv[1], sys.argv[2], int(sys.argv[3])
rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
rx.bind((ifname, 0x0800))
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
tx.bind((ifname, 0))
src = open("/sys/class/net/%s/address" % ifname).read().strip()
pkt = ptb4(seq)
tx.send(mac(dst) + mac(src) + struct.pack("!H", 0x0800) + pkt)
got = "none"
deadline = time.monotonic() + 3
while got == "none" and time.monotonic() < deadline:
    rx.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        frame, addr = rx.recvfrom(65535)
    except socket.timeout:
        break
    if addr[2] == 1 and frame[0:6] == b"\xff" * 6 and frame[14:] == pkt:
        got = "src=%s" % smac(frame[6:12])
print("echo %s" % got, flush=True)
EOF

SEQ=0
# roundtrip SEQ: one PTB from A (a fresh one per SEQ: no duplicate, a
# new rate-limit key); prints "echo src=MAC" or "echo none".
roundtrip() {
	inA timeout 10 python3 "$DIR/ptb.py" a0 "$(inB cat /sys/class/net/b0/address)" "$1"
}
forwarded_from() {
	local got
	SEQ=$((SEQ + 1))
	got=$(roundtrip $SEQ)
	[ "$got" = "echo src=$1" ] && return 0
	note "PTB $SEQ: want a copy from $1, got: $got"
	return 1
}

# counters PID LOG: SIGUSR1, then the new "counters:" line.
counters() {
	local before
	before=$(count "$2" 'counters: ')
	kill -USR1 "$1" || return 1
	timeout 5 bash -c 'until [ "$(grep -c "counters: " "$1")" -gt "$2" ]; do sleep 0.05; done' \
		_ "$2" "$before" || return 1
	grep 'counters: ' "$2" | tail -n 1
}
counter() { echo "$1" | grep -Eo "(^| )$2=[0-9]+" | cut -d= -f2; }

capbits() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
uids() { awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$1/status"; }
has_table() { inB nft list table inet "$1" >/dev/null 2>&1; }

# start_agent NAME ARGS...: the agent in B, in the background (the
# process itself: ip netns exec execs); AGENT_PID, log $DIR/NAME.log.
start_agent() {
	local name=$1
	shift
	ip netns exec "$B" "$PMTUD_NF" "$@" >"$DIR/$name.log" 2>&1 &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
	wait_for "$DIR/$name.log" ' running: ' 5
}

ok "namespaces and veth" setup || exit 1

# ---- 1. least privilege ----------------------------------------------
printf '{ "iface": ["b0"] }\n' >"$DIR/main.json"
echo '{}' >"$DIR/empty.json"
chmod 644 "$DIR/main.json" "$DIR/empty.json"
ok "agent starts with --user nobody" \
	start_agent main -c "$DIR/main.json" -v --user nobody --rcvbuf 65536
MAIN=$AGENT_PID
LOG=$DIR/main.log
for k in CapEff CapPrm CapBnd; do
	ok "$k = 0x3000 (CAP_NET_ADMIN, CAP_NET_RAW): $(capbits $MAIN $k)" \
		[ "$(capbits $MAIN $k)" = 0000000000003000 ]
done
for k in CapInh CapAmb; do
	ok "$k = 0: $(capbits $MAIN $k)" [ "$(capbits $MAIN $k)" = 0000000000000000 ]
done
ok "runs as nobody's uid (real, effective, saved, fs: $(uids $MAIN))" \
	[ "$(uids $MAIN)" = "$NOBODY $NOBODY $NOBODY $NOBODY" ]
ok "says so in one line" \
	[ "$(count "$LOG" "privileges: kept CAP_NET_ADMIN,CAP_NET_RAW; running as uid $NOBODY \(nobody\)$")" = 1 ]
BMAC=$(inB cat /sys/class/net/b0/address)
ok "forwards after the drop (copy from b0's MAC $BMAC)" forwarded_from "$BMAC"

# Reload after the drop: a new NFLOG group (bind + rules: NET_ADMIN)
# and a peer (raw sockets: NET_RAW), the file read again as nobody.
printf '{ "iface": ["b0"], "nflog_group": 34, "peers": ["192.0.2.1"] }\n' >"$DIR/main.json"
kill -HUP "$MAIN"
ok "reload after the drop applied" wait_for "$LOG" 'reload: configuration from .* applied' 5
ok "the table now logs to group 34" \
	eval "inB nft list table inet pmtud | grep -q 'group 34'"
ok "group 34 bound, 33 released" \
	inB awk '$1 == 34 { b = 1 } $1 == 33 { o = 1 } END { exit !(b && !o) }' \
	/proc/net/netfilter/nfnetlink_log
ok "relaying to the peer after the reload" wait_for "$LOG" 'relaying to 1 peer' 2
ok "forwards after the reload" forwarded_from "$BMAC"
c=$(counters "$MAIN" "$LOG")
ok "counters: reloads_ok=1, reloads_failed=0" \
	[ "$(counter "$c" reloads_ok) $(counter "$c" reloads_failed)" = "1 0" ]

# Started as systemd's unit does: nobody, only the two capabilities
# (bounding, inheritable, ambient). Dropping what it lacks is no error.
ip netns exec "$B" setpriv --reuid="$NOBODY" --regid="$(id -g nobody)" --clear-groups \
	--bounding-set=-all,+net_admin,+net_raw --inh-caps=-all,+net_admin,+net_raw \
	--ambient-caps=+net_admin,+net_raw \
	"$PMTUD_NF" -c "$DIR/empty.json" -i b0 --nflog 35 --table pmtudcaps --no-broadcast \
	>"$DIR/caps.log" 2>&1 &
CAPS=$!
PIDS+=("$CAPS")
ok "started with only CAP_NET_ADMIN and CAP_NET_RAW: runs" \
	wait_for "$DIR/caps.log" "privileges: kept CAP_NET_ADMIN,CAP_NET_RAW; running as uid $NOBODY$" 5
ok "... with CapEff 0x3000, CapInh and CapAmb 0" \
	eval "[ $(capbits $CAPS CapEff) = 0000000000003000 ] &&
	      [ $(capbits $CAPS CapInh) = 0000000000000000 ] &&
	      [ $(capbits $CAPS CapAmb) = 0000000000000000 ]"
kill -TERM $CAPS
wait $CAPS
rc=$?
ok "... SIGTERM: exit 0 ($rc), its table removed" eval "[ $rc = 0 ] && ! has_table pmtudcaps"

rc=0
inB timeout 10 "$PMTUD_NF" -c "$DIR/empty.json" -i b0 --nflog 36 --table pmtudbad \
	--user pmtud-no-such-user >"$DIR/baduser.log" 2>&1 || rc=$?
ok "unknown user: exit 1 ($rc), one error line, no table left" \
	eval "[ $rc = 1 ] && grep -q 'privileges: user pmtud-no-such-user: no such user' '$DIR/baduser.log' &&
	      [ \$(grep -c error '$DIR/baduser.log') = 1 ] && ! has_table pmtudbad"

if command -v strace >/dev/null; then
	mkdir "$DIR/mdir" && chown nobody "$DIR/mdir"
	# The agent under strace: the pmtud-nf process whose command line
	# names its table (strace's and timeout's name it too).
	straced() {
		local p
		for p in $(pgrep -x pmtud-nf); do
			grep -q pmtudstrace "/proc/$p/cmdline" 2>/dev/null && echo "$p"
		done
	}
	# Everything that can create, write, rename or remove a file.
	inB timeout -k 3 20 strace -f -qq -o "$DIR/strace.out" \
		-e trace=open,openat,openat2,creat,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,truncate,link,linkat,symlink,symlinkat \
		"$PMTUD_NF" -c "$DIR/empty.json" -i b0 --nflog 37 --table pmtudstrace --user nobody \
		--metrics-file "$DIR/mdir/m.prom" --stats-interval 1 >"$DIR/strace.log" 2>&1 &
	ST=$!
	PIDS+=("$ST")
	if wait_for "$DIR/strace.log" ' running: ' 10; then
		sleep 1.3	# one metrics write at least
		p=$(straced)
		[ -n "$p" ] && kill -HUP "$p"
		wait_for "$DIR/strace.log" 'reload: configuration' 5
		[ -n "$p" ] && kill -TERM "$p"
	fi
	wait $ST
	# Writes: O_WRONLY/O_RDWR/O_CREAT opens, and the path calls above.
	grep -E 'O_WRONLY|O_RDWR|O_CREAT|creat\(|rename|unlink|mkdir|truncate|link\(|linkat' \
		"$DIR/strace.out" | grep -v ' = -1 ' >"$DIR/writes"
	note "file writes under strace: $(wc -l <"$DIR/writes") calls"
	ok "strace: the agent ran, reloaded and stopped" \
		eval "grep -q 'reload: configuration' '$DIR/strace.log' && grep -q stopping '$DIR/strace.log'"
	ok "strace: it wrote the metrics file" grep -q "$DIR/mdir/m.prom" "$DIR/writes"
	ok "strace: no other file created, written, renamed or removed" \
		eval "! grep -v '\"$DIR/mdir/m.prom' '$DIR/writes'"
else
	note "skip: strace missing, file writes not checked"
fi

# ---- 2. link changes while running -------------------------------------
# step DESC REGEX CMD...: run CMD; REGEX must appear once more, exactly.
step() {
	local desc=$1 re=$2 before
	shift 2
	before=$(count "$LOG" "$re")
	"$@" || { ok "$desc: command" false; return; }
	ok "$desc: logged" wait_for_count "$re" $((before + 1))
	sleep 0.3	# room for a (wrong) repeated line
	ok "$desc: logged exactly once" [ "$(count "$LOG" "$re")" = $((before + 1)) ]
	ok "$desc: agent alive" kill -0 "$MAIN"
}
wait_for_count() {
	timeout 5 bash -c 'until [ "$(grep -Ec -- "$1" "$2")" -ge "$3" ]; do sleep 0.05; done' \
		_ "$1" "$LOG" "$2"
}

step "link down" 'interface b0: link down' inB ip link set b0 down
SEQ=$((SEQ + 1))
ok "link down: no copy while down" eval "[ \"\$(roundtrip $SEQ)\" = 'echo none' ]"
step "link up" 'interface b0: link up' inB ip link set b0 up
ok "link up: forwarded again" forwarded_from "$BMAC"

NEWMAC=00:00:5e:00:53:01	# RFC 7042 documentation MAC
step "MAC change" "interface b0: MAC $BMAC -> $NEWMAC" inB ip link set b0 address "$NEWMAC"
ok "MAC change: forwarded from the new MAC $NEWMAC" forwarded_from "$NEWMAC"

OLDIDX=$(inB cat /sys/class/net/b0/ifindex)
step "delete" 'interface b0 gone \(deleted\)' inB ip link del b0
c=$(counters "$MAIN" "$LOG")
sent=$(counter "$c" send_errors)
step "re-create" 'interface b0 back: ifindex [0-9]+' veth
NEWIDX=$(inB cat /sys/class/net/b0/ifindex)
BMAC2=$(inB cat /sys/class/net/b0/address)
ok "re-create: new ifindex $NEWIDX (was $OLDIDX), logged with its MAC" \
	eval "[ $NEWIDX != $OLDIDX ] && grep -q 'interface b0 back: ifindex $NEWIDX, MAC $BMAC2' '$LOG'"
ok "re-create: forwarded again, from the new interface's MAC $BMAC2" \
	eval "wait_for_count 'interface b0: link up' 2 || true; forwarded_from $BMAC2"
c=$(counters "$MAIN" "$LOG")
ok "no send attempted on the absent interface (send_errors $sent -> $(counter "$c" send_errors))" \
	[ "$(counter "$c" send_errors)" = "$sent" ]

# ---- 3. NFLOG overflow while stopped -------------------------------------
settle() {	# until the agent has read what the kernel queued
	local r1 r2
	r2=$(counter "$(counters "$MAIN" "$LOG")" received)
	while :; do
		sleep 0.3
		r1=$r2
		r2=$(counter "$(counters "$MAIN" "$LOG")" received)
		[ "$r1" = "$r2" ] && break
	done
}
c=$(counters "$MAIN" "$LOG")
lost0=$(( $(counter "$c" lost_enobufs) + $(counter "$c" seq_gaps) ))
fw0=$(counter "$c" forwarded)
kill -STOP "$MAIN"
out=$(inA timeout 20 "$FLOOD" a0 "$BMAC2" 192.0.2.2 192.0.2.2 20000 11)
note "flood while stopped: $out"
kill -CONT "$MAIN"
settle
sleep 0.3	# the queued flood took the interface's tokens: refill some
ok "overflow: forwards the next legitimate PTB" forwarded_from "$BMAC2"
c=$(counters "$MAIN" "$LOG")
lost=$(( $(counter "$c" lost_enobufs) + $(counter "$c" seq_gaps) - lost0 ))
note "overflow: lost_enobufs=$(counter "$c" lost_enobufs) seq_gaps=$(counter "$c" seq_gaps)"
ok "overflow: losses counted ($lost lost)" [ "$lost" -gt 0 ]
ok "overflow: ENOBUFS counted" [ "$(counter "$c" lost_enobufs)" -ge 1 ]
ok "overflow: forwarded counted ($fw0 -> $(counter "$c" forwarded))" \
	[ "$(counter "$c" forwarded)" -gt "$fw0" ]

# ---- 4. NFLOG group held by another process ------------------------------
rc=0
inB timeout 10 "$PMTUD_NF" -c "$DIR/empty.json" -i b0 --nflog 34 --table pmtudsecond \
	>"$DIR/second.log" 2>&1 || rc=$?
ok "group busy: exit 3 ($rc), one clear line, no table left" \
	eval "[ $rc = 3 ] && [ \$(wc -l <'$DIR/second.log') = 1 ] &&
	      grep -q 'NFLOG group 34 is already bound by another process' '$DIR/second.log' &&
	      ! has_table pmtudsecond"
ok "group busy: the first agent still runs" kill -0 "$MAIN"

# ---- 5. soak: 10^6 PTBs ---------------------------------------------------
# Copies on A's ingress: broadcast IPv4 from b0 (netdev hook: before
# anything else in A can drop them).
inA nft -f - <<EOF
table netdev faults {
	chain in {
		type filter hook ingress device a0 priority 0; policy accept;
		ether daddr ff:ff:ff:ff:ff:ff ether saddr $BMAC2 ether type ip counter
	}
}
EOF
copies() { inA nft list table netdev faults | grep -Eo 'packets [0-9]+' | awk '{ print $2 }'; }
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$MAIN/status"; }
BURST=10 RATE=10	# the defaults of iface_burst and iface_rate
t0=${EPOCHREALTIME/./}
out1=$(inA timeout 30 "$FLOOD" a0 "$BMAC2" 192.0.2.2 192.0.2.2 100000 21)
settle
rss1=$(rss VmRSS)
out2=$(inA timeout 60 "$FLOOD" a0 "$BMAC2" 192.0.2.2 192.0.2.2 900000 22)
settle
rss2=$(rss VmRSS) hwm=$(rss VmHWM)
t1=${EPOCHREALTIME/./}
n=$(copies)
ms=$(( (t1 - t0) / 1000 ))
cap=$(( BURST + RATE * (ms + 999) / 1000 ))
c=$(counters "$MAIN" "$LOG")
note "soak: $out1; $out2"
note "soak: VmRSS ${rss1} kB after 10^5, ${rss2} kB after 10^6 (VmHWM ${hwm} kB)"
note "soak: ${n} copies in ${ms} ms (cap ${cap}); ${c#*counters: }"
ok "soak: agent alive" kill -0 "$MAIN"
ok "soak: RSS growth < 1 MiB between 10^5 and 10^6 ($((rss2 - rss1)) kB)" \
	[ $((rss2 - rss1)) -lt 1024 ]
ok "soak: copies on the wire within iface_burst + iface_rate x elapsed ($n <= $cap)" \
	[ "$n" -le "$cap" ]
ok "soak: copies went out (the flood was relayed, within limits)" [ "$n" -ge "$BURST" ]
ok "soak: forwards a legitimate PTB after the flood" \
	eval "sleep 1.1; forwarded_from $BMAC2"
kill -TERM "$MAIN"
wait "$MAIN"
rc=$?
ok "SIGTERM after everything: exit 0 ($rc), table gone" eval "[ $rc = 0 ] && ! has_table pmtud"

echo "1..$N"
[ "$FAILED" = 0 ] && exit 0
for f in "$DIR"/*.log; do
	[ -s "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }
done
exit 1
