#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tcp_peer.py - the kernel's end of the TCP interop tests (test-tcp.sh),
run inside the test's namespace with ordinary kernel sockets.

  tcp_peer.py xfer (--connect HOST PORT | --listen PORT) [--send FILE]
                   [--expect FILE] [--timeout S]
      one connection; sends FILE (if any) while receiving, half-closes when
      FILE is sent, reads to end of stream; the received bytes must equal
      --expect (size and sha256). Prints what went each way and how long.
  tcp_peer.py echo HOST PORT --count N [--parallel P] [--min B] [--max B]
                   [--seed S] [--timeout S]
      N connections (P at a time) to an echo server; each sends a random
      payload, half-closes, and must read back exactly the payload, then
      end of stream, before it closes.
  tcp_peer.py rst HOST PORT [--bytes N] [--wait S]
      connects, sends N bytes, waits, then closes with SO_LINGER {1, 0}
      so the kernel sends a RST instead of a FIN.

Exit status 0 when everything checked out, 1 otherwise (the last line says
why). Not a benchmark: durations are printed only to be reported.
"""
import argparse
import concurrent.futures
import hashlib
import os
import random
import socket
import struct
import sys
import threading
import time

CHUNK = 256 * 1024


def file_digest(path):
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
    return n, h.hexdigest()


def xfer(a):
    deadline = time.monotonic() + a.timeout
    if a.listen is not None:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", a.listen))
        ls.listen(1)
        ls.settimeout(a.timeout)
        print("listening", flush=True)
        s, _ = ls.accept()
        ls.close()
    else:
        s = socket.create_connection((a.connect[0], int(a.connect[1])), timeout=a.timeout)
    s.settimeout(max(1.0, deadline - time.monotonic()))
    t0 = time.monotonic()
    err = []
    sent = [0, hashlib.sha256()]
    sent_at = [None]

    def sender():
        try:
            if a.send:
                with open(a.send, "rb") as f:
                    while True:
                        b = f.read(CHUNK)
                        if not b:
                            break
                        s.sendall(b)
                        sent[0] += len(b)
                        sent[1].update(b)
            s.shutdown(socket.SHUT_WR)
            sent_at[0] = time.monotonic() - t0
        except OSError as e:
            err.append("send after %d bytes: %s" % (sent[0], e))

    th = threading.Thread(target=sender, daemon=True)
    th.start()
    got = 0
    h = hashlib.sha256()
    try:
        while True:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            b = s.recv(CHUNK)
            if not b:
                break
            got += len(b)
            h.update(b)
    except OSError as e:
        err.append("receive after %d bytes: %s" % (got, e))
    recv_at = time.monotonic() - t0
    th.join(max(0.1, deadline - time.monotonic()))
    if th.is_alive():
        err.append("sender still blocked after %d bytes at the deadline" % sent[0])
    s.close()
    print("sent %d bytes (all handed to the kernel at %s s), received %d bytes (sha256 %s, end of stream at %.2f s)" %
          (sent[0], "%.2f" % sent_at[0] if sent_at[0] is not None else "-", got, h.hexdigest()[:16], recv_at))
    if a.expect:
        n, d = file_digest(a.expect)
        if (n, d) != (got, h.hexdigest()):
            err.append("received %d bytes sha256 %s, want %d bytes sha256 %s" %
                       (got, h.hexdigest()[:16], n, d[:16]))
    if err:
        print("; ".join(err))
        return 1
    return 0


def echo_one(host, port, payload, timeout):
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        back = bytearray()
        while True:
            b = s.recv(65536)
            if not b:
                break
            back += b
        if bytes(back) != payload:
            return "sent %d bytes, got back %d bytes%s" % (
                len(payload), len(back), "" if len(back) != len(payload) else " (different)")
        return None
    finally:
        s.close()


def echo(a):
    rnd = random.Random(a.seed)
    payloads = [rnd.randbytes(rnd.randint(a.min, a.max)) for _ in range(a.count)]
    t0 = time.monotonic()
    fails = []

    def run(i):
        try:
            r = echo_one(a.host, a.port, payloads[i], a.timeout)
        except OSError as e:
            r = "%s: %s" % (type(e).__name__, e)
        if r:
            fails.append("connection %d: %s" % (i, r))

    if a.parallel <= 1:
        for i in range(a.count):
            run(i)
    else:
        with concurrent.futures.ThreadPoolExecutor(a.parallel) as ex:
            list(ex.map(run, range(a.count)))
    dt = time.monotonic() - t0
    print("%d connections (%d at a time), %d failed, %.2f s" % (a.count, a.parallel, len(fails), dt))
    if fails:
        for f in fails[:5]:
            print("  " + f)
        print("%d of %d echo connections failed; first: %s" % (len(fails), a.count, fails[0]))
        return 1
    return 0


def rst(a):
    s = socket.create_connection((a.host, a.port), timeout=5)
    s.sendall(os.urandom(a.bytes))
    time.sleep(a.wait)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("sent %d bytes, then closed with SO_LINGER {1, 0}" % a.bytes)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    x = sub.add_parser("xfer")
    g = x.add_mutually_exclusive_group(required=True)
    g.add_argument("--connect", nargs=2, metavar=("HOST", "PORT"))
    g.add_argument("--listen", type=int, metavar="PORT")
    x.add_argument("--send")
    x.add_argument("--expect")
    x.add_argument("--timeout", type=float, default=60)
    e = sub.add_parser("echo")
    e.add_argument("host")
    e.add_argument("port", type=int)
    e.add_argument("--count", type=int, default=1)
    e.add_argument("--parallel", type=int, default=1)
    e.add_argument("--min", type=int, default=1)
    e.add_argument("--max", type=int, default=2000)
    e.add_argument("--seed", type=int, default=1)
    e.add_argument("--timeout", type=float, default=10)
    r = sub.add_parser("rst")
    r.add_argument("host")
    r.add_argument("port", type=int)
    r.add_argument("--bytes", type=int, default=10000)
    r.add_argument("--wait", type=float, default=0.3)
    a = p.parse_args()
    try:
        return {"xfer": xfer, "echo": echo, "rst": rst}[a.cmd](a)
    except OSError as ex:
        print("%s: %s" % (type(ex).__name__, ex))
        return 1


if __name__ == "__main__":
    sys.exit(main())
