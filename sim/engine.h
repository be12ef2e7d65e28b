/* engine.h — the discrete-event engine: a clock, a pending-event queue and the entities whose
 * typed handlers the events are delivered to.
 *
 * The engine knows nothing of CPUs or switches. A model defines entity types (a small table
 * of handlers), embeds a sim_entity at the start of its own structs and sim_events wherever
 * it needs a timer; the engine delivers each event to its target's type->handle. */
#ifndef NESTSIM_SIM_ENGINE_H
#define NESTSIM_SIM_ENGINE_H

#include "sim/pq.h"

typedef struct sim_engine sim_engine;
typedef struct sim_entity sim_entity;

/* The handlers of one entity type. Models give each type its own static table. */
typedef struct sim_entity_type {
  const char *kind;
  /* Called when an event aimed at an entity of this type comes due; the event is idle again
   * when the handler runs, so the handler may schedule it anew. */
  void (*handle)(sim_engine *eng, sim_entity *self, sim_event *ev);
} sim_entity_type;

/* Embed as the first member of a model's entity struct and recover the struct with
 * SIM_CONTAINER_OF. */
struct sim_entity {
  const sim_entity_type *type;
};

#define SIM_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

sim_engine *sim_engine_new(void); /* transfer full */
/* Frees the engine without touching pending events, so entities may be freed before it. */
void sim_engine_free(sim_engine *eng);

sim_time sim_now(const sim_engine *eng);
uint64_t sim_events_done(const sim_engine *eng);
size_t sim_pending(const sim_engine *eng);

/* Schedules an idle event at absolute time `at` (>= now). */
void sim_schedule(sim_engine *eng, sim_event *ev, sim_time at);
/* Moves a pending or idle event to absolute time `at` (>= now). */
void sim_reschedule(sim_engine *eng, sim_event *ev, sim_time at);
/* Cancels a pending event; a no-op for an idle one. */
void sim_cancel(sim_engine *eng, sim_event *ev);

/* Runs events in key order while their time is <= until and no stop was asked for; the clock
 * then stands at `until` (or at the stopping event). Returns the number of events run. */
uint64_t sim_run_until(sim_engine *eng, sim_time until);
/* Asks sim_run_until to return after the current event. */
void sim_stop(sim_engine *eng);

#endif
