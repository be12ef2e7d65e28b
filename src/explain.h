/* explain.h — `nestsim explain`: why one VM runs at the speed it does, in words and numbers:
 * the chain of layers under it, its share at each, and where its time went, by cause. */
#ifndef NESTSIM_SRC_EXPLAIN_H
#define NESTSIM_SRC_EXPLAIN_H

#include <glib.h>

#include "src/topo.h"

/* The command: argv[0] is "nestsim explain". Returns the exit status (0; 1 the run failed; 2
 * bad input: usage, a scenario error, or a VM name that is unknown or ambiguous). */
int xpl_main(int argc, char **argv);

#define XPL_ERROR (xpl_error_quark())
GQuark xpl_error_quark(void);
typedef enum {
  XPL_ERROR_UNKNOWN_VM,   /* no VM by that path or name; the message lists the VMs */
  XPL_ERROR_AMBIGUOUS_VM  /* several VMs end with that name; the message lists them */
} xpl_error_code;

/* The explanation is plain data, like the topology: a read-only report that the text and JSON
 * writers and the tests walk; accessors would hide nothing. Every number in it comes from the
 * run (the metrics table) or from the scenario and the model's parameters. */

/* One scheduling level of the chain: `vm` as one of the VMs its hypervisor (`scheduler`)
 * shares `cpus` CPUs among. Percentages are sums over the VM's vCPUs, as esxtop shows them. */
typedef struct xpl_level {
  char *vm;                 /* the VM's path */
  char *scheduler;          /* the path of what runs its hypervisor: a host or a VM */
  int layer;                /* the VM's layer (1: on the physical host) */
  int vcpus;
  int cpus;                 /* CPUs of the scheduler: logical threads or a nested host's vCPUs */
  int siblings;             /* VMs on that scheduler, this one included */
  double shares;            /* the VM's shares and the total of all VMs on the scheduler */
  double all_shares;
  double reservation_cpus;  /* 0: none */
  double limit_cpus;        /* < 0: none */
  /* Fair share from the scenario alone: each VM's demand (a leaf: util x vCPUs; a nested host:
   * its guests' demands, at most its vCPUs), capped by vCPUs and limit, floored by its
   * reservation, and the scheduler's CPUs divided by shares among the VMs that want more
   * (water-filling). Overheads and co-scheduling are ignored: this is the share the settings
   * promise, to compare with what it measured. */
  double demand_cpus;
  double all_demand_cpus;
  double entitled_cpus;
  /* Measured over the run after warm-up, as this VM's hypervisor reports it. */
  double run_pct, rdy_pct, cstp_pct, mlmtd_pct; /* %RDY includes %MLMTD, as in esxtop */
  double got_frac;          /* %RUN / (%RUN + %RDY + %CSTP); NAN when it never asked */
} xpl_level;

/* One cause of the VM's elapsed vCPU time (vCPUs x run length). The causes together cover all
 * of it: pct_time sums to 100 over every cause, pct_busy to 100 over every cause but idle. */
typedef struct xpl_cause {
  const char *key;          /* "work", "slow_exec", "l0_exit", ... "idle"; static */
  const char *label;        /* static */
  double seconds;           /* vCPU-seconds */
  double pct_time;          /* of vCPUs x run length */
  double pct_busy;          /* of the time it wanted a CPU (all but idle); NAN for idle */
  gboolean lost;            /* time that did not become guest progress although it was busy */
} xpl_cause;

/* A model parameter behind the overhead figures, with where its value comes from. */
typedef struct xpl_param {
  const char *name;         /* static */
  double value;
  const char *source;       /* static (models/virt.c) */
} xpl_param;

typedef struct xpl_result {
  char *scenario;
  guint64 seed;
  double span_s;            /* run length after warm-up */
  double warmup_s;
  char *vm;                 /* the VM's path */
  char *name;
  int layer;
  int vcpus;
  gboolean hypervisor;      /* the VM is a nested host: its "work" is its guests' */
  char *workload;           /* in words: "each vCPU busy 0.6 of the time ...", "idle", ... */
  gboolean workload_set;    /* the VM has a workload of its own */
  double demand_cores;      /* bare-metal cores it asks for (scenario); 0 for an idle VM */
  double got_cores;         /* bare-metal cores of progress it got: effective_pct / 100 */
  double completion_s;      /* a job's completion time; NAN otherwise or when not done */
  double busy_s;            /* vCPU-seconds it wanted a CPU */
  double slow_chain_est_s;  /* of the "slow_exec" cause, an estimate of what the nested hosts'
                             * own drags took (the rest is hyper-threading); 0 at layer 1 */
  GArray *levels;           /* xpl_level: the VM's own hypervisor first, the host's last */
  GArray *causes;           /* xpl_cause, in a fixed order */
  /* The physical host at the bottom. */
  char *host;
  char *host_cpu;           /* "1 socket x 8 cores x 2 threads, 2.6 GHz" */
  int host_threads;         /* threads per core */
  double host_util_pct;     /* %UTIL: its threads' busy time */
  /* The static model of the overheads (models/virt.h) for a leaf VM with overheads on;
   * overheads FALSE otherwise and the fields below are unset. */
  gboolean overheads;
  char *cpu_model;          /* the host's CPU preset */
  char *profile;            /* the workload profile */
  const char *profile_source;
  GPtrArray *modes;         /* char*: "vESX1 hardware", one per layer, L1 first */
  double exit_multiplication;
  double l0_exits_per_s;
  double frac[5];           /* guest, l0_exit, l1_exit, page_walk, bt: of executing time */
  double rates[8];          /* the profile's event rates per bare-metal second, in
                             * virt_profile_field_names() order (scenario overrides applied) */
  GArray *params;           /* xpl_param */
  char *summary;            /* the one-line answer */
} xpl_result;

/* Finds `vm` in scn — a full path ("esx01/vESX1/vm1"), a path's tail on a '/' boundary
 * ("vESX1/vm1") or a unique name ("vm1") — runs scn as it stands (seed, duration), and
 * explains the VM. transfer full; NULL with XPL_ERROR (unknown or ambiguous VM, with the
 * candidates in the message) or the run's error. */
xpl_result *xpl_explain(const topo_scenario *scn, const char *vm, GError **error);
void xpl_result_free(xpl_result *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xpl_result, xpl_result_free)

/* Append the explanation as plain text, or as one JSON object (same numbers). */
void xpl_format_text(const xpl_result *r, GString *out);
void xpl_format_json(const xpl_result *r, GString *out);

#endif
