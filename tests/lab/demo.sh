#!/bin/bash
# demo.sh - see the PMTU black hole and pmtud-nf fixing it, in ~30 s.
#
#   sudo tests/lab/demo.sh
#
# On a Debian machine (12 or later), as root: installs the build
# dependencies (tests/deps.sh), builds pmtud-nf out of tree in
# build-demo/ (or $PMTUD_DEMO_BUILDDIR), builds a throw-away network
# namespace lab (tests/lab/lib.sh: a client, an edge router with a
# 1280-byte link, an ECMP router, two servers sharing an anycast VIP),
# then:
#   1. downloads from the VIP over IPv4 and IPv6 hang: the edge
#      router's "packet too big" errors reach the wrong server;
#   2. with pmtud-nf on both servers the same downloads complete;
#   3. shows the agents' decisions and the MTU the owning server learned.
# Everything happens in namespaces that are deleted on exit. Exit
# status 0 when the demo behaved as described, 1 otherwise.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${PMTUD_DEMO_BUILDDIR:-$top/build-demo}

say() { printf '\n== %s\n' "$*"; }
info() { printf '   %s\n' "$*"; }
die() { printf '\ndemo: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run me as root (network namespaces, nftables): sudo $0"

say "Installing build dependencies (tests/deps.sh)"
bash "$top/tests/deps.sh" || die "tests/deps.sh failed"

say "Building pmtud-nf in $builddir"
if [ ! -x "$top/configure" ]; then
	(cd "$top" && autoreconf -fi) || die "autoreconf failed"
fi
mkdir -p "$builddir" || die "cannot create $builddir"
if ! (
	cd "$builddir" &&
	{ [ -f Makefile ] || "$top/configure" -q; } &&
	make -j"$(nproc)" src/pmtud-nf tests/lab/xfer
) >"$builddir/demo-build.log" 2>&1; then
	tail -n 30 "$builddir/demo-build.log" >&2
	die "build failed (log: $builddir/demo-build.log)"
fi
info "built $builddir/src/pmtud-nf"

export TOP_BUILDDIR=$builddir
PMTUD_NF=$builddir/src/pmtud-nf
# shellcheck source=tests/lab/lib.sh
. "$top/tests/lab/lib.sh"
lab_init 120

say "Building the namespace lab"
cat <<EOF
   client C --- edge router E --- ECMP router R ---+--- server S1 (eth0)
                (link to C:                        |    both hold the VIP
                 MTU 1280)                         +--- server S2 (eth0)
   VIP $LAB_VIP4 / $LAB_VIP6, port $LAB_PORT, $LAB_BYTES-byte downloads.
   R sends the TCP flows to S1 but ICMP errors to S2, as ECMP hashing
   does when it cannot see the flow inside an ICMP error.
EOF
lab_up deterministic || die "the lab did not come up"
info "lab up (namespaces $LAB_PFX-*)"

conf=$LAB_DIR/demo.json
echo '{}' >"$conf"
failed=0
expect() { "$@" || failed=1; }

show_get()
{
	local f=$1 i=$2 line what n ms
	line=$(lab_get_line "$f" "$i")
	read -r what n ms _ <<<"$line"
	case $what in
	ok) info "$f: client $(lab_client_addr "$f" "$i") downloaded $n bytes in $ms ms" ;;
	stall) info "$f: client $(lab_client_addr "$f" "$i") HANGS: $n bytes after $ms ms" ;;
	*) info "$f: client $(lab_client_addr "$f" "$i") failed: $line" ;;
	esac
}

say "1. Without pmtud-nf: downloads over IPv4 and IPv6 (3 s timeout)"
lab_ptb_reset
lab_get_many 3000 v4 0 v6 0
for f in v4 v6; do
	show_get $f 0
	expect [ "$(lab_get_rc $f 0)" = 1 ]
	info "   E sent $(lab_ptb_count E $f out) \"packet too big\" errors: S2 got $(lab_ptb_count S2 $f), the owner S1 got $(lab_ptb_count S1 $f)"
done
info "S1 keeps sending 1500-byte segments that never arrive: a black hole."

say "2. Starting pmtud-nf on S1 and S2"
info "$ pmtud-nf -c $conf -i eth0 -v    (in each server's namespace)"
lab_start_agent S1 -c "$conf" -i "$LAB_SEG_IF" -v || die "the agent did not start on S1"
lab_start_agent S2 -c "$conf" -i "$LAB_SEG_IF" -v || die "the agent did not start on S2"
info "its nftables table on S2:"
lab_exec S2 nft list table inet pmtud | sed 's/^/      /'

say "3. The same downloads with pmtud-nf"
lab_flush
lab_ptb_reset
lab_get_many 3000 v4 0 v6 0
for f in v4 v6; do
	show_get $f 0
	expect [ "$(lab_get_rc $f 0)" = 0 ]
	info "   S2 relayed the error as an Ethernet broadcast; S1 got $(lab_ptb_count S1 $f bcast) copy(ies)"
done

say "4. What the agents decided (log of S2, then S1)"
lab_agent_log S2 | grep -E 'FORWARD|DROP' | sed 's/^/   S2 /'
lab_agent_log S1 | grep -E 'FORWARD|DROP' | sed 's/^/   S1 /'
expect eval "lab_agent_log S2 | grep -q 'FORWARD eth0'"
info "(DROP ratelimit_source: further errors for the same client within 1 s.)"
lab_agent_log S1 | grep -qE 'FORWARD|DROP' ||
	info "(S1 had nothing to decide: copies arrive as Ethernet broadcasts, which its rule skips, so copies are never relayed again.)"

say "5. What the owner S1 learned"
r4=$(lab_exec S1 ip route get "$(lab_client_addr v4 0)" | tr -s ' \n' ' ')
r6=$(lab_exec S1 ip -6 route get "$(lab_client_addr v6 0)" | tr -s ' \n' ' ')
info "$ ip route get $(lab_client_addr v4 0):  $r4"
info "$ ip -6 route get $(lab_client_addr v6 0):  $r6"
expect grep -q 'mtu 1280' <<<"$r4"
expect grep -q 'mtu 1280' <<<"$r6"

say "6. Stopping the agents"
for n in S1 S2; do
	lab_stop_agent $n
	rc=$?
	expect [ "$rc" = 0 ]
	if lab_exec $n nft list table inet pmtud >/dev/null 2>&1; then
		failed=1
		info "$n: exit status $rc, but its table is still there"
	else
		info "$n: exit status $rc, table inet pmtud removed"
	fi
done

if [ "$failed" = 0 ]; then
	say "Demo OK: the downloads hung without pmtud-nf and completed with it."
	exit 0
fi
say "Demo FAILED: something did not behave as described above."
exit 1
