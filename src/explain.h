/* explain.h — `nestsim explain`: why one VM runs at the speed it does, in words and numbers. */
#ifndef NESTSIM_SRC_EXPLAIN_H
#define NESTSIM_SRC_EXPLAIN_H

#include <glib.h>

/* The command: argv[0] is "nestsim explain". Returns the exit status. */
int xpl_main(int argc, char **argv);

#endif
