/* sweep.c — batch sweeps (issue 7): the sweep file, its points, the worker processes that run
 * them, resuming, aggregation into sweep.csv, and the Slurm and GNU parallel exports.
 *
 * Every run of a sweep is one `nestsim run ... --out DIR/points/<id>` process. A run is done
 * when its folder holds summary.json, which out_write_dir renames into place last; so the
 * folders themselves are the sweep's journal: a sweep killed at any moment loses at most the
 * runs in flight, and --resume redoes exactly those (a folder without summary.json is simply
 * written again). Nothing else is kept between invocations except points.csv, which pins the
 * list of points so that a resume with an edited sweep file is refused instead of mixing two
 * sweeps. sweep.csv is computed from the folders only, in the points' order, so a resumed
 * sweep writes the same bytes as an uninterrupted one. */
#include "src/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/out.h"
#include "src/plot.h"
#include "src/scn.h"
#include "src/units.h"

G_DEFINE_QUARK(nestsim-sweep-error-quark, swp_error)

/* A sweep file is a few lines; a script still running after this many Lua instructions is
 * looping. */
#define SWP_MAX_INSTRUCTIONS 10000000
#define SWP_HOOK_EVERY 1000
/* ... and one using more memory than this is running away (a sweep file needs kilobytes). */
#define SWP_MAX_MEMORY (64u << 20)

typedef struct swp_axis {
  char *name;
  GPtrArray *values; /* char*, as --set NAME=VALUE takes them */
} swp_axis;

struct swp_sweep {
  char *file;       /* as given */
  char *name;
  char *scenario;   /* absolute */
  GPtrArray *axes;  /* swp_axis* in column order */
  guint reps;
  guint64 seed;
  char *duration;   /* --duration text, or NULL for the scenario's own */
  GPtrArray *metrics; /* char* */
  guint n_points;   /* product of the axes' lengths */
};

static void axis_free(void *p) {
  swp_axis *a = p;
  g_free(a->name);
  g_ptr_array_unref(a->values);
  g_free(a);
}

void swp_free(swp_sweep *s) {
  if (!s) return;
  g_free(s->file);
  g_free(s->name);
  g_free(s->scenario);
  g_ptr_array_unref(s->axes);
  g_free(s->duration);
  g_ptr_array_unref(s->metrics);
  g_free(s);
}

guint swp_n_runs(const swp_sweep *s) { return s->n_points * s->reps; }

/* ---- The sweep file ------------------------------------------------------------------------- */

typedef struct loader {
  const char *label;
  GPtrArray *errors; /* char* */
  guint64 instructions;
  size_t memory; /* bytes the Lua state holds */
  bool called;
  char *where;       /* "file:line" of the sweep { } call */
} loader;

static const char *const sweep_keys[] = {"axes",   "duration", "metrics", "name",
                                         "repeat", "scenario", "seed",    NULL};

static loader *loader_of(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "nestsim.loader");
  loader *ld = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return ld;
}

static void count_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  loader *ld = loader_of(L);
  ld->instructions += SWP_HOOK_EVERY;
  if (ld->instructions > SWP_MAX_INSTRUCTIONS)
    luaL_error(L, "the sweep file did not finish after %d instructions (an endless loop?)",
               SWP_MAX_INSTRUCTIONS);
}

/* Lua's allocator with a ceiling: past SWP_MAX_MEMORY an allocation fails, which Lua reports
 * as "not enough memory" instead of the process swapping. */
static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  loader *ld = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    ld->memory -= old;
    return NULL;
  }
  if (nsize > old && ld->memory + (nsize - old) > SWP_MAX_MEMORY) return NULL;
  void *p = realloc(ptr, nsize);
  if (p) ld->memory = ld->memory - old + nsize;
  return p;
}

/* sweep { ... }: keeps the table for after the script, where it is checked. (luaL_error
 * does not return: nothing may be allocated before it.) */
static int l_sweep(lua_State *L) {
  loader *ld = loader_of(L);
  if (ld->called) return luaL_error(L, "sweep: called twice (a sweep file declares one sweep)");
  if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TTABLE)
    return luaL_error(L, "sweep: expected one table, as in sweep { scenario = \"lab.lua\", "
                         "axes = { ... } }");
  lua_Debug ar;
  int line = lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar) ? ar.currentline : 0;
  ld->called = true;
  ld->where = line > 0 ? g_strdup_printf("%s:%d", ld->label, line) : g_strdup(ld->label);
  lua_pushvalue(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "nestsim.sweep");
  return 0;
}

static void errorf(loader *ld, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void errorf(loader *ld, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_ptr_array_add(ld->errors, g_strdup_vprintf(fmt, ap));
  va_end(ap);
}

/* What a value is, for "got VALUE" (the scenario loader's words). */
static char *describe(lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
  case LUA_TNONE:
  case LUA_TNIL: return g_strdup("nil");
  case LUA_TBOOLEAN: return g_strdup(lua_toboolean(L, idx) ? "true" : "false");
  case LUA_TNUMBER: {
    /* lua_tostring converts in place: convert a copy, the value may be a key of lua_next. */
    lua_pushvalue(L, idx);
    char *s = g_strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    return s;
  }
  case LUA_TSTRING: {
    g_autofree char *esc = g_strescape(lua_tostring(L, idx), NULL);
    return g_strdup_printf("\"%.40s%s\"", esc, strlen(esc) > 40 ? "..." : "");
  }
  default: return g_strdup_printf("a %s", lua_typename(L, lua_type(L, idx)));
  }
}

static void invalid(loader *ld, lua_State *L, const char *key, const char *expected, int idx) {
  g_autofree char *got = describe(L, idx);
  errorf(ld, "%s: sweep: invalid '%s': %s, got %s", ld->where, key, expected, got);
}

/* Text that may stand in a CSV cell and a file name unquoted. */
static bool plain_text(const char *s) {
  if (!*s) return false;
  for (const char *p = s; *p; p++)
    if (*p == ',' || *p == '"' || (unsigned char)*p < 0x20 || *p == 0x7f) return false;
  return true;
}

/* A value of an axis as --set takes it: numbers as Lua prints them, booleans as true/false. */
static char *axis_value(lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
  case LUA_TBOOLEAN: return g_strdup(lua_toboolean(L, idx) ? "true" : "false");
  case LUA_TNUMBER: {
    lua_pushvalue(L, idx);
    char *s = g_strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    return s;
  }
  case LUA_TSTRING: {
    const char *s = lua_tostring(L, idx);
    return plain_text(s) && !strchr(s, ' ') ? g_strdup(s) : NULL;
  }
  default: return NULL;
  }
}

static bool valid_param_name(const char *s) {
  if (!*s || !(g_ascii_isalpha(*s) || *s == '_')) return false;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '_') return false;
  return strlen(s) <= 64;
}

/* Reads one axis, name at -2 and list at -1; appends it to s->axes. */
static void get_axis(loader *ld, lua_State *L, swp_sweep *s) {
  const char *expected = "expected a list of numbers, strings or booleans, such as {1, 2, 4} "
                         "(strings without ',', '\"' or spaces)";
  if (lua_type(L, -2) != LUA_TSTRING || !valid_param_name(lua_tostring(L, -2))) {
    invalid(ld, L, "axes", "expected parameter names (letters, digits and '_') as keys", -2);
    return;
  }
  const char *name = lua_tostring(L, -2);
  /* Names of the other columns of points.csv and sweep.csv. */
  for (const char *const *r = (const char *const[]){"command", "duration", "id", "n", "rep",
                                                     "seed", NULL};
       *r; r++)
    if (!strcmp(name, *r)) {
      errorf(ld, "%s: sweep: invalid 'axes': '%s' names a column of points.csv or sweep.csv, "
             "not a parameter (set the seed with seed = N, the duration with duration = T)",
             ld->where, name);
      return;
    }
  g_autofree char *key = g_strdup_printf("axes.%s", name);
  for (guint i = 0; i < s->axes->len; i++)
    if (!strcmp(((swp_axis *)s->axes->pdata[i])->name, name)) {
      errorf(ld, "%s: sweep: invalid 'axes': axis '%s' given twice", ld->where, name);
      return;
    }
  if (lua_type(L, -1) != LUA_TTABLE || luaL_len(L, -1) < 1) {
    if (lua_type(L, -1) == LUA_TTABLE)
      errorf(ld, "%s: sweep: invalid '%s': %s, got an empty list", ld->where, key, expected);
    else
      invalid(ld, L, key, expected, -1);
    return;
  }
  swp_axis *a = g_new0(swp_axis, 1);
  a->name = g_strdup(name);
  a->values = g_ptr_array_new_with_free_func(g_free);
  lua_Integer n = luaL_len(L, -1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    char *v = axis_value(L, -1);
    if (!v) {
      g_autofree char *item = g_strdup_printf("%s[%lld]", key, (long long)i);
      invalid(ld, L, item, expected, -1);
    } else {
      for (guint j = 0; j < a->values->len && v; j++)
        if (!strcmp(a->values->pdata[j], v)) {
          errorf(ld, "%s: sweep: invalid '%s': value %s given twice", ld->where, key, v);
          g_clear_pointer(&v, g_free);
        }
      if (v) g_ptr_array_add(a->values, v);
    }
    lua_pop(L, 1);
  }
  g_ptr_array_add(s->axes, a);
}

static gint cmp_axis(gconstpointer a, gconstpointer b) {
  return strcmp((*(swp_axis *const *)a)->name, (*(swp_axis *const *)b)->name);
}

/* axes = { name = {...}, ... } (sorted by name, since Lua tables have no order) or
 * axes = { {name = {...}}, ... } (in the order given). The table is at -1. */
static void get_axes(loader *ld, lua_State *L, swp_sweep *s) {
  const char *expected = "expected { name = {values}, ... } or { {name = {values}}, ... }";
  if (lua_type(L, -1) != LUA_TTABLE) {
    invalid(ld, L, "axes", expected, -1);
    return;
  }
  lua_Integer n = luaL_len(L, -1);
  if (n > 0) {
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      int pairs = 0;
      if (lua_type(L, -1) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          if (++pairs == 1) get_axis(ld, L, s);
          lua_pop(L, 1);
        }
      }
      if (pairs != 1) invalid(ld, L, "axes", expected, -1);
      lua_pop(L, 1);
    }
  } else {
    bool any = false;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      get_axis(ld, L, s);
      any = true;
      lua_pop(L, 1);
    }
    if (!any) invalid(ld, L, "axes", expected, -1);
    g_ptr_array_sort(s->axes, cmp_axis);
  }
}

static void get_sweep(loader *ld, lua_State *L, swp_sweep *s, const char *dir) {
  int t = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    bool known = false;
    if (lua_type(L, -1) == LUA_TSTRING)
      for (const char *const *k = sweep_keys; *k; k++) known |= !strcmp(*k, lua_tostring(L, -1));
    if (!known) {
      g_autofree char *esc = lua_type(L, -1) == LUA_TSTRING
                                 ? g_strescape(lua_tostring(L, -1), NULL) : NULL;
      g_autofree char *got = esc ? g_strdup_printf("'%s'", esc) : describe(L, -1);
      errorf(ld, "%s: sweep: unknown key %s (keys: axes, duration, metrics, name, repeat, "
             "scenario, seed)", ld->where, got);
    }
  }
  /* scenario: a path relative to the sweep file. */
  if (lua_getfield(L, t, "scenario") == LUA_TSTRING && *lua_tostring(L, -1)) {
    const char *p = lua_tostring(L, -1);
    s->scenario = g_path_is_absolute(p) ? g_strdup(p) : g_build_filename(dir, p, NULL);
    g_autofree char *canon = g_canonicalize_filename(s->scenario, NULL);
    g_free(s->scenario);
    s->scenario = g_steal_pointer(&canon);
    if (!g_file_test(s->scenario, G_FILE_TEST_IS_REGULAR))
      errorf(ld, "%s: sweep: invalid 'scenario': no file %s (the path is relative to the "
             "sweep file's folder)", ld->where, s->scenario);
  } else if (lua_isnil(L, -1)) {
    errorf(ld, "%s: sweep: missing 'scenario'", ld->where);
  } else {
    invalid(ld, L, "scenario", "expected the scenario file's path", -1);
  }
  lua_pop(L, 1);
  /* name: the results folder's name, so letters, digits, '-', '_' and '.' (not first). */
  if (lua_getfield(L, t, "name") == LUA_TSTRING) {
    const char *n = lua_tostring(L, -1);
    bool ok = *n && *n != '.' && strlen(n) <= 64;
    for (const char *p = n; *p && ok; p++) ok = g_ascii_isalnum(*p) || strchr("_-.", *p);
    if (ok) s->name = g_strdup(n);
    else invalid(ld, L, "name", "expected a name of letters, digits, '-', '_' and '.'", -1);
  } else if (!lua_isnil(L, -1)) {
    invalid(ld, L, "name", "expected a name of letters, digits, '-', '_' and '.'", -1);
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "axes");
  if (lua_isnil(L, -1)) errorf(ld, "%s: sweep: missing 'axes'", ld->where);
  else get_axes(ld, L, s);
  lua_pop(L, 1);
  s->reps = 1;
  if (lua_getfield(L, t, "repeat") != LUA_TNIL) {
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= 10000)
      s->reps = (guint)lua_tointeger(L, -1);
    else invalid(ld, L, "repeat", "expected an integer from 1 to 10000", -1);
  }
  lua_pop(L, 1);
  s->seed = 1;
  if (lua_getfield(L, t, "seed") != LUA_TNIL) {
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0)
      s->seed = (guint64)lua_tointeger(L, -1);
    else invalid(ld, L, "seed", "expected an integer >= 0", -1);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, t, "duration") != LUA_TNIL) {
    double ns = 0;
    g_autofree char *why = NULL;
    if (lua_type(L, -1) == LUA_TSTRING && plain_text(lua_tostring(L, -1)) &&
        !strchr(lua_tostring(L, -1), ' ') && unit_parse(UNIT_TIME, lua_tostring(L, -1), &ns, &why) &&
        ns >= 1)
      s->duration = g_strdup(lua_tostring(L, -1));
    else invalid(ld, L, "duration", "expected a time such as \"1min\"", -1);
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "metrics");
  if (lua_type(L, -1) != LUA_TTABLE || luaL_len(L, -1) < 1) {
    if (lua_isnil(L, -1)) errorf(ld, "%s: sweep: missing 'metrics'", ld->where);
    else invalid(ld, L, "metrics", "expected a list of metrics such as {\"esx01/vESX1:%USED\"}", -1);
  } else {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      g_autoptr(GError) err = NULL;
      g_autofree char *key = g_strdup_printf("metrics[%lld]", (long long)i);
      if (lua_type(L, -1) != LUA_TSTRING) {
        invalid(ld, L, key, "expected a metric such as \"mean(kind:vm&layer:2:effective_pct)\"", -1);
      } else if (!swp_metric_check(lua_tostring(L, -1), &err)) {
        g_autofree char *got = describe(L, -1);
        errorf(ld, "%s: sweep: invalid '%s': %s, got %s", ld->where, key, err->message, got);
      } else {
        g_ptr_array_add(s->metrics, g_strdup(lua_tostring(L, -1)));
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

swp_sweep *swp_load(const char *path, GError **error) {
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) err = NULL;
  if (!g_file_get_contents(path, &text, &len, &err)) {
    g_set_error(error, SWP_ERROR, SWP_ERROR_INPUT, "%s: cannot read the sweep file: %s", path,
                err->message);
    return NULL;
  }
  loader ld = {.label = path, .errors = g_ptr_array_new_with_free_func(g_free)};
  g_autoptr(GPtrArray) errors = ld.errors;
  swp_sweep *s = g_new0(swp_sweep, 1);
  g_autoptr(swp_sweep) owned = s;
  s->file = g_strdup(path);
  s->axes = g_ptr_array_new_with_free_func(axis_free);
  s->metrics = g_ptr_array_new_with_free_func(g_free);

  lua_State *L = lua_newstate(limited_alloc, &ld);
  g_assert(L);
  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
  lua_settop(L, 0);
  /* What could read or run other files goes: a sweep file is data with loops. Without
   * setmetatable no table has a metatable, so reading the sweep's table after the script
   * (outside any pcall) cannot run Lua code that raises an error. */
  for (const char *const *g = (const char *const[]){"dofile", "loadfile", "load", "require",
                                                     "collectgarbage", "setmetatable", NULL};
       *g; g++) {
    lua_pushnil(L);
    lua_setglobal(L, *g);
  }
  lua_pushlightuserdata(L, &ld);
  lua_setfield(L, LUA_REGISTRYINDEX, "nestsim.loader");
  lua_register(L, "sweep", l_sweep);
  g_autofree char *chunk = g_strconcat("=", path, NULL);
  int status = len >= 4 && !memcmp(text, LUA_SIGNATURE, 4)
                   ? (lua_pushstring(L, "precompiled Lua is not accepted"), LUA_ERRSYNTAX)
                   : luaL_loadbufferx(L, text, len, chunk, "t");
  if (status == LUA_OK) {
    lua_sethook(L, count_hook, LUA_MASKCOUNT, SWP_HOOK_EVERY);
    status = lua_pcall(L, 0, 0, 0);
    lua_sethook(L, NULL, 0, 0);
  }
  if (status != LUA_OK) {
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "an error";
    if (g_str_has_prefix(msg, path)) errorf(&ld, "%s", msg);
    else errorf(&ld, "%s: %s", path, msg);
  } else if (!ld.called) {
    errorf(&ld, "%s: no sweep { } in the file (a sweep file calls sweep { scenario = ..., "
           "axes = ..., metrics = ... })", path);
  } else {
    lua_getfield(L, LUA_REGISTRYINDEX, "nestsim.sweep");
    g_autofree char *dir = g_path_get_dirname(path);
    get_sweep(&ld, L, s, dir);
  }
  lua_close(L);
  if (!s->name && errors->len == 0) {
    g_autofree char *base = g_path_get_basename(path);
    if (g_str_has_suffix(base, ".lua")) base[strlen(base) - 4] = '\0';
    s->name = g_strdup(base);
  }
  if (errors->len == 0) {
    guint64 runs = s->reps;
    for (guint i = 0; i < s->axes->len && runs <= 1000000; i++)
      runs *= ((swp_axis *)s->axes->pdata[i])->values->len;
    if (runs > 1000000)
      errorf(&ld, "%s: sweep: more than a million runs (the axes' lengths multiplied, times "
             "'repeat')", ld.where);
    else s->n_points = (guint)(runs / s->reps);
  }
  g_free(ld.where);
  if (errors->len) {
    g_ptr_array_add(errors, NULL);
    g_autofree char *all = g_strjoinv("\n", (char **)errors->pdata);
    g_set_error_literal(error, SWP_ERROR, SWP_ERROR_INPUT, all);
    return NULL;
  }
  return g_steal_pointer(&owned);
}

/* ---- Points --------------------------------------------------------------------------------- */

/* Run i (0 .. n_runs-1) is repetition i % reps of point i / reps; the point's axis values are
 * its index written in the mixed radix of the axes' lengths, the last axis fastest. */
static const char *run_value(const swp_sweep *s, guint run, guint axis) {
  guint p = run / s->reps;
  for (guint a = s->axes->len; a-- > axis + 1;)
    p /= ((swp_axis *)s->axes->pdata[a])->values->len;
  const swp_axis *ax = s->axes->pdata[axis];
  return ax->values->pdata[p % ax->values->len];
}

static char *run_id(const swp_sweep *s, guint run) {
  return g_strdup_printf("%04u-r%u", run / s->reps, run % s->reps);
}

static guint64 run_seed(const swp_sweep *s, guint run) { return s->seed + run % s->reps; }

/* The argv of `nestsim run` for one run (transfer full, NULL-terminated). */
static GStrv run_argv(const swp_sweep *s, const char *bin, const char *dir, guint run) {
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  g_strv_builder_add_many(b, bin, "run", s->scenario, NULL);
  for (guint a = 0; a < s->axes->len; a++) {
    g_autofree char *set = g_strdup_printf("%s=%s", ((swp_axis *)s->axes->pdata[a])->name,
                                           run_value(s, run, a));
    g_strv_builder_add_many(b, "--set", set, NULL);
  }
  g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, run_seed(s, run));
  g_strv_builder_add_many(b, "--seed", seed, NULL);
  if (s->duration) g_strv_builder_add_many(b, "--duration", s->duration, NULL);
  g_autofree char *id = run_id(s, run);
  g_autofree char *out = g_build_filename(dir, "points", id, NULL);
  g_strv_builder_add_many(b, "--out", out, "--quiet", NULL);
  return g_strv_builder_end(b);
}

static char *shell_line(char **argv) {
  GString *g = g_string_new(NULL);
  for (char **a = argv; *a; a++) {
    g_autofree char *q = g_shell_quote(*a);
    g_string_append_printf(g, "%s%s", a == argv ? "" : " ", q);
  }
  return g_string_free(g, FALSE);
}

/* The part of a points.csv row that defines the run (everything but the command). */
static char *run_key(const swp_sweep *s, guint run) {
  GString *g = g_string_new(NULL);
  g_autofree char *id = run_id(s, run);
  g_string_append(g, id);
  for (guint a = 0; a < s->axes->len; a++) g_string_append_printf(g, ",%s", run_value(s, run, a));
  g_string_append_printf(g, ",%u,%" G_GUINT64_FORMAT ",%s", run % s->reps, run_seed(s, run),
                         s->duration ? s->duration : "");
  return g_string_free(g, FALSE);
}

static void csv_field(GString *g, const char *s) {
  if (!s[strcspn(s, ",\"\r\n")]) {
    g_string_append(g, s);
    return;
  }
  g_string_append_c(g, '"');
  for (const char *p = s; *p; p++) {
    if (*p == '"') g_string_append_c(g, '"');
    g_string_append_c(g, *p);
  }
  g_string_append_c(g, '"');
}

/* points.csv: id, the axes, rep, seed, duration, and the command that reruns the point alone. */
static char *points_csv(const swp_sweep *s, const char *bin, const char *dir) {
  GString *g = g_string_new("id");
  for (guint a = 0; a < s->axes->len; a++)
    g_string_append_printf(g, ",%s", ((swp_axis *)s->axes->pdata[a])->name);
  g_string_append(g, ",rep,seed,duration,command\n");
  for (guint r = 0; r < swp_n_runs(s); r++) {
    g_autofree char *key = run_key(s, r);
    g_auto(GStrv) argv = run_argv(s, bin, dir, r);
    g_autofree char *cmd = shell_line(argv);
    g_string_append_printf(g, "%s,", key);
    csv_field(g, cmd);
    g_string_append_c(g, '\n');
  }
  return g_string_free(g, FALSE);
}

/* Whether the points.csv already in DIR describes the same runs (the commands may differ: the
 * binary or the folder may have moved). */
static gboolean same_points(const swp_sweep *s, const char *old, GError **error) {
  g_auto(GStrv) lines = g_strsplit(old, "\n", -1);
  guint n = g_strv_length(lines);
  if (n < 2 || n - 2 != swp_n_runs(s)) goto differ;
  for (guint r = 0; r < swp_n_runs(s); r++) {
    g_autofree char *k = run_key(s, r);
    g_autofree char *key = g_strconcat(k, ",", NULL);
    if (!g_str_has_prefix(lines[r + 1], key)) goto differ;
  }
  return TRUE;
differ:
  g_set_error(error, SWP_ERROR, SWP_ERROR_INPUT,
              "the folder holds another sweep's points (points.csv differs: the sweep file "
              "changed?); use another --out or remove the folder");
  return FALSE;
}

static gboolean run_done(const char *dir, const char *id) {
  g_autofree char *p = g_build_filename(dir, "points", id, "summary.json", NULL);
  return g_file_test(p, G_FILE_TEST_IS_REGULAR);
}

/* ---- summary.json and metrics --------------------------------------------------------------- */

/* summary.json through out.c's reader (the one that round-trips every summary out.c writes),
 * as one table per entity of key -> value text: numbers as the shortest text that reads back
 * as the same double, null as "null", strings as they are. */
typedef struct to_text {
  GHashTable *e;
} to_text;

static void value_to_text(const char *key, double num, const char *str, void *user) {
  to_text *tt = user;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  const char *v = str ? str : isnan(num) ? "null" : g_ascii_dtostr(buf, sizeof buf, num);
  g_hash_table_insert(tt->e, g_strdup(key), g_strdup(v));
}

GHashTable *swp_summary_entities(const char *json, GPtrArray *order, GError **error) {
  g_autoptr(GError) perr = NULL;
  g_autoptr(out_summary) sum = out_summary_parse(json, &perr);
  if (!sum) {
    g_set_error(error, SWP_ERROR, SWP_ERROR_RUN,
                "not a summary.json written by nestsim run (%s)", perr->message);
    return NULL;
  }
  const met_table *t = out_summary_table(sum);
  GHashTable *ents = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify)g_hash_table_unref);
  for (met_id i = 0; i < met_n_entities(t); i++) {
    to_text tt = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free)};
    g_hash_table_insert(tt.e, g_strdup("kind"), g_strdup(met_entity_kind(t, i)));
    g_hash_table_insert(tt.e, g_strdup("layer"), g_strdup_printf("%d", met_entity_layer(t, i)));
    met_foreach_value(t, i, value_to_text, &tt);
    g_hash_table_insert(ents, g_strdup(met_entity_path(t, i)), tt.e);
  }
  GList *keys = g_list_sort(g_hash_table_get_keys(ents), (GCompareFunc)strcmp);
  for (GList *l = keys; l; l = l->next) g_ptr_array_add(order, l->data);
  g_list_free(keys);
  return ents;
}

typedef enum { AGG_ONE, AGG_MEAN, AGG_SUM, AGG_MIN, AGG_MAX, AGG_COUNT } agg_kind;
static const char *const agg_names[] = {"", "mean", "sum", "min", "max", "count"};

/* A parsed metric: aggregate, selection terms and key. */
typedef struct metric {
  agg_kind agg;
  GStrv terms;
  char *key;
} metric;

static void metric_clear(metric *m) {
  g_strfreev(m->terms);
  g_free(m->key);
}

static gboolean parse_metric(const char *text, metric *m, GError **error) {
  memset(m, 0, sizeof *m);
  const char *body = text;
  g_autofree char *inner = NULL;
  const char *paren = strchr(text, '(');
  if (paren) {
    for (int a = AGG_MEAN; a <= AGG_COUNT; a++)
      if ((size_t)(paren - text) == strlen(agg_names[a]) &&
          !strncmp(text, agg_names[a], strlen(agg_names[a])))
        m->agg = (agg_kind)a;
    if (m->agg == AGG_ONE || !g_str_has_suffix(text, ")")) {
      g_set_error(error, SWP_ERROR, SWP_ERROR_INPUT,
                  "expected AGG(SELECT:KEY) with AGG one of mean, sum, min, max, count");
      return FALSE;
    }
    inner = g_strndup(paren + 1, strlen(paren + 1) - 1);
    body = inner;
  }
  const char *colon = strrchr(body, ':');
  if (!plain_text(text) || !colon || colon == body || !colon[1]) {
    g_set_error(error, SWP_ERROR, SWP_ERROR_INPUT,
                "expected SELECT:KEY such as \"esx01/vESX1:%%USED\" or "
                "\"mean(kind:vm&layer:2:effective_pct)\" (no ',' or '\"')");
    return FALSE;
  }
  m->key = g_strdup(colon + 1);
  g_autofree char *sel = g_strndup(body, (gsize)(colon - body));
  m->terms = g_strsplit(sel, "&", -1);
  for (char **t = m->terms; *t; t++) {
    if (!**t) {
      g_set_error(error, SWP_ERROR, SWP_ERROR_INPUT, "an empty term in the selection '%s'", sel);
      metric_clear(m);
      return FALSE;
    }
    if (g_str_has_prefix(*t, "layer:")) {
      guint64 v;
      if (!g_ascii_string_to_unsigned(*t + 6, 10, 0, 64, &v, NULL)) {
        g_set_error(error, SWP_ERROR, SWP_ERROR_INPUT, "'%s': expected layer:N with N a number",
                    *t);
        metric_clear(m);
        return FALSE;
      }
    }
  }
  return TRUE;
}

gboolean swp_metric_check(const char *text, GError **error) {
  metric m;
  if (!parse_metric(text, &m, error)) return FALSE;
  metric_clear(&m);
  return TRUE;
}

static gboolean selected(const metric *m, const char *path, GHashTable *e) {
  for (char **t = m->terms; *t; t++) {
    if (g_str_has_prefix(*t, "kind:")) {
      const char *k = g_hash_table_lookup(e, "kind");
      if (!k || strcmp(k, *t + 5)) return FALSE;
    } else if (g_str_has_prefix(*t, "layer:")) {
      const char *l = g_hash_table_lookup(e, "layer");
      if (!l || strcmp(l, *t + 6)) return FALSE;
    } else if (!g_pattern_match_simple(*t, path)) {
      return FALSE;
    }
  }
  return TRUE;
}

gboolean swp_metric_value(const char *text, const char *json, double *out, GError **error) {
  metric m;
  if (!parse_metric(text, &m, error)) return FALSE;
  g_autoptr(GPtrArray) order = g_ptr_array_new();
  g_autoptr(GHashTable) ents = swp_summary_entities(json, order, error);
  gboolean ok = ents != NULL;
  g_autoptr(GArray) vals = g_array_new(FALSE, FALSE, sizeof(double));
  g_autoptr(GString) matched = g_string_new(NULL);
  for (guint i = 0; ok && i < order->len; i++) {
    const char *path = order->pdata[i];
    GHashTable *e = g_hash_table_lookup(ents, path);
    if (!selected(&m, path, e)) continue;
    g_string_append_printf(matched, "%s%s", matched->len ? " " : "", path);
    const char *v = g_hash_table_lookup(e, m.key);
    char *end = NULL;
    double d = v ? g_ascii_strtod(v, &end) : 0;
    if (!v || !end || *end || end == v) {
      g_autoptr(GString) keys = g_string_new(NULL);
      GList *ks = g_list_sort(g_hash_table_get_keys(e), (GCompareFunc)strcmp);
      for (GList *l = ks; l; l = l->next) g_string_append_printf(keys, " %s", (char *)l->data);
      g_list_free(ks);
      g_set_error(error, SWP_ERROR, SWP_ERROR_RUN,
                  "metric '%s': entity %s has %s '%s' (its keys:%s)", text, path,
                  v ? "no number in" : "no key", m.key, keys->str);
      ok = FALSE;
    } else {
      g_array_append_val(vals, d);
    }
  }
  if (ok && vals->len == 0 && m.agg != AGG_COUNT) {
    g_set_error(error, SWP_ERROR, SWP_ERROR_RUN, "metric '%s': no entity matches", text);
    ok = FALSE;
  } else if (ok && m.agg == AGG_ONE && vals->len != 1) {
    g_set_error(error, SWP_ERROR, SWP_ERROR_RUN,
                "metric '%s': %u entities match (%s); name one, or aggregate with "
                "mean(...), sum(...), min(...), max(...) or count(...)",
                text, vals->len, matched->str);
    ok = FALSE;
  }
  if (ok) {
    const double *v = (const double *)(void *)vals->data;
    double acc = m.agg == AGG_COUNT ? (double)vals->len : v[0];
    for (guint i = 1; i < vals->len && m.agg != AGG_COUNT; i++) {
      if (m.agg == AGG_MIN) acc = MIN(acc, v[i]);
      else if (m.agg == AGG_MAX) acc = MAX(acc, v[i]);
      else acc += v[i];
    }
    if (m.agg == AGG_MEAN) acc /= vals->len;
    *out = acc;
  }
  metric_clear(&m);
  return ok;
}

/* ---- Aggregation ---------------------------------------------------------------------------- */

/* A number for sweep.csv: 12 significant digits (the runs' own precision is far lower), in
 * the C locale; an empty cell when it is not defined (sd of one repetition). */
static void put_num(GString *g, double v) {
  g_string_append_c(g, ',');
  if (!isfinite(v)) return;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(buf, sizeof buf, "%.12g", v == 0 ? 0 : v);
  g_string_append(g, buf);
}

char *swp_aggregate(const swp_sweep *s, const char *dir, GError **error) {
  GString *g = g_string_new(NULL);
  g_autoptr(GString) owned = g;
  for (guint a = 0; a < s->axes->len; a++)
    g_string_append_printf(g, "%s,", ((swp_axis *)s->axes->pdata[a])->name);
  g_string_append(g, "n");
  for (guint k = 0; k < s->metrics->len; k++) {
    const char *m = s->metrics->pdata[k];
    g_string_append_printf(g, ",%s_mean,%s_sd,%s_ci95", m, m, m);
  }
  g_string_append_c(g, '\n');
  /* The t quantile for n repetitions, the same on every row. */
  double n = s->reps;
  double t = s->reps > 1 ? gsl_cdf_tdist_Pinv(0.975, n - 1) : NAN;
  g_autofree double *vals = g_new(double, (gsize)s->metrics->len * s->reps);
  for (guint p = 0; p < s->n_points; p++) {
    for (guint r = 0; r < s->reps; r++) {
      guint run = p * s->reps + r;
      g_autofree char *id = run_id(s, run);
      g_autofree char *path = g_build_filename(dir, "points", id, "summary.json", NULL);
      g_autofree char *json = NULL;
      g_autoptr(GError) err = NULL;
      if (!g_file_get_contents(path, &json, NULL, &err)) {
        g_set_error(error, SWP_ERROR, SWP_ERROR_RUN, "point %s is not done: %s", id, err->message);
        return NULL;
      }
      for (guint k = 0; k < s->metrics->len; k++)
        if (!swp_metric_value(s->metrics->pdata[k], json, &vals[k * s->reps + r], &err)) {
          g_set_error(error, SWP_ERROR, SWP_ERROR_RUN, "%s: %s", path, err->message);
          return NULL;
        }
    }
    for (guint a = 0; a < s->axes->len; a++)
      g_string_append_printf(g, "%s,", run_value(s, p * s->reps, a));
    g_string_append_printf(g, "%u", s->reps);
    for (guint k = 0; k < s->metrics->len; k++) {
      const double *v = vals + k * s->reps;
      double mean = gsl_stats_mean(v, 1, s->reps);
      double sd = s->reps > 1 ? gsl_stats_sd_m(v, 1, s->reps, mean) : NAN;
      put_num(g, mean);
      put_num(g, sd);
      put_num(g, t * sd / sqrt(n));
    }
    g_string_append_c(g, '\n');
  }
  return g_string_free(g_steal_pointer(&owned), FALSE);
}

/* ---- Running the points --------------------------------------------------------------------- */

typedef struct runner {
  const swp_sweep *s;
  const char *bin, *dir;
  guint jobs;
  gboolean tty;
  guint total, done, failed; /* over the runs asked for */
  guint done_before;         /* of them, done before this invocation */
  gint64 t0;
  GHashTable *running;       /* pid -> run index + 1 */
  GArray *failures;          /* guint run indexes */
} runner;

static char *log_path(const runner *rn, guint run) {
  g_autofree char *id = run_id(rn->s, run);
  g_autofree char *name = g_strconcat(id, ".stderr", NULL);
  return g_build_filename(rn->dir, "logs", name, NULL);
}

static gboolean spawn_run(runner *rn, guint run, GError **error) {
  g_auto(GStrv) argv = run_argv(rn->s, rn->bin, rn->dir, run);
  g_autofree char *log = log_path(rn, run);
  GPid pid = 0;
  if (!cli_spawn_worker((const char *const *)argv, log, &pid, error)) return FALSE;
  g_hash_table_insert(rn->running, GINT_TO_POINTER(pid), GUINT_TO_POINTER(run + 1));
  return TRUE;
}

static void progress(runner *rn, guint run, gboolean ok) {
  guint finished = rn->done + rn->failed;
  double el = (double)(g_get_monotonic_time() - rn->t0) / 1e6;
  guint now = finished - rn->done_before;
  double rate = el > 0 ? now / el : 0;
  double eta = rate > 0 ? (rn->total - finished) / rate : 0;
  g_autofree char *id = run_id(rn->s, run);
  if (rn->tty) {
    char bar[31];
    guint fill = rn->total ? (guint)(30.0 * finished / rn->total) : 30;
    for (guint i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %u/%u points  %.2f/s  ETA %d:%02d%s%s ", bar, finished, rn->total,
            rate, (int)eta / 60, (int)eta % 60, rn->failed ? "  failed: " : "",
            rn->failed ? id : "");
    if (finished == rn->total) fputc('\n', stderr);
  } else {
    fprintf(stderr, "sweep: %u/%u %s %s (%.2f points/s, ETA %.0f s)\n", finished, rn->total, id,
            ok ? "done" : "FAILED", rate, eta);
  }
  fflush(stderr);
}

/* Runs runs[0..n-1] that are not done yet on rn->jobs processes. */
static gboolean run_all(runner *rn, const guint *runs, guint n, GError **error) {
  g_autoptr(GArray) todo = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint i = 0; i < n; i++) {
    g_autofree char *id = run_id(rn->s, runs[i]);
    if (run_done(rn->dir, id)) rn->done++;
    else g_array_append_val(todo, runs[i]);
  }
  rn->done_before = rn->done;
  rn->total = n;
  if (rn->done_before)
    fprintf(stderr, "sweep: %u of %u points already done\n", rn->done_before, n);
  guint next = 0;
  while (next < todo->len || g_hash_table_size(rn->running)) {
    while (next < todo->len && g_hash_table_size(rn->running) < rn->jobs)
      if (!spawn_run(rn, g_array_index(todo, guint, next++), error)) return FALSE;
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      g_error("sweep.c: waitpid with %u runs in flight: %s (a child reaped elsewhere?)",
              g_hash_table_size(rn->running), g_strerror(errno));
    }
    gpointer v = NULL;
    if (!g_hash_table_steal_extended(rn->running, GINT_TO_POINTER(pid), NULL, &v)) continue;
    guint run = GPOINTER_TO_UINT(v) - 1;
    g_autofree char *id = run_id(rn->s, run);
    gboolean ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && run_done(rn->dir, id);
    if (ok) {
      rn->done++;
      /* An empty log says nothing: keep the folder tidy. */
      g_autofree char *log = log_path(rn, run);
      GStatBuf st;
      if (g_stat(log, &st) == 0 && st.st_size == 0) g_unlink(log);
    } else {
      rn->failed++;
      g_array_append_val(rn->failures, run);
    }
    progress(rn, run, ok);
  }
  return TRUE;
}

static gint cmp_uint(gconstpointer a, gconstpointer b) {
  guint x = *(const guint *)a, y = *(const guint *)b;
  return x < y ? -1 : x > y;
}

/* failed.txt (and stderr): every failed run with its command and what it printed. */
static char *failure_report(runner *rn) {
  g_array_sort(rn->failures, cmp_uint);
  GString *g = g_string_new(NULL);
  for (guint i = 0; i < rn->failures->len; i++) {
    guint run = g_array_index(rn->failures, guint, i);
    g_autofree char *id = run_id(rn->s, run);
    g_auto(GStrv) argv = run_argv(rn->s, rn->bin, rn->dir, run);
    g_autofree char *cmd = shell_line(argv);
    g_autofree char *log = log_path(rn, run);
    g_autofree char *text = NULL;
    g_file_get_contents(log, &text, NULL, NULL);
    g_string_append_printf(g, "point %s failed; rerun it alone with:\n  %s\n%s%s", id, cmd,
                           text ? text : "", text && *text && !g_str_has_suffix(text, "\n") ? "\n" : "");
  }
  return g_string_free(g, FALSE);
}

/* ---- The command ---------------------------------------------------------------------------- */

static int fail(GError *err) {
  fprintf(stderr, "%s\n", err->message);
  return err->domain == SWP_ERROR && err->code == SWP_ERROR_INPUT ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
}

static gboolean write_text(const char *dir, const char *name, const char *text, GError **error) {
  g_autofree char *path = g_build_filename(dir, name, NULL);
  /* g_file_set_contents writes a temporary file and renames it: never half a file. */
  return g_file_set_contents(path, text, -1, error);
}

/* The folder's sweep file: DIR/sweep-file holds its absolute path, for --collect. */
static swp_sweep *load_from_dir(const char *dir, GError **error) {
  g_autofree char *p = g_build_filename(dir, "sweep-file", NULL);
  g_autofree char *file = NULL;
  if (!g_file_get_contents(p, &file, NULL, NULL)) {
    g_set_error(error, SWP_ERROR, SWP_ERROR_INPUT,
                "%s: no sweep-file, so %s is not a folder written by nestsim sweep", p, dir);
    return NULL;
  }
  return swp_load(g_strchomp(file), error);
}

/* Writes sweep.csv when every run is done; otherwise says which are missing. */
static gboolean collect(const swp_sweep *s, const char *dir, GError **error) {
  g_autoptr(GString) missing = g_string_new(NULL);
  guint n_missing = 0;
  for (guint r = 0; r < swp_n_runs(s); r++) {
    g_autofree char *id = run_id(s, r);
    if (run_done(dir, id)) continue;
    if (n_missing++ < 10) g_string_append_printf(missing, " %s", id);
  }
  if (n_missing) {
    g_set_error(error, SWP_ERROR, SWP_ERROR_RUN,
                "%s: %u of %u points are not done:%s%s; finish them with nestsim sweep %s "
                "--resume --out %s", dir, n_missing, swp_n_runs(s), missing->str,
                n_missing > 10 ? " ..." : "", s->file, dir);
    return FALSE;
  }
  g_autoptr(GError) inner = NULL;
  g_autofree char *csv = swp_aggregate(s, dir, &inner);
  if (!csv) {
    /* Metrics are not part of points.csv: correcting one costs no run. */
    g_set_error(error, inner->domain, inner->code,
                "%s\nno sweep.csv written; after correcting the metric in %s, nestsim sweep "
                "--collect %s computes it without running anything again",
                inner->message, s->file, dir);
    return FALSE;
  }
  return write_text(dir, "sweep.csv", csv, error);
}

/* Creates DIR, DIR/points and DIR/logs, and pins the points: points.csv and sweep-file are
 * written, or checked against the ones there (resume). */
static gboolean prepare_dir(const swp_sweep *s, const char *bin, const char *dir, gboolean resume,
                            GError **error) {
  g_autofree char *points = g_build_filename(dir, "points", NULL);
  g_autofree char *logs = g_build_filename(dir, "logs", NULL);
  if (g_mkdir_with_parents(points, 0755) != 0 || g_mkdir_with_parents(logs, 0755) != 0) {
    g_set_error(error, SWP_ERROR, SWP_ERROR_RUN, "cannot create %s: %s", dir, g_strerror(errno));
    return FALSE;
  }
  g_autofree char *pcsv = g_build_filename(dir, "points.csv", NULL);
  g_autofree char *old = NULL;
  if (g_file_get_contents(pcsv, &old, NULL, NULL)) {
    if (!resume) {
      g_set_error(error, SWP_ERROR, SWP_ERROR_INPUT,
                  "%s already holds a sweep: add --resume to finish it, or remove the folder "
                  "or choose another --out", dir);
      return FALSE;
    }
    if (!same_points(s, old, error)) {
      g_prefix_error(error, "%s: ", dir);
      return FALSE;
    }
  }
  g_autofree char *csv = points_csv(s, bin, dir);
  g_autofree char *abs = g_canonicalize_filename(s->file, NULL);
  g_autofree char *line = g_strconcat(abs, "\n", NULL);
  return write_text(dir, "points.csv", csv, error) && write_text(dir, "sweep-file", line, error);
}

/* --points A-B (inclusive, 0-based run indexes as in points.csv's order). */
static gboolean parse_range(const char *text, guint n, guint *a, guint *b) {
  g_auto(GStrv) parts = g_strsplit(text, "-", 2);
  guint64 x, y;
  if (!parts[0] || !parts[1] || !g_ascii_string_to_unsigned(parts[0], 10, 0, G_MAXUINT, &x, NULL) ||
      !g_ascii_string_to_unsigned(parts[1], 10, 0, G_MAXUINT, &y, NULL) || x > y || y >= n)
    return FALSE;
  *a = (guint)x;
  *b = (guint)y;
  return TRUE;
}

static gboolean emit_slurm(const swp_sweep *s, const char *bin, const char *dir, guint per_task,
                           GError **error) {
  guint n = swp_n_runs(s), tasks = (n + per_task - 1) / per_task;
  g_autofree char *qbin = g_shell_quote(bin);
  g_autofree char *abs = g_canonicalize_filename(s->file, NULL);
  g_autofree char *qfile = g_shell_quote(abs);
  g_autofree char *qdir = g_shell_quote(dir);
  g_autofree char *script = g_strdup_printf(
      "#!/bin/bash\n"
      "# Slurm job array for the sweep %s: %u runs, %u per array task.\n"
      "# Submit with: sbatch %s/slurm.sh\n"
      "# then, when every task has finished: %s sweep --collect %s\n"
      "# A task that was killed or requeued redoes only its runs without summary.json.\n"
      "#SBATCH --job-name=nestsim-%s\n"
      "#SBATCH --array=0-%u\n"
      "#SBATCH --cpus-per-task=1\n"
      "#SBATCH --output=%s/logs/slurm-%%A_%%a.out\n"
      "per=%u\n"
      "total=%u\n"
      "a=$((SLURM_ARRAY_TASK_ID * per))\n"
      "b=$((a + per - 1))\n"
      "if [ \"$b\" -ge \"$total\" ]; then b=$((total - 1)); fi\n"
      "exec %s sweep %s --points \"$a-$b\" --out %s -j \"${SLURM_CPUS_PER_TASK:-1}\"\n",
      s->name, n, per_task, dir, bin, dir, s->name, tasks - 1, dir, per_task, n, qbin, qfile, qdir);
  if (!write_text(dir, "slurm.sh", script, error)) return FALSE;
  g_autofree char *path = g_build_filename(dir, "slurm.sh", NULL);
  g_chmod(path, 0755);
  printf("wrote %s (%u array tasks of up to %u runs)\n"
         "submit: sbatch %s\nthen:   %s sweep --collect %s\n", path, tasks, per_task, path, bin, dir);
  return TRUE;
}

static gboolean emit_parallel(const swp_sweep *s, const char *bin, const char *dir,
                              GError **error) {
  GString *g = g_string_new(NULL);
  for (guint r = 0; r < swp_n_runs(s); r++) {
    g_auto(GStrv) argv = run_argv(s, bin, dir, r);
    g_autofree char *line = shell_line(argv);
    g_string_append_printf(g, "%s\n", line);
  }
  g_autofree char *text = g_string_free(g, FALSE);
  if (!write_text(dir, "jobs.txt", text, error)) return FALSE;
  g_autofree char *path = g_build_filename(dir, "jobs.txt", NULL);
  printf("wrote %s (%u runs, one a line)\n"
         "run:  parallel --sshlogin 4/host1,4/host2 --joblog %s/parallel.log < %s\n"
         "      (the hosts need nestsim and the folders at the same paths: a shared file system)\n"
         "then: %s sweep --collect %s\n", path, swp_n_runs(s), dir, path, bin, dir);
  return TRUE;
}

/* Loads the scenario as the first run will (its --set values) before anything runs, so that an
 * axis that names no param() of the scenario, or a value it refuses, is reported at once with
 * the loader's message instead of as N failed runs. (Values of later points are checked by
 * their own runs.) */
static gboolean check_first_point(const swp_sweep *s, GError **error) {
  g_autoptr(GHashTable) set = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint a = 0; a < s->axes->len; a++)
    g_hash_table_insert(set, ((swp_axis *)s->axes->pdata[a])->name, (char *)run_value(s, 0, a));
  scn_options opts = {.set = set};
  g_autoptr(GError) err = NULL;
  g_autoptr(topo_scenario) scn = scn_load_file(s->scenario, &opts, &err);
  if (scn) return TRUE;
  g_set_error(error, SWP_ERROR, SWP_ERROR_INPUT, "%s\n%s: sweep: the scenario refuses the "
              "first point's parameters (above)", err->message, s->file);
  return FALSE;
}

/* --plot: the default figure of sweep.csv (first metric against the first axis, one line per
 * value of the second). Without gnuplot the sweep has still succeeded: say how to get it. */
static int draw(const char *dir) {
  g_autoptr(GError) err = NULL;
  if (plot_dir(dir, NULL, NULL, &err)) return CLI_EXIT_OK;
  fprintf(stderr, "nestsim: %s\n", err->message);
  return g_error_matches(err, PLOT_ERROR, PLOT_ERROR_NO_GNUPLOT) ? CLI_EXIT_OK : CLI_EXIT_RUNTIME;
}

int swp_main(int argc, char **argv) {
  gint jobs = 0;
  gboolean resume = FALSE, collect_only = FALSE, plot = FALSE;
  g_autofree char *out = NULL, *points = NULL, *emit = NULL;
  gint per_task = 8;
  GOptionEntry entries[] = {
      {"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Worker processes (default: the cores)", "N"},
      {"resume", 0, 0, G_OPTION_ARG_NONE, &resume,
       "Finish a sweep in DIR: redo the points without summary.json", NULL},
      {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Results folder (default results/SWEEP)", "DIR"},
      {"points", 0, 0, G_OPTION_ARG_STRING, &points,
       "Run only runs A..B of points.csv (0-based, inclusive) and write no sweep.csv "
       "(a Slurm array task)", "A-B"},
      {"emit", 0, 0, G_OPTION_ARG_STRING, &emit,
       "Write DIR/slurm.sh (a job array) or DIR/jobs.txt (GNU parallel) instead of running",
       "slurm|parallel"},
      {"per-task", 0, 0, G_OPTION_ARG_INT, &per_task, "--emit slurm: runs per array task (8)",
       "K"},
      {"collect", 0, 0, G_OPTION_ARG_NONE, &collect_only,
       "nestsim sweep --collect DIR: write DIR/sweep.csv from the runs there", NULL},
      {"plot", 0, 0, G_OPTION_ARG_NONE, &plot,
       "Draw sweep.csv into DIR/plots/ (as nestsim plot DIR; needs gnuplot)", NULL},
      {NULL}};
  g_autoptr(GOptionContext) ctx = g_option_context_new("FILE | --collect DIR");
  g_option_context_set_summary(
      ctx, "Runs every point of a sweep file (its axes' cartesian product x repeat) as a "
           "nestsim run of its own, then writes DIR/sweep.csv: one row per point, with the "
           "mean, sd and 95% confidence interval of every metric over the repetitions.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) err = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
    fprintf(stderr, "nestsim: %s\n", err->message);
    return CLI_EXIT_USAGE;
  }
  if (argc != 2) {
    g_autofree char *help = g_option_context_get_help(ctx, TRUE, NULL);
    fprintf(stderr, "nestsim: sweep takes one sweep file (or --collect DIR)\n\n%s", help);
    return CLI_EXIT_USAGE;
  }
  if (collect_only) {
    g_autoptr(swp_sweep) s = load_from_dir(argv[1], &err);
    if (!s || !collect(s, argv[1], &err)) return fail(err);
    fprintf(stderr, "sweep: wrote %s/sweep.csv\n", argv[1]);
    return plot ? draw(argv[1]) : CLI_EXIT_OK;
  }
  if (jobs < 0 || per_task < 1) {
    fprintf(stderr, "nestsim: -j and --per-task take a number >= 1\n");
    return CLI_EXIT_USAGE;
  }
  if (emit && strcmp(emit, "slurm") && strcmp(emit, "parallel")) {
    fprintf(stderr, "nestsim: --emit: expected slurm or parallel, got \"%s\"\n", emit);
    return CLI_EXIT_USAGE;
  }
  g_autoptr(swp_sweep) s = swp_load(argv[1], &err);
  if (!s) return fail(err);
  g_autofree char *rel = out ? g_strdup(out) : g_build_filename("results", s->name, NULL);
  /* Absolute, so that points.csv's commands and the emitted scripts work from anywhere. */
  g_autofree char *dir = g_canonicalize_filename(rel, NULL);
  g_autofree char *bin = g_file_read_link("/proc/self/exe", &err);
  if (!bin) return fail(err);
  guint a = 0, b = swp_n_runs(s) - 1;
  if (points && !parse_range(points, swp_n_runs(s), &a, &b)) {
    fprintf(stderr, "nestsim: --points: expected A-B with A <= B < %u (the runs of %s), got \"%s\"\n",
            swp_n_runs(s), argv[1], points);
    return CLI_EXIT_USAGE;
  }
  if (!check_first_point(s, &err)) return fail(err);
  /* A Slurm task resumes by nature (a requeued task redoes only what is missing), and the
   * folder is shared with the other tasks, so it only checks points.csv. */
  if (!prepare_dir(s, bin, dir, resume || points || emit, &err)) return fail(err);
  if (emit) {
    gboolean ok = !strcmp(emit, "slurm") ? emit_slurm(s, bin, dir, (guint)per_task, &err)
                                         : emit_parallel(s, bin, dir, &err);
    return ok ? CLI_EXIT_OK : fail(err);
  }
  runner rn = {
      .s = s, .bin = bin, .dir = dir,
      .jobs = jobs ? (guint)jobs : g_get_num_processors(),
      .tty = isatty(STDERR_FILENO),
      .t0 = g_get_monotonic_time(),
      .running = g_hash_table_new(g_direct_hash, g_direct_equal),
      .failures = g_array_new(FALSE, FALSE, sizeof(guint)),
  };
  g_autoptr(GHashTable) running = rn.running;
  g_autoptr(GArray) failures = rn.failures;
  g_autoptr(GArray) runs = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint r = a; r <= b; r++) g_array_append_val(runs, r);
  if (!run_all(&rn, (const guint *)(void *)runs->data, runs->len, &err)) return fail(err);
  g_autofree char *failed_txt = g_build_filename(dir, "failed.txt", NULL);
  if (rn.failures->len) {
    g_autofree char *report = failure_report(&rn);
    fputs(report, stderr);
    fprintf(stderr, "sweep: %u of %u points failed (listed in %s); fix the cause and rerun "
            "with --resume\n", rn.failures->len, rn.total, failed_txt);
    if (!points && !write_text(dir, "failed.txt", report, &err)) return fail(err);
    return CLI_EXIT_RUNTIME;
  }
  if (points) return CLI_EXIT_OK;
  if (g_unlink(failed_txt) != 0 && errno != ENOENT) {
    fprintf(stderr, "nestsim: cannot remove %s: %s\n", failed_txt, g_strerror(errno));
    return CLI_EXIT_RUNTIME;
  }
  if (!collect(s, dir, &err)) return fail(err);
  fprintf(stderr, "sweep: wrote %s/sweep.csv\n", dir);
  return plot ? draw(dir) : CLI_EXIT_OK;
}
