/* topo.h — the topology a scenario describes, as plain data: what the Lua loader builds and
 * what the models read. Nothing here runs; every quantity is already in base units (bytes,
 * nanoseconds, Hz, bits per second).
 *
 * The structs are public on purpose: the topology is a read-only tree that every model walks,
 * and an accessor for each field would add code without hiding anything. The scenario owns
 * every object; topo_scenario_free releases the whole tree. Each object records `where`, the
 * "file:line" of the constructor call that made it, so that a later check (a pitfall found by
 * a model, a warning of `nestsim check`) can point at the scenario text. */
#ifndef NESTSIM_SRC_TOPO_H
#define NESTSIM_SRC_TOPO_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct topo_host topo_host;
typedef struct topo_vm topo_vm;
typedef struct topo_portgroup topo_portgroup;

typedef enum { TOPO_HV_ESXI, TOPO_HV_KVM } topo_hv_kind;
typedef enum { TOPO_COSCHED_NONE, TOPO_COSCHED_STRICT, TOPO_COSCHED_RELAXED } topo_cosched;

/* A hypervisor, given to a host (L0) or to a VM (which makes that VM a nested hypervisor).
 * Defaults are filled in by the loader from the kind and version (see scn.c). */
typedef struct topo_hypervisor {
  topo_hv_kind kind;
  char *version;        /* "5.5", "6.7", ... (esxi); free text (kvm) */
  int64_t quantum_ns;   /* scheduling quantum */
  topo_cosched costop;  /* co-scheduling policy for multi-vCPU VMs */
  int64_t skew_ns;      /* relaxed co-scheduling: skew threshold */
  /* -- memory (models/mem.c) -- */
  uint64_t own_mem_bytes; /* `own_memory`: what the hypervisor itself uses; 0: the default */
  char *where;
} topo_hypervisor;

typedef enum { TOPO_WL_CPU, TOPO_WL_JOB } topo_wl_kind;
typedef enum { TOPO_DIST_FIXED, TOPO_DIST_EXP } topo_dist;

/* What a VM's guest does with its vCPUs. Every workload is a sequence of busy bursts (an amount
 * of work, in seconds of one bare-metal core of the L0 host) separated by idle gaps (wall time).
 * cpu { util, period, dist }: bursts of util*period of work, gaps of (1-util)*period; util = 1
 * is CPU-bound (one endless burst). job { work }: one burst of `work`, then idle for good. */
typedef struct topo_workload {
  topo_wl_kind kind;
  double util;          /* cpu: busy fraction in [0, 1] */
  int64_t period_ns;    /* cpu: length of one busy + idle cycle on bare metal */
  topo_dist dist;       /* cpu: fixed or exponential burst and gap lengths */
  double work_s;        /* job: work in bare-metal core-seconds */
  char *profile;        /* virtualization-overhead profile ("kernbench" ...); NULL: cpu-only */
  /* issue 4: the scenario's event rates overriding the profile's, per second of bare-metal
   * work, in virt_profile_field_names() order (syscalls, page_faults, pt_updates, ctx_switches,
   * tlb_misses, io_exits, interrupts, priv_ops); NAN where the profile's rate holds. NULL: none.
   * Owned. */
  double *rates;
  bool per_vm;          /* false: every vCPU runs the workload; true: it is split among them */
  char *where;
} topo_workload;

/* Guest-requested CPU/MMU virtualization mode of a VM (vSphere's "CPU/MMU Virtualization"). */
typedef enum {
  TOPO_CPUMMU_AUTOMATIC,
  TOPO_CPUMMU_SOFTWARE,  /* binary translation + shadow page tables */
  TOPO_CPUMMU_HW_CPU,    /* VT-x/AMD-V + shadow page tables */
  TOPO_CPUMMU_HARDWARE   /* VT-x/AMD-V + EPT/RVI */
} topo_cpu_mmu;

typedef enum { TOPO_POLICY_DEFAULT = -1, TOPO_POLICY_REJECT = 0, TOPO_POLICY_ACCEPT = 1 } topo_policy;

typedef struct topo_nic {        /* a physical NIC of a host */
  char *name;
  double speed_bps;
  topo_host *host;
  char *where;
} topo_nic;

typedef struct topo_vnic {       /* a virtual NIC of a VM */
  char *name;
  char *type;                    /* "vmxnet3" or "e1000" */
  char *mac;                     /* assigned MAC, NULL: generated from the path */
  topo_portgroup *portgroup;     /* where it plugs in (a portgroup or dvportgroup), may be NULL */
  topo_vm *vm;
  /* -- network (models/net.c, issue 5): what the guest does with the vNIC -- */
  bool promiscuous;              /* `promiscuous`: the guest asks for promiscuous mode */
  char *guest_mac;               /* `guest_mac`: the MAC the guest sets (its effective MAC);
                                  * NULL: the assigned one */
  char *where;
} topo_vnic;

/* A port group of a standard vSwitch, or a dvportgroup of a distributed switch. */
struct topo_portgroup {
  char *name;
  int vlan;                      /* 0: none; 1..4094; 4095: all (trunk) */
  topo_policy promiscuous, mac_changes, forged_transmits;
  bool distributed;
  void *owner;                   /* topo_vswitch* or topo_dvswitch* */
  char *where;
};

/* A standard vSwitch on a host (L0) or on a nested hypervisor (then its uplinks are vNICs of
 * that VM). */
typedef struct topo_vswitch {
  char *name;
  topo_host *host;               /* exactly one of host / vm is set */
  topo_vm *vm;
  GPtrArray *uplinks;            /* char* names of NICs (host) or vNICs (vm) */
  GPtrArray *portgroups;         /* topo_portgroup*, owned */
  char *where;
} topo_vswitch;

/* A distributed switch spanning member hypervisors (hosts or nested hypervisor VMs). */
typedef struct topo_dvswitch {
  char *name;
  GPtrArray *member_hosts;       /* topo_host*, not owned */
  GPtrArray *member_vms;         /* topo_vm*, not owned */
  GPtrArray *uplinks;            /* char* NIC/vNIC names used as uplinks on each member */
  GPtrArray *portgroups;         /* topo_portgroup*, owned */
  bool mac_learning;
  char *where;
} topo_dvswitch;

typedef struct topo_datastore {
  char *name;
  uint64_t capacity_bytes;
  char *type;                    /* "ssd" or "hdd" */
  topo_host *host;
  /* -- storage latency (models/disk.c) -- */
  double service_s;              /* `latency`: mean service time of one I/O; 0: by type */
  int servers;                   /* `spindles`: I/Os served at once; 0: by type */
  char *where;
} topo_datastore;

/* ---- Memory and storage of a VM (models/mem.c, models/disk.c) ----
 * Plain values only (nothing a VM owns through a pointer), so freeing the tree is unchanged. */

/* What the guest does with its memory: `mem { active, footprint, touched_rate, share,
 * compress, preset }`, in the VM's `workload` list beside its CPU workload. Sizes are a
 * fraction of the VM's memory (`*_frac`, in [0, 1]) or bytes (`*_bytes`); a value not given is
 * negative (fractions, rates) or 0 (bytes), and then comes from the preset or the default. */
typedef struct topo_memwl {
  bool set;                      /* a mem { } workload was given */
  char preset[16];               /* "" or a preset name of models/mem.c */
  double active_frac;            /* working set */
  uint64_t active_bytes;
  double footprint_frac;         /* memory the guest has touched at least once */
  uint64_t footprint_bytes;
  double touched_rate_bps;       /* bytes of its working set touched per second of execution */
  double share;                  /* fraction of its pages transparent page sharing can share */
  double compress;               /* fraction of its pages that compress to 2 KB or less */
} topo_memwl;

typedef enum { TOPO_THICK, TOPO_THIN } topo_provisioning;

/* A virtual disk: `disk { size, datastore, provisioning, written, iops }` in a VM's `disks`
 * list. A VM with only `disk = SIZE` has one thick disk of that size on the default
 * datastore (its host's first; a nested host's VMs: inside the nested host's first disk). */
typedef struct topo_disk {
  uint64_t size_bytes;
  topo_datastore *datastore;     /* a datastore of the VM's physical host; NULL: the default */
  topo_provisioning provisioning;
  double written_frac;           /* thin: fraction of the size written so far, in [0, 1] */
  double iops;                   /* the guest's own I/O rate on this disk (Poisson), >= 0 */
} topo_disk;

#define TOPO_VM_MAX_DISKS 8

/* Shares are stored per VM as a number, as vSphere shows them: low / normal / high are 500 /
 * 1000 / 2000 per vCPU. */
struct topo_vm {
  char *name;
  char *path;                    /* "esx01/vESX1/web1" */
  int layer;                     /* 1 on a physical host, 2 on an L1 hypervisor, ... */
  topo_host *host;               /* the physical host at the bottom of the chain */
  topo_vm *parent;               /* the VM whose hypervisor runs this one; NULL on a host */
  int vcpus;
  int cores_per_socket;
  uint64_t memory_bytes;
  uint64_t disk_bytes;
  char *guest;                   /* guest id: "esxi5", "linux64", "windows64", "other32", ... */
  bool guest_64bit;
  topo_cpu_mmu cpu_mmu;
  bool expose_hw_virt;
  double shares;
  double reservation_hz;         /* 0: none */
  double limit_hz;               /* < 0: unlimited */
  topo_hypervisor *hypervisor;   /* non-NULL: this VM is a nested hypervisor; owned */
  GPtrArray *vms;                /* topo_vm*, the VMs it runs, owned */
  GPtrArray *vnics;              /* topo_vnic*, owned */
  GPtrArray *vswitches;          /* topo_vswitch*, on its hypervisor, owned */
  topo_workload *workload;       /* NULL: idle guest; owned */
  /* -- memory and storage (models/mem.c, models/disk.c) -- */
  uint64_t mem_reservation_bytes;  /* `mem_reservation`; 0: none */
  uint64_t mem_limit_bytes;        /* `mem_limit`; 0: unlimited */
  double mem_shares;               /* `mem_shares` (low/normal/high: 5/10/20 per MB); 0: normal */
  int balloon;                     /* `balloon`: 1 the guest has a balloon driver, -1 it has
                                    * none, 0 by guest (models/mem.c: none in ESXi guests) */
  topo_memwl mem;                  /* from a mem { } in `workload` */
  int n_disks;                     /* 0: one thick disk of disk_bytes on the default datastore */
  topo_disk disks[TOPO_VM_MAX_DISKS];
  char *where;
};

struct topo_host {
  char *name;
  char *path;                    /* == name */
  int sockets, cores, threads;   /* cores per socket, threads per core */
  double hz;
  char *cpu_model;               /* CPU generation preset for overhead costs; NULL: default */
  topo_policy vt, ept, vmcs_shadowing; /* DEFAULT: as the preset says */
  /* issue 4: numeric overrides of the CPU preset's costs, by virt_cpu_param_names() name
   * ("exit_cycles" -> 1200): char* -> double*, owned (g_free both); NULL: none. */
  GHashTable *cpu_overrides;
  uint64_t memory_bytes;
  topo_hypervisor *hypervisor;   /* owned; never NULL after loading */
  GPtrArray *nics;               /* topo_nic*, owned */
  GPtrArray *datastores;         /* topo_datastore*, owned */
  GPtrArray *vswitches;          /* topo_vswitch*, owned */
  GPtrArray *vms;                /* topo_vm*, owned */
  char *where;
};

/* ---- Network extras (models/net.c, issue 5) ----
 * A machine outside the hosts, on the physical switch: `external { name, speed, mac, vlan }`. */
typedef struct topo_external {
  char *name;
  double speed_bps;              /* its link to the physical switch */
  char *mac;                     /* NULL: generated from the name */
  int vlan;                      /* access VLAN of its switch port; 0: untagged */
  char *where;
} topo_external;

typedef enum { TOPO_TRAFFIC_STREAM, TOPO_TRAFFIC_RR, TOPO_TRAFFIC_NOISE } topo_traffic_kind;
typedef enum { TOPO_PATTERN_CONSTANT, TOPO_PATTERN_POISSON, TOPO_PATTERN_ONOFF } topo_pattern;

/* One traffic source: `traffic { from, to, rate, frame, ... }` (a stream of frames, rate in
 * bits/s), `rr { from, to, rate, size, ... }` (request/response, rate in transactions/s) or
 * `noise { from, rate, frame, ... }` (broadcasts, rate in frames/s); net.h says what each
 * does. Each end is a vNIC or an external machine (exactly one of each pair; noise has no
 * receiver); all four pointers borrow from the tree. */
typedef struct topo_traffic {
  topo_traffic_kind kind;
  char *name;                    /* unique among the scenario's traffic */
  topo_vnic *from_vnic;
  topo_external *from_ext;
  topo_vnic *to_vnic;
  topo_external *to_ext;
  double rate;
  uint32_t frame_bytes;          /* frame (traffic, noise) or request/response size (rr) */
  bool exp_size;                 /* sizes exponential with mean frame_bytes */
  topo_pattern pattern;
  double on_s, off_s;            /* onoff: mean on and off periods */
  double start_s;
  uint64_t count;                /* sends before the source stops; 0: never */
  char *where;
} topo_traffic;

/* `scenario { network = { ... } }`: model parameters; a negative value is "the default of
 * models/net.c". */
typedef struct topo_net_params {
  double vmxnet3_frame_s, e1000_frame_s; /* CPU per frame */
  int64_t queue_frames;                  /* link queue capacity (0: unbounded) */
  double propagation_s, pswitch_aging_s, learn_aging_s;
  int64_t learn_limit;
  int learn_limit_drop;                  /* 1: "drop", 0: "allow" */
  int flood_unknown;                     /* 1 / 0 */
} topo_net_params;

typedef struct topo_scenario {
  char *name;
  char *file;                    /* the scenario file as given */
  int64_t duration_ns;
  int64_t warmup_ns;
  int64_t interval_ns;
  uint64_t seed;
  bool overheads;                /* false: every virtualization overhead is off */
  /* issue 4: overhead_mode = "discrete": every exit simulated as an event (models/cpu.c);
   * false ("fluid", the default): exits as a steady fraction of executing time. */
  bool overhead_discrete;
  GPtrArray *hosts;              /* topo_host*, owned */
  GPtrArray *dvswitches;         /* topo_dvswitch*, owned */
  GHashTable *params;            /* char* name -> char* value as used, owned */
  /* -- network (models/net.c, issue 5) -- */
  GPtrArray *externals;          /* topo_external*, owned; may be NULL */
  GPtrArray *traffic;            /* topo_traffic*, owned; may be NULL */
  topo_net_params *network;      /* owned; NULL: every parameter at its default */
} topo_scenario;

void topo_scenario_free(topo_scenario *scn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(topo_scenario, topo_scenario_free)

/* Each frees one object and everything it owns (never what it merely points at: a vNIC's
 * port group, a distributed switch's members). For builders that hold an object not (yet)
 * attached to a scenario: the loader, tests that build trees by hand. NULL is fine. */
void topo_host_free(topo_host *host);
void topo_vm_free(topo_vm *vm);
void topo_hypervisor_free(topo_hypervisor *hv);
void topo_workload_free(topo_workload *w);
void topo_nic_free(topo_nic *nic);
void topo_vnic_free(topo_vnic *vnic);
void topo_portgroup_free(topo_portgroup *pg);
void topo_vswitch_free(topo_vswitch *sw);
void topo_dvswitch_free(topo_dvswitch *dvs);
void topo_datastore_free(topo_datastore *ds);
void topo_external_free(topo_external *x);
void topo_traffic_free(topo_traffic *t);

/* Walks every VM at every layer, parents before children, hosts in order. */
typedef void (*topo_vm_fn)(topo_vm *vm, void *user);
void topo_foreach_vm(const topo_scenario *scn, topo_vm_fn fn, void *user);

/* Number of logical CPUs of a host (sockets x cores x threads). */
int topo_host_pcpus(const topo_host *h);

/* Appends the topology as an indented tree with totals per host and per layer (vCPUs per
 * pCPU, configured memory against capacity) for `nestsim check`. */
void topo_print_tree(const topo_scenario *scn, GString *out);

#endif
