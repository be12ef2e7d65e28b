/* review.c — `nestsim check`: the lab review. Validates a scenario, prints its topology with
 * totals, then one verdict per host, layer and resource (cpu, memory, storage, network), each
 * with the number behind it and, when it is tight or does not fit, the change that fixes it.
 *
 * Everything is a closed form of the configuration: memory and storage come from models/mem.c
 * (mem_check), the network from models/net.c (net_check_findings), what ESXi refuses to power
 * on from models/virt.c (virt_resolve), and the CPU from the queueing model below. No event is
 * simulated, so a review of the seed lab takes milliseconds; `nestsim run` measures what the
 * review predicts.
 *
 * CPU: a hypervisor's CPUs as a finite-source queue (the machine-repairman model M/M/c//N).
 * A hypervisor with c CPUs (a physical host's logical CPUs, sockets x cores x threads, each a
 * CPU as the CPU model schedules them; a nested hypervisor's vCPUs) serves the N vCPUs of its
 * VMs that have work. Each vCPU alternates, as the scenario's cpu { util, period } workloads
 * do, between an idle gap T (wall time) and a burst of S of CPU time; u = S/(T+S) is its busy
 * fraction when it never waits: util x the virtualization slowdown of its chain
 * (models/virt.h virt_compute: an L2 vCPU asks for the executing time its exits and page walks
 * cost), at most 1. With exponential gaps and bursts and rho = S/T = u/(1-u), the number n of
 * vCPUs at the CPUs (running or ready) has the stationary law
 *
 *     p(n) ~ N!/(N-n)!/n! rho^n                  for n <= c,
 *     p(n) ~ N!/(N-n)!/(c! c^(n-c)) rho^n        for n >  c,
 *
 * so Lq = sum (n-c) p(n) vCPUs are ready on average and Ls = sum min(n,c) p(n) run. A burst
 * waits q = Lq/Ls of its own length on average (Little's law, per unit of service), and a vCPU
 * of busy fraction u is then ready
 *
 *     ready = u q / (1 + u q)                    of the wall time
 *
 * (its cycle is T + S + qS; for equal vCPUs this is Lq/N exactly). With N <= c no vCPU ever
 * waits; with N CPU-bound vCPUs (u = 1) on c < N CPUs each is ready (N-c)/N of the time, the
 * fair share. Unequal vCPUs are taken as N equal ones of the mean busy fraction for q (an
 * approximation: exact when they are equal), each then with its own u in the ready formula.
 * Idle vCPUs (u = 0) are not sources. We use the finite-source queue rather than the open M/M/c
 * (Erlang C) one because a lab has few vCPUs per CPU: Erlang C lets a hypervisor with as many
 * CPUs as vCPUs queue (the seed's nested hosts, four one-vCPU VMs on four vCPUs at 70% busy,
 * would be ready about half their time), where no vCPU can ever wait, as `nestsim run` shows.
 *
 * Nested hypervisors. An L1 hypervisor's vCPUs are its CPUs, but each runs only when L0 runs
 * it: a burst of L2 work holds the L1 vCPU for its own length plus the time the L1 vCPU waits
 * at L0, on average 1 + q0 times its length (q0 of the layer below, as above), and, deeper, the
 * stretch s of each layer multiplies: s1 = s0 (1 + q0), s0 = 1. At a layer of stretch s a
 * burst S holds a CPU for sS, so rho = s u/(1-u), and a vCPU is ready
 * s u q / ((1-u) + s u (1+q)) of its time (its cycle is T + sS + qsS). The nested
 * hypervisor's own vCPUs, as sources at the layer below, are busy with the executing time its
 * VMs ask (the sum of their u, spread over its vCPUs, at most 1 each). The nested overhead
 * (exit multiplication, two-dimensional page walks) is already in the leaf VMs' u through
 * virt_compute: the L1 handlers run on the L2 vCPU's executing time.
 *
 * What the closed form leaves out: co-scheduling (%CSTP of SMP VMs), shares, reservations and
 * limits (it is first come, first served), hyper-threading's slower sibling threads (a busy
 * core's two threads each run at 0.625 in the CPU model; here a thread is a full CPU, so on a
 * host busier than its core count the prediction is optimistic), and bursts that are not
 * exponential (fixed-length bursts wait less). `nestsim run` simulates all of them.
 *
 * Verdict thresholds (per vCPU, as esxtop shows %RDY): up to 5% fits, up to 10% is tight,
 * beyond does not fit. Sources: IBM Support, "Virtual machine CPU ready"
 * (www.ibm.com/support/pages/virtual-machine-cpu-ready, citing VMware KB 2002181 for the
 * conversion from vCenter's milliseconds): "Under normal operating conditions, this value
 * should remain under 5%"; and the common reading of VMware's esxtop guidance (Duncan Epping's
 * esxtop page, as summarised e.g. at virtuallyjason.blogspot.com/2013/02): below 5% not
 * noticeable, 5% to 10% noticeable, beyond 10% a serious problem. */
#include "src/review.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "src/cli.h"
#include "models/mem.h"
#include "models/net.h"
#include "models/virt.h"
#include "src/out.h"
#include "src/scn.h"
#include "src/topo.h"

#define REV_RDY_FITS 0.05  /* %RDY per vCPU up to which the CPU fits */
#define REV_RDY_TIGHT 0.10 /* ... up to which it is tight */

enum { RES_CPU, RES_MEMORY, RES_STORAGE, RES_NETWORK, RES_N };
static const char *const res_names[RES_N] = {"cpu", "memory", "storage", "network"};

const char *rev_level_name(rev_level level) {
  static const char *const names[] = {"fits", "tight", "does not fit"};
  g_assert(level <= REV_DOES_NOT_FIT);
  return names[level];
}

rev_level rev_worst(const GPtrArray *verdicts) {
  rev_level w = REV_FITS;
  for (guint i = 0; verdicts && i < verdicts->len; i++) {
    const rev_verdict *v = g_ptr_array_index(verdicts, i);
    if (v->level > w) w = v->level;
  }
  return w;
}

static void verdict_free(gpointer p) {
  rev_verdict *v = p;
  g_free(v->host);
  g_free(v->number);
  g_free(v->fix);
  g_free(v);
}

/* q = Lq/Ls of the finite-source queue (see the header comment): the mean wait of a burst per
 * unit of its length. The terms are summed in logarithms so that large N and rho neither
 * overflow nor lose the tail. */
double rev_wait_ratio(int cpus, int vcpus, double rho) {
  g_assert(cpus >= 0 && vcpus >= 0 && rho >= 0);
  if (vcpus <= cpus || rho <= 0) return 0;
  if (cpus == 0) return INFINITY;
  if (!isfinite(rho)) return (double)(vcpus - cpus) / cpus; /* always at the CPUs */
  g_autofree double *lt = g_new(double, (gsize)vcpus + 1);
  lt[0] = 0;
  double top = 0;
  for (int n = 1; n <= vcpus; n++) {
    lt[n] = lt[n - 1] + log((double)(vcpus - n + 1)) - log((double)MIN(n, cpus)) + log(rho);
    top = MAX(top, lt[n]);
  }
  double sum = 0, lq = 0, ls = 0;
  for (int n = 0; n <= vcpus; n++) {
    double w = exp(lt[n] - top);
    sum += w;
    lq += MAX(n - cpus, 0) * w;
    ls += MIN(n, cpus) * w;
  }
  return ls > 0 ? lq / ls : 0;
}

double rev_ready_fraction(double util, double stretch, double q) {
  if (util <= 0) return 0;
  return stretch * util * q / ((1 - util) + stretch * util * (1 + q));
}

/* ---- The hypervisors, in review order ---- */

typedef struct rv_hv {
  char *path;              /* "esx01", "esx01/vESX1" */
  int layer;
  const topo_host *host;
  const topo_vm *vm;       /* NULL for a physical host */
  const GPtrArray *vms;    /* the VMs it runs (may be NULL) */
  int cpus;
  double stretch;          /* s: wall time a unit of work holds one of its CPUs (>= 1) */
  GPtrArray *bucket[RES_N];
} rv_hv;

typedef struct rv_ctx {
  const topo_scenario *scn;
  GPtrArray *hvs;          /* rv_hv* in review order, owned */
  GHashTable *by_path;     /* path -> rv_hv* */
  GHashTable *failed;      /* const topo_vm* that cannot power on (set) */
  GHashTable *util;        /* const topo_vm* -> double* per-vCPU executing demand (owned) */
} rv_ctx;

static void hv_free(gpointer p) {
  rv_hv *h = p;
  g_free(h->path);
  for (int r = 0; r < RES_N; r++) g_ptr_array_unref(h->bucket[r]);
  g_free(h);
}

static rv_hv *hv_add(rv_ctx *c, const char *path, int layer, const topo_host *host,
                     const topo_vm *vm) {
  rv_hv *h = g_new0(rv_hv, 1);
  h->path = g_strdup(path);
  h->layer = layer;
  h->host = host;
  h->vm = vm;
  h->vms = vm ? vm->vms : host->vms;
  h->cpus = vm ? vm->vcpus : topo_host_pcpus(host);
  h->stretch = 1.0;
  for (int r = 0; r < RES_N; r++) h->bucket[r] = g_ptr_array_new_with_free_func(verdict_free);
  g_ptr_array_add(c->hvs, h);
  g_hash_table_insert(c->by_path, h->path, h);
  return h;
}

/* Every hypervisor, host by host and layer by layer: the physical host, then its nested
 * hypervisors of layer 1 in order, then those of layer 2, ... (breadth first). */
static void hv_collect(rv_ctx *c) {
  for (guint i = 0; i < c->scn->hosts->len; i++) {
    const topo_host *h = g_ptr_array_index(c->scn->hosts, i);
    guint first = c->hvs->len;
    hv_add(c, h->name, 0, h, NULL);
    for (guint k = first; k < c->hvs->len; k++) {
      const rv_hv *hv = g_ptr_array_index(c->hvs, k);
      for (guint j = 0; hv->vms && j < hv->vms->len; j++) {
        const topo_vm *vm = g_ptr_array_index(hv->vms, j);
        if (vm->hypervisor) hv_add(c, vm->path, vm->layer, h, vm);
      }
    }
  }
}

static rv_hv *hv_of_path(const rv_ctx *c, const char *path) {
  rv_hv *h = g_hash_table_lookup(c->by_path, path);
  if (!h)
    g_error("review.c: broken invariant: a model reported a verdict for '%s', which is no "
            "hypervisor of the scenario (check the path it builds against topo's)", path);
  return h;
}

/* The hypervisor that runs vm. */
static rv_hv *hv_running(const rv_ctx *c, const topo_vm *vm) {
  return hv_of_path(c, vm->parent ? vm->parent->path : vm->host->name);
}

static void add_verdict(rv_hv *h, int res, rev_level level, char *number, char *fix) {
  rev_verdict *v = g_new0(rev_verdict, 1);
  *v = (rev_verdict){.host = g_strdup(h->path), .layer = h->layer, .resource = res_names[res],
                     .level = level, .number = number, .fix = fix};
  g_ptr_array_add(h->bucket[res], v);
}

/* ---- Power-on: what ESXi refuses (models/virt.h) ---- */

/* A VM that cannot power on is a CPU verdict of the hypervisor that would run it. The message
 * of virt_resolve ends with its fix after the last "; ". */
static void poweron_vm(topo_vm *vm, void *user) {
  rv_ctx *c = user;
  if (vm->parent && g_hash_table_contains(c->failed, vm->parent)) {
    g_hash_table_add(c->failed, vm);
    return;
  }
  g_autoptr(GError) err = NULL;
  g_autoptr(virt_cpu) cpu = virt_cpu_for_host(vm->host, &err);
  gboolean ok = cpu != NULL;
  if (ok) {
    g_autofree virt_layer *chain = g_new(virt_layer, vm->layer);
    g_autofree virt_mode *modes = g_new(virt_mode, vm->layer);
    guint n = virt_chain_of(vm, chain);
    ok = virt_resolve(cpu, vm->host->name, chain, n, modes, NULL, &err);
  }
  if (ok) return;
  g_hash_table_add(c->failed, vm);
  const char *msg = err->message;
  const char *cut = g_strrstr(msg, "; ");
  char *number = cut ? g_strndup(msg, (gsize)(cut - msg)) : g_strdup(msg);
  char *fix = g_strdup(cut ? cut + 2 : "correct the VM's CPU settings as the message says");
  add_verdict(hv_running(c, vm), RES_CPU, REV_DOES_NOT_FIT, number, fix);
}

/* ---- CPU demand ---- */

/* The slowdown of a leaf VM's chain for its workload's profile (1 with overheads off). */
static double leaf_slowdown(const rv_ctx *c, const topo_vm *vm) {
  if (!c->scn->overheads) return 1.0;
  g_autoptr(GError) err = NULL;
  g_autoptr(virt_cpu) cpu = virt_cpu_for_host(vm->host, &err);
  virt_profile prof;
  const char *pname = vm->workload->profile ? vm->workload->profile : "cpu-only";
  if (!cpu || !virt_profile_preset(pname, &prof, &err))
    g_error("review.c: broken invariant: %s: the loader and virt_check let through %s",
            vm->where, err->message);
  const char *const *fields = virt_profile_field_names();
  for (guint i = 0; vm->workload->rates && fields[i]; i++)
    if (!isnan(vm->workload->rates[i]) &&
        !virt_profile_set(&prof, fields[i], vm->workload->rates[i], &err))
      g_error("review.c: broken invariant: %s: the loader let through %s", vm->where,
              err->message);
  g_autofree virt_layer *chain = g_new(virt_layer, vm->layer);
  guint n = virt_chain_of(vm, chain);
  virt_breakdown b;
  if (!virt_compute(cpu, vm->host->name, chain, n, &prof, &b, &err))
    g_error("review.c: broken invariant: %s powers on but its overhead cannot be computed: %s",
            vm->where, err->message);
  return b.slowdown;
}

/* The executing time each vCPU of vm asks of its hypervisor, as a fraction of wall time, in
 * [0, 1]: a leaf's busy fraction times its slowdown (a job keeps its vCPUs busy until it is
 * done); a nested hypervisor's, what its own VMs ask, spread over its vCPUs. */
static double vm_util(rv_ctx *c, const topo_vm *vm) {
  double *memo = g_hash_table_lookup(c->util, vm);
  if (memo) return *memo;
  double u = 0;
  if (g_hash_table_contains(c->failed, vm) || vm->vcpus <= 0) {
    u = 0;
  } else if (vm->hypervisor) {
    double sum = 0;
    for (guint i = 0; vm->vms && i < vm->vms->len; i++) {
      const topo_vm *g = g_ptr_array_index(vm->vms, i);
      sum += vm_util(c, g) * g->vcpus;
    }
    u = MIN(1.0, sum / vm->vcpus);
  } else if (vm->workload) {
    const topo_workload *w = vm->workload;
    double busy = w->kind == TOPO_WL_JOB ? 1.0 : w->per_vm ? w->util / vm->vcpus : w->util;
    u = busy > 0 ? MIN(1.0, busy * leaf_slowdown(c, vm)) : 0;
  }
  double *d = g_new(double, 1);
  *d = u;
  g_hash_table_insert(c->util, (gpointer)vm, d);
  return u;
}

/* The worst ready fraction of a vCPU among the VMs of h that power on, with `cpus` CPUs and
 * their busy fractions scaled by k (1: as configured, at most 1 each); *who: that VM, *q_out:
 * the wait ratio q of the layer. */
static double worst_ready(rv_ctx *c, const rv_hv *h, int cpus, double k, const topo_vm **who,
                          double *q_out) {
  int n = 0;
  double sum = 0;
  for (guint i = 0; h->vms && i < h->vms->len; i++) {
    const topo_vm *vm = g_ptr_array_index(h->vms, i);
    double u = MIN(1.0, k * vm_util(c, vm));
    if (u <= 0) continue;
    n += vm->vcpus;
    sum += u * vm->vcpus;
  }
  double mean = n ? sum / n : 0;
  double rho = mean >= 1 ? INFINITY : h->stretch * mean / (1 - mean);
  double q = rev_wait_ratio(cpus, n, rho), worst = 0;
  if (who) *who = NULL;
  for (guint i = 0; h->vms && i < h->vms->len; i++) {
    const topo_vm *vm = g_ptr_array_index(h->vms, i);
    double r = rev_ready_fraction(MIN(1.0, k * vm_util(c, vm)), h->stretch, q);
    if (r > worst) {
      worst = r;
      if (who) *who = vm;
    }
  }
  if (q_out) *q_out = q;
  return worst;
}

static rev_level ready_level(double r) {
  return r <= REV_RDY_FITS ? REV_FITS : r <= REV_RDY_TIGHT ? REV_TIGHT : REV_DOES_NOT_FIT;
}

/* The CPU verdict of one hypervisor; sets the stretch of the nested hypervisors it runs. */
static void cpu_review(rv_ctx *c, rv_hv *h) {
  int vcpus = 0;
  double demand = 0;
  for (guint i = 0; h->vms && i < h->vms->len; i++) {
    const topo_vm *vm = g_ptr_array_index(h->vms, i);
    if (g_hash_table_contains(c->failed, vm)) continue;
    vcpus += vm->vcpus;
    demand += vm_util(c, vm) * vm->vcpus;
  }
  const char *unit = h->vm ? (h->cpus == 1 ? "vCPU" : "vCPUs") : (h->cpus == 1 ? "CPU" : "CPUs");
  g_autoptr(GString) num = g_string_new(NULL);
  g_string_append_printf(num, "%d vCPU%s on %d %s (%.2f:1), demand %.1f %s", vcpus,
                         vcpus == 1 ? "" : "s", h->cpus, unit,
                         h->cpus > 0 ? (double)vcpus / h->cpus : 0.0, demand, unit);
  if (h->stretch > 1.0005)
    g_string_append_printf(num, " (x%.3f: its vCPUs wait below)", h->stretch);
  const topo_vm *who = NULL;
  double q = 0;
  double r = worst_ready(c, h, h->cpus, 1.0, &who, &q);
  rev_level level = ready_level(r);
  g_string_append_printf(num, "; predicted %%RDY %.1f%% per vCPU%s%s%s", 100 * r,
                         who ? " (" : "", who ? who->name : "", who ? ")" : "");
  char *fix = NULL;
  if (level != REV_FITS) {
    /* The smallest CPU count, and the largest share of today's demand, that bring the worst
     * vCPU back to 5%: each search is monotone (more CPUs or less demand, less waiting). */
    int more = 1;
    while (more < 1 << 16 && worst_ready(c, h, h->cpus + more, 1.0, NULL, NULL) > REV_RDY_FITS)
      more++;
    double lo = 0, hi = 1;
    for (int it = 0; it < 50; it++) {
      double mid = (lo + hi) / 2;
      if (worst_ready(c, h, h->cpus, mid, NULL, NULL) <= REV_RDY_FITS) lo = mid;
      else hi = mid;
    }
    int cut = (int)ceil(100 * (1 - lo));
    if (h->vm)
      fix = g_strdup_printf("give %s %d more vCPU%s (%d in all), or cut its VMs' CPU demand by "
                            "%d%%", h->vm->name, more, more == 1 ? "" : "s", h->cpus + more, cut);
    else
      fix = g_strdup_printf("add %d logical CPU%s to %s (%d in all), or cut its VMs' CPU demand "
                            "by %d%%", more, more == 1 ? "" : "s", h->path, h->cpus + more, cut);
  }
  add_verdict(h, RES_CPU, level, g_string_free(g_steal_pointer(&num), FALSE), fix);
  /* A unit of work handed to a nested hypervisor's vCPU holds it s (1 + q) units of time. */
  for (guint i = 0; h->vms && i < h->vms->len; i++) {
    const topo_vm *vm = g_ptr_array_index(h->vms, i);
    if (vm->hypervisor && !g_hash_table_contains(c->failed, vm))
      hv_of_path(c, vm->path)->stretch = h->stretch * (1 + q);
  }
}

/* ---- Memory, storage, network ---- */

static const rev_level mem_levels[] = {[MEM_FITS] = REV_FITS, [MEM_TIGHT] = REV_TIGHT,
                                       [MEM_NO_FIT] = REV_DOES_NOT_FIT};

static void mem_review(rv_ctx *c, GString *details) {
  g_autoptr(GPtrArray) fs = g_ptr_array_new_with_free_func(mem_finding_free);
  mem_check(c->scn, details, fs);
  for (guint i = 0; i < fs->len; i++) {
    mem_finding *f = g_ptr_array_index(fs, i);
    add_verdict(hv_of_path(c, f->path), f->storage ? RES_STORAGE : RES_MEMORY,
                mem_levels[f->verdict], g_steal_pointer(&f->number), g_steal_pointer(&f->fix));
  }
}

static const rev_level net_levels[] = {[NET_CHECK_FITS] = REV_FITS,
                                       [NET_CHECK_TIGHT] = REV_TIGHT,
                                       [NET_CHECK_NO_FIT] = REV_DOES_NOT_FIT};

/* Port groups that fit are summed up in one verdict per hypervisor; each that does not fit or
 * floods is a verdict of its own. A hypervisor without nested traffic on its port groups
 * fits. */
static void net_review(rv_ctx *c) {
  g_autoptr(GPtrArray) fs = g_ptr_array_new_with_free_func(net_finding_free);
  net_check_findings(c->scn, fs);
  for (guint k = 0; k < c->hvs->len; k++) {
    rv_hv *h = g_ptr_array_index(c->hvs, k);
    g_autoptr(GString) fine = g_string_new(NULL);
    guint n_fine = 0;
    double fps = 0;
    for (guint i = 0; i < fs->len; i++) {
      net_finding *f = g_ptr_array_index(fs, i);
      if (strcmp(f->host, h->path)) continue;
      if (f->level != NET_CHECK_FITS) {
        add_verdict(h, RES_NETWORK, net_levels[f->level], g_steal_pointer(&f->number),
                    g_steal_pointer(&f->fix));
        continue;
      }
      g_string_append_printf(fine, "%s'%s'", n_fine++ ? ", " : "", f->portgroup);
      fps += f->flood_fps;
    }
    if (n_fine)
      add_verdict(h, RES_NETWORK, REV_FITS,
                  g_strdup_printf("%u port group%s pass%s nested traffic (%s); %.0f unwanted "
                                  "flooded frames/s", n_fine, n_fine == 1 ? "" : "s",
                                  n_fine == 1 ? "es" : "", fine->str, fps),
                  NULL);
    else if (!h->bucket[RES_NETWORK]->len)
      add_verdict(h, RES_NETWORK, REV_FITS,
                  g_strdup("no nested hypervisor's uplink on its port groups"), NULL);
  }
}

/* ---- The review ---- */

static GPtrArray *review(const topo_scenario *scn, GString *details) {
  rv_ctx c = {
      .scn = scn,
      .hvs = g_ptr_array_new_with_free_func(hv_free),
      .by_path = g_hash_table_new(g_str_hash, g_str_equal),
      .failed = g_hash_table_new(NULL, NULL),
      .util = g_hash_table_new_full(NULL, NULL, NULL, g_free),
  };
  hv_collect(&c);
  topo_foreach_vm(scn, poweron_vm, &c);
  /* Parents before children: a nested hypervisor's stretch comes from the layer below. */
  for (guint k = 0; k < c.hvs->len; k++) cpu_review(&c, g_ptr_array_index(c.hvs, k));
  mem_review(&c, details);
  net_review(&c);
  GPtrArray *out = g_ptr_array_new_with_free_func(verdict_free);
  for (guint k = 0; k < c.hvs->len; k++) {
    rv_hv *h = g_ptr_array_index(c.hvs, k);
    /* A nested hypervisor that cannot power on runs nothing: its failure is the verdict. */
    if (h->vm && g_hash_table_contains(c.failed, h->vm)) continue;
    /* A physical host without datastores stores nothing the model knows of. */
    if (!h->vm && !h->bucket[RES_STORAGE]->len)
      add_verdict(h, RES_STORAGE, REV_FITS, g_strdup("no datastore declared"), NULL);
    for (int r = 0; r < RES_N; r++)
      while (h->bucket[r]->len) g_ptr_array_add(out, g_ptr_array_steal_index(h->bucket[r], 0));
  }
  g_ptr_array_unref(c.hvs);
  g_hash_table_unref(c.by_path);
  g_hash_table_unref(c.failed);
  g_hash_table_unref(c.util);
  return out;
}

GPtrArray *rev_review(const topo_scenario *scn) { return review(scn, NULL); }

/* ---- Output ---- */

/* "verdict: does not fit — 2 of 24 checks fail; first: esx01/vESX1 memory: ..." */
static char *overall_line(const GPtrArray *vs) {
  rev_level w = rev_worst(vs);
  guint n = 0;
  const rev_verdict *first = NULL;
  for (guint i = 0; i < vs->len; i++) {
    const rev_verdict *v = g_ptr_array_index(vs, i);
    if (v->level != w) continue;
    if (!n++) first = v;
  }
  if (w == REV_FITS) return g_strdup_printf("verdict: fits — all %u checks fit", vs->len);
  return g_strdup_printf("verdict: %s — %u of %u checks %s; first: %s %s: %s", rev_level_name(w),
                         n, vs->len, w == REV_TIGHT ? "are tight" : "fail", first->host,
                         first->resource, first->number);
}

static void print_table(FILE *f, const GPtrArray *vs) {
  int wh = 4;
  for (guint i = 0; i < vs->len; i++) {
    const rev_verdict *v = g_ptr_array_index(vs, i);
    wh = MAX(wh, (int)strlen(v->host));
  }
  fprintf(f, "%-*s  %-5s  %-8s  %-12s  %s\n", wh, "HOST", "LAYER", "RESOURCE", "VERDICT",
          "NUMBER / FIX");
  for (guint i = 0; i < vs->len; i++) {
    const rev_verdict *v = g_ptr_array_index(vs, i);
    g_autofree char *layer = g_strdup_printf("L%d", v->layer);
    fprintf(f, "%-*s  %-5s  %-8s  %-12s  %s\n", wh, v->host, layer, v->resource,
            rev_level_name(v->level), v->number);
    if (v->fix) fprintf(f, "%-*s  fix: %s\n", wh + 33, "", v->fix);
  }
}

/* A JSON string, or null for NULL (a verdict that fits has no fix). */
static void json_string(GString *out, const char *s) {
  if (s) out_json_string(out, s);
  else g_string_append(out, "null");
}

char *rev_json(const topo_scenario *scn, const GPtrArray *vs) {
  GString *out = g_string_new("{\n  \"scenario\": ");
  json_string(out, scn->name);
  g_string_append(out, ",\n  \"verdict\": ");
  json_string(out, rev_level_name(rev_worst(vs)));
  g_autofree char *line = overall_line(vs);
  g_string_append(out, ",\n  \"summary\": ");
  json_string(out, line);
  g_string_append(out, ",\n  \"verdicts\": [");
  for (guint i = 0; i < vs->len; i++) {
    const rev_verdict *v = g_ptr_array_index(vs, i);
    g_string_append(out, i ? ",\n    {\"host\": " : "\n    {\"host\": ");
    json_string(out, v->host);
    g_string_append_printf(out, ", \"layer\": %d, \"resource\": ", v->layer);
    json_string(out, v->resource);
    g_string_append(out, ", \"verdict\": ");
    json_string(out, rev_level_name(v->level));
    g_string_append(out, ", \"number\": ");
    json_string(out, v->number);
    g_string_append(out, ", \"fix\": ");
    json_string(out, v->fix);
    g_string_append_c(out, '}');
  }
  g_string_append(out, vs->len ? "\n  ]\n}\n" : "]\n}\n");
  return g_string_free(out, FALSE);
}

/* ---- The command ---- */

int rev_main(int argc, char **argv) {
  g_auto(GStrv) sets = NULL;
  g_autofree char *format = NULL;
  GOptionEntry entries[] = {
      {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set a scenario parameter", "NAME=VALUE"},
      {"format", 0, 0, G_OPTION_ARG_STRING, &format,
       "text (the topology, the details and the verdict table; default) or json (the verdicts)",
       "FORMAT"},
      {NULL}};
  g_autoptr(GOptionContext) ctx = g_option_context_new("SCENARIO");
  g_option_context_set_summary(
      ctx, "Reviews a lab: for every host at every layer, a verdict (fits / tight / does not "
           "fit) on CPU (vCPUs per CPU, predicted %RDY), memory (configured + overhead against "
           "capacity, predicted state), storage (provisioned against capacity, thick and thin) "
           "and network (port groups that drop or flood nested traffic), with the number "
           "behind it and the change that fixes it.\n\nExit status: 0 everything fits or is "
           "tight, 3 something does not fit, 2 bad input or usage.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) err = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) return cli_usage_error(ctx, "%s", err->message);
  if (argc != 2) return cli_usage_error(ctx, "check takes one scenario file");
  gboolean json = format && !strcmp(format, "json");
  if (format && !json && strcmp(format, "text"))
    return cli_usage_error(ctx, "--format must be text or json, not '%s'", format);
  g_autoptr(topo_scenario) scn = scn_load_file_sets(argv[1], sets, &err);
  if (!scn) {
    fprintf(stderr, "%s\n", err->message);
    return CLI_EXIT_USAGE;
  }
  /* Requested CPU/MMU modes ESXi would not give (models/virt.h): warnings on stderr. What it
   * refuses to power on is a verdict (poweron_vm), not repeated here. */
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
  virt_check_scenario(scn, errors, warnings);
  for (guint i = 0; i < warnings->len; i++)
    fprintf(stderr, "%s\n", (char *)g_ptr_array_index(warnings, i));
  g_autoptr(GString) details = g_string_new(NULL);
  g_autoptr(GPtrArray) vs = review(scn, details);
  if (json) {
    g_autofree char *text = rev_json(scn, vs);
    fputs(text, stdout);
  } else {
    g_autoptr(GString) tree = g_string_new(NULL);
    topo_print_tree(scn, tree);
    fputs(tree->str, stdout);
    fputs(details->str, stdout);
    fputc('\n', stdout);
    print_table(stdout, vs);
    g_autofree char *line = overall_line(vs);
    printf("\n%s\n", line);
  }
  return rev_worst(vs) == REV_DOES_NOT_FIT ? CLI_EXIT_NO_FIT : CLI_EXIT_OK;
}
