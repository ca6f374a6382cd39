/*
 * Atomic and durable state files. A state file is written to a temporary
 * name in the same directory and renamed over the old one, so a daemon
 * killed at any instant leaves the old or the new file. A durable write
 * also flushes the file before the rename and the directory after it, so
 * that a power loss leaves the old or the new file too.
 *
 * The directory fsync is a group commit. Per directory, dir fsyncs run one
 * at a time and are numbered as they begin (started) and as they end
 * (done). A writer that has renamed its file needs the fsync numbered
 * started + 1 as it looks, the first one that begins after its rename: it
 * waits until done reaches that number, and runs that fsync itself when
 * none is under way. So while one fsync runs, every writer that renames
 * meanwhile waits for the next one, and one thread runs it for all of them.
 * A removal (undefine) is the same with unlink for rename.
 *
 * Before it begins, the thread that runs a dir fsync waits (at most
 * DIR_SYNC_GATHER_US) while other durable writes into the directory are
 * flushing their file: they rename within about one file fsync, and then
 * share this dir fsync instead of queueing for the next. A writer alone
 * never waits. With 8 concurrent clients (bench_domains.py, under strace)
 * this took the dir fsyncs per define+undefine from 1.03 to 0.70; each is
 * a cache flush, and on a busy machine the kernel's I/O path was most of
 * vrtd's CPU per pair.
 */
#include "util/fileutil.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The longest a dir fsync waits for writers still flushing their file. */
#define DIR_SYNC_GATHER_US (20 * 1000)

typedef struct {
    GCond cond; /* a dir fsync ended */
    guint waiting; /* threads waiting on cond: none, no wake-up (a syscall each) */
    GCond renamed_cond; /* the renames the next fsync gathers are done */
    bool gathering;
    guint64 gather_until; /* renamed count the gathering fsync waits for */
    guint64 started; /* dir fsyncs begun */
    guint64 done; /* the last one ended (they run one at a time) */
    guint64 failed; /* the last one that failed, 0 if none did */
    int failed_errno;
    bool syncing;
    guint writers; /* durable writes between their file's fsync and their rename */
    guint64 renamed; /* durable writes that got past their rename (or failed) */
} DirSync;

/* The directory fsyncs shared by the writers of one owner (a state syncer,
 * a driver): dir path -> DirSync. Never shrinks: an owner writes
 * definitions into a handful of directories. */
struct _VrtDirSync {
    GMutex lock;
    GHashTable *dirs;
    VrtDirSyncHook hook;
    gpointer hook_data;
};

static void
dir_entry_free(gpointer p)
{
    DirSync *d = p;

    g_cond_clear(&d->cond);
    g_cond_clear(&d->renamed_cond);
    g_free(d);
}

VrtDirSync *
vrt_dir_sync_new(void)
{
    VrtDirSync *ds = g_new0(VrtDirSync, 1);

    g_mutex_init(&ds->lock);
    ds->dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, dir_entry_free);
    return ds;
}

void
vrt_dir_sync_free(VrtDirSync *ds)
{
    if (!ds)
        return;
    g_hash_table_unref(ds->dirs);
    g_mutex_clear(&ds->lock);
    g_free(ds);
}

void
vrt_dir_sync_set_hook(VrtDirSync *ds, VrtDirSyncHook hook, gpointer data)
{
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&ds->lock);

        ds->hook = hook;
        ds->hook_data = data;
    }
}

/* 0 or the errno of a failed fsync of dir. A file system that cannot
 * flush a directory (EINVAL) has nothing more to flush. */
static int
dir_fsync(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err = 0;

    if (dfd < 0)
        return errno;
    if (fsync(dfd) < 0 && errno != EINVAL)
        err = errno;
    close(dfd);
    return err;
}

/* The shared state of dir's fsyncs, created on first use. Owner lock held. */
static DirSync *
dir_sync_get_locked(VrtDirSync *owner, const char *dir)
{
    DirSync *ds = g_hash_table_lookup(owner->dirs, dir);

    if (!ds) {
        ds = g_new0(DirSync, 1);
        g_cond_init(&ds->cond);
        g_cond_init(&ds->renamed_cond);
        g_hash_table_insert(owner->dirs, g_strdup(dir), ds);
    }
    return ds;
}

/* Waits while another writer's fsync of ds runs; true, with *gen, when
 * the fsync target needs is this caller's to run (none under way, so
 * started == done == target - 1: it covers every writer waiting for it),
 * false once target is done. Owner lock held (the wait releases it). */
static bool
dir_sync_claim_locked(VrtDirSync *owner, DirSync *ds, guint64 target, guint64 *gen)
{
    while (ds->done < target) {
        if (ds->syncing) {
            ds->waiting++;
            g_cond_wait(&ds->cond, &owner->lock);
            ds->waiting--;
            continue;
        }
        ds->syncing = true;
        /* Not begun yet (started unchanged): writers that rename while this
         * waits for them need this fsync, not the next. It waits for as
         * many renames as writers are flushing now, not for writers that
         * begin meanwhile, so a steady stream of them cannot hold it up. */
        gint64 deadline = g_get_monotonic_time() + DIR_SYNC_GATHER_US;
        guint64 enough = ds->renamed + ds->writers;
        ds->gathering = true;
        ds->gather_until = enough;
        while (ds->writers > 0 && ds->renamed < enough && g_cond_wait_until(&ds->renamed_cond, &owner->lock, deadline))
            ;
        ds->gathering = false;
        *gen = ++ds->started;
        return true;
    }
    return false;
}

/* A durable write into dir begins (+1) or has renamed or failed (-1). */
static void
dir_sync_writer(VrtDirSync *owner, const char *dir, int delta)
{
    DirSync *ds;
    bool wake = false;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&owner->lock);

        ds = dir_sync_get_locked(owner, dir);
        if (delta > 0) {
            ds->writers++;
        } else {
            ds->writers--;
            ds->renamed++;
            /* Only the fsync gathering renames waits for them, and only
             * for the last one it needs: the writers waiting for an fsync
             * to end are not woken for nothing. */
            wake = ds->gathering && (ds->writers == 0 || ds->renamed >= ds->gather_until);
        }
    }
    /* After the unlock, so that the woken thread does not block on the
     * lock at once (DirSync entries are never freed while owner lives). */
    if (wake)
        g_cond_signal(&ds->renamed_cond);
}

/* Records the end of fsync gen (err: its errno, 0 if it worked); true
 * when writers wait for it, to be woken once the owner lock is released.
 * Owner lock held. */
static bool
dir_sync_finish_locked(DirSync *ds, guint64 gen, int err)
{
    ds->syncing = false;
    ds->done = gen;
    if (err) {
        ds->failed = gen;
        ds->failed_errno = err;
    }
    return ds->waiting > 0;
}

/* Returns once an fsync of dir that began after the call has ended; false
 * if it failed (or a later one did, which is reported rather than missed).
 * The fsync itself runs without the owner lock. */
static bool
dir_sync_shared(VrtDirSync *owner, const char *dir, GError **error)
{
    DirSync *ds;
    guint64 target;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&owner->lock);

        ds = dir_sync_get_locked(owner, dir);
        target = ds->started + 1;
    }
    for (;;) {
        VrtDirSyncHook hook;
        gpointer hook_data;
        guint64 gen;
        int err;
        bool wake;

        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&owner->lock);

            if (!dir_sync_claim_locked(owner, ds, target, &gen)) {
                if (ds->failed < target)
                    return true;
                vrt_error_set_errno(error, VIR_ERR_WRITE_FAILED, ds->failed_errno, "cannot flush directory '%s'", dir);
                return false;
            }
            hook = owner->hook;
            hook_data = owner->hook_data;
        }
        if (hook)
            hook(dir, false, hook_data);
        err = dir_fsync(dir);
        if (hook)
            hook(dir, true, hook_data);
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&owner->lock);

            wake = dir_sync_finish_locked(ds, gen, err);
        }
        if (wake)
            g_cond_broadcast(&ds->cond);
    }
}

static bool
write_all(int fd, const char *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        len -= (gsize)n;
    }
    return true;
}

static bool
write_atomic(VrtDirSync *owner, const char *path, const char *data, gssize len, mode_t mode, GError **error)
{
    if (len < 0)
        len = (gssize)strlen(data);
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *tmp = g_strdup_printf("%s.new.XXXXXX", path);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, mode);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_WRITE_FAILED, errno, "cannot create '%s'", tmp);
        return false;
    }
    if (owner)
        dir_sync_writer(owner, dir, +1);
    bool written = fchmod(fd, mode) == 0 && write_all(fd, data, (gsize)len) && (!owner || fsync(fd) == 0);
    int saved = errno;
    if (!written) {
        close(fd);
        unlink(tmp);
        if (owner)
            dir_sync_writer(owner, dir, -1);
        vrt_error_set_errno(error, VIR_ERR_WRITE_FAILED, saved, "cannot write '%s'", path);
        return false;
    }
    bool renamed = close(fd) == 0 && rename(tmp, path) == 0;
    saved = errno;
    if (owner)
        dir_sync_writer(owner, dir, -1);
    if (!renamed) {
        unlink(tmp);
        vrt_error_set_errno(error, VIR_ERR_WRITE_FAILED, saved, "cannot replace '%s'", path);
        return false;
    }
    return !owner || dir_sync_shared(owner, dir, error);
}

bool
vrt_file_write_atomic(const char *path, const char *data, gssize len, mode_t mode, GError **error)
{
    return write_atomic(NULL, path, data, len, mode, error);
}

bool
vrt_file_write_durable(VrtDirSync *ds, const char *path, const char *data, gssize len, mode_t mode, GError **error)
{
    return write_atomic(ds, path, data, len, mode, error);
}

bool
vrt_file_remove_durable(VrtDirSync *ds, const char *path, GError **error)
{
    g_autofree char *dir = NULL;

    if (unlink(path) < 0) {
        if (errno == ENOENT)
            return true;
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot remove '%s'", path);
        return false;
    }
    dir = g_path_get_dirname(path);
    return dir_sync_shared(ds, dir, error);
}

void
vrt_dir_sync(const char *dir)
{
    (void)dir_fsync(dir);
}

bool
vrt_file_read(const char *path, char **contents, gsize *len, GError **error)
{
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(path, contents, len, &local)) {
        int code = g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? VIR_ERR_OPEN_FAILED : VIR_ERR_READ_FAILED;
        vrt_error_set(error, code, "%s", local->message);
        return false;
    }
    return true;
}

bool
vrt_dir_ensure(const char *path, mode_t mode, GError **error)
{
    if (g_mkdir_with_parents(path, (int)mode) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot create directory '%s'", path);
        return false;
    }
    return true;
}

bool
vrt_file_remove(const char *path, GError **error)
{
    if (unlink(path) < 0 && errno != ENOENT) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot remove '%s'", path);
        return false;
    }
    return true;
}
