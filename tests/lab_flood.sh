#!/bin/bash
# lab_flood.sh - the agent under a flood it cannot keep up with:
#
#   S  s0 (tests/bench/flood)  ---veth---  a0 192.0.2.2/24  A (pmtud-nf)
#
# The agent runs with --no-prelimit (every PTB reaches it), pinned to
# CPU 1, the flooder to CPU 0, sending as fast as it can; a fake
# $NOTIFY_SOCKET with WATCHDOG_USEC set records the agent's kicks.
# For NFLOG and NFQUEUE input, during the flood:
#  1. SIGUSR1 is answered (its counters line written) within 100 ms,
#     five times in a row (bounded work per wakeup: the receive loop
#     returns to the event loop);
#  2. WATCHDOG=1 keeps coming: no gap reaches WATCHDOG_USEC;
#  3. NFLOG: the input switched to kernel batching (counter to_batch),
#     and once the flood is over it switches back to immediate delivery
#     on its own (to_immediate = to_batch), also in the metrics file;
#  4. SIGTERM during a second flood ends the agent within 1 s, exit 0.
# Needs root; exits 77 otherwise.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

require_root
command -v python3 >/dev/null || { echo "# SKIP: python3 missing"; exit 77; }
FLOOD=${TOP_BUILDDIR:-.}/tests/bench/flood
[ -x "$FLOOD" ] || { echo "Bail out! $FLOOD not built"; exit 1; }
[ -x "${PMTUD_NF:-}" ] || { echo "Bail out! PMTUD_NF not built"; exit 1; }
with_systemd=0
grep -q '^#define HAVE_LIBSYSTEMD 1' "${TOP_BUILDDIR:-.}/config.h" 2>/dev/null && with_systemd=1
lab_init 240

S=$LAB_PFX-fs
A=$LAB_PFX-fa
AGENT=
FPID=
WD_USEC=1000000
stop_all() {
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	ip netns del "$A" 2>/dev/null
}
lab_defer stop_all

MAC=$(lab_pair "$A" "$S") || { echo "Bail out! lab_pair"; exit 1; }
echo '{}' >"$LAB_DIR/empty.json"

# The helper: a notify socket that stamps what it gets; "probe" sends
# SIGUSR1 and waits for the next counters line in the log; "term"
# sends SIGTERM and waits for the process to end (zombie or gone).
cat >"$LAB_DIR/helper.py" <<'PY'
import os, signal, socket, sys, time
def state(pid):
    try:
        return open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"
if sys.argv[1] == "listen":
    path, out = sys.argv[2:4]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.1)
    with open(out, "w", buffering=1) as f:
        f.write("%.3f LISTENING\n" % time.monotonic())
        while True:
            try:
                d = s.recv(4096)
            except socket.timeout:
                continue
            t = time.monotonic()
            for l in d.decode().split("\n"):
                if l:
                    f.write("%.3f %s\n" % (t, l))
elif sys.argv[1] == "probe":
    pid, log = int(sys.argv[2]), sys.argv[3]
    n0 = open(log).read().count("counters: ")
    t0 = time.monotonic()
    os.kill(pid, signal.SIGUSR1)
    while time.monotonic() - t0 < 5:
        if open(log).read().count("counters: ") > n0:
            break
        time.sleep(0.001)
    print("%.1f" % ((time.monotonic() - t0) * 1000))
elif sys.argv[1] == "term":
    pid = int(sys.argv[2])
    t0 = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    while time.monotonic() - t0 < 5 and state(pid) not in ("Z", "X"):
        time.sleep(0.001)
    print("%.1f" % ((time.monotonic() - t0) * 1000))
elif sys.argv[1] == "now":
    print("%.3f" % time.monotonic())
PY
LISTENER=
if [ $with_systemd = 1 ]; then
	python3 "$LAB_DIR/helper.py" listen "$LAB_DIR/notify.sock" "$LAB_DIR/notify.log" &
	LISTENER=$!
	lab_defer "kill $LISTENER 2>/dev/null"
	for _ in $(seq 50); do grep -q LISTENING "$LAB_DIR/notify.log" 2>/dev/null && break; sleep 0.1; done
fi

start_agent() {
	: >"$LAB_DIR/agent.log"
	NOTIFY_SOCKET=$LAB_DIR/notify.sock WATCHDOG_USEC=$WD_USEC \
		ip netns exec "$A" "$PMTUD_NF" -c "$LAB_DIR/empty.json" -i a0 --cpu 1 \
		--no-prelimit --stats-interval 1 --metrics-file "$LAB_DIR/pmtud.prom" "$@" \
		>"$LAB_DIR/agent.log" 2>&1 &
	AGENT=$!
	timeout 5 bash -c 'until grep -q running "$1"; do kill -0 "$2" || exit 1; sleep 0.05; done' \
		_ "$LAB_DIR/agent.log" "$AGENT" 2>/dev/null && return 0
	echo "Bail out! agent did not start: $(tail -n 3 "$LAB_DIR/agent.log")"
	exit 1
}
flood_start() {
	ip netns exec "$S" timeout 120 taskset -c 0 "$FLOOD" -i s0 -m "$MAC" \
		-4 192.0.2.2 -6 2001:db8::2 -s 1000000 -n "$1" >"$LAB_DIR/flood.out" 2>&1 &
	FPID=$!
}
flood_wait() { wait "$FPID"; FPID=; }
# counter NAME: from the newest counters line.
counter() {
	local v
	v=$(grep 'counters: ' "$LAB_DIR/agent.log" | tail -n 1 | grep -o "\b$1=[0-9]*" | cut -d= -f2)
	echo "${v:-0}"
}
usr1() { python3 "$LAB_DIR/helper.py" probe "$AGENT" "$LAB_DIR/agent.log"; }
# Largest gap between WATCHDOG=1 lines from time $1 on, in s.
wd_gap() {
	awk -v t0="$1" '$2 == "WATCHDOG=1" && $1 >= t0 {
		if (last != "" && $1 - last > max) max = $1 - last; last = $1; n++ }
		END { printf "%.3f %d\n", max, n }' "$LAB_DIR/notify.log"
}
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

for input in nflog nfqueue; do
	lab_note "--- input $input"
	start_agent --input "$input"
	t0=$(python3 "$LAB_DIR/helper.py" now)
	flood_start 100000000
	sleep 0.5
	worst=0 probes=
	for _ in 1 2 3 4 5; do
		ms=$(usr1)
		probes="$probes $ms"
		lt "$worst" "$ms" && worst=$ms
		sleep 0.3
	done
	recv0=$(counter received)
	t1=$(python3 "$LAB_DIR/helper.py" now)
	running=0
	kill -0 "$FPID" 2>/dev/null && running=1
	lab_note "SIGUSR1 answered in (ms):$probes; received $recv0 so far"
	lab_ok "$input: the flood ran through the probes" [ "$running" = 1 ]
	lab_ok "$input: SIGUSR1 answered within 100 ms during the flood (worst $worst ms)" lt "$worst" 100
	if [ $with_systemd = 1 ]; then
		read -r gap kicks < <(wd_gap "$t0")
		lab_note "watchdog during the flood: $kicks kicks, largest gap $gap s"
		lab_ok "$input: WATCHDOG=1 kept coming during the flood (largest gap $gap s < 1 s)" \
			eval 'lt "$gap" 1 && [ "$kicks" -ge 3 ]'
	fi
	if [ "$input" = nflog ]; then
		lab_ok "nflog: switched to kernel batching under the flood (to_batch $(counter to_batch))" \
			[ "$(counter to_batch)" -ge 1 ]
	fi
	kill "$FPID" 2>/dev/null
	flood_wait
	if [ "$input" = nflog ]; then
		# Calm: back to immediate within two 500 ms windows; allow 5 s.
		back=0
		for _ in $(seq 50); do
			usr1 >/dev/null
			b=$(counter to_batch) i=$(counter to_immediate)
			[ "$i" -ge 1 ] && [ "$i" = "$b" ] && { back=1; break; }
			sleep 0.1
		done
		lab_ok "nflog: back to immediate delivery when calm (to_batch $b, to_immediate $i)" [ "$back" = 1 ]
		sleep 1.2
		lab_ok "nflog: the metrics file counts the switches" \
			grep -q "^pmtud_input_mode_switches_total{mode=\"immediate\"} [1-9]" "$LAB_DIR/pmtud.prom"
	fi
	kill -TERM "$AGENT"
	wait "$AGENT"
	AGENT=

	# SIGTERM in the middle of a flood.
	start_agent --input "$input"
	flood_start 100000000
	sleep 1
	kill -0 "$FPID" 2>/dev/null && running=1 || running=0
	ms=$(python3 "$LAB_DIR/helper.py" term "$AGENT")
	wait "$AGENT"
	rc=$?
	AGENT=
	lab_ok "$input: SIGTERM during the flood ends the agent within 1 s ($ms ms, flood running: $running, exit $rc)" \
		eval 'lt "$ms" 1000 && [ "$running" = 1 ] && [ "$rc" = 0 ]'
	kill "$FPID" 2>/dev/null
	flood_wait
	ip netns exec "$A" nft delete table inet pmtud 2>/dev/null
done
lab_finish
