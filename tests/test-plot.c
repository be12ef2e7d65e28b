/* test-plot.c — src/plot.c: the figures a results folder yields, the data files behind them,
 * and what happens without gnuplot.
 *
 * One short real run of the seed lab (made smaller with --set, so the expected counts come from
 * the command line below, not from the program) is shared by the run tests; sweeps, memory and
 * the timeline window are checked on small hand-made files whose expected series are worked
 * out by hand in the comments. Tests that need gnuplot are skipped when it is not installed. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "src/plot.h"

#include "tests/testutil.h"

/* The shared run: 4 nested hosts with 4 L2 VMs each (the seed lab, where L1 vCPUs contend for
 * the physical CPUs, so nested vCPUs stall), 20 s after the scenario's 30 s warm-up,
 * intervals of 10 s (scenarios/nested-lab.lua), vESX1 and its L2 VMs traced. */
#define NESTED_HOSTS 4
#define L2_PER_HOST 4
static char *run_dir;
static gboolean run_ok;


static gboolean have_gnuplot(void) {
  g_autofree char *p = g_find_program_in_path("gnuplot");
  return p != NULL;
}

static char *scripts_dir(void) {
  return g_build_filename(g_getenv("NESTSIM_SOURCE_ROOT"), "scripts", NULL);
}

/* Runs nestsim with `env` (NULL = ours) in the source root; OUT: its output and status. */
static gboolean spawn_nestsim(const char *const *args, char **env, char **out, char **err,
                              int *status) {
  const char *bin = g_getenv("NESTSIM_BIN");
  g_assert_nonnull(bin);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)bin);
  for (const char *const *a = args; *a; a++) g_ptr_array_add(argv, (gpointer)*a);
  g_ptr_array_add(argv, NULL);
  g_autoptr(GError) e = NULL;
  gboolean ok = g_spawn_sync(g_getenv("NESTSIM_SOURCE_ROOT"), (char **)argv->pdata, env, 0, NULL,
                             NULL, out, err, status, &e);
  g_assert_no_error(e);
  return ok;
}

/* A PNG: the 8-byte signature, then the IHDR chunk (length 13) with a width and height > 0. */
static void assert_png(const char *path) {
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  g_assert_cmpuint(len, >, 33);
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  g_assert_cmpmem(data, 8, sig, 8);
  const unsigned char *u = (const unsigned char *)data;
  g_assert_cmpuint((u[8] << 24) | (u[9] << 16) | (u[10] << 8) | u[11], ==, 13);
  g_assert_cmpmem(data + 12, 4, "IHDR", 4);
  guint w = (guint)((u[16] << 24) | (u[17] << 16) | (u[18] << 8) | u[19]);
  guint h = (guint)((u[20] << 24) | (u[21] << 16) | (u[22] << 8) | u[23]);
  g_assert_cmpuint(w, >, 0);
  g_assert_cmpuint(h, >, 0);
}

/* An SVG: opens with <?xml or <svg, holds an <svg element and ends with </svg>. */
static void assert_svg(const char *path) {
  g_autofree char *data = NULL;
  g_assert_true(g_file_get_contents(path, &data, NULL, NULL));
  char *s = g_strstrip(data);
  g_assert_true(g_str_has_prefix(s, "<?xml") || g_str_has_prefix(s, "<svg"));
  g_assert_nonnull(strstr(s, "<svg"));
  g_assert_true(g_str_has_suffix(s, "</svg>"));
}

static void assert_figure(const char *dir, const char *name) {
  g_autofree char *png = g_strdup_printf("%s/plots/%s.png", dir, name);
  g_autofree char *svg = g_strdup_printf("%s/plots/%s.svg", dir, name);
  assert_png(png);
  assert_svg(svg);
}

/* The lines of a data file that are not comments or blank, each split on whitespace outside
 * double quotes (quotes removed). */
static GPtrArray *read_dat(const char *path) {
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    if (!*lines[i] || lines[i][0] == '#') continue;
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    GString *f = NULL;
    gboolean q = FALSE;
    for (const char *p = lines[i];; p++) {
      if (*p == '"') {
        q = !q;
        if (!f) f = g_string_new(NULL);
      } else if ((*p == ' ' && !q) || !*p) {
        if (f) {
          g_strv_builder_add(b, f->str);
          g_string_free(f, TRUE);
          f = NULL;
        }
        if (!*p) break;
      } else {
        if (!f) f = g_string_new(NULL);
        g_string_append_c(f, *p);
      }
    }
    g_ptr_array_add(rows, g_strv_builder_end(b));
  }
  return rows;
}

static double num(GStrv row, guint i) {
  g_assert_cmpuint(i, <, g_strv_length(row));
  return g_ascii_strtod(row[i], NULL);
}

static char *plots_file(const char *dir, const char *name) {
  return g_build_filename(dir, "plots", name, NULL);
}

static void write_text(const char *dir, const char *name, const char *text) {
  g_autofree char *p = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(p, text, -1, NULL));
}

/* plot_dir with the source tree's scripts; TRUE when figures were drawn, FALSE when gnuplot
 * is missing (any other error fails the test). */
static gboolean plot_or_no_gnuplot(const char *dir, plot_options *o) {
  g_autofree char *scripts = scripts_dir();
  o->scripts = scripts;
  g_autoptr(GError) err = NULL;
  gboolean ok = plot_dir(dir, o, NULL, &err);
  if (!ok) {
    g_assert_error(err, PLOT_ERROR, PLOT_ERROR_NO_GNUPLOT);
    g_assert_false(have_gnuplot());
  }
  return ok;
}

/* ---- The shared run ---- */

/* A failed shared run fails every test that needs it (its output is printed by main). */
static void need_run(void) {
  if (!run_ok) g_test_fail_printf("the shared nestsim run failed");
}

static void test_run_figures(void) {
  need_run();
  if (!run_ok) return;
  if (!have_gnuplot()) {
    g_test_skip("gnuplot is not installed");
    return;
  }
  /* Every run with VMs, attribution and a trace yields these three. */
  assert_figure(run_dir, "cpu");
  assert_figure(run_dir, "attribution");
  assert_figure(run_dir, "timeline");
  /* Memory is drawn exactly when the memory model wrote its columns. */
  g_autofree char *metrics = g_build_filename(run_dir, "metrics.csv", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(metrics, &text, NULL, NULL));
  char *nl = strchr(text, '\n');
  if (nl) *nl = 0;
  gboolean mem = strstr(text, ",MEMSTATE") || strstr(text, ",SWCUR");
  g_autofree char *mem_png = plots_file(run_dir, "memory.png");
  g_assert_cmpint(g_file_test(mem_png, G_FILE_TEST_EXISTS), ==, mem);
  if (mem) assert_figure(run_dir, "memory");
}

/* The cpu data: one file per layer and metric, a column per VM of that layer, a row per
 * interval. The lab has vcenter, ad and the nested hosts at L1 (scenarios/nested-lab.lua) and
 * NESTED_HOSTS x L2_PER_HOST VMs at L2; 30 s warm-up + 20 s at 10 s intervals = 5 rows. */
static void test_run_cpu_series(void) {
  need_run();
  if (!run_ok) return;
  const struct {
    const char *file;
    guint vms;
  } want[] = {{"cpu-l1-used.dat", 2 + NESTED_HOSTS},
              {"cpu-l1-rdy.dat", 2 + NESTED_HOSTS},
              {"cpu-l1-cstp.dat", 2 + NESTED_HOSTS},
              {"cpu-l2-used.dat", NESTED_HOSTS * L2_PER_HOST},
              {"cpu-l2-rdy.dat", NESTED_HOSTS * L2_PER_HOST},
              {"cpu-l2-cstp.dat", NESTED_HOSTS * L2_PER_HOST}};
  for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
    g_autofree char *p = plots_file(run_dir, want[i].file);
    g_autoptr(GPtrArray) rows = read_dat(p);
    g_assert_cmpuint(rows->len, ==, 1 + 5);
    GStrv head = rows->pdata[0];
    g_assert_cmpstr(head[0], ==, "time_s");
    g_assert_cmpuint(g_strv_length(head), ==, 1 + want[i].vms);
    for (guint r = 1; r < rows->len; r++)
      g_assert_cmpuint(g_strv_length(rows->pdata[r]), ==, 1 + want[i].vms);
  }
  /* The nested VMs are the L2 columns, in the order the run reports them. */
  g_autofree char *p = plots_file(run_dir, "cpu-l2-used.dat");
  g_autoptr(GPtrArray) rows = read_dat(p);
  g_assert_cmpstr(((GStrv)rows->pdata[0])[1], ==, "esx01/vESX1/vm1");
}

/* Attribution splits each VM's time into causes (models/virt.h), so every row sums to 100%
 * (to rounding of the printed rows); one row per L2 VM. */
static void test_run_attribution(void) {
  need_run();
  if (!run_ok) return;
  g_autofree char *p = plots_file(run_dir, "attribution.dat");
  g_autoptr(GPtrArray) rows = read_dat(p);
  g_assert_cmpuint(rows->len, ==, 1 + NESTED_HOSTS * L2_PER_HOST);
  GStrv head = rows->pdata[0];
  g_assert_cmpstr(head[0], ==, "vm");
  g_assert_true(g_strv_contains((const char *const *)head, "guest"));
  guint nc = g_strv_length(head);
  for (guint r = 1; r < rows->len; r++) {
    GStrv row = rows->pdata[r];
    g_assert_true(g_str_has_prefix(row[0], "esx01/vESX"));
    g_assert_cmpuint(g_strv_length(row), ==, nc);
    double sum = 0;
    for (guint c = 1; c < nc; c++) {
      g_assert_cmpfloat(num(row, c), >=, 0);
      sum += num(row, c);
    }
    g_assert_cmpfloat_with_epsilon(sum, 100.0, 0.01);
  }
  /* The bars are the measured run, the same as the summary: the guest share of the first L2 VM
   * equals its attr_guest_pct in summary.json (metrics.csv keeps 9 significant digits). */
  GStrv first = rows->pdata[1];
  guint cg = 0;
  while (strcmp(head[cg], "guest")) cg++;
  g_autofree char *sp = g_build_filename(run_dir, "summary.json", NULL);
  g_autofree char *summary = NULL;
  g_assert_true(g_file_get_contents(sp, &summary, NULL, NULL));
  g_autofree char *key = g_strdup_printf("\"%s\": {", first[0]);
  const char *ent = strstr(summary, key);
  g_assert_nonnull(ent);
  const char *guest = strstr(ent, "\"attr_guest_pct\": ");
  g_assert_nonnull(guest);
  double want = g_ascii_strtod(guest + strlen("\"attr_guest_pct\": "), NULL);
  g_assert_cmpfloat_with_epsilon(num(first, cg), want, 1e-6 * want);
}

/* Checks timeline.dat and timeline-exec.dat of the run against its trace.csv over the window
 * [from, to): bars for both traced layers, all inside the window, and for every L2 slice
 * wholly inside it whose CPU (an L1 vCPU of vESX1) is traced too, solid stretches that add up
 * to the executing_s the run wrote and that each lie inside a slice of that L1 vCPU: a nested
 * vCPU executes exactly while the vCPU under it holds a physical CPU. Returns the number of
 * L2 slices checked. */
static guint check_timeline(double from, double to) {
  g_autofree char *tp = plots_file(run_dir, "timeline.dat");
  g_autofree char *ep = plots_file(run_dir, "timeline-exec.dat");
  g_autoptr(GPtrArray) bars = read_dat(tp);
  g_autoptr(GPtrArray) exec = read_dat(ep);
  gboolean layer[3] = {FALSE};
  for (guint i = 0; i < bars->len; i++) {
    GStrv b = bars->pdata[i];
    g_assert_cmpuint(g_strv_length(b), ==, 7);
    int l = (int)num(b, 4);
    g_assert_true(l == 1 || l == 2);
    layer[l] = TRUE;
    g_assert_cmpfloat(num(b, 1), >=, from - 1e-9);
    g_assert_cmpfloat(num(b, 2), <=, to + 1e-9);
    g_assert_cmpfloat(num(b, 1), <, num(b, 2));
  }
  g_assert_true(layer[1] && layer[2]);

  g_autofree char *trace = g_build_filename(run_dir, "trace.csv", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(trace, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  guint checked = 0;
  for (guint i = 1; lines[i] && *lines[i]; i++) {
    g_auto(GStrv) f = g_strsplit(lines[i], ",", -1);
    double s = g_ascii_strtod(f[3], NULL), e = g_ascii_strtod(f[4], NULL);
    if (strcmp(f[0], "2") || s < from || e > to || s == e) continue;
    /* This slice's row: the bar with this vCPU and start. */
    double row = -1;
    for (guint b = 0; b < bars->len; b++) {
      GStrv x = bars->pdata[b];
      if (!strcmp(x[5], f[1]) && fabs(num(x, 1) - s) < 1e-9) row = num(x, 0);
    }
    g_assert_cmpfloat(row, >=, 0);
    double sum = 0;
    for (guint k = 0; k < exec->len; k++) {
      GStrv x = exec->pdata[k];
      if (num(x, 0) != row || num(x, 1) < s - 1e-9 || num(x, 2) > e + 1e-9) continue;
      sum += num(x, 2) - num(x, 1);
      gboolean inside = FALSE;
      for (guint b = 0; b < bars->len && !inside; b++) {
        GStrv y = bars->pdata[b];
        inside = !strcmp(y[5], f[2]) && num(y, 1) <= num(x, 1) + 1e-9 &&
                 num(x, 2) <= num(y, 2) + 1e-9;
      }
      g_assert_true(inside);
    }
    g_assert_cmpfloat_with_epsilon(sum, g_ascii_strtod(f[5], NULL), 1e-6);
    checked++;
  }
  return checked;
}

/* The default window (what run --plot drew) is the first 0.5 s of the trace, which starts at
 * 0 because it covers the warm-up. Then a window around the first L2 slice that did not
 * execute all along (its L1 vCPU lost its physical CPU meanwhile), found in trace.csv. */
static void test_run_timeline(void) {
  need_run();
  if (!run_ok) return;
  g_assert_cmpuint(check_timeline(0, 0.5), >, 0);

  g_autofree char *trace = g_build_filename(run_dir, "trace.csv", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(trace, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  double from = -1, to = -1;
  for (guint i = 1; lines[i] && *lines[i] && from < 0; i++) {
    g_auto(GStrv) f = g_strsplit(lines[i], ",", -1);
    double s = g_ascii_strtod(f[3], NULL), e = g_ascii_strtod(f[4], NULL);
    if (!strcmp(f[0], "2") && g_ascii_strtod(f[5], NULL) < (e - s) - 1e-3) from = s, to = e;
  }
  if (from < 0) {
    g_test_message("no stalled L2 slice in this trace: only the default window checked");
    return;
  }
  plot_options o;
  plot_options_init(&o);
  o.from_s = from, o.window_s = to - from;
  plot_or_no_gnuplot(run_dir, &o);
  g_assert_cmpuint(check_timeline(from, to), >, 0);
}

/* ---- Without gnuplot ---- */

/* With a PATH that holds no gnuplot, both `plot DIR` and `run --plot` exit 0, say how to get
 * the figures, and draw none (the data files are still written). */
static void test_no_gnuplot(void) {
  need_run();
  if (!run_ok) return;
  g_autofree char *empty = g_dir_make_tmp("nestsim-nopath-XXXXXX", NULL);
  g_autofree char *dir = g_dir_make_tmp("nestsim-plot-nognuplot-XXXXXX", NULL);
  char **env = g_environ_setenv(g_get_environ(), "PATH", empty, TRUE);
  g_autofree char *out = NULL, *err = NULL;
  int status = -1;
  const char *run[] = {"run",     "scenarios/nested-lab.lua", "--duration", "10s", "--set",
                       "traffic=false", "--out",  dir, "-q", "--plot", NULL};
  g_assert_true(spawn_nestsim(run, env, &out, &err, &status));
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_assert_nonnull(strstr(err, "apt-get install gnuplot-nox"));
  g_autofree char *data = plots_file(dir, "cpu-l1-used.dat");
  g_autofree char *png = plots_file(dir, "cpu.png");
  g_assert_true(g_file_test(data, G_FILE_TEST_IS_REGULAR));
  g_assert_false(g_file_test(png, G_FILE_TEST_EXISTS));

  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  const char *plot[] = {"plot", dir, NULL};
  g_assert_true(spawn_nestsim(plot, env, &out, &err, &status));
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_assert_nonnull(strstr(out, "apt-get install gnuplot-nox"));
  g_assert_nonnull(strstr(out, "nestsim plot"));
  g_assert_false(g_file_test(png, G_FILE_TEST_EXISTS));
  g_strfreev(env);
  tu_rm_rf(dir);
  tu_rm_rf(empty);
}

/* ---- Sweeps ---- */

/* Three axes: hosts (x), mode (one line per value), util held at its first value (0.5). The
 * rows at util=0.9 must not appear. Points are listed out of x order to check the sort. */
static const char sweep_csv[] =
    "hosts,mode,util,n,slow_mean,slow_sd,slow_ci95,rdy_mean,rdy_sd,rdy_ci95\n"
    "4,hv,0.5,5,1.30,0.05,0.062,3.0,0.4,0.5\n"
    "1,hv,0.5,5,1.10,0.02,0.025,0.5,0.1,0.12\n"
    "2,hv,0.5,5,1.15,0.03,0.037,1.0,0.2,0.25\n"
    "1,bt,0.5,5,1.60,0.04,0.05,0.6,0.1,0.12\n"
    "2,bt,0.5,5,1.75,0.06,0.074,1.1,0.2,0.25\n"
    "4,bt,0.5,5,2.20,0.08,0.099,3.5,0.5,0.62\n"
    "1,hv,0.9,5,9.10,0.02,0.025,9.5,0.1,0.12\n"
    "2,bt,0.9,5,9.75,0.06,0.074,9.1,0.2,0.25\n";

static void test_sweep_defaults(void) {
  g_autofree char *dir = g_dir_make_tmp("nestsim-plot-sweep-XXXXXX", NULL);
  write_text(dir, "sweep.csv", sweep_csv);
  plot_options o;
  plot_options_init(&o);
  gboolean drawn = plot_or_no_gnuplot(dir, &o);
  /* Defaults: x = the first axis (hosts), y = the first metric (slow), by = the second axis. */
  g_autofree char *p = plots_file(dir, "sweep-slow-vs-hosts.dat");
  g_autoptr(GPtrArray) rows = read_dat(p);
  /* Two lines (hv, bt) of three points each, x ascending, mean and ci95 copied. */
  const double want[6][3] = {{1, 1.10, 0.025}, {2, 1.15, 0.037}, {4, 1.30, 0.062},
                             {1, 1.60, 0.05},  {2, 1.75, 0.074}, {4, 2.20, 0.099}};
  g_assert_cmpuint(rows->len, ==, 6);
  for (guint i = 0; i < 6; i++)
    for (guint c = 0; c < 3; c++)
      g_assert_cmpfloat_with_epsilon(num(rows->pdata[i], c), want[i][c], 1e-12);
  /* The blocks are separated by two blank lines (gnuplot's `index`). */
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "\n\n\n# mode=bt\n"));
  if (drawn) assert_figure(dir, "sweep-slow-vs-hosts");
  tu_rm_rf(dir);
}

/* A non-numeric x: the points are numbered in order of first appearance (hv 0, bt 1) and carry
 * their name for the tick; one line per host count. */
static void test_sweep_categorical_x(void) {
  g_autofree char *dir = g_dir_make_tmp("nestsim-plot-sweep-XXXXXX", NULL);
  write_text(dir, "sweep.csv", sweep_csv);
  plot_options o;
  plot_options_init(&o);
  o.x = "mode", o.y = "rdy", o.by = "hosts";
  gboolean drawn = plot_or_no_gnuplot(dir, &o);
  g_autofree char *p = plots_file(dir, "sweep-rdy-vs-mode.dat");
  g_autoptr(GPtrArray) rows = read_dat(p);
  g_assert_cmpuint(rows->len, ==, 6); /* 3 host counts x 2 modes */
  /* First block: hosts=4 (first seen): hv 3.0 +- 0.5, bt 3.5 +- 0.62. */
  GStrv a = rows->pdata[0], b = rows->pdata[1];
  g_assert_cmpfloat(num(a, 0), ==, 0);
  g_assert_cmpstr(a[3], ==, "hv");
  g_assert_cmpfloat_with_epsilon(num(a, 1), 3.0, 1e-12);
  g_assert_cmpfloat(num(b, 0), ==, 1);
  g_assert_cmpstr(b[3], ==, "bt");
  g_assert_cmpfloat_with_epsilon(num(b, 2), 0.62, 1e-12);
  if (drawn) assert_figure(dir, "sweep-rdy-vs-mode");
  tu_rm_rf(dir);
}

/* --title and --ylabel replace the texts made from the names; a quote in them cannot end
 * gnuplot's string (it becomes '_'). SVG keeps text as text, so the words are findable. */
static void test_sweep_title_and_label(void) {
  g_autofree char *dir = g_dir_make_tmp("nestsim-plot-sweep-XXXXXX", NULL);
  write_text(dir, "sweep.csv", sweep_csv);
  plot_options o;
  plot_options_init(&o);
  o.title = "Slowdown of the L2 VMs", o.ylabel = "slowdown (x), it's lower-better";
  if (!plot_or_no_gnuplot(dir, &o)) {
    tu_rm_rf(dir);
    return;
  }
  g_autofree char *svg_path = plots_file(dir, "sweep-slow-vs-hosts.svg");
  g_autofree char *svg = NULL;
  g_assert_true(g_file_get_contents(svg_path, &svg, NULL, NULL));
  g_assert_nonnull(strstr(svg, "Slowdown of the L2 VMs (util=0.5)"));
  g_assert_nonnull(strstr(svg, "slowdown (x), it_s lower-better"));
  g_assert_null(strstr(svg, "mean and 95% CI"));
  tu_rm_rf(dir);
}

static void test_sweep_bad_names(void) {
  g_autofree char *dir = g_dir_make_tmp("nestsim-plot-sweep-XXXXXX", NULL);
  write_text(dir, "sweep.csv", sweep_csv);
  plot_options o;
  plot_options_init(&o);
  o.y = "nope";
  g_autoptr(GError) err = NULL;
  g_assert_false(plot_dir(dir, &o, NULL, &err));
  g_assert_error(err, PLOT_ERROR, PLOT_ERROR_INPUT);
  g_assert_nonnull(strstr(err->message, "slow, rdy")); /* it lists what there is */
  g_clear_error(&err);
  plot_options_init(&o);
  o.x = "mode", o.by = "mode";
  g_assert_false(plot_dir(dir, &o, NULL, &err));
  g_assert_error(err, PLOT_ERROR, PLOT_ERROR_INPUT);
  tu_rm_rf(dir);
}

/* ---- Memory and the timeline window, on hand-made files ---- */

/* Memory columns as the memory model writes them: MEMSTATE for the hypervisors, SWCUR (MB) for
 * the VMs. The host goes high -> soft -> hard (0, 2, 3); vm1 swaps 0, 100, 250 MB. */
static void test_memory(void) {
  g_autofree char *dir = g_dir_make_tmp("nestsim-plot-mem-XXXXXX", NULL);
  write_text(dir, "metrics.csv",
             "time_s,entity,kind,layer,%USED,SWCUR,MEMSTATE\n"
             "10,h,host,0,50,,0\n10,h/vm1,vm,1,20,0,\n10,h/vm2,vm,1,20,0,\n"
             "20,h,host,0,50,,2\n20,h/vm1,vm,1,20,100,\n20,h/vm2,vm,1,20,0,\n"
             "30,h,host,0,50,,3\n30,h/vm1,vm,1,20,250,\n30,h/vm2,vm,1,20,5,\n");
  plot_options o;
  plot_options_init(&o);
  gboolean drawn = plot_or_no_gnuplot(dir, &o);
  g_autofree char *sp = plots_file(dir, "mem-state.dat");
  g_autoptr(GPtrArray) st = read_dat(sp);
  g_assert_cmpuint(st->len, ==, 4);
  g_assert_cmpstr(((GStrv)st->pdata[0])[1], ==, "h");
  g_assert_cmpuint(g_strv_length(st->pdata[0]), ==, 2); /* only the host has a state */
  const double state[3] = {0, 2, 3}, swap1[3] = {0, 100, 250}, swap2[3] = {0, 0, 5};
  g_autofree char *wp = plots_file(dir, "mem-swap.dat");
  g_autoptr(GPtrArray) sw = read_dat(wp);
  g_assert_cmpuint(g_strv_length(sw->pdata[0]), ==, 3); /* time, vm1, vm2 */
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpfloat(num(st->pdata[i + 1], 0), ==, 10.0 * (i + 1));
    g_assert_cmpfloat(num(st->pdata[i + 1], 1), ==, state[i]);
    g_assert_cmpfloat(num(sw->pdata[i + 1], 1), ==, swap1[i]);
    g_assert_cmpfloat(num(sw->pdata[i + 1], 2), ==, swap2[i]);
  }
  if (drawn) assert_figure(dir, "memory");
  /* No attribution or drop columns here: no such figures. */
  g_autofree char *ap = plots_file(dir, "attribution.dat");
  g_autofree char *np = plots_file(dir, "net-drops.dat");
  g_assert_false(g_file_test(ap, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(np, G_FILE_TEST_EXISTS));
  tu_rm_rf(dir);
}

/* Drops: two switches, three reasons in per-reason columns. At t=10, a drops 3 forged + 2 vlan
 * and b 1 forged; at t=20, b drops 4 vlan. By reason over time: forged 4 then 0, vlan 2 then 4;
 * filtered never dropped anything and is left out. Without summary.json there are no totals by
 * reason. A switch that never drops (c) gets no line. */
static void test_network(void) {
  g_autofree char *dir = g_dir_make_tmp("nestsim-plot-net-XXXXXX", NULL);
  write_text(dir, "metrics.csv",
             "time_s,entity,kind,layer,DROP/s,DROP_forged/s,DROP_vlan/s,DROP_filtered/s\n"
             "10,a,vswitch,0,5,3,2,0\n10,b,vswitch,1,1,1,0,0\n10,c,vswitch,1,0,0,0,0\n"
             "20,a,vswitch,0,0,0,0,0\n20,b,vswitch,1,4,0,4,0\n20,c,vswitch,1,0,0,0,0\n");
  plot_options o;
  plot_options_init(&o);
  gboolean drawn = plot_or_no_gnuplot(dir, &o);
  g_autofree char *dp = plots_file(dir, "net-drops.dat");
  g_autoptr(GPtrArray) d = read_dat(dp);
  g_assert_cmpuint(d->len, ==, 3);
  g_assert_cmpuint(g_strv_length(d->pdata[0]), ==, 3);
  g_assert_cmpstr(((GStrv)d->pdata[0])[1], ==, "a");
  g_assert_cmpstr(((GStrv)d->pdata[0])[2], ==, "b");
  g_assert_cmpfloat(num(d->pdata[1], 1), ==, 5);
  g_assert_cmpfloat(num(d->pdata[2], 2), ==, 4);
  g_autofree char *rp = plots_file(dir, "net-reasons-time.dat");
  g_autoptr(GPtrArray) r = read_dat(rp);
  g_assert_cmpuint(r->len, ==, 3);
  GStrv head = r->pdata[0];
  g_assert_cmpuint(g_strv_length(head), ==, 3);
  g_assert_cmpstr(head[1], ==, "forged");
  g_assert_cmpstr(head[2], ==, "vlan");
  g_assert_cmpfloat(num(r->pdata[1], 1), ==, 4);
  g_assert_cmpfloat(num(r->pdata[1], 2), ==, 2);
  g_assert_cmpfloat(num(r->pdata[2], 1), ==, 0);
  g_assert_cmpfloat(num(r->pdata[2], 2), ==, 4);
  g_autofree char *tp = plots_file(dir, "net-reasons.dat");
  g_assert_false(g_file_test(tp, G_FILE_TEST_EXISTS));
  if (drawn) assert_figure(dir, "network");

  /* With summary.json as src/out.c writes it: totals by reason for the entities that dropped
   * (a: 7 forged), only the reasons that occurred (forged). */
  write_text(dir, "summary.json",
             "{\n  \"scenario\": \"t\",\n  \"entities\": {\n"
             "    \"a\": {\n      \"kind\": \"vswitch\",\n      \"drop_forged\": 7,\n"
             "      \"drop_vlan\": 0\n    },\n"
             "    \"b\": {\n      \"kind\": \"vswitch\",\n      \"drop_forged\": 0,\n"
             "      \"drop_vlan\": 0\n    }\n  }\n}\n");
  drawn = plot_or_no_gnuplot(dir, &o);
  g_autoptr(GPtrArray) tot = read_dat(tp);
  g_assert_cmpuint(tot->len, ==, 2);
  g_assert_cmpuint(g_strv_length(tot->pdata[0]), ==, 2);
  g_assert_cmpstr(((GStrv)tot->pdata[0])[1], ==, "forged");
  g_assert_cmpstr(((GStrv)tot->pdata[1])[0], ==, "a");
  g_assert_cmpfloat(num(tot->pdata[1], 1), ==, 7);
  if (drawn) assert_figure(dir, "network");
  tu_rm_rf(dir);
}

/* A trace with an L1 vCPU v0 on p0 over [0.9, 1.1) and [1.3, 1.6), and an L2 vCPU n0 on v0
 * over [1.0, 1.5) that executed 0.1 + 0.2 = 0.3 s of it. Window: from 1.0, 0.4 s long, so
 * [1.0, 1.4). Clipped bars: v0 [1.0, 1.1) and [1.3, 1.4); n0 [1.0, 1.4). n0's solid stretches
 * are its overlap with v0's slices inside the window: [1.0, 1.1) and [1.3, 1.4). A slice on an
 * untraced CPU (n1 on v9, 0.2 s of which 0.05 executed) is drawn solid for its share (1/4)
 * from its start: [1.0, 1.05) of [1.0, 1.2). */
static void test_timeline_window(void) {
  g_autofree char *dir = g_dir_make_tmp("nestsim-plot-tl-XXXXXX", NULL);
  write_text(dir, "trace.csv",
             "layer,vcpu,cpu,start_s,end_s,executing_s\n"
             "1,h/v0,h/p0,0.9,1.1,0.2\n"
             "2,h/v/n0,h/v0,1.0,1.5,0.3\n"
             "2,h/v/n1,h/v9,1.0,1.2,0.05\n"
             "1,h/v0,h/p0,1.3,1.6,0.3\n"
             "1,h/v0,h/p0,2.0,2.5,0.5\n");
  plot_options o;
  plot_options_init(&o);
  o.from_s = 1.0, o.window_s = 0.4;
  gboolean drawn = plot_or_no_gnuplot(dir, &o);
  g_autofree char *tp = plots_file(dir, "timeline.dat");
  g_autofree char *ep = plots_file(dir, "timeline-exec.dat");
  g_autoptr(GPtrArray) bars = read_dat(tp);
  g_autoptr(GPtrArray) ex = read_dat(ep);
  /* Rows: L1 first (v0 = row 0), then L2 by name (n0 = 1, n1 = 2). */
  const double want_bars[4][3] = {{0, 1.0, 1.1}, {1, 1.0, 1.4}, {2, 1.0, 1.2}, {0, 1.3, 1.4}};
  g_assert_cmpuint(bars->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    for (guint c = 0; c < 3; c++)
      g_assert_cmpfloat_with_epsilon(num(bars->pdata[i], c), want_bars[i][c], 1e-12);
  /* Stretches: v0's own (on an untraced p0, executing all of each slice), n0's two overlaps,
   * n1's share. */
  const double want_ex[5][3] = {
      {0, 1.0, 1.1}, {1, 1.0, 1.1}, {1, 1.3, 1.4}, {2, 1.0, 1.05}, {0, 1.3, 1.4}};
  g_assert_cmpuint(ex->len, ==, 5);
  for (guint i = 0; i < 5; i++)
    for (guint c = 0; c < 3; c++)
      g_assert_cmpfloat_with_epsilon(num(ex->pdata[i], c), want_ex[i][c], 1e-12);
  if (drawn) assert_figure(dir, "timeline");
  tu_rm_rf(dir);
}

static void test_empty_dir(void) {
  g_autofree char *dir = g_dir_make_tmp("nestsim-plot-empty-XXXXXX", NULL);
  g_autoptr(GError) err = NULL;
  g_assert_false(plot_dir(dir, NULL, NULL, &err));
  g_assert_error(err, PLOT_ERROR, PLOT_ERROR_INPUT);
  g_rmdir(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  if (!g_getenv("NESTSIM_BIN") || !g_getenv("NESTSIM_SOURCE_ROOT")) {
    g_printerr("test-plot: run through meson test (NESTSIM_BIN, NESTSIM_SOURCE_ROOT)\n");
    return 77;
  }
  run_dir = g_dir_make_tmp("nestsim-plot-run-XXXXXX", NULL);
  g_autofree char *nh = g_strdup_printf("nested_hosts=%d", NESTED_HOSTS);
  g_autofree char *lp = g_strdup_printf("l2_per_host=%d", L2_PER_HOST);
  const char *args[] = {"run", "scenarios/nested-lab.lua", "--duration", "20s", "--set", nh,
                        "--set", lp, "--out", run_dir, "--trace", "esx01/vESX1/", "-q",
                        "--plot", NULL};
  g_autofree char *out = NULL, *err = NULL;
  int status = -1;
  run_ok = spawn_nestsim(args, NULL, &out, &err, &status) &&
           g_spawn_check_wait_status(status, NULL);
  if (!run_ok) g_printerr("nestsim run failed:\n%s%s", out, err);

  g_test_add_func("/plot/run/every-figure-is-a-valid-png-and-svg", test_run_figures);
  g_test_add_func("/plot/run/cpu/one-column-per-vm-one-file-per-layer", test_run_cpu_series);
  g_test_add_func("/plot/run/attribution/one-row-per-l2-vm-summing-to-100",
                  test_run_attribution);
  g_test_add_func("/plot/run/timeline/both-layers-and-l2-executes-while-its-l1-vcpu-runs",
                  test_run_timeline);
  g_test_add_func("/plot/no-gnuplot/run-and-plot-exit-0-and-say-how", test_no_gnuplot);
  g_test_add_func("/plot/sweep/ci-error-bars-one-line-per-value-of-the-second-axis",
                  test_sweep_defaults);
  g_test_add_func("/plot/sweep/non-numeric-axis-is-categories", test_sweep_categorical_x);
  g_test_add_func("/plot/sweep/title-and-ylabel-replace-the-names", test_sweep_title_and_label);
  g_test_add_func("/plot/sweep/unknown-metric-or-same-axis-twice-is-an-input-error",
                  test_sweep_bad_names);
  g_test_add_func("/plot/memory/state-and-swap-over-time", test_memory);
  g_test_add_func("/plot/network/drops-by-entity-and-by-reason-over-time", test_network);
  g_test_add_func("/plot/timeline/window-clips-and-stretches-are-overlaps", test_timeline_window);
  g_test_add_func("/plot/empty-folder-is-an-input-error", test_empty_dir);
  int rc = g_test_run();
  tu_rm_rf(run_dir);
  g_free(run_dir);
  return rc;
}
