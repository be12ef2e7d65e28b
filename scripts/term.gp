# term.gp — the terminal every nestsim figure uses, loaded by the other scripts.
# Needs: out (file), fmt ('png' or 'svg'), w and h (size in pixels).
# pngcairo draws anti-aliased lines and fill patterns; the libgd png terminal is the fallback
# where gnuplot was built without cairo. noenhanced keeps '_' in entity names literal.
if (fmt eq 'svg') {
  set terminal svg size w,h dynamic noenhanced font 'Sans,10' background '#ffffff'
} else {
  if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
    set terminal pngcairo size w,h noenhanced font 'Sans,9' background '#ffffff'
  } else {
    set terminal png size w,h noenhanced
  }
}
set output out
set datafile missing '?'
set grid back lc '#dddddd'
set autoscale xfix
