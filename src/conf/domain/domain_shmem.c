/*
 * <shmem name= role=>: an inter-VM shared memory device (ivshmem,
 * ivshmem-plain, ivshmem-doorbell) with its <model>, <size>, <server> and
 * <msi>, read with libvirt 9's checks and errors and written back as
 * libvirt writes it, the defaults its QEMU driver fills in after parsing
 * included (a 4 MiB size but for doorbell; a doorbell's msi with
 * ioeventfd on). Each takes a PCI slot after the video devices, as in
 * libvirt (domain_addr.c). The QEMU driver refuses a start with one by
 * name: vrt does not set up the host side (the /dev/shm object or the
 * ivshmem server's socket).
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

const char *const vrt_shmem_model_names[] = { "ivshmem", "ivshmem-plain", "ivshmem-doorbell", NULL };

void
vrt_domain_shmem_free(VrtDomainShmemDef *s)
{
    if (!s)
        return;
    g_free(s->name);
    g_free(s->role);
    g_free(s->server_path);
    g_free(s->info.alias);
    g_free(s->info.usb.port);
    g_free(s);
}

/* libvirt's virFileSanitizePath: runs of '/' collapsed, a trailing one
 * dropped (but for "/" itself) */
static char *
sanitize_path(const char *path)
{
    GString *out = g_string_new(NULL);

    for (const char *p = path; *p; p++)
        if (*p != '/' || !out->len || out->str[out->len - 1] != '/')
            g_string_append_c(out, *p);
    if (out->len > 1 && out->str[out->len - 1] == '/')
        g_string_truncate(out, out->len - 1);
    return g_string_free(out, FALSE);
}

/* libvirt's virXMLPropEnum refusal */
static bool
bad_value(xmlNodePtr node, const char *attr, const char *value, GError **error)
{
    vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element '%s': '%s'.", attr,
                  (const char *)node->name, value);
    return false;
}

static bool
parse_msi(xmlNodePtr c, VrtDomainShmemDef *s, GError **error)
{
    g_autofree char *ioeventfd = vrt_xml_prop(c, "ioeventfd");

    if (!vrt_xml_check_attrs(c, error, "vectors", "ioeventfd", NULL) ||
        !vrt_xml_prop_uint(c, "vectors", G_MAXUINT, &s->vectors, NULL, error))
        return false;
    if (ioeventfd) {
        if (!g_str_equal(ioeventfd, "on") && !g_str_equal(ioeventfd, "off"))
            return bad_value(c, "ioeventfd", ioeventfd, error);
        s->ioeventfd = g_str_equal(ioeventfd, "on") ? VRT_TRISTATE_YES : VRT_TRISTATE_NO;
    }
    s->msi = true;
    return true;
}

/* libvirt's QEMU driver's post-parse of a shmem (qemuDomainShmemDefPostParse) */
static bool
post_parse(VrtDomainShmemDef *s, GError **error)
{
    const char *model = vrt_shmem_model_names[s->model];

    if (s->model != VRT_SHMEM_IVSHMEM_DOORBELL && !s->size)
        s->size = 4 << 20;
    if (s->model == VRT_SHMEM_IVSHMEM)
        return true;
    if (!s->server) {
        if (s->model == VRT_SHMEM_IVSHMEM_DOORBELL) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "shmem model '%s' is supported only with server option enabled", model);
            return false;
        }
        return true;
    }
    if (s->model == VRT_SHMEM_IVSHMEM_PLAIN) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "shmem model '%s' is supported only with server option disabled", model);
        return false;
    }
    if (s->size) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "shmem model '%s' does not support size setting", model);
        return false;
    }
    s->msi = true;
    if (s->ioeventfd == VRT_TRISTATE_DEFAULT)
        s->ioeventfd = VRT_TRISTATE_YES;
    return true;
}

bool
vrt_parse_shmem(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainShmemDef *s = g_new0(VrtDomainShmemDef, 1);
    xmlNodePtr model = NULL, size = NULL, server = NULL, msi = NULL;

    if (!def->shmems)
        def->shmems = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_shmem_free);
    g_ptr_array_add(def->shmems, s); /* freed with def on every error path */
    if (!vrt_xml_check_attrs(node, error, "name", "role", NULL))
        return false;
    /* the first of each, as libvirt's XPath reads them */
    VRT_XML_FOREACH_CHILD(c, node)
    {
        int r;

        if (vrt_xml_is(c, "model")) {
            model = model ? model : c;
            continue;
        }
        if (vrt_xml_is(c, "size")) {
            size = size ? size : c;
            continue;
        }
        if (vrt_xml_is(c, "server")) {
            server = server ? server : c;
            continue;
        }
        if (vrt_xml_is(c, "msi")) {
            msi = msi ? msi : c;
            continue;
        }
        r = vrt_parse_info_child(ctx, c, &s->info, false, error);
        if (r < 0)
            return false;
        if (r == 0)
            return vrt_xml_unsupported(c, error);
    }
    if (model) {
        g_autofree char *type = vrt_xml_prop(model, "type");
        int m = vrt_enum_from_string(vrt_shmem_model_names, type);

        if (!vrt_xml_check_attrs(model, error, "type", NULL))
            return false;
        if (type && m < 0)
            return bad_value(model, "type", type, error);
        s->model = m < 0 ? VRT_SHMEM_IVSHMEM : (VrtShmemModel)m;
    }
    if (!(s->name = vrt_xml_prop(node, "name"))) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "shmem element must contain 'name' attribute");
        return false;
    }
    /* the legacy model has no role: libvirt does not read it there */
    if (s->model != VRT_SHMEM_IVSHMEM) {
        g_autofree char *role = vrt_xml_prop(node, "role");

        if (role && !g_str_equal(role, "master") && !g_str_equal(role, "peer"))
            return bad_value(node, "role", role, error);
        s->role = g_steal_pointer(&role);
    }
    if (size && !vrt_parse_scaled_bytes(size, &s->size, error))
        return false;
    if (server) {
        g_autofree char *path = vrt_xml_prop(server, "path");

        if (!vrt_xml_check_attrs(server, error, "path", NULL))
            return false;
        s->server = true;
        if (path)
            s->server_path = sanitize_path(path);
    }
    if (msi && !parse_msi(msi, s, error))
        return false;
    if (s->msi && !s->server) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "msi option is only supported with a server");
        return false;
    }
    return post_parse(s, error);
}

void
vrt_format_shmems(VrtFmt *f, const VrtDomainDef *def)
{
    for (guint i = 0; def->shmems && i < def->shmems->len; i++) {
        const VrtDomainShmemDef *s = def->shmems->pdata[i];
        g_autofree char *name = vrt_xml_escape(s->name);

        if (s->role)
            vrt_fmt_line(f, "<shmem name='%s' role='%s'>", name, s->role);
        else
            vrt_fmt_line(f, "<shmem name='%s'>", name);
        f->indent++;
        vrt_fmt_line(f, "<model type='%s'/>", vrt_shmem_model_names[s->model]);
        /* libvirt writes MiB, which would turn a size below one (or not
         * a whole number of them) into another: those are written exactly */
        if (s->size && !(s->size & ((1 << 20) - 1)))
            vrt_fmt_line(f, "<size unit='M'>%" G_GUINT64_FORMAT "</size>", s->size >> 20);
        else if (s->size && !(s->size & 1023))
            vrt_fmt_line(f, "<size unit='K'>%" G_GUINT64_FORMAT "</size>", s->size >> 10);
        else if (s->size)
            vrt_fmt_line(f, "<size unit='B'>%" G_GUINT64_FORMAT "</size>", s->size);
        if (s->server && s->server_path) {
            g_autofree char *path = vrt_xml_escape(s->server_path);

            vrt_fmt_line(f, "<server path='%s'/>", path);
        } else if (s->server) {
            vrt_fmt_line(f, "<server/>");
        }
        if (s->msi) {
            g_autoptr(GString) attrs = g_string_new(NULL);

            if (s->vectors)
                g_string_append_printf(attrs, " vectors='%u'", s->vectors);
            if (s->ioeventfd != VRT_TRISTATE_DEFAULT)
                g_string_append_printf(attrs, " ioeventfd='%s'", s->ioeventfd == VRT_TRISTATE_YES ? "on" : "off");
            vrt_fmt_line(f, "<msi%s/>", attrs->str);
        }
        vrt_format_device_info(f, &s->info);
        f->indent--;
        vrt_fmt_line(f, "</shmem>");
    }
}
