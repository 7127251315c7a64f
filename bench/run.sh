#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/run.sh - usnet against the Linux kernel, one command:
#   bench/run.sh [--quick] [--runs N] [--duration S] [--only WORKLOAD,...]
#                [--out FILE] [--note TEXT] [--keep] [--setup-only] [--hold N]
# Installs what it needs (bench/deps.sh), builds usnet (release, in
# build-bench, or $USNB_BUILD), makes two namespaces joined by a veth pair:
#   usnb-srv-PID: end usnbs0, the kernel's servers on 10.88.0.3 (nginx, NSD,
#                 iperf3) and usnet's on 10.88.0.2 (usnet-httpd, usnet-dnsd
#                 on AF_XDP, native mode, on the same interface);
#   usnb-cli-PID: end usnbc0, the kernel's clients on 10.88.0.1 (wrk, dnsperf,
#                 curl, iperf3, bench/hold.py from 10.88.0.10-17) and
#                 usnet-load on AF_XDP as 10.88.0.5 on the same interface.
# Servers run on CPU 1, clients on CPU 0 (taskset; children inherit it).
# Both namespaces use CUBIC, as usnet does. Each workload runs with each
# client against usnet's server and the kernel's, alternating (A B A B) for
# --runs rounds; a table of medians, spread, ratio and server CPU per
# request is printed and written to --out (default bench/RESULTS.md), the
# raw records next to it (DIR/results/NAME.jsonl). Everything it made
# (namespaces, bpffs mounts, processes by PID, files in /dev/shm) goes at
# exit. Workloads (--only, comma-separated; default all):
#   http-1k-keepalive http-1k-close http-64k http-1m dns-a bulk
#   lat-http lat-dns conns idle-cpu conn-mem
# bench/README.md says what each measures.
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
HERE=$REPO/bench
PY=/usr/bin/python3
B="$PY $HERE/bench.py"

RUNS=3
DUR=10
QUICK=0
ONLY=""
OUT=$HERE/RESULTS.md
NOTE=""
KEEP=0
ALL_WL="http-1k-keepalive http-1k-close http-64k http-1m dns-a bulk lat-http lat-dns conns idle-cpu conn-mem"

usage() { sed -n '3,26p' "$0" | sed 's/^# \{0,1\}//'; }

BENCH_ARGS="$*"
RUNS_SET=0 DUR_SET=0 SETUP_ONLY=0 HOLD_SET=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--runs) RUNS=$2; RUNS_SET=1; shift ;;
	--duration) DUR=$2; DUR_SET=1; shift ;;
	--only) ONLY=$2; shift ;;
	--out) OUT=$2; shift ;;
	--note) NOTE=$2; shift ;;
	--keep) KEEP=1 ;;
	--setup-only) SETUP_ONLY=1 ;;
	--hold) HOLD_SET=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench/run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
if [ "$QUICK" = 1 ]; then
	[ "$RUNS_SET" = 1 ] || RUNS=1
	[ "$DUR_SET" = 1 ] || DUR=3
	CONN_SCALE="100 1000"
	HOLD_N=2000
	IDLE_S=3
	BIG_MB=64
else
	CONN_SCALE="100 1000 10000"
	HOLD_N=100000
	IDLE_S=10
	BIG_MB=256
fi
[ -n "$HOLD_SET" ] && HOLD_N=$HOLD_SET
WL=${ONLY//,/ }
[ -n "$WL" ] || WL=$ALL_WL
for w in $WL; do
	case " $ALL_WL " in *" $w "*) ;; *) echo "bench/run.sh: unknown workload '$w' (known: $ALL_WL)" >&2; exit 2 ;; esac
done
want() { case " $WL " in *" $1 "*) return 0 ;; esac; return 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/run.sh: run as root (namespaces, XDP)" >&2; exit 1; }

SRV_NS=usnb-srv-$$
CLI_NS=usnb-cli-$$
SRV_IF=usnbs0
CLI_IF=usnbc0
CLI_IP=10.88.0.1
USN_IP=10.88.0.2
KRN_IP=10.88.0.3
LOAD_IP=10.88.0.5
HOLD_SRCS=10.88.0.10,10.88.0.11,10.88.0.12,10.88.0.13,10.88.0.14,10.88.0.15,10.88.0.16,10.88.0.17
WORK=$(mktemp -d /tmp/usnb-$$.XXXXXX)
SITE=/dev/shm/usnb-$$/site
BPFFS_SRV=/run/usnb-bpffs-srv-$$
BPFFS_CLI=/run/usnb-bpffs-cli-$$
OUTDIR=$(mkdir -p "$(dirname "$OUT")" && cd "$(dirname "$OUT")" && pwd) || { echo "bench/run.sh: no directory for $OUT" >&2; exit 2; }
OUT=$OUTDIR/$(basename "$OUT")
RAW=$OUTDIR/results/$(basename "$OUT" .md).jsonl
MACHINE=$OUTDIR/results/$(basename "$OUT" .md).machine.json
PIDS=()
MOUNTS=()
CC_ALLOWED_OLD=""
NGX_PID="" NSD_PID="" IPERF_PID="" USRV_PID=""
SRV_DEV=afxdp:$SRV_IF
CLI_DEV=afxdp:$CLI_IF

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

# ---- cleanup: only what this run made ----

kill_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
untrack() {
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}
cleanup() {
	local rc=$? p m
	trap - EXIT INT TERM HUP
	for p in "${PIDS[@]}"; do kill_pid "$p"; done
	for n in "$SRV_NS" "$CLI_NS"; do
		if ip netns list | grep -qw "$n"; then
			ip -n "$n" link set "$SRV_IF" xdp off 2>/dev/null
			ip -n "$n" link set "$CLI_IF" xdp off 2>/dev/null
			ip netns del "$n" 2>/dev/null
		fi
	done
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; rmdir "$m" 2>/dev/null; done
	rm -rf "/dev/shm/usnb-$$"
	[ -n "$CC_ALLOWED_OLD" ] && sysctl -qw net.ipv4.tcp_allowed_congestion_control="$CC_ALLOWED_OLD"
	if [ "$KEEP" = 1 ] || [ "$rc" -ne 0 ]; then
		log "logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- install and build ----

"$HERE/deps.sh" >&2 || { log "dependencies could not be installed"; exit 1; }
BUILD=${USNB_BUILD:-$REPO/build-bench}
if [ ! -f "$BUILD/build.ninja" ]; then
	log "building usnet (release) in $BUILD"
	meson setup "$BUILD" "$REPO" -Dbuildtype=release -Dtests=false >"$WORK/meson.log" 2>&1 ||
		{ tail -n 20 "$WORK/meson.log" >&2; exit 1; }
fi
ninja -C "$BUILD" apps/httpd/usnet-httpd apps/dnsd/usnet-dnsd apps/load/usnet-load >"$WORK/ninja.log" 2>&1 ||
	{ tail -n 30 "$WORK/ninja.log" >&2; exit 1; }
HTTPD=$BUILD/apps/httpd/usnet-httpd
DNSD=$BUILD/apps/dnsd/usnet-dnsd
LOAD=$BUILD/apps/load/usnet-load

# ---- the link ----

srv() { ip netns exec "$SRV_NS" "$@"; }
cli() { ip netns exec "$CLI_NS" "$@"; }
# Pinned commands with a high descriptor limit (20000 is the hard limit
# here). Each link of the chain execs the next, so a command started in the
# background with "${SRV_PIN[@]}" CMD & has $! as its own PID (a shell
# function started with & would be a subshell: its PID is not the server's).
SRV_PIN=(ip netns exec "$SRV_NS" taskset -c 1 bash -c 'ulimit -n 20000; exec "$@"' _)
CLI_PIN=(ip netns exec "$CLI_NS" taskset -c 0 bash -c 'ulimit -n 20000; exec "$@"' _)
srv_pin() { "${SRV_PIN[@]}" "$@"; }
cli_pin() { "${CLI_PIN[@]}" "$@"; }

setup_link() {
	ip netns add "$SRV_NS" && ip netns add "$CLI_NS" || return 1
	local n
	for n in "$SRV_NS" "$CLI_NS"; do
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$n" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		ip netns exec "$n" sysctl -qw net.core.somaxconn=65535
		ip netns exec "$n" sysctl -qw net.ipv4.tcp_max_syn_backlog=65535
		ip -n "$n" link set lo up
	done
	ip -n "$SRV_NS" link add "$SRV_IF" type veth peer name "$CLI_IF" netns "$CLI_NS" || return 1
	ip -n "$SRV_NS" addr add "$KRN_IP/24" dev "$SRV_IF"
	ip -n "$CLI_NS" addr add "$CLI_IP/24" dev "$CLI_IF"
	local a
	for a in ${HOLD_SRCS//,/ }; do ip -n "$CLI_NS" addr add "$a/24" dev "$CLI_IF"; done
	ip -n "$SRV_NS" link set "$SRV_IF" up && ip -n "$CLI_NS" link set "$CLI_IF" up || return 1
	# CUBIC on both sides, like usnet's default (MACHINE.md: bbr is the
	# default here and cubic must first be allowed in the root namespace).
	local allowed
	allowed=$(sysctl -n net.ipv4.tcp_allowed_congestion_control)
	case " $allowed " in
	*" cubic "*) ;;
	*) CC_ALLOWED_OLD=$allowed; sysctl -qw net.ipv4.tcp_allowed_congestion_control="$allowed cubic" ;;
	esac
	srv sysctl -qw net.ipv4.tcp_congestion_control=cubic && cli sysctl -qw net.ipv4.tcp_congestion_control=cubic || return 1
	# libxdp needs a bpffs, hidden by ip netns exec: one per side.
	for m in "$BPFFS_SRV" "$BPFFS_CLI"; do
		mkdir -p "$m" && mount -t bpf bpf "$m" || return 1
		MOUNTS+=("$m")
	done
}

# offloads SRV_TX CLI_TX: transmit checksum offload (and with it TSO) of
# each end. An end whose peer runs an XDP program (usnet on AF_XDP) must
# send whole, summed frames, as a NIC puts them on the wire: XDP sees a
# frame before any offload would have filled its checksum in. Each pairing
# sets only what it needs: kernel against kernel keeps every offload.
offloads() {
	srv ethtool -K "$SRV_IF" tx "$1" >/dev/null 2>&1
	cli ethtool -K "$CLI_IF" tx "$2" >/dev/null 2>&1
}

# ---- the servers ----

make_site() {
	mkdir -p "$SITE"
	head -c 1024 /dev/urandom >"$SITE/1k"
	head -c 65536 /dev/urandom >"$SITE/64k"
	head -c 1048576 /dev/urandom >"$SITE/1m"
	for _ in $(seq "$BIG_MB"); do cat "$SITE/1m"; done >"$SITE/big"
	# examples/zones/, for both servers: NSD wants an absolute origin
	# on $INCLUDE ("lab" becomes "lab.example.com."), the only change.
	ZONES=$WORK/zones
	mkdir -p "$ZONES"
	cp "$REPO/examples/zones/hosts.inc" "$ZONES/"
	# shellcheck disable=SC2016 # a literal $INCLUDE
	sed 's/^\$INCLUDE hosts\.inc lab\b/$INCLUDE hosts.inc lab.example.com./' \
		"$REPO/examples/zones/example.com.zone" >"$ZONES/example.com.zone"
	# The A names both serve.
	cat >"$WORK/queries-a.txt" <<-'EOF'
		example.com A
		ns1.example.com A
		ns2.example.com A
		mail.example.com A
		web.example.com A
		lab.example.com A
		printer.lab.example.com A
		nas.lab.example.com A
	EOF
}

# nginx_conf DIR WORKERS PORT: nginx as its users tune it for static files.
nginx_conf() {
	local d=$1 w=$2 port=$3
	mkdir -p "$d/tmp"
	cat >"$d/nginx.conf" <<-EOF
		user root;
		daemon off;
		worker_processes $w;
		worker_rlimit_nofile 20000;
		pid $d/nginx.pid;
		error_log $d/error.log;
		events { worker_connections 19500; }
		http {
			default_type application/octet-stream;
			access_log off;
			sendfile on;
			tcp_nopush on;
			tcp_nodelay on;
			keepalive_requests 1000000;
			keepalive_timeout 3600s;
			open_file_cache max=1000 inactive=60s;
			client_body_temp_path $d/tmp/body;
			proxy_temp_path $d/tmp/proxy;
			fastcgi_temp_path $d/tmp/fastcgi;
			uwsgi_temp_path $d/tmp/uwsgi;
			scgi_temp_path $d/tmp/scgi;
			server {
				listen $KRN_IP:$port backlog=65535;
				root $SITE;
			}
		}
	EOF
}

wait_http() { # IP PORT
	for _ in $(seq 100); do
		cli curl -s -o /dev/null --max-time 1 "http://$1:$2/1k" && return 0
		sleep 0.1
	done
	return 1
}

start_kernel_servers() {
	nginx_conf "$WORK/nginx" 1 80
	"${SRV_PIN[@]}" nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -e "$WORK/nginx/error.log" >"$WORK/nginx/out.log" 2>&1 </dev/null &
	NGX_PID=$!
	PIDS+=("$NGX_PID")
	wait_http "$KRN_IP" 80 || { log "nginx did not start: $(tail -n 3 "$WORK/nginx/error.log")"; return 1; }
	local d=$WORK/nsd
	mkdir -p "$d"
	cat >"$d/nsd.conf" <<-EOF
		server:
			username: ""
			chroot: ""
			database: ""
			zonesdir: "$ZONES"
			zonelistfile: "$d/zone.list"
			xfrdfile: "$d/xfrd.state"
			xfrdir: "$d"
			pidfile: "$d/nsd.pid"
			logfile: "$d/nsd.log"
			server-count: 1
			ip-address: $KRN_IP@53
			rrl-ratelimit: 0
			rrl-whitelist-ratelimit: 0
			verbosity: 1
		remote-control:
			control-enable: no
		zone:
			name: example.com
			zonefile: example.com.zone
	EOF
	"${SRV_PIN[@]}" nsd -d -c "$d/nsd.conf" >"$d/out.log" 2>&1 </dev/null &
	NSD_PID=$!
	PIDS+=("$NSD_PID")
	local ok=0
	for _ in $(seq 50); do
		cli dig @"$KRN_IP" +norec +time=1 +tries=1 web.example.com A 2>/dev/null | grep -q 'status: NOERROR' && { ok=1; break; }
		sleep 0.1
	done
	[ "$ok" = 1 ] || { log "NSD did not start: $(tail -n 3 "$d/nsd.log" "$d/out.log" 2>/dev/null)"; return 1; }
	"${SRV_PIN[@]}" iperf3 -s -B "$KRN_IP" >"$WORK/iperf3-s.log" 2>&1 </dev/null &
	IPERF_PID=$!
	PIDS+=("$IPERF_PID")
}

# usnet_start httpd|dnsd [ARGS...]: usnet's server on CPU 1, on $SRV_DEV.
usnet_start() {
	local what=$1 logf=$WORK/usnet-$1.log
	shift
	: >"$logf"
	if [ "$what" = httpd ]; then
		LIBXDP_BPFFS=$BPFFS_SRV "${SRV_PIN[@]}" "$HTTPD" --dev "$SRV_DEV" --addr "$USN_IP/24" --root "$SITE" --port 80 \
			--max-conns 120000 "$@" >>"$logf" 2>&1 </dev/null &
	else
		(cd "$ZONES" && LIBXDP_BPFFS=$BPFFS_SRV exec ip netns exec "$SRV_NS" taskset -c 1 "$DNSD" \
			--dev "$SRV_DEV" --addr "$USN_IP/24" --zone example.com.zone "$@") >>"$logf" 2>&1 </dev/null &
	fi
	USRV_PID=$!
	PIDS+=("$USRV_PID")
	for _ in $(seq 100); do
		grep -q "^usnet-$what: ready on" "$logf" && return 0
		kill -0 "$USRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	log "usnet-$what did not start: $(tail -n 3 "$logf" | tr '\n' ' ')"
	usnet_stop
	return 1
}
usnet_stop() {
	[ -n "$USRV_PID" ] || return 0
	kill_pid "$USRV_PID"
	untrack "$USRV_PID"
	USRV_PID=""
	srv ip link set "$SRV_IF" xdp off 2>/dev/null
}

# ---- one run ----

# server_pids SIDE KIND: the PIDs whose CPU time is the server's.
server_pids() {
	if [ "$1" = usnet ]; then echo "$USRV_PID"; return; fi
	case $2 in
	http) echo "$NGX_PID" ;;
	dns) echo "$NSD_PID" ;;
	iperf) echo "$IPERF_PID" ;;
	esac
}

# measure WL CLIENT SIDE RUN PARSER KIND [K=V...] -- CMD...: runs CMD (the
# client), its output into a file, and appends one record to $RAW with the
# server's CPU time and the machine's over the run.
measure() {
	local wl=$1 client=$2 side=$3 run=$4 parser=$5 kind=$6
	shift 6
	local extra=()
	while [ "$1" != -- ]; do extra+=("$1"); shift; done
	shift
	local f=$WORK/$wl-$client-$side-$run.out pids t0 t1 m0 m1 s0 s1
	pids=$(server_pids "$side" "$kind")
	t0=$($B ticks "$pids") m0=$($B cpustat) s0=$(date +%s.%N)
	"$@" >"$f" 2>"$f.err" </dev/null
	t1=$($B ticks "$pids") m1=$($B cpustat) s1=$(date +%s.%N)
	local rec
	rec=$($B record "$parser" "$f" workload="$wl" client="$client" server="$side" run="$run" \
		server_cpu_s="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 100 }')" \
		machine_cpu_s="$(awk -v a="$m0" -v b="$m1" 'BEGIN { print (b - a) / 100 }')" \
		duration="$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')" "${extra[@]}")
	echo "$rec" >>"$RAW"
	log "$wl $client $side run $run: $(printf '%s' "$rec" | $PY -c 'import json,sys; r=json.load(sys.stdin); print(r.get("rate"), r.get("unit"), "errors", r.get("errors"), r.get("parse_error", ""))')"
}

# The clients. IP is the server's address (usnet's or the kernel's).
c_wrk() { cli_pin wrk -t1 "$@"; }
c_load() { LIBXDP_BPFFS=$BPFFS_CLI cli_pin "$LOAD" --dev "$CLI_DEV" --addr "$LOAD_IP/24" --json "$@"; }
c_dnsperf() { cli_pin dnsperf "$@"; }
c_curl() { # URL SECONDS: downloads URL again and again for SECONDS, one line per download
	# shellcheck disable=SC2016 # expanded by the inner shell
	cli_pin bash -c 'end=$((SECONDS + $2)); while [ $SECONDS -lt $end ]; do
		curl -s -w "%{size_download} %{time_total}\n" -o /dev/null "$1" -o /dev/null "$1" || exit 1; done' _ "$1" "$2"
}

# side_setup SIDE CLIENTKIND SERVERKIND: the offloads for this pairing and,
# for usnet, its server started.
side_setup() {
	local side=$1 ck=$2 sk=$3 srv_tx=on cli_tx=on
	[ "$side" = usnet ] && cli_tx=off
	[ "$ck" = usnet ] && srv_tx=off
	offloads "$srv_tx" "$cli_tx"
	if [ "$side" = usnet ]; then
		usnet_start "$sk" || return 1
	fi
}
side_done() { [ "$1" = usnet ] && usnet_stop; return 0; }

ip_of() { if [ "$1" = usnet ]; then echo "$USN_IP"; else echo "$KRN_IP"; fi; }

# http_wl WL PATH WRK_ARGS LOAD_ARGS: both clients, both servers, alternating.
http_wl() {
	local wl=$1 path=$2 wargs=$3 largs=$4 run side ip
	for client in wrk usnet-load; do
		for run in $(seq "$RUNS"); do
			for side in usnet kernel; do
				ip=$(ip_of "$side")
				if [ "$client" = wrk ]; then
					side_setup "$side" kernel httpd || continue
					# shellcheck disable=SC2086
					measure "$wl" wrk "$side" "$run" wrk http -- c_wrk $wargs -d "${DUR}s" --latency "http://$ip$path"
				else
					side_setup "$side" usnet httpd || continue
					# shellcheck disable=SC2086
					measure "$wl" usnet-load "$side" "$run" load http -- c_load http "http://$ip$path" $largs -d "$DUR"
				fi
				side_done "$side"
			done
		done
	done
}

dns_wl() {
	local run side ip
	for client in dnsperf usnet-load; do
		for run in $(seq "$RUNS"); do
			for side in usnet kernel; do
				ip=$(ip_of "$side")
				if [ "$client" = dnsperf ]; then
					side_setup "$side" kernel dnsd || continue
					measure dns-a dnsperf "$side" "$run" dnsperf dns -- c_dnsperf -s "$ip" -d "$WORK/queries-a.txt" -l "$DUR" -c 1 -q 100
				else
					side_setup "$side" usnet dnsd || continue
					measure dns-a usnet-load "$side" "$run" load dns -- c_load dns "$ip" -f "$WORK/queries-a.txt" -c 100 -d "$DUR"
				fi
				side_done "$side"
			done
		done
	done
}

bulk_wl() {
	local run side ip
	for client in curl usnet-load; do
		for run in $(seq "$RUNS"); do
			for side in usnet kernel; do
				ip=$(ip_of "$side")
				if [ "$client" = curl ]; then
					side_setup "$side" kernel httpd || continue
					measure bulk curl "$side" "$run" curl http -- c_curl "http://$ip/big" "$DUR"
				else
					side_setup "$side" usnet httpd || continue
					measure bulk usnet-load "$side" "$run" loadbulk http -- c_load http "http://$ip/big" -c 1 -d "$DUR" --timeout 30000
				fi
				side_done "$side"
			done
		done
	done
	# The kernel's raw single-stream TCP, for reference (no usnet iperf3 server).
	offloads on on
	for run in $(seq "$RUNS"); do
		measure bulk "iperf3 -R (kernel only)" kernel "$run" iperf3 iperf -- cli_pin iperf3 -c "$KRN_IP" -t "$DUR" -R -J
	done
}

# lat_wl http|dns: each server at half of the peak the same client measured
# against it (from this run's records, or a peak run of its own).
lat_wl() {
	local what=$1 run side ip client peak half wl src
	if [ "$what" = http ]; then wl=http-1k-keepalive; clients="usnet-load"; else wl=dns-a; clients="usnet-load dnsperf"; fi
	for client in $clients; do
		for side in usnet kernel; do
			peak=$($B median "$RAW" "$wl" "$client" "$side")
			if [ -z "$peak" ]; then
				ip=$(ip_of "$side")
				local ck=kernel
				[ "$client" = usnet-load ] && ck=usnet
				side_setup "$side" "$ck" "${what}d" || continue
				if [ "$what" = http ]; then
					measure "$wl-peak" "$client" "$side" 1 load http -- c_load http "http://$ip/1k" -c 64 -d "$DUR"
				elif [ "$client" = dnsperf ]; then
					measure "$wl-peak" "$client" "$side" 1 dnsperf dns -- c_dnsperf -s "$ip" -d "$WORK/queries-a.txt" -l "$DUR" -c 1 -q 100
				else
					measure "$wl-peak" "$client" "$side" 1 load dns -- c_load dns "$ip" -f "$WORK/queries-a.txt" -c 100 -d "$DUR"
				fi
				side_done "$side"
				peak=$($B median "$RAW" "$wl-peak" "$client" "$side")
			fi
			[ -n "$peak" ] || continue
			eval "PEAK_${side}_${client//-/_}=$peak"
		done
		for run in $(seq "$RUNS"); do
			for side in usnet kernel; do
				src=PEAK_${side}_${client//-/_}
				[ -n "${!src:-}" ] || continue
				half=$(( ${!src} / 2 ))
				ip=$(ip_of "$side")
				if [ "$what" = http ]; then
					side_setup "$side" usnet httpd || continue
					measure lat-http usnet-load "$side" "$run" load http kind=latency target_rate="$half" -- \
						c_load http "http://$ip/1k" -c 64 -R "$half" -d "$DUR"
				elif [ "$client" = dnsperf ]; then
					side_setup "$side" kernel dnsd || continue
					measure lat-dns dnsperf "$side" "$run" dnsperf dns kind=latency target_rate="$half" -- \
						c_dnsperf -s "$ip" -d "$WORK/queries-a.txt" -l "$DUR" -c 1 -q 100 -Q "$half"
				else
					side_setup "$side" usnet dnsd || continue
					measure lat-dns usnet-load "$side" "$run" load dns kind=latency target_rate="$half" -- \
						c_load dns "$ip" -f "$WORK/queries-a.txt" -c 100 -Q "$half" -d "$DUR"
				fi
				side_done "$side"
			done
		done
		unset "PEAK_usnet_${client//-/_}" "PEAK_kernel_${client//-/_}"
	done
}

conns_wl() {
	local n
	for n in $CONN_SCALE; do
		http_wl "http-1k-conns-$n" /1k "-c$n --timeout 10s" "-c $n --timeout 10000"
	done
}

idle_cpu() {
	local t0 t1 name side
	offloads on off
	for name in usnet-httpd usnet-dnsd nginx nsd; do
		case $name in
		usnet-httpd) side=usnet; usnet_start httpd || continue ;;
		usnet-dnsd) side=usnet; usnet_start dnsd || continue ;;
		*) side=kernel ;;
		esac
		local pid
		case $name in usnet-*) pid=$USRV_PID ;; nginx) pid=$NGX_PID ;; nsd) pid=$NSD_PID ;; esac
		sleep 1
		t0=$($B ticks "$pid")
		sleep "$IDLE_S"
		t1=$($B ticks "$pid")
		echo "{\"kind\":\"idle\",\"name\":\"$name\",\"server\":\"$side\",\"seconds\":$IDLE_S,\"cpu_pct\":$(awk -v a="$t0" -v b="$t1" -v s="$IDLE_S" 'BEGIN { print (b - a) / s }')}" >>"$RAW"
		log "idle $name: $(tail -n 1 "$RAW")"
		[ "$side" = usnet ] && usnet_stop
	done
}

# hold IP PORT N: bench/hold.py holds N connections; sets HOLD_PID, HELD.
hold_start() {
	: >"$WORK/hold.out"
	"${CLI_PIN[@]}" "$PY" "$HERE/hold.py" "$1" "$2" /1k "$3" "$HOLD_SRCS" >"$WORK/hold.out" 2>"$WORK/hold.err" </dev/null &
	HOLD_PID=$!
	PIDS+=("$HOLD_PID")
	HELD=0
	for _ in $(seq 1800); do
		if grep -q '^ready' "$WORK/hold.out"; then
			HELD=$(awk '/^ready/ { print $2 }' "$WORK/hold.out")
			return 0
		fi
		kill -0 "$HOLD_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
hold_stop() { kill_pid "$HOLD_PID"; untrack "$HOLD_PID"; sleep 2; }

jfield() { $PY -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

conn_mem() {
	local m0 m1 s0 s1 du_anon du_slab dk_anon dk_slab
	# usnet-httpd: its own memory.
	offloads on off
	usnet_start httpd || return 1
	sleep 1
	m0=$($B mem "$USRV_PID") s0=$($B slab)
	if ! hold_start "$USN_IP" 80 "$HOLD_N"; then log "hold.py failed: $(tail -n 3 "$WORK/hold.err")"; fi
	sleep 2
	m1=$($B mem "$USRV_PID") s1=$($B slab)
	local held_u=$HELD
	hold_stop
	usnet_stop
	du_anon=$(( $(jfield "$m1" anon_kb) - $(jfield "$m0" anon_kb) ))
	du_slab=$(( $(jfield "$s1" slab_kb) - $(jfield "$s0" slab_kb) ))
	# nginx: a second instance with enough workers for N (19500 each at
	# most: a process may hold 20000 descriptors here).
	local w=$(( (HOLD_N + 14999) / 15000 ))
	nginx_conf "$WORK/nginx-mem" "$w" 81
	"${SRV_PIN[@]}" nginx -c "$WORK/nginx-mem/nginx.conf" -p "$WORK/nginx-mem" -e "$WORK/nginx-mem/error.log" >/dev/null 2>&1 </dev/null &
	local npid=$!
	PIDS+=("$npid")
	wait_http "$KRN_IP" 81 || { log "nginx (memory) did not start"; return 1; }
	offloads on on
	sleep 1
	m0=$($B mem "$npid") s0=$($B slab)
	if ! hold_start "$KRN_IP" 81 "$HOLD_N"; then log "hold.py failed: $(tail -n 3 "$WORK/hold.err")"; fi
	sleep 2
	m1=$($B mem "$npid") s1=$($B slab)
	local held_k=$HELD
	hold_stop
	kill_pid "$npid"
	untrack "$npid"
	dk_anon=$(( $(jfield "$m1" anon_kb) - $(jfield "$m0" anon_kb) ))
	dk_slab=$(( $(jfield "$s1" slab_kb) - $(jfield "$s0" slab_kb) ))
	echo "{\"kind\":\"mem\",\"name\":\"usnet-httpd\",\"wanted\":$HOLD_N,\"held\":$held_u,\"anon_kb\":$du_anon,\"slab_kb\":$du_slab,\"per_conn_bytes\":$(awk -v a="$du_anon" -v n="$held_u" 'BEGIN { print n ? a * 1024 / n : "null" }')}" >>"$RAW"
	echo "{\"kind\":\"mem\",\"name\":\"nginx ($w workers) + kernel\",\"wanted\":$HOLD_N,\"held\":$held_k,\"anon_kb\":$dk_anon,\"slab_kb\":$dk_slab,\"per_conn_bytes\":$(awk -v a="$dk_anon" -v s="$dk_slab" -v su="$du_slab" -v n="$held_k" -v nu="$held_u" 'BEGIN { if (!n || !nu) print "null"; else print (a * 1024 + s * 1024 - su * 1024 * n / nu) / n }')}" >>"$RAW"
	log "memory: $(tail -n 2 "$RAW" | tr '\n' ' ')"
}

note() { $PY -c 'import json,sys; print(json.dumps({"kind": "note", "text": sys.argv[1]}))' "$1" >>"$RAW"; }

# ---- main ----

if [ "$SETUP_ONLY" = 1 ]; then
	RAW=$WORK/raw.jsonl # no report: nothing of --out is touched
else
	mkdir -p "$OUTDIR/results"
fi
: >"$RAW"
log "namespaces $SRV_NS, $CLI_NS; work in $WORK"
setup_link >"$WORK/setup.log" 2>&1 || { log "link setup failed: $(tail -n 3 "$WORK/setup.log")"; exit 1; }
make_site
start_kernel_servers || exit 1

# AF_XDP on both ends, or AF_PACKET when it does not start.
offloads off off
if ! usnet_start httpd; then
	log "AF_XDP did not start on $SRV_IF: falling back to AF_PACKET"
	SRV_DEV=afpacket:$SRV_IF
	CLI_DEV=afpacket:$CLI_IF
	usnet_start httpd || exit 1
	note "AF_XDP did not start here: usnet ran on AF_PACKET (see the log)."
fi
# Check the pairing: usnet-load reaches usnet-httpd, and the kernel client
# still reaches nginx while usnet's XDP programs are on both ends.
if ! c_load http "http://$USN_IP/1k" -n 20 -c 2 >"$WORK/check.json" 2>"$WORK/check.err" ||
	! grep -q '"2xx":20' "$WORK/check.json"; then
	log "usnet-load on $CLI_DEV could not reach usnet-httpd: $(tail -n 2 "$WORK/check.err")"
	if [ "$CLI_DEV" = "afxdp:$CLI_IF" ]; then
		CLI_DEV=afpacket:$CLI_IF
		note "usnet-load's AF_XDP did not work here: it ran on AF_PACKET."
	fi
fi
cli curl -s -o /dev/null --max-time 2 "http://$KRN_IP/1k" || log "warning: the kernel client cannot reach nginx with XDP on"
usnet_stop
offloads on on

if [ "$SETUP_ONLY" = 1 ]; then
	# For experiments by hand: everything set up, nothing run, until
	# interrupted (then everything goes as usual).
	log "set up: ip netns exec $SRV_NS / $CLI_NS; usnet $USN_IP on $SRV_DEV, kernel $KRN_IP (nginx :80, NSD :53, iperf3);"
	log "usnet-load: LIBXDP_BPFFS=$BPFFS_CLI ip netns exec $CLI_NS $LOAD --dev $CLI_DEV --addr $LOAD_IP/24 ...;"
	log "usnet servers: LIBXDP_BPFFS=$BPFFS_SRV, site $SITE, zones $ZONES, queries $WORK/queries-a.txt. Ctrl-C ends."
	# (wait, unlike a foreground sleep, lets the trap run at once)
	while :; do
		sleep 3600 &
		PIDS+=("$!")
		wait "$!"
	done
fi

for w in $WL; do
	log "== $w"
	case $w in
	http-1k-keepalive) http_wl "$w" /1k "-c64" "-c 64" ;;
	http-1k-close) http_wl "$w" /1k "-c100 -H Connection:close" "-c 100 --close" ;;
	http-64k) http_wl "$w" /64k "-c64" "-c 64" ;;
	http-1m) http_wl "$w" /1m "-c16" "-c 16" ;;
	dns-a) dns_wl ;;
	bulk) bulk_wl ;;
	lat-http) lat_wl http ;;
	lat-dns) lat_wl dns ;;
	conns) conns_wl ;;
	idle-cpu) idle_cpu ;;
	conn-mem) conn_mem ;;
	esac
done

# ---- the report ----

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
$PY - "$MACHINE" <<EOF
import json, sys
json.dump({
    "date": "$(date -u '+%Y-%m-%d %H:%M UTC')",
    "commit": "$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)",
    "args": """$BENCH_ARGS""",
    "note": """$NOTE""",
    "cpu": """$cpu""",
    "cores": "$(nproc)",
    "kernel": "$(uname -sr)",
    "memory": "$mem",
    "link": "veth pair between two network namespaces, MTU $(srv cat /sys/class/net/$SRV_IF/mtu)",
    "usnet_server_dev": "$SRV_DEV (native XDP on the veth, copy mode) on 10.88.0.2; the kernel's servers on 10.88.0.3, same interface",
    "usnet_client_dev": "$CLI_DEV as 10.88.0.5 (usnet-load); the kernel's clients on 10.88.0.1, same interface",
    "pinning": "servers on CPU 1, clients on CPU 0 (taskset)",
    "congestion": "CUBIC on both kernels' namespaces and in usnet",
    "runs": "$RUNS alternating runs (usnet, kernel) of ${DUR} s each",
    "raw": "results/$(basename "$RAW")",
    "explain": [
        "http-*: usnet-httpd (AF_XDP) vs nginx (1 worker, sendfile, tcp_nopush, tcp_nodelay, access_log off, keepalive_requests 1000000) serving files from tmpfs; clients wrk -t1 (kernel) and usnet-load (usnet on AF_XDP). http-1k-keepalive: 64 connections; http-1k-close: a new connection per request, 100 at a time (wrk with Connection: close, usnet-load --close; the server closes); http-64k: 64 connections; http-1m: 16 connections.",
        "dns-a: usnet-dnsd vs NSD (server-count 1, rrl-ratelimit 0), both serving examples/zones/example.com.zone; A queries for its 8 A names; dnsperf -c 1 -q 100 (kernel) and usnet-load dns -c 100.",
        "bulk: single-stream bulk TCP as a download of a ${BIG_MB} MiB file (usnet has no iperf3 server): curl (kernel, a loop of downloads) and usnet-load -c 1; the rate is received payload over time. The iperf3 -R row is the kernel alone (server sends), for reference.",
        "Offloads: an interface whose peer runs usnet's XDP program sends with transmit checksum offload (and so TSO) off, as XDP needs whole frames; so nginx loses TSO only when usnet-load is its client, and kernel-vs-kernel runs keep every offload.",
        "conns: 1 KB keep-alive with 100, 1000 and 10000 open connections, wrk -t1 -cN and usnet-load -c N.",
        "The client is often the limit on a 2-core machine (MACHINE.md): compare server CPU per request as well as the rate."
    ],
}, open(sys.argv[1], "w"), indent=1)
EOF
$B table "$RAW" "$MACHINE" "$OUT"
log "report: $OUT, raw: $RAW"
