#!/usr/bin/env python3
"""The tables of a bench/curve.sh results directory: server CPU per delivery and p99
latency at each offered rate, one table per fan-out shape (rooms x members), the
ratios of kamrat to its peers, then every step with its details.

usage: curve_table.py RESULTS_DIR

A run may measure every step several times (curve.sh's ROUNDS, the servers taking
turns): a cell is then the median of the rounds, and says how far apart the rounds
were.  The median is taken over the rounds that were neither disturbed nor beyond
the generator, when there are any.

A step the generator could not drive is marked, not shown as the server's figure: its
generator was over 90 % of its core, or fell behind its schedule by a whole p99 bar
(50 ms), so what it measured is the generator's limit.  A step that failed (p99 over
50 ms, under 99.9 % of the messages, or a connection lost) with a generator that kept
up is the server's limit.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the tools after every run
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import table  # noqa: E402  (the results parser and the judgement of a step)

P99_LIMIT_MS = 50.0


def unreached(x):
    """Why the generator did not drive this step at its offered rate ('' when it did)."""
    if x.get('gen_cpu_pct', 0) > table.GEN_BOUND_PCT:
        return f"generator {x['gen_cpu_pct']:g} % CPU"
    if x.get('gen_lag_max_ms', 0) >= P99_LIMIT_MS:
        return f"generator {x['gen_lag_max_ms']:.0f} ms behind"
    return ''


def steps(runs, srv, cfg):
    """The fixed steps of one server and shape, lowest offered rate first."""
    e = runs.get((srv, cfg))
    if not e:
        return []
    return sorted((x for x in e['steps'] if x.get('kind') == 'fixed'), key=lambda x: x['offered_deliv_s'])


def median(vs):
    vs = sorted(vs)
    n = len(vs)
    return vs[n // 2] if n % 2 else (vs[n // 2 - 1] + vs[n // 2]) / 2


def merge(xs):
    """One point from the rounds of a step: the round with the median CPU per delivery,
    with the median p99 of the rounds used, and how they spread."""
    clean = [x for x in xs if not unreached(x) and not x.get('disturbed')]
    reached = [x for x in xs if not unreached(x)]
    used = clean or reached or xs
    by_cpu = sorted(used, key=lambda x: x['srv_cpu_s_per_M'])
    out = dict(by_cpu[(len(by_cpu) - 1) // 2])
    cpus = [x['srv_cpu_s_per_M'] for x in used]
    out.update(srv_cpu_s_per_M=median(cpus), p99_ms=median([x['p99_ms'] for x in used]),
               delivered_s=median([x['delivered_s'] for x in used]),
               rounds=len(xs), used=len(used), cpu_lo=min(cpus), cpu_hi=max(cpus),
               failed_rounds=sum(1 for x in used if table.judge(x)['failed']))
    out['failed'] = out['failed_rounds'] * 2 > len(used)
    out['disturbed'] = not clean and bool(reached)
    return out


def points(runs, srv, cfg):
    """offered deliveries/s -> the merged point of its rounds, for one server and shape."""
    by_rate = {}
    for x in steps(runs, srv, cfg):
        by_rate.setdefault(round(x['offered_deliv_s']), []).append(x)
    return {r: merge(xs) for r, xs in sorted(by_rate.items())}


def spread_pct(x):
    """How far apart the rounds' CPU per delivery were, in % of the median."""
    if x['used'] < 2 or not x['srv_cpu_s_per_M']:
        return None
    return 100 * (x['cpu_hi'] - x['cpu_lo']) / x['srv_cpu_s_per_M']


def cell(x):
    """'CPU s/1M / p99 ms' with the marks of the point."""
    if x is None:
        return '–'
    why = unreached(x)
    if why:
        return f"not reached ({why}; {table.num(x['delivered_s'])}/s delivered)"
    out = f"{table.num(x['srv_cpu_s_per_M'])} / {table.num(x['p99_ms'])}"
    marks = []
    spread = spread_pct(x)
    if spread is not None:
        marks.append(f"{x['used']} rounds ±{spread / 2:.0f} %")
    if x['failed']:
        marks.append('failed')
    elif x['failed_rounds']:
        marks.append(f"{x['failed_rounds']} of {x['used']} failed")
    if x['disturbed']:
        marks.append('disturbed')
    return out + (f" ({', '.join(marks)})" if marks else '')


PAIRS = [('kamrat', 'mosquitto'), ('kamrat-tls', 'mosquitto-tls'), ('kamrat', 'ceiling')]


def ratio(a, b):
    """a's CPU per delivery over b's, when both are the servers' own figures."""
    if a is None or b is None or unreached(a) or unreached(b) or a['failed'] or b['failed']:
        return '–'
    return f"{a['srv_cpu_s_per_M'] / b['srv_cpu_s_per_M']:.2f}"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    runs, meta = table.load(d)
    env = table.read_env(d)
    table.preliminary(env)
    present = [s for s in table.SERVERS if any(k[0] == s for k in runs)]
    print('The load curve: every server at the same offered deliveries/s, one fixed step per rate on '
          'the same connections. A cell is **server CPU s per 1M deliveries / p99 ms**. "not reached": '
          'the generator was over 90 % of its core or 50 ms behind its schedule, so the step measured '
          'the generator; "failed": p99 over 50 ms, under 99.9 % of the messages or a connection lost '
          'while the generator kept up (the server\'s limit); "disturbed": the hypervisor\'s steal, other '
          'processes or run-queue waits took CPU from the window (the thresholds are in env.txt).')
    for cfg in table.fanout_configs(runs):
        per = {s: points(runs, s, cfg) for s in present}
        rates = sorted({r for v in per.values() for r in v})
        if not rates:
            continue
        print()
        print(f'**{cfg}** (rooms x members): server CPU s / 1M deliveries / p99 ms')
        print()
        print('| offered deliv/s | ' + ' | '.join(present) + ' |')
        print('|' + '---|' * (len(present) + 1))
        for r in rates:
            print(f'| {table.num(r)} | ' + ' | '.join(cell(per[s].get(r)) for s in present) + ' |')
        errs = [(s, runs[(s, cfg)]['error']['error']) for s in present
                if (s, cfg) in runs and 'error' in runs[(s, cfg)]]
        for s, err in errs:
            print(f'\n{s}: {err}')
        pairs = [(a, b) for a, b in PAIRS if a in present and b in present]
        if pairs:
            print()
            print(f'{cfg}: server CPU per delivery, the first over the second ("–": either failed or was not reached)')
            print()
            print('| offered deliv/s | ' + ' | '.join(f'{a} / {b}' for a, b in pairs) + ' |')
            print('|' + '---|' * (len(pairs) + 1))
            for r in rates:
                print(f'| {table.num(r)} | ' + ' | '.join(ratio(per[a].get(r), per[b].get(r)) for a, b in pairs) + ' |')

    print()
    print('Every step:')
    print()
    print('| server | shape | offered deliv/s | round | delivered/s | complete % | p50 ms | p99 ms | max ms | srv CPU % '
          '| srv CPU s / 1M | gen CPU % | gen CPU s / 1M | gen lag max ms | steal / others % | notes |')
    print('|' + '---|' * 16)
    for s in present:
        for cfg in table.fanout_configs(runs):
            seen = {}
            for x in steps(runs, s, cfg):
                rnd = seen[x['offered_deliv_s']] = seen.get(x['offered_deliv_s'], 0) + 1
                notes = [n for n in (unreached(x) and 'not reached: ' + unreached(x), table.step_notes(x)) if n]
                print(f"| {s} | {cfg} | {table.num(x['offered_deliv_s'])} | {rnd} | {table.num(x['delivered_s'])} "
                      f"| {table.num(x['complete_pct'])} | {table.num(x['p50_ms'])} | {table.num(x['p99_ms'])} "
                      f"| {table.num(x['max_ms'])} | {table.num(x['srv_cpu_pct'])} "
                      f"| {table.num(x['srv_cpu_s_per_M'])} | {table.num(x['gen_cpu_pct'])} "
                      f"| {table.num(x.get('gen_cpu_s_per_M'))} | {table.num(x['gen_lag_max_ms'])} "
                      f"| {table.steal_others(x)} | {'; '.join(notes)} |")
    table.footer(meta, env)


if __name__ == '__main__':
    main()
