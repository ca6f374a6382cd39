/*
 * Save, restore and managed save (see qemu_save.h). The save pauses the
 * guest, writes the header and XML with the "partial" magic, hands QEMU
 * the image's descriptor (getfd over the monitor's socket, SCM_RIGHTS) and
 * has it append its migration stream to `fd:NAME`, writes the final magic
 * and flushes the file, then stops QEMU (stopped/saved). A restore starts
 * QEMU with `-incoming defer` and hands it the image's descriptor, placed
 * at the stream's offset, for `migrate-incoming fd:NAME`
 * (started/restored). vrtd opens the image, never QEMU: QEMU runs as
 * qemu.conf's user, which need not reach the file, and under
 * `-sandbox spawn=deny`, which forbids the `exec:` URIs (a shell) an
 * unconfined QEMU could use. A managed save is the same with the image
 * under <lib_dir>/save, restored by the next start. A core dump (virsh
 * dump) hands QEMU a file the same way, for its migration stream alone or
 * for dump-guest-memory (--memory-only).
 */
#include "drivers/qemu/qemu_save.h"
#include "drivers/qemu/qemu_jobinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fileutil.h"

#define SAVE_MAGIC "LibvirtQemudSave"
#define SAVE_PARTIAL "LibvirtQemudPart"
#define SAVE_VERSION 2
#define SAVE_XML_PAD (64 * 1024)
#define SAVE_POLL_US 20000

/* libvirt's virQEMUSaveHeader, in host byte order as libvirt writes it. */
typedef struct {
    char magic[sizeof(SAVE_MAGIC) - 1];
    guint32 version;
    guint32 data_len;
    guint32 was_running;
    guint32 compressed;
    guint32 cookie_offset;
    guint32 unused[14];
} SaveHeader;
G_STATIC_ASSERT(sizeof(SaveHeader) == 92);

/* libvirt's flags. */
#define SAVE_BYPASS_CACHE (1u << 0)
#define SAVE_RUNNING (1u << 1)
#define SAVE_PAUSED (1u << 2)
#define START_FORCE_BOOT (1u << 3)
#define SAVE_IMAGE_XML_SECURE (1u << 0)
#define UNDEFINE_MANAGED_SAVE (1u << 0)

enum {
    SHUTOFF_SAVED = 5,
    EVENT_STOPPED_SAVED = 4,
    PAUSED_SAVE = 3,
};

char *
vrt_qemu_save_managed_path(VrtQemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".save", NULL);
    return g_build_filename(drv->lib_dir, "save", file, NULL);
}

bool
vrt_qemu_save_managed_exists(VrtQemuDriver *drv, const char *name)
{
    g_autofree char *path = vrt_qemu_save_managed_path(drv, name);
    return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

/* ---- the image ---- */

typedef struct {
    SaveHeader header;
    char *xml;
} SaveImage;

static void
save_image_free(SaveImage *img)
{
    if (!img)
        return;
    g_free(img->xml);
    g_free(img);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SaveImage, save_image_free)

static bool
read_full(int fd, void *buf, gsize len)
{
    gsize done = 0;
    while (done < len) {
        ssize_t n = read(fd, (char *)buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += n;
    }
    return true;
}

static bool
write_full(int fd, const void *buf, gsize len)
{
    gsize done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += n;
    }
    return true;
}

/* Reads and checks an image's header and XML, with libvirt's errors. */
static SaveImage *
image_read(const char *path, GError **error)
{
    g_autoptr(SaveImage) img = g_new0(SaveImage, 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open file '%s'", path);
        return NULL;
    }
    bool ok = read_full(fd, &img->header, sizeof(img->header));
    if (!ok)
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "failed to read qemu header");
    else if (memcmp(img->header.magic, SAVE_PARTIAL, sizeof(img->header.magic)) == 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "save image is incomplete");
        ok = false;
    } else if (memcmp(img->header.magic, SAVE_MAGIC, sizeof(img->header.magic)) != 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "image magic is incorrect");
        ok = false;
    } else if (img->header.version > SAVE_VERSION) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "image version is not supported (%d > %d)",
                      (int)img->header.version, SAVE_VERSION);
        ok = false;
    } else if (img->header.data_len == 0 || img->header.data_len > 64 * 1024 * 1024) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "invalid header data length: %d", (int)img->header.data_len);
        ok = false;
    } else if (img->header.compressed != 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s", "compressed save images are not supported");
        ok = false;
    }
    if (ok) {
        g_autofree char *data = g_malloc0(img->header.data_len + 1);
        if (!read_full(fd, data, img->header.data_len)) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "failed to read domain XML");
            ok = false;
        } else {
            img->xml = g_strdup(data); /* up to its NUL: a cookie and the padding follow */
        }
    }
    close(fd);
    return ok ? g_steal_pointer(&img) : NULL;
}

/* Rewrites the header and XML of an image in place (its data length stays). */
static bool
image_rewrite(const char *path, const SaveHeader *header, const char *xml, GError **error)
{
    gsize xml_len = strlen(xml) + 1;
    if (xml_len > header->data_len) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "new xml too large to fit in file");
        return false;
    }
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open file '%s'", path);
        return false;
    }
    SaveHeader h = *header;
    h.cookie_offset = 0;
    g_autofree char *data = g_malloc0(h.data_len);
    memcpy(data, xml, xml_len);
    bool ok = write_full(fd, &h, sizeof(h)) && write_full(fd, data, h.data_len) && fsync(fd) == 0;
    if (!ok)
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "failed to write header to domain save file '%s'",
                            path);
    close(fd);
    return ok;
}

/* The XML a caller gives for an image: the same domain (uuid and name). */
static char *
check_dxml(const char *dxml, const char *image_xml, GError **error)
{
    g_autoptr(VrtDomainDef) cur = vrt_domain_def_parse(image_xml, 0, error);
    g_autoptr(VrtDomainDef) def = cur ? vrt_domain_def_parse(dxml, 0, error) : NULL;
    if (!def)
        return NULL;
    if (memcmp(cur->uuid, def->uuid, 16) != 0 || g_strcmp0(cur->name, def->name) != 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s",
                      "target domain name and uuid do not match the saved domain");
        return NULL;
    }
    return vrt_domain_def_format(def, VRT_DOMAIN_XML_INACTIVE | VRT_DOMAIN_XML_SECURE, error);
}

/* ---- save ---- */

/* Polls query-migrate until the migration ends: true when completed. */
static bool
wait_migration(VrtQemuMonitor *mon, GError **error)
{
    for (;;) {
        g_autoptr(JsonNode) node = vrt_qemu_monitor_command(mon, "query-migrate", NULL, 0, error);
        if (!node)
            return false;
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        const char *status = o ? json_object_get_string_member_with_default(o, "status", "") : "";
        if (g_str_equal(status, "completed"))
            return true;
        if (g_str_equal(status, "failed") || g_str_equal(status, "cancelled")) {
            const char *desc = json_object_get_string_member_with_default(o, "error-desc", status);
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "migration out of domain failed: %s", desc);
            return false;
        }
        g_usleep(SAVE_POLL_US);
    }
}

/* The name the image's descriptor has in QEMU while it migrates. */
#define SAVE_FDNAME "vrt-save-image"

/* Hands QEMU fd (getfd) for cmd ("migrate" or "migrate-incoming") to
 * fd:SAVE_FDNAME. QEMU takes the descriptor over when the command starts
 * (it closes it at the migration's end); one it refused is dropped again. */
static bool
migrate_fd(VrtQemuMonitor *mon, const char *cmd, int fd, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_string_member(args, "uri", "fd:" SAVE_FDNAME);
    if (!vrt_qemu_monitor_getfd(mon, SAVE_FDNAME, fd, error))
        return false;
    g_autoptr(JsonNode) r = vrt_qemu_monitor_command(mon, cmd, args, 0, error);
    if (!r) {
        vrt_qemu_monitor_closefd(mon, SAVE_FDNAME, NULL);
        return false;
    }
    return true;
}

/* Writes the image's header (partial magic) and XML: QEMU appends its
 * stream to the descriptor returned, open for writing at their end; -1 on
 * failure. */
static int
image_begin(const char *path, const char *xml, bool was_running, SaveHeader *h, GError **error)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, SAVE_PARTIAL, sizeof(h->magic));
    h->version = SAVE_VERSION;
    gsize xml_len = strlen(xml) + 1;
    h->data_len = xml_len + SAVE_XML_PAD;
    h->was_running = was_running;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot create save file '%s'", path);
        return -1;
    }
    g_autofree char *data = g_malloc0(h->data_len);
    memcpy(data, xml, xml_len);
    if (!write_full(fd, h, sizeof(*h)) || !write_full(fd, data, h->data_len)) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "failed to write header to domain save file '%s'",
                            path);
        close(fd);
        return -1;
    }
    return fd;
}

/* The stream is complete: the final magic, and the whole file on disk. */
static bool
image_finish(const char *path, GError **error)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open file '%s'", path);
        return false;
    }
    bool ok = pwrite(fd, SAVE_MAGIC, sizeof(SAVE_MAGIC) - 1, 0) == sizeof(SAVE_MAGIC) - 1 && fsync(fd) == 0;
    if (!ok)
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "failed to write header to domain save file '%s'",
                            path);
    close(fd);
    if (ok) {
        g_autofree char *dir = g_path_get_dirname(path);
        vrt_dir_sync(dir);
    }
    return ok;
}

/* The monitor (a reference) of an active domain and whether its CPUs run
 * (*running); NULL with libvirt's "domain is not running". Object lock
 * held. */
static VrtQemuMonitor *
active_monitor_locked(VrtQemuDom *obj, bool *running, GError **error)
{
    if (!vrt_qemu_dom_is_active_locked(obj) || !obj->mon) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "domain is not running");
        return NULL;
    }
    *running = obj->state == VRT_DOMAIN_RUNNING;
    return vrt_qemu_monitor_ref(obj->mon);
}

/* Saves an active domain under its job (SUSPEND: its STOP is ours). */
static bool
save_locked_job(VrtQemuDom *obj, const char *path, const char *dxml, guint flags, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autofree char *xml = NULL;
    bool running;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        if (!(mon = active_monitor_locked(obj, &running, error)))
            return false;
        xml = vrt_domain_def_format(obj->def, VRT_DOMAIN_XML_INACTIVE | VRT_DOMAIN_XML_SECURE, error);
    }
    if (!xml)
        return false;
    if (dxml) {
        g_autofree char *given = check_dxml(dxml, xml, error);
        if (!given)
            return false;
        g_free(xml);
        xml = g_steal_pointer(&given);
    }
    bool was_running = flags & SAVE_RUNNING ? true : flags & SAVE_PAUSED ? false : running;
    if (running) {
        if (!vrt_qemu_monitor_stop(mon, error))
            return false;
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_PAUSED, PAUSED_SAVE);
        vrt_qemu_dom_save_status_locked(obj, NULL);
    }
    SaveHeader h;
    int fd = image_begin(path, xml, was_running, &h, error);
    bool ok = fd >= 0 && migrate_fd(mon, "migrate", fd, error) && wait_migration(mon, error);
    if (fd >= 0)
        close(fd);
    if (!ok || !image_finish(path, error)) {
        unlink(path);
        /* The guest goes on as before. */
        if (running) {
            g_autoptr(GError) err = NULL;
            if (!vrt_qemu_monitor_cont(mon, &err))
                g_warning("domain could not be resumed after a failed save: %s", err->message);
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            vrt_qemu_dom_set_state_locked(obj, err ? VRT_DOMAIN_PAUSED : VRT_DOMAIN_RUNNING,
                                          err ? PAUSED_SAVE : VRT_DOMAIN_RUNNING_UNPAUSED);
            vrt_qemu_dom_save_status_locked(obj, NULL);
        }
        return false;
    }
    vrt_qemu_job_completed(obj, mon, VRT_DOMAIN_JOB_OPERATION_SAVE);
    vrt_qemu_process_stop(obj, SHUTOFF_SAVED, EVENT_STOPPED_SAVED);
    return true;
}

bool
vrt_qemu_domain_save(VrtQemuDriver *drv, const guchar *uuid, const char *path, const char *dxml, guint flags,
                     GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;

    if ((flags & SAVE_RUNNING) && (flags & SAVE_PAUSED)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "Flags 'running' and 'paused' are mutually exclusive");
        return false;
    }
    return obj && vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_SUSPEND, error) &&
           save_locked_job(obj, path, dxml, flags, error);
}

bool
vrt_qemu_domain_managed_save(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autofree char *path = NULL;
    g_autofree char *dir = NULL;

    if ((flags & SAVE_RUNNING) && (flags & SAVE_PAUSED)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "Flags 'running' and 'paused' are mutually exclusive");
        return false;
    }
    if (!obj || !vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_SUSPEND, error))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        if (!obj->persistent) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "cannot do managed save for transient domain");
            return false;
        }
        path = vrt_qemu_save_managed_path(drv, obj->def->name);
    }
    dir = g_path_get_dirname(path);
    if (!vrt_dir_ensure(dir, 0700, error) || !save_locked_job(obj, path, NULL, flags, error))
        return false;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    obj->managed_save = true;
    return true;
}

/* ---- restore ---- */

bool
vrt_qemu_save_load_incoming(VrtQemuDom *obj, VrtQemuMonitor *mon, GError **error)
{
    const VrtQemuRestore *r = obj->restore;
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open file '%s'", r->path);
        return false;
    }
    /* QEMU reads on from the descriptor's offset: the stream's first byte. */
    if (lseek(fd, (off_t)r->offset, SEEK_SET) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot seek in file '%s'", r->path);
        close(fd);
        return false;
    }
    bool ok = migrate_fd(mon, "migrate-incoming", fd, error);
    close(fd);
    if (!ok)
        return false;
    for (;;) {
        g_autoptr(JsonNode) node = vrt_qemu_monitor_command(mon, "query-migrate", NULL, 0, error);
        if (!node)
            return false;
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        const char *status = o ? json_object_get_string_member_with_default(o, "status", "") : "";
        if (g_str_equal(status, "completed"))
            return true;
        if (g_str_equal(status, "failed") || g_str_equal(status, "cancelled")) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s",
                          "the domain's state could not be loaded from its image");
            return false;
        }
        g_usleep(SAVE_POLL_US);
    }
}

/* Starts obj (inactive, under its start job, its definition the image's)
 * from the image. */
static bool
start_from_image(VrtQemuDom *obj, const char *path, const SaveImage *img, guint flags, GError **error)
{
    VrtQemuRestore r = { .path = (char *)path, .offset = sizeof(SaveHeader) + img->header.data_len };
    bool paused = flags & SAVE_PAUSED ? true : flags & SAVE_RUNNING ? false : !img->header.was_running;
    obj->restore = &r;
    bool ok = vrt_qemu_process_start(obj, paused ? VRT_DOMAIN_START_PAUSED : 0, error);
    obj->restore = NULL;
    return ok;
}

bool
vrt_qemu_domain_restore(VrtQemuDriver *drv, const char *path, const char *dxml, guint flags, GError **error)
{
    g_autoptr(SaveImage) img = image_read(path, error);
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autofree char *xml = NULL;
    bool added = false;

    if ((flags & SAVE_RUNNING) && (flags & SAVE_PAUSED)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "Flags 'running' and 'paused' are mutually exclusive");
        return false;
    }
    if (!img)
        return false;
    xml = dxml ? check_dxml(dxml, img->xml, error) : g_strdup(img->xml);
    if (!xml)
        return false;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, error);
    if (!(obj = vrt_qemu_driver_reserve(drv, &def, VRT_QEMU_JOB_START, &job, &added, error)))
        return false;
    if (!added) {
        bool active;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            active = vrt_qemu_dom_is_active_locked(obj);
            if (!active) {
                /* The image's definition runs this once. */
                obj->newdef = obj->def;
                obj->def = g_steal_pointer(&def);
            }
        }
        if (active) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "domain is already active");
            return false;
        }
    }
    if (!start_from_image(obj, path, img, flags, error)) {
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            if (!added && obj->newdef) {
                vrt_domain_def_free(obj->def);
                obj->def = g_steal_pointer(&obj->newdef);
            }
        }
        if (added)
            vrt_qemu_driver_remove(drv, obj);
        return false;
    }
    return true;
}

bool
vrt_qemu_save_start_managed(VrtQemuDom *obj, guint flags, GError **error)
{
    VrtQemuDriver *drv = obj->drv;
    g_autofree char *path = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        path = vrt_qemu_save_managed_path(drv, obj->def->name);
    }
    if (flags & START_FORCE_BOOT) {
        if (unlink(path) < 0 && errno != ENOENT) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot remove managed save file %s", path);
            return false;
        }
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            obj->managed_save = false;
        }
        return vrt_qemu_process_start(obj, flags & VRT_DOMAIN_START_PAUSED, error);
    }
    g_autoptr(SaveImage) img = image_read(path, error);
    if (!img)
        return false;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(img->xml, 0, error);
    if (!def || !vrt_domain_def_assign_addresses(def, error))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        obj->newdef = obj->def;
        obj->def = g_steal_pointer(&def);
    }
    guint rflags = flags & VRT_DOMAIN_START_PAUSED ? SAVE_PAUSED : 0;
    if (!start_from_image(obj, path, img, rflags, error)) {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        if (obj->newdef) {
            vrt_domain_def_free(obj->def);
            obj->def = g_steal_pointer(&obj->newdef);
        }
        return false;
    }
    /* Running from it: the image is spent. */
    unlink(path);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    obj->managed_save = false;
    return true;
}

/* ---- images' XML, managed save queries ---- */

char *
vrt_qemu_domain_save_image_get_xml(VrtQemuDriver *drv, const char *path, guint flags, GError **error)
{
    (void)drv;
    (void)flags; /* the image's XML has no secrets to hide: it was written without them */
    g_autoptr(SaveImage) img = image_read(path, error);
    return img ? g_steal_pointer(&img->xml) : NULL;
}

static bool
define_image_xml(const char *path, const char *dxml, guint flags, GError **error)
{
    g_autoptr(SaveImage) img = image_read(path, error);
    if (!img)
        return false;
    g_autofree char *xml = dxml ? check_dxml(dxml, img->xml, error) : g_strdup(img->xml);
    if (!xml)
        return false;
    if (flags & SAVE_RUNNING)
        img->header.was_running = 1;
    else if (flags & SAVE_PAUSED)
        img->header.was_running = 0;
    return image_rewrite(path, &img->header, xml, error);
}

bool
vrt_qemu_domain_save_image_define_xml(VrtQemuDriver *drv, const char *path, const char *dxml, guint flags,
                                      GError **error)
{
    (void)drv;
    if ((flags & SAVE_RUNNING) && (flags & SAVE_PAUSED)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "Flags 'running' and 'paused' are mutually exclusive");
        return false;
    }
    return define_image_xml(path, dxml, flags, error);
}

/* The managed image's path of an existing domain that has one. */
static char *
managed_image(VrtQemuDom *obj, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    if (!obj->managed_save) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "domain does not have managed save image");
        return NULL;
    }
    return vrt_qemu_save_managed_path(obj->drv, obj->def->name);
}

int
vrt_qemu_domain_has_managed_save(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj)
        return -1;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    return obj->managed_save ? 1 : 0;
}

bool
vrt_qemu_domain_managed_save_remove(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autofree char *path = NULL;

    if (!obj || !vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_MODIFY, error))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        path = vrt_qemu_save_managed_path(drv, obj->def->name);
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to remove managed save file '%s'", path);
        return false;
    }
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    obj->managed_save = false;
    return true;
}

char *
vrt_qemu_domain_managed_save_get_xml(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autofree char *path = obj ? managed_image(obj, error) : NULL;
    return path ? vrt_qemu_domain_save_image_get_xml(drv, path, flags, error) : NULL;
}

bool
vrt_qemu_domain_managed_save_define_xml(VrtQemuDriver *drv, const guchar *uuid, const char *dxml, guint flags,
                                        GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    if (!obj || !vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_MODIFY, error))
        return false;
    g_autofree char *path = managed_image(obj, error);
    return path && vrt_qemu_domain_save_image_define_xml(drv, path, dxml, flags, error);
}

bool
vrt_qemu_save_undefine_check(VrtQemuDom *obj, guint flags, GError **error)
{
    g_autofree char *path = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        if (!obj->managed_save)
            return true;
        if (!(flags & UNDEFINE_MANAGED_SAVE)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s",
                          "Refusing to undefine while domain managed save image exists");
            return false;
        }
        path = vrt_qemu_save_managed_path(obj->drv, obj->def->name);
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to remove domain managed save image '%s'",
                            path);
        return false;
    }
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    obj->managed_save = false;
    return true;
}

/* ---- core dump (virsh dump) ---- */

#define DUMP_CRASH 1u
#define DUMP_LIVE 2u
#define DUMP_RESET 8u
#define DUMP_MEMORY_ONLY 16u
#define PAUSED_DUMP 7
#define EVENT_STOPPED_CRASHED 2
#define DUMP_FDNAME "vrt-dump"

/* libvirt's VIR_DOMAIN_CORE_DUMP_FORMAT_* as dump-guest-memory's formats
 * (raw is QEMU's elf) */
static const char *const dump_formats[] = { "elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "win-dmp" };

/* Whether this QEMU writes format (query-dump-guest-memory-capability). */
static bool
dump_format_supported(VrtQemuMonitor *mon, const char *format, GError **error)
{
    g_autoptr(JsonNode) node = vrt_qemu_monitor_command(mon, "query-dump-guest-memory-capability", NULL, 0, error);
    JsonObject *o = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    JsonArray *formats = o && json_object_has_member(o, "formats") ? json_object_get_array_member(o, "formats") : NULL;

    if (!node)
        return false;
    for (guint i = 0; formats && i < json_array_get_length(formats); i++)
        if (g_strcmp0(json_array_get_string_element(formats, i), format) == 0)
            return true;
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported dumpformat '%s' for this QEMU binary", format);
    return false;
}

/* dump-guest-memory into fd, detached, then query-dump until it ends. */
static bool
dump_memory(VrtQemuMonitor *mon, int fd, const char *format, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) r = NULL;

    if (!g_str_equal(format, "elf") && !dump_format_supported(mon, format, error))
        return false;
    if (!vrt_qemu_monitor_getfd(mon, DUMP_FDNAME, fd, error))
        return false;
    json_object_set_boolean_member(args, "paging", FALSE);
    json_object_set_string_member(args, "protocol", "fd:" DUMP_FDNAME);
    json_object_set_boolean_member(args, "detach", TRUE);
    if (!g_str_equal(format, "elf"))
        json_object_set_string_member(args, "format", format);
    if (!(r = vrt_qemu_monitor_command(mon, "dump-guest-memory", args, 0, error))) {
        vrt_qemu_monitor_closefd(mon, DUMP_FDNAME, NULL);
        return false;
    }
    for (;;) {
        g_autoptr(JsonNode) node = vrt_qemu_monitor_command(mon, "query-dump", NULL, 0, error);
        JsonObject *o = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        const char *status = o ? json_object_get_string_member_with_default(o, "status", "") : "";

        if (!node)
            return false;
        if (g_str_equal(status, "completed"))
            return true;
        if (g_str_equal(status, "failed")) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "memory-only dump failed");
            return false;
        }
        g_usleep(SAVE_POLL_US);
    }
}

/* The dump itself, into a new file at path (removed again on failure). */
static bool
dump_to_file(VrtQemuMonitor *mon, const char *path, guint format, guint flags, GError **error)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok;

    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to create file '%s'", path);
        return false;
    }
    if (flags & DUMP_MEMORY_ONLY)
        ok = dump_memory(mon, fd, dump_formats[format], error);
    else
        ok = migrate_fd(mon, "migrate", fd, error) && wait_migration(mon, error);
    if (close(fd) < 0 && ok) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "unable to close file %s", path);
        ok = false;
    }
    if (!ok)
        unlink(path);
    return ok;
}

bool
vrt_qemu_domain_core_dump(VrtQemuDriver *drv, const guchar *uuid, const char *path, guint format, guint flags,
                          GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    bool running, ok;

    if ((flags & DUMP_MEMORY_ONLY) && format >= G_N_ELEMENTS(dump_formats)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown dumpformat '%u'", format);
        return false;
    }
    if (!(flags & DUMP_MEMORY_ONLY) && format != 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                      "kdump-compressed format is only supported with memory-only dump");
        return false;
    }
    /* the job of a save: the STOP and the migration's end are ours */
    obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj || !vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_SUSPEND, error))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!(mon = active_monitor_locked(obj, &running, error)))
            return false;
    }
    if (running && !(flags & DUMP_LIVE)) {
        if (!vrt_qemu_monitor_stop(mon, error))
            return false;
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_PAUSED, PAUSED_DUMP);
        vrt_qemu_dom_save_status_locked(obj, NULL);
    }
    ok = dump_to_file(mon, path, format, flags, error);
    if (ok && (flags & DUMP_CRASH)) {
        vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_CRASHED, EVENT_STOPPED_CRASHED);
        return true;
    }
    if (ok && (flags & DUMP_RESET) && !vrt_qemu_monitor_system_reset(mon, error))
        ok = false;
    /* A migration always leaves QEMU stopped: a domain that ran runs on. */
    if (running) {
        g_autoptr(GError) err = NULL;
        bool resumed = vrt_qemu_monitor_cont(mon, &err);
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        vrt_qemu_dom_set_state_locked(obj, resumed ? VRT_DOMAIN_RUNNING : VRT_DOMAIN_PAUSED,
                                      resumed ? VRT_DOMAIN_RUNNING_UNPAUSED : PAUSED_DUMP);
        vrt_qemu_dom_save_status_locked(obj, NULL);
        if (!resumed && ok) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "resuming after dump failed: %s", err->message);
            return false;
        }
    }
    return ok;
}
