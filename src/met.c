/* met.c — the metrics table: entities, interval rows and end-of-run summary values.
 *
 * The table is sized for a datacenter run (100k entities, a million interval rows), so it
 * stores things compactly rather than as one heap object per value:
 *
 * - Every name (entity path, kind, column, summary key) lives once in a GStringChunk; kinds and
 *   keys are deduplicated (g_string_chunk_insert_const), so a hundred thousand vCPUs share one
 *   "vcpu" and one "%USED". Nothing is freed from the chunk before the table.
 * - Entities are one GArray of small structs; a GHashTable maps a path to its id.
 * - Interval rows are one GArray of doubles (n_columns per row) beside one GArray of
 *   (time, entity) headers: 8 bytes per value plus 16 per row, no per-row allocation.
 * - Summary values are a small per-entity array in the order first set. A key is found by a
 *   linear scan, which beats hashing for the dozen or so keys an entity has. */
#include "src/met.h"

#include <math.h>
#include <string.h>

/* One end-of-run value: a number, or a string when `str` is not NULL. */
typedef struct met_value {
  const char *key; /* in the table's string chunk */
  char *str;       /* owned; NULL for a number */
  double num;
} met_value;

typedef struct met_entity_rec {
  const char *path; /* in the string chunk */
  const char *kind; /* in the string chunk, deduplicated */
  int layer;
  guint n_values, cap_values;
  met_value *values; /* owned, n_values used, in the order first set */
} met_entity_rec;

typedef struct met_row_head {
  int64_t t_ns;
  met_id e;
} met_row_head;

struct met_table {
  GStringChunk *names;
  GArray *entities;      /* of met_entity_rec */
  GHashTable *by_path;   /* path (chunk) -> GUINT_TO_POINTER(id + 1) */
  GPtrArray *columns;    /* column names (chunk), not owned */
  GHashTable *by_column; /* name (chunk) -> GUINT_TO_POINTER(index + 1) */
  GArray *row_heads;     /* of met_row_head */
  GArray *row_values;    /* of double, n_columns per row */
};

met_table *met_table_new(void) {
  met_table *t = g_new0(met_table, 1);
  t->names = g_string_chunk_new(4096);
  t->entities = g_array_new(FALSE, FALSE, sizeof(met_entity_rec));
  t->by_path = g_hash_table_new(g_str_hash, g_str_equal);
  t->columns = g_ptr_array_new();
  t->by_column = g_hash_table_new(g_str_hash, g_str_equal);
  t->row_heads = g_array_new(FALSE, FALSE, sizeof(met_row_head));
  t->row_values = g_array_new(FALSE, FALSE, sizeof(double));
  return t;
}

void met_table_free(met_table *t) {
  if (!t) return;
  for (guint i = 0; i < t->entities->len; i++) {
    met_entity_rec *r = &g_array_index(t->entities, met_entity_rec, i);
    for (guint k = 0; k < r->n_values; k++) g_free(r->values[k].str);
    g_free(r->values);
  }
  g_array_unref(t->entities);
  g_hash_table_unref(t->by_path);
  g_ptr_array_unref(t->columns);
  g_hash_table_unref(t->by_column);
  g_array_unref(t->row_heads);
  g_array_unref(t->row_values);
  g_string_chunk_free(t->names);
  g_free(t);
}

static met_entity_rec *entity_rec(const met_table *t, met_id e) {
  g_assert(e < t->entities->len);
  return &g_array_index(t->entities, met_entity_rec, e);
}

met_id met_entity(met_table *t, const char *path, const char *kind, int layer) {
  g_assert(t && path && *path && kind && *kind && layer >= 0);
  /* A duplicate path is a bug in whoever builds the entities: the topology already rejects
   * duplicate names, so two entities can only share a path if a model registers one twice. */
  g_assert(!g_hash_table_contains(t->by_path, path));
  met_entity_rec r = {
      .path = g_string_chunk_insert(t->names, path),
      .kind = g_string_chunk_insert_const(t->names, kind),
      .layer = layer,
  };
  met_id id = t->entities->len;
  g_array_append_val(t->entities, r);
  g_hash_table_insert(t->by_path, (gpointer)r.path, GUINT_TO_POINTER(id + 1));
  return id;
}

guint met_n_entities(const met_table *t) { return t->entities->len; }
const char *met_entity_path(const met_table *t, met_id e) { return entity_rec(t, e)->path; }
const char *met_entity_kind(const met_table *t, met_id e) { return entity_rec(t, e)->kind; }
int met_entity_layer(const met_table *t, met_id e) { return entity_rec(t, e)->layer; }

gint64 met_lookup(const met_table *t, const char *path) {
  gpointer v = g_hash_table_lookup(t->by_path, path);
  return v ? (gint64)GPOINTER_TO_UINT(v) - 1 : -1;
}

met_id met_column(met_table *t, const char *name) {
  g_assert(t && name && *name);
  gpointer v = g_hash_table_lookup(t->by_column, name);
  if (v) return GPOINTER_TO_UINT(v) - 1;
  /* Rows are stored n_columns wide; a column added later would change the width of every
   * row already stored. Models register their columns in their setup, before the run. */
  g_assert(t->row_heads->len == 0);
  const char *s = g_string_chunk_insert(t->names, name);
  met_id c = t->columns->len;
  g_ptr_array_add(t->columns, (gpointer)s);
  g_hash_table_insert(t->by_column, (gpointer)s, GUINT_TO_POINTER(c + 1));
  return c;
}

guint met_n_columns(const met_table *t) { return t->columns->len; }

const char *met_column_name(const met_table *t, met_id c) {
  g_assert(c < t->columns->len);
  return g_ptr_array_index(t->columns, c);
}

void met_row(met_table *t, met_id e, int64_t t_ns, const double *values) {
  g_assert(e < t->entities->len);
  g_assert(values || t->columns->len == 0);
  met_row_head h = {.t_ns = t_ns, .e = e};
  g_array_append_val(t->row_heads, h);
  if (t->columns->len) g_array_append_vals(t->row_values, values, t->columns->len);
}

guint met_n_rows(const met_table *t) { return t->row_heads->len; }

const double *met_row_get(const met_table *t, guint r, met_id *e, int64_t *t_ns) {
  g_assert(r < t->row_heads->len);
  const met_row_head *h = &g_array_index(t->row_heads, met_row_head, r);
  if (e) *e = h->e;
  if (t_ns) *t_ns = h->t_ns;
  /* The pointer is into the shared array: valid until the next met_row. */
  return (const double *)t->row_values->data + (gsize)r * t->columns->len;
}

static met_value *find_value(const met_entity_rec *r, const char *key) {
  for (guint k = 0; k < r->n_values; k++)
    if (!strcmp(r->values[k].key, key)) return &r->values[k];
  return NULL;
}

/* The slot for `key`, appended at the end if the entity does not have it yet. */
static met_value *value_slot(met_table *t, met_id e, const char *key) {
  g_assert(key && *key);
  /* summary.json writes "kind" and "layer" beside the values and the CSV summary heads its
   * rows with "entity": a value of one of these names would make a duplicate key. */
  g_assert(strcmp(key, "kind") && strcmp(key, "layer") && strcmp(key, "entity"));
  met_entity_rec *r = entity_rec(t, e);
  met_value *v = find_value(r, key);
  if (v) return v;
  if (r->n_values == r->cap_values) {
    r->cap_values = r->cap_values ? 2 * r->cap_values : 4;
    r->values = g_renew(met_value, r->values, r->cap_values);
  }
  v = &r->values[r->n_values++];
  *v = (met_value){.key = g_string_chunk_insert_const(t->names, key), .str = NULL, .num = NAN};
  return v;
}

void met_set_num(met_table *t, met_id e, const char *key, double v) {
  met_value *slot = value_slot(t, e, key);
  g_clear_pointer(&slot->str, g_free);
  slot->num = v;
}

void met_set_str(met_table *t, met_id e, const char *key, const char *v) {
  g_assert(v);
  met_value *slot = value_slot(t, e, key);
  char *copy = g_strdup(v); /* before freeing: v may be the old value itself */
  g_free(slot->str);
  slot->str = copy;
  slot->num = NAN;
}

double met_get_num(const met_table *t, met_id e, const char *key) {
  const met_value *v = find_value(entity_rec(t, e), key);
  return v && !v->str ? v->num : NAN;
}

const char *met_get_str(const met_table *t, met_id e, const char *key) {
  const met_value *v = find_value(entity_rec(t, e), key);
  return v ? v->str : NULL;
}

void met_foreach_value(const met_table *t, met_id e, met_value_fn fn, void *user) {
  const met_entity_rec *r = entity_rec(t, e);
  for (guint k = 0; k < r->n_values; k++)
    fn(r->values[k].key, r->values[k].num, r->values[k].str, user);
}
