/* fit.c — `nestsim fit`: searches a scenario parameter for the largest or smallest value that meets targets. PLACEHOLDER being written by a helper. */
#include "src/fit.h"

#include <stdio.h>

int fit_main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "nestsim: not written yet\n");
  return 2;
}
