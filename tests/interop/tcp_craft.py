#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tcp_craft.py - hand-made TCP segments against usnet-echo's TCP echo port
(7), on a connection this script opens itself, crafted with scapy and
written to the kernel side of the TAP (an AF_PACKET socket on it).

The connection comes from 10.77.0.99, an address nobody in the namespace
owns, with a made-up MAC: the kernel drops usnet's replies to that MAC (they
are not for it), so it never answers them with a RST, and this script reads
them from the same AF_PACKET socket. usnet learns the MAC from an ARP
request this script sends first, and any ARP request for 10.77.0.99 is
answered while the script runs.

On the established connection it sends, one case at a time: options of
length 0 and 1 and one running past the header, data offsets under 5 and
past the segment, a bad checksum, an in-window RST with the wrong sequence
number (RFC 5961 §3.2: a challenge ACK, not a reset), an out-of-window RST,
a SYN (RFC 5961 §4.2), an ACK for data never sent (RFC 5961 §5.2), data
beyond the window and data already received, and overlapping and
out-of-order data. After each it checks what came back, which counters of
usnet-echo moved (read through SIGUSR1 from its log), and that the echo
still works byte for byte. Then it closes the connection and checks the
BUFFERS_IN_USE and TCP_CONNECTIONS gauges are back where they started.

  tcp_craft.py --iface usnt0 --stack-mac MAC --pid PID --log FILE [--seed N]

Prints "CASE ok" or "CASE fail: reason" per case (test-tcp.sh turns them
into PASS and FAIL lines), plus "  ..." detail lines. Exit status 1 when a
case failed. Not a fuzzer: a fixed list of cases.
"""
import argparse
import logging
import os
import random
import re
import signal
import socket
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ARP, IP, TCP, Ether, Raw, raw  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import counters  # noqa: E402

STACK = "10.77.0.2"
FAKE_IP = "10.77.0.99"
FAKE_MAC = "02:00:00:00:00:99"
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
QUIET = 0.3  # seconds of silence that count as "no reply"

F_FIN, F_SYN, F_RST, F_PSH, F_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def u32(x):
    return x & 0xFFFFFFFF


class Failed(Exception):
    pass


class Stack:
    """usnet-echo seen through its counters (SIGUSR1) and its log."""

    def __init__(self, pid, log):
        self.pid, self.log = pid, log

    def read(self):
        before = os.path.getsize(self.log)
        os.kill(self.pid, signal.SIGUSR1)
        last, stable = before, 0
        for _ in range(60):
            time.sleep(0.05)
            size = os.path.getsize(self.log)
            if size > before and size == last:
                stable += 1
                if stable >= 2:
                    break
            else:
                stable = 0
            last = size
        with open(self.log, "rb") as f:
            f.seek(before)
            text = f.read().decode(errors="replace")
        if not text.strip():
            raise Failed("usnet-echo printed nothing on SIGUSR1")
        vals = counters.parse(text)
        for m in re.finditer(r"(\d+)\s+(BUFFERS_IN_USE|TCP_CONNECTIONS)\b", text):
            vals[m.group(2)] = int(m.group(1))
        return vals


class Link:
    """The kernel side of the TAP: frames in and out, ARP for FAKE_IP."""

    def __init__(self, iface, stack_mac):
        self.stack_mac = stack_mac
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.s.bind((iface, 0))

    def send(self, frame):
        self.s.send(frame)

    def frames(self, timeout):
        """Frames usnet sent (not ours), for `timeout` seconds."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            self.s.settimeout(left)
            try:
                data, addr = self.s.recvfrom(65535)
            except socket.timeout:
                return
            if addr[2] == PACKET_OUTGOING:
                continue
            p = Ether(data)
            if ARP in p and p[ARP].op == 1 and p[ARP].pdst == FAKE_IP:
                self.send(raw(Ether(src=FAKE_MAC, dst=p.src) /
                              ARP(op=2, hwsrc=FAKE_MAC, psrc=FAKE_IP, hwdst=p[ARP].hwsrc, pdst=p[ARP].psrc)))
                continue
            yield p

    def seed_arp(self):
        """An ARP request from FAKE_IP: usnet answers and learns our MAC."""
        req = raw(Ether(src=FAKE_MAC, dst="ff:ff:ff:ff:ff:ff") /
                  ARP(op=1, hwsrc=FAKE_MAC, psrc=FAKE_IP, pdst=STACK))
        for _ in range(3):
            self.send(req)
            for p in self.frames(1.0):
                if ARP in p and p[ARP].op == 2 and p[ARP].psrc == STACK and p.dst == FAKE_MAC:
                    return
        raise Failed("no ARP reply from usnet-echo to %s" % FAKE_IP)


class Conn:
    """Our end of one connection to usnet-echo port 7 from FAKE_IP."""

    def __init__(self, link, rnd):
        self.link = link
        self.sport = rnd.randint(20000, 60000)
        self.iss = rnd.getrandbits(32)
        self.snd_nxt = self.iss
        self.rcv_nxt = None
        self.echo = bytearray()  # bytes usnet echoed, not yet consumed
        self.peer_fin = False

    def frame(self, flags, data=b"", seq=None, ack=None, opts=b"", doff=None, bad_csum=False):
        seq = self.snd_nxt if seq is None else seq
        ack = (self.rcv_nxt or 0) if ack is None else ack
        hl = 20 + len(opts)
        t = TCP(sport=self.sport, dport=7, seq=u32(seq), ack=u32(ack), flags=flags, window=65535,
                dataofs=(hl // 4) if doff is None else doff, options=[])
        pkt = Ether(src=FAKE_MAC, dst=self.link.stack_mac) / IP(src=FAKE_IP, dst=STACK, id=0) / t / Raw(opts + data)
        b = bytearray(raw(pkt))
        if bad_csum:
            b[14 + 20 + 16] ^= 0x5A
        return bytes(b)

    def send(self, flags, data=b"", **kw):
        self.link.send(self.frame(flags, data, **kw))

    def segments(self, timeout, until=None):
        """usnet's segments on this connection for up to `timeout` s, or
        until `until(segments so far)` holds; data in order is kept and
        ACKed at once."""
        got = []
        end = time.monotonic() + timeout
        while True:
            if until is not None and until(got):
                return got
            left = end - time.monotonic()
            if left <= 0:
                return got
            for p in self.link.frames(min(left, 0.05)):
                if TCP not in p or p[IP].src != STACK or p[TCP].dport != self.sport or p[TCP].sport != 7:
                    continue
                t = p[TCP]
                data = bytes(t.payload)
                got.append(t)
                if t.flags & F_RST:
                    continue
                if self.rcv_nxt is not None and (data or t.flags & F_FIN):
                    if t.seq == self.rcv_nxt:
                        self.echo += data
                        self.rcv_nxt = u32(self.rcv_nxt + len(data) + (1 if t.flags & F_FIN else 0))
                        if t.flags & F_FIN:
                            self.peer_fin = True
                    self.send(F_ACK)
                if until is not None and until(got):
                    return got

    def handshake(self):
        opts = b"\x02\x04\x05\xb4"  # MSS 1460; no window scale, SACK or timestamps
        for _ in range(3):
            self.send(F_SYN, seq=self.iss, ack=0, opts=opts)
            def synack(segs):
                return any(t.flags & (F_SYN | F_ACK | F_RST) for t in segs)

            for t in self.segments(1.0, until=synack):
                if t.flags & (F_SYN | F_ACK) == (F_SYN | F_ACK) and t.ack == u32(self.iss + 1):
                    self.snd_nxt = u32(self.iss + 1)
                    self.rcv_nxt = u32(t.seq + 1)
                    self.send(F_ACK)
                    return t
                if t.flags & F_RST:
                    raise Failed("RST in answer to our SYN")
        raise Failed("no SYN-ACK from usnet-echo port 7")

    def exchange(self, data, timeout=3.0):
        """Sends data in order; it must come back exactly."""
        self.send(F_ACK | F_PSH, data)
        self.snd_nxt = u32(self.snd_nxt + len(data))
        return self.expect_echo(data, timeout)

    def expect_echo(self, data, timeout=3.0):
        segs = self.segments(timeout, until=lambda _: len(self.echo) >= len(data))
        if any(t.flags & F_RST for t in segs):
            raise Failed("usnet sent a RST")
        got = bytes(self.echo[: len(data)])
        del self.echo[: len(data)]
        if got != data:
            raise Failed("echo: sent %d bytes, got back %d bytes%s" % (
                len(data), len(got), " (different)" if len(got) == len(data) else ""))
        if self.echo:
            raise Failed("echo: %d bytes more than were sent" % len(self.echo))
        return segs


def describe(t):
    fl = "".join(c for c, b in (("S", F_SYN), ("F", F_FIN), ("R", F_RST), ("P", F_PSH), (".", F_ACK)) if t.flags & b)
    return "[%s] seq %d ack %d len %d" % (fl, t.seq, t.ack, len(bytes(t.payload)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iface", required=True)
    ap.add_argument("--stack-mac", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    stack = Stack(a.pid, a.log)
    link = Link(a.iface, a.stack_mac)
    results = []

    def report(name, why):
        results.append((name, why))
        print("%s ok" % name if why is None else "%s fail: %s" % (name, why), flush=True)

    try:
        base = stack.read()
        link.seed_arp()
        c = Conn(link, rnd)
        synack = c.handshake()
        c.exchange(rnd.randbytes(100))
    except Failed as e:
        report("handshake", str(e))
        return 1
    report("handshake", None)
    print("  SYN-ACK %s, options %s" % (describe(synack), synack.options), flush=True)

    def payload():
        return rnd.randbytes(rnd.randint(20, 200))

    # name, what to send (a function), want: "none" (no segment at all),
    # "ack" (exactly one ACK with SEQ=SND.NXT, ACK=RCV.NXT, nothing else),
    # and the counters that must move.
    def bad_opt(opt):
        return lambda: c.send(F_ACK | F_PSH, payload(), opts=opt)

    cases = [
        ("opt-len-0", bad_opt(b"\x1e\x00\x01\x01"), "none", ["TCP_DROP_BAD_HDR"]),
        ("opt-len-1", bad_opt(b"\x1e\x01\x01\x01"), "none", ["TCP_DROP_BAD_HDR"]),
        ("opt-past-header", bad_opt(b"\x01\x01\x1e\x08"), "none", ["TCP_DROP_BAD_HDR"]),
        ("opt-mss-past-header", bad_opt(b"\x01\x01\x01\x02"), "none", ["TCP_DROP_BAD_HDR"]),
        ("doff-under-5", lambda: c.send(F_ACK | F_PSH, payload(), doff=4), "none", ["TCP_DROP_BAD_HDR"]),
        ("doff-past-segment", lambda: c.send(F_ACK | F_PSH, b"abcd", doff=15), "none", ["TCP_DROP_BAD_HDR"]),
        ("bad-checksum", lambda: c.send(F_ACK | F_PSH, payload(), bad_csum=True), "none", ["TCP_DROP_BAD_CSUM"]),
        ("rst-in-window-wrong-seq", lambda: c.send(F_RST, seq=c.snd_nxt + 1000, ack=0), "ack",
         ["TCP_CHALLENGE_ACKS"]),
        ("rst-ack-in-window-wrong-seq", lambda: c.send(F_RST | F_ACK, seq=c.snd_nxt + 1), "ack",
         ["TCP_CHALLENGE_ACKS"]),
        ("rst-out-of-window", lambda: c.send(F_RST, seq=c.snd_nxt + 0x40000000, ack=0), "none",
         ["TCP_DROP_RST_BAD_SEQ"]),
        ("syn-in-established", lambda: c.send(F_SYN, seq=c.snd_nxt, ack=0, opts=b"\x02\x04\x05\xb4"), "ack",
         ["TCP_CHALLENGE_ACKS"]),
        ("synack-in-established", lambda: c.send(F_SYN | F_ACK, seq=c.snd_nxt + 10), "ack",
         ["TCP_CHALLENGE_ACKS"]),
        ("ack-unsent-data", lambda: c.send(F_ACK, ack=c.rcv_nxt + 100000), "ack",
         ["TCP_DROP_ACK_UNSENT", "TCP_CHALLENGE_ACKS"]),
        ("data-beyond-window", lambda: c.send(F_ACK | F_PSH, payload(), seq=c.snd_nxt + 300000), "ack",
         ["TCP_DROP_OUT_OF_WINDOW"]),
        ("data-already-received", lambda: c.send(F_ACK | F_PSH, b"x" * 50, seq=c.snd_nxt - 60), "ack",
         ["TCP_DROP_OUT_OF_WINDOW"]),
        ("no-ack-flag", lambda: c.send(F_PSH, payload()), "none", ["TCP_DROP_NO_FLAGS"]),
    ]
    prev = stack.read()
    for name, send, want, moved in cases:
        try:
            una_before, rcv_before = c.snd_nxt, c.rcv_nxt
            send()
            segs = c.segments(QUIET)
            if any(t.flags & F_RST for t in segs):
                raise Failed("usnet answered with a RST: %s" % ", ".join(describe(t) for t in segs))
            if want == "none" and segs:
                raise Failed("want no answer, got %s" % ", ".join(describe(t) for t in segs))
            if want == "ack":
                ok = [t for t in segs if t.flags & (F_SYN | F_FIN | F_RST | F_ACK) == F_ACK and
                      t.ack == una_before and t.seq == rcv_before and not bytes(t.payload)]
                if len(ok) != 1 or len(segs) != 1:
                    raise Failed("want one ACK seq %d ack %d, got %s" % (
                        rcv_before, una_before, ", ".join(describe(t) for t in segs) or "nothing"))
            now = stack.read()
            delta = {k: now.get(k, 0) - prev.get(k, 0) for k in set(now) | set(prev)}
            miss = [m for m in moved if delta.get(m, 0) < 1]
            prev = now
            if miss:
                chg = " ".join("%s+%d" % (k, v) for k, v in sorted(delta.items())
                               if v and k.startswith("TCP_") and k not in ("TCP_IN_SEGS", "TCP_OUT_SEGS"))
                raise Failed("counter(s) %s did not move (changed: %s)" % (" ".join(miss), chg or "none"))
            # The connection is still there and in step.
            c.exchange(payload())
            prev = stack.read()
            report(name, None)
        except Failed as e:
            report(name, str(e))
            # Resynchronise as well as we can: drain, then go on.
            c.segments(0.5)
            c.echo.clear()
            prev = stack.read()

    # Overlap and reordering: the stream usnet echoes must be exactly ours.
    try:
        d = rnd.randbytes(400)
        s0 = c.snd_nxt
        c.send(F_ACK | F_PSH, d[0:100], seq=s0)
        c.send(F_ACK | F_PSH, d[50:150], seq=s0 + 50)      # overlaps the first
        c.send(F_ACK | F_PSH, d[300:400], seq=s0 + 300)    # a hole before it
        c.send(F_ACK | F_PSH, d[250:350], seq=s0 + 250)    # overlaps the queued one
        c.send(F_ACK | F_PSH, d[140:260], seq=s0 + 140)    # fills the hole, overlapping both sides
        c.snd_nxt = u32(s0 + 400)
        c.expect_echo(d)
        now = stack.read()
        if now.get("TCP_OFO_QUEUED", 0) - prev.get("TCP_OFO_QUEUED", 0) < 1:
            raise Failed("TCP_OFO_QUEUED did not move")
        prev = now
        report("data-overlap-reorder", None)
    except Failed as e:
        report("data-overlap-reorder", str(e))

    # Close: our FIN, usnet's FIN after the echo, our ACK; then the
    # connection and every buffer it held are gone.
    try:
        last = rnd.randbytes(300)
        c.send(F_ACK | F_PSH | F_FIN, last)
        c.snd_nxt = u32(c.snd_nxt + len(last) + 1)
        c.segments(3.0, until=lambda _: c.peer_fin)
        if not c.peer_fin:
            raise Failed("no FIN from usnet-echo after ours (echoed %d of %d bytes)" % (len(c.echo), len(last)))
        if bytes(c.echo) != last:
            raise Failed("last echo: %d bytes, want %d" % (len(c.echo), len(last)))
        c.segments(0.3)
        deadline = time.monotonic() + 5
        while True:
            now = stack.read()
            gauges = [(g, base.get(g), now.get(g)) for g in ("BUFFERS_IN_USE", "TCP_CONNECTIONS")]
            if all(b is not None and b == n for _, b, n in gauges) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        bad = ["%s %s (was %s)" % (g, n, b) for g, b, n in gauges if b is None or n != b]
        if bad:
            raise Failed("after close: " + ", ".join(bad))
        report("close-and-free", None)
    except Failed as e:
        report("close-and-free", str(e))
    total = {k: now.get(k, 0) - base.get(k, 0) for k in now}
    print("  counter changes: " + " ".join("%s+%d" % (k, v) for k, v in sorted(total.items())
                                           if v and k.startswith("TCP_")), flush=True)
    return 1 if any(w for _, w in results) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, Failed) as e:
        print("craft-setup fail: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
