/* cli.h — what the nestsim commands share: their exit statuses, the way they report a usage
 * error (the message, then the command's --help text, on stderr), and starting a worker
 * process (sweep and fit run each point as its own `nestsim run`). */
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

/* Starts argv (argv[0] a path) without a shell, stdout to /dev/null, stderr into the file `log`
 * (created or truncated), and not reaped by GLib: the caller waits for *pid with waitpid. The
 * worker dies with its parent (PR_SET_PDEATHSIG), so that a sweep or fit killed alone leaves no
 * run behind writing into its folder (a --resume started meanwhile would run its point twice,
 * concurrently); if the parent is already gone the worker exits 127 before exec. */
gboolean cli_spawn_worker(const char *const *argv, const char *log, GPid *pid /* OUT */,
                          GError **error);

#endif
