/*
 * <disk type='network'>: the <source protocol=...> element with its
 * <host> servers and the <auth> naming the secret that holds the iSCSI
 * password or the Ceph key. libvirt accepts <auth> as a child of <disk>
 * or of <source> and writes it back where it was found; both are kept
 * here so a definition comes back as libvirt would write it. Elements of
 * a network source vrtd does not pass to QEMU (snapshot, config,
 * initiator, cookies, ...) are refused as unsupported, never dropped.
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"
#include "util/uuid.h"

const char *const vrt_disk_net_protocol_names[] = {
    "nbd", "iscsi", "rbd", "gluster", "http", "https", "ftp", "ftps", NULL,
};

/* libvirt's default port of each protocol (rbd: none, librados picks) */
static const guint default_port[] = {
    [VRT_DISK_NET_NBD] = 10809, [VRT_DISK_NET_ISCSI] = 3260, [VRT_DISK_NET_RBD] = 0,  [VRT_DISK_NET_GLUSTER] = 24007,
    [VRT_DISK_NET_HTTP] = 80,   [VRT_DISK_NET_HTTPS] = 443,  [VRT_DISK_NET_FTP] = 21, [VRT_DISK_NET_FTPS] = 990,
};

void
vrt_disk_net_source_free(VrtDiskNetSource *src)
{
    if (!src)
        return;
    for (guint i = 0; src->hosts && i < src->hosts->len; i++) {
        VrtDiskNetHost *h = &g_array_index(src->hosts, VrtDiskNetHost, i);
        g_free(h->name);
        g_free(h->socket);
    }
    if (src->hosts)
        g_array_unref(src->hosts);
    g_free(src->name);
    g_free(src->auth_username);
    g_free(src->auth_secret_type);
    g_free(src->auth_secret_uuid);
    g_free(src->auth_secret_usage);
    g_free(src);
}

static bool
parse_host(xmlNodePtr node, VrtDiskNetSource *src, GError **error)
{
    g_autofree char *transport = vrt_xml_prop(node, "transport");
    g_autofree char *port = vrt_xml_prop(node, "port");
    VrtDiskNetHost h = { 0 };

    if (!vrt_xml_check_attrs(node, error, "name", "port", "transport", "socket", NULL))
        return false;
    if (transport && !g_str_equal(transport, "tcp") && !g_str_equal(transport, "unix") &&
        !g_str_equal(transport, "rdma")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown protocol transport type '%s'", transport);
        return false;
    }
    h.unix_transport = g_strcmp0(transport, "unix") == 0;
    h.rdma = g_strcmp0(transport, "rdma") == 0;
    if (port) {
        guint64 v = 0;
        if (!g_ascii_string_to_unsigned(port, 10, 0, 65535, &v, NULL)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "failed to parse port number '%s'", port);
            return false;
        }
        h.port = (guint)v;
    }
    h.name = vrt_xml_prop(node, "name");
    h.socket = vrt_xml_prop(node, "socket");
    if (h.unix_transport) {
        if (!h.socket) {
            g_free(h.name);
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing socket for unix transport");
            return false;
        }
    } else {
        if (h.socket) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "transport '%s' does not support socket attribute",
                          transport ? transport : "tcp");
            g_free(h.name);
            g_free(h.socket);
            return false;
        }
        if (!h.name) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing name for host");
            return false;
        }
    }
    g_array_append_val(src->hosts, h);
    return true;
}

bool
vrt_parse_disk_net_auth(xmlNodePtr node, VrtDomainDiskDef *disk, bool in_disk, GError **error)
{
    VrtDiskNetSource *src = disk->net;
    g_autofree char *username = vrt_xml_prop(node, "username");

    if (!src) {
        return vrt_xml_unsupported(node, error); /* <auth> only for network disks here */
    }
    if (src->auth_username) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "an <auth> definition already found for disk source");
        return false;
    }
    if (!vrt_xml_check_attrs(node, error, "username", NULL))
        return false;
    if (!username) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing username for auth");
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!vrt_xml_is(c, "secret"))
            return vrt_xml_unsupported(c, error);
        g_autofree char *type = vrt_xml_prop(c, "type");
        g_autofree char *uuid = vrt_xml_prop(c, "uuid");
        g_autofree char *usage = vrt_xml_prop(c, "usage");
        guint8 raw[16];

        if (!vrt_xml_check_attrs(c, error, "type", "uuid", "usage", NULL))
            return false;
        if (type && !g_str_equal(type, "iscsi") && !g_str_equal(type, "ceph")) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "unknown auth secret type '%s'", type);
            return false;
        }
        if (!uuid && !usage) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing secret uuid or usage attribute");
            return false;
        }
        if (uuid && usage) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "either secret uuid or usage expected");
            return false;
        }
        if (uuid && !vrt_uuid_parse(uuid, raw)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "invalid secret uuid '%s'", uuid);
            return false;
        }
        g_free(src->auth_secret_type);
        g_free(src->auth_secret_uuid);
        g_free(src->auth_secret_usage);
        src->auth_secret_type = g_steal_pointer(&type);
        src->auth_secret_uuid = g_steal_pointer(&uuid);
        src->auth_secret_usage = g_steal_pointer(&usage);
    }
    if (!src->auth_secret_uuid && !src->auth_secret_usage) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Missing <secret> element in auth");
        return false;
    }
    src->auth_username = g_steal_pointer(&username);
    src->auth_in_disk = in_disk;
    return true;
}

bool
vrt_parse_disk_net_source(xmlNodePtr node, VrtDomainDiskDef *disk, GError **error)
{
    g_autofree char *protocol = vrt_xml_prop(node, "protocol");
    g_autofree char *tls = vrt_xml_prop(node, "tls");
    int proto;

    if (!vrt_xml_check_attrs(node, error, "protocol", "name", "tls", "index", NULL))
        return false;
    if (!protocol) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Missing required attribute 'protocol' in element 'source'");
        return false;
    }
    proto = vrt_enum_from_string(vrt_disk_net_protocol_names, protocol);
    if (proto < 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "network disk protocol '%s' is not supported", protocol);
        return false;
    }
    if (!disk->net) {
        disk->net = g_new0(VrtDiskNetSource, 1);
        disk->net->hosts = g_array_new(FALSE, TRUE, sizeof(VrtDiskNetHost));
    }
    disk->net->protocol = proto;
    g_free(disk->net->name);
    disk->net->name = vrt_xml_prop(node, "name");
    if (!disk->net->name && proto != VRT_DISK_NET_NBD) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing name for disk source");
        return false;
    }
    if ((proto == VRT_DISK_NET_RBD || proto == VRT_DISK_NET_GLUSTER) && disk->net->name) {
        const char *slash = strchr(disk->net->name, '/');
        if (!slash || slash == disk->net->name) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "can't split path '%s' into pool name and image name",
                          disk->net->name);
            return false;
        }
    }
    if (tls) {
        if (g_str_equal(tls, "yes"))
            disk->net->tls = 1;
        else if (g_str_equal(tls, "no"))
            disk->net->tls = 2;
        else {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'tls' in element 'source': '%s'.",
                          tls);
            return false;
        }
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "host")) {
            if (!parse_host(c, disk->net, error))
                return false;
        } else if (vrt_xml_is(c, "auth")) {
            if (!vrt_parse_disk_net_auth(c, disk, false, error))
                return false;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    /* as libvirt: a TCP host without a port gets the protocol's own */
    for (guint i = 0; i < disk->net->hosts->len; i++) {
        VrtDiskNetHost *h = &g_array_index(disk->net->hosts, VrtDiskNetHost, i);
        if (!h->unix_transport && !h->rdma && !h->port)
            h->port = default_port[proto];
    }
    return true;
}

/* What libvirt checks once the whole <disk> is read. */
bool
vrt_disk_net_source_check(const VrtDomainDiskDef *disk, GError **error)
{
    const VrtDiskNetSource *src = disk->net;

    if (disk->type != VRT_DOMAIN_DISK_TYPE_NETWORK)
        return true;
    if (!src) {
        vrt_error_set(error, VIR_ERR_NO_SOURCE, "%s", disk->target_dev ? disk->target_dev : "disk");
        return false;
    }
    if (src->protocol == VRT_DISK_NET_NBD && src->hosts->len != 1) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "protocol 'nbd' accepts only one host");
        return false;
    }
    if (src->tls == 1 && src->protocol != VRT_DISK_NET_NBD) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "TLS for protocol '%s' is not supported",
                      vrt_disk_net_protocol_names[src->protocol]);
        return false;
    }
    return true;
}

void
vrt_format_disk_net_auth(VrtFmt *f, const VrtDiskNetSource *src)
{
    g_autofree char *user = vrt_xml_escape(src->auth_username);
    g_autofree char *type = vrt_xml_escape(src->auth_secret_type);
    g_autofree char *uuid = vrt_xml_escape(src->auth_secret_uuid);
    g_autofree char *usage = vrt_xml_escape(src->auth_secret_usage);
    g_autoptr(GString) attrs = g_string_new(NULL);

    if (src->auth_secret_type)
        g_string_append_printf(attrs, " type='%s'", type);
    if (src->auth_secret_uuid)
        g_string_append_printf(attrs, " uuid='%s'", uuid);
    else
        g_string_append_printf(attrs, " usage='%s'", usage);
    vrt_fmt_line(f, "<auth username='%s'>", user);
    vrt_fmt_line(f, "  <secret%s/>", attrs->str);
    vrt_fmt_line(f, "</auth>");
}

void
vrt_format_disk_net_source(VrtFmt *f, const VrtDiskNetSource *src)
{
    g_autoptr(GString) attrs = g_string_new(NULL);
    bool children = src->hosts->len > 0 || (src->auth_username && !src->auth_in_disk);

    g_string_append_printf(attrs, " protocol='%s'", vrt_disk_net_protocol_names[src->protocol]);
    if (src->name) {
        g_autofree char *name = vrt_xml_escape(src->name);
        g_string_append_printf(attrs, " name='%s'", name);
    }
    if (src->tls)
        g_string_append_printf(attrs, " tls='%s'", src->tls == 1 ? "yes" : "no");
    if (!children) {
        vrt_fmt_line(f, "<source%s/>", attrs->str);
        return;
    }
    vrt_fmt_line(f, "<source%s>", attrs->str);
    f->indent++;
    for (guint i = 0; i < src->hosts->len; i++) {
        const VrtDiskNetHost *h = &g_array_index(src->hosts, VrtDiskNetHost, i);
        g_autoptr(GString) a = g_string_new(NULL);
        if (h->name) {
            g_autofree char *name = vrt_xml_escape(h->name);
            g_string_append_printf(a, " name='%s'", name);
        }
        if (h->port)
            g_string_append_printf(a, " port='%u'", h->port);
        if (h->unix_transport || h->rdma)
            g_string_append_printf(a, " transport='%s'", h->unix_transport ? "unix" : "rdma");
        if (h->socket) {
            g_autofree char *sock = vrt_xml_escape(h->socket);
            g_string_append_printf(a, " socket='%s'", sock);
        }
        vrt_fmt_line(f, "<host%s/>", a->str);
    }
    if (src->auth_username && !src->auth_in_disk)
        vrt_format_disk_net_auth(f, src);
    f->indent--;
    vrt_fmt_line(f, "</source>");
}
