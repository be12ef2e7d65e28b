/* scn.h — the scenario loader: runs a Lua 5.4 scenario file in a sandbox and returns the
 * topology its constructor calls built, or every mistake it found, each as
 * "file:line: kind 'name': invalid 'key': expected ..., got ...". */
#ifndef NESTSIM_SRC_SCN_H
#define NESTSIM_SRC_SCN_H

#include <glib.h>
#include "src/topo.h"

#define SCN_ERROR (scn_error_quark())
GQuark scn_error_quark(void);
typedef enum {
  SCN_ERROR_INPUT,   /* the scenario (or a --set) is wrong: exit status 2 */
  SCN_ERROR_LIMIT,   /* the script ran too long or used too much memory: exit status 2 */
} scn_error_code;

typedef struct scn_options {
  /* Overrides from the command line, name -> value text; read by param() in the scenario.
   * An override that no param() call read is an error. May be NULL. */
  GHashTable *set;
  /* 0: defaults (see scn.c). */
  guint64 max_instructions;
  gsize max_memory_bytes;
} scn_options;

/* Parses --set NAME=VALUE texts (NULL-terminated, may be NULL) into a name -> value table for
 * scn_options.set. Returns NULL with *error naming the malformed one. */
GHashTable *scn_parse_sets(char **sets, GError **error); /* transfer full */

/* scn_load_file with the overrides given as --set texts: what every command that takes a
 * scenario and --set does. */
topo_scenario *scn_load_file_sets(const char *path, char **sets, GError **error); /* transfer full */

/* Loads the scenario at `path`. On failure returns NULL and sets *error to all the messages,
 * one per line. */
topo_scenario *scn_load_file(const char *path, const scn_options *opts, GError **error); /* transfer full */

/* The same from text in memory; `chunkname` is what messages call the file. */
topo_scenario *scn_load_string(const char *chunkname, const char *text, gsize len,
                               const scn_options *opts, GError **error); /* transfer full */

/* issue 8: the scenario API as data, for the editor annotations and their test. The names of
 * the API's functions (every constructor, and param), then of the nested tables whose keys are
 * checked ("host.cpu", "scenario.network"), NULL-terminated. transfer container: g_free the
 * array, not the strings. */
const char **scn_api_names(void);

/* The keys the table of `name` (a name from scn_api_names) accepts, NULL-terminated: the very
 * lists the loader validates against. An empty list for param (it takes no table); NULL for a
 * name that is not in the API. transfer none */
const char *const *scn_api_keys(const char *name);

#endif
