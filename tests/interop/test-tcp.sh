#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-tcp.sh - usnet's TCP against the Linux kernel's over the TAP. With
# usnet-nc: 100 MB from a kernel socat into `usnet-nc -l`, 100 MB from
# usnet-nc into a kernel socat listener, 100 MB each way at once on one
# connection (tests/interop/tcp_peer.py on the kernel side), the same with
# 1 % and 5 % of the TCP frames dropped each way by nftables on the TAP, a
# reset from the kernel (SO_LINGER {1, 0}), a connection refused, and a
# reconnection to a 4-tuple the kernel holds in TIME-WAIT with an older
# timestamp (usnet resets the kernel's ACK and sends its SYN again at once,
# RFC 9293 §3.10.7.3). With
# usnet-echo's TCP echo on port 7: 300 sequential and 50 parallel short
# connections, after which its connection and buffer gauges return to where
# they were; a SYN flood from spoofed addresses during a real connection
# (SYN cookies); and hand-made segments on a connection scapy opens itself
# (tests/interop/tcp_craft.py: bad options and offsets, bad checksum, RFC 5961
# challenge ACKs, out-of-window and overlapping data). Every file is random,
# compared by sha256; every transfer has a time limit. Run as root.
#
# Environment, besides lib.sh's: USNET_NC (default next to USNET_ECHO),
# USNET_ECHO_ASAN (used for the usnet-echo cases when set, as test-malformed.sh does),
# USN_TCP_MB (size of the lossless transfers, default 100), USN_TCP_LOSS_MB
# (size of the lossy ones, default 100).
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

USNET_NC=${USNET_NC:-$(dirname "$USNET_ECHO")/usnet-nc}
MB=${USN_TCP_MB:-100}
LOSS_MB=${USN_TCP_LOSS_MB:-100}
NC_PID=""
NC_STATUS=""
NC_ERR=""
HOLD_FD=""

craft_cases=(handshake opt-len-0 opt-len-1 opt-past-header opt-mss-past-header doff-under-5
	doff-past-segment bad-checksum rst-in-window-wrong-seq rst-ack-in-window-wrong-seq
	rst-out-of-window syn-in-established synack-in-established ack-unsent-data
	data-beyond-window data-already-received no-ack-flag data-overlap-reorder close-and-free)
cases=("nc-listen-recv-${MB}m" "nc-connect-send-${MB}m" "nc-bidir-${MB}m"
	"nc-bidir-${LOSS_MB}m-loss-1pct" "nc-bidir-${LOSS_MB}m-loss-5pct"
	nc-peer-reset nc-connect-refused nc-timewait-reconnect
	echo-300-sequential echo-50-parallel echo-conns-released echo-buffers-released)
for c in "${craft_cases[@]}"; do
	cases+=("craft-$c")
done
cases+=(craft-alive synflood-client-ok synflood-cookies synflood-alive synflood-released
	tcp-clean-exit)

USN_REASON=$(usn_preflight)
if [ -z "$USN_REASON" ] && ! usn_setup_ns >"$USN_WORK/setup.log" 2>&1; then
	USN_REASON="namespace/TAP setup failed: $(tail -n 1 "$USN_WORK/setup.log")"
fi
[ -z "$USN_REASON" ] && [ ! -x "$USNET_NC" ] && USN_REASON="usnet-nc not built at $USNET_NC"
[ -z "$USN_REASON" ] && [ ! -x "$USNET_ECHO" ] && USN_REASON="usnet-echo not built at $USNET_ECHO"
if [ -n "$USN_REASON" ]; then
	usn_fail_all "$USN_REASON" "${cases[@]}"
	usn_finish
fi

# ---- helpers of this file ----

# now_ms: a monotonic-enough clock for durations.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# secs MS: milliseconds as seconds with one decimal.
secs() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }

sha() { sha256sum <"$1" | cut -d' ' -f1; }

# rand_file PATH MB: MB megabytes (10^6 bytes) of random bytes.
rand_file() { head -c "$(($2 * 1000000))" /dev/urandom >"$1"; }

# The kernel keeps usnet's MAC per address, and each usnet program may pick
# another: forget it between programs so the first frame is not lost.
forget_neigh() { ip -n "$USN_NS" neigh flush dev "$USN_TAP" 2>/dev/null; }

# nc_start NAME STDIN STDOUT ARGS...: usnet-nc on the TAP as 10.77.0.2/24
# (modelled on lib.sh's usn_start_echo), stderr into $USN_WORK/NAME.err and
# its frames into NAME.pcap. With -l among ARGS, waits up to 10 s for its
# "listening" line. Sets NC_PID; on failure sets USN_REASON, returns 1.
nc_start() {
	local name=$1 in=$2 out=$3 err i
	shift 3
	err=$USN_WORK/$name.err
	NC_ERR=$err
	: >"$err"
	forget_neigh
	ip netns exec "$USN_DEV_NS" "$USNET_NC" --dev "$USN_DEV" \
		--addr "$USN_STACK_IP/$USN_PREFIX" --pcap "$USN_WORK/$name.pcap" -s \
		"$@" <"$in" >"$out" 2>"$err" &
	NC_PID=$!
	usn_track "$NC_PID"
	case " $* " in
	*" -l "*) ;;
	*) return 0 ;;
	esac
	for i in $(seq 100); do
		grep -q 'listening on port' "$err" && return 0
		if ! kill -0 "$NC_PID" 2>/dev/null; then
			wait "$NC_PID"
			USN_REASON="usnet-nc exited with status $? before listening: $(tail -n 2 "$err" | tr '\n' ' ')"
			usn_untrack "$NC_PID"
			NC_PID=""
			return 1
		fi
		sleep 0.1
	done
	USN_REASON="usnet-nc did not listen within 10 s: $(tail -n 2 "$err" | tr '\n' ' ')"
	return 1
}

# nc_wait SECONDS: waits for usnet-nc to exit; NC_STATUS is its status,
# "timeout" when it had to be killed, or "sanitizer: ..." when a sanitizer
# build reported an error (its exit status alone could look like a pass).
nc_wait() {
	local limit=$(($1 * 10)) i
	for ((i = 0; i < limit; i++)); do
		kill -0 "$NC_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$NC_PID" 2>/dev/null; then
		kill -TERM "$NC_PID" 2>/dev/null
		sleep 1
		kill -KILL "$NC_PID" 2>/dev/null
		wait "$NC_PID" 2>/dev/null
		NC_STATUS=timeout
	else
		wait "$NC_PID"
		NC_STATUS=$?
	fi
	usn_untrack "$NC_PID"
	NC_PID=""
	local san
	san=$(grep -m1 -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$NC_ERR")
	[ -n "$san" ] && NC_STATUS="sanitizer: $san"
}

# nc_stats NAME: usnet-nc's one-line TCP summary (from -s), for the log.
nc_stats() { grep -m1 -E '^usnet-nc: [A-Z_-]+ cc ' "$USN_WORK/$1.err" | sed 's/^usnet-nc: //'; }

# nc_why NAME: the last lines usnet-nc printed, as one line.
nc_why() { grep '^usnet-nc: ' "$USN_WORK/$1.err" | grep -v -E '^usnet-nc: [A-Z_-]+ cc ' | tail -n 2 | tr '\n' ' '; }

# loss_on PERCENT / loss_off: nftables drops PERCENT % of the TCP frames on
# the TAP's kernel side, both ways: the netdev ingress hook sees what usnet
# sent, the egress hook what the kernel sends to usnet.
loss_on() {
	usn_ns nft -f - <<-EOF
		table netdev usnt_loss {
			chain from_usnet {
				type filter hook ingress device "$USN_TAP" priority 0;
				ip protocol tcp numgen random mod 100 < $1 counter drop
			}
			chain to_usnet {
				type filter hook egress device "$USN_TAP" priority 0;
				ip protocol tcp numgen random mod 100 < $1 counter drop
			}
		}
	EOF
}
loss_counts() {
	usn_ns nft list table netdev usnt_loss 2>/dev/null |
		awk '/chain/ { c = $2 } /counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") printf "%s %s dropped; ", c, $(i + 1) }'
}
loss_off() { usn_ns nft delete table netdev usnt_loss 2>/dev/null; }

# gauge FILE NAME: a "state:" gauge (BUFFERS_IN_USE, TCP_CONNECTIONS) from a
# raw counter dump; counters.py knows only the counters of counters.def.
gauge() { awk -v n="$2" '$2 == n { v = $1 } END { print v }' "$1"; }

A=$USN_WORK/a.bin
B=$USN_WORK/b.bin
rand_file "$A" "$MB"
rand_file "$B" "$MB"
usn_info "usnet-nc $USNET_NC, usnet-echo $USNET_ECHO; ${MB} MB files"

# ---- 1. kernel socat -> usnet-nc -l ----
name=nc-listen-recv-${MB}m
if nc_start c1 /dev/null "$USN_WORK/c1.out" -l 5001; then
	t0=$(now_ms)
	usn_ns timeout -k 5 120 socat -u - "TCP:$USN_STACK_IP:5001" <"$A" >"$USN_WORK/c1.socat" 2>&1
	src=$?
	nc_wait 30
	dt=$(($(now_ms) - t0))
	if [ "$NC_STATUS" = 0 ] && [ "$(sha "$USN_WORK/c1.out")" = "$(sha "$A")" ]; then
		usn_pass "$name"
		usn_info "$name: $(secs $dt) s; $(nc_stats c1)"
	else
		usn_fail "$name" "usnet-nc status $NC_STATUS, socat status $src, received $(stat -c %s "$USN_WORK/c1.out") of $((MB * 1000000)) bytes (sha256 match: $([ "$(sha "$USN_WORK/c1.out")" = "$(sha "$A")" ] && echo yes || echo no)); $(nc_why c1)"
	fi
	rm -f "$USN_WORK/c1.out"
else
	usn_fail "$name" "$USN_REASON"
fi

# kernel_listening PORT: waits (5 s at most) until a kernel socket listens on PORT.
kernel_listening() {
	for _ in $(seq 50); do
		usn_ns ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# ---- 2. usnet-nc connects -> kernel socat listener ----
name=nc-connect-send-${MB}m
usn_ns timeout -k 5 120 socat -u TCP-LISTEN:5002,reuseaddr - >"$USN_WORK/c2.out" 2>"$USN_WORK/c2.socat" &
sp=$!
usn_track "$sp"
kernel_listening 5002
t0=$(now_ms)
if nc_start c2 "$A" /dev/null "$USN_HOST_IP" 5002; then
	nc_wait 120
	wait "$sp"
	src=$?
	usn_untrack "$sp"
	dt=$(($(now_ms) - t0))
	if [ "$NC_STATUS" = 0 ] && [ "$(sha "$USN_WORK/c2.out")" = "$(sha "$A")" ]; then
		usn_pass "$name"
		usn_info "$name: $(secs $dt) s; $(nc_stats c2)"
	else
		usn_fail "$name" "usnet-nc status $NC_STATUS, socat status $src, socat received $(stat -c %s "$USN_WORK/c2.out") of $((MB * 1000000)) bytes; $(nc_why c2)"
	fi
else
	usn_fail "$name" "$USN_REASON"
fi
rm -f "$USN_WORK/c2.out"

# ---- 3.-5. both ways at once, without and with loss ----
# bidir NAME PORT MB TIMEOUT: usnet-nc -l sends A's first MB megabytes and
# receives; tcp_peer.py connects, sends B's, and checks what it receives.
bidir() {
	local name=$1 port=$2 mb=$3 tmo=$4 c=bidir$2 a=$USN_WORK/bidir-a.bin b=$USN_WORK/bidir-b.bin t0 dt prc
	if [ "$mb" = "$MB" ]; then
		a=$A
		b=$B
	else
		head -c "$((mb * 1000000))" "$A" >"$a"
		head -c "$((mb * 1000000))" "$B" >"$b"
	fi
	if ! nc_start "$c" "$a" "$USN_WORK/$c.out" -l "$port"; then
		usn_fail "$name" "$USN_REASON"
		return
	fi
	t0=$(now_ms)
	usn_ns timeout -k 5 "$tmo" "$USN_PY" "$USN_HERE/tcp_peer.py" xfer --connect "$USN_STACK_IP" "$port" \
		--send "$b" --expect "$a" --timeout "$((tmo - 5))" >"$USN_WORK/$c.py" 2>&1
	prc=$?
	nc_wait 20
	dt=$(($(now_ms) - t0))
	if [ "$prc" = 0 ] && [ "$NC_STATUS" = 0 ] && [ "$(sha "$USN_WORK/$c.out")" = "$(sha "$b")" ]; then
		usn_pass "$name"
	else
		usn_fail "$name" "usnet-nc status $NC_STATUS (received $(stat -c %s "$USN_WORK/$c.out") of $((mb * 1000000)) bytes, sha256 match: $([ "$(sha "$USN_WORK/$c.out")" = "$(sha "$b")" ] && echo yes || echo no)); kernel side status $prc: $(tail -n 1 "$USN_WORK/$c.py"); $(nc_why "$c")"
	fi
	usn_info "$name: $(secs $dt) s; kernel side: $(head -n 1 "$USN_WORK/$c.py")"
	usn_info "$name: usnet-nc $(nc_stats "$c")"
	rm -f "$USN_WORK/$c.out"
}
bidir "nc-bidir-${MB}m" 5003 "$MB" 120
if loss_on 1 >"$USN_WORK/nft.log" 2>&1; then
	bidir "nc-bidir-${LOSS_MB}m-loss-1pct" 5004 "$LOSS_MB" 240
	usn_info "nftables: $(loss_counts)"
	loss_off
else
	usn_fail "nc-bidir-${LOSS_MB}m-loss-1pct" "nftables rule not accepted: $(tail -n 1 "$USN_WORK/nft.log")"
fi
if loss_on 5 >"$USN_WORK/nft.log" 2>&1; then
	bidir "nc-bidir-${LOSS_MB}m-loss-5pct" 5005 "$LOSS_MB" 300
	usn_info "nftables: $(loss_counts)"
	loss_off
else
	usn_fail "nc-bidir-${LOSS_MB}m-loss-5pct" "nftables rule not accepted: $(tail -n 1 "$USN_WORK/nft.log")"
fi
rm -f "$USN_WORK/bidir-a.bin" "$USN_WORK/bidir-b.bin" "$B"

# ---- 7. the kernel resets the connection ----
# usnet-nc's stdin is a FIFO this shell holds open, so it never half-closes
# by itself: the RST is what ends the connection.
name=nc-peer-reset
fifo=$USN_WORK/c7.fifo
mkfifo "$fifo"
exec {HOLD_FD}<>"$fifo"
if nc_start c7 "$fifo" "$USN_WORK/c7.out" -l 5007; then
	usn_ns timeout -k 2 10 "$USN_PY" "$USN_HERE/tcp_peer.py" rst "$USN_STACK_IP" 5007 --bytes 20000 >"$USN_WORK/c7.py" 2>&1
	prc=$?
	t0=$(now_ms)
	nc_wait 5
	dt=$(($(now_ms) - t0))
	if [ "$prc" != 0 ]; then
		usn_fail "$name" "the kernel client failed: $(tail -n 1 "$USN_WORK/c7.py")"
	elif [ "$NC_STATUS" = 1 ] && grep -q 'Connection reset' "$USN_WORK/c7.err"; then
		usn_pass "$name"
		usn_info "$name: usnet-nc exited $(secs $dt) s after the RST: $(nc_why c7)"
	else
		usn_fail "$name" "usnet-nc status $NC_STATUS (want 1 within 5 s and \"Connection reset\"): $(nc_why c7)"
	fi
else
	usn_fail "$name" "$USN_REASON"
fi
exec {HOLD_FD}>&-

# ---- 8. connection refused ----
name=nc-connect-refused
t0=$(now_ms)
if nc_start c8 /dev/null /dev/null "$USN_HOST_IP" 5999; then
	nc_wait 5
	dt=$(($(now_ms) - t0))
	if [ "$NC_STATUS" = 1 ] && grep -q 'Connection refused' "$USN_WORK/c8.err"; then
		usn_pass "$name"
		usn_info "$name: exit 1 after $(secs $dt) s: $(nc_why c8)"
	else
		usn_fail "$name" "usnet-nc status $NC_STATUS after $(secs $dt) s (want 1 within 5 s and \"Connection refused\"): $(nc_why c8)"
	fi
fi

# ---- 11. reconnecting to a 4-tuple the kernel holds in TIME-WAIT ----
# A new usnet process has a new secret, so its ISN and timestamp offset have
# nothing to do with the last one's (RFC 6528, RFC 7323 §5.4). When Linux
# holds the 4-tuple in TIME-WAIT and the new SYN's timestamp is older than
# the last it saw, it refuses the SYN (RFC 6191, PAWS) and ACKs the old
# connection; usnet answers that ACK with <SEQ=SEG.ACK><CTL=RST> (RFC 9293
# §3.10.7.3), which ends the TIME-WAIT (tcp_rfc1337=0), and sends its SYN
# again at once instead of after its 1 s RTO (TCP_SYN_RETRY_AFTER_RST).
# usnet-nc cannot choose its source port, but with --seed it picks the same
# one every run: two probes (seeds 1 and 2, to a closed port) give each
# seed's port and timestamp offset (TSval less the capture's clock). Then a
# kernel socat from port 5010 sends a line to usnet-nc -l on the older
# seed's port P (usnet-nc run with the newer seed) and closes first, so the
# kernel holds 10.77.0.1:5010 <-> 10.77.0.2:P in TIME-WAIT with the newer
# TS.Recent; then usnet-nc with the older seed connects to a kernel socat
# listening on 5010, from P, and must get its answer with one fast retry.
name=nc-timewait-reconnect
# probe SEED: "PORT OFFSET" of usnet-nc --seed SEED's SYN into
# $USN_WORK/c11pSEED.txt (empty if none).
probe() {
	: >"$USN_WORK/c11p$1.txt"
	nc_start "c11p$1" /dev/null /dev/null --seed "$1" "$USN_HOST_IP" 5999 || return
	nc_wait 5
	tcpdump -r "$USN_WORK/c11p$1.pcap" -nn -tt 'src host 10.77.0.2 and tcp[tcpflags] & tcp-syn != 0' 2>/dev/null |
		head -n 1 | sed -nE 's/^([0-9]+)\.([0-9]{3})[0-9]* IP [0-9.]+\.([0-9]+) > .*TS val ([0-9]+) .*/\3 \1\2 \4/p' |
		awk '{ printf "%s %.0f\n", $1, $3 - $2 }' >"$USN_WORK/c11p$1.txt"
}
usn_ns sysctl -qw net.ipv4.tcp_rfc1337=0 # the default, said out loud
probe 1
probe 2
read -r port1 off1 <"$USN_WORK/c11p1.txt"
read -r port2 off2 <"$USN_WORK/c11p2.txt"
if [ -z "${port1:-}" ] || [ -z "${port2:-}" ]; then
	usn_fail "$name" "the probes did not show usnet-nc's SYN (ports '${port1:-}' '${port2:-}')"
else
	# d: seed 2's offset less seed 1's, as a signed 32-bit difference (ms)
	d=$(((off2 - off1) % 4294967296))
	[ "$d" -lt 0 ] && d=$((d + 4294967296))
	[ "$d" -ge 2147483648 ] && d=$((d - 4294967296))
	if [ "$d" -lt -60000 ]; then
		old_seed=2 new_seed=1 P=$port2
	elif [ "$d" -gt 60000 ]; then
		old_seed=1 new_seed=2 P=$port1
	else
		old_seed=""
	fi
	# usnet-nc -l reads a FIFO that this shell holds open (and usnet-nc
	# does not inherit), so it closes its end only when told to.
	fifo=$USN_WORK/c11.fifo
	mkfifo "$fifo"
	exec {HOLD_FD}<>"$fifo"
	if [ -z "$old_seed" ]; then
		usn_skip "$name" "seeds 1 and 2 have timestamp offsets within a minute of each other"
	elif ! nc_start c11a "$fifo" "$USN_WORK/c11a.out" --seed "$new_seed" -l "$P" {HOLD_FD}>&-; then
		usn_fail "$name" "$USN_REASON"
	else
		# The kernel sends a line and closes; usnet-nc's end closes
		# after that (its stdin ends), so the kernel's end is the one
		# left in TIME-WAIT.
		echo first | usn_ns timeout -k 2 10 socat -u - "TCP:$USN_STACK_IP:$P,sourceport=5010,reuseaddr" \
			>"$USN_WORK/c11a.socat" 2>&1
		src=$?
		sleep 0.3
		exec {HOLD_FD}>&-
		nc_wait 5
		tw=$(usn_ns ss -Htan state time-wait "( sport = :5010 and dst $USN_STACK_IP:$P )" | wc -l)
		if [ "$src" != 0 ] || [ "$NC_STATUS" != 0 ] || [ "$(cat "$USN_WORK/c11a.out")" != first ] || [ "$tw" != 1 ]; then
			usn_fail "$name" "first connection: socat status $src, usnet-nc status $NC_STATUS, received '$(head -c 40 "$USN_WORK/c11a.out")', kernel TIME-WAIT entries $tw; $(nc_why c11a)"
		else
			echo second >"$USN_WORK/c11.reply"
			usn_ns timeout -k 2 10 socat -u "OPEN:$USN_WORK/c11.reply" TCP-LISTEN:5010,reuseaddr \
				2>"$USN_WORK/c11b.socat" &
			sp=$!
			usn_track "$sp"
			kernel_listening 5010
			t0=$(now_ms)
			if nc_start c11b /dev/null "$USN_WORK/c11b.out" --seed "$old_seed" "$USN_HOST_IP" 5010; then
				nc_wait 10
				dt=$(($(now_ms) - t0))
				wait "$sp"
				src=$?
				usn_untrack "$sp"
				"$USN_PY" "$USN_HERE/counters.py" parse "$USN_WORK/c11b.err" >"$USN_WORK/c11b.ctr"
				retry=$(awk '$1 == "TCP_SYN_RETRY_AFTER_RST" { print $2 }' "$USN_WORK/c11b.ctr")
				rto=$(awk '$1 == "TCP_RTO_EXPIRED" { print $2 }' "$USN_WORK/c11b.ctr")
				# flags of the handshake's segments as usnet saw them
				segs=$(tcpdump -r "$USN_WORK/c11b.pcap" -nn 'tcp port 5010' 2>/dev/null | head -n 5 |
					sed -nE 's/.* IP [0-9.]+\.([0-9]+) > .*Flags \[([^]]*)\].*/\1:\2/p' | tr '\n' ' ')
				sport=$(tcpdump -r "$USN_WORK/c11b.pcap" -nn 'src host 10.77.0.2 and tcp[tcpflags] & tcp-syn != 0' 2>/dev/null |
					head -n 1 | sed -nE 's/.* IP [0-9.]+\.([0-9]+) > .*/\1/p')
				want="$P:S 5010:. $P:R $P:S 5010:S. "
				if [ "$sport" != "$P" ]; then
					usn_skip "$name" "usnet-nc --seed $old_seed took port $sport this time, $P in its probe"
				elif [ "$NC_STATUS" = 0 ] && [ "$src" = 0 ] && [ "$(cat "$USN_WORK/c11b.out")" = second ] &&
					[ "${retry:-0}" = 1 ] && [ "${rto:-0}" = 0 ] && [ "$segs" = "$want" ]; then
					usn_pass "$name"
					usn_info "$name: port $P, answered after $(secs $dt) s: $segs"
				elif [ "$(echo "$segs" | cut -d' ' -f2)" = "5010:S." ]; then
					usn_skip "$name" "the kernel took the SYN at once (RFC 6191 said newer): $segs"
				else
					usn_fail "$name" "usnet-nc status $NC_STATUS, socat status $src, received '$(head -c 40 "$USN_WORK/c11b.out")', TCP_SYN_RETRY_AFTER_RST ${retry:-0}, TCP_RTO_EXPIRED ${rto:-0}, segments: $segs (want $want); $(nc_why c11b)"
				fi
			else
				usn_fail "$name" "$USN_REASON"
			fi
		fi
	fi
	[ -n "${HOLD_FD:-}" ] && exec {HOLD_FD}>&- 2>/dev/null
fi

# ---- usnet-echo from here on ----
# As in test-malformed.sh: the sanitizer build's usnet-echo when given, so a
# memory error the crafted segments or the flood cause is reported.
if [ -n "${USNET_ECHO_ASAN:-}" ] && [ -x "$USNET_ECHO_ASAN" ]; then
	USNET_ECHO=$USNET_ECHO_ASAN
	export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	usn_info "usnet-echo: the sanitizer build $USNET_ECHO"
fi
forget_neigh
if ! usn_start_echo; then
	usn_fail_all "$USN_REASON" "${cases[@]:8}"
	usn_finish
fi
usn_ns ping -n -c 1 -W 2 "$USN_STACK_IP" >/dev/null 2>&1

# ---- 6. many short connections ----
usn_counters "$USN_WORK/e0.txt"
conns0=$(gauge "$USN_WORK/e0.txt" TCP_CONNECTIONS)
bufs0=$(gauge "$USN_WORK/e0.txt" BUFFERS_IN_USE)
usn_info "usnet-echo before: TCP_CONNECTIONS=$conns0 BUFFERS_IN_USE=$bufs0"
usn_check echo-300-sequential usn_ns timeout -k 5 120 "$USN_PY" "$USN_HERE/tcp_peer.py" echo \
	"$USN_STACK_IP" 7 --count 300 --min 1 --max 3000 --seed 6
usn_check echo-50-parallel usn_ns timeout -k 5 60 "$USN_PY" "$USN_HERE/tcp_peer.py" echo \
	"$USN_STACK_IP" 7 --count 50 --parallel 50 --min 1 --max 20000 --seed 7
# usnet-echo is the passive closer (the clients half-close first), so no
# connection waits in TIME-WAIT on its side: every one must be gone soon.
t0=$(now_ms)
conns=""
bufs=""
while :; do
	usn_counters "$USN_WORK/e1.txt" || break
	conns=$(gauge "$USN_WORK/e1.txt" TCP_CONNECTIONS)
	bufs=$(gauge "$USN_WORK/e1.txt" BUFFERS_IN_USE)
	[ "$conns" = "$conns0" ] && [ "$bufs" = "$bufs0" ] && break
	[ $(($(now_ms) - t0)) -gt 70000 ] && break
	sleep 1
done
dt=$(($(now_ms) - t0))
if [ -n "$conns0" ] && [ "$conns" = "$conns0" ]; then
	usn_pass echo-conns-released
	usn_info "TCP_CONNECTIONS back to $conns0 after $(secs $dt) s"
else
	usn_fail echo-conns-released "TCP_CONNECTIONS ${conns:-?} after $(secs $dt) s, was ${conns0:-?} before the 350 connections"
fi
if [ -n "$bufs0" ] && [ "$bufs" = "$bufs0" ]; then
	usn_pass echo-buffers-released
else
	usn_fail echo-buffers-released "BUFFERS_IN_USE ${bufs:-?} after $(secs $dt) s, was ${bufs0:-?} before the 350 connections"
fi

# ---- 10. crafted segments on a connection of scapy's own ----
stack_mac=$(usn_stack_mac)
usn_ns "$USN_PY" "$USN_HERE/tcp_craft.py" --iface "$USN_TAP" --stack-mac "$stack_mac" \
	--pid "$USN_ECHO_PID" --log "$USN_ECHO_LOG" --seed 10 >"$USN_WORK/craft.out" 2>&1
for c in "${craft_cases[@]}"; do
	line=$(grep -m1 -E "^$c (ok|fail)" "$USN_WORK/craft.out")
	case "$line" in
	"$c ok") usn_pass "craft-$c" ;;
	"$c fail: "*) usn_fail "craft-$c" "${line#"$c fail: "}" ;;
	*) usn_fail "craft-$c" "tcp_craft.py did not get to it: $(tail -n 1 "$USN_WORK/craft.out")" ;;
	esac
done
grep -E '^  ' "$USN_WORK/craft.out" | sed 's/^  //' | while IFS= read -r l; do usn_info "craft: $l"; done
why=""
usn_echo_alive || why="usnet-echo died"
[ -z "$why" ] && ! usn_ns ping -n -c 2 -i 0.2 -W 2 "$USN_STACK_IP" >/dev/null 2>&1 && why="no answer to ping"
if [ -z "$why" ]; then
	out=$(usn_ns timeout -k 2 15 "$USN_PY" "$USN_HERE/tcp_peer.py" echo "$USN_STACK_IP" 7 --count 3 --seed 11 2>&1) ||
		why="TCP echo failed: $(printf '%s\n' "$out" | tail -n 1)"
fi
if [ -z "$why" ]; then
	usn_pass craft-alive
else
	usn_fail craft-alive "$why"
fi

# ---- 9. SYN flood from spoofed addresses while a real client connects ----
stack_mac=$(usn_stack_mac)
usn_counters "$USN_WORK/f0.txt"
usn_ns "$USN_PY" "$USN_HERE/tcp_synflood.py" --iface "$USN_TAP" --dst-mac "$stack_mac" \
	--count 4000 --seconds 4 --seed 9 >"$USN_WORK/synflood.out" 2>&1 &
fp=$!
usn_track "$fp"
# Building the frames takes scapy a while: the client starts once the flood
# is under way and the SYN queue (256) is full.
for _ in $(seq 100); do
	grep -q '^flooding' "$USN_WORK/synflood.out" && break
	kill -0 "$fp" 2>/dev/null || break
	sleep 0.1
done
sleep 1
usn_check synflood-client-ok usn_ns timeout -k 5 30 "$USN_PY" "$USN_HERE/tcp_peer.py" echo \
	"$USN_STACK_IP" 7 --count 5 --min 100 --max 5000 --seed 9
wait "$fp"
frc=$?
usn_untrack "$fp"
usn_info "SYN flood: $(tail -n 1 "$USN_WORK/synflood.out") (status $frc)"
if usn_counters "$USN_WORK/f1.txt"; then
	"$USN_PY" "$USN_HERE/counters.py" diff "$USN_WORK/f0.txt.parsed" "$USN_WORK/f1.txt.parsed" >"$USN_WORK/f.delta"
	sent=$(usn_counter "$USN_WORK/f.delta" TCP_SYNCOOKIES_SENT)
	recv=$(usn_counter "$USN_WORK/f.delta" TCP_SYNCOOKIES_RECV)
	usn_info "SYN flood counters: $(grep -E '^TCP_(SYNCOOKIES|PASSIVE|LISTEN|CONN_ALLOC|ATTEMPT)' "$USN_WORK/f.delta" | tr '\n' ' ')"
	# The client's connections, made while the queue was full, came back
	# through a cookie: TCP_SYNCOOKIES_RECV counts them.
	if [ "$frc" = 0 ] && [ "$sent" -gt 0 ] && [ "$recv" -gt 0 ]; then
		usn_pass synflood-cookies
	else
		usn_fail synflood-cookies "TCP_SYNCOOKIES_SENT moved by $sent, TCP_SYNCOOKIES_RECV by $recv (want both > 0), flood status $frc: $(tail -n 1 "$USN_WORK/synflood.out")"
	fi
else
	usn_fail synflood-cookies "nothing printed within 3 s of SIGUSR1"
fi
why=""
usn_echo_alive || why="usnet-echo died"
[ -z "$why" ] && ! usn_ns ping -n -c 2 -i 0.2 -W 2 "$USN_STACK_IP" >/dev/null 2>&1 && why="no answer to ping"
if [ -z "$why" ]; then
	out=$(usn_ns timeout -k 2 15 "$USN_PY" "$USN_HERE/tcp_peer.py" echo "$USN_STACK_IP" 7 --count 3 --seed 10 2>&1) ||
		why="TCP echo failed: $(printf '%s\n' "$out" | tail -n 1)"
fi
if [ -z "$why" ]; then
	usn_pass synflood-alive
else
	usn_fail synflood-alive "$why"
fi

# ---- the flood's half-open connections are all given up ----
# Nobody answers their SYN-ACKs (nor usnet's ARP requests for them): once
# usnet's SYN-ACK retries end they must be gone, and their buffers with them.
t0=$(now_ms)
conns=""
bufs=""
while usn_counters "$USN_WORK/g.txt"; do
	conns=$(gauge "$USN_WORK/g.txt" TCP_CONNECTIONS)
	bufs=$(gauge "$USN_WORK/g.txt" BUFFERS_IN_USE)
	[ "$conns" = "$conns0" ] && [ "$bufs" = "$bufs0" ] && break
	[ $(($(now_ms) - t0)) -gt 90000 ] && break
	sleep 2
done
dt=$(($(now_ms) - t0))
if [ -n "$conns0" ] && [ "$conns" = "$conns0" ] && [ "$bufs" = "$bufs0" ]; then
	usn_pass synflood-released
	usn_info "after the flood: TCP_CONNECTIONS back to $conns, BUFFERS_IN_USE to $bufs in $(secs $dt) s"
else
	usn_fail synflood-released "after $(secs $dt) s: TCP_CONNECTIONS ${conns:-?} (was ${conns0:-?}), BUFFERS_IN_USE ${bufs:-?} (was ${bufs0:-?})"
fi

usn_stop_echo TERM
san=$(usn_sanitizer_report)
if [ "$USN_ECHO_STATUS" = 0 ] && [ -z "$san" ]; then
	usn_pass tcp-clean-exit
else
	usn_fail tcp-clean-exit "usnet-echo exit status $USN_ECHO_STATUS $san"
fi
usn_finish
