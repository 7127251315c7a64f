#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-doctor.sh - usnet-doctor (apps/usnet-doctor.c) tells what the machine
# offers and why a backend would not start: as root in the test's namespace
# it reports TAP and AF_PACKET usable and describes the link's interface;
# with --dev it opens the link's device (TAP, or AF_PACKET with
# USN_LINK=afpacket) and says so (exit 0); a device that does not exist
# gives the error a program would print (exit 1); run as nobody it reports
# the missing capabilities and the AF_PACKET socket refused (EPERM). One
# line per case (tests/interop/lib.sh).
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

USNET_DOCTOR=${USNET_DOCTOR:-$(dirname "$USNET_ECHO")/usnet-doctor}
cases=(doctor-root doctor-dev-opens doctor-dev-missing doctor-unprivileged)
USN_REASON=$(usn_preflight)
[ -x "$USNET_DOCTOR" ] || USN_REASON="usnet-doctor not built at $USNET_DOCTOR"
if [ -n "$USN_REASON" ] || ! usn_setup_ns >"$USN_WORK/setup.log" 2>&1; then
	usn_fail_all "${USN_REASON:-namespace setup failed: $(tail -n 1 "$USN_WORK/setup.log")}" "${cases[@]}"
	usn_finish
fi
ifname=${USN_DEV#*:}
# On DPDK the device is EAL arguments; the interface is net_af_packet's.
[ "$USN_LINK" = dpdk ] && ifname=usnv0

# doctor OUT ARGS...: runs it where usnet would run; exit status in $st.
doctor() {
	local out=$1
	shift
	ip netns exec "$USN_DEV_NS" "$@" >"$USN_WORK/$out" 2>&1 </dev/null
	st=$?
}

doctor root.txt "$USNET_DOCTOR" "$ifname"
why=""
[ "$st" = 0 ] || why="$why exit $st"
for want in '^ok +tap ' '^ok +afpacket ' "^ok +interface $ifname +driver .*MTU 1500"; do
	grep -Eq "$want" "$USN_WORK/root.txt" || why="$why no line /$want/"
done
if [ -z "$why" ]; then usn_pass doctor-root; else usn_fail doctor-root "$why; $(tr '\n' '|' <"$USN_WORK/root.txt" | head -c 300)"; fi

doctor dev.txt "$USNET_DOCTOR" --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX" "$ifname"
if [ "$st" = 0 ] && grep -Eq "^ok +open the device +$USN_DEV opens" "$USN_WORK/dev.txt"; then
	usn_pass doctor-dev-opens
else
	usn_fail doctor-dev-opens "exit $st; $(grep 'open the device' "$USN_WORK/dev.txt")"
fi

doctor missing.txt "$USNET_DOCTOR" --dev afpacket:no-such-if0
if [ "$st" = 1 ] && grep -Eq '^no +open the device +afpacket:no-such-if0 would not start: .*no such interface' "$USN_WORK/missing.txt"; then
	usn_pass doctor-dev-missing
else
	usn_fail doctor-dev-missing "exit $st; $(grep 'open the device' "$USN_WORK/missing.txt")"
fi

if command -v setpriv >/dev/null; then
	doctor nobody.txt setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$USNET_DOCTOR"
	why=""
	grep -Eq '^warn +CAP_NET_RAW +not held' "$USN_WORK/nobody.txt" || why="$why no CAP_NET_RAW warning"
	grep -Eq '^no +afpacket +socket\(AF_PACKET\): .*needs CAP_NET_RAW' "$USN_WORK/nobody.txt" || why="$why no AF_PACKET refusal"
	if [ -z "$why" ]; then usn_pass doctor-unprivileged; else usn_fail doctor-unprivileged "$why; $(tr '\n' '|' <"$USN_WORK/nobody.txt" | head -c 300)"; fi
else
	usn_skip doctor-unprivileged "setpriv (util-linux) missing"
fi
usn_finish
