/* testutil.h — what several tests share: scratch folders, small files, and running the nestsim
 * program (sweep, fit, explain): one copy of the helpers, static inline so that a test using
 * only some of them compiles cleanly. */
#ifndef NESTSIM_TESTS_TESTUTIL_H
#define NESTSIM_TESTS_TESTUTIL_H

#include <glib.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <sys/wait.h>

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

/* Writes `text` to dir/name; returns the path (transfer full). */
static inline char *tu_write_in(const char *dir, const char *name, const char *text) {
  char *path = g_build_filename(dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_file_set_contents(path, text, -1, &error);
  g_assert_no_error(error);
  return path;
}

/* The text of dir/name (transfer full). */
static inline char *tu_read_in(const char *dir, const char *name) {
  g_autofree char *path = g_build_filename(dir, name, NULL);
  char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_file_get_contents(path, &text, NULL, &error);
  g_assert_no_error(error);
  return text;
}

/* What a program printed and how it exited (it must exit, not be killed). */
typedef struct tu_result {
  int status;
  char *out, *err;
} tu_result;

static inline void tu_result_clear(tu_result *r) {
  g_free(r->out);
  g_free(r->err);
}

/* Runs `bin` [`command`] `first` ... (the arguments end at NULL) in the current folder and
 * waits for it. `command` may be NULL. */
static inline tu_result tu_run_va(const char *bin, const char *command, const char *first,
                                  va_list ap) {
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (char *)bin);
  if (command) g_ptr_array_add(argv, (char *)command);
  for (const char *a = first; a; a = va_arg(ap, const char *)) g_ptr_array_add(argv, (char *)a);
  g_ptr_array_add(argv, NULL);
  tu_result r = {0};
  int ws = 0;
  g_autoptr(GError) error = NULL;
  g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r.out, &r.err, &ws,
               &error);
  g_assert_no_error(error);
  g_assert_true(WIFEXITED(ws));
  r.status = WEXITSTATUS(ws);
  return r;
}

#endif
