#!/bin/bash
# SPDX-License-Identifier: MIT
# test-semantics.sh - UNIX socket semantics, usnet against the kernel: the
# conformance program tests/semantics/semantics.c runs its cases once on
# the kernel's TCP (over loopback in the peer's namespace) and once under
# usnet-run through usnetd (usnet's address to the peer across the link),
# and each line of the two outputs is compared: a case passes when usnet
# gave exactly what the kernel gave. Cases that differ for a reason
# already known and written down (preload.c's DEVIATION) are reported as
# SKIP with both lines; any other difference fails.
#
# Environment: as test-shim.sh; SEMANTICS (the program).

# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

USNETD=${USNETD:-$(dirname "$USNET_ECHO")/usnetd}
USNET_RUN=${USNET_RUN:-$(dirname "$USNET_ECHO")/../src/shim/usnet-run}
export USNET_PRELOAD=${USNET_PRELOAD:-$(dirname "$USNET_ECHO")/../src/shim/libusnet-preload.so}
SEMANTICS=${SEMANTICS:-$(dirname "$USNET_ECHO")/../tests/semantics/semantics}
SOCK=$USN_WORK/usnetd.sock
export USNET_SOCKET=$SOCK
PORT=7100
# Known deviations (src/shim/preload.c): a reset reads as end of file; a
# non-blocking connect is writable before it completes.
KNOWN="peer-reset-read connect-refused-nonblocking"

REASON=$(usn_preflight)
[ -x "$SEMANTICS" ] || REASON="semantics not built at $SEMANTICS"
if [ -n "$REASON" ]; then
	usn_skip semantics "$REASON"
	usn_finish
fi
if ! usn_setup_ns >"$USN_WORK/setup.log" 2>&1; then
	usn_fail semantics-setup "namespace setup failed: $(tail -n 1 "$USN_WORK/setup.log")"
	usn_finish
fi
ip netns exec "$USN_DEV_NS" "$USNETD" --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX" --socket "$SOCK" \
	>"$USN_WORK/usnetd.log" 2>&1 </dev/null &
DPID=$!
usn_track "$DPID"
for _ in $(seq 100); do
	grep -q "usnetd: ready on" "$USN_WORK/usnetd.log" && break
	sleep 0.1
done
ip netns exec "$USN_NS" "$SEMANTICS" peer "$PORT" >"$USN_WORK/peer.log" 2>&1 </dev/null &
usn_track $!
for _ in $(seq 50); do
	grep -q ready "$USN_WORK/peer.log" && break
	sleep 0.1
done
if ! grep -q "usnetd: ready on" "$USN_WORK/usnetd.log" || ! grep -q ready "$USN_WORK/peer.log"; then
	usn_fail semantics-setup "usnetd or the peer did not start: $(tail -n 2 "$USN_WORK/usnetd.log" "$USN_WORK/peer.log" | tr '\n' ' ')"
	usn_finish
fi

ip netns exec "$USN_NS" timeout 120 "$SEMANTICS" run 127.0.0.1 127.0.0.1 "$PORT" >"$USN_WORK/kernel.out" 2>&1
ip netns exec "$USN_DEV_NS" timeout 120 "$USNET_RUN" "$SEMANTICS" run "$USN_STACK_IP" "$USN_HOST_IP" "$PORT" \
	>"$USN_WORK/usnet.out" 2>&1

nk=$(wc -l <"$USN_WORK/kernel.out")
nu=$(wc -l <"$USN_WORK/usnet.out")
[ "$nk" -ge 20 ] || usn_fail semantics-kernel-run "only $nk lines from the kernel's run: $(tail -n 2 "$USN_WORK/kernel.out" | tr '\n' ' ')"
[ "$nk" = "$nu" ] || usn_fail semantics-line-count "kernel $nk lines, usnet $nu: $(tail -n 2 "$USN_WORK/usnet.out" | tr '\n' ' ')"
while IFS= read -r kline; do
	name=${kline%%:*}
	uline=$(grep -m1 "^$name:" "$USN_WORK/usnet.out")
	if [ "$kline" = "$uline" ]; then
		usn_pass "semantics-$name"
	elif [[ " $KNOWN " == *" $name "* ]]; then
		usn_skip "semantics-$name" "known deviation: kernel '${kline#*: }', usnet '${uline#*: }'"
	else
		usn_fail "semantics-$name" "kernel '${kline#*: }', usnet '${uline#*: }'"
	fi
done <"$USN_WORK/kernel.out"
kill -0 "$DPID" 2>/dev/null || usn_fail semantics-daemon "usnetd exited: $(tail -n 2 "$USN_WORK/usnetd.log" | tr '\n' ' ')"

usn_finish
