/*
 * Parsing of the elements inside <devices>: one reader per device kind,
 * each refusing what it does not understand (element or attribute, named)
 * rather than dropping it, plus the per-device info every device shares
 * (alias, guest address, boot order).
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"
#include "util/uuid.h"

#include <string.h>

#define DRIVE_MAX 0xffff
#define VLAN_MAX_TAG 4095
#define CONTROLLER_MAX_PORTS 255
#define NET_MAX_QUEUES 256
#define NET_MAX_MTU 65535
#define VIDEO_MAX_HEADS 16
#define CHR_MAX_PORT 255

bool
vrt_parse_pci_address(xmlNodePtr node, VrtPciAddr *addr, GError **error)
{
    return vrt_xml_check_attrs(node, error, "type", "domain", "bus", "slot", "function", "multifunction", NULL) &&
           vrt_xml_prop_pci_addr(node, VRT_XML_PCI_MULTIFUNCTION, addr, error);
}

static bool
only_chars(const char *s, const char *allowed)
{
    return *s && s[strspn(s, allowed)] == '\0';
}

/* "1" or "1.2.3": up to four numbers (libvirt's hub depth) of one to three digits */
static bool
usb_port_valid(const char *port)
{
    g_auto(GStrv) parts = g_strsplit(port, ".", -1);
    guint n = g_strv_length(parts);

    if (n < 1 || n > 4)
        return false;
    for (guint i = 0; i < n; i++) {
        if (strlen(parts[i]) > 3 || !only_chars(parts[i], "0123456789"))
            return false;
    }
    return true;
}

static bool
parse_address(xmlNodePtr node, VrtDomainDeviceInfo *info, GError **error)
{
    g_autofree char *type = vrt_xml_prop(node, "type");

    if (!type) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "missing attribute 'type' of <address> (line %ld)", xmlGetLineNo(node));
        return false;
    }
    if (g_str_equal(type, "pci")) {
        info->type = VRT_DEVICE_ADDRESS_PCI;
        VRT_XML_FOREACH_CHILD(c, node)
        {
            /* <zpci uid= fid=> is s390's; the QEMU binaries vrt runs have
             * no zPCI, which libvirt refuses in these words */
            if (vrt_xml_is(c, "zpci")) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "This QEMU binary doesn't support zPCI");
                return false;
            }
            return vrt_xml_unsupported(c, error);
        }
        return vrt_parse_pci_address(node, &info->pci, error);
    }
    if (g_str_equal(type, "drive")) {
        info->type = VRT_DEVICE_ADDRESS_DRIVE;
        return vrt_xml_check_attrs(node, error, "type", "controller", "bus", "target", "unit", NULL) &&
               vrt_xml_prop_uint(node, "controller", DRIVE_MAX, &info->drive.controller, NULL, error) &&
               vrt_xml_prop_uint(node, "bus", DRIVE_MAX, &info->drive.bus, NULL, error) &&
               vrt_xml_prop_uint(node, "target", DRIVE_MAX, &info->drive.target, NULL, error) &&
               vrt_xml_prop_uint(node, "unit", DRIVE_MAX, &info->drive.unit, NULL, error);
    }
    if (g_str_equal(type, "virtio-serial")) {
        info->type = VRT_DEVICE_ADDRESS_VIRTIO_SERIAL;
        return vrt_xml_check_attrs(node, error, "type", "controller", "bus", "port", NULL) &&
               vrt_xml_prop_uint(node, "controller", DRIVE_MAX, &info->vserial.controller, NULL, error) &&
               vrt_xml_prop_uint(node, "bus", DRIVE_MAX, &info->vserial.bus, NULL, error) &&
               vrt_xml_prop_uint(node, "port", DRIVE_MAX, &info->vserial.port, NULL, error);
    }
    if (g_str_equal(type, "usb")) {
        info->type = VRT_DEVICE_ADDRESS_USB;
        if (!vrt_xml_check_attrs(node, error, "type", "bus", "port", NULL) ||
            !vrt_xml_prop_uint(node, "bus", DRIVE_MAX, &info->usb.bus, NULL, error))
            return false;
        g_free(info->usb.port);
        info->usb.port = vrt_xml_prop(node, "port");
        if (info->usb.port && !usb_port_valid(info->usb.port)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid USB port '%s' (line %ld)", info->usb.port,
                          xmlGetLineNo(node));
            return false;
        }
        return true;
    }
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "address type '%s' (line %ld) is not supported", type,
                  xmlGetLineNo(node));
    return false;
}

int
vrt_parse_info_child(const VrtParseCtx *ctx, xmlNodePtr child, VrtDomainDeviceInfo *info, bool allow_boot,
                     GError **error)
{
    if (vrt_xml_is(child, "alias")) {
        g_autofree char *name = vrt_xml_prop(child, "name");
        if (!vrt_xml_check_attrs(child, error, "name", NULL))
            return -1;
        if (!name || !*name || strlen(name) > 64 ||
            !only_chars(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid alias name '%s' (line %ld)", name ? name : "",
                          xmlGetLineNo(child));
            return -1;
        }
        /* Runtime aliases are the driver's to give; only user aliases
         * survive into a definition. */
        if ((ctx->flags & VRT_DOMAIN_XML_STATUS) || g_str_has_prefix(name, "ua-")) {
            g_free(info->alias);
            info->alias = g_steal_pointer(&name);
        }
        return 1;
    }
    if (vrt_xml_is(child, "address"))
        return parse_address(child, info, error) ? 1 : -1;
    if (allow_boot && vrt_xml_is(child, "boot")) {
        bool present = false;
        if (!vrt_xml_check_attrs(child, error, "order", NULL) ||
            !vrt_xml_prop_uint(child, "order", G_MAXINT, &info->boot_order, &present, error))
            return -1;
        if (!present || info->boot_order == 0) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "boot order must be a positive number (line %ld)",
                          xmlGetLineNo(child));
            return -1;
        }
        return 1;
    }
    return 0;
}

/* Runs the info parser and falls back to refusing the element. */
#define INFO_OR_UNSUPPORTED(ctx, child, info, boot, error)            \
    do {                                                              \
        int r_ = vrt_parse_info_child(ctx, child, info, boot, error); \
        if (r_ < 0)                                                   \
            return false;                                             \
        if (r_ == 0)                                                  \
            return vrt_xml_unsupported(child, error);                 \
    } while (0)

/* ---- disk ---------------------------------------------------------- */

/* <encryption format='luks'><secret type='passphrase' uuid='...'/></encryption>:
 * libvirt's qcow2 LUKS encryption, its passphrase in a secret. */
static bool
parse_disk_encryption(xmlNodePtr node, VrtDomainDiskDef *disk, GError **error)
{
    g_autofree char *format = vrt_xml_prop(node, "format");
    if (!vrt_xml_check_attrs(node, error, "format", NULL))
        return false;
    if (g_strcmp0(format, "luks") != 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk encryption format '%s' is not supported",
                      format ? format : "");
        return false;
    }
    g_free(disk->encryption_format);
    disk->encryption_format = g_steal_pointer(&format);
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!vrt_xml_is(c, "secret"))
            return vrt_xml_unsupported(c, error);
        g_autofree char *type = vrt_xml_prop(c, "type");
        g_autofree char *uuid = vrt_xml_prop(c, "uuid");
        guint8 raw[16];
        if (!vrt_xml_check_attrs(c, error, "type", "uuid", NULL))
            return false;
        if (g_strcmp0(type, "passphrase") != 0 || !uuid || !vrt_uuid_parse(uuid, raw)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "an encryption secret needs type='passphrase' and a uuid");
            return false;
        }
        g_free(disk->encryption_secret);
        disk->encryption_secret = g_steal_pointer(&uuid);
    }
    if (!disk->encryption_secret) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing encryption secret");
        return false;
    }
    return true;
}

static bool
disk_bus_from_target(const char *dev, VrtDomainDiskBus *bus)
{
    if (g_str_has_prefix(dev, "vd"))
        *bus = VRT_DOMAIN_DISK_BUS_VIRTIO;
    else if (g_str_has_prefix(dev, "sd"))
        *bus = VRT_DOMAIN_DISK_BUS_SCSI;
    else if (g_str_has_prefix(dev, "hd"))
        *bus = VRT_DOMAIN_DISK_BUS_IDE;
    else if (g_str_has_prefix(dev, "fd"))
        *bus = VRT_DOMAIN_DISK_BUS_FDC;
    else
        return false;
    return true;
}

static bool
parse_disk(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDiskDef **out, GError **error)
{
    g_autoptr(VrtDomainDiskDef) disk = g_new0(VrtDomainDiskDef, 1);
    int v;
    bool have_bus = false;

    if (!vrt_xml_check_attrs(node, error, "type", "device", NULL))
        return false;
    v = VRT_DOMAIN_DISK_TYPE_FILE;
    if (!vrt_xml_prop_enum(node, "type", vrt_disk_type_names, false, &v, error))
        return false;
    disk->type = v;
    v = VRT_DOMAIN_DISK_DEVICE_DISK;
    if (!vrt_xml_prop_enum(node, "device", vrt_disk_device_names, false, &v, error))
        return false;
    disk->device = v;

    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "driver")) {
            if (!vrt_xml_check_attrs(c, error, "name", "type", "cache", "error_policy", "rerror_policy", "io",
                                     "copy_on_read", "discard", "detect_zeroes", "iothread", "ioeventfd", "event_idx",
                                     "queues", "queue_size", VRT_VIRTIO_OPTION_ATTRS, NULL) ||
                !vrt_parse_disk_driver_tuning(c, &disk->tuning, error))
                return false;
            g_free(disk->driver_name);
            disk->driver_name = vrt_xml_prop(c, "name");
            if (disk->driver_name && !g_str_equal(disk->driver_name, "qemu")) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk driver name '%s' is not supported",
                              disk->driver_name);
                return false;
            }
            v = VRT_DOMAIN_DISK_FORMAT_NONE;
            if (!vrt_xml_prop_enum(c, "type", vrt_disk_format_names, false, &v, error))
                return false;
            disk->format = v;
            g_free(disk->cache);
            disk->cache = vrt_xml_prop(c, "cache");
            if (disk->cache && !g_strv_contains((const char *const[]){ "default", "none", "writethrough", "writeback",
                                                                       "directsync", "unsafe", NULL },
                                                disk->cache)) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk cache mode '%s' is not supported", disk->cache);
                return false;
            }
        } else if (vrt_xml_is(c, "source") && disk->type == VRT_DOMAIN_DISK_TYPE_VOLUME) {
            /* the file it resolved to is runtime data, in status files only */
            if (!vrt_xml_check_attrs(c, error, "pool", "volume", "index", "startupPolicy",
                                     (ctx->flags & VRT_DOMAIN_XML_STATUS) ? "file" : NULL, NULL) ||
                !vrt_disk_startup_parse(c, &disk->startup_policy, error))
                return false;
            g_free(disk->src_pool);
            g_free(disk->src_volume);
            g_free(disk->src);
            disk->src_pool = vrt_xml_prop(c, "pool");
            disk->src_volume = vrt_xml_prop(c, "volume");
            disk->src = (ctx->flags & VRT_DOMAIN_XML_STATUS) ? vrt_xml_prop(c, "file") : NULL;
            if (!disk->src_pool || !disk->src_volume) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing 'pool' or 'volume' in disk source");
                return false;
            }
        } else if (vrt_xml_is(c, "source") && disk->type == VRT_DOMAIN_DISK_TYPE_NETWORK) {
            /* refused with libvirt's error, not as an unknown attribute */
            if (!vrt_disk_startup_parse(c, &disk->startup_policy, error) ||
                !vrt_disk_startup_validate(disk->startup_policy, "network", "disk", error))
                return false;
            if (!vrt_parse_disk_net_source(c, disk, error))
                return false;
        } else if (vrt_xml_is(c, "auth") && disk->type == VRT_DOMAIN_DISK_TYPE_NETWORK) {
            if (!disk->net) {
                disk->net = g_new0(VrtDiskNetSource, 1);
                disk->net->hosts = g_array_new(FALSE, TRUE, sizeof(VrtDiskNetHost));
            }
            if (!vrt_parse_disk_net_auth(c, disk, true, error))
                return false;
        } else if (vrt_xml_is(c, "source")) {
            const char *attr = disk->type == VRT_DOMAIN_DISK_TYPE_FILE ? "file" : "dev";
            if (!vrt_xml_check_attrs(c, error, attr, "index", "startupPolicy", NULL) ||
                !vrt_disk_startup_parse(c, &disk->startup_policy, error))
                return false;
            g_free(disk->src);
            disk->src = vrt_xml_prop(c, attr);
            VRT_XML_FOREACH_CHILD(sl, c)
            {
                if (vrt_xml_is(sl, "seclabel") && !vrt_parse_dev_seclabel(sl, ctx->flags, &disk->seclabels, error))
                    return false;
                if (vrt_xml_is(sl, "encryption")) {
                    /* libvirt refuses an <encryption> in both <source> and
                     * <disk> as ambiguous; one in <source> alone vrt does
                     * not read, so it is refused rather than dropped */
                    VRT_XML_FOREACH_CHILD(sib, node)
                    {
                        if (vrt_xml_is(sib, "encryption")) {
                            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                                          "an <encryption> definition already found for disk source");
                            return false;
                        }
                    }
                    return vrt_xml_unsupported(sl, error);
                }
            }
        } else if (vrt_xml_is(c, "backingStore") && !c->children && !c->properties) {
            continue; /* the empty chain libvirt prints in live XML */
        } else if (vrt_xml_is(c, "target")) {
            if (!vrt_xml_check_attrs(c, error, "dev", "bus", "tray", "removable", "rotation_rate", NULL) ||
                !vrt_disk_ident_parse_target(c, &disk->ident, error))
                return false;
            g_free(disk->target_dev);
            disk->target_dev = vrt_xml_prop(c, "dev");
            v = 0;
            if (!vrt_xml_prop_enum(c, "bus", vrt_disk_bus_names, false, &v, error))
                return false;
            have_bus = xmlHasProp(c, (const xmlChar *)"bus") != NULL;
            disk->bus = v;
        } else if (vrt_xml_is(c, "readonly")) {
            disk->readonly = true;
        } else if (vrt_xml_is(c, "shareable")) {
            disk->shareable = true;
        } else if (vrt_xml_is(c, "serial")) {
            g_free(disk->serial);
            disk->serial = vrt_xml_text(c);
        } else if (vrt_xml_is(c, "encryption")) {
            if (!parse_disk_encryption(c, disk, error))
                return false;
        } else if (vrt_xml_is(c, "iotune")) {
            if (!vrt_disk_iotune_parse(c, &disk->iotune, error))
                return false;
        } else if ((v = vrt_disk_ident_parse_child(c, &disk->ident, error)) != 0) {
            if (v < 0)
                return false;
        } else if ((v = vrt_disk_geometry_parse_child(c, &disk->geometry, error)) != 0) {
            if (v < 0)
                return false;
        } else {
            INFO_OR_UNSUPPORTED(ctx, c, &disk->info, true, error);
        }
    }
    if (!disk->target_dev || !*disk->target_dev || !only_chars(disk->target_dev, "abcdefghijklmnopqrstuvwxyz")) {
        vrt_error_set(error, VIR_ERR_NO_TARGET, "%s", disk->src ? disk->src : "disk");
        return false;
    }
    if (!vrt_disk_net_source_check(disk, error))
        return false;
    /* as libvirt's QEMU driver: a network disk without a format is raw */
    if (disk->net && disk->format == VRT_DOMAIN_DISK_FORMAT_NONE)
        disk->format = VRT_DOMAIN_DISK_FORMAT_RAW;
    /* libvirt: a floppy without a bus is on the floppy controller */
    if (!have_bus && disk->device == VRT_DOMAIN_DISK_DEVICE_FLOPPY) {
        disk->bus = VRT_DOMAIN_DISK_BUS_FDC;
        have_bus = true;
    }
    if (!have_bus && !disk_bus_from_target(disk->target_dev, &disk->bus)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "cannot tell the bus of disk target '%s'", disk->target_dev);
        return false;
    }
    /* libvirt's QEMU checks of an SD card: no serial, no tray, no address */
    if (disk->bus == VRT_DOMAIN_DISK_BUS_SD && disk->serial) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "Serial property not supported for drive bus 'sd'");
        return false;
    }
    if (disk->bus == VRT_DOMAIN_DISK_BUS_SD && disk->device == VRT_DOMAIN_DISK_DEVICE_CDROM) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk type of '%s' does not support ejectable media",
                      disk->target_dev);
        return false;
    }
    if (disk->bus == VRT_DOMAIN_DISK_BUS_SD && disk->info.type != VRT_DEVICE_ADDRESS_NONE) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "disk '%s' on bus 'sd' cannot have an address", disk->target_dev);
        return false;
    }
    if (disk->device == VRT_DOMAIN_DISK_DEVICE_CDROM) {
        if (disk->bus == VRT_DOMAIN_DISK_BUS_VIRTIO) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "disk type 'virtio' of '%s' does not support ejectable media", disk->target_dev);
            return false;
        }
        disk->readonly = true;
    } else if (disk->device == VRT_DOMAIN_DISK_DEVICE_FLOPPY) {
        /* libvirt's checks: floppies only on fdc and named fdX; a floppy
         * drive may be empty */
        if (disk->bus != VRT_DOMAIN_DISK_BUS_FDC) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Invalid bus type '%s' for floppy disk",
                          vrt_disk_bus_names[disk->bus]);
            return false;
        }
        if (!g_str_has_prefix(disk->target_dev, "fd")) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Invalid floppy device name: %s", disk->target_dev);
            return false;
        }
    } else if (disk->bus == VRT_DOMAIN_DISK_BUS_FDC) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Invalid bus type '%s' for disk", vrt_disk_bus_names[disk->bus]);
        return false;
    } else if (!disk->src && !disk->src_volume && !disk->net) {
        vrt_error_set(error, VIR_ERR_NO_SOURCE, "%s", disk->target_dev);
        return false;
    }
    if (!vrt_disk_startup_validate(disk->startup_policy, vrt_disk_type_names[disk->type],
                                   vrt_disk_device_names[disk->device], error) ||
        !vrt_disk_ident_validate(&disk->ident, vrt_disk_device_names[disk->device], vrt_disk_bus_names[disk->bus],
                                 error) ||
        !vrt_disk_geometry_validate(&disk->geometry, vrt_disk_bus_names[disk->bus], error) ||
        !vrt_disk_iotune_validate(&disk->iotune, error))
        return false;
    if (disk->info.type == VRT_DEVICE_ADDRESS_PCI && disk->bus != VRT_DOMAIN_DISK_BUS_VIRTIO) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "disk '%s' on bus '%s' cannot have a PCI address", disk->target_dev,
                      vrt_disk_bus_names[disk->bus]);
        return false;
    }
    /* libvirt's QEMU checks: a USB disk sits on a USB port and nothing
     * else does */
    if (disk->bus == VRT_DOMAIN_DISK_BUS_USB && disk->info.type != VRT_DEVICE_ADDRESS_NONE &&
        disk->info.type != VRT_DEVICE_ADDRESS_USB) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "unexpected address type for usb disk");
        return false;
    }
    if (disk->bus != VRT_DOMAIN_DISK_BUS_USB && disk->info.type == VRT_DEVICE_ADDRESS_USB) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "disk '%s' on bus '%s' cannot have a USB address", disk->target_dev,
                      vrt_disk_bus_names[disk->bus]);
        return false;
    }
    if (disk->info.type == VRT_DEVICE_ADDRESS_DRIVE && disk->bus == VRT_DOMAIN_DISK_BUS_VIRTIO) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "virtio disk '%s' cannot have a drive address", disk->target_dev);
        return false;
    }
    *out = g_steal_pointer(&disk);
    return true;
}

/* ---- controller ---------------------------------------------------- */

static const char *const pci_models[] = {
    "pci-root",
    "pcie-root",
    "pcie-root-port",
    "pci-bridge",
    "dmi-to-pci-bridge",
    "pcie-to-pci-bridge",
    "pcie-switch-upstream-port",
    "pcie-switch-downstream-port",
    "pci-expander-bus",
    "pcie-expander-bus",
    NULL,
};
static const char *const usb_models[] = {
    "qemu-xhci",  "nec-xhci",   "piix3-uhci", "piix4-uhci", "ich9-ehci1",
    "ich9-uhci1", "ich9-uhci2", "ich9-uhci3", "none",       NULL,
};
static const char *const scsi_models[] = { "virtio-scsi", "lsilogic", "lsisas1068", "lsisas1078", NULL };
static const char *const pci_model_names[] = {
    "pcie-root-port",     "ioh3420",
    "pci-bridge",         "i82801b11-bridge",
    "pcie-pci-bridge",    "x3130-upstream",
    "xio3130-downstream", "pxb",
    "pxb-pcie",           NULL,
};

/* libvirt's QEMU validation of a controller's <driver>: the tuning is
 * virtio-scsi's, the transport options any virtio controller's */
static bool
vrt_domain_controller_driver_check(const VrtDomainControllerDef *c, GError **error)
{
    bool virtio_scsi = c->type == VRT_DOMAIN_CONTROLLER_SCSI && g_strcmp0(c->model, "virtio-scsi") == 0;
    const char *what = NULL;

    if (!virtio_scsi) {
        what = c->driver_queues ? "'queues' is only supported by virtio-scsi controller"
               : c->cmd_per_lun ? "'cmd_per_lun' is only supported by virtio-scsi controller"
               : c->max_sectors ? "'max_sectors' is only supported by virtio-scsi controller"
               : c->ioeventfd   ? "'ioeventfd' is only supported by virtio-scsi controller"
               : c->iothread    ? "'iothread' is only supported for virtio-scsi controller"
                                : NULL;
    }
    if (what) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", what);
        return false;
    }
    if (!virtio_scsi && c->type != VRT_DOMAIN_CONTROLLER_VIRTIO_SERIAL)
        return vrt_virtio_options_check_absent(&c->virtio, error);
    return true;
}

static bool
parse_controller(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainControllerDef **out, GError **error)
{
    g_autoptr(VrtDomainControllerDef) c = g_new0(VrtDomainControllerDef, 1);
    const char *const *models = NULL;
    bool present = false;
    guint ports = 0;
    int v = 0;

    c->chassis = c->port = c->ports = c->master_startport = -1;
    if (!vrt_xml_check_attrs(node, error, "type", "index", "model", "ports", "vectors", NULL) ||
        !vrt_xml_prop_enum(node, "type", vrt_controller_type_names, true, &v, error))
        return false;
    c->type = v;
    if (xmlHasProp(node, (const xmlChar *)"vectors")) {
        if (c->type != VRT_DOMAIN_CONTROLLER_VIRTIO_SERIAL) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "attribute 'vectors' of element <controller> (line %ld) is not supported",
                          xmlGetLineNo(node));
            return false;
        }
        if (!vrt_xml_prop_uint(node, "vectors", G_MAXINT, &c->vectors, &c->vectors_set, error))
            return false;
    }
    c->index = G_MAXUINT;
    if (!vrt_xml_prop_uint(node, "index", VRT_DOMAIN_CONTROLLER_MAX_INDEX, &c->index, NULL, error) ||
        !vrt_xml_prop_uint(node, "ports", CONTROLLER_MAX_PORTS, &ports, &present, error))
        return false;
    if (present)
        c->ports = ports;
    c->model = vrt_xml_prop(node, "model");
    switch (c->type) {
    case VRT_DOMAIN_CONTROLLER_PCI: models = pci_models; break;
    case VRT_DOMAIN_CONTROLLER_USB: models = usb_models; break;
    case VRT_DOMAIN_CONTROLLER_SCSI: models = scsi_models; break;
    default: break;
    }
    if (c->model && (!models || !g_strv_contains(models, c->model))) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "controller model '%s' for type '%s' is not supported",
                      c->model, vrt_controller_type_names[c->type]);
        return false;
    }
    if (c->type == VRT_DOMAIN_CONTROLLER_PCI && !c->model) {
        if (c->index == 0 || c->index == G_MAXUINT) {
            c->model = g_strdup(ctx->q35 ? "pcie-root" : "pci-root");
        } else {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "PCI controller index %u needs a model", c->index);
            return false;
        }
    }
    VRT_XML_FOREACH_CHILD(ch, node)
    {
        if (c->type == VRT_DOMAIN_CONTROLLER_PCI && vrt_xml_is(ch, "model")) {
            if (!vrt_xml_check_attrs(ch, error, "name", NULL))
                return false;
            g_free(c->model_name);
            c->model_name = vrt_xml_prop(ch, "name");
            if (!c->model_name || !g_strv_contains(pci_model_names, c->model_name)) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "PCI controller model name '%s' is not supported",
                              c->model_name ? c->model_name : "");
                return false;
            }
        } else if (c->type == VRT_DOMAIN_CONTROLLER_USB && vrt_xml_is(ch, "master")) {
            guint start = 0;
            if (!vrt_xml_check_attrs(ch, error, "startport", NULL) ||
                !vrt_xml_prop_uint(ch, "startport", CONTROLLER_MAX_PORTS, &start, &present, error))
                return false;
            c->master_startport = (int)start;
        } else if (vrt_xml_is(ch, "pcihole64") && c->type == VRT_DOMAIN_CONTROLLER_PCI &&
                   (g_str_equal(c->model, "pci-root") || g_str_equal(c->model, "pcie-root"))) {
            if (!vrt_parse_scaled_kib(ch, &c->pcihole64_kib, error))
                return false;
            c->pcihole64_set = true;
        } else if (vrt_xml_is(ch, "driver")) {
            if (!vrt_xml_check_attrs(ch, error, "queues", "cmd_per_lun", "max_sectors", "ioeventfd", "iothread",
                                     VRT_VIRTIO_OPTION_ATTRS, NULL) ||
                !vrt_xml_prop_uint(ch, "queues", G_MAXUINT, &c->driver_queues, NULL, error) ||
                !vrt_xml_prop_uint(ch, "cmd_per_lun", G_MAXUINT, &c->cmd_per_lun, NULL, error) ||
                !vrt_xml_prop_uint(ch, "max_sectors", G_MAXUINT, &c->max_sectors, NULL, error) ||
                !vrt_domain_prop_switch(ch, "ioeventfd", &c->ioeventfd, error) ||
                !vrt_xml_prop_uint(ch, "iothread", G_MAXUINT, &c->iothread, NULL, error) ||
                !vrt_virtio_options_parse(ch, &c->virtio, error))
                return false;
        } else if (c->type == VRT_DOMAIN_CONTROLLER_PCI && vrt_xml_is(ch, "target")) {
            if (!vrt_pci_ctrl_target_parse(ch, c, error))
                return false;
        } else {
            INFO_OR_UNSUPPORTED(ctx, ch, &c->info, false, error);
        }
    }
    if (c->type == VRT_DOMAIN_CONTROLLER_PCI) {
        bool root = g_str_equal(c->model, "pci-root") || g_str_equal(c->model, "pcie-root");
        if (root && c->index != 0 && c->index != G_MAXUINT) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "PCI root controller must have index 0");
            return false;
        }
        if (!root && c->index == 0) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "PCI controller with index 0 must be a root controller");
            return false;
        }
        if (root && c->info.type != VRT_DEVICE_ADDRESS_NONE) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "PCI root controller cannot have an address");
            return false;
        }
    }
    /* an ICH9 UHCI companion written without <master> takes its
     * EHCI's ports 0-1, 2-3 or 4-5, as libvirt's parser gives it */
    if (c->type == VRT_DOMAIN_CONTROLLER_USB && c->master_startport < 0 && c->model &&
        g_str_has_prefix(c->model, "ich9-uhci") && c->model[9] >= '1' && c->model[9] <= '3' && !c->model[10])
        c->master_startport = (c->model[9] - '1') * 2;
    if (!vrt_domain_controller_driver_check(c, error))
        return false;
    *out = g_steal_pointer(&c);
    return true;
}

/* ---- interface ----------------------------------------------------- */

static bool
parse_vlan(xmlNodePtr node, guint *tags, guint *n_tags, bool *trunk, GError **error)
{
    VrtTristate t = VRT_TRISTATE_DEFAULT;

    if (!vrt_xml_check_attrs(node, error, "trunk", NULL) || !vrt_xml_prop_tristate(node, "trunk", false, &t, error))
        return false;
    *n_tags = 0;
    VRT_XML_FOREACH_CHILD(tag, node)
    {
        bool present = false;
        if (!vrt_xml_is(tag, "tag"))
            return vrt_xml_unsupported(tag, error);
        if (!vrt_xml_check_attrs(tag, error, "id", NULL))
            return false;
        if (*n_tags == VRT_DOMAIN_NET_MAX_VLAN_TAGS) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "more than %d VLAN tags", VRT_DOMAIN_NET_MAX_VLAN_TAGS);
            return false;
        }
        if (!vrt_xml_prop_uint(tag, "id", VLAN_MAX_TAG, &tags[*n_tags], &present, error))
            return false;
        if (!present) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "missing or invalid vlan tag id attribute");
            return false;
        }
        (*n_tags)++;
    }
    if (*n_tags == 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "missing vlan tag data");
        return false;
    }
    if (t == VRT_TRISTATE_NO && *n_tags > 1) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "multiple VLAN tags specified with trunk='no'");
        return false;
    }
    *trunk = t == VRT_TRISTATE_YES;
    return true;
}

/* <source><address type='pci' .../></source> of a hostdev. */
static bool
parse_hostdev_source(xmlNodePtr node, VrtPciAddr *addr, GError **error)
{
    bool found = false;

    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        g_autofree char *type = NULL;
        if (!vrt_xml_is(c, "address"))
            return vrt_xml_unsupported(c, error);
        type = vrt_xml_prop(c, "type");
        if (type && !g_str_equal(type, "pci")) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "hostdev source address type '%s' is not supported", type);
            return false;
        }
        if (!vrt_parse_pci_address(c, addr, error))
            return false;
        found = true;
    }
    if (!found) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "PCI host device source address missing (line %ld)",
                      xmlGetLineNo(node));
        return false;
    }
    return true;
}

static bool
parse_net_actual(xmlNodePtr node, VrtDomainNetDef *net, GError **error)
{
    VrtDomainNetActual *a = &net->actual;
    int v = -1;

    if (!vrt_xml_check_attrs(node, error, "type", "managed", NULL) ||
        !vrt_xml_prop_enum(node, "type", vrt_net_type_names, true, &v, error))
        return false;
    a->type = v;
    if (a->type != VRT_DOMAIN_NET_TYPE_NETWORK && a->type != VRT_DOMAIN_NET_TYPE_BRIDGE &&
        a->type != VRT_DOMAIN_NET_TYPE_HOSTDEV) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "actual interface type '%s' is not supported",
                      vrt_net_type_names[a->type]);
        return false;
    }
    {
        VrtTristate m = VRT_TRISTATE_DEFAULT;
        if (!vrt_xml_prop_tristate(node, "managed", false, &m, error))
            return false;
        a->managed = m == VRT_TRISTATE_YES;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "source") && a->type == VRT_DOMAIN_NET_TYPE_HOSTDEV) {
            if (!parse_hostdev_source(c, &a->hostdev_addr, error))
                return false;
        } else if (vrt_xml_is(c, "source")) {
            if (!vrt_xml_check_attrs(c, error, "bridge", NULL))
                return false;
            g_free(a->bridge);
            a->bridge = vrt_xml_prop(c, "bridge");
        } else if (vrt_xml_is(c, "vlan")) {
            bool trunk;
            if (!parse_vlan(c, a->vlan_tags, &a->n_vlan_tags, &trunk, error))
                return false;
        } else if (vrt_xml_is(c, "bandwidth") && a->type != VRT_DOMAIN_NET_TYPE_HOSTDEV) {
            if (!vrt_bandwidth_parse(c, true, NULL, &a->bandwidth, error))
                return false;
        } else if (vrt_xml_is(c, "port")) {
            if (!vrt_xml_check_attrs(c, error, "isolated", NULL) ||
                !vrt_xml_prop_tristate(c, "isolated", false, &a->port_isolated, error))
                return false;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    a->set = true;
    return true;
}

static const char *const net_models[] = { "virtio", "e1000", "e1000e", "rtl8139", NULL };

static bool
parse_net(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainNetDef **out, GError **error)
{
    g_autoptr(VrtDomainNetDef) net = vrt_domain_net_def_new();
    bool status = ctx->flags & VRT_DOMAIN_XML_STATUS;
    bool have_source = false;
    VrtTristate managed = VRT_TRISTATE_DEFAULT;
    int v = -1;

    if (!vrt_xml_check_attrs(node, error, "type", "managed", "trustGuestRxFilters", NULL) ||
        !vrt_xml_prop_enum(node, "type", vrt_net_type_names, true, &v, error))
        return false;
    net->type = v;
    {
        VrtTristate trust = VRT_TRISTATE_DEFAULT;
        if (!vrt_xml_prop_tristate(node, "trustGuestRxFilters", false, &trust, error))
            return false;
        net->host.trust_rx_filters = trust;
    }
    if (!vrt_xml_prop_tristate(node, "managed", false, &managed, error))
        return false;
    if (managed != VRT_TRISTATE_DEFAULT && net->type != VRT_DOMAIN_NET_TYPE_HOSTDEV)
        return vrt_xml_check_attrs(node, error, "type", NULL);
    net->managed = managed == VRT_TRISTATE_YES;

    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "mac")) {
            g_autofree char *mac = vrt_xml_prop(c, "address");
            if (!vrt_xml_check_attrs(c, error, "address", NULL))
                return false;
            if (!vrt_mac_parse(mac, net->mac)) {
                vrt_error_set(error, VIR_ERR_INVALID_MAC, "unable to parse mac address '%s'", mac ? mac : "");
                return false;
            }
            if (net->mac[0] & 1) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "expected unicast mac address, found multicast '%s'", mac);
                return false;
            }
            net->mac_set = true;
        } else if (vrt_xml_is(c, "source")) {
            have_source = true;
            switch (net->type) {
            case VRT_DOMAIN_NET_TYPE_NETWORK: {
                g_autofree char *portid = vrt_xml_prop(c, "portid");
                if (!vrt_xml_check_attrs(c, error, "network", "portgroup", "portid", "bridge", NULL))
                    return false;
                g_free(net->source_network);
                net->source_network = vrt_xml_prop(c, "network");
                g_free(net->portgroup);
                net->portgroup = vrt_xml_prop(c, "portgroup");
                if (portid && status) {
                    if (!vrt_uuid_parse(portid, net->port_uuid)) {
                        vrt_error_set(error, VIR_ERR_XML_ERROR, "unable to parse port id '%s'", portid);
                        return false;
                    }
                    net->port_uuid_set = true;
                }
                break;
            }
            case VRT_DOMAIN_NET_TYPE_BRIDGE:
                /* network= and portid= appear in libvirt's live XML of an
                 * interface whose network gave it a host bridge: they say
                 * where it came from and change nothing here */
                if (!vrt_xml_check_attrs(c, error, "bridge", "network", "portid", NULL))
                    return false;
                g_free(net->source_bridge);
                net->source_bridge = vrt_xml_prop(c, "bridge");
                break;
            case VRT_DOMAIN_NET_TYPE_HOSTDEV:
                if (!parse_hostdev_source(c, &net->hostdev_source, error))
                    return false;
                break;
            case VRT_DOMAIN_NET_TYPE_SERVER:
            case VRT_DOMAIN_NET_TYPE_CLIENT:
            case VRT_DOMAIN_NET_TYPE_MCAST:
            case VRT_DOMAIN_NET_TYPE_UDP:
                if (!vrt_net_socket_source_parse(c, vrt_net_type_names[net->type], net->type == VRT_DOMAIN_NET_TYPE_UDP,
                                                 &net->socket, error))
                    return false;
                break;
            case VRT_DOMAIN_NET_TYPE_ETHERNET:
                if (!vrt_net_host_source_parse(c, &net->host, error))
                    return false;
                break;
            default: return vrt_xml_unsupported(c, error);
            }
        } else if (vrt_xml_is(c, "target")) {
            VrtTristate tap_managed = VRT_TRISTATE_DEFAULT;
            if (!vrt_xml_check_attrs(c, error, "dev", "managed", NULL) ||
                !vrt_xml_prop_tristate(c, "managed", false, &tap_managed, error))
                return false;
            net->host.unmanaged = tap_managed == VRT_TRISTATE_NO;
            g_autofree char *dev = vrt_xml_prop(c, "dev");
            /* generated tap names (vnetN) are runtime data, as in libvirt;
             * a tap the user made keeps its name whatever it is */
            if (dev && (status || net->host.unmanaged || !g_str_has_prefix(dev, VRT_DOMAIN_NET_AUTO_IFNAME_PREFIX))) {
                g_free(net->ifname);
                net->ifname = g_steal_pointer(&dev);
            }
        } else if (vrt_xml_is(c, "model") && net->type != VRT_DOMAIN_NET_TYPE_HOSTDEV) {
            if (!vrt_xml_check_attrs(c, error, "type", NULL))
                return false;
            g_free(net->model);
            net->model = vrt_xml_prop(c, "type");
            if (!net->model || !g_strv_contains(net_models, net->model)) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "interface model '%s' is not supported",
                              net->model ? net->model : "");
                return false;
            }
        } else if (vrt_xml_is(c, "driver")) {
            if (!vrt_xml_check_attrs(c, error, "name", "queues", VRT_NET_DRIVER_ATTRS, NULL) ||
                !vrt_xml_prop_uint(c, "queues", NET_MAX_QUEUES, &net->driver_queues, NULL, error) ||
                !vrt_net_driver_opts_parse(c, &net->driver, error))
                return false;
            g_free(net->driver_name);
            net->driver_name = vrt_xml_prop(c, "name");
            if (net->driver_name &&
                !g_strv_contains((const char *const[]){ "qemu", "vhost", "vfio", NULL }, net->driver_name)) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "interface driver '%s' is not supported",
                              net->driver_name);
                return false;
            }
        } else if (vrt_xml_is(c, "link")) {
            g_autofree char *state = vrt_xml_prop(c, "state");
            if (!vrt_xml_check_attrs(c, error, "state", NULL))
                return false;
            if (g_strcmp0(state, "up") == 0) {
                net->link_up = VRT_TRISTATE_YES;
            } else if (g_strcmp0(state, "down") == 0) {
                net->link_up = VRT_TRISTATE_NO;
            } else {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "unknown interface link state '%s'", state ? state : "");
                return false;
            }
        } else if (vrt_xml_is(c, "teaming")) {
            if (!vrt_parse_teaming(c, &net->teaming, &net->teaming_persistent, error))
                return false;
        } else if (vrt_xml_is(c, "mtu")) {
            if (!vrt_xml_check_attrs(c, error, "size", NULL) ||
                !vrt_xml_prop_uint(c, "size", NET_MAX_MTU, &net->mtu, NULL, error))
                return false;
        } else if (vrt_xml_is(c, "vlan")) {
            if (!parse_vlan(c, net->vlan_tags, &net->n_vlan_tags, &net->vlan_trunk, error))
                return false;
        } else if (vrt_xml_is(c, "bandwidth") &&
                   (net->type == VRT_DOMAIN_NET_TYPE_NETWORK || net->type == VRT_DOMAIN_NET_TYPE_BRIDGE)) {
            if (!vrt_bandwidth_parse(c, net->type == VRT_DOMAIN_NET_TYPE_NETWORK, NULL, &net->bandwidth, error))
                return false;
        } else if (vrt_xml_is(c, "port")) {
            if (!vrt_xml_check_attrs(c, error, "isolated", NULL) ||
                !vrt_xml_prop_tristate(c, "isolated", false, &net->port_isolated, error))
                return false;
        } else if (vrt_xml_is(c, "actual") && status && net->type == VRT_DOMAIN_NET_TYPE_NETWORK) {
            if (!parse_net_actual(c, net, error))
                return false;
        } else if (vrt_xml_is(c, "rom")) {
            if (!vrt_device_rom_parse(c, &net->info.rom, error))
                return false;
        } else if (vrt_xml_is(c, "script")) {
            if (!vrt_net_script_parse(c, &net->host, error))
                return false;
        } else if (vrt_xml_is(c, "backend")) {
            if (!vrt_net_backend_parse(c, &net->host, error))
                return false;
        } else if (vrt_xml_is(c, "virtualport")) {
            if (net->type != VRT_DOMAIN_NET_TYPE_NETWORK && net->type != VRT_DOMAIN_NET_TYPE_BRIDGE &&
                net->type != VRT_DOMAIN_NET_TYPE_HOSTDEV) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                              "<virtualport> element unsupported for <interface type='%s'>",
                              vrt_net_type_names[net->type]);
                return false;
            }
            if (!vrt_net_vport_parse(c, &net->vport, error))
                return false;
        } else {
            INFO_OR_UNSUPPORTED(ctx, c, &net->info, true, error);
        }
    }

    if (!vrt_net_host_side_validate(net->type == VRT_DOMAIN_NET_TYPE_ETHERNET, vrt_net_type_names[net->type],
                                    &net->host, error))
        return false;
    /* as libvirt's parser: one queue is the default; the vhost backend,
     * <driver name=> and queues belong to virtio models only and are
     * dropped from others */
    if (net->driver_queues == 1)
        net->driver_queues = 0;
    if (net->model && !g_str_equal(net->model, "virtio") && net->type != VRT_DOMAIN_NET_TYPE_HOSTDEV) {
        g_clear_pointer(&net->host.backend_vhost, g_free);
        g_clear_pointer(&net->driver_name, g_free);
        net->driver_queues = 0;
    }
    switch (net->type) {
    case VRT_DOMAIN_NET_TYPE_NETWORK:
        if (!net->source_network) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "No <source> 'network' attribute specified with <interface type='network'/>");
            return false;
        }
        break;
    case VRT_DOMAIN_NET_TYPE_BRIDGE:
        if (!net->source_bridge) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "No <source> 'bridge' attribute specified with <interface type='bridge'/>");
            return false;
        }
        break;
    case VRT_DOMAIN_NET_TYPE_HOSTDEV:
        if (!have_source) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "PCI host device source address missing");
            return false;
        }
        break;
    case VRT_DOMAIN_NET_TYPE_SERVER:
    case VRT_DOMAIN_NET_TYPE_CLIENT:
    case VRT_DOMAIN_NET_TYPE_MCAST:
    case VRT_DOMAIN_NET_TYPE_UDP:
        if (!have_source)
            return vrt_net_socket_source_parse(NULL, vrt_net_type_names[net->type], false, &net->socket, error);
        break;
    default: break;
    }
    /* only a Linux bridge port can be isolated (libvirt's check) */
    if (net->port_isolated == VRT_TRISTATE_YES && net->type != VRT_DOMAIN_NET_TYPE_NETWORK &&
        net->type != VRT_DOMAIN_NET_TYPE_BRIDGE) {
        char m[VRT_MAC_STRING_LEN];
        vrt_mac_format(net->mac, m);
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "interface %s - <port isolated='yes'/> is not supported for network interfaces with type='%s'", m,
                      vrt_net_type_names[net->type]);
        return false;
    }
    /* libvirt's checks of a failover pair's halves */
    if (net->teaming == VRT_DOMAIN_NET_TEAMING_TRANSIENT && !net->teaming_persistent) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "teaming persistent attribute must be set if teaming type is 'transient'");
        return false;
    }
    if (net->teaming == VRT_DOMAIN_NET_TEAMING_PERSISTENT && net->teaming_persistent) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "teaming persistent attribute not allowed if teaming type is 'persistent'");
        return false;
    }
    if (net->teaming == VRT_DOMAIN_NET_TEAMING_PERSISTENT &&
        (net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV || g_strcmp0(net->model, "virtio") != 0)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "virtio-net teaming persistent interface must be <model type='virtio'/>, not '%s'",
                      net->model ? net->model : "");
        return false;
    }
    if (net->teaming == VRT_DOMAIN_NET_TEAMING_TRANSIENT && net->type != VRT_DOMAIN_NET_TYPE_HOSTDEV &&
        net->type != VRT_DOMAIN_NET_TYPE_NETWORK) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "virtio-net teaming transient interface must be type='hostdev', not '%s'",
                      vrt_net_type_names[net->type]);
        return false;
    }
    /* libvirt reads a <driver>'s virtio-net settings only for a virtio
     * model (they are dropped otherwise), and refuses the transport
     * options on any other model */
    if (net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV || g_strcmp0(net->model, "virtio") != 0) {
        VrtVirtioOptions virtio = net->driver.virtio;

        memset(&net->driver, 0, sizeof(net->driver));
        net->driver.virtio = virtio;
        if (g_strcmp0(net->model, "virtio") != 0 && !vrt_virtio_options_check_absent(&virtio, error))
            return false;
    }
    if (!vrt_net_driver_opts_validate(&net->driver, error))
        return false;
    if (!vrt_domain_net_link_hostdev(net, error))
        return false;
    *out = g_steal_pointer(&net);
    return true;
}

/* ---- hostdev ------------------------------------------------------- */

bool
vrt_parse_teaming(xmlNodePtr node, VrtDomainNetTeaming *type, char **persistent, GError **error)
{
    g_autofree char *t = vrt_xml_prop(node, "type");
    g_autofree char *p = vrt_xml_prop(node, "persistent");

    if (!vrt_xml_check_attrs(node, error, "type", "persistent", NULL))
        return false;
    g_clear_pointer(persistent, g_free);
    *type = VRT_DOMAIN_NET_TEAMING_NONE;
    if (!t && !p)
        return true;
    if (g_strcmp0(t, "persistent") == 0) {
        *type = VRT_DOMAIN_NET_TEAMING_PERSISTENT;
    } else if (g_strcmp0(t, "transient") == 0) {
        *type = VRT_DOMAIN_NET_TEAMING_TRANSIENT;
    } else {
        /* libvirt's message, "(null)" included when type= is missing */
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown teaming type '%s'", t ? t : "(null)");
        return false;
    }
    *persistent = g_steal_pointer(&p);
    return true;
}

bool
vrt_hostdev_teaming_validate(VrtDomainNetTeaming type, const char *persistent, bool pci, GError **error)
{
    if (type == VRT_DOMAIN_NET_TEAMING_NONE)
        return true;
    if (type != VRT_DOMAIN_NET_TEAMING_TRANSIENT) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "teaming hostdev devices must have type='transient'");
        return false;
    }
    if (!persistent) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "missing required persistent attribute in hostdev teaming element");
        return false;
    }
    if (!pci) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "teaming is only supported for pci hostdev devices");
        return false;
    }
    return true;
}

bool
vrt_hostdev_teaming_check_non_pci(xmlNodePtr node, GError **error)
{
    g_autofree char *persistent = NULL;
    VrtDomainNetTeaming teaming;

    return vrt_parse_teaming(node, &teaming, &persistent, error) &&
           vrt_hostdev_teaming_validate(teaming, persistent, false, error);
}

static bool
parse_hostdev(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainHostdevDef **out, GError **error)
{
    g_autoptr(VrtDomainHostdevDef) h = vrt_domain_hostdev_def_new();
    g_autofree char *mode = vrt_xml_prop(node, "mode");
    g_autofree char *type = vrt_xml_prop(node, "type");
    VrtTristate managed = VRT_TRISTATE_DEFAULT;
    bool have_source = false;

    if (!vrt_xml_check_attrs(node, error, "mode", "type", "managed", NULL))
        return false;
    if (mode && !g_str_equal(mode, "subsystem")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "hostdev mode '%s' is not supported", mode);
        return false;
    }
    if (!type || !g_str_equal(type, "pci")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "hostdev type '%s' is not supported (only 'pci')",
                      type ? type : "");
        return false;
    }
    if (!vrt_xml_prop_tristate(node, "managed", false, &managed, error))
        return false;
    h->managed = managed == VRT_TRISTATE_YES;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "source")) {
            if (!parse_hostdev_source(c, &h->source, error))
                return false;
            have_source = true;
        } else if (vrt_xml_is(c, "rom")) {
            if (!vrt_device_rom_parse(c, &h->info->rom, error))
                return false;
        } else if (vrt_xml_is(c, "driver")) {
            if (!vrt_xml_check_attrs(c, error, "name", NULL))
                return false;
            g_free(h->driver_name);
            h->driver_name = vrt_xml_prop(c, "name");
            if (g_strcmp0(h->driver_name, "vfio") != 0) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "hostdev driver '%s' is not supported",
                              h->driver_name ? h->driver_name : "");
                return false;
            }
        } else if (vrt_xml_is(c, "teaming")) {
            if (!vrt_parse_teaming(c, &h->teaming, &h->teaming_persistent, error))
                return false;
        } else {
            INFO_OR_UNSUPPORTED(ctx, c, h->info, true, error);
        }
    }
    if (!have_source) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "PCI host device source address missing");
        return false;
    }
    if (!vrt_hostdev_teaming_validate(h->teaming, h->teaming_persistent, true, error))
        return false;
    *out = g_steal_pointer(&h);
    return true;
}

/* ---- character devices -------------------------------------------- */

/* <source mode= host= service=> of a network chardev: mode as libvirt
 * reads it (connect when absent). */
static bool
parse_chr_net_source(xmlNodePtr c, VrtDomainChrDef *chr, guint n_sources, GError **error)
{
    g_autofree char *mode = NULL;
    bool bind;

    if (!(chr->type == VRT_DOMAIN_CHR_TYPE_TCP ? vrt_xml_check_attrs(c, error, "mode", "host", "service", "tls", NULL)
                                               : vrt_xml_check_attrs(c, error, "mode", "host", "service", NULL)))
        return false;
    if (n_sources > 2) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "only two source elements are allowed for character device");
        return false;
    }
    /* <reconnect> and <seclabel> are not applied: refused, not dropped */
    VRT_XML_FOREACH_CHILD(child, c)
    return vrt_xml_unsupported(child, error);
    mode = vrt_xml_prop(c, "mode");
    if (mode && !g_str_equal(mode, "bind") && !g_str_equal(mode, "connect")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'mode' in element 'source': '%s'.", mode);
        return false;
    }
    bind = g_strcmp0(mode, "bind") == 0;
    if (chr->type == VRT_DOMAIN_CHR_TYPE_TCP) {
        /* libvirt reads the first <source> of a TCP chardev */
        if (n_sources > 1)
            return true;
        chr->listen = bind;
        chr->host = vrt_xml_prop(c, "host");
        chr->service = vrt_xml_prop(c, "service");
        if (!vrt_xml_prop_tristate(c, "tls", false, &chr->tls, error))
            return false;
        if (chr->tls == VRT_TRISTATE_YES) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "TLS for a TCP character device is not supported");
            return false;
        }
        return true;
    }
    /* UDP: one end each, the first of each mode */
    if (!bind && !chr->host && !chr->service) {
        chr->host = vrt_xml_prop(c, "host");
        chr->service = vrt_xml_prop(c, "service");
    } else if (bind && !chr->bind_host && !chr->bind_service) {
        chr->bind_host = vrt_xml_prop(c, "host");
        chr->bind_service = vrt_xml_prop(c, "service");
    }
    return true;
}

/* One attribute of <address type='isa'>, hexadecimal as libvirt reads it */
static bool
parse_isa_attr(xmlNodePtr node, const char *name, guint max, guint *out, GError **error)
{
    g_autofree char *v = vrt_xml_prop(node, name);
    char *end = NULL;
    guint64 n;

    *out = 0;
    if (!v)
        return true;
    n = g_ascii_strtoull(v, &end, 16);
    if (!*v || !end || *end || n > max || strchr(v, '-')) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element 'address': '%s'.", name,
                      v);
        return false;
    }
    *out = (guint)n;
    return true;
}

/* <address type='isa' iobase='0x3f8' irq='0x4'/> of a serial port or its
 * console: true when node is one (then parsed into chr, or *error set). */
static bool
chr_isa_address(xmlNodePtr node, VrtDomainChrDef *chr, bool *failed, GError **error)
{
    g_autofree char *type = vrt_xml_prop(node, "type");

    *failed = false;
    if (!vrt_xml_is(node, "address") || g_strcmp0(type, "isa") != 0 ||
        (chr->devtype != VRT_DOMAIN_CHR_DEVICE_SERIAL && chr->devtype != VRT_DOMAIN_CHR_DEVICE_CONSOLE))
        return false;
    *failed = !vrt_xml_check_attrs(node, error, "type", "iobase", "irq", NULL) ||
              !parse_isa_attr(node, "iobase", 0xffff, &chr->isa_iobase, error) ||
              !parse_isa_attr(node, "irq", 0xff, &chr->isa_irq, error);
    chr->isa_addr = true;
    chr->info.type = VRT_DEVICE_ADDRESS_NONE;
    return true;
}

static bool
parse_chr(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainChrDeviceType devtype, VrtDomainChrDef **out,
          GError **error)
{
    VrtDomainChrDef *chr = g_new0(VrtDomainChrDef, 1);
    g_autoptr(GPtrArray) holder = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_chr_def_free);
    bool status = ctx->flags & VRT_DOMAIN_XML_STATUS;
    guint n_sources = 0, n_logs = 0;
    int v = -1, extra;
    bool isa_failed = false;

    g_ptr_array_add(holder, chr); /* frees chr on every error path */
    chr->devtype = devtype;
    chr->target_port = -1;
    if (!vrt_xml_check_attrs(node, error, "type", "tty", NULL) ||
        !vrt_xml_prop_enum(node, "type", vrt_chr_type_names, true, &v, error))
        return false;
    chr->type = v;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if ((extra = vrt_parse_chr_child_extra(c, chr, &n_sources, &n_logs, error)) < 0)
            return false;
        if (extra)
            continue;
        if (vrt_xml_is(c, "source") && (chr->type == VRT_DOMAIN_CHR_TYPE_TCP || chr->type == VRT_DOMAIN_CHR_TYPE_UDP)) {
            if (!parse_chr_net_source(c, chr, ++n_sources, error))
                return false;
        } else if (vrt_xml_is(c, "protocol")) {
            g_autofree char *proto = vrt_xml_prop(c, "type");
            if (!vrt_xml_check_attrs(c, error, "type", NULL))
                return false;
            /* libvirt reads <protocol> on any chardev and writes it only
             * on tcp: raw elsewhere is what the socket is anyway */
            if (chr->type != VRT_DOMAIN_CHR_TYPE_TCP && g_strcmp0(proto, "raw") != 0)
                return vrt_xml_unsupported(c, error);
            if (proto && !g_str_equal(proto, "raw") && !g_str_equal(proto, "telnet")) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "character device protocol '%s' is not supported",
                              proto);
                return false;
            }
            chr->telnet = g_strcmp0(proto, "telnet") == 0;
        } else if (vrt_xml_is(c, "source") &&
                   (chr->type == VRT_DOMAIN_CHR_TYPE_NULL || chr->type == VRT_DOMAIN_CHR_TYPE_STDIO)) {
            return vrt_xml_unsupported(c, error);
        } else if (vrt_xml_is(c, "source")) {
            if (!vrt_xml_check_attrs(c, error, "path", "mode", "append", NULL))
                return false;
            if (chr->type == VRT_DOMAIN_CHR_TYPE_UNIX) {
                g_autofree char *mode = vrt_xml_prop(c, "mode");
                if (mode && !g_str_equal(mode, "bind") && !g_str_equal(mode, "connect")) {
                    vrt_error_set(error, VIR_ERR_XML_ERROR, "unknown unix socket mode '%s'", mode);
                    return false;
                }
                chr->listen = g_strcmp0(mode, "bind") == 0;
            } else if (xmlHasProp(c, (const xmlChar *)"mode")) {
                return vrt_xml_check_attrs(c, error, "path", "append", NULL);
            }
            if (chr->type == VRT_DOMAIN_CHR_TYPE_FILE) {
                if (!vrt_xml_prop_tristate(c, "append", true, &chr->append, error))
                    return false;
            } else if (xmlHasProp(c, (const xmlChar *)"append")) {
                return vrt_xml_check_attrs(c, error, "path", "mode", NULL);
            }
            if (chr->type != VRT_DOMAIN_CHR_TYPE_PTY || status) {
                g_free(chr->path);
                chr->path = vrt_xml_prop(c, "path");
            }
            VRT_XML_FOREACH_CHILD(sl, c)
            {
                if (!vrt_xml_is(sl, "seclabel"))
                    return vrt_xml_unsupported(sl, error);
                if (!vrt_parse_dev_seclabel(sl, ctx->flags, &chr->seclabels, error))
                    return false;
            }
        } else if (vrt_xml_is(c, "target")) {
            guint port = 0;
            bool present = false;
            g_autofree char *ttype = vrt_xml_prop(c, "type");
            if (devtype == VRT_DOMAIN_CHR_DEVICE_CHANNEL && g_strcmp0(ttype, "guestfwd") == 0) {
                if (!vrt_parse_chr_guestfwd_target(c, chr, error))
                    return false;
                g_free(chr->target_type);
                chr->target_type = g_steal_pointer(&ttype);
                continue;
            }
            if (!vrt_xml_check_attrs(c, error, "type", "port", "name", "state", NULL) ||
                !vrt_xml_prop_uint(c, "port", CHR_MAX_PORT, &port, &present, error))
                return false;
            if (present)
                chr->target_port = port;
            g_free(chr->target_type);
            chr->target_type = vrt_xml_prop(c, "type");
            g_free(chr->target_name);
            chr->target_name = vrt_xml_prop(c, "name");
            VRT_XML_FOREACH_CHILD(m, c)
            {
                if (!vrt_xml_is(m, "model") || devtype != VRT_DOMAIN_CHR_DEVICE_SERIAL)
                    return vrt_xml_unsupported(m, error);
                if (!vrt_xml_check_attrs(m, error, "name", NULL))
                    return false;
                g_free(chr->target_model);
                chr->target_model = vrt_xml_prop(m, "name");
            }
        } else if (chr_isa_address(c, chr, &isa_failed, error)) {
            if (isa_failed)
                return false;
        } else {
            INFO_OR_UNSUPPORTED(ctx, c, &chr->info, false, error);
        }
    }
    /* one address: an address of another type after the ISA one wins */
    if (chr->info.type != VRT_DEVICE_ADDRESS_NONE)
        chr->isa_addr = false;
    /* a channel's socket without a path gets one from the driver, which
     * listens on it (libvirt writes such a channel without <source>) */
    if (devtype == VRT_DOMAIN_CHR_DEVICE_CHANNEL && chr->type == VRT_DOMAIN_CHR_TYPE_UNIX && !chr->path)
        chr->listen = true;
    if ((chr->type == VRT_DOMAIN_CHR_TYPE_FILE || chr->type == VRT_DOMAIN_CHR_TYPE_UNIX ||
         chr->type == VRT_DOMAIN_CHR_TYPE_PIPE || chr->type == VRT_DOMAIN_CHR_TYPE_DEV) &&
        !chr->path &&
        !(devtype == VRT_DOMAIN_CHR_DEVICE_CHANNEL && chr->type == VRT_DOMAIN_CHR_TYPE_UNIX && chr->listen)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing source path attribute for char device");
        return false;
    }
    /* libvirt's checks (its code: an internal error) */
    if (chr->type == VRT_DOMAIN_CHR_TYPE_TCP && !chr->host) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Missing source host attribute for char device");
        return false;
    }
    if ((chr->type == VRT_DOMAIN_CHR_TYPE_TCP || chr->type == VRT_DOMAIN_CHR_TYPE_UDP) && !chr->service) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Missing source service attribute for char device");
        return false;
    }
    switch (devtype) {
    case VRT_DOMAIN_CHR_DEVICE_SERIAL:
        if (chr->target_type &&
            !g_strv_contains((const char *const[]){ "isa-serial", "pci-serial", "usb-serial", NULL },
                             chr->target_type)) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "serial target type '%s' is not supported",
                          chr->target_type);
            return false;
        }
        /* libvirt's check: an ISA address is an isa-serial's only */
        if (chr->isa_addr && chr->target_type && !g_str_equal(chr->target_type, "isa-serial")) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Target type '%s' requires address type '%s'",
                          chr->target_type, g_str_equal(chr->target_type, "pci-serial") ? "pci" : "usb");
            return false;
        }
        break;
    case VRT_DOMAIN_CHR_DEVICE_CONSOLE:
        if (chr->target_type && !g_str_equal(chr->target_type, "serial") && !g_str_equal(chr->target_type, "virtio")) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "console target type '%s' is not supported",
                          chr->target_type);
            return false;
        }
        break;
    case VRT_DOMAIN_CHR_DEVICE_PARALLEL:
        /* a parallel port has no target type (libvirt's schema) */
        if (chr->target_type) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "parallel target type '%s' is not supported",
                          chr->target_type);
            return false;
        }
        break;
    case VRT_DOMAIN_CHR_DEVICE_CHANNEL:
        /* a virtio channel's name is optional (QEMU's port gets none) */
        if (g_strcmp0(chr->target_type, "virtio") != 0 && g_strcmp0(chr->target_type, "guestfwd") != 0) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "channel target type '%s' is not supported",
                          chr->target_type ? chr->target_type : "");
            return false;
        }
        break;
    }
    *out = g_ptr_array_steal_index(holder, 0);
    return true;
}

/* ---- smaller devices ---------------------------------------------- */

static bool
parse_input(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainInputDef **out, GError **error)
{
    VrtDomainInputDef *in = g_new0(VrtDomainInputDef, 1);
    g_autoptr(GPtrArray) holder = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_input_def_free);

    g_ptr_array_add(holder, in);
    if (!vrt_xml_check_attrs(node, error, "type", "bus", NULL))
        return false;
    in->type = vrt_xml_prop(node, "type");
    in->bus = vrt_xml_prop(node, "bus");
    if (!in->type ||
        !g_strv_contains((const char *const[]){ "mouse", "tablet", "keyboard", "passthrough", "evdev", NULL },
                         in->type)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "input type '%s' is not supported", in->type ? in->type : "");
        return false;
    }
    /* an evdev input sits on no bus (libvirt writes none) */
    if (g_str_equal(in->type, "evdev") && in->bus)
        return vrt_xml_check_attrs(node, error, "type", NULL);
    if (!in->bus)
        in->bus = g_strdup(g_str_equal(in->type, "evdev")         ? "none"
                           : g_str_equal(in->type, "passthrough") ? "virtio"
                           : g_str_equal(in->type, "tablet")      ? "usb"
                                                                  : "ps2");
    if (g_str_equal(in->type, "passthrough") && !g_str_equal(in->bus, "virtio")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "input bus '%s' for type '%s' is not supported", in->bus,
                      in->type);
        return false;
    }
    if (!g_strv_contains((const char *const[]){ "ps2", "usb", "virtio", "none", NULL }, in->bus) ||
        (g_str_equal(in->type, "tablet") && g_str_equal(in->bus, "ps2"))) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "input bus '%s' for type '%s' is not supported", in->bus,
                      in->type);
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "driver")) {
            if (!vrt_virtio_driver_parse(c, &in->virtio, error))
                return false;
        } else if (vrt_xml_is(c, "source") &&
                   (g_str_equal(in->type, "evdev") || g_str_equal(in->type, "passthrough"))) {
            if (!vrt_parse_input_source(c, in, error))
                return false;
        } else {
            INFO_OR_UNSUPPORTED(ctx, c, &in->info, false, error);
        }
    }
    if ((g_str_equal(in->type, "evdev") || g_str_equal(in->type, "passthrough")) && !in->evdev) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Missing evdev path for input device");
        return false;
    }
    if (g_str_equal(in->bus, "none") && in->info.type != VRT_DEVICE_ADDRESS_NONE) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "an evdev input has no address");
        return false;
    }
    /* libvirt ignores them on a PS/2 or USB input; vrt does not keep what
     * it cannot apply */
    if (!g_str_equal(in->bus, "virtio") && !vrt_virtio_options_check_absent(&in->virtio, error))
        return false;
    *out = g_ptr_array_steal_index(holder, 0);
    return true;
}

static bool
parse_graphics(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainGraphicsDef **out, GError **error)
{
    VrtDomainGraphicsDef *g = g_new0(VrtDomainGraphicsDef, 1);
    g_autoptr(GPtrArray) holder = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_graphics_def_free);
    int v = -1;

    g_ptr_array_add(holder, g);
    g->port = -1;
    g->tls_port = -1;
    if (!vrt_xml_prop_enum(node, "type", vrt_graphics_type_names, true, &v, error))
        return false;
    g->type = v;
    if (g->type != VRT_DOMAIN_GRAPHICS_VNC && g->type != VRT_DOMAIN_GRAPHICS_SPICE) {
        if (!vrt_parse_graphics_local(node, g, error))
            return false;
    } else if (!vrt_parse_graphics_remote(ctx, node, g, error)) {
        return false;
    }
    *out = g_ptr_array_steal_index(holder, 0);
    return true;
}

static bool
parse_video(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainVideoDef **out, GError **error)
{
    VrtDomainVideoDef *vd = g_new0(VrtDomainVideoDef, 1);
    g_autoptr(GPtrArray) holder = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_video_def_free);

    g_ptr_array_add(holder, vd);
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "model")) {
            VrtTristate primary = VRT_TRISTATE_DEFAULT;
            if (!vrt_xml_check_attrs(c, error, "type", "vram", "ram", "vgamem", "heads", "primary", "vram64", NULL) ||
                !vrt_xml_prop_uint(c, "vram", G_MAXINT, &vd->vram, NULL, error) ||
                !vrt_xml_prop_uint(c, "vram64", G_MAXINT, &vd->vram64, NULL, error) ||
                !vrt_xml_prop_uint(c, "ram", G_MAXINT, &vd->ram, NULL, error) ||
                !vrt_xml_prop_uint(c, "vgamem", G_MAXINT, &vd->vgamem, NULL, error) ||
                !vrt_xml_prop_uint(c, "heads", VIDEO_MAX_HEADS, &vd->heads, NULL, error) ||
                !vrt_xml_prop_tristate(c, "primary", false, &primary, error))
                return false;
            vd->primary = primary == VRT_TRISTATE_YES;
            if (!vrt_parse_video_model_children(c, vd, error))
                return false;
            g_free(vd->model);
            vd->model = vrt_xml_prop(c, "type");
            if (!vd->model ||
                !g_strv_contains((const char *const[]){ "vga", "cirrus", "qxl", "virtio", "bochs", "none", NULL },
                                 vd->model)) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "video model '%s' is not supported",
                              vd->model ? vd->model : "");
                return false;
            }
        } else if (vrt_xml_is(c, "driver")) {
            if (!vrt_virtio_driver_parse(c, &vd->virtio, error))
                return false;
        } else {
            INFO_OR_UNSUPPORTED(ctx, c, &vd->info, false, error);
        }
    }
    if (!vd->model)
        vd->model = g_strdup("vga");
    if (!g_str_equal(vd->model, "virtio") && !vrt_virtio_options_check_absent(&vd->virtio, error))
        return false;
    if ((vd->ram || vd->vgamem) && !g_str_equal(vd->model, "qxl")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "video attributes 'ram' and 'vgamem' are only for model 'qxl'");
        return false;
    }
    /* libvirt's check (QEMU has no 64-bit VRAM BAR but on qxl) */
    if (vd->vram64 && !g_str_equal(vd->model, "qxl")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "vram64 attribute only supported for video type qxl");
        return false;
    }
    *out = g_ptr_array_steal_index(holder, 0);
    return true;
}

static bool
parse_memballoon(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainMemballoonDef **out, GError **error)
{
    VrtDomainMemballoonDef *b = g_new0(VrtDomainMemballoonDef, 1);
    g_autoptr(GPtrArray) holder = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_memballoon_def_free);

    g_ptr_array_add(holder, b);
    if (!vrt_xml_check_attrs(node, error, "model", "autodeflate", "freePageReporting", NULL) ||
        !vrt_xml_prop_tristate(node, "autodeflate", true, &b->autodeflate, error) ||
        !vrt_xml_prop_tristate(node, "freePageReporting", true, &b->free_page_reporting, error))
        return false;
    b->model = vrt_xml_prop(node, "model");
    if (!b->model || (!g_str_equal(b->model, "virtio") && !g_str_equal(b->model, "none"))) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "memballoon model '%s' is not supported",
                      b->model ? b->model : "");
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "stats")) {
            if (!vrt_xml_check_attrs(c, error, "period", NULL) ||
                !vrt_xml_prop_uint(c, "period", G_MAXINT, &b->stats_period, NULL, error))
                return false;
        } else if (vrt_xml_is(c, "driver")) {
            if (!vrt_virtio_driver_parse(c, &b->virtio, error))
                return false;
        } else {
            INFO_OR_UNSUPPORTED(ctx, c, &b->info, false, error);
        }
    }
    *out = g_ptr_array_steal_index(holder, 0);
    return true;
}

static bool
parse_rng(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainRngDef **out, GError **error)
{
    VrtDomainRngDef *r = g_new0(VrtDomainRngDef, 1);
    g_autoptr(GPtrArray) holder = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_rng_def_free);

    g_ptr_array_add(holder, r);
    if (!vrt_xml_check_attrs(node, error, "model", NULL))
        return false;
    r->model = vrt_xml_prop(node, "model");
    if (g_strcmp0(r->model, "virtio") != 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "rng model '%s' is not supported", r->model ? r->model : "");
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "backend")) {
            g_autofree char *model = vrt_xml_prop(c, "model");
            if (!vrt_xml_check_attrs(c, error, "model", NULL))
                return false;
            if (g_strcmp0(model, "random") != 0) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "rng backend model '%s' is not supported",
                              model ? model : "");
                return false;
            }
            g_free(r->backend_path);
            r->backend_path = g_strstrip(vrt_xml_text(c));
            if (!*r->backend_path)
                g_clear_pointer(&r->backend_path, g_free);
        } else if (vrt_xml_is(c, "rate")) {
            bool present = false;
            if (!vrt_xml_check_attrs(c, error, "bytes", "period", NULL) ||
                !vrt_xml_prop_uint(c, "bytes", G_MAXINT, &r->rate_bytes, &present, error) ||
                !vrt_xml_prop_uint(c, "period", G_MAXINT, &r->rate_period, NULL, error))
                return false;
            if (!present || r->rate_bytes == 0) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "rng rate needs a positive 'bytes' attribute");
                return false;
            }
        } else if (vrt_xml_is(c, "driver")) {
            if (!vrt_virtio_driver_parse(c, &r->virtio, error))
                return false;
        } else {
            INFO_OR_UNSUPPORTED(ctx, c, &r->info, false, error);
        }
    }
    if (!r->backend_path)
        r->backend_path = g_strdup("/dev/urandom");
    *out = g_ptr_array_steal_index(holder, 0);
    return true;
}

static bool
parse_watchdog(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainWatchdogDef **out, GError **error)
{
    VrtDomainWatchdogDef *w = g_new0(VrtDomainWatchdogDef, 1);
    g_autoptr(GPtrArray) holder = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_watchdog_def_free);

    g_ptr_array_add(holder, w);
    if (!vrt_xml_check_attrs(node, error, "model", "action", NULL))
        return false;
    w->model = vrt_xml_prop(node, "model");
    w->action = vrt_xml_prop(node, "action");
    if (!w->model || !g_strv_contains((const char *const[]){ "i6300esb", "ib700", NULL }, w->model)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "watchdog model '%s' is not supported",
                      w->model ? w->model : "");
        return false;
    }
    if (w->action && !g_strv_contains((const char *const[]){ "reset", "shutdown", "poweroff", "pause", "none", "dump",
                                                             "inject-nmi", NULL },
                                      w->action)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "unknown watchdog action '%s'", w->action);
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    INFO_OR_UNSUPPORTED(ctx, c, &w->info, false, error);
    *out = g_ptr_array_steal_index(holder, 0);
    return true;
}

bool
vrt_parse_device(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDeviceDef *dev, GError **error)
{
    if (vrt_xml_is(node, "disk")) {
        dev->type = VRT_DOMAIN_DEVICE_DISK;
        return parse_disk(ctx, node, &dev->data.disk, error);
    }
    if (vrt_xml_is(node, "interface")) {
        dev->type = VRT_DOMAIN_DEVICE_NET;
        return parse_net(ctx, node, &dev->data.net, error);
    }
    if (vrt_xml_is(node, "hostdev")) {
        dev->type = VRT_DOMAIN_DEVICE_HOSTDEV;
        return parse_hostdev(ctx, node, &dev->data.hostdev, error);
    }
    if (vrt_xml_is(node, "controller")) {
        dev->type = VRT_DOMAIN_DEVICE_CONTROLLER;
        return parse_controller(ctx, node, &dev->data.controller, error);
    }
    for (int t = 0; vrt_chr_device_names[t]; t++) {
        if (vrt_xml_is(node, vrt_chr_device_names[t])) {
            dev->type = VRT_DOMAIN_DEVICE_CHR;
            return parse_chr(ctx, node, t, &dev->data.chr, error);
        }
    }
    if (vrt_xml_is(node, "input")) {
        dev->type = VRT_DOMAIN_DEVICE_INPUT;
        return parse_input(ctx, node, &dev->data.input, error);
    }
    if (vrt_xml_is(node, "graphics")) {
        dev->type = VRT_DOMAIN_DEVICE_GRAPHICS;
        return parse_graphics(ctx, node, &dev->data.graphics, error);
    }
    if (vrt_xml_is(node, "video")) {
        dev->type = VRT_DOMAIN_DEVICE_VIDEO;
        return parse_video(ctx, node, &dev->data.video, error);
    }
    if (vrt_xml_is(node, "memballoon")) {
        dev->type = VRT_DOMAIN_DEVICE_MEMBALLOON;
        return parse_memballoon(ctx, node, &dev->data.memballoon, error);
    }
    if (vrt_xml_is(node, "rng")) {
        dev->type = VRT_DOMAIN_DEVICE_RNG;
        return parse_rng(ctx, node, &dev->data.rng, error);
    }
    if (vrt_xml_is(node, "watchdog")) {
        dev->type = VRT_DOMAIN_DEVICE_WATCHDOG;
        return parse_watchdog(ctx, node, &dev->data.watchdog, error);
    }
    if (vrt_xml_is(node, "filesystem")) {
        dev->type = VRT_DOMAIN_DEVICE_FILESYSTEM;
        return (dev->data.fs = vrt_parse_fs_def(ctx, node, error)) != NULL;
    }
    return vrt_xml_unsupported(node, error);
}
