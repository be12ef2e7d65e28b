/* cpu.h — the CPU model: hardware threads, a proportional-share scheduler in the hypervisor of
 * every layer, vCPUs that progress only while every layer below runs them, and the workloads
 * that keep them busy; reported as each hypervisor's esxtop would, beside what really
 * happened. */
#ifndef NESTSIM_MODELS_CPU_H
#define NESTSIM_MODELS_CPU_H

#include "models/model.h"

extern const mdl_ops cpu_model;

/* The state cpu_model.create returns; other models reach it as mdl_run.cpu. */
typedef struct cpu_state cpu_state;

/* Causes of executing time that is not guest progress. A model that knows a cause (the
 * virtualization overhead of a VM's mode and layer, memory stalls, per-frame network work)
 * reports the fraction of the VM's executing time it takes; the CPU model slows the VM's
 * vCPUs by the sum of its drags and attributes their executing time by cause. */
typedef enum {
  CPU_DRAG_L0_EXIT,    /* exit handling by the L0 hypervisor */
  CPU_DRAG_L1_EXIT,    /* exit handling by nested hypervisors (L1 and up) */
  CPU_DRAG_PAGE_WALK,  /* extra TLB-miss page-walk time (2D walks, shadow paging) */
  CPU_DRAG_BT,         /* binary translation */
  CPU_DRAG_MEM_STALL,  /* waiting for swapped or compressed pages */
  CPU_DRAG_NET,        /* per-frame work: receiving, emulated NIC exits, discarding floods */
  CPU_DRAG_N
} cpu_drag;

/* Sets the fraction in [0, 1) of `vm`'s executing time that `cause` takes from now on (the sum
 * over causes is capped below 1). Cheap; may be called from any model's event handler. */
void cpu_set_drag(cpu_state *cpu, const topo_vm *vm, cpu_drag cause, double fraction);

/* Seconds that `vm`'s vCPUs have really executed (all layers below running them) since the run
 * started, summed over its vCPUs: what per-event costs scale with. */
double cpu_vm_exec_s(cpu_state *cpu, const topo_vm *vm);

#endif
