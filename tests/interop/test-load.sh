#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-load.sh - usnet-load, the load generator, on usnet against the
# kernel's servers: nginx on 10.77.0.1:8080 and NSD on 10.77.0.1:5353 in the
# test's namespace, usnet-load on the TAP (or, with USN_LINK=afpacket, on
# the veth's other end) as 10.77.0.2. HTTP: keep-alive with an exact -n
# whose count must equal nginx's access log lines (nginx closes every
# connection after 100 requests, so requests given back and sent again
# must not be counted twice), pipelining depth 8, a connection per request
# (the server must be the one that closes: its TIME-WAITs are counted on
# the kernel side), chunked responses (nginx's SSI), 404s counted as status
# errors, a closed port counted as refused connections, a timed run whose
# percentiles are ordered. DNS: NSD answers a query file's NOERROR and
# NXDOMAIN names in the right numbers, -n exact, an open-loop rate, a closed
# port counted as lost and ICMP-refused. wrk and dnsperf run against the
# same servers and their rates are printed beside usnet-load's (info lines:
# no timed assertion; both must finish without errors). Bad options exit 2.
# Run as root; one line per case (tests/interop/lib.sh).
#
# Environment: USNET_LOAD (default: load/usnet-load next to $USNET_ECHO, i.e.
# build/apps/load/usnet-load). Needs nginx; nsd, wrk and dnsperf are used
# when installed, their cases skipped if not.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

USNET_LOAD=${USNET_LOAD:-$(dirname "$USNET_ECHO")/load/usnet-load}
NGX_PORT=8080
NSD_PORT=5353
SITE=$USN_WORK/site
NGX_PID=""
NSD_PID=""
NGX_LOG=$USN_WORK/nginx/access.log
PY=/usr/bin/python3

# load NAME ARGS...: usnet-load on usnet with --json, output into
# $USN_WORK/NAME.json (stdout) and NAME.err; its exit status.
load() {
	local name=$1
	shift
	ip netns exec "$USN_DEV_NS" "$USNET_LOAD" --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX" \
		--pcap "$USN_WORK/$name.pcap" --json "$@" >"$USN_WORK/$name.json" 2>"$USN_WORK/$name.err" </dev/null
}

# jget NAME KEY[.KEY...]: one field of NAME's JSON ("?" when absent).
jget() {
	"$PY" -c 'import json, sys
try:
	v = json.load(open(sys.argv[1]))
	for k in sys.argv[2].split("."):
		v = v[k]
	print(v)
except Exception:
	print("?")' "$USN_WORK/$1.json" "$2"
}

# expect NAME "KEY=VALUE ..." : every field equals its value; prints what
# differs and fails otherwise.
expect() {
	local name=$1 kv k want got bad=""
	for kv in $2; do
		k=${kv%%=*}
		want=${kv#*=}
		got=$(jget "$name" "$k")
		[ "$got" = "$want" ] || bad="$bad $k=$got (want $want)"
	done
	if [ -n "$bad" ]; then
		echo "$name:$bad; $(tail -n 2 "$USN_WORK/$name.err" | tr '\n' ' ')"
		return 1
	fi
}

# ordered NAME: p50 <= p90 <= p99 <= p99.9 <= max, all above 0.
ordered() {
	"$PY" -c 'import json, sys
l = json.load(open(sys.argv[1]))["latency_us"]
v = [l[k] for k in ("p50", "p90", "p99", "p99.9", "max")]
ok = v[0] > 0 and all(a <= b for a, b in zip(v, v[1:]))
print(("ordered " if ok else "NOT ordered ") + " ".join("%s=%.1fus" % (k, x) for k, x in zip(("p50", "p90", "p99", "p99.9", "max"), v)))
sys.exit(0 if ok else 1)' "$USN_WORK/$1.json"
}

# note NAME TEXT: an info line printed after NAME's PASS or FAIL line.
note() { printf '%s\n' "$2" >"$USN_WORK/$1.info"; }

# case_run NAME COMMAND...: usn_check, then NAME's note if there is one.
case_run() {
	local name=$1
	shift
	rm -f "$USN_WORK/$name.info"
	usn_check "$name" "$@"
	if [ -s "$USN_WORK/$name.info" ]; then
		usn_info "$name: $(cat "$USN_WORK/$name.info")"
	fi
}

ngx_lines() { if [ -f "$NGX_LOG" ]; then wc -l <"$NGX_LOG"; else echo 0; fi; }

# ---- nginx ----

ngx_start() {
	command -v nginx >/dev/null || return 1
	local d=$USN_WORK/nginx
	mkdir -p "$d/tmp" "$SITE/ssi"
	head -c 1024 /dev/zero | tr '\0' 'x' >"$SITE/index.html"
	# SSI output has no length: nginx sends it chunked.
	printf '<p>chunked <!--# echo var="uri" --> body</p>\n' >"$SITE/ssi/page.html"
	cat >"$d/nginx.conf" <<-EOF
		user root;
		daemon off;
		worker_processes 1;
		pid $d/nginx.pid;
		error_log $d/error.log;
		events { worker_connections 1024; }
		http {
			default_type text/html;
			access_log $NGX_LOG;
			client_body_temp_path $d/tmp/body;
			proxy_temp_path $d/tmp/proxy;
			fastcgi_temp_path $d/tmp/fastcgi;
			uwsgi_temp_path $d/tmp/uwsgi;
			scgi_temp_path $d/tmp/scgi;
			keepalive_requests 100;
			server {
				listen $USN_HOST_IP:$NGX_PORT;
				server_name _;
				root $SITE;
				location /ssi/ { ssi on; }
			}
		}
	EOF
	ip netns exec "$USN_NS" nginx -c "$d/nginx.conf" -p "$d" -e "$d/error.log" \
		>"$d/stdout.log" 2>&1 </dev/null &
	NGX_PID=$!
	usn_track "$NGX_PID"
	for _ in $(seq 50); do
		usn_ns curl -s -o /dev/null --max-time 1 "http://$USN_HOST_IP:$NGX_PORT/" && return 0
		kill -0 "$NGX_PID" 2>/dev/null || break
		sleep 0.1
	done
	NGX_PID=""
	return 1
}

# ---- NSD ----

nsd_start() {
	command -v nsd >/dev/null || return 1
	local d=$USN_WORK/nsd
	mkdir -p "$d"
	cat >"$d/load.test.zone" <<-'EOF'
		$ORIGIN load.test.
		$TTL 300
		@	IN	SOA	ns hostmaster 1 7200 3600 1209600 300
			IN	NS	ns
		ns	IN	A	192.0.2.53
		www	IN	A	192.0.2.80
		mail	IN	MX	10 www
	EOF
	cat >"$d/nsd.conf" <<-EOF
		server:
			username: ""
			chroot: ""
			database: ""
			zonesdir: "$d"
			zonelistfile: "$d/zone.list"
			xfrdfile: "$d/xfrd.state"
			xfrdir: "$d"
			pidfile: "$d/nsd.pid"
			logfile: "$d/nsd.log"
			server-count: 1
			ip-address: $USN_HOST_IP@$NSD_PORT
			rrl-ratelimit: 0
			rrl-whitelist-ratelimit: 0
			verbosity: 1
		remote-control:
			control-enable: no
		zone:
			name: load.test
			zonefile: load.test.zone
	EOF
	ip netns exec "$USN_NS" nsd -d -c "$d/nsd.conf" >"$d/stdout.log" 2>&1 </dev/null &
	NSD_PID=$!
	usn_track "$NSD_PID"
	for _ in $(seq 50); do
		usn_ns dig @"$USN_HOST_IP" -p "$NSD_PORT" +norec +time=1 +tries=1 www.load.test A 2>/dev/null |
			grep -q 'status: NOERROR' && return 0
		kill -0 "$NSD_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# ---- setup ----

HTTP_CASES=(load-keepalive-count load-pipeline-8 load-max-connecting load-close load-chunked load-404-status load-refused
	load-timed-percentiles load-vs-wrk)
DNS_CASES=(load-dns-count load-dns-rate load-dns-closed-port load-dns-vs-dnsperf)

USN_REASON=$(usn_preflight)
if [ -z "$USN_REASON" ] && [ ! -x "$USNET_LOAD" ]; then
	USN_REASON="usnet-load not built at $USNET_LOAD"
fi
if [ -z "$USN_REASON" ] && ! usn_setup_ns >"$USN_WORK/setup.log" 2>&1; then
	USN_REASON="namespace setup failed: $(tail -n 1 "$USN_WORK/setup.log")"
fi
if [ -n "$USN_REASON" ]; then
	usn_fail_all "$USN_REASON" load-setup
	usn_finish
fi
usn_pass load-setup

# ---- options ----

bad_opts() {
	local args rc out
	for args in "http" "http 10.77.0.1:80 --pipeline 0" "http 10.77.0.1 -d 3 -n 5" "dns 10.77.0.1" \
		"http 10.77.0.1 --close --pipeline 4" "dns 10.77.0.1 -f /nonexistent" "http 10.77.0.1 -f x" \
		"gopher 10.77.0.1" "http 10.77.0.1 --cores 2" "http 10.77.0.1 -n 10 --warmup 1"; do
		# shellcheck disable=SC2086
		out=$("$USNET_LOAD" --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX" $args 2>&1)
		rc=$?
		if [ "$rc" != 2 ] || ! printf '%s' "$out" | grep -q '^usnet-load: '; then
			echo "'$args': exit $rc, '$out'"
			return 1
		fi
	done
}
usn_check load-bad-options bad_opts

# ---- HTTP against nginx ----

if ! ngx_start; then
	usn_fail_all "nginx did not start: $(tail -n 2 "$USN_WORK/nginx/error.log" 2>/dev/null | tr '\n' ' ')" \
		"${HTTP_CASES[@]}"
else
	URL=http://$USN_HOST_IP:$NGX_PORT

	# count_case NAME N ARGS...: exactly N answered, 0 errors, nginx logged N.
	count_case() {
		local name=$1 n=$2 before after
		shift 2
		before=$(ngx_lines)
		load "$name" http "$URL/" -n "$n" "$@" || { echo "exit $?: $(tail -n 2 "$USN_WORK/$name.err")"; return 1; }
		sleep 0.2 # nginx writes its log line after the response
		after=$(ngx_lines)
		expect "$name" "requests=$n errors.total=0 status.2xx=$n" || return 1
		[ $((after - before)) -eq "$n" ] || { echo "nginx logged $((after - before)) requests, usnet-load $n"; return 1; }
		note "$name" "$n requests, $(jget "$name" connections_opened) connections, $(jget "$name" requests_per_s) req/s"
	}
	case_run load-keepalive-count count_case load-keepalive-count 2000 -c 4
	case_run load-pipeline-8 count_case load-pipeline-8 3000 -c 4 --pipeline 8

	# 600 connections, at most 16 connecting at once: the others wait for
	# their turn, and every one opens; --counters adds the stack's counters
	# (one active open for each connection opened).
	many_case() {
		load load-max-connecting http "$URL/" -d 2 -c 600 --max-connecting 16 --counters ||
			{ echo "exit $?: $(tail -n 2 "$USN_WORK/load-max-connecting.err")"; return 1; }
		expect load-max-connecting "errors.total=0" || return 1
		# nginx ends a connection after 100 requests: more open later
		[ "$(jget load-max-connecting connections_opened)" -ge 600 ] ||
			{ echo "$(jget load-max-connecting connections_opened) connections opened, want 600 or more"; return 1; }
		grep -Eq "^ +$(jget load-max-connecting connections_opened) TCP_ACTIVE_OPENS " "$USN_WORK/load-max-connecting.err" ||
			{ echo "no TCP_ACTIVE_OPENS 600 in --counters: $(grep ACTIVE_OPENS "$USN_WORK/load-max-connecting.err")"; return 1; }
	}
	case_run load-max-connecting many_case

	close_case() {
		local tw
		count_case load-close 600 -c 8 --close || return 1
		[ "$(jget load-close connections_opened)" -ge 600 ] || { echo "$(jget load-close connections_opened) connections for 600 requests"; return 1; }
		# The server closed first: the TIME-WAITs are on its side.
		tw=$(usn_ns ss -Htan state time-wait "( sport = :$NGX_PORT )" | wc -l)
		[ "$tw" -ge 500 ] || { echo "only $tw TIME-WAIT sockets on nginx's side for 600 connections"; return 1; }
		[ "$(jget load-close drain_aborted)" = 0 ] || { echo "connections reset: $(jget load-close drain_aborted)"; return 1; }
	}
	case_run load-close close_case

	chunked_case() {
		load load-chunked http "$URL/ssi/page.html" -n 300 -c 3 --pipeline 4 || return 1
		expect load-chunked "requests=300 errors.total=0 status.2xx=300" || return 1
		# Each body: "<p>chunked /ssi/page.html body</p>\n" (35 bytes).
		expect load-chunked "body_bytes=$((300 * 35))"
	}
	case_run load-chunked chunked_case

	status_case() {
		load load-404-status http "$URL/" --path /missing -n 150 -c 5 || return 1
		expect load-404-status "requests=150 status.4xx=150 errors.status=150 errors.total=150 status.2xx=0"
	}
	case_run load-404-status status_case

	refused_case() {
		load load-refused http "$USN_HOST_IP:8099" -n 40 -c 4 || { echo "exit $?"; return 1; }
		expect load-refused "requests=0 errors.connect=40 errors.connect_refused=40 errors.total=40"
	}
	case_run load-refused refused_case

	timed_case() {
		load load-timed-percentiles http "$URL/" -c 16 -d 2 --warmup 0.5 || return 1
		expect load-timed-percentiles "errors.total=0" || return 1
		[ "$(jget load-timed-percentiles requests)" -gt 100 ] || { echo "only $(jget load-timed-percentiles requests) requests"; return 1; }
		ordered load-timed-percentiles
	}
	case_run load-timed-percentiles timed_case

	wrk_case() {
		local out ns=$USN_NS
		# On a veth, wrk runs in the other namespace, beside usnet, on
		# the same wire; on a TAP only the kernel's own side is there.
		[ "$USN_LINK" = tap ] || ns=$USN_DEV_NS
		out=$(ip netns exec "$ns" wrk -t1 -c16 -d3 "$URL/" 2>&1) || { echo "wrk failed: $out"; return 1; }
		printf '%s\n' "$out" >"$USN_WORK/wrk.out"
		if printf '%s' "$out" | grep -qE 'Socket errors|Non-2xx'; then
			echo "wrk saw errors: $(grep -E 'Socket errors|Non-2xx' "$USN_WORK/wrk.out")"
			return 1
		fi
		load load-vs-wrk http "$URL/" -c 16 -d 3 || return 1
		expect load-vs-wrk "errors.total=0" || return 1
		ordered load-vs-wrk >/dev/null || { ordered load-vs-wrk; return 1; }
		note load-vs-wrk "wrk $(awk '/^Requests\/sec/ { print $2 }' "$USN_WORK/wrk.out") req/s, usnet-load $(jget load-vs-wrk requests_per_s) req/s (p99 wrk: $(awk '/^ *Latency/ { print $2 }' "$USN_WORK/wrk.out") avg; usnet-load $(jget load-vs-wrk latency_us.p99)us)"
	}
	if command -v wrk >/dev/null; then
		case_run load-vs-wrk wrk_case
	else
		usn_skip load-vs-wrk "wrk not installed"
	fi
fi

# ---- DNS against NSD ----

QF=$USN_WORK/queries.txt
cat >"$QF" <<-'EOF'
	# usnet-load's query file (dnsperf's format)
	www.load.test A
	load.test SOA
	mail.load.test MX

	nothere.load.test A
EOF

if ! nsd_start; then
	usn_fail_all "NSD did not start: $(tail -n 2 "$USN_WORK/nsd/nsd.log" "$USN_WORK/nsd/stdout.log" 2>/dev/null | tr '\n' ' ')" \
		"${DNS_CASES[@]}"
else
	DNS=$USN_HOST_IP:$NSD_PORT
	dns_count() {
		load load-dns-count dns "$DNS" -f "$QF" -n 2000 -c 20 || return 1
		expect load-dns-count "requests=2000 queries_sent=2000 errors.lost=0 rcode.NOERROR=1500 rcode.NXDOMAIN=500 errors.total=0" || return 1
		ordered load-dns-count
	}
	case_run load-dns-count dns_count

	dns_rate() {
		local q
		load load-dns-rate dns "$DNS" -f "$QF" -Q 2000 -d 2 || return 1
		expect load-dns-rate "errors.lost=0 errors.total=0" || return 1
		q=$(jget load-dns-rate requests)
		# 2000 a second for 2 s, within 10 %: the schedule, not a speed.
		[ "$q" -ge 3600 ] && [ "$q" -le 4400 ] || { echo "$q answers at 2000 qps for 2 s"; return 1; }
		note load-dns-rate "$q answers"
	}
	case_run load-dns-rate dns_rate

	dns_closed() {
		load load-dns-closed-port dns "$USN_HOST_IP:5399" -f "$QF" -n 20 -c 5 --timeout 300 || { echo "exit $?"; return 1; }
		expect load-dns-closed-port "requests=0 errors.lost=20" || return 1
		[ "$(jget load-dns-closed-port errors.icmp_refused)" -ge 1 ] || { echo "no ICMP port unreachable counted"; return 1; }
	}
	case_run load-dns-closed-port dns_closed

	dnsperf_case() {
		local out ns=$USN_NS
		[ "$USN_LINK" = tap ] || ns=$USN_DEV_NS
		out=$(ip netns exec "$ns" dnsperf -s "$USN_HOST_IP" -p "$NSD_PORT" -d "$QF" -l 3 -c 1 -q 20 2>&1) ||
			{ echo "dnsperf failed: $(printf '%s' "$out" | tail -n 3)"; return 1; }
		printf '%s\n' "$out" >"$USN_WORK/dnsperf.out"
		grep -qE 'Queries lost: +0 ' "$USN_WORK/dnsperf.out" || { echo "dnsperf: $(grep 'Queries lost' "$USN_WORK/dnsperf.out")"; return 1; }
		load load-dns-vs-dnsperf dns "$DNS" -f "$QF" -c 20 -d 3 || return 1
		expect load-dns-vs-dnsperf "errors.lost=0 errors.total=0" || return 1
		ordered load-dns-vs-dnsperf >/dev/null || { ordered load-dns-vs-dnsperf; return 1; }
		note load-dns-vs-dnsperf "dnsperf $(awk '/Queries per second/ { print $4 }' "$USN_WORK/dnsperf.out") qps, usnet-load $(jget load-dns-vs-dnsperf queries_per_s) qps"
	}
	if command -v dnsperf >/dev/null; then
		case_run load-dns-vs-dnsperf dnsperf_case
	else
		usn_skip load-dns-vs-dnsperf "dnsperf not installed"
	fi
fi

usn_finish
