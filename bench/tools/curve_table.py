#!/usr/bin/env python3
"""The tables of a bench/curve.sh results directory: server CPU per delivery and p99
latency at each offered rate, one table per fan-out shape (rooms x members), then
every step with its details.

usage: curve_table.py RESULTS_DIR

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


def cell(x):
    """'CPU s/1M / p99 ms' with the marks of the step."""
    if x is None:
        return '–'
    why = unreached(x)
    if why:
        return f"not reached ({why}; {table.num(x['delivered_s'])}/s delivered)"
    out = f"{table.num(x['srv_cpu_s_per_M'])} / {table.num(x['p99_ms'])}"
    marks = []
    if table.judge(x)['failed']:
        marks.append('failed')
    if x.get('disturbed'):
        marks.append('disturbed')
    return out + (f" ({', '.join(marks)})" if marks else '')


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
        per = {s: {round(x['offered_deliv_s']): x for x in steps(runs, s, cfg)} for s in present}
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

    print()
    print('Every step:')
    print()
    print('| server | shape | offered deliv/s | delivered/s | complete % | p50 ms | p99 ms | max ms | srv CPU % '
          '| srv CPU s / 1M | gen CPU % | gen CPU s / 1M | gen lag max ms | steal / others % | notes |')
    print('|' + '---|' * 15)
    for s in present:
        for cfg in table.fanout_configs(runs):
            for x in steps(runs, s, cfg):
                notes = [n for n in (unreached(x) and 'not reached: ' + unreached(x), table.step_notes(x)) if n]
                print(f"| {s} | {cfg} | {table.num(x['offered_deliv_s'])} | {table.num(x['delivered_s'])} "
                      f"| {table.num(x['complete_pct'])} | {table.num(x['p50_ms'])} | {table.num(x['p99_ms'])} "
                      f"| {table.num(x['max_ms'])} | {table.num(x['srv_cpu_pct'])} "
                      f"| {table.num(x['srv_cpu_s_per_M'])} | {table.num(x['gen_cpu_pct'])} "
                      f"| {table.num(x.get('gen_cpu_s_per_M'))} | {table.num(x['gen_lag_max_ms'])} "
                      f"| {table.steal_others(x)} | {'; '.join(notes)} |")
    table.footer(meta, env)


if __name__ == '__main__':
    main()
