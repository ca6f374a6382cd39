/*
 * Durable state files with batched flushes: see statesync.h.
 *
 * A path is "durable" when its current content is on disk: it is neither
 * pending (written since the last flush began) nor being flushed. Only
 * then may a write make the current content its .prev; a write to a path
 * being flushed waits for that flush, and a write to a pending path keeps
 * the .prev it has (the version on disk), or none for a new file.
 */
#include "util/statesync.h"
#include "util/error.h"
#include "util/fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

struct _VrtStateSync {
    guint delay_ms;
    GMutex lock;
    GCond cond;
    GHashTable *pending; /* path -> whether a flushed version was replaced or removed
                           * since the last flush began (else the file is new) */
    GHashTable *flushing; /* path -> NULL: taken by the flush under way */
    gint64 first_pending; /* monotonic time of the oldest pending write */
    guint64 flushes; /* flushes completed */
    bool flush_now;
    bool stopping;
    GThread *thread;
    VrtDirSync *dir_sync; /* the directory fsyncs of writes flushed in the call */
};

char *
vrt_state_sync_prev_path(const char *path)
{
    return g_strconcat(path, ".prev", NULL);
}

/* Whether path is on disk as last written: neither pending nor being
 * flushed. s->lock held. */
static bool
durable_locked(VrtStateSync *s, const char *path)
{
    return !g_hash_table_contains(s->pending, path) && !g_hash_table_contains(s->flushing, path);
}

/* Enters path in the next flush. s->lock held. */
static void
mark_pending_locked(VrtStateSync *s, const char *path, bool replaced_flushed)
{
    gpointer old = NULL;

    if (g_hash_table_size(s->pending) == 0) {
        s->first_pending = g_get_monotonic_time();
        g_cond_broadcast(&s->cond);
    }
    if (g_hash_table_lookup_extended(s->pending, path, NULL, &old))
        replaced_flushed = replaced_flushed || GPOINTER_TO_INT(old);
    g_hash_table_insert(s->pending, g_strdup(path), GINT_TO_POINTER(replaced_flushed));
}

static void
flush_paths(GHashTable *paths)
{
    g_autoptr(GHashTable) dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, paths);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const char *path = key;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd >= 0) {
            if (fsync(fd) < 0)
                g_warning("cannot flush '%s': %s", path, g_strerror(errno));
            close(fd);
        } else if (errno != ENOENT) {
            g_warning("cannot open '%s' to flush it: %s", path, g_strerror(errno));
        }
        g_hash_table_add(dirs, g_path_get_dirname(path));
    }
    g_hash_table_iter_init(&it, dirs);
    while (g_hash_table_iter_next(&it, &key, NULL))
        vrt_dir_sync(key);
}

/* Waits for files to flush (at most delay_ms after the first) or for a
 * flush or stop request, and takes the pending files: the set to flush
 * (now s->flushing), or NULL when there were none, the round then counted
 * as done. s->lock held (the waits release it). */
static GHashTable *
flusher_take_locked(VrtStateSync *s)
{
    GHashTable *taken;

    while (!s->stopping && !s->flush_now && g_hash_table_size(s->pending) == 0)
        g_cond_wait(&s->cond, &s->lock);
    while (!s->stopping && !s->flush_now && g_hash_table_size(s->pending) > 0 &&
           g_cond_wait_until(&s->cond, &s->lock, s->first_pending + (gint64)s->delay_ms * 1000))
        ;
    s->flush_now = false;
    if (g_hash_table_size(s->pending) == 0) {
        s->flushes++;
        g_cond_broadcast(&s->cond);
        return NULL;
    }
    taken = s->pending;
    s->pending = s->flushing;
    s->flushing = taken;
    return taken;
}

/* Ends a round that flushed taken: a file not written again since has no
 * use for its .prev. s->lock held. */
static void
flusher_done_locked(VrtStateSync *s, GHashTable *taken)
{
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, taken);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!g_hash_table_contains(s->pending, key)) {
            g_autofree char *prev = vrt_state_sync_prev_path(key);
            unlink(prev);
        }
    }
    g_hash_table_remove_all(taken);
    s->flushes++;
    g_cond_broadcast(&s->cond);
}

static gpointer
flusher(gpointer data)
{
    VrtStateSync *s = data;

    for (;;) {
        GHashTable *taken;

        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);

            taken = flusher_take_locked(s);
            if (!taken && s->stopping && g_hash_table_size(s->pending) == 0)
                return NULL;
        }
        if (!taken)
            continue;
        /* The fsyncs, without the lock: writers go on meanwhile. */
        flush_paths(taken);
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);

            flusher_done_locked(s, taken);
            if (s->stopping && g_hash_table_size(s->pending) == 0)
                return NULL;
        }
    }
}

VrtStateSync *
vrt_state_sync_new(guint delay_ms)
{
    VrtStateSync *s = g_new0(VrtStateSync, 1);

    s->delay_ms = delay_ms;
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
    s->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->flushing = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->dir_sync = vrt_dir_sync_new();
    if (delay_ms > 0)
        s->thread = g_thread_new("vrt-statesync", flusher, s);
    return s;
}

void
vrt_state_sync_free(VrtStateSync *s)
{
    if (!s)
        return;
    if (s->thread) {
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);

            s->stopping = true;
            g_cond_broadcast(&s->cond);
        }
        g_thread_join(s->thread);
    }
    g_hash_table_unref(s->pending);
    g_hash_table_unref(s->flushing);
    vrt_dir_sync_free(s->dir_sync);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->cond);
    g_free(s);
}

bool
vrt_state_sync_write(VrtStateSync *s, const char *path, const char *data, gssize len, mode_t mode, GError **error)
{
    g_autofree char *prev = NULL;
    bool ok;

    if (!s->thread)
        return vrt_file_write_durable(s->dir_sync, path, data, len, mode, error);
    prev = vrt_state_sync_prev_path(path);
    bool replaced_flushed = false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);

        /* Being flushed: once that is done the content on disk is known. */
        while (g_hash_table_contains(s->flushing, path) && !g_hash_table_contains(s->pending, path))
            g_cond_wait(&s->cond, &s->lock);
        if (durable_locked(s, path)) {
            /* The content on disk becomes the fallback until this write is
             * (ENOENT: a new file has none). A durable file has no .prev left
             * (the flusher or the loader removed it) unless removing it failed. */
            int rc = link(path, prev);

            if (rc < 0 && errno == EEXIST && unlink(prev) == 0)
                rc = link(path, prev);
            if (rc < 0 && errno != ENOENT) {
                vrt_error_set_errno(error, VIR_ERR_WRITE_FAILED, errno, "cannot keep '%s' as '%s'", path, prev);
                return false;
            }
            replaced_flushed = rc == 0;
        }
        ok = vrt_file_write_atomic(path, data, len, mode, error);
        if (ok)
            mark_pending_locked(s, path, replaced_flushed);
    }
    return ok;
}

bool
vrt_state_sync_remove(VrtStateSync *s, const char *path, GError **error)
{
    g_autofree char *prev = vrt_state_sync_prev_path(path);
    bool ok;

    if (!s->thread) {
        unlink(prev);
        return vrt_file_remove_durable(s->dir_sync, path, error);
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);

        gpointer replaced_flushed = NULL;
        bool created_since_flush = g_hash_table_lookup_extended(s->pending, path, NULL, &replaced_flushed) &&
                                   !GPOINTER_TO_INT(replaced_flushed) && !g_hash_table_contains(s->flushing, path);

        /* The fallback first: a .prev without its file is never left behind.
         * Only a file written since the last flush has one. */
        if (!durable_locked(s, path))
            unlink(prev);
        ok = vrt_file_remove(path, error);
        if (ok && created_since_flush)
            g_hash_table_remove(s->pending, path); /* never on disk: nothing to flush */
        else if (ok)
            mark_pending_locked(s, path, true); /* a flushed file's removal is flushed too */
    }
    return ok;
}

void
vrt_state_sync_flush(VrtStateSync *s)
{
    guint64 target;

    if (!s->thread)
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);

        /* A flush that began before the call may miss writes made after it
         * took its set: wait for one that begins now. */
        target = s->flushes + (g_hash_table_size(s->flushing) > 0 ? 2 : 1);
        s->flush_now = true;
        g_cond_broadcast(&s->cond);
        while (s->flushes < target)
            g_cond_wait(&s->cond, &s->lock);
    }
}

bool
vrt_state_sync_recover(const char *path, bool (*usable)(const char *path, gpointer data), gpointer data)
{
    g_autofree char *prev = vrt_state_sync_prev_path(path);

    if (!g_file_test(prev, G_FILE_TEST_EXISTS))
        return g_file_test(path, G_FILE_TEST_EXISTS);
    if (g_file_test(path, G_FILE_TEST_EXISTS) && usable(path, data)) {
        unlink(prev);
        return true;
    }
    g_warning("'%s' is missing or incomplete (a power loss before it was flushed); using its previous version", path);
    if (rename(prev, path) < 0) {
        g_warning("cannot restore '%s' from '%s': %s", path, prev, g_strerror(errno));
        return false;
    }
    return true;
}
