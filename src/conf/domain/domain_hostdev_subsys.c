/*
 * <hostdev mode='subsystem'> of type scsi_host (a vhost-scsi target named
 * by its WWPN) and mdev (a mediated device named by its UUID): read with
 * libvirt 9's checks and error texts and written back as libvirt writes
 * them (managed= always, then model=, display=, ramfb=). They take a PCI
 * slot and a hostdevN alias as PCI hostdevs do (domain_addr.c); the QEMU
 * driver checks at start that the host has them (qemu_process.c).
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"
#include "util/uuid.h"

#include <string.h>

const char *const vrt_mdev_model_names[] = { "vfio-pci", "vfio-ccw", "vfio-ap", NULL };
const char *const vrt_vhost_scsi_model_names[] = { "default", "virtio", "virtio-transitional",
                                                   "virtio-non-transitional", NULL };

void
vrt_domain_subsys_hostdev_free(VrtDomainSubsysHostdevDef *h)
{
    if (!h)
        return;
    g_free(h->uuid);
    g_free(h->wwpn);
    g_free(h->info.alias);
    g_free(h->info.usb.port);
    g_free(h->info.rom.file);
    g_free(h);
}

/* libvirt's WWN check: 16 hexadecimal digits */
static bool
wwn_valid(const char *wwn)
{
    if (strlen(wwn) != 16)
        return false;
    for (const char *p = wwn; *p; p++)
        if (!g_ascii_isxdigit(*p))
            return false;
    return true;
}

static bool
parse_source(xmlNodePtr src, VrtDomainSubsysHostdevDef *h, GError **error)
{
    if (h->type == VRT_SUBSYS_HOSTDEV_SCSI_HOST) {
        g_autofree char *protocol = vrt_xml_prop(src, "protocol");

        if (!vrt_xml_check_attrs(src, error, "protocol", "wwpn", NULL))
            return false;
        if (!protocol) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing scsi_host subsystem protocol");
            return false;
        }
        if (!g_str_equal(protocol, "vhost")) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Unknown scsi_host subsystem protocol '%s'", protocol);
            return false;
        }
        h->wwpn = vrt_xml_prop(src, "wwpn");
        if (!h->wwpn) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "missing vhost-scsi hostdev source wwpn");
            return false;
        }
        if (!g_str_has_prefix(h->wwpn, "naa.") || !wwn_valid(h->wwpn + 4)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "malformed 'wwpn' value");
            return false;
        }
        VRT_XML_FOREACH_CHILD(c, src)
        return vrt_xml_unsupported(c, error);
        return true;
    }
    if (!vrt_xml_check_attrs(src, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, src)
    {
        g_autofree char *uuid = NULL;
        guint8 raw[VRT_UUID_LEN];
        char text[VRT_UUID_STRING_LEN];

        if (!vrt_xml_is(c, "address"))
            return vrt_xml_unsupported(c, error);
        if (h->uuid)
            continue; /* libvirt reads the first */
        uuid = vrt_xml_prop(c, "uuid");
        if (!uuid) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Missing 'uuid' attribute for element <address>");
            return false;
        }
        if (!vrt_uuid_parse(uuid, raw)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Cannot parse uuid attribute of element <address>");
            return false;
        }
        vrt_uuid_format(raw, text);
        h->uuid = g_strdup(text);
    }
    if (!h->uuid) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Missing <address> element");
        return false;
    }
    return true;
}

static const char *const address_names[] = { "none", "pci", "drive", "virtio-serial", "usb" };

bool
vrt_parse_subsys_hostdev(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, bool *handled, GError **error)
{
    g_autofree char *mode = vrt_xml_prop(node, "mode");
    g_autofree char *type = vrt_xml_prop(node, "type");
    VrtDomainSubsysHostdevDef *h;
    VrtTristate managed = VRT_TRISTATE_DEFAULT;
    bool have_source = false;

    *handled = (!mode || g_str_equal(mode, "subsystem")) &&
               (g_strcmp0(type, "scsi_host") == 0 || g_strcmp0(type, "mdev") == 0);
    if (!*handled)
        return true;
    h = g_new0(VrtDomainSubsysHostdevDef, 1);
    if (!def->subsys_hostdevs)
        def->subsys_hostdevs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_subsys_hostdev_free);
    g_ptr_array_add(def->subsys_hostdevs, h); /* freed with def on every error path */
    h->type = g_str_equal(type, "mdev") ? VRT_SUBSYS_HOSTDEV_MDEV : VRT_SUBSYS_HOSTDEV_SCSI_HOST;
    h->model = -1;
    if (!(h->type == VRT_SUBSYS_HOSTDEV_MDEV
              ? vrt_xml_check_attrs(node, error, "mode", "type", "managed", "model", "display", "ramfb", NULL)
              : vrt_xml_check_attrs(node, error, "mode", "type", "managed", "model", NULL)) ||
        !vrt_xml_prop_tristate(node, "managed", false, &managed, error))
        return false;
    h->managed = managed == VRT_TRISTATE_YES;
    if (h->type == VRT_SUBSYS_HOSTDEV_MDEV) {
        if (!vrt_xml_prop_enum(node, "model", vrt_mdev_model_names, true, &h->model, error) ||
            !vrt_xml_prop_tristate(node, "display", true, &h->display, error) ||
            !vrt_xml_prop_tristate(node, "ramfb", true, &h->ramfb, error))
            return false;
    } else if (!vrt_xml_prop_enum(node, "model", vrt_vhost_scsi_model_names, false, &h->model, error)) {
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        int r;

        if (vrt_xml_is(c, "source")) {
            if (have_source)
                continue;
            if (!parse_source(c, h, error))
                return false;
            have_source = true;
            continue;
        }
        r = vrt_parse_info_child(ctx, c, &h->info, true, error);
        if (r < 0)
            return false;
        if (r == 0)
            return vrt_xml_unsupported(c, error);
    }
    if (!have_source) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing <source> element in hostdev device");
        return false;
    }
    if (h->type == VRT_SUBSYS_HOSTDEV_MDEV && h->info.type != VRT_DEVICE_ADDRESS_NONE &&
        h->info.type != VRT_DEVICE_ADDRESS_PCI && h->model == 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Unsupported address type '%s' with mediated device model '%s'",
                      address_names[h->info.type], vrt_mdev_model_names[h->model]);
        return false;
    }
    if (h->type == VRT_SUBSYS_HOSTDEV_SCSI_HOST && h->info.boot_order) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "booting from assigned devices is not supported by vhost SCSI devices");
        return false;
    }
    return true;
}

bool
vrt_subsys_hostdevs_validate(const VrtDomainDef *def, GError **error)
{
    bool ramfb = false;

    for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
        const VrtDomainSubsysHostdevDef *h = def->subsys_hostdevs->pdata[i];

        for (guint j = 0; j < i; j++) {
            const VrtDomainSubsysHostdevDef *o = def->subsys_hostdevs->pdata[j];

            if (o->type == h->type && g_strcmp0(o->uuid, h->uuid) == 0 && g_strcmp0(o->wwpn, h->wwpn) == 0) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "Hostdev already exists in the domain configuration");
                return false;
            }
        }
        if (h->type == VRT_SUBSYS_HOSTDEV_MDEV && h->ramfb == VRT_TRISTATE_YES) {
            if (ramfb) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Only one vgpu device can have 'ramfb' enabled");
                return false;
            }
            ramfb = true;
        }
        if (h->type == VRT_SUBSYS_HOSTDEV_MDEV && h->display == VRT_TRISTATE_YES &&
            (!def->graphics || def->graphics->len == 0)) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "graphics device is needed for attribute value 'display=on' in <hostdev>");
            return false;
        }
    }
    return true;
}

void
vrt_format_subsys_hostdevs(VrtFmt *f, const VrtDomainDef *def)
{
    for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
        const VrtDomainSubsysHostdevDef *h = def->subsys_hostdevs->pdata[i];
        g_autoptr(GString) attrs = g_string_new(NULL);

        g_string_append_printf(attrs, " type='%s' managed='%s'",
                               h->type == VRT_SUBSYS_HOSTDEV_MDEV ? "mdev" : "scsi_host", h->managed ? "yes" : "no");
        if (h->type == VRT_SUBSYS_HOSTDEV_MDEV) {
            g_string_append_printf(attrs, " model='%s'", vrt_mdev_model_names[h->model]);
            if (h->display)
                g_string_append_printf(attrs, " display='%s'", h->display == VRT_TRISTATE_YES ? "on" : "off");
            if (h->ramfb)
                g_string_append_printf(attrs, " ramfb='%s'", h->ramfb == VRT_TRISTATE_YES ? "on" : "off");
        } else if (h->model > 0) {
            g_string_append_printf(attrs, " model='%s'", vrt_vhost_scsi_model_names[h->model]);
        }
        vrt_fmt_line(f, "<hostdev mode='subsystem'%s>", attrs->str);
        f->indent++;
        if (h->type == VRT_SUBSYS_HOSTDEV_MDEV) {
            vrt_fmt_line(f, "<source>");
            f->indent++;
            vrt_fmt_line(f, "<address uuid='%s'/>", h->uuid);
            f->indent--;
            vrt_fmt_line(f, "</source>");
        } else {
            g_autofree char *wwpn = vrt_xml_escape(h->wwpn);

            vrt_fmt_line(f, "<source protocol='vhost' wwpn='%s'/>", wwpn);
        }
        vrt_format_device_info(f, &h->info);
        f->indent--;
        vrt_fmt_line(f, "</hostdev>");
    }
}
