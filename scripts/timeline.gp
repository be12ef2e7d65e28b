# timeline.gp — which vCPU held which CPU, at every traced layer, over a short window: one row
# per vCPU, one bar per slice coloured by the CPU it held (named inside when there is room),
# hatched where it held the CPU, solid on top where it really executed: a hatched stretch of an
# L2 vCPU is where its nested host's vCPU was itself waiting on L0.
# Variables: datadir, out, fmt, scripts; t0, t1 (window), nrows, split (y between layers, or -1).
# Data: datadir/timeline.dat: row start end colour layer "vcpu" "label" (one line per slice);
# datadir/timeline-exec.dat: row start end colour (one line per executing stretch).
w = 1400; h = 120 + 26*nrows
if (h < 400) { h = 400 }
load scripts.'/term.gp'
f = datadir.'/timeline.dat'
e = datadir.'/timeline-exec.dat'
set title sprintf('vCPU timeline %.3f s to %.3f s (bottom: L1 vCPUs on physical CPUs; ' \
                  .'above: nested vCPUs on L1 vCPUs)', t0, t1)
set xrange [t0:t1]
set yrange [-0.7:nrows-0.3]
set xlabel 'time (s)'
set ytics font ',8'
set grid x
unset grid
set grid x lc '#dddddd'
if (split > 0) {
  set arrow 1 from graph 0, first split to graph 1, first split nohead dt 2 lw 1.5 \
      lc '#444444' front
}
set key outside bottom center horizontal
set bmargin 5
# Twelve mid-tone colours (no black) so a CPU's name stays readable inside its bar.
array pal[12] = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', \
                 '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#86bcb6', '#d4a6c8']
do for [i=1:12] { set linetype i lc rgb pal[i] }
set linetype cycle 12
set style fill solid 1.0 noborder
plot f using (($2+$3)/2):1:(($3-$2)/2):(0.36):4:ytic(6) with boxxyerror \
       fs pattern 4 border lw 1.5 lc variable notitle, \
     e using (($2+$3)/2):1:(($3-$2)/2):(0.36):4 with boxxyerror \
       fs solid 0.85 noborder lc variable notitle, \
     f using (($2+$3)/2):1:7 with labels font ',7' tc '#000000' notitle, \
     NaN with boxes fs solid 0.85 lc '#777777' title 'executing', \
     NaN with boxes fs pattern 4 lc '#777777' \
       title 'holding the CPU, not executing (its own CPU is not running)'
