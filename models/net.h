/* net.h — the network model: frames as discrete events through virtual NICs, standard and
 * distributed virtual switches at every layer (with their port-group security policy, VLANs and
 * optional MAC learning), physical NICs with finite queues, and one external learning physical
 * switch; fed by traffic sources and measured per port, per VM and per flow.
 *
 * One prefix, net_, for the whole module. What a frame meets, in order:
 *   sender vNIC -> its port on the switch of its hypervisor (ingress checks: VLAN, forged
 *   transmits, MAC learning) -> forwarding (its own vNICs' MACs, learned MACs, else uplinks,
 *   plus copies to promiscuous ports) -> a vNIC port (egress check: MAC address changes) or an
 *   uplink. A nested hypervisor's uplink is one of its VM's vNICs: the frame leaves that VM and
 *   enters the switch one layer down as a frame sent by that vNIC. An L0 uplink is a physical
 *   NIC: the frame waits in the NIC's queue, crosses the wire and enters the physical switch.
 * The model is exact about who gets which copy; it is a fluid approximation only in how the
 * per-frame CPU work reaches the CPU model (a drag fraction updated every drag period). */
#ifndef NESTSIM_MODELS_NET_H
#define NESTSIM_MODELS_NET_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "models/model.h"

extern const mdl_ops net_model;

/* Why a frame (one copy of it) was dropped. Every copy ends delivered, dropped with one of
 * these, or is still in flight when the run ends (conservation, tested). */
typedef enum {
  NET_DROP_FORGED,       /* forged transmits = reject: source is not the vNIC's effective MAC */
  NET_DROP_MAC_CHANGE,   /* MAC address changes = reject: the vNIC's effective MAC != assigned */
  NET_DROP_UNKNOWN_DST,  /* nobody takes it: unknown unicast with no promiscuous or flood port,
                          * or a NIC whose MAC filter refuses it */
  NET_DROP_VLAN,         /* a tagged frame where the port group does not trunk (VLAN 4095) */
  NET_DROP_QUEUE_FULL,   /* a link queue is full */
  NET_DROP_FILTERED,     /* a learning switch saw the destination behind the port it came in on */
  NET_DROP_LEARN_LIMIT,  /* MAC learning: the port's table is full and the limit policy drops */
  NET_DROP_N
} net_drop;

/* "forged", "mac_change", "unknown_dst", "vlan", "queue_full", "filtered", "learn_limit". */
const char *net_drop_name(net_drop d);

/* The three settings of a port group's security policy. */
typedef enum { NET_SEC_PROMISCUOUS, NET_SEC_MAC_CHANGES, NET_SEC_FORGED_TRANSMITS } net_sec;

/* The default of one setting for a port group of a standard (distributed = false) or
 * distributed switch whose hypervisor runs `version` (NULL: the newest known). See net.c for
 * the sources. Never returns TOPO_POLICY_DEFAULT. */
topo_policy net_policy_default(bool distributed, const char *version, net_sec which);
/* The setting in force on pg: its own value, or the default of its switch kind and version. */
topo_policy net_policy(const topo_portgroup *pg, net_sec which);

/* ---- What the model needs beyond the switches ----------------------------------------------
 * Traffic, external machines, the guests' MAC changes and promiscuous mode, and the model's
 * parameters. The scenario gives them (topo_scenario's traffic, externals and network, and
 * topo_vnic's promiscuous and guest_mac: `traffic { }`, `rr { }`, `noise { }`, `external { }`,
 * `vnic { promiscuous, guest_mac }`, `scenario { network = { } }`); net_model's create()
 * copies them into a net_spec. Tests build a net_spec directly. */

/* Parameters, all with defaults from net_params_default (see net.c for their sources). */
typedef struct net_params {
  double vmxnet3_frame_s;    /* CPU per frame a VM sends or receives on a vmxnet3 vNIC */
  double e1000_frame_s;      /* ... on an e1000 vNIC (emulated: register accesses exit) */
  uint32_t queue_frames;     /* capacity of every link queue, frames (0: unbounded) */
  double prop_delay_s;       /* propagation delay of a physical link */
  uint32_t wire_overhead_bytes; /* preamble + inter-frame gap added to each frame on a wire */
  double pswitch_aging_s;    /* physical switch: learned entries expire after this idle time */
  double learn_aging_s;      /* dvswitch MAC learning: the same for its per-port tables */
  uint32_t learn_limit;      /* dvswitch MAC learning: learned MACs per port */
  bool learn_limit_drop;     /* at the limit: true drops frames from new sources, false lets
                              * them through unlearned */
  bool learn_flood_unknown;  /* dvswitch MAC learning: flood unknown unicast to learning ports */
  double drag_period_s;      /* how often per-frame CPU work is handed to the CPU model */
} net_params;
void net_params_default(net_params *p);

/* A machine outside the hosts, on the physical switch (a client, a router, a NAS). */
typedef struct net_external {
  char *name;
  double speed_bps;          /* its link to the physical switch */
  char *mac;                 /* NULL: generated from the name */
  int vlan;                  /* the access VLAN of its switch port; 0: untagged */
  char *where;
} net_external;

typedef enum { NET_TRAFFIC_STREAM, NET_TRAFFIC_RR, NET_TRAFFIC_NOISE } net_traffic_kind;
typedef enum { NET_PATTERN_CONSTANT, NET_PATTERN_POISSON, NET_PATTERN_ONOFF } net_pattern;

/* One traffic source, with its own random stream ("flow/<name>").
 *   stream  traffic { to, rate, frame, pattern }: frames of `frame_bytes` at `rate` bits/s (while
 *           on, for onoff) to `to`.
 *   rr      rr { to, rate, size }: requests of `frame_bytes` at `rate` transactions/s; the
 *           receiver answers each with a response of the same size; latency is request sent to
 *           response received.
 *   noise   broadcast/ARP-like noise: broadcast frames of `frame_bytes` at `rate` frames/s.
 * The sender and receiver are a VM's vNIC or an external machine (exactly one of each pair). */
typedef struct net_traffic {
  net_traffic_kind kind;
  char *name;                          /* the flow's name, unique */
  const topo_vnic *from_vnic;
  const net_external *from_ext;
  const topo_vnic *to_vnic;            /* unused by noise */
  const net_external *to_ext;
  double rate;
  uint32_t frame_bytes;
  bool exp_size;                       /* sizes exponential with mean frame_bytes */
  net_pattern pattern;                 /* rr and noise: constant or poisson */
  double on_s, off_s;                  /* onoff: mean (exponential) on and off periods */
  double start_s;                      /* the first send comes within one gap after this */
  uint64_t count;                      /* stop after this many sends; 0: never */
  char *where;
} net_traffic;

typedef struct net_spec {
  net_params params;
  GPtrArray *externals;                /* net_external*, owned */
  GPtrArray *traffic;                  /* net_traffic*, owned */
  GHashTable *guest_mac;               /* const topo_vnic* -> char* MAC set by the guest (owned) */
  GHashTable *guest_promisc;           /* const topo_vnic* -> non-NULL: guest asked for
                                        * promiscuous mode (uplinks of a nested hypervisor's own
                                        * switches always do) */
} net_spec;

net_spec *net_spec_new(void); /* transfer full; parameters at their defaults */
void net_spec_free(net_spec *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(net_spec, net_spec_free)

/* ---- The model ---------------------------------------------------------------------------- */

typedef struct net_state net_state;

/* Builds the network of run->scn with the extras of `spec` (borrowed: it must outlive the
 * state), registers its metrics and schedules the traffic sources. Fails with *error for a
 * topology it cannot wire (a vNIC on a port group of a switch its hypervisor does not have, an
 * uplink that names no NIC, a MAC that does not parse, a flow without both ends). */
net_state *net_new(mdl_run *run, const net_spec *spec, GError **error); /* transfer full */
void net_free(net_state *n);
void net_reset(net_state *n, sim_time now);
void net_sample(net_state *n, sim_time since, sim_time now);
void net_finish(net_state *n, sim_time now);

/* Counters of one entity since the start or the last reset, looked up by its metrics path:
 * a vNIC ("esx01/vESX1/vnic1"), a physical NIC ("esx01/vmnic1"), a switch ("esx01/vSwitch1",
 * or "<member>/<dvswitch>" for a distributed switch's part on one member), an external machine
 * ("external/<name>") or the physical switch ("pswitch"). */
typedef struct net_counters {
  uint64_t tx_frames, tx_bytes;   /* sent by it (switches: copies sent out of a port) */
  uint64_t rx_frames, rx_bytes;   /* taken in by it */
  uint64_t drops[NET_DROP_N];     /* copies that ended here, by reason */
  uint64_t flooded;               /* switches: flooded copies made; vNICs and externals:
                                   * flooded copies taken in. A flooded copy is one a switch
                                   * sends to a port not because the port has the destination
                                   * MAC: to a promiscuous port, or unknown unicast flooded to
                                   * learning ports or by the physical switch. Broadcast copies
                                   * are not floods. */
  double cpu_s;                   /* vNICs: CPU its VM spent sending and receiving on it */
  double discard_cpu_s;           /* vNICs: of which on copies the VM then had to drop */
} net_counters;
/* FALSE when no entity has that path. */
gboolean net_get_counters(const net_state *n, const char *path, net_counters *out);

/* One flow since the start or the last reset. */
typedef struct net_flow_stats {
  uint64_t sent;                  /* frames (stream, noise) or requests (rr) */
  uint64_t delivered;             /* frames (stream) / responses (rr) / copies (noise) received */
  uint64_t delivered_bytes;
  double throughput_bps;          /* delivered bits / time since the start or the reset */
  double latency_mean_s;          /* stream: per frame; rr: per transaction; NAN when none */
  double latency_p50_s, latency_p99_s;
} net_flow_stats;
gboolean net_get_flow(const net_state *n, const char *name, net_flow_stats *out);

/* The queue of one direction of a physical link: the NIC's or external machine's transmit
 * queue (to_switch = TRUE) or the physical switch's egress queue towards it. */
typedef struct net_link_stats {
  uint64_t served;                /* frames transmitted */
  uint64_t dropped;               /* queue full */
  double mean_wait_s;             /* time in queue before transmission starts; NAN when none */
  double utilisation;             /* fraction of the time transmitting */
  uint32_t queued;                /* frames in the queue now, the one transmitting included */
} net_link_stats;
gboolean net_get_link(const net_state *n, const char *path, gboolean to_switch,
                      net_link_stats *out);

/* Every copy of every frame since the start (never reset): copies made (originals plus the
 * extra copies of floods and broadcasts) = delivered + dropped + in flight. */
typedef struct net_totals {
  uint64_t created, delivered, dropped, in_flight, flooded;
  uint64_t drops[NET_DROP_N];
} net_totals;
void net_get_totals(const net_state *n, net_totals *out);

/* CPU seconds VM `vm` spent on frames since the start or the last reset: all of it, and the
 * part spent on copies it received and then dropped (floods it had no use for). */
void net_vm_cpu(const net_state *n, const topo_vm *vm, double *cpu_s, double *discard_cpu_s);

/* The MAC (48 bits) of a vNIC as the model assigns it: the scenario's, or one generated from
 * the VM's path and the vNIC's index (locally administered, 02:xx:...). */
uint64_t net_vnic_mac(const topo_vnic *v);
/* Parses "00:50:56:01:02:03" (or '-' separators). FALSE when it does not parse. */
gboolean net_mac_parse(const char *text, uint64_t *out);

/* ---- nestsim check -------------------------------------------------------------------- */

/* The network's verdicts for `nestsim check` (src/review.h): one net_finding per port group
 * that carries nested traffic or that receives flooded copies of the declared traffic
 * (`traffic`, `rr`; noise is broadcast, not flooding) on promiscuous ports that do not want
 * them. Does not fit: its policy drops nested traffic. Tight: it floods (flood_fps > 0), or is
 * promiscuous and shared by several nested hypervisors. How the flood rate is computed, and
 * its approximations, is in net.c ("Flooding from the declared traffic"). */
typedef enum { NET_CHECK_FITS, NET_CHECK_TIGHT, NET_CHECK_NO_FIT } net_check_level;
typedef struct net_finding {
  char *host;              /* the hypervisor whose switch has the port group: "esx01" */
  int layer;               /* its layer: 0 for a physical host */
  const char *portgroup;   /* borrowed from the topology */
  const char *where;       /* the port group's "file:line", borrowed; may be NULL */
  net_check_level level;
  double flood_fps;        /* unwanted flooded copies per second (declared traffic) */
  char *number;            /* the figure behind the verdict, in words */
  char *fix;               /* the change that fixes it; NULL when it fits */
} net_finding;
void net_finding_free(gpointer finding);
/* findings: element net_finding*, transfer full (free function net_finding_free). */
void net_check_findings(const topo_scenario *scn, GPtrArray *findings);

#endif
