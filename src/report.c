/* report.c — `nestsim report DIR`: one self-contained HTML file from a results folder.
 *
 * Everything comes from the folder: summary.json gives the run's fields, its summary values
 * (the attribution) and, since issue 8, the scenario's text and --set values, from which the
 * topology is rebuilt for the tree and the lab review's verdicts; DIR/plots/ gives the figures
 * (drawn first when there are none). The file must travel alone by mail, so nothing in it
 * refers outside it: figures are data: URIs, the style sheet is inline, there is no script and
 * no link but to its own sections.
 *
 * The same folder gives the same bytes: no date, no absolute path, every list in a fixed order
 * and every number through g_ascii_formatd. Every text that comes from the scenario (names,
 * the tree, the verdicts, the scenario itself) goes through html_text, so a VM called
 * "<script>" is shown, never run. */
#include "src/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nestsim-config.h"
#include "src/cli.h"
#include "src/met.h"
#include "src/out.h"
#include "src/plot.h"
#include "src/review.h"
#include "src/scn.h"
#include "src/topo.h"

/* ---------------------------------------------------------------------------------------------
 * HTML text. */

/* Appends s as HTML text (element content or a quoted attribute value): & < > " ' escaped.
 * Invalid UTF-8 from a scenario becomes U+FFFD first, since the file declares UTF-8. */
static void html_text(GString *out, const char *s) {
  g_autofree char *valid = NULL;
  if (!g_utf8_validate(s, -1, NULL)) s = valid = g_utf8_make_valid(s, -1);
  g_autofree char *esc = g_markup_escape_text(s, -1);
  g_string_append(out, esc);
}

/* A percentage with one decimal, independent of the locale; a rounding residue such as
 * -1e-15 prints as 0.0, not -0.0. */
static void append_pct(GString *out, double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append(out, g_ascii_formatd(buf, sizeof buf, "%.1f", fabs(v) < 0.05 ? 0.0 : v));
}

static const char style[] =
    "body{font:15px/1.45 system-ui,sans-serif;color:#1f2328;max-width:1100px;margin:0 auto;"
    "padding:1em 1.5em}\n"
    "h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;border-bottom:1px solid #d0d7de;"
    "padding-bottom:.2em;margin-top:1.6em}\n"
    "nav a{margin-right:1em}\n"
    "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #d0d7de;"
    "padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f6f8fa}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".kv th{width:12em}\n"
    ".v{display:inline-block;padding:0 .5em;border-radius:.8em;font-weight:600;white-space:nowrap}\n"
    ".v-fits{background:#dafbe1;color:#116329}.v-tight{background:#fff8c5;color:#7d4e00}\n"
    ".v-does-not-fit{background:#ffebe9;color:#a40e26}\n"
    "ul.tree,ul.tree ul{list-style:none;padding-left:1.2em;margin:0}ul.tree{padding-left:0}\n"
    "ul.tree li{font-family:ui-monospace,monospace;font-size:13px}ul.tree span{white-space:pre-wrap}\n"
    "summary{cursor:pointer}\n"
    "figure{margin:1em 0}figure img{max-width:100%;border:1px solid #d0d7de}\n"
    "figcaption{color:#59636e;font-size:.9em}\n"
    ".bar{display:flex;width:320px;height:14px;border:1px solid #d0d7de}.bar span{height:100%}\n"
    ".c-guest{background:#2da44e}.c-l0_exit{background:#bf3989}.c-l1_exit{background:#8250df}\n"
    ".c-page_walk{background:#0969da}.c-bt{background:#cf222e}.c-other{background:#bc4c00}\n"
    ".c-wait{background:#d4a72c}.c-desched{background:#57606a}.c-idle{background:#eaeef2}\n"
    ".c-x{background:#8c959f}\n"
    ".sw{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;"
    "vertical-align:middle;border:1px solid #d0d7de}.sw:first-child{margin-left:0}\n"
    "pre{background:#f6f8fa;padding:1em;overflow-x:auto;font-size:13px}\n"
    ".note{background:#fff8c5;border:1px solid #d4a72c;padding:.5em 1em}\n"
    "footer{margin-top:2em;color:#59636e;font-size:.85em}\n";

/* ---------------------------------------------------------------------------------------------
 * Header. */

static int cmp_strs(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void section_header(GString *h, const out_run_info *info) {
  const char *name = info->scenario ? info->scenario : "?";
  g_string_append(h, "<header id=\"header\">\n<h1>nestsim report: ");
  html_text(h, name);
  g_string_append(h, "</h1>\n<table class=\"kv\">\n<tr><th>scenario</th><td>");
  html_text(h, name);
  if (info->file) {
    g_string_append(h, " (");
    html_text(h, info->file);
    g_string_append(h, ")");
  }
  g_string_append_printf(h, "</td></tr>\n<tr><th>seed</th><td>%" G_GUINT64_FORMAT "</td></tr>\n",
                         info->seed);
  g_string_append(h, "<tr><th>duration</th><td>");
  out_append_seconds(h, info->duration_ns);
  g_string_append(h, " s simulated after ");
  out_append_seconds(h, info->warmup_ns);
  g_string_append(h, " s warm-up, sampled every ");
  out_append_seconds(h, info->interval_ns);
  g_string_append_printf(h, " s; %" G_GUINT64_FORMAT " events</td></tr>\n", info->events);
  g_string_append(h, "<tr><th>parameters</th><td>");
  guint n = 0;
  g_autofree const char **names =
      info->set ? (const char **)g_hash_table_get_keys_as_array(info->set, &n) : NULL;
  if (names) qsort(names, n, sizeof *names, cmp_strs);
  for (guint i = 0; i < n; i++) {
    g_string_append(h, i ? ", <code>--set " : "<code>--set ");
    html_text(h, names[i]);
    g_string_append_c(h, '=');
    html_text(h, g_hash_table_lookup(info->set, names[i]));
    g_string_append(h, "</code>");
  }
  if (!n) g_string_append(h, info->scenario_text ? "the scenario's defaults" : "not recorded");
  g_string_append(h, "</td></tr>\n<tr><th>simulated by</th><td>nestsim ");
  html_text(h, info->version ? info->version : "?");
  g_string_append(h, "</td></tr>\n</table>\n<nav><a href=\"#verdicts\">Verdicts</a>"
                     "<a href=\"#topology\">Topology</a><a href=\"#plots\">Plots</a>"
                     "<a href=\"#attribution\">Attribution</a><a href=\"#scenario\">Scenario</a>"
                     "</nav>\n</header>\n");
}

/* ---------------------------------------------------------------------------------------------
 * Topology and verdicts. */

/* The scenario as the run loaded it: its saved text with its saved --set values, with the
 * seed and duration the run used (the command line may have overridden the scenario's).
 * NULL with *error when the folder holds no scenario text or it no longer loads. */
static topo_scenario *reload_scenario(const out_run_info *info, GError **error) {
  if (!info->scenario_text) {
    g_set_error(error, OUT_ERROR, OUT_ERROR_PARSE,
                "this folder's summary.json holds no scenario text (it was written by an "
                "older nestsim): run the scenario again to get the topology and verdicts");
    return NULL;
  }
  g_autofree char *label = g_path_get_basename(info->file ? info->file : "scenario.lua");
  topo_scenario *scn =
      scn_load_string(label, info->scenario_text, strlen(info->scenario_text),
                      &(scn_options){.set = info->set}, error);
  if (!scn) return NULL;
  scn->seed = info->seed;
  scn->duration_ns = info->duration_ns;
  return scn;
}

/* topo_print_tree's text (two spaces of indentation per level) as nested lists: a line with
 * deeper lines under it becomes an open <details> whose summary is the line. The first word
 * (host, vm, vswitch, ...) is set in bold; the spaces inside a line are kept (white-space:
 * pre-wrap on its span only, not on the markup between the lines). */
static void section_tree_lines(GString *h, const char *text) {
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  guint n = g_strv_length(lines);
  while (n && !*lines[n - 1]) n--;
  g_autoptr(GArray) open = g_array_new(FALSE, FALSE, sizeof(gsize)); /* levels with a list open */
  g_string_append(h, "<ul class=\"tree\">\n");
  for (guint i = 0; i < n; i++) {
    gsize level = strspn(lines[i], " ") / 2;
    const char *body = lines[i] + strspn(lines[i], " ");
    gsize next = i + 1 < n ? strspn(lines[i + 1], " ") / 2 : 0;
    gboolean parent = i + 1 < n && next > level;
    g_string_append(h, parent ? "<li><details open><summary>" : "<li>");
    gsize word = strcspn(body, " :");
    g_autofree char *first = g_strndup(body, word);
    g_string_append(h, "<span><b>");
    html_text(h, first);
    g_string_append(h, "</b>");
    html_text(h, body + word);
    g_string_append(h, "</span>");
    if (parent) {
      g_string_append(h, "</summary>\n<ul>\n");
      g_array_append_val(open, level);
      continue;
    }
    g_string_append(h, "</li>\n");
    while (open->len && (i + 1 >= n || next <= g_array_index(open, gsize, open->len - 1))) {
      g_string_append(h, "</ul></details></li>\n");
      g_array_set_size(open, open->len - 1);
    }
  }
  g_string_append(h, "</ul>\n");
}

static const char *level_class(rev_level level) {
  switch (level) {
  case REV_FITS: return "v-fits";
  case REV_TIGHT: return "v-tight";
  case REV_DOES_NOT_FIT: return "v-does-not-fit";
  }
  g_assert_not_reached();
}

static void append_level(GString *h, rev_level level) {
  g_string_append_printf(h, "<span class=\"v %s\">", level_class(level));
  html_text(h, rev_level_name(level));
  g_string_append(h, "</span>");
}

static void section_verdicts(GString *h, const topo_scenario *scn, const GError *why) {
  g_string_append(h, "<section id=\"verdicts\">\n<h2>Verdicts</h2>\n");
  if (!scn) {
    g_string_append(h, "<p class=\"note\">No verdicts: ");
    html_text(h, why->message);
    g_string_append(h, "</p>\n</section>\n");
    return;
  }
  g_autoptr(GPtrArray) verdicts = rev_review(scn);
  if (!verdicts->len) {
    g_string_append(h, "<p>The lab review gave no verdicts for this topology.</p>\n</section>\n");
    return;
  }
  g_string_append(h, "<p>Overall: ");
  append_level(h, rev_worst(verdicts));
  g_string_append(h, " (the lab review of <code>nestsim check</code>: closed forms from the "
                     "topology, per host at every layer)</p>\n<table>\n<tr><th>host</th>"
                     "<th>layer</th><th>resource</th><th>verdict</th><th>why</th>"
                     "<th>fix</th></tr>\n");
  for (guint i = 0; i < verdicts->len; i++) {
    const rev_verdict *v = g_ptr_array_index(verdicts, i);
    g_string_append(h, "<tr><td>");
    html_text(h, v->host ? v->host : "");
    g_string_append_printf(h, "</td><td>L%d</td><td>", v->layer);
    html_text(h, v->resource ? v->resource : "");
    g_string_append(h, "</td><td>");
    append_level(h, v->level);
    g_string_append(h, "</td><td>");
    html_text(h, v->number ? v->number : "");
    g_string_append(h, "</td><td>");
    html_text(h, v->fix ? v->fix : "");
    g_string_append(h, "</td></tr>\n");
  }
  g_string_append(h, "</table>\n</section>\n");
}

static void section_topology(GString *h, const topo_scenario *scn, const GError *why) {
  g_string_append(h, "<section id=\"topology\">\n<h2>Topology</h2>\n");
  if (!scn) {
    g_string_append(h, "<p class=\"note\">No topology: ");
    html_text(h, why->message);
    g_string_append(h, "</p>\n");
  } else {
    g_autoptr(GString) tree = g_string_new(NULL);
    topo_print_tree(scn, tree);
    section_tree_lines(h, tree->str);
  }
  g_string_append(h, "</section>\n");
}

/* ---------------------------------------------------------------------------------------------
 * Plots. */

/* What each figure of plot.h shows; a figure not listed gets no caption beyond its name. The
 * order of this list is the order in the report (the story: CPU, where the time goes, memory,
 * network, then a close-up). */
static const struct {
  const char *name, *caption;
} figure_info[] = {
    {"cpu", "%USED, %RDY and %CSTP over time per VM, one row of panels per layer"},
    {"attribution", "each nested VM's time by cause, as stacked bars"},
    {"memory", "memory state and swapping over time"},
    {"network", "dropped frames over time and by reason"},
    {"timeline", "which vCPU ran where, over a short window of the trace"},
};

static int figure_rank(const char *name) {
  for (guint i = 0; i < G_N_ELEMENTS(figure_info); i++)
    if (!strcmp(figure_info[i].name, name)) return (int)i;
  return (int)G_N_ELEMENTS(figure_info);
}

static int cmp_figures(const void *a, const void *b) {
  const char *x = *(const char *const *)a, *y = *(const char *const *)b;
  int rx = figure_rank(x), ry = figure_rank(y);
  return rx != ry ? rx - ry : strcmp(x, y);
}

/* The figures in DIR/plots/ by name (transfer full, without extension), each once: its PNG
 * when there is one (smaller than the SVG and shown the same everywhere), else its SVG. */
static GPtrArray *find_figures(const char *pdir, GHashTable *ext) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDir) d = g_dir_open(pdir, 0, NULL);
  for (const char *f; d && (f = g_dir_read_name(d));) {
    const char *dot = strrchr(f, '.');
    if (!dot || dot == f || (strcmp(dot, ".png") && strcmp(dot, ".svg"))) continue;
    g_autofree char *name = g_strndup(f, (gsize)(dot - f));
    const char *e = !strcmp(dot, ".png") ? "png" : "svg";
    const char *have = g_hash_table_lookup(ext, name);
    if (!have) g_ptr_array_add(names, g_strdup(name));
    if (!have || !strcmp(e, "png")) g_hash_table_replace(ext, g_steal_pointer(&name), (gpointer)e);
  }
  g_ptr_array_sort(names, cmp_figures);
  return names;
}

static void section_plots(GString *h, const char *dir, gboolean *warned) {
  g_string_append(h, "<section id=\"plots\">\n<h2>Plots</h2>\n");
  g_autofree char *pdir = g_build_filename(dir, "plots", NULL);
  g_autoptr(GHashTable) ext = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) names = find_figures(pdir, ext);
  g_autoptr(GError) err = NULL;
  if (!names->len && !plot_dir(dir, NULL, NULL, &err)) {
    /* Without figures the report still says everything else; the note says how to get them.
     * The message is the same for the same folder, so the report stays deterministic. */
    g_string_append(h, "<p class=\"note\">No plots: ");
    if (g_error_matches(err, PLOT_ERROR, PLOT_ERROR_NO_GNUPLOT))
      g_string_append(h, "gnuplot is not installed. Install it (<code>apt-get install "
                         "gnuplot-nox</code>), then run <code>nestsim plot DIR</code> and "
                         "<code>nestsim report DIR</code> again.");
    else
      html_text(h, err->message);
    g_string_append(h, "</p>\n</section>\n");
    fprintf(stderr, "nestsim: no plots in the report: %s\n", err->message);
    *warned = TRUE;
    return;
  }
  if (!names->len) {
    g_clear_pointer(&names, g_ptr_array_unref);
    names = find_figures(pdir, ext);
  }
  if (!names->len)
    g_string_append(h, "<p>This run's results have nothing to plot.</p>\n");
  for (guint i = 0; i < names->len; i++) {
    const char *name = g_ptr_array_index(names, i);
    const char *e = g_hash_table_lookup(ext, name);
    g_autofree char *file = g_strdup_printf("%s.%s", name, e);
    g_autofree char *path = g_build_filename(pdir, file, NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) rerr = NULL;
    if (!g_file_get_contents(path, &data, &len, &rerr)) {
      g_string_append(h, "<p class=\"note\">");
      html_text(h, rerr->message);
      g_string_append(h, "</p>\n");
      continue;
    }
    g_autofree char *b64 = g_base64_encode((const guchar *)data, len);
    int rank = figure_rank(name);
    g_string_append(h, "<figure><img alt=\"");
    html_text(h, name);
    g_string_append_printf(h, "\" src=\"data:image/%s;base64,%s\"><figcaption><b>",
                           !strcmp(e, "png") ? "png" : "svg+xml", b64);
    html_text(h, name);
    g_string_append(h, "</b>");
    if (rank < (int)G_N_ELEMENTS(figure_info)) {
      g_string_append(h, ": ");
      html_text(h, figure_info[rank].caption);
    }
    g_string_append(h, "</figcaption></figure>\n");
  }
  g_string_append(h, "</section>\n");
}

/* ---------------------------------------------------------------------------------------------
 * Attribution. */

/* Words for the causes of models/virt.h's attribution (attr_<cause>_pct); a cause not listed
 * is shown by its key. */
static const struct {
  const char *cause, *words;
} cause_info[] = {
    {"guest", "guest work"},
    {"l0_exit", "L0 exit handling"},
    {"l1_exit", "L1 exit handling"},
    {"page_walk", "extra page walks"},
    {"bt", "binary translation"},
    {"other", "other (memory stalls, network)"},
    {"wait", "waiting (ready, co-stop, limit)"},
    {"desched", "descheduled by a layer below"},
    {"idle", "idle"},
};

/* The words for a cause, or `cause` itself when it has none. */
static const char *cause_words(const char *cause) {
  for (guint c = 0; c < G_N_ELEMENTS(cause_info); c++)
    if (!strcmp(cause_info[c].cause, cause)) return cause_info[c].words;
  return cause;
}

typedef struct attr_keys {
  GPtrArray *keys; /* attr_*_pct keys in first-seen order (borrowed from the table) */
  gboolean found;  /* the entity being read has one */
} attr_keys;

static void collect_attr_key(const char *key, double num, const char *str, void *user) {
  (void)num;
  attr_keys *a = user;
  if (str || !g_str_has_prefix(key, "attr_") || !g_str_has_suffix(key, "_pct") ||
      strlen(key) <= 9)
    return;
  a->found = TRUE;
  for (guint i = 0; i < a->keys->len; i++)
    if (!strcmp(g_ptr_array_index(a->keys, i), key)) return;
  g_ptr_array_add(a->keys, (gpointer)key);
}

static void section_attribution(GString *h, const met_table *t) {
  g_string_append(h, "<section id=\"attribution\">\n<h2>Attribution: where each VM's time "
                     "went</h2>\n");
  /* The nested VMs (layer >= 2), as the attribution figure shows them; every VM with an
   * attribution when nothing is nested. */
  g_autoptr(GArray) vms = g_array_new(FALSE, FALSE, sizeof(met_id));
  attr_keys a = {.keys = g_ptr_array_new()};
  for (int min_layer = 2; min_layer >= 0 && !vms->len; min_layer -= 2) {
    for (met_id e = 0; e < met_n_entities(t); e++) {
      if (strcmp(met_entity_kind(t, e), "vm") || met_entity_layer(t, e) < min_layer) continue;
      a.found = FALSE;
      met_foreach_value(t, e, collect_attr_key, &a);
      if (a.found) g_array_append_val(vms, e);
    }
  }
  if (!vms->len) {
    g_string_append(h, "<p>No VM in this run reports an attribution.</p>\n</section>\n");
    g_ptr_array_unref(a.keys);
    return;
  }
  /* Causes that are zero for every VM are left out, as in the figure. */
  g_autoptr(GPtrArray) shown = g_ptr_array_new();
  for (guint k = 0; k < a.keys->len; k++) {
    const char *key = g_ptr_array_index(a.keys, k);
    for (guint i = 0; i < vms->len; i++) {
      double v = met_get_num(t, g_array_index(vms, met_id, i), key);
      if (!isnan(v) && v != 0) {
        g_ptr_array_add(shown, (gpointer)key);
        break;
      }
    }
  }
  g_ptr_array_unref(a.keys);
  g_string_append(h, "<p>Each VM's elapsed time (its vCPUs &times; the measured time) by cause, "
                     "in %; each row sums to 100.</p>\n<table>\n<tr><th>VM</th><th>layer</th>");
  for (guint k = 0; k < shown->len; k++) {
    const char *key = g_ptr_array_index(shown, k);
    g_autofree char *cause = g_strndup(key + 5, strlen(key) - 9);
    const char *words = cause_words(cause);
    g_string_append(h, "<th>");
    html_text(h, words);
    g_string_append(h, "</th>");
  }
  g_string_append(h, "<th>share of its time</th></tr>\n");
  for (guint i = 0; i < vms->len; i++) {
    met_id e = g_array_index(vms, met_id, i);
    g_string_append(h, "<tr><td>");
    html_text(h, met_entity_path(t, e));
    g_string_append_printf(h, "</td><td>L%d</td>", met_entity_layer(t, e));
    g_autoptr(GString) bar = g_string_new("<td><div class=\"bar\">");
    for (guint k = 0; k < shown->len; k++) {
      const char *key = g_ptr_array_index(shown, k);
      double v = met_get_num(t, e, key);
      g_string_append(h, "<td class=\"num\">");
      if (!isnan(v)) append_pct(h, v);
      g_string_append(h, "</td>");
      if (isnan(v) || v <= 0) continue;
      g_autofree char *cause = g_strndup(key + 5, strlen(key) - 9);
      const char *words = cause_words(cause);
      g_string_append(bar, "<span class=\"c-");
      html_text(bar, words != cause ? cause : "x");
      g_string_append(bar, "\" style=\"width:");
      append_pct(bar, MIN(v, 100.0));
      g_string_append(bar, "%\" title=\"");
      html_text(bar, words);
      g_string_append(bar, " ");
      append_pct(bar, v);
      g_string_append(bar, "%\"></span>");
    }
    g_string_append(bar, "</div></td>");
    g_string_append_len(h, bar->str, (gssize)bar->len);
    g_string_append(h, "</tr>\n");
  }
  g_string_append(h, "</table>\n<p>");
  for (guint k = 0; k < shown->len; k++) {
    const char *key = g_ptr_array_index(shown, k);
    g_autofree char *cause = g_strndup(key + 5, strlen(key) - 9);
    const char *words = cause_words(cause);
    g_string_append(h, "<span class=\"sw c-");
    html_text(h, words != cause ? cause : "x");
    g_string_append(h, "\"></span>");
    html_text(h, words);
  }
  g_string_append(h, "</p>\n</section>\n");
}

/* ---------------------------------------------------------------------------------------------
 * Scenario text and the whole page. */

static void section_scenario(GString *h, const out_run_info *info) {
  g_string_append(h, "<section id=\"scenario\">\n<h2>Scenario</h2>\n");
  if (!info->scenario_text) {
    g_string_append(h, "<p class=\"note\">Not recorded: this folder was written by an older "
                       "nestsim.</p>\n</section>\n");
    return;
  }
  g_string_append(h, "<p>The scenario file as the run loaded it");
  if (info->file) {
    g_string_append(h, " (<code>");
    html_text(h, info->file);
    g_string_append(h, "</code>)");
  }
  g_string_append(h, "; with the parameters above it rebuilds the topology.</p>\n<pre>");
  html_text(h, info->scenario_text);
  g_string_append(h, "</pre>\n</section>\n");
}

/* The whole document (transfer full). Sets *warned when something is missing from it. */
static char *build_report(const char *dir, const out_summary *sum, gboolean *warned) {
  const out_run_info *info = out_summary_info(sum);
  g_autoptr(GError) why = NULL;
  g_autoptr(topo_scenario) scn = reload_scenario(info, &why);
  if (!scn) {
    fprintf(stderr, "nestsim: no topology or verdicts in the report: %s\n", why->message);
    *warned = TRUE;
  }
  GString *h = g_string_sized_new(1 << 20);
  g_string_append(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>nestsim report: ");
  html_text(h, info->scenario ? info->scenario : "?");
  g_string_append_printf(h, ", seed %" G_GUINT64_FORMAT "</title>\n<style>\n%s</style>\n"
                         "</head>\n<body>\n", info->seed, style);
  section_header(h, info);
  section_verdicts(h, scn, why);
  section_topology(h, scn, why);
  section_plots(h, dir, warned);
  section_attribution(h, out_summary_table(sum));
  section_scenario(h, info);
  g_string_append(h, "<footer>Written by <code>nestsim report</code> (nestsim ");
  html_text(h, NESTSIM_VERSION);
  g_string_append(h, ").</footer>\n</body>\n</html>\n");
  return g_string_free(h, FALSE);
}

int rpt_main(int argc, char **argv) {
  g_autofree char *out = NULL;
  GOptionEntry entries[] = {
      {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The report file (default DIR/report.html)",
       "FILE"},
      {NULL}};
  g_autoptr(GOptionContext) ctx = g_option_context_new("DIR");
  g_option_context_set_summary(
      ctx, "Writes one self-contained HTML file from a run's results folder: the verdicts, "
           "the topology, the plots (drawn first when DIR/plots/ has none; needs gnuplot), "
           "the attribution and the scenario text.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) err = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) return cli_usage_error(ctx, "%s", err->message);
  if (argc != 2) return cli_usage_error(ctx, "report takes one results folder");
  const char *dir = argv[1];
  g_autoptr(out_summary) sum = out_summary_read(dir, &err);
  if (!sum) {
    fprintf(stderr, "nestsim: %s (is '%s' a folder written by nestsim run?)\n", err->message,
            dir);
    return CLI_EXIT_USAGE;
  }
  gboolean warned = FALSE;
  g_autofree char *html = build_report(dir, sum, &warned);
  g_autofree char *path = out ? g_strdup(out) : g_build_filename(dir, "report.html", NULL);
  /* g_file_set_contents writes a temporary file beside `path` and renames it: a reader never
   * sees half a report. */
  if (!g_file_set_contents(path, html, -1, &err)) {
    fprintf(stderr, "nestsim: cannot write the report: %s\n", err->message);
    return CLI_EXIT_RUNTIME;
  }
  printf("report in %s\n", path);
  return CLI_EXIT_OK;
}
