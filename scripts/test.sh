#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test.sh - the one command that tests usnet (run as root from anywhere; CI's
# .ci/run calls it). In order:
#   deps     scripts/install-test-deps.sh (skip with USNET_SKIP_DEPS=1)
#   gcc      meson setup build, ninja, meson test (every suite)
#   asan     ASan+UBSan build in build-asan: the unit, fuzz-replay and sim suites
#   fuzz     clang libFuzzer build in build-fuzz: each fuzz/fuzz-* for
#            FUZZ_SECONDS (default 20) on a temporary copy of fuzz/corpus/NAME
#   interop  tests/interop/test-*.sh against build/apps/usnet-echo, as root, on
#            a TAP; then echo, tcp, httpd and dnsd again on AF_PACKET (veth)
# Each build, meson test, fuzzer and interop case counts once. The failures'
# names and the tails of their logs are printed at the end, then exactly one
# line "N passed, N failed, N skipped"; the exit status is 1 when any failed
# (or nothing ran). Arguments pick stages: `scripts/test.sh asan interop`.
# Logs go to USNET_TEST_LOGDIR (default a new /tmp/usnet-test.XXXXXX).
# Not a build system: meson is; this only runs it and counts.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
PY=/usr/bin/python3
LOGDIR=${USNET_TEST_LOGDIR:-$(mktemp -d /tmp/usnet-test.XXXXXX)}
mkdir -p "$LOGDIR"
RESULTS=$LOGDIR/results.tsv
: >"$RESULTS"
T0=$SECONDS

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(gcc asan fuzz interop)
want() {
	local s
	for s in "${stages[@]}"; do
		[ "$s" = "$1" ] && return 0
	done
	return 1
}

say() { printf '== %s (%ds)\n' "$*" $((SECONDS - T0)); }

# record STATUS NAME [LOG] [REASON]: one case's result.
record() {
	printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$RESULTS"
	if [ -n "${4:-}" ]; then
		printf '%s %s: %s\n' "$1" "$2" "$4"
	else
		printf '%s %s\n' "$1" "$2"
	fi
}

# build NAME DIR [SETUP ARGS...]: configures (or reconfigures an existing
# DIR) and builds; one case "build-NAME". Returns 1 when it failed.
build() {
	local name=$1 dir=$2 log=$LOGDIR/build-$1.log
	shift 2
	if {
		if [ -f "$dir/build.ninja" ]; then
			meson setup --reconfigure "$dir" "$@" ||
				meson setup --wipe "$dir" "$@"
		else
			rm -rf "$dir"
			meson setup "$dir" "$@"
		fi && ninja -C "$dir" -k 0
	} >"$log" 2>&1 </dev/null; then
		record PASS "build-$name" "$log"
		return 0
	fi
	record FAIL "build-$name" "$log" "$(grep -m1 -E 'error|ERROR' "$log")"
	return 1
}

# mesontest NAME DIR [SUITE...]: runs meson test (every suite, or the named
# ones) and records each test from its JSON log. After a failed build the
# tests that were built still run and the others count as failed.
# MESON_TEST_ARGS holds extra arguments for meson test.
MESON_TEST_ARGS=()
mesontest() {
	local name=$1 dir=$2 log=$LOGDIR/meson-test-$1.log rc sel s
	shift 2
	local json=$dir/meson-logs/usnet-$name.json sargs=()
	rm -f "$json"
	sel=$("$PY" scripts/meson-results.py select "$dir" "$name" "$RESULTS" \
		"$LOGDIR/build-$name.log" "$@")
	if [ "$sel" = "-" ]; then
		return
	elif [ -n "$sel" ]; then
		read -r -a sargs <<<"$sel"
	else
		for s in "$@"; do
			sargs+=(--suite "$s")
		done
	fi
	meson test -C "$dir" --no-rebuild --logbase "usnet-$name" \
		"${MESON_TEST_ARGS[@]}" "${sargs[@]}" >"$log" 2>&1 </dev/null
	rc=$?
	if [ ! -f "$json" ]; then
		record FAIL "$name:meson-test" "$log" "meson test wrote no JSON log (exit $rc)"
		return
	fi
	"$PY" scripts/meson-results.py record "$json" "$name" "$RESULTS" "$LOGDIR"
	# meson test failing while every test passed: count that too.
	if [ "$rc" -ne 0 ] && ! grep -q "^FAIL	$name:" "$RESULTS"; then
		record FAIL "$name:meson-test" "$log" "meson test exited $rc"
	fi
}

# fuzz_run EXE: one fuzzer for FUZZ_SECONDS on a copy of its corpus.
fuzz_run() {
	local exe=$1 name=${1##*/fuzz-} tmp log rc
	tmp=$(mktemp -d "/tmp/usnet-fuzz-$name.XXXXXX")
	log=$LOGDIR/fuzz-$name.log
	mkdir -p "$tmp/corpus"
	if [ -d "fuzz/corpus/$name" ]; then
		cp -r "fuzz/corpus/$name/." "$tmp/corpus/"
	fi
	timeout -k 10 $((FUZZ_SECONDS + 120)) "$exe" -max_total_time="$FUZZ_SECONDS" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$tmp/" "$tmp/corpus" >"$log" 2>&1 </dev/null
	rc=$?
	if [ "$rc" -eq 0 ]; then
		record PASS "fuzz:$name" "$log"
		rm -rf "$tmp"
	else
		# Keep the crash input next to the log.
		cp "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$tmp"/oom-* "$LOGDIR/" 2>/dev/null
		record FAIL "fuzz:$name" "$log" "exit $rc: $(grep -m1 -E 'ERROR|SUMMARY|runtime error' "$log")"
		rm -rf "$tmp"
	fi
}

# interop_run SCRIPT [LINK]: each "PASS|FAIL|SKIP name[: reason]" line is a
# case. LINK: tap (default), afpacket, afxdp or dpdk (tests/interop/lib.sh's USN_LINK);
# cases on afpacket are named interop-afpacket:NAME.
interop_run() {
	local t=$1 link=${2:-tap} base log rc cases prefix=interop
	base=$(basename "$t" .sh)
	[ "$link" = tap ] || { prefix=interop-$link; base=$base-$link; }
	log=$LOGDIR/interop-$base.log
	USNET_ECHO=$ROOT/build/apps/usnet-echo USNET_ECHO_ASAN=$ECHO_ASAN USN_LINK=$link \
		USN_LOGDIR=$LOGDIR/$prefix timeout --foreground -k 10 600 bash "$t" >"$log" 2>&1 </dev/null
	rc=$?
	cases=$(grep -cE '^(PASS|FAIL|SKIP) ' "$log")
	while IFS= read -r line; do
		local st=${line%% *} rest=${line#* } n reason=""
		n=${rest%%: *}
		[ "$n" != "$rest" ] && reason=${rest#*: }
		record "$st" "$prefix:$n" "$log" "$reason"
	done < <(grep -E '^(PASS|FAIL|SKIP) ' "$log")
	if [ "$cases" -eq 0 ]; then
		record FAIL "$prefix:$base" "$log" "reported no case (exit $rc)"
	elif [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$log"; then
		record FAIL "$prefix:$base" "$log" "exit $rc without a FAIL line"
	fi
}

if [ "${USNET_SKIP_DEPS:-0}" != 1 ]; then
	say deps
	if ! scripts/install-test-deps.sh >"$LOGDIR/deps.log" 2>&1 </dev/null; then
		record FAIL install-test-deps "$LOGDIR/deps.log"
	fi
fi

ECHO_ASAN=""
if want gcc; then
	say "gcc build and meson test"
	build gcc build
	# After a failed build the tests that did build still run.
	[ -f build/build.ninja ] && mesontest gcc build
fi

if want asan; then
	say "ASan+UBSan build: unit, fuzz-replay, sim"
	build asan build-asan -Db_sanitize=address,undefined -Db_lundef=false
	if [ -f build-asan/build.ninja ]; then
		MESON_TEST_ARGS=(--timeout-multiplier 3)
		ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1} \
			UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1} \
			mesontest asan build-asan unit fuzz-replay sim
		MESON_TEST_ARGS=()
	fi
	[ -x build-asan/apps/usnet-echo ] && ECHO_ASAN=$ROOT/build-asan/apps/usnet-echo
fi

if want fuzz; then
	say "clang fuzz build, ${FUZZ_SECONDS} s per fuzzer"
	CC=clang build fuzz build-fuzz -Dfuzz=true -Dtests=false -Db_lundef=false
	# After a failed build the fuzzers that did build still run.
	if [ -f build-fuzz/build.ninja ]; then
		nfuzz=0
		while IFS= read -r exe; do
			fuzz_run "$exe"
			nfuzz=$((nfuzz + 1))
		done < <(find build-fuzz/fuzz -maxdepth 1 -type f -executable -name 'fuzz-*' 2>/dev/null | sort)
		[ "$nfuzz" -gt 0 ] || echo "(no fuzzers built: no fuzz/fuzz-*.c yet)"
	fi
fi

if want interop; then
	say "interop tests (tests/interop)"
	if [ "$(id -u)" -ne 0 ]; then
		for t in tests/interop/test-*.sh; do
			record SKIP "interop:$(basename "$t" .sh)" "" "needs root"
		done
	else
		for t in tests/interop/test-*.sh; do
			[ -f "$t" ] && interop_run "$t"
		done
		# The servers and the TCP tests again over a veth pair with the
		# AF_PACKET backend, beside the kernel's own stack on the same
		# interface (the TAP-only tests check TAP specifics: malformed
		# frame classes, idle CPU, options).
		for t in echo tcp httpd dnsd privileges doctor cores load coexist shim semantics; do
			interop_run "tests/interop/test-$t.sh" afpacket
		done
		# And on AF_XDP (native mode on veth) when this build has it.
		if [ -f build/src/io/usn_steer.bpf.o ]; then
			for t in echo tcp httpd dnsd privileges doctor cores coexist shim semantics; do
				interop_run "tests/interop/test-$t.sh" afxdp
			done
		fi
		# And on DPDK's net_af_packet vdev over the same veth, without
		# huge pages, when this build has DPDK. The lossy transfers
		# are smaller there: without segmentation offload, 5 % loss
		# of single segments holds TCP to its RTO (~1.6 s per MB).
		if grep -q USN_HAVE_DPDK build/build.ninja 2>/dev/null; then
			for t in echo tcp httpd dnsd privileges doctor cores; do
				USN_TCP_LOSS_MB=10 interop_run "tests/interop/test-$t.sh" dpdk
			done
		fi
	fi
fi

passed=$(grep -c '^PASS	' "$RESULTS")
failed=$(grep -c '^FAIL	' "$RESULTS")
skipped=$(grep -c '^SKIP	' "$RESULTS")
say "done, logs in $LOGDIR"
if [ "$failed" -gt 0 ]; then
	echo
	echo "Failures:"
	grep '^FAIL	' "$RESULTS" | cut -f2 | sed 's/^/  /'
	# Each log once, however many cases share it.
	grep '^FAIL	' "$RESULTS" | cut -f3 | awk 'NF && !seen[$0]++' | while IFS= read -r log; do
		[ -f "$log" ] || continue
		echo
		case "$log" in
		*/build-*.log)
			echo "--- errors in $log"
			grep -E -m 20 -A 3 'error|FAILED|ERROR' "$log" | head -n 40 | sed 's/^/  | /'
			;;
		*)
			echo "--- tail of $log"
			tail -n 25 "$log" | sed 's/^/  | /'
			;;
		esac
	done
	echo
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
