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
    g_free(h->sgio);
    g_free(h->adapter);
    g_free(h->iscsi_name);
    g_free(h->iscsi_host);
    g_free(h->iscsi_port);
    g_free(h->auth_username);
    g_free(h->auth_secret_uuid);
    g_free(h->auth_secret_usage);
    g_free(h->initiator_iqn);
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

/* A required unsigned attribute, libvirt's errors when absent or bad */
static bool
prop_u64_required(xmlNodePtr node, const char *name, guint64 max, guint64 *out, GError **error)
{
    g_autofree char *v = vrt_xml_prop(node, name);

    if (!v) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute '%s' in element '%s'", name,
                      (const char *)node->name);
        return false;
    }
    if (!g_ascii_string_to_unsigned(v, 10, 0, max, out, NULL)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "Invalid value for attribute '%s' in element '%s': '%s'. Expected non-negative integer value",
                      name, (const char *)node->name, v);
        return false;
    }
    return true;
}

/* <source> of a scsi hostdev: the host adapter's LUN or an iSCSI LUN */
static bool
parse_scsi_source(xmlNodePtr src, VrtDomainSubsysHostdevDef *h, GError **error)
{
    g_autofree char *protocol = vrt_xml_prop(src, "protocol");
    guint nhosts = 0;

    if (protocol && !g_str_equal(protocol, "iscsi") && !g_str_equal(protocol, "adapter")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Unknown SCSI subsystem protocol '%s'", protocol);
        return false;
    }
    if (g_strcmp0(protocol, "iscsi") != 0) {
        bool have_address = false;

        if (!vrt_xml_check_attrs(src, error, "protocol", NULL))
            return false;
        VRT_XML_FOREACH_CHILD(c, src)
        {
            if (vrt_xml_is(c, "adapter")) {
                if (!vrt_xml_check_attrs(c, error, "name", NULL))
                    return false;
                if (!h->adapter)
                    h->adapter = vrt_xml_prop(c, "name");
            } else if (vrt_xml_is(c, "address")) {
                guint64 bus, target;

                if (have_address)
                    continue;
                if (!vrt_xml_check_attrs(c, error, "bus", "target", "unit", NULL) ||
                    !prop_u64_required(c, "bus", G_MAXUINT, &bus, error) ||
                    !prop_u64_required(c, "target", G_MAXUINT, &target, error) ||
                    !prop_u64_required(c, "unit", G_MAXUINT64, &h->scsi_unit, error))
                    return false;
                h->scsi_bus = (guint)bus;
                h->scsi_target = (guint)target;
                have_address = true;
            } else {
                return vrt_xml_unsupported(c, error);
            }
        }
        if (!have_address) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "'address' must be specified for scsi hostdev source");
            return false;
        }
        if (!h->adapter) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "'adapter' name must be specified for scsi hostdev source");
            return false;
        }
        return true;
    }
    if (!vrt_xml_check_attrs(src, error, "protocol", "name", NULL))
        return false;
    h->iscsi_name = vrt_xml_prop(src, "name");
    if (!h->iscsi_name) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "missing iSCSI hostdev source path name");
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, src)
    {
        if (vrt_xml_is(c, "host")) {
            if (!vrt_xml_check_attrs(c, error, "name", "port", NULL))
                return false;
            if (nhosts++ == 0) {
                h->iscsi_host = vrt_xml_prop(c, "name");
                h->iscsi_port = vrt_xml_prop(c, "port");
            }
        } else if (vrt_xml_is(c, "auth") && !h->auth_username) {
            g_autofree char *type = NULL;

            if (!vrt_xml_check_attrs(c, error, "username", NULL))
                return false;
            h->auth_username = vrt_xml_prop(c, "username");
            if (!h->auth_username) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "missing username for auth");
                return false;
            }
            VRT_XML_FOREACH_CHILD(sec, c)
            {
                if (!vrt_xml_is(sec, "secret") || !vrt_xml_check_attrs(sec, error, "type", "uuid", "usage", NULL))
                    return vrt_xml_is(sec, "secret") ? false : vrt_xml_unsupported(sec, error);
                g_free(type);
                type = vrt_xml_prop(sec, "type");
                h->auth_secret_uuid = vrt_xml_prop(sec, "uuid");
                h->auth_secret_usage = vrt_xml_prop(sec, "usage");
            }
            if (!type || (!h->auth_secret_uuid && !h->auth_secret_usage)) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "%s",
                              !type ? "missing auth secret type" : "missing auth secret uuid or usage attribute");
                return false;
            }
            if (!g_str_equal(type, "iscsi") && !g_str_equal(type, "ceph") && !g_str_equal(type, "volume") &&
                !g_str_equal(type, "tls") && !g_str_equal(type, "vtpm")) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "invalid secret type %s", type);
                return false;
            }
            if (!g_str_equal(type, "iscsi")) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "hostdev invalid secret type '%s'", type);
                return false;
            }
        } else if (vrt_xml_is(c, "initiator") && !h->initiator_iqn) {
            VRT_XML_FOREACH_CHILD(iqn, c)
            {
                if (!vrt_xml_is(iqn, "iqn") || !vrt_xml_check_attrs(iqn, error, "name", NULL))
                    return vrt_xml_is(iqn, "iqn") ? false : vrt_xml_unsupported(iqn, error);
                if (!h->initiator_iqn)
                    h->initiator_iqn = vrt_xml_prop(iqn, "name");
            }
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    if (nhosts < 1) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "missing the host address for the iSCSI hostdev");
        return false;
    }
    if (nhosts > 1) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "only one source host address may be specified for the iSCSI hostdev");
        return false;
    }
    /* libvirt names LUN 0 of a target given without one */
    if (!strchr(h->iscsi_name, '/')) {
        char *with_lun = g_strdup_printf("%s/0", h->iscsi_name);

        g_free(h->iscsi_name);
        h->iscsi_name = with_lun;
    }
    return true;
}

static bool
parse_source(xmlNodePtr src, VrtDomainSubsysHostdevDef *h, GError **error)
{
    if (h->type == VRT_SUBSYS_HOSTDEV_SCSI)
        return parse_scsi_source(src, h, error);
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
               (g_strcmp0(type, "scsi_host") == 0 || g_strcmp0(type, "mdev") == 0 || g_strcmp0(type, "scsi") == 0);
    if (!*handled)
        return true;
    h = g_new0(VrtDomainSubsysHostdevDef, 1);
    if (!def->subsys_hostdevs)
        def->subsys_hostdevs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_subsys_hostdev_free);
    g_ptr_array_add(def->subsys_hostdevs, h); /* freed with def on every error path */
    h->type = g_str_equal(type, "mdev")   ? VRT_SUBSYS_HOSTDEV_MDEV
              : g_str_equal(type, "scsi") ? VRT_SUBSYS_HOSTDEV_SCSI
                                          : VRT_SUBSYS_HOSTDEV_SCSI_HOST;
    h->model = -1;
    if (!(h->type == VRT_SUBSYS_HOSTDEV_MDEV
              ? vrt_xml_check_attrs(node, error, "mode", "type", "managed", "model", "display", "ramfb", NULL)
          : h->type == VRT_SUBSYS_HOSTDEV_SCSI
              ? vrt_xml_check_attrs(node, error, "mode", "type", "managed", "sgio", "rawio", NULL)
              : vrt_xml_check_attrs(node, error, "mode", "type", "managed", "model", NULL)) ||
        !vrt_xml_prop_tristate(node, "managed", false, &managed, error))
        return false;
    if (h->type == VRT_SUBSYS_HOSTDEV_SCSI) {
        h->sgio = vrt_xml_prop(node, "sgio");
        if (h->sgio && !g_str_equal(h->sgio, "filtered") && !g_str_equal(h->sgio, "unfiltered")) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'sgio' in element 'hostdev': '%s'.",
                          h->sgio);
            return false;
        }
        if (!vrt_xml_prop_tristate(node, "rawio", false, &h->rawio, error))
            return false;
    }
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

        if (h->type == VRT_SUBSYS_HOSTDEV_SCSI && vrt_xml_is(c, "readonly")) {
            h->readonly = true;
            continue;
        }
        if (h->type == VRT_SUBSYS_HOSTDEV_SCSI && vrt_xml_is(c, "shareable")) {
            h->shareable = true;
            continue;
        }
        if (vrt_xml_is(c, "source")) {
            if (have_source)
                continue;
            if (!parse_source(c, h, error))
                return false;
            have_source = true;
            continue;
        }
        if (vrt_xml_is(c, "teaming")) {
            if (!vrt_hostdev_teaming_check_non_pci(c, error))
                return false;
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

            if (o->type == h->type && g_strcmp0(o->uuid, h->uuid) == 0 && g_strcmp0(o->wwpn, h->wwpn) == 0 &&
                g_strcmp0(o->adapter, h->adapter) == 0 && o->scsi_bus == h->scsi_bus &&
                o->scsi_target == h->scsi_target && o->scsi_unit == h->scsi_unit &&
                g_strcmp0(o->iscsi_name, h->iscsi_name) == 0 && g_strcmp0(o->iscsi_host, h->iscsi_host) == 0) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "Hostdev already exists in the domain configuration");
                return false;
            }
        }
        if (h->type == VRT_SUBSYS_HOSTDEV_SCSI && h->info.type == VRT_DEVICE_ADDRESS_DRIVE) {
            const VrtDriveAddress *a = &h->info.drive;
            const char *other = NULL;

            for (guint j = i + 1; j < def->subsys_hostdevs->len && !other; j++) {
                const VrtDomainSubsysHostdevDef *o = def->subsys_hostdevs->pdata[j];
                if (o->type == VRT_SUBSYS_HOSTDEV_SCSI && o->info.type == VRT_DEVICE_ADDRESS_DRIVE &&
                    !memcmp(&o->info.drive, a, sizeof(*a)))
                    other = "SCSI host device";
            }
            for (guint j = 0; j < def->disks->len && !other; j++) {
                const VrtDomainDiskDef *d = def->disks->pdata[j];
                if (d->bus == VRT_DOMAIN_DISK_BUS_SCSI && d->info.type == VRT_DEVICE_ADDRESS_DRIVE &&
                    !memcmp(&d->info.drive, a, sizeof(*a)))
                    other = "SCSI disk";
            }
            if (other) {
                /* libvirt names the bus as controller= and the controller as bus= */
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                              "SCSI host address controller='%u' bus='%u' target='%u' unit='%u' in use by another %s",
                              a->bus, a->controller, a->target, a->unit, other);
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

static void
format_scsi_source(VrtFmt *f, const VrtDomainSubsysHostdevDef *h)
{
    if (!h->iscsi_name) {
        g_autofree char *adapter = vrt_xml_escape(h->adapter);

        vrt_fmt_line(f, "<source>");
        f->indent++;
        vrt_fmt_line(f, "<adapter name='%s'/>", adapter);
        vrt_fmt_line(f, "<address bus='%u' target='%u' unit='%" G_GUINT64_FORMAT "'/>", h->scsi_bus, h->scsi_target,
                     h->scsi_unit);
    } else {
        g_autofree char *name = vrt_xml_escape(h->iscsi_name);
        g_autofree char *host = vrt_xml_escape(h->iscsi_host);
        g_autofree char *port = vrt_xml_escape(h->iscsi_port);
        g_autofree char *user = vrt_xml_escape(h->auth_username);

        vrt_fmt_line(f, "<source protocol='iscsi' name='%s'>", name);
        f->indent++;
        if (h->iscsi_port)
            vrt_fmt_line(f, "<host name='%s' port='%s'/>", host, port);
        else
            vrt_fmt_line(f, "<host name='%s'/>", host);
        if (h->auth_username) {
            g_autofree char *usage = vrt_xml_escape(h->auth_secret_usage);

            vrt_fmt_line(f, "<auth username='%s'>", user);
            f->indent++;
            if (h->auth_secret_uuid)
                vrt_fmt_line(f, "<secret type='iscsi' uuid='%s'/>", h->auth_secret_uuid);
            else
                vrt_fmt_line(f, "<secret type='iscsi' usage='%s'/>", usage);
            f->indent--;
            vrt_fmt_line(f, "</auth>");
        }
        if (h->initiator_iqn) {
            g_autofree char *iqn = vrt_xml_escape(h->initiator_iqn);

            vrt_fmt_line(f, "<initiator>");
            f->indent++;
            vrt_fmt_line(f, "<iqn name='%s'/>", iqn);
            f->indent--;
            vrt_fmt_line(f, "</initiator>");
        }
    }
    f->indent--;
    vrt_fmt_line(f, "</source>");
    if (h->readonly)
        vrt_fmt_line(f, "<readonly/>");
    if (h->shareable)
        vrt_fmt_line(f, "<shareable/>");
}

void
vrt_format_subsys_hostdevs(VrtFmt *f, const VrtDomainDef *def)
{
    for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
        const VrtDomainSubsysHostdevDef *h = def->subsys_hostdevs->pdata[i];
        g_autoptr(GString) attrs = g_string_new(NULL);

        g_string_append_printf(attrs, " type='%s' managed='%s'",
                               h->type == VRT_SUBSYS_HOSTDEV_MDEV   ? "mdev"
                               : h->type == VRT_SUBSYS_HOSTDEV_SCSI ? "scsi"
                                                                    : "scsi_host",
                               h->managed ? "yes" : "no");
        if (h->type == VRT_SUBSYS_HOSTDEV_SCSI) {
            if (h->sgio)
                g_string_append_printf(attrs, " sgio='%s'", h->sgio);
            if (h->rawio)
                g_string_append_printf(attrs, " rawio='%s'", h->rawio == VRT_TRISTATE_YES ? "yes" : "no");
        } else if (h->type == VRT_SUBSYS_HOSTDEV_MDEV) {
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
        if (h->type == VRT_SUBSYS_HOSTDEV_SCSI) {
            format_scsi_source(f, h);
        } else if (h->type == VRT_SUBSYS_HOSTDEV_MDEV) {
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
