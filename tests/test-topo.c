/* test-topo.c — the topology tree (src/topo.c): releasing a hand-built tree exactly once (ASan
 * and the leak checker watch), the walk order, logical CPU counts, and the totals of the tree
 * that `nestsim check` prints. */
#include <glib.h>
#include <string.h>

#include "src/topo.h"

#define GB (1024.0 * 1024 * 1024)

static topo_hypervisor *esxi(void) {
  topo_hypervisor *hv = g_new0(topo_hypervisor, 1);
  hv->kind = TOPO_HV_ESXI;
  hv->version = g_strdup("6.7");
  hv->quantum_ns = 50000000;
  hv->costop = TOPO_COSCHED_RELAXED;
  hv->skew_ns = 3000000;
  return hv;
}

/* A VM with `vcpus` and `gb` of memory under `parent` (a VM) or `host`. Arrays are made
 * with a free function on purpose: topo_scenario_free must not free elements twice. */
static topo_vm *add_vm(topo_host *host, topo_vm *parent, const char *name, int vcpus, double gb) {
  topo_vm *vm = g_new0(topo_vm, 1);
  vm->name = g_strdup(name);
  vm->path = g_strconcat(parent ? parent->path : host->path, "/", name, NULL);
  vm->layer = parent ? parent->layer + 1 : 1;
  vm->host = host;
  vm->parent = parent;
  vm->vcpus = vcpus;
  vm->cores_per_socket = 1;
  vm->memory_bytes = (uint64_t)(gb * GB);
  vm->guest = g_strdup("linux64");
  vm->guest_64bit = true;
  vm->shares = 1000.0 * vcpus;
  vm->limit_hz = -1;
  vm->vms = g_ptr_array_new_with_free_func((GDestroyNotify)topo_vm_free);
  vm->vnics = g_ptr_array_new();
  vm->where = g_strdup("test.lua:1");
  g_ptr_array_add(parent ? parent->vms : host->vms, vm);
  return vm;
}

/* One host (1 socket x 2 cores x 2 threads, 64 GB) running web (2 vCPUs, 16 GB) and a nested
 * ESXi vESX (4 vCPUs, 32 GB) that runs l2a and l2b (4 vCPUs and 8 GB each); a second host
 * with no VMs; a vswitch with a port group, a vNIC on it, and a dvswitch over vESX. */
static topo_scenario *build(void) {
  topo_scenario *scn = g_new0(topo_scenario, 1);
  scn->name = g_strdup("t");
  scn->file = g_strdup("t.lua");
  scn->duration_ns = 600000000000;
  scn->interval_ns = 10000000000;
  scn->seed = 7;
  scn->overheads = true;
  scn->hosts = g_ptr_array_new();
  scn->dvswitches = g_ptr_array_new();
  scn->params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert(scn->params, g_strdup("n"), g_strdup("2"));

  const char *names[] = {"esx01", "esx02"};
  for (int i = 0; i < 2; i++) {
    topo_host *h = g_new0(topo_host, 1);
    h->name = g_strdup(names[i]);
    h->path = g_strdup(names[i]);
    h->sockets = 1;
    h->cores = 2;
    h->threads = 2;
    h->hz = 2.6e9;
    h->memory_bytes = (uint64_t)(64 * GB);
    h->hypervisor = esxi();
    h->nics = g_ptr_array_new();
    h->datastores = g_ptr_array_new();
    h->vswitches = g_ptr_array_new();
    h->vms = g_ptr_array_new();
    h->where = g_strdup("test.lua:2");
    g_ptr_array_add(scn->hosts, h);
  }
  topo_host *h = scn->hosts->pdata[0];
  /* CPU cost overrides (issue 4): a table made with destroy functions on the first host,
   * without on the second; either way the host owns keys and values. */
  h->cpu_overrides = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  double *cycles = g_new(double, 1);
  *cycles = 1200;
  g_hash_table_insert(h->cpu_overrides, g_strdup("exit_cycles"), cycles);
  topo_host *h2 = scn->hosts->pdata[1];
  h2->cpu_overrides = g_hash_table_new(g_str_hash, g_str_equal);
  cycles = g_new(double, 1);
  *cycles = 900;
  g_hash_table_insert(h2->cpu_overrides, g_strdup("exit_cycles"), cycles);
  topo_nic *nic = g_new0(topo_nic, 1);
  nic->name = g_strdup("vmnic0");
  nic->speed_bps = 1e9;
  nic->host = h;
  g_ptr_array_add(h->nics, nic);
  topo_datastore *ds = g_new0(topo_datastore, 1);
  ds->name = g_strdup("ds1");
  ds->capacity_bytes = (uint64_t)(1024 * GB);
  ds->type = g_strdup("ssd");
  ds->host = h;
  g_ptr_array_add(h->datastores, ds);

  topo_vswitch *sw = g_new0(topo_vswitch, 1);
  sw->name = g_strdup("vSwitch0");
  sw->host = h;
  sw->uplinks = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(sw->uplinks, g_strdup("vmnic0"));
  sw->portgroups = g_ptr_array_new();
  topo_portgroup *pg = g_new0(topo_portgroup, 1);
  pg->name = g_strdup("VM Network");
  pg->promiscuous = pg->mac_changes = pg->forged_transmits = TOPO_POLICY_DEFAULT;
  pg->owner = sw;
  g_ptr_array_add(sw->portgroups, pg);
  g_ptr_array_add(h->vswitches, sw);

  topo_vm *web = add_vm(h, NULL, "web", 2, 16);
  topo_vnic *vnic = g_new0(topo_vnic, 1);
  vnic->name = g_strdup("vnic0");
  vnic->type = g_strdup("vmxnet3");
  vnic->portgroup = pg; /* not owned: the switch owns the port group */
  vnic->vm = web;
  g_ptr_array_add(web->vnics, vnic);
  topo_workload *w = g_new0(topo_workload, 1);
  w->kind = TOPO_WL_CPU;
  w->util = 1;
  w->profile = g_strdup("kernbench");
  web->workload = w;

  topo_vm *vesx = add_vm(h, NULL, "vESX", 4, 32);
  vesx->hypervisor = esxi();
  add_vm(h, vesx, "l2a", 4, 8);
  add_vm(h, vesx, "l2b", 4, 8);

  topo_dvswitch *dvs = g_new0(topo_dvswitch, 1);
  dvs->name = g_strdup("vDS");
  dvs->member_hosts = g_ptr_array_new();
  dvs->member_vms = g_ptr_array_new();
  g_ptr_array_add(dvs->member_vms, vesx); /* not owned */
  dvs->uplinks = g_ptr_array_new_with_free_func(g_free);
  dvs->portgroups = g_ptr_array_new();
  g_ptr_array_add(scn->dvswitches, dvs);
  return scn;
}

/* Freed by topo_scenario_free: with ASan's leak checker, any leak or double free fails. */
static void test_free(void) {
  topo_scenario *scn = build();
  topo_scenario_free(scn);
  topo_scenario_free(NULL);
  /* A part never attached is released on its own. */
  topo_vm *vm = g_new0(topo_vm, 1);
  vm->name = g_strdup("loose");
  vm->hypervisor = esxi();
  vm->vms = g_ptr_array_new();
  topo_vm_free(vm);
  topo_hypervisor_free(NULL);
  g_autoptr(topo_scenario) auto_freed = build();
  g_assert_cmpuint(auto_freed->hosts->len, ==, 2);
}

static void collect(topo_vm *vm, void *user) { g_ptr_array_add(user, vm->path); }

/* Depth first, a parent before its children, hosts in their order. */
static void test_foreach(void) {
  g_autoptr(topo_scenario) scn = build();
  g_autoptr(GPtrArray) seen = g_ptr_array_new();
  topo_foreach_vm(scn, collect, seen);
  const char *want[] = {"esx01/web", "esx01/vESX", "esx01/vESX/l2a", "esx01/vESX/l2b"};
  g_assert_cmpuint(seen->len, ==, G_N_ELEMENTS(want));
  for (guint i = 0; i < seen->len; i++) g_assert_cmpstr(seen->pdata[i], ==, want[i]);
}

static void test_pcpus(void) {
  topo_host h = {.sockets = 2, .cores = 8, .threads = 2};
  g_assert_cmpint(topo_host_pcpus(&h), ==, 32); /* 2 x 8 x 2 */
  topo_host one = {.sockets = 1, .cores = 1, .threads = 1};
  g_assert_cmpint(topo_host_pcpus(&one), ==, 1);
  /* A hand-built host beyond int range saturates instead of overflowing. */
  topo_host huge = {.sockets = 1 << 20, .cores = 1 << 20, .threads = 2};
  g_assert_cmpint(topo_host_pcpus(&huge), ==, G_MAXINT);
}

static void assert_line(const char *text, const char *line) {
  g_autofree char *needle = g_strconcat("\n", line, "\n", NULL);
  g_autofree char *hay = g_strconcat("\n", text, NULL);
  if (!strstr(hay, needle)) g_test_message("missing line: %s\nin:\n%s", line, text);
  g_assert_nonnull(strstr(hay, needle));
}

static void test_print_tree(void) {
  g_autoptr(topo_scenario) scn = build();
  g_autoptr(GString) out = g_string_new(NULL);
  topo_print_tree(scn, out);
  assert_line(out->str, "scenario t: duration 10 min, warmup 0 s, interval 10 s, seed 7, "
                        "overheads on");
  /* esx01 has 1 x 2 x 2 = 4 logical CPUs. Its VMs: web 2 + vESX 4 = 6 vCPUs, 6/4 = 1.50 per
   * CPU; 16 + 32 = 48 GB configured of 64 GB = 75%. */
  assert_line(out->str, "host esx01: 1 socket x 2 cores x 2 threads = 4 CPUs at 2.6 GHz, 64 GB");
  assert_line(out->str, "  totals: 6 vCPUs on 4 CPUs = 1.50 per CPU; memory 48 GB configured "
                        "of 64 GB (75%)");
  /* vESX runs l2a and l2b: 4 + 4 = 8 vCPUs on its 4 vCPUs = 2.00 per vCPU; 8 + 8 = 16 GB of
   * its 32 GB = 50%. */
  assert_line(out->str, "    totals: 8 vCPUs on 4 vCPUs = 2.00 per vCPU; memory 16 GB "
                        "configured of 32 GB (50%)");
  /* esx02 runs nothing. */
  assert_line(out->str, "  totals: 0 vCPUs on 4 CPUs = 0.00 per CPU; memory 0 B configured of "
                        "64 GB (0%)");
  assert_line(out->str, "  datastores: ds1 1 TB ssd");
  assert_line(out->str, "  nics: vmnic0 1 Gbps");
  assert_line(out->str, "  vswitch vSwitch0: uplinks vmnic0");
  assert_line(out->str, "dvswitch vDS: members esx01/vESX; uplinks none; mac learning off");
  /* Per layer: L0 = 2 hosts x 4 CPUs, 2 x 64 GB; L1 = web and vESX; L2 = l2a and l2b. */
  assert_line(out->str, "  L0: 2 hosts, 8 CPUs, 128 GB");
  assert_line(out->str, "  L1: 2 VMs, 6 vCPUs, 48 GB");
  assert_line(out->str, "  L2: 2 VMs, 8 vCPUs, 16 GB");
  /* The nested VMs are indented below their hypervisor. */
  g_assert_nonnull(strstr(out->str, "\n    vm l2a (L2): 4 vCPUs, 8 GB,"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/topo/free/hand-built-tree-released-exactly-once", test_free);
  g_test_add_func("/topo/foreach/parents-before-children-hosts-in-order", test_foreach);
  g_test_add_func("/topo/pcpus/sockets-x-cores-x-threads", test_pcpus);
  g_test_add_func("/topo/print-tree/totals-per-host-per-hypervisor-per-layer", test_print_tree);
  return g_test_run();
}
