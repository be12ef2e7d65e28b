/* test-sweep.c — batch sweeps (src/sweep.c): the sweep file and its messages, the metric
 * selector, aggregation against statistics computed by hand, failed points, and the promise
 * that a sweep killed with SIGKILL (itself and its workers) and resumed ends with the same
 * sweep.csv as an uninterrupted one, every point done exactly once. Runs the built binary
 * ($NESTSIM_BIN) on scenarios of the source tree ($NESTSIM_SOURCE_ROOT) in scratch folders. */
#define _POSIX_C_SOURCE 200809L /* kill, setpgid */
#include <glib.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/sweep.h"

#include "tests/testutil.h"

static const char *bin;
static const char *root;

/* Runs nestsim with the arguments given (NULL-terminated) and waits for it. */
static tu_result cli(const char *first, ...) {
  va_list ap;
  va_start(ap, first);
  tu_result r = tu_run_va(bin, NULL, first, ap);
  va_end(ap);
  return r;
}



/* A sweep file over the seed lab with `extra` lines inside sweep { }. */
static char *lab_sweep(const char *dir, const char *extra) {
  g_autofree char *lab = g_build_filename(root, "scenarios", "nested-lab.lua", NULL);
  g_autofree char *text = g_strdup_printf("sweep {\n  scenario = \"%s\",\n%s}\n", lab, extra);
  return tu_write_in(dir, "s.lua", text);
}

/* ---- The sweep file ------------------------------------------------------------------------- */

/* Each mistake is reported at the sweep { } call's line with the scenario loader's grammar,
 * all of them at once, and the command exits 2 (bad input) without running anything. */
static void test_file_bad(void) {
  g_autofree char *dir = tu_scratch("nestsim-sweep-XXXXXX");
  g_autofree char *file = tu_write_in(dir, "bad.lua",
                                   "-- line 1\n"
                                   "sweep {\n"
                                   "  scenario = \"no-such.lua\",\n"
                                   "  axes = { nested_hosts = {} },\n"
                                   "  [\"repeat\"] = 0,\n"
                                   "  metrics = { \"no-colon\" },\n"
                                   "  colour = 1,\n"
                                   "}\n");
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  tu_result r = cli("sweep", file, "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_autofree char *at = g_strdup_printf("%s:2: sweep: ", file);
  g_auto(GStrv) lines = g_strsplit(g_strchomp(r.err), "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 5);
  for (char **l = lines; *l; l++) g_assert_true(g_str_has_prefix(*l, at));
  g_assert_nonnull(strstr(r.err, "unknown key 'colour'"));
  g_assert_nonnull(strstr(r.err, "invalid 'scenario': no file"));
  g_assert_nonnull(strstr(r.err, "invalid 'axes.nested_hosts': expected a list"));
  g_assert_nonnull(strstr(r.err, "invalid 'repeat': expected an integer from 1 to 10000, got 0"));
  g_assert_nonnull(strstr(r.err, "invalid 'metrics[1]': expected SELECT:KEY"));
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  tu_result_clear(&r);

  /* A Lua error and a file without sweep { } are bad input too. */
  g_autofree char *f2 = tu_write_in(dir, "syntax.lua", "sweep {\n");
  r = cli("sweep", f2, NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_true(g_str_has_prefix(r.err, f2));
  tu_result_clear(&r);
  g_autofree char *f3 = tu_write_in(dir, "none.lua", "local x = 1\n");
  r = cli("sweep", f3, NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "no sweep { } in the file"));
  tu_result_clear(&r);
  /* A runaway script is stopped, by its instruction count or its memory. */
  g_autofree char *f4 = tu_write_in(dir, "loop.lua", "while true do end\n");
  r = cli("sweep", f4, NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "did not finish after"));
  tu_result_clear(&r);
  g_autofree char *f5 = tu_write_in(dir, "mem.lua", "local t = {}\n"
                                                 "for i = 1, 100 do t[i] = string.rep('x', 1 << 20) .. i end\n");
  r = cli("sweep", f5, NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "not enough memory"));
  tu_result_clear(&r);
  tu_rm_rf(dir);
}

/* ---- Metrics -------------------------------------------------------------------------------- */

static const char *const summary =
    "{\n  \"scenario\": \"t\",\n  \"seed\": 1,\n  \"entities\": {\n"
    "    \"h\": {\n      \"kind\": \"host\",\n      \"layer\": 0,\n      \"v\": 10\n    },\n"
    "    \"h/a\": {\n      \"kind\": \"vm\",\n      \"layer\": 1,\n      \"v\": 1.5\n    },\n"
    "    \"h/a/x\": {\n      \"kind\": \"vm\",\n      \"layer\": 2,\n      \"v\": 2\n    },\n"
    "    \"h/a/y\": {\n      \"kind\": \"vm\",\n      \"layer\": 2,\n      \"v\": 6,\n"
    "      \"name\": \"a \\\"quoted\\\" text\"\n    }\n  }\n}\n";

static double metric(const char *m) {
  double v = NAN;
  g_autoptr(GError) error = NULL;
  g_assert_true(swp_metric_value(m, summary, &v, &error));
  g_assert_no_error(error);
  return v;
}

/* The selector against a summary written by hand: two L2 VMs with v = 2 and 6. */
static void test_metric_selector(void) {
  g_assert_cmpfloat(metric("h:v"), ==, 10);
  g_assert_cmpfloat(metric("h/a:v"), ==, 1.5);
  g_assert_cmpfloat(metric("mean(kind:vm&layer:2:v)"), ==, 4);  /* (2 + 6) / 2 */
  g_assert_cmpfloat(metric("sum(h/a/*:v)"), ==, 8);             /* 2 + 6 */
  g_assert_cmpfloat(metric("max(kind:vm:v)"), ==, 6);
  g_assert_cmpfloat(metric("min(kind:vm:v)"), ==, 1.5);
  g_assert_cmpfloat(metric("count(kind:vm:v)"), ==, 3);         /* a, x and y */
  g_assert_cmpfloat(metric("mean(layer:2&*/y:v)"), ==, 6);
  double v;
  g_autoptr(GError) error = NULL;
  /* Two entities without an aggregate: which one was meant is not guessed. */
  g_assert_false(swp_metric_value("kind:vm&layer:2:v", summary, &v, &error));
  g_assert_nonnull(strstr(error->message, "2 entities match (h/a/x h/a/y)"));
  g_clear_error(&error);
  g_assert_false(swp_metric_value("h:nope", summary, &v, &error));
  g_assert_nonnull(strstr(error->message, "no key 'nope' (its keys: kind layer v)"));
  g_clear_error(&error);
  g_assert_false(swp_metric_value("zz:v", summary, &v, &error));
  g_assert_nonnull(strstr(error->message, "no entity matches"));
  g_clear_error(&error);
  g_assert_false(swp_metric_value("median(h:v)", summary, &v, &error));
  g_assert_error(error, SWP_ERROR, SWP_ERROR_INPUT);
}

/* ---- Aggregation ---------------------------------------------------------------------------- */

/* Hand-written runs of a sweep of one axis x = {1, 2}, three repetitions, collected with
 * `nestsim sweep --collect`. Point x=1 has m = 1, 2, 6: mean 3; sd = sqrt(((1-3)^2 + (2-3)^2 +
 * (6-3)^2) / 2) = sqrt(7) = 2.6458; CI95 half-width = t(0.975, 2) * sd / sqrt(3) with
 * t(0.975, 2) = 4.303 (any Student t table) = 4.303 * 2.6458 / 1.7321 = 6.573. Point x=2 has
 * m = 5, 5, 5: mean 5, sd 0, CI 0. */
static void test_aggregate_by_hand(void) {
  g_autofree char *dir = tu_scratch("nestsim-sweep-XXXXXX");
  g_autofree char *file = lab_sweep(dir, "  name = \"hand\", axes = { x = {1, 2} },\n"
                                         "  [\"repeat\"] = 3, metrics = { \"h:m\" },\n");
  g_autofree char *abs = g_canonicalize_filename(file, NULL);
  g_autofree char *line = g_strconcat(abs, "\n", NULL);
  g_free(tu_write_in(dir, "sweep-file", line));
  const char *ids[] = {"0000-r0", "0000-r1", "0000-r2", "0001-r0", "0001-r1", "0001-r2"};
  const int m[] = {1, 2, 6, 5, 5, 5};
  for (int i = 0; i < 6; i++) {
    g_autofree char *p = g_build_filename(dir, "points", ids[i], NULL);
    g_assert_cmpint(g_mkdir_with_parents(p, 0755), ==, 0);
    g_autofree char *json = g_strdup_printf("{\n  \"entities\": {\n    \"h\": {\n      "
                                            "\"kind\": \"host\",\n      \"layer\": 0,\n      \"m\": %d\n"
                                            "    }\n  }\n}\n",
                                            m[i]);
    g_free(tu_write_in(p, "summary.json", json));
  }
  tu_result r = cli("sweep", "--collect", dir, NULL);
  g_assert_cmpint(r.status, ==, 0);
  tu_result_clear(&r);
  g_autofree char *csv = tu_read_in(dir, "sweep.csv");
  g_auto(GStrv) rows = g_strsplit(csv, "\n", -1);
  g_assert_cmpstr(rows[0], ==, "x,n,h:m_mean,h:m_sd,h:m_ci95");
  g_auto(GStrv) c1 = g_strsplit(rows[1], ",", -1);
  g_assert_cmpstr(c1[0], ==, "1");
  g_assert_cmpstr(c1[1], ==, "3");
  g_assert_cmpfloat_with_epsilon(g_ascii_strtod(c1[2], NULL), 3.0, 1e-12);
  g_assert_cmpfloat_with_epsilon(g_ascii_strtod(c1[3], NULL), sqrt(7.0), 1e-9);
  g_assert_cmpfloat_with_epsilon(g_ascii_strtod(c1[4], NULL), 4.303 * sqrt(7.0) / sqrt(3.0), 2e-3);
  g_assert_cmpstr(rows[2], ==, "2,3,5,0,0");
  g_assert_cmpstr(rows[3], ==, "");

  /* A missing run is named, with the command that finishes the sweep; exit 1. */
  g_autofree char *gone = g_build_filename(dir, "points", "0001-r2", "summary.json", NULL);
  g_unlink(gone);
  r = cli("sweep", "--collect", dir, NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_nonnull(strstr(r.err, "1 of 6 points are not done: 0001-r2"));
  g_assert_nonnull(strstr(r.err, "--resume"));
  tu_result_clear(&r);
  tu_rm_rf(dir);
}

/* ---- Runs ----------------------------------------------------------------------------------- */

/* Rep r of every point runs with seed + r (common random numbers), and points.csv holds each
 * run's own command: running it alone gives the same summary.json as the sweep did. */
static void test_points_and_seeds(void) {
  g_autofree char *dir = tu_scratch("nestsim-sweep-XXXXXX");
  g_autofree char *file = lab_sweep(dir, "  axes = { {nested_hosts = {1, 2}}, {l2_util = {0.5}} },\n"
                                         "  [\"repeat\"] = 2, seed = 7, duration = \"5s\",\n"
                                         "  metrics = { \"mean(kind:vm&layer:2:effective_pct)\" },\n");
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  tu_result r = cli("sweep", file, "-j", "2", "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 0);
  tu_result_clear(&r);
  g_autofree char *points = tu_read_in(out, "points.csv");
  g_auto(GStrv) rows = g_strsplit(points, "\n", -1);
  /* Axes in the order given (a list of one-key tables), the last axis fastest. */
  g_assert_cmpstr(rows[0], ==, "id,nested_hosts,l2_util,rep,seed,duration,command");
  g_assert_true(g_str_has_prefix(rows[1], "0000-r0,1,0.5,0,7,5s,"));
  g_assert_true(g_str_has_prefix(rows[2], "0000-r1,1,0.5,1,8,5s,"));
  g_assert_true(g_str_has_prefix(rows[3], "0001-r0,2,0.5,0,7,5s,"));
  g_assert_true(g_str_has_prefix(rows[4], "0001-r1,2,0.5,1,8,5s,"));
  /* Rerun 0001-r1 alone from its command, into another folder. */
  const char *cmd = strchr(strstr(rows[4], ",5s,") + 1, ',') + 1;
  g_autofree char *alone = g_build_filename(dir, "alone", NULL);
  g_autofree char *ref = g_build_filename(out, "points", "0001-r1", NULL);
  g_autofree char *qref = g_shell_quote(ref);
  g_assert_nonnull(strstr(cmd, qref));
  g_autofree char *qalone = g_shell_quote(alone);
  g_autofree char *cmd2 = g_strdup(cmd);
  char *at = strstr(cmd2, qref);
  g_autofree char *rerun = g_strdup_printf("%.*s%s%s", (int)(at - cmd2), cmd2, qalone,
                                           at + strlen(qref));
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_shell_parse_argv(rerun, NULL, &argv, &error));
  int ws = 0;
  g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &ws, &error);
  g_assert_no_error(error);
  g_assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  g_autofree char *a = tu_read_in(ref, "summary.json");
  g_autofree char *b = tu_read_in(alone, "summary.json");
  g_assert_cmpstr(a, ==, b);
  /* A second sweep into the same folder without --resume is refused. */
  r = cli("sweep", file, "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "add --resume"));
  tu_result_clear(&r);
  tu_rm_rf(dir);
}

/* A point whose run fails is reported with the run's own message and the command that reruns
 * it, in failed.txt and on stderr; the sweep exits 1 and writes no sweep.csv; --resume runs
 * only the failed point again (the others are done). */
static void test_failed_point(void) {
  g_autofree char *dir = tu_scratch("nestsim-sweep-XXXXXX");
  g_autofree char *file = lab_sweep(dir, "  axes = { l2_util = {0.5, \"lots\"} }, duration = \"5s\",\n"
                                         "  metrics = { \"esx01:%USED\" },\n");
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  tu_result r = cli("sweep", file, "-j", "1", "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_nonnull(strstr(r.err, "point 0001-r0 failed; rerun it alone with:"));
  /* The run's own complaint (param() in the scenario loader) about the value. */
  g_assert_nonnull(strstr(r.err, "param 'l2_util': invalid '--set l2_util'"));
  g_autofree char *failed = tu_read_in(out, "failed.txt");
  g_assert_nonnull(strstr(failed, "point 0001-r0 failed"));
  g_assert_null(strstr(failed, "0000-r0"));
  g_autofree char *csv = g_build_filename(out, "sweep.csv", NULL);
  g_assert_false(g_file_test(csv, G_FILE_TEST_EXISTS));
  tu_result_clear(&r);
  r = cli("sweep", file, "--resume", "-j", "1", "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_nonnull(strstr(r.err, "1 of 2 points already done"));
  g_assert_nonnull(strstr(r.err, "sweep: 2/2 0001-r0 FAILED"));
  g_assert_null(strstr(r.err, "0000-r0 done"));
  tu_result_clear(&r);
  tu_rm_rf(dir);
}

static guint count_done(const char *dir) {
  g_autofree char *points = g_build_filename(dir, "points", NULL);
  GDir *d = g_dir_open(points, 0, NULL);
  guint n = 0;
  for (const char *name; d && (name = g_dir_read_name(d));) {
    g_autofree char *p = g_build_filename(points, name, "summary.json", NULL);
    n += g_file_test(p, G_FILE_TEST_IS_REGULAR);
  }
  if (d) g_dir_close(d);
  return n;
}

static void own_group(gpointer data) {
  (void)data;
  setpgid(0, 0);
}

/* 16 runs on 2 workers; the sweep and its workers are killed with SIGKILL once some runs are
 * done, a run that was being written is left half-written (a folder without summary.json),
 * and --resume finishes: the runs done before the kill are not run again (their summary.json
 * is the same file), the others are done once each, and sweep.csv is byte for byte that of an
 * uninterrupted sweep. */
static void test_kill_and_resume(void) {
  g_autofree char *dir = tu_scratch("nestsim-sweep-XXXXXX");
  g_autofree char *file =
      lab_sweep(dir, "  axes = { nested_hosts = {1, 2, 3, 4}, l2_util = {0.3, 0.9} },\n"
                     "  [\"repeat\"] = 2, duration = \"30s\",\n"
                     "  metrics = { \"esx01/vESX1/vm1:effective_pct\",\n"
                     "              \"mean(kind:vm&layer:2:effective_pct)\" },\n");
  g_autofree char *clean = g_build_filename(dir, "clean", NULL);
  tu_result r = cli("sweep", file, "-j", "2", "--out", clean, NULL);
  g_assert_cmpint(r.status, ==, 0);
  tu_result_clear(&r);

  g_autofree char *killed = g_build_filename(dir, "killed", NULL);
  const char *argv[] = {bin, "sweep", file, "-j", "2", "--out", killed, NULL};
  GPid pid = 0;
  g_autoptr(GError) error = NULL;
  g_spawn_async(NULL, (char **)argv, NULL,
                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                own_group, NULL, &pid, &error);
  g_assert_no_error(error);
  /* Wait for a few runs to be done (not a timing assertion: the kill may land anywhere). */
  while (count_done(killed) < 3) g_usleep(5000);
  g_assert_cmpint(kill(-pid, SIGKILL), ==, 0);
  int ws = 0;
  g_assert_cmpint(waitpid(pid, &ws, 0), ==, pid);
  g_assert_true(WIFSIGNALED(ws));
  /* The workers were in the same process group; let them go before looking. */
  while (kill(-pid, 0) == 0) g_usleep(1000);
  guint before = count_done(killed);
  g_assert_cmpuint(before, >=, 3);
  g_test_message("killed with %u of 16 runs done", before);

  /* A point folder written half-way: files but no summary.json. */
  g_autofree char *half = NULL;
  for (guint i = 0; i < 16 && !half; i++) {
    g_autofree char *id = g_strdup_printf("%04u-r%u", i / 2, i % 2);
    g_autofree char *p = g_build_filename(killed, "points", id, NULL);
    g_autofree char *sj = g_build_filename(p, "summary.json", NULL);
    if (!g_file_test(sj, G_FILE_TEST_EXISTS)) half = g_steal_pointer(&p);
  }
  if (half) {
    g_assert_cmpint(g_mkdir_with_parents(half, 0755), ==, 0);
    g_free(tu_write_in(half, "metrics.csv", "time_s,entity\n0,es"));
  }
  /* Remember each done run's summary.json: --resume must leave them alone. */
  g_autoptr(GHashTable) inode = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < 16; i++) {
    g_autofree char *id = g_strdup_printf("%04u-r%u", i / 2, i % 2);
    g_autofree char *sj = g_build_filename(killed, "points", id, "summary.json", NULL);
    GStatBuf st;
    if (g_stat(sj, &st) == 0)
      g_hash_table_insert(inode, g_steal_pointer(&sj), GSIZE_TO_POINTER((gsize)st.st_ino));
  }

  r = cli("sweep", file, "-j", "2", "--resume", "--out", killed, NULL);
  g_assert_cmpint(r.status, ==, 0);
  /* Exactly once: the resumed sweep ran the 16 - before missing runs, one "done" line each. */
  g_autofree char *said = g_strdup_printf("sweep: %u of 16 points already done", before);
  if (before < 16) g_assert_nonnull(strstr(r.err, said));
  guint lines = 0;
  for (const char *p = r.err; (p = strstr(p, " done (")); p++) lines++;
  g_assert_cmpuint(lines, ==, 16 - before);
  tu_result_clear(&r);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, inode);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    GStatBuf st;
    g_assert_cmpint(g_stat(k, &st), ==, 0);
    g_assert_cmpuint((gsize)st.st_ino, ==, GPOINTER_TO_SIZE(v));
  }
  g_assert_cmpuint(count_done(killed), ==, 16);
  g_autofree char *a = tu_read_in(clean, "sweep.csv");
  g_autofree char *b = tu_read_in(killed, "sweep.csv");
  g_assert_cmpstr(a, ==, b);
  tu_rm_rf(dir);
}

/* The sweep alone is killed (SIGKILL of its PID, not of its group): its workers die with it
 * (PR_SET_PDEATHSIG) instead of finishing their points behind a --resume that would run the
 * same points again. */
static void test_workers_die_with_sweep(void) {
  g_autofree char *dir = tu_scratch("nestsim-sweep-XXXXXX");
  g_autofree char *file = lab_sweep(dir, "  axes = { nested_hosts = {1, 2, 3, 4}, traffic = {false} },\n"
                                         "  [\"repeat\"] = 4, duration = \"30s\",\n"
                                         "  metrics = { \"esx01:%USED\" },\n");
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  const char *argv[] = {bin, "sweep", file, "-j", "2", "--out", out, NULL};
  GPid pid = 0;
  g_autoptr(GError) error = NULL;
  g_spawn_async(NULL, (char **)argv, NULL,
                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                own_group, NULL, &pid, &error);
  g_assert_no_error(error);
  while (count_done(out) < 1) g_usleep(5000);
  g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
  int ws = 0;
  g_assert_cmpint(waitpid(pid, &ws, 0), ==, pid);
  /* Every member of the group (the workers) goes away on its own: this loop ends. */
  while (kill(-pid, 0) == 0) g_usleep(1000);
  g_assert_cmpint(errno, ==, ESRCH);
  tu_result r = cli("sweep", file, "-j", "2", "--resume", "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 0);
  tu_result_clear(&r);
  g_assert_cmpuint(count_done(out), ==, 16);
  tu_rm_rf(dir);
}

/* Runs a shell command line and asserts it succeeded. */
static void sh(const char *line, const char *const *env) {
  const char *argv[] = {"/bin/sh", "-c", line, NULL};
  int ws = 0;
  g_autoptr(GError) error = NULL;
  g_spawn_sync(NULL, (char **)argv, (char **)env, G_SPAWN_STDOUT_TO_DEV_NULL |
               G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &ws, &error);
  g_assert_no_error(error);
  g_assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
}

/* Beyond one machine: the Slurm array script, run here task by task with the variables Slurm
 * would set (scripts/slurm-test.sh runs it under a real Slurm), and the GNU parallel job list,
 * each line run by sh; `--collect` then writes the sweep.csv a local sweep writes. 7 runs in
 * tasks of 3: the last task has 1 run, which checks the script's clamp at the end. */
static void test_emit_and_collect(void) {
  g_autofree char *dir = tu_scratch("nestsim-sweep-XXXXXX");
  g_autofree char *file = lab_sweep(dir, "  axes = { {nested_hosts = {1, 2, 3, 4, 5, 6, 7}}, {l2_per_host = {1}},\n"
                                         "           {traffic = {false}} },\n"
                                         "  duration = \"5s\", metrics = { \"esx01:%USED\" },\n");
  g_autofree char *local = g_build_filename(dir, "local", NULL);
  tu_result r = cli("sweep", file, "--out", local, NULL);
  g_assert_cmpint(r.status, ==, 0);
  tu_result_clear(&r);
  g_autofree char *want = tu_read_in(local, "sweep.csv");

  g_autofree char *slurm = g_build_filename(dir, "slurm", NULL);
  r = cli("sweep", file, "--emit", "slurm", "--per-task", "3", "--out", slurm, NULL);
  g_assert_cmpint(r.status, ==, 0);
  tu_result_clear(&r);
  g_autofree char *script = tu_read_in(slurm, "slurm.sh");
  g_assert_nonnull(strstr(script, "\n#SBATCH --array=0-2\n")); /* ceil(7 / 3) = 3 tasks */
  g_autofree char *path = g_build_filename(slurm, "slurm.sh", NULL);
  g_autofree char *qpath = g_shell_quote(path);
  g_autofree char *cmd = g_strdup_printf("bash %s", qpath);
  for (int task = 0; task < 3; task++) {
    g_autofree char *id = g_strdup_printf("SLURM_ARRAY_TASK_ID=%d", task);
    g_autofree char *p = g_strdup_printf("PATH=%s", g_getenv("PATH"));
    const char *env[] = {id, p, NULL};
    sh(cmd, env);
  }
  r = cli("sweep", "--collect", slurm, NULL);
  g_assert_cmpint(r.status, ==, 0);
  tu_result_clear(&r);
  g_autofree char *got = tu_read_in(slurm, "sweep.csv");
  g_assert_cmpstr(got, ==, want);

  g_autofree char *par = g_build_filename(dir, "parallel", NULL);
  r = cli("sweep", file, "--emit", "parallel", "--out", par, NULL);
  g_assert_cmpint(r.status, ==, 0);
  tu_result_clear(&r);
  g_autofree char *jobs = tu_read_in(par, "jobs.txt");
  g_auto(GStrv) lines = g_strsplit(g_strchomp(jobs), "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 7);
  for (char **l = lines; *l; l++) sh(*l, NULL);
  r = cli("sweep", "--collect", par, NULL);
  g_assert_cmpint(r.status, ==, 0);
  tu_result_clear(&r);
  g_autofree char *got2 = tu_read_in(par, "sweep.csv");
  g_assert_cmpstr(got2, ==, want);
  tu_rm_rf(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  bin = g_getenv("NESTSIM_BIN");
  root = g_getenv("NESTSIM_SOURCE_ROOT");
  if (!bin || !root) {
    g_printerr("test-sweep: set NESTSIM_BIN and NESTSIM_SOURCE_ROOT (meson test does)\n");
    return 77;
  }
  g_test_add_func("/sweep/file/mistakes-reported-together-exit-2", test_file_bad);
  g_test_add_func("/sweep/metric/selector-glob-kind-layer-aggregates", test_metric_selector);
  g_test_add_func("/sweep/aggregate/mean-sd-ci95-by-hand", test_aggregate_by_hand);
  g_test_add_func("/sweep/points/common-seeds-and-rerun-alone", test_points_and_seeds);
  g_test_add_func("/sweep/failed/reported-with-error-and-rerun-on-resume", test_failed_point);
  g_test_add_func("/sweep/resume/sigkill-then-resume-equals-clean-run", test_kill_and_resume);
  g_test_add_func("/sweep/resume/workers-die-with-a-killed-sweep", test_workers_die_with_sweep);
  g_test_add_func("/sweep/emit/slurm-tasks-and-parallel-lines-collect-to-local-csv",
                  test_emit_and_collect);
  return g_test_run();
}
