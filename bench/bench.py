#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/bench.py - bench/run.sh's helpers (standard library only):

  bench.py parse KIND OUTFILE        one client's output as a JSON object on
                                     stdout: rate, unit, p50/p99 (us), errors
                                     KIND: wrk, load, dnsperf, iperf3, curl
  bench.py record KIND|none OUTFILE K=V...
                                     the same, merged with K=V fields: one record
  bench.py ticks PID...              utime+stime (clock ticks) of the PIDs and
                                     all their descendants, summed
  bench.py cpustat                   busy ticks of all CPUs (from /proc/stat)
  bench.py median RAW WL CLIENT SERVER   the median rate of those runs
  bench.py mem PID...                anon+file RSS and PSS (kB) of the PIDs and
                                     their descendants (/proc/PID/smaps_rollup)
  bench.py slab                      Slab + per-CPU (kB) from /proc/meminfo
  bench.py table RAW.jsonl MACHINE.json OUT.md
                                     the markdown report from every run's record

A record (one line of RAW.jsonl) is one run of one client against one
server: {"workload", "client", "server": "usnet"|"kernel", "run", "rate",
"unit", "p50_us", "p99_us", "errors", "requests", "server_cpu_s",
"machine_cpu_s", ...}; other kinds ("idle", "mem", "note") carry their own
fields.
"""
import json
import os
import re
import statistics
import sys


def _num_unit(s):
    """'1.23ms' / '850.00us' / '2.1s' -> microseconds."""
    m = re.match(r'([\d.]+)(us|ms|s|m)$', s)
    if not m:
        return None
    v = float(m.group(1))
    return v * {'us': 1, 'ms': 1e3, 's': 1e6, 'm': 60e6}[m.group(2)]


def parse_wrk(text):
    r = {'unit': 'req/s'}
    m = re.search(r'Requests/sec:\s+([\d.]+)', text)
    r['rate'] = float(m.group(1)) if m else None
    m = re.search(r'(\d+) requests in', text)
    r['requests'] = int(m.group(1)) if m else None
    for pct, key in (('50', 'p50_us'), ('99', 'p99_us')):
        m = re.search(r'^\s+%s(?:\.000)?%%\s+(\S+)' % pct, text, re.M)
        r[key] = _num_unit(m.group(1)) if m else None
    err = 0
    m = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', text)
    if m:
        err += sum(int(x) for x in m.groups())
    m = re.search(r'Non-2xx or 3xx responses: (\d+)', text)
    if m:
        err += int(m.group(1))
    r['errors'] = err
    m = re.search(r'Transfer/sec:\s+([\d.]+)([KMG]?B)', text)
    if m:
        r['bytes_per_s'] = float(m.group(1)) * {'B': 1, 'KB': 1024, 'MB': 1024**2, 'GB': 1024**3}[m.group(2)]
    return r


def parse_load(text):
    j = json.loads(text.strip().splitlines()[-1])
    lat = j.get('latency_us', {})
    r = {'unit': 'req/s' if j['mode'] == 'http' else 'q/s', 'rate': j['requests_per_s'],
         'requests': j['requests'], 'p50_us': lat.get('p50'), 'p99_us': lat.get('p99'),
         'errors': j['errors']['total'], 'bytes_per_s': j.get('bytes_per_s')}
    if j.get('stalls'):
        r['stalls'] = j['stalls']
    return r


def parse_loadbulk(text):
    r = parse_load(text)
    r['unit'] = 'Gbit/s'
    r['rate'] = (r.get('bytes_per_s') or 0) * 8 / 1e9
    return r


def parse_dnsperf(text):
    r = {'unit': 'q/s'}
    m = re.search(r'Queries per second:\s+([\d.]+)', text)
    r['rate'] = float(m.group(1)) if m else None
    m = re.search(r'Queries completed:\s+(\d+)', text)
    r['requests'] = int(m.group(1)) if m else None
    m = re.search(r'Queries lost:\s+(\d+)', text)
    r['errors'] = int(m.group(1)) if m else None
    # dnsperf 2.10 has no percentiles: its average and maximum instead.
    m = re.search(r'Average Latency \(s\):\s+([\d.]+) \(min ([\d.]+), max ([\d.]+)\)', text)
    if m:
        r['avg_us'] = float(m.group(1)) * 1e6
        r['max_us'] = float(m.group(3)) * 1e6
    r['p50_us'] = r['p99_us'] = None
    return r


def parse_iperf3(text):
    j = json.loads(text)
    bps = j['end']['sum_received']['bits_per_second']
    return {'unit': 'Gbit/s', 'rate': bps / 1e9, 'requests': None, 'errors': j['end']['sum_sent'].get('retransmits', 0),
            'p50_us': None, 'p99_us': None, 'retransmits': j['end']['sum_sent'].get('retransmits')}


def parse_curl(text):
    """Lines 'SIZE TIME' from curl -w, one per download."""
    size = t = 0.0
    n = 0
    for line in text.splitlines():
        p = line.split()
        if len(p) == 2:
            size += float(p[0])
            t += float(p[1])
            n += 1
    return {'unit': 'Gbit/s', 'rate': size * 8 / t / 1e9 if t else None, 'requests': n, 'errors': 0,
            'p50_us': None, 'p99_us': None}


def descendants(pids):
    out = []
    todo = [int(p) for p in pids]
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.append(p)
        try:
            for t in os.listdir('/proc/%d/task' % p):
                with open('/proc/%d/task/%s/children' % (p, t)) as f:
                    todo += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def ticks(pids):
    total = 0
    for p in descendants(pids):
        try:
            with open('/proc/%d/stat' % p) as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(')') + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total


def cpustat():
    """Busy ticks of all CPUs together."""
    busy = {}
    with open('/proc/stat') as f:
        for line in f:
            p = line.split()
            if re.match(r'cpu\d+$', p[0]):
                v = [int(x) for x in p[1:]]
                busy[p[0]] = sum(v) - v[3] - v[4]  # all but idle and iowait
    return busy


def mem(pids):
    tot = {'rss_kb': 0, 'pss_kb': 0, 'anon_kb': 0}
    for p in descendants(pids):
        try:
            with open('/proc/%d/smaps_rollup' % p) as f:
                for line in f:
                    k, _, v = line.partition(':')
                    v = v.split()
                    if k == 'Rss':
                        tot['rss_kb'] += int(v[0])
                    elif k == 'Pss':
                        tot['pss_kb'] += int(v[0])
                    elif k == 'Anonymous':
                        tot['anon_kb'] += int(v[0])
        except OSError:
            pass
    return tot


def slab():
    v = {}
    with open('/proc/meminfo') as f:
        for line in f:
            k, _, rest = line.partition(':')
            v[k] = int(rest.split()[0])
    return {'slab_kb': v.get('Slab', 0), 'percpu_kb': v.get('Percpu', 0), 'pagetables_kb': v.get('PageTables', 0)}


# ---- the report ----

def fmt(v, unit=''):
    if v is None:
        return '–'
    if unit == 'Gbit/s':
        return '%.2f' % v
    if abs(v) >= 100000:
        return '%.0fk' % (v / 1000)
    if abs(v) >= 10000:
        return '%.1fk' % (v / 1000)
    if abs(v) >= 100:
        return '%.0f' % v
    return '%.2f' % v


def cell(vals, unit):
    vals = [v for v in vals if v is not None]
    if not vals:
        return '–', None
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt(med, unit), med
    return '%s (%s–%s)' % (fmt(med, unit), fmt(min(vals), unit), fmt(max(vals), unit)), med


def us(v):
    return '–' if v is None else ('%.0f' % v if v >= 100 else '%.1f' % v)


def table(raw, machine, out):
    recs = [json.loads(line) for line in open(raw) if line.strip()]
    m = json.load(open(machine))
    L = []
    L.append('# usnet vs the Linux kernel: benchmark results')
    L.append('')
    L.append('Generated by `bench/run.sh %s` on %s, commit `%s`.' % (m.get('args', ''), m['date'], m['commit']))
    if m.get('note'):
        L.append('')
        L.append('**%s**' % m['note'])
    L.append('')
    L.append('| machine | |')
    L.append('| --- | --- |')
    for k in ('cpu', 'cores', 'kernel', 'memory', 'link', 'usnet_server_dev', 'usnet_client_dev', 'pinning',
              'congestion', 'runs'):
        if k in m:
            L.append('| %s | %s |' % (k.replace('_', ' '), m[k]))
    L.append('')
    runs = [r for r in recs if r.get('kind', 'run') == 'run']
    order = []
    for r in runs:
        key = (r['workload'], r['client'])
        if key not in order:
            order.append(key)
    L.append('## Throughput')
    L.append('')
    L.append('Median of the runs (min–max in brackets); usnet and the kernel alternate run by run (A B A B). '
             'Ratio = usnet median / kernel median (higher is better for usnet). CPU/req: the server '
             'process\'s own CPU time (utime+stime from /proc/PID/stat, all its threads and children) divided '
             'by the requests answered — it misses the softirq work that veth charges to the sending CPU; '
             '"machine" is both CPUs\' busy time per request.')
    L.append('')
    L.append('| workload | client | unit | usnet | kernel | ratio | usnet CPU µs/req (server / machine) '
             '| kernel CPU µs/req (server / machine) | errors u/k |')
    L.append('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for wl, cl in order:
        rs = [r for r in runs if r['workload'] == wl and r['client'] == cl]
        unit = rs[0].get('unit', '')
        cells, meds, cpus, errs = {}, {}, {}, {}
        for side in ('usnet', 'kernel'):
            sr = [r for r in rs if r['server'] == side]
            cells[side], meds[side] = cell([r.get('rate') for r in sr], unit)
            per = []
            mper = []
            for r in sr:
                n = r.get('requests') or 0
                if unit == 'Gbit/s':
                    n = (r.get('rate') or 0) * 1e9 / 8 * (r.get('duration') or 0) / 1e6  # per MB
                if n and r.get('server_cpu_s') is not None:
                    per.append(r['server_cpu_s'] / n * 1e6)
                if n and r.get('machine_cpu_s') is not None:
                    mper.append(r['machine_cpu_s'] / n * 1e6)
            cpus[side] = ('%s / %s' % (us(statistics.median(per)) if per else '–',
                                       us(statistics.median(mper)) if mper else '–')) if sr else 'n/a'
            errs[side] = str(sum(r.get('errors') or 0 for r in sr)) if sr else '–'
            if not sr:
                cells[side] = 'n/a'
        ratio = '%.2f' % (meds['usnet'] / meds['kernel']) if meds['usnet'] and meds['kernel'] else '–'
        if unit == 'Gbit/s':
            cpus = {k: v.replace('µs', '') for k, v in cpus.items()}
        L.append('| %s | %s | %s | %s | %s | %s | %s | %s | %s/%s |' % (wl, cl, unit, cells['usnet'],
                                                                       cells['kernel'], ratio, cpus['usnet'],
                                                                       cpus['kernel'], errs['usnet'],
                                                                       errs['kernel']))
    if any(r.get('unit') == 'Gbit/s' for r in runs):
        L.append('')
        L.append('For Gbit/s rows the CPU columns are µs per MB received.')
    lat = [r for r in recs if r.get('kind') == 'latency']
    if lat:
        L.append('')
        L.append('## Latency at half of each server\'s peak')
        L.append('')
        L.append('Each server is driven at half of the peak the same client measured against it (keep-alive 1 KB '
                 'for HTTP, dns-a for DNS), open loop. usnet-load: p50/p99 from its histogram, HTTP latency from '
                 'each request\'s scheduled time (-R). dnsperf 2.10 prints no percentiles: its average and maximum. '
                 'wrk has no fixed-rate mode in Debian: no wrk row.')
        L.append('')
        L.append('| workload | client | usnet rate: asked (got) | usnet p50 / p99 µs | kernel rate: asked (got) '
                 '| kernel p50 / p99 µs | errors u/k |')
        L.append('| --- | --- | --- | --- | --- | --- | --- |')
        lorder = []
        for r in lat:
            if (r['workload'], r['client']) not in lorder:
                lorder.append((r['workload'], r['client']))
        for wl, cl in lorder:
            row = [wl, cl]
            errs = []
            for side in ('usnet', 'kernel'):
                sr = [r for r in lat if r['workload'] == wl and r['client'] == cl and r['server'] == side]
                if not sr:
                    row += ['n/a', 'n/a']
                    errs.append('–')
                    continue
                rate = statistics.median([r['target_rate'] for r in sr])
                got = statistics.median([r.get('rate') or 0 for r in sr])
                if sr[0].get('p50_us') is not None:
                    a = statistics.median([r['p50_us'] for r in sr])
                    b = statistics.median([r['p99_us'] for r in sr])
                    row += ['%s (%s)' % (fmt(rate), fmt(got)), '%s / %s' % (us(a), us(b))]
                else:
                    a = statistics.median([r.get('avg_us') or 0 for r in sr])
                    b = statistics.median([r.get('max_us') or 0 for r in sr])
                    row += ['%s (%s)' % (fmt(rate), fmt(got)), 'avg %s / max %s' % (us(a), us(b))]
                errs.append(str(sum(r.get('errors') or 0 for r in sr)))
            L.append('| %s | %s/%s |' % (' | '.join(row), errs[0], errs[1]))
    idle = [r for r in recs if r.get('kind') == 'idle']
    if idle:
        L.append('')
        L.append('## CPU used by each server while idle')
        L.append('')
        L.append('utime+stime of the server (and its children) with no traffic; resolution one clock tick '
                 '(10 ms), i.e. 0.1 % over 10 s.')
        L.append('')
        L.append('| server | stack | seconds | CPU % |')
        L.append('| --- | --- | --- | --- |')
        for r in idle:
            L.append('| %s | %s | %.0f | %.3f |' % (r['name'], r['server'], r['seconds'], r['cpu_pct']))
    mem_ = [r for r in recs if r.get('kind') == 'mem']
    if mem_:
        L.append('')
        L.append('## Memory per idle established connection')
        L.append('')
        L.append('N keep-alive connections, each after one 1 KB request, held open by bench/hold.py (kernel '
                 'sockets in the client namespace, several source addresses) against each server. usnet: growth '
                 'of the server process\'s anonymous memory (smaps_rollup). Kernel: growth of the kernel\'s '
                 'slab with nginx minus its growth with usnet-httpd for the same client (the client\'s own '
                 'sockets are in the same kernel), plus the growth of nginx\'s anonymous memory (all workers). '
                 'Slab is machine-wide: anything else running moves it.')
        L.append('')
        L.append('| server | connections held (of those tried) | process anon growth (kB) | slab growth (kB) '
                 '| bytes per connection |')
        L.append('| --- | --- | --- | --- | --- |')
        for r in mem_:
            L.append('| %s | %d (of %s) | %d | %d | %s |' % (r['name'], r['held'], r.get('wanted', '?'), r['anon_kb'],
                                                           r['slab_kb'],
                                                     '%.0f' % r['per_conn_bytes'] if r.get('per_conn_bytes') is not None else '–'))
    notes = [r for r in recs if r.get('kind') == 'note']
    L.append('')
    L.append('## What each row measures')
    L.append('')
    for line in m.get('explain', []):
        L.append('- ' + line)
    for r in notes:
        L.append('- ' + r['text'])
    L.append('')
    L.append('Raw records: `%s`.' % m.get('raw', raw))
    text = '\n'.join(L) + '\n'
    with open(out, 'w') as f:
        f.write(text)
    sys.stdout.write(text)


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    cmd = a[0]
    if cmd == 'parse':
        text = open(a[2]).read()
        fn = {'wrk': parse_wrk, 'load': parse_load, 'dnsperf': parse_dnsperf, 'iperf3': parse_iperf3,
              'curl': parse_curl, 'loadbulk': parse_loadbulk}[a[1]]
        try:
            r = fn(text)
        except Exception as e:  # a run that printed nothing usable
            r = {'rate': None, 'errors': None, 'parse_error': str(e)[:200]}
        print(json.dumps(r))
    elif cmd == 'record':
        # record KIND OUTFILE KEY=VALUE...: the parsed output and the fields.
        if a[1] == 'none':
            r = {}
        else:
            try:
                r = {'wrk': parse_wrk, 'load': parse_load, 'dnsperf': parse_dnsperf, 'iperf3': parse_iperf3,
                     'curl': parse_curl, 'loadbulk': parse_loadbulk}[a[1]](open(a[2]).read())
            except Exception as e:
                r = {'rate': None, 'errors': None, 'parse_error': str(e)[:200]}
        for kv in a[3:]:
            k, _, v = kv.partition('=')
            try:
                v = json.loads(v)
            except ValueError:
                pass
            r[k] = v
        print(json.dumps(r, sort_keys=True))
    elif cmd == 'ticks':
        print(ticks(a[1:]))
    elif cmd == 'cpustat':
        print(sum(cpustat().values()))
    elif cmd == 'median':
        # median RAW WORKLOAD CLIENT SERVER: the median rate of those runs.
        vals = [r['rate'] for r in (json.loads(x) for x in open(a[1]) if x.strip())
                if r.get('kind', 'run') == 'run' and r['workload'] == a[2] and r['client'] == a[3]
                and r['server'] == a[4] and r.get('rate')]
        print('%.0f' % statistics.median(vals) if vals else '')
    elif cmd == 'mem':
        print(json.dumps(mem(a[1:])))
    elif cmd == 'slab':
        print(json.dumps(slab()))
    elif cmd == 'table':
        table(a[1], a[2], a[3])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
