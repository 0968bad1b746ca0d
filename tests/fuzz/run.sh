#!/bin/bash
# Build the libFuzzer targets with clang (ASan + UBSan), replay the
# committed regression inputs, then fuzz each target for FUZZ_SECONDS
# (default 60) from the seed corpus. Fails on any crash, leak, timeout
# or invariant violation; the reproducer is left in the artifacts
# directory it names. Standalone: needs no configure run.
#
#   FUZZ_SECONDS=600 tests/fuzz/run.sh            # longer run
#   FUZZ_TARGETS=conf tests/fuzz/run.sh           # one target
#   FUZZ_BUILD_DIR=/tmp/f tests/fuzz/run.sh       # default: build-fuzz/
#
# Prints the executions of each target, "PASS: <step>" / "FAIL: <step>"
# lines and ends with "fuzz: N passed, N failed, 0 skipped" (counted by
# tests/check.sh).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
fz=$top/tests/fuzz
out=${FUZZ_BUILD_DIR:-$top/build-fuzz}
secs=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"classify conf nflog"}
cc=${FUZZ_CC:-clang}

mkdir -p "$out"
out=$(cd "$out" && pwd)
# The sources include the autoconf header; nothing in it is needed here.
: > "$out/config.h"

# shellcheck disable=SC2054 # commas inside -fsanitize=
cflags=(-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
	-Wpointer-arith -Wformat=2 -Wvla -Werror
	-I"$out" -I"$top/src" -I"$fz")
read -r -a jansson_cflags <<< "$(pkg-config --cflags jansson)"
read -r -a jansson_libs <<< "$(pkg-config --libs jansson)"
read -r -a nflog_cflags <<< "$(pkg-config --cflags libmnl libnetfilter_log)"
read -r -a nflog_libs <<< "$(pkg-config --libs libmnl libnetfilter_log)"

# Target name -> its sources and libFuzzer options.
sources() {
	case $1 in
	classify) echo "$fz/fuzz_classify.c $top/src/classify.c $top/src/classify_memo.c $top/src/addr.c" ;;
	conf) echo "$fz/fuzz_conf.c $top/src/conf_*.c $top/src/addr.c" ;;
	nflog) echo "$fz/fuzz_nflog.c $top/src/input_nflog.c $top/src/nfnl_sock.c" \
		"$top/src/batch_adapt.c $top/src/classify.c $top/src/addr.c" ;;
	*) echo "run.sh: unknown target $1" >&2; return 1 ;;
	esac
}

options() {
	case $1 in
	classify) echo "-max_len=2048" ;;
	conf) echo "-max_len=4096 -dict=$out/conf.dict" ;;
	nflog) echo "-max_len=4096" ;;
	esac
}

# JSON tokens plus every key of the schema (config/pmtud.json is the
# full dump of the key table, kept so by tests/test_config.sh).
make_dict() {
	{
		printf '%s\n' '"{"' '"}"' '"["' '"]"' '":"' '","' '"\""' \
			'"true"' '"false"' '"null"' '"-1"' '"0"' '"1e308"' \
			'"0.5"' '"65535"' '"65536"' '"\\u0000"' '"flow"' \
			'"source"' '"nflog"' '"nfqueue"' '"192.0.2.1"' \
			'"2001:db8::1"' '"eth0"'
		grep -o '^  "[a-z_0-9]*"' "$top/config/pmtud.json" |
			sed 's/^  "\(.*\)"$/"\\"\1\\""/'
	} > "$out/conf.dict"
}

pass=0 fail=0
result() {	# result PASS|FAIL step
	echo "$1: $2"
	if [ "$1" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

build() {	# build target -> $out/fuzz_<target>
	local src
	src=$(sources "$1") || return 1
	# shellcheck disable=SC2086
	"$cc" "${cflags[@]}" "${jansson_cflags[@]}" "${nflog_cflags[@]}" $src \
		"${jansson_libs[@]}" "${nflog_libs[@]}" -o "$out/fuzz_$1"
}

# Every committed reproducer must now pass (run once each, no fuzzing).
replay() {
	local t=$1 files=()
	[ -d "$fz/regress/$t" ] && mapfile -t files < <(find "$fz/regress/$t" -type f | sort)
	[ ${#files[@]} -gt 0 ] || return 0
	if "$out/fuzz_$t" "${files[@]}" > "$out/replay_$t.log" 2>&1; then
		result PASS "fuzz_$t replay of ${#files[@]} regression inputs"
	else
		tail -n 40 "$out/replay_$t.log"
		result FAIL "fuzz_$t replay of regression inputs (log: $out/replay_$t.log)"
	fi
}

fuzz() {
	local t=$1
	local art=$out/artifacts/$t/ log=$out/fuzz_$t.log rc=0 execs
	rm -rf "$art"	# only this run's reproducers
	mkdir -p "$art" "$out/corpus/$t"
	# New inputs go to the build's corpus; the committed seeds are read only.
	# shellcheck disable=SC2046
	"$out/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-artifact_prefix="$art" $(options "$t") \
		"$out/corpus/$t" "$fz/corpus/$t" > "$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	echo "fuzz_$t: ${execs:-?} executions in ${secs} s," \
		"$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | tr -d :) edges," \
		"$(find "$out/corpus/$t" -type f | wc -l) inputs in $out/corpus/$t"
	if [ "$rc" -eq 0 ] && ! grep -q '^==[0-9]*==ERROR\|^SUMMARY: ' "$log"; then
		result PASS "fuzz_$t"
		return
	fi
	tail -n 60 "$log"
	echo "run.sh: reproducer(s) in $art:"
	ls -l "$art"
	echo "run.sh: replay with $out/fuzz_$t FILE; once fixed, commit it" \
		"to tests/fuzz/regress/$t/"
	result FAIL "fuzz_$t (log: $log)"
}

make_dict
for t in $targets; do
	echo "==== fuzz: fuzz_$t: build, replay tests/fuzz/regress/$t, fuzz ${secs} s ===="
	if ! build "$t"; then
		result FAIL "fuzz_$t: does not build"
		continue
	fi
	replay "$t"
	fuzz "$t"
done
echo "fuzz: $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
