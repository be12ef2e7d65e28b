/* cpu.h — the CPU model: hardware threads, a proportional-share scheduler in the hypervisor of
 * every layer, vCPUs that progress only while every layer below runs them, and the workloads
 * that keep them busy; reported as each hypervisor's esxtop would, beside what really
 * happened. */
#ifndef NESTSIM_MODELS_CPU_H
#define NESTSIM_MODELS_CPU_H

#include "models/model.h"

extern const mdl_ops cpu_model;

#endif
