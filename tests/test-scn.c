/* test-scn.c — the scenario loader (src/scn.c): what a valid scenario builds, in base units;
 * one test per kind of bad input with its exact message (the same files and messages the CLI
 * test replays as golden transcripts, tests/scenarios/bad/NAME.lua -> NAME.err); that every
 * mistake of a file is reported; the sandbox; and the limits that stop runaway scripts. */
#include <glib.h>
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <string.h>

#include "src/scn.h"

#define GB (1024.0 * 1024 * 1024)
#define TB (1024.0 * GB)
#define SEC 1000000000LL

/* Loads scenario text that must be valid. */
static topo_scenario *load_ok(const char *text, GHashTable *set) {
  scn_options opts = {.set = set};
  g_autoptr(GError) error = NULL;
  topo_scenario *scn = scn_load_string("t.lua", text, strlen(text), &opts, &error);
  if (error) g_test_message("%s", error->message);
  g_assert_no_error(error);
  g_assert_nonnull(scn);
  return scn;
}

/* Loads scenario text that must fail; returns the message (caller frees) and OUT: the code. */
static char *load_bad_opts(const char *text, const scn_options *opts, int *code) {
  g_autoptr(GError) error = NULL;
  topo_scenario *scn = scn_load_string("t.lua", text, strlen(text), opts, &error);
  g_assert_null(scn);
  g_assert_error(error, SCN_ERROR, error->code);
  if (code) *code = error->code;
  return g_strdup(error->message);
}

static char *load_bad(const char *text) {
  scn_options opts = {0};
  return load_bad_opts(text, &opts, NULL);
}

static topo_vm *vm_at(GPtrArray *vms, guint i) { return g_ptr_array_index(vms, i); }

/* ---- Valid scenarios ------------------------------------------------------------------------ */

/* The seed lab's shape, built by loops: one host, four nested ESXi hosts with two L2 VMs
 * each, a vSwitch per nested host and a dvswitch across them. */
static const char *lab =
    "local n = param('nested_hosts', 4)\n"
    "scenario { name = 'lab', duration = '10min', warmup = '30s', seed = 42 }\n"
    "local esx = host { name = 'esx01', cpu = { sockets = 2, cores = 8, threads = 2,\n"
    "                   ghz = 2.6 }, memory = '128GB', hypervisor = esxi { version = '5.5' },\n"
    "  nics = { nic { name = 'vmnic0', speed = '1Gbps' }, nic { name = 'vmnic1', speed = '10Gbps' } },\n"
    "  datastores = { datastore { name = 'ds1', capacity = '5TB' },\n"
    "                 datastore { name = 'ssd1', capacity = '10GB', type = 'ssd' } } }\n"
    "local nested = {}\n"
    "for i = 1, n do\n"
    "  local pg = portgroup { name = 'trunk' .. i, vlan = 4095, promiscuous = 'accept',\n"
    "                         forged_transmits = true, mac_changes = 'reject' }\n"
    "  vswitch { name = 'vSwitch' .. i, on = esx, uplinks = { 'vmnic1' }, portgroups = { pg } }\n"
    "  nested[i] = vm { name = 'vESX' .. i, on = esx, vcpus = 4, cores_per_socket = 2,\n"
    "    memory = '32GB', disk = '1TB', guest = 'esxi5', cpu_mmu = 'hardware',\n"
    "    expose_hw_virt = true, shares = 'high', reservation = 1000, limit = '5.2GHz',\n"
    "    hypervisor = esxi { version = '5.5', quantum = '20ms' },\n"
    "    nics = { vnic { portgroup = pg }, vnic { name = 'uplink', type = 'e1000',\n"
    "                                            mac = '00:50:56:AA:BB:0' .. i, portgroup = pg } } }\n"
    "end\n"
    "local tenant = dvportgroup { name = 'tenant', vlan = 100 }\n"
    "dvswitch { name = 'vDS', members = nested, uplinks = { 'uplink' }, portgroups = { tenant },\n"
    "           mac_learning = true }\n"
    "for i = 1, n do\n"
    "  for j = 1, 2 do\n"
    "    vm { name = 'vm' .. j, on = nested[i], memory = '4GB', guest = 'linux64',\n"
    "         nics = { vnic { portgroup = tenant } },\n"
    "         workload = cpu { util = 0.6, period = '200ms', dist = 'exp', profile = 'kernbench' } }\n"
    "  end\n"
    "end\n"
    "vm { name = 'batch', on = esx, vcpus = 2, memory = 2147483648, shares = 3000,\n"
    "     workload = job { work = '5min', per = 'vm' } }\n";

static void test_lab(void) {
  g_autoptr(topo_scenario) scn = load_ok(lab, NULL);
  g_assert_cmpstr(scn->name, ==, "lab");
  g_assert_cmpstr(scn->file, ==, "t.lua");
  g_assert_cmpint(scn->duration_ns, ==, 600 * SEC);
  g_assert_cmpint(scn->warmup_ns, ==, 30 * SEC);
  g_assert_cmpuint(scn->seed, ==, 42);
  g_assert_true(scn->overheads);
  /* No interval given: a sixtieth of 10 min = 10 s. */
  g_assert_cmpint(scn->interval_ns, ==, 10 * SEC);
  g_assert_cmpstr(g_hash_table_lookup(scn->params, "nested_hosts"), ==, "4");

  g_assert_cmpuint(scn->hosts->len, ==, 1);
  topo_host *h = scn->hosts->pdata[0];
  g_assert_cmpstr(h->path, ==, "esx01");
  g_assert_cmpint(h->sockets, ==, 2);
  g_assert_cmpint(h->cores, ==, 8);
  g_assert_cmpint(h->threads, ==, 2);
  g_assert_cmpfloat_with_epsilon(h->hz, 2.6e9, 1e-3);
  g_assert_cmpuint(h->memory_bytes, ==, (uint64_t)(128 * GB));
  g_assert_cmpint(h->hypervisor->kind, ==, TOPO_HV_ESXI);
  g_assert_cmpstr(h->hypervisor->version, ==, "5.5");
  g_assert_cmpuint(h->nics->len, ==, 2);
  g_assert_cmpfloat(((topo_nic *)h->nics->pdata[1])->speed_bps, ==, 10e9);
  g_assert_true(((topo_nic *)h->nics->pdata[1])->host == h);
  g_assert_cmpuint(h->datastores->len, ==, 2);
  topo_datastore *ds1 = h->datastores->pdata[0], *ssd = h->datastores->pdata[1];
  g_assert_cmpuint(ds1->capacity_bytes, ==, (uint64_t)(5 * TB));
  g_assert_cmpstr(ds1->type, ==, "hdd"); /* the default */
  g_assert_cmpuint(ssd->capacity_bytes, ==, (uint64_t)(10 * GB));
  g_assert_cmpstr(ssd->type, ==, "ssd");

  /* Four nested hosts and a batch VM on the host, in creation order; 4 vSwitches. */
  g_assert_cmpuint(h->vms->len, ==, 5);
  g_assert_cmpuint(h->vswitches->len, ==, 4);
  for (guint i = 0; i < 4; i++) {
    topo_vm *v = vm_at(h->vms, i);
    g_autofree char *name = g_strdup_printf("vESX%u", i + 1);
    g_autofree char *path = g_strdup_printf("esx01/vESX%u", i + 1);
    g_assert_cmpstr(v->name, ==, name);
    g_assert_cmpstr(v->path, ==, path);
    g_assert_cmpint(v->layer, ==, 1);
    g_assert_true(v->host == h);
    g_assert_null(v->parent);
    g_assert_cmpint(v->vcpus, ==, 4);
    g_assert_cmpint(v->cores_per_socket, ==, 2);
    g_assert_cmpuint(v->memory_bytes, ==, (uint64_t)(32 * GB));
    g_assert_cmpuint(v->disk_bytes, ==, (uint64_t)TB);
    g_assert_cmpstr(v->guest, ==, "esxi5");
    g_assert_true(v->guest_64bit);
    g_assert_cmpint(v->cpu_mmu, ==, TOPO_CPUMMU_HARDWARE);
    g_assert_true(v->expose_hw_virt);
    /* "high" is 2000 shares per vCPU in vSphere: 4 vCPUs -> 8000. */
    g_assert_cmpfloat(v->shares, ==, 8000);
    g_assert_cmpfloat(v->reservation_hz, ==, 1000e6); /* a bare number is MHz */
    g_assert_cmpfloat_with_epsilon(v->limit_hz, 5.2e9, 1e-3);
    g_assert_nonnull(v->hypervisor);
    g_assert_cmpint(v->hypervisor->quantum_ns, ==, 20000000);
    g_assert_cmpint(v->hypervisor->costop, ==, TOPO_COSCHED_RELAXED);
    g_assert_null(v->workload);
    /* vNICs: the unnamed one is named after its place in the list. */
    g_assert_cmpuint(v->vnics->len, ==, 2);
    topo_vnic *n0 = v->vnics->pdata[0], *n1 = v->vnics->pdata[1];
    g_assert_cmpstr(n0->name, ==, "vnic0");
    g_assert_cmpstr(n0->type, ==, "vmxnet3");
    g_assert_null(n0->mac);
    g_assert_cmpstr(n1->name, ==, "uplink");
    g_assert_cmpstr(n1->type, ==, "e1000");
    g_autofree char *mac = g_strdup_printf("00:50:56:aa:bb:0%u", i + 1);
    g_assert_cmpstr(n1->mac, ==, mac);
    g_assert_true(n0->vm == v);
    topo_vswitch *sw = h->vswitches->pdata[i];
    g_assert_true(sw->host == h && sw->vm == NULL);
    g_assert_cmpuint(sw->uplinks->len, ==, 1);
    g_assert_cmpstr(sw->uplinks->pdata[0], ==, "vmnic1");
    topo_portgroup *pg = sw->portgroups->pdata[0];
    g_assert_true(n0->portgroup == pg && n1->portgroup == pg);
    g_assert_true(pg->owner == sw);
    g_assert_false(pg->distributed);
    g_assert_cmpint(pg->vlan, ==, 4095);
    g_assert_cmpint(pg->promiscuous, ==, TOPO_POLICY_ACCEPT);
    g_assert_cmpint(pg->forged_transmits, ==, TOPO_POLICY_ACCEPT);
    g_assert_cmpint(pg->mac_changes, ==, TOPO_POLICY_REJECT);

    /* Each nested host runs vm1 and vm2 at layer 2. */
    g_assert_cmpuint(v->vms->len, ==, 2);
    for (guint j = 0; j < 2; j++) {
      topo_vm *l2 = vm_at(v->vms, j);
      g_autofree char *l2path = g_strdup_printf("esx01/vESX%u/vm%u", i + 1, j + 1);
      g_assert_cmpstr(l2->path, ==, l2path);
      g_assert_cmpint(l2->layer, ==, 2);
      g_assert_true(l2->parent == v);
      g_assert_true(l2->host == h);
      g_assert_cmpint(l2->vcpus, ==, 1);
      g_assert_cmpfloat(l2->shares, ==, 1000); /* normal: 1000 per vCPU */
      g_assert_cmpfloat(l2->limit_hz, <, 0);    /* unlimited */
      g_assert_cmpuint(l2->memory_bytes, ==, (uint64_t)(4 * GB));
      topo_workload *w = l2->workload;
      g_assert_nonnull(w);
      g_assert_cmpint(w->kind, ==, TOPO_WL_CPU);
      g_assert_cmpfloat(w->util, ==, 0.6);
      g_assert_cmpint(w->period_ns, ==, 200000000);
      g_assert_cmpint(w->dist, ==, TOPO_DIST_EXP);
      g_assert_cmpstr(w->profile, ==, "kernbench");
      g_assert_false(w->per_vm);
      topo_vnic *n = l2->vnics->pdata[0];
      g_assert_true(n->portgroup->distributed);
      g_assert_cmpstr(n->portgroup->name, ==, "tenant");
    }
  }
  topo_vm *batch = vm_at(h->vms, 4);
  g_assert_cmpstr(batch->path, ==, "esx01/batch");
  g_assert_cmpuint(batch->memory_bytes, ==, (uint64_t)(2 * GB)); /* a bare number is bytes */
  g_assert_cmpfloat(batch->shares, ==, 3000);
  g_assert_cmpint(batch->workload->kind, ==, TOPO_WL_JOB);
  g_assert_cmpfloat(batch->workload->work_s, ==, 300);
  g_assert_true(batch->workload->per_vm);

  g_assert_cmpuint(scn->dvswitches->len, ==, 1);
  topo_dvswitch *dvs = scn->dvswitches->pdata[0];
  g_assert_cmpuint(dvs->member_vms->len, ==, 4);
  g_assert_cmpuint(dvs->member_hosts->len, ==, 0);
  g_assert_true(dvs->member_vms->pdata[2] == vm_at(h->vms, 2));
  g_assert_true(dvs->mac_learning);
  g_assert_cmpint(((topo_portgroup *)dvs->portgroups->pdata[0])->vlan, ==, 100);
}

/* Defaults: seed 1, no warm-up, overheads on, the name from the file, ESXi 6.7 with the
 * defaults table of scn.c, 1 vCPU with normal shares, no limit, guest other64. */
static void test_defaults(void) {
  g_autoptr(topo_scenario) scn = load_ok(
      "scenario { duration = 90 }\n"
      "local h = host { name = 'h', cpu = { cores = 2, ghz = '2400MHz' }, memory = '8GB' }\n"
      "vm { name = 'v', on = h, memory = '1GB' }\n"
      "vm { name = 'k', on = h, memory = '1GB', hypervisor = kvm { } }\n", NULL);
  g_assert_cmpstr(scn->name, ==, "t"); /* t.lua without .lua */
  g_assert_cmpint(scn->duration_ns, ==, 90 * SEC); /* a bare number is seconds */
  g_assert_cmpint(scn->warmup_ns, ==, 0);
  g_assert_cmpuint(scn->seed, ==, 1);
  g_assert_true(scn->overheads);
  /* 90 s / 60 = 1.5 s, rounded down to a whole second: 1 s. */
  g_assert_cmpint(scn->interval_ns, ==, 1 * SEC);
  topo_host *h = scn->hosts->pdata[0];
  g_assert_cmpint(h->sockets, ==, 1);
  g_assert_cmpint(h->threads, ==, 1);
  g_assert_cmpfloat(h->hz, ==, 2.4e9);
  g_assert_cmpint(h->vt, ==, TOPO_POLICY_DEFAULT);
  g_assert_null(h->cpu_model);
  g_assert_cmpstr(h->hypervisor->version, ==, "6.7");
  g_assert_cmpint(h->hypervisor->quantum_ns, ==, 50000000);
  g_assert_cmpint(h->hypervisor->costop, ==, TOPO_COSCHED_RELAXED);
  g_assert_cmpint(h->hypervisor->skew_ns, ==, 3000000);
  topo_vm *v = vm_at(h->vms, 0);
  g_assert_cmpint(v->vcpus, ==, 1);
  g_assert_cmpint(v->cores_per_socket, ==, 1);
  g_assert_cmpfloat(v->shares, ==, 1000);
  g_assert_cmpfloat(v->reservation_hz, ==, 0);
  g_assert_cmpfloat(v->limit_hz, <, 0);
  g_assert_cmpstr(v->guest, ==, "other64");
  g_assert_cmpint(v->cpu_mmu, ==, TOPO_CPUMMU_AUTOMATIC);
  g_assert_false(v->expose_hw_virt);
  g_assert_null(v->hypervisor);
  g_assert_null(v->workload);
  g_assert_cmpuint(v->disk_bytes, ==, 0);
  topo_hypervisor *k = vm_at(h->vms, 1)->hypervisor;
  g_assert_cmpint(k->kind, ==, TOPO_HV_KVM);
  g_assert_cmpint(k->quantum_ns, ==, 6000000);
  g_assert_cmpint(k->costop, ==, TOPO_COSCHED_NONE);
}

/* The default interval: duration/60 rounded down to whole seconds, at least 1 s, at most
 * the duration. */
static void test_interval(void) {
  struct {
    const char *duration;
    gint64 want;
  } cases[] = {
      {"10min", 10 * SEC}, /* 600 s / 60 */
      {"1h", 60 * SEC},    /* 3600 s / 60 */
      {"30s", 1 * SEC},    /* 0.5 s, raised to 1 s */
      {"100ms", 100000000}, /* 1 s would exceed the duration */
      {"119s", 1 * SEC},   /* 1.98 s rounded down */
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = g_strdup_printf(
        "scenario { duration = '%s' }\n"
        "host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n", cases[i].duration);
    g_autoptr(topo_scenario) scn = load_ok(text, NULL);
    g_assert_cmpint(scn->interval_ns, ==, cases[i].want);
  }
  g_autoptr(topo_scenario) given =
      load_ok("scenario { duration = '1h', interval = '5s' }\n"
              "host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n", NULL);
  g_assert_cmpint(given->interval_ns, ==, 5 * SEC);
}

/* `on` by name, by path, and to a VM made later in the script. */
static void test_on_by_name(void) {
  g_autoptr(topo_scenario) scn = load_ok(
      "scenario { duration = 60 }\n"
      "vm { name = 'web', on = 'esx01/vESX1', memory = '1GB' }\n" /* before its parent */
      "host { name = 'esx01', cpu = { cores = 4, ghz = 2 }, memory = '64GB' }\n"
      "host { name = 'esx02', cpu = { cores = 4, ghz = 2 }, memory = '64GB' }\n"
      "vm { name = 'vESX1', on = 'esx01', memory = '8GB', hypervisor = esxi { } }\n"
      "vm { name = 'vESX1', on = 'esx02', memory = '8GB', hypervisor = esxi { } }\n"
      "vm { name = 'deep', on = 'esx02/vESX1', memory = '1GB', hypervisor = esxi { } }\n"
      "vm { name = 'deeper', on = 'deep', memory = '1GB' }\n", NULL);
  topo_host *h1 = scn->hosts->pdata[0], *h2 = scn->hosts->pdata[1];
  topo_vm *v1 = vm_at(h1->vms, 0), *v2 = vm_at(h2->vms, 0);
  g_assert_cmpstr(vm_at(v1->vms, 0)->path, ==, "esx01/vESX1/web");
  topo_vm *deep = vm_at(v2->vms, 0);
  g_assert_cmpstr(deep->path, ==, "esx02/vESX1/deep");
  topo_vm *deeper = vm_at(deep->vms, 0);
  g_assert_cmpstr(deeper->path, ==, "esx02/vESX1/deep/deeper");
  g_assert_cmpint(deeper->layer, ==, 3);
  g_assert_true(deeper->host == h2);
  /* Two VMs named vESX1: a bare name is ambiguous and asks for a path. */
  g_autofree char *msg = load_bad(
      "scenario { duration = 60 }\n"
      "host { name = 'esx01', cpu = { cores = 4, ghz = 2 }, memory = '64GB' }\n"
      "host { name = 'esx02', cpu = { cores = 4, ghz = 2 }, memory = '64GB' }\n"
      "vm { name = 'vESX1', on = 'esx01', memory = '8GB', hypervisor = esxi { } }\n"
      "vm { name = 'vESX1', on = 'esx02', memory = '8GB', hypervisor = esxi { } }\n"
      "vm { name = 'web', on = 'vESX1', memory = '1GB' }\n");
  g_assert_cmpstr(msg, ==, "t.lua:6: vm 'web': invalid 'on': 'vESX1' names 2 hosts and VMs; give "
                           "a path, such as 'esx01/vESX1'");
}

/* param(): --set values are typed by the default; the values used are recorded. */
static void test_params(void) {
  const char *text =
      "local n = param('n', 2)\n"
      "local util = param('util', 0.5)\n"
      "local label = param('label', 'web')\n"
      "local exposed = param('exposed', false)\n"
      "scenario { duration = 60 }\n"
      "local h = host { name = 'h', cpu = { cores = 4, ghz = 2 }, memory = '64GB' }\n"
      "for i = 1, n do\n"
      "  vm { name = label .. i, on = h, memory = '1GB', expose_hw_virt = exposed,\n"
      "       workload = cpu { util = util, period = '1s' } }\n"
      "end\n";
  g_autoptr(topo_scenario) dflt = load_ok(text, NULL);
  topo_host *h = dflt->hosts->pdata[0];
  g_assert_cmpuint(h->vms->len, ==, 2);
  g_assert_cmpstr(g_hash_table_lookup(dflt->params, "util"), ==, "0.5");
  g_assert_cmpstr(g_hash_table_lookup(dflt->params, "exposed"), ==, "false");

  g_autoptr(GHashTable) set = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(set, "n", "3");
  g_hash_table_insert(set, "util", "0.25");
  g_hash_table_insert(set, "label", "db");
  g_hash_table_insert(set, "exposed", "true");
  g_autoptr(topo_scenario) over = load_ok(text, set);
  h = over->hosts->pdata[0];
  g_assert_cmpuint(h->vms->len, ==, 3);
  g_assert_cmpstr(vm_at(h->vms, 2)->name, ==, "db3");
  g_assert_cmpfloat(vm_at(h->vms, 0)->workload->util, ==, 0.25);
  g_assert_true(vm_at(h->vms, 0)->expose_hw_virt);
  g_assert_cmpstr(g_hash_table_lookup(over->params, "n"), ==, "3");
  g_assert_cmpstr(g_hash_table_lookup(over->params, "label"), ==, "db");
  g_assert_cmpuint(g_hash_table_size(over->params), ==, 4);

  /* A boolean parameter takes only true or false. */
  g_hash_table_remove_all(set);
  g_hash_table_insert(set, "exposed", "yes");
  scn_options opts = {.set = set};
  g_autofree char *msg = load_bad_opts(text, &opts, NULL);
  g_assert_cmpstr(msg, ==, "t.lua:4: param 'exposed': invalid '--set exposed': expected true or "
                           "false like the default false, got \"yes\"");
}

static void collect_names(topo_vm *vm, void *user) { g_ptr_array_add(user, vm->name); }

/* pairs() visits keys in a fixed order (numbers, then strings in byte order), so a scenario
 * that builds VMs from a table in pairs() order builds them in the same order on every run;
 * Lua's own order depends on a hash seed that changes from process to process. */
static void test_pairs_order(void) {
  g_autoptr(topo_scenario) scn = load_ok(
      "scenario { duration = 60 }\n"
      "local h = host { name = 'h', cpu = { cores = 4, ghz = 2 }, memory = '64GB' }\n"
      "local sizes = { web = 2, db = 8, app = 4, cache = 1, [2] = 1, [1] = 1 }\n"
      "for name, gb in pairs(sizes) do\n"
      "  if type(name) == 'string' then vm { name = name, on = h, memory = gb .. 'GB' } end\n"
      "end\n"
      "local keys = {}\n"
      "for k in pairs(sizes) do keys[#keys + 1] = tostring(k) end\n"
      "assert(table.concat(keys, ',') == '1,2,app,cache,db,web', table.concat(keys, ','))\n",
      NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new();
  topo_foreach_vm(scn, collect_names, names);
  const char *want[] = {"app", "cache", "db", "web"};
  g_assert_cmpuint(names->len, ==, 4);
  for (guint i = 0; i < 4; i++) g_assert_cmpstr(names->pdata[i], ==, want[i]);
}

/* A VM with vCPUs on a nested hypervisor's own vSwitch, uplinked by the nested host's vNIC,
 * and a host that joins a dvswitch by name. */
static void test_nested_switches(void) {
  g_autoptr(topo_scenario) scn = load_ok(
      "scenario { duration = 60 }\n"
      "local h = host { name = 'h', cpu = { cores = 4, ghz = 2 }, memory = '64GB',\n"
      "                 nics = { nic { name = 'vmnic0', speed = 1e9 } } }\n"
      "local pg = portgroup { name = 'inner' }\n"
      "local v = vm { name = 'vESX', on = h, memory = '8GB', hypervisor = esxi { },\n"
      "               nics = { vnic { } } }\n"
      "vswitch { name = 'vSwitch0', on = v, uplinks = { 'vnic0' }, portgroups = { pg } }\n"
      "vm { name = 'l2', on = v, memory = '1GB', nics = { vnic { portgroup = pg } } }\n"
      "dvswitch { name = 'd', members = { 'h' }, uplinks = { 'vmnic0' } }\n", NULL);
  topo_host *h = scn->hosts->pdata[0];
  topo_vm *v = vm_at(h->vms, 0);
  g_assert_cmpuint(v->vswitches->len, ==, 1);
  topo_vswitch *sw = v->vswitches->pdata[0];
  g_assert_true(sw->vm == v && sw->host == NULL);
  topo_vnic *n = vm_at(v->vms, 0)->vnics->pdata[0];
  g_assert_true(n->portgroup == sw->portgroups->pdata[0]);
  topo_dvswitch *d = scn->dvswitches->pdata[0];
  g_assert_cmpuint(d->member_hosts->len, ==, 1);
  g_assert_true(d->member_hosts->pdata[0] == h);
}

/* ---- Bad input: one test per kind, exact messages -------------------------------------------- */

static char *bad_path(const char *name, const char *ext) {
  g_autofree char *file = g_strconcat(name, ext, NULL);
  return g_test_build_filename(G_TEST_DIST, "scenarios", "bad", file, NULL);
}

/* Loads tests/scenarios/bad/NAME.lua (with the --set of its "-- args: --set K=V" line, as
 * the CLI test does), checks the message against `want` and against NAME.err (the CLI's
 * golden stderr: the message and a newline), and returns the error code. */
static int check_bad(const char *name, const char *want) {
  g_autofree char *lua = bad_path(name, ".lua");
  g_autofree char *err = bad_path(name, ".err");
  g_autofree char *text = NULL, *golden = NULL;
  g_assert_true(g_file_get_contents(lua, &text, NULL, NULL));
  g_assert_true(g_file_get_contents(err, &golden, NULL, NULL));
  g_autoptr(GHashTable) set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  const char *args = strstr(text, "-- args: --set ");
  if (args) {
    args += strlen("-- args: --set ");
    g_autofree char *kv = g_strndup(args, strcspn(args, "\n"));
    char *eq = strchr(kv, '=');
    g_assert_nonnull(eq);
    g_hash_table_insert(set, g_strndup(kv, (gsize)(eq - kv)), g_strdup(eq + 1));
  }
  scn_options opts = {.set = set};
  g_autoptr(GError) error = NULL;
  topo_scenario *scn = scn_load_file(lua, &opts, &error);
  g_assert_null(scn);
  g_assert_nonnull(error);
  g_assert_true(error->domain == SCN_ERROR);
  g_assert_cmpstr(error->message, ==, want);
  g_autofree char *with_newline = g_strconcat(want, "\n", NULL);
  g_assert_cmpstr(golden, ==, with_newline);
  return error->code;
}

static void test_bad_unknown_key(void) {
  check_bad("unknown-key", "unknown-key.lua:4: vm 'web1': unknown key 'vcpu' (did you mean "
                           "'vcpus'?)");
}

static void test_bad_wrong_type(void) {
  check_bad("wrong-type", "wrong-type.lua:4: vm 'vESX1': invalid 'vcpus': expected integer >= 1, "
                          "got \"four\"");
}

static void test_bad_unit(void) {
  check_bad("bad-unit", "bad-unit.lua:4: vm 'db': invalid 'memory': expected a size such as "
                        "\"32GB\" (units B, KB, MB, GB, TB), got \"32 GiG\"");
}

static void test_bad_negative_size(void) {
  check_bad("negative-size", "negative-size.lua:4: vm 'db': invalid 'disk': expected a size > 0, "
                             "got \"-40GB\"");
}

static void test_bad_zero_size(void) {
  check_bad("zero-size", "zero-size.lua:3: host 'esx01': invalid 'memory': expected a size > 0, "
                         "got 0");
}

static void test_bad_name_twice(void) {
  check_bad("name-used-twice", "name-used-twice.lua:5: vm 'web': name already used by the vm at "
                               "name-used-twice.lua:4");
}

static void test_bad_on_no_hypervisor(void) {
  check_bad("on-vm-without-hypervisor",
            "on-vm-without-hypervisor.lua:5: vm 'web1': invalid 'on': vm 'db' runs no hypervisor "
            "(give it hypervisor = esxi { ... })");
}

static void test_bad_reference_to_nothing(void) {
  check_bad("reference-to-nothing", "reference-to-nothing.lua:4: vm 'web1': invalid 'on': no host "
                                    "or VM named 'esx9'");
}

static void test_bad_missing_scenario(void) {
  check_bad("missing-scenario", "missing-scenario.lua: missing scenario { name = ..., duration = "
                                "... } (every scenario calls it once)");
}

static void test_bad_missing_on(void) {
  check_bad("missing-on", "missing-on.lua:4: vm 'web1': missing 'on'");
}

static void test_bad_scenario_twice(void) {
  check_bad("scenario-twice", "scenario-twice.lua:4: scenario { } is called a second time (the "
                              "first call is at scenario-twice.lua:2)");
}

static void test_bad_cycle(void) {
  check_bad("on-cycle", "on-cycle.lua:5: vm 'b': invalid 'on': vm 'a' is itself placed, directly "
                        "or not, on this vm (a cycle)");
}

static void test_bad_vnic_switch(void) {
  check_bad("vnic-on-wrong-switch",
            "vnic-on-wrong-switch.lua:8: vm 'web1': invalid 'nics': vnic 'vnic0' plugs into "
            "portgroup 'VM Network' of vswitch 'vSwitch0' on esx01, but the VM runs on "
            "esx01/vESX1");
}

static void test_bad_undeclared_global(void) {
  check_bad("undeclared-global", "undeclared-global.lua:3: assignment to undeclared global "
                                 "'count' (declare it local)");
}

static void test_bad_undefined_global(void) {
  check_bad("undefined-global", "undefined-global.lua:3: undefined global 'hsot' (did you mean "
                                "'host'?)");
}

static void test_bad_no_os_io_require(void) {
  check_bad("no-os", "no-os.lua:3: undefined global 'os'");
  check_bad("no-io", "no-io.lua:3: undefined global 'io'");
  check_bad("no-require", "no-require.lua:3: undefined global 'require'");
  check_bad("no-load", "no-load.lua:3: undefined global 'load'");
  check_bad("no-string-dump", "no-string-dump.lua:3: attempt to call a nil value (field 'dump')");
}

static void test_bad_syntax(void) {
  check_bad("syntax-error", "syntax-error.lua:3: '}' expected (to close '{' at line 2) near "
                            "'host'");
}

/* The file's stand-in only carries bytecode's signature (the CLI test copies it as text); a
 * real chunk from lua_dump is refused the same way. */
static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud) {
  (void)L;
  g_byte_array_append(ud, p, (guint)sz);
  return 0;
}

static void test_bad_bytecode(void) {
  check_bad("bytecode", "bytecode.lua: precompiled Lua bytecode is not accepted; give the "
                        "scenario as Lua text");
  lua_State *L = luaL_newstate();
  g_assert_cmpint(luaL_loadstring(L, "scenario { duration = 1 }"), ==, LUA_OK);
  g_autoptr(GByteArray) code = g_byte_array_new();
  lua_dump(L, dump_writer, code, 0);
  lua_close(L);
  g_autoptr(GError) error = NULL;
  topo_scenario *scn =
      scn_load_string("t.luac", (const char *)code->data, code->len, NULL, &error);
  g_assert_null(scn);
  g_assert_cmpstr(error->message, ==, "t.luac: precompiled Lua bytecode is not accepted; give "
                                      "the scenario as Lua text");
}

static void test_bad_set_unknown(void) {
  check_bad("set-unknown-param",
            "set-unknown-param.lua: invalid '--set nested_host': no param() reads it (did you "
            "mean 'nested_hosts'?); the scenario's params are: cores, nested_hosts");
}

static void test_bad_set_value(void) {
  check_bad("set-bad-value", "set-bad-value.lua:3: param 'nested_hosts': invalid '--set "
                             "nested_hosts': expected a number like the default 4, got \"four\"");
}

/* Sixteen layers are accepted, a seventeenth is not, however the chain was written: by
 * objects top-down, by names bottom-up (children first, which the loader resolves in passes
 * without deep recursion), or as a cycle longer than the limit. A chain of 20,000 VMs must
 * not overflow the stack either. */
static void test_bad_nesting_depth(void) {
  g_autoptr(topo_scenario) ok = load_ok(
      "scenario { duration = 1 }\n"
      "local p = host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n"
      "for i = 1, 16 do p = vm { name = 'v' .. i, on = p, memory = '1GB',\n"
      "                          hypervisor = esxi { } } end\n", NULL);
  topo_vm *v = vm_at(((topo_host *)ok->hosts->pdata[0])->vms, 0);
  while (v->vms->len) v = vm_at(v->vms, 0);
  g_assert_cmpint(v->layer, ==, 16);
  g_assert_cmpstr(v->name, ==, "v16");

  const char *deep_by_objects =
      "scenario { duration = 1 }\n"
      "local p = host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n"
      "for i = 1, 17 do p = vm { name = 'v' .. i, on = p, memory = '1GB',\n"
      "                          hypervisor = esxi { } } end\n";
  g_autofree char *a = load_bad(deep_by_objects);
  g_assert_cmpstr(a, ==, "t.lua:3: vm 'v17': invalid 'on': it would be at layer 17, and nestsim "
                         "simulates at most 16 layers");
  const char *deep_by_names =
      "scenario { duration = 1 }\n"
      "host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n"
      "for i = 40, 1, -1 do vm { name = 'v' .. i, on = i == 1 and 'h' or 'v' .. (i - 1),\n"
      "                          memory = '1GB', hypervisor = esxi { } } end\n";
  g_autofree char *b = load_bad(deep_by_names);
  g_assert_cmpstr(b, ==, "t.lua:3: vm 'v17': invalid 'on': it would be at layer 17, and nestsim "
                         "simulates at most 16 layers");
  const char *long_cycle =
      "scenario { duration = 1 }\n"
      "host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n"
      "for i = 1, 20 do vm { name = 'c' .. i, on = 'c' .. (i % 20 + 1), memory = '1GB',\n"
      "                      hypervisor = esxi { } } end\n";
  g_autofree char *c = load_bad(long_cycle);
  g_assert_cmpstr(c, ==, "t.lua:3: vm 'c17': invalid 'on': it is placed, through more than 15 "
                         "other VMs, on itself (a cycle)");
  g_autofree char *d = load_bad(
      "scenario { duration = 1 }\n"
      "local p = host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n"
      "for i = 1, 20000 do p = vm { name = 'v' .. i, on = p, memory = '1GB',\n"
      "                             hypervisor = esxi { } } end\n");
  g_assert_true(g_str_has_prefix(d, "t.lua:3: vm 'v17': invalid 'on': it would be at layer 17"));
  g_autofree char *e = load_bad(
      "scenario { duration = 1 }\n"
      "host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n"
      "for i = 20000, 1, -1 do vm { name = 'v' .. i, on = i == 1 and 'h' or 'v' .. (i - 1),\n"
      "                             memory = '1GB', hypervisor = esxi { } } end\n");
  g_assert_true(g_str_has_prefix(e, "t.lua:3: vm 'v17': invalid 'on': it would be at layer 17"));
}

/* ---- Runaway scripts ------------------------------------------------------------------------ */

static void test_limit_endless_loop(void) {
  int code = check_bad("endless-loop", "endless-loop.lua:4: the script did not finish after "
                                       "200000000 instructions (an endless loop?)");
  g_assert_cmpint(code, ==, SCN_ERROR_LIMIT);
}

static void test_limit_memory_bomb(void) {
  int code = check_bad("memory-bomb", "memory-bomb.lua:5: the script used more than 512 MB of "
                                      "memory (a runaway loop?)");
  g_assert_cmpint(code, ==, SCN_ERROR_LIMIT);
}

/* The same with the limits the fuzzer uses, and each object charged against memory: a
 * billion-VM loop stops after a few thousand VMs. The default-limit case is the CLI's. */
static void test_limit_billion_vms(void) {
  g_autofree char *lua = bad_path("billion-vms", ".lua");
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(lua, &text, NULL, NULL));
  scn_options opts = {.max_instructions = 10000000, .max_memory_bytes = 8 << 20};
  int code = 0;
  g_autofree char *msg = load_bad_opts(text, &opts, &code);
  g_assert_cmpstr(msg, ==, "t.lua:4: the script used more than 8 MB of memory (a runaway loop?)");
  g_assert_cmpint(code, ==, SCN_ERROR_LIMIT);
}

/* pcall cannot catch the limit and carry on: once hit, every instruction raises again. */
static void test_limit_pcall(void) {
  scn_options opts = {.max_instructions = 1000000};
  g_autofree char *a = load_bad_opts(
      "scenario { duration = 1 }\n"
      "while true do\n"
      "  pcall(function() while true do end end)\n"
      "end\n", &opts, NULL);
  g_assert_true(g_str_has_prefix(a, "t.lua:"));
  g_assert_true(g_str_has_suffix(a, ": the script did not finish after 1000000 instructions (an "
                                    "endless loop?)"));
  opts = (scn_options){.max_memory_bytes = 4 << 20};
  g_autofree char *b = load_bad_opts(
      "local t = {}\n"
      "while true do pcall(function() t[#t + 1] = {} end) end\n", &opts, NULL);
  g_assert_cmpstr(b, ==, "t.lua:2: the script used more than 4 MB of memory (a runaway loop?)");
}

/* Library calls that loop inside C are charged, or answered at once. */
static void test_limit_c_loops(void) {
  /* string.rep of an empty string loops n times in Lua 5.4's own code: answered at once. */
  g_autoptr(topo_scenario) ok = load_ok(
      "assert(string.rep('', 1e15) == '' and string.rep('', 1e15, '') == '')\n"
      "scenario { duration = 1 }\n"
      "host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n", NULL);
  scn_options opts = {.max_instructions = 1000000};
  g_autofree char *a = load_bad_opts("table.move({}, 1, 1e15, 2)\n", &opts, NULL);
  g_assert_cmpstr(a, ==, "t.lua:1: the script did not finish after 1000000 instructions (an "
                         "endless loop?)");
  g_autofree char *b = load_bad_opts(
      "local t = {} for i = 1, 1000 do t[i] = i end\n"
      "while true do table.sort(t) end\n", &opts, NULL);
  g_assert_cmpstr(b, ==, "t.lua:2: the script did not finish after 1000000 instructions (an "
                         "endless loop?)");
}

/* ---- Collecting every mistake --------------------------------------------------------------- */

static void test_all_errors_collected(void) {
  check_bad("many-errors",
            "many-errors.lua:3: scenario 'many-errors': invalid 'duration': expected a time such "
            "as \"50ms\" (units ns, us, ms, s, min, h), got \"ten minutes\"\n"
            "many-errors.lua:6: host 'esx02': invalid 'cpu.cores': expected integer >= 1, got 0\n"
            "many-errors.lua:9: esxi: invalid 'costop': expected \"none\", \"strict\" or "
            "\"relaxed\", got \"lazy\"\n"
            "many-errors.lua:8: vm 'vESX1': invalid 'cpu_mmu': expected \"automatic\", "
            "\"software\", \"hw-cpu\" or \"hardware\", got \"hardwre\" (did you mean "
            "\"hardware\"?)\n"
            "many-errors.lua:9: esxi: invalid 'costop': expected \"none\", \"strict\" or "
            "\"relaxed\", got \"lazy\"\n"
            "many-errors.lua:8: vm 'vESX2': invalid 'cpu_mmu': expected \"automatic\", "
            "\"software\", \"hw-cpu\" or \"hardware\", got \"hardwre\" (did you mean "
            "\"hardware\"?)\n"
            "many-errors.lua:11: vm 'db': invalid 'shares': expected a number > 0 or \"low\", "
            "\"normal\" or \"high\", got \"medium\"\n"
            "many-errors.lua:12: vm 'web1': invalid 'on': no host or VM named 'vESX3'\n"
            "many-errors.lua:13: vswitch 'vSwitch1': invalid 'uplinks': host 'esx01' has no nic "
            "named 'vmnic1'");
}

/* A Lua error ends the script; what was collected before it is reported first. */
static void test_runtime_error_last(void) {
  check_bad("runtime-error",
            "runtime-error.lua:4: host 'esx01': invalid 'memory': expected a size such as "
            "\"32GB\" (units B, KB, MB, GB, TB), got \"64 gigs\"\n"
            "runtime-error.lua:6: attempt to get length of a nil value (local 'hosts')");
}

/* At most 50 messages, then a count of the rest. */
static void test_error_cap(void) {
  g_autofree char *msg = load_bad(
      "scenario { duration = 1 }\n"
      "local h = host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n"
      "for i = 1, 60 do vm { name = 'v' .. i, on = h, memory = -1 } end\n");
  g_auto(GStrv) lines = g_strsplit(msg, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 51);
  g_assert_cmpstr(lines[0], ==, "t.lua:3: vm 'v1': invalid 'memory': expected a size > 0, got -1");
  g_assert_cmpstr(lines[49], ==, "t.lua:3: vm 'v50': invalid 'memory': expected a size > 0, got -1");
  g_assert_cmpstr(lines[50], ==, "... and 10 more");
}

/* Each key's checks, one message each, in a fixed order whatever Lua's table order. */
static void test_key_checks(void) {
  struct {
    const char *body;
    const char *want;
  } cases[] = {
      {"vm { name = 'a/b', on = h, memory = '1GB' }",
       "t.lua:3: vm: invalid 'name': expected a name (1 to 100 characters, no '/' or control "
       "characters), got \"a/b\""},
      {"vm { name = 'x', on = h, memory = '1GB', vcpus = 2.5 }",
       "t.lua:3: vm 'x': invalid 'vcpus': expected integer >= 1, got 2.5"},
      {"vm { name = 'x', on = h, memory = '1GB', vcpus = 5000 }",
       "t.lua:3: vm 'x': invalid 'vcpus': expected integer <= 1024, got 5000"},
      {"vm { name = 'x', on = h, memory = '1GB', vcpus = 4, cores_per_socket = 3 }",
       "t.lua:3: vm 'x': invalid 'cores_per_socket': expected a divisor of vcpus (4), got 3"},
      {"vm { name = 'x', on = h, memory = '1GB', reservation = '2GHz', limit = 1000 }",
       "t.lua:3: vm 'x': invalid 'limit': expected a limit >= the reservation (2 GHz), got 1000"},
      {"vm { name = 'x', on = h, memory = '1GB', guest = 'linux' }",
       "t.lua:3: vm 'x': invalid 'guest': expected \"other32\", \"other64\", \"linux32\", "
       "\"linux64\", \"windows32\", \"windows64\", \"esxi4\", \"esxi5\", \"esxi6\", \"esxi7\" or "
       "\"esxi8\", got \"linux\""},
      {"vm { name = 'x', on = 42, memory = '1GB' }",
       "t.lua:3: vm 'x': invalid 'on': expected a host or a VM (from host { } or vm { }, or its "
       "name or path), got 42"},
      {"vm { name = 'x', on = h, memory = '1GB', hypervisor = cpu { } }",
       "t.lua:3: vm 'x': invalid 'hypervisor': expected esxi { } or kvm { }, got cpu"},
      {"vm { name = 'x', on = h, memory = '1GB', nics = vnic { } }",
       "t.lua:3: vm 'x': invalid 'nics': expected a list of vnic { }, got vnic"},
      {"vm { name = 'x', on = h, memory = '1GB', nics = { vnic { }, 'eth0' } }",
       "t.lua:3: vm 'x': invalid 'nics': expected a list of vnic { }, got \"eth0\" as item 2"},
      {"vm { 'x', on = h, memory = '1GB', name = 'x' }",
       "t.lua:3: vm 'x': value \"x\" without a key (write key = value)"},
      {"vm { name = 'x', on = h, memory = '1GB', zzz = 1, aaa = 2 }",
       "t.lua:3: vm 'x': unknown key 'aaa'\nt.lua:3: vm 'x': unknown key 'zzz'"},
      {"vm 'x'", "t.lua:3: vm: expected a table, as in vm { ... }, got \"x\""},
      {"vm { name = 'x', on = h, memory = '1GB', workload = cpu { util = 0.5 } }",
       "t.lua:3: cpu: missing 'period' (the length of one busy + idle cycle, needed when 0 < "
       "util < 1)"},
      {"vm { name = 'x', on = h, memory = '1GB', workload = cpu { util = 2, period = 1 } }",
       "t.lua:3: cpu: invalid 'util': expected a number from 0 to 1 (the busy fraction), got 2"},
      {"host { name = 'h2', cpu = { cores = 1, ghz = 'fast' }, memory = '1GB' }",
       "t.lua:3: host 'h2': invalid 'cpu.ghz': expected a number of GHz such as 2.6, or a "
       "frequency such as \"2.6GHz\", got \"fast\""},
      {"host { name = 'h2', cpu = { cores = 1, ghz = 1, core = 2 }, memory = '1GB' }",
       "t.lua:3: host 'h2': unknown key 'cpu.core' (did you mean 'cpu.cores'?)"},
      {"host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }",
       "t.lua:3: host 'h': name already used by the host at t.lua:2"},
      {"local m = nic { name = 'm', speed = 1 }\n"
       "host { name = 'h2', cpu = { cores = 1, ghz = 1 }, memory = '1GB', nics = { m, m } }",
       "t.lua:4: host 'h2': invalid 'nics': nic 'm' is listed twice"},
      {"host { name = 'h2', cpu = { cores = 1, ghz = 1 }, memory = '1GB',\n"
       "       nics = { nic { name = 'a', speed = 1 }, nic { name = 'a', speed = 1 } } }",
       "t.lua:4: nic 'a': name already used by the nic at t.lua:4"},
      {"host { name = 'h2', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n"
       "host { name = 'h3', cpu = { cores = 1, ghz = 1 }, memory = '1GB', nics = { n } }",
       "t.lua:4: host 'h3': invalid 'nics': nic 'vmnic0' already belongs to host 'h' (make a new "
       "one for each)"},
      {"portgroup { name = 'p', vlan = 4096, promiscuous = 'yes' }",
       "t.lua:3: portgroup 'p': invalid 'vlan': expected integer <= 4095, got 4096\n"
       "t.lua:3: portgroup 'p': invalid 'promiscuous': expected \"accept\" or \"reject\", got "
       "\"yes\""},
      {"vnic { mac = '00:50:56:zz:00:01' }",
       "t.lua:3: vnic: invalid 'mac': expected a MAC address such as \"00:50:56:01:02:03\", got "
       "\"00:50:56:zz:00:01\""},
      {"esxi { version = '5.6' }",
       "t.lua:3: esxi: invalid 'version': expected an ESXi version, \"4.0\", \"4.1\", \"5.0\", "
       "\"5.1\", \"5.5\", \"6.0\", \"6.5\", \"6.7\", \"7.0\" or \"8.0\", got \"5.6\""},
      {"esxi { quantum = '10us' }",
       "t.lua:3: esxi: invalid 'quantum': expected a time >= 100us, got \"10us\""},
      {"job { }", "t.lua:3: job: missing 'work'"},
      {"dvswitch { name = 'd', members = { 'h' }, portgroups = { portgroup { name = 'p' } } }",
       "t.lua:3: dvswitch 'd': invalid 'portgroups': expected a list of dvportgroup { }, got "
       "portgroup 'p' as item 1"},
      {"vswitch { name = 's', on = h, portgroups = { portgroup { name = 'p' },\n"
       "          portgroup { name = 'p' } } }",
       "t.lua:4: portgroup 'p': name already used by the portgroup at t.lua:3"},
      {"local v = vm { name = 'v', on = h, memory = '1GB', hypervisor = esxi { } }\n"
       "vm { name = 'w', on = v, memory = '1GB' }\n"
       "vm { name = 'w', on = 'h/v', memory = '1GB' }",
       "t.lua:5: vm 'w': name already used by the vm at t.lua:4"},
      {"vm { name = 'x', on = 'h/nope', memory = '1GB' }",
       "t.lua:3: vm 'x': invalid 'on': no VM at path 'h/nope'"},
      {"local v = vm { name = 'v', on = h, memory = '1GB' }\n"
       "vswitch { name = 's', on = v }",
       "t.lua:4: vswitch 's': invalid 'on': vm 'v' runs no hypervisor (give it hypervisor = "
       "esxi { ... })"},
      {"dvswitch { name = 'd', members = { h, 'h' } }",
       "t.lua:3: dvswitch 'd': invalid 'members': host 'h' is listed twice"},
      {"local p = portgroup { name = 'p' }\n"
       "vm { name = 'x', on = h, memory = '1GB', nics = { vnic { portgroup = p } } }",
       "t.lua:4: vm 'x': invalid 'nics': vnic 'vnic0' plugs into portgroup 'p', which no switch "
       "has (list it in the portgroups of a vswitch or dvswitch)"},
      {"local x = param('n', {})", "t.lua:3: param 'n': invalid 'default': expected a number, a "
                                   "string or a boolean, got a table"},
      {"local h2 = host { name = 'h2', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n"
       "local t = h2.name",
       "t.lua:4: host 'h2' has no fields to read or write (keep what you need in a local)"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = g_strdup_printf(
        "scenario { duration = 1 }\n"
        "local n = nic { name = 'vmnic0', speed = 1e9 }; local h = host { name = 'h', "
        "cpu = { cores = 1, ghz = 1 }, memory = '1GB', nics = { n } }\n"
        "%s\n", cases[i].body);
    g_autofree char *msg = load_bad(text);
    g_test_message("case %zu: %s", i, cases[i].body);
    g_assert_cmpstr(msg, ==, cases[i].want);
  }
}

/* Only the constructors, safe base functions and trimmed libraries are there. */
static void test_sandbox(void) {
  const char *absent[] = {"os", "io", "require", "load", "loadfile", "dofile", "loadstring",
                          "debug", "collectgarbage", "rawset", "rawget", "setmetatable",
                          "getmetatable", "coroutine", "package", "_G", "xpcall"};
  for (gsize i = 0; i < G_N_ELEMENTS(absent); i++) {
    g_autofree char *text = g_strdup_printf("local x = %s\n", absent[i]);
    g_autofree char *msg = load_bad(text);
    g_autofree char *want = g_strdup_printf("t.lua:1: undefined global '%s'", absent[i]);
    g_assert_true(g_str_has_prefix(msg, want));
  }
  /* Removed library functions: bytecode, pattern matching (unbounded backtracking in C),
   * per-process random numbers. */
  g_autoptr(topo_scenario) scn = load_ok(
      "assert(string.dump == nil and string.find == nil and string.match == nil)\n"
      "assert(string.gmatch == nil and string.gsub == nil and ('x').find == nil)\n"
      "assert(math.random == nil and math.randomseed == nil)\n"
      "assert(string.format('%03d', 7) == '007' and math.floor(2.5) == 2 and #table.pack(1, 2) == 2)\n"
      "assert(select('#', 1, 2) == 2 and tonumber('0x10') == 16 and utf8.char(72) == 'H')\n"
      "assert(pcall(error, 'x') == false and type(ipairs) == 'function' and next({}) == nil)\n"
      "scenario { duration = 1 }\n"
      "host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n", NULL);
  g_assert_nonnull(scn);
  /* Globals cannot be replaced, not even the constructors. */
  g_autofree char *msg = load_bad("host = nil\n");
  g_assert_cmpstr(msg, ==, "t.lua:1: assignment to undeclared global 'host' (declare it local)");
}

static void test_unreadable_file(void) {
  g_autoptr(GError) error = NULL;
  topo_scenario *scn = scn_load_file("/nonexistent/nowhere.lua", NULL, &error);
  g_assert_null(scn);
  g_assert_error(error, SCN_ERROR, SCN_ERROR_INPUT);
  g_assert_true(g_str_has_prefix(error->message, "nowhere.lua: cannot read the scenario: "));
}

/* Odd inputs, each of which must give a message naming the file, in valid UTF-8, and no
 * crash. A crash that scripts/fuzz.sh finds is added here (none so far: 17 minutes of
 * fuzzing, about 83,000 inputs). */
static void test_fuzz_regressions(void) {
  const char *inputs[] = {
      "", "\x00", "scenario", "scenario{}", "local t = {} t[t] = t vm(t)", "error()",
      "error(nil)", "error({})", "error(setmetatable)", "return 1", "host { name = '\\0' }",
      "vm { name = string.rep('x', 1000) }", "host { cpu = { cores = math.huge, ghz = 0/0 } }",
      "scenario { duration = 1e308 }", "scenario { duration = -0.0 }",
      "scenario { seed = math.mininteger }", "param('x', param)",
      "vm { name = 'a', on = ('x'):rep(600) }",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(inputs); i++) {
    gsize len = i == 1 ? 1 : strlen(inputs[i]);
    g_autoptr(GError) error = NULL;
    topo_scenario *scn = scn_load_string("f.lua", inputs[i], len, NULL, &error);
    g_assert_null(scn);
    g_assert_nonnull(error);
    g_assert_true(g_str_has_prefix(error->message, "f.lua"));
    g_assert_true(g_utf8_validate(error->message, -1, NULL));
  }
}

/* ---- Network: external machines, traffic and vNIC settings (issue 5) -------------------------- */

/* Two nested hosts with two L2 VMs each on a distributed switch, a client outside, and every
 * way of naming a flow's ends: a VM object (its first vNIC), a vNIC object, an external object,
 * a unique name, a VM path and a vNIC path. */
static const char *net_lab =
    "scenario { name = 'net', duration = '10s',\n"
    "  network = { vmxnet3_frame = '3us', e1000_frame = 5e-6, queue = 64, propagation = '1us',\n"
    "              pswitch_aging = '60s', learn_aging = '2min', learn_limit = 16,\n"
    "              learn_limit_policy = 'allow', flood_unknown = false } }\n"
    "local esx = host { name = 'esx01', cpu = { cores = 8, ghz = 2.6 }, memory = '128GB',\n"
    "  nics = { nic { name = 'vmnic1', speed = '10Gbps' } } }\n"
    "local pg = portgroup { name = 'trunk', vlan = 4095, promiscuous = 'accept' }\n"
    "vswitch { name = 'vSwitch1', on = esx, uplinks = { 'vmnic1' }, portgroups = { pg } }\n"
    "local nested = {}\n"
    "for i = 1, 2 do\n"
    "  nested[i] = vm { name = 'vESX' .. i, on = esx, vcpus = 2, memory = '8GB',\n"
    "    hypervisor = esxi { }, nics = { vnic { name = 'up', portgroup = pg, promiscuous = true,\n"
    "                                          guest_mac = '02:AA:00:00:00:0' .. i } } }\n"
    "end\n"
    "local tenant = dvportgroup { name = 'tenant', vlan = 100 }\n"
    "dvswitch { name = 'vDS', members = nested, uplinks = { 'up' }, portgroups = { tenant } }\n"
    "local a = vm { name = 'a', on = nested[1], memory = '1GB',\n"
    "               nics = { vnic { portgroup = tenant }, vnic { name = 'e1', portgroup = tenant } } }\n"
    "local bn = vnic { portgroup = tenant }\n"
    "vm { name = 'b', on = nested[2], memory = '1GB', nics = { bn } }\n"
    "local client = external { name = 'client', speed = '1Gbps', vlan = 100,\n"
    "                          mac = '00:11:22:33:44:55' }\n"
    "traffic { from = a, to = bn, rate = '50Mbps', frame = 1500, pattern = 'poisson' }\n"
    "traffic { name = 'bulk', from = 'b', to = 'esx01/vESX1/a/e1', rate = 1e6, frame = '9000B',\n"
    "          pattern = 'onoff', on = '200ms', off = 0.8, start = '2s', count = 1000,\n"
    "          size = 'exp' }\n"
    "rr { from = client, to = 'esx01/vESX2/b', rate = 1000, size = 200, pattern = 'poisson' }\n"
    "noise { from = 'client', rate = 2 }\n";

static void test_net_valid(void) {
  g_autoptr(topo_scenario) scn = load_ok(net_lab, NULL);
  /* Parameters in base units: times in seconds, "allow" = do not drop at the limit. */
  const topo_net_params *p = scn->network;
  g_assert_nonnull(p);
  g_assert_cmpfloat_with_epsilon(p->vmxnet3_frame_s, 3e-6, 1e-15);
  g_assert_cmpfloat_with_epsilon(p->e1000_frame_s, 5e-6, 1e-15);
  g_assert_cmpint(p->queue_frames, ==, 64);
  g_assert_cmpfloat_with_epsilon(p->propagation_s, 1e-6, 1e-15);
  g_assert_cmpfloat(p->pswitch_aging_s, ==, 60.0);
  g_assert_cmpfloat(p->learn_aging_s, ==, 120.0);
  g_assert_cmpint(p->learn_limit, ==, 16);
  g_assert_cmpint(p->learn_limit_drop, ==, 0);
  g_assert_cmpint(p->flood_unknown, ==, 0);

  const topo_host *h = g_ptr_array_index(scn->hosts, 0);
  topo_vm *v1 = vm_at(h->vms, 0), *v2 = vm_at(h->vms, 1);
  topo_vnic *up1 = g_ptr_array_index(v1->vnics, 0);
  g_assert_true(up1->promiscuous);
  /* Stored as parse_mac stores assigned MACs: lower case with ':'. */
  g_assert_cmpstr(up1->guest_mac, ==, "02:aa:00:00:00:01");
  topo_vm *a = vm_at(v1->vms, 0), *b = vm_at(v2->vms, 0);
  topo_vnic *a0 = g_ptr_array_index(a->vnics, 0), *a1 = g_ptr_array_index(a->vnics, 1);
  topo_vnic *b0 = g_ptr_array_index(b->vnics, 0);
  g_assert_false(a0->promiscuous);
  g_assert_null(a0->guest_mac);

  g_assert_cmpuint(scn->externals->len, ==, 1);
  const topo_external *x = g_ptr_array_index(scn->externals, 0);
  g_assert_cmpstr(x->name, ==, "client");
  g_assert_cmpfloat(x->speed_bps, ==, 1e9);
  g_assert_cmpint(x->vlan, ==, 100);
  g_assert_cmpstr(x->mac, ==, "00:11:22:33:44:55");

  g_assert_cmpuint(scn->traffic->len, ==, 4);
  const topo_traffic *t = g_ptr_array_index(scn->traffic, 0);
  /* Unnamed: called after its kind and its rank among them. A VM object means its first vNIC;
   * the defaults are constant, fixed size, from the start, endless. */
  g_assert_cmpstr(t->name, ==, "traffic1");
  g_assert_cmpint(t->kind, ==, TOPO_TRAFFIC_STREAM);
  g_assert_true(t->from_vnic == a0 && t->to_vnic == b0);
  g_assert_null(t->from_ext);
  g_assert_cmpfloat(t->rate, ==, 50e6);
  g_assert_cmpuint(t->frame_bytes, ==, 1500);
  g_assert_cmpint(t->pattern, ==, TOPO_PATTERN_POISSON);
  g_assert_false(t->exp_size);
  g_assert_cmpuint(t->count, ==, 0);
  t = g_ptr_array_index(scn->traffic, 1);
  /* A bare number is bits per second; 0.8 for a time is seconds; '9000B' is bytes. */
  g_assert_cmpstr(t->name, ==, "bulk");
  g_assert_true(t->from_vnic == b0 && t->to_vnic == a1);
  g_assert_cmpfloat(t->rate, ==, 1e6);
  g_assert_cmpuint(t->frame_bytes, ==, 9000);
  g_assert_cmpint(t->pattern, ==, TOPO_PATTERN_ONOFF);
  g_assert_cmpfloat_with_epsilon(t->on_s, 0.2, 1e-12);
  g_assert_cmpfloat_with_epsilon(t->off_s, 0.8, 1e-12);
  g_assert_cmpfloat(t->start_s, ==, 2.0);
  g_assert_cmpuint(t->count, ==, 1000);
  g_assert_true(t->exp_size);
  t = g_ptr_array_index(scn->traffic, 2);
  g_assert_cmpstr(t->name, ==, "rr1");
  g_assert_cmpint(t->kind, ==, TOPO_TRAFFIC_RR);
  g_assert_true(t->from_ext == x && t->to_vnic == b0);
  g_assert_cmpfloat(t->rate, ==, 1000);
  g_assert_cmpuint(t->frame_bytes, ==, 200);
  t = g_ptr_array_index(scn->traffic, 3);
  /* Noise: broadcast, no receiver; 60-byte frames (an ARP request) unless told. */
  g_assert_cmpstr(t->name, ==, "noise1");
  g_assert_cmpint(t->kind, ==, TOPO_TRAFFIC_NOISE);
  g_assert_true(t->from_ext == x && !t->to_vnic && !t->to_ext);
  g_assert_cmpuint(t->frame_bytes, ==, 60);
  g_assert_cmpint(t->pattern, ==, TOPO_PATTERN_CONSTANT);
}

/* A scenario without any of it: no network table (every parameter at the model's default),
 * empty lists. */
static void test_net_defaults(void) {
  g_autoptr(topo_scenario) scn =
      load_ok("scenario { name = 's', duration = 1 }\n"
              "host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n", NULL);
  g_assert_null(scn->network);
  g_assert_cmpuint(scn->externals->len, ==, 0);
  g_assert_cmpuint(scn->traffic->len, ==, 0);
}

static void test_bad_traffic_to_nothing(void) {
  check_bad("traffic-to-nothing", "traffic-to-nothing.lua:5: traffic: invalid 'to': no VM or "
                                  "external named 'db9'");
}

static void test_bad_rate_unit(void) {
  check_bad("bad-rate-unit", "bad-rate-unit.lua:6: traffic: invalid 'rate': expected a bit rate "
                             "such as \"1Gbps\" (units bps, Kbps, Mbps, Gbps), got \"50MB/s\"");
}

static void test_bad_pattern(void) {
  check_bad("bad-pattern", "bad-pattern.lua:6: traffic: invalid 'pattern': expected "
                           "\"constant\", \"poisson\" or \"onoff\", got \"poison\" (did you mean "
                           "\"poisson\"?)");
}

static void test_net_key_checks(void) {
  struct {
    const char *body;
    const char *want;
  } cases[] = {
      {"traffic { from = h, to = a, rate = '1Mbps' }",
       "t.lua:5: traffic: invalid 'from': expected a VM, a vnic { }, an external { }, or its "
       "name or path, got host 'h'"},
      {"traffic { to = a, rate = '1Mbps' }", "t.lua:5: traffic: missing 'from'"},
      {"traffic { from = a, to = 'nobody/x', rate = '1Mbps' }",
       "t.lua:5: traffic: invalid 'to': no VM or vNIC at path 'nobody/x'"},
      {"traffic { from = a, to = 'h/b/eth9', rate = '1Mbps' }",
       "t.lua:5: traffic: invalid 'to': no VM or vNIC at path 'h/b/eth9'"},
      {"traffic { from = a, to = a, rate = '1Mbps' }",
       "t.lua:5: traffic: invalid 'to': it is the sender itself"},
      {"vm { name = 'a', on = 'b', memory = '1GB', nics = { vnic { } } }\n"
       "traffic { from = 'a', to = 'b', rate = '1Mbps' }",
       "t.lua:6: traffic: invalid 'from': 'a' names 2 VMs and externals; give a path, such as "
       "'h/a'"},
      {"traffic { from = a, to = 'c', rate = '1Mbps' }",
       "t.lua:5: traffic: invalid 'to': vm 'c' has no vnic (give it nics = { vnic { ... } })"},
      {"traffic { from = a, to = vnic { }, rate = '1Mbps' }",
       "t.lua:5: traffic: invalid 'to': vnic belongs to no VM (list it in a vm's nics)"},
      {"traffic { from = a, to = 'b', rate = '1Mbps', pattern = 'onoff' }",
       "t.lua:5: traffic: missing 'on' (the mean on period, needed when pattern = \"onoff\")\n"
       "t.lua:5: traffic: missing 'off' (the mean off period, needed when pattern = \"onoff\")"},
      {"traffic { from = a, to = 'b', rate = '1Mbps', frame = '64KB' }",
       "t.lua:5: traffic: invalid 'frame': expected a size <= 65535 bytes (one frame), got "
       "\"64KB\""},
      {"traffic { name = 'f', from = a, to = 'b', rate = '1Mbps' }\n"
       "traffic { name = 'f', from = 'b', to = a, rate = '1Mbps' }",
       "t.lua:6: traffic 'f': name 'f' already used by the traffic at t.lua:5"},
      {"rr { from = a, to = 'b', rate = '1Mbps', size = 100, pattern = 'onoff' }",
       "t.lua:5: rr: invalid 'rate': expected a number of transactions per second > 0, got "
       "\"1Mbps\"\n"
       "t.lua:5: rr: invalid 'pattern': expected \"constant\" or \"poisson\", got \"onoff\""},
      {"rr { from = a, to = 'b', rate = 10 }", "t.lua:5: rr: missing 'size'"},
      {"noise { from = a, to = 'b', rate = 0 }",
       "t.lua:5: noise: invalid 'rate': expected a number of frames per second > 0, got 0\n"
       "t.lua:5: noise: unknown key 'to'"},
      {"external { name = 'x', speed = '1Gbps', vlan = 4095, mac = 'nope' }\n"
       "external { name = 'x', speed = '1Gbps' }",
       "t.lua:5: external 'x': invalid 'mac': expected a MAC address such as "
       "\"00:50:56:01:02:03\", got \"nope\"\n"
       "t.lua:5: external 'x': invalid 'vlan': expected integer <= 4094, got 4095\n"
       "t.lua:6: external 'x': name already used by the external at t.lua:5"},
      {"vnic { promiscuous = 'yes', guest_mac = 12 }",
       "t.lua:5: vnic: invalid 'promiscuous': expected true or false, got \"yes\"\n"
       "t.lua:5: vnic: invalid 'guest_mac': expected a MAC address such as "
       "\"02:00:00:00:00:01\", got 12"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = g_strdup_printf(
        "scenario { name = 's', duration = 1 }\n"
        "local h = host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = '1GB' }\n"
        "local a = vm { name = 'a', on = h, memory = '1GB', nics = { vnic { } } }\n"
        "vm { name = 'b', on = h, memory = '1GB', hypervisor = esxi { }, nics = { vnic { } } }; "
        "vm { name = 'c', on = h, memory = '1GB' }\n"
        "%s\n", cases[i].body);
    g_autofree char *msg = load_bad(text);
    g_test_message("case %zu: %s", i, cases[i].body);
    g_assert_cmpstr(msg, ==, cases[i].want);
  }
  g_autofree char *msg = load_bad("scenario { name = 's', duration = 1, network = { queue = -1,\n"
                                  "  learn_limit_policy = 'keep', flod_unknown = true } }\n"
                                  "host { name = 'h', cpu = { cores = 1, ghz = 1 }, memory = 1 }\n");
  g_assert_cmpstr(msg, ==,
                  "t.lua:1: scenario 's': invalid 'network.queue': expected integer >= 0, got -1\n"
                  "t.lua:1: scenario 's': invalid 'network.learn_limit_policy': expected "
                  "\"allow\" or \"drop\", got \"keep\"\n"
                  "t.lua:1: scenario 's': unknown key 'network.flod_unknown' (did you mean "
                  "'network.flood_unknown'?)");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/scn/valid/four-nested-hosts-built-by-loops", test_lab);
  g_test_add_func("/scn/valid/defaults", test_defaults);
  g_test_add_func("/scn/valid/default-interval-is-a-sixtieth-in-whole-seconds", test_interval);
  g_test_add_func("/scn/valid/on-by-name-by-path-and-forward", test_on_by_name);
  g_test_add_func("/scn/valid/param-typed-by-default-and-recorded", test_params);
  g_test_add_func("/scn/valid/pairs-visits-keys-in-a-fixed-order", test_pairs_order);
  g_test_add_func("/scn/valid/switches-on-nested-hypervisors", test_nested_switches);
  g_test_add_func("/scn/bad/unknown-key", test_bad_unknown_key);
  g_test_add_func("/scn/bad/wrong-type", test_bad_wrong_type);
  g_test_add_func("/scn/bad/bad-unit", test_bad_unit);
  g_test_add_func("/scn/bad/negative-size", test_bad_negative_size);
  g_test_add_func("/scn/bad/zero-size", test_bad_zero_size);
  g_test_add_func("/scn/bad/name-used-twice", test_bad_name_twice);
  g_test_add_func("/scn/bad/vm-on-vm-without-hypervisor", test_bad_on_no_hypervisor);
  g_test_add_func("/scn/bad/reference-to-nothing", test_bad_reference_to_nothing);
  g_test_add_func("/scn/bad/missing-scenario", test_bad_missing_scenario);
  g_test_add_func("/scn/bad/missing-on", test_bad_missing_on);
  g_test_add_func("/scn/bad/scenario-twice", test_bad_scenario_twice);
  g_test_add_func("/scn/bad/on-cycle", test_bad_cycle);
  g_test_add_func("/scn/bad/vnic-on-a-switch-of-another-hypervisor", test_bad_vnic_switch);
  g_test_add_func("/scn/bad/undeclared-global", test_bad_undeclared_global);
  g_test_add_func("/scn/bad/undefined-global", test_bad_undefined_global);
  g_test_add_func("/scn/bad/os-io-require-load-dump-unavailable", test_bad_no_os_io_require);
  g_test_add_func("/scn/bad/syntax-error", test_bad_syntax);
  g_test_add_func("/scn/bad/bytecode-rejected", test_bad_bytecode);
  g_test_add_func("/scn/bad/set-unknown-param", test_bad_set_unknown);
  g_test_add_func("/scn/bad/set-bad-value", test_bad_set_value);
  g_test_add_func("/scn/bad/every-key-check", test_key_checks);
  g_test_add_func("/scn/bad/nesting-deeper-than-16-layers", test_bad_nesting_depth);
  g_test_add_func("/scn/limits/endless-loop-stopped", test_limit_endless_loop);
  g_test_add_func("/scn/limits/memory-bomb-stopped", test_limit_memory_bomb);
  g_test_add_func("/scn/limits/billion-vms-stopped", test_limit_billion_vms);
  g_test_add_func("/scn/limits/pcall-cannot-swallow-a-limit", test_limit_pcall);
  g_test_add_func("/scn/limits/c-library-loops-charged", test_limit_c_loops);
  g_test_add_func("/scn/errors/all-errors-of-a-file-collected", test_all_errors_collected);
  g_test_add_func("/scn/errors/lua-error-reported-last", test_runtime_error_last);
  g_test_add_func("/scn/errors/capped-at-50-with-a-count", test_error_cap);
  g_test_add_func("/scn/sandbox/only-safe-globals", test_sandbox);
  g_test_add_func("/scn/file/unreadable", test_unreadable_file);
  g_test_add_func("/scn/fuzz/regressions-give-a-message", test_fuzz_regressions);
  /* issue 5 */
  g_test_add_func("/scn/network/traffic-externals-and-vnic-settings", test_net_valid);
  g_test_add_func("/scn/network/defaults", test_net_defaults);
  g_test_add_func("/scn/bad/traffic-to-nothing", test_bad_traffic_to_nothing);
  g_test_add_func("/scn/bad/bad-rate-unit", test_bad_rate_unit);
  g_test_add_func("/scn/bad/bad-pattern", test_bad_pattern);
  g_test_add_func("/scn/network/every-key-check", test_net_key_checks);
  return g_test_run();
}
