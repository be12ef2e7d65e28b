# memory.gp — memory state of every hypervisor (ESXi's high/clear/soft/hard/low levels) and
# the swapped memory (SWCUR, MB) of every VM over time.
# Variables: datadir, out, fmt, scripts; nstate, nswap (series in each file, 0 = absent).
# Data: datadir/mem-state.dat and datadir/mem-swap.dat (wide, "time_s" then entities).
np = (nstate > 0) + (nswap > 0)
w = 1300; h = 440*np + 40
load scripts.'/term.gp'
if (np > 1) { set multiplot layout np,1 title 'Memory over time' }
set key outside right top autotitle columnhead font ',8'
set xlabel 'time (s)'
if (nstate > 0) {
  set title 'Memory state of each hypervisor'
  set ylabel 'state'
  set yrange [-0.3:4.3]
  set ytics ('high' 0, 'clear' 1, 'soft' 2, 'hard' 3, 'low' 4)
  plot for [c=2:nstate+1] datadir.'/mem-state.dat' using 1:c with steps lw 2
}
if (nswap > 0) {
  set title 'Swapped memory of each VM (SWCUR)'
  set ylabel 'MB'
  set yrange [0:*]
  set ytics auto
  plot for [c=2:nswap+1] datadir.'/mem-swap.dat' using 1:c with linespoints pt 7 ps 0.4 lw 1.5
}
if (np > 1) { unset multiplot }
