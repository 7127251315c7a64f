#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install-test-deps.sh - installs, on a fresh Debian 12 as root, every package
# that building usnet and running all of its tests needs (scripts/test.sh calls
# it first). Idempotent: apt-get install of what is already there does nothing.
# Quiet: apt's output goes to a log whose tail is printed only on failure.
# Not a build step: it never touches the source tree.
set -euo pipefail

pkgs=(
	# build
	meson ninja-build gcc clang libclang-rt-14-dev llvm pkg-config
	libcmocka-dev libpcap-dev libsodium-dev libldns-dev libcap-ng-dev
	libxdp-dev libbpf-dev libnftables-dev
	# the DPDK backend (optional at build time; big, tested through vdevs)
	libdpdk-dev
	# interop tests: namespaces, TAP, clients, packet crafting, captures
	iproute2 iputils-ping socat python3 python3-scapy tcpdump nftables
	procps coreutils util-linux ethtool
	# usnet-httpd interop: HTTP clients, load generators, a reference server
	curl wget apache2-utils wrk nginx
	# usnet-dnsd interop: DNS clients and the reference server
	bind9-dnsutils knot-dnsutils nsd
	# usnet-load interop: the references it is compared with
	dnsperf
	# the benchmark harness's smoke test (bench/run.sh): single-stream reference
	iperf3
)

log=${USNET_DEPS_LOG:-/tmp/usnet-install-test-deps.log}

if [ "$(id -u)" -ne 0 ]; then
	echo "install-test-deps: not root, not installing (needs: ${pkgs[*]})" >&2
	exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-test-deps: all ${#pkgs[@]} packages present"
	exit 0
fi

echo "install-test-deps: installing ${missing[*]} (log: $log)"
export DEBIAN_FRONTEND=noninteractive
# nginx and nsd are references the tests start themselves in their own
# namespaces: their packages must not start system-wide daemons (on port 80
# and 53 of the host). policy-rc.d exit 101 = "not allowed" (Debian policy
# §9.3.3), only for the time of the install.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
fi
rc=0
{ apt-get update && apt-get install -y --no-install-recommends "${pkgs[@]}"; } >"$log" 2>&1 </dev/null || rc=$?
[ "$own_policy" = 1 ] && rm -f "$policy"
if [ "$rc" -ne 0 ]; then
	echo "install-test-deps: apt-get failed; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	exit 1
fi
echo "install-test-deps: done"
