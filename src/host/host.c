/*
 * The host seam: sysfs and /dev access under a root prefix, the choice of
 * the netlink transport, the fault hook asked before host changes, and
 * the write function that stands in for the kernel in tests.
 */
#include "host/host.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

#define VRT_HOST_SIM_MARKER ".vrt-hostsim"
#define VRT_HOST_SIM_NETLINK "run/vrt-hostsim/netlink.sock"
#define VRT_HOST_ATTR_MAX (64 * 1024) /* sysfs attributes fit in a page; be generous */

struct _VrtHost {
    char *root; /* without trailing slash; "" for "/" */
    bool simulated;
    VrtNetlink *netlink;
    VrtHostFaultFunc fault_func;
    gpointer fault_data;
    VrtHostWriteFunc write_func;
    gpointer write_data;
    GRecMutex changes;
};

/* The netlink socket named in the marker, or the default one. */
static char *
sim_netlink_path(const char *root, const char *marker)
{
    g_autofree char *text = NULL;

    if (g_file_get_contents(marker, &text, NULL, NULL)) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++)
            if (g_str_has_prefix(*l, "netlink=") && (*l)[8])
                return g_build_filename(root, *l + 8, NULL);
    }
    return g_build_filename(root, VRT_HOST_SIM_NETLINK, NULL);
}

VrtHost *
vrt_host_new(const char *root, GError **error)
{
    g_autoptr(VrtHost) host = g_new0(VrtHost, 1);
    g_autofree char *marker = NULL;
    struct stat st;

    g_rec_mutex_init(&host->changes);
    if (!root || !*root)
        root = "/";
    if (root[0] != '/') {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "host root '%s' is not an absolute path", root);
        return NULL;
    }
    if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno ? errno : ENOTDIR, "cannot use host root '%s'", root);
        return NULL;
    }
    host->root = g_strdup(root);
    while (*host->root && host->root[strlen(host->root) - 1] == '/')
        host->root[strlen(host->root) - 1] = '\0';
    marker = g_build_filename(root, VRT_HOST_SIM_MARKER, NULL);
    host->simulated = g_file_test(marker, G_FILE_TEST_EXISTS);
    if (host->simulated) {
        g_autofree char *sock = sim_netlink_path(root, marker);
        g_info("host root %s is simulated; netlink goes to %s", root, sock);
        host->netlink = vrt_netlink_new_unix(sock);
    } else {
        host->netlink = vrt_netlink_new_kernel();
    }
    return g_steal_pointer(&host);
}

void
vrt_host_free(VrtHost *host)
{
    if (!host)
        return;
    vrt_netlink_free(host->netlink);
    g_rec_mutex_clear(&host->changes);
    g_free(host->root);
    g_free(host);
}

bool
vrt_host_is_simulated(VrtHost *host)
{
    return host->simulated;
}

VrtNetlink *
vrt_host_netlink(VrtHost *host)
{
    return host->netlink;
}

void
vrt_host_set_fault_func(VrtHost *host, VrtHostFaultFunc func, gpointer data)
{
    host->fault_func = func;
    host->fault_data = data;
}

void
vrt_host_set_write_func(VrtHost *host, VrtHostWriteFunc func, gpointer data)
{
    host->write_func = func;
    host->write_data = data;
}

bool
vrt_host_check_fault(VrtHost *host, const char *what, GError **error)
{
    if (!host->fault_func)
        return true;
    return host->fault_func(what, host->fault_data, error);
}

GRecMutexLocker *
vrt_host_changes_locker(VrtHost *host)
{
    return g_rec_mutex_locker_new(&host->changes);
}

char *
vrt_host_path(VrtHost *host, const char *path)
{
    return g_strconcat(host->root, path[0] == '/' ? "" : "/", path, NULL);
}

bool
vrt_host_exists(VrtHost *host, const char *path)
{
    g_autofree char *real = vrt_host_path(host, path);
    struct stat st;
    return lstat(real, &st) == 0;
}

char *
vrt_host_read(VrtHost *host, const char *path, GError **error)
{
    g_autofree char *real = vrt_host_path(host, path);
    g_autofree char *buf = g_malloc(VRT_HOST_ATTR_MAX + 1);
    gsize len = 0;
    int fd = open(real, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot read '%s'", path);
        return NULL;
    }
    while (len < VRT_HOST_ATTR_MAX) {
        ssize_t n = read(fd, buf + len, VRT_HOST_ATTR_MAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, e, "cannot read '%s'", path);
            return NULL;
        }
        if (n == 0)
            break;
        len += n;
    }
    close(fd);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\0'))
        len--;
    buf[len] = '\0';
    return g_strdup(buf);
}

bool
vrt_host_read_u64(VrtHost *host, const char *path, guint64 *value, GError **error)
{
    g_autofree char *text = vrt_host_read(host, path, error);
    char *end = NULL;

    if (!text)
        return false;
    errno = 0;
    *value = g_ascii_strtoull(g_strstrip(text), &end, 0);
    if (errno || end == text || *end) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'%s' holds '%s', not a number", path, text);
        return false;
    }
    return true;
}

bool
vrt_host_write(VrtHost *host, const char *path, const char *value, GError **error)
{
    g_autofree char *real = vrt_host_path(host, path);
    g_autofree char *what = g_strdup_printf("write %s", path);
    size_t len = strlen(value);
    ssize_t n;
    int fd;

    if (!vrt_host_check_fault(host, what, error))
        return false;
    if (host->write_func)
        return host->write_func(path, value, host->write_data, error);
    /* O_TRUNC as a shell's redirection and libvirt's virFileWriteStr: sysfs
     * ignores it, and a plain file under a test's host root then holds the
     * value alone, as the attribute would. */
    fd = open(real, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open '%s' for writing", path);
        return false;
    }
    do {
        n = write(fd, value, len);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len) {
        int e = n < 0 ? errno : EIO;
        close(fd);
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, e, "cannot write '%s' to '%s'", value, path);
        return false;
    }
    if (close(fd) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot write '%s' to '%s'", value, path);
        return false;
    }
    g_debug("host: wrote '%s' to %s", value, path);
    return true;
}

char *
vrt_host_readlink(VrtHost *host, const char *path, GError **error)
{
    g_autofree char *real = vrt_host_path(host, path);
    g_autoptr(GError) err = NULL;
    char *target = g_file_read_link(real, &err);

    if (!target)
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "cannot read link '%s': %s", path, err->message);
    return target;
}

char *
vrt_host_link_name(VrtHost *host, const char *path, GError **error)
{
    g_autofree char *target = NULL;

    if (!vrt_host_exists(host, path))
        return NULL;
    target = vrt_host_readlink(host, path, error);
    return target ? g_path_get_basename(target) : NULL;
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *
vrt_host_list_dir(VrtHost *host, const char *path, GError **error)
{
    g_autofree char *real = vrt_host_path(host, path);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) dir = g_dir_open(real, 0, &err);
    const char *name;

    if (!dir) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&names);
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "cannot list '%s': %s", path, err->message);
        return NULL;
    }
    while ((name = g_dir_read_name(dir)))
        g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, cmp_str);
    return g_steal_pointer(&names);
}
