/* review.c — `nestsim check`: the lab review. Validates a scenario and prints its topology with
 * totals, then a verdict per host and layer for each resource. */
#include "src/review.h"

#include <stdio.h>

#include "models/mem.h"
#include "models/net.h"
#include "models/virt.h"
#include "src/scn.h"
#include "src/topo.h"

static int usage_error(GOptionContext *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int usage_error(GOptionContext *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *help = g_option_context_get_help(ctx, TRUE, NULL);
  fprintf(stderr, "nestsim: %s\n\n%s", msg, help);
  return 2;
}

int rev_main(int argc, char **argv) {
  g_auto(GStrv) sets = NULL;
  GOptionEntry entries[] = {
      {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set a scenario parameter", "NAME=VALUE"},
      {NULL}};
  g_autoptr(GOptionContext) ctx = g_option_context_new("SCENARIO");
  g_option_context_set_summary(ctx,
                               "Validates a scenario and prints its topology with totals per host "
                               "and per layer (vCPUs per CPU, configured memory).");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) err = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) return usage_error(ctx, "%s", err->message);
  if (argc != 2) return usage_error(ctx, "check takes one scenario file");
  g_autoptr(topo_scenario) scn = scn_load_file_sets(argv[1], sets, &err);
  if (!scn) {
    fprintf(stderr, "%s\n", err->message);
    return 2;
  }
  g_autoptr(GString) tree = g_string_new(NULL);
  topo_print_tree(scn, tree);
  /* Memory and storage verdicts per host at every layer, with the numbers behind them. */
  mem_check(scn, tree);
  fputs(tree->str, stdout);
  /* What ESXi would refuse to power on (errors, with the fix) and requested CPU/MMU modes it
   * would not give (warnings): the same check a run makes (models/virt.h). */
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
  gboolean ok = virt_check_scenario(scn, errors, warnings);
  /* issue 5: port groups that drop or flood nested traffic (models/net.h), with the fix. */
  net_check(scn, warnings);
  for (guint i = 0; i < warnings->len; i++)
    fprintf(stderr, "%s\n", (char *)g_ptr_array_index(warnings, i));
  for (guint i = 0; i < errors->len; i++)
    fprintf(stderr, "%s\n", (char *)g_ptr_array_index(errors, i));
  return ok ? 0 : 2;
}

