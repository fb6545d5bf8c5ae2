#!/usr/bin/env python3
"""Print the key fields of loadgen JSON lines (stdin) compactly, one line each."""
import json
import sys

KEYS = ['kind', 'rate_per_member', 'offered_deliv_s', 'delivered_s', 'complete_pct', 'p50_ms', 'p99_ms',
        'max_ms', 'srv_cpu_pct', 'srv_cpu_s_per_M', 'gen_cpu_pct', 'gen_lag_max_ms', 'lost_conns', 'drained',
        'gen_bound', 'pass', 'ready', 'failed', 'join_s', 'hs_p50_ms', 'hs_p99_ms', 'all_joined_s',
        'join_gen_cpu_s', 'pass_rate_per_member', 'fail_rate_per_member', 'cap_deliv_s', 'kb_per_client',
        'lost_msgs', 'admitted', 'refused', 'dropped', 'hung', 'codes', 'hello_admitted_p50_ms',
        'hello_admitted_p99_ms', 'hello_admitted_max_ms', 'error']
for line in sys.stdin:
    try:
        d = json.loads(line)
    except ValueError:
        print(line.rstrip())
        continue
    print(' '.join(f'{k}={d[k]}' for k in KEYS if k in d))
