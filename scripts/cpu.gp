# cpu.gp — %USED, %RDY and %CSTP of every VM over time: one row of three panels per layer.
# Variables (gnuplot -e): datadir, out, fmt, scripts; layers ('1 2'), counts (series per layer).
# Data: datadir/cpu-l<L>-{used,rdy,cstp}.dat, a header row ("time_s" then one VM per column).
nl = words(layers)
w = 1500; h = 360*nl + 70
load scripts.'/term.gp'
set key autotitle columnhead
top = 0.93; bot = 0.07; gap = 0.12
ph = (top - bot - (nl-1)*gap) / nl
set multiplot layout nl,3 title 'CPU per VM over time (one row per layer)' \
    margins 0.05,0.80,bot,top spacing 0.05,gap
tags = 'used rdy cstp'
names = '%USED %RDY %CSTP'
set xlabel 'time (s)'
do for [i=1:nl] {
  l = word(layers, i)
  n = word(counts, i) + 0
  do for [m=1:3] {
    set title sprintf('L%s VMs: %s', l, word(names, m))
    set ylabel word(names, m)
    set yrange [0:*]
    # Past 24 VMs a key would not fit: the panel title gives their number instead.
    if (n > 24) { set title sprintf('L%s VMs: %s (%d VMs)', l, word(names, m), n) }
    if (m == 3 && n <= 24) {
      set key at screen 0.81, screen (top - (i-1)*(ph+gap)) left top font ',8' \
          maxrows 24 samplen 2
    } else {
      unset key
    }
    f = sprintf('%s/cpu-l%s-%s.dat', datadir, l, word(tags, m))
    # Past eight VMs the colours repeat: the second eight are dashed, the third dotted.
    plot for [c=2:n+1] f using 1:c with linespoints lt (c-2)%8+1 dt 1+int((c-2)/8) \
         pt 7 ps 0.4 lw 1.5
  }
}
unset multiplot
