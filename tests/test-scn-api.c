/* test-scn-api.c — scenarios/api/nestsim.lua, the editor annotations of the scenario API,
 * against what src/scn.c accepts (scn_api_names, scn_api_keys: the very tables the loader
 * registers its functions from and validates keys against). Fails when the loader accepts a
 * constructor or key the annotations do not describe, or the annotations describe one the
 * loader does not accept, so an editor never completes a key that would be refused.
 *
 * The annotations' conventions (stated at the top of nestsim.lua): constructor NAME is
 * declared `function NAME(...) end` and takes a table of class `nestsim.NAME`, described by
 * the `---@field` lines right after its `---@class` line; nested tables are classes
 * `nestsim.host.cpu` and `nestsim.scenario.network`. Classes whose name starts with a capital
 * (`nestsim.VM`, the returned objects) and aliases are not argument tables. */
#include <glib.h>
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "src/scn.h"

typedef struct annotations {
  GHashTable *classes;   /* argument class name ("vm", "host.cpu") -> GPtrArray of field names */
  GPtrArray *functions;  /* names declared `function NAME(` at the start of a line */
  char *text;
  gsize len;
} annotations;

static void annotations_free(annotations *a) {
  g_hash_table_unref(a->classes);
  g_ptr_array_unref(a->functions);
  g_free(a->text);
  g_free(a);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(annotations, annotations_free)

/* The first word of s (up to a space, '?', '(' or the end). transfer full */
static char *word(const char *s) {
  gsize n = strcspn(s, " ?(\t");
  return g_strndup(s, n);
}

static annotations *read_annotations(void) {
  const char *root = g_getenv("NESTSIM_SOURCE_ROOT");
  g_autofree char *path = g_build_filename(root ? root : ".", "scenarios", "api", "nestsim.lua",
                                           NULL);
  annotations *a = g_new0(annotations, 1);
  g_autoptr(GError) err = NULL;
  g_assert_true(g_file_get_contents(path, &a->text, &a->len, &err));
  g_assert_no_error(err);
  a->classes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)g_ptr_array_unref);
  a->functions = g_ptr_array_new_with_free_func(g_free);
  g_auto(GStrv) lines = g_strsplit(a->text, "\n", -1);
  GPtrArray *fields = NULL; /* of the argument class being read, or NULL */
  for (guint i = 0; lines[i]; i++) {
    const char *l = lines[i];
    if (g_str_has_prefix(l, "---@class nestsim.")) {
      g_autofree char *name = word(l + strlen("---@class nestsim."));
      fields = NULL;
      if (g_ascii_islower(name[0])) {
        if (g_hash_table_contains(a->classes, name))
          g_error("nestsim.lua:%u: class nestsim.%s is declared twice", i + 1, name);
        fields = g_ptr_array_new_with_free_func(g_free);
        g_hash_table_insert(a->classes, g_strdup(name), fields);
      }
    } else if (g_str_has_prefix(l, "---@field ")) {
      if (!fields) g_error("nestsim.lua:%u: a field outside an argument class: %s", i + 1, l);
      char *f = word(l + strlen("---@field "));
      for (guint j = 0; j < fields->len; j++)
        if (!strcmp(fields->pdata[j], f))
          g_error("nestsim.lua:%u: field '%s' is declared twice", i + 1, f);
      g_ptr_array_add(fields, f);
    } else {
      fields = NULL;
      if (g_str_has_prefix(l, "function "))
        g_ptr_array_add(a->functions, word(l + strlen("function ")));
    }
  }
  return a;
}

/* The annotations are a Lua chunk an editor and Lua itself can read. */
static void test_is_lua(void) {
  g_autoptr(annotations) a = read_annotations();
  lua_State *L = luaL_newstate();
  int status = luaL_loadbufferx(L, a->text, a->len, "=nestsim.lua", "t");
  if (status != LUA_OK) g_error("scenarios/api/nestsim.lua: %s", lua_tostring(L, -1));
  lua_close(L);
  g_assert_true(g_str_has_prefix(a->text, "---@meta"));
}

/* Every name of the API: a declared function (unless it is a nested table) and an argument
 * class whose fields are exactly the keys the loader accepts, in any order. */
static void test_loader_keys_are_annotated(void) {
  g_autoptr(annotations) a = read_annotations();
  g_autofree const char **names = scn_api_names();
  guint n = 0;
  for (const char **nm = names; *nm; nm++, n++) {
    const char *const *keys = scn_api_keys(*nm);
    g_assert_nonnull(keys);
    if (!strchr(*nm, '.') && !g_ptr_array_find_with_equal_func(a->functions, *nm, g_str_equal,
                                                                 NULL))
      g_error("src/scn.c defines %s() but scenarios/api/nestsim.lua does not declare "
              "`function %s(...) end`", *nm, *nm);
    GPtrArray *fields = g_hash_table_lookup(a->classes, *nm);
    if (!keys[0]) {
      if (fields && fields->len)
        g_error("nestsim.lua: %s() takes no table, but class nestsim.%s has fields", *nm, *nm);
      continue;
    }
    if (!fields)
      g_error("scenarios/api/nestsim.lua has no ---@class nestsim.%s for the keys of %s", *nm,
              *nm);
    for (const char *const *k = keys; *k; k++)
      if (!g_ptr_array_find_with_equal_func(fields, *k, g_str_equal, NULL))
        g_error("src/scn.c accepts key '%s' of %s, which scenarios/api/nestsim.lua does not "
                "describe (add ---@field %s to class nestsim.%s)", *k, *nm, *k, *nm);
    for (guint j = 0; j < fields->len; j++)
      if (!g_strv_contains(keys, fields->pdata[j]))
        g_error("scenarios/api/nestsim.lua describes key '%s' of %s, which src/scn.c does not "
                "accept", (char *)fields->pdata[j], *nm);
  }
  /* Every constructor of issue 2 to 6 is there (a guard on scn_api_names itself). */
  const char *expected[] = {"scenario", "param", "host", "host.cpu", "esxi", "kvm", "vm",
                            "cpu", "job", "mem", "disk", "datastore", "nic", "vnic",
                            "portgroup", "dvportgroup", "vswitch", "dvswitch", "external",
                            "traffic", "rr", "noise", "scenario.network"};
  for (guint i = 0; i < G_N_ELEMENTS(expected); i++)
    g_assert_true(g_strv_contains((const char *const *)names, expected[i]));
  g_assert_cmpuint(n, ==, G_N_ELEMENTS(expected));
}

/* Nothing in the annotations that the loader does not accept: no function and no argument
 * class beyond the API's names. */
static void test_annotations_are_accepted(void) {
  g_autoptr(annotations) a = read_annotations();
  g_autofree const char **names = scn_api_names();
  for (guint i = 0; i < a->functions->len; i++) {
    const char *f = a->functions->pdata[i];
    if (!g_strv_contains((const char *const *)names, f) || strchr(f, '.'))
      g_error("scenarios/api/nestsim.lua declares %s(), which src/scn.c does not define", f);
  }
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, a->classes);
  while (g_hash_table_iter_next(&it, &k, NULL))
    if (!g_strv_contains((const char *const *)names, k))
      g_error("scenarios/api/nestsim.lua describes class nestsim.%s, which is no table "
              "src/scn.c reads", (char *)k);
}

/* Every name the API lists is a function in the scenario sandbox, and an unknown name is not
 * part of the API. */
static void test_names_are_sandbox_functions(void) {
  g_autofree const char **names = scn_api_names();
  g_autoptr(GString) lua = g_string_new(
      "scenario { duration = 1 }\n"
      "host { name = 'h', cpu = { cores = 1, ghz = 2 }, memory = '1GB' }\n");
  for (const char **nm = names; *nm; nm++)
    if (!strchr(*nm, '.'))
      g_string_append_printf(lua, "assert(type(%s) == 'function', '%s')\n", *nm, *nm);
  g_autoptr(GError) err = NULL;
  topo_scenario *scn = scn_load_string("api.lua", lua->str, lua->len, NULL, &err);
  g_assert_no_error(err);
  g_assert_nonnull(scn);
  topo_scenario_free(scn);
  g_assert_null(scn_api_keys("print"));
  g_assert_null(scn_api_keys("no-such-constructor"));
  g_assert_cmpstr(scn_api_keys("param")[0], ==, NULL);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/scn-api/annotations/are-a-lua-meta-file", test_is_lua);
  g_test_add_func("/scn-api/annotations/describe-every-constructor-and-key",
                  test_loader_keys_are_annotated);
  g_test_add_func("/scn-api/annotations/describe-nothing-the-loader-refuses",
                  test_annotations_are_accepted);
  g_test_add_func("/scn-api/names/are-the-sandbox-functions", test_names_are_sandbox_functions);
  return g_test_run();
}
