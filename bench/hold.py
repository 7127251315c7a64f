#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/hold.py - holds N idle HTTP keep-alive connections open to a server,
for bench/run.sh's memory-per-connection measurement.

  hold.py SERVER_IP PORT PATH N SRC_IP[,SRC_IP...]

Kernel sockets: a process may hold at most 20000 descriptors here (no
CAP_SYS_RESOURCE), and one source address has 28232 ephemeral ports towards
one server port, so the N connections are spread over one process per
source address, PER_PROC at most each (15000). Each connection sends one GET
and reads its whole response (so it is an established keep-alive connection
past its first request, as a browser leaves it), then stays idle. Prints
"ready HELD" once every process has its share up (or has given up on
some: HELD is what is open), then holds until SIGTERM (or SIGINT), and
closes with RST (SO_LINGER 0): no TIME-WAIT is left to blur the next
measurement.
"""
import os
import selectors
import signal
import socket
import struct
import sys
import time

PER_PROC = 15000
IP_BIND_ADDRESS_NO_PORT = 24


def child(server, port, path, n, src, wfd):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    req = ('GET %s HTTP/1.1\r\nHost: %s\r\n\r\n' % (path, server)).encode()
    sel = selectors.DefaultSelector()
    socks = []
    done = 0
    failed = 0
    pending = {}
    batch = 200  # connection attempts in flight
    started = 0
    deadline = time.time() + 120
    linger = struct.pack('ii', 1, 0)
    while (done + failed) < n and time.time() < deadline:
        while started < n and len(pending) < batch:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.bind((src, 0))
            s.setblocking(False)
            try:
                s.connect((server, port))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                failed += 1
                started += 1
                continue
            pending[s.fileno()] = [s, 0, b'']  # state 0: connecting, 1: awaiting response
            sel.register(s, selectors.EVENT_WRITE)
            started += 1
        for key, ev in sel.select(timeout=1):
            st = pending.get(key.fd)
            if st is None:
                continue
            s = st[0]
            if st[1] == 0:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    sel.unregister(s)
                    del pending[key.fd]
                    s.close()
                    failed += 1
                    continue
                s.send(req)
                st[1] = 1
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b''
            if not data:
                sel.unregister(s)
                del pending[key.fd]
                s.close()
                failed += 1
                continue
            st[2] += data
            buf = st[2]
            h = buf.find(b'\r\n\r\n')
            if h < 0:
                continue
            clen = 0
            for line in buf[:h].split(b'\r\n')[1:]:
                k, _, v = line.partition(b':')
                if k.strip().lower() == b'content-length':
                    clen = int(v)
            if len(buf) - h - 4 >= clen:
                sel.unregister(s)
                del pending[key.fd]
                socks.append(s)
                done += 1
    os.write(wfd, b'%d\n' % done)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    finally:
        for s in socks:
            s.close()


def main():
    server, port, path, n, srcs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5].split(',')
    shares = []
    left = n
    for src in srcs:
        k = min(left, PER_PROC)
        if k <= 0:
            break
        shares.append((src, k))
        left -= k
    if left > 0:
        sys.exit('hold.py: %d connections need more than %d source addresses' % (n, len(srcs)))
    kids = []
    r, w = os.pipe()
    for src, k in shares:
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                child(server, port, path, k, src, w)
            finally:
                os._exit(0)
        kids.append(pid)
    os.close(w)
    held = 0
    got = 0
    buf = b''
    while got < len(kids):
        d = os.read(r, 64)
        if not d:
            break
        buf += d
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            held += int(line)
            got += 1
    print('ready %d' % held, flush=True)

    def stop(*_):
        for p in kids:
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in kids:
            os.waitpid(p, 0)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        signal.pause()


if __name__ == '__main__':
    main()
