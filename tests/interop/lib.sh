# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
# lib.sh - plumbing shared by the interop tests (tests/interop/test-*.sh):
# a network namespace of the test's own (its name carries the shell's PID), a
# TAP usnt0 inside it whose kernel side is 10.77.0.1/24, usnet-echo started on
# that TAP as 10.77.0.2/24, its counters read through SIGUSR1, and one line
# per case: "PASS name", "FAIL name: reason" or "SKIP name: reason".
# A trap kills exactly the PIDs this file started (by PID, never by name) and
# deletes the namespace, on success, failure or interruption. The namespace
# has no route outside 10.77.0.0/24, so no test can send traffic elsewhere.
# Not a test itself: each test-*.sh sources it and runs its cases.
#
# Environment: USNET_ECHO (the usnet-echo binary; default build/apps/usnet-echo),
# USN_LOGDIR (where logs, pcaps and counter dumps are kept; default a new
# directory under /tmp, removed on success unless USN_KEEP=1), USN_LINK
# (tap, the default, afpacket or afxdp: then usnt0 is one end of a veth pair
# whose other end, usnv0, is in a second namespace $USN_DEV_NS where usnet
# runs with --dev afpacket:usnv0 or afxdp:usnv0 beside that namespace's
# kernel, which has 10.77.0.3/24 on the same interface and must keep
# working; or dpdk: the same veth, usnet on DPDK's net_af_packet vdev over
# usnv0, with the port's MAC, no huge pages and no files the EAL would
# share or leave behind, see USN_DPDK_DEV).

set -u

USN_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
USN_HERE=$USN_REPO/tests/interop
USNET_ECHO=${USNET_ECHO:-$USN_REPO/build/apps/usnet-echo}
# Debian's scapy imports only under Debian's python, not a pyenv one on PATH.
USN_PY=/usr/bin/python3
USN_TAP=usnt0
USN_HOST_IP=10.77.0.1
USN_STACK_IP=10.77.0.2
USN_PREFIX=24
USN_LINK=${USN_LINK:-tap}
USN_KERNEL_IP=10.77.0.3 # the usnet side's own kernel address (afpacket)
# USN_LINK=dpdk: the EAL's arguments. The EAL takes one lcore (usnet's
# default when none is given), 64 MB of ordinary memory (--no-huge), no PCI
# scan, and with --no-shconf and --no-telemetry creates no shared files or
# sockets, only an empty run directory (/var/run/dpdk/rte), removed by the
# trap when empty. USN_DPDK_RX says how usnet receives (dev_dpdk.c):
# pool (the default): into mbufs whose data buffers are usnet's own pool
# slots, no copy; net_af_packet then gets ring frames of 1920 bytes (a slot
# less DPDK's headroom, plus the driver's 32 bytes), 32 to a block of 15
# pages (the driver reads frames as if contiguous, so they must tile the
# block). copy: through mbufs of DPDK's memory, copied into the pool;
# net_af_packet gets 16 KB ring frames: the kernel reassembles fragments for
# it (dev_dpdk.c, rx_data_room), so a datagram of up to ~16 KB arrives
# whole, where with pool one over ~1.9 KB cannot (test-echo.sh uses copy).
# usn_config's --dev holds at most 127 bytes.
USN_DPDK_RX=${USN_DPDK_RX:-pool}
if [ "$USN_DPDK_RX" = copy ]; then
	USN_DPDK_DEV=${USN_DPDK_DEV:-"dpdk:--no-pci --no-huge -m 64 --no-shconf --no-telemetry rx=copy --vdev=net_af_packet0,iface=usnv0,framesz=16384,blocksz=16384"}
else
	USN_DPDK_DEV=${USN_DPDK_DEV:-"dpdk:--no-pci --no-huge -m 64 --no-shconf --no-telemetry rx=pool --vdev=net_af_packet0,iface=usnv0,framesz=1920,blocksz=61440"}
fi
USN_TEST=$(basename "$0" .sh)
USN_NS=""
# Where usnet runs and the device it opens: the TAP's namespace, or the
# other end of the veth pair.
USN_DEV_NS=""
USN_DEV=tap:$USN_TAP
USN_PIDS=()
USN_ECHO_PID=""
USN_ECHO_LOG=""
USN_ECHO_STATUS=""
# Why the last setup step failed (set by usn_setup and usn_start_echo, which
# must not run in a subshell: the PIDs they record would be lost).
USN_REASON=""
USN_PASSED=0
USN_FAILED=0
USN_SKIPPED=0

exec {USN_OUT}>&1 {USN_ERR}>&2

if [ -n "${USN_LOGDIR:-}" ]; then
	USN_WORK=$USN_LOGDIR/$USN_TEST
	rm -rf "$USN_WORK"
	mkdir -p "$USN_WORK"
else
	USN_WORK=$(mktemp -d "/tmp/usnet-$USN_TEST.XXXXXX")
fi

usn_info() { printf '  %s\n' "$*"; }

usn_pass() {
	USN_PASSED=$((USN_PASSED + 1))
	printf 'PASS %s\n' "$1"
}

# usn_fail NAME REASON...
usn_fail() {
	local name=$1
	shift
	USN_FAILED=$((USN_FAILED + 1))
	printf 'FAIL %s: %s\n' "$name" "$*"
}

usn_skip() {
	local name=$1
	shift
	USN_SKIPPED=$((USN_SKIPPED + 1))
	printf 'SKIP %s: %s\n' "$name" "$*"
}

# usn_fail_all REASON NAME...: every named case fails for one reason (the
# setup they all need did not work).
usn_fail_all() {
	local reason=$1 n
	shift
	for n in "$@"; do
		usn_fail "$n" "$reason"
	done
}

# usn_check NAME COMMAND...: PASS when the command succeeds, else FAIL with
# the last line it printed as the reason.
usn_check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		usn_pass "$name"
	else
		usn_fail "$name" "$(printf '%s\n' "$out" | tail -n 1)"
		[ -n "$out" ] && printf '%s\n' "$out" | tail -n 15 | sed 's/^/    | /'
	fi
}

# Kills the PIDs we started: TERM, then KILL after 3 s. Only our own children
# are in the list, and a child that is not yet reaped keeps its PID, so the
# PID cannot name anyone else's process.
usn_kill_pids() {
	local pid i
	for pid in "${USN_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${USN_PIDS[@]}"; do
		for i in $(seq 30); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	USN_PIDS=()
}

usn_cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	# A signal can land inside a function called with redirections (usn_ns
	# CMD >file): report to where the test's output went at the start.
	exec 1>&"$USN_OUT" 2>&"$USN_ERR"
	[ "$rc" -gt 128 ] && echo "  stopped by signal $((rc - 128))"
	usn_kill_pids
	if [ -n "$USN_NS" ]; then
		ip -n "$USN_NS" link del "$USN_TAP" 2>/dev/null
		ip netns del "$USN_NS" 2>/dev/null
		USN_NS=""
	fi
	if [ -n "$USN_DEV_NS" ]; then
		ip netns del "$USN_DEV_NS" 2>/dev/null
		USN_DEV_NS=""
	fi
	if [ "$USN_LINK" = dpdk ]; then
		# Only when empty: another DPDK program's files stay. (Run as
		# another user, e.g. usnet-doctor as nobody, the EAL uses /tmp.)
		rmdir /var/run/dpdk/rte 2>/dev/null && rmdir /var/run/dpdk 2>/dev/null
		rmdir /tmp/dpdk/rte 2>/dev/null; rmdir /tmp/dpdk 2>/dev/null
	fi
	if [ -n "${USN_BPFFS:-}" ]; then
		umount "$USN_BPFFS" 2>/dev/null
		rmdir "$USN_BPFFS" 2>/dev/null
		USN_BPFFS=""
	fi
	if [ "$USN_FAILED" -eq 0 ] && [ "$rc" -eq 0 ] && [ -z "${USN_LOGDIR:-}" ] &&
		[ "${USN_KEEP:-0}" != 1 ]; then
		rm -rf "$USN_WORK"
	else
		echo "  logs: $USN_WORK"
	fi
	exit "$rc"
}
trap usn_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Ends the test: exit status 1 if any case failed.
usn_finish() {
	echo "  $USN_TEST done: $USN_PASSED pass, $USN_FAILED fail, $USN_SKIPPED skip"
	[ "$USN_FAILED" -eq 0 ]
	exit $?
}

# usn_preflight: why interop tests cannot run here, or nothing.
usn_preflight() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "not root"
	elif ! command -v ip >/dev/null; then
		echo "iproute2 missing"
	elif [ ! -c /dev/net/tun ]; then
		echo "/dev/net/tun missing"
	fi
}

usn_ns() { ip netns exec "$USN_NS" "$@"; }
# usn_dev_ns CMD...: in the namespace where usnet runs.
usn_dev_ns() { ip netns exec "$USN_DEV_NS" "$@"; }

# usn_setup_ns: the namespace and its TAP, kernel side 10.77.0.1/24 up.
# IPv6 is off in the namespace so the kernel sends no router solicitations
# or MLD reports that would blur the counters.
usn_setup_ns() {
	USN_NS=usnt-$USN_TEST-$$
	ip netns add "$USN_NS" || { USN_NS=""; return 1; }
	usn_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	usn_ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	ip -n "$USN_NS" link set lo up || return 1
	if [ "$USN_LINK" = afpacket ] || [ "$USN_LINK" = afxdp ] || [ "$USN_LINK" = dpdk ]; then
		USN_DEV_NS=usnd-$USN_TEST-$$
		ip netns add "$USN_DEV_NS" || { USN_DEV_NS=""; return 1; }
		usn_dev_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
		usn_dev_ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
		USN_DEV=$USN_LINK:usnv0
		# USN_VETH_QUEUES: receive/transmit queues of each end (AF_XDP
		# --cores: one socket per queue).
		local q=${USN_VETH_QUEUES:-1}
		ip -n "$USN_NS" link add "$USN_TAP" numtxqueues "$q" numrxqueues "$q" type veth peer name usnv0 \
			numtxqueues "$q" numrxqueues "$q" netns "$USN_DEV_NS" &&
			ip -n "$USN_NS" addr add "$USN_HOST_IP/$USN_PREFIX" dev "$USN_TAP" &&
			ip -n "$USN_NS" link set "$USN_TAP" up &&
			ip -n "$USN_DEV_NS" link set lo up &&
			ip -n "$USN_DEV_NS" addr add "$USN_KERNEL_IP/$USN_PREFIX" dev usnv0 &&
			ip -n "$USN_DEV_NS" link set usnv0 up || return 1
		if [ "$USN_LINK" = dpdk ]; then
			# net_af_packet reads frames without a virtio-net header:
			# the kernel's side must send them whole and summed (no
			# TSO, no partial checksums), as on a wire.
			usn_ns ethtool -K "$USN_TAP" tx off >/dev/null || return 1
			USN_DEV=$USN_DPDK_DEV
		fi
		if [ "$USN_LINK" = afxdp ]; then
			# XDP sees a frame before any checksum is filled in: a
			# virtual link's sender must compute them itself (a NIC
			# does on the wire). libxdp needs a bpffs, which `ip netns
			# exec` hides: one of the test's own, under /run.
			usn_ns ethtool -K "$USN_TAP" tx off >/dev/null || return 1
			USN_BPFFS=/run/usnet-bpffs-$$
			mkdir -p "$USN_BPFFS" && mount -t bpf bpf "$USN_BPFFS" || return 1
			export LIBXDP_BPFFS=$USN_BPFFS
		fi
		return
	fi
	USN_DEV_NS=$USN_NS
	USN_DEV=tap:$USN_TAP
	usn_ns ip tuntap add "$USN_TAP" mode tap &&
		ip -n "$USN_NS" addr add "$USN_HOST_IP/$USN_PREFIX" dev "$USN_TAP" &&
		ip -n "$USN_NS" link set "$USN_TAP" up
}

# usn_track PID: a PID for the trap to kill.
usn_track() { USN_PIDS+=("$1"); }

# usn_untrack PID: a PID that was reaped, no longer to be killed.
usn_untrack() {
	local keep=() p
	for p in "${USN_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	USN_PIDS=("${keep[@]}")
}

# usn_start_echo [EXTRA ARGS...]: usnet-echo on the TAP as 10.77.0.2/24,
# stdout and stderr into $USN_ECHO_LOG, waits up to 10 s for its ready line.
# On failure sets USN_REASON and returns 1.
usn_start_echo() {
	if [ ! -x "$USNET_ECHO" ]; then
		USN_REASON="usnet-echo not built at $USNET_ECHO"
		return 1
	fi
	USN_ECHO_LOG=$USN_WORK/usnet-echo.log
	: >"$USN_ECHO_LOG"
	# ip netns exec execs the program itself, so $! is usnet-echo's PID.
	# On a TAP, whichever $USN_TAP is now (test-options makes another).
	[ "$USN_LINK" = tap ] && USN_DEV=tap:$USN_TAP
	ip netns exec "${USN_DEV_NS:-$USN_NS}" "$USNET_ECHO" --dev "$USN_DEV" \
		--addr "$USN_STACK_IP/$USN_PREFIX" --pcap "$USN_WORK/usnet-echo.pcap" \
		"$@" >>"$USN_ECHO_LOG" 2>&1 </dev/null &
	USN_ECHO_PID=$!
	usn_track "$USN_ECHO_PID"
	local ready="usnet-echo: ready on $USN_DEV $USN_STACK_IP/$USN_PREFIX" i
	for i in $(seq 100); do
		if grep -qF "$ready" "$USN_ECHO_LOG"; then
			return 0
		fi
		if ! kill -0 "$USN_ECHO_PID" 2>/dev/null; then
			wait "$USN_ECHO_PID"
			USN_REASON="usnet-echo exited with status $? before it was ready: $(tail -n 3 "$USN_ECHO_LOG" | tr '\n' ' ')"
			usn_untrack "$USN_ECHO_PID"
			USN_ECHO_PID=""
			return 1
		fi
		sleep 0.1
	done
	USN_REASON="no ready line from usnet-echo within 10 s: $(tail -n 3 "$USN_ECHO_LOG" | tr '\n' ' ')"
	return 1
}

# usn_setup [EXTRA ARGS...]: namespace, TAP and usnet-echo; on failure sets
# USN_REASON and returns 1.
usn_setup() {
	USN_REASON=$(usn_preflight)
	[ -z "$USN_REASON" ] || return 1
	if ! usn_setup_ns >"$USN_WORK/setup.log" 2>&1; then
		USN_REASON="namespace/TAP setup failed: $(tail -n 1 "$USN_WORK/setup.log")"
		return 1
	fi
	usn_start_echo "$@"
}

usn_echo_alive() { [ -n "$USN_ECHO_PID" ] && kill -0 "$USN_ECHO_PID" 2>/dev/null; }

# usn_stop_echo SIGNAL: signals usnet-echo, waits up to 5 s, sets
# USN_ECHO_STATUS to its exit status (or "timeout" after a KILL).
usn_stop_echo() {
	local sig=$1 i
	kill "-$sig" "$USN_ECHO_PID" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$USN_ECHO_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$USN_ECHO_PID" 2>/dev/null; then
		kill -KILL "$USN_ECHO_PID" 2>/dev/null
		wait "$USN_ECHO_PID" 2>/dev/null
		USN_ECHO_STATUS=timeout
	else
		wait "$USN_ECHO_PID"
		USN_ECHO_STATUS=$?
	fi
	usn_untrack "$USN_ECHO_PID"
	USN_ECHO_PID=""
}

# usn_counters OUT: sends SIGUSR1 and stores what usnet-echo printed in
# response in OUT (raw) and OUT.parsed ("NAME VALUE" lines). Fails when
# nothing was printed within 3 s.
usn_counters() {
	local out=$1 before size last i stable=0
	before=$(stat -c %s "$USN_ECHO_LOG")
	kill -USR1 "$USN_ECHO_PID" 2>/dev/null || return 1
	last=$before
	for _ in $(seq 30); do
		sleep 0.1
		size=$(stat -c %s "$USN_ECHO_LOG")
		if [ "$size" -gt "$before" ] && [ "$size" -eq "$last" ]; then
			stable=$((stable + 1))
			[ "$stable" -ge 2 ] && break
		else
			stable=0
		fi
		last=$size
	done
	tail -c +"$((before + 1))" "$USN_ECHO_LOG" >"$out"
	[ -s "$out" ] || return 1
	"$USN_PY" "$USN_HERE/counters.py" parse "$out" >"$out.parsed"
}

# usn_counter FILE.parsed NAME: the value of one counter (0 when absent).
usn_counter() {
	awk -v n="$2" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }' "$1"
}

# usn_raw_counter FILE NAME: a "N NAME" line of a counter dump as printed
# (the device's own rows, which counters.py does not know), its last value;
# 0 when absent (rows that are 0 are not printed).
usn_raw_counter() {
	awk -v n="$2" '$2 == n { v = $1 } END { print v + 0 }' "$1"
}

# usn_stack_mac: usnet-echo's MAC as the kernel learned it (after a ping).
usn_stack_mac() {
	ip -n "$USN_NS" neigh show "$USN_STACK_IP" dev "$USN_TAP" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}

usn_host_mac() { usn_ns cat "/sys/class/net/$USN_TAP/address"; }

# usn_ping NAME [PING ARGS...]: ping 10.77.0.2 three times from the host side;
# all three must be answered.
usn_ping() {
	local name=$1 out
	shift
	out=$(usn_ns ping -n -c 3 -i 0.2 -W 2 "$@" "$USN_STACK_IP" 2>&1)
	if printf '%s\n' "$out" | grep -q ' 3 received'; then
		usn_pass "$name"
	else
		usn_fail "$name" "$(printf '%s\n' "$out" | grep -E 'transmitted|unreachable|error' | head -n 1)"
		printf '%s\n' "$out" | tail -n 6 | sed 's/^/    | /'
	fi
}

# usn_udp_socat NAME BYTES: one datagram of exactly BYTES random bytes sent
# with socat to 10.77.0.2 port 7; what comes back must be byte-identical.
# socat reads its stdin (a regular file) in one read of up to -b bytes, so
# the file goes out as one datagram; the reply is one datagram read whole.
usn_udp_socat() {
	local name=$1 n=$2 f=$USN_WORK/udp-$2 want got
	head -c "$n" /dev/urandom >"$f.out"
	usn_ns socat -b 65536 -t 2 -T 5 - "UDP:$USN_STACK_IP:7" <"$f.out" >"$f.back" 2>"$f.err"
	want=$(sha256sum <"$f.out" | cut -d' ' -f1)
	got=$(sha256sum <"$f.back" | cut -d' ' -f1)
	if [ "$want" = "$got" ]; then
		usn_pass "$name"
	else
		usn_fail "$name" "sent $n bytes (sha256 ${want:0:16}), got back $(stat -c %s "$f.back") bytes (sha256 ${got:0:16}) $(head -c 200 "$f.err")"
	fi
}

# usn_udp_py NAME ARGS...: tests/interop/udp_client.py inside the namespace.
usn_udp_py() {
	local name=$1
	shift
	usn_check "$name" usn_ns "$USN_PY" "$USN_HERE/udp_client.py" --dst "$USN_STACK_IP" "$@"
}

# usn_cpu_ticks PID: utime+stime of PID in clock ticks (/proc/PID/stat fields
# 14 and 15, counted after the ")" that ends the command name).
usn_cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat") || return 1
	s=${s##*) }
	# After "comm) ": state is field 3, so utime is the 12th and stime the 13th.
	echo "$s" | awk '{ print $12 + $13 }'
}

# usn_sanitizer_report: non-empty when the sanitizers reported an error.
usn_sanitizer_report() {
	grep -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$USN_ECHO_LOG" | head -n 3
}
