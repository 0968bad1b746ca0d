#!/bin/bash
# test_io.sh - the kernel I/O modules on a real kernel: NFLOG input
# (input_nflog.c), the AF_PACKET broadcast forwarder (forward.c) and
# interface resolution (iface.c), driven by tests/io_driver.
#
#   A  a0 192.0.2.1/24 2001:db8::1/64  ---veth---  b0 192.0.2.2/24 2001:db8::2/64  B
#
# B logs ICMP frag-needed and ICMPv6 packet-too-big to NFLOG group 33
# (a minimal nft table loaded here: rules.c is tested elsewhere) and
# runs io_driver, which re-sends every packet as a broadcast on b0.
# A injects PTBs with AF_PACKET and captures what comes back.
#
# Proves: the group is bound with copy mode 2 / full range / timeout 0
# (queue threshold 1 is not visible from user space); a lone PTB is
# delivered with the right length, ifindex, EtherType and a 14-byte
# Ethernet header; the copy leaves B as ff:ff:ff:ff:ff:ff from b0's MAC
# with the IP packet byte-identical; a second binder fails fast with
# exit 3 and "already bound"; SIGTERM unbinds; a reader that falls
# behind counts ENOBUFS and exactly the lost packets (NFULA_SEQ);
# non-Ethernet and missing interfaces are refused; the
# drop_unicast_in_l2_multicast warning names the sysctl.
set -u

[ "$(id -u)" = 0 ] || { echo "test_io: needs root, skipped"; exit 77; }
[ "${PMTUD_SKIP_LAB:-0}" = 1 ] && { echo "test_io: PMTUD_SKIP_LAB=1, skipped"; exit 77; }
for t in ip nft python3 timeout; do
	command -v "$t" >/dev/null || { echo "test_io: $t missing, skipped"; exit 77; }
done
DRIVER=${IO_DRIVER:-${TOP_BUILDDIR:-.}/tests/io_driver}
[ -x "$DRIVER" ] || { echo "test_io: $DRIVER not built"; exit 1; }
# Absolute, so it survives "ip netns exec".
DRIVER=$(cd "$(dirname "$DRIVER")" && pwd)/$(basename "$DRIVER")

A=pmtud-$$-a
B=pmtud-$$-b
GROUP=33
DIR=$(mktemp -d /tmp/test_io.XXXXXX)
PIDS=()
FAILED=0
N=0

# Background jobs are timeout(1) processes (-k: SIGKILL 3 s after a
# TERM is ignored) or the watchdog, so these waits are bounded.
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
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
# Hard bound for the whole test, whatever hangs. Its sleep dies with it.
(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep 90 &
	sp=$!
	wait $sp && { echo "test_io: watchdog: timeout" >&2; kill -TERM $$; }
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

inA() { ip netns exec "$A" "$@"; }
inB() { ip netns exec "$B" "$@"; }

# wait_for FILE REGEX SECONDS: until a line of FILE matches.
wait_for() {
	timeout "$3" bash -c 'until grep -Eq -- "$1" "$2" 2>/dev/null; do sleep 0.05; done' _ "$2" "$1"
}

setup() {
	ip netns add "$A" && ip netns add "$B" || return 1
	ip link add a0 netns "$A" type veth peer name b0 netns "$B" || return 1
	inA ip link set lo up && inB ip link set lo up &&
	inA ip link set a0 up && inB ip link set b0 up &&
	inA ip addr add 192.0.2.1/24 dev a0 &&
	inB ip addr add 192.0.2.2/24 dev b0 &&
	inA ip addr add 2001:db8::1/64 dev a0 nodad &&
	inB ip addr add 2001:db8::2/64 dev b0 nodad || return 1
	inB nft -f - <<-EOF
	table inet iotest {
		chain pre {
			type filter hook prerouting priority -300; policy accept;
			icmp type destination-unreachable icmp code 4 log group $GROUP
			icmpv6 type packet-too-big icmpv6 code 0 log group $GROUP
		}
	}
	EOF
}

# The packet lab, run in A: builds PTBs, sends them to B's MAC through
# AF_PACKET (so the bytes are exactly ours), captures the broadcasts.
cat >"$DIR/ptb.py" <<'EOF'
import socket, struct, sys, time

ETH_P_ALL = 0x0003
PACKET_BROADCAST = 1

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ptb4(seq=0):
    a = socket.inet_aton
    tcp = struct.pack("!HHI", 80, 40000, 0x01020304 + seq)
    inner = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 1500, 0x4242, 0x4000, 63, 6, 0,
                        a("192.0.2.2"), a("198.51.100.7"))
    inner = inner[:10] + struct.pack("!H", csum(inner)) + inner[12:]
    icmp = struct.pack("!BBHHH", 3, 4, 0, 0, 1400) + inner + tcp
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0x1000 + seq, 0, 64, 1, 0,
                     a("192.0.2.1"), a("192.0.2.2"))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + icmp

def ptb6():
    a = lambda s: socket.inet_pton(socket.AF_INET6, s)
    src, dst = a("2001:db8::1"), a("2001:db8::2")
    tcp = struct.pack("!HHI", 443, 40001, 0x05060708)
    inner = struct.pack("!IHBB16s16s", 6 << 28, 1440, 6, 63, dst, a("2001:db8:1::7")) + tcp
    icmp = struct.pack("!BBHI", 2, 0, 0, 1280) + inner
    pseudo = src + dst + struct.pack("!I3xB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", csum(pseudo + icmp)) + icmp[4:]
    return struct.pack("!IHBB16s16s", 6 << 28, len(icmp), 58, 255, src, dst) + icmp

def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))

def smac(b):
    return ":".join("%02x" % x for x in b)

def tx(ifname, dst, ethertype, pkt):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    src = open("/sys/class/net/%s/address" % ifname).read().strip()
    s.send(mac(dst) + mac(src) + struct.pack("!H", ethertype) + pkt)
    s.close()

def roundtrip(ifname, dst):
    """Send one PTB per family, wait for each to come back as a broadcast."""
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind((ifname, ETH_P_ALL))
    for name, et, pkt in (("v4", 0x0800, ptb4()), ("v6", 0x86dd, ptb6())):
        tx(ifname, dst, et, pkt)
        got = "none"
        deadline = time.monotonic() + 5
        while got == "none" and time.monotonic() < deadline:
            rx.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                frame, addr = rx.recvfrom(65535)
            except socket.timeout:
                break
            if addr[2] != PACKET_BROADCAST or len(frame) < 14:
                continue
            if struct.unpack("!H", frame[12:14])[0] != et:
                continue
            if frame[14:] != pkt:
                got = "mismatch"
                continue
            got = "dst=%s src=%s" % (smac(frame[0:6]), smac(frame[6:12]))
        print("%s len=%d echo %s" % (name, len(pkt), got), flush=True)

def flood(ifname, dst, first, count):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    src = open("/sys/class/net/%s/address" % ifname).read().strip()
    for i in range(first, first + count):
        s.send(mac(dst) + mac(src) + struct.pack("!H", 0x0800) + ptb4(i))

cmd = sys.argv[1]
if cmd == "roundtrip":
    roundtrip(sys.argv[2], sys.argv[3])
elif cmd == "flood":
    flood(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
elif cmd == "len":
    print(len(ptb4() if sys.argv[2] == "v4" else ptb6()))
EOF

ok "namespaces, veth and nft log table" setup || exit 1
BMAC=$(inB cat /sys/class/net/b0/address)
BIDX=$(inB cat /sys/class/net/b0/ifindex)
V4LEN=$(python3 "$DIR/ptb.py" len v4)
V6LEN=$(python3 "$DIR/ptb.py" len v6)

# --- interface resolution errors (iface.c), before anything binds ---
inB timeout -k 3 5 "$DRIVER" -g $GROUP -f lo >"$DIR/lo.out" 2>"$DIR/lo.err"
rc=$?
ok "loopback refused with exit 1" test "$rc" = 1
ok "loopback error text" grep -q "interface lo is not Ethernet (ARPHRD type 772)" "$DIR/lo.err"
inB timeout -k 3 5 "$DRIVER" -g $GROUP -f nosuch0 >"$DIR/ns.out" 2>"$DIR/ns.err"
rc=$?
ok "missing interface refused with exit 1" test "$rc" = 1
ok "missing interface error text" grep -q "interface nosuch0: No such device" "$DIR/ns.err"

# --- bind, configure, forward ---
inB sysctl -qw net.ipv4.conf.b0.drop_unicast_in_l2_multicast=1
inB sysctl -qw net.ipv6.conf.b0.drop_unicast_in_l2_multicast=1
# Not through inB: $! must be the process itself (ip execs timeout).
ip netns exec "$B" timeout -k 3 60 "$DRIVER" -g $GROUP -f b0 >"$DIR/d1.out" 2>"$DIR/d1.err" &
D1=$!
PIDS+=($D1)
ok "io_driver binds group $GROUP" wait_for "$DIR/d1.out" "^ready group=$GROUP " 5
ok "warning names net.ipv4.conf.b0.drop_unicast_in_l2_multicast" \
	grep -q "warning: net.ipv4.conf.b0.drop_unicast_in_l2_multicast = 1" "$DIR/d1.err"
ok "warning names net.ipv6.conf.b0.drop_unicast_in_l2_multicast" \
	grep -q "warning: net.ipv6.conf.b0.drop_unicast_in_l2_multicast = 1" "$DIR/d1.err"
ok "warning says peers need the setting too (once)" \
	test "$(grep -c "every peer receiving the copies" "$DIR/d1.err")" = 1

# group portid qlen copy_mode copy_range flushtimeout use; the range
# is the largest relayable PTB, 1280 bytes (classify.h).
inB cat /proc/net/netfilter/nfnetlink_log >"$DIR/proc1"
ok "proc: group $GROUP copy mode 2, range 1280, timeout 0" \
	awk -v g=$GROUP '$1 == g && $4 == 2 && $5 == 1280 && $6 == 0 { f = 1 } END { exit !f }' "$DIR/proc1"

start=$(date +%s%N)
inB timeout -k 3 10 "$DRIVER" -g $GROUP >"$DIR/d2.out" 2>"$DIR/d2.err"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
ok "second binder exits 3" test "$rc" = 3
ok "second binder says already bound" \
	grep -q "NFLOG group $GROUP is already bound by another process (netlink portid [0-9]*, see /proc/net/netfilter/nfnetlink_log)" "$DIR/d2.err"
ok "second binder fails within 2 s (${ms} ms)" test "$ms" -lt 2000
ok "first binder still bound" kill -0 $D1

inA timeout 20 python3 "$DIR/ptb.py" roundtrip a0 "$BMAC" >"$DIR/rt.out" 2>"$DIR/rt.err"
ok "v4 PTB reported: len ifindex hwproto hwhdr, forwarded" \
	grep -qx "len=$V4LEN ifindex=$BIDX hwproto=0x0800 hwhdr=14 fwd=0" "$DIR/d1.out"
ok "v6 PTB reported: len ifindex hwproto hwhdr, forwarded" \
	grep -qx "len=$V6LEN ifindex=$BIDX hwproto=0x86dd hwhdr=14 fwd=0" "$DIR/d1.out"
ok "v4 copy: broadcast from b0's MAC, IP packet byte-identical" \
	grep -qx "v4 len=$V4LEN echo dst=ff:ff:ff:ff:ff:ff src=$BMAC" "$DIR/rt.out"
ok "v6 copy: broadcast from b0's MAC, IP packet byte-identical" \
	grep -qx "v6 len=$V6LEN echo dst=ff:ff:ff:ff:ff:ff src=$BMAC" "$DIR/rt.out"

kill -TERM $D1
wait $D1
rc=$?
ok "SIGTERM: clean exit 0" test "$rc" = 0
ok "stats: 2 received, nothing lost" \
	grep -qx "stats received=2 lost_enobufs=0 seq_gaps=0" "$DIR/d1.out"
inB cat /proc/net/netfilter/nfnetlink_log >"$DIR/proc2"
ok "proc: group $GROUP gone after close" \
	awk -v g=$GROUP '$1 == g { f = 1 } END { exit f }' "$DIR/proc2"

# --- a reader that falls behind: tiny socket buffer, paused (-p) ---
FLOOD=60
ip netns exec "$B" timeout -k 3 30 "$DRIVER" -g $GROUP -b 2048 -p >"$DIR/d3.out" 2>"$DIR/d3.err" &
D3=$!
PIDS+=($D3)
ok "paused io_driver binds" wait_for "$DIR/d3.out" "^ready" 5
inA timeout 10 python3 "$DIR/ptb.py" flood a0 "$BMAC" 0 $FLOOD
# The driver itself: timeout(1) would die of SIGUSR1, not pass it on.
kill -USR1 "$(sed -n 's/^ready .*pid=\([0-9]*\)$/\1/p' "$DIR/d3.out")"
ok "resumed io_driver reads what fitted" wait_for "$DIR/d3.out" "^len=" 5
sleep 0.3
n1=$(grep -c '^len=' "$DIR/d3.out")
# One more packet: its NFULA_SEQ reveals the loss at the tail.
inA timeout 10 python3 "$DIR/ptb.py" flood a0 "$BMAC" $FLOOD 1
ok "marker packet read" timeout 5 bash -c \
	'until [ "$(grep -c "^len=" "$1")" -gt "$2" ]; do sleep 0.05; done' _ "$DIR/d3.out" "$n1"
kill -TERM $D3
wait $D3
stats=$(grep '^stats' "$DIR/d3.out")
read -r recv lost gaps < <(echo "$stats" | sed -E 's/stats received=([0-9]+) lost_enobufs=([0-9]+) seq_gaps=([0-9]+)/\1 \2 \3/')
echo "# overflow: $stats"
ok "overflow: some packets lost" test "${recv:-0}" -lt $((FLOOD + 1))
ok "overflow: ENOBUFS counted" test "${lost:-0}" -ge 1
ok "overflow: received + seq_gaps = sent ($((FLOOD + 1)))" \
	test "$(( ${recv:-0} + ${gaps:-0} ))" = $((FLOOD + 1))

echo "1..$N"
[ "$FAILED" = 0 ] && exit 0
for f in "$DIR"/*.out "$DIR"/*.err; do
	[ -s "$f" ] && { echo "--- $f"; cat "$f"; }
done
exit 1
