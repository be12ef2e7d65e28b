/* test-virt.c — tests of models/virt.c: presets and overrides, ESXi's mode resolution and its
 * power-on errors, the fluid computation against closed forms, and validation against
 * published measurements.
 *
 * Validation honesty. Some published figures were used to set a parameter (calibration); the
 * tests of those figures only show that the calibration holds and are marked CALIBRATION.
 * Tests marked PREDICTION compare with a figure no parameter was tuned to. Tests marked
 * CONSISTENCY check that a published per-event cost reaches the result unchanged (the
 * parameter is that number). Qualitative tests check a published direction, not a value. */
#include <math.h>
#include <string.h>

#include "models/virt.h"
#include "src/met.h"
#include "src/run.h"
#include "src/scn.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static virt_cpu *cpu_or_die(const char *model)
{
  GError *error = NULL;
  virt_cpu *cpu = virt_cpu_new(model, &error);
  g_assert_no_error(error);
  g_assert_nonnull(cpu);
  return cpu;
}

static virt_profile profile_or_die(const char *name)
{
  virt_profile p;
  GError *error = NULL;
  g_assert_true(virt_profile_preset(name, &p, &error));
  g_assert_no_error(error);
  return p;
}

/* A chain of n layers whose hypervisor VMs all expose hardware virtualization, every layer in
 * `mode`, the last one a 64-bit guest. */
static void exposed_chain(virt_layer *chain, guint n, virt_mode mode)
{
  static const char *names[] = {"vESX1", "vESX2", "vESX3", "vESX4"};
  g_assert(n <= G_N_ELEMENTS(names));
  for (guint i = 0; i < n; i++) {
    chain[i] = (virt_layer){.vm_name = i + 1 == n ? "app" : names[i],
                            .mode = mode,
                            .guest_64bit = TRUE,
                            .runs_hypervisor = i + 1 < n,
                            .expose_hw_virt = i + 1 < n};
  }
}

/* Slowdown (executing seconds per bare-metal second) of `profile` on `model` with every layer
 * in `mode` for the last layer (hypervisor layers: hardware), optionally one override. */
static double slowdown(const char *model, const char *profile, guint n, virt_mode mode,
                       const char *override, double value)
{
  g_autoptr(virt_cpu) cpu = cpu_or_die(model);
  if (override != NULL)
    g_assert_true(virt_cpu_set(cpu, override, value, NULL));
  virt_profile p = profile_or_die(profile);
  virt_mode modes[4];
  g_assert(n <= 4);
  for (guint i = 0; i + 1 < n; i++)
    modes[i] = VIRT_MODE_HARDWARE;
  modes[n - 1] = mode;
  virt_breakdown b;
  virt_compute_resolved(cpu, modes, n, &p, &b);
  return b.slowdown;
}

static gboolean strv_has(const char *const *v, const char *s)
{
  for (guint i = 0; v[i] != NULL; i++)
    if (strcmp(v[i], s) == 0)
      return TRUE;
  return FALSE;
}

/* ---- CPU presets and overrides ---------------------------------------------------------- */

static void test_presets_and_aliases(void)
{
  const char *const *names = virt_cpu_preset_names();
  /* The issue asks for at least a 2008-era, a Nehalem/Westmere-era and a recent preset. */
  g_assert_true(strv_has(names, "core2-2008"));
  g_assert_true(strv_has(names, "westmere-2010"));
  g_assert_true(strv_has(names, "skylake-2015"));
  for (guint i = 0; names[i] != NULL; i++) {
    g_autoptr(virt_cpu) cpu = cpu_or_die(names[i]);
    g_assert_cmpstr(virt_cpu_model(cpu), ==, names[i]);
    g_assert_true(virt_cpu_check(cpu, NULL));
  }
  const char *const *al = virt_cpu_preset_aliases();
  for (guint i = 0; al[i] != NULL; i += 2) {
    g_autoptr(virt_cpu) cpu = cpu_or_die(al[i]);
    g_assert_cmpstr(virt_cpu_model(cpu), ==, al[i + 1]);
  }
  /* Case does not matter: scenario authors write "Westmere". */
  g_autoptr(virt_cpu) w = cpu_or_die("Westmere");
  g_assert_cmpstr(virt_cpu_model(w), ==, "westmere-2010");
  g_assert_true(strv_has(names, virt_cpu_default_preset()));
}

static void test_unknown_model(void)
{
  GError *error = NULL;
  g_assert_null(virt_cpu_new("westmer", &error));
  g_assert_error(error, VIRT_ERROR, VIRT_ERROR_UNKNOWN_MODEL);
  g_assert_nonnull(strstr(error->message, "unknown CPU model 'westmer'"));
  g_assert_nonnull(strstr(error->message, "westmere-2010"));
  g_error_free(error);
}

static void test_every_parameter_has_a_source(void)
{
  /* A parameter without its source string would break the README table's promise. */
  const char *const *names = virt_cpu_preset_names();
  const char *const *params = virt_cpu_param_names();
  for (guint i = 0; names[i] != NULL; i++) {
    g_autoptr(virt_cpu) cpu = cpu_or_die(names[i]);
    for (guint j = 0; params[j] != NULL; j++) {
      g_assert_cmpuint(strlen(virt_cpu_param_source(cpu, params[j])), >, 10);
      g_assert_cmpuint(strlen(virt_cpu_param_doc(params[j])), >, 10);
      g_assert_true(isfinite(virt_cpu_get(cpu, params[j])));
    }
  }
}

static void test_override_sets_value_and_source(void)
{
  /* host cpu = { model = "westmere", exit_cycles = 1200 } */
  g_autoptr(virt_cpu) cpu = cpu_or_die("westmere");
  GError *error = NULL;
  g_assert_true(virt_cpu_set(cpu, "exit_cycles", 1200, &error));
  g_assert_no_error(error);
  g_assert_cmpfloat(virt_cpu_get(cpu, "exit_cycles"), ==, 1200);
  g_assert_cmpstr(virt_cpu_param_source(cpu, "exit_cycles"), ==, "scenario override");
  g_assert_true(virt_cpu_set(cpu, "vmcs_shadowing", 1, &error));
  g_assert_cmpfloat(virt_cpu_get(cpu, "vmcs_shadowing"), ==, 1);
  /* A copy is independent. */
  g_autoptr(virt_cpu) copy = virt_cpu_copy(cpu);
  g_assert_true(virt_cpu_set(copy, "exit_cycles", 5, NULL));
  g_assert_cmpfloat(virt_cpu_get(cpu, "exit_cycles"), ==, 1200);
}

static void test_override_unknown_parameter(void)
{
  g_autoptr(virt_cpu) cpu = cpu_or_die("westmere");
  GError *error = NULL;
  g_assert_false(virt_cpu_set(cpu, "exit_cycle", 1200, &error));
  g_assert_error(error, VIRT_ERROR, VIRT_ERROR_UNKNOWN_PARAM);
  g_assert_true(g_str_has_prefix(error->message, "unknown CPU parameter 'exit_cycle' (known: "
                                                 "model, ghz, vt, ept, vmcs_shadowing,"));
  g_error_free(error);
  /* The loader validates names against this list. */
  g_assert_true(strv_has(virt_cpu_param_names(), "exit_cycles"));
  g_assert_true(strv_has(virt_cpu_param_names(), "ept"));
}

static void test_override_invalid_values(void)
{
  g_autoptr(virt_cpu) cpu = cpu_or_die("skylake");
  struct {
    const char *name;
    double value;
  } bad[] = {{"exit_cycles", -1}, {"vt", 0.5}, {"ghz", 0}, {"walk_ref_cycles", NAN}};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    double before = virt_cpu_get(cpu, bad[i].name);
    GError *error = NULL;
    g_assert_false(virt_cpu_set(cpu, bad[i].name, bad[i].value, &error));
    g_assert_error(error, VIRT_ERROR, VIRT_ERROR_INVALID_VALUE);
    g_error_free(error);
    g_assert_true(virt_cpu_get(cpu, bad[i].name) == before);
  }
}

static void test_check_inconsistent_parameters(void)
{
  g_autoptr(virt_cpu) cpu = cpu_or_die("westmere");
  GError *error = NULL;
  /* Every per-event VT-x cost includes one round trip: raising the round trip above the
   * cheapest per-event cost (hw_priv_cycles = 3000) is inconsistent. */
  g_assert_true(virt_cpu_set(cpu, "exit_cycles", 3500, NULL));
  g_assert_false(virt_cpu_check(cpu, &error));
  g_assert_error(error, VIRT_ERROR, VIRT_ERROR_INVALID_VALUE);
  g_assert_nonnull(strstr(error->message, "hw_priv_cycles (3000) is below exit_cycles (3500)"));
  g_clear_error(&error);

  g_autoptr(virt_cpu) novt = cpu_or_die("westmere");
  g_assert_true(virt_cpu_set(novt, "vt", 0, NULL));
  g_assert_false(virt_cpu_check(novt, &error));
  g_assert_nonnull(strstr(error->message, "ept = true needs vt = true"));
  g_clear_error(&error);
}

/* ---- profiles and modes ----------------------------------------------------------------- */

static void test_profiles(void)
{
  static const char *const want[] = {"idle",    "cpu-only", "kernbench", "specjbb",
                                     "netperf", "forkwait"};
  for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
    g_assert_true(strv_has(virt_profile_preset_names(), want[i]));
    virt_profile p = profile_or_die(want[i]);
    g_assert_cmpfloat(p.interrupts, >, 0);
    g_assert_cmpuint(strlen(virt_profile_source(want[i])), >, 20);
  }
  GError *error = NULL;
  virt_profile p;
  g_assert_false(virt_profile_preset("kernelbench", &p, &error));
  g_assert_error(error, VIRT_ERROR, VIRT_ERROR_UNKNOWN_PROFILE);
  g_clear_error(&error);

  p = profile_or_die("cpu-only");
  g_assert_true(virt_profile_set(&p, "io_exits", 123, &error));
  g_assert_cmpfloat(p.io_exits, ==, 123);
  g_assert_false(virt_profile_set(&p, "io", 1, &error));
  g_assert_error(error, VIRT_ERROR, VIRT_ERROR_UNKNOWN_PARAM);
  g_clear_error(&error);
  g_assert_false(virt_profile_set(&p, "syscalls", -1, &error));
  g_assert_error(error, VIRT_ERROR, VIRT_ERROR_INVALID_VALUE);
  g_clear_error(&error);
}

static void test_mode_names(void)
{
  for (virt_mode m = VIRT_MODE_AUTOMATIC; m <= VIRT_MODE_HARDWARE; m++) {
    virt_mode back;
    g_assert_true(virt_mode_parse(virt_mode_name(m), &back, NULL));
    g_assert_cmpint(back, ==, m);
  }
  GError *error = NULL;
  virt_mode m;
  g_assert_false(virt_mode_parse("hwmmu", &m, &error));
  g_assert_error(error, VIRT_ERROR, VIRT_ERROR_INVALID_VALUE);
  g_clear_error(&error);
}

/* ---- resolution ------------------------------------------------------------------------- */

static virt_mode resolve_one(const char *model, const char *override, double value,
                             virt_mode want, gboolean is64, GPtrArray *notes)
{
  g_autoptr(virt_cpu) cpu = cpu_or_die(model);
  if (override != NULL)
    g_assert_true(virt_cpu_set(cpu, override, value, NULL));
  virt_layer l = {.vm_name = "vm1", .mode = want, .guest_64bit = is64};
  virt_mode got;
  GError *error = NULL;
  g_assert_true(virt_resolve(cpu, "esx01", &l, 1, &got, notes, &error));
  g_assert_no_error(error);
  return got;
}

static void test_resolve_automatic(void)
{
  /* VMware, "Virtual Machine Monitor Execution Modes in VMware vSphere 4.0" (2009), Intel:
   * P4 with VT-x: 64-bit -> VT-x + SPT, 32-bit Linux/Windows -> BT + SPT; 45 nm Core 2 with
   * VT-x: VT-x + SPT; Core i7 (Nehalem): VT-x + EPT; no VT-x: BT for 32-bit guests. */
  const virt_mode A = VIRT_MODE_AUTOMATIC;
  g_assert_cmpint(resolve_one("p4", NULL, 0, A, FALSE, NULL), ==, VIRT_MODE_SOFTWARE);
  g_assert_cmpint(resolve_one("p4", NULL, 0, A, TRUE, NULL), ==, VIRT_MODE_HW_CPU);
  g_assert_cmpint(resolve_one("core2", NULL, 0, A, FALSE, NULL), ==, VIRT_MODE_HW_CPU);
  g_assert_cmpint(resolve_one("core2", NULL, 0, A, TRUE, NULL), ==, VIRT_MODE_HW_CPU);
  g_assert_cmpint(resolve_one("westmere", NULL, 0, A, TRUE, NULL), ==, VIRT_MODE_HARDWARE);
  g_assert_cmpint(resolve_one("skylake", NULL, 0, A, FALSE, NULL), ==, VIRT_MODE_HARDWARE);
  g_assert_cmpint(resolve_one("core2", "vt", 0, A, FALSE, NULL), ==, VIRT_MODE_SOFTWARE);
}

static void test_resolve_explicit_falls_back(void)
{
  g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
  /* "hardware" on a CPU without EPT: the monitor honors only what the CPU supports. */
  g_assert_cmpint(resolve_one("core2", NULL, 0, VIRT_MODE_HARDWARE, TRUE, notes), ==,
                  VIRT_MODE_HW_CPU);
  g_assert_cmpuint(notes->len, ==, 1);
  g_assert_cmpstr(g_ptr_array_index(notes, 0), ==,
                  "vm 'vm1': cpu_mmu = hardware is not available on the CPU it sees; running "
                  "with hw-cpu");
  /* "software" for a 64-bit guest on Intel becomes VT-x (BT needs segment limits in long
   * mode, which Intel CPUs lack: VMware KB 1003945). */
  g_assert_cmpint(resolve_one("westmere", NULL, 0, VIRT_MODE_SOFTWARE, TRUE, notes), ==,
                  VIRT_MODE_HW_CPU);
  g_assert_cmpuint(notes->len, ==, 2);
  /* Explicit modes the CPU supports are kept, without a note. */
  g_assert_cmpint(resolve_one("westmere", NULL, 0, VIRT_MODE_HW_CPU, TRUE, notes), ==,
                  VIRT_MODE_HW_CPU);
  g_assert_cmpint(resolve_one("westmere", NULL, 0, VIRT_MODE_SOFTWARE, FALSE, notes), ==,
                  VIRT_MODE_SOFTWARE);
  g_assert_cmpuint(notes->len, ==, 2);
}

static void test_resolve_no_vt_64bit(void)
{
  g_autoptr(virt_cpu) cpu = cpu_or_die("core2");
  g_assert_true(virt_cpu_set(cpu, "vt", 0, NULL));
  virt_layer l = {.vm_name = "db01", .mode = VIRT_MODE_AUTOMATIC, .guest_64bit = TRUE};
  virt_mode got;
  GError *error = NULL;
  g_assert_false(virt_resolve(cpu, "esx01", &l, 1, &got, NULL, &error));
  g_assert_error(error, VIRT_ERROR, VIRT_ERROR_CANNOT_POWER_ON);
  g_assert_cmpstr(error->message, ==,
                  "vm 'db01': 64-bit guest cannot power on: host 'esx01' (CPU model "
                  "'core2-2008') has no hardware virtualization (vt = false), and binary "
                  "translation cannot run 64-bit guests on Intel CPUs; set vt = true on host "
                  "'esx01' (enable Intel VT-x in its BIOS), or use a 32-bit guest");
  g_error_free(error);
}

static void test_nested_without_exposure_64bit_guest(void)
{
  /* The seed's first pitfall: a nested ESXi without "Expose hardware assisted virtualization
   * to the guest OS" can only use binary translation, and a 64-bit guest fails to power on. */
  g_autoptr(virt_cpu) cpu = cpu_or_die("westmere");
  virt_layer chain[2] = {
    {.vm_name = "vESX1", .mode = VIRT_MODE_AUTOMATIC, .guest_64bit = TRUE,
     .runs_hypervisor = TRUE, .expose_hw_virt = FALSE},
    {.vm_name = "web01", .mode = VIRT_MODE_AUTOMATIC, .guest_64bit = TRUE},
  };
  virt_mode modes[2];
  GError *error = NULL;
  g_assert_false(virt_resolve(cpu, "esx01", chain, 2, modes, NULL, &error));
  g_assert_error(error, VIRT_ERROR, VIRT_ERROR_CANNOT_POWER_ON);
  g_assert_cmpstr(error->message, ==,
                  "vm 'web01': 64-bit guest cannot power on: its hypervisor runs in vm "
                  "'vESX1', which does not expose hardware virtualization, so only binary "
                  "translation is available and it cannot run 64-bit guests; set "
                  "expose_hw_virt = true on vm 'vESX1' (\"Expose hardware assisted "
                  "virtualization to the guest OS\"), or use a 32-bit guest");
  g_clear_error(&error);

  /* The same through virt_compute. */
  virt_profile p = profile_or_die("kernbench");
  virt_breakdown b;
  g_assert_false(virt_compute(cpu, "esx01", chain, 2, &p, &b, &error));
  g_assert_error(error, VIRT_ERROR, VIRT_ERROR_CANNOT_POWER_ON);
  g_clear_error(&error);

  /* A nested ESXi on a nested ESXi without exposure: ESXi is 64-bit, so no "32-bit" way out. */
  virt_layer deep[3] = {
    {.vm_name = "vESX1", .guest_64bit = TRUE, .runs_hypervisor = TRUE},
    {.vm_name = "vESX2", .guest_64bit = TRUE, .runs_hypervisor = TRUE},
    {.vm_name = "app", .guest_64bit = FALSE},
  };
  virt_mode m3[3];
  g_assert_false(virt_resolve(cpu, "esx01", deep, 3, m3, NULL, &error));
  g_assert_cmpstr(error->message, ==,
                  "vm 'vESX2': nested hypervisor (a 64-bit guest) cannot power on: its "
                  "hypervisor runs in vm 'vESX1', which does not expose hardware "
                  "virtualization, so only binary translation is available and it cannot run "
                  "64-bit guests; set expose_hw_virt = true on vm 'vESX1' (\"Expose hardware "
                  "assisted virtualization to the guest OS\")");
  g_clear_error(&error);
}

static void test_nested_without_exposure_32bit_guest_runs_bt(void)
{
  g_autoptr(virt_cpu) cpu = cpu_or_die("westmere");
  virt_layer chain[2] = {
    {.vm_name = "vESX1", .guest_64bit = TRUE, .runs_hypervisor = TRUE},
    {.vm_name = "old32", .mode = VIRT_MODE_AUTOMATIC, .guest_64bit = FALSE},
  };
  virt_profile p = profile_or_die("kernbench");
  virt_breakdown b;
  GError *error = NULL;
  g_assert_true(virt_compute(cpu, "esx01", chain, 2, &p, &b, &error));
  g_assert_no_error(error);
  g_assert_cmpint(b.mode, ==, VIRT_MODE_SOFTWARE);
  g_assert_cmpint(b.layer, ==, 2);
  /* BT does the work; the guest itself never exits, but its interrupts and device backend
   * interrupt vESX1 at L0. */
  g_assert_cmpfloat(b.bt, >, 0);
  g_assert_cmpfloat(b.l0_exit, >, 0);
  g_assert_cmpfloat(b.exit_multiplication, ==, 0);
}

static void test_exposure_needs_ept_on_host(void)
{
  g_autoptr(virt_cpu) cpu = cpu_or_die("core2");
  virt_layer chain[2] = {
    {.vm_name = "vESX1", .guest_64bit = TRUE, .runs_hypervisor = TRUE, .expose_hw_virt = TRUE},
    {.vm_name = "web01", .guest_64bit = TRUE},
  };
  virt_mode modes[2];
  GError *error = NULL;
  g_assert_false(virt_resolve(cpu, "esx01", chain, 2, modes, NULL, &error));
  g_assert_error(error, VIRT_ERROR, VIRT_ERROR_UNSUPPORTED);
  g_assert_cmpstr(error->message, ==,
                  "vm 'vESX1': expose_hw_virt needs VT-x and EPT on the CPU it runs on, but "
                  "host 'esx01' (CPU model 'core2-2008') has no EPT; ESXi exposes hardware "
                  "virtualization only on hosts with VT-x and EPT/RVI: use a host CPU with EPT "
                  "(Nehalem or later), or set expose_hw_virt = false");
  g_clear_error(&error);
}

static void test_exposure_forces_hardware(void)
{
  g_autoptr(virt_cpu) cpu = cpu_or_die("westmere");
  virt_layer chain[2] = {
    {.vm_name = "vESX1", .mode = VIRT_MODE_HW_CPU, .guest_64bit = TRUE,
     .runs_hypervisor = TRUE, .expose_hw_virt = TRUE},
    {.vm_name = "web01", .mode = VIRT_MODE_AUTOMATIC, .guest_64bit = TRUE},
  };
  virt_mode modes[2];
  g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
  g_assert_true(virt_resolve(cpu, "esx01", chain, 2, modes, notes, NULL));
  g_assert_cmpint(modes[0], ==, VIRT_MODE_HARDWARE);
  /* The nested ESXi sees VT-x and EPT: its guest gets hardware mode (nested EPT). */
  g_assert_cmpint(modes[1], ==, VIRT_MODE_HARDWARE);
  g_assert_cmpuint(notes->len, ==, 1);
}

/* ---- the fluid computation -------------------------------------------------------------- */

static void test_fractions_sum_to_one(void)
{
  /* Conservation: every executing second is attributed exactly once. */
  const char *const *cpus = virt_cpu_preset_names();
  const char *const *profiles = virt_profile_preset_names();
  const virt_mode last[] = {VIRT_MODE_SOFTWARE, VIRT_MODE_HW_CPU, VIRT_MODE_HARDWARE};
  for (guint c = 0; cpus[c] != NULL; c++) {
    g_autoptr(virt_cpu) cpu = cpu_or_die(cpus[c]);
    for (guint p = 0; profiles[p] != NULL; p++) {
      virt_profile prof = profile_or_die(profiles[p]);
      for (guint n = 1; n <= 3; n++) {
        for (guint k = 0; k < G_N_ELEMENTS(last); k++) {
          virt_mode modes[3] = {VIRT_MODE_HARDWARE, VIRT_MODE_HARDWARE, last[k]};
          virt_mode *m = modes + (3 - n);
          virt_breakdown b;
          virt_compute_resolved(cpu, m, n, &prof, &b);
          double sum = b.guest + b.l0_exit + b.l1_exit + b.page_walk + b.bt;
          g_assert_cmpfloat_with_epsilon(sum, 1.0, 1e-12);
          g_assert_cmpfloat(b.guest, >, 0);
          g_assert_cmpfloat(b.guest, <=, 1);
          g_assert_cmpfloat_with_epsilon(b.efficiency * b.slowdown, 1.0, 1e-12);
        }
      }
    }
  }
}

static void test_closed_form_single_and_nested(void)
{
  /* One event type, so the expected values follow from the cost rules by hand:
   * single level, VT-x: each I/O exit costs hw_io_cycles;
   * layer 2, nested VT-x: X (L2 -> L0 -> L1 round trip) + S (reflect/merge in L0)
   *   + h (L1's handler, hw_io - X) + n (X + v) (its trapped VMREAD/VMWRITEs) + X (its
   *   VMRESUME) + the backend's own device access one layer down (X + h). */
  g_autoptr(virt_cpu) cpu = cpu_or_die("westmere");
  const double X = virt_cpu_get(cpu, "exit_cycles");
  const double h = virt_cpu_get(cpu, "hw_io_cycles") - X;
  const double S = virt_cpu_get(cpu, "nested_switch_cycles");
  const double n = virt_cpu_get(cpu, "vmcs_accesses_per_exit");
  const double v = virt_cpu_get(cpu, "vmcs_access_cycles");
  const double f = virt_cpu_get(cpu, "ghz") * 1e9;
  const double rate = 10000;
  virt_profile p = {.io_exits = rate};
  virt_breakdown b;

  virt_mode one[1] = {VIRT_MODE_HARDWARE};
  virt_compute_resolved(cpu, one, 1, &p, &b);
  double t1 = 1 + rate * (X + h) / f;
  g_assert_cmpfloat_with_epsilon(b.slowdown, t1, 1e-12);
  g_assert_cmpfloat_with_epsilon(b.l0_exit, rate * (X + h) / f / t1, 1e-12);
  g_assert_cmpfloat_with_epsilon(b.l0_exits_per_s, rate / t1, 1e-9);

  virt_mode two[2] = {VIRT_MODE_HARDWARE, VIRT_MODE_HARDWARE};
  virt_compute_resolved(cpu, two, 2, &p, &b);
  double l0 = X + S + n * (X + v) + X + (X + h);
  double l1 = h;
  double t2 = 1 + rate * (l0 + l1) / f;
  g_assert_cmpfloat_with_epsilon(b.slowdown, t2, 1e-12);
  g_assert_cmpfloat_with_epsilon(b.l0_exit, rate * l0 / f / t2, 1e-12);
  g_assert_cmpfloat_with_epsilon(b.l1_exit, rate * l1 / f / t2, 1e-12);
  /* Hardware exits: 1 + n + 1 per guest exit, plus one for the backend. */
  g_assert_cmpfloat_with_epsilon(b.l0_exits_per_s, rate * (n + 3) / t2, 1e-9);

  /* TLB misses alone: (24 - 4) references of walk_ref_cycles each, only with EPT. */
  virt_profile tlb = {.tlb_misses = 1e6};
  virt_compute_resolved(cpu, one, 1, &tlb, &b);
  double w = 1e6 * (virt_cpu_get(cpu, "walk_refs_2d") - virt_cpu_get(cpu, "walk_refs_native")) *
             virt_cpu_get(cpu, "walk_ref_cycles") / f;
  g_assert_cmpfloat_with_epsilon(b.page_walk, w / (1 + w), 1e-12);
  virt_mode shadow[1] = {VIRT_MODE_HW_CPU};
  virt_compute_resolved(cpu, shadow, 1, &tlb, &b);
  g_assert_cmpfloat(b.page_walk, ==, 0);
  g_assert_cmpfloat(b.guest, ==, 1);
}

static void test_exit_multiplication(void)
{
  /* Hardware exits per guest exit: layer 1: 1. Layer 2: the exit, n = 7 VMCS accesses, the
   * VMRESUME: 9; with VMCS shadowing the accesses disappear: 2. Layer 3 without shadowing:
   * 1 + 7 * 9 + 9 = 73; with it (only L1's accesses are shadowed): 1 + 7 * 2 + 2 = 17. */
  virt_profile p = {.priv_ops = 1};
  virt_mode modes[3] = {VIRT_MODE_HARDWARE, VIRT_MODE_HARDWARE, VIRT_MODE_HARDWARE};
  virt_breakdown b;
  g_autoptr(virt_cpu) w = cpu_or_die("westmere");
  g_autoptr(virt_cpu) s = cpu_or_die("skylake");
  const double expect_w[] = {1, 9, 73}, expect_s[] = {1, 2, 17};
  for (guint n = 1; n <= 3; n++) {
    virt_compute_resolved(w, modes, n, &p, &b);
    g_assert_cmpfloat(b.exit_multiplication, ==, expect_w[n - 1]);
    virt_compute_resolved(s, modes, n, &p, &b);
    g_assert_cmpfloat(b.exit_multiplication, ==, expect_s[n - 1]);
  }
}

static void test_cpu_only_has_no_overhead(void)
{
  /* A compute loop exits only on timer ticks: the "cpu-only ~ no overhead". */
  const char *const *cpus = virt_cpu_preset_names();
  for (guint c = 0; cpus[c] != NULL; c++) {
    g_assert_cmpfloat(slowdown(cpus[c], "cpu-only", 1, VIRT_MODE_HW_CPU, NULL, 0), <, 1.002);
    g_assert_cmpfloat(slowdown(cpus[c], "cpu-only", 1, VIRT_MODE_SOFTWARE, NULL, 0), <, 1.002);
  }
  g_assert_cmpfloat(slowdown("skylake", "cpu-only", 1, VIRT_MODE_HARDWARE, NULL, 0), <, 1.002);
  g_assert_cmpfloat(slowdown("skylake", "cpu-only", 2, VIRT_MODE_HARDWARE, NULL, 0), <, 1.01);
}

static void test_overhead_grows_with_layers(void)
{
  /* Through the whole path (resolution included): ESXi on ESXi on ESXi, every hypervisor VM
   * exposing hardware virtualization, the guest's cpu_mmu automatic. */
  g_autoptr(virt_cpu) cpu = cpu_or_die("skylake");
  const char *const *profiles = virt_profile_preset_names();
  for (guint p = 0; profiles[p] != NULL; p++) {
    virt_profile prof = profile_or_die(profiles[p]);
    double prev = 1.0;
    for (guint n = 1; n <= 4; n++) {
      virt_layer chain[4];
      exposed_chain(chain, n, VIRT_MODE_AUTOMATIC);
      virt_breakdown b;
      GError *error = NULL;
      g_assert_true(virt_compute(cpu, "esx01", chain, n, &prof, &b, &error));
      g_assert_no_error(error);
      g_assert_cmpint(b.mode, ==, VIRT_MODE_HARDWARE);
      g_assert_cmpint(b.layer, ==, (int)n);
      if (n == 1)
        g_assert_cmpfloat(b.slowdown, >=, prev);
      else
        g_assert_cmpfloat(b.slowdown, >, prev);
      prev = b.slowdown;
    }
  }
}

static void test_vmcs_shadowing_reduces_nested_overhead(void)
{
  const char *const *profiles = virt_profile_preset_names();
  for (guint p = 0; profiles[p] != NULL; p++) {
    double with = slowdown("skylake", profiles[p], 2, VIRT_MODE_HARDWARE, NULL, 0);
    double without = slowdown("skylake", profiles[p], 2, VIRT_MODE_HARDWARE, "vmcs_shadowing", 0);
    g_assert_cmpfloat(with, <, without);
    /* It does nothing for a single-level VM. */
    g_assert_cmpfloat(slowdown("skylake", profiles[p], 1, VIRT_MODE_HARDWARE, NULL, 0), ==,
                      slowdown("skylake", profiles[p], 1, VIRT_MODE_HARDWARE, "vmcs_shadowing",
                               0));
  }
}

static void test_mdp_beats_shadow_on_ept(void)
{
  /* Turtles (OSDI 2010, §3.3, §4): multi-dimensional paging is much faster than
   * shadow-on-EPT for MMU-heavy workloads, because every guest page fault, PTE write and CR3
   * load under shadow-on-EPT becomes a multiplied nested exit. */
  double mdp = slowdown("westmere", "kernbench", 2, VIRT_MODE_HARDWARE, NULL, 0);
  double soe = slowdown("westmere", "kernbench", 2, VIRT_MODE_HW_CPU, NULL, 0);
  g_assert_cmpfloat(soe, >, 2 * mdp);
}

/* ---- validation: Turtles (Ben-Yehuda et al., OSDI 2010) --------------------------------- *
 * Published (KVM on KVM, Intel Nehalem-class host, multi-dimensional paging; L2 vs L1 guest):
 * kernbench run time nested 14.5% above the single-level guest, 10.3% with "DRW" (L1 reads
 * and writes VMCS fields directly in memory instead of VMREAD/VMWRITE, which VMCS shadowing
 * does in hardware); SPECjbb score 7.82% below, 6.3% with DRW. These per-benchmark figures
 * (Table 1, Table 2) were transcribed from secondary notes that agree with each other; the
 * paper's text could not be opened in this session — verify before release. The paper's
 * abstract (read): nested "within 6-8% of single-level (non-nested) virtualization for common
 * workloads". A score 7.82% lower is a time ratio of 1/(1 - 0.0782). */

static void test_turtles_kernbench(void)
{
  /* CALIBRATION: the kernbench profile's exit rate was solved for 14.5%, and
   * nested_switch_cycles for the DRW drop to 10.3%. Tolerance 0.002: the calibrated constants
   * are stored to five significant digits. */
  double s1 = slowdown("westmere", "kernbench", 1, VIRT_MODE_HARDWARE, NULL, 0);
  double s2 = slowdown("westmere", "kernbench", 2, VIRT_MODE_HARDWARE, NULL, 0);
  double drw = slowdown("westmere", "kernbench", 2, VIRT_MODE_HARDWARE, "vmcs_shadowing", 1);
  g_assert_cmpfloat_with_epsilon(s2 / s1, 1.145, 0.002);
  g_assert_cmpfloat_with_epsilon(drw / s1, 1.103, 0.002);
}

static void test_turtles_specjbb(void)
{
  /* CALIBRATION: the specjbb profile's exit rate was solved for a score 7.82% below the
   * single-level guest. A score is work per time, so the model's time ratio is
   * 1 / (1 - 0.0782) = 1.0848. Tolerance 0.002 as for kernbench. */
  double s1 = slowdown("westmere", "specjbb", 1, VIRT_MODE_HARDWARE, NULL, 0);
  double s2 = slowdown("westmere", "specjbb", 2, VIRT_MODE_HARDWARE, NULL, 0);
  g_assert_cmpfloat_with_epsilon(s2 / s1, 1 / (1 - 0.0782), 0.002);

  /* PREDICTION: SPECjbb with DRW, a score 6.3% below (time ratio 1 / (1 - 0.063) = 1.0672).
   * Nothing was tuned to it: the drop comes from the per-exit VMCS-access cost calibrated on
   * kernbench. The model assumes every exit type carries the same 7 VMCS accesses, whereas the
   * published drops (29% of the nested overhead for kernbench, 21% for SPECjbb in time terms)
   * show they differ by workload; tolerance 1.0 point (12% of the nested overhead). The model
   * gives 1.0596, 0.8 points low. */
  double drw = slowdown("westmere", "specjbb", 2, VIRT_MODE_HARDWARE, "vmcs_shadowing", 1);
  g_assert_cmpfloat_with_epsilon(drw / s1, 1 / (1 - 0.063), 0.010);
}

static void test_turtles_netperf(void)
{
  /* QUALITATIVE: Turtles' netperf figures are throughputs (and CPU utilization) of device
   * configurations; comparing throughput with this model needs the bare-metal CPU utilization,
   * which could not be read. What is asserted is the paper's direction: an exit-heavy
   * (I/O) workload without multi-level device assignment suffers far more from nesting than
   * kernbench or SPECjbb, and multi-level device assignment (no backend exits) helps. */
  double k = slowdown("westmere", "kernbench", 2, VIRT_MODE_HARDWARE, NULL, 0) /
             slowdown("westmere", "kernbench", 1, VIRT_MODE_HARDWARE, NULL, 0);
  double j = slowdown("westmere", "specjbb", 2, VIRT_MODE_HARDWARE, NULL, 0) /
             slowdown("westmere", "specjbb", 1, VIRT_MODE_HARDWARE, NULL, 0);
  double n1 = slowdown("westmere", "netperf", 1, VIRT_MODE_HARDWARE, NULL, 0);
  double n2 = slowdown("westmere", "netperf", 2, VIRT_MODE_HARDWARE, NULL, 0);
  double n2direct =
    slowdown("westmere", "netperf", 2, VIRT_MODE_HARDWARE, "backend_exits_per_io", 0);
  g_assert_cmpfloat(n2 / n1, >, 2 * k);
  g_assert_cmpfloat(n2 / n1, >, 2 * j);
  g_assert_cmpfloat(n2direct, <, n2);
}

/* ---- validation: VMware, "Performance Evaluation of Intel EPT Hardware Assist" (2009) ----- *
 * Xeon 5500 (Nehalem), ESX internal builds: "EPT provides performance gains of up to 48% for
 * MMU-intensive benchmarks and up to 600% for MMU-intensive microbenchmarks", and "EPT
 * increases memory access latencies for a few workloads" (read from the paper's introduction).
 * Our comparison: the same profile on westmere-2010 in hw-cpu (VT-x + shadow) vs hardware
 * (VT-x + EPT); gain = slowdown(shadow) / slowdown(EPT) - 1. */

static void test_ept_gain_macro(void)
{
  /* PREDICTION (bound): kernbench's MMU rates are assumptions from process-creation arithmetic,
   * not tuned to this figure. An MMU-intensive benchmark must gain, and by no more than the
   * largest published benchmark gain; tolerance 0: the bound is the published maximum. The
   * model gives 11.6%. */
  double shadow = slowdown("westmere", "kernbench", 1, VIRT_MODE_HW_CPU, NULL, 0);
  double ept = slowdown("westmere", "kernbench", 1, VIRT_MODE_HARDWARE, NULL, 0);
  double gain = shadow / ept - 1;
  g_assert_cmpfloat(gain, >, 0);
  g_assert_cmpfloat(gain, <=, 0.48);
}

static void test_ept_can_lose(void)
{
  /* QUALITATIVE: a TLB-miss-heavy workload with few page-table updates (specjbb) runs slower
   * with EPT: its 2D walks cost more than the shadow MMU's rare traps. */
  double shadow = slowdown("westmere", "specjbb", 1, VIRT_MODE_HW_CPU, NULL, 0);
  double ept = slowdown("westmere", "specjbb", 1, VIRT_MODE_HARDWARE, NULL, 0);
  g_assert_cmpfloat(ept, >, shadow);
}

static void test_ept_gain_micro(void)
{
  /* QUALITATIVE with a recorded deviation: the fork/wait microbenchmark gains much more than
   * any macro benchmark (published: microbenchmarks up to 600%, benchmarks up to 48%). The
   * model's forkwait gain is 768%, 28% above the published microbenchmark maximum: its trap
   * count was calibrated on the 2006 software VMM and carries costs of that VMM (translated
   * kernel code) that a VT-x VMM does not pay. Not asserted against 600%; listed in the README
   * table as a known deviation. */
  double shadow = slowdown("westmere", "forkwait", 1, VIRT_MODE_HW_CPU, NULL, 0);
  double ept = slowdown("westmere", "forkwait", 1, VIRT_MODE_HARDWARE, NULL, 0);
  double gain = shadow / ept - 1;
  double macro = slowdown("westmere", "kernbench", 1, VIRT_MODE_HW_CPU, NULL, 0) /
                   slowdown("westmere", "kernbench", 1, VIRT_MODE_HARDWARE, NULL, 0) - 1;
  g_assert_cmpfloat(gain, >, 0.48);
  g_assert_cmpfloat(gain, >, 10 * macro);
}

/* ---- validation: Adams & Agesen, ASPLOS 2006 --------------------------------------------- *
 * Nanobenchmarks (sec. 6, Fig. 4; the text, quoted verbatim in public code comments, was
 * read): syscall: software VMM ~2000 cycles over native, hardware VMM native speed; ptemod:
 * software VMM 391 cycles, hardware VMM 12733, "approximately thirty times worse"; pgfault:
 * native 1093, software 3927, hardware 11242. Forkwait (40,000 fork/wait iterations): native
 * 6.0 s, software VMM 36.9 s, hardware VMM 106.4 s (from secondary notes that agree with
 * each other; the paper's table could not be opened). */

static void test_aa_syscall(void)
{
  /* CONSISTENCY: a syscall-only microbenchmark costs bt_syscall_cycles (2000) per call under
   * BT and nothing under VT-x. */
  g_autoptr(virt_cpu) cpu = cpu_or_die("p4");
  const double f = virt_cpu_get(cpu, "ghz") * 1e9;
  const double rate = 1e6;
  virt_profile p = {.syscalls = rate};
  virt_mode bt[1] = {VIRT_MODE_SOFTWARE}, hw[1] = {VIRT_MODE_HW_CPU};
  virt_breakdown b;
  virt_compute_resolved(cpu, bt, 1, &p, &b);
  g_assert_cmpfloat_with_epsilon((b.slowdown - 1) * f / rate, 2000, 1e-6);
  virt_compute_resolved(cpu, hw, 1, &p, &b);
  g_assert_cmpfloat(b.slowdown, ==, 1);
}

static void test_aa_ptemod(void)
{
  /* CONSISTENCY: a PTE-write loop: the hardware VMM's extra cost per write over the software
   * VMM's is 12732 / 390 = 32.6, "approximately thirty times worse"; tolerance: 25..35, the
   * range that phrase covers. */
  g_autoptr(virt_cpu) cpu = cpu_or_die("p4");
  virt_profile p = {.pt_updates = 1e5};
  virt_mode bt[1] = {VIRT_MODE_SOFTWARE}, hw[1] = {VIRT_MODE_HW_CPU};
  virt_breakdown b;
  virt_compute_resolved(cpu, bt, 1, &p, &b);
  double sbt = b.slowdown - 1;
  virt_compute_resolved(cpu, hw, 1, &p, &b);
  double shw = b.slowdown - 1;
  g_assert_cmpfloat(shw / sbt, >, 25);
  g_assert_cmpfloat(shw / sbt, <, 35);
}

static void test_aa_forkwait(void)
{
  /* CALIBRATION: the forkwait trap rate was solved so that the software VMM takes 36.9 s
   * where native takes 6.0 s. */
  double bt = 6.0 * slowdown("p4", "forkwait", 1, VIRT_MODE_SOFTWARE, NULL, 0);
  g_assert_cmpfloat_with_epsilon(bt, 36.9, 0.05);

  /* PREDICTION: the hardware VMM's time follows from the same events at the VT-x nanobenchmark
   * costs; published 106.4 s. The model charges every shadow-paging trap at the true-fault
   * cost ratio (11242-1093)/(3927-1093) = 3.58, while the published forkwait ratio
   * (106.4-6)/(36.9-6) = 3.25 shows hidden faults are relatively cheaper under VT-x: that bias
   * is 3.58/3.25 = 1.10; tolerance 15% covers it plus the assumed syscall and CR3 counts. The
   * model gives 116.5 s (+9.5%). */
  double hw = 6.0 * slowdown("p4", "forkwait", 1, VIRT_MODE_HW_CPU, NULL, 0);
  g_assert_cmpfloat(fabs(hw - 106.4) / 106.4, <, 0.15);
  /* And the paper's headline: here the hardware VMM is slower than the software one. */
  g_assert_cmpfloat(hw, >, bt);
}

/* ---- scenarios (virt_cpu_for_host, virt_check_scenario, and a run's refusal) --------------- */

/* The seed's two pitfalls and their neighbours, line by line:
 *   3 vESX1: nested ESXi without exposed hardware virtualization (runs; warning: its guests
 *     get binary translation only);
 *   4 vESX2: exposed, but asks for cpu_mmu = software (warning: exposure runs it in hardware);
 *   5 web01: 64-bit guest in vESX1: cannot power on (error naming vESX1 and the fix);
 *   6 old32: 32-bit guest in vESX1: runs under binary translation (nothing to report);
 *   7 vESX3: a nested ESXi (64-bit) in vESX1: cannot power on (error);
 *   8 deep: a guest of vESX3: not reported again (its hypervisor never powered on);
 *   9 web02: 64-bit guest in the exposed vESX2: runs. */
#define PIT_HOST "hypervisor = esxi {} }\n"
static const char pitfalls_lua[] =
    "scenario { name = 'pit', duration = '10s' }\n"
    "local h = host { name = 'esx01', cpu = { cores = 8, ghz = 2.6 }, memory = '64GB', " PIT_HOST
    "local v1 = vm { name = 'vESX1', on = h, vcpus = 2, memory = '8GB', guest = 'esxi5', " PIT_HOST
    "local v2 = vm { name = 'vESX2', on = h, vcpus = 2, memory = '8GB', guest = 'esxi5', "
    "cpu_mmu = 'software', expose_hw_virt = true, " PIT_HOST
    "vm { name = 'web01', on = v1, vcpus = 1, memory = '1GB', guest = 'linux64' }\n"
    "vm { name = 'old32', on = v1, vcpus = 1, memory = '1GB', guest = 'linux32' }\n"
    "local v3 = vm { name = 'vESX3', on = v1, vcpus = 1, memory = '2GB', guest = 'esxi5', " PIT_HOST
    "vm { name = 'deep', on = v3, vcpus = 1, memory = '1GB', guest = 'linux32' }\n"
    "vm { name = 'web02', on = v2, vcpus = 1, memory = '1GB', guest = 'linux64' }\n";

static topo_scenario *load_or_die(const char *lua)
{
  GError *error = NULL;
  topo_scenario *scn = scn_load_string("pit.lua", lua, strlen(lua), NULL, &error);
  g_assert_no_error(error);
  return scn;
}

static void test_check_scenario_pitfalls(void)
{
  g_autoptr(topo_scenario) scn = load_or_die(pitfalls_lua);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
  g_assert_false(virt_check_scenario(scn, errors, warnings));
  g_assert_cmpuint(errors->len, ==, 2);
  const char *e0 = g_ptr_array_index(errors, 0), *e1 = g_ptr_array_index(errors, 1);
  g_assert_true(g_str_has_prefix(e0, "pit.lua:5: vm 'web01': 64-bit guest cannot power on"));
  g_assert_nonnull(strstr(e0, "set expose_hw_virt = true on vm 'vESX1'"));
  g_assert_nonnull(strstr(e0, "or use a 32-bit guest"));
  g_assert_true(g_str_has_prefix(e1, "pit.lua:7: vm 'vESX3': nested hypervisor"));
  g_assert_nonnull(strstr(e1, "set expose_hw_virt = true on vm 'vESX1'"));
  g_assert_cmpuint(warnings->len, ==, 2);
  const char *w0 = g_ptr_array_index(warnings, 0), *w1 = g_ptr_array_index(warnings, 1);
  g_assert_true(g_str_has_prefix(w0, "pit.lua:3: warning: vm 'vESX1' runs a hypervisor"));
  g_assert_true(g_str_has_prefix(w1, "pit.lua:4: warning: vm 'vESX2': cpu_mmu = software"));
  /* With exposure on vESX1 nothing is refused and only vESX2's note remains (vESX3 then
   * warns about itself: it runs a hypervisor without exposure). */
  topo_vm *v1 = g_ptr_array_index(((topo_host *)g_ptr_array_index(scn->hosts, 0))->vms, 0);
  v1->expose_hw_virt = true;
  g_ptr_array_set_size(errors, 0);
  g_ptr_array_set_size(warnings, 0);
  g_assert_true(virt_check_scenario(scn, errors, NULL));
  g_assert_cmpuint(errors->len, ==, 0);
}

/* A run refuses the same VMs, every one on its own line, with the scenario error domain (so
 * `nestsim run` exits 2). */
static void test_run_refuses_what_check_refuses(void)
{
  g_autoptr(topo_scenario) scn = load_or_die(pitfalls_lua);
  g_autoptr(met_table) met = met_table_new();
  run_result res = {0};
  GError *error = NULL;
  g_assert_false(run_scenario(scn, NULL, met, &res, &error));
  g_assert_error(error, SCN_ERROR, SCN_ERROR_INPUT);
  g_auto(GStrv) lines = g_strsplit(error->message, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 2);
  g_assert_true(g_str_has_prefix(lines[0], "pit.lua:5: vm 'web01'"));
  g_assert_true(g_str_has_prefix(lines[1], "pit.lua:7: vm 'vESX3'"));
  g_error_free(error);
}

/* A host's CPU: the preset, the scenario's flags, the host's clock, then numeric overrides. */
static void test_cpu_for_host(void)
{
  g_autoptr(topo_scenario) scn = load_or_die(
      "scenario { name = 'c', duration = '1s' }\n"
      "host { name = 'h', cpu = { cores = 2, ghz = 3.2, model = 'penryn', vt = false },\n"
      "       memory = '8GB', hypervisor = esxi {} }\n");
  topo_host *h = g_ptr_array_index(scn->hosts, 0);
  h->cpu_overrides = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  double exit_cycles = 1200;
  g_hash_table_insert(h->cpu_overrides, g_strdup("exit_cycles"),
                      g_memdup2(&exit_cycles, sizeof exit_cycles));
  GError *error = NULL;
  g_autoptr(virt_cpu) cpu = virt_cpu_for_host(h, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(virt_cpu_model(cpu), ==, "core2-2008");
  g_assert_cmpfloat(virt_cpu_get(cpu, "vt"), ==, 0);
  g_assert_cmpfloat(fabs(virt_cpu_get(cpu, "ghz") - 3.2), <, 1e-12);
  g_assert_cmpfloat(virt_cpu_get(cpu, "exit_cycles"), ==, 1200);
  g_assert_cmpstr(virt_cpu_param_source(cpu, "exit_cycles"), ==, "scenario override");
  /* An unknown preset the loader would have rejected still fails here, naming the host. */
  g_free(h->cpu_model);
  h->cpu_model = g_strdup("pentium");
  g_assert_null(virt_cpu_for_host(h, &error));
  g_assert_error(error, VIRT_ERROR, VIRT_ERROR_UNKNOWN_MODEL);
  g_assert_true(g_str_has_prefix(error->message, "host 'h': cpu: "));
  g_error_free(error);
}

/* The loader (src/scn.c) repeats virt.c's names, since libscn does not link the models: it
 * must accept every preset, alias, cost parameter and profile virt.c knows, reject an unknown
 * model in its usual grammar, read overhead_mode, and treat a hypervisor VM as a 64-bit guest
 * whatever its guest id. */
static topo_scenario *load_host_cpu(const char *cpu_extra, GError **error)
{
  g_autofree char *lua = g_strdup_printf(
      "scenario { name = 's', duration = '1s' }\n"
      "host { name = 'h', cpu = { cores = 2, ghz = 2.6, %s }, memory = '8GB',\n"
      "       hypervisor = esxi {} }\n", cpu_extra);
  return scn_load_string("test.lua", lua, strlen(lua), NULL, error);
}

static void test_loader_knows_every_name(void)
{
  GError *error = NULL;
  for (const char *const *n = virt_cpu_preset_names(); *n; n++) {
    g_autofree char *extra = g_strdup_printf("model = '%s'", *n);
    g_autoptr(topo_scenario) scn = load_host_cpu(extra, &error);
    g_assert_no_error(error);
    topo_host *h = g_ptr_array_index(scn->hosts, 0);
    g_assert_cmpstr(h->cpu_model, ==, *n);
  }
  for (const char *const *a = virt_cpu_preset_aliases(); *a; a += 2) {
    g_autofree char *extra = g_strdup_printf("model = '%s'", a[0]);
    g_autoptr(topo_scenario) scn = load_host_cpu(extra, &error);
    g_assert_no_error(error);
    g_autoptr(virt_cpu) cpu = virt_cpu_for_host(g_ptr_array_index(scn->hosts, 0), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(virt_cpu_model(cpu), ==, a[1]);
  }
  static const char *const own_keys[] = {"ghz", "vt", "ept", "vmcs_shadowing", NULL};
  for (const char *const *n = virt_cpu_param_names(); *n; n++) {
    if (g_strv_contains(own_keys, *n)) continue;
    g_autofree char *extra = g_strdup_printf("%s = 1", *n);
    g_autoptr(topo_scenario) scn = load_host_cpu(extra, &error);
    g_assert_no_error(error);
    topo_host *h = g_ptr_array_index(scn->hosts, 0);
    g_assert_nonnull(h->cpu_overrides);
    const double *v = g_hash_table_lookup(h->cpu_overrides, *n);
    g_assert_nonnull(v);
    g_assert_cmpfloat(*v, ==, 1);
  }
  for (const char *const *n = virt_profile_preset_names(); *n; n++) {
    g_autofree char *lua = g_strdup_printf(
        "scenario { name = 's', duration = '1s' }\n"
        "local h = host { name = 'h', cpu = { cores = 2, ghz = 2.6 }, memory = '8GB',\n"
        "                 hypervisor = esxi {} }\n"
        "vm { name = 'v', on = h, vcpus = 1, memory = '1GB',\n"
        "     workload = job { work = 1, profile = '%s' } }\n", *n);
    g_autoptr(topo_scenario) scn = scn_load_string("test.lua", lua, strlen(lua), NULL, &error);
    g_assert_no_error(error);
  }
  guint nf = 0;
  for (const char *const *n = virt_profile_field_names(); *n; n++, nf++) {
    g_autofree char *lua = g_strdup_printf(
        "scenario { name = 's', duration = '1s' }\n"
        "local h = host { name = 'h', cpu = { cores = 2, ghz = 2.6 }, memory = '8GB',\n"
        "                 hypervisor = esxi {} }\n"
        "vm { name = 'v', on = h, vcpus = 1, memory = '1GB',\n"
        "     workload = job { work = 1, profile = 'idle', %s = 5 } }\n", *n);
    g_autoptr(topo_scenario) scn = scn_load_string("test.lua", lua, strlen(lua), NULL, &error);
    g_assert_no_error(error);
    topo_vm *v = g_ptr_array_index(((topo_host *)g_ptr_array_index(scn->hosts, 0))->vms, 0);
    g_assert_nonnull(v->workload->rates);
    /* The rate lands at the field's index (the order models/cpu.c applies them in), every
     * other stays the profile's. */
    for (guint i = 0; virt_profile_field_names()[i]; i++)
      if (i == nf)
        g_assert_cmpfloat(v->workload->rates[i], ==, 5);
      else
        g_assert_true(isnan(v->workload->rates[i]));
  }
  g_assert_null(load_host_cpu("model = 'pentium'", &error));
  g_assert_nonnull(error);
  g_assert_true(g_str_has_prefix(error->message,
                                 "test.lua:2: host 'h': invalid 'cpu.model': expected "
                                 "\"p4-2006\", \"core2-2008\""));
  g_assert_nonnull(strstr(error->message, "got \"pentium\""));
  g_clear_error(&error);
  g_assert_null(load_host_cpu("exit_cycles = -5", &error));
  g_assert_nonnull(strstr(error->message, "invalid 'cpu.exit_cycles': expected a number >= 0"));
  g_clear_error(&error);

  const char *lua = "scenario { name = 's', duration = '1s', overhead_mode = 'discrete' }\n"
                    "local h = host { name = 'h', cpu = { cores = 2, ghz = 2.6 },\n"
                    "                 memory = '8GB', hypervisor = esxi {} }\n"
                    "vm { name = 'v', on = h, vcpus = 1, memory = '2GB', guest = 'other32',\n"
                    "     hypervisor = esxi {} }\n";
  g_autoptr(topo_scenario) scn = scn_load_string("test.lua", lua, strlen(lua), NULL, &error);
  g_assert_no_error(error);
  g_assert_true(scn->overhead_discrete);
  topo_vm *v = g_ptr_array_index(((topo_host *)g_ptr_array_index(scn->hosts, 0))->vms, 0);
  g_assert_true(v->guest_64bit);
  g_autoptr(topo_scenario) fluid = load_host_cpu("model = 'recent'", &error);
  g_assert_no_error(error);
  g_assert_false(fluid->overhead_discrete);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/virt/cpu/presets/names-and-aliases-resolve", test_presets_and_aliases);
  g_test_add_func("/virt/cpu/presets/unknown-model-lists-the-known-ones", test_unknown_model);
  g_test_add_func("/virt/cpu/presets/every-parameter-has-a-source",
                  test_every_parameter_has_a_source);
  g_test_add_func("/virt/cpu/override/sets-value-and-source", test_override_sets_value_and_source);
  g_test_add_func("/virt/cpu/override/unknown-parameter-is-an-error",
                  test_override_unknown_parameter);
  g_test_add_func("/virt/cpu/override/invalid-value-is-rejected", test_override_invalid_values);
  g_test_add_func("/virt/cpu/check/inconsistent-parameters", test_check_inconsistent_parameters);
  g_test_add_func("/virt/profile/presets-overrides-and-errors", test_profiles);
  g_test_add_func("/virt/mode/names-round-trip", test_mode_names);
  g_test_add_func("/virt/resolve/automatic/as-esx-chooses", test_resolve_automatic);
  g_test_add_func("/virt/resolve/explicit/falls-back-with-a-note",
                  test_resolve_explicit_falls_back);
  g_test_add_func("/virt/resolve/no-vt/64-bit-guest-cannot-power-on", test_resolve_no_vt_64bit);
  g_test_add_func("/virt/resolve/nested/unexposed-hypervisor-refuses-64-bit-guest",
                  test_nested_without_exposure_64bit_guest);
  g_test_add_func("/virt/resolve/nested/unexposed-hypervisor-runs-32-bit-guest-with-bt",
                  test_nested_without_exposure_32bit_guest_runs_bt);
  g_test_add_func("/virt/resolve/nested/exposure-needs-ept-on-host",
                  test_exposure_needs_ept_on_host);
  g_test_add_func("/virt/resolve/nested/exposure-runs-the-vm-in-hardware-mode",
                  test_exposure_forces_hardware);
  g_test_add_func("/virt/compute/fractions-sum-to-one", test_fractions_sum_to_one);
  g_test_add_func("/virt/compute/closed-form/single-and-nested-io",
                  test_closed_form_single_and_nested);
  g_test_add_func("/virt/compute/exit-multiplication-by-layer", test_exit_multiplication);
  g_test_add_func("/virt/compute/cpu-only-has-no-overhead", test_cpu_only_has_no_overhead);
  g_test_add_func("/virt/compute/overhead-grows-with-layers", test_overhead_grows_with_layers);
  g_test_add_func("/virt/compute/vmcs-shadowing-reduces-nested-overhead",
                  test_vmcs_shadowing_reduces_nested_overhead);
  g_test_add_func("/virt/compute/multi-dimensional-paging-beats-shadow-on-ept",
                  test_mdp_beats_shadow_on_ept);
  g_test_add_func("/virt/validation/turtles/kernbench-nested-and-drw", test_turtles_kernbench);
  g_test_add_func("/virt/validation/turtles/specjbb-nested-and-drw", test_turtles_specjbb);
  g_test_add_func("/virt/validation/turtles/netperf-suffers-most", test_turtles_netperf);
  g_test_add_func("/virt/validation/vmware-ept/mmu-benchmark-gain-within-48-percent",
                  test_ept_gain_macro);
  g_test_add_func("/virt/validation/vmware-ept/tlb-heavy-workload-can-lose", test_ept_can_lose);
  g_test_add_func("/virt/validation/vmware-ept/microbenchmark-gains-far-more",
                  test_ept_gain_micro);
  g_test_add_func("/virt/validation/adams-agesen/syscall", test_aa_syscall);
  g_test_add_func("/virt/validation/adams-agesen/ptemod", test_aa_ptemod);
  g_test_add_func("/virt/validation/adams-agesen/forkwait", test_aa_forkwait);
  g_test_add_func("/virt/scenario/check/seed-pitfalls-with-the-fix", test_check_scenario_pitfalls);
  g_test_add_func("/virt/scenario/run-refuses-what-check-refuses",
                  test_run_refuses_what_check_refuses);
  g_test_add_func("/virt/scenario/cpu-for-host/preset-flags-clock-overrides", test_cpu_for_host);
  g_test_add_func("/virt/scenario/loader-knows-every-name", test_loader_knows_every_name);
  return g_test_run();
}
