#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-bench.sh - a smoke test of the benchmark harness: bench/run.sh --quick
# with three workloads (1 KB keep-alive HTTP, DNS A queries, and HTTP latency
# at half of each server's peak, which drives usnet-load -R), written to a
# file of the test's own. The table must have a number on both sides (usnet
# and the kernel) for each client, the open-loop runs must have kept to
# their schedule (never above the asked rate; at least half of it, so that
# a machine busy with other work does not fail the test), and the run must
# have cleaned up after
# itself: its two namespaces gone, no XDP program or bpffs mount left, no
# process of its own still running, its /dev/shm files removed. About a
# minute. Run as root; one line per case (tests/interop/lib.sh).
#
# Environment: USNB_BUILD (the harness's build directory). By default the
# test's own build (the one holding $USNET_ECHO, already built by
# scripts/test.sh) when there is one, so the test stays within two minutes:
# it checks the harness, not the figures (bench/run.sh alone makes its own
# release build in build-bench).
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

if [ -z "${USNB_BUILD:-}" ] && [ -f "$(dirname "$USNET_ECHO")/../build.ninja" ]; then
	USNB_BUILD=$(cd "$(dirname "$USNET_ECHO")/.." && pwd)
	export USNB_BUILD
fi
R=$USN_WORK/r.md
LOG=$USN_WORK/bench.log
CASES=(bench-run bench-table-http bench-table-dns bench-latency-http bench-cleanup)

USN_REASON=$(usn_preflight)
if [ -n "$USN_REASON" ]; then
	usn_fail_all "$USN_REASON" "${CASES[@]}"
	usn_finish
fi

# The harness runs in the foreground: its PID is known once it is
# started, so that the check for leftovers can name it.
"$USN_REPO/bench/run.sh" --quick --only http-1k-keepalive,dns-a,lat-http --out "$R" >"$LOG" 2>&1 </dev/null &
BENCH_PID=$!
usn_track "$BENCH_PID"
wait "$BENCH_PID"
RC=$?
usn_untrack "$BENCH_PID"
if [ "$RC" -eq 0 ] && [ -s "$R" ]; then
	usn_pass bench-run
else
	usn_fail bench-run "exit $RC: $(grep -v '^\(|\|#\|-\|$\)' "$LOG" | tail -n 2 | tr '\n' ' ')"
	tail -n 15 "$LOG" | sed 's/^/    | /'
fi

# row WORKLOAD CLIENT: both the usnet and the kernel cells start with a number.
row() {
	local line
	line=$(grep -F "| $1 | $2 |" "$R") || { echo "no row for $1 with $2"; return 1; }
	printf '%s\n' "$line" | awk -F' [|] ' '{
		if ($4 !~ /^[0-9.]+k? / && $4 !~ /^[0-9.]+k?$/) { print "usnet cell: " $4; exit 1 }
		if ($5 !~ /^[0-9.]+k? / && $5 !~ /^[0-9.]+k?$/) { print "kernel cell: " $5; exit 1 }
		if ($6 !~ /^[0-9.]+$/) { print "ratio: " $6; exit 1 } }' || { echo "$line"; return 1; }
}
table_http() { row http-1k-keepalive wrk && row http-1k-keepalive usnet-load; }
table_dns() { row dns-a dnsperf && row dns-a usnet-load; }
usn_check bench-table-http table_http
usn_check bench-table-dns table_dns

# The latency row: "| lat-http | usnet-load | ASKED (GOT) | P50 / P99 | ASKED (GOT) | P50 / P99 | E/E |".
latency_http() {
	local line
	line=$(grep -F "| lat-http | usnet-load |" "$R") || { echo "no lat-http row"; return 1; }
	printf '%s\n' "$line" | awk -F' [|] ' 'function num(s) { return s ~ /k$/ ? substr(s, 1, length(s) - 1) * 1000 : s + 0 }
		function rate(c, side,   a) {
			if (split(c, a, /[ ()]+/) < 2 || num(a[1]) <= 0) { print side ": no rate: " c; exit 1 }
			if (num(a[2]) < 0.5 * num(a[1]) || num(a[2]) > 1.05 * num(a[1])) { print side ": asked " a[1] ", got " a[2]; exit 1 } }
		function lat(c, side) { if (c !~ /^[0-9.]+ \/ [0-9.]+$/) { print side ": latency " c; exit 1 } }
		{ rate($3, "usnet"); lat($4, "usnet"); rate($5, "kernel"); lat($6, "kernel") }' || { echo "$line"; return 1; }
}
usn_check bench-latency-http latency_http

cleanup_check() {
	local p=$BENCH_PID bad=""
	ip netns list | grep -qE "usnb-(srv|cli)-$p\b" && bad="$bad namespaces left:$(ip netns list | grep -E "usnb-.*-$p" | tr '\n' ' ')"
	mount | grep -q "usnb-bpffs-.*-$p" && bad="$bad bpffs mount left"
	[ -e "/dev/shm/usnb-$p" ] && bad="$bad /dev/shm/usnb-$p left"
	# Processes of its own: anything still naming its shm site or its work
	# directory (/tmp/usnb-PID.*) on its command line.
	local left
	left=$(ps -eo pid=,args= | grep -E "/dev/shm/usnb-$p/|/tmp/usnb-$p\." | grep -v grep)
	[ -n "$left" ] && bad="$bad processes left: $left"
	# No XDP program on an interface of its (its veth ends were usnbs0 and
	# usnbc0 in its namespaces, gone with them): none in the root namespace
	# either.
	ip -o link show | grep -E '^[0-9]+: usnb[sc]0' && bad="$bad veth left in the root namespace"
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}
usn_check bench-cleanup cleanup_check

usn_finish
