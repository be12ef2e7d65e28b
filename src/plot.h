/* plot.h — turns a results folder (a run's metrics.csv, summary.json and trace.csv, or a
 * sweep's sweep.csv) into small gnuplot data files in DIR/plots/ and renders them as PNG and
 * SVG figures with the gnuplot scripts kept in scripts/ (gnuplot is an external program).
 *
 * Figures of a run: cpu (%USED, %RDY, %CSTP over time per VM, one row of panels per layer),
 * attribution (each nested VM's time as stacked bars), network (drops over time and by
 * reason, when frames were dropped), memory (state and swap over time, when the memory model
 * wrote its columns), timeline (a Gantt of trace.csv over a short window). Figure of a sweep:
 * one metric against one axis with 95% confidence intervals, one line per value of another. */
#ifndef NESTSIM_SRC_PLOT_H
#define NESTSIM_SRC_PLOT_H

#include <glib.h>

#define PLOT_ERROR (plot_error_quark())
GQuark plot_error_quark(void);
typedef enum {
  PLOT_ERROR_INPUT,      /* the folder or one of its files is not what a run or sweep writes */
  PLOT_ERROR_IO,         /* a data file or the plots folder could not be written */
  PLOT_ERROR_NO_GNUPLOT, /* the data files are written but gnuplot is not on PATH */
  PLOT_ERROR_GNUPLOT,    /* gnuplot ran and failed (its stderr is in the message) */
} plot_error;

/* What to tell a user who has no gnuplot (the commands print it and still succeed). */
#define PLOT_NO_GNUPLOT_HINT                                                                   \
  "gnuplot is not installed, so no figures were drawn (the data files are in %s/plots/); "    \
  "install gnuplot-nox: apt-get install gnuplot-nox, then nestsim plot %s"

typedef struct plot_options {
  const char *x;       /* sweep: the axis on x; NULL = the first axis */
  const char *y;       /* sweep: the metric on y; NULL = the first metric */
  const char *by;      /* sweep: a line per value of this axis; NULL = the second, "" = none */
  const char *title;   /* sweep: the figure's title; NULL = "<y> vs <x> — mean and 95% CI" */
  const char *ylabel;  /* sweep: the y axis label; NULL = the metric's name */
  double window_s;     /* timeline: the length of the window; <= 0 = 0.5 s */
  double from_s;       /* timeline: where the window starts; < 0 = the first traced slice */
  const char *scripts; /* folder of the .gp scripts; NULL = found next to the program */
  const char *gnuplot; /* the gnuplot program; NULL = "gnuplot" looked up on PATH */
} plot_options;

/* Default options: everything chosen from the data. */
void plot_options_init(plot_options *o);

/* Writes DIR/plots/<name>.dat for every figure DIR's files support, then renders
 * DIR/plots/<name>.png and <name>.svg. `figures` (may be NULL) receives the paths of the
 * figures drawn (transfer full strings; the array must free its elements with g_free).
 * When gnuplot is not on PATH the data files are still written and the error is
 * PLOT_ERROR_NO_GNUPLOT: callers print PLOT_NO_GNUPLOT_HINT and carry on. */
gboolean plot_dir(const char *dir, const plot_options *opts, GPtrArray *figures, GError **error);

/* The command `nestsim plot DIR [--x AXIS --y METRIC --by AXIS --window T --from T]`. */
int plot_main(int argc, char **argv);

#endif
