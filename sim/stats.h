/* stats.h — the statistics a model keeps while it runs: time-weighted averages and histograms
 * with percentiles (GSL), cheap enough to update on every event. */
#ifndef NESTSIM_SIM_STATS_H
#define NESTSIM_SIM_STATS_H

#include <stddef.h>
#include "sim/pq.h"

/* The time-weighted average of a piecewise-constant value (a queue length, a state). */
typedef struct sim_twavg {
  double value;    /* current value */
  sim_time since;  /* when it took that value */
  sim_time start;  /* when averaging began */
  double area;     /* integral of value over [start, since] in value x ns */
} sim_twavg;

void sim_twavg_init(sim_twavg *tw, sim_time start, double value);
void sim_twavg_set(sim_twavg *tw, sim_time now, double value);
/* The average over [start, now]; the current value when no time has passed. */
double sim_twavg_mean(const sim_twavg *tw, sim_time now);
/* Forgets the past: the average restarts at `now` (used at the end of warm-up). */
void sim_twavg_reset(sim_twavg *tw, sim_time now);

/* A histogram of positive samples on logarithmic bins (GSL histogram underneath) with exact
 * count, mean, min and max, and percentiles interpolated within a bin. */
typedef struct sim_hist sim_hist;

/* Bins span [lo, hi) with `bins_per_decade` bins in each factor of ten; samples outside are
 * clamped into the first or last bin (and still counted exactly in min/max/mean). */
sim_hist *sim_hist_new(double lo, double hi, unsigned bins_per_decade); /* transfer full */
void sim_hist_free(sim_hist *h);
void sim_hist_add(sim_hist *h, double x);
size_t sim_hist_count(const sim_hist *h);
double sim_hist_mean(const sim_hist *h);
double sim_hist_min(const sim_hist *h);
double sim_hist_max(const sim_hist *h);
/* The p-quantile, 0 <= p <= 1; NAN when empty. Exact at bin edges, linear inside a bin. */
double sim_hist_quantile(const sim_hist *h, double p);
void sim_hist_reset(sim_hist *h);

#endif
