/* virt.c — the fluid model of virtualization overhead (see virt.h).
 *
 * The model in one paragraph. A workload is a set of event rates per second of bare-metal
 * execution. Each event costs extra cycles that depend on the VM's resolved CPU/MMU mode and
 * on its layer: under binary translation the VMM's translated code handles it in software;
 * under VT-x it is a VM exit (one hardware round trip plus a handler); for a VM at layer k >= 2
 * every exit goes to L0, is reflected to the hypervisor at layer k-1, whose handler runs inside
 * a VM and itself exits to L0 for each VMREAD/VMWRITE (unless VMCS shadowing) and for its
 * VMRESUME: one guest exit becomes many hardware exits (exit multiplication, Ben-Yehuda et al.,
 * "The Turtles Project", OSDI 2010, §3.2). With EPT a TLB miss walks two dimensions of page
 * tables, up to 24 memory references instead of 4 (Bhargava et al., ASPLOS 2008). Summing
 * rate x cost over events gives the extra seconds per bare-metal second; one executing second
 * is then split in proportion. It is linear in the rates, so it is cheap and exact to test.
 *
 * Honesty about the numbers. Every preset value below carries a source string: a published
 * measurement (paper, section or table, year, machine), a calibration (named target figure), or
 * "assumption:" with the reasoning. The README table (/work/notes/virt-sources.md) lists them,
 * and tests/test-virt.c says which validation figures were used to calibrate (and so are not
 * independent) and which are predictions. */
#include "models/virt.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK(virt-error-quark, virt_error)

/* ========================================================================================== */
/* Modes                                                                                      */

static const char *const mode_names[] = {"automatic", "software", "hw-cpu", "hardware"};

const char *virt_mode_name(virt_mode mode)
{
  g_assert((guint)mode < G_N_ELEMENTS(mode_names));
  return mode_names[mode];
}

gboolean virt_mode_parse(const char *name, virt_mode *out, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS(mode_names); i++) {
    if (g_ascii_strcasecmp(name, mode_names[i]) == 0) {
      *out = (virt_mode)i;
      return TRUE;
    }
  }
  g_set_error(error, VIRT_ERROR, VIRT_ERROR_INVALID_VALUE,
              "unknown cpu_mmu mode '%s' (known: automatic, software, hw-cpu, hardware)", name);
  return FALSE;
}

static gboolean mode_is_hw(virt_mode m)
{
  return m == VIRT_MODE_HW_CPU || m == VIRT_MODE_HARDWARE;
}

/* ========================================================================================== */
/* CPU parameters                                                                             */

typedef enum {
  P_GHZ,
  P_VT,
  P_EPT,
  P_VMCS_SHADOWING,
  P_AUTO_BT_32BIT,
  P_EXIT,
  P_HW_PF,
  P_HW_PTU,
  P_HW_CTXSW,
  P_HW_IO,
  P_HW_INTR,
  P_HW_PRIV,
  P_BT_SYSCALL,
  P_BT_PF,
  P_BT_PTU,
  P_BT_CTXSW,
  P_BT_IO,
  P_BT_INTR,
  P_BT_PRIV,
  P_WALK_NATIVE,
  P_WALK_2D,
  P_WALK_REF,
  P_VMCS_ACC,
  P_VMCS_ACC_CYC,
  P_NESTED_SWITCH,
  P_BACKEND_IO,
  P_N
} param_id;

typedef enum { K_COST, K_BOOL, K_POSITIVE } param_kind;

typedef struct {
  const char *name;
  param_kind kind;
  const char *doc;
} param_info;

/* Names are what a scenario writes inside host { cpu = { ... } }; keep them stable. */
static const param_info params[P_N] = {
  [P_GHZ] = {"ghz", K_POSITIVE,
             "clock rate in GHz that converts cycles to seconds (the loader passes the host's)"},
  [P_VT] = {"vt", K_BOOL, "VT-x/AMD-V present and enabled (1) or not (0)"},
  [P_EPT] = {"ept", K_BOOL, "EPT/RVI (hardware MMU virtualization) present (1) or not (0)"},
  [P_VMCS_SHADOWING] = {"vmcs_shadowing", K_BOOL,
                        "VMCS shadowing: an L1 hypervisor's VMREAD/VMWRITE do not exit (1)"},
  [P_AUTO_BT_32BIT] = {"auto_bt_32bit", K_BOOL,
                       "ESX's automatic mode prefers binary translation for 32-bit guests on "
                       "this CPU when it has no EPT (1)"},
  [P_EXIT] = {"exit_cycles", K_COST, "VM exit + VM entry hardware round trip, cycles"},
  [P_HW_PF] = {"hw_pf_cycles", K_COST,
               "extra cycles per page fault under VT-x + shadow paging (one exit included)"},
  [P_HW_PTU] = {"hw_ptu_cycles", K_COST,
                "extra cycles per traced guest PTE write under VT-x + shadow paging"},
  [P_HW_CTXSW] = {"hw_ctxsw_cycles", K_COST,
                  "extra cycles per CR3 load under VT-x + shadow paging"},
  [P_HW_IO] = {"hw_io_cycles", K_COST,
               "extra cycles per virtual-device access under VT-x (exit + device emulation)"},
  [P_HW_INTR] = {"hw_intr_cycles", K_COST,
                 "extra cycles per interrupt delivered under VT-x (exit + injection)"},
  [P_HW_PRIV] = {"hw_priv_cycles", K_COST,
                 "extra cycles per other exiting privileged instruction under VT-x"},
  [P_BT_SYSCALL] = {"bt_syscall_cycles", K_COST, "extra cycles per system call under BT"},
  [P_BT_PF] = {"bt_pf_cycles", K_COST, "extra cycles per page fault under BT + shadow paging"},
  [P_BT_PTU] = {"bt_ptu_cycles", K_COST, "extra cycles per traced PTE write under BT"},
  [P_BT_CTXSW] = {"bt_ctxsw_cycles", K_COST, "extra cycles per CR3 load under BT"},
  [P_BT_IO] = {"bt_io_cycles", K_COST, "extra cycles per virtual-device access under BT"},
  [P_BT_INTR] = {"bt_intr_cycles", K_COST, "extra cycles per interrupt delivered under BT"},
  [P_BT_PRIV] = {"bt_priv_cycles", K_COST,
                 "extra cycles per privileged instruction under BT (translated in place)"},
  [P_WALK_NATIVE] = {"walk_refs_native", K_COST,
                     "memory references of a native 4-level page walk"},
  [P_WALK_2D] = {"walk_refs_2d", K_COST,
                 "memory references of a 2D walk (4-level guest tables under 4-level EPT)"},
  [P_WALK_REF] = {"walk_ref_cycles", K_COST,
                  "average cycles per extra page-walk reference (most hit caches/PWCs)"},
  [P_VMCS_ACC] = {"vmcs_accesses_per_exit", K_COST,
                  "VMREAD/VMWRITE a nested hypervisor's exit handler executes per exit"},
  [P_VMCS_ACC_CYC] = {"vmcs_access_cycles", K_COST,
                      "L0 software cycles to emulate one trapped VMREAD/VMWRITE (no transition)"},
  [P_NESTED_SWITCH] = {"nested_switch_cycles", K_COST,
                       "L0 software cycles per nested exit: reflect it into the L1 VMCS and "
                       "merge the VMCSs on L1's VMRESUME"},
  [P_BACKEND_IO] = {"backend_exits_per_io", K_COST,
                    "accesses a nested hypervisor's device backend makes to its own virtual "
                    "device per guest I/O exit (0: multi-level device assignment)"},
};

/* ---- Sources. One string per distinct origin, so the README table and the code agree. ---- */

#define SRC_AA "Adams & Agesen, ASPLOS 2006, sec. 6 nanobenchmarks (Fig. 4): "
#define SRC_AA_HOST \
  "Adams & Agesen 2006 hardware-VMM testbed, a VT-x Pentium 4 (672, 3.8 GHz: model and " \
  "clock as we recall the paper; not re-read in this session)"
#define SRC_SPLITX \
  "Landau, Ben-Yehuda & Gordon, SplitX, 2011, sec. 1: direct cost of one exit 2,000 cycles " \
  "(Xeon X5570 2.93 GHz, KVM 2.6.34, EPT+VPID)"
#define SRC_X5570 "SplitX 2011 testbed clock (Xeon X5570, Nehalem-EP 2.93 GHz)"
#define SRC_ESX40 \
  "VMware, 'Virtual Machine Monitor Execution Modes in VMware vSphere 4.0' (2009), monitor " \
  "defaults table, Intel columns"
#define SRC_CHRONO \
  "VT-x on Pentium 4 662/672 (2005), EPT with Nehalem (2008), VMCS shadowing with Haswell " \
  "(2013): Intel product history"
#define SRC_BHARGAVA \
  "Bhargava et al., ASPLOS 2008: a 2D walk of 4-level guest and nested tables takes up to 24 " \
  "references (4 natively)"
#define ASSUME_WALKREF \
  "assumption: most of the 20 extra references hit page-walk caches or L1/L2 (Bhargava 2008 " \
  "shows PWCs remove most of their cost); 10 cycles average, not measured"
#define ASSUME_H \
  "assumption: exit_cycles + handler; handlers (software path lengths) taken equal across " \
  "generations: page fault 3000 (~ the BT VMM's software fault path, 2834 extra cycles in " \
  "Adams & Agesen 2006), PTE write 3000, CR3 load 3000, device access 6000 (SplitX 2011: " \
  "synchronous+indirect costs 'can be an order of magnitude higher' than the direct 2000), " \
  "interrupt 2000, CPUID/MSR 1000"
#define ASSUME_BT_SAME \
  "assumption: BT path lengths in cycles as measured by Adams & Agesen 2006 on the P4"
#define ASSUME_NESTED_ACC \
  "assumption: KVM's VMX exit path reads exit reason, IDT-vectoring and interruption info, " \
  "guest RIP, instruction length, interruptibility and writes RIP: about 7 VMCS accesses per " \
  "exit (read from the code's structure, not measured)"
#define ASSUME_NESTED_ACC_CYC \
  "assumption: decode the instruction info and copy one field of the in-memory VMCS12: 400 " \
  "cycles"
#define CAL_NESTED_SWITCH \
  "calibration: chosen so that removing VMREAD/VMWRITE exits cuts kernbench's nested " \
  "overhead from 14.5% to 10.3% (Turtles OSDI 2010, Table 1, 'nested DRW'): " \
  "(X+S+b)/(X+S+b+n(X+v)) = 10.3/14.5 with X=2000, n=7, v=400, b=2400 gives S=36800"
#define ASSUME_BACKEND \
  "assumption: the nested hypervisor's device backend makes one access to its own virtual " \
  "device per guest I/O exit (paravirtual backend); 0 models multi-level device assignment"

typedef struct {
  double v;
  const char *src;
} pv;

typedef struct preset {
  const char *name;
  pv p[P_N];
} preset;

/* Common tails of the three VT-x-era presets that share assumptions. */
#define BT_FROM_AA                                                                          \
  [P_BT_SYSCALL] = {2000, ASSUME_BT_SAME "; syscall: 'approximately 2000 more cycles'"},   \
  [P_BT_PF] = {2834, ASSUME_BT_SAME "; pgfault: 3927 - 1093 native"},                        \
  [P_BT_PTU] = {390, ASSUME_BT_SAME "; ptemod: 391 - 1 native store"},                       \
  [P_BT_CTXSW] = {2334, ASSUME_BT_SAME "; CR3 load assumed to go through the VMM like "      \
                                       "divzero: 3223 - 889"},                               \
  [P_BT_IO] = {0, ASSUME_BT_SAME "; in: BT is 15x faster than native, floored at 0"},        \
  [P_BT_INTR] = {2334, ASSUME_BT_SAME "; interrupt delivered like divzero: 3223 - 889"},     \
  [P_BT_PRIV] = {0, ASSUME_BT_SAME "; cr8wr: 35 cycles, 4x faster than native, floored"}

#define NESTED_COMMON                                                                       \
  [P_VMCS_ACC] = {7, ASSUME_NESTED_ACC}, [P_VMCS_ACC_CYC] = {400, ASSUME_NESTED_ACC_CYC},  \
  [P_NESTED_SWITCH] = {36800, CAL_NESTED_SWITCH}, [P_BACKEND_IO] = {1, ASSUME_BACKEND}

#define WALK_COMMON                                                                         \
  [P_WALK_NATIVE] = {4, SRC_BHARGAVA}, [P_WALK_2D] = {24, SRC_BHARGAVA},                    \
  [P_WALK_REF] = {10, ASSUME_WALKREF}

/* Handlers of ASSUME_H: pf 3000, ptu 3000, ctxsw 3000, io 6000, intr 2000, priv 1000. */
#define HW_FROM_EXIT(x)                                                                     \
  [P_HW_PF] = {(x) + 3000, ASSUME_H}, [P_HW_PTU] = {(x) + 3000, ASSUME_H},                  \
  [P_HW_CTXSW] = {(x) + 3000, ASSUME_H}, [P_HW_IO] = {(x) + 6000, ASSUME_H},                \
  [P_HW_INTR] = {(x) + 2000, ASSUME_H}, [P_HW_PRIV] = {(x) + 1000, ASSUME_H}

static const preset presets[] = {
  /* The machine of Adams & Agesen's hardware VMM: first-generation VT-x, no EPT. Its per-event
   * VT-x costs are their nanobenchmark results minus the native cost of the same operation. */
  {"p4-2006",
   {
     [P_GHZ] = {3.8, SRC_AA_HOST},
     [P_VT] = {1, SRC_CHRONO},
     [P_EPT] = {0, SRC_CHRONO},
     [P_VMCS_SHADOWING] = {0, SRC_CHRONO},
     [P_AUTO_BT_32BIT] = {1, SRC_ESX40 " ('P4 with VT-x': 32-bit Linux/Windows -> BT + SPT)"},
     [P_EXIT] = {2000,
                 "assumption: no round-trip figure found for this CPU; it is used only by nested "
                 "VT-x, which this CPU cannot run (no EPT), and bounds the per-event costs below"},
     [P_HW_PF] = {10149, SRC_AA "pgfault, hardware VMM 11242 - 1093 native"},
     [P_HW_PTU] = {12732, SRC_AA "ptemod, hardware VMM 12733 - 1 native store"},
     [P_HW_CTXSW] = {10149, "assumption: a CR3 load exits and switches shadow roots, costed "
                            "like a reflected page fault (" SRC_AA "pgfault)"},
     [P_HW_IO] = {12617, SRC_AA "in, hardware VMM 15826 - 3209 native"},
     [P_HW_INTR] = {10149, "assumption: an interrupt exit plus injection, costed like a "
                           "reflected page fault (" SRC_AA "pgfault)"},
     [P_HW_PRIV] = {12617, "assumption: an exiting privileged instruction (CPUID, MSR) costed "
                           "like the in round trip (" SRC_AA "in)"},
     BT_FROM_AA,
     WALK_COMMON,
     NESTED_COMMON,
   }},
  /* Penryn (45 nm Core 2, 2008): VT-x with FlexPriority, no EPT. */
  {"core2-2008",
   {
     [P_GHZ] = {3.0, "assumption: a typical Xeon 5400-series clock"},
     [P_VT] = {1, SRC_CHRONO},
     [P_EPT] = {0, SRC_CHRONO},
     [P_VMCS_SHADOWING] = {0, SRC_CHRONO},
     [P_AUTO_BT_32BIT] = {0, SRC_ESX40 " ('45nm Core2 with VT-x': VT-x + SPT for all guests)"},
     [P_EXIT] = {3000, "assumption: VMware (S. Drummonds, 2009 blog 'Newer processors and "
                       "virtualization performance') shows VMEXIT latency falling from Core "
                       "(Merom/Penryn) to Nehalem without readable numbers; 1.5x Nehalem's 2000"},
     HW_FROM_EXIT(3000),
     BT_FROM_AA,
     WALK_COMMON,
     NESTED_COMMON,
   }},
  /* Nehalem/Westmere (2009-2010): VT-x with EPT and VPID; no VMCS shadowing. The Turtles
   * calibration and the VMware EPT comparison use this preset. */
  {"westmere-2010",
   {
     [P_GHZ] = {2.93, SRC_X5570},
     [P_VT] = {1, SRC_CHRONO},
     [P_EPT] = {1, SRC_CHRONO "; VMware, 'Performance Evaluation of Intel EPT Hardware Assist' "
                              "(2009), Xeon 5500"},
     [P_VMCS_SHADOWING] = {0, SRC_CHRONO},
     [P_AUTO_BT_32BIT] = {0, SRC_ESX40 " ('Core-i7 (Nehalem)': VT-x + EPT)"},
     [P_EXIT] = {2000, SRC_SPLITX},
     HW_FROM_EXIT(2000),
     BT_FROM_AA,
     WALK_COMMON,
     NESTED_COMMON,
   }},
  /* Skylake (2015) and later: VT-x, EPT, VMCS shadowing. */
  {"skylake-2015",
   {
     [P_GHZ] = {2.6, "assumption: a typical Xeon Scalable clock"},
     [P_VT] = {1, SRC_CHRONO},
     [P_EPT] = {1, SRC_CHRONO},
     [P_VMCS_SHADOWING] = {1, SRC_CHRONO},
     [P_AUTO_BT_32BIT] = {0, "assumption: as for Nehalem (EPT present, so automatic -> hardware)"},
     [P_EXIT] = {1300, "assumption: Agesen et al., USENIX ATC 2012 (abstract): hardware "
                       "designers kept reducing guest/VMM transition costs; no per-generation "
                       "number could be read, 2/3 of Nehalem's 2000 assumed"},
     HW_FROM_EXIT(1300),
     BT_FROM_AA,
     WALK_COMMON,
     NESTED_COMMON,
   }},
};

static const char *const preset_names[] = {"p4-2006", "core2-2008", "westmere-2010",
                                           "skylake-2015", NULL};

/* Aliases: the generation names a scenario author is likely to type. */
static const char *const preset_aliases[] = {
  "p4", "p4-2006", "prescott", "p4-2006", "netburst", "p4-2006",
  "core2", "core2-2008", "penryn", "core2-2008",
  "westmere", "westmere-2010", "nehalem", "westmere-2010",
  "skylake", "skylake-2015", "recent", "skylake-2015",
  NULL};

struct virt_cpu {
  const preset *from;
  double v[P_N];
  const char *src[P_N];
};

const char *const *virt_cpu_preset_names(void)
{
  return preset_names;
}

const char *const *virt_cpu_preset_aliases(void)
{
  return preset_aliases;
}

const char *virt_cpu_default_preset(void)
{
  /* The seed's lab is an ESXi 5.5 host of 2014: a CPU with EPT and no VMCS shadowing is the
   * era's typical server, so Westmere is the default. */
  return "westmere-2010";
}

const char *const *virt_cpu_param_names(void)
{
  static const char *names[P_N + 1];
  if (names[0] == NULL) {
    for (guint i = 0; i < P_N; i++)
      names[i] = params[i].name;
  }
  return names;
}

static const preset *find_preset(const char *model)
{
  const char *canon = model;
  for (guint i = 0; preset_aliases[i] != NULL; i += 2) {
    if (g_ascii_strcasecmp(model, preset_aliases[i]) == 0) {
      canon = preset_aliases[i + 1];
      break;
    }
  }
  for (guint i = 0; i < G_N_ELEMENTS(presets); i++) {
    if (g_ascii_strcasecmp(canon, presets[i].name) == 0)
      return &presets[i];
  }
  return NULL;
}

virt_cpu *virt_cpu_new(const char *model, GError **error)
{
  const preset *p = find_preset(model);
  if (p == NULL) {
    g_autofree char *known = g_strjoinv(", ", (char **)preset_names);
    g_set_error(error, VIRT_ERROR, VIRT_ERROR_UNKNOWN_MODEL,
                "unknown CPU model '%s' (known: %s; aliases: p4, core2, penryn, nehalem, "
                "westmere, skylake, recent)", model, known);
    return NULL;
  }
  virt_cpu *cpu = g_new0(virt_cpu, 1);
  cpu->from = p;
  for (guint i = 0; i < P_N; i++) {
    /* A missing initializer would leave src NULL: a broken preset table, not bad input. */
    if (p->p[i].src == NULL)
      g_error("%s:%d: preset '%s' has no value for '%s'; add it to presets[]", __FILE__,
              __LINE__, p->name, params[i].name);
    cpu->v[i] = p->p[i].v;
    cpu->src[i] = p->p[i].src;
  }
  return cpu;
}

virt_cpu *virt_cpu_copy(const virt_cpu *cpu)
{
  return g_memdup2(cpu, sizeof *cpu);
}

void virt_cpu_free(virt_cpu *cpu)
{
  g_free(cpu);
}

static int param_index(const char *name)
{
  for (guint i = 0; i < P_N; i++) {
    if (strcmp(name, params[i].name) == 0)
      return (int)i;
  }
  return -1;
}

gboolean virt_cpu_set(virt_cpu *cpu, const char *name, double value, GError **error)
{
  int i = param_index(name);
  if (i < 0) {
    g_autofree char *known = g_strjoinv(", ", (char **)virt_cpu_param_names());
    g_set_error(error, VIRT_ERROR, VIRT_ERROR_UNKNOWN_PARAM,
                "unknown CPU parameter '%s' (known: model, %s)", name, known);
    return FALSE;
  }
  const param_info *pi = &params[i];
  gboolean ok = isfinite(value);
  const char *expect = "a finite number";
  switch (pi->kind) {
  case K_BOOL:
    ok = ok && (value == 0.0 || value == 1.0);
    expect = "true or false (1 or 0)";
    break;
  case K_POSITIVE:
    ok = ok && value > 0.0;
    expect = "a number > 0";
    break;
  case K_COST:
    ok = ok && value >= 0.0;
    expect = "a number >= 0";
    break;
  }
  if (!ok) {
    g_set_error(error, VIRT_ERROR, VIRT_ERROR_INVALID_VALUE,
                "invalid CPU parameter '%s': expected %s, got %g", name, expect, value);
    return FALSE;
  }
  cpu->v[i] = value;
  cpu->src[i] = "scenario override";
  return TRUE;
}

static int param_index_checked(const char *name)
{
  int i = param_index(name);
  g_assert(i >= 0);
  return i;
}

double virt_cpu_get(const virt_cpu *cpu, const char *name)
{
  return cpu->v[param_index_checked(name)];
}

const char *virt_cpu_param_source(const virt_cpu *cpu, const char *name)
{
  return cpu->src[param_index_checked(name)];
}

const char *virt_cpu_param_doc(const char *name)
{
  return params[param_index_checked(name)].doc;
}

const char *virt_cpu_model(const virt_cpu *cpu)
{
  return cpu->from->name;
}

gboolean virt_cpu_check(const virt_cpu *cpu, GError **error)
{
  const double *v = cpu->v;
  if (v[P_EPT] != 0.0 && v[P_VT] == 0.0) {
    g_set_error(error, VIRT_ERROR, VIRT_ERROR_INVALID_VALUE,
                "CPU model '%s': ept = true needs vt = true (EPT is part of VT-x)",
                cpu->from->name);
    return FALSE;
  }
  if (v[P_VMCS_SHADOWING] != 0.0 && v[P_VT] == 0.0) {
    g_set_error(error, VIRT_ERROR, VIRT_ERROR_INVALID_VALUE,
                "CPU model '%s': vmcs_shadowing = true needs vt = true", cpu->from->name);
    return FALSE;
  }
  /* Every per-event VT-x cost includes one exit round trip; the handler is the remainder, and
   * a nested hypervisor runs that same handler. */
  static const param_id per_exit[] = {P_HW_PF, P_HW_PTU, P_HW_CTXSW, P_HW_IO, P_HW_INTR,
                                      P_HW_PRIV};
  for (guint i = 0; i < G_N_ELEMENTS(per_exit); i++) {
    if (v[per_exit[i]] < v[P_EXIT]) {
      g_set_error(error, VIRT_ERROR, VIRT_ERROR_INVALID_VALUE,
                  "CPU model '%s': %s (%g) is below exit_cycles (%g); each per-event VT-x cost "
                  "includes one exit round trip, raise it or lower exit_cycles",
                  cpu->from->name, params[per_exit[i]].name, v[per_exit[i]], v[P_EXIT]);
      return FALSE;
    }
  }
  if (v[P_WALK_2D] < v[P_WALK_NATIVE]) {
    g_set_error(error, VIRT_ERROR, VIRT_ERROR_INVALID_VALUE,
                "CPU model '%s': walk_refs_2d (%g) is below walk_refs_native (%g)",
                cpu->from->name, v[P_WALK_2D], v[P_WALK_NATIVE]);
    return FALSE;
  }
  return TRUE;
}

/* ========================================================================================== */
/* Workload profiles                                                                          */

static const char *const profile_fields[] = {"syscalls",    "page_faults", "pt_updates",
                                             "ctx_switches", "tlb_misses",  "io_exits",
                                             "interrupts",  "priv_ops",    NULL};

static double *profile_field(virt_profile *p, guint i)
{
  double *f[] = {&p->syscalls,   &p->page_faults, &p->pt_updates, &p->ctx_switches,
                 &p->tlb_misses, &p->io_exits,    &p->interrupts, &p->priv_ops};
  g_assert(i < G_N_ELEMENTS(f));
  return f[i];
}

typedef struct {
  const char *name;
  virt_profile rates;
  const char *source;
} profile_preset;

/* Turtles calibration (westmere-2010 costs, f = 2.93e9 Hz; see tests/test-virt.c
 * /virt/validation/turtles/... for the algebra). With MDP, a nested exit costs X+S+n(X+v) =
 * 55600 cycles more than a single-level one, plus (X + h_io) = 8000 for the nested backend's
 * own device access per I/O exit. Exits are split io:intr:priv = 0.3:0.4:0.3 (kernbench) and
 * 0.1:0.6:0.3 (specjbb) — assumptions — and the total E solves
 *   E * extra = (R - 1) * (f + E * c1 + T * w),
 * where R is the published nested/single-level ratio of run times (for SPECjbb, a score,
 * R = 1 / (1 - drop)), c1 the mean single-level exit cost and
 * T * w the TLB-miss walk cycles (w = 20 refs x 10 cycles). */
#define KB_EXITS 7668.9    /* R = 1.145, extra = 58000, c1 = 4900, T = 5e5 */
#define JBB_EXITS 4737.2   /* R = 1/(1-0.0782) (a score), extra = 56400, c1 = 4100, T = 1e6 */

/* Forkwait calibration (p4-2006 costs, f = 3.8e9 Hz): 40,000 fork/wait iterations take 6.0 s
 * native and 36.9 s under the software VMM (Adams & Agesen 2006). Per native second: 6666.7
 * iterations, 3 syscalls and 2 CR3 loads each (assumption), 1000 timer ticks (assumption:
 * HZ = 1000), and P shadow-paging traps solving
 *   (36.9/6.0 - 1) * 3.8e9 = 20000*2000 + 13333.3*2334 + 1000*2334 + P*2834  =>  P = 6.8795e6.
 * PTE writes are folded into P: the published hardware/software ratio (100.4/30.9 = 3.25) is
 * below both the pgfault (3.58) and the ptemod (32.6) nanobenchmark ratios, so no non-negative
 * mix reproduces it and the smallest error puts all traps in the fault-like class. */
#define FW_TRAPS 6.8795e6

static const profile_preset profiles[] = {
  {"idle",
   {.interrupts = 100},
   "assumption: a tickless idle guest still takes ~100 timer/housekeeping interrupts a second"},
  {"cpu-only",
   {.interrupts = 250, .tlb_misses = 1e4},
   "assumption: a compute loop in cache; 250 timer ticks (Linux HZ=250) and a small TLB "
   "footprint"},
  {"kernbench",
   {.syscalls = 20000,
    .page_faults = 60000,
    .pt_updates = 30000,
    .ctx_switches = 1000,
    .tlb_misses = 5e5,
    .io_exits = 0.3 * KB_EXITS,
    .interrupts = 0.4 * KB_EXITS,
    .priv_ops = 0.3 * KB_EXITS},
   "exit rates (io, interrupts, priv_ops): calibrated to Turtles OSDI 2010 Table 1 (kernbench "
   "nested 14.5% slower than single-level) on westmere-2010, split 0.3/0.4/0.3 by assumption; "
   "MMU rates: assumption from process-creation arithmetic (~4 files/s per vCPU, ~3 processes "
   "per file, ~5000 faults per process; half as many traced PTE writes); syscalls and TLB "
   "misses: assumption"},
  {"specjbb",
   {.syscalls = 5000,
    .page_faults = 1000,
    .pt_updates = 500,
    .ctx_switches = 200,
    .tlb_misses = 1e6,
    .io_exits = 0.1 * JBB_EXITS,
    .interrupts = 0.6 * JBB_EXITS,
    .priv_ops = 0.3 * JBB_EXITS},
   "exit rates: calibrated to Turtles OSDI 2010 Table 2 (SPECjbb nested 7.82% below "
   "single-level) on westmere-2010, split 0.1/0.6/0.3 by assumption (in-memory Java threads: "
   "timer and IPI interrupts dominate); MMU rates: assumption (preallocated heap, threads share "
   "one address space); TLB misses: assumption (large heap)"},
  {"netperf",
   {.syscalls = 10000,
    .page_faults = 100,
    .pt_updates = 50,
    .ctx_switches = 1000,
    .tlb_misses = 2e5,
    .io_exits = 40000,
    .interrupts = 40000,
    .priv_ops = 1000},
   "derived: TCP stream at ~940 Mb/s on 1 GbE is ~81,000 frames/s; assumption: 0.5 "
   "paravirtual kicks and 0.5 interrupts per frame (interrupt coalescing), ~8 KB per send "
   "call; not calibrated to any figure"},
  {"forkwait",
   {.syscalls = 20000,
    .page_faults = FW_TRAPS,
    .pt_updates = 0,
    .ctx_switches = 13333.3,
    .tlb_misses = FW_TRAPS,
    .io_exits = 0,
    .interrupts = 1000,
    .priv_ops = 0},
   "calibrated: shadow-paging traps per second chosen so that the software VMM takes 36.9 s "
   "for 40,000 fork/wait iterations that take 6.0 s native (Adams & Agesen ASPLOS 2006, "
   "forkwait, p4-2006 costs); syscalls (3), CR3 loads (2) per iteration, 1000 ticks/s and one "
   "TLB miss per trap: assumption"},
};

static const char *const profile_names[] = {"idle",    "cpu-only", "kernbench", "specjbb",
                                            "netperf", "forkwait", NULL};

const char *const *virt_profile_preset_names(void)
{
  return profile_names;
}

const char *const *virt_profile_field_names(void)
{
  return profile_fields;
}

static const profile_preset *find_profile(const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS(profiles); i++) {
    if (g_ascii_strcasecmp(name, profiles[i].name) == 0)
      return &profiles[i];
  }
  return NULL;
}

gboolean virt_profile_preset(const char *name, virt_profile *out, GError **error)
{
  const profile_preset *p = find_profile(name);
  if (p == NULL) {
    g_autofree char *known = g_strjoinv(", ", (char **)profile_names);
    g_set_error(error, VIRT_ERROR, VIRT_ERROR_UNKNOWN_PROFILE,
                "unknown workload profile '%s' (known: %s)", name, known);
    return FALSE;
  }
  *out = p->rates;
  return TRUE;
}

const char *virt_profile_source(const char *name)
{
  const profile_preset *p = find_profile(name);
  g_assert(p != NULL);
  return p->source;
}

gboolean virt_profile_set(virt_profile *profile, const char *field, double value,
                          GError **error)
{
  for (guint i = 0; profile_fields[i] != NULL; i++) {
    if (strcmp(field, profile_fields[i]) == 0) {
      if (!isfinite(value) || value < 0.0) {
        g_set_error(error, VIRT_ERROR, VIRT_ERROR_INVALID_VALUE,
                    "invalid profile rate '%s': expected a number >= 0 (events per second), "
                    "got %g", field, value);
        return FALSE;
      }
      *profile_field(profile, i) = value;
      return TRUE;
    }
  }
  g_autofree char *known = g_strjoinv(", ", (char **)profile_fields);
  g_set_error(error, VIRT_ERROR, VIRT_ERROR_UNKNOWN_PARAM,
              "unknown profile field '%s' (known: %s)", field, known);
  return FALSE;
}

/* ========================================================================================== */
/* Resolution: which mode each layer runs in, as ESXi's monitor would choose.
 *
 * The rule (VMware, "Virtual Machine Monitor Execution Modes in VMware vSphere 4.0", 2009,
 * monitor defaults for Intel CPUs; ESXi 5.x documents the same automatic choice "based on the
 * processor type and the virtual machine" without a newer table):
 *   - CPU with VT-x and EPT: hardware (VT-x + EPT) for 64-bit and modern 32-bit guests.
 *   - VT-x without EPT: hw-cpu (VT-x + shadow) for 64-bit guests; for 32-bit guests hw-cpu on
 *     45 nm Core 2, binary translation on the Pentium 4 and 65 nm Core 2 (auto_bt_32bit).
 *   - No VT-x: binary translation for 32-bit guests; 64-bit guests do not run, because Intel
 *     CPUs lack segment limits in long mode, which VMware's BT needs (VMware KB 1003945).
 * An explicit mode is honored only where the CPU supports it; otherwise the monitor falls back
 * (for example "software" on a 64-bit guest on Intel becomes VT-x; VMware vSphere
 * documentation, as quoted in the vSphere High Performance Cookbook, 2nd ed.).
 * A nested hypervisor sees the CPU its VM is given: VT-x and EPT only if that VM exposes
 * hardware virtualization (vhv.enable, "Expose hardware assisted virtualization to the guest
 * OS"), which ESXi offers only on hosts with VT-x and EPT/RVI, and which makes the VM itself run
 * with VT-x + EPT (VMware, "Running Nested VMs", communities document). VMware products need
 * hardware virtualization for 64-bit guests when running as a guest hypervisor, so a nested
 * ESXi without it can run only 32-bit guests, under binary translation. */

typedef struct {
  gboolean vt, ept, auto_bt;
} seen_cpu;

static void describe_host_cpu(const virt_cpu *cpu, const char *host_name, GString *s)
{
  g_string_append_printf(s, "host '%s' (CPU model '%s')", host_name, cpu->from->name);
}

gboolean virt_resolve(const virt_cpu *cpu, const char *host_name, const virt_layer *chain,
                      guint n, virt_mode *resolved, GPtrArray *notes, GError **error)
{
  g_assert(n >= 1);
  if (!virt_cpu_check(cpu, error))
    return FALSE;
  for (guint i = 0; i < n; i++) {
    const virt_layer *L = &chain[i];
    const virt_layer *below = i > 0 ? &chain[i - 1] : NULL;
    g_assert(i + 1 == n || L->runs_hypervisor);
    g_assert(L->mode <= VIRT_MODE_HARDWARE);

    seen_cpu c;
    if (below == NULL) {
      c.vt = cpu->v[P_VT] != 0.0;
      c.ept = cpu->v[P_EPT] != 0.0;
      c.auto_bt = cpu->v[P_AUTO_BT_32BIT] != 0.0;
    } else {
      /* The virtual CPU of a nested hypervisor's VM: VT-x and EPT come together with
       * exposure; there is no "prefer BT" quirk to emulate. */
      c.vt = c.ept = below->expose_hw_virt;
      c.auto_bt = FALSE;
    }
    /* A hypervisor VM is a 64-bit guest: ESXi 5.x is 64-bit only. */
    gboolean is64 = L->guest_64bit || L->runs_hypervisor;

    if (!c.vt && is64) {
      g_autoptr(GString) s = g_string_new(NULL);
      g_string_append_printf(s, "vm '%s': ", L->vm_name);
      g_string_append(s, L->runs_hypervisor ? "nested hypervisor (a 64-bit guest)"
                                            : "64-bit guest");
      g_string_append(s, " cannot power on: ");
      if (below == NULL) {
        describe_host_cpu(cpu, host_name, s);
        g_string_append_printf(s, " has no hardware virtualization (vt = false), and binary "
                                  "translation cannot run 64-bit guests on Intel CPUs; set vt "
                                  "= true on host '%s' (enable Intel VT-x in its BIOS)",
                               host_name);
      } else {
        g_string_append_printf(s, "its hypervisor runs in vm '%s', which does not expose "
                                  "hardware virtualization, so only binary translation is "
                                  "available and it cannot run 64-bit guests; set "
                                  "expose_hw_virt = true on vm '%s' (\"Expose hardware "
                                  "assisted virtualization to the guest OS\")",
                               below->vm_name, below->vm_name);
      }
      if (!L->runs_hypervisor)
        g_string_append(s, ", or use a 32-bit guest");
      g_set_error_literal(error, VIRT_ERROR, VIRT_ERROR_CANNOT_POWER_ON, s->str);
      return FALSE;
    }

    if (L->expose_hw_virt) {
      if (!c.vt || !c.ept) {
        g_autoptr(GString) s = g_string_new(NULL);
        g_string_append_printf(s, "vm '%s': expose_hw_virt needs VT-x and EPT on the CPU it "
                                  "runs on, but ", L->vm_name);
        if (below == NULL) {
          describe_host_cpu(cpu, host_name, s);
          g_string_append_printf(s, " has %s; ESXi exposes hardware virtualization only on "
                                    "hosts with VT-x and EPT/RVI: use a host CPU with EPT "
                                    "(Nehalem or later), or set expose_hw_virt = false",
                                 c.vt ? "no EPT" : "no VT-x");
        } else {
          g_string_append_printf(s, "its hypervisor vm '%s' does not expose hardware "
                                    "virtualization; set expose_hw_virt = true on vm '%s' as "
                                    "well, or set expose_hw_virt = false on vm '%s'",
                                 below->vm_name, below->vm_name, L->vm_name);
        }
        g_set_error_literal(error, VIRT_ERROR, VIRT_ERROR_UNSUPPORTED, s->str);
        return FALSE;
      }
      if (L->mode != VIRT_MODE_AUTOMATIC && L->mode != VIRT_MODE_HARDWARE && notes != NULL)
        g_ptr_array_add(notes, g_strdup_printf("vm '%s': cpu_mmu = %s ignored: exposing "
                                               "hardware virtualization runs the VM with "
                                               "VT-x + EPT (hardware)",
                                               L->vm_name, mode_names[L->mode]));
      resolved[i] = VIRT_MODE_HARDWARE;
      continue;
    }

    virt_mode m;
    if (!c.vt)
      m = VIRT_MODE_SOFTWARE;                  /* 32-bit here: 64-bit failed above */
    else if (c.ept)
      m = VIRT_MODE_HARDWARE;
    else
      m = (!is64 && c.auto_bt) ? VIRT_MODE_SOFTWARE : VIRT_MODE_HW_CPU;

    virt_mode want = L->mode;
    if (want == VIRT_MODE_AUTOMATIC) {
      resolved[i] = m;
      continue;
    }
    /* An explicit request, downgraded to what this CPU can do. */
    virt_mode got = want;
    if (want == VIRT_MODE_HARDWARE && !c.ept)
      got = c.vt ? VIRT_MODE_HW_CPU : VIRT_MODE_SOFTWARE;
    else if (want == VIRT_MODE_HW_CPU && !c.vt)
      got = VIRT_MODE_SOFTWARE;
    else if (want == VIRT_MODE_SOFTWARE && is64)
      got = VIRT_MODE_HW_CPU;                  /* c.vt holds: 64-bit without it failed above */
    if (got != want && notes != NULL)
      g_ptr_array_add(notes, g_strdup_printf("vm '%s': cpu_mmu = %s is not available %s; "
                                             "running with %s",
                                             L->vm_name, mode_names[want],
                                             want == VIRT_MODE_SOFTWARE
                                               ? "for a 64-bit guest on Intel CPUs"
                                               : "on the CPU it sees",
                                             mode_names[got]));
    resolved[i] = got;
  }
  return TRUE;
}

/* ========================================================================================== */
/* The fluid computation                                                                      */

/* Cycles per bare-metal second, by where they are spent, and hardware exits per second. */
typedef struct {
  double l0, l1, walk, bt;
  double exits;
} acc;

/* Charges `mult` exits of a guest running at `layer` (1 = on L0) whose handler — in the
 * hypervisor at layer-1 — needs `handler` cycles of work.
 *
 * At layer 1 it is one hardware round trip plus L0's handler. Above, the hardware exit still
 * goes to L0 (X), which reflects it into the guest hypervisor's VMCS and, on that hypervisor's
 * VMRESUME, merges the VMCSs again (S, nested_switch_cycles); the handler itself runs in the
 * guest hypervisor (attributed to L1), and its VMREAD/VMWRITEs and its VMRESUME are exits of a
 * guest at layer-1, charged recursively — which is what makes overhead grow geometrically with
 * depth. VMCS shadowing removes the VMREAD/VMWRITE exits of a hypervisor that runs directly on
 * L0 (the hardware shadows only one level). Approximation: an intermediate hypervisor's own
 * reflection work above L0 is not charged separately; Turtles (§3.2) has L0 multiplex all
 * levels, so that work appears as the recursive exits. */
static void charge_exit(const virt_cpu *cpu, guint layer, double handler, double mult, acc *a)
{
  const double *v = cpu->v;
  if (mult == 0.0)
    return;
  if (layer == 1) {
    a->l0 += mult * (v[P_EXIT] + handler);
    a->exits += mult;
    return;
  }
  a->l0 += mult * (v[P_EXIT] + v[P_NESTED_SWITCH]);
  a->exits += mult;
  a->l1 += mult * handler;                     /* the handler runs in the guest hypervisor */
  double accesses = (layer - 1 == 1 && v[P_VMCS_SHADOWING] != 0.0) ? 0.0 : v[P_VMCS_ACC];
  charge_exit(cpu, layer - 1, v[P_VMCS_ACC_CYC], mult * accesses, a);
  charge_exit(cpu, layer - 1, 0.0, mult, a);   /* its VMRESUME */
}

void virt_compute_resolved(const virt_cpu *cpu, const virt_mode *modes, guint n,
                           const virt_profile *profile, virt_breakdown *out)
{
  g_assert(n >= 1);
  for (guint i = 0; i < n; i++) {
    g_assert(modes[i] != VIRT_MODE_AUTOMATIC && modes[i] <= VIRT_MODE_HARDWARE);
    /* VT-x for a nested guest exists only if every hypervisor VM below exposes it, and
     * exposing puts those VMs in hardware mode. */
    if (i > 0 && mode_is_hw(modes[i]))
      g_assert(modes[i - 1] == VIRT_MODE_HARDWARE);
  }
  const double *v = cpu->v;
  const virt_profile *r = profile;
  const virt_mode m = modes[n - 1];
  const double X = v[P_EXIT];
  acc a = {0};

  if (mode_is_hw(m)) {
    /* System calls never exit under VT-x. */
    if (m == VIRT_MODE_HW_CPU) {
      /* Shadow paging by the VM's own hypervisor: every MMU event is an exit of this guest.
       * At layer >= 2 this is shadow-on-EPT (Turtles §3.3): the MMU work lands in the nested
       * hypervisor and multiplies. */
      charge_exit(cpu, n, v[P_HW_PF] - X, r->page_faults, &a);
      charge_exit(cpu, n, v[P_HW_PTU] - X, r->pt_updates, &a);
      charge_exit(cpu, n, v[P_HW_CTXSW] - X, r->ctx_switches, &a);
    }
    /* With EPT at this layer (single-level, or multi-dimensional paging above it) MMU events
     * cost nothing in steady state: L0's EPT02 already maps the guest's memory. */
    charge_exit(cpu, n, v[P_HW_IO] - X, r->io_exits, &a);
    charge_exit(cpu, n, v[P_HW_INTR] - X, r->interrupts, &a);
    charge_exit(cpu, n, v[P_HW_PRIV] - X, r->priv_ops, &a);
  } else {
    a.bt += r->syscalls * v[P_BT_SYSCALL];
    a.bt += r->page_faults * v[P_BT_PF];
    a.bt += r->pt_updates * v[P_BT_PTU];
    a.bt += r->ctx_switches * v[P_BT_CTXSW];
    a.bt += r->io_exits * v[P_BT_IO];
    a.bt += r->interrupts * v[P_BT_INTR];
    a.bt += r->priv_ops * v[P_BT_PRIV];
    if (n >= 2) {
      /* The BT monitor runs inside the nested hypervisor's VM: each interrupt first interrupts
       * that VM (an exit one layer down). */
      charge_exit(cpu, n - 1, v[P_HW_INTR] - X, r->interrupts, &a);
      if (modes[n - 2] != VIRT_MODE_HARDWARE) {
        /* Shadow-on-shadow: the hypervisor below traces the BT monitor's shadow page tables,
         * so each MMU event's shadow update traps one layer down. */
        double mmu = r->page_faults + r->pt_updates + r->ctx_switches;
        charge_exit(cpu, n - 1, v[P_HW_PTU] - X, mmu, &a);
      }
    }
  }
  if (n >= 2) {
    /* The nested hypervisor's device backend touches its own virtual device. */
    charge_exit(cpu, n - 1, v[P_HW_IO] - X, r->io_exits * v[P_BACKEND_IO], &a);
  }
  /* Whatever runs inside a layer-1 VM that L0 maps with EPT walks two dimensions; with L0
   * shadowing the layer-1 VM the hardware walks one (shadow) dimension. */
  if (modes[0] == VIRT_MODE_HARDWARE)
    a.walk += r->tlb_misses * (v[P_WALK_2D] - v[P_WALK_NATIVE]) * v[P_WALK_REF];

  const double hz = v[P_GHZ] * 1e9;
  const double t = 1.0 + (a.l0 + a.l1 + a.walk + a.bt) / hz;   /* executing s per native s */
  out->guest = 1.0 / t;
  out->l0_exit = a.l0 / hz / t;
  out->l1_exit = a.l1 / hz / t;
  out->page_walk = a.walk / hz / t;
  out->bt = a.bt / hz / t;
  out->efficiency = out->guest;
  out->slowdown = t;
  out->l0_exits_per_s = a.exits / t;
  out->mode = m;
  out->layer = (int)n;
  if (mode_is_hw(m)) {
    acc one = {0};
    charge_exit(cpu, n, 0.0, 1.0, &one);
    out->exit_multiplication = one.exits;
  } else {
    out->exit_multiplication = 0.0;
  }
}

gboolean virt_compute(const virt_cpu *cpu, const char *host_name, const virt_layer *chain,
                      guint n, const virt_profile *profile, virt_breakdown *out,
                      GError **error)
{
  g_autofree virt_mode *modes = g_new(virt_mode, n);
  if (!virt_resolve(cpu, host_name, chain, n, modes, NULL, error))
    return FALSE;
  virt_compute_resolved(cpu, modes, n, profile, out);
  return TRUE;
}

/* ========================================================================================== */
/* Scenarios                                                                                  */

virt_cpu *virt_cpu_for_host(const topo_host *h, GError **error)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(virt_cpu) cpu = virt_cpu_new(h->cpu_model ? h->cpu_model : virt_cpu_default_preset(),
                                         &err);
  /* The host's clock converts the preset's cycles into seconds: a CPU of the same generation
   * at another clock takes the same cycles for an exit. An explicit ghz override still wins. */
  if (cpu && h->hz > 0)
    virt_cpu_set(cpu, "ghz", h->hz / 1e9, &err);
  const topo_policy pol[] = {h->vt, h->ept, h->vmcs_shadowing};
  const char *const pol_names[] = {"vt", "ept", "vmcs_shadowing"};
  for (guint i = 0; cpu && !err && i < G_N_ELEMENTS(pol); i++)
    if (pol[i] != TOPO_POLICY_DEFAULT)
      virt_cpu_set(cpu, pol_names[i], pol[i] == TOPO_POLICY_ACCEPT ? 1.0 : 0.0, &err);
  if (cpu && !err && h->cpu_overrides) {
    /* In table order, so that the first bad override reported does not depend on hashing. */
    for (const char *const *n = virt_cpu_param_names(); *n && !err; n++) {
      const double *v = g_hash_table_lookup(h->cpu_overrides, *n);
      if (v) virt_cpu_set(cpu, *n, *v, &err);
    }
  }
  if (cpu && !err) virt_cpu_check(cpu, &err);
  if (err) {
    g_set_error(error, VIRT_ERROR, err->code, "host '%s': cpu: %s", h->name, err->message);
    return NULL;
  }
  return g_steal_pointer(&cpu);
}

guint virt_chain_of(const topo_vm *vm, virt_layer *out)
{
  g_assert(vm->layer >= 1);
  guint n = (guint)vm->layer;
  guint i = n;
  for (const topo_vm *x = vm; x; x = x->parent) {
    g_assert(i > 0);
    i--;
    out[i] = (virt_layer){
        .vm_name = x->name,
        .mode = (virt_mode)x->cpu_mmu,
        .guest_64bit = x->guest_64bit,
        .runs_hypervisor = x->hypervisor != NULL,
        .expose_hw_virt = x->expose_hw_virt,
    };
  }
  g_assert(i == 0);
  return n;
}

typedef struct check_ctx {
  GPtrArray *errors, *warnings;
  GHashTable *failed;    /* const topo_vm* that could not power on (set) */
  GHashTable *notes_at;  /* const topo_vm* -> number of notes its own chain produced */
  virt_cpu **cpus;       /* per host, NULL when the host's CPU could not be built */
  const topo_scenario *scn;
} check_ctx;

static void check_vm(topo_vm *vm, void *user)
{
  check_ctx *c = user;
  if (vm->parent && g_hash_table_contains(c->failed, vm->parent)) {
    g_hash_table_add(c->failed, vm);
    return;
  }
  guint hi = 0;
  while (g_ptr_array_index(c->scn->hosts, hi) != vm->host) hi++;
  const virt_cpu *cpu = c->cpus[hi];
  if (!cpu) {
    g_hash_table_add(c->failed, vm);
    return;
  }
  g_autofree virt_layer *chain = g_new(virt_layer, vm->layer);
  g_autofree virt_mode *modes = g_new(virt_mode, vm->layer);
  guint n = virt_chain_of(vm, chain);
  g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) err = NULL;
  if (!virt_resolve(cpu, vm->host->name, chain, n, modes, notes, &err)) {
    g_ptr_array_add(c->errors, g_strdup_printf("%s: %s", vm->where, err->message));
    g_hash_table_add(c->failed, vm);
    return;
  }
  /* The layers below produced the first notes already, when their own VMs were checked
   * (parents come first): only the notes past the parent's count are about this VM. */
  guint skip = vm->parent ? GPOINTER_TO_UINT(g_hash_table_lookup(c->notes_at, vm->parent)) : 0;
  g_hash_table_insert(c->notes_at, vm, GUINT_TO_POINTER(notes->len));
  /* The seed's first pitfall, before any guest trips on it: a nested hypervisor without
   * exposed VT-x runs, but can give its guests binary translation only (errors above name
   * each 64-bit guest that then cannot power on). */
  if (vm->hypervisor && !vm->expose_hw_virt && c->warnings)
    g_ptr_array_add(c->warnings,
                    g_strdup_printf("%s: warning: vm '%s' runs a hypervisor but does not expose "
                                    "hardware virtualization: its guests get binary translation "
                                    "only and 64-bit guests cannot power on; set expose_hw_virt "
                                    "= true on vm '%s'", vm->where, vm->name, vm->name));
  for (guint i = skip; c->warnings && i < notes->len; i++)
    g_ptr_array_add(c->warnings,
                    g_strdup_printf("%s: warning: %s", vm->where,
                                    (char *)g_ptr_array_index(notes, i)));
}

gboolean virt_check_scenario(const topo_scenario *scn, GPtrArray *errors, GPtrArray *warnings)
{
  guint before = errors->len;
  check_ctx c = {
      .errors = errors,
      .warnings = warnings,
      .failed = g_hash_table_new(NULL, NULL),
      .notes_at = g_hash_table_new(NULL, NULL),
      .cpus = g_new0(virt_cpu *, MAX(scn->hosts->len, 1)),
      .scn = scn,
  };
  for (guint i = 0; i < scn->hosts->len; i++) {
    const topo_host *h = g_ptr_array_index(scn->hosts, i);
    g_autoptr(GError) err = NULL;
    c.cpus[i] = virt_cpu_for_host(h, &err);
    if (!c.cpus[i]) g_ptr_array_add(errors, g_strdup_printf("%s: %s", h->where, err->message));
  }
  topo_foreach_vm(scn, check_vm, &c);
  for (guint i = 0; i < scn->hosts->len; i++)
    if (c.cpus[i]) virt_cpu_free(c.cpus[i]);
  g_free(c.cpus);
  g_hash_table_unref(c.failed);
  g_hash_table_unref(c.notes_at);
  return errors->len == before;
}
