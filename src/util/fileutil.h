/*
 * Files as state: atomic replacement (temp file, rename), durable
 * replacement and removal for definitions, whole-file reads and directory
 * creation, with errors that name the path. statesync.h batches the flushes
 * of definitions when config_sync_ms asks for it.
 *
 * Which write a caller uses is the rule of docs/architecture.md, "State on
 * disk": run state (<root>/run/...: status files, journals, network run
 * state, caches) is atomic only, since it describes processes that do not
 * outlive a reboot and a killed daemon loses nothing the page cache holds;
 * definitions (<root>/etc/...) are durable before the call returns.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* Replaces path with data[0..len) so that a reader or a killed daemon sees
 * either the old or the new content, never a mix. Not flushed to disk: for
 * run state. */
bool vrt_file_write_atomic(const char *path, const char *data, gssize len, mode_t mode, GError **error);

/* The directory fsyncs that concurrent durable writers share (group
 * commit), one per owner: a state syncer, a driver. */
typedef struct _VrtDirSync VrtDirSync;
VrtDirSync *vrt_dir_sync_new(void);
void vrt_dir_sync_free(VrtDirSync *ds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDirSync, vrt_dir_sync_free)

/* The same, and on disk before it returns, so that a power loss leaves the
 * old or the new content too: fsync of the file, rename, fsync of the
 * directory. The directory fsync is shared (group commit): concurrent
 * writers and removers in one directory wait for one fsync of it that
 * began after their rename. For definitions. When that directory fsync
 * fails the new file is in place, but may not survive a power loss: the
 * error says the directory could not be flushed. */
bool vrt_file_write_durable(VrtDirSync *ds, const char *path, const char *data, gssize len, mode_t mode,
                            GError **error);

/* Removes path and returns once its removal is on disk (the shared
 * directory fsync above). A missing file is not an error and costs no
 * fsync. For definitions. */
bool vrt_file_remove_durable(VrtDirSync *ds, const char *path, GError **error);

/* fsync of a directory (its entries); errors are ignored. */
void vrt_dir_sync(const char *dir);

/* For tests: called by the thread that is about to fsync dir for the
 * writers sharing it (after = false) and once that fsync has returned
 * (after = true). NULL removes it. */
typedef void (*VrtDirSyncHook)(const char *dir, bool after, gpointer data);
void vrt_dir_sync_set_hook(VrtDirSync *ds, VrtDirSyncHook hook, gpointer data);

/* Reads a whole file; *contents is NUL-terminated. */
bool vrt_file_read(const char *path, char **contents, gsize *len, GError **error);

/* mkdir -p with mode for created directories. */
bool vrt_dir_ensure(const char *path, mode_t mode, GError **error);

/* Removes path; a missing file is not an error. Not flushed to disk. */
bool vrt_file_remove(const char *path, GError **error);
