#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""dns_compare.py - asks two DNS servers the same queries with dig and
compares what they answered, for tests/interop/test-dnsd.sh (usnet-dnsd
against NSD). Run inside the test's namespace; standard library only (dig
from bind9-dnsutils does the asking). Not a test by itself: the shell script
turns the lines into cases. Refuses to send outside 10.77.0.0/24.

  dns_compare.py --a HOST:PORT [--b HOST:PORT] [--names A,B] [--save DIR]
                 [--jobs N] QUERIES
      QUERIES holds one query a line: "GROUP NAME TYPE [CLASS] [+OPTION...]"
      (# starts a comment). dig runs with +norec +nocookie +time=2 +tries=1
      and the options (+tcp, +noedns, +bufsize=N, +ignore...). Each query
      prints one line, in the order of the file:
        same GROUP NAME TYPE CLASS [OPTIONS]: SUMMARY
        differs GROUP NAME TYPE CLASS [OPTIONS]: WHAT
      comparing, section by section: the RCODE (extended with EDNS), the
      header flags, the transport dig ended on (a TC=1 answer over UDP is
      retried over TCP unless +ignore), the QUESTION exactly, ANSWER,
      AUTHORITY and ADDITIONAL as sets of records (owner names and the
      domain names inside NS, CNAME, PTR, MX, SRV, SOA and RP data compared
      without case; TTL, class, type and the rest of the data exactly), EDNS
      (presence, version, flags, UDP size, options but EDE). AXFR and IXFR,
      which dig reports only as "Transfer failed", are also asked once more
      by dns_hostile.py's own client, and that answer compared too.
      Without --b, one line per query: "got GROUP NAME ...: SUMMARY".
      Then, for server A, one line per query whose answer holds its name:
        case GROUP NAME TYPE ok|bad: WHAT
      (every owner name equal to the query name but for case must carry
      the query's case, and so must the question).
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dns_hostile  # noqa: E402  (the raw client, for AXFR and IXFR)

BASE = ["+norec", "+nocookie", "+time=2", "+tries=1"]
NAME_TYPES = {"NS", "CNAME", "PTR", "DNAME", "MX", "SRV", "SOA", "RP", "AFSDB", "KX", "MB", "MD", "MF",
              "MG", "MR", "MINFO"}
SECTIONS = ("QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL")
RR_RX = re.compile(r"^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$")


class Query:
    def __init__(self, line, lineno):
        f = line.split()
        self.group = f[0]
        self.name = f[1]
        self.type = f[2]
        rest = f[3:]
        self.qclass = "IN"
        if rest and not rest[0].startswith("+"):
            self.qclass = rest[0]
            rest = rest[1:]
        self.opts = rest
        self.lineno = lineno

    def label(self):
        return " ".join([self.group, self.name, self.type, self.qclass] + self.opts)

    def xfr(self):
        return self.type.upper() == "AXFR" or self.type.upper().startswith("IXFR")


def read_queries(path):
    out = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(Query(line, i))
    return out


def dig(server, q):
    host, port = server
    cmd = ["dig", "@" + host, "-p", str(port)] + BASE + q.opts + ["-c", q.qclass, "-t", q.type, "-q", q.name]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=15)
        return p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return ";; dig did not finish within 15 s\n"


def norm_rr(line):
    m = RR_RX.match(line)
    if not m:
        return ("?", 0, "?", "?", line.strip())
    owner, ttl, cls, typ, rdata = m.groups()
    rdata = " ".join(rdata.split()) if not typ.upper() in ("TXT", "SPF", "CAA", "HINFO") else rdata.strip()
    if typ.upper() in NAME_TYPES:
        rdata = rdata.lower()
    return (owner.lower(), int(ttl), cls, typ, rdata)


def parse_dig(text):
    """The last answer dig printed, as a dict; "status" tells whether
    there was one."""
    r = {"status": "answer", "rcode": None, "opcode": None, "flags": "", "edns": None,
         "sections": {s: [] for s in SECTIONS}, "raw_owners": {s: [] for s in SECTIONS},
         "transport": None, "retried": "Truncated, retrying in TCP mode" in text, "size": None,
         "question_raw": [], "warnings": []}
    if "Transfer failed." in text:
        r["status"] = "transfer failed"
    blocks = text.split(";; Got answer:")
    if len(blocks) == 1:
        if r["status"] == "answer":
            errs = [ln.strip(";; ").strip() for ln in text.splitlines()
                    if re.search(r"timed out|no servers could be reached|connection refused|"
                                 r"communications error|reset|end of file|did not finish", ln)]
            r["status"] = "no answer" + (" (%s)" % errs[-1] if errs else "")
        return r
    body = blocks[-1]
    sec = None
    in_opt = False
    for ln in body.splitlines():
        s = ln.strip()
        m = re.match(r";; ->>HEADER<<- opcode: (\S+), status: (\S+), id", s)
        if m:
            r["opcode"], r["rcode"] = m.group(1), m.group(2)
            continue
        m = re.match(r";; flags:([^;]*);", s)
        if m:
            r["flags"] = " ".join(sorted(m.group(1).split()))
            continue
        if s == ";; OPT PSEUDOSECTION:":
            in_opt = True
            r["edns"] = {"version": None, "flags": "", "udp": None, "options": []}
            continue
        m = re.match(r";; (QUESTION|ANSWER|AUTHORITY|ADDITIONAL) SECTION:", s)
        if m:
            sec = m.group(1)
            in_opt = False
            continue
        if in_opt and s.startswith("; EDNS:"):
            m = re.match(r"; EDNS: version: (\d+), flags:([^;]*);(.*)", s)
            if m:
                r["edns"]["version"] = int(m.group(1))
                r["edns"]["flags"] = " ".join(sorted(m.group(2).split()))
                rest = m.group(3)
                u = re.search(r"udp: (\d+)", rest)
                r["edns"]["udp"] = int(u.group(1)) if u else None
                mbz = re.search(r"MBZ: (\S+)", rest)
                if mbz:
                    r["edns"]["flags"] += " MBZ=" + mbz.group(1).rstrip(",")
            continue
        if in_opt and s.startswith("; ") and ":" in s:
            opt = s[2:]
            name = opt.split(":", 1)[0]
            if name == "EDE":
                continue  # extended errors differ on purpose
            if name == "COOKIE":
                opt = "COOKIE (%s)" % ("server cookie" if len(opt.split(":", 1)[1].split()[0]) > 16
                                       else "client cookie only")
            r["edns"]["options"].append(opt)
            continue
        if s.startswith(";; WARNING") or s.startswith(";; Warning"):
            r["warnings"].append(s)
            continue
        m = re.match(r";; SERVER: .*\((UDP|TCP)\)", s)
        if m:
            r["transport"] = m.group(1)
            continue
        m = re.match(r";; MSG SIZE\s+rcvd: (\d+)", s)
        if m:
            r["size"] = int(m.group(1))
            continue
        if not s or s.startswith(";;"):
            if not s:
                sec = None if sec != "QUESTION" else sec
            continue
        if sec == "QUESTION" and s.startswith(";"):
            f = s[1:].split()
            r["question_raw"].append(" ".join(f))
            r["sections"]["QUESTION"].append(" ".join(f))
            r["raw_owners"]["QUESTION"].append(f[0] if f else "")
            continue
        if sec in ("ANSWER", "AUTHORITY", "ADDITIONAL") and not s.startswith(";"):
            r["sections"][sec].append(norm_rr(s))
            r["raw_owners"][sec].append(s.split()[0])
    if r["edns"] is not None:
        r["edns"]["options"].sort()
    return r


def fmt_rr(rr):
    if isinstance(rr, str):
        return rr
    owner, ttl, cls, typ, rdata = rr
    if len(rdata) > 40:
        rdata = rdata[:37] + "..."
    return "%s %d %s %s %s" % (owner, ttl, cls, typ, rdata)


def edns_str(e):
    if e is None:
        return "no EDNS"
    s = "EDNS v%s udp %s flags [%s]" % (e["version"], e["udp"], e["flags"])
    if e["options"]:
        s += " options " + ", ".join(e["options"])
    return s


def summary(r):
    if r["status"] != "answer":
        return r["status"]
    c = "/".join(str(len(r["sections"][s])) for s in SECTIONS[1:])
    return "%s [%s] %s %s%s, %s" % (r["rcode"], r["flags"], c, r["transport"] or "?",
                                    " after TC" if r["retried"] else "",
                                    "EDNS udp %s" % r["edns"]["udp"] if r["edns"] else "no EDNS")


def compare(ra, rb, na, nb):
    """What differs between two parsed answers, as a list of strings."""
    d = []
    if ra["status"] != rb["status"]:
        d.append("%s %s, %s %s" % (na, ra["status"], nb, rb["status"]))
        return d
    if ra["status"] != "answer":
        return d
    for key, what in (("rcode", "rcode"), ("opcode", "opcode"), ("flags", "flags"),
                      ("transport", "transport"), ("retried", "TC then TCP retry")):
        if ra[key] != rb[key]:
            d.append("%s %s %s, %s %s" % (what, na, ra[key], nb, rb[key]))
    if ra["edns"] != rb["edns"]:
        d.append("%s %s, %s %s" % (na, edns_str(ra["edns"]), nb, edns_str(rb["edns"])))
    for sec in SECTIONS:
        a, b = ra["sections"][sec], rb["sections"][sec]
        if sec == "QUESTION":
            if a != b:
                d.append("QUESTION %s %s, %s %s" % (na, a, nb, b))
            continue
        sa, sb = set(a), set(b)
        if sa == sb:
            if len(a) != len(b):
                d.append("%s: %s has %d records, %s %d (duplicates)" % (sec, na, len(a), nb, len(b)))
            continue
        only_a = sorted(sa - sb)
        only_b = sorted(sb - sa)
        parts = []
        if only_a:
            parts.append("only %s: %s" % (na, "; ".join(fmt_rr(x) for x in only_a[:4])
                                          + (" (+%d)" % (len(only_a) - 4) if len(only_a) > 4 else "")))
        if only_b:
            parts.append("only %s: %s" % (nb, "; ".join(fmt_rr(x) for x in only_b[:4])
                                          + (" (+%d)" % (len(only_b) - 4) if len(only_b) > 4 else "")))
        d.append("%s %s" % (sec, " | ".join(parts)))
    return d


def case_check(q, r):
    """'' when every owner equal to the query name (but for case) is
    spelled as asked, and the question too; else what is not; None when
    there is nothing to check."""
    if r["status"] != "answer":
        return None
    want = q.name if q.name.endswith(".") else q.name + "."
    bad = []
    n = 0
    for sec in SECTIONS:
        for owner in r["raw_owners"][sec]:
            if owner.lower() == want.lower():
                n += 1
                if owner != want:
                    bad.append("%s %s" % (sec, owner))
    if not n:
        return None
    return ", ".join(bad)


def raw_xfr(server, q):
    host, port = server
    t = q.type.upper()
    serial = None
    if t.startswith("IXFR="):
        serial = int(t[5:])
        t = "IXFR"
    qm = dns_hostile.query(q.name, t, q.qclass, qid=0x3131, edns=False)
    if serial is not None:
        soa = (dns_hostile.wire_name(q.name) + dns_hostile.struct.pack("!HHIH", 6, 1, 0, 22) + b"\0\0"
               + dns_hostile.struct.pack("!IIIII", serial, 0, 0, 0, 0))
        qm = qm[:8] + b"\0\1" + qm[10:] + soa
    out = []
    for tcp in (True, False):
        if tcp:
            d = dns_hostile.tcp_exchange(host, port, dns_hostile.frame(qm), wait=2.0)
        else:
            d = dns_hostile.udp_exchange(host, port, qm, wait=2.0)
        out.append(("TCP " if tcp else "UDP ") + (d if isinstance(d, str) else dns_hostile.describe(d)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True, help="HOST:PORT of the server under test")
    ap.add_argument("--b", help="HOST:PORT of the reference")
    ap.add_argument("--names", default="usnet-dnsd,nsd")
    ap.add_argument("--save", help="a directory for every dig output")
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("queries")
    a = ap.parse_args()

    def server(s):
        h, p = s.rsplit(":", 1)
        dns_hostile.guard(h)
        return (h, int(p))

    sa = server(a.a)
    sb = server(a.b) if a.b else None
    na, nb = a.names.split(",")
    qs = read_queries(a.queries)
    if a.save:
        os.makedirs(a.save, exist_ok=True)

    def run(i, q):
        ta = dig(sa, q)
        tb = dig(sb, q) if sb else None
        xa = raw_xfr(sa, q) if q.xfr() else None
        xb = raw_xfr(sb, q) if q.xfr() and sb else None
        if a.save:
            with open(os.path.join(a.save, "%03d-%s.txt" % (i, na)), "w") as f:
                f.write(ta + ("\n".join(xa) + "\n" if xa else ""))
            if sb:
                with open(os.path.join(a.save, "%03d-%s.txt" % (i, nb)), "w") as f:
                    f.write(tb + ("\n".join(xb) + "\n" if xb else ""))
        return ta, tb, xa, xb

    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        results = list(ex.map(lambda iq: run(*iq), enumerate(qs)))
    cases = []
    for q, (ta, tb, xa, xb) in zip(qs, results):
        ra = parse_dig(ta)
        if sb:
            rb = parse_dig(tb)
            diffs = compare(ra, rb, na, nb)
            if xa != xb:
                diffs.append("raw %s: %s, %s: %s" % (na, "; ".join(xa), nb, "; ".join(xb)))
            if diffs:
                print("differs %s: %s" % (q.label(), " || ".join(diffs)), flush=True)
            else:
                print("same %s: %s%s" % (q.label(), summary(ra), (" (raw: %s)" % "; ".join(xa)) if xa else ""),
                      flush=True)
        else:
            print("got %s: %s%s" % (q.label(), summary(ra), (" (raw: %s)" % "; ".join(xa)) if xa else ""),
                  flush=True)
        c = case_check(q, ra)
        if c is not None:
            cases.append("case %s %s" % (q.label(), "ok" if not c else "bad: owner names spelled otherwise: " + c))
    for c in cases:
        print(c)
    return 0


if __name__ == "__main__":
    sys.exit(main())
