#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-privileges.sh - usnet programs keep no privilege once their device is
# open (apps/common.h, usn_app_drop_privileges): usnet-echo started as root
# on the test's link (TAP, or AF_PACKET with USN_LINK=afpacket) must show no
# capability in any set (/proc/PID/status CapInh, CapPrm, CapEff, CapBnd),
# NoNewPrivs 1, and still answer ping and UDP echo; with --user nobody it
# must run as nobody (uid and gid 65534, no supplementary groups) and answer
# too; and --user with an unknown name is refused (exit 2). One line per
# case (tests/interop/lib.sh).
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

cases=(privs-root-caps privs-root-serves privs-nobody-ids privs-nobody-caps privs-nobody-serves privs-unknown-user)
USN_REASON=$(usn_preflight)
if [ -n "$USN_REASON" ] || ! usn_setup_ns >"$USN_WORK/setup.log" 2>&1; then
	usn_fail_all "${USN_REASON:-namespace setup failed: $(tail -n 1 "$USN_WORK/setup.log")}" "${cases[@]}"
	usn_finish
fi

# status_field PID NAME: a field of /proc/PID/status, tabs squeezed.
status_field() { awk -v n="$2:" '$1 == n { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }

# caps_none PID: every capability set empty (but CAP_NET_ADMIN, bit 12,
# permitted and effective on AF_XDP, to detach the XDP program at exit), no
# new privileges; prints what is not.
caps_none() {
	local f v want why=""
	for f in CapInh CapPrm CapEff CapBnd; do
		v=$(status_field "$1" "$f")
		want=0000000000000000
		[ "$USN_LINK" = afxdp ] && { [ "$f" = CapPrm ] || [ "$f" = CapEff ]; } && want=0000000000001000
		[ "$v" = "$want" ] || why="$why $f=$v (want $want)"
	done
	v=$(status_field "$1" NoNewPrivs)
	[ "$v" = 1 ] || why="$why NoNewPrivs=$v"
	# DPDK's EAL starts threads of its own before the program drops its
	# capabilities (per thread): every thread must hold none.
	if [ "$USN_LINK" = dpdk ]; then
		local t
		for t in /proc/"$1"/task/*; do
			for f in CapPrm CapEff; do
				v=$(awk -v n="$f:" '$1 == n { print $2 }' "$t/status")
				[ "$v" = 0000000000000000 ] || why="$why thread $(cat "$t/comm") $f=$v"
			done
		done
	fi
	echo "$why"
}

# verdict NAME WHY: PASS when WHY is empty.
verdict() { if [ -z "$2" ]; then usn_pass "$1"; else usn_fail "$1" "$2"; fi; }

serves() {
	local out
	out=$(usn_ns ping -n -c 2 -i 0.2 -W 2 "$USN_STACK_IP" 2>&1)
	printf '%s\n' "$out" | grep -q ' 2 received' || { echo "ping: $(printf '%s\n' "$out" | tail -n 2 | tr '\n' ' ')"; return; }
	out=$(echo "privileges-$$" | usn_ns socat -t 2 - "UDP:$USN_STACK_IP:7" 2>&1)
	[ "$out" = "privileges-$$" ] || echo "UDP echo: '$out'"
}

# As root, without --user.
if usn_start_echo; then
	why=$(caps_none "$USN_ECHO_PID")
	verdict privs-root-caps "${why:+still held:$why}"
	why=$(serves)
	verdict privs-root-serves "$why"
	usn_stop_echo TERM
else
	usn_fail privs-root-caps "$USN_REASON"
	usn_fail privs-root-serves "$USN_REASON"
fi

# --user nobody.
if usn_start_echo --user nobody; then
	ids="$(status_field "$USN_ECHO_PID" Uid) / $(status_field "$USN_ECHO_PID" Gid) / [$(status_field "$USN_ECHO_PID" Groups)]"
	if [[ $ids =~ ^65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534\ /\ 65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534\ /\ \[\]$ ]]; then
		usn_pass privs-nobody-ids
	else
		usn_fail privs-nobody-ids "Uid / Gid / Groups: $ids"
	fi
	why=$(caps_none "$USN_ECHO_PID")
	verdict privs-nobody-caps "${why:+still held:$why}"
	why=$(serves)
	verdict privs-nobody-serves "$why"
	usn_stop_echo TERM
else
	for c in privs-nobody-ids privs-nobody-caps privs-nobody-serves; do
		usn_fail "$c" "$USN_REASON"
	done
fi

ip netns exec "$USN_DEV_NS" "$USNET_ECHO" --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX" \
	--user no-such-user-usnet >"$USN_WORK/unknown-user.log" 2>&1 </dev/null &
pid=$!
usn_track "$pid"
wait "$pid"
st=$?
usn_untrack "$pid"
if [ "$st" = 2 ] && grep -q "no user named" "$USN_WORK/unknown-user.log"; then
	usn_pass privs-unknown-user
else
	usn_fail privs-unknown-user "exit $st: $(head -c 200 "$USN_WORK/unknown-user.log")"
fi
usn_finish
