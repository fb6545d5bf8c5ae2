#!/usr/bin/env python3
"""Turn a bench/cluster.sh results directory into markdown: what a delivery costs on
1, 2 and 3 kamratd nodes of one cluster, and what of it is the bus's.

usage: cluster_table.py RESULTS_DIR

Files: LABEL__RxM.jsonl (loadgen's lines; LABEL is n1, n2, n3 ... for that many
nodes on one redis-server, solo for one kamratd without [cluster]) and
LABEL__RxM.probe ("STEP EDGE BUS_SENT BUS_RECEIVED REDIS_IN REDIS_OUT" at both
edges of every step's window, STEP counting the step lines from 1).  In a step's
srv_cpu_s_each the nodes come first and redis-server last (none in solo).

Per step: kamratd CPU = the nodes' CPU over the window, redis CPU = redis-server's,
both per 1M deliveries; "x 1 node" = total CPU per delivery over the 1-node
figure at the same offered rate; bus bytes = kamrat_bus_sent_bytes_total of all
nodes over the window, Redis bytes = its network input + output (pub/sub and the
mirror writes), both per delivery.
"""
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the tools after every run
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import table  # noqa: E402  (the results parser, number format, judgement of a step)

TITLE = {'solo': '1, no [cluster]'}


def nodes(label):
    """The node count of a label: solo -> 0 (no Redis), nN -> N; None for others."""
    if label == 'solo':
        return 0
    m = re.fullmatch(r'n(\d+)', label)
    return int(m.group(1)) if m else None


def probes(path):
    """STEP -> {'start': [4 numbers], 'end': [...]} from a .probe file."""
    out = {}
    if os.path.exists(path):
        for line in open(path):
            f = line.split()
            if len(f) == 6 and f[0].isdigit():
                out.setdefault(int(f[0]), {})[f[1]] = [float(v) for v in f[2:]]
    return out


def figures(step, n, probe):
    """The cluster figures of one step (None where there are none)."""
    deliv = step.get('delivered_s', 0) * step.get('window_s', 0)
    each = step.get('srv_cpu_s_each') or []
    per_m = (lambda s: s * 1e6 / deliv) if deliv else (lambda s: None)
    kamratd = sum(each[:-1]) if n and each else sum(each)
    redis = each[-1] if n and each else None
    f = {'kamratd': per_m(kamratd), 'redis': per_m(redis) if redis is not None else None,
         'total': per_m(kamratd + (redis or 0)), 'bus': None, 'redis_net': None}
    if probe and 'start' in probe and 'end' in probe and deliv:
        d = [b - a for a, b in zip(probe['start'], probe['end'])]
        f['bus'] = d[0] / deliv if n > 1 else None
        f['redis_net'] = (d[2] + d[3]) / deliv
    return f


def load(d):
    """config -> label -> {'run': table.load's entry, 'fixed': [(step, figures)],
    'steps': [(step, figures)]}"""
    runs, meta = table.load(d)
    out = {}
    for (label, cfg), e in runs.items():
        n = nodes(label)
        if n is None:
            continue
        pr = probes(os.path.join(d, f'{label}__{cfg}.probe'))
        steps = [(s, figures(s, n, pr.get(i + 1))) for i, s in enumerate(e['steps'])]
        out.setdefault(cfg, {})[label] = {
            'run': e, 'n': n, 'steps': steps,
            'fixed': [(s, f) for s, f in steps if s['kind'] != 'search']}
    return out, meta


def notes(step):
    """table.step_notes, with the servers' run-queue wait left out of "disturbed": the
    nodes and Redis share one core, so they wait for each other by design."""
    why = step.get('disturbed_by')
    if why is None:  # before the steal and others readings
        why = ['gen_runq'] if step.get('gen_runq_wait_pct', 0) > 5 else []
    why = [w for w in why if w != 'srv_runq']
    return table.step_notes(dict(step, disturbed=bool(why), disturbed_by=why))


def labels_of(by_label):
    return sorted(by_label, key=lambda lb: by_label[lb]['n'])


def rate_key(step):
    return round(step.get('offered_deliv_s', 0))


def fixed_at(entry, rate):
    for s, f in entry['fixed'] if entry else []:
        if rate_key(s) == rate:
            return s, f
    return None, None


def ratio(a, b):
    return f'{a / b:.2f}' if a is not None and b else '–'


def diff(a, b):
    return table.num(a - b) if a is not None and b is not None else '–'


def summary(data):
    """One line per configuration and offered rate: total CPU per delivery by node count."""
    counts = sorted({e['n'] for c in data.values() for e in c.values() if e['n'] > 0})
    print('### Per added node')
    print()
    print('Total server CPU (every kamratd node + redis-server) in s per 1M deliveries at the same '
          'offered rate; "k/j": k nodes over j nodes; "bus": the CPU a delivery costs more on k '
          'nodes than on 1 (kamratd and Redis, both sides of the bus); "mirror": what the 1-node '
          'cluster costs more than one kamratd without [cluster] (the copy of every event in Redis).')
    print()
    head = ['rooms x members', 'offered deliveries/s'] + (['solo'] if any('solo' in c for c in data.values()) else [])
    head += [f'{k} node{"s" if k > 1 else ""}' for k in counts]
    head += [f'{b}/{a}' for a, b in zip(counts, counts[1:])]
    head += [f'bus at {k}' for k in counts if k > 1]
    if 'solo' in head:
        head.append('mirror')
    print('| ' + ' | '.join(head) + ' |')
    print('|' + '---|' * len(head))
    for cfg in table.fanout_configs({(None, c): None for c in data}):
        by = data[cfg]
        rates = sorted({rate_key(s) for e in by.values() for s, _ in e['fixed']})
        for rate in rates:
            tot = {}
            for lb, e in by.items():
                _s, f = fixed_at(e, rate)
                tot[e['n']] = f['total'] if f else None
            row = [cfg, table.num(rate)]
            if 'solo' in head:
                row.append(table.num(tot.get(0)))
            row += [table.num(tot.get(k)) for k in counts]
            row += [ratio(tot.get(b), tot.get(a)) for a, b in zip(counts, counts[1:])]
            row += [diff(tot.get(k), tot.get(1)) for k in counts if k > 1]
            if 'solo' in head:
                row.append(diff(tot.get(1), tot.get(0)))
            print('| ' + ' | '.join(row) + ' |')


def details(cfg, by):
    r, m = cfg.split('x')
    print()
    print(f'### {r} rooms x {m} members')
    print()
    print('| nodes | offered deliveries/s | delivered/s | p99 ms | kamratd CPU s / 1M | redis CPU s / 1M '
          '| total s / 1M | x 1 node | bus bytes / delivery | Redis bytes / delivery | generator CPU % | notes |')
    print('|' + '---|' * 12)
    one = by.get('n1')
    for lb in labels_of(by):
        e = by[lb]
        if not e['fixed']:
            err = e['run'].get('error', {}).get('error', 'no result')
            print(f'| {TITLE.get(lb, e["n"])} | ' + ' | '.join(['–'] * 10) + f' | {err} |')
            continue
        for s, f in e['fixed']:
            _s1, f1 = fixed_at(one, rate_key(s))
            print(f"| {TITLE.get(lb, e['n'])} | {table.num(s['offered_deliv_s'])} | {table.num(s['delivered_s'])} "
                  f"| {table.num(s['p99_ms'])} | {table.num(f['kamratd'])} | {table.num(f['redis'])} "
                  f"| {table.num(f['total'])} | {ratio(f['total'], f1['total'] if f1 else None)} "
                  f"| {table.num(f['bus'])} | {table.num(f['redis_net'])} | {table.num(s['gen_cpu_pct'])} "
                  f"| {notes(s)} |")
    print()
    print('Step-up (capacity search, p99 < 50 ms, every node and Redis on one core):')
    print()
    print('| nodes | capacity deliveries/s | total s / 1M there | steps (offered: p99 ms) |')
    print('|---|---|---|---|')
    for lb in labels_of(by):
        e = by[lb]
        cap, step = table.capacity(e['run'])
        at = next((f['total'] for s, f in e['steps'] if s is step), None)
        seq = ', '.join(f"{table.num(s['offered_deliv_s'])}: {table.num(s['p99_ms'])}"
                        + ('' if s.get('pass') else ' (failed)') for s in e['run']['search'])
        print(f"| {TITLE.get(lb, e['n'])} | {cap} | {table.num(at)} | {seq or '–'} |")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    data, meta = load(d)
    env = table.read_env(d)
    table.preliminary(env)
    print('The fan-out workloads on several kamratd nodes of one cluster on this machine: every node '
          'and redis-server pinned to one core, the generator to the other, member m of every room on '
          'node m mod N. The nodes and Redis wait for each other on their core, so their runqueue '
          'wait does not mark a step "disturbed" (steal, other processes and the generator\'s wait do). With two cores these figures are the CPU a delivery costs, not how far the '
          'nodes scale (bench/README.md, "Several nodes").')
    print()
    summary(data)
    for cfg in table.fanout_configs({(None, c): None for c in data}):
        details(cfg, data[cfg])
    table.footer(meta, env)


if __name__ == '__main__':
    main()
