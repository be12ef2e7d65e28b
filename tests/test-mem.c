/* test-mem.c — the memory and storage model (models/mem.c, models/disk.c) against the
 * published tables it encodes, conservation of memory at every tick, the outcomes that follow
 * from ESXi's reclamation rules, and queueing closed forms.
 *
 * Scenarios are built by hand (topo.h's structs are public) so that each test states exactly
 * the configuration its expected values are derived from. Sizes in comments are in MB. */
#include <math.h>
#include <string.h>

#include "models/disk.h"
#include "models/mem.h"
#include "sim/engine.h"
#include "src/met.h"
#include "src/scn.h"
#include "src/topo.h"

#define MB (1024.0 * 1024.0)
#define GB (1024.0 * MB)

/* ---- The published tables ---- */

/* vSphere Resource Management Guide, "Sample Overhead Memory on Virtual Machines". */
static void test_overhead_table(void) {
  /* A sample point: 4096 MB with 1 vCPU is 48.64 MB in the table. */
  g_assert_cmpfloat_with_epsilon(mem_overhead_bytes(4096 * MB, 1) / MB, 48.64, 1e-3);
  /* 16384 MB with 8 vCPUs: 168.60 MB. */
  g_assert_cmpfloat_with_epsilon(mem_overhead_bytes(16384 * MB, 8) / MB, 168.60, 1e-3);
  /* Between memory samples: 2048 MB, 2 vCPUs lies a third of the way from 1024 MB (29.91) to
   * 4096 MB (52.72): 29.91 + (52.72 - 29.91) x 1024 / 3072 = 37.5133. */
  g_assert_cmpfloat_with_epsilon(mem_overhead_bytes(2048 * MB, 2) / MB, 37.5133, 1e-3);
  /* Between vCPU samples: 3 vCPUs at 4096 MB is halfway between 52.72 and 60.67: 56.695. */
  g_assert_cmpfloat_with_epsilon(mem_overhead_bytes(4096 * MB, 3) / MB, 56.695, 1e-3);
  /* The seed's nested hosts, 32768 MB and 4 vCPUs, lie beyond the table: the last segment
   * (4096 -> 16384 MB: 60.67 -> 151.93) extended by 16384 MB more:
   * 151.93 + (151.93 - 60.67) x 16384 / 12288 = 273.61. */
  g_assert_cmpfloat_with_epsilon(mem_overhead_bytes(32768 * MB, 4) / MB, 273.61, 1e-2);
}

/* vSphere 5.0+ minFree: 6% of the first 4 GB, 4% of the next 8, 2% of the next 16, 1% of the
 * rest. */
static void test_minfree_sliding_scale(void) {
  /* 2 GB: 6% of 2048 = 122.88. */
  g_assert_cmpfloat_with_epsilon(mem_minfree_bytes(2 * GB) / MB, 122.88, 1e-3);
  /* 16 GB: 245.76 + 327.68 + 2% of 4096 = 655.36. */
  g_assert_cmpfloat_with_epsilon(mem_minfree_bytes(16 * GB) / MB, 655.36, 1e-3);
  /* The seed's 128 GB box: 245.76 + 327.68 + 327.68 + 1% of 102400 = 1925.12. */
  g_assert_cmpfloat_with_epsilon(mem_minfree_bytes(128 * GB) / MB, 1925.12, 1e-3);
}

static void test_state_thresholds(void) {
  /* ESXi 5.x: high at minFree and above, soft down to 64%, hard down to 32%, low below. */
  g_assert_cmpint(mem_level_of(1000, 1000, 5), ==, MEM_HIGH);
  g_assert_cmpint(mem_level_of(999, 1000, 5), ==, MEM_SOFT);
  g_assert_cmpint(mem_level_of(640, 1000, 5), ==, MEM_SOFT);
  g_assert_cmpint(mem_level_of(639, 1000, 5), ==, MEM_HARD);
  g_assert_cmpint(mem_level_of(320, 1000, 5), ==, MEM_HARD);
  g_assert_cmpint(mem_level_of(319, 1000, 5), ==, MEM_LOW);
  /* ESXi 6.x: clear below 100%, soft below 64%, hard below 32%, low below 16%. */
  g_assert_cmpint(mem_level_of(1000, 1000, 6), ==, MEM_HIGH);
  g_assert_cmpint(mem_level_of(999, 1000, 6), ==, MEM_CLEAR);
  g_assert_cmpint(mem_level_of(500, 1000, 6), ==, MEM_SOFT);
  g_assert_cmpint(mem_level_of(200, 1000, 6), ==, MEM_HARD);
  g_assert_cmpint(mem_level_of(100, 1000, 6), ==, MEM_LOW);
  /* A nested ESXi has no balloon driver; other guests do unless the scenario says not. */
  g_assert_false(mem_guest_has_balloon("esxi5"));
  g_assert_true(mem_guest_has_balloon("linux64"));
}

/* ---- Queueing closed forms ---- */

static void test_disk_mm1(void) {
  /* M/M/1, service 10 ms (mu = 100/s), lambda = 50/s: rho = 0.5, Wq = rho / (mu - lambda)
   * = 0.5 / 50 = 10 ms, response = 1 / (mu - lambda) = 20 ms. */
  g_assert_cmpfloat_with_epsilon(dsk_mmc_wait_s(1, 0.010, 50), 0.010, 1e-12);
  g_assert_cmpfloat_with_epsilon(dsk_erlang_c(1, 0.5), 0.5, 1e-12);
  /* At and beyond capacity the queue grows without bound. */
  g_assert_true(isinf(dsk_mmc_wait_s(1, 0.010, 100)));
}

/* Erlang C by its explicit sum, an independent derivation of what disk.c computes by the
 * Erlang B recursion: C = (a^c / c!) (c / (c - a)) / (sum_{k<c} a^k / k! + (a^c / c!) c / (c - a)). */
static double erlang_c_sum(int c, double a) {
  double term = 1, sum = 0;
  for (int k = 0; k < c; k++) {
    sum += term;
    term *= a / (k + 1);
  }
  double top = term * c / (c - a);
  return top / (sum + top);
}

static void test_disk_erlang_c(void) {
  /* c = 2, a = 1 (lambda = 1/s, s = 1 s): C = (1/2 x 2) / (1 + 1 + 1) = 1/3, and
   * Wq = C / (c mu - lambda) = (1/3) / (2 - 1) = 1/3 s. */
  g_assert_cmpfloat_with_epsilon(dsk_erlang_c(2, 1.0), 1.0 / 3, 1e-12);
  g_assert_cmpfloat_with_epsilon(dsk_mmc_wait_s(2, 1.0, 1.0), 1.0 / 3, 1e-12);
  for (int c = 1; c <= 16; c *= 2)
    for (double rho = 0.1; rho < 1; rho += 0.2)
      g_assert_cmpfloat_with_epsilon(dsk_erlang_c(c, rho * c), erlang_c_sum(c, rho * c), 1e-12);
  /* A 7,200 rpm disk: half a revolution is 30 / 7200 s = 4.1667 ms, plus the seek. */
  g_assert_cmpfloat_with_epsilon(dsk_hdd_service_s(7200, 0.0085), 0.0085 + 30.0 / 7200, 1e-12);
}

static void test_disk_space(void) {
  g_autoptr(dsk_store) d = dsk_new("ds", (uint64_t)(100 * GB), DSK_HDD, 0, 0);
  dsk_place(d, (uint64_t)(60 * GB), false, (uint64_t)(60 * GB));
  dsk_place(d, (uint64_t)(80 * GB), true, (uint64_t)(10 * GB));
  /* Thick 60 + thin 80: 140 GB provisioned; 60 + the 10 GB written allocated. */
  g_assert_cmpuint(dsk_provisioned_bytes(d), ==, (uint64_t)(140 * GB));
  g_assert_cmpuint(dsk_allocated_bytes(d), ==, (uint64_t)(70 * GB));
}

/* ---- Building scenarios ---- */

static topo_scenario *t_scenario(void) {
  topo_scenario *scn = g_new0(topo_scenario, 1);
  scn->name = g_strdup("t");
  scn->file = g_strdup("t.lua");
  scn->duration_ns = 600 * (int64_t)1000000000;
  scn->interval_ns = 10 * (int64_t)1000000000;
  scn->hosts = g_ptr_array_new();
  scn->dvswitches = g_ptr_array_new();
  return scn;
}

static topo_hypervisor *t_esxi(const char *version) {
  topo_hypervisor *hv = g_new0(topo_hypervisor, 1);
  hv->kind = TOPO_HV_ESXI;
  hv->version = g_strdup(version);
  return hv;
}

static topo_host *t_host(topo_scenario *scn, const char *name, double mem_gb, const char *version) {
  topo_host *h = g_new0(topo_host, 1);
  h->name = g_strdup(name);
  h->path = g_strdup(name);
  h->sockets = 1;
  h->cores = 8;
  h->threads = 2;
  h->hz = 2.6e9;
  h->memory_bytes = (uint64_t)(mem_gb * GB);
  h->hypervisor = t_esxi(version);
  h->nics = g_ptr_array_new();
  h->datastores = g_ptr_array_new();
  h->vswitches = g_ptr_array_new();
  h->vms = g_ptr_array_new();
  g_ptr_array_add(scn->hosts, h);
  return h;
}

static topo_datastore *t_datastore(topo_host *h, const char *name, double cap_gb, const char *type) {
  topo_datastore *d = g_new0(topo_datastore, 1);
  d->name = g_strdup(name);
  d->capacity_bytes = (uint64_t)(cap_gb * GB);
  d->type = g_strdup(type);
  d->host = h;
  g_ptr_array_add(h->datastores, d);
  return d;
}

/* A VM on a host (parent NULL) or on a nested hypervisor VM. */
static topo_vm *t_vm(topo_host *h, topo_vm *parent, const char *name, int vcpus, double mem_gb,
                     const char *guest) {
  topo_vm *vm = g_new0(topo_vm, 1);
  vm->name = g_strdup(name);
  vm->path = g_strdup_printf("%s/%s", parent ? parent->path : h->name, name);
  vm->layer = parent ? parent->layer + 1 : 1;
  vm->host = h;
  vm->parent = parent;
  vm->vcpus = vcpus;
  vm->cores_per_socket = 1;
  vm->memory_bytes = (uint64_t)(mem_gb * GB);
  vm->disk_bytes = (uint64_t)(40 * GB);
  vm->guest = g_strdup(guest);
  vm->guest_64bit = TRUE;
  vm->cpu_mmu = TOPO_CPUMMU_HARDWARE;
  vm->shares = 1000.0 * vcpus;
  vm->limit_hz = -1;
  vm->vnics = g_ptr_array_new();
  vm->vswitches = g_ptr_array_new();
  g_ptr_array_add(parent ? parent->vms : h->vms, vm);
  return vm;
}

static topo_vm *t_nested(topo_host *h, const char *name, int vcpus, double mem_gb) {
  topo_vm *vm = t_vm(h, NULL, name, vcpus, mem_gb, "esxi5");
  vm->hypervisor = t_esxi("5.5");
  vm->expose_hw_virt = TRUE;
  vm->vms = g_ptr_array_new();
  vm->disk_bytes = (uint64_t)(1024 * GB);
  return vm;
}

/* A CPU-bound guest (its vCPUs always busy): one vCPU-second of execution per second each. */
static void t_busy(topo_vm *vm) {
  topo_workload *w = g_new0(topo_workload, 1);
  w->kind = TOPO_WL_CPU;
  w->util = 1.0;
  w->period_ns = 1000000000;
  vm->workload = w;
}

static mem_state *t_model(const topo_scenario *scn) {
  g_autoptr(GError) err = NULL;
  mem_state *ms = mem_new(scn, NULL, NULL, &err);
  g_assert_no_error(err);
  g_assert_nonnull(ms);
  return ms;
}

static mem_vm_stats vm_stats(const mem_state *ms, const char *path) {
  mem_vm_stats st;
  g_assert_true(mem_vm_get(ms, path, &st));
  return st;
}

static mem_hv_stats hv_stats(const mem_state *ms, const char *path) {
  mem_hv_stats st;
  g_assert_true(mem_hv_get(ms, path, &st));
  return st;
}

/* mem { active, footprint (fractions), touched_rate (MB/s), share, compress }. */
static void t_mem(topo_vm *vm, double active, double footprint, double rate_mbps, double share,
                  double compress) {
  vm->mem = (topo_memwl){.set = TRUE, .active_frac = active, .footprint_frac = footprint,
                         .touched_rate_bps = rate_mbps * MB, .share = share,
                         .compress = compress};
}

/* ---- Accounting ---- */

/* A host where every mechanism is busy: a ballooning guest, a guest without a driver, a fully
 * reserved guest and a nested hypervisor whose own guests overcommit it. */
static topo_scenario *mixed_scenario(void) {
  topo_scenario *scn = t_scenario();
  topo_host *h = t_host(scn, "esx01", 16, "5.5");
  t_datastore(h, "ssd1", 200, "ssd");
  topo_vm *a = t_vm(h, NULL, "linux", 2, 4, "linux64");
  t_busy(a);
  t_mem(a, 0.4, 1.0, 256, 0.05, 0.5);
  topo_vm *b = t_vm(h, NULL, "noballoon", 1, 4, "esxi5");
  t_busy(b);
  t_mem(b, 0.75, 1.0, 1024, 0, 0.5);
  topo_vm *c = t_vm(h, NULL, "db", 1, 3, "linux64");
  t_busy(c);
  t_mem(c, 0.5, 1.0, 64, 0.05, 0.5);
  c->mem_reservation_bytes = c->memory_bytes;
  topo_vm *n = t_nested(h, "vESX1", 4, 6);
  for (int i = 0; i < 3; i++) {
    g_autofree char *name = g_strdup_printf("vm%d", i + 1);
    topo_vm *l2 = t_vm(h, n, name, 1, 2, "linux64");
    t_busy(l2);
    t_mem(l2, 0.4, 1.0, 128, 0.05, 0.5);
  }
  return scn;
}

/* At every tick and every layer: capacity = hypervisor + VMs' consumed memory + their
 * overheads + free, with free never negative (nothing granted twice); and no guest page
 * appears or vanishes: a VM's pages in all pools (granted, ballooned, compressed, swapped)
 * never exceed its configured memory and, once touched, stay counted somewhere. */
static void test_accounting_identity(void) {
  g_autoptr(topo_scenario) scn = mixed_scenario();
  mem_state *ms = t_model(scn);
  const char *hvs[] = {"esx01", "esx01/vESX1"};
  const char *vms[] = {"esx01/linux", "esx01/noballoon", "esx01/db", "esx01/vESX1",
                       "esx01/vESX1/vm1", "esx01/vESX1/vm2", "esx01/vESX1/vm3"};
  double held[G_N_ELEMENTS(vms)] = {0};
  mem_level worst = MEM_HIGH;
  for (int t = 0; t < 900; t++) {
    mem_tick(ms, MEM_TICK_S);
    for (guint k = 0; k < G_N_ELEMENTS(hvs); k++) {
      mem_hv_stats h = hv_stats(ms, hvs[k]);
      double sum = h.own_mb + h.vm_consumed_mb + h.vm_overhead_mb + h.free_mb;
      g_assert_cmpfloat_with_epsilon(sum, h.capacity_mb, 1e-6 * h.capacity_mb);
      g_assert_cmpfloat(h.free_mb, >=, -1e-6);
      if (k == 0 && h.level > worst) worst = h.level;
    }
    for (guint k = 0; k < G_N_ELEMENTS(vms); k++) {
      mem_vm_stats v = vm_stats(ms, vms[k]);
      g_assert_cmpfloat(v.grant_mb, >=, -1e-9);
      g_assert_cmpfloat(v.zip_mb, >=, -1e-9);
      g_assert_cmpfloat(v.swcur_mb, >=, -1e-9);
      g_assert_cmpfloat(v.mctlsz_mb, >=, -1e-9);
      double pages = v.grant_mb + v.mctlsz_mb + v.zip_mb + v.swcur_mb;
      g_assert_cmpfloat(pages, <=, v.memsz_mb * (1 + 1e-9));
      /* A leaf guest's touched pages only grow: reclaiming moves them, never drops them. */
      if (k != 3) g_assert_cmpfloat(pages, >=, held[k] * (1 - 1e-9));
      held[k] = pages;
    }
  }
  /* The scenario does overcommit: the host had to reclaim. */
  g_assert_cmpint(worst, >=, MEM_SOFT);
  mem_free(ms);
}

/* ---- Outcomes ---- */

/* Three 4 GB guests on a 16 GB host: their footprints (12288) fit what the host leaves them,
 * 16384 - 1024 (hypervisor) - 655.36 (minFree) - 3 x 48.64 (overheads) = 14558.72, so
 * nothing is ever reclaimed and nobody stalls. */
static void test_fits_no_swapping(void) {
  g_autoptr(topo_scenario) scn = t_scenario();
  topo_host *h = t_host(scn, "esx01", 16, "5.5");
  t_datastore(h, "datastore1", 500, "hdd");
  for (int i = 0; i < 3; i++) {
    g_autofree char *name = g_strdup_printf("vm%d", i + 1);
    topo_vm *vm = t_vm(h, NULL, name, 1, 4, "linux64");
    t_busy(vm);
    t_mem(vm, 0.75, 1.0, 1024, 0, 0.5);
  }
  mem_state *ms = t_model(scn);
  for (int t = 0; t < 600; t++) mem_tick(ms, MEM_TICK_S);
  mem_hv_stats hs = hv_stats(ms, "esx01");
  g_assert_cmpint(hs.worst, ==, MEM_HIGH);
  for (int i = 0; i < 3; i++) {
    g_autofree char *path = g_strdup_printf("esx01/vm%d", i + 1);
    mem_vm_stats v = vm_stats(ms, path);
    g_assert_cmpfloat_with_epsilon(v.grant_mb, 4096, 1e-6);
    g_assert_cmpfloat(v.swcur_mb + v.zip_mb + v.mctlsz_mb, ==, 0);
    g_assert_cmpfloat(v.swap_stall_s + v.zip_stall_s, ==, 0);
  }
  mem_free(ms);
}

/* Four 4 GB guests, one vCPU each, on a 16 GB ESXi 5.5 host with one HDD datastore. Each
 * touches all of its memory (32 MB/s, so free memory falls at most 128 MB a second, less than
 * one state's band of 0.32 x 655.36 = 210 MB) and then only idle pages: no working set, no
 * page-ins. Sharing and compression are off, and `guest` decides the balloon driver. */
static topo_scenario *overcommit_scenario(const char *guest) {
  topo_scenario *scn = t_scenario();
  topo_host *h = t_host(scn, "esx01", 16, "5.5");
  t_datastore(h, "datastore1", 500, "hdd");
  for (int i = 0; i < 4; i++) {
    g_autofree char *name = g_strdup_printf("vm%d", i + 1);
    topo_vm *vm = t_vm(h, NULL, name, 1, 4, guest);
    t_busy(vm);
    t_mem(vm, 0, 1.0, 32, 0, 0);
  }
  return scn;
}

/* What the host leaves its guests while it stays high: 16384 - 1024 (hypervisor) - 655.36
 * (minFree) - 4 x 48.64 (overheads) = 14510.08 MB. The guests touch 4 x 4096 = 16384 MB,
 * 1873.92 MB more. */
#define OVERCOMMIT_AVAIL_MB 14510.08
#define OVERCOMMIT_EXCESS_MB 1873.92

/* Without a balloon driver the host cannot reclaim in the soft state and sinks to hard, where
 * it swaps; the HDD writes 0.9 x 79 I/Os of 1 MB a second (71 MB/s), slower than the guests
 * allocate (128 MB/s), so it sinks further to low and blocks them. The first visits therefore come in order
 * high, soft, hard, low. Every touched page is then either granted or swapped, so
 * swapped = touched - granted = 16384 - (16384 - 1024 - 4 x 48.64 - free) exactly. Swapping
 * stops where the host climbs back above the hard threshold, and nothing reclaims in soft
 * without a balloon: the host parks in soft, free between 64% and 100% of minFree
 * (419.43 to 655.36 MB): the guests hold up to 0.36 x 655.36 = 235.93 MB of it, so the
 * swapped total lies between 1873.92 - 235.93 = 1637.99 MB and the excess, 1873.92 MB. */
static void test_overcommit_states_and_swap(void) {
  g_autoptr(topo_scenario) scn = overcommit_scenario("esxi5");
  mem_state *ms = t_model(scn);
  for (int t = 0; t < 3000; t++) mem_tick(ms, MEM_TICK_S);
  mem_level log[64];
  guint n = mem_hv_levels(ms, "esx01", log, G_N_ELEMENTS(log));
  int first[MEM_N_LEVELS];
  for (int l = 0; l < MEM_N_LEVELS; l++) first[l] = -1;
  for (guint i = 0; i < n; i++)
    if (first[log[i]] < 0) first[log[i]] = (int)i;
  g_assert_cmpint(first[MEM_HIGH], ==, 0);
  g_assert_cmpint(first[MEM_SOFT], >, first[MEM_HIGH]);
  g_assert_cmpint(first[MEM_HARD], >, first[MEM_SOFT]);
  g_assert_cmpint(first[MEM_LOW], >, first[MEM_HARD]);
  g_assert_cmpint(first[MEM_CLEAR], ==, -1); /* no clear state in 5.x */
  mem_hv_stats hs = hv_stats(ms, "esx01");
  g_assert_cmpfloat_with_epsilon(hs.minfree_mb, 655.36, 1e-3);
  g_assert_cmpint(hs.level, ==, MEM_SOFT);
  g_assert_cmpfloat(hs.free_mb, >=, 0.64 * hs.minfree_mb);
  g_assert_cmpfloat(hs.free_mb, <, hs.minfree_mb);
  double swapped = 0, granted = 0;
  for (int i = 0; i < 4; i++) {
    g_autofree char *path = g_strdup_printf("esx01/vm%d", i + 1);
    mem_vm_stats v = vm_stats(ms, path);
    g_assert_cmpfloat(v.mctlsz_mb + v.zip_mb, ==, 0);
    swapped += v.swcur_mb;
    granted += v.grant_mb;
  }
  g_assert_cmpfloat_with_epsilon(granted + swapped, 16384, 1e-6);
  g_assert_cmpfloat_with_epsilon(swapped, 16384 - (16384 - 1024 - 4 * 48.64 - hs.free_mb), 1e-3);
  g_assert_cmpfloat(swapped, >, OVERCOMMIT_EXCESS_MB - 0.36 * 655.36 - 1e-6);
  g_assert_cmpfloat(swapped, <=, OVERCOMMIT_EXCESS_MB + 1e-6);
  mem_free(ms);
}

/* The same guests without and with a balloon driver. Without one, the balloon stays empty at
 * every tick; with one, the host reclaims everything by ballooning in the soft state (each
 * balloon may take 65% of 4096 MB, more than the 468.48 MB it must give) and never swaps. */
static void test_balloon_only_with_driver(void) {
  g_autoptr(topo_scenario) none = overcommit_scenario("esxi5");
  g_autoptr(topo_scenario) tools = overcommit_scenario("linux64");
  mem_state *a = t_model(none), *b = t_model(tools);
  double balloon_max = 0;
  for (int t = 0; t < 3000; t++) {
    mem_tick(a, MEM_TICK_S);
    mem_tick(b, MEM_TICK_S);
    for (int i = 0; i < 4; i++) {
      g_autofree char *path = g_strdup_printf("esx01/vm%d", i + 1);
      g_assert_cmpfloat(vm_stats(a, path).mctlsz_mb, ==, 0);
      balloon_max = MAX(balloon_max, vm_stats(b, path).mctlsz_mb);
    }
  }
  g_assert_cmpfloat(balloon_max, >, 0);
  double ballooned = 0;
  for (int i = 0; i < 4; i++) {
    g_autofree char *path = g_strdup_printf("esx01/vm%d", i + 1);
    mem_vm_stats v = vm_stats(b, path);
    g_assert_cmpfloat(v.swcur_mb + v.zip_mb, ==, 0);
    ballooned += v.mctlsz_mb;
  }
  g_assert_cmpfloat_with_epsilon(ballooned, OVERCOMMIT_EXCESS_MB, 1e-3);
  g_assert_cmpint(hv_stats(b, "esx01").worst, ==, MEM_SOFT);
  mem_free(a);
  mem_free(b);
}

/* The overcommitted host again, with vm1 fully reserved: it keeps every page it touched at
 * every tick, and the other three give up what is swapped between them, which is again all
 * the touched memory the host does not grant: 16384 - (16384 - 1024 - 4 x 48.64 - free). */
static void test_reservation_never_reclaimed(void) {
  g_autoptr(topo_scenario) scn = overcommit_scenario("esxi5");
  topo_host *h = g_ptr_array_index(scn->hosts, 0);
  topo_vm *vm1 = g_ptr_array_index(h->vms, 0);
  vm1->mem_reservation_bytes = vm1->memory_bytes;
  mem_state *ms = t_model(scn);
  for (int t = 0; t < 3000; t++) {
    mem_tick(ms, MEM_TICK_S);
    mem_vm_stats v = vm_stats(ms, "esx01/vm1");
    g_assert_cmpfloat(v.swcur_mb + v.zip_mb + v.mctlsz_mb, ==, 0);
  }
  g_assert_cmpfloat_with_epsilon(vm_stats(ms, "esx01/vm1").grant_mb, 4096, 1e-6);
  double swapped = 0;
  for (int i = 1; i < 4; i++) {
    g_autofree char *path = g_strdup_printf("esx01/vm%d", i + 1);
    swapped += vm_stats(ms, path).swcur_mb;
  }
  double free_mb = hv_stats(ms, "esx01").free_mb;
  g_assert_cmpfloat_with_epsilon(swapped, 16384 - (16384 - 1024 - 4 * 48.64 - free_mb), 1e-3);
  g_assert_cmpfloat(swapped, >, OVERCOMMIT_EXCESS_MB - 0.36 * 655.36 - 1e-6);
  mem_free(ms);
}

/* One busy guest whose working set does not fit: an 8 GB host leaves it 8192 - 1024 - 409.6
 * (minFree) - 78.97 (overhead) = 6679.4 MB, its working set is 0.9 x 8192 = 7372.8 MB, so
 * about 690 MB of it is always out and every touch of those pages is a swap-in from the SSD
 * (service 0.1 ms, one server). Then:
 * - its swap stall is exactly its swap-ins times the latency each met;
 * - the latency the model solved in each tick is the M/M/1 response time 1 / (mu - lambda) at
 *   the I/O rate that tick carried (swap-ins and swap-out writes);
 * - its memory drag is its stall over its execution. */
static void test_swap_stall_matches_disk_latency(void) {
  g_autoptr(topo_scenario) scn = t_scenario();
  topo_host *h = t_host(scn, "esx01", 8, "5.5");
  t_datastore(h, "ssd1", 100, "ssd");
  topo_vm *vm = t_vm(h, NULL, "big", 1, 8, "linux64");
  vm->balloon = -1;
  t_busy(vm);
  t_mem(vm, 0.9, 0.9, 64, 0, 0);
  mem_state *ms = t_model(scn);
  dsk_store *d = mem_datastore(ms, "esx01/[ssd1]");
  g_assert_nonnull(d);
  double mu = 1.0 / dsk_service_s(d);
  dsk_stats prev;
  dsk_get_stats(d, &prev);
  int checked = 0;
  for (int t = 0; t < 600; t++) {
    mem_tick(ms, MEM_TICK_S);
    dsk_stats now;
    dsk_get_stats(d, &now);
    double ios = (now.reads + now.writes) - (prev.reads + prev.writes);
    if (ios > 0) {
      double lat = (now.latency_sum_s - prev.latency_sum_s) / ios;
      double lambda = ios / MEM_TICK_S;
      g_assert_cmpfloat(lambda, <, mu);
      g_assert_cmpfloat_with_epsilon(lat, 1.0 / (mu - lambda), 1e-6 * lat);
      checked++;
    }
    prev = now;
  }
  g_assert_cmpint(checked, >, 400); /* all ticks after the 115 s it takes to touch 7372.8 MB */
  mem_vm_stats v = vm_stats(ms, "esx01/big");
  g_assert_cmpfloat(v.swapin_pages, >, 0);
  g_assert_cmpfloat(v.swcur_mb, >, 600);
  g_assert_cmpfloat_with_epsilon(v.swap_stall_s, v.swapin_latency_sum_s, 1e-9 * v.swap_stall_s);
  /* Every swap-in met at least the bare service time and at most the worst tick's latency. */
  g_assert_cmpfloat(v.swap_stall_s / v.swapin_pages, >=, dsk_service_s(d));
  g_assert_cmpfloat(v.drag, >, 0);
  g_assert_cmpfloat(v.drag, <, 1);
  mem_free(ms);
}

/* A nested ESXi (12 GB, no balloon driver below it) whose three 4 GB guests have no balloon
 * driver either: it must swap them itself. On a 16 GB host beside an 8 GB guest that touches
 * all its memory, the host swaps too, random pages of the nested host among them; when the
 * nested host then picks a page to swap that the host already swapped, the host reads it back
 * only to have it written out again: double paging. On a 64 GB host nothing is swapped below
 * and there is none. */
static topo_scenario *nested_scenario(double host_gb) {
  topo_scenario *scn = t_scenario();
  topo_host *h = t_host(scn, "esx01", host_gb, "5.5");
  t_datastore(h, "datastore1", 2000, "ssd");
  topo_vm *n = t_nested(h, "vESX1", 4, 12);
  for (int i = 0; i < 3; i++) {
    g_autofree char *name = g_strdup_printf("vm%d", i + 1);
    topo_vm *l2 = t_vm(h, n, name, 1, 4, "linux64");
    l2->balloon = -1;
    t_busy(l2);
    t_mem(l2, 0.2, 1.0, 64, 0, 0);
  }
  topo_vm *hog = t_vm(h, NULL, "hog", 1, 8, "esxi5");
  t_busy(hog);
  t_mem(hog, 0, 1.0, 64, 0, 0);
  return scn;
}

static void test_nested_double_paging(void) {
  g_autoptr(topo_scenario) tight = nested_scenario(16);
  g_autoptr(topo_scenario) roomy = nested_scenario(64);
  mem_state *a = t_model(tight), *b = t_model(roomy);
  for (int t = 0; t < 1200; t++) {
    mem_tick(a, MEM_TICK_S);
    mem_tick(b, MEM_TICK_S);
  }
  /* Both nested hosts are overcommitted by their guests and swap them. */
  g_assert_cmpint(hv_stats(a, "esx01/vESX1").worst, >=, MEM_HARD);
  g_assert_cmpint(hv_stats(b, "esx01/vESX1").worst, >=, MEM_HARD);
  g_assert_cmpfloat(vm_stats(b, "esx01/vESX1/vm1").swapout_mb, >, 0);
  /* Only the small host swaps the nested host, and only there is there double paging. */
  g_assert_cmpfloat(vm_stats(a, "esx01/vESX1").swapout_mb, >, 0);
  g_assert_cmpfloat(vm_stats(b, "esx01/vESX1").swapout_mb, ==, 0);
  g_assert_cmpfloat(vm_stats(a, "esx01/vESX1").double_paged_mb, >, 0);
  g_assert_cmpfloat(vm_stats(b, "esx01/vESX1").double_paged_mb, ==, 0);
  /* The nested guests stall longer when the layer below swaps their hypervisor too. */
  g_assert_cmpfloat(vm_stats(a, "esx01/vESX1/vm1").swap_stall_s, >,
                    vm_stats(b, "esx01/vESX1/vm1").swap_stall_s);
  mem_free(a);
  mem_free(b);
}

/* ---- A nested host's memory reclaimed below it: its guests pay ----
 *
 * The pages a nested host's guests keep active are pages of the nested host at the layer
 * below. When that layer has compressed, swapped or never backed some of them, the guests'
 * touches fault there, and the stall is theirs (models/mem.c, tree_evaluate and tree_commit).
 * These scenarios leave the guests' own mem { } rate unset, as scenarios/nested-lab.lua does:
 * the default rate (the working set once per 60 s sampling period of execution) must be what
 * drives the faults. */

/* A nested host of 8 GB with two 3 GB guests that keep half their memory active; alone on a
 * host of host_gb with an HDD datastore. Inside, 8192 - 1024 (its ESXi) - 6144 - 2 x 41.06
 * (overheads) = 942 MB stay free, above its minFree of 409.6 (6% of 4096 + 4% of 4096), so
 * the nested host never reclaims (no double paging). Below, the host leaves the nested host
 * host_gb x 1024 - 1024 - minFree - its overhead: at 6 GB, 6144 - 1024 - 327.7 - 91.1 = 4701
 * MB of the 7250 it uses (test_nested_less_memory_more_stall). */
static topo_scenario *nested_reclaimed_scenario(double host_gb) {
  topo_scenario *scn = t_scenario();
  topo_host *h = t_host(scn, "esx01", host_gb, "5.5");
  t_datastore(h, "datastore1", 2000, "hdd");
  topo_vm *n = t_nested(h, "vESX1", 4, 8);
  for (int i = 0; i < 2; i++) {
    g_autofree char *name = g_strdup_printf("vm%d", i + 1);
    topo_vm *l2 = t_vm(h, n, name, 1, 3, "linux64");
    t_busy(l2);
    t_mem(l2, 0.5, 1.0, 0, 0, 0.5);
    l2->mem.touched_rate_bps = -1; /* not given */
  }
  return scn;
}

/* Conservation: every page the host swaps back in for the nested host was touched by one of
 * its guests, which waited the datastore's latency for it; every decompression cost 20 us.
 * So, summed over the guests, swap stall = the nested host's swap-ins x their latency
 * (swapin_latency_sum_s), and zip stall = its decompressed pages x 20 us, to rounding; two
 * identical guests touch at the same rate and pay alike. Before the fix the guests' rate was
 * 0 and all of it was 0. */
static void test_nested_reclaim_stalls_guests(void) {
  g_autoptr(topo_scenario) scn = nested_reclaimed_scenario(6);
  mem_state *ms = t_model(scn);
  for (int t = 0; t < 300; t++) mem_tick(ms, MEM_TICK_S);
  mem_vm_stats n = vm_stats(ms, "esx01/vESX1");
  mem_vm_stats g1 = vm_stats(ms, "esx01/vESX1/vm1"), g2 = vm_stats(ms, "esx01/vESX1/vm2");
  g_assert_cmpint(hv_stats(ms, "esx01").worst, >=, MEM_HARD);
  g_assert_cmpint(hv_stats(ms, "esx01/vESX1").worst, ==, MEM_HIGH);
  g_assert_cmpfloat(n.double_paged_mb, ==, 0);
  g_assert_cmpfloat(n.swapin_pages, >, 0);
  g_assert_cmpfloat(n.unzip_mb, >, 0);
  double swap = g1.swap_stall_s + g2.swap_stall_s, zip = g1.zip_stall_s + g2.zip_stall_s;
  g_assert_cmpfloat(swap, >, 0);
  g_assert_cmpfloat_with_epsilon(swap, n.swapin_latency_sum_s, 1e-9 * swap);
  double unzip_s = n.unzip_mb * (MB / 4096.0) * 20e-6;
  g_assert_cmpfloat_with_epsilon(zip, unzip_s, 1e-9 * zip);
  g_assert_cmpfloat_with_epsilon(g1.swap_stall_s, g2.swap_stall_s, 1e-9 * swap);
  /* The guests' own layer never swapped them: every stall came from below. */
  g_assert_cmpfloat(g1.swapin_pages + g2.swapin_pages, ==, 0);
  mem_free(ms);
}

/* Monotonicity: the less memory the host has, the more its nested host's guests stall (swap,
 * decompression and waiting for memory, per second of their execution), never less. The
 * nested host uses 1024 + 2 x 3072 + 2 x 41.06 (overheads of 3 GB, 1 vCPU) = 7250 MB; a host
 * of 8 GB leaves it 8192 - 1024 - 409.6 (minFree) - 91.09 (its overhead: 8 GB, 4 vCPUs) =
 * 6667 MB, so its guests stall; 9 GB leaves it 9216 - 1024 - 450.6 - 91.09 = 7650 MB, so from
 * 9 GB on nothing is reclaimed and the stall is exactly 0. */
static void test_nested_less_memory_more_stall(void) {
  const double sizes[] = {4, 5, 6, 7, 8, 9, 12};
  double prev = INFINITY;
  for (guint k = 0; k < G_N_ELEMENTS(sizes); k++) {
    g_autoptr(topo_scenario) scn = nested_reclaimed_scenario(sizes[k]);
    mem_state *ms = t_model(scn);
    for (int t = 0; t < 120; t++) mem_tick(ms, MEM_TICK_S);
    mem_reset(ms);
    for (int t = 0; t < 300; t++) mem_tick(ms, MEM_TICK_S);
    double stall = 0;
    for (int i = 1; i <= 2; i++) {
      g_autofree char *path = g_strdup_printf("esx01/vESX1/vm%d", i);
      mem_vm_stats g = vm_stats(ms, path);
      /* nominal execution: one busy vCPU for 300 s */
      stall += (g.swap_stall_s + g.zip_stall_s + g.wait_stall_s) / 300 / 2;
    }
    g_test_message("host %.0f GB: guests stalled %.2f%%", sizes[k], 100 * stall);
    g_assert_cmpfloat(stall, <=, prev);
    if (sizes[k] >= 9) g_assert_cmpfloat(stall, ==, 0);
    else g_assert_cmpfloat(stall, >, 0);
    prev = stall;
    mem_free(ms);
  }
}

/* The closed form of waiting for memory. A host whose memory is exactly its ESXi's 1 GB, a
 * fully reserved 4 GB guest and the two VMs' overheads has not one page left for a 2 GB nested
 * host, and can reclaim nothing (the reserved guest keeps its pages, the nested host has
 * none): the nested host is never backed. Its guest keeps W = 120 pages active with no rate
 * given, so it touches W / 60 = 2 pages per second of execution (one busy vCPU: 1 s per
 * tick), none of them out of reach at its own layer (cost 0, so all of its execution is
 * touching), and every touch lands on a page the host must first allocate and cannot:
 * n = 2 unserved touches a tick, the first blocks the vCPU to the tick's end, and with the
 * touches a Poisson stream the blocked share is 1 - (1 - e^-2) / 2 = 0.5677 of each second.
 * With 2 GB more the host backs the nested host fully and the guest never waits. */
static topo_scenario *unbacked_scenario(double extra_gb) {
  topo_scenario *scn = t_scenario();
  topo_host *h = t_host(scn, "esx01", 8, "5.5");
  topo_vm *pin = t_vm(h, NULL, "pinned", 1, 4, "linux64");
  pin->mem_reservation_bytes = pin->memory_bytes;
  t_mem(pin, 0, 1.0, 0, 0, 0.5); /* no page sharing: its machine memory never shrinks */
  topo_vm *n = t_nested(h, "vESX1", 2, 2);
  topo_vm *g = t_vm(h, n, "vm1", 1, 0.5, "linux64");
  t_busy(g);
  g->mem = (topo_memwl){.set = TRUE, .active_frac = -1, .active_bytes = 120 * 4096,
                        .footprint_frac = -1, .footprint_bytes = 120 * 4096,
                        .touched_rate_bps = -1, .share = 0, .compress = -1};
  h->memory_bytes = (uint64_t)(1 * GB) + pin->memory_bytes +
                    mem_overhead_bytes(pin->memory_bytes, 1) +
                    mem_overhead_bytes(n->memory_bytes, 2) + (uint64_t)(extra_gb * GB);
  return scn;
}

static void test_nested_unbacked_guest_waits(void) {
  const int ticks = 30;
  const double blocked = 1.0 - (1.0 - exp(-2.0)) / 2.0;
  for (int k = 0; k < 2; k++) {
    g_autoptr(topo_scenario) scn = unbacked_scenario(k == 0 ? 0 : 2);
    mem_state *ms = t_model(scn);
    for (int t = 0; t < ticks; t++) mem_tick(ms, MEM_TICK_S);
    mem_vm_stats n = vm_stats(ms, "esx01/vESX1"), g = vm_stats(ms, "esx01/vESX1/vm1");
    g_assert_cmpfloat(g.swap_stall_s + g.zip_stall_s, ==, 0);
    if (k == 0) {
      g_assert_cmpfloat(n.grant_mb + n.zip_mb + n.swcur_mb, ==, 0);
      g_assert_cmpfloat_with_epsilon(g.wait_stall_s, ticks * blocked, 1e-9 * ticks);
      g_assert_cmpfloat_with_epsilon(g.drag, blocked, 1e-9);
    } else {
      g_assert_cmpfloat(n.grant_mb, >, 1024);
      g_assert_cmpfloat(g.wait_stall_s, ==, 0);
      g_assert_cmpfloat(g.drag, ==, 0);
    }
    mem_free(ms);
  }
}

/* ---- The model in a run, and the capacity check ---- */

/* Driven by the engine for 60 s with 10 s intervals: six rows per VM, host and datastore, the
 * esxtop columns filled where they apply, and the summary values set at the end. */
static void test_model_in_engine(void) {
  g_autoptr(topo_scenario) scn = overcommit_scenario("esxi5");
  g_autoptr(met_table) met = met_table_new();
  sim_engine *eng = sim_engine_new();
  mdl_run run = {.eng = eng, .scn = scn, .met = met, .seed = 1, .warmup = 0,
                 .end = 60 * SIM_S};
  g_autoptr(GError) err = NULL;
  void *st = mem_model.create(&run, &err);
  g_assert_no_error(err);
  for (int k = 1; k <= 6; k++) {
    sim_run_until(eng, k * 10 * SIM_S);
    mem_model.sample(st, (k - 1) * 10 * SIM_S, k * 10 * SIM_S);
  }
  mem_model.finish(st, run.end);
  /* 4 VMs + 1 host + 1 datastore, 6 intervals. */
  g_assert_cmpuint(met_n_rows(met), ==, 6 * 6);
  gint64 vm1 = met_lookup(met, "esx01/vm1");
  g_assert_cmpint(vm1, >=, 0);
  gint64 memsz = -1;
  for (guint c = 0; c < met_n_columns(met); c++)
    if (!strcmp(met_column_name(met, c), "MEMSZ")) memsz = c;
  g_assert_cmpint(memsz, >=, 0);
  for (guint r = 0; r < met_n_rows(met); r++) {
    met_id e;
    const double *row = met_row_get(met, r, &e, NULL);
    if ((gint64)e == vm1) g_assert_cmpfloat(row[memsz], ==, 4096);
  }
  g_assert_nonnull(met_get_str(met, (met_id)met_lookup(met, "esx01"), "mem_state_worst"));
  g_assert_false(isnan(met_get_num(met, (met_id)vm1, "mem_swap_stall_s")));
  mem_model.destroy(st);
  sim_engine_free(eng);
}

/* The seed's lab: a 128 GB ESXi 5.5 box with vCenter (8 GB), AD (2 GB) and four 32 GB nested
 * ESXi hosts with 1 TB disks and a 15 GB vSAN disk each on the 10 GB SSD, each nested host
 * running four 4 GB guests of the given working set. */
static topo_scenario *seed_lab(double l2_active, gboolean thin_vsan, int l2_per_host) {
  topo_scenario *scn = t_scenario();
  topo_host *h = t_host(scn, "esx01", 128, "5.5");
  topo_datastore *hdd = t_datastore(h, "datastore1", 5 * 1024, "hdd");
  topo_datastore *ssd = t_datastore(h, "ssd1", 10, "ssd");
  topo_vm *vc = t_vm(h, NULL, "vcenter", 2, 8, "linux64");
  vc->disk_bytes = (uint64_t)(100 * GB);
  topo_vm *ad = t_vm(h, NULL, "ad", 1, 2, "windows64");
  ad->disk_bytes = (uint64_t)(40 * GB);
  for (int i = 0; i < 4; i++) {
    g_autofree char *name = g_strdup_printf("vESX%d", i + 1);
    topo_vm *n = t_nested(h, name, 4, 32);
    n->n_disks = 2;
    n->disks[0] = (topo_disk){.size_bytes = (uint64_t)(1024 * GB), .datastore = hdd};
    n->disks[1] = (topo_disk){.size_bytes = (uint64_t)(15 * GB), .datastore = ssd,
                              .provisioning = thin_vsan ? TOPO_THIN : TOPO_THICK};
    for (int j = 0; j < l2_per_host; j++) {
      g_autofree char *vname = g_strdup_printf("vm%d", j + 1);
      topo_vm *l2 = t_vm(h, n, vname, 1, 4, "linux64");
      t_busy(l2);
      t_mem(l2, l2_active, 1.0, 64, -1, -1);
    }
  }
  return scn;
}

/* The finding of `path` for its memory (storage FALSE) or for the space named `what` (a
 * datastore "[ssd1]", or "local disk"), or NULL. */
static const mem_finding *finding(GPtrArray *fs, const char *path, gboolean storage,
                                  const char *what) {
  for (guint i = 0; i < fs->len; i++) {
    const mem_finding *f = g_ptr_array_index(fs, i);
    if (!strcmp(f->path, path) && f->storage == storage &&
        (!what || strstr(f->number, what)))
      return f;
  }
  return NULL;
}

/* Check: four nested hosts whose guests keep 20% of 16 GB active touch at most 16 GB plus the
 * nested ESXi's own and overheads each, about 70 GB with vCenter and AD: the memory fits. The
 * four 15 GB vSAN disks, thick on the 10 GB SSD, do not (60 GB); thin they are provisioned
 * beyond it (tight: grow it by 60 - 10 = 50 GB). With eight 4 GB guests per nested host
 * keeping all of it active, each nested host cannot hold their working sets: 8 x 4096 = 32768
 * MB against the 32768 - 1024 (hypervisor) - 942.08 (minFree) - 8 x 48.64 (overheads) =
 * 30412.8 MB it has. The fix adds x whole GB: minFree of 32 + x GB is 942.08 + 10.24 x MB (the
 * 1% band), so 32768 <= 32768 + 1024 x - 1024 - 389.12 - 942.08 - 10.24 x needs
 * x >= 2355.2 / 1013.76 = 2.32: add 3 GB (35 GB in all). */
static void test_check_seed_lab(void) {
  g_autoptr(topo_scenario) fits = seed_lab(0.2, FALSE, 4);
  g_autoptr(GString) out = g_string_new(NULL);
  g_autoptr(GPtrArray) fs = g_ptr_array_new_with_free_func(mem_finding_free);
  mem_verdict v = mem_check(fits, out, fs);
  g_test_message("%s", out->str);
  g_assert_nonnull(strstr(out->str, "memory  esx01 (L0, ESXi 5.5): 128.0 GB"));
  g_assert_nonnull(strstr(out->str, "verdict: fits"));
  g_assert_nonnull(strstr(out->str, "storage esx01/[ssd1] (ssd): 10.0 GB"));
  g_assert_nonnull(strstr(out->str, "does not fit; fix:"));
  g_assert_cmpint(v, ==, MEM_NO_FIT);
  /* One memory finding per hypervisor (1 + 4), one per datastore (2) and per nested disk (4). */
  g_assert_cmpuint(fs->len, ==, 11);
  const mem_finding *f = finding(fs, "esx01", FALSE, NULL);
  g_assert_nonnull(f);
  g_assert_cmpint(f->layer, ==, 0);
  g_assert_cmpint(f->verdict, ==, MEM_FITS);
  g_assert_null(f->fix);
  f = finding(fs, "esx01/vESX3", FALSE, NULL);
  g_assert_nonnull(f);
  g_assert_cmpint(f->layer, ==, 1);
  g_assert_cmpint(f->verdict, ==, MEM_FITS);
  f = finding(fs, "esx01", TRUE, "[ssd1]");
  g_assert_nonnull(f);
  g_assert_cmpint(f->verdict, ==, MEM_NO_FIT);
  g_assert_nonnull(f->fix);
  f = finding(fs, "esx01/vESX1", TRUE, "local disk");
  g_assert_nonnull(f);
  g_assert_cmpint(f->verdict, ==, MEM_FITS);

  g_autoptr(topo_scenario) thin = seed_lab(0.2, TRUE, 4);
  g_string_truncate(out, 0);
  g_ptr_array_set_size(fs, 0);
  g_assert_cmpint(mem_check(thin, out, fs), ==, MEM_TIGHT);
  f = finding(fs, "esx01", TRUE, "[ssd1]");
  g_assert_cmpint(f->verdict, ==, MEM_TIGHT);
  g_assert_cmpstr(f->fix, ==, "grow [ssd1] by 50 GB, or move thin disks elsewhere, before the "
                              "guests write them full");

  g_autoptr(topo_scenario) full = seed_lab(1.0, TRUE, 8);
  g_string_truncate(out, 0);
  g_ptr_array_set_size(fs, 0);
  g_assert_cmpint(mem_check(full, out, fs), ==, MEM_NO_FIT);
  g_test_message("%s", out->str);
  g_assert_nonnull(strstr(out->str, "memory  esx01/vESX1 (L1, ESXi 5.5): 32.0 GB"));
  g_assert_nonnull(strstr(out->str, "active memory"));
  g_assert_nonnull(strstr(out->str, "fix: add"));
  f = finding(fs, "esx01/vESX2", FALSE, NULL);
  g_assert_cmpint(f->verdict, ==, MEM_NO_FIT);
  g_assert_true(g_str_has_prefix(f->fix, "add 3 GB to esx01/vESX2 (35 GB in all)"));
  /* Without a findings list the verdict and the text are the same. */
  g_autoptr(GString) again = g_string_new(NULL);
  g_assert_cmpint(mem_check(full, again, NULL), ==, MEM_NO_FIT);
  g_assert_cmpstr(again->str, ==, out->str);
}

/* ---- The scenario language ---- */

static topo_scenario *load_text(const char *text, GError **error) {
  return scn_load_string("mem.lua", text, strlen(text), NULL, error);
}

/* Every memory and storage key lands in the topology, in base units. */
static void test_scenario_memory_keys(void) {
  const char *text =
      "scenario { name = 'm', duration = '1min' }\n"
      "local ssd = datastore { name = 'ssd1', capacity = '100GB', type = 'ssd', latency = '0.2ms' }\n"
      "local h = host { name = 'esx01', cpu = { sockets = 1, cores = 4, threads = 1, ghz = 2 },\n"
      "  memory = '64GB', hypervisor = esxi { version = '5.5', own_memory = '2GB' },\n"
      "  datastores = { datastore { name = 'ds1', capacity = '2TB', spindles = 4 }, ssd } }\n"
      "vm { name = 'db', on = h, vcpus = 2, memory = '8GB', guest = 'linux64',\n"
      "  mem_reservation = '2GB', mem_limit = '6GB', mem_shares = 'high', balloon = false,\n"
      "  workload = { cpu { util = 1 }, mem { active = 0.5, footprint = '6GB', touched_rate = '64MB',\n"
      "                                       share = 0, compress = 0.25 } },\n"
      "  disks = { disk { size = '100GB', datastore = 'ds1' },\n"
      "            disk { size = '15GB', datastore = ssd, provisioning = 'thin', written = 0.2,\n"
      "                   iops = 50 } } }\n"
      "vm { name = 'web', on = h, memory = '4GB', workload = mem { preset = 'light' } }\n";
  g_autoptr(GError) err = NULL;
  g_autoptr(topo_scenario) scn = load_text(text, &err);
  g_assert_no_error(err);
  topo_host *h = g_ptr_array_index(scn->hosts, 0);
  g_assert_cmpuint(h->hypervisor->own_mem_bytes, ==, (uint64_t)(2 * GB));
  topo_datastore *ds1 = g_ptr_array_index(h->datastores, 0), *ssd = g_ptr_array_index(h->datastores, 1);
  g_assert_cmpint(ds1->servers, ==, 4);
  g_assert_cmpfloat_with_epsilon(ssd->service_s, 0.2e-3, 1e-12);
  topo_vm *db = g_ptr_array_index(h->vms, 0), *web = g_ptr_array_index(h->vms, 1);
  g_assert_cmpuint(db->mem_reservation_bytes, ==, (uint64_t)(2 * GB));
  g_assert_cmpuint(db->mem_limit_bytes, ==, (uint64_t)(6 * GB));
  /* high = 20 shares per MB of its 8192 MB */
  g_assert_cmpfloat(db->mem_shares, ==, 20.0 * 8192);
  g_assert_cmpint(db->balloon, ==, -1);
  g_assert_true(db->mem.set);
  g_assert_cmpfloat(db->mem.active_frac, ==, 0.5);
  g_assert_cmpuint(db->mem.footprint_bytes, ==, (uint64_t)(6 * GB));
  g_assert_cmpfloat(db->mem.touched_rate_bps, ==, 64 * MB);
  g_assert_cmpfloat(db->mem.share, ==, 0);
  g_assert_cmpfloat(db->mem.compress, ==, 0.25);
  g_assert_nonnull(db->workload);
  g_assert_cmpint(db->n_disks, ==, 2);
  g_assert_true(db->disks[0].datastore == ds1);
  g_assert_true(db->disks[1].datastore == ssd);
  g_assert_cmpint(db->disks[1].provisioning, ==, TOPO_THIN);
  g_assert_cmpfloat(db->disks[1].written_frac, ==, 0.2);
  g_assert_cmpfloat(db->disks[1].iops, ==, 50);
  g_assert_cmpstr(web->mem.preset, ==, "light");
  g_assert_null(web->workload);
  g_assert_cmpint(web->balloon, ==, 0);
}

/* Mistakes in the memory keys get the loader's one message grammar, all of them at once. */
static void test_scenario_memory_mistakes(void) {
  const char *text =
      "scenario { name = 'm', duration = '1min' }\n"
      "local h = host { name = 'esx01', cpu = { sockets = 1, cores = 4, threads = 1, ghz = 2 },\n"
      "  memory = '64GB', datastores = { datastore { name = 'ds1', capacity = '2TB' } } }\n"
      "local n = vm { name = 'vESX1', on = h, vcpus = 4, memory = '16GB', guest = 'esxi5',\n"
      "  expose_hw_virt = true, hypervisor = esxi { version = '5.5' } }\n"
      "vm { name = 'a', on = h, memory = '4GB', mem_reservation = '8GB' }\n"           /* 6 */
      "vm { name = 'b', on = h, memory = '4GB', workload = mem { active = 1.5 } }\n"   /* 7 */
      "vm { name = 'c', on = h, memory = '4GB', workload = { mem { }, mem { } } }\n"   /* 8 */
      "vm { name = 'd', on = h, memory = '4GB', disks = { disk { size = '1TB', datastore = 'nope' } } }\n"
      "vm { name = 'e', on = n, memory = '4GB', disks = { disk { size = '40GB', datastore = 'ds1' } } }\n"
      "vm { name = 'f', on = h, memory = '4GB', workload = mem { preset = 'hevy' } }\n";
  g_autoptr(GError) err = NULL;
  g_autoptr(topo_scenario) scn = load_text(text, &err);
  g_assert_null(scn);
  g_assert_error(err, SCN_ERROR, SCN_ERROR_INPUT);
  g_test_message("%s", err->message);
  g_assert_nonnull(strstr(err->message, "mem.lua:6: vm 'a': invalid 'mem_reservation': expected a size <= the VM's memory"));
  g_assert_nonnull(strstr(err->message, "mem.lua:7: mem: invalid 'active': expected a share of the VM's memory from 0 to 1"));
  g_assert_nonnull(strstr(err->message, "mem.lua:8: vm 'c': invalid 'workload'"));
  g_assert_nonnull(strstr(err->message, "mem.lua:9: disk: invalid 'datastore': datastore 'nope' is not on host 'esx01', where vm 'd' runs"));
  g_assert_nonnull(strstr(err->message, "mem.lua:10: disk: invalid 'datastore': vm 'e' runs on vESX1"));
  g_assert_nonnull(strstr(err->message, "mem.lua:11: mem: invalid 'preset': expected "));
}

static topo_scenario *load_shipped(const char *name, const char *key, const char *value) {
  const char *root = g_getenv("NESTSIM_SOURCE_ROOT");
  g_autofree char *path = g_build_filename(root ? root : ".", "scenarios", "memory", name, NULL);
  g_autoptr(GHashTable) set = g_hash_table_new(g_str_hash, g_str_equal);
  if (key) g_hash_table_insert(set, (gpointer)key, (gpointer)value);
  scn_options opts = {.set = set};
  g_autoptr(GError) err = NULL;
  topo_scenario *scn = scn_load_file(path, &opts, &err);
  g_assert_no_error(err);
  return scn;
}

/* The shipped sweep scenario, scenarios/memory/nested-active.lua, at its two sides of the knee
 * its comment derives (active = 0.90): at 0.85 the box never leaves the high state and no
 * guest stalls; at 0.95 the box must take memory from nested hosts without a balloon driver,
 * reaches hard and compresses and swaps pages that are almost all working sets: the guests
 * stall for most of their time. Two minutes of warm-up as in the file, then ten. */
static void test_scenario_nested_active_knee(void) {
  double stall[2];
  const char *actives[] = {"0.85", "0.95"};
  for (int k = 0; k < 2; k++) {
    g_autoptr(topo_scenario) scn = load_shipped("nested-active.lua", "active", actives[k]);
    mem_state *ms = t_model(scn);
    for (int t = 0; t < 120; t++) mem_tick(ms, MEM_TICK_S);
    mem_reset(ms);
    for (int t = 0; t < 600; t++) mem_tick(ms, MEM_TICK_S);
    mem_hv_stats h0 = hv_stats(ms, "esx01");
    mem_vm_stats v = vm_stats(ms, "esx01/vESX1/vm1");
    /* nominal execution: one busy vCPU, 600 s */
    stall[k] = (v.swap_stall_s + v.zip_stall_s) / 600;
    g_test_message("active %s: worst state %s, vm1 stalled %.1f%%", actives[k],
                   mem_level_name(h0.worst), 100 * stall[k]);
    if (k == 0) g_assert_cmpint(h0.worst, ==, MEM_HIGH);
    else g_assert_cmpint(h0.worst, >=, MEM_HARD);
    mem_free(ms);
  }
  g_assert_cmpfloat(stall[0], ==, 0);
  g_assert_cmpfloat(stall[1], >, 0.5);
}

/* scenarios/memory/overcommit.lua: with the balloon driver the host reclaims by ballooning
 * alone; without it, by swapping alone. */
static void test_scenario_overcommit_balloon(void) {
  const char *values[] = {"true", "false"};
  for (int k = 0; k < 2; k++) {
    g_autoptr(topo_scenario) scn = load_shipped("overcommit.lua", "balloon", values[k]);
    mem_state *ms = t_model(scn);
    for (int t = 0; t < 900; t++) mem_tick(ms, MEM_TICK_S);
    double bal = 0, sw = 0;
    for (int i = 1; i <= 4; i++) {
      g_autofree char *path = g_strdup_printf("esx01/vm%d", i);
      mem_vm_stats v = vm_stats(ms, path);
      bal += v.mctlsz_mb;
      sw += v.swcur_mb;
    }
    if (k == 0) {
      g_assert_cmpfloat(bal, >, 0);
      g_assert_cmpfloat(sw, ==, 0);
    } else {
      g_assert_cmpfloat(bal, ==, 0);
      g_assert_cmpfloat(sw, >, 0);
    }
    mem_free(ms);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/mem/tables/overhead-memory-sample-table", test_overhead_table);
  g_test_add_func("/mem/tables/minfree-sliding-scale", test_minfree_sliding_scale);
  g_test_add_func("/mem/tables/state-thresholds-5x-and-6x", test_state_thresholds);
  g_test_add_func("/disk/queue/mm1-wait-closed-form", test_disk_mm1);
  g_test_add_func("/disk/queue/erlang-c-against-explicit-sum", test_disk_erlang_c);
  g_test_add_func("/disk/space/thick-and-thin", test_disk_space);
  g_test_add_func("/mem/accounting/capacity-identity-every-tick-every-layer",
                  test_accounting_identity);
  g_test_add_func("/mem/fits/no-reclamation-no-stall", test_fits_no_swapping);
  g_test_add_func("/mem/overcommit/states-in-order-and-swapped-amount",
                  test_overcommit_states_and_swap);
  g_test_add_func("/mem/balloon/never-without-a-driver", test_balloon_only_with_driver);
  g_test_add_func("/mem/reservation/never-reclaimed", test_reservation_never_reclaimed);
  g_test_add_func("/mem/stall/swap-stall-is-swapins-times-mm1-latency",
                  test_swap_stall_matches_disk_latency);
  g_test_add_func("/mem/nested/double-paging-only-when-both-layers-swap",
                  test_nested_double_paging);
  g_test_add_func("/mem/nested/host-swapins-are-the-guests-stall",
                  test_nested_reclaim_stalls_guests);
  g_test_add_func("/mem/nested/less-host-memory-never-less-guest-stall",
                  test_nested_less_memory_more_stall);
  g_test_add_func("/mem/nested/unbacked-working-set-blocks-the-guest-closed-form",
                  test_nested_unbacked_guest_waits);
  g_test_add_func("/mem/model/rows-and-summary-in-a-run", test_model_in_engine);
  g_test_add_func("/mem/check/seed-lab-memory-and-datastores", test_check_seed_lab);
  g_test_add_func("/mem/scenario/memory-and-storage-keys", test_scenario_memory_keys);
  g_test_add_func("/mem/scenario/memory-key-mistakes", test_scenario_memory_mistakes);
  g_test_add_func("/mem/scenario/nested-active-knee", test_scenario_nested_active_knee);
  g_test_add_func("/mem/scenario/overcommit-balloon-or-swap", test_scenario_overcommit_balloon);
  return g_test_run();
}
