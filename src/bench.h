/* bench.h — `nestsim bench`: the hold-model benchmark of the pending-event queue, comparing
 * sim/pq.c (handles and all) with a plain binary heap of 16-byte keys. */
#ifndef NESTSIM_SRC_BENCH_H
#define NESTSIM_SRC_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct bench_options {
  const size_t *sizes; /* pending-event counts to measure (borrowed); NULL: 10^3, 10^5, 10^6 */
  size_t n_sizes;
  uint64_t holds;      /* timed holds per size and queue; 0: BENCH_DEFAULT_HOLDS */
  uint64_t seed;       /* seed of the increment stream; the same for both queues */
} bench_options;

#define BENCH_DEFAULT_HOLDS UINT64_C(5000000)

/* Runs the hold model for each size and prints one table row per size to `out` (borrowed).
 * Returns 0, or 1 if the two queues disagreed on the order of events (a bug in one of them;
 * the message goes to stderr). */
int bench_hold(FILE *out, const bench_options *o);

/* The `nestsim bench` command: parses --sizes, --holds and --seed into a bench_options and
 * runs bench_hold on stdout. argv[0] is the command name. Exit status 0 ok, 1 the check
 * failed, 2 bad usage. */
int bench_main(int argc, char **argv);

#endif
