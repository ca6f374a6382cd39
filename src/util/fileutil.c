/*
 * Atomic state files. A state file is written to a temporary name in the same
 * directory and renamed over the old one, so a daemon killed at any instant
 * leaves the old or the new file. A durable write also flushes the file
 * before the rename and the directory after it, so that a power loss leaves
 * the old or the new file too; a volatile one does not (statesync.c flushes
 * those later).
 */
#include "util/fileutil.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
write_atomic(const char *path, const char *data, gssize len, mode_t mode, bool durable, GError **error)
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
    if (fchmod(fd, mode) < 0 || !write_all(fd, data, (gsize)len) || (durable && fsync(fd) < 0)) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        vrt_error_set_errno(error, VIR_ERR_WRITE_FAILED, saved, "cannot write '%s'", path);
        return false;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        int saved = errno;
        unlink(tmp);
        vrt_error_set_errno(error, VIR_ERR_WRITE_FAILED, saved, "cannot replace '%s'", path);
        return false;
    }
    if (durable)
        vrt_dir_sync(dir);
    return true;
}

bool
vrt_file_write_atomic(const char *path, const char *data, gssize len, mode_t mode, GError **error)
{
    return write_atomic(path, data, len, mode, true, error);
}

bool
vrt_file_write_volatile(const char *path, const char *data, gssize len, mode_t mode, GError **error)
{
    return write_atomic(path, data, len, mode, false, error);
}

void
vrt_dir_sync(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
}

bool
vrt_file_read(const char *path, char **contents, gsize *len, GError **error)
{
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(path, contents, len, &local)) {
        int code = g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? VIR_ERR_OPEN_FAILED
                                                                              : VIR_ERR_READ_FAILED;
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
