#!/bin/bash
# systemd_boot.sh - the unit under a real systemd, as a new user meets it.
#
# A minimal Debian root (mmdebstrap --variant=minbase, the runtime
# libraries, systemd, nftables, iproute2; cached by lab_debian_root) gets
# this build by `make install DESTDIR=`, then boots with
# `systemd-nspawn -b` in a network namespace of its own that holds host0,
# one end of a veth pair whose other end is in a lab namespace (so the
# interface is there from the first boot on). Through systemctl and
# journalctl inside it:
#   enable --now: active, enabled, table and group in place as soon as
#     `systemctl start` returns (it returns at READY=1; test_systemd.sh
#     checks the exact moment with a fake notify socket); the start's
#     journal <= 12 lines, none at warning or above; metrics_file
#     /run/pmtud-nf/pmtud.prom written, 0644, in a 0755 directory
#   reload of a changed file: applied (the new group bound)
#   reload of an invalid file, and of one the agent refuses: systemctl
#     reload fails, the reason in systemctl status, same main pid, old
#     group still bound
#   kill -9: restarted, with its table
#   watchdog (drop-in WatchdogSec=2s, SIGSTOP): killed and restarted
#   stop: table gone, group unbound
#   reboot: enabled, so up again with its table
# Skips (77) where it cannot run, saying why: not root, PMTUD_SKIP_LAB=1,
# no mmdebstrap or systemd-nspawn, already in a container (tests/fresh.sh
# runs the suite in one), or a container that does not boot.
set -u
NAME=systemd_boot
BUILD=${TOP_BUILDDIR:-.}
# shellcheck source=tests/lab/lib.sh
. "${TOP_SRCDIR:-.}/tests/lab/lib.sh"
require_root
for t in mmdebstrap systemd-nspawn nsenter; do
	command -v $t >/dev/null || { echo "# SKIP: $t missing (tests/deps.sh installs it)"; exit 77; }
done
if [ "${container:-}" = systemd-nspawn ] || [ -e /run/host/container-manager ]; then
	echo "# SKIP: inside systemd-nspawn (tests/fresh.sh): it would nest"; exit 77
fi
[ -f "$BUILD/Makefile" ] || { echo "$NAME: no build in $BUILD"; exit 1; }

# The root first, outside the lab lock: building it downloads. The
# packages: what `ldd src/pmtud-nf` needs at run time (add a library
# here when configure.ac adds one), systemd and the tools the checks run.
TAR=$(lab_debian_root boot systemd systemd-sysv dbus libmnl0 libnftnl11 \
	libnetfilter-log1 libnetfilter-queue1 libjansson4 libsystemd0 libc-ares2 nftables iproute2) ||
	{ echo "# SKIP: mmdebstrap could not build a minimal root (mirror $(lab_debian_mirror))"; exit 77; }
lab_init "${LAB_TIMEOUT:-420}"
ROOT=$LAB_DIR/root
NS=$LAB_PFX-boot
NSPAWN=
LEADER=
mkdir "$ROOT" && tar -C "$ROOT" -xf "$TAR" || { echo "Bail out! cannot unpack $TAR"; exit 1; }
make -s -C "$BUILD" install DESTDIR="$ROOT" >"$LAB_DIR/install.log" 2>&1 ||
	{ cat "$LAB_DIR/install.log"; echo "Bail out! make install DESTDIR= failed"; exit 1; }
UNIT=$(cd "$ROOT" && find lib/systemd/system usr/lib/systemd/system -name pmtud-nf.service 2>/dev/null | head -n 1)
[ -n "$UNIT" ] || { echo "# SKIP: the build installs no unit (--with-systemdsystemunitdir=no)"; exit 77; }
EXEC=$(sed -n 's/^ExecStart=\([^ ]*\) -c \([^ ]*\)$/\1 \2/p' "$ROOT/$UNIT")
CONF=${EXEC#* }
lab_note "installed: /$UNIT, ExecStart ${EXEC% *}, config $CONF"

ct() { timeout 60 "$LAB_NSENTER" -t "$LEADER" -a "$@"; }
sc() { ct systemctl --no-pager "$@"; }

# Boot and wait for the system.
boot()
{
	local i p
	systemd-nspawn -q -D "$ROOT" -M "$NS" --register=no --keep-unit \
		--network-namespace-path="/run/netns/$NS-ct" --capability=CAP_NET_ADMIN -b \
		>>"$LAB_DIR/console.log" 2>&1 </dev/null &
	NSPAWN=$!
	LEADER=
	for i in $(seq 100); do
		# nspawn forks once more when it sets up networking itself.
		for p in "$NSPAWN" $(pgrep -P "$NSPAWN"); do
			LEADER=$(pgrep -P "$p" -x systemd | head -n 1)
			[ -n "$LEADER" ] && break 2
		done
		sleep 0.1
	done
	[ -n "$LEADER" ] || return 1
	# Until its manager listens, systemctl cannot even ask.
	for i in $(seq 300); do
		case $(ct systemctl is-system-running 2>/dev/null) in
		running|degraded) return 0 ;;
		esac
		sleep 0.2
	done
	return 1
}
poweroff()
{
	[ -n "$NSPAWN" ] || return 0
	ct systemctl poweroff 2>/dev/null
	for _ in $(seq 150); do
		kill -0 "$NSPAWN" 2>/dev/null || break
		sleep 0.2
	done
	# Killing the container's init ends all of it; nspawn follows.
	[ -n "$LEADER" ] && kill -KILL "$LEADER" 2>/dev/null
	sleep 0.5
	kill -KILL "$NSPAWN" 2>/dev/null
	wait "$NSPAWN" 2>/dev/null
	NSPAWN=
}
lab_defer poweroff
lab_defer ip netns del "$NS"
lab_defer ip netns del "$NS-ct"

# host0 in the container's namespace, its peer b0 in a lab namespace.
ip netns add "$NS" && ip netns add "$NS-ct" &&
	ip -n "$NS" link add b0 type veth peer name host0 netns "$NS-ct" &&
	ip -n "$NS" link set b0 up && ip -n "$NS-ct" link set host0 up ||
	{ echo "Bail out! veth"; exit 1; }
if ! boot; then
	tail -n 20 "$LAB_DIR/console.log" | sed 's/^/# /'
	echo "# SKIP: systemd-nspawn -b did not reach a running system here (console above)"
	exit 77
fi
lab_note "booted $(ct systemctl --version | head -n 1) in $ROOT"

conf() { printf '%s\n' "$1" >"$ROOT$CONF"; chmod 644 "$ROOT$CONF"; }
main_pid() { sc show -p MainPID --value pmtud-nf; }
bound() { ct cat /proc/net/netfilter/nfnetlink_log | awk -v g="$1" '$1 == g { f = 1 } END { exit !f }'; }
table() { ct nft list table inet pmtud >/dev/null 2>&1; }
active() { [ "$(sc is-active pmtud-nf)" = active ]; }
# Poll: a restart takes RestartSec=2s and the start.
wait_for() { local i; for i in $(seq 100); do "$@" && return 0; sleep 0.2; done; return 1; }
restarted() { local p; p=$(main_pid); [ "$p" != 0 ] && [ "$p" != "$1" ] && active && table; }
cursor() { ct journalctl -q -n 0 --show-cursor | sed -n 's/^-- cursor: //p'; }
since() { ct journalctl -q --no-pager -u pmtud-nf --after-cursor="$1" "${@:2}"; }

METRICS=/run/pmtud-nf/pmtud.prom
conf '{ "iface": "host0", "nflog_group": 33, "stats_interval": 1, "metrics_file": "'$METRICS'" }'

# ---- enable --now, a clean start --------------------------------------
c=$(cursor)
lab_ok "systemctl enable --now pmtud-nf" sc enable --now pmtud-nf
# start returns at READY=1: nothing polled here.
lab_ok "right when start returns: table inet pmtud in place" table
lab_ok "right when start returns: NFLOG group 33 bound" bound 33
lab_ok "active" active
lab_ok "enabled for boot" test "$(sc is-enabled pmtud-nf)" = enabled
since "$c" -o short-monotonic >"$LAB_DIR/start.journal"
sed 's/^/#   /' "$LAB_DIR/start.journal"
n=$(wc -l <"$LAB_DIR/start.journal")
lab_ok "a clean start: $n journal lines (<= 12)" test "$n" -le 12 -a "$n" -ge 1
since "$c" -p warning >"$LAB_DIR/start.warn"
lab_ok "a clean start: nothing at warning or above" test ! -s "$LAB_DIR/start.warn"
sed 's/^/#   warning: /' "$LAB_DIR/start.warn"
lab_ok "metrics_file $METRICS written under the shipped unit" \
	wait_for ct grep -qs '^pmtud_received_total' "$METRICS"
lab_ok "metrics file 0644 in a 0755 directory (node_exporter reads it)" \
	test "$(ct stat -c %a "$METRICS" /run/pmtud-nf | tr '\n' ' ')" = "644 755 "

# ---- reload ------------------------------------------------------------
pid=$(main_pid)
conf '{ "iface": "host0", "nflog_group": 34, "stats_interval": 1, "metrics_file": "'$METRICS'" }'
lab_ok "reload of a changed file: systemctl reload succeeds" sc reload pmtud-nf
lab_ok "reload applied: group 34 bound, 33 released, same pid" \
	eval 'bound 34 && ! bound 33 && [ "$(main_pid)" = "$pid" ]'
conf '{ "iface": "host0", "nflog_group": 35, "bogus": 1 }'
lab_ok "reload of an invalid file: systemctl reload fails" eval '! sc reload pmtud-nf 2>/dev/null'
sc status pmtud-nf >"$LAB_DIR/status" 2>&1
lab_ok "the reason is in systemctl status" grep -q 'unknown key "bogus"' "$LAB_DIR/status"
lab_ok "still active, same pid, the old group still bound" \
	eval 'active && bound 34 && [ "$(main_pid)" = "$pid" ]'
conf '{ "iface": "host0", "nflog_group": 34, "table": "other" }'
lab_ok "reload the agent refuses (table changed): systemctl reload fails" \
	eval '! sc reload pmtud-nf 2>/dev/null'
sc status pmtud-nf >"$LAB_DIR/status" 2>&1
lab_ok "its reason is in systemctl status" grep -q 'changing "table" requires a restart' "$LAB_DIR/status"
lab_ok "still active, same pid, table inet pmtud and group 34" \
	eval 'active && table && bound 34 && [ "$(main_pid)" = "$pid" ]'
[ "$LAB_NFAIL" = 0 ] || sed 's/^/#   status: /' "$LAB_DIR/status"
conf '{ "iface": "host0", "nflog_group": 33, "stats_interval": 1, "metrics_file": "'$METRICS'" }'
lab_ok "reload back" sc reload pmtud-nf

# ---- kill -9, watchdog ----------------------------------------------------
pid=$(main_pid)
sc kill -s KILL --kill-who=main pmtud-nf
lab_ok "kill -9: restarted with its table" wait_for restarted "$pid"
mkdir -p "$ROOT/etc/systemd/system/pmtud-nf.service.d"
printf '[Service]\nWatchdogSec=2s\nTimeoutAbortSec=5s\n' \
	>"$ROOT/etc/systemd/system/pmtud-nf.service.d/watchdog.conf"
sc daemon-reload && sc restart pmtud-nf
pid=$(main_pid)
c=$(cursor)
sc kill -s STOP --kill-who=main pmtud-nf
lab_ok "watchdog: SIGSTOP'd agent killed and restarted with its table" wait_for restarted "$pid"
lab_ok "watchdog: the journal says so" eval 'since "$c" | grep -qi watchdog'
rm -r "$ROOT/etc/systemd/system/pmtud-nf.service.d"
sc daemon-reload && sc restart pmtud-nf

# ---- stop, reboot ------------------------------------------------------------
lab_ok "systemctl stop" sc stop pmtud-nf
lab_ok "stopped: table gone" eval '! table'
lab_ok "stopped: group 33 unbound" eval '! bound 33'
lab_ok "stopped: $METRICS gone with its directory" eval '! ct test -e /run/pmtud-nf'
poweroff
lab_ok "boots again" boot
lab_ok "after the reboot (enabled): active with table and group 33" \
	wait_for eval 'active && table && bound 33'
poweroff
lab_finish
