/*
 * Files as state: atomic replacement (temp file, rename; durable or
 * volatile), whole-file reads and directory creation, with errors that name
 * the path. statesync.h batches the flushes of durable files.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* Replaces path with data[0..len) so that a reader, a killed daemon or a
 * power loss sees either the old or the new content, never a mix (fsync of
 * the file and of its directory). */
bool vrt_file_write_atomic(const char *path, const char *data, gssize len, mode_t mode, GError **error);

/* The same without flushing to disk: old or new for readers and a killed
 * daemon only. For statesync.h, which flushes such files later. */
bool vrt_file_write_volatile(const char *path, const char *data, gssize len, mode_t mode, GError **error);

/* fsync of a directory (its entries); errors are ignored. */
void vrt_dir_sync(const char *dir);

/* Reads a whole file; *contents is NUL-terminated. */
bool vrt_file_read(const char *path, char **contents, gsize *len, GError **error);

/* mkdir -p with mode for created directories. */
bool vrt_dir_ensure(const char *path, mode_t mode, GError **error);

/* Removes path; a missing file is not an error. */
bool vrt_file_remove(const char *path, GError **error);
