# network.gp — frames dropped: the rate over time for each entity that dropped any; the rate by
# reason over time (when metrics.csv splits drops by reason); and the totals by reason per
# entity over the measured run (from summary.json) as stacked bars.
# Variables: datadir, out, fmt, scripts; nseries, nrtime and nreasons (0 = that panel absent).
# Data: datadir/net-drops.dat and datadir/net-reasons-time.dat (wide, "time_s" then one column
# per entity or reason), datadir/net-reasons.dat ("entity" then one column per reason).
np = 1 + (nrtime > 0) + (nreasons > 0)
w = 1300; h = 440*np + 40
load scripts.'/term.gp'
if (np > 1) { set multiplot layout np,1 title 'Dropped frames' }
set title 'Drops per second over time, by entity'
set key outside right top autotitle columnhead font ',8'
set xlabel 'time (s)'
set ylabel 'DROP/s'
set yrange [0:*]
plot for [c=2:nseries+1] datadir.'/net-drops.dat' using 1:c with linespoints pt 7 ps 0.5 lw 1.5
if (nrtime > 0) {
  set title 'Drops per second over time, by reason (each drop once, where it happened)'
  plot for [c=2:nrtime+1] datadir.'/net-reasons-time.dat' using 1:c \
       with linespoints pt 7 ps 0.5 lw 1.5
}
if (nreasons > 0) {
  set title 'Frames dropped over the measured run, by reason'
  unset xlabel
  set ylabel 'frames'
  set autoscale x
  set style data histograms
  set style histogram rowstacked
  set style fill solid 0.85 border lc '#555555'
  set boxwidth 0.7
  set xtics rotate by -25 left font ',8'
  plot for [c=2:nreasons+1] datadir.'/net-reasons.dat' using c:xtic(1)
}
if (np > 1) { unset multiplot }
