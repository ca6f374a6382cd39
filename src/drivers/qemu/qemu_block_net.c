/*
 * The -blockdev protocol node of a <disk type='network'>, property for
 * property as libvirt 9.0 asks QEMU for it: nbd's server address and
 * export, the curl driver's URL for http/https/ftp/ftps, iscsi's portal,
 * target and LUN with its CHAP user, rbd's pool, image, monitors and
 * cephx user, gluster's volume, path and servers. An <auth> secret's
 * value reaches QEMU the way a LUKS passphrase does: a 0600 file in the
 * domain's run directory behind an -object secret (qemu_process.c
 * writes it), never the command line.
 */
#include "drivers/qemu/qemu_block_net.h"

#include "util/error.h"

/* Debian builds curl, iscsi, rbd and gluster as loadable modules
 * (package qemu-block-extra); nbd is built in. */
static const char *const module_of[] = {
    [VRT_DISK_NET_NBD] = NULL,
    [VRT_DISK_NET_ISCSI] = "block-iscsi.so",
    [VRT_DISK_NET_RBD] = "block-rbd.so",
    [VRT_DISK_NET_GLUSTER] = "block-gluster.so",
    [VRT_DISK_NET_HTTP] = "block-curl.so",
    [VRT_DISK_NET_HTTPS] = "block-curl.so",
    [VRT_DISK_NET_FTP] = "block-curl.so",
    [VRT_DISK_NET_FTPS] = "block-curl.so",
};

char *
vrt_qemu_block_net_secret_key(const VrtDomainDiskDef *disk)
{
    return g_strdup_printf("%s-auth", disk->target_dev);
}

static const char *
module_dir(void)
{
    const char *env = g_getenv("QEMU_MODULE_DIR");
    return env && *env ? env : "/usr/lib/x86_64-linux-gnu/qemu";
}

bool
vrt_qemu_block_net_check(const VrtDomainDef *def, GError **error)
{
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        const VrtDomainDiskDef *disk = g_ptr_array_index(def->disks, i);
        const char *proto;
        g_autofree char *path = NULL;

        if (!disk->net)
            continue;
        proto = vrt_disk_net_protocol_names[disk->net->protocol];
        if (disk->net->tls == 1) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk '%s': TLS for protocol '%s' is not supported",
                          disk->target_dev, proto);
            return false;
        }
        if (!module_of[disk->net->protocol])
            continue;
        /* a QEMU built without modules has its drivers built in: only a
         * modular installation can lack one */
        if (!g_file_test(module_dir(), G_FILE_TEST_IS_DIR))
            continue;
        path = g_build_filename(module_dir(), module_of[disk->net->protocol], NULL);
        if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "disk '%s': network disk protocol '%s' is not supported by this QEMU (no %s block driver)",
                          disk->target_dev, proto, module_of[disk->net->protocol]);
            return false;
        }
    }
    return true;
}

static const VrtDiskNetHost *
first_host(const VrtDiskNetSource *src, const VrtDomainDiskDef *disk, GError **error)
{
    if (src->hosts->len == 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk '%s': protocol '%s' needs a <host>", disk->target_dev,
                      vrt_disk_net_protocol_names[src->protocol]);
        return NULL;
    }
    if (!g_array_index(src->hosts, VrtDiskNetHost, 0).name && src->protocol != VRT_DISK_NET_NBD &&
        src->protocol != VRT_DISK_NET_GLUSTER) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk '%s': protocol '%s' needs a host name", disk->target_dev,
                      vrt_disk_net_protocol_names[src->protocol]);
        return NULL;
    }
    return &g_array_index(src->hosts, VrtDiskNetHost, 0);
}

/* An InetSocketAddress or SocketAddress ({type inet|unix}) as QEMU's
 * nbd and gluster want it; port as a string, default_port when unset. */
static JsonObject *
server_address(const VrtDiskNetHost *h, guint default_port, bool typed)
{
    JsonObject *o = json_object_new();
    if (h->unix_transport) {
        json_object_set_string_member(o, "type", "unix");
        json_object_set_string_member(o, "path", h->socket);
        return o;
    }
    g_autofree char *port = g_strdup_printf("%u", h->port ? h->port : default_port);
    if (typed)
        json_object_set_string_member(o, "type", "inet");
    json_object_set_string_member(o, "host", h->name);
    json_object_set_string_member(o, "port", port);
    return o;
}

static void
set_secret(JsonObject *node, const char *member, const char *secret_path, const char *secret_id,
           JsonObject **secret_obj)
{
    JsonObject *sec = json_object_new();
    json_object_set_string_member(sec, "qom-type", "secret");
    json_object_set_string_member(sec, "id", secret_id);
    json_object_set_string_member(sec, "file", secret_path);
    json_object_set_string_member(sec, "format", "raw");
    *secret_obj = sec;
    json_object_set_string_member(node, member, secret_id);
}

bool
vrt_qemu_block_net_props(JsonObject *node, const VrtDomainDiskDef *disk, const char *secret_path, const char *secret_id,
                         JsonObject **secret_obj, GError **error)
{
    const VrtDiskNetSource *src = disk->net;
    const VrtDiskNetHost *h;
    const char *proto = vrt_disk_net_protocol_names[src->protocol];

    *secret_obj = NULL;
    if (src->auth_username && !secret_path) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk '%s': the <auth> secret's value is missing",
                      disk->target_dev);
        return false;
    }
    if (src->auth_username && src->protocol != VRT_DISK_NET_ISCSI && src->protocol != VRT_DISK_NET_RBD) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk '%s': <auth> is not supported for protocol '%s'",
                      disk->target_dev, proto);
        return false;
    }
    if (!(h = first_host(src, disk, error)))
        return false;
    json_object_set_string_member(node, "driver", proto);

    switch (src->protocol) {
    case VRT_DISK_NET_NBD:
        json_object_set_object_member(node, "server", server_address(h, 10809, true));
        if (src->name)
            json_object_set_string_member(node, "export", src->name);
        break;
    case VRT_DISK_NET_HTTP:
    case VRT_DISK_NET_HTTPS:
    case VRT_DISK_NET_FTP:
    case VRT_DISK_NET_FTPS: {
        g_autoptr(GString) url = g_string_new(NULL);
        g_string_append_printf(url, "%s://%s", proto, h->name);
        if (h->port)
            g_string_append_printf(url, ":%u", h->port);
        g_string_append_printf(url, "%s%s", src->name[0] == '/' ? "" : "/", src->name);
        json_object_set_string_member(node, "url", url->str);
        break;
    }
    case VRT_DISK_NET_ISCSI: {
        /* name is "target/lun", the LUN 0 when absent */
        g_autofree char *target = g_strdup(src->name);
        char *slash = strchr(target, '/');
        guint64 lun = 0;
        g_autofree char *portal = NULL;

        if (slash) {
            *slash = '\0';
            if (!g_ascii_string_to_unsigned(slash + 1, 10, 0, G_MAXINT, &lun, NULL)) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "failed to parse target for '%s'", src->name);
                return false;
            }
        }
        portal = strchr(h->name, ':') ? g_strdup_printf("[%s]:%u", h->name, h->port ? h->port : 3260)
                                      : g_strdup_printf("%s:%u", h->name, h->port ? h->port : 3260);
        json_object_set_string_member(node, "portal", portal);
        json_object_set_string_member(node, "target", target);
        json_object_set_int_member(node, "lun", (gint64)lun);
        json_object_set_string_member(node, "transport", "tcp");
        if (src->auth_username) {
            json_object_set_string_member(node, "user", src->auth_username);
            set_secret(node, "password-secret", secret_path, secret_id, secret_obj);
        }
        break;
    }
    case VRT_DISK_NET_RBD: {
        const char *slash = strchr(src->name, '/');
        g_autofree char *pool = g_strndup(src->name, slash - src->name);
        JsonArray *servers = json_array_new();

        json_object_set_string_member(node, "pool", pool);
        json_object_set_string_member(node, "image", slash + 1);
        for (guint i = 0; i < src->hosts->len; i++)
            json_array_add_object_element(servers,
                                          server_address(&g_array_index(src->hosts, VrtDiskNetHost, i), 6789, false));
        json_object_set_array_member(node, "server", servers);
        if (src->auth_username) {
            JsonArray *modes = json_array_new();
            json_object_set_string_member(node, "user", src->auth_username);
            json_array_add_string_element(modes, "cephx");
            json_array_add_string_element(modes, "none");
            json_object_set_array_member(node, "auth-client-required", modes);
            set_secret(node, "key-secret", secret_path, secret_id, secret_obj);
        }
        break;
    }
    case VRT_DISK_NET_GLUSTER: {
        const char *slash = strchr(src->name, '/');
        g_autofree char *volume = g_strndup(src->name, slash - src->name);
        JsonArray *servers = json_array_new();

        json_object_set_string_member(node, "volume", volume);
        json_object_set_string_member(node, "path", slash + 1);
        for (guint i = 0; i < src->hosts->len; i++)
            json_array_add_object_element(servers,
                                          server_address(&g_array_index(src->hosts, VrtDiskNetHost, i), 24007, true));
        json_object_set_array_member(node, "server", servers);
        break;
    }
    }
    return true;
}
