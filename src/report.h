/* report.h — `nestsim report`: one self-contained HTML file from a results folder. */
#ifndef NESTSIM_SRC_REPORT_H
#define NESTSIM_SRC_REPORT_H

#include <glib.h>

/* The command: argv[0] is "nestsim report". Returns the exit status. */
int rpt_main(int argc, char **argv);

#endif
