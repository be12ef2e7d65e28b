/* model.h — the one interface through which a model (CPU, network, memory ...) joins a run:
 * it builds its entities from the topology, schedules its own events on the engine, and
 * reports into the metrics table at every interval and at the end. */
#ifndef NESTSIM_MODELS_MODEL_H
#define NESTSIM_MODELS_MODEL_H

#include <glib.h>
#include "sim/engine.h"
#include "src/met.h"
#include "src/topo.h"

/* What a run gives every model. The run owns all of it. */
typedef struct mdl_run {
  sim_engine *eng;
  const topo_scenario *scn;
  met_table *met;
  uint64_t seed;           /* the run seed (streams: sim_rng_new(seed, path)) */
  sim_time warmup;         /* statistics start here */
  sim_time end;            /* the run stops here */
  /* Trace requests: entity paths (or path prefixes ending in '/') whose schedule the models
   * write as CSV into `trace` (the first model to write adds the header); NULL: no tracing. */
  GPtrArray *trace_paths;
  GString *trace;
  /* The CPU model's state, set once it is built (it is built first): other models slow VMs
   * down through it (models/cpu.h, cpu_set_drag). */
  struct cpu_state *cpu;
} mdl_run;

typedef struct mdl_ops {
  const char *name;
  /* Builds the model from run->scn, registers its metrics entities and columns, schedules its
   * first events. Returns its state (transfer full), or NULL with *error for a topology the
   * model cannot run. */
  void *(*create)(mdl_run *run, GError **error);
  /* The warm-up has ended at `now`: statistics restart. */
  void (*reset)(void *self, sim_time now);
  /* An interval [since, now] has ended: append one row per entity. */
  void (*sample)(void *self, sim_time since, sim_time now);
  /* The run has ended at `now`: set the summary values over [warmup, now]. */
  void (*finish)(void *self, sim_time now);
  void (*destroy)(void *self);
} mdl_ops;

#endif
