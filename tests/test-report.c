/* test-report.c — `nestsim report DIR`: the HTML holds every section, refers to nothing
 * outside itself, shows scenario names as text, rebuilds the run's topology from the saved
 * scenario text and --set values, gives the attribution of summary.json, is the same bytes for
 * the same folder, and says how to get plots without gnuplot. Then the real thing: Debian's
 * Chromium, headless, opens it, every image in it loads, and its screenshot is the page as
 * styled, not a blank or an error page (skipped, saying how to install Chromium, when it is
 * not there).
 *
 * One run serves every test: a small nested lab written below, whose VM names are HTML
 * ("<script>alert(1)", "<img src=x onerror=...>"), run with --set n=3 (the scenario's default
 * is 2) and --seed 11 (the scenario says 7), so that a report that ignored the saved
 * parameters would show two L2 VMs and seed 7. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "src/out.h"
#include "src/review.h"
#include "src/scn.h"

#include "tests/testutil.h"

static const char lab[] =
    "-- A small nested lab whose names try to inject HTML into the report.\n"
    "scenario { name = \"evil-lab\", duration = \"20s\", warmup = \"2s\", interval = \"2s\",\n"
    "           seed = 7 }\n"
    "local n = param(\"n\", 2)\n"
    "local esx = host { name = \"esx&01\", cpu = { sockets = 1, cores = 2, threads = 1,\n"
    "                   ghz = 2.6 }, memory = \"64GB\", hypervisor = esxi { version = \"5.5\" } }\n"
    "local v = vm { name = \"<script>alert(1)\", on = esx, vcpus = 2, memory = \"16GB\",\n"
    "               guest = \"esxi5\", cpu_mmu = \"hardware\", expose_hw_virt = true,\n"
    "               hypervisor = esxi { version = \"5.5\" } }\n"
    "for i = 1, n do\n"
    "  vm { name = \"<img src=x onerror=alert(\" .. i .. \")>\", on = v, vcpus = 1,\n"
    "       memory = \"2GB\", guest = \"linux64\",\n"
    "       workload = cpu { util = 0.8, period = \"100ms\", profile = \"kernbench\" } }\n"
    "end\n";

static char *scratch;  /* the folder of everything below */
static char *run_dir;  /* the run's results folder */
static char *html;     /* run_dir/report.html */
static gboolean plotted; /* gnuplot drew figures into run_dir/plots/ */

/* Runs nestsim with `env` (NULL = ours); OUT: stdout, stderr; returns the exit status. */
static int nestsim(char **env, char **out, char **err, ...) {
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)g_getenv("NESTSIM_BIN"));
  va_list ap;
  va_start(ap, err);
  for (const char *a; (a = va_arg(ap, const char *));) g_ptr_array_add(argv, (gpointer)a);
  va_end(ap);
  g_ptr_array_add(argv, NULL);
  g_autoptr(GError) e = NULL;
  int status = -1;
  g_spawn_sync(scratch, (char **)argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, out, err,
               &status, &e);
  g_assert_no_error(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *read_text(const char *path) {
  char *text = NULL;
  g_autoptr(GError) e = NULL;
  g_file_get_contents(path, &text, NULL, &e);
  g_assert_no_error(e);
  return text;
}

static guint count(const char *hay, const char *needle) {
  guint n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

/* The run and its report, once for all tests. */
static void setup(void) {
  scratch = tu_scratch("nestsim-report-XXXXXX");
  g_autofree char *scn = g_build_filename(scratch, "evil.lua", NULL);
  g_assert_true(g_file_set_contents(scn, lab, -1, NULL));
  run_dir = g_build_filename(scratch, "run", NULL);
  g_autofree char *out = NULL, *err = NULL;
  int st = nestsim(NULL, &out, &err, "run", scn, "--set", "n=3", "--seed", "11", "-q", "--out",
                   run_dir, NULL);
  g_assert_cmpstr(err, ==, "");
  g_assert_cmpint(st, ==, 0);
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  st = nestsim(NULL, &out, &err, "report", run_dir, NULL);
  g_assert_cmpint(st, ==, 0);
  html = g_build_filename(run_dir, "report.html", NULL);
  g_autofree char *said = g_strdup_printf("report in %s\n", html);
  g_assert_cmpstr(out, ==, said);
  g_autofree char *png = g_build_filename(run_dir, "plots", "cpu.png", NULL);
  plotted = g_file_test(png, G_FILE_TEST_EXISTS);
  g_autofree char *gnuplot = g_find_program_in_path("gnuplot");
  /* The report draws the figures itself when the folder has none. */
  g_assert_cmpint(plotted, ==, gnuplot != NULL);
}

/* ---- The document ---- */

/* Every section is there, in the order of the list after the header. */
static void test_sections(void) {
  g_autofree char *text = read_text(html);
  g_assert_true(g_str_has_prefix(text, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                                       "<meta charset=\"utf-8\">\n"));
  g_assert_true(g_str_has_suffix(text, "</body>\n</html>\n"));
  g_assert_true(g_utf8_validate(text, -1, NULL));
  const char *ids[] = {"<header id=\"header\">", "<section id=\"verdicts\">",
                       "<section id=\"topology\">", "<section id=\"plots\">",
                       "<section id=\"attribution\">", "<section id=\"scenario\">", "<footer>"};
  const char *prev = text;
  for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
    const char *p = strstr(text, ids[i]);
    g_assert_nonnull(p);
    g_assert_true(p > prev);
    prev = p;
  }
  g_assert_cmpuint(count(text, "<section"), ==, count(text, "</section>"));
}

/* Nothing refers outside the file: every src is a data: URI of an image, every href a link to
 * one of its own sections, no http(s) address anywhere (base64 has no ':', so a data: URI
 * cannot hide one), no script, no external style sheet or CSS url(). With gnuplot, one image
 * per PNG figure the run has. */
static void test_self_contained(void) {
  g_autofree char *text = read_text(html);
  g_assert_null(strstr(text, "http://"));
  g_assert_null(strstr(text, "https://"));
  g_assert_null(strstr(text, "url("));
  g_assert_null(strstr(text, "<link"));
  g_assert_null(strstr(text, "<script"));
  g_assert_null(strstr(text, "<iframe"));
  g_assert_null(strstr(text, "<object"));
  for (const char *p = text; (p = strstr(p, "src=\"")); p++)
    g_assert_true(g_str_has_prefix(p + 5, "data:image/png;base64,") ||
                  g_str_has_prefix(p + 5, "data:image/svg+xml;base64,"));
  for (const char *p = text; (p = strstr(p, "href=\"")); p++) g_assert_cmpint(p[6], ==, '#');
  guint pngs = 0;
  g_autofree char *pdir = g_build_filename(run_dir, "plots", NULL);
  g_autoptr(GDir) d = g_dir_open(pdir, 0, NULL);
  for (const char *f; d && (f = g_dir_read_name(d));) pngs += g_str_has_suffix(f, ".png");
  g_assert_cmpuint(count(text, "<img "), ==, pngs);
  g_assert_cmpuint(count(text, "src=\""), ==, pngs);
  if (plotted) {
    /* The run has L1 and L2 VMs, so plot.h draws at least cpu and attribution. */
    g_assert_cmpuint(pngs, >=, 2);
    g_assert_nonnull(strstr(text, "<img alt=\"cpu\" src=\"data:image/png;base64,iVBORw0KGgo"));
  }
}

/* The scenario's names are text: the VM called "<script>alert(1)" and the L2 VMs called
 * "<img src=x onerror=alert(i)>" appear escaped (in the tree, the attribution and the
 * scenario text) and never as markup; the host "esx&01" has its ampersand escaped. */
static void test_escaping(void) {
  g_autofree char *text = read_text(html);
  g_assert_null(strstr(text, "<script"));
  g_assert_null(strstr(text, "<img src=x"));
  g_assert_null(strstr(text, "esx&01"));
  g_assert_nonnull(strstr(text, "<span><b>vm</b> &lt;script&gt;alert(1) (L1)"));
  g_assert_nonnull(strstr(text, "<td>esx&amp;01/&lt;script&gt;alert(1)/&lt;img src=x "
                                "onerror=alert(2)&gt;</td><td>L2</td>"));
  g_assert_nonnull(strstr(text, "name = &quot;&lt;script&gt;alert(1)&quot;"));
}

/* The topology is the run's, rebuilt from the saved text with the saved --set n=3 and the
 * --seed 11 of the command line: the tree has three L2 VMs (the default would give two)
 * nested under the nested host's <details>, and seed 11; the header lists the parameter and
 * the run's times. */
static void test_topology_is_the_runs(void) {
  g_autofree char *text = read_text(html);
  g_assert_nonnull(strstr(text, "<td><code>--set n=3</code></td>"));
  g_assert_nonnull(strstr(text, "<tr><th>seed</th><td>11</td></tr>"));
  /* The scenario's duration, warm-up and interval. */
  g_assert_nonnull(strstr(text, "<tr><th>duration</th><td>20 s simulated after 2 s warm-up, "
                                "sampled every 2 s; "));
  const char *topo = strstr(text, "<section id=\"topology\">");
  const char *end = strstr(topo, "</section>");
  g_autofree char *tree = g_strndup(topo, (gsize)(end - topo));
  g_assert_nonnull(strstr(tree, "seed 11,"));
  g_assert_cmpuint(count(tree, "(L2)"), ==, 3);
  g_assert_nonnull(strstr(tree, "onerror=alert(3)&gt; (L2)"));
  /* The nested host opens a list that holds its L2 VMs and closes after the third. */
  const char *nested = strstr(tree, "<li><details open><summary><span><b>vm</b> &lt;script&gt;");
  g_assert_nonnull(nested);
  const char *close = strstr(nested, "</ul></details></li>");
  const char *third = strstr(nested, "alert(3)&gt; (L2)");
  g_assert_true(third && close && third < close);
  g_assert_cmpuint(count(tree, "<details open>"), ==, count(tree, "</details>"));
  g_assert_cmpuint(count(tree, "<ul"), ==, count(tree, "</ul>"));
}

/* The verdicts are the lab review's (src/review.h) of that same topology: one row per verdict
 * in its order, each with its level's colour class, and the overall level is the worst. The
 * expected rows come from rev_review on the scenario rebuilt here from the test's own text. */
static void test_verdicts(void) {
  g_autofree char *text = read_text(html);
  g_autoptr(GHashTable) set = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(set, "n", "3");
  g_autoptr(GError) e = NULL;
  g_autoptr(topo_scenario) scn =
      scn_load_string("evil.lua", lab, strlen(lab), &(scn_options){.set = set}, &e);
  g_assert_no_error(e);
  g_autoptr(GPtrArray) verdicts = rev_review(scn);
  const char *sec = strstr(text, "<section id=\"verdicts\">");
  const char *end = strstr(sec, "</section>");
  g_autofree char *part = g_strndup(sec, (gsize)(end - sec));
  if (!verdicts->len) {
    g_assert_nonnull(strstr(part, "gave no verdicts"));
    return;
  }
  static const char *const cls[] = {"v-fits", "v-tight", "v-does-not-fit"};
  g_autofree char *overall =
      g_strdup_printf("Overall: <span class=\"v %s\">", cls[rev_worst(verdicts)]);
  g_assert_nonnull(strstr(part, overall));
  g_assert_cmpuint(count(part, "<tr><td>"), ==, verdicts->len);
  const char *p = part;
  for (guint i = 0; i < verdicts->len; i++) {
    const rev_verdict *v = g_ptr_array_index(verdicts, i);
    g_autofree char *host = g_markup_escape_text(v->host, -1);
    g_autofree char *row = g_strdup_printf("<tr><td>%s</td><td>L%d</td><td>%s</td><td><span "
                                           "class=\"v %s\">%s</span>",
                                           host, v->layer, v->resource, cls[v->level],
                                           rev_level_name(v->level));
    p = strstr(p, row);
    g_assert_nonnull(p);
  }
}

/* The attribution table shows each L2 VM's attr_*_pct values of summary.json (read here with
 * out.h's reader) to one decimal, causes that are zero for all three left out; the causes of
 * a VM's time cover all of it, so each row's shown values add up to 100 within their rounding
 * (half a unit of the last digit per cell). */
static void test_attribution(void) {
  g_autofree char *text = read_text(html);
  g_autoptr(GError) e = NULL;
  g_autoptr(out_summary) sum = out_summary_read(run_dir, &e);
  g_assert_no_error(e);
  const met_table *t = out_summary_table(sum);
  const char *sec = strstr(text, "<section id=\"attribution\">");
  guint rows = 0;
  for (met_id id = 0; id < met_n_entities(t); id++) {
    if (strcmp(met_entity_kind(t, id), "vm") || met_entity_layer(t, id) != 2) continue;
    rows++;
    g_autofree char *path = g_markup_escape_text(met_entity_path(t, id), -1);
    g_autofree char *start = g_strdup_printf("<tr><td>%s</td><td>L2</td>", path);
    const char *row = strstr(sec, start);
    g_assert_nonnull(row);
    const char *p = row + strlen(start);
    double shown_sum = 0;
    guint cells = 0;
    static const char *const keys[] = {"attr_guest_pct", "attr_l0_exit_pct",
                                       "attr_l1_exit_pct", "attr_page_walk_pct", "attr_bt_pct",
                                       "attr_other_pct", "attr_wait_pct", "attr_desched_pct",
                                       "attr_idle_pct"};
    for (guint k = 0; k < G_N_ELEMENTS(keys); k++) {
      double v = met_get_num(t, id, keys[k]);
      g_assert_false(isnan(v));
      if (v == 0) continue; /* this lab has no BT and no memory or network stalls */
      char want[32];
      g_ascii_formatd(want, sizeof want, "%.1f", v);
      g_autofree char *cell = g_strdup_printf("<td class=\"num\">%s</td>", want);
      g_assert_true(g_str_has_prefix(p, cell));
      p += strlen(cell);
      shown_sum += g_ascii_strtod(want, NULL);
      cells++;
    }
    g_assert_true(g_str_has_prefix(p, "<td><div class=\"bar\">"));
    g_assert_cmpfloat(fabs(shown_sum - 100), <=, 0.05 * cells + 1e-9);
  }
  g_assert_cmpuint(rows, ==, 3);
}

/* The same folder gives the same bytes: a second report, to --out elsewhere, is identical
 * (no date, no path of the report, figures reused). */
static void test_deterministic(void) {
  g_autofree char *other = g_build_filename(scratch, "again.html", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint(nestsim(NULL, &out, &err, "report", run_dir, "--out", other, NULL), ==, 0);
  g_autofree char *a = read_text(html), *b = read_text(other);
  g_assert_true(strcmp(a, b) == 0);
}

/* Without gnuplot, on a folder with no figures yet, the report is still written (exit 0) with
 * a note saying how to get them, and no image. */
static void test_no_gnuplot(void) {
  g_autofree char *dir = g_build_filename(scratch, "noplots", NULL);
  g_autofree char *empty = g_build_filename(scratch, "empty-path", NULL);
  g_assert_cmpint(g_mkdir(empty, 0755), ==, 0);
  g_autofree char *scn = g_build_filename(scratch, "evil.lua", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint(nestsim(NULL, &out, &err, "run", scn, "-q", "--out", dir, NULL), ==, 0);
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "PATH", empty, TRUE);
  g_assert_cmpint(nestsim(env, &out, &err, "report", dir, NULL), ==, 0);
  g_assert_nonnull(strstr(err, "gnuplot"));
  g_autofree char *path = g_build_filename(dir, "report.html", NULL);
  g_autofree char *text = read_text(path);
  g_assert_nonnull(strstr(text, "<p class=\"note\">No plots: gnuplot is not installed. Install "
                                "it (<code>apt-get install gnuplot-nox</code>)"));
  g_assert_null(strstr(text, "<img"));
  g_assert_nonnull(strstr(text, "<section id=\"attribution\">"));
}

/* A folder written before the scenario text was saved still gets a report (header,
 * attribution), with notes where the topology, verdicts and scenario would be; a folder
 * without a summary is bad input (exit 2) and names the file. */
static void test_old_and_bad_folders(void) {
  g_autofree char *dir = g_build_filename(scratch, "old", NULL);
  g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
  g_autofree char *json = g_build_filename(dir, "summary.json", NULL);
  g_assert_true(g_file_set_contents(
      json,
      "{\"scenario\": \"old\", \"file\": \"old.lua\", \"seed\": 3, \"version\": \"0.0.9\", "
      "\"duration_s\": 10, \"warmup_s\": 0, \"interval_s\": 1, \"events\": 5, \"entities\": "
      "{\"h/v\": {\"kind\": \"vm\", \"layer\": 1, \"attr_guest_pct\": 25, "
      "\"attr_idle_pct\": 75}}}\n",
      -1, NULL));
  g_autofree char *empty = g_build_filename(scratch, "empty-path-2", NULL);
  g_assert_cmpint(g_mkdir(empty, 0755), ==, 0);
  g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "PATH", empty, TRUE);
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint(nestsim(env, &out, &err, "report", dir, NULL), ==, 0);
  g_autofree char *path = g_build_filename(dir, "report.html", NULL);
  g_autofree char *text = read_text(path);
  g_assert_nonnull(strstr(text, "<p class=\"note\">No verdicts: this folder"));
  g_assert_nonnull(strstr(text, "<p class=\"note\">No topology: this folder"));
  g_assert_nonnull(strstr(text, "<td>not recorded</td>"));
  /* Nothing is nested, so every VM with an attribution is shown: 25 and 75. */
  g_assert_nonnull(strstr(text, "<tr><td>h/v</td><td>L1</td><td class=\"num\">25.0</td>"
                                "<td class=\"num\">75.0</td>"));
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  g_assert_cmpint(nestsim(NULL, &out, &err, "report", scratch, NULL), ==, 2);
  g_assert_nonnull(strstr(err, "summary.json"));
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  g_assert_cmpint(nestsim(NULL, &out, &err, "report", NULL), ==, 2);
}

/* ---- In a real browser ---- */

static char *find_chromium(void) {
  char *p = g_find_program_in_path("chromium");
  if (!p && g_file_test("/usr/bin/chromium", G_FILE_TEST_IS_EXECUTABLE))
    p = g_strdup("/usr/bin/chromium");
  return p;
}

/* Runs headless Chromium on `page` with `extra` options (NULL-terminated) and returns its
 * stdout. coreutils' timeout stops it after 60 s (then 5 s later for good), so a browser that
 * hangs fails the test instead of stalling it; that is one process and no code here. Each run
 * gets its own profile folder. --no-sandbox: the sandbox needs user namespaces that CI
 * containers often lack; --disable-dev-shm-usage: a container's /dev/shm is small. */
static char *chromium(const char *bin, const char *page, const char *const *extra) {
  static int runs;
  g_autofree char *profile = g_strdup_printf("%s/chromium-profile-%d", scratch, runs++);
  g_autofree char *profile_opt = g_strdup_printf("--user-data-dir=%s", profile);
  g_autofree char *url = g_strdup_printf("file://%s", page);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  const char *head[] = {"timeout", "-k", "5", "60", bin, "--headless", "--no-sandbox",
                        "--disable-gpu", "--disable-dev-shm-usage", profile_opt,
                        "--virtual-time-budget=5000"};
  for (guint i = 0; i < G_N_ELEMENTS(head); i++) g_ptr_array_add(argv, (gpointer)head[i]);
  for (const char *const *a = extra; *a; a++) g_ptr_array_add(argv, (gpointer)*a);
  g_ptr_array_add(argv, url);
  g_ptr_array_add(argv, NULL);
  char *out = NULL;
  g_autofree char *err = NULL;
  int status = -1;
  g_autoptr(GError) e = NULL;
  g_spawn_sync(scratch, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
               &status, &e);
  g_assert_no_error(e);
  if (!g_spawn_check_wait_status(status, NULL)) g_test_message("chromium said: %s", err);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  return out;
}

/* Writes `text` with `script` inserted before </body> into scratch/name; returns the path. */
static char *with_probe(const char *text, const char *script, const char *name) {
  const char *body = strstr(text, "</body>");
  g_assert_nonnull(body);
  g_autofree char *probe =
      g_strdup_printf("%.*s<script>%s</script>\n%s", (int)(body - text), text, script, body);
  char *path = g_build_filename(scratch, name, NULL);
  g_assert_true(g_file_set_contents(path, probe, -1, NULL));
  return path;
}

/* The value of attribute `attr` in Chromium's dump of the DOM (transfer full). */
static char *dom_attr(const char *dom, const char *attr) {
  g_autofree char *key = g_strdup_printf("%s=\"", attr);
  const char *p = strstr(dom, key);
  g_assert_nonnull(p);
  p += strlen(key);
  return g_strndup(p, strcspn(p, "\""));
}

/* The report opens in Chromium and every image in it has loaded by the load event (a copy
 * with a probe script, since the report itself has none: on load it writes "loaded/total",
 * loaded = complete with a natural width, into the DOM that --dump-dom prints). Then a
 * screenshot of the report itself at 1200x1600, which Chromium decodes again on a canvas in a
 * second probe page (the PNG as a data: URI, so the canvas is not tainted and getImageData
 * works; no PNG decoder is needed here): the screenshot has the requested size, is not one
 * colour, and holds the exact background of the report's table headers (#f6f8fa, from its
 * style sheet) and of a verdict badge, which an error page or an unstyled page would not. */
static void test_browser(void) {
  g_autofree char *bin = find_chromium();
  if (!bin) {
    g_test_skip("Chromium is not installed (apt-get install chromium): the report was not "
                "opened in a browser");
    return;
  }
  g_autofree char *text = read_text(html);
  static const char load_probe[] =
      "window.addEventListener('load', function () {\n"
      "  var n = 0, imgs = document.images;\n"
      "  for (var i = 0; i < imgs.length; i++)\n"
      "    if (imgs[i].complete && imgs[i].naturalWidth > 0) n++;\n"
      "  document.body.setAttribute('data-images', n + '/' + imgs.length);\n"
      "});\n";
  g_autofree char *page = with_probe(text, load_probe, "probe.html");
  const char *dump[] = {"--dump-dom", NULL};
  g_autofree char *dom = chromium(bin, page, dump);
  g_autofree char *images = dom_attr(dom, "data-images");
  guint n = count(text, "<img ");
  g_autofree char *want = g_strdup_printf("%u/%u", n, n);
  g_assert_cmpstr(images, ==, want);
  g_assert_nonnull(strstr(dom, "<h1>nestsim report: evil-lab</h1>"));

  g_autofree char *shot = g_build_filename(scratch, "shot.png", NULL);
  g_autofree char *shot_opt = g_strdup_printf("--screenshot=%s", shot);
  const char *snap[] = {shot_opt, "--window-size=1200,1600", NULL};
  g_autofree char *ignored = chromium(bin, html, snap);
  g_autofree char *png = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(shot, &png, &len, NULL));
  g_autofree char *b64 = g_base64_encode((const guchar *)png, len);
  static const char pixel_probe[] =
      "window.addEventListener('load', function () {\n"
      "  var img = document.getElementById('shot'), c = document.createElement('canvas');\n"
      "  c.width = img.naturalWidth; c.height = img.naturalHeight;\n"
      "  var g = c.getContext('2d'); g.drawImage(img, 0, 0);\n"
      "  var d = g.getImageData(0, 0, c.width, c.height).data, seen = new Set();\n"
      "  for (var i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);\n"
      "  document.body.setAttribute('data-size', c.width + 'x' + c.height);\n"
      "  document.body.setAttribute('data-colours', seen.size);\n"
      "  document.body.setAttribute('data-th', seen.has(0xf6f8fa) ? 1 : 0);\n"
      "  document.body.setAttribute('data-badge', [0xdafbe1, 0xfff8c5, 0xffebe9]\n"
      "      .some(function (x) { return seen.has(x); }) ? 1 : 0);\n"
      "});\n";
  g_autofree char *holder =
      g_strdup_printf("<!DOCTYPE html>\n<html><body><img id=\"shot\" "
                      "src=\"data:image/png;base64,%s\"></body></html>\n", b64);
  g_autofree char *check = with_probe(holder, pixel_probe, "pixels.html");
  g_autofree char *dom2 = chromium(bin, check, dump);
  g_autofree char *size = dom_attr(dom2, "data-size");
  g_autofree char *colours = dom_attr(dom2, "data-colours");
  g_autofree char *th = dom_attr(dom2, "data-th");
  g_autofree char *badge = dom_attr(dom2, "data-badge");
  g_test_message("images loaded %s; screenshot %s, %s colours, table header colour %s, "
                 "verdict badge colour %s", images, size, colours, th, badge);
  g_assert_cmpstr(size, ==, "1200x1600");
  /* A blank page is one colour; anti-aliased text alone gives dozens. */
  g_assert_cmpuint(g_ascii_strtoull(colours, NULL, 10), >, 16);
  g_assert_cmpstr(th, ==, "1");
  g_autoptr(GHashTable) set = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(set, "n", "3");
  g_autoptr(topo_scenario) scn =
      scn_load_string("evil.lua", lab, strlen(lab), &(scn_options){.set = set}, NULL);
  g_autoptr(GPtrArray) verdicts = rev_review(scn);
  if (verdicts->len) g_assert_cmpstr(badge, ==, "1");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_assert_nonnull(g_getenv("NESTSIM_BIN"));
  setup();
  g_test_add_func("/report/html/every-section-in-order", test_sections);
  g_test_add_func("/report/html/self-contained-no-external-reference", test_self_contained);
  g_test_add_func("/report/html/scenario-names-are-escaped", test_escaping);
  g_test_add_func("/report/topology/rebuilt-with-saved-set-and-seed", test_topology_is_the_runs);
  g_test_add_func("/report/verdicts/the-lab-reviews-with-colours", test_verdicts);
  g_test_add_func("/report/attribution/summary-values-rows-sum-to-100", test_attribution);
  g_test_add_func("/report/deterministic/same-folder-same-bytes", test_deterministic);
  g_test_add_func("/report/plots/without-gnuplot-a-note", test_no_gnuplot);
  g_test_add_func("/report/folders/older-and-bad", test_old_and_bad_folders);
  g_test_add_func("/report/browser/opens-images-load-screenshot-not-blank", test_browser);
  int rc = g_test_run();
  tu_rm_rf(scratch);
  g_free(scratch);
  g_free(run_dir);
  g_free(html);
  return rc;
}
