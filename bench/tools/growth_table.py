#!/usr/bin/env python3
"""Turn a bench/growth.sh results directory into markdown: one table per sweep.

usage: growth_table.py RESULTS_DIR

points.txt names the sweeps and their points ("SWEEP RxM-BB" a line); the figures are
the fixed step of SERVER__RxM-BB.jsonl.  Steps are judged as table.py judges them
(table.judge).  "x first" is a server's CPU per delivery over its CPU per delivery at
the first point of the same sweep: how the cost of a delivery grows along the sweep.
"""
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the tools after every run
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import table  # noqa: E402  (the results parser and the judgement of a step)

TITLES = {
    'members': 'Members per room, at about the same number of connections (100-byte bodies)',
    'rooms': 'Rooms of 10 members (100-byte bodies)',
    'size': 'Message body size, 100 rooms x 10 members',
}
WORKLOAD = re.compile(r'(\d+)x(\d+)-(\d+)B')


def read_points(d):
    """sweep -> [workload], in the order of points.txt."""
    sweeps = {}
    with open(os.path.join(d, 'points.txt')) as f:
        for line in f:
            if line.strip():
                sweep, wl = line.split()
                sweeps.setdefault(sweep, []).append(wl)
    return sweeps


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    runs, meta = table.load(d)
    sweeps = read_points(d)
    present = [s for s in table.SERVERS if any(k[0] == s for k in runs)]
    env = table.read_env(d)
    table.preliminary(env)
    offered = next((e['fixed']['offered_deliv_s'] for e in runs.values() if e.get('fixed')), None)
    print('How the cost of a delivery grows with the members of a room, the rooms and the message size. '
          f"Every point is one fixed step at {table.num(offered) if offered else 'the same'} offered "
          'deliveries/s. "failed": p99 over 50 ms, under 99.9 % of the messages, or a connection lost; '
          '"disturbed": the hypervisor\'s steal or other processes took CPU over the window, or the '
          'server or the generator waited on a run queue (the thresholds are in env.txt). "x first": server CPU per delivery over the same server\'s at the first point '
          'of the table.')
    for sweep, wls in sweeps.items():
        print()
        print(f'### {TITLES.get(sweep, sweep)}')
        print()
        print('| rooms x members | body bytes | server | connections | delivered/s | p50 ms | p99 ms '
              '| server CPU s / 1M deliveries | x first | generator CPU % | notes |')
        print('|' + '---|' * 11)
        first = {}
        for wl in wls:
            r, m, b = (int(v) for v in WORKLOAD.fullmatch(wl).groups())
            for s in present:
                e = runs.get((s, wl), {})
                x = e.get('fixed')
                if not x:
                    err = e.get('error', {}).get('error', 'no result')
                    print(f'| {r}x{m} | {b:,} | {s} | {r * m:,} | ' + ' | '.join(['–'] * 6) + f' | {err} |')
                    continue
                cpu = x.get('srv_cpu_s_per_M')
                first.setdefault(s, cpu)
                grow = f'{cpu / first[s]:.2f}' if cpu and first[s] else '–'
                print(f"| {r}x{m} | {b:,} | {s} | {x['clients']:,} | {table.num(x['delivered_s'])} "
                      f"| {table.num(x['p50_ms'])} | {table.num(x['p99_ms'])} | {table.num(cpu)} | {grow} "
                      f"| {table.num(x['gen_cpu_pct'])} | {table.step_notes(x)} |")
    table.footer(meta, env)


if __name__ == '__main__':
    main()
