/* scn.c — the scenario loader: runs a Lua 5.4 scenario in a sandbox and turns its constructor
 * calls (scenario, host, vm, esxi, ...) into the topology of topo.h.
 *
 * How a load goes:
 *   1. A fresh Lua state whose allocator counts every byte (scn_alloc) and whose count hook
 *      counts instructions (count_hook), with a sandbox environment: the constructors, a few
 *      safe base functions and the string / table / math / utf8 libraries minus what could
 *      load code, reach the system, hang inside one C call or break determinism (pairs()
 *      visits keys in a fixed order; there is no math.random). Assigning or reading an
 *      undeclared global is an error, so a typo never becomes a silent nil or a new global.
 *   2. The text is loaded as a text chunk only and run. Every constructor validates its whole
 *      table and, instead of raising at the first mistake, records each mistake with the
 *      file:line of the call and returns an object anyway (flagged `bad`), so the script
 *      goes on and every mistake of the file is reported at once. A Lua error (syntax,
 *      runtime, undefined global, a limit) ends the script and is reported last.
 *   3. Once the script has run, references are resolved: `on` (an object or a name/path
 *      string), switch members and uplinks, and the port group of each vNIC. Objects that
 *      are bad, or that hang from one, are skipped silently, since their mistake has been
 *      reported already and a second message about it would only be noise.
 *   4. With no mistake, the hosts and distributed switches go into the topo_scenario that is
 *      returned; otherwise the messages, one per line, go into the GError.
 *
 * Ownership during a load: every C object belongs to its scn_obj record in ctx->objs until it
 * is attached to a parent (a nic to its host, a VM to its hypervisor's host or VM, a host to
 * the scenario); at the end the records free what was never attached. Lua only holds
 * pointers to the records, so the Lua state can be closed before resolution.
 *
 * Constructors must not leave C memory behind when Lua raises an error through them; the only
 * error Lua could raise inside one is "not enough memory", and the allocator never refuses
 * while a constructor runs (ctx->in_c): it charges the memory and stops the script at the
 * next instruction instead. Temporary C strings are still kept short-lived. */
#include "src/scn.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "src/units.h"

G_DEFINE_QUARK(nestsim-scn-error-quark, scn_error)

/* ---- Limits ------------------------------------------------------------------------------- */

/* About one second of Lua on one core of the CI machine: a scenario that builds even a
 * 1,000-host datacenter uses a few million. */
#define SCN_DEFAULT_MAX_INSTRUCTIONS 200000000ULL
/* Lua memory plus SCN_OBJECT_COST per object built; the 1,000-host datacenter of issue 3
 * (about 50,000 VMs, 200,000 objects in all) needs about 200 MB. */
#define SCN_DEFAULT_MAX_MEMORY ((gsize)512 * 1024 * 1024)
/* What one constructed object is charged against the memory limit: its C structs, strings
 * and index entries, which Lua's allocator does not see (measured: about 850 bytes per VM,
 * all told). A billion-VM loop meets the default limit after about half a million objects,
 * in a few seconds. */
#define SCN_OBJECT_COST 1024
/* Memory the script may still use after it hit the limit, so that the error can unwind. */
#define SCN_MEMORY_SLACK ((gsize)1 << 20)
/* The count hook runs every SCN_HOOK_EVERY instructions: rarely enough to cost nothing. */
#define SCN_HOOK_EVERY 1000
/* Work done inside C library calls is charged as instructions: one per this many bytes
 * allocated (building a 16-byte string takes about as long as one instruction). */
#define SCN_BYTES_PER_INSTRUCTION 16
/* Messages listed before "... and N more". */
#define SCN_MAX_ERRORS 50
/* Nesting depth the loader accepts (layer of the deepest VM). Real labs stop at 3. */
#define SCN_MAX_LAYERS 16
/* Bounds that keep a typo from asking the models for absurd amounts of memory. */
#define SCN_MAX_VCPUS 1024
#define SCN_MAX_NAME 100
#define SCN_MAX_TEXT 200

/* ---- Defaults ----------------------------------------------------------------------------- */

/* Hypervisor defaults by kind and version: the one place to refine them (the CPU model,
 * issue 3, owns these numbers). A row with version NULL applies to every version of its kind
 * not matched by an earlier row.
 * - ESXi quantum 50 ms: ASSUMPTION, the time slice commonly quoted for the ESX scheduler; to
 *   be checked against "The CPU Scheduler in VMware vSphere 5.1" (VMware, 2013).
 * - ESXi costop relaxed: relaxed co-scheduling is ESX's policy since ESX 3 (same paper,
 *   section "Relaxed Co-Scheduling").
 * - skew 3 ms: ASSUMPTION (the paper describes the skew threshold without a number).
 * - KVM quantum 6 ms: ASSUMPTION, the base value of Linux CFS's sched_latency
 *   (kernel/sched/fair.c, sysctl_sched_latency = 6 ms before scaling by CPU count); KVM does
 *   not co-schedule vCPUs, hence "none". */
typedef struct {
  topo_hv_kind kind;
  const char *version;
  int64_t quantum_ns;
  topo_cosched costop;
  int64_t skew_ns;
} hv_default;

static const hv_default hv_defaults[] = {
    {TOPO_HV_ESXI, NULL, 50000000, TOPO_COSCHED_RELAXED, 3000000},
    {TOPO_HV_KVM, NULL, 6000000, TOPO_COSCHED_NONE, 3000000},
};

/* ESXi versions the models know; the default is the last one of the vSphere 6 line, the era
 * nested ESXi labs were most often built on. */
static const char *const esxi_versions[] = {"4.0", "4.1", "5.0", "5.1", "5.5", "6.0",
                                            "6.5", "6.7", "7.0", "8.0", NULL};
#define ESXI_DEFAULT_VERSION "6.7"
#define KVM_DEFAULT_VERSION "any"

/* Guest ids and whether the guest is 64-bit (a 64-bit guest needs hardware virtualization
 * from its hypervisor when that hypervisor is nested; issue 4 checks it). */
static const char *const guest_ids[] = {"other32", "other64", "linux32", "linux64",
                                        "windows32", "windows64", "esxi4", "esxi5",
                                        "esxi6", "esxi7", "esxi8", NULL};
static const bool guest_64bit[] = {false, true, false, true, false, true,
                                   true, true, true, true, true};
#define GUEST_DEFAULT 1 /* other64 */

/* Workload profiles of the virtualization-overhead model (issue 4 owns their numbers). */
static const char *const profiles[] = {"idle", "cpu-only", "kernbench", "specjbb",
                                       "netperf", "forkwait", NULL};

/* ---- issue 4: the host CPU's overhead preset and cost overrides, and the overhead mode. The
 * numbers and their sources are models/virt.c's; libscn does not link the models, so the names
 * are repeated here, and tests/test-virt.c loads every preset, alias and parameter name virt.c
 * knows, so a name added there and not here fails a test. (ghz, vt, ept and vmcs_shadowing
 * have keys of their own.) */
static const char *const cpu_models[] = {"p4-2006", "core2-2008", "westmere-2010",
                                         "skylake-2015", "p4", "prescott", "netburst", "core2",
                                         "penryn", "nehalem", "westmere", "skylake", "recent",
                                         NULL};
static const char *const cpu_cost_params[] = {
    "auto_bt_32bit", "exit_cycles", "hw_pf_cycles", "hw_ptu_cycles", "hw_ctxsw_cycles",
    "hw_io_cycles", "hw_intr_cycles", "hw_priv_cycles", "bt_syscall_cycles", "bt_pf_cycles",
    "bt_ptu_cycles", "bt_ctxsw_cycles", "bt_io_cycles", "bt_intr_cycles", "bt_priv_cycles",
    "walk_refs_native", "walk_refs_2d", "walk_ref_cycles", "vmcs_accesses_per_exit",
    "vmcs_access_cycles", "nested_switch_cycles", "backend_exits_per_io", NULL};
static const char *const overhead_modes[] = {"fluid", "discrete", NULL};

static const char *const cpu_mmu_names[] = {"automatic", "software", "hw-cpu",
                                            "hardware", NULL};
static const char *const costop_names[] = {"none", "strict", "relaxed", NULL};
static const char *const dist_names[] = {"fixed", "exp", NULL};
static const char *const per_names[] = {"vcpu", "vm", NULL};
static const char *const vnic_types[] = {"vmxnet3", "e1000", NULL};
static const char *const datastore_types[] = {"hdd", "ssd", NULL};
static const char *const share_levels[] = {"low", "normal", "high", NULL};
/* vSphere's share levels for CPU: 500 / 1000 / 2000 per vCPU (Resource Management Guide,
 * "Share Values"). */
static const double share_per_vcpu[] = {500, 1000, 2000};

/* ---- Objects ------------------------------------------------------------------------------ */

typedef enum {
  OBJ_SCENARIO, OBJ_HOST, OBJ_VM, OBJ_HV, OBJ_WORKLOAD, OBJ_NIC, OBJ_VNIC, OBJ_PORTGROUP, OBJ_DVPORTGROUP,
  OBJ_VSWITCH, OBJ_DVSWITCH, OBJ_DATASTORE,
  OBJ_EXTERNAL, OBJ_TRAFFIC, OBJ_RR, OBJ_NOISE, /* issue 5 */
  OBJ_MEMWL, OBJ_DISK /* memory and storage (models/mem.c) */
} obj_kind;

/* A reference written in the scenario: an object, or a name / path string. */
typedef struct {
  struct scn_obj *obj;
  char *name;
} scn_ref;

/* Resolution states; RES_DEEP is an answer of resolve_vm, never a stored state. */
enum { RES_TODO, RES_BUSY, RES_OK, RES_FAILED, RES_DEEP };

typedef struct scn_obj {
  obj_kind kind;
  void *obj;          /* the topo_* struct; NULL when the call was not even a table */
  char *label;        /* "vm 'web1'", "esxi", for messages */
  char *name;         /* NULL when absent or invalid */
  char *where;        /* "lab.lua:42" */
  bool bad;           /* a mistake was reported for it or for a part of it */
  bool attached;      /* owned by another object now */
  struct scn_obj *owner;  /* parts: what it was attached to */
  struct scn_obj *target; /* vnic: its port group */
  scn_ref on;         /* vm, vswitch */
  GArray *members;    /* dvswitch: scn_ref */
  scn_ref from, to;   /* traffic, rr, noise (issue 5) */
  int state;          /* resolution of vm / vswitch / dvswitch */
  GPtrArray *disks;   /* vm: its disk { } objects, whose `on` names their datastore */
} scn_obj;

typedef enum { LIMIT_NONE, LIMIT_INSTRUCTIONS, LIMIT_MEMORY } limit_kind;

typedef struct {
  char *label;              /* the file as messages name it */
  const scn_options *opts;
  guint64 max_instructions;
  gsize max_memory;
  lua_State *L;
  gsize mem;                /* Lua bytes in use + SCN_OBJECT_COST per object */
  guint64 work;             /* instructions + allocated bytes / SCN_BYTES_PER_INSTRUCTION */
  limit_kind limit;
  char *limit_where;
  bool in_c;                /* a constructor runs: charge memory, never refuse it */
  lua_CFunction orig_rep, orig_move, orig_sort;

  GPtrArray *errors;        /* char*, the first SCN_MAX_ERRORS */
  guint n_errors;
  char *fatal;              /* the Lua error that ended the script */

  GPtrArray *objs;          /* scn_obj*, owned */
  guint n_objects;
  GPtrArray *hosts, *vms, *vswitches, *dvswitches; /* scn_obj*, in creation order */
  GHashTable *host_by_name; /* name -> first scn_obj */
  GHashTable *dvs_by_name;
  GHashTable *vms_by_name;  /* name -> GPtrArray of scn_obj */
  GHashTable *vm_by_path;   /* path -> scn_obj attached there */
  GPtrArray *externals, *traffic; /* issue 5: scn_obj*, in creation order */
  GHashTable *ext_by_name;  /* issue 5: name -> first external scn_obj */

  topo_scenario *scn;
  char *scenario_where;     /* where scenario {} was called first */
  int depth;                /* of resolve_vm's recursion */
  bool deferred;            /* resolve_vm gave up at depth SCN_MAX_LAYERS below this call */
  struct scn_obj *deep_at;  /* ... at this VM */
} scn_ctx;

static scn_ctx *ctx_of(lua_State *L) {
  void *ud = NULL;
  lua_getallocf(L, &ud);
  return ud;
}

/* ---- Messages ----------------------------------------------------------------------------- */

static void add_error(scn_ctx *c, char *msg /* transfer full */) {
  c->n_errors++;
  if (c->errors->len < SCN_MAX_ERRORS) g_ptr_array_add(c->errors, msg);
  else g_free(msg);
}

static void errorf(scn_ctx *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void errorf(scn_ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  add_error(c, g_strdup_vprintf(fmt, ap));
  va_end(ap);
}

/* A string as messages show it: quoted, escaped, at most 40 characters. */
static void append_quoted(GString *g, const char *s, size_t len) {
  gboolean utf8 = g_utf8_validate(s, (gssize)len, NULL);
  g_string_append_c(g, '"');
  size_t i = 0;
  for (int chars = 0; i < len && chars < 40; chars++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '"' || ch == '\\') {
      g_string_append_c(g, '\\');
      g_string_append_c(g, (char)ch);
    } else if (ch == '\n') {
      g_string_append(g, "\\n");
    } else if (ch == '\t') {
      g_string_append(g, "\\t");
    } else if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !utf8)) {
      g_string_append_printf(g, "\\x%02x", ch);
    } else if (ch >= 0x80) {
      size_t n = (size_t)(g_utf8_next_char(s + i) - (s + i));
      g_string_append_len(g, s + i, (gssize)n);
      i += n;
      continue;
    } else {
      g_string_append_c(g, (char)ch);
    }
    i++;
  }
  if (i < len) g_string_append(g, "...");
  g_string_append_c(g, '"');
}

/* Text as messages show it unquoted: control characters and bytes that are not UTF-8
 * escaped, so that every message is one line of valid UTF-8. */
static char *escape_text(const char *s, size_t len) {
  GString *g = g_string_new(NULL);
  gboolean utf8 = g_utf8_validate(s, (gssize)len, NULL);
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '\n') g_string_append(g, "\\n");
    else if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !utf8)) g_string_append_printf(g, "\\x%02x", ch);
    else g_string_append_c(g, (char)ch);
  }
  return g_string_free(g, FALSE);
}

/* A Lua number as Lua prints it: integers plain, floats with "%.14g" and a ".0" if needed. */
static char *format_number(lua_State *L, int idx) {
  if (lua_isinteger(L, idx)) return g_strdup_printf("%lld", (long long)lua_tointeger(L, idx));
  double d = lua_tonumber(L, idx);
  if (isnan(d)) return g_strdup("nan");
  if (isinf(d)) return g_strdup(d > 0 ? "inf" : "-inf");
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(buf, sizeof buf, "%.14g", d);
  if (strspn(buf, "-0123456789") == strlen(buf)) return g_strconcat(buf, ".0", NULL);
  return g_strdup(buf);
}

static scn_obj *to_obj(lua_State *L, int idx);

/* What a value is, for "got VALUE". */
static char *describe(lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
  case LUA_TNONE:
  case LUA_TNIL: return g_strdup("nil");
  case LUA_TBOOLEAN: return g_strdup(lua_toboolean(L, idx) ? "true" : "false");
  case LUA_TNUMBER: return format_number(L, idx);
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    GString *g = g_string_new(NULL);
    append_quoted(g, s, len);
    return g_string_free(g, FALSE);
  }
  case LUA_TTABLE: return g_strdup("a table");
  case LUA_TFUNCTION: return g_strdup("a function");
  case LUA_TUSERDATA: {
    scn_obj *o = to_obj(L, idx);
    return g_strdup(o ? o->label : "a userdata");
  }
  default: return g_strdup_printf("a %s", lua_typename(L, lua_type(L, idx)));
  }
}

/* Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), for "did you
 * mean". Only short words are compared. */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return G_MAXSIZE;
  size_t d[65][65];
  for (size_t i = 0; i <= la; i++) d[i][0] = i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t v = MIN(MIN(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        v = MIN(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  return d[la][lb];
}

/* The candidate closest to `word`, if close enough to be the likely intent (at most one edit
 * for short words, two for longer ones) and closer than any other: when two are equally
 * close ("linux" from "linux32" and "linux64"), guessing would mislead, so there is none. */
static const char *suggest(const char *word, const char *const *cands, size_t n) {
  size_t best = G_MAXSIZE;
  const char *pick = NULL;
  bool tie = false;
  size_t limit = strlen(word) <= 4 ? 1 : 2;
  for (size_t i = 0; i < n; i++) {
    if (!cands[i] || (pick && !strcmp(cands[i], pick))) continue;
    size_t d = edit_distance(word, cands[i]);
    if (d > limit || d >= strlen(cands[i])) continue;
    if (d < best) {
      best = d;
      pick = cands[i];
      tie = false;
    } else if (d == best) {
      tie = true;
    }
  }
  return tie ? NULL : pick;
}

static size_t count_names(const char *const *names) {
  size_t n = 0;
  while (names[n]) n++;
  return n;
}

/* "one of "a", "b" or "c"" */
static char *one_of(const char *const *names) {
  GString *g = g_string_new(NULL);
  size_t n = count_names(names);
  for (size_t i = 0; i < n; i++) {
    if (i) g_string_append(g, i + 1 == n ? " or " : ", ");
    g_string_append_printf(g, "\"%s\"", names[i]);
  }
  return g_string_free(g, FALSE);
}

/* "lab.lua:42" for the innermost Lua function running, looking from stack level `from` (0:
 * the running function, 1: its caller); a constructor called through pcall still gets the
 * line of the pcall. */
static char *where_from(scn_ctx *c, lua_State *L, int from) {
  lua_Debug ar;
  for (int level = from; lua_getstack(L, level, &ar); level++)
    if (lua_getinfo(L, "l", &ar) && ar.currentline > 0)
      return g_strdup_printf("%s:%d", c->label, ar.currentline);
  return g_strdup(c->label);
}

/* Where the Lua code that called the running C function is. */
static char *current_where(scn_ctx *c, lua_State *L) { return where_from(c, L, 1); }

/* ---- Limits: memory and instructions -------------------------------------------------------- */

static void count_hook(lua_State *L, lua_Debug *ar);

/* Records that a limit was hit and makes the hook fire at the very next instruction, where it
 * raises; the hook keeps raising at every instruction so that no pcall can carry on. Safe to
 * call from the allocator: lua_sethook only sets fields. */
static void trip(scn_ctx *c, limit_kind kind) {
  if (c->limit == LIMIT_NONE) c->limit = kind;
  if (c->L) lua_sethook(c->L, count_hook, LUA_MASKCOUNT, 1);
}

static void count_hook(lua_State *L, lua_Debug *ar) {
  scn_ctx *c = ctx_of(L);
  c->in_c = false; /* hooks run only in Lua code, so no constructor is running */
  if (c->limit == LIMIT_NONE) {
    c->work += SCN_HOOK_EVERY;
    if (c->work > c->max_instructions) trip(c, LIMIT_INSTRUCTIONS);
    if (c->mem > c->max_memory) trip(c, LIMIT_MEMORY);
  }
  if (c->limit == LIMIT_NONE) return;
  if (!c->limit_where && lua_getinfo(L, "l", ar) && ar->currentline > 0)
    c->limit_where = g_strdup_printf("%s:%d", c->label, ar->currentline);
  luaL_error(L, "nestsim: scenario stopped");
}

/* Charges work done inside a C function that Lua's instruction count cannot see; raises when
 * the budget is spent. */
static void charge(lua_State *L, double units) {
  scn_ctx *c = ctx_of(L);
  if (units > 0) c->work += units >= 1e18 ? (guint64)1e18 : (guint64)units;
  if (c->work > c->max_instructions) {
    trip(c, LIMIT_INSTRUCTIONS);
    if (!c->limit_where) c->limit_where = current_where(c, L);
    luaL_error(L, "nestsim: scenario stopped");
  }
}

static void *scn_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  scn_ctx *c = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    c->mem -= old;
    return NULL;
  }
  if (nsize > old) {
    size_t grow = nsize - old;
    gsize cap = c->limit == LIMIT_NONE ? c->max_memory : c->max_memory + SCN_MEMORY_SLACK;
    if (!c->in_c && (grow > cap || c->mem > cap - grow)) {
      trip(c, LIMIT_MEMORY);
      /* The error that follows unwinds without running the hook: note the line now. Only
       * reads the call stack, which Lua keeps current wherever it may allocate. */
      if (c->L && !c->limit_where) c->limit_where = where_from(c, c->L, 0);
      return NULL;
    }
    c->work += grow / SCN_BYTES_PER_INSTRUCTION;
  }
  void *p = realloc(ptr, nsize);
  if (!p) return NULL;
  c->mem = c->mem - old + nsize;
  return p;
}

/* ---- Lua objects ---------------------------------------------------------------------------- */

static const char OBJ_MT[] = "nestsim.object";

static scn_obj *to_obj(lua_State *L, int idx) {
  scn_obj **u = luaL_testudata(L, idx, OBJ_MT);
  return u ? *u : NULL;
}

static void push_obj(lua_State *L, scn_obj *o) {
  scn_obj **u = lua_newuserdatauv(L, sizeof *u, 0);
  *u = o;
  luaL_setmetatable(L, OBJ_MT);
}

static int obj_tostring(lua_State *L) {
  scn_obj *o = to_obj(L, 1);
  lua_pushstring(L, o ? o->label : "?");
  return 1;
}

static int obj_index(lua_State *L) {
  scn_obj *o = to_obj(L, 1);
  return luaL_error(L, "%s has no fields to read or write (keep what you need in a local)",
                    o ? o->label : "object");
}

static const char *kind_word(obj_kind k) {
  static const char *const words[] = {
      [OBJ_SCENARIO] = "scenario", [OBJ_HOST] = "host", [OBJ_VM] = "vm", [OBJ_HV] = "hypervisor",
      [OBJ_WORKLOAD] = "workload", [OBJ_NIC] = "nic", [OBJ_VNIC] = "vnic",
      [OBJ_PORTGROUP] = "portgroup", [OBJ_DVPORTGROUP] = "dvportgroup",
      [OBJ_VSWITCH] = "vswitch", [OBJ_DVSWITCH] = "dvswitch", [OBJ_DATASTORE] = "datastore",
      [OBJ_EXTERNAL] = "external", [OBJ_TRAFFIC] = "traffic", [OBJ_RR] = "rr",
      [OBJ_NOISE] = "noise",
      [OBJ_MEMWL] = "mem", [OBJ_DISK] = "disk"};
  return words[k];
}

static scn_obj *new_obj(scn_ctx *c, lua_State *L, obj_kind kind, const char *word) {
  scn_obj *o = g_new0(scn_obj, 1);
  o->kind = kind;
  o->label = g_strdup(word);
  o->where = current_where(c, L);
  g_ptr_array_add(c->objs, o);
  c->n_objects++;
  c->mem += SCN_OBJECT_COST;
  return o;
}

static void obj_set_name(scn_obj *o, const char *word, const char *name) {
  g_free(o->name);
  g_free(o->label);
  o->name = g_strdup(name);
  GString *g = g_string_new(word);
  g_string_append(g, " '");
  /* Names are validated before they get here: printable, no quotes needed. */
  g_string_append(g, name);
  g_string_append_c(g, '\'');
  o->label = g_string_free(g, FALSE);
}

static void ref_clear(scn_ref *r) { g_free(r->name); }

static void free_topo(scn_obj *o) {
  if (!o->obj) return;
  switch (o->kind) {
  case OBJ_SCENARIO: break;
  case OBJ_HOST: topo_host_free(o->obj); break;
  case OBJ_VM: topo_vm_free(o->obj); break;
  case OBJ_HV: topo_hypervisor_free(o->obj); break;
  case OBJ_WORKLOAD: topo_workload_free(o->obj); break;
  case OBJ_NIC: topo_nic_free(o->obj); break;
  case OBJ_VNIC: topo_vnic_free(o->obj); break;
  case OBJ_PORTGROUP:
  case OBJ_DVPORTGROUP: topo_portgroup_free(o->obj); break;
  case OBJ_VSWITCH: topo_vswitch_free(o->obj); break;
  case OBJ_DVSWITCH: topo_dvswitch_free(o->obj); break;
  case OBJ_DATASTORE: topo_datastore_free(o->obj); break;
  case OBJ_MEMWL:
  case OBJ_DISK: g_free(o->obj); break; /* plain values, copied into their VM */
  case OBJ_EXTERNAL: topo_external_free(o->obj); break;
  case OBJ_TRAFFIC:
  case OBJ_RR:
  case OBJ_NOISE: topo_traffic_free(o->obj); break;
  }
}

static void obj_free(void *p) {
  scn_obj *o = p;
  if (!o->attached) free_topo(o);
  g_free(o->label);
  g_free(o->name);
  g_free(o->where);
  ref_clear(&o->on);
  ref_clear(&o->from);
  ref_clear(&o->to);
  if (o->members) {
    for (guint i = 0; i < o->members->len; i++) ref_clear(&g_array_index(o->members, scn_ref, i));
    g_array_unref(o->members);
  }
  if (o->disks) g_ptr_array_unref(o->disks);
  g_free(o);
}

/* ---- Reading a constructor's table ---------------------------------------------------------- */

typedef struct {
  scn_ctx *c;
  lua_State *L;
  int t;                   /* stack index of the table being read */
  scn_obj *o;
  const char *prefix;      /* "" or "cpu." for a nested table */
  const char *const *keys; /* the keys allowed here */
  guint errors_at_start;
} ctor;

/* Records "WHERE: LABEL: invalid 'KEY': EXPECTED, got VALUE" for the value at idx. */
static void invalid(ctor *k, const char *key, const char *expected, int idx) {
  g_autofree char *got = describe(k->L, idx);
  errorf(k->c, "%s: %s: invalid '%s%s': %s, got %s", k->o->where, k->o->label, k->prefix, key,
         expected, got);
}

static void missing(ctor *k, const char *key) {
  errorf(k->c, "%s: %s: missing '%s%s'", k->o->where, k->o->label, k->prefix, key);
}

/* Pushes t[key] (raw: tables in the sandbox have no metatables anyway) and returns its type. */
static int field(ctor *k, const char *key) {
  lua_pushstring(k->L, key);
  return lua_rawget(k->L, k->t);
}

static gint cmp_strp(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reports keys that are not in k->keys, sorted so that the messages come out in the same order
 * on every run (Lua's table order depends on a per-process hash seed). */
static void check_keys(ctor *k) {
  lua_State *L = k->L;
  g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func(g_free);
  lua_Integer first_pos = 0;
  guint n_other = 0;
  lua_pushnil(L);
  while (lua_next(L, k->t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      size_t len;
      const char *s = lua_tolstring(L, -1, &len);
      bool known = false;
      for (const char *const *p = k->keys; *p; p++)
        if (strlen(*p) == len && !memcmp(*p, s, len)) known = true;
      if (!known) {
        size_t keep = MIN(len, (size_t)SCN_MAX_NAME);
        while (keep < len && keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80) keep--;
        char *shown = escape_text(s, keep);
        if (keep < len) {
          char *t = g_strconcat(shown, "...", NULL);
          g_free(shown);
          shown = t;
        }
        g_ptr_array_add(unknown, shown);
      }
    } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
      lua_Integer i = lua_tointeger(L, -1);
      if (!first_pos || i < first_pos) first_pos = i;
    } else {
      n_other++;
    }
  }
  g_ptr_array_sort(unknown, cmp_strp);
  g_autoptr(GPtrArray) full = g_ptr_array_new_with_free_func(g_free);
  for (const char *const *p = k->keys; *p; p++)
    g_ptr_array_add(full, g_strconcat(k->prefix, *p, NULL));
  for (guint i = 0; i < unknown->len; i++) {
    const char *key = unknown->pdata[i];
    g_autofree char *whole = g_strconcat(k->prefix, key, NULL);
    const char *s = suggest(whole, (const char *const *)full->pdata, full->len);
    if (s)
      errorf(k->c, "%s: %s: unknown key '%s' (did you mean '%s'?)", k->o->where, k->o->label,
             whole, s);
    else
      errorf(k->c, "%s: %s: unknown key '%s'", k->o->where, k->o->label, whole);
  }
  if (first_pos) {
    lua_rawgeti(L, k->t, first_pos);
    g_autofree char *got = describe(L, -1);
    lua_pop(L, 1);
    g_autofree char *in = k->prefix[0] ? g_strdup_printf(" in '%.*s'",
                                                         (int)strlen(k->prefix) - 1, k->prefix)
                                       : g_strdup("");
    errorf(k->c, "%s: %s: value %s without a key%s (write key = value)", k->o->where,
           k->o->label, got, in);
  }
  if (n_other)
    errorf(k->c, "%s: %s: %u key%s that %s not a name (write key = value)", k->o->where,
           k->o->label, n_other, n_other == 1 ? "" : "s", n_other == 1 ? "is" : "are");
}

/* Like invalid(), with `suffix` after the value (" as item 2", " (did you mean ...?)"). */
static void invalid_ex(ctor *k, const char *key, const char *expected, int idx,
                       const char *suffix) {
  g_autofree char *got = describe(k->L, idx);
  errorf(k->c, "%s: %s: invalid '%s%s': %s, got %s%s", k->o->where, k->o->label, k->prefix,
         key, expected, got, suffix);
}

/* Names make up paths ("esx01/vESX1/web1") and messages: printable UTF-8, no '/'. */
#define NAME_EXPECTED "expected a name (1 to 100 characters, no '/' or control characters)"

static bool valid_name(const char *s, size_t len) {
  if (len == 0 || len > SCN_MAX_NAME || strlen(s) != len) return false;
  if (!g_utf8_validate(s, (gssize)len, NULL)) return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch < 0x20 || ch == 0x7f || ch == '/') return false;
  }
  return true;
}

/* Free text (a version, a CPU model): printable UTF-8 of reasonable length. */
static bool valid_text(const char *s, size_t len, size_t max) {
  if (len == 0 || len > max || strlen(s) != len) return false;
  if (!g_utf8_validate(s, (gssize)len, NULL)) return false;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
  return true;
}

static bool get_name(ctor *k, bool required) {
  bool ok = false;
  int t = field(k, "name");
  if (t == LUA_TNIL) {
    if (required) missing(k, "name");
  } else {
    size_t len = 0;
    const char *s = t == LUA_TSTRING ? lua_tolstring(k->L, -1, &len) : NULL;
    if (s && valid_name(s, len)) {
      obj_set_name(k->o, kind_word(k->o->kind), s);
      ok = true;
    } else {
      invalid(k, "name", NAME_EXPECTED, -1);
    }
  }
  lua_pop(k->L, 1);
  return ok;
}

static bool get_int(ctor *k, const char *key, lua_Integer lo, lua_Integer hi, bool required,
                    lua_Integer *out) {
  bool ok = false;
  int t = field(k, key);
  if (t == LUA_TNIL) {
    if (required) missing(k, key);
  } else {
    int isint = 0;
    lua_Integer v = t == LUA_TNUMBER ? lua_tointegerx(k->L, -1, &isint) : 0;
    if (!isint || v < lo) {
      g_autofree char *e = g_strdup_printf("expected integer >= %lld", (long long)lo);
      invalid(k, key, e, -1);
    } else if (v > hi) {
      g_autofree char *e = g_strdup_printf("expected integer <= %lld", (long long)hi);
      invalid(k, key, e, -1);
    } else {
      *out = v;
      ok = true;
    }
  }
  lua_pop(k->L, 1);
  return ok;
}

static bool get_bool(ctor *k, const char *key, bool *out) {
  bool ok = false;
  int t = field(k, key);
  if (t == LUA_TBOOLEAN) {
    *out = lua_toboolean(k->L, -1);
    ok = true;
  } else if (t != LUA_TNIL) {
    invalid(k, key, "expected true or false", -1);
  }
  lua_pop(k->L, 1);
  return ok;
}

/* A string from a fixed list; *out is its index. */
static bool get_choice(ctor *k, const char *key, const char *const *names, bool required,
                       int *out) {
  bool ok = false;
  int t = field(k, key);
  if (t == LUA_TNIL) {
    if (required) missing(k, key);
  } else {
    size_t len = 0;
    const char *s = t == LUA_TSTRING ? lua_tolstring(k->L, -1, &len) : NULL;
    for (int i = 0; s && names[i]; i++)
      if (strlen(names[i]) == len && !memcmp(names[i], s, len)) {
        *out = i;
        ok = true;
      }
    if (!ok) {
      g_autofree char *list = one_of(names);
      g_autofree char *e = g_strconcat("expected ", list, NULL);
      const char *hint = s && strlen(s) == len ? suggest(s, names, count_names(names)) : NULL;
      g_autofree char *suffix = hint ? g_strdup_printf(" (did you mean \"%s\"?)", hint)
                                     : g_strdup("");
      invalid_ex(k, key, e, -1, suffix);
    }
  }
  lua_pop(k->L, 1);
  return ok;
}

typedef enum { Q_POSITIVE, Q_NONNEG } q_range;

static const char *const unit_nouns[] = {
    [UNIT_BYTES] = "size", [UNIT_TIME] = "time", [UNIT_FREQ] = "frequency",
    [UNIT_BITRATE] = "bit rate"};

/* "2.6" or " 1e3 ": a number with no unit. */
static bool bare_number(const char *s, double *out) {
  if (strspn(s, "0123456789.+-eE \t") != strlen(s) || !strpbrk(s, "0123456789")) return false;
  char *end = NULL;
  double v = g_ascii_strtod(s, &end);
  if (end == s) return false;
  while (*end == ' ' || *end == '\t') end++;
  if (*end) return false;
  *out = v;
  return true;
}

/* A quantity: a Lua number or a bare-number string counts `bare` base units per unit (GHz for
 * ghz, MHz for reservations, seconds for times, bytes for sizes); other strings go through
 * unit_parse. Sizes and times are rounded to whole bytes and nanoseconds. `syntax` replaces
 * unit_parse's description where numbers mean something special (NULL: keep it). */
static bool get_quantity(ctor *k, const char *key, unit_kind kind, double bare,
                         const char *syntax, q_range range, bool required, double *out) {
  bool ok = false;
  int t = field(k, key);
  if (t == LUA_TNIL) {
    if (required) missing(k, key);
    lua_pop(k->L, 1);
    return false;
  }
  double v = 0, x = 0;
  bool parsed = false;
  g_autofree char *why = NULL;
  if (t == LUA_TNUMBER) {
    v = lua_tonumber(k->L, -1) * bare;
    parsed = true;
  } else if (t == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(k->L, -1, &len);
    if (strlen(s) != len) parsed = false;
    else if (bare_number(s, &x)) v = x * bare, parsed = true;
    else parsed = unit_parse(kind, s, &v, &why);
    if (!parsed && why && syntax) g_clear_pointer(&why, g_free);
  }
  if (parsed && (!isfinite(v) || fabs(v) >= 9223372036854775808.0)) {
    parsed = false;
    why = g_strdup_printf("expected a smaller %s", unit_nouns[kind]);
  }
  if (!parsed) {
    g_autofree char *dflt = NULL;
    if (!why && !syntax) {
      g_autofree char *tmp = NULL;
      unit_parse(kind, "", &x, &tmp);
      dflt = g_steal_pointer(&tmp);
    }
    invalid(k, key, why ? why : syntax ? syntax : dflt, -1);
  } else {
    if (kind == UNIT_BYTES || kind == UNIT_TIME) v = round(v);
    if (range == Q_POSITIVE ? !(v > 0) : !(v >= 0)) {
      g_autofree char *e = g_strdup_printf("expected a %s %s", unit_nouns[kind],
                                           range == Q_POSITIVE ? "> 0" : ">= 0");
      invalid(k, key, e, -1);
    } else {
      *out = v;
      ok = true;
    }
  }
  lua_pop(k->L, 1);
  return ok;
}

/* One of our objects of a kind in `kinds` (a bit mask of 1 << obj_kind). A bad object is
 * accepted, and makes the object being built bad too, so that nothing downstream reports
 * consequences of a mistake already reported. */
static bool get_object(ctor *k, const char *key, unsigned kinds, const char *expected,
                       bool required, scn_obj **out) {
  bool ok = false;
  int t = field(k, key);
  if (t == LUA_TNIL) {
    if (required) missing(k, key);
  } else {
    scn_obj *o = to_obj(k->L, -1);
    if (o && (kinds & (1u << o->kind))) {
      *out = o;
      if (o->bad || !o->obj) k->o->bad = true;
      ok = true;
    } else {
      invalid(k, key, expected, -1);
    }
  }
  lua_pop(k->L, 1);
  return ok;
}

typedef enum { ITEMS_OBJECTS, ITEMS_NAMES, ITEMS_REFS } items_mode;

/* A reference by name or path ("vESX1", "esx01/vESX1"). */
static bool valid_path(const char *s, size_t len) {
  return valid_text(s, len, 4 * SCN_MAX_NAME) && s[0] != '/' && s[len - 1] != '/' &&
         !strstr(s, "//");
}

/* A list (a table with items 1..n and nothing else) of objects of `kinds` (into objs), of
 * names (into names, char*), or of objects or name/path strings (into refs). Bad objects are
 * left out and make the object being built bad. */
static bool get_list(ctor *k, const char *key, items_mode mode, unsigned kinds,
                     const char *expected, GPtrArray *objs, GPtrArray *names, GArray *refs) {
  lua_State *L = k->L;
  int t = field(k, key);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return false;
  }
  if (t != LUA_TTABLE) {
    invalid(k, key, expected, -1);
    lua_pop(L, 1);
    return false;
  }
  int list = lua_gettop(L);
  lua_Unsigned n = lua_rawlen(L, list), count = 0;
  lua_pushnil(L);
  while (lua_next(L, list)) {
    lua_pop(L, 1);
    count++;
  }
  bool ok = true;
  if (count != n) {
    errorf(k->c, "%s: %s: invalid '%s%s': %s, got a table with keys other than 1 to %llu",
           k->o->where, k->o->label, k->prefix, key, expected, (unsigned long long)n);
    ok = false;
  }
  for (lua_Unsigned i = 1; ok && i <= n; i++) {
    lua_rawgeti(L, list, (lua_Integer)i);
    scn_obj *o = to_obj(L, -1);
    size_t len = 0;
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    bool good = false;
    if (mode != ITEMS_NAMES && o && (kinds & (1u << o->kind))) {
      good = true;
      if (o->bad || !o->obj) {
        k->o->bad = true;
      } else if (mode == ITEMS_OBJECTS) {
        g_ptr_array_add(objs, o);
      } else {
        scn_ref r = {.obj = o};
        g_array_append_val(refs, r);
      }
    } else if (mode == ITEMS_NAMES && s && valid_name(s, len)) {
      good = true;
      g_ptr_array_add(names, g_strdup(s));
    } else if (mode == ITEMS_REFS && s && valid_path(s, len)) {
      good = true;
      scn_ref r = {.name = g_strdup(s)};
      g_array_append_val(refs, r);
    }
    if (!good) {
      g_autofree char *suffix = g_strdup_printf(" as item %llu", (unsigned long long)i);
      invalid_ex(k, key, expected, -1, suffix);
      ok = false;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return ok;
}

/* ---- Constructors ------------------------------------------------------------------------- */

/* Ends a constructor's C part: from here the memory limit applies again. */
static void leave_c(scn_ctx *c) {
  c->in_c = false;
  if (c->mem > c->max_memory) trip(c, LIMIT_MEMORY);
}

static bool ctor_begin(ctor *k, lua_State *L, obj_kind kind, const char *const *keys) {
  scn_ctx *c = ctx_of(L);
  c->in_c = true;
  *k = (ctor){.c = c, .L = L, .t = 1, .prefix = "", .keys = keys,
              .errors_at_start = c->n_errors};
  const char *word = kind_word(kind);
  k->o = new_obj(c, L, kind, word);
  if (lua_type(L, 1) != LUA_TTABLE) {
    g_autofree char *got = describe(L, 1);
    errorf(c, "%s: %s: expected a table, as in %s { ... }, got %s", k->o->where, word, word, got);
    k->o->bad = true;
    return false;
  }
  lua_settop(L, 1);
  return true;
}

/* Checks the keys, flags the object bad if anything was reported, returns it to Lua. */
static int ctor_end(ctor *k, bool checked_table) {
  if (checked_table) check_keys(k);
  if (k->c->n_errors != k->errors_at_start) k->o->bad = true;
  push_obj(k->L, k->o);
  leave_c(k->c);
  return 1;
}

/* Attaches part `p` to `owner`, or reports that it already belongs to something. */
static bool attach_part(ctor *k, const char *key, scn_obj *p) {
  if (p->owner == k->o) {
    errorf(k->c, "%s: %s: invalid '%s': %s is listed twice", k->o->where, k->o->label, key,
           p->label);
    return false;
  }
  if (p->owner) {
    errorf(k->c, "%s: %s: invalid '%s': %s already belongs to %s (make a new one for each)",
           k->o->where, k->o->label, key, p->label, p->owner->label);
    return false;
  }
  p->owner = k->o;
  return true;
}

/* Adds a part's name to `seen`, reporting a name used twice among siblings. */
static bool unique_among(ctor *k, GHashTable *seen, scn_obj *p) {
  scn_obj *first = g_hash_table_lookup(seen, p->name);
  if (first) {
    errorf(k->c, "%s: %s: name already used by the %s at %s", p->where, p->label,
           kind_word(first->kind), first->where);
    return false;
  }
  g_hash_table_insert(seen, p->name, p);
  return true;
}

static const char *const scenario_keys[] = {"name", "duration", "warmup", "seed", "interval",
                                            "overheads", "overhead_mode", "network", NULL};

/* Scenario names name the results folder: a safe file name. */
static bool valid_scenario_name(const char *s, size_t len) {
  if (len == 0 || len > SCN_MAX_NAME || s[0] == '.') return false;
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_isalnum(s[i]) && !strchr("._-", s[i])) return false;
  return true;
}

static void get_network(ctor *k, topo_scenario *scn); /* issue 5 */

static int l_scenario(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_SCENARIO, scenario_keys)) {
    ctor_end(&k, false);
    return 0;
  }
  scn_ctx *c = k.c;
  if (c->scenario_where) {
    errorf(c, "%s: scenario { } is called a second time (the first call is at %s)",
           k.o->where, c->scenario_where);
    ctor_end(&k, false);
    return 0;
  }
  c->scenario_where = g_strdup(k.o->where);
  topo_scenario *scn = c->scn;
  int t = field(&k, "name");
  if (t != LUA_TNIL) {
    size_t len = 0;
    const char *s = t == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (s && valid_scenario_name(s, len)) {
      obj_set_name(k.o, "scenario", s);
      g_free(scn->name);
      scn->name = g_strdup(s);
    } else {
      invalid(&k, "name", "expected a name of letters, digits, '.', '_' or '-' (it names the "
              "results folder)", -1);
    }
  }
  lua_pop(L, 1);
  double v;
  if (get_quantity(&k, "duration", UNIT_TIME, 1e9, NULL, Q_POSITIVE, true, &v))
    scn->duration_ns = (int64_t)v;
  if (get_quantity(&k, "warmup", UNIT_TIME, 1e9, NULL, Q_NONNEG, false, &v))
    scn->warmup_ns = (int64_t)v;
  if (scn->duration_ns > INT64_MAX - scn->warmup_ns) {
    errorf(c, "%s: %s: invalid 'warmup': warmup + duration must stay below 292 years",
           k.o->where, k.o->label);
  }
  lua_Integer seed;
  if (get_int(&k, "seed", 0, LUA_MAXINTEGER, false, &seed)) scn->seed = (uint64_t)seed;
  t = field(&k, "interval");
  lua_pop(L, 1);
  if (t != LUA_TNIL && get_quantity(&k, "interval", UNIT_TIME, 1e9, NULL, Q_POSITIVE, false, &v)) {
    if (v < 1e6) {
      field(&k, "interval");
      invalid(&k, "interval", "expected a time >= 1ms", -1);
      lua_pop(L, 1);
    } else {
      scn->interval_ns = (int64_t)v;
    }
  }
  bool b;
  if (get_bool(&k, "overheads", &b)) scn->overheads = b;
  int mode; /* issue 4 */
  if (get_choice(&k, "overhead_mode", overhead_modes, false, &mode))
    scn->overhead_discrete = mode == 1;
  get_network(&k, scn); /* issue 5 */
  ctor_end(&k, true);
  lua_pop(L, 1);
  return 0;
}

/* ---- Hypervisors and workloads: values, copied into each host or VM that uses them ---------- */

static const char *const hv_keys[] = {"version", "quantum", "costop", "skew", "own_memory",
                                      NULL};

static const hv_default *hv_default_for(topo_hv_kind kind, const char *version) {
  for (size_t i = 0; i < G_N_ELEMENTS(hv_defaults); i++)
    if (hv_defaults[i].kind == kind &&
        (!hv_defaults[i].version || (version && !strcmp(hv_defaults[i].version, version))))
      return &hv_defaults[i];
  g_error("scn.c: no default row for hypervisor kind %d in hv_defaults; add a row with "
          "version NULL for it", (int)kind);
}

static topo_hypervisor *hv_new(topo_hv_kind kind, const char *version, const char *where) {
  topo_hypervisor *hv = g_new0(topo_hypervisor, 1);
  hv->kind = kind;
  hv->version = g_strdup(version);
  const hv_default *d = hv_default_for(kind, version);
  hv->quantum_ns = d->quantum_ns;
  hv->costop = d->costop;
  hv->skew_ns = d->skew_ns;
  hv->where = g_strdup(where);
  return hv;
}

static topo_hypervisor *hv_copy(const topo_hypervisor *src) {
  topo_hypervisor *hv = g_new(topo_hypervisor, 1);
  *hv = *src;
  hv->version = g_strdup(src->version);
  hv->where = g_strdup(src->where);
  return hv;
}

static int make_hypervisor(lua_State *L, topo_hv_kind kind) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_HV, hv_keys)) return ctor_end(&k, false);
  g_free(k.o->label);
  k.o->label = g_strdup(kind == TOPO_HV_ESXI ? "esxi" : "kvm");
  g_autofree char *version = g_strdup(kind == TOPO_HV_ESXI ? ESXI_DEFAULT_VERSION
                                                           : KVM_DEFAULT_VERSION);
  int t = field(&k, "version");
  if (t != LUA_TNIL) {
    /* Versions read as numbers too (version = 5.5); 6 means "6.0". */
    g_autofree char *text = NULL;
    if (t == LUA_TNUMBER)
      text = lua_isinteger(L, -1) ? g_strdup_printf("%lld.0", (long long)lua_tointeger(L, -1))
                                  : format_number(L, -1);
    else if (t == LUA_TSTRING)
      text = g_strdup(lua_tostring(L, -1));
    size_t len = text ? strlen(text) : 0;
    if (kind == TOPO_HV_ESXI) {
      bool known = false;
      for (int i = 0; text && esxi_versions[i]; i++) known |= !strcmp(text, esxi_versions[i]);
      if (known) {
        g_free(version);
        version = g_steal_pointer(&text);
      } else {
        g_autofree char *list = one_of(esxi_versions);
        g_autofree char *e = g_strconcat("expected an ESXi version, ", list, NULL);
        invalid(&k, "version", e, -1);
      }
    } else if (text && valid_text(text, len, SCN_MAX_TEXT)) {
      g_free(version);
      version = g_steal_pointer(&text);
    } else {
      invalid(&k, "version", "expected a version such as \"6.2\"", -1);
    }
  }
  lua_pop(L, 1);
  topo_hypervisor *hv = hv_new(kind, version, k.o->where);
  k.o->obj = hv;
  double v;
  if (get_quantity(&k, "quantum", UNIT_TIME, 1e9, NULL, Q_POSITIVE, false, &v)) {
    if (v < 1e5) {
      field(&k, "quantum");
      invalid(&k, "quantum", "expected a time >= 100us", -1);
      lua_pop(L, 1);
    } else {
      hv->quantum_ns = (int64_t)v;
    }
  }
  int choice;
  if (get_choice(&k, "costop", costop_names, false, &choice)) hv->costop = (topo_cosched)choice;
  if (get_quantity(&k, "skew", UNIT_TIME, 1e9, NULL, Q_POSITIVE, false, &v))
    hv->skew_ns = (int64_t)v;
  /* The memory the hypervisor keeps for itself (models/mem.c). */
  if (get_quantity(&k, "own_memory", UNIT_BYTES, 1.0, NULL, Q_POSITIVE, false, &v))
    hv->own_mem_bytes = (uint64_t)v;
  return ctor_end(&k, true);
}

static int l_esxi(lua_State *L) { return make_hypervisor(L, TOPO_HV_ESXI); }
static int l_kvm(lua_State *L) { return make_hypervisor(L, TOPO_HV_KVM); }

/* issue 4: event rates that override the profile's, the field names of models/virt.h's
 * virt_profile in its order (tests/test-virt.c checks that every one loads). */
#define WL_RATE_KEYS "syscalls", "page_faults", "pt_updates", "ctx_switches", "tlb_misses", \
    "io_exits", "interrupts", "priv_ops"
static const char *const wl_rates[] = {WL_RATE_KEYS, NULL};
static const char *const cpu_wl_keys[] = {"util", "period", "dist", "per", "profile",
                                          WL_RATE_KEYS, NULL};
static const char *const job_keys[] = {"work", "per", "profile", WL_RATE_KEYS, NULL};

/* issue 4: a per-event cost, count or rate of the overhead model: any finite number >= 0
 * (virt.c checks the CPU's parameters against each other after loading). */
static bool get_cost(ctor *k, const char *key, double *out) {
  bool ok = false;
  int t = field(k, key);
  if (t != LUA_TNIL) {
    double v = t == LUA_TNUMBER ? lua_tonumber(k->L, -1) : NAN;
    if (isfinite(v) && v >= 0) {
      *out = v;
      ok = true;
    } else {
      invalid(k, key, "expected a number >= 0", -1);
    }
  }
  lua_pop(k->L, 1);
  return ok;
}

static void get_per_profile(ctor *k, topo_workload *w) {
  int choice;
  if (get_choice(k, "per", per_names, false, &choice)) w->per_vm = choice == 1;
  if (get_choice(k, "profile", profiles, false, &choice)) w->profile = g_strdup(profiles[choice]);
  for (int i = 0; wl_rates[i]; i++) {
    double x;
    if (!get_cost(k, wl_rates[i], &x)) continue;
    if (!w->rates) {
      w->rates = g_new(double, G_N_ELEMENTS(wl_rates) - 1);
      for (guint j = 0; j + 1 < G_N_ELEMENTS(wl_rates); j++) w->rates[j] = NAN;
    }
    w->rates[i] = x;
  }
}

static int l_cpu(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_WORKLOAD, cpu_wl_keys)) return ctor_end(&k, false);
  g_free(k.o->label);
  k.o->label = g_strdup("cpu");
  topo_workload *w = g_new0(topo_workload, 1);
  k.o->obj = w;
  w->kind = TOPO_WL_CPU;
  w->util = 1.0;
  w->dist = TOPO_DIST_FIXED;
  w->where = g_strdup(k.o->where);
  int t = field(&k, "util");
  if (t != LUA_TNIL) {
    double u = t == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
    if (u >= 0 && u <= 1) w->util = u;
    else invalid(&k, "util", "expected a number from 0 to 1 (the busy fraction)", -1);
  }
  lua_pop(L, 1);
  double v;
  bool has_period = get_quantity(&k, "period", UNIT_TIME, 1e9, NULL, Q_POSITIVE, false, &v);
  if (has_period) w->period_ns = (int64_t)v;
  t = field(&k, "period");
  lua_pop(L, 1);
  if (t == LUA_TNIL && w->util > 0 && w->util < 1)
    errorf(k.c, "%s: cpu: missing 'period' (the length of one busy + idle cycle, needed when "
           "0 < util < 1)", k.o->where);
  int choice;
  if (get_choice(&k, "dist", dist_names, false, &choice))
    w->dist = choice ? TOPO_DIST_EXP : TOPO_DIST_FIXED;
  get_per_profile(&k, w);
  return ctor_end(&k, true);
}

static int l_job(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_WORKLOAD, job_keys)) return ctor_end(&k, false);
  g_free(k.o->label);
  k.o->label = g_strdup("job");
  topo_workload *w = g_new0(topo_workload, 1);
  k.o->obj = w;
  w->kind = TOPO_WL_JOB;
  w->where = g_strdup(k.o->where);
  double v;
  if (get_quantity(&k, "work", UNIT_TIME, 1e9,
                   "expected seconds of one bare-metal core, such as 30 or \"5min\"", Q_POSITIVE,
                   true, &v))
    w->work_s = v * 1e-9;
  get_per_profile(&k, w);
  return ctor_end(&k, true);
}

static topo_workload *workload_copy(const topo_workload *src) {
  topo_workload *w = g_new(topo_workload, 1);
  *w = *src;
  w->profile = g_strdup(src->profile);
  w->rates = src->rates ? g_memdup2(src->rates, (G_N_ELEMENTS(wl_rates) - 1) * sizeof(double))
                        : NULL;
  w->where = g_strdup(src->where);
  return w;
}

/* ---- Memory and storage (models/mem.c, models/disk.c) ----------------------------------- */

static const char *const mem_wl_keys[] = {"active", "footprint", "touched_rate", "share",
                                          "compress", "preset", NULL};
/* The presets of models/mem.c (mem_presets there says what each means). */
static const char *const mem_preset_names[] = {"idle", "light", "medium", "heavy", NULL};
static const char *const disk_keys[] = {"size", "datastore", "provisioning", "written", "iops",
                                        NULL};
static const char *const provisioning_names[] = {"thick", "thin", NULL};

#define SHARE_OR_SIZE "expected a share of the VM's memory from 0 to 1, or a size such as \"2GB\""

/* A share of the VM's memory (a number, or a bare number as text, in [0, 1]) into *frac, or a
 * size ("2GB") into *bytes. */
static void get_share_or_size(ctor *k, const char *key, double *frac, uint64_t *bytes) {
  int t = field(k, key);
  double x = NAN;
  bool number = t == LUA_TNUMBER ||
                (t == LUA_TSTRING && bare_number(lua_tostring(k->L, -1), &x));
  if (t == LUA_TNUMBER) x = lua_tonumber(k->L, -1);
  if (number) {
    if (x >= 0 && x <= 1) *frac = x;
    else invalid(k, key, SHARE_OR_SIZE, -1);
  }
  lua_pop(k->L, 1);
  double v;
  if (!number && t != LUA_TNIL &&
      get_quantity(k, key, UNIT_BYTES, 1.0, SHARE_OR_SIZE, Q_NONNEG, false, &v))
    *bytes = (uint64_t)v;
}

/* A fraction in [0, 1] (a number), left as it is when absent. */
static void get_fraction(ctor *k, const char *key, const char *what, double *out) {
  int t = field(k, key);
  if (t != LUA_TNIL) {
    double x = t == LUA_TNUMBER ? lua_tonumber(k->L, -1) : NAN;
    if (x >= 0 && x <= 1) {
      *out = x;
    } else {
      g_autofree char *e = g_strdup_printf("expected a number from 0 to 1 (%s)", what);
      invalid(k, key, e, -1);
    }
  }
  lua_pop(k->L, 1);
}

static int l_mem(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_MEMWL, mem_wl_keys)) return ctor_end(&k, false);
  g_free(k.o->label);
  k.o->label = g_strdup("mem");
  topo_memwl *w = g_new0(topo_memwl, 1);
  k.o->obj = w;
  *w = (topo_memwl){.set = true, .active_frac = -1, .footprint_frac = -1,
                    .touched_rate_bps = -1, .share = -1, .compress = -1};
  get_share_or_size(&k, "active", &w->active_frac, &w->active_bytes);
  get_share_or_size(&k, "footprint", &w->footprint_frac, &w->footprint_bytes);
  double v;
  if (get_quantity(&k, "touched_rate", UNIT_BYTES, 1.0,
                   "expected the bytes of its working set it touches per second of execution, "
                   "such as \"64MB\"", Q_NONNEG, false, &v))
    w->touched_rate_bps = v;
  get_fraction(&k, "share", "the share of its pages page sharing can share", &w->share);
  get_fraction(&k, "compress", "the share of its pages that compress to 2 KB", &w->compress);
  int choice;
  if (get_choice(&k, "preset", mem_preset_names, false, &choice))
    g_strlcpy(w->preset, mem_preset_names[choice], sizeof w->preset);
  return ctor_end(&k, true);
}

#define DATASTORE_EXPECTED "expected a datastore of the VM's host (datastore { } or its name)"

static int l_disk(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_DISK, disk_keys)) return ctor_end(&k, false);
  topo_disk *d = g_new0(topo_disk, 1);
  k.o->obj = d;
  double v;
  if (get_quantity(&k, "size", UNIT_BYTES, 1.0, NULL, Q_POSITIVE, true, &v))
    d->size_bytes = (uint64_t)v;
  int choice;
  if (get_choice(&k, "provisioning", provisioning_names, false, &choice))
    d->provisioning = choice ? TOPO_THIN : TOPO_THICK;
  get_fraction(&k, "written", "the share of a thin disk written so far", &d->written_frac);
  int t = field(&k, "written");
  lua_pop(L, 1);
  if (t != LUA_TNIL && d->provisioning != TOPO_THIN)
    errorf(k.c, "%s: disk: invalid 'written': only a thin disk (provisioning = \"thin\") is "
           "written bit by bit; a thick one takes its whole size", k.o->where);
  t = field(&k, "iops");
  if (t != LUA_TNIL) {
    double x = t == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
    if (x >= 0 && x < 1e9) d->iops = x;
    else invalid(&k, "iops", "expected a number of I/Os per second >= 0", -1);
  }
  lua_pop(L, 1);
  /* The datastore is found once the VM's host is known (resolve_disks). */
  t = field(&k, "datastore");
  if (t != LUA_TNIL) {
    scn_obj *o = to_obj(L, -1);
    size_t len = 0;
    const char *s = t == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (o && o->kind == OBJ_DATASTORE) {
      k.o->on.obj = o;
      if (o->bad || !o->obj) k.o->bad = true;
    } else if (s && valid_name(s, len)) {
      k.o->on.name = g_strdup(s);
    } else {
      invalid(&k, "datastore", DATASTORE_EXPECTED, -1);
    }
  }
  lua_pop(L, 1);
  return ctor_end(&k, true);
}

/* A VM's memory settings: mem_reservation, mem_limit, mem_shares, balloon. */
static void get_vm_memory(ctor *k, topo_vm *vm) {
  lua_State *L = k->L;
  double v;
  if (get_quantity(k, "mem_reservation", UNIT_BYTES, 1.0, NULL, Q_NONNEG, false, &v)) {
    if (v > (double)vm->memory_bytes) {
      field(k, "mem_reservation");
      invalid(k, "mem_reservation", "expected a size <= the VM's memory", -1);
      lua_pop(L, 1);
    } else {
      vm->mem_reservation_bytes = (uint64_t)v;
    }
  }
  int t = field(k, "mem_limit");
  bool unlimited = t == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "unlimited");
  lua_pop(L, 1);
  if (!unlimited && get_quantity(k, "mem_limit", UNIT_BYTES, 1.0,
                                 "expected a size such as \"8GB\" or \"unlimited\"", Q_POSITIVE,
                                 false, &v)) {
    if (v < (double)vm->mem_reservation_bytes) {
      field(k, "mem_limit");
      invalid(k, "mem_limit", "expected a size >= the memory reservation", -1);
      lua_pop(L, 1);
    } else {
      vm->mem_limit_bytes = (uint64_t)v;
    }
  }
  /* vSphere's memory shares: low / normal / high are 5 / 10 / 20 per MB of memory. */
  t = field(k, "mem_shares");
  if (t != LUA_TNIL) {
    bool ok = false;
    if (t == LUA_TNUMBER) {
      double x = lua_tonumber(L, -1);
      if (x > 0 && x < 1e15) vm->mem_shares = x, ok = true;
    } else if (t == LUA_TSTRING) {
      static const double per_mb[] = {5, 10, 20};
      const char *s = lua_tostring(L, -1);
      for (int i = 0; share_levels[i]; i++)
        if (!strcmp(s, share_levels[i]))
          vm->mem_shares = per_mb[i] * (double)vm->memory_bytes / (1024.0 * 1024.0), ok = true;
    }
    if (!ok)
      invalid(k, "mem_shares", "expected a number > 0 or \"low\", \"normal\" or \"high\"", -1);
  }
  lua_pop(L, 1);
  bool b;
  if (get_bool(k, "balloon", &b)) vm->balloon = b ? 1 : -1;
}

/* A VM's memory workload against its size: the working set within the footprint within the
 * memory. */
static void check_vm_mem(ctor *k, topo_vm *vm) {
  const topo_memwl *w = &vm->mem;
  double m = (double)vm->memory_bytes;
  double act = w->active_bytes ? (double)w->active_bytes : w->active_frac >= 0 ? w->active_frac * m : 0;
  double foot = w->footprint_bytes ? (double)w->footprint_bytes
                : w->footprint_frac >= 0 ? w->footprint_frac * m : m;
  if (w->active_bytes > vm->memory_bytes || w->footprint_bytes > vm->memory_bytes)
    errorf(k->c, "%s: %s: invalid 'workload': mem { } asks for more than the VM's memory",
           k->o->where, k->o->label);
  else if (foot < act)
    errorf(k->c, "%s: %s: invalid 'workload': mem { } has a footprint smaller than its working "
           "set (the guest touches its working set at least once)", k->o->where, k->o->label);
}

/* ---- Parts of hosts and VMs ----------------------------------------------------------------- */

static const char *const nic_keys[] = {"name", "speed", NULL};

static int l_nic(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_NIC, nic_keys)) return ctor_end(&k, false);
  topo_nic *n = g_new0(topo_nic, 1);
  k.o->obj = n;
  n->where = g_strdup(k.o->where);
  if (get_name(&k, true)) n->name = g_strdup(k.o->name);
  double v;
  if (get_quantity(&k, "speed", UNIT_BITRATE, 1.0, NULL, Q_POSITIVE, true, &v)) n->speed_bps = v;
  return ctor_end(&k, true);
}

static const char *const datastore_keys[] = {"name", "capacity", "type", "latency", "spindles",
                                             NULL};

static int l_datastore(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_DATASTORE, datastore_keys)) return ctor_end(&k, false);
  topo_datastore *d = g_new0(topo_datastore, 1);
  k.o->obj = d;
  d->where = g_strdup(k.o->where);
  if (get_name(&k, true)) d->name = g_strdup(k.o->name);
  double v;
  if (get_quantity(&k, "capacity", UNIT_BYTES, 1.0, NULL, Q_POSITIVE, true, &v))
    d->capacity_bytes = (uint64_t)v;
  int choice = 0;
  get_choice(&k, "type", datastore_types, false, &choice);
  d->type = g_strdup(datastore_types[choice]);
  /* Its latency model (models/disk.c): mean service time of one I/O, I/Os served at once. */
  if (get_quantity(&k, "latency", UNIT_TIME, 1e9, NULL, Q_POSITIVE, false, &v))
    d->service_s = v * 1e-9;
  lua_Integer n;
  if (get_int(&k, "spindles", 1, 1024, false, &n)) d->servers = (int)n;
  return ctor_end(&k, true);
}

static const char *const portgroup_keys[] = {"name", "vlan", "promiscuous", "mac_changes",
                                             "forged_transmits", NULL};

/* A security policy: "accept" / "reject", or true / false. */
static bool get_policy(ctor *k, const char *key, topo_policy *out) {
  bool ok = false;
  int t = field(k, key);
  if (t == LUA_TBOOLEAN) {
    *out = lua_toboolean(k->L, -1) ? TOPO_POLICY_ACCEPT : TOPO_POLICY_REJECT;
    ok = true;
  } else if (t == LUA_TSTRING && !strcmp(lua_tostring(k->L, -1), "accept")) {
    *out = TOPO_POLICY_ACCEPT;
    ok = true;
  } else if (t == LUA_TSTRING && !strcmp(lua_tostring(k->L, -1), "reject")) {
    *out = TOPO_POLICY_REJECT;
    ok = true;
  } else if (t != LUA_TNIL) {
    invalid(k, key, "expected \"accept\" or \"reject\"", -1);
  }
  lua_pop(k->L, 1);
  return ok;
}

static int make_portgroup(lua_State *L, bool distributed) {
  ctor k;
  if (!ctor_begin(&k, L, distributed ? OBJ_DVPORTGROUP : OBJ_PORTGROUP, portgroup_keys))
    return ctor_end(&k, false);
  topo_portgroup *pg = g_new0(topo_portgroup, 1);
  k.o->obj = pg;
  pg->distributed = distributed;
  pg->promiscuous = pg->mac_changes = pg->forged_transmits = TOPO_POLICY_DEFAULT;
  pg->where = g_strdup(k.o->where);
  if (get_name(&k, true)) pg->name = g_strdup(k.o->name);
  lua_Integer vlan;
  /* 0: no VLAN tag; 1..4094: a VLAN; 4095: all VLANs (virtual guest tagging, a trunk). */
  if (get_int(&k, "vlan", 0, 4095, false, &vlan)) pg->vlan = (int)vlan;
  get_policy(&k, "promiscuous", &pg->promiscuous);
  get_policy(&k, "mac_changes", &pg->mac_changes);
  get_policy(&k, "forged_transmits", &pg->forged_transmits);
  return ctor_end(&k, true);
}

static int l_portgroup(lua_State *L) { return make_portgroup(L, false); }
static int l_dvportgroup(lua_State *L) { return make_portgroup(L, true); }

static const char *const vnic_keys[] = {"name", "type", "mac", "portgroup", "promiscuous",
                                        "guest_mac", NULL};

/* "00:50:56:01:02:03" (or with '-'): six hexadecimal pairs; stored lower case with ':'. */
static char *parse_mac(const char *s, size_t len) {
  if (len != 17) return NULL;
  char out[18];
  for (int i = 0; i < 17; i++) {
    if (i % 3 == 2) {
      if (s[i] != ':' && s[i] != '-') return NULL;
      out[i] = ':';
    } else {
      if (!g_ascii_isxdigit(s[i])) return NULL;
      out[i] = g_ascii_tolower(s[i]);
    }
  }
  out[17] = '\0';
  return g_strdup(out);
}

static int l_vnic(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_VNIC, vnic_keys)) return ctor_end(&k, false);
  topo_vnic *n = g_new0(topo_vnic, 1);
  k.o->obj = n;
  n->where = g_strdup(k.o->where);
  if (get_name(&k, false)) n->name = g_strdup(k.o->name);
  int choice = 0;
  get_choice(&k, "type", vnic_types, false, &choice);
  n->type = g_strdup(vnic_types[choice]);
  int t = field(&k, "mac");
  if (t != LUA_TNIL) {
    size_t len = 0;
    const char *s = t == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    n->mac = s ? parse_mac(s, len) : NULL;
    if (!n->mac) invalid(&k, "mac", "expected a MAC address such as \"00:50:56:01:02:03\"", -1);
  }
  lua_pop(L, 1);
  scn_obj *pg = NULL;
  if (get_object(&k, "portgroup", (1u << OBJ_PORTGROUP) | (1u << OBJ_DVPORTGROUP),
                 "expected portgroup { } or dvportgroup { }", false, &pg)) {
    k.o->target = pg;
    n->portgroup = pg->obj;
  }
  /* issue 5: what the guest does with the vNIC. */
  bool b;
  if (get_bool(&k, "promiscuous", &b)) n->promiscuous = b;
  t = field(&k, "guest_mac");
  if (t != LUA_TNIL) {
    size_t len = 0;
    const char *s = t == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    n->guest_mac = s ? parse_mac(s, len) : NULL;
    if (!n->guest_mac)
      invalid(&k, "guest_mac", "expected a MAC address such as \"02:00:00:00:00:01\"", -1);
  }
  lua_pop(L, 1);
  return ctor_end(&k, true);
}

/* ---- Hosts -------------------------------------------------------------------------------- */

static const char *const host_keys[] = {"name", "cpu", "memory", "hypervisor", "nics",
                                        "datastores", NULL};
static const char *const host_cpu_keys[] = {
    "sockets", "cores", "threads", "ghz", "model", "vt", "ept", "vmcs_shadowing", "auto_bt_32bit",
    "exit_cycles", "hw_pf_cycles", "hw_ptu_cycles", "hw_ctxsw_cycles", "hw_io_cycles",
    "hw_intr_cycles", "hw_priv_cycles", "bt_syscall_cycles", "bt_pf_cycles", "bt_ptu_cycles",
    "bt_ctxsw_cycles", "bt_io_cycles", "bt_intr_cycles", "bt_priv_cycles", "walk_refs_native",
    "walk_refs_2d", "walk_ref_cycles", "vmcs_accesses_per_exit", "vmcs_access_cycles",
    "nested_switch_cycles", "backend_exits_per_io", NULL};

static void get_host_cpu(ctor *k, topo_host *h) {
  lua_State *L = k->L;
  int t = field(k, "cpu");
  if (t == LUA_TNIL) {
    missing(k, "cpu");
  } else if (t != LUA_TTABLE) {
    invalid(k, "cpu", "expected a table such as { sockets = 1, cores = 8, threads = 2, "
            "ghz = 2.6 }", -1);
  } else {
    ctor sub = *k;
    sub.t = lua_gettop(L);
    sub.prefix = "cpu.";
    sub.keys = host_cpu_keys;
    lua_Integer v;
    if (get_int(&sub, "sockets", 1, 64, false, &v)) h->sockets = (int)v;
    if (get_int(&sub, "cores", 1, 1024, true, &v)) h->cores = (int)v;
    if (get_int(&sub, "threads", 1, 8, false, &v)) h->threads = (int)v;
    double hz;
    if (get_quantity(&sub, "ghz", UNIT_FREQ, 1e9,
                     "expected a number of GHz such as 2.6, or a frequency such as \"2.6GHz\"",
                     Q_POSITIVE, true, &hz))
      h->hz = hz;
    /* issue 4: the overhead preset (validated) and numeric cost overrides. */
    int model;
    if (get_choice(&sub, "model", cpu_models, false, &model))
      h->cpu_model = g_strdup(cpu_models[model]);
    for (int i = 0; cpu_cost_params[i]; i++) {
      double x;
      if (!get_cost(&sub, cpu_cost_params[i], &x)) continue;
      if (!h->cpu_overrides)
        h->cpu_overrides = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_replace(h->cpu_overrides, g_strdup(cpu_cost_params[i]),
                           g_memdup2(&x, sizeof x));
    }
    bool b;
    if (get_bool(&sub, "vt", &b)) h->vt = b ? TOPO_POLICY_ACCEPT : TOPO_POLICY_REJECT;
    if (get_bool(&sub, "ept", &b)) h->ept = b ? TOPO_POLICY_ACCEPT : TOPO_POLICY_REJECT;
    if (get_bool(&sub, "vmcs_shadowing", &b))
      h->vmcs_shadowing = b ? TOPO_POLICY_ACCEPT : TOPO_POLICY_REJECT;
    check_keys(&sub);
  }
  lua_pop(L, 1);
}

static int l_host(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_HOST, host_keys)) return ctor_end(&k, false);
  scn_ctx *c = k.c;
  topo_host *h = g_new0(topo_host, 1);
  k.o->obj = h;
  h->where = g_strdup(k.o->where);
  h->sockets = h->cores = h->threads = 1;
  h->vt = h->ept = h->vmcs_shadowing = TOPO_POLICY_DEFAULT;
  h->nics = g_ptr_array_new();
  h->datastores = g_ptr_array_new();
  h->vswitches = g_ptr_array_new();
  h->vms = g_ptr_array_new();
  if (get_name(&k, true)) {
    h->name = g_strdup(k.o->name);
    h->path = g_strdup(k.o->name);
    scn_obj *first = g_hash_table_lookup(c->host_by_name, k.o->name);
    if (first)
      errorf(c, "%s: %s: name already used by the host at %s", k.o->where, k.o->label,
             first->where);
    else
      g_hash_table_insert(c->host_by_name, k.o->name, k.o);
  }
  get_host_cpu(&k, h);
  double v;
  if (get_quantity(&k, "memory", UNIT_BYTES, 1.0, NULL, Q_POSITIVE, true, &v))
    h->memory_bytes = (uint64_t)v;
  scn_obj *hv = NULL;
  if (get_object(&k, "hypervisor", 1u << OBJ_HV, "expected esxi { } or kvm { }", false, &hv) &&
      hv->obj)
    h->hypervisor = hv_copy(hv->obj);
  if (!h->hypervisor) h->hypervisor = hv_new(TOPO_HV_ESXI, ESXI_DEFAULT_VERSION, k.o->where);

  g_autoptr(GPtrArray) parts = g_ptr_array_new();
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  get_list(&k, "nics", ITEMS_OBJECTS, 1u << OBJ_NIC, "expected a list of nic { }", parts, NULL,
           NULL);
  for (guint i = 0; i < parts->len; i++) {
    scn_obj *p = parts->pdata[i];
    if (!attach_part(&k, "nics", p) || !unique_among(&k, seen, p)) continue;
    p->attached = true;
    ((topo_nic *)p->obj)->host = h;
    g_ptr_array_add(h->nics, p->obj);
  }
  g_ptr_array_set_size(parts, 0);
  g_hash_table_remove_all(seen);
  get_list(&k, "datastores", ITEMS_OBJECTS, 1u << OBJ_DATASTORE,
           "expected a list of datastore { }", parts, NULL, NULL);
  for (guint i = 0; i < parts->len; i++) {
    scn_obj *p = parts->pdata[i];
    if (!attach_part(&k, "datastores", p) || !unique_among(&k, seen, p)) continue;
    p->attached = true;
    ((topo_datastore *)p->obj)->host = h;
    g_ptr_array_add(h->datastores, p->obj);
  }
  g_ptr_array_add(c->hosts, k.o);
  return ctor_end(&k, true);
}

/* ---- VMs ---------------------------------------------------------------------------------- */

static const char *const vm_keys[] = {"name", "on", "vcpus", "cores_per_socket", "memory",
                                      "disk", "guest", "cpu_mmu", "expose_hw_virt", "shares",
                                      "reservation", "limit", "nics", "hypervisor",
                                      "workload", "mem_reservation", "mem_limit", "mem_shares",
                                      "balloon", "disks", NULL};

#define ON_EXPECTED "expected a host or a VM (from host { } or vm { }, or its name or path)"

/* `on`: a host or VM object, or a name or path to resolve once the script has run. */
static void get_on(ctor *k) {
  int t = field(k, "on");
  if (t == LUA_TNIL) {
    missing(k, "on");
  } else {
    scn_obj *o = to_obj(k->L, -1);
    size_t len = 0;
    const char *s = t == LUA_TSTRING ? lua_tolstring(k->L, -1, &len) : NULL;
    if (o && (o->kind == OBJ_HOST || o->kind == OBJ_VM)) {
      k->o->on.obj = o;
      if (o->bad || !o->obj) k->o->bad = true;
    } else if (s && valid_path(s, len)) {
      k->o->on.name = g_strdup(s);
    } else {
      invalid(k, "on", ON_EXPECTED, -1);
    }
  }
  lua_pop(k->L, 1);
}

static void get_shares(ctor *k, topo_vm *vm) {
  int t = field(k, "shares");
  if (t != LUA_TNIL) {
    bool ok = false;
    if (t == LUA_TNUMBER) {
      double v = lua_tonumber(k->L, -1);
      if (v > 0 && v < 1e12) vm->shares = v, ok = true;
    } else if (t == LUA_TSTRING) {
      const char *s = lua_tostring(k->L, -1);
      for (int i = 0; share_levels[i]; i++)
        if (!strcmp(s, share_levels[i])) vm->shares = share_per_vcpu[i] * vm->vcpus, ok = true;
    }
    if (!ok)
      invalid(k, "shares", "expected a number > 0 or \"low\", \"normal\" or \"high\"", -1);
  }
  lua_pop(k->L, 1);
}

#define MHZ_EXPECTED "expected a number of MHz such as 1000, or a frequency such as \"2GHz\""

static int l_vm(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_VM, vm_keys)) return ctor_end(&k, false);
  scn_ctx *c = k.c;
  topo_vm *vm = g_new0(topo_vm, 1);
  k.o->obj = vm;
  vm->where = g_strdup(k.o->where);
  vm->vcpus = vm->cores_per_socket = 1;
  vm->limit_hz = -1;
  vm->vms = g_ptr_array_new();
  vm->vnics = g_ptr_array_new();
  vm->vswitches = g_ptr_array_new();
  if (get_name(&k, true)) vm->name = g_strdup(k.o->name);
  get_on(&k);
  lua_Integer n;
  if (get_int(&k, "vcpus", 1, SCN_MAX_VCPUS, false, &n)) vm->vcpus = (int)n;
  if (get_int(&k, "cores_per_socket", 1, SCN_MAX_VCPUS, false, &n)) {
    if (vm->vcpus % n) {
      g_autofree char *e = g_strdup_printf("expected a divisor of vcpus (%d)", vm->vcpus);
      field(&k, "cores_per_socket");
      invalid(&k, "cores_per_socket", e, -1);
      lua_pop(L, 1);
    } else {
      vm->cores_per_socket = (int)n;
    }
  }
  double v;
  if (get_quantity(&k, "memory", UNIT_BYTES, 1.0, NULL, Q_POSITIVE, true, &v))
    vm->memory_bytes = (uint64_t)v;
  if (get_quantity(&k, "disk", UNIT_BYTES, 1.0, NULL, Q_POSITIVE, false, &v))
    vm->disk_bytes = (uint64_t)v;
  int choice = GUEST_DEFAULT;
  get_choice(&k, "guest", guest_ids, false, &choice);
  vm->guest = g_strdup(guest_ids[choice]);
  vm->guest_64bit = guest_64bit[choice];
  choice = TOPO_CPUMMU_AUTOMATIC;
  get_choice(&k, "cpu_mmu", cpu_mmu_names, false, &choice);
  vm->cpu_mmu = (topo_cpu_mmu)choice;
  bool b;
  if (get_bool(&k, "expose_hw_virt", &b)) vm->expose_hw_virt = b;
  vm->shares = share_per_vcpu[1] * vm->vcpus;
  get_shares(&k, vm);
  if (get_quantity(&k, "reservation", UNIT_FREQ, 1e6, MHZ_EXPECTED, Q_NONNEG, false, &v))
    vm->reservation_hz = v;
  int t = field(&k, "limit");
  bool unlimited = t == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "unlimited");
  lua_pop(L, 1);
  if (!unlimited &&
      get_quantity(&k, "limit", UNIT_FREQ, 1e6, MHZ_EXPECTED " or \"unlimited\"", Q_POSITIVE,
                   false, &v)) {
    vm->limit_hz = v;
    if (vm->reservation_hz > v) {
      g_autofree char *r = unit_format(UNIT_FREQ, vm->reservation_hz);
      g_autofree char *e = g_strdup_printf("expected a limit >= the reservation (%s)", r);
      field(&k, "limit");
      invalid(&k, "limit", e, -1);
      lua_pop(L, 1);
    }
  }

  g_autoptr(GPtrArray) parts = g_ptr_array_new();
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  get_list(&k, "nics", ITEMS_OBJECTS, 1u << OBJ_VNIC, "expected a list of vnic { }", parts, NULL,
           NULL);
  for (guint i = 0; i < parts->len; i++) {
    scn_obj *p = parts->pdata[i];
    topo_vnic *nic = p->obj;
    if (!attach_part(&k, "nics", p)) continue;
    if (!p->name) {
      /* An unnamed vNIC is called after its place in the list, as vSphere's "Network
       * adapter N" (here 0-based, as esxtop's vmnic and the guest's eth numbering). */
      g_autofree char *nm = g_strdup_printf("vnic%u", i);
      obj_set_name(p, "vnic", nm);
      nic->name = g_strdup(nm);
    }
    if (!unique_among(&k, seen, p)) continue;
    p->attached = true;
    nic->vm = vm;
    g_ptr_array_add(vm->vnics, nic);
  }
  scn_obj *o = NULL;
  if (get_object(&k, "hypervisor", 1u << OBJ_HV, "expected esxi { } or kvm { }", false, &o) &&
      o->obj)
    vm->hypervisor = hv_copy(o->obj);
  /* issue 4: a hypervisor (ESXi 5.x and later, KVM hosts here) runs only as a 64-bit guest,
   * whatever guest id the VM was given. */
  if (vm->hypervisor) vm->guest_64bit = true;
  get_vm_memory(&k, vm);
  /* workload: cpu { }, job { } or mem { }, or a list of a CPU workload and a mem { }. */
  o = NULL;
  const char *wl_expected = "expected cpu { }, job { } or mem { }, or a list of them (at most one "
                            "of cpu { } and job { }, at most one mem { })";
  g_autoptr(GPtrArray) wls = g_ptr_array_new();
  int wt = field(&k, "workload");
  bool wl_list = wt == LUA_TTABLE && !to_obj(L, -1);
  lua_pop(L, 1);
  if (wl_list) {
    get_list(&k, "workload", ITEMS_OBJECTS, (1u << OBJ_WORKLOAD) | (1u << OBJ_MEMWL),
             wl_expected, wls, NULL, NULL);
  } else if (get_object(&k, "workload", (1u << OBJ_WORKLOAD) | (1u << OBJ_MEMWL), wl_expected,
                        false, &o) && o->obj) {
    g_ptr_array_add(wls, o);
  }
  int n_cpu = 0, n_mem = 0;
  for (guint i = 0; i < wls->len; i++) {
    scn_obj *w = wls->pdata[i];
    if (w->kind == OBJ_MEMWL && n_mem++ == 0) vm->mem = *(topo_memwl *)w->obj;
    else if (w->kind == OBJ_WORKLOAD && n_cpu++ == 0) vm->workload = workload_copy(w->obj);
  }
  if (n_cpu > 1 || n_mem > 1) {
    field(&k, "workload");
    invalid(&k, "workload", wl_expected, -1);
    lua_pop(L, 1);
  }
  if (n_mem) check_vm_mem(&k, vm);
  /* disks: the datastores are found once the VM's host is known (resolve_disks). */
  g_autoptr(GPtrArray) disks = g_ptr_array_new();
  if (get_list(&k, "disks", ITEMS_OBJECTS, 1u << OBJ_DISK, "expected a list of disk { }", disks,
               NULL, NULL)) {
    if (disks->len > TOPO_VM_MAX_DISKS) {
      g_autofree char *e = g_strdup_printf("expected a list of at most %d disk { }",
                                           TOPO_VM_MAX_DISKS);
      field(&k, "disks");
      invalid(&k, "disks", e, -1);
      lua_pop(L, 1);
    } else {
      k.o->disks = g_ptr_array_new();
      for (guint i = 0; i < disks->len; i++) {
        scn_obj *p = disks->pdata[i];
        if (!attach_part(&k, "disks", p)) continue;
        vm->disks[vm->n_disks++] = *(topo_disk *)p->obj;
        g_ptr_array_add(k.o->disks, p);
      }
    }
    int dt = field(&k, "disk");
    lua_pop(L, 1);
    if (dt != LUA_TNIL)
      errorf(c, "%s: %s: 'disk' and 'disks' both given: give the sizes in disks = { disk { } }",
             k.o->where, k.o->label);
  }
  g_ptr_array_add(c->vms, k.o);
  if (k.o->name) {
    GPtrArray *same = g_hash_table_lookup(c->vms_by_name, k.o->name);
    if (!same) {
      same = g_ptr_array_new();
      g_hash_table_insert(c->vms_by_name, k.o->name, same);
    }
    g_ptr_array_add(same, k.o);
  }
  return ctor_end(&k, true);
}

/* ---- Switches ----------------------------------------------------------------------------- */

static const char *const vswitch_keys[] = {"name", "on", "uplinks", "portgroups", NULL};
static const char *const dvswitch_keys[] = {"name", "members", "uplinks", "portgroups",
                                            "mac_learning", NULL};

/* Takes the switch's port groups (portgroup { } or dvportgroup { }) into `out`. */
static void get_portgroups(ctor *k, obj_kind kind, void *sw, GPtrArray *out) {
  g_autoptr(GPtrArray) parts = g_ptr_array_new();
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  get_list(k, "portgroups", ITEMS_OBJECTS, 1u << kind,
           kind == OBJ_PORTGROUP ? "expected a list of portgroup { }"
                                 : "expected a list of dvportgroup { }",
           parts, NULL, NULL);
  for (guint i = 0; i < parts->len; i++) {
    scn_obj *p = parts->pdata[i];
    if (!attach_part(k, "portgroups", p) || !unique_among(k, seen, p)) continue;
    p->attached = true;
    ((topo_portgroup *)p->obj)->owner = sw;
    g_ptr_array_add(out, p->obj);
  }
}

static int l_vswitch(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_VSWITCH, vswitch_keys)) return ctor_end(&k, false);
  topo_vswitch *sw = g_new0(topo_vswitch, 1);
  k.o->obj = sw;
  sw->where = g_strdup(k.o->where);
  sw->uplinks = g_ptr_array_new();
  sw->portgroups = g_ptr_array_new();
  if (get_name(&k, true)) sw->name = g_strdup(k.o->name);
  get_on(&k);
  get_list(&k, "uplinks", ITEMS_NAMES, 0,
           "expected a list of NIC names (the host's nics, or the VM's vnics)", NULL,
           sw->uplinks, NULL);
  get_portgroups(&k, OBJ_PORTGROUP, sw, sw->portgroups);
  g_ptr_array_add(k.c->vswitches, k.o);
  return ctor_end(&k, true);
}

static int l_dvswitch(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_DVSWITCH, dvswitch_keys)) return ctor_end(&k, false);
  scn_ctx *c = k.c;
  topo_dvswitch *sw = g_new0(topo_dvswitch, 1);
  k.o->obj = sw;
  sw->where = g_strdup(k.o->where);
  sw->member_hosts = g_ptr_array_new();
  sw->member_vms = g_ptr_array_new();
  sw->uplinks = g_ptr_array_new();
  sw->portgroups = g_ptr_array_new();
  if (get_name(&k, true)) {
    sw->name = g_strdup(k.o->name);
    scn_obj *first = g_hash_table_lookup(c->dvs_by_name, k.o->name);
    if (first)
      errorf(c, "%s: %s: name already used by the dvswitch at %s", k.o->where, k.o->label,
             first->where);
    else
      g_hash_table_insert(c->dvs_by_name, k.o->name, k.o);
  }
  k.o->members = g_array_new(FALSE, TRUE, sizeof(scn_ref));
  int t = field(&k, "members");
  lua_pop(L, 1);
  if (t == LUA_TNIL) missing(&k, "members");
  else
    get_list(&k, "members", ITEMS_REFS, (1u << OBJ_HOST) | (1u << OBJ_VM),
             "expected a list of hosts and VMs running a hypervisor (objects, names or paths)",
             NULL, NULL, k.o->members);
  get_list(&k, "uplinks", ITEMS_NAMES, 0,
           "expected a list of NIC names (each member's nics or vnics)", NULL, sw->uplinks, NULL);
  get_portgroups(&k, OBJ_DVPORTGROUP, sw, sw->portgroups);
  bool b;
  if (get_bool(&k, "mac_learning", &b)) sw->mac_learning = b;
  g_ptr_array_add(c->dvswitches, k.o);
  return ctor_end(&k, true);
}

static char *name_hint(scn_ctx *c, const char *name);

/* ---- Network: external machines and traffic (issue 5) ---------------------------------------- */

static const char *const external_keys[] = {"name", "speed", "mac", "vlan", NULL};
static const char *const traffic_keys[] = {"name", "from", "to", "rate", "frame", "pattern", "on",
                                           "off", "start", "count", "size", NULL};
static const char *const rr_keys[] = {"name", "from", "to", "rate", "size", "pattern", "start",
                                      "count", NULL};
static const char *const noise_keys[] = {"name", "from", "rate", "frame", "pattern", "start",
                                         "count", NULL};
static const char *const pattern_names[] = {"constant", "poisson", "onoff", NULL};
static const char *const pattern_names_no_onoff[] = {"constant", "poisson", NULL};
static const char *const limit_policies[] = {"allow", "drop", NULL};
static const char *const network_keys[] = {"vmxnet3_frame", "e1000_frame", "queue",
                                           "propagation", "pswitch_aging", "learn_aging",
                                           "learn_limit", "learn_limit_policy", "flood_unknown",
                                           NULL};
/* The largest frame a flow may send: a jumbo frame of 9000 bytes of payload and more. */
#define SCN_MAX_FRAME 65535
#define END_EXPECTED "expected a VM, a vnic { }, an external { }, or its name or path"

static int l_external(lua_State *L) {
  ctor k;
  if (!ctor_begin(&k, L, OBJ_EXTERNAL, external_keys)) return ctor_end(&k, false);
  scn_ctx *c = k.c;
  topo_external *x = g_new0(topo_external, 1);
  k.o->obj = x;
  x->where = g_strdup(k.o->where);
  if (get_name(&k, true)) {
    x->name = g_strdup(k.o->name);
    scn_obj *first = g_hash_table_lookup(c->ext_by_name, k.o->name);
    if (first)
      errorf(c, "%s: %s: name already used by the external at %s", k.o->where, k.o->label,
             first->where);
    else
      g_hash_table_insert(c->ext_by_name, k.o->name, k.o);
  }
  double v;
  if (get_quantity(&k, "speed", UNIT_BITRATE, 1.0, NULL, Q_POSITIVE, true, &v)) x->speed_bps = v;
  int t = field(&k, "mac");
  if (t != LUA_TNIL) {
    size_t len = 0;
    const char *s = t == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    x->mac = s ? parse_mac(s, len) : NULL;
    if (!x->mac) invalid(&k, "mac", "expected a MAC address such as \"00:50:56:01:02:03\"", -1);
  }
  lua_pop(L, 1);
  lua_Integer vlan;
  /* The access VLAN of its port on the physical switch: 0 untagged, or 1..4094. */
  if (get_int(&k, "vlan", 0, 4094, false, &vlan)) x->vlan = (int)vlan;
  g_ptr_array_add(c->externals, k.o);
  return ctor_end(&k, true);
}

/* `from` / `to`: a VM (its first vNIC), a vNIC, an external machine, or a name or path to
 * resolve once the script has run. */
static void get_end(ctor *k, const char *key, scn_ref *out) {
  int t = field(k, key);
  if (t == LUA_TNIL) {
    missing(k, key);
  } else {
    scn_obj *o = to_obj(k->L, -1);
    size_t len = 0;
    const char *s = t == LUA_TSTRING ? lua_tolstring(k->L, -1, &len) : NULL;
    if (o && (o->kind == OBJ_VM || o->kind == OBJ_VNIC || o->kind == OBJ_EXTERNAL)) {
      out->obj = o;
      if (o->bad || !o->obj) k->o->bad = true;
    } else if (s && valid_path(s, len)) {
      out->name = g_strdup(s);
    } else {
      invalid(k, key, END_EXPECTED, -1);
    }
  }
  lua_pop(k->L, 1);
}

/* A rate that is a plain count per second (transactions, frames): a number > 0. */
static bool get_per_second(ctor *k, const char *key, const char *what, double *out) {
  bool ok = false;
  int t = field(k, key);
  if (t == LUA_TNIL) {
    missing(k, key);
  } else {
    double v = t == LUA_TNUMBER ? lua_tonumber(k->L, -1) : NAN;
    if (isfinite(v) && v > 0) {
      *out = v;
      ok = true;
    } else {
      g_autofree char *e = g_strdup_printf("expected a number of %s per second > 0", what);
      invalid(k, key, e, -1);
    }
  }
  lua_pop(k->L, 1);
  return ok;
}

/* A frame or message size in bytes, at most SCN_MAX_FRAME. */
static bool get_frame(ctor *k, const char *key, bool required, uint32_t *out) {
  double v;
  if (!get_quantity(k, key, UNIT_BYTES, 1.0, NULL, Q_POSITIVE, required, &v)) return false;
  if (v > SCN_MAX_FRAME) {
    field(k, key);
    invalid(k, key, "expected a size <= 65535 bytes (one frame)", -1);
    lua_pop(k->L, 1);
    return false;
  }
  *out = (uint32_t)v;
  return true;
}

static int make_traffic(lua_State *L, obj_kind kind) {
  const char *const *keys = kind == OBJ_TRAFFIC ? traffic_keys
                            : kind == OBJ_RR    ? rr_keys
                                                : noise_keys;
  ctor k;
  if (!ctor_begin(&k, L, kind, keys)) return ctor_end(&k, false);
  scn_ctx *c = k.c;
  topo_traffic *t = g_new0(topo_traffic, 1);
  k.o->obj = t;
  t->where = g_strdup(k.o->where);
  t->kind = kind == OBJ_TRAFFIC ? TOPO_TRAFFIC_STREAM
            : kind == OBJ_RR    ? TOPO_TRAFFIC_RR
                                : TOPO_TRAFFIC_NOISE;
  if (get_name(&k, false)) t->name = g_strdup(k.o->name);
  get_end(&k, "from", &k.o->from);
  if (kind != OBJ_NOISE) get_end(&k, "to", &k.o->to);
  double v;
  if (kind == OBJ_TRAFFIC) {
    if (get_quantity(&k, "rate", UNIT_BITRATE, 1.0, NULL, Q_POSITIVE, true, &v)) t->rate = v;
  } else {
    get_per_second(&k, "rate", kind == OBJ_RR ? "transactions" : "frames", &t->rate);
  }
  /* Defaults: full-size Ethernet frames for a stream, ARP-sized ones (60 bytes before the
   * frame check sequence) for noise. */
  t->frame_bytes = kind == OBJ_NOISE ? 60 : 1500;
  if (kind == OBJ_RR) get_frame(&k, "size", true, &t->frame_bytes);
  else get_frame(&k, "frame", false, &t->frame_bytes);
  int choice = 0;
  if (get_choice(&k, "pattern", kind == OBJ_TRAFFIC ? pattern_names : pattern_names_no_onoff,
                 false, &choice))
    t->pattern = (topo_pattern)choice;
  if (kind == OBJ_TRAFFIC) {
    if (get_quantity(&k, "on", UNIT_TIME, 1e9, NULL, Q_POSITIVE, false, &v)) t->on_s = v / 1e9;
    if (get_quantity(&k, "off", UNIT_TIME, 1e9, NULL, Q_POSITIVE, false, &v)) t->off_s = v / 1e9;
    const char *onoff[] = {"on", "off"};
    for (int i = 0; i < 2; i++) {
      int ty = field(&k, onoff[i]);
      lua_pop(L, 1);
      if (t->pattern == TOPO_PATTERN_ONOFF && ty == LUA_TNIL)
        errorf(c, "%s: %s: missing '%s' (the mean %s period, needed when pattern = \"onoff\")",
               k.o->where, k.o->label, onoff[i], onoff[i]);
    }
    if (get_choice(&k, "size", dist_names, false, &choice)) t->exp_size = choice == 1;
  }
  if (get_quantity(&k, "start", UNIT_TIME, 1e9, NULL, Q_NONNEG, false, &v)) t->start_s = v / 1e9;
  lua_Integer n;
  if (get_int(&k, "count", 0, LUA_MAXINTEGER, false, &n)) t->count = (uint64_t)n;
  g_ptr_array_add(c->traffic, k.o);
  return ctor_end(&k, true);
}

static int l_traffic(lua_State *L) { return make_traffic(L, OBJ_TRAFFIC); }
static int l_rr(lua_State *L) { return make_traffic(L, OBJ_RR); }
static int l_noise(lua_State *L) { return make_traffic(L, OBJ_NOISE); }

/* scenario { network = { ... } }: the network model's parameters. */
static void get_network(ctor *k, topo_scenario *scn) {
  lua_State *L = k->L;
  int t = field(k, "network");
  if (t != LUA_TNIL && t != LUA_TTABLE) {
    invalid(k, "network", "expected a table such as { queue = 1000 }", -1);
  } else if (t == LUA_TTABLE) {
    ctor sub = *k;
    sub.t = lua_gettop(L);
    sub.prefix = "network.";
    sub.keys = network_keys;
    topo_net_params *p = g_new(topo_net_params, 1);
    *p = (topo_net_params){-1, -1, -1, -1, -1, -1, -1, -1, -1};
    g_free(scn->network);
    scn->network = p;
    double v;
    if (get_quantity(&sub, "vmxnet3_frame", UNIT_TIME, 1e9, NULL, Q_NONNEG, false, &v))
      p->vmxnet3_frame_s = v / 1e9;
    if (get_quantity(&sub, "e1000_frame", UNIT_TIME, 1e9, NULL, Q_NONNEG, false, &v))
      p->e1000_frame_s = v / 1e9;
    lua_Integer n;
    if (get_int(&sub, "queue", 0, UINT32_MAX, false, &n)) p->queue_frames = n;
    if (get_quantity(&sub, "propagation", UNIT_TIME, 1e9, NULL, Q_NONNEG, false, &v))
      p->propagation_s = v / 1e9;
    if (get_quantity(&sub, "pswitch_aging", UNIT_TIME, 1e9, NULL, Q_POSITIVE, false, &v))
      p->pswitch_aging_s = v / 1e9;
    if (get_quantity(&sub, "learn_aging", UNIT_TIME, 1e9, NULL, Q_POSITIVE, false, &v))
      p->learn_aging_s = v / 1e9;
    if (get_int(&sub, "learn_limit", 1, UINT32_MAX, false, &n)) p->learn_limit = n;
    int choice;
    if (get_choice(&sub, "learn_limit_policy", limit_policies, false, &choice))
      p->learn_limit_drop = choice;
    bool b;
    if (get_bool(&sub, "flood_unknown", &b)) p->flood_unknown = b;
    check_keys(&sub);
  }
  lua_pop(L, 1);
}

/* Resolution of one end of a flow into *vnic or *ext; FALSE after reporting why, or silently
 * when what it names had its own mistake reported. */
static bool resolve_end(scn_ctx *c, scn_obj *o, const char *key, const scn_ref *r,
                        topo_vnic **vnic, topo_external **ext) {
  scn_obj *p = r->obj;
  topo_vnic *v = NULL;
  if (!p && r->name) {
    const char *ref = r->name;
    const char *slash = strrchr(ref, '/');
    if (!slash) {
      scn_obj *x = g_hash_table_lookup(c->ext_by_name, ref);
      GPtrArray *same = g_hash_table_lookup(c->vms_by_name, ref);
      guint nvm = 0;
      scn_obj *one = NULL;
      for (guint i = 0; same && i < same->len; i++)
        if (((scn_obj *)same->pdata[i])->attached) {
          nvm++;
          if (!one) one = same->pdata[i];
        }
      guint n = (x ? 1 : 0) + nvm;
      /* VMs of that name exist but failed to place: their own mistake is reported. */
      if (n == 0 && same && same->len) return false;
      if (n == 0) {
        g_autofree char *hint = name_hint(c, ref);
        errorf(c, "%s: %s: invalid '%s': no VM or external named '%s'%s", o->where, o->label,
               key, ref, hint);
        return false;
      }
      if (n > 1) {
        g_autofree char *eg = one ? g_strdup_printf(", such as '%s'", ((topo_vm *)one->obj)->path)
                                  : g_strdup("");
        errorf(c, "%s: %s: invalid '%s': '%s' names %u VMs and externals; give a path%s",
               o->where, o->label, key, ref, n, eg);
        return false;
      }
      p = x ? x : one;
    } else {
      /* A VM's path, or a VM's path (or unique name) and one of its vNICs. */
      p = g_hash_table_lookup(c->vm_by_path, ref);
      if (!p) {
        g_autofree char *vm_ref = g_strndup(ref, (gsize)(slash - ref));
        scn_obj *vo = g_hash_table_lookup(c->vm_by_path, vm_ref);
        if (!vo && !strchr(vm_ref, '/')) {
          GPtrArray *same = g_hash_table_lookup(c->vms_by_name, vm_ref);
          if (same && same->len == 1 && ((scn_obj *)same->pdata[0])->attached)
            vo = same->pdata[0];
        }
        topo_vm *vm = vo ? vo->obj : NULL;
        for (guint i = 0; vm && i < vm->vnics->len; i++)
          if (!strcmp(((topo_vnic *)vm->vnics->pdata[i])->name, slash + 1))
            v = vm->vnics->pdata[i];
        if (!v) {
          errorf(c, "%s: %s: invalid '%s': no VM or vNIC at path '%s'", o->where, o->label, key,
                 ref);
          return false;
        }
      }
    }
  }
  if (!v && (!p || p->bad || !p->obj)) return false;
  if (!v && p->kind == OBJ_EXTERNAL) {
    *ext = p->obj;
    return true;
  }
  if (!v && p->kind == OBJ_VNIC) {
    scn_obj *vo = p->owner;
    if (!p->attached || !vo) {
      errorf(c, "%s: %s: invalid '%s': %s belongs to no VM (list it in a vm's nics)", o->where,
             o->label, key, p->label);
      return false;
    }
    if (vo->state != RES_OK || !vo->attached) return false;
    v = p->obj;
  }
  if (!v) {
    if (p->state != RES_OK || !p->attached) return false;
    topo_vm *vm = p->obj;
    if (!vm->vnics->len) {
      errorf(c, "%s: %s: invalid '%s': %s has no vnic (give it nics = { vnic { ... } })",
             o->where, o->label, key, p->label);
      return false;
    }
    v = vm->vnics->pdata[0];
  }
  *vnic = v;
  return true;
}

/* Resolves both ends of every flow and names the unnamed ones after their kind and place
 * ("traffic3": the third traffic { } of the script); names must be unique. */
static void resolve_traffic(scn_ctx *c) {
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);
  guint count[3] = {0, 0, 0};
  for (guint i = 0; i < c->traffic->len; i++) {
    scn_obj *o = c->traffic->pdata[i];
    topo_traffic *t = o->obj;
    if (!t) continue;
    count[t->kind]++;
    if (!t->name) t->name = g_strdup_printf("%s%u", kind_word(o->kind), count[t->kind]);
    scn_obj *first = g_hash_table_lookup(seen, t->name);
    if (first)
      errorf(c, "%s: %s: name '%s' already used by the %s at %s", o->where, o->label, t->name,
             kind_word(first->kind), first->where);
    else
      g_hash_table_insert(seen, t->name, o);
    if (o->bad) continue;
    bool ok = resolve_end(c, o, "from", &o->from, &t->from_vnic, &t->from_ext);
    if (t->kind != TOPO_TRAFFIC_NOISE)
      ok = resolve_end(c, o, "to", &o->to, &t->to_vnic, &t->to_ext) && ok;
    if (ok && t->kind != TOPO_TRAFFIC_NOISE &&
        ((t->from_vnic && t->from_vnic == t->to_vnic) || (t->from_ext && t->from_ext == t->to_ext)))
      errorf(c, "%s: %s: invalid 'to': it is the sender itself", o->where, o->label);
  }
}

/* ---- param(name, default) ----------------------------------------------------------------- */

/* Reads a scenario parameter: the --set override converted to the default's type, or the
 * default. Records the value used in scn->params. */
static int l_param(lua_State *L) {
  scn_ctx *c = ctx_of(L);
  c->in_c = true;
  g_autofree char *where = current_where(c, L);
  size_t len = 0;
  const char *name = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &len) : NULL;
  bool name_ok = name && len <= SCN_MAX_NAME && strlen(name) == len && len &&
                 (g_ascii_isalpha(name[0]) || name[0] == '_');
  for (size_t i = 0; name_ok && i < len; i++)
    name_ok = g_ascii_isalnum(name[i]) || name[i] == '_';
  int t = lua_type(L, 2);
  if (!name_ok) {
    g_autofree char *got = describe(L, 1);
    errorf(c, "%s: param: invalid 'name': expected a name such as \"nested_hosts\" (letters, "
           "digits and '_'), got %s", where, got);
  } else if (t != LUA_TNUMBER && t != LUA_TSTRING && t != LUA_TBOOLEAN) {
    g_autofree char *got = describe(L, 2);
    errorf(c, "%s: param '%s': invalid 'default': expected a number, a string or a boolean, "
           "got %s", where, name, got);
  }
  lua_settop(L, 2);
  if (!name_ok || (t != LUA_TNUMBER && t != LUA_TSTRING && t != LUA_TBOOLEAN)) {
    leave_c(c);
    return 1; /* the default, whatever it is, so that the script goes on */
  }
  const char *set = c->opts && c->opts->set ? g_hash_table_lookup(c->opts->set, name) : NULL;
  if (set) {
    bool ok = true;
    if (t == LUA_TNUMBER) {
      ok = strlen(set) <= 200 && lua_stringtonumber(L, set) != 0;
    } else if (t == LUA_TBOOLEAN) {
      if (!strcmp(set, "true")) lua_pushboolean(L, 1);
      else if (!strcmp(set, "false")) lua_pushboolean(L, 0);
      else ok = false;
    } else {
      lua_pushstring(L, set);
    }
    if (!ok) {
      g_autofree char *dflt = describe(L, 2);
      GString *got = g_string_new(NULL);
      append_quoted(got, set, strlen(set));
      errorf(c, "%s: param '%s': invalid '--set %s': expected %s like the default %s, got %s",
             where, name, name, t == LUA_TNUMBER ? "a number" : "true or false", dflt, got->str);
      g_string_free(got, TRUE);
      lua_settop(L, 2);
    }
  }
  /* The value used, as text: numbers as Lua prints them, strings as they are. */
  const char *text;
  if (lua_type(L, -1) == LUA_TSTRING) text = lua_tostring(L, -1);
  else if (lua_type(L, -1) == LUA_TBOOLEAN) text = lua_toboolean(L, -1) ? "true" : "false";
  else text = NULL;
  char *value = text ? g_strdup(text) : format_number(L, -1);
  g_hash_table_replace(c->scn->params, g_strdup(name), value);
  leave_c(c);
  return 1;
}

/* ---- The sandbox -------------------------------------------------------------------------- */

/* Every global a scenario sees, sorted, for "did you mean". */
static const char *const global_names[] = {
    "assert", "datastore", "dvportgroup", "dvswitch", "error", "esxi", "host", "ipairs",
    "job", "kvm", "math", "next", "nic", "pairs", "param", "pcall", "portgroup", "print",
    "scenario", "select", "string", "table", "tonumber", "tostring", "type", "utf8",
    "vm", "vnic", "vswitch", "cpu", "external", "noise", "rr", "traffic", "mem", "disk", NULL};

static int strict_index(lua_State *L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char *name = lua_tostring(L, 2);
    const char *s = suggest(name, global_names, count_names(global_names));
    if (s) return luaL_error(L, "undefined global '%s' (did you mean '%s'?)", name, s);
    return luaL_error(L, "undefined global '%s'", name);
  }
  return luaL_error(L, "undefined global");
}

static int strict_newindex(lua_State *L) {
  if (lua_type(L, 2) == LUA_TSTRING)
    return luaL_error(L, "assignment to undeclared global '%s' (declare it local)",
                      lua_tostring(L, 2));
  return luaL_error(L, "assignment to an undeclared global (declare it local)");
}

/* print(...) to stderr, prefixed with the line, so that it never mixes into results. */
static int l_print(lua_State *L) {
  scn_ctx *c = ctx_of(L);
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  g_autofree char *where = current_where(c, L);
  fprintf(stderr, "%s: %s\n", where, lua_tostring(L, -1));
  return 0;
}

/* Order of keys for pairs(): numbers, then strings (byte order), then booleans, then the rest
 * (tables and functions as keys, whose order cannot be made stable). */
static int key_rank(lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER: return 0;
  case LUA_TSTRING: return 1;
  case LUA_TBOOLEAN: return 2;
  default: return 3;
  }
}

static int key_less(lua_State *L) {
  int ra = key_rank(L, 1), rb = key_rank(L, 2);
  bool less;
  if (ra != rb) {
    less = ra < rb;
  } else if (ra == 0) {
    less = lua_compare(L, 1, 2, LUA_OPLT);
  } else if (ra == 1) {
    size_t la, lb;
    const char *a = lua_tolstring(L, 1, &la), *b = lua_tolstring(L, 2, &lb);
    int cmp = memcmp(a, b, MIN(la, lb));
    less = cmp < 0 || (cmp == 0 && la < lb);
  } else if (ra == 2) {
    less = !lua_toboolean(L, 1) && lua_toboolean(L, 2);
  } else {
    less = false;
  }
  lua_pushboolean(L, less);
  return 1;
}

static int sorted_next(lua_State *L) {
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(3)) + 1;
  lua_pushinteger(L, i);
  lua_replace(L, lua_upvalueindex(3));
  if (lua_rawgeti(L, lua_upvalueindex(1), i) == LUA_TNIL) return 1;
  lua_pushvalue(L, -1);
  lua_rawget(L, lua_upvalueindex(2));
  return 2;
}

/* pairs() that visits keys in a fixed order. Lua's own order follows string hashes that are
 * seeded per process, and a scenario that builds VMs in pairs() order would otherwise get a
 * different topology order, hence different results, on every run. Costs a sort per call. */
static int l_pairs(lua_State *L) {
  scn_ctx *c = ctx_of(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_newtable(L);
  lua_Integer n = 0;
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, 2, ++n);
  }
  charge(L, (double)n * (log2((double)n + 1) + 1));
  lua_pushcfunction(L, c->orig_sort);
  lua_pushvalue(L, 2);
  lua_pushcfunction(L, key_less);
  lua_call(L, 2, 0);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, sorted_next, 3);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

/* string.rep, table.move and table.sort loop inside C for as long as their arguments say,
 * where the instruction count cannot see it: string.rep("", 1e15) alone would run for days.
 * These wrappers charge the work first. */
static int safe_rep(lua_State *L) {
  size_t l, lsep = 0;
  luaL_checklstring(L, 1, &l);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &lsep);
  if (n > 0 && l + lsep == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  if (n > 0) charge(L, (double)n);
  return ctx_of(L)->orig_rep(L);
}

static int safe_move(lua_State *L) {
  lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
  if (e >= f) charge(L, (double)e - (double)f + 1);
  return ctx_of(L)->orig_move(L);
}

static int safe_sort(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  double n = (double)lua_rawlen(L, 1);
  charge(L, n * (log2(n + 1) + 1));
  return ctx_of(L)->orig_sort(L);
}

/* ---- issue 8: the scenario API as data (scn_api_names, scn_api_keys) ---------------------- */

/* Every function the sandbox adds or replaces, with the keys its table accepts: the one list
 * open_sandbox registers from and scn_api_keys answers from, so that the editor annotations
 * (scenarios/api/nestsim.lua, checked by tests/test-scn-api.c) cannot drift from what the
 * loader accepts. keys NULL: one of Lua's own functions, replaced (not part of the API);
 * param takes (name, default), not a table: no keys. */
static const char *const no_keys[] = {NULL};
static const struct {
  const char *name;
  lua_CFunction fn;
  const char *const *keys;
} api_fns[] = {
    {"print", l_print, NULL}, {"pairs", l_pairs, NULL},
    {"scenario", l_scenario, scenario_keys}, {"host", l_host, host_keys},
    {"esxi", l_esxi, hv_keys}, {"kvm", l_kvm, hv_keys}, {"vm", l_vm, vm_keys},
    {"vswitch", l_vswitch, vswitch_keys}, {"portgroup", l_portgroup, portgroup_keys},
    {"dvswitch", l_dvswitch, dvswitch_keys}, {"dvportgroup", l_dvportgroup, portgroup_keys},
    {"nic", l_nic, nic_keys}, {"vnic", l_vnic, vnic_keys},
    {"datastore", l_datastore, datastore_keys}, {"cpu", l_cpu, cpu_wl_keys},
    {"job", l_job, job_keys}, {"param", l_param, no_keys}, {"mem", l_mem, mem_wl_keys},
    {"disk", l_disk, disk_keys}, {"external", l_external, external_keys},
    {"traffic", l_traffic, traffic_keys}, {"rr", l_rr, rr_keys}, {"noise", l_noise, noise_keys}};
/* Tables nested in a constructor's table whose keys are checked too (check_keys with a
 * prefix): get_host_cpu and get_network. */
static const struct {
  const char *name;
  const char *const *keys;
} api_tables[] = {{"host.cpu", host_cpu_keys}, {"scenario.network", network_keys}};

const char **scn_api_names(void) {
  GPtrArray *names = g_ptr_array_new();
  for (size_t i = 0; i < G_N_ELEMENTS(api_fns); i++)
    if (api_fns[i].keys) g_ptr_array_add(names, (gpointer)api_fns[i].name);
  for (size_t i = 0; i < G_N_ELEMENTS(api_tables); i++)
    g_ptr_array_add(names, (gpointer)api_tables[i].name);
  g_ptr_array_add(names, NULL);
  return (const char **)g_ptr_array_free(names, FALSE);
}

const char *const *scn_api_keys(const char *name) {
  for (size_t i = 0; i < G_N_ELEMENTS(api_fns); i++)
    if (api_fns[i].keys && !strcmp(api_fns[i].name, name)) return api_fns[i].keys;
  for (size_t i = 0; i < G_N_ELEMENTS(api_tables); i++)
    if (!strcmp(api_tables[i].name, name)) return api_tables[i].keys;
  return NULL;
}

/* ---- end of issue 8's section ------------------------------------------------------------- */

/* Builds the environment table and leaves it on the stack; runs under lua_pcall. */
static int open_sandbox(lua_State *L) {
  scn_ctx *c = ctx_of(L);
  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  int g = lua_gettop(L);
  lua_newtable(L);
  int base = lua_gettop(L);
  static const char *const from_base[] = {"assert", "error", "ipairs", "next", "pcall",
                                          "select", "tonumber", "tostring", "type", NULL};
  for (int i = 0; from_base[i]; i++) {
    lua_getfield(L, g, from_base[i]);
    lua_setfield(L, base, from_base[i]);
  }

  /* string: no dump (bytecode), no pattern matching (find, match, gmatch, gsub), whose
   * backtracking can run for hours inside one C call where no limit reaches it. The table is
   * also the strings' metatable __index, so ("x"):find is gone too. */
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);
  static const char *const string_out[] = {"dump", "find", "match", "gmatch", "gsub", NULL};
  for (int i = 0; string_out[i]; i++) {
    lua_pushnil(L);
    lua_setfield(L, -2, string_out[i]);
  }
  lua_getfield(L, -1, "rep");
  c->orig_rep = lua_tocfunction(L, -1);
  lua_pop(L, 1);
  lua_pushcfunction(L, safe_rep);
  lua_setfield(L, -2, "rep");
  lua_setfield(L, base, "string");

  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 0);
  lua_getfield(L, -1, "move");
  c->orig_move = lua_tocfunction(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, -1, "sort");
  c->orig_sort = lua_tocfunction(L, -1);
  lua_pop(L, 1);
  lua_pushcfunction(L, safe_move);
  lua_setfield(L, -2, "move");
  lua_pushcfunction(L, safe_sort);
  lua_setfield(L, -2, "sort");
  lua_setfield(L, base, "table");

  /* math: no random numbers, seeded per process; randomness belongs to the model's streams. */
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 0);
  lua_pushnil(L);
  lua_setfield(L, -2, "random");
  lua_pushnil(L);
  lua_setfield(L, -2, "randomseed");
  lua_setfield(L, base, "math");

  luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 0);
  lua_setfield(L, base, "utf8");

  /* The functions of the scenario API (api_fns, above). */
  for (size_t i = 0; i < G_N_ELEMENTS(api_fns); i++) {
    lua_pushcfunction(L, api_fns[i].fn);
    lua_setfield(L, base, api_fns[i].name);
  }

  luaL_newmetatable(L, OBJ_MT);
  lua_pushcfunction(L, obj_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, obj_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, obj_index);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);

  lua_newtable(L); /* the environment: empty, every read goes through strict_index */
  lua_newtable(L);
  lua_pushvalue(L, base);
  lua_pushcclosure(L, strict_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, strict_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  return 1;
}

/* ---- Resolution: what `on`, members, uplinks and port groups refer to ----------------------- */

static int resolve_vm(scn_ctx *c, scn_obj *o);

/* "(did you mean 'esx01'?)" among host and VM names, or "". */
static char *name_hint(scn_ctx *c, const char *name) {
  g_autoptr(GPtrArray) cands = g_ptr_array_new();
  for (guint i = 0; i < c->hosts->len; i++)
    g_ptr_array_add(cands, ((scn_obj *)c->hosts->pdata[i])->name);
  for (guint i = 0; i < c->vms->len; i++)
    g_ptr_array_add(cands, ((scn_obj *)c->vms->pdata[i])->name);
  const char *s = suggest(name, (const char *const *)cands->pdata, cands->len);
  return s ? g_strdup_printf(" (did you mean '%s'?)", s) : g_strdup("");
}

/* The host or VM a name or path names, or NULL after reporting why (or silently, when what it
 * names is an object whose own mistake was reported). */
static scn_obj *lookup(scn_ctx *c, scn_obj *from, const char *key, const char *ref) {
  const char *slash = strrchr(ref, '/');
  if (slash) {
    /* A path: the VMs of that name whose resolved path matches. */
    GPtrArray *same = g_hash_table_lookup(c->vms_by_name, slash + 1);
    bool silent = false;
    for (guint i = 0; same && i < same->len; i++) {
      scn_obj *v = same->pdata[i];
      if (resolve_vm(c, v) == RES_OK && !strcmp(((topo_vm *)v->obj)->path, ref)) return v;
      if (v->state != RES_OK) silent = true;
    }
    if (!silent)
      errorf(c, "%s: %s: invalid '%s': no VM at path '%s'", from->where, from->label, key, ref);
    return NULL;
  }
  scn_obj *h = g_hash_table_lookup(c->host_by_name, ref);
  GPtrArray *same = g_hash_table_lookup(c->vms_by_name, ref);
  guint n = (h ? 1 : 0) + (same ? same->len : 0);
  if (n == 1) return h ? h : same->pdata[0];
  if (n == 0) {
    g_autofree char *hint = name_hint(c, ref);
    errorf(c, "%s: %s: invalid '%s': no host or VM named '%s'%s", from->where, from->label, key,
           ref, hint);
    return NULL;
  }
  /* Several: ask for a path, showing one that works. */
  const char *example = NULL;
  bool deferred = c->deferred; /* the example's own resolution does not defer this VM */
  for (guint i = 0; same && i < same->len && !example; i++)
    if (resolve_vm(c, same->pdata[i]) == RES_OK)
      example = ((topo_vm *)((scn_obj *)same->pdata[i])->obj)->path;
  c->deferred = deferred;
  g_autofree char *eg = example ? g_strdup_printf(", such as '%s'", example) : g_strdup("");
  errorf(c, "%s: %s: invalid '%s': '%s' names %u hosts and VMs; give a path%s", from->where,
         from->label, key, ref, n, eg);
  return NULL;
}

/* The host or nested-hypervisor VM a reference names, resolved; NULL if none (reported, or
 * silent when the mistake is elsewhere and was reported there, or deferred: see
 * resolve_vm). */
static scn_obj *resolve_target(scn_ctx *c, scn_obj *from, const char *key, const scn_ref *r) {
  scn_obj *p = r->obj ? r->obj : r->name ? lookup(c, from, key, r->name) : NULL;
  if (!p || p->bad || !p->obj) return NULL;
  if (p->kind == OBJ_HOST) return p;
  int st = resolve_vm(c, p);
  if (st == RES_DEEP) return NULL;
  if (st == RES_BUSY) {
    errorf(c, "%s: %s: invalid '%s': %s is itself placed, directly or not, on this %s "
           "(a cycle)", from->where, from->label, key, p->label, kind_word(from->kind));
    return NULL;
  }
  if (st != RES_OK) return NULL;
  if (!((topo_vm *)p->obj)->hypervisor) {
    errorf(c, "%s: %s: invalid '%s': %s runs no hypervisor (give it hypervisor = esxi { ... })",
           from->where, from->label, key, p->label);
    return NULL;
  }
  return p;
}

/* Places a VM: parent, host, layer and path, resolving its parent first. The recursion
 * follows `on` references upwards, and a script can make a long chain children first, by
 * names; so it stops SCN_MAX_LAYERS deep and answers RES_DEEP, leaving the VMs on the way
 * unresolved, flagging ctx->deferred and naming in ctx->deep_at the VM it stopped at, which
 * resolve_all_vms resolves first. */
static int resolve_vm(scn_ctx *c, scn_obj *o) {
  if (o->state != RES_TODO) return o->state;
  if (o->bad || !o->obj) return o->state = RES_FAILED;
  if (c->depth >= SCN_MAX_LAYERS) {
    c->deferred = true;
    c->deep_at = o;
    return RES_DEEP;
  }
  bool outer_deferred = c->deferred;
  c->deferred = false;
  o->state = RES_BUSY;
  c->depth++;
  scn_obj *p = resolve_target(c, o, "on", &o->on);
  c->depth--;
  bool deferred = c->deferred;
  c->deferred = outer_deferred || deferred;
  if (!p && deferred) {
    o->state = RES_TODO;
    return RES_DEEP;
  }
  if (!p) return o->state = RES_FAILED;
  topo_vm *vm = o->obj;
  if (p->kind == OBJ_HOST) {
    vm->host = p->obj;
    vm->parent = NULL;
    vm->layer = 1;
    vm->path = g_strconcat(vm->host->path, "/", vm->name, NULL);
  } else {
    topo_vm *pv = p->obj;
    if (pv->layer + 1 > SCN_MAX_LAYERS) {
      errorf(c, "%s: %s: invalid 'on': it would be at layer %d, and nestsim simulates at most "
             "%d layers", o->where, o->label, pv->layer + 1, SCN_MAX_LAYERS);
      return o->state = RES_FAILED;
    }
    vm->host = pv->host;
    vm->parent = pv;
    vm->layer = pv->layer + 1;
    vm->path = g_strconcat(pv->path, "/", vm->name, NULL);
  }
  return o->state = RES_OK;
}

/* Resolves every VM. When a chain is deeper than the recursion may go, the VM where it
 * stopped is resolved first, then the one that asked again: a chain of n VMs costs about
 * n x SCN_MAX_LAYERS steps in all. Meeting a stopping point a second time means the chain
 * loops back on itself: a cycle longer than SCN_MAX_LAYERS. */
static void resolve_all_vms(scn_ctx *c) {
  g_autoptr(GPtrArray) work = g_ptr_array_new();
  g_autoptr(GHashTable) pushed = g_hash_table_new(NULL, NULL);
  for (guint i = 0; i < c->vms->len; i++) {
    scn_obj *o = c->vms->pdata[i];
    if (o->state != RES_TODO) continue;
    g_ptr_array_add(work, o);
    while (work->len) {
      scn_obj *top = work->pdata[work->len - 1];
      c->deferred = false;
      c->deep_at = NULL;
      if (resolve_vm(c, top) != RES_DEEP) {
        g_ptr_array_remove_index(work, work->len - 1);
        continue;
      }
      scn_obj *x = c->deep_at;
      if (g_hash_table_contains(pushed, x)) {
        errorf(c, "%s: %s: invalid 'on': it is placed, through more than %d other VMs, on "
               "itself (a cycle)", x->where, x->label, SCN_MAX_LAYERS - 1);
        x->state = RES_FAILED;
        continue;
      }
      g_hash_table_add(pushed, x);
      g_ptr_array_add(work, x);
    }
  }
}
/* Finds the scn_obj of an attached host or VM from its topo struct, via the owner links. */
static scn_obj *obj_of_parent(scn_ctx *c, topo_vm *vm) {
  if (vm->parent) {
    scn_obj *o = g_hash_table_lookup(c->vm_by_path, vm->parent->path);
    return o;
  }
  return g_hash_table_lookup(c->host_by_name, vm->host->name);
}

/* Attaches resolved VMs to their parents, layer by layer, so a parent is attached before its
 * children whatever order the script made them in. */
static void attach_vms(scn_ctx *c) {
  for (int layer = 1; layer <= SCN_MAX_LAYERS; layer++)
    for (guint i = 0; i < c->vms->len; i++) {
      scn_obj *o = c->vms->pdata[i];
      topo_vm *vm = o->obj;
      if (o->state != RES_OK || vm->layer != layer) continue;
      scn_obj *parent = obj_of_parent(c, vm);
      if (!parent || (parent->kind == OBJ_VM && (!parent->attached || parent->obj != vm->parent))) {
        o->state = RES_FAILED; /* its parent lost a name clash, reported there */
        continue;
      }
      scn_obj *first = g_hash_table_lookup(c->vm_by_path, vm->path);
      if (first) {
        errorf(c, "%s: %s: name already used by the vm at %s", o->where, o->label, first->where);
        o->state = RES_FAILED;
        continue;
      }
      g_hash_table_insert(c->vm_by_path, vm->path, o);
      g_ptr_array_add(vm->parent ? vm->parent->vms : vm->host->vms, vm);
      o->attached = true;
    }
}

/* Finds the datastore of each disk of every attached VM among its physical host's. A nested
 * host's VM keeps its disks inside its nested host's disks, so it names none. */
static void resolve_disks(scn_ctx *c) {
  for (guint i = 0; i < c->vms->len; i++) {
    scn_obj *o = c->vms->pdata[i];
    topo_vm *vm = o->obj;
    if (!o->attached || !o->disks) continue;
    for (guint j = 0; j < o->disks->len; j++) {
      scn_obj *d = o->disks->pdata[j];
      if (!d->on.obj && !d->on.name) continue;
      if (vm->parent) {
        errorf(c, "%s: disk: invalid 'datastore': %s runs on %s, so its disks live inside the "
               "nested host's own disks; leave 'datastore' out", d->where, o->label,
               vm->parent->name);
        continue;
      }
      topo_datastore *found = NULL;
      for (guint k = 0; vm->host->datastores && k < vm->host->datastores->len; k++) {
        topo_datastore *ds = vm->host->datastores->pdata[k];
        if (d->on.obj ? d->on.obj->obj == ds : !strcmp(ds->name, d->on.name)) found = ds;
      }
      if (!found)
        errorf(c, "%s: disk: invalid 'datastore': %s%s%s is not on host '%s', where %s runs",
               d->where, d->on.obj ? "" : "datastore '",
               d->on.obj ? d->on.obj->label : d->on.name, d->on.obj ? "" : "'", vm->host->name,
               o->label);
      else
        vm->disks[j].datastore = found;
    }
  }
}

/* Whether hypervisor `p` (a host or VM object) has a NIC (host) or vNIC (VM) of that name. */
static bool has_nic(scn_obj *p, const char *name) {
  if (p->kind == OBJ_HOST) {
    topo_host *h = p->obj;
    for (guint i = 0; i < h->nics->len; i++)
      if (!strcmp(((topo_nic *)h->nics->pdata[i])->name, name)) return true;
  } else {
    topo_vm *vm = p->obj;
    for (guint i = 0; i < vm->vnics->len; i++)
      if (!strcmp(((topo_vnic *)vm->vnics->pdata[i])->name, name)) return true;
  }
  return false;
}

static bool check_uplinks(scn_ctx *c, scn_obj *sw, GPtrArray *uplinks, scn_obj *p) {
  bool ok = true;
  for (guint i = 0; i < uplinks->len; i++)
    if (!has_nic(p, uplinks->pdata[i])) {
      errorf(c, "%s: %s: invalid 'uplinks': %s has no %s named '%s'", sw->where, sw->label,
             p->label, p->kind == OBJ_HOST ? "nic" : "vnic", (char *)uplinks->pdata[i]);
      ok = false;
    }
  return ok;
}

static void resolve_vswitches(scn_ctx *c) {
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < c->vswitches->len; i++) {
    scn_obj *o = c->vswitches->pdata[i];
    if (o->bad || !o->obj) continue;
    scn_obj *p = resolve_target(c, o, "on", &o->on);
    if (!p || (p->kind == OBJ_VM && !p->attached)) continue;
    topo_vswitch *sw = o->obj;
    if (!check_uplinks(c, o, sw->uplinks, p)) continue;
    const char *owner_path = p->kind == OBJ_HOST ? ((topo_host *)p->obj)->path
                                                 : ((topo_vm *)p->obj)->path;
    char *key = g_strconcat(owner_path, "\n", sw->name, NULL);
    scn_obj *first = g_hash_table_lookup(seen, key);
    if (first) {
      errorf(c, "%s: %s: name already used by the vswitch at %s", o->where, o->label,
             first->where);
      g_free(key);
      continue;
    }
    g_hash_table_insert(seen, key, o);
    if (p->kind == OBJ_HOST) {
      sw->host = p->obj;
      g_ptr_array_add(sw->host->vswitches, sw);
    } else {
      sw->vm = p->obj;
      g_ptr_array_add(sw->vm->vswitches, sw);
    }
    o->attached = true;
    o->state = RES_OK;
  }
}

static void resolve_dvswitches(scn_ctx *c) {
  for (guint i = 0; i < c->dvswitches->len; i++) {
    scn_obj *o = c->dvswitches->pdata[i];
    if (o->bad || !o->obj) continue;
    topo_dvswitch *sw = o->obj;
    bool ok = true;
    g_autoptr(GPtrArray) done = g_ptr_array_new();
    for (guint j = 0; j < o->members->len; j++) {
      scn_obj *p = resolve_target(c, o, "members", &g_array_index(o->members, scn_ref, j));
      if (!p || (p->kind == OBJ_VM && !p->attached)) {
        ok = false;
        continue;
      }
      if (g_ptr_array_find(done, p, NULL)) {
        errorf(c, "%s: %s: invalid 'members': %s is listed twice", o->where, o->label, p->label);
        ok = false;
        continue;
      }
      g_ptr_array_add(done, p);
      if (!check_uplinks(c, o, sw->uplinks, p)) ok = false;
      g_ptr_array_add(p->kind == OBJ_HOST ? sw->member_hosts : sw->member_vms, p->obj);
    }
    if (ok) o->state = RES_OK;
  }
}

/* Every vNIC's port group must be on a switch of the hypervisor that runs its VM. */
static void check_vnics(scn_ctx *c) {
  for (guint i = 0; i < c->objs->len; i++) {
    scn_obj *n = c->objs->pdata[i];
    if (n->kind != OBJ_VNIC || !n->target || !n->attached || !n->owner) continue;
    scn_obj *vo = n->owner;
    if (vo->state != RES_OK || !vo->attached) continue;
    topo_vm *vm = vo->obj;
    scn_obj *pg = n->target;
    const char *runs_on = vm->parent ? vm->parent->path : vm->host->path;
    if (!pg->owner) {
      errorf(c, "%s: %s: invalid 'nics': %s plugs into %s, which no switch has (list it in the "
             "portgroups of a vswitch or dvswitch)", vo->where, vo->label, n->label, pg->label);
      continue;
    }
    scn_obj *sw = pg->owner;
    if (sw->state != RES_OK) continue;
    bool ok;
    const char *where_sw;
    if (sw->kind == OBJ_VSWITCH) {
      topo_vswitch *s = sw->obj;
      ok = vm->parent ? s->vm == vm->parent : s->host == vm->host;
      where_sw = s->vm ? s->vm->path : s->host->path;
      if (!ok)
        errorf(c, "%s: %s: invalid 'nics': %s plugs into %s of %s on %s, but the VM runs on %s",
               vo->where, vo->label, n->label, pg->label, sw->label, where_sw, runs_on);
    } else {
      topo_dvswitch *s = sw->obj;
      ok = vm->parent ? g_ptr_array_find(s->member_vms, vm->parent, NULL)
                      : g_ptr_array_find(s->member_hosts, vm->host, NULL);
      if (!ok)
        errorf(c, "%s: %s: invalid 'nics': %s plugs into %s of %s, which does not span %s "
               "where the VM runs (add it to the members)", vo->where, vo->label, n->label,
               pg->label, sw->label, runs_on);
    }
  }
}

/* --set names that no param() read. */
static void check_sets(scn_ctx *c) {
  if (!c->opts || !c->opts->set) return;
  g_autoptr(GPtrArray) unknown = g_ptr_array_new();
  GHashTableIter it;
  void *key;
  g_hash_table_iter_init(&it, c->opts->set);
  while (g_hash_table_iter_next(&it, &key, NULL))
    if (!g_hash_table_contains(c->scn->params, key)) g_ptr_array_add(unknown, key);
  if (!unknown->len) return;
  g_ptr_array_sort(unknown, cmp_strp);
  g_autoptr(GPtrArray) known = g_ptr_array_new();
  g_hash_table_iter_init(&it, c->scn->params);
  while (g_hash_table_iter_next(&it, &key, NULL)) g_ptr_array_add(known, key);
  g_ptr_array_sort(known, cmp_strp);
  g_autoptr(GString) list = g_string_new(NULL);
  for (guint i = 0; i < known->len; i++)
    g_string_append_printf(list, "%s%s", i ? ", " : "", (char *)known->pdata[i]);
  for (guint i = 0; i < unknown->len; i++) {
    const char *name = unknown->pdata[i];
    const char *s = suggest(name, (const char *const *)known->pdata, known->len);
    g_autofree char *hint = s ? g_strdup_printf(" (did you mean '%s'?)", s) : g_strdup("");
    g_autofree char *shown = escape_text(name, strlen(name));
    if (known->len)
      errorf(c, "%s: invalid '--set %s': no param() reads it%s; the scenario's params are: %s",
             c->label, shown, hint, list->str);
    else
      errorf(c, "%s: invalid '--set %s': no param() reads it; the scenario reads no params",
             c->label, shown);
  }
}

/* ---- Loading ------------------------------------------------------------------------------ */

/* A Lua error message made safe for one line of the report: at most 300 bytes, control
 * characters escaped, and naming the file first. */
static char *clean_lua_message(scn_ctx *c, const char *msg, size_t len) {
  GString *g = g_string_new(NULL);
  if (!g_str_has_prefix(msg, c->label) || msg[strlen(c->label)] != ':')
    g_string_append_printf(g, "%s: ", c->label);
  size_t keep = len;
  if (keep > 300) {
    /* Cut at a character boundary, so that valid UTF-8 stays valid. */
    keep = 300;
    while (keep > 0 && ((unsigned char)msg[keep] & 0xc0) == 0x80) keep--;
  }
  g_autofree char *text = escape_text(msg, keep);
  g_string_append(g, text);
  if (keep < len) g_string_append(g, "...");
  return g_string_free(g, FALSE);
}

static char *limit_message(scn_ctx *c) {
  const char *where = c->limit_where ? c->limit_where : c->label;
  if (c->limit == LIMIT_INSTRUCTIONS)
    return g_strdup_printf("%s: the script did not finish after %" G_GUINT64_FORMAT
                           " instructions (an endless loop?)", where, c->max_instructions);
  g_autofree char *mem = unit_format(UNIT_BYTES, (double)c->max_memory);
  return g_strdup_printf("%s: the script used more than %s of memory (a runaway loop?)", where,
                         mem);
}

/* Records why the script stopped, from a failed load or run. */
static void record_fatal(scn_ctx *c, lua_State *L, int status) {
  if (c->limit != LIMIT_NONE) {
    c->fatal = limit_message(c);
  } else if (status == LUA_ERRMEM) {
    c->fatal = g_strdup_printf("%s: not enough memory", c->label);
  } else if (lua_type(L, -1) == LUA_TSTRING) {
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    c->fatal = clean_lua_message(c, msg, len);
  } else {
    g_autofree char *what = describe(L, -1);
    c->fatal = g_strdup_printf("%s: the script raised an error that is not a message (%s)",
                               c->label, what);
  }
}

static void run_script(scn_ctx *c, const char *text, gsize len) {
  if (len >= 4 && !memcmp(text, LUA_SIGNATURE, 4)) {
    c->fatal = g_strdup_printf("%s: precompiled Lua bytecode is not accepted; give the "
                               "scenario as Lua text", c->label);
    return;
  }
  c->in_c = true;
  lua_State *L = lua_newstate(scn_alloc, c);
  if (!L) {
    c->fatal = g_strdup_printf("%s: not enough memory", c->label);
    return;
  }
  c->L = L;
  lua_pushcfunction(L, open_sandbox);
  int status = lua_pcall(L, 0, 1, 0);
  c->in_c = false;
  if (status != LUA_OK) {
    record_fatal(c, L, status);
  } else {
    int env = lua_gettop(L);
    g_autofree char *chunkname = g_strconcat("=", c->label, NULL);
    status = luaL_loadbufferx(L, text, len, chunkname, "t");
    if (status != LUA_OK) {
      record_fatal(c, L, status);
    } else {
      lua_pushvalue(L, env);
      lua_setupvalue(L, -2, 1); /* the chunk's _ENV */
      lua_sethook(L, count_hook, LUA_MASKCOUNT, SCN_HOOK_EVERY);
      status = lua_pcall(L, 0, 0, 0);
      lua_sethook(L, NULL, 0, 0);
      if (status != LUA_OK || c->limit != LIMIT_NONE) record_fatal(c, L, status);
    }
  }
  c->in_c = true; /* closing frees; nothing may be refused any more */
  c->L = NULL;
  lua_close(L);
}

/* The default reporting interval, when scenario { } gives none: a sixtieth of the duration
 * (60 rows per entity, like a one-hour chart at one-minute resolution), rounded down to a
 * whole second, at least 1 s and at most the duration. 10 min -> 10 s, 1 h -> 60 s. */
static int64_t default_interval(int64_t duration_ns) {
  int64_t iv = duration_ns / 60 / 1000000000 * 1000000000;
  iv = MAX(iv, (int64_t)1000000000);
  return MIN(iv, duration_ns);
}

/* A scenario name from the file name: its base name without ".lua", unsafe characters
 * replaced by '_'. */
static char *name_from_label(const char *label) {
  char *s = g_strdup(label);
  if (g_str_has_suffix(s, ".lua")) s[strlen(s) - 4] = '\0';
  for (char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("._-", *p)) *p = '_';
  if (!*s || s[0] == '.') {
    char *t = g_strconcat("scenario", s, NULL);
    g_free(s);
    s = t;
  }
  return s;
}

static void ptr_array_free_cb(void *p) { g_ptr_array_unref(p); }

static scn_ctx *ctx_new(const char *label, const char *file, const scn_options *opts) {
  scn_ctx *c = g_new0(scn_ctx, 1);
  /* Messages are UTF-8; a file name that is not is shown with replacement characters. */
  c->label = g_utf8_make_valid(label, -1);
  c->opts = opts;
  c->max_instructions = opts && opts->max_instructions ? opts->max_instructions
                                                       : SCN_DEFAULT_MAX_INSTRUCTIONS;
  c->max_memory = opts && opts->max_memory_bytes ? opts->max_memory_bytes : SCN_DEFAULT_MAX_MEMORY;
  c->errors = g_ptr_array_new_with_free_func(g_free);
  c->objs = g_ptr_array_new_with_free_func(obj_free);
  c->hosts = g_ptr_array_new();
  c->vms = g_ptr_array_new();
  c->vswitches = g_ptr_array_new();
  c->dvswitches = g_ptr_array_new();
  c->host_by_name = g_hash_table_new(g_str_hash, g_str_equal);
  c->dvs_by_name = g_hash_table_new(g_str_hash, g_str_equal);
  c->vms_by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, ptr_array_free_cb);
  c->vm_by_path = g_hash_table_new(g_str_hash, g_str_equal);
  c->externals = g_ptr_array_new();
  c->traffic = g_ptr_array_new();
  c->ext_by_name = g_hash_table_new(g_str_hash, g_str_equal);
  topo_scenario *scn = g_new0(topo_scenario, 1);
  scn->file = g_strdup(file);
  scn->name = name_from_label(label);
  scn->seed = 1;
  scn->overheads = true;
  scn->hosts = g_ptr_array_new();
  scn->dvswitches = g_ptr_array_new();
  scn->params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  c->scn = scn;
  return c;
}

static void ctx_free(scn_ctx *c) {
  /* The lookup tables point into the objects' names: they go first. */
  g_hash_table_unref(c->host_by_name);
  g_hash_table_unref(c->dvs_by_name);
  g_hash_table_unref(c->vms_by_name);
  g_hash_table_unref(c->vm_by_path);
  g_hash_table_unref(c->ext_by_name);
  g_ptr_array_unref(c->externals);
  g_ptr_array_unref(c->traffic);
  g_ptr_array_unref(c->hosts);
  g_ptr_array_unref(c->vms);
  g_ptr_array_unref(c->vswitches);
  g_ptr_array_unref(c->dvswitches);
  topo_scenario_free(c->scn);
  g_ptr_array_unref(c->objs);
  g_ptr_array_unref(c->errors);
  g_free(c->fatal);
  g_free(c->limit_where);
  g_free(c->scenario_where);
  g_free(c->label);
  g_free(c);
}

static topo_scenario *finish(scn_ctx *c, GError **error) {
  if (!c->fatal) {
    if (!c->scenario_where)
      errorf(c, "%s: missing scenario { name = ..., duration = ... } (every scenario calls it "
             "once)", c->label);
    if (!c->hosts->len)
      errorf(c, "%s: missing host { ... } (a scenario needs at least one physical host)",
             c->label);
    resolve_all_vms(c);
    attach_vms(c);
    resolve_disks(c);
    resolve_vswitches(c);
    resolve_dvswitches(c);
    check_vnics(c);
    resolve_traffic(c); /* issue 5 */
    check_sets(c);
  }
  if (c->n_errors || c->fatal) {
    GString *msg = g_string_new(NULL);
    for (guint i = 0; i < c->errors->len; i++)
      g_string_append_printf(msg, "%s%s", i ? "\n" : "", (char *)c->errors->pdata[i]);
    if (c->n_errors > c->errors->len)
      g_string_append_printf(msg, "\n... and %u more", c->n_errors - c->errors->len);
    if (c->fatal) g_string_append_printf(msg, "%s%s", msg->len ? "\n" : "", c->fatal);
    g_set_error_literal(error, SCN_ERROR,
                        c->limit != LIMIT_NONE ? SCN_ERROR_LIMIT : SCN_ERROR_INPUT, msg->str);
    g_string_free(msg, TRUE);
    ctx_free(c);
    return NULL;
  }
  topo_scenario *scn = c->scn;
  if (!scn->interval_ns) scn->interval_ns = default_interval(scn->duration_ns);
  for (guint i = 0; i < c->hosts->len; i++) {
    scn_obj *o = c->hosts->pdata[i];
    g_ptr_array_add(scn->hosts, o->obj);
    o->attached = true;
  }
  for (guint i = 0; i < c->dvswitches->len; i++) {
    scn_obj *o = c->dvswitches->pdata[i];
    g_ptr_array_add(scn->dvswitches, o->obj);
    o->attached = true;
  }
  /* issue 5: external machines and traffic. */
  scn->externals = g_ptr_array_new();
  scn->traffic = g_ptr_array_new();
  for (guint i = 0; i < c->externals->len; i++) {
    scn_obj *o = c->externals->pdata[i];
    g_ptr_array_add(scn->externals, o->obj);
    o->attached = true;
  }
  for (guint i = 0; i < c->traffic->len; i++) {
    scn_obj *o = c->traffic->pdata[i];
    g_ptr_array_add(scn->traffic, o->obj);
    o->attached = true;
  }
  c->scn = NULL;
  ctx_free(c);
  return scn;
}

topo_scenario *scn_load_string(const char *chunkname, const char *text, gsize len,
                               const scn_options *opts, GError **error) {
  g_return_val_if_fail(chunkname != NULL && (text != NULL || len == 0), NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  scn_ctx *c = ctx_new(chunkname, chunkname, opts);
  run_script(c, text ? text : "", len);
  return finish(c, error);
}

topo_scenario *scn_load_file(const char *path, const scn_options *opts, GError **error) {
  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  g_autofree char *label = g_path_get_basename(path);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) io = NULL;
  if (!g_file_get_contents(path, &text, &len, &io)) {
    g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT, "%s: cannot read the scenario: %s", label,
                io->message);
    return NULL;
  }
  scn_ctx *c = ctx_new(label, path, opts);
  run_script(c, text, len);
  return finish(c, error);
}

GHashTable *scn_parse_sets(char **sets, GError **error) {
  g_autoptr(GHashTable) set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  for (char **s = sets; s && *s; s++) {
    const char *eq = strchr(*s, '=');
    if (!eq || eq == *s) {
      g_set_error(error, SCN_ERROR, SCN_ERROR_INPUT,
                  "--set '%s': expected name=value, for example --set nested_hosts=4", *s);
      return NULL;
    }
    g_hash_table_replace(set, g_strndup(*s, (gsize)(eq - *s)), g_strdup(eq + 1));
  }
  return g_steal_pointer(&set);
}

topo_scenario *scn_load_file_sets(const char *path, char **sets, GError **error) {
  g_autoptr(GHashTable) set = scn_parse_sets(sets, error);
  if (!set) return NULL;
  scn_options opts = {.set = set};
  return scn_load_file(path, &opts, error);
}
