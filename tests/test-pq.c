/* test-pq.c — the pending-event queue (sim/pq.c): key order, FIFO ties, cancel and
 * reschedule through handles, growth, and a long random run checked against a brute-force
 * reference model. */
#include <glib.h>

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

static void test_model_random_ops_match_sorted_reference(void) {
  enum { N = 300, OPS = 40000 };
  sim_event ev[N];
  ref_ev ref[N];
  uint64_t seq = 0;
  size_t pending = 0, max_pending = 0;
  GRand *r = g_rand_new_with_seed(20240601);
  sim_pq *pq = sim_pq_new(0);
  for (int i = 0; i < N; i++) {
    sim_event_init(&ev[i], NULL, (uint32_t)i);
    ref[i].pending = false;
  }
  sim_time now = 0;
  for (int op = 0; op < OPS; op++) {
    int i = g_rand_int_range(r, 0, N);
    /* Times in a narrow window above now so that ties are frequent (about 1 in 20). */
    sim_time t = now + g_rand_int_range(r, 0, 20);
    /* Weights push 3, pop 2, cancel 1, reschedule 2 (of 8): an event is idle about half the
     * time (idle share x 5/8 in = 2/8 + pending share x 1/8 out), so about 150 are pending
     * and the heap is several levels deep. */
    switch (g_rand_int_range(r, 0, 8)) {
    case 0: /* push, if idle */
    case 5:
    case 6:
      if (ref[i].pending) break;
      sim_pq_push(pq, &ev[i], t);
      ref[i] = (ref_ev){true, {t, seq++}};
      pending++;
      break;
    case 1: /* pop and compare with the reference's earliest */
    case 7: {
      int want = ref_min(ref, N);
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
    case 2: /* cancel, if pending */
      if (!ref[i].pending) break;
      sim_pq_remove(pq, &ev[i]);
      ref[i].pending = false;
      pending--;
      break;
    case 3: /* reschedule, pending or idle */
    case 4:
      if (!ref[i].pending) pending++;
      sim_pq_update(pq, &ev[i], t);
      ref[i] = (ref_ev){true, {t, seq++}};
      break;
    }
    g_assert_cmpuint(sim_pq_len(pq), ==, pending);
    max_pending = MAX(max_pending, pending);
    for (int j = 0; j < N; j += 37) g_assert_cmpint(sim_event_pending(&ev[j]), ==, ref[j].pending);
  }
  /* The weights above keep the heap at least 100 deep (7 levels) for most of the run, so the
   * sifts were exercised well away from the root. */
  g_assert_cmpuint(max_pending, >=, 100);
  /* Drain: everything left comes out in reference order. */
  for (int want; (want = ref_min(ref, N)) >= 0;) {
    sim_key k;
    sim_event *e = sim_pq_pop(pq, &k);
    g_assert_cmpint((int)e->tag, ==, want);
    g_assert_cmpuint(k.seq, ==, ref[want].key.seq);
    ref[want].pending = false;
  }
  g_assert_null(sim_pq_pop(pq, NULL));
  sim_pq_free(pq);
  g_rand_free(r);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/pq/key/earlier-time-runs-first-whatever-the-sequence", test_key_earlier_time_first);
  g_test_add_func("/pq/key/equal-times-lower-sequence-runs-first", test_key_equal_time_lower_seq_first);
  g_test_add_func("/pq/key/no-key-runs-before-itself", test_key_irreflexive);
  g_test_add_func("/pq/key/extreme-times-compare-without-overflow", test_key_extreme_times);
  g_test_add_func("/pq/order/pops-in-time-order", test_order_pops_in_time_order);
  g_test_add_func("/pq/order/ties-run-in-insertion-order", test_order_ties_run_in_insertion_order);
  g_test_add_func("/pq/order/empty-queue-pops-null", test_order_empty_queue_pops_null);
  g_test_add_func("/pq/order/peek-does-not-remove", test_order_peek_does_not_remove);
  g_test_add_func("/pq/order/sequence-numbers-increase-with-insertion", test_order_sequence_numbers_increase);
  g_test_add_func("/pq/handle/pending-exactly-while-queued", test_handle_pending_while_queued);
  g_test_add_func("/pq/cancel/root", test_cancel_root);
  g_test_add_func("/pq/cancel/last-slot", test_cancel_last_slot);
  g_test_add_func("/pq/cancel/middle", test_cancel_middle);
  g_test_add_func("/pq/cancel/only-event", test_cancel_only_event);
  g_test_add_func("/pq/cancel/moved-last-slot-sifts-up", test_cancel_moves_last_slot_up);
  g_test_add_func("/pq/reschedule/earlier", test_reschedule_earlier);
  g_test_add_func("/pq/reschedule/later", test_reschedule_later);
  g_test_add_func("/pq/reschedule/same-time-goes-last-among-equals", test_reschedule_same_time_goes_last_among_equals);
  g_test_add_func("/pq/reschedule/onto-a-tie-goes-last", test_reschedule_onto_a_tie_goes_last);
  g_test_add_func("/pq/reschedule/idle-event-is-pushed", test_reschedule_idle_event_is_pushed);
  g_test_add_func("/pq/grow/past-capacity-keeps-order", test_grow_past_capacity_keeps_order);
  g_test_add_func("/pq/model/random-ops-match-sorted-reference", test_model_random_ops_match_sorted_reference);
  return g_test_run();
}
