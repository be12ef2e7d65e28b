/* out.h — the writers of a run's results: summary.json, metrics.csv and the summary on stdout
 * (table, json or csv), from the metrics table. Files are written under a temporary name and
 * renamed, so an interrupted run never leaves half a result. */
#ifndef NESTSIM_SRC_OUT_H
#define NESTSIM_SRC_OUT_H

#include <glib.h>
#include <stdio.h>
#include "src/met.h"

typedef enum { OUT_TABLE, OUT_JSON, OUT_CSV } out_format;

/* What summary.json says about the run besides the entities. */
typedef struct out_run_info {
  const char *scenario;  /* scenario name */
  const char *file;      /* scenario file */
  guint64 seed;
  const char *version;   /* nestsim version */
  gint64 duration_ns, warmup_ns, interval_ns;
  guint64 events;        /* events the engine ran */
} out_run_info;

/* Creates `dir` (and parents) and writes summary.json and metrics.csv into it, plus any extra
 * files given as name -> GString* in `extra` (may be NULL), each through a temporary file and
 * a rename; summary.json is renamed last, so its presence means the folder is complete. */
gboolean out_write_dir(const char *dir, const out_run_info *info, const met_table *t,
                       GHashTable *extra, GError **error);

/* summary.json's text (transfer full). */
char *out_summary_json(const out_run_info *info, const met_table *t);
/* metrics.csv's text (transfer full). */
char *out_metrics_csv(const met_table *t);
/* The summary for stdout: one table per entity kind (hosts, hypervisors, VMs; vCPUs only
 * when `all`), or the same as JSON or CSV. */
void out_print(FILE *f, out_format fmt, const out_run_info *info, const met_table *t, gboolean all);

#endif
