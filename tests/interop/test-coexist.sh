#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-coexist.sh - usnet beside the kernel's own stack on one interface
# (USN_LINK=afpacket or afxdp: a veth pair between two namespaces, usnet and
# the kernel both on usnv0). The kernel serves with nginx on its own address
# 10.77.0.3 port 80 the whole time.
# Mode (a), usnet with an address of its own (10.77.0.2): usnet-httpd serves
# curl and wget byte for byte while ab loads it, and at the same time the
# kernel's nginx answers every request, byte for byte; `ss` shows nginx's
# listener.
# Mode (b), --shared-addr: usnet-httpd on the kernel's own address
# 10.77.0.3, port 8080, while nginx keeps port 80 of the same address: a
# port a kernel program holds is refused (EADDRINUSE); usnet-httpd serves
# byte for byte while nginx answers and the kernel answers ping (ICMP and
# ARP stay the kernel's); `ss` shows usnet's port held, the kernel's
# reserved ports list its range; usnet-nc connects out from the shared
# address with a port from that range and a neighbour MAC read from the
# kernel's table; at SIGTERM everything is given back (reservation, the
# nftables table or XDP program, port 8080 bindable by the kernel).
# On a TAP (its own interface, nothing to share): --shared-addr is refused
# with a message. One line per case (tests/interop/lib.sh).
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

USNET_HTTPD=${USNET_HTTPD:-$(dirname "$USNET_ECHO")/httpd/usnet-httpd}
USNET_NC=${USNET_NC:-$(dirname "$USNET_ECHO")/usnet-nc}
RANGE=61000-65535

if [ "$USN_LINK" = tap ]; then
	cases=(coexist-tap-refused)
	USN_REASON=$(usn_preflight)
	if [ -z "$USN_REASON" ] && ! usn_setup_ns >"$USN_WORK/setup.log" 2>&1; then
		USN_REASON="namespace setup failed: $(tail -n 1 "$USN_WORK/setup.log")"
	fi
	if [ -n "$USN_REASON" ]; then
		usn_fail_all "$USN_REASON" "${cases[@]}"
		usn_finish
	fi
	ip netns exec "$USN_NS" "$USNET_ECHO" --dev "$USN_DEV" --addr "$USN_HOST_IP/$USN_PREFIX" \
		--shared-addr "$RANGE" >"$USN_WORK/tap.log" 2>&1 </dev/null &
	p=$!
	usn_track "$p"
	wait "$p"
	st=$?
	usn_untrack "$p"
	if [ "$st" = 1 ] && grep -q 'cannot share the kernel' "$USN_WORK/tap.log"; then
		usn_pass coexist-tap-refused
	else
		usn_fail coexist-tap-refused "exit $st: $(head -c 300 "$USN_WORK/tap.log")"
	fi
	usn_finish
fi

cases=(coexist-kernel-nginx coexist-a-start coexist-a-serve coexist-a-kernel-meanwhile coexist-a-ss
	coexist-b-port-taken coexist-b-start coexist-b-serve coexist-b-kernel-meanwhile coexist-b-ping
	coexist-b-ss coexist-b-reserved coexist-b-stop coexist-b-given-back coexist-b-outgoing)
USN_REASON=$(usn_preflight)
command -v nginx >/dev/null || USN_REASON="nginx missing"
command -v ab >/dev/null || USN_REASON="ab (apache2-utils) missing"
if [ -z "$USN_REASON" ] && ! usn_setup_ns >"$USN_WORK/setup.log" 2>&1; then
	USN_REASON="namespace setup failed: $(tail -n 1 "$USN_WORK/setup.log")"
fi
if [ -n "$USN_REASON" ]; then
	usn_fail_all "$USN_REASON" "${cases[@]}"
	usn_finish
fi
K=$USN_KERNEL_IP

# ---- the sites: one for usnet, one for the kernel's nginx ----
SITE=$USN_WORK/site
KSITE=$USN_WORK/ksite
mkdir -p "$SITE" "$KSITE"
echo '<html>usnet</html>' >"$SITE/index.html"
head -c 1048576 /dev/urandom >"$SITE/m1.bin"
head -c 300000 /dev/urandom >"$KSITE/k.bin"
echo '<html>kernel</html>' >"$KSITE/index.html"
chmod -R a+rX "$SITE" "$KSITE"

# nginx on the kernel's address of the interface usnet uses.
d=$USN_WORK/nginx
mkdir -p "$d/tmp"
cat >"$d/nginx.conf" <<EOF
user root;
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	server {
		listen $K:80;
		root $KSITE;
	}
}
EOF
ip netns exec "$USN_DEV_NS" nginx -c "$d/nginx.conf" -p "$d" -e "$d/error.log" >"$d/stdout.log" 2>&1 </dev/null &
NGX_PID=$!
usn_track "$NGX_PID"
ok=""
for _ in $(seq 50); do
	usn_ns curl -s -o /dev/null --max-time 1 "http://$K/" && { ok=1; break; }
	kill -0 "$NGX_PID" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$ok" ]; then
	usn_fail_all "nginx on $K did not start: $(tail -n 2 "$d/error.log" "$d/stdout.log" 2>/dev/null | tr '\n' ' ')" \
		"${cases[@]}"
	usn_finish
fi
usn_pass coexist-kernel-nginx

# kernel_fetches N: N fetches of the kernel's file from nginx, each compared;
# prints how many matched.
kernel_fetches() {
	local i good=0
	for i in $(seq "$1"); do
		usn_ns curl -s --max-time 5 -o "$USN_WORK/k.$i" "http://$K/k.bin" &&
			cmp -s "$USN_WORK/k.$i" "$KSITE/k.bin" && good=$((good + 1))
		rm -f "$USN_WORK/k.$i"
	done
	echo "$good"
}

# (Programs are started with `ip netns exec` itself, not a shell function,
# so that $! is the program and the cleanup can kill it.)

# start_httpd LOG ADDR PORT [ARGS...]: usnet-httpd in the device namespace;
# sets HPID; 0 once ready.
start_httpd() {
	local log=$1 addr=$2 port=$3
	shift 3
	ip netns exec "$USN_DEV_NS" "$USNET_HTTPD" --dev "$USN_DEV" --addr "$addr/$USN_PREFIX" --port "$port" \
		--root "$SITE" "$@" >"$log" 2>&1 </dev/null &
	HPID=$!
	usn_track "$HPID"
	for _ in $(seq 100); do
		grep -q '^usnet-httpd: ready on' "$log" && return 0
		kill -0 "$HPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stop_httpd: SIGTERM; the exit status in HST (not run in a subshell: it
# waits for its own child).
stop_httpd() {
	HST=timeout
	kill -TERM "$HPID"
	for _ in $(seq 50); do
		kill -0 "$HPID" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$HPID" 2>/dev/null; then
		wait "$HPID"
		HST=$?
		usn_untrack "$HPID"
	fi
}

# serve_check URL_BASE: curl and wget of the 1 MB file, byte for byte, while
# ab loads usnet-httpd and the kernel's nginx is fetched 20 times. Sets
# SERVE_WHY (empty: all good) and KERNEL_GOOD.
serve_check() {
	local base=$1
	SERVE_WHY=""
	ip netns exec "$USN_NS" ab -q -n 3000 -c 16 "$base/index.html" >"$USN_WORK/ab.txt" 2>&1 &
	local abp=$!
	usn_track "$abp"
	KERNEL_GOOD=$(kernel_fetches 20)
	usn_ns curl -s --max-time 20 -o "$USN_WORK/m1.curl" "$base/m1.bin"
	cmp -s "$USN_WORK/m1.curl" "$SITE/m1.bin" || SERVE_WHY="$SERVE_WHY curl's copy differs;"
	(cd "$USN_WORK" && usn_ns wget -q -T 20 -t 1 -O "$USN_WORK/m1.wget" "$base/m1.bin")
	cmp -s "$USN_WORK/m1.wget" "$SITE/m1.bin" || SERVE_WHY="$SERVE_WHY wget's copy differs;"
	wait "$abp"
	usn_untrack "$abp"
	local done_n failed
	done_n=$(awk '/^Complete requests:/ { print $3 }' "$USN_WORK/ab.txt")
	failed=$(awk '/^Failed requests:/ { print $3 }' "$USN_WORK/ab.txt")
	[ "$done_n" = 3000 ] && [ "$failed" = 0 ] ||
		SERVE_WHY="$SERVE_WHY ab: complete ${done_n:-?}, failed ${failed:-?};"
}

# ---- mode (a): an address of usnet's own ----
if start_httpd "$USN_WORK/httpd-a.log" "$USN_STACK_IP" 80; then
	usn_pass coexist-a-start
	serve_check "http://$USN_STACK_IP"
	if [ -z "$SERVE_WHY" ]; then usn_pass coexist-a-serve; else usn_fail coexist-a-serve "$SERVE_WHY"; fi
	if [ "$KERNEL_GOOD" = 20 ]; then
		usn_pass coexist-a-kernel-meanwhile
	else
		usn_fail coexist-a-kernel-meanwhile "$KERNEL_GOOD of 20 fetches from the kernel's nginx matched"
	fi
	if usn_dev_ns ss -ltn | grep -q "$K:80 "; then
		usn_pass coexist-a-ss
	else
		usn_fail coexist-a-ss "ss -ltn does not show nginx on $K:80: $(usn_dev_ns ss -ltn | tr '\n' ' ')"
	fi
	stop_httpd
	[ "$HST" = 0 ] || usn_info "usnet-httpd (mode a) exit status $HST"
else
	for c in coexist-a-start coexist-a-serve coexist-a-kernel-meanwhile coexist-a-ss; do
		usn_fail "$c" "usnet-httpd did not start: $(tail -n 3 "$USN_WORK/httpd-a.log" | tr '\n' ' ')"
	done
fi

# ---- mode (b): the kernel's own address, some ports ----
reserved_before=$(usn_dev_ns cat /proc/sys/net/ipv4/ip_local_reserved_ports)
# Port 80 of that address is nginx's: usnet must not take it.
ip netns exec "$USN_DEV_NS" "$USNET_NC" --dev "$USN_DEV" --addr "$K/$USN_PREFIX" --shared-addr "$RANGE" -l 80 \
	>"$USN_WORK/nc-taken.log" 2>&1 </dev/null &
p=$!
usn_track "$p"
st=timeout
for _ in $(seq 50); do
	kill -0 "$p" 2>/dev/null || break
	sleep 0.1
done
if ! kill -0 "$p" 2>/dev/null; then
	wait "$p"
	st=$?
	usn_untrack "$p"
fi
if [ "$st" = 1 ] && grep -q 'Address already in use' "$USN_WORK/nc-taken.log"; then
	usn_pass coexist-b-port-taken
else
	usn_fail coexist-b-port-taken "usnet-nc -l 80 on nginx's port: exit $st: $(head -c 300 "$USN_WORK/nc-taken.log")"
fi

if start_httpd "$USN_WORK/httpd-b.log" "$K" 8080 --shared-addr "$RANGE"; then
	usn_pass coexist-b-start
	serve_check "http://$K:8080"
	if [ -z "$SERVE_WHY" ]; then usn_pass coexist-b-serve; else usn_fail coexist-b-serve "$SERVE_WHY"; fi
	if [ "$KERNEL_GOOD" = 20 ]; then
		usn_pass coexist-b-kernel-meanwhile
	else
		usn_fail coexist-b-kernel-meanwhile "$KERNEL_GOOD of 20 fetches from the kernel's nginx matched"
	fi
	if usn_ns ping -c 3 -i 0.2 -W 1 "$K" >"$USN_WORK/ping.txt" 2>&1; then
		usn_pass coexist-b-ping
	else
		usn_fail coexist-b-ping "$(tail -n 2 "$USN_WORK/ping.txt" | tr '\n' ' ')"
	fi
	ssout=$(usn_dev_ns ss -ltn)
	if grep -q "$K:8080 " <<<"$ssout" && grep -q "$K:80 " <<<"$ssout"; then
		usn_pass coexist-b-ss
	else
		usn_fail coexist-b-ss "ss -ltn: $(tr '\n' ' ' <<<"$ssout")"
	fi
	reserved=$(usn_dev_ns cat /proc/sys/net/ipv4/ip_local_reserved_ports)
	if [[ ",$reserved," == *",$RANGE,"* ]]; then
		usn_pass coexist-b-reserved
	else
		usn_fail coexist-b-reserved "ip_local_reserved_ports is '$reserved'"
	fi
	stop_httpd
	if [ "$HST" = 0 ]; then usn_pass coexist-b-stop; else usn_fail coexist-b-stop "exit status $HST"; fi
	why=""
	[ "$(usn_dev_ns cat /proc/sys/net/ipv4/ip_local_reserved_ports)" = "$reserved_before" ] ||
		why="$why reserved ports not restored;"
	usn_dev_ns nft list tables 2>/dev/null | grep -q usnet_ && why="$why an nftables table is left;"
	ip -n "$USN_DEV_NS" link show usnv0 | grep -q ' xdp' && why="$why an XDP program is left;"
	ip netns exec "$USN_DEV_NS" socat -u "TCP-LISTEN:8080,bind=$K,reuseaddr" - >/dev/null 2>"$USN_WORK/rebind.log" </dev/null &
	p=$!
	usn_track "$p"
	sleep 0.3
	kill -0 "$p" 2>/dev/null || why="$why the kernel cannot bind 8080: $(head -c 200 "$USN_WORK/rebind.log");"
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	usn_untrack "$p"
	[ "$(kernel_fetches 3)" = 3 ] || why="$why nginx stopped answering;"
	if [ -z "$why" ]; then usn_pass coexist-b-given-back; else usn_fail coexist-b-given-back "$why"; fi
else
	for c in coexist-b-start coexist-b-serve coexist-b-kernel-meanwhile coexist-b-ping coexist-b-ss \
		coexist-b-reserved coexist-b-stop coexist-b-given-back; do
		usn_fail "$c" "usnet-httpd did not start: $(tail -n 3 "$USN_WORK/httpd-b.log" | tr '\n' ' ')"
	done
fi

# Outgoing from the shared address: the kernel in the other namespace tells
# the peer's port (and then reads what usnet-nc sends until its FIN, so
# the line is not lost to a write into a program that has exited); the neighbour's MAC comes from the kernel's table (which
# is emptied first, so the kernel has to resolve it when usnet asks).
ip netns exec "$USN_NS" socat -T 5 "TCP-LISTEN:9000,bind=$USN_HOST_IP,reuseaddr" SYSTEM:'echo "peer port $SOCAT_PEERPORT"; cat >/dev/null' \
	>"$USN_WORK/socat.log" 2>&1 </dev/null &
sp=$!
usn_track "$sp"
sleep 0.3
ip -n "$USN_DEV_NS" neigh flush all
out=$(echo hello | timeout 15 ip netns exec "$USN_DEV_NS" "$USNET_NC" --dev "$USN_DEV" --addr "$K/$USN_PREFIX" \
	--shared-addr "$RANGE" --stats "$USN_HOST_IP" 9000 2>"$USN_WORK/nc-out.log")
st=$?
port=$(sed -n 's/^peer port \([0-9]*\)$/\1/p' <<<"$out")
queries=$(awk '$2 == "ARP_KERNEL_QUERIES" { print $1 }' "$USN_WORK/nc-out.log")
if [ "$st" = 0 ] && [ -n "$port" ] && [ "$port" -ge 61000 ] && [ "${queries:-0}" -ge 1 ]; then
	usn_pass coexist-b-outgoing
	usn_info "outgoing from $K: source port $port, $queries reads of the kernel's neighbour table"
else
	usn_fail coexist-b-outgoing "exit $st, output '$out', ARP_KERNEL_QUERIES ${queries:-none}: $(tail -n 2 "$USN_WORK/nc-out.log" | tr '\n' ' ')"
fi
kill "$sp" 2>/dev/null
wait "$sp" 2>/dev/null
usn_untrack "$sp"
usn_finish
