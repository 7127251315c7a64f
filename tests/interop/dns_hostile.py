#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""dns_hostile.py - raw DNS messages that dig will not send, for
tests/interop/test-dnsd.sh: malformed and hostile queries over UDP and TCP,
several queries on one TCP connection, an idle TCP connection, a query flood
for response rate limiting, and zone-transfer queries. Run inside the test's
namespace; standard library only; speaks plain sockets and knows nothing of
usnet. Not a test by itself: the shell script decides what is right, from
the verdicts printed here. Refuses to send outside 10.77.0.0/24.

  dns_hostile.py hostile [--port 53] [--seed 1] [--wait 1] HOST [CASE...]
      one line per case: "CASE ok|bad DETAIL". DETAIL is what came back:
      "dropped" (nothing within the wait), "closed" (TCP: the server closed
      without answering), or "RCODE flags=.. qd=N an=N ns=N ar=N" of the
      answer. A malformed message must be dropped or answered FORMERR (with
      its ID and QR=1); a well-formed but odd one must get the answer NSD
      4.6.1 gives (its RCODE is named in the case). Each case goes once over
      UDP and once over TCP (udp/NAME, tcp/NAME); then, without CASEs, the
      TCP framing cases (tcp/prefix-64k-short...), seeded random and mutated
      datagrams (udp/random-150, udp/mutated-300: every answer a DNS message
      with QR=1 and an ID that was sent), and last "after ok|bad ...", a
      normal query that must still be answered right.
  dns_hostile.py list
      "CASE EXPECTATION" for each case of both transports sent by "hostile"
      (the TCP-only and random cases are not listed).
  dns_hostile.py tcp HOST [--port 53]
      several queries on one TCP connection (one after another, pipelined in
      one write, the length prefix split across writes, one byte a write,
      half-closed, 50 pipelined) and a large answer over TCP: "CASE ok|bad
      DETAIL" per case.
  dns_hostile.py idle HOST [--port 53] [--max 20]
      a TCP connection that sends nothing, and one that sends a query and
      then nothing: "idle-silent SECONDS closed|open" and "idle-after-query
      SECONDS closed|open" (how long until the server closed it).
  dns_hostile.py flood HOST [--port 53] [--count 200] [--name N] [--wait 1]
      COUNT queries for NAME as fast as one socket sends them, then reads
      for WAIT seconds: "sent N full N slipped N other N silent N" (full:
      answered with records; slipped: TC=1 with empty sections).
  dns_hostile.py query HOST PORT NAME TYPE [--tcp] [--class IN] [--serial N]
      one query made here (used for AXFR and IXFR, which dig reports only
      as "Transfer failed"): "RCODE flags=.. qd=N an=N ns=N ar=N" and the
      records, or "dropped"/"closed".
"""
import argparse
import random
import select
import socket
import struct
import sys
import threading
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "HINFO": 13, "MX": 15, "TXT": 16,
         "RP": 17, "AAAA": 28, "SRV": 33, "OPT": 41, "DS": 43, "RRSIG": 46, "NSEC": 47,
         "DNSKEY": 48, "CAA": 257, "IXFR": 251, "AXFR": 252, "ANY": 255}
CLASSES = {"IN": 1, "CH": 3, "HS": 4, "NONE": 254, "ANY": 255}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
          6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 16: "BADVERS"}
FLAGS = [(15, "qr"), (10, "aa"), (9, "tc"), (8, "rd"), (7, "ra"), (6, "z"), (5, "ad"), (4, "cd")]


def guard(host):
    if not host.startswith("10.77.0."):
        print("refusing to send outside 10.77.0.0/24", file=sys.stderr)
        sys.exit(2)


# ---- wire format ----

def type_code(t):
    t = t.upper()
    if t in TYPES:
        return TYPES[t]
    if t.startswith("TYPE"):
        return int(t[4:])
    raise ValueError("unknown type " + t)


def class_code(c):
    c = c.upper()
    if c in CLASSES:
        return CLASSES[c]
    if c.startswith("CLASS"):
        return int(c[5:])
    raise ValueError("unknown class " + c)


def wire_name(name):
    """Uncompressed wire form of a dotted name ("." or "" is the root)."""
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            b = label.encode()
            out += bytes([len(b)]) + b
    return out + b"\0"


def header(qid=0x1234, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def opt_rr(size=1232, version=0, do=False, options=b"", owner=b"\0", rdlen=None, ext_rcode=0):
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    return owner + struct.pack("!HHIH", 41, size, ttl, len(options) if rdlen is None else rdlen) + options


def query(name, qtype="A", qclass="IN", qid=0x1234, flags=0, edns=True, ar_extra=b"", arcount=None):
    q = wire_name(name) + struct.pack("!HH", type_code(qtype) if isinstance(qtype, str) else qtype,
                                      class_code(qclass) if isinstance(qclass, str) else qclass)
    extra = (opt_rr() if edns else b"") + ar_extra
    ar = (1 if edns else 0) if arcount is None else arcount
    return header(qid, flags, 1, 0, 0, ar) + q + extra


def read_name(msg, off):
    """(dotted name, offset after it); raises ValueError on a bad name."""
    labels = []
    jumped = False
    end = None
    hops = 0
    while True:
        if off >= len(msg):
            raise ValueError("name runs past the end")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise ValueError("pointer runs past the end")
            ptr = ((n & 0x3F) << 8) | msg[off + 1]
            if not jumped:
                end = off + 2
            jumped = True
            hops += 1
            if hops > 64 or ptr >= len(msg):
                raise ValueError("bad pointer")
            off = ptr
            continue
        if n & 0xC0:
            raise ValueError("bad label type")
        off += 1
        if n == 0:
            break
        if off + n > len(msg):
            raise ValueError("label runs past the end")
        labels.append(msg[off:off + n].decode("latin-1"))
        off += n
    return ".".join(labels) + ".", (end if jumped else off)


def parse(msg):
    """A dict of the message's header and records; raises ValueError."""
    if len(msg) < 12:
        raise ValueError("short message (%d bytes)" % len(msg))
    qid, fl, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    r = {"id": qid, "flags": fl, "opcode": (fl >> 11) & 15, "rcode": fl & 15,
         "counts": (qd, an, ns, ar), "question": [], "sections": [[], [], []], "opt": None, "len": len(msg)}
    off = 12
    for _ in range(qd):
        name, off = read_name(msg, off)
        if off + 4 > len(msg):
            raise ValueError("question runs past the end")
        t, c = struct.unpack("!HH", msg[off:off + 4])
        off += 4
        r["question"].append((name, t, c))
    for sec, n in enumerate((an, ns, ar)):
        for _ in range(n):
            name, off = read_name(msg, off)
            if off + 10 > len(msg):
                raise ValueError("record runs past the end")
            t, c, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10
            if off + rdlen > len(msg):
                raise ValueError("rdata runs past the end")
            rd = msg[off:off + rdlen]
            off += rdlen
            if t == 41:
                r["opt"] = {"size": c, "ext_rcode": ttl >> 24, "version": (ttl >> 16) & 255,
                            "do": bool(ttl & 0x8000), "rdata": rd}
                r["rcode"] |= (ttl >> 24) << 4
            else:
                r["sections"][sec].append((name, t, c, ttl, rd))
    if off != len(msg):
        raise ValueError("%d bytes after the last record" % (len(msg) - off))
    return r


def rcode_name(rc):
    return RCODES.get(rc, "RCODE%d" % rc)


def summary(r):
    fl = " ".join(n for bit, n in FLAGS if r["flags"] & (1 << bit))
    s = "%s flags=%s qd=%d an=%d ns=%d ar=%d" % ((rcode_name(r["rcode"]), fl.replace(" ", ",") or "-")
                                                 + r["counts"])
    if r["opcode"]:
        s += " opcode=%d" % r["opcode"]
    return s


def describe(data):
    """One word or a summary of a response's bytes."""
    if data is None:
        return "dropped"
    if data == b"":
        return "closed"
    try:
        return summary(parse(data))
    except ValueError as e:
        return "junk(%s, %d bytes)" % (e, len(data))


# ---- transports ----

def udp_exchange(host, port, msg, wait=1.0):
    """The answer to one datagram, or None (nothing within WAIT, or an
    ICMP error)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((host, port))
        s.send(msg)
        s.settimeout(wait)
        return s.recv(65535)
    except OSError:
        return None
    finally:
        s.close()


def recv_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        s.settimeout(left)
        b = s.recv(n - len(buf))
        if not b:
            raise EOFError(len(buf))
        buf += b
    return buf


def tcp_read_msg(s, deadline):
    """One framed message; None on timeout, b"" when the server closed."""
    try:
        n = struct.unpack("!H", recv_exact(s, 2, deadline))[0]
        return recv_exact(s, n, deadline)
    except socket.timeout:
        return None
    except (EOFError, ConnectionResetError):
        return b""


def tcp_connect(host, port, timeout=3.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def tcp_exchange(host, port, raw, wait=1.0):
    """Sends RAW (already framed, or not: the caller decides) and reads one
    framed answer."""
    try:
        s = tcp_connect(host, port)
    except OSError as e:
        return "connect failed: %s" % e
    try:
        try:
            s.sendall(raw)
        except OSError:
            return b""
        return tcp_read_msg(s, time.monotonic() + wait)
    finally:
        s.close()


def frame(msg):
    return struct.pack("!H", len(msg)) + msg


# ---- hostile cases ----

QNAME = "www.example.com"
Q_TAIL = struct.pack("!HH", 1, 1)


def hostile_cases():
    """name -> (message bytes, expectation). An expectation lists what is
    right, "|" between alternatives: "drop" (no answer at all; over TCP a
    close counts too), "formerr" (short for "drop|FORMERR"), RCODE names.
    Where it names an RCODE of a well-formed query, that is what NSD 4.6.1
    answers. A pair is (over UDP, over TCP)."""
    www = wire_name(QNAME)
    c = {}
    c["empty"] = (b"", "drop")
    c["one-byte"] = (b"\x12", "drop")
    c["header-11"] = (header()[:11], "drop")
    c["header-only-qd0"] = (header(qd=0), "formerr")
    c["header-only-qd1"] = (header(qd=1), "formerr")
    c["qr-set"] = (header(0x5151, 0x8000) + www + Q_TAIL, "drop")
    c["qr-set-garbage"] = (header(0x5152, 0x8000, 7, 7, 7, 7) + b"\xff" * 20, "drop")
    c["qd0-with-question"] = (header(qd=0) + www + Q_TAIL, "formerr")
    c["qd2"] = (header(qd=2) + www + Q_TAIL + wire_name("example.com") + Q_TAIL, "formerr")
    c["qd2-same"] = (header(qd=2) + www + Q_TAIL + www + Q_TAIL, "formerr")
    c["qd-large"] = (header(qd=40) + www + Q_TAIL, "formerr")
    c["an-count-past-end"] = (header(an=5) + www + Q_TAIL, "formerr")
    c["ns-count-past-end"] = (header(ns=1) + www + Q_TAIL, "formerr")
    c["ar-count-past-end"] = (header(ar=3) + www + Q_TAIL, "formerr")
    c["ptr-self"] = (header() + b"\xc0\x0c" + Q_TAIL, "formerr")
    c["ptr-loop-2"] = (header() + b"\x01a\xc0\x0e\xc0\x0c" + Q_TAIL, "formerr")
    c["ptr-forward"] = (header() + b"\xc0\x12" + Q_TAIL + www, "formerr")
    c["ptr-into-header"] = (header() + b"\x03www\xc0\x02" + Q_TAIL, "formerr")
    c["ptr-past-end"] = (header() + b"\x03www\xc3\xff" + Q_TAIL, "formerr")
    c["ptr-truncated"] = (header() + b"\x03www\xc0", "formerr")
    c["label-past-end"] = (header() + b"\x03www\x3fexample", "formerr")
    c["label-no-root"] = (header() + b"\x03www\x07example\x03com", "formerr")
    c["label-0x40"] = (header() + b"\x03www\x40" + b"x" * 64 + b"\0" + Q_TAIL, "formerr")
    c["label-0x41-ext"] = (header() + b"\x41\x00\x00" + Q_TAIL, "formerr")
    c["label-0x80"] = (header() + b"\x03www\x80\x01x\0" + Q_TAIL, "formerr")
    c["label-0x80-bits"] = (header() + b"\x81\x01x\0" + Q_TAIL, "formerr")
    long_name = b"".join(bytes([63]) + bytes([0x61 + i]) * 63 for i in range(4)) + b"\0"  # 257 bytes
    c["name-257"] = (header() + long_name + Q_TAIL, "formerr")
    n256 = b"".join(bytes([63]) + bytes([0x61 + i]) * 63 for i in range(3)) + b"\x3e" + b"d" * 62 + b"\0"
    c["name-256"] = (header() + n256 + Q_TAIL, "formerr")
    n255 = b"".join(bytes([63]) + bytes([0x61 + i]) * 63 for i in range(3)) + b"\x3d" + b"d" * 61 + b"\0"
    assert len(n255) == 255 and len(n256) == 256 and len(long_name) == 257
    c["name-255"] = (header() + n255 + Q_TAIL, "REFUSED")
    c["name-long-by-ptr"] = (header(qd=1) + b"\x3f" + b"a" * 63 + b"\x3f" + b"b" * 63 + b"\xc0\x0c" + Q_TAIL,
                             "formerr")
    c["no-qtype"] = (header() + www, "formerr")
    c["half-qtype"] = (header() + www + b"\x00", "formerr")
    c["no-qclass"] = (header() + www + b"\x00\x01", "formerr")
    c["half-qclass"] = (header() + www + b"\x00\x01\x00", "formerr")
    c["trailing-byte"] = (header() + www + Q_TAIL + b"\x00", "formerr|NOERROR")
    c["trailing-junk"] = (header() + www + Q_TAIL + b"junk" * 10, "formerr|NOERROR")
    c["opt-two"] = (header(ar=2) + www + Q_TAIL + opt_rr() + opt_rr(), "formerr")
    c["opt-owner-not-root"] = (header(ar=1) + www + Q_TAIL + opt_rr(owner=b"\x01a\0"), "formerr")
    c["opt-option-overrun"] = (header(ar=1) + www + Q_TAIL +
                               opt_rr(options=struct.pack("!HH", 10, 20) + b"12345678"), "formerr")
    c["opt-option-half-header"] = (header(ar=1) + www + Q_TAIL + opt_rr(options=b"\x00\x0a\x00"), "formerr")
    c["opt-rdlen-past-end"] = (header(ar=1) + www + Q_TAIL + opt_rr(options=b"\0\0\0\0", rdlen=40), "formerr")
    c["opt-truncated"] = (header(ar=1) + www + Q_TAIL + opt_rr()[:7], "formerr")
    c["opt-in-answer"] = (header(an=1) + www + Q_TAIL + opt_rr(), "formerr")
    rr_a = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + b"\xc0\x00\x02\x01"
    c["record-in-answer"] = (header(an=1) + www + Q_TAIL + rr_a, "formerr")
    c["record-in-authority"] = (header(ns=1) + www + Q_TAIL + rr_a, "formerr|NOERROR")
    c["record-in-additional"] = (header(ar=1) + www + Q_TAIL + rr_a, "formerr|NOERROR")
    # Well formed but odd: answered as NSD 4.6.1 answers them.
    c["edns-version-1"] = (header(ar=1) + www + Q_TAIL + opt_rr(version=1), "BADVERS")
    c["edns-unknown-option"] = (header(ar=1) + www + Q_TAIL +
                                opt_rr(options=struct.pack("!HH", 65001, 2) + b"hi"), "NOERROR")
    c["edns-size-0"] = (header(ar=1) + www + Q_TAIL + opt_rr(size=0), "NOERROR")
    c["edns-ext-rcode"] = (header(ar=1) + www + Q_TAIL + opt_rr(ext_rcode=1), "NOERROR")
    c["opcode-iquery"] = (header(flags=1 << 11) + www + Q_TAIL, "NOTIMP")
    c["opcode-status"] = (header(flags=2 << 11) + www + Q_TAIL, "NOTIMP")
    c["opcode-3"] = (header(flags=3 << 11) + www + Q_TAIL, "NOTIMP")
    c["opcode-notify"] = (header(flags=4 << 11 | 0x0400) + wire_name("example.com") + struct.pack("!HH", 6, 1),
                          "REFUSED")
    c["opcode-update"] = (header(flags=5 << 11) + wire_name("example.com") + struct.pack("!HH", 6, 1), "NOTIMP")
    c["opcode-15"] = (header(flags=15 << 11) + www + Q_TAIL, "NOTIMP")
    c["qtype-0"] = (header() + www + struct.pack("!HH", 0, 1), "NOERROR")
    c["qtype-opt"] = (header() + www + struct.pack("!HH", 41, 1), "NOERROR")
    c["qtype-rrsig"] = (header() + www + struct.pack("!HH", 46, 1), "NOERROR")
    c["qtype-maila"] = (header() + www + struct.pack("!HH", 254, 1), "NOERROR")
    c["qtype-mailb"] = (header() + www + struct.pack("!HH", 253, 1), "NOERROR")
    c["qtype-tkey"] = (header() + www + struct.pack("!HH", 249, 1), "NOERROR")
    c["qtype-axfr"] = (header() + wire_name("example.com") + struct.pack("!HH", 252, 1), ("NOTIMP", "REFUSED"))
    c["qtype-ixfr-no-soa"] = (header() + wire_name("example.com") + struct.pack("!HH", 251, 1), "REFUSED")
    c["qclass-0"] = (header() + www + struct.pack("!HH", 1, 0), "REFUSED")
    c["qclass-none"] = (header() + www + struct.pack("!HH", 1, 254), "REFUSED")
    c["qclass-any"] = (header() + www + struct.pack("!HH", 1, 255), "NOERROR")
    c["qclass-ch"] = (header() + www + struct.pack("!HH", 1, 3), "REFUSED")
    c["tc-in-query"] = (header(flags=0x0200) + www + Q_TAIL, "NOERROR")
    c["z-bit-in-query"] = (header(flags=0x0040) + www + Q_TAIL, "NOERROR")
    c["rcode-in-query"] = (header(flags=0x0005) + www + Q_TAIL, "FORMERR")
    c["aa-ra-ad-cd-in-query"] = (header(flags=0x04b0) + www + Q_TAIL, "NOERROR")
    c["root-name"] = (header() + b"\0" + Q_TAIL, "REFUSED")
    c["binary-label"] = (header() + b"\x04\x00\xff.\x07\x07example\x03com\0" + Q_TAIL, "NXDOMAIN")
    return c


def expect_ok(expect, query_msg, data):
    """(ok?, detail) for one response (None: nothing came back, b"": the
    connection was closed without an answer)."""
    detail = describe(data)
    want = set()
    for w in expect.split("|"):
        want |= {"drop", "FORMERR"} if w == "formerr" else {w}
    if data is None or data == b"":
        return "drop" in want, detail + ("" if "drop" in want else " (want an answer)")
    if want == {"drop"}:
        return False, detail + " (must get no answer)"
    try:
        r = parse(data)
    except ValueError:
        return False, detail
    qid = struct.unpack("!H", query_msg[:2])[0] if len(query_msg) >= 2 else None
    why = []
    if not r["flags"] & 0x8000:
        why.append("QR=0")
    if qid is not None and r["id"] != qid:
        why.append("id %#x, sent %#x" % (r["id"], qid))
    if rcode_name(r["rcode"]) not in want:
        why.append("want " + "|".join(sorted(want)).replace("drop", "dropped"))
    return not why, detail + ("" if not why else " (" + ", ".join(why) + ")")


def case_expect(exp, transport):
    if isinstance(exp, tuple):
        return exp[0] if transport == "udp" else exp[1]
    return exp


def run_hostile(a):
    cases = hostile_cases()
    names = a.cases or list(cases)
    results = {}
    lock = threading.Lock()

    def one_udp(n):
        msg, _ = cases[n]
        d = udp_exchange(a.host, a.port, msg, wait=a.wait)
        with lock:
            results["udp/" + n] = d

    def one_tcp(n):
        msg, _ = cases[n]
        d = tcp_exchange(a.host, a.port, frame(msg), wait=a.wait)
        with lock:
            results["tcp/" + n] = d

    threads = []
    for n in names:
        if n not in cases:
            continue
        threads.append(threading.Thread(target=one_udp, args=(n,)))
        # A zero-length TCP message is the prefix alone; the others framed.
        threads.append(threading.Thread(target=one_tcp, args=(n,)))
    # A few at a time: the point is the messages, not a connection flood.
    for i in range(0, len(threads), 16):
        for t in threads[i:i + 16]:
            t.start()
        for t in threads[i:i + 16]:
            t.join()
    bad = 0
    for n in names:
        if n not in cases:
            continue
        msg, exp = cases[n]
        for tr in ("udp", "tcp"):
            d = results.get(tr + "/" + n)
            if isinstance(d, str):
                ok, det = False, d
            else:
                ok, det = expect_ok(case_expect(exp, tr), msg, d)
            bad += not ok
            print("%s/%s %s %s" % (tr, n, "ok" if ok else "bad", det), flush=True)
    if not a.cases:
        try:
            bad += tcp_hostile(a)
        except OSError as e:
            bad += 1
            print("tcp/framing bad socket error: %s" % e, flush=True)
        bad += random_cases(a)
    ok, det = normal_query(a.host, a.port)
    print("after %s %s" % ("ok" if ok else "bad", det), flush=True)
    return 0 if not bad and ok else 1


def tcp_hostile(a):
    """Cases only TCP has: framing lies. Returns how many went bad."""
    bad = 0
    q = query(QNAME, qid=0x7777)

    def report(name, ok, det):
        nonlocal bad
        bad += not ok
        print("tcp/%s %s %s" % (name, "ok" if ok else "bad", det), flush=True)

    def conn():
        return tcp_connect(a.host, a.port)

    # A 64 KB length prefix with only 100 bytes behind it: nothing to
    # answer; the server must wait (or close), not read past the bytes.
    s = conn()
    s.sendall(b"\xff\xff" + q + b"\0" * (100 - len(q)))
    d = tcp_read_msg(s, time.monotonic() + a.wait)
    s.close()
    ok, det = expect_ok("drop", q, d)
    report("prefix-64k-short", ok, det)
    # A zero-length message, then a good query on the same connection.
    s = conn()
    s.sendall(b"\0\0" + frame(q))
    d = tcp_read_msg(s, time.monotonic() + a.wait)
    s.close()
    ok, det = expect_ok("drop|NOERROR", q, d)
    report("zero-length-then-query", ok, det)
    # A 65535-byte message: a good query and 65K of trailing junk.
    big = q + b"\xab" * (65535 - len(q))
    s = conn()
    try:
        s.sendall(frame(big))
        d = tcp_read_msg(s, time.monotonic() + a.wait * 2)
    except OSError:
        d = b""
    s.close()
    ok, det = expect_ok("formerr|NOERROR", big, d)
    report("oversized-65535", ok, det)
    # The prefix says 65535 and what follows looks like framed queries: it
    # is one message all the same (answered as the junk it is, or dropped),
    # and the framed query after it is the next message.
    junk = (frame(q) * 3000)[:65535]
    s = conn()
    try:
        s.sendall(frame(junk) + frame(q))
        d1 = tcp_read_msg(s, time.monotonic() + a.wait * 2)
        d2 = tcp_read_msg(s, time.monotonic() + a.wait) if d1 else d1
    except OSError:
        d1 = d2 = b""
    s.close()
    ok1, det1 = expect_ok("drop|FORMERR|NOTIMP|REFUSED|NOERROR|NXDOMAIN", junk, d1)
    ok2 = d2 in (None, b"") or (parse_ok(d2) and parse(d2)["id"] == 0x7777)
    report("prefix-swallows-queries", ok1 and ok2, det1 + " then " + describe(d2))
    # A query with QR=1 gets nothing, and the connection goes on.
    s = conn()
    s.sendall(frame(header(0x5151, 0x8000) + wire_name(QNAME) + Q_TAIL) + frame(q))
    d = tcp_read_msg(s, time.monotonic() + a.wait)
    s.close()
    ok = d is not None and d != b"" and parse_ok(d) and parse(d)["id"] == 0x7777
    report("qr-set-then-query", ok or d == b"", describe(d) + ("" if ok or d == b"" else " (want the second query's answer)"))
    # FORMERR and then a good query on the same connection.
    s = conn()
    s.sendall(frame(header(0x6161, 0, 2) + wire_name(QNAME) + Q_TAIL) + frame(q))
    d1 = tcp_read_msg(s, time.monotonic() + a.wait)
    d2 = tcp_read_msg(s, time.monotonic() + a.wait) if d1 not in (None, b"") else d1
    s.close()
    ok = (d1 is not None and d1 != b"" and parse_ok(d1) and rcode_name(parse(d1)["rcode"]) == "FORMERR"
          and d2 is not None and d2 != b"" and parse_ok(d2) and parse(d2)["id"] == 0x7777)
    report("formerr-then-query", ok or d1 == b"" or d2 == b"", describe(d1) + " then " + describe(d2))
    # The connection reset by the client in the middle of a message.
    s = conn()
    s.sendall(frame(q)[:9])
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    report("reset-mid-message", True, "sent")
    return bad


def parse_ok(d):
    try:
        parse(d)
        return True
    except ValueError:
        return False


def random_cases(a):
    """Seeded random bytes and mutations of a good query, over UDP: every
    answer must be a DNS message with QR=1 and an ID that was sent."""
    rnd = random.Random(a.seed)
    base = query(QNAME, qid=0)
    msgs = []
    for i in range(150):
        msgs.append(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 120))))
    for i in range(300):
        m = bytearray(base)
        for _ in range(rnd.randint(1, 4)):
            m[rnd.randrange(len(m))] = rnd.getrandbits(8)
        if rnd.random() < 0.2:
            m = m[:rnd.randrange(len(m))]
        msgs.append(bytes(m))
    bad = 0
    for kind, part in (("random", msgs[:150]), ("mutated", msgs[150:])):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((a.host, a.port))
        ids = set()
        for m in part:
            if len(m) >= 2:
                ids.add(m[:2])
            try:
                s.send(m)
            except OSError:
                pass
            time.sleep(0.002)
        got = []
        deadline = time.monotonic() + a.wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            try:
                got.append(s.recv(65535))
            except OSError:
                break
        s.close()
        wrong = []
        rcodes = {}
        for d in got:
            try:
                r = parse(d)
            except ValueError as e:
                wrong.append("junk " + str(e))
                continue
            if not r["flags"] & 0x8000 or d[:2] not in ids:
                wrong.append("QR=0 or unknown id")
            rcodes[rcode_name(r["rcode"])] = rcodes.get(rcode_name(r["rcode"]), 0) + 1
        bad += bool(wrong)
        print("udp/%s-%d %s sent %d, answered %d (%s)%s" % (
            kind, len(part), "bad" if wrong else "ok", len(part), len(got),
            " ".join("%s:%d" % kv for kv in sorted(rcodes.items())) or "none",
            "; " + ", ".join(wrong[:3]) if wrong else ""), flush=True)
    return bad


def normal_query(host, port):
    """www.example.com A must be answered: NOERROR, AA, 192.0.2.80 and .81."""
    q = query(QNAME, qid=0x2468)
    d = udp_exchange(host, port, q, wait=2.0)
    if d is None:
        return False, "no answer to www.example.com A"
    try:
        r = parse(d)
    except ValueError as e:
        return False, "junk: %s" % e
    addrs = sorted(socket.inet_ntoa(rd) for n, t, c, ttl, rd in r["sections"][0] if t == 1)
    ok = r["rcode"] == 0 and r["flags"] & 0x0400 and addrs == ["192.0.2.80", "192.0.2.81"]
    return bool(ok), summary(r) + " A " + ",".join(addrs)


# ---- several queries on one TCP connection ----

def expect_answers(s, qs, deadline):
    """Reads len(qs) framed answers, in any order; '' when all match."""
    want = {struct.unpack("!H", q[:2])[0]: q for q in qs}
    seen = []
    for _ in qs:
        d = tcp_read_msg(s, deadline)
        if d is None:
            return "timeout after %d of %d answers" % (len(seen), len(qs))
        if d == b"":
            return "closed after %d of %d answers" % (len(seen), len(qs))
        try:
            r = parse(d)
        except ValueError as e:
            return "junk answer: %s" % e
        if r["id"] not in want:
            return "answer with unknown id %#x" % r["id"]
        qn = want.pop(r["id"])
        name = read_name(qn, 12)[0].lower()
        if not r["question"] or r["question"][0][0].lower() != name:
            return "answer %#x for another question" % r["id"]
        seen.append(rcode_name(r["rcode"]))
    return ""


def run_tcp(a):
    qs = [query("www.example.com", "A", qid=0x0101), query("nope.example.com", "A", qid=0x0102),
          query("example.com", "SOA", qid=0x0103)]
    bad = 0

    def report(name, why):
        nonlocal bad
        bad += bool(why)
        print("%s %s %s" % (name, "bad" if why else "ok", why or "all answered"), flush=True)

    def attempt(name, fn):
        try:
            s = tcp_connect(a.host, a.port)
        except OSError as e:
            report(name, "connect: %s" % e)
            return
        try:
            report(name, fn(s))
        except OSError as e:
            report(name, "socket error: %s" % e)
        finally:
            s.close()

    def seq(s):
        for q in qs:
            s.sendall(frame(q))
            why = expect_answers(s, [q], time.monotonic() + 3)
            if why:
                return why
        return ""

    def pipelined(s):
        s.sendall(b"".join(frame(q) for q in qs))
        return expect_answers(s, qs, time.monotonic() + 3)

    def split_prefix(s):
        f = b"".join(frame(q) for q in qs)
        # The first prefix byte alone, then up to the middle of the second
        # prefix, then the rest: every cut lands in a length prefix.
        cut1 = 1
        cut2 = len(frame(qs[0])) + 1
        for part in (f[:cut1], f[cut1:cut2], f[cut2:]):
            s.sendall(part)
            time.sleep(0.15)
        return expect_answers(s, qs, time.monotonic() + 3)

    def bytewise(s):
        for b in frame(qs[0]):
            s.sendall(bytes([b]))
            time.sleep(0.005)
        return expect_answers(s, qs[:1], time.monotonic() + 3)

    def half_close(s):
        s.sendall(b"".join(frame(q) for q in qs))
        s.shutdown(socket.SHUT_WR)
        why = expect_answers(s, qs, time.monotonic() + 3)
        if why:
            return why
        d = tcp_read_msg(s, time.monotonic() + 3)
        return "" if d == b"" else "not closed after the answers"

    def fifty(s):
        many = [query("host%d.example.com" % (i % 3 + 1), "A", qid=0x0200 + i) for i in range(50)]
        s.sendall(b"".join(frame(q) for q in many))
        return expect_answers(s, many, time.monotonic() + 5)

    def big(s):
        q = query("big1232.example.com", "TXT", qid=0x0300)
        s.sendall(frame(q))
        d = tcp_read_msg(s, time.monotonic() + 3)
        if not d:
            return "no answer"
        r = parse(d)
        txt = [rd for n, t, c, ttl, rd in r["sections"][0] if t == 16]
        if r["flags"] & 0x0200 or len(txt) != 1 or len(txt[0]) != 6 * 251:
            return "%s, TXT rdata lengths %s (want one of 1506 bytes, TC=0)" % (summary(r), [len(x) for x in txt])
        return ""

    attempt("tcp-3-sequential", seq)
    attempt("tcp-3-pipelined", pipelined)
    attempt("tcp-3-split-prefix", split_prefix)
    attempt("tcp-1-bytewise", bytewise)
    attempt("tcp-3-half-close", half_close)
    attempt("tcp-50-pipelined", fifty)
    attempt("tcp-big-answer", big)
    return 1 if bad else 0


# ---- idle connections ----

def run_idle(a):
    out = {}

    def watch(name, send):
        t0 = time.monotonic()
        try:
            s = tcp_connect(a.host, a.port)
        except OSError as e:
            out[name] = "connect-failed %s" % e
            return
        try:
            if send:
                s.sendall(frame(query(QNAME, qid=0x0909)))
                d = tcp_read_msg(s, time.monotonic() + 3)
                if not d:
                    out[name] = "%.1f no-answer" % (time.monotonic() - t0)
                    return
            deadline = t0 + a.max
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    out[name] = "%.1f open" % a.max
                    return
                s.settimeout(left)
                try:
                    b = s.recv(4096)
                except socket.timeout:
                    continue
                except ConnectionResetError:
                    b = b""
                if not b:
                    out[name] = "%.1f closed" % (time.monotonic() - t0)
                    return
        finally:
            s.close()

    ts = [threading.Thread(target=watch, args=("idle-silent", False)),
          threading.Thread(target=watch, args=("idle-after-query", True))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for n in ("idle-silent", "idle-after-query"):
        print(n, out.get(n, "error"), flush=True)
    return 0


# ---- a flood, for response rate limiting ----

def run_flood(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.connect((a.host, a.port))
    for i in range(a.count):
        s.send(query(a.name, "A", qid=i))
    full = slipped = other = 0
    deadline = time.monotonic() + a.wait
    seen = set()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            break
        d = s.recv(65535)
        try:
            m = parse(d)
        except ValueError:
            other += 1
            continue
        seen.add(m["id"])
        if m["flags"] & 0x0200 and not any(m["sections"]):
            slipped += 1
        elif m["rcode"] == 0 and m["sections"][0]:
            full += 1
        else:
            other += 1
    s.close()
    print("sent %d full %d slipped %d other %d silent %d" % (a.count, full, slipped, other, a.count - len(seen)))
    return 0


# ---- one query, for zone transfers ----

def run_query(a):
    q = query(a.name, a.type, a.qclass, qid=0x3131, edns=False)
    if a.serial is not None:
        soa = wire_name(a.name) + struct.pack("!HHIH", 6, 1, 0, 22) + b"\0\0" + struct.pack("!IIIII", a.serial, 0, 0, 0, 0)
        q = q[:8] + struct.pack("!H", 1) + q[10:] + soa
    if a.tcp:
        d = tcp_exchange(a.host, a.port, frame(q), wait=2.0)
        if isinstance(d, str):
            print(d)
            return 1
    else:
        d = udp_exchange(a.host, a.port, q, wait=2.0)
    print(describe(d))
    if d:
        try:
            r = parse(d)
            for sec in r["sections"]:
                for n, t, c, ttl, rd in sec:
                    print("  %s %d %d %d %s" % (n.lower(), ttl, c, t, rd.hex()))
        except ValueError:
            pass
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("hostile")
    p.add_argument("host")
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--wait", type=float, default=1.0)
    p.add_argument("cases", nargs="*")
    sub.add_parser("list")
    p = sub.add_parser("tcp")
    p.add_argument("host")
    p.add_argument("--port", type=int, default=53)
    p = sub.add_parser("idle")
    p.add_argument("host")
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--max", type=float, default=20.0)
    p = sub.add_parser("flood")
    p.add_argument("host")
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--name", default="www.example.com")
    p.add_argument("--wait", type=float, default=1.0)
    p = sub.add_parser("query")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("name")
    p.add_argument("type")
    p.add_argument("--tcp", action="store_true")
    p.add_argument("--class", dest="qclass", default="IN")
    p.add_argument("--serial", type=int)
    a = ap.parse_args()
    if a.cmd == "list":
        for n, (_, exp) in hostile_cases().items():
            print("udp/%s %s" % (n, case_expect(exp, "udp")))
            print("tcp/%s %s" % (n, case_expect(exp, "tcp")))
        return 0
    guard(a.host)
    return {"hostile": run_hostile, "tcp": run_tcp, "idle": run_idle, "flood": run_flood,
            "query": run_query}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
