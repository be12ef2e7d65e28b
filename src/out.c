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
void out_append_seconds(GString *s, gint64 ns) {
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
void out_json_string(GString *out, const char *s) {
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
    out_json_string(out, s);
  else
    g_string_append(out, "null");
}

static void json_key(GString *out, int indent, const char *key) {
  g_string_append_printf(out, "%*s", indent, "");
  out_json_string(out, key);
  g_string_append(out, ": ");
}

static void json_entity_value(const char *key, double num, const char *str, void *user) {
  GString *out = user;
  g_string_append(out, ",\n");
  json_key(out, 6, key);
  if (str)
    out_json_string(out, str);
  else
    json_number(out, num);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends `  "set": {...},` with the --set values in name order (a hash table has none of its
 * own, and the file must be the same on every run). */
static void append_set(GString *s, GHashTable *set) {
  guint n = 0;
  g_autofree const char **names =
      set ? (const char **)g_hash_table_get_keys_as_array(set, &n) : NULL;
  json_key(s, 2, "set");
  if (!n) {
    g_string_append(s, "{},\n");
    return;
  }
  qsort(names, n, sizeof *names, cmp_names);
  g_string_append(s, "{\n");
  for (guint i = 0; i < n; i++) {
    json_key(s, 4, names[i]);
    out_json_string(s, g_hash_table_lookup(set, names[i]));
    g_string_append(s, i + 1 < n ? ",\n" : "\n");
  }
  g_string_append(s, "  },\n");
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
  out_append_seconds(s, info->duration_ns);
  g_string_append(s, ",\n");
  json_key(s, 2, "warmup_s");
  out_append_seconds(s, info->warmup_ns);
  g_string_append(s, ",\n");
  json_key(s, 2, "interval_s");
  out_append_seconds(s, info->interval_ns);
  g_string_append(s, ",\n");
  json_key(s, 2, "events");
  g_string_append_printf(s, "%" G_GUINT64_FORMAT ",\n", info->events);
  if (info->scenario_text) append_set(s, info->set);
  json_key(s, 2, "entities");
  guint n = met_n_entities(t);
  g_string_append(s, n ? "{\n" : "{}");
  for (met_id e = 0; e < n; e++) {
    json_key(s, 4, met_entity_path(t, e));
    g_string_append(s, "{\n");
    json_key(s, 6, "kind");
    out_json_string(s, met_entity_kind(t, e));
    g_string_append(s, ",\n");
    json_key(s, 6, "layer");
    g_string_append_printf(s, "%d", met_entity_layer(t, e));
    met_foreach_value(t, e, json_entity_value, s);
    g_string_append(s, e + 1 < n ? "\n    },\n" : "\n    }\n");
  }
  if (n) g_string_append(s, "  }");
  if (info->scenario_text) {
    /* Last, because it is long: a reader of the file sees the run's fields first. */
    g_string_append(s, ",\n");
    json_key(s, 2, "scenario_text");
    out_json_string(s, info->scenario_text);
  }
  g_string_append(s, "\n}\n");
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
  out_append_seconds(s, t_ns);
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
 * Reading summary.json back.
 *
 * A recursive-descent reader of RFC 8259 JSON that builds the run's fields and a met_table as
 * it goes, rather than a tree first: summary.json has a fixed shape (see out_summary_json),
 * and the one place it nests arbitrarily deep is a key this reader does not know, which it
 * skips. Numbers go through g_ascii_strtod, which reads back exactly the shortest form
 * fmt_double wrote; times are read as exact decimals of nanoseconds, as out_append_seconds wrote
 * them. */

G_DEFINE_QUARK(out-error-quark, out_error)

struct out_summary {
  out_run_info info;
  char *scenario, *file, *version, *scenario_text; /* info's strings */
  GHashTable *set;                                  /* info.set */
  met_table *table;
};

void out_summary_free(out_summary *s) {
  if (!s) return;
  g_free(s->scenario);
  g_free(s->file);
  g_free(s->version);
  g_free(s->scenario_text);
  if (s->set) g_hash_table_unref(s->set);
  if (s->table) met_table_free(s->table);
  g_free(s);
}

const out_run_info *out_summary_info(const out_summary *s) { return &s->info; }
const met_table *out_summary_table(const out_summary *s) { return s->table; }

typedef struct jreader {
  const char *start, *p;
  GError *error; /* the first error; later ones are ignored */
} jreader;

/* Records a parse error at the current position, by line (what an editor shows). */
static gboolean jfail(jreader *r, const char *what) {
  if (r->error) return FALSE;
  guint line = 1;
  for (const char *q = r->start; q < r->p; q++) line += *q == '\n';
  g_set_error(&r->error, OUT_ERROR, OUT_ERROR_PARSE, "line %u: %s", line, what);
  return FALSE;
}

static void jws(jreader *r) {
  while (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r') r->p++;
}

static gboolean jexpect(jreader *r, char c, const char *what) {
  jws(r);
  if (*r->p != c) return jfail(r, what);
  r->p++;
  return TRUE;
}

/* Four hex digits after "\u"; -1 when they are not. */
static int jhex4(const char *p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    if (!g_ascii_isxdigit(p[i])) return -1;
    v = v * 16 + g_ascii_xdigit_value(p[i]);
  }
  return v;
}

/* A string literal (transfer full), NULL on error. A lone UTF-16 surrogate, which has no
 * UTF-8 form, becomes U+FFFD as in json_string's repair of invalid input. */
static char *jstring(jreader *r) {
  jws(r);
  if (*r->p != '"') {
    jfail(r, "expected a string");
    return NULL;
  }
  g_autoptr(GString) out = g_string_new(NULL);
  for (r->p++; *r->p != '"'; r->p++) {
    unsigned char c = (unsigned char)*r->p;
    if (c < 0x20) {
      jfail(r, c ? "a control character inside a string" : "a string without its end");
      return NULL;
    }
    if (c != '\\') {
      g_string_append_c(out, (char)c);
      continue;
    }
    r->p++;
    switch (*r->p) {
    case '"': g_string_append_c(out, '"'); break;
    case '\\': g_string_append_c(out, '\\'); break;
    case '/': g_string_append_c(out, '/'); break;
    case 'b': g_string_append_c(out, '\b'); break;
    case 'f': g_string_append_c(out, '\f'); break;
    case 'n': g_string_append_c(out, '\n'); break;
    case 'r': g_string_append_c(out, '\r'); break;
    case 't': g_string_append_c(out, '\t'); break;
    case 'u': {
      int u = jhex4(r->p + 1);
      if (u < 0) {
        jfail(r, "expected four hex digits after \\u");
        return NULL;
      }
      r->p += 4;
      gunichar ch = (gunichar)u;
      if (u >= 0xD800 && u < 0xDC00 && r->p[1] == '\\' && r->p[2] == 'u') {
        int lo = jhex4(r->p + 3);
        if (lo >= 0xDC00 && lo < 0xE000) {
          ch = 0x10000 + (((gunichar)u - 0xD800) << 10) + ((gunichar)lo - 0xDC00);
          r->p += 6;
        }
      }
      if (ch >= 0xD800 && ch < 0xE000) ch = 0xFFFD;
      g_string_append_unichar(out, ch);
      break;
    }
    default: jfail(r, "an unknown escape inside a string"); return NULL;
    }
  }
  r->p++;
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* The text of a bare token (number, true, false, null) without copying: its length, 0 when
 * there is none. */
static gsize jtoken(jreader *r) {
  jws(r);
  gsize n = strspn(r->p, "+-.0123456789eEabcdfilnrstu");
  if (!n) jfail(r, "expected a value");
  return n;
}

/* A number or null (NAN) into *v. */
static gboolean jnumber(jreader *r, double *v) {
  gsize n = jtoken(r);
  if (!n) return FALSE;
  if (n == 4 && !strncmp(r->p, "null", 4)) {
    *v = NAN;
  } else {
    char *end = NULL;
    *v = g_ascii_strtod(r->p, &end);
    if (end != r->p + n || !g_ascii_isdigit(r->p[*r->p == '-'])) return jfail(r, "expected a number");
  }
  r->p += n;
  return TRUE;
}

static gboolean jvalue_skip(jreader *r, int depth);

/* Calls `member` for each key of an object, with the reader at its value; `member` must read
 * the value. */
typedef gboolean (*jmember_fn)(jreader *r, const char *key, void *user);
static gboolean jobject(jreader *r, jmember_fn member, void *user) {
  if (!jexpect(r, '{', "expected an object")) return FALSE;
  jws(r);
  if (*r->p == '}') {
    r->p++;
    return TRUE;
  }
  for (;;) {
    g_autofree char *key = jstring(r);
    if (!key || !jexpect(r, ':', "expected ':' after a key") || !member(r, key, user))
      return FALSE;
    jws(r);
    if (*r->p == '}') {
      r->p++;
      return TRUE;
    }
    if (!jexpect(r, ',', "expected ',' or '}'")) return FALSE;
  }
}

static gboolean jskip_member(jreader *r, const char *key, void *user) {
  (void)key;
  return jvalue_skip(r, GPOINTER_TO_INT(user));
}

/* Any value, read and dropped. The depth is bounded so that a hostile file cannot exhaust the
 * stack. */
static gboolean jvalue_skip(jreader *r, int depth) {
  if (depth > 64) return jfail(r, "nested too deeply");
  jws(r);
  if (*r->p == '"') {
    g_free(jstring(r));
    return !r->error;
  }
  if (*r->p == '{') return jobject(r, jskip_member, GINT_TO_POINTER(depth + 1));
  if (*r->p == '[') {
    r->p++;
    jws(r);
    if (*r->p == ']') {
      r->p++;
      return TRUE;
    }
    for (;;) {
      if (!jvalue_skip(r, depth + 1)) return FALSE;
      jws(r);
      if (*r->p == ']') {
        r->p++;
        return TRUE;
      }
      if (!jexpect(r, ',', "expected ',' or ']'")) return FALSE;
    }
  }
  gsize n = jtoken(r);
  r->p += n;
  return n > 0;
}

/* A string or null (*out stays NULL). */
static gboolean jstring_or_null(jreader *r, char **out) {
  jws(r);
  if (!strncmp(r->p, "null", 4)) {
    r->p += 4;
    return TRUE;
  }
  g_free(*out);
  *out = jstring(r);
  return *out != NULL;
}

static gboolean juint64(jreader *r, guint64 *v) {
  gsize n = jtoken(r);
  if (!n) return FALSE;
  g_autofree char *text = g_strndup(r->p, n);
  if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, v, NULL))
    return jfail(r, "expected an integer >= 0");
  r->p += n;
  return TRUE;
}

/* Seconds as out_append_seconds writes them (an optional '-', digits, up to 9 decimals) into
 * exact nanoseconds. */
static gboolean jseconds(jreader *r, gint64 *ns) {
  gsize n = jtoken(r);
  if (!n) return FALSE;
  const char *p = r->p, *end = r->p + n;
  gboolean neg = *p == '-';
  p += neg;
  guint64 whole = 0, frac = 0;
  int digits = 0, decimals = 0;
  for (; p < end && g_ascii_isdigit(*p); p++, digits++) {
    if (whole > (G_MAXINT64 / 1000000000 - 9) / 10) return jfail(r, "a time out of range");
    whole = whole * 10 + (guint64)(*p - '0');
  }
  if (p < end && *p == '.')
    for (p++; p < end && g_ascii_isdigit(*p) && decimals < 9; p++, decimals++)
      frac = frac * 10 + (guint64)(*p - '0');
  if (!digits || p != end) return jfail(r, "expected a time in seconds with at most 9 decimals");
  for (; decimals < 9; decimals++) frac *= 10;
  gint64 v = (gint64)(whole * 1000000000u + frac);
  *ns = neg ? -v : v;
  r->p += n;
  return TRUE;
}

static gboolean read_set_member(jreader *r, const char *key, void *user) {
  char *value = jstring(r);
  if (!value) return FALSE;
  g_hash_table_replace(user, g_strdup(key), value);
  return TRUE;
}

/* One entity's members: "kind" and "layer" first (out_summary_json writes them so), then its
 * values. The entity is registered once both are known. */
typedef struct entity_reader {
  out_summary *s;
  const char *path;
  char *kind;
  gint64 layer; /* -1: not read yet */
  met_id id;
  gboolean registered;
} entity_reader;

static gboolean read_entity_member(jreader *r, const char *key, void *user) {
  entity_reader *er = user;
  if (!er->registered) {
    if (!strcmp(key, "kind")) {
      g_free(er->kind);
      er->kind = jstring(r);
      return er->kind != NULL && (*er->kind || jfail(r, "an empty \"kind\""));
    }
    if (!strcmp(key, "layer")) {
      double v;
      if (!jnumber(r, &v)) return FALSE;
      if (!(v >= 0 && v <= 1000 && v == floor(v))) return jfail(r, "expected a layer >= 0");
      er->layer = (gint64)v;
      return TRUE;
    }
    if (!er->kind || er->layer < 0) return jfail(r, "expected \"kind\" and \"layer\" first");
    er->id = met_entity(er->s->table, er->path, er->kind, (int)er->layer);
    er->registered = TRUE;
  }
  jws(r);
  if (*r->p == '"') {
    g_autofree char *v = jstring(r);
    if (!v) return FALSE;
    met_set_str(er->s->table, er->id, key, v);
    return TRUE;
  }
  double v;
  if (!jnumber(r, &v)) return FALSE;
  met_set_num(er->s->table, er->id, key, v);
  return TRUE;
}

static gboolean read_entities_member(jreader *r, const char *key, void *user) {
  out_summary *s = user;
  if (!*key) return jfail(r, "an entity with an empty path");
  if (met_lookup(s->table, key) >= 0) return jfail(r, "an entity listed twice");
  entity_reader er = {.s = s, .path = key, .layer = -1};
  gboolean ok = jobject(r, read_entity_member, &er);
  if (ok && !er.registered) {
    if (!er.kind || er.layer < 0) ok = jfail(r, "an entity without \"kind\" or \"layer\"");
    else met_entity(s->table, key, er.kind, (int)er.layer);
  }
  g_free(er.kind);
  return ok;
}

static gboolean read_top_member(jreader *r, const char *key, void *user) {
  out_summary *s = user;
  out_run_info *i = &s->info;
  if (!strcmp(key, "scenario")) return jstring_or_null(r, &s->scenario);
  if (!strcmp(key, "file")) return jstring_or_null(r, &s->file);
  if (!strcmp(key, "version")) return jstring_or_null(r, &s->version);
  if (!strcmp(key, "seed")) return juint64(r, &i->seed);
  if (!strcmp(key, "events")) return juint64(r, &i->events);
  if (!strcmp(key, "duration_s")) return jseconds(r, &i->duration_ns);
  if (!strcmp(key, "warmup_s")) return jseconds(r, &i->warmup_ns);
  if (!strcmp(key, "interval_s")) return jseconds(r, &i->interval_ns);
  if (!strcmp(key, "scenario_text")) {
    g_free(s->scenario_text);
    return (s->scenario_text = jstring(r)) != NULL;
  }
  if (!strcmp(key, "set")) {
    if (!s->set) s->set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return jobject(r, read_set_member, s->set);
  }
  if (!strcmp(key, "entities")) {
    if (s->table) return jfail(r, "\"entities\" given twice");
    s->table = met_table_new();
    return jobject(r, read_entities_member, s);
  }
  return jvalue_skip(r, 1);
}

out_summary *out_summary_parse(const char *json, GError **error) {
  g_assert(json);
  g_autoptr(out_summary) s = g_new0(out_summary, 1);
  jreader r = {.start = json, .p = json};
  if (jobject(&r, read_top_member, s)) {
    jws(&r);
    if (*r.p) jfail(&r, "text after the end of the document");
    else if (!s->table) jfail(&r, "no \"entities\": not a summary.json written by nestsim run");
  }
  if (r.error) {
    g_propagate_error(error, r.error);
    return NULL;
  }
  s->info.scenario = s->scenario;
  s->info.file = s->file;
  s->info.version = s->version;
  s->info.scenario_text = s->scenario_text;
  s->info.set = s->set;
  return g_steal_pointer(&s);
}

out_summary *out_summary_read(const char *dir, GError **error) {
  g_autofree char *path = g_build_filename(dir, "summary.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) inner = NULL;
  if (!g_file_get_contents(path, &text, NULL, &inner)) {
    g_set_error(error, G_FILE_ERROR, inner->code, "cannot read '%s': %s", path, inner->message);
    return NULL;
  }
  out_summary *s = out_summary_parse(text, &inner);
  if (!s) g_set_error(error, OUT_ERROR, inner->code, "%s: %s", path, inner->message);
  return s;
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
    out_append_seconds(head, info->duration_ns);
    g_string_append(head, " s simulated after ");
    out_append_seconds(head, info->warmup_ns);
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
