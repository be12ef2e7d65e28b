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
  char *where;
} topo_datastore;

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
  char *where;
};

struct topo_host {
  char *name;
  char *path;                    /* == name */
  int sockets, cores, threads;   /* cores per socket, threads per core */
  double hz;
  char *cpu_model;               /* CPU generation preset for overhead costs; NULL: default */
  topo_policy vt, ept, vmcs_shadowing; /* DEFAULT: as the preset says */
  uint64_t memory_bytes;
  topo_hypervisor *hypervisor;   /* owned; never NULL after loading */
  GPtrArray *nics;               /* topo_nic*, owned */
  GPtrArray *datastores;         /* topo_datastore*, owned */
  GPtrArray *vswitches;          /* topo_vswitch*, owned */
  GPtrArray *vms;                /* topo_vm*, owned */
  char *where;
};

typedef struct topo_scenario {
  char *name;
  char *file;                    /* the scenario file as given */
  int64_t duration_ns;
  int64_t warmup_ns;
  int64_t interval_ns;
  uint64_t seed;
  bool overheads;                /* false: every virtualization overhead is off */
  GPtrArray *hosts;              /* topo_host*, owned */
  GPtrArray *dvswitches;         /* topo_dvswitch*, owned */
  GHashTable *params;            /* char* name -> char* value as used, owned */
} topo_scenario;

void topo_scenario_free(topo_scenario *scn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(topo_scenario, topo_scenario_free)

/* Walks every VM at every layer, parents before children, hosts in order. */
typedef void (*topo_vm_fn)(topo_vm *vm, void *user);
void topo_foreach_vm(const topo_scenario *scn, topo_vm_fn fn, void *user);

/* Number of logical CPUs of a host (sockets x cores x threads). */
int topo_host_pcpus(const topo_host *h);

/* Appends the topology as an indented tree with totals per host and per layer (vCPUs per
 * pCPU, configured memory against capacity) for `nestsim check`. */
void topo_print_tree(const topo_scenario *scn, GString *out);

#endif
