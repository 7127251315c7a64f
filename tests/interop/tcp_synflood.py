#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tcp_synflood.py - a SYN flood against usnet-echo's TCP port 7 for
test-tcp.sh: SYNs crafted with scapy from spoofed addresses of 10.77.0.0/24
(never .0, .1, .2, .99 or .255: not the kernel's, not usnet's, not the one
tcp_craft.py uses) and random ports, written to the kernel side of the TAP
(an AF_PACKET socket on it) at an even pace over a few seconds, so that a
real client connecting meanwhile finds the SYN queue full. Nobody answers
usnet's SYN-ACKs (or its ARP requests for those addresses): the half-open
connections stay until usnet gives them up.

  tcp_synflood.py --iface usnt0 --dst-mac MAC [--count N] [--seconds S] [--seed N]

Prints "flooding: ..." once the frames are built and the first is about to
go, then how many SYNs went out, from how many addresses, in how long. Not
a test by itself.
"""
import argparse
import logging
import random
import socket
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, TCP, Ether, raw  # noqa: E402

SKIP = {0, 1, 2, 99, 255}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iface", required=True)
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--count", type=int, default=4000)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    hosts = [h for h in range(256) if h not in SKIP]
    frames = []
    used = set()
    for _ in range(a.count):
        h = rnd.choice(hosts)
        used.add(h)
        mac = "02:00:00:00:%02x:%02x" % (rnd.randrange(256), h)
        frames.append(raw(
            Ether(src=mac, dst=a.dst_mac) /
            IP(src="10.77.0.%d" % h, dst="10.77.0.2", id=rnd.randrange(65536)) /
            TCP(sport=rnd.randint(1024, 65535), dport=7, flags="S", seq=rnd.getrandbits(32),
                window=64240, options=[("MSS", 1460), ("SAckOK", b""), ("NOP", None), ("WScale", 7)])))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    # The caller waits for this line: from here on the SYNs go out.
    print("flooding: %d SYNs over %.1f s" % (len(frames), a.seconds), flush=True)
    t0 = time.monotonic()
    sent = 0
    for i, f in enumerate(frames):
        # An even pace: frame i goes out at i / count of the period.
        ahead = t0 + a.seconds * i / len(frames) - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        try:
            s.send(f)
            sent += 1
        except OSError:
            pass
    dt = time.monotonic() - t0
    print("sent %d of %d SYNs from %d spoofed addresses in %.2f s" % (sent, len(frames), len(used), dt))
    return 0 if sent == len(frames) else 1


if __name__ == "__main__":
    sys.exit(main())
