#!/usr/bin/env python3
"""A restart.sh results directory -> one markdown table: a row per kind of restart,
each cell the range (min-max) over its repeats. Usage: restart_table.py DIR"""
import glob
import json
import os
import sys

KINDS = [('planned', 'planned (SIGUSR2, handover)'), ('kill9', 'kill -9 + start'),
         ('sigterm', 'SIGTERM + start (before the handover)')]


def load(path):
    run = {}
    with open(path) as f:
        for line in f:
            try:
                d = json.loads(line)
            except ValueError:
                continue
            run[d.get('kind')] = d
    return run


def span(values, unit=''):
    values = [v for v in values if v is not None]
    if not values:
        return 'n/a'
    lo, hi = min(values), max(values)
    return f'{lo:,}{unit}' if lo == hi else f'{lo:,}-{hi:,}{unit}'


def main(out):
    print(f'Restarts ({os.path.basename(os.path.normpath(out))}); every cell: min-max over the runs; ms from the signal\n')
    print('| restart | runs | server accepts | clients closed (max) | back p50 / p99 / max | away p50 / p99 / max '
          '| posting p50 / p99 / max | all posting '
          '| resumes failed | acked before, missed | sent during the switch | of these never acked / acked twice / missed '
          '| delivered twice | errors |')
    print('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    for kind, label in KINDS:
        runs = [load(p) for p in sorted(glob.glob(os.path.join(out, f'{kind}-*.jsonl')))]
        if not runs:
            continue
        ok = [r for r in runs if 'restart' in r]
        res = [r['restart'] for r in ok]
        srv = [r.get('server', {}) for r in ok]
        def s(f, unit=''):
            return span([f(x) for x in res], unit)
        errors = sorted({f'{k}: {v}' for x in res for k, v in x.get('errors', {}).items()})
        print(f'| {label} | {len(ok)} of {len(runs)} | {span([x.get("ready_ms") for x in srv])} '
              f'| {s(lambda x: x["closed_at"]["max"])} '
              f'| {s(lambda x: x["back"]["p50"])} / {s(lambda x: x["back"]["p99"])} / {s(lambda x: x["back"]["max"])} '
              f'| {s(lambda x: x["away"]["p50"])} / {s(lambda x: x["away"]["p99"])} / {s(lambda x: x["away"]["max"])} '
              f'| {s(lambda x: x["posting"]["p50"])} / {s(lambda x: x["posting"]["p99"])} / {s(lambda x: x["posting"]["max"])} '
              f'| {s(lambda x: x["all_posting_ms"])} '
              f'| {s(lambda x: x["server_restarted"])} of {s(lambda x: x["members"])} '
              f'| {s(lambda x: x["acked_before_missing"])} of {s(lambda x: x["acked_before"])} '
              f'| {s(lambda x: x["during"])} '
              f'| {s(lambda x: x["during_unacked"])} / {s(lambda x: x["during_acked_twice"])} / {s(lambda x: x["during_missing"])} '
              f'| {s(lambda x: x["doubled_pairs"])} | {", ".join(errors) or "none"} |')
    print('\n*server accepts*: the new process accepts (planned: its handover_accepting line) or listens again; '
          '*clients closed*: the last member\'s connection closed; *away*: from a member\'s close to its welcome; '
          '*back*: welcomed again (resumed, or a new hello after server_restarted); *posting*: the first ack '
          'on the new connection (a message resent with its id, or a new one); *all posting*: the last member; '
          '*acked before, missed*: messages acked by the old process that some member of the room never '
          'received; *sent during the switch*: unacked when the connection closed or due while away, resent '
          'with their ids; *missed*: some member of the room never received it.')
    with open(os.path.join(out, 'env.txt')) as f:
        print('\n```\n' + f.read().rstrip() + '\n```')


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
