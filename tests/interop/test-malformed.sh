#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-malformed.sh - about 6000 hostile frames (tests/interop/flood.py,
# crafted with scapy) written to the TAP from the kernel's side; afterwards
# usnet-echo must still be alive, still answer ping and UDP (8000-byte
# datagrams too, so the fragment flood did not leave reassembly stuck), its
# counters must show each class of drop, and it must exit cleanly. When the
# sanitizer build's usnet-echo is given (USNET_ECHO_ASAN), that one is used,
# so a memory error the flood causes is reported even if it did not crash.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

if [ -n "${USNET_ECHO_ASAN:-}" ] && [ -x "$USNET_ECHO_ASAN" ]; then
	USNET_ECHO=$USNET_ECHO_ASAN
	export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	usn_info "using the sanitizer build: $USNET_ECHO"
fi

categories=$("$USN_PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import flood; print(" ".join(flood.EXPECT))' "$USN_HERE" 2>/dev/null)
cases=(flood-sent flood-alive flood-ping flood-udp flood-udp-8000)
for c in $categories; do
	cases+=("flood-drops-$c")
done
cases+=(flood-clean-exit)
if ! usn_setup; then
	usn_fail_all "$USN_REASON" "${cases[@]}"
	usn_finish
fi

# Warm up: the kernel learns usnet-echo's MAC.
usn_ns ping -n -c 1 -W 2 "$USN_STACK_IP" >/dev/null 2>&1
stack_mac=$(usn_stack_mac)
host_mac=$(usn_host_mac)
if [ -z "$stack_mac" ]; then
	usn_fail_all "usnet-echo did not answer ARP (no neighbour entry for $USN_STACK_IP)" "${cases[@]}"
	usn_finish
fi
usn_info "usnet-echo MAC $stack_mac, host MAC $host_mac"
usn_counters "$USN_WORK/before.txt" || : >"$USN_WORK/before.txt.parsed"
txdrop0=$(usn_ns cat "/sys/class/net/$USN_TAP/statistics/tx_dropped")

if usn_ns "$USN_PY" "$USN_HERE/flood.py" send --iface "$USN_TAP" --dst-mac "$stack_mac" \
	--src-mac "$host_mac" --seed "${USN_FLOOD_SEED:-1}" >"$USN_WORK/flood.out" 2>&1; then
	txdrop=$(($(usn_ns cat "/sys/class/net/$USN_TAP/statistics/tx_dropped") - txdrop0))
	usn_info "sent: $(tr '\n' ' ' <"$USN_WORK/flood.out")"
	usn_info "frames the TAP queue dropped before usnet-echo read them: $txdrop"
	usn_pass flood-sent
else
	usn_fail flood-sent "flood.py failed: $(tail -n 1 "$USN_WORK/flood.out")"
fi
sleep 1

if usn_echo_alive; then
	usn_pass flood-alive
else
	wait "$USN_ECHO_PID"
	usn_fail flood-alive "usnet-echo died with status $? $(usn_sanitizer_report | head -n 1)"
	tail -n 20 "$USN_ECHO_LOG" | sed 's/^/    | /'
	usn_fail_all "usnet-echo is dead" "${cases[@]:2}"
	usn_finish
fi
usn_ping flood-ping
usn_udp_py flood-udp --sizes 1,100,1472 --random 20 --max 1472
usn_udp_py flood-udp-8000 --sizes 8000,8000,8000

if usn_counters "$USN_WORK/after.txt"; then
	"$USN_PY" "$USN_HERE/counters.py" diff "$USN_WORK/before.txt.parsed" \
		"$USN_WORK/after.txt.parsed" >"$USN_WORK/delta.txt"
	"$USN_PY" "$USN_HERE/flood.py" check "$USN_WORK/delta.txt" >"$USN_WORK/check.txt"
	for c in $categories; do
		line=$(grep "^$c " "$USN_WORK/check.txt")
		case "$line" in
		"$c ok"*) usn_pass "flood-drops-$c" ;;
		*) usn_fail "flood-drops-$c" "${line#"$c "}" ;;
		esac
	done
	usn_info "counter changes: $(grep -E 'DROP|ERR|FAIL' "$USN_WORK/delta.txt" | tr '\n' ' ')"
else
	for c in $categories; do
		usn_fail "flood-drops-$c" "nothing printed within 3 s of SIGUSR1"
	done
fi

usn_stop_echo TERM
san=$(usn_sanitizer_report)
if [ "$USN_ECHO_STATUS" = 0 ] && [ -z "$san" ]; then
	usn_pass flood-clean-exit
else
	usn_fail flood-clean-exit "exit status $USN_ECHO_STATUS $san"
	grep -A 12 -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$USN_ECHO_LOG" | head -n 30 | sed 's/^/    | /'
fi
usn_finish
