#!/bin/bash
# lab_metrics.sh - counters, the Prometheus file, SIGUSR1 and the log
# limiter, on crafted traffic of known composition.
#
# In the namespace lab (tests/lab/lib.sh, deterministic: ICMP to the
# VIP reaches S2), pmtud-nf runs on S2 with -v, "ports": [8080],
# metrics_file and stats_interval 1. E sends crafted PTBs (python raw
# sockets, lab_send_ptb): valid ones for v4 and v6 and four kinds of
# invalid ones. Proves that:
#  - the metrics file counts exactly what was sent: received, forwarded,
#    dropped by reason (bad_mtu, dst_mismatch, port_filtered), every
#    other reason present and 0, no rate limit, no send error;
#  - the file is valid text exposition format: each sample follows the
#    HELP and TYPE lines of its own family, no family twice, names
#    pmtud_*_total, integer values; it is replaced atomically (no temp
#    file left, mode 0644);
#  - the SIGUSR1 line carries the same values under the same names;
#  - a flood of 600 invalid PTBs with -v gives at most burst + rate x
#    duration per-packet lines (20 + 20/s), a "N per-packet log lines
#    suppressed" line, and nothing is lost from the accounting: logged
#    decision lines + suppressed == received, and the suppressed count
#    equals pmtud_log_suppressed_total.
set -u
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab/lib.sh"

lab_begin 120 deterministic

CONF=$LAB_DIR/x.json
PROM=$LAB_DIR/metrics/pmtud.prom
LOG=$LAB_DIR/agent-S2.log
mkdir -p "$LAB_DIR/metrics"
cat >"$CONF" <<EOF
{"iface": ["eth0"], "ports": [8080], "src_rate": 1000, "iface_rate": 1000,
 "metrics_file": "$PROM", "stats_interval": 1}
EOF
lab_start_agent S2 -c "$CONF" -v || { echo "Bail out! agent did not start"; exit 1; }

send() { lab_send_ptb E "$@" >/dev/null || { echo "Bail out! lab_send_ptb $*"; exit 1; }; }

# prom SERIES: its value in the metrics file (-1: absent).
prom()
{
	awk -v s="$1" '$1 == s { v = $2 } END { print (v == "" ? -1 : v) }' "$PROM" 2>/dev/null
}

# Wait (5 s) until the file reports received >= N.
wait_prom_received()
{
	local i
	for i in $(seq 50); do
		[ "$(prom pmtud_received_total)" -ge "$1" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# 1. Known traffic.
V4=10 V6=10 BADMTU4=7 MISMATCH=5 PORT6=4 BADMTU6=3
send v4 $V4 vary=1
send v6 $V6 vary=1
send v4 $BADMTU4 mtu=40
send v4 $MISMATCH qsrc=203.0.113.81
send v6 $PORT6 sport=9999 vary=1
send v6 $BADMTU6 mtu=1000
TOTAL=$((V4 + V6 + BADMTU4 + MISMATCH + PORT6 + BADMTU6))
lab_ok "the metrics file reports all $TOTAL packets within 5 s" wait_prom_received $TOTAL
# The file may have been written between two sends: wait one interval.
sleep 1.2
lab_note "$(grep -v '^#' "$PROM" | grep -v ' 0$' | tr '\n' ' ')"
lab_ok "received == $TOTAL" [ "$(prom pmtud_received_total)" -eq $TOTAL ]
lab_ok "forwarded == $((V4 + V6))" [ "$(prom pmtud_forwarded_total)" -eq $((V4 + V6)) ]
lab_ok "dropped{bad_mtu} == $((BADMTU4 + BADMTU6))" \
	[ "$(prom 'pmtud_dropped_total{reason="bad_mtu"}')" -eq $((BADMTU4 + BADMTU6)) ]
lab_ok "dropped{dst_mismatch} == $MISMATCH" \
	[ "$(prom 'pmtud_dropped_total{reason="dst_mismatch"}')" -eq $MISMATCH ]
lab_ok "dropped{port_filtered} == $PORT6" \
	[ "$(prom 'pmtud_dropped_total{reason="port_filtered"}')" -eq $PORT6 ]
others_zero()
{
	local r
	for r in truncated bad_ip fragment not_icmp not_ptb quote_truncated quote_bad \
		 quote_exthdr quote_proto l2_broadcast denied_source not_vip \
		 bad_checksum oversized; do
		[ "$(prom "pmtud_dropped_total{reason=\"$r\"}")" -eq 0 ] || return 1
	done
	[ "$(prom pmtud_unknown_iface_total)" -eq 0 ] &&
		[ "$(prom pmtud_deduplicated_total)" -eq 0 ] &&
		[ "$(prom 'pmtud_ratelimited_total{limit="source"}')" -eq 0 ] &&
		[ "$(prom 'pmtud_ratelimited_total{limit="iface"}')" -eq 0 ] &&
		[ "$(prom pmtud_shed_total)" -eq 0 ] &&
		[ "$(prom pmtud_send_errors_total)" -eq 0 ] &&
		[ "$(prom pmtud_input_lost_enobufs_total)" -eq 0 ] &&
		[ "$(prom pmtud_input_seq_gaps_total)" -eq 0 ]
}
lab_ok "every other reason present and 0, no limit, no error, no loss" others_zero

# 2. The format.
check_format()
{
	python3 - "$1" <<-'PYEOF'
	import re, sys
	fam, seen, typed, n = None, set(), False, 0
	name_re = re.compile(r'^(pmtud_[a-z_]+_total)(\{[a-z_]+="[^"\\\n]*"(,[a-z_]+="[^"\\\n]*")*\})? ([0-9]+)$')
	text = open(sys.argv[1]).read()
	if not text.endswith("\n"):
	    sys.exit("no final newline")
	for line in text.splitlines():
	    if line.startswith("# HELP "):
	        f = line.split()[2]
	        if f in seen:
	            sys.exit("family twice: " + f)
	        seen.add(f)
	        fam, typed = f, False
	    elif line.startswith("# TYPE "):
	        w = line.split()
	        if len(w) != 4 or w[2] != fam or w[3] != "counter":
	            sys.exit("bad TYPE: " + line)
	        typed = True
	    else:
	        m = name_re.match(line)
	        if not m or m.group(1) != fam or not typed:
	            sys.exit("sample without its HELP/TYPE: " + line)
	        n += 1
	print("%d families, %d samples" % (len(seen), n))
	PYEOF
}
fmt=$(check_format "$PROM" 2>&1)
lab_ok "valid exposition format ($fmt)" eval 'check_format "$PROM" >/dev/null'
lab_ok "written atomically: no temp file left, mode 0644" \
	eval '[ "$(ls "$LAB_DIR/metrics" | wc -l)" -eq 1 ] && [ "$(stat -c %a "$PROM")" = 644 ]'

# 3. SIGUSR1: the same values under the same names (no traffic meanwhile);
# the flow-owner families on their own lines, series as in the file.
line=$(lab_agent_counters S2)
same_values()
{
	python3 - "$PROM" "$1" "$LOG" <<-'PYEOF'
	import re, sys
	prom = {}
	for l in open(sys.argv[1]):
	    if not l.startswith("#"):
	        k, v = l.rsplit(" ", 1)
	        prom[k] = int(v)
	owner = {}
	for l in open(sys.argv[3]):
	    m = re.match(r"pmtud-nf: (pmtud_\w+_total): (.*)$", l)
	    if m:
	        owner[m.group(1)] = m.group(2)
	for fam, series in owner.items():
	    for w in series.split():
	        labels, v = w.rsplit("=", 1)
	        if prom.pop(fam + labels, None) != int(v):
	            sys.exit("%s%s=%s not in the file" % (fam, labels, v))
	if len(owner) != 4 or any(k.startswith(tuple(owner)) for k in prom):
	    sys.exit("flow-owner families: %d lines, file %s" % (len(owner), sorted(prom)))
	words = dict(w.split("=", 1) for w in sys.argv[2].split("counters: ", 1)[1].split())
	key = {"received": "pmtud_received_total", "forwarded": "pmtud_forwarded_total",
	       "unknown_iface": "pmtud_unknown_iface_total",
	       "deduplicated": "pmtud_deduplicated_total",
	       "limited_source": 'pmtud_ratelimited_total{limit="source"}',
	       "limited_iface": 'pmtud_ratelimited_total{limit="iface"}',
	       "shed": "pmtud_shed_total",
	       "send_errors": "pmtud_send_errors_total",
	       "lost_enobufs": "pmtud_input_lost_enobufs_total",
	       "seq_gaps": "pmtud_input_seq_gaps_total",
	       "reloads_ok": 'pmtud_reloads_total{result="ok"}',
	       "reloads_failed": 'pmtud_reloads_total{result="failed"}',
	       "log_suppressed": "pmtud_log_suppressed_total",
	       "to_batch": 'pmtud_input_mode_switches_total{mode="batch"}',
	       "to_immediate": 'pmtud_input_mode_switches_total{mode="immediate"}'}
	if len(words) != len(prom):
	    sys.exit("%d values in the line, %d in the file" % (len(words), len(prom)))
	for w, v in words.items():
	    s = key.get(w, 'pmtud_dropped_total{reason="%s"}' % w)
	    if prom.get(s) != int(v):
	        sys.exit("%s=%s but %s %s" % (w, v, s, prom.get(s)))
	PYEOF
}
lab_ok "SIGUSR1 line: same values, same list as the file" same_values "$line"

# 4. Log flood: -v, 600 invalid PTBs as fast as python sends them.
FLOOD=600
t0=${EPOCHREALTIME/./}
send v4 $FLOOD mtu=40
t1=${EPOCHREALTIME/./}
lab_ok "flood received" wait_prom_received $((TOTAL + FLOOD))
sleep 1.5	# one stats tick: the suppressed count is reported
decisions=$(grep -cE '^pmtud-nf: (FORWARD|DROP) ' "$LOG")
suppressed=$(sed -n 's/^pmtud-nf: \([0-9]*\) per-packet log lines suppressed$/\1/p' "$LOG" |
	awk '{ s += $1 } END { print s + 0 }')
flood_lines=$(grep -c 'DROP bad_mtu' "$LOG")
# Whole seconds the sender ran, plus one for the agent to catch up.
secs=$(( (t1 - t0 + 999999) / 1000000 + 1 ))
bound=$((20 + 20 * secs + BADMTU4 + BADMTU6))
lab_note "flood of $FLOOD in <= ${secs}s: $flood_lines bad_mtu lines logged (bound $bound), $decisions decision lines and $suppressed suppressed in all"
lab_ok "flood: per-packet lines bounded by the limiter ($flood_lines <= $bound)" \
	[ "$flood_lines" -le "$bound" ]
lab_ok "flood: a 'per-packet log lines suppressed' line was logged" [ "$suppressed" -gt 0 ]
lab_ok "nothing unaccounted: logged + suppressed == received ($decisions + $suppressed == $((TOTAL + FLOOD)))" \
	[ $((decisions + suppressed)) -eq $((TOTAL + FLOOD)) ]
sleep 1.2
lab_ok "pmtud_log_suppressed_total == the suppressed lines reported ($suppressed)" \
	[ "$(prom pmtud_log_suppressed_total)" -eq "$suppressed" ]
lab_ok "dropped{bad_mtu} counts the flood exactly" \
	[ "$(prom 'pmtud_dropped_total{reason="bad_mtu"}')" -eq $((BADMTU4 + BADMTU6 + FLOOD)) ]

# 5. Stop: exit 0, the file holds the final values.
lab_stop_agent S2
rc=$?
lab_ok "SIGTERM: exit status 0" [ "$rc" -eq 0 ]
lab_ok "final metrics file: received $((TOTAL + FLOOD))" \
	[ "$(prom pmtud_received_total)" -eq $((TOTAL + FLOOD)) ]

lab_finish
