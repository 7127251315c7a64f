#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-dnsd.sh - usnet-dnsd, the authoritative DNS server, on a TAP against
# real clients on the kernel side. It serves the zones of tests/interop/dnsd/
# (example.zone: $ORIGIN, $TTL, $INCLUDE with and without an origin, every
# common type and one unknown in RFC 3597 syntax, CNAME chains and loops,
# wildcards, empty non-terminals, delegations with glue and a DS, answers of
# more than 512 and 1232 bytes; example.net.zone; reverse.zone given its
# origin on the command line). NSD serves the same files on the kernel's
# address as the reference: tests/interop/dns_compare.py asks both the
# queries of dnsd/queries.txt with dig and compares every section (one case
# per group of queries). Then usnet-dnsd alone: dig and kdig over UDP and
# TCP, EDNS on and off, truncation and the retry over TCP, BADVERS, several
# queries on one TCP connection, the idle TCP timeout, the query name's case
# kept in the answer; hostile and malformed messages over UDP and TCP
# (tests/interop/dns_hostile.py) after which it must still answer; its
# SIGUSR1 counters; response rate limiting (--rrl); zone files with errors
# (exit 1 naming the file and line) and bad options (exit 2); SIGTERM exits
# 0. Run as root; one line per case (tests/interop/lib.sh).
#
# Environment: USNET_DNSD (default: dnsd/usnet-dnsd next to $USNET_ECHO,
# i.e. build/apps/dnsd/usnet-dnsd). Needs dig (bind9-dnsutils); kdig
# (knot-dnsutils) and nsd are used when installed, their cases skipped if not.
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

USNET_DNSD=${USNET_DNSD:-$(dirname "$USNET_ECHO")/dnsd/usnet-dnsd}
ZDIR=$USN_HERE/dnsd
QUERIES=$ZDIR/queries.txt
NSD_PORT=5353
# The zones, as usnet-dnsd is given them (NSD's configuration names the same
# files). The reverse zone has no $ORIGIN: its name comes with the file.
ZONES=(--zone "$ZDIR/example.zone" --zone "$ZDIR/example.net.zone"
	--zone "2.0.192.in-addr.arpa=$ZDIR/reverse.zone")
DNSD_PID=""
DNSD_LOG=""
DNSD_STATUS=""
NSD_PID=""
IDLE_PID=""

# ---- the server ----

# dnsd_start LOG [EXTRA ARGS...]: usnet-dnsd on the TAP as 10.77.0.2/24 with
# the zones, output into $USN_WORK/LOG, waits up to 10 s for its ready line.
# It runs in the zone directory, as NSD does (zonesdir): $INCLUDE names are
# relative to it. On failure sets USN_REASON and returns 1.
dnsd_start() {
	local log=$1
	shift
	if [ ! -x "$USNET_DNSD" ]; then
		USN_REASON="usnet-dnsd not built at $USNET_DNSD"
		return 1
	fi
	DNSD_LOG=$USN_WORK/$log
	: >"$DNSD_LOG"
	# ip netns exec execs the program, and so does the subshell: $! is
	# usnet-dnsd's PID.
	(cd "$ZDIR" && exec ip netns exec "$USN_DEV_NS" "$USNET_DNSD" --dev "$USN_DEV" \
		--addr "$USN_STACK_IP/$USN_PREFIX" "${ZONES[@]}" "$@") >>"$DNSD_LOG" 2>&1 </dev/null &
	DNSD_PID=$!
	usn_track "$DNSD_PID"
	for _ in $(seq 100); do
		grep -q '^usnet-dnsd: ready on' "$DNSD_LOG" && return 0
		if ! kill -0 "$DNSD_PID" 2>/dev/null; then
			wait "$DNSD_PID"
			USN_REASON="usnet-dnsd exited with status $? before it was ready: $(tail -n 3 "$DNSD_LOG" | tr '\n' ' ')"
			usn_untrack "$DNSD_PID"
			DNSD_PID=""
			return 1
		fi
		sleep 0.1
	done
	USN_REASON="no ready line from usnet-dnsd within 10 s: $(tail -n 3 "$DNSD_LOG" | tr '\n' ' ')"
	return 1
}

dnsd_alive() { [ -n "$DNSD_PID" ] && kill -0 "$DNSD_PID" 2>/dev/null; }

# dnsd_reap: when usnet-dnsd has died, its exit status into DNSD_STATUS
# (in the test's own shell: a subshell cannot wait for it).
dnsd_reap() {
	if [ -n "$DNSD_PID" ] && ! kill -0 "$DNSD_PID" 2>/dev/null; then
		wait "$DNSD_PID"
		DNSD_STATUS=$?
		usn_untrack "$DNSD_PID"
		DNSD_PID=""
	fi
}

# dnsd_gone: why there is no usnet-dnsd to ask.
dnsd_gone() {
	if [ "$dnsd_ok" != 1 ]; then
		echo "usnet-dnsd did not start (see dnsd-setup)"
	else
		echo "usnet-dnsd died (exit status ${DNSD_STATUS:-?})$(grep -E 'usnet-dnsd: |ERROR|[Ee]rror|Sanitizer|ssertion' "$DNSD_LOG" |
			grep -v -E '^usnet-dnsd: (ready on|queries )' | tail -n 2 | tr '\n' ' ' | sed 's/^./: &/')"
	fi
}

# dnsd_stop SIGNAL: signals usnet-dnsd, waits up to 5 s, sets DNSD_STATUS
# to its exit status (or "timeout" after a KILL).
dnsd_stop() {
	USN_ECHO_PID=$DNSD_PID usn_stop_echo "$1"
	DNSD_STATUS=$USN_ECHO_STATUS
	DNSD_PID=""
}

# dnsd_counters OUT: SIGUSR1 and what it printed (lib.sh's usn_counters on
# the server's PID and log).
dnsd_counters() {
	USN_ECHO_PID=$DNSD_PID USN_ECHO_LOG=$DNSD_LOG usn_counters "$1"
}

# dstat FILE WHAT: one number of usnet-dnsd's own counter line ("usnet-dnsd:
# queries udp N tcp N; answers NOERROR N ...; truncated N; dropped N; rrl
# dropped N slipped N; tcp connections open N total N"), the last one in
# FILE; WHAT is a regex whose group is the number. Empty when absent.
dstat() {
	grep '^usnet-dnsd: queries ' "$1" | tail -n 1 | sed -n -E "s/.*$2.*/\\1/p"
}

# ---- NSD, the reference ----

# nsd_start: NSD in the namespace on 10.77.0.1:5353 serving the same zone
# files, in the foreground (-d) so $! is its main process; rate limiting off
# (the comparison sends bursts), all its files in $USN_WORK. Returns 1 when
# it does not answer within 5 s.
nsd_start() {
	local d=$USN_WORK/nsd
	mkdir -p "$d"
	cat >"$d/nsd.conf" <<-EOF
		server:
			username: ""
			chroot: ""
			database: ""
			zonesdir: "$ZDIR"
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
			name: example.com
			zonefile: example.zone
		zone:
			name: example.net
			zonefile: example.net.zone
		zone:
			name: 2.0.192.in-addr.arpa
			zonefile: reverse.zone
	EOF
	ip netns exec "$USN_NS" nsd -d -c "$d/nsd.conf" >"$d/stdout.log" 2>&1 </dev/null &
	NSD_PID=$!
	usn_track "$NSD_PID"
	for _ in $(seq 50); do
		usn_ns dig @"$USN_HOST_IP" -p "$NSD_PORT" +norec +time=1 +tries=1 example.com SOA 2>/dev/null |
			grep -q 'status: NOERROR' && return 0
		kill -0 "$NSD_PID" 2>/dev/null || break
		sleep 0.1
	done
	USN_REASON="NSD did not answer within 5 s: $(tail -n 2 "$d/nsd.log" "$d/stdout.log" 2>/dev/null | tr '\n' ' ')"
	return 1
}

# ---- clients ----

# dq ARGS...: dig at usnet-dnsd; kq ARGS...: kdig at it.
dq() { usn_ns dig @"$USN_STACK_IP" +norec +nocookie +time=2 +tries=1 "$@" 2>&1; }
kq() { usn_ns kdig @"$USN_STACK_IP" +norec +time=2 +retry=0 "$@" 2>&1; }

# dsum: dig's output (stdin) in one line: "[retried ]RCODE FLAGS AN/NS/AR
# TRANSPORT udp=N|noedns", from its last answer.
dsum() {
	awk '
		/Truncated, retrying in TCP mode/ { r = "retried " }
		/^;; ->>HEADER<<-/ { s = $6; sub(/,$/, "", s) }
		/^;; flags:/ { f = $0; sub(/^;; flags: */, "", f); sub(/;.*/, "", f)
			c = $0; sub(/.*ANSWER: /, "", c); an = c + 0
			c = $0; sub(/.*AUTHORITY: /, "", c); ns = c + 0
			c = $0; sub(/.*ADDITIONAL: /, "", c); ar = c + 0; e = "noedns" }
		/^; EDNS:/ { u = $0; sub(/.*udp: /, "", u); e = "udp=" u + 0 }
		/^;; SERVER:/ { t = $NF; gsub(/[()]/, "", t) }
		END { if (s == "") print "no answer"; else printf "%s%s %s %d/%d/%d %s %s\n", r, s, f, an, ns, ar, t, e }'
}

# ksum: kdig's output (stdin) in one line: "RCODE FLAGS AN/NS/AR TRANSPORT
# udp=N|noedns", from its last answer.
ksum() {
	awk '
		/^;; ->>HEADER<<-/ { s = $0; sub(/.*status: /, "", s); sub(/;.*/, "", s); e = "noedns" }
		/^;; Flags:/ { f = $0; sub(/^;; Flags: */, "", f); sub(/;.*/, "", f)
			c = $0; sub(/.*ANSWER: /, "", c); an = c + 0
			c = $0; sub(/.*AUTHORITY: /, "", c); ns = c + 0
			c = $0; sub(/.*ADDITIONAL: /, "", c); ar = c + 0 }
		/UDP size: / { u = $0; sub(/.*UDP size: /, "", u); e = "udp=" u + 0 }
		/^;; From / { t = $0; sub(/.*\(/, "", t); sub(/\).*/, "", t) }
		END { if (s == "") print "no answer"; else printf "%s %s %d/%d/%d %s %s\n", s, f, an, ns, ar, t, e }'
}

# expect NAME WANT GOT [DETAIL]: PASS when GOT matches the regex WANT.
expect() {
	if [[ $3 =~ ^($2)$ ]]; then
		usn_pass "$1"
	else
		usn_fail "$1" "got ${3:-nothing}, want $2${4:+ ($4)}"
	fi
}

# ---- setup ----

USN_REASON=$(usn_preflight)
[ -z "$USN_REASON" ] && ! command -v dig >/dev/null && USN_REASON="dig missing (package bind9-dnsutils)"
if [ -n "$USN_REASON" ]; then
	usn_fail dnsd-setup "$USN_REASON"
	usn_finish
fi
have_kdig=0
command -v kdig >/dev/null && have_kdig=1
if ! usn_setup_ns >"$USN_WORK/setup.log" 2>&1; then
	usn_fail dnsd-setup "namespace/TAP setup failed: $(tail -n 1 "$USN_WORK/setup.log")"
	usn_finish
fi
dnsd_ok=0
if dnsd_start usnet-dnsd.log; then
	# The first exchange also resolves ARP both ways.
	out=$(usn_ns dig @"$USN_STACK_IP" +norec +time=1 +tries=5 example.com SOA 2>&1)
	if printf '%s\n' "$out" | grep -q 'status: NOERROR'; then
		dnsd_ok=1
		usn_pass dnsd-setup
	else
		usn_fail dnsd-setup "example.com SOA on a fresh server: $(printf '%s\n' "$out" | grep -m1 -E 'status|timed out|error')"
	fi
else
	usn_fail dnsd-setup "$USN_REASON"
fi
[ "$dnsd_ok" = 1 ] && usn_info "usnet-dnsd: $(grep -m1 '^usnet-dnsd: ready on' "$DNSD_LOG")"

nsd_ok=0
nsd_why=""
if ! command -v nsd >/dev/null; then
	nsd_why="nsd not installed"
	usn_skip dnsd-nsd-setup "$nsd_why"
elif nsd_start; then
	nsd_ok=1
	usn_pass dnsd-nsd-setup
	usn_info "reference: $(nsd -v 2>&1 | head -n 1) on $USN_HOST_IP port $NSD_PORT"
else
	nsd_why="NSD did not start"
	usn_fail dnsd-nsd-setup "$USN_REASON"
fi

# The idle TCP connections wait for the server's timeout in the background
# while the rest runs.
if [ "$dnsd_ok" = 1 ]; then
	usn_ns timeout 40 "$USN_PY" "$USN_HERE/dns_hostile.py" idle "$USN_STACK_IP" --max 20 \
		>"$USN_WORK/idle.txt" 2>&1 &
	IDLE_PID=$!
	usn_track "$IDLE_PID"
fi

# ---- usnet-dnsd against NSD ----

T=$SECONDS
groups=$(awk '!/^#/ && NF { if (!seen[$1]++) print $1 }' "$QUERIES")
CMP=$USN_WORK/compare.txt
if [ "$dnsd_ok" = 1 ]; then
	if [ "$nsd_ok" = 1 ]; then
		usn_ns timeout 120 "$USN_PY" "$USN_HERE/dns_compare.py" --a "$USN_STACK_IP:53" \
			--b "$USN_HOST_IP:$NSD_PORT" --names usnet-dnsd,nsd --save "$USN_WORK/dig" "$QUERIES" \
			>"$CMP" 2>&1
	else
		usn_ns timeout 120 "$USN_PY" "$USN_HERE/dns_compare.py" --a "$USN_STACK_IP:53" \
			--save "$USN_WORK/dig" "$QUERIES" >"$CMP" 2>&1
	fi
	grep -q Traceback "$CMP" && sed 's/^/    | /' "$CMP" | tail -n 8
fi
for g in $groups; do
	n=$(awk -v g="$g" '!/^#/ && $1 == g' "$QUERIES" | wc -l)
	if [ "$dnsd_ok" != 1 ]; then
		usn_fail "dnsd-cmp-$g" "$(dnsd_gone)"
	elif [ "$nsd_ok" != 1 ]; then
		usn_skip "dnsd-cmp-$g" "$nsd_why"
	else
		same=$(awk -v g="$g" '$1 == "same" && $2 == g' "$CMP" | wc -l)
		diff=$(awk -v g="$g" '$1 == "differs" && $2 == g' "$CMP")
		if [ "$same" -eq "$n" ]; then
			usn_pass "dnsd-cmp-$g"
		else
			usn_fail "dnsd-cmp-$g" "$((n - same)) of $n queries answered otherwise than NSD"
			printf '%s\n' "$diff" | sed 's/^differs /    | /'
		fi
	fi
done
# The query name's case, as asked, on every owner name that is the query
# name (dig prints owner names as they came).
if [ "$dnsd_ok" = 1 ]; then
	ncase=$(grep -c '^case ' "$CMP")
	bad=$(grep '^case .* bad' "$CMP")
	if [ "$ncase" -gt 0 ] && [ -z "$bad" ]; then
		usn_pass dnsd-case-preserved
	else
		usn_fail dnsd-case-preserved "$(printf '%s\n' "$bad" | grep -c .) of $ncase answers spell the query name otherwise"
		printf '%s\n' "$bad" | head -n 10 | sed 's/^case /    | /'
	fi
else
	usn_fail dnsd-case-preserved "$(dnsd_gone)"
fi
if [ "$nsd_ok" = 1 ]; then
	usn_info "comparison: $(grep -c '^same' "$CMP") same, $(grep -c '^differs' "$CMP") differ ($((SECONDS - T)) s); dig outputs in $USN_WORK/dig"
elif [ "$dnsd_ok" = 1 ]; then
	usn_info "no comparison; usnet-dnsd's answers: $CMP, dig outputs in $USN_WORK/dig"
fi

# ---- usnet-dnsd alone: dig and kdig ----

if [ "$dnsd_ok" = 1 ]; then
	# Every zone loaded, the reverse one under the name given with its file.
	got=""
	for z in example.com example.net 2.0.192.in-addr.arpa; do
		got="$got$(dq "$z" SOA | dsum);"
	done
	expect dnsd-zones-loaded "(NOERROR qr aa 1/[0-9]+/[0-9]+ UDP udp=1232;){3}" "$got" "SOA of each zone"

	expect dnsd-dig-udp "NOERROR qr aa 2/3/[0-9]+ UDP udp=1232" "$(dq www.example.com A | dsum)"
	expect dnsd-dig-tcp "NOERROR qr aa 2/3/[0-9]+ TCP udp=1232" "$(dq +tcp www.example.com A | dsum)"
	expect dnsd-dig-noedns "NOERROR qr aa 2/3/[0-9]+ UDP noedns" "$(dq +noedns www.example.com A | dsum)"
	# The answer's OPT carries the server's own size, whatever the query's.
	got="$(dq +bufsize=4096 www.example.com A | dsum); $(dq +bufsize=512 www.example.com A | dsum)"
	expect dnsd-dig-bufsize "NOERROR qr aa 2/3/[0-9]+ UDP udp=1232; NOERROR qr aa 2/3/[0-9]+ UDP udp=1232" "$got"
	# Over UDP: TC=1 and nothing in the sections (+ignore: no retry).
	expect dnsd-tc-noedns "NOERROR qr aa tc 0/0/0 UDP noedns" "$(dq +noedns +ignore big512.example.com TXT | dsum)" \
		"an answer of 650 bytes, 512 without EDNS"
	expect dnsd-tc-edns "NOERROR qr aa tc 0/0/1 UDP udp=1232" "$(dq +bufsize=4096 +ignore big1232.example.com TXT | dsum)" \
		"an answer of 1.5 KB, 1232 with EDNS"
	expect dnsd-fits-1232 "NOERROR qr aa 1/3/[0-9]+ UDP udp=1232" "$(dq +bufsize=1232 big512.example.com TXT | dsum)" \
		"the 650-byte answer with EDNS 1232"
	# Without +ignore dig asks again over TCP and gets it all.
	o=$USN_WORK/tc-retry.txt
	dq +noedns big512.example.com TXT >"$o"
	got="$(dsum <"$o") $(grep -c '^big512\.example\.com\..*TXT' "$o") TXT"
	dq big1232.example.com TXT >"$o.edns"
	got="$got; $(dsum <"$o.edns") $(grep -c '^big1232\.example\.com\..*TXT' "$o.edns") TXT"
	expect dnsd-tc-retry-tcp "retried NOERROR qr aa 1/3/[0-9]+ TCP noedns 1 TXT; retried NOERROR qr aa 1/3/[0-9]+ TCP udp=1232 1 TXT" "$got"
	# EDNS version 1: BADVERS, in an OPT of version 0.
	o=$USN_WORK/badvers.txt
	dq +edns=1 +noednsneg www.example.com A >"$o"
	got="$(dsum <"$o") $(sed -n 's/^; EDNS: version: \([0-9]*\),.*/v\1/p' "$o")"
	expect dnsd-badvers "BADVERS qr 0/0/1 UDP udp=1232 v0" "$got"

	if [ "$have_kdig" = 1 ]; then
		# kdig sends no EDNS unless told to.
		expect dnsd-kdig-udp "NOERROR qr aa 2/3/[0-9]+ UDP udp=1232" "$(kq +edns www.example.com A | ksum)"
		expect dnsd-kdig-tcp "NOERROR qr aa 2/3/[0-9]+ TCP udp=1232" "$(kq +edns +tcp www.example.com A | ksum)"
		expect dnsd-kdig-noedns "NOERROR qr aa 2/3/[0-9]+ UDP noedns" "$(kq www.example.com A | ksum)"
		got="$(kq +ignore big512.example.com TXT | ksum); $(kq +ignore +bufsize=1232 big1232.example.com TXT | ksum); $(kq +bufsize=1232 big1232.example.com TXT 2>/dev/null | ksum)"
		expect dnsd-kdig-tc "NOERROR qr aa tc 0/0/0 UDP noedns; NOERROR qr aa tc 0/0/1 UDP udp=1232; NOERROR qr aa 1/3/[0-9]+ TCP udp=1232" "$got" \
			"+ignore without EDNS, +ignore with EDNS 1232, then the retry over TCP"
		expect dnsd-kdig-badvers "BADVERS qr 0/0/1 UDP udp=1232" "$(kq +edns=1 www.example.com A | ksum)"
		# Three queries on one TCP connection: one connection more in the
		# server's count.
		dnsd_counters "$USN_WORK/counters-keepopen-0.txt"
		tot0=$(dstat "$USN_WORK/counters-keepopen-0.txt" 'connections open [0-9]+ total ([0-9]+)')
		o=$USN_WORK/keepopen.txt
		kq +tcp +keepopen www.example.com A example.com SOA nonexistent.example.com A >"$o"
		dnsd_counters "$USN_WORK/counters-keepopen-1.txt"
		tot1=$(dstat "$USN_WORK/counters-keepopen-1.txt" 'connections open [0-9]+ total ([0-9]+)')
		got="$(sed -n 's/^;; ->>HEADER<<-.*status: \([A-Z]*\);.*/\1/p' "$o" | tr '\n' ' ')$(grep -c '(TCP)' "$o") TCP, connections +$((${tot1:-0} - ${tot0:-0}))"
		expect dnsd-kdig-keepopen "NOERROR NOERROR NXDOMAIN 3 TCP, connections \+1" "$got" \
			"kdig +tcp +keepopen with 3 queries (total connections ${tot0:-?} -> ${tot1:-?})"
	else
		for c in dnsd-kdig-udp dnsd-kdig-tcp dnsd-kdig-noedns dnsd-kdig-tc dnsd-kdig-badvers dnsd-kdig-keepopen; do
			usn_skip "$c" "kdig not installed (knot-dnsutils)"
		done
	fi

	# CH TXT version.bind: usnet-dnsd's own version (not compared with NSD).
	o=$USN_WORK/version.txt
	dq -c CH -t TXT -q version.bind >"$o"
	got="$(dsum <"$o") $(grep -i -c '^version\.bind\..*CH.*TXT.*"..*"' "$o") TXT"
	expect dnsd-version-bind "NOERROR qr( aa)? 1/0/1 UDP udp=1232 1 TXT" "$got" "$(grep -i '^version\.bind\.' "$o" | head -n 1)"

	# Several queries on one connection: one after the other, pipelined,
	# the length prefix split across writes, a byte a write, half-closed.
	o=$USN_WORK/tcp.txt
	usn_ns timeout 60 "$USN_PY" "$USN_HERE/dns_hostile.py" tcp "$USN_STACK_IP" >"$o" 2>&1
	for c in tcp-3-sequential tcp-3-pipelined tcp-3-split-prefix tcp-1-bytewise tcp-3-half-close tcp-50-pipelined tcp-big-answer; do
		line=$(awk -v c="$c" '$1 == c' "$o")
		expect "dnsd-$c" "ok" "$(printf '%s' "$line" | awk '{ print $2 }')" "$(printf '%s' "$line" | cut -d' ' -f3-)"
	done
	grep -q Traceback "$o" && sed 's/^/    | /' "$o" | tail -n 8
else
	for c in dnsd-zones-loaded dnsd-dig-udp dnsd-dig-tcp dnsd-dig-noedns dnsd-dig-bufsize dnsd-tc-noedns dnsd-tc-edns \
		dnsd-fits-1232 dnsd-tc-retry-tcp dnsd-badvers dnsd-kdig-udp dnsd-kdig-tcp dnsd-kdig-noedns dnsd-kdig-tc \
		dnsd-kdig-badvers dnsd-kdig-keepopen dnsd-version-bind dnsd-tcp-3-sequential dnsd-tcp-3-pipelined \
		dnsd-tcp-3-split-prefix dnsd-tcp-1-bytewise dnsd-tcp-3-half-close dnsd-tcp-50-pipelined dnsd-tcp-big-answer; do
		usn_fail "$c" "$(dnsd_gone)"
	done
fi

# ---- hostile messages ----

T=$SECONDS
# hostile_group CASE: which case of the test a line of dns_hostile.py is.
hostile_group() {
	case $1 in
	tcp/prefix-* | tcp/zero-length-* | tcp/oversized-* | tcp/qr-set-then-* | tcp/formerr-then-* | tcp/reset-* | tcp/framing) echo framing ;;
	*/random-* | */mutated-*) echo random ;;
	*/empty | */one-byte | */header-* | */qr-set* | */qd* | */*-count-past-end) echo header ;;
	*/ptr-* | */label-* | */name-* | */no-q* | */half-q* | */trailing-*) echo names ;;
	*/opt-* | */edns-*) echo edns ;;
	*/opcode-*) echo opcode ;;
	*) echo odd ;;
	esac
}
dnsd_reap
HOSTILE=$USN_WORK/hostile.txt
HOSTILE_NSD=$USN_WORK/hostile-nsd.txt
hgroups="header names edns opcode odd framing random"
if [ "$dnsd_ok" = 1 ] && dnsd_alive; then
	usn_ns timeout 90 "$USN_PY" "$USN_HERE/dns_hostile.py" hostile "$USN_STACK_IP" >"$HOSTILE" 2>&1
	[ "$nsd_ok" = 1 ] && usn_ns timeout 90 "$USN_PY" "$USN_HERE/dns_hostile.py" hostile "$USN_HOST_IP" \
		--port "$NSD_PORT" >"$HOSTILE_NSD" 2>&1
	grep -q Traceback "$HOSTILE" && sed 's/^/    | /' "$HOSTILE" | tail -n 8
	for g in $hgroups; do
		total=0
		bad=""
		while read -r c v detail; do
			[ "$c" = after ] && continue
			[ "$(hostile_group "$c")" = "$g" ] || continue
			total=$((total + 1))
			[ "$v" = ok ] || bad="$bad$c $v $detail"$'\n'
		done <"$HOSTILE"
		if [ "$total" -gt 0 ] && [ -z "$bad" ]; then
			usn_pass "dnsd-hostile-$g"
		else
			usn_fail "dnsd-hostile-$g" "$(printf '%s' "$bad" | grep -c .) of $total messages answered wrong"
			printf '%s' "$bad" | head -n 20 | sed 's/^/    | /'
		fi
	done
	# Well-formed but odd queries: the answer NSD gives (RCODE, flags and
	# section counts).
	if [ "$nsd_ok" = 1 ]; then
		odd=$("$USN_PY" "$USN_HERE/dns_hostile.py" list | awk '$2 !~ /drop|formerr/ { print $1 }')
		bad=""
		n=0
		for c in $odd; do
			n=$((n + 1))
			u=$(awk -v c="$c" '$1 == c { $1 = ""; $2 = ""; sub(/^ +/, ""); sub(/ \(.*/, ""); print }' "$HOSTILE")
			r=$(awk -v c="$c" '$1 == c { $1 = ""; $2 = ""; sub(/^ +/, ""); sub(/ \(.*/, ""); print }' "$HOSTILE_NSD")
			[ "$u" = "$r" ] || bad="$bad$c: usnet-dnsd $u; nsd $r"$'\n'
		done
		if [ -z "$bad" ]; then
			usn_pass dnsd-hostile-like-nsd
		else
			usn_fail dnsd-hostile-like-nsd "$(printf '%s' "$bad" | grep -c .) of $n well-formed odd queries answered otherwise than NSD"
			printf '%s' "$bad" | sed 's/^/    | /'
		fi
		# Malformed ones: where the two part ways (both may be right).
		usn_info "malformed messages where usnet-dnsd and NSD differ (both may be right):"
		awk -v odd=" $(printf '%s\n' "$odd" | tr '\n' ' ')" '
			NR == FNR { if ($1 != "after") { d = $0; sub(/^[^ ]+ [^ ]+ /, "", d); sub(/ \(.*/, "", d); nsd[$1] = d }; next }
			$1 != "after" && index(odd, " " $1 " ") == 0 && $1 !~ /random|mutated/ {
				d = $0; sub(/^[^ ]+ [^ ]+ /, "", d); sub(/ \(.*/, "", d)
				if (($1 in nsd) && nsd[$1] != d) printf "    %-30s %-40s nsd: %s\n", $1, d, nsd[$1] }' \
			"$HOSTILE_NSD" "$HOSTILE" | head -n 40
	else
		usn_skip dnsd-hostile-like-nsd "$nsd_why"
	fi
	after=$(awk '$1 == "after"' "$HOSTILE")
	dnsd_reap
	if dnsd_alive && [ "$(printf '%s' "$after" | awk '{ print $2 }')" = ok ]; then
		usn_pass dnsd-hostile-survived
	elif dnsd_alive; then
		usn_fail dnsd-hostile-survived "alive, but www.example.com A: ${after:-no line}"
	else
		usn_fail dnsd-hostile-survived "$(dnsd_gone)"
	fi
	usn_info "hostile cases: $((SECONDS - T)) s"
else
	for g in $hgroups like-nsd survived; do
		usn_fail "dnsd-hostile-$g" "$(dnsd_gone)"
	done
fi

# ---- the idle TCP timeout ----

if [ -n "$IDLE_PID" ]; then
	wait "$IDLE_PID"
	usn_untrack "$IDLE_PID"
	IDLE_PID=""
	# Both connections closed by the server within ~15 s (at most 17).
	got=$(awk '{ printf "%s%s", (NR > 1 ? " " : ""), ($2 <= 17 && $3 == "closed") ? "ok" : $1 " " $2 " s " $3 }' "$USN_WORK/idle.txt")
	expect dnsd-tcp-idle-timeout "ok ok" "$got" "$(tr '\n' ' ' <"$USN_WORK/idle.txt")"
else
	usn_fail dnsd-tcp-idle-timeout "$(dnsd_gone)"
fi

# ---- counters, SIGTERM ----

dnsd_reap
if dnsd_alive; then
	C=$USN_WORK/counters-end.txt
	# TCP connections all gone (the hostile ones included): up to 12 s.
	for _ in $(seq 24); do
		dnsd_counters "$C" || break
		[ "$(dstat "$C" 'connections open ([0-9]+)')" = 0 ] && break
		sleep 0.5
	done
	line=$(grep '^usnet-dnsd: queries ' "$C" | tail -n 1)
	usn_info "end: $line"
	why=""
	udp=$(dstat "$C" 'queries udp ([0-9]+)')
	tcp=$(dstat "$C" 'queries udp [0-9]+ tcp ([0-9]+)')
	sum=0
	for k in NOERROR FORMERR SERVFAIL NXDOMAIN NOTIMP REFUSED BADVERS; do
		v=$(dstat "$C" " $k ([0-9]+)")
		[ -n "$v" ] || why="$why $k missing;"
		sum=$((sum + ${v:-0}))
		case $k in NOERROR | FORMERR | NXDOMAIN | NOTIMP | REFUSED | BADVERS)
			[ "${v:-0}" -gt 0 ] || why="$why $k ${v:-?};" ;;
		esac
	done
	[ "${udp:-0}" -gt 0 ] && [ "${tcp:-0}" -gt 0 ] || why="$why queries udp ${udp:-?} tcp ${tcp:-?};"
	[ "$sum" -le $((${udp:-0} + ${tcp:-0})) ] || why="$why $sum answers for $((${udp:-0} + ${tcp:-0})) queries;"
	tr=$(dstat "$C" 'truncated ([0-9]+)')
	[ "${tr:-0}" -gt 0 ] || why="$why truncated ${tr:-?};"
	open=$(dstat "$C" 'connections open ([0-9]+)')
	total=$(dstat "$C" 'connections open [0-9]+ total ([0-9]+)')
	[ "$open" = 0 ] && [ "${total:-0}" -gt 0 ] || why="$why tcp connections open ${open:-?} total ${total:-?};"
	[ -s "$C.parsed" ] || why="$why no stack counters;"
	if [ -z "$line" ]; then
		usn_fail dnsd-counters "no 'usnet-dnsd: queries' line after SIGUSR1: $(head -c 200 "$C")"
	elif [ -z "$why" ]; then
		usn_pass dnsd-counters
	else
		usn_fail dnsd-counters "${why% ;}"
	fi
	dnsd_stop TERM
	expect dnsd-sigterm-exit 0 "$DNSD_STATUS" "exit status"
else
	usn_fail dnsd-counters "$(dnsd_gone)"
	usn_fail dnsd-sigterm-exit "$(dnsd_gone)"
fi

# ---- response rate limiting ----

T=$SECONDS
if [ "$dnsd_ok" = 1 ] && dnsd_start usnet-dnsd-rrl.log --rrl 10; then
	usn_ns dig @"$USN_STACK_IP" +norec +time=1 +tries=3 example.com SOA >/dev/null 2>&1
	sleep 1.1
	o=$USN_WORK/rrl.txt
	usn_ns timeout 30 "$USN_PY" "$USN_HERE/dns_hostile.py" flood "$USN_STACK_IP" --count 200 >"$o" 2>&1
	read -r _ sent _ full _ slipped _ other _ silent <"$o"
	usn_info "rrl 10/s: $(cat "$o")"
	expect dnsd-rrl-limited "ok" "$( [ "${full:-200}" -lt 50 ] && [ "${slipped:-0}" -gt 0 ] && echo ok ||
		echo "full ${full:-?} slipped ${slipped:-?} other ${other:-?} silent ${silent:-?} of ${sent:-?}")" \
		"200 queries at once: fewer than 50 full answers, some TC=1 slips"
	dnsd_counters "$USN_WORK/counters-rrl.txt"
	rd=$(dstat "$USN_WORK/counters-rrl.txt" 'rrl dropped ([0-9]+)')
	rs=$(dstat "$USN_WORK/counters-rrl.txt" 'rrl dropped [0-9]+ slipped ([0-9]+)')
	expect dnsd-rrl-counters "ok" "$( [ "${rd:-0}" -gt 0 ] && [ "${rs:-0}" -gt 0 ] && echo ok ||
		echo "rrl dropped ${rd:-?} slipped ${rs:-?}")" "$(grep '^usnet-dnsd: queries ' "$USN_WORK/counters-rrl.txt" | tail -n 1)"
	sleep 2
	expect dnsd-rrl-recovers "NOERROR qr aa 2/3/[0-9]+ UDP udp=1232" "$(dq www.example.com A | dsum)" "2 s after the flood"
	dnsd_stop TERM
	[ "$DNSD_STATUS" = 0 ] || usn_info "usnet-dnsd --rrl exited with status $DNSD_STATUS"
	usn_info "rrl: $((SECONDS - T)) s"
else
	why=$USN_REASON
	[ "$dnsd_ok" = 1 ] || why=$(dnsd_gone)
	for c in dnsd-rrl-limited dnsd-rrl-counters dnsd-rrl-recovers; do
		usn_fail "$c" "$why"
	done
fi

# ---- zone errors, bad options ----

# dnsd_fail_run LOG ARGS...: runs usnet-dnsd (the zone directory its
# working directory, the TAP free), for up to 10 s; prints its exit status,
# or "ready" when it started serving after all (then it is stopped).
dnsd_fail_run() {
	local log=$USN_WORK/$1 pid st
	shift
	: >"$log"
	(cd "$ZDIR" && exec ip netns exec "$USN_DEV_NS" "$USNET_DNSD" "$@") >>"$log" 2>&1 </dev/null &
	pid=$!
	usn_track "$pid"
	st=timeout
	for _ in $(seq 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			st=$?
			break
		fi
		grep -q '^usnet-dnsd: ready on' "$log" && break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		grep -q '^usnet-dnsd: ready on' "$log" && st=ready
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	usn_untrack "$pid"
	echo "$st"
}

# zone_error NAME FILE LINE-REGEX: a zone that does not load: exit 1, no
# ready line, and "usnet-dnsd: FILE:LINE: message" on stderr.
zone_error() {
	local name=$1 f=$2 want=$3 st msg
	if [ ! -x "$USNET_DNSD" ]; then
		usn_fail "$name" "usnet-dnsd not built at $USNET_DNSD"
		return
	fi
	st=$(dnsd_fail_run "$name.log" --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX" \
		--zone "$ZDIR/example.net.zone" --zone "$ZDIR/$f")
	msg=$(grep -m1 -E "^usnet-dnsd: ([^ ]*/)?$want: ." "$USN_WORK/$name.log")
	expect "$name" "1 yes" "$st $([ -n "$msg" ] && echo yes || echo no)" \
		"exit status and a line 'usnet-dnsd: $want: ...'; printed: $(head -n 2 "$USN_WORK/$name.log" | tr '\n' ' ')"
	[ -n "$msg" ] && usn_info "$name: $msg"
}
zone_error dnsd-zone-error-syntax broken-a.zone 'broken-a\.zone:8'
zone_error dnsd-zone-error-type broken-type.zone 'broken-type\.zone:7'
zone_error dnsd-zone-error-include broken-include.zone '(broken-include\.zone:6|[^ ]*no-such-file\.inc(:[0-9]+)?)'

if [ -x "$USNET_DNSD" ]; then
	s1=$(dnsd_fail_run usage-1.log --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX" "${ZONES[@]}" --no-such-option)
	s2=$(dnsd_fail_run usage-2.log --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX" "${ZONES[@]}" --port 70000)
	s3=$(dnsd_fail_run usage-3.log --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX" "${ZONES[@]}" --rrl x)
	s4=$(dnsd_fail_run usage-4.log --dev "$USN_DEV" --addr "$USN_STACK_IP/$USN_PREFIX")
	expect dnsd-usage-exit-2 "2 2 2 2" "$s1 $s2 $s3 $s4" "exit status for --no-such-option, --port 70000, --rrl x, no --zone"
else
	usn_fail dnsd-usage-exit-2 "usnet-dnsd not built at $USNET_DNSD"
fi

usn_finish
