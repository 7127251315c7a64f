#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""counters.py - reads the counters that usnet-echo prints (on SIGUSR1 and at
exit) into "NAME VALUE" lines, NAME being a counter of src/base/counters.def.

It does not depend on one print layout: a line counts when it names a counter
(its NAME in any case, with or without its group prefix, or its description
from counters.def) and holds a number. Not a test by itself.

  counters.py parse FILE            NAME VALUE per counter found
  counters.py diff BEFORE AFTER     NAME DELTA per counter that changed
                                    (BEFORE and AFTER are parse outputs)
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEF = os.path.join(HERE, "..", "..", "src", "base", "counters.def")


def load_def():
    """[(NAME, group, description)] from counters.def."""
    out = []
    rx = re.compile(r'^USN_COUNTER\(\s*(\w+)\s*,\s*(\w+)\s*,\s*"([^"]*)"\s*\)')
    try:
        with open(DEF) as f:
            for line in f:
                m = rx.match(line.strip())
                if m:
                    out.append((m.group(1), m.group(2), m.group(3)))
    except OSError:
        pass
    return out


def parse(text):
    defs = load_def()
    names = {n for n, _, _ in defs}
    by_lower = {n.lower(): n for n in names}
    # "ip" group + "drop_bad_csum" -> IP_DROP_BAD_CSUM
    by_short = {}
    for n, g, _ in defs:
        pre = g.upper() + "_"
        if n.startswith(pre):
            by_short.setdefault(n[len(pre):].lower(), set()).add(n)
    by_desc = sorted(((d.lower(), n) for n, _, d in defs), key=lambda t: -len(t[0]))
    tok_rx = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")
    num_rx = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
    found = {}
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        # A group heading such as "ip:" or "[ip]".
        gm = re.fullmatch(r"\[?([a-z]+)\]?:?", line)
        if gm:
            group = gm.group(1)
            continue
        name = None
        span = None
        for m in tok_rx.finditer(line):
            t = m.group(0).rstrip(".").lower()
            t = t.split(".")[-1]
            if t in by_lower:
                name, span = by_lower[t], m.span()
                break
            if t in by_short:
                cands = by_short[t]
                pick = [c for c in cands if group and c.startswith(group.upper() + "_")]
                if len(cands) == 1 or len(pick) == 1:
                    name, span = (pick or list(cands))[0], m.span()
                    break
        if name is None:
            low = line.lower()
            for d, n in by_desc:
                i = low.find(d)
                if i >= 0:
                    name, span = n, (i, i + len(d))
                    break
        if name is None:
            continue
        rest = line[: span[0]] + " " + line[span[1]:]
        nm = num_rx.search(rest)
        if nm:
            found[name] = int(nm.group(1))
    return found


def read_parsed(path):
    out = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 2:
                out[p[0]] = int(p[1])
    return out


def main(argv):
    if len(argv) == 3 and argv[1] == "parse":
        with open(argv[2], errors="replace") as f:
            vals = parse(f.read())
        for n in sorted(vals):
            print(n, vals[n])
        return 0
    if len(argv) == 4 and argv[1] == "diff":
        a, b = read_parsed(argv[2]), read_parsed(argv[3])
        for n in sorted(set(a) | set(b)):
            d = b.get(n, 0) - a.get(n, 0)
            if d:
                print(n, d)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
