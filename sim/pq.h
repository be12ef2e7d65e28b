/* pq.h — the pending-event queue: an indexed heap of (time, sequence) keys with O(log n)
 * insert, pop, cancel and reschedule through the event's own handle.
 *
 * The queue never allocates per event: events are intrusive (the entity that owns an event
 * embeds its sim_event), and the heap array grows geometrically, so after warm-up a push or a
 * pop touches no allocator. Each heap slot holds the key next to the event pointer, so that
 * comparisons never chase a pointer (24 bytes a slot + 16 bytes a sim_event = 40 bytes per
 * pending event). A cancelled event leaves the heap at once: the queue never reads it again,
 * so its owner may free it right after the cancel. */
#ifndef NESTSIM_SIM_PQ_H
#define NESTSIM_SIM_PQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Simulated time in integer nanoseconds. 2^63 ns is 292 years: enough for any run. */
typedef int64_t sim_time;

#define SIM_NS ((sim_time)1)
#define SIM_US ((sim_time)1000)
#define SIM_MS ((sim_time)1000000)
#define SIM_S ((sim_time)1000000000)
#define SIM_TIME_NEVER INT64_MAX

/* The event key. Events with equal times run in insertion order, which the sequence number
 * records; sim_key_less is the only place that orders events. */
typedef struct sim_key {
  sim_time time;
  uint64_t seq;
} sim_key;

/* True when a runs strictly before b. */
static inline bool sim_key_less(sim_key a, sim_key b) {
  return a.time < b.time || (a.time == b.time && a.seq < b.seq);
}

struct sim_entity;

/* An event handle, embedded by its owner. `slot` is private to the queue: SIM_EVENT_IDLE when
 * the event is not pending, otherwise a heap index at or below the event's slot (the queue
 * finds the slot on the way up from there; see sim/pq.c). `tag` tells the owner's handler
 * which event this is. */
typedef struct sim_event {
  struct sim_entity *target;
  uint32_t slot;
  uint32_t tag;
} sim_event;

#define SIM_EVENT_IDLE UINT32_MAX

/* Initialises an idle event aimed at target with the given tag. */
static inline void sim_event_init(sim_event *ev, struct sim_entity *target, uint32_t tag) {
  ev->target = target;
  ev->slot = SIM_EVENT_IDLE;
  ev->tag = tag;
}

static inline bool sim_event_pending(const sim_event *ev) { return ev->slot != SIM_EVENT_IDLE; }

typedef struct sim_pq sim_pq;

sim_pq *sim_pq_new(size_t capacity_hint); /* transfer full */
/* Frees the queue; events still pending are left as they are (their owners may be gone). */
void sim_pq_free(sim_pq *pq);
size_t sim_pq_len(const sim_pq *pq);
/* Bytes the queue itself holds (its struct and heap array, not the events), for memory
 * reports: add sizeof(sim_event) per event for the cost of a pending event. */
size_t sim_pq_memory(const sim_pq *pq);

/* Inserts an idle event at time t with the next sequence number. */
void sim_pq_push(sim_pq *pq, sim_event *ev, sim_time t);
/* Removes and returns the earliest event, or NULL when empty. OUT: *key its key. */
sim_event *sim_pq_pop(sim_pq *pq, sim_key *key);
/* The same, but only when the earliest event's time is <= until; NULL otherwise (the engine's
 * loop: one call per event instead of a peek and a pop). */
sim_event *sim_pq_pop_until(sim_pq *pq, sim_time until, sim_key *key);
/* The earliest event without removing it, or NULL. OUT: *key its key (may be NULL). */
sim_event *sim_pq_peek(const sim_pq *pq, sim_key *key);
/* Removes a pending event; the event becomes idle. O(log n). */
void sim_pq_remove(sim_pq *pq, sim_event *ev);
/* Moves a pending or idle event to time t with a fresh sequence number, as if removed and
 * pushed again: among events at t it now runs last. O(log n). */
void sim_pq_update(sim_pq *pq, sim_event *ev, sim_time t);

#endif
