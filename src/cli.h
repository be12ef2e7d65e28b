/* cli.h — what every nestsim command shares: its exit statuses and the way it reports a usage
 * error (the message, then the command's --help text, on stderr). */
#ifndef NESTSIM_SRC_CLI_H
#define NESTSIM_SRC_CLI_H

#include <glib.h>

enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_RUNTIME = 1, /* the run failed: I/O, a model could not run */
  CLI_EXIT_USAGE = 2,   /* bad input or usage */
  CLI_EXIT_NO_FIT = 3,  /* check: the lab does not fit; fit: no value meets the targets */
};

/* Prints "nestsim: MESSAGE", then ctx's help when ctx is not NULL, to stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(GOptionContext *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif
