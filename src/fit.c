/* fit.c — `nestsim fit` (issue 8): the largest or smallest whole value of one scenario
 * parameter that keeps every target, found by simulation.
 *
 * The search runs the two ends of the range first. Which end passes tells the direction: a
 * passing low end and a failing high end make a load parameter (nested_hosts, l2_per_host),
 * whose answer is the largest passing value; the other way round a capacity parameter (cores,
 * memory), whose answer is the smallest. Then it bisects the interval between the last value
 * known to pass and the first known to fail — or, with --probes K, cuts it into K+1 parts and
 * runs the K values at once. That assumes monotonicity (past the boundary every value fails);
 * only a round of several probes can see a contradiction, and one that does is reported.
 *
 * Every run is its own `nestsim run` process, as in a sweep (src/sweep.c), so that -j N runs a
 * round's probes and repetitions in parallel and a run that crashes costs that run only. The
 * values a round probes depend on the arguments alone (--range, --probes), never on -j or the
 * machine, so the same arguments and seed give the same runs, answer and fit.csv anywhere.
 * Each run costs what `nestsim run` costs; the search adds nothing measurable. */
#include "src/fit.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/scn.h"
#include "src/sweep.h"
#include "src/topo.h"
#include "src/units.h"

/* The widest range fit accepts: 2^40 values take 42 runs, and keeping every value well inside
 * gint64 keeps the midpoint arithmetic simple. */
#define FIT_MAX_VALUE ((gint64)1 << 40)
#define FIT_MAX_PROBES 64
#define FIT_MAX_REPEAT 1000

/* ---- Metrics and targets ---------------------------------------------------------------- */

/* The named metrics, computed from a run's summary.json; anything else is a sweep metric. */
typedef enum { FM_SELECTOR, FM_L2_EFFICIENCY, FM_RDY, FM_SWAP } fit_metric_kind;

typedef struct fit_metric {
  char *name; /* as the table and fit.csv head its column */
  fit_metric_kind kind;
} fit_metric;

typedef enum { OP_LE, OP_GE, OP_LT, OP_GT, OP_EQ, OP_NE } fit_op;
static const char *const op_text[] = {"<=", ">=", "<", ">", "==", "!="};
/* What a failing value is to the bound, for "4 fails rdy: 20 > 5". */
static const char *const op_failed[] = {">", "<", ">=", "<=", "!=", "=="};

typedef struct fit_target {
  char *text; /* "l2_efficiency>=70", as written back */
  guint metric;
  fit_op op;
  double bound;
} fit_target;

static const char *const default_targets[] = {"l2_efficiency>=70", "rdy<=5", "no-swap", NULL};

static void metric_free(void *p) {
  fit_metric *m = p;
  g_free(m->name);
  g_free(m);
}

static void target_free(void *p) {
  fit_target *t = p;
  g_free(t->text);
  g_free(t);
}

static gboolean op_holds(fit_op op, double v, double bound) {
  switch (op) {
  case OP_LE: return v <= bound;
  case OP_GE: return v >= bound;
  case OP_LT: return v < bound;
  case OP_GT: return v > bound;
  case OP_EQ: return v == bound;
  case OP_NE: return v != bound;
  }
  g_assert_not_reached();
}

/* The metric column of `name`, added when new. */
static guint metric_index(GPtrArray *metrics, const char *name, fit_metric_kind kind) {
  for (guint i = 0; i < metrics->len; i++)
    if (!strcmp(((fit_metric *)metrics->pdata[i])->name, name)) return i;
  fit_metric *m = g_new0(fit_metric, 1);
  m->name = g_strdup(name);
  m->kind = kind;
  g_ptr_array_add(metrics, m);
  return metrics->len - 1;
}

/* Parses one --target: METRIC OP NUMBER (an optional '%' after the number), or "no-swap".
 * Appends it to targets (and its metric to metrics). FALSE with *why (transfer full). */
static gboolean parse_target(const char *text, GPtrArray *metrics, GPtrArray *targets,
                             char **why) {
  g_autofree char *t = g_strstrip(g_strdup(text));
  if (!strcmp(t, "no-swap")) {
    g_free(t);
    t = g_strdup("swap_mb==0");
  }
  size_t at = strcspn(t, "<>=!");
  if (!t[at]) {
    *why = g_strdup("expected METRIC OP NUMBER such as l2_efficiency>=70, rdy<=5 or swap_mb==0 "
                    "(OP one of <= >= < > == !=), or no-swap");
    return FALSE;
  }
  fit_op op = OP_LE;
  size_t oplen = 2;
  const char *o = t + at;
  if (g_str_has_prefix(o, "<=")) op = OP_LE;
  else if (g_str_has_prefix(o, ">=")) op = OP_GE;
  else if (g_str_has_prefix(o, "==")) op = OP_EQ;
  else if (g_str_has_prefix(o, "!=")) op = OP_NE;
  else if (*o == '<') op = OP_LT, oplen = 1;
  else if (*o == '>') op = OP_GT, oplen = 1;
  else {
    *why = g_strdup("expected an operator <= >= < > == or != after the metric (= alone is "
                    "not one: write ==)");
    return FALSE;
  }
  g_autofree char *name = g_strstrip(g_strndup(t, at));
  g_autofree char *num = g_strstrip(g_strdup(o + oplen));
  size_t n = strlen(num);
  if (n && num[n - 1] == '%') num[n - 1] = '\0';
  char *end = NULL;
  double bound = g_ascii_strtod(num, &end);
  if (!*num || !end || *end || !isfinite(bound)) {
    *why = g_strdup_printf("expected a number after '%s', got \"%s\"", op_text[op], o + oplen);
    return FALSE;
  }
  fit_metric_kind kind = FM_SELECTOR;
  if (!strcmp(name, "l2_efficiency")) kind = FM_L2_EFFICIENCY;
  else if (!strcmp(name, "rdy")) kind = FM_RDY;
  else if (!strcmp(name, "swap_mb") || !strcmp(name, "swap")) {
    kind = FM_SWAP;
    g_free(name);
    name = g_strdup("swap_mb");
  } else {
    g_autoptr(GError) err = NULL;
    if (!*name || !swp_metric_check(name, &err)) {
      /* A bare word is a misspelt name; only a selector gets the selector's syntax. */
      gboolean looks_like = err && strpbrk(name, ":(") != NULL;
      *why = g_strdup_printf("unknown metric \"%s\": expected l2_efficiency, rdy, swap_mb, or a "
                             "sweep metric such as mean(kind:vm&layer:2:effective_pct)%s%s",
                             name, looks_like ? " — " : "", looks_like ? err->message : "");
      return FALSE;
    }
  }
  fit_target *tg = g_new0(fit_target, 1);
  tg->metric = metric_index(metrics, name, kind);
  tg->op = op;
  tg->bound = bound;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  tg->text = g_strdup_printf("%s%s%s", name, op_text[op], g_ascii_formatd(buf, sizeof buf, "%.12g", bound));
  g_ptr_array_add(targets, tg);
  return TRUE;
}

/* A number of an entity of the summary; FALSE when it has none under `key`. */
static gboolean ent_num(GHashTable *e, const char *key, double *out) {
  const char *v = g_hash_table_lookup(e, key);
  char *end = NULL;
  if (!v) return FALSE;
  *out = g_ascii_strtod(v, &end);
  return end && end != v && !*end && isfinite(*out);
}

static gboolean ent_is(GHashTable *e, const char *kind, int layer) {
  const char *k = g_hash_table_lookup(e, "kind");
  if (!k || strcmp(k, kind)) return FALSE;
  if (layer < 0) return TRUE;
  const char *l = g_hash_table_lookup(e, "layer");
  return l && atoi(l) == layer;
}

/* The value of a metric in one run. The named metrics (README, "Fit"):
 * - l2_efficiency: the mean over the L2 VMs that had work of attr_guest_pct / (100 -
 *   attr_idle_pct) x 100 — of the time a VM wanted a CPU, the share it ran its own
 *   instructions, not exit handling at L0 or L1, page walks, binary translation, memory or
 *   network stalls, ready time at its layer, or descheduled by a layer below. Time, not work:
 *   hyper-threading's slower threads are not counted against it (effective_pct has them).
 * - rdy: the worst %RDY of any vCPU of any VM at any layer (esxtop's per-vCPU ready time, which
 *   VMware's guidance keeps under 5%).
 * - swap_mb: summed over every VM at every layer, the larger of what its host swapped out after
 *   warm-up (mem_swapout_mb) and what stays swapped at the end (mem_swcur_mb, which also covers
 *   swapping during warm-up). 0: no host swapped. */
static gboolean metric_value(const fit_metric *m, const char *json, double *out, GError **error) {
  if (m->kind == FM_SELECTOR) return swp_metric_value(m->name, json, out, error);
  g_autoptr(GPtrArray) order = g_ptr_array_new();
  g_autoptr(GHashTable) ents = swp_summary_entities(json, order, error);
  if (!ents) return FALSE;
  double acc = 0;
  guint n = 0, any = 0;
  for (guint i = 0; i < order->len; i++) {
    GHashTable *e = g_hash_table_lookup(ents, order->pdata[i]);
    double a = 0, b = 0;
    switch (m->kind) {
    case FM_L2_EFFICIENCY:
      if (!ent_is(e, "vm", 2)) break;
      any++;
      if (!ent_num(e, "attr_guest_pct", &a) || !ent_num(e, "attr_idle_pct", &b)) {
        g_set_error(error, SWP_ERROR, SWP_ERROR_RUN, "l2_efficiency: %s has no attr_guest_pct "
                    "or attr_idle_pct", (char *)order->pdata[i]);
        return FALSE;
      }
      /* A VM idle all along had no work to be efficient at. */
      if (100 - b > 1e-9) {
        acc += 100 * a / (100 - b);
        n++;
      }
      break;
    case FM_RDY:
      if (!ent_is(e, "vcpu", -1) || !ent_num(e, "%RDY", &a)) break;
      acc = n++ ? MAX(acc, a) : a;
      break;
    case FM_SWAP:
      if (!ent_is(e, "vm", -1)) break;
      if (!ent_num(e, "mem_swapout_mb", &a) || !ent_num(e, "mem_swcur_mb", &b)) {
        g_set_error(error, SWP_ERROR, SWP_ERROR_RUN, "swap_mb: %s has no mem_swapout_mb or "
                    "mem_swcur_mb", (char *)order->pdata[i]);
        return FALSE;
      }
      acc += MAX(a, b);
      n++;
      break;
    case FM_SELECTOR: g_assert_not_reached();
    }
  }
  if (n == 0) {
    g_set_error(error, SWP_ERROR, SWP_ERROR_RUN, "%s: %s", m->name,
                m->kind == FM_L2_EFFICIENCY ? (any ? "no L2 VM had work to do"
                                                   : "the run has no L2 VMs (kind vm, layer 2)")
                : m->kind == FM_RDY ? "the run has no vCPUs" : "the run has no VMs");
    return FALSE;
  }
  *out = m->kind == FM_L2_EFFICIENCY ? acc / n : acc;
  return TRUE;
}

/* ---- Runs and values -------------------------------------------------------------------- */

typedef struct fit_run {
  gint64 value;
  guint64 seed;
  guint round;
  char *id;     /* its folder under runs/: "<value>-s<seed>" */
  double *vals; /* one per metric */
  gboolean pass;
} fit_run;

/* A value the search has run: its repetitions' means and 95% CI half-widths per metric. */
typedef struct fit_point {
  gint64 value;
  guint first;  /* its runs are runs[first .. first + reps - 1] */
  double *mean, *ci;
  gboolean pass;
} fit_point;

typedef struct fit_ctx {
  const char *scenario, *param;
  char *unit;      /* the values' unit suffix ("GB"), "" for plain numbers */
  char **sets;     /* the user's --set texts (NULL-terminated, may be NULL) */
  char *duration;  /* --duration text or NULL */
  guint64 seed;
  guint reps, jobs, probes;
  char *dir, *bin;
  GPtrArray *metrics, *targets; /* fit_metric*, fit_target* */
  GPtrArray *runs;                /* fit_run*, in the order they were run */
  GPtrArray *points;              /* fit_point*, in the order they were run */
  GPtrArray *notes;               /* char*: contradictions of monotonicity */
  guint *width;                   /* the table's columns: value, seed, metrics..., */
} fit_ctx;

static void run_free(void *p) {
  fit_run *r = p;
  g_free(r->id);
  g_free(r->vals);
  g_free(r);
}

static void point_free(void *p) {
  fit_point *pt = p;
  g_free(pt->mean);
  g_free(pt->ci);
  g_free(pt);
}

static char *value_text(const fit_ctx *c, gint64 v) {
  return g_strdup_printf("%" G_GINT64_FORMAT "%s", v, c->unit);
}

static fit_point *point_of(const fit_ctx *c, gint64 v) {
  for (guint i = 0; i < c->points->len; i++)
    if (((fit_point *)c->points->pdata[i])->value == v) return c->points->pdata[i];
  return NULL;
}

/* The argv of `nestsim run` for one run (transfer full, NULL-terminated). */
static GStrv run_argv(const fit_ctx *c, const fit_run *r) {
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  g_strv_builder_add_many(b, c->bin, "run", c->scenario, NULL);
  g_autofree char *v = value_text(c, r->value);
  g_autofree char *set = g_strdup_printf("%s=%s", c->param, v);
  g_strv_builder_add_many(b, "--set", set, NULL);
  for (char **s = c->sets; s && *s; s++) g_strv_builder_add_many(b, "--set", *s, NULL);
  g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, r->seed);
  g_strv_builder_add_many(b, "--seed", seed, NULL);
  if (c->duration) g_strv_builder_add_many(b, "--duration", c->duration, NULL);
  g_autofree char *out = g_build_filename(c->dir, "runs", r->id, NULL);
  g_strv_builder_add_many(b, "--out", out, "--quiet", NULL);
  return g_strv_builder_end(b);
}

static char *log_path(const fit_ctx *c, const fit_run *r) {
  g_autofree char *name = g_strconcat(r->id, ".stderr", NULL);
  return g_build_filename(c->dir, "logs", name, NULL);
}

static gboolean spawn_run(const fit_ctx *c, const fit_run *r, GPid *pid, GError **error) {
  g_auto(GStrv) argv = run_argv(c, r);
  g_autofree char *log = log_path(c, r);
  return cli_spawn_worker((const char *const *)argv, log, pid, error);
}

/* Reads a finished run's summary.json into r->vals. Returns CLI_EXIT_OK, or the exit status after
 * saying what is wrong (a target that does not apply to the scenario is bad input). */
static int read_run(const fit_ctx *c, fit_run *r) {
  g_autofree char *path = g_build_filename(c->dir, "runs", r->id, "summary.json", NULL);
  g_autofree char *json = NULL;
  g_autoptr(GError) err = NULL;
  if (!g_file_get_contents(path, &json, NULL, &err)) {
    fprintf(stderr, "nestsim: %s\n", err->message);
    return CLI_EXIT_RUNTIME;
  }
  for (guint k = 0; k < c->metrics->len; k++)
    if (!metric_value(c->metrics->pdata[k], json, &r->vals[k], &err)) {
      fprintf(stderr, "nestsim: --target: %s (in %s)\n", err->message, path);
      return CLI_EXIT_USAGE;
    }
  r->pass = TRUE;
  for (guint i = 0; i < c->targets->len; i++) {
    const fit_target *t = c->targets->pdata[i];
    r->pass &= op_holds(t->op, r->vals[t->metric], t->bound);
  }
  return CLI_EXIT_OK;
}

/* Runs runs[from ..] on c->jobs processes and reads their results. On a failed run, waits for
 * the others in flight, prints the failure with the command that reruns it, and returns the
 * exit status: 2 when the run refused its input (a value the scenario does not accept), else
 * 1. */
static int run_batch(const fit_ctx *c, guint from) {
  g_autoptr(GHashTable) running = g_hash_table_new(g_direct_hash, g_direct_equal);
  guint next = from;
  int status = CLI_EXIT_OK;
  fit_run *failed = NULL;
  int failed_code = 0;
  while ((next < c->runs->len && !failed) || g_hash_table_size(running)) {
    while (!failed && next < c->runs->len && g_hash_table_size(running) < c->jobs) {
      GPid pid = 0;
      g_autoptr(GError) err = NULL;
      fit_run *r = c->runs->pdata[next++];
      if (!spawn_run(c, r, &pid, &err)) {
        fprintf(stderr, "nestsim: cannot start a run: %s\n", err->message);
        failed = r;
        failed_code = -1;
        status = CLI_EXIT_RUNTIME;
        break;
      }
      g_hash_table_insert(running, GINT_TO_POINTER(pid), r);
    }
    if (!g_hash_table_size(running)) break;
    int ws = 0;
    pid_t pid = waitpid(-1, &ws, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      g_error("fit.c: waitpid with %u runs in flight: %s (a child reaped elsewhere?)",
              g_hash_table_size(running), g_strerror(errno));
    }
    fit_run *r = NULL;
    if (!g_hash_table_steal_extended(running, GINT_TO_POINTER(pid), NULL, (gpointer *)&r)) continue;
    g_autofree char *log = log_path(c, r);
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
      GStatBuf st;
      if (g_stat(log, &st) == 0 && st.st_size == 0) g_unlink(log);
      if (status == CLI_EXIT_OK) status = read_run(c, r);
    } else if (!failed) {
      failed = r;
      failed_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
      status = WIFEXITED(ws) && WEXITSTATUS(ws) == CLI_EXIT_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
    }
  }
  if (failed && failed_code >= 0) {
    g_auto(GStrv) argv = run_argv(c, failed);
    GString *cmd = g_string_new(NULL);
    for (char **a = argv; *a; a++) {
      g_autofree char *q = g_shell_quote(*a);
      g_string_append_printf(cmd, "%s%s", a == argv ? "" : " ", q);
    }
    g_autofree char *log = log_path(c, failed);
    g_autofree char *text = NULL;
    g_file_get_contents(log, &text, NULL, NULL);
    g_autofree char *v = value_text(c, failed->value);
    fprintf(stderr, "%s%snestsim: the run of %s=%s (seed %" G_GUINT64_FORMAT ") failed with "
            "status %d%s; rerun it alone with:\n  %s\n", text ? text : "",
            text && *text && !g_str_has_suffix(text, "\n") ? "\n" : "", c->param, v,
            failed->seed, failed_code,
            failed_code == CLI_EXIT_USAGE ? " (the scenario refuses that value: narrow --range)" : "",
            cmd->str);
    g_string_free(cmd, TRUE);
  }
  return status;
}

/* A number for the table: enough digits to compare with a bound, no more. */
static char *fmt_num(double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  const char *f = v == 0 ? "%.0f" : fabs(v) >= 1000 ? "%.0f" : fabs(v) >= 100 ? "%.1f"
                  : fabs(v) >= 0.01 ? "%.2f" : "%.2g";
  return g_strdup(g_ascii_formatd(buf, sizeof buf, f, v == 0 ? 0 : v));
}

static const char *const fixed_heads[] = {"seed", "result"};

static void print_header(const fit_ctx *c) {
  printf("%*s  %*s", (int)c->width[0], c->param, (int)c->width[1], fixed_heads[0]);
  for (guint k = 0; k < c->metrics->len; k++)
    printf("  %*s", (int)c->width[2 + k], ((fit_metric *)c->metrics->pdata[k])->name);
  printf("  %s\n", fixed_heads[1]);
}

/* The failed targets of a point, "l2_efficiency 64.21 < 70, rdy 12.40 > 5" (transfer full). */
static char *failures(const fit_ctx *c, const fit_point *p) {
  GString *g = g_string_new(NULL);
  for (guint i = 0; i < c->targets->len; i++) {
    const fit_target *t = c->targets->pdata[i];
    if (op_holds(t->op, p->mean[t->metric], t->bound)) continue;
    g_autofree char *v = fmt_num(p->mean[t->metric]);
    char b[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append_printf(g, "%s%s: %s %s %s", g->len ? ", " : "",
                           ((fit_metric *)c->metrics->pdata[t->metric])->name, v, op_failed[t->op],
                           g_ascii_formatd(b, sizeof b, "%.12g", t->bound));
  }
  return g_string_free(g, FALSE);
}

/* One line of the table: a run, or with --repeat a value (mean ± 95% CI half-width). */
static void print_point(const fit_ctx *c, const fit_point *p) {
  g_autofree char *v = value_text(c, p->value);
  const fit_run *r0 = c->runs->pdata[p->first];
  g_autofree char *seeds = c->reps > 1
      ? g_strdup_printf("%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, r0->seed, r0->seed + c->reps - 1)
      : g_strdup_printf("%" G_GUINT64_FORMAT, r0->seed);
  printf("%*s  %*s", (int)c->width[0], v, (int)c->width[1], seeds);
  for (guint k = 0; k < c->metrics->len; k++) {
    g_autofree char *m = fmt_num(p->mean[k]);
    g_autofree char *ci = c->reps > 1 ? fmt_num(p->ci[k]) : NULL;
    g_autofree char *cell = ci ? g_strdup_printf("%s±%s", m, ci) : g_strdup(m);
    /* '±' is two bytes and one column. */
    printf("  %*s", (int)c->width[2 + k] + (ci ? 1 : 0), cell);
  }
  g_autofree char *why = p->pass ? NULL : failures(c, p);
  printf("  %s%s%s%s\n", p->pass ? "pass" : "FAIL", why ? " (" : "", why ? why : "",
         why ? ")" : "");
  fflush(stdout);
}

/* Runs every value of `values` (reps runs each), prints their lines, and records them as
 * points. Returns the exit status of the runs. */
static int run_round(fit_ctx *c, const gint64 *values, guint n, guint round) {
  guint from = c->runs->len;
  for (guint i = 0; i < n; i++)
    for (guint r = 0; r < c->reps; r++) {
      fit_run *run = g_new0(fit_run, 1);
      run->value = values[i];
      run->seed = c->seed + r;
      run->round = round;
      g_autofree char *v = value_text(c, values[i]);
      run->id = g_strdup_printf("%s-s%" G_GUINT64_FORMAT, v, run->seed);
      run->vals = g_new0(double, c->metrics->len);
      g_ptr_array_add(c->runs, run);
    }
  int status = run_batch(c, from);
  if (status != CLI_EXIT_OK) {
    /* Only completed runs stay in fit.csv. */
    g_ptr_array_set_size(c->runs, from);
    return status;
  }
  double t = c->reps > 1 ? gsl_cdf_tdist_Pinv(0.975, c->reps - 1.0) : NAN;
  g_autofree double *x = g_new(double, c->reps);
  for (guint i = 0; i < n; i++) {
    fit_point *p = g_new0(fit_point, 1);
    p->value = values[i];
    p->first = from + i * c->reps;
    p->mean = g_new(double, c->metrics->len);
    p->ci = g_new(double, c->metrics->len);
    for (guint k = 0; k < c->metrics->len; k++) {
      for (guint r = 0; r < c->reps; r++) x[r] = ((fit_run *)c->runs->pdata[p->first + r])->vals[k];
      p->mean[k] = gsl_stats_mean(x, 1, c->reps);
      p->ci[k] = c->reps > 1 ? t * gsl_stats_sd_m(x, 1, c->reps, p->mean[k]) / sqrt(c->reps) : NAN;
    }
    p->pass = TRUE;
    for (guint j = 0; j < c->targets->len; j++) {
      const fit_target *tg = c->targets->pdata[j];
      p->pass &= op_holds(tg->op, p->mean[tg->metric], tg->bound);
    }
    g_ptr_array_add(c->points, p);
    print_point(c, p);
  }
  return CLI_EXIT_OK;
}

/* fit.csv: one row per run in the order run — run, round, the value, seed, every metric, the
 * run's own verdict, its value's verdict (the mean's, with --repeat), its folder. */
static gboolean write_csv(const fit_ctx *c, GError **error) {
  g_autoptr(GString) g = g_string_new(NULL);
  g_string_append_printf(g, "run,round,%s,seed", c->param);
  for (guint k = 0; k < c->metrics->len; k++)
    g_string_append_printf(g, ",%s", ((fit_metric *)c->metrics->pdata[k])->name);
  g_string_append(g, ",run_pass,value_pass,folder\n");
  for (guint i = 0; i < c->runs->len; i++) {
    const fit_run *r = c->runs->pdata[i];
    const fit_point *p = point_of(c, r->value);
    g_autofree char *v = value_text(c, r->value);
    g_string_append_printf(g, "%u,%u,%s,%" G_GUINT64_FORMAT, i + 1, r->round, v, r->seed);
    for (guint k = 0; k < c->metrics->len; k++) {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append_printf(g, ",%s", g_ascii_formatd(buf, sizeof buf, "%.12g",
                                                        r->vals[k] == 0 ? 0 : r->vals[k]));
    }
    g_string_append_printf(g, ",%s,%s,runs/%s\n", r->pass ? "pass" : "fail",
                           p ? (p->pass ? "pass" : "fail") : "", r->id);
  }
  g_autofree char *path = g_build_filename(c->dir, "fit.csv", NULL);
  /* Through a temporary file and a rename: never half a fit.csv. */
  return g_file_set_contents(path, g->str, (gssize)g->len, error);
}

/* ---- The search ------------------------------------------------------------------------- */

/* Up to c->probes values strictly between a and b (a < b - 1), evenly spaced. */
static guint probe_values(const fit_ctx *c, gint64 a, gint64 b, gint64 *out) {
  guint n = 0;
  for (guint i = 1; i <= c->probes; i++) {
    gint64 v = a + (b - a) * (gint64)i / (gint64)(c->probes + 1);
    if (v > a && v < b && (n == 0 || out[n - 1] != v)) out[n++] = v;
  }
  return n;
}

static gint cmp_by_distance(gconstpointer x, gconstpointer y, gpointer from) {
  gint64 f = *(const gint64 *)from;
  gint64 dx = llabs(*(const gint64 *)x - f), dy = llabs(*(const gint64 *)y - f);
  return dx < dy ? -1 : dx > dy;
}

/* Narrows (good, bad) to neighbours. Returns the exit status of the runs. */
static int search(fit_ctx *c, gint64 *good, gint64 *bad) {
  g_autofree gint64 *vals = g_new(gint64, c->probes);
  for (guint round = 2; llabs(*bad - *good) > 1; round++) {
    guint n = probe_values(c, MIN(*good, *bad), MAX(*good, *bad), vals);
    int status = run_round(c, vals, n, round);
    if (status != CLI_EXIT_OK) return status;
    /* Walk from the good end: the last pass before the first fail is the new good end. A pass
     * beyond a fail contradicts monotonicity; the answer then stays on the safe side. */
    g_qsort_with_data(vals, (gint)n, sizeof *vals, cmp_by_distance, good);
    gint64 g = *good, b = *bad;
    gboolean seen_fail = FALSE;
    for (guint i = 0; i < n; i++) {
      const fit_point *p = point_of(c, vals[i]);
      if (p->pass && !seen_fail) {
        g = vals[i];
      } else if (p->pass) {
        g_autofree char *vb = value_text(c, b), *vp = value_text(c, vals[i]);
        g_ptr_array_add(c->notes, g_strdup_printf(
            "not monotonic: %s=%s fails but %s, further from the passing end, passes; the "
            "answer below stays on the near side of %s", c->param, vb, vp, vb));
      } else if (!seen_fail) {
        b = vals[i];
        seen_fail = TRUE;
      }
    }
    *good = g;
    *bad = b;
  }
  return CLI_EXIT_OK;
}

/* ---- Input ------------------------------------------------------------------------------ */

/* "96GB" -> 96 and "GB": digits, then an optional unit of letters. */
static gboolean parse_bound(const char *text, gint64 *v, char **unit) {
  const char *p = text;
  while (g_ascii_isdigit(*p)) p++;
  if (p == text || p - text > 13) return FALSE;
  for (const char *q = p; *q; q++)
    if (!g_ascii_isalpha(*q)) return FALSE;
  g_autofree char *digits = g_strndup(text, (gsize)(p - text));
  guint64 x = 0;
  if (!g_ascii_string_to_unsigned(digits, 10, 0, (guint64)FIT_MAX_VALUE, &x, NULL)) return FALSE;
  *v = (gint64)x;
  *unit = g_strdup(p);
  return TRUE;
}

static gint cmp_strp(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads the scenario with the user's --set values and PARAM=value, as the runs will, so that
 * a value the loader refuses is reported before anything runs. */
static gboolean load_with(const fit_ctx *c, gint64 value) {
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (char **s = c->sets; s && *s; s++) g_strv_builder_add(b, *s);
  g_autofree char *v = value_text(c, value);
  g_autofree char *set = g_strdup_printf("%s=%s", c->param, v);
  g_strv_builder_add(b, set);
  g_auto(GStrv) sets = g_strv_builder_end(b);
  g_autoptr(GError) err = NULL;
  g_autoptr(topo_scenario) scn = scn_load_file_sets(c->scenario, sets, &err);
  if (scn) return TRUE;
  fprintf(stderr, "%s\nnestsim: the scenario refuses %s=%s (above)\n", err->message, c->param, v);
  return FALSE;
}

static void note_l2(topo_vm *vm, void *user) {
  if (vm->layer == 2) *(gboolean *)user = TRUE;
}

/* The answer in one sentence, and the exit status: 0 found (or every value passes), 3 none
 * of the range passes. */
static int conclude(const fit_ctx *c, gint64 lo, gint64 hi, gint64 good, gint64 bad,
                    gboolean found, double secs) {
  g_autofree char *vlo = value_text(c, lo), *vhi = value_text(c, hi);
  g_autofree char *tail = g_strdup_printf("%u run%s, %.1f s", c->runs->len,
                                          c->runs->len == 1 ? "" : "s", secs);
  for (guint i = 0; i < c->notes->len; i++) printf("warning: %s\n", (char *)c->notes->pdata[i]);
  const fit_point *plo = point_of(c, lo), *phi = point_of(c, hi);
  if (found) {
    g_autofree char *vg = value_text(c, good), *vb = value_text(c, bad);
    g_autofree char *why = failures(c, point_of(c, bad));
    printf("%s %s that meets all targets: %s (%s fails %s); %s\n",
           good < bad ? "largest" : "smallest", c->param, vg, vb, why, tail);
    return CLI_EXIT_OK;
  }
  if (plo->pass) {
    printf("every %s from %s to %s meets all targets: both ends pass, so the limit, if any, lies "
           "outside the range (widen --range); %s\n", c->param, vlo, vhi, tail);
    return CLI_EXIT_OK;
  }
  g_autofree char *wlo = failures(c, plo), *whi = failures(c, phi);
  printf("no %s from %s to %s meets all targets: %s fails %s and %s fails %s (with "
         "monotonicity, so does every value between); %s\n",
         c->param, vlo, vhi, vlo, wlo, vhi, whi, tail);
  return CLI_EXIT_NO_FIT;
}

int fit_main(int argc, char **argv) {
  g_auto(GStrv) sets = NULL, target_texts = NULL;
  g_autofree char *vary = NULL, *range = NULL, *seed_text = NULL, *duration = NULL,
                  *out = NULL;
  gint jobs = 0, reps = 1, probes = 1;
  GOptionEntry entries[] = {
      {"vary", 0, 0, G_OPTION_ARG_STRING, &vary, "The parameter to search (a param() of the "
       "scenario with whole values, e.g. nested_hosts, cores, memory)", "PARAM"},
      {"range", 0, 0, G_OPTION_ARG_STRING, &range, "Values to search, ends included, e.g. 1:16 "
       "or 32GB:512GB (default: a quarter of the scenario's default to twice it)", "LO:HI"},
      {"target", 0, 0, G_OPTION_ARG_STRING_ARRAY, &target_texts, "A target each value must meet: "
       "METRIC OP NUMBER or no-swap (default: l2_efficiency>=70 rdy<=5 no-swap)", "EXPR"},
      {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set another scenario parameter",
       "NAME=VALUE"},
      {"seed", 0, 0, G_OPTION_ARG_STRING, &seed_text, "Base seed (default the scenario's)", "N"},
      {"duration", 0, 0, G_OPTION_ARG_STRING, &duration,
       "Simulated time of every run after warm-up, e.g. 2min", "T"},
      {"repeat", 0, 0, G_OPTION_ARG_INT, &reps, "Runs per value, seeds N..N+R-1; a value passes "
       "when the means meet the targets (default 1)", "R"},
      {"probes", 0, 0, G_OPTION_ARG_INT, &probes, "Values per round: 1 bisects, K cuts the "
       "interval into K+1 parts (default 1)", "K"},
      {"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Worker processes (default: the cores)", "N"},
      {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
       "Results folder (default results/SCENARIO-fit-PARAM)", "DIR"},
      {NULL}};
  g_autoptr(GOptionContext) ctx = g_option_context_new("SCENARIO --vary PARAM");
  g_option_context_set_summary(
      ctx, "Finds the largest (load) or smallest (capacity) whole value of a scenario parameter "
           "whose runs meet every target, by bisection over --range, assuming the targets get "
           "monotonically worse in one direction. Writes DIR/fit.csv (one row per run) and "
           "the runs' folders in DIR/runs/.\n\n"
           "Targets: l2_efficiency (mean over the L2 VMs of guest time as a % of their busy "
           "time), rdy (worst %RDY of any vCPU), swap_mb (MB swapped by any host), or any "
           "sweep metric such as mean(kind:vm&layer:2:effective_pct).\n\n"
           "Exit status: 0 answered, 3 no value of the range meets the targets, 1 a run "
           "failed, 2 bad input.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) err = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) return cli_usage_error(ctx, "%s", err->message);
  if (argc != 2) return cli_usage_error(ctx, "fit takes one scenario file");
  if (!vary) return cli_usage_error(ctx, "--vary PARAM is required");
  if (jobs < 0) return cli_usage_error(NULL, "-j: expected a number >= 1, got %d", jobs);
  if (reps < 1 || reps > FIT_MAX_REPEAT)
    return cli_usage_error(NULL, "--repeat: expected 1 to %d, got %d", FIT_MAX_REPEAT, reps);
  if (probes < 1 || probes > FIT_MAX_PROBES)
    return cli_usage_error(NULL, "--probes: expected 1 to %d, got %d", FIT_MAX_PROBES, probes);
  guint64 seed = 0;
  if (seed_text && !g_ascii_string_to_unsigned(seed_text, 10, 0, G_MAXUINT64 / 2, &seed, NULL))
    return cli_usage_error(NULL, "--seed: expected an integer >= 0, got \"%s\"", seed_text);
  if (duration) {
    double ns = 0;
    g_autofree char *why = NULL;
    if (!unit_parse(UNIT_TIME, duration, &ns, &why) || ns < 1)
      return cli_usage_error(NULL, "--duration: %s, got \"%s\"", why ? why : "expected a time > 0",
                         duration);
  }

  /* The targets, checked before anything runs. */
  g_autoptr(GPtrArray) metrics = g_ptr_array_new_with_free_func(metric_free);
  g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(target_free);
  for (char **t = target_texts; t && *t; t++) {
    g_autofree char *why = NULL;
    if (!parse_target(*t, metrics, targets, &why))
      return cli_usage_error(NULL, "--target \"%s\": %s", *t, why);
  }

  /* The scenario as the user sets it: the parameter must be one of its param()s. */
  g_autoptr(GHashTable) user_sets = scn_parse_sets(sets, &err);
  if (!user_sets) return cli_usage_error(NULL, "%s", err->message);
  if (g_hash_table_contains(user_sets, vary))
    return cli_usage_error(NULL, "--set %s: %s is the parameter --vary searches; set it with --range",
                       vary, vary);
  g_autoptr(topo_scenario) scn = scn_load_file_sets(argv[1], sets, &err);
  if (!scn) {
    fprintf(stderr, "%s\n", err->message);
    return CLI_EXIT_USAGE;
  }
  const char *dflt = g_hash_table_lookup(scn->params, vary);
  if (!dflt) {
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, scn->params);
    while (g_hash_table_iter_next(&it, &key, NULL)) g_ptr_array_add(names, key);
    g_ptr_array_sort(names, cmp_strp);
    g_ptr_array_add(names, NULL);
    g_autofree char *list = g_strjoinv(", ", (char **)names->pdata);
    return cli_usage_error(NULL, "--vary %s: no param() of %s reads it; its params are: %s", vary,
                       argv[1], names->len > 1 ? list : "(none)");
  }
  gint64 lo = 0, hi = 0, d = 0;
  g_autofree char *unit = NULL, *unit_hi = NULL, *dunit = NULL;
  gboolean whole_default = parse_bound(dflt, &d, &dunit) && d >= 1;
  if (range) {
    g_auto(GStrv) ends = g_strsplit(range, ":", 3);
    if (g_strv_length(ends) != 2 || !parse_bound(ends[0], &lo, &unit) ||
        !parse_bound(ends[1], &hi, &unit_hi) || strcmp(unit, unit_hi) || lo >= hi)
      return cli_usage_error(NULL, "--range: expected LO:HI, two whole numbers with LO < HI and the "
                         "same unit if any (1:16, 32GB:512GB), got \"%s\"", range);
    if (whole_default && strcmp(unit, dunit))
      return cli_usage_error(NULL, "--range \"%s\": %s's default is \"%s\": give the ends %s%s%s",
                         range, vary, dflt, *dunit ? "in " : "without a unit",
                         *dunit ? dunit : "", *dunit ? " too" : "");
  } else if (whole_default) {
    /* No range in the scenario: from a quarter of its default to twice it. */
    lo = MAX(1, d / 4);
    hi = 2 * d;
    unit = g_strdup(dunit);
  } else {
    return cli_usage_error(NULL, "--vary %s: give --range LO:HI (its default \"%s\" is not a whole "
                       "number, so fit cannot choose one; fit searches whole values)", vary, dflt);
  }
  if (!target_texts) {
    gboolean l2 = FALSE;
    topo_foreach_vm(scn, note_l2, &l2);
    for (const char *const *t = default_targets; *t; t++) {
      if (!l2 && g_str_has_prefix(*t, "l2_")) continue;
      g_autofree char *why = NULL;
      gboolean ok = parse_target(*t, metrics, targets, &why);
      g_assert(ok);
    }
  }

  fit_ctx c = {
      .scenario = argv[1],
      .param = vary,
      .unit = unit,
      .sets = sets,
      .duration = duration,
      .seed = seed_text ? seed : scn->seed,
      .reps = (guint)reps,
      .jobs = jobs ? (guint)jobs : g_get_num_processors(),
      .probes = (guint)probes,
      .metrics = metrics,
      .targets = targets,
      .runs = g_ptr_array_new_with_free_func(run_free),
      .points = g_ptr_array_new_with_free_func(point_free),
      .notes = g_ptr_array_new_with_free_func(g_free),
  };
  g_autoptr(GPtrArray) runs = c.runs, points = c.points, notes = c.notes;
  if (!load_with(&c, lo) || !load_with(&c, hi)) return CLI_EXIT_USAGE;
  g_autofree char *rel = out ? g_strdup(out)
                             : g_strdup_printf("results/%s-fit-%s", scn->name, vary);
  c.dir = g_canonicalize_filename(rel, NULL);
  g_autofree char *dir = c.dir;
  c.bin = g_file_read_link("/proc/self/exe", &err);
  g_autofree char *bin = c.bin;
  if (!bin) return cli_usage_error(NULL, "cannot find the nestsim binary: %s", err->message);
  g_autofree char *runs_dir = g_build_filename(dir, "runs", NULL);
  g_autofree char *logs_dir = g_build_filename(dir, "logs", NULL);
  if (g_mkdir_with_parents(runs_dir, 0755) != 0 || g_mkdir_with_parents(logs_dir, 0755) != 0) {
    fprintf(stderr, "nestsim: cannot create %s: %s\n", dir, g_strerror(errno));
    return CLI_EXIT_RUNTIME;
  }

  /* The header: what is searched, against what, and the assumption. */
  g_autofree char *vlo = value_text(&c, lo), *vhi = value_text(&c, hi);
  double run_ns = (double)scn->duration_ns;
  if (duration) unit_parse(UNIT_TIME, duration, &run_ns, NULL);
  g_autofree char *run_time = unit_format(UNIT_TIME, run_ns);
  printf("fit %s from %s to %s%s in %s: seed %" G_GUINT64_FORMAT ", %s per run, %u run%s per "
         "value\n", vary, vlo, vhi,
         range ? "" : " (default range: a quarter of the default to twice it)", argv[1], c.seed,
         run_time, c.reps, c.reps == 1 ? "" : "s");
  printf("targets:");
  for (guint i = 0; i < targets->len; i++)
    printf(" %s", ((fit_target *)targets->pdata[i])->text);
  if (c.probes == 1)
    printf("\nassumes each target gets monotonically worse in one direction of %s (bisection)\n\n",
           vary);
  else
    printf("\nassumes each target gets monotonically worse in one direction of %s (%u values "
           "per round; a contradiction among them is flagged)\n\n", vary, c.probes);
  g_autofree guint *width = g_new0(guint, 2 + metrics->len);
  c.width = width;
  width[0] = (guint)MAX(strlen(vary), MAX(strlen(vlo), strlen(vhi)));
  g_autofree char *last_seed = g_strdup_printf("%" G_GUINT64_FORMAT, c.seed + c.reps - 1);
  width[1] = (guint)MAX(strlen(fixed_heads[0]), (c.reps > 1 ? 2 : 1) * strlen(last_seed) + (c.reps > 1));
  for (guint k = 0; k < metrics->len; k++)
    width[2 + k] = MAX((guint)strlen(((fit_metric *)metrics->pdata[k])->name), c.reps > 1 ? 14 : 8);
  print_header(&c);

  gint64 t0 = g_get_monotonic_time();
  gint64 ends[2] = {lo, hi};
  int status = run_round(&c, ends, 2, 1);
  gint64 good = 0, bad = 0;
  gboolean found = FALSE;
  if (status == CLI_EXIT_OK && point_of(&c, lo)->pass != point_of(&c, hi)->pass) {
    found = TRUE;
    good = point_of(&c, lo)->pass ? lo : hi;
    bad = good == lo ? hi : lo;
    status = search(&c, &good, &bad);
  }
  g_autoptr(GError) werr = NULL;
  if (!write_csv(&c, &werr)) {
    fprintf(stderr, "nestsim: %s\n", werr->message);
    return CLI_EXIT_RUNTIME;
  }
  if (status != CLI_EXIT_OK) return status;
  putchar('\n');
  int rc = conclude(&c, lo, hi, good, bad, found, (double)(g_get_monotonic_time() - t0) / 1e6);
  printf("wrote %s/fit.csv (the runs' folders: %s/)\n", dir, runs_dir);
  return rc;
}
