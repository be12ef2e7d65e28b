/* mem.c - the memory model: accounting at every layer, ESXi's free-memory states and
 * reclamation, stalls on reclaimed pages, double paging across nested layers, and the
 * capacity verdict of `nestsim check`.
 *
 * ---- Parameters and where they come from (README table: "Memory model") ----
 * Overhead memory per VM: vSphere Resource Management Guide, "Overhead Memory on Virtual
 *   Machines", table "Sample Overhead Memory on Virtual Machines" (MB for 256/1024/4096/16384
 *   MB x 1/2/4/8 vCPUs, measured with VMX swap and hardware MMU on). The same sample values
 *   appear in the 5.1 to 6.7 editions (text checked in the 6.5 and 6.7 editions). Between
 *   samples the model interpolates linearly; beyond 16 GB or 8 vCPUs it extrapolates the last
 *   segment linearly (an extrapolation, flagged by `nestsim check`).
 * minFree: the vSphere 5.0+ sliding scale, 6% of the first 4 GB, 4% of the next 8 GB, 2% of the
 *   next 16 GB and 1% of the rest (F. Denneman, "Mem.MinFreePct sliding scale function", 2011;
 *   D. Epping, "How does Mem.MinFreePct work with vSphere 5.0 and up?", 2013).
 * States, ESXi 5.x: thresholds at 100/64/32/16% of minFree for high/soft/hard/low;
 *   ballooning while free memory is between 64% and 100% of minFree, ballooning, compression
 *   and swapping below 64% ("Mem.MinFreePct and Memory Reclamation in vSphere 5",
 *   voiceforvirtual.com 2011, explaining the thresholds measured in a vSphere 5 test; the same
 *   per-state techniques for 5.5 in J. Griffiths, "Memory Management in ESXi 6", 2015), and
 *   allocations of VMs above their target blocked in the low state (D. Epping 2015, below,
 *   quoting a VMware engineer), which the model applies below 16% of minFree.
 * States, ESXi 6.0+: clear < 100%, soft < 64%, hard < 32%, low < 16% of minFree; large pages
 *   broken below 400%; TPS actively in clear, ballooning in soft, compression and swapping
 *   (no more ballooning) in hard, blocking in low (D. Epping, yellow-bricks.com 2015, a table of
 *   what happens at each vSphere 6.0 memory state; running-system.com, "vSphere 6 ESXi memory
 *   states and reclamation techniques", 2015).
 * Large pages and TPS: with a hardware MMU, ESXi backs guests with 2 MB pages, which page
 *   sharing does not share; 5.x breaks them into small pages, and shares those, when it has to
 *   swap (VMware KB 1021095, "Transparent Page Sharing (TPS) in hardware MMU systems"), so the
 *   model breaks them when the host first reaches the hard state; 6.0+ below 400% of minFree.
 * Idle memory tax: 75% (Mem.IdleTax default; Waldspurger, "Memory Resource Management in
 *   VMware ESX Server", OSDI 2002, section 5; ESX Server 3 Administration Guide).
 * Memory shares: low/normal/high = 5/10/20 per MB of configured memory (vSphere Resource
 *   Management Guide, "Share Values").
 * Balloon maximum: 65% of configured memory (Mem.CtlMaxPercent default, ESX Server 3
 *   Administration Guide).
 * Compression: a page selected for swapping is compressed instead when it compresses to 2 KB
 *   or less and kept in a half-page slot; the cache holds at most 10% of the VM's memory
 *   (Mem.MemZipMaxPct) (vSphere Resource Management Guide, "Memory Compression"); one
 *   decompression takes about 20 us against milliseconds for a disk (K. Colbert and F. Guo,
 *   VMworld 2009, as reported by virtualizationeh.ca, 2010).
 * Victims of compression and swapping are random guest pages: the hypervisor cannot tell
 *   active pages from idle ones ("vSphere randomly selects the virtual machine's physical
 *   pages to swap out", vSphere 5.5 Storage Guide, swap to host cache). Ballooning lets the
 *   guest choose, and it gives idle pages first (Waldspurger 2002, section 3).
 * Page sharing: 5% of a guest's pages by default, the vSphere guide's figure for "a more
 *   diverse workload" ("many nearly identical virtual machines might free up more than thirty
 *   percent"; vSphere 4.1 Resource Management Guide, "Sharing Memory Across Virtual
 *   Machines"); 0 for a nested ESXi guest: ASSUMPTION (its memory is its own VMs', already
 *   deduplicated by its own TPS). Per VM with mem { share }.
 * ASSUMPTIONS without a source in reach, each a named constant below: the memory a
 *   hypervisor uses itself (MEM_OWN_BYTES), the fraction of pages that compress to 2 KB
 *   (MEM_COMPRESS_DEFAULT), the size of a swap-out write (MEM_SWAP_CLUSTER_PAGES), how much of
 *   a datastore swap-out may use (MEM_SWAP_UTIL_MAX), and the mem { } presets (mem_presets).
 *
 * ---- Simplifications ----
 * Shared pages are counted as saved in full (each shared page's copies collapse to one copy
 * that is negligible beside them). A ballooned guest gives idle pages only, so ballooning
 * never makes the guest page its working set out. The nested hypervisor's own memory and the
 * overhead memory of its VMs are never touched by the model's workloads, so the layer below
 * reclaims them freely at no stall. Swap-out and page-in move within one tick; swap-out is
 * limited by what its datastore can write, page-in by free memory. */
#include "models/mem.h"

#include <math.h>
#include <string.h>

#include "sim/engine.h"
#include "src/scn.h"

/* ---- Constants (see the header comment for their sources) ---- */

#define PAGE_BYTES 4096.0
#define MB_BYTES (1024.0 * 1024.0)
#define PAGES_PER_MB (MB_BYTES / PAGE_BYTES)

#define MEM_IDLE_TAX 0.75
#define MEM_SHARES_PER_MB_NORMAL 10.0
#define MEM_BALLOON_MAX 0.65
#define MEM_ZIP_SLOT 0.5
#define MEM_ZIP_CACHE_MAX 0.10
#define MEM_UNZIP_S 20e-6
#define MEM_SHARE_DEFAULT 0.05
#define MEM_SHARE_NESTED 0.0
/* ASSUMPTION: what ESXi (or KVM's host kernel) keeps for itself: vmkernel, drivers and agents.
 * The 4.1 guide says "at least 50MB ... and additional memory for device drivers" and gives no
 * figure for 5.x's agents; 1 GB is a round planning figure. Per hypervisor: esxi { own_memory }. */
#define MEM_OWN_BYTES (1024.0 * MB_BYTES)
/* ASSUMPTION: half of a guest's pages compress to 2 KB or less. Per VM: mem { compress }. */
#define MEM_COMPRESS_DEFAULT 0.5
/* ASSUMPTION: swap-out is batched into 1 MB writes to the swap file that each cost one I/O of
 * the datastore's service time (on a 7,200 rpm HDD: 0.9 x 79 MB/s, about its sequential
 * bandwidth); a swap-in reads one 4 KB page per I/O. */
#define MEM_SWAP_CLUSTER_PAGES 256.0
/* ASSUMPTION: swap-out uses at most 90% of its datastore's throughput, so that page-ins and
 * guest I/O still get through. */
#define MEM_SWAP_UTIL_MAX 0.9
/* Fractions of minFree: the state thresholds and 6.x's large-page threshold. */
#define MEM_THR_SOFT 0.64
#define MEM_THR_HARD 0.32
#define MEM_THR_LOW 0.16
#define MEM_THR_LPAGE6 4.0
/* ESX estimates a VM's working set by monitoring its memory activity over successive periods
 * of the VM's execution time, 60 s by default (Mem.SamplePeriod; vSphere 6.5 Resource
 * Management Guide, "Memory Tax for Idle Virtual Machines"; 30 s in ESX Server 2/3). The
 * default working-set touch rate follows from it (vm_configure). */
#define MEM_SAMPLE_PERIOD_S 60.0
/* The state log of a hypervisor keeps its first transitions. */
#define MEM_LOG_MAX 64

/* mem { preset }: working set and footprint as fractions of configured memory, the rate at
 * which the guest touches its working set in MB per second of execution. ASSUMPTION: four
 * illustrative activity levels, not measurements of any application. */
typedef struct mem_preset {
  const char *name;
  double active, footprint, rate_mbps;
} mem_preset;

static const mem_preset mem_presets[] = {
    {"idle", 0.05, 1.0, 16},
    {"light", 0.20, 1.0, 64},
    {"medium", 0.40, 1.0, 256},
    {"heavy", 0.75, 1.0, 1024},
};

/* ---- The published tables ---- */

/* vSphere Resource Management Guide, "Sample Overhead Memory on Virtual Machines" (MB). */
static const double ovh_mem_mb[] = {256, 1024, 4096, 16384};
static const double ovh_vcpus[] = {1, 2, 4, 8};
static const double ovh_table_mb[4][4] = {
    {20.29, 24.28, 32.23, 48.16},
    {25.90, 29.91, 37.86, 53.82},
    {48.64, 52.72, 60.67, 76.78},
    {139.62, 143.98, 151.93, 168.60},
};

/* Piecewise-linear interpolation over 4 sample points, extrapolating the end segments. */
static double interp4(const double *xs, const double *ys, double x) {
  int i = 0;
  if (x <= xs[0]) return ys[0];
  while (i < 2 && x > xs[i + 1]) i++;
  return ys[i] + (ys[i + 1] - ys[i]) * (x - xs[i]) / (xs[i + 1] - xs[i]);
}

uint64_t mem_overhead_bytes(uint64_t memory_bytes, int vcpus) {
  g_assert(vcpus >= 1);
  double mb = memory_bytes / MB_BYTES;
  double by_vcpus[4];
  for (int v = 0; v < 4; v++) {
    double col[4];
    for (int m = 0; m < 4; m++) col[m] = ovh_table_mb[m][v];
    by_vcpus[v] = interp4(ovh_mem_mb, col, mb);
  }
  return (uint64_t)(interp4(ovh_vcpus, by_vcpus, vcpus) * MB_BYTES);
}

uint64_t mem_minfree_bytes(uint64_t memory_bytes) {
  static const double band_gb[] = {4, 8, 16};
  static const double band_pct[] = {0.06, 0.04, 0.02};
  double left = memory_bytes, sum = 0;
  for (int i = 0; i < 3 && left > 0; i++) {
    double b = MIN(left, band_gb[i] * 1024 * MB_BYTES);
    sum += b * band_pct[i];
    left -= b;
  }
  sum += left * 0.01;
  return (uint64_t)sum;
}

mem_level mem_level_of(double free_bytes, double minfree_bytes, int esxi_major) {
  double f = minfree_bytes > 0 ? free_bytes / minfree_bytes : INFINITY;
  if (esxi_major >= 6) {
    if (f >= 1.0) return MEM_HIGH;
    if (f >= MEM_THR_SOFT) return MEM_CLEAR;
    if (f >= MEM_THR_HARD) return MEM_SOFT;
    if (f >= MEM_THR_LOW) return MEM_HARD;
    return MEM_LOW;
  }
  if (f >= 1.0) return MEM_HIGH;
  if (f >= MEM_THR_SOFT) return MEM_SOFT;
  if (f >= MEM_THR_HARD) return MEM_HARD;
  return MEM_LOW;
}

const char *mem_level_name(mem_level level) {
  static const char *const names[] = {"high", "clear", "soft", "hard", "low"};
  g_assert(level < MEM_N_LEVELS);
  return names[level];
}

const char *mem_verdict_name(mem_verdict v) {
  static const char *const names[] = {"fits", "tight", "does not fit"};
  return names[v];
}

gboolean mem_guest_has_balloon(const char *guest) {
  return !(guest && g_str_has_prefix(guest, "esx"));
}

/* ---- The model's state ---- */

typedef struct mvm mvm;
typedef struct mhv mhv;

/* A datastore of an L0 host, with what one tick asks of it. */
typedef struct mds {
  dsk_store *d;
  char *path;        /* "esx01/[datastore1]" */
  const topo_host *host;
  met_id ent;
  double latency;    /* response time solved for this tick, s */
  double guest_iops; /* the guests' own disk I/O landing here */
  double trial;      /* swap-in reads an evaluation at trial latencies asks for */
  double prev_page_iops; /* page-in reads per second in the last tick */
  double reads, writes;            /* I/Os this tick */
  double iv_reads, iv_writes, iv_lat_sum, iv_wait_sum;  /* this interval */
} mds;

/* A VM as its hypervisor sees it. All sizes are in 4 KB pages, as fluid quantities. */
struct mvm {
  const topo_vm *tv;
  mhv *hv;                 /* the hypervisor that runs it */
  mhv *inner;              /* non-NULL: the VM is a nested hypervisor; its own memory */
  mds *home;               /* the L0 datastore its disks and swap file live on, or NULL */
  double disk_iops;
  met_id ent;
  /* Configuration. */
  double M, R, L, S, ovh;
  double F, A;             /* footprint and working set goals */
  double touch_pps;        /* working-set pages touched per second of execution */
  double fill_pps;         /* footprint pages first touched per second; INFINITY: at once */
  double share, zipf;
  gboolean balloon, large_pages;
  double nominal_exec;     /* vCPU-seconds per second when there is no CPU model */
  /* Pools: resident active/idle, ballooned, compressed active/idle, swapped active/idle. */
  double ra, ri, bal, za, zi, sa, si;
  double target;           /* machine pages (overhead excluded) */
  /* This tick. */
  double exec_last, e_exec, e_prod;
  double touches_in;       /* nested: touches of its active pages by its VMs this tick */
  double pend;             /* nested: its guests' working-set pages it has handed out that the
                            * layer below has not backed yet (see hv_fill) */
  double cost;             /* expected stall (s) of one touch of its active pages */
  double q_s, q_z;         /* stall (s) per touch of its active pages, swap and zip parts */
  double drag;
  double pin_s, pin_z;     /* swap-ins and decompressions it needs this tick */
  double pin_u;            /* touched pages no memory could be found for this tick */
  double q_u;              /* such pages per touch of its working set, layers below included */
  double exec_tot, stall_tot; /* since the start or the last reset */
  /* Totals and this interval. */
  mem_vm_stats tot;
  double iv_swapin, iv_swapout, iv_zip, iv_unzip, iv_swap_stall, iv_zip_stall, iv_double;
};

/* A hypervisor: the L0 host's, or a nested hypervisor VM's own memory. */
struct mhv {
  char *path;
  const topo_host *host;   /* set for L0 */
  mvm *self;               /* set for a nested hypervisor */
  mds **ds;                /* L0: its datastores */
  guint n_ds;
  int esxi_major;
  int depth;
  double cap, own, minfree;
  mvm **vms;
  guint n_vms;
  mem_level level, worst;
  gboolean tps_broken;
  double level_s[MEM_N_LEVELS];
  mem_level log[MEM_LOG_MAX];
  guint n_log;
  double free_min;         /* lowest free memory since the start or the last reset */
  met_id ent;
  /* L0 only: its VMs at every layer are ms->vms[vm_first, vm_end) in pre-order, its nested
   * hypervisors ms->hvs[hv_first + 1, hv_end). */
  guint vm_first, vm_end, hv_first, hv_end;
};

struct mem_state {
  sim_entity ent;
  sim_event tick;
  sim_engine *eng;
  met_table *met;
  cpu_state *cpu;
  mvm *vms;
  guint n_vms;
  mhv *hvs;          /* in topology order: each host, then its nested hypervisors */
  guint n_hvs;
  mhv **order;       /* deepest first: the order a tick processes them in */
  mds *ds;
  guint n_ds;
  GHashTable *vm_by_path, *hv_by_path, *ds_by_path;
  double *row;       /* one metrics row */
  met_id col_first;  /* columns are consecutive from here */
  sim_time end;      /* the run's end: no tick is scheduled after it */
  sim_time next_tick; /* when the pending tick is due */
};

/* The columns the model writes, in order. */
enum {
  C_MEMSZ, C_GRANT, C_SZTGT, C_TCHD, C_SHRD, C_ZIP, C_CACHEUSD, C_SWCUR, C_SWR, C_SWW, C_MCTLSZ,
  C_OVHD, C_ZIPS, C_UNZIPS, C_SWPWT, C_ZIPWT, C_DBLPG,
  C_PMEM, C_VMKMEM, C_PFREE, C_MINFREE, C_MEMSTATE,
  C_DS_CAP, C_DS_PROV, C_DS_ALLOC, C_DS_READS, C_DS_WRITES, C_DS_DAVG, C_DS_QAVG,
  C_N
};
static const char *const col_names[C_N] = {
    "MEMSZ", "GRANT", "SZTGT", "TCHD", "SHRD", "ZIP", "CACHEUSD", "SWCUR", "SWR/s", "SWW/s",
    "MCTLSZ", "OVHD", "ZIP/s", "UNZIP/s", "%SWPWT", "%ZIPWT", "DBLPG",
    "PMEM", "VMKMEM", "PFREE", "MINFREE", "MEMSTATE",
    "CAPACITY_GB", "PROVISIONED_GB", "ALLOCATED_GB", "READS/s", "WRITES/s", "DAVG/cmd",
    "QAVG/cmd"};

/* ---- Small helpers on one VM ---- */

static double vm_touched(const mvm *v) {
  return v->ra + v->ri + v->bal + v->za + v->zi + v->sa + v->si;
}
static double vm_active(const mvm *v) { return v->ra + v->za + v->sa; }
static double vm_idle(const mvm *v) { return v->ri + v->bal + v->zi + v->si; }

/* The fraction of its resident pages page sharing saves now. */
static double vm_share_eff(const mvm *v) {
  return v->large_pages && !v->hv->tps_broken ? 0.0 : v->share;
}

/* Machine pages its guest memory takes (overhead excluded). */
static double vm_mach(const mvm *v) {
  return (v->ra + v->ri) * (1.0 - vm_share_eff(v)) + (v->za + v->zi) * MEM_ZIP_SLOT;
}

static double hv_free(const mhv *h) {
  double used = h->own;
  for (guint i = 0; i < h->n_vms; i++) used += h->vms[i]->ovh + vm_mach(h->vms[i]);
  return h->cap - used;
}

/* Moves x pages, in proportion, from the pools a[] to the pools b[] (same length). */
static void move_prop(double *const *from, double *const *to, int n, double x) {
  double total = 0;
  for (int i = 0; i < n; i++) total += *from[i];
  if (total <= 0 || x <= 0) return;
  double f = MIN(1.0, x / total);
  for (int i = 0; i < n; i++) {
    double m = *from[i] * f;
    *from[i] -= m;
    *to[i] += m;
  }
}

/* A nested hypervisor's working set as the layer below sees it changed to a_new: the pages
 * that stopped (started) being someone's working set move from the active pools to the idle
 * ones (back), in proportion, so a page the layer below had swapped stays swapped. */
static void vm_set_active(mvm *v, double a_new) {
  double a_old = vm_active(v);
  if (a_new < a_old) {
    double *from[] = {&v->ra, &v->za, &v->sa}, *to[] = {&v->ri, &v->zi, &v->si};
    move_prop(from, to, 3, a_old - a_new);
  } else if (a_new > a_old) {
    double *from[] = {&v->ri, &v->zi, &v->si}, *to[] = {&v->ra, &v->za, &v->sa};
    move_prop(from, to, 3, a_new - a_old);
  }
}

/* ---- What the model reads from the topology ----
 * A VM's memory settings and disks, gathered in one place: a VM that lists no disks has one
 * thick disk of disk_bytes on the default datastore. */

#define MEM_MAX_DISKS TOPO_VM_MAX_DISKS

typedef struct mem_disk {
  uint64_t size;
  const topo_datastore *ds; /* NULL: the default (see vm_home) */
  gboolean thin;
  double written;           /* thin: fraction of the size written */
  double iops;              /* the guest's own I/O on it */
} mem_disk;

typedef struct mem_cfg {
  uint64_t reservation, limit; /* bytes; limit 0: unlimited */
  double shares;               /* 0: normal */
  int balloon;                 /* 1: driver, -1: none, 0: by guest */
  gboolean wl;                 /* a mem { } workload was given */
  const char *preset;          /* "": none */
  double active_frac, footprint_frac, rate_bps, share, compress; /* < 0: not given */
  uint64_t active_bytes, footprint_bytes;                        /* 0: not given */
  int n_disks;
  mem_disk disks[MEM_MAX_DISKS];
} mem_cfg;

static void cfg_of(const topo_vm *tv, mem_cfg *c) {
  *c = (mem_cfg){.preset = "", .active_frac = -1, .footprint_frac = -1, .rate_bps = -1,
                 .share = -1, .compress = -1};
  c->reservation = tv->mem_reservation_bytes;
  c->limit = tv->mem_limit_bytes;
  c->shares = tv->mem_shares;
  c->balloon = tv->balloon;
  const topo_memwl *w = &tv->mem;
  if (w->set) {
    c->wl = TRUE;
    c->preset = w->preset;
    c->active_frac = w->active_frac;
    c->active_bytes = w->active_bytes;
    c->footprint_frac = w->footprint_frac;
    c->footprint_bytes = w->footprint_bytes;
    c->rate_bps = w->touched_rate_bps;
    c->share = w->share;
    c->compress = w->compress;
  }
  for (int i = 0; i < tv->n_disks; i++)
    c->disks[c->n_disks++] = (mem_disk){.size = tv->disks[i].size_bytes,
                                        .ds = tv->disks[i].datastore,
                                        .thin = tv->disks[i].provisioning == TOPO_THIN,
                                        .written = tv->disks[i].written_frac,
                                        .iops = tv->disks[i].iops};
  if (c->n_disks == 0 && tv->disk_bytes) c->disks[c->n_disks++] = (mem_disk){.size = tv->disk_bytes};
}

static uint64_t hv_own_bytes(const topo_hypervisor *hv) {
  return hv && hv->own_mem_bytes ? hv->own_mem_bytes : (uint64_t)MEM_OWN_BYTES;
}

/* Bytes a VM's disk takes on its datastore now: thick its size, thin what has been written. */
static double disk_allocated(const mem_disk *k) { return k->thin ? k->written * k->size : k->size; }

/* ---- Building ---- */

static const mem_preset *preset_find(const char *name) {
  for (guint i = 0; i < G_N_ELEMENTS(mem_presets); i++)
    if (!strcmp(mem_presets[i].name, name)) return &mem_presets[i];
  return NULL;
}

static int esxi_major_of(const topo_hypervisor *hv) {
  /* KVM is modelled with ESXi 5.x's policy (an approximation, said by `nestsim check`). */
  if (!hv || hv->kind != TOPO_HV_ESXI || !hv->version) return 5;
  int major = atoi(hv->version);
  return major > 0 ? major : 5;
}

static double hv_own_pages(const topo_hypervisor *hv) { return hv_own_bytes(hv) / PAGE_BYTES; }

static double nominal_exec(const topo_vm *tv) {
  const topo_workload *w = tv->workload;
  if (!w) return 0;
  if (w->kind == TOPO_WL_JOB) return w->per_vm ? 1 : tv->vcpus;
  return w->per_vm ? w->util : w->util * tv->vcpus;
}

/* The L0 datastore a VM's home (first disk, swap file) is on. */
static mds *vm_home(mem_state *ms, const topo_vm *tv, const mem_cfg *c, mvm *parent) {
  if (tv->parent) return parent ? parent->home : NULL;
  const topo_datastore *d = c->n_disks > 0 ? c->disks[0].ds : NULL;
  if (!d && tv->host->datastores && tv->host->datastores->len)
    d = g_ptr_array_index(tv->host->datastores, 0);
  if (!d) return NULL;
  for (guint i = 0; i < ms->n_ds; i++)
    if (ms->ds[i].host == tv->host && !strcmp(dsk_name(ms->ds[i].d), d->name)) return &ms->ds[i];
  return NULL;
}

/* Fills v's configuration from the topology. */
static gboolean vm_configure(mvm *v, const topo_vm *tv, const mem_cfg *w, GError **error) {
  v->tv = tv;
  v->M = tv->memory_bytes / PAGE_BYTES;
  v->R = MIN(v->M, w->reservation / PAGE_BYTES);
  v->L = w->limit ? MIN(v->M, w->limit / PAGE_BYTES) : v->M;
  v->S = w->shares > 0 ? w->shares : MEM_SHARES_PER_MB_NORMAL * (tv->memory_bytes / MB_BYTES);
  v->ovh = mem_overhead_bytes(tv->memory_bytes, tv->vcpus) / PAGE_BYTES;
  v->balloon = w->balloon ? w->balloon > 0 : mem_guest_has_balloon(tv->guest);
  v->large_pages = tv->cpu_mmu == TOPO_CPUMMU_HARDWARE || tv->cpu_mmu == TOPO_CPUMMU_AUTOMATIC;
  v->nominal_exec = nominal_exec(tv);
  for (int i = 0; i < w->n_disks; i++) v->disk_iops += w->disks[i].iops;
  gboolean nested = tv->hypervisor != NULL;
  v->share = nested ? MEM_SHARE_NESTED : MEM_SHARE_DEFAULT;
  v->zipf = MEM_COMPRESS_DEFAULT;
  if (nested) {
    /* Its footprint and working set are its own VMs' (mem_tick). */
    v->F = v->A = 0;
    v->fill_pps = INFINITY;
  } else if (!w->wl) {
    /* No mem { }: the guest is taken to have touched all its memory already and to have no
     * working set the model follows (it never stalls). */
    v->F = v->M;
    v->A = 0;
    v->fill_pps = INFINITY;
  } else {
    const mem_preset *p = NULL;
    if (w->preset[0] && !(p = preset_find(w->preset))) {
      g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                  "%s: vm '%s': invalid 'mem' preset: expected idle, light, medium or heavy, "
                  "got \"%s\"", tv->where ? tv->where : "?", tv->name, w->preset);
      return FALSE;
    }
    double active = w->active_bytes ? w->active_bytes / PAGE_BYTES
                    : w->active_frac >= 0 ? w->active_frac * v->M
                    : p ? p->active * v->M : 0;
    double foot = w->footprint_bytes ? w->footprint_bytes / PAGE_BYTES
                  : w->footprint_frac >= 0 ? w->footprint_frac * v->M
                  : p ? p->footprint * v->M : v->M;
    double rate = w->rate_bps >= 0 ? w->rate_bps
                  : p ? p->rate_mbps * MB_BYTES : -1;
    v->A = MIN(active, v->M);
    v->F = CLAMP(foot, v->A, v->M);
    if (rate >= 0) {
      v->touch_pps = rate / PAGE_BYTES;
      /* The guest touches its footprint for the first time at the same rate, in wall time. */
      v->fill_pps = v->touch_pps > 0 ? v->touch_pps : INFINITY;
    } else {
      /* A working set without a rate: ESX counts a page active when the VM touched it within
       * the last sampling period of its execution (MEM_SAMPLE_PERIOD_S), so a working set the
       * scenario calls active is touched at least once a period: the slowest rate the word
       * allows, per second of execution. Without it such a working set was never touched, and
       * its guest never stalled however much of it the layers below had swapped. The
       * footprint is taken as touched already, as before. */
      v->touch_pps = v->A / MEM_SAMPLE_PERIOD_S;
      v->fill_pps = INFINITY;
    }
    if (w->share >= 0) v->share = w->share;
    if (w->compress >= 0) v->zipf = w->compress;
  }
  return TRUE;
}

typedef struct build_ctx {
  mem_state *ms;
  guint next_vm, next_hv;
  GError **error;
  gboolean ok;
} build_ctx;

static mhv *hv_init(mhv *h, char *path, double cap, const topo_hypervisor *thv, int depth) {
  h->path = path;
  h->cap = cap;
  h->own = hv_own_pages(thv);
  h->minfree = mem_minfree_bytes((uint64_t)(cap * PAGE_BYTES)) / PAGE_BYTES;
  h->esxi_major = esxi_major_of(thv);
  h->depth = depth;
  h->level = h->worst = MEM_HIGH;
  h->log[0] = MEM_HIGH;
  h->n_log = 1;
  h->free_min = INFINITY;
  return h;
}

/* Adds the VM tv (and, recursively, its own VMs) under the hypervisor h. */
static void build_vm(build_ctx *b, mhv *h, mvm *parent, const topo_vm *tv) {
  mem_state *ms = b->ms;
  mvm *v = &ms->vms[b->next_vm++];
  mem_cfg cfg;
  cfg_of(tv, &cfg);
  if (!vm_configure(v, tv, &cfg, b->error)) {
    b->ok = FALSE;
    return;
  }
  v->hv = h;
  v->home = vm_home(ms, tv, &cfg, parent);
  h->vms[h->n_vms++] = v;
  g_hash_table_insert(ms->vm_by_path, tv->path, v);
  if (tv->hypervisor) {
    mhv *in = &ms->hvs[b->next_hv++];
    hv_init(in, g_strdup(tv->path), v->M, tv->hypervisor, h->depth + 1);
    in->self = v;
    in->vms = g_new0(mvm *, tv->vms ? tv->vms->len : 0);
    v->inner = in;
    g_hash_table_insert(ms->hv_by_path, in->path, in);
    for (guint i = 0; tv->vms && i < tv->vms->len && b->ok; i++)
      build_vm(b, in, v, g_ptr_array_index(tv->vms, i));
  }
}

/* Counts VMs (n[0]) and nested hypervisors (n[1]) at every layer under a list of VMs. */
static void count_vms(const GPtrArray *vms, guint *n) {
  for (guint i = 0; vms && i < vms->len; i++) {
    const topo_vm *vm = g_ptr_array_index(vms, i);
    n[0]++;
    if (vm->hypervisor) {
      n[1]++;
      count_vms(vm->vms, n);
    }
  }
}

static int cmp_depth_desc(const void *a, const void *b) {
  const mhv *x = *(const mhv *const *)a, *y = *(const mhv *const *)b;
  if (x->depth != y->depth) return y->depth - x->depth;
  return x < y ? -1 : x > y;
}

/* Admission control: reservations and overheads must fit the hypervisor's memory. */
static gboolean hv_admit(const mhv *h, GError **error) {
  double need = h->own;
  for (guint i = 0; i < h->n_vms; i++) need += h->vms[i]->R + h->vms[i]->ovh;
  if (need <= h->cap) return TRUE;
  g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
              "%s: memory reservations (%.0f MB with overheads and the hypervisor's own %.0f MB) "
              "exceed its %.0f MB: its VMs cannot all power on; lower the reservations by %.0f MB",
              h->path, need / PAGES_PER_MB, h->own / PAGES_PER_MB, h->cap / PAGES_PER_MB,
              (need - h->cap) / PAGES_PER_MB);
  return FALSE;
}

static void register_metrics(mem_state *ms) {
  met_table *t = ms->met;
  ms->col_first = met_column(t, col_names[0]);
  for (int c = 1; c < C_N; c++) {
    met_id id = met_column(t, col_names[c]);
    /* Rows are written with the model's columns at consecutive indices. */
    g_assert(id == ms->col_first + (met_id)c);
  }
  for (guint i = 0; i < ms->n_vms; i++) {
    mvm *v = &ms->vms[i];
    gint64 e = met_lookup(t, v->tv->path);
    v->ent = e >= 0 ? (met_id)e : met_entity(t, v->tv->path, "vm", v->tv->layer);
  }
  for (guint i = 0; i < ms->n_hvs; i++) {
    mhv *h = &ms->hvs[i];
    if (h->self) {
      h->ent = h->self->ent;
      continue;
    }
    gint64 e = met_lookup(t, h->path);
    h->ent = e >= 0 ? (met_id)e : met_entity(t, h->path, "host", 0);
  }
  for (guint i = 0; i < ms->n_ds; i++) ms->ds[i].ent = met_entity(t, ms->ds[i].path, "datastore", 0);
}

static void place_files(mem_state *ms);

mem_state *mem_new(const topo_scenario *scn, met_table *met, cpu_state *cpu, GError **error) {
  mem_state *ms = g_new0(mem_state, 1);
  ms->met = met;
  ms->cpu = cpu;
  guint counts[2] = {0, 0};
  for (guint i = 0; i < scn->hosts->len; i++)
    count_vms(((const topo_host *)g_ptr_array_index(scn->hosts, i))->vms, counts);
  ms->n_vms = counts[0];
  ms->n_hvs = scn->hosts->len + counts[1];
  ms->vms = g_new0(mvm, MAX(ms->n_vms, 1));
  ms->hvs = g_new0(mhv, MAX(ms->n_hvs, 1));
  ms->order = g_new0(mhv *, MAX(ms->n_hvs, 1));
  ms->vm_by_path = g_hash_table_new(g_str_hash, g_str_equal);
  ms->hv_by_path = g_hash_table_new(g_str_hash, g_str_equal);
  ms->ds_by_path = g_hash_table_new(g_str_hash, g_str_equal);
  guint n_ds = 0;
  for (guint i = 0; i < scn->hosts->len; i++) {
    const topo_host *host = g_ptr_array_index(scn->hosts, i);
    n_ds += host->datastores ? host->datastores->len : 0;
  }
  ms->ds = g_new0(mds, MAX(n_ds, 1));
  for (guint i = 0; i < scn->hosts->len; i++) {
    const topo_host *host = g_ptr_array_index(scn->hosts, i);
    for (guint j = 0; host->datastores && j < host->datastores->len; j++) {
      const topo_datastore *d = g_ptr_array_index(host->datastores, j);
      mds *x = &ms->ds[ms->n_ds++];
      dsk_media media = d->type && !g_ascii_strcasecmp(d->type, "ssd") ? DSK_SSD : DSK_HDD;
      x->d = dsk_new(d->name, d->capacity_bytes, media, d->service_s, d->servers);
      x->path = g_strdup_printf("%s/[%s]", host->name, d->name);
      x->host = host;
      g_hash_table_insert(ms->ds_by_path, x->path, x);
    }
  }
  build_ctx b = {.ms = ms, .error = error, .ok = TRUE};
  guint ds_at = 0;
  for (guint i = 0; i < scn->hosts->len && b.ok; i++) {
    const topo_host *host = g_ptr_array_index(scn->hosts, i);
    mhv *h = &ms->hvs[b.next_hv];
    h->hv_first = b.next_hv++;
    h->vm_first = b.next_vm;
    hv_init(h, g_strdup(host->name), host->memory_bytes / PAGE_BYTES, host->hypervisor, 0);
    h->host = host;
    h->n_ds = host->datastores ? host->datastores->len : 0;
    h->ds = g_new0(mds *, MAX(h->n_ds, 1));
    for (guint j = 0; j < h->n_ds; j++) h->ds[j] = &ms->ds[ds_at++];
    h->vms = g_new0(mvm *, host->vms ? host->vms->len : 0);
    g_hash_table_insert(ms->hv_by_path, h->path, h);
    for (guint j = 0; host->vms && j < host->vms->len && b.ok; j++)
      build_vm(&b, h, NULL, g_ptr_array_index(host->vms, j));
    h->vm_end = b.next_vm;
    h->hv_end = b.next_hv;
  }
  for (guint i = 0; i < ms->n_hvs && b.ok; i++) b.ok = hv_admit(&ms->hvs[i], error);
  if (!b.ok) {
    mem_free(ms);
    return NULL;
  }
  for (guint i = 0; i < ms->n_hvs; i++) ms->order[i] = &ms->hvs[i];
  qsort(ms->order, ms->n_hvs, sizeof *ms->order, cmp_depth_desc);
  place_files(ms);
  if (met) register_metrics(ms);
  return ms;
}

void mem_free(mem_state *ms) {
  if (!ms) return;
  for (guint i = 0; i < ms->n_hvs; i++) {
    g_free(ms->hvs[i].path);
    g_free(ms->hvs[i].vms);
    g_free(ms->hvs[i].ds);
  }
  for (guint i = 0; i < ms->n_ds; i++) {
    dsk_free(ms->ds[i].d);
    g_free(ms->ds[i].path);
  }
  g_hash_table_unref(ms->vm_by_path);
  g_hash_table_unref(ms->hv_by_path);
  g_hash_table_unref(ms->ds_by_path);
  g_free(ms->vms);
  g_free(ms->hvs);
  g_free(ms->order);
  g_free(ms->ds);
  g_free(ms->row);
  g_free(ms);
}

/* Space on the datastores: every L1 VM's disks and its swap file (configured minus reserved
 * memory, created at power-on). Deeper VMs live inside their nested host's disks; their space
 * is checked by mem_check, not taken twice here. */
static void place_files(mem_state *ms) {
  for (guint i = 0; i < ms->n_vms; i++) {
    mvm *v = &ms->vms[i];
    const topo_vm *tv = v->tv;
    mem_cfg c;
    cfg_of(tv, &c);
    if (tv->parent) {
      /* Its disks are files inside its nested host's disk: their I/O lands below it. */
      if (v->home) v->home->guest_iops += v->disk_iops;
      continue;
    }
    for (int k = 0; k < c.n_disks; k++) {
      const mem_disk *dk = &c.disks[k];
      mds *x = v->home;
      if (dk->ds) {
        g_autofree char *p = g_strdup_printf("%s/[%s]", tv->host->name, dk->ds->name);
        x = g_hash_table_lookup(ms->ds_by_path, p);
      }
      if (!x) continue;
      x->guest_iops += dk->iops;
      dsk_place(x->d, dk->size, dk->thin, (uint64_t)disk_allocated(dk));
    }
    if (v->home) {
      uint64_t swap = tv->memory_bytes - MIN(tv->memory_bytes, c.reservation);
      dsk_place(v->home->d, swap, false, swap);
    }
  }
}

/* ---- One tick ---- */

/* Footprint growth: the guest's first touches (a leaf) or its hypervisor's new high-water mark
 * of used memory (a nested hypervisor), taken from free memory. Allocations of a VM above its
 * target stop while the hypervisor is below the low threshold (ESXi blocks them). */
static void hv_fill(mhv *h, double dt) {
  double free_now = hv_free(h);
  gboolean blocking = free_now < MEM_THR_LOW * h->minfree;
  for (guint i = 0; i < h->n_vms; i++) {
    mvm *v = h->vms[i];
    if (v->inner) {
      mhv *in = v->inner;
      double used = in->cap - hv_free(in);
      v->F = MIN(v->M, MAX(v->F, used));
    }
    double want = v->F - vm_touched(v);
    if (want <= 0) continue;
    if (blocking && vm_mach(v) >= v->target) continue;
    double grow = MIN(want, v->fill_pps * dt);
    double per_page = 1.0 - vm_share_eff(v);
    if (per_page > 0) grow = MIN(grow, MAX(0.0, free_now) / per_page);
    if (grow <= 0) continue;
    if (v->inner) {
      v->ri += grow;
    } else {
      double to_active = MIN(grow, MAX(0.0, v->A - vm_active(v)));
      v->ra += to_active;
      v->ri += grow - to_active;
    }
    free_now -= grow * per_page;
  }
  /* A nested hypervisor's working set, as this layer sees it, is the machine memory (its own
   * guest-physical pages) behind the working sets of its VMs that it keeps resident. */
  for (guint i = 0; i < h->n_vms; i++) {
    mvm *v = h->vms[i];
    if (!v->inner) continue;
    double a = 0;
    for (guint j = 0; j < v->inner->n_vms; j++) {
      const mvm *g = v->inner->vms[j];
      a += g->ra * (1.0 - vm_share_eff(g));
    }
    /* The layer below has backed vm_touched(v) of the F pages the nested hypervisor has
     * handed out, in the order it handed them out, so its guests' pages are among them in
     * proportion; the others (pend) wait for their first allocation here, which a host in
     * the low state blocks. The target sees the whole working set: ESX's active-memory
     * sampling at this layer sees every page the guests touch, backed or not. */
    double touched = vm_touched(v);
    gboolean all_backed = touched >= v->F || v->F <= 0;
    double backed = all_backed ? MIN(a, touched) : a * touched / v->F;
    v->A = a;
    vm_set_active(v, backed);
    v->pend = all_backed ? 0 : a - backed;
  }
}

/* Targets: ESX's proportional share with the idle memory tax (Waldspurger 2002, section 5.2):
 * a VM is charged one unit per active page and k = 1/(1 - tax) per idle page, and memory goes
 * where shares per charged unit are highest. The target equalises S / cost(P) across VMs,
 * between its reservation and the least of its limit and its demand; it is found by bisection
 * on the common ratio. Targets are machine pages; `avail` leaves minFree free. */
static double inv_cost(double y, double active) {
  return y <= active ? y : active + (y - active) * (1.0 - MEM_IDLE_TAX);
}

static void hv_targets(mhv *h) {
  double avail = h->cap - h->own - h->minfree;
  double sum_hi = 0, sum_lo = 0;
  for (guint i = 0; i < h->n_vms; i++) {
    mvm *v = h->vms[i];
    avail -= v->ovh;
    /* Demand: everything it touched resident (less what sharing saves), balloon deflated. */
    double demand = (vm_touched(v) - v->bal) * (1.0 - vm_share_eff(v)) + v->bal;
    v->target = MIN(v->L, demand); /* the upper bound until the bisection below */
    sum_hi += v->target;
    sum_lo += MIN(v->R, v->target);
  }
  if (sum_hi <= avail) return;
  if (sum_lo >= avail) {
    for (guint i = 0; i < h->n_vms; i++) h->vms[i]->target = MIN(h->vms[i]->R, h->vms[i]->target);
    return;
  }
  /* sum(y) = sum over VMs of clamp(cost^-1(S y)) grows with y; find y where it meets avail. */
  double ylo = 0, yhi = 1e-12;
  for (;;) {
    double s = 0;
    for (guint i = 0; i < h->n_vms; i++) {
      mvm *v = h->vms[i];
      double a = v->A * (1.0 - vm_share_eff(v));
      s += CLAMP(inv_cost(v->S * yhi, a), MIN(v->R, v->target), v->target);
    }
    if (s >= avail) break;
    ylo = yhi;
    yhi *= 4;
  }
  for (int it = 0; it < 64; it++) {
    double y = 0.5 * (ylo + yhi), s = 0;
    for (guint i = 0; i < h->n_vms; i++) {
      mvm *v = h->vms[i];
      double a = v->A * (1.0 - vm_share_eff(v));
      s += CLAMP(inv_cost(v->S * y, a), MIN(v->R, v->target), v->target);
    }
    if (s > avail) yhi = y;
    else ylo = y;
  }
  for (guint i = 0; i < h->n_vms; i++) {
    mvm *v = h->vms[i];
    double a = v->A * (1.0 - vm_share_eff(v));
    v->target = CLAMP(inv_cost(v->S * ylo, a), MIN(v->R, v->target), v->target);
  }
}

static void hv_set_level(mhv *h, mem_level l) {
  if (l != h->level && h->n_log < MEM_LOG_MAX) h->log[h->n_log++] = l;
  h->level = l;
  if (l > h->worst) h->worst = l;
  /* Large pages are broken when free memory first falls below the version's threshold; the
   * model keeps them broken (ESXi does not reassemble them while the VM runs). */
  if (h->esxi_major < 6 && l >= MEM_HARD) h->tps_broken = TRUE;
}

/* What a state allows. Limits are enforced in every state (ESX balloons, then swaps, a VM
 * above its limit even when the host has plenty free). */
static gboolean level_balloons(const mhv *h) {
  if (h->esxi_major >= 6) return h->level == MEM_SOFT;
  return h->level >= MEM_SOFT;
}
static gboolean level_swaps(const mhv *h) { return h->level >= MEM_HARD; }

/* Swap-out throughput left on a datastore this tick, in pages. */
static double swap_room_pages(const mds *x, double dt) {
  if (!x) return 0;
  /* The page-ins of this tick are not known yet: the last tick's stand for them. */
  double spare = dsk_spare_iops(x->d, MEM_SWAP_UTIL_MAX) - x->prev_page_iops;
  return MAX(0.0, spare) * dt * MEM_SWAP_CLUSTER_PAGES;
}

/* L1 (h nested) compresses or swaps out n_a active and n_i idle pages of its VMs: each of them
 * is a page of h->self at the layer below, which may have been swapped or compressed there
 * already. Then the layer below must bring it back first only to have it written out again:
 * double paging. The model counts those pages, charges the reads to the datastore below and
 * makes the pages resident there (they are idle now: L1 has freed them). */
static void double_paging(mhv *h, double n_a, double n_i, double dt) {
  mvm *s = h->self;
  if (!s) return;
  double act = vm_active(s), idl = vm_idle(s);
  double fa_s = act > 0 ? s->sa / act : 0, fa_z = act > 0 ? s->za / act : 0;
  double fi_s = idl > 0 ? s->si / idl : 0, fi_z = idl > 0 ? s->zi / idl : 0;
  double from_sa = MIN(s->sa, n_a * fa_s), from_za = MIN(s->za, n_a * fa_z);
  double from_si = MIN(s->si, n_i * fi_s), from_zi = MIN(s->zi, n_i * fi_z);
  double pages = from_sa + from_za + from_si + from_zi;
  if (pages <= 0) return;
  /* Memory below for the pages brought back; what does not fit stays counted only. */
  double room = MAX(0.0, hv_free(s->hv));
  double need = (from_sa + from_si) * (1.0 - vm_share_eff(s)) +
                (from_za + from_zi) * (1.0 - vm_share_eff(s) - MEM_ZIP_SLOT);
  double k = need > room && need > 0 ? room / need : 1.0;
  s->sa -= from_sa * k;
  s->za -= from_za * k;
  s->si -= from_si * k;
  s->zi -= from_zi * k;
  s->ri += (from_sa + from_za + from_si + from_zi) * k;
  s->tot.double_paged_mb += pages / PAGES_PER_MB;
  s->iv_double += pages;
  double reads = (from_sa + from_si) * k;
  if (s->home && reads > 0) {
    s->home->reads += reads;
    dsk_add_load(s->home->d, reads / dt);
  }
  s->tot.swapin_pages += reads;
  s->tot.swapin_mb += reads / PAGES_PER_MB;
  s->iv_swapin += reads;
}

/* Brings v's machine memory down towards its target (and below its limit) with what the state
 * allows: the balloon where the guest has a driver (it gives idle pages), then compression
 * and swapping of random resident pages. Never below the reservation. */
static void vm_reclaim(mhv *h, mvm *v, double dt) {
  double sf = vm_share_eff(v), per_page = 1.0 - sf;
  double mach = vm_mach(v);
  gboolean pressure = h->level >= MEM_SOFT;
  double excess = pressure ? mach - v->target : mach - v->L;
  excess = MIN(excess, mach - v->R);
  if (excess <= 0) {
    /* Memory to spare and the host out of pressure: the balloon deflates; the guest gets its
     * pages back as idle memory. */
    if (!pressure && v->bal > 0 && v->target > mach) {
      double back = MIN(v->bal, (v->target - mach) / MAX(per_page, 1e-9));
      back = MIN(back, MAX(0.0, hv_free(h) - h->minfree) / MAX(per_page, 1e-9));
      if (back > 0) {
        v->bal -= back;
        v->ri += back;
      }
    }
    return;
  }
  if (per_page <= 0) return;
  gboolean over_limit = mach > v->L;
  gboolean may_balloon = v->balloon && (level_balloons(h) || over_limit);
  gboolean may_swap = level_swaps(h) || over_limit;
  if (may_balloon) {
    double b = MIN(excess / per_page, MEM_BALLOON_MAX * v->M - v->bal);
    b = MIN(b, v->ri);
    if (b > 0) {
      v->ri -= b;
      v->bal += b;
      excess -= b * per_page;
    }
  }
  if (!may_swap || excess <= 0) return;
  double res = v->ra + v->ri;
  if (res <= 0) return;
  double zf = v->zipf;
  double room = MAX(0.0, MEM_ZIP_CACHE_MAX * v->M - (v->za + v->zi) * MEM_ZIP_SLOT) / MEM_ZIP_SLOT;
  double gain_z = per_page - MEM_ZIP_SLOT; /* machine pages one compressed page frees */
  /* Victims are random resident pages: a share zf of them compress and go to the cache while
   * it has room, the others are written to the swap file as fast as the datastore takes them.
   * The hypervisor keeps selecting until the excess is freed, so when the cache is full it
   * swaps more of what it selects, and when the swap file cannot take more it compresses more
   * (and leaves the pages that do not compress where they are). */
  double n0 = per_page - zf * MEM_ZIP_SLOT > 0 ? excess / (per_page - zf * MEM_ZIP_SLOT) : res;
  double comp = MIN(zf * n0, room), swap = (1 - zf) * n0;
  if (comp < zf * n0) swap = (excess - comp * gain_z) / per_page;
  double swap_cap = swap_room_pages(v->home, dt);
  if (swap > swap_cap) {
    swap = swap_cap;
    if (gain_z > 0) comp = MIN(room, MAX(comp, (excess - swap * per_page) / gain_z));
  }
  comp = CLAMP(comp, 0.0, zf * res);
  swap = CLAMP(swap, 0.0, (1 - zf) * res);
  double n = comp + swap;
  if (n <= 0) return;
  double pa = v->ra / res;
  double n_a = n * pa, n_i = n - n_a;
  double cz = comp / n;
  v->ra -= n_a;
  v->ri -= n_i;
  v->za += n_a * cz;
  v->zi += n_i * cz;
  v->sa += n_a * (1 - cz);
  v->si += n_i * (1 - cz);
  v->tot.swapout_mb += swap / PAGES_PER_MB;
  v->tot.zip_in_mb += comp / PAGES_PER_MB;
  v->iv_swapout += swap;
  v->iv_zip += comp;
  if (v->home && swap > 0) {
    double ios = swap / MEM_SWAP_CLUSTER_PAGES;
    v->home->writes += ios;
    dsk_add_load(v->home->d, ios / dt);
  }
  double_paging(h, n_a, n_i, dt);
}

static void hv_step(mhv *h, double dt) {
  hv_fill(h, dt);
  hv_targets(h);
  mem_level l = mem_level_of(hv_free(h) * PAGE_BYTES, h->minfree * PAGE_BYTES, h->esxi_major);
  hv_set_level(h, l);
  if (h->esxi_major >= 6 && hv_free(h) < MEM_THR_LPAGE6 * h->minfree) h->tps_broken = TRUE;
  h->level_s[h->level] += dt;
  for (guint i = 0; i < h->n_vms; i++) vm_reclaim(h, h->vms[i], dt);
}

/* ---- Stalls: latencies, touches and page-ins of one L0 host's tree ---- */

static double vm_latency(const mvm *v) { return v->home ? v->home->latency : 0; }

/* Execution this tick of every VM whose guest touches memory. */
static void tree_exec(mem_state *ms, const mhv *h0, double dt) {
  for (guint i = h0->vm_first; i < h0->vm_end; i++) {
    mvm *v = &ms->vms[i];
    if (v->inner) continue;
    if (ms->cpu) {
      double now = cpu_vm_exec_s(ms->cpu, v->tv);
      v->e_exec = MAX(0.0, now - v->exec_last);
      v->exec_last = now;
    } else {
      v->e_exec = v->nominal_exec * dt;
    }
  }
}

/* A nested hypervisor's guests and the layer below. The working set of a nested hypervisor VM
 * is not its own workload's (it has none) but its guests': the guest-physical pages of the
 * nested host that back its guests' resident working sets (hv_fill), and its touches are the
 * guests' touches that land on them (touches_in, here). So a page the layer below compressed
 * or swapped costs the guest that touches it a decompression or a swap-in at that layer's
 * datastore, and a page it never backed (pend: a host out of memory blocks the allocation)
 * blocks the guest until the next tick's reclamation frees memory; page-ins that find no free
 * memory block the same way (tree_commit). The stall goes to the guest (the L2 VM) through
 * cpu_set_drag, not to the nested host's vCPUs: the CPU model's drag is per VM, and an L2
 * vCPU that executes occupies the L1 vCPU under it, so the drag keeps that L1 vCPU busy
 * without progress, as the real fault does; a drag on the nested host would slow all its
 * guests alike, those whose pages are all resident too. Taking its working set from its
 * guests also gives the nested host the idle-memory tax its active pages deserve at the
 * layer below (hv_targets), so that layer cannot take them without a continuing stream of
 * page-ins. Cost: one more multiply-add per VM per evaluation (tree_solve evaluates up to
 * 48 times per datastore per tick), no extra pass and no memory beyond three doubles per VM.
 * Simplifications: a blocked guest's touches still count as demand for the tick (its
 * productive time is not cut by the wait), which can only overstate the blocking, capped by
 * the drag's 0.99; the nested ESXi's own memory is not part of its working set (the model has
 * no touch rate for a vmkernel), so the layer below still reclaims it at no stall.
 *
 * One evaluation at the datastores' current latencies. Top-down, the expected stall of one
 * touch of each VM's working set: its own swapped and compressed share at its layer, plus,
 * for the share resident there, the stall of the pages under it at the layer below. Bottom-up,
 * each guest's touches (a vCPU stalled touches nothing: productive time = execution / (1 +
 * touch rate x stall per touch)), the swap-ins and decompressions they cause at each layer,
 * and the touches a nested hypervisor's pages receive from its VMs. */
static void tree_evaluate(mem_state *ms, const mhv *h0) {
  for (guint j = 0; j < h0->n_ds; j++) h0->ds[j]->trial = 0;
  for (guint i = h0->vm_first; i < h0->vm_end; i++) {
    mvm *v = &ms->vms[i];
    const mvm *parent = v->hv->self;
    double w = vm_active(v) + v->pend, pc = parent ? parent->cost : 0;
    v->cost = w > 0 ? (v->sa * vm_latency(v) + v->za * MEM_UNZIP_S + v->ra * pc) / w : 0;
    v->touches_in = 0;
  }
  for (guint i = h0->vm_end; i-- > h0->vm_first;) {
    mvm *v = &ms->vms[i];
    double t;
    if (v->inner) {
      t = v->touches_in;
    } else {
      double k = v->touch_pps * v->cost;
      v->e_prod = v->e_exec / (1.0 + k);
      t = v->touch_pps * v->e_prod;
    }
    double w = vm_active(v) + v->pend;
    v->pin_s = v->pin_z = v->pin_u = 0;
    if (w > 0 && t > 0) {
      /* Touches fall uniformly on the working set; a page touched again in the same tick is
       * already back. A page not backed yet cannot be allocated before the next tick. */
      double p = MIN(1.0, t / w);
      v->pin_s = v->sa * p;
      v->pin_z = v->za * p;
      v->pin_u = v->pend * p;
      if (v->hv->self) v->hv->self->touches_in += t * v->ra / w;
    }
    if (v->home) v->home->trial += v->pin_s;
  }
}

/* The latency of each datastore of the tree is the response time of its M/M/c queue at the
 * swap-in rate that latency allows; the rate falls as the latency rises, so the fixed point is
 * unique and bisection finds it (Gauss-Seidel over the host's datastores). A tree where no
 * working-set page is out evaluates once at the open load's latency. */
static void tree_solve(mem_state *ms, const mhv *h0, double dt) {
  gboolean any = FALSE;
  for (guint i = h0->vm_first; i < h0->vm_end && !any; i++)
    any = ms->vms[i].sa > 0 || ms->vms[i].za > 0;
  for (guint j = 0; j < h0->n_ds; j++) h0->ds[j]->latency = dsk_response_s(h0->ds[j]->d, 0);
  if (any) {
    int sweeps = h0->n_ds > 1 ? 3 : 1;
    for (int sw = 0; sw < sweeps; sw++) {
      for (guint j = 0; j < h0->n_ds; j++) {
        mds *x = h0->ds[j];
        double lo = dsk_service_s(x->d), hi = dsk_response_s(x->d, INFINITY);
        for (int it = 0; it < 48 && hi - lo > 1e-9 * lo; it++) {
          x->latency = 0.5 * (lo + hi);
          tree_evaluate(ms, h0);
          if (x->latency < dsk_response_s(x->d, x->trial / dt)) lo = x->latency;
          else hi = x->latency;
        }
        x->latency = hi;
      }
    }
  }
  tree_evaluate(ms, h0);
}

/* Applies the page-ins the tick's touches asked for, as far as free memory allows (the rest
 * wait for the next tick), and charges the guests the stall of those that happened. */
static void tree_commit(mem_state *ms, mhv *h0) {
  for (guint k = h0->hv_first; k < h0->hv_end; k++) {
    mhv *h = &ms->hvs[k];
    double need = 0;
    for (guint i = 0; i < h->n_vms; i++) {
      const mvm *v = h->vms[i];
      double pp = 1.0 - vm_share_eff(v);
      need += v->pin_s * pp + v->pin_z * MAX(0.0, pp - MEM_ZIP_SLOT);
    }
    double room = MAX(0.0, hv_free(h));
    double f = need > room ? room / need : 1.0;
    for (guint i = 0; i < h->n_vms; i++) {
      mvm *v = h->vms[i];
      v->pin_u += (v->pin_s + v->pin_z) * (1.0 - f);
      v->pin_s *= f;
      v->pin_z *= f;
    }
  }
  for (guint i = h0->vm_first; i < h0->vm_end; i++) {
    mvm *v = &ms->vms[i];
    const mvm *parent = v->hv->self;
    double t = v->inner ? v->touches_in : v->touch_pps * v->e_prod;
    double w = vm_active(v) + v->pend;
    double lat = vm_latency(v);
    v->q_s = t > 0 ? v->pin_s * lat / t : 0;
    v->q_z = t > 0 ? v->pin_z * MEM_UNZIP_S / t : 0;
    v->q_u = t > 0 ? v->pin_u / t : 0;
    if (parent && w > 0) {
      v->q_s += v->ra / w * parent->q_s;
      v->q_z += v->ra / w * parent->q_z;
      v->q_u += v->ra / w * parent->q_u;
    }
    v->sa -= v->pin_s;
    v->za -= v->pin_z;
    v->ra += v->pin_s + v->pin_z;
    v->tot.swapin_pages += v->pin_s;
    v->tot.swapin_latency_sum_s += v->pin_s * lat;
    v->tot.swapin_mb += v->pin_s / PAGES_PER_MB;
    v->tot.unzip_mb += v->pin_z / PAGES_PER_MB;
    v->iv_swapin += v->pin_s;
    v->iv_unzip += v->pin_z;
    if (v->home) v->home->reads += v->pin_s;
    if (v->inner) continue;
    double st_s = t * v->q_s, st_z = t * v->q_z;
    /* Touches of pages no layer could find memory for this tick, n of them: the vCPU runs
     * until the first and waits from there to the end of the tick, when reclamation frees
     * memory again. With the touches a Poisson stream over the tick's execution the expected
     * share blocked is E[(1 - T)+], T ~ Exp(n), = 1 - (1 - e^-n) / n. */
    double n_u = t * v->q_u;
    double st_w = n_u > 0 ? (1.0 + expm1(-n_u) / n_u) * v->e_exec : 0;
    v->tot.swap_stall_s += st_s;
    v->tot.zip_stall_s += st_z;
    v->tot.wait_stall_s += st_w;
    v->iv_swap_stall += st_s;
    v->iv_zip_stall += st_z;
    v->exec_tot += v->e_exec;
    v->stall_tot += st_s + st_z + st_w;
    double drag = v->e_exec > 0 ? MIN(0.99, (st_s + st_z + st_w) / v->e_exec) : 0;
    if (ms->cpu && drag != v->drag) cpu_set_drag(ms->cpu, v->tv, CPU_DRAG_MEM_STALL, drag);
    v->drag = drag;
    v->tot.drag = drag;
  }
}

void mem_tick(mem_state *ms, double dt) {
  g_assert(dt > 0);
  for (guint j = 0; j < ms->n_ds; j++) {
    mds *x = &ms->ds[j];
    dsk_tick_begin(x->d);
    dsk_add_load(x->d, x->guest_iops);
    x->reads = x->guest_iops * dt;
    x->writes = 0;
  }
  for (guint i = 0; i < ms->n_hvs; i++) hv_step(ms->order[i], dt);
  for (guint i = 0; i < ms->n_hvs; i++) {
    mhv *h0 = &ms->hvs[i];
    if (!h0->host) continue;
    tree_exec(ms, h0, dt);
    tree_solve(ms, h0, dt);
    tree_commit(ms, h0);
  }
  for (guint j = 0; j < ms->n_ds; j++) {
    mds *x = &ms->ds[j];
    dsk_tick_end(x->d, dt, x->reads, x->writes, x->latency);
    x->prev_page_iops = MAX(0.0, x->reads / dt - x->guest_iops);
    x->iv_reads += x->reads;
    x->iv_writes += x->writes;
    x->iv_lat_sum += (x->reads + x->writes) * x->latency;
    x->iv_wait_sum += (x->reads + x->writes) * MAX(0.0, x->latency - dsk_service_s(x->d));
  }
  for (guint i = 0; i < ms->n_hvs; i++) {
    mhv *h = &ms->hvs[i];
    h->free_min = MIN(h->free_min, hv_free(h));
  }
}

void mem_reset(mem_state *ms) {
  for (guint i = 0; i < ms->n_vms; i++) {
    mvm *v = &ms->vms[i];
    double drag = v->tot.drag;
    memset(&v->tot, 0, sizeof v->tot);
    v->tot.drag = drag;
    v->exec_tot = v->stall_tot = 0;
  }
  for (guint i = 0; i < ms->n_hvs; i++) {
    mhv *h = &ms->hvs[i];
    memset(h->level_s, 0, sizeof h->level_s);
    h->worst = h->level;
    h->free_min = hv_free(h);
  }
  for (guint j = 0; j < ms->n_ds; j++) dsk_reset_stats(ms->ds[j].d);
}

/* ---- Inspection ---- */

static void vm_fill_stats(const mvm *v, mem_vm_stats *o) {
  *o = v->tot;
  double sf = vm_share_eff(v);
  o->memsz_mb = v->M / PAGES_PER_MB;
  o->grant_mb = (v->ra + v->ri) / PAGES_PER_MB;
  o->sztgt_mb = (v->target + v->ovh) / PAGES_PER_MB;
  o->tchd_mb = vm_active(v) / PAGES_PER_MB;
  o->shrd_mb = (v->ra + v->ri) * sf / PAGES_PER_MB;
  o->zip_mb = (v->za + v->zi) / PAGES_PER_MB;
  o->cacheusd_mb = (v->za + v->zi) * MEM_ZIP_SLOT / PAGES_PER_MB;
  o->swcur_mb = (v->sa + v->si) / PAGES_PER_MB;
  o->mctlsz_mb = v->bal / PAGES_PER_MB;
  o->ovhd_mb = v->ovh / PAGES_PER_MB;
  o->consumed_mb = vm_mach(v) / PAGES_PER_MB;
}

gboolean mem_vm_get(const mem_state *ms, const char *path, mem_vm_stats *out) {
  const mvm *v = g_hash_table_lookup(ms->vm_by_path, path);
  if (!v) return FALSE;
  vm_fill_stats(v, out);
  return TRUE;
}

gboolean mem_hv_get(const mem_state *ms, const char *path, mem_hv_stats *out) {
  const mhv *h = g_hash_table_lookup(ms->hv_by_path, path);
  if (!h) return FALSE;
  *out = (mem_hv_stats){
      .capacity_mb = h->cap / PAGES_PER_MB,
      .own_mb = h->own / PAGES_PER_MB,
      .free_mb = hv_free(h) / PAGES_PER_MB,
      .minfree_mb = h->minfree / PAGES_PER_MB,
      .level = h->level,
      .worst = h->worst,
  };
  for (guint i = 0; i < h->n_vms; i++) {
    out->vm_consumed_mb += vm_mach(h->vms[i]) / PAGES_PER_MB;
    out->vm_overhead_mb += h->vms[i]->ovh / PAGES_PER_MB;
  }
  memcpy(out->level_s, h->level_s, sizeof h->level_s);
  return TRUE;
}

guint mem_hv_levels(const mem_state *ms, const char *path, mem_level *out, guint max) {
  const mhv *h = g_hash_table_lookup(ms->hv_by_path, path);
  if (!h) return 0;
  guint n = MIN(max, h->n_log);
  memcpy(out, h->log, n * sizeof *out);
  return n;
}

dsk_store *mem_datastore(const mem_state *ms, const char *path) {
  const mds *x = g_hash_table_lookup(ms->ds_by_path, path);
  return x ? x->d : NULL;
}

/* ---- The model in a run ---- */

enum { TAG_TICK };

/* Runs the tick due at ms->next_tick and schedules the next one. */
static void run_tick(mem_state *ms) {
  mem_tick(ms, MEM_TICK_S);
  ms->next_tick += (sim_time)(MEM_TICK_S * SIM_S);
  if (ms->next_tick <= ms->end) sim_reschedule(ms->eng, &ms->tick, ms->next_tick);
  else sim_cancel(ms->eng, &ms->tick);
}

static void mem_handle(sim_engine *eng, sim_entity *self, sim_event *ev) {
  mem_state *ms = SIM_CONTAINER_OF(self, mem_state, ent);
  (void)eng;
  (void)ev;
  run_tick(ms);
}

static const sim_entity_type mem_type = {.kind = "mem", .handle = mem_handle};

/* The tick due at `now` covers the second before it. The sampler's events at an interval
 * boundary may come before it (they were scheduled first), so a sample, the end of the
 * warm-up and the end of the run first run the tick due at that instant: every row then
 * covers exactly its interval. */
static void catch_up(mem_state *ms, sim_time now) {
  if (ms->eng && ms->next_tick == now && sim_event_pending(&ms->tick)) run_tick(ms);
}

static void *mem_create(mdl_run *run, GError **error) {
  mem_state *ms = mem_new(run->scn, run->met, run->cpu, error);
  if (!ms) return NULL;
  ms->eng = run->eng;
  ms->end = run->end;
  ms->ent.type = &mem_type;
  sim_event_init(&ms->tick, &ms->ent, TAG_TICK);
  ms->next_tick = (sim_time)(MEM_TICK_S * SIM_S);
  sim_schedule(run->eng, &ms->tick, ms->next_tick);
  return ms;
}

static void mem_ops_reset(void *self, sim_time now) {
  catch_up(self, now);
  mem_reset(self);
}

static void set_row(double *row, met_id first, int c, double v) { row[first + (met_id)c] = v; }

static void mem_sample(void *self, sim_time since, sim_time now) {
  mem_state *ms = self;
  catch_up(ms, now);
  if (!ms->met) return;
  double secs = (now - since) / (double)SIM_S;
  if (secs <= 0) return;
  guint ncol = met_n_columns(ms->met);
  /* Allocated at the first sample, not at create: models built after this one register
   * columns of their own, and a row holds them all. */
  if (!ms->row) ms->row = g_new(double, ncol);
  double *row = ms->row;
  for (guint i = 0; i < ms->n_hvs; i++) {
    mhv *h = &ms->hvs[i];
    if (!h->host) continue;
    for (guint c = 0; c < ncol; c++) row[c] = NAN;
    met_id f = ms->col_first;
    double grant = 0, shrd = 0, zip = 0, swcur = 0, mctl = 0, ovhd = 0, swr = 0, sww = 0;
    for (guint k = 0; k < h->n_vms; k++) {
      const mvm *v = h->vms[k];
      grant += v->ra + v->ri;
      shrd += (v->ra + v->ri) * vm_share_eff(v);
      zip += v->za + v->zi;
      swcur += v->sa + v->si;
      mctl += v->bal;
      ovhd += v->ovh;
      swr += v->iv_swapin;
      sww += v->iv_swapout;
    }
    set_row(row, f, C_SWR, swr / PAGES_PER_MB / secs);
    set_row(row, f, C_SWW, sww / PAGES_PER_MB / secs);
    set_row(row, f, C_GRANT, grant / PAGES_PER_MB);
    set_row(row, f, C_SHRD, shrd / PAGES_PER_MB);
    set_row(row, f, C_ZIP, zip / PAGES_PER_MB);
    set_row(row, f, C_SWCUR, swcur / PAGES_PER_MB);
    set_row(row, f, C_MCTLSZ, mctl / PAGES_PER_MB);
    set_row(row, f, C_OVHD, ovhd / PAGES_PER_MB);
    set_row(row, f, C_PMEM, h->cap / PAGES_PER_MB);
    set_row(row, f, C_VMKMEM, h->own / PAGES_PER_MB);
    set_row(row, f, C_PFREE, hv_free(h) / PAGES_PER_MB);
    set_row(row, f, C_MINFREE, h->minfree / PAGES_PER_MB);
    set_row(row, f, C_MEMSTATE, h->level);
    met_row(ms->met, h->ent, now, row);
  }
  for (guint i = 0; i < ms->n_vms; i++) {
    mvm *v = &ms->vms[i];
    mem_vm_stats st;
    vm_fill_stats(v, &st);
    for (guint c = 0; c < ncol; c++) row[c] = NAN;
    met_id f = ms->col_first;
    set_row(row, f, C_MEMSZ, st.memsz_mb);
    set_row(row, f, C_GRANT, st.grant_mb);
    set_row(row, f, C_SZTGT, st.sztgt_mb);
    set_row(row, f, C_TCHD, st.tchd_mb);
    set_row(row, f, C_SHRD, st.shrd_mb);
    set_row(row, f, C_ZIP, st.zip_mb);
    set_row(row, f, C_CACHEUSD, st.cacheusd_mb);
    set_row(row, f, C_SWCUR, st.swcur_mb);
    set_row(row, f, C_SWR, v->iv_swapin / PAGES_PER_MB / secs);
    set_row(row, f, C_SWW, v->iv_swapout / PAGES_PER_MB / secs);
    set_row(row, f, C_MCTLSZ, st.mctlsz_mb);
    set_row(row, f, C_OVHD, st.ovhd_mb);
    set_row(row, f, C_ZIPS, v->iv_zip / PAGES_PER_MB / secs);
    set_row(row, f, C_UNZIPS, v->iv_unzip / PAGES_PER_MB / secs);
    set_row(row, f, C_SWPWT, 100.0 * v->iv_swap_stall / secs);
    set_row(row, f, C_ZIPWT, 100.0 * v->iv_zip_stall / secs);
    if (v->inner) {
      const mhv *h = v->inner;
      set_row(row, f, C_DBLPG, v->iv_double / PAGES_PER_MB);
      set_row(row, f, C_PMEM, h->cap / PAGES_PER_MB);
      set_row(row, f, C_VMKMEM, h->own / PAGES_PER_MB);
      set_row(row, f, C_PFREE, hv_free(h) / PAGES_PER_MB);
      set_row(row, f, C_MINFREE, h->minfree / PAGES_PER_MB);
      set_row(row, f, C_MEMSTATE, h->level);
    }
    met_row(ms->met, v->ent, now, row);
    v->iv_swapin = v->iv_swapout = v->iv_zip = v->iv_unzip = 0;
    v->iv_swap_stall = v->iv_zip_stall = v->iv_double = 0;
  }
  for (guint j = 0; j < ms->n_ds; j++) {
    mds *x = &ms->ds[j];
    for (guint c = 0; c < ncol; c++) row[c] = NAN;
    met_id f = ms->col_first;
    double gib = 1024.0 * MB_BYTES, ios = x->iv_reads + x->iv_writes;
    set_row(row, f, C_DS_CAP, dsk_capacity_bytes(x->d) / gib);
    set_row(row, f, C_DS_PROV, dsk_provisioned_bytes(x->d) / gib);
    set_row(row, f, C_DS_ALLOC, dsk_allocated_bytes(x->d) / gib);
    set_row(row, f, C_DS_READS, x->iv_reads / secs);
    set_row(row, f, C_DS_WRITES, x->iv_writes / secs);
    set_row(row, f, C_DS_DAVG, ios > 0 ? 1e3 * x->iv_lat_sum / ios : 1e3 * x->latency);
    set_row(row, f, C_DS_QAVG, ios > 0 ? 1e3 * x->iv_wait_sum / ios : 0);
    met_row(ms->met, x->ent, now, row);
    x->iv_reads = x->iv_writes = x->iv_lat_sum = x->iv_wait_sum = 0;
  }
}

static void mem_finish(void *self, sim_time now) {
  mem_state *ms = self;
  catch_up(ms, now);
  if (!ms->met) return;
  met_table *t = ms->met;
  for (guint i = 0; i < ms->n_vms; i++) {
    mvm *v = &ms->vms[i];
    mem_vm_stats st;
    vm_fill_stats(v, &st);
    met_set_num(t, v->ent, "mem_grant_mb", st.grant_mb);
    met_set_num(t, v->ent, "mem_swcur_mb", st.swcur_mb);
    met_set_num(t, v->ent, "mem_zip_mb", st.zip_mb);
    met_set_num(t, v->ent, "mem_balloon_mb", st.mctlsz_mb);
    met_set_num(t, v->ent, "mem_swapin_mb", st.swapin_mb);
    met_set_num(t, v->ent, "mem_swapout_mb", st.swapout_mb);
    if (!v->inner) {
      met_set_num(t, v->ent, "mem_swap_stall_s", st.swap_stall_s);
      met_set_num(t, v->ent, "mem_zip_stall_s", st.zip_stall_s);
      /* Only when it happened: a lab that never runs out of memory keeps its summary. */
      if (st.wait_stall_s > 0) met_set_num(t, v->ent, "mem_wait_stall_s", st.wait_stall_s);
      /* The share of its execution it spent waiting for pages: its slowdown from memory. */
      met_set_num(t, v->ent, "mem_stall_pct",
                  v->exec_tot > 0 ? 100.0 * v->stall_tot / v->exec_tot : 0);
    } else {
      const mhv *h = v->inner;
      met_set_num(t, v->ent, "mem_double_paged_mb", st.double_paged_mb);
      met_set_str(t, v->ent, "mem_state_worst", mem_level_name(h->worst));
      met_set_num(t, v->ent, "mem_free_min_mb", h->free_min / PAGES_PER_MB);
    }
  }
  for (guint i = 0; i < ms->n_hvs; i++) {
    mhv *h = &ms->hvs[i];
    if (!h->host) continue;
    met_set_str(t, h->ent, "mem_state_worst", mem_level_name(h->worst));
    met_set_num(t, h->ent, "mem_free_min_mb", h->free_min / PAGES_PER_MB);
    for (int l = 0; l < MEM_N_LEVELS; l++) {
      if (h->level_s[l] <= 0) continue;
      g_autofree char *key = g_strdup_printf("mem_%s_s", mem_level_name(l));
      met_set_num(t, h->ent, key, h->level_s[l]);
    }
  }
  for (guint j = 0; j < ms->n_ds; j++) {
    mds *x = &ms->ds[j];
    dsk_stats st;
    dsk_get_stats(x->d, &st);
    double ios = st.reads + st.writes, gib = 1024.0 * MB_BYTES;
    met_set_num(t, x->ent, "capacity_gb", dsk_capacity_bytes(x->d) / gib);
    met_set_num(t, x->ent, "provisioned_gb", dsk_provisioned_bytes(x->d) / gib);
    met_set_num(t, x->ent, "allocated_gb", dsk_allocated_bytes(x->d) / gib);
    met_set_num(t, x->ent, "latency_ms", ios > 0 ? 1e3 * st.latency_sum_s / ios : 0);
    met_set_num(t, x->ent, "iops", st.busy_s > 0 ? ios / st.busy_s : 0);
  }
}

static void mem_destroy(void *self) { mem_free(self); }

const mdl_ops mem_model = {
    .name = "mem",
    .create = mem_create,
    .reset = mem_ops_reset,
    .sample = mem_sample,
    .finish = mem_finish,
    .destroy = mem_destroy,
};

/* ---- `nestsim check`: the capacity verdict, computed from the configuration alone ---- */

void mem_finding_free(gpointer p) {
  mem_finding *f = p;
  if (!f) return;
  g_free(f->path);
  g_free(f->number);
  g_free(f->fix);
  g_free(f);
}

/* Appends a finding (the strings are taken: transfer full) when findings is not NULL. */
static void add_finding(GPtrArray *findings, const char *path, int layer, gboolean storage,
                        mem_verdict v, char *number, char *fix) {
  if (!findings) {
    g_free(number);
    g_free(fix);
    return;
  }
  mem_finding *f = g_new0(mem_finding, 1);
  *f = (mem_finding){.path = g_strdup(path), .layer = layer, .storage = storage, .verdict = v,
                     .number = number, .fix = fix};
  g_ptr_array_add(findings, f);
}

/* What a VM will ask of its hypervisor in steady state, in pages. For a nested hypervisor,
 * touch_pps and miss are the worst of the guests under it: the fastest working-set touch rate
 * and the largest share of a working set that stays out at its layers. */
typedef struct chk_vm {
  double F, A, ovh, R, M, share;
  double balloonable;  /* idle memory its balloon can take */
  double touch_pps;
  double miss;
  gboolean balloon;
} chk_vm;

static double gb(double pages) { return pages / PAGES_PER_MB / 1024.0; }

static mem_verdict worse(mem_verdict a, mem_verdict b) { return a > b ? a : b; }

/* The whole gigabytes to add to a hypervisor of cap pages so that `need` pages fit beside its
 * own memory, its VMs' overheads and minFree (which grows with the memory: the loop, not a
 * division, because minFree's sliding scale is piecewise). At least 1. */
static double gb_to_fit(double need, double cap, double own, double ovh) {
  const double gib_pages = 1024.0 * PAGES_PER_MB;
  for (int x = 1; x < (1 << 20); x++) {
    double c2 = cap + x * gib_pages;
    if (need <= c2 - own - ovh - mem_minfree_bytes((uint64_t)(c2 * PAGE_BYTES)) / PAGE_BYTES)
      return x;
  }
  return 1 << 20;
}

static mem_verdict chk_hv(const char *path, int layer, double cap, const topo_hypervisor *thv,
                          GPtrArray *vms, GString *out, GPtrArray *findings, chk_vm *self);

/* Fills c for the VM tv, checking its own hypervisor first when it has one. hv_path and
 * hv_layer name the hypervisor that runs tv (a VM that cannot power on is its finding). */
static mem_verdict chk_vm_demand(const topo_vm *tv, const char *hv_path, int hv_layer,
                                 GString *out, GPtrArray *findings, chk_vm *c) {
  mvm tmp = {0};
  mem_cfg cfg;
  cfg_of(tv, &cfg);
  g_autoptr(GError) err = NULL;
  mem_verdict v = MEM_FITS;
  if (!vm_configure(&tmp, tv, &cfg, &err)) {
    g_string_append_printf(out, "  %s\n", err->message);
    add_finding(findings, hv_path, hv_layer, FALSE, MEM_NO_FIT, g_strdup(err->message),
                g_strdup_printf("correct vm '%s''s memory settings as the message says",
                                tv->name));
    v = MEM_NO_FIT;
  }
  *c = (chk_vm){.F = tmp.F, .A = tmp.A, .ovh = tmp.ovh, .R = tmp.R, .M = tmp.M,
                .share = tmp.share, .balloon = tmp.balloon, .touch_pps = tmp.touch_pps};
  c->balloonable = tmp.balloon ? MIN(MEM_BALLOON_MAX * tmp.M, MAX(0.0, tmp.F - tmp.A)) : 0;
  if (tv->hypervisor)
    v = worse(v, chk_hv(tv->path, tv->layer, tmp.M, tv->hypervisor, tv->vms, out, findings, c));
  return v;
}

/* Checks one hypervisor and everything under it, appending its lines and its finding before
 * those of the nested hypervisors under it; fills *self with its demand as a VM of the layer
 * below. */
static mem_verdict chk_hv(const char *path, int layer, double cap, const topo_hypervisor *thv,
                          GPtrArray *vms, GString *out, GPtrArray *findings, chk_vm *self) {
  guint n = vms ? vms->len : 0;
  g_autofree chk_vm *c = g_new0(chk_vm, MAX(n, 1));
  double own = hv_own_pages(thv);
  double minfree = mem_minfree_bytes((uint64_t)(cap * PAGE_BYTES)) / PAGE_BYTES;
  mem_verdict verdict = MEM_FITS;
  g_autoptr(GString) inner = g_string_new(NULL);
  g_autoptr(GPtrArray) inner_findings = g_ptr_array_new_with_free_func(mem_finding_free);
  g_autoptr(GString) no_balloon = g_string_new(NULL);
  double sum_M = 0, sum_F = 0, sum_A = 0, sum_ovh = 0, sum_R = 0, sum_bal = 0, sum_shr = 0;
  double sum_A_shr = 0, nb_F = 0, nb_A = 0; /* active after sharing; guests without balloon */
  guint n_extrapolated = 0;
  for (guint i = 0; i < n; i++) {
    const topo_vm *tv = g_ptr_array_index(vms, i);
    verdict = worse(verdict, chk_vm_demand(tv, path, layer, inner, inner_findings, &c[i]));
    if (tv->memory_bytes > 16384 * MB_BYTES || tv->vcpus > 8) n_extrapolated++;
    sum_M += c[i].M;
    sum_F += c[i].F;
    sum_A += c[i].A;
    sum_ovh += c[i].ovh;
    sum_R += c[i].R;
    sum_bal += c[i].balloonable;
    sum_shr += c[i].F * c[i].share;
    sum_A_shr += c[i].A * (1 - c[i].share);
    if (!c[i].balloon && c[i].F > c[i].A) {
      g_string_append_printf(no_balloon, "%s%s", no_balloon->len ? ", " : "", tv->name);
      nb_F += c[i].F;
      nb_A += c[i].A;
    }
  }
  double avail = cap - own - minfree - sum_ovh;
  double pct = 100.0 * (sum_M + sum_ovh + own) / cap;
  gboolean kvm = thv && thv->kind == TOPO_HV_KVM;
  g_string_append_printf(out, "memory  %s (L%d, %s %s): %.1f GB; hypervisor %.1f GB, minFree "
                         "%.2f GB, VM overhead %.2f GB\n",
                         path, layer, kvm ? "kvm" : "ESXi", thv && thv->version ? thv->version : "",
                         gb(cap), gb(own), gb(minfree), gb(sum_ovh));
  if (kvm) g_string_append(out, "  (kvm is modelled with ESXi 5.x's reclamation policy)\n");
  g_string_append_printf(out, "  configured %.1f GB + %.2f GB overhead + %.1f GB hypervisor = "
                         "%.0f%% of %.1f GB%s\n",
                         gb(sum_M), gb(sum_ovh), gb(own), pct,
                         gb(cap), sum_M + sum_ovh + own > cap ? ": overcommitted" : "");
  if (n_extrapolated)
    g_string_append_printf(out, "  (the overhead of %u VM%s is extrapolated beyond the vSphere "
                           "table's 16 GB and 8 vCPUs)\n", n_extrapolated,
                           n_extrapolated > 1 ? "s" : "");
  g_string_append_printf(out, "  its guests will touch %.1f GB and keep %.1f GB active; %.1f GB "
                         "is theirs while it stays in the high state\n",
                         gb(sum_F), gb(sum_A), gb(avail));
  /* The finding: what is configured, then what decides the verdict; the fix to reach "fits"
   * (everything the guests touch held in the high state) comes from gb_to_fit. */
  g_autofree char *configured = g_strdup_printf("configured %.0f%% of %.1f GB", pct, gb(cap));
  char *number, *fix = NULL;
  mem_verdict mine;
  double miss = 0;
  double add = gb_to_fit(sum_F, cap, own, sum_ovh);
  if (own + sum_R + sum_ovh > cap) {
    mine = MEM_NO_FIT;
    double add_r = gb_to_fit(MAX(sum_F, sum_R), cap, own, sum_ovh);
    g_string_append_printf(out, "  verdict: does not fit - reservations %.1f GB, overheads and "
                           "the hypervisor exceed %.1f GB: its VMs cannot all power on; fix: "
                           "lower the reservations by %.1f GB\n",
                           gb(sum_R), gb(cap), gb(own + sum_R + sum_ovh - cap));
    number = g_strdup_printf("reservations %.1f GB + overheads %.2f GB + hypervisor %.1f GB "
                             "exceed %.1f GB: its VMs cannot all power on",
                             gb(sum_R), gb(sum_ovh), gb(own), gb(cap));
    fix = g_strdup_printf("lower the reservations by %.1f GB, or add %.0f GB to %s",
                          gb(own + sum_R + sum_ovh - cap), add_r, path);
  } else if (sum_F <= avail) {
    mine = MEM_FITS;
    g_string_append_printf(out, "  verdict: fits - state high, no reclamation (%.1f GB "
                           "headroom)\n", gb(avail - sum_F));
    number = g_strdup_printf("%s; guests touch %.1f GB of %.1f GB free for them: state high, "
                             "%.1f GB headroom", configured, gb(sum_F), gb(avail),
                             gb(avail - sum_F));
  } else if (sum_A_shr <= avail && sum_shr + sum_bal >= sum_F - avail) {
    /* Idle memory goes, and page sharing and the balloon drivers can take all of it: the
     * guests give up their idle pages themselves, the working sets stay in (page sharing
     * counted: it works once the host is under pressure). When they cannot, the rest is
     * compressed and swapped from random pages, working sets included, which the guests keep
     * touching back in: a stall that lasts as long as the overcommitment (the run model does
     * the same, models/mem.c tree_evaluate), so that case does not fit (below). */
    mine = MEM_TIGHT;
    double deficit = sum_F - avail;
    const char *state;
    g_string_append_printf(out, "  verdict: tight - %.1f GB of idle memory must be reclaimed",
                           gb(deficit));
    if (sum_shr >= deficit) {
      state = thv && esxi_major_of(thv) >= 6 ? "clear" : "hard";
      g_string_append_printf(out, "; page sharing (%.1f GB) covers it once large pages are "
                             "broken (state %s)", gb(sum_shr), state);
    } else {
      state = "soft";
      g_string_append(out, "; ballooning covers it (state soft)");
    }
    if (no_balloon->len)
      g_string_append_printf(out, "; no balloon driver in %s (pages %.0f%% working set): "
                             "theirs are left to sharing", no_balloon->str,
                             nb_F > 0 ? 100 * nb_A / nb_F : 0);
    g_string_append_printf(out, "; the active memory fits with %.1f GB to spare; fix: keep the "
                           "guests' footprint within %.1f GB, or reserve the memory of the VMs "
                           "that must not swap\n", gb(avail - sum_A_shr), gb(avail));
    number = g_strdup_printf("%s; guests touch %.1f GB of %.1f GB free for them: %.1f GB of "
                             "idle memory reclaimed (state %s), active %.1f GB still fits",
                             configured, gb(sum_F), gb(avail), gb(deficit), state,
                             gb(sum_A_shr));
    fix = g_strdup_printf("add %.0f GB to %s, or keep its guests' footprint within %.1f GB",
                          add, path, gb(avail));
  } else if (sum_A_shr <= avail) {
    /* The active memory would fit, but sharing and ballooning cannot free enough: ESXi
     * compresses and swaps random pages (state hard), and the guests touch their share of
     * working set back in, again and again. */
    mine = MEM_NO_FIT;
    double deficit = sum_F - avail;
    double churn = deficit - sum_shr - sum_bal;
    g_string_append_printf(out, "  verdict: does not fit - %.1f GB of idle memory must be "
                           "reclaimed; page sharing (%.1f GB) and ballooning (%.1f GB) cover "
                           "%.1f GB, the other %.1f GB is compressed and swapped from random "
                           "pages (state hard)", gb(deficit), gb(sum_shr), gb(sum_bal),
                           gb(sum_shr + sum_bal), gb(churn));
    if (no_balloon->len)
      g_string_append_printf(out, "; no balloon driver in %s, whose pages are %.0f%% working "
                             "set", no_balloon->str, nb_F > 0 ? 100 * nb_A / nb_F : 0);
    g_string_append_printf(out, ": the guests keep touching reclaimed working-set pages back "
                           "in and stall for as long as it lasts, although their active %.1f GB "
                           "would fit; fix: add %.0f GB, or keep the guests' footprint within "
                           "%.1f GB\n", gb(sum_A_shr), add, gb(avail + sum_shr + sum_bal));
    number = g_strdup_printf("%s; guests touch %.1f GB of %.1f GB free for them: %.1f GB "
                             "compressed and swapped from random pages beyond what sharing and "
                             "ballooning free (state hard), so working sets churn",
                             configured, gb(sum_F), gb(avail), gb(churn));
    fix = g_strdup_printf("add %.0f GB to %s (%.0f GB in all), or keep its guests' footprint "
                          "within %.1f GB", add, path, ceil(gb(cap)) + add,
                          gb(avail + sum_shr + sum_bal));
  } else {
    mine = MEM_NO_FIT;
    miss = (sum_A_shr - avail) / sum_A_shr;
    g_string_append_printf(out, "  verdict: does not fit - active memory %.1f GB exceeds the "
                           "%.1f GB available by %.1f GB: working sets are swapped without end "
                           "(state hard, low at times)%s%s; fix: add %.1f GB of memory, or lower "
                           "the active memory or the number of VMs\n",
                           gb(sum_A_shr), gb(avail), gb(sum_A_shr - avail),
                           no_balloon->len ? "; no balloon driver in " : "", no_balloon->str,
                           gb(sum_A_shr - avail));
    number = g_strdup_printf("%s; guests keep %.1f GB active, %.1f GB more than the %.1f GB "
                             "free for them: working sets swapped (state hard)",
                             configured, gb(sum_A_shr), gb(sum_A_shr - avail), gb(avail));
    fix = g_strdup_printf("add %.0f GB to %s (%.0f GB in all), or cut its guests' active "
                          "memory by %.1f GB", add, path, ceil(gb(cap)) + add,
                          gb(sum_A_shr - avail));
  }
  add_finding(findings, path, layer, FALSE, mine, number, fix);
  verdict = worse(verdict, mine);
  /* The worst predicted stall of a guest under it: the share of its working set out at its
   * layer and the layers between, each miss costing one swap-in on an unloaded HDD. A lower
   * bound: a busy datastore queues. */
  double svc;
  int servers;
  dsk_media_defaults(DSK_HDD, &svc, &servers);
  double worst_miss = 0, worst_rate = 0, worst_slow = 0;
  for (guint i = 0; i < n; i++) {
    double m = 1 - (1 - c[i].miss) * (1 - miss);
    double k = c[i].touch_pps * m * svc;
    worst_miss = MAX(worst_miss, m);
    worst_rate = MAX(worst_rate, c[i].touch_pps);
    worst_slow = MAX(worst_slow, k / (1 + k));
  }
  if (miss > 0 && worst_slow > 0)
    g_string_append_printf(out, "  predicted: %.0f%% of the working sets out here; a guest under "
                           "it stalls up to %.0f%% of its time (one unloaded HDD swap-in, %.1f ms, "
                           "per miss: a lower bound)\n",
                           100 * miss, 100 * worst_slow, 1e3 * svc);
  if (self) {
    double used = own + sum_ovh;
    for (guint i = 0; i < n; i++) used += c[i].F * (1 - c[i].share);
    self->F = MIN(cap, used);
    self->A = MIN(sum_A_shr, MAX(0.0, avail));
    self->touch_pps = worst_rate;
    self->miss = worst_miss;
  }
  g_string_append(out, inner->str);
  if (findings)
    while (inner_findings->len) g_ptr_array_add(findings, g_ptr_array_steal_index(inner_findings, 0));
  return verdict;
}

/* A nested hypervisor keeps its VMs' disks and swap files inside its own first disk; then the
 * same for the nested hypervisors under it. */
static mem_verdict chk_nested_disks(const GPtrArray *vms, GString *out, GPtrArray *findings) {
  const double gib = 1024.0 * MB_BYTES;
  mem_verdict verdict = MEM_FITS;
  for (guint i = 0; vms && i < vms->len; i++) {
    const topo_vm *tv = g_ptr_array_index(vms, i);
    if (!tv->hypervisor) continue;
    mem_cfg c;
    cfg_of(tv, &c);
    double local = c.n_disks ? c.disks[0].size : 0, need = 0;
    for (guint k = 0; tv->vms && k < tv->vms->len; k++) {
      const topo_vm *l2 = g_ptr_array_index(tv->vms, k);
      mem_cfg c2;
      cfg_of(l2, &c2);
      need += l2->memory_bytes - MIN(l2->memory_bytes, c2.reservation);
      for (int q = 0; q < c2.n_disks; q++) need += disk_allocated(&c2.disks[q]);
    }
    mem_verdict v = need > local ? MEM_NO_FIT : MEM_FITS;
    g_string_append_printf(out, "storage %s (nested host's local disk): %.1f GB; its VMs' disks "
                           "and swap files %.1f GB - %s\n",
                           tv->path, local / gib, need / gib, mem_verdict_name(v));
    add_finding(findings, tv->path, tv->layer, TRUE, v,
                local > 0 ? g_strdup_printf("local disk %.1f GB; its VMs' disks and swap files "
                                            "%.1f GB (%.0f%%)", local / gib, need / gib,
                                            100 * need / local)
                          : g_strdup_printf("no local disk; its VMs' disks and swap files "
                                            "%.1f GB", need / gib),
                v == MEM_NO_FIT ? g_strdup_printf("grow %s's first disk by %.0f GB (to %.0f GB)",
                                                  tv->name, ceil((need - local) / gib),
                                                  ceil(need / gib))
                                : NULL);
    verdict = worse(verdict, v);
    verdict = worse(verdict, chk_nested_disks(tv->vms, out, findings));
  }
  return verdict;
}

/* Space: what the VMs placed on each datastore take, thick and thin, with their swap files. */
static mem_verdict chk_datastores(const topo_host *host, GString *out, GPtrArray *findings) {
  mem_verdict verdict = MEM_FITS;
  guint nd = host->datastores ? host->datastores->len : 0;
  const double gib = 1024.0 * MB_BYTES;
  for (guint j = 0; j < nd; j++) {
    const topo_datastore *d = g_ptr_array_index(host->datastores, j);
    const topo_datastore *first = g_ptr_array_index(host->datastores, 0);
    double thick = 0, thin = 0, written = 0, swap = 0;
    for (guint i = 0; host->vms && i < host->vms->len; i++) {
      const topo_vm *tv = g_ptr_array_index(host->vms, i);
      mem_cfg c;
      cfg_of(tv, &c);
      const topo_datastore *home = c.n_disks && c.disks[0].ds ? c.disks[0].ds : first;
      for (int k = 0; k < c.n_disks; k++) {
        const mem_disk *dk = &c.disks[k];
        if ((dk->ds ? dk->ds : home) != d) continue;
        if (dk->thin) {
          thin += dk->size;
          written += disk_allocated(dk);
        } else {
          thick += dk->size;
        }
      }
      if (home == d) swap += tv->memory_bytes - MIN(tv->memory_bytes, c.reservation);
    }
    double cap = d->capacity_bytes;
    double allocated = thick + written + swap, provisioned = thick + thin + swap;
    mem_verdict v = allocated > cap ? MEM_NO_FIT : provisioned > cap ? MEM_TIGHT : MEM_FITS;
    g_string_append_printf(out, "storage %s/[%s] (%s): %.1f GB; thick %.1f GB + swap files "
                           "%.1f GB + thin %.1f GB provisioned (%.1f GB written) = %.0f%% "
                           "provisioned, %.0f%% allocated - %s",
                           host->name, d->name, d->type ? d->type : "hdd", cap / gib, thick / gib,
                           swap / gib, thin / gib, written / gib,
                           cap > 0 ? 100 * provisioned / cap : 0,
                           cap > 0 ? 100 * allocated / cap : 0, mem_verdict_name(v));
    char *fix = NULL;
    if (v == MEM_NO_FIT) {
      g_string_append_printf(out, "; fix: free %.1f GB (thin-provision the disks, move some to "
                             "another datastore, or reserve memory to shrink swap files)",
                             (allocated - cap) / gib);
      fix = g_strdup_printf("free %.0f GB on [%s]: thin-provision its disks, move some to "
                            "another datastore, or grow it to %.0f GB",
                            ceil((allocated - cap) / gib), d->name, ceil(provisioned / gib));
    } else if (v == MEM_TIGHT) {
      g_string_append_printf(out, "; thin disks overcommit it by %.1f GB: it fills up as the "
                             "guests write", (provisioned - cap) / gib);
      fix = g_strdup_printf("grow [%s] by %.0f GB, or move thin disks elsewhere, before the "
                            "guests write them full", d->name, ceil((provisioned - cap) / gib));
    }
    g_string_append_c(out, '\n');
    add_finding(findings, host->name, 0, TRUE, v,
                g_strdup_printf("[%s] %.0f GB %s: thick %.0f + swap %.0f + thin %.0f GB "
                                "(%.0f written) = %.0f%% provisioned, %.0f%% allocated",
                                d->name, cap / gib, d->type ? d->type : "hdd", thick / gib,
                                swap / gib, thin / gib, written / gib,
                                cap > 0 ? 100 * provisioned / cap : 0,
                                cap > 0 ? 100 * allocated / cap : 0),
                fix);
    verdict = worse(verdict, v);
  }
  return worse(verdict, chk_nested_disks(host->vms, out, findings));
}

mem_verdict mem_check(const topo_scenario *scn, GString *out, GPtrArray *findings) {
  g_autoptr(GString) scratch = out ? NULL : g_string_new(NULL);
  if (!out) out = scratch;
  mem_verdict verdict = MEM_FITS;
  for (guint i = 0; i < scn->hosts->len; i++) {
    const topo_host *host = g_ptr_array_index(scn->hosts, i);
    verdict = worse(verdict, chk_hv(host->name, 0, host->memory_bytes / PAGE_BYTES,
                                    host->hypervisor, host->vms, out, findings, NULL));
    verdict = worse(verdict, chk_datastores(host, out, findings));
  }
  return verdict;
}
