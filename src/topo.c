/* topo.c — releasing, walking and printing the topology tree of topo.h.
 *
 * The tree is built by the loader (scn.c) or by hand in tests; either way the scenario owns
 * every object below it, and the pointer arrays hold no free function of their own that this
 * file relies on: the free functions here release each element explicitly, after clearing
 * any free function the builder may have set, so a tree built either way is released exactly
 * once. */
#include "src/topo.h"

#include "src/units.h"

/* ---- Releasing ---------------------------------------------------------------------------- */

/* Frees a pointer array and every element with `fn`. A NULL array is fine. */
static void free_array(GPtrArray *a, GDestroyNotify fn) {
  if (!a) return;
  g_ptr_array_set_free_func(a, NULL);
  for (guint i = 0; i < a->len; i++)
    if (a->pdata[i]) fn(a->pdata[i]);
  g_ptr_array_unref(a);
}

/* Frees an array of non-owned pointers (members of a distributed switch). */
static void drop_array(GPtrArray *a) {
  if (!a) return;
  g_ptr_array_set_free_func(a, NULL);
  g_ptr_array_unref(a);
}

/* Adapters with the exact GDestroyNotify type, so no call goes through a cast function
 * pointer (which clang's -fsanitize=function rejects). */
static void free_portgroup_cb(void *p) { topo_portgroup_free(p); }
static void free_vm_cb(void *p) { topo_vm_free(p); }
static void free_vnic_cb(void *p) { topo_vnic_free(p); }
static void free_vswitch_cb(void *p) { topo_vswitch_free(p); }
static void free_nic_cb(void *p) { topo_nic_free(p); }
static void free_datastore_cb(void *p) { topo_datastore_free(p); }
static void free_host_cb(void *p) { topo_host_free(p); }
static void free_dvswitch_cb(void *p) { topo_dvswitch_free(p); }

void topo_hypervisor_free(topo_hypervisor *hv) {
  if (!hv) return;
  g_free(hv->version);
  g_free(hv->where);
  g_free(hv);
}

void topo_workload_free(topo_workload *w) {
  if (!w) return;
  g_free(w->profile);
  g_free(w->rates);
  g_free(w->where);
  g_free(w);
}

void topo_nic_free(topo_nic *n) {
  if (!n) return;
  g_free(n->name);
  g_free(n->where);
  g_free(n);
}

void topo_vnic_free(topo_vnic *n) {
  if (!n) return;
  g_free(n->name);
  g_free(n->type);
  g_free(n->mac);
  g_free(n->guest_mac);
  g_free(n->where);
  g_free(n);
}

/* issue 5: network extras. */
void topo_external_free(topo_external *x) {
  if (!x) return;
  g_free(x->name);
  g_free(x->mac);
  g_free(x->where);
  g_free(x);
}

void topo_traffic_free(topo_traffic *t) {
  if (!t) return;
  g_free(t->name);
  g_free(t->where);
  g_free(t);
}

static void free_external_cb(void *p) { topo_external_free(p); }
static void free_traffic_cb(void *p) { topo_traffic_free(p); }

void topo_portgroup_free(topo_portgroup *pg) {
  if (!pg) return;
  g_free(pg->name);
  g_free(pg->where);
  g_free(pg);
}

void topo_vswitch_free(topo_vswitch *s) {
  if (!s) return;
  g_free(s->name);
  free_array(s->uplinks, g_free);
  free_array(s->portgroups, free_portgroup_cb);
  g_free(s->where);
  g_free(s);
}

void topo_dvswitch_free(topo_dvswitch *s) {
  if (!s) return;
  g_free(s->name);
  drop_array(s->member_hosts);
  drop_array(s->member_vms);
  free_array(s->uplinks, g_free);
  free_array(s->portgroups, free_portgroup_cb);
  g_free(s->where);
  g_free(s);
}

void topo_datastore_free(topo_datastore *d) {
  if (!d) return;
  g_free(d->name);
  g_free(d->type);
  g_free(d->where);
  g_free(d);
}

/* Recursion depth is the nesting depth of hypervisors, which the loader caps (scn.c,
 * SCN_MAX_LAYERS), so the stack stays small. */
void topo_vm_free(topo_vm *vm) {
  if (!vm) return;
  g_free(vm->name);
  g_free(vm->path);
  g_free(vm->guest);
  topo_hypervisor_free(vm->hypervisor);
  free_array(vm->vms, free_vm_cb);
  free_array(vm->vnics, free_vnic_cb);
  free_array(vm->vswitches, free_vswitch_cb);
  topo_workload_free(vm->workload);
  g_free(vm->where);
  g_free(vm);
}

/* Frees a table whose keys and values the table owns as g_malloc'd memory, whether or not it
 * was made with destroy functions: everything is stolen first, then freed once. */
static void free_owned_table(GHashTable *t) {
  if (!t) return;
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func(g_free);
  GHashTableIter it;
  void *key, *value;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    g_ptr_array_add(owned, key);
    if (value) g_ptr_array_add(owned, value);
  }
  g_hash_table_steal_all(t);
  g_hash_table_unref(t);
}

void topo_host_free(topo_host *h) {
  if (!h) return;
  g_free(h->name);
  g_free(h->path);
  g_free(h->cpu_model);
  free_owned_table(h->cpu_overrides);
  topo_hypervisor_free(h->hypervisor);
  free_array(h->nics, free_nic_cb);
  free_array(h->datastores, free_datastore_cb);
  free_array(h->vswitches, free_vswitch_cb);
  free_array(h->vms, free_vm_cb);
  g_free(h->where);
  g_free(h);
}

void topo_scenario_free(topo_scenario *scn) {
  if (!scn) return;
  g_free(scn->name);
  g_free(scn->file);
  /* Switches first: they only point at hosts and VMs, never the other way round. */
  free_array(scn->dvswitches, free_dvswitch_cb);
  free_array(scn->hosts, free_host_cb);
  if (scn->params) g_hash_table_unref(scn->params);
  /* issue 5: traffic only borrows its vNICs and externals; freeing it reads neither. */
  free_array(scn->traffic, free_traffic_cb);
  free_array(scn->externals, free_external_cb);
  g_free(scn->network);
  g_free(scn);
}

/* ---- Walking ------------------------------------------------------------------------------ */

static void foreach_in(GPtrArray *vms, topo_vm_fn fn, void *user) {
  for (guint i = 0; vms && i < vms->len; i++) {
    topo_vm *vm = g_ptr_array_index(vms, i);
    fn(vm, user);
    foreach_in(vm->vms, fn, user);
  }
}

void topo_foreach_vm(const topo_scenario *scn, topo_vm_fn fn, void *user) {
  g_assert(scn != NULL && fn != NULL);
  for (guint i = 0; scn->hosts && i < scn->hosts->len; i++) {
    topo_host *h = g_ptr_array_index(scn->hosts, i);
    foreach_in(h->vms, fn, user);
  }
}

int topo_host_pcpus(const topo_host *h) {
  g_assert(h != NULL);
  /* The loader keeps each factor small (scn.c), but a hand-built host might not: saturate
   * instead of overflowing. */
  gint64 n = (gint64)h->sockets * h->cores * h->threads;
  return n > G_MAXINT ? G_MAXINT : (int)n;
}

/* ---- Printing ----------------------------------------------------------------------------- */

static const char *cosched_name(topo_cosched c) {
  switch (c) {
  case TOPO_COSCHED_NONE: return "none";
  case TOPO_COSCHED_STRICT: return "strict";
  case TOPO_COSCHED_RELAXED: return "relaxed";
  }
  return "?";
}

static const char *policy_name(topo_policy p) {
  switch (p) {
  case TOPO_POLICY_DEFAULT: return "default";
  case TOPO_POLICY_REJECT: return "reject";
  case TOPO_POLICY_ACCEPT: return "accept";
  }
  return "?";
}

static const char *cpu_mmu_name(topo_cpu_mmu m) {
  switch (m) {
  case TOPO_CPUMMU_AUTOMATIC: return "automatic";
  case TOPO_CPUMMU_SOFTWARE: return "software";
  case TOPO_CPUMMU_HW_CPU: return "hw-cpu";
  case TOPO_CPUMMU_HARDWARE: return "hardware";
  }
  return "?";
}

static void indent(GString *out, int depth) {
  for (int i = 0; i < depth; i++) g_string_append(out, "  ");
}

/* Appends a quantity in its largest unit ("32 GB"). */
static void append_unit(GString *out, unit_kind kind, double v) {
  g_autofree char *s = unit_format(kind, v);
  g_string_append(out, s);
}

static void append_hypervisor(GString *out, const topo_hypervisor *hv) {
  g_string_append_printf(out, "%s %s (quantum ", hv->kind == TOPO_HV_ESXI ? "esxi" : "kvm",
                         hv->version ? hv->version : "?");
  append_unit(out, UNIT_TIME, (double)hv->quantum_ns);
  g_string_append_printf(out, ", costop %s", cosched_name(hv->costop));
  if (hv->costop == TOPO_COSCHED_RELAXED) {
    g_string_append(out, ", skew ");
    append_unit(out, UNIT_TIME, (double)hv->skew_ns);
  }
  g_string_append(out, ")");
}

/* Appends "N vCPUs on M <cpus> = R per <cpu>; memory X of Y (P%)" for the VMs one hypervisor
 * runs: what it promises against what it has. */
static void append_totals(GString *out, int depth, GPtrArray *vms, double cpus,
                          const char *cpu_noun, double memory) {
  gint64 vcpus = 0;
  double mem = 0;
  for (guint i = 0; vms && i < vms->len; i++) {
    const topo_vm *vm = g_ptr_array_index(vms, i);
    vcpus += vm->vcpus;
    mem += (double)vm->memory_bytes;
  }
  indent(out, depth);
  g_string_append_printf(out, "totals: %" G_GINT64_FORMAT " vCPU%s on %.0f %s%s = %.2f per %s; "
                         "memory ", vcpus, vcpus == 1 ? "" : "s", cpus, cpu_noun,
                         cpus == 1 ? "" : "s", cpus > 0 ? (double)vcpus / cpus : 0.0, cpu_noun);
  append_unit(out, UNIT_BYTES, mem);
  g_string_append(out, " configured of ");
  append_unit(out, UNIT_BYTES, memory);
  g_string_append_printf(out, " (%.0f%%)\n", memory > 0 ? 100.0 * mem / memory : 0.0);
}

static void append_vswitches(GString *out, int depth, GPtrArray *switches) {
  for (guint i = 0; switches && i < switches->len; i++) {
    const topo_vswitch *s = g_ptr_array_index(switches, i);
    indent(out, depth);
    g_string_append_printf(out, "vswitch %s: uplinks", s->name);
    for (guint j = 0; s->uplinks && j < s->uplinks->len; j++)
      g_string_append_printf(out, "%s%s", j ? ", " : " ", (char *)s->uplinks->pdata[j]);
    if (!s->uplinks || !s->uplinks->len) g_string_append(out, " none");
    g_string_append(out, "\n");
    for (guint j = 0; s->portgroups && j < s->portgroups->len; j++) {
      const topo_portgroup *pg = g_ptr_array_index(s->portgroups, j);
      indent(out, depth + 1);
      g_string_append_printf(out, "portgroup %s: vlan %d, promiscuous %s, mac_changes %s, "
                             "forged_transmits %s\n", pg->name, pg->vlan,
                             policy_name(pg->promiscuous), policy_name(pg->mac_changes),
                             policy_name(pg->forged_transmits));
    }
  }
}

static void append_vm(GString *out, int depth, const topo_vm *vm) {
  indent(out, depth);
  g_string_append_printf(out, "vm %s (L%d): %d vCPU%s, ", vm->name, vm->layer, vm->vcpus,
                         vm->vcpus == 1 ? "" : "s");
  append_unit(out, UNIT_BYTES, (double)vm->memory_bytes);
  if (vm->disk_bytes) {
    g_string_append(out, ", disk ");
    append_unit(out, UNIT_BYTES, (double)vm->disk_bytes);
  }
  g_string_append_printf(out, ", %s, cpu_mmu %s", vm->guest ? vm->guest : "other",
                         cpu_mmu_name(vm->cpu_mmu));
  if (vm->expose_hw_virt) g_string_append(out, ", hw virt exposed");
  g_string_append_printf(out, ", shares %.0f", vm->shares);
  if (vm->reservation_hz > 0) {
    g_string_append(out, ", reservation ");
    append_unit(out, UNIT_FREQ, vm->reservation_hz);
  }
  if (vm->limit_hz >= 0) {
    g_string_append(out, ", limit ");
    append_unit(out, UNIT_FREQ, vm->limit_hz);
  }
  const topo_workload *w = vm->workload;
  if (w && w->kind == TOPO_WL_CPU) {
    g_string_append_printf(out, ", cpu util %g", w->util);
    if (w->util > 0 && w->util < 1) {
      g_string_append(out, " period ");
      append_unit(out, UNIT_TIME, (double)w->period_ns);
      g_string_append(out, w->dist == TOPO_DIST_EXP ? " exp" : " fixed");
    }
  } else if (w && w->kind == TOPO_WL_JOB) {
    g_string_append_printf(out, ", job %g s", w->work_s);
  }
  if (w) {
    if (w->per_vm) g_string_append(out, " per vm");
    if (w->profile) g_string_append_printf(out, " (%s)", w->profile);
  }
  for (guint i = 0; vm->vnics && i < vm->vnics->len; i++) {
    const topo_vnic *n = g_ptr_array_index(vm->vnics, i);
    g_string_append_printf(out, "%s%s %s", i ? ", " : "; vnics ", n->name, n->type);
    if (n->portgroup) g_string_append_printf(out, " on %s", n->portgroup->name);
  }
  g_string_append(out, "\n");
  if (vm->hypervisor) {
    indent(out, depth + 1);
    g_string_append(out, "hypervisor ");
    append_hypervisor(out, vm->hypervisor);
    g_string_append(out, "\n");
    append_totals(out, depth + 1, vm->vms, vm->vcpus, "vCPU", (double)vm->memory_bytes);
    append_vswitches(out, depth + 1, vm->vswitches);
    for (guint i = 0; vm->vms && i < vm->vms->len; i++)
      append_vm(out, depth + 1, g_ptr_array_index(vm->vms, i));
  }
}

/* Per-layer totals, gathered by one walk. */
typedef struct {
  gint64 vms, vcpus;
  double memory;
} layer_total;

static void count_layer(topo_vm *vm, void *user) {
  GArray *layers = user;
  if ((guint)vm->layer >= layers->len) g_array_set_size(layers, (guint)vm->layer + 1);
  layer_total *t = &g_array_index(layers, layer_total, vm->layer);
  t->vms++;
  t->vcpus += vm->vcpus;
  t->memory += (double)vm->memory_bytes;
}

/* ---- issue 5: external machines and traffic ---- */

static void append_end(GString *out, const topo_vnic *v, const topo_external *x) {
  if (v) g_string_append_printf(out, "%s/%s", v->vm && v->vm->path ? v->vm->path : "?",
                                v->name ? v->name : "?");
  else if (x) g_string_append_printf(out, "external %s", x->name);
  else g_string_append(out, "?");
}

static void append_network(GString *out, const topo_scenario *scn) {
  static const char *const patterns[] = {"constant", "poisson", "onoff"};
  for (guint i = 0; scn->externals && i < scn->externals->len; i++) {
    const topo_external *x = g_ptr_array_index(scn->externals, i);
    g_string_append_printf(out, "external %s: ", x->name);
    append_unit(out, UNIT_BITRATE, x->speed_bps);
    g_string_append_printf(out, ", vlan %d", x->vlan);
    if (x->mac) g_string_append_printf(out, ", mac %s", x->mac);
    g_string_append(out, "\n");
  }
  for (guint i = 0; scn->traffic && i < scn->traffic->len; i++) {
    const topo_traffic *t = g_ptr_array_index(scn->traffic, i);
    static const char *const kinds[] = {"traffic", "rr", "noise"};
    g_string_append_printf(out, "%s %s: ", kinds[t->kind], t->name);
    append_end(out, t->from_vnic, t->from_ext);
    if (t->kind == TOPO_TRAFFIC_NOISE) {
      g_string_append_printf(out, " -> broadcast, %g frames/s of ", t->rate);
    } else {
      g_string_append(out, " -> ");
      append_end(out, t->to_vnic, t->to_ext);
      g_string_append(out, ", ");
      if (t->kind == TOPO_TRAFFIC_STREAM) {
        append_unit(out, UNIT_BITRATE, t->rate);
        g_string_append(out, " in frames of ");
      } else {
        g_string_append_printf(out, "%g transactions/s of ", t->rate);
      }
    }
    /* Frame sizes in bytes, as Ethernet states them ("1500 B", not "1.465 KB"). */
    g_string_append_printf(out, "%u B%s, %s\n", t->frame_bytes,
                           t->exp_size ? " (mean, exponential)" : "", patterns[t->pattern]);
  }
}

void topo_print_tree(const topo_scenario *scn, GString *out) {
  g_assert(scn != NULL && out != NULL);
  g_string_append_printf(out, "scenario %s: duration ", scn->name ? scn->name : "?");
  append_unit(out, UNIT_TIME, (double)scn->duration_ns);
  g_string_append(out, ", warmup ");
  append_unit(out, UNIT_TIME, (double)scn->warmup_ns);
  g_string_append(out, ", interval ");
  append_unit(out, UNIT_TIME, (double)scn->interval_ns);
  g_string_append_printf(out, ", seed %" G_GUINT64_FORMAT ", overheads %s\n", scn->seed,
                         scn->overheads ? "on" : "off");

  for (guint i = 0; scn->hosts && i < scn->hosts->len; i++) {
    const topo_host *h = g_ptr_array_index(scn->hosts, i);
    g_string_append_printf(out, "host %s: %d socket%s x %d cores x %d threads = %d CPUs at ",
                           h->name, h->sockets, h->sockets == 1 ? "" : "s", h->cores, h->threads,
                           topo_host_pcpus(h));
    append_unit(out, UNIT_FREQ, h->hz);
    g_string_append(out, ", ");
    append_unit(out, UNIT_BYTES, (double)h->memory_bytes);
    if (h->cpu_model) g_string_append_printf(out, ", cpu model %s", h->cpu_model);
    g_string_append(out, "\n  hypervisor ");
    if (h->hypervisor) append_hypervisor(out, h->hypervisor);
    else g_string_append(out, "none");
    g_string_append(out, "\n");
    append_totals(out, 1, h->vms, topo_host_pcpus(h), "CPU", (double)h->memory_bytes);
    for (guint j = 0; h->nics && j < h->nics->len; j++) {
      const topo_nic *n = g_ptr_array_index(h->nics, j);
      g_string_append_printf(out, "%s%s ", j ? ", " : "  nics: ", n->name);
      append_unit(out, UNIT_BITRATE, n->speed_bps);
      if (j + 1 == h->nics->len) g_string_append(out, "\n");
    }
    for (guint j = 0; h->datastores && j < h->datastores->len; j++) {
      const topo_datastore *d = g_ptr_array_index(h->datastores, j);
      g_string_append_printf(out, "%s%s ", j ? ", " : "  datastores: ", d->name);
      append_unit(out, UNIT_BYTES, (double)d->capacity_bytes);
      g_string_append_printf(out, " %s", d->type ? d->type : "hdd");
      if (j + 1 == h->datastores->len) g_string_append(out, "\n");
    }
    append_vswitches(out, 1, h->vswitches);
    for (guint j = 0; h->vms && j < h->vms->len; j++) append_vm(out, 1, g_ptr_array_index(h->vms, j));
  }

  for (guint i = 0; scn->dvswitches && i < scn->dvswitches->len; i++) {
    const topo_dvswitch *s = g_ptr_array_index(scn->dvswitches, i);
    g_string_append_printf(out, "dvswitch %s: members", s->name);
    guint n = 0;
    for (guint j = 0; s->member_hosts && j < s->member_hosts->len; j++, n++)
      g_string_append_printf(out, "%s%s", n ? ", " : " ",
                             ((topo_host *)s->member_hosts->pdata[j])->path);
    for (guint j = 0; s->member_vms && j < s->member_vms->len; j++, n++)
      g_string_append_printf(out, "%s%s", n ? ", " : " ",
                             ((topo_vm *)s->member_vms->pdata[j])->path);
    if (!n) g_string_append(out, " none");
    g_string_append(out, "; uplinks");
    for (guint j = 0; s->uplinks && j < s->uplinks->len; j++)
      g_string_append_printf(out, "%s%s", j ? ", " : " ", (char *)s->uplinks->pdata[j]);
    if (!s->uplinks || !s->uplinks->len) g_string_append(out, " none");
    g_string_append_printf(out, "; mac learning %s\n", s->mac_learning ? "on" : "off");
    for (guint j = 0; s->portgroups && j < s->portgroups->len; j++) {
      const topo_portgroup *pg = g_ptr_array_index(s->portgroups, j);
      g_string_append_printf(out, "  dvportgroup %s: vlan %d, promiscuous %s, mac_changes %s, "
                             "forged_transmits %s\n", pg->name, pg->vlan,
                             policy_name(pg->promiscuous), policy_name(pg->mac_changes),
                             policy_name(pg->forged_transmits));
    }
  }

  append_network(out, scn); /* issue 5 */

  /* Per layer: L0 is the physical hosts, Lk the VMs at layer k. */
  g_autoptr(GArray) layers = g_array_new(FALSE, TRUE, sizeof(layer_total));
  topo_foreach_vm(scn, count_layer, layers);
  gint64 pcpus = 0;
  double hmem = 0;
  for (guint i = 0; scn->hosts && i < scn->hosts->len; i++) {
    const topo_host *h = g_ptr_array_index(scn->hosts, i);
    pcpus += topo_host_pcpus(h);
    hmem += (double)h->memory_bytes;
  }
  g_string_append_printf(out, "layers:\n  L0: %u host%s, %" G_GINT64_FORMAT " CPUs, ",
                         scn->hosts ? scn->hosts->len : 0,
                         scn->hosts && scn->hosts->len == 1 ? "" : "s", pcpus);
  append_unit(out, UNIT_BYTES, hmem);
  g_string_append(out, "\n");
  for (guint l = 1; l < layers->len; l++) {
    const layer_total *t = &g_array_index(layers, layer_total, l);
    g_string_append_printf(out, "  L%u: %" G_GINT64_FORMAT " VM%s, %" G_GINT64_FORMAT
                           " vCPUs, ", l, t->vms, t->vms == 1 ? "" : "s", t->vcpus);
    append_unit(out, UNIT_BYTES, t->memory);
    g_string_append(out, "\n");
  }
}
