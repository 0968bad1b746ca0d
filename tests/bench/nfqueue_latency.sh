#!/bin/bash
# nfqueue_latency.sh - what each input costs the PTB on its way to the
# local stack (run on demand, not part of make check; needs root).
#
#   S  s0 192.0.2.1/24  ---veth---  h0 192.0.2.2/24  H
#
# S sends COUNT ICMP frag-needed to H, one every GAP_US (no queue
# builds up). On H a raw ICMP socket with SO_TIMESTAMPNS takes, for
# each PTB, the time from its arrival (the receive timestamp, taken
# before the prerouting hook) to its delivery to H's stack (recvmsg()
# returns on the raw socket, which ICMP input feeds before its own
# handlers). Three runs, same namespaces:
#   none     no pmtud-nf
#   nflog    pmtud-nf --input nflog (its own rules: log group)
#   nfqueue  pmtud-nf --input nfqueue (its own rules: queue bypass)
# The receiver's wake-up is in every figure alike; the difference to
# "none" is what the input adds. Prints p50/p99 in microseconds, and
# their ratio and difference to "none".
#
# Usage: tests/bench/nfqueue_latency.sh [COUNT [GAP_US]]
#        (PMTUD_NF: the agent, default ./src/pmtud-nf)
set -u

COUNT=${1:-2000}
GAP_US=${2:-1000}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
PMTUD_NF=${PMTUD_NF:-./src/pmtud-nf}
[ -x "$PMTUD_NF" ] || { echo "PMTUD_NF=$PMTUD_NF: not executable" >&2; exit 1; }
PMTUD_NF=$(cd "$(dirname "$PMTUD_NF")" && pwd)/$(basename "$PMTUD_NF")
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)} ||
	{ echo "python3 missing" >&2; exit 77; }

S=pmtud-bench-$$-s
H=pmtud-bench-$$-h
TMP=$(mktemp -d)
AGENT=

cleanup() {
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	ip netns del "$H" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
die() { echo "nfqueue_latency: $*" >&2; exit 1; }

ip netns add "$S" && ip netns add "$H" || die "ip netns add"
ip -n "$H" link add h0 type veth peer name s0 netns "$S" || die veth
ip -n "$H" addr add 192.0.2.2/24 dev h0
ip -n "$S" addr add 192.0.2.1/24 dev s0
for ns in "$S" "$H"; do ip -n "$ns" link set lo up; done
ip -n "$H" link set h0 up
ip -n "$S" link set s0 up
ip netns exec "$S" ping -c 1 -W 2 192.0.2.2 >/dev/null || die "no connectivity"
echo '{}' >"$TMP/empty.json"

# Receiver on H: prints one latency (ns) per PTB, COUNT lines.
cat >"$TMP/recv.py" <<'PY'
import socket, struct, sys, time
count, limit = int(sys.argv[1]), float(sys.argv[2])
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.settimeout(limit)
print("ready", flush=True)
out = []
try:
    while len(out) < count:
        data, anc, _, addr = s.recvmsg(2048, 64)
        now = time.clock_gettime_ns(time.CLOCK_REALTIME)
        ihl = (data[0] & 15) * 4
        if addr[0] != "192.0.2.1" or data[ihl:ihl + 2] != b"\x03\x04":
            continue
        for lvl, typ, val in anc:
            if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", val[:16])
                out.append(now - (sec * 1000000000 + nsec))
except socket.timeout:
    pass
sys.stdout.write("".join("%d\n" % v for v in out))
PY

# Sender on S: COUNT PTBs, GAP_US apart, each quoting another flow.
cat >"$TMP/send.py" <<'PY'
import socket, struct, sys, time
count, gap = int(sys.argv[1]), int(sys.argv[2]) / 1e6
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
t = time.monotonic()
for i in range(count):
    udp = struct.pack("!HHHH", 443, 1024 + i % 60000, 16, 0) + b"\0" * 8
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0,
                     socket.inet_aton("192.0.2.2"), socket.inet_aton("198.51.100.%d" % (1 + i % 250)))
    msg = struct.pack("!BBHHH", 3, 4, 0, 0, 1400) + ip + udp
    s.sendto(msg[:2] + struct.pack("!H", csum(msg)) + msg[4:], ("192.0.2.2", 0))
    t += gap
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)
PY

# run MODE: one measurement; latencies in $TMP/MODE.ns
run() {
	local mode=$1 _ rpid limit
	AGENT=
	if [ "$mode" != none ]; then
		ip netns exec "$H" "$PMTUD_NF" -c "$TMP/empty.json" --dry-run -i h0 \
			--input "$mode" >"$TMP/agent-$mode.log" 2>&1 &
		AGENT=$!
		for _ in $(seq 100); do
			ip netns exec "$H" nft list table inet pmtud >/dev/null 2>&1 && break
			sleep 0.05
		done
		ip netns exec "$H" nft list table inet pmtud >/dev/null 2>&1 ||
			{ cat "$TMP/agent-$mode.log" >&2; die "$mode: agent did not start"; }
	fi
	limit=$(( COUNT * GAP_US / 1000000 + 5 ))
	ip netns exec "$H" "$PYTHON" "$TMP/recv.py" "$COUNT" "$limit" >"$TMP/$mode.out" &
	rpid=$!
	timeout 5 grep -q ready <(tail -f "$TMP/$mode.out" 2>/dev/null) || die "receiver not ready"
	ip netns exec "$S" "$PYTHON" "$TMP/send.py" "$COUNT" "$GAP_US" || die "sender failed"
	wait "$rpid"
	grep -v ready "$TMP/$mode.out" >"$TMP/$mode.ns"
	if [ -n "$AGENT" ]; then
		kill "$AGENT"
		wait "$AGENT"
		AGENT=
	fi
}

for mode in none nflog nfqueue; do
	run "$mode"
done

"$PYTHON" - "$TMP" "$COUNT" <<'PY'
import sys
tmp, count = sys.argv[1], int(sys.argv[2])
def pct(v, p):
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]
res = {}
for m in ("none", "nflog", "nfqueue"):
    v = sorted(int(x) / 1000.0 for x in open("%s/%s.ns" % (tmp, m)) if x.strip())
    res[m] = (len(v), pct(v, 50), pct(v, 99)) if v else (0, float("nan"), float("nan"))
b50, b99 = res["none"][1], res["none"][2]
print("PTB arrival -> local delivery, %d PTBs per mode (microseconds)" % count)
print("%-8s %6s %9s %9s %8s %8s %9s %9s" % ("mode", "n", "p50", "p99", "p50/none", "p99/none", "p50 +", "p99 +"))
for m in ("none", "nflog", "nfqueue"):
    n, p50, p99 = res[m]
    print("%-8s %6d %9.1f %9.1f %8.2f %8.2f %9.1f %9.1f" % (m, n, p50, p99, p50 / b50, p99 / b99, p50 - b50, p99 - b99))
PY
