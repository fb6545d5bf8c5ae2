#!/usr/bin/env python3
"""Turn a bench/joinstorm.sh results directory into markdown: one table per case,
a row per kamratd, and the bar.

usage: joinstorm_table.py [--retryable CODE,CODE] RESULTS_DIR

Files: LABEL__CASE.jsonl (loadgen's lines: join, the fixed step whose window is
the storm, joiners), LABEL__CASE.stall ("stall_start_s A stall_end_s B": when the
lock or the freeze began and ended, seconds after the first joiner was due),
LABEL__meta.jsonl, env.txt.

The chat's figures are the fixed step's: the latency of the messages scheduled
in the window (from the first joiner's start until the last joiner had its answer
or was hung), the messages of that window that never arrived, and the chatting
connections lost.  A joiner is admitted (welcome), refused with a retryable code
(--retryable, default internal), refused otherwise, dropped (its connection
failed before an answer) or hung (no answer within the timeout).  hello→welcome
runs from the hello frame to the welcome (admitted joiners); start→answer from
the joiner's scheduled start (TCP connect and upgrade included, which wait for a
stalled loop too) to any answer.

The bar: in every case the chat's p99 < 50 ms, no message and no chatting
connection lost; every joiner admitted, waiting or told to retry, none hung,
dropped or refused for good.
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the tools after every run
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import table  # noqa: E402  (the results parser, number format, load-average note)

P99_BAR_MS = 50.0
CASES = [
    ('sqlite', 'SQLite store'),
    ('sqlite-lock', 'SQLite store, a write transaction held in the middle of the storm'),
    ('pg', 'PostgreSQL through a proxy that adds a delay each way'),
    ('pg-freeze', 'PostgreSQL through the proxy, which freezes in the middle of the storm'),
]
LABEL_ORDER = ['before', 'after', 'kamrat']


def stall(d, label, case):
    """'1.0-4.0 s' from LABEL__CASE.stall, or None."""
    path = os.path.join(d, f'{label}__{case}.stall')
    if not os.path.exists(path):
        return None
    f = open(path).read().split()
    v = dict(zip(f[0::2], f[1::2]))
    try:
        return f"{float(v['stall_start_s']):.1f}-{float(v['stall_end_s']):.1f} s"
    except (KeyError, ValueError):
        return None


def disturbed(x):
    """' disturbed (...)' when steal or other work took CPU from the window (table.disturbance)."""
    if not x.get('disturbed'):
        return ''
    return ' ' + table.disturbance(x)


def row(d, label, case, e, retryable):
    """The table row of one run, and whether it meets the bar (None: no figures)."""
    if 'error' in e and 'fixed' not in e:
        return f"| {label} | {e['error'].get('error', 'no result')} |" + ' |' * 12, None
    x, j = e.get('fixed'), e.get('joiners')
    if not x or not j:
        return f'| {label} | no storm step (see {label}__{case}.log) |' + ' |' * 12, False
    codes = j.get('codes', {})
    retry = sum(n for c, n in codes.items() if c in retryable)
    other = {c: n for c, n in codes.items() if c not in retryable}
    other_s = ', '.join(f'{c} {n}' for c, n in sorted(other.items())) or '0'
    lost = x.get('lost_msgs', 0)
    ok = (x.get('p99_ms', 1e9) < P99_BAR_MS and lost == 0 and x.get('lost_conns', 0) == 0
          and j.get('hung', 0) == 0 and j.get('dropped', 0) == 0 and not other
          and j.get('not_started', 0) == 0)
    hello = ' / '.join(table.num(j.get(k)) for k in
                       ('hello_admitted_p50_ms', 'hello_admitted_p99_ms', 'hello_admitted_max_ms'))
    answer = ' / '.join(table.num(j.get(k)) for k in ('answer_p99_ms', 'answer_max_ms'))
    cells = [label, table.num(x.get('p99_ms')), table.num(x.get('max_ms')), f'{lost:,.0f}',
             str(x.get('lost_conns', 0)), f"{j.get('admitted', 0)} / {j.get('joiners', 0)}",
             str(retry), other_s, str(j.get('dropped', 0)), str(j.get('hung', 0)), hello, answer,
             table.num(x.get('window_s')), stall(d, label, case) or '–', ('met' if ok else '**missed**') + disturbed(x)]
    return '| ' + ' | '.join(cells) + ' |', ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--retryable', default='internal',
                    help='error codes a joiner may retry, comma- or space-separated')
    ap.add_argument('dir')
    a = ap.parse_args()
    retryable = set(a.retryable.replace(',', ' ').split())
    runs, meta = table.load(a.dir)
    env = table.read_env(a.dir)
    labels = sorted({s for (s, _c) in runs}, key=lambda s: (LABEL_ORDER.index(s) if s in LABEL_ORDER else 9, s))
    print('# Join storm: chat latency while participants join sessions')
    print()
    table.preliminary(env)
    print(f'**The bar**, in every case: the chatting rooms\' p99 < {P99_BAR_MS:g} ms, no message and no '
          'chatting connection lost; every joiner is admitted, waits, or gets a retryable error '
          f"({', '.join(sorted(retryable))}), none hangs, is dropped or is refused for good.")
    verdicts = {s: [] for s in labels}
    done = set()
    for case, title in CASES + [(c, c) for (_s, c) in sorted(runs) if c not in dict(CASES)]:
        if case in done:
            continue
        done.add(case)
        rows = [(s, *row(a.dir, s, case, runs[(s, case)], retryable)) for s in labels if (s, case) in runs]
        if not rows:
            continue
        print()
        print(f'## {case}: {title}')
        print()
        print('| server | chat p99 ms | chat max ms | msgs lost | chat conns lost | joiners admitted '
              '| retryable errors | other errors | dropped | hung | hello→welcome p50 / p99 / max ms '
              '| start→answer p99 / max ms | window s | stall | bar |')
        print('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
        for s, text, ok in rows:
            print(text)
            if ok is not None:
                verdicts[s].append(ok)
    print()
    for s in labels:
        if verdicts[s]:
            print(f'- {s} meets the bar in {sum(verdicts[s])} of {len(verdicts[s])} cases')
    table.footer(meta, env)


if __name__ == '__main__':
    main()
