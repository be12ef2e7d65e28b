/* cli.c — the usage-error message every command prints (see cli.h). */
#include "src/cli.h"

#include <stdio.h>

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
