#!/bin/bash
# Install what pmtud-nf needs to build and test on Debian (12 or later).
# Idempotent; needs root. Used by tests/check.sh, tests/lab/demo.sh, .ci/run.
set -eu
pkgs=(
	build-essential autoconf automake pkg-config clang
	libmnl-dev libnftnl-dev libnetfilter-log-dev libnetfilter-queue-dev
	libjansson-dev libsystemd-dev libc-ares-dev
	nftables iproute2 procps kmod python3
	# ping (test_rules.sh, test_nfqueue.sh); /etc/protocols, which
	# `ip rule ... ipproto icmp` reads (the lab)
	iputils-ping netbase
	# systemd_boot.sh and fresh.sh: a minimal Debian root, booted
	mmdebstrap systemd-container
	# lab_dns.sh: a real DNS server in the lab
	dnsmasq-base
	# test_systemd.sh (systemd-analyze, setpriv, strace), test_manpages.sh (groff, man)
	systemd util-linux strace groff-base man-db
	# sanitizer, fuzzing and valgrind stages of tests/check.sh
	libclang-rt-dev llvm valgrind
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: need root to install: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
