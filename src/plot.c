/* plot.c — results folder -> DIR/plots/<figure>.dat -> gnuplot -> PNG and SVG. See plot.h.
 *
 * The C side does all the reading, filtering and averaging, and writes each figure's data as
 * small whitespace-separated files (quoted strings, '?' for a missing value) so that the
 * gnuplot scripts stay short and only draw. A script receives, through `gnuplot -e`, the data
 * folder (datadir), the output file (out), the format (fmt: png or svg), the scripts folder
 * (scripts, for the shared terminal set-up in term.gp) and the few counts and titles it cannot
 * cheaply find out itself. */
#include "src/plot.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/units.h"

G_DEFINE_QUARK(plot-error-quark, plot_error)

void plot_options_init(plot_options *o) {
  *o = (plot_options){.window_s = 0.5, .from_s = -1};
}

/* ---- Reading CSV ----
 * Every file nestsim writes is plain CSV without quoting (entity paths hold no commas), so a
 * split on commas is exact; a row shorter than the header reads as empty cells. */

typedef struct table {
  GStrv header;
  guint ncols;
  GPtrArray *rows; /* GStrv each */
} table;

static void table_free(table *t) {
  if (!t) return;
  g_strfreev(t->header);
  if (t->rows) g_ptr_array_unref(t->rows);
  g_free(t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(table, table_free)

/* NULL with G_FILE_ERROR_NOENT when the file is not there, so callers can skip a figure. */
static table *table_read(const char *path, GError **error) {
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, error)) return NULL;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  if (!lines[0] || !*lines[0]) {
    g_set_error(error, PLOT_ERROR, PLOT_ERROR_INPUT, "%s: empty, expected a header row", path);
    return NULL;
  }
  table *t = g_new0(table, 1);
  t->header = g_strsplit(g_strchomp(lines[0]), ",", -1);
  t->ncols = g_strv_length(t->header);
  t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
  for (guint i = 1; lines[i]; i++) {
    char *l = g_strchomp(lines[i]);
    if (*l) g_ptr_array_add(t->rows, g_strsplit(l, ",", -1));
  }
  return t;
}

static int table_col(const table *t, const char *name) {
  for (guint c = 0; c < t->ncols; c++)
    if (!strcmp(t->header[c], name)) return (int)c;
  return -1;
}

static const char *cell(const table *t, guint r, int c) {
  GStrv row = g_ptr_array_index(t->rows, r);
  if (c < 0 || (guint)c >= g_strv_length(row)) return "";
  return row[c];
}

/* The number in a cell; NAN for an empty or non-numeric one. */
static double cell_num(const table *t, guint r, int c) {
  const char *s = cell(t, r, c);
  if (!*s) return NAN;
  char *end = NULL;
  double v = g_ascii_strtod(s, &end);
  return end && !*end ? v : NAN;
}

static gboolean is_number(const char *s) {
  char *end = NULL;
  if (!*s) return FALSE;
  g_ascii_strtod(s, &end);
  return end && !*end;
}

/* ---- Writing data files ---- */

/* Appends a value, '?' when missing (every script sets `datafile missing '?'`). */
static void put_num(GString *s, double v) {
  if (isnan(v)) {
    g_string_append(s, " ?");
  } else {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append_c(s, ' ');
    g_string_append(s, g_ascii_formatd(buf, sizeof buf, "%.15g", v));
  }
}

/* Appends a gnuplot double-quoted string; a quote or backslash inside becomes '_' because a
 * label is all it is used for. */
static void put_str(GString *s, const char *v) {
  g_string_append(s, " \"");
  for (const char *p = v; *p; p++) g_string_append_c(s, *p == '"' || *p == '\\' ? '_' : *p);
  g_string_append_c(s, '"');
}

static gboolean write_file(const char *path, const GString *s, GError **error) {
  if (g_file_set_contents(path, s->str, (gssize)s->len, error)) return TRUE;
  g_prefix_error(error, "plot: ");
  return FALSE;
}

/* ---- Series over time from metrics.csv ---- */

typedef gboolean (*row_pick)(const table *t, guint r, int layer);

/* Writes a wide file: a header row ("time" and one entity per column), then one row per
 * interval end. Entities are those `pick` accepts (with `layer`) that have a value in column
 * `col`; with `nonzero_only`, an entity whose values are all zero is left out. Returns the
 * number of series written; the file is written only when there is at least one. */
static int write_wide(const table *t, int col, row_pick pick, int layer, gboolean nonzero_only,
                      const char *path, GError **error) {
  if (col < 0) return 0;
  int c_time = table_col(t, "time_s"), c_ent = table_col(t, "entity");
  g_autoptr(GPtrArray) ents = g_ptr_array_new();
  g_autoptr(GHashTable) ent_idx = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(double));
  g_autoptr(GHashTable) time_idx = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint r = 0; r < t->rows->len; r++) {
    const char *ts = cell(t, r, c_time);
    if (!g_hash_table_contains(time_idx, ts)) {
      g_hash_table_insert(time_idx, (gpointer)ts, GUINT_TO_POINTER(times->len));
      double tv = cell_num(t, r, c_time);
      g_array_append_val(times, tv);
    }
    if (!pick(t, r, layer) || isnan(cell_num(t, r, col))) continue;
    const char *e = cell(t, r, c_ent);
    if (!g_hash_table_contains(ent_idx, e)) {
      g_hash_table_insert(ent_idx, (gpointer)e, GUINT_TO_POINTER(ents->len));
      g_ptr_array_add(ents, (gpointer)e);
    }
  }
  guint ne = ents->len, nt = times->len;
  if (ne == 0) return 0;
  g_autofree double *v = g_new(double, (gsize)ne * nt);
  for (gsize i = 0; i < (gsize)ne * nt; i++) v[i] = NAN;
  g_autofree gboolean *nonzero = g_new0(gboolean, ne);
  for (guint r = 0; r < t->rows->len; r++) {
    gpointer ei, ti;
    if (!g_hash_table_lookup_extended(ent_idx, cell(t, r, c_ent), NULL, &ei)) continue;
    if (!pick(t, r, layer)) continue;
    g_hash_table_lookup_extended(time_idx, cell(t, r, c_time), NULL, &ti);
    double x = cell_num(t, r, col);
    v[GPOINTER_TO_UINT(ti) * ne + GPOINTER_TO_UINT(ei)] = x;
    if (!isnan(x) && x != 0) nonzero[GPOINTER_TO_UINT(ei)] = TRUE;
  }
  g_autoptr(GString) s = g_string_new(NULL);
  g_string_append(s, "\"time_s\"");
  int written = 0;
  for (guint e = 0; e < ne; e++) {
    if (nonzero_only && !nonzero[e]) continue;
    put_str(s, g_ptr_array_index(ents, e));
    written++;
  }
  if (written == 0) return 0;
  g_string_append_c(s, '\n');
  for (guint i = 0; i < nt; i++) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append(s, g_ascii_formatd(buf, sizeof buf, "%.15g", g_array_index(times, double, i)));
    for (guint e = 0; e < ne; e++)
      if (!nonzero_only || nonzero[e]) put_num(s, v[(gsize)i * ne + e]);
    g_string_append_c(s, '\n');
  }
  if (!write_file(path, s, error)) return -1;
  return written;
}

static gboolean pick_vm_at_layer(const table *t, guint r, int layer) {
  return !strcmp(cell(t, r, table_col(t, "kind")), "vm") &&
         atoi(cell(t, r, table_col(t, "layer"))) == layer;
}
static gboolean pick_vm(const table *t, guint r, int layer) {
  (void)layer;
  return !strcmp(cell(t, r, table_col(t, "kind")), "vm");
}
static gboolean pick_any(const table *t, guint r, int layer) {
  (void)t, (void)r, (void)layer;
  return TRUE;
}

/* ---- The figures ---- */

/* One gnuplot job: a script and the variables it needs beyond the common ones. */
typedef struct job {
  char *name;   /* the figure's file name without extension */
  char *script; /* file name in the scripts folder */
  char *vars;   /* gnuplot statements run before the script, e.g. "layers='1 2'" */
} job;

static void job_free(gpointer p) {
  job *j = p;
  g_free(j->name);
  g_free(j->script);
  g_free(j->vars);
  g_free(j);
}

static void add_job(GPtrArray *jobs, const char *name, const char *script, char *vars) {
  job *j = g_new(job, 1);
  *j = (job){g_strdup(name), g_strdup(script), vars};
  g_ptr_array_add(jobs, j);
}

/* cpu: cpu-l<L>-{used,rdy,cstp}.dat per layer that has VMs. */
static gboolean prep_cpu(const table *t, const char *pdir, GPtrArray *jobs, GError **error) {
  static const char *const cols[] = {"%USED", "%RDY", "%CSTP"};
  static const char *const tags[] = {"used", "rdy", "cstp"};
  int c_layer = table_col(t, "layer");
  int max_layer = 0;
  for (guint r = 0; r < t->rows->len; r++) max_layer = MAX(max_layer, atoi(cell(t, r, c_layer)));
  g_autoptr(GString) layers = g_string_new(NULL), counts = g_string_new(NULL);
  for (int l = 1; l <= max_layer; l++) {
    int n[3];
    for (int m = 0; m < 3; m++) {
      g_autofree char *name = g_strdup_printf("cpu-l%d-%s.dat", l, tags[m]);
      g_autofree char *path = g_build_filename(pdir, name, NULL);
      n[m] = write_wide(t, table_col(t, cols[m]), pick_vm_at_layer, l, FALSE, path, error);
      if (n[m] < 0) return FALSE;
    }
    /* A layer is drawn when all three series exist; they come from the same rows. */
    if (n[0] > 0 && n[0] == n[1] && n[1] == n[2]) {
      g_string_append_printf(layers, "%s%d", layers->len ? " " : "", l);
      g_string_append_printf(counts, "%s%d", counts->len ? " " : "", n[0]);
    }
  }
  if (layers->len)
    add_job(jobs, "cpu", "cpu.gp",
            g_strdup_printf("layers='%s'; counts='%s'", layers->str, counts->str));
  return TRUE;
}

/* The run's warm-up in seconds from summary.json's top-level `"warmup_s": N,` line (out.c
 * writes one value per line); 0 when the file or the line is missing. */
static double summary_warmup_s(const char *dir) {
  g_autofree char *path = g_build_filename(dir, "summary.json", NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL)) return 0;
  g_autoptr(GRegex) re =
      g_regex_new("^  \"warmup_s\": ([-+0-9.eE]+),?$", G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GMatchInfo) m = NULL;
  if (!g_regex_match(re, text, 0, &m)) return 0;
  g_autofree char *v = g_match_info_fetch(m, 1);
  return g_ascii_strtod(v, NULL);
}

/* attribution: one row per nested VM (layer >= 2; every VM with attribution when nothing is
 * nested), the mean of its interval rows after the warm-up per attr_*_pct column. The
 * intervals are of equal length, so the mean of the rows is the share over the measured time,
 * the same figure as the summary's attr_*_pct. Columns that are zero for every VM are left out
 * so the key lists only causes that occur. */
static gboolean prep_attribution(const table *t, const char *dir, const char *pdir,
                                 GPtrArray *jobs, GError **error) {
  /* A row is stamped with the end of its interval: rows at or before the warm-up's end
   * measured the warm-up. A small tolerance absorbs the 9 significant digits of time_s. */
  double warmup_s = summary_warmup_s(dir);
  int c_time = table_col(t, "time_s");
  g_autoptr(GArray) acols = g_array_new(FALSE, FALSE, sizeof(int));
  for (guint c = 0; c < t->ncols; c++)
    if (g_str_has_prefix(t->header[c], "attr_") && g_str_has_suffix(t->header[c], "_pct")) {
      int ci = (int)c;
      g_array_append_val(acols, ci);
    }
  if (acols->len == 0) return TRUE;
  guint na = acols->len;
  int c_ent = table_col(t, "entity"), c_kind = table_col(t, "kind"),
      c_layer = table_col(t, "layer");
  for (int min_layer = 2; min_layer >= 0; min_layer -= 2) {
    g_autoptr(GPtrArray) vms = g_ptr_array_new();
    g_autoptr(GHashTable) idx = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GArray) sum = g_array_new(FALSE, TRUE, sizeof(double));
    g_autoptr(GArray) cnt = g_array_new(FALSE, TRUE, sizeof(int));
    for (guint r = 0; r < t->rows->len; r++) {
      if (strcmp(cell(t, r, c_kind), "vm") || atoi(cell(t, r, c_layer)) < min_layer) continue;
      if (isnan(cell_num(t, r, g_array_index(acols, int, 0)))) continue;
      if (cell_num(t, r, c_time) <= warmup_s + 1e-6) continue;
      const char *e = cell(t, r, c_ent);
      gpointer ip;
      if (!g_hash_table_lookup_extended(idx, e, NULL, &ip)) {
        ip = GUINT_TO_POINTER(vms->len);
        g_hash_table_insert(idx, (gpointer)e, ip);
        g_ptr_array_add(vms, (gpointer)e);
        g_array_set_size(sum, vms->len * na);
        g_array_set_size(cnt, vms->len);
      }
      guint i = GPOINTER_TO_UINT(ip);
      for (guint a = 0; a < na; a++) {
        double x = cell_num(t, r, g_array_index(acols, int, a));
        g_array_index(sum, double, i * na + a) += isnan(x) ? 0 : x;
      }
      g_array_index(cnt, int, i)++;
    }
    if (vms->len == 0) continue;
    g_autofree gboolean *keep = g_new0(gboolean, na);
    for (guint i = 0; i < vms->len; i++)
      for (guint a = 0; a < na; a++)
        if (g_array_index(sum, double, i * na + a) != 0) keep[a] = TRUE;
    g_autoptr(GString) s = g_string_new("\"vm\"");
    int ncols = 1;
    for (guint a = 0; a < na; a++) {
      if (!keep[a]) continue;
      const char *h = t->header[g_array_index(acols, int, a)];
      g_autofree char *label = g_strndup(h + 5, strlen(h) - 5 - 4);
      put_str(s, label);
      ncols++;
    }
    g_string_append_c(s, '\n');
    for (guint i = 0; i < vms->len; i++) {
      g_string_append(s, "\"");
      g_string_append(s, g_ptr_array_index(vms, i));
      g_string_append(s, "\"");
      for (guint a = 0; a < na; a++)
        if (keep[a])
          put_num(s, g_array_index(sum, double, i * na + a) / g_array_index(cnt, int, i));
      g_string_append_c(s, '\n');
    }
    g_autofree char *path = g_build_filename(pdir, "attribution.dat", NULL);
    if (!write_file(path, s, error)) return FALSE;
    add_job(jobs, "attribution", "attribution.gp",
            g_strdup_printf("ncols=%d; nvms=%u; nested=%d", ncols, vms->len, min_layer == 2));
    return TRUE;
  }
  return TRUE;
}

/* Drop counts by reason per entity from summary.json, read line by line: out.c writes one
 * entity per `"path": {` line and one value per line, so no JSON parser is needed for the
 * `"drop_<reason>": N` keys. Writes net-reasons.dat (entities with drops only) and returns the
 * number of reason columns, 0 when there is nothing to draw. */
static int prep_drop_reasons(const char *dir, const char *pdir, GError **error) {
  g_autofree char *path = g_build_filename(dir, "summary.json", NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL)) return 0;
  g_autoptr(GRegex) ent_re = g_regex_new("^\\s*\"([^\"]+)\": \\{\\s*$", 0, 0, NULL);
  g_autoptr(GRegex) drop_re =
      g_regex_new("^\\s*\"drop_([A-Za-z0-9_]+)\": ([-+0-9.eE]+),?\\s*$", 0, 0, NULL);
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) ents = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) vals = g_array_new(FALSE, TRUE, sizeof(double)); /* ents x reasons, grown */
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  char *cur = NULL;
  for (guint i = 0; lines[i]; i++) {
    g_autoptr(GMatchInfo) m = NULL;
    if (g_regex_match(ent_re, lines[i], 0, &m)) {
      g_free(cur);
      cur = g_match_info_fetch(m, 1);
      continue;
    }
    g_clear_pointer(&m, g_match_info_free);
    if (!cur || !g_regex_match(drop_re, lines[i], 0, &m)) continue;
    g_autofree char *reason = g_match_info_fetch(m, 1);
    g_autofree char *num = g_match_info_fetch(m, 2);
    guint ri = 0;
    while (ri < reasons->len && strcmp(g_ptr_array_index(reasons, ri), reason)) ri++;
    if (ri == reasons->len) g_ptr_array_add(reasons, g_strdup(reason));
    if (!ents->len || strcmp(g_ptr_array_index(ents, ents->len - 1), cur))
      g_ptr_array_add(ents, g_strdup(cur));
    /* Reasons are at most a handful: a fixed stride of 32 keeps the table simple. */
    if (ri >= 32) continue;
    g_array_set_size(vals, ents->len * 32);
    g_array_index(vals, double, (ents->len - 1) * 32 + ri) = g_ascii_strtod(num, NULL);
  }
  g_free(cur);
  guint nr = MIN(reasons->len, 32);
  /* Only the reasons that dropped something, so the key lists what happened. */
  gboolean used[32] = {FALSE};
  int nused = 0;
  for (guint r = 0; r < nr; r++) {
    for (guint e = 0; e < ents->len && !used[r]; e++)
      used[r] = g_array_index(vals, double, e * 32 + r) > 0;
    nused += used[r];
  }
  if (nused == 0) return 0;
  g_autoptr(GString) s = g_string_new("\"entity\"");
  for (guint r = 0; r < nr; r++)
    if (used[r]) put_str(s, g_ptr_array_index(reasons, r));
  g_string_append_c(s, '\n');
  for (guint e = 0; e < ents->len; e++) {
    double tot = 0;
    for (guint r = 0; r < nr; r++) tot += g_array_index(vals, double, e * 32 + r);
    if (tot <= 0) continue;
    g_string_append_printf(s, "\"%s\"", (char *)g_ptr_array_index(ents, e));
    for (guint r = 0; r < nr; r++)
      if (used[r]) put_num(s, g_array_index(vals, double, e * 32 + r));
    g_string_append_c(s, '\n');
  }
  g_autofree char *out = g_build_filename(pdir, "net-reasons.dat", NULL);
  if (!write_file(out, s, error)) return -1;
  return nused;
}

/* Drops by reason over time, when metrics.csv has per-reason columns (DROP_<reason>/s): each
 * reason summed over the entities at each interval end, reasons that never dropped left out.
 * Writes net-reasons-time.dat and returns the number of reasons, 0 when there is none. */
static int prep_drop_reasons_time(const table *t, const char *pdir, GError **error) {
  int c_time = table_col(t, "time_s");
  g_autoptr(GArray) cols = g_array_new(FALSE, FALSE, sizeof(int));
  for (guint c = 0; c < t->ncols; c++)
    if (g_str_has_prefix(t->header[c], "DROP_") && g_str_has_suffix(t->header[c], "/s")) {
      int ci = (int)c;
      g_array_append_val(cols, ci);
    }
  guint nc = cols->len;
  if (nc == 0) return 0;
  /* Sums per interval end, in order of first appearance of the time. */
  g_autoptr(GPtrArray) times = g_ptr_array_new();
  g_autoptr(GArray) sums = g_array_new(FALSE, TRUE, sizeof(double));
  g_autofree gboolean *used = g_new0(gboolean, nc);
  for (guint r = 0; r < t->rows->len; r++) {
    const char *ts = cell(t, r, c_time);
    guint ti = 0;
    if (!g_ptr_array_find_with_equal_func(times, ts, g_str_equal, &ti)) {
      ti = times->len;
      g_ptr_array_add(times, (gpointer)ts);
      g_array_set_size(sums, times->len * nc);
    }
    for (guint k = 0; k < nc; k++) {
      double x = cell_num(t, r, g_array_index(cols, int, k));
      if (isnan(x)) continue;
      g_array_index(sums, double, ti * nc + k) += x;
      if (x != 0) used[k] = TRUE;
    }
  }
  int nused = 0;
  g_autoptr(GString) s = g_string_new("\"time_s\"");
  for (guint k = 0; k < nc; k++) {
    if (!used[k]) continue;
    const char *h = t->header[g_array_index(cols, int, k)];
    g_autofree char *reason = g_strndup(h + 5, strlen(h) - 5 - 2);
    put_str(s, reason);
    nused++;
  }
  if (nused == 0) return 0;
  g_string_append_c(s, '\n');
  for (guint i = 0; i < times->len; i++) {
    g_string_append(s, times->pdata[i]);
    for (guint k = 0; k < nc; k++)
      if (used[k]) put_num(s, g_array_index(sums, double, i * nc + k));
    g_string_append_c(s, '\n');
  }
  g_autofree char *out = g_build_filename(pdir, "net-reasons-time.dat", NULL);
  return write_file(out, s, error) ? nused : -1;
}

/* network: DROP/s over time for every entity that dropped a frame, the drops by reason over
 * time when metrics.csv splits them, and the totals by reason per entity from summary.json. */
static gboolean prep_network(const table *t, const char *dir, const char *pdir, GPtrArray *jobs,
                             GError **error) {
  g_autofree char *path = g_build_filename(pdir, "net-drops.dat", NULL);
  int n = write_wide(t, table_col(t, "DROP/s"), pick_any, 0, TRUE, path, error);
  if (n < 0) return FALSE;
  if (n == 0) return TRUE;
  int nrt = prep_drop_reasons_time(t, pdir, error);
  if (nrt < 0) return FALSE;
  int nr = prep_drop_reasons(dir, pdir, error);
  if (nr < 0) return FALSE;
  add_job(jobs, "network", "network.gp",
          g_strdup_printf("nseries=%d; nrtime=%d; nreasons=%d", n, nrt, nr));
  return TRUE;
}

/* memory: MEMSTATE of every hypervisor and SWCUR (MB) of every VM over time, when the memory
 * model wrote them. */
static gboolean prep_memory(const table *t, const char *pdir, GPtrArray *jobs, GError **error) {
  g_autofree char *sp = g_build_filename(pdir, "mem-state.dat", NULL);
  g_autofree char *wp = g_build_filename(pdir, "mem-swap.dat", NULL);
  int ns = write_wide(t, table_col(t, "MEMSTATE"), pick_any, 0, FALSE, sp, error);
  if (ns < 0) return FALSE;
  int nw = write_wide(t, table_col(t, "SWCUR"), pick_vm, 0, FALSE, wp, error);
  if (nw < 0) return FALSE;
  if (ns > 0 || nw > 0)
    add_job(jobs, "memory", "memory.gp", g_strdup_printf("nstate=%d; nswap=%d", ns, nw));
  return TRUE;
}

typedef struct slice {
  int layer;
  const char *vcpu, *cpu;
  double start, end, exec;
} slice;

static int cmp_str_ptr(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a table of strings, sorted (the table keeps ownership of them). */
static GPtrArray *sorted_keys(GHashTable *h) {
  GPtrArray *a = g_ptr_array_sized_new(g_hash_table_size(h));
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, h);
  while (g_hash_table_iter_next(&it, &k, NULL)) g_ptr_array_add(a, k);
  g_ptr_array_sort(a, cmp_str_ptr);
  return a;
}

/* timeline: trace.csv clipped to [from, from + window). Rows are the traced vCPUs, by layer
 * then name; each slice is a hatched bar from its start to its end coloured by the CPU it held
 * (timeline.dat), with the stretches the vCPU really executed drawn solid on top
 * (timeline-exec.dat). When the CPU a slice held is itself a traced vCPU (an L2 vCPU on its
 * nested host's vCPU), those stretches are exactly where the slice overlaps that vCPU's own
 * slices: the rest is the L2 vCPU stalled while its nested host's vCPU waits on L0. Otherwise
 * the trace only says how long the vCPU executed, not when, and that share is drawn first. */
static gboolean prep_timeline(const char *dir, const char *pdir, const plot_options *o,
                              GPtrArray *jobs, GError **error) {
  g_autofree char *path = g_build_filename(dir, "trace.csv", NULL);
  /* A --trace that matched nothing leaves an empty trace: no timeline, not an error. */
  GStatBuf st;
  if (g_stat(path, &st) != 0 || st.st_size == 0) return TRUE;
  g_autoptr(GError) err = NULL;
  g_autoptr(table) t = table_read(path, &err);
  if (!t) {
    g_propagate_error(error, g_steal_pointer(&err));
    return FALSE;
  }
  int c[6] = {table_col(t, "layer"), table_col(t, "vcpu"), table_col(t, "cpu"),
              table_col(t, "start_s"), table_col(t, "end_s"), table_col(t, "executing_s")};
  for (int i = 0; i < 6; i++)
    if (c[i] < 0) {
      g_set_error(error, PLOT_ERROR, PLOT_ERROR_INPUT,
                  "%s: expected the columns layer,vcpu,cpu,start_s,end_s,executing_s", path);
      return FALSE;
    }
  double from = o->from_s;
  if (from < 0) {
    from = INFINITY;
    for (guint r = 0; r < t->rows->len; r++) from = MIN(from, cell_num(t, r, c[3]));
    if (!isfinite(from)) return TRUE;
  }
  double len = o->window_s > 0 ? o->window_s : 0.5, to = from + len;
  g_autoptr(GArray) sl = g_array_new(FALSE, FALSE, sizeof(slice));
  g_autoptr(GHashTable) vset = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GHashTable) cset = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint r = 0; r < t->rows->len; r++) {
    slice x = {atoi(cell(t, r, c[0])), cell(t, r, c[1]), cell(t, r, c[2]),
               cell_num(t, r, c[3]), cell_num(t, r, c[4]), cell_num(t, r, c[5])};
    if (isnan(x.start) || isnan(x.end) || x.end <= from || x.start >= to) continue;
    g_array_append_val(sl, x);
    g_hash_table_insert(vset, (gpointer)x.vcpu, GINT_TO_POINTER(x.layer));
    g_hash_table_add(cset, (gpointer)x.cpu);
  }
  if (sl->len == 0) return TRUE;
  /* The slices of every traced vCPU, over the whole trace, by name: where it held a CPU. */
  g_autoptr(GHashTable) held = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                     (GDestroyNotify)g_array_unref);
  for (guint r = 0; r < t->rows->len; r++) {
    const char *v = cell(t, r, c[1]);
    GArray *a = g_hash_table_lookup(held, v);
    if (!a) g_hash_table_insert(held, (gpointer)v, a = g_array_new(FALSE, FALSE, sizeof(double)));
    double se[2] = {cell_num(t, r, c[3]), cell_num(t, r, c[4])};
    g_array_append_vals(a, se, 2);
  }
  /* Rows: layer ascending (L1 at the bottom, nearest the hardware), then by name. */
  g_autoptr(GPtrArray) vcpus = sorted_keys(vset);
  g_autoptr(GPtrArray) rows = g_ptr_array_new();
  int min_layer = G_MAXINT, max_layer = 0;
  GHashTableIter it;
  gpointer k, lv;
  g_hash_table_iter_init(&it, vset);
  while (g_hash_table_iter_next(&it, &k, &lv)) {
    min_layer = MIN(min_layer, GPOINTER_TO_INT(lv));
    max_layer = MAX(max_layer, GPOINTER_TO_INT(lv));
  }
  double split = -1;
  for (int l = min_layer; l <= max_layer; l++) {
    if (l > min_layer && rows->len) split = rows->len - 0.5;
    for (guint i = 0; i < vcpus->len; i++)
      if (GPOINTER_TO_INT(g_hash_table_lookup(vset, vcpus->pdata[i])) == l)
        g_ptr_array_add(rows, vcpus->pdata[i]);
  }
  g_autoptr(GHashTable) row_of = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < rows->len; i++)
    g_hash_table_insert(row_of, rows->pdata[i], GUINT_TO_POINTER(i));
  g_autoptr(GPtrArray) cpus = sorted_keys(cset);
  g_autoptr(GHashTable) color_of = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < cpus->len; i++)
    g_hash_table_insert(color_of, cpus->pdata[i], GUINT_TO_POINTER(i + 1));

  g_autoptr(GString) s =
      g_string_new("# row start_s end_s cpu_colour layer \"vcpu\" \"label\"\n");
  g_autoptr(GString) ex = g_string_new("# row start_s end_s cpu_colour\n");
  for (guint i = 0; i < sl->len; i++) {
    const slice *x = &g_array_index(sl, slice, i);
    double a = MAX(x->start, from), b = MIN(x->end, to);
    guint row = GPOINTER_TO_UINT(g_hash_table_lookup(row_of, x->vcpu));
    guint colour = GPOINTER_TO_UINT(g_hash_table_lookup(color_of, x->cpu));
    GArray *parent = g_hash_table_lookup(held, x->cpu);
    for (guint j = 0; parent && j < parent->len; j += 2) {
      double pa = MAX(a, g_array_index(parent, double, j));
      double pb = MIN(b, g_array_index(parent, double, j + 1));
      if (pb <= pa) continue;
      g_string_append_printf(ex, "%u", row);
      put_num(ex, pa);
      put_num(ex, pb);
      g_string_append_printf(ex, " %u\n", colour);
    }
    if (!parent) {
      double share = x->end > x->start ? CLAMP(x->exec / (x->end - x->start), 0, 1) : 0;
      g_string_append_printf(ex, "%u", row);
      put_num(ex, a);
      put_num(ex, a + (b - a) * share);
      g_string_append_printf(ex, " %u\n", colour);
    }
    g_string_append_printf(s, "%u", row);
    put_num(s, a);
    put_num(s, b);
    g_string_append_printf(s, " %u %d", colour, x->layer);
    put_str(s, x->vcpu);
    /* The CPU's name inside the bar, when the bar is wide enough to hold it. */
    const char *base = strrchr(x->cpu, '/');
    put_str(s, b - a > len / 12 ? (base ? base + 1 : x->cpu) : "");
    g_string_append_c(s, '\n');
  }
  g_autofree char *out = g_build_filename(pdir, "timeline.dat", NULL);
  g_autofree char *exout = g_build_filename(pdir, "timeline-exec.dat", NULL);
  if (!write_file(out, s, error) || !write_file(exout, ex, error)) return FALSE;
  char fb[G_ASCII_DTOSTR_BUF_SIZE], tb[G_ASCII_DTOSTR_BUF_SIZE], sb[G_ASCII_DTOSTR_BUF_SIZE];
  add_job(jobs, "timeline", "timeline.gp",
          g_strdup_printf("t0=%s; t1=%s; nrows=%u; split=%s",
                          g_ascii_formatd(fb, sizeof fb, "%.15g", from),
                          g_ascii_formatd(tb, sizeof tb, "%.15g", to), rows->len,
                          g_ascii_formatd(sb, sizeof sb, "%.1f", split)));
  return TRUE;
}

/* sweep: sweep.csv's axis columns come before `n`, then <metric>_mean, _sd, _ci95. The figure
 * is y's mean against x with the 95% interval as error bars, one line per value of `by`;
 * every other axis is held at its value in the first row (named in the title), since a line
 * through points that differ in a third parameter would mean nothing. */
static gboolean prep_sweep(const char *dir, const char *pdir, const plot_options *o,
                           GPtrArray *jobs, GError **error) {
  g_autofree char *path = g_build_filename(dir, "sweep.csv", NULL);
  g_autoptr(table) t = table_read(path, error);
  if (!t) return FALSE;
  int c_n = table_col(t, "n");
  if (c_n < 1 || t->rows->len == 0) {
    g_set_error(error, PLOT_ERROR, PLOT_ERROR_INPUT,
                "%s: expected axis columns, then n, then <metric>_mean,_sd,_ci95, and rows", path);
    return FALSE;
  }
  g_autoptr(GPtrArray) metrics = g_ptr_array_new_with_free_func(g_free);
  for (guint c = (guint)c_n + 1; c < t->ncols; c++)
    if (g_str_has_suffix(t->header[c], "_mean"))
      g_ptr_array_add(metrics, g_strndup(t->header[c], strlen(t->header[c]) - 5));
  if (metrics->len == 0) {
    g_set_error(error, PLOT_ERROR, PLOT_ERROR_INPUT, "%s: no <metric>_mean column", path);
    return FALSE;
  }
  const char *x = o->x ? o->x : t->header[0];
  const char *y = o->y ? o->y : metrics->pdata[0];
  /* The default second axis is the first axis that is not x; none when there is one axis. */
  const char *by = o->by;
  if (!by) by = c_n < 2 ? "" : strcmp(x, t->header[0]) ? t->header[0] : t->header[1];
  int cx = table_col(t, x), cb = *by ? table_col(t, by) : -1;
  g_autofree char *mean_name = g_strdup_printf("%s_mean", y);
  g_autofree char *ci_name = g_strdup_printf("%s_ci95", y);
  int cm = table_col(t, mean_name), cci = table_col(t, ci_name);
  g_autoptr(GString) axes = g_string_new(NULL), mets = g_string_new(NULL);
  for (int c = 0; c < c_n; c++) g_string_append_printf(axes, "%s%s", c ? ", " : "", t->header[c]);
  for (guint i = 0; i < metrics->len; i++)
    g_string_append_printf(mets, "%s%s", i ? ", " : "", (char *)metrics->pdata[i]);
  if (cx < 0 || cx >= c_n || (*by && (cb < 0 || cb >= c_n || cb == cx))) {
    g_set_error(error, PLOT_ERROR, PLOT_ERROR_INPUT,
                "sweep plot: --x and --by must be two different axes of %s: %s", path, axes->str);
    return FALSE;
  }
  if (cm < 0) {
    g_set_error(error, PLOT_ERROR, PLOT_ERROR_INPUT,
                "sweep plot: --y '%s' is not a metric of %s: %s", y, path, mets->str);
    return FALSE;
  }
  /* Rows with every other axis at its first-row value. */
  g_autoptr(GString) held = g_string_new(NULL);
  for (int c = 0; c < c_n; c++)
    if (c != cx && c != cb)
      g_string_append_printf(held, "%s%s=%s", held->len ? ", " : "", t->header[c], cell(t, 0, c));
  g_autoptr(GArray) keep = g_array_new(FALSE, FALSE, sizeof(guint));
  gboolean x_numeric = TRUE;
  for (guint r = 0; r < t->rows->len; r++) {
    gboolean ok = TRUE;
    for (int c = 0; c < c_n && ok; c++)
      if (c != cx && c != cb && strcmp(cell(t, r, c), cell(t, 0, c))) ok = FALSE;
    if (!ok) continue;
    g_array_append_val(keep, r);
    if (!is_number(cell(t, r, cx))) x_numeric = FALSE;
  }
  /* Groups by the value of `by` in order of first appearance; x categories likewise. */
  g_autoptr(GPtrArray) groups = g_ptr_array_new();
  g_autoptr(GPtrArray) xcats = g_ptr_array_new();
  for (guint i = 0; i < keep->len; i++) {
    guint r = g_array_index(keep, guint, i);
    const char *g = cb >= 0 ? cell(t, r, cb) : "";
    if (!g_ptr_array_find_with_equal_func(groups, g, g_str_equal, NULL))
      g_ptr_array_add(groups, (gpointer)g);
    const char *xc = cell(t, r, cx);
    if (!g_ptr_array_find_with_equal_func(xcats, xc, g_str_equal, NULL))
      g_ptr_array_add(xcats, (gpointer)xc);
  }
  g_autoptr(GString) s = g_string_new(NULL);
  g_autoptr(GString) titles = g_string_new(NULL);
  for (guint gi = 0; gi < groups->len; gi++) {
    const char *g = groups->pdata[gi];
    if (gi) g_string_append(s, "\n\n");
    g_string_append_printf(s, "# %s=%s\n", cb >= 0 ? by : "all", g);
    g_autofree char *title = cb >= 0 ? g_strdup_printf("%s=%s", by, g) : g_strdup(y);
    g_strdelimit(title, " '\"", '_');
    g_string_append_printf(titles, "%s%s", gi ? " " : "", title);
    /* Points in x order: numeric x sorted by value, categorical in order of appearance. */
    g_autoptr(GArray) pts = g_array_new(FALSE, FALSE, sizeof(double) * 3);
    g_autoptr(GPtrArray) labels = g_ptr_array_new();
    for (guint i = 0; i < keep->len; i++) {
      guint r = g_array_index(keep, guint, i);
      if (cb >= 0 && strcmp(cell(t, r, cb), g)) continue;
      guint xi = 0;
      g_ptr_array_find_with_equal_func(xcats, cell(t, r, cx), g_str_equal, &xi);
      double ci = cell_num(t, r, cci);
      double p[3] = {x_numeric ? cell_num(t, r, cx) : (double)xi, cell_num(t, r, cm),
                     isnan(ci) ? 0 : ci};
      guint at = 0;
      while (at < pts->len && ((double *)(void *)pts->data)[at * 3] <= p[0]) at++;
      g_array_insert_vals(pts, at, p, 1);
      g_ptr_array_insert(labels, (gint)at, (gpointer)cell(t, r, cx));
    }
    for (guint i = 0; i < pts->len; i++) {
      const double *p = (const double *)(void *)pts->data + i * 3;
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append(s, g_ascii_formatd(buf, sizeof buf, "%.15g", p[0]));
      put_num(s, p[1]);
      put_num(s, p[2]);
      put_str(s, labels->pdata[i]);
      g_string_append_c(s, '\n');
    }
  }
  /* Each pair of x and y gets its own data file next to its figure. */
  g_autofree char *name = g_strdup_printf("sweep-%s-vs-%s", y, x);
  g_strcanon(name, G_CSET_A_2_Z G_CSET_a_2_z G_CSET_DIGITS "-_", '_');
  g_autofree char *data = g_strdup_printf("%s.dat", name);
  g_autofree char *out = g_build_filename(pdir, data, NULL);
  if (!write_file(out, s, error)) return FALSE;
  g_autofree char *xl = g_strdup(x), *yl = g_strdup(y), *hl = g_strdup(held->str);
  g_autofree char *tl = g_strdup(o->title ? o->title : "");
  g_autofree char *ll = g_strdup(o->ylabel ? o->ylabel : "");
  /* The texts go into gnuplot between single quotes, where nothing but a quote is special. */
  g_strdelimit(xl, "'", '_');
  g_strdelimit(yl, "'", '_');
  g_strdelimit(hl, "'", '_');
  g_strdelimit(tl, "'", '_');
  g_strdelimit(ll, "'", '_');
  add_job(jobs, name, "sweep.gp",
          g_strdup_printf("data='%s'; ngroups=%u; titles='%s'; xname='%s'; yname='%s'; "
                          "held='%s'; title='%s'; ylabel='%s'",
                          data, groups->len, titles->str, xl, yl, hl, tl, ll));
  return TRUE;
}

/* ---- Running gnuplot ---- */

/* The scripts folder: the option, $NESTSIM_SCRIPTS, then next to the program (the build
 * folder sits in the source tree, an install puts them in share/nestsim/scripts), then
 * ./scripts. */
static char *find_scripts(const plot_options *o) {
  if (o->scripts) return g_strdup(o->scripts);
  const char *env = g_getenv("NESTSIM_SCRIPTS");
  if (env && *env) return g_strdup(env);
  g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
  if (exe) {
    g_autofree char *bindir = g_path_get_dirname(exe);
    const char *const rel[] = {"../scripts", "../../scripts", "../share/nestsim/scripts"};
    for (guint i = 0; i < G_N_ELEMENTS(rel); i++) {
      g_autofree char *d = g_build_filename(bindir, rel[i], NULL);
      g_autofree char *probe = g_build_filename(d, "cpu.gp", NULL);
      if (g_file_test(probe, G_FILE_TEST_IS_REGULAR)) return g_canonicalize_filename(d, NULL);
    }
  }
  return g_canonicalize_filename("scripts", NULL);
}

/* A gnuplot single-quoted string: a quote inside is written twice. */
static char *gp_quote(const char *s) {
  GString *q = g_string_new("'");
  for (const char *p = s; *p; p++) {
    if (*p == '\'') g_string_append_c(q, '\'');
    g_string_append_c(q, *p);
  }
  g_string_append_c(q, '\'');
  return g_string_free(q, FALSE);
}

static gboolean render(const char *gnuplot, const char *scripts, const char *pdir, const job *j,
                       GPtrArray *figures, GError **error) {
  static const char *const fmts[] = {"png", "svg"};
  g_autofree char *script = g_build_filename(scripts, j->script, NULL);
  if (!g_file_test(script, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, PLOT_ERROR, PLOT_ERROR_INPUT,
                "plot: no gnuplot script %s (set NESTSIM_SCRIPTS to the scripts/ folder)", script);
    return FALSE;
  }
  for (guint f = 0; f < G_N_ELEMENTS(fmts); f++) {
    g_autofree char *file = g_strdup_printf("%s.%s", j->name, fmts[f]);
    g_autofree char *out = g_build_filename(pdir, file, NULL);
    g_autofree char *qd = gp_quote(pdir), *qo = gp_quote(out), *qs = gp_quote(scripts);
    g_autofree char *vars = g_strdup_printf("datadir=%s; out=%s; fmt='%s'; scripts=%s; %s", qd,
                                            qo, fmts[f], qs, j->vars);
    const char *argv[] = {gnuplot, "-e", vars, script, NULL};
    g_autofree char *err_text = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                      &err_text, &status, error))
      return FALSE;
    if (!g_spawn_check_wait_status(status, NULL) || !g_file_test(out, G_FILE_TEST_IS_REGULAR)) {
      /* gnuplot opens its output before it draws: a failed figure would be left empty. */
      g_unlink(out);
      g_set_error(error, PLOT_ERROR, PLOT_ERROR_GNUPLOT, "plot: gnuplot %s failed for %s:\n%s",
                  j->script, out, err_text ? err_text : "");
      return FALSE;
    }
    if (figures) g_ptr_array_add(figures, g_steal_pointer(&out));
  }
  return TRUE;
}

gboolean plot_dir(const char *dir, const plot_options *opts, GPtrArray *figures, GError **error) {
  plot_options defaults;
  plot_options_init(&defaults);
  const plot_options *o = opts ? opts : &defaults;
  g_autofree char *metrics = g_build_filename(dir, "metrics.csv", NULL);
  g_autofree char *trace = g_build_filename(dir, "trace.csv", NULL);
  g_autofree char *sweep = g_build_filename(dir, "sweep.csv", NULL);
  gboolean has_m = g_file_test(metrics, G_FILE_TEST_IS_REGULAR);
  gboolean has_t = g_file_test(trace, G_FILE_TEST_IS_REGULAR);
  gboolean has_s = g_file_test(sweep, G_FILE_TEST_IS_REGULAR);
  if (!has_m && !has_t && !has_s) {
    g_set_error(error, PLOT_ERROR, PLOT_ERROR_INPUT,
                "plot: %s holds no metrics.csv, trace.csv or sweep.csv (a folder written by "
                "nestsim run or nestsim sweep)",
                dir);
    return FALSE;
  }
  g_autofree char *pdir = g_build_filename(dir, "plots", NULL);
  if (g_mkdir_with_parents(pdir, 0755) != 0) {
    int e = errno;
    g_set_error(error, PLOT_ERROR, PLOT_ERROR_IO, "plot: cannot create %s: %s", pdir,
                g_strerror(e));
    return FALSE;
  }
  g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func(job_free);
  if (has_m) {
    g_autoptr(table) t = table_read(metrics, error);
    if (!t) return FALSE;
    const char *need[] = {"time_s", "entity", "kind", "layer"};
    for (guint i = 0; i < G_N_ELEMENTS(need); i++)
      if (table_col(t, need[i]) < 0) {
        g_set_error(error, PLOT_ERROR, PLOT_ERROR_INPUT,
                    "%s: no column %s (expected time_s,entity,kind,layer,...)", metrics, need[i]);
        return FALSE;
      }
    if (!prep_cpu(t, pdir, jobs, error) || !prep_attribution(t, dir, pdir, jobs, error) ||
        !prep_network(t, dir, pdir, jobs, error) || !prep_memory(t, pdir, jobs, error))
      return FALSE;
  }
  if (has_t && !prep_timeline(dir, pdir, o, jobs, error)) return FALSE;
  if (has_s && !prep_sweep(dir, pdir, o, jobs, error)) return FALSE;

  g_autofree char *gnuplot = g_find_program_in_path(o->gnuplot ? o->gnuplot : "gnuplot");
  if (!gnuplot) {
    g_set_error(error, PLOT_ERROR, PLOT_ERROR_NO_GNUPLOT, PLOT_NO_GNUPLOT_HINT, dir, dir);
    return FALSE;
  }
  g_autofree char *scripts = find_scripts(o);
  for (guint i = 0; i < jobs->len; i++)
    if (!render(gnuplot, scripts, pdir, jobs->pdata[i], figures, error)) return FALSE;
  return TRUE;
}

int plot_main(int argc, char **argv) {
  g_autofree char *x = NULL, *y = NULL, *by = NULL, *window = NULL, *from = NULL,
                  *scripts = NULL, *title = NULL, *ylabel = NULL;
  GOptionEntry entries[] = {
      {"x", 0, 0, G_OPTION_ARG_STRING, &x, "Sweep: the axis on x (default the first)", "AXIS"},
      {"y", 0, 0, G_OPTION_ARG_STRING, &y, "Sweep: the metric on y (default the first)",
       "METRIC"},
      {"by", 0, 0, G_OPTION_ARG_STRING, &by,
       "Sweep: one line per value of this axis (default the second; \"\" for none)", "AXIS"},
      {"title", 0, 0, G_OPTION_ARG_STRING, &title, "Sweep: the figure's title", "TEXT"},
      {"ylabel", 0, 0, G_OPTION_ARG_STRING, &ylabel,
       "Sweep: the y axis label (default the metric)", "TEXT"},
      {"window", 'w', 0, G_OPTION_ARG_STRING, &window, "Timeline: window length (default 0.5s)",
       "T"},
      {"from", 0, 0, G_OPTION_ARG_STRING, &from,
       "Timeline: window start (default the first traced slice)", "T"},
      {"scripts", 0, 0, G_OPTION_ARG_FILENAME, &scripts,
       "Folder of the gnuplot scripts (default found next to nestsim)", "DIR"},
      {NULL}};
  g_autoptr(GOptionContext) ctx = g_option_context_new("DIR");
  g_option_context_set_summary(
      ctx, "Draws a results folder as PNG and SVG into DIR/plots/: for a run (metrics.csv, "
           "trace.csv) CPU over time per layer, attribution, network drops, memory and the "
           "trace timeline; for a sweep (sweep.csv) a metric against an axis with 95% "
           "confidence intervals. Needs gnuplot.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) err = NULL;
  plot_options o;
  plot_options_init(&o);
  gboolean ok = g_option_context_parse(ctx, &argc, &argv, &err);
  g_autofree char *why = NULL;
  double ns = 0;
  if (ok && argc != 2)
    g_set_error(&err, PLOT_ERROR, PLOT_ERROR_INPUT, "plot takes one results folder");
  else if (ok && window && (!unit_parse(UNIT_TIME, window, &ns, &why) || ns <= 0))
    g_set_error(&err, PLOT_ERROR, PLOT_ERROR_INPUT, "--window: %s, got \"%s\"",
                why ? why : "expected a time > 0", window);
  else if (ok && window)
    o.window_s = ns * 1e-9;
  if (!err && from && (!unit_parse(UNIT_TIME, from, &ns, &why) || ns < 0))
    g_set_error(&err, PLOT_ERROR, PLOT_ERROR_INPUT, "--from: %s, got \"%s\"",
                why ? why : "expected a time >= 0", from);
  else if (!err && from)
    o.from_s = ns * 1e-9;
  if (err) {
    g_autofree char *help = g_option_context_get_help(ctx, TRUE, NULL);
    fprintf(stderr, "nestsim: %s\n\n%s", err->message, help);
    return 2;
  }
  o.x = x, o.y = y, o.by = by, o.scripts = scripts, o.title = title, o.ylabel = ylabel;
  g_autoptr(GPtrArray) figures = g_ptr_array_new_with_free_func(g_free);
  if (!plot_dir(argv[1], &o, figures, &err)) {
    if (g_error_matches(err, PLOT_ERROR, PLOT_ERROR_NO_GNUPLOT)) {
      printf("%s\n", err->message);
      return 0;
    }
    fprintf(stderr, "nestsim: %s\n", err->message);
    return err->domain == PLOT_ERROR && err->code == PLOT_ERROR_INPUT ? 2 : 1;
  }
  for (guint i = 0; i < figures->len; i++) printf("%s\n", (char *)figures->pdata[i]);
  return 0;
}
