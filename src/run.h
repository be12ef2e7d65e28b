/* run.h — one simulation run: the engine, every model built from the topology, the interval
 * sampler, and the metrics they produce. */
#ifndef NESTSIM_SRC_RUN_H
#define NESTSIM_SRC_RUN_H

#include <glib.h>
#include "src/met.h"
#include "src/topo.h"

typedef struct run_result {
  guint64 events;        /* events the engine ran */
  GString *trace;        /* trace.csv text, NULL when nothing was traced; owned by the caller */
} run_result;

/* Runs scn (its seed, duration, warmup and interval as they stand) and fills `met`.
 * trace_paths: entity paths or prefixes ending in '/' to trace, or NULL.
 * OUT: *res. Returns FALSE with *error when a model cannot run the topology. */
gboolean run_scenario(const topo_scenario *scn, GPtrArray *trace_paths, met_table *met,
                      run_result *res, GError **error);

#endif
