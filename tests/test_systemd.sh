#!/bin/bash
# test_systemd.sh - the systemd unit and the agent's side of it.
#
# Static (no root): the unit generated from systemd/pmtud-nf.service.in
# has every @VAR@ substituted, ExecStart/ExecStartPre in one sbindir;
# `systemd-analyze verify` accepts it (ExecStart pointed at the built
# binary, Documentation= resolved against our own man pages) and
# rejects a copy whose binary does not exist (the check can fail);
# `systemd-analyze security --offline=yes` scores it <= 2.0; the
# directives the agent relies on are there (Type, WatchdogSec,
# ExecReload, Restart, capabilities, RuntimeDirectory).
#
# Kernel (root, in a namespace): the agent run with the unit's
# credentials (a non-root uid, only CAP_NET_ADMIN and CAP_NET_RAW as
# ambient capabilities, no_new_privs: what DynamicUser= gives it) and a
# fake $NOTIFY_SOCKET: READY=1 arrives once the table is installed and
# the NFLOG group bound, with a STATUS=; with WATCHDOG_USEC set,
# WATCHDOG=1 arrives every half interval also while signals keep the
# event loop busy (no gap reaches the interval); SIGTERM gives
# STOPPING=1 and exit 0.
#
# The unit under a real systemd: tests/systemd_boot.sh.
set -u

NAME=test_systemd
BUILD=${TOP_BUILDDIR:-.}
SRC=${TOP_SRCDIR:-.}
PMTUD_NF=${PMTUD_NF:-$BUILD/src/pmtud-nf}
UNIT=$BUILD/systemd/pmtud-nf.service
MAX_SCORE=2.0
FAILED=0
N=0

ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILED=1; echo "not ok $N - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }

command -v systemd-analyze >/dev/null || { echo "$NAME: systemd-analyze missing, skipped"; exit 77; }
[ -f "$UNIT" ] || { echo "$NAME: $UNIT not built"; exit 1; }
[ -x "$PMTUD_NF" ] || { echo "$NAME: $PMTUD_NF not built"; exit 1; }
PMTUD_NF=$(cd "$(dirname "$PMTUD_NF")" && pwd)/$(basename "$PMTUD_NF")
with_systemd=0
grep -q '^#define HAVE_LIBSYSTEMD 1' "$BUILD/config.h" 2>/dev/null && with_systemd=1

DIR=$(mktemp -d /tmp/$NAME.XXXXXX)
NS=pmtud-$$-sd
AGENT=
LISTENER=
cleanup() {
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null && wait "$LISTENER" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

# ---- the generated unit ------------------------------------------------

val() { sed -n "s/^$1=//p" "$UNIT"; }
if grep -n '@[A-Za-z_]*@' "$UNIT"; then
	not_ok "every @VAR@ substituted"
else
	ok "every @VAR@ substituted"
fi
start=$(val ExecStart)
pre=$(val ExecStartPre)
check "ExecStart is an absolute path to pmtud-nf ($start)" \
	test "${start%%/pmtud-nf *}" != "$start" -a "${start:0:1}" = /
check "ExecStartPre runs --check-config --quiet with the same binary and file" \
	test "$pre" = "$start --check-config --quiet"
check "ExecReload validates, then waits for the agent's verdict (no /bin/kill)" \
	test "$(val ExecReload)" = "$start --quiet --reload \$MAINPID"
check "metrics_file's directory: RuntimeDirectory=pmtud-nf, mode 0755" \
	test "$(val RuntimeDirectory)" = pmtud-nf -a "$(val RuntimeDirectoryMode)" = 0755
check "Restart=on-failure, not after a configuration error (exit 1)" \
	test "$(val Restart)" = on-failure -a "$(val RestartPreventExitStatus)" = 1
check "capabilities: exactly CAP_NET_ADMIN CAP_NET_RAW" \
	test "$(val CapabilityBoundingSet)" = "CAP_NET_ADMIN CAP_NET_RAW" \
	-a "$(val AmbientCapabilities)" = "CAP_NET_ADMIN CAP_NET_RAW"
if [ $with_systemd = 1 ]; then
	check "libsystemd build: Type=notify, WatchdogSec=30s" \
		test "$(val Type)" = notify -a "$(val WatchdogSec)" = 30s
else
	check "build without libsystemd: Type=exec, no watchdog" \
		test "$(val Type)" = exec -a "$(val WatchdogSec)" = 0
fi

# A copy whose binary is the one just built; man pages where man finds them.
mkdir -p "$DIR/man/man8" "$DIR/man/man5"
cp "$SRC/src/pmtud-nf.8" "$DIR/man/man8/"
cp "$SRC/config/pmtud.json.5" "$DIR/man/man5/"
mkdir -p "$DIR/bad"
sed "s|^\(Exec[A-Za-z]*=\)[^ ]*/pmtud-nf|\1$PMTUD_NF|" "$UNIT" > "$DIR/pmtud-nf.service"
sed "s|^\(Exec[A-Za-z]*=\)[^ ]*/pmtud-nf|\1$DIR/missing/pmtud-nf|" "$UNIT" > "$DIR/bad/pmtud-nf.service"

if MANPATH=$DIR/man timeout 60 systemd-analyze verify "$DIR/pmtud-nf.service" > "$DIR/verify" 2>&1 &&
   ! [ -s "$DIR/verify" ]; then
	ok "systemd-analyze verify: no error, no warning"
else
	not_ok "systemd-analyze verify: $(head -c 600 "$DIR/verify")"
fi
if MANPATH=$DIR/man timeout 60 systemd-analyze verify "$DIR/bad/pmtud-nf.service" > "$DIR/verify.bad" 2>&1; then
	not_ok "systemd-analyze verify rejects a unit whose binary is missing"
else
	ok "systemd-analyze verify rejects a unit whose binary is missing"
fi

# --offline (systemd >= 250) scores the file without loading it.
timeout 60 systemd-analyze security --offline=yes "$DIR/pmtud-nf.service" > "$DIR/security" 2>&1
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$DIR/security")
if [ -z "$score" ]; then
	not_ok "systemd-analyze security --offline=yes: no score: $(tail -c 400 "$DIR/security")"
else
	echo "# systemd-analyze security exposure: $score (goal <= $MAX_SCORE)"
	grep '✗' "$DIR/security" | sed 's/^/#   /'
	check "exposure score $score <= $MAX_SCORE" \
		awk -v s="$score" -v m="$MAX_SCORE" 'BEGIN { exit !(s <= m) }'
fi

# ---- real systemd: tests/systemd_boot.sh boots one in a container -------

# ---- the agent's notify protocol, with the unit's credentials -------------------

finish() { echo "1..$N"; exit "$FAILED"; }
if [ "$(id -u)" != 0 ] || [ "${PMTUD_SKIP_LAB:-0}" = 1 ]; then
	echo "# not root or PMTUD_SKIP_LAB=1: notify/watchdog part skipped"
	finish
fi
if [ $with_systemd = 0 ]; then
	echo "# built without libsystemd: notify/watchdog part skipped"
	finish
fi
for t in ip nft python3 setpriv timeout; do
	command -v "$t" >/dev/null || { echo "# $t missing: notify/watchdog part skipped"; finish; }
done

ip netns add "$NS" || { not_ok "create namespace $NS"; finish; }
ip -n "$NS" link add sd0 type veth peer name sd1 &&
	ip -n "$NS" link set sd0 up && ip -n "$NS" link set sd1 up ||
	{ not_ok "veth in $NS"; finish; }

# The listener stands in for systemd: one line per notify field,
# "<seconds> <field>"; on READY=1 it also records whether the table and
# the NFLOG group exist at that moment.
cat > "$DIR/listen.py" <<'EOF'
import os, socket, subprocess, sys, time
path, ns, out = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)
s.settimeout(0.1)
t0 = time.monotonic()
with open(out, "w", buffering=1) as f:
    f.write("0.000 LISTENING\n")
    while time.monotonic() - t0 < 20:
        try:
            d = s.recv(4096)
        except socket.timeout:
            continue
        t = time.monotonic() - t0
        for l in d.decode().split("\n"):
            f.write("%.3f %s\n" % (t, l))
            if l == "READY=1":
                tab = subprocess.run(["ip", "netns", "exec", ns, "nft", "list",
                                      "table", "inet", "pmtud"],
                                     capture_output=True).returncode == 0
                grp = subprocess.run(["ip", "netns", "exec", ns, "cat",
                                      "/proc/net/netfilter/nfnetlink_log"],
                                     capture_output=True, text=True).stdout
                bound = any(x.split()[0] == "44" for x in grp.splitlines() if x.split())
                f.write("%.3f CHECK table=%d group=%d\n" % (t, tab, bound))
EOF
chmod 755 "$DIR"
# The unprivileged uid below must reach the binary: a build under /root
# (0700, where a clone made as root usually is) it cannot.
cp "$PMTUD_NF" "$DIR/pmtud-nf" && chmod 755 "$DIR/pmtud-nf" && PMTUD_NF=$DIR/pmtud-nf
echo '{ "iface": "sd0", "nflog_group": 44 }' > "$DIR/pmtud.json"
chmod 644 "$DIR/pmtud.json"
timeout 30 python3 "$DIR/listen.py" "$DIR/notify.sock" "$NS" "$DIR/notify.log" &
LISTENER=$!
for _ in $(seq 50); do
	[ -S "$DIR/notify.sock" ] && grep -q LISTENING "$DIR/notify.log" 2>/dev/null && break
	sleep 0.1
done

WD_USEC=600000
NOTIFY_SOCKET=$DIR/notify.sock WATCHDOG_USEC=$WD_USEC \
	timeout -k 3 25 ip netns exec "$NS" \
	setpriv --reuid=61234 --regid=61234 --clear-groups \
		--inh-caps=-all,+net_admin,+net_raw \
		--ambient-caps=-all,+net_admin,+net_raw \
		--bounding-set=-all,+net_admin,+net_raw --no-new-privs \
		"$PMTUD_NF" -c "$DIR/pmtud.json" 2> "$DIR/agent.err" &
AGENT=$!
for _ in $(seq 50); do
	grep -q " CHECK " "$DIR/notify.log" && break	# written after READY=1
	sleep 0.1
done
check "READY=1 from a non-root uid with only NET_ADMIN+NET_RAW" grep -q '^[0-9.]* READY=1$' "$DIR/notify.log"
check "at READY=1 the table exists and NFLOG group 44 is bound" \
	grep -q 'CHECK table=1 group=1' "$DIR/notify.log"
check "STATUS= names the group" grep -q '^[0-9.]* STATUS=.*group 44' "$DIR/notify.log"

# 3 s: idle for the first 1.5 s, then a SIGUSR1 every 50 ms keeps the
# event loop waking up; the kicks must keep coming either way.
sleep 1.5
# timeout(1)'s child: "ip netns exec" and setpriv exec the agent.
apid=$(pgrep -P "$AGENT" | head -1)
for _ in $(seq 30); do
	kill -USR1 "$apid" 2>/dev/null
	sleep 0.05
done
kill -TERM "$apid" 2>/dev/null
wait "$AGENT"
rc=$?
AGENT=
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
check "STOPPING=1 on SIGTERM" grep -q '^[0-9.]* STOPPING=1$' "$DIR/notify.log"

awk -v wd="$WD_USEC" '
	$2 == "READY=1" { r = $1 }
	$2 == "WATCHDOG=1" { n++; if (last != "" && $1 - last > max) max = $1 - last; last = $1 }
	$2 == "STOPPING=1" { stop = $1 }
	END {
		if (last != "" && stop - last > max) max = stop - last
		printf "# WATCHDOG_USEC=%d: %d kicks, largest gap %.3f s\n", wd, n, max
		exit !(n >= 8 && max < wd / 1e6)
	}' "$DIR/notify.log" > "$DIR/wd"
wdrc=$?
cat "$DIR/wd"
if [ $wdrc = 0 ]; then
	ok "WATCHDOG=1 at half the interval, idle and busy, no gap >= WATCHDOG_USEC"
else
	not_ok "WATCHDOG=1 at half the interval: $(cat "$DIR/wd")"
	sed 's/^/#   /' "$DIR/notify.log" | head -40
fi
check "the agent logged the watchdog interval" grep -q 'systemd watchdog: 600 ms' "$DIR/agent.err"
[ $FAILED = 0 ] || sed 's/^/#   agent: /' "$DIR/agent.err" | tail -20

# ---- the system-call filter ------------------------------------------------------

# Every system call of a whole life (start with cpu pinning, peers and a
# metrics file, SIGHUP reload, SIGUSR1, SIGTERM) must pass the unit's
# SystemCallFilter=@system-service ~@privileged, or systemd would fail it.
# The one exception is capset(2) of the privilege drop: the unit answers
# it with EPERM (SystemCallErrorNumber=EPERM), which the agent tolerates.
# strace injects exactly that EPERM, so this life is the unit's.
command -v strace >/dev/null || { echo "# strace missing: system-call part skipped"; finish; }
mkdir -m 777 "$DIR/prom"
echo '{ "iface": "sd0", "nflog_group": 44, "cpu": 0, "stats_interval": 1,
	"peers": ["192.0.2.77", "2001:db8::77"],
	"metrics_file": "'"$DIR"'/prom/pmtud.prom" }' > "$DIR/life.json"
chmod 644 "$DIR/life.json"
# strace runs inside setpriv, so only the agent sees the injected EPERM.
: > "$DIR/prom/strace"
chmod 666 "$DIR/prom/strace"
timeout -k 3 20 ip netns exec "$NS" \
	setpriv --reuid=61234 --regid=61234 --clear-groups \
		--inh-caps=-all,+net_admin,+net_raw \
		--ambient-caps=-all,+net_admin,+net_raw \
		--bounding-set=-all,+net_admin,+net_raw --no-new-privs \
	strace -f -qq -o "$DIR/prom/strace" -e inject=capset:error=EPERM \
		"$PMTUD_NF" -c "$DIR/life.json" 2> "$DIR/life.err" &
AGENT=$!
apid=
for _ in $(seq 50); do
	apid=$(pgrep -f "^$PMTUD_NF -c $DIR/life.json" | head -1)
	[ -n "$apid" ] && grep -q running "$DIR/life.err" && break
	sleep 0.1
done
sleep 1.2
kill -HUP "$apid" 2>/dev/null
sleep 1.2
kill -USR1 "$apid" 2>/dev/null
sleep 0.2
kill -TERM "$apid" 2>/dev/null
wait "$AGENT"
rc=$?
AGENT=
check "strace'd life: reload applied, metrics written, exit 0 (got $rc)" \
	test "$rc" = 0 -a -s "$DIR/prom/pmtud.prom" -a \
	"$(grep -c 'reload: configuration from' "$DIR/life.err")" = 1
# The agent's calls: from its execve on (setpriv's own come before).
sed -n "\|execve(\"$PMTUD_NF\"|,\$p" "$DIR/prom/strace" |
	sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p' | sort -u > "$DIR/calls"
cat > "$DIR/filter.py" <<'EOF'
import subprocess, sys
out = subprocess.run(["systemd-analyze", "syscall-filter"],
                     capture_output=True, text=True).stdout
groups, cur = {}, None
for l in out.splitlines():
    if l.startswith("@"):
        cur = l.strip()
        groups[cur] = []
    elif cur and l.strip() and not l.strip().startswith("#"):
        groups[cur].append(l.strip())
def expand(g):
    r = set()
    for x in groups.get(g, []):
        r |= expand(x) if x.startswith("@") else {x}
    return r
allowed = expand("@system-service") - expand("@privileged")
calls = [c for c in open(sys.argv[1]).read().split() if c != "execve"]
# capset: refused with EPERM by the unit (injected above), tolerated.
bad = sorted(set(calls) - allowed - {"capset"})
print("# %d distinct system calls: %s" % (len(calls), " ".join(calls)))
print("# outside the filter: %s" % (" ".join(bad) or "none"))
sys.exit(1 if bad or len(calls) < 10 else 0)
EOF
python3 "$DIR/filter.py" "$DIR/calls" > "$DIR/filter"
frc=$?
cat "$DIR/filter"
check "every system call is in @system-service and not in @privileged (capset refused, tolerated)" test "$frc" = 0
check "capset refused by the filter: the agent said so and kept running" \
	grep -q 'capset refused' "$DIR/life.err"
finish
