/* cpu.c — the CPU model: hardware threads, a proportional-share scheduler in the hypervisor of
 * every layer, vCPUs that progress only while every layer below runs them, and the workloads
 * that keep them busy; reported as each hypervisor's esxtop would, beside what really happened.
 *
 * Entities. A host has sockets x cores x threads logical CPUs ("threads"). Every hypervisor (the
 * host's, and each VM that runs one) has a scheduler with a set of CPUs: a host's scheduler
 * schedules onto its threads, a nested hypervisor VM's scheduler onto that VM's own vCPUs. One
 * struct, cpu_vc, stands for both a thread and a vCPU, because a vCPU of a nested hypervisor is
 * both at once: a thing scheduled by the layer below (`hv`, `on`) and a CPU for the layer above
 * (`own`, `runs`). Chains `leaf->on->on->...->thread` are how a layer-k vCPU reaches hardware.
 *
 * Demand flows down, execution flows up. A leaf vCPU demands a CPU while its workload has a
 * burst in progress; a nested hypervisor's vCPU demands one while its own scheduler has a vCPU
 * of the layer above assigned to it. So when an L2 guest halts, L1 frees the vCPU it ran on;
 * if L1 has nothing else for that vCPU, it stops demanding and L0 frees the thread and gives
 * it to the best waiting vCPU. A vCPU executes iff it is assigned to a CPU that is a thread or
 * itself executes; whenever that changes at some layer, the change climbs the `runs` chain to
 * the leaf at the top, whose progress rate (vc_rate, the one place that computes it) is
 * hyper-threading speed of the thread at the bottom x the efficiency of every VM on the chain.
 * A leaf's end of burst is an event rescheduled whenever its rate changes.
 *
 * Lazy accounting. Each vCPU keeps the time it spent in each state of its own hypervisor's
 * view (RUN, RDY, MLMTD, CSTP, WAIT), executing time, charged ("used") time and work, and
 * brings them up to date (vc_sync) only when something about it changes, using the rate and
 * charge that held since its last update. Every change is made as "sync what it affects;
 * change; refresh rates", so no interval is accounted with the wrong rate.
 *
 * Each layer believes its own accounting: an L1 hypervisor charges an L2 vCPU for the wall
 * time it assigned one of its vCPUs to it, even while L0 had taken that vCPU away, exactly as a
 * nested ESXi's esxtop does; the truth (`exec`, `work`) is kept beside it.
 *
 * Cost. Nothing is allocated after create: every array (CPUs, vCPUs, free and wait lists, the
 * scratch used by a tick) is sized then. An event touches the few vCPUs on one chain and the
 * threads of one core; a scheduler tick syncs and sorts that scheduler's demanding vCPUs,
 * O(n log n). A tick with no vCPU waiting and no limit or reservation to enforce would change
 * nothing, so it is not scheduled at all (sched_arm): an idle or undercommitted hypervisor
 * costs no events. This is not an approximation — the skipped tick is a no-op, it draws no
 * random numbers — so the results are those of ticking every quantum. */
#include "models/cpu.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/virt.h"
#include "sim/rng.h"
#include "src/scn.h"

/* Hyper-threading: the speed of each of two busy threads of one core, relative to one thread
 * running alone. VMware's knowledge-base article on letting the vCPUs of an SMP VM share a
 * core (knowledge.broadcom.com/external/article/326271): "Utilizing both logical processors
 * provides 10% - 30% higher throughput than when only one logical processor is used.
 * Therefore, the capacity of each logical processor when both processors are busy is about
 * 55% - 65% of a single logical processor running alone on the core." The 30% ceiling goes back
 * to Intel's account of the first implementation (Marr et al., "Hyper-Threading Technology
 * Architecture and Microarchitecture", Intel Technology Journal 6(1), February 2002), whose
 * text we could not consult; the default rests on VMware's wording. We take the middle of its
 * range: a busy core does 1.25 x the work of a lone thread, each of its two threads 0.625. With
 * k > 2 threads per core (not x86 HT, but the topology allows it) we extrapolate linearly: the
 * core does 1 + (k-1)(2h-1) of a lone thread's work, shared equally. A host with threads = 1
 * never slows down. A parameter, not a law: workloads that contend for the core's caches and
 * ports gain less, some lose. */
#define CPU_HT_FACTOR 0.625

/* The sum of a VM's drags is capped here so that a vCPU always makes some progress. */
#define CPU_DRAG_CAP 0.99

/* The states of a vCPU as its own hypervisor sees them, esxtop's terms. MLMTD (ready, but its
 * VM is over its limit) is part of %RDY in esxtop; IDLE is all of WAIT here, since no guest
 * blocks on I/O in this model. RUN + RDY + MLMTD + CSTP + WAIT is all of the time. */
enum { ST_RUN, ST_RDY, ST_MLMTD, ST_CSTP, ST_WAIT, ST_N };
enum { TAG_BURST_END, TAG_WAKE, TAG_TICK, TAG_EXIT };
/* A tick's decision for one vCPU. */
enum { PICK_NONE, PICK_SEL, PICK_CSTP, PICK_MLMTD, PICK_DEFER };

typedef struct cpu_vm cpu_vm;
typedef struct cpu_sched cpu_sched;
typedef struct cpu_vc cpu_vc;
typedef struct cpu_host cpu_host;

/* Cumulative totals of one thread or vCPU since the run began. */
typedef struct cpu_acc {
  int64_t st[ST_N]; /* ns in each state (threads: RUN = busy, WAIT = idle) */
  int64_t exec;     /* ns really executing (every layer below running it) */
  double used;      /* ns charged: RUN time x hyper-threading charge at L0, RUN time above */
  double work;      /* bare-metal core-seconds of progress on it (leaf) or through it */
} cpu_acc;

/* Snapshots of a cpu_vc's totals, read only when sampling: kept apart so that the structs the
 * events touch stay small. */
typedef struct cpu_cold {
  cpu_acc prev; /* at the last sample */
  cpu_acc base; /* at the end of warm-up */
} cpu_cold;

/* A physical thread (vm == NULL) or a vCPU. */
struct cpu_vc {
  sim_entity ent;     /* leaf vCPUs: target of `ev` */
  sim_event ev;       /* leaf vCPUs: the end of the burst, or the end of the idle gap */
  cpu_vm *vm;         /* the VM it belongs to; NULL for a thread */
  cpu_sched *hv;      /* the scheduler that schedules it; NULL for a thread */
  cpu_sched *own;     /* the scheduler it is a CPU of (host's for a thread, the VM's for a
                       * nested hypervisor's vCPU); NULL for a leaf vCPU */
  cpu_vc *on;         /* the CPU of `hv` it is assigned to, or NULL */
  cpu_vc *runs;       /* the vCPU of `own` assigned to it, or NULL */
  cpu_vc *last;       /* the CPU it last ran on (affinity) */
  cpu_vc *sibling;    /* threads: the next thread of the same core (a ring) */
  sim_time since;     /* accounted up to here */
  double rate;        /* leaf: work per second now (0 unless executing) */
  double charge;      /* what a ns of RUN costs it (hyper-threading at L0; 1 above) */
  double vt;          /* virtual time: charged ns / per-vCPU shares */
  double lag;         /* ns ready or co-stopped: relaxed co-scheduling's non-progress */
  double remaining;   /* leaf: work left in the burst, core-seconds (INFINITY: CPU-bound) */
  cpu_acc acc;        /* totals now (the snapshots are in cpu_state.cold, off the hot path) */
  sim_time done_at;   /* leaf with a job: completion time, or -1 */
  const topo_workload *wl; /* leaf: its VM's workload (NULL: idle), kept here for speed */
  gsl_rng *rng;       /* leaf with a random workload: its own stream */
  /* issue 4, discrete overheads (see "Virtualization overhead" below): guest work left before
   * the next exit, and while in_exit the exit's handling work left, both in bare-metal
   * core-seconds; the exits' own stream, apart from the workload's so that both modes draw
   * the same bursts. */
  double to_exit, handling;
  gsl_rng *exit_rng;
  bool in_exit;
  sim_time trace_from;     /* traced: when the current assignment began */
  int64_t trace_exec;      /* traced: acc.exec then */
  int32_t free_pos;   /* CPUs: index in own->free, or -1 when something runs on it */
  int32_t wait_pos;   /* vCPUs: index in hv->wait, or -1 */
  int32_t index;      /* vCPU number in its VM, or thread number in its host */
  uint32_t gidx;      /* index in the model's array: a total order for ties */
  met_id met;
  uint8_t st;
  uint8_t pick;
  bool phys, exec, demanding, traced;
};

struct cpu_vm {
  const topo_vm *t;
  cpu_sched *hv;      /* the scheduler its vCPUs are on */
  cpu_sched *own;     /* its own hypervisor's scheduler, or NULL (a leaf VM) */
  cpu_vc *vcpus;
  int n;
  int n_dem, n_run, n_cstp; /* demanding, running and co-stopped vCPUs now */
  double shares;      /* per vCPU */
  /* Limit and reservation as token buckets in ns of CPU, refilled at lim_rate / res_rate
   * CPUs' worth per ns and drained by charged time, settled at each tick of `hv`. A VM is
   * over its limit (not eligible: esxtop's %MLMTD) while lim_credit <= 0, and has priority
   * while res_credit > 0. Each bucket holds at most one quantum's worth, so the long-run
   * share is exactly the rate and the error over any window is at most about a quantum. */
  double lim_rate, res_rate; /* in CPUs (limit_hz / host hz); < 0: none */
  double lim_credit, res_credit, used_mark;
  sim_time budget_t;
  bool over_limit;
  cpu_vc *slowest;    /* tick scratch: relaxed co-scheduling's slowest demanding vCPU */
  double eff;         /* 1 - sum of drags (capped) */
  double drag[CPU_DRAG_N];
  double drag_ns[CPU_DRAG_N], drag_base[CPU_DRAG_N]; /* executing ns attributed to each */
  double drag_prev[CPU_DRAG_N];                      /* ... at the last sample */
  bool dragged;
  /* issue 4, discrete overheads: mean guest work between exits and the handling work of one
   * exit (bare-metal core-seconds), and how the handling time splits among the four causes
   * (CPU_DRAG_L0_EXIT .. CPU_DRAG_BT, summing to 1). */
  bool discrete;
  double exit_work, handle_work, vshare[CPU_DRAG_BT + 1];
  int jobs_left;
  sim_time done_at;   /* job: when its last part completed, or -1 */
  met_id met;
};

struct cpu_sched {
  sim_entity ent;
  sim_event tick;
  cpu_state *m;
  const char *path;   /* of the host or the hypervisor VM */
  cpu_vc **cpus;      /* its CPUs: threads, or its VM's vCPUs */
  cpu_vc **free;      /* CPUs with nothing assigned */
  cpu_vc **vcpus;     /* the vCPUs it schedules */
  cpu_vc **wait;      /* demanding vCPUs not assigned */
  cpu_vc **defer;     /* tick scratch */
  struct cpu_cand *cand; /* tick scratch */
  cpu_vm **vms;
  int ncpu, nfree, nvcpu, nwait, nvm;
  sim_time quantum, phase, skew, last_tick;
  sim_time floor_at;  /* when vt_floor was computed, or -1 */
  double vt_floor;
  double vt_grain;    /* one quantum's charge for the vCPU with the most shares */
  topo_cosched costop;
  gsl_rng *rng;       /* its own stream: phase and tie-breaks */
  bool phys;          /* its CPUs are threads */
  bool ht;            /* ... with more than one thread per core */
  bool has_budgets;   /* some VM has a limit or a reservation: tick every quantum */
};

struct cpu_host {
  const topo_host *t;
  cpu_sched *sched;
  cpu_vc *threads;
  int n;
  int vm_first, vm_count; /* its VMs (all layers) in the model's depth-first array */
  int l1_vcpus;
  met_id met;
};

struct cpu_state {
  mdl_run *run;
  sim_engine *eng;
  double ht_factor;
  cpu_vc *vcs;        /* threads, then vCPUs */
  cpu_cold *cold;     /* parallel to vcs */
  size_t nvc;
  cpu_vm *vms;        /* depth-first, hosts in order */
  size_t nvm;
  cpu_sched *scheds;
  size_t nsched;
  cpu_host *hosts;
  size_t nhost;
  GHashTable *by_topo; /* const topo_vm* -> cpu_vm* */
  double *row;        /* sample scratch, met_n_columns long */
  guint row_len;
  met_id col_used, col_run, col_rdy, col_mlmtd, col_cstp, col_wait, col_idle, col_util,
      col_exec, col_work, col_eff;
  met_id col_attr[9]; /* issue 4: attr_keys, per VM */
};

typedef struct cpu_cand {
  cpu_vc *v;
  double bucket; /* floor(virtual time / grain) */
  guint32 rnd;   /* this tick's random order within a bucket */
  int res;       /* 1: below its reservation */
} cpu_cand;

static const char *const drag_keys[CPU_DRAG_N] = {
    "drag_l0_exit_s", "drag_l1_exit_s", "drag_page_walk_s",
    "drag_bt_s",      "drag_mem_stall_s", "drag_net_s"};

/* ---- Small helpers ------------------------------------------------------------------------ */

static inline bool vc_leaf(const cpu_vc *v) { return v->vm && !v->own; }

static inline sim_time now_of(const cpu_state *m) { return sim_now(m->eng); }

/* ns for `seconds` of wall time, rounded up so that a burst is never declared done early;
 * SIM_TIME_NEVER when it would not fit a run. */
static sim_time ns_ceil(double seconds) {
  double ns = ceil(seconds * 1e9);
  if (!(ns < 4e18)) return SIM_TIME_NEVER;
  return ns < 0 ? 0 : (sim_time)ns;
}

/* Speed of busy thread t relative to a lone thread, from how many threads of its core are
 * busy (see CPU_HT_FACTOR). */
static double thread_speed(const cpu_state *m, const cpu_vc *t) {
  int k = 1;
  for (const cpu_vc *x = t->sibling; x != t; x = x->sibling)
    if (x->runs) k++;
  if (k == 1) return 1.0;
  return (1.0 + (k - 1) * (2.0 * m->ht_factor - 1.0)) / k;
}

/* The progress rate of a leaf vCPU in bare-metal core-seconds per second: zero unless every
 * layer below runs it, else the hyper-threading speed of the thread at the bottom times the
 * efficiency of the leaf's VM and of every nested hypervisor VM on the way down. This is the
 * one place that computes a rate; the virtualization-overhead model acts through the VMs'
 * efficiencies (cpu_set_drag). */
static double vc_rate(const cpu_state *m, const cpu_vc *v) {
  if (!v->exec) return 0.0;
  double r = v->vm->eff;
  const cpu_vc *x = v->on;
  for (; !x->phys; x = x->on) r *= x->vm->eff;
  return r * thread_speed(m, x);
}

/* Brings v's accounting up to `now` with the state, rate and charge that held since. A leaf's
 * progress is credited to it and to every CPU under it, so a nested hypervisor's vCPU and a
 * thread know how much real work went through them. */
static void vc_sync(cpu_vc *v, sim_time now) {
  sim_time dt = now - v->since;
  if (dt <= 0) return;
  v->since = now;
  v->acc.st[v->st] += dt;
  if (v->st == ST_RUN) {
    double u = v->charge * (double)dt;
    v->acc.used += u;
    if (v->vm) v->vt += u / v->vm->shares;
  } else if (v->st != ST_WAIT) {
    v->lag += (double)dt;
  }
  if (!v->exec) return;
  v->acc.exec += dt;
  cpu_vm *vm = v->vm;
  double other = 0; /* executing ns taken by the causes in vm->drag */
  if (vm->dragged)
    for (int c = 0; c < CPU_DRAG_N; c++) {
      vm->drag_ns[c] += vm->drag[c] * (double)dt;
      other += vm->drag[c] * (double)dt;
    }
  if (v->in_exit) {
    /* Discrete overheads: all of this executing time (but what other causes take) handles
     * the exit, split among its causes as the fluid model splits them. */
    for (int c = 0; c <= CPU_DRAG_BT; c++) vm->drag_ns[c] += vm->vshare[c] * ((double)dt - other);
    if (v->rate > 0) v->handling -= v->rate * (double)dt * 1e-9;
    return;
  }
  if (v->rate > 0) {
    double w = v->rate * (double)dt * 1e-9;
    v->remaining -= w;
    v->to_exit -= w;
    for (cpu_vc *x = v; x; x = x->on) x->acc.work += w;
  }
}

/* Syncs v and everything it carries (the vCPUs of the layers above, up to the leaf). */
static void chain_sync_up(cpu_vc *v, sim_time now) {
  for (cpu_vc *x = v; x; x = x->runs) vc_sync(x, now);
}

/* The top of the chain v carries (a leaf, or a hypervisor vCPU with nothing on it). */
static cpu_vc *chain_top(cpu_vc *v) {
  while (v->runs) v = v->runs;
  return v;
}

/* A leaf's rate may have changed: recompute it and move its end-of-burst event. v must be
 * synced at `now`. */
static void leaf_schedule(cpu_state *m, cpu_vc *v, sim_time now) {
  /* The next thing to end: the exit being handled, the guest work before the next exit
   * (discrete overheads), or the burst. */
  double left = v->remaining;
  int tag = TAG_BURST_END;
  if (v->in_exit) {
    left = v->handling;
    tag = TAG_EXIT;
  } else if (v->vm->discrete && v->to_exit < v->remaining) {
    left = v->to_exit;
    tag = TAG_EXIT;
  }
  double r = v->rate;
  sim_time at = r > 0 && isfinite(left) ? ns_ceil(MAX(left, 0.0) / r) : SIM_TIME_NEVER;
  if (at != SIM_TIME_NEVER && at <= SIM_TIME_NEVER - now) {
    v->ev.tag = tag;
    sim_reschedule(m->eng, &v->ev, now + at);
  } else {
    sim_cancel(m->eng, &v->ev);
  }
}

static void leaf_refresh(cpu_state *m, cpu_vc *v, sim_time now) {
  double r = vc_rate(m, v);
  if (r == v->rate) return;
  v->rate = r;
  if (!v->demanding) return; /* in an idle gap: the pending event is the wake-up */
  leaf_schedule(m, v, now);
}

/* Syncs every thread of t's core and the chains they carry: their speeds are about to change
 * because t becomes busy or idle. */
static void core_sync(cpu_vc *t, sim_time now) {
  cpu_vc *x = t;
  do {
    vc_sync(x, now);
    if (x->runs) chain_sync_up(x->runs, now);
    x = x->sibling;
  } while (x != t);
}

/* After t became busy or idle: new charges for the threads of its core and their L0 vCPUs,
 * new rates for the leaves they carry. */
static void core_refresh(cpu_state *m, cpu_vc *t, sim_time now) {
  cpu_vc *x = t;
  do {
    if (x->runs) {
      x->charge = thread_speed(m, x);
      x->runs->charge = x->charge;
      cpu_vc *top = chain_top(x->runs);
      if (vc_leaf(top) && top->exec) leaf_refresh(m, top, now);
    } else {
      x->charge = 0.0;
    }
    x = x->sibling;
  } while (x != t);
}

/* v's CPU (or the CPU under it) started or stopped executing: recompute whether v executes and
 * pass a change up to what v carries. */
static void vc_exec_update(cpu_state *m, cpu_vc *v, sim_time now) {
  bool e = v->on && (v->on->phys || v->on->exec);
  if (e == v->exec) return;
  vc_sync(v, now);
  v->exec = e;
  if (vc_leaf(v))
    leaf_refresh(m, v, now);
  else if (v->runs)
    vc_exec_update(m, v->runs, now);
}

/* Sets v's state at its hypervisor, keeping the co-stop count of its VM. */
static void vc_set_state(cpu_vc *v, int st, sim_time now) {
  if (v->st == st) return;
  vc_sync(v, now);
  if (v->st == ST_CSTP) v->vm->n_cstp--;
  v->st = (uint8_t)st;
  if (st == ST_CSTP) v->vm->n_cstp++;
}

/* ---- Free CPUs, waiting vCPUs, ticks -------------------------------------------------------- */

static void free_add(cpu_sched *s, cpu_vc *c) {
  g_assert(c->free_pos < 0);
  c->free_pos = s->nfree;
  s->free[s->nfree++] = c;
}

static void free_remove(cpu_sched *s, cpu_vc *c) {
  g_assert(c->free_pos >= 0 && s->free[c->free_pos] == c);
  cpu_vc *last = s->free[--s->nfree];
  s->free[c->free_pos] = last;
  last->free_pos = c->free_pos;
  c->free_pos = -1;
}

/* The next tick of s strictly after its last one and not before now. */
static sim_time sched_next_tick(const cpu_sched *s, sim_time now) {
  if (now <= s->phase) return s->phase > s->last_tick ? s->phase : s->phase + s->quantum;
  sim_time k = (now - s->phase + s->quantum - 1) / s->quantum;
  sim_time t = s->phase + k * s->quantum;
  if (t <= s->last_tick) t += s->quantum;
  return t;
}

/* Makes sure s ticks at its next quantum boundary. Ticks run only while a vCPU waits or a
 * budget needs settling (see the top of the file). */
static void sched_arm(cpu_state *m, cpu_sched *s, sim_time now) {
  if (!sim_event_pending(&s->tick)) sim_schedule(m->eng, &s->tick, sched_next_tick(s, now));
}

static void wait_add(cpu_state *m, cpu_sched *s, cpu_vc *v, sim_time now) {
  g_assert(v->wait_pos < 0);
  v->wait_pos = s->nwait;
  s->wait[s->nwait++] = v;
  sched_arm(m, s, now);
}

static void wait_remove(cpu_sched *s, cpu_vc *v) {
  g_assert(v->wait_pos >= 0 && s->wait[v->wait_pos] == v);
  cpu_vc *last = s->wait[--s->nwait];
  s->wait[v->wait_pos] = last;
  last->wait_pos = v->wait_pos;
  v->wait_pos = -1;
}

static bool core_idle(const cpu_vc *t) {
  for (const cpu_vc *x = t->sibling; x != t; x = x->sibling)
    if (x->runs) return false;
  return true;
}

/* A free CPU of s for v, or NULL: the CPU v last ran on (its caches are warm there), unless
 * on a hyper-threaded host a whole idle core is available and v's last thread shares its core
 * with a busy thread — ESXi prefers a fully idle core to a partially idle one. */
static cpu_vc *pick_free(cpu_sched *s, const cpu_vc *v) {
  if (!s->nfree) return NULL;
  cpu_vc *last = v->last && v->last->free_pos >= 0 ? v->last : NULL;
  if (last && (!s->ht || core_idle(last))) return last;
  if (s->ht)
    for (int i = s->nfree - 1; i >= 0; i--)
      if (core_idle(s->free[i])) return s->free[i];
  return last ? last : s->free[s->nfree - 1];
}

/* ---- Tracing ------------------------------------------------------------------------------ */

static void trace_cpu_name(const cpu_state *m, const cpu_vc *c, GString *out) {
  if (c->phys)
    g_string_append_printf(out, "%s/pcpu%d", c->own->path, c->index);
  else
    g_string_append(out, met_entity_path(m->run->met, c->met));
}

/* One row for the assignment of v to c that ends now. */
static void trace_row(const cpu_state *m, const cpu_vc *v, const cpu_vc *c, sim_time now) {
  GString *tr = m->run->trace;
  if (tr->len == 0) g_string_append(tr, "layer,vcpu,cpu,start_s,end_s,executing_s\n");
  g_string_append_printf(tr, "%d,%s,", v->vm->t->layer, met_entity_path(m->run->met, v->met));
  trace_cpu_name(m, c, tr);
  g_string_append_printf(tr, ",%.9f,%.9f,%.9f\n", v->trace_from * 1e-9, now * 1e-9,
                         (double)(v->acc.exec - v->trace_exec) * 1e-9);
}

/* ---- Assignment --------------------------------------------------------------------------- */

static void cpu_reconcile(cpu_state *m, cpu_vc *c, sim_time now);

/* Assigns demanding vCPU v to the free CPU c of its scheduler. If c is a nested hypervisor's
 * vCPU that was not demanding, the caller reconciles it with the layer below afterwards
 * (cpu_reconcile); until then v does not execute. */
static void vc_assign(cpu_state *m, cpu_vc *v, cpu_vc *c, sim_time now) {
  cpu_sched *s = v->hv;
  g_assert(v->demanding && !v->on && !c->runs && c->own == s);
  vc_sync(v, now);
  if (c->phys) core_sync(c, now);
  if (v->wait_pos >= 0) wait_remove(s, v);
  vc_set_state(v, ST_RUN, now);
  v->on = c;
  c->runs = v;
  if (c->phys) c->st = ST_RUN; /* synced by core_sync: a thread's RUN is its busy time */
  free_remove(s, c);
  v->vm->n_run++;
  if (c->phys)
    core_refresh(m, c, now);
  else
    v->charge = 1.0;
  vc_exec_update(m, v, now);
  if (v->traced) {
    v->trace_from = now;
    v->trace_exec = v->acc.exec;
  }
}

/* Takes v off its CPU into state st (v stays demanding and waits, unless it halted). The CPU
 * is left free; the caller refills it or reconciles it with the layer below. */
static void vc_unassign(cpu_state *m, cpu_vc *v, int st, sim_time now) {
  cpu_vc *c = v->on;
  cpu_sched *s = v->hv;
  g_assert(c && c->runs == v);
  chain_sync_up(v, now); /* credit the work done so far along the chain as it stood */
  if (c->phys) core_sync(c, now);
  if (v->traced) trace_row(m, v, c, now);
  vc_set_state(v, st, now);
  v->on = NULL;
  c->runs = NULL;
  if (c->phys) c->st = ST_WAIT;
  v->last = c;
  v->vm->n_run--;
  free_add(s, c);
  if (c->phys) core_refresh(m, c, now);
  v->charge = 0.0;
  vc_exec_update(m, v, now);
  if (v->demanding) wait_add(m, s, v, now);
}

/* ---- Eligibility: limits and co-scheduling -------------------------------------------------- */

/* Lag of x brought up to now without syncing it. */
static double lag_now(const cpu_vc *x, sim_time now) {
  bool lagging = x->st == ST_RDY || x->st == ST_MLMTD || x->st == ST_CSTP;
  return x->lag + (lagging ? (double)(now - x->since) : 0.0);
}

/* Relaxed co-scheduling (ESX 4 and later; VMware, "The CPU Scheduler in VMware vSphere 5.1",
 * 2013, section "Relaxed Co-Scheduling"): each vCPU's progress is tracked, and "a leading
 * vCPU decides whether it should co-stop itself based on the skew against the slowest sibling
 * vCPU. If the skew is greater than a threshold, the leading vCPU co-stops itself ... Once the
 * slowest sibling vCPU starts progressing, the co-stopped vCPUs are eligible to co-start". A
 * vCPU progresses while it runs or idles ("idle vCPUs do not accumulate skew and are treated
 * as if they were running"), so its non-progress is its ready and co-stopped time, `lag`.
 * The threshold is "typically a few milliseconds" (same paper, "Strict Co-Scheduling in ESX
 * 2.x"); scn.c's default for ESXi is 3 ms.
 * True when v must co-stop now: its slowest demanding sibling is not running and v is ahead
 * of it by more than the skew threshold. */
static bool relaxed_costop(const cpu_vc *v, sim_time now) {
  const cpu_vm *vm = v->vm;
  const cpu_vc *slow = NULL;
  double slow_lag = -1;
  for (int i = 0; i < vm->n; i++) {
    const cpu_vc *x = &vm->vcpus[i];
    if (!x->demanding) continue;
    double l = lag_now(x, now);
    if (l > slow_lag) {
      slow_lag = l;
      slow = x;
    }
  }
  return slow && slow != v && !slow->on && slow_lag - lag_now(v, now) > (double)v->hv->skew;
}

/* The state demanding, waiting v would take if it could not run, or ST_RUN when it may take a
 * free CPU now (between ticks). */
static int vc_gate(const cpu_vc *v, sim_time now) {
  const cpu_vm *vm = v->vm;
  const cpu_sched *s = v->hv;
  if (vm->over_limit) return ST_MLMTD;
  if (vm->n > 1 && s->costop == TOPO_COSCHED_STRICT) {
    /* Strict co-scheduling (ESX 2.x): the demanding vCPUs of a VM run all together or not at
     * all. Between ticks a vCPU may start alone only if it is its VM's only demanding vCPU or
     * every other demanding sibling is running. */
    int others = vm->n_dem - 1;
    int others_running = vm->n_run - (v->on ? 1 : 0);
    if (others == 0 || others_running == others) return ST_RUN;
    return vm->n_cstp > 0 ? ST_CSTP : ST_RDY;
  }
  if (vm->n > 1 && s->costop == TOPO_COSCHED_RELAXED && relaxed_costop(v, now)) return ST_CSTP;
  return ST_RUN;
}

static bool vm_reserved(const cpu_vm *vm) { return vm->res_rate > 0 && vm->res_credit > 0; }

/* The best waiting vCPU of s that may start now (reservation first, then the smallest virtual
 * time), or NULL. Linear in the waiting vCPUs, which a work-conserving scheduler keeps few
 * whenever CPUs go free. */
static cpu_vc *best_waiting(cpu_sched *s, sim_time now) {
  cpu_vc *best = NULL;
  for (int i = 0; i < s->nwait; i++) {
    cpu_vc *w = s->wait[i];
    if (vc_gate(w, now) != ST_RUN) continue;
    if (!best) {
      best = w;
      continue;
    }
    bool rw = vm_reserved(w->vm), rb = vm_reserved(best->vm);
    if (rw != rb ? rw : (w->vt != best->vt ? w->vt < best->vt : w->gidx < best->gidx)) best = w;
  }
  return best;
}

/* Gives the free CPU c of s to the best waiting vCPU; if none may take it and c is a nested
 * hypervisor's vCPU, that vCPU stops demanding at the layer below. */
static void sched_refill(cpu_state *m, cpu_sched *s, cpu_vc *c, sim_time now);

/* Co-stopped or gang-waiting vCPUs of vm may be able to start after a change (a sibling
 * halted or started). Called between ticks of vm's hypervisor only: a tick calls down into the
 * layer below, never back into its own scheduler. */
static void vm_recheck(cpu_state *m, cpu_vm *vm, sim_time now) {
  cpu_sched *s = vm->hv;
  if (vm->n < 2 || s->costop == TOPO_COSCHED_NONE || vm->over_limit) return;
  if (s->costop == TOPO_COSCHED_STRICT) {
    if (vm->n_run > 0 || vm->n_dem == 0 || vm->n_dem > s->nfree) return;
    for (int i = 0; i < vm->n; i++) {
      cpu_vc *x = &vm->vcpus[i];
      if (!x->demanding) continue;
      cpu_vc *c = pick_free(s, x);
      vc_assign(m, x, c, now);
      if (!c->phys) cpu_reconcile(m, c, now);
    }
    return;
  }
  if (vm->n_cstp == 0) return;
  for (int i = 0; i < vm->n; i++) {
    cpu_vc *x = &vm->vcpus[i];
    if (x->st != ST_CSTP || vc_gate(x, now) != ST_RUN) continue;
    cpu_vc *c = pick_free(s, x);
    if (c) {
      vc_assign(m, x, c, now);
      if (!c->phys) cpu_reconcile(m, c, now);
    } else {
      vc_set_state(x, ST_RDY, now); /* co-started, but no CPU: ready */
    }
  }
}

/* ---- Demand ------------------------------------------------------------------------------- */

/* The smallest virtual time among s's demanding vCPUs other than v, or -INFINITY: where a
 * vCPU coming back from idling starts. Scanning every vCPU of a big host at every wake-up would
 * dominate the cost of the run, so the value is kept for up to one quantum: a waker may then
 * start up to a quantum's charge behind the most-behind vCPU, the same granularity the
 * scheduler's fairness has anyway (see sched_select). */
static double sched_vt_floor(cpu_sched *s, const cpu_vc *v, sim_time now) {
  if (s->floor_at >= 0 && now - s->floor_at < s->quantum) return s->vt_floor;
  double f = INFINITY;
  for (int i = 0; i < s->nvcpu; i++) {
    const cpu_vc *x = s->vcpus[i];
    if (!x->demanding || x == v) continue;
    double vt = x->vt;
    if (x->st == ST_RUN) vt += x->charge * (double)(now - x->since) / x->vm->shares;
    f = MIN(f, vt);
  }
  if (f == INFINITY) return -INFINITY; /* nobody to compare with: nothing to keep */
  s->floor_at = now;
  s->vt_floor = f;
  return f;
}

/* v (a leaf starting a burst, or a nested hypervisor's vCPU that was given work) wants a CPU. */
static void vc_demand_on(cpu_state *m, cpu_vc *v, sim_time now) {
  cpu_sched *s = v->hv;
  cpu_vm *vm = v->vm;
  g_assert(!v->demanding && !v->on);
  vc_sync(v, now);
  v->demanding = true;
  vm->n_dem++;
  /* A vCPU that comes back from idling must not bring the credit of its idle time: like CFS's
   * min_vruntime, it starts no earlier than the most-behind demanding vCPU, so it gets its fair
   * share from now on instead of monopolising a CPU to catch up. A hypervisor with no more
   * vCPUs than CPUs never compares virtual times (nothing ever waits for a CPU), so it skips
   * this. */
  if (s->nvcpu > s->ncpu) v->vt = MAX(v->vt, sched_vt_floor(s, v, now));
  int st = vc_gate(v, now);
  if (st == ST_RUN) {
    cpu_vc *c = pick_free(s, v);
    if (c) {
      vc_assign(m, v, c, now);
      if (!c->phys) cpu_reconcile(m, c, now);
      if (vm->n_cstp > 0) vm_recheck(m, vm, now);
      return;
    }
    st = ST_RDY;
    if (vm->n > 1 && s->costop == TOPO_COSCHED_STRICT && vm->n_run > 0) {
      /* v's gang is running but v finds no CPU: under strict co-scheduling the whole gang
       * stops (co-stop) rather than run with one member missing; the CPUs it frees go to
       * whoever waits. */
      vc_set_state(v, ST_CSTP, now);
      wait_add(m, s, v, now);
      for (int i = 0; i < vm->n; i++) {
        cpu_vc *x = &vm->vcpus[i];
        if (!x->on) continue;
        cpu_vc *c2 = x->on;
        vc_unassign(m, x, ST_CSTP, now);
        sched_refill(m, s, c2, now);
      }
      return;
    }
  }
  vc_set_state(v, st, now);
  wait_add(m, s, v, now);
}

/* v stops wanting a CPU (a leaf's burst ended; a nested hypervisor left its vCPU empty). */
static void vc_demand_off(cpu_state *m, cpu_vc *v, sim_time now) {
  cpu_sched *s = v->hv;
  cpu_vm *vm = v->vm;
  g_assert(v->demanding);
  vc_sync(v, now);
  v->demanding = false;
  vm->n_dem--;
  if (v->on) {
    cpu_vc *c = v->on;
    vc_unassign(m, v, ST_WAIT, now);
    sched_refill(m, s, c, now);
  } else {
    wait_remove(s, v);
    vc_set_state(v, ST_WAIT, now);
  }
  vm_recheck(m, vm, now);
}

static void sched_refill(cpu_state *m, cpu_sched *s, cpu_vc *c, sim_time now) {
  cpu_vc *w = best_waiting(s, now);
  if (w) {
    vc_assign(m, w, c, now);
    if (w->vm->n_cstp > 0) vm_recheck(m, w->vm, now);
  } else if (!c->phys) {
    cpu_reconcile(m, c, now);
  }
}

/* A nested hypervisor's vCPU c demands a CPU of the layer below exactly while its own
 * scheduler has something assigned to it. */
static void cpu_reconcile(cpu_state *m, cpu_vc *c, sim_time now) {
  bool want = c->runs != NULL;
  if (want && !c->demanding)
    vc_demand_on(m, c, now);
  else if (!want && c->demanding)
    vc_demand_off(m, c, now);
}

/* ---- The scheduler tick ------------------------------------------------------------------- */

/* Settles vm's limit and reservation buckets at a tick (see struct cpu_vm). */
static void vm_budget(cpu_vm *vm, sim_time quantum, sim_time now) {
  double used = 0;
  for (int i = 0; i < vm->n; i++) used += vm->vcpus[i].acc.used;
  double du = used - vm->used_mark, dt = (double)(now - vm->budget_t);
  vm->used_mark = used;
  vm->budget_t = now;
  if (vm->lim_rate >= 0) {
    double cap = vm->lim_rate * (double)quantum;
    vm->lim_credit = MIN(cap, vm->lim_credit + vm->lim_rate * dt - du);
    vm->over_limit = vm->lim_credit <= 0;
  }
  if (vm->res_rate > 0) {
    double cap = vm->res_rate * (double)quantum;
    vm->res_credit = CLAMP(vm->res_credit + vm->res_rate * dt - du, -cap, cap);
  }
}

static int cand_cmp(const void *a, const void *b) {
  const cpu_cand *x = a, *y = b;
  if (x->res != y->res) return y->res - x->res;
  if (x->bucket != y->bucket) return x->bucket < y->bucket ? -1 : 1;
  if (x->rnd != y->rnd) return x->rnd < y->rnd ? -1 : 1;
  return x->v->gidx < y->v->gidx ? -1 : x->v->gidx > y->v->gidx;
}

static int pick_state(int pick) {
  switch (pick) {
  case PICK_SEL: return ST_RUN;
  case PICK_CSTP: return ST_CSTP;
  case PICK_MLMTD: return ST_MLMTD;
  default: return ST_RDY;
  }
}

/* Chooses which demanding vCPUs of s run for the next quantum (v->pick). Proportional share:
 * a VM's shares are split evenly among its vCPUs, and vCPUs are taken by smallest virtual time
 * (charged time / shares), those of VMs below their reservation first; a VM over its limit is
 * not eligible.
 *
 * Virtual times are compared in buckets of one quantum's charge (s->vt_grain), and vCPUs in the
 * same bucket in an order drawn afresh at every tick from the scheduler's stream. A vCPU a
 * whole quantum behind still always wins, so no vCPU's share drifts more than a couple of
 * quanta from its entitlement; but a difference smaller than a quantum decides nothing. Both
 * halves matter for nested results. Compared exactly, the partial quantum every vCPU gets at
 * the start leaves equal CPU-bound vCPUs with fixed sub-quantum offsets forever, so each layer
 * rotates them in a fixed pattern; two layers rotating in fixed patterns that start together
 * stay correlated, and some L2 VMs would then always be given their L1 vCPU just when L0 runs
 * it and others less often — a per-VM bias of several percent that never averages out (the
 * nested tests catch it). Compared by bucket with random ties, every round of a layer is a
 * fresh random order, independent of the other layers', and each L2 VM's progress converges
 * to the product of the layers' shares. Real schedulers are decorrelated by the timing noise
 * of interrupts, exits and I/O; the random order stands for it. */
static void sched_select(cpu_sched *s) {
  int n = 0;
  for (int i = 0; i < s->nvcpu; i++) {
    cpu_vc *v = s->vcpus[i];
    v->pick = PICK_NONE;
    if (!v->demanding) continue;
    if (v->vm->over_limit) {
      v->pick = PICK_MLMTD;
      continue;
    }
    s->cand[n++] = (cpu_cand){.v = v, .res = vm_reserved(v->vm)};
  }
  int left = s->ncpu;
  if (n <= left) {
    /* Everything fits: every gang is whole, every slowest sibling runs. */
    for (int i = 0; i < n; i++) s->cand[i].v->pick = PICK_SEL;
    return;
  }
  for (int i = 0; i < n; i++) {
    cpu_cand *c = &s->cand[i];
    c->bucket = floor(c->v->vt / s->vt_grain);
    c->rnd = (guint32)gsl_rng_get(s->rng);
  }
  qsort(s->cand, (size_t)n, sizeof *s->cand, cand_cmp);
  bool relaxed = s->costop == TOPO_COSCHED_RELAXED, strict = s->costop == TOPO_COSCHED_STRICT;
  if (relaxed) {
    for (int i = 0; i < n; i++) s->cand[i].v->vm->slowest = NULL;
    for (int i = 0; i < n; i++) {
      cpu_vc *v = s->cand[i].v;
      cpu_vm *vm = v->vm;
      if (!vm->slowest || v->lag > vm->slowest->lag ||
          (v->lag == vm->slowest->lag && v->index < vm->slowest->index))
        vm->slowest = v;
    }
  }
  int nd = 0;
  for (int i = 0; i < n && left > 0; i++) {
    cpu_vc *v = s->cand[i].v;
    cpu_vm *vm = v->vm;
    if (v->pick != PICK_NONE) continue;
    if (strict && vm->n_dem > 1) {
      /* The gang goes whole or not at all; if it reached its turn and did not fit, its vCPUs
       * wait as co-stopped (the CPUs left go to smaller VMs further down the order). */
      int pk = vm->n_dem <= left ? PICK_SEL : PICK_CSTP;
      for (int j = 0; j < vm->n; j++)
        if (vm->vcpus[j].demanding) vm->vcpus[j].pick = (uint8_t)pk;
      if (pk == PICK_SEL) left -= vm->n_dem;
      continue;
    }
    if (relaxed && vm->n > 1) {
      cpu_vc *sl = vm->slowest;
      if (sl != v && sl->lag - v->lag > (double)s->skew && sl->pick != PICK_SEL) {
        v->pick = PICK_DEFER;
        s->defer[nd++] = v;
        continue;
      }
    }
    v->pick = PICK_SEL;
    left--;
  }
  /* Leaders that waited for their slowest sibling: co-started if it got a CPU. */
  for (int j = 0; j < nd; j++) {
    cpu_vc *v = s->defer[j];
    if (v->vm->slowest->pick != PICK_SEL)
      v->pick = PICK_CSTP;
    else if (left > 0) {
      v->pick = PICK_SEL;
      left--;
    } else
      v->pick = PICK_NONE;
  }
  if (relaxed)
    for (int i = 0; i < n; i++) {
      cpu_vc *v = s->cand[i].v, *sl = v->vm->slowest;
      if (v->pick == PICK_NONE && v->vm->n > 1 && sl != v && sl->pick != PICK_SEL &&
          sl->lag - v->lag > (double)s->skew)
        v->pick = PICK_CSTP;
    }
}

/* A quantum boundary of s: settle budgets, choose who runs, preempt and place with affinity,
 * then tell the layer below which of s's CPUs now demand. */
static void sched_tick(cpu_state *m, cpu_sched *s, sim_time now) {
  s->last_tick = now;
  if (s->nwait == 0 && !s->has_budgets) return; /* nothing to decide: do not tick again */
  for (int i = 0; i < s->nvcpu; i++)
    if (s->vcpus[i]->demanding) vc_sync(s->vcpus[i], now);
  if (s->has_budgets)
    for (int i = 0; i < s->nvm; i++) vm_budget(s->vms[i], s->quantum, now);
  sched_select(s);

  for (int i = 0; i < s->nvcpu; i++) {
    cpu_vc *v = s->vcpus[i];
    if (v->on && v->pick != PICK_SEL) vc_unassign(m, v, pick_state(v->pick), now);
  }
  for (int i = 0; i < s->nwait; i++) {
    cpu_vc *v = s->wait[i];
    if (v->pick != PICK_SEL) vc_set_state(v, pick_state(v->pick), now);
  }
  for (int i = 0; i < s->nvcpu; i++) {
    cpu_vc *v = s->vcpus[i];
    if (v->pick == PICK_SEL && !v->on && v->last && v->last->free_pos >= 0 &&
        (!s->ht || core_idle(v->last)))
      vc_assign(m, v, v->last, now);
  }
  for (int i = 0; i < s->nvcpu; i++) {
    cpu_vc *v = s->vcpus[i];
    if (v->pick == PICK_SEL && !v->on) vc_assign(m, v, pick_free(s, v), now);
  }
  if (!s->phys) {
    /* CPUs that lost their work first, so that those that gained some find threads free. */
    for (int i = 0; i < s->ncpu; i++)
      if (!s->cpus[i]->runs) cpu_reconcile(m, s->cpus[i], now);
    for (int i = 0; i < s->ncpu; i++)
      if (s->cpus[i]->runs) cpu_reconcile(m, s->cpus[i], now);
  }
  if (s->nwait > 0 || s->has_budgets) sched_arm(m, s, now);
}

/* ---- Workloads ---------------------------------------------------------------------------- */

/* Every workload is a sequence of bursts of work (core-seconds of one bare-metal L0 core)
 * separated by idle gaps of wall time; see topo_workload. */

/* The work of v's next burst (INFINITY: CPU-bound). */
static double burst_work(const cpu_vc *v) {
  const topo_workload *w = v->wl;
  if (w->kind == TOPO_WL_JOB) return w->per_vm ? w->work_s / v->vm->n : w->work_s;
  if (w->util >= 1.0) return INFINITY;
  double mean = w->util * (double)w->period_ns * 1e-9;
  return w->dist == TOPO_DIST_EXP ? gsl_ran_exponential(v->rng, mean) : mean;
}

/* The wall time of v's next idle gap, in seconds. */
static double gap_seconds(const cpu_vc *v) {
  const topo_workload *w = v->wl;
  double mean = (1.0 - w->util) * (double)w->period_ns * 1e-9;
  return w->dist == TOPO_DIST_EXP ? gsl_ran_exponential(v->rng, mean) : mean;
}

static void leaf_start_burst(cpu_state *m, cpu_vc *v, double work, sim_time now) {
  g_assert(v->rate == 0.0);
  v->remaining = work;
  vc_demand_on(m, v, now);
}

static void leaf_wake_at(cpu_state *m, cpu_vc *v, double seconds, sim_time now) {
  sim_time at = ns_ceil(seconds);
  if (at == SIM_TIME_NEVER || at > SIM_TIME_NEVER - now) return;
  v->ev.tag = TAG_WAKE;
  sim_schedule(m->eng, &v->ev, now + at);
}

/* A leaf's burst ended or its idle gap did. */
static void vc_handle(sim_engine *eng, sim_entity *self, sim_event *ev) {
  cpu_vc *v = SIM_CONTAINER_OF(self, cpu_vc, ent);
  cpu_state *m = v->hv->m;
  sim_time now = sim_now(eng);
  if (ev->tag == TAG_WAKE) {
    leaf_start_burst(m, v, burst_work(v), now);
    return;
  }
  vc_sync(v, now);
  if (ev->tag == TAG_EXIT) {
    /* Discrete overheads: the guest reached its next exit, or the exit's handling is done. A
     * rounded-up event time leaves a sub-ns overshoot in to_exit or handling: dropped. */
    v->in_exit = !v->in_exit;
    if (v->in_exit)
      v->handling = v->vm->handle_work;
    else
      v->to_exit = gsl_ran_exponential(v->exit_rng, v->vm->exit_work);
    leaf_schedule(m, v, now);
    return;
  }
  v->remaining = 0.0; /* the event was set for the rounded-up end of the burst */
  vc_demand_off(m, v, now);
  if (v->wl->kind == TOPO_WL_JOB) {
    v->done_at = now;
    if (--v->vm->jobs_left == 0) v->vm->done_at = now;
    return;
  }
  leaf_wake_at(m, v, gap_seconds(v), now);
}

static void sched_handle(sim_engine *eng, sim_entity *self, sim_event *ev) {
  (void)ev;
  cpu_sched *s = SIM_CONTAINER_OF(self, cpu_sched, ent);
  sched_tick(s->m, s, sim_now(eng));
}

static const sim_entity_type vc_type = {.kind = "vcpu", .handle = vc_handle};
static const sim_entity_type sched_type = {.kind = "scheduler", .handle = sched_handle};

/* Starts v's workload at time 0. A cpu workload starts at a random point of its cycle (drawn
 * from the vCPU's own stream), so that VMs started together do not burst in lockstep. */
static void leaf_start(cpu_state *m, cpu_vc *v) {
  const topo_workload *w = v->wl;
  if (!w) return; /* an idle guest */
  if (w->kind == TOPO_WL_JOB) {
    leaf_start_burst(m, v, burst_work(v), 0);
    return;
  }
  if (w->util <= 0.0) return;
  if (w->util >= 1.0) {
    leaf_start_burst(m, v, INFINITY, 0);
    return;
  }
  double period = (double)w->period_ns * 1e-9;
  if (w->dist == TOPO_DIST_FIXED) {
    double u = gsl_rng_uniform(v->rng);
    if (u < w->util)
      leaf_start_burst(m, v, (w->util - u) * period, 0);
    else
      leaf_wake_at(m, v, (1.0 - u) * period, 0);
  } else if (gsl_rng_uniform(v->rng) < w->util) {
    leaf_start_burst(m, v, burst_work(v), 0); /* memoryless: a fresh burst */
  } else {
    leaf_wake_at(m, v, gap_seconds(v), 0);
  }
}

/* ---- Building the model ------------------------------------------------------------------- */

static void collect_vms(GPtrArray *vms, GPtrArray *out) {
  for (guint i = 0; vms && i < vms->len; i++) {
    topo_vm *vm = g_ptr_array_index(vms, i);
    g_ptr_array_add(out, vm);
    collect_vms(vm->vms, out);
  }
}

static bool trace_wanted(GPtrArray *paths, const char *vcpu_path, const char *vm_path) {
  for (guint i = 0; paths && i < paths->len; i++) {
    const char *p = g_ptr_array_index(paths, i);
    if (!strcmp(p, vcpu_path) || !strcmp(p, vm_path)) return true;
    if (g_str_has_suffix(p, "/") && g_str_has_prefix(vcpu_path, p)) return true;
  }
  return false;
}

/* A --trace path that names no vCPU is a typing mistake: refusing it beats an empty
 * trace.csv. The vCPUs' paths are built the way cpu_create builds them. */
static gboolean check_trace_paths(GPtrArray *paths, GPtrArray *vms, GError **error) {
  for (guint i = 0; paths && i < paths->len; i++) {
    const char *p = g_ptr_array_index(paths, i);
    bool found = false;
    for (guint j = 0; j < vms->len && !found; j++) {
      const topo_vm *vm = g_ptr_array_index(vms, j);
      for (int k = 0; k < vm->vcpus && !found; k++) {
        g_autofree char *vcpu = g_strdup_printf("%s/vcpu%d", vm->path, k);
        found = !strcmp(p, vcpu) || !strcmp(p, vm->path) ||
                (g_str_has_suffix(p, "/") && g_str_has_prefix(vcpu, p));
      }
    }
    if (!found) {
      g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                  "--trace '%s': no VM or vCPU has that path (give a VM's path such as "
                  "esx01/vESX1/vm1, a vCPU's such as esx01/vESX1/vm1/vcpu0, or a prefix "
                  "ending in / such as esx01/vESX1/)", p);
      return FALSE;
    }
  }
  return TRUE;
}

static void sched_init(cpu_state *m, cpu_sched *s, const char *path,
                       const topo_hypervisor *hv) {
  s->ent.type = &sched_type;
  sim_event_init(&s->tick, &s->ent, TAG_TICK);
  s->m = m;
  s->path = path;
  s->quantum = hv->quantum_ns;
  s->skew = hv->skew_ns;
  s->costop = hv->costop;
  s->last_tick = -1;
  s->floor_at = -1;
  /* The stream name carries a '#', which no entity path has, so a VM named like the stream
   * cannot share it. */
  g_autofree char *stream = g_strconcat(path, "#sched", NULL);
  s->rng = sim_rng_new(m->run->seed, stream);
  /* Each hypervisor ticks at its own phase in [0, quantum). Real hosts' timers are not
   * synchronised, and in the model equal phases would make every layer decide at the same
   * instants, where the FIFO order of simultaneous events — not the scheduling policy —
   * decides which layer's change is seen first; spread phases keep the layers' decisions
   * independent, as the product of their shares assumes. */
  s->phase = (sim_time)(gsl_rng_uniform(s->rng) * (double)s->quantum);
}

static gboolean check_topology(const topo_scenario *scn, GPtrArray *vms, GError **error) {
  g_autoptr(GString) msg = g_string_new(NULL);
  for (guint i = 0; i < scn->hosts->len; i++) {
    const topo_host *h = g_ptr_array_index(scn->hosts, i);
    if (topo_host_pcpus(h) < 1 || !(h->hz > 0))
      g_string_append_printf(msg, "%s: host '%s': the CPU model needs at least one logical CPU "
                             "and a clock rate > 0\n", h->where, h->name);
    if (!(h->hypervisor && h->hypervisor->quantum_ns > 0))
      g_string_append_printf(msg, "%s: host '%s': the hypervisor needs a quantum > 0\n",
                             h->where, h->name);
  }
  for (guint i = 0; i < vms->len; i++) {
    const topo_vm *vm = g_ptr_array_index(vms, i);
    if (vm->vcpus < 1 || !(vm->shares > 0))
      g_string_append_printf(msg, "%s: vm '%s': the CPU model needs vcpus >= 1 and shares > 0\n",
                             vm->where, vm->name);
    /* ESXi does not power on a VM with more vCPUs than its host has logical CPUs, and under
     * strict co-scheduling such a VM could never run. */
    int cpus = vm->parent ? vm->parent->vcpus : topo_host_pcpus(vm->host);
    if (vm->vcpus > cpus)
      g_string_append_printf(msg, "%s: vm '%s': %d vCPUs, but %s '%s' it runs on has only %d "
                             "CPUs; give it at most %d vCPUs\n", vm->where, vm->name, vm->vcpus,
                             vm->parent ? "the nested host" : "the host",
                             vm->parent ? vm->parent->name : vm->host->name, cpus, cpus);
    if (vm->hypervisor && !(vm->hypervisor->quantum_ns > 0))
      g_string_append_printf(msg, "%s: vm '%s': the hypervisor needs a quantum > 0\n", vm->where,
                             vm->name);
    const topo_workload *w = vm->workload;
    if (w && !vm->hypervisor && w->kind == TOPO_WL_CPU && w->util > 0 && w->util < 1 &&
        w->period_ns <= 0)
      g_string_append_printf(msg, "%s: vm '%s': a cpu workload with 0 < util < 1 needs a "
                             "period > 0\n", w->where, vm->name);
  }
  if (!msg->len) return TRUE;
  g_string_truncate(msg, msg->len - 1);
  g_set_error_literal(error, SCN_ERROR, SCN_ERROR_INPUT, msg->str);
  return FALSE;
}

/* ---- Virtualization overhead (issue 4) ----------------------------------------------------- */

/* Every leaf VM (one with a workload) is slowed by the overhead of its mode and layer
 * (models/virt.h). Only leaves: a nested hypervisor VM's executing time is spent running its
 * guests, whose breakdown already contains the L1 handling of their exits (virt_compute
 * charges it to the L2 VM), so a drag on the hypervisor VM as well would count it twice.
 *
 * Fluid (the default): the breakdown's four fractions become the VM's drags, a steady share
 * of every executing second.
 *
 * Discrete (overhead_mode = "discrete"): each of the guest's exits is an event. While a leaf
 * vCPU executes, guest work runs until its next exit — exponential work between exits, mean
 * 1/lambda bare-metal seconds, drawn from the vCPU's own "#exits" stream — and then the exit's
 * handling is consumed before guest work resumes. The handling of one exit is
 * (1 - g) / (g lambda) of progress (g = the breakdown's guest fraction), so that on average a
 * bare-metal second of work takes 1/g seconds of executing time exactly as in the fluid mode;
 * the handling progresses at the vCPU's rate (hyper-threading and the layers below slow it as
 * they slow the guest: its cost is cycles of the same host), which for a nested exit is L0's
 * part, the reflection and L1's handler: L1's vCPU executes whenever the L2 vCPU does, by
 * construction, so the handler never waits beyond what the L2 vCPU itself waits. lambda is the
 * guest's own exit rate (hardware exits / exit multiplication, per bare-metal second); under
 * binary translation, which has no exits, it is the rate of the events the VMM traps (every
 * profile rate but TLB misses). TLB misses (10^4..10^6 per second) are too frequent to
 * simulate one by one: their extra walk time rides with the exits, so its mean is the fluid
 * one. */
static double trap_rate(const virt_profile *p) {
  return p->syscalls + p->page_faults + p->pt_updates + p->ctx_switches + p->io_exits +
         p->interrupts + p->priv_ops;
}

static void overheads_setup(cpu_state *m) {
  const topo_scenario *scn = m->run->scn;
  static const cpu_drag causes[] = {CPU_DRAG_L0_EXIT, CPU_DRAG_L1_EXIT, CPU_DRAG_PAGE_WALK,
                                    CPU_DRAG_BT};
  for (size_t hi = 0; hi < m->nhost; hi++) {
    cpu_host *h = &m->hosts[hi];
    g_autoptr(GError) err = NULL;
    g_autoptr(virt_cpu) vcpu = virt_cpu_for_host(h->t, &err);
    if (!vcpu)
      g_error("cpu.c: broken invariant: virt_check_scenario accepted host '%s' but its CPU "
              "cannot be built: %s (check virt_cpu_for_host)", h->t->name, err->message);
    for (int k = 0; k < h->vm_count; k++) {
      cpu_vm *vm = &m->vms[h->vm_first + k];
      const topo_vm *t = vm->t;
      if (t->hypervisor || !t->workload) continue;
      virt_profile prof;
      const char *pname = t->workload->profile ? t->workload->profile : "cpu-only";
      if (!virt_profile_preset(pname, &prof, &err))
        g_error("cpu.c: broken invariant: %s: the loader let through %s (check scn.c's "
                "profile names against virt_profile_preset_names)", t->where, err->message);
      /* The scenario's own rates (src/topo.h, topo_workload.rates) replace the preset's. */
      const char *const *fields = virt_profile_field_names();
      for (guint i = 0; t->workload->rates && fields[i]; i++)
        if (!isnan(t->workload->rates[i]) &&
            !virt_profile_set(&prof, fields[i], t->workload->rates[i], &err))
          g_error("cpu.c: broken invariant: %s: the loader let through %s", t->where,
                  err->message);
      g_autofree virt_layer *chain = g_new(virt_layer, t->layer);
      guint n = virt_chain_of(t, chain);
      virt_breakdown b;
      if (!virt_compute(vcpu, h->t->name, chain, n, &prof, &b, &err))
        g_error("cpu.c: broken invariant: virt_check_scenario accepted %s: %s", t->where,
                err->message);
      const double f[] = {b.l0_exit, b.l1_exit, b.page_walk, b.bt};
      double over = 1.0 - b.guest;
      double lambda = b.exit_multiplication > 0
                          ? b.l0_exits_per_s / b.exit_multiplication / b.guest
                          : trap_rate(&prof);
      if (!scn->overhead_discrete || !(over > 0) || !(lambda > 0)) {
        for (int c = 0; c < 4; c++)
          if (f[c] > 0) cpu_set_drag(m, t, causes[c], f[c]);
        continue;
      }
      vm->discrete = true;
      vm->dragged = true;
      vm->exit_work = 1.0 / lambda;
      vm->handle_work = over / (b.guest * lambda);
      for (int c = 0; c < 4; c++) vm->vshare[causes[c]] = f[c] / over;
      for (int i = 0; i < vm->n; i++) {
        cpu_vc *v = &vm->vcpus[i];
        g_autofree char *stream =
            g_strconcat(met_entity_path(m->run->met, v->met), "#exits", NULL);
        v->exit_rng = sim_rng_new(m->run->seed, stream);
        v->to_exit = gsl_ran_exponential(v->exit_rng, vm->exit_work);
      }
    }
  }
}

/* The attribution of a VM's elapsed time over a span (issue 4), in percent of its vCPUs'
 * total time (vCPUs x span), so that the nine values sum to 100 for every VM whatever its
 * size: executing time split into guest work, L0 and L1 exit handling, extra page walks,
 * binary translation and other drags (memory stalls, per-frame network work); then waiting
 * (ready, max-limited, co-stopped at its own hypervisor), descheduled below (its hypervisor
 * counted it running but a layer below did not run it: %RUN - executing time) and idle. A
 * nested hypervisor VM carries no overhead drag of its own, so its "guest work" is the time it
 * spends running its guests (their overheads are theirs). */
static const char *const attr_keys[9] = {
    "attr_guest_pct", "attr_l0_exit_pct", "attr_l1_exit_pct", "attr_page_walk_pct",
    "attr_bt_pct",    "attr_other_pct",   "attr_wait_pct",    "attr_desched_pct",
    "attr_idle_pct"};

static void attr_of(const cpu_vm *vm, const cpu_acc *d, const double *drag_now,
                    const double *drag_then, double span_ns, double out[9]) {
  double k = 100.0 / (span_ns * vm->n), exec = (double)d->exec, dr[CPU_DRAG_N], sum = 0;
  for (int c = 0; c < CPU_DRAG_N; c++) {
    dr[c] = drag_now[c] - drag_then[c];
    sum += dr[c];
  }
  out[0] = (exec - sum) * k;
  for (int c = 0; c <= CPU_DRAG_BT; c++) out[1 + c] = dr[c] * k;
  out[5] = (dr[CPU_DRAG_MEM_STALL] + dr[CPU_DRAG_NET]) * k;
  out[6] = (double)(d->st[ST_RDY] + d->st[ST_MLMTD] + d->st[ST_CSTP]) * k;
  out[7] = ((double)d->st[ST_RUN] - exec) * k;
  out[8] = (double)d->st[ST_WAIT] * k;
}

static void register_columns(cpu_state *m) {
  met_table *t = m->run->met;
  m->col_used = met_column(t, "%USED");
  m->col_run = met_column(t, "%RUN");
  m->col_rdy = met_column(t, "%RDY");
  m->col_mlmtd = met_column(t, "%MLMTD");
  m->col_cstp = met_column(t, "%CSTP");
  m->col_wait = met_column(t, "%WAIT");
  m->col_idle = met_column(t, "%IDLE");
  m->col_util = met_column(t, "%UTIL");
  m->col_exec = met_column(t, "exec_pct");
  m->col_work = met_column(t, "work_s");
  m->col_eff = met_column(t, "effective_pct");
  for (int i = 0; i < 9; i++) m->col_attr[i] = met_column(t, attr_keys[i]);
}

static void *cpu_create(mdl_run *run, GError **error) {
  const topo_scenario *scn = run->scn;
  g_autoptr(GPtrArray) order = g_ptr_array_new();
  size_t nthreads = 0, nvcpus = 0, nsched = scn->hosts->len;
  for (guint i = 0; i < scn->hosts->len; i++) {
    const topo_host *h = g_ptr_array_index(scn->hosts, i);
    nthreads += (size_t)MAX(topo_host_pcpus(h), 0);
    collect_vms(h->vms, order);
  }
  if (!check_topology(scn, order, error)) return NULL;
  if (scn->overheads) {
    /* A VM ESXi would refuse to power on fails the run, every such VM one line (the same
     * check as `nestsim check`, virt_check_scenario). */
    g_autoptr(GPtrArray) errs = g_ptr_array_new_with_free_func(g_free);
    if (!virt_check_scenario(scn, errs, NULL)) {
      g_ptr_array_add(errs, NULL);
      g_autofree char *msg = g_strjoinv("\n", (char **)errs->pdata);
      g_set_error_literal(error, SCN_ERROR, SCN_ERROR_INPUT, msg);
      return NULL;
    }
  }
  if (run->trace && !check_trace_paths(run->trace_paths, order, error)) return NULL;
  for (guint i = 0; i < order->len; i++) {
    const topo_vm *vm = g_ptr_array_index(order, i);
    nvcpus += (size_t)vm->vcpus;
    if (vm->hypervisor) nsched++;
  }

  cpu_state *m = g_new0(cpu_state, 1);
  m->run = run;
  m->eng = run->eng;
  m->ht_factor = CPU_HT_FACTOR;
  m->nvc = nthreads + nvcpus;
  m->vcs = g_new0(cpu_vc, m->nvc);
  m->cold = g_new0(cpu_cold, m->nvc);
  m->nvm = order->len;
  m->vms = g_new0(cpu_vm, m->nvm);
  m->nsched = nsched;
  m->scheds = g_new0(cpu_sched, nsched);
  m->nhost = scn->hosts->len;
  m->hosts = g_new0(cpu_host, m->nhost);
  m->by_topo = g_hash_table_new(NULL, NULL);
  register_columns(m);
  run->cpu = m;

  for (size_t i = 0; i < m->nvc; i++) {
    cpu_vc *v = &m->vcs[i];
    v->gidx = (uint32_t)i;
    v->free_pos = v->wait_pos = -1;
    v->st = ST_WAIT;
    v->done_at = -1;
    v->ent.type = &vc_type;
    sim_event_init(&v->ev, &v->ent, TAG_WAKE);
  }

  /* Hosts, their schedulers and threads. */
  size_t tpos = 0, vpos = nthreads, spos = 0, mpos = 0;
  for (size_t hi = 0; hi < m->nhost; hi++) {
    const topo_host *th = g_ptr_array_index(scn->hosts, hi);
    cpu_host *h = &m->hosts[hi];
    h->t = th;
    h->n = topo_host_pcpus(th);
    h->threads = &m->vcs[tpos];
    h->sched = &m->scheds[spos++];
    h->met = met_entity(run->met, th->path, "host", 0);
    cpu_sched *s = h->sched;
    sched_init(m, s, th->path, th->hypervisor);
    s->phys = true;
    s->ht = th->threads > 1;
    s->ncpu = h->n;
    s->cpus = g_new(cpu_vc *, h->n);
    s->free = g_new(cpu_vc *, h->n);
    for (int i = 0; i < h->n; i++) {
      cpu_vc *t = &h->threads[i];
      int core = i / th->threads;
      t->phys = true;
      t->own = s;
      t->index = i;
      t->sibling = &h->threads[core * th->threads + (i % th->threads + 1) % th->threads];
      s->cpus[i] = t;
      free_add(s, t);
    }
    tpos += (size_t)h->n;

    /* Its VMs, depth-first, each followed by its vCPUs in the metrics table. */
    h->vm_first = (int)mpos;
    g_autoptr(GPtrArray) mine = g_ptr_array_new();
    collect_vms(th->vms, mine);
    h->vm_count = (int)mine->len;
    for (guint k = 0; k < mine->len; k++) {
      const topo_vm *tv = g_ptr_array_index(mine, k);
      cpu_vm *vm = &m->vms[mpos++];
      g_hash_table_insert(m->by_topo, (gpointer)tv, vm);
      vm->t = tv;
      vm->n = tv->vcpus;
      vm->vcpus = &m->vcs[vpos];
      vpos += (size_t)tv->vcpus;
      if (tv->parent) {
        cpu_vm *parent = g_hash_table_lookup(m->by_topo, tv->parent);
        g_assert(parent && parent->own);
        vm->hv = parent->own;
      } else {
        vm->hv = s;
        h->l1_vcpus += tv->vcpus;
      }
      vm->shares = tv->shares / tv->vcpus;
      vm->eff = 1.0;
      vm->done_at = -1;
      vm->jobs_left = vm->n;
      /* Limits and reservations are in Hz of the host's clock at every layer: a nested
       * hypervisor sees its vCPUs as CPUs of the same model. A limit of at least all the VM's
       * vCPUs limits nothing and costs no ticks. */
      double cpus = tv->limit_hz >= 0 ? tv->limit_hz / th->hz : -1.0;
      vm->lim_rate = cpus >= vm->n ? -1.0 : cpus;
      vm->res_rate = MIN(tv->reservation_hz / th->hz, (double)vm->n);
      vm->lim_credit = MAX(vm->lim_rate, 0.0) * (double)vm->hv->quantum;
      vm->res_credit = MAX(vm->res_rate, 0.0) * (double)vm->hv->quantum;
      if (vm->lim_rate >= 0 || vm->res_rate > 0) vm->hv->has_budgets = true;
      vm->met = met_entity(run->met, tv->path, "vm", tv->layer);
      if (tv->hypervisor) {
        vm->own = &m->scheds[spos++];
        sched_init(m, vm->own, tv->path, tv->hypervisor);
        vm->own->ncpu = vm->n;
        vm->own->cpus = g_new(cpu_vc *, vm->n);
        vm->own->free = g_new(cpu_vc *, vm->n);
      }
      for (int i = 0; i < vm->n; i++) {
        cpu_vc *v = &vm->vcpus[i];
        g_autofree char *path = g_strdup_printf("%s/vcpu%d", tv->path, i);
        v->vm = vm;
        v->hv = vm->hv;
        v->own = vm->own;
        v->index = i;
        v->met = met_entity(run->met, path, "vcpu", tv->layer);
        v->traced = run->trace && trace_wanted(run->trace_paths, path, tv->path);
        if (vm->own) {
          vm->own->cpus[i] = v;
          free_add(vm->own, v);
        }
        const topo_workload *w = tv->hypervisor ? NULL : tv->workload;
        v->wl = w;
        if (w && w->kind == TOPO_WL_CPU && w->util > 0 && w->util < 1)
          v->rng = sim_rng_new(run->seed, path);
      }
    }
  }
  g_assert(tpos == nthreads && vpos == m->nvc && spos == nsched && mpos == m->nvm);

  /* Each scheduler's vCPUs and VMs, and its scratch. */
  for (size_t i = 0; i < m->nvm; i++) {
    m->vms[i].hv->nvm++;
    m->vms[i].hv->nvcpu += m->vms[i].n;
  }
  for (size_t i = 0; i < nsched; i++) {
    cpu_sched *s = &m->scheds[i];
    s->vcpus = g_new(cpu_vc *, MAX(s->nvcpu, 1));
    s->wait = g_new(cpu_vc *, MAX(s->nvcpu, 1));
    s->defer = g_new(cpu_vc *, MAX(s->nvcpu, 1));
    s->cand = g_new(cpu_cand, MAX(s->nvcpu, 1));
    s->vms = g_new(cpu_vm *, MAX(s->nvm, 1));
    s->nvcpu = s->nvm = 0;
  }
  for (size_t i = 0; i < m->nvm; i++) {
    cpu_vm *vm = &m->vms[i];
    double grain = (double)vm->hv->quantum / vm->shares;
    if (vm->hv->vt_grain == 0 || grain < vm->hv->vt_grain) vm->hv->vt_grain = grain;
    vm->hv->vms[vm->hv->nvm++] = vm;
    for (int k = 0; k < vm->n; k++) vm->hv->vcpus[vm->hv->nvcpu++] = &vm->vcpus[k];
  }
  for (size_t i = 0; i < nsched; i++)
    if (m->scheds[i].has_budgets) sched_arm(m, &m->scheds[i], 0);
  if (scn->overheads) overheads_setup(m);

  /* Workloads start last, in topology order, so that who gets a CPU first is deterministic.
   * A nested hypervisor VM's demand comes from its own scheduler; a workload given to it as
   * well would have no CPU of its own to run on, so it is not started. */
  for (size_t i = nthreads; i < m->nvc; i++)
    if (vc_leaf(&m->vcs[i])) leaf_start(m, &m->vcs[i]);
  return m;
}

/* ---- Reporting ---------------------------------------------------------------------------- */

static void sync_all(cpu_state *m, sim_time now) {
  for (size_t i = 0; i < m->nvc; i++) vc_sync(&m->vcs[i], now);
}

static void acc_add_delta(cpu_acc *sum, const cpu_acc *a, const cpu_acc *b) {
  for (int s = 0; s < ST_N; s++) sum->st[s] += a->st[s] - b->st[s];
  sum->exec += a->exec - b->exec;
  sum->used += a->used - b->used;
  sum->work += a->work - b->work;
}

/* The values of a vCPU or VM over a span, in esxtop's percentages of the span (VMs: summed
 * over vCPUs, so a 4-vCPU VM can show up to 400%). */
typedef struct cpu_vals {
  double used, run, rdy, mlmtd, cstp, wait, exec, work, eff;
} cpu_vals;

static cpu_vals vals_of(const cpu_acc *d, double span_ns) {
  double k = 100.0 / span_ns;
  return (cpu_vals){
      .used = d->used * k,
      .run = (double)d->st[ST_RUN] * k,
      .rdy = (double)(d->st[ST_RDY] + d->st[ST_MLMTD]) * k,
      .mlmtd = (double)d->st[ST_MLMTD] * k,
      .cstp = (double)d->st[ST_CSTP] * k,
      .wait = (double)d->st[ST_WAIT] * k,
      .exec = (double)d->exec * k,
      .work = d->work,
      .eff = d->work * 1e9 * k,
  };
}

static void row_of(const cpu_state *m, double *row, const cpu_vals *v) {
  row[m->col_used] = v->used;
  row[m->col_run] = v->run;
  row[m->col_rdy] = v->rdy;
  row[m->col_mlmtd] = v->mlmtd;
  row[m->col_cstp] = v->cstp;
  row[m->col_wait] = v->wait;
  row[m->col_idle] = v->wait;
  row[m->col_exec] = v->exec;
  row[m->col_work] = v->work;
  row[m->col_eff] = v->eff;
}

static void row_clear(cpu_state *m) {
  for (guint i = 0; i < m->row_len; i++) m->row[i] = NAN;
}

/* The conservation laws every interval must obey; cheap enough to check always. A failure is
 * a bug in the model, not in the scenario. */
static void check_interval(const cpu_state *m, sim_time since, sim_time now) {
  double span = (double)(now - since);
  for (size_t i = 0; i < m->nsched; i++) {
    const cpu_sched *s = &m->scheds[i];
    int64_t run = 0;
    for (int k = 0; k < s->nvcpu; k++)
      run += s->vcpus[k]->acc.st[ST_RUN] - m->cold[s->vcpus[k]->gidx].prev.st[ST_RUN];
    if ((double)run > s->ncpu * span)
      g_error("cpu.c: broken invariant at %.9f s: the scheduler of %s ran %.9f s of vCPU time on "
              "%d CPUs in %.9f s; some CPU ran two vCPUs at once (check vc_assign/vc_unassign)",
              now * 1e-9, s->path, run * 1e-9, s->ncpu, span * 1e-9);
  }
  for (size_t i = 0; i < m->nhost; i++) {
    const cpu_host *h = &m->hosts[i];
    double busy = 0, work = 0;
    for (int k = 0; k < h->n; k++) {
      const cpu_vc *x = &h->threads[k];
      busy += (double)(x->acc.st[ST_RUN] - m->cold[x->gidx].prev.st[ST_RUN]) * 1e-9;
      work += x->acc.work - m->cold[x->gidx].prev.work;
    }
    if (work > busy * (1 + 1e-9) + 1e-9)
      g_error("cpu.c: broken invariant at %.9f s: host %s did %.9f core-seconds of work with its "
              "threads busy %.9f s; a leaf progressed without a thread under it (check vc_rate "
              "and vc_exec_update)", now * 1e-9, h->t->path, work, busy);
  }
}

static void cpu_sample(void *self, sim_time since, sim_time now) {
  cpu_state *m = self;
  met_table *t = m->run->met;
  if (now <= since) return;
  sync_all(m, now);
  check_interval(m, since, now);
  if (m->row_len != met_n_columns(t)) {
    /* Sized once, at the first sample (other models may add columns after this one). */
    g_free(m->row);
    m->row_len = met_n_columns(t);
    m->row = g_new(double, m->row_len);
  }
  double span = (double)(now - since);
  for (size_t hi = 0; hi < m->nhost; hi++) {
    cpu_host *h = &m->hosts[hi];
    cpu_acc d = {0};
    for (int k = 0; k < h->n; k++)
      acc_add_delta(&d, &h->threads[k].acc, &m->cold[h->threads[k].gidx].prev);
    row_clear(m);
    m->row[m->col_used] = d.used / (h->n * span) * 100.0;
    m->row[m->col_util] = (double)d.st[ST_RUN] / (h->n * span) * 100.0;
    m->row[m->col_work] = d.work;
    m->row[m->col_eff] = d.work * 1e9 / span * 100.0;
    met_row(t, h->met, now, m->row);
    for (int k = 0; k < h->vm_count; k++) {
      cpu_vm *vm = &m->vms[h->vm_first + k];
      cpu_acc sum = {0};
      for (int i = 0; i < vm->n; i++)
        acc_add_delta(&sum, &vm->vcpus[i].acc, &m->cold[vm->vcpus[i].gidx].prev);
      cpu_vals v = vals_of(&sum, span);
      row_clear(m);
      row_of(m, m->row, &v);
      double attr[9];
      attr_of(vm, &sum, vm->drag_ns, vm->drag_prev, span, attr);
      for (int a = 0; a < 9; a++) m->row[m->col_attr[a]] = attr[a];
      memcpy(vm->drag_prev, vm->drag_ns, sizeof vm->drag_prev);
      met_row(t, vm->met, now, m->row);
      for (int i = 0; i < vm->n; i++) {
        cpu_acc one = {0};
        acc_add_delta(&one, &vm->vcpus[i].acc, &m->cold[vm->vcpus[i].gidx].prev);
        cpu_vals vv = vals_of(&one, span);
        row_clear(m);
        row_of(m, m->row, &vv);
        met_row(t, vm->vcpus[i].met, now, m->row);
      }
    }
  }
  for (size_t i = 0; i < m->nvc; i++) m->cold[i].prev = m->vcs[i].acc;
}

static void cpu_reset(void *self, sim_time now) {
  cpu_state *m = self;
  sync_all(m, now);
  for (size_t i = 0; i < m->nvc; i++) m->cold[i].base = m->vcs[i].acc;
  for (size_t i = 0; i < m->nvm; i++)
    memcpy(m->vms[i].drag_base, m->vms[i].drag_ns, sizeof m->vms[i].drag_base);
}

/* The summary keys of a VM or vCPU, in the order the stdout table shows them: what the
 * hypervisor reports first, the truth beside it, then the rest of the breakdown. */
static void set_summary(met_table *t, met_id e, const cpu_vals *v) {
  met_set_num(t, e, "%USED", v->used);
  met_set_num(t, e, "%RDY", v->rdy);
  met_set_num(t, e, "%CSTP", v->cstp);
  met_set_num(t, e, "effective_pct", v->eff);
  met_set_num(t, e, "work_s", v->work);
  met_set_num(t, e, "%RUN", v->run);
  met_set_num(t, e, "%MLMTD", v->mlmtd);
  met_set_num(t, e, "%WAIT", v->wait);
  met_set_num(t, e, "%IDLE", v->wait);
  met_set_num(t, e, "exec_pct", v->exec);
}

/* A job's completion time, or the work it still had at the end of the run. */
static void set_job(met_table *t, met_id e, sim_time done_at, double left) {
  if (done_at >= 0)
    met_set_num(t, e, "completion_s", (double)done_at * 1e-9);
  else
    met_set_num(t, e, "job_left_s", left);
}

static void cpu_finish(void *self, sim_time now) {
  cpu_state *m = self;
  met_table *t = m->run->met;
  sync_all(m, now);
  double span = (double)(now - m->run->warmup);
  if (span <= 0) return;
  for (size_t hi = 0; hi < m->nhost; hi++) {
    cpu_host *h = &m->hosts[hi];
    cpu_acc d = {0};
    for (int k = 0; k < h->n; k++)
      acc_add_delta(&d, &h->threads[k].acc, &m->cold[h->threads[k].gidx].base);
    met_set_num(t, h->met, "pcpus", h->n);
    met_set_num(t, h->met, "vcpus_per_pcpu", (double)h->l1_vcpus / h->n);
    met_set_num(t, h->met, "%UTIL", (double)d.st[ST_RUN] / (h->n * span) * 100.0);
    met_set_num(t, h->met, "%USED", d.used / (h->n * span) * 100.0);
    met_set_num(t, h->met, "work_s", d.work);
    met_set_num(t, h->met, "effective_pct", d.work * 1e9 / span * 100.0);
  }
  for (size_t i = 0; i < m->nvm; i++) {
    cpu_vm *vm = &m->vms[i];
    cpu_acc sum = {0};
    double left = 0;
    for (int k = 0; k < vm->n; k++) {
      cpu_vc *v = &vm->vcpus[k];
      cpu_acc one = {0};
      acc_add_delta(&one, &v->acc, &m->cold[v->gidx].base);
      acc_add_delta(&sum, &v->acc, &m->cold[v->gidx].base);
      cpu_vals vv = vals_of(&one, span);
      set_summary(t, v->met, &vv);
      bool job = !vm->own && vm->t->workload && vm->t->workload->kind == TOPO_WL_JOB;
      if (job) {
        set_job(t, v->met, v->done_at, MAX(v->remaining, 0.0));
        left += v->done_at >= 0 ? 0.0 : MAX(v->remaining, 0.0);
      }
      if (v->traced && v->on) trace_row(m, v, v->on, now); /* still assigned at the end */
    }
    cpu_vals vals = vals_of(&sum, span);
    set_summary(t, vm->met, &vals);
    double attr[9];
    attr_of(vm, &sum, vm->drag_ns, vm->drag_base, span, attr);
    for (int a = 0; a < 9; a++) met_set_num(t, vm->met, attr_keys[a], attr[a]);
    if (!vm->own && vm->t->workload && vm->t->workload->kind == TOPO_WL_JOB)
      set_job(t, vm->met, vm->done_at, left);
    if (vm->dragged)
      for (int c = 0; c < CPU_DRAG_N; c++)
        met_set_num(t, vm->met, drag_keys[c], (vm->drag_ns[c] - vm->drag_base[c]) * 1e-9);
  }
}

static void cpu_destroy(void *self) {
  cpu_state *m = self;
  if (!m) return;
  /* The engine may outlive the model (run.c frees it last) and must not be left holding
   * events that point into freed memory. */
  for (size_t i = 0; i < m->nvc; i++) {
    sim_cancel(m->eng, &m->vcs[i].ev);
    if (m->vcs[i].rng) gsl_rng_free(m->vcs[i].rng);
    if (m->vcs[i].exit_rng) gsl_rng_free(m->vcs[i].exit_rng);
  }
  for (size_t i = 0; i < m->nsched; i++) {
    cpu_sched *s = &m->scheds[i];
    sim_cancel(m->eng, &s->tick);
    if (s->rng) gsl_rng_free(s->rng);
    g_free(s->cpus);
    g_free(s->free);
    g_free(s->vcpus);
    g_free(s->wait);
    g_free(s->defer);
    g_free(s->cand);
    g_free(s->vms);
  }
  if (m->run->cpu == m) m->run->cpu = NULL;
  g_hash_table_unref(m->by_topo);
  g_free(m->row);
  g_free(m->scheds);
  g_free(m->hosts);
  g_free(m->vms);
  g_free(m->vcs);
  g_free(m->cold);
  g_free(m);
}

const mdl_ops cpu_model = {
    .name = "cpu",
    .create = cpu_create,
    .reset = cpu_reset,
    .sample = cpu_sample,
    .finish = cpu_finish,
    .destroy = cpu_destroy,
};

/* ---- What other models use ---------------------------------------------------------------- */

void cpu_set_drag(cpu_state *m, const topo_vm *t, cpu_drag cause, double fraction) {
  g_assert((int)cause >= 0 && cause < CPU_DRAG_N);
  g_assert(fraction >= 0.0 && fraction < 1.0);
  cpu_vm *vm = g_hash_table_lookup(m->by_topo, t);
  g_assert(vm);
  if (vm->drag[cause] == fraction) return;
  sim_time now = now_of(m);
  /* Account the past at the old efficiency, for the VM's vCPUs and every leaf they carry. */
  for (int i = 0; i < vm->n; i++) chain_sync_up(&vm->vcpus[i], now);
  vm->drag[cause] = fraction;
  double sum = 0;
  for (int c = 0; c < CPU_DRAG_N; c++) sum += vm->drag[c];
  vm->eff = 1.0 - MIN(sum, CPU_DRAG_CAP);
  vm->dragged = vm->dragged || fraction > 0;
  for (int i = 0; i < vm->n; i++) {
    cpu_vc *top = chain_top(&vm->vcpus[i]);
    if (vc_leaf(top) && top->exec) leaf_refresh(m, top, now);
  }
}

double cpu_vm_exec_s(cpu_state *m, const topo_vm *t) {
  const cpu_vm *vm = g_hash_table_lookup(m->by_topo, t);
  g_assert(vm);
  sim_time now = now_of(m);
  double ns = 0;
  for (int i = 0; i < vm->n; i++) {
    const cpu_vc *v = &vm->vcpus[i];
    ns += (double)v->acc.exec + (v->exec ? (double)(now - v->since) : 0.0);
  }
  return ns * 1e-9;
}
