/* out.c — the writers of a run's results: summary.json, metrics.csv and the stdout summary.
 *
 * Determinism is the first requirement here: the same metrics table must give byte-identical
 * files on every run and every machine, so nothing below depends on the locale, on hash-table
 * order or on the platform's idea of "%g". Numbers in summary.json are written in the shortest
 * decimal form that reads back as the same double (fmt_double); metrics.csv, which can hold
 * tens of millions of values, has 9 significant digits written without printf (fmt_metric);
 * times are exact decimals of their integer nanoseconds. GLib has no JSON writer, and the one
 * we need (objects, strings, numbers, null) is a few lines on a GString. */
#include "src/out.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* W_OK, X_OK for g_access */

/* ---------------------------------------------------------------------------------------------
 * Number and time formatting. */

/* Writes x in decimal so that it ends just before `end`; returns where it starts. */
static char *put_digits(char *end, guint64 x) {
  do {
    *--end = (char)('0' + x % 10);
    x /= 10;
  } while (x);
  return end;
}

/* An integer-valued double below 10^15 in magnitude, as "%.15g" would write it (it writes
 * integers below 10^15 in full), without printf's cost. */
static const char *fmt_integer(char buf[G_ASCII_DTOSTR_BUF_SIZE], double v) {
  char *p = put_digits(buf + G_ASCII_DTOSTR_BUF_SIZE - 1, (guint64)fabs(v));
  buf[G_ASCII_DTOSTR_BUF_SIZE - 1] = '\0';
  if (v < 0) *--p = '-';
  return p;
}

static gboolean is_small_integer(double v) { return fabs(v) < 1e15 && v == (double)(gint64)v; }

/* Writes v (finite) into buf as the shortest of %.15g, %.16g, %.17g that reads back as v.
 * %.17g always round-trips but turns 0.1 into 0.10000000000000001; 15 digits are exact for
 * any decimal that has at most 15 significant digits, so "nice" values stay nice and only
 * values that need the extra digits get them. g_ascii_formatd ignores the locale, and glibc's
 * conversions are correctly rounded, which makes the text stable across runs and machines.
 * The cost is up to three printf conversions and two strtod per value, about 1 us: right for
 * summary.json's few values, too slow for metrics.csv (see fmt_metric). -0 is written as 0:
 * the sign of a zero carries no meaning in a metric. */
static const char *fmt_double(char buf[G_ASCII_DTOSTR_BUF_SIZE], double v) {
  g_assert(isfinite(v));
  if (v == 0) return "0";
  if (is_small_integer(v)) return fmt_integer(buf, v);
  static const char *const formats[] = {"%.15g", "%.16g"};
  for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
    g_ascii_formatd(buf, G_ASCII_DTOSTR_BUF_SIZE, formats[i], v);
    if (g_ascii_strtod(buf, NULL) == v) return buf;
  }
  return g_ascii_formatd(buf, G_ASCII_DTOSTR_BUF_SIZE, "%.17g", v);
}

/* Writes v (finite) into buf with 9 significant digits, trailing zeros dropped: 12.5 -> "12.5",
 * 100/3 -> "33.3333333". A datacenter's metrics.csv has tens of millions of values: through
 * fmt_double, ten million of them took 11 s here; this way 0.6 s (the whole CSV), by
 * scaling to an integer (llround(|v| * 10^k), with k chosen so that the integer has 9 digits)
 * and writing its digits. The relative error is below 5e-10, far below anything a model
 * resolves, and the text depends only on IEEE arithmetic, so it is the same on every machine.
 * Integers below 10^15 are exact; magnitudes outside [1e-4, 1e9) are rare in these columns
 * and go through printf as "%.9g" (exponent form). */
static const char *fmt_metric(char buf[G_ASCII_DTOSTR_BUF_SIZE], double v) {
  g_assert(isfinite(v));
  if (v == 0) return "0";
  if (is_small_integer(v)) return fmt_integer(buf, v);
  double a = fabs(v);
  if (a < 1e-4 || a >= 1e9) return g_ascii_formatd(buf, G_ASCII_DTOSTR_BUF_SIZE, "%.9g", v);
  /* k decimals for a in [10^(8-k), 10^(9-k)): 9 digits in all. */
  static const double lower[] = {1e8, 1e7, 1e6,  1e5,  1e4,  1e3, 1e2,
                                 1e1, 1e0, 1e-1, 1e-2, 1e-3, 1e-4};
  static const guint64 scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                  100000000, 1000000000, 10000000000, 100000000000,
                                  1000000000000};
  guint k = 0;
  while (a < lower[k]) k++;
  guint64 m = (guint64)llround(a * (double)scale[k]);
  guint64 whole = m / scale[k], frac = m % scale[k];
  char *end = buf + G_ASCII_DTOSTR_BUF_SIZE - 1;
  *end = '\0';
  if (frac) {
    guint digits = k;
    while (frac % 10 == 0) { /* drop trailing zeros */
      frac /= 10;
      digits--;
    }
    char *start = put_digits(end, frac);
    while ((guint)(end - start) < digits) *--start = '0';
    *--start = '.';
    end = start;
  }
  char *p = put_digits(end, whole);
  if (v < 0) *--p = '-';
  return p;
}

/* Appends ns as exact decimal seconds without trailing zeros: 5000000000 -> "5",
 * 1500000 -> "0.0015". Going through a double would print 0.1 s of nanoseconds correctly but
 * not every sum of them; the integer is exact. */
static void append_seconds(GString *s, gint64 ns) {
  guint64 mag = ns < 0 ? (guint64)0 - (guint64)ns : (guint64)ns;
  if (ns < 0) g_string_append_c(s, '-');
  g_string_append_printf(s, "%" G_GUINT64_FORMAT, mag / 1000000000u);
  guint64 frac = mag % 1000000000u;
  if (!frac) return;
  char digits[10];
  g_snprintf(digits, sizeof digits, "%09" G_GUINT64_FORMAT, frac);
  int n = 9;
  while (digits[n - 1] == '0') n--;
  g_string_append_printf(s, ".%.*s", n, digits);
}

/* ---------------------------------------------------------------------------------------------
 * JSON. */

/* Appends s as a JSON string literal: quote, backslash and the control characters U+0000 to
 * U+001F escaped (the short forms where JSON has them), everything else, UTF-8 included, as
 * is. JSON text must be UTF-8, and paths come from scenario files that may not be: invalid
 * bytes become U+FFFD rather than an unreadable file. */
static void json_string(GString *out, const char *s) {
  g_autofree char *valid = NULL;
  if (!g_utf8_validate(s, -1, NULL)) s = valid = g_utf8_make_valid(s, -1);
  g_string_append_c(out, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': g_string_append(out, "\\\""); break;
    case '\\': g_string_append(out, "\\\\"); break;
    case '\b': g_string_append(out, "\\b"); break;
    case '\f': g_string_append(out, "\\f"); break;
    case '\n': g_string_append(out, "\\n"); break;
    case '\r': g_string_append(out, "\\r"); break;
    case '\t': g_string_append(out, "\\t"); break;
    default:
      if (*p < 0x20)
        g_string_append_printf(out, "\\u%04x", *p);
      else
        g_string_append_c(out, (char)*p);
    }
  }
  g_string_append_c(out, '"');
}

/* JSON has no NaN or infinity; a value that is not a number is null ("no value"). */
static void json_number(GString *out, double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append(out, isfinite(v) ? fmt_double(buf, v) : "null");
}

static void json_string_or_null(GString *out, const char *s) {
  if (s)
    json_string(out, s);
  else
    g_string_append(out, "null");
}

static void json_key(GString *out, int indent, const char *key) {
  g_string_append_printf(out, "%*s", indent, "");
  json_string(out, key);
  g_string_append(out, ": ");
}

static void json_entity_value(const char *key, double num, const char *str, void *user) {
  GString *out = user;
  g_string_append(out, ",\n");
  json_key(out, 6, key);
  if (str)
    json_string(out, str);
  else
    json_number(out, num);
}

char *out_summary_json(const out_run_info *info, const met_table *t) {
  g_assert(info && t);
  GString *s = g_string_sized_new(1024 + 128 * (gsize)met_n_entities(t));
  g_string_append(s, "{\n");
  json_key(s, 2, "scenario");
  json_string_or_null(s, info->scenario);
  g_string_append(s, ",\n");
  json_key(s, 2, "file");
  json_string_or_null(s, info->file);
  g_string_append(s, ",\n");
  json_key(s, 2, "seed");
  g_string_append_printf(s, "%" G_GUINT64_FORMAT ",\n", info->seed);
  json_key(s, 2, "version");
  json_string_or_null(s, info->version);
  g_string_append(s, ",\n");
  json_key(s, 2, "duration_s");
  append_seconds(s, info->duration_ns);
  g_string_append(s, ",\n");
  json_key(s, 2, "warmup_s");
  append_seconds(s, info->warmup_ns);
  g_string_append(s, ",\n");
  json_key(s, 2, "interval_s");
  append_seconds(s, info->interval_ns);
  g_string_append(s, ",\n");
  json_key(s, 2, "events");
  g_string_append_printf(s, "%" G_GUINT64_FORMAT ",\n", info->events);
  json_key(s, 2, "entities");
  guint n = met_n_entities(t);
  g_string_append(s, n ? "{\n" : "{}\n");
  for (met_id e = 0; e < n; e++) {
    json_key(s, 4, met_entity_path(t, e));
    g_string_append(s, "{\n");
    json_key(s, 6, "kind");
    json_string(s, met_entity_kind(t, e));
    g_string_append(s, ",\n");
    json_key(s, 6, "layer");
    g_string_append_printf(s, "%d", met_entity_layer(t, e));
    met_foreach_value(t, e, json_entity_value, s);
    g_string_append(s, e + 1 < n ? "\n    },\n" : "\n    }\n");
  }
  if (n) g_string_append(s, "  }\n");
  g_string_append(s, "}\n");
  return g_string_free(s, FALSE);
}

/* ---------------------------------------------------------------------------------------------
 * CSV (RFC 4180). */

/* Appends a field, quoted only when it holds a comma, a quote or a line break (RFC 4180,
 * section 2), with quotes doubled. Most fields (numbers, "%USED", most paths) need none. */
static void csv_field(GString *out, const char *s) {
  if (!s[strcspn(s, ",\"\r\n")]) {
    g_string_append(out, s);
    return;
  }
  g_string_append_c(out, '"');
  for (const char *p = s; *p; p++) {
    if (*p == '"') g_string_append_c(out, '"');
    g_string_append_c(out, *p);
  }
  g_string_append_c(out, '"');
}

/* An interval value as a CSV cell: NaN (not applicable) and infinities are an empty cell. */
static void csv_metric(GString *out, double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (isfinite(v)) g_string_append(out, fmt_metric(buf, v));
}

/* Appends one merged row of metrics.csv. */
static void csv_row(GString *s, const met_table *t, met_id e, int64_t t_ns, const double *v,
                    guint nc) {
  append_seconds(s, t_ns);
  g_string_append_c(s, ',');
  csv_field(s, met_entity_path(t, e));
  g_string_append_c(s, ',');
  csv_field(s, met_entity_kind(t, e));
  g_string_append_printf(s, ",%d", met_entity_layer(t, e));
  for (met_id c = 0; c < nc; c++) {
    g_string_append_c(s, ',');
    csv_metric(s, v[c]);
  }
  g_string_append_c(s, '\n');
}

/* Several models may report on one entity at the same instant (the CPU and the memory model
 * both on a nested host's VM): their rows become one, each column taken from the first row
 * that has a value for it, in the order the entities first appear at that instant. Rows of
 * one instant are contiguous, since every model samples at the same interval events. */
char *out_metrics_csv(const met_table *t) {
  g_assert(t);
  guint nc = met_n_columns(t), nr = met_n_rows(t);
  /* A guess at the final size, to grow the string a few times rather than ~log2(size). */
  GString *s = g_string_sized_new(64 + (gsize)nr * (40 + 10 * (gsize)nc));
  g_string_append(s, "time_s,entity,kind,layer");
  for (met_id c = 0; c < nc; c++) {
    g_string_append_c(s, ',');
    csv_field(s, met_column_name(t, c));
  }
  g_string_append_c(s, '\n');
  g_autoptr(GHashTable) slot = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_autoptr(GArray) ents = g_array_new(FALSE, FALSE, sizeof(met_id));
  g_autoptr(GArray) vals = g_array_new(FALSE, FALSE, sizeof(double));
  for (guint r = 0; r < nr;) {
    met_id e;
    int64_t t_ns, t0;
    met_row_get(t, r, &e, &t0);
    g_hash_table_remove_all(slot);
    g_array_set_size(ents, 0);
    g_array_set_size(vals, 0);
    for (; r < nr; r++) {
      const double *v = met_row_get(t, r, &e, &t_ns);
      if (t_ns != t0) break;
      gpointer found = g_hash_table_lookup(slot, GUINT_TO_POINTER(e + 1));
      if (!found) {
        g_array_append_val(ents, e);
        g_array_append_vals(vals, v, nc);
        g_hash_table_insert(slot, GUINT_TO_POINTER(e + 1), GUINT_TO_POINTER(ents->len));
        continue;
      }
      double *m = &g_array_index(vals, double, (GPOINTER_TO_UINT(found) - 1) * nc);
      for (guint c = 0; c < nc; c++)
        if (isnan(m[c])) m[c] = v[c];
    }
    for (guint i = 0; i < ents->len; i++)
      csv_row(s, t, g_array_index(ents, met_id, i), t0, &g_array_index(vals, double, i * nc), nc);
  }
  return g_string_free(s, FALSE);
}

/* ---------------------------------------------------------------------------------------------
 * The results folder. */

static gboolean write_file(const char *dir, const char *name, const char *text, gssize len,
                           GError **error) {
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autoptr(GError) inner = NULL;
  /* g_file_set_contents writes a temporary file in the same folder and renames it over
   * `path`, removing the temporary file if anything fails. */
  if (g_file_set_contents(path, text, len, &inner)) return TRUE;
  g_set_error(error, G_FILE_ERROR, inner->code, "cannot write '%s': %s", path, inner->message);
  return FALSE;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

gboolean out_write_dir(const char *dir, const out_run_info *info, const met_table *t,
                       GHashTable *extra, GError **error) {
  g_assert(dir && *dir && info && t);
  if (g_file_test(dir, G_FILE_TEST_EXISTS) && !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR,
                "cannot write results into '%s': it exists and is not a folder", dir);
    return FALSE;
  }
  if (g_mkdir_with_parents(dir, 0777) != 0) {
    int err = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
                "cannot create results folder '%s': %s", dir, g_strerror(err));
    return FALSE;
  }
  if (g_access(dir, W_OK | X_OK) != 0) {
    int err = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
                "cannot write results into '%s': %s", dir, g_strerror(err));
    return FALSE;
  }
  /* The presence of summary.json says the folder holds a complete result. When a run replaces
   * an earlier one, the old summary goes first, so that a run interrupted half-way leaves a
   * folder that says "incomplete" rather than an old summary beside new metrics. */
  g_autofree char *summary_path = g_build_filename(dir, "summary.json", NULL);
  if (g_remove(summary_path) != 0 && errno != ENOENT) {
    int err = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "cannot replace '%s': %s",
                summary_path, g_strerror(err));
    return FALSE;
  }

  g_autofree char *csv = out_metrics_csv(t);
  if (!write_file(dir, "metrics.csv", csv, -1, error)) return FALSE;
  g_clear_pointer(&csv, g_free); /* the CSV can be the largest thing in memory: free it early */

  if (extra) {
    /* In name order, so that a failure is reported the same way on every run. */
    guint n = 0;
    g_autofree const char **names = (const char **)g_hash_table_get_keys_as_array(extra, &n);
    qsort(names, n, sizeof *names, cmp_names);
    for (guint i = 0; i < n; i++) {
      /* Extra files are the program's own (trace.csv ...), never user input: a name that is a
       * path or clashes with the two result files is a bug. */
      g_assert(!strchr(names[i], '/') && strcmp(names[i], "summary.json") &&
               strcmp(names[i], "metrics.csv") && strcmp(names[i], ".") && strcmp(names[i], ".."));
      const GString *text = g_hash_table_lookup(extra, names[i]);
      g_assert(text);
      if (!write_file(dir, names[i], text->str, (gssize)text->len, error)) return FALSE;
    }
  }

  g_autofree char *json = out_summary_json(info, t);
  return write_file(dir, "summary.json", json, -1, error);
}

/* ---------------------------------------------------------------------------------------------
 * The summary on stdout. */

/* A number for a person: percentages (keys starting with '%' or ending in "_pct") with one
 * decimal as esxtop shows them; otherwise integers as integers, large values without
 * decimals, the rest with 4 significant digits, and tiny ones in exponent form. */
static const char *fmt_readable(char buf[G_ASCII_DTOSTR_BUF_SIZE], const char *key, double v) {
  if (isnan(v)) return "-";
  if (isinf(v)) return v > 0 ? "inf" : "-inf";
  gsize klen = strlen(key);
  if (key[0] == '%' || (klen > 4 && !strcmp(key + klen - 4, "_pct")))
    /* A rounding residue such as -1e-17 would print as "-0.0". */
    return g_ascii_formatd(buf, G_ASCII_DTOSTR_BUF_SIZE, "%.1f", fabs(v) < 0.05 ? 0.0 : v);
  if (v == 0) return "0";
  if (is_small_integer(v)) return fmt_integer(buf, v);
  double a = fabs(v);
  if (a >= 1e4 && a < 1e15)
    g_ascii_formatd(buf, G_ASCII_DTOSTR_BUF_SIZE, "%.0f", v);
  else if (a >= 1e-3 && a < 1e4)
    g_ascii_formatd(buf, G_ASCII_DTOSTR_BUF_SIZE, "%.4g", v);
  else
    g_ascii_formatd(buf, G_ASCII_DTOSTR_BUF_SIZE, "%.3g", v);
  return buf;
}

/* The union of the summary keys of a set of entities, in first-seen order. */
typedef struct key_union {
  GPtrArray *keys;  /* const char*, owned by the table */
  GHashTable *seen; /* key -> GUINT_TO_POINTER(index + 1) */
} key_union;

static void key_union_add(const char *key, double num, const char *str, void *user) {
  (void)num;
  (void)str;
  key_union *u = user;
  if (g_hash_table_contains(u->seen, key)) return;
  g_ptr_array_add(u->keys, (gpointer)key);
  g_hash_table_insert(u->seen, (gpointer)key, GUINT_TO_POINTER(u->keys->len));
}

static void key_union_init(key_union *u) {
  u->keys = g_ptr_array_new();
  u->seen = g_hash_table_new(g_str_hash, g_str_equal);
}

static void key_union_clear(key_union *u) {
  g_ptr_array_unref(u->keys);
  g_hash_table_unref(u->seen);
}

/* One row of cells being filled from an entity's summary values. */
typedef struct cell_fill {
  const key_union *u;
  char **cells; /* one per key, owned */
  gboolean *numeric;
  gboolean csv;
} cell_fill;

static void cell_fill_value(const char *key, double num, const char *str, void *user) {
  cell_fill *f = user;
  guint i = GPOINTER_TO_UINT(g_hash_table_lookup(f->u->seen, key));
  if (i-- == 0) return; /* a key this table leaves out */
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (str) {
    f->cells[i] = g_strdup(str);
    f->numeric[i] = FALSE;
  } else if (f->csv) {
    f->cells[i] = g_strdup(isfinite(num) ? fmt_double(buf, num) : "");
  } else {
    f->cells[i] = g_strdup(fmt_readable(buf, key, num));
  }
}

/* Prints the table of the entities `ids` (all of one kind): a title line, a header, one row
 * per entity. The first column is the path, indented two spaces per layer below the
 * shallowest in the table; a column of numbers is right-aligned, one that holds any text is
 * left-aligned; a missing value is an empty cell. Two spaces between columns, none after the
 * last. */
/* Whether the table `kind` of print_table shows `key`: keys starting with `attr_` (a
 * breakdown of the entity's time) make a table of their own, and unless `all` a column whose
 * every value is zero or missing is left out (most drop reasons, most of the time). */
typedef struct key_filter {
  gboolean attr;  /* the attribution table (keys attr_*) or the main one */
  gboolean all;
} key_filter;

static gboolean key_shown(const met_table *t, GArray *ids, const char *key, key_filter kf) {
  if (g_str_has_prefix(key, "attr_") != kf.attr) return FALSE;
  if (kf.all) return TRUE;
  for (guint i = 0; i < ids->len; i++) {
    met_id e = g_array_index(ids, met_id, i);
    double v = met_get_num(t, e, key);
    if (met_get_str(t, e, key) || (!isnan(v) && v != 0)) return TRUE;
  }
  return FALSE;
}

static void print_kind_table(FILE *f, const met_table *t, const char *kind, GArray *ids,
                             key_filter kf) {
  key_union all_keys, u;
  key_union_init(&all_keys);
  key_union_init(&u);
  int min_layer = G_MAXINT;
  for (guint i = 0; i < ids->len; i++) {
    met_id e = g_array_index(ids, met_id, i);
    met_foreach_value(t, e, key_union_add, &all_keys);
    min_layer = MIN(min_layer, met_entity_layer(t, e));
  }
  for (guint k = 0; k < all_keys.keys->len; k++) {
    const char *key = g_ptr_array_index(all_keys.keys, k);
    if (key_shown(t, ids, key, kf)) key_union_add(key, 0, NULL, &u);
  }
  key_union_clear(&all_keys);
  if (kf.attr && u.keys->len == 0) {
    key_union_clear(&u);
    return;
  }
  fputc('\n', f);
  guint nk = u.keys->len, nr = ids->len, ncol = nk + 1;
  /* cells[r * ncol + c]; row 0 is the header. */
  g_autoptr(GPtrArray) cells = g_ptr_array_new_full((nr + 1) * ncol, g_free);
  g_autofree gboolean *numeric = g_new(gboolean, ncol);
  g_autofree gsize *width = g_new0(gsize, ncol);
  numeric[0] = FALSE;
  g_ptr_array_add(cells, g_strdup("entity"));
  for (guint k = 0; k < nk; k++) {
    numeric[k + 1] = TRUE;
    g_ptr_array_add(cells, g_strdup(g_ptr_array_index(u.keys, k)));
  }
  g_autofree char **row = g_new(char *, nk);
  g_autofree gboolean *row_numeric = g_new(gboolean, nk);
  for (guint i = 0; i < nr; i++) {
    met_id e = g_array_index(ids, met_id, i);
    g_ptr_array_add(cells, g_strdup_printf("%*s%s", 2 * (met_entity_layer(t, e) - min_layer), "",
                                           met_entity_path(t, e)));
    for (guint k = 0; k < nk; k++) {
      row[k] = NULL;
      row_numeric[k] = TRUE;
    }
    cell_fill fill = {.u = &u, .cells = row, .numeric = row_numeric, .csv = FALSE};
    met_foreach_value(t, e, cell_fill_value, &fill);
    for (guint k = 0; k < nk; k++) {
      g_ptr_array_add(cells, row[k] ? row[k] : g_strdup(""));
      if (!row_numeric[k]) numeric[k + 1] = FALSE;
    }
  }
  for (guint r = 0; r <= nr; r++)
    for (guint c = 0; c < ncol; c++)
      width[c] = MAX(width[c], (gsize)g_utf8_strlen(g_ptr_array_index(cells, r * ncol + c), -1));

  if (kf.attr)
    fprintf(f, "%s (%u): where the time goes, %% of its vCPUs x elapsed time\n", kind, nr);
  else
    fprintf(f, "%s (%u)\n", kind, nr);
  g_autoptr(GString) line = g_string_new(NULL);
  for (guint r = 0; r <= nr; r++) {
    g_string_truncate(line, 0);
    for (guint c = 0; c < ncol; c++) {
      const char *cell = g_ptr_array_index(cells, r * ncol + c);
      gsize pad = width[c] - (gsize)g_utf8_strlen(cell, -1);
      if (c) g_string_append(line, "  ");
      if (numeric[c]) g_string_append_printf(line, "%*s", (int)pad, "");
      g_string_append(line, cell);
      if (!numeric[c] && c + 1 < ncol) g_string_append_printf(line, "%*s", (int)pad, "");
    }
    /* A row whose last cells are empty would end in separators and padding: trim them. */
    while (line->len && line->str[line->len - 1] == ' ') g_string_truncate(line, line->len - 1);
    fprintf(f, "%s\n", line->str);
  }
  key_union_clear(&u);
}

static void print_table(FILE *f, const out_run_info *info, const met_table *t, gboolean all) {
  if (info) {
    g_autoptr(GString) head = g_string_new(NULL);
    g_string_append_printf(head, "%s, seed %" G_GUINT64_FORMAT ": ",
                           info->scenario ? info->scenario : "?", info->seed);
    append_seconds(head, info->duration_ns);
    g_string_append(head, " s simulated after ");
    append_seconds(head, info->warmup_ns);
    g_string_append(head, " s warm-up, ");
    g_string_append_printf(head, "%" G_GUINT64_FORMAT " events\n", info->events);
    fputs(head->str, f);
  }
  /* Kinds in a fixed order that reads top-down (hardware, hypervisors, VMs, their vCPUs),
   * then any other kind in the order its first entity was registered. */
  static const char *const fixed[] = {"host", "hypervisor", "vm", "vcpu", NULL};
  g_autoptr(GPtrArray) kinds = g_ptr_array_new();
  g_autoptr(GHashTable) by_kind =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_array_unref);
  for (guint i = 0; fixed[i]; i++) g_ptr_array_add(kinds, (gpointer)fixed[i]);
  guint n = met_n_entities(t);
  for (met_id e = 0; e < n; e++) {
    const char *kind = met_entity_kind(t, e);
    GArray *ids = g_hash_table_lookup(by_kind, kind);
    if (!ids) {
      ids = g_array_new(FALSE, FALSE, sizeof(met_id));
      g_hash_table_insert(by_kind, (gpointer)kind, ids);
      if (!g_strv_contains(fixed, kind)) g_ptr_array_add(kinds, (gpointer)kind);
    }
    g_array_append_val(ids, e);
  }
  for (guint i = 0; i < kinds->len; i++) {
    const char *kind = g_ptr_array_index(kinds, i);
    GArray *ids = g_hash_table_lookup(by_kind, kind);
    if (!ids || (!all && !strcmp(kind, "vcpu"))) continue;
    print_kind_table(f, t, kind, ids, (key_filter){.attr = FALSE, .all = all});
    print_kind_table(f, t, kind, ids, (key_filter){.attr = TRUE, .all = all});
  }
}

/* Every entity's summary values as one CSV: entity, kind, layer, then the union of all keys in
 * first-seen order; a missing or not-a-number value is an empty cell. Numbers exactly as in
 * summary.json, so this output can be compared and parsed like it. */
static void print_csv(FILE *f, const met_table *t) {
  key_union u;
  key_union_init(&u);
  guint n = met_n_entities(t);
  for (met_id e = 0; e < n; e++) met_foreach_value(t, e, key_union_add, &u);
  guint nk = u.keys->len;
  g_autoptr(GString) s = g_string_new("entity,kind,layer");
  for (guint k = 0; k < nk; k++) {
    g_string_append_c(s, ',');
    csv_field(s, g_ptr_array_index(u.keys, k));
  }
  g_string_append_c(s, '\n');
  g_autofree char **row = g_new(char *, nk);
  g_autofree gboolean *row_numeric = g_new(gboolean, nk);
  for (met_id e = 0; e < n; e++) {
    csv_field(s, met_entity_path(t, e));
    g_string_append_c(s, ',');
    csv_field(s, met_entity_kind(t, e));
    g_string_append_printf(s, ",%d", met_entity_layer(t, e));
    for (guint k = 0; k < nk; k++) row[k] = NULL;
    cell_fill fill = {.u = &u, .cells = row, .numeric = row_numeric, .csv = TRUE};
    met_foreach_value(t, e, cell_fill_value, &fill);
    for (guint k = 0; k < nk; k++) {
      g_string_append_c(s, ',');
      if (row[k]) csv_field(s, row[k]);
      g_free(row[k]);
    }
    g_string_append_c(s, '\n');
  }
  fwrite(s->str, 1, s->len, f);
  key_union_clear(&u);
}

void out_print(FILE *f, out_format fmt, const out_run_info *info, const met_table *t,
               gboolean all) {
  g_assert(f && t);
  switch (fmt) {
  case OUT_TABLE: print_table(f, info, t, all); break;
  case OUT_JSON: {
    g_assert(info);
    g_autofree char *json = out_summary_json(info, t);
    fputs(json, f);
    break;
  }
  case OUT_CSV: print_csv(f, t); break;
  default: g_assert_not_reached();
  }
}
