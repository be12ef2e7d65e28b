/* test-explain.c — `nestsim explain` (src/explain.c): the shares it reports against
 * proportional share worked out by hand, the chain of layers in order, the causes of a VM's
 * time adding up to all of it, the overhead figures against the model that set them, unknown
 * and ambiguous VM names (exit 2 with the candidates), and byte-identical output for one seed.
 * In-process through xpl_explain, and through the built binary ($NESTSIM_BIN) for the command
 * line. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "src/explain.h"
#include "src/scn.h"

#include "tests/testutil.h"

static const char *bin;
static const char *root;

static void assert_near(double got, double want, double tol, const char *what) {
  if (!(fabs(got - want) <= tol))
    g_error("%s: got %.6f, expected %.6f +- %.6f", what, got, want, tol);
}

static xpl_result *explain_text(const char *lua, const char *vm) {
  g_autoptr(GError) err = NULL;
  g_autoptr(topo_scenario) scn = scn_load_string("explain.lua", lua, strlen(lua), NULL, &err);
  g_assert_no_error(err);
  xpl_result *r = xpl_explain(scn, vm, &err);
  g_assert_no_error(err);
  g_assert_nonnull(r);
  return r;
}

static const xpl_cause *cause(const xpl_result *r, const char *key) {
  for (guint i = 0; i < r->causes->len; i++)
    if (!strcmp(g_array_index(r->causes, xpl_cause, i).key, key))
      return &g_array_index(r->causes, xpl_cause, i);
  g_error("no cause '%s'", key);
}

static const xpl_level *level(const xpl_result *r, guint i) {
  g_assert_cmpuint(i, <, r->levels->len);
  return &g_array_index(r->levels, xpl_level, i);
}

/* Every cause is a non-negative share, and together they are all of the VM's vCPU time (and,
 * idle left out, all of its busy time): the states of a vCPU partition its time. */
static void assert_conserved(const xpl_result *r) {
  double t = 0, b = 0, s = 0;
  for (guint i = 0; i < r->causes->len; i++) {
    const xpl_cause *c = &g_array_index(r->causes, xpl_cause, i);
    if (c->seconds < -1e-6) g_error("%s: cause %s is negative: %.9f s", r->vm, c->key, c->seconds);
    t += c->pct_time;
    s += c->seconds;
    if (strcmp(c->key, "idle")) b += c->pct_busy;
  }
  assert_near(t, 100.0, 1e-6, "sum of % time");
  assert_near(s, r->vcpus * r->span_s, 1e-6 * r->vcpus * r->span_s, "sum of seconds");
  if (r->busy_s > 0) assert_near(b, 100.0, 1e-6, "sum of % busy");
}

#define HOST(cores, threads) \
  "local h = host { name = 'h', cpu = { sockets = 1, cores = " #cores ", threads = " #threads \
  ", ghz = 2 }, memory = '64GB', hypervisor = esxi {} }\n"

/* ---- Shares ------------------------------------------------------------------------------- */

/* Two CPU-bound one-vCPU VMs with shares 2000 and 1000 on one single-thread core, no
 * overheads: proportional share gives a 2000 / (2000 + 1000) = 2/3 of the core and b 1/3. The
 * entitlement is that fraction exactly (it is computed, not measured); the measured share is a
 * scheduler's, which hands out whole 50 ms quanta compared in buckets of one quantum's charge,
 * so over 60 s it may be off by a few quanta: 0.02 of a core. With one thread per core and no
 * drag, every executing second is one bare-metal second of work (nothing is "slower"), and the
 * time not running is ready time at h (one vCPU: no co-stop; no limit). */
static void test_shares_two_to_one(void) {
  const char *lua =
      "scenario { name = 'shares', duration = '60s', warmup = '1s', overheads = false }\n"
      HOST(1, 1)
      "vm { name = 'a', on = h, vcpus = 1, memory = '1GB', shares = 2000,\n"
      "     workload = cpu { util = 1 } }\n"
      "vm { name = 'b', on = h, vcpus = 1, memory = '1GB', shares = 1000,\n"
      "     workload = cpu { util = 1 } }\n";
  const char *names[] = {"a", "b"};
  const double want[] = {2.0 / 3.0, 1.0 / 3.0};
  for (int i = 0; i < 2; i++) {
    g_autoptr(xpl_result) r = explain_text(lua, names[i]);
    g_assert_cmpuint(r->levels->len, ==, 1);
    const xpl_level *L = level(r, 0);
    g_assert_cmpstr(L->scheduler, ==, "h");
    g_assert_cmpfloat(L->all_shares, ==, 3000);
    g_assert_cmpint(L->cpus, ==, 1);
    assert_near(L->entitled_cpus, want[i], 1e-9, "entitlement");
    assert_near(r->demand_cores, 1.0, 0, "demand");
    assert_near(r->got_cores, want[i], 0.02, "share of the core");
    assert_near(L->got_frac, want[i], 0.02, "share of the time it asked");
    assert_near(cause(r, "work")->pct_time, want[i] * 100, 2.0, "work");
    assert_near(cause(r, "ready")->pct_time, (1 - want[i]) * 100, 2.0, "ready");
    assert_near(cause(r, "slow_exec")->seconds, 0, 1e-6, "slower execution");
    assert_near(cause(r, "idle")->seconds, 0, 1e-9, "idle");
    assert_conserved(r);
    g_autoptr(GString) text = g_string_new(NULL);
    xpl_format_text(r, text);
    g_autofree char *line = g_strdup_printf("%s gets %.2f of a core for a demand of 1.00",
                                            names[i], want[i]);
    if (!strstr(text->str, line)) g_error("no \"%s\" in:\n%s", line, text->str);
  }
}

/* A limit of 1000 MHz on a 2 GHz core is half a CPU (limits are in Hz of the host's clock at
 * every layer): a CPU-bound VM alone on the core gets 0.5 of it and spends the other half held
 * back by its limit (%MLMTD), within a few token-bucket quanta. */
static void test_limit_half_core(void) {
  const char *lua =
      "scenario { name = 'limit', duration = '60s', warmup = '1s', overheads = false }\n" HOST(1, 1)
      "vm { name = 'a', on = h, vcpus = 1, memory = '1GB', limit = 1000,\n"
      "     workload = cpu { util = 1 } }\n";
  g_autoptr(xpl_result) r = explain_text(lua, "a");
  assert_near(level(r, 0)->limit_cpus, 0.5, 1e-12, "limit in CPUs");
  assert_near(level(r, 0)->entitled_cpus, 0.5, 1e-9, "entitlement");
  assert_near(r->got_cores, 0.5, 0.02, "share of the core");
  assert_near(cause(r, "limit")->pct_time, 50, 2.0, "limited");
  assert_conserved(r);
}

/* ---- The chain ---------------------------------------------------------------------------- */

/* One single-thread core shared equally by a CPU-bound L1 VM and a one-vCPU nested host vESX,
 * whose vCPU is shared equally by two CPU-bound L2 VMs; no overheads. L0 runs vESX half the
 * time and vESX gives vm1 half of its (wall-clock) time, independently, so vm1 progresses
 * 1/2 x 1/2 = 1/4 of a core; vESX's esxtop shows it running 50% and ready 50%, and of its 50%
 * "running" L0 really ran it half: 25% of its time is descheduled below. Tolerance 0.03 of a
 * core (quantum granularity at two layers). The chain lists vm1 at vESX, then vESX at h, in
 * that order, then the host. */
static void test_chain_nested(void) {
  const char *lua =
      "scenario { name = 'chain', duration = '60s', warmup = '1s', overheads = false }\n" HOST(1, 1)
      "local v = vm { name = 'vESX', on = h, vcpus = 1, memory = '8GB', guest = 'esxi5',\n"
      "               expose_hw_virt = true, hypervisor = esxi {} }\n"
      "vm { name = 'other', on = h, vcpus = 1, memory = '1GB', workload = cpu { util = 1 } }\n"
      "for j = 1, 2 do vm { name = 'vm' .. j, on = v, vcpus = 1, memory = '1GB',\n"
      "  workload = cpu { util = 1 } } end\n";
  g_autoptr(xpl_result) r = explain_text(lua, "vESX/vm1");
  g_assert_cmpstr(r->vm, ==, "h/vESX/vm1");
  g_assert_cmpuint(r->levels->len, ==, 2);
  g_assert_cmpstr(level(r, 0)->vm, ==, "h/vESX/vm1");
  g_assert_cmpstr(level(r, 0)->scheduler, ==, "h/vESX");
  g_assert_cmpint(level(r, 0)->layer, ==, 2);
  g_assert_cmpstr(level(r, 1)->vm, ==, "h/vESX");
  g_assert_cmpstr(level(r, 1)->scheduler, ==, "h");
  g_assert_cmpint(level(r, 1)->layer, ==, 1);
  g_assert_cmpstr(r->host, ==, "h");
  /* Entitlements: vm1 1 of vESX's 1 vCPU by shares 1:1 = 0.5; vESX demands its guests' 2 CPUs
   * capped at its 1 vCPU, against other's 1 on 1 core: 0.5. */
  assert_near(level(r, 0)->entitled_cpus, 0.5, 1e-9, "vm1's entitlement at vESX");
  assert_near(level(r, 1)->entitled_cpus, 0.5, 1e-9, "vESX's entitlement at h");
  assert_near(r->got_cores, 0.25, 0.03, "vm1's share of the core");
  assert_near(level(r, 0)->run_pct, 50, 3, "vm1 %RUN at vESX");
  assert_near(level(r, 1)->run_pct, 50, 3, "vESX %RUN at h");
  assert_near(cause(r, "ready")->pct_time, 50, 3, "vm1 ready at vESX");
  assert_near(cause(r, "desched")->pct_time, 25, 3, "vm1 descheduled below");
  assert_conserved(r);

  g_autoptr(GString) text = g_string_new(NULL);
  xpl_format_text(r, text);
  const char *l2 = strstr(text->str, "L2 vm1 on h/vESX's");
  const char *l1 = strstr(text->str, "L1 vESX on h's");
  const char *l0 = strstr(text->str, "L0 h:");
  if (!l2 || !l1 || !l0 || !(l2 < l1 && l1 < l0))
    g_error("the chain is not L2, L1, L0 in order:\n%s", text->str);
  if (!strstr(r->summary, "waiting for vESX's vCPUs at L0"))
    g_error("the summary does not name the wait at L0: %s", r->summary);
}

/* ---- Causes on the seed lab --------------------------------------------------------------- */

/* The shipped lab (overheads, traffic, memory) for 20 s: for an L2 VM, its nested host and an
 * L1 VM, the causes cover all of the VM's time. For the L2 VM (fluid overheads), exits, page
 * walks and binary translation take the same fraction of every executing second as the model
 * computed (models/virt.h: virt_compute sets the drags to its fractions), so the run's share of
 * executing time equals the model's to rounding. */
static void test_causes_lab(void) {
  g_autofree char *path = g_build_filename(root, "scenarios", "nested-lab.lua", NULL);
  g_autoptr(GError) err = NULL;
  g_autoptr(topo_scenario) scn = scn_load_file_sets(path, NULL, &err);
  g_assert_no_error(err);
  scn->duration_ns = 20 * (gint64)1000000000;
  const char *vms[] = {"esx01/vESX1/vm1", "vESX1", "vcenter"};
  for (guint i = 0; i < G_N_ELEMENTS(vms); i++) {
    g_autoptr(xpl_result) r = xpl_explain(scn, vms[i], &err);
    g_assert_no_error(err);
    assert_conserved(r);
    g_assert_cmpuint(r->levels->len, ==, (guint)r->layer);
    if (i != 0) continue;
    g_assert_true(r->overheads);
    double exec = 0;
    const char *const exec_keys[] = {"work", "slow_exec", "l0_exit", "l1_exit", "page_walk",
                                     "bt", "mem_stall", "net"};
    for (guint k = 0; k < G_N_ELEMENTS(exec_keys); k++) exec += cause(r, exec_keys[k])->seconds;
    const char *const drag_keys[] = {"l0_exit", "l1_exit", "page_walk", "bt"};
    for (int k = 0; k < 4; k++)
      assert_near(cause(r, drag_keys[k])->seconds / exec, r->frac[k + 1], 1e-6, drag_keys[k]);
    g_assert_cmpfloat(r->exit_multiplication, >, 1); /* nested VT-x exits multiply */
    g_assert_cmpuint(r->params->len, >, 0);
    for (guint k = 0; k < r->params->len; k++)
      g_assert_cmpstr(g_array_index(r->params, xpl_param, k).source, !=, "");
  }
}

/* ---- The command line --------------------------------------------------------------------- */

/* Runs nestsim with the arguments given (NULL-terminated) and waits for it. */
static tu_result cli(const char *first, ...) {
  va_list ap;
  va_start(ap, first);
  tu_result r = tu_run_va(bin, NULL, first, ap);
  va_end(ap);
  return r;
}

/* Two nested hosts, each with a VM named web. */
static const char two_webs[] =
    "scenario { name = 'webs', duration = '5s', seed = 7 }\n"
    "local h = host { name = 'h', cpu = { sockets = 1, cores = 2, threads = 2, ghz = 2 },\n"
    "                 memory = '64GB', hypervisor = esxi {} }\n"
    "for i = 1, 2 do\n"
    "  local n = vm { name = 'n' .. i, on = h, vcpus = 2, memory = '8GB', guest = 'esxi5',\n"
    "                 expose_hw_virt = true, hypervisor = esxi {} }\n"
    "  vm { name = 'web', on = n, vcpus = 1, memory = '1GB', guest = 'linux64',\n"
    "       workload = cpu { util = 0.5, period = '100ms', dist = 'exp',\n"
    "                        profile = 'kernbench' } }\n"
    "end\n";

static char *write_scenario(const char *dir) {
  char *path = g_build_filename(dir, "webs.lua", NULL);
  g_autoptr(GError) error = NULL;
  g_file_set_contents(path, two_webs, -1, &error);
  g_assert_no_error(error);
  return path;
}

/* "web" names two VMs: exit 2, both listed, nothing on stdout; the tail "n1/web" and the full
 * path name one. */
static void test_cli_ambiguous(void) {
  g_autofree char *dir = tu_scratch("explain-XXXXXX");
  g_autofree char *s = write_scenario(dir);
  tu_result r = cli("explain", s, "web", NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "ambiguous"));
  g_assert_nonnull(strstr(r.err, "h/n1/web"));
  g_assert_nonnull(strstr(r.err, "h/n2/web"));
  g_assert_cmpstr(r.out, ==, "");
  tu_result_clear(&r);
  const char *ok[] = {"n1/web", "h/n2/web"};
  for (int i = 0; i < 2; i++) {
    r = cli("explain", s, ok[i], NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "In one line: web gets"));
    tu_result_clear(&r);
  }
  tu_rm_rf(dir);

  g_autoptr(GError) err = NULL;
  g_autoptr(topo_scenario) scn = scn_load_string("webs.lua", two_webs, strlen(two_webs), NULL,
                                                 &err);
  g_assert_no_error(err);
  g_assert_null(xpl_explain(scn, "web", &err));
  g_assert_error(err, XPL_ERROR, XPL_ERROR_AMBIGUOUS_VM);
}

/* An unknown name (and a host's name) exit 2 listing the VMs there are. */
static void test_cli_unknown(void) {
  g_autofree char *dir = tu_scratch("explain-XXXXXX");
  g_autofree char *s = write_scenario(dir);
  const char *bad[] = {"db", "h", "n3/web"};
  for (int i = 0; i < 3; i++) {
    tu_result r = cli("explain", s, bad[i], NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "h/n1/web"));
    g_assert_nonnull(strstr(r.err, "h/n2"));
    g_assert_cmpstr(r.out, ==, "");
    tu_result_clear(&r);
  }
  tu_result r = cli("explain", s, NULL);
  g_assert_cmpint(r.status, ==, 2); /* usage: no VM */
  tu_result_clear(&r);
  r = cli("explain", s, "n1/web", "--format", "xml", NULL);
  g_assert_cmpint(r.status, ==, 2);
  tu_result_clear(&r);
  tu_rm_rf(dir);
}

/* Same scenario and seed: byte-identical text and JSON; another seed: another run. */
static void test_cli_deterministic(void) {
  g_autofree char *dir = tu_scratch("explain-XXXXXX");
  g_autofree char *s = write_scenario(dir);
  const char *formats[] = {"text", "json"};
  for (int f = 0; f < 2; f++) {
    tu_result a = cli("explain", s, "n1/web", "--format", formats[f], NULL);
    tu_result b = cli("explain", s, "n1/web", "--format", formats[f], NULL);
    g_assert_cmpint(a.status, ==, 0);
    g_assert_cmpint(b.status, ==, 0);
    g_assert_cmpstr(a.out, ==, b.out);
    if (f == 1) {
      g_assert_true(g_str_has_prefix(a.out, "{\"scenario\":\"webs\""));
      g_assert_nonnull(strstr(a.out, "\"summary\":\"web gets"));
      tu_result c = cli("explain", s, "n1/web", "--format", "json", "--seed", "8", NULL);
      g_assert_cmpint(c.status, ==, 0);
      g_assert_cmpstr(a.out, !=, c.out);
      tu_result_clear(&c);
    }
    tu_result_clear(&a);
    tu_result_clear(&b);
  }
  tu_rm_rf(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  bin = g_getenv("NESTSIM_BIN");
  root = g_getenv("NESTSIM_SOURCE_ROOT");
  if (!root) root = ".";
  g_test_add_func("/explain/share/shares-2000-1000-on-one-core", test_shares_two_to_one);
  g_test_add_func("/explain/share/limit-half-a-core", test_limit_half_core);
  g_test_add_func("/explain/chain/nested-layers-in-order-quarter-core", test_chain_nested);
  g_test_add_func("/explain/causes/seed-lab-sum-to-100-and-match-model", test_causes_lab);
  if (bin) {
    g_test_add_func("/explain/cli/ambiguous-vm-exit-2-with-candidates", test_cli_ambiguous);
    g_test_add_func("/explain/cli/unknown-vm-exit-2-with-candidates", test_cli_unknown);
    g_test_add_func("/explain/cli/same-seed-same-output", test_cli_deterministic);
  }
  return g_test_run();
}
