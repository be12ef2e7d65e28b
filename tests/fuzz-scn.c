/* fuzz-scn.c — libFuzzer entry point for the scenario loader: any bytes, loaded as a scenario
 * with small limits, must give a topology or a message, never a crash, a hang, a leak or
 * undefined behaviour. Built and run by scripts/fuzz.sh; a crash it finds becomes a case in
 * test-scn.c (/scn/fuzz/regressions-give-a-message). */
#include <stdint.h>
#include <string.h>

#include "src/scn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Small limits keep each run short: an endless loop costs 2 million instructions, a memory
   * bomb 16 MB. The --set table holds one parameter, so that both a param() that reads it and
   * a scenario that never does (an error) are reachable. */
  static GHashTable *set;
  if (!set) {
    set = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(set, "n", "3");
  }
  scn_options opts = {.set = size % 2 ? set : NULL,
                      .max_instructions = 2000000,
                      .max_memory_bytes = 16 << 20};
  GError *error = NULL;
  topo_scenario *scn = scn_load_string("fuzz.lua", (const char *)data, size, &opts, &error);
  if (scn) {
    g_assert(error == NULL);
    GString *tree = g_string_new(NULL);
    topo_print_tree(scn, tree);
    g_string_free(tree, TRUE);
    topo_scenario_free(scn);
  } else {
    /* Every failure has a message, naming the file first, in valid UTF-8. */
    g_assert(error != NULL && error->domain == SCN_ERROR);
    g_assert(strncmp(error->message, "fuzz.lua", 8) == 0);
    g_assert(g_utf8_validate(error->message, -1, NULL));
    g_error_free(error);
  }
  return 0;
}
