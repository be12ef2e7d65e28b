/* test-validation.c — the virtualization-overhead model (models/virt.c through models/cpu.c)
 * against published measurements, each reproduced by a full run of a scenario in
 * scenarios/validation/ (loaded with scn_load_file, run with run_scenario): the figure is a
 * ratio of two jobs' completion times, both jobs alone on their own core of the same host, so
 * that the ratio is the ratio of the overheads and nothing else.
 *
 * Kinds, as in /work/notes/virt-sources.md: CAL = a parameter of the model was tuned to this
 * figure, so the test only checks that the tuned value reaches a whole run unchanged (a job's
 * completion is rounded up to the ns, hence the tolerance of 0.2 percentage points on
 * constants stored to five digits); PRED = no parameter was tuned to it, the tolerance is the
 * one virt-sources.md justifies from what the model leaves out; QUAL = a published direction
 * or bound, not a value. /work/notes/validation-table.md has the table with the numbers. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "src/met.h"
#include "src/run.h"
#include "src/scn.h"
#include "src/topo.h"

typedef struct outcome {
  topo_scenario *scn;
  met_table *met;
} outcome;

static void outcome_free(outcome *o) {
  topo_scenario_free(o->scn);
  met_table_free(o->met);
  g_free(o);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(outcome, outcome_free)

/* Runs scenarios/validation/NAME.lua from the source tree. */
static outcome *run_validation(const char *name) {
  const char *root = g_getenv("NESTSIM_SOURCE_ROOT");
  g_autofree char *path = g_strdup_printf("%s/scenarios/validation/%s.lua", root ? root : ".",
                                          name);
  g_autoptr(GError) err = NULL;
  outcome *o = g_new0(outcome, 1);
  o->scn = scn_load_file(path, NULL, &err);
  g_assert_no_error(err);
  o->met = met_table_new();
  run_result res = {0};
  gboolean ok = run_scenario(o->scn, NULL, o->met, &res, &err);
  g_assert_no_error(err);
  g_assert_true(ok);
  return o;
}

static double completion(const outcome *o, const char *path) {
  gint64 e = met_lookup(o->met, path);
  if (e < 0) g_error("no entity '%s' in the results", path);
  double v = met_get_num(o->met, (met_id)e, "completion_s");
  if (isnan(v)) g_error("'%s' did not complete within the run", path);
  return v;
}

static double ratio(const outcome *o, const char *num, const char *den) {
  return completion(o, num) / completion(o, den);
}

static void assert_pct(double got_ratio, double want_ratio, double tol_pt, const char *what) {
  double d = (got_ratio - want_ratio) * 100;
  g_test_message("%s: published x%.4f, simulated x%.4f, difference %+.2f pt (tolerance %.2f)",
                 what, want_ratio, got_ratio, d, tol_pt);
  if (fabs(d) > tol_pt)
    g_error("%s: simulated x%.4f, published x%.4f: %+.2f points, tolerance %.2f", what,
            got_ratio, want_ratio, d, tol_pt);
}

/* Turtles, Table 1: kernbench nested (L2) runs 14.5% longer than single-level (L1) (CAL),
 * 10.3% with DRW = VMCS shadowing (CAL). Table 2: SPECjbb's score drops 7.82% nested, so its
 * time per unit of work is x 1/(1 - 0.0782) = 1.0848 (CAL); with DRW it drops 6.3%:
 * x 1/(1 - 0.063) = 1.0672, a prediction within 1.0 pt (the model gives every exit the same
 * VMCS accesses, while the paper's DRW gains differ by workload: 29% of the nested overhead for
 * kernbench, 21% for SPECjbb). netperf (the figure was not readable): its nested penalty must
 * exceed twice kernbench's and SPECjbb's, since every I/O exit of L2 costs a reflection plus
 * an exit of L1's own device backend. */
static void test_turtles(void) {
  g_autoptr(outcome) o = run_validation("turtles");
  assert_pct(ratio(o, "l2/vESX/kernbench", "l1/kernbench"), 1.145, 0.2, "kernbench nested");
  assert_pct(ratio(o, "l2drw/vESX/kernbench", "l1/kernbench"), 1.103, 0.2,
             "kernbench nested DRW");
  assert_pct(ratio(o, "l2/vESX/specjbb", "l1/specjbb"), 1 / (1 - 0.0782), 0.2,
             "specjbb nested");
  assert_pct(ratio(o, "l2drw/vESX/specjbb", "l1/specjbb"), 1 / (1 - 0.063), 1.0,
             "specjbb nested DRW (prediction)");
  double net = ratio(o, "l2/vESX/netperf", "l1/netperf") - 1;
  double kb = ratio(o, "l2/vESX/kernbench", "l1/kernbench") - 1;
  double jbb = ratio(o, "l2/vESX/specjbb", "l1/specjbb") - 1;
  g_test_message("netperf nested penalty %.3f, kernbench %.3f, specjbb %.3f", net, kb, jbb);
  g_assert_cmpfloat(net, >, 2 * kb);
  g_assert_cmpfloat(net, >, 2 * jbb);
}

/* VMware's EPT paper (2009): MMU-intensive benchmarks gain up to 48% from EPT. kernbench is
 * the MMU-heavy profile here, its MMU rates untuned assumptions: a prediction of a bound,
 * 0 < gain <= 48%. And "EPT increases memory access latencies for a few workloads": the
 * TLB-heavy SPECjbb profile (10^6 misses/s, few page-table updates) must be slower with EPT. */
static void test_ept_gain(void) {
  g_autoptr(outcome) o = run_validation("ept");
  double gain = ratio(o, "xeon/kernbench-shadow", "xeon/kernbench-ept") - 1;
  g_test_message("kernbench EPT gain over shadow paging: %.1f%% (published: up to 48%%)",
                 gain * 100);
  g_assert_cmpfloat(gain, >, 0);
  g_assert_cmpfloat(gain, <=, 0.48);
  g_assert_cmpfloat(ratio(o, "xeon/specjbb-ept", "xeon/specjbb-shadow"), >, 1);
}

/* Adams & Agesen, forkwait on a Pentium 4: 6.0 s native, 36.9 s under binary translation
 * (CAL: the profile's trap rate was tuned to it; +-0.05 s), 106.4 s under VT-x (PRED, +-15%:
 * the model charges every trap at the page-fault nanobenchmark's hardware/software cost ratio
 * 3.58, while forkwait's overall ratio is 3.25 — a bias of +10% — plus the assumed syscall and
 * CR3 counts). The jobs are 6.0 s of bare-metal work started at time 0, so completion_s is the
 * benchmark's run time. */
static void test_adams_agesen_forkwait(void) {
  g_autoptr(outcome) o = run_validation("adams-agesen");
  double bt = completion(o, "p4/bt"), vtx = completion(o, "p4/vtx");
  g_test_message("forkwait: BT %.2f s (published 36.9), VT-x %.2f s (published 106.4)", bt, vtx);
  g_assert_cmpfloat(fabs(bt - 36.9), <=, 0.05);
  g_assert_cmpfloat(fabs(vtx / 106.4 - 1), <=, 0.15);
}

/* Adams & Agesen's nanobenchmarks (Fig. 4), each a 10 s job doing only that event at
 * R = 10^5 per second of bare-metal work on the 3.8 GHz P4: the extra cycles per event are
 * (completion - 10 s) x 3.8e9 / (10 s x R). CONS: the model's costs are the published ones,
 * so they must come back through a whole run unchanged (to the ns rounding of a completion,
 * 1e-9 s x 3.8e9 / 10^6 events = 0.004 cycles; 0.5 cycle allowed):
 * - syscall: BT "approximately 2000 more cycles than a native system call"; under VT-x a system
 *   call does not exit: 0;
 * - ptemod: BT 391 - 1 (native) = 390 cycles, VT-x 12733 - 1 = 12732, "approximately thirty"
 *   times more (25..35, as virt-sources.md). */
static double extra_cycles(const outcome *o, const char *path) {
  return (completion(o, path) - 10.0) * 3.8e9 / (10.0 * 1e5);
}

static void test_adams_agesen_nanobenchmarks(void) {
  g_autoptr(outcome) o = run_validation("adams-agesen");
  double sys_bt = extra_cycles(o, "p4/syscall-bt"), sys_vtx = extra_cycles(o, "p4/syscall-vtx");
  double pte_bt = extra_cycles(o, "p4/ptemod-bt"), pte_vtx = extra_cycles(o, "p4/ptemod-vtx");
  g_test_message("syscall: BT +%.1f cycles (published ~2000), VT-x +%.1f (published 0)", sys_bt,
                 sys_vtx);
  g_test_message("ptemod: BT +%.1f cycles (published 390), VT-x +%.1f (published 12732), "
                 "ratio %.1f (published ~30)", pte_bt, pte_vtx, pte_vtx / pte_bt);
  g_assert_cmpfloat(fabs(sys_bt - 2000), <=, 0.5);
  g_assert_cmpfloat(fabs(sys_vtx), <=, 0.5);
  g_assert_cmpfloat(fabs(pte_bt - 390), <=, 0.5);
  g_assert_cmpfloat(fabs(pte_vtx - 12732), <=, 0.5);
  g_assert_cmpfloat(pte_vtx / pte_bt, >=, 25);
  g_assert_cmpfloat(pte_vtx / pte_bt, <=, 35);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/validation/turtles/single-vs-nested", test_turtles);
  g_test_add_func("/validation/ept/gain-over-shadow-paging", test_ept_gain);
  g_test_add_func("/validation/adams-agesen/forkwait-bt-vs-vtx", test_adams_agesen_forkwait);
  g_test_add_func("/validation/adams-agesen/syscall-and-ptemod-nanobenchmarks",
                  test_adams_agesen_nanobenchmarks);
  return g_test_run();
}
