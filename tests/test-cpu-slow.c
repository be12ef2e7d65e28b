/* test-cpu-slow.c — long runs of the CPU model (models/cpu.c): the product of nested layers'
 * shares holds for every single VM to a tolerance far tighter than test-cpu.c can afford,
 * which shows the per-VM error is noise that averages out, not a bias of the scheduler. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "src/met.h"
#include "src/run.h"
#include "src/scn.h"
#include "src/topo.h"

static met_table *run_text(const char *lua) {
  g_autoptr(GError) err = NULL;
  g_autoptr(topo_scenario) scn = scn_load_string("slow.lua", lua, strlen(lua), NULL, &err);
  g_assert_no_error(err);
  met_table *met = met_table_new();
  run_result res = {0};
  gboolean ok = run_scenario(scn, NULL, met, &res, &err);
  g_assert_no_error(err);
  g_assert_true(ok);
  return met;
}

static double num(const met_table *t, const char *path, const char *key) {
  gint64 e = met_lookup(t, path);
  if (e < 0) g_error("no entity '%s'", path);
  return met_get_num(t, (met_id)e, key);
}

/* The setting of test-cpu.c's /cpu/nested/two-layer-product (every L2 VM: 50% of its L1 host's
 * vCPUs x 25% of a core for each L1 vCPU = 12.5%), run 16 times longer. Bound, as there: an L2
 * vCPU has ~160,000 quanta of its L1 host in 16,000 s, each executed a random fraction of its
 * length with a standard deviation of at most 0.5, so the error of its mean is at most
 * 0.5/sqrt(1.6 10^5) = 0.00125 of the 50% it is assigned, 0.0625 points; three times that,
 * 0.19 points, is the tolerance (test-cpu.c uses 0.75 at 1000 s). A bias of the scheduler —
 * some VMs favoured by the order they started in, say — would not shrink with the run's length
 * and would fail here. */
static void test_nested_product_long(void) {
  g_autoptr(met_table) t = run_text(
      "scenario { name = 'nested2-long', duration = '16000s', warmup = 0, interval = '1000s',\n"
      "           overheads = false }\n"
      "local h = host { name = 'h', cpu = { sockets = 1, cores = 4, threads = 1, ghz = 2 },\n"
      "                 memory = '256GB', hypervisor = esxi {} }\n"
      "for i = 1, 4 do\n"
      "  local v = vm { name = 'vESX' .. i, on = h, vcpus = 4, memory = '32GB',\n"
      "                 guest = 'esxi5', expose_hw_virt = true, hypervisor = esxi {} }\n"
      "  for j = 1, 8 do\n"
      "    vm { name = 'vm' .. j, on = v, vcpus = 1, memory = '2GB',\n"
      "         workload = cpu { util = 1 } }\n"
      "  end\n"
      "end\n");
  for (int i = 1; i <= 4; i++)
    for (int j = 1; j <= 8; j++) {
      g_autofree char *p = g_strdup_printf("h/vESX%d/vm%d", i, j);
      double eff = num(t, p, "effective_pct");
      if (fabs(eff - 12.5) > 0.19) g_error("%s: effective_pct %.4f, expected 12.5 +- 0.19", p, eff);
    }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cpu-slow/nested/two-layer-product-long", test_nested_product_long);
  return g_test_run();
}
