/* test-out.c — the result writers: summary.json and metrics.csv byte for byte (escaping,
 * numbers, NaN), the results folder (complete, atomic, replaceable, clear failures) and the
 * stdout summary's alignment. Every expected text below is written out by hand from the
 * format's rules, stated next to it; none is copied from the program's output. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/out.h"

#include "tests/testutil.h"

/* ---------------------------------------------------------------------------------------------
 * Helpers. */

static const out_run_info lab_info = {
    .scenario = "lab",
    .file = "lab.lua",
    .seed = 42,
    .version = "0.1.0",
    .duration_ns = 600000000000,
    .warmup_ns = 60000000000,
    .interval_ns = 5000000000,
    .events = 1234,
};

/* What out_print writes to a stream, as a string (through tmpfile: plain C17 has no
 * open_memstream). */
static char *print_to_string(out_format fmt, const out_run_info *info, const met_table *t,
                             gboolean all) {
  FILE *f = tmpfile();
  g_assert_nonnull(f);
  out_print(f, fmt, info, t, all);
  long n = ftell(f);
  g_assert_cmpint(n, >=, 0);
  rewind(f);
  char *s = g_malloc((gsize)n + 1);
  g_assert_cmpuint(fread(s, 1, (size_t)n, f), ==, (size_t)n);
  s[n] = '\0';
  fclose(f);
  return s;
}



static char *read_file(const char *dir, const char *name) {
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;
  g_file_get_contents(path, &text, NULL, &error);
  g_assert_no_error(error);
  return text;
}

/* The small lab the table tests use: a host, a nested ESXi VM, two L2 VMs (one without any
 * summary value), a vCPU. */
static met_table *small_lab(void) {
  met_table *t = met_table_new();
  met_id h = met_entity(t, "esx01", "host", 0);
  met_id v = met_entity(t, "esx01/vESX1", "vm", 1);
  met_id w = met_entity(t, "esx01/vESX1/web1", "vm", 2);
  met_id c = met_entity(t, "esx01/vESX1/web1/vcpu0", "vcpu", 3);
  met_entity(t, "esx01/vESX1/db1", "vm", 2);
  met_set_num(t, h, "%USED", 61.26);
  met_set_num(t, h, "memory_gb", 128);
  met_set_num(t, v, "%USED", 50);
  met_set_num(t, v, "%RDY", 12.345);
  met_set_str(t, v, "status", "running");
  met_set_num(t, w, "%USED", 50);
  met_set_num(t, w, "effective_pct", 12.5);
  met_set_num(t, w, "completion_s", 83.25);
  met_set_num(t, c, "%USED", 50);
  return t;
}

/* ---------------------------------------------------------------------------------------------
 * summary.json */

/* The whole document for a two-entity table. Reasoning per line: fields in the documented
 * order, 2-space indentation per level; the seed is the largest 64-bit value and must come out
 * exactly, not through a double; times are exact decimals of their nanoseconds (1.5 s, 0.1 s);
 * 0.1 is written as "0.1" because %.15g of the double nearest 0.1 reads back as that double;
 * NaN and infinity have no JSON form and are null; a NULL file is null; summary values follow
 * kind and layer in the order set. */
static void test_json_document(void) {
  g_autoptr(met_table) t = met_table_new();
  met_id h = met_entity(t, "h", "host", 0);
  met_id v = met_entity(t, "h/v", "vm", 1);
  met_set_num(t, h, "%USED", 0.1);
  met_set_num(t, v, "x", NAN);
  met_set_str(t, v, "s", "y");
  met_set_num(t, v, "inf", INFINITY);
  out_run_info info = {.scenario = "lab",
                       .file = NULL,
                       .seed = G_MAXUINT64,
                       .version = "0.1.0",
                       .duration_ns = 600000000000,
                       .warmup_ns = 1500000000,
                       .interval_ns = 100000000,
                       .events = 7};
  g_autofree char *json = out_summary_json(&info, t);
  g_assert_cmpstr(json, ==,
                  "{\n"
                  "  \"scenario\": \"lab\",\n"
                  "  \"file\": null,\n"
                  "  \"seed\": 18446744073709551615,\n"
                  "  \"version\": \"0.1.0\",\n"
                  "  \"duration_s\": 600,\n"
                  "  \"warmup_s\": 1.5,\n"
                  "  \"interval_s\": 0.1,\n"
                  "  \"events\": 7,\n"
                  "  \"entities\": {\n"
                  "    \"h\": {\n"
                  "      \"kind\": \"host\",\n"
                  "      \"layer\": 0,\n"
                  "      \"%USED\": 0.1\n"
                  "    },\n"
                  "    \"h/v\": {\n"
                  "      \"kind\": \"vm\",\n"
                  "      \"layer\": 1,\n"
                  "      \"x\": null,\n"
                  "      \"s\": \"y\",\n"
                  "      \"inf\": null\n"
                  "    }\n"
                  "  }\n"
                  "}\n");
}

/* No entities: an empty object, still valid JSON. */
static void test_json_no_entities(void) {
  g_autoptr(met_table) t = met_table_new();
  out_run_info info = {.scenario = "e", .file = "e.lua", .version = "v"};
  g_autofree char *json = out_summary_json(&info, t);
  g_assert_cmpstr(json, ==,
                  "{\n"
                  "  \"scenario\": \"e\",\n"
                  "  \"file\": \"e.lua\",\n"
                  "  \"seed\": 0,\n"
                  "  \"version\": \"v\",\n"
                  "  \"duration_s\": 0,\n"
                  "  \"warmup_s\": 0,\n"
                  "  \"interval_s\": 0,\n"
                  "  \"events\": 0,\n"
                  "  \"entities\": {}\n"
                  "}\n");
}

/* The number formats, each value's expected text reasoned out:
 * 50 and -3 are integers; 1e20 is past the integer range so %.15g gives "1e+20";
 * 2.5e-07 is what %.15g makes of 2.5e-7; 1/3 needs 16 digits (%.15g's 0.333333333333333 is
 * a different double); 0.1 + 0.2 is the double just above 0.3 and needs all 17;
 * -0 is written as 0; 123456.789 has 9 significant digits and stays as written. */
static void test_json_numbers(void) {
  static const struct {
    double v;
    const char *text;
  } cases[] = {
      {50, "50"},
      {-3, "-3"},
      {1e20, "1e+20"},
      {2.5e-7, "2.5e-07"},
      {1.0 / 3.0, "0.3333333333333333"},
      {0.1 + 0.2, "0.30000000000000004"},
      {-0.0, "0"},
      {123456.789, "123456.789"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(met_table) t = met_table_new();
    met_id e = met_entity(t, "e", "vm", 1);
    met_set_num(t, e, "v", cases[i].v);
    g_autofree char *json = out_summary_json(&lab_info, t);
    g_autofree char *want = g_strdup_printf("\"v\": %s\n", cases[i].text);
    g_assert_nonnull(strstr(json, want));
    /* And it reads back as the same double (except -0, written as 0 on purpose). */
    g_assert_cmpfloat(g_ascii_strtod(cases[i].text, NULL), ==, cases[i].v);
  }
}

/* Tricky strings, expected text by JSON's rules (RFC 8259 section 7): quote and backslash are
 * escaped; \n \t \r \b \f have short escapes; other controls below 0x20 are \u00XX; DEL (0x7f),
 * '/' and non-ASCII UTF-8 are allowed as they are. The path is the key, the value a string, and
 * the key of a summary value is escaped like any string. */
static void test_json_escaping(void) {
  g_autoptr(met_table) t = met_table_new();
  met_id e = met_entity(t, "a\"b\\c\n\t\x01\x1f\x7f/\xc3\xbc\xe2\x82\xac", "vm", 1);
  met_set_str(t, e, "quote\"key", "l1\r\nl2\b\f");
  g_autofree char *json = out_summary_json(&lab_info, t);
  g_assert_nonnull(
      strstr(json, "    \"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f/\xc3\xbc\xe2\x82\xac\": {\n"));
  g_assert_nonnull(strstr(json, "      \"quote\\\"key\": \"l1\\r\\nl2\\b\\f\"\n"));
}

/* Decodes the JSON string literal at *p (which must start with a quote) and moves *p past it.
 * Fails the test on anything RFC 8259 does not allow inside a string. */
static char *json_decode_string(const char **p) {
  const char *s = *p;
  g_assert_cmpint(*s, ==, '"');
  GString *out = g_string_new(NULL);
  for (s++; *s != '"'; s++) {
    g_assert_cmpint((unsigned char)*s, >=, 0x20); /* raw controls are not allowed */
    if (*s != '\\') {
      g_string_append_c(out, *s);
      continue;
    }
    s++;
    switch (*s) {
    case '"': g_string_append_c(out, '"'); break;
    case '\\': g_string_append_c(out, '\\'); break;
    case '/': g_string_append_c(out, '/'); break;
    case 'b': g_string_append_c(out, '\b'); break;
    case 'f': g_string_append_c(out, '\f'); break;
    case 'n': g_string_append_c(out, '\n'); break;
    case 'r': g_string_append_c(out, '\r'); break;
    case 't': g_string_append_c(out, '\t'); break;
    case 'u': {
      char hex[5] = {0};
      memcpy(hex, s + 1, 4);
      g_assert_true(g_ascii_isxdigit(hex[0]) && g_ascii_isxdigit(hex[1]) &&
                    g_ascii_isxdigit(hex[2]) && g_ascii_isxdigit(hex[3]));
      g_string_append_unichar(out, (gunichar)g_ascii_strtoull(hex, NULL, 16));
      s += 4;
      break;
    }
    default: g_assert_not_reached();
    }
  }
  *p = s + 1;
  return g_string_free(out, FALSE);
}

/* Every ASCII character from 1 to 127 and some multi-byte UTF-8 survive a round trip through
 * the writer and a strict decoder; invalid UTF-8 comes back with U+FFFD in place of the bad
 * byte, since JSON text must be UTF-8. */
static void test_json_escaping_round_trip(void) {
  char all[128];
  for (int i = 1; i < 128; i++) all[i - 1] = (char)i;
  all[127] = '\0';
  const char *strings[] = {all, "\xe2\x80\xa8 \xf0\x9f\x98\x80 \xc3\xa9", "", "ok\xff"};
  const char *expected[] = {all, strings[1], "", "ok\xef\xbf\xbd"};
  for (guint i = 0; i < G_N_ELEMENTS(strings); i++) {
    g_autoptr(met_table) t = met_table_new();
    met_id e = met_entity(t, "e", "vm", 1);
    met_set_str(t, e, "s", strings[i]);
    g_autofree char *json = out_summary_json(&lab_info, t);
    const char *p = strstr(json, "\"s\": ");
    g_assert_nonnull(p);
    p += 5;
    g_autofree char *back = json_decode_string(&p);
    g_assert_cmpstr(back, ==, expected[i]);
    g_assert_cmpstr(p, ==, "\n    }\n  }\n}\n");
    g_assert_true(g_utf8_validate(json, -1, NULL));
  }
}

/* ---------------------------------------------------------------------------------------------
 * metrics.csv */

/* Expected text by the rules: header time_s,entity,kind,layer then the columns in registration
 * order, "a,b" quoted because of its comma; one line per row in append order; time_s the exact
 * decimal of the nanoseconds (5 s, 0.1 s, 1 ns, 3600 s); values to 9 significant digits (1/3);
 * NaN and infinity empty cells; a path with a comma and a quote quoted, the quote doubled
 * (RFC 4180 section 2, rules 6 and 7). */
static void test_csv_metrics(void) {
  g_autoptr(met_table) t = met_table_new();
  met_id a = met_entity(t, "esx01/vm1", "vm", 1);
  met_id b = met_entity(t, "esx01/odd,\"name\"", "vcpu", 2);
  met_column(t, "%USED");
  met_column(t, "%RDY");
  met_column(t, "a,b");
  met_row(t, a, 5000000000, (double[]){50, 12.5, NAN});
  met_row(t, b, 100000000, (double[]){0.1, -INFINITY, 3});
  met_row(t, a, 1, (double[]){NAN, NAN, NAN});
  met_row(t, b, 3600000000000, (double[]){1e-9, 100, 1.0 / 3.0});
  g_autofree char *csv = out_metrics_csv(t);
  g_assert_cmpstr(csv, ==,
                  "time_s,entity,kind,layer,%USED,%RDY,\"a,b\"\n"
                  "5,esx01/vm1,vm,1,50,12.5,\n"
                  "0.1,\"esx01/odd,\"\"name\"\"\",vcpu,2,0.1,,3\n"
                  "0.000000001,esx01/vm1,vm,1,,,\n"
                  "3600,\"esx01/odd,\"\"name\"\"\",vcpu,2,1e-09,100,0.333333333\n");
}

/* metrics.csv's numbers have 9 significant digits with trailing zeros dropped (exact below
 * that). Each expected text by hand: 1/3 and 100/3 cut after nine 3s; 2/3 rounds its ninth
 * digit up; 12.5 and -0.125 are short already; 0.00012345 keeps its leading zeros (plain form
 * down to 1e-4); 123456789.4 has nine digits before the point; 999999999.9 and 0.99999999996
 * round up to the next power of ten; integers are exact however long (1.5e12); outside
 * [1e-4, 1e9) the exponent form of %.9g: 5e-05, 2.5e+09 (2500000000.5 to 9 digits);
 * 0.1 + 0.2 is 0.3 to 9 digits; -0 is 0. */
/* Two models reporting on one entity at one instant make one row: each cell from the first
 * row that has it; entities in the order they first appear at that instant. */
static void test_csv_rows_merge_per_entity_and_instant(void) {
  g_autoptr(met_table) t = met_table_new();
  met_id a = met_entity(t, "a", "vm", 1), b = met_entity(t, "b", "vm", 1);
  met_column(t, "cpu");
  met_column(t, "mem");
  const double cpu_a[] = {1, NAN}, cpu_b[] = {2, NAN}, mem_a[] = {NAN, 10}, later[] = {3, NAN};
  met_row(t, a, 1000000000, cpu_a);
  met_row(t, b, 1000000000, cpu_b);
  met_row(t, a, 1000000000, mem_a);
  met_row(t, a, 2000000000, later);
  g_autofree char *csv = out_metrics_csv(t);
  g_assert_cmpstr(csv, ==,
                  "time_s,entity,kind,layer,cpu,mem\n"
                  "1,a,vm,1,1,10\n"
                  "1,b,vm,1,2,\n"
                  "2,a,vm,1,3,\n");
}

static void test_csv_metric_numbers(void) {
  static const struct {
    double v;
    const char *text;
  } cases[] = {
      {1.0 / 3.0, "0.333333333"}, {100.0 / 3.0, "33.3333333"}, {2.0 / 3.0, "0.666666667"},
      {12.5, "12.5"},             {-0.125, "-0.125"},          {0.00012345, "0.00012345"},
      {123456789.4, "123456789"}, {999999999.9, "1000000000"}, {0.99999999996, "1"},
      {1.5e12, "1500000000000"},  {5e-5, "5e-05"},             {2500000000.5, "2.5e+09"},
      {0.1 + 0.2, "0.3"},         {-0.0, "0"},
  };
  g_autoptr(met_table) t = met_table_new();
  met_id e = met_entity(t, "e", "vm", 1);
  met_column(t, "v");
  g_autoptr(GString) want = g_string_new("time_s,entity,kind,layer,v\n");
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    /* One row per second: rows of one entity at one instant would be merged. */
    met_row(t, e, (int64_t)i * 1000000000, &cases[i].v);
    g_string_append_printf(want, "%u,e,vm,1,%s\n", i, cases[i].text);
  }
  g_autofree char *csv = out_metrics_csv(t);
  g_assert_cmpstr(csv, ==, want->str);
}

/* No rows, no columns: just the fixed header. */
static void test_csv_empty(void) {
  g_autoptr(met_table) t = met_table_new();
  g_autofree char *csv = out_metrics_csv(t);
  g_assert_cmpstr(csv, ==, "time_s,entity,kind,layer\n");
}

/* A line break inside a field is quoted too, so the row stays one record. */
static void test_csv_line_break_quoted(void) {
  g_autoptr(met_table) t = met_table_new();
  met_id a = met_entity(t, "x\ny", "vm", 1);
  met_row(t, a, 0, NULL);
  g_autofree char *csv = out_metrics_csv(t);
  g_assert_cmpstr(csv, ==, "time_s,entity,kind,layer\n0,\"x\ny\",vm,1\n");
}

/* ---------------------------------------------------------------------------------------------
 * Determinism */

static met_table *busy_table(void) {
  met_table *t = small_lab();
  met_column(t, "%USED");
  met_column(t, "%RDY");
  for (guint r = 0; r < 200; r++)
    for (met_id e = 0; e < met_n_entities(t); e++)
      met_row(t, e, (int64_t)(r + 1) * 5000000000, (double[]){r / 7.0, e ? NAN : r * 0.1});
  return t;
}

/* Two tables built the same way give byte-identical files and stdout summaries. */
static void test_deterministic(void) {
  g_autoptr(met_table) t1 = busy_table();
  g_autoptr(met_table) t2 = busy_table();
  g_autofree char *j1 = out_summary_json(&lab_info, t1), *j2 = out_summary_json(&lab_info, t2);
  g_autofree char *c1 = out_metrics_csv(t1), *c2 = out_metrics_csv(t2);
  g_assert_cmpstr(j1, ==, j2);
  g_assert_cmpstr(c1, ==, c2);
  for (int fmt = OUT_TABLE; fmt <= OUT_CSV; fmt++) {
    g_autofree char *p1 = print_to_string(fmt, &lab_info, t1, TRUE);
    g_autofree char *p2 = print_to_string(fmt, &lab_info, t2, TRUE);
    g_assert_cmpstr(p1, ==, p2);
  }
}

/* ---------------------------------------------------------------------------------------------
 * The results folder */

static int cmp_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in `dir`, sorted, joined by spaces. */
static char *dir_names(const char *dir) {
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  GDir *d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  for (const char *n; (n = g_dir_read_name(d));) g_ptr_array_add(names, g_strdup(n));
  g_dir_close(d);
  g_ptr_array_sort(names, cmp_names);
  g_ptr_array_add(names, NULL);
  return g_strjoinv(" ", (char **)names->pdata);
}

/* A run into a new nested folder creates it and writes exactly summary.json, metrics.csv and
 * the extra files, with the writers' texts: no temporary file is left behind. */
static void test_dir_writes_files(void) {
  g_autofree char *tmp = tu_scratch("nestsim-out-XXXXXX");
  g_autofree char *dir = g_build_filename(tmp, "results", "lab", "42", NULL);
  g_autoptr(met_table) t = busy_table();
  g_autoptr(GHashTable) extra = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GString) trace = g_string_new("t,vcpu,cpu\n0,a,1\n");
  g_hash_table_insert(extra, "trace.csv", trace);
  g_autoptr(GError) error = NULL;
  g_assert_true(out_write_dir(dir, &lab_info, t, extra, &error));
  g_assert_no_error(error);

  g_autofree char *names = dir_names(dir);
  g_assert_cmpstr(names, ==, "metrics.csv summary.json trace.csv");
  g_autofree char *json = read_file(dir, "summary.json");
  g_autofree char *want_json = out_summary_json(&lab_info, t);
  g_autofree char *csv = read_file(dir, "metrics.csv"), *want_csv = out_metrics_csv(t);
  g_autofree char *tr = read_file(dir, "trace.csv");
  g_assert_cmpstr(json, ==, want_json);
  g_assert_cmpstr(csv, ==, want_csv);
  g_assert_cmpstr(tr, ==, trace->str);
  tu_rm_rf(tmp);
}

/* A second run into the same folder replaces every file it writes (the old summary's seed is
 * gone), and still leaves no temporary files. */
static void test_dir_replaces_existing(void) {
  g_autofree char *dir = tu_scratch("nestsim-out-XXXXXX");
  g_autoptr(met_table) t1 = busy_table();
  g_autoptr(met_table) t2 = met_table_new();
  met_entity(t2, "other", "host", 0);
  out_run_info info2 = lab_info;
  info2.seed = 7;
  g_autoptr(GError) error = NULL;
  g_assert_true(out_write_dir(dir, &lab_info, t1, NULL, &error));
  g_assert_true(out_write_dir(dir, &info2, t2, NULL, &error));
  g_assert_no_error(error);
  g_autofree char *names = dir_names(dir);
  g_assert_cmpstr(names, ==, "metrics.csv summary.json");
  g_autofree char *json = read_file(dir, "summary.json"), *want_json = out_summary_json(&info2, t2);
  g_autofree char *csv = read_file(dir, "metrics.csv");
  g_assert_cmpstr(json, ==, want_json);
  g_assert_nonnull(strstr(json, "\"seed\": 7,"));
  g_assert_cmpstr(csv, ==, "time_s,entity,kind,layer\n");
  tu_rm_rf(dir);
}

/* A results path that is a regular file fails with a message naming it, and the file is left
 * as it was; so does a path below a regular file (with the OS's reason). */
static void test_dir_regular_file_fails(void) {
  g_autofree char *tmp = tu_scratch("nestsim-out-XXXXXX");
  g_autofree char *file = g_build_filename(tmp, "taken", NULL);
  g_assert_true(g_file_set_contents(file, "mine", -1, NULL));
  g_autoptr(met_table) t = small_lab();
  g_autoptr(GError) error = NULL;
  g_assert_false(out_write_dir(file, &lab_info, t, NULL, &error));
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR);
  g_autofree char *want =
      g_strdup_printf("cannot write results into '%s': it exists and is not a folder", file);
  g_assert_cmpstr(error->message, ==, want);
  g_autofree char *still = read_file(tmp, "taken");
  g_assert_cmpstr(still, ==, "mine");

  g_clear_error(&error);
  g_autofree char *below = g_build_filename(file, "sub", NULL);
  g_assert_false(out_write_dir(below, &lab_info, t, NULL, &error));
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR);
  g_autofree char *want2 =
      g_strdup_printf("cannot create results folder '%s': %s", below, g_strerror(ENOTDIR));
  g_assert_cmpstr(error->message, ==, want2);
  g_autofree char *names = dir_names(tmp);
  g_assert_cmpstr(names, ==, "taken");
  tu_rm_rf(tmp);
}

/* When one file cannot be written (here metrics.csv is taken by a folder, which rename cannot
 * replace even as root), the run fails with the file's path, removes its temporary file and
 * writes no summary.json: the folder does not look complete. */
static void test_dir_file_write_fails(void) {
  g_autofree char *dir = tu_scratch("nestsim-out-XXXXXX");
  g_autofree char *blocker = g_build_filename(dir, "metrics.csv", NULL);
  g_autofree char *inside = g_build_filename(blocker, "x", NULL);
  g_assert_cmpint(g_mkdir(blocker, 0700), ==, 0);
  g_assert_true(g_file_set_contents(inside, "", -1, NULL));
  g_autoptr(met_table) t = small_lab();
  g_autoptr(GError) error = NULL;
  g_assert_false(out_write_dir(dir, &lab_info, t, NULL, &error));
  g_assert_nonnull(error);
  g_autofree char *prefix = g_strdup_printf("cannot write '%s': ", blocker);
  g_assert_true(g_str_has_prefix(error->message, prefix));
  g_autofree char *names = dir_names(dir);
  g_assert_cmpstr(names, ==, "metrics.csv");
  tu_rm_rf(dir);
}

/* A folder the user may not write into fails up front with the OS's reason. Root may write
 * anywhere, so this only runs as another user. */
static void test_dir_not_writable_fails(void) {
  if (geteuid() == 0) {
    g_test_skip("root can write into a read-only folder");
    return;
  }
  g_autofree char *dir = tu_scratch("nestsim-out-XXXXXX");
  g_assert_cmpint(g_chmod(dir, 0500), ==, 0);
  g_autoptr(met_table) t = small_lab();
  g_autoptr(GError) error = NULL;
  g_assert_false(out_write_dir(dir, &lab_info, t, NULL, &error));
  g_autofree char *want =
      g_strdup_printf("cannot write results into '%s': %s", dir, g_strerror(EACCES));
  g_assert_cmpstr(error->message, ==, want);
  g_chmod(dir, 0700);
  tu_rm_rf(dir);
}

/* ---------------------------------------------------------------------------------------------
 * The stdout summary */

/* The tables of the small lab, laid out by hand:
 * - a first line with the run; then per kind a blank line, "kind (count)", header, rows;
 * - host: columns entity (width 6 = "entity"), %USED (5), memory_gb (9), numbers right-aligned;
 *   61.26 is a percentage, so one decimal: "61.3"; 128 an integer;
 * - vm: keys in first-seen order over the VMs: %USED %RDY status (from vESX1), effective_pct
 *   completion_s (from web1). The path column is 18 wide ("  esx01/vESX1/web1": layer 2 is one
 *   level below the table's shallowest, layer 1, so two spaces of indent). "status" holds text,
 *   so it is left-aligned (width 7 = "running"); the others are numbers, right-aligned.
 *   12.345 -> "12.3" and 12.5 -> "12.5" (percentages), 83.25 -> "83.25" (4 significant digits).
 *   db1 has no values: its row is just its path (trailing blanks trimmed);
 * - the vCPU table appears only with `all`. */
static const char table_head[] =
    "lab, seed 42: 600 s simulated after 60 s warm-up, 1234 events\n"
    "\n"
    "host (1)\n"
    "entity  %USED  memory_gb\n"
    "esx01    61.3        128\n"
    "\n"
    "vm (3)\n"
    "entity              %USED  %RDY  status   effective_pct  completion_s\n"
    "esx01/vESX1          50.0  12.3  running\n"
    "  esx01/vESX1/web1   50.0                          12.5         83.25\n"
    "  esx01/vESX1/db1\n";
static const char table_vcpu[] =
    "\n"
    "vcpu (1)\n"
    "entity                  %USED\n"
    "esx01/vESX1/web1/vcpu0   50.0\n";

static void test_table_alignment(void) {
  g_autoptr(met_table) t = small_lab();
  g_autofree char *text = print_to_string(OUT_TABLE, &lab_info, t, FALSE);
  g_assert_cmpstr(text, ==, table_head);
  g_autofree char *with_vcpus = print_to_string(OUT_TABLE, &lab_info, t, TRUE);
  g_autofree char *want = g_strconcat(table_head, table_vcpu, NULL);
  g_assert_cmpstr(with_vcpus, ==, want);
}

/* Kinds come in the fixed order host, hypervisor, vm, then the others in the order their
 * first entity was registered, whatever the registration order of the fixed ones. */
static void test_table_kind_order(void) {
  g_autoptr(met_table) t = met_table_new();
  met_entity(t, "h/v/n0", "vnic", 2);
  met_entity(t, "h/v", "vm", 1);
  met_entity(t, "h/ds", "datastore", 1);
  met_entity(t, "h/esxi", "hypervisor", 0);
  met_entity(t, "h", "host", 0);
  g_autofree char *text = print_to_string(OUT_TABLE, NULL, t, FALSE);
  g_assert_cmpstr(text, ==,
                  "\nhost (1)\nentity\nh\n"
                  "\nhypervisor (1)\nentity\nh/esxi\n"
                  "\nvm (1)\nentity\nh/v\n"
                  "\nvnic (1)\nentity\nh/v/n0\n"
                  "\ndatastore (1)\nentity\nh/ds\n");
}

/* --format csv: every entity (vCPUs too), the union of all keys in first-seen order, numbers in
 * the files' shortest exact form (61.26, 12.345), missing values empty. */
/* The stdout table leaves out a column that is zero or missing for every entity of a kind
 * (unless all), and shows attr_* keys as a table of their own. Expected text by hand: vm 'a'
 * has %USED 50 and drops 0, 'b' has %USED 25 and no drops key; both have attr_guest_pct. */
static void test_print_hides_zero_columns_and_splits_attribution(void) {
  g_autoptr(met_table) t = met_table_new();
  met_id a = met_entity(t, "h/a", "vm", 1), b = met_entity(t, "h/b", "vm", 1);
  met_set_num(t, a, "%USED", 50);
  met_set_num(t, a, "drops", 0);
  met_set_num(t, a, "attr_guest_pct", 40);
  met_set_num(t, b, "%USED", 25);
  met_set_num(t, b, "attr_guest_pct", 20);
  g_autofree char *brief = print_to_string(OUT_TABLE, NULL, t, FALSE);
  g_assert_cmpstr(brief, ==,
                  "\nvm (2)\n"
                  "entity  %USED\n"
                  "h/a      50.0\n"
                  "h/b      25.0\n"
                  "\nvm (2): where the time goes, % of its vCPUs x elapsed time\n"
                  "entity  attr_guest_pct\n"
                  "h/a               40.0\n"
                  "h/b               20.0\n");
  g_autofree char *full = print_to_string(OUT_TABLE, NULL, t, TRUE);
  g_assert_nonnull(strstr(full, "entity  %USED  drops\n"));
}

static void test_print_csv(void) {
  g_autoptr(met_table) t = small_lab();
  g_autofree char *text = print_to_string(OUT_CSV, &lab_info, t, FALSE);
  g_assert_cmpstr(text, ==,
                  "entity,kind,layer,%USED,memory_gb,%RDY,status,effective_pct,completion_s\n"
                  "esx01,host,0,61.26,128,,,,\n"
                  "esx01/vESX1,vm,1,50,,12.345,running,,\n"
                  "esx01/vESX1/web1,vm,2,50,,,,12.5,83.25\n"
                  "esx01/vESX1/web1/vcpu0,vcpu,3,50,,,,,\n"
                  "esx01/vESX1/db1,vm,2,,,,,,\n");
}

/* --format json is summary.json's text. */
static void test_print_json(void) {
  g_autoptr(met_table) t = small_lab();
  g_autofree char *text = print_to_string(OUT_JSON, &lab_info, t, FALSE);
  g_autofree char *want = out_summary_json(&lab_info, t);
  g_assert_cmpstr(text, ==, want);
}

/* ---------------------------------------------------------------------------------------------
 * The scenario text and --set values (issue 8), and reading summary.json back. */

/* With the scenario text given, "set" comes after "events" with its values in name order (a
 * hash table has no order; names sorted by strcmp: "a" < "b" < "nested_hosts"), values as JSON
 * strings, and "scenario_text" comes last, one JSON string (line breaks as \n). Without any
 * --set, "set" is an empty object. */
static void test_json_scenario_text_and_set(void) {
  g_autoptr(met_table) t = met_table_new();
  met_entity(t, "h", "host", 0);
  g_autoptr(GHashTable) set = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(set, "nested_hosts", "2");
  g_hash_table_insert(set, "b", "x\"y");
  g_hash_table_insert(set, "a", "");
  out_run_info info = lab_info;
  info.scenario_text = "-- lab\nscenario { name = \"lab\" }\n";
  info.set = set;
  g_autofree char *json = out_summary_json(&info, t);
  g_assert_cmpstr(json, ==,
                  "{\n"
                  "  \"scenario\": \"lab\",\n"
                  "  \"file\": \"lab.lua\",\n"
                  "  \"seed\": 42,\n"
                  "  \"version\": \"0.1.0\",\n"
                  "  \"duration_s\": 600,\n"
                  "  \"warmup_s\": 60,\n"
                  "  \"interval_s\": 5,\n"
                  "  \"events\": 1234,\n"
                  "  \"set\": {\n"
                  "    \"a\": \"\",\n"
                  "    \"b\": \"x\\\"y\",\n"
                  "    \"nested_hosts\": \"2\"\n"
                  "  },\n"
                  "  \"entities\": {\n"
                  "    \"h\": {\n"
                  "      \"kind\": \"host\",\n"
                  "      \"layer\": 0\n"
                  "    }\n"
                  "  },\n"
                  "  \"scenario_text\": \"-- lab\\nscenario { name = \\\"lab\\\" }\\n\"\n"
                  "}\n");
  info.set = NULL;
  g_autoptr(met_table) empty = met_table_new();
  g_autofree char *json2 = out_summary_json(&info, empty);
  g_assert_nonnull(strstr(json2, "  \"events\": 1234,\n  \"set\": {},\n  \"entities\": {},\n"
                                 "  \"scenario_text\": "));
}

/* Parses json, asserts it parsed, and that writing what was read gives the same text back:
 * the reader loses nothing the writer wrote. */
static out_summary *parse_round_trip(const char *json) {
  g_autoptr(GError) error = NULL;
  out_summary *s = out_summary_parse(json, &error);
  g_assert_no_error(error);
  g_assert_nonnull(s);
  g_autofree char *again = out_summary_json(out_summary_info(s), out_summary_table(s));
  g_assert_cmpstr(again, ==, json);
  return s;
}

/* The reader gives back every field: the largest seed exactly (not through a double), times
 * to the nanosecond (1.5 s, 0.1 s), NaN for null, strings and numbers in their order, the
 * scenario text and the --set values; a summary without them has neither. */
static void test_read_round_trip(void) {
  g_autoptr(met_table) t = small_lab();
  met_set_num(t, 0, "nan", NAN);
  met_set_num(t, 0, "tiny", 1e-300);
  met_set_num(t, 0, "third", 1.0 / 3);
  g_autoptr(GHashTable) set = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(set, "n", "4");
  out_run_info info = {.scenario = "lab",
                       .file = NULL,
                       .seed = G_MAXUINT64,
                       .version = "0.1.0",
                       .duration_ns = 600000000001,
                       .warmup_ns = 1500000000,
                       .interval_ns = 100000000,
                       .events = 7,
                       .scenario_text = "x = 1\n\t\"<script>\"\n",
                       .set = set};
  g_autofree char *json = out_summary_json(&info, t);
  g_autoptr(out_summary) s = parse_round_trip(json);
  const out_run_info *r = out_summary_info(s);
  g_assert_cmpstr(r->scenario, ==, "lab");
  g_assert_null(r->file);
  g_assert_cmpuint(r->seed, ==, G_MAXUINT64);
  g_assert_cmpint(r->duration_ns, ==, 600000000001);
  g_assert_cmpint(r->warmup_ns, ==, 1500000000);
  g_assert_cmpint(r->interval_ns, ==, 100000000);
  g_assert_cmpuint(r->events, ==, 7);
  g_assert_cmpstr(r->scenario_text, ==, info.scenario_text);
  g_assert_cmpuint(g_hash_table_size(r->set), ==, 1);
  g_assert_cmpstr(g_hash_table_lookup(r->set, "n"), ==, "4");
  const met_table *rt = out_summary_table(s);
  g_assert_cmpuint(met_n_entities(rt), ==, 5);
  g_assert_cmpstr(met_entity_path(rt, 2), ==, "esx01/vESX1/web1");
  g_assert_cmpint(met_entity_layer(rt, 2), ==, 2);
  g_assert_cmpfloat(met_get_num(rt, 2, "effective_pct"), ==, 12.5);
  g_assert_cmpfloat(met_get_num(rt, 0, "third"), ==, 1.0 / 3);
  g_assert_true(isnan(met_get_num(rt, 0, "nan")));
  g_assert_cmpstr(met_get_str(rt, 1, "status"), ==, "running");

  /* The documents of the writer tests above, which have no scenario text. */
  info.scenario_text = NULL;
  g_autofree char *plain = out_summary_json(&info, t);
  g_autoptr(out_summary) p = parse_round_trip(plain);
  g_assert_null(out_summary_info(p)->scenario_text);
  g_assert_null(out_summary_info(p)->set);
  g_autoptr(met_table) none = met_table_new();
  g_autofree char *empty = out_summary_json(&lab_info, none);
  g_autoptr(out_summary) e = parse_round_trip(empty);
}

/* Every ASCII character from 1 to 127, multi-byte UTF-8 and the escapes of the writer's
 * escaping test come back as they went in, in paths, keys and values. A \u escape of a
 * character outside the BMP written as a UTF-16 surrogate pair (as other JSON writers do)
 * reads as that character. */
static void test_read_escapes(void) {
  char all[128];
  for (int i = 1; i < 128; i++) all[i - 1] = (char)i;
  all[127] = '\0';
  const char *strings[] = {all, "\xe2\x80\xa8 \xf0\x9f\x98\x80 \xc3\xa9",
                           "a\"b\\c\n\t\x01\x1f\x7f/\xc3\xbc"};
  for (guint i = 0; i < G_N_ELEMENTS(strings); i++) {
    g_autoptr(met_table) t = met_table_new();
    met_id e = met_entity(t, strings[i], "vm", 1);
    met_set_str(t, e, strings[i], strings[i]);
    g_autofree char *json = out_summary_json(&lab_info, t);
    g_autoptr(out_summary) s = parse_round_trip(json);
    g_assert_cmpstr(met_get_str(out_summary_table(s), 0, strings[i]), ==, strings[i]);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(out_summary) s = out_summary_parse(
      "{\"entities\": {\"\\ud83d\\ude00\\u00e9\\/\": {\"kind\": \"vm\", \"layer\": 1}}}", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(met_entity_path(out_summary_table(s), 0), ==, "\xf0\x9f\x98\x80\xc3\xa9/");
}

/* Keys the reader does not know are skipped whatever their type (a later version may add
 * some), and JSON's other whitespace is accepted. */
static void test_read_skips_unknown(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(out_summary) s = out_summary_parse(
      " {\"new\": [1, {\"a\": [true, false, null, \"]}\"]}, -2.5e3],\r\n\t\"seed\": 9,"
      "\"entities\": {\"h\": {\"kind\": \"host\", \"layer\": 0, \"x\": -0.5}}, \"z\": {}} \n",
      &error);
  g_assert_no_error(error);
  g_assert_cmpuint(out_summary_info(s)->seed, ==, 9);
  g_assert_cmpfloat(met_get_num(out_summary_table(s), 0, "x"), ==, -0.5);
}

/* Input that is not a summary fails with the line of the mistake, and nothing leaks. */
static void test_read_errors(void) {
  static const struct {
    const char *json, *message;
  } cases[] = {
      {"", "line 1: expected an object"},
      {"{\n\"seed\": 1,\n}", "line 3: expected a string"},
      {"{\"seed\": -1, \"entities\": {}}", "line 1: expected an integer >= 0"},
      {"{\"seed\": 18446744073709551616, \"entities\": {}}", "line 1: expected an integer >= 0"},
      {"{\"duration_s\": 1.0000000001, \"entities\": {}}",
       "line 1: expected a time in seconds with at most 9 decimals"},
      {"{\"seed\": 1}", "line 1: no \"entities\": not a summary.json written by nestsim run"},
      {"{\"entities\": {}} x", "line 1: text after the end of the document"},
      {"{\"entities\": {\"a\": {\"layer\": 0}}}",
       "line 1: an entity without \"kind\" or \"layer\""},
      {"{\"entities\": {\"a\": {\"kind\": \"vm\", \"x\": 1}}}",
       "line 1: expected \"kind\" and \"layer\" first"},
      {"{\"entities\": {\"a\": {\"kind\": \"vm\", \"layer\": 1},\n\"a\": {}}}",
       "line 2: an entity listed twice"},
      {"{\"entities\": {\"a\": {\"kind\": \"vm\", \"layer\": 1, \"x\": nan}}}",
       "line 1: expected a number"},
      {"{\"entities\": {\"a\": {\"kind\": \"vm\", \"layer\": 1, \"x\": \"a\nb\"}}}",
       "line 1: a control character inside a string"},
      {"{\"entities\": {\"a\": {\"kind\": \"vm\", \"layer\": 1, \"x\": \"\\q\"}}}",
       "line 1: an unknown escape inside a string"},
      {"{\"scenario\": \"abc", "line 1: a string without its end"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(out_summary) s = out_summary_parse(cases[i].json, &error);
    g_assert_null(s);
    g_assert_error(error, OUT_ERROR, OUT_ERROR_PARSE);
    g_assert_cmpstr(error->message, ==, cases[i].message);
  }
  /* 100 nested arrays under an unknown key: refused, not a stack overflow. */
  g_autoptr(GString) deep = g_string_new("{\"x\": ");
  for (int i = 0; i < 100; i++) g_string_append_c(deep, '[');
  g_autoptr(GError) error = NULL;
  g_autoptr(out_summary) s = out_summary_parse(deep->str, &error);
  g_assert_null(s);
  g_assert_cmpstr(error->message, ==, "line 1: nested too deeply");
}

/* out_summary_read reads what out_write_dir wrote; a folder without a summary names the file. */
static void test_read_dir(void) {
  g_autofree char *dir = tu_scratch("nestsim-out-XXXXXX");
  g_autoptr(met_table) t = small_lab();
  g_autoptr(GError) error = NULL;
  g_autoptr(out_summary) none = out_summary_read(dir, &error);
  g_assert_null(none);
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull(strstr(error->message, "summary.json"));
  g_clear_error(&error);
  g_assert_true(out_write_dir(dir, &lab_info, t, NULL, &error));
  g_autoptr(out_summary) s = out_summary_read(dir, &error);
  g_assert_no_error(error);
  g_autofree char *again = out_summary_json(out_summary_info(s), out_summary_table(s));
  g_autofree char *json = read_file(dir, "summary.json");
  g_assert_cmpstr(again, ==, json);
  tu_rm_rf(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/out/json/document", test_json_document);
  g_test_add_func("/out/json/no-entities", test_json_no_entities);
  g_test_add_func("/out/json/numbers-shortest-exact-nan-null", test_json_numbers);
  g_test_add_func("/out/json/escaping", test_json_escaping);
  g_test_add_func("/out/json/escaping-round-trip", test_json_escaping_round_trip);
  g_test_add_func("/out/csv/metrics-quoting-and-nan", test_csv_metrics);
  g_test_add_func("/out/csv/nine-significant-digits", test_csv_metric_numbers);
  g_test_add_func("/out/csv/empty", test_csv_empty);
  g_test_add_func("/out/csv/line-break-quoted", test_csv_line_break_quoted);
  g_test_add_func("/out/deterministic", test_deterministic);
  g_test_add_func("/out/dir/writes-files-no-temporaries", test_dir_writes_files);
  g_test_add_func("/out/dir/replaces-existing", test_dir_replaces_existing);
  g_test_add_func("/out/dir/regular-file-fails", test_dir_regular_file_fails);
  g_test_add_func("/out/dir/file-write-fails-no-summary", test_dir_file_write_fails);
  g_test_add_func("/out/dir/not-writable-fails", test_dir_not_writable_fails);
  g_test_add_func("/out/table/alignment", test_table_alignment);
  g_test_add_func("/out/table/kind-order", test_table_kind_order);
  g_test_add_func("/out/print/table-hides-zero-columns-and-splits-attribution",
                  test_print_hides_zero_columns_and_splits_attribution);
  g_test_add_func("/out/metrics/rows-of-one-entity-and-instant-merge",
                  test_csv_rows_merge_per_entity_and_instant);
  g_test_add_func("/out/print/csv", test_print_csv);
  g_test_add_func("/out/print/json", test_print_json);
  g_test_add_func("/out/json/scenario-text-and-set", test_json_scenario_text_and_set);
  g_test_add_func("/out/read/round-trip-every-field", test_read_round_trip);
  g_test_add_func("/out/read/escapes", test_read_escapes);
  g_test_add_func("/out/read/skips-unknown-keys", test_read_skips_unknown);
  g_test_add_func("/out/read/errors-name-the-line", test_read_errors);
  g_test_add_func("/out/read/dir", test_read_dir);
  return g_test_run();
}
