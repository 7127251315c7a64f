#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/deps.sh - installs what bench/run.sh needs, as root on Debian 12:
# first everything the tests need (scripts/install-test-deps.sh: the build,
# nginx, nsd, wrk, ab, dnsperf, ethtool, libxdp), then the benchmark's own
# extras below. Idempotent and quiet, like the script it reuses; no daemon is
# started by the install (policy-rc.d says no for its duration).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
"$here/../scripts/install-test-deps.sh"

extra=(
	iperf3         # the kernel's single-stream TCP reference
	procps         # ps, sysctl
	python3        # bench/stats.py, bench/hold.py (standard library only)
	util-linux     # taskset
)

log=${USNET_DEPS_LOG:-/tmp/usnet-bench-deps.log}
[ "$(id -u)" -eq 0 ] || { echo "bench/deps.sh: not root, not installing (needs: ${extra[*]})" >&2; exit 0; }
missing=()
for p in "${extra[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "bench/deps.sh: installing ${missing[*]} (log: $log)"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
fi
rc=0
# iperf3 asks (debconf) whether to start a system-wide daemon: no.
echo 'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections 2>/dev/null || true
{ apt-get install -y --no-install-recommends "${missing[@]}" || { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }; } >"$log" 2>&1 </dev/null || rc=$?
[ "$own_policy" = 1 ] && rm -f "$policy"
if [ "$rc" -ne 0 ]; then
	echo "bench/deps.sh: apt-get failed; last lines of $log:" >&2
	tail -n 20 "$log" >&2
	exit 1
fi
