/* main.c — the nestsim command line: `run` here, with its GLib option table; every other
 * command (check, fit, explain, report, sweep, plot, bench) lives in its own module and parses
 * its own options. Exit status: 0 ok, 1 the run failed (I/O, a model could not run), 2 bad
 * input or usage, 3 (check, fit) the lab does not fit / no value meets the targets. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "nestsim-config.h"
#include "src/bench.h"
#include "src/cli.h"
#include "src/explain.h"
#include "src/fit.h"
#include "src/met.h"
#include "src/out.h"
#include "src/plot.h"
#include "src/report.h"
#include "src/review.h"
#include "src/run.h"
#include "src/scn.h"
#include "src/sweep.h"
#include "src/units.h"

/* The folder a run writes into when --out is not given: results/<scenario>/<seed>/. */
static char *default_out_dir(const topo_scenario *scn) {
  return g_strdup_printf("results/%s/%" G_GUINT64_FORMAT, scn->name, scn->seed);
}

static int cmd_run(int argc, char **argv) {
  g_auto(GStrv) sets = NULL;
  g_auto(GStrv) traces = NULL;
  g_autofree char *seed_text = NULL, *duration_text = NULL, *out_dir = NULL, *format = NULL;
  gboolean quiet = FALSE, stats = FALSE, all = FALSE, plot = FALSE;
  GOptionEntry entries[] = {
      {"seed", 0, 0, G_OPTION_ARG_STRING, &seed_text, "Run seed (overrides the scenario's)", "N"},
      {"duration", 0, 0, G_OPTION_ARG_STRING, &duration_text,
       "Simulated time after warm-up, e.g. 10min", "T"},
      {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set a scenario parameter", "NAME=VALUE"},
      {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
       "Results folder (default results/SCENARIO/SEED)", "DIR"},
      {"format", 'f', 0, G_OPTION_ARG_STRING, &format, "Summary on stdout: table, json or csv",
       "FMT"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print no summary", NULL},
      {"all", 'a', 0, G_OPTION_ARG_NONE, &all, "Include every vCPU in the summary table", NULL},
      {"trace", 't', 0, G_OPTION_ARG_STRING_ARRAY, &traces,
       "Write trace.csv for this entity (a path, or a prefix ending in /)", "PATH"},
      {"stats", 0, 0, G_OPTION_ARG_NONE, &stats,
       "Print events, wall time and peak memory to stderr", NULL},
      {"plot", 0, 0, G_OPTION_ARG_NONE, &plot,
       "Draw the results into DIR/plots/ (as nestsim plot DIR; needs gnuplot)", NULL},
      {NULL}};
  g_autoptr(GOptionContext) ctx = g_option_context_new("SCENARIO");
  g_option_context_set_summary(ctx, "Runs a scenario and writes summary.json and metrics.csv.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) err = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) return cli_usage_error(ctx, "%s", err->message);
  if (argc != 2) return cli_usage_error(ctx, "run takes one scenario file");

  out_format fmt = OUT_TABLE;
  if (format) {
    if (!strcmp(format, "table")) fmt = OUT_TABLE;
    else if (!strcmp(format, "json")) fmt = OUT_JSON;
    else if (!strcmp(format, "csv")) fmt = OUT_CSV;
    else return cli_usage_error(ctx, "--format: expected table, json or csv, got \"%s\"", format);
  }
  guint64 seed = 0;
  if (seed_text && !g_ascii_string_to_unsigned(seed_text, 10, 0, G_MAXUINT64, &seed, &err))
    return cli_usage_error(ctx, "--seed: expected an integer >= 0, got \"%s\"", seed_text);
  double duration = 0;
  if (duration_text) {
    g_autofree char *why = NULL;
    if (!unit_parse(UNIT_TIME, duration_text, &duration, &why) || duration < 1)
      return cli_usage_error(ctx, "--duration: %s, got \"%s\"", why ? why : "expected a time > 0",
                         duration_text);
  }

  gint64 t0 = g_get_monotonic_time();
  /* issue 8: summary.json keeps the scenario's text and the --set values, so that `nestsim
   * report` rebuilds exactly this topology. The text is read once and loaded from memory: a
   * second read could see a file edited in between. When it cannot be read,
   * scn_load_file_sets says why, as for any unreadable scenario. */
  g_autoptr(GHashTable) set = scn_parse_sets(sets, &err);
  g_autofree char *scn_text = NULL;
  gsize scn_len = 0;
  g_autoptr(topo_scenario) scn = NULL;
  if (set && g_file_get_contents(argv[1], &scn_text, &scn_len, NULL)) {
    g_autofree char *label = g_path_get_basename(argv[1]);
    scn = scn_load_string(label, scn_text, scn_len, &(scn_options){.set = set}, &err);
    if (scn) {
      g_free(scn->file); /* scn_load_string names the file by its label */
      scn->file = g_strdup(argv[1]);
    }
  } else if (set) {
    scn = scn_load_file_sets(argv[1], sets, &err);
  }
  if (!scn) {
    fprintf(stderr, "%s\n", err->message);
    return CLI_EXIT_USAGE;
  }
  if (seed_text) scn->seed = seed;
  if (duration_text) scn->duration_ns = (gint64)duration;

  g_autoptr(GPtrArray) trace_paths = g_ptr_array_new();
  for (char **t = traces; t && *t; t++) g_ptr_array_add(trace_paths, *t);
  g_autoptr(met_table) met = met_table_new();
  run_result res = {0};
  if (!run_scenario(scn, trace_paths, met, &res, &err)) {
    fprintf(stderr, "%s\n", err->message);
    return err->domain == SCN_ERROR ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
  }
  g_autoptr(GString) trace = res.trace;
  gint64 t1 = g_get_monotonic_time();

  out_run_info info = {
      .scenario = scn->name,
      .file = scn->file,
      .seed = scn->seed,
      .version = NESTSIM_VERSION,
      .duration_ns = scn->duration_ns,
      .warmup_ns = scn->warmup_ns,
      .interval_ns = scn->interval_ns,
      .events = res.events,
      .scenario_text = scn_text,
      .set = set,
  };
  g_autofree char *dir = out_dir ? g_strdup(out_dir) : default_out_dir(scn);
  g_autoptr(GHashTable) extra = g_hash_table_new(g_str_hash, g_str_equal);
  if (trace) {
    g_hash_table_insert(extra, "trace.csv", trace);
  } else {
    /* A trace left by an earlier run into this folder would not belong to this one. */
    g_autofree char *stale = g_build_filename(dir, "trace.csv", NULL);
    if (g_unlink(stale) != 0 && errno != ENOENT) {
      fprintf(stderr, "nestsim: cannot remove %s: %s\n", stale, g_strerror(errno));
      return CLI_EXIT_RUNTIME;
    }
  }
  if (!out_write_dir(dir, &info, met, extra, &err)) {
    fprintf(stderr, "nestsim: %s\n", err->message);
    return CLI_EXIT_RUNTIME;
  }
  /* The summary on stdout is the run's results; the scenario text stays in the file. */
  out_run_info shown = info;
  shown.scenario_text = NULL;
  shown.set = NULL;
  if (!quiet) out_print(stdout, fmt, &shown, met, all);
  if (stats) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double wall = (double)(t1 - t0) / 1e6;
    fprintf(stderr, "stats: events=%" G_GUINT64_FORMAT " wall_s=%.3f events_per_s=%.0f max_rss_kb=%ld\n",
            res.events, wall, wall > 0 ? (double)res.events / wall : 0.0, ru.ru_maxrss);
  }
  if (!quiet && fmt == OUT_TABLE) fprintf(stdout, "\nresults in %s/\n", dir);
  /* issue 7: figures from what was just written. Without gnuplot the run has still
   * succeeded: say how to get the figures and exit 0. */
  if (plot && !plot_dir(dir, NULL, NULL, &err)) {
    if (!g_error_matches(err, PLOT_ERROR, PLOT_ERROR_NO_GNUPLOT)) {
      fprintf(stderr, "nestsim: %s\n", err->message);
      return CLI_EXIT_RUNTIME;
    }
    fprintf(stderr, "nestsim: %s\n", err->message);
  }
  return CLI_EXIT_OK;
}

static const char *const main_help =
    "Commands:\n"
    "  run SCENARIO     run a scenario, write results/<scenario>/<seed>/\n"
    "  check SCENARIO   review a lab: verdicts per host and layer (exit 3: does not fit)\n"
    "  fit SCENARIO     find the largest/smallest value of a parameter that meets targets\n"
    "  explain SCEN VM  say in words why a VM runs at the speed it does\n"
    "  report DIR       write one self-contained HTML report of a run\n"
    "  sweep FILE       run a sweep's points in parallel, write results/<sweep>/sweep.csv\n"
    "  plot DIR         draw a run's or a sweep's results as PNG and SVG (gnuplot)\n"
    "  bench            benchmark the event queue (hold model)\n"
    "\n"
    "'nestsim COMMAND --help' describes a command's options.\n";

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "--version")) {
    printf("nestsim %s\n", NESTSIM_VERSION);
    return CLI_EXIT_OK;
  }
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
      !strcmp(argv[1], "help")) {
    printf("Usage: nestsim COMMAND [OPTION...]\n\n"
           "nestsim simulates nested virtualized datacenters.\n\n%s", main_help);
    return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
  }
  /* Each command parses its own options; argv[0] becomes "nestsim COMMAND" in their help. */
  g_autofree char *prog = g_strdup_printf("nestsim %s", argv[1]);
  g_set_prgname(prog);
  char *sub_argv0 = argv[1];
  argv[1] = prog;
  if (!strcmp(sub_argv0, "run")) return cmd_run(argc - 1, argv + 1);
  if (!strcmp(sub_argv0, "check")) return rev_main(argc - 1, argv + 1);
  if (!strcmp(sub_argv0, "fit")) return fit_main(argc - 1, argv + 1);
  if (!strcmp(sub_argv0, "report")) return rpt_main(argc - 1, argv + 1);
  if (!strcmp(sub_argv0, "explain")) return xpl_main(argc - 1, argv + 1);
  if (!strcmp(sub_argv0, "sweep")) return swp_main(argc - 1, argv + 1);
  if (!strcmp(sub_argv0, "plot")) return plot_main(argc - 1, argv + 1);
  if (!strcmp(sub_argv0, "bench")) return bench_main(argc - 1, argv + 1);
  fprintf(stderr, "nestsim: unknown command '%s'\n\n%s", sub_argv0, main_help);
  return CLI_EXIT_USAGE;
}
