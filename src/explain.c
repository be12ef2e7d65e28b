/* explain.c — `nestsim explain`: why one VM runs at the speed it does, in words and numbers.
 *
 * It runs the scenario in-process (nothing is written), then reads three things:
 *   - the chain: the VM, the nested hosts under it and the physical host, and at each level
 *     the share its hypervisor's settings promise it (shares, reservation and limit against
 *     its siblings' demands, water-filled) beside what that hypervisor measured (%RUN, %RDY,
 *     %CSTP, %MLMTD);
 *   - where its time went: the CPU model's attribution of every vCPU-second (models/cpu.c,
 *     attr_* and drag_*), refined with its bare-metal work, so that the causes add up to all of
 *     its time — and, idle left out, to all of the time it wanted a CPU (checked, not assumed);
 *   - the static model of its overheads (models/virt.h): each layer's resolved mode, exit
 *     multiplication and the parameters behind the costs with their sources.
 * The cost is one run of the scenario, the same as `nestsim run` without the files. */
#include "src/explain.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "src/cli.h"
#include "models/virt.h"
#include "src/met.h"
#include "src/run.h"
#include "src/out.h"
#include "src/scn.h"
#include "src/units.h"

G_DEFINE_QUARK(nestsim-explain-error-quark, xpl_error)

/* At most this many VM paths in an "unknown VM" message: enough to spot a typo, short enough
 * to read for a datacenter. */
enum { MAX_CANDIDATES = 40 };

/* ---- Finding the VM ------------------------------------------------------------------------ */

typedef struct find_ctx {
  const char *want;
  GPtrArray *all;   /* topo_vm*, every VM in walk order */
  GPtrArray *hits;  /* topo_vm* whose path is `want` or ends with "/" `want` */
  topo_vm *exact;
} find_ctx;

static void find_vm(topo_vm *vm, void *user) {
  find_ctx *f = user;
  g_ptr_array_add(f->all, vm);
  size_t lp = strlen(vm->path), lw = strlen(f->want);
  if (!strcmp(vm->path, f->want)) {
    f->exact = vm;
  } else if (lp > lw && vm->path[lp - lw - 1] == '/' && !strcmp(vm->path + lp - lw, f->want)) {
    g_ptr_array_add(f->hits, vm);
  }
}

static void list_paths(GString *s, GPtrArray *vms) {
  for (guint i = 0; i < vms->len && i < MAX_CANDIDATES; i++)
    g_string_append_printf(s, "\n  %s", ((topo_vm *)g_ptr_array_index(vms, i))->path);
  if (vms->len > MAX_CANDIDATES)
    g_string_append_printf(s, "\n  ... and %u more", vms->len - MAX_CANDIDATES);
}

static topo_vm *lookup_vm(const topo_scenario *scn, const char *want, GError **error) {
  g_autoptr(GPtrArray) all = g_ptr_array_new();
  g_autoptr(GPtrArray) hits = g_ptr_array_new();
  find_ctx f = {.want = want, .all = all, .hits = hits};
  topo_foreach_vm(scn, find_vm, &f);
  if (f.exact) return f.exact;
  if (hits->len == 1) return g_ptr_array_index(hits, 0);
  g_autoptr(GString) s = g_string_new(NULL);
  if (hits->len > 1) {
    g_string_printf(s, "VM '%s' is ambiguous in %s: %u VMs match; name one by its path:", want,
                    scn->file, hits->len);
    list_paths(s, hits);
    g_set_error_literal(error, XPL_ERROR, XPL_ERROR_AMBIGUOUS_VM, s->str);
    return NULL;
  }
  for (guint i = 0; i < scn->hosts->len; i++) {
    const topo_host *h = g_ptr_array_index(scn->hosts, i);
    if (!strcmp(h->name, want)) {
      g_string_printf(s, "'%s' is a physical host in %s, not a VM; its VMs are:", want,
                      scn->file);
      break;
    }
  }
  if (!s->len) g_string_printf(s, "no VM '%s' in %s; its VMs are:", want, scn->file);
  if (all->len == 0) g_string_append(s, " none");
  list_paths(s, all);
  g_set_error_literal(error, XPL_ERROR, XPL_ERROR_UNKNOWN_VM, s->str);
  return NULL;
}

/* ---- The share the settings promise --------------------------------------------------------- */

static double limit_cpus(const topo_vm *vm) {
  return vm->limit_hz >= 0 ? vm->limit_hz / vm->host->hz : -1.0;
}

static double reservation_cpus(const topo_vm *vm) {
  return MIN(vm->reservation_hz / vm->host->hz, (double)vm->vcpus);
}

static double demand_of(const topo_vm *vm);

/* What the VM can use at most: its demand, within its vCPUs and its limit. */
static double capped_demand(const topo_vm *vm) {
  double d = MIN(demand_of(vm), (double)vm->vcpus);
  double lim = limit_cpus(vm);
  return lim >= 0 ? MIN(d, lim) : d;
}

/* CPUs of its hypervisor's a VM would keep busy with no overheads and no contention: a leaf's
 * workload (util per vCPU; a job is CPU-bound until done), a nested host its guests' demands,
 * which its vCPUs bound. */
static double demand_of(const topo_vm *vm) {
  if (vm->hypervisor) {
    double d = 0;
    for (guint i = 0; i < vm->vms->len; i++) d += capped_demand(g_ptr_array_index(vm->vms, i));
    return MIN(d, (double)vm->vcpus);
  }
  const topo_workload *w = vm->workload;
  if (!w) return 0.0;
  if (w->kind == TOPO_WL_JOB) return vm->vcpus;
  return w->util * vm->vcpus;
}

/* Divides `cpus` among n VMs by weight w, each between floor[i] and cap[i] (floor <= cap):
 * everyone gets its cap when the caps fit; otherwise x_i = clamp(lambda w_i, floor_i, cap_i)
 * with lambda found by bisection so that the x_i fill the CPUs — proportional share with
 * reservations and limits, as a scheduler converges to it. OUT: x. */
static void water_fill(const double *cap, const double *floor_, const double *w, guint n,
                       double cpus, double *x) {
  double sum_cap = 0, sum_floor = 0, hi = 0;
  for (guint i = 0; i < n; i++) {
    sum_cap += cap[i];
    sum_floor += floor_[i];
    if (w[i] > 0) hi = MAX(hi, cap[i] / w[i]);
  }
  if (sum_cap <= cpus) {
    memcpy(x, cap, n * sizeof *x);
    return;
  }
  if (sum_floor >= cpus) {
    /* Reservations alone overcommit the CPUs (admission control would refuse it). */
    for (guint i = 0; i < n; i++) x[i] = floor_[i] * cpus / sum_floor;
    return;
  }
  double lo = 0;
  for (int it = 0; it < 200; it++) {
    double mid = 0.5 * (lo + hi), s = 0;
    for (guint i = 0; i < n; i++) s += CLAMP(mid * w[i], floor_[i], cap[i]);
    if (s < cpus) lo = mid;
    else hi = mid;
  }
  for (guint i = 0; i < n; i++) x[i] = CLAMP(hi * w[i], floor_[i], cap[i]);
}

static double num0(const met_table *met, met_id e, const char *key) {
  double v = met_get_num(met, e, key);
  return isnan(v) ? 0.0 : v;
}

static met_id entity_of(const met_table *met, const char *path) {
  gint64 e = met_lookup(met, path);
  if (e < 0)
    g_error("explain.c: broken invariant: the run reported nothing for '%s' (the CPU model "
            "registers every VM and host: check cpu_create)", path);
  return (met_id)e;
}

static xpl_level level_of(const topo_vm *vm, const met_table *met) {
  GPtrArray *sibs = vm->parent ? vm->parent->vms : vm->host->vms;
  int cpus = vm->parent ? vm->parent->vcpus : topo_host_pcpus(vm->host);
  guint n = sibs->len;
  g_autofree double *cap = g_new(double, n), *fl = g_new(double, n), *w = g_new(double, n),
                    *x = g_new(double, n);
  xpl_level L = {
      .vm = g_strdup(vm->path),
      .scheduler = g_strdup(vm->parent ? vm->parent->path : vm->host->path),
      .layer = vm->layer,
      .vcpus = vm->vcpus,
      .cpus = cpus,
      .siblings = (int)n,
      .shares = vm->shares,
      .reservation_cpus = reservation_cpus(vm),
      .limit_cpus = limit_cpus(vm),
      .demand_cpus = capped_demand(vm),
  };
  guint me = 0;
  for (guint i = 0; i < n; i++) {
    const topo_vm *s = g_ptr_array_index(sibs, i);
    if (s == vm) me = i;
    cap[i] = capped_demand(s);
    fl[i] = MIN(reservation_cpus(s), cap[i]);
    w[i] = s->shares;
    L.all_shares += s->shares;
    L.all_demand_cpus += cap[i];
  }
  water_fill(cap, fl, w, n, cpus, x);
  L.entitled_cpus = x[me];
  met_id e = entity_of(met, vm->path);
  L.run_pct = num0(met, e, "%RUN");
  L.rdy_pct = num0(met, e, "%RDY");
  L.cstp_pct = num0(met, e, "%CSTP");
  L.mlmtd_pct = num0(met, e, "%MLMTD");
  double asked = L.run_pct + L.rdy_pct + L.cstp_pct;
  L.got_frac = asked > 0 ? L.run_pct / asked : NAN;
  return L;
}

/* ---- Where the time went -------------------------------------------------------------------- */

static void add_cause(GArray *a, const char *key, const char *label, double seconds,
                      gboolean lost) {
  xpl_cause c = {.key = key, .label = label, .seconds = seconds, .lost = lost};
  g_array_append_val(a, c);
}

/* The causes of the VM's vCPU time from the CPU model's accounting. Each vCPU is in exactly
 * one state at its own hypervisor at every instant — running (%RUN), ready (%RDY - %MLMTD),
 * limited (%MLMTD), co-stopped (%CSTP) or waiting (%WAIT: idle) — so these add up to vCPUs x
 * run length. Running splits into executing (every layer below runs it too) and descheduled
 * below; executing into the drags of models/cpu.h and guest time; guest time into the
 * bare-metal work it achieved and the rest, lost to a thread slowed by its busy hyper-threading
 * sibling and to the drags of the nested hosts under it (vc_rate in models/cpu.c multiplies
 * them). */
static void causes_of(xpl_result *r, const topo_vm *vm, const met_table *met) {
  met_id e = entity_of(met, vm->path);
  double span = r->span_s, total = span * vm->vcpus;
  double run = num0(met, e, "%RUN") / 100 * span, rdy = num0(met, e, "%RDY") / 100 * span;
  double mlmtd = num0(met, e, "%MLMTD") / 100 * span, cstp = num0(met, e, "%CSTP") / 100 * span;
  double wait = num0(met, e, "%WAIT") / 100 * span, exec = num0(met, e, "exec_pct") / 100 * span;
  double work = num0(met, e, "work_s");
  static const char *const drag_keys[] = {"drag_l0_exit_s", "drag_l1_exit_s", "drag_page_walk_s",
                                          "drag_bt_s", "drag_mem_stall_s", "drag_net_s"};
  double drag[G_N_ELEMENTS(drag_keys)], drags = 0;
  for (guint i = 0; i < G_N_ELEMENTS(drag_keys); i++) drags += drag[i] = num0(met, e, drag_keys[i]);
  double guest = exec - drags;
  GArray *a = r->causes;
  if (r->hypervisor) {
    add_cause(a, "work", "its guests' work, in bare-metal core-seconds", work, FALSE);
    add_cause(a, "slow_exec", "its guests' overheads and hyper-threading (explain each guest)",
              guest - work, TRUE);
  } else {
    static const char *const slow_labels[2][2] = {
        {"slower execution (none expected: no hyper-threading, no nested host)",
         "slower execution: the nested hosts' own overhead"},
        {"slower execution: hyper-threading (a busy sibling thread)",
         "slower execution: hyper-threading and the nested hosts' own overhead"}};
    add_cause(a, "work", "guest work, in bare-metal core-seconds", work, FALSE);
    add_cause(a, "slow_exec", slow_labels[vm->host->threads > 1][vm->parent != NULL],
              guest - work, TRUE);
    /* How much of that the nested hosts' drags explain, from their mean drag over the run
     * (vc_rate multiplies the efficiencies at every instant; the mean is an estimate). */
    double keep = 1.0;
    for (const topo_vm *x = vm->parent; x; x = x->parent) {
      met_id p = entity_of(met, x->path);
      double x_exec = num0(met, p, "exec_pct") / 100 * span, x_drag = 0;
      for (guint i = 0; i < G_N_ELEMENTS(drag_keys); i++) x_drag += num0(met, p, drag_keys[i]);
      if (x_exec > 0) keep *= 1.0 - x_drag / x_exec;
    }
    r->slow_chain_est_s = guest * (1.0 - keep);
  }
  add_cause(a, "l0_exit", "VM exits handled by L0", drag[0], TRUE);
  add_cause(a, "l1_exit", "nested exits handled by L1 and up (exit multiplication)", drag[1],
            TRUE);
  add_cause(a, "page_walk", "extra page walks (2D EPT walks)", drag[2], TRUE);
  add_cause(a, "bt", "binary translation", drag[3], TRUE);
  add_cause(a, "mem_stall", "memory stalls (swap-ins, decompression)", drag[4], TRUE);
  add_cause(a, "net", "network work (frames sent, received, discarded)", drag[5], TRUE);
  add_cause(a, "ready", "ready: waiting for a CPU at its hypervisor (%RDY)", rdy - mlmtd, TRUE);
  add_cause(a, "limit", "held back by its limit (%MLMTD)", mlmtd, TRUE);
  add_cause(a, "costop", "co-stopped for its sibling vCPUs (%CSTP)", cstp, TRUE);
  add_cause(a, "desched",
            "descheduled below: its hypervisor ran it, a layer below did not run that vCPU",
            run - exec, TRUE);
  add_cause(a, "idle", "idle: nothing to do (%WAIT)", wait, FALSE);

  r->busy_s = total - wait;
  double sum = 0, sum_busy = 0;
  for (guint i = 0; i < a->len; i++) {
    xpl_cause *c = &g_array_index(a, xpl_cause, i);
    c->pct_time = c->seconds / total * 100;
    sum += c->pct_time;
    gboolean idle = !strcmp(c->key, "idle");
    c->pct_busy = idle || !(r->busy_s > 0) ? NAN : c->seconds / r->busy_s * 100;
    if (!idle) sum_busy += c->seconds;
  }
  /* The states partition every vCPU's time and each refinement splits one part in two, so
   * the causes must cover it exactly (up to rounding of summed nanoseconds). */
  if (fabs(sum - 100) > 1e-6 || fabs(sum_busy - r->busy_s) > 1e-9 * MAX(total, 1.0))
    g_error("explain.c: broken invariant: the causes of %s add up to %.9f%% of its time and "
            "%.9f of its %.9f busy vCPU-seconds; a state or drag of models/cpu.c is counted "
            "twice or not at all (check attr_of and the summary keys)",
            vm->path, sum, sum_busy, r->busy_s);
}

/* ---- The static model of the overheads ------------------------------------------------------ */

static void add_param(xpl_result *r, const virt_cpu *cpu, const char *name) {
  xpl_param p = {.name = name, .value = virt_cpu_get(cpu, name),
                 .source = virt_cpu_param_source(cpu, name)};
  g_array_append_val(r->params, p);
}

static gboolean mode_vt(virt_mode m) { return m == VIRT_MODE_HW_CPU || m == VIRT_MODE_HARDWARE; }

static void model_of(xpl_result *r, const topo_vm *vm) {
  g_autoptr(GError) err = NULL;
  g_autoptr(virt_cpu) cpu = virt_cpu_for_host(vm->host, &err);
  if (!cpu)
    g_error("explain.c: broken invariant: the run accepted host '%s' but its CPU cannot be "
            "built: %s (check virt_cpu_for_host)", vm->host->name, err->message);
  virt_profile prof;
  const char *pname = vm->workload->profile ? vm->workload->profile : "cpu-only";
  if (!virt_profile_preset(pname, &prof, &err))
    g_error("explain.c: broken invariant: %s: %s (the loader checks profile names)", vm->where,
            err->message);
  const char *const *fields = virt_profile_field_names();
  for (guint i = 0; vm->workload->rates && fields[i]; i++)
    if (!isnan(vm->workload->rates[i]) &&
        !virt_profile_set(&prof, fields[i], vm->workload->rates[i], &err))
      g_error("explain.c: broken invariant: %s: %s", vm->where, err->message);
  g_autofree virt_layer *chain = g_new(virt_layer, vm->layer);
  guint n = virt_chain_of(vm, chain);
  g_autofree virt_mode *modes = g_new(virt_mode, n);
  virt_breakdown b;
  if (!virt_resolve(cpu, vm->host->name, chain, n, modes, NULL, &err) ||
      !virt_compute(cpu, vm->host->name, chain, n, &prof, &b, &err))
    g_error("explain.c: broken invariant: the run accepted %s: %s (check virt_check_scenario)",
            vm->where, err->message);
  r->overheads = TRUE;
  r->cpu_model = g_strdup(virt_cpu_model(cpu));
  r->profile = g_strdup(pname);
  r->profile_source = virt_profile_source(pname);
  r->modes = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add(r->modes, g_strdup_printf("%s %s", chain[i].vm_name, virt_mode_name(modes[i])));
  r->exit_multiplication = b.exit_multiplication;
  r->l0_exits_per_s = b.l0_exits_per_s;
  const double f[5] = {b.guest, b.l0_exit, b.l1_exit, b.page_walk, b.bt};
  memcpy(r->frac, f, sizeof f);
  const double rates[8] = {prof.syscalls,   prof.page_faults, prof.pt_updates, prof.ctx_switches,
                           prof.tlb_misses, prof.io_exits,    prof.interrupts, prof.priv_ops};
  memcpy(r->rates, rates, sizeof rates);

  /* The parameters that the resolved modes make count, in virt_cpu_param_names() order. */
  virt_mode leaf = modes[n - 1];
  gboolean any_vt = FALSE;
  for (guint i = 0; i < n; i++) any_vt = any_vt || mode_vt(modes[i]);
  gboolean nested_vt = n >= 2 && mode_vt(leaf);
  r->params = g_array_new(FALSE, FALSE, sizeof(xpl_param));
  if (any_vt) add_param(r, cpu, "exit_cycles");
  if (leaf == VIRT_MODE_HW_CPU) {
    add_param(r, cpu, "hw_pf_cycles");
    add_param(r, cpu, "hw_ptu_cycles");
    add_param(r, cpu, "hw_ctxsw_cycles");
  }
  if (mode_vt(leaf)) {
    add_param(r, cpu, "hw_io_cycles");
    add_param(r, cpu, "hw_intr_cycles");
  }
  if (leaf == VIRT_MODE_SOFTWARE) {
    add_param(r, cpu, "bt_syscall_cycles");
    add_param(r, cpu, "bt_pf_cycles");
    add_param(r, cpu, "bt_ptu_cycles");
    add_param(r, cpu, "bt_ctxsw_cycles");
  }
  if (leaf == VIRT_MODE_HARDWARE) {
    add_param(r, cpu, "walk_refs_native");
    add_param(r, cpu, "walk_refs_2d");
    add_param(r, cpu, "walk_ref_cycles");
  }
  if (nested_vt) {
    add_param(r, cpu, "vmcs_shadowing");
    add_param(r, cpu, "vmcs_accesses_per_exit");
    add_param(r, cpu, "vmcs_access_cycles");
    add_param(r, cpu, "nested_switch_cycles");
  }
}

/* ---- Putting it together -------------------------------------------------------------------- */

static char *workload_words(const topo_vm *vm) {
  if (vm->hypervisor)
    return g_strdup_printf("a nested hypervisor running %u VMs", vm->vms->len);
  const topo_workload *w = vm->workload;
  if (!w) return g_strdup("idle (no workload)");
  const char *prof = w->profile ? w->profile : "cpu-only";
  if (w->kind == TOPO_WL_JOB)
    return g_strdup_printf("a job of %g bare-metal core-seconds %s, profile %s", w->work_s,
                           w->per_vm ? "split among its vCPUs" : "per vCPU", prof);
  if (w->util >= 1) return g_strdup_printf("CPU-bound on every vCPU (util 1), profile %s", prof);
  return g_strdup_printf("each vCPU busy %g of the time (util), profile %s", w->util, prof);
}

/* Appends v as a percentage with the precision that keeps small shares visible. */
static void append_pct(GString *s, double v) {
  if (fabs(v) >= 9.95) g_string_append_printf(s, "%.0f%%", v);
  else if (fabs(v) >= 0.095) g_string_append_printf(s, "%.1f%%", v);
  else g_string_append_printf(s, "%.2f%%", v);
}

static gint by_busy_desc(gconstpointer a, gconstpointer b) {
  const xpl_cause *x = *(const xpl_cause *const *)a, *y = *(const xpl_cause *const *)b;
  if (x->pct_busy != y->pct_busy) return x->pct_busy > y->pct_busy ? -1 : 1;
  return strcmp(x->key, y->key); /* a stable, input-independent order for ties */
}

static char *summary_of(const xpl_result *r) {
  g_autoptr(GString) s = g_string_new(NULL);
  g_string_append_printf(s, "%s gets %.2f of a core", r->name, r->got_cores);
  if (r->demand_cores > 0)
    g_string_append_printf(s, " for a demand of %.2f (%.0f%% of it)", r->demand_cores,
                           r->got_cores / r->demand_cores * 100);
  if (!(r->busy_s > 0)) {
    g_string_append(s, "; it never wanted a CPU.");
    return g_strdup(s->str);
  }
  const xpl_cause *work = &g_array_index(r->causes, xpl_cause, 0);
  g_string_append_printf(s, ": of the %.2f s it wanted a CPU, ", r->busy_s);
  append_pct(s, work->pct_busy);
  g_string_append(s, r->hypervisor ? " became its guests' work" : " became work");
  g_autoptr(GPtrArray) lost = g_ptr_array_new();
  for (guint i = 0; i < r->causes->len; i++) {
    const xpl_cause *c = &g_array_index(r->causes, xpl_cause, i);
    if (c->lost && c->pct_busy >= 0.005) g_ptr_array_add(lost, (gpointer)c);
  }
  g_ptr_array_sort(lost, by_busy_desc);
  static const struct { const char *key, *words; } short_words[] = {
      {"slow_exec", NULL}, /* below */
      {"l0_exit", "to L0 exits"},
      {"l1_exit", "to nested exits in L1"},
      {"page_walk", "to page walks"},
      {"bt", "to binary translation"},
      {"mem_stall", "to memory stalls"},
      {"net", "to network work"},
      {"ready", "ready at its hypervisor"},
      {"limit", "held by its limit"},
      {"costop", "co-stopped"},
      {"desched", "waiting for the nested hosts' vCPUs below"},
  };
  for (guint i = 0; i < lost->len; i++) {
    const xpl_cause *c = g_ptr_array_index(lost, i);
    g_string_append(s, i == 0 ? "; lost: " : ", ");
    append_pct(s, c->pct_busy);
    const char *words = NULL;
    for (guint k = 0; k < G_N_ELEMENTS(short_words); k++)
      if (!strcmp(short_words[k].key, c->key)) words = short_words[k].words;
    g_autofree char *wait_words = NULL;
    if (!strcmp(c->key, "desched") && r->layer == 2) {
      const char *parent = g_array_index(r->levels, xpl_level, 1).vm;
      words = wait_words =
          g_strdup_printf("waiting for %s's vCPUs at L0", strrchr(parent, '/') + 1);
    }
    if (!strcmp(c->key, "slow_exec"))
      words = r->hypervisor ? "to its guests' overheads and hyper-threading"
                            : "to slower execution (hyper-threading, the nested hosts' overhead)";
    g_assert(words);
    g_string_append_printf(s, " %s", words);
  }
  g_string_append_c(s, '.');
  return g_strdup(s->str);
}

xpl_result *xpl_explain(const topo_scenario *scn, const char *want, GError **error) {
  const topo_vm *vm = lookup_vm(scn, want, error);
  if (!vm) return NULL;
  g_autoptr(met_table) met = met_table_new();
  run_result res = {0};
  if (!run_scenario(scn, NULL, met, &res, error)) return NULL;
  g_assert(!res.trace);

  g_autoptr(xpl_result) r = g_new0(xpl_result, 1);
  r->scenario = g_strdup(scn->name);
  r->seed = scn->seed;
  r->span_s = (double)scn->duration_ns / 1e9;
  r->warmup_s = (double)scn->warmup_ns / 1e9;
  r->vm = g_strdup(vm->path);
  r->name = g_strdup(vm->name);
  r->layer = vm->layer;
  r->vcpus = vm->vcpus;
  r->hypervisor = vm->hypervisor != NULL;
  r->workload = workload_words(vm);
  r->workload_set = vm->workload != NULL;
  r->demand_cores = capped_demand(vm);
  met_id e = entity_of(met, vm->path);
  r->got_cores = num0(met, e, "effective_pct") / 100;
  r->completion_s = met_get_num(met, e, "completion_s");
  r->levels = g_array_new(FALSE, FALSE, sizeof(xpl_level));
  for (const topo_vm *x = vm; x; x = x->parent) {
    xpl_level L = level_of(x, met);
    g_array_append_val(r->levels, L);
  }
  r->causes = g_array_new(FALSE, FALSE, sizeof(xpl_cause));
  causes_of(r, vm, met);

  const topo_host *h = vm->host;
  r->host = g_strdup(h->path);
  r->host_cpu = g_strdup_printf("%d socket%s x %d core%s x %d thread%s, %.4g GHz", h->sockets,
                                h->sockets == 1 ? "" : "s", h->cores, h->cores == 1 ? "" : "s",
                                h->threads, h->threads == 1 ? "" : "s", h->hz * 1e-9);
  r->host_threads = h->threads;
  r->host_util_pct = num0(met, entity_of(met, h->path), "%UTIL");
  if (scn->overheads && !vm->hypervisor && vm->workload) model_of(r, vm);
  r->summary = summary_of(r);
  return g_steal_pointer(&r);
}

void xpl_result_free(xpl_result *r) {
  if (!r) return;
  for (guint i = 0; r->levels && i < r->levels->len; i++) {
    g_free(g_array_index(r->levels, xpl_level, i).vm);
    g_free(g_array_index(r->levels, xpl_level, i).scheduler);
  }
  if (r->levels) g_array_unref(r->levels);
  if (r->causes) g_array_unref(r->causes);
  if (r->params) g_array_unref(r->params);
  if (r->modes) g_ptr_array_unref(r->modes);
  g_free(r->scenario);
  g_free(r->vm);
  g_free(r->name);
  g_free(r->workload);
  g_free(r->host);
  g_free(r->host_cpu);
  g_free(r->cpu_model);
  g_free(r->profile);
  g_free(r->summary);
  g_free(r);
}

/* ---- Text ------------------------------------------------------------------------------------ */

static const char *const frac_names[5] = {"guest", "L0 exits", "L1 exits", "page walks", "BT"};
static const char *const frac_keys[5] = {"guest", "l0_exit", "l1_exit", "page_walk", "bt"};

static const xpl_cause *cause(const xpl_result *r, const char *key) {
  for (guint i = 0; i < r->causes->len; i++)
    if (!strcmp(g_array_index(r->causes, xpl_cause, i).key, key))
      return &g_array_index(r->causes, xpl_cause, i);
  g_assert_not_reached();
}

static void text_level(GString *o, const xpl_result *r, guint i) {
  const xpl_level *L = &g_array_index(r->levels, xpl_level, i);
  const char *name = strrchr(L->vm, '/') ? strrchr(L->vm, '/') + 1 : L->vm;
  g_string_append_printf(o, "  L%d %s on %s's hypervisor (%d CPU%s there):\n", L->layer, name,
                         L->scheduler, L->cpus, L->cpus == 1 ? "" : "s");
  g_string_append_printf(o, "     shares %g of %g among %d VM%s (%.1f%%)", L->shares,
                         L->all_shares, L->siblings, L->siblings == 1 ? "" : "s",
                         L->shares / L->all_shares * 100);
  if (L->reservation_cpus > 0)
    g_string_append_printf(o, "; reservation %.3g CPUs", L->reservation_cpus);
  else
    g_string_append(o, "; no reservation");
  if (L->limit_cpus >= 0) g_string_append_printf(o, "; limit %.3g CPUs", L->limit_cpus);
  else g_string_append(o, "; no limit");
  g_string_append(o, ".\n");
  g_string_append_printf(o,
                         "     the scenario's demand: %.2f CPUs of %d (all its VMs: %.2f); "
                         "fair share by these settings: %.2f CPUs%s.\n",
                         L->demand_cpus, L->cpus, L->all_demand_cpus, L->entitled_cpus,
                         L->all_demand_cpus <= L->cpus ? " (uncontended)" : " (contended)");
  g_string_append_printf(o,
                         "     measured by its hypervisor: %%RUN %.1f, %%RDY %.1f, %%CSTP %.1f, "
                         "%%MLMTD %.1f",
                         L->run_pct, L->rdy_pct, L->cstp_pct, L->mlmtd_pct);
  if (!isnan(L->got_frac))
    g_string_append_printf(o, ": it held a CPU %.1f%% of the time it asked for one.\n",
                           L->got_frac * 100);
  else
    g_string_append(o, ": it never asked for a CPU.\n");
  if (i == 0 && r->layer >= 2) {
    const xpl_cause *d = cause(r, "desched");
    double run = L->run_pct / 100 * r->span_s;
    g_string_append_printf(o,
                           "     of the %.2f s %s ran it, the layers below ran that vCPU %.1f%% "
                           "(%.2f s descheduled below).\n",
                           run, L->scheduler, run > 0 ? (run - d->seconds) / run * 100 : 0.0,
                           d->seconds);
  }
}

void xpl_format_text(const xpl_result *r, GString *o) {
  g_string_append_printf(o,
                         "Why %s runs at the speed it does — scenario %s, seed %" G_GUINT64_FORMAT
                         ", %.4g s after %.4g s of warm-up.\n\n",
                         r->vm, r->scenario, r->seed, r->span_s, r->warmup_s);
  g_string_append_printf(o, "%s: L%d, %d vCPU%s, %s.\n", r->name, r->layer, r->vcpus,
                         r->vcpus == 1 ? "" : "s", r->workload);
  g_string_append_printf(o,
                         "It got %.3f of a bare-metal core (effective_pct %.1f) for a demand of "
                         "%.3f",
                         r->got_cores, r->got_cores * 100, r->demand_cores);
  if (r->demand_cores > 0)
    g_string_append_printf(o, ": %.1f%% of its demand.\n", r->got_cores / r->demand_cores * 100);
  else
    g_string_append(o, ".\n");
  if (!isnan(r->completion_s))
    g_string_append_printf(o, "Its job completed at %.3f s.\n", r->completion_s);

  g_string_append(o, "\nThe chain, from the VM down to the hardware:\n");
  for (guint i = 0; i < r->levels->len; i++) text_level(o, r, i);
  g_string_append_printf(o, "  L0 %s: %s; its threads were busy %.1f%% of the time (%%UTIL).\n",
                         r->host, r->host_cpu, r->host_util_pct);

  g_string_append_printf(o,
                         "\nWhere its time went: %d vCPU%s x %.4g s = %.2f vCPU-seconds, of "
                         "which it wanted a CPU for %.2f s (busy):\n",
                         r->vcpus, r->vcpus == 1 ? "" : "s", r->span_s, r->span_s * r->vcpus,
                         r->busy_s);
  g_string_append_printf(o, "  %-78s %9s %7s %7s\n", "cause", "seconds", "% time", "% busy");
  double t = 0, b = 0;
  for (guint i = 0; i < r->causes->len; i++) {
    const xpl_cause *c = &g_array_index(r->causes, xpl_cause, i);
    t += c->pct_time;
    if (!isnan(c->pct_busy)) b += c->pct_busy;
    g_string_append_printf(o, "  %-78s %9.2f %7.2f ", c->label, c->seconds, c->pct_time);
    if (isnan(c->pct_busy)) g_string_append_printf(o, "%7s\n", "-");
    else g_string_append_printf(o, "%7.2f\n", c->pct_busy);
  }
  g_string_append_printf(o, "  %-78s %9.2f %7.2f %7.2f\n", "total", r->span_s * r->vcpus, t, b);
  const xpl_cause *slow = cause(r, "slow_exec");
  /* Split only where both parts can exist and the bucket shows in the table's precision. */
  if (!r->hypervisor && r->layer >= 2 && r->host_threads > 1 && slow->seconds >= 0.005)
    g_string_append_printf(o,
                           "  of the %.2f s of slower execution, about %.2f s is the nested hosts' "
                           "own overhead (their mean drags over the run) and %.2f s "
                           "hyper-threading.\n",
                           slow->seconds, r->slow_chain_est_s, slow->seconds - r->slow_chain_est_s);

  if (!r->overheads && !r->hypervisor && r->workload_set)
    g_string_append(o,
                    "\nVirtualization overheads are off in this scenario (overheads = false).\n");
  if (r->overheads) {
    double exec = 0;
    static const char *const measured_keys[5] = {NULL, "l0_exit", "l1_exit", "page_walk", "bt"};
    for (guint i = 0; i < r->causes->len; i++) {
      const xpl_cause *c = &g_array_index(r->causes, xpl_cause, i);
      if (strcmp(c->key, "ready") && strcmp(c->key, "limit") && strcmp(c->key, "costop") &&
          strcmp(c->key, "desched") && strcmp(c->key, "idle"))
        exec += c->seconds;
    }
    g_string_append_printf(o,
                           "\nThe overhead model (models/virt.c) on CPU %s, profile %s (%s):\n",
                           r->cpu_model, r->profile, r->profile_source);
    g_string_append(o, "  modes, L1 first:");
    for (guint i = 0; i < r->modes->len; i++)
      g_string_append_printf(o, "%s %s", i ? "," : "", (char *)g_ptr_array_index(r->modes, i));
    if (r->exit_multiplication > 0)
      g_string_append_printf(o,
                             ".\n  %.4g hardware exits per exit of its guest (exit "
                             "multiplication), %.4g L0 exits per executing second.\n",
                             r->exit_multiplication, r->l0_exits_per_s);
    else
      g_string_append(o, ".\n  its guest makes no hardware VM exits in this mode.\n");
    g_string_append(o, "  of each executing second, the model / this run:");
    for (int k = 0; k < 5; k++) {
      double meas = NAN;
      if (k == 0 && exec > 0)
        meas = (cause(r, "work")->seconds + cause(r, "slow_exec")->seconds) / exec;
      else if (k > 0 && exec > 0)
        meas = cause(r, measured_keys[k])->seconds / exec;
      g_string_append_printf(o, "%s %s %.4f / %.4f", k ? "," : "", frac_names[k], r->frac[k],
                             meas);
    }
    g_string_append(o, " (the run's guest share is also cut by memory stalls and network work).\n");
    g_string_append(o, "  workload rates per bare-metal second:");
    const char *const *fields = virt_profile_field_names();
    for (int k = 0; k < 8 && fields[k]; k++)
      g_string_append_printf(o, "%s %s %g", k ? "," : "", fields[k], r->rates[k]);
    g_string_append(o, ".\n  parameters:\n");
    for (guint i = 0; i < r->params->len; i++) {
      const xpl_param *p = &g_array_index(r->params, xpl_param, i);
      g_string_append_printf(o, "    %s = %g — %s\n", p->name, p->value, p->source);
    }
  }
  g_string_append_printf(o, "\nIn one line: %s\n", r->summary);
}

/* ---- JSON ------------------------------------------------------------------------------------ */

/* Numbers in the shortest form that reads back exactly; NAN and infinities as null. */
static void json_num(GString *o, double v) {
  if (!isfinite(v)) {
    g_string_append(o, "null");
    return;
  }
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append(o, g_ascii_dtostr(buf, sizeof buf, v));
}

static void json_key(GString *o, const char *k, gboolean first) {
  if (!first) g_string_append_c(o, ',');
  out_json_string(o, k);
  g_string_append_c(o, ':');
}

static void json_kn(GString *o, const char *k, double v) {
  json_key(o, k, FALSE);
  json_num(o, v);
}

static void json_ks(GString *o, const char *k, const char *v) {
  json_key(o, k, FALSE);
  out_json_string(o, v);
}

void xpl_format_json(const xpl_result *r, GString *o) {
  g_string_append_c(o, '{');
  json_key(o, "scenario", TRUE);
  out_json_string(o, r->scenario);
  json_kn(o, "seed", (double)r->seed);
  json_kn(o, "duration_s", r->span_s);
  json_kn(o, "warmup_s", r->warmup_s);
  json_ks(o, "vm", r->vm);
  json_kn(o, "layer", r->layer);
  json_kn(o, "vcpus", r->vcpus);
  json_ks(o, "workload", r->workload);
  json_kn(o, "demand_cores", r->demand_cores);
  json_kn(o, "got_cores", r->got_cores);
  json_kn(o, "got_of_demand", r->demand_cores > 0 ? r->got_cores / r->demand_cores : NAN);
  json_kn(o, "completion_s", r->completion_s);
  json_kn(o, "busy_s", r->busy_s);
  json_kn(o, "slow_exec_nested_est_s", r->slow_chain_est_s);
  json_key(o, "chain", FALSE);
  g_string_append_c(o, '[');
  for (guint i = 0; i < r->levels->len; i++) {
    const xpl_level *L = &g_array_index(r->levels, xpl_level, i);
    g_string_append(o, i ? ",{" : "{");
    json_key(o, "vm", TRUE);
    out_json_string(o, L->vm);
    json_ks(o, "scheduler", L->scheduler);
    json_kn(o, "layer", L->layer);
    json_kn(o, "vcpus", L->vcpus);
    json_kn(o, "cpus", L->cpus);
    json_kn(o, "siblings", L->siblings);
    json_kn(o, "shares", L->shares);
    json_kn(o, "all_shares", L->all_shares);
    json_kn(o, "reservation_cpus", L->reservation_cpus);
    json_kn(o, "limit_cpus", L->limit_cpus >= 0 ? L->limit_cpus : NAN);
    json_kn(o, "demand_cpus", L->demand_cpus);
    json_kn(o, "all_demand_cpus", L->all_demand_cpus);
    json_kn(o, "entitled_cpus", L->entitled_cpus);
    json_kn(o, "%RUN", L->run_pct);
    json_kn(o, "%RDY", L->rdy_pct);
    json_kn(o, "%CSTP", L->cstp_pct);
    json_kn(o, "%MLMTD", L->mlmtd_pct);
    json_kn(o, "got_frac", L->got_frac);
    g_string_append_c(o, '}');
  }
  g_string_append_c(o, ']');
  json_key(o, "host", FALSE);
  g_string_append_c(o, '{');
  json_key(o, "path", TRUE);
  out_json_string(o, r->host);
  json_ks(o, "cpu", r->host_cpu);
  json_kn(o, "%UTIL", r->host_util_pct);
  g_string_append_c(o, '}');
  json_key(o, "causes", FALSE);
  g_string_append_c(o, '[');
  for (guint i = 0; i < r->causes->len; i++) {
    const xpl_cause *c = &g_array_index(r->causes, xpl_cause, i);
    g_string_append(o, i ? ",{" : "{");
    json_key(o, "key", TRUE);
    out_json_string(o, c->key);
    json_ks(o, "label", c->label);
    json_kn(o, "seconds", c->seconds);
    json_kn(o, "pct_time", c->pct_time);
    json_kn(o, "pct_busy", c->pct_busy);
    json_key(o, "lost", FALSE);
    g_string_append(o, c->lost ? "true" : "false");
    g_string_append_c(o, '}');
  }
  g_string_append_c(o, ']');
  json_key(o, "model", FALSE);
  if (!r->overheads) {
    g_string_append(o, "null");
  } else {
    g_string_append_c(o, '{');
    json_key(o, "cpu", TRUE);
    out_json_string(o, r->cpu_model);
    json_ks(o, "profile", r->profile);
    json_ks(o, "profile_source", r->profile_source);
    json_key(o, "modes", FALSE);
    g_string_append_c(o, '[');
    for (guint i = 0; i < r->modes->len; i++) {
      if (i) g_string_append_c(o, ',');
      out_json_string(o, g_ptr_array_index(r->modes, i));
    }
    g_string_append_c(o, ']');
    json_kn(o, "exit_multiplication", r->exit_multiplication);
    json_kn(o, "l0_exits_per_s", r->l0_exits_per_s);
    json_key(o, "fractions", FALSE);
    g_string_append_c(o, '{');
    for (int k = 0; k < 5; k++) {
      json_key(o, frac_keys[k], k == 0);
      json_num(o, r->frac[k]);
    }
    g_string_append_c(o, '}');
    json_key(o, "rates", FALSE);
    g_string_append_c(o, '{');
    const char *const *fields = virt_profile_field_names();
    for (int k = 0; k < 8 && fields[k]; k++) {
      json_key(o, fields[k], k == 0);
      json_num(o, r->rates[k]);
    }
    g_string_append_c(o, '}');
    json_key(o, "params", FALSE);
    g_string_append_c(o, '[');
    for (guint i = 0; i < r->params->len; i++) {
      const xpl_param *p = &g_array_index(r->params, xpl_param, i);
      g_string_append(o, i ? ",{" : "{");
      json_key(o, "name", TRUE);
      out_json_string(o, p->name);
      json_kn(o, "value", p->value);
      json_ks(o, "source", p->source);
      g_string_append_c(o, '}');
    }
    g_string_append(o, "]}");
  }
  json_ks(o, "summary", r->summary);
  g_string_append(o, "}\n");
}

/* ---- The command ----------------------------------------------------------------------------- */

int xpl_main(int argc, char **argv) {
  g_auto(GStrv) sets = NULL;
  g_autofree char *seed_text = NULL, *duration_text = NULL, *format = NULL;
  GOptionEntry entries[] = {
      {"seed", 0, 0, G_OPTION_ARG_STRING, &seed_text, "Run seed (overrides the scenario's)", "N"},
      {"duration", 0, 0, G_OPTION_ARG_STRING, &duration_text,
       "Simulated time after warm-up, e.g. 2min", "T"},
      {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Set a scenario parameter", "NAME=VALUE"},
      {"format", 'f', 0, G_OPTION_ARG_STRING, &format, "text (default) or json", "FMT"},
      {NULL}};
  g_autoptr(GOptionContext) ctx = g_option_context_new("SCENARIO VM");
  g_option_context_set_summary(
      ctx, "Runs the scenario (writing nothing) and says why VM runs at the speed it does: the "
           "chain of layers under it, its share at each, and where its time went by cause.\n"
           "VM is a path (esx01/vESX1/vm1), the tail of one (vESX1/vm1) or a unique name.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) err = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) return cli_usage_error(ctx, "%s", err->message);
  if (argc != 3) return cli_usage_error(ctx, "explain takes a scenario file and a VM");
  gboolean json = FALSE;
  if (format && !strcmp(format, "json")) json = TRUE;
  else if (format && strcmp(format, "text"))
    return cli_usage_error(ctx, "--format: expected text or json, got \"%s\"", format);
  guint64 seed = 0;
  if (seed_text && !g_ascii_string_to_unsigned(seed_text, 10, 0, G_MAXUINT64, &seed, NULL))
    return cli_usage_error(ctx, "--seed: expected an integer >= 0, got \"%s\"", seed_text);
  double duration = 0;
  if (duration_text) {
    g_autofree char *why = NULL;
    if (!unit_parse(UNIT_TIME, duration_text, &duration, &why) || duration < 1)
      return cli_usage_error(ctx, "--duration: %s, got \"%s\"", why ? why : "expected a time > 0",
                         duration_text);
  }
  g_autoptr(topo_scenario) scn = scn_load_file_sets(argv[1], sets, &err);
  if (!scn) {
    fprintf(stderr, "%s\n", err->message);
    return CLI_EXIT_USAGE;
  }
  if (seed_text) scn->seed = seed;
  if (duration_text) scn->duration_ns = (gint64)duration;
  g_autoptr(xpl_result) r = xpl_explain(scn, argv[2], &err);
  if (!r) {
    fprintf(stderr, "nestsim: %s\n", err->message);
    return err->domain == XPL_ERROR || err->domain == SCN_ERROR ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
  }
  g_autoptr(GString) out = g_string_new(NULL);
  if (json) xpl_format_json(r, out);
  else xpl_format_text(r, out);
  fputs(out->str, stdout);
  return CLI_EXIT_OK;
}
