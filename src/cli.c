/* cli.c — what the commands share (see cli.h): the usage-error message and worker processes. */
#include "src/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int cli_usage_error(GOptionContext *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (ctx) {
    g_autofree char *help = g_option_context_get_help(ctx, TRUE, NULL);
    fprintf(stderr, "nestsim: %s\n\n%s", msg, help);
  } else {
    fprintf(stderr, "nestsim: %s\n", msg);
  }
  return CLI_EXIT_USAGE;
}

/* In the worker, before exec. */
static void die_with_parent(gpointer parent) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != (pid_t)GPOINTER_TO_INT(parent)) _exit(127);
}

gboolean cli_spawn_worker(const char *const *argv, const char *log, GPid *pid, GError **error) {
  int fd = g_open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot write %s: %s", log,
                g_strerror(e));
    return FALSE;
  }
  gboolean ok = g_spawn_async_with_pipes_and_fds(
      NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, die_with_parent,
      GINT_TO_POINTER(getpid()), -1, -1, fd, NULL, NULL, 0, pid, NULL, NULL, NULL, error);
  close(fd);
  return ok;
}
