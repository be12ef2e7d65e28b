/* met.h — the metrics table: the entities a run reports on (by path name, kind and layer),
 * their interval rows under esxtop-style column names, and their end-of-run summary values.
 * Models fill it; writers (out.h) turn it into summary.json, metrics.csv and the stdout table.
 *
 * Columns are registered by the models before the run starts, so that every row has the same
 * shape; a value that does not apply to an entity is NAN and is written as an empty cell. */
#ifndef NESTSIM_SRC_MET_H
#define NESTSIM_SRC_MET_H

#include <glib.h>
#include <stdint.h>

typedef struct met_table met_table;
typedef guint met_id;

met_table *met_table_new(void); /* transfer full */
void met_table_free(met_table *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(met_table, met_table_free)

/* Registers an entity; `path` is unique ("esx01/vESX1/web1" or "esx01/vESX1/web1/vcpu0"),
 * `kind` one word ("host", "vm", "vcpu", "hypervisor", "vnic" ...), layer 0 for physical. */
met_id met_entity(met_table *t, const char *path, const char *kind, int layer);
guint met_n_entities(const met_table *t);
const char *met_entity_path(const met_table *t, met_id e);
const char *met_entity_kind(const met_table *t, met_id e);
int met_entity_layer(const met_table *t, met_id e);
/* The entity with that path, or -1. */
gint64 met_lookup(const met_table *t, const char *path);

/* Registers an interval column by name (idempotent) and returns its index. Only before the
 * first row. */
met_id met_column(met_table *t, const char *name);
guint met_n_columns(const met_table *t);
const char *met_column_name(const met_table *t, met_id c);

/* Appends one interval row: `values` has met_n_columns entries, NAN where not applicable.
 * t_ns is the end of the interval, measured from the start of the run. */
void met_row(met_table *t, met_id e, int64_t t_ns, const double *values);
guint met_n_rows(const met_table *t);
/* Row r: OUT: its entity and time; returns its values (met_n_columns of them). */
const double *met_row_get(const met_table *t, guint r, met_id *e, int64_t *t_ns);

/* End-of-run values of an entity, kept in the order first set. */
void met_set_num(met_table *t, met_id e, const char *key, double v);
void met_set_str(met_table *t, met_id e, const char *key, const char *v);
/* NAN when not set. */
double met_get_num(const met_table *t, met_id e, const char *key);
/* NULL when not set. */
const char *met_get_str(const met_table *t, met_id e, const char *key);
/* Calls fn for each summary value of e in order; exactly one of num/str is meaningful
 * (str NULL for a number). */
typedef void (*met_value_fn)(const char *key, double num, const char *str, void *user);
void met_foreach_value(const met_table *t, met_id e, met_value_fn fn, void *user);

#endif
