/*
 * The storage driver (see storage_driver.h): dir pools and their file
 * volumes, with libvirt 9.0's checks, error codes and messages
 * (storage_driver.c, storage_backend_fs.c, storage_util.c).
 *
 * Locks: drv->op_lock serializes the pool operations (define, undefine,
 * create, build, start, destroy, delete, refresh, autostart) across their
 * I/O (directory changes, scans, definition writes and fsyncs); drv->lock
 * guards the pool table and every pool and volume field and is held only
 * for memory work, never across I/O or qemu-img. op_lock < lock.
 * A volume operation (create, clone, delete, wipe, resize) does not take
 * op_lock: it counts as one of its pool's asynchronous jobs while its I/O
 * runs, which a pool operation that would pull the files away (destroy,
 * refresh, delete, undefine) refuses as libvirt does; a volume being built
 * is marked so, and its deletion or use is refused meanwhile.
 */
#include "drivers/storage/storage_driver.h"
#include "conf/storage/storage_conf.h"
#include "util/error.h"
#include "util/fileutil.h"
#include "util/uuid.h"
#include "util/xml.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define STORAGE_DIR_MODE 0755
#define STORAGE_FILE_MODE 0600
/* libvirt's VIR_STORAGE_DEFAULT_POOL_PERM_MODE and _VOL_PERM_MODE */
#define DEFAULT_POOL_MODE 0711
#define DEFAULT_VOL_MODE 0600

typedef struct {
    VrtStorageVolDef *def;
    bool building; /* its file is being made: not usable, not deletable */
    int in_use; /* a wipe, resize or clone reads or writes it */
} Vol;

typedef struct {
    VrtStoragePoolDef *def; /* persistent definition; NULL: transient */
    VrtStoragePoolDef *live; /* NULL: inactive */
    bool autostart;
    int asyncjobs;
    GPtrArray *vols; /* Vol*, sorted by name; empty when inactive */
} Pool;

struct _VrtStorageDriver {
    GMutex op_lock;
    GMutex lock;
    char *config_dir;
    char *autostart_dir;
    char *state_dir;
    char *qemu_img;
    VrtDirSync *dir_sync;
    GHashTable *pools; /* name -> Pool* */
    VrtStoragePoolEventFunc event;
    gpointer event_data;
};

static void
vol_free(gpointer p)
{
    Vol *v = p;
    vrt_storage_vol_def_free(v->def);
    g_free(v);
}

static void
pool_free(gpointer p)
{
    Pool *pool = p;
    vrt_storage_pool_def_free(pool->def);
    vrt_storage_pool_def_free(pool->live);
    g_ptr_array_unref(pool->vols);
    g_free(pool);
}

static Pool *
pool_new(void)
{
    Pool *pool = g_new0(Pool, 1);
    pool->vols = g_ptr_array_new_with_free_func(vol_free);
    return pool;
}

static const VrtStoragePoolDef *
pool_def(const Pool *pool)
{
    return pool->live ? pool->live : pool->def;
}

void
vrt_storage_pool_ref_free(VrtStoragePoolRef *ref)
{
    if (!ref)
        return;
    g_free(ref->name);
    g_free(ref);
}

void
vrt_storage_vol_ref_free(VrtStorageVolRef *ref)
{
    if (!ref)
        return;
    g_free(ref->pool);
    g_free(ref->name);
    g_free(ref->key);
    g_free(ref);
}

static VrtStoragePoolRef *
pool_ref(const Pool *pool)
{
    VrtStoragePoolRef *ref = g_new0(VrtStoragePoolRef, 1);
    ref->name = g_strdup(pool_def(pool)->name);
    memcpy(ref->uuid, pool_def(pool)->uuid, 16);
    return ref;
}

static VrtStorageVolRef *
vol_ref(const Pool *pool, const Vol *vol)
{
    VrtStorageVolRef *ref = g_new0(VrtStorageVolRef, 1);
    ref->pool = g_strdup(pool_def(pool)->name);
    ref->name = g_strdup(vol->def->name);
    ref->key = g_strdup(vol->def->key);
    return ref;
}

static void
emit(VrtStorageDriver *drv, const char *name, const guint8 uuid[16], int event)
{
    if (drv->event)
        drv->event(name, uuid, event, 0, drv->event_data);
}

/* ---- paths ---- */

static char *
config_path(VrtStorageDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(drv->config_dir, file, NULL);
}

static char *
autostart_path(VrtStorageDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(drv->autostart_dir, file, NULL);
}

static char *
state_path(VrtStorageDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(drv->state_dir, file, NULL);
}

/* ---- lookups (drv->lock held) ---- */

static Pool *
find_uuid_locked(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->pools);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Pool *pool = value;
        if (memcmp(pool_def(pool)->uuid, uuid, 16) == 0)
            return pool;
    }
    char uuidstr[VRT_UUID_STRING_LEN];
    vrt_uuid_format(uuid, uuidstr);
    if (name)
        vrt_error_set(error, VIR_ERR_NO_STORAGE_POOL, "no storage pool with matching uuid '%s' (%s)", uuidstr, name);
    else
        vrt_error_set(error, VIR_ERR_NO_STORAGE_POOL, "no storage pool with matching uuid '%s'", uuidstr);
    return NULL;
}

static Pool *
find_name_locked(VrtStorageDriver *drv, const char *name, GError **error)
{
    Pool *pool = g_hash_table_lookup(drv->pools, name);
    if (!pool)
        vrt_error_set(error, VIR_ERR_NO_STORAGE_POOL, "no storage pool with matching name '%s'", name);
    return pool;
}

static bool
check_active(const Pool *pool, GError **error)
{
    if (!pool->live) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "storage pool '%s' is not active", pool_def(pool)->name);
        return false;
    }
    return true;
}

static bool
check_no_jobs(const Pool *pool, GError **error)
{
    if (pool->asyncjobs > 0) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "pool '%s' has asynchronous jobs running.", pool_def(pool)->name);
        return false;
    }
    return true;
}

static Vol *
find_vol_locked(Pool *pool, const char *name)
{
    for (guint i = 0; i < pool->vols->len; i++) {
        Vol *v = g_ptr_array_index(pool->vols, i);
        if (strcmp(v->def->name, name) == 0)
            return v;
    }
    return NULL;
}

/* The active pool named pool and its volume name (libvirt's
 * virStorageVolDefFromVol). */
static Vol *
find_pool_vol_locked(VrtStorageDriver *drv, const char *pool_name, const char *name, Pool **pool_out, GError **error)
{
    Pool *pool = find_name_locked(drv, pool_name, error);
    if (!pool || !check_active(pool, error))
        return NULL;
    Vol *vol = find_vol_locked(pool, name);
    if (!vol) {
        vrt_error_set(error, VIR_ERR_NO_STORAGE_VOL, "no storage vol with matching name '%s'", name);
        return NULL;
    }
    if (pool_out)
        *pool_out = pool;
    return vol;
}

static gint
vol_cmp(gconstpointer a, gconstpointer b)
{
    const Vol *x = *(Vol *const *)a, *y = *(Vol *const *)b;
    return strcmp(x->def->name, y->def->name);
}

/* ---- what a file is: probing (no lock) ---- */

static guint64
be64(const guint8 *p)
{
    guint64 v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static guint32
be32(const guint8 *p)
{
    return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static void
stat_time(VrtStorageTime *t, const struct timespec *ts)
{
    t->sec = ts->tv_sec;
    t->nsec = ts->tv_nsec;
}

/* Fills def's target facts from the file at def->target.path, as libvirt's
 * refresh does: size and blocks, permissions and timestamps from stat,
 * format, virtual size, backing file, compat and cluster size from a qcow2
 * header (qcow2 is recognized by its magic, anything else is raw).
 * Returns false with errno set when the file cannot be read; ENOTSUP for
 * what is not a regular file. */
static bool
probe_file(VrtStorageVolDef *def)
{
    int fd = open(def->target.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        errno = ENOTSUP;
        return false;
    }
    guint8 hdr[104] = { 0 };
    ssize_t n = pread(fd, hdr, sizeof(hdr), 0);
    def->allocation = (guint64)st.st_blocks * 512;
    def->physical = st.st_size;
    def->capacity = st.st_size;
    def->target.perms.mode = st.st_mode & 07777;
    def->target.perms.uid = st.st_uid;
    def->target.perms.gid = st.st_gid;
    def->target.has_times = true;
    stat_time(&def->target.atime, &st.st_atim);
    stat_time(&def->target.mtime, &st.st_mtim);
    stat_time(&def->target.ctime, &st.st_ctim);
    g_clear_pointer(&def->target.format, g_free);
    g_clear_pointer(&def->compat, g_free);
    vrt_storage_vol_target_free(g_steal_pointer(&def->backing));
    def->cluster_size = 0;
    def->has_features = def->lazy_refcounts = false;
    guint32 version = n >= 72 ? be32(hdr + 4) : 0;
    if (n >= 72 && memcmp(hdr, "QFI\xfb", 4) == 0 && (version == 2 || version == 3)) {
        def->target.format = g_strdup("qcow2");
        def->capacity = be64(hdr + 24);
        guint32 cluster_bits = be32(hdr + 20);
        if (cluster_bits >= 9 && cluster_bits <= 21)
            def->cluster_size = 1ull << cluster_bits;
        def->compat = g_strdup(version == 2 ? "0.10" : "1.1");
        if (version == 3 && n >= 104) {
            def->has_features = true;
            def->lazy_refcounts = (be64(hdr + 80) & 1) != 0;
        }
        guint64 boff = be64(hdr + 8);
        guint32 blen = be32(hdr + 16);
        if (boff && blen && blen < 4096) {
            g_autofree char *bpath = g_malloc0(blen + 1);
            if (pread(fd, bpath, blen, boff) == (ssize_t)blen) {
                def->backing = g_new0(VrtStorageVolTarget, 1);
                def->backing->perms.mode = def->backing->perms.uid = def->backing->perms.gid = -1;
                /* a relative backing file is relative to the image's directory */
                if (bpath[0] != '/') {
                    g_autofree char *dir = g_path_get_dirname(def->target.path);
                    def->backing->path = g_build_filename(dir, bpath, NULL);
                } else {
                    def->backing->path = g_strdup(bpath);
                }
                /* the backing format: header extension 0xE2792ACA */
                guint64 ext = version == 3 && n >= 104 ? be32(hdr + 100) : 72;
                char *bfmt = NULL;
                for (int i = 0; i < 64 && ext + 8 <= 65536; i++) {
                    guint8 eh[8];
                    if (pread(fd, eh, 8, ext) != 8)
                        break;
                    guint32 type = be32(eh), len = be32(eh + 4);
                    if (type == 0)
                        break;
                    if (type == 0xE2792ACA && len < 64) {
                        bfmt = g_malloc0(len + 1);
                        if (pread(fd, bfmt, len, ext + 8) != (ssize_t)len)
                            g_clear_pointer(&bfmt, g_free);
                        break;
                    }
                    ext += 8 + ((len + 7) & ~7u);
                }
                def->backing->format = bfmt ? bfmt : g_strdup("raw");
                struct stat bst;
                if (stat(def->backing->path, &bst) == 0) {
                    def->backing->perms.mode = bst.st_mode & 07777;
                    def->backing->perms.uid = bst.st_uid;
                    def->backing->perms.gid = bst.st_gid;
                    def->backing->has_times = true;
                    stat_time(&def->backing->atime, &bst.st_atim);
                    stat_time(&def->backing->mtime, &bst.st_mtim);
                    stat_time(&def->backing->ctime, &bst.st_ctim);
                }
            }
        }
    } else if (n >= 4 && memcmp(hdr, "QFI\xfb", 4) == 0) {
        def->target.format = g_strdup("qcow");
    } else {
        def->target.format = g_strdup("raw");
    }
    close(fd);
    return true;
}

/* statvfs of a pool's target into its live figures. */
static void
probe_fs(VrtStoragePoolDef *live)
{
    struct statvfs sv;
    if (statvfs(live->target_path, &sv) < 0)
        return;
    /* as libvirt: blocks free to root count as available */
    live->capacity = (guint64)sv.f_frsize * sv.f_blocks;
    live->available = (guint64)sv.f_frsize * sv.f_bfree;
    live->allocation = live->capacity - live->available;
}

/* Scans a pool's directory (no lock): its regular files become volumes;
 * the directory's own mode and owner become the live permissions. */
static bool
scan_pool(VrtStoragePoolDef *live, GPtrArray **vols_out, GError **error)
{
    DIR *dir = opendir(live->target_path);
    if (!dir) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open directory '%s'", live->target_path);
        return false;
    }
    GPtrArray *vols = g_ptr_array_new_with_free_func(vol_free);
    struct dirent *ent;
    while ((ent = readdir(dir))) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        g_autoptr(VrtStorageVolDef) def = g_new0(VrtStorageVolDef, 1);
        def->name = g_strdup(ent->d_name);
        def->target.path = g_build_filename(live->target_path, ent->d_name, NULL);
        def->key = g_strdup(def->target.path);
        if (!probe_file(def))
            continue; /* not a file, or gone meanwhile: not a volume */
        Vol *v = g_new0(Vol, 1);
        v->def = g_steal_pointer(&def);
        g_ptr_array_add(vols, v);
    }
    closedir(dir);
    g_ptr_array_sort(vols, vol_cmp);
    struct stat st;
    if (stat(live->target_path, &st) == 0) {
        live->perms.mode = st.st_mode & 07777;
        live->perms.uid = st.st_uid;
        live->perms.gid = st.st_gid;
    }
    probe_fs(live);
    *vols_out = vols;
    return true;
}

/* ---- state files ---- */

static bool
write_config(VrtStorageDriver *drv, const VrtStoragePoolDef *def, GError **error)
{
    g_autofree char *xml = vrt_storage_pool_def_format(def);
    g_autofree char *path = config_path(drv, def->name);
    return vrt_dir_ensure(drv->config_dir, STORAGE_DIR_MODE, error) &&
           vrt_file_write_durable(drv->dir_sync, path, xml, -1, STORAGE_FILE_MODE, error);
}

static bool
write_state(VrtStorageDriver *drv, const VrtStoragePoolDef *live, GError **error)
{
    g_autofree char *xml = vrt_storage_pool_def_format(live);
    g_autofree char *path = state_path(drv, live->name);
    return vrt_dir_ensure(drv->state_dir, STORAGE_DIR_MODE, error) &&
           vrt_file_write_atomic(path, xml, -1, STORAGE_FILE_MODE, error);
}

static void
remove_state(VrtStorageDriver *drv, const char *name)
{
    g_autofree char *path = state_path(drv, name);
    g_autoptr(GError) err = NULL;
    if (!vrt_file_remove(path, &err))
        g_warning("%s", err->message);
}

/* ---- driver ---- */

VrtStorageDriver *
vrt_storage_driver_new(const char *root, const char *qemu_img, VrtStoragePoolEventFunc event, gpointer data,
                       GError **error)
{
    VrtStorageDriver *drv = g_new0(VrtStorageDriver, 1);
    g_mutex_init(&drv->op_lock);
    g_mutex_init(&drv->lock);
    drv->config_dir = g_build_filename(root ? root : "", "/etc/vrt/storage", NULL);
    drv->autostart_dir = g_build_filename(drv->config_dir, "autostart", NULL);
    drv->state_dir = g_build_filename(root ? root : "", "/run/vrt/storage", NULL);
    drv->qemu_img = qemu_img ? g_strdup(qemu_img) : g_find_program_in_path("qemu-img");
    drv->dir_sync = vrt_dir_sync_new();
    drv->pools = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, pool_free);
    drv->event = event;
    drv->event_data = data;
    if (!vrt_dir_ensure(drv->state_dir, STORAGE_DIR_MODE, error)) {
        vrt_storage_driver_free(drv);
        return NULL;
    }
    return drv;
}

void
vrt_storage_driver_free(VrtStorageDriver *drv)
{
    if (!drv)
        return;
    g_hash_table_destroy(drv->pools);
    vrt_dir_sync_free(drv->dir_sync);
    g_free(drv->config_dir);
    g_free(drv->autostart_dir);
    g_free(drv->state_dir);
    g_free(drv->qemu_img);
    g_mutex_clear(&drv->op_lock);
    g_mutex_clear(&drv->lock);
    g_free(drv);
}

static GPtrArray *
list_xml(const char *dir)
{
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *f;
    while (d && (f = g_dir_read_name(d)))
        if (g_str_has_suffix(f, ".xml") && strlen(f) > 4)
            g_ptr_array_add(files, g_build_filename(dir, f, NULL));
    return files;
}

static VrtStoragePoolDef *
load_def(const char *path)
{
    g_autofree char *xml = NULL;
    g_autoptr(GError) err = NULL;
    if (!vrt_file_read(path, &xml, NULL, &err)) {
        g_warning("storage: %s", err->message);
        return NULL;
    }
    VrtStoragePoolDef *def = vrt_storage_pool_def_parse(xml, &err);
    if (!def) {
        g_warning("storage: %s: %s", path, err->message);
        return NULL;
    }
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *expect = g_strconcat(def->name, ".xml", NULL);
    if (strcmp(base, expect) != 0) {
        g_warning("storage: %s names pool '%s': skipped", path, def->name);
        vrt_storage_pool_def_free(def);
        return NULL;
    }
    return def;
}

/* Starts pool (op_lock held): scan, run state, STARTED. */
static bool start_pool(VrtStorageDriver *drv, const char *name, bool build, guint build_flags, bool event,
                       GError **error);

bool
vrt_storage_driver_load(VrtStorageDriver *drv, GError **error)
{
    (void)error;
    g_autoptr(GMutexLocker) op = g_mutex_locker_new(&drv->op_lock);
    g_autoptr(GPtrArray) configs = list_xml(drv->config_dir);
    for (guint i = 0; i < configs->len; i++) {
        VrtStoragePoolDef *def = load_def(g_ptr_array_index(configs, i));
        if (!def)
            continue;
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        if (g_hash_table_contains(drv->pools, def->name)) {
            vrt_storage_pool_def_free(def);
            continue;
        }
        Pool *pool = pool_new();
        pool->def = def;
        g_autofree char *link = autostart_path(drv, def->name);
        pool->autostart = g_file_test(link, G_FILE_TEST_EXISTS);
        g_hash_table_insert(drv->pools, g_strdup(def->name), pool);
    }
    /* Pools active when vrtd stopped: scanned again; one whose directory
     * went away is inactive now. */
    g_autoptr(GPtrArray) states = list_xml(drv->state_dir);
    for (guint i = 0; i < states->len; i++) {
        const char *path = g_ptr_array_index(states, i);
        g_autoptr(VrtStoragePoolDef) live = load_def(path);
        if (!live)
            continue;
        g_autoptr(GPtrArray) vols = NULL;
        g_autoptr(GError) err = NULL;
        if (!scan_pool(live, &vols, &err)) {
            g_warning("storage pool '%s' is no longer active: %s", live->name, err->message);
            vrt_file_remove(path, NULL);
            continue;
        }
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = g_hash_table_lookup(drv->pools, live->name);
        if (!pool) {
            pool = pool_new();
            g_hash_table_insert(drv->pools, g_strdup(live->name), pool);
        } else if (memcmp(pool->def->uuid, live->uuid, 16) != 0) {
            g_warning("storage: run state of pool '%s' has another uuid: ignored", live->name);
            continue;
        }
        pool->live = g_steal_pointer(&live);
        g_ptr_array_unref(pool->vols);
        pool->vols = g_steal_pointer(&vols);
    }
    g_autoptr(GPtrArray) autostart = g_ptr_array_new_with_free_func(g_free);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        GHashTableIter it;
        gpointer value;
        g_hash_table_iter_init(&it, drv->pools);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            Pool *pool = value;
            if (pool->autostart && !pool->live && pool->def)
                g_ptr_array_add(autostart, g_strdup(pool->def->name));
        }
    }
    for (guint i = 0; i < autostart->len; i++) {
        g_autoptr(GError) err = NULL;
        const char *name = g_ptr_array_index(autostart, i);
        if (!start_pool(drv, name, false, 0, true, &err))
            g_warning("Failed to autostart storage pool '%s': %s", name, err->message);
    }
    return true;
}

static bool check_duplicate_locked(VrtStorageDriver *drv, const VrtStoragePoolDef *def, bool for_start, Pool **existing,
                                   GError **error);

void
vrt_storage_driver_reload(VrtStorageDriver *drv)
{
    g_autoptr(GMutexLocker) op = g_mutex_locker_new(&drv->op_lock);
    g_autoptr(GPtrArray) configs = list_xml(drv->config_dir);
    guint added = 0, changed = 0;
    for (guint i = 0; i < configs->len; i++) {
        g_autoptr(VrtStoragePoolDef) def = load_def(g_ptr_array_index(configs, i));
        if (!def)
            continue;
        g_autofree char *link = autostart_path(drv, def->name);
        bool autostart = g_file_test(link, G_FILE_TEST_EXISTS);
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *existing;
        g_autoptr(GError) err = NULL;
        if (!check_duplicate_locked(drv, def, false, &existing, &err)) {
            g_warning("reload: storage pool file %s: %s", (char *)g_ptr_array_index(configs, i), err->message);
            continue;
        }
        if (!existing) {
            existing = pool_new();
            g_hash_table_insert(drv->pools, g_strdup(def->name), existing);
            added++;
        } else {
            changed++;
        }
        vrt_storage_pool_def_free(existing->def);
        existing->def = g_steal_pointer(&def);
        existing->autostart = autostart;
    }
    g_message("reload: storage pools: %u added, %u taken again", added, changed);
}

/* ---- pool listing ---- */

int
vrt_stordrv_num_pools(VrtStorageDriver *drv, bool active)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    int n = 0;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->pools);
    while (g_hash_table_iter_next(&it, NULL, &value))
        n += (((Pool *)value)->live != NULL) == active;
    return n;
}

static gint
str_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *
vrt_stordrv_list_pools(VrtStorageDriver *drv, bool active, int maxnames)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->pools);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Pool *pool = value;
        if ((pool->live != NULL) == active)
            g_ptr_array_add(names, g_strdup(pool_def(pool)->name));
    }
    g_ptr_array_sort(names, str_cmp);
    if (maxnames >= 0 && names->len > (guint)maxnames)
        g_ptr_array_set_size(names, maxnames);
    return names;
}

GPtrArray *
vrt_stordrv_list_all_pools(VrtStorageDriver *drv, guint flags)
{
    GPtrArray *refs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_storage_pool_ref_free);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    guint f_act = flags & (VRT_CONNECT_LIST_STORAGE_POOLS_ACTIVE | VRT_CONNECT_LIST_STORAGE_POOLS_INACTIVE);
    guint f_pers = flags & (VRT_CONNECT_LIST_STORAGE_POOLS_PERSISTENT | VRT_CONNECT_LIST_STORAGE_POOLS_TRANSIENT);
    guint f_auto = flags & (VRT_CONNECT_LIST_STORAGE_POOLS_AUTOSTART | VRT_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART);
    guint f_type = flags & VRT_CONNECT_LIST_STORAGE_POOLS_TYPES;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->pools);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Pool *pool = value;
        if (f_act && !((pool->live && (f_act & VRT_CONNECT_LIST_STORAGE_POOLS_ACTIVE)) ||
                       (!pool->live && (f_act & VRT_CONNECT_LIST_STORAGE_POOLS_INACTIVE))))
            continue;
        if (f_pers && !((pool->def && (f_pers & VRT_CONNECT_LIST_STORAGE_POOLS_PERSISTENT)) ||
                        (!pool->def && (f_pers & VRT_CONNECT_LIST_STORAGE_POOLS_TRANSIENT))))
            continue;
        if (f_auto && !((pool->autostart && (f_auto & VRT_CONNECT_LIST_STORAGE_POOLS_AUTOSTART)) ||
                        (!pool->autostart && (f_auto & VRT_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART))))
            continue;
        /* every pool vrt serves is a dir pool */
        if (f_type && !(f_type & VRT_CONNECT_LIST_STORAGE_POOLS_DIR))
            continue;
        g_ptr_array_add(refs, pool_ref(pool));
    }
    return refs;
}

/* ---- pool lookups ---- */

VrtStoragePoolRef *
vrt_stordrv_pool_lookup_by_name(VrtStorageDriver *drv, const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = find_name_locked(drv, name, error);
    return pool ? pool_ref(pool) : NULL;
}

VrtStoragePoolRef *
vrt_stordrv_pool_lookup_by_uuid(VrtStorageDriver *drv, const guint8 uuid[16], GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = find_uuid_locked(drv, uuid, NULL, error);
    return pool ? pool_ref(pool) : NULL;
}

VrtStoragePoolRef *
vrt_stordrv_pool_lookup_by_volume(VrtStorageDriver *drv, const char *pool_name, GError **error)
{
    return vrt_stordrv_pool_lookup_by_name(drv, pool_name, error);
}

static char *
clean_path(const char *path)
{
    GString *s = g_string_new(NULL);
    for (const char *p = path; *p; p++) {
        if (*p == '/' && s->len && s->str[s->len - 1] == '/')
            continue;
        g_string_append_c(s, *p);
    }
    if (s->len > 1 && s->str[s->len - 1] == '/')
        g_string_truncate(s, s->len - 1);
    return g_string_free(s, FALSE);
}

VrtStoragePoolRef *
vrt_stordrv_pool_lookup_by_target_path(VrtStorageDriver *drv, const char *path, GError **error)
{
    g_autofree char *clean = clean_path(path);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->pools);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Pool *pool = value;
        if (pool->live && strcmp(pool->live->target_path, clean) == 0)
            return pool_ref(pool);
    }
    if (strcmp(clean, path) == 0)
        vrt_error_set(error, VIR_ERR_NO_STORAGE_POOL, "no storage pool with matching target path '%s'", path);
    else
        vrt_error_set(error, VIR_ERR_NO_STORAGE_POOL, "no storage pool with matching target path '%s' (%s)", path,
                      clean);
    return NULL;
}

/* ---- define, create, undefine ---- */

/* libvirt's virStoragePoolObjIsDuplicate and source duplicate check (lock
 * held): *existing is the pool with def's uuid and name, when there is one. */
static bool
check_duplicate_locked(VrtStorageDriver *drv, const VrtStoragePoolDef *def, bool for_start, Pool **existing,
                       GError **error)
{
    *existing = NULL;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->pools);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Pool *pool = value;
        const VrtStoragePoolDef *d = pool_def(pool);
        char uuidstr[VRT_UUID_STRING_LEN];
        vrt_uuid_format(d->uuid, uuidstr);
        if (memcmp(d->uuid, def->uuid, 16) == 0) {
            if (strcmp(d->name, def->name) != 0) {
                vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "pool '%s' is already defined with uuid %s", d->name,
                              uuidstr);
                return false;
            }
            if (for_start && pool->live) {
                vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "pool is already active as '%s'", d->name);
                return false;
            }
            *existing = pool;
        } else if (strcmp(d->name, def->name) == 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "pool '%s' already exists with uuid %s", def->name, uuidstr);
            return false;
        }
    }
    g_hash_table_iter_init(&it, drv->pools);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Pool *pool = value;
        const VrtStoragePoolDef *d = pool_def(pool);
        if (pool != *existing && strcmp(d->target_path, def->target_path) == 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "Storage source conflict with pool: '%s'", d->name);
            return false;
        }
    }
    return true;
}

VrtStoragePoolRef *
vrt_stordrv_pool_define_xml(VrtStorageDriver *drv, const char *xml, guint flags, GError **error)
{
    /* VIR_STORAGE_POOL_DEFINE_VALIDATE: libvirt's schema first */
    if ((flags & 1u) && !vrt_xml_validate_string(xml, "(storage_pool_definition)", "storagepool.rng", error))
        return NULL;
    g_autoptr(VrtStoragePoolDef) def = vrt_storage_pool_def_parse(xml, error);
    if (!def)
        return NULL;
    g_autoptr(GMutexLocker) op = g_mutex_locker_new(&drv->op_lock);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *existing;
        if (!check_duplicate_locked(drv, def, false, &existing, error))
            return NULL;
    }
    if (!write_config(drv, def, error))
        return NULL;
    VrtStoragePoolRef *ref;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = g_hash_table_lookup(drv->pools, def->name);
        if (!pool) {
            pool = pool_new();
            g_hash_table_insert(drv->pools, g_strdup(def->name), pool);
        }
        vrt_storage_pool_def_free(pool->def);
        pool->def = g_steal_pointer(&def);
        ref = pool_ref(pool);
    }
    emit(drv, ref->name, ref->uuid, VRT_STORAGE_POOL_EVENT_DEFINED);
    return ref;
}

bool
vrt_stordrv_pool_undefine(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error)
{
    g_autoptr(GMutexLocker) op = g_mutex_locker_new(&drv->op_lock);
    g_autofree char *pname = NULL;
    guint8 puuid[16];
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = find_uuid_locked(drv, uuid, name, error);
        if (!pool)
            return false;
        if (pool->live) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "storage pool '%s' is still active", pool_def(pool)->name);
            return false;
        }
        if (!check_no_jobs(pool, error))
            return false;
        if (!pool->def) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "pool has no config file");
            return false;
        }
        pname = g_strdup(pool->def->name);
        memcpy(puuid, pool->def->uuid, 16);
    }
    g_autofree char *link = autostart_path(drv, pname);
    g_autofree char *path = config_path(drv, pname);
    if (unlink(link) < 0 && errno != ENOENT) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to delete autostart link '%s'", link);
        return false;
    }
    if (!vrt_file_remove_durable(drv->dir_sync, path, error))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        g_hash_table_remove(drv->pools, pname);
    }
    emit(drv, pname, puuid, VRT_STORAGE_POOL_EVENT_UNDEFINED);
    return true;
}

/* libvirt's virStorageBackendBuildLocal for dir pools: the parents made,
 * the directory made or kept, its mode (0711 unless given) and owner set. */
static bool
build_dir(const VrtStoragePoolDef *def, GError **error)
{
    g_autofree char *parent = g_path_get_dirname(def->target_path);
    if (g_mkdir_with_parents(parent, 0755) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot create path '%s'", parent);
        return false;
    }
    mode_t mode = def->perms.mode != -1 ? (mode_t)def->perms.mode : DEFAULT_POOL_MODE;
    if (mkdir(def->target_path, mode) < 0 && errno != EEXIST) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "failed to create directory '%s'", def->target_path);
        return false;
    }
    struct stat st;
    if (stat(def->target_path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno ? errno : ENOTDIR, "stat of '%s' failed",
                            def->target_path);
        return false;
    }
    uid_t uid = def->perms.uid != -1 ? (uid_t)def->perms.uid : (uid_t)-1;
    gid_t gid = def->perms.gid != -1 ? (gid_t)def->perms.gid : (gid_t)-1;
    if ((uid != (uid_t)-1 && uid != st.st_uid) || (gid != (gid_t)-1 && gid != st.st_gid)) {
        if (chown(def->target_path, uid, gid) < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot chown '%s' to (%u, %u)", def->target_path,
                                (unsigned)uid, (unsigned)gid);
            return false;
        }
    }
    if (chmod(def->target_path, mode) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot set mode of '%s' to %04o", def->target_path,
                            (unsigned)mode);
        return false;
    }
    return true;
}

static bool
check_build_flags(guint build_flags, GError **error)
{
    if ((build_flags & VRT_STORAGE_POOL_BUILD_OVERWRITE) && (build_flags & VRT_STORAGE_POOL_BUILD_NO_OVERWRITE)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s",
                      "Flags 'VIR_STORAGE_POOL_BUILD_OVERWRITE' and 'VIR_STORAGE_POOL_BUILD_NO_OVERWRITE' are "
                      "mutually exclusive");
        return false;
    }
    return true;
}

static bool
start_pool(VrtStorageDriver *drv, const char *name, bool build, guint build_flags, bool event, GError **error)
{
    g_autoptr(VrtStoragePoolDef) live = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = find_name_locked(drv, name, error);
        if (!pool)
            return false;
        if (pool->live) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "storage pool '%s' is already active", name);
            return false;
        }
        live = vrt_storage_pool_def_copy(pool->def);
    }
    if (build && (!check_build_flags(build_flags, error) || !build_dir(live, error)))
        return false;
    g_autoptr(GPtrArray) vols = NULL;
    if (!scan_pool(live, &vols, error) || !write_state(drv, live, error))
        return false;
    guint8 uuid[16];
    memcpy(uuid, live->uuid, 16);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = g_hash_table_lookup(drv->pools, name);
        pool->live = g_steal_pointer(&live);
        g_ptr_array_unref(pool->vols);
        pool->vols = g_steal_pointer(&vols);
    }
    if (event)
        emit(drv, name, uuid, VRT_STORAGE_POOL_EVENT_STARTED);
    return true;
}

/* The pool build flags a create's WITH_BUILD flags stand for. */
static guint
create_build_flags(guint flags)
{
    guint b = 0;
    if (flags & VRT_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE)
        b |= VRT_STORAGE_POOL_BUILD_OVERWRITE;
    if (flags & VRT_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE)
        b |= VRT_STORAGE_POOL_BUILD_NO_OVERWRITE;
    return b;
}

static bool
check_create_flags(guint flags, GError **error)
{
    if ((flags & VRT_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE) &&
        (flags & VRT_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s",
                      "Flags 'VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE' and "
                      "'VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE' are mutually exclusive");
        return false;
    }
    return true;
}

VrtStoragePoolRef *
vrt_stordrv_pool_create_xml(VrtStorageDriver *drv, const char *xml, guint flags, GError **error)
{
    if (!check_create_flags(flags, error))
        return NULL;
    g_autoptr(VrtStoragePoolDef) def = vrt_storage_pool_def_parse(xml, error);
    if (!def)
        return NULL;
    g_autoptr(GMutexLocker) op = g_mutex_locker_new(&drv->op_lock);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *existing;
        if (!check_duplicate_locked(drv, def, true, &existing, error))
            return NULL;
        if (existing) {
            /* libvirt starts the defined pool with the given definition
             * as its live one: vrt keeps it simple and refuses */
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "storage pool '%s' is already defined", def->name);
            return NULL;
        }
    }
    g_autoptr(VrtStoragePoolDef) live = vrt_storage_pool_def_copy(def);
    if (flags & (VRT_STORAGE_POOL_CREATE_WITH_BUILD | VRT_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE |
                 VRT_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE)) {
        if (!build_dir(live, error))
            return NULL;
    }
    g_autoptr(GPtrArray) vols = NULL;
    if (!scan_pool(live, &vols, error) || !write_state(drv, live, error))
        return NULL;
    VrtStoragePoolRef *ref;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = pool_new();
        pool->live = g_steal_pointer(&live);
        g_ptr_array_unref(pool->vols);
        pool->vols = g_steal_pointer(&vols);
        g_hash_table_insert(drv->pools, g_strdup(def->name), pool);
        ref = pool_ref(pool);
    }
    emit(drv, ref->name, ref->uuid, VRT_STORAGE_POOL_EVENT_STARTED);
    return ref;
}

/* The name of the pool uuid names (lock taken here). */
static char *
pool_name_of(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = find_uuid_locked(drv, uuid, name, error);
    return pool ? g_strdup(pool_def(pool)->name) : NULL;
}

bool
vrt_stordrv_pool_create(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, guint flags, GError **error)
{
    if (!check_create_flags(flags, error))
        return false;
    g_autoptr(GMutexLocker) op = g_mutex_locker_new(&drv->op_lock);
    g_autofree char *pname = pool_name_of(drv, uuid, name, error);
    if (!pname)
        return false;
    bool build = flags & (VRT_STORAGE_POOL_CREATE_WITH_BUILD | VRT_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE |
                          VRT_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE);
    return start_pool(drv, pname, build, create_build_flags(flags), true, error);
}

bool
vrt_stordrv_pool_build(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, guint flags, GError **error)
{
    if (!check_build_flags(flags, error))
        return false;
    g_autoptr(GMutexLocker) op = g_mutex_locker_new(&drv->op_lock);
    g_autoptr(VrtStoragePoolDef) def = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = find_uuid_locked(drv, uuid, name, error);
        if (!pool)
            return false;
        if (pool->live) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "storage pool '%s' is already active",
                          pool_def(pool)->name);
            return false;
        }
        def = vrt_storage_pool_def_copy(pool->def);
    }
    if (!build_dir(def, error))
        return false;
    emit(drv, def->name, def->uuid, VRT_STORAGE_POOL_EVENT_CREATED);
    return true;
}

bool
vrt_stordrv_pool_destroy(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error)
{
    g_autoptr(GMutexLocker) op = g_mutex_locker_new(&drv->op_lock);
    g_autofree char *pname = NULL;
    guint8 puuid[16];
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = find_uuid_locked(drv, uuid, name, error);
        if (!pool || !check_active(pool, error) || !check_no_jobs(pool, error))
            return false;
        pname = g_strdup(pool_def(pool)->name);
        memcpy(puuid, pool_def(pool)->uuid, 16);
        g_clear_pointer(&pool->live, vrt_storage_pool_def_free);
        g_ptr_array_set_size(pool->vols, 0);
        if (!pool->def)
            g_hash_table_remove(drv->pools, pname);
    }
    remove_state(drv, pname);
    emit(drv, pname, puuid, VRT_STORAGE_POOL_EVENT_STOPPED);
    return true;
}

bool
vrt_stordrv_pool_delete(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, guint flags, GError **error)
{
    (void)flags;
    g_autoptr(GMutexLocker) op = g_mutex_locker_new(&drv->op_lock);
    g_autoptr(VrtStoragePoolDef) def = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = find_uuid_locked(drv, uuid, name, error);
        if (!pool)
            return false;
        if (pool->live) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "storage pool '%s' is still active", pool_def(pool)->name);
            return false;
        }
        if (!check_no_jobs(pool, error))
            return false;
        def = vrt_storage_pool_def_copy(pool_def(pool));
    }
    if (rmdir(def->target_path) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "failed to remove pool '%s'", def->target_path);
        return false;
    }
    emit(drv, def->name, def->uuid, VRT_STORAGE_POOL_EVENT_DELETED);
    return true;
}

bool
vrt_stordrv_pool_refresh(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, guint flags, GError **error)
{
    (void)flags;
    g_autoptr(GMutexLocker) op = g_mutex_locker_new(&drv->op_lock);
    g_autoptr(VrtStoragePoolDef) live = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = find_uuid_locked(drv, uuid, name, error);
        if (!pool || !check_active(pool, error) || !check_no_jobs(pool, error))
            return false;
        live = vrt_storage_pool_def_copy(pool->live);
    }
    g_autoptr(GPtrArray) vols = NULL;
    g_autoptr(GError) scan_err = NULL;
    bool ok = scan_pool(live, &vols, &scan_err);
    bool stopped = false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = g_hash_table_lookup(drv->pools, live->name);
        if (!pool || !pool->live) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "storage pool '%s' is not active", live->name);
            return false;
        }
        if (pool->asyncjobs > 0) {
            /* a volume job began during the scan: keep what the pool had */
            return check_no_jobs(pool, error);
        }
        if (ok) {
            vrt_storage_pool_def_free(pool->live);
            pool->live = vrt_storage_pool_def_copy(live);
            g_ptr_array_unref(pool->vols);
            pool->vols = g_steal_pointer(&vols);
        } else {
            /* libvirt stops a pool whose refresh fails */
            g_clear_pointer(&pool->live, vrt_storage_pool_def_free);
            g_ptr_array_set_size(pool->vols, 0);
            if (!pool->def)
                g_hash_table_remove(drv->pools, live->name);
            stopped = true;
        }
    }
    if (stopped) {
        remove_state(drv, live->name);
        emit(drv, live->name, live->uuid, VRT_STORAGE_POOL_EVENT_STOPPED);
        g_propagate_error(error, g_steal_pointer(&scan_err));
        return false;
    }
    g_autoptr(GError) werr = NULL;
    if (!write_state(drv, live, &werr))
        g_warning("%s", werr->message);
    emit(drv, live->name, live->uuid, -1);
    return true;
}

bool
vrt_stordrv_pool_get_info(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, int *state, guint64 *capacity,
                          guint64 *allocation, guint64 *available, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = find_uuid_locked(drv, uuid, name, error);
    if (!pool)
        return false;
    *state = pool->live ? 2 : 0; /* VIR_STORAGE_POOL_RUNNING, _INACTIVE */
    *capacity = pool->live ? pool->live->capacity : 0;
    *allocation = pool->live ? pool->live->allocation : 0;
    *available = pool->live ? pool->live->available : 0;
    return true;
}

char *
vrt_stordrv_pool_get_xml(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, guint flags, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = find_uuid_locked(drv, uuid, name, error);
    if (!pool)
        return NULL;
    const VrtStoragePoolDef *def = (flags & VRT_STORAGE_XML_INACTIVE) && pool->def ? pool->def : pool_def(pool);
    return vrt_storage_pool_def_format(def);
}

int
vrt_stordrv_pool_get_autostart(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = find_uuid_locked(drv, uuid, name, error);
    return pool ? pool->autostart : -1;
}

bool
vrt_stordrv_pool_set_autostart(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, bool autostart,
                               GError **error)
{
    g_autoptr(GMutexLocker) op = g_mutex_locker_new(&drv->op_lock);
    g_autofree char *pname = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = find_uuid_locked(drv, uuid, name, error);
        if (!pool)
            return false;
        if (!pool->def) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "cannot set autostart for transient pool");
            return false;
        }
        if (pool->autostart == autostart)
            return true;
        pname = g_strdup(pool->def->name);
    }
    g_autofree char *link = autostart_path(drv, pname);
    if (autostart) {
        g_autofree char *file = g_strconcat(pname, ".xml", NULL);
        g_autofree char *target = g_build_filename("..", file, NULL);
        if (!vrt_dir_ensure(drv->autostart_dir, STORAGE_DIR_MODE, error))
            return false;
        if (symlink(target, link) < 0 && errno != EEXIST) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to create symlink '%s' to '%s'", link,
                                target);
            return false;
        }
    } else if (unlink(link) < 0 && errno != ENOENT) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to delete symlink '%s'", link);
        return false;
    }
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = g_hash_table_lookup(drv->pools, pname);
    if (pool)
        pool->autostart = autostart;
    return true;
}

int
vrt_stordrv_pool_is_active(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = find_uuid_locked(drv, uuid, name, error);
    return pool ? pool->live != NULL : -1;
}

int
vrt_stordrv_pool_is_persistent(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = find_uuid_locked(drv, uuid, name, error);
    return pool ? pool->def != NULL : -1;
}

int
vrt_stordrv_pool_num_volumes(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = find_uuid_locked(drv, uuid, name, error);
    if (!pool || !check_active(pool, error))
        return -1;
    return pool->vols->len;
}

GPtrArray *
vrt_stordrv_pool_list_volumes(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, int maxnames,
                              GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = find_uuid_locked(drv, uuid, name, error);
    if (!pool || !check_active(pool, error))
        return NULL;
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < pool->vols->len && (maxnames < 0 || (int)i < maxnames); i++)
        g_ptr_array_add(names, g_strdup(((Vol *)g_ptr_array_index(pool->vols, i))->def->name));
    return names;
}

GPtrArray *
vrt_stordrv_pool_list_all_volumes(VrtStorageDriver *drv, const guint8 uuid[16], const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = find_uuid_locked(drv, uuid, name, error);
    if (!pool || !check_active(pool, error))
        return NULL;
    GPtrArray *refs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_storage_vol_ref_free);
    for (guint i = 0; i < pool->vols->len; i++)
        g_ptr_array_add(refs, vol_ref(pool, g_ptr_array_index(pool->vols, i)));
    return refs;
}

/* ---- volume lookups ---- */

VrtStorageVolRef *
vrt_stordrv_vol_lookup_by_name(VrtStorageDriver *drv, const char *pool_name, const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool;
    Vol *vol = find_pool_vol_locked(drv, pool_name, name, &pool, error);
    return vol ? vol_ref(pool, vol) : NULL;
}

/* The volume of an active pool whose key (match_key) or path is s. */
static VrtStorageVolRef *
find_vol_anywhere(VrtStorageDriver *drv, const char *s, bool match_key)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->pools);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Pool *pool = value;
        if (!pool->live)
            continue;
        for (guint i = 0; i < pool->vols->len; i++) {
            Vol *v = g_ptr_array_index(pool->vols, i);
            if (strcmp(match_key ? v->def->key : v->def->target.path, s) == 0)
                return vol_ref(pool, v);
        }
    }
    return NULL;
}

VrtStorageVolRef *
vrt_stordrv_vol_lookup_by_key(VrtStorageDriver *drv, const char *key, GError **error)
{
    VrtStorageVolRef *ref = find_vol_anywhere(drv, key, true);
    if (!ref)
        vrt_error_set(error, VIR_ERR_NO_STORAGE_VOL, "no storage vol with matching key %s", key);
    return ref;
}

VrtStorageVolRef *
vrt_stordrv_vol_lookup_by_path(VrtStorageDriver *drv, const char *path, GError **error)
{
    g_autofree char *clean = clean_path(path);
    VrtStorageVolRef *ref = find_vol_anywhere(drv, clean, false);
    if (!ref) {
        if (strcmp(clean, path) == 0)
            vrt_error_set(error, VIR_ERR_NO_STORAGE_VOL, "no storage vol with matching path '%s'", path);
        else
            vrt_error_set(error, VIR_ERR_NO_STORAGE_VOL, "no storage vol with matching path '%s' (%s)", path, clean);
    }
    return ref;
}

/* ---- volume I/O (no lock held) ---- */

static bool
run_tool(char **argv, GError **error)
{
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    GError *spawn_err = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &spawn_err)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Cannot run %s: %s", argv[0], spawn_err->message);
        g_error_free(spawn_err);
        return false;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_autofree char *cmd = g_strjoinv(" ", argv);
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Child process (%s) unexpected exit status %d: %s", cmd,
                      WIFEXITED(status) ? WEXITSTATUS(status) : status, err ? g_strstrip(err) : "");
        return false;
    }
    return true;
}

static bool
need_qemu_img(VrtStorageDriver *drv, GError **error)
{
    if (!drv->qemu_img) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s",
                      "creation of non-raw file images is not supported without qemu-img.");
        return false;
    }
    return true;
}

/* Allocates [0, len) of fd: fallocate, else zeros written. */
static bool
allocate(int fd, const char *path, guint64 len, GError **error)
{
    if (len == 0)
        return true;
    if (posix_fallocate(fd, 0, len) == 0)
        return true;
    static const char zeros[65536];
    for (guint64 off = 0; off < len;) {
        size_t n = MIN(sizeof(zeros), len - off);
        ssize_t w = pwrite(fd, zeros, n, off);
        if (w < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot fill file '%s'", path);
            return false;
        }
        off += w;
    }
    return true;
}

static bool
set_perms(const VrtStorageVolDef *def, GError **error)
{
    uid_t uid = def->target.perms.uid != -1 ? (uid_t)def->target.perms.uid : (uid_t)-1;
    gid_t gid = def->target.perms.gid != -1 ? (gid_t)def->target.perms.gid : (gid_t)-1;
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(def->target.path, uid, gid) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot chown '%s' to (%u, %u)", def->target.path,
                            (unsigned)uid, (unsigned)gid);
        return false;
    }
    mode_t mode = def->target.perms.mode != -1 ? (mode_t)def->target.perms.mode : DEFAULT_VOL_MODE;
    if (chmod(def->target.path, mode) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot set mode of '%s' to %04o", def->target.path,
                            (unsigned)mode);
        return false;
    }
    return true;
}

static bool
create_raw(const VrtStorageVolDef *def, guint flags, GError **error)
{
    if (flags & VRT_STORAGE_VOL_CREATE_PREALLOC_METADATA) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "metadata preallocation is not supported for raw volumes");
        return false;
    }
    mode_t mode = def->target.perms.mode != -1 ? (mode_t)def->target.perms.mode : DEFAULT_VOL_MODE;
    int fd = open(def->target.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot create path '%s'", def->target.path);
        return false;
    }
    bool ok = true;
    if (ftruncate(fd, def->capacity) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot extend file '%s'", def->target.path);
        ok = false;
    }
    ok = ok && allocate(fd, def->target.path, MIN(def->allocation, def->capacity), error);
    if (ok && fsync(fd) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot sync file '%s'", def->target.path);
        ok = false;
    }
    close(fd);
    return ok && set_perms(def, error);
}

static const char *
qemu_img_format(const char *format)
{
    return strcmp(format, "iso") == 0 ? "raw" : format;
}

/* qemu-img create, as libvirt's storageBackendCreateQemuImg builds it. */
static bool
create_qemu_img(VrtStorageDriver *drv, const char *pool_path, const VrtStorageVolDef *def, guint flags, GError **error)
{
    if (!need_qemu_img(drv, error))
        return false;
    bool qcow2 = strcmp(def->target.format, "qcow2") == 0;
    bool prealloc = flags & VRT_STORAGE_VOL_CREATE_PREALLOC_METADATA;
    if (prealloc && !qcow2) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "metadata preallocation only available with qcow2");
        return false;
    }
    if (def->compat && !qcow2) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "compatibility option only available with qcow2");
        return false;
    }
    if (def->backing) {
        if (prealloc) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                          "metadata preallocation conflicts with backing store");
            return false;
        }
        g_autofree char *abs = def->backing->path[0] == '/' ? g_strdup(def->backing->path)
                                                            : g_build_filename(pool_path, def->backing->path, NULL);
        if (access(abs, R_OK) < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "inaccessible backing store volume %s",
                                def->backing->path);
            return false;
        }
    }
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup(drv->qemu_img));
    g_ptr_array_add(argv, g_strdup("create"));
    g_ptr_array_add(argv, g_strdup("-f"));
    g_ptr_array_add(argv, g_strdup(qemu_img_format(def->target.format)));
    if (def->backing) {
        g_ptr_array_add(argv, g_strdup("-b"));
        g_ptr_array_add(argv, g_strdup(def->backing->path));
    }
    GString *opts = g_string_new(NULL);
    if (def->backing)
        g_string_append_printf(opts, "backing_fmt=%s,", def->backing->format);
    if (prealloc)
        g_string_append(opts, def->capacity / 1024 > def->allocation / 1024 ? "preallocation=metadata,"
                                                                            : "preallocation=falloc,");
    if (def->compat)
        g_string_append_printf(opts, "compat=%s,", def->compat);
    else if (qcow2)
        g_string_append(opts, "compat=0.10,");
    if (def->cluster_size)
        g_string_append_printf(opts, "cluster_size=%" G_GUINT64_FORMAT ",", def->cluster_size);
    if (def->lazy_refcounts)
        g_string_append(opts, "lazy_refcounts,");
    if (opts->len) {
        g_string_truncate(opts, opts->len - 1);
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_string_free(opts, FALSE));
    } else {
        g_string_free(opts, TRUE);
    }
    g_ptr_array_add(argv, g_strdup(def->target.path));
    guint64 size_k = (def->capacity + 1023) / 1024;
    if (size_k || !def->backing)
        g_ptr_array_add(argv, g_strdup_printf("%" G_GUINT64_FORMAT "K", size_k));
    g_ptr_array_add(argv, NULL);
    return run_tool((char **)argv->pdata, error) && set_perms(def, error);
}

/* Marks a new volume building in its pool (lock held): its job counts. */
static Vol *
add_building_locked(Pool *pool, VrtStorageVolDef *def)
{
    Vol *v = g_new0(Vol, 1);
    v->def = def;
    v->building = true;
    g_ptr_array_add(pool->vols, v);
    g_ptr_array_sort(pool->vols, vol_cmp);
    pool->asyncjobs++;
    return v;
}

/* Ends a volume build (lock taken here): on success the volume gets the
 * facts its file has; on failure it goes, and its file too when made says
 * the build may have made it (not when a file of that name was there). */
static VrtStorageVolRef *
finish_build(VrtStorageDriver *drv, const char *pool_name, const char *vol_name, bool ok, bool made, GError **error)
{
    g_autoptr(VrtStorageVolDef) probed = NULL;
    g_autoptr(VrtStoragePoolDef) fs = NULL;
    g_autofree char *path = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = g_hash_table_lookup(drv->pools, pool_name);
        Vol *v = find_vol_locked(pool, vol_name);
        probed = vrt_storage_vol_def_copy(v->def);
        fs = vrt_storage_pool_def_copy(pool->live);
    }
    if (ok && !probe_file(probed)) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot stat file '%s'", probed->target.path);
        ok = false;
    }
    if (!ok && made)
        unlink(probed->target.path);
    probe_fs(fs);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = g_hash_table_lookup(drv->pools, pool_name);
    pool->asyncjobs--;
    for (guint i = 0; i < pool->vols->len; i++) {
        Vol *v = g_ptr_array_index(pool->vols, i);
        if (strcmp(v->def->name, vol_name) != 0)
            continue;
        if (!ok) {
            g_ptr_array_remove_index(pool->vols, i);
            return NULL;
        }
        vrt_storage_vol_def_free(v->def);
        v->def = g_steal_pointer(&probed);
        v->building = false;
        pool->live->capacity = fs->capacity;
        pool->live->allocation = fs->allocation;
        pool->live->available = fs->available;
        return vol_ref(pool, v);
    }
    return NULL;
}

/* The new volume's place (lock held): libvirt's checks of a create. */
static bool
prepare_new_vol_locked(Pool *pool, VrtStorageVolDef *def, bool from, GError **error)
{
    if (strchr(def->name, '/')) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "volume name '%s' cannot contain '/'", def->name);
        return false;
    }
    if (find_vol_locked(pool, def->name)) {
        if (from) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "storage volume name '%s' already in use.", def->name);
        } else {
            g_autofree char *msg = g_strdup_printf("storage volume '%s' exists already", def->name);
            vrt_error_set_literal(error, VIR_ERR_STORAGE_VOL_EXIST, msg);
        }
        return false;
    }
    g_free(def->target.path);
    def->target.path = g_build_filename(pool->live->target_path, def->name, NULL);
    g_free(def->key);
    def->key = g_strdup(def->target.path);
    return true;
}

VrtStorageVolRef *
vrt_stordrv_vol_create_xml(VrtStorageDriver *drv, const guint8 uuid[16], const char *pool_name, const char *xml,
                           guint flags, GError **error)
{
    g_autoptr(VrtStorageVolDef) def = NULL;
    g_autofree char *pname = NULL, *pool_path = NULL;

    /* VIR_STORAGE_VOL_CREATE_VALIDATE: libvirt's schema first */
    if ((flags & 4u) && !vrt_xml_validate_string(xml, "(storage_volume_definition)", "storagevol.rng", error))
        return NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = find_uuid_locked(drv, uuid, pool_name, error);
        if (!pool || !check_active(pool, error))
            return NULL;
        def = vrt_storage_vol_def_parse(xml, 0, error);
        if (!def || !prepare_new_vol_locked(pool, def, false, error))
            return NULL;
        pname = g_strdup(pool->live->name);
        pool_path = g_strdup(pool->live->target_path);
        add_building_locked(pool, vrt_storage_vol_def_copy(def));
    }
    bool ok;
    const char *fmt = def->target.format;
    bool existed = g_file_test(def->target.path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK);
    if (existed) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, EEXIST, "cannot create path '%s'", def->target.path);
        ok = false;
    } else if (strcmp(fmt, "raw") == 0 || strcmp(fmt, "iso") == 0) {
        if (def->backing) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "backing storage not supported for raw volumes");
            ok = false;
        } else {
            ok = create_raw(def, flags, error);
        }
    } else if (strcmp(fmt, "dir") == 0 || strcmp(fmt, "none") == 0 || strcmp(fmt, "ploop") == 0) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "volume format %s is not supported by vrt", fmt);
        ok = false;
    } else {
        ok = create_qemu_img(drv, pool_path, def, flags, error);
    }
    return finish_build(drv, pname, def->name, ok, !existed, error);
}

VrtStorageVolRef *
vrt_stordrv_vol_create_xml_from(VrtStorageDriver *drv, const guint8 uuid[16], const char *pool_name, const char *xml,
                                const char *src_pool, const char *src_name, guint flags, GError **error)
{
    g_autoptr(VrtStorageVolDef) def = NULL;
    g_autoptr(VrtStorageVolDef) src = NULL;

    /* VIR_STORAGE_VOL_CREATE_VALIDATE: libvirt's schema first */
    if ((flags & 4u) && !vrt_xml_validate_string(xml, "(storage_volume_definition)", "storagevol.rng", error))
        return NULL;
    g_autofree char *pname = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = find_uuid_locked(drv, uuid, pool_name, error);
        if (!pool)
            return NULL;
        Pool *spool = find_name_locked(drv, src_pool, error);
        if (!spool || !check_active(pool, error) || !check_active(spool, error))
            return NULL;
        Vol *svol = find_vol_locked(spool, src_name);
        if (!svol) {
            vrt_error_set(error, VIR_ERR_NO_STORAGE_VOL, "no storage vol with matching name '%s'", src_name);
            return NULL;
        }
        def = vrt_storage_vol_def_parse(xml, VRT_STORAGE_VOL_PARSE_OPT_CAPACITY, error);
        if (!def || !prepare_new_vol_locked(pool, def, true, error))
            return NULL;
        if (svol->building) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "volume '%s' is still being allocated.", src_name);
            return NULL;
        }
        if (def->capacity < svol->def->capacity)
            def->capacity = svol->def->capacity;
        src = vrt_storage_vol_def_copy(svol->def);
        svol->in_use++;
        spool->asyncjobs++;
        pname = g_strdup(pool->live->name);
        add_building_locked(pool, vrt_storage_vol_def_copy(def));
    }
    bool ok = need_qemu_img(drv, error);
    bool existed = g_file_test(def->target.path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK);
    if (ok) {
        bool qcow2 = strcmp(def->target.format, "qcow2") == 0;
        const char *argv[16];
        int n = 0;
        argv[n++] = drv->qemu_img;
        argv[n++] = "convert";
        argv[n++] = "-f";
        argv[n++] = qemu_img_format(src->target.format ? src->target.format : "raw");
        argv[n++] = "-O";
        argv[n++] = qemu_img_format(def->target.format);
        g_autofree char *opts = qcow2 ? g_strdup_printf("compat=%s", def->compat ? def->compat : "0.10") : NULL;
        if (opts) {
            argv[n++] = "-o";
            argv[n++] = opts;
        }
        argv[n++] = src->target.path;
        argv[n++] = def->target.path;
        argv[n] = NULL;
        if (existed) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, EEXIST, "cannot create path '%s'", def->target.path);
            ok = false;
        } else {
            ok = run_tool((char **)argv, error) && set_perms(def, error);
        }
        if (ok && def->capacity > src->capacity) {
            g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, def->capacity);
            const char *rs[] = { drv->qemu_img,    "resize", "-f", qemu_img_format(def->target.format),
                                 def->target.path, size,     NULL };
            ok = run_tool((char **)rs, error);
        }
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *spool = g_hash_table_lookup(drv->pools, src_pool);
        Vol *svol = spool ? find_vol_locked(spool, src_name) : NULL;
        if (svol)
            svol->in_use--;
        if (spool)
            spool->asyncjobs--;
    }
    return finish_build(drv, pname, def->name, ok, !existed, error);
}

/* Marks a volume in use for an operation (lock taken here); false with
 * libvirt's error when it cannot be. */
static VrtStorageVolDef *
begin_vol_op(VrtStorageDriver *drv, const char *pool_name, const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool;
    Vol *vol = find_pool_vol_locked(drv, pool_name, name, &pool, error);
    if (!vol)
        return NULL;
    if (vol->in_use) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "volume '%s' is still in use.", name);
        return NULL;
    }
    if (vol->building) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "volume '%s' is still being allocated.", name);
        return NULL;
    }
    vol->in_use++;
    pool->asyncjobs++;
    return vrt_storage_vol_def_copy(vol->def);
}

/* Ends it: the volume removed (gone) or its facts read again. */
static void
end_vol_op(VrtStorageDriver *drv, const char *pool_name, const char *name, bool gone)
{
    g_autoptr(VrtStorageVolDef) probed = NULL;
    g_autoptr(VrtStoragePoolDef) fs = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = g_hash_table_lookup(drv->pools, pool_name);
        Vol *v = find_vol_locked(pool, name);
        probed = vrt_storage_vol_def_copy(v->def);
        fs = vrt_storage_pool_def_copy(pool->live);
    }
    bool have = !gone && probe_file(probed);
    probe_fs(fs);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Pool *pool = g_hash_table_lookup(drv->pools, pool_name);
    pool->asyncjobs--;
    pool->live->capacity = fs->capacity;
    pool->live->allocation = fs->allocation;
    pool->live->available = fs->available;
    for (guint i = 0; i < pool->vols->len; i++) {
        Vol *v = g_ptr_array_index(pool->vols, i);
        if (strcmp(v->def->name, name) != 0)
            continue;
        v->in_use--;
        if (gone) {
            g_ptr_array_remove_index(pool->vols, i);
        } else if (have) {
            vrt_storage_vol_def_free(v->def);
            v->def = g_steal_pointer(&probed);
        }
        return;
    }
}

bool
vrt_stordrv_vol_delete(VrtStorageDriver *drv, const char *pool_name, const char *name, guint flags, GError **error)
{
    (void)flags;
    g_autoptr(VrtStorageVolDef) def = begin_vol_op(drv, pool_name, name, error);
    if (!def)
        return false;
    bool ok = true;
    if (unlink(def->target.path) < 0 && errno != ENOENT) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot unlink file '%s'", def->target.path);
        ok = false;
    }
    end_vol_op(drv, pool_name, name, ok);
    return ok;
}

/* libvirt's storageBackendVolWipeLocalFile with the zero algorithm. */
static bool
wipe_zero(const VrtStorageVolDef *def, GError **error)
{
    int fd = open(def->target.path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to open storage volume with path '%s'",
                            def->target.path);
        return false;
    }
    struct stat st;
    bool ok = true;
    if (fstat(fd, &st) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to stat storage volume with path '%s'",
                            def->target.path);
        ok = false;
    } else if (st.st_blocks < st.st_size / 512) {
        /* sparse: dropping the blocks zeroes it without filling holes */
        if (ftruncate(fd, 0) < 0 || ftruncate(fd, st.st_size) < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to truncate volume with path '%s'",
                                def->target.path);
            ok = false;
        }
    } else {
        static const char zeros[65536];
        guint64 len = MIN(def->allocation, (guint64)st.st_size);
        for (guint64 off = 0; ok && off < len;) {
            ssize_t w = pwrite(fd, zeros, MIN(sizeof(zeros), len - off), off);
            if (w < 0) {
                vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot write to '%s'", def->target.path);
                ok = false;
                break;
            }
            off += w;
        }
        if (ok && fdatasync(fd) < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot sync data to file '%s'", def->target.path);
            ok = false;
        }
    }
    close(fd);
    return ok;
}

bool
vrt_stordrv_vol_wipe(VrtStorageDriver *drv, const char *pool_name, const char *name, guint algorithm, guint flags,
                     GError **error)
{
    (void)flags;
    static const char *const algs[] = { "zero",     "nnsa",      "dod",        "bsi",   "gutmann",
                                        "schneier", "pfitzner7", "pfitzner33", "random" };
    if (algorithm >= 10) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "wiping algorithm %u not supported", algorithm);
        return false;
    }
    g_autoptr(VrtStorageVolDef) def = begin_vol_op(drv, pool_name, name, error);
    if (!def)
        return false;
    bool ok;
    if (algorithm == 9) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s", "'trim' algorithm not supported");
        ok = false;
    } else if (algorithm == 0) {
        ok = wipe_zero(def, error);
    } else {
        /* the patterns are scrub's, as libvirt runs it */
        g_autofree char *scrub = g_find_program_in_path("scrub");
        if (!scrub) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Cannot find '%s' in path: %s", "scrub", g_strerror(ENOENT));
            ok = false;
        } else {
            const char *argv[] = { scrub, "-f", "-p", algs[algorithm], def->target.path, NULL };
            ok = run_tool((char **)argv, error);
        }
    }
    end_vol_op(drv, pool_name, name, false);
    return ok;
}

bool
vrt_stordrv_vol_resize(VrtStorageDriver *drv, const char *pool_name, const char *name, guint64 capacity, guint flags,
                       GError **error)
{
    guint64 abs_cap, delta = 0, available;
    g_autoptr(VrtStorageVolDef) def = begin_vol_op(drv, pool_name, name, error);
    if (!def)
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        available = ((Pool *)g_hash_table_lookup(drv->pools, pool_name))->live->available;
    }
    /* the volume's facts now, not at the last refresh */
    probe_file(def);
    bool ok = false;
    if (flags & VRT_STORAGE_VOL_RESIZE_DELTA)
        abs_cap = (flags & VRT_STORAGE_VOL_RESIZE_SHRINK) ? def->capacity - MIN(capacity, def->capacity)
                                                          : def->capacity + capacity;
    else
        abs_cap = capacity;
    bool raw = strcmp(def->target.format, "raw") == 0;
    if (abs_cap < def->allocation && raw && !(flags & VRT_STORAGE_VOL_RESIZE_SHRINK)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "can't shrink capacity below existing allocation");
    } else if (abs_cap < def->capacity && !(flags & VRT_STORAGE_VOL_RESIZE_SHRINK)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s",
                      "Can't shrink capacity below current capacity unless shrink flag explicitly specified");
    } else if ((flags & VRT_STORAGE_VOL_RESIZE_ALLOCATE) && abs_cap > def->allocation &&
               (delta = abs_cap - def->allocation) > available) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "Not enough space left in storage pool");
    } else if (raw) {
        int fd = open(def->target.path, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Unable to open '%s'", def->target.path);
        } else {
            ok = true;
            /* libvirt's virFileResize: the whole new size allocated */
            int rc = (flags & VRT_STORAGE_VOL_RESIZE_ALLOCATE) ? posix_fallocate(fd, 0, abs_cap) : 0;
            if (rc != 0) {
                vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, rc, "Failed to pre-allocate space for file '%s'",
                                    def->target.path);
                ok = false;
            }
            if (ok && ftruncate(fd, abs_cap) < 0) {
                vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to truncate file '%s'",
                                    def->target.path);
                ok = false;
            }
            close(fd);
        }
    } else if (flags & VRT_STORAGE_VOL_RESIZE_ALLOCATE) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s", "preallocate is only supported for raw type volume");
    } else if (need_qemu_img(drv, error)) {
        g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, abs_cap);
        const char *argv[8];
        int n = 0;
        argv[n++] = drv->qemu_img;
        argv[n++] = "resize";
        if (abs_cap < def->capacity)
            argv[n++] = "--shrink";
        argv[n++] = "-f";
        argv[n++] = qemu_img_format(def->target.format);
        argv[n++] = def->target.path;
        argv[n++] = size;
        argv[n] = NULL;
        ok = run_tool((char **)argv, error);
    }
    (void)delta;
    end_vol_op(drv, pool_name, name, false);
    return ok;
}

/* A volume's definition with the facts its file has now (libvirt's
 * refreshVol before info and XML). */
static VrtStorageVolDef *
vol_now(VrtStorageDriver *drv, const char *pool_name, const char *name, GError **error)
{
    g_autoptr(VrtStorageVolDef) def = NULL;
    bool building;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Vol *vol = find_pool_vol_locked(drv, pool_name, name, NULL, error);
        if (!vol)
            return NULL;
        def = vrt_storage_vol_def_copy(vol->def);
        building = vol->building;
    }
    if (!building)
        probe_file(def);
    return g_steal_pointer(&def);
}

bool
vrt_stordrv_vol_get_info(VrtStorageDriver *drv, const char *pool_name, const char *name, guint flags, int *type,
                         guint64 *capacity, guint64 *allocation, GError **error)
{
    g_autoptr(VrtStorageVolDef) def = vol_now(drv, pool_name, name, error);
    if (!def)
        return false;
    *type = 0; /* VIR_STORAGE_VOL_FILE */
    *capacity = def->capacity;
    *allocation = (flags & VRT_STORAGE_VOL_GET_PHYSICAL) ? def->physical : def->allocation;
    return true;
}

char *
vrt_stordrv_vol_get_xml(VrtStorageDriver *drv, const char *pool_name, const char *name, guint flags, GError **error)
{
    (void)flags;
    g_autoptr(VrtStorageVolDef) def = vol_now(drv, pool_name, name, error);
    return def ? vrt_storage_vol_def_format(def) : NULL;
}

char *
vrt_stordrv_vol_get_path(VrtStorageDriver *drv, const char *pool_name, const char *name, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Vol *vol = find_pool_vol_locked(drv, pool_name, name, NULL, error);
    return vol ? g_strdup(vol->def->target.path) : NULL;
}

bool
vrt_stordrv_volume_path(VrtStorageDriver *drv, const char *pool_name, const char *name, char **path, char **format,
                        GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    Vol *vol = find_pool_vol_locked(drv, pool_name, name, NULL, error);
    if (!vol)
        return false;
    if (vol->building) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "volume '%s' is still being allocated.", name);
        return false;
    }
    *path = g_strdup(vol->def->target.path);
    *format = g_strdup(vol->def->target.format ? vol->def->target.format : "raw");
    return true;
}

/* ---- upload and download ---- */

int
vrt_stordrv_vol_open_transfer(VrtStorageDriver *drv, const char *pool_name, const char *name, bool upload,
                              guint64 offset, GError **error)
{
    /* In use until vrt_stordrv_vol_end_transfer: a delete, wipe or resize
     * meanwhile is refused as during a build. */
    g_autoptr(VrtStorageVolDef) def = begin_vol_op(drv, pool_name, name, error);
    if (!def)
        return -1;
    /* No O_CREAT, no O_TRUNC: the volume's file exists, and an upload
     * writes its bytes over it as they come (a qcow2 volume too), as
     * libvirt's virFDStreamOpenBlockDevice. */
    int fd = open(def->target.path, (upload ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Unable to open stream for '%s'", def->target.path);
    } else if (offset > G_MAXINT64 || lseek(fd, (off_t)offset, SEEK_SET) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, offset > G_MAXINT64 ? EINVAL : errno,
                            "Unable to seek %s to %" G_GUINT64_FORMAT, def->target.path, offset);
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        end_vol_op(drv, pool_name, name, false);
    return fd;
}

void
vrt_stordrv_vol_end_transfer(VrtStorageDriver *drv, const char *pool_name, const char *name, bool upload)
{
    guint8 uuid[16];

    end_vol_op(drv, pool_name, name, false);
    if (!upload)
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        Pool *pool = g_hash_table_lookup(drv->pools, pool_name);
        if (!pool)
            return;
        memcpy(uuid, pool_def(pool)->uuid, 16);
    }
    /* libvirt refreshes the pool once an upload's stream closes and says
     * so with its REFRESH event. */
    emit(drv, pool_name, uuid, -1);
}
