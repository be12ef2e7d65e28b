/* fit.h — `nestsim fit`: searches a scenario parameter for the largest or smallest value that meets targets. */
#ifndef NESTSIM_SRC_FIT_H
#define NESTSIM_SRC_FIT_H

#include <glib.h>

/* The command: argv[0] is "nestsim fit". Returns the exit status. */
int fit_main(int argc, char **argv);

#endif
