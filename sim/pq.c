/* pq.c — the pending-event queue: a binary min-heap of {key, event} slots, indexed through
 * the event's own `slot` field so that cancel and reschedule find their event in O(log n) and
 * repair the heap in O(log n).
 *
 * The index is kept as a hint, not exactly. Invariant: a pending event's slot is at the heap
 * index in its `slot` field or at one of that index's ancestors. A slot that moves up (from
 * i to its parent, as the children do in every sift-down) keeps its hint below it, so that
 * move writes nothing; a slot that moves down (a parent displaced by a rising slot in a
 * sift-up) and the slot a sift finally places get their exact index written. Cancel and
 * reschedule find the slot by walking up from the hint: at most log2(n) steps, along the
 * slots' own array, without touching any other event.
 *
 * Why: keeping the index exact means writing it into every event a sift moves, one per
 * level. A pop sinks a slot from the root to near a leaf, so at 10^6 pending events that is
 * about 20 writes into scattered events, most of them cache misses; in the hold benchmark
 * (src/bench.c) it made this queue 1.34-1.62x slower than a plain heap of keys, against
 * issue 2's 1.25x. With hints a pop writes two events: the one it returns (now idle) and
 * the one it sinks, and it prefetches both ahead of time (see sim_pq_pop). Pushes and
 * reschedules write as before, since their sift-ups move parents down.
 *
 * Alternatives measured in the same benchmark and dropped: lazy cancellation (a cancelled
 * slot stays in the heap, stale, until popped or a rebuild filters it out) holds about as
 * fast as this, but each cancel then costs a full pop later and the rebuilds, 3x slower per
 * reschedule at 10^3 events and 2x at 10^5, and a stale slot must not read its event,
 * which its owner may have freed, so it needs a set of stale sequence numbers and its own
 * memory budget; a 4-ary heap (three comparisons a level) was 5-40% slower at every size.
 *
 * The sifts move a "hole" instead of swapping: the moving slot is held in a local and every
 * slot it passes is copied once, which halves the memory traffic of a swap-based sift.
 * Every order decision goes through sim_key_less.
 *
 * The front slot. An event pushed with a key below every pending key is the next one out
 * unless something earlier is pushed first; it waits beside the heap, in `front`, instead of
 * in it. Invariant: a front event's key is below every key in the heap. A run of the seed lab
 * schedules most of its events this way — a frame's next step a few microseconds ahead, before
 * any other frame's or VM's event — and in the heap each would have sifted up from a leaf to
 * the root, writing the index of every slot it displaced into that slot's event, and sifted
 * down again when popped: there it costs one comparison to go in and none to come out. An
 * earlier push moves the front event into the heap with its key. Pop order is the keys' order
 * either way; in the hold benchmark, where new events are rarely the earliest, the extra
 * comparison per push costs (see the README's figures). A front event's `slot` is
 * PQ_FRONT. */
#include "sim/pq.h"

#include <glib.h>

typedef struct pq_slot {
  sim_key key;
  sim_event *ev;
} pq_slot;

G_STATIC_ASSERT(sizeof(pq_slot) == 24);
G_STATIC_ASSERT(sizeof(sim_event) == 16);

struct sim_pq {
  pq_slot *heap;
  size_t len;   /* slots in the heap, the front slot not included */
  size_t cap;
  uint64_t seq; /* the next insertion sequence number */
  pq_slot front;
  bool has_front;
};

/* The slot index is a uint32_t; UINT32_MAX means "idle" and UINT32_MAX - 1 "in the front
 * slot", so the heap holds at most UINT32_MAX - 2 events (about 4 * 10^9, i.e. 160 GB of slots
 * and events: unreachable). */
#define PQ_FRONT ((uint32_t)SIM_EVENT_IDLE - 1)
#define PQ_MAX_LEN ((size_t)PQ_FRONT - 1)

/* Asks for the cache line at p, to be written, ahead of the write. A hint only: compilers
 * without the GCC builtin (GCC and Clang have it) do without. */
#if defined(__GNUC__)
#define PQ_PREFETCH_FOR_WRITE(p) __builtin_prefetch((p), 1)
#else
#define PQ_PREFETCH_FOR_WRITE(p) ((void)(p))
#endif

sim_pq *sim_pq_new(size_t capacity_hint) {
  sim_pq *pq = g_new0(sim_pq, 1);
  pq->cap = capacity_hint > 16 ? MIN(capacity_hint, PQ_MAX_LEN) : 16;
  pq->heap = g_new(pq_slot, pq->cap);
  return pq;
}

void sim_pq_free(sim_pq *pq) {
  if (!pq) return;
  /* Events still pending are not touched: they belong to their owners, who are often freed
   * first at the end of a run, and writing into them here would be a use after free. */
  g_free(pq->heap);
  g_free(pq);
}

size_t sim_pq_len(const sim_pq *pq) { return pq->len + pq->has_front; }

size_t sim_pq_memory(const sim_pq *pq) { return sizeof *pq + pq->cap * sizeof(pq_slot); }

/* Writes slot s at index i and tells its event its exact index. */
static inline void pq_place(pq_slot *h, size_t i, pq_slot s) {
  h[i] = s;
  s.ev->slot = (uint32_t)i;
}

/* Moves s up from the hole at i until its parent runs before it. Each parent passed moves
 * down, below its hint, so it gets its new index. */
static inline void pq_sift_up(pq_slot *h, size_t i, pq_slot s) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!sim_key_less(s.key, h[parent].key)) break;
    pq_place(h, i, h[parent]);
    i = parent;
  }
  pq_place(h, i, s);
}

/* Moves s down from the hole at i, in a heap of n slots, until both children run after it.
 * Each child passed moves up, still above its hint: only s's final index is written. */
static inline void pq_sift_down(pq_slot *h, size_t n, size_t i, pq_slot s) {
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && sim_key_less(h[child + 1].key, h[child].key)) child++;
    if (!sim_key_less(h[child].key, s.key)) break;
    h[i] = h[child];
    i = child;
  }
  pq_place(h, i, s);
}

/* The index of a pending event's slot: its hint or the nearest ancestor of the hint that
 * holds the event (an event is in one slot only). The hint may lie past the end of a heap
 * that has shrunk; its ancestors are still the right path. */
static size_t pq_find(const sim_pq *pq, const sim_event *ev) {
  size_t i = ev->slot;
  for (;;) {
    if (i < pq->len && pq->heap[i].ev == ev) return i;
    if (i == 0)
      g_error("%s:%d: a pending event is not in the event queue it is cancelled or moved in: "
              "it was scheduled on another engine, or its sim_event was copied or moved "
              "(realloc of an array of entities?) while pending",
              __FILE__, __LINE__);
    i = (i - 1) / 2;
  }
}

/* The array grows by a quarter (at least 16 slots): right after a growth a pending event
 * costs at most 1.25 x 24 + 16 = 46 bytes, inside the 48-byte budget, where doubling would
 * allow 64. The price is at most 4 slot copies per push amortised instead of 1, paid only
 * while the queue reaches its working size (and less in practice: glibc's realloc moves
 * large blocks with mremap, without copying). After that no push or pop touches the
 * allocator. */
static void pq_grow(sim_pq *pq) {
  if (pq->len >= PQ_MAX_LEN)
    g_error("%s:%d: event queue full (%zu pending events); an entity probably schedules "
            "without ever cancelling — check the model for a runaway timer",
            __FILE__, __LINE__, pq->len);
  size_t cap = pq->cap + MAX(pq->cap / 4, 16);
  if (cap > PQ_MAX_LEN) cap = PQ_MAX_LEN;
  pq->heap = g_renew(pq_slot, pq->heap, cap);
  pq->cap = cap;
}

/* Puts slot s into the heap. */
static void pq_heap_push(sim_pq *pq, pq_slot s) {
  if (pq->len == pq->cap) pq_grow(pq);
  pq_sift_up(pq->heap, pq->len++, s);
}

/* Puts slot s into the front slot if it runs before everything pending, else into the heap. */
static void pq_insert(sim_pq *pq, pq_slot s) {
  if (pq->has_front) {
    if (!sim_key_less(s.key, pq->front.key)) {
      pq_heap_push(pq, s);
      return;
    }
    pq_heap_push(pq, pq->front); /* below the heap's keys, so it rises to the root */
  } else if (pq->len > 0 && !sim_key_less(s.key, pq->heap[0].key)) {
    pq_heap_push(pq, s);
    return;
  }
  pq->front = s;
  pq->has_front = true;
  s.ev->slot = PQ_FRONT;
}

void sim_pq_push(sim_pq *pq, sim_event *ev, sim_time t) {
  g_assert(!sim_event_pending(ev));
  pq_insert(pq, (pq_slot){{t, pq->seq++}, ev});
}

sim_event *sim_pq_peek(const sim_pq *pq, sim_key *key) {
  if (pq->has_front) {
    if (key) *key = pq->front.key;
    return pq->front.ev;
  }
  if (pq->len == 0) return NULL;
  if (key) *key = pq->heap[0].key;
  return pq->heap[0].ev;
}

/* Removes and returns the earliest event, which exists. */
static inline sim_event *pq_pop(sim_pq *pq, sim_key *key) {
  if (pq->has_front) {
    pq->has_front = false;
    if (key) *key = pq->front.key;
    pq->front.ev->slot = SIM_EVENT_IDLE;
    return pq->front.ev;
  }
  pq_slot top = pq->heap[0];
  if (key) *key = top.key;
  top.ev->slot = SIM_EVENT_IDLE;
  size_t last = --pq->len;
  if (last > 0) {
    pq_slot s = pq->heap[last];
    /* s's event gets its index when the sift ends, typically 20 levels later at 10^6
     * events: fetching its line now hides that miss behind the sift. And the new top's
     * event is the next one popped (made idle, then read by the engine's loop) unless an
     * earlier one is pushed first: fetching it now hides that miss behind the caller's
     * work. Measured in the hold benchmark, the first saves about 10% per hold at each
     * size, the second another 10-15% at 10^6. */
    PQ_PREFETCH_FOR_WRITE(s.ev);
    pq_sift_down(pq->heap, last, 0, s);
    PQ_PREFETCH_FOR_WRITE(pq->heap[0].ev);
  }
  return top.ev;
}

sim_event *sim_pq_pop(sim_pq *pq, sim_key *key) {
  if (!pq->has_front && pq->len == 0) return NULL;
  return pq_pop(pq, key);
}

sim_event *sim_pq_pop_until(sim_pq *pq, sim_time until, sim_key *key) {
  sim_time t;
  if (pq->has_front)
    t = pq->front.key.time;
  else if (pq->len > 0)
    t = pq->heap[0].key.time;
  else
    return NULL;
  return t <= until ? pq_pop(pq, key) : NULL;
}

/* Puts s into the hole at i, wherever it belongs: above i if it runs before i's parent,
 * otherwise at or below i. */
static void pq_fill(sim_pq *pq, size_t i, pq_slot s) {
  if (i > 0 && sim_key_less(s.key, pq->heap[(i - 1) / 2].key))
    pq_sift_up(pq->heap, i, s);
  else
    pq_sift_down(pq->heap, pq->len, i, s);
}

void sim_pq_remove(sim_pq *pq, sim_event *ev) {
  g_assert(sim_event_pending(ev));
  if (ev->slot == PQ_FRONT) {
    g_assert(pq->has_front && pq->front.ev == ev);
    pq->has_front = false;
    ev->slot = SIM_EVENT_IDLE;
    return;
  }
  size_t i = pq_find(pq, ev);
  ev->slot = SIM_EVENT_IDLE;
  size_t last = --pq->len;
  if (i != last) pq_fill(pq, i, pq->heap[last]);
}

void sim_pq_update(sim_pq *pq, sim_event *ev, sim_time t) {
  if (!sim_event_pending(ev)) {
    sim_pq_push(pq, ev, t);
    return;
  }
  pq_slot s = {{t, pq->seq++}, ev};
  if (ev->slot == PQ_FRONT) { /* out of the front slot, then in wherever it now belongs */
    pq->has_front = false;
    pq_insert(pq, s);
    return;
  }
  size_t i = pq_find(pq, ev);
  if (pq->has_front && sim_key_less(s.key, pq->front.key)) {
    /* It now runs first: out of the heap, into the front slot. */
    size_t last = --pq->len;
    if (i != last) pq_fill(pq, i, pq->heap[last]);
    pq_insert(pq, s);
    return;
  }
  /* A fresh sequence number puts the event last among those at t, exactly as a remove and
   * a push would, but repairs the heap with one sift instead of two. */
  pq_fill(pq, i, s);
}
