/*
 * The -blockdev protocol node of a <disk type='network'>, property for
 * property as libvirt 9.0 asks QEMU for it: nbd's server address and
 * export, the curl driver's URL for http/https/ftp/ftps, iscsi's portal,
 * target and LUN with its CHAP user, rbd's pool, image, monitors and
 * cephx user, gluster's volume, path and servers. An <auth> secret's
 * value reaches QEMU the way a LUKS passphrase does: a 0600 file in the
 * domain's run directory behind an -object secret (qemu_process.c
 * writes it), never the command line. An iSCSI <hostdev type='scsi'>
 * is the same iscsi node (with its <initiator>'s IQN) under QEMU's
 * scsi-generic, so it is seen here as the network source it names.
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

char *
vrt_qemu_block_net_hostdev_secret_key(const VrtDomainSubsysHostdevDef *h)
{
    return g_strdup_printf("hostdev-%s-auth", h->info.alias);
}

VrtDiskNetSource *
vrt_qemu_block_net_hostdev_source(const VrtDomainSubsysHostdevDef *h, GError **error)
{
    g_autoptr(VrtDiskNetSource) src = g_new0(VrtDiskNetSource, 1);
    VrtDiskNetHost host = { .name = g_strdup(h->iscsi_host) };
    guint64 port = 0;

    src->protocol = VRT_DISK_NET_ISCSI;
    src->hosts = g_array_new(FALSE, TRUE, sizeof(VrtDiskNetHost));
    g_array_append_val(src->hosts, host);
    if (h->iscsi_port && !g_ascii_string_to_unsigned(h->iscsi_port, 10, 0, 65535, &port, NULL)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "failed to parse port number '%s'", h->iscsi_port);
        return NULL;
    }
    g_array_index(src->hosts, VrtDiskNetHost, 0).port = (guint)port;
    src->name = g_strdup(h->iscsi_name);
    if (h->auth_username) {
        src->auth_username = g_strdup(h->auth_username);
        src->auth_secret_type = g_strdup("iscsi");
        src->auth_secret_uuid = g_strdup(h->auth_secret_uuid);
        src->auth_secret_usage = g_strdup(h->auth_secret_usage);
    }
    return g_steal_pointer(&src);
}

static const char *
module_dir(void)
{
    const char *env = g_getenv("QEMU_MODULE_DIR");
    return env && *env ? env : "/usr/lib/x86_64-linux-gnu/qemu";
}

/* owner's network source needs protocol's block driver: refused
 * (naming what) when a modular QEMU here lacks it */
static bool
check_module(VrtDiskNetProtocol protocol, const char *owner, const char *what, GError **error)
{
    g_autofree char *path = NULL;

    if (!module_of[protocol])
        return true;
    /* a QEMU built without modules has its drivers built in: only a
     * modular installation can lack one */
    if (!g_file_test(module_dir(), G_FILE_TEST_IS_DIR))
        return true;
    path = g_build_filename(module_dir(), module_of[protocol], NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s: %s is not supported by this QEMU (no %s block driver)",
                      owner, what, module_of[protocol]);
        return false;
    }
    return true;
}

bool
vrt_qemu_block_net_check(const VrtDomainDef *def, GError **error)
{
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        const VrtDomainDiskDef *disk = g_ptr_array_index(def->disks, i);
        const char *proto;
        g_autofree char *owner = NULL;
        g_autofree char *what = NULL;

        if (!disk->net)
            continue;
        proto = vrt_disk_net_protocol_names[disk->net->protocol];
        if (disk->net->tls == 1) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk '%s': TLS for protocol '%s' is not supported",
                          disk->target_dev, proto);
            return false;
        }
        owner = g_strdup_printf("disk '%s'", disk->target_dev);
        what = g_strdup_printf("network disk protocol '%s'", proto);
        if (!check_module(disk->net->protocol, owner, what, error))
            return false;
    }
    for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
        const VrtDomainSubsysHostdevDef *h = def->subsys_hostdevs->pdata[i];
        g_autofree char *owner = NULL;

        if (h->type != VRT_SUBSYS_HOSTDEV_SCSI || !h->iscsi_name)
            continue;
        owner = g_strdup_printf("SCSI host device '%s'", h->info.alias);
        if (!check_module(VRT_DISK_NET_ISCSI, owner, "iSCSI", error))
            return false;
    }
    return true;
}

static const VrtDiskNetHost *
first_host(const VrtDiskNetSource *src, const char *owner, GError **error)
{
    if (src->hosts->len == 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s: protocol '%s' needs a <host>", owner,
                      vrt_disk_net_protocol_names[src->protocol]);
        return NULL;
    }
    if (!g_array_index(src->hosts, VrtDiskNetHost, 0).name && src->protocol != VRT_DISK_NET_NBD &&
        src->protocol != VRT_DISK_NET_GLUSTER) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s: protocol '%s' needs a host name", owner,
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
    g_autofree char *owner = g_strdup_printf("disk '%s'", disk->target_dev);

    return vrt_qemu_block_net_source_props(node, disk->net, NULL, owner, secret_path, secret_id, secret_obj, error);
}

bool
vrt_qemu_block_net_source_props(JsonObject *node, const VrtDiskNetSource *src, const char *initiator, const char *owner,
                                const char *secret_path, const char *secret_id, JsonObject **secret_obj, GError **error)
{
    const VrtDiskNetHost *h;
    const char *proto = vrt_disk_net_protocol_names[src->protocol];

    *secret_obj = NULL;
    if (src->auth_username && !secret_path) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s: the <auth> secret's value is missing", owner);
        return false;
    }
    if (src->auth_username && src->protocol != VRT_DISK_NET_ISCSI && src->protocol != VRT_DISK_NET_RBD) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s: <auth> is not supported for protocol '%s'", owner, proto);
        return false;
    }
    if (!(h = first_host(src, owner, error)))
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
        if (initiator)
            json_object_set_string_member(node, "initiator-name", initiator);
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
