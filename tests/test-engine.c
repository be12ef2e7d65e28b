/* test-engine.c — the discrete-event engine (sim/engine.c): delivery order, the clock, the
 * semantics of sim_run_until and sim_stop, cancel and reschedule through the engine. */
#include <glib.h>

#include "sim/engine.h"

/* A test entity that records every event it receives: (tag, time) pairs, and optionally
 * reacts (reschedules itself, stops the engine, cancels another event). */
typedef struct rec {
  sim_entity ent;
  GArray *log; /* of logged */
  sim_event ev[4];
  int resched_left;   /* ev[0] reschedules itself this many more times ... */
  sim_time period;    /* ... this far ahead */
  uint32_t stop_on;   /* sim_stop when this tag runs (UINT32_MAX: never) */
  sim_event *cancel;  /* cancelled when ev[0] runs, if not NULL */
  bool idle_in_handler; /* every handled event was idle when its handler ran */
} rec;

typedef struct logged {
  uint32_t tag;
  sim_time time;
} logged;

static void rec_handle(sim_engine *eng, sim_entity *self, sim_event *ev) {
  rec *r = SIM_CONTAINER_OF(self, rec, ent);
  if (sim_event_pending(ev)) r->idle_in_handler = false;
  logged l = {ev->tag, sim_now(eng)};
  g_array_append_val(r->log, l);
  if (ev->tag == r->stop_on) sim_stop(eng);
  if (ev == &r->ev[0]) {
    if (r->cancel) sim_cancel(eng, r->cancel);
    /* sim_schedule asserts the event is idle: this call would abort if it were not. */
    if (r->resched_left > 0) {
      r->resched_left--;
      sim_schedule(eng, ev, sim_now(eng) + r->period);
    }
  }
}

static const sim_entity_type rec_type = {"rec", rec_handle};

static void rec_init(rec *r) {
  *r = (rec){.ent = {&rec_type}, .stop_on = UINT32_MAX, .idle_in_handler = true};
  r->log = g_array_new(FALSE, FALSE, sizeof(logged));
  for (uint32_t i = 0; i < G_N_ELEMENTS(r->ev); i++) sim_event_init(&r->ev[i], &r->ent, i);
}

static void rec_clear(rec *r) { g_array_free(r->log, TRUE); }

static logged log_at(const rec *r, guint i) { return g_array_index(r->log, logged, i); }

static void test_new_engine_is_empty_at_time_zero(void) {
  sim_engine *eng = sim_engine_new();
  g_assert_cmpint(sim_now(eng), ==, 0);
  g_assert_cmpuint(sim_pending(eng), ==, 0);
  g_assert_cmpuint(sim_events_done(eng), ==, 0);
  sim_engine_free(eng);
}

static void test_order_delivers_in_time_order_with_the_clock_at_each_event(void) {
  sim_engine *eng = sim_engine_new();
  rec r;
  rec_init(&r);
  sim_schedule(eng, &r.ev[0], 30);
  sim_schedule(eng, &r.ev[1], 10);
  sim_schedule(eng, &r.ev[2], 20);
  g_assert_cmpuint(sim_pending(eng), ==, 3);
  g_assert_cmpuint(sim_run_until(eng, 100), ==, 3);
  g_assert_cmpuint(r.log->len, ==, 3);
  /* Each handler sees the clock at its own event's time. */
  const logged want[] = {{1, 10}, {2, 20}, {0, 30}};
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpuint(log_at(&r, i).tag, ==, want[i].tag);
    g_assert_cmpint(log_at(&r, i).time, ==, want[i].time);
  }
  g_assert_true(r.idle_in_handler);
  g_assert_cmpuint(sim_events_done(eng), ==, 3);
  g_assert_cmpuint(sim_pending(eng), ==, 0);
  rec_clear(&r);
  sim_engine_free(eng);
}

static void test_order_ties_run_in_scheduling_order(void) {
  sim_engine *eng = sim_engine_new();
  rec r;
  rec_init(&r);
  for (uint32_t i = 0; i < 4; i++) sim_schedule(eng, &r.ev[3 - i], 5);
  sim_run_until(eng, 5);
  for (guint i = 0; i < 4; i++) g_assert_cmpuint(log_at(&r, i).tag, ==, 3 - i);
  rec_clear(&r);
  sim_engine_free(eng);
}

static void test_run_until_runs_events_at_exactly_until(void) {
  sim_engine *eng = sim_engine_new();
  rec r;
  rec_init(&r);
  sim_schedule(eng, &r.ev[0], 50);
  sim_schedule(eng, &r.ev[1], 51);
  /* "time <= until": the event at 50 runs in run_until(50), the one at 51 waits. */
  g_assert_cmpuint(sim_run_until(eng, 50), ==, 1);
  g_assert_cmpuint(r.log->len, ==, 1);
  g_assert_cmpuint(log_at(&r, 0).tag, ==, 0);
  g_assert_true(sim_event_pending(&r.ev[1]));
  g_assert_cmpuint(sim_pending(eng), ==, 1);
  rec_clear(&r);
  sim_engine_free(eng);
}

static void test_run_until_leaves_the_clock_at_until(void) {
  sim_engine *eng = sim_engine_new();
  rec r;
  rec_init(&r);
  sim_schedule(eng, &r.ev[0], 10);
  sim_schedule(eng, &r.ev[1], 500);
  sim_run_until(eng, 100);
  /* The last event ran at 10, but the run covered [0, 100]: the clock says 100. */
  g_assert_cmpint(sim_now(eng), ==, 100);
  /* With nothing pending at all, the clock still moves to until. */
  sim_cancel(eng, &r.ev[1]);
  g_assert_cmpuint(sim_run_until(eng, 1000), ==, 0);
  g_assert_cmpint(sim_now(eng), ==, 1000);
  rec_clear(&r);
  sim_engine_free(eng);
}

static void test_run_until_consecutive_windows_run_each_event_once(void) {
  sim_engine *eng = sim_engine_new();
  rec r;
  rec_init(&r);
  /* ev[0] fires at 0, 10, 20, ..., 90 (itself plus 9 reschedules). Run in windows ending on
   * an event time (20) and between times (55): each firing must happen exactly once. */
  r.resched_left = 9;
  r.period = 10;
  sim_schedule(eng, &r.ev[0], 0);
  g_assert_cmpuint(sim_run_until(eng, 20), ==, 3);  /* 0, 10, 20 */
  g_assert_cmpuint(sim_run_until(eng, 55), ==, 3);  /* 30, 40, 50 */
  g_assert_cmpuint(sim_run_until(eng, 1000), ==, 4); /* 60, 70, 80, 90 */
  g_assert_cmpuint(r.log->len, ==, 10);
  for (guint i = 0; i < 10; i++) g_assert_cmpint(log_at(&r, i).time, ==, 10 * (sim_time)i);
  g_assert_cmpuint(sim_events_done(eng), ==, 10);
  g_assert_false(sim_event_pending(&r.ev[0]));
  rec_clear(&r);
  sim_engine_free(eng);
}

static void test_handler_rescheduling_itself_at_now_runs_again_in_the_same_run(void) {
  sim_engine *eng = sim_engine_new();
  rec r;
  rec_init(&r);
  /* A zero period: each firing schedules the next at the current time, which is <= until, so
   * all 1 + 3 firings happen in one run, all at time 7. */
  r.resched_left = 3;
  r.period = 0;
  sim_schedule(eng, &r.ev[0], 7);
  g_assert_cmpuint(sim_run_until(eng, 7), ==, 4);
  for (guint i = 0; i < 4; i++) g_assert_cmpint(log_at(&r, i).time, ==, 7);
  rec_clear(&r);
  sim_engine_free(eng);
}

static void test_handler_event_at_now_runs_after_other_ties(void) {
  sim_engine *eng = sim_engine_new();
  rec r;
  rec_init(&r);
  r.resched_left = 1;
  r.period = 0;
  sim_schedule(eng, &r.ev[0], 5);
  sim_schedule(eng, &r.ev[1], 5);
  sim_run_until(eng, 5);
  /* ev[0]'s second firing was scheduled (at 5) after ev[1] was: it runs after ev[1]. */
  const uint32_t want[] = {0, 1, 0};
  g_assert_cmpuint(r.log->len, ==, 3);
  for (guint i = 0; i < 3; i++) g_assert_cmpuint(log_at(&r, i).tag, ==, want[i]);
  rec_clear(&r);
  sim_engine_free(eng);
}

static void test_stop_returns_after_the_current_event(void) {
  sim_engine *eng = sim_engine_new();
  rec r;
  rec_init(&r);
  r.stop_on = 1;
  sim_schedule(eng, &r.ev[0], 10);
  sim_schedule(eng, &r.ev[1], 20);
  sim_schedule(eng, &r.ev[2], 20);
  sim_schedule(eng, &r.ev[3], 30);
  /* ev[1] stops the run: ev[2], due at the same time, has not run yet. */
  g_assert_cmpuint(sim_run_until(eng, 100), ==, 2);
  /* The clock stands at the stopping event, not at until. */
  g_assert_cmpint(sim_now(eng), ==, 20);
  g_assert_cmpuint(sim_pending(eng), ==, 2);
  /* The stop request was consumed: the next run goes on from where it stopped. */
  g_assert_cmpuint(sim_run_until(eng, 100), ==, 2);
  g_assert_cmpint(sim_now(eng), ==, 100);
  const uint32_t want[] = {0, 1, 2, 3};
  for (guint i = 0; i < 4; i++) g_assert_cmpuint(log_at(&r, i).tag, ==, want[i]);
  rec_clear(&r);
  sim_engine_free(eng);
}

static void test_cancel_pending_event_never_runs(void) {
  sim_engine *eng = sim_engine_new();
  rec r;
  rec_init(&r);
  sim_schedule(eng, &r.ev[0], 10);
  sim_schedule(eng, &r.ev[1], 20);
  sim_cancel(eng, &r.ev[1]);
  g_assert_false(sim_event_pending(&r.ev[1]));
  /* Cancelling an idle event is a no-op. */
  sim_cancel(eng, &r.ev[1]);
  sim_cancel(eng, &r.ev[2]);
  g_assert_cmpuint(sim_run_until(eng, 100), ==, 1);
  g_assert_cmpuint(log_at(&r, 0).tag, ==, 0);
  rec_clear(&r);
  sim_engine_free(eng);
}

static void test_cancel_from_a_handler(void) {
  sim_engine *eng = sim_engine_new();
  rec r;
  rec_init(&r);
  /* ev[0] at 10 cancels ev[1], due at the same time but scheduled later: a preemption. */
  r.cancel = &r.ev[1];
  sim_schedule(eng, &r.ev[0], 10);
  sim_schedule(eng, &r.ev[1], 10);
  g_assert_cmpuint(sim_run_until(eng, 100), ==, 1);
  g_assert_cmpuint(r.log->len, ==, 1);
  rec_clear(&r);
  sim_engine_free(eng);
}

static void test_reschedule_moves_a_pending_event(void) {
  sim_engine *eng = sim_engine_new();
  rec r;
  rec_init(&r);
  sim_schedule(eng, &r.ev[0], 10);
  sim_schedule(eng, &r.ev[1], 20);
  sim_reschedule(eng, &r.ev[0], 30); /* later */
  sim_reschedule(eng, &r.ev[2], 5);  /* idle: scheduled */
  sim_run_until(eng, 100);
  const logged want[] = {{2, 5}, {1, 20}, {0, 30}};
  g_assert_cmpuint(r.log->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpuint(log_at(&r, i).tag, ==, want[i].tag);
    g_assert_cmpint(log_at(&r, i).time, ==, want[i].time);
  }
  rec_clear(&r);
  sim_engine_free(eng);
}

static void test_reschedule_to_same_time_goes_last_among_equals(void) {
  sim_engine *eng = sim_engine_new();
  rec r;
  rec_init(&r);
  sim_schedule(eng, &r.ev[0], 10);
  sim_schedule(eng, &r.ev[1], 10);
  sim_reschedule(eng, &r.ev[0], 10);
  sim_run_until(eng, 10);
  g_assert_cmpuint(log_at(&r, 0).tag, ==, 1);
  g_assert_cmpuint(log_at(&r, 1).tag, ==, 0);
  rec_clear(&r);
  sim_engine_free(eng);
}

static void test_free_with_pending_events(void) {
  /* The usual end of a run: the models free their entities (and the events in them) first,
   * then the engine with events still pending. Freeing the engine must not touch those
   * events (the sanitizer build would report a use after free) nor leak. */
  sim_engine *eng = sim_engine_new();
  rec *r = g_new(rec, 1);
  rec_init(r);
  sim_schedule(eng, &r->ev[0], 10);
  sim_schedule(eng, &r->ev[1], 20);
  rec_clear(r);
  g_free(r);
  sim_engine_free(eng);
}

/* The programmer-error guards: each runs in a subprocess that must abort. */
static void test_guard_schedule_in_the_past_aborts(void) {
  if (g_test_subprocess()) {
    sim_engine *eng = sim_engine_new();
    rec r;
    rec_init(&r);
    sim_run_until(eng, 100);
    sim_schedule(eng, &r.ev[0], 99);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr("*at >= eng->now*");
}

static void test_guard_schedule_pending_event_aborts(void) {
  if (g_test_subprocess()) {
    sim_engine *eng = sim_engine_new();
    rec r;
    rec_init(&r);
    sim_schedule(eng, &r.ev[0], 1);
    sim_schedule(eng, &r.ev[0], 2);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr("*sim_event_pending*");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/new/empty-at-time-zero", test_new_engine_is_empty_at_time_zero);
  g_test_add_func("/engine/order/time-order-with-the-clock-at-each-event", test_order_delivers_in_time_order_with_the_clock_at_each_event);
  g_test_add_func("/engine/order/ties-run-in-scheduling-order", test_order_ties_run_in_scheduling_order);
  g_test_add_func("/engine/run-until/runs-events-at-exactly-until", test_run_until_runs_events_at_exactly_until);
  g_test_add_func("/engine/run-until/clock-ends-at-until", test_run_until_leaves_the_clock_at_until);
  g_test_add_func("/engine/run-until/consecutive-windows-run-each-event-once", test_run_until_consecutive_windows_run_each_event_once);
  g_test_add_func("/engine/handler/reschedules-itself-at-now-in-the-same-run", test_handler_rescheduling_itself_at_now_runs_again_in_the_same_run);
  g_test_add_func("/engine/handler/event-rescheduled-at-now-runs-after-other-ties", test_handler_event_at_now_runs_after_other_ties);
  g_test_add_func("/engine/stop/returns-after-the-current-event", test_stop_returns_after_the_current_event);
  g_test_add_func("/engine/cancel/pending-event-never-runs", test_cancel_pending_event_never_runs);
  g_test_add_func("/engine/cancel/from-a-handler", test_cancel_from_a_handler);
  g_test_add_func("/engine/reschedule/moves-a-pending-event", test_reschedule_moves_a_pending_event);
  g_test_add_func("/engine/reschedule/same-time-goes-last-among-equals", test_reschedule_to_same_time_goes_last_among_equals);
  g_test_add_func("/engine/free/after-the-entities-with-events-pending", test_free_with_pending_events);
  g_test_add_func("/engine/guard/schedule-in-the-past-aborts", test_guard_schedule_in_the_past_aborts);
  g_test_add_func("/engine/guard/schedule-of-a-pending-event-aborts", test_guard_schedule_pending_event_aborts);
  return g_test_run();
}
