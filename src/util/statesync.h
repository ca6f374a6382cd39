/*
 * Durable state files with batched flushes.
 *
 * A write replaces the file at once (temporary file + rename), so readers
 * and a daemon killed at any moment see the old or the new content. The
 * flush to disk (fsync of the file and its directory) is done by a
 * background thread at most delay_ms later, for all files written meanwhile.
 * Until then the last flushed version is kept beside the file as
 * "<path>.prev" (a hard link), so that after a power loss the loader finds
 * either a complete new file or, with vrt_state_sync_recover(), the previous
 * complete one: a definition changed in the last delay_ms may go back to
 * its earlier version or, for a new one, be missing; it is never half
 * written. delay_ms 0 flushes in the call instead (vrt_file_write_durable,
 * vrt_file_remove_durable: shared directory fsyncs).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct _VrtStateSync VrtStateSync;

VrtStateSync *vrt_state_sync_new(guint delay_ms);
/* Flushes what is pending, then stops the thread. */
void vrt_state_sync_free(VrtStateSync *s);

bool vrt_state_sync_write(VrtStateSync *s, const char *path, const char *data, gssize len, mode_t mode, GError **error);
/* Removes path (and its .prev); a missing file is not an error. */
bool vrt_state_sync_remove(VrtStateSync *s, const char *path, GError **error);
/* Returns once every write and removal made before the call is on disk. */
void vrt_state_sync_flush(VrtStateSync *s);

/* "<path>.prev" */
char *vrt_state_sync_prev_path(const char *path);

/* For the loader, once per file at start-up, before any write: when
 * "<path>.prev" exists, keeps path if usable(path) says it is complete and
 * otherwise puts the previous version back. True when path (old or new) is
 * there to load. */
bool vrt_state_sync_recover(const char *path, bool (*usable)(const char *path, gpointer data), gpointer data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtStateSync, vrt_state_sync_free)
