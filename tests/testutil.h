/* testutil.h — scratch folders for the tests that write files (cli, out, plot, sweep): one
 * copy of the helpers, static inline so that a test using only one of them compiles cleanly. */
#ifndef NESTSIM_TESTS_TESTUTIL_H
#define NESTSIM_TESTS_TESTUTIL_H

#include <glib.h>
#include <glib/gstdio.h>

/* A new empty folder under the temporary directory, named after `tmpl` (which ends in
 * "XXXXXX"). transfer full */
static inline char *tu_scratch(const char *tmpl) {
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp(tmpl, &error);
  g_assert_no_error(error);
  return dir;
}

/* Removes a file, or a folder and everything below it (symbolic links are removed, never
 * followed). */
static inline void tu_rm_rf(const char *path) {
  if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    for (const char *n; d && (n = g_dir_read_name(d));) {
      g_autofree char *child = g_build_filename(path, n, NULL);
      tu_rm_rf(child);
    }
    g_rmdir(path);
  } else {
    g_unlink(path);
  }
}

#endif
