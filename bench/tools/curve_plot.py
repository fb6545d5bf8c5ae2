#!/usr/bin/env python3
"""Draw the load curve of a bench/curve.sh results directory: one SVG per fan-out shape
(curve-RxM.svg), with two panels against delivered/s: server CPU s per 1M deliveries
above, p99 latency below.

usage: curve_plot.py RESULTS_DIR

Writes curve.dat (the points: one gnuplot data block per shape and server), and for
each shape curve-RxM.gp and, with gnuplot, curve-RxM.svg.  A server's line joins its
points (a step's rounds merged by curve_table.points: their median) in the order of
their offered rate; the marks are curve_table.py's: passed, failed, disturbed, and
"not reached" (the generator could not drive the step, so the point is the
generator's limit, drawn where it is: at the rate that was delivered).
Colours and dashes are plot.py's (a TLS variant is dashed in its server's colour).
"""
import math
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import curve_table  # noqa: E402
import plot  # noqa: E402
import table  # noqa: E402

WIDTH = 800
LEGEND_H = 110
PANEL_H = 320


def block(cfg, srv):
    return f'[{cfg} {srv}]'


def script(d, cfg, series, heading):
    """The gnuplot script of one shape; series: [(server, points)]."""
    pts = [p for _s, ps in series for p in ps if p[0] > 0]
    xlo = min(p[0] for p in pts) * 0.8
    xhi = max(p[0] for p in pts) * 1.3
    cpus = [p[1] for p in pts if p[1] > 0] or [1]
    p99s = [p[2] for p in pts if p[2] > 0] or [1]
    clo, chi = 10 ** math.floor(math.log10(min(cpus) * 0.9)), 10 ** math.ceil(math.log10(max(cpus) * 1.1))
    plo = 10 ** math.floor(math.log10(min(p99s) * 0.9))
    phi = 10 ** math.ceil(math.log10(max(max(p99s), curve_table.P99_LIMIT_MS * 2)))
    xtics = ', '.join(f'{plot.q(plot.rate_label(v))} {v}' for v in plot.log_tics(xlo, xhi))
    height = LEGEND_H + 2 * PANEL_H
    out = f'curve-{cfg}.svg'
    gp = [f'# {out} from curve.dat; written by bench/tools/curve_plot.py',
          f'set terminal svg size {WIDTH},{height} dynamic font "DejaVu Sans,12" background "white"',
          f'set output {plot.q(out)}', 'set encoding utf8', 'set termoption noenhanced', 'set multiplot',
          f'set origin 0,{1 - LEGEND_H / height:.5f}', f'set size 1,{LEGEND_H / height:.5f}',
          'unset border; unset tics', 'set xrange [0:1]; set yrange [0:1]',
          f'set label 1 {plot.q(heading)} at screen 0.5, screen {1 - 16 / height:.5f} center font "DejaVu Sans,13"']
    key = 'set key at screen %.2f, screen %.5f center top vertical maxrows 4 width 0 samplen 2.5 spacing 1.1'
    names = []
    for s, _ps in series:
        name, col, dt = plot.STYLE[s]
        names.append(f'NaN with linespoints lw 2 dt {dt} pt 7 ps 0.7 lc rgb {plot.q(col)} title {plot.q(name)}')
    gp += [key % (0.25, 1 - 30 / height), 'plot ' + ', \\\n     '.join(names)]
    marks = ["NaN with points pt 7 ps 0.7 lc rgb 'black' title 'passed'",
             "NaN with points pt 2 ps 1.1 lw 1.5 lc rgb 'black' title 'failed (p99, loss)'",
             "NaN with points pt 6 ps 1.7 lc rgb 'black' title 'disturbed'",
             "NaN with points pt 8 ps 1.9 lc rgb 'black' title 'not reached (generator)'"]
    gp += ['unset label 1', key % (0.80, 1 - 30 / height), 'plot ' + ', \\\n     '.join(marks)]
    gp += ['set border 3; set tics nomirror; set key off; set grid xtics ytics lc rgb "#e4e4e4"',
           'set logscale xy', f'set xrange [{xlo:.0f}:{xhi:.0f}]', f'set xtics ({xtics})', 'set mytics 10',
           "set xlabel 'delivered/s'", 'set lmargin 9; set rmargin 3; set tmargin 2; set bmargin 3.5']
    panels = [(2, 'server CPU s / 1M deliveries', clo, chi, f'{cfg}: server CPU per delivery'),
              (3, 'p99 latency, ms', plo, phi, f'{cfg}: p99 latency (red: {curve_table.P99_LIMIT_MS:g} ms)')]
    for i, (col_y, ylabel, ylo, yhi, title) in enumerate(panels):
        top = 1 - (LEGEND_H + i * PANEL_H) / height
        gp += ['', f'set origin 0,{top - PANEL_H / height:.5f}', f'set size 1,{PANEL_H / height:.5f}',
               f'set yrange [{ylo:g}:{yhi:g}]', f'set ylabel {plot.q(ylabel)}', f'set title {plot.q(title)}',
               'unset arrow']
        if col_y == 3:
            gp.append(f"set arrow 1 from graph 0, first {curve_table.P99_LIMIT_MS:g} to graph 1, "
                      f"first {curve_table.P99_LIMIT_MS:g} nohead dt (3,3) lw 1.5 lc rgb '#c00000' back")
        el = []
        for s, ps in series:
            _n, col, dt = plot.STYLE[s]
            src = f"'curve.dat' index {plot.q(block(cfg, s))}"
            lc = f'lc rgb {plot.q(col)}'
            el.append(f'{src} using 1:{col_y} with lines lw 2 dt {dt} {lc}')
            el.append(f'{src} using 1:($4 == 0 && $6 == 0 ? ${col_y} : NaN) with points pt 7 ps 0.7 {lc}')
            for flag, style in ((4, 'pt 2 ps 1.1 lw 1.5'), (5, 'pt 6 ps 1.7'), (6, 'pt 8 ps 1.9')):
                if any(p[flag - 1] for p in ps):
                    el.append(f'{src} using 1:(${flag} == 1 ? ${col_y} : NaN) with points {style} {lc}')
        gp.append('plot ' + ', \\\n     '.join(el))
    gp += ['', 'unset multiplot']
    name = f'curve-{cfg}.gp'
    with open(os.path.join(d, name), 'w') as f:
        f.write('\n'.join(gp) + '\n')
    return name, out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    runs, _meta = table.load(d)
    load = table.max_load(table.read_env(d))
    shapes = []
    dat = ['# the load curve, from curve_table.points of this directory (the median of its rounds)',
           '# columns: delivered/s, server CPU s / 1M, p99 ms, failed, disturbed, not reached, offered deliveries/s']
    for cfg in table.fanout_configs(runs):
        series = []
        for s in table.SERVERS:
            ps = [(x['delivered_s'], x['srv_cpu_s_per_M'], x['p99_ms'], int(x['failed']),
                   int(x['disturbed']), int(bool(curve_table.unreached(x))), x['offered_deliv_s'])
                  for x in curve_table.points(runs, s, cfg).values()]
            if ps:
                series.append((s, ps))
                dat += ['', '', f'# {block(cfg, s)}']
                dat += [' '.join(f'{v:g}' for v in p) for p in ps]
        if series and any(p[0] > 0 for _s, ps in series for p in ps):
            shapes.append((cfg, series))
    with open(os.path.join(d, 'curve.dat'), 'w') as f:
        f.write('\n'.join(dat) + '\n')
    if not shapes:
        print(f'curve_plot.py: no step in {d} delivered anything: nothing to plot', file=sys.stderr)
        return 0
    rc = 0
    for cfg, series in shapes:
        heading = f'Load curve {cfg}: {os.path.basename(os.path.abspath(d))}'
        rounds = max(x['rounds'] for s in table.SERVERS for x in curve_table.points(runs, s, cfg).values()) \
            if any(curve_table.points(runs, s, cfg) for s in table.SERVERS) else 1
        if rounds > 1:
            heading += f', medians of {rounds} rounds'
        if load is not None and load > table.PRELIMINARY_LOAD:
            heading += f' (preliminary: load average {load:.2f} as it began)'
        gp, svg = script(d, cfg, series, heading)
        rc |= plot.run_gnuplot(d, gp, svg, 'curve_plot.py')
    return rc


if __name__ == '__main__':
    sys.exit(main())
