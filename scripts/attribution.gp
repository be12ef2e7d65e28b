# attribution.gp — where each nested VM's time went, as one stacked bar per VM (sums to 100%).
# Variables: datadir, out, fmt, scripts; ncols (columns in the file), nvms, nested (1 = L2 VMs).
# Data: datadir/attribution.dat, header "vm" then one cause per column, one row per VM.
# 45 px per bar, within 800..3000 px; past 60 VMs the names would overlap and are left out.
w = 300 + 45*nvms; h = 560
if (w < 800) { w = 800 }
if (w > 3000) { w = 3000 }
load scripts.'/term.gp'
set title (nested ? 'Attribution of each nested (L2) VM''s time' : 'Attribution of each VM''s time')
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border lc '#555555'
set boxwidth 0.75
set key outside right top autotitle columnhead
set ylabel '% of the VM''s time'
set yrange [0:105]
set xtics rotate by -40 left font ',8'
set grid y
f = datadir.'/attribution.dat'
if (nvms > 60) {
  set xlabel sprintf('%d VMs, in the order of attribution.dat', nvms)
  set xtics format ''
  plot for [c=2:ncols] f using c
} else {
  plot for [c=2:ncols] f using c:xtic(1)
}
