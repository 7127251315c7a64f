#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-cores.sh - several stack instances on one interface (--cores 2):
# usnet-dnsd with two instances, each with its own stack, thread and CPU,
# on a multi-queue TAP (the kernel spreads flows over the queues) or, with
# USN_LINK=afpacket, as two members of a PACKET_FANOUT group. dnsperf sends
# many queries from many source ports: every one must be answered, both
# instances must have answered a share (their SIGUSR1 lines), the instance
# that never saw the client's ARP must have learned its MAC from datagrams
# (ARP_GLEANED), answers must be right over UDP and TCP, and SIGTERM must
# end both with exit status 0. Then usnet-httpd with two instances: ab
# with a new connection per request (all 200, none failed), both instances
# serving, a 1 MB file byte for byte, exit 0 on SIGTERM. Programs that run
# one instance refuse --cores 2 (exit 2). On AF_XDP (USN_LINK=afxdp) the two
# instances are two sockets on the two receive queues of a two-queue veth,
# in one XDP program's socket map. One line per case
# (tests/interop/lib.sh). On DPDK (USN_LINK=dpdk) they are the two queue
# pairs of net_af_packet with qpairs=2 (a fanout group of two sockets), each
# queue receiving into its own instance's pool (rx=pool): the port starts
# when the second instance has set up its queue.
if [ "${USN_LINK:-}" = dpdk ]; then
	USN_DPDK_DEV=${USN_DPDK_DEV:-"dpdk:--no-pci --no-huge -m 96 --no-shconf --no-telemetry --vdev=net_af_packet0,iface=usnv0,framesz=1920,blocksz=61440,qpairs=2"}
fi
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"
# Over veth (afpacket, afxdp) each end gets two queues: AF_XDP takes one
# socket per receive queue.
USN_VETH_QUEUES=${USN_VETH_QUEUES:-2}

USNET_DNSD=${USNET_DNSD:-$(dirname "$USNET_ECHO")/dnsd/usnet-dnsd}
ZONE=$USN_REPO/examples/zones/example.com.zone
cases=(cores-start cores-answers cores-dnsperf cores-both-served cores-gleaned cores-sigterm
	cores-httpd-start cores-httpd-ab cores-httpd-both-served cores-httpd-file cores-httpd-sigterm
	cores-refused-single)
USN_REASON=$(usn_preflight)
[ -x "$USNET_DNSD" ] || USN_REASON="usnet-dnsd not built at $USNET_DNSD"
command -v dnsperf >/dev/null || USN_REASON="dnsperf missing"
if [ -z "$USN_REASON" ] && [ "$USN_LINK" = tap ]; then
	# The TAP is made by usnet-dnsd itself: a multi-queue one.
	USN_NS=usnt-$USN_TEST-$$
	if ip netns add "$USN_NS"; then
		USN_DEV_NS=$USN_NS
		USN_DEV=tap:$USN_TAP
		usn_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
		ip -n "$USN_NS" link set lo up
	else
		USN_NS=""
		USN_REASON="cannot make a namespace"
	fi
elif [ -z "$USN_REASON" ] && ! usn_setup_ns >"$USN_WORK/setup.log" 2>&1; then
	USN_REASON="namespace setup failed: $(tail -n 1 "$USN_WORK/setup.log")"
fi
if [ -n "$USN_REASON" ]; then
	usn_fail_all "$USN_REASON" "${cases[@]}"
	usn_finish
fi

LOG=$USN_WORK/usnet-dnsd.log
ip netns exec "$USN_DEV_NS" "$USNET_DNSD" --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX" \
	--zone "$ZONE" --cores 2 >"$LOG" 2>&1 </dev/null &
PID=$!
usn_track "$PID"
ok=""
for _ in $(seq 100); do
	grep -q '^usnet-dnsd: ready on .*several instances' "$LOG" && { ok=1; break; }
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
if [ "$USN_LINK" = tap ] && [ -n "$ok" ]; then
	ip -n "$USN_NS" addr add "$USN_HOST_IP/$USN_PREFIX" dev "$USN_TAP" && ip -n "$USN_NS" link set "$USN_TAP" up || ok=""
fi
if [ -z "$ok" ]; then
	usn_fail_all "usnet-dnsd --cores 2 did not start: $(tail -n 3 "$LOG" | tr '\n' ' ')" "${cases[@]}"
	usn_finish
fi
usn_pass cores-start

got=$(usn_ns dig +short +time=2 +tries=2 @"$USN_STACK_IP" www.example.com A | tr '\n' ' ')
got_tcp=$(usn_ns dig +short +tcp +time=2 +tries=1 @"$USN_STACK_IP" nas.lab.example.com A | tr '\n' ' ')
if [ "$got" = "web.example.com. 192.0.2.80 " ] && [ "$got_tcp" = "192.0.2.102 " ]; then
	usn_pass cores-answers
else
	usn_fail cores-answers "UDP: '$got', TCP: '$got_tcp'"
fi

printf 'www.example.com A\nexample.com MX\nnope.example.com A\nbob.users.example.com AAAA\nnas.lab.example.com TXT\n' \
	>"$USN_WORK/queries.txt"
usn_ns dnsperf -s "$USN_STACK_IP" -d "$USN_WORK/queries.txt" -l 3 -c 16 -Q 20000 -t 2 >"$USN_WORK/dnsperf.txt" 2>&1
sent=$(awk '/Queries sent:/ { print $3 }' "$USN_WORK/dnsperf.txt")
lost=$(awk '/Queries lost:/ { print $3 }' "$USN_WORK/dnsperf.txt")
if [ -n "$sent" ] && [ "$sent" -gt 1000 ] && [ "$lost" = 0 ]; then
	usn_pass cores-dnsperf
	usn_info "dnsperf: $sent queries, 0 lost, $(awk '/Queries per second:/ { print $4 }' "$USN_WORK/dnsperf.txt") per second"
else
	usn_fail cores-dnsperf "sent ${sent:-?}, lost ${lost:-?}: $(tail -n 5 "$USN_WORK/dnsperf.txt" | tr '\n' ' ')"
fi

kill -USR1 "$PID"
for _ in $(seq 30); do
	[ "$(grep -c '^usnet-dnsd\[[01]\]: queries' "$LOG")" -ge 2 ] && break
	sleep 0.1
done
q0=$(sed -n 's/^usnet-dnsd\[0\]: queries udp \([0-9]*\).*/\1/p' "$LOG" | tail -n 1)
q1=$(sed -n 's/^usnet-dnsd\[1\]: queries udp \([0-9]*\).*/\1/p' "$LOG" | tail -n 1)
if [ "${q0:-0}" -gt 100 ] && [ "${q1:-0}" -gt 100 ]; then
	usn_pass cores-both-served
	usn_info "UDP queries per instance: $q0 and $q1"
else
	usn_fail cores-both-served "UDP queries per instance: ${q0:-none} and ${q1:-none}"
fi
gleaned=$(awk '$2 == "ARP_GLEANED" { s += $1 } END { print s + 0 }' "$LOG")
if [ "$gleaned" -ge 1 ]; then usn_pass cores-gleaned; else usn_fail cores-gleaned "ARP_GLEANED $gleaned in both instances"; fi

kill -TERM "$PID"
st=timeout
for _ in $(seq 50); do
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
if ! kill -0 "$PID" 2>/dev/null; then
	wait "$PID"
	st=$?
	usn_untrack "$PID"
fi
if [ "$st" = 0 ]; then usn_pass cores-sigterm; else usn_fail cores-sigterm "exit status $st"; fi

# ---- usnet-httpd ----
USNET_HTTPD=${USNET_HTTPD:-$(dirname "$USNET_ECHO")/httpd/usnet-httpd}
SITE=$USN_WORK/site
mkdir -p "$SITE"
echo '<html>usnet</html>' >"$SITE/index.html"
head -c 1048576 /dev/urandom >"$SITE/m1.bin"
chmod -R a+rX "$SITE"
HLOG=$USN_WORK/usnet-httpd.log
ip netns exec "$USN_DEV_NS" "$USNET_HTTPD" --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX" \
	--root "$SITE" --cores 2 >"$HLOG" 2>&1 </dev/null &
HPID=$!
usn_track "$HPID"
ok=""
for _ in $(seq 100); do
	grep -q '^usnet-httpd: ready on .*several instances' "$HLOG" && { ok=1; break; }
	kill -0 "$HPID" 2>/dev/null || break
	sleep 0.1
done
if [ "$USN_LINK" = tap ] && [ -n "$ok" ]; then
	# usnet-dnsd's TAP went with it: this one is usnet-httpd's.
	ip -n "$USN_NS" addr add "$USN_HOST_IP/$USN_PREFIX" dev "$USN_TAP" && ip -n "$USN_NS" link set "$USN_TAP" up || ok=""
fi
if [ -z "$ok" ]; then
	for c in cores-httpd-start cores-httpd-ab cores-httpd-both-served cores-httpd-file cores-httpd-sigterm; do
		usn_fail "$c" "usnet-httpd --cores 2 did not start: $(tail -n 3 "$HLOG" | tr '\n' ' ')"
	done
else
	usn_pass cores-httpd-start
	usn_ns ab -n 3000 -c 20 "http://$USN_STACK_IP/index.html" >"$USN_WORK/ab.txt" 2>&1
	done_n=$(awk '/^Complete requests:/ { print $3 }' "$USN_WORK/ab.txt")
	failed=$(awk '/^Failed requests:/ { print $3 }' "$USN_WORK/ab.txt")
	non2xx=$(awk '/^Non-2xx responses:/ { print $3 }' "$USN_WORK/ab.txt")
	if [ "$done_n" = 3000 ] && [ "$failed" = 0 ] && [ -z "$non2xx" ]; then
		usn_pass cores-httpd-ab
	else
		usn_fail cores-httpd-ab "complete ${done_n:-?}, failed ${failed:-?}, non-2xx ${non2xx:-0}"
	fi
	kill -USR1 "$HPID"
	for _ in $(seq 30); do
		[ "$(grep -c '^usnet-httpd\[[01]\]: requests' "$HLOG")" -ge 2 ] && break
		sleep 0.1
	done
	r0=$(sed -n 's/^usnet-httpd\[0\]: requests 1xx [0-9]* 2xx \([0-9]*\).*/\1/p' "$HLOG" | tail -n 1)
	r1=$(sed -n 's/^usnet-httpd\[1\]: requests 1xx [0-9]* 2xx \([0-9]*\).*/\1/p' "$HLOG" | tail -n 1)
	if [ "${r0:-0}" -gt 100 ] && [ "${r1:-0}" -gt 100 ]; then
		usn_pass cores-httpd-both-served
		usn_info "requests per instance: $r0 and $r1"
	else
		usn_fail cores-httpd-both-served "2xx per instance: ${r0:-none} and ${r1:-none}"
	fi
	why=""
	for i in 1 2 3 4; do
		usn_ns curl -s --max-time 20 -o "$USN_WORK/m1.$i" "http://$USN_STACK_IP/m1.bin"
		cmp -s "$USN_WORK/m1.$i" "$SITE/m1.bin" || why="$why download $i differs"
	done
	if [ -z "$why" ]; then usn_pass cores-httpd-file; else usn_fail cores-httpd-file "$why"; fi
	kill -TERM "$HPID"
	st=timeout
	for _ in $(seq 50); do
		kill -0 "$HPID" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$HPID" 2>/dev/null; then
		wait "$HPID"
		st=$?
		usn_untrack "$HPID"
	fi
	if [ "$st" = 0 ]; then usn_pass cores-httpd-sigterm; else usn_fail cores-httpd-sigterm "exit status $st"; fi
fi

ip netns exec "$USN_DEV_NS" "$USNET_ECHO" --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX" --cores 2 \
	>"$USN_WORK/echo-cores.log" 2>&1 </dev/null &
p=$!
usn_track "$p"
wait "$p"
st=$?
usn_untrack "$p"
if [ "$st" = 2 ] && grep -q 'runs one instance' "$USN_WORK/echo-cores.log"; then
	usn_pass cores-refused-single
else
	usn_fail cores-refused-single "usnet-echo --cores 2: exit $st: $(head -c 200 "$USN_WORK/echo-cores.log")"
fi
usn_finish
