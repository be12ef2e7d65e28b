/* test-stats.c — time-weighted averages and log-binned histograms (sim/stats.c) against
 * integrals and quantiles computed by hand. */
#include <glib.h>
#include <math.h>

#include "sim/stats.h"

/* ---- time-weighted average ---- */

static void test_twavg_piecewise_constant_integral(void) {
  /* 2 on [0, 10), 5 on [10, 30), 0 on [30, 40): the area is 2*10 + 5*20 + 0*10 = 120, so
   * the average over [0, 40] is 120 / 40 = 3. */
  sim_twavg tw;
  sim_twavg_init(&tw, 0, 2.0);
  sim_twavg_set(&tw, 10, 5.0);
  sim_twavg_set(&tw, 30, 0.0);
  g_assert_cmpfloat(sim_twavg_mean(&tw, 40), ==, 3.0);
  /* Over [0, 30] the area is 120 and the average 4; the value set at 30 has not yet lasted
   * any time. */
  g_assert_cmpfloat(sim_twavg_mean(&tw, 30), ==, 4.0);
}

static void test_twavg_current_value_counts_up_to_now(void) {
  /* 1 on [100, 200) then 3 from 200 on, never set again: at 400 the area is
   * 1*100 + 3*200 = 700 over 300 ns, 7/3. */
  sim_twavg tw;
  sim_twavg_init(&tw, 100, 1.0);
  sim_twavg_set(&tw, 200, 3.0);
  g_assert_cmpfloat_with_epsilon(sim_twavg_mean(&tw, 400), 7.0 / 3.0, 1e-12);
}

static void test_twavg_no_time_elapsed_gives_current_value(void) {
  sim_twavg tw;
  sim_twavg_init(&tw, 50, 8.0);
  g_assert_cmpfloat(sim_twavg_mean(&tw, 50), ==, 8.0);
  /* Several changes at the same instant: only the last one holds, and still no time. */
  sim_twavg_set(&tw, 50, 1.0);
  sim_twavg_set(&tw, 50, 6.0);
  g_assert_cmpfloat(sim_twavg_mean(&tw, 50), ==, 6.0);
  g_assert_cmpfloat(sim_twavg_mean(&tw, 60), ==, 6.0);
}

static void test_twavg_reset_forgets_the_past(void) {
  /* A warm-up at 1000 for [0, 40), then reset: 0 on [40, 50), 4 on [50, 60) averages to
   * 40 / 20 = 2, whatever came before. */
  sim_twavg tw;
  sim_twavg_init(&tw, 0, 1000.0);
  sim_twavg_set(&tw, 30, 0.0);
  sim_twavg_reset(&tw, 40);
  sim_twavg_set(&tw, 50, 4.0);
  g_assert_cmpfloat(sim_twavg_mean(&tw, 60), ==, 2.0);
}

static void test_twavg_one_simulated_hour_of_a_square_wave(void) {
  /* A 0/1 square wave of period 2 ms (1 ms each) for one hour: the average is exactly 1/2,
   * and the area (1.8e12 value-ns) is far below 2^53, so the sum is exact in a double. */
  sim_twavg tw;
  sim_twavg_init(&tw, 0, 0.0);
  for (sim_time t = SIM_MS; t < 3600 * SIM_S; t += SIM_MS) sim_twavg_set(&tw, t, (double)((t / SIM_MS) % 2));
  g_assert_cmpfloat(sim_twavg_mean(&tw, 3600 * SIM_S), ==, 0.5);
}

/* ---- histogram ---- */

static void test_hist_empty_is_nan(void) {
  sim_hist *h = sim_hist_new(1, 1e6, 10);
  g_assert_cmpuint(sim_hist_count(h), ==, 0);
  g_assert_true(isnan(sim_hist_mean(h)));
  g_assert_true(isnan(sim_hist_min(h)));
  g_assert_true(isnan(sim_hist_max(h)));
  g_assert_true(isnan(sim_hist_quantile(h, 0.5)));
  sim_hist_free(h);
}

static void test_hist_exact_count_mean_min_max(void) {
  sim_hist *h = sim_hist_new(1, 1000, 5);
  const double xs[] = {3.0, 7.0, 2.0, 900.0, 8.0};
  for (size_t i = 0; i < G_N_ELEMENTS(xs); i++) sim_hist_add(h, xs[i]);
  g_assert_cmpuint(sim_hist_count(h), ==, 5);
  g_assert_cmpfloat(sim_hist_mean(h), ==, 920.0 / 5); /* (3+7+2+900+8) / 5 */
  g_assert_cmpfloat(sim_hist_min(h), ==, 2.0);
  g_assert_cmpfloat(sim_hist_max(h), ==, 900.0);
  sim_hist_free(h);
}

static void test_hist_quantile_exact_at_edges_linear_inside(void) {
  /* One bin per decade over [1, 100): bins [1, 10) and [10, 100). Samples: 1 once and 2 ten
   * times (11 in the first bin), 20 ten times and 99 once (11 in the second); 22 in all.
   * - p = 0.5 asks for 11 samples: exactly the first bin, so the answer is its upper edge 10.
   * - p = 0.25 asks for 5.5 of the first bin's 11: halfway across it, 1 + 0.5 * 9 = 5.5.
   * - p = 0.75 asks for 16.5: 5.5 of the second bin's 11, 10 + 0.5 * 90 = 55.
   * - p = 0 and 1 are the exact minimum and maximum. */
  sim_hist *h = sim_hist_new(1, 100, 1);
  sim_hist_add(h, 1);
  sim_hist_add(h, 99);
  for (int i = 0; i < 10; i++) {
    sim_hist_add(h, 2);
    sim_hist_add(h, 20);
  }
  g_assert_cmpfloat_with_epsilon(sim_hist_quantile(h, 0.5), 10.0, 1e-12);
  g_assert_cmpfloat_with_epsilon(sim_hist_quantile(h, 0.25), 5.5, 1e-12);
  g_assert_cmpfloat_with_epsilon(sim_hist_quantile(h, 0.75), 55.0, 1e-12);
  g_assert_cmpfloat(sim_hist_quantile(h, 0.0), ==, 1.0);
  g_assert_cmpfloat(sim_hist_quantile(h, 1.0), ==, 99.0);
  sim_hist_free(h);
}

static void test_hist_quantile_of_equal_samples_is_that_value(void) {
  /* All samples 7: the bin [10^0.8, 10^0.9) = [6.31, 7.94) would interpolate, but the answer
   * is clamped to [min, max] = [7, 7]. */
  sim_hist *h = sim_hist_new(1, 1000, 10);
  for (int i = 0; i < 100; i++) sim_hist_add(h, 7.0);
  g_assert_cmpfloat(sim_hist_quantile(h, 0.01), ==, 7.0);
  g_assert_cmpfloat(sim_hist_quantile(h, 0.5), ==, 7.0);
  g_assert_cmpfloat(sim_hist_quantile(h, 0.99), ==, 7.0);
  sim_hist_free(h);
}

static void test_hist_quantile_of_exponential_within_a_bin(void) {
  /* Samples placed at the (k - 1/2)/N quantiles of an exponential distribution of mean
   * 1000 (a latency in ns, say), k = 1..N: their empirical distribution function is within
   * 1/(2N) of the true F(x) = 1 - exp(-x/1000) everywhere. The histogram's quantile is the
   * point where its ogive, equal to the empirical distribution at every bin edge, reaches p;
   * that point is in the bin where the empirical distribution crosses p, which is the bin of
   * the true quantile q = -1000 ln(1 - p) unless q is within 1/(2N) of probability of an
   * edge. So |estimate - q| <= the width of q's bin + 1/(2N) / f(q), the second term being
   * 1/(2N) converted to x through the density f(q) = (1 - p) / 1000. With 10 bins per
   * decade a bin is 26% of its lower edge wide; the test also checks that the error is at
   * most that, and that the histogram is not trivially exact (the estimate differs from q
   * somewhere, so the bound is what is being tested). */
  enum { N = 100000 };
  const double mean = 1000.0;
  sim_hist *h = sim_hist_new(1, 1e6, 10);
  for (int k = 1; k <= N; k++) sim_hist_add(h, -mean * log1p(-(k - 0.5) / N));
  const double ps[] = {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999};
  double worst = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(ps); i++) {
    double p = ps[i];
    double q = -mean * log1p(-p);
    double bin = floor(10 * log10(q));
    double width = pow(10, (bin + 1) / 10) - pow(10, bin / 10);
    double slack = 0.5 / N * mean / (1 - p);
    double est = sim_hist_quantile(h, p);
    g_assert_cmpfloat(fabs(est - q), <=, width + slack);
    g_assert_cmpfloat(fabs(est - q) / q, <=, pow(10, 0.1) - 1 + slack / q);
    worst = MAX(worst, fabs(est - q) / q);
  }
  g_assert_cmpfloat(worst, >, 1e-6);
  /* The mean is exact, not binned: the average of the placed quantiles, i.e. the midpoint
   * rule for the integral of the quantile function, which is the mean 1000. The midpoint
   * rule underestimates this convex integrand mostly in the last cells of the tail: the last
   * cell alone misses (1 - ln 2)/N of the mean and the others together less, so the whole
   * error is below mean / N = 0.01. */
  g_assert_cmpfloat_with_epsilon(sim_hist_mean(h), mean, mean / N);
  sim_hist_free(h);
}

static void test_hist_out_of_range_samples_clamped_into_outer_bins(void) {
  /* [10, 1000) with 1 bin per decade: [10, 100) and [100, 1000). A sample below (0.5) counts
   * in the first bin, one above (5000) in the last; min, max and mean stay exact. */
  sim_hist *h = sim_hist_new(10, 1000, 1);
  sim_hist_add(h, 0.5);
  sim_hist_add(h, 50);
  sim_hist_add(h, 5000);
  sim_hist_add(h, 500);
  g_assert_cmpuint(sim_hist_count(h), ==, 4);
  g_assert_cmpfloat(sim_hist_min(h), ==, 0.5);
  g_assert_cmpfloat(sim_hist_max(h), ==, 5000.0);
  g_assert_cmpfloat(sim_hist_mean(h), ==, 5550.5 / 4);
  /* p = 0.5 asks for 2 samples: the first bin holds 0.5 and 50, so the answer is its upper
   * edge, 100. */
  g_assert_cmpfloat_with_epsilon(sim_hist_quantile(h, 0.5), 100.0, 1e-9);
  sim_hist_free(h);
}

static void test_hist_range_not_a_whole_number_of_bins(void) {
  /* [1, 50) with 1 bin per decade: [1, 10) and a last bin [10, 50), narrower than a decade.
   * Samples: 5 in the first bin; 45 and eight 20s in the last (9). p = 0.5 asks for 5 of
   * the 10: 1 from the first bin, then 4 of the last bin's 9 spread across its 40 units of
   * width, 10 + 4/9 * 40. */
  sim_hist *h = sim_hist_new(1, 50, 1);
  sim_hist_add(h, 5);
  sim_hist_add(h, 45);
  for (int i = 0; i < 8; i++) sim_hist_add(h, 20);
  g_assert_cmpfloat_with_epsilon(sim_hist_quantile(h, 0.5), 10 + 4.0 / 9 * 40, 1e-9);
  sim_hist_free(h);
}

static void test_hist_reset_empties_everything(void) {
  sim_hist *h = sim_hist_new(1, 100, 2);
  sim_hist_add(h, 3);
  sim_hist_add(h, 30);
  sim_hist_reset(h);
  g_assert_cmpuint(sim_hist_count(h), ==, 0);
  g_assert_true(isnan(sim_hist_quantile(h, 0.5)));
  sim_hist_add(h, 4);
  g_assert_cmpfloat(sim_hist_min(h), ==, 4.0);
  g_assert_cmpfloat(sim_hist_max(h), ==, 4.0);
  g_assert_cmpfloat(sim_hist_quantile(h, 0.5), ==, 4.0);
  sim_hist_free(h);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/stats/twavg/piecewise-constant-integral", test_twavg_piecewise_constant_integral);
  g_test_add_func("/stats/twavg/current-value-counts-up-to-now", test_twavg_current_value_counts_up_to_now);
  g_test_add_func("/stats/twavg/no-time-elapsed-gives-current-value", test_twavg_no_time_elapsed_gives_current_value);
  g_test_add_func("/stats/twavg/reset-forgets-the-past", test_twavg_reset_forgets_the_past);
  g_test_add_func("/stats/twavg/one-simulated-hour-of-a-square-wave", test_twavg_one_simulated_hour_of_a_square_wave);
  g_test_add_func("/stats/hist/empty-is-nan", test_hist_empty_is_nan);
  g_test_add_func("/stats/hist/exact-count-mean-min-max", test_hist_exact_count_mean_min_max);
  g_test_add_func("/stats/hist/quantile-exact-at-edges-linear-inside", test_hist_quantile_exact_at_edges_linear_inside);
  g_test_add_func("/stats/hist/quantile-of-equal-samples-is-that-value", test_hist_quantile_of_equal_samples_is_that_value);
  g_test_add_func("/stats/hist/quantile-of-exponential-within-a-bin", test_hist_quantile_of_exponential_within_a_bin);
  g_test_add_func("/stats/hist/out-of-range-samples-clamped-into-outer-bins", test_hist_out_of_range_samples_clamped_into_outer_bins);
  g_test_add_func("/stats/hist/range-not-a-whole-number-of-bins", test_hist_range_not_a_whole_number_of_bins);
  g_test_add_func("/stats/hist/reset-empties-everything", test_hist_reset_empties_everything);
  return g_test_run();
}
