#!/usr/bin/env python3
"""Turn a bench/run.sh results directory into markdown: one side-by-side table
with the ratios kamratd/peer, then the details of every run.

usage: table.py RESULTS_DIR

Files are named SERVER__WORKLOAD.jsonl, WORKLOAD = RxM | idle | storm |
polltax | meta.  A ratio is kamrat's figure divided by the peer's, both from
the same directory (the same run).  Lower is better for CPU, latency and
memory; higher is better for delivered/s and capacity.
"""
import glob
import json
import os
import re
import sys

SERVERS = ['kamrat', 'kamrat-tls', 'mosquitto', 'mosquitto-tls', 'node', 'prosody', 'ceiling']
RATIOS = [('kamrat', 'mosquitto'), ('kamrat', 'node'), ('kamrat', 'prosody'),
          ('kamrat-tls', 'mosquitto-tls'), ('kamrat', 'ceiling')]
CONFIG_ORDER = ['100x10', '10x100', '1x500']
GEN_BOUND_PCT = 90.0
PRELIMINARY_LOAD = 0.5


def load(d):
    """(server, workload) -> {'join', 'idle', 'fixed' (the last), 'capacity', 'search': [],
    'steps': [every search and fixed step, in order], 'error'}; server -> its meta line."""
    runs = {}
    meta = {}
    for path in sorted(glob.glob(os.path.join(d, '*__*.jsonl'))):
        srv, wl = os.path.basename(path)[:-len('.jsonl')].split('__', 1)
        e = {'search': [], 'steps': []}
        for line in open(path):
            line = line.strip()
            if not line.startswith('{'):
                continue
            try:
                r = json.loads(line)
            except ValueError:
                continue
            kind = r.get('kind')
            if kind in ('search', 'fixed', 'fixed-overloaded'):
                e['steps'].append(r)
            if kind == 'search':
                e['search'].append(r)
            elif kind in ('fixed', 'fixed-overloaded'):
                e['fixed'] = r
            else:
                e[kind] = r
        if wl == 'meta':
            meta[srv] = e.get('meta', {})
        else:
            runs[(srv, wl)] = e
    return runs, meta


def num(v):
    if v is None:
        return '–'
    if isinstance(v, str):
        return v
    if abs(v) >= 1000:
        return f'{v:,.0f}'
    if abs(v) >= 100:
        return f'{v:.0f}'
    if abs(v) >= 10:
        return f'{v:.1f}'
    return f'{v:.2f}'


class Cell:
    """A figure with an optional qualifier: '>=' (a lower bound) or a note."""

    def __init__(self, value, bound='', note=''):
        self.value, self.bound, self.note = value, bound, note

    def __str__(self):
        if self.value is None:
            return self.note or '–'
        s = (self.bound + ' ' if self.bound else '') + num(self.value)
        return s + (f' ({self.note})' if self.note else '')


def judge(step):
    """How a step (search or fixed) reads.
    failed: the generator's own verdict (p99 over the limit, under 99.9 % of the messages,
      a connection lost, or nothing received);
    disturbed: the generator's verdict too (see disturbance());
    gen_bound: the generator was over GEN_BOUND_PCT of its core, so the figure may be the
      generator's limit rather than the server's."""
    return {'failed': step.get('pass') is False,
            'disturbed': bool(step.get('disturbed')),
            'gen_bound': step.get('gen_cpu_pct', 0) > GEN_BOUND_PCT}


def disturbance(x):
    """What disturbed a step, in words: the hypervisor's steal and the other processes'
    CPU (/proc/stat, % of a core over the window; loadgen's --steal-pct and --others-pct)
    and the run-queue waits of the server and the generator (% of the window)."""
    why = x.get('disturbed_by')
    if why is None:  # before the steal and others readings: run-queue waits only
        why = ['srv_runq', 'gen_runq']
    words = {'steal': f"steal {x.get('steal_pct', 0):g} %",
             'others': f"other processes {x.get('others_cpu_pct', 0):g} %",
             'srv_runq': f"server run-queue wait {x.get('srv_runq_wait_pct', 0):g} %",
             'gen_runq': f"generator run-queue wait {x.get('gen_runq_wait_pct', 0):g} %"}
    return 'disturbed (' + ', '.join(words[w] for w in why if w in words) + ')'


def step_notes(x):
    """What to know about a step's figures, in words ('' when nothing)."""
    j = judge(x)
    out = []
    if j['failed']:
        out.append('failed')
    if x.get('complete_pct', 100) < 99.9:
        out.append(f"{x['complete_pct']:g} % complete")
    if x.get('lost_conns'):
        out.append(f"{x['lost_conns']} connections lost")
    if j['disturbed']:
        out.append(disturbance(x))
    if j['gen_bound']:
        out.append('generator > 90 % CPU')
    return '; '.join(out)


def steal_others(x):
    """'steal / others' in % of a core over a step's window ('–' before these readings)."""
    if 'steal_pct' not in x:
        return '–'
    return f"{num(x['steal_pct'])} / {num(x['others_cpu_pct'])}"


def fanout_configs(runs):
    """The RxM workloads of a run, in CONFIG_ORDER, others after them."""
    return sorted({wl for (_s, wl) in runs if re.fullmatch(r'\d+x\d+', wl)},
                  key=lambda c: (CONFIG_ORDER.index(c) if c in CONFIG_ORDER else 99, c))


def max_load(env):
    """The 1-minute load average that env.txt recorded before the run (the highest, when
    several runs wrote one).  The load after is left out: a run that drives both cores
    raises it to ~2 by itself, and what other work did during a window is in its
    steal and others readings."""
    loads = [float(x) for x in re.findall(r'^load before: ([0-9.]+)', env, re.M)]
    return max(loads) if loads else None


def preliminary(env):
    """Say so at the top when other work was running as the run began."""
    load = max_load(env)
    if load is not None and load > PRELIMINARY_LOAD:
        print(f'**Preliminary**: the 1-minute load average was {load:.2f} (> {PRELIMINARY_LOAD:g}) as the run began; '
              'other work shared the two cores.')
        print()


def footer(meta, env):
    """The versions of the servers and the run's env.txt, under the tables."""
    if meta:
        print()
        print('Versions: ' + '; '.join(f"{s}: {m.get('version', '?')}" for s, m in meta.items()))
    if env:
        print()
        print('```')
        print(env.strip())
        print('```')


def read_env(d):
    path = os.path.join(d, 'env.txt')
    return open(path).read() if os.path.exists(path) else ''


def capacity(e):
    """Capacity at p99 < 50 ms, with the search step it passed at."""
    cap = e.get('capacity')
    if not cap:
        return Cell(None), None
    step = None
    for s in e['search']:
        if cap['pass_rate_per_member'] and abs(s['rate_per_member'] - cap['pass_rate_per_member']) <= \
                1e-9 * max(1.0, s['rate_per_member']):
            step = s
    fail = None
    for s in e['search']:
        if cap['fail_rate_per_member'] and abs(s['rate_per_member'] - cap['fail_rate_per_member']) <= \
                1e-9 * max(1.0, s['rate_per_member']):
            fail = s
    if not cap['pass_rate_per_member']:
        dist = ', disturbed' if fail and judge(fail)['disturbed'] else ''
        return Cell(None, note=f"< {num(cap['fail_deliv_s'])}{dist}"), None
    gen = any(s and judge(s)['gen_bound'] for s in (step, fail))
    if not cap['fail_rate_per_member']:
        return Cell(cap['cap_deliv_s'], '≥', 'none failed'), step
    notes = []
    if gen:
        notes.append('gen-bound')
    if fail and judge(fail)['disturbed']:
        notes.append('disturbed')
    return Cell(cap['cap_deliv_s'], '≥' if gen else '', ', '.join(notes)), step


def figures(runs):
    """(row label, workload) -> server -> Cell."""
    rows = []
    for c in fanout_configs(runs):
        fx = {s: runs.get((s, c), {}).get('fixed') for s in SERVERS}
        offered = next((x['offered_deliv_s'] for x in fx.values() if x), None)
        caps = {s: capacity(runs.get((s, c), {'search': []})) for s in SERVERS}

        def fixed(key, s):
            x = fx[s]
            if not x:
                return Cell(None)
            note = ''
            if x.get('kind') == 'fixed-overloaded':
                note = 'overloaded'
            if key == 'delivered_s' and x.get('gen_bound'):
                note = 'gen-bound'
            if key in ('p99_ms', 'max_ms', 'srv_cpu_s_per_M') and x.get('disturbed'):
                note = 'disturbed'
            return Cell(x.get(key), note=note)

        at = f'{c}, {num(offered)}/s offered' if offered else c
        rows.append((f'delivered/s ({at})', {s: fixed('delivered_s', s) for s in SERVERS}, 'hi'))
        rows.append((f'p50 ms ({at})', {s: fixed('p50_ms', s) for s in SERVERS}, 'lo'))
        rows.append((f'p99 ms ({at})', {s: fixed('p99_ms', s) for s in SERVERS}, 'lo'))
        rows.append((f'max ms ({at})', {s: fixed('max_ms', s) for s in SERVERS}, 'lo'))
        rows.append((f'server CPU s / 1M deliveries ({at})',
                     {s: fixed('srv_cpu_s_per_M', s) for s in SERVERS}, 'lo'))
        rows.append((f'capacity deliv/s at p99 < 50 ms ({c})', {s: caps[s][0] for s in SERVERS}, 'hi'))
        rows.append((f'server CPU s / 1M deliveries at capacity ({c})',
                     {s: Cell(caps[s][1]['srv_cpu_s_per_M']) if caps[s][1] else Cell(None) for s in SERVERS},
                     'lo'))
        rows.append((f'generator CPU % at capacity ({c})',
                     {s: Cell(caps[s][1]['gen_cpu_pct']) if caps[s][1] else Cell(None) for s in SERVERS},
                     None))
        rows.append((f'generator CPU s / 1M deliveries at capacity ({c}; its adapter\'s cost)',
                     {s: Cell(caps[s][1].get('gen_cpu_s_per_M')) if caps[s][1] else Cell(None)
                      for s in SERVERS}, None))
    idle = {s: runs.get((s, 'idle'), {}).get('idle') for s in SERVERS}
    if any(idle.values()):
        n = next(x['clients'] for x in idle.values() if x)
        rows.append((f'idle RSS KiB per connection ({n:,} joined)',
                     {s: Cell(idle[s]['kb_per_client']) if idle[s] else Cell(None) for s in SERVERS}, 'lo'))
    storm = {s: runs.get((s, 'storm'), {}).get('join') for s in SERVERS}
    if any(storm.values()):
        x0 = next(x for x in storm.values() if x)
        at = f"{x0['clients']:,} TLS clients over {x0['join_window_s']:g} s"

        def st(key, s):
            x = storm[s]
            if not x:
                return Cell(None)
            notes = [f"{x['failed']} failed"] if x.get('failed') else []
            waited = max(x.get('join_srv_runq_wait_s', 0), x.get('join_gen_runq_wait_s', 0))
            if waited > 0.05 * max(x.get('join_s', 0), 0.1):
                notes.append('disturbed')
            return Cell(x[key], note=', '.join(notes))
        rows.append((f'join storm: handshake p50 ms ({at})', {s: st('hs_p50_ms', s) for s in SERVERS}, 'lo'))
        rows.append((f'join storm: handshake p99 ms ({at})', {s: st('hs_p99_ms', s) for s in SERVERS}, 'lo'))
        rows.append((f'join storm: s until all joined ({at})', {s: st('all_joined_s', s) for s in SERVERS}, 'lo'))
        rows.append((f'join storm: server CPU s ({at})', {s: st('join_srv_cpu_s', s) for s in SERVERS}, 'lo'))
    tax = {s: runs.get((s, 'polltax'), {}).get('fixed') for s in SERVERS}
    if any(tax.values()):
        x0 = next(x for x in tax.values() if x)
        at = f"100x10 at {num(x0['offered_deliv_s'])}/s + {x0.get('extra_idle', 0):,} idle"
        rows.append((f'server CPU s / 1M deliveries ({at})',
                     {s: Cell(tax[s]['srv_cpu_s_per_M']) if tax[s] else Cell(None) for s in SERVERS}, 'lo'))
        rows.append((f'p99 ms ({at})', {s: Cell(tax[s]['p99_ms']) if tax[s] else Cell(None) for s in SERVERS},
                     'lo'))
    return rows


def ratio(a, b):
    if a.value is None or b.value is None or not b.value:
        return '–'
    r = a.value / b.value
    q = ''
    if a.bound or b.bound:
        q = ' (bound)'
    return f'{r:.2f}{q}'


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    runs, meta = load(d)
    present = [s for s in SERVERS if any(k[0] == s for k in runs)]
    pairs = [(a, b) for (a, b) in RATIOS if a in present and b in present]
    env = read_env(d)
    preliminary(env)
    print('kamratd and its peers, same generator, same run. Ratio = kamratd figure / peer figure '
          '(lower is better for CPU, latency and memory; higher for delivered/s and capacity). '
          '"≥": a lower bound (the generator was over 90 % CPU, or no step failed). "disturbed": '
          'over the window the hypervisor stole more than 2 % of a core, other processes used more than '
          '10 % of one, or the server or the generator waited on a run queue for over 5 % of it (env.txt '
          'has the thresholds of the run). "gen CPU s / 1M": what a delivery costs the generator, which '
          'differs by protocol (frame sizes, acks): a server reads as generator-bound sooner when its '
          'deliveries cost the generator more.')
    print()
    head = ['figure'] + present + [f'{a}/{b}' for (a, b) in pairs]
    print('| ' + ' | '.join(head) + ' |')
    print('|' + '---|' * len(head))
    for label, cells, _better in figures(runs):
        if all(cells[s].value is None and not cells[s].note for s in present):
            continue
        row = [label] + [str(cells[s]) for s in present] + [ratio(cells[a], cells[b]) for (a, b) in pairs]
        print('| ' + ' | '.join(row) + ' |')

    print()
    print('Every run (fixed step, then the capacity search):')
    print()
    print('| server | workload | join s | offered deliv/s | delivered/s | complete % | p50 ms | p99 ms | max ms '
          '| srv CPU % | srv CPU s / 1M | gen CPU % | gen CPU s / 1M | steal / others % | gen lag max ms '
          '| capacity deliv/s (next step failed at) | srv CPU s / 1M at capacity | gen CPU % at capacity '
          '| gen CPU s / 1M at capacity | notes |')
    print('|' + '---|' * 20)
    for s in present:
        for (srv, wl), e in sorted(runs.items(), key=lambda kv: (kv[0][1] in ('idle', 'storm'), kv[0][1])):
            if srv != s or wl in ('idle', 'storm'):
                continue
            j, x = e.get('join', {}), e.get('fixed', {})
            if not x and 'capacity' not in e:
                err = e.get('error', {}).get('error', 'no result')
                print(f'| {s} | {wl} | ' + ' | '.join(['–'] * 17) + f' | {err} |')
                continue
            cap, step = capacity(e)
            if e.get('capacity') and e['capacity'].get('fail_rate_per_member'):
                cap = f"{cap.bound + ' ' if cap.bound else ''}{num(cap.value)} ({num(e['capacity']['fail_deliv_s'])})"
            notes = []
            if x.get('kind') == 'fixed-overloaded':
                notes.append(f"overloaded, {x['window_s']:g} s window")
            if x.get('gen_bound'):
                notes.append('generator > 90 % CPU')
            lost = x.get('lost_conns', 0) + sum(t.get('lost_conns', 0) for t in e['search'])
            if lost:
                notes.append(f'{lost} connections lost')
            if x.get('extra_idle'):
                notes.append(f"+{x['extra_idle']:,} idle clients")
            if x.get('disturbed'):
                notes.append('fixed step ' + disturbance(x))
            rates = [t['rate_per_member'] for t in e['search']]
            if len(rates) > len(set(rates)):
                notes.append(f'{len(rates) - len(set(rates))} failed or disturbed search steps measured again')
            nd = sum(1 for t in e['search'] if t.get('disturbed'))
            if nd:
                notes.append(f'{nd} of {len(rates)} search steps disturbed')
            if cap_note := (capacity(e)[0].note if e.get('capacity') else ''):
                notes.append('capacity: ' + cap_note)
            print(f"| {s} | {wl} | {num(j.get('join_s'))} | {num(x.get('offered_deliv_s'))} "
                  f"| {num(x.get('delivered_s'))} | {num(x.get('complete_pct'))} | {num(x.get('p50_ms'))} "
                  f"| {num(x.get('p99_ms'))} | {num(x.get('max_ms'))} | {num(x.get('srv_cpu_pct'))} "
                  f"| {num(x.get('srv_cpu_s_per_M'))} | {num(x.get('gen_cpu_pct'))} "
                  f"| {num(x.get('gen_cpu_s_per_M'))} | {steal_others(x)} "
                  f"| {num(x.get('gen_lag_max_ms'))} | {cap if e.get('capacity') else '–'} "
                  f"| {num(step['srv_cpu_s_per_M']) if step else '–'} "
                  f"| {num(step['gen_cpu_pct']) if step else '–'} "
                  f"| {num(step.get('gen_cpu_s_per_M')) if step else '–'} | {'; '.join(notes)} |")

    idle = [(s, runs[(s, 'idle')]) for s in present if (s, 'idle') in runs]
    if idle:
        print()
        print('Idle memory (clients connected, upgraded and joined to rooms of 10, no traffic):')
        print()
        print('| server | clients | RSS at start MiB | RSS with clients MiB | KiB per client | join s | srv CPU s to join '
              '| gen CPU s to join |')
        print('|---|---|---|---|---|---|---|---|')
        for s, e in idle:
            r, j = e.get('idle'), e.get('join', {})
            if not r:
                print(f"| {s} | – | – | – | – | {e.get('error', {}).get('error', 'no result')} | – | – |")
                continue
            print(f"| {s} | {r['clients']:,} | {r['srv_rss_start_kb'] / 1024:.1f} | {r['srv_rss_kb'] / 1024:.1f} "
                  f"| {r['kb_per_client']:.1f} | {r['join_s']:.2f} | {num(j.get('join_srv_cpu_s'))} "
                  f"| {num(j.get('join_gen_cpu_s'))} |")

    storm = [(s, runs[(s, 'storm')]) for s in present if (s, 'storm') in runs]
    if storm:
        print()
        print('Join storm (connections started evenly over the window; handshake = scheduled start to '
              'joined: TCP, TLS, upgrade, join):')
        print()
        print('| server | clients | window s | joined | failed | retries | handshake p50 ms | p90 ms | p99 ms '
              '| max ms | TLS p50 / p99 ms | upgrade p99 ms | join p99 ms | all joined s | srv CPU s | gen CPU s '
              '| gen start lag max ms | runqueue wait s: server / gen |')
        print('|' + '---|' * 18)
        for s, e in storm:
            j = e.get('join')
            if not j:
                print(f"| {s} | " + ' | '.join(['–'] * 16) + f" | {e.get('error', {}).get('error', 'no result')} |")
                continue
            print(f"| {s} | {j['clients']:,} | {j['join_window_s']:g} | {j['ready']:,} | {j['failed']} "
                  f"| {j['retries']} | {num(j['hs_p50_ms'])} | {num(j['hs_p90_ms'])} | {num(j['hs_p99_ms'])} "
                  f"| {num(j['hs_max_ms'])} | {num(j['hs_tls_p50_ms'])} / {num(j['hs_tls_p99_ms'])} "
                  f"| {num(j['hs_upgrade_p99_ms'])} | {num(j['hs_join_p99_ms'])} | {num(j['all_joined_s'])} "
                  f"| {num(j['join_srv_cpu_s'])} | {num(j['join_gen_cpu_s'])} | {num(j['storm_lag_max_ms'])} "
                  f"| {num(j.get('join_srv_runq_wait_s'))} / {num(j.get('join_gen_runq_wait_s'))} |")
    footer(meta, env)


if __name__ == '__main__':
    main()
