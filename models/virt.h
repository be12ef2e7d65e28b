/* virt.h — the fluid model of virtualization overhead: from a host CPU's costs, a VM's chain of
 * hypervisors (each layer's CPU/MMU mode and whether it exposes hardware virtualization) and a
 * workload's event rates, how one second of the VM's executing time splits into guest work, L0
 * exit handling, nested-hypervisor exit handling, extra page-walk time and binary translation.
 *
 * Everything here is a pure function of its arguments: no engine, no global state except
 * constant preset tables; only the last section reads a topology (src/topo.h). The CPU model
 * calls it once per leaf VM when it is built and turns the fractions into drags (models/cpu.h,
 * cpu_set_drag); the CPU model and `nestsim check` both call virt_check_scenario to reject a
 * configuration that ESXi would refuse to power on, with the fix in the message.
 *
 * Units: costs are CPU cycles of the physical host; rates are events per second of bare-metal
 * execution of one vCPU's workload on that host. Every default number, its source and the
 * conditions it was measured under are in models/virt.c next to the preset tables, and in the
 * table of /work/notes/virt-sources.md (README "Virtualization overhead"). */
#ifndef NESTSIM_MODELS_VIRT_H
#define NESTSIM_MODELS_VIRT_H

#include <glib.h>

#include "src/topo.h"

/* ------------------------------------------------------------------------------------------
 * Errors: every bad input comes back as a GError in this domain; the message names the
 * object and says what to change. */
#define VIRT_ERROR (virt_error_quark())
GQuark virt_error_quark(void);

typedef enum {
  VIRT_ERROR_UNKNOWN_MODEL,    /* no CPU preset by that name */
  VIRT_ERROR_UNKNOWN_PARAM,    /* no CPU parameter / profile field by that name */
  VIRT_ERROR_UNKNOWN_PROFILE,  /* no workload profile preset by that name */
  VIRT_ERROR_INVALID_VALUE,    /* a value out of its range, or parameters inconsistent */
  VIRT_ERROR_CANNOT_POWER_ON,  /* the VM could not run in this chain (ESXi refuses it) */
  VIRT_ERROR_UNSUPPORTED       /* a combination the hypervisor does not allow */
} virt_error_code;

/* ------------------------------------------------------------------------------------------
 * CPU/MMU virtualization modes: vSphere's "CPU/MMU Virtualization" setting. The order matches
 * topo_cpu_mmu (src/topo.h) so that the loader may convert with a cast. */
typedef enum {
  VIRT_MODE_AUTOMATIC,  /* the hypervisor chooses from the CPU's features and the guest */
  VIRT_MODE_SOFTWARE,   /* binary translation + shadow page tables ("BT") */
  VIRT_MODE_HW_CPU,     /* VT-x/AMD-V + shadow page tables ("HV") */
  VIRT_MODE_HARDWARE    /* VT-x/AMD-V + EPT/RVI ("HWMMU") */
} virt_mode;

/* "automatic", "software", "hw-cpu", "hardware". Static string. */
const char *virt_mode_name(virt_mode mode);
/* Parses one of the names above into *out. FALSE with VIRT_ERROR_INVALID_VALUE otherwise. */
gboolean virt_mode_parse(const char *name, virt_mode *out, GError **error);

/* ------------------------------------------------------------------------------------------
 * Host CPU: a preset (one CPU generation) whose every cost can be overridden by name, so that a
 * scenario's  host { cpu = { model = "westmere", exit_cycles = 1200 } }  becomes
 * virt_cpu_new("westmere") then virt_cpu_set(cpu, "exit_cycles", 1200). Booleans (vt, ept,
 * vmcs_shadowing, auto_bt_32bit) are parameters with the values 0 and 1. */
typedef struct virt_cpu virt_cpu;

/* The canonical preset names, oldest first, NULL-terminated: "p4-2006", "core2-2008",
 * "westmere-2010", "skylake-2015". Static. */
const char *const *virt_cpu_preset_names(void);
/* Aliases accepted by virt_cpu_new besides the canonical names ("penryn", "westmere",
 * "recent", ...), NULL-terminated pairs {alias, canonical, alias, canonical, ..., NULL}. */
const char *const *virt_cpu_preset_aliases(void);
/* The preset used when a scenario names no model. Static. */
const char *virt_cpu_default_preset(void);
/* Every parameter name virt_cpu_set accepts, NULL-terminated, in table order. Static. */
const char *const *virt_cpu_param_names(void);

/* A CPU with the preset's values (a canonical name or an alias, case-insensitive).
 * transfer full; NULL with VIRT_ERROR_UNKNOWN_MODEL naming the known presets. */
virt_cpu *virt_cpu_new(const char *model, GError **error);
/* transfer full: an independent copy. */
virt_cpu *virt_cpu_copy(const virt_cpu *cpu);
void virt_cpu_free(virt_cpu *cpu);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virt_cpu, virt_cpu_free)

/* Overrides one parameter. FALSE with VIRT_ERROR_UNKNOWN_PARAM (naming the known parameters)
 * or VIRT_ERROR_INVALID_VALUE (negative cost, boolean not 0/1, ghz <= 0); *cpu is unchanged
 * then. The source of an overridden value becomes "scenario override". */
gboolean virt_cpu_set(virt_cpu *cpu, const char *name, double value, GError **error);
/* The current value of a parameter; `name` must be one of virt_cpu_param_names() (a
 * programmer error otherwise). */
double virt_cpu_get(const virt_cpu *cpu, const char *name);
/* Where the current value comes from (paper, table, year, or "assumption: ..."), and what the
 * parameter means. Static strings; `name` as for virt_cpu_get. */
const char *virt_cpu_param_source(const virt_cpu *cpu, const char *name);
const char *virt_cpu_param_doc(const char *name);
/* The canonical preset name this CPU started from. Static. */
const char *virt_cpu_model(const virt_cpu *cpu);
/* Checks the parameters against each other after all overrides (for example a per-event
 * hardware cost below one exit round trip, EPT without VT-x). FALSE with
 * VIRT_ERROR_INVALID_VALUE naming the parameters. virt_compute calls it too. */
gboolean virt_cpu_check(const virt_cpu *cpu, GError **error);

/* ------------------------------------------------------------------------------------------
 * Workload profiles: rates per second of bare-metal execution, per vCPU. Plain data. */
typedef struct virt_profile {
  double syscalls;      /* system calls */
  double page_faults;   /* page faults the VMM intercepts under shadow paging (true + hidden) */
  double pt_updates;    /* writes to guest page-table entries (traced under shadow paging) */
  double ctx_switches;  /* address-space switches (CR3 loads) */
  double tlb_misses;    /* TLB misses that walk the page tables */
  double io_exits;      /* accesses to virtual devices (port I/O, MMIO, paravirtual kicks) */
  double interrupts;    /* external interrupts and timer ticks delivered to the guest */
  double priv_ops;      /* other privileged instructions that exit under VT-x (CPUID, MSRs) */
} virt_profile;

/* "idle", "cpu-only", "kernbench", "specjbb", "netperf", "forkwait", NULL-terminated. Static. */
const char *const *virt_profile_preset_names(void);
/* The field names virt_profile_set accepts ("syscalls", ... "priv_ops"), NULL-terminated. */
const char *const *virt_profile_field_names(void);
/* Fills *out with a preset. FALSE with VIRT_ERROR_UNKNOWN_PROFILE naming the presets. */
gboolean virt_profile_preset(const char *name, virt_profile *out, GError **error);
/* Where a preset's numbers come from; `name` must be a preset name. Static. */
const char *virt_profile_source(const char *name);
/* Sets one field (a scenario's override of a preset). FALSE with VIRT_ERROR_UNKNOWN_PARAM or
 * VIRT_ERROR_INVALID_VALUE (negative rate). */
gboolean virt_profile_set(virt_profile *profile, const char *field, double value,
                          GError **error);

/* ------------------------------------------------------------------------------------------
 * The chain of a VM: chain[0] is the VM on the physical host (layer 1), chain[i] runs on the
 * hypervisor inside chain[i-1], and chain[n-1] is the VM whose overhead is wanted (layer n).
 * Every layer but the last must run a hypervisor. Strings are borrowed for the call. */
typedef struct virt_layer {
  const char *vm_name;       /* for messages */
  virt_mode mode;            /* requested cpu_mmu */
  gboolean guest_64bit;      /* a nested ESXi (5.x and later) is a 64-bit guest */
  gboolean runs_hypervisor;  /* its guests are the next layer */
  gboolean expose_hw_virt;   /* "Expose hardware assisted virtualization to the guest OS" */
} virt_layer;

/* Resolves every layer's mode as ESXi's monitor would (the rule and its sources are in
 * virt.c, virt_resolve): `automatic` from the features of the CPU that layer sees and its
 * guest; an explicit mode the CPU cannot provide falls back, with a note appended to `notes`
 * (char*, transfer full, may be NULL: notes dropped). resolved: OUT, n entries.
 * FALSE with VIRT_ERROR_CANNOT_POWER_ON when a layer cannot run — a 64-bit guest (a nested
 * ESXi included) where only binary translation is available — naming the VM, the hypervisor VM
 * below it and the fix; VIRT_ERROR_UNSUPPORTED when expose_hw_virt is set on a VM whose own
 * CPU lacks VT-x and EPT. `host_name` is for messages. */
gboolean virt_resolve(const virt_cpu *cpu, const char *host_name, const virt_layer *chain,
                      guint n, virt_mode *resolved, GPtrArray *notes, GError **error);

/* ------------------------------------------------------------------------------------------
 * The result: one second of the VM's executing time (time its vCPU holds a physical CPU with
 * every layer below running it) split by cause. The five fractions sum to 1. */
typedef struct virt_breakdown {
  double guest;            /* the guest's own work: efficiency */
  double l0_exit;          /* hardware exits and the L0 hypervisor's handling of them */
  double l1_exit;          /* exit handlers running in nested hypervisors (L1 and up) */
  double page_walk;        /* extra TLB-miss page-walk time of 2D (EPT) walks */
  double bt;               /* binary translation and its software MMU */
  double efficiency;       /* == guest */
  double slowdown;         /* executing seconds per bare-metal second, 1 / efficiency */
  double l0_exits_per_s;   /* hardware VM exits per second of executing time */
  double exit_multiplication; /* hardware exits per exit of the VM's own guest; 1 at layer 1,
                                 0 when the VM's guest exits nothing (BT, idle) */
  virt_mode mode;          /* the VM's resolved mode */
  int layer;               /* n */
} virt_breakdown;

/* Resolves the chain (as virt_resolve) and computes the breakdown for chain[n-1] running
 * `profile`. out: OUT. FALSE with the errors of virt_cpu_check and virt_resolve. */
gboolean virt_compute(const virt_cpu *cpu, const char *host_name, const virt_layer *chain,
                      guint n, const virt_profile *profile, virt_breakdown *out,
                      GError **error);

/* The same from already resolved modes (modes[i] for chain layer i+1; no AUTOMATIC, and a
 * combination virt_resolve could return). Cannot fail on valid input: a programmer error
 * otherwise. out: OUT. */
void virt_compute_resolved(const virt_cpu *cpu, const virt_mode *modes, guint n,
                           const virt_profile *profile, virt_breakdown *out);

/* ------------------------------------------------------------------------------------------
 * Scenarios (issue 4): the bridge from a loaded topology to the functions above, shared by the
 * CPU model (which turns breakdowns into drags) and `nestsim check` (which reports the
 * configuration pitfalls), so that both see the same errors from one code path. */

/* The CPU of host h as the model sees it: the preset h->cpu_model (the default when NULL), its
 * vt / ept / vmcs_shadowing when the scenario set them, ghz = the host's clock, then every
 * numeric override of h->cpu_overrides. transfer full; NULL with a VIRT_ERROR naming the host
 * (a bad name or value the loader let through, or parameters inconsistent after overrides). */
virt_cpu *virt_cpu_for_host(const topo_host *h, GError **error);

/* The chain of vm, L1 first (virt_layer above). out: OUT, vm->layer entries whose strings
 * borrow from the topology. Returns vm->layer. */
guint virt_chain_of(const topo_vm *vm, virt_layer *out);

/* Checks every VM of scn as ESXi would before powering it on: a CPU that cannot be built, a VM
 * that cannot power on (a 64-bit guest or nested ESXi where only binary translation is
 * available) or an unsupported expose_hw_virt become one line each in `errors` ("FILE:LINE:
 * message", char*, transfer full), with the fix in the message; virt_resolve's notes (a
 * requested mode the CPU cannot give) become lines "FILE:LINE: warning: note" in `warnings`
 * (may be NULL). A VM under a
 * hypervisor VM that already failed is not reported again. TRUE when no error was added. */
gboolean virt_check_scenario(const topo_scenario *scn, GPtrArray *errors, GPtrArray *warnings);

#endif
