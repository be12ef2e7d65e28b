/* mem.h — the memory model: every hypervisor (the physical host's and each nested one) lends
 * its memory to its VMs, keeps minFree free, and when free memory falls through the states of
 * its ESXi version reclaims by page sharing, ballooning, compression and swapping to the VM's
 * datastore; guests touching reclaimed pages stall, which slows their vCPUs in the CPU model.
 *
 * The model is a fluid one: a VM's guest pages are counted in pools (resident active and idle,
 * ballooned, compressed, swapped, untouched), and once per tick (MEM_TICK_S) every hypervisor,
 * deepest first, grows its VMs' footprints, recomputes their targets (shares with the idle
 * memory tax), finds its state and reclaims; then the swap-in latencies of all datastores are
 * solved together with the swap-in rates they allow (a stalled vCPU touches nothing), and the
 * resulting stall fraction is each VM's memory drag. Nothing is allocated after create. */
#ifndef NESTSIM_MODELS_MEM_H
#define NESTSIM_MODELS_MEM_H

#include <glib.h>
#include <stdint.h>
#include "models/cpu.h"
#include "models/disk.h"
#include "models/model.h"

extern const mdl_ops mem_model;

/* The model's time step: long against one swap-in, and no longer than ESX's own periodic
 * memory reallocation (every 15 s by default, ESX Server 3 Administration Guide), so targets
 * and states move at least as often as ESX would move them. */
#define MEM_TICK_S 1.0

/* Free-memory states, worst last. CLEAR exists in ESXi 6.0 and later only. */
typedef enum { MEM_HIGH, MEM_CLEAR, MEM_SOFT, MEM_HARD, MEM_LOW, MEM_N_LEVELS } mem_level;
const char *mem_level_name(mem_level level);

/* ---- The published tables, exposed for tests and for `nestsim check` ---- */

/* Overhead memory of a VM in bytes: the vSphere Resource Management Guide's "Sample Overhead
 * Memory on Virtual Machines" table, interpolated (see mem.c). */
uint64_t mem_overhead_bytes(uint64_t memory_bytes, int vcpus);
/* minFree of a host of that much memory: the vSphere 5.0+ sliding scale (see mem.c). */
uint64_t mem_minfree_bytes(uint64_t memory_bytes);
/* The state a hypervisor of ESXi major version `esxi_major` is in with that much free memory. */
mem_level mem_level_of(double free_bytes, double minfree_bytes, int esxi_major);
/* Whether a guest of that id has a balloon driver when the scenario does not say: every guest
 * but a nested ESXi ("esxi..." ids), which has no VMware Tools balloon driver. */
gboolean mem_guest_has_balloon(const char *guest);

/* ---- The model outside a run: built, ticked and inspected directly (tests, check) ---- */

typedef struct mem_state mem_state;

/* Builds the model of every hypervisor of scn. met and cpu may be NULL (no metrics; execution
 * taken from the workloads' nominal demand). Fails with *error when a VM cannot power on
 * (reservations beyond its hypervisor's memory) or names an unknown mem preset. */
mem_state *mem_new(const topo_scenario *scn, met_table *met, cpu_state *cpu,
                   GError **error); /* transfer full */
void mem_free(mem_state *ms);
/* Advances the model by one tick of dt seconds. */
void mem_tick(mem_state *ms, double dt_s);
/* Restarts the counters (the end of warm-up). */
void mem_reset(mem_state *ms);

/* A VM as its hypervisor's esxtop shows it (megabytes, as esxtop does), plus the stalls. */
typedef struct mem_vm_stats {
  double memsz_mb;     /* MEMSZ: configured */
  double grant_mb;     /* GRANT: guest memory mapped to machine memory (shared pages included) */
  double sztgt_mb;     /* SZTGT: target, overhead included */
  double tchd_mb;      /* TCHD: active memory (working set) */
  double shrd_mb;      /* SHRD: shared pages (all of them saved: see mem.c) */
  double zip_mb;       /* ZIP: guest memory held compressed */
  double cacheusd_mb;  /* CACHEUSD: compression cache the compressed pages occupy */
  double swcur_mb;     /* SWCUR: swapped out now */
  double mctlsz_mb;    /* MCTLSZ: balloon size */
  double ovhd_mb;      /* OVHD: overhead memory */
  double consumed_mb;  /* machine memory for guest memory: GRANT - SHRD + CACHEUSD */
  /* Totals since the start or the last reset. */
  double swapin_mb, swapout_mb, zip_in_mb, unzip_mb;
  double swap_stall_s, zip_stall_s; /* stall summed over the VM's vCPUs */
  double wait_stall_s;              /* blocked on touched pages that no layer below could
                                     * find memory for (page-ins and a nested host's pages
                                     * not backed yet), until the next tick's reclamation */
  double swapin_pages;              /* pages this VM's touches made its hypervisor swap in */
  double swapin_latency_sum_s;      /* sum over those swap-ins of the datastore's latency */
  double double_paged_mb;           /* nested hypervisors: pages they swapped out that the
                                     * layer below had already swapped or compressed */
  double drag;                      /* current stall fraction of its execution */
} mem_vm_stats;

/* A hypervisor (a host's or a nested one's), in megabytes. The identity
 * capacity = own + vm_consumed + vm_overhead + free holds at every tick. */
typedef struct mem_hv_stats {
  double capacity_mb, own_mb, free_mb, minfree_mb;
  double vm_consumed_mb;  /* sum of its VMs' consumed_mb */
  double vm_overhead_mb;  /* sum of its VMs' ovhd_mb */
  mem_level level;        /* now */
  mem_level worst;        /* worst since the start or the last reset */
  double level_s[MEM_N_LEVELS]; /* seconds spent in each state */
} mem_hv_stats;

/* path: a VM path ("esx01/vESX1/vm1"), a host name or a nested hypervisor VM's path.
 * Return FALSE when the path names no such entity. */
gboolean mem_vm_get(const mem_state *ms, const char *path, mem_vm_stats *out);
gboolean mem_hv_get(const mem_state *ms, const char *path, mem_hv_stats *out);
/* The states a hypervisor went through, in order, from its initial one (at most max of them).
 * Returns how many were written to out. */
guint mem_hv_levels(const mem_state *ms, const char *path, mem_level *out, guint max);
/* A datastore of a host: path "esx01/[datastore1]". */
dsk_store *mem_datastore(const mem_state *ms, const char *path);

/* ---- `nestsim check` ---- */

typedef enum { MEM_FITS, MEM_TIGHT, MEM_NO_FIT } mem_verdict;
const char *mem_verdict_name(mem_verdict v);

/* One verdict of the check: a hypervisor's memory, or the space of a datastore or a nested
 * host's local disk. Freed with mem_finding_free. */
typedef struct mem_finding {
  char *path;          /* the hypervisor: "esx01" (its datastores too) or "esx01/vESX1" */
  int layer;           /* 0: a physical host; 1: a nested host on it; ... */
  gboolean storage;    /* FALSE: its memory; TRUE: a datastore of it or its local disk */
  mem_verdict verdict;
  char *number;        /* the figure behind the verdict, in words */
  char *fix;           /* the change that makes it fit (computed), NULL when it fits */
} mem_finding;
void mem_finding_free(gpointer finding);

/* For every hypervisor at every layer: configured + overhead memory against its capacity, the
 * memory its guests will touch and keep active, the state it will reach and the fix when it
 * does not fit; for every datastore what is provisioned on it (thick, thin, swap files) against
 * its capacity, and for every nested host what its VMs keep in its local disk. Appends the
 * explanatory lines to out (may be NULL) and one mem_finding per verdict to findings (may be
 * NULL; transfer full: give it mem_finding_free as free function), a hypervisor's memory
 * before those of the hypervisors under it. Returns the worst verdict. */
mem_verdict mem_check(const topo_scenario *scn, GString *out, GPtrArray *findings);

#endif
