#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-idle.sh - an idle usnet-echo sleeps: after 2 s without traffic, its CPU
# time (utime+stime from /proc/PID/stat) over 5 s is under 1 % of one core.
# Then SIGINT ends it with status 0, its counters printed.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

cases=(idle-cpu sigint-exit)
if ! usn_setup; then
	usn_fail_all "$USN_REASON" "${cases[@]}"
	usn_finish
fi
usn_ns ping -n -c 2 -i 0.2 -W 2 "$USN_STACK_IP" >/dev/null 2>&1
sleep 2
hz=$(getconf CLK_TCK)
t0=$(usn_cpu_ticks "$USN_ECHO_PID")
sleep 5
t1=$(usn_cpu_ticks "$USN_ECHO_PID")
if [ -z "$t0" ] || [ -z "$t1" ]; then
	usn_fail idle-cpu "could not read /proc/$USN_ECHO_PID/stat (did usnet-echo die?)"
else
	used=$((t1 - t0))
	pct=$(awk -v u="$used" -v hz="$hz" 'BEGIN { printf "%.2f", 100 * u / hz / 5 }')
	usn_info "idle CPU: $used ticks of 1/$hz s in 5 s = $pct % of one core"
	# under 1 %: used / hz / 5 < 0.01, that is 100 * used < 5 * hz
	if [ $((100 * used)) -lt $((5 * hz)) ]; then
		usn_pass idle-cpu
	else
		usn_fail idle-cpu "$pct % of one core while idle (limit 1 %)"
	fi
fi
size=$(stat -c %s "$USN_ECHO_LOG")
usn_stop_echo INT
grown=$(($(stat -c %s "$USN_ECHO_LOG") - size))
if [ "$USN_ECHO_STATUS" = 0 ] && [ "$grown" -gt 0 ]; then
	usn_pass sigint-exit
else
	usn_fail sigint-exit "exit status $USN_ECHO_STATUS, $grown bytes printed at exit (want status 0 and the counters)"
fi
usn_finish
