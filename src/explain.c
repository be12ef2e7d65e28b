/* explain.c — `nestsim explain`: why one VM runs at the speed it does, in words and numbers. PLACEHOLDER being written by a helper. */
#include "src/explain.h"

#include <stdio.h>

int xpl_main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "nestsim: not written yet\n");
  return 2;
}
