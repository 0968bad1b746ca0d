#!/bin/bash
# fresh.sh - the README's two commands on a fresh minimal Debian.
#
# A `mmdebstrap --variant=minbase` root of the host's suite (cached by
# lab_debian_root; nothing added to it) gets a copy of this checkout
# (the files git tracks plus untracked ones it does not ignore, as a
# clone would have them). Then, inside it, as root:
#   1. tests/deps.sh, with the host's network (apt needs it; .deb files
#      are cached under LAB_ROOT_CACHE/apt, the install is real);
#   2. the README's commands, tests/lab/demo.sh then tests/check.sh,
#      with systemd-nspawn --private-network --capability=all: no
#      network, so a package deps.sh forgot fails them instead of
#      being fetched (nspawn mounts /proc/sys read-only unless the
#      container has its own network namespace, and the lab sets
#      sysctls). FUZZ_SECONDS (default 10 here) bounds the fuzz stage;
#      the lab tests inside share the host's lab lock.
# Exit 0 when both commands succeed; 77 where it cannot run (not root,
# PMTUD_SKIP_LAB=1, no mmdebstrap/systemd-nspawn, not a git checkout,
# inside a container). Run by .ci/run after the suite; not in make check
# (it runs make check itself). Prints each stage's time.
set -u
# One compound command: bash reads it whole before running it, so the
# checkout may change while this runs (it takes a while).
{
top=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "fresh: $*"; }
skip() { say "SKIP: $*"; exit 77; }

[ "${PMTUD_SKIP_LAB:-0}" = 1 ] && skip "PMTUD_SKIP_LAB=1"
[ "$(id -u)" = 0 ] || skip "needs root"
for t in mmdebstrap systemd-nspawn git; do
	command -v $t >/dev/null || skip "$t missing (tests/deps.sh installs it)"
done
[ "${container:-}" = systemd-nspawn ] || [ -e /run/host/container-manager ] &&
	skip "inside systemd-nspawn: it would nest"
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 || skip "$top is not a git checkout"
# shellcheck source=tests/lab/lib.sh
. "$top/tests/lab/lib.sh"

t0=$SECONDS
stage() { say "$1: $(( SECONDS - t0 )) s"; t0=$SECONDS; }
TAR=$(lab_debian_root fresh) || skip "mmdebstrap could not build a minimal root (mirror $(lab_debian_mirror))"
stage "minimal root ($TAR)"
DIR=$(mktemp -d /tmp/pmtud-fresh.XXXXXX) || exit 1
trap 'rm -rf -- "$DIR"' EXIT
ROOT=$DIR/root
SRC=/root/pmtud-nf
mkdir "$ROOT" && tar -C "$ROOT" -xf "$TAR" || { say "cannot unpack $TAR"; exit 1; }
mkdir -p "$ROOT$SRC" &&
	git -C "$top" ls-files -z --cached --others --exclude-standard |
	(cd "$top" && xargs -0 tar -cf - --no-recursion) | tar -C "$ROOT$SRC" -xf - ||
	{ say "cannot copy the checkout"; exit 1; }
stage "root unpacked, checkout copied"

APT=${LAB_ROOT_CACHE:-/var/cache/pmtud-nf-test}/apt
mkdir -p "$APT/partial"
# The host's lab lock, so the lab tests inside and outside take turns
# (FRESH_LAB_LOCK: another file, to run alongside them).
LOCK=${FRESH_LAB_LOCK:-${TMPDIR:-/tmp}/pmtud-nf-lab.lock}
touch "$LOCK"
run()
{
	systemd-nspawn -q -D "$ROOT" --register=no --keep-unit --as-pid2 \
		--bind="$APT:/var/cache/apt/archives" \
		--bind="$LOCK:/tmp/pmtud-nf-lab.lock" \
		--setenv=FUZZ_SECONDS="${FUZZ_SECONDS:-10}" \
		--setenv=LAB_LOCK_WAIT="${LAB_LOCK_WAIT:-1200}" \
		--chdir="$SRC" "$@" </dev/null
}
rc=0
if ! run /bin/bash tests/deps.sh >"$DIR/deps.log" 2>&1; then
	tail -n 30 "$DIR/deps.log"
	say "tests/deps.sh failed in the fresh root"
	rc=1
fi
stage "tests/deps.sh (network)"
if [ $rc = 0 ]; then
	# A machine has an Ethernet interface (the tests that need one use
	# the first); a private network has only lo: a veth pair stands in.
	run --private-network --capability=all /bin/bash -c \
		'ip link add eth0 type veth peer name eth1 && ip link set eth0 up &&
		 tests/lab/demo.sh && tests/check.sh' || rc=1
	stage "tests/lab/demo.sh && tests/check.sh (no network)"
fi
say "$([ $rc = 0 ] && echo PASS || echo FAIL): the README's commands on a fresh $(. "$ROOT/etc/os-release" && echo "$PRETTY_NAME") root"
exit $rc
}
