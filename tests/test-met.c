/* test-met.c — the metrics table keeps what models put in it: entities by path, interval rows
 * column for column, summary values in the order first set. */
#include <glib.h>
#include <math.h>

#include "src/met.h"

/* Entities get consecutive ids from 0 in registration order, and every attribute comes back as
 * given; the kind string is the table's own copy, not the caller's buffer. */
static void test_entities_register_and_lookup(void) {
  g_autoptr(met_table) t = met_table_new();
  char kind[] = "host";
  met_id h = met_entity(t, "esx01", kind, 0);
  kind[0] = 'X'; /* the table must have copied it */
  met_id v = met_entity(t, "esx01/vESX1", "vm", 1);
  met_id w = met_entity(t, "esx01/vESX1/web1", "vm", 2);
  g_assert_cmpuint(h, ==, 0);
  g_assert_cmpuint(v, ==, 1);
  g_assert_cmpuint(w, ==, 2);
  g_assert_cmpuint(met_n_entities(t), ==, 3);
  g_assert_cmpstr(met_entity_path(t, w), ==, "esx01/vESX1/web1");
  g_assert_cmpstr(met_entity_kind(t, h), ==, "host");
  g_assert_cmpstr(met_entity_kind(t, w), ==, "vm");
  g_assert_cmpint(met_entity_layer(t, v), ==, 1);
  g_assert_cmpint(met_lookup(t, "esx01/vESX1"), ==, 1);
  g_assert_cmpint(met_lookup(t, "esx01"), ==, 0);
  /* A prefix, an extension and the empty string are other paths, not matches. */
  g_assert_cmpint(met_lookup(t, "esx01/vESX"), ==, -1);
  g_assert_cmpint(met_lookup(t, "esx01/vESX1/web1/vcpu0"), ==, -1);
  g_assert_cmpint(met_lookup(t, ""), ==, -1);
}

/* Registering a path twice is a programmer bug: the subprocess must die on the assertion. */
static void test_entities_duplicate_path_asserts(void) {
  if (g_test_subprocess()) {
    g_autoptr(met_table) t = met_table_new();
    met_entity(t, "esx01/vm1", "vm", 1);
    met_entity(t, "esx01/vm1", "vcpu", 1);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
}

/* A column name registered twice is the same column (models that share a counter name share
 * the column), and indices follow registration order. */
static void test_columns_idempotent(void) {
  g_autoptr(met_table) t = met_table_new();
  g_assert_cmpuint(met_column(t, "%USED"), ==, 0);
  g_assert_cmpuint(met_column(t, "%RDY"), ==, 1);
  g_assert_cmpuint(met_column(t, "%USED"), ==, 0);
  g_assert_cmpuint(met_n_columns(t), ==, 2);
  g_assert_cmpstr(met_column_name(t, 1), ==, "%RDY");
}

/* A new column after the first row would change the width of the rows already stored. */
static void test_columns_after_first_row_assert(void) {
  if (g_test_subprocess()) {
    g_autoptr(met_table) t = met_table_new();
    met_id e = met_entity(t, "h", "host", 0);
    met_column(t, "%USED");
    double v[] = {1};
    met_row(t, e, 1, v);
    met_column(t, "%RDY");
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
}

/* Rows come back in append order with their entity, time and every value bit for bit,
 * NaN included, even after the arrays behind them have grown many times. */
static void test_rows_round_trip(void) {
  g_autoptr(met_table) t = met_table_new();
  met_id a = met_entity(t, "a", "vm", 1);
  met_id b = met_entity(t, "b", "vcpu", 2);
  met_column(t, "x");
  met_column(t, "y");
  met_column(t, "z");
  const guint n = 10000;
  for (guint r = 0; r < n; r++) {
    double v[3] = {r, -0.5 * r, r % 7 == 0 ? NAN : 1.0 / (r + 1)};
    met_row(t, r % 2 ? b : a, (int64_t)r * 5000000000, v);
  }
  g_assert_cmpuint(met_n_rows(t), ==, n);
  for (guint r = 0; r < n; r++) {
    met_id e = 99;
    int64_t when = -1;
    const double *v = met_row_get(t, r, &e, &when);
    g_assert_cmpuint(e, ==, r % 2 ? b : a);
    g_assert_cmpint(when, ==, (int64_t)r * 5000000000);
    g_assert_cmpfloat(v[0], ==, r);
    g_assert_cmpfloat(v[1], ==, -0.5 * r);
    if (r % 7 == 0)
      g_assert_true(isnan(v[2]));
    else
      g_assert_cmpfloat(v[2], ==, 1.0 / (r + 1));
  }
  /* The OUT arguments are optional. */
  g_assert_cmpfloat(met_row_get(t, 3, NULL, NULL)[0], ==, 3);
}

/* A table without columns still records which entity reported when. */
static void test_rows_without_columns(void) {
  g_autoptr(met_table) t = met_table_new();
  met_id e = met_entity(t, "h", "host", 0);
  met_row(t, e, 7, NULL);
  met_id got = 1;
  int64_t when = 0;
  met_row_get(t, 0, &got, &when);
  g_assert_cmpuint(met_n_rows(t), ==, 1);
  g_assert_cmpuint(got, ==, e);
  g_assert_cmpint(when, ==, 7);
}

typedef struct {
  GString *s;
} collect;

static void collect_value(const char *key, double num, const char *str, void *user) {
  collect *c = user;
  if (str)
    g_string_append_printf(c->s, "%s=\"%s\";", key, str);
  else
    g_string_append_printf(c->s, "%s=%g;", key, num);
}

/* Summary values keep the order they were first set in; setting a key again replaces the
 * value where it stands, also from number to string and back; entities don't share values. */
static void test_summary_order_and_overwrite(void) {
  g_autoptr(met_table) t = met_table_new();
  met_id e = met_entity(t, "esx01/vESX1/web1", "vm", 2);
  met_id other = met_entity(t, "esx01/vESX1/web2", "vm", 2);
  met_set_num(t, e, "%USED", 50);
  met_set_str(t, e, "status", "running");
  met_set_num(t, e, "effective_pct", 12.5);
  met_set_num(t, e, "%RDY", 1);
  met_set_num(t, e, "%USED", 49);           /* overwrite a number */
  met_set_str(t, e, "status", "done");      /* overwrite a string */
  met_set_str(t, e, "%RDY", "n/a");         /* number -> string */
  met_set_num(t, e, "effective_pct", 12.0); /* stays where it was */
  met_set_num(t, other, "z", 3);

  g_autoptr(GString) s = g_string_new(NULL);
  collect c = {s};
  met_foreach_value(t, e, collect_value, &c);
  g_assert_cmpstr(s->str, ==, "%USED=49;status=\"done\";effective_pct=12;%RDY=\"n/a\";");

  g_assert_cmpfloat(met_get_num(t, e, "%USED"), ==, 49);
  g_assert_cmpstr(met_get_str(t, e, "status"), ==, "done");
  /* The getters of the other type and of missing keys say "not set". */
  g_assert_true(isnan(met_get_num(t, e, "status")));
  g_assert_null(met_get_str(t, e, "%USED"));
  g_assert_true(isnan(met_get_num(t, e, "missing")));
  g_assert_null(met_get_str(t, e, "missing"));
  g_assert_true(isnan(met_get_num(t, other, "%USED")));
  g_assert_cmpfloat(met_get_num(t, other, "z"), ==, 3);

  /* String -> number again, and a string set from the value it replaces. */
  met_set_num(t, e, "%RDY", 2);
  g_assert_null(met_get_str(t, e, "%RDY"));
  g_assert_cmpfloat(met_get_num(t, e, "%RDY"), ==, 2);
  met_set_str(t, e, "status", met_get_str(t, e, "status"));
  g_assert_cmpstr(met_get_str(t, e, "status"), ==, "done");
}

/* An entity with no summary values calls back nothing. */
static void test_summary_empty(void) {
  g_autoptr(met_table) t = met_table_new();
  met_id e = met_entity(t, "h", "host", 0);
  g_autoptr(GString) s = g_string_new(NULL);
  collect c = {s};
  met_foreach_value(t, e, collect_value, &c);
  g_assert_cmpstr(s->str, ==, "");
}

/* "kind" and "layer" are written beside the summary values in summary.json, and "entity" heads
 * the CSV summary; a summary value of that name would produce a duplicate key. */
static void test_summary_reserved_key_asserts(void) {
  if (g_test_subprocess()) {
    g_autoptr(met_table) t = met_table_new();
    met_id e = met_entity(t, "h", "host", 0);
    met_set_str(t, e, "kind", "vm");
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
}

/* A datacenter-sized table: 100k entities each found again by path, with 3 summary values. */
static void test_many_entities(void) {
  g_autoptr(met_table) t = met_table_new();
  const guint n = 100000;
  for (guint i = 0; i < n; i++) {
    g_autofree char *p = g_strdup_printf("esx%04u/vm%02u/vcpu%u", i / 100, i / 4 % 25, i % 4);
    met_id e = met_entity(t, p, "vcpu", 2);
    g_assert_cmpuint(e, ==, i);
    met_set_num(t, e, "%USED", i);
    met_set_num(t, e, "%RDY", 0);
    met_set_num(t, e, "%USED", i + 0.5);
  }
  for (guint i = 0; i < n; i += 997) {
    g_autofree char *p = g_strdup_printf("esx%04u/vm%02u/vcpu%u", i / 100, i / 4 % 25, i % 4);
    g_assert_cmpint(met_lookup(t, p), ==, i);
    g_assert_cmpfloat(met_get_num(t, i, "%USED"), ==, i + 0.5);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/met/entities/register-and-lookup", test_entities_register_and_lookup);
  g_test_add_func("/met/entities/duplicate-path-asserts", test_entities_duplicate_path_asserts);
  g_test_add_func("/met/columns/idempotent", test_columns_idempotent);
  g_test_add_func("/met/columns/after-first-row-asserts", test_columns_after_first_row_assert);
  g_test_add_func("/met/rows/round-trip", test_rows_round_trip);
  g_test_add_func("/met/rows/without-columns", test_rows_without_columns);
  g_test_add_func("/met/summary/order-and-overwrite", test_summary_order_and_overwrite);
  g_test_add_func("/met/summary/empty", test_summary_empty);
  g_test_add_func("/met/summary/reserved-key-asserts", test_summary_reserved_key_asserts);
  g_test_add_func("/met/entities/hundred-thousand", test_many_entities);
  return g_test_run();
}
