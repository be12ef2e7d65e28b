/* report.c — `nestsim report`: one self-contained HTML file from a results folder. PLACEHOLDER being written by a helper. */
#include "src/report.h"

#include <stdio.h>

int rpt_main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "nestsim: not written yet\n");
  return 2;
}
