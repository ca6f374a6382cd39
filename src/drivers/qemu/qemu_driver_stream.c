/*
 * What a stream of a domain reads and writes: the file descriptors behind
 * libvirt's virDomainOpenConsole (a serial port's or console's pty, opened
 * at its slave side in raw mode as libvirt does), virDomainOpenChannel (a
 * connection to a channel's UNIX socket) and virDomainScreenshot (QMP
 * screendump into the domain's run directory, the file opened and removed
 * at once). The daemon binds each fd to an RPC stream (src/rpc/stream.h);
 * the driver knows no stream. A console's fd ends (EIO, hang-up) when QEMU
 * exits, which ends the stream.
 */
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_domain.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

/* The character device of a running domain libvirt's OpenConsole picks:
 * by alias among consoles then serial ports, or the first console, else
 * the first serial port. Returns a copy of its pty path. Under obj->lock. */
static char *
console_path_locked(VrtQemuDom *obj, const char *dev_name, GError **error)
{
    VrtDomainDef *def = obj->def;
    VrtDomainChrDef *chr = NULL;
    GPtrArray *lists[] = { def->consoles, def->serials };

    for (guint l = 0; dev_name && !chr && l < G_N_ELEMENTS(lists); l++)
        for (guint i = 0; !chr && lists[l] && i < lists[l]->len; i++) {
            VrtDomainChrDef *c = g_ptr_array_index(lists[l], i);

            if (g_strcmp0(c->info.alias, dev_name) == 0)
                chr = c;
        }
    if (!dev_name && def->consoles && def->consoles->len)
        chr = g_ptr_array_index(def->consoles, 0);
    else if (!dev_name && def->serials && def->serials->len)
        chr = g_ptr_array_index(def->serials, 0);
    if (!chr) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot find character device %s", dev_name ? dev_name : "<null>");
        return NULL;
    }
    if (chr->type != VRT_DOMAIN_CHR_TYPE_PTY) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "character device %s is not using a PTY",
                      dev_name ? dev_name : (chr->info.alias ? chr->info.alias : "<null>"));
        return NULL;
    }
    if (!chr->path) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "the console's pty path is not known");
        return NULL;
    }
    return g_strdup(chr->path);
}

/* The running domain obj of uuid, NULL with libvirt's error. */
static VrtQemuDom *
find_running(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);

    if (!obj)
        return NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!vrt_qemu_dom_is_active_locked(obj)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
            return NULL;
        }
    }
    return g_steal_pointer(&obj);
}

int
vrt_qemu_domain_open_console(VrtQemuDriver *drv, const guchar *uuid, const char *dev_name, guint flags, char **key,
                             GError **error)
{
    g_autoptr(VrtQemuDom) obj = find_running(drv, uuid, error);
    g_autofree char *path = NULL;
    struct termios tio;
    int fd;

    (void)flags; /* FORCE and SAFE are the caller's (who holds the console) */
    if (!obj)
        return -1;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        path = console_path_locked(obj, dev_name, error);
    }
    if (!path)
        return -1;
    fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Unable to open stream for '%s'", path);
        return -1;
    }
    /* Raw: the guest's bytes pass as they are, no echo or line editing here. */
    if (tcgetattr(fd, &tio) == 0) {
        cfmakeraw(&tio);
        if (tcsetattr(fd, TCSANOW, &tio) < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "unable to set tty attributes: %s", path);
            close(fd);
            return -1;
        }
    }
    *key = g_steal_pointer(&path);
    return fd;
}

int
vrt_qemu_domain_open_channel(VrtQemuDriver *drv, const guchar *uuid, const char *name, guint flags, char **key,
                             GError **error)
{
    g_autoptr(VrtQemuDom) obj = find_running(drv, uuid, error);
    g_autofree char *path = NULL;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    (void)flags;
    if (!obj)
        return -1;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        GPtrArray *channels = obj->def->channels;
        VrtDomainChrDef *chr = NULL;

        for (guint i = 0; name && channels && i < channels->len; i++) {
            VrtDomainChrDef *c = g_ptr_array_index(channels, i);

            if (g_strcmp0(c->info.alias, name) == 0 || g_strcmp0(c->target_name, name) == 0)
                chr = c;
        }
        if (!name && channels && channels->len)
            chr = g_ptr_array_index(channels, 0);
        if (!chr) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot find channel %s", name ? name : "<null>");
            return -1;
        }
        if (chr->type != VRT_DOMAIN_CHR_TYPE_UNIX || !chr->path) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "channel %s is not using a UNIX socket",
                          name ? name : (chr->info.alias ? chr->info.alias : "<null>"));
            return -1;
        }
        path = g_strdup(chr->path);
    }
    if (strlen(path) >= sizeof(addr.sun_path)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "UNIX socket path '%s' too long", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Unable to open stream for '%s'", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *key = g_steal_pointer(&path);
    return fd;
}

int
vrt_qemu_domain_screenshot(VrtQemuDriver *drv, const guchar *uuid, guint screen, guint flags, char **mime,
                           GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) reply = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *tmp = NULL;
    int fd;

    (void)flags;
    if (!obj || !vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_MODIFY, error))
        return -1;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!vrt_qemu_dom_is_active_locked(obj) || !obj->mon) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
            return -1;
        }
        if (!obj->def->videos || obj->def->videos->len == 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "no screens to take screenshot from");
            return -1;
        }
        /* Screens are numbered across the video devices, each with its
         * heads (1 unless set), as libvirt numbers them; QEMU's screendump
         * takes the device and its head. */
        if (screen) {
            guint i;
            for (i = 0; i < obj->def->videos->len; i++) {
                const VrtDomainVideoDef *video = g_ptr_array_index(obj->def->videos, i);
                guint heads = video->heads ? video->heads : 1;
                if (screen < heads) {
                    if (!video->info.alias) {
                        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "video device has no alias");
                        return -1;
                    }
                    json_object_set_string_member(args, "device", video->info.alias);
                    json_object_set_int_member(args, "head", screen);
                    break;
                }
                screen -= heads;
            }
            if (i == obj->def->videos->len) {
                vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "no such screen ID");
                return -1;
            }
        }
        mon = vrt_qemu_monitor_ref(obj->mon);
        /* The domain's run directory, where its monitor socket is. */
        dir = g_path_get_dirname(obj->monitor_path);
    }
    tmp = g_build_filename(dir, "qemu.screendump.XXXXXX", NULL);
    fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "g_mkstemp(\"%s\") failed", tmp);
        return -1;
    }
    {
        /* QEMU opens it by path: it belongs to QEMU's user, who owns the
         * run directory when QEMU runs unprivileged (qemu_security.c). */
        struct stat st;

        if (stat(dir, &st) == 0 && st.st_uid != 0 && fchown(fd, st.st_uid, st.st_gid) < 0)
            g_debug("cannot give %s to QEMU's user: %s", tmp, g_strerror(errno));
    }
    json_object_set_string_member(args, "filename", tmp);
    reply = vrt_qemu_monitor_command(mon, "screendump", args, 0, error);
    /* QEMU wrote the image at that path: the stream reads it from a fresh fd. */
    close(fd);
    fd = reply ? open(tmp, O_RDONLY | O_CLOEXEC) : -1;
    if (reply && fd < 0)
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "unable to open stream");
    unlink(tmp);
    if (fd < 0)
        return -1;
    *mime = g_strdup("image/x-portable-pixmap");
    return fd;
}
