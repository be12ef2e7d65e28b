/* test-net.c — the network model (models/net.c) against what the vSphere documentation says a
 * switch does with each frame, against conservation, and against queueing closed forms.
 *
 * Topologies are built in C (topo.h is plain data; topo_scenario_free releases a tree built by
 * hand) with a net_spec of their own, so each test states exactly what the model gets; one
 * test loads the shipped comparison scenario and checks it is the hand-built lab. */
#include <math.h>
#include <string.h>

#include "models/cpu.h"
#include "models/net.h"
#include "sim/engine.h"
#include "src/met.h"
#include "src/scn.h"
#include "src/topo.h"

/* ---- Building topologies --------------------------------------------------------------------- */

static topo_scenario *scn_new(void) {
  topo_scenario *s = g_new0(topo_scenario, 1);
  s->name = g_strdup("test-net");
  s->file = g_strdup("test-net.lua");
  s->duration_ns = SIM_S;
  s->interval_ns = SIM_S;
  s->seed = 1;
  s->hosts = g_ptr_array_new();
  s->dvswitches = g_ptr_array_new();
  s->params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return s;
}

static topo_hypervisor *esxi(void) {
  topo_hypervisor *hv = g_new0(topo_hypervisor, 1);
  hv->kind = TOPO_HV_ESXI;
  hv->version = g_strdup("5.5");
  hv->quantum_ns = 50 * SIM_MS;
  hv->costop = TOPO_COSCHED_RELAXED;
  hv->skew_ns = 3 * SIM_MS;
  return hv;
}

static int next_line = 1;

static char *where(void) { return g_strdup_printf("test-net.lua:%d", next_line++); }

static topo_host *host_new(topo_scenario *s, const char *name) {
  topo_host *h = g_new0(topo_host, 1);
  h->name = g_strdup(name);
  h->path = g_strdup(name);
  h->sockets = 1;
  h->cores = 8;
  h->threads = 1;
  h->hz = 2.6e9;
  h->memory_bytes = (uint64_t)128 << 30;
  h->hypervisor = esxi();
  h->nics = g_ptr_array_new();
  h->datastores = g_ptr_array_new();
  h->vswitches = g_ptr_array_new();
  h->vms = g_ptr_array_new();
  h->where = where();
  g_ptr_array_add(s->hosts, h);
  return h;
}

static void nic_new(topo_host *h, const char *name, double bps) {
  topo_nic *n = g_new0(topo_nic, 1);
  n->name = g_strdup(name);
  n->speed_bps = bps;
  n->host = h;
  n->where = where();
  g_ptr_array_add(h->nics, n);
}

static GPtrArray *names1(const char *name) {
  GPtrArray *a = g_ptr_array_new();
  if (name) g_ptr_array_add(a, g_strdup(name));
  return a;
}

/* A standard vSwitch on host h or on nested hypervisor vm, with one uplink (or none). */
static topo_vswitch *vswitch_new(topo_host *h, topo_vm *vm, const char *name, const char *uplink) {
  topo_vswitch *s = g_new0(topo_vswitch, 1);
  s->name = g_strdup(name);
  s->host = vm ? NULL : h;
  s->vm = vm;
  s->uplinks = names1(uplink);
  s->portgroups = g_ptr_array_new();
  s->where = where();
  g_ptr_array_add(vm ? vm->vswitches : h->vswitches, s);
  return s;
}

/* A port group with its policy, for a vSwitch (`s`) or a dvSwitch (`d`): exactly one given. */
static topo_portgroup *pg_add(topo_vswitch *s, topo_dvswitch *d, const char *name, int vlan,
                              topo_policy p, topo_policy m, topo_policy f) {
  topo_portgroup *pg = g_new0(topo_portgroup, 1);
  pg->name = g_strdup(name);
  pg->vlan = vlan;
  pg->promiscuous = p;
  pg->mac_changes = m;
  pg->forged_transmits = f;
  pg->distributed = d != NULL;
  pg->owner = d ? (void *)d : (void *)s;
  pg->where = where();
  g_ptr_array_add(d ? d->portgroups : s->portgroups, pg);
  return pg;
}

static topo_portgroup *pg_new(topo_vswitch *s, const char *name, int vlan, topo_policy p,
                              topo_policy m, topo_policy f) {
  return pg_add(s, NULL, name, vlan, p, m, f);
}

static topo_dvswitch *dvs_new(topo_scenario *s, const char *name, const char *uplink,
                              bool learning) {
  topo_dvswitch *d = g_new0(topo_dvswitch, 1);
  d->name = g_strdup(name);
  d->member_hosts = g_ptr_array_new();
  d->member_vms = g_ptr_array_new();
  d->uplinks = names1(uplink);
  d->portgroups = g_ptr_array_new();
  d->mac_learning = learning;
  d->where = where();
  g_ptr_array_add(s->dvswitches, d);
  return d;
}

static topo_portgroup *dvpg_new(topo_dvswitch *d, const char *name, int vlan, topo_policy p,
                                topo_policy m, topo_policy f) {
  return pg_add(NULL, d, name, vlan, p, m, f);
}

/* A VM on host h (parent NULL) or on nested hypervisor `parent`; `nested` gives it a hypervisor. */
static topo_vm *vm_new(topo_host *h, topo_vm *parent, const char *name, bool nested) {
  topo_vm *vm = g_new0(topo_vm, 1);
  vm->name = g_strdup(name);
  vm->path = g_strdup_printf("%s/%s", parent ? parent->path : h->path, name);
  vm->layer = parent ? parent->layer + 1 : 1;
  vm->host = h;
  vm->parent = parent;
  vm->vcpus = nested ? 4 : 1;
  vm->cores_per_socket = 1;
  vm->memory_bytes = (uint64_t)4 << 30;
  vm->guest = g_strdup(nested ? "esxi5" : "linux64");
  vm->guest_64bit = true;
  vm->expose_hw_virt = nested;
  vm->shares = 1000;
  vm->limit_hz = -1;
  vm->hypervisor = nested ? esxi() : NULL;
  vm->vms = g_ptr_array_new();
  vm->vnics = g_ptr_array_new();
  vm->vswitches = g_ptr_array_new();
  vm->where = where();
  g_ptr_array_add(parent ? parent->vms : h->vms, vm);
  return vm;
}

static topo_vnic *vnic_new(topo_vm *vm, const char *name, topo_portgroup *pg, const char *type) {
  topo_vnic *v = g_new0(topo_vnic, 1);
  v->name = g_strdup(name);
  v->type = g_strdup(type ? type : "vmxnet3");
  v->portgroup = pg;
  v->vm = vm;
  v->where = where();
  g_ptr_array_add(vm->vnics, v);
  return v;
}

static net_external *ext_new(net_spec *spec, const char *name, double bps) {
  net_external *e = g_new0(net_external, 1);
  e->name = g_strdup(name);
  e->speed_bps = bps;
  e->where = where();
  g_ptr_array_add(spec->externals, e);
  return e;
}

static net_traffic *traffic_new(net_spec *spec, net_traffic_kind kind, const char *name,
                                const topo_vnic *fv, const net_external *fe, const topo_vnic *tv,
                                const net_external *te, double rate, uint32_t bytes,
                                net_pattern pattern, uint64_t count) {
  net_traffic *t = g_new0(net_traffic, 1);
  t->kind = kind;
  t->name = g_strdup(name);
  t->from_vnic = fv;
  t->from_ext = fe;
  t->to_vnic = tv;
  t->to_ext = te;
  t->rate = rate;
  t->frame_bytes = bytes;
  t->pattern = pattern;
  t->count = count;
  t->where = where();
  g_ptr_array_add(spec->traffic, t);
  return t;
}

/* ---- Running --------------------------------------------------------------------------------- */

typedef struct runner {
  sim_engine *eng;
  met_table *met;
  mdl_run run;
  net_state *n;
} runner;

static void start(runner *r, topo_scenario *scn, const net_spec *spec, uint64_t seed) {
  r->eng = sim_engine_new();
  r->met = met_table_new();
  r->run = (mdl_run){.eng = r->eng, .scn = scn, .met = r->met, .seed = seed, .end = SIM_S};
  g_autoptr(GError) err = NULL;
  r->n = net_new(&r->run, spec, &err);
  g_assert_no_error(err);
  g_assert_nonnull(r->n);
}

static void stop(runner *r) {
  net_free(r->n);
  sim_engine_free(r->eng);
  met_table_free(r->met);
}

static double vnic_cost_vmxnet3(void) {
  net_params p;
  net_params_default(&p);
  return p.vmxnet3_frame_s;
}

/* ---- The truth table ------------------------------------------------------------------------- */

/* The security setting of the physical host's port groups that the nested hosts' vNICs use. */
typedef enum {
  POL_ALL_REJECT,     /* promiscuous, MAC changes, forged transmits: reject */
  POL_DEFAULT,        /* nothing set: the vSphere defaults (reject, accept, accept) */
  POL_FORGED_REJECT,  /* promiscuous accept, forged transmits reject */
  POL_ALL_ACCEPT,     /* the seed's setting */
  POL_LEARNING,       /* a distributed switch with MAC learning; promiscuous reject */
  POL_N
} policy;
static const char *const policy_names[POL_N] = {"all-reject", "default", "forged-reject",
                                                "all-accept", "mac-learning"};

typedef enum {
  PL_SAME,       /* two L2 VMs on the same nested host */
  PL_SHARED,     /* L2 VMs on two nested hosts whose vNICs share one port group */
  PL_SEPARATE,   /* ... on two nested hosts with a switch and physical NIC each (the seed) */
  PL_EXT_OUT,    /* an L2 VM to an external machine */
  PL_EXT_IN,     /* an external machine to an L2 VM */
  PL_N
} placement;
static const char *const placement_names[PL_N] = {"same-host", "shared-portgroup",
                                                  "separate-vswitches", "to-external",
                                                  "from-external"};

/* The nested lab of the truth table: host esx01 with NICs vmnic1..; nested hosts vESX1..k, each
 * with one vNIC on the physical host's port group(s) that is the uplink of its own vSwitch0,
 * whose port group "VM Network" (defaults) holds its L2 VMs; an external machine "client". */
typedef struct lab {
  topo_scenario *scn;
  net_spec *spec;
  topo_host *esx;
  topo_vm *nested[8];
  topo_vnic *l2[8][2];  /* L2 VM vNICs: [host][0] = vm1, [host][1] = vm2 */
  net_external *client;
} lab;

static void lab_build(lab *l, policy pol, bool separate, int hosts) {
  memset(l, 0, sizeof *l);
  l->scn = scn_new();
  l->spec = net_spec_new();
  l->esx = host_new(l->scn, "esx01");
  topo_policy p = TOPO_POLICY_DEFAULT, m = TOPO_POLICY_DEFAULT, f = TOPO_POLICY_DEFAULT;
  switch (pol) {
    case POL_ALL_REJECT: p = m = f = TOPO_POLICY_REJECT; break;
    case POL_DEFAULT: break;
    case POL_FORGED_REJECT: p = m = TOPO_POLICY_ACCEPT; f = TOPO_POLICY_REJECT; break;
    case POL_ALL_ACCEPT: p = m = f = TOPO_POLICY_ACCEPT; break;
    case POL_LEARNING: p = TOPO_POLICY_REJECT; m = f = TOPO_POLICY_ACCEPT; break;
    case POL_N: g_assert_not_reached();
  }
  topo_portgroup *shared = NULL;
  for (int i = 0; i < hosts; i++) {
    g_autofree char *nic = g_strdup_printf("vmnic%d", i + 1);
    nic_new(l->esx, nic, 1e9);
    if (separate || i == 0) {
      g_autofree char *sw = g_strdup_printf("vSwitch%d", i + 1);
      g_autofree char *pgn = g_strdup_printf("nested%d", i + 1);
      if (pol == POL_LEARNING) {
        topo_dvswitch *d = dvs_new(l->scn, sw, nic, true);
        g_ptr_array_add(d->member_hosts, l->esx);
        shared = dvpg_new(d, pgn, 4095, p, m, f);
      } else {
        shared = pg_new(vswitch_new(l->esx, NULL, sw, nic), pgn, 4095, p, m, f);
      }
    }
    g_autofree char *name = g_strdup_printf("vESX%d", i + 1);
    topo_vm *nv = vm_new(l->esx, NULL, name, true);
    l->nested[i] = nv;
    vnic_new(nv, "vnic0", shared, NULL);
    topo_portgroup *vmnet = pg_new(vswitch_new(l->esx, nv, "vSwitch0", "vnic0"), "VM Network", 0,
                                   TOPO_POLICY_DEFAULT, TOPO_POLICY_DEFAULT, TOPO_POLICY_DEFAULT);
    for (int j = 0; j < 2; j++) {
      g_autofree char *vmn = g_strdup_printf("vm%d", j + 1);
      l->l2[i][j] = vnic_new(vm_new(l->esx, nv, vmn, false), "vnic0", vmnet, NULL);
    }
  }
  l->client = ext_new(l->spec, "client", 1e9);
}

static void lab_free(lab *l) {
  net_spec_free(l->spec);
  topo_scenario_free(l->scn);
}

/* What must become of the frames of one cell: delivered, or dropped for `reason`. */
#define DELIVERED (-1)

/* The expected outcome of each cell, and why (A = vm1 on vESX1; B = vm1 on vESX2).
 * - Same nested host: vESX1's own vSwitch0 knows both MACs and delivers locally; the physical
 *   host never sees the frame, so its policy cannot matter.
 * - Forged transmits = reject: A's frame leaves vESX1 through vESX1's vNIC with A's source MAC,
 *   not the vNIC's, and the physical host's switch drops it at ingress (forged) — whatever the
 *   destination, inside or outside.
 * - Promiscuous = reject, no learning: the physical host's switch does not know B's MAC (or
 *   A's, inbound); it sends the frame to its uplink, and frames arriving for an unknown MAC
 *   reach no vNIC: the physical switch floods it to the client, whose NIC refuses it, or the
 *   other vSwitch finds no promiscuous port (unknown_dst). Outbound to the client is fine.
 * - All accept: forged frames pass, and the nested host's promiscuous uplink gets the frames
 *   for its VMs.
 * - MAC learning (promiscuous reject, forged accept): unknown unicast is flooded to the learning
 *   ports, so B's host gets the frame even before B is learned. */
static const int expected[POL_N][PL_N] = {
    [POL_ALL_REJECT] = {DELIVERED, NET_DROP_FORGED, NET_DROP_FORGED, NET_DROP_FORGED,
                        NET_DROP_UNKNOWN_DST},
    [POL_DEFAULT] = {DELIVERED, NET_DROP_UNKNOWN_DST, NET_DROP_UNKNOWN_DST, DELIVERED,
                     NET_DROP_UNKNOWN_DST},
    [POL_FORGED_REJECT] = {DELIVERED, NET_DROP_FORGED, NET_DROP_FORGED, NET_DROP_FORGED,
                           DELIVERED},
    [POL_ALL_ACCEPT] = {DELIVERED, DELIVERED, DELIVERED, DELIVERED, DELIVERED},
    [POL_LEARNING] = {DELIVERED, DELIVERED, DELIVERED, DELIVERED, DELIVERED},
};

enum { CELL_FRAMES = 20 };

static void run_cell(policy pol, placement pl) {
  lab l;
  lab_build(&l, pol, pl == PL_SEPARATE, 2);
  const topo_vnic *a = l.l2[0][0];
  const topo_vnic *fv = pl == PL_EXT_IN ? NULL : a;
  const net_external *fe = pl == PL_EXT_IN ? l.client : NULL;
  const topo_vnic *tv = pl == PL_SAME ? l.l2[0][1] : pl == PL_EXT_IN ? a
                        : pl == PL_EXT_OUT ? NULL : l.l2[1][0];
  const net_external *te = pl == PL_EXT_OUT ? l.client : NULL;
  /* 20 frames of 1000 bytes, 1 ms apart: all done long before the run's second ends. */
  traffic_new(l.spec, NET_TRAFFIC_STREAM, "f", fv, fe, tv, te, 8e6, 1000, NET_PATTERN_CONSTANT,
              CELL_FRAMES);
  runner r;
  start(&r, l.scn, l.spec, 7);
  sim_run_until(r.eng, SIM_S);
  net_flow_stats fs;
  net_totals tot;
  g_assert_true(net_get_flow(r.n, "f", &fs));
  net_get_totals(r.n, &tot);
  g_test_message("%s x %s: sent %" G_GUINT64_FORMAT " delivered %" G_GUINT64_FORMAT
                 " forged %" G_GUINT64_FORMAT " unknown_dst %" G_GUINT64_FORMAT,
                 policy_names[pol], placement_names[pl], fs.sent, fs.delivered,
                 tot.drops[NET_DROP_FORGED], tot.drops[NET_DROP_UNKNOWN_DST]);
  g_assert_cmpuint(fs.sent, ==, CELL_FRAMES);
  g_assert_cmpuint(tot.in_flight, ==, 0);
  int want = expected[pol][pl];
  if (want == DELIVERED) {
    g_assert_cmpuint(fs.delivered, ==, CELL_FRAMES);
    g_assert_cmpuint(tot.drops[NET_DROP_FORGED], ==, 0);
  } else {
    g_assert_cmpuint(fs.delivered, ==, 0);
    /* Each frame dies at least once for the reason (unknown unicast may die in several places:
     * every flooded copy ends somewhere). A forged frame dies once, at ingress, and nothing
     * else of it remains. */
    g_assert_cmpuint(tot.drops[want], >=, CELL_FRAMES);
    if (want == NET_DROP_FORGED) g_assert_cmpuint(tot.dropped, ==, CELL_FRAMES);
    if (want == NET_DROP_UNKNOWN_DST) g_assert_cmpuint(tot.drops[NET_DROP_FORGED], ==, 0);
  }
  stop(&r);
  lab_free(&l);
}

static void test_truth_table(gconstpointer data) {
  int cell = GPOINTER_TO_INT(data);
  run_cell((policy)(cell / PL_N), (placement)(cell % PL_N));
}

/* ---- Flooding ---------------------------------------------------------------------------------- */

/* Four nested hosts share one promiscuous port group; vm1 of vESX1 sends N frames to vm1 of
 * vESX2. The physical host's switch knows neither L2 MAC, so it copies each frame to every
 * promiscuous port but the sender's: N x (4 - 1) flooded copies. vESX3 and vESX4 take in N
 * copies each, pay the vNIC's per-frame cost for each and drop them all in their own vSwitch0
 * (no such MAC there): N x cost of discard CPU each. vESX2 delivers its copies: no discard. */
static void test_flood_shared_promiscuous(void) {
  enum { N = 50, P = 4 };
  lab l;
  lab_build(&l, POL_ALL_ACCEPT, false, P);
  traffic_new(l.spec, NET_TRAFFIC_STREAM, "f", l.l2[0][0], NULL, l.l2[1][0], NULL, 8e6, 1000,
              NET_PATTERN_CONSTANT, N);
  runner r;
  start(&r, l.scn, l.spec, 3);
  sim_run_until(r.eng, SIM_S);
  net_counters c;
  g_assert_true(net_get_counters(r.n, "esx01/vSwitch1", &c));
  g_assert_cmpuint(c.flooded, ==, (uint64_t)N * (P - 1));
  net_flow_stats fs;
  net_get_flow(r.n, "f", &fs);
  g_assert_cmpuint(fs.delivered, ==, N);
  double cost = vnic_cost_vmxnet3();
  for (int i = 2; i < P; i++) {
    double cpu, discard;
    net_vm_cpu(r.n, l.nested[i], &cpu, &discard);
    g_assert_cmpfloat_with_epsilon(discard, N * cost, 1e-12);
    g_assert_cmpfloat_with_epsilon(cpu, N * cost, 1e-12);
  }
  double cpu2, discard2;
  net_vm_cpu(r.n, l.nested[1], &cpu2, &discard2);
  g_assert_cmpfloat(discard2, ==, 0.0);
  stop(&r);
  lab_free(&l);
}

/* The same four nested hosts on a distributed switch with MAC learning. vm1 of vESX2 first sends
 * one broadcast (its MAC is learned on vESX2's port); 10 ms later vm1 of vESX1 sends N frames to
 * it. Every one goes to vESX2's port only: no flooded copy at all, and no discard CPU on vESX3
 * and vESX4 (the broadcast they got is delivered to their VMs, not discarded). */
static void test_flood_learning_none_once_learned(void) {
  enum { N = 50, P = 4 };
  lab l;
  lab_build(&l, POL_LEARNING, false, P);
  traffic_new(l.spec, NET_TRAFFIC_NOISE, "arp", l.l2[1][0], NULL, NULL, NULL, 1000, 60,
              NET_PATTERN_CONSTANT, 1);
  net_traffic *t = traffic_new(l.spec, NET_TRAFFIC_STREAM, "f", l.l2[0][0], NULL, l.l2[1][0],
                               NULL, 8e6, 1000, NET_PATTERN_CONSTANT, N);
  t->start_s = 0.01;
  runner r;
  start(&r, l.scn, l.spec, 3);
  sim_run_until(r.eng, SIM_S);
  net_counters c;
  g_assert_true(net_get_counters(r.n, "esx01/vSwitch1", &c));
  g_assert_cmpuint(c.flooded, ==, 0);
  net_flow_stats fs;
  net_get_flow(r.n, "f", &fs);
  g_assert_cmpuint(fs.delivered, ==, N);
  for (int i = 2; i < P; i++) {
    double cpu, discard;
    net_vm_cpu(r.n, l.nested[i], &cpu, &discard);
    g_assert_cmpfloat(discard, ==, 0.0);
  }
  stop(&r);
  lab_free(&l);
}

/* MAC learning with unknown-unicast flooding off: until vm1 of vESX2 has sent something, its MAC
 * is unknown and frames for it go only to the uplink (where nobody takes them); after one
 * broadcast from it, they are delivered. 10 frames before the broadcast, 10 after. */
static void test_learning_flood_off(void) {
  lab l;
  lab_build(&l, POL_LEARNING, false, 2);
  l.spec->params.learn_flood_unknown = false;
  traffic_new(l.spec, NET_TRAFFIC_STREAM, "before", l.l2[0][0], NULL, l.l2[1][0], NULL, 8e6,
              1000, NET_PATTERN_CONSTANT, 10);
  net_traffic *arp = traffic_new(l.spec, NET_TRAFFIC_NOISE, "arp", l.l2[1][0], NULL, NULL, NULL,
                                 1000, 60, NET_PATTERN_CONSTANT, 1);
  arp->start_s = 0.1;
  net_traffic *after = traffic_new(l.spec, NET_TRAFFIC_STREAM, "after", l.l2[0][0], NULL,
                                   l.l2[1][0], NULL, 8e6, 1000, NET_PATTERN_CONSTANT, 10);
  after->start_s = 0.2;
  runner r;
  start(&r, l.scn, l.spec, 5);
  sim_run_until(r.eng, SIM_S);
  net_flow_stats b, a;
  net_get_flow(r.n, "before", &b);
  net_get_flow(r.n, "after", &a);
  g_assert_cmpuint(b.delivered, ==, 0);
  g_assert_cmpuint(a.delivered, ==, 10);
  stop(&r);
  lab_free(&l);
}

/* ---- Conservation ---------------------------------------------------------------------------- */

/* A busy network stopped mid-flight: three nested hosts on one promiscuous port group, an L2 VM
 * streaming 200 Mb/s (Poisson) to a client behind a 100 Mb/s link (its queue overflows),
 * broadcast noise from every L2 VM, request-response between the client and an L2 VM. Every
 * copy ever made is delivered, dropped with a reason, or still in flight (in a queue, on a wire
 * or being taken in by a vNIC) — exactly, at an arbitrary instant. */
static void test_conservation(void) {
  lab l;
  lab_build(&l, POL_ALL_ACCEPT, false, 3);
  net_external *slow = ext_new(l.spec, "slow", 1e8);
  traffic_new(l.spec, NET_TRAFFIC_STREAM, "bulk", l.l2[0][0], NULL, NULL, slow, 2e8, 1500,
              NET_PATTERN_POISSON, 0);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++) {
      g_autofree char *name = g_strdup_printf("arp-%d-%d", i, j);
      traffic_new(l.spec, NET_TRAFFIC_NOISE, name, l.l2[i][j], NULL, NULL, NULL, 50, 60,
                  NET_PATTERN_POISSON, 0);
    }
  traffic_new(l.spec, NET_TRAFFIC_RR, "rr", NULL, l.client, l.l2[2][1], NULL, 2000, 200,
              NET_PATTERN_POISSON, 0);
  runner r;
  start(&r, l.scn, l.spec, 11);
  sim_run_until(r.eng, 300 * SIM_MS + 17 * SIM_US);
  net_totals t;
  net_get_totals(r.n, &t);
  uint64_t by_reason = 0;
  for (int i = 0; i < NET_DROP_N; i++) by_reason += t.drops[i];
  g_assert_cmpuint(by_reason, ==, t.dropped);
  g_assert_cmpuint(t.created, ==, t.delivered + t.dropped + t.in_flight);
  g_assert_cmpuint(t.in_flight, >, 0);
  g_assert_cmpuint(t.drops[NET_DROP_QUEUE_FULL], >, 0);
  g_assert_cmpuint(t.flooded, >, 0);
  /* The metrics table got one row per entity per sample, and the summary values. */
  net_sample(r.n, 0, sim_now(r.eng));
  net_finish(r.n, sim_now(r.eng));
  g_assert_cmpuint(met_n_rows(r.met), >, 0);
  gint64 e = met_lookup(r.met, "flow/bulk");
  g_assert_cmpint(e, >=, 0);
  g_assert_cmpfloat(met_get_num(r.met, (met_id)e, "throughput_Mbps"), >, 0.0);
  g_assert_cmpfloat(met_get_num(r.met, (met_id)e, "throughput_Mbps"), <=, 100.0);
  stop(&r);
  lab_free(&l);
}

/* ---- Links: sharing and queueing ------------------------------------------------------------- */

/* Three external senders (100 Gb/s links, so their own queues never matter) send Poisson
 * streams of 1000-byte frames to one receiver behind a 1 Gb/s link. The receiver's link carries
 * at most 1e9 x 1000 / 1020 b/s of frame data (each frame also takes 20 bytes of preamble and
 * gap on the wire). A FIFO queue that overflows drops arrivals when full, and Poisson arrivals
 * see the queue full with the same probability whatever their flow (PASTA), so each flow keeps
 * the same fraction of what it offers: throughput_i = offered_i x capacity / sum(offered).
 * With equal demands that is the fair share, capacity / 3 each. Over 2 s (~245,000 frames at
 * the bottleneck) the sampling error of each share is well under 1%; we allow 3%. */
static void sharing_case(const double offered[3], const char *label) {
  topo_scenario *scn = scn_new();
  net_spec *spec = net_spec_new();
  net_external *rx = ext_new(spec, "rx", 1e9);
  double total = 0;
  for (int i = 0; i < 3; i++) {
    g_autofree char *name = g_strdup_printf("tx%d", i);
    net_external *tx = ext_new(spec, name, 1e11);
    g_autofree char *flow = g_strdup_printf("s%d", i);
    traffic_new(spec, NET_TRAFFIC_STREAM, flow, NULL, tx, NULL, rx, offered[i], 1000,
                NET_PATTERN_POISSON, 0);
    total += offered[i];
  }
  runner r;
  start(&r, scn, spec, 21);
  sim_run_until(r.eng, 2 * SIM_S);
  double capacity = 1e9 * 1000.0 / 1020.0;
  g_assert_cmpfloat(total, >, capacity);
  for (int i = 0; i < 3; i++) {
    g_autofree char *flow = g_strdup_printf("s%d", i);
    net_flow_stats fs;
    net_get_flow(r.n, flow, &fs);
    double want = offered[i] * capacity / total;
    g_test_message("%s: flow %d offered %.1f Mb/s got %.1f, expected %.1f", label, i,
                   offered[i] * 1e-6, fs.throughput_bps * 1e-6, want * 1e-6);
    g_assert_cmpfloat(fabs(fs.throughput_bps - want) / want, <, 0.03);
  }
  net_link_stats ls;
  g_assert_true(net_get_link(r.n, "external/rx", FALSE, &ls));
  g_assert_cmpfloat(ls.utilisation, >, 0.99);
  g_assert_cmpuint(ls.dropped, >, 0);
  stop(&r);
  net_spec_free(spec);
  topo_scenario_free(scn);
}

static void test_sharing_fair(void) {
  const double offered[3] = {5e8, 5e8, 5e8};
  sharing_case(offered, "equal");
}

static void test_sharing_proportional(void) {
  const double offered[3] = {2e8, 4e8, 8e8};
  sharing_case(offered, "unequal");
}

/* M/M/1 at a link: Poisson arrivals (lambda = 62,500 frames/s) of exponential sizes (mean 1000
 * bytes, no wire overhead) into an unbounded queue on a 1 Gb/s link: service rate mu = 1e9 /
 * 8000 = 125,000 frames/s, rho = 0.5. Closed forms: mean wait in queue Wq = rho / (mu - lambda)
 * = 8 us; mean time in system W = 1 / (mu - lambda) = 16 us, which is the flow's latency (the
 * receiver's link is 1e12 b/s: 8 ns more). Over 8 s (500,000 frames) the standard error of the
 * mean wait is about 1.5% (waits are correlated over ~30 customers at rho = 0.5); we allow 5%.
 * Sizes are whole bytes (rounded up: +0.05% on the mean), far inside the tolerance. */
static void test_mm1(void) {
  topo_scenario *scn = scn_new();
  net_spec *spec = net_spec_new();
  spec->params.queue_frames = 0;
  spec->params.wire_overhead_bytes = 0;
  net_external *tx = ext_new(spec, "tx", 1e9);
  net_external *rx = ext_new(spec, "rx", 1e12);
  net_traffic *t = traffic_new(spec, NET_TRAFFIC_STREAM, "m", NULL, tx, NULL, rx, 62500 * 8000.0,
                               1000, NET_PATTERN_POISSON, 0);
  t->exp_size = true;
  runner r;
  start(&r, scn, spec, 99);
  sim_run_until(r.eng, 8 * SIM_S);
  net_link_stats ls;
  g_assert_true(net_get_link(r.n, "external/tx", TRUE, &ls));
  double mu = 125000.0, lambda = 62500.0, rho = lambda / mu;
  double wq = rho / (mu - lambda), w = 1.0 / (mu - lambda);
  g_test_message("M/M/1: Wq %.3f us (closed form %.3f), utilisation %.4f (%.4f)",
                 ls.mean_wait_s * 1e6, wq * 1e6, ls.utilisation, rho);
  g_assert_cmpfloat(fabs(ls.mean_wait_s - wq) / wq, <, 0.05);
  g_assert_cmpfloat(fabs(ls.utilisation - rho) / rho, <, 0.02);
  net_flow_stats fs;
  net_get_flow(r.n, "m", &fs);
  g_test_message("M/M/1: W %.3f us (closed form %.3f)", fs.latency_mean_s * 1e6, w * 1e6);
  g_assert_cmpfloat(fabs(fs.latency_mean_s - w) / w, <, 0.05);
  stop(&r);
  net_spec_free(spec);
  topo_scenario_free(scn);
}

/* ---- Latency of request-response ------------------------------------------------------------ */

/* One request at a time (10 per second, far apart) between an external client and a VM on the
 * physical host. Request: client -> switch -> vmnic1 (two 1 Gb/s wire crossings of 220 bytes with
 * preamble and gap = 1.76 us each), then the VM's vNIC takes it in (its per-frame cost). The
 * response goes back the same way without that cost (sending costs CPU but does not delay the
 * frame). So a transaction takes 4 x 1.76 us + the vNIC cost: 9.04 us with vmxnet3 (2 us) and
 * 10.405 us with e1000 (3.365 us) — exactly, for every transaction (no queueing). */
static void rr_case(const char *type, double vnic_s) {
  topo_scenario *scn = scn_new();
  net_spec *spec = net_spec_new();
  topo_host *h = host_new(scn, "esx01");
  nic_new(h, "vmnic1", 1e9);
  topo_portgroup *pg = pg_new(vswitch_new(h, NULL, "vSwitch1", "vmnic1"), "VM Network", 0,
                              TOPO_POLICY_DEFAULT, TOPO_POLICY_DEFAULT, TOPO_POLICY_DEFAULT);
  topo_vnic *v = vnic_new(vm_new(h, NULL, "web", false), "vnic0", pg, type);
  net_external *c = ext_new(spec, "client", 1e9);
  traffic_new(spec, NET_TRAFFIC_RR, "rr", NULL, c, v, NULL, 10, 200, NET_PATTERN_CONSTANT, 20);
  runner r;
  start(&r, scn, spec, 5);
  sim_run_until(r.eng, 3 * SIM_S);
  net_flow_stats fs;
  net_get_flow(r.n, "rr", &fs);
  g_assert_cmpuint(fs.delivered, ==, 20);
  double want = 4 * 220 * 8 / 1e9 + vnic_s;
  g_assert_cmpfloat(fabs(fs.latency_mean_s - want), <, 2e-9);
  g_assert_cmpfloat(fabs(fs.latency_p99_s - want) / want, <, 0.15); /* a histogram bin */
  double cpu;
  net_vm_cpu(r.n, v->vm, &cpu, NULL);
  /* 20 received + 20 sent; costs are whole nanoseconds, so within 40 ns of the exact sum. */
  g_assert_cmpfloat_with_epsilon(cpu, 40 * vnic_s, 40e-9);
  stop(&r);
  net_spec_free(spec);
  topo_scenario_free(scn);
}

static void test_rr_vmxnet3(void) { rr_case("vmxnet3", 2.0e-6); }
static void test_rr_e1000(void) { rr_case("e1000", 2.0e-6 + 2.0 * 2000.0 / 2.93e9); }

/* ---- MAC address changes, forged transmits of a changed MAC, VLANs -------------------------- */

/* A plain VM "moved" whose guest set its MAC to 02:00:00:00:00:99 (not the assigned one), and a
 * sender on the same vSwitch. MAC address changes = reject: every frame to the new MAC is dropped
 * (mac_change); accept: delivered. Its own frames carry its effective MAC, so forged transmits =
 * reject lets them through (the check compares with the effective MAC). */
static void mac_change_case(topo_policy macchg, int want_delivered) {
  topo_scenario *scn = scn_new();
  net_spec *spec = net_spec_new();
  topo_host *h = host_new(scn, "esx01");
  topo_portgroup *pg = pg_new(vswitch_new(h, NULL, "vSwitch0", NULL), "VM Network", 0,
                              TOPO_POLICY_REJECT, macchg, TOPO_POLICY_REJECT);
  topo_vnic *moved = vnic_new(vm_new(h, NULL, "moved", false), "vnic0", pg, NULL);
  topo_vnic *peer = vnic_new(vm_new(h, NULL, "peer", false), "vnic0", pg, NULL);
  g_hash_table_insert(spec->guest_mac, moved, g_strdup("02:00:00:00:00:99"));
  traffic_new(spec, NET_TRAFFIC_STREAM, "in", peer, NULL, moved, NULL, 8e6, 1000,
              NET_PATTERN_CONSTANT, 10);
  traffic_new(spec, NET_TRAFFIC_STREAM, "out", moved, NULL, peer, NULL, 8e6, 1000,
              NET_PATTERN_CONSTANT, 10);
  runner r;
  start(&r, scn, spec, 5);
  sim_run_until(r.eng, SIM_S);
  net_flow_stats in, out;
  net_get_flow(r.n, "in", &in);
  net_get_flow(r.n, "out", &out);
  g_assert_cmpuint(in.delivered, ==, (uint64_t)want_delivered);
  g_assert_cmpuint(out.delivered, ==, 10);
  net_counters c;
  net_get_counters(r.n, "esx01/moved/vnic0", &c);
  g_assert_cmpuint(c.drops[NET_DROP_MAC_CHANGE], ==, 10 - (uint64_t)want_delivered);
  stop(&r);
  net_spec_free(spec);
  topo_scenario_free(scn);
}

static void test_mac_changes_reject(void) { mac_change_case(TOPO_POLICY_REJECT, 0); }
static void test_mac_changes_accept(void) { mac_change_case(TOPO_POLICY_ACCEPT, 10); }

/* A nested host whose vNIC sits on a VLAN 100 port group of the physical host (not a trunk),
 * while its own VMs' port group tags VLAN 200: the nested host's frames reach the physical host
 * already tagged, which a port group with a VLAN ID does not accept (vlan). On a VLAN 4095
 * (trunk) port group the same frames pass with their tag. */
static void vlan_case(int l0_vlan, int want_delivered) {
  topo_scenario *scn = scn_new();
  net_spec *spec = net_spec_new();
  topo_host *h = host_new(scn, "esx01");
  nic_new(h, "vmnic1", 1e9);
  topo_portgroup *l0 = pg_new(vswitch_new(h, NULL, "vSwitch1", "vmnic1"), "nested", l0_vlan,
                              TOPO_POLICY_ACCEPT, TOPO_POLICY_ACCEPT, TOPO_POLICY_ACCEPT);
  topo_vm *nv = vm_new(h, NULL, "vESX1", true);
  vnic_new(nv, "vnic0", l0, NULL);
  topo_portgroup *l1 = pg_new(vswitch_new(h, nv, "vSwitch0", "vnic0"), "tenant", 200,
                              TOPO_POLICY_DEFAULT, TOPO_POLICY_DEFAULT, TOPO_POLICY_DEFAULT);
  topo_vnic *a = vnic_new(vm_new(h, nv, "a", false), "vnic0", l1, NULL);
  net_external *c = ext_new(spec, "client", 1e9);
  c->vlan = 200;
  traffic_new(spec, NET_TRAFFIC_STREAM, "f", a, NULL, NULL, c, 8e6, 1000, NET_PATTERN_CONSTANT,
              10);
  runner r;
  start(&r, scn, spec, 5);
  sim_run_until(r.eng, SIM_S);
  net_flow_stats fs;
  net_get_flow(r.n, "f", &fs);
  net_totals t;
  net_get_totals(r.n, &t);
  g_assert_cmpuint(fs.delivered, ==, (uint64_t)want_delivered);
  g_assert_cmpuint(t.drops[NET_DROP_VLAN], ==, 10 - (uint64_t)want_delivered);
  stop(&r);
  net_spec_free(spec);
  topo_scenario_free(scn);
}

static void test_vlan_tagged_on_access(void) { vlan_case(100, 0); }
static void test_vlan_tagged_on_trunk(void) { vlan_case(4095, 10); }

/* ---- Policy defaults ---------------------------------------------------------------------------- */

/* vSphere's documented defaults: promiscuous reject, MAC changes and forged transmits accept,
 * on standard and (per the vSphere 6.0 guide) distributed port groups alike. */
static void test_policy_defaults(void) {
  for (int d = 0; d < 2; d++) {
    g_assert_cmpint(net_policy_default(d, "5.5", NET_SEC_PROMISCUOUS), ==, TOPO_POLICY_REJECT);
    g_assert_cmpint(net_policy_default(d, "5.5", NET_SEC_MAC_CHANGES), ==, TOPO_POLICY_ACCEPT);
    g_assert_cmpint(net_policy_default(d, "5.5", NET_SEC_FORGED_TRANSMITS), ==,
                    TOPO_POLICY_ACCEPT);
  }
  uint64_t mac;
  g_assert_true(net_mac_parse("00:50:56:0a:0B:ff", &mac));
  g_assert_cmphex(mac, ==, UINT64_C(0x0050560a0bff));
  g_assert_false(net_mac_parse("00:50:56:0a:0B", &mac));
  g_assert_false(net_mac_parse("00:50:56:0a:0B:fg", &mac));
}

/* ---- nestsim check ---------------------------------------------------------------------------- */

/* The findings of net_check_findings above "fits", each as "level|where|number|fix" so that a
 * test can look for words in them. */
static GPtrArray *check_not_fitting(const topo_scenario *scn) {
  g_autoptr(GPtrArray) fs = g_ptr_array_new_with_free_func(net_finding_free);
  net_check_findings(scn, fs);
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < fs->len; i++) {
    const net_finding *f = g_ptr_array_index(fs, i);
    if (f->level == NET_CHECK_FITS) continue;
    char *line = g_strdup_printf("%s|%s|%s|%s", f->level == NET_CHECK_NO_FIT ? "no-fit" : "tight",
                                 f->where ? f->where : "", f->number, f->fix ? f->fix : "");
    g_test_message("%s", line);
    g_ptr_array_add(out, line);
  }
  return out;
}

static gboolean any_contains(GPtrArray *w, const char *a, const char *b) {
  for (guint i = 0; i < w->len; i++) {
    const char *s = g_ptr_array_index(w, i);
    if (strstr(s, a) && strstr(s, b)) return TRUE;
  }
  return FALSE;
}

/* The default policy (promiscuous reject) on the port group of a nested host's uplink, and
 * forged transmits rejected: each such port group does not fit, names its file:line and says
 * to accept both; four nested hosts on one promiscuous group: tight, flooding; a MAC-learning
 * distributed switch needs no promiscuous mode and gets nothing; the seed's design (one
 * accepting group per nested host) neither. */
static void test_check_warnings(void) {
  lab l;
  lab_build(&l, POL_ALL_REJECT, true, 2);
  g_autoptr(GPtrArray) w = check_not_fitting(l.scn);
  g_assert_cmpuint(w->len, ==, 2); /* two port groups, each dropping both ways */
  topo_vswitch *vs1 = g_ptr_array_index(l.esx->vswitches, 0);
  topo_portgroup *pg1 = g_ptr_array_index(vs1->portgroups, 0);
  g_autofree char *at = g_strdup_printf("no-fit|%s|port group 'nested1'", pg1->where);
  g_assert_true(any_contains(w, at, "forged_transmits = \"accept\""));
  g_assert_true(any_contains(w, at, "promiscuous = \"accept\""));
  lab_free(&l);

  lab_build(&l, POL_ALL_ACCEPT, false, 4);
  g_ptr_array_unref(w);
  w = check_not_fitting(l.scn);
  g_assert_cmpuint(w->len, ==, 1);
  g_assert_true(any_contains(w, "tight|", "shared by the nested hypervisors"));
  g_assert_true(any_contains(w, "tight|", "own port group, vSwitch and NIC"));
  lab_free(&l);

  lab_build(&l, POL_LEARNING, false, 4);
  g_ptr_array_unref(w);
  w = check_not_fitting(l.scn);
  g_assert_cmpuint(w->len, ==, 0);
  lab_free(&l);

  lab_build(&l, POL_ALL_ACCEPT, true, 4);
  g_ptr_array_unref(w);
  w = check_not_fitting(l.scn);
  g_assert_cmpuint(w->len, ==, 0);
  lab_free(&l);
}

/* ---- Sources ---------------------------------------------------------------------------------- */

/* On/off: 100 Mb/s of 1250-byte frames (10,000 frames/s) while on, exponential on and off
 * periods of mean 10 ms: on half the time on average, so 5,000 frames/s. Over 20 s (~1,000 on
 * periods) the on fraction's standard error is about 2%; we allow 8%. */
static void test_onoff_mean_rate(void) {
  topo_scenario *scn = scn_new();
  net_spec *spec = net_spec_new();
  net_external *tx = ext_new(spec, "tx", 1e10);
  net_external *rx = ext_new(spec, "rx", 1e10);
  net_traffic *t = traffic_new(spec, NET_TRAFFIC_STREAM, "burst", NULL, tx, NULL, rx, 1e8, 1250,
                               NET_PATTERN_ONOFF, 0);
  t->on_s = 0.01;
  t->off_s = 0.01;
  runner r;
  start(&r, scn, spec, 8);
  sim_run_until(r.eng, 20 * SIM_S);
  net_flow_stats fs;
  net_get_flow(r.n, "burst", &fs);
  double rate = (double)fs.sent / 20.0;
  g_test_message("on/off: %.0f frames/s (expected 5000)", rate);
  g_assert_cmpfloat(fabs(rate - 5000.0) / 5000.0, <, 0.08);
  stop(&r);
  net_spec_free(spec);
  topo_scenario_free(scn);
}

/* Same scenario and seed: the same counts, copy for copy; another seed: different draws. */
static void determinism_run(uint64_t seed, net_totals *t, net_flow_stats *fs) {
  lab l;
  lab_build(&l, POL_ALL_ACCEPT, false, 3);
  traffic_new(l.spec, NET_TRAFFIC_STREAM, "f", l.l2[0][0], NULL, l.l2[2][0], NULL, 5e7, 1000,
              NET_PATTERN_POISSON, 0);
  traffic_new(l.spec, NET_TRAFFIC_RR, "rr", NULL, l.client, l.l2[1][1], NULL, 500, 100,
              NET_PATTERN_POISSON, 0);
  runner r;
  start(&r, l.scn, l.spec, seed);
  sim_run_until(r.eng, 200 * SIM_MS);
  net_get_totals(r.n, t);
  net_get_flow(r.n, "rr", fs);
  stop(&r);
  lab_free(&l);
}

static void test_determinism(void) {
  net_totals a, b, c;
  net_flow_stats fa, fb, fc;
  determinism_run(1, &a, &fa);
  determinism_run(1, &b, &fb);
  determinism_run(2, &c, &fc);
  g_assert_true(memcmp(&a, &b, sizeof a) == 0);
  g_assert_cmpfloat(fa.latency_mean_s, ==, fb.latency_mean_s);
  g_assert_true(a.created != c.created || fa.latency_mean_s != fc.latency_mean_s);
}

/* ---- The shipped comparison: scenarios/network/nested-designs.lua ---------------------------- */

typedef enum { D_SHARED, D_SEED, D_LEARNING, D_N } design;
static const char *const design_names[D_N] = {"shared", "seed", "learning"};

enum { DN = 4, DL2 = 4 };

typedef struct designs_lab {
  topo_scenario *scn;
  net_spec *spec;
  topo_vm *nested[DN];
  topo_vnic *l2[DN][DL2];
} designs_lab;

/* The lab of nested-designs.lua, built by hand: the same hosts, switches, vNIC types, traffic. */
static void designs_build(designs_lab *l, design d) {
  l->scn = scn_new();
  l->spec = net_spec_new();
  topo_host *esx = host_new(l->scn, "esx01");
  topo_portgroup *outer[DN];
  for (int i = 0; i < DN; i++) {
    g_autofree char *nic = g_strdup_printf("vmnic%d", i + 1);
    nic_new(esx, nic, 1e9);
  }
  if (d == D_SHARED) {
    topo_portgroup *pg = pg_new(vswitch_new(esx, NULL, "vSwitch1", "vmnic1"), "nested", 4095,
                                TOPO_POLICY_ACCEPT, TOPO_POLICY_ACCEPT, TOPO_POLICY_ACCEPT);
    for (int i = 0; i < DN; i++) outer[i] = pg;
  } else if (d == D_SEED) {
    for (int i = 0; i < DN; i++) {
      g_autofree char *sw = g_strdup_printf("vSwitch%d", i + 1);
      g_autofree char *nic = g_strdup_printf("vmnic%d", i + 1);
      g_autofree char *pgn = g_strdup_printf("vESX%d-trunk", i + 1);
      outer[i] = pg_new(vswitch_new(esx, NULL, sw, nic), pgn, 4095, TOPO_POLICY_ACCEPT,
                        TOPO_POLICY_ACCEPT, TOPO_POLICY_ACCEPT);
    }
  } else {
    topo_dvswitch *dv = dvs_new(l->scn, "vDS-outer", "vmnic1", true);
    g_ptr_array_add(dv->member_hosts, esx);
    topo_portgroup *pg = dvpg_new(dv, "nested", 4095, TOPO_POLICY_REJECT, TOPO_POLICY_ACCEPT,
                                  TOPO_POLICY_ACCEPT);
    for (int i = 0; i < DN; i++) outer[i] = pg;
  }
  topo_dvswitch *lab_dvs = dvs_new(l->scn, "vDS-lab", "vnic1", false);
  topo_portgroup *tenant = dvpg_new(lab_dvs, "tenant", 100, TOPO_POLICY_DEFAULT,
                                    TOPO_POLICY_DEFAULT, TOPO_POLICY_DEFAULT);
  for (int i = 0; i < DN; i++) {
    g_autofree char *name = g_strdup_printf("vESX%d", i + 1);
    l->nested[i] = vm_new(esx, NULL, name, true);
    vnic_new(l->nested[i], "vnic0", outer[i], "e1000");
    vnic_new(l->nested[i], "vnic1", outer[i], "e1000");
    g_ptr_array_add(lab_dvs->member_vms, l->nested[i]);
  }
  for (int i = 0; i < DN; i++)
    for (int j = 0; j < DL2; j++) {
      g_autofree char *name = g_strdup_printf("vm%d", j + 1);
      l->l2[i][j] = vnic_new(vm_new(esx, l->nested[i], name, false), "vnic0", tenant, "vmxnet3");
    }
  net_external *client = ext_new(l->spec, "client", 1e9);
  client->vlan = 100;
  for (int i = 0; i < DN; i++)
    for (int j = 0; j < DL2; j++) {
      g_autofree char *ring = g_strdup_printf("ring-%d-%d", i + 1, j + 1);
      g_autofree char *arp = g_strdup_printf("arp-%d-%d", i + 1, j + 1);
      traffic_new(l->spec, NET_TRAFFIC_STREAM, ring, l->l2[i][j], NULL, l->l2[(i + 1) % DN][j],
                  NULL, 1e8, 1500, NET_PATTERN_POISSON, 0);
      traffic_new(l->spec, NET_TRAFFIC_NOISE, arp, l->l2[i][j], NULL, NULL, NULL, 1, 60,
                  NET_PATTERN_POISSON, 0);
    }
  traffic_new(l->spec, NET_TRAFFIC_RR, "rr", NULL, client, l->l2[0][0], NULL, 1000, 200,
              NET_PATTERN_POISSON, 0);
}

typedef struct design_result {
  double ring_mbps, ring_loss_pct, flooded_per_s, discard_pct, netcpu_pct, rr_p50_us, rr_p99_us;
  double rr_per_s;
  double vmnic1_util, vmnic1_drops;
} design_result;

/* Runs one design for 1 s of warm-up (every MAC gets learned) and 2 s measured. */
static void design_run(design d, design_result *out) {
  designs_lab l;
  designs_build(&l, d);
  runner r;
  start(&r, l.scn, l.spec, 42);
  sim_run_until(r.eng, SIM_S);
  net_reset(r.n, SIM_S);
  net_totals t0;
  net_get_totals(r.n, &t0);
  sim_run_until(r.eng, 3 * SIM_S);
  double span = 2.0;
  net_totals t1;
  net_get_totals(r.n, &t1);
  memset(out, 0, sizeof *out);
  uint64_t sent = 0, got = 0;
  for (int i = 0; i < DN; i++)
    for (int j = 0; j < DL2; j++) {
      g_autofree char *ring = g_strdup_printf("ring-%d-%d", i + 1, j + 1);
      net_flow_stats fs;
      net_get_flow(r.n, ring, &fs);
      out->ring_mbps += fs.throughput_bps * 1e-6;
      sent += fs.sent;
      got += fs.delivered;
    }
  /* Frames sent before the reset and delivered after it can make this slightly negative. */
  out->ring_loss_pct = MAX(0.0, (1.0 - (double)got / (double)sent) * 100.0);
  out->flooded_per_s = (double)(t1.flooded - t0.flooded) / span;
  for (int i = 0; i < DN; i++) {
    double cpu, discard;
    net_vm_cpu(r.n, l.nested[i], &cpu, &discard);
    out->discard_pct += discard / span * 100.0 / DN;
    out->netcpu_pct += cpu / span * 100.0 / DN;
  }
  net_flow_stats rr;
  net_get_flow(r.n, "rr", &rr);
  out->rr_p50_us = rr.latency_p50_s * 1e6;
  out->rr_p99_us = rr.latency_p99_s * 1e6;
  out->rr_per_s = (double)rr.delivered / span;
  net_link_stats ls;
  net_get_link(r.n, "esx01/vmnic1", TRUE, &ls);
  out->vmnic1_util = ls.utilisation * 100.0;
  out->vmnic1_drops = (double)ls.dropped / span;
  g_test_message("%-8s ring %.0f Mb/s (loss %.2f%%), flooded copies %.0f/s, per nested host: "
                 "net CPU %.1f%% of a core of which discarding %.1f%%; vmnic1 tx %.0f%% busy, "
                 "%.0f drops/s; rr latency p50 %.1f us p99 %.1f us; %" G_GUINT64_FORMAT " events",
                 design_names[d], out->ring_mbps, out->ring_loss_pct, out->flooded_per_s,
                 out->netcpu_pct, out->discard_pct, out->vmnic1_util, out->vmnic1_drops,
                 out->rr_p50_us, out->rr_p99_us, sim_events_done(r.eng));
  stop(&r);
  net_spec_free(l.spec);
  topo_scenario_free(l.scn);
}

/* The three designs under the same load: 16 L2 VMs each streaming 100 Mb/s of 1500-byte frames
 * (8,333 frames/s) to their twin on the next nested host.
 * - Shared: the physical host's switch knows none of the L2 MACs, so each frame is copied to the
 *   three other nested hosts' uplink vNICs; a host keeps only the copies from its predecessor
 *   and discards those of the two others: 2 hosts x 4 VMs x 8,333 = 66,667 copies/s, each
 *   costing its e1000 vNIC 3.365 us: 22.4% of a core per nested host (plus the discarded copies
 *   of the client's requests and responses on hosts 2-4). Each frame also goes out to vmnic1 (its
 *   destination is unknown there): 1.6 Gb/s offered to a 1 Gb/s NIC, so vmnic1 is saturated and
 *   the client's request-response waits behind a full queue.
 * - Seed: a frame leaves through its nested host's own NIC and reaches the next nested host's
 *   vSwitch through the physical switch, which learns every MAC in the warm-up; inbound frames
 *   go to one promiscuous port, the right one: nothing is discarded.
 * - MAC learning: a ring frame goes to the learned port only: no flooded copy, no discard, and
 *   no copy to the uplink. What is still flooded is traffic for the client, whose MAC the
 *   switch never learns (it learns on vNIC ports only, as vSphere documents it): each response
 *   goes to the uplink and, as unknown unicast, to the 7 other learning ports; the 3 other
 *   nested hosts' uplink vNICs take it in and discard it (the vnic0s refuse it in their MAC
 *   filter, free). So flooded = 7 x responses, and the discard is 3 x responses x 3.365 us over
 *   4 hosts.
 * Every ring frame is delivered in all three (the rings never cross a saturated queue); only
 * the waste differs. */
static void test_nested_designs(void) {
  design_result res[D_N];
  for (int d = 0; d < D_N; d++) design_run((design)d, &res[d]);
  double offered = DN * DL2 * 100.0; /* Mb/s */
  for (int d = 0; d < D_N; d++) {
    g_assert_cmpfloat(fabs(res[d].ring_mbps - offered) / offered, <, 0.03);
    g_assert_cmpfloat(res[d].ring_loss_pct, <, 0.1);
  }
  double per_frame = 2.0e-6 + 2.0 * 2000.0 / 2.93e9;
  double shared_discard = 2 * DL2 * (1e8 / 12000.0) * per_frame * 100.0; /* % of a core */
  g_assert_cmpfloat(res[D_SHARED].discard_pct, >, shared_discard * 0.97);
  g_assert_cmpfloat(res[D_SHARED].discard_pct, <, shared_discard * 1.06);
  g_assert_cmpfloat(res[D_SEED].discard_pct, ==, 0.0);
  /* Within 5 transactions a second of the identities (responses in flight at the window's
   * ends). */
  g_assert_cmpfloat(fabs(res[D_LEARNING].flooded_per_s - 7 * res[D_LEARNING].rr_per_s), <, 35);
  double learn_discard = 3 * res[D_LEARNING].rr_per_s * per_frame / DN * 100.0;
  g_assert_cmpfloat(fabs(res[D_LEARNING].discard_pct - learn_discard), <,
                    3 * 5 * per_frame / DN * 100.0);
  g_assert_cmpfloat(res[D_SHARED].vmnic1_util, >, 99.0);
  g_assert_cmpfloat(res[D_SHARED].vmnic1_drops, >, 0.0);
  g_assert_cmpfloat(res[D_SHARED].rr_p50_us, >, 10 * res[D_SEED].rr_p50_us);
}

/* The shipped file builds the tested lab: scenarios/network/nested-designs.lua, loaded by the
 * scenario loader and turned into the model by net_model.create (traffic, externals and all),
 * gives every design exactly the copies, drops and flow figures of the hand-built lab above.
 * Same topology in the same order, same flow names (one random stream per name), same seed:
 * the two runs must be the same run, frame for frame, so every count is equal, not close. */
/* The interval columns DROP_<reason>/s count each drop once, where it happened (DROP/s also
 * counts it at the port's vNIC or NIC): summed over every entity and interval (x 1 s) they give
 * exactly the model's totals by reason. The seed's teaching lab with every policy rejecting
 * drops frames for three reasons, so the sum is checked on more than zeros. */
static void test_drop_reason_columns_conserve(void) {
  g_autofree char *file = g_test_build_filename(G_TEST_DIST, "..", "scenarios", "teaching",
                                                "06-network-pitfalls.lua", NULL);
  g_autoptr(GError) err = NULL;
  g_autoptr(topo_scenario) scn = scn_load_file(file, NULL, &err);
  g_assert_no_error(err);
  sim_engine *eng = sim_engine_new();
  met_table *met = met_table_new();
  mdl_run run = {.eng = eng, .scn = scn, .met = met, .seed = scn->seed, .end = 4 * SIM_S};
  net_state *n = net_model.create(&run, &err);
  g_assert_no_error(err);
  for (int t = 1; t <= 4; t++) {
    sim_run_until(eng, t * SIM_S);
    net_sample(n, (t - 1) * SIM_S, t * SIM_S);
  }
  net_totals tot;
  net_get_totals(n, &tot);
  guint reasons_seen = 0;
  for (int r = 0; r < NET_DROP_N; r++) {
    g_autofree char *name = g_strdup_printf("DROP_%s/s", net_drop_name((net_drop)r));
    met_id col = G_MAXUINT;
    for (met_id c = 0; c < met_n_columns(met); c++)
      if (!strcmp(met_column_name(met, c), name)) col = c;
    g_assert_cmpuint(col, !=, G_MAXUINT);
    double sum = 0;
    for (guint row = 0; row < met_n_rows(met); row++) {
      met_id e;
      int64_t t_ns;
      const double *v = met_row_get(met, row, &e, &t_ns);
      if (!isnan(v[col])) sum += v[col]; /* one row per second: a rate is a count */
    }
    g_assert_cmpfloat(sum, ==, (double)tot.drops[r]);
    if (tot.drops[r]) reasons_seen++;
  }
  g_assert_cmpuint(reasons_seen, ==, 3); /* forged, mac_change, unknown_dst */
  net_model.destroy(n);
  sim_engine_free(eng);
  met_table_free(met);
}

static void test_nested_designs_lua(void) {
  g_autofree char *file =
      g_test_build_filename(G_TEST_DIST, "..", "scenarios", "network", "nested-designs.lua", NULL);
  for (int d = 0; d < D_N; d++) {
    g_autoptr(GHashTable) set = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(set, "design", (gpointer)design_names[d]);
    scn_options opts = {.set = set};
    g_autoptr(GError) err = NULL;
    g_autoptr(topo_scenario) scn = scn_load_file(file, &opts, &err);
    g_assert_no_error(err);
    sim_engine *eng = sim_engine_new();
    met_table *met = met_table_new();
    mdl_run run = {.eng = eng, .scn = scn, .met = met, .seed = scn->seed, .end = 3 * SIM_S};
    net_state *from_lua = net_model.create(&run, &err);
    g_assert_no_error(err);
    sim_run_until(eng, 3 * SIM_S);

    designs_lab l;
    designs_build(&l, (design)d);
    runner r;
    start(&r, l.scn, l.spec, scn->seed);
    sim_run_until(r.eng, 3 * SIM_S);

    net_totals a, b;
    net_get_totals(from_lua, &a);
    net_get_totals(r.n, &b);
    g_test_message("%s: %" G_GUINT64_FORMAT " copies made, %" G_GUINT64_FORMAT " flooded",
                   design_names[d], a.created, a.flooded);
    g_assert_cmpuint(a.created, >, 0);
    g_assert_true(memcmp(&a, &b, sizeof a) == 0);
    const char *flows[] = {"ring-1-1", "ring-4-4", "arp-2-3", "rr"};
    for (gsize i = 0; i < G_N_ELEMENTS(flows); i++) {
      net_flow_stats fa, fb;
      g_assert_true(net_get_flow(from_lua, flows[i], &fa));
      g_assert_true(net_get_flow(r.n, flows[i], &fb));
      g_assert_cmpuint(fa.sent, ==, fb.sent);
      g_assert_cmpuint(fa.delivered, ==, fb.delivered);
      g_assert_true(fa.latency_mean_s == fb.latency_mean_s ||
                    (isnan(fa.latency_mean_s) && isnan(fb.latency_mean_s)));
    }
    for (int i = 0; i < DN; i++) {
      double ca, da, cb, db;
      net_vm_cpu(r.n, l.nested[i], &cb, &db);
      const topo_host *h = g_ptr_array_index(scn->hosts, 0);
      net_vm_cpu(from_lua, g_ptr_array_index(h->vms, (guint)i), &ca, &da);
      g_assert_cmpfloat(ca, ==, cb);
      g_assert_cmpfloat(da, ==, db);
    }
    stop(&r);
    net_spec_free(l.spec);
    topo_scenario_free(l.scn);
    net_model.destroy(from_lua);
    sim_engine_free(eng);
    met_table_free(met);
  }
}

/* What a guest does with its vNIC reaches the model from the scenario text: web's guest set its
 * own MAC (guest_mac) on a port group that rejects MAC address changes, so each of the 10
 * frames db sends it is dropped for that reason (net.h: MAC changes = reject drops frames to a
 * vNIC whose effective MAC differs from its assigned one); sniffer's guest asked for
 * promiscuous mode (promiscuous = true) on a promiscuous port group, so it takes in a flooded
 * copy of each of those 10 frames. And `network = { queue = 7 }` reaches the physical NIC: 20
 * frames sent back to back (80 ns apart) to an external machine through a 1 Mb/s vmnic0, where
 * one frame takes 8 ms, meet a queue of 7 (the frame on the wire included, as link_enqueue
 * counts it) that nothing leaves before the last arrives: 20 - 7 = 13 dropped as queue full. */
static void test_guest_settings_from_lua(void) {
  const char *text =
      "scenario { name = 'g', duration = 1, network = { queue = 7 } }\n"
      "local esx = host { name = 'esx01', cpu = { cores = 2, ghz = 2 }, memory = '8GB',\n"
      "                   nics = { nic { name = 'vmnic0', speed = '1Mbps' } } }\n"
      "local pg = portgroup { name = 'lan', promiscuous = 'accept', mac_changes = 'reject' }\n"
      "vswitch { name = 'vSwitch0', on = esx, uplinks = { 'vmnic0' }, portgroups = { pg } }\n"
      "vm { name = 'web', on = esx, memory = '1GB',\n"
      "     nics = { vnic { portgroup = pg, guest_mac = '02:00:00:00:00:99' } } }\n"
      "vm { name = 'db', on = esx, memory = '1GB', nics = { vnic { portgroup = pg } } }\n"
      "vm { name = 'sniffer', on = esx, memory = '1GB',\n"
      "     nics = { vnic { portgroup = pg, promiscuous = true } } }\n"
      "local nas = external { name = 'nas', speed = '1Gbps' }\n"
      "traffic { from = 'db', to = 'web', rate = '1Gbps', frame = 1000, count = 10 }\n"
      "traffic { name = 'burst', from = 'esx01/sniffer/vnic0', to = nas, rate = '100Gbps',\n"
      "          frame = 1000, count = 20 }\n";
  g_autoptr(GError) err = NULL;
  g_autoptr(topo_scenario) scn = scn_load_string("g.lua", text, strlen(text), NULL, &err);
  g_assert_no_error(err);
  sim_engine *eng = sim_engine_new();
  mdl_run run = {.eng = eng, .scn = scn, .seed = 1, .end = SIM_S};
  net_state *n = net_model.create(&run, &err);
  g_assert_no_error(err);
  sim_run_until(eng, SIM_S);
  net_counters web, sniffer;
  g_assert_true(net_get_counters(n, "esx01/web/vnic0", &web));
  g_assert_true(net_get_counters(n, "esx01/sniffer/vnic0", &sniffer));
  g_assert_cmpuint(web.drops[NET_DROP_MAC_CHANGE], ==, 10);
  g_assert_cmpuint(web.rx_frames, ==, 0);
  g_assert_cmpuint(sniffer.flooded, ==, 10);
  net_link_stats ls;
  g_assert_true(net_get_link(n, "esx01/vmnic0", TRUE, &ls));
  g_assert_cmpuint(ls.dropped, ==, 13);
  net_model.destroy(n);
  sim_engine_free(eng);
}

/* ---- With the CPU model ---------------------------------------------------------------------- */

/* Work done (bare-metal core-seconds) by vm1 of vESX3, CPU-bound, over 3 s of the given design,
 * with the CPU model running and the network charging its per-frame work as drag. OUT: the
 * nested host's and the L2 VM's network CPU, and vESX3's executing time. */
static double drag_run(design d, double *l1_net_s, double *l2_net_s, double *l1_exec_s) {
  designs_lab l;
  designs_build(&l, d);
  for (int i = 0; i < DN; i++)
    for (int j = 0; j < DL2; j++) {
      topo_vm *vm = l.l2[i][j]->vm;
      vm->workload = g_new0(topo_workload, 1);
      vm->workload->kind = TOPO_WL_CPU;
      vm->workload->util = 1.0;
    }
  sim_engine *eng = sim_engine_new();
  met_table *met = met_table_new();
  mdl_run run = {.eng = eng, .scn = l.scn, .met = met, .seed = 42, .end = 3 * SIM_S};
  g_autoptr(GError) err = NULL;
  void *cpu = cpu_model.create(&run, &err);
  g_assert_no_error(err);
  run.cpu = cpu;
  net_state *n = net_new(&run, l.spec, &err);
  g_assert_no_error(err);
  sim_run_until(eng, run.end);
  cpu_model.finish(cpu, run.end);
  topo_vm *l2 = l.l2[2][0]->vm;
  double work = met_get_num(met, (met_id)met_lookup(met, l2->path), "work_s");
  net_vm_cpu(n, l.nested[2], l1_net_s, NULL);
  net_vm_cpu(n, l2, l2_net_s, NULL);
  *l1_exec_s = cpu_vm_exec_s(cpu, l.nested[2]);
  net_free(n);
  cpu_model.destroy(cpu);
  met_table_free(met);
  sim_engine_free(eng);
  net_spec_free(l.spec);
  topo_scenario_free(l.scn);
  return work;
}

/* The discards of the shared design take vESX3's CPU from its VMs. The CPU model's contract
 * (cpu.h) is that a VM progresses at (1 - its drag) of its executing time, and an L2 VM only as
 * its nested hypervisor's vCPUs progress, so an L2 VM on vESX3 does (1 - D_l1)(1 - D_l2) of the
 * work it would do without network, where each D is the VM's network CPU over its executing
 * time. The same L2 VM in the learning design (no discards) must then do more work, in the
 * ratio of those factors (the L2 VM's own factor is the same in both: same traffic). The CPU
 * schedule is the same in both runs (16 nested vCPUs on 8 cores, all busy), so the ratio of the
 * work done must match within 3% (drags are updated every 100 ms, not continuously). */
static void test_drag_discards_slow_nested_vms(void) {
  double n1[2], n2[2], ex[2], w[2];
  w[0] = drag_run(D_SHARED, &n1[0], &n2[0], &ex[0]);
  w[1] = drag_run(D_LEARNING, &n1[1], &n2[1], &ex[1]);
  g_test_message("vm1 on vESX3: work %.3f s shared, %.3f s learning; vESX3 net CPU %.3f / %.3f s "
                 "of %.3f / %.3f s executed", w[0], w[1], n1[0], n1[1], ex[0], ex[1]);
  g_assert_cmpfloat(w[0], <, w[1]);
  double f[2];
  for (int i = 0; i < 2; i++) f[i] = (1.0 - n1[i] / ex[i]);
  double want = f[0] / f[1];
  g_assert_cmpfloat(fabs(w[0] / w[1] - want) / want, <, 0.03);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  for (int p = 0; p < POL_N; p++)
    for (int pl = 0; pl < PL_N; pl++) {
      g_autofree char *path =
          g_strdup_printf("/net/truth-table/%s/%s", policy_names[p], placement_names[pl]);
      g_test_add_data_func(path, GINT_TO_POINTER(p * PL_N + pl), test_truth_table);
    }
  g_test_add_func("/net/flood/shared-promiscuous-copies-to-every-other-port",
                  test_flood_shared_promiscuous);
  g_test_add_func("/net/flood/mac-learning-none-once-learned",
                  test_flood_learning_none_once_learned);
  g_test_add_func("/net/flood/mac-learning-without-flooding-needs-a-learned-source",
                  test_learning_flood_off);
  g_test_add_func("/net/conservation/every-copy-delivered-dropped-or-in-flight",
                  test_conservation);
  g_test_add_func("/net/link/saturated-equal-demands-get-the-fair-share", test_sharing_fair);
  g_test_add_func("/net/link/saturated-fifo-shares-in-proportion-to-demand",
                  test_sharing_proportional);
  g_test_add_func("/net/link/mm1-waiting-time", test_mm1);
  g_test_add_func("/net/latency/request-response-vmxnet3", test_rr_vmxnet3);
  g_test_add_func("/net/latency/request-response-e1000", test_rr_e1000);
  g_test_add_func("/net/policy/mac-changes-reject-drops-frames-to-a-changed-mac",
                  test_mac_changes_reject);
  g_test_add_func("/net/policy/mac-changes-accept-delivers-to-a-changed-mac",
                  test_mac_changes_accept);
  g_test_add_func("/net/policy/defaults", test_policy_defaults);
  g_test_add_func("/net/vlan/tagged-frame-on-a-vlan-portgroup-is-dropped",
                  test_vlan_tagged_on_access);
  g_test_add_func("/net/vlan/tagged-frame-on-a-trunk-portgroup-passes", test_vlan_tagged_on_trunk);
  g_test_add_func("/net/check/nested-portgroup-warnings", test_check_warnings);
  g_test_add_func("/net/source/onoff-mean-rate", test_onoff_mean_rate);
  g_test_add_func("/net/determinism/same-seed-same-copies", test_determinism);
  g_test_add_func("/net/scenario/nested-designs", test_nested_designs);
  g_test_add_func("/net/metrics/drop-reason-columns-count-each-drop-once",
                  test_drop_reason_columns_conserve);
  g_test_add_func("/net/scenario/lua-file-is-the-tested-lab", test_nested_designs_lua);
  g_test_add_func("/net/scenario/guest-mac-promiscuous-and-queue-from-lua",
                  test_guest_settings_from_lua);
  g_test_add_func("/net/cpu/discarded-floods-slow-the-nested-hosts-vms",
                  test_drag_discards_slow_nested_vms);
  return g_test_run();
}
