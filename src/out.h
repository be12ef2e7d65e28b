/* out.h — the writers of a run's results: summary.json, metrics.csv and the summary on stdout
 * (table, json or csv), from the metrics table, and the reader of summary.json. Files are
 * written under a temporary name and renamed, so an interrupted run never leaves half a
 * result. */
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
  /* issue 8: what rebuilds the run's topology (`nestsim report`). When scenario_text is set,
   * summary.json also holds "set" (before "entities") and "scenario_text" (last); when it is
   * NULL neither is written and the document is as before. */
  const char *scenario_text; /* the scenario file's text as the run loaded it */
  GHashTable *set;           /* the --set values, name -> value text; may be NULL (none) */
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

/* Appends s as a JSON string literal (quote, backslash and control characters escaped; bytes
 * that are not UTF-8 become U+FFFD): the one escaper of every JSON nestsim writes. */
void out_json_string(GString *out, const char *s);

/* Appends ns as exact decimal seconds without trailing zeros, as summary.json writes times:
 * 5000000000 -> "5", 1500000 -> "0.0015". */
void out_append_seconds(GString *s, gint64 ns);

/* ---- Reading summary.json back (issue 8) ----
 * GLib has no JSON parser; this one reads what out_summary_json writes (objects, strings,
 * numbers, null; unknown keys of any JSON type are skipped), which is all `nestsim report`
 * needs, without a new dependency. */

#define OUT_ERROR (out_error_quark())
GQuark out_error_quark(void);
typedef enum {
  OUT_ERROR_PARSE, /* not JSON, or not the shape summary.json has */
} out_error_code;

typedef struct out_summary out_summary;

/* Parses summary.json text (NUL-terminated). The message of a failure names the line. */
out_summary *out_summary_parse(const char *json, GError **error); /* transfer full */
/* Reads and parses DIR/summary.json. */
out_summary *out_summary_read(const char *dir, GError **error); /* transfer full */
void out_summary_free(out_summary *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(out_summary, out_summary_free)

/* The run's fields; its strings and table belong to `s` (scenario_text and set are NULL when
 * the summary has none). out_summary_json(info, table) gives back the text that was parsed. */
const out_run_info *out_summary_info(const out_summary *s);
/* The entities with their summary values (no interval rows), in the file's order. */
const met_table *out_summary_table(const out_summary *s);

#endif
