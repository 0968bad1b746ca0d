#!/bin/bash
# The project's test command (README, .ci/run): install dependencies,
# build out of tree with warnings as errors, run `make check` (as root
# the namespace-lab tests run too; otherwise they skip with 77), then
# `make distcheck`, then the unit tests under ASan+UBSan and valgrind
# (tests/sanitize.sh) and the fuzzers (tests/fuzz/run.sh, FUZZ_SECONDS
# per target, default 60). Prints one summary line
# "check: N passed, N failed, N skipped" counting every stage.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
jobs=$(nproc 2>/dev/null || echo 2)

# "check: STAGE: N s" after each stage, for CI's time budget.
t0=$SECONDS
took() { echo "check: $1: $((SECONDS - t0)) s"; t0=$SECONDS; }
"$top/tests/deps.sh"
took "tests/deps.sh"
cd "$top"
autoreconf -fi
rm -rf "$build"
mkdir -p "$build"
cd "$build"
"$top/configure" --enable-werror CC="${CC:-gcc}"
rc=0
make -j"$jobs"
took "autoreconf, configure, build"
make -j"$jobs" check || rc=$?
took "make check"
# On failure the suite log holds the output of every failed test.
[ "$rc" -eq 0 ] || cat test-suite.log
pass=$(grep -ls '^:test-result: PASS' $(find . -name '*.trs') | wc -l)
fail=$(grep -ls '^:test-result: \(FAIL\|ERROR\|XPASS\)' $(find . -name '*.trs') | wc -l)
skip=$(grep -ls '^:test-result: SKIP' $(find . -name '*.trs') | wc -l)
if [ "$rc" -eq 0 ]; then
	# distcheck re-runs the unit tests from the tarball; the lab tests
	# already ran above, so distcheck skips them to stay within time.
	PMTUD_SKIP_LAB=1 make distcheck \
		DISTCHECK_CONFIGURE_FLAGS="--enable-werror" || rc=$?
	took "make distcheck"
fi
# Unit tests under ASan+UBSan and valgrind, then FUZZ_SECONDS of
# fuzzing per target. Each stage ends with "NAME: N passed, N failed,
# N skipped", added to the totals; one that dies before it counts as
# one failure.
for stage in tests/sanitize.sh tests/fuzz/run.sh; do
	echo "==== check: $stage ===="
	BUILD_DIR=$build FUZZ_BUILD_DIR=$build-fuzz \
		FUZZ_SECONDS=${FUZZ_SECONDS:-60} "$top/$stage" 2>&1 | tee "$build/stage.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	n=$(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' \
		"$build/stage.log" | tail -n 1)
	read -r p f s <<< "${n:-0 1 0}"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	took "$stage"
done
echo "check: $pass passed, $fail failed, $skip skipped"
exit "$rc"
