# sweep.gp — one metric of a sweep against one axis, the mean of the repetitions with its 95%
# confidence interval as error bars, one line per value of a second axis.
# Variables: datadir, out, fmt, scripts; data (file name in datadir), ngroups, titles (one word
# per line), xname, yname, held (the other axes and the values they are held at), title and
# ylabel (empty: made from the names).
# Data: datadir/<data>: one block per line (two blank lines between): x mean ci95 "label"; x is
# the axis value, or for an axis that is not numeric the category's index (label its name).
w = 1000; h = 620
load scripts.'/term.gp'
held_text = strlen(held) > 0 ? ' ('.held.')' : ''
set title (strlen(title) > 0 ? title.held_text : yname.' vs '.xname.held_text.' — mean and 95% CI')
set xlabel xname
set ylabel (strlen(ylabel) > 0 ? ylabel : yname)
set key outside right top
set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05
f = datadir.'/'.data
# Ticks at the swept values only (category names when the axis is not numeric).
plot for [i=0:ngroups-1] f index i using 1:2:3:xtic(4) with yerrorlines pt 7 lw 1.5 \
     title word(titles, i+1)
