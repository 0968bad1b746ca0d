#!/bin/bash
# The unit tests under the sanitizers and valgrind; run by tests/check.sh
# after `make check`, or alone once a build exists.
#
#  1. A second out-of-tree build with ASan + UBSan (ASAN_BUILD_DIR,
#     default BUILD_DIR-asan) runs the unit tests through make check;
#     any sanitizer report fails the test (halt_on_error, leaks on).
#  2. valgrind memcheck runs the unit test binaries of the normal build
#     (BUILD_DIR, default build/): invalid accesses, uninitialised
#     reads and definite/indirect leaks fail.
#
# Ends with "sanitize: N passed, N failed, N skipped"; exit 1 if any failed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
asan=${ASAN_BUILD_DIR:-$build-asan}
jobs=$(nproc 2>/dev/null || echo 2)
unit="tests/test_classify tests/test_ratelimit tests/test_dedup tests/test_owner tests/test_own_addr tests/test_metrics tests/test_batch_adapt tests/test_fairshare tests/test_peerset tests/test_config.sh"
vg_unit="tests/test_classify tests/test_ratelimit tests/test_dedup tests/test_owner tests/test_own_addr tests/test_batch_adapt tests/test_fairshare tests/test_peerset"
pass=0 fail=0 skip=0

count() {	# count PASS|FAIL|SKIP what
	echo "$1: $2"
	case $1 in
	PASS) pass=$((pass + 1)) ;;
	SKIP) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)) ;;
	esac
}

echo "==== sanitize: unit tests under ASan + UBSan ($asan) ===="
san="-fsanitize=address,undefined"
reports=$asan/sanitizer-reports
rm -rf "$asan"
mkdir -p "$reports"
(
	cd "$asan"
	"$top/configure" -q --enable-werror CC="${CC:-gcc}" \
		CFLAGS="-O1 -g $san -fno-omit-frame-pointer" LDFLAGS="$san"
	make -j"$jobs" > make.log 2>&1 || { tail -n 40 make.log; exit 1; }
	# A test that captures the agent's stderr or expects exit 1 must
	# not hide a report: ASan/LSan write theirs to files, UBSan (whose
	# log_path is ignored next to ASan) exits 86 and is grepped for.
	export ASAN_OPTIONS=detect_leaks=1:log_path=$reports/asan
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86
	make -j"$jobs" check TESTS="$unit" > check.log 2>&1 ||
		{ grep -v '^ok ' test-suite.log | head -n 80; exit 1; }
) || true
if [ -n "$(ls -A "$reports")" ]; then
	head -n 60 "$reports"/*
	count FAIL "ASan/LSan reports during the unit tests, in $reports"
fi
if grep -l 'runtime error:' "$asan"/tests/*.log "$asan/check.log" 2>/dev/null; then
	count FAIL "UBSan reports during the unit tests, in the logs above"
fi
for t in $unit; do
	# automake names the results of tests/x.sh tests/x.trs and tests/x.log.
	res=$(sed -n 's/^:test-result: //p' "$asan/${t%.sh}.trs" 2>/dev/null | head -n 1)
	case $res in
	PASS|SKIP) count "$res" "$t (ASan+UBSan)" ;;
	"") count FAIL "$t (ASan+UBSan): not run (configure/build failed, see above)" ;;
	*) count FAIL "$t (ASan+UBSan): $res, see $asan/${t%.sh}.log" ;;
	esac
done

echo "==== sanitize: unit tests under valgrind ($build) ===="
if [ ! -f "$build/Makefile" ]; then
	mkdir -p "$build"
	(cd "$build" && "$top/configure" -q --enable-werror)
fi
# shellcheck disable=SC2086
make -C "$build" -j"$jobs" $vg_unit > "$build/valgrind-make.log" 2>&1 ||
	{ tail -n 40 "$build/valgrind-make.log"; exit 1; }
for t in $vg_unit; do
	log=$build/$t.valgrind.log
	start=$(date +%s)
	if valgrind -q --error-exitcode=1 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect "$build/$t" > "$log" 2>&1; then
		count PASS "$t (valgrind, $(($(date +%s) - start)) s)"
	else
		grep -v '^ok ' "$log" | tail -n 40
		count FAIL "$t (valgrind): see $log"
	fi
done
echo "sanitize: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
