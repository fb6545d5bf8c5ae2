#!/usr/bin/env python3
"""Plot p99 latency against delivered rate for every server of a bench/run.sh results
directory: one panel per fan-out configuration (rooms x members), from the capacity
search steps and the fixed step recorded in SERVER__RxM.jsonl.

usage: plot.py RESULTS_DIR

Writes p99.dat (the points, one gnuplot data block per configuration and server) and
p99.gp (the gnuplot script) into RESULTS_DIR, then runs gnuplot there to make p99.svg.
`cd RESULTS_DIR && gnuplot p99.gp` draws it again after an edit of the script.

The search steps of a server are joined in the order of their offered rate, so an
overloaded server's line bends back: past its capacity it delivers less than it is
offered while its p99 climbs.  When a failed or disturbed step was measured again, the
line goes through the last measurement (the one the search went on with) and the
earlier ones are drawn as loose points.  The fixed step (the long window at the fixed
offered rate) is drawn with a diamond around it and is not part of the line.  Steps are
judged as table.py judges them (table.judge): failed, disturbed, generator-bound.
"""
import math
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the tools after every run
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import table  # noqa: E402  (the results parser and the judgement of a step)

# name in the legend, colour, dash pattern: a server and its TLS variant share a colour
STYLE = {
    'kamrat': ('kamratd', '#1f5fbf', 'solid'),
    'kamrat-tls': ('kamratd TLS', '#1f5fbf', '(7,4)'),
    'mosquitto': ('mosquitto', '#d96c00', 'solid'),
    'mosquitto-tls': ('mosquitto TLS', '#d96c00', '(7,4)'),
    'node': ('Node ws relay', '#2b9a3c', 'solid'),
    'prosody': ('Prosody MUC', '#9b3fb5', 'solid'),
    'ceiling': ('ceiling (raw epoll)', '#707070', 'solid'),
}
P99_LIMIT_MS = 50.0  # run.sh's --p99-ms: the bar a search step has to pass
WIDTH = 800  # the SVG's size in px; panels are stacked so each gets the full width
LEGEND_H = 124
PANEL_H = 330
GNUPLOT_TIMEOUT_S = 60
CAPTION = ('Lines join the capacity-search steps in the order of their offered rate: '
           'past its capacity a server delivers less than it is offered, and its line bends back.')


def same_rate(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, a, b)


def series(e):
    """(line, points) of one server in one configuration.
    line: (delivered/s, p99 ms) of the search steps the search went on with, by rate;
    points: every search step and the fixed step, with their judgement."""
    kept = []  # the last measurement at each rate: a repeat replaces the step before it
    for s in e['search']:
        if kept and same_rate(kept[-1]['rate_per_member'], s['rate_per_member']):
            kept[-1] = s
        else:
            kept.append(s)
    line = [(s['delivered_s'], s['p99_ms']) for s in sorted(kept, key=lambda s: s['rate_per_member'])]
    steps = [(s, False) for s in e['search']]
    if e.get('fixed'):
        steps.append((e['fixed'], True))
    points = []
    for s, fixed in steps:
        j = table.judge(s)
        points.append((s['delivered_s'], s['p99_ms'], int(j['failed']), int(j['disturbed']),
                       int(j['gen_bound']), int(fixed), s['offered_deliv_s']))
    return line, points


def q(s):
    """A gnuplot single-quoted string (no escapes inside; a quote is doubled)."""
    return "'" + s.replace("'", "''") + "'"


def log_tics(lo, hi, steps=(1, 2, 5)):
    """1-2-5 tics between lo and hi, for a log axis."""
    out = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in steps:
            v = m * 10 ** e
            if lo <= v <= hi:
                out.append(v)
    return out


def rate_label(v):
    return f'{v / 1000:g}k' if v >= 1000 else f'{v:g}'


def ms_label(v):
    return f'{v:g}'


def config_title(c, points):
    r, m = (int(x) for x in c.split('x'))
    offered = sorted({p[6] for p in points if p[5]})
    fixed = f', fixed step at {offered[0]:,.0f}/s offered' if offered else ''
    return f'{c}: {r:,} room{"s" if r != 1 else ""} x {m:,} members, {r * m:,} connections{fixed}'


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    runs, _meta = table.load(d)
    configs = table.fanout_configs(runs)
    panels = []  # (config, [(server, line, points)])
    for c in configs:
        srv = []
        for s in table.SERVERS:
            e = runs.get((s, c))
            if not e:
                continue
            line, points = series(e)
            if points:
                srv.append((s, line, points))
        if srv:
            panels.append((c, srv))
    if not panels:
        print(f'plot.py: no fan-out steps in {d}: nothing to plot', file=sys.stderr)
        return 0

    # One data file, one block per configuration and server; a block is found by the
    # name in its first comment line ("index 'name'" in gnuplot).
    dat = ['# p99 latency against delivered rate, from table.load of this directory',
           '# columns: delivered/s, p99 ms, failed, disturbed, generator-bound, fixed step, offered deliveries/s']
    for c, srv in panels:
        for s, line, points in srv:
            dat += ['', '', f'# [{c} {s} line] search steps the search kept, by offered rate']
            dat += [f'{x:.1f} {y:.3f}' for x, y in line] or ['NaN NaN']
            dat += ['', '', f'# [{c} {s} points] every step']
            dat += [f'{p[0]:.1f} {p[1]:.3f} {p[2]} {p[3]} {p[4]} {p[5]} {p[6]:.1f}' for p in points]
    with open(os.path.join(d, 'p99.dat'), 'w') as f:
        f.write('\n'.join(dat) + '\n')

    allp = [p for _c, srv in panels for _s, _l, pts in srv for p in pts if p[0] > 0 and p[1] > 0]
    if not allp:  # a log axis has no room for zeros
        print(f'plot.py: no step in {d} delivered anything: nothing to plot', file=sys.stderr)
        return 0
    xlo = min(p[0] for p in allp) * 0.8  # same axes on every panel, room for the marks at the edges
    xhi = max(p[0] for p in allp) * 1.3
    ylo = 10 ** math.floor(math.log10(min(p[1] for p in allp)))
    yhi = 10 ** math.ceil(math.log10(max(max(p[1] for p in allp), P99_LIMIT_MS * 2)))
    xtics = ', '.join(f'{q(rate_label(v))} {v}' for v in log_tics(xlo, xhi))
    ytics = ', '.join(f'{q(ms_label(v))} {v}' for v in log_tics(ylo, yhi, (1,)))

    env = table.read_env(d)
    load = table.max_load(env)
    heading = f'p99 latency against delivered rate: {os.path.basename(os.path.abspath(d))}'
    if load is not None and load > table.PRELIMINARY_LOAD:
        heading += f' (preliminary: load average {load:.2f} as it began)'

    height = LEGEND_H + PANEL_H * len(panels)
    gp = [
        '# p99.svg from p99.dat; written by bench/tools/plot.py',
        f'set terminal svg size {WIDTH},{height} dynamic font "DejaVu Sans,12" background "white"',
        "set output 'p99.svg'",
        'set encoding utf8',
        'set termoption noenhanced',
        'set multiplot',
        '',
        '# the legend: a panel of its own above the plots, so that no key covers a point',
        f'set origin 0,{1 - LEGEND_H / height:.5f}',
        f'set size 1,{LEGEND_H / height:.5f}',
        'unset border; unset tics; unset xlabel; unset ylabel',
        'set xrange [0:1]; set yrange [0:1]',
        f'set label 1 {q(heading)} at screen 0.5, screen {1 - 16 / height:.5f} center font "DejaVu Sans,13"',
        f'set label 2 {q(CAPTION)} at screen 0.5, screen {1 - 112 / height:.5f} center font "DejaVu Sans,10"',
    ]
    # two keys side by side: the servers (colour, line) on the left, the marks on the right
    key = 'set key at screen %.2f, screen %.5f center top vertical maxrows 3 width 0 samplen 2.5 spacing 1.1'
    servers = []
    present = [s for s in table.SERVERS if any(s == x[0] for _c, srv in panels for x in srv)]
    for s in present:
        name, col, dt = STYLE[s]
        servers.append(f'NaN with linespoints lw 2 dt {dt} pt 7 ps 0.7 lc rgb {q(col)} title {q(name)}')
    gp += [key % (0.27, 1 - 30 / height), 'plot ' + ', \\\n     '.join(servers)]
    marks = [
        f"NaN with points pt 7 ps 0.7 lc rgb 'black' title {q('passed')}",
        f"NaN with points pt 2 ps 1.1 lw 1.5 lc rgb 'black' title {q('failed (p99, loss)')}",
        f"NaN with points pt 6 ps 1.7 lc rgb 'black' title {q('disturbed')}",
        f"NaN with points pt 8 ps 1.9 lc rgb 'black' title {q('generator > 90 % CPU')}",
        f"NaN with points pt 12 ps 2 lc rgb 'black' title {q('fixed step')}",
        f"NaN with lines dt (3,3) lw 1.5 lc rgb '#c00000' title {q(f'p99 = {P99_LIMIT_MS:g} ms')}",
    ]
    gp += ['unset label 1; unset label 2', key % (0.73, 1 - 30 / height), 'plot ' + ', \\\n     '.join(marks)]
    gp += [
        '',
        '# the panels: same axes in every one, so that they compare',
        'set border 3; set tics nomirror; set key off; set grid xtics ytics lc rgb "#e4e4e4"',
        'set logscale xy',
        f'set xrange [{xlo:.0f}:{xhi:.0f}]; set yrange [{ylo:g}:{yhi:g}]',
        f'set xtics ({xtics})',
        f'set ytics ({ytics})',
        'set mytics 10',
        "set xlabel 'delivered/s'",
        "set ylabel 'p99 latency, ms'",
        'set lmargin 9; set rmargin 3; set tmargin 2; set bmargin 3.5',
        f"set arrow 1 from graph 0, first {P99_LIMIT_MS:g} to graph 1, first {P99_LIMIT_MS:g} nohead "
        "dt (3,3) lw 1.5 lc rgb '#c00000' back",
    ]
    for i, (c, srv) in enumerate(panels):
        top = 1 - (LEGEND_H + i * PANEL_H) / height
        gp += ['', f'# {c}',
               f'set origin 0,{top - PANEL_H / height:.5f}', f'set size 1,{PANEL_H / height:.5f}',
               f'set title {q(config_title(c, [p for _s, _l, pts in srv for p in pts]))}']
        el = []
        for s, line, points in srv:
            _name, col, dt = STYLE[s]
            blk = f"'p99.dat' index {q(f'[{c} {s} line]')}"
            pts = f"'p99.dat' index {q(f'[{c} {s} points]')}"
            lc = f'lc rgb {q(col)}'
            if line:
                el.append(f'{blk} using 1:2 with lines lw 2 dt {dt} {lc}')
            # the marks: one layer per judgement, drawn only where a point has it
            if any(not p[2] for p in points):
                el.append(f'{pts} using 1:($3 == 0 ? $2 : NaN) with points pt 7 ps 0.7 {lc}')
            if any(p[2] for p in points):
                el.append(f'{pts} using 1:($3 == 1 ? $2 : NaN) with points pt 2 ps 1.1 lw 1.5 {lc}')
            if any(p[3] for p in points):
                el.append(f'{pts} using 1:($4 == 1 ? $2 : NaN) with points pt 6 ps 1.7 {lc}')
            if any(p[4] for p in points):
                el.append(f'{pts} using 1:($5 == 1 ? $2 : NaN) with points pt 8 ps 1.9 {lc}')
            if any(p[5] for p in points):
                el.append(f'{pts} using 1:($6 == 1 ? $2 : NaN) with points pt 12 ps 2 {lc}')
        gp.append('plot ' + ', \\\n     '.join(el))
    gp += ['', 'unset multiplot']
    with open(os.path.join(d, 'p99.gp'), 'w') as f:
        f.write('\n'.join(gp) + '\n')

    return run_gnuplot(d, 'p99.gp', 'p99.svg', 'plot.py')


def run_gnuplot(d, script, svg, who):
    """Run gnuplot on d/script (which writes d/svg); 0 when it drew, 1 (and why on
    stderr) when gnuplot is missing or failed.  who: the tool, for the messages."""
    if not shutil.which('gnuplot'):
        print(f'{who}: gnuplot is not installed (apt-get install gnuplot-nox); '
              f'{os.path.join(d, script)} is written', file=sys.stderr)
        return 1
    try:
        r = subprocess.run(['gnuplot', script], cwd=d, capture_output=True, text=True,
                           timeout=GNUPLOT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f'{who}: gnuplot did not finish in {GNUPLOT_TIMEOUT_S} s', file=sys.stderr)
        return 1
    if r.returncode != 0:
        print(f'{who}: gnuplot failed:\n{r.stderr}', file=sys.stderr)
        return 1
    print(f'{who}: wrote {os.path.join(d, svg)}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
