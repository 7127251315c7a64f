#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh - the README's first command: on a fresh Debian 12 machine (as root)
# install what usnet needs, build it, and show it working. It makes a network
# namespace "usnet-demo" holding a TAP device usnt0 whose kernel side is
# 10.77.0.1/24, runs usnet-echo on that TAP as 10.77.0.2/24, and from the
# kernel side pings it (small and 8000-byte, fragmented) and sends it UDP
# datagrams to echo. Everything it starts is stopped and the namespace is
# removed at the end; nothing leaves the namespace.
set -euo pipefail
cd "$(dirname "$0")/.."

NS=usnet-demo
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: run as root (it installs packages and makes a network namespace)" >&2
	exit 1
fi

say "installing build dependencies (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends \
	meson ninja-build gcc pkg-config libpcap-dev libsodium-dev libldns-dev libcap-ng-dev libcmocka-dev \
	iproute2 iputils-ping socat curl media-types bind9-dnsutils >/dev/null

say "building (meson + ninja) into build/"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

ECHO_PID=""
cleanup() {
	[ -n "$ECHO_PID" ] && kill "$ECHO_PID" 2>/dev/null && wait "$ECHO_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT

say "making namespace $NS with TAP usnt0 (kernel side 10.77.0.1/24)"
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev usnt0 mode tap
ip -n "$NS" addr add 10.77.0.1/24 dev usnt0
ip -n "$NS" link set usnt0 up

say "starting usnet-echo --dev tap:usnt0 --addr 10.77.0.2/24"
LOG=$(mktemp /tmp/usnet-demo.XXXXXX)
ip netns exec "$NS" ./build/apps/usnet-echo --dev tap:usnt0 --addr 10.77.0.2/24 >"$LOG" 2>&1 &
ECHO_PID=$!
for _ in $(seq 50); do grep -q ready "$LOG" && break; sleep 0.1; done
cat "$LOG"

say "ping -c 3 10.77.0.2 (the kernel pings usnet)"
ip netns exec "$NS" ping -c 3 -W 2 10.77.0.2
say "ping -c 2 -s 8000 10.77.0.2 (fragmented both ways)"
ip netns exec "$NS" ping -c 2 -W 2 -s 8000 10.77.0.2
say "UDP echo (RFC 862) with socat"
echo "hello from the kernel's UDP" | ip netns exec "$NS" socat -t 1 - UDP:10.77.0.2:7
say "TCP echo with socat"
echo "hello from the kernel's TCP" | ip netns exec "$NS" socat -t 2 - TCP:10.77.0.2:7

say "usnet-echo's counters"
kill -USR1 "$ECHO_PID"
sleep 0.3
sed -n '/counters/,$p' "$LOG"
kill "$ECHO_PID" && wait "$ECHO_PID" 2>/dev/null
ECHO_PID=""

say "a 20 MB file from the kernel (socat) to usnet-nc over TCP, compared by sha256"
SRC=$(mktemp /tmp/usnet-demo-src.XXXXXX)
DST=$(mktemp /tmp/usnet-demo-dst.XXXXXX)
head -c 20000000 /dev/urandom >"$SRC"
ip netns exec "$NS" ./build/apps/usnet-nc --dev tap:usnt0 --addr 10.77.0.2/24 -q -l 5000 >"$DST" &
ECHO_PID=$!
sleep 0.5
ip netns exec "$NS" socat -u "OPEN:$SRC" TCP:10.77.0.2:5000
wait "$ECHO_PID"
ECHO_PID=""
sha256sum "$SRC" "$DST" | sed 's|/tmp/usnet-demo-||'
[ "$(sha256sum <"$SRC")" = "$(sha256sum <"$DST")" ] && echo "identical"
rm -f "$SRC" "$DST"

say "usnet-httpd serving examples/site on the same TAP; curl from the kernel side"
ip netns exec "$NS" ./build/apps/httpd/usnet-httpd --dev tap:usnt0 --addr 10.77.0.2/24 --root examples/site \
	--port 80 >"$LOG" 2>&1 &
ECHO_PID=$!
for _ in $(seq 50); do grep -q ready "$LOG" && break; sleep 0.1; done
ip netns exec "$NS" curl -sS -i http://10.77.0.2/
ip netns exec "$NS" curl -sS -o /dev/null -w "GET /style.css: %{http_code}, %{size_download} bytes\n" http://10.77.0.2/style.css
kill "$ECHO_PID" && wait "$ECHO_PID" 2>/dev/null
ECHO_PID=""

say "usnet-dnsd serving examples/zones/example.com.zone; dig from the kernel side"
ip netns exec "$NS" ./build/apps/dnsd/usnet-dnsd --dev tap:usnt0 --addr 10.77.0.2/24 \
	--zone examples/zones/example.com.zone >"$LOG" 2>&1 &
ECHO_PID=$!
for _ in $(seq 50); do grep -q ready "$LOG" && break; sleep 0.1; done
cat "$LOG"
ip netns exec "$NS" dig +norec @10.77.0.2 www.example.com A
ip netns exec "$NS" dig +norec +tcp +short @10.77.0.2 nas.lab.example.com A
ip netns exec "$NS" dig +norec +short @10.77.0.2 anyone.users.example.com AAAA
kill "$ECHO_PID" && wait "$ECHO_PID" 2>/dev/null
ECHO_PID=""
say "done: usnet answered ping, UDP, TCP, HTTP and DNS from the kernel"
