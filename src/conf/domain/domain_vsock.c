/*
 * <vsock model='virtio'> with its <cid auto= address=>: the guest's
 * AF_VSOCK context id, read with libvirt 9's checks and written back as
 * libvirt writes it (model='virtio' filled in, after the <iommu>). Its
 * PCI address is assigned after the other devices' and before the memory
 * devices' (domain_addr.c), as libvirt's. The QEMU driver gives it to
 * QEMU as vhost-vsock-pci, which needs the host's /dev/vhost-vsock.
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

void
vrt_domain_vsock_free(VrtDomainVsockDef *v)
{
    if (!v)
        return;
    g_free(v->info.alias);
    g_free(v->info.usb.port);
    g_free(v);
}

static bool
parse_cid(xmlNodePtr c, VrtDomainVsockDef *v, GError **error)
{
    g_autofree char *address = vrt_xml_prop(c, "address");

    if (!vrt_xml_check_attrs(c, error, "auto", "address", NULL) ||
        !vrt_xml_prop_tristate(c, "auto", false, &v->auto_cid, error))
        return false;
    if (address) {
        guint64 n;
        /* 0-2 are the hypervisor's, the host's and reserved */
        if (!g_ascii_string_to_unsigned(address, 10, 0, G_MAXUINT32, &n, NULL)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "'cid' attribute must be a positive number: %s", address);
            return false;
        }
        if (n < 3) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "guest CID must be >= 3");
            return false;
        }
        v->cid = (guint)n;
    }
    return true;
}

bool
vrt_parse_vsock(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    g_autofree char *model = NULL;
    VrtDomainVsockDef *v;

    if (def->vsock) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "only a single vsock device is supported");
        return false;
    }
    v = def->vsock = g_new0(VrtDomainVsockDef, 1); /* freed with def */
    if (!vrt_xml_check_attrs(node, error, "model", NULL))
        return false;
    model = vrt_xml_prop(node, "model");
    if (model && !g_str_equal(model, "virtio")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "vsock model '%s' is not supported", model);
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        int r;

        if (vrt_xml_is(c, "cid")) {
            if (!parse_cid(c, v, error))
                return false;
            continue;
        }
        r = vrt_parse_info_child(ctx, c, &v->info, false, error);
        if (r < 0)
            return false;
        if (r == 0)
            return vrt_xml_unsupported(c, error);
    }
    if (v->info.type != VRT_DEVICE_ADDRESS_NONE && v->info.type != VRT_DEVICE_ADDRESS_PCI) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "vsock address type (line %ld) is not supported",
                      xmlGetLineNo(node));
        return false;
    }
    return true;
}

void
vrt_format_vsock(VrtFmt *f, const VrtDomainDef *def)
{
    const VrtDomainVsockDef *v = def->vsock;
    g_autoptr(GString) cid = g_string_new(NULL);

    if (!v)
        return;
    if (v->auto_cid != VRT_TRISTATE_DEFAULT)
        g_string_append_printf(cid, " auto='%s'", v->auto_cid == VRT_TRISTATE_YES ? "yes" : "no");
    if (v->cid)
        g_string_append_printf(cid, " address='%u'", v->cid);
    if (!cid->len && !vrt_device_info_has_content(f, &v->info)) {
        vrt_fmt_line(f, "<vsock model='virtio'/>");
        return;
    }
    vrt_fmt_line(f, "<vsock model='virtio'>");
    f->indent++;
    if (cid->len)
        vrt_fmt_line(f, "<cid%s/>", cid->str);
    vrt_format_device_info(f, &v->info);
    f->indent--;
    vrt_fmt_line(f, "</vsock>");
}
