/* test-cli.c — the nestsim command as a user meets it: exit statuses, golden transcripts of
 * broken scenarios (tests/scenarios/bad/NAME.lua -> NAME.err) and of `check`, determinism of
 * whole runs, and that a failed run writes nothing. Runs the built binary ($NESTSIM_BIN) in a
 * scratch folder. Set NESTSIM_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate
 * change (and review the diff). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/testutil.h"

static const char *bin;
static const char *root;

typedef struct {
  int status;
  char *out;
  char *err;
} cli_result;

static void cli_result_clear(cli_result *r) {
  g_free(r->out);
  g_free(r->err);
}

/* Runs nestsim with the given arguments (NULL-terminated) in `cwd`. */
static cli_result cli(const char *cwd, ...) {
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (char *)bin);
  va_list ap;
  va_start(ap, cwd);
  for (const char *a; (a = va_arg(ap, const char *));) g_ptr_array_add(argv, (char *)a);
  va_end(ap);
  g_ptr_array_add(argv, NULL);
  cli_result r = {0};
  int wait_status = 0;
  g_autoptr(GError) error = NULL;
  gboolean ok = g_spawn_sync(cwd, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r.out,
                             &r.err, &wait_status, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_assert_true(WIFEXITED(wait_status));
  r.status = WEXITSTATUS(wait_status);
  return r;
}

static char *src_path(const char *rel) { return g_build_filename(root, rel, NULL); }



static char *read_file(const char *path) {
  char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_file_get_contents(path, &text, NULL, &error);
  g_assert_no_error(error);
  return text;
}

/* Compares text with a golden file, or rewrites it when NESTSIM_UPDATE_GOLDEN is set. */
static void assert_golden(const char *golden_path, const char *text) {
  if (g_getenv("NESTSIM_UPDATE_GOLDEN")) {
    g_autoptr(GError) error = NULL;
    g_file_set_contents(golden_path, text, -1, &error);
    g_assert_no_error(error);
    return;
  }
  g_autofree char *want = read_file(golden_path);
  g_assert_cmpstr(text, ==, want);
}

static gboolean dir_is_empty(const char *path) {
  GDir *d = g_dir_open(path, 0, NULL);
  g_assert_nonnull(d);
  gboolean empty = g_dir_read_name(d) == NULL;
  g_dir_close(d);
  return empty;
}

static void test_version(void) {
  g_autofree char *cwd = tu_scratch("nestsim-cli-XXXXXX");
  cli_result r = cli(cwd, "--version", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_true(g_str_has_prefix(r.out, "nestsim "));
  cli_result_clear(&r);
  tu_rm_rf(cwd);
}

static void test_usage(void) {
  g_autofree char *cwd = tu_scratch("nestsim-cli-XXXXXX");
  const char *cases[][3] = {
      {"run", NULL, NULL},                 /* no scenario */
      {"frobnicate", NULL, NULL},          /* no such command */
      {"run", "--format=xml", "x.lua"},    /* bad option value */
      {"run", "--no-such-option", "x.lua"} /* unknown option */
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    cli_result r = cli(cwd, cases[i][0], cases[i][1], cases[i][2], NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_true(strstr(r.err, "nestsim") != NULL);
    cli_result_clear(&r);
  }
  g_assert_true(dir_is_empty(cwd));
  tu_rm_rf(cwd);
}

static void test_help(void) {
  g_autofree char *cwd = tu_scratch("nestsim-cli-XXXXXX");
  const char *cmds[] = {"run", "check", "bench", "plot", "sweep", "fit", "report", "explain"};
  for (gsize i = 0; i < G_N_ELEMENTS(cmds); i++) {
    cli_result r = cli(cwd, cmds[i], "--help", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_true(strstr(r.out, "Usage:") != NULL);
    cli_result_clear(&r);
  }
  tu_rm_rf(cwd);
}

/* Every broken scenario gives exactly its golden message on stderr, exit status 2, nothing on
 * stdout and no results folder. */
static void test_bad_scenarios(void) {
  g_autofree char *bad = src_path("tests/scenarios/bad");
  GDir *d = g_dir_open(bad, 0, NULL);
  g_assert_nonnull(d);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (const char *n; (n = g_dir_read_name(d));)
    if (g_str_has_suffix(n, ".lua")) g_ptr_array_add(names, g_strdup(n));
  g_dir_close(d);
  g_assert_cmpuint(names->len, >=, 10);
  for (guint i = 0; i < names->len; i++) {
    const char *n = names->pdata[i];
    g_autofree char *cwd = tu_scratch("nestsim-cli-XXXXXX");
    g_autofree char *lua = g_build_filename(bad, n, NULL);
    g_autofree char *stem = g_strndup(n, strlen(n) - 4);
    g_autofree char *err_file = g_strdup_printf("%s/%s.err", bad, stem);
    /* The golden text names the file as given on the command line: run from the folder. */
    g_autofree char *local = g_build_filename(cwd, n, NULL);
    g_autofree char *text = read_file(lua);
    g_file_set_contents(local, text, -1, NULL);
    const char *extra = strstr(text, "-- args: --set ") ? strstr(text, "-- args: --set ") + 15 : NULL;
    g_autofree char *set_arg = NULL;
    if (extra) set_arg = g_strndup(extra, strcspn(extra, "\n"));
    cli_result r = set_arg ? cli(cwd, "run", n, "--set", set_arg, NULL) : cli(cwd, "run", n, NULL);
    g_test_message("%s: status %d", n, r.status);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_cmpstr(r.out, ==, "");
    assert_golden(err_file, r.err);
    g_autofree char *results = g_build_filename(cwd, "results", NULL);
    g_assert_false(g_file_test(results, G_FILE_TEST_EXISTS));
    cli_result_clear(&r);
    tu_rm_rf(cwd);
  }
}

static void test_check_golden(void) {
  g_autofree char *cwd = tu_scratch("nestsim-cli-XXXXXX");
  g_autofree char *lab = src_path("scenarios/nested-lab.lua");
  g_autofree char *local = g_build_filename(cwd, "nested-lab.lua", NULL);
  g_autofree char *text = read_file(lab);
  g_file_set_contents(local, text, -1, NULL);
  cli_result r = cli(cwd, "check", "nested-lab.lua", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_autofree char *golden = src_path("tests/scenarios/golden/nested-lab.check");
  assert_golden(golden, r.out);
  cli_result_clear(&r);
  tu_rm_rf(cwd);
}

/* A port group that drops nested traffic is a network verdict "does not fit" of `check`
 * (exit 3) that names the port group and the fix; the golden file holds the verdict table and
 * the overall line (tests/scenarios/warn/NAME.lua -> NAME.warn, stdout from "HOST" on). */
static void test_check_network_verdict(void) {
  g_autofree char *cwd = tu_scratch("nestsim-cli-XXXXXX");
  g_autofree char *src = src_path("tests/scenarios/warn/nested-forged-reject.lua");
  g_autofree char *local = g_build_filename(cwd, "nested-forged-reject.lua", NULL);
  g_autofree char *text = read_file(src);
  g_file_set_contents(local, text, -1, NULL);
  cli_result r = cli(cwd, "check", "nested-forged-reject.lua", NULL);
  g_assert_cmpint(r.status, ==, 3);
  g_assert_cmpstr(r.err, ==, "");
  const char *table = strstr(r.out, "\nHOST ");
  g_assert_nonnull(table);
  g_autofree char *golden = src_path("tests/scenarios/warn/nested-forged-reject.warn");
  assert_golden(golden, table + 1);
  g_assert_true(strstr(table, "network   does not fit") != NULL);
  g_assert_true(strstr(table, "set forged_transmits = \"accept\"") != NULL);
  g_assert_true(strstr(table, "set promiscuous = \"accept\"") != NULL);
  g_assert_true(strstr(table, "\nverdict: does not fit — 2 of 8 checks fail; first: esx01 "
                              "network: ") != NULL);
  cli_result_clear(&r);
  tu_rm_rf(cwd);
}

/* A nested ESXi without hardware virtualization exposed loads fine but cannot power on its
 * 64-bit guests: `run` refuses it (exit 2, test_bad_scenarios), `check` says the lab does not
 * fit (exit 3) and names the fix. */
static void test_check_no_hw_virt(void) {
  g_autofree char *cwd = tu_scratch("nestsim-cli-XXXXXX");
  g_autofree char *lua = src_path("tests/scenarios/bad/nested-64bit-without-hw-virt.lua");
  cli_result r = cli(cwd, "check", lua, NULL);
  g_assert_cmpint(r.status, ==, 3);
  g_assert_true(strstr(r.out, "cpu       does not fit  vm 'web01': 64-bit guest cannot power on") != NULL);
  g_assert_true(strstr(r.out, "fix: set expose_hw_virt = true on vm 'vESX1'") != NULL);
  cli_result_clear(&r);
  tu_rm_rf(cwd);
}

/* Exit statuses of `check`: a lab whose memory does not fit exits 3; with the memory its fix
 * names (add 19 GB: test-review.c derives it) it exits 0; --format json prints the verdicts
 * alone; a bad --format, a missing file or a broken scenario exit 2. */
static void test_check_exit_status(void) {
  g_autofree char *cwd = tu_scratch("nestsim-cli-XXXXXX");
  g_autofree char *lab = g_build_filename(cwd, "full.lua", NULL);
  g_file_set_contents(lab,
                      "scenario { name = 'full', duration = '10s' }\n"
                      "local gb = param('host_gb', 16)\n"
                      "local h = host { name = 'esx01', cpu = { cores = 8, threads = 1, ghz = 2 },\n"
                      "  memory = gb .. 'GB', hypervisor = esxi { version = '5.5' },\n"
                      "  datastores = { datastore { name = 'ds1', capacity = '2TB' } } }\n"
                      "for i = 1, 4 do vm { name = 'vm' .. i, on = h, vcpus = 1, memory = '8GB',\n"
                      "  guest = 'linux64', workload = mem { active = 1.0, footprint = 1.0 } } end\n",
                      -1, NULL);
  cli_result r = cli(cwd, "check", "full.lua", NULL);
  g_assert_cmpint(r.status, ==, 3);
  g_assert_true(strstr(r.out, "fix: add 19 GB to esx01 (35 GB in all)") != NULL);
  g_assert_true(strstr(r.out, "\nverdict: does not fit — 1 of 4 checks fail; first: esx01 memory: ") != NULL);
  cli_result_clear(&r);
  r = cli(cwd, "check", "full.lua", "--set", "host_gb=35", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_true(strstr(r.out, "\nverdict: fits — all 4 checks fit\n") != NULL);
  cli_result_clear(&r);
  r = cli(cwd, "check", "full.lua", "--format", "json", NULL);
  g_assert_cmpint(r.status, ==, 3);
  g_assert_true(g_str_has_prefix(r.out, "{\n  \"scenario\": \"full\",\n  \"verdict\": \"does not fit\""));
  g_assert_true(strstr(r.out, "{\"host\": \"esx01\", \"layer\": 0, \"resource\": \"memory\", "
                              "\"verdict\": \"does not fit\"") != NULL);
  g_assert_null(strstr(r.out, "scenario full:")); /* no topology tree in JSON */
  cli_result_clear(&r);
  const char *bad[][4] = {{"check", "full.lua", "--format", "xml"},
                          {"check", "no-such-file.lua", NULL, NULL},
                          {"check", "full.lua", "--set", "nope=1"}};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    r = cli(cwd, bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_cmpstr(r.out, ==, "");
    cli_result_clear(&r);
  }
  tu_rm_rf(cwd);
}

/* Same scenario and seed give byte-identical files; another seed gives other draws. */
static void test_determinism(void) {
  g_autofree char *cwd = tu_scratch("nestsim-cli-XXXXXX");
  g_autofree char *lab = src_path("scenarios/nested-lab.lua");
  const char *dirs[] = {"a", "b", "c"};
  const char *seeds[] = {"7", "7", "8"};
  for (int i = 0; i < 3; i++) {
    cli_result r = cli(cwd, "run", lab, "--duration", "60s", "--seed", seeds[i], "--quiet",
                       "--out", dirs[i], NULL);
    g_assert_cmpint(r.status, ==, 0);
    cli_result_clear(&r);
  }
  const char *files[] = {"summary.json", "metrics.csv"};
  for (int f = 0; f < 2; f++) {
    g_autofree char *pa = g_build_filename(cwd, "a", files[f], NULL);
    g_autofree char *pb = g_build_filename(cwd, "b", files[f], NULL);
    g_autofree char *pc = g_build_filename(cwd, "c", files[f], NULL);
    g_autofree char *ta = read_file(pa), *tb = read_file(pb), *tc = read_file(pc);
    g_assert_cmpstr(ta, ==, tb);
    g_assert_cmpstr(ta, !=, tc);
  }
  tu_rm_rf(cwd);
}

/* The README's walkthrough, as a newcomer would follow it: its scenario text is cut out of
 * README.md and put through check (the shared promiscuous port group floods: tight, exit 0;
 * without expose_hw_virt its 64-bit L2 VMs cannot power on: does not fit, exit 3), run,
 * report and explain, so the README cannot drift from what the program accepts and says. */
static void test_readme_walkthrough(void) {
  g_autofree char *cwd = tu_scratch("nestsim-cli-XXXXXX");
  g_autofree char *readme_path = src_path("README.md");
  g_autofree char *readme = read_file(readme_path);
  const char *open = "<!-- walkthrough: lab.lua -->\n```lua\n";
  const char *from = strstr(readme, open);
  g_assert_nonnull(from);
  from += strlen(open);
  const char *to = strstr(from, "```\n<!-- /walkthrough -->");
  g_assert_nonnull(to);
  g_autofree char *lab = g_strndup(from, (gsize)(to - from));
  g_autofree char *lab_path = g_build_filename(cwd, "lab.lua", NULL);
  g_assert_true(g_file_set_contents(lab_path, lab, -1, NULL));
  g_autoptr(GString) novhv = g_string_new(lab);
  g_assert_cmpuint(g_string_replace(novhv, " expose_hw_virt = true,", "", 0), ==, 1);
  g_autofree char *novhv_path = g_build_filename(cwd, "lab-novhv.lua", NULL);
  g_assert_true(g_file_set_contents(novhv_path, novhv->str, -1, NULL));

  cli_result r = cli(cwd, "check", "lab.lua", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_true(g_regex_match_simple("^esx01 +L0 +network +tight +port group 'nested-trunk' "
                                     "floods", r.out, G_REGEX_MULTILINE, 0));
  g_assert_nonnull(strstr(r.out, "verdict: tight"));
  cli_result_clear(&r);
  r = cli(cwd, "check", "lab-novhv.lua", NULL);
  g_assert_cmpint(r.status, ==, 3);
  g_assert_nonnull(strstr(r.out, "set expose_hw_virt = true on vm 'vESX1'"));
  cli_result_clear(&r);
  r = cli(cwd, "run", "lab.lua", "--duration", "20s", "--quiet", NULL);
  g_assert_cmpint(r.status, ==, 0);
  cli_result_clear(&r);
  r = cli(cwd, "report", "results/my-lab/1", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_autofree char *html = g_build_filename(cwd, "results", "my-lab", "1", "report.html", NULL);
  g_assert_true(g_file_test(html, G_FILE_TEST_IS_REGULAR));
  cli_result_clear(&r);
  r = cli(cwd, "explain", "lab.lua", "vESX2/web1", "--duration", "20s", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "In one line: web1 gets"));
  cli_result_clear(&r);
  tu_rm_rf(cwd);
}

/* A --trace that names no VM or vCPU is a typing mistake: exit 2, the path in the message,
 * nothing written (not an empty trace.csv). */
static void test_trace_matches_nothing(void) {
  g_autofree char *cwd = tu_scratch("nestsim-cli-XXXXXX");
  g_autofree char *lab = src_path("scenarios/nested-lab.lua");
  cli_result r = cli(cwd, "run", lab, "--duration", "5s", "--trace", "esx01/vESX9/", "--quiet",
                     "--out", "t", NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "--trace 'esx01/vESX9/': no VM or vCPU has that path"));
  g_assert_true(dir_is_empty(cwd));
  cli_result_clear(&r);
  tu_rm_rf(cwd);
}

/* A results folder that cannot be written is a clear error naming it, exit 1, and the default
 * run writes results/<scenario>/<seed>/ with both files and no temporary leftovers. */
static void test_results_folder(void) {
  g_autofree char *cwd = tu_scratch("nestsim-cli-XXXXXX");
  g_autofree char *lab = src_path("scenarios/nested-lab.lua");
  g_autofree char *blocker = g_build_filename(cwd, "blocked", NULL);
  g_file_set_contents(blocker, "not a folder", -1, NULL);
  cli_result r = cli(cwd, "run", lab, "--duration", "10s", "--quiet", "--out", "blocked", NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_true(strstr(r.err, "blocked") != NULL);
  cli_result_clear(&r);

  r = cli(cwd, "run", lab, "--duration", "10s", "--quiet", NULL);
  g_assert_cmpint(r.status, ==, 0);
  cli_result_clear(&r);
  g_autofree char *out = g_build_filename(cwd, "results", "nested-lab", "42", NULL);
  GDir *d = g_dir_open(out, 0, NULL);
  g_assert_nonnull(d);
  int n = 0;
  for (const char *name; (name = g_dir_read_name(d)); n++)
    g_assert_true(!strcmp(name, "summary.json") || !strcmp(name, "metrics.csv"));
  g_dir_close(d);
  g_assert_cmpint(n, ==, 2);
  tu_rm_rf(cwd);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  bin = g_getenv("NESTSIM_BIN");
  root = g_getenv("NESTSIM_SOURCE_ROOT");
  g_assert_nonnull(bin);
  g_assert_nonnull(root);
  g_test_add_func("/cli/version/prints-name-and-version", test_version);
  g_test_add_func("/cli/usage/bad-usage-exits-2-and-writes-nothing", test_usage);
  g_test_add_func("/cli/help/every-command-has-help", test_help);
  g_test_add_func("/cli/bad-input/golden-message-exit-2-nothing-written", test_bad_scenarios);
  g_test_add_func("/cli/check/nested-lab-golden-tree", test_check_golden);
  g_test_add_func("/cli/check/nested-portgroup-dropping-traffic-exit-3-golden",
                  test_check_network_verdict);
  g_test_add_func("/cli/check/nested-esxi-without-hw-virt-exit-3", test_check_no_hw_virt);
  g_test_add_func("/cli/check/exit-0-fits-3-does-not-2-bad-input", test_check_exit_status);
  g_test_add_func("/cli/run/same-seed-byte-identical-other-seed-differs", test_determinism);
  g_test_add_func("/cli/run/results-folder-errors-and-layout", test_results_folder);
  g_test_add_func("/cli/readme/walkthrough-lab-checks-runs-reports-and-explains",
                  test_readme_walkthrough);
  g_test_add_func("/cli/run/trace-that-matches-nothing-exit-2-nothing-written",
                  test_trace_matches_nothing);
  return g_test_run();
}
