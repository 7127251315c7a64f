#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""http_probe.py - raw HTTP/1.x requests that curl will not send, for
tests/interop/test-httpd.sh: malformed, oversized and ambiguous requests
(one named case per connection, each answered with the status codes read
back), and a slowloris client. Run inside the test's namespace. Speaks
plain sockets only; knows nothing of usnet. Not a test by itself: the
shell script decides what is right.

  http_probe.py hostile HOST PORT [CASE...]
      one line per case: "NAME STATUSES", STATUSES the status codes of the
      responses read, comma-separated, in order, or "closed" (the server
      closed without a response), "reset", "timeout" (nothing within 5 s),
      "junk" (bytes that are not an HTTP/1.x response); with "+close" when
      the server closed the connection after the last response.
  http_probe.py slowloris HOST PORT --conns N --interval S --max S
      N connections each send a request line and then one byte of a header
      field every S seconds, never ending the header block. Prints one line:
      "conns N connected C got408 K other LIST closed D first_s F last_s L"
      (times from each connection's first byte to the server's close).
"""
import argparse
import select
import socket
import sys
import time

H = b"Host: t\r\n"


def cases():
    """name -> (request bytes, responses to wait for[, indexes of the
    responses that answer HEAD])."""
    c = {}
    c["long-url"] = (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["big-header"] = (b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n", 1)
    c["many-fields"] = (b"GET / HTTP/1.1\r\n" + H +
                        b"".join(b"X-F%d: v\r\n" % i for i in range(101)) + b"\r\n", 1)
    c["fields-100"] = (b"GET / HTTP/1.1\r\n" + H +
                       b"".join(b"X-F%d: v\r\n" % i for i in range(99)) + b"\r\n", 1)
    c["no-host-1.1"] = (b"GET / HTTP/1.1\r\n\r\n", 1)
    c["bad-host"] = (b"GET / HTTP/1.1\r\nHost: bad host\r\n\r\n", 1)
    c["two-hosts"] = (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 1)
    c["no-host-1.0"] = (b"GET / HTTP/1.0\r\n\r\n", 1)
    c["cl-conflict"] = (b"GET / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 1)
    c["cl-list-equal"] = (b"GET / HTTP/1.1\r\n" + H + b"Content-Length: 5, 5\r\n\r\nhello", 1)
    c["cl-negative"] = (b"GET / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 1)
    c["cl-huge"] = (b"GET / HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999999\r\n\r\n", 1)
    c["cl-and-te"] = (b"GET / HTTP/1.1\r\n" + H +
                      b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1)
    c["te-chunked"] = (b"GET / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1)
    c["te-chunked-body"] = (b"GET / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
                            b"5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n"
                            b"GET / HTTP/1.1\r\n" + H + b"\r\n", 2)
    c["te-gzip"] = (b"GET / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\n", 1)
    c["http-2.0"] = (b"GET / HTTP/2.0\r\n" + H + b"\r\n", 1)
    c["h2-preface"] = (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 1)
    c["http-3.0"] = (b"GET / HTTP/3.0\r\n" + H + b"\r\n", 1)
    c["http-1.2"] = (b"GET / HTTP/1.2\r\n" + H + b"\r\n", 1)
    c["http-0.9"] = (b"GET /\r\n\r\n", 1)
    c["space-before-colon"] = (b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 1)
    c["obs-fold"] = (b"GET / HTTP/1.1\r\n" + H + b"X-A: a\r\n b\r\n\r\n", 1)
    c["nul-in-field"] = (b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 1)
    c["bare-cr"] = (b"GET / HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", 1)
    c["bare-lf"] = (b"GET / HTTP/1.1\n" + H.replace(b"\r", b"") + b"\n", 1)
    c["lowercase-method"] = (b"get / HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["unknown-method"] = (b"BREW / HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["long-method"] = (b"ABCDEFGHIJKLMNOPQRSTUVWXYZ / HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["options-star"] = (b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["absolute-form"] = (b"GET http://10.77.0.2/index.html HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["fragment"] = (b"GET /index.html#x HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["double-space"] = (b"GET  / HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["pct-bad"] = (b"GET /%zz HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["pct-nul"] = (b"GET /index.html%00.txt HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["dotdot-raw"] = (b"GET /../../etc/passwd HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["dotdot-inside"] = (b"GET /dir/../index.html HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["pipeline-3"] = ((b"GET /one.bin HTTP/1.1\r\n" + H + b"\r\n") * 3, 3)
    c["get-with-body"] = (b"GET /one.bin HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello" +
                          b"GET /one.bin HTTP/1.1\r\n" + H + b"\r\n", 2)
    c["post-then-get"] = (b"POST /one.bin HTTP/1.1\r\n" + H + b"Content-Length: 3\r\n\r\nabc" +
                          b"GET /one.bin HTTP/1.1\r\n" + H + b"\r\n", 2)
    c["close-then-more"] = (b"GET /one.bin HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n" +
                            b"GET /one.bin HTTP/1.1\r\n" + H + b"\r\n", 2)
    c["bad-connection"] = (b"GET / HTTP/1.1\r\n" + H + b"Connection: a b\r\n\r\n", 1)
    c["range-multi"] = (b"GET /k1.bin HTTP/1.1\r\n" + H + b"Range: bytes=0-1,5-6\r\n\r\n", 1)
    c["range-bad-unit"] = (b"GET /k1.bin HTTP/1.1\r\n" + H + b"Range: lines=0-1\r\n\r\n", 1)
    c["range-reversed"] = (b"GET /k1.bin HTTP/1.1\r\n" + H + b"Range: bytes=9-2\r\n\r\n", 1)
    c["empty-lines-first"] = (b"\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n", 1)
    c["ctl-in-target"] = (b"GET /a\x7fb HTTP/1.1\r\n" + H + b"\r\n", 1)
    # A HEAD answer carries no body: the GET after it must parse.
    c["head-then-get"] = (b"HEAD /k1.bin HTTP/1.1\r\n" + H + b"\r\n" +
                          b"GET /one.bin HTTP/1.1\r\n" + H + b"\r\n", 2, {0})
    c["head-404-then-get"] = (b"HEAD /nope HTTP/1.1\r\n" + H + b"\r\n" +
                              b"GET /one.bin HTTP/1.1\r\n" + H + b"\r\n", 2, {0})
    return c


def read_responses(sock, want, heads=(), timeout=5.0):
    """Reads up to `want` responses (those whose index is in `heads` answer
    a HEAD: no body); returns (statuses, how it ended)."""
    buf = b""
    out = []
    deadline = time.monotonic() + timeout
    ended = None
    while True:
        # Parse whatever complete responses are in buf.
        while len(out) < want:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end].decode("latin-1")
            lines = head.split("\r\n")
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
                return out + ["junk"], "junk"
            status = int(parts[1])
            clen = 0
            for ln in lines[1:]:
                k, _, v = ln.partition(":")
                if k.strip().lower() == "content-length":
                    clen = int(v.strip())
            # Bodies of responses to HEAD and of 1xx/204/304 are empty; no
            # case here sends HEAD.
            if status in (204, 304) or status < 200 or len(out) in heads:
                clen = 0
            if len(buf) < end + 4 + clen:
                break
            buf = buf[end + 4 + clen:]
            out.append(str(status))
        if len(out) >= want:
            # Did the server close after the last one? Wait briefly.
            r, _, _ = select.select([sock], [], [], 0.5)
            if r:
                try:
                    d = sock.recv(65536)
                except ConnectionResetError:
                    return out, "close"
                if not d:
                    return out, "close"
                buf += d
                continue
            return out, None
        left = deadline - time.monotonic()
        if left <= 0:
            ended = "timeout"
            break
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            ended = "timeout"
            break
        try:
            d = sock.recv(65536)
        except ConnectionResetError:
            ended = "reset"
            break
        if not d:
            ended = "closed"
            break
        buf += d
    if buf and not out:
        return ["junk"], ended
    return out, ended


def hostile(host, port, names):
    all_cases = cases()
    for name in names or list(all_cases):
        req, want = all_cases[name][:2]
        heads = all_cases[name][2] if len(all_cases[name]) > 2 else ()
        s = socket.create_connection((host, port), timeout=5)
        try:
            s.sendall(req)
        except (BrokenPipeError, ConnectionResetError):
            pass
        statuses, ended = read_responses(s, want, heads)
        s.close()
        if statuses:
            res = ",".join(statuses)
            if ended in ("close", "closed", "reset"):
                res += "+close"
        else:
            res = ended or "closed"
        print(name, res, flush=True)
    return 0


def slowloris(host, port, n, interval, max_s):
    socks = []
    first = {}
    for i in range(n):
        try:
            s = socket.create_connection((host, port), timeout=5)
        except OSError:
            continue
        s.setblocking(False)
        socks.append(s)
    # The request line and the start of a field, then a byte at a time.
    trickle = b"X-Slow: " + b"z" * 10000
    pos = {}
    for s in socks:
        s.send(b"GET /index.html HTTP/1.1\r\nHost: t\r\n")
        first[s] = time.monotonic()
        pos[s] = 0
    got = {}
    closed = {}
    bufs = {s: b"" for s in socks}
    start = time.monotonic()
    next_send = start + interval
    while len(closed) < len(socks) and time.monotonic() - start < max_s:
        open_socks = [s for s in socks if s not in closed]
        r, _, _ = select.select(open_socks, [], [], 0.2)
        now = time.monotonic()
        for s in r:
            try:
                d = s.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                d = b""
            if not d:
                closed[s] = now - first[s]
                continue
            bufs[s] += d
            if s not in got and b"\r\n" in bufs[s]:
                line = bufs[s].split(b"\r\n", 1)[0].split(b" ")
                got[s] = line[1].decode("latin-1") if len(line) > 1 else "junk"
        if now >= next_send:
            next_send = now + interval
            for s in socks:
                if s in closed or s in got:
                    continue
                try:
                    s.send(trickle[pos[s]:pos[s] + 1])
                    pos[s] += 1
                except OSError:
                    pass
    n408 = sum(1 for v in got.values() if v == "408")
    other = sorted(set(v for v in got.values() if v != "408"))
    ts = sorted(closed.values())
    print("conns %d connected %d got408 %d other %s closed %d first_s %.1f last_s %.1f" %
          (n, len(socks), n408, ",".join(other) or "-", len(closed),
           ts[0] if ts else -1, ts[-1] if ts else -1), flush=True)
    for s in socks:
        s.close()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hostile")
    h.add_argument("host")
    h.add_argument("port", type=int)
    h.add_argument("case", nargs="*")
    sl = sub.add_parser("slowloris")
    sl.add_argument("host")
    sl.add_argument("port", type=int)
    sl.add_argument("--conns", type=int, default=50)
    sl.add_argument("--interval", type=float, default=2.0)
    sl.add_argument("--max", type=float, default=25.0)
    sub.add_parser("list")
    a = ap.parse_args()
    if a.cmd == "list":
        print(" ".join(cases()))
        return 0
    if a.cmd == "hostile":
        return hostile(a.host, a.port, a.case)
    return slowloris(a.host, a.port, a.conns, a.interval, a.max)


if __name__ == "__main__":
    sys.exit(main())
