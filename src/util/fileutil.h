/*
 * Files as state: atomic replacement (temp file, fsync, rename, fsync of the
 * directory), whole-file reads and directory creation, with errors that name
 * the path.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* Replaces path with data[0..len) so that a reader (or a crash) sees either
 * the old or the new content, never a mix. */
bool vrt_file_write_atomic(const char *path, const char *data, gssize len, mode_t mode, GError **error);

/* Reads a whole file; *contents is NUL-terminated. */
bool vrt_file_read(const char *path, char **contents, gsize *len, GError **error);

/* mkdir -p with mode for created directories. */
bool vrt_dir_ensure(const char *path, mode_t mode, GError **error);

/* Removes path; a missing file is not an error. */
bool vrt_file_remove(const char *path, GError **error);
