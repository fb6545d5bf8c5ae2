# curve-10x100.svg from curve.dat; written by bench/tools/curve_plot.py
set terminal svg size 800,750 dynamic font "DejaVu Sans,12" background "white"
set output 'curve-10x100.svg'
set encoding utf8
set termoption noenhanced
set multiplot
set origin 0,0.85333
set size 1,0.14667
unset border; unset tics
set xrange [0:1]; set yrange [0:1]
set label 1 'Load curve 10x100: 20261207T154520Z-curve, medians of 5 rounds' at screen 0.5, screen 0.97867 center font "DejaVu Sans,13"
set key at screen 0.25, screen 0.96000 center top vertical maxrows 4 width 0 samplen 2.5 spacing 1.1
plot NaN with linespoints lw 2 dt solid pt 7 ps 0.7 lc rgb '#1f5fbf' title 'kamratd', \
     NaN with linespoints lw 2 dt (7,4) pt 7 ps 0.7 lc rgb '#1f5fbf' title 'kamratd TLS', \
     NaN with linespoints lw 2 dt solid pt 7 ps 0.7 lc rgb '#d96c00' title 'mosquitto', \
     NaN with linespoints lw 2 dt (7,4) pt 7 ps 0.7 lc rgb '#d96c00' title 'mosquitto TLS', \
     NaN with linespoints lw 2 dt solid pt 7 ps 0.7 lc rgb '#707070' title 'ceiling (raw epoll)'
unset label 1
set key at screen 0.80, screen 0.96000 center top vertical maxrows 4 width 0 samplen 2.5 spacing 1.1
plot NaN with points pt 7 ps 0.7 lc rgb 'black' title 'passed', \
     NaN with points pt 2 ps 1.1 lw 1.5 lc rgb 'black' title 'failed (p99, loss)', \
     NaN with points pt 6 ps 1.7 lc rgb 'black' title 'disturbed', \
     NaN with points pt 8 ps 1.9 lc rgb 'black' title 'not reached (generator)'
set border 3; set tics nomirror; set key off; set grid xtics ytics lc rgb "#e4e4e4"
set logscale xy
set xrange [8000:13000]
set xtics ('10k' 10000)
set mytics 10
set xlabel 'delivered/s'
set lmargin 9; set rmargin 3; set tmargin 2; set bmargin 3.5

set origin 0,0.42667
set size 1,0.42667
set yrange [1:100]
set ylabel 'server CPU s / 1M deliveries'
set title '10x100: server CPU per delivery'
unset arrow
plot 'curve.dat' index '[10x100 kamrat]' using 1:2 with lines lw 2 dt solid lc rgb '#1f5fbf', \
     'curve.dat' index '[10x100 kamrat]' using 1:($4 == 0 && $6 == 0 ? $2 : NaN) with points pt 7 ps 0.7 lc rgb '#1f5fbf', \
     'curve.dat' index '[10x100 kamrat-tls]' using 1:2 with lines lw 2 dt (7,4) lc rgb '#1f5fbf', \
     'curve.dat' index '[10x100 kamrat-tls]' using 1:($4 == 0 && $6 == 0 ? $2 : NaN) with points pt 7 ps 0.7 lc rgb '#1f5fbf', \
     'curve.dat' index '[10x100 mosquitto]' using 1:2 with lines lw 2 dt solid lc rgb '#d96c00', \
     'curve.dat' index '[10x100 mosquitto]' using 1:($4 == 0 && $6 == 0 ? $2 : NaN) with points pt 7 ps 0.7 lc rgb '#d96c00', \
     'curve.dat' index '[10x100 mosquitto-tls]' using 1:2 with lines lw 2 dt (7,4) lc rgb '#d96c00', \
     'curve.dat' index '[10x100 mosquitto-tls]' using 1:($4 == 0 && $6 == 0 ? $2 : NaN) with points pt 7 ps 0.7 lc rgb '#d96c00', \
     'curve.dat' index '[10x100 ceiling]' using 1:2 with lines lw 2 dt solid lc rgb '#707070', \
     'curve.dat' index '[10x100 ceiling]' using 1:($4 == 0 && $6 == 0 ? $2 : NaN) with points pt 7 ps 0.7 lc rgb '#707070'

set origin 0,-0.00000
set size 1,0.42667
set yrange [1:100]
set ylabel 'p99 latency, ms'
set title '10x100: p99 latency (red: 50 ms)'
unset arrow
set arrow 1 from graph 0, first 50 to graph 1, first 50 nohead dt (3,3) lw 1.5 lc rgb '#c00000' back
plot 'curve.dat' index '[10x100 kamrat]' using 1:3 with lines lw 2 dt solid lc rgb '#1f5fbf', \
     'curve.dat' index '[10x100 kamrat]' using 1:($4 == 0 && $6 == 0 ? $3 : NaN) with points pt 7 ps 0.7 lc rgb '#1f5fbf', \
     'curve.dat' index '[10x100 kamrat-tls]' using 1:3 with lines lw 2 dt (7,4) lc rgb '#1f5fbf', \
     'curve.dat' index '[10x100 kamrat-tls]' using 1:($4 == 0 && $6 == 0 ? $3 : NaN) with points pt 7 ps 0.7 lc rgb '#1f5fbf', \
     'curve.dat' index '[10x100 mosquitto]' using 1:3 with lines lw 2 dt solid lc rgb '#d96c00', \
     'curve.dat' index '[10x100 mosquitto]' using 1:($4 == 0 && $6 == 0 ? $3 : NaN) with points pt 7 ps 0.7 lc rgb '#d96c00', \
     'curve.dat' index '[10x100 mosquitto-tls]' using 1:3 with lines lw 2 dt (7,4) lc rgb '#d96c00', \
     'curve.dat' index '[10x100 mosquitto-tls]' using 1:($4 == 0 && $6 == 0 ? $3 : NaN) with points pt 7 ps 0.7 lc rgb '#d96c00', \
     'curve.dat' index '[10x100 ceiling]' using 1:3 with lines lw 2 dt solid lc rgb '#707070', \
     'curve.dat' index '[10x100 ceiling]' using 1:($4 == 0 && $6 == 0 ? $3 : NaN) with points pt 7 ps 0.7 lc rgb '#707070'

unset multiplot
