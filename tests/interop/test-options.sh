#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-options.sh - usnet-echo refuses bad command lines with a message and
# exit status 2, before it opens anything; and given a TAP that does not
# exist yet, it creates it. Each runs inside the test's own namespace, so a
# TAP it creates dies with it.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

# name|arguments
checks=(
	"opt-missing-addr|--dev tap:$USN_TAP"
	"opt-missing-dev|--addr 10.77.0.2/24"
	"opt-bad-addr-octet|--dev tap:$USN_TAP --addr 10.77.0.300/24"
	"opt-bad-addr-text|--dev tap:$USN_TAP --addr usnet/24"
	"opt-bad-prefix|--dev tap:$USN_TAP --addr 10.77.0.2/33"
	"opt-bad-gw|--dev tap:$USN_TAP --addr 10.77.0.2/24 --gw 10.77.0"
	"opt-bad-dev-kind|--dev frob:$USN_TAP --addr 10.77.0.2/24"
	"opt-unknown-option|--dev tap:$USN_TAP --addr 10.77.0.2/24 --no-such-option"
)
names=()
for c in "${checks[@]}"; do
	names+=("${c%%|*}")
done
names+=(tap-created)
USN_REASON=$(usn_preflight)
if [ -n "$USN_REASON" ] || ! usn_setup_ns >"$USN_WORK/setup.log" 2>&1; then
	usn_fail_all "${USN_REASON:-namespace setup failed: $(tail -n 1 "$USN_WORK/setup.log")}" "${names[@]}"
	usn_finish
fi
if [ ! -x "$USNET_ECHO" ]; then
	usn_fail_all "usnet-echo not built at $USNET_ECHO" "${names[@]}"
	usn_finish
fi
for c in "${checks[@]}"; do
	name=${c%%|*}
	read -r -a args <<<"${c#*|}"
	usn_ns timeout -k 2 5 "$USNET_ECHO" "${args[@]}" >"$USN_WORK/$name.out" 2>"$USN_WORK/$name.err" </dev/null
	rc=$?
	if [ "$rc" -eq 2 ] && [ -s "$USN_WORK/$name.err" ] && ! grep -q 'ready on' "$USN_WORK/$name.err"; then
		usn_pass "$name"
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		usn_fail "$name" "still running after 5 s with: ${args[*]}"
	elif [ "$rc" -ne 2 ]; then
		usn_fail "$name" "exit status $rc (want 2) with: ${args[*]}; stderr: $(head -c 200 "$USN_WORK/$name.err")"
	else
		usn_fail "$name" "exit status 2 but no message on stderr with: ${args[*]}"
	fi
done

# A TAP that does not exist: usnet-echo makes it.
USN_TAP=usnt1
if ! usn_start_echo; then
	usn_fail tap-created "$USN_REASON"
elif ! ip -n "$USN_NS" link show usnt1 >/dev/null 2>&1; then
	usn_fail tap-created "ready, but no link usnt1 in the namespace"
else
	usn_pass tap-created
fi
[ -n "$USN_ECHO_PID" ] && usn_stop_echo TERM
USN_TAP=usnt0
usn_finish
