/* net.c — the network model: frames as discrete events through vNICs, virtual switches at every
 * layer, physical NICs and one external learning switch (see net.h for the path of a frame).
 *
 * Frames. A frame is one copy of an Ethernet frame: source and destination MAC, VLAN tag, size.
 * When a switch sends a frame to several ports (a broadcast, an unknown unicast, promiscuous
 * ports) each port gets its own copy, so every copy has a single fate: delivered to an endpoint,
 * dropped with a reason, or still in flight. Copies come from a free list refilled in slabs:
 * after the first slabs nothing on a frame's path allocates (the only allocation left on the
 * hot path is a MAC-learning table entry, once per newly learned MAC).
 *
 * Time. Virtual switching costs CPU, not wire time: a copy reaches a vNIC after that vNIC's
 * per-frame CPU cost (the receiving VM's work to take it in), and switches forward instantly.
 * Physical links are FIFO queues with a finite capacity served at the link speed (plus the
 * Ethernet preamble and inter-frame gap), then a propagation delay. Each copy carries its own
 * sim_event, so a frame in a queue or in flight costs no other memory.
 *
 * Standard vSwitch semantics (ESXi's, as issue 5 states them): no learning; a switch knows the
 * effective MACs of the vNICs plugged into it; a frame from a vNIC for any other MAC goes to the
 * uplink its port is teamed to; a frame from an uplink for an unknown MAC reaches only
 * promiscuous ports; a promiscuous port (port group promiscuous = accept and the guest asked
 * for promiscuous mode, as a nested hypervisor does for its uplinks) gets a copy of every frame
 * the switch passes in its VLAN; frames never go from an uplink to an uplink. Forged transmits
 * = reject drops, at ingress, frames whose source is not the sending vNIC's effective MAC; MAC
 * address changes = reject drops every frame to a vNIC whose effective MAC differs from its
 * assigned one. A distributed switch is one such switch per member hypervisor, each with that
 * member's uplinks (the data plane of a vDS is per host); with MAC learning it learns the
 * source MACs seen on each vNIC port (aging, per-port limit) and, when flooding is on, sends
 * unknown unicast to every learning port as well — whatever port it came from, as the vSphere 8
 * Networking guide words it ("floods unknown unicast traffic to every port on the switch that
 * has MAC learning and unknown unicast flooding enabled"). It learns nothing on its uplinks, so
 * frames for MACs outside (a router, a client) stay unknown and keep being flooded: a cost of
 * MAC learning the comparison scenario shows.
 *
 * CPU. Every send and receive through a vNIC costs its VM the vNIC type's per-frame cost. A copy
 * that entered a VM and died inside it (in its nested hypervisor's switches, or refused by its
 * guest) is that VM's discard cost: what promiscuous mode makes a nested host pay for frames of
 * its neighbours. When the CPU model runs, each VM's per-frame work over the last drag period,
 * divided by the time its vCPUs executed in that period, is its CPU_DRAG_NET fraction. */
#include "models/net.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <string.h>

#include "models/cpu.h"
#include "sim/rng.h"
#include "sim/stats.h"
#include "src/scn.h"

/* ---- Defaults and their sources ------------------------------------------------------------

 * Per-frame CPU cost of a vNIC (assumption: no source we found gives a per-frame figure for
 * ESXi's vNICs). vmxnet3 is paravirtual: the guest driver and the vmkernel exchange descriptors
 * through shared rings, with no exit per frame in steady state; we charge 2 us per frame for
 * the guest driver, the copy and the switching. e1000 is emulated: its driver touches device
 * registers (the transmit tail, the interrupt cause) that trap to the hypervisor; we charge
 * vmxnet3's 2 us plus 2 exits per frame at 2,000 cycles each on a 2.93 GHz Xeon X5570, the
 * direct cost of one exit measured by Landau, Ben-Yehuda and Gordon ("SplitX: Split
 * Guest/Hypervisor Execution on Multi-Core", WIOV 2011, section 1 and Table 1), which they note
 * the indirect and handling costs can exceed by an order of magnitude — so this is a floor.
 * 2 us + 2 x 2000 / 2.93e9 s = 3.365 us. Both are parameters. */
#define NET_VMXNET3_FRAME_S 2.0e-6
#define NET_E1000_FRAME_S (2.0e-6 + 2.0 * 2000.0 / 2.93e9)

/* Link queues: 1000 frames, Linux's default transmit queue length (DEFAULT_TX_QUEUE_LEN in
 * include/net/pkt_sched.h); we use it for the physical switch's egress ports too (assumption:
 * switch buffers vary by model). */
#define NET_QUEUE_FRAMES 1000u

/* Propagation: 0 by default — a few metres of cable take ~10 ns, far below the 12 us a 1500-byte
 * frame takes to serialise at 1 Gb/s. A parameter for long links. */
#define NET_PROP_DELAY_S 0.0

/* Ethernet adds an 8-byte preamble and start delimiter and a 12-byte inter-frame gap to every
 * frame on the wire (IEEE 802.3 clause 4). */
#define NET_WIRE_OVERHEAD_BYTES 20u

/* The physical switch ages learned addresses after 300 s: the default IEEE 802.1D recommends
 * for the filtering database ageing time (as switch manuals state it, e.g. Fortinet's FortiSwitch
 * "Address Ageing Timeout ... IEEE 802.1D recommends a default of 300 seconds"). */
#define NET_PSWITCH_AGING_S 300.0

/* MAC learning on a distributed switch (vSphere 6.7+, VMware vSphere 8.0 Networking guide, "MAC
 * Learning Policy"): "The maximum value is 4096 per port, which is the default"; unknown
 * unicast flooding "is enabled by default, but only if MAC learning is enabled"; at the limit
 * the policy is Drop or Allow (we default to Drop: assumption, the guide names no default).
 * The guide says unused entries are removed "after a certain period" without a figure; NSX-T
 * 3.0's MAC discovery profile, the same ESXi learning switch, shows "MAC Learning Aging Time
 * ... 600" seconds, which we use. */
#define NET_LEARN_LIMIT 4096u
#define NET_LEARN_AGING_S 600.0

/* How often per-frame work is handed to the CPU model: 100 ms, short against the seconds over
 * which a flood builds up, long against one frame (assumption). */
#define NET_DRAG_PERIOD_S 0.1
/* A VM whose vCPUs executed less than its frames cost is network-bound; the drag is capped
 * there, as cpu_set_drag caps the sum of drags below 1. */
#define NET_DRAG_MAX 0.9

#define NET_BROADCAST UINT64_C(0xffffffffffff)
#define NET_VLAN_TRUNK 4095
#define NET_SLAB 512

void net_params_default(net_params *p) {
  *p = (net_params){
      .vmxnet3_frame_s = NET_VMXNET3_FRAME_S,
      .e1000_frame_s = NET_E1000_FRAME_S,
      .queue_frames = NET_QUEUE_FRAMES,
      .prop_delay_s = NET_PROP_DELAY_S,
      .wire_overhead_bytes = NET_WIRE_OVERHEAD_BYTES,
      .pswitch_aging_s = NET_PSWITCH_AGING_S,
      .learn_aging_s = NET_LEARN_AGING_S,
      .learn_limit = NET_LEARN_LIMIT,
      .learn_limit_drop = true,
      .learn_flood_unknown = true,
      .drag_period_s = NET_DRAG_PERIOD_S,
  };
}

static const char *const drop_names[NET_DROP_N] = {
    "forged", "mac_change", "unknown_dst", "vlan", "queue_full", "filtered", "learn_limit"};

const char *net_drop_name(net_drop d) {
  g_assert(d < NET_DROP_N);
  return drop_names[d];
}

/* Security-policy defaults. Standard switch port groups: "By default, Promiscuous Mode is set to
 * Reject. MAC Address Changes and Forged Transmits are set to Accept" (vSphere 5.0 Networking
 * guide, "Edit the Layer 2 Security Policy Exceptions for a Standard Switch Port Group"; the
 * vSphere 6.0 guide repeats it, p. 271). Distributed port groups: the vSphere 6.0 Networking
 * guide (pp. 271-272, "Edit the Security Policy for a Distributed Port Group") gives the same
 * Reject / Accept / Accept, and the vSphere 5.x Hardening Guide notes forged transmits are
 * accepted by default on dvPortgroups. We found no source for "all three reject" on distributed
 * switches, so both kinds default to Reject / Accept / Accept for every version; the version is
 * an argument so that a documented change can be entered here. */
topo_policy net_policy_default(bool distributed, const char *version, net_sec which) {
  (void)distributed;
  (void)version;
  switch (which) {
    case NET_SEC_PROMISCUOUS: return TOPO_POLICY_REJECT;
    case NET_SEC_MAC_CHANGES: return TOPO_POLICY_ACCEPT;
    case NET_SEC_FORGED_TRANSMITS: return TOPO_POLICY_ACCEPT;
  }
  g_assert_not_reached();
}

static const char *pg_version(const topo_portgroup *pg) {
  if (!pg->owner) return NULL;
  if (pg->distributed) {
    const topo_dvswitch *d = pg->owner;
    if (d->member_hosts && d->member_hosts->len) {
      const topo_host *h = g_ptr_array_index(d->member_hosts, 0);
      return h->hypervisor ? h->hypervisor->version : NULL;
    }
    if (d->member_vms && d->member_vms->len) {
      const topo_vm *v = g_ptr_array_index(d->member_vms, 0);
      return v->hypervisor ? v->hypervisor->version : NULL;
    }
    return NULL;
  }
  const topo_vswitch *s = pg->owner;
  if (s->host && s->host->hypervisor) return s->host->hypervisor->version;
  if (s->vm && s->vm->hypervisor) return s->vm->hypervisor->version;
  return NULL;
}

topo_policy net_policy(const topo_portgroup *pg, net_sec which) {
  topo_policy v = which == NET_SEC_PROMISCUOUS   ? pg->promiscuous
                  : which == NET_SEC_MAC_CHANGES ? pg->mac_changes
                                                 : pg->forged_transmits;
  return v != TOPO_POLICY_DEFAULT ? v : net_policy_default(pg->distributed, pg_version(pg), which);
}

/* ---- MACs ---------------------------------------------------------------------------------- */

/* FNV-1a, 64 bits: stable across platforms and GLib versions, which g_str_hash does not
 * promise, so generated MACs (and the results that depend on them) never change. */
static uint64_t fnv1a(const char *s, uint64_t h) {
  for (; *s; s++) h = (h ^ (uint8_t)*s) * UINT64_C(0x100000001b3);
  return h;
}

/* A locally administered unicast MAC (02:xx:xx:xx:xx:xx) from a name. */
static uint64_t mac_from_name(const char *name) {
  uint64_t h = fnv1a(name, UINT64_C(0xcbf29ce484222325));
  return UINT64_C(0x020000000000) | (h & UINT64_C(0xffffffffff));
}

gboolean net_mac_parse(const char *text, uint64_t *out) {
  if (!text) return FALSE;
  uint64_t mac = 0;
  const char *p = text;
  for (int i = 0; i < 6; i++) {
    if (i > 0) {
      if (*p != ':' && *p != '-') return FALSE;
      p++;
    }
    int hi = g_ascii_xdigit_value(p[0]);
    int lo = hi < 0 ? -1 : g_ascii_xdigit_value(p[1]);
    if (hi < 0 || lo < 0) return FALSE;
    mac = (mac << 8) | (uint64_t)(hi * 16 + lo);
    p += 2;
  }
  if (*p) return FALSE;
  *out = mac;
  return TRUE;
}

static guint vnic_index(const topo_vnic *v) {
  if (v->vm && v->vm->vnics)
    for (guint i = 0; i < v->vm->vnics->len; i++)
      if (g_ptr_array_index(v->vm->vnics, i) == v) return i;
  return 0;
}

static char *vnic_name(const topo_vnic *v) {
  return v->name ? g_strdup(v->name) : g_strdup_printf("vnic%u", vnic_index(v));
}

uint64_t net_vnic_mac(const topo_vnic *v) {
  uint64_t mac;
  if (v->mac && net_mac_parse(v->mac, &mac)) return mac;
  g_autofree char *name = vnic_name(v);
  g_autofree char *key = g_strdup_printf("%s/%s", v->vm && v->vm->path ? v->vm->path : "?", name);
  return mac_from_name(key);
}

static inline bool mac_is_group(uint64_t mac) { return (mac >> 40) & 1; }

/* ---- The spec -------------------------------------------------------------------------------- */

static void external_free(gpointer p) {
  net_external *e = p;
  g_free(e->name);
  g_free(e->mac);
  g_free(e->where);
  g_free(e);
}

static void traffic_free(gpointer p) {
  net_traffic *t = p;
  g_free(t->name);
  g_free(t->where);
  g_free(t);
}

net_spec *net_spec_new(void) {
  net_spec *s = g_new0(net_spec, 1);
  net_params_default(&s->params);
  s->externals = g_ptr_array_new_with_free_func(external_free);
  s->traffic = g_ptr_array_new_with_free_func(traffic_free);
  s->guest_mac = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
  s->guest_promisc = g_hash_table_new(g_direct_hash, g_direct_equal);
  return s;
}

void net_spec_free(net_spec *s) {
  if (!s) return;
  g_ptr_array_unref(s->externals);
  g_ptr_array_unref(s->traffic);
  g_hash_table_unref(s->guest_mac);
  g_hash_table_unref(s->guest_promisc);
  g_free(s);
}

/* ---- The model's structures ------------------------------------------------------------------ */

/* A table keyed by MAC: the MACs a switch knows (its vNICs' effective MACs) or has learned (a
 * distributed switch's per-port tables, the physical switch's). Open addressing with linear
 * probing in a power-of-two array at most half full, and deletion by moving the entries after
 * the hole back (no tombstones): a lookup hashes with one multiplication and reads one or two
 * slots of 32 bytes, where a GHashTable of uint64* keys calls its hash and equality functions
 * through pointers and chases the key's pointer — a frame makes about five lookups, which were
 * 17% of a run of the seed lab. Entries live in the array, so learning a MAC allocates only
 * when the table doubles. */
#define MAC_EMPTY UINT64_MAX /* no 48-bit MAC has the upper bits set */

typedef struct mac_slot {
  uint64_t mac;         /* MAC_EMPTY: a free slot */
  void *port;           /* nport* (virtual switches) or pport* (the physical switch) */
  uint32_t *count;      /* learned: the port's count of learned MACs */
  sim_time seen;        /* learned: when the MAC was last seen on that port */
} mac_slot;

typedef struct mac_table {
  mac_slot *slots;
  uint32_t mask;        /* slots - 1 */
  uint32_t len;
  int shift;            /* 64 - log2(slots) */
} mac_table;

typedef struct nframe nframe;
typedef struct nvm nvm;
typedef struct nvnic nvnic;
typedef struct nnic nnic;
typedef struct next next;
typedef struct nswitch nswitch;
typedef struct nport nport;
typedef struct pport pport;

/* Counters of one reported entity. CPU in integer nanoseconds, so that sums do not depend on the
 * order of additions. */
typedef struct net_ctr {
  uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes, drops[NET_DROP_N], flooded;
  uint64_t drops_here[NET_DROP_N]; /* the drops of `drops` this entity made (not its port's) */
  sim_time cpu_ns, discard_ns;
} net_ctr;

/* A reported entity: its path, metrics id and counters (since the start or the reset, and at the
 * last interval sample). */
typedef struct nent {
  char *path;
  const char *kind;
  int layer;
  met_id met;
  net_ctr c, last;
} nent;

/* The place a copy arrives at after a link. */
typedef enum { DEST_PSW, DEST_NIC, DEST_EXT } link_dest;

/* One direction of a physical link: a FIFO of copies (linked through nframe.next) and a server
 * transmitting the head at the link speed. */
typedef struct nlink {
  double bps;
  uint32_t cap;              /* 0: unbounded */
  uint32_t len;              /* queued, the one transmitting included */
  nframe *head, *tail;
  link_dest dest_kind;
  void *dest;
  nent *sender;              /* counts tx and queue-full drops (the NIC, external or pswitch) */
  uint32_t last_bytes;       /* tx_ns's last question (0: none yet) and answer */
  sim_time last_ns;
  uint64_t served, dropped;
  sim_time wait_ns, busy_ns;
} nlink;

struct nvm {
  const topo_vm *tv;
  sim_time cpu_ns, discard_ns; /* since the start or the reset */
  sim_time window_ns;          /* work since the last drag update */
  double last_exec_s;
  met_id met;
  bool has_met;
};

typedef enum { NODE_VNIC, NODE_EXT } node_kind;

struct nvnic {
  node_kind node;
  nent e;
  const topo_vnic *tv;
  nvm *vm;
  uint64_t mac_assigned, mac_eff;
  bool guest_promisc;
  sim_time cost;
  nport *port;          /* its port on the switch its port group belongs to; NULL: unplugged */
  nport *uplink_port;   /* its role as an uplink of a switch of its own VM's hypervisor */
};

struct nnic {
  nent e;
  const topo_nic *tn;
  nlink tx;             /* host -> physical switch */
  nport *uplink_port;   /* its port on the vSwitch it is an uplink of */
  pport *pp;
};

struct next {
  node_kind node;
  nent e;
  const net_external *te;
  uint64_t mac;
  nlink tx;             /* external -> physical switch */
  pport *pp;
};

typedef enum { PORT_VNIC, PORT_NIC, PORT_VUPLINK } port_kind;

struct nport {
  port_kind kind;
  nswitch *sw;
  nvnic *vnic;          /* PORT_VNIC, PORT_VUPLINK */
  nnic *nic;            /* PORT_NIC */
  int vlan;             /* PORT_VNIC: its port group's VLAN (0 none, 1-4094, 4095 trunk) */
  bool promisc, forged_reject, macchg_reject, learn;
  uint32_t uplink;      /* PORT_VNIC: index of the uplink it is teamed to */
  uint32_t n_learned;
  uint64_t mark;        /* == its switch's mark_gen: already a target of the current frame */
  /* The last forwarding decision for a unicast frame that came in here, when it was a single
   * copy out of one port, on a switch that does not learn. There the decision depends only on
   * the port, the destination MAC and the VLAN (the switch's MACs, port groups and uplinks do
   * not change during a run), so a frame with the same destination and VLAN — every frame of
   * a stream after the first — takes it without the MAC lookup and the walk over the
   * promiscuous ports. */
  uint64_t fwd_dst;     /* MAC_EMPTY: no decision kept */
  nport *fwd_to;
  uint16_t fwd_vlan;
  bool fwd_flood;
};

struct nswitch {
  nent e;
  nvm *owner;           /* the nested hypervisor VM it runs in; NULL on a physical host */
  const void *member;   /* topo_host* or topo_vm*: the hypervisor it is part of */
  bool learning;
  GPtrArray *vports;    /* nport* PORT_VNIC, owned */
  GPtrArray *uplinks;   /* nport* PORT_NIC or PORT_VUPLINK, owned */
  GPtrArray *promisc;   /* the promiscuous ones among vports (every unicast frame visits them) */
  mac_table macs;       /* effective MAC -> nport* (port) */
  mac_table learned;    /* learned MAC -> nport*, with its count and time (learning switches) */
  nport **tgt;          /* scratch: the ports of one forwarding decision */
  bool *tgt_flood;
  uint64_t mark_gen;    /* one per frame: 64 bits never wrap */
};

struct pport {
  nlink egress;         /* physical switch -> device */
  nent *dev_ent;
  int vlan;             /* -1: trunk (host NIC); else the external's access VLAN */
  uint32_t n_learned;
};

typedef enum { ST_TX_DONE, ST_ARRIVE, ST_VNIC_RX } frame_stage;
typedef enum { FK_DATA, FK_REQ, FK_RESP, FK_NOISE } frame_kind;

struct nframe {
  sim_entity ent;
  sim_event ev;
  net_state *n;
  nframe *next;
  uint64_t src, dst;
  sim_time born, t_enq;
  void *at;             /* ST_TX_DONE, ST_ARRIVE: the nlink; ST_VNIC_RX: the nvnic */
  nvnic *rx_vnic;       /* the last vNIC that took it into a VM (for discard accounting) */
  int32_t flow;         /* index in net_state.flows, or -1 */
  uint32_t bytes;
  uint16_t vlan;
  uint8_t stage, kind;
  bool flood;
};

typedef struct nflow {
  nent e;
  int32_t index;        /* in net_state.flows */
  const net_traffic *t;
  void *from, *to;      /* nvnic* or next* (node_kind first) */
  uint64_t sent, delivered, delivered_bytes;
  uint64_t last_sent, last_delivered, last_bytes;
  sim_hist *lat;
} nflow;

typedef struct nsrc {
  sim_entity ent;
  sim_event ev;
  net_state *n;
  gsl_rng *rng;
  nflow *fl;
  uint64_t dst;
  double gap_s;         /* mean time between sends while on */
  sim_time on_until;     /* onoff: the end of the current on period */
  uint64_t sends;
} nsrc;

struct net_state {
  mdl_run *run;
  sim_engine *eng;
  const net_spec *spec;
  net_spec *own_spec;   /* set when built by net_model.create */
  net_params p;
  sim_time prop_ns, learn_aging_ns, psw_aging_ns;
  sim_time since;       /* statistics start */

  GPtrArray *vms;       /* nvm*, owned */
  GPtrArray *vnics;     /* nvnic*, owned */
  GPtrArray *nics;      /* nnic*, owned */
  GPtrArray *exts;      /* next*, owned */
  GPtrArray *switches;  /* nswitch*, owned */
  GPtrArray *flows;     /* nflow*, owned */
  GPtrArray *srcs;      /* nsrc*, owned */
  GPtrArray *ents;      /* nent*, every reported entity in build order, not owned */
  GHashTable *by_path;  /* char* -> nent* */
  GHashTable *vm_of;    /* const topo_vm* -> nvm* */
  GHashTable *vnic_of;  /* const topo_vnic* -> nvnic* */

  nent psw;             /* the physical switch */
  GPtrArray *pports;    /* pport*, owned */
  mac_table psw_learned;

  GPtrArray *slabs;     /* nframe[NET_SLAB] arrays */
  nframe *free_frames;
  net_totals tot;

  sim_entity drag_ent;
  sim_event drag_ev;

  met_id col_pkttx, col_mbtx, col_pktrx, col_mbrx, col_drop, col_flood, col_cpu, col_discard;
  /* DROP_<reason>/s: the drops this entity made, by reason, so that a sum over entities counts
   * each drop once (DROP/s also counts a drop at the port's vNIC or NIC). */
  met_id col_drop_reason[NET_DROP_N];
  double *row;
};

/* Seconds to nanoseconds, rounded to the nearest, halves away from zero: llround(s * 1e9)
 * without the call into libm, which took 2.5% of a run (a frame converts its gap and two link
 * times). The cast truncates towards zero, and x - trunc(x) is exact in binary floating point,
 * so comparing it with 0.5 rounds exactly as llround does, for every |x| < 2^63. */
static inline sim_time secs(double s) {
  double x = s * 1e9;
  sim_time t = (sim_time)x;
  double frac = x - (double)t;
  if (frac >= 0.5) t++;
  else if (frac <= -0.5) t--;
  return t;
}

/* ---- Frames ---------------------------------------------------------------------------------- */

static void frame_handle(sim_engine *eng, sim_entity *self, sim_event *ev);
static const sim_entity_type frame_type = {.kind = "net-frame", .handle = frame_handle};

static nframe *frame_new(net_state *n) {
  if (!n->free_frames) {
    nframe *slab = g_new0(nframe, NET_SLAB);
    g_ptr_array_add(n->slabs, slab);
    for (int i = NET_SLAB - 1; i >= 0; i--) {
      slab[i].ent.type = &frame_type;
      slab[i].n = n;
      sim_event_init(&slab[i].ev, &slab[i].ent, 0);
      slab[i].next = n->free_frames;
      n->free_frames = &slab[i];
    }
  }
  nframe *f = n->free_frames;
  n->free_frames = f->next;
  f->next = NULL;
  f->rx_vnic = NULL;
  f->flood = false;
  f->flow = -1;
  f->vlan = 0;
  n->tot.created++;
  n->tot.in_flight++;
  return f;
}

static nframe *frame_clone(net_state *n, const nframe *f) {
  nframe *g = frame_new(n);
  g->src = f->src;
  g->dst = f->dst;
  g->born = f->born;
  g->rx_vnic = f->rx_vnic;
  g->flow = f->flow;
  g->bytes = f->bytes;
  g->vlan = f->vlan;
  g->kind = f->kind;
  return g;
}

static void frame_release(net_state *n, nframe *f) {
  g_assert(!sim_event_pending(&f->ev));
  n->tot.in_flight--;
  f->next = n->free_frames;
  n->free_frames = f;
}

static void frame_delivered(net_state *n, nframe *f) {
  n->tot.delivered++;
  frame_release(n, f);
}

/* Ends a copy with a reason, counted at `where` (and `also`, the port it concerns, if any). If the
 * copy had entered VM `in_vm` and dies inside it, what that VM paid to receive it was wasted. */
static void frame_drop(net_state *n, nframe *f, nent *where, nent *also, nvm *in_vm, net_drop r) {
  where->c.drops[r]++;
  where->c.drops_here[r]++;
  if (also) also->c.drops[r]++;
  n->tot.drops[r]++;
  n->tot.dropped++;
  if (in_vm && f->rx_vnic && f->rx_vnic->vm == in_vm) {
    f->rx_vnic->e.c.discard_ns += f->rx_vnic->cost;
    in_vm->discard_ns += f->rx_vnic->cost;
  }
  frame_release(n, f);
}

static inline void ctr_tx(nent *e, const nframe *f) {
  e->c.tx_frames++;
  e->c.tx_bytes += f->bytes;
}

static inline void ctr_rx(nent *e, const nframe *f) {
  e->c.rx_frames++;
  e->c.rx_bytes += f->bytes;
}

static void charge(nvnic *v) {
  v->e.c.cpu_ns += v->cost;
  v->vm->cpu_ns += v->cost;
  v->vm->window_ns += v->cost;
}

/* ---- MAC and learning tables ---------------------------------------------------------------- */

static void mt_init(mac_table *t, uint32_t min_len) {
  uint32_t cap = 16;
  int bits = 4;
  while (cap < 2 * min_len) {
    cap *= 2;
    bits++;
  }
  t->slots = g_new(mac_slot, cap);
  for (uint32_t i = 0; i < cap; i++) t->slots[i].mac = MAC_EMPTY;
  t->mask = cap - 1;
  t->len = 0;
  t->shift = 64 - bits;
}

static void mt_clear(mac_table *t) { g_free(t->slots); }

/* Fibonacci hashing: the top bits of mac times 2^64 / golden ratio. */
static inline uint32_t mt_home(const mac_table *t, uint64_t mac) {
  return (uint32_t)((mac * UINT64_C(0x9e3779b97f4a7c15)) >> t->shift);
}

static inline mac_slot *mt_find(const mac_table *t, uint64_t mac) {
  for (uint32_t i = mt_home(t, mac);; i = (i + 1) & t->mask) {
    mac_slot *e = &t->slots[i];
    if (e->mac == mac) return e;
    if (e->mac == MAC_EMPTY) return NULL;
  }
}

static mac_slot *mt_insert(mac_table *t, uint64_t mac);

/* Doubles the array and reinserts every entry (their slot pointers change). */
static void mt_grow(mac_table *t) {
  mac_slot *old = t->slots;
  uint32_t n = t->mask + 1;
  t->slots = g_new(mac_slot, 2 * n);
  for (uint32_t i = 0; i < 2 * n; i++) t->slots[i].mac = MAC_EMPTY;
  t->mask = 2 * n - 1;
  t->shift--;
  t->len = 0;
  for (uint32_t i = 0; i < n; i++)
    if (old[i].mac != MAC_EMPTY) *mt_insert(t, old[i].mac) = old[i];
  g_free(old);
}

/* A new entry for mac, which must not be in the table; its other fields are for the caller to
 * set. Slot pointers into the table are invalid afterwards (it may have grown). */
static mac_slot *mt_insert(mac_table *t, uint64_t mac) {
  g_assert(mac != MAC_EMPTY);
  if (2 * (t->len + 1) > t->mask + 1) mt_grow(t);
  uint32_t i = mt_home(t, mac);
  while (t->slots[i].mac != MAC_EMPTY) i = (i + 1) & t->mask;
  t->len++;
  t->slots[i].mac = mac;
  return &t->slots[i];
}

/* Removes entry e. The entries after it in its run move back into the hole when that brings
 * them no further from their home slot, so that every entry stays reachable from its home
 * without tombstones. Only slots at or after e (cyclically) change. */
static void mt_remove(mac_table *t, mac_slot *e) {
  uint32_t hole = (uint32_t)(e - t->slots);
  for (uint32_t j = (hole + 1) & t->mask; t->slots[j].mac != MAC_EMPTY; j = (j + 1) & t->mask) {
    uint32_t home = mt_home(t, t->slots[j].mac);
    /* j's entry may fill the hole unless its home lies cyclically in (hole, j]. */
    if (((j - home) & t->mask) >= ((j - hole) & t->mask)) {
      t->slots[hole] = t->slots[j];
      hole = j;
    }
  }
  t->slots[hole].mac = MAC_EMPTY;
  t->len--;
}

/* The live entry for mac, or NULL; an entry idle for longer than `aging` is removed on the way. */
static mac_slot *lt_get(mac_table *t, uint64_t mac, sim_time now, sim_time aging) {
  mac_slot *l = mt_find(t, mac);
  if (l && now - l->seen > aging) {
    (*l->count)--;
    mt_remove(t, l);
    return NULL;
  }
  return l;
}

/* Removes the entries of `port` idle for longer than `aging`. A removal can move a later entry
 * into the slot just examined, so the scan looks at that slot again; an entry that wraps round
 * to the end of the array is looked at twice, which decides the same both times. */
static void lt_purge(mac_table *t, void *port, sim_time now, sim_time aging) {
  for (uint32_t i = 0; i <= t->mask;) {
    mac_slot *l = &t->slots[i];
    if (l->mac != MAC_EMPTY && l->port == port && now - l->seen > aging) {
      (*l->count)--;
      mt_remove(t, l);
    } else {
      i++;
    }
  }
}

/* Learns that mac is behind port. FALSE when the port's table is full (limit > 0). */
static bool lt_learn(mac_table *t, uint64_t mac, void *port, uint32_t *count, uint32_t limit,
                     sim_time now, sim_time aging) {
  mac_slot *l = lt_get(t, mac, now, aging);
  if (l && l->port == port) {
    l->seen = now;
    return true;
  }
  if (limit && *count >= limit) {
    /* Aged entries of this port still count until looked up; clear them before refusing. The
     * scan is O(table) but happens only at the limit. It may move entries, so mac's (which
     * belongs to another port and stays) is looked up again. */
    lt_purge(t, port, now, aging);
    if (*count >= limit) return false;
    l = mt_find(t, mac);
  }
  if (l) /* the MAC moved to another port */
    (*l->count)--;
  else
    l = mt_insert(t, mac);
  l->port = port;
  l->count = count;
  l->seen = now;
  (*count)++;
  return true;
}

/* ---- Links ----------------------------------------------------------------------------------- */

static void psw_input(net_state *n, pport *in, nframe *f);
static void nic_rx(net_state *n, nnic *nic, nframe *f);
static void ext_rx(net_state *n, next *x, nframe *f);

/* The time a frame of `bytes` takes on l. Most frames of a link have the size of the one
 * before (a stream's), so the last answer is kept. */
static sim_time tx_ns(const net_state *n, nlink *l, uint32_t bytes) {
  if (bytes == l->last_bytes) return l->last_ns;
  double s = (double)(bytes + n->p.wire_overhead_bytes) * 8.0 / l->bps;
  sim_time t = secs(s);
  l->last_bytes = bytes;
  l->last_ns = t > 0 ? t : 1;
  return l->last_ns;
}

static void link_start(net_state *n, nlink *l) {
  nframe *f = l->head;
  sim_time now = sim_now(n->eng);
  sim_time t = tx_ns(n, l, f->bytes);
  l->wait_ns += now - f->t_enq;
  l->busy_ns += t;
  f->stage = ST_TX_DONE;
  f->at = l;
  sim_schedule(n->eng, &f->ev, now + t);
}

static void link_enqueue(net_state *n, nlink *l, nframe *f) {
  if (l->cap && l->len >= l->cap) {
    l->dropped++;
    frame_drop(n, f, l->sender, NULL, NULL, NET_DROP_QUEUE_FULL);
    return;
  }
  f->t_enq = sim_now(n->eng);
  f->next = NULL;
  if (l->tail)
    l->tail->next = f;
  else
    l->head = f;
  l->tail = f;
  if (++l->len == 1) link_start(n, l);
}

static void link_arrive(net_state *n, nlink *l, nframe *f) {
  switch (l->dest_kind) {
    case DEST_PSW: psw_input(n, l->dest, f); return;
    case DEST_NIC: nic_rx(n, l->dest, f); return;
    case DEST_EXT: ext_rx(n, l->dest, f); return;
  }
}

static void link_done(net_state *n, nlink *l, nframe *f) {
  g_assert(l->head == f);
  l->head = f->next;
  if (!l->head) l->tail = NULL;
  f->next = NULL;
  l->len--;
  l->served++;
  if (l->sender) ctr_tx(l->sender, f);
  if (l->head) link_start(n, l);
  if (n->prop_ns == 0) {
    link_arrive(n, l, f);
  } else {
    f->stage = ST_ARRIVE;
    f->at = l;
    sim_schedule(n->eng, &f->ev, sim_now(n->eng) + n->prop_ns);
  }
}

/* ---- Endpoints and flows --------------------------------------------------------------------- */

static void sw_input(net_state *n, nswitch *sw, nport *in, nframe *f);

/* The VM behind v transmits f through v: it pays for it, and the frame enters v's port. */
static void vnic_tx(net_state *n, nvnic *v, nframe *f) {
  ctr_tx(&v->e, f);
  charge(v);
  if (!v->port) {
    frame_drop(n, f, &v->e, NULL, NULL, NET_DROP_UNKNOWN_DST);
    return;
  }
  sw_input(n, v->port->sw, v->port, f);
}

/* Sends a new frame from an endpoint (a VM's vNIC or an external machine). */
static void endpoint_send(net_state *n, void *node, nframe *f) {
  if (*(node_kind *)node == NODE_VNIC) {
    nvnic *v = node;
    f->src = v->mac_eff;
    f->vlan = 0;
    vnic_tx(n, v, f);
  } else {
    next *x = node;
    f->src = x->mac;
    f->vlan = (uint16_t)(x->te && x->te->vlan > 0 ? x->te->vlan : 0);
    link_enqueue(n, &x->tx, f);
  }
}

/* An endpoint takes f in: flow accounting, the response of a request-response pair. */
static void endpoint_receive(net_state *n, void *node, nframe *f) {
  if (f->flow >= 0) {
    nflow *fl = g_ptr_array_index(n->flows, f->flow);
    double lat = (double)(sim_now(n->eng) - f->born) * 1e-9;
    switch ((frame_kind)f->kind) {
      case FK_DATA:
        if (fl->to == node) {
          fl->delivered++;
          fl->delivered_bytes += f->bytes;
          sim_hist_add(fl->lat, lat);
        }
        break;
      case FK_NOISE:
        fl->delivered++;
        fl->delivered_bytes += f->bytes;
        break;
      case FK_REQ:
        if (fl->to == node) {
          nframe *r = frame_new(n);
          r->dst = f->src;
          r->bytes = f->bytes;
          r->kind = FK_RESP;
          r->flow = f->flow;
          r->born = f->born;
          endpoint_send(n, node, r);
        }
        break;
      case FK_RESP:
        if (fl->from == node) {
          fl->delivered++;
          fl->delivered_bytes += f->bytes;
          sim_hist_add(fl->lat, lat);
        }
        break;
    }
  }
  frame_delivered(n, f);
}

/* A copy reaches vNIC v after v's per-frame cost: v's VM pays to take it in. A nested
 * hypervisor's uplink hands it to its switch; a guest keeps what is addressed to it. */
static void vnic_rx(net_state *n, nvnic *v, nframe *f) {
  ctr_rx(&v->e, f);
  if (f->flood) v->e.c.flooded++;
  charge(v);
  f->rx_vnic = v;
  if (v->uplink_port) {
    sw_input(n, v->uplink_port->sw, v->uplink_port, f);
    return;
  }
  if (mac_is_group(f->dst) || f->dst == v->mac_eff)
    endpoint_receive(n, v, f);
  else /* a promiscuous guest looked at a frame for someone else */
    frame_drop(n, f, &v->e, NULL, v->vm, NET_DROP_UNKNOWN_DST);
}

static void nic_rx(net_state *n, nnic *nic, nframe *f) {
  ctr_rx(&nic->e, f);
  if (!nic->uplink_port) {
    frame_drop(n, f, &nic->e, NULL, NULL, NET_DROP_UNKNOWN_DST);
    return;
  }
  sw_input(n, nic->uplink_port->sw, nic->uplink_port, f);
}

static void ext_rx(net_state *n, next *x, nframe *f) {
  ctr_rx(&x->e, f);
  if (f->flood) x->e.c.flooded++;
  if (mac_is_group(f->dst) || f->dst == x->mac)
    endpoint_receive(n, x, f);
  else
    frame_drop(n, f, &x->e, NULL, NULL, NET_DROP_UNKNOWN_DST);
}

static void frame_handle(sim_engine *eng, sim_entity *self, sim_event *ev) {
  (void)eng;
  (void)ev;
  nframe *f = SIM_CONTAINER_OF(self, nframe, ent);
  net_state *n = f->n;
  switch ((frame_stage)f->stage) {
    case ST_TX_DONE: link_done(n, f->at, f); return;
    case ST_ARRIVE: link_arrive(n, f->at, f); return;
    case ST_VNIC_RX: vnic_rx(n, f->at, f); return;
  }
}

/* ---- Virtual switches ------------------------------------------------------------------------ */

static inline bool port_admits(const nport *p, uint16_t vlan) {
  return p->vlan == NET_VLAN_TRUNK || p->vlan == vlan;
}

static inline void tgt_add(nswitch *sw, uint32_t *nt, nport *p, bool flood) {
  if (p->mark == sw->mark_gen) return;
  p->mark = sw->mark_gen;
  sw->tgt[*nt] = p;
  sw->tgt_flood[*nt] = flood;
  (*nt)++;
}

/* Sends one copy out of port p of sw. */
static void port_out(net_state *n, nswitch *sw, nport *p, nframe *f) {
  ctr_tx(&sw->e, f);
  switch (p->kind) {
    case PORT_VNIC: {
      nvnic *v = p->vnic;
      if (p->macchg_reject && v->mac_eff != v->mac_assigned) {
        frame_drop(n, f, &v->e, &sw->e, sw->owner, NET_DROP_MAC_CHANGE);
        return;
      }
      if (p->vlan != NET_VLAN_TRUNK) f->vlan = 0; /* the switch strips its port group's tag */
      /* The virtual NIC's own MAC filter refuses, at no cost to the guest, a unicast copy for
       * someone else unless the guest put it in promiscuous mode. */
      if (!v->guest_promisc && !mac_is_group(f->dst) && f->dst != v->mac_eff) {
        frame_drop(n, f, &v->e, &sw->e, sw->owner, NET_DROP_UNKNOWN_DST);
        return;
      }
      f->stage = ST_VNIC_RX;
      f->at = v;
      sim_schedule(n->eng, &f->ev, sim_now(n->eng) + v->cost);
      return;
    }
    case PORT_NIC: link_enqueue(n, &p->nic->tx, f); return;
    case PORT_VUPLINK: vnic_tx(n, p->vnic, f); return;
  }
}

static void sw_input(net_state *n, nswitch *sw, nport *in, nframe *f) {
  sim_time now = sim_now(n->eng);
  ctr_rx(&sw->e, f);
  nent *in_ent = in->kind == PORT_NIC ? &in->nic->e : &in->vnic->e;
  if (in->kind == PORT_VNIC) {
    if (in->vlan != NET_VLAN_TRUNK) {
      if (f->vlan != 0) { /* a guest-tagged frame on a port group that does not trunk */
        frame_drop(n, f, &sw->e, in_ent, sw->owner, NET_DROP_VLAN);
        return;
      }
      f->vlan = (uint16_t)in->vlan;
    }
    if (in->forged_reject && f->src != in->vnic->mac_eff) {
      frame_drop(n, f, &sw->e, in_ent, sw->owner, NET_DROP_FORGED);
      return;
    }
    if (in->learn && !mac_is_group(f->src) && !mt_find(&sw->macs, f->src) &&
        !lt_learn(&sw->learned, f->src, in, &in->n_learned, n->p.learn_limit, now,
                  n->learn_aging_ns) &&
        n->p.learn_limit_drop) {
      frame_drop(n, f, &sw->e, in_ent, sw->owner, NET_DROP_LEARN_LIMIT);
      return;
    }
  }

  if (!sw->learning && f->dst == in->fwd_dst && f->vlan == in->fwd_vlan) {
    f->flood = in->fwd_flood;
    if (f->flood) {
      sw->e.c.flooded++;
      n->tot.flooded++;
    }
    port_out(n, sw, in->fwd_to, f);
    return;
  }

  uint32_t nt = 0;
  sw->mark_gen++;
  in->mark = sw->mark_gen; /* never back out of the port it came in on */
  bool from_vnic = in->kind == PORT_VNIC;
  nport *up = from_vnic && sw->uplinks->len ? g_ptr_array_index(sw->uplinks, in->uplink) : NULL;
  if (mac_is_group(f->dst)) {
    for (guint i = 0; i < sw->vports->len; i++) {
      nport *p = g_ptr_array_index(sw->vports, i);
      if (port_admits(p, f->vlan)) tgt_add(sw, &nt, p, false);
    }
    if (up) tgt_add(sw, &nt, up, false);
    if (nt == 0) { /* nobody else in its VLAN: the hypervisor itself takes the broadcast */
      frame_delivered(n, f);
      return;
    }
  } else {
    const mac_slot *known = mt_find(&sw->macs, f->dst);
    nport *q = known ? known->port : NULL;
    if (!q && sw->learning) {
      const mac_slot *l = lt_get(&sw->learned, f->dst, now, n->learn_aging_ns);
      if (l) q = l->port;
    }
    if (q && !port_admits(q, f->vlan)) q = NULL;
    if (q == in) {
      frame_drop(n, f, &sw->e, in_ent, sw->owner, NET_DROP_FILTERED);
      return;
    }
    if (q) {
      tgt_add(sw, &nt, q, false);
    } else {
      if (up) tgt_add(sw, &nt, up, false);
      if (sw->learning && n->p.learn_flood_unknown)
        for (guint i = 0; i < sw->vports->len; i++) {
          nport *p = g_ptr_array_index(sw->vports, i);
          if (p->learn && port_admits(p, f->vlan)) tgt_add(sw, &nt, p, true);
        }
    }
    for (guint i = 0; i < sw->promisc->len; i++) {
      nport *p = g_ptr_array_index(sw->promisc, i);
      if (port_admits(p, f->vlan)) tgt_add(sw, &nt, p, true);
    }
    if (nt == 0) {
      frame_drop(n, f, &sw->e, NULL, sw->owner, NET_DROP_UNKNOWN_DST);
      return;
    }
  }
  if (nt == 1 && !sw->learning && !mac_is_group(f->dst)) {
    in->fwd_dst = f->dst;
    in->fwd_vlan = f->vlan;
    in->fwd_to = sw->tgt[0];
    in->fwd_flood = sw->tgt_flood[0];
  }
  /* Copies first, the original last: every copy is made from the frame as it arrived. */
  for (uint32_t i = 0; i < nt; i++) {
    nframe *g = i + 1 == nt ? f : frame_clone(n, f);
    g->flood = sw->tgt_flood[i];
    if (g->flood) {
      sw->e.c.flooded++;
      n->tot.flooded++;
    }
    port_out(n, sw, sw->tgt[i], g);
  }
}

/* ---- The physical switch --------------------------------------------------------------------- */

static inline bool pport_admits(const pport *p, uint16_t vlan) {
  return p->vlan < 0 || p->vlan == vlan;
}

static void pport_out(net_state *n, pport *p, nframe *f, bool flood) {
  f->flood = flood;
  if (flood) {
    n->psw.c.flooded++;
    n->tot.flooded++;
  }
  if (p->vlan >= 0) f->vlan = 0; /* an access port sends untagged */
  link_enqueue(n, &p->egress, f);
}

static void psw_input(net_state *n, pport *in, nframe *f) {
  sim_time now = sim_now(n->eng);
  ctr_rx(&n->psw, f);
  if (!mac_is_group(f->src))
    lt_learn(&n->psw_learned, f->src, in, &in->n_learned, 0, now, n->psw_aging_ns);
  pport *q = NULL;
  if (!mac_is_group(f->dst)) {
    const mac_slot *l = lt_get(&n->psw_learned, f->dst, now, n->psw_aging_ns);
    if (l) q = l->port;
  }
  if (q == in) {
    frame_drop(n, f, &n->psw, NULL, NULL, NET_DROP_FILTERED);
    return;
  }
  if (q) {
    if (!pport_admits(q, f->vlan)) {
      frame_drop(n, f, &n->psw, NULL, NULL, NET_DROP_VLAN);
      return;
    }
    pport_out(n, q, f, false);
    return;
  }
  /* Broadcast or unknown unicast: every other port of the VLAN gets a copy (unknown unicast
   * copies are floods). */
  bool flood = !mac_is_group(f->dst);
  pport *last = NULL;
  for (guint i = 0; i < n->pports->len; i++) {
    pport *p = g_ptr_array_index(n->pports, i);
    if (p == in || !pport_admits(p, f->vlan)) continue;
    if (last) pport_out(n, last, frame_clone(n, f), flood);
    last = p;
  }
  if (last)
    pport_out(n, last, f, flood);
  else
    frame_drop(n, f, &n->psw, NULL, NULL, NET_DROP_UNKNOWN_DST);
}

/* ---- Traffic sources ------------------------------------------------------------------------- */


static double src_gap(nsrc *s) {
  return s->fl->t->pattern == NET_PATTERN_POISSON ? gsl_ran_exponential(s->rng, s->gap_s)
                                                  : s->gap_s;
}

/* The time of the next send after `now`, through on/off periods for an onoff source. */
static sim_time src_next(nsrc *s, sim_time now) {
  const net_traffic *t = s->fl->t;
  sim_time at = now + secs(src_gap(s));
  if (t->pattern != NET_PATTERN_ONOFF) return at;
  while (at >= s->on_until) { /* the on period ends first: an off period, then a new on one */
    sim_time on_start = s->on_until + secs(gsl_ran_exponential(s->rng, t->off_s));
    s->on_until = on_start + secs(gsl_ran_exponential(s->rng, t->on_s));
    at = on_start + secs(s->gap_s * gsl_rng_uniform(s->rng));
  }
  return at;
}

static void src_handle(sim_engine *eng, sim_entity *self, sim_event *ev) {
  (void)ev;
  nsrc *s = SIM_CONTAINER_OF(self, nsrc, ent);
  net_state *n = s->n;
  const net_traffic *t = s->fl->t;
  sim_time now = sim_now(eng);
  nframe *f = frame_new(n);
  f->dst = s->dst;
  f->born = now;
  f->flow = s->fl->index;
  f->kind = t->kind == NET_TRAFFIC_STREAM ? FK_DATA : t->kind == NET_TRAFFIC_RR ? FK_REQ : FK_NOISE;
  if (t->exp_size) {
    double b = ceil(gsl_ran_exponential(s->rng, t->frame_bytes));
    f->bytes = b < 1 ? 1u : b > 1e9 ? 1000000000u : (uint32_t)b;
  } else {
    f->bytes = t->frame_bytes;
  }
  s->fl->sent++;
  if (!t->count || ++s->sends < t->count) sim_schedule(eng, &s->ev, src_next(s, now));
  endpoint_send(n, s->fl->from, f);
}

static const sim_entity_type src_type = {.kind = "net-source", .handle = src_handle};

/* ---- CPU drag -------------------------------------------------------------------------------- */

static void drag_handle(sim_engine *eng, sim_entity *self, sim_event *ev) {
  (void)ev;
  net_state *n = SIM_CONTAINER_OF(self, net_state, drag_ent);
  cpu_state *cpu = n->run->cpu;
  for (guint i = 0; i < n->vms->len; i++) {
    nvm *vm = g_ptr_array_index(n->vms, i);
    double exec = cpu_vm_exec_s(cpu, vm->tv);
    double dexec = exec - vm->last_exec_s;
    double work = (double)vm->window_ns * 1e-9;
    double frac = dexec > 0 ? MIN(NET_DRAG_MAX, work / dexec) : 0.0;
    cpu_set_drag(cpu, vm->tv, CPU_DRAG_NET, frac);
    vm->last_exec_s = exec;
    vm->window_ns = 0;
  }
  sim_schedule(eng, &n->drag_ev, sim_now(eng) + secs(n->p.drag_period_s));
}

static const sim_entity_type drag_type = {.kind = "net-drag", .handle = drag_handle};

/* ---- Building -------------------------------------------------------------------------------- */

static void ent_init(net_state *n, nent *e, char *path, const char *kind, int layer) {
  e->path = path;
  e->kind = kind;
  e->layer = layer;
  g_ptr_array_add(n->ents, e);
}

static nvm *vm_get(net_state *n, const topo_vm *tv) {
  nvm *v = g_hash_table_lookup(n->vm_of, tv);
  if (!v) {
    v = g_new0(nvm, 1);
    v->tv = tv;
    g_hash_table_insert(n->vm_of, (gpointer)tv, v);
    g_ptr_array_add(n->vms, v);
  }
  return v;
}

static nswitch *switch_new(net_state *n, char *path, const char *kind, int layer, nvm *owner,
                           const void *member, bool learning) {
  nswitch *sw = g_new0(nswitch, 1);
  ent_init(n, &sw->e, path, kind, layer);
  sw->owner = owner;
  sw->member = member;
  sw->learning = learning;
  sw->vports = g_ptr_array_new_with_free_func(g_free);
  sw->uplinks = g_ptr_array_new_with_free_func(g_free);
  sw->promisc = g_ptr_array_new();
  mt_init(&sw->macs, 0);
  mt_init(&sw->learned, 0);
  g_ptr_array_add(n->switches, sw);
  return sw;
}

static nvnic *vnic_of(net_state *n, const topo_vnic *tv) {
  return g_hash_table_lookup(n->vnic_of, tv);
}

static const topo_vnic *vm_vnic_named(const topo_vm *vm, const char *name) {
  for (guint i = 0; vm->vnics && i < vm->vnics->len; i++) {
    const topo_vnic *v = g_ptr_array_index(vm->vnics, i);
    g_autofree char *nm = vnic_name(v);
    if (!strcmp(nm, name)) return v;
  }
  return NULL;
}

static const topo_nic *host_nic_named(const topo_host *h, const char *name) {
  for (guint i = 0; h->nics && i < h->nics->len; i++) {
    const topo_nic *c = g_ptr_array_index(h->nics, i);
    if (c->name && !strcmp(c->name, name)) return c;
  }
  return NULL;
}

static const char *where_of(const char *w) { return w ? w : "?"; }

static nnic *nic_get(net_state *n, const topo_host *h, const topo_nic *tn) {
  for (guint i = 0; i < n->nics->len; i++) {
    nnic *c = g_ptr_array_index(n->nics, i);
    if (c->tn == tn) return c;
  }
  nnic *c = g_new0(nnic, 1);
  c->tn = tn;
  ent_init(n, &c->e, g_strdup_printf("%s/%s", h->path ? h->path : h->name, tn->name), "nic", 0);
  g_ptr_array_add(n->nics, c);
  return c;
}

/* Adds the uplinks named in `names` to sw: NICs of host h, or vNICs of VM vm. */
static gboolean add_uplinks(net_state *n, nswitch *sw, GPtrArray *names, const topo_host *h,
                            const topo_vm *vm, const char *what, const char *where,
                            GError **error) {
  for (guint i = 0; names && i < names->len; i++) {
    const char *name = g_ptr_array_index(names, i);
    nport *p = g_new0(nport, 1);
    p->fwd_dst = MAC_EMPTY;
    p->sw = sw;
    p->vlan = NET_VLAN_TRUNK;
    if (h) {
      const topo_nic *tn = host_nic_named(h, name);
      if (!tn) {
        g_free(p);
        g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                    "%s: %s: uplink '%s' is not a NIC of host '%s'", where_of(where), what, name,
                    h->name);
        return FALSE;
      }
      if (tn->speed_bps <= 0) {
        g_free(p);
        g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                    "%s: nic '%s': a link speed > 0 is needed", where_of(tn->where), tn->name);
        return FALSE;
      }
      nnic *c = nic_get(n, h, tn);
      if (c->uplink_port) {
        g_free(p);
        g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                    "%s: %s: NIC '%s' is already an uplink of '%s'", where_of(where), what, name,
                    c->uplink_port->sw->e.path);
        return FALSE;
      }
      p->kind = PORT_NIC;
      p->nic = c;
      c->uplink_port = p;
    } else {
      const topo_vnic *tv = vm_vnic_named(vm, name);
      nvnic *v = tv ? vnic_of(n, tv) : NULL;
      if (!v) {
        g_free(p);
        g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                    "%s: %s: uplink '%s' is not a vNIC of VM '%s'", where_of(where), what, name,
                    vm->name);
        return FALSE;
      }
      if (v->uplink_port) {
        g_free(p);
        g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                    "%s: %s: vNIC '%s' is already an uplink of '%s'", where_of(where), what, name,
                    v->uplink_port->sw->e.path);
        return FALSE;
      }
      p->kind = PORT_VUPLINK;
      p->vnic = v;
      v->uplink_port = p;
      v->guest_promisc = true; /* a hypervisor's uplink listens for all its VMs' MACs */
    }
    g_ptr_array_add(sw->uplinks, p);
  }
  return TRUE;
}

typedef struct build_ctx {
  net_state *n;
  GHashTable *vs_map; /* topo_vswitch* -> nswitch*; nswitch* (part of a vDS) -> topo_dvswitch* */
  GError **error;
  gboolean ok;
} build_ctx;

static void build_vm_vnics(topo_vm *tv, void *user) {
  build_ctx *b = user;
  net_state *n = b->n;
  if (!b->ok || !tv->vnics) return;
  for (guint i = 0; i < tv->vnics->len; i++) {
    const topo_vnic *t = g_ptr_array_index(tv->vnics, i);
    nvnic *v = g_new0(nvnic, 1);
    v->node = NODE_VNIC;
    v->tv = t;
    v->vm = vm_get(n, tv);
    g_ptr_array_add(n->vnics, v);
    g_hash_table_insert(n->vnic_of, (gpointer)t, v);
    g_autofree char *nm = vnic_name(t);
    ent_init(n, &v->e, g_strdup_printf("%s/%s", tv->path, nm), "vnic", tv->layer);
    if (t->mac && !net_mac_parse(t->mac, &v->mac_assigned)) {
      g_set_error(b->error, SCN_ERROR, SCN_ERROR_INPUT,
                  "%s: vnic '%s': invalid 'mac': expected a MAC such as \"00:50:56:01:02:03\", "
                  "got \"%s\"", where_of(t->where), nm, t->mac);
      b->ok = FALSE;
      return;
    }
    if (!t->mac) v->mac_assigned = net_vnic_mac(t);
    v->mac_eff = v->mac_assigned;
    const char *gm = g_hash_table_lookup(n->spec->guest_mac, t);
    if (gm && !net_mac_parse(gm, &v->mac_eff)) {
      g_set_error(b->error, SCN_ERROR, SCN_ERROR_INPUT,
                  "%s: vnic '%s': invalid guest MAC \"%s\"", where_of(t->where), nm, gm);
      b->ok = FALSE;
      return;
    }
    v->guest_promisc = g_hash_table_contains(n->spec->guest_promisc, t);
    if (!t->type || !strcmp(t->type, "vmxnet3")) {
      v->cost = secs(n->p.vmxnet3_frame_s);
    } else if (!strcmp(t->type, "e1000") || !strcmp(t->type, "e1000e")) {
      v->cost = secs(n->p.e1000_frame_s);
    } else {
      g_set_error(b->error, SCN_ERROR, SCN_ERROR_INPUT,
                  "%s: vnic '%s': invalid 'type': expected \"vmxnet3\" or \"e1000\", got \"%s\"",
                  where_of(t->where), nm, t->type);
      b->ok = FALSE;
      return;
    }
  }
}

static void build_vm_switches(topo_vm *tv, void *user) {
  build_ctx *b = user;
  if (!b->ok || !tv->vswitches) return;
  for (guint i = 0; i < tv->vswitches->len; i++) {
    const topo_vswitch *vs = g_ptr_array_index(tv->vswitches, i);
    nswitch *sw = switch_new(b->n, g_strdup_printf("%s/%s", tv->path, vs->name), "vswitch",
                             tv->layer, vm_get(b->n, tv), tv, false);
    g_hash_table_insert(b->vs_map, (gpointer)vs, sw);
    if (!add_uplinks(b->n, sw, vs->uplinks, NULL, tv, vs->name, vs->where, b->error)) {
      b->ok = FALSE;
      return;
    }
  }
}

/* The switch that a vNIC of VM tv plugs into through port group pg: pg's standard switch, which
 * must run on tv's hypervisor, or the part of pg's distributed switch on tv's hypervisor. */
static nswitch *switch_for(net_state *n, const topo_vm *tv, const topo_portgroup *pg,
                           GHashTable *vs_map) {
  const void *member = tv->parent ? (const void *)tv->parent : (const void *)tv->host;
  if (!pg->distributed) {
    nswitch *sw = g_hash_table_lookup(vs_map, pg->owner);
    return sw && sw->member == member ? sw : NULL;
  }
  for (guint i = 0; i < n->switches->len; i++) {
    nswitch *sw = g_ptr_array_index(n->switches, i);
    if (sw->member == member && g_hash_table_lookup(vs_map, sw) == pg->owner) return sw;
  }
  return NULL;
}

static gboolean build_ports(net_state *n, GHashTable *vs_map, GError **error) {
  for (guint i = 0; i < n->vnics->len; i++) {
    nvnic *v = g_ptr_array_index(n->vnics, i);
    const topo_portgroup *pg = v->tv->portgroup;
    if (!pg) continue;
    nswitch *sw = switch_for(n, v->vm->tv, pg, vs_map);
    if (!sw) {
      g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                  "%s: vnic '%s': port group '%s' is not on a switch of the hypervisor that runs "
                  "VM '%s'%s", where_of(v->tv->where), v->e.path, pg->name, v->vm->tv->name,
                  pg->distributed ? " (is that hypervisor a member of the distributed switch?)"
                                  : "");
      return FALSE;
    }
    nport *p = g_new0(nport, 1);
    p->fwd_dst = MAC_EMPTY;
    p->kind = PORT_VNIC;
    p->sw = sw;
    p->vnic = v;
    p->vlan = pg->vlan;
    p->promisc = net_policy(pg, NET_SEC_PROMISCUOUS) == TOPO_POLICY_ACCEPT && v->guest_promisc;
    p->forged_reject = net_policy(pg, NET_SEC_FORGED_TRANSMITS) == TOPO_POLICY_REJECT;
    p->macchg_reject = net_policy(pg, NET_SEC_MAC_CHANGES) == TOPO_POLICY_REJECT;
    p->learn = sw->learning;
    /* Teaming by originating port ID, ESXi's default: each port uses one uplink. */
    p->uplink = sw->uplinks->len ? sw->vports->len % sw->uplinks->len : 0;
    g_ptr_array_add(sw->vports, p);
    if (p->promisc) g_ptr_array_add(sw->promisc, p);
    /* Two vNICs with one effective MAC (a guest that set another's): the later one wins. */
    mac_slot *m = mt_find(&sw->macs, v->mac_eff);
    if (!m) m = mt_insert(&sw->macs, v->mac_eff);
    m->port = p;
    v->port = p;
  }
  for (guint i = 0; i < n->switches->len; i++) {
    nswitch *sw = g_ptr_array_index(n->switches, i);
    guint np = sw->vports->len + sw->uplinks->len;
    sw->tgt = g_new0(nport *, np + 1);
    sw->tgt_flood = g_new0(bool, np + 1);
  }
  return TRUE;
}

static void link_init(net_state *n, nlink *l, double bps, link_dest kind, void *dest, nent *sender) {
  l->bps = bps;
  l->cap = n->p.queue_frames;
  l->dest_kind = kind;
  l->dest = dest;
  l->sender = sender;
}

/* Every NIC that is an uplink, and every external machine, gets a port on the physical switch. */
static void build_physical(net_state *n) {
  for (guint i = 0; i < n->nics->len; i++) {
    nnic *c = g_ptr_array_index(n->nics, i);
    pport *p = g_new0(pport, 1);
    p->vlan = -1;
    p->dev_ent = &c->e;
    c->pp = p;
    link_init(n, &c->tx, c->tn->speed_bps, DEST_PSW, p, &c->e);
    link_init(n, &p->egress, c->tn->speed_bps, DEST_NIC, c, &n->psw);
    g_ptr_array_add(n->pports, p);
  }
  for (guint i = 0; i < n->exts->len; i++) {
    next *x = g_ptr_array_index(n->exts, i);
    pport *p = g_new0(pport, 1);
    p->vlan = x->te->vlan > 0 ? x->te->vlan : 0;
    p->dev_ent = &x->e;
    x->pp = p;
    link_init(n, &x->tx, x->te->speed_bps, DEST_PSW, p, &x->e);
    link_init(n, &p->egress, x->te->speed_bps, DEST_EXT, x, &n->psw);
    g_ptr_array_add(n->pports, p);
  }
}

static gboolean build_externals(net_state *n, GError **error) {
  for (guint i = 0; i < n->spec->externals->len; i++) {
    const net_external *te = g_ptr_array_index(n->spec->externals, i);
    next *x = g_new0(next, 1);
    x->node = NODE_EXT;
    x->te = te;
    g_ptr_array_add(n->exts, x);
    ent_init(n, &x->e, g_strdup_printf("external/%s", te->name), "external", 0);
    if (te->mac ? !net_mac_parse(te->mac, &x->mac) : FALSE) {
      g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                  "%s: external '%s': invalid 'mac' \"%s\"", where_of(te->where), te->name,
                  te->mac);
      return FALSE;
    }
    if (!te->mac) x->mac = mac_from_name(x->e.path);
    if (te->speed_bps <= 0) {
      g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                  "%s: external '%s': a link speed > 0 is needed", where_of(te->where), te->name);
      return FALSE;
    }
  }
  return TRUE;
}

static void *endpoint_of(net_state *n, const topo_vnic *tv, const net_external *te) {
  if (tv) return vnic_of(n, tv);
  for (guint i = 0; te && i < n->exts->len; i++) {
    next *x = g_ptr_array_index(n->exts, i);
    if (x->te == te) return x;
  }
  return NULL;
}

static gboolean build_flows(net_state *n, GError **error) {
  for (guint i = 0; i < n->spec->traffic->len; i++) {
    const net_traffic *t = g_ptr_array_index(n->spec->traffic, i);
    nflow *fl = g_new0(nflow, 1);
    fl->index = (int32_t)n->flows->len;
    fl->t = t;
    fl->lat = sim_hist_new(1e-7, 100.0, 20);
    g_ptr_array_add(n->flows, fl);
    ent_init(n, &fl->e, g_strdup_printf("flow/%s", t->name), "flow", 0);
    fl->from = endpoint_of(n, t->from_vnic, t->from_ext);
    fl->to = t->kind == NET_TRAFFIC_NOISE ? NULL : endpoint_of(n, t->to_vnic, t->to_ext);
    if (!fl->from || (t->kind != NET_TRAFFIC_NOISE && !fl->to)) {
      g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                  "%s: traffic '%s': needs a sender and a receiver (a VM's vNIC or an external "
                  "machine)", where_of(t->where), t->name);
      return FALSE;
    }
    if (!(t->rate > 0) || t->frame_bytes == 0 ||
        (t->pattern == NET_PATTERN_ONOFF && !(t->on_s > 0 && t->off_s > 0))) {
      g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                  "%s: traffic '%s': rate and frame size must be > 0 (and on/off periods for "
                  "pattern onoff)", where_of(t->where), t->name);
      return FALSE;
    }
    nsrc *s = g_new0(nsrc, 1);
    s->ent.type = &src_type;
    s->n = n;
    s->fl = fl;
    s->rng = sim_rng_new(n->run->seed, fl->e.path);
    if (t->kind == NET_TRAFFIC_NOISE)
      s->dst = NET_BROADCAST;
    else if (*(node_kind *)fl->to == NODE_VNIC)
      s->dst = ((nvnic *)fl->to)->mac_eff;
    else
      s->dst = ((next *)fl->to)->mac;
    s->gap_s = t->kind == NET_TRAFFIC_STREAM ? t->frame_bytes * 8.0 / t->rate : 1.0 / t->rate;
    g_ptr_array_add(n->srcs, s);
    sim_event_init(&s->ev, &s->ent, 0);
    /* A random phase, so that constant-rate sources do not send in lock-step. */
    sim_time first = secs(t->start_s + s->gap_s * gsl_rng_uniform(s->rng));
    if (t->pattern == NET_PATTERN_ONOFF)
      s->on_until = secs(t->start_s + gsl_ran_exponential(s->rng, t->on_s));
    sim_schedule(n->eng, &s->ev, first);
  }
  return TRUE;
}

static void register_metrics(net_state *n) {
  met_table *t = n->run->met;
  n->col_pkttx = met_column(t, "PKTTX/s");
  n->col_mbtx = met_column(t, "MbTX/s");
  n->col_pktrx = met_column(t, "PKTRX/s");
  n->col_mbrx = met_column(t, "MbRX/s");
  n->col_drop = met_column(t, "DROP/s");
  n->col_flood = met_column(t, "FLOOD/s");
  for (int r = 0; r < NET_DROP_N; r++) {
    g_autofree char *name = g_strdup_printf("DROP_%s/s", net_drop_name((net_drop)r));
    n->col_drop_reason[r] = met_column(t, name);
  }
  n->col_cpu = met_column(t, "NETCPU_ms");
  n->col_discard = met_column(t, "DISCARD_ms");
  for (guint i = 0; i < n->ents->len; i++) {
    nent *e = g_ptr_array_index(n->ents, i);
    if (met_lookup(t, e->path) >= 0) { /* a name another model uses: keep both apart */
      char *p = g_strdup_printf("%s#net", e->path);
      g_free(e->path);
      e->path = p;
    }
    e->met = met_entity(t, e->path, e->kind, e->layer);
  }
  for (guint i = 0; i < n->vms->len; i++) {
    nvm *vm = g_ptr_array_index(n->vms, i);
    gint64 id = met_lookup(t, vm->tv->path);
    vm->met = id >= 0 ? (met_id)id : met_entity(t, vm->tv->path, "vm", vm->tv->layer);
    vm->has_met = true;
  }
}

static void index_paths(net_state *n) {
  for (guint i = 0; i < n->ents->len; i++) {
    nent *e = g_ptr_array_index(n->ents, i);
    g_hash_table_insert(n->by_path, e->path, e);
  }
}

static void nswitch_free(gpointer p) {
  nswitch *sw = p;
  g_free(sw->e.path);
  g_ptr_array_unref(sw->vports);
  g_ptr_array_unref(sw->uplinks);
  g_ptr_array_unref(sw->promisc);
  mt_clear(&sw->macs);
  mt_clear(&sw->learned);
  g_free(sw->tgt);
  g_free(sw->tgt_flood);
  g_free(sw);
}

static void nvnic_free(gpointer p) {
  nvnic *v = p;
  g_free(v->e.path);
  g_free(v);
}

static void nnic_free(gpointer p) {
  nnic *c = p;
  g_free(c->e.path);
  g_free(c);
}

static void next_free(gpointer p) {
  next *x = p;
  g_free(x->e.path);
  g_free(x);
}

static void nflow_free(gpointer p) {
  nflow *f = p;
  g_free(f->e.path);
  sim_hist_free(f->lat);
  g_free(f);
}

static void nsrc_free(gpointer p) {
  nsrc *s = p;
  gsl_rng_free(s->rng);
  g_free(s);
}

net_state *net_new(mdl_run *run, const net_spec *spec, GError **error) {
  g_assert(run && run->eng && run->scn && spec);
  net_state *n = g_new0(net_state, 1);
  n->run = run;
  n->eng = run->eng;
  n->spec = spec;
  n->p = spec->params;
  n->prop_ns = secs(n->p.prop_delay_s);
  n->learn_aging_ns = secs(n->p.learn_aging_s);
  n->psw_aging_ns = secs(n->p.pswitch_aging_s);
  n->since = sim_now(run->eng);
  n->vms = g_ptr_array_new_with_free_func(g_free);
  n->vnics = g_ptr_array_new_with_free_func(nvnic_free);
  n->nics = g_ptr_array_new_with_free_func(nnic_free);
  n->exts = g_ptr_array_new_with_free_func(next_free);
  n->switches = g_ptr_array_new_with_free_func(nswitch_free);
  n->flows = g_ptr_array_new_with_free_func(nflow_free);
  n->srcs = g_ptr_array_new_with_free_func(nsrc_free);
  n->ents = g_ptr_array_new();
  n->by_path = g_hash_table_new(g_str_hash, g_str_equal);
  n->vm_of = g_hash_table_new(g_direct_hash, g_direct_equal);
  n->vnic_of = g_hash_table_new(g_direct_hash, g_direct_equal);
  n->pports = g_ptr_array_new_with_free_func(g_free);
  mt_init(&n->psw_learned, 0);
  n->slabs = g_ptr_array_new_with_free_func(g_free);
  n->drag_ent.type = &drag_type;
  sim_event_init(&n->drag_ev, &n->drag_ent, 0);

  const topo_scenario *scn = run->scn;
  g_autoptr(GHashTable) vs_map = g_hash_table_new(g_direct_hash, g_direct_equal);
  build_ctx b = {n, vs_map, error, TRUE};
  topo_foreach_vm(scn, build_vm_vnics, &b);
  for (guint i = 0; b.ok && i < scn->hosts->len; i++) {
    const topo_host *h = g_ptr_array_index(scn->hosts, i);
    for (guint j = 0; b.ok && h->vswitches && j < h->vswitches->len; j++) {
      const topo_vswitch *vs = g_ptr_array_index(h->vswitches, j);
      nswitch *sw = switch_new(n, g_strdup_printf("%s/%s", h->path ? h->path : h->name, vs->name),
                               "vswitch", 0, NULL, h, false);
      g_hash_table_insert(vs_map, (gpointer)vs, sw);
      b.ok = add_uplinks(n, sw, vs->uplinks, h, NULL, vs->name, vs->where, error);
    }
  }
  if (b.ok) topo_foreach_vm(scn, build_vm_switches, &b);
  for (guint i = 0; b.ok && scn->dvswitches && i < scn->dvswitches->len; i++) {
    const topo_dvswitch *d = g_ptr_array_index(scn->dvswitches, i);
    for (guint j = 0; b.ok && d->member_hosts && j < d->member_hosts->len; j++) {
      const topo_host *h = g_ptr_array_index(d->member_hosts, j);
      nswitch *sw =
          switch_new(n, g_strdup_printf("%s/%s", h->path ? h->path : h->name, d->name), "dvswitch",
                     0, NULL, h, d->mac_learning);
      g_hash_table_insert(vs_map, sw, (gpointer)d);
      b.ok = add_uplinks(n, sw, d->uplinks, h, NULL, d->name, d->where, error);
    }
    for (guint j = 0; b.ok && d->member_vms && j < d->member_vms->len; j++) {
      const topo_vm *vm = g_ptr_array_index(d->member_vms, j);
      nswitch *sw = switch_new(n, g_strdup_printf("%s/%s", vm->path, d->name), "dvswitch",
                               vm->layer, vm_get(n, vm), vm, d->mac_learning);
      g_hash_table_insert(vs_map, sw, (gpointer)d);
      b.ok = add_uplinks(n, sw, d->uplinks, NULL, vm, d->name, d->where, error);
    }
  }
  if (b.ok) b.ok = build_ports(n, vs_map, error);
  if (b.ok) {
    ent_init(n, &n->psw, g_strdup("pswitch"), "pswitch", 0);
    b.ok = build_externals(n, error);
  }
  if (b.ok) build_physical(n);
  if (b.ok) b.ok = build_flows(n, error);
  if (!b.ok) {
    net_free(n);
    return NULL;
  }
  /* Duplicate MACs would make forwarding ambiguous; generated ones are 40 random bits, so a
   * clash means the scenario gave the same MAC twice. */
  g_autoptr(GHashTable) seen = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (guint i = 0; i < n->vnics->len; i++) {
    nvnic *v = g_ptr_array_index(n->vnics, i);
    if (!g_hash_table_add(seen, &v->mac_assigned)) {
      g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                  "%s: vnic '%s': its MAC is used by another vNIC", where_of(v->tv->where),
                  v->e.path);
      net_free(n);
      return NULL;
    }
  }
  if (run->met) register_metrics(n);
  index_paths(n);
  if (run->cpu && n->srcs->len)
    sim_schedule(n->eng, &n->drag_ev, sim_now(n->eng) + secs(n->p.drag_period_s));
  return n;
}

void net_free(net_state *n) {
  if (!n) return;
  /* Events still pending belong to frames and sources freed here: take them off the queue. */
  for (guint i = 0; i < n->slabs->len; i++) {
    nframe *slab = g_ptr_array_index(n->slabs, i);
    for (int j = 0; j < NET_SLAB; j++)
      if (sim_event_pending(&slab[j].ev)) sim_cancel(n->eng, &slab[j].ev);
  }
  for (guint i = 0; i < n->srcs->len; i++) {
    nsrc *s = g_ptr_array_index(n->srcs, i);
    if (sim_event_pending(&s->ev)) sim_cancel(n->eng, &s->ev);
  }
  if (sim_event_pending(&n->drag_ev)) sim_cancel(n->eng, &n->drag_ev);
  g_free(n->psw.path);
  g_ptr_array_unref(n->srcs);
  g_ptr_array_unref(n->flows);
  g_ptr_array_unref(n->switches);
  g_ptr_array_unref(n->vnics);
  g_ptr_array_unref(n->nics);
  g_ptr_array_unref(n->exts);
  g_ptr_array_unref(n->vms);
  g_ptr_array_unref(n->ents);
  g_hash_table_unref(n->by_path);
  g_hash_table_unref(n->vm_of);
  g_hash_table_unref(n->vnic_of);
  g_ptr_array_unref(n->pports);
  mt_clear(&n->psw_learned);
  g_ptr_array_unref(n->slabs);
  g_free(n->row);
  net_spec_free(n->own_spec);
  g_free(n);
}

/* ---- Statistics ------------------------------------------------------------------------------ */

static void link_reset(nlink *l) {
  l->served = l->dropped = 0;
  l->wait_ns = l->busy_ns = 0;
}

void net_reset(net_state *n, sim_time now) {
  n->since = now;
  for (guint i = 0; i < n->ents->len; i++) {
    nent *e = g_ptr_array_index(n->ents, i);
    memset(&e->c, 0, sizeof e->c);
    memset(&e->last, 0, sizeof e->last);
  }
  for (guint i = 0; i < n->flows->len; i++) {
    nflow *f = g_ptr_array_index(n->flows, i);
    f->sent = f->delivered = f->delivered_bytes = 0;
    f->last_sent = f->last_delivered = f->last_bytes = 0;
    sim_hist_reset(f->lat);
  }
  for (guint i = 0; i < n->vms->len; i++) {
    nvm *vm = g_ptr_array_index(n->vms, i);
    vm->cpu_ns = vm->discard_ns = 0;
  }
  for (guint i = 0; i < n->nics->len; i++) {
    nnic *c = g_ptr_array_index(n->nics, i);
    link_reset(&c->tx);
  }
  for (guint i = 0; i < n->exts->len; i++) {
    next *x = g_ptr_array_index(n->exts, i);
    link_reset(&x->tx);
  }
  for (guint i = 0; i < n->pports->len; i++) {
    pport *p = g_ptr_array_index(n->pports, i);
    link_reset(&p->egress);
  }
}

static uint64_t ctr_drops(const net_ctr *c) {
  uint64_t s = 0;
  for (int r = 0; r < NET_DROP_N; r++) s += c->drops[r];
  return s;
}

void net_sample(net_state *n, sim_time since, sim_time now) {
  met_table *t = n->run->met;
  if (!t || now <= since) return;
  guint nc = met_n_columns(t);
  if (!n->row) n->row = g_new(double, nc);
  double dt = (double)(now - since) * 1e-9;
  for (guint i = 0; i < n->ents->len; i++) {
    nent *e = g_ptr_array_index(n->ents, i);
    for (guint c = 0; c < nc; c++) n->row[c] = NAN;
    const net_ctr *a = &e->c, *b = &e->last;
    n->row[n->col_pkttx] = (double)(a->tx_frames - b->tx_frames) / dt;
    n->row[n->col_mbtx] = (double)(a->tx_bytes - b->tx_bytes) * 8e-6 / dt;
    n->row[n->col_pktrx] = (double)(a->rx_frames - b->rx_frames) / dt;
    n->row[n->col_mbrx] = (double)(a->rx_bytes - b->rx_bytes) * 8e-6 / dt;
    n->row[n->col_drop] = (double)(ctr_drops(a) - ctr_drops(b)) / dt;
    n->row[n->col_flood] = (double)(a->flooded - b->flooded) / dt;
    for (int r = 0; r < NET_DROP_N; r++)
      n->row[n->col_drop_reason[r]] = (double)(a->drops_here[r] - b->drops_here[r]) / dt;
    if (!strcmp(e->kind, "vnic")) {
      n->row[n->col_cpu] = (double)(a->cpu_ns - b->cpu_ns) * 1e-6;
      n->row[n->col_discard] = (double)(a->discard_ns - b->discard_ns) * 1e-6;
    }
    if (!strcmp(e->kind, "flow")) {
      nflow *f = SIM_CONTAINER_OF(e, nflow, e);
      n->row[n->col_pkttx] = (double)(f->sent - f->last_sent) / dt;
      n->row[n->col_pktrx] = (double)(f->delivered - f->last_delivered) / dt;
      n->row[n->col_mbrx] = (double)(f->delivered_bytes - f->last_bytes) * 8e-6 / dt;
      /* A flow is counted at its ends, not where frames die: what it lost is in sent minus
       * delivered, and the per-port columns stay empty rather than a misleading 0. */
      n->row[n->col_mbtx] = NAN;
      n->row[n->col_drop] = NAN;
      n->row[n->col_flood] = NAN;
      for (int r = 0; r < NET_DROP_N; r++) n->row[n->col_drop_reason[r]] = NAN;
      f->last_sent = f->sent;
      f->last_delivered = f->delivered;
      f->last_bytes = f->delivered_bytes;
    }
    e->last = e->c;
    met_row(t, e->met, now, n->row);
  }
}

static void link_summary(met_table *t, met_id e, const char *prefix, const nlink *l, double span) {
  g_autofree char *k1 = g_strdup_printf("%s_wait_us", prefix);
  g_autofree char *k2 = g_strdup_printf("%s_util_pct", prefix);
  g_autofree char *k3 = g_strdup_printf("%s_queue_full", prefix);
  met_set_num(t, e, k1, l->served ? (double)l->wait_ns / (double)l->served * 1e-3 : NAN);
  met_set_num(t, e, k2, span > 0 ? (double)l->busy_ns * 1e-9 / span * 100.0 : NAN);
  met_set_num(t, e, k3, (double)l->dropped);
}

void net_finish(net_state *n, sim_time now) {
  met_table *t = n->run->met;
  if (!t) return;
  double span = (double)(now - n->since) * 1e-9;
  for (guint i = 0; i < n->ents->len; i++) {
    nent *e = g_ptr_array_index(n->ents, i);
    if (!strcmp(e->kind, "flow")) {
      net_flow_stats s;
      nflow *f = SIM_CONTAINER_OF(e, nflow, e);
      net_get_flow(n, f->t->name, &s);
      met_set_num(t, e->met, "sent", (double)s.sent);
      met_set_num(t, e->met, "delivered", (double)s.delivered);
      if (f->t->kind != NET_TRAFFIC_NOISE)
        met_set_num(t, e->met, "loss_pct",
                    s.sent ? (1.0 - (double)s.delivered / (double)s.sent) * 100.0 : NAN);
      met_set_num(t, e->met, "throughput_Mbps", s.throughput_bps * 1e-6);
      met_set_num(t, e->met, "latency_mean_us", s.latency_mean_s * 1e6);
      met_set_num(t, e->met, "latency_p50_us", s.latency_p50_s * 1e6);
      met_set_num(t, e->met, "latency_p99_us", s.latency_p99_s * 1e6);
      continue;
    }
    const net_ctr *c = &e->c;
    met_set_num(t, e->met, "tx_frames", (double)c->tx_frames);
    met_set_num(t, e->met, "rx_frames", (double)c->rx_frames);
    met_set_num(t, e->met, "tx_Mbps", span > 0 ? (double)c->tx_bytes * 8e-6 / span : NAN);
    met_set_num(t, e->met, "rx_Mbps", span > 0 ? (double)c->rx_bytes * 8e-6 / span : NAN);
    met_set_num(t, e->met, "flooded", (double)c->flooded);
    for (int r = 0; r < NET_DROP_N; r++) {
      g_autofree char *k = g_strdup_printf("drop_%s", drop_names[r]);
      met_set_num(t, e->met, k, (double)c->drops[r]);
    }
    if (!strcmp(e->kind, "vnic")) {
      met_set_num(t, e->met, "net_cpu_s", (double)c->cpu_ns * 1e-9);
      met_set_num(t, e->met, "discard_cpu_s", (double)c->discard_ns * 1e-9);
    }
    if (!strcmp(e->kind, "nic")) {
      nnic *nc = SIM_CONTAINER_OF(e, nnic, e);
      link_summary(t, e->met, "tx", &nc->tx, span);
      link_summary(t, e->met, "rx", &nc->pp->egress, span);
    }
    if (!strcmp(e->kind, "external")) {
      next *x = SIM_CONTAINER_OF(e, next, e);
      link_summary(t, e->met, "tx", &x->tx, span);
      link_summary(t, e->met, "rx", &x->pp->egress, span);
    }
  }
  for (guint i = 0; i < n->vms->len; i++) {
    nvm *vm = g_ptr_array_index(n->vms, i);
    if (!vm->has_met) continue;
    met_set_num(t, vm->met, "net_cpu_s", (double)vm->cpu_ns * 1e-9);
    met_set_num(t, vm->met, "net_discard_cpu_s", (double)vm->discard_ns * 1e-9);
  }
}

/* ---- Queries --------------------------------------------------------------------------------- */

gboolean net_get_counters(const net_state *n, const char *path, net_counters *out) {
  const nent *e = g_hash_table_lookup(n->by_path, path);
  if (!e) return FALSE;
  *out = (net_counters){
      .tx_frames = e->c.tx_frames,
      .tx_bytes = e->c.tx_bytes,
      .rx_frames = e->c.rx_frames,
      .rx_bytes = e->c.rx_bytes,
      .flooded = e->c.flooded,
      .cpu_s = (double)e->c.cpu_ns * 1e-9,
      .discard_cpu_s = (double)e->c.discard_ns * 1e-9,
  };
  memcpy(out->drops, e->c.drops, sizeof out->drops);
  return TRUE;
}

gboolean net_get_flow(const net_state *n, const char *name, net_flow_stats *out) {
  g_autofree char *path = g_strdup_printf("flow/%s", name);
  nent *e = g_hash_table_lookup(n->by_path, path);
  if (!e || strcmp(e->kind, "flow")) return FALSE;
  const nflow *f = SIM_CONTAINER_OF(e, nflow, e);
  double span = (double)(sim_now(n->eng) - n->since) * 1e-9;
  bool any = sim_hist_count(f->lat) > 0;
  *out = (net_flow_stats){
      .sent = f->sent,
      .delivered = f->delivered,
      .delivered_bytes = f->delivered_bytes,
      .throughput_bps = span > 0 ? (double)f->delivered_bytes * 8.0 / span : NAN,
      .latency_mean_s = any ? sim_hist_mean(f->lat) : NAN,
      .latency_p50_s = any ? sim_hist_quantile(f->lat, 0.5) : NAN,
      .latency_p99_s = any ? sim_hist_quantile(f->lat, 0.99) : NAN,
  };
  return TRUE;
}

gboolean net_get_link(const net_state *n, const char *path, gboolean to_switch,
                      net_link_stats *out) {
  nent *e = g_hash_table_lookup(n->by_path, path);
  if (!e) return FALSE;
  const nlink *l;
  if (!strcmp(e->kind, "nic")) {
    const nnic *c = SIM_CONTAINER_OF(e, nnic, e);
    l = to_switch ? &c->tx : &c->pp->egress;
  } else if (!strcmp(e->kind, "external")) {
    const next *x = SIM_CONTAINER_OF(e, next, e);
    l = to_switch ? &x->tx : &x->pp->egress;
  } else {
    return FALSE;
  }
  double span = (double)(sim_now(n->eng) - n->since) * 1e-9;
  *out = (net_link_stats){
      .served = l->served,
      .dropped = l->dropped,
      .mean_wait_s = l->served ? (double)l->wait_ns / (double)l->served * 1e-9 : NAN,
      .utilisation = span > 0 ? (double)l->busy_ns * 1e-9 / span : NAN,
      .queued = l->len,
  };
  return TRUE;
}

void net_get_totals(const net_state *n, net_totals *out) { *out = n->tot; }

void net_vm_cpu(const net_state *n, const topo_vm *vm, double *cpu_s, double *discard_cpu_s) {
  const nvm *v = g_hash_table_lookup(n->vm_of, vm);
  if (cpu_s) *cpu_s = v ? (double)v->cpu_ns * 1e-9 : 0.0;
  if (discard_cpu_s) *discard_cpu_s = v ? (double)v->discard_ns * 1e-9 : 0.0;
}

/* ---- The model as a run sees it -------------------------------------------------------------- */

typedef struct spec_ctx {
  net_spec *spec;
} spec_ctx;

/* The guest's side of each vNIC: the MAC it sets and whether it asks for promiscuous mode. */
static void spec_vm(topo_vm *vm, void *user) {
  spec_ctx *c = user;
  for (guint i = 0; vm->vnics && i < vm->vnics->len; i++) {
    const topo_vnic *v = g_ptr_array_index(vm->vnics, i);
    if (v->guest_mac) g_hash_table_insert(c->spec->guest_mac, (gpointer)v, g_strdup(v->guest_mac));
    if (v->promiscuous) g_hash_table_add(c->spec->guest_promisc, (gpointer)v);
  }
}

/* Copies what the scenario says about the network beyond the switches (traffic, external
 * machines, the guests' MAC and promiscuous settings, the parameters it overrides) into a
 * spec; negative parameters in the scenario mean "keep the default". */
static net_spec *spec_from_scenario(const topo_scenario *scn) {
  net_spec *spec = net_spec_new();
  const topo_net_params *tp = scn->network;
  net_params *p = &spec->params;
  if (tp) {
    if (tp->vmxnet3_frame_s >= 0) p->vmxnet3_frame_s = tp->vmxnet3_frame_s;
    if (tp->e1000_frame_s >= 0) p->e1000_frame_s = tp->e1000_frame_s;
    if (tp->queue_frames >= 0) p->queue_frames = (uint32_t)MIN(tp->queue_frames, (int64_t)UINT32_MAX);
    if (tp->propagation_s >= 0) p->prop_delay_s = tp->propagation_s;
    if (tp->pswitch_aging_s >= 0) p->pswitch_aging_s = tp->pswitch_aging_s;
    if (tp->learn_aging_s >= 0) p->learn_aging_s = tp->learn_aging_s;
    if (tp->learn_limit >= 0) p->learn_limit = (uint32_t)MIN(tp->learn_limit, (int64_t)UINT32_MAX);
    if (tp->learn_limit_drop >= 0) p->learn_limit_drop = tp->learn_limit_drop != 0;
    if (tp->flood_unknown >= 0) p->learn_flood_unknown = tp->flood_unknown != 0;
  }
  /* topo_external* -> the net_external made from it, for the traffic that names it. */
  g_autoptr(GHashTable) ext_of = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; scn->externals && i < scn->externals->len; i++) {
    const topo_external *tx = g_ptr_array_index(scn->externals, i);
    net_external *x = g_new0(net_external, 1);
    x->name = g_strdup(tx->name);
    x->speed_bps = tx->speed_bps;
    x->mac = g_strdup(tx->mac);
    x->vlan = tx->vlan;
    x->where = g_strdup(tx->where);
    g_ptr_array_add(spec->externals, x);
    g_hash_table_insert(ext_of, (gpointer)tx, x);
  }
  static const net_traffic_kind kinds[] = {
      [TOPO_TRAFFIC_STREAM] = NET_TRAFFIC_STREAM, [TOPO_TRAFFIC_RR] = NET_TRAFFIC_RR,
      [TOPO_TRAFFIC_NOISE] = NET_TRAFFIC_NOISE};
  static const net_pattern patterns[] = {[TOPO_PATTERN_CONSTANT] = NET_PATTERN_CONSTANT,
                                         [TOPO_PATTERN_POISSON] = NET_PATTERN_POISSON,
                                         [TOPO_PATTERN_ONOFF] = NET_PATTERN_ONOFF};
  for (guint i = 0; scn->traffic && i < scn->traffic->len; i++) {
    const topo_traffic *tt = g_ptr_array_index(scn->traffic, i);
    net_traffic *t = g_new0(net_traffic, 1);
    t->kind = kinds[tt->kind];
    t->name = g_strdup(tt->name);
    t->from_vnic = tt->from_vnic;
    t->from_ext = tt->from_ext ? g_hash_table_lookup(ext_of, tt->from_ext) : NULL;
    t->to_vnic = tt->to_vnic;
    t->to_ext = tt->to_ext ? g_hash_table_lookup(ext_of, tt->to_ext) : NULL;
    t->rate = tt->rate;
    t->frame_bytes = tt->frame_bytes;
    t->exp_size = tt->exp_size;
    t->pattern = patterns[tt->pattern];
    t->on_s = tt->on_s;
    t->off_s = tt->off_s;
    t->start_s = tt->start_s;
    t->count = tt->count;
    t->where = g_strdup(tt->where);
    g_ptr_array_add(spec->traffic, t);
  }
  spec_ctx c = {spec};
  topo_foreach_vm(scn, spec_vm, &c);
  return spec;
}

/* A run builds the network of the topology with the scenario's traffic, external machines,
 * guest settings and parameters. */
static void *ops_create(mdl_run *run, GError **error) {
  net_spec *spec = spec_from_scenario(run->scn);
  net_state *n = net_new(run, spec, error);
  if (!n) {
    net_spec_free(spec);
    return NULL;
  }
  n->own_spec = spec;
  return n;
}

static void ops_reset(void *self, sim_time now) { net_reset(self, now); }
static void ops_sample(void *self, sim_time since, sim_time now) { net_sample(self, since, now); }
static void ops_finish(void *self, sim_time now) { net_finish(self, now); }
static void ops_destroy(void *self) { net_free(self); }

const mdl_ops net_model = {
    .name = "net",
    .create = ops_create,
    .reset = ops_reset,
    .sample = ops_sample,
    .finish = ops_finish,
    .destroy = ops_destroy,
};

/* ---- nestsim check --------------------------------------------------------------------------- */

static bool names_contain(GPtrArray *names, const char *name) {
  for (guint i = 0; names && i < names->len; i++)
    if (!strcmp(g_ptr_array_index(names, i), name)) return true;
  return false;
}

/* The name of the switch of nested hypervisor vm that vNIC v is an uplink of, or NULL. */
static const char *nested_uplink_of(const topo_scenario *scn, const topo_vm *vm,
                                    const topo_vnic *v) {
  g_autofree char *nm = vnic_name(v);
  for (guint i = 0; vm->vswitches && i < vm->vswitches->len; i++) {
    const topo_vswitch *vs = g_ptr_array_index(vm->vswitches, i);
    if (names_contain(vs->uplinks, nm)) return vs->name;
  }
  for (guint i = 0; scn->dvswitches && i < scn->dvswitches->len; i++) {
    const topo_dvswitch *d = g_ptr_array_index(scn->dvswitches, i);
    bool member = false;
    for (guint j = 0; d->member_vms && j < d->member_vms->len; j++)
      if (g_ptr_array_index(d->member_vms, j) == vm) member = true;
    if (member && names_contain(d->uplinks, nm)) return d->name;
  }
  return NULL;
}

/* What the check found about one port group: who sends nested traffic through it, what its
 * policy drops, and the flooded copies it hands to ports that do not want them. */
typedef struct chk_pg {
  const topo_portgroup *pg;
  const topo_vm *first_vm;   /* the first nested hypervisor seen on it */
  char *first_vnic;          /* ... its vNIC there, and the switch that vNIC is an uplink of */
  const char *first_sw;
  GPtrArray *nested;         /* names (borrowed) of the nested hypervisors whose uplinks are on it,
                              * with promiscuous mode accepted and no MAC learning */
  bool carries;              /* a nested hypervisor's uplink is on it */
  bool forged, promisc;      /* it rejects forged transmits / is not promiscuous (no learning) */
  double flood_fps;          /* unwanted flooded copies per second from the declared traffic */
} chk_pg;

typedef struct check_ctx {
  const topo_scenario *scn;
  GHashTable *by_pg;   /* topo_portgroup* -> chk_pg* (owned) */
  GPtrArray *pgs;      /* chk_pg* in the order first seen */
} check_ctx;

static void chk_pg_free(gpointer p) {
  chk_pg *c = p;
  g_free(c->first_vnic);
  g_ptr_array_unref(c->nested);
  g_free(c);
}

static chk_pg *chk_pg_get(check_ctx *c, const topo_portgroup *pg) {
  chk_pg *r = g_hash_table_lookup(c->by_pg, pg);
  if (!r) {
    r = g_new0(chk_pg, 1);
    r->pg = pg;
    r->nested = g_ptr_array_new();
    g_hash_table_insert(c->by_pg, (gpointer)pg, r);
    g_ptr_array_add(c->pgs, r);
  }
  return r;
}

static void check_vm(topo_vm *vm, void *user) {
  check_ctx *c = user;
  if (!vm->hypervisor || !vm->vnics) return;
  for (guint i = 0; i < vm->vnics->len; i++) {
    const topo_vnic *v = g_ptr_array_index(vm->vnics, i);
    const topo_portgroup *pg = v->portgroup;
    const char *sw = nested_uplink_of(c->scn, vm, v);
    if (!pg || !sw) continue;
    chk_pg *r = chk_pg_get(c, pg);
    if (!r->carries) {
      r->carries = true;
      r->first_vm = vm;
      r->first_vnic = vnic_name(v);
      r->first_sw = sw;
    }
    bool learning = pg->distributed && pg->owner && ((const topo_dvswitch *)pg->owner)->mac_learning;
    if (net_policy(pg, NET_SEC_FORGED_TRANSMITS) == TOPO_POLICY_REJECT) r->forged = true;
    if (net_policy(pg, NET_SEC_PROMISCUOUS) == TOPO_POLICY_REJECT && !learning) r->promisc = true;
    if (net_policy(pg, NET_SEC_PROMISCUOUS) == TOPO_POLICY_ACCEPT && !learning) {
      bool seen = false;
      for (guint j = 0; j < r->nested->len; j++)
        if (g_ptr_array_index(r->nested, j) == vm->name) seen = true;
      if (!seen) g_ptr_array_add(r->nested, vm->name);
    }
  }
}

/* ---- Flooding from the declared traffic, in closed form ----
 * A switch here is a standard vSwitch, or one member's part of a distributed switch; a port is
 * a vNIC on it. A frame from vNIC a to vNIC b climbs down a's chain — a's switch, then (when
 * that switch's hypervisor is a nested one) the switch of the nested hypervisor VM's uplink
 * vNIC, and so on to an L0 switch whose uplinks are physical NICs — until a switch where b's
 * vNIC is plugged in (b's MAC is known there: the frame goes to it alone), or one on b's
 * chain (b is behind one of its ports: unknown unicast, which the switch sends to its uplink
 * and to its promiscuous ports, one of which leads to b); otherwise it crosses the physical
 * switch and climbs up b's chain from its NIC. At every switch it passes, each promiscuous
 * port admitting its VLAN gets a copy (the rules of sw_input); a copy is wanted when b is
 * behind that port, unwanted otherwise (the port it came in on gets none). We count the
 * unwanted copies per second. Approximations: a switch's ports all use its first uplink (one
 * uplink per nested switch is the common case; ESXi teams by port ID), the physical switch has
 * learned every MAC (no unknown-unicast floods there), and broadcasts (noise) are not floods. */

typedef struct chk_port {
  const topo_vnic *vnic;
  const void *sw;            /* topo_vswitch* or topo_dvswitch* */
  const void *member;        /* distributed: the hypervisor (topo_vm* or topo_host*); else NULL */
  bool promisc;
} chk_port;

/* The switch (sw, member) vNIC v plugs into; FALSE when it has no port group. */
static bool port_of(const topo_vnic *v, chk_port *out) {
  const topo_portgroup *pg = v->portgroup;
  if (!pg || !pg->owner) return false;
  const topo_vm *vm = v->vm;
  out->vnic = v;
  out->sw = pg->owner;
  out->member = pg->distributed ? (vm->parent ? (const void *)vm->parent : (const void *)vm->host)
                                : NULL;
  return true;
}

static bool same_switch(const chk_port *x, const chk_port *y) {
  return x->sw == y->sw && x->member == y->member;
}

/* The chain of vNIC v, its own switch first (at most `max` ports; returns how many). */
static guint chain_of(const topo_vnic *v, chk_port *out, guint max) {
  guint n = 0;
  while (v && n < max && port_of(v, &out[n])) {
    const chk_port *p = &out[n++];
    GPtrArray *uplinks;
    const topo_vm *nested;
    if (p->member) {
      const topo_dvswitch *d = p->sw;
      uplinks = d->uplinks;
      nested = p->vnic->vm->parent;
    } else {
      const topo_vswitch *vs = p->sw;
      uplinks = vs->uplinks;
      nested = vs->vm;
    }
    if (!nested || !uplinks || !uplinks->len) break;
    v = vm_vnic_named(nested, g_ptr_array_index(uplinks, 0));
  }
  return n;
}

typedef struct flood_ctx {
  check_ctx *c;
  GPtrArray *ports;    /* chk_port* of every vNIC with a port group */
} flood_ctx;

static void collect_port(topo_vm *vm, void *user) {
  flood_ctx *f = user;
  for (guint i = 0; vm->vnics && i < vm->vnics->len; i++) {
    const topo_vnic *v = g_ptr_array_index(vm->vnics, i);
    chk_port p;
    if (!port_of(v, &p)) continue;
    p.promisc = net_policy(v->portgroup, NET_SEC_PROMISCUOUS) == TOPO_POLICY_ACCEPT &&
                (v->promiscuous || (vm->hypervisor && nested_uplink_of(f->c->scn, vm, v)));
    if (p.promisc) g_ptr_array_add(f->ports, g_memdup2(&p, sizeof p));
  }
}

/* One frame per second entering switch `at` through vNIC `in` (NULL: an uplink), VLAN vlan,
 * for the vNIC `want` (NULL: none there): its unwanted promiscuous copies. */
static void flood_at(flood_ctx *f, const chk_port *at, const topo_vnic *in, const topo_vnic *want,
                     int vlan, double fps) {
  for (guint i = 0; i < f->ports->len; i++) {
    const chk_port *p = g_ptr_array_index(f->ports, i);
    if (!same_switch(p, at) || p->vnic == in || p->vnic == want) continue;
    int pv = p->vnic->portgroup->vlan;
    if (pv != 4095 && pv != vlan) continue;
    chk_pg_get(f->c, p->vnic->portgroup)->flood_fps += fps;
  }
}

#define CHK_MAX_CHAIN 16

/* fps frames per second from a to b (each a vNIC, or NULL for an external machine). */
static void flood_flow(flood_ctx *f, const topo_vnic *a, const topo_vnic *b, double fps) {
  chk_port A[CHK_MAX_CHAIN], B[CHK_MAX_CHAIN];
  guint na = a ? chain_of(a, A, CHK_MAX_CHAIN) : 0, nb = b ? chain_of(b, B, CHK_MAX_CHAIN) : 0;
  int vlan = 0; /* the first non-trunk port group on the way tags the frame */
  for (guint i = 0; i < na; i++) {
    int pv = A[i].vnic->portgroup->vlan;
    if (pv != 4095) {
      vlan = pv;
      break;
    }
  }
  bool delivered = false;
  for (guint i = 0; i < na; i++) {
    int j = -1;
    for (guint k = 0; !delivered && k < nb && j < 0; k++)
      if (same_switch(&A[i], &B[k])) j = (int)k;
    if (j == 0) { /* b's own switch knows its MAC */
      flood_at(f, &A[i], A[i].vnic, B[0].vnic, vlan, fps);
      return;
    }
    flood_at(f, &A[i], A[i].vnic, j > 0 ? B[j].vnic : NULL, vlan, fps);
    if (j > 0) { /* the promiscuous copy climbs up to b; the original goes on down */
      for (int k = j - 1; k >= 0; k--) flood_at(f, &B[k], NULL, B[k].vnic, vlan, fps);
      delivered = true;
    }
  }
  if (delivered) return;
  for (int k = (int)nb - 1; k >= 0; k--) flood_at(f, &B[k], NULL, B[k].vnic, vlan, fps);
}

static void flood_traffic(check_ctx *c) {
  if (!c->scn->traffic) return;
  flood_ctx f = {.c = c, .ports = g_ptr_array_new_with_free_func(g_free)};
  topo_foreach_vm(c->scn, collect_port, &f);
  for (guint i = 0; f.ports->len && i < c->scn->traffic->len; i++) {
    const topo_traffic *t = g_ptr_array_index(c->scn->traffic, i);
    if (t->kind == TOPO_TRAFFIC_NOISE || t->frame_bytes == 0) continue;
    double on = t->pattern == TOPO_PATTERN_ONOFF && t->on_s + t->off_s > 0
                    ? t->on_s / (t->on_s + t->off_s) : 1.0;
    if (t->kind == TOPO_TRAFFIC_STREAM) {
      flood_flow(&f, t->from_vnic, t->to_vnic, on * t->rate / (8.0 * t->frame_bytes));
    } else { /* rr: a request one way, a response the other, per transaction */
      flood_flow(&f, t->from_vnic, t->to_vnic, on * t->rate);
      flood_flow(&f, t->to_vnic, t->from_vnic, on * t->rate);
    }
  }
  g_ptr_array_unref(f.ports);
}

static void check_collect(const topo_scenario *scn, check_ctx *c) {
  *c = (check_ctx){
      .scn = scn,
      .by_pg = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, chk_pg_free),
      .pgs = g_ptr_array_new(),
  };
  topo_foreach_vm(scn, check_vm, c);
  flood_traffic(c);
}

static void check_clear(check_ctx *c) {
  g_ptr_array_unref(c->pgs);
  g_hash_table_unref(c->by_pg);
}

static char *quoted_list(const GPtrArray *names) {
  GString *list = g_string_new("");
  for (guint j = 0; j < names->len; j++)
    g_string_append_printf(list, "%s'%s'", j ? ", " : "", (const char *)g_ptr_array_index(names, j));
  return g_string_free(list, FALSE);
}

void net_finding_free(gpointer p) {
  net_finding *f = p;
  if (!f) return;
  g_free(f->host);
  g_free(f->number);
  g_free(f->fix);
  g_free(f);
}

/* The hypervisor whose switch has port group pg: a standard vSwitch's host or nested VM; for a
 * distributed port group, the hypervisor that runs `vm` (one of its members). */
static void pg_home(const topo_portgroup *pg, const topo_vm *vm, char **path, int *layer) {
  if (!pg->distributed) {
    const topo_vswitch *vs = pg->owner;
    *path = g_strdup(vs->vm ? vs->vm->path : vs->host->name);
    *layer = vs->vm ? vs->vm->layer : 0;
    return;
  }
  *path = g_strdup(vm->parent ? vm->parent->path : vm->host->name);
  *layer = vm->layer - 1;
}

/* The first VM with a vNIC on pg (for a distributed port group's home), or NULL. */
typedef struct first_on_ctx {
  const topo_portgroup *pg;
  const topo_vm *vm;
} first_on_ctx;

static void first_on(topo_vm *vm, void *user) {
  first_on_ctx *f = user;
  for (guint i = 0; !f->vm && vm->vnics && i < vm->vnics->len; i++)
    if (((const topo_vnic *)g_ptr_array_index(vm->vnics, i))->portgroup == f->pg) f->vm = vm;
}

void net_check_findings(const topo_scenario *scn, GPtrArray *findings) {
  check_ctx c;
  check_collect(scn, &c);
  for (guint i = 0; i < c.pgs->len; i++) {
    const chk_pg *r = g_ptr_array_index(c.pgs, i);
    const topo_portgroup *pg = r->pg;
    first_on_ctx fo = {.pg = pg, .vm = r->first_vm};
    if (!fo.vm) topo_foreach_vm(scn, first_on, &fo);
    if (!fo.vm || !pg->owner) continue;
    net_finding *f = g_new0(net_finding, 1);
    pg_home(pg, fo.vm, &f->host, &f->layer);
    f->portgroup = pg->name;
    f->flood_fps = r->flood_fps;
    f->where = pg->where;
    g_autofree char *list = quoted_list(r->nested);
    if (r->forged || r->promisc) {
      f->level = NET_CHECK_NO_FIT;
      f->number = g_strdup_printf("port group '%s' drops the traffic of nested hypervisor '%s' "
                                  "(vNIC '%s'): %s%s%s", pg->name, r->first_vm->name,
                                  r->first_vnic,
                                  r->forged ? "it rejects forged transmits (its VMs' frames out)"
                                            : "",
                                  r->forged && r->promisc ? " and " : "",
                                  r->promisc ? "it is not promiscuous (frames for its VMs in)"
                                             : "");
      f->fix = g_strdup_printf("%s%s%s on port group '%s'%s",
                               r->forged ? "set forged_transmits = \"accept\"" : "",
                               r->forged && r->promisc ? " and " : "",
                               r->promisc ? "set promiscuous = \"accept\"" : "", pg->name,
                               r->promisc ? " (one port group per nested host), or put the "
                                            "nested hosts on a distributed switch with "
                                            "mac_learning"
                                          : "");
    } else if (r->nested->len >= 2 || r->flood_fps > 0) {
      f->level = NET_CHECK_TIGHT;
      f->number = g_strdup_printf("port group '%s' floods %.0f frames/s of the declared traffic "
                                  "to promiscuous ports that do not want them%s%s%s",
                                  pg->name, r->flood_fps,
                                  r->nested->len >= 2 ? "; shared by the nested hypervisors " : "",
                                  r->nested->len >= 2 ? list : "",
                                  r->nested->len >= 2 ? ", each gets every frame" : "");
      f->fix = g_strdup_printf("give each nested host its own port group, vSwitch and NIC (the "
                               "seed's design), or a distributed switch with mac_learning, "
                               "instead of '%s'", pg->name);
    } else {
      f->level = NET_CHECK_FITS;
      f->number = g_strdup_printf("port group '%s' passes the nested traffic of '%s'; %.0f "
                                  "unwanted flooded frames/s", pg->name, r->first_vm->name,
                                  r->flood_fps);
    }
    g_ptr_array_add(findings, f);
  }
  check_clear(&c);
}
