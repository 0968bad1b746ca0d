#!/bin/bash
# test_rules.sh - the agent's nftables table (src/rules.c) against the
# kernel, each case in fresh network namespaces:
#  1. its listing equals that of nft/pmtud.nft loaded with nft -f
#     (one interface: plain compare; two: anonymous set), JSON and text;
#  2. owner flag: kill -9 and SIGTERM both leave no table behind;
#  3. a table loaded with nft -f beforehand is replaced, with a warning,
#     and nft -f cannot replace the agent's table while it runs;
#  4. a second instance is refused (exit 2) and the first keeps its table;
#  5. the rules match what they should and nothing else: ICMP frag-needed
#     and ICMPv6 packet-too-big count, other codes and link-layer
#     broadcasts don't (those count as copies from other agents), and
#     traffic still flows;
#  6. without CAP_NET_ADMIN: exit 2 with a clear message;
#  7. "input": "nfqueue": the listing equals nft/pmtud-nfqueue.nft (on a
#     kernel without nft_queue, where nft cannot load that file: equals
#     it with the statement swapped for the xt NFQUEUE target the agent
#     falls back to, and the fallback is logged).
#  8. a reload whose batch is answered ambiguously (ENOBUFS after the
#     commit, or no answer at all) reads the chain back: applied when the
#     kernel has the new rules, refused (and the old ones kept) when not;
# Peers (loop guard): the listing with "ip saddr != ..." filters (and
# the copy-from-peers rules) equals pmtud.nft edited as its comment
# says, and a PTB from a peer is not captured, only logged as a copy.
# Needs root; exits 77 otherwise.
set -u

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for cmd in ip nft setpriv timeout; do
	command -v "$cmd" >/dev/null || { echo "SKIP: $cmd missing"; exit 77; }
done
# The system interpreter: version-manager shims cost a second a call.
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)} ||
	{ echo "SKIP: python3 missing"; exit 77; }

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
TOP_BUILDDIR=${TOP_BUILDDIR:-$TOP_SRCDIR}
NFT_FILE=$TOP_SRCDIR/nft/pmtud.nft

# The real agent installs the table (dry run: nothing is sent).
PMTUD_NF=${PMTUD_NF:-$TOP_BUILDDIR/src/pmtud-nf}
[ -x "$PMTUD_NF" ] || { echo "FAIL: $PMTUD_NF not built"; exit 1; }

NS_A=pmtud-$$-a		# runs the table's owner
NS_R=pmtud-$$-r		# reference: nft -f pmtud.nft
NS_S=pmtud-$$-s		# sends ICMP towards NS_A
TMP=$(mktemp -d)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for p in "$NS_A" "$NS_R" "$NS_S"; do
		ip netns del "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
in_ns() { local ns=$1; shift; timeout 10 ip netns exec "$ns" "$@"; }
table_exists() { in_ns "$1" nft list table inet pmtud >/dev/null 2>&1; }
table_owned() { in_ns "$1" nft list table inet pmtud 2>/dev/null | grep -q '^[[:space:]]*flags owner'; }

# Command line that installs the table for interfaces $2... with log
# group $1, and stays until SIGTERM.
owner_cmd() {
	local group=$1 csv
	shift
	csv=$(IFS=,; echo "$*")
	echo '{}' >"$TMP/empty.json"
	# shellcheck disable=SC2086 # OWNER_EXTRA: several flags
	echo "$PMTUD_NF" -c "$TMP/empty.json" --dry-run --iface "$csv" --nflog "$group" \
		${OWNER_PEERS:+--peers "$OWNER_PEERS"} ${OWNER_EXTRA:-}
}

# start NAME GROUP IFACE...: run the owner in NS_A in the background,
# output in $TMP/NAME.log, pid in $OWNER_PID; wait until its table is in.
# start_cmd NAME CMD...: the same for another command line.
start() {
	local name=$1
	shift
	# shellcheck disable=SC2046
	start_cmd "$name" $(owner_cmd "$@")
}
start_cmd() {
	local name=$1 _
	shift
	ip netns exec "$NS_A" "$@" >"$TMP/$name.log" 2>&1 &
	OWNER_PID=$!
	PIDS+=("$OWNER_PID")
	for _ in $(seq 40); do
		table_owned "$NS_A" && return 0
		kill -0 "$OWNER_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$TMP/$name.log"
	fail "$name: table not installed within 2 s"
}

# stop SIGNAL: signal the owner, expect its table gone within 2 s.
stop() {
	local sig=$1 _ rc
	kill "-$sig" "$OWNER_PID"
	rc=0
	# Braces: bash reports a killed job on its stderr while waiting.
	{
		timeout 5 tail -s 0.05 --pid="$OWNER_PID" -f /dev/null ||
			fail "owner did not exit on $sig"
		wait "$OWNER_PID" || rc=$?
	} 2>/dev/null
	for _ in $(seq 40); do
		table_exists "$NS_A" || { STOP_RC=$rc; return 0; }
		sleep 0.05
	done
	fail "table still there 2 s after $sig"
}

# Listing without what legitimately differs: handles, table flags
# (owner), counter values, nft's process comment and blank lines.
norm_json() {
	"$PYTHON" -c '
import json, sys
out = []
for obj in json.load(sys.stdin)["nftables"]:
    if "metainfo" in obj:
        continue
    for kind, body in obj.items():
        body.pop("handle", None)
        if kind == "table":
            body.pop("flags", None)
        for e in body.get("expr", []):
            if "counter" in e:
                e["counter"] = {}
    out.append(obj)
json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()'
}
norm_text() {
	sed -e 's/ # progname .*//' -e '/^[[:space:]]*flags owner$/d' \
	    -e 's/counter packets [0-9]* bytes [0-9]*/counter/' -e '/^[[:space:]]*$/d'
}

# The reference: pmtud.nft with the interface set and group substituted.
load_reference() {
	local group=$1 set
	shift
	set=$(printf '"%s", ' "$@")
	set="{ ${set%, } }"
	sed -e "s/{ \"eth0\" }/$set/" -e "s/log group 33/log group $group/" \
		-e "${REF_SED:-}" "$NFT_FILE" >"$TMP/ref.nft"
	grep -q "log group $group" "$TMP/ref.nft" || fail "cannot edit $NFT_FILE"
	in_ns "$NS_R" nft flush ruleset
	in_ns "$NS_R" nft -f "$TMP/ref.nft" || fail "nft -f pmtud.nft failed"
}

compare_with_reference() {
	local what=$1 ns
	for ns in "$NS_A" "$NS_R"; do
		in_ns "$ns" nft -j list table inet pmtud | norm_json >"$TMP/$ns.json" ||
			fail "$what: nft -j list in $ns"
		in_ns "$ns" nft list table inet pmtud | norm_text >"$TMP/$ns.txt" ||
			fail "$what: nft list in $ns"
	done
	diff -u "$TMP/$NS_R.json" "$TMP/$NS_A.json" || fail "$what: JSON listings differ"
	diff -u "$TMP/$NS_R.txt" "$TMP/$NS_A.txt" || fail "$what: listings differ"
	grep -q 'comment "pmtud-nf"' "$TMP/$NS_A.txt" || fail "$what: no table comment"
}

ip netns add "$NS_A" || fail "ip netns add"
ip netns add "$NS_R" || fail "ip netns add"
ip netns add "$NS_S" || fail "ip netns add"
ip -n "$NS_A" link add v0 type veth peer name s0 netns "$NS_S" || fail "veth"
ip -n "$NS_A" link add v1 type veth peer name v1p || fail "veth"

# 1. Same listing as pmtud.nft, one interface and two.
start one 77 v0
load_reference 77 v0
compare_with_reference "one interface"
grep -q 'iifname "v0" ' "$TMP/$NS_A.txt" || fail "one interface: not a plain match"
[ "$(grep -c 'limit rate over .* counter return$' "$TMP/$NS_A.txt")" = 4 ] ||
	fail "one interface: want 4 pre-limit rules"
stop TERM
[ "$STOP_RC" = 0 ] || fail "SIGTERM: exit code $STOP_RC"
ok "one interface: listing equals pmtud.nft; SIGTERM removes the table, exit 0"

start two 33 v0 v1
load_reference 33 v0 v1
compare_with_reference "two interfaces"
grep -q 'iifname { "v0", "v1" } ' "$TMP/$NS_A.txt" || fail "two interfaces: no set"
[ "$(grep -c 'pkttype != broadcast .* log group 33 snaplen [0-9]*$' "$TMP/$NS_A.txt")" = 2 ] || fail "two interfaces: log group"
[ "$(grep -c 'pkttype broadcast .* limit rate 100/second burst 100 packets counter log group 33 snaplen [0-9]*$' "$TMP/$NS_A.txt")" = 2 ] ||
	fail "two interfaces: copy rules"
ok "two interfaces: listing equals pmtud.nft (anonymous set)"

# 2. The kernel drops an owned table with its socket, even on SIGKILL.
stop KILL
ok "kill -9: table gone"

# 3. A table loaded with nft -f is replaced; the owned one is not.
in_ns "$NS_A" nft -f "$TMP/ref.nft" || fail "nft -f in $NS_A"
table_exists "$NS_A" && ! table_owned "$NS_A" || fail "nft -f table not loaded"
start replace 33 v0 v1
grep -q 'replaced existing table inet pmtud' "$TMP/replace.log" ||
	{ cat "$TMP/replace.log"; fail "replacement not logged"; }
compare_with_reference "replaced table"
in_ns "$NS_A" nft -f "$TMP/ref.nft" 2>/dev/null && fail "nft -f replaced an owned table"
table_owned "$NS_A" || fail "owned table lost after nft -f attempt"
ok "table from nft -f replaced (logged); nft -f cannot replace the owned table"

# 4. A second instance is refused; the first keeps its table. (Another
# log group: the agent binds its group first, and a busy group is a
# different refusal, exit 3.)
rc=0
# shellcheck disable=SC2046
timeout 10 ip netns exec "$NS_A" $(owner_cmd 34 v0) >"$TMP/second.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$TMP/second.log"; fail "second instance: exit $rc, want 2"; }
grep -q 'table inet pmtud is owned by another process (netlink port ID [0-9]*): is another pmtud-nf running?' \
	"$TMP/second.log" || { cat "$TMP/second.log"; fail "second instance: message"; }
table_owned "$NS_A" || fail "second instance damaged the first's table"
kill -0 "$OWNER_PID" || fail "first instance died"
compare_with_reference "after refused second instance"
stop TERM
ok "second instance refused with exit 2 and a clear message"

# 4b. Peers: "ip saddr != <peer>" (one: a plain compare) and "ip6 saddr
# != { peers }" (two: an anonymous set), as pmtud.nft documents them.
OWNER_PEERS=192.0.2.9,2001:db8::9,2001:db8::a start peers 33 v0 v1
# After each capture rule, its copy-from-peers rule (pmtud.nft's comment).
LIM='limit rate 100\/second burst 100 packets'
REF_SED="/!= broadcast.*ip length <= 576 counter log group/{s/ip length <= 576/& ip saddr != 192.0.2.9/;p;s/ != 192.0.2.9/ 192.0.2.9 $LIM/}
/!= broadcast.*ip6 length <= 1240 counter log group/{s/ip6 length <= 1240/& ip6 saddr != { 2001:db8::9, 2001:db8::a }/;p;s/ != {\(.*\)}/ {\1} $LIM/}" \
	load_reference 33 v0 v1
compare_with_reference "peers"
grep -q 'ip6 saddr != { 2001:db8::9, 2001:db8::a } counter' "$TMP/$NS_A.txt" ||
	fail "peers: no IPv6 peer set"
grep -q 'ip6 saddr { 2001:db8::9, 2001:db8::a } limit rate 100/second burst 100 packets counter log group 33' \
	"$TMP/$NS_A.txt" || fail "peers: no IPv6 copy-from-peers rule"
stop TERM
ok "peers: listing equals pmtud.nft with the peer filters"

# 4c. "prelimit": false: the capture rules alone, as pmtud.nft without
# the pre-limit sets and the rules that end in "return".
OWNER_EXTRA=--no-prelimit start noprelimit 33 v0 v1
REF_SED='/^\tset prelimit[46] {/,/^\t}/d; / return$/d' load_reference 33 v0 v1
grep -q "return$\|set prelimit" "$TMP/ref.nft" && fail "cannot edit $NFT_FILE (pre-limit)"
compare_with_reference "no pre-limit"
grep -q 'return\|prelimit' "$TMP/$NS_A.txt" && fail "no pre-limit: pre-limit rules installed"
stop TERM
ok "prelimit false: listing equals pmtud.nft without the pre-limit"

# 5. What the rules count, across a veth from NS_S.
ip -n "$NS_A" addr add 192.0.2.2/24 dev v0
ip -n "$NS_A" addr add 2001:db8::2/64 dev v0 nodad
ip -n "$NS_S" addr add 192.0.2.1/24 dev s0
ip -n "$NS_S" addr add 2001:db8::1/64 dev s0 nodad
ip -n "$NS_A" link set v0 up
ip -n "$NS_S" link set s0 up
ip -n "$NS_A" link set lo up
start count 77 v0

# send 4|6 DEST TYPE CODE [broadcast]: one ICMP error quoting a UDP
# packet from DEST to 203.0.113.9 / 2001:db8:ff::9 (PAD=N: N more
# bytes of it; the error is 64 + N bytes long in IPv4, 104 + N in IPv6).
send() {
	in_ns "$NS_S" env PAD="${PAD:-0}" "$PYTHON" - "$@" <<'EOF' || fail "send $*"
import os, socket, struct, sys
fam, dst, typ, code = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
bcast = len(sys.argv) > 5
pad = int(os.environ["PAD"])
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
udp = struct.pack("!HHHH", 443, 40000, 8 + 8, 0) + b"\0" * (8 + pad)
if fam == "4":
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64,
                     17, 0, socket.inet_aton(dst), socket.inet_aton("203.0.113.9"))
    body = struct.pack("!HH", 0, 1400) + ip + udp
    msg = struct.pack("!BBH", typ, code, 0) + body
    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    if bcast:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        dst = "192.0.2.255"
    s.sendto(msg, (dst, 0))
else:
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, len(udp), 17, 64,
                      socket.inet_pton(socket.AF_INET6, dst),
                      socket.inet_pton(socket.AF_INET6, "2001:db8:ff::9"))
    msg = struct.pack("!BBHI", typ, code, 0, 1280) + ip6 + udp
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.sendto(msg, (dst, 0))  # the kernel fills in the ICMPv6 checksum
EOF
}

# counters: "<ICMPv4 rule packets> <ICMPv6 rule packets>" (the capture
# rules; the pre-limit rules before them end in "return"). COPIES=1:
# those of the rules that log copies from other agents instead.
counters() {
	local sel='/second burst/!'
	[ -n "${COPIES:-}" ] && sel='/second burst/'
	in_ns "$NS_A" nft list table inet pmtud | grep ' log group ' |
		sed -n "$sel"'s/.* counter packets \([0-9]*\) .*/\1/p' | paste -sd ' '
}

expect_counters() {
	local want=$1 what=$2 got _
	for _ in $(seq 20); do
		got=$(counters)
		[ "$got" = "$want" ] && return 0
		sleep 0.05
	done
	fail "$what: counters '$got', want '$want'"
}

in_ns "$NS_S" ping -c 1 -W 2 192.0.2.2 >/dev/null || fail "ping: traffic does not flow"
expect_counters "0 0" "echo request"
send 4 192.0.2.2 3 4
expect_counters "1 0" "ICMP frag-needed"
send 4 192.0.2.2 3 3
send 4 192.0.2.2 11 0
expect_counters "1 0" "ICMP port-unreachable, time-exceeded"
send 4 192.0.2.2 3 4 broadcast
expect_counters "1 0" "link-layer broadcast frag-needed"
COPIES=1 expect_counters "1 0" "link-layer broadcast frag-needed, as a copy"
send 6 2001:db8::2 2 0
expect_counters "1 1" "ICMPv6 packet-too-big"
send 6 2001:db8::2 1 4
expect_counters "1 1" "ICMPv6 port unreachable"
# Longer than a genuine PTB (576 bytes, 1280): neither counted nor
# logged. Each is sent before one of the largest size, which is.
PAD=513 send 4 192.0.2.2 3 4
PAD=512 send 4 192.0.2.2 3 4
expect_counters "2 1" "frag-needed of 577 bytes not logged, of 576 logged"
PAD=1177 send 6 2001:db8::2 2 0
PAD=1176 send 6 2001:db8::2 2 0
expect_counters "2 2" "packet-too-big of 1281 bytes not logged, of 1280 logged"
in_ns "$NS_S" ping -c 1 -W 2 2001:db8::2 >/dev/null || fail "ping6: traffic does not flow"
stop TERM
ok "rules count frag-needed and packet-too-big only, no broadcasts, none over 576 / 1280 bytes; traffic flows"

# 5b. A PTB sent by a configured peer is never captured (loop guard).
OWNER_PEERS=192.0.2.1,2001:db8::1 start peercount 77 v0
send 4 192.0.2.2 3 4
send 6 2001:db8::2 2 0
# Round trips after the PTBs: they were through the hook by then.
in_ns "$NS_S" ping -c 1 -W 2 192.0.2.2 >/dev/null || fail "ping after peer PTBs"
in_ns "$NS_S" ping -c 1 -W 2 2001:db8::2 >/dev/null || fail "ping6 after peer PTBs"
expect_counters "0 0" "PTBs from a peer"
COPIES=1 expect_counters "1 0 1 0" "PTBs from a peer, as copies (peer, broadcast per family)"
stop TERM
ok "PTBs whose source is a configured peer are not captured, only logged as copies"

# 6. Without CAP_NET_ADMIN. The agent binds its log group before it
# installs rules, so the refusal comes from NFLOG (exit 3), and no
# table may be left behind.
rc=0
# shellcheck disable=SC2046
timeout 10 ip netns exec "$NS_A" setpriv --bounding-set=-net_admin \
	--inh-caps=-net_admin $(owner_cmd 33 v0) >"$TMP/nocap.log" 2>&1 || rc=$?
[ "$rc" = 3 ] || { cat "$TMP/nocap.log"; fail "no CAP_NET_ADMIN: exit $rc, want 3"; }
[ "$(wc -l <"$TMP/nocap.log")" = 1 ] || { cat "$TMP/nocap.log"; fail "no CAP_NET_ADMIN: want one error line"; }
table_exists "$NS_A" && fail "no CAP_NET_ADMIN: a table was left"
ok "no CAP_NET_ADMIN: exit $rc, clear message"

# 7. NFQUEUE: the same matches, then "queue num N bypass".
OWNER_EXTRA="--input nfqueue --queue 40" start nfqueue 33 v0 v1
sed -e 's/{ "eth0" }/{ "v0", "v1" }/' -e 's/queue num 33 bypass/queue num 40 bypass/' \
	"$TOP_SRCDIR/nft/pmtud-nfqueue.nft" >"$TMP/refq.nft"
[ "$(grep -c 'iifname { "v0", "v1" } .* counter queue num 40 bypass$' "$TMP/refq.nft")" = 2 ] ||
	fail "cannot edit pmtud-nfqueue.nft"
in_ns "$NS_R" nft flush ruleset
if in_ns "$NS_R" nft -f "$TMP/refq.nft" 2>"$TMP/refq.err"; then
	compare_with_reference "nfqueue"
	[ "$(grep -c ' counter queue .*40' "$TMP/$NS_A.txt")" = 2 ] || fail "nfqueue: queue statements"
	ok "nfqueue: listing equals pmtud-nfqueue.nft"
else
	grep -q 'No such file or directory' "$TMP/refq.err" || { cat "$TMP/refq.err"; fail "nft -f pmtud-nfqueue.nft"; }
	grep -q 'kernel without nft_queue: using the xtables NFQUEUE target' "$TMP/nfqueue.log" ||
		{ cat "$TMP/nfqueue.log"; fail "nfqueue: fallback not logged"; }
	sed 's/queue num 40 bypass/log group 40/' "$TMP/refq.nft" >"$TMP/refq-log.nft"
	in_ns "$NS_R" nft -f "$TMP/refq-log.nft" || fail "nft -f (log variant)"
	in_ns "$NS_R" nft -j list table inet pmtud | norm_json >"$TMP/refq.json" || fail "nft -j list in $NS_R"
	in_ns "$NS_A" nft -j list table inet pmtud 2>/dev/null |
		sed 's/{"xt": {"type": "target", "name": "NFQUEUE"}}/{"log": {"group": 40}}/g' |
		norm_json >"$TMP/nfq.json" || fail "nft -j list in $NS_A"
	diff -u "$TMP/refq.json" "$TMP/nfq.json" || fail "nfqueue (xt fallback): JSON listings differ"
	[ "$(grep -c '"group": 40' "$TMP/nfq.json")" = 2 ] || fail "nfqueue (xt fallback): no xt NFQUEUE statements"
	ok "nfqueue: kernel without nft_queue: listing equals pmtud-nfqueue.nft but for the xt NFQUEUE target (fallback logged)"
fi
stop TERM

# 8. A reload whose batch is answered ambiguously is settled by reading
# the chain back. tests/nlfault.so (LD_PRELOAD) disturbs nftables batch
# 2, the first reload: "enobufs" lets the kernel commit it but fails the
# receive of the answer, "drop" never sends it (answer timeout, 5 s).
NLFAULT=$TOP_BUILDDIR/tests/nlfault.so
[ -r "$NLFAULT" ] || fail "$NLFAULT not built"
# log_wait FILE PATTERN: the agent logs PATTERN within 10 s.
log_wait() {
	local _
	for _ in $(seq 200); do
		grep -q "$2" "$1" && return 0
		sleep 0.05
	done
	cat "$1"
	return 1
}
# ambiguous FAULT: start under FAULT, reload to prelimit_rate 9000.
ambiguous() {
	echo '{"iface": ["v0"]}' >"$TMP/amb.json"
	start_cmd "$1" env LD_PRELOAD="$NLFAULT" PMTUD_NLFAULT="$1:2" \
		ASAN_OPTIONS=verify_asan_link_order=0 \
		"$PMTUD_NF" -c "$TMP/amb.json" --dry-run --nflog 33
	echo '{"iface": ["v0"], "prelimit_rate": 9000}' >"$TMP/amb.json"
	kill -HUP "$OWNER_PID"
	log_wait "$TMP/$1.log" 'reload' || fail "$1: no answer to SIGHUP"
}
rate_is() { in_ns "$NS_A" nft list table inet pmtud | grep -q "limit rate over $1/second"; }

ambiguous enobufs
log_wait "$TMP/enobufs.log" 'reload: configuration from .* applied' || fail "enobufs: reload not applied"
grep -q 'reload batch unanswered (No buffer space available): table inet pmtud read back holds the new rules: applied' \
	"$TMP/enobufs.log" || { cat "$TMP/enobufs.log"; fail "enobufs: no read-back"; }
rate_is 9000 || fail "enobufs: the new rules are not in"
stop TERM
ok "reload batch answered with ENOBUFS after its commit: read back, applied"

ambiguous drop
log_wait "$TMP/drop.log" 'reload failed, configuration unchanged' || fail "drop: reload not refused"
grep -q 'reload batch unanswered (Connection timed out): table inet pmtud read back holds the old rules: not applied' \
	"$TMP/drop.log" || { cat "$TMP/drop.log"; fail "drop: no read-back"; }
rate_is 10000 && ! rate_is 9000 || fail "drop: the old rules are not in"
kill -HUP "$OWNER_PID"
log_wait "$TMP/drop.log" 'reload: configuration from .* applied' || fail "drop: next reload not applied"
rate_is 9000 || fail "drop: next reload: the new rules are not in"
stop TERM
ok "reload batch never answered (timeout, not committed): read back, refused; the next reload applies"

exit 0
