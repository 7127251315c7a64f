#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""flood.py - malformed frames for the interop tests, crafted with scapy and
written to the kernel side of the TAP (an AF_PACKET socket on it), so that
usnet-echo reads every one of them from its TAP descriptor: truncated
Ethernet, unknown ethertypes, bad IPv4 versions, header lengths, total
lengths and checksums, martian and foreign addresses, overlapping, tiny and
impossible fragments, a flood of incomplete datagrams, bad UDP lengths and
checksums, bad ICMP, ARP garbage, TCP with garbage options and offsets, and
random bytes. Every IPv4 destination is inside 10.77.0.0/24, and the frames
exist only on the TAP inside the test's namespace.

  flood.py send --iface usnt0 --dst-mac MAC --src-mac MAC [--seed N]
      prints "CATEGORY FRAMES" per category, and "refused N" for frames the
      kernel would not send (shorter than an Ethernet header)
  flood.py check DIFF
      DIFF is `counters.py diff` output; prints "CATEGORY ok|missing: ..."
      per category and exits 1 when a category moved none of its counters

Not a fuzzer: a fixed, seeded set of hostile frames, each class aimed at one
named drop counter of src/base/counters.def.
"""
import argparse
import logging
import random
import socket
import struct
import sys
import time

HOST = "10.77.0.1"
STACK = "10.77.0.2"

# Which counters (any of them) must move for each category.
EXPECT = {
    "eth_short": ["ETH_DROP_TRUNCATED", "IP_DROP_TRUNCATED", "ARP_DROP_MALFORMED"],
    "eth_type": ["ETH_DROP_ETHERTYPE"],
    "eth_not_us": ["ETH_DROP_NOT_FOR_US"],
    "eth_src_mcast": ["ETH_DROP_SRC_MULTICAST"],
    "ip_version": ["IP_DROP_BAD_VERSION"],
    "ip_ihl": ["IP_DROP_BAD_HDR_LEN"],
    "ip_len": ["IP_DROP_BAD_LEN", "IP_DROP_TRUNCATED"],
    "ip_csum": ["IP_DROP_BAD_CSUM"],
    "ip_not_us": ["IP_DROP_NOT_FOR_US"],
    "ip_martian": ["IP_DROP_MARTIAN_SRC"],
    "ip_proto": ["IP_DROP_UNKNOWN_PROTO"],
    "frag_overlap": ["FRAG_DROP_OVERLAP"],
    "frag_bad": ["FRAG_DROP_BAD_FRAGMENT", "FRAG_DROP_TOO_BIG"],
    "frag_flood": ["FRAG_DROP_NO_MEMORY"],
    "udp_len": ["UDP_DROP_BAD_LEN", "UDP_DROP_TRUNCATED"],
    "udp_csum": ["UDP_DROP_BAD_CSUM"],
    "icmp_bad": ["ICMP_DROP_BAD_CSUM", "ICMP_DROP_TRUNCATED"],
    "arp_garbage": ["ARP_DROP_MALFORMED", "ARP_DROP_NOT_FOR_US", "ARP_DROP_BAD_SENDER"],
    "tcp_garbage": ["IP_DROP_UNKNOWN_PROTO", "TCP_*"],
}


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(src, dst, proto, payload, ident=0, frag=0, ttl=64, version=4, ihl=5,
        tot_len=None, good_csum=True, opts=b""):
    """An IPv4 header over payload, any field forced to any value."""
    hl = 20 + len(opts)
    if tot_len is None:
        tot_len = hl + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | (ihl & 15), 0, tot_len & 0xFFFF,
                    ident & 0xFFFF, frag & 0xFFFF, ttl, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst)) + opts
    c = csum(h)
    if not good_csum:
        c ^= 0x5A5A
    h = h[:10] + struct.pack("!H", c) + h[12:]
    return h + payload


def pseudo(src, dst, proto, length):
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, length)


def udp(src, dst, sport, dport, data, length=None, check="good"):
    ln = 8 + len(data) if length is None else length
    h = struct.pack("!HHHH", sport, dport, ln & 0xFFFF, 0) + data
    if check == "zero":
        return h
    c = csum(pseudo(src, dst, 17, len(h)) + h) or 0xFFFF
    if check == "bad":
        c ^= 0x1234
    return h[:6] + struct.pack("!H", c) + h[8:]


def icmp(typ, code, rest, good_csum=True):
    h = struct.pack("!BBH", typ, code, 0) + rest
    c = csum(h)
    if not good_csum:
        c ^= 0x00FF
    return h[:2] + struct.pack("!H", c) + h[4:]


def tcp(src, dst, sport, dport, flags, opts, doff=None, data=b""):
    if doff is None:
        doff = (20 + len(opts) + 3) // 4
        opts = opts + b"\0" * (doff * 4 - 20 - len(opts))
    h = struct.pack("!HHIIBBHHH", sport, dport, 0x12345678, 0, (doff & 15) << 4,
                    flags, 65535, 0, 0) + opts + data
    c = csum(pseudo(src, dst, 6, len(h)) + h)
    return h[:16] + struct.pack("!H", c) + h[18:]


def build(dst_mac, src_mac, rnd):
    from scapy.layers.l2 import ARP, Ether
    from scapy.packet import Raw

    def eth(payload, etype=0x0800, dst=dst_mac, src=src_mac):
        return bytes(Ether(dst=dst, src=src, type=etype) / Raw(load=payload))

    def rbytes(n):
        return bytes(rnd.getrandbits(8) for _ in range(n))

    echo = icmp(8, 0, struct.pack("!HH", 0x4242, 1) + b"usnet-flood")
    cats = {}

    f = [rbytes(n) for n in range(0, 14)]
    f += [eth(b"", 0x0800), eth(b"", 0x0806)]
    full = ip4(HOST, STACK, 1, echo)
    f += [eth(full[:k]) for k in range(1, 20)]
    f += [eth(b"\x00\x01\x08\x00\x06\x04"[:k], 0x0806) for k in range(1, 7)]
    cats["eth_short"] = f

    cats["eth_type"] = [eth(rbytes(rnd.randint(0, 100)), t)
                        for t in (0x86DD, 0x8100, 0x88CC, 0x1234, 0x0000, 0x05DC, 0x88A8, 0xFFFF)
                        for _ in range(4)]

    cats["eth_not_us"] = [eth(full, dst="02:00:00:%02x:%02x:%02x" % (i, i, i)) for i in range(1, 21)]
    cats["eth_src_mcast"] = [eth(full, src=s) for s in ("ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01",
                                                         "33:33:00:00:00:01", "03:00:00:00:00:00")
                             for _ in range(5)]

    cats["ip_version"] = [eth(ip4(HOST, STACK, 1, echo, version=v)) for v in range(16) if v != 4
                          for _ in range(3)]
    f = [eth(ip4(HOST, STACK, 1, echo, ihl=v)) for v in range(0, 5) for _ in range(3)]
    # Header lengths longer than what is there.
    f += [eth(ip4(HOST, STACK, 1, b"", ihl=v, tot_len=20)) for v in range(6, 16)]
    f += [eth(ip4(HOST, STACK, 1, b"", ihl=15, tot_len=60)) for _ in range(5)]
    cats["ip_ihl"] = f
    f = [eth(ip4(HOST, STACK, 1, echo, tot_len=t)) for t in (0, 1, 19, 65535, 1500, 20 + len(echo) + 1)]
    f += [eth(ip4(HOST, STACK, 1, echo, ihl=6, tot_len=22, opts=b"\x01\x01\x01\x01"))]
    cats["ip_len"] = f * 3
    cats["ip_csum"] = [eth(ip4(HOST, STACK, 1, echo, ident=i, good_csum=False)) for i in range(30)]
    cats["ip_not_us"] = [eth(ip4(HOST, d, 1, echo)) for d in ("10.77.0.3", "10.77.0.200", "10.77.0.9")
                         for _ in range(5)]
    cats["ip_martian"] = [eth(ip4(s, STACK, 1, echo)) for s in ("127.0.0.1", "224.0.0.5", "255.255.255.255",
                                                               STACK, "10.77.0.255", "240.0.0.1")
                          for _ in range(3)]
    cats["ip_proto"] = [eth(ip4(HOST, STACK, p, rbytes(40))) for p in (47, 132, 253, 254, 255, 0, 41)
                        for _ in range(3)]

    f = []
    ident = 0x1000
    for i in range(40):
        ident += 1
        a = udp(HOST, STACK, 4000 + i, 7, rbytes(40))
        # 0..31 with MF, then 16..47: bytes 16..31 come twice with other data.
        f.append(eth(ip4(HOST, STACK, 17, a[:32], ident=ident, frag=0x2000)))
        f.append(eth(ip4(HOST, STACK, 17, rbytes(32), ident=ident, frag=2)))
        if i % 2:
            f.append(eth(ip4(HOST, STACK, 17, rbytes(16), ident=ident, frag=6)))
    cats["frag_overlap"] = f

    f = []
    for i in range(30):
        ident += 1
        # more fragments with a length that is not a multiple of 8
        f.append(eth(ip4(HOST, STACK, 17, rbytes(13), ident=ident, frag=0x2000)))
        ident += 1
        # ends beyond 65535
        f.append(eth(ip4(HOST, STACK, 17, rbytes(64), ident=ident, frag=8189)))
        ident += 1
        # an empty fragment with more to come
        f.append(eth(ip4(HOST, STACK, 17, b"", ident=ident, frag=0x2000 | 5)))
        ident += 1
        # tiny 8-byte first fragment of a UDP header, then nothing
        f.append(eth(ip4(HOST, STACK, 17, rbytes(8), ident=ident, frag=0x2000)))
    cats["frag_bad"] = f

    # UDP length fields below 8 or past the IP payload (checksum 0: none).
    f = [eth(ip4(HOST, STACK, 17, udp(HOST, STACK, 5000, 7, rbytes(4), length=ln, check="zero")))
         for ln in (0, 1, 7, 13, 100, 65535)]
    f += [eth(ip4(HOST, STACK, 17, rbytes(k))) for k in range(0, 8)]
    cats["udp_len"] = f * 3
    cats["udp_csum"] = [eth(ip4(HOST, STACK, 17, udp(HOST, STACK, 6000 + i, p, rbytes(20 + i), check="bad")))
                        for i in range(15) for p in (7, 9)]

    f = [eth(ip4(HOST, STACK, 1, icmp(8, 0, struct.pack("!HH", 7, i) + rbytes(20), good_csum=False)))
         for i in range(15)]
    f += [eth(ip4(HOST, STACK, 1, rbytes(k))) for k in range(0, 8)]
    f += [eth(ip4(HOST, STACK, 1, icmp(t, rnd.randint(0, 255), rbytes(rnd.randint(4, 40)), good_csum=False)))
          for t in (0, 3, 5, 11, 13, 200, 255)]
    cats["icmp_bad"] = f

    bcast = "ff:ff:ff:ff:ff:ff"
    f = []
    for hw, pt, hl, pl, op in ((6, 0x0800, 6, 4, 1), (1, 0x86DD, 6, 4, 1), (1, 0x0800, 8, 4, 1),
                               (1, 0x0800, 6, 16, 1), (1, 0x0800, 6, 4, 0), (1, 0x0800, 6, 4, 3),
                               (1, 0x0800, 6, 4, 0xFFFF)):
        a = bytes(ARP(hwtype=hw, ptype=pt, hwlen=hl, plen=pl, op=op, hwsrc=src_mac, psrc="10.77.0.77",
                      hwdst="00:00:00:00:00:00", pdst=STACK))
        f += [eth(a, 0x0806, dst=bcast)] * 3
    good = bytes(ARP(op=1, hwsrc=src_mac, psrc="10.77.0.77", pdst=STACK))
    f += [eth(good[:k], 0x0806, dst=bcast) for k in range(8, 28)]
    f += [eth(bytes(ARP(op=1, hwsrc=src_mac, psrc="10.77.0.77", pdst=d)), 0x0806, dst=bcast)
          for d in ("10.77.0.50", "10.77.0.51", "10.77.0.1")]
    f += [eth(bytes(ARP(op=o, hwsrc="02:11:22:33:44:55", psrc=s, pdst=STACK)), 0x0806, dst=bcast)
          for s in ("127.0.0.1", "255.255.255.255", "224.0.0.1", "10.77.0.255") for o in (1, 2)]
    cats["arp_garbage"] = f

    f = []
    for i in range(800):
        kind = i % 4
        opts = rbytes(rnd.randint(1, 40))
        if kind == 0:
            seg = tcp(HOST, STACK, 20000 + i, 80, 0x02, opts)
        elif kind == 1:
            # option lengths of 0 and 1, and one running past the header
            seg = tcp(HOST, STACK, 20000 + i, 7, 0x02, bytes([2, 0, 3, 1, 8, 40, 1, 1]))
        elif kind == 2:
            seg = tcp(HOST, STACK, 20000 + i, 7, rnd.getrandbits(8), opts, doff=rnd.choice([0, 1, 4, 15]))
        else:
            seg = tcp(HOST, STACK, 20000 + i, rnd.randint(1, 65535), rnd.getrandbits(8), opts,
                      data=rbytes(rnd.randint(0, 64)))
        f.append(eth(ip4(HOST, STACK, 6, seg)))
    cats["tcp_garbage"] = f

    f = []
    for i in range(1500):
        kind = i % 3
        if kind == 0:
            f.append(eth(rbytes(rnd.randint(0, 1500)), rnd.getrandbits(16)))
        elif kind == 1:
            f.append(eth(rbytes(rnd.randint(0, 1500)), 0x0800))
        else:
            f.append(eth(rbytes(rnd.randint(0, 100)), 0x0806))
    cats["random"] = f

    # Last, so the reassembly slots it fills do not turn the overlap and bad
    # fragment cases above into "no memory" drops.
    f = []
    for i in range(3000):
        ident += 1
        src = "10.77.0.%d" % (100 + i % 100)
        f.append(eth(ip4(src, STACK, 17, rbytes(1000), ident=ident, frag=0x2000 | (i % 3) * 125)))
    cats["frag_flood"] = f
    return cats


def send(a):
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    rnd = random.Random(a.seed)
    cats = build(a.dst_mac, a.src_mac, rnd)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    refused = 0
    n = 0
    for name, frames in cats.items():
        for fr in frames:
            try:
                s.send(fr)
            except OSError:
                refused += 1
            n += 1
            # Paced, so the TAP's queue (500 frames) never overflows and each
            # frame reaches usnet-echo's parsers.
            if n % 32 == 0:
                time.sleep(0.002)
        print(name, len(frames))
    print("refused", refused)
    return 0


def check(a):
    delta = {}
    with open(a.diff) as f:
        for line in f:
            p = line.split()
            if len(p) == 2:
                delta[p[0]] = int(p[1])
    bad = 0
    for cat, names in EXPECT.items():
        moved = []
        for n in names:
            if n.endswith("*"):
                moved += ["%s+%d" % (k, v) for k, v in delta.items() if k.startswith(n[:-1]) and v > 0]
            elif delta.get(n, 0) > 0:
                moved.append("%s+%d" % (n, delta[n]))
        if moved:
            print(cat, "ok", " ".join(moved))
        else:
            print(cat, "missing: none of", " ".join(names), "moved")
            bad += 1
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("send")
    p.add_argument("--iface", required=True)
    p.add_argument("--dst-mac", required=True)
    p.add_argument("--src-mac", required=True)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("check")
    p.add_argument("diff")
    a = ap.parse_args()
    return send(a) if a.cmd == "send" else check(a)


if __name__ == "__main__":
    sys.exit(main())
