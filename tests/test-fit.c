/* test-fit.c — `nestsim fit` (src/fit.c): the answers it finds on scenarios whose answer
 * follows from fair share by hand, the number of runs bisection and k-section take, the
 * direction it detects (load: largest, capacity: smallest), the ends that both pass or both
 * fail, its messages for bad input (exit 2), and determinism (the same fit.csv twice).
 * Runs the built binary ($NESTSIM_BIN) in scratch folders; every scenario is written here and
 * runs a few simulated seconds. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/testutil.h"

static const char *bin;

/* Runs nestsim fit with the arguments given (NULL-terminated) and waits for it. */
static tu_result fit(const char *first, ...) {
  va_list ap;
  va_start(ap, first);
  tu_result r = tu_run_va(bin, "fit", first, ap);
  va_end(ap);
  return r;
}

/* One physical host of `cores` single-thread cores (no hyper-threading, overheads off) and
 * `vms` one-vCPU VMs, each CPU-bound (util = 1) and of 1 GB, on a host of `memory`: 9 VMs of
 * 1 GB use a fraction of even 32 GB, so nothing is ever reclaimed. By fair share each vCPU gets
 * min(1, cores/vms) of a core and is ready the rest of the time:
 *   %RDY = 100 (1 - cores/vms) when vms > cores, else 0 (a CPU-bound vCPU alone on a core never
 *   waits). */
static const char cpu_lab[] =
    "local vms = param('vms', 4)\n"
    "local cores = param('cores', 4)\n"
    "local memory = param('memory', '64GB')\n"
    "scenario { name = 'fitcpu', duration = '4s', warmup = '1s', interval = '1s', seed = 7,\n"
    "           overheads = false }\n"
    "local h = host { name = 'h', cpu = { sockets = 1, cores = cores, threads = 1, ghz = 2 },\n"
    "                 memory = memory, hypervisor = esxi {} }\n"
    "for i = 1, vms do vm { name = 'vm' .. i, on = h, vcpus = 1, memory = '1GB',\n"
    "                       workload = cpu { util = 1 } } end\n";

/* One nested ESXi host of 2 vCPUs alone on a host of 2 single-thread cores (so L0 always runs
 * both of its vCPUs), running `l2` CPU-bound one-vCPU L2 VMs, overheads off. Each L2 vCPU gets
 * 2/l2 of a vCPU by fair share at L1 and, with no overhead, spends all of it on guest work; it
 * never idles. So its guest time over its busy time, l2_efficiency, is min(100, 200/l2) %:
 * 100, 100, 66.7, 50, 40 ... for l2 = 1, 2, 3, 4, 5. */
static const char l2_lab[] =
    "local l2 = param('l2', 2)\n"
    "scenario { name = 'fitl2', duration = '8s', warmup = '1s', interval = '1s', seed = 3,\n"
    "           overheads = false }\n"
    "local h = host { name = 'h', cpu = { sockets = 1, cores = 2, threads = 1, ghz = 2 },\n"
    "                 memory = '64GB', hypervisor = esxi {} }\n"
    "local v = vm { name = 'vESX1', on = h, vcpus = 2, memory = '16GB', guest = 'esxi5',\n"
    "               expose_hw_virt = true, hypervisor = esxi {} }\n"
    "for j = 1, l2 do vm { name = 'vm' .. j, on = v, vcpus = 1, memory = '1GB',\n"
    "                      workload = cpu { util = 1 } } end\n";

/* fit.csv's data rows (the header dropped; transfer full). */
static GStrv csv_rows(const char *dir) {
  g_autofree char *csv = tu_read_in(dir, "fit.csv");
  g_auto(GStrv) lines = g_strsplit(csv, "\n", -1);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (guint i = 1; lines[i]; i++)
    if (*lines[i]) g_strv_builder_add(b, lines[i]);
  return g_strv_builder_end(b);
}

/* The cell of fit.csv's `column` in the row whose third column (the value) is `value`. */
static double csv_value(const char *dir, const char *value, guint column) {
  g_auto(GStrv) rows = csv_rows(dir);
  for (char **r = rows; *r; r++) {
    g_auto(GStrv) cells = g_strsplit(*r, ",", -1);
    if (!strcmp(cells[2], value)) return g_ascii_strtod(cells[column], NULL);
  }
  g_error("fit.csv of %s has no row for %s", dir, value);
}

/* ceil(log2(n)) for n >= 1. */
static guint ceil_log2(guint n) {
  guint k = 0;
  while ((1u << k) < n) k++;
  return k;
}

/* ---- Answers against fair share --------------------------------------------------------- */

/* 4 cores: %RDY is 0 up to 4 VMs and 100 (1 - 4/5) = 20% at 5, so the largest number of VMs
 * with %RDY <= 5% is 4. Loading more VMs makes things worse: the low end passes and the high
 * end fails, a load parameter, so fit looks for the largest. Bisection over 1..9 keeps an
 * interval (pass, fail) of width 8 and halves it: ceil(log2 8) = 3 runs after the two ends. */
static void test_largest_vms_on_four_cores(void) {
  g_autofree char *dir = tu_scratch("fit-XXXXXX");
  g_autofree char *scn = tu_write_in(dir, "cpu.lua", cpu_lab);
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  tu_result r = fit(scn, "--vary", "vms", "--range", "1:9", "-j", "2", "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 0);
  /* No L2 VM in this scenario: the default targets are %RDY and swapping only. */
  g_assert_nonnull(strstr(r.out, "targets: rdy<=5 swap_mb==0\n"));
  g_assert_nonnull(strstr(r.out, "largest vms that meets all targets: 4 (5 fails rdy: "));
  g_assert_nonnull(strstr(r.out, "assumes each target gets monotonically worse"));
  g_auto(GStrv) rows = csv_rows(out);
  g_assert_cmpuint(g_strv_length(rows), ==, ceil_log2(9 - 1) + 2);
  /* The run at 5 VMs: 20% ready by fair share (within the quanta of 3 simulated seconds). */
  g_assert_cmpfloat(fabs(csv_value(out, "5", 4) - 20), <, 2);
  g_assert_cmpfloat(csv_value(out, "4", 4), <, 0.5);
  tu_result_clear(&r);
  tu_rm_rf(dir);
}

/* Six VMs: with c cores %RDY = 100 (1 - c/6), 16.7% at 5 cores and 0 from 6 on, so the
 * smallest box is 6 cores. Here the low end (1 core, 83% ready) fails and the high end passes:
 * a capacity parameter, so fit looks for the smallest. Over 1..16 the interval has width 15:
 * ceil(log2 15) = 4 halvings (8 passes, 4 fails, 6 passes, 5 fails), 6 runs in all. */
static void test_smallest_cores_for_six_vms(void) {
  g_autofree char *dir = tu_scratch("fit-XXXXXX");
  g_autofree char *scn = tu_write_in(dir, "cpu.lua", cpu_lab);
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  tu_result r = fit(scn, "--vary", "cores", "--range", "1:16", "--set", "vms=6", "--target",
                     "rdy<=5", "-j", "2", "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "smallest cores that meets all targets: 6 (5 fails rdy: "));
  g_auto(GStrv) rows = csv_rows(out);
  g_assert_cmpuint(g_strv_length(rows), ==, ceil_log2(16 - 1) + 2);
  g_assert_cmpfloat(fabs(csv_value(out, "5", 4) - 100.0 / 6), <, 2);
  tu_result_clear(&r);
  tu_rm_rf(dir);
}

/* l2_efficiency = 200/l2 % (l2_lab): 66.7 at 3 L2 VMs passes >= 60, 50 at 4 fails, so the
 * largest is 3; the run at 3 reads 66.7 within the quanta of 7 simulated seconds. */
static void test_l2_efficiency_by_fair_share(void) {
  g_autofree char *dir = tu_scratch("fit-XXXXXX");
  g_autofree char *scn = tu_write_in(dir, "l2.lua", l2_lab);
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  tu_result r = fit(scn, "--vary", "l2", "--range", "1:8", "--target", "l2_efficiency>=60",
                     "-j", "2", "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "largest l2 that meets all targets: 3 (4 fails l2_efficiency: "));
  g_assert_cmpfloat(fabs(csv_value(out, "3", 4) - 200.0 / 3), <, 2);
  g_assert_cmpfloat(fabs(csv_value(out, "1", 4) - 100), <, 0.5);
  tu_result_clear(&r);
  tu_rm_rf(dir);
}

/* --probes 3 cuts the interval into 4: over 1..9 the ends, then 3, 5, 7 (3 passes, 5 fails),
 * then 4 alone (the only value between 3 and 5): the same answer in 3 rounds instead of 4. */
static void test_k_section_same_answer(void) {
  g_autofree char *dir = tu_scratch("fit-XXXXXX");
  g_autofree char *scn = tu_write_in(dir, "cpu.lua", cpu_lab);
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  tu_result r = fit(scn, "--vary", "vms", "--range", "1:9", "--probes", "3", "-j", "2",
                     "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "largest vms that meets all targets: 4 (5 fails rdy: "));
  g_auto(GStrv) rows = csv_rows(out);
  g_assert_cmpuint(g_strv_length(rows), ==, 6);
  g_auto(GStrv) last = g_strsplit(rows[5], ",", -1);
  g_assert_cmpstr(last[1], ==, "3"); /* its round */
  g_assert_cmpstr(last[2], ==, "4");
  tu_result_clear(&r);
  tu_rm_rf(dir);
}

/* Both ends pass: 2 VMs on 4 cores are never ready, whatever the box's memory from 32 to 64 GB
 * (nothing to reclaim): fit says every value passes, exit 0, after the two runs; the values
 * keep their unit in fit.csv and in the --set of the runs. Both ends fail: 5 to 9 VMs on 4
 * cores are all >= 20% ready: exit 3. */
static void test_both_ends(void) {
  g_autofree char *dir = tu_scratch("fit-XXXXXX");
  g_autofree char *scn = tu_write_in(dir, "cpu.lua", cpu_lab);
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  tu_result r = fit(scn, "--vary", "memory", "--range", "32GB:64GB", "--set", "vms=2",
                     "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "every memory from 32GB to 64GB meets all targets"));
  g_auto(GStrv) rows = csv_rows(out);
  g_assert_cmpuint(g_strv_length(rows), ==, 2);
  g_assert_true(g_str_has_prefix(rows[0], "1,1,32GB,7,"));
  g_assert_true(g_str_has_prefix(rows[1], "2,1,64GB,7,"));
  tu_result_clear(&r);

  r = fit(scn, "--vary", "vms", "--range", "5:9", "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 3);
  g_assert_nonnull(strstr(r.out, "no vms from 5 to 9 meets all targets: 5 fails rdy: "));
  tu_result_clear(&r);
  tu_rm_rf(dir);
}

/* ---- Bad input: a message naming the mistake, exit 2, nothing run ---------------------- */

static void test_bad_input(void) {
  g_autofree char *dir = tu_scratch("fit-XXXXXX");
  g_autofree char *scn = tu_write_in(dir, "cpu.lua", cpu_lab);
  g_autofree char *out = g_build_filename(dir, "out", NULL);
  struct {
    const char *args[8];
    const char *message;
  } cases[] = {
      {{"--vary", "vmz", "--range", "1:4"},
       "--vary vmz: no param() of %s reads it; its params are: cores, memory, vms"},
      {{"--range", "1:4"}, "--vary PARAM is required"},
      {{"--vary", "vms", "--range", "4:1"}, "--range: expected LO:HI"},
      {{"--vary", "vms", "--range", "1-4"}, "--range: expected LO:HI"},
      {{"--vary", "vms", "--range", "1:4GB"}, "--range: expected LO:HI"},
      {{"--vary", "memory", "--range", "32:64"},
       "--range \"32:64\": memory's default is \"64GB\": give the ends in GB too"},
      {{"--vary", "vms", "--range", "1:4", "--target", "rdy=>5"},
       "--target \"rdy=>5\": expected an operator"},
      {{"--vary", "vms", "--range", "1:4", "--target", "speed>=5"},
       "--target \"speed>=5\": unknown metric \"speed\""},
      {{"--vary", "vms", "--range", "1:4", "--target", "rdy<=five"},
       "--target \"rdy<=five\": expected a number after '<='"},
      {{"--vary", "vms", "--range", "1:4", "--target", "rdy"}, "--target \"rdy\": expected METRIC OP"},
      {{"--vary", "vms", "--range", "1:4", "--set", "vms=2"}, "--set vms: vms is the parameter"},
      /* The loader refuses a value of the range before anything runs. */
      {{"--vary", "cores", "--range", "0:4"}, "the scenario refuses cores=0"},
      {{"--vary", "vms", "--range", "1:4", "--repeat", "0"}, "--repeat: expected 1 to"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)bin);
    g_ptr_array_add(argv, "fit");
    g_ptr_array_add(argv, scn);
    for (guint a = 0; cases[i].args[a]; a++) g_ptr_array_add(argv, (char *)cases[i].args[a]);
    g_ptr_array_add(argv, "--out");
    g_ptr_array_add(argv, out);
    g_ptr_array_add(argv, NULL);
    g_autofree char *sout = NULL, *serr = NULL;
    int ws = 0;
    g_autoptr(GError) error = NULL;
    g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &sout, &serr, &ws,
                 &error);
    g_assert_no_error(error);
    /* "%s" in a message stands for the scenario's path. */
    g_auto(GStrv) parts = g_strsplit(cases[i].message, "%s", -1);
    g_autofree char *want = g_strjoinv(scn, parts);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 2 || !strstr(serr, want))
      g_error("case %u: expected exit 2 and \"%s\", got status %d and:\n%s", i, want,
              WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, serr);
    /* Nothing ran: no results folder. */
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  }
  /* A run that the scenario refuses although the loader accepts it (the box's memory below
   * what its hypervisor needs for itself, found when the run starts) is bad input too. */
  tu_result r = fit(scn, "--vary", "memory", "--range", "1GB:64GB", "--out", out, NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "the run of memory=1GB (seed 7) failed"));
  tu_result_clear(&r);
  tu_rm_rf(dir);
}

/* ---- Determinism ------------------------------------------------------------------------ */

/* The same arguments give the same fit.csv, byte for byte, whatever -j: the values probed
 * depend on the range and --probes only. With --repeat 2 each value runs seeds 7 and 8 (the
 * scenario's seed, then the next). */
static void test_same_fit_twice(void) {
  g_autofree char *dir = tu_scratch("fit-XXXXXX");
  g_autofree char *scn = tu_write_in(dir, "cpu.lua", cpu_lab);
  g_autofree char *a = g_build_filename(dir, "a", NULL);
  g_autofree char *b = g_build_filename(dir, "b", NULL);
  tu_result r = fit(scn, "--vary", "vms", "--range", "2:7", "--repeat", "2", "-j", "1",
                     "--out", a, NULL);
  g_assert_cmpint(r.status, ==, 0);
  tu_result_clear(&r);
  r = fit(scn, "--vary", "vms", "--range", "2:7", "--repeat", "2", "-j", "2", "--out", b, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "largest vms that meets all targets: 4 (5 fails rdy: "));
  tu_result_clear(&r);
  g_autofree char *ca = tu_read_in(a, "fit.csv");
  g_autofree char *cb = tu_read_in(b, "fit.csv");
  g_assert_cmpstr(ca, ==, cb);
  g_auto(GStrv) rows = csv_rows(a);
  g_assert_true(g_str_has_prefix(rows[0], "1,1,2,7,"));
  g_assert_true(g_str_has_prefix(rows[1], "2,1,2,8,"));
  tu_rm_rf(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  bin = g_getenv("NESTSIM_BIN");
  if (!bin) {
    g_printerr("test-fit: set NESTSIM_BIN (meson test does)\n");
    return 1;
  }
  g_test_add_func("/fit/largest/vms-on-four-cores-by-fair-share", test_largest_vms_on_four_cores);
  g_test_add_func("/fit/smallest/cores-for-six-vms-by-fair-share", test_smallest_cores_for_six_vms);
  g_test_add_func("/fit/target/l2-efficiency-by-fair-share", test_l2_efficiency_by_fair_share);
  g_test_add_func("/fit/k-section/three-probes-same-answer-fewer-rounds", test_k_section_same_answer);
  g_test_add_func("/fit/ends/both-pass-or-both-fail", test_both_ends);
  g_test_add_func("/fit/input/bad-input-exit-2", test_bad_input);
  g_test_add_func("/fit/determinism/same-fit-csv-twice", test_same_fit_twice);
  return g_test_run();
}
