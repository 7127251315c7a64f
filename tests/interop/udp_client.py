#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""udp_client.py - a UDP echo client for the interop tests: sends datagrams of
the given sizes (random bytes) to DST:PORT one at a time and checks that each
comes back byte for byte, within a timeout. Exit 0 when all did; otherwise
prints what went wrong last and exits 1. Traffic goes only to --dst, which
the tests set to usnet-echo's address inside their namespace.

  udp_client.py --dst 10.77.0.2 --sizes 1,1472,8000
  udp_client.py --dst 10.77.0.2 --random 200 --max 3000 --seed 7
"""
import argparse
import os
import random
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, default=7)
    ap.add_argument("--sizes", default="")
    ap.add_argument("--random", type=int, default=0, help="this many datagrams of random size")
    ap.add_argument("--max", type=int, default=1472)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=2.0)
    a = ap.parse_args()

    if not a.dst.startswith("10.77.0."):
        print("refusing to send outside 10.77.0.0/24", file=sys.stderr)
        return 2
    rnd = random.Random(a.seed)
    sizes = [int(x) for x in a.sizes.split(",") if x]
    sizes += [rnd.randint(0, a.max) for _ in range(a.random)]

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.settimeout(a.timeout)
    s.connect((a.dst, a.port))
    bad = 0
    for i, n in enumerate(sizes):
        data = os.urandom(n)
        s.send(data)
        try:
            back = s.recv(65536)
        except socket.timeout:
            print(f"datagram {i} of {n} bytes: no echo within {a.timeout} s")
            bad += 1
            continue
        except ConnectionRefusedError:
            print(f"datagram {i} of {n} bytes: ICMP port unreachable")
            bad += 1
            continue
        if back != data:
            print(f"datagram {i} of {n} bytes: echo differs ({len(back)} bytes back)")
            bad += 1
    if bad:
        print(f"{bad} of {len(sizes)} datagrams not echoed exactly")
        return 1
    print(f"{len(sizes)} datagrams echoed exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
