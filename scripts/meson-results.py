#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""meson-results.py - the two things scripts/test.sh asks of meson's test
machinery, so that every test counts once whatever state the build is in:

  meson-results.py select BUILDDIR PREFIX RESULTS BUILDLOG [SUITE...]
      From `meson introspect --tests`: the tests of the given suites (all
      when none). Those whose executable was not built are appended to
      RESULTS as failures; when there are such, prints the names of the
      others (or "-" when none is left), else prints nothing (run all).
  meson-results.py record JSONLOG PREFIX RESULTS LOGDIR
      Reads meson test's JSON log (one object per line with "name" and
      "result"), appends one line per test to RESULTS, writes a log per
      failed test into LOGDIR and prints "PASS|FAIL|SKIP name".

RESULTS lines are "STATUS<TAB>NAME<TAB>LOG". Not a test runner itself.
"""
import json
import os
import re
import subprocess
import sys

PASSING = {"OK": "PASS", "EXPECTEDFAIL": "PASS", "SKIP": "SKIP"}


def suites_of(t):
    # "usnet:unit" -> "unit"
    return sorted(s.split(":", 1)[-1] for s in t.get("suite", []))


def select(builddir, prefix, results, buildlog, suites):
    r = subprocess.run(["meson", "introspect", builddir, "--tests"],
                       capture_output=True, text=True)
    try:
        tests = json.loads(r.stdout or "[]")
    except ValueError:
        tests = []
    want = set(suites)
    run, missing = [], []
    for t in tests:
        if want and not want & set(suites_of(t)):
            continue
        (run if os.path.exists(t["cmd"][0]) else missing).append(t)
    with open(results, "a") as out:
        for t in missing:
            n = "%s:%s/%s" % (prefix, ",".join(suites_of(t)), t["name"])
            out.write("FAIL\t%s\t%s\n" % (n, buildlog))
            print("FAIL %s: not built" % n, file=sys.stderr)
    if missing:
        print(" ".join(t["name"] for t in run) or "-")
    return 0


def record(jsonlog, prefix, results, logdir):
    n = 0
    with open(jsonlog) as f, open(results, "a") as out:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                t = json.loads(line)
            except ValueError:
                continue
            n += 1
            # "usnet:unit / wire-eth" -> "gcc:unit/wire-eth"
            name = re.sub(r"^[^:/ ]+:", "", t.get("name", "?")).replace(" / ", "/")
            name = prefix + ":" + name
            status = PASSING.get(t.get("result"), "FAIL")
            log = ""
            if status == "FAIL":
                log = os.path.join(logdir, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".log")
                with open(log, "w") as lf:
                    lf.write("result: %s, exit status %s\n" % (t.get("result"), t.get("returncode")))
                    lf.write("command: %s\n" % " ".join(t.get("command", [])))
                    lf.write(t.get("stdout") or "")
                    lf.write(t.get("stderr") or "")
            out.write("%s\t%s\t%s\n" % (status, name, log))
            reason = "" if status == "PASS" else ": " + str(t.get("result"))
            print("%s %s%s" % (status, name, reason))
    if n == 0:
        print("(no tests in %s)" % jsonlog)
    return 0


def main(argv):
    if len(argv) >= 6 and argv[1] == "select":
        return select(argv[2], argv[3], argv[4], argv[5], argv[6:])
    if len(argv) == 6 and argv[1] == "record":
        return record(argv[2], argv[3], argv[4], argv[5])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
