/* test-pq.c — the pending-event queue (sim/pq.c): key order, FIFO ties, cancel and
 * reschedule through handles, growth, and a long random run checked against a brute-force
 * reference model. */
#include <glib.h>
#include <string.h>

#include "sim/pq.h"

/* ---- sim_key_less on its own ---- */

static void test_key_earlier_time_first(void) {
  sim_key a = {10, 7}, b = {11, 0};
  /* Time decides before sequence: a is earlier even though its sequence number is larger. */
  g_assert_true(sim_key_less(a, b));
  g_assert_false(sim_key_less(b, a));
}

static void test_key_equal_time_lower_seq_first(void) {
  sim_key a = {5, 1}, b = {5, 2};
  g_assert_true(sim_key_less(a, b));
  g_assert_false(sim_key_less(b, a));
}

static void test_key_irreflexive(void) {
  /* A strict order: no key runs before itself, so a heap never swaps equal keys. */
  sim_key a = {42, 3};
  g_assert_false(sim_key_less(a, a));
}

static void test_key_extreme_times(void) {
  /* The comparison must not overflow at the ends of the time range (no subtraction). */
  sim_key zero = {0, UINT64_MAX}, never = {SIM_TIME_NEVER, 0};
  g_assert_true(sim_key_less(zero, never));
  g_assert_false(sim_key_less(never, zero));
}

/* ---- order ---- */

static void test_order_pops_in_time_order(void) {
  sim_pq *pq = sim_pq_new(0);
  const sim_time times[] = {50, 10, 40, 0, 30, 20, 60};
  sim_event ev[G_N_ELEMENTS(times)];
  for (size_t i = 0; i < G_N_ELEMENTS(times); i++) {
    sim_event_init(&ev[i], NULL, (uint32_t)i);
    sim_pq_push(pq, &ev[i], times[i]);
  }
  g_assert_cmpuint(sim_pq_len(pq), ==, G_N_ELEMENTS(times));
  /* The times are the multiples of 10 from 0 to 60, each once, so they must come out in
   * that order. */
  for (sim_time want = 0; want <= 60; want += 10) {
    sim_key k;
    sim_event *e = sim_pq_pop(pq, &k);
    g_assert_nonnull(e);
    g_assert_cmpint(k.time, ==, want);
    g_assert_cmpint(times[e->tag], ==, want);
    g_assert_false(sim_event_pending(e));
  }
  g_assert_null(sim_pq_pop(pq, NULL));
  sim_pq_free(pq);
}

static void test_order_ties_run_in_insertion_order(void) {
  sim_pq *pq = sim_pq_new(0);
  enum { N = 100 };
  sim_event ev[N];
  /* All at the same time, interleaved with later events to make the heap shuffle them:
   * the N events at t=7 must still come out in the order they were pushed. */
  sim_event later[N];
  for (uint32_t i = 0; i < N; i++) {
    sim_event_init(&ev[i], NULL, i);
    sim_event_init(&later[i], NULL, N + i);
    sim_pq_push(pq, &later[i], 1000 - (sim_time)i);
    sim_pq_push(pq, &ev[i], 7);
  }
  for (uint32_t i = 0; i < N; i++) {
    sim_key k;
    sim_event *e = sim_pq_pop(pq, &k);
    g_assert_cmpint(k.time, ==, 7);
    g_assert_cmpuint(e->tag, ==, i);
  }
  sim_pq_free(pq);
}

static void test_order_empty_queue_pops_null(void) {
  sim_pq *pq = sim_pq_new(0);
  sim_key k = {-1, 0};
  g_assert_null(sim_pq_pop(pq, &k));
  g_assert_null(sim_pq_peek(pq, &k));
  g_assert_cmpint(k.time, ==, -1); /* untouched when there is nothing to report */
  g_assert_cmpuint(sim_pq_len(pq), ==, 0);
  sim_pq_free(pq);
}

static void test_order_peek_does_not_remove(void) {
  sim_pq *pq = sim_pq_new(0);
  sim_event a, b;
  sim_event_init(&a, NULL, 1);
  sim_event_init(&b, NULL, 2);
  sim_pq_push(pq, &a, 20);
  sim_pq_push(pq, &b, 10);
  sim_key k;
  g_assert_true(sim_pq_peek(pq, &k) == &b);
  g_assert_cmpint(k.time, ==, 10);
  g_assert_true(sim_pq_peek(pq, NULL) == &b);
  g_assert_cmpuint(sim_pq_len(pq), ==, 2);
  g_assert_true(sim_event_pending(&b));
  g_assert_true(sim_pq_pop(pq, NULL) == &b);
  g_assert_true(sim_pq_pop(pq, NULL) == &a);
  sim_pq_free(pq);
}

static void test_order_sequence_numbers_increase(void) {
  sim_pq *pq = sim_pq_new(0);
  sim_event a, b;
  sim_event_init(&a, NULL, 0);
  sim_event_init(&b, NULL, 0);
  sim_pq_push(pq, &a, 5);
  sim_pq_push(pq, &b, 5);
  sim_key ka, kb;
  sim_pq_pop(pq, &ka);
  sim_pq_pop(pq, &kb);
  /* Pushed first, a carries the smaller sequence number: that is what makes ties FIFO. */
  g_assert_cmpuint(ka.seq, <, kb.seq);
  sim_pq_free(pq);
}

/* ---- handles: pending state, cancel ---- */

static void test_handle_pending_while_queued(void) {
  sim_pq *pq = sim_pq_new(0);
  sim_event a;
  sim_event_init(&a, NULL, 0);
  g_assert_false(sim_event_pending(&a));
  sim_pq_push(pq, &a, 1);
  g_assert_true(sim_event_pending(&a));
  sim_pq_pop(pq, NULL);
  g_assert_false(sim_event_pending(&a));
  /* An event popped is idle and may be pushed again. */
  sim_pq_push(pq, &a, 2);
  g_assert_true(sim_event_pending(&a));
  sim_pq_free(pq);
}

/* Pushes events tagged 0..n-1 at times 10*tag (tag order = time order). */
static sim_pq *queue_of(sim_event *ev, uint32_t n) {
  sim_pq *pq = sim_pq_new(0);
  for (uint32_t i = 0; i < n; i++) {
    sim_event_init(&ev[i], NULL, i);
    sim_pq_push(pq, &ev[i], 10 * (sim_time)i);
  }
  return pq;
}

/* Pops everything and checks that the tags come out as `want` (length n). */
static void assert_pops(sim_pq *pq, const uint32_t *want, size_t n) {
  for (size_t i = 0; i < n; i++) {
    sim_event *e = sim_pq_pop(pq, NULL);
    g_assert_nonnull(e);
    g_assert_cmpuint(e->tag, ==, want[i]);
  }
  g_assert_null(sim_pq_pop(pq, NULL));
}

static void test_cancel_root(void) {
  sim_event ev[7];
  sim_pq *pq = queue_of(ev, 7);
  /* Event 0 (time 0) is the root; removing it must promote event 1. */
  sim_pq_remove(pq, &ev[0]);
  g_assert_false(sim_event_pending(&ev[0]));
  g_assert_true(sim_pq_peek(pq, NULL) == &ev[1]);
  const uint32_t want[] = {1, 2, 3, 4, 5, 6};
  assert_pops(pq, want, G_N_ELEMENTS(want));
  sim_pq_free(pq);
}

static void test_cancel_last_slot(void) {
  sim_event ev[7];
  sim_pq *pq = queue_of(ev, 7);
  /* Pushed in increasing time order, nothing sifted up, so event 6 sits in the last slot:
   * removing it is the case where no slot has to be moved into the hole. */
  sim_pq_remove(pq, &ev[6]);
  const uint32_t want[] = {0, 1, 2, 3, 4, 5};
  assert_pops(pq, want, G_N_ELEMENTS(want));
  sim_pq_free(pq);
}

static void test_cancel_middle(void) {
  sim_event ev[7];
  sim_pq *pq = queue_of(ev, 7);
  sim_pq_remove(pq, &ev[2]);
  sim_pq_remove(pq, &ev[4]);
  const uint32_t want[] = {0, 1, 3, 5, 6};
  assert_pops(pq, want, G_N_ELEMENTS(want));
  sim_pq_free(pq);
}

static void test_cancel_only_event(void) {
  sim_event a;
  sim_pq *pq = queue_of(&a, 1);
  sim_pq_remove(pq, &a);
  g_assert_cmpuint(sim_pq_len(pq), ==, 0);
  g_assert_null(sim_pq_peek(pq, NULL));
  sim_pq_free(pq);
}

/* When the last slot moves into a hole below which it belongs *above* (a smaller key than the
 * hole's parent), the remove must sift it up, not down. Heap built as
 *          0
 *       /     \
 *     100      1
 *    /  \     / \
 *  101  102  2   3
 * Removing 101 (index 3) moves the last slot (3, index 6) there; 3 < 100, so it must rise. */
static void test_cancel_moves_last_slot_up(void) {
  sim_pq *pq = sim_pq_new(0);
  const sim_time times[] = {0, 100, 1, 101, 102, 2, 3};
  sim_event ev[7];
  for (uint32_t i = 0; i < 7; i++) {
    sim_event_init(&ev[i], NULL, i);
    sim_pq_push(pq, &ev[i], times[i]);
  }
  sim_pq_remove(pq, &ev[3]);
  const uint32_t want[] = {0, 2, 5, 6, 1, 4}; /* times 0, 1, 2, 3, 100, 102 */
  assert_pops(pq, want, G_N_ELEMENTS(want));
  sim_pq_free(pq);
}

/* ---- reschedule ---- */

static void test_reschedule_earlier(void) {
  sim_event ev[5];
  sim_pq *pq = queue_of(ev, 5);
  sim_pq_update(pq, &ev[4], 5); /* 40 -> 5: now between events 0 (0) and 1 (10) */
  const uint32_t want[] = {0, 4, 1, 2, 3};
  assert_pops(pq, want, G_N_ELEMENTS(want));
  sim_pq_free(pq);
}

static void test_reschedule_later(void) {
  sim_event ev[5];
  sim_pq *pq = queue_of(ev, 5);
  sim_pq_update(pq, &ev[0], 25); /* the root, 0 -> 25: between events 2 (20) and 3 (30) */
  const uint32_t want[] = {1, 2, 0, 3, 4};
  assert_pops(pq, want, G_N_ELEMENTS(want));
  sim_pq_free(pq);
}

static void test_reschedule_same_time_goes_last_among_equals(void) {
  sim_pq *pq = sim_pq_new(0);
  sim_event ev[4];
  for (uint32_t i = 0; i < 4; i++) {
    sim_event_init(&ev[i], NULL, i);
    sim_pq_push(pq, &ev[i], 10);
  }
  /* Rescheduling event 0 to the time it already has counts as a new insertion: it now runs
   * after 1, 2, 3, the events that were at 10 before the reschedule. */
  sim_pq_update(pq, &ev[0], 10);
  const uint32_t want[] = {1, 2, 3, 0};
  assert_pops(pq, want, G_N_ELEMENTS(want));
  sim_pq_free(pq);
}

static void test_reschedule_onto_a_tie_goes_last(void) {
  sim_pq *pq = sim_pq_new(0);
  sim_event a, b, c;
  sim_event_init(&a, NULL, 0);
  sim_event_init(&b, NULL, 1);
  sim_event_init(&c, NULL, 2);
  sim_pq_push(pq, &a, 5);   /* a runs first ... */
  sim_pq_push(pq, &b, 20);
  sim_pq_push(pq, &c, 20);
  sim_pq_update(pq, &a, 20); /* ... until moved onto b and c's time: then it runs after them */
  const uint32_t want[] = {1, 2, 0};
  assert_pops(pq, want, G_N_ELEMENTS(want));
  sim_pq_free(pq);
}

static void test_reschedule_idle_event_is_pushed(void) {
  sim_pq *pq = sim_pq_new(0);
  sim_event a;
  sim_event_init(&a, NULL, 9);
  sim_pq_update(pq, &a, 3);
  g_assert_true(sim_event_pending(&a));
  sim_key k;
  g_assert_true(sim_pq_pop(pq, &k) == &a);
  g_assert_cmpint(k.time, ==, 3);
  sim_pq_free(pq);
}

/* ---- growth ---- */

static void test_grow_past_capacity_keeps_order(void) {
  /* Start at the minimum capacity and push 10^4 events in decreasing time order, the worst
   * case for sift-up, through about 25 growths of the array: they must come out increasing. */
  enum { N = 10000 };
  sim_event *ev = g_new(sim_event, N);
  sim_pq *pq = sim_pq_new(1);
  for (uint32_t i = 0; i < N; i++) {
    sim_event_init(&ev[i], NULL, i);
    sim_pq_push(pq, &ev[i], (sim_time)(N - i));
  }
  g_assert_cmpuint(sim_pq_len(pq), ==, N);
  for (uint32_t i = 0; i < N; i++) {
    sim_key k;
    sim_event *e = sim_pq_pop(pq, &k);
    g_assert_cmpint(k.time, ==, (sim_time)i + 1);
    g_assert_cmpuint(e->tag, ==, N - 1 - i);
  }
  sim_pq_free(pq);
  g_free(ev);
}

/* ---- handles after pops: the slot index is a hint ---- */

/* Pops move slots up without telling their events (sim/pq.c keeps each event's index as a
 * hint at or below its slot). These tests cancel and move events after many pops, when
 * their slots are well above where the events last heard. */

enum { HINT_N = 1023 }; /* a full heap of 10 levels */

/* Pushes HINT_N events whose times are a permutation of 0 .. HINT_N-1, each tagged with its
 * own time: 7919 is prime and does not divide 1023 = 3 x 11 x 31, so i -> 7919 i mod 1023 is
 * one-to-one. Pushed in that scrambled order, the events sift up and down all over. */
static sim_pq *scrambled_queue(sim_event *ev) {
  sim_pq *pq = sim_pq_new(0);
  for (uint32_t i = 0; i < HINT_N; i++) {
    uint32_t t = (uint32_t)((i * UINT64_C(7919)) % HINT_N);
    sim_event_init(&ev[i], NULL, t);
    sim_pq_push(pq, &ev[i], (sim_time)t);
  }
  return pq;
}

static void test_hint_cancel_after_pops_finds_the_risen_slot(void) {
  sim_event *ev = g_new(sim_event, HINT_N);
  sim_pq *pq = scrambled_queue(ev);
  /* The first 300 pops take times 0 .. 299 and lift about 300 x 9 slots by a level each. */
  for (sim_time want = 0; want < 300; want++) {
    sim_key k;
    g_assert_nonnull(sim_pq_pop(pq, &k));
    g_assert_cmpint(k.time, ==, want);
  }
  /* Cancel every event left with an odd time: the survivors are the even times from 300 up,
   * in order, and nothing else. */
  for (uint32_t i = 0; i < HINT_N; i++)
    if (sim_event_pending(&ev[i]) && ev[i].tag % 2) sim_pq_remove(pq, &ev[i]);
  g_assert_cmpuint(sim_pq_len(pq), ==, (HINT_N - 300 + 1) / 2); /* 300, 302, ..., 1022 */
  for (sim_time want = 300; want < HINT_N; want += 2) {
    sim_key k;
    sim_event *e = sim_pq_pop(pq, &k);
    g_assert_nonnull(e);
    g_assert_cmpint(k.time, ==, want);
    g_assert_cmpint((sim_time)e->tag, ==, want);
  }
  g_assert_null(sim_pq_pop(pq, NULL));
  for (uint32_t i = 0; i < HINT_N; i++) g_assert_false(sim_event_pending(&ev[i]));
  sim_pq_free(pq);
  g_free(ev);
}

static void test_hint_reschedule_after_pops_finds_the_risen_slot(void) {
  sim_event *ev = g_new(sim_event, HINT_N);
  sim_pq *pq = scrambled_queue(ev);
  for (int p = 0; p < 300; p++) g_assert_nonnull(sim_pq_pop(pq, NULL));
  /* Move every event left whose time is a multiple of 3 to HINT_N + its time, after all the
   * others. Expected: the times 300 .. 1022 not divisible by 3, in order, then the moved ones
   * in order of their new times. */
  for (uint32_t i = 0; i < HINT_N; i++)
    if (sim_event_pending(&ev[i]) && ev[i].tag % 3 == 0)
      sim_pq_update(pq, &ev[i], HINT_N + (sim_time)ev[i].tag);
  sim_time want = 300;
  for (sim_key k; sim_pq_peek(pq, &k) && k.time < HINT_N;) {
    while (want % 3 == 0) want++;
    sim_event *e = sim_pq_pop(pq, &k);
    g_assert_cmpint(k.time, ==, want);
    g_assert_cmpint((sim_time)e->tag, ==, want);
    want++;
  }
  g_assert_cmpint(want, ==, HINT_N); /* 1022 = 3 x 340 + 2 was the last unmoved time */
  for (sim_time moved = 300; moved < HINT_N; moved += 3) {
    sim_key k;
    sim_event *e = sim_pq_pop(pq, &k);
    g_assert_cmpint(k.time, ==, HINT_N + moved);
    g_assert_cmpint((sim_time)e->tag, ==, moved);
  }
  g_assert_null(sim_pq_pop(pq, NULL));
  sim_pq_free(pq);
  g_free(ev);
}

/* ---- cancel and reschedule: what the owner of an event sees ---- */

static void test_cancel_deep_slot_is_gone_and_not_counted(void) {
  sim_event ev[7];
  sim_pq *pq = queue_of(ev, 7);
  /* queue_of pushes in increasing time order, so nothing sifts and event i sits at index i.
   * Event 2 is neither the top nor the last slot. */
  sim_pq_remove(pq, &ev[2]);
  g_assert_false(sim_event_pending(&ev[2]));
  g_assert_cmpuint(sim_pq_len(pq), ==, 6); /* 7 pushed, 1 cancelled */
  g_assert_true(sim_pq_pop(pq, NULL) == &ev[0]);
  g_assert_true(sim_pq_pop(pq, NULL) == &ev[1]);
  /* Event 2 (time 20) would be next; peek must show event 3. */
  sim_key k;
  g_assert_true(sim_pq_peek(pq, &k) == &ev[3]);
  g_assert_cmpint(k.time, ==, 30);
  g_assert_cmpuint(sim_pq_len(pq), ==, 4);
  const uint32_t want[] = {3, 4, 5, 6};
  assert_pops(pq, want, G_N_ELEMENTS(want));
  sim_pq_free(pq);
}

static void test_order_peek_never_shows_a_cancelled_event(void) {
  sim_event ev[7];
  sim_pq *pq = queue_of(ev, 7);
  /* Events 1 and 2 are the root's children. Once event 0 is popped, both would be next in
   * line; cancelled, they must never be seen, whether by peek or by pop. */
  sim_pq_remove(pq, &ev[1]);
  sim_pq_remove(pq, &ev[2]);
  g_assert_true(sim_pq_peek(pq, NULL) == &ev[0]);
  g_assert_true(sim_pq_pop(pq, NULL) == &ev[0]);
  g_assert_true(sim_pq_peek(pq, NULL) == &ev[3]);
  /* Cancelling the top itself: the next event takes its place at once. */
  sim_pq_remove(pq, &ev[3]);
  sim_key k;
  g_assert_true(sim_pq_peek(pq, &k) == &ev[4]);
  g_assert_cmpint(k.time, ==, 40);
  g_assert_cmpuint(sim_pq_len(pq), ==, 3);
  sim_pq_free(pq);
}

/* The owner of a cancelled event may free it at once (net_free and the CPU model's free do
 * so while the engine lives on): the queue must not read it again. Under AddressSanitizer
 * any such read aborts; without it, the scribbled bytes (a slot index of 0x5a5a5a5a) would
 * derail a queue that still looked at them. */
static void test_cancel_event_may_be_freed_right_after_its_cancel(void) {
  enum { KEEP = 50, GONE = 400 };
  sim_pq *pq = sim_pq_new(0);
  sim_event keep[KEEP];
  sim_event *gone[GONE];
  /* Kept events at 0, 10, ..., 490; doomed ones at 5, 15, ..., 3995, interleaved with them
   * up to 495. Half the kept ones are popped before the cancels, so that slots have moved. */
  for (uint32_t i = 0; i < GONE; i++) {
    gone[i] = g_new(sim_event, 1);
    sim_event_init(gone[i], NULL, 1000 + i);
    sim_pq_push(pq, gone[i], 10 * (sim_time)i + 5);
    if (i < KEEP) {
      sim_event_init(&keep[i], NULL, i);
      sim_pq_push(pq, &keep[i], 10 * (sim_time)i);
    }
  }
  for (uint32_t i = 0; i < KEEP / 2; i++) {
    g_assert_true(sim_pq_pop(pq, NULL) == &keep[i]);
    g_assert_true(sim_pq_pop(pq, NULL) == gone[i]);
  }
  for (uint32_t i = KEEP / 2; i < GONE; i++) {
    sim_pq_remove(pq, gone[i]);
    memset(gone[i], 0x5a, sizeof *gone[i]);
    g_free(gone[i]);
  }
  g_assert_cmpuint(sim_pq_len(pq), ==, KEEP / 2);
  for (uint32_t i = KEEP / 2; i < KEEP; i++) {
    sim_key k;
    sim_event *e = sim_pq_pop(pq, &k);
    g_assert_true(e == &keep[i]);
    g_assert_cmpint(k.time, ==, 10 * (sim_time)i);
  }
  g_assert_null(sim_pq_pop(pq, NULL));
  for (uint32_t i = 0; i < KEEP / 2; i++) g_free(gone[i]);
  sim_pq_free(pq);
}

static void test_reschedule_cancelled_event_runs_once_at_its_new_time(void) {
  sim_event ev[5];
  sim_pq *pq = queue_of(ev, 5); /* times 0..40, sequence numbers 0..4 */
  /* Event 2: cancelled, then pushed again later (20 -> 35). Event 3: moved earlier
   * (30 -> 5). Each must run once, at its new time, with its new sequence number. */
  sim_pq_remove(pq, &ev[2]);
  sim_pq_push(pq, &ev[2], 35);  /* sequence 5 */
  sim_pq_update(pq, &ev[3], 5); /* sequence 6 */
  sim_key k;
  g_assert_true(sim_pq_pop(pq, &k) == &ev[0]);
  g_assert_true(sim_pq_pop(pq, &k) == &ev[3]);
  g_assert_cmpint(k.time, ==, 5);
  /* Event 3, now idle, goes back in at 30, the time it had at first: once more, once only. */
  sim_pq_push(pq, &ev[3], 30); /* sequence 7 */
  const struct { uint32_t tag; sim_time time; uint64_t seq; } want[] = {
      {1, 10, 1}, {3, 30, 7}, {2, 35, 5}, {4, 40, 4}};
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
    sim_event *e = sim_pq_pop(pq, &k);
    g_assert_nonnull(e);
    g_assert_cmpuint(e->tag, ==, want[i].tag);
    g_assert_cmpint(k.time, ==, want[i].time);
    g_assert_cmpuint(k.seq, ==, want[i].seq);
  }
  g_assert_null(sim_pq_pop(pq, NULL));
  sim_pq_free(pq);
}

/* Bytes per pending event, counting the event itself, as `nestsim bench` reports it. */
static double bytes_per_event(const sim_pq *pq) {
  size_t n = sim_pq_len(pq);
  return (double)(sim_pq_memory(pq) + n * sizeof(sim_event)) / (double)n;
}

static void test_memory_many_reschedules_of_one_event_stay_bounded(void) {
  enum { N = 1000, R = 200000 };
  sim_pq *pq = sim_pq_new(0);
  sim_event *other = g_new(sim_event, N);
  for (uint32_t i = 0; i < N; i++) {
    sim_event_init(&other[i], NULL, i);
    sim_pq_push(pq, &other[i], 1000 * (sim_time)i);
  }
  sim_event hot;
  sim_event_init(&hot, NULL, N);
  /* One event moved R times to times scattered among the others', with nothing popped. A
   * queue that kept anything per move (a tombstone, a log entry) would grow with R. Issue
   * 2's budget is 48 bytes per pending event, however many moves. */
  sim_time t = 0;
  size_t mem_before = sim_pq_memory(pq);
  for (uint32_t r = 0; r < R; r++) {
    t = 1 + (sim_time)((r * UINT64_C(7919)) % (1000 * N - 1));
    sim_pq_update(pq, &hot, t);
    g_assert_cmpuint(sim_pq_len(pq), ==, N + 1);
  }
  g_assert_cmpfloat(bytes_per_event(pq), <=, 48.0);
  /* One more event than before the moves: at most one growth of the array. */
  g_assert_cmpuint(sim_pq_memory(pq), <=, mem_before + MAX(mem_before / 4, 16 * 24));
  /* Everything comes out in key order, the moved event once, at the last time it was given. */
  sim_key prev = {-1, 0}, k;
  size_t hot_runs = 0, others = 0;
  for (sim_event *e; (e = sim_pq_pop(pq, &k));) {
    g_assert_true(sim_key_less(prev, k));
    prev = k;
    if (e == &hot) {
      hot_runs++;
      g_assert_cmpint(k.time, ==, t);
    } else {
      g_assert_cmpint(k.time, ==, 1000 * (sim_time)e->tag);
      others++;
    }
  }
  g_assert_cmpuint(hot_runs, ==, 1);
  g_assert_cmpuint(others, ==, N);
  sim_pq_free(pq);
  g_free(other);
}

/* ---- random operations against a reference model ---- */

/* The reference: for each event, whether it is pending and its key. The earliest pending
 * event is found by a linear scan with the same order the spec gives (time, then insertion
 * sequence), and the sequence is counted here independently of the queue: every push and
 * every update takes the next number. */
typedef struct ref_ev {
  bool pending;
  sim_key key;
} ref_ev;

static int ref_min(const ref_ev *ref, int n) {
  int best = -1;
  for (int i = 0; i < n; i++) {
    if (!ref[i].pending) continue;
    if (best < 0 || ref[i].key.time < ref[best].key.time ||
        (ref[i].key.time == ref[best].key.time && ref[i].key.seq < ref[best].key.seq))
      best = i;
  }
  return best;
}

/* One random run: `ops` operations on `n` events, each op picked uniformly from the eight
 * letters of `mix` (a: push if idle, p: pop, c: cancel if pending, r: reschedule), at times
 * now + k * step with k uniform in [0, window). Checks every pop, the pending count and a
 * sample of pending flags against the reference, and drains the queue at the end. When
 * `budget` is set, also checks the queue's memory at every step against its budget. */
typedef struct random_spec {
  int n, ops;
  guint32 seed;
  const char *mix;
  int window;
  sim_time step;
  bool budget;
} random_spec;

typedef struct random_stats {
  size_t max_pending;
  size_t cancels; /* cancels and reschedules of pending events */
} random_stats;

static random_stats run_random_ops(const random_spec *sp) {
  g_assert_cmpuint(strlen(sp->mix), ==, 8);
  const int n = sp->n;
  sim_event *ev = g_new(sim_event, n);
  ref_ev *ref = g_new(ref_ev, n);
  uint64_t seq = 0;
  size_t pending = 0;
  random_stats st = {0, 0};
  GRand *r = g_rand_new_with_seed(sp->seed);
  sim_pq *pq = sim_pq_new(0);
  for (int i = 0; i < n; i++) {
    sim_event_init(&ev[i], NULL, (uint32_t)i);
    ref[i].pending = false;
  }
  sim_time now = 0;
  for (int op = 0; op < sp->ops; op++) {
    int i = g_rand_int_range(r, 0, n);
    sim_time t = now + g_rand_int_range(r, 0, sp->window) * sp->step;
    switch (sp->mix[g_rand_int_range(r, 0, 8)]) {
    case 'a':
      if (ref[i].pending) break;
      sim_pq_push(pq, &ev[i], t);
      ref[i] = (ref_ev){true, {t, seq++}};
      pending++;
      break;
    case 'p': { /* pop and compare with the reference's earliest */
      int want = ref_min(ref, n);
      sim_key k;
      sim_event *e = sim_pq_pop(pq, &k);
      if (want < 0) {
        g_assert_null(e);
        break;
      }
      g_assert_nonnull(e);
      g_assert_cmpint((int)e->tag, ==, want);
      g_assert_cmpint(k.time, ==, ref[want].key.time);
      g_assert_cmpuint(k.seq, ==, ref[want].key.seq);
      g_assert_false(sim_event_pending(e));
      ref[want].pending = false;
      pending--;
      now = k.time;
      break;
    }
    case 'c':
      if (!ref[i].pending) break;
      sim_pq_remove(pq, &ev[i]);
      ref[i].pending = false;
      pending--;
      st.cancels++;
      break;
    case 'r': /* pending or idle */
      if (ref[i].pending)
        st.cancels++;
      else
        pending++;
      sim_pq_update(pq, &ev[i], t);
      ref[i] = (ref_ev){true, {t, seq++}};
      break;
    default:
      g_assert_not_reached();
    }
    g_assert_cmpuint(sim_pq_len(pq), ==, pending);
    st.max_pending = MAX(st.max_pending, pending);
    for (int j = op % 37; j < n; j += 37) g_assert_cmpint(sim_event_pending(&ev[j]), ==, ref[j].pending);
    /* The queue's budget (sim/pq.c): the array grows by a quarter when full, so it holds at
     * most 1.25 slots of 24 bytes per event at the peak count, 30 bytes, plus its fixed
     * struct (under 256 bytes); from 256 events on, where a growth step is a quarter and not
     * the 16-slot minimum. */
    if (sp->budget && st.max_pending >= 256)
      g_assert_cmpuint(sim_pq_memory(pq), <=, 30 * st.max_pending + 256);
  }
  /* Drain: everything left comes out in reference order. */
  for (int want; (want = ref_min(ref, n)) >= 0;) {
    sim_key k;
    sim_event *e = sim_pq_pop(pq, &k);
    g_assert_cmpint((int)e->tag, ==, want);
    g_assert_cmpuint(k.seq, ==, ref[want].key.seq);
    ref[want].pending = false;
  }
  g_assert_null(sim_pq_pop(pq, NULL));
  sim_pq_free(pq);
  g_rand_free(r);
  g_free(ev);
  g_free(ref);
  return st;
}

static void test_model_random_ops_match_sorted_reference(void) {
  /* Times in a narrow window above now so that ties are frequent (about 1 in 20). Weights
   * push 3, pop 2, cancel 1, reschedule 2 (of 8): an event is idle about half the time (idle
   * share x 5/8 in = 2/8 + pending share x 1/8 out), so about 150 are pending and the heap
   * is several levels deep. */
  const random_spec sp = {300, 40000, 20240601, "apcrraap", 20, 1, false};
  random_stats st = run_random_ops(&sp);
  /* The weights above keep the heap at least 100 deep (7 levels) for most of the run, so the
   * sifts were exercised well away from the root. */
  g_assert_cmpuint(st.max_pending, >=, 100);
}

static void test_model_random_few_pending_mostly_earliest(void) {
  /* Weights push 2, pop 3, cancel 1, reschedule 2 (of 8) over 40 events, times up to 50 ns
   * above now: few events pending (about a dozen), so a new one is often the earliest, the
   * case sim/pq.c keeps in its front slot beside the heap, and often several in a row are, so
   * each hands the one before to the heap. Ties are frequent (about 1 in 4). Every pop must
   * still be the reference's earliest. */
  const random_spec sp = {40, 100000, 99, "appprcar", 50, 1, false};
  random_stats st = run_random_ops(&sp);
  g_assert_cmpuint(st.max_pending, >=, 16);
}

/* Twenty events pushed latest first: each runs before all the others, so each goes to the
 * front slot (sim/pq.c) and moves the one before it into the heap. Then cancels and
 * reschedules that cross between the heap and the front slot: event 0 (t = 1000, in the heap)
 * is cancelled; 15 (in the heap) moves to t = 5, before the front slot's 19 (t = 50), which
 * must go to the heap; 15, now in the front slot, moves again to t = 2; 3 moves from the heap
 * to t = 1, before 15; and 3 is cancelled from the front slot. The queue must then give 15
 * (t = 2) and the rest by time: 19, 18, ..., 1 (t = 50, 100, ..., 950) without 15 and 3. */
static void test_front_slot_cancel_and_move(void) {
  sim_pq *pq = sim_pq_new(0);
  enum { N = 20 };
  sim_event ev[N];
  for (uint32_t i = 0; i < N; i++) {
    sim_event_init(&ev[i], NULL, i);
    sim_pq_push(pq, &ev[i], 1000 - 50 * (sim_time)i); /* 1000, 950, ..., 50 */
  }
  g_assert_cmpuint(sim_pq_len(pq), ==, N);
  sim_pq_remove(pq, &ev[0]);
  sim_pq_update(pq, &ev[15], 5);
  sim_pq_update(pq, &ev[15], 2);
  sim_pq_update(pq, &ev[3], 1);
  sim_key key;
  g_assert_true(sim_pq_peek(pq, &key) == &ev[3]);
  g_assert_cmpint(key.time, ==, 1);
  sim_pq_remove(pq, &ev[3]);
  g_assert_cmpuint(sim_pq_len(pq), ==, N - 2);
  g_assert_false(sim_event_pending(&ev[0]));
  g_assert_false(sim_event_pending(&ev[3]));
  uint32_t want[N];
  uint32_t k = 0;
  want[k++] = 15;
  for (uint32_t i = 19; i >= 1; i--)
    if (i != 15 && i != 3) want[k++] = i;
  g_assert_cmpuint(k, ==, N - 2);
  for (uint32_t j = 0; j < k; j++) {
    sim_event *e = sim_pq_pop(pq, &key);
    g_assert_nonnull(e);
    g_assert_cmpuint(e->tag, ==, want[j]);
    g_assert_cmpint(key.time, ==, e->tag == 15 ? 2 : 1000 - 50 * (sim_time)e->tag);
  }
  g_assert_null(sim_pq_pop(pq, NULL));
  sim_pq_free(pq);
}

/* sim_pq_pop_until gives the earliest event only when it is due by `until`. */
static void test_pop_until_stops_at_the_limit(void) {
  sim_pq *pq = sim_pq_new(0);
  sim_event a, b;
  sim_event_init(&a, NULL, 1);
  sim_event_init(&b, NULL, 2);
  sim_pq_push(pq, &a, 10);
  sim_pq_push(pq, &b, 20);
  sim_key k;
  g_assert_null(sim_pq_pop_until(pq, 9, &k));
  g_assert_true(sim_pq_pop_until(pq, 10, &k) == &a); /* due exactly at the limit: runs */
  g_assert_cmpint(k.time, ==, 10);
  g_assert_null(sim_pq_pop_until(pq, 19, &k));
  g_assert_cmpuint(sim_pq_len(pq), ==, 1);
  g_assert_true(sim_pq_pop_until(pq, SIM_TIME_NEVER, &k) == &b);
  g_assert_null(sim_pq_pop_until(pq, SIM_TIME_NEVER, &k));
  sim_pq_free(pq);
}

static void test_model_random_heavy_cancel_and_reschedule(void) {
  /* Weights push 2, pop 1, cancel 2, reschedule 3 (of 8), times spread over 10^6 ns above
   * now on a 1000-ns grid (so ties still happen: 1000 distinct times for ~1100 events). Per
   * op, an event enters with probability idle share x 5/8 and leaves with pending share x
   * 2/8 + 1/8 (a pop), so the pending share P settles where 5(1 - P) = 2P + 1: P = 4/7, about
   * 1140 of the 2000 events. Between two cancels or moves there are pops, which lift slots
   * above their events' index hints, so most cancels have to look up from the hint. */
  const random_spec sp = {2000, 200000, 7, "apccrrra", 1000, 1000, true};
  random_stats st = run_random_ops(&sp);
  g_assert_cmpuint(st.max_pending, >=, 1000);
  /* Cancels and moves of pending events: 5/8 of the ops x P = 4/7 of 200000, about 71000. */
  g_assert_cmpuint(st.cancels, >=, 60000);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/pq/key/earlier-time-runs-first-whatever-the-sequence", test_key_earlier_time_first);
  g_test_add_func("/pq/key/equal-times-lower-sequence-runs-first", test_key_equal_time_lower_seq_first);
  g_test_add_func("/pq/key/no-key-runs-before-itself", test_key_irreflexive);
  g_test_add_func("/pq/key/extreme-times-compare-without-overflow", test_key_extreme_times);
  g_test_add_func("/pq/order/pops-in-time-order", test_order_pops_in_time_order);
  g_test_add_func("/pq/order/pop-until-stops-at-the-limit", test_pop_until_stops_at_the_limit);
  g_test_add_func("/pq/front/cancel-and-move-keep-time-order", test_front_slot_cancel_and_move);
  g_test_add_func("/pq/model/random-few-pending-mostly-earliest", test_model_random_few_pending_mostly_earliest);
  g_test_add_func("/pq/order/ties-run-in-insertion-order", test_order_ties_run_in_insertion_order);
  g_test_add_func("/pq/order/empty-queue-pops-null", test_order_empty_queue_pops_null);
  g_test_add_func("/pq/order/peek-does-not-remove", test_order_peek_does_not_remove);
  g_test_add_func("/pq/order/peek-never-shows-a-cancelled-event", test_order_peek_never_shows_a_cancelled_event);
  g_test_add_func("/pq/order/sequence-numbers-increase-with-insertion", test_order_sequence_numbers_increase);
  g_test_add_func("/pq/handle/pending-exactly-while-queued", test_handle_pending_while_queued);
  g_test_add_func("/pq/cancel/root", test_cancel_root);
  g_test_add_func("/pq/cancel/last-slot", test_cancel_last_slot);
  g_test_add_func("/pq/cancel/middle", test_cancel_middle);
  g_test_add_func("/pq/cancel/only-event", test_cancel_only_event);
  g_test_add_func("/pq/cancel/moved-last-slot-sifts-up", test_cancel_moves_last_slot_up);
  g_test_add_func("/pq/cancel/deep-slot-is-gone-and-not-counted", test_cancel_deep_slot_is_gone_and_not_counted);
  g_test_add_func("/pq/cancel/event-may-be-freed-right-after-its-cancel", test_cancel_event_may_be_freed_right_after_its_cancel);
  g_test_add_func("/pq/reschedule/earlier", test_reschedule_earlier);
  g_test_add_func("/pq/reschedule/later", test_reschedule_later);
  g_test_add_func("/pq/reschedule/same-time-goes-last-among-equals", test_reschedule_same_time_goes_last_among_equals);
  g_test_add_func("/pq/reschedule/onto-a-tie-goes-last", test_reschedule_onto_a_tie_goes_last);
  g_test_add_func("/pq/reschedule/idle-event-is-pushed", test_reschedule_idle_event_is_pushed);
  g_test_add_func("/pq/reschedule/cancelled-event-runs-once-at-its-new-time", test_reschedule_cancelled_event_runs_once_at_its_new_time);
  g_test_add_func("/pq/memory/many-reschedules-of-one-event-stay-bounded", test_memory_many_reschedules_of_one_event_stay_bounded);
  g_test_add_func("/pq/hint/cancel-after-pops-finds-the-risen-slot", test_hint_cancel_after_pops_finds_the_risen_slot);
  g_test_add_func("/pq/hint/reschedule-after-pops-finds-the-risen-slot", test_hint_reschedule_after_pops_finds_the_risen_slot);
  g_test_add_func("/pq/grow/past-capacity-keeps-order", test_grow_past_capacity_keeps_order);
  g_test_add_func("/pq/model/random-ops-match-sorted-reference", test_model_random_ops_match_sorted_reference);
  g_test_add_func("/pq/model/random-heavy-cancel-and-reschedule", test_model_random_heavy_cancel_and_reschedule);
  return g_test_run();
}
