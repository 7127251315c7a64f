#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-httpd.sh - usnet-httpd on a TAP against real clients on the kernel
# side: a generated site (nested directories, index.html files, sizes 0 B to
# 10 MB of random bytes, names with spaces, '%', '&', '+' and UTF-8, a few
# media types) fetched with curl (GET byte for byte with its header fields,
# HEAD, byte ranges, conditional requests, keep-alive, HTTP/1.0, the 301 to
# a directory's slash, 404, 405), mirrored whole with wget and compared with
# diff -r, loaded with ab (keep-alive and not) and wrk, a 1 GB download
# checked by sha256, hostile requests (path traversal, a symlink out of the
# root, oversized or malformed requests: tests/interop/http_probe.py) and a
# slowloris client while curl keeps being served. nginx serves the same tree
# on the kernel's address for a table of status codes side by side (only
# usnet-httpd's own answers decide PASS or FAIL). At the end the server must
# still answer, hold no more packet buffers than at the start, and exit 0
# on SIGTERM. Run as root; one line per case (tests/interop/lib.sh).
#
# Environment: USNET_HTTPD (default: httpd/usnet-httpd next to $USNET_ECHO,
# i.e. build/apps/httpd/usnet-httpd), HTTPD_BIG_MB (the big download, default
# 1024).
# shellcheck source=tests/interop/lib.sh
. "$(dirname "$0")/lib.sh"

USNET_HTTPD=${USNET_HTTPD:-$(dirname "$USNET_ECHO")/httpd/usnet-httpd}
BIG_MB=${HTTPD_BIG_MB:-1024}
URL=http://$USN_STACK_IP
NGX_PORT=8080
NGX_URL=http://$USN_HOST_IP:$NGX_PORT
SITE=$USN_WORK/site
HTTPD_PID=""
HTTPD_LOG=""
NGX_PID=""
# "case usnet nginx" lines for the comparison table.
CMP=$USN_WORK/compare.txt
: >"$CMP"

# ---- the server ----

# httpd_start [EXTRA ARGS...]: usnet-httpd on the TAP as 10.77.0.2/24 serving
# $SITE, output into $HTTPD_LOG, waits up to 10 s for its ready line. On
# failure sets USN_REASON and returns 1.
httpd_start() {
	if [ ! -x "$USNET_HTTPD" ]; then
		USN_REASON="usnet-httpd not built at $USNET_HTTPD"
		return 1
	fi
	HTTPD_LOG=$USN_WORK/usnet-httpd.log
	: >"$HTTPD_LOG"
	ip netns exec "$USN_DEV_NS" "$USNET_HTTPD" --dev "$USN_DEV" \
		--addr "$USN_STACK_IP/$USN_PREFIX" --root "$SITE" \
		--access-log "$USN_WORK/access.log" "$@" >>"$HTTPD_LOG" 2>&1 </dev/null &
	HTTPD_PID=$!
	usn_track "$HTTPD_PID"
	local ready="usnet-httpd: ready on $USN_DEV $USN_STACK_IP/$USN_PREFIX port 80"
	for _ in $(seq 100); do
		grep -qF "$ready" "$HTTPD_LOG" && return 0
		if ! kill -0 "$HTTPD_PID" 2>/dev/null; then
			wait "$HTTPD_PID"
			USN_REASON="usnet-httpd exited with status $? before it was ready: $(tail -n 3 "$HTTPD_LOG" | tr '\n' ' ')"
			usn_untrack "$HTTPD_PID"
			HTTPD_PID=""
			return 1
		fi
		sleep 0.1
	done
	USN_REASON="no ready line from usnet-httpd within 10 s: $(tail -n 3 "$HTTPD_LOG" | tr '\n' ' ')"
	return 1
}

httpd_alive() { [ -n "$HTTPD_PID" ] && kill -0 "$HTTPD_PID" 2>/dev/null; }

# httpd_counters OUT: SIGUSR1 and what it printed (lib.sh's usn_counters on
# the server's PID and log).
httpd_counters() {
	USN_ECHO_PID=$HTTPD_PID USN_ECHO_LOG=$HTTPD_LOG usn_counters "$1"
}

# gauge FILE NAME: a "state:" gauge from a counters dump (BUFFERS_IN_USE...).
gauge() { awk -v n="$2" '$2 == n { v = $1 } END { print v + 0 }' "$1"; }

# ---- nginx, the reference ----

# ngx_start: nginx in the namespace on 10.77.0.1:8080 serving $SITE, in the
# foreground (daemon off) so $! is its master; returns 1 when absent.
ngx_start() {
	command -v nginx >/dev/null || return 1
	local d=$USN_WORK/nginx
	mkdir -p "$d/tmp"
	cat >"$d/nginx.conf" <<-EOF
		user root;
		daemon off;
		worker_processes 1;
		pid $d/nginx.pid;
		error_log $d/error.log;
		events { worker_connections 256; }
		http {
			include /etc/nginx/mime.types;
			default_type application/octet-stream;
			access_log $d/access.log;
			client_body_temp_path $d/tmp/body;
			proxy_temp_path $d/tmp/proxy;
			fastcgi_temp_path $d/tmp/fastcgi;
			uwsgi_temp_path $d/tmp/uwsgi;
			scgi_temp_path $d/tmp/scgi;
			server {
				listen $USN_HOST_IP:$NGX_PORT;
				server_name _;
				root $SITE;
			}
		}
	EOF
	ip netns exec "$USN_NS" nginx -c "$d/nginx.conf" -p "$d" -e "$d/error.log" \
		>"$d/stdout.log" 2>&1 </dev/null &
	NGX_PID=$!
	usn_track "$NGX_PID"
	for _ in $(seq 50); do
		usn_ns curl -s -o /dev/null --max-time 1 "$NGX_URL/" && return 0
		kill -0 "$NGX_PID" 2>/dev/null || break
		sleep 0.1
	done
	NGX_PID=""
	return 1
}

# ---- the site ----

urlenc() { "$USN_PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

# index_page DIR NAME...: DIR/index.html linking each NAME (a trailing '/'
# for a directory).
index_page() {
	local dir=$1 n
	shift
	{
		echo "<!DOCTYPE html><html><head><title>$(basename "$dir")</title>"
		echo '<link rel="stylesheet" href="/style.css"><script src="/app.js"></script></head><body><ul>'
		for n in "$@"; do
			echo "<li><a href=\"$(urlenc "$n")\">$n</a></li>"
		done
		echo '</ul><img src="/logo.png"><img src="/pic.svg"></body></html>'
	} >"$dir/index.html"
}

make_site() {
	mkdir -p "$SITE/dir/sub/deeper" "$SITE/dir/sub dir" &&
		: >"$SITE/empty.bin" &&
		head -c 1 /dev/urandom >"$SITE/one.bin" &&
		head -c 1000 /dev/urandom >"$SITE/k1.bin" &&
		head -c 4096 /dev/urandom >"$SITE/k4.bin" &&
		head -c 65536 /dev/urandom >"$SITE/k64.bin" &&
		head -c 1048576 /dev/urandom >"$SITE/m1.bin" &&
		head -c 10485760 /dev/urandom >"$SITE/m10.bin" || return 1
	printf 'body { color: #123; }\n' >"$SITE/style.css"
	printf 'console.log("usnet");\n' >"$SITE/app.js"
	printf '\x89PNG\r\n\x1a\n' >"$SITE/logo.png"
	head -c 200 /dev/urandom >>"$SITE/logo.png"
	printf '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n' >"$SITE/pic.svg"
	head -c 3000 /dev/urandom >"$SITE/with space.txt"
	head -c 3001 /dev/urandom >"$SITE/100% sure.txt"
	head -c 3002 /dev/urandom >"$SITE/q&a+b=c.txt"
	head -c 3003 /dev/urandom >"$SITE/ünïcödé.txt"
	head -c 5000 /dev/urandom >"$SITE/dir/file.txt"
	head -c 7000 /dev/urandom >"$SITE/dir/sub dir/x y.bin"
	head -c 100 /dev/urandom >"$SITE/dir/sub/deeper/z.bin"
	index_page "$SITE" empty.bin one.bin k1.bin k4.bin k64.bin m1.bin m10.bin \
		style.css app.js logo.png pic.svg "with space.txt" "100% sure.txt" \
		"q&a+b=c.txt" "ünïcödé.txt" dir/
	index_page "$SITE/dir" file.txt sub/ "sub dir/"
	index_page "$SITE/dir/sub" deeper/
	index_page "$SITE/dir/sub/deeper" z.bin
	index_page "$SITE/dir/sub dir" "x y.bin"
	# Older than now by a day: If-Modified-Since tests need a past mtime.
	find "$SITE" -exec touch -d '1 day ago' {} +
}

# ---- header checks ----

# hdr FILE NAME: the value of the first field NAME in a header dump.
hdr() {
	tr -d '\r' <"$1" | awk -v n="$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]')" '
		NR > 1 && index($0, ":") { k = tolower(substr($0, 1, index($0, ":") - 1))
			if (k == n) { v = substr($0, index($0, ":") + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); print v; exit } }'
}

httpdate() { LC_ALL=C date -u -d "@$1" '+%a, %d %b %Y %H:%M:%S GMT'; }

# check_fields HEADERS FILE CTYPE: what is wrong with the representation
# fields of a 200 for FILE (nothing printed when all is right).
check_fields() {
	local h=$1 f=$2 ct=$3 v d now
	v=$(hdr "$h" Content-Length)
	[ "$v" = "$(stat -c %s "$f")" ] || printf ' Content-Length "%s" (size %s)' "$v" "$(stat -c %s "$f")"
	v=$(hdr "$h" Content-Type)
	[ "${v%%;*}" = "$ct" ] || printf ' Content-Type "%s" (want %s)' "$v" "$ct"
	v=$(hdr "$h" ETag)
	[[ $v =~ ^\"[0-9a-f]+-[0-9a-f]+\"$ ]] || printf ' ETag "%s"' "$v"
	v=$(hdr "$h" Last-Modified)
	[ "$v" = "$(httpdate "$(stat -c %Y "$f")")" ] ||
		printf ' Last-Modified "%s" (mtime %s)' "$v" "$(httpdate "$(stat -c %Y "$f")")"
	v=$(hdr "$h" Date)
	d=$(date -u -d "$v" +%s 2>/dev/null || echo 0)
	now=$(date +%s)
	[[ $v =~ GMT$ ]] && [ $((now - d)) -le 10 ] && [ $((d - now)) -le 10 ] || printf ' Date "%s"' "$v"
	v=$(hdr "$h" Accept-Ranges)
	[ "$v" = bytes ] || printf ' Accept-Ranges "%s"' "$v"
}

# get_case NAME URLPATH FILE CTYPE: GET, status 200, body byte for byte, fields.
get_case() {
	local name=$1 p=$2 f=$3 ct=$4 o=$USN_WORK/curl/$1 code why
	code=$(usn_ns curl -sS --max-time 30 -D "$o.h" -o "$o.b" -w '%{http_code}' "$URL$p" 2>"$o.err")
	why=""
	[ "$code" = 200 ] || why=" status $code $(head -c 200 "$o.err")"
	cmp -s "$f" "$o.b" || why="$why body differs ($(stat -c %s "$o.b" 2>/dev/null) bytes received, $(stat -c %s "$f") in the file)"
	[ "$code" = 200 ] && why="$why$(check_fields "$o.h" "$f" "$ct")"
	if [ -z "$why" ]; then
		usn_pass "$name"
	else
		usn_fail "$name" "GET $p:$why"
	fi
	rm -f "$o.b"
}

# curl_code ARGS...: the status code curl reports (000 when none).
curl_code() { usn_ns curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$@"; }

# expect NAME WANT GOT [DETAIL]: PASS when GOT matches the regex WANT.
expect() {
	if [[ $3 =~ ^($2)$ ]]; then
		usn_pass "$1"
	else
		usn_fail "$1" "got ${3:-nothing}, want $2${4:+ ($4)}"
	fi
}

# ---- setup ----

# The big file is not kept with the logs, however the test ends.
# shellcheck disable=SC2154 # httpd_rc is set inside the trap
trap 'httpd_rc=$?; rm -f "$SITE/big.bin"; (exit $httpd_rc); usn_cleanup' EXIT
USN_REASON=$(usn_preflight)
if [ -n "$USN_REASON" ]; then
	usn_fail httpd-setup "$USN_REASON"
	usn_finish
fi
mkdir -p "$USN_WORK/curl"
if ! make_site >"$USN_WORK/site.log" 2>&1; then
	usn_fail httpd-setup "cannot generate the site: $(tail -n 1 "$USN_WORK/site.log")"
	usn_finish
fi
if ! usn_setup_ns >"$USN_WORK/setup.log" 2>&1; then
	usn_fail httpd-setup "namespace/TAP setup failed: $(tail -n 1 "$USN_WORK/setup.log")"
	usn_finish
fi
if ! httpd_start --max-conns 2000; then
	usn_fail httpd-setup "$USN_REASON"
	usn_finish
fi
# The first exchange also resolves ARP both ways.
if [ "$(curl_code --retry 3 --retry-connrefused "$URL/")" != 200 ]; then
	usn_fail httpd-setup "GET / on a fresh server did not answer 200"
	usn_finish
fi
usn_pass httpd-setup
httpd_counters "$USN_WORK/counters-start.txt"
BUF0=$(gauge "$USN_WORK/counters-start.txt" BUFFERS_IN_USE)
usn_info "baseline: BUFFERS_IN_USE $BUF0"
ngx_ok=0
if ngx_start; then
	ngx_ok=1
else
	usn_info "nginx not available: no comparison table"
fi

# ---- GET: every kind of file ----

T=$SECONDS
get_case httpd-get-empty /empty.bin "$SITE/empty.bin" application/octet-stream
get_case httpd-get-1 /one.bin "$SITE/one.bin" application/octet-stream
get_case httpd-get-1000 /k1.bin "$SITE/k1.bin" application/octet-stream
get_case httpd-get-4096 /k4.bin "$SITE/k4.bin" application/octet-stream
get_case httpd-get-65536 /k64.bin "$SITE/k64.bin" application/octet-stream
get_case httpd-get-1m /m1.bin "$SITE/m1.bin" application/octet-stream
get_case httpd-get-10m /m10.bin "$SITE/m10.bin" application/octet-stream
get_case httpd-get-index / "$SITE/index.html" text/html
get_case httpd-get-nested-index /dir/sub/deeper/ "$SITE/dir/sub/deeper/index.html" text/html
get_case httpd-get-css /style.css "$SITE/style.css" text/css
get_case httpd-get-js /app.js "$SITE/app.js" text/javascript
get_case httpd-get-png /logo.png "$SITE/logo.png" image/png
get_case httpd-get-svg /pic.svg "$SITE/pic.svg" image/svg+xml
get_case httpd-get-space "/$(urlenc 'with space.txt')" "$SITE/with space.txt" text/plain
get_case httpd-get-percent "/$(urlenc '100% sure.txt')" "$SITE/100% sure.txt" text/plain
get_case httpd-get-reserved "/$(urlenc 'q&a+b=c.txt')" "$SITE/q&a+b=c.txt" text/plain
get_case httpd-get-utf8 "/$(urlenc 'ünïcödé.txt')" "$SITE/ünïcödé.txt" text/plain
get_case httpd-get-nested-space "/dir/$(urlenc 'sub dir')/$(urlenc 'x y.bin')" "$SITE/dir/sub dir/x y.bin" application/octet-stream
# Unencoded reserved characters name the same file (RFC 3986 §2.2: not
# delimiters in a path segment).
get_case httpd-get-reserved-raw "/q&a+b=c.txt" "$SITE/q&a+b=c.txt" text/plain
# A query is not part of the file name.
get_case httpd-get-query "/k4.bin?x=1&y=2" "$SITE/k4.bin" application/octet-stream

# HEAD: the fields of the GET, no body. curl -I writes the header block as
# its output; a body would be read as the next response of the pipelined
# form, http_probe.py's head-then-get below.
o=$USN_WORK/curl/head
code=$(usn_ns curl -sS -I --max-time 10 -D "$o.h" -o /dev/null -w '%{http_code} %{size_download}' "$URL/k64.bin" 2>"$o.err")
usn_ns curl -sS --max-time 10 -D "$o.gh" -o /dev/null "$URL/k64.bin" 2>/dev/null
why=""
[ "$code" = "200 0" ] || why=" status and body bytes $code"
why="$why$(check_fields "$o.h" "$SITE/k64.bin" application/octet-stream)"
[ "$(hdr "$o.h" ETag)" = "$(hdr "$o.gh" ETag)" ] || why="$why ETag differs from GET's"
if [ -z "$why" ]; then usn_pass httpd-head; else usn_fail httpd-head "HEAD /k64.bin:$why"; fi

# ---- ranges (RFC 9110 §14) ----

# range_case NAME RANGE FIRST LAST: a 206 with exactly bytes FIRST..LAST of
# k4.bin and the matching Content-Range.
range_case() {
	local name=$1 r=$2 first=$3 last=$4 o=$USN_WORK/curl/$1 code why="" cr
	code=$(usn_ns curl -sS --max-time 10 -H "Range: bytes=$r" -D "$o.h" -o "$o.b" -w '%{http_code}' \
		"$URL/k4.bin" 2>"$o.err")
	tail -c +$((first + 1)) "$SITE/k4.bin" | head -c $((last - first + 1)) >"$o.want"
	[ "$code" = 206 ] || why=" status $code"
	cmp -s "$o.want" "$o.b" || why="$why body differs ($(stat -c %s "$o.b") bytes)"
	cr=$(hdr "$o.h" Content-Range)
	[ "$cr" = "bytes $first-$last/4096" ] || why="$why Content-Range \"$cr\""
	[ "$(hdr "$o.h" Content-Length)" = $((last - first + 1)) ] || why="$why Content-Length \"$(hdr "$o.h" Content-Length)\""
	if [ -z "$why" ]; then usn_pass "$name"; else usn_fail "$name" "Range: bytes=$r:$why"; fi
}
range_case httpd-range-0-99 0-99 0 99
range_case httpd-range-100- 100- 100 4095
range_case httpd-range--100 -100 3996 4095
range_case httpd-range-last-byte 4095-5000 4095 4095
o=$USN_WORK/curl/range416
code=$(usn_ns curl -sS --max-time 10 -H "Range: bytes=4096-" -D "$o.h" -o /dev/null -w '%{http_code}' "$URL/k4.bin" 2>/dev/null)
cr=$(hdr "$o.h" Content-Range)
expect httpd-range-past-end "416 bytes \*/4096" "$code $cr" "Content-Range: bytes */size"
echo "range-past-end $code $(curl_code -H 'Range: bytes=4096-' "$NGX_URL/k4.bin")" >>"$CMP"

# ---- conditional requests (RFC 9110 §13) ----

usn_ns curl -sS --max-time 10 -D "$USN_WORK/curl/cond.h" -o /dev/null "$URL/k1.bin" 2>/dev/null
etag=$(hdr "$USN_WORK/curl/cond.h" ETag)
lm=$(hdr "$USN_WORK/curl/cond.h" Last-Modified)
o=$USN_WORK/curl/cond
code=$(usn_ns curl -sS --max-time 10 -H "If-None-Match: $etag" -D "$o.inm.h" -o /dev/null \
	-w '%{http_code} %{size_download}' "$URL/k1.bin")
expect httpd-cond-etag "304 0 $etag" "$code $(hdr "$o.inm.h" ETag)" "status, body bytes, ETag"
code=$(curl_code -H "If-None-Match: \"nope\", $etag" "$URL/k1.bin")
expect httpd-cond-etag-list 304 "$code"
code=$(curl_code -H 'If-None-Match: "0-0"' "$URL/k1.bin")
expect httpd-cond-etag-other 200 "$code"
code=$(curl_code -H "If-Modified-Since: $lm" "$URL/k1.bin")
expect httpd-cond-ims 304 "$code" "If-Modified-Since: $lm"
old=$(httpdate $(($(stat -c %Y "$SITE/k1.bin") - 3600)))
code=$(curl_code -H "If-Modified-Since: $old" "$URL/k1.bin")
expect httpd-cond-ims-older 200 "$code" "If-Modified-Since: $old"
# RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is there.
code=$(curl_code -H 'If-None-Match: "0-0"' -H "If-Modified-Since: $lm" "$URL/k1.bin")
expect httpd-cond-inm-wins 200 "$code"
# If-Range with the current ETag: the range; with another: the whole file.
code=$(curl_code -H "If-Range: $etag" -H 'Range: bytes=0-9' "$URL/k1.bin")
expect httpd-if-range-match 206 "$code"
code=$(curl_code -H 'If-Range: "0-0"' -H 'Range: bytes=0-9' "$URL/k1.bin")
expect httpd-if-range-other 200 "$code"

# ---- connections ----

# Keep-alive: ten URLs, one connection.
urls=()
for p in / /k1.bin /k4.bin /k64.bin /m1.bin /empty.bin /style.css /app.js /dir/ /one.bin; do
	urls+=("$URL$p" -o /dev/null)
done
out=$(usn_ns curl -sS --max-time 30 -w '%{http_code} %{num_connects}\n' "${urls[@]}" 2>&1)
codes=$(printf '%s\n' "$out" | awk '{ printf "%s", $1 == 200 ? "" : $1 " " }')
conns=$(printf '%s\n' "$out" | awk '{ s += $2 } END { print s + 0 }')
expect httpd-keepalive-reuse "1" "$conns${codes:+ (non-200: $codes)}" "connections opened for 10 URLs"

# HTTP/1.0 without keep-alive: "Connection: close" and a closed connection.
o=$USN_WORK/curl/h10
out=$(usn_ns curl -sS --http1.0 --max-time 10 -D "$o.h" -w '%{http_code} %{num_connects}\n' \
	"$URL/k1.bin" -o /dev/null "$URL/k4.bin" -o /dev/null 2>&1)
expect httpd-http10-close "200 1 200 1 close" "$(printf '%s' "$out" | tr '\n' ' ') $(hdr "$o.h" Connection | tr '[:upper:]' '[:lower:]')" \
	"status and connects per URL, Connection field"
# HTTP/1.0 with "Connection: keep-alive": the connection persists, and the
# response says so with "Connection: keep-alive": an HTTP/1.0 client does
# not know that a 1.1 response persists by default, and without the field
# it waits for the close (RFC 9112 Appendix C.2.2, RFC 2068 §19.7.1; ab -k
# is such a client).
out=$(usn_ns curl -sS --http1.0 -H 'Connection: keep-alive' --max-time 10 -D "$o.ka.h" \
	-w '%{http_code} %{num_connects}\n' "$URL/k1.bin" -o /dev/null "$URL/k4.bin" -o /dev/null 2>&1)
expect httpd-http10-keepalive "200 1 200 0 keep-alive" \
	"$(printf '%s' "$out" | tr '\n' ' ') $(hdr "$o.ka.h" Connection | tr '[:upper:]' '[:lower:]')" \
	"status and connects per URL, response Connection field"

# A directory without its slash: 301 to it (RFC 9110 §15.4.2).
o=$USN_WORK/curl/301
code=$(usn_ns curl -sS --max-time 10 -D "$o.h" -o /dev/null -w '%{http_code}' "$URL/dir/sub" 2>/dev/null)
loc=$(hdr "$o.h" Location)
expect httpd-dir-301 "301 (/dir/sub/|$URL/dir/sub/)" "$code $loc"
code=$(usn_ns curl -sS --max-time 10 -D "$o.sp.h" -o /dev/null -w '%{http_code}' "$URL/dir/sub%20dir" 2>/dev/null)
loc=$(hdr "$o.sp.h" Location)
expect httpd-dir-301-encoded "301 (/dir/sub%20dir/|$URL/dir/sub%20dir/)" "$code $loc" \
	"a Location must be a URI: the space percent-encoded (RFC 9110 §10.2.2, RFC 3986 §2.1)"
echo "dir-no-slash $(curl_code "$URL/dir/sub") $(curl_code "$NGX_URL/dir/sub")" >>"$CMP"
code=$(curl_code -L "$URL/dir")
expect httpd-dir-301-follow 200 "$code"

expect httpd-404 404 "$(curl_code "$URL/no/such/file.html")"
echo "not-found $(curl_code "$URL/nope.html") $(curl_code "$NGX_URL/nope.html")" >>"$CMP"
expect httpd-404-head 404 "$(curl_code -I "$URL/nope.html")"

# Methods other than GET and HEAD: 405 with Allow (RFC 9110 §15.5.6).
for m in POST PUT DELETE; do
	o=$USN_WORK/curl/m-$m
	if [ "$m" = DELETE ]; then
		code=$(usn_ns curl -sS --max-time 10 -X DELETE -D "$o.h" -o /dev/null -w '%{http_code}' "$URL/k1.bin" 2>/dev/null)
	else
		code=$(usn_ns curl -sS --max-time 10 -X "$m" --data-binary 'x=1&y=2' -D "$o.h" -o /dev/null -w '%{http_code}' \
			"$URL/k1.bin" 2>/dev/null)
	fi
	allow=$(hdr "$o.h" Allow)
	expect "httpd-405-$(printf '%s' "$m" | tr '[:upper:]' '[:lower:]')" "405 GET, ?HEAD" "$code $allow" "status and Allow"
	echo "method-$m $code $(curl_code -X "$m" "$NGX_URL/k1.bin")" >>"$CMP"
done
usn_info "curl cases: $((SECONDS - T)) s"

# ---- wget: the whole site, byte for byte ----

T=$SECONDS
mirror=$USN_WORK/mirror
rm -rf "$mirror"
usn_ns timeout 120 wget -q -r -l inf -np -nH -e robots=off --restrict-file-names=nocontrol \
	-P "$mirror" "$URL/" >"$USN_WORK/wget.log" 2>&1
rc=$?
if out=$(diff -r "$SITE" "$mirror" 2>&1); then
	usn_pass httpd-wget-mirror
else
	usn_fail httpd-wget-mirror "wget exit $rc; diff -r: $(printf '%s\n' "$out" | head -n 1)"
	printf '%s\n' "$out" | head -n 10 | sed 's/^/    | /'
fi
usn_info "wget: $((SECONDS - T)) s, $(find "$mirror" -type f | wc -l) files"
rm -rf "$mirror"

# ---- load ----

T=$SECONDS
# ab_case NAME ARGS...: zero failed and zero non-2xx requests, all complete.
ab_case() {
	local name=$1 n o=$USN_WORK/$1.txt
	shift
	n=$2
	usn_ns timeout 150 ab -q -s 10 "$@" "$URL/k1.bin" >"$o" 2>&1
	local rc=$? ndone fail non2xx
	ndone=$(awk '/^Complete requests:/ { print $3 }' "$o")
	fail=$(awk '/^Failed requests:/ { print $3 }' "$o")
	non2xx=$(awk '/^Non-2xx responses:/ { print $3 }' "$o")
	if [ "$rc" = 0 ] && [ "$ndone" = "$n" ] && [ "$fail" = 0 ] && [ -z "$non2xx" ]; then
		usn_pass "$name"
	else
		usn_fail "$name" "ab exit $rc, complete ${ndone:-?}/$n, failed ${fail:-?}, non-2xx ${non2xx:-0}: $(grep -m1 -iE 'error|apr_' "$o")"
		grep -E -A 4 '^Failed requests' "$o" | sed 's/^/    | /'
	fi
	grep -q '^Requests per second:' "$o" &&
		usn_info "$name: $(awk '/^Requests per second:/ { print $4 " req/s" } /^Time taken/ { print $5 " s;" }' "$o" | tr '\n' ' ')"
}
ab_case httpd-ab-keepalive -n 20000 -c 50 -k
ab_case httpd-ab-close -n 5000 -c 20

o=$USN_WORK/wrk.txt
usn_ns timeout 40 wrk -t1 -c50 -d10s --timeout 5s "$URL/k1.bin" >"$o" 2>&1
rc=$?
sock=$(awk '/Socket errors:/ { sub(/.*Socket errors: */, ""); print }' "$o")
non=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$o")
reqs=$(awk '/requests in/ { print $1 }' "$o")
if [ "$rc" = 0 ] && [ -z "$sock" ] && [ -z "$non" ] && [ "${reqs:-0}" -gt 0 ]; then
	usn_pass httpd-wrk
else
	usn_fail httpd-wrk "wrk exit $rc, ${reqs:-0} requests, socket errors: ${sock:-none}, non-2xx/3xx: ${non:-0}"
fi
usn_info "wrk: $(awk '/Requests\/sec/ { print $2 " req/s" }' "$o"), $reqs requests"
usn_info "load: $((SECONDS - T)) s"

# ---- a big file ----

T=$SECONDS
big=$SITE/big.bin
head -c 1048576 /dev/urandom >"$USN_WORK/block"
for _ in $(seq "$BIG_MB"); do cat "$USN_WORK/block"; done >"$big"
rm -f "$USN_WORK/block"
want=$(sha256sum <"$big" | cut -d' ' -f1)
T2=$SECONDS
got=$(usn_ns curl -sS --max-time 240 -o - -w '%{stderr}%{http_code} %{size_download} %{time_total} %{speed_download}\n' \
	"$URL/big.bin" 2>"$USN_WORK/big.err" | sha256sum | cut -d' ' -f1)
read -r code size secs speed < <(tail -n 1 "$USN_WORK/big.err")
speed=${speed:-0}
if [ "$code" = 200 ] && [ "$got" = "$want" ]; then
	usn_pass "httpd-big-${BIG_MB}m"
else
	usn_fail "httpd-big-${BIG_MB}m" "status $code, $size bytes, sha256 ${got:0:16} (want ${want:0:16}) $(head -c 200 "$USN_WORK/big.err")"
fi
usn_info "big download: $BIG_MB MB in ${secs:-?} s ($((${speed%.*} / 1048576)) MB/s); generating and hashing $((T2 - T)) s"
# A range far into the file: offsets beyond 32 bits of 512-byte blocks.
off=$(((BIG_MB - 1) * 1048576 + 12345))
o=$USN_WORK/curl/bigrange
code=$(usn_ns curl -sS --max-time 10 -H "Range: bytes=$off-$((off + 9999))" -o "$o.b" -w '%{http_code}' "$URL/big.bin" 2>/dev/null)
tail -c +$((off + 1)) "$big" | head -c 10000 >"$o.want"
cmp -s "$o.b" "$o.want" && res="$code same" || res="$code differs"
expect httpd-big-range "206 same" "$res" "Range at offset $off"
rm -f "$big"
usn_info "big file cases: $((SECONDS - T)) s"

# ---- hostile ----

T=$SECONDS
ln -s /etc/passwd "$SITE/leak"
mkdir -p "$USN_WORK/outside"
echo secret >"$USN_WORK/outside/secret.txt"
ln -s "$USN_WORK/outside" "$SITE/outdir"
ln -s ../outside/secret.txt "$SITE/dir/relleak" 2>/dev/null

# hostile_curl NAME WANT PATH [CURL ARGS]: status must match WANT and the
# body must not hold a line of /etc/passwd nor the outside secret.
hostile_curl() {
	local name=$1 want=$2 p=$3 o=$USN_WORK/curl/$1 code ngx
	shift 3
	code=$(usn_ns curl -s --max-time 10 --path-as-is "$@" -o "$o.b" -w '%{http_code}' "$URL$p")
	if grep -qE '^root:|^secret$' "$o.b" 2>/dev/null; then
		usn_fail "$name" "GET $p: status $code and the body holds the file outside the root"
	else
		expect "$name" "$want" "$code" "GET $p"
	fi
	ngx=$(usn_ns curl -s --max-time 10 --path-as-is "$@" -o "$o.ngx" -w '%{http_code}' "$NGX_URL$p")
	grep -qE '^root:|^secret$' "$o.ngx" 2>/dev/null && ngx="$ngx(leaks)"
	echo "${name#httpd-} $code $ngx" >>"$CMP"
}
hostile_curl httpd-trav-dotdot "400|403|404" /../../etc/passwd
hostile_curl httpd-trav-dotdot-deep "400|403|404" /dir/../../../../../../etc/passwd
hostile_curl httpd-trav-pct-dots "400|403|404" /%2e%2e/%2e%2e/etc/passwd
hostile_curl httpd-trav-pct-dots-upper "400|403|404" /%2E%2E/%2E%2E/%2E%2E/etc/passwd
hostile_curl httpd-trav-pct-slash "400|403|404" /a/..%2f..%2fetc/passwd
hostile_curl httpd-trav-pct-slash-dir "400|403|404" /dir/..%2f..%2f..%2fetc/passwd
hostile_curl httpd-trav-backslash "400|403|404" '/..\..\etc\passwd'
hostile_curl httpd-trav-pct-backslash "400|403|404" /..%5c..%5cetc%5cpasswd
hostile_curl httpd-trav-nul "400|404" /index.html%00.txt
hostile_curl httpd-trav-overlong-utf8 "400|403|404" /%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd
hostile_curl httpd-symlink-abs "403|404" /leak
hostile_curl httpd-symlink-dir "403|404" /outdir/secret.txt
hostile_curl httpd-symlink-rel "403|404" /dir/relleak
hostile_curl httpd-dotdot-inside "200" /dir/../k1.bin

# A directory whose name holds CR LF: the 301's Location must not split the
# header block (RFC 9112 §2.2, RFC 9110 §5.5: no CR or LF in a field value).
if mkdir "$SITE/evil"$'\r\n'"X-Injected: yes" 2>/dev/null; then
	o=$USN_WORK/curl/inject
	code=$(usn_ns curl -s --max-time 10 -D "$o.h" -o /dev/null -w '%{http_code}' "$URL/evil%0D%0AX-Injected:%20yes")
	inj=$(hdr "$o.h" X-Injected)
	expect httpd-location-crlf "[34][0-9][0-9] none" "$code ${inj:-none}" \
		"Location: $(hdr "$o.h" Location | cat -v)"
	echo "location-crlf $code${inj:+(injected)} $(curl_code "$NGX_URL/evil%0D%0AX-Injected:%20yes")" >>"$CMP"
fi

# The raw cases: WANT regexes on http_probe.py's answer (statuses, "+close").
# A chunked request body is read and discarded (RFC 9112 §7.1: a recipient
# MUST be able to parse chunked), so the request after it is answered too.
# Where RFC 9110/9112 leaves a choice, every allowed answer is listed.
declare -A WANT=(
	[long-url]='414(\+close)?'
	[big-header]='431(\+close)?'
	[many-fields]='431(\+close)?'
	[fields-100]='200'
	[no-host-1.1]='400(\+close)?'
	[bad-host]='400(\+close)?'
	[two-hosts]='400(\+close)?'
	[no-host-1.0]='200(\+close)?'
	[cl-conflict]='400\+close'
	[cl-list-equal]='200|400\+close'
	[cl-negative]='400\+close'
	[cl-huge]='(400|413)\+close'
	[cl-and-te]='(400|501)\+close'
	[te-chunked]='200'
	[te-chunked-body]='200,200'
	[te-gzip]='501(\+close)?'
	[http-2.0]='505(\+close)?'
	[h2-preface]='(400|505)(\+close)?'
	[http-3.0]='505(\+close)?'
	[http-1.2]='200'
	[http-0.9]='(400|505)(\+close)?|closed'
	[space-before-colon]='400(\+close)?'
	[obs-fold]='400(\+close)?|200'
	[nul-in-field]='400(\+close)?|200'
	[bare-cr]='400(\+close)?|200'
	[bare-lf]='200|400(\+close)?'
	[lowercase-method]='(405|501)(\+close)?'
	[unknown-method]='(405|501)(\+close)?'
	[long-method]='(400|405|501)(\+close)?'
	[options-star]='(200|204|405|501)(\+close)?'
	[absolute-form]='200'
	[fragment]='400(\+close)?'
	[double-space]='400(\+close)?|200'
	[pct-bad]='400(\+close)?'
	[pct-nul]='(400|404)(\+close)?'
	[dotdot-raw]='(400|403|404)(\+close)?'
	[dotdot-inside]='200|400(\+close)?'
	[pipeline-3]='200,200,200'
	[get-with-body]='200,200'
	[post-then-get]='405,200'
	[close-then-more]='200\+close'
	[bad-connection]='400(\+close)?|200'
	[range-multi]='200|206'
	[range-bad-unit]='200'
	[range-reversed]='200|416'
	[empty-lines-first]='200|400(\+close)?'
	[ctl-in-target]='400(\+close)?'
	[head-then-get]='200,200'
	[head-404-then-get]='404,200'
)
usn_ns "$USN_PY" "$USN_HERE/http_probe.py" hostile "$USN_STACK_IP" 80 >"$USN_WORK/hostile.txt" 2>&1
[ "$ngx_ok" = 1 ] && usn_ns "$USN_PY" "$USN_HERE/http_probe.py" hostile "$USN_HOST_IP" "$NGX_PORT" \
	>"$USN_WORK/hostile-nginx.txt" 2>&1
for c in $("$USN_PY" "$USN_HERE/http_probe.py" list); do
	got=$(awk -v c="$c" '$1 == c { print $2 }' "$USN_WORK/hostile.txt")
	expect "httpd-raw-$c" "${WANT[$c]:-none}" "$got"
	ngx=$(awk -v c="$c" '$1 == c { print $2 }' "$USN_WORK/hostile-nginx.txt" 2>/dev/null)
	echo "$c $got ${ngx:--}" >>"$CMP"
done
if grep -q Traceback "$USN_WORK/hostile.txt"; then
	sed 's/^/    | /' "$USN_WORK/hostile.txt" | tail -n 8
fi
usn_info "hostile cases: $((SECONDS - T)) s"

# Slowloris: 50 connections trickle a header a byte every 2 s; curl must
# still be served quickly, and each slow one gets 408 and is closed within
# 15 s (HEADER_TIMEOUT 10 s, checked once a second).
T=$SECONDS
usn_ns "$USN_PY" "$USN_HERE/http_probe.py" slowloris "$USN_STACK_IP" 80 --conns 50 --interval 2 --max 25 \
	>"$USN_WORK/slowloris.txt" 2>&1 &
slow_pid=$!
usn_track "$slow_pid"
sleep 0.5
worst=0
bad=""
n=0
while [ $((SECONDS - T)) -lt 13 ]; do
	r=$(usn_ns curl -s --max-time 5 -o /dev/null -w '%{http_code} %{time_total}' "$URL/k4.bin")
	n=$((n + 1))
	[ "${r%% *}" = 200 ] || bad="$bad ${r%% *}"
	ms=$(awk -v t="${r#* }" 'BEGIN { printf "%d", t * 1000 }')
	[ "$ms" -gt "$worst" ] && worst=$ms
	sleep 0.3
done
expect httpd-slowloris-served "ok" "$([ -z "$bad" ] && [ "$worst" -lt 1000 ] && echo ok || echo "statuses:${bad:- all 200}, slowest ${worst} ms")" \
	"$n GETs during the slowloris, each 200 within 1 s"
wait "$slow_pid"
usn_untrack "$slow_pid"
read -r _ total _ conn _ n408 _ other _ closed _ first _ last <"$USN_WORK/slowloris.txt"
expect httpd-slowloris-408 "ok" "$(awk -v t="$total" -v c="$conn" -v g="$n408" -v o="$other" -v cl="$closed" -v l="$last" -v f="$first" \
	'BEGIN { if (c == t && g == t && cl == t && o == "-" && l <= 15 && f >= 9) print "ok"; else printf "%d connected, %d got 408, others %s, %d closed in %.1f..%.1f s", c, g, o, cl, f, l }')" \
	"$(cat "$USN_WORK/slowloris.txt")"
usn_info "slowloris: $(cat "$USN_WORK/slowloris.txt"), curl slowest $worst ms over $n GETs"

# ---- SIGHUP, the end state ----

# A file replaced in place (same size and mtime, new inode) is served new
# after SIGHUP.
cp "$SITE/k1.bin" "$USN_WORK/k1.old"
head -c 1000 /dev/urandom >"$SITE/k1.new"
touch -r "$USN_WORK/k1.old" "$SITE/k1.new"
mv "$SITE/k1.new" "$SITE/k1.bin"
kill -HUP "$HTTPD_PID"
sleep 0.3
o=$USN_WORK/curl/hup
code=$(usn_ns curl -sS --max-time 10 -o "$o.b" -w '%{http_code}' "$URL/k1.bin" 2>/dev/null)
cmp -s "$o.b" "$SITE/k1.bin" && res="$code new" || res="$code old"
expect httpd-sighup-reload "200 new" "$res"

if httpd_alive; then
	o=$USN_WORK/curl/final
	code=$(usn_ns curl -sS --max-time 10 -o "$o.b" -w '%{http_code}' "$URL/m1.bin" 2>/dev/null)
	cmp -s "$o.b" "$SITE/m1.bin" && res="$code same" || res="$code differs"
	expect httpd-final-get "200 same" "$res"
else
	usn_fail httpd-final-get "usnet-httpd died: $(tail -n 3 "$HTTPD_LOG" | tr '\n' ' ')"
fi

# Buffers back near the start once connections are gone (TIME-WAIT ones
# hold none): up to 20 s for lingering closes and timers.
buf=-1
for _ in $(seq 20); do
	httpd_alive || break
	httpd_counters "$USN_WORK/counters-end.txt" || break
	buf=$(gauge "$USN_WORK/counters-end.txt" BUFFERS_IN_USE)
	[ "$buf" -le $((BUF0 + 8)) ] && break
	sleep 1
done
open=$(sed -n 's/.*connections open \([0-9]*\).*/\1/p' "$USN_WORK/counters-end.txt" 2>/dev/null | tail -n 1)
expect httpd-buffers-baseline "ok" "$([ "$buf" -ge 0 ] && [ "$buf" -le $((BUF0 + 8)) ] && echo ok ||
	echo "BUFFERS_IN_USE $buf (start $BUF0), connections open ${open:-?}")"
# On DPDK with rx=pool (lib.sh's default) every frame was received into the
# pool's own slots: none copied.
if [ "$USN_LINK" = dpdk ] && [ "$USN_DPDK_RX" = pool ]; then
	rxf=$(usn_counter "$USN_WORK/counters-end.txt.parsed" DEV_RX_FRAMES)
	rxc=$(usn_raw_counter "$USN_WORK/counters-end.txt" DEV_RX_COPIED)
	expect httpd-dpdk-rx-pool "ok" "$([ "$rxf" -gt 1000 ] && [ "$rxc" -eq 0 ] && echo ok ||
		echo "DEV_RX_FRAMES $rxf, DEV_RX_COPIED $rxc: want frames received into the pool, none copied")"
fi
usn_info "end: $(grep -m1 '^usnet-httpd: requests' "$USN_WORK/counters-end.txt" 2>/dev/null)"
usn_info "end: BUFFERS_IN_USE $buf, TCP_CONNECTIONS $(gauge "$USN_WORK/counters-end.txt" TCP_CONNECTIONS)"

# Access log: flushed once a second; a line per answered request.
sleep 1.2
n=$(wc -l <"$USN_WORK/access.log" 2>/dev/null || echo 0)
line=$(grep -m1 '"GET /k4.bin HTTP/1.1" 200 4096 ' "$USN_WORK/access.log")
expect httpd-access-log "ok" "$([ "$n" -gt 25000 ] && [ -n "$line" ] && echo ok || echo "$n lines, GET /k4.bin line: ${line:-none}")"
# Half a million lines after wrk: kept compressed with the logs.
gzip -f "$USN_WORK/access.log" 2>/dev/null

# SIGTERM: exit status 0.
if httpd_alive; then
	kill -TERM "$HTTPD_PID"
	st=timeout
	for _ in $(seq 50); do
		kill -0 "$HTTPD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$HTTPD_PID" 2>/dev/null; then
		kill -KILL "$HTTPD_PID"
		wait "$HTTPD_PID" 2>/dev/null
	else
		wait "$HTTPD_PID"
		st=$?
	fi
	usn_untrack "$HTTPD_PID"
	HTTPD_PID=""
	expect httpd-sigterm-exit 0 "$st" "exit status"
else
	usn_fail httpd-sigterm-exit "usnet-httpd already gone"
fi

# How the payload went out with the offloads: bytes by reference (the
# device's writev is their only copy) and the CPU's checksum reads.
usn_info "with the device's offloads: payload bytes copied $(usn_counter "$USN_WORK/counters-end.txt.parsed" IP_TX_COPY_BYTES), by reference $(usn_counter "$USN_WORK/counters-end.txt.parsed" IP_TX_REF_BYTES), read to checksum $(usn_counter "$USN_WORK/counters-end.txt.parsed" TCP_CSUM_READ_BYTES)"

# ---- without the TAP's offloads ----

# USNET_OFFLOAD=0: no checksum offload, no TSO, so every segment is at
# most an MSS and its checksum is the stack's. File bodies must still go by
# reference, segment by segment, and be checksummed from the block sums the
# file cache keeps (usn_memref_sums), not by a pass over them; the kernel
# verifies every checksum (its TcpInCsumErrors must not move) and the bodies
# must arrive byte for byte, also when fetched a second time from the sums.
export USNET_OFFLOAD=0
if httpd_start; then
	unset USNET_OFFLOAD
	csum0=$(usn_ns nstat -az TcpInCsumErrors 2>/dev/null | awk '$1 == "TcpInCsumErrors" { print $2 }')
	bad=""
	body=0
	for round in 1 2; do
		for f in k1.bin k4.bin k64.bin m1.bin m10.bin "with space.txt" dir/file.txt; do
			o=$USN_WORK/curl/nooffload
			code=$(usn_ns curl -sS --max-time 60 -o "$o.b" -w '%{http_code}' "$URL/$(urlenc "$f")" 2>/dev/null)
			cmp -s "$o.b" "$SITE/$f" || bad="$bad $f(round $round, status $code)"
			body=$((body + $(stat -c %s "$SITE/$f")))
			rm -f "$o.b"
		done
	done
	expect httpd-nooffload-bodies "" "$bad" "bodies that differ"
	csum1=$(usn_ns nstat -az TcpInCsumErrors 2>/dev/null | awk '$1 == "TcpInCsumErrors" { print $2 }')
	httpd_counters "$USN_WORK/counters-nooffload.txt"
	P=$USN_WORK/counters-nooffload.txt.parsed
	cached=$(usn_counter "$P" TCP_CSUM_CACHED_BYTES)
	rd=$(usn_counter "$P" TCP_CSUM_READ_BYTES)
	ref=$(usn_counter "$P" IP_TX_REF_BYTES)
	cp=$(usn_counter "$P" IP_TX_COPY_BYTES)
	usn_info "without offloads: $body body bytes; payload copied $cp, by reference $ref; checksum from kept sums $cached, read $rd; kernel TcpInCsumErrors ${csum0:-?} -> ${csum1:-?}"
	# Bodies of at least 256 bytes go by reference (ZC_MIN_BYTES): all
	# but k1.bin's 1000 per round, less what one-segment small bodies
	# share with their header; their checksums from the sums save all
	# but the ragged ends (< 128 of every 1448) and each 4 KB chunk's
	# first summing.
	# On AF_XDP chains go out through its packet socket (dev_afxdp.c),
	# gathered there too; only with USNET_XDP_TX=xdp are they copied into
	# the UMEM, one slot per frame.
	if [ "$USN_LINK" = afxdp ] && [ "${USNET_XDP_TX:-}" = xdp ]; then
		usn_skip httpd-nooffload-zero-copy "USNET_XDP_TX=xdp: AF_XDP frames must be in the UMEM: bodies are copied into it"
	else
		expect httpd-nooffload-zero-copy "ok" "$(awk -v r="$ref" -v b="$body" 'BEGIN { if (r >= 0.95 * b) print "ok"; else printf "%d of %d body bytes by reference", r, b }')"
	fi
	expect httpd-nooffload-csum-cache "ok" "$(awk -v c="$cached" -v r="$rd" -v b="$body" 'BEGIN { if (c >= 0.85 * b && r <= 0.7 * b) print "ok"; else printf "%d of %d body bytes checksummed from kept sums, %d read", c, b, r }')"
	expect httpd-nooffload-kernel-csum "ok" "$([ -n "$csum0" ] && [ "$csum0" = "$csum1" ] && echo ok || echo "TcpInCsumErrors ${csum0:-?} -> ${csum1:-?}")"
	kill -TERM "$HTTPD_PID"
	wait "$HTTPD_PID"
	st=$?
	usn_untrack "$HTTPD_PID"
	HTTPD_PID=""
	expect httpd-nooffload-exit 0 "$st" "exit status"
else
	unset USNET_OFFLOAD
	usn_fail httpd-nooffload-bodies "$USN_REASON"
fi

# ---- the table ----

if [ "$ngx_ok" = 1 ]; then
	echo "  status codes, usnet-httpd vs nginx $(nginx -v 2>&1 | sed 's/.*\///') on the same tree ('*' differs):"
	awk '{ printf "    %-26s %-14s %-14s %s\n", $1, $2, $3, ($2 == $3 ? "" : "*") }' "$CMP"
	usn_pass httpd-nginx-table
else
	usn_skip httpd-nginx-table "nginx not installed"
fi
usn_finish
