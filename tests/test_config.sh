#!/bin/bash
# test_config.sh - the configuration file and the command line
# (src/conf_*.c, src/cli.c), through the pmtud-nf binary; needs no root.
#  1. every class of error (JSON syntax, top level, unknown key, each
#     type, ranges at both bounds, addresses, ports, names, interfaces,
#     missing file, options, flag values) exits 1 with exactly one line
#     on stderr naming the file (or "command line") and the key/flag;
#  2. config/pmtud.json (iface -> an Ethernet interface) passes --check-config, holds
#     every key at its default, and its dump round-trips byte for byte;
#  3. flags override the file, lists replace then append, bursts follow
#     the effective rate, ports are sorted;
#  3b. what start-up would refuse is refused: values the pre-limit rule
#     cannot carry, peers that are not another host's unicast address,
#     max_mtu below 1280, a non-Ethernet interface, a CPU this process
#     cannot run on, nfqueue with the operator's rules unless declared;
#  4. --help lists exactly the options getopt takes, with the right
#     arity, and the exit codes; --version prints "pmtud-nf VERSION".
# Prints "ok N - ..." / "not ok N - ..."; exits 1 if any case failed.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
TOP_BUILDDIR=${TOP_BUILDDIR:-$TOP_SRCDIR}
PMTUD_NF=${PMTUD_NF:-$TOP_BUILDDIR/src/pmtud-nf}
EXAMPLE=$TOP_SRCDIR/config/pmtud.json

[ -x "$PMTUD_NF" ] || { echo "FAIL: $PMTUD_NF not built"; exit 1; }
[ -r "$EXAMPLE" ] || { echo "FAIL: $EXAMPLE missing"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
# shellcheck source=tests/ether_if.sh
. "$TOP_SRCDIR/tests/ether_if.sh"
IF=$ETHER_IF

T=$(mktemp -d "${TMPDIR:-/tmp}/pmtud-conf.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }

# run ARGS...: rc, and stdout/stderr in $T/out and $T/err.
run() {
	"$PMTUD_NF" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# cfg NAME JSON: write $T/NAME.json.
cfg() { printf '%s\n' "$2" >"$T/$1.json"; }

# A name no interface here has (the kernel limit is 15 characters).
NOIF=nosuch$$
while [ -e "/sys/class/net/$NOIF" ]; do NOIF=${NOIF}x; done

# expect_error DESC NEEDLE... -- ARGS...: exit 1, nothing on stdout,
# one line on stderr containing every NEEDLE.
expect_error() {
	local desc=$1 why="" nd lines
	local -a needles=()
	shift
	while [ "$1" != -- ]; do needles+=("$1"); shift; done
	shift
	run "$@"
	lines=$(wc -l <"$T/err")
	[ "$rc" = 1 ] || why="$why; exit $rc, want 1"
	[ "$lines" = 1 ] || why="$why; $lines lines on stderr"
	[ -s "$T/out" ] && why="$why; output on stdout"
	for nd in "${needles[@]}"; do
		grep -qF -- "$nd" "$T/err" || why="$why; no '$nd'"
	done
	if [ -z "$why" ]; then
		ok "$desc"
	else
		not_ok "$desc${why}: $(head -c 300 "$T/err")"
	fi
}

# file_error DESC NAME JSON NEEDLE...: the file NAME with JSON is
# refused; the message names the file and each NEEDLE.
file_error() {
	local desc=$1 name=$2 json=$3
	shift 3
	cfg "$name" "$json"
	expect_error "$desc" "$T/$name.json" "$@" -- -c "$T/$name.json" --check-config
}

# key_error DESC KEY JSON-VALUE NEEDLE...: {"iface": "lo", KEY: VALUE}
# (iface: {KEY: VALUE}) is refused with a message naming the file and the key.
key_error() {
	local desc=$1 key=$2 val=$3
	local json="{\"iface\": \"$IF\", \"$key\": $val}"
	shift 3
	[ "$key" = iface ] && json="{\"iface\": $val}"
	file_error "$desc" "k$n" "$json" "key \"$key\"" "$@"
}

# flag_error DESC FLAG ARG NEEDLE...: -i lo FLAG ARG is refused with a
# message naming the command line and the flag.
flag_error() {
	local desc=$1 flag=$2 arg=$3
	shift 3
	expect_error "$desc" "command line: $flag: " "$@" -- -i "$IF" "$flag" "$arg" --check-config
}

# jget FILE KEY: the value of KEY in JSON FILE, as compact JSON.
jget() {
	python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[sys.argv[2]]))' "$1" "$2"
}

# expect_dump DESC KEY WANT ARGS...: --check-config ARGS succeeds and
# the dump has KEY = WANT (compact JSON).
expect_dump() {
	local desc=$1 key=$2 want=$3 got
	shift 3
	run "$@" --check-config
	if [ "$rc" != 0 ]; then
		not_ok "$desc: exit $rc: $(head -c 300 "$T/err")"
		return
	fi
	got=$(jget "$T/out" "$key")
	if [ "$got" = "$want" ]; then ok "$desc"; else not_ok "$desc: $key is $got, want $want"; fi
}

sed 's/"eth0"/"'"$IF"'"/' "$EXAMPLE" >"$T/example.json"
cfg lo '{"iface": "'"$IF"'"}'

# ---- 1. errors in the file --------------------------------------------------

printf '{\n  "iface": "'"$IF"'",\n  "src_rate": ,\n}\n' >"$T/syntax.json"
expect_error "invalid JSON: line:column and jansson's reason" \
	"$T/syntax.json:3:15: invalid JSON: " -- -c "$T/syntax.json"
file_error "duplicate key is invalid JSON" dup '{"iface": "'"$IF"'", "iface": "'"$IF"'"}' \
	":1:" "duplicate object key"
: >"$T/empty.json"
expect_error "empty file is invalid JSON" "$T/empty.json:1:" "invalid JSON" -- -c "$T/empty.json"
file_error "trailing garbage is invalid JSON" trail '{"iface": "'"$IF"'"} x' "invalid JSON"
file_error "top level array" toparr '["'"$IF"'"]' "top level must be an object, got array"
file_error "unknown key" unknown '{"iface": "'"$IF"'", "foo": 1}' 'unknown key "foo"'
file_error "unknown key with a newline stays one line" unknown3 '{"iface": "'"$IF"'", "a\nb": 1}' 'unknown key "a\x0ab"'
file_error "unknown key, case differs" unknown2 '{"iface": "'"$IF"'", "Src_rate": 1}' 'unknown key "Src_rate"'

key_error "type: iface integer" iface 5 "expected a string or an array of strings, got integer"
key_error "type: iface element not a string" iface '["'"$IF"'", 5]' "item 2" "got integer"
key_error "type: iface object" iface '{}' "got object"
key_error "type: integer key given a string" nflog_group '"33"' "expected an integer" "got string"
key_error "type: integer key given a real" nflog_group 33.0 "expected an integer" "got real"
key_error "type: integer key given a boolean" rcvbuf true "got boolean"
key_error "type: number key given a string" src_rate '"1"' "expected a number > 0" "got string"
key_error "type: number key given null" iface_burst null "got null"
key_error "type: boolean given 1" dry_run 1 "expected true or false, got integer"
key_error "type: boolean given \"true\"" install_rules '"true"' "expected true or false, got string"
key_error "type: enum given an integer" src_key 0 'one of "flow", "source"' "got integer"
key_error "type: name given an integer" table 1 "got integer"
key_error "type: ports not an array" ports 80 "expected an array of integers 1..65535, got integer"
key_error "type: peers not an array" peers '"192.0.2.1"' "expected an array of IPv4/IPv6 address strings or host names, got string"

key_error "range: nflog_group -1" nflog_group -1 "0..65535" "got -1"
key_error "range: nflog_group 65536" nflog_group 65536 "got 65536"
key_error "range: queue 65536" queue 65536 "got 65536"
key_error "range: src_rate 0" src_rate 0 "expected a number > 0, got 0"
key_error "range: src_rate -1" src_rate -1 "expected a number > 0, got -1"
key_error "range: src_burst 0.5" src_burst 0.5 "expected a number >= 1, got 0.5"
key_error "range: iface_rate 0.0" iface_rate 0.0 "expected a number 0.001..1000000"
key_error "range: iface_burst 0" iface_burst 0 "expected a number 1..1000000"
key_error "range: src_table_size 32" src_table_size 32 "power of two 64..16777216" "got 32"
key_error "range: src_table_size 2^25" src_table_size 33554432 "got 33554432"
key_error "range: src_table_size not a power of two" src_table_size 1000 "got 1000"
key_error "range: min_mtu 67" min_mtu 67 "68..65535" "got 67"
key_error "range: min_mtu 65536" min_mtu 65536 "got 65536"
key_error "range: max_mtu 67" max_mtu 67 "got 67"
key_error "range: max_mtu 65536" max_mtu 65536 "got 65536"
key_error "range: verbose -1" verbose -1 "0..3"
key_error "range: verbose 4" verbose 4 "got 4"
key_error "range: cpu -2" cpu -2 "-1..1023"
key_error "range: cpu 1024" cpu 1024 "got 1024"
key_error "range: rcvbuf 65535" rcvbuf 65535 "65536..268435456"
key_error "range: rcvbuf 268435457" rcvbuf 268435457 "got 268435457"
file_error "integer beyond 64 bits is invalid JSON" big '{"iface": "'"$IF"'", "rcvbuf": 99999999999999999999}' \
	":1:" "invalid JSON"
file_error "cross-check: min_mtu > max_mtu" mtus \
	'{"iface": "'"$IF"'", "min_mtu": 1500, "max_mtu": 1400}' 'key "min_mtu"' "max_mtu"
file_error "cross-check: peers_refresh_min > peers_refresh_max" refresh \
	'{"iface": "'"$IF"'", "peers_refresh_min": 60, "peers_refresh_max": 30}' 'key "peers_refresh_min"' "peers_refresh_max"
key_error "enum: src_key unknown" src_key '"dest"' 'got "dest"'
key_error "type: vips not an array" vips '"203.0.113.80/32"' \
	"expected an array of IPv4/IPv6 prefix strings, got string"
key_error "type: vips element an integer" vips '[32]' "item 1" "got integer"
key_error "vips: host bits set" vips '["203.0.113.81/24"]' \
	'"203.0.113.81/24" has host bits set past /24 (network 203.0.113.0/24?)'
key_error "vips: v6 host bits set" vips '["2001:db8::/16"]' "host bits set" "2001:db8::/16"
key_error "vips: length 33" vips '["203.0.113.0/33"]' 'got "203.0.113.0/33"'
key_error "vips: length 129" vips '["2001:db8::/129"]' 'got "2001:db8::/129"'
key_error "vips: negative length" vips '["203.0.113.0/-1"]' 'got "203.0.113.0/-1"'
key_error "vips: empty length" vips '["203.0.113.0/"]' 'got "203.0.113.0/"'
key_error "vips: not an address" vips '["vip/32"]' "IPv4 or IPv6 address or prefix"
key_error "vips: duplicate" vips '["203.0.113.80", "203.0.113.80/32"]' "item 2" "duplicate prefix"
key_error "range: dedup_window -1" dedup_window -1 "expected a number >= 0, got -1"
file_error "cross-check: dedup_window above 3600" dedupmax \
	'{"iface": "'"$IF"'", "dedup_window": 3600.5}' 'key "dedup_window"' "0..3600"
key_error "enum: input unknown" input '"netlink"' 'one of "nflog", "nfqueue"'
key_error "user: starts with -" user '"-nobody"' 'got "-nobody"'
key_error "user: 33 characters" user '"abcdefghijklmnopqrstuvwxyz0123456"' "at most 32 characters"
key_error "type: user not a string" user '65534' "got integer"

key_error "peers: malformed IPv4" peers '["192.0.2.1", "1.2.3"]' "item 2" "IPv4 or IPv6 address" 'got "1.2.3"'
key_error "peers: malformed IPv6" peers '["2001:db8::g"]' 'got "2001:db8::g"'
key_error "peers: prefix is not an address" peers '["192.0.2.0/24"]' 'got "192.0.2.0/24"'
key_error "peers: element not a string" peers '[1]' "got integer"
key_error "peers: duplicate" peers '["192.0.2.1", "192.0.2.1"]' 'duplicate address "192.0.2.1"'
key_error "peers: duplicate, other spelling" peers '["2001:db8::1", "2001:DB8:0::1"]' "duplicate address"
key_error "peers: bad host name" peers '["pmtud.example.com", "a..b"]' "item 2" "or a host name" 'got "a..b"'
key_error "peers: duplicate name" peers '["Peers.example.com", "peers.example.COM"]' 'duplicate name "peers.example.COM"'
key_error "peers: label over 63" peers "[\"$(printf 'a%.0s' {1..64}).example\"]" "host name"
key_error "peers_refresh_min: 0" peers_refresh_min 0 "1..86400" "got 0"

key_error "ports: 0" ports '[80, 0]' "item 2" "1..65535" "got 0"
key_error "ports: 65536" ports '[65536]' "got 65536"
key_error "ports: -1" ports '[-1]' "got -1"
key_error 'ports: "80"' ports '["80"]' 'got string "80"'
key_error "ports: 80.0" ports '[80.0]' "got real"

key_error "table: space" table '"a b"' "A-Z a-z 0-9 _ -" 'got "a b"'
key_error "table: empty" table '""' 'got ""'
key_error "table: 64 characters" table "\"$(printf 'a%.0s' {1..64})\"" "1..63"
key_error "table: semicolon" table '"t;x"' 'got "t;x"'
key_error "iface: empty name" iface '""' "interface name"
key_error "iface: 16 characters" iface '"abcdefghijklmnop"' "1..15"
key_error "iface: slash" iface '["a/b"]' 'got "a/b"'
key_error "iface: duplicate" iface '["'"$IF"'", "'"$IF"'"]' 'duplicate interface "'"$IF"'"'

file_error "iface: no such interface" noif "{\"iface\": [\"$IF\", \"$NOIF\"]}" \
	"key \"iface\": no such interface \"$NOIF\""
file_error "iface: missing" noiface '{"nflog_group": 5}' "no interface configured"
file_error "iface: empty list" emptyif '{"iface": []}' "no interface configured"
expect_error "-c: missing file" "$T/nope.json" "No such file" -- -c "$T/nope.json" -i "$IF"
expect_error "-c: a directory" "$T:" -- -c "$T" -i "$IF"

# ---- 1b. errors on the command line -----------------------------------------

expect_error "unknown long option" "command line: unrecognized option '--frobnicate'" -- --frobnicate
expect_error "unknown short option" "command line: invalid option '-Z'" -- -Z
expect_error "ambiguous abbreviation" "command line: ambiguous option '--src'" -- -i "$IF" --src 1
expect_error "missing argument (long)" "option '--src-rate' requires an argument" -- -i "$IF" --src-rate
expect_error "missing argument (short)" "option '-c' requires an argument" -- -i "$IF" -c
expect_error "argument to a flag without one" "option '--dry-run' doesn't allow an argument" -- -i "$IF" --dry-run=yes
expect_error "positional argument" "unexpected argument 'eth0'" -- -i "$IF" eth0
cfg nofile '{}'
expect_error "missing iface, empty file" "$T/nofile.json: no interface configured" -- -c "$T/nofile.json"

flag_error "--src-rate abc" --src-rate abc "expected a number > 0" 'got "abc"'
flag_error "--src-rate nan" --src-rate nan 'got "nan"'
flag_error "--src-rate inf" --src-rate inf 'got "inf"'
flag_error "--src-rate 1e999 (overflow)" --src-rate 1e999 'got "1e999"'
flag_error "--src-rate 1x (trailing junk)" --src-rate 1x 'got "1x"'
flag_error "--src-rate empty" --src-rate '' 'got ""'
flag_error "--src-rate 0" --src-rate 0 'got "0"'
flag_error "--iface-burst 0.9" --iface-burst 0.9 "expected a number 1..1000000"
flag_error "--nflog 65536" --nflog 65536 "0..65535"
flag_error "--nflog 1.5" --nflog 1.5 'got "1.5"'
flag_error "--nflog ' 1' (leading space)" --nflog ' 1' 'got " 1"'
flag_error "--nflog 0x10" --nflog 0x10 'got "0x10"'
flag_error "--cpu 2^64 (overflow)" --cpu 18446744073709551616 "-1..1023"
flag_error "--min-mtu 67" --min-mtu 67 "68..65535"
flag_error "--vips host bits" --vips 198.51.100.1/24 "host bits set"
flag_error "--vips 1.2.3.4/x" --vips 192.0.2.0/x 'got "192.0.2.0/x"'
flag_error "--dedup-window -0.5" --dedup-window -0.5 "expected a number >= 0"
flag_error "--src-table-size 100" --src-table-size 100 "power of two"
flag_error "--rcvbuf 1k" --rcvbuf 1k 'got "1k"'
flag_error "--ports 80,,81" --ports 80,,81 'got ""'
flag_error "--ports 0" --ports 0 'got "0"'
flag_error "--ports 65536" --ports 22,65536 'got "65536"'
flag_error "--peers 1.2.3" --peers 192.0.2.1,1.2.3 "IPv4 or IPv6 address" 'got "1.2.3"'
flag_error "--peers duplicate" --peers 192.0.2.1,192.0.2.1 "duplicate address"
flag_error "--table 'a b'" --table 'a b' 'got "a b"'
flag_error "--table with a newline stays one line" --table $'a\nb' 'got "a\x0ab"'
flag_error "--src-key dest" --src-key dest 'one of "flow", "source"'
flag_error "--input netlink" --input netlink 'one of "nflog", "nfqueue"'
flag_error "--metrics-file relative" --metrics-file x.prom 'an absolute path' 'got "x.prom"'
flag_error "--stats-interval 0" --stats-interval 0 'an integer 1..3600, got "0"'
expect_error "-i a/b" "command line: --iface: " 'got "a/b"' -- -i a/b
expect_error "-i IF,IF" "command line: --iface: " 'duplicate interface "'"$IF"'"' -- -i "$IF,$IF"
expect_error "-i: no such interface" "no such interface \"$NOIF\"" -- -i "$NOIF" --check-config
expect_error "flag error wins over a valid file" "command line: --max-mtu: " -- -c "$T/lo.json" --max-mtu 70000

# ---- 2. the example file and the round trip -----------------------------------

run -c "$T/example.json" --check-config
if [ "$rc" = 0 ] && [ ! -s "$T/err" ]; then
	ok "config/pmtud.json (iface $IF) passes --check-config"
else
	not_ok "config/pmtud.json (iface $IF) passes --check-config: exit $rc: $(head -c 300 "$T/err")"
fi
cp "$T/out" "$T/dump1.json"
run -c "$T/dump1.json" --check-config
if [ "$rc" = 0 ] && cmp -s "$T/out" "$T/dump1.json"; then
	ok "round trip: the dump, read back, dumps identically"
else
	not_ok "round trip: the dump, read back, dumps identically (exit $rc)"
fi
if cmp -s "$T/dump1.json" "$T/example.json"; then
	ok "config/pmtud.json is exactly what --check-config prints for it"
else
	not_ok "config/pmtud.json is exactly what --check-config prints for it"
fi
run -c "$T/lo.json" --check-config
if [ "$rc" = 0 ] && cmp -s "$T/out" "$T/example.json"; then
	ok "config/pmtud.json holds every key at its default"
else
	not_ok "config/pmtud.json holds every key at its default: $(diff "$T/out" "$T/example.json" | head -5)"
fi

# Every key away from its default, then round trip. peer_source must
# be this host's: loopback (::1 too where IPv6 is on); cpu one we may
# run on, the last.
PSRC='"127.0.0.1"'
grep -qs '^0\{31\}1 ' /proc/net/if_inet6 && PSRC='"::1", "127.0.0.1"'
CPU=$(python3 -c 'import os; print(max(os.sched_getaffinity(0)))')
cfg full '{"iface": ["'"$IF"'"], "input": "nfqueue", "nflog_group": 0, "queue": 65535,
 "src_key": "source", "src_rate": 0.30000000000000004, "src_burst": 2.5, "iface_rate": 1e-3,
 "iface_burst": 65536, "src_table_size": 64, "ports": [65535, 1, 443],
 "peers": ["2001:DB8:0::1", "192.0.2.1", "198.51.100.1", "peers.example.com"],
 "peers_refresh_min": 1, "peers_refresh_max": 86400, "broadcast": false,
 "peer_ttl": 255, "peer_rate": 0.5, "peer_source": ['"$PSRC"'], "min_mtu": 1280,
 "max_mtu": 9000, "vips": ["2001:DB8:80::/48", "203.0.113.80", "0.0.0.0/0"],
 "dedup_window": 0.25, "relay_owned": true, "owner_rate": 2.5, "table": "my_table-1", "install_rules": false,
 "rules_skip_broadcast": true, "use_src_mac": true, "prelimit": false,
 "prelimit_rate": 10000000, "rcvbuf": 268435456, "cpu": '"$CPU"', "dry_run": true, "verbose": 3,
 "metrics_file": "/run/pmtud-nf/metrics.prom", "stats_interval": 3600, "metrics_peer_limit": 0,
 "user": "nobody"}'
run -c "$T/full.json" --check-config
cp "$T/out" "$T/full-dump.json"
run -c "$T/full-dump.json" --check-config
if [ "$rc" = 0 ] && cmp -s "$T/out" "$T/full-dump.json"; then
	ok "round trip with every key set away from its default"
else
	not_ok "round trip with every key set away from its default (exit $rc): $(head -c 300 "$T/err")"
fi
if python3 - "$T/full.json" "$T/full-dump.json" <<'EOF'
import json, sys
given, dump = (json.load(open(p)) for p in sys.argv[1:])
given["ports"] = [1, 443, 65535]
given["peers"] = ["2001:db8::1", "192.0.2.1", "198.51.100.1", "peers.example.com"]
given["peer_source"].sort(key=lambda a: ":" in a)
given["vips"] = ["2001:db8:80::/48", "203.0.113.80/32", "0.0.0.0/0"]
sys.exit(0 if given == dump and list(dump) == list(json.load(open(sys.argv[1]))) else 1)
EOF
then
	ok "the dump keeps every value (ports sorted, peers canonical)"
else
	not_ok "the dump keeps every value (ports sorted, peers canonical)"
fi

# ---- 3. values, defaults and overrides ------------------------------------------

cfg int '{"iface": "'"$IF"'", "src_rate": 2, "iface_burst": 3}'
expect_dump "integer accepted where a number is expected" src_rate 2.0 -c "$T/int.json"
expect_dump "iface given as a string" iface '["'"$IF"'"]' -c "$T/int.json"
expect_dump "src_burst defaults to max(1, src_rate): 2" src_burst 2.0 -c "$T/int.json"
expect_dump "src_burst defaults to max(1, src_rate): 1" src_burst 1.0 -i "$IF" --src-rate 0.25
expect_dump "iface_burst defaults to max(1, iface_rate)" iface_burst 10.0 -i "$IF"
expect_dump "default burst follows the rate given on the command line" src_burst 20.0 \
	-c "$T/int.json" --src-rate 20
expect_dump "explicit burst kept when the rate changes" iface_burst 3.0 -c "$T/int.json" --iface-rate 50
cfg over '{"iface": ["'"$NOIF"'"], "src_rate": 5, "nflog_group": 10, "ports": [80],
 "peers": ["192.0.2.1"], "verbose": 1, "table": "t1", "install_rules": true}'
expect_dump "--src-rate overrides the file" src_rate 7.0 -c "$T/over.json" -i "$IF" --src-rate 7
expect_dump "--nflog overrides the file" nflog_group 11 -c "$T/over.json" -i "$IF" --nflog 11
expect_dump "--table overrides the file" table '"t2"' -c "$T/over.json" -i "$IF" --table t2
expect_dump "--no-rules overrides the file" install_rules false -c "$T/over.json" -i "$IF" --no-rules
expect_dump "flags apply wherever -c stands" nflog_group 12 --nflog 12 -i "$IF" -c "$T/over.json"
expect_dump "-i replaces the file's interfaces" iface '["'"$IF"'"]' -c "$T/over.json" -i "$IF"
expect_dump "--ports replaces the file's ports" ports '[443]' -c "$T/over.json" -i "$IF" --ports 443
expect_dump "--ports repeated adds, sorted" ports '[22, 80, 443]' \
	-c "$T/over.json" -i "$IF" --ports 443,80 --ports 22
expect_dump "--ports '' means any port" ports '[]' -c "$T/over.json" -i "$IF" --ports ''
expect_dump "--peers replaces the file's peers" peers '["2001:db8::1"]' \
	-c "$T/over.json" -i "$IF" --peers 2001:DB8::1
expect_dump "-v adds to the file's verbose" verbose 3 -c "$T/over.json" -i "$IF" -vv
expect_dump "-v stops at 3" verbose 3 -i "$IF" -vvvvv --verbose
expect_dump "ports absent: any" ports '[]' -i "$IF"
expect_dump "min_mtu defaults to 552 (Linux min_pmtu)" min_mtu 552 -i "$IF"
expect_dump "dedup_window defaults to 1 s" dedup_window 1.0 -i "$IF"
expect_dump "vips absent: any address" vips '[]' -i "$IF"
expect_dump "--vips: prefixes, a bare address is a host prefix" vips \
	'["198.51.100.0/24", "2001:db8::1/128"]' -i "$IF" --vips 198.51.100.0/24,2001:db8::1
expect_dump "--vips '' means any address" vips '[]' -c "$T/over.json" -i "$IF" --vips ''
expect_dump "--dedup-window 0 turns dedup off" dedup_window 0.0 -i "$IF" --dedup-window 0
cfg dports '{"iface": "'"$IF"'", "ports": [443, 80]}'
expect_dump "ports in the file sorted" ports '[80, 443]' -c "$T/dports.json"
expect_dump "the last -c wins" nflog_group 10 -c "$T/lo.json" -c "$T/over.json" -i "$IF"
expect_error "repeated -i adds (second name checked)" "no such interface \"$NOIF\"" \
	-- -i "$IF" -i "$NOIF" --check-config
expect_error "repeated -i adds (first name kept)" "no such interface \"$NOIF\"" \
	-- -i "$NOIF" -i "$IF" --check-config
if [ -e /etc/pmtud.json ]; then
	ok "no -c and no /etc/pmtud.json: defaults + flags # SKIP /etc/pmtud.json exists"
	ok "no -c, no file, no -i: missing iface # SKIP /etc/pmtud.json exists"
else
	expect_dump "no -c and no /etc/pmtud.json: defaults + flags" nflog_group 33 -i "$IF"
	expect_error "no -c, no file, no -i: missing iface" \
		"command line: no interface configured" -- --check-config
fi

# ---- 3b. what start-up would refuse, --check-config refuses ---------------------

# The pre-limit rule carries 4 x iface_rate and 4 x iface_burst as whole
# packets: rate 0 is refused by the kernel, a burst of 2^32 wraps.
key_error "range: iface_rate 0.0001 (pre-limit rate 0)" iface_rate 0.0001 \
	"expected a number 0.001..1000000, got 0.0001"
key_error "range: iface_rate 1e19 (pre-limit rate wraps)" iface_rate 1e19 "0.001..1000000"
key_error "range: iface_burst 2^30 (pre-limit burst wraps)" iface_burst 1073741824 \
	"expected a number 1..1000000"
flag_error "--iface-rate 1000001" --iface-rate 1000001 "0.001..1000000"
expect_dump "iface_rate 0.001 and iface_burst 1000000 pass" iface_burst 1000000.0 \
	-i "$IF" --iface-rate 0.001 --iface-burst 1000000

for bad in 0.0.0.0:unspecified 0.1.2.3:unspecified 127.0.0.1:loopback 224.0.0.1:multicast \
	255.255.255.255:broadcast ::1:loopback :::unspecified ff02::1:multicast \
	fe80::1:link-local ::ffff:198.51.100.1:IPv4-mapped; do
	key_error "peers: ${bad%:*} is not a peer" peers "[\"198.51.100.1\", \"${bad%:*}\"]" \
		"item 2" "${bad##*:}" "a peer must be a unicast address of another host"
done
flag_error "--peers ff02::1" --peers ff02::1 "multicast"
file_error "peers: inside vips" pvip \
	'{"iface": "'"$IF"'", "peers": ["198.51.100.1", "203.0.113.9"], "vips": ["203.0.113.0/24"]}' \
	'key "peers"' "203.0.113.9 is inside vips 203.0.113.0/24"
OWN=$(ip -o addr show scope global 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }')
if [ -n "$OWN" ]; then
	expect_error "--peers: one of this host's addresses ($OWN)" 'command line: key "peers": ' \
		"$OWN is an address of this host" -- -i "$IF" --peers "$OWN" --check-config
else
	ok "peers: one of this host's addresses # SKIP no global address here"
fi
expect_error "--peer-source: not this host's" 'command line: key "peer_source": ' \
	"203.0.113.254 is not an address of this host" -- -i "$IF" --peer-source 203.0.113.254 --check-config

file_error "max_mtu 1279: every IPv6 PTB would be dropped" mtu6 \
	'{"iface": "'"$IF"'", "min_mtu": 552, "max_mtu": 1279}' 'key "max_mtu"' "below 1280"
expect_dump "max_mtu 1280 passes" max_mtu 1280 -i "$IF" --max-mtu 1280

key_error "iface: lo is not Ethernet" iface '["lo"]' '"lo" is not Ethernet'
expect_error "-i lo: not Ethernet" 'command line: key "iface": "lo" is not Ethernet' \
	-- -i lo --check-config
NOCPU=$(python3 -c 'import os; print(max(os.sched_getaffinity(0)) + 1)')
if [ "$NOCPU" -le 1023 ]; then
	key_error "cpu: one this process cannot run on ($NOCPU)" cpu "$NOCPU" \
		"CPU $NOCPU is not one this process may run on"
else
	ok "cpu: one this process cannot run on # SKIP all 1024 allowed"
fi

key_error "ports: duplicate" ports '[443, 80, 443]' "item 3" "duplicate port 443"
flag_error "--ports duplicate" --ports 80,80 "duplicate port \"80\""
expect_error "--ports repeated with a port again" "command line: --ports: " \
	'duplicate port "443"' -- -i "$IF" --ports 443,80 --ports 22,443 --check-config

expect_error "nfqueue with the operator's rules, undeclared" 'key "install_rules"' \
	'"rules_skip_broadcast": true' -- -i "$IF" --input nfqueue --no-rules --check-config
expect_dump "nfqueue with the operator's rules, declared" rules_skip_broadcast true \
	-i "$IF" --input nfqueue --no-rules --rules-skip-broadcast

# ---- 4. --help and --version ------------------------------------------------------

run --help
cp "$T/out" "$T/help"
if [ "$rc" = 0 ] && [ -s "$T/help" ] && [ ! -s "$T/err" ]; then
	ok "--help exits 0"
else
	not_ok "--help exits 0 (exit $rc)"
fi
run -h -c "$T/nope.json"
if [ "$rc" = 0 ] && cmp -s "$T/out" "$T/help"; then
	ok "-h prints the same help, without reading the file"
else
	not_ok "-h prints the same help, without reading the file (exit $rc)"
fi
missing=""
for code in 0 1 2 3 4 5; do
	grep -qE "^  $code  " "$T/help" || missing="$missing $code"
done
if [ -z "$missing" ]; then ok "--help lists exit codes 0..5"; else not_ok "--help lists exit codes 0..5: missing$missing"; fi

# Option lines: "  -X, --name ARG   doc" or "      --name   doc".
grep -E '^  (-[A-Za-z], |    )--[a-z]' "$T/help" >"$T/optlines"
bad=""
count=0
set -f	# NAME[,NAME...] is not a glob
while read -r line; do
	set -- $line
	short=""
	if [ "${1#--}" = "$1" ]; then short=${1%,}; shift; fi
	long=$1
	arg=""
	case ${2:-} in [A-Z]* | *\|*) arg=$2 ;; esac
	count=$((count + 1))
	if [ -n "$arg" ]; then
		run "$long"
		grep -qF "option '$long' requires an argument" "$T/err" || bad="$bad $long"
		if [ -n "$short" ]; then
			run "$short"
			grep -qF "option '$short' requires an argument" "$T/err" || bad="$bad $short"
		fi
	else
		run -c "$T/lo.json" "$long=x"
		grep -qF "option '$long' doesn't allow an argument" "$T/err" || bad="$bad $long"
		if [ -n "$short" ]; then
			run -c "$T/lo.json" --check-config "$short"
			[ "$rc" = 0 ] || bad="$bad $short"
		fi
	fi
done <"$T/optlines"
set +f
if [ "$count" -ge 20 ] && [ -z "$bad" ]; then
	ok "each of the $count options in --help is accepted, with the arity shown"
else
	not_ok "each option in --help is accepted, with the arity shown ($count found; wrong:$bad)"
fi
set --

# The keys named in --help brackets are exactly the keys of the dump.
if python3 - "$T/help" "$T/example.json" <<'EOF'
import json, re, sys
help_keys = re.findall(r"\[([a-z_]+); ", open(sys.argv[1]).read())
dump_keys = list(json.load(open(sys.argv[2])))
sys.exit(0 if help_keys == dump_keys else 1)
EOF
then
	ok "--help names every key, in the dump's order"
else
	not_ok "--help names every key, in the dump's order"
fi

run --version
want=$(sed -n 's/^AC_INIT(\[pmtud-nf\], *\[\([^]]*\)\].*/\1/p' "$TOP_SRCDIR/configure.ac")
if [ "$rc" = 0 ] && [ -n "$want" ] && [ "$(cat "$T/out")" = "pmtud-nf $want" ]; then
	ok "--version prints \"pmtud-nf $want\""
else
	not_ok "--version prints \"pmtud-nf $want\": got '$(cat "$T/out")' (exit $rc)"
fi
run -V
if [ "$rc" = 0 ] && [ "$(cat "$T/out")" = "pmtud-nf $want" ]; then ok "-V is --version"; else not_ok "-V is --version"; fi

echo "1..$n"
exit $failed
