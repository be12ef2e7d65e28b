/* review.h — the lab review behind `nestsim check`: for every host at every layer, a verdict
 * (fits / tight / does not fit) per resource (CPU, memory, storage, network) with the number
 * behind it and, where something breaks, the change that fixes it. Computed from the topology
 * alone (closed forms, no simulation), so it answers in milliseconds. */
#ifndef NESTSIM_SRC_REVIEW_H
#define NESTSIM_SRC_REVIEW_H

#include <glib.h>
#include "src/topo.h"

typedef enum { REV_FITS, REV_TIGHT, REV_DOES_NOT_FIT } rev_level;

typedef struct rev_verdict {
  char *host;           /* the host's path: "esx01" or "esx01/vESX1" */
  int layer;            /* 0 for a physical host, 1 for a nested host, ... */
  const char *resource; /* "cpu", "memory", "storage" or "network" (static) */
  rev_level level;
  char *number;         /* the figure behind the verdict, in words: "19 vCPUs on 16 CPUs ..." */
  char *fix;            /* the change that fixes it, or NULL when it fits */
} rev_verdict;

const char *rev_level_name(rev_level level); /* "fits", "tight", "does not fit" */

/* Reviews scn. Returns the verdicts (element type rev_verdict, freed with the array), in
 * topology order: host by host, layer by layer, cpu / memory / storage / network.
 * Configuration errors that ESXi would refuse (models/virt.h) are verdicts too. */
GPtrArray *rev_review(const topo_scenario *scn); /* transfer full */

/* The worst level among the verdicts (REV_FITS for none). */
rev_level rev_worst(const GPtrArray *verdicts);

/* The CPU queue of one hypervisor (review.c's header derives both): q, the mean time a burst
 * of a vCPU waits per unit of its length, with `cpus` CPUs and `vcpus` vCPUs each busy rho
 * times as long as it is idle (INFINITY: CPU-bound); 0 when vcpus <= cpus. */
double rev_wait_ratio(int cpus, int vcpus, double rho);
/* The ready fraction (%RDY / 100) of a vCPU busy `util` of the time when it never waits, at a
 * layer of wait ratio q whose CPUs are stretched by `stretch` (1 for a physical host):
 * stretch u q / ((1 - u) + stretch u (1 + q)). */
double rev_ready_fraction(double util, double stretch, double q);

/* The verdicts as JSON (what `nestsim check --format json` prints): {"scenario", "verdict"
 * (the worst), "summary" (the one-line verdict), "verdicts": [{"host", "layer", "resource",
 * "verdict", "number", "fix" (null when it fits)}]}. transfer full. */
char *rev_json(const topo_scenario *scn, const GPtrArray *verdicts);

/* The command: argv[0] is "nestsim check". Returns the exit status: 0 when everything fits
 * (tight included), 3 when something does not fit, 2 for bad input or usage. */
int rev_main(int argc, char **argv);

#endif
