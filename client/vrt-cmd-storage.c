/*
 * vrt's storage commands: pool-list, pool-define, pool-build, pool-start,
 * pool-destroy, pool-delete, pool-undefine, pool-refresh, pool-dumpxml,
 * pool-info, pool-autostart, and vol-list, vol-create, vol-create-as,
 * vol-delete, vol-dumpxml, vol-info, vol-path, vol-resize, vol-wipe,
 * vol-upload and vol-download (a volume named by its pool and its name, as
 * positional arguments).
 */
#include "vrt-cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(vrt_storage_pool, vrt_storage_pool_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vrt_storage_vol, vrt_storage_vol_free)

/* The pool named by pos[0]; NULL after printing why. */
static vrt_storage_pool *
pool_arg(VrtArgs *args)
{
    vrt_error *err = NULL;
    vrt_storage_pool *pool = vrt_storage_pool_lookup_by_name(args->conn, args->pos[0], &err);
    if (!pool)
        vrt_cli_fail(err);
    return pool;
}

/* The volume named by pos[1] in the pool of pos[0]; NULL after printing why. */
static vrt_storage_vol *
vol_arg(VrtArgs *args)
{
    g_autoptr(vrt_storage_pool) pool = pool_arg(args);
    if (!pool)
        return NULL;
    vrt_error *err = NULL;
    vrt_storage_vol *vol = vrt_storage_vol_lookup_by_name(pool, args->pos[1], &err);
    if (!vol)
        vrt_cli_fail(err);
    return vol;
}

/* A size as virsh reads it: bytes, or a number with a suffix (k, KiB, KB,
 * M, MiB, MB, ... up to E); false when it is not one. */
static bool
parse_size(const char *s, unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return false;
    unsigned long long base = 1024;
    int power = 0;
    if (*end) {
        const char *p = strchr("kmgtpe", g_ascii_tolower(*end));
        if (g_ascii_strcasecmp(end, "b") == 0 || g_ascii_strcasecmp(end, "bytes") == 0)
            power = 0;
        else if (!p)
            return false;
        else if (end[1] == '\0' || (end[1] == 'i' && g_ascii_tolower(end[2]) == 'b' && end[3] == '\0'))
            power = (int)(p - "kmgtpe") + 1;
        else if (g_ascii_tolower(end[1]) == 'b' && end[2] == '\0')
            power = (int)(p - "kmgtpe") + 1, base = 1000;
        else
            return false;
    }
    for (int i = 0; i < power; i++) {
        if (v > G_MAXUINT64 / base)
            return false;
        v *= base;
    }
    *out = v;
    return true;
}

static gint
pool_order(gconstpointer a, gconstpointer b)
{
    return strcmp(vrt_storage_pool_get_name(*(vrt_storage_pool **)a),
                  vrt_storage_pool_get_name(*(vrt_storage_pool **)b));
}

static int
cmd_pool_list(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    unsigned int flags =
        vrt_cli_list_flags(args, VRT_CONNECT_LIST_STORAGE_POOLS_ACTIVE, VRT_CONNECT_LIST_STORAGE_POOLS_INACTIVE);
    vrt_error *err = NULL;
    vrt_storage_pool **pools = NULL;
    int n = vrt_conn_list_all_storage_pools(args->conn, &pools, flags, &err);
    if (n < 0)
        return vrt_cli_fail(err);
    qsort(pools, n, sizeof(*pools), (int (*)(const void *, const void *))pool_order);
    VrtCliList list;
    vrt_cli_list_init(&list);
    for (int i = 0; i < n; i++) {
        int active = vrt_storage_pool_is_active(pools[i], &err);
        int autostart = 0;
        if (active < 0 || vrt_storage_pool_get_autostart(pools[i], &autostart, &err) < 0) {
            /* Gone between the list and these calls: leave it out. */
            vrt_cli_forget(&err);
            continue;
        }
        const char *name = vrt_storage_pool_get_name(pools[i]);
        vrt_cli_list_row(&list, name, active ? "active" : "inactive", autostart ? "yes" : "no", NULL);
        char uuid[VRT_UUID_STRING_BUFLEN];
        vrt_storage_pool_get_uuid_string(pools[i], uuid);
        json_builder_begin_object(list.json);
        vrt_cli_json_str(list.json, "name", name);
        vrt_cli_json_str(list.json, "uuid", uuid);
        vrt_cli_json_bool(list.json, "active", active);
        vrt_cli_json_bool(list.json, "autostart", autostart);
        json_builder_end_object(list.json);
    }
    vrt_storage_pool_list_free(pools);
    static const char *const header[] = { "Name", "State", "Autostart" };
    vrt_cli_list_print(cli, &list, header, 3);
    return VRT_EXIT_OK;
}

static int
cmd_pool_define(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    g_autoptr(vrt_storage_pool) pool = vrt_storage_pool_define_xml(args->conn, args->xml, 0, &err);
    return vrt_cli_done(pool ? 0 : -1, err, "Pool %s defined from %s", pool ? vrt_storage_pool_get_name(pool) : "",
                        args->pos[0]);
}

typedef enum {
    POOL_BUILD,
    POOL_START,
    POOL_DESTROY,
    POOL_DELETE,
    POOL_UNDEFINE,
    POOL_REFRESH,
} PoolOp;

static int
pool_op(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args, PoolOp op)
{
    g_autoptr(vrt_storage_pool) pool = pool_arg(args);
    if (!pool)
        return VRT_EXIT_ERROR;
    vrt_error *err = NULL;
    int r = -1;
    const char *done = NULL;
    switch (op) {
    case POOL_BUILD:
        r = vrt_storage_pool_build(pool, 0, &err);
        done = "built";
        break;
    case POOL_START:
        r = vrt_storage_pool_create(pool, vrt_cli_flag(args, "build") ? VRT_STORAGE_POOL_CREATE_WITH_BUILD : 0, &err);
        done = "started";
        break;
    case POOL_DESTROY:
        r = vrt_storage_pool_destroy(pool, &err);
        done = "destroyed";
        break;
    case POOL_DELETE:
        r = vrt_storage_pool_delete(pool, 0, &err);
        done = "deleted";
        break;
    case POOL_UNDEFINE:
        r = vrt_storage_pool_undefine(pool, &err);
        done = "has been undefined";
        break;
    case POOL_REFRESH:
        r = vrt_storage_pool_refresh(pool, 0, &err);
        done = "refreshed";
        break;
    }
    return vrt_cli_done(r, err, "Pool %s %s", vrt_storage_pool_get_name(pool), done);
}

VRT_CLI_CMD_VARIANT(cmd_pool_build, pool_op, POOL_BUILD)
VRT_CLI_CMD_VARIANT(cmd_pool_start, pool_op, POOL_START)
VRT_CLI_CMD_VARIANT(cmd_pool_destroy, pool_op, POOL_DESTROY)
VRT_CLI_CMD_VARIANT(cmd_pool_delete, pool_op, POOL_DELETE)
VRT_CLI_CMD_VARIANT(cmd_pool_undefine, pool_op, POOL_UNDEFINE)
VRT_CLI_CMD_VARIANT(cmd_pool_refresh, pool_op, POOL_REFRESH)

static int
cmd_pool_dumpxml(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    g_autoptr(vrt_storage_pool) pool = pool_arg(args);
    if (!pool)
        return VRT_EXIT_ERROR;
    vrt_error *err = NULL;
    unsigned int flags = vrt_cli_flag(args, "inactive") ? VRT_STORAGE_XML_INACTIVE : 0;
    return vrt_cli_print_xml(vrt_storage_pool_get_xml_desc(pool, flags, &err), &err);
}

static int
cmd_pool_info(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    g_autoptr(vrt_storage_pool) pool = pool_arg(args);
    if (!pool)
        return VRT_EXIT_ERROR;
    vrt_error *err = NULL;
    vrt_storage_pool_info info;
    int persistent, autostart = 0;
    if (vrt_storage_pool_get_info(pool, &info, &err) < 0 ||
        (persistent = vrt_storage_pool_is_persistent(pool, &err)) < 0 ||
        vrt_storage_pool_get_autostart(pool, &autostart, &err) < 0)
        return vrt_cli_fail(err);
    char uuid[VRT_UUID_STRING_BUFLEN];
    vrt_storage_pool_get_uuid_string(pool, uuid);
    const char *state = info.state == 2 ? "running" : info.state == 0 ? "inactive" : "unknown";
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        vrt_cli_json_str(b, "name", vrt_storage_pool_get_name(pool));
        vrt_cli_json_str(b, "uuid", uuid);
        vrt_cli_json_str(b, "state", state);
        vrt_cli_json_bool(b, "persistent", persistent);
        vrt_cli_json_bool(b, "autostart", autostart);
        vrt_cli_json_int(b, "capacity", info.capacity);
        vrt_cli_json_int(b, "allocation", info.allocation);
        vrt_cli_json_int(b, "available", info.available);
        json_builder_end_object(b);
        vrt_cli_print_builder(b);
        return VRT_EXIT_OK;
    }
    printf("%-15s %s\n", "Name:", vrt_storage_pool_get_name(pool));
    printf("%-15s %s\n", "UUID:", uuid);
    printf("%-15s %s\n", "State:", state);
    printf("%-15s %s\n", "Persistent:", persistent ? "yes" : "no");
    printf("%-15s %s\n", "Autostart:", autostart ? "yes" : "no");
    if (info.state == 2) {
        printf("%-15s %llu\n", "Capacity:", info.capacity);
        printf("%-15s %llu\n", "Allocation:", info.allocation);
        printf("%-15s %llu\n", "Available:", info.available);
    }
    printf("\n");
    return VRT_EXIT_OK;
}

static int
cmd_pool_autostart(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    g_autoptr(vrt_storage_pool) pool = pool_arg(args);
    if (!pool)
        return VRT_EXIT_ERROR;
    vrt_error *err = NULL;
    bool disable = vrt_cli_flag(args, "disable");
    int r = vrt_storage_pool_set_autostart(pool, !disable, &err);
    return vrt_cli_done(r, err, "Pool %s %s as autostarted", vrt_storage_pool_get_name(pool),
                        disable ? "unmarked" : "marked");
}

static int
cmd_vol_list(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    g_autoptr(vrt_storage_pool) pool = pool_arg(args);
    if (!pool)
        return VRT_EXIT_ERROR;
    vrt_error *err = NULL;
    vrt_storage_vol **vols = NULL;
    int n = vrt_storage_pool_list_all_volumes(pool, &vols, 0, &err);
    if (n < 0)
        return vrt_cli_fail(err);
    VrtCliList list;
    vrt_cli_list_init(&list);
    for (int i = 0; i < n; i++) {
        const char *name = vrt_storage_vol_get_name(vols[i]);
        const char *path = vrt_storage_vol_get_key(vols[i]);
        vrt_cli_list_row(&list, name, path, NULL);
        json_builder_begin_object(list.json);
        vrt_cli_json_str(list.json, "name", name);
        vrt_cli_json_str(list.json, "path", path);
        json_builder_end_object(list.json);
    }
    vrt_storage_vol_list_free(vols);
    static const char *const header[] = { "Name", "Path" };
    vrt_cli_list_print(cli, &list, header, 2);
    return VRT_EXIT_OK;
}

static int
create_vol(VrtArgs *args, const char *xml)
{
    g_autoptr(vrt_storage_pool) pool = pool_arg(args);
    if (!pool)
        return VRT_EXIT_ERROR;
    vrt_error *err = NULL;
    g_autoptr(vrt_storage_vol) vol = vrt_storage_vol_create_xml(pool, xml, 0, &err);
    return vrt_cli_done(vol ? 0 : -1, err, "Vol %s created", vol ? vrt_storage_vol_get_name(vol) : "");
}

static int
cmd_vol_create(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    return create_vol(args, args->xml);
}

static char *
xml_escape(const char *s)
{
    return g_markup_escape_text(s, -1);
}

static int
cmd_vol_create_as(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    unsigned long long capacity, allocation = 0;
    const char *alloc_s = vrt_cli_value(args, "allocation");
    if (!parse_size(args->pos[2], &capacity))
        return vrt_cli_failf("malformed size %s", args->pos[2]);
    if (alloc_s && !parse_size(alloc_s, &allocation))
        return vrt_cli_failf("malformed size %s", alloc_s);
    const char *format = vrt_cli_value(args, "format");
    const char *backing = vrt_cli_value(args, "backing-vol");
    const char *backing_format = vrt_cli_value(args, "backing-vol-format");
    g_autofree char *name = xml_escape(args->pos[1]);
    GString *xml = g_string_new("<volume>\n");
    g_string_append_printf(xml, "  <name>%s</name>\n  <capacity>%llu</capacity>\n", name, capacity);
    if (alloc_s)
        g_string_append_printf(xml, "  <allocation>%llu</allocation>\n", allocation);
    if (format) {
        g_autofree char *f = xml_escape(format);
        g_string_append_printf(xml, "  <target>\n    <format type='%s'/>\n  </target>\n", f);
    }
    if (backing) {
        g_autofree char *b = xml_escape(backing);
        g_string_append_printf(xml, "  <backingStore>\n    <path>%s</path>\n", b);
        if (backing_format) {
            g_autofree char *bf = xml_escape(backing_format);
            g_string_append_printf(xml, "    <format type='%s'/>\n", bf);
        }
        g_string_append(xml, "  </backingStore>\n");
    }
    g_string_append(xml, "</volume>\n");
    g_autofree char *text = g_string_free(xml, FALSE);
    return create_vol(args, text);
}

typedef enum {
    VOL_DELETE,
    VOL_WIPE,
    VOL_DUMPXML,
    VOL_PATH,
    VOL_INFO,
} VolOp;

static int
vol_op(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args, VolOp op)
{
    g_autoptr(vrt_storage_vol) vol = vol_arg(args);
    if (!vol)
        return VRT_EXIT_ERROR;
    vrt_error *err = NULL;
    switch (op) {
    case VOL_DELETE: return vrt_cli_done(vrt_storage_vol_delete(vol, 0, &err), err, "Vol %s deleted", args->pos[1]);
    case VOL_WIPE: return vrt_cli_done(vrt_storage_vol_wipe(vol, 0, &err), err, "Vol %s wiped", args->pos[1]);
    case VOL_DUMPXML: return vrt_cli_print_xml(vrt_storage_vol_get_xml_desc(vol, 0, &err), &err);
    case VOL_PATH: {
        g_autofree char *path = vrt_storage_vol_get_path(vol, &err);
        if (!path)
            return vrt_cli_fail(err);
        printf("%s\n", path);
        return VRT_EXIT_OK;
    }
    case VOL_INFO: {
        vrt_storage_vol_info info;
        if (vrt_storage_vol_get_info(vol, &info, &err) < 0)
            return vrt_cli_fail(err);
        if (cli->json) {
            g_autoptr(JsonBuilder) b = json_builder_new();
            json_builder_begin_object(b);
            vrt_cli_json_str(b, "name", vrt_storage_vol_get_name(vol));
            vrt_cli_json_str(b, "type", info.type == 0 ? "file" : "other");
            vrt_cli_json_int(b, "capacity", info.capacity);
            vrt_cli_json_int(b, "allocation", info.allocation);
            json_builder_end_object(b);
            vrt_cli_print_builder(b);
            return VRT_EXIT_OK;
        }
        printf("%-15s %s\n", "Name:", vrt_storage_vol_get_name(vol));
        printf("%-15s %s\n", "Type:", info.type == 0 ? "file" : "other");
        printf("%-15s %llu\n", "Capacity:", info.capacity);
        printf("%-15s %llu\n\n", "Allocation:", info.allocation);
        return VRT_EXIT_OK;
    }
    }
    return VRT_EXIT_ERROR;
}

VRT_CLI_CMD_VARIANT(cmd_vol_delete, vol_op, VOL_DELETE)
VRT_CLI_CMD_VARIANT(cmd_vol_wipe, vol_op, VOL_WIPE)
VRT_CLI_CMD_VARIANT(cmd_vol_dumpxml, vol_op, VOL_DUMPXML)
VRT_CLI_CMD_VARIANT(cmd_vol_path, vol_op, VOL_PATH)
VRT_CLI_CMD_VARIANT(cmd_vol_info, vol_op, VOL_INFO)

static int
cmd_vol_resize(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    unsigned long long capacity;
    if (!parse_size(args->pos[2], &capacity))
        return vrt_cli_failf("malformed size %s", args->pos[2]);
    g_autoptr(vrt_storage_vol) vol = vol_arg(args);
    if (!vol)
        return VRT_EXIT_ERROR;
    unsigned int flags = 0;
    if (vrt_cli_flag(args, "allocate"))
        flags |= VRT_STORAGE_VOL_RESIZE_ALLOCATE;
    if (vrt_cli_flag(args, "delta"))
        flags |= VRT_STORAGE_VOL_RESIZE_DELTA;
    if (vrt_cli_flag(args, "shrink"))
        flags |= VRT_STORAGE_VOL_RESIZE_SHRINK;
    vrt_error *err = NULL;
    return vrt_cli_done(vrt_storage_vol_resize(vol, capacity, flags, &err), err,
                        "Size of volume '%s' successfully changed to %s", args->pos[1], args->pos[2]);
}

/* ---- vol-upload, vol-download ---- */

/* What one stream message carries at most, as virsh sends. */
#define XFER_CHUNK (256 * 1024)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(vrt_stream, vrt_stream_free)

/* --offset and --length (sizes as virsh reads them); false after printing why. */
static bool
xfer_range(VrtArgs *args, unsigned long long *offset, unsigned long long *length, int *rc)
{
    const char *o = vrt_cli_value(args, "offset");
    const char *l = vrt_cli_value(args, "length");

    *offset = *length = 0;
    if ((o && !parse_size(o, offset)) || (l && !parse_size(l, length))) {
        *rc = vrt_cli_failf("malformed size %s", o && !parse_size(o, offset) ? o : l);
        return false;
    }
    return true;
}

/* Ends a failed transfer: the stream aborted (what the daemon says about it
 * is not what failed), the cause printed. */
static int
xfer_failed(vrt_stream *st, vrt_error *err, const char *what, const char *path, int errsv)
{
    vrt_error *ignored = NULL;

    vrt_stream_abort(st, &ignored);
    vrt_cli_forget(&ignored);
    if (err)
        return vrt_cli_fail(err);
    return vrt_cli_failf("cannot %s %s: %s", what, path, g_strerror(errsv));
}

/* Sends the file's bytes (at most limit when limit > 0); with sparse, its
 * holes (SEEK_DATA/SEEK_HOLE) as holes. */
static int
send_file(vrt_stream *st, int fd, const char *path, unsigned long long limit, bool sparse)
{
    g_autofree char *buf = g_malloc(XFER_CHUNK);
    unsigned long long left = limit ? limit : G_MAXUINT64;
    off_t pos = 0, data_end = -1;
    struct stat sb;
    vrt_error *err = NULL;

    if (fstat(fd, &sb) < 0)
        return xfer_failed(st, NULL, "read", path, errno);
    while (left > 0) {
        size_t want = (size_t)MIN((unsigned long long)XFER_CHUNK, left);

        if (sparse && pos < sb.st_size && pos >= data_end) {
            off_t data = lseek(fd, pos, SEEK_DATA);

            if (data < 0 && errno != ENXIO)
                return xfer_failed(st, NULL, "seek in", path, errno);
            if (data < 0)
                data = sb.st_size;
            if (data > pos) {
                long long hole = (long long)MIN((unsigned long long)(data - pos), left);

                if (vrt_stream_send_hole(st, hole, &err) < 0)
                    return xfer_failed(st, err, NULL, NULL, 0);
                pos += hole;
                left -= (unsigned long long)hole;
                continue;
            }
            data_end = lseek(fd, pos, SEEK_HOLE);
            if (data_end < 0)
                return xfer_failed(st, NULL, "seek in", path, errno);
        }
        if (sparse && data_end > pos)
            want = (size_t)MIN((off_t)want, data_end - pos);
        ssize_t n = pread(fd, buf, want, pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return xfer_failed(st, NULL, "read", path, errno);
        if (n == 0)
            break;
        if (vrt_stream_send(st, buf, (size_t)n, &err) < 0)
            return xfer_failed(st, err, NULL, NULL, 0);
        pos += n;
        left -= (unsigned long long)n;
    }
    if (vrt_stream_finish(st, &err) < 0)
        return vrt_cli_fail(err);
    return VRT_EXIT_OK;
}

static int
cmd_vol_upload(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    unsigned long long offset, length;
    int rc;
    bool sparse = vrt_cli_flag(args, "sparse");

    if (!xfer_range(args, &offset, &length, &rc))
        return rc;
    g_autoptr(vrt_storage_vol) vol = vol_arg(args);
    if (!vol)
        return VRT_EXIT_ERROR;
    int fd = open(args->pos[2], O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vrt_cli_failf("cannot read %s: %s", args->pos[2], g_strerror(errno));
    vrt_error *err = NULL;
    g_autoptr(vrt_stream) st =
        vrt_storage_vol_upload(vol, offset, length, sparse ? VRT_STORAGE_VOL_UPLOAD_SPARSE_STREAM : 0, &err);
    if (!st) {
        close(fd);
        return vrt_cli_fail(err);
    }
    rc = send_file(st, fd, args->pos[2], length, sparse);
    close(fd);
    return rc;
}

/* Writes what the stream brings into fd; a hole becomes a seek (and the
 * file is extended to it, so one that ends in a hole has its size). */
static int
recv_file(vrt_stream *st, int fd, const char *path, bool sparse)
{
    g_autofree char *buf = g_malloc(XFER_CHUNK);
    vrt_error *err = NULL;

    for (;;) {
        long long hole = 0;
        long n = sparse ? vrt_stream_recv_sparse(st, buf, XFER_CHUNK, &hole, &err)
                        : vrt_stream_recv(st, buf, XFER_CHUNK, -1, &err);

        if (n < 0)
            return xfer_failed(st, err, NULL, NULL, 0);
        if (n == 0 && hole == 0)
            break;
        if (n == 0) {
            off_t off = lseek(fd, hole, SEEK_CUR);

            if (off < 0 || ftruncate(fd, off) < 0)
                return xfer_failed(st, NULL, "write", path, errno);
            continue;
        }
        for (long done = 0; done < n;) {
            ssize_t w = write(fd, buf + done, (size_t)(n - done));

            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return xfer_failed(st, NULL, "write", path, errno);
            done += w;
        }
    }
    if (vrt_stream_finish(st, &err) < 0)
        return vrt_cli_fail(err);
    return VRT_EXIT_OK;
}

static int
cmd_vol_download(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    unsigned long long offset, length;
    int rc;
    bool sparse = vrt_cli_flag(args, "sparse");

    if (!xfer_range(args, &offset, &length, &rc))
        return rc;
    g_autoptr(vrt_storage_vol) vol = vol_arg(args);
    if (!vol)
        return VRT_EXIT_ERROR;
    vrt_error *err = NULL;
    g_autoptr(vrt_stream) st =
        vrt_storage_vol_download(vol, offset, length, sparse ? VRT_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM : 0, &err);
    if (!st)
        return vrt_cli_fail(err);
    /* As virsh: an existing file is overwritten from its start. */
    int fd = open(args->pos[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return xfer_failed(st, NULL, "write", args->pos[2], errno);
    rc = recv_file(st, fd, args->pos[2], sparse);
    if (close(fd) < 0 && rc == VRT_EXIT_OK)
        rc = vrt_cli_failf("cannot write %s: %s", args->pos[2], g_strerror(errno));
    return rc;
}

static const VrtOpt list_opts[] = { { "all", false }, { "inactive", false }, { NULL, false } };
static const VrtOpt xml_opts[] = { { "inactive", false }, { NULL, false } };
static const VrtOpt autostart_opts[] = { { "disable", false }, { NULL, false } };
static const VrtOpt start_opts[] = { { "build", false }, { NULL, false } };
static const VrtOpt create_as_opts[] = {
    { "allocation", true }, { "format", true }, { "backing-vol", true }, { "backing-vol-format", true }, { NULL, false }
};
static const VrtOpt xfer_opts[] = { { "offset", true }, { "length", true }, { "sparse", false }, { NULL, false } };
static const VrtOpt resize_opts[] = { { "allocate", false }, { "delta", false }, { "shrink", false }, { NULL, false } };

#define POOL VRT_ON_CONN, 1, false
#define VOL VRT_ON_CONN, 2, false
const VrtCmd vrt_cmds_storage[] = {
    { "pool-list", cmd_pool_list, "[--all] [--inactive]", "list storage pools (active ones without --all)", list_opts,
      VRT_ON_CONN },
    { "pool-define", cmd_pool_define, "FILE", "define a storage pool from an XML file", NULL, VRT_ON_CONN, 1, true },
    { "pool-build", cmd_pool_build, "POOL", "make a pool's directory", NULL, POOL },
    { "pool-start", cmd_pool_start, "POOL [--build]", "start a defined pool", start_opts, POOL },
    { "pool-destroy", cmd_pool_destroy, "POOL", "stop a pool", NULL, POOL },
    { "pool-delete", cmd_pool_delete, "POOL", "remove an inactive pool's directory", NULL, POOL },
    { "pool-undefine", cmd_pool_undefine, "POOL", "remove a pool's definition", NULL, POOL },
    { "pool-refresh", cmd_pool_refresh, "POOL", "scan a pool's volumes again", NULL, POOL },
    { "pool-dumpxml", cmd_pool_dumpxml, "POOL [--inactive]", "a pool's XML", xml_opts, POOL },
    { "pool-info", cmd_pool_info, "POOL", "a pool's state and sizes", NULL, POOL },
    { "pool-autostart", cmd_pool_autostart, "POOL [--disable]", "start a pool with the daemon (or not)", autostart_opts,
      POOL },
    { "vol-list", cmd_vol_list, "POOL", "list a pool's volumes", NULL, POOL },
    { "vol-create", cmd_vol_create, "POOL FILE", "create a volume from an XML file", NULL, VRT_ON_CONN, 2, true },
    { "vol-create-as", cmd_vol_create_as,
      "POOL NAME CAPACITY [--allocation SIZE] [--format FORMAT] [--backing-vol PATH] [--backing-vol-format FORMAT]",
      "create a volume", create_as_opts, VRT_ON_CONN, 3, false },
    { "vol-delete", cmd_vol_delete, "POOL VOLUME", "delete a volume", NULL, VOL },
    { "vol-wipe", cmd_vol_wipe, "POOL VOLUME", "fill a volume with zeros", NULL, VOL },
    { "vol-dumpxml", cmd_vol_dumpxml, "POOL VOLUME", "a volume's XML", NULL, VOL },
    { "vol-path", cmd_vol_path, "POOL VOLUME", "a volume's file", NULL, VOL },
    { "vol-info", cmd_vol_info, "POOL VOLUME", "a volume's type and sizes", NULL, VOL },
    { "vol-resize", cmd_vol_resize, "POOL VOLUME CAPACITY [--allocate] [--delta] [--shrink]",
      "change a volume's capacity", resize_opts, VRT_ON_CONN, 3, false },
    { "vol-upload", cmd_vol_upload, "POOL VOLUME FILE [--offset BYTES] [--length BYTES] [--sparse]",
      "write a file's bytes into a volume (holes as holes with --sparse)", xfer_opts, VRT_ON_CONN, 3, false },
    { "vol-download", cmd_vol_download, "POOL VOLUME FILE [--offset BYTES] [--length BYTES] [--sparse]",
      "copy a volume's bytes into a file (holes as holes with --sparse)", xfer_opts, VRT_ON_CONN, 3, false },
    { NULL, NULL, NULL, NULL, NULL, VRT_ON_NONE },
};
