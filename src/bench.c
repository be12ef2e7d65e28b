/* bench.c — the hold-model benchmark of the pending-event queue.
 *
 * The classic hold model (Jones, "An empirical comparison of priority-queue and event-set
 * implementations", CACM 1986): keep n events pending; each hold pops the earliest and
 * pushes one at its time plus an exponential increment. After warm-up the queue stays at n
 * and the distribution of pending times is stationary, so ns per hold is the queue's cost
 * at that size.
 *
 * Two queues run the same increments from the same GSL stream:
 *  - the baseline, a plain binary heap of 16-byte (time, seq) keys written below, with no
 *    handles: the fastest a heap of these keys gets, and what issue 2 calls the reference;
 *  - sim/pq.c, whose 24-byte slots carry the event pointer and which keeps each pending
 *    event's slot index (as a hint) in the event: the price of O(log n) cancel and
 *    reschedule.
 * Both order by sim_key_less with a sequence number, so they must pop exactly the same
 * (time, seq) sequence: a checksum of it is compared after every chunk, which keeps the
 * compiler from discarding the work and doubles as a cross-check of the two heaps.
 *
 * Increments are Exp(mean 1 s) in integer ns. At n = 10^6 pending events the pending times
 * spread over a few means, about one event per 10^3 ns, so equal times (ties) stay rare as
 * in a real model; a 1 µs mean would put hundreds of events on each ns and measure mostly
 * ties. The draw itself (taus2 + gsl_ran_exponential) is part of every hold, as in the
 * classic model, and its cost is printed on its own so that it can be subtracted.
 *
 * Timing: CLOCK_MONOTONIC around chunks of holds; the two queues' chunks alternate, so that
 * load from other processes on a shared machine hits both alike, and each queue's figure is
 * the median of its chunks. */
#define _POSIX_C_SOURCE 200809L

#include "src/bench.h"

#include <glib.h>
#include <gsl/gsl_randist.h>
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "sim/pq.h"
#include "sim/rng.h"

#define BENCH_MEAN_NS 1e9
#define BENCH_CHUNKS 5
#define BENCH_MAX_SIZE 10000000 /* 10^7 pending events: 560 MB for both queues */

static const size_t bench_default_sizes[] = {1000, 100000, 1000000};

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static sim_time draw(gsl_rng *r) { return (sim_time)gsl_ran_exponential(r, BENCH_MEAN_NS); }

/* Folds a popped key into an order-sensitive checksum. */
static uint64_t fold(uint64_t c, sim_key k) {
  return (c ^ (uint64_t)k.time ^ (k.seq << 40)) * UINT64_C(0x100000001b3);
}

/* ---- the baseline: a plain binary heap of keys ---- */

typedef struct heap {
  sim_key *k;
  size_t len;
  uint64_t seq;
} heap;

static void heap_push(heap *h, sim_time t) {
  sim_key x = {t, h->seq++};
  size_t i = h->len++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!sim_key_less(x, h->k[parent])) break;
    h->k[i] = h->k[parent];
    i = parent;
  }
  h->k[i] = x;
}

static sim_key heap_pop(heap *h) {
  sim_key top = h->k[0];
  sim_key x = h->k[--h->len];
  size_t n = h->len, i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && sim_key_less(h->k[c + 1], h->k[c])) c++;
    if (!sim_key_less(h->k[c], x)) break;
    h->k[i] = h->k[c];
    i = c;
  }
  h->k[i] = x;
  return top;
}

static uint64_t hold_heap(heap *h, gsl_rng *r, uint64_t holds) {
  uint64_t c = 0;
  for (uint64_t i = 0; i < holds; i++) {
    sim_key k = heap_pop(h);
    c = fold(c, k);
    heap_push(h, k.time + draw(r));
  }
  return c;
}

/* ---- sim_pq ---- */

static uint64_t hold_pq(sim_pq *pq, gsl_rng *r, uint64_t holds) {
  uint64_t c = 0;
  for (uint64_t i = 0; i < holds; i++) {
    sim_key k;
    sim_event *ev = sim_pq_pop(pq, &k);
    c = fold(c, k);
    sim_pq_push(pq, ev, k.time + draw(r));
  }
  return c;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The cost of one increment draw alone, ns. */
static double draw_cost(uint64_t seed, uint64_t draws) {
  gsl_rng *r = sim_rng_new(seed, "bench/draw-only");
  volatile sim_time sink = 0;
  double t0 = now_ns();
  sim_time sum = 0;
  for (uint64_t i = 0; i < draws; i++) sum += draw(r);
  double t1 = now_ns();
  sink = sum;
  (void)sink;
  gsl_rng_free(r);
  return (t1 - t0) / (double)draws;
}

/* Measures one size; prints its row. Returns FALSE if the queues disagreed. */
static gboolean bench_size(FILE *out, size_t n, uint64_t holds, uint64_t seed) {
  /* Each queue gets its own copy of the same stream. */
  gsl_rng *ra = sim_rng_new(seed, "bench/hold");
  gsl_rng *rb = sim_rng_new(seed, "bench/hold");

  heap h = {g_new(sim_key, n), 0, 0};
  sim_pq *pq = sim_pq_new(0); /* grown by pushes, as in a run, so the slack is counted */
  sim_event *ev = g_new(sim_event, n);
  for (size_t i = 0; i < n; i++) {
    heap_push(&h, draw(ra));
    sim_event_init(&ev[i], NULL, 0);
    sim_pq_push(pq, &ev[i], draw(rb));
  }

  /* Warm-up: long enough for every initial event to have been replaced about twice, which
   * brings the pending times to their stationary spread. */
  uint64_t warm = MAX((uint64_t)n * 2, 100000);
  gboolean same = hold_heap(&h, ra, warm) == hold_pq(pq, rb, warm);

  uint64_t chunk = MAX(holds / BENCH_CHUNKS, 1);
  double ta[BENCH_CHUNKS], tb[BENCH_CHUNKS];
  for (int c = 0; c < BENCH_CHUNKS; c++) {
    double t0 = now_ns();
    uint64_t ca = hold_heap(&h, ra, chunk);
    double t1 = now_ns();
    uint64_t cb = hold_pq(pq, rb, chunk);
    double t2 = now_ns();
    ta[c] = (t1 - t0) / (double)chunk;
    tb[c] = (t2 - t1) / (double)chunk;
    same = same && ca == cb;
  }
  double a = median(ta, BENCH_CHUNKS), b = median(tb, BENCH_CHUNKS);
  double bytes_heap = (double)(n * sizeof(sim_key)) / (double)n;
  double bytes_pq = (double)(sim_pq_memory(pq) + n * sizeof(sim_event)) / (double)n;
  fprintf(out, "%9zu  %8.1f %9.1f   %8.1f %9.1f   %5.2f   %6.1f %6.1f\n", n, a, 1e3 / a, b,
          1e3 / b, b / a, bytes_heap, bytes_pq);
  fflush(out);

  g_free(h.k);
  sim_pq_free(pq);
  g_free(ev);
  gsl_rng_free(ra);
  gsl_rng_free(rb);
  if (!same)
    fprintf(stderr, "nestsim bench: n = %zu: the binary heap and sim_pq popped different "
            "events; one of them is broken (run the pq tests)\n", n);
  return same;
}

int bench_hold(FILE *out, const bench_options *o) {
  const size_t *sizes = o->sizes ? o->sizes : bench_default_sizes;
  size_t n_sizes = o->sizes ? o->n_sizes : G_N_ELEMENTS(bench_default_sizes);
  uint64_t holds = o->holds ? o->holds : BENCH_DEFAULT_HOLDS;
  uint64_t chunk = MAX(holds / BENCH_CHUNKS, 1);

  fprintf(out,
          "hold model: n events pending; a hold pops the earliest and pushes one at its time\n"
          "+ Exp(mean 1 s) in integer ns. Median of %d chunks of %" PRIu64 " holds after "
          "max(2n, 10^5) warm-up holds.\n"
          "One increment draw (GSL taus2 + gsl_ran_exponential), included in every hold: "
          "%.1f ns.\n\n",
          BENCH_CHUNKS, chunk, draw_cost(o->seed, chunk));
  fprintf(out, "%9s  %-20s   %-20s   %5s   %-13s\n", "", "binary heap (16 B)", "sim_pq (handles)",
          "", "bytes/event");
  fprintf(out, "%9s  %8s %9s   %8s %9s   %5s   %6s %6s\n", "n", "ns/hold", "Mevents/s",
          "ns/hold", "Mevents/s", "ratio", "heap", "sim_pq");
  int status = 0;
  for (size_t i = 0; i < n_sizes; i++)
    if (!bench_size(out, sizes[i], holds, o->seed)) status = 1;
  return status;
}

/* Parses "1000,100000" into sizes; FALSE with a message on a bad entry. */
static gboolean parse_sizes(const char *s, GArray *sizes, GError **error) {
  g_auto(GStrv) parts = g_strsplit(s, ",", -1);
  for (char **p = parts; *p; p++) {
    guint64 v;
    if (!g_ascii_string_to_unsigned(g_strstrip(*p), 10, 1, BENCH_MAX_SIZE, &v, NULL)) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                  "invalid --sizes entry '%s': expected an integer from 1 to %d", *p,
                  BENCH_MAX_SIZE);
      return FALSE;
    }
    size_t n = (size_t)v;
    g_array_append_val(sizes, n);
  }
  return TRUE;
}

int bench_main(int argc, char **argv) {
  g_autofree char *sizes_arg = NULL;
  gint64 holds = 0, seed = 1;
  const GOptionEntry entries[] = {
      {"sizes", 0, 0, G_OPTION_ARG_STRING, &sizes_arg,
       "Pending-event counts, comma-separated (default 1000,100000,1000000)", "N,..."},
      {"holds", 0, 0, G_OPTION_ARG_INT64, &holds,
       "Timed holds per size and queue (default 5000000)", "N"},
      {"seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the increments (default 1)", "N"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  g_autoptr(GOptionContext) ctx = g_option_context_new("- benchmark the event queue (hold model)");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(size_t));
  if (!g_option_context_parse(ctx, &argc, &argv, &error) ||
      (sizes_arg && !parse_sizes(sizes_arg, sizes, &error))) {
    fprintf(stderr, "%s: %s\n", g_get_prgname(), error->message);
    return 2;
  }
  if (argc > 1) {
    fprintf(stderr, "%s: unexpected argument '%s'\n", g_get_prgname(), argv[1]);
    return 2;
  }
  if (holds < 0) {
    fprintf(stderr, "%s: invalid --holds %" G_GINT64_FORMAT ": expected an integer >= 0\n",
            g_get_prgname(), holds);
    return 2;
  }
  bench_options o = {
      .sizes = sizes_arg ? (const size_t *)(void *)sizes->data : NULL,
      .n_sizes = sizes->len,
      .holds = (uint64_t)holds,
      .seed = (uint64_t)seed,
  };
  return bench_hold(stdout, &o);
}
