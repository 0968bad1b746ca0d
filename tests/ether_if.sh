# ether_if.sh - sourced by tests that need an Ethernet interface but
# create none: start-up and --check-config refuse other link types
# (lo among them), so "iface" must name one.
#
# Sets ETHER_IF to this host's first interface of link type Ethernet
# (ARPHRD_ETHER, 1). Without one: as root, runs the test again in a
# new network namespace holding a dummy interface (Ethernet) with a
# documentation address; otherwise exits 77 (skip).
ether_if_find() {
	local t
	for t in /sys/class/net/*/type; do
		[ "$(cat "$t" 2>/dev/null)" = 1 ] || continue
		t=${t%/type}
		ETHER_IF=${t##*/}
		return 0
	done
	return 1
}

if [ -z "${ETHER_IF:-}" ] && ! ether_if_find; then
	if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
		export ETHER_IF=pmtudeth0
		exec unshare -n -- bash -c 'ip link add "$ETHER_IF" type dummy &&
			ip addr add 198.51.100.77/24 dev "$ETHER_IF" &&
			exec bash "$0"' "$0"
	fi
	echo "SKIP: no Ethernet interface on this host (and not root to make one)"
	exit 77
fi
