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
	libcmocka-dev libpcap-dev libsodium-dev
	# interop tests: namespaces, TAP, clients, packet crafting, captures
	iproute2 iputils-ping socat python3 python3-scapy tcpdump nftables
	procps coreutils util-linux
	# usnet-httpd interop: HTTP clients, load generators, a reference server
	curl wget apache2-utils wrk nginx
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
if ! { apt-get update && apt-get install -y --no-install-recommends "${pkgs[@]}"; } >"$log" 2>&1 </dev/null; then
	echo "install-test-deps: apt-get failed; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	exit 1
fi
echo "install-test-deps: done"
