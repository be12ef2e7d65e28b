/* sweep.h — batch sweeps: reads a sweep file (a scenario, axes of parameter values,
 * repetitions, metrics), runs every point as its own `nestsim run` process on N workers,
 * resumes after a kill, and aggregates the repetitions into sweep.csv (mean, sd, 95% CI).
 *
 * The sweep file is Lua, one call:
 *
 *   sweep {
 *     name = "l2-slowdown",              -- optional; default: the file's name without .lua
 *     scenario = "../nested-lab.lua",    -- relative to the sweep file's folder
 *     axes = { nested_hosts = {1, 2, 4}, l2_util = {0.3, 1.0} },  -- axes sorted by name, or
 *     -- axes = { {nested_hosts = {1, 2, 4}}, {l2_util = {0.3, 1.0}} }  in this order
 *     ["repeat"] = 3,                    -- repetitions of every point (default 1)
 *     seed = 1,                          -- base seed (default 1)
 *     duration = "1min",                 -- optional: passed as --duration
 *     metrics = { "esx01/vESX1/vm1:effective_pct", "mean(kind:vm&layer:2:effective_pct)" },
 *   }
 *
 * A metric is SELECT ":" KEY, or AGG "(" SELECT ":" KEY ")" with AGG one of mean, sum, min,
 * max, count. KEY is a key of an entity in summary.json; SELECT is '&'-joined terms, each an
 * entity path glob (g_pattern_match_simple: '*' and '?', '*' crosses '/'), "kind:K" or
 * "layer:N". Without AGG the selection must match exactly one entity.
 *
 * The results folder DIR (default results/<name>/): points.csv (one row per run: id, the
 * axis values, rep, seed, duration and the `nestsim run` command that reruns it alone),
 * points/<id>/ (each run's own results, id = <point index>-r<rep>, e.g. 0007-r2), logs/<id>.stderr
 * (what a run printed, kept when not empty), failed.txt (the failed runs with their errors and
 * commands; removed once every run is done), sweep.csv (written at the end, through a temporary
 * file: the axis columns, n, then <metric>_mean, <metric>_sd and <metric>_ci95 per metric; sd
 * and ci95 empty when n = 1; ci95 = t(0.975, n-1) sd / sqrt(n); one row per point in the order
 * of points.csv, whatever the order the runs finished in), sweep-file (the sweep file's path,
 * for --collect), and slurm.sh or jobs.txt from --emit.
 *
 * Rep r of every point runs with seed = seed + r: common random numbers, so that the
 * difference between two points is the parameters' effect and not that of different draws
 * (the variance of a difference shrinks by twice the covariance of the paired runs). */
#ifndef NESTSIM_SRC_SWEEP_H
#define NESTSIM_SRC_SWEEP_H

#include <glib.h>

#define SWP_ERROR (swp_error_quark())
GQuark swp_error_quark(void);
typedef enum {
  SWP_ERROR_INPUT, /* the sweep file, a command-line option or a results folder is wrong: exit 2 */
  SWP_ERROR_RUN,   /* a point failed, is missing, or a file could not be written: exit 1 */
} swp_error_code;

typedef struct swp_sweep swp_sweep;

/* Reads the sweep file at `path`. On failure returns NULL with every mistake in *error, one
 * per line, as "file:line: sweep: invalid 'key': expected ..., got ...". */
swp_sweep *swp_load(const char *path, GError **error); /* transfer full */
void swp_free(swp_sweep *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(swp_sweep, swp_free)

/* The number of runs: the product of the axes' lengths times the repetitions. */
guint swp_n_runs(const swp_sweep *s);

/* The value of `metric` (syntax above) in the text of a summary.json. FALSE with a message
 * when the metric is malformed or the summary does not hold what it names. */
gboolean swp_metric_value(const char *metric, const char *summary_json, double *out /* OUT */,
                          GError **error);

/* Whether `metric` is well formed (the syntax above), without a summary to read it from: for
 * commands that check their metrics before running anything. FALSE with a message. */
gboolean swp_metric_check(const char *metric, GError **error);

/* The entities of a summary.json's text: path -> (key -> value text, strings unquoted), in a
 * table (transfer full), and in `order` their paths, sorted (pointers into the table's keys:
 * the table has no order). NULL with a message when the text is not a summary.json. */
GHashTable *swp_summary_entities(const char *summary_json, GPtrArray *order /* OUT */,
                                 GError **error);

/* sweep.csv's text from the runs in DIR/points/ (transfer full): one row per point in the
 * points' order, its axis values, n, then <metric>_mean, _sd and _ci95 for every metric.
 * FALSE when a run is missing or lacks a metric. */
char *swp_aggregate(const swp_sweep *s, const char *dir, GError **error);

/* The command `nestsim sweep FILE [-j N] [--resume] [--out DIR] [--points A-B]
 * [--emit slurm|parallel]` and `nestsim sweep --collect DIR`. Exit status: 0 done, 1 a point
 * failed or is missing, 2 bad input. */
int swp_main(int argc, char **argv);

#endif
