/* stats.c — time-weighted averages and log-binned histograms with percentiles.
 *
 * A histogram is a GSL histogram whose bin edges grow geometrically (set with
 * gsl_histogram_set_ranges), so that a latency from 1 µs to 10 s is kept with the same
 * relative precision everywhere in a few dozen bins: adding a sample is a binary search over
 * the edges, no allocation. Count, sum, minimum and maximum are kept exactly beside it. */
#include "sim/stats.h"

#include <glib.h>
#include <gsl/gsl_histogram.h>
#include <math.h>

void sim_twavg_init(sim_twavg *tw, sim_time start, double value) {
  *tw = (sim_twavg){.value = value, .since = start, .start = start, .area = 0.0};
}

void sim_twavg_set(sim_twavg *tw, sim_time now, double value) {
  g_assert(now >= tw->since);
  tw->area += tw->value * (double)(now - tw->since);
  tw->since = now;
  tw->value = value;
}

double sim_twavg_mean(const sim_twavg *tw, sim_time now) {
  g_assert(now >= tw->since);
  if (now == tw->start) return tw->value;
  double area = tw->area + tw->value * (double)(now - tw->since);
  return area / (double)(now - tw->start);
}

void sim_twavg_reset(sim_twavg *tw, sim_time now) {
  g_assert(now >= tw->since);
  tw->since = now;
  tw->start = now;
  tw->area = 0.0;
}

struct sim_hist {
  gsl_histogram *h;
  size_t count;
  double sum;
  double min;
  double max;
  size_t last_bin; /* the bin of the previous sample: tried first */
};

sim_hist *sim_hist_new(double lo, double hi, unsigned bins_per_decade) {
  g_assert(lo > 0 && hi > lo && bins_per_decade >= 1);
  /* Whole bins up to hi; the small tolerance keeps an exact number of decades (hi/lo =
   * 1000 with 10 per decade) at 30 bins instead of adding a sliver bin for rounding. */
  double decades = log10(hi / lo);
  size_t n = (size_t)ceil(decades * bins_per_decade - 1e-9);
  if (n < 1) n = 1;
  double *edges = g_new(double, n + 1);
  for (size_t i = 0; i < n; i++) edges[i] = lo * pow(10.0, (double)i / bins_per_decade);
  /* The last bin ends at hi exactly, so it is narrower when hi/lo is not a whole number of
   * bins. */
  edges[n] = hi;
  sim_hist *s = g_new0(sim_hist, 1);
  s->h = gsl_histogram_alloc(n);
  if (!s->h || gsl_histogram_set_ranges(s->h, edges, n + 1) != 0)
    g_error("%s:%d: could not set up a histogram of %zu bins over [%g, %g)", __FILE__,
            __LINE__, n, lo, hi);
  g_free(edges);
  sim_hist_reset(s);
  return s;
}

void sim_hist_free(sim_hist *s) {
  if (!s) return;
  gsl_histogram_free(s->h);
  g_free(s);
}

/* The bin of x, which lies in [range[0], range[n]): the i with range[i] <= x < range[i + 1],
 * the same bin gsl_histogram_increment finds (the edges grow strictly, so only one i fits).
 * GSL first tries the bin x would be in if the bins were equally wide, which on log bins
 * misses, and then bisects with error checks around it. A run adds a sample per delivered
 * frame, and a flow's latencies mostly fall into the bin of the one before, so sim_hist_add
 * tries that bin first and bisects only when it misses. */
static size_t hist_bin(const double *range, size_t n, double x) {
  size_t lo = 0, len = n; /* the answer is in [lo, lo + len) */
  while (len > 1) {
    size_t half = len / 2;
    if (x >= range[lo + half]) lo += half;
    len -= half;
  }
  return lo;
}

void sim_hist_add(sim_hist *s, double x) {
  g_assert(!isnan(x));
  /* Clamp into the outer bins: a sample outside [lo, hi) still weighs in the percentiles,
   * at the edge of the range it fell off (its exact value is in min/max/mean). */
  size_t n = s->h->n;
  const double *range = s->h->range;
  double in = x < range[0] ? range[0] : x >= range[n] ? range[n - 1] : x;
  size_t i = s->last_bin;
  if (!(in >= range[i] && in < range[i + 1])) i = s->last_bin = hist_bin(range, n, in);
  s->h->bin[i] += 1.0;
  if (s->count == 0 || x < s->min) s->min = x;
  if (s->count == 0 || x > s->max) s->max = x;
  s->count++;
  s->sum += x;
}

size_t sim_hist_count(const sim_hist *s) { return s->count; }
double sim_hist_mean(const sim_hist *s) { return s->count ? s->sum / (double)s->count : NAN; }
double sim_hist_min(const sim_hist *s) { return s->count ? s->min : NAN; }
double sim_hist_max(const sim_hist *s) { return s->count ? s->max : NAN; }

/* The p-quantile of the "ogive": the cumulative distribution that is exact at every bin edge
 * and linear in between, as if each bin's samples were spread evenly across it. The true
 * quantile of the samples lies in the same bin, so the error is at most one bin width (a
 * factor of 10^(1/bins_per_decade) on a log scale). The result is clamped to [min, max],
 * which makes it exact when all samples are equal and at p = 0 and p = 1.
 *
 * Not gsl_histogram_pdf_sample: it maps r = 1 onto the bottom of the range and works with
 * normalised floating-point cumulative sums, which can end just short of 1 so that a high
 * percentile finds no bin (a GSL error, fatal under the default handler). The counts here
 * are integers below 2^53, so the running sum is exact. */
double sim_hist_quantile(const sim_hist *s, double p) {
  g_assert(p >= 0.0 && p <= 1.0);
  if (s->count == 0) return NAN;
  if (p == 0.0) return s->min;
  if (p == 1.0) return s->max;
  double target = p * (double)s->count;
  double cum = 0.0;
  size_t n = gsl_histogram_bins(s->h);
  double x = s->max;
  for (size_t i = 0; i < n; i++) {
    double b = gsl_histogram_get(s->h, i);
    if (b > 0 && cum + b >= target) {
      double lower, upper;
      gsl_histogram_get_range(s->h, i, &lower, &upper);
      x = lower + (target - cum) / b * (upper - lower);
      break;
    }
    cum += b;
  }
  return x < s->min ? s->min : x > s->max ? s->max : x;
}

void sim_hist_reset(sim_hist *s) {
  gsl_histogram_reset(s->h);
  s->count = 0;
  s->sum = 0.0;
  s->min = NAN;
  s->max = NAN;
}
