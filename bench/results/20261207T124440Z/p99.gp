# p99.svg from p99.dat; written by bench/tools/plot.py
set terminal svg size 800,1114 dynamic font "DejaVu Sans,12" background "white"
set output 'p99.svg'
set encoding utf8
set termoption noenhanced
set multiplot

# the legend: a panel of its own above the plots, so that no key covers a point
set origin 0,0.88869
set size 1,0.11131
unset border; unset tics; unset xlabel; unset ylabel
set xrange [0:1]; set yrange [0:1]
set label 1 'p99 latency against delivered rate: 20261207T124440Z (preliminary: load average up to 0.75)' at screen 0.5, screen 0.98564 center font "DejaVu Sans,13"
set label 2 'Lines join the capacity-search steps in the order of their offered rate: past its capacity a server delivers less than it is offered, and its line bends back.' at screen 0.5, screen 0.89946 center font "DejaVu Sans,10"
set key at screen 0.27, screen 0.97307 center top vertical maxrows 3 width 0 samplen 2.5 spacing 1.1
plot NaN with linespoints lw 2 dt solid pt 7 ps 0.7 lc rgb '#1f5fbf' title 'kamratd', \
     NaN with linespoints lw 2 dt solid pt 7 ps 0.7 lc rgb '#d96c00' title 'mosquitto'
unset label 1; unset label 2
set key at screen 0.73, screen 0.97307 center top vertical maxrows 3 width 0 samplen 2.5 spacing 1.1
plot NaN with points pt 7 ps 0.7 lc rgb 'black' title 'passed', \
     NaN with points pt 2 ps 1.1 lw 1.5 lc rgb 'black' title 'failed (p99, loss)', \
     NaN with points pt 6 ps 1.7 lc rgb 'black' title 'disturbed', \
     NaN with points pt 8 ps 1.9 lc rgb 'black' title 'generator > 90 % CPU', \
     NaN with points pt 12 ps 2 lc rgb 'black' title 'fixed step', \
     NaN with lines dt (3,3) lw 1.5 lc rgb '#c00000' title 'p99 = 50 ms'

# the panels: same axes in every one, so that they compare
set border 3; set tics nomirror; set key off; set grid xtics ytics lc rgb "#e4e4e4"
set logscale xy
set xrange [8000:3328203]; set yrange [0.1:10000]
set xtics ('10k' 10000, '20k' 20000, '50k' 50000, '100k' 100000, '200k' 200000, '500k' 500000, '1000k' 1000000, '2000k' 2000000)
set ytics ('0.1' 0.1, '1' 1, '10' 10, '100' 100, '1000' 1000, '10000' 10000)
set mytics 10
set xlabel 'delivered/s'
set ylabel 'p99 latency, ms'
set lmargin 9; set rmargin 3; set tmargin 2; set bmargin 3.5
set arrow 1 from graph 0, first 50 to graph 1, first 50 nohead dt (3,3) lw 1.5 lc rgb '#c00000' back

# 100x10
set origin 0,0.59246
set size 1,0.29623
set title '100x10: 100 rooms x 10 members, 1,000 connections, fixed step at 10,000/s offered'
plot 'p99.dat' index '[100x10 kamrat line]' using 1:2 with lines lw 2 dt solid lc rgb '#1f5fbf', \
     'p99.dat' index '[100x10 kamrat points]' using 1:($3 == 0 ? $2 : NaN) with points pt 7 ps 0.7 lc rgb '#1f5fbf', \
     'p99.dat' index '[100x10 kamrat points]' using 1:($3 == 1 ? $2 : NaN) with points pt 2 ps 1.1 lw 1.5 lc rgb '#1f5fbf', \
     'p99.dat' index '[100x10 kamrat points]' using 1:($5 == 1 ? $2 : NaN) with points pt 8 ps 1.9 lc rgb '#1f5fbf', \
     'p99.dat' index '[100x10 kamrat points]' using 1:($6 == 1 ? $2 : NaN) with points pt 12 ps 2 lc rgb '#1f5fbf', \
     'p99.dat' index '[100x10 mosquitto line]' using 1:2 with lines lw 2 dt solid lc rgb '#d96c00', \
     'p99.dat' index '[100x10 mosquitto points]' using 1:($3 == 0 ? $2 : NaN) with points pt 7 ps 0.7 lc rgb '#d96c00', \
     'p99.dat' index '[100x10 mosquitto points]' using 1:($3 == 1 ? $2 : NaN) with points pt 2 ps 1.1 lw 1.5 lc rgb '#d96c00', \
     'p99.dat' index '[100x10 mosquitto points]' using 1:($4 == 1 ? $2 : NaN) with points pt 6 ps 1.7 lc rgb '#d96c00', \
     'p99.dat' index '[100x10 mosquitto points]' using 1:($5 == 1 ? $2 : NaN) with points pt 8 ps 1.9 lc rgb '#d96c00', \
     'p99.dat' index '[100x10 mosquitto points]' using 1:($6 == 1 ? $2 : NaN) with points pt 12 ps 2 lc rgb '#d96c00'

# 10x100
set origin 0,0.29623
set size 1,0.29623
set title '10x100: 10 rooms x 100 members, 1,000 connections, fixed step at 10,000/s offered'
plot 'p99.dat' index '[10x100 kamrat line]' using 1:2 with lines lw 2 dt solid lc rgb '#1f5fbf', \
     'p99.dat' index '[10x100 kamrat points]' using 1:($3 == 0 ? $2 : NaN) with points pt 7 ps 0.7 lc rgb '#1f5fbf', \
     'p99.dat' index '[10x100 kamrat points]' using 1:($5 == 1 ? $2 : NaN) with points pt 8 ps 1.9 lc rgb '#1f5fbf', \
     'p99.dat' index '[10x100 kamrat points]' using 1:($6 == 1 ? $2 : NaN) with points pt 12 ps 2 lc rgb '#1f5fbf', \
     'p99.dat' index '[10x100 mosquitto line]' using 1:2 with lines lw 2 dt solid lc rgb '#d96c00', \
     'p99.dat' index '[10x100 mosquitto points]' using 1:($3 == 0 ? $2 : NaN) with points pt 7 ps 0.7 lc rgb '#d96c00', \
     'p99.dat' index '[10x100 mosquitto points]' using 1:($3 == 1 ? $2 : NaN) with points pt 2 ps 1.1 lw 1.5 lc rgb '#d96c00', \
     'p99.dat' index '[10x100 mosquitto points]' using 1:($6 == 1 ? $2 : NaN) with points pt 12 ps 2 lc rgb '#d96c00'

# 1x500
set origin 0,0.00000
set size 1,0.29623
set title '1x500: 1 room x 500 members, 500 connections, fixed step at 10,000/s offered'
plot 'p99.dat' index '[1x500 kamrat line]' using 1:2 with lines lw 2 dt solid lc rgb '#1f5fbf', \
     'p99.dat' index '[1x500 kamrat points]' using 1:($3 == 0 ? $2 : NaN) with points pt 7 ps 0.7 lc rgb '#1f5fbf', \
     'p99.dat' index '[1x500 kamrat points]' using 1:($5 == 1 ? $2 : NaN) with points pt 8 ps 1.9 lc rgb '#1f5fbf', \
     'p99.dat' index '[1x500 kamrat points]' using 1:($6 == 1 ? $2 : NaN) with points pt 12 ps 2 lc rgb '#1f5fbf', \
     'p99.dat' index '[1x500 mosquitto line]' using 1:2 with lines lw 2 dt solid lc rgb '#d96c00', \
     'p99.dat' index '[1x500 mosquitto points]' using 1:($3 == 0 ? $2 : NaN) with points pt 7 ps 0.7 lc rgb '#d96c00', \
     'p99.dat' index '[1x500 mosquitto points]' using 1:($3 == 1 ? $2 : NaN) with points pt 2 ps 1.1 lw 1.5 lc rgb '#d96c00', \
     'p99.dat' index '[1x500 mosquitto points]' using 1:($6 == 1 ? $2 : NaN) with points pt 12 ps 2 lc rgb '#d96c00'

unset multiplot
