/*
 * Builds QEMU's argv from a domain definition. Devices, netdevs, block
 * nodes and objects use QEMU's JSON syntax, so the same property objects
 * serve the command line and hotplug (device_add / netdev_add); chardevs
 * use key=value because QEMU 7.2 has no JSON form for them. In key=value
 * options every value that comes from a user (the domain's name, paths,
 * listen addresses) has its commas doubled, QEMU's escape, so that a comma
 * in it cannot end the value or add an option.
 */
#include "drivers/qemu/qemu_command.h"
#include "drivers/qemu/qemu_block_net.h"
#include "drivers/qemu/qemu_command_features.h"
#include "conf/domain/domain_memory_dev.h"
#include "conf/domain/domain_pci_topology.h"
#include "conf/domain/domain_tune.h"
#include "util/error.h"

#include <string.h>
#include <unistd.h>

typedef struct {
    const VrtDomainDef *def;
    const VrtQemuCommandOptions *opts;
    GPtrArray *argv;
    guint next_block_node;
    GHashTable *tap_fds; /* VrtQemuCommandOptions.tap_fds */
    GHashTable *file_fds; /* VrtQemuCommandOptions.file_fds */
} CmdBuilder;

static void
arg(CmdBuilder *b, const char *a)
{
    g_ptr_array_add(b->argv, g_strdup(a));
}

static void argf(CmdBuilder *b, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void
argf(CmdBuilder *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(b->argv, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

char *
vrt_qemu_command_escape(const char *value)
{
    GString *out = g_string_sized_new(strlen(value) + 4);

    for (const char *p = value; *p; p++) {
        if (*p == ',')
            g_string_append_c(out, ',');
        g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

static void set_strf(JsonObject *o, const char *key, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void
set_strf(JsonObject *o, const char *key, const char *fmt, ...)
{
    g_autofree char *v = NULL;
    va_list ap;

    va_start(ap, fmt);
    v = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    json_object_set_string_member(o, key, v);
}

static char *
json_object_text(JsonObject *obj)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), obj);

    return json_to_string(node, FALSE);
}

/* Appends "option JSON(obj)" and frees obj. */
static void
arg_json(CmdBuilder *b, const char *option, JsonObject *obj)
{
    arg(b, option);
    g_ptr_array_add(b->argv, json_object_text(obj));
    json_object_unref(obj);
}

const char *
vrt_qemu_command_accel(const VrtDomainDef *def)
{
    return def->virt_type == VRT_DOMAIN_VIRT_KVM ? "kvm" : "tcg";
}

/* QEMU's name of PCI bus `bus`: the root is pcie.0 on q35 and pci.0 on pc;
 * other buses are named after the alias of the controller with that index. */
static char *
pci_bus_name(const VrtDomainDef *def, guint bus)
{
    if (bus == 0)
        return g_strdup(vrt_domain_def_is_q35(def) ? "pcie.0" : "pci.0");
    for (guint i = 0; def->controllers && i < def->controllers->len; i++) {
        const VrtDomainControllerDef *c = g_ptr_array_index(def->controllers, i);

        if (c->type == VRT_DOMAIN_CONTROLLER_PCI && c->index == bus && c->info.alias)
            return g_strdup(c->info.alias);
    }
    return g_strdup_printf("pci.%u", bus);
}

/* Adds id, bus/addr and bootindex from the device's info. */
static void
add_device_info(const VrtDomainDef *def, JsonObject *props, const VrtDomainDeviceInfo *info)
{
    if (info->type == VRT_DEVICE_ADDRESS_PCI) {
        g_autofree char *bus = pci_bus_name(def, info->pci.bus);

        json_object_set_string_member(props, "bus", bus);
        if (info->pci.function)
            set_strf(props, "addr", "0x%x.0x%x", info->pci.slot, info->pci.function);
        else
            set_strf(props, "addr", "0x%x", info->pci.slot);
        if (info->pci.multifunction == VRT_TRISTATE_YES)
            json_object_set_boolean_member(props, "multifunction", TRUE);
    }
    /* <rom> (interfaces and PCI host devices): enabled='no' is an empty
     * romfile, as libvirt passes it */
    if (info->rom.enabled == VRT_TRISTATE_NO) {
        json_object_set_string_member(props, "romfile", "");
    } else {
        if (info->rom.bar)
            json_object_set_int_member(props, "rombar", info->rom.bar == VRT_TRISTATE_YES ? 1 : 0);
        if (info->rom.file)
            json_object_set_string_member(props, "romfile", info->rom.file);
    }
    if (info->alias)
        json_object_set_string_member(props, "id", info->alias);
    if (info->boot_order)
        json_object_set_int_member(props, "bootindex", info->boot_order);
}

void
vrt_qemu_command_device_info(const VrtDomainDef *def, JsonObject *props, const VrtDomainDeviceInfo *info)
{
    add_device_info(def, props, info);
}

static JsonObject *
device_new(const char *driver)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "driver", driver);
    return o;
}

/* A virtio device's transport options, QEMU's property names for
 * libvirt's <driver iommu= ats= packed= page_per_vq=> */
static void
vrt_qemu_virtio_options(JsonObject *dev, const VrtVirtioOptions *o)
{
    if (o->iommu)
        json_object_set_boolean_member(dev, "iommu_platform", o->iommu == VRT_TRISTATE_YES);
    if (o->ats)
        json_object_set_boolean_member(dev, "ats", o->ats == VRT_TRISTATE_YES);
    if (o->packed)
        json_object_set_boolean_member(dev, "packed", o->packed == VRT_TRISTATE_YES);
    if (o->page_per_vq)
        json_object_set_boolean_member(dev, "page-per-vq", o->page_per_vq == VRT_TRISTATE_YES);
}

/* ---- controllers ---- */

/* An ich9-uhci companion: a USB1 controller for the ports of its EHCI
 * master's bus from startport on, with no id of its own (as libvirt). */
static bool
build_usb_companion(CmdBuilder *b, const VrtDomainControllerDef *c, GError **error)
{
    const VrtDomainControllerDef *master = NULL;
    VrtDomainDeviceInfo info = c->info;
    JsonObject *dev;

    for (guint i = 0; i < b->def->controllers->len && !master; i++) {
        const VrtDomainControllerDef *o = g_ptr_array_index(b->def->controllers, i);
        if (o->type == VRT_DOMAIN_CONTROLLER_USB && o->index == c->index && g_strcmp0(o->model, "ich9-ehci1") == 0)
            master = o;
    }
    if (!vrt_domain_controller_is_usb2(c) || g_str_equal(c->model, "ich9-ehci1") || !master || !master->info.alias) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "USB controller model '%s' with <master> needs an ich9-ehci1 controller with index %u",
                      c->model ? c->model : "", c->index);
        return false;
    }
    dev = device_new(g_str_equal(c->model, "ich9-uhci1")   ? "ich9-usb-uhci1"
                     : g_str_equal(c->model, "ich9-uhci2") ? "ich9-usb-uhci2"
                                                           : "ich9-usb-uhci3");
    set_strf(dev, "masterbus", "%s.0", master->info.alias);
    json_object_set_int_member(dev, "firstport", c->master_startport);
    info.alias = NULL;
    add_device_info(b->def, dev, &info);
    arg_json(b, "-device", dev);
    return true;
}

/* The floppy controller: pc has one built in (its drives' boot order goes
 * to it with -global), q35 gets an isa-fdc; as libvirt, one at most. */
static bool
build_fdc(CmdBuilder *b, const VrtDomainControllerDef *c, GError **error)
{
    guint boot[2] = { 0, 0 };

    if (c->index != 0) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "Only 1 fdc controller is supported");
        return false;
    }
    for (guint i = 0; i < b->def->disks->len; i++) {
        const VrtDomainDiskDef *d = g_ptr_array_index(b->def->disks, i);

        if (d->bus == VRT_DOMAIN_DISK_BUS_FDC && d->info.type == VRT_DEVICE_ADDRESS_DRIVE &&
            d->info.drive.controller == 0 && d->info.drive.unit < 2)
            boot[d->info.drive.unit] = d->info.boot_order;
    }
    if (vrt_domain_def_is_q35(b->def)) {
        JsonObject *dev = device_new("isa-fdc");

        if (boot[0])
            json_object_set_int_member(dev, "bootindexA", boot[0]);
        if (boot[1])
            json_object_set_int_member(dev, "bootindexB", boot[1]);
        arg_json(b, "-device", dev);
        return true;
    }
    for (guint u = 0; u < 2; u++) {
        if (boot[u]) {
            g_autofree char *g = g_strdup_printf("isa-fdc.bootindex%c=%u", 'A' + u, boot[u]);

            arg(b, "-global");
            arg(b, g);
        }
    }
    return true;
}

/* The name of USB controller `index`'s bus, after its alias */
static char *
usb_bus_name(const VrtDomainDef *def, guint index)
{
    for (guint i = 0; def->controllers && i < def->controllers->len; i++) {
        const VrtDomainControllerDef *c = g_ptr_array_index(def->controllers, i);

        if (c->type == VRT_DOMAIN_CONTROLLER_USB && c->index == index && c->master_startport < 0 && c->info.alias)
            return g_strdup_printf("%s.0", c->info.alias);
    }
    return g_strdup("usb.0");
}

/* A ccid controller: QEMU's usb-ccid reader on its USB port, the bus of
 * the smartcard in it (libvirt's property order: id, bus, port) */
static bool
build_ccid(CmdBuilder *b, const VrtDomainControllerDef *c)
{
    JsonObject *dev = device_new("usb-ccid");

    if (c->info.alias)
        json_object_set_string_member(dev, "id", c->info.alias);
    else
        set_strf(dev, "id", "ccid%u", c->index);
    if (c->info.type == VRT_DEVICE_ADDRESS_USB) {
        g_autofree char *bus = usb_bus_name(b->def, c->info.usb.bus);

        json_object_set_string_member(dev, "bus", bus);
        if (c->info.usb.port)
            json_object_set_string_member(dev, "port", c->info.usb.port);
    }
    arg_json(b, "-device", dev);
    return true;
}

static bool
build_controller(CmdBuilder *b, const VrtDomainControllerDef *c, GError **error)
{
    const char *model = c->model ? c->model : "";
    JsonObject *dev = NULL;

    switch (c->type) {
    case VRT_DOMAIN_CONTROLLER_PCI:
        if (g_str_equal(model, "pci-root") || g_str_equal(model, "pcie-root")) {
            /* built into the machine; <target hotplug=> of pci-root switches
             * PIIX4's ACPI hotplug of the root bus, as libvirt does */
            if (c->hotplug && g_str_equal(model, "pci-root")) {
                arg(b, "-global");
                arg(b, c->hotplug == VRT_TRISTATE_YES ? "PIIX4_PM.acpi-root-pci-hotplug=on"
                                                      : "PIIX4_PM.acpi-root-pci-hotplug=off");
            }
            /* <pcihole64> sizes its host bridge's hole */
            if (c->pcihole64_set) {
                g_autofree char *g = g_strdup_printf("%s.pci-hole64-size=%" G_GUINT64_FORMAT "K",
                                                     g_str_equal(model, "pci-root") ? "i440FX-pcihost" : "q35-pcihost",
                                                     c->pcihole64_kib);
                arg(b, "-global");
                arg(b, g);
            }
            return true;
        }
        if (g_str_equal(model, "pcie-root-port") || g_str_equal(model, "pcie-switch-downstream-port")) {
            dev = device_new(c->model_name ? c->model_name : vrt_pci_ctrl_default_model_name(model));
            if (c->port >= 0)
                json_object_set_int_member(dev, "port", c->port);
            json_object_set_int_member(dev, "chassis", c->chassis >= 0 ? c->chassis : (gint64)c->index);
            if (c->hotplug)
                json_object_set_boolean_member(dev, "hotplug", c->hotplug == VRT_TRISTATE_YES);
        } else if (g_str_equal(model, "pci-bridge")) {
            dev = device_new("pci-bridge");
            json_object_set_int_member(dev, "chassis_nr", c->chassis_nr ? c->chassis_nr : c->index);
        } else if (g_str_equal(model, "pci-expander-bus") || g_str_equal(model, "pcie-expander-bus")) {
            /* bus_nr: the number the guest's firmware gives the new root bus */
            dev = device_new(vrt_pci_ctrl_default_model_name(model));
            json_object_set_int_member(dev, "bus_nr", c->bus_nr);
            if (c->numa_node_set)
                json_object_set_int_member(dev, "numa_node", c->numa_node);
        } else if (vrt_pci_ctrl_default_model_name(model)) {
            /* pcie-to-pci-bridge, dmi-to-pci-bridge, pcie-switch-upstream-port */
            dev = device_new(vrt_pci_ctrl_default_model_name(model));
        } else {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported PCI controller model '%s'", model);
            return false;
        }
        break;
    case VRT_DOMAIN_CONTROLLER_USB:
        if (g_str_equal(model, "none"))
            return true;
        if (c->master_startport >= 0)
            return build_usb_companion(b, c, error);
        if (!*model)
            model = vrt_domain_def_is_q35(b->def) ? "qemu-xhci" : "piix3-uhci";
        if (g_str_equal(model, "piix3-uhci"))
            dev = device_new("piix3-usb-uhci");
        else if (g_str_equal(model, "qemu-xhci") || g_str_equal(model, "nec-xhci") || g_str_equal(model, "ich9-ehci1"))
            dev = device_new(g_str_equal(model, "nec-xhci")     ? "nec-usb-xhci"
                             : g_str_equal(model, "ich9-ehci1") ? "ich9-usb-ehci1"
                                                                : "qemu-xhci");
        else {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported USB controller model '%s'", model);
            return false;
        }
        if (c->ports > 0 && (g_str_has_suffix(model, "xhci")))
            json_object_set_int_member(dev, "p2", c->ports), json_object_set_int_member(dev, "p3", c->ports);
        break;
    case VRT_DOMAIN_CONTROLLER_SCSI:
        if (*model && !g_str_equal(model, "virtio-scsi") && !g_str_equal(model, "lsilogic") &&
            !g_str_equal(model, "lsisas1068") && !g_str_equal(model, "lsisas1078")) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported SCSI controller model '%s'", model);
            return false;
        }
        /* libvirt's QEMU devices for LSI's SAS models */
        dev = device_new(g_str_equal(model, "lsilogic")     ? "lsi"
                         : g_str_equal(model, "lsisas1068") ? "mptsas1068"
                         : g_str_equal(model, "lsisas1078") ? "megasas"
                                                            : "virtio-scsi-pci");
        if (!*model || g_str_equal(model, "virtio-scsi")) {
            vrt_qemu_virtio_options(dev, &c->virtio);
            if (c->iothread)
                set_strf(dev, "iothread", "iothread%u", c->iothread);
            if (c->driver_queues)
                json_object_set_int_member(dev, "num_queues", c->driver_queues);
            if (c->cmd_per_lun)
                json_object_set_int_member(dev, "cmd_per_lun", c->cmd_per_lun);
            if (c->max_sectors)
                json_object_set_int_member(dev, "max_sectors", c->max_sectors);
            if (c->ioeventfd)
                json_object_set_boolean_member(dev, "ioeventfd", c->ioeventfd == VRT_TRISTATE_YES);
        }
        break;
    case VRT_DOMAIN_CONTROLLER_SATA:
        if (vrt_domain_def_is_q35(b->def) && c->index == 0)
            return true; /* the ICH9 AHCI controller is built in */
        dev = device_new("ahci");
        break;
    case VRT_DOMAIN_CONTROLLER_IDE: return true; /* built into pc (PIIX) */
    case VRT_DOMAIN_CONTROLLER_FDC: return build_fdc(b, c, error);
    case VRT_DOMAIN_CONTROLLER_CCID: return build_ccid(b, c);
    case VRT_DOMAIN_CONTROLLER_VIRTIO_SERIAL:
        dev = device_new("virtio-serial-pci");
        vrt_qemu_virtio_options(dev, &c->virtio);
        if (c->ports >= 0)
            json_object_set_int_member(dev, "max_ports", c->ports);
        if (c->vectors_set)
            json_object_set_int_member(dev, "vectors", c->vectors);
        break;
    }
    add_device_info(b->def, dev, &c->info);
    arg_json(b, "-device", dev);
    return true;
}

static const VrtDomainControllerDef *
find_controller(const VrtDomainDef *def, VrtDomainControllerType type, guint index)
{
    for (guint i = 0; def->controllers && i < def->controllers->len; i++) {
        const VrtDomainControllerDef *c = g_ptr_array_index(def->controllers, i);

        if (c->type == type && c->index == index)
            return c;
    }
    return NULL;
}

/* ---- disks ---- */

/* libvirt's cache modes as QEMU's cache.direct / cache.no-flush of each
 * block node and the device's write-cache; false for no mode written
 * ("default" included), when QEMU's defaults apply. */
static bool
disk_cache_flags(const char *cache, bool *writeback, bool *direct, bool *noflush)
{
    *writeback = true;
    *direct = false;
    *noflush = false;
    if (!cache || g_str_equal(cache, "default"))
        return false;
    if (g_str_equal(cache, "none"))
        *direct = true;
    else if (g_str_equal(cache, "writethrough"))
        *writeback = false;
    else if (g_str_equal(cache, "directsync")) {
        *writeback = false;
        *direct = true;
    } else if (g_str_equal(cache, "unsafe"))
        *noflush = true;
    return true;
}

static void
set_cache_props(JsonObject *node, const VrtDomainDiskDef *disk)
{
    bool writeback, direct, noflush;

    if (disk_cache_flags(disk->cache, &writeback, &direct, &noflush)) {
        JsonObject *cache = json_object_new();

        json_object_set_boolean_member(cache, "direct", direct);
        json_object_set_boolean_member(cache, "no-flush", noflush);
        json_object_set_object_member(node, "cache", cache);
    }
}

bool
vrt_qemu_command_disk_props(const VrtDomainDef *def, const VrtDomainDiskDef *disk, guint n, GHashTable *disk_secrets,
                            VrtQemuDiskProps *out, GError **error)
{
    g_autofree char *storage = NULL;
    g_autofree char *format = NULL;
    const char *driver;
    JsonObject *dev;
    bool cdrom = disk->device == VRT_DOMAIN_DISK_DEVICE_CDROM;

    out->secret = NULL;
    out->auth = NULL;
    out->device = NULL;
    out->blockdevs = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);

    if (disk->src || disk->net) {
        JsonObject *file = json_object_new();
        JsonObject *fmt = json_object_new();
        g_autofree char *secret_id = NULL;

        if (disk->encryption_format) {
            const char *path = disk_secrets ? g_hash_table_lookup(disk_secrets, disk->target_dev) : NULL;
            JsonObject *sec = json_object_new();

            if (!path || disk->format != VRT_DOMAIN_DISK_FORMAT_QCOW2) {
                json_object_unref(sec);
                json_object_unref(file);
                json_object_unref(fmt);
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                              "disk '%s': LUKS encryption needs a qcow2 image and its secret", disk->target_dev);
                return false;
            }
            /* QEMU reads the passphrase from a file only the daemon's user can read. */
            secret_id = g_strdup_printf("vrt-%u-secret", n);
            json_object_set_string_member(sec, "qom-type", "secret");
            json_object_set_string_member(sec, "id", secret_id);
            json_object_set_string_member(sec, "file", path);
            json_object_set_string_member(sec, "format", "raw");
            out->secret = sec;
        }

        storage = g_strdup_printf("vrt-%u-storage", n);
        format = g_strdup_printf("vrt-%u-format", n);
        if (disk->net) {
            /* the protocol node of a network disk (qemu_block_net.c) */
            g_autofree char *key = vrt_qemu_block_net_secret_key(disk);
            g_autofree char *auth_id = g_strdup_printf("vrt-%u-auth-secret", n);
            JsonObject *auth_obj = NULL;

            if (!vrt_qemu_block_net_props(file, disk, disk_secrets ? g_hash_table_lookup(disk_secrets, key) : NULL,
                                          auth_id, &auth_obj, error)) {
                json_object_unref(file);
                json_object_unref(fmt);
                return false;
            }
            out->auth = auth_obj;
        } else {
            json_object_set_string_member(file, "driver",
                                          disk->type == VRT_DOMAIN_DISK_TYPE_BLOCK ? "host_device" : "file");
            json_object_set_string_member(file, "filename", disk->src);
        }
        json_object_set_string_member(file, "node-name", storage);
        json_object_set_boolean_member(file, "auto-read-only", TRUE);
        /* as libvirt: the protocol node always passes discards up to the
         * format node, where <driver discard=> decides */
        json_object_set_string_member(file, "discard", "unmap");
        set_cache_props(file, disk);
        if (disk->tuning.io)
            json_object_set_string_member(file, "aio", vrt_disk_io_names[disk->tuning.io]);
        g_ptr_array_add(out->blockdevs, file);

        json_object_set_string_member(fmt, "node-name", format);
        json_object_set_boolean_member(fmt, "read-only", disk->readonly || cdrom);
        if (disk->tuning.discard)
            json_object_set_string_member(fmt, "discard", vrt_disk_discard_names[disk->tuning.discard]);
        if (vrt_disk_detect_zeroes_effective(&disk->tuning))
            json_object_set_string_member(
                fmt, "detect-zeroes", vrt_disk_detect_zeroes_names[vrt_disk_detect_zeroes_effective(&disk->tuning)]);
        set_cache_props(fmt, disk);
        json_object_set_string_member(fmt, "driver", disk->format == VRT_DOMAIN_DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
        json_object_set_string_member(fmt, "file", storage);
        if (secret_id) {
            JsonObject *enc = json_object_new();

            json_object_set_string_member(enc, "format", "luks");
            json_object_set_string_member(enc, "key-secret", secret_id);
            json_object_set_object_member(fmt, "encrypt", enc);
        }
        g_ptr_array_add(out->blockdevs, fmt);
        if (disk->tuning.copy_on_read == 1) {
            /* libvirt's copy-on-read layer above the format node, which
             * the device then uses */
            JsonObject *cor = json_object_new();
            g_autofree char *cor_name = g_strdup_printf("vrt-CoR-%s", disk->target_dev);

            json_object_set_string_member(cor, "driver", "copy-on-read");
            json_object_set_string_member(cor, "node-name", cor_name);
            json_object_set_string_member(cor, "file", format);
            g_ptr_array_add(out->blockdevs, cor);
            g_free(format);
            format = g_steal_pointer(&cor_name);
        }
    } else if (!cdrom && disk->device != VRT_DOMAIN_DISK_DEVICE_FLOPPY) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk '%s' has no source", disk->target_dev);
        return false;
    }

    switch (disk->bus) {
    case VRT_DOMAIN_DISK_BUS_VIRTIO:
        if (cdrom) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk '%s': virtio cdrom is not supported",
                          disk->target_dev);
            return false;
        }
        driver = "virtio-blk-pci";
        break;
    case VRT_DOMAIN_DISK_BUS_SATA:
    case VRT_DOMAIN_DISK_BUS_IDE: driver = cdrom ? "ide-cd" : "ide-hd"; break;
    case VRT_DOMAIN_DISK_BUS_SCSI: driver = cdrom ? "scsi-cd" : "scsi-hd"; break;
    case VRT_DOMAIN_DISK_BUS_FDC:
        /* QEMU's floppy has neither a serial nor error policies */
        if (disk->serial || disk->tuning.error_policy || disk->tuning.rerror_policy) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "floppy '%s' does not support %s", disk->target_dev,
                          disk->serial ? "a <serial>" : "error policies");
            return false;
        }
        driver = "floppy";
        break;
    case VRT_DOMAIN_DISK_BUS_USB:
        /* QEMU's usb-storage refuses to start without a drive, so an
         * empty USB cdrom cannot be given to it */
        if (!format) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "USB disk '%s' has no source: QEMU's usb-storage needs a medium", disk->target_dev);
            return false;
        }
        driver = "usb-storage";
        break;
    case VRT_DOMAIN_DISK_BUS_SD:
        /* libvirt passes -drive if=sd, which QEMU refuses on pc and q35
         * ("machine type does not support if=sd"): said here by name */
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "disk '%s': bus 'sd' is not supported: the x86 machine types have no SD card slot",
                      disk->target_dev);
        return false;
    default:
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported disk bus for '%s'", disk->target_dev);
        return false;
    }
    dev = device_new(driver);
    if (disk->bus == VRT_DOMAIN_DISK_BUS_USB) {
        const VrtDomainControllerDef *c = find_controller(def, VRT_DOMAIN_CONTROLLER_USB, 0);

        if (!c || g_strcmp0(c->model, "none") == 0) {
            json_object_unref(dev);
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "USB disk '%s' needs a USB controller", disk->target_dev);
            return false;
        }
        set_strf(dev, "bus", "%s.0", c->info.alias ? c->info.alias : "usb");
        if (disk->info.type == VRT_DEVICE_ADDRESS_USB && disk->info.usb.port)
            json_object_set_string_member(dev, "port", disk->info.usb.port);
    }
    if (disk->info.type == VRT_DEVICE_ADDRESS_DRIVE) {
        const VrtDriveAddress *d = &disk->info.drive;

        if (disk->bus == VRT_DOMAIN_DISK_BUS_SCSI) {
            const VrtDomainControllerDef *c = find_controller(def, VRT_DOMAIN_CONTROLLER_SCSI, d->controller);
            const char *alias = c && c->info.alias ? c->info.alias : "scsi0";

            /* lsilogic: the bus and the unit as its SCSI id, as libvirt */
            if (c && g_strcmp0(c->model, "lsilogic") == 0) {
                set_strf(dev, "bus", "%s.%u", alias, d->bus);
                json_object_set_int_member(dev, "scsi-id", d->unit);
            } else {
                set_strf(dev, "bus", "%s.0", alias);
                json_object_set_int_member(dev, "channel", d->bus);
                json_object_set_int_member(dev, "scsi-id", d->target);
                json_object_set_int_member(dev, "lun", d->unit);
            }
        } else if (disk->bus == VRT_DOMAIN_DISK_BUS_SATA) {
            const VrtDomainControllerDef *c = find_controller(def, VRT_DOMAIN_CONTROLLER_SATA, d->controller);
            const char *name = vrt_domain_def_is_q35(def) && d->controller == 0
                                   ? "ide"
                                   : (c && c->info.alias ? c->info.alias : "sata0");

            set_strf(dev, "bus", "%s.%u", name, d->unit);
        } else if (disk->bus == VRT_DOMAIN_DISK_BUS_IDE) {
            set_strf(dev, "bus", "ide.%u", d->bus);
            json_object_set_int_member(dev, "unit", d->unit);
        } else if (disk->bus == VRT_DOMAIN_DISK_BUS_FDC) {
            json_object_set_int_member(dev, "unit", d->unit);
        }
    }
    if (format)
        json_object_set_string_member(dev, "drive", format);
    /* as libvirt: QEMU's usb-storage is told removable=off unless the
     * XML says on */
    if (disk->bus == VRT_DOMAIN_DISK_BUS_USB)
        json_object_set_boolean_member(dev, "removable", disk->ident.removable == VRT_TRISTATE_YES);
    if (disk->serial)
        json_object_set_string_member(dev, "serial", disk->serial);
    if (disk->ident.wwn) {
        gint64 wwn;

        if (!vrt_disk_ident_wwn_value(&disk->ident, &wwn)) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Failed to parse wwn '%s' as number", disk->ident.wwn);
            json_object_unref(dev);
            return false;
        }
        json_object_set_int_member(dev, "wwn", wwn);
    }
    if (disk->ident.rotation_rate)
        json_object_set_int_member(dev, "rotation_rate", disk->ident.rotation_rate);
    if (disk->ident.vendor)
        json_object_set_string_member(dev, "vendor", disk->ident.vendor);
    if (disk->ident.product)
        json_object_set_string_member(dev, "product", disk->ident.product);
    /* as libvirt: each number when set, the translation when given */
    {
        const VrtDiskGeometry *g = &disk->geometry;
        const char *trans = vrt_disk_geometry_trans_name(g);

        if (g->logical_block_size)
            json_object_set_int_member(dev, "logical_block_size", g->logical_block_size);
        if (g->physical_block_size)
            json_object_set_int_member(dev, "physical_block_size", g->physical_block_size);
        if (g->cyls)
            json_object_set_int_member(dev, "cyls", g->cyls);
        if (g->heads)
            json_object_set_int_member(dev, "heads", g->heads);
        if (g->secs)
            json_object_set_int_member(dev, "secs", g->secs);
        if (trans)
            json_object_set_string_member(dev, "bios-chs-trans", trans);
    }
    /* <shareable/>: another domain may write the image too (libvirt's share-rw) */
    if (disk->shareable)
        json_object_set_boolean_member(dev, "share-rw", TRUE);
    {
        bool writeback, direct, noflush;
        const char *werror, *rerror;

        if (disk_cache_flags(disk->cache, &writeback, &direct, &noflush))
            json_object_set_string_member(dev, "write-cache", writeback ? "on" : "off");
        if (disk->tuning.iothread && disk->bus == VRT_DOMAIN_DISK_BUS_VIRTIO)
            set_strf(dev, "iothread", "iothread%u", disk->tuning.iothread);
        if (disk->bus == VRT_DOMAIN_DISK_BUS_VIRTIO) {
            const VrtDomainDiskDriverTuning *t = &disk->tuning;

            if (t->ioeventfd)
                json_object_set_boolean_member(dev, "ioeventfd", t->ioeventfd == VRT_TRISTATE_YES);
            if (t->event_idx)
                json_object_set_boolean_member(dev, "event_idx", t->event_idx == VRT_TRISTATE_YES);
            if (t->queues)
                json_object_set_int_member(dev, "num-queues", t->queues);
            if (t->queue_size)
                json_object_set_int_member(dev, "queue-size", t->queue_size);
            vrt_qemu_virtio_options(dev, &t->virtio);
        }
        vrt_disk_error_policies(&disk->tuning, &werror, &rerror);
        if (werror)
            json_object_set_string_member(dev, "werror", werror);
        if (rerror)
            json_object_set_string_member(dev, "rerror", rerror);
    }
    add_device_info(def, dev, &disk->info);
    /* a floppy boots through its controller's bootindexA/B */
    if (disk->bus == VRT_DOMAIN_DISK_BUS_FDC)
        json_object_remove_member(dev, "bootindex");
    out->device = dev;
    return true;
}

void
vrt_qemu_disk_props_clear(VrtQemuDiskProps *p)
{
    g_clear_pointer(&p->secret, json_object_unref);
    g_clear_pointer(&p->auth, json_object_unref);
    g_clear_pointer(&p->blockdevs, g_ptr_array_unref);
    g_clear_pointer(&p->device, json_object_unref);
}

/* A disk's -object, -blockdev and -device options; its block nodes are
 * numbered in the order of the disks with a source (qemu_events.c). */
static bool
build_disk(CmdBuilder *b, const VrtDomainDiskDef *disk, GError **error)
{
    VrtQemuDiskProps p;
    bool ok = vrt_qemu_command_disk_props(b->def, disk, (disk->src || disk->net) ? ++b->next_block_node : 0,
                                          b->opts->disk_secrets, &p, error);

    if (ok) {
        if (p.secret)
            arg_json(b, "-object", g_steal_pointer(&p.secret));
        if (p.auth)
            arg_json(b, "-object", g_steal_pointer(&p.auth));
        for (guint i = 0; i < p.blockdevs->len; i++)
            arg_json(b, "-blockdev", json_object_ref(g_ptr_array_index(p.blockdevs, i)));
        arg_json(b, "-device", g_steal_pointer(&p.device));
    }
    vrt_qemu_disk_props_clear(&p);
    return ok;
}

/* ---- network ---- */

char *
vrt_qemu_command_netdev_id(const VrtDomainNetDef *net)
{
    return g_strdup_printf("host%s", net->info.alias ? net->info.alias : "net");
}

JsonObject *
vrt_qemu_command_netdev_props(const VrtDomainNetDef *net, GError **error)
{
    g_autoptr(JsonObject) nd = json_object_new();
    VrtDomainNetType type = vrt_domain_net_get_actual_type(net);
    const char *bridge = net->actual.set && net->actual.bridge ? net->actual.bridge : net->source_bridge;

    set_strf(nd, "id", "host%s", net->info.alias ? net->info.alias : "net");
    switch (type) {
    case VRT_DOMAIN_NET_TYPE_USER: json_object_set_string_member(nd, "type", "user"); break;
    case VRT_DOMAIN_NET_TYPE_BRIDGE:
        if (!bridge) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "interface '%s' has no bridge", net->info.alias);
            return NULL;
        }
        json_object_set_string_member(nd, "type", "bridge");
        json_object_set_string_member(nd, "br", bridge);
        break;
    case VRT_DOMAIN_NET_TYPE_ETHERNET:
        json_object_set_string_member(nd, "type", "tap");
        if (net->ifname)
            json_object_set_string_member(nd, "ifname", net->ifname);
        json_object_set_string_member(nd, "script", "no");
        json_object_set_string_member(nd, "downscript", "no");
        break;
    case VRT_DOMAIN_NET_TYPE_NETWORK:
        /* A network's managed bridge (its port was allocated). */
        if (net->actual.set && net->actual.bridge) {
            json_object_set_string_member(nd, "type", "bridge");
            json_object_set_string_member(nd, "br", net->actual.bridge);
            break;
        }
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "interface '%s' of network '%s' has no allocated port",
                      net->info.alias, net->source_network ? net->source_network : "");
        return NULL;
    case VRT_DOMAIN_NET_TYPE_HOSTDEV:
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "interface '%s' is a host device, not a netdev",
                      net->info.alias);
        return NULL;
    case VRT_DOMAIN_NET_TYPE_SERVER:
    case VRT_DOMAIN_NET_TYPE_CLIENT:
    case VRT_DOMAIN_NET_TYPE_MCAST:
    case VRT_DOMAIN_NET_TYPE_UDP: {
        /* QEMU's socket netdev, keyed as libvirt keys it */
        static const char *const keys[] = { "listen", "connect", "mcast", "udp" };
        const VrtNetSocketSource *s = &net->socket;

        json_object_set_string_member(nd, "type", "socket");
        set_strf(nd, keys[type - VRT_DOMAIN_NET_TYPE_SERVER], "%s:%d", s->address ? s->address : "", s->port);
        if (type == VRT_DOMAIN_NET_TYPE_UDP)
            set_strf(nd, "localaddr", "%s:%d", s->local_address ? s->local_address : "", s->local_port);
        break;
    }
    }
    if (net->driver_name && g_str_equal(net->driver_name, "vhost") && type != VRT_DOMAIN_NET_TYPE_USER)
        json_object_set_boolean_member(nd, "vhost", TRUE);
    if (net->driver_queues > 1 && type != VRT_DOMAIN_NET_TYPE_USER)
        json_object_set_int_member(nd, "queues", net->driver_queues);
    return g_steal_pointer(&nd);
}

JsonObject *
vrt_qemu_command_netdev_props_tap_fd(const VrtDomainNetDef *net, const char *fd, GError **error)
{
    g_autoptr(JsonObject) nd = json_object_new();
    VrtDomainNetType type = vrt_domain_net_get_actual_type(net);

    if (type != VRT_DOMAIN_NET_TYPE_BRIDGE && type != VRT_DOMAIN_NET_TYPE_NETWORK) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "interface '%s' is not backed by a tap device", net->info.alias);
        return NULL;
    }
    set_strf(nd, "id", "host%s", net->info.alias ? net->info.alias : "net");
    json_object_set_string_member(nd, "type", "tap");
    json_object_set_string_member(nd, "fd", fd);
    if (net->driver_name && g_str_equal(net->driver_name, "vhost"))
        json_object_set_boolean_member(nd, "vhost", TRUE);
    return g_steal_pointer(&nd);
}

static const char *
net_model_driver(const char *model)
{
    if (!model || g_str_equal(model, "rtl8139"))
        return "rtl8139";
    if (g_str_equal(model, "virtio"))
        return "virtio-net-pci";
    if (g_str_equal(model, "e1000"))
        return "e1000";
    if (g_str_equal(model, "e1000e"))
        return "e1000e";
    return NULL;
}

/* vfio-pci for a host PCI device; failover_pair_id: the alias of the
 * virtio interface it stands in for (the transient half of a teaming
 * pair), NULL when none */
static JsonObject *
hostdev_device_props(const VrtDomainDef *def, const VrtPciAddr *src, const VrtDomainDeviceInfo *info,
                     const char *failover_pair_id)
{
    JsonObject *dev = device_new("vfio-pci");
    g_autofree char *host = vrt_pci_addr_format(src);

    json_object_set_string_member(dev, "host", host);
    add_device_info(def, dev, info);
    if (failover_pair_id)
        json_object_set_string_member(dev, "failover_pair_id", failover_pair_id);
    return dev;
}

JsonObject *
vrt_qemu_command_hostdev_device_props(const VrtDomainDef *def, const VrtDomainHostdevDef *h)
{
    return hostdev_device_props(def, &h->source, h->info,
                                h->teaming == VRT_DOMAIN_NET_TEAMING_TRANSIENT ? h->teaming_persistent : NULL);
}

static void
set_switch(JsonObject *o, const char *key, VrtTristate t)
{
    if (t)
        json_object_set_boolean_member(o, key, t == VRT_TRISTATE_YES);
}

/* virtio-net-pci's properties for <driver> and <mtu>, named as libvirt
 * names them (queues > 1 turns multiqueue on with 2N+2 MSI-X vectors) */
static void
net_virtio_props(JsonObject *dev, const VrtDomainNetDef *net)
{
    static const char *const host[] = { "csum", "gso", "host_tso4", "host_tso6", "host_ecn", "host_ufo", "mrg_rxbuf" };
    static const char *const guest[] = { "guest_csum", "guest_tso4", "guest_tso6", "guest_ecn", "guest_ufo" };
    const VrtNetDriverOpts *o = &net->driver;

    G_STATIC_ASSERT(G_N_ELEMENTS(host) == VRT_NET_HOST_N && G_N_ELEMENTS(guest) == VRT_NET_GUEST_N);
    vrt_qemu_virtio_options(dev, &o->virtio);
    if (o->txmode)
        json_object_set_string_member(dev, "tx", o->txmode == VRT_NET_TXMODE_IOTHREAD ? "bh" : "timer");
    set_switch(dev, "ioeventfd", o->ioeventfd);
    set_switch(dev, "event_idx", o->event_idx);
    for (guint i = 0; i < VRT_NET_HOST_N; i++)
        set_switch(dev, host[i], o->host[i]);
    for (guint i = 0; i < VRT_NET_GUEST_N; i++)
        set_switch(dev, guest[i], o->guest[i]);
    if (net->driver_queues > 1) {
        json_object_set_boolean_member(dev, "mq", TRUE);
        json_object_set_int_member(dev, "vectors", 2 * net->driver_queues + 2);
    }
    if (o->rx_queue_size)
        json_object_set_int_member(dev, "rx_queue_size", o->rx_queue_size);
    if (o->tx_queue_size)
        json_object_set_int_member(dev, "tx_queue_size", o->tx_queue_size);
    set_switch(dev, "rss", o->rss);
    set_switch(dev, "hash", o->rss_hash_report);
    if (net->mtu)
        json_object_set_int_member(dev, "host_mtu", net->mtu);
}

bool
vrt_qemu_command_net_vport_check(const VrtDomainNetDef *net, GError **error)
{
    /* no 802.1Qbg/Qbh switch, Open vSwitch or MidoNet port is set up by
     * vrt: refused by name rather than started without it */
    if (!net->vport.set)
        return true;
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                  "interface '%s': <virtualport%s%s%s> is not supported on this host",
                  net->info.alias ? net->info.alias : "", net->vport.type ? " type='" : "",
                  vrt_vport_type_names[net->vport.type], net->vport.type ? "'" : "");
    return false;
}

JsonObject *
vrt_qemu_command_net_device_props(const VrtDomainDef *def, const VrtDomainNetDef *net, GError **error)
{
    const char *driver = net_model_driver(net->model);
    char mac[VRT_MAC_STRING_LEN];
    JsonObject *dev;

    if (!vrt_qemu_command_net_vport_check(net, error) || !vrt_net_host_side_check(net->info.alias, &net->host, error))
        return NULL;
    if (vrt_domain_net_get_actual_type(net) == VRT_DOMAIN_NET_TYPE_HOSTDEV) {
        const VrtPciAddr *src =
            net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV ? &net->hostdev_source : &net->actual.hostdev_addr;

        return hostdev_device_props(def, src, &net->info,
                                    net->teaming == VRT_DOMAIN_NET_TEAMING_TRANSIENT ? net->teaming_persistent : NULL);
    }
    if (!driver) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported interface model '%s'", net->model);
        return NULL;
    }
    dev = device_new(driver);
    g_autofree char *netdev = vrt_qemu_command_netdev_id(net);

    json_object_set_string_member(dev, "netdev", netdev);
    vrt_mac_format(net->mac, mac);
    json_object_set_string_member(dev, "mac", mac);
    if (g_str_equal(driver, "virtio-net-pci"))
        net_virtio_props(dev, net);
    /* The persistent half of a failover pair. */
    if (net->teaming == VRT_DOMAIN_NET_TEAMING_PERSISTENT)
        json_object_set_boolean_member(dev, "failover", TRUE);
    add_device_info(def, dev, &net->info);
    return dev;
}

static bool
build_net(CmdBuilder *b, const VrtDomainNetDef *net, GError **error)
{
    JsonObject *dev;

    if (vrt_domain_net_get_actual_type(net) != VRT_DOMAIN_NET_TYPE_HOSTDEV) {
        const char *fd = b->tap_fds && net->info.alias ? g_hash_table_lookup(b->tap_fds, net->info.alias) : NULL;
        JsonObject *nd =
            fd ? vrt_qemu_command_netdev_props_tap_fd(net, fd, error) : vrt_qemu_command_netdev_props(net, error);

        if (!nd)
            return false;
        arg_json(b, "-netdev", nd);
    }
    dev = vrt_qemu_command_net_device_props(b->def, net, error);
    if (!dev)
        return false;
    arg_json(b, "-device", dev);
    return true;
}

/* ---- character devices ---- */

static bool
build_chardev(CmdBuilder *b, const VrtDomainChrDef *chr, const char *id, GError **error)
{
    if (!vrt_qemu_command_chr_check(chr, error))
        return false;
    switch (chr->type) {
    case VRT_DOMAIN_CHR_TYPE_PTY:
        argf(b, "-chardev");
        argf(b, "pty,id=%s", id);
        return true;
    case VRT_DOMAIN_CHR_TYPE_FILE: {
        g_autofree char *path = NULL;
        const char *fd;

        if (!chr->path) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "character device '%s': file path missing", id);
            return false;
        }
        fd = b->file_fds ? g_hash_table_lookup(b->file_fds, chr->path) : NULL;
        if (fd) {
            /* vrtd opened it: QEMU (unprivileged) gets the descriptor in
             * a set of its own, as libvirt passes file chardevs. */
            arg(b, "-add-fd");
            argf(b, "set=%s,fd=%s", fd, fd);
            arg(b, "-chardev");
            argf(b, "file,id=%s,path=/dev/fdset/%s%s", id, fd, chr->append == VRT_TRISTATE_YES ? ",append=on" : "");
            return true;
        }
        path = vrt_qemu_command_escape(chr->path);
        arg(b, "-chardev");
        argf(b, "file,id=%s,path=%s%s", id, path, chr->append == VRT_TRISTATE_YES ? ",append=on" : "");
        return true;
    }
    case VRT_DOMAIN_CHR_TYPE_UNIX: {
        g_autofree char *path = NULL;
        const char *fd;

        if (!chr->path) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "character device '%s': socket path missing", id);
            return false;
        }
        fd = chr->listen && b->file_fds ? g_hash_table_lookup(b->file_fds, chr->path) : NULL;
        if (fd) {
            /* vrtd bound it: QEMU (unprivileged) listens on the
             * descriptor it inherits, as libvirt passes such sockets. */
            arg(b, "-chardev");
            argf(b, "socket,id=%s,fd=%s,server=on,wait=off", id, fd);
            return true;
        }
        path = vrt_qemu_command_escape(chr->path);
        arg(b, "-chardev");
        argf(b, "socket,id=%s,path=%s,server=%s%s", id, path, chr->listen ? "on" : "off",
             chr->listen ? ",wait=off" : "");
        return true;
    }
    case VRT_DOMAIN_CHR_TYPE_TCP: {
        /* QEMU connects or listens itself, as with libvirt */
        g_autofree char *host = vrt_qemu_command_escape(chr->host);
        g_autofree char *port = vrt_qemu_command_escape(chr->service);

        arg(b, "-chardev");
        argf(b, "socket,id=%s,host=%s,port=%s%s%s", id, host, port, chr->telnet ? ",telnet=on" : "",
             chr->listen ? ",server=on,wait=off" : "");
        return true;
    }
    case VRT_DOMAIN_CHR_TYPE_UDP: {
        /* libvirt's defaults for the ends not written */
        g_autofree char *host = vrt_qemu_command_escape(chr->host ? chr->host : "");
        g_autofree char *port = vrt_qemu_command_escape(chr->service);
        g_autofree char *lhost = vrt_qemu_command_escape(chr->bind_host ? chr->bind_host : "");
        g_autofree char *lport = vrt_qemu_command_escape(chr->bind_service ? chr->bind_service : "0");

        arg(b, "-chardev");
        argf(b, "udp,id=%s,host=%s,port=%s,localaddr=%s,localport=%s", id, host, port, lhost, lport);
        return true;
    }
    case VRT_DOMAIN_CHR_TYPE_NULL:
        arg(b, "-chardev");
        argf(b, "null,id=%s", id);
        return true;
    case VRT_DOMAIN_CHR_TYPE_STDIO:
        arg(b, "-chardev");
        argf(b, "stdio,id=%s", id);
        return true;
    case VRT_DOMAIN_CHR_TYPE_DEV: {
        /* QEMU opens the node itself (it was given to QEMU's user at
         * start); a parallel port's node takes QEMU's parallel backend,
         * every other one its serial (tty) backend, as libvirt 9.0 */
        g_autofree char *path = vrt_qemu_command_escape(chr->path);

        arg(b, "-chardev");
        argf(b, "%s,id=%s,path=%s", chr->devtype == VRT_DOMAIN_CHR_DEVICE_PARALLEL ? "parallel" : "serial", id, path);
        return true;
    }
    default: break;
    }
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported character device type");
    return false;
}

/* The smartcard in ccid controller 0's slot 0, the only one QEMU's
 * usb-ccid takes as libvirt places it: ccid-card-emulated on the host's
 * NSS (its default database or certificates of a database) or
 * ccid-card-passthru on a chardev. */
static bool
build_smartcard(CmdBuilder *b, GError **error)
{
    const VrtDomainDef *def = b->def;
    const VrtDomainSmartcardDef *s;
    const VrtDomainControllerDef *ccid;
    JsonObject *dev;

    if (!def->smartcards || def->smartcards->len == 0)
        return true;
    s = def->smartcards->pdata[0];
    if (def->smartcards->len > 1 || !s->has_ccid || s->ccid_controller != 0 || s->ccid_slot != 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "this QEMU binary lacks multiple smartcard support");
        return false;
    }
    ccid = find_controller(def, VRT_DOMAIN_CONTROLLER_CCID, s->ccid_controller);
    if (!ccid) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "missing ccid controller %u of the smartcard", s->ccid_controller);
        return false;
    }
    dev = device_new(s->mode == VRT_SMARTCARD_PASSTHROUGH ? "ccid-card-passthru" : "ccid-card-emulated");
    switch (s->mode) {
    case VRT_SMARTCARD_HOST: json_object_set_string_member(dev, "backend", "nss-emulated"); break;
    case VRT_SMARTCARD_HOST_CERTIFICATES:
        json_object_set_string_member(dev, "backend", "certificates");
        for (guint i = 0; i < G_N_ELEMENTS(s->certificates); i++) {
            g_autofree char *key = g_strdup_printf("cert%u", i + 1);

            json_object_set_string_member(dev, key, s->certificates[i]);
        }
        json_object_set_string_member(dev, "db", s->database ? s->database : VRT_SMARTCARD_DEFAULT_DATABASE);
        break;
    case VRT_SMARTCARD_PASSTHROUGH: {
        const VrtDomainRedirdevDef *r = s->passthru;
        VrtDomainChrDef chr = {
            .type = r->type == VRT_REDIRDEV_TCP    ? VRT_DOMAIN_CHR_TYPE_TCP
                    : r->type == VRT_REDIRDEV_UNIX ? VRT_DOMAIN_CHR_TYPE_UNIX
                                                   : VRT_DOMAIN_CHR_TYPE_SPICEVMC,
            .path = r->path,
            .listen = r->bind,
            .host = r->host,
            .service = r->service,
            .telnet = r->telnet,
        };

        if (!build_chardev(b, &chr, "charsmartcard0", error)) {
            json_object_unref(dev);
            return false;
        }
        json_object_set_string_member(dev, "chardev", "charsmartcard0");
        break;
    }
    }
    json_object_set_string_member(dev, "id", "smartcard0");
    set_strf(dev, "bus", "%s.0", ccid->info.alias ? ccid->info.alias : "ccid0");
    arg_json(b, "-device", dev);
    return true;
}

/* The iscsi node of an iSCSI hostdev (qemu_block_net.c), after the
 * secret object of its <auth>, as libvirt passes it: node-name and
 * read-only follow the protocol's properties. */
static bool
build_iscsi_hostdev_node(CmdBuilder *b, const VrtDomainSubsysHostdevDef *h, const char *node, JsonObject *blk,
                         GError **error)
{
    g_autoptr(VrtDiskNetSource) src = vrt_qemu_block_net_hostdev_source(h, error);
    g_autofree char *owner = g_strdup_printf("SCSI host device '%s'", h->info.alias);
    g_autofree char *key = vrt_qemu_block_net_hostdev_secret_key(h);
    g_autofree char *secret_id = g_strdup_printf("%s-secret0", node);
    const char *secret_path = b->opts->disk_secrets ? g_hash_table_lookup(b->opts->disk_secrets, key) : NULL;
    JsonObject *secret = NULL;

    if (!src ||
        !vrt_qemu_block_net_source_props(blk, src, h->initiator_iqn, owner, secret_path, secret_id, &secret, error))
        return false;
    if (secret)
        arg_json(b, "-object", secret);
    return true;
}

/* A SCSI hostdev: its LUN as a block node (a host adapter's SCSI generic
 * node as host_device, an iSCSI LUN as iscsi) and QEMU's scsi-generic on
 * the controller's bus (lsilogic: scsi-id = unit; virtio-scsi: channel,
 * scsi-id, lun), as libvirt passes it. */
static bool
build_scsi_hostdev(CmdBuilder *b, const VrtDomainSubsysHostdevDef *h, GError **error)
{
    const VrtDriveAddress *a = &h->info.drive;
    const VrtDomainControllerDef *c = find_controller(b->def, VRT_DOMAIN_CONTROLLER_SCSI, a->controller);
    const char *sg =
        b->opts->scsi_sg_paths && h->info.alias ? g_hash_table_lookup(b->opts->scsi_sg_paths, h->info.alias) : NULL;
    g_autofree char *node = NULL;
    JsonObject *blk;
    JsonObject *dev;

    if (!h->iscsi_name && !sg) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "SCSI host device '%s' has no SCSI generic node", h->info.alias);
        return false;
    }
    node = g_strdup_printf("libvirt-%u-backend", ++b->next_block_node);
    blk = json_object_new();
    if (h->iscsi_name) {
        if (!build_iscsi_hostdev_node(b, h, node, blk, error)) {
            json_object_unref(blk);
            return false;
        }
    } else {
        json_object_set_string_member(blk, "driver", "host_device");
        json_object_set_string_member(blk, "filename", sg);
    }
    json_object_set_string_member(blk, "node-name", node);
    json_object_set_boolean_member(blk, "read-only", h->readonly);
    arg_json(b, "-blockdev", blk);
    dev = device_new("scsi-generic");
    json_object_set_string_member(dev, "drive", node);
    json_object_set_string_member(dev, "id", h->info.alias);
    if (h->info.boot_order)
        json_object_set_int_member(dev, "bootindex", h->info.boot_order);
    if (c && g_strcmp0(c->model, "lsilogic") == 0) {
        set_strf(dev, "bus", "%s.%u", c->info.alias ? c->info.alias : "scsi0", a->bus);
        json_object_set_int_member(dev, "scsi-id", a->unit);
    } else {
        set_strf(dev, "bus", "%s.0", c && c->info.alias ? c->info.alias : "scsi0");
        json_object_set_int_member(dev, "channel", a->bus);
        json_object_set_int_member(dev, "scsi-id", a->target);
        json_object_set_int_member(dev, "lun", a->unit);
    }
    arg_json(b, "-device", dev);
    return true;
}

/* An mdev or scsi_host hostdev: vfio-pci (or the model's device) on the
 * mediated device's sysfs node, or vhost-scsi-pci on the descriptor of
 * /dev/vhost-scsi vrtd opened, with libvirt's properties in its order. */
static bool
build_subsys_hostdev(CmdBuilder *b, const VrtDomainSubsysHostdevDef *h, GError **error)
{
    VrtDomainDeviceInfo addr = h->info;
    JsonObject *dev;

    /* the id and bootindex come before the address here */
    addr.alias = NULL;
    addr.boot_order = 0;
    if (h->type == VRT_SUBSYS_HOSTDEV_SCSI)
        return build_scsi_hostdev(b, h, error);
    if (h->type == VRT_SUBSYS_HOSTDEV_MDEV) {
        const char *driver =
            h->model == 0 && h->ramfb == VRT_TRISTATE_YES ? "vfio-pci-nohotplug" : vrt_mdev_model_names[h->model];

        dev = device_new(driver);
        json_object_set_string_member(dev, "id", h->info.alias);
        set_strf(dev, "sysfsdev", "/sys/bus/mdev/devices/%s", h->uuid);
        if (h->display)
            json_object_set_string_member(dev, "display", h->display == VRT_TRISTATE_YES ? "on" : "off");
        if (h->ramfb == VRT_TRISTATE_YES)
            json_object_set_boolean_member(dev, "ramfb", TRUE);
        if (h->info.boot_order)
            json_object_set_int_member(dev, "bootindex", h->info.boot_order);
    } else {
        const char *fd = b->opts->vhost_scsi_fds && h->info.alias
                             ? g_hash_table_lookup(b->opts->vhost_scsi_fds, h->info.alias)
                             : NULL;

        if (!fd) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "vhost-scsi device file '%s' cannot be found",
                          "/dev/vhost-scsi");
            return false;
        }
        dev = device_new(h->model == 2   ? "vhost-scsi-pci-transitional"
                         : h->model == 3 ? "vhost-scsi-pci-non-transitional"
                                         : "vhost-scsi-pci");
        json_object_set_string_member(dev, "wwpn", h->wwpn);
        json_object_set_string_member(dev, "vhostfd", fd);
        json_object_set_string_member(dev, "id", h->info.alias);
    }
    add_device_info(b->def, dev, &addr);
    arg_json(b, "-device", dev);
    return true;
}

static bool
build_serial(CmdBuilder *b, const VrtDomainChrDef *chr, guint index, GError **error)
{
    g_autofree char *id = g_strdup_printf("char%s", chr->info.alias ? chr->info.alias : "serial");
    const char *ttype = chr->target_type ? chr->target_type : "isa-serial";
    JsonObject *dev;

    if (!build_chardev(b, chr, id, error))
        return false;
    if (g_str_equal(ttype, "pci-serial"))
        dev = device_new("pci-serial");
    else if (g_str_equal(ttype, "isa-serial") || g_str_equal(ttype, "serial")) {
        dev = device_new("isa-serial");
        json_object_set_int_member(dev, "index", chr->target_port >= 0 ? chr->target_port : (gint64)index);
    } else {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported serial target type '%s'", ttype);
        return false;
    }
    json_object_set_string_member(dev, "chardev", id);
    add_device_info(b->def, dev, &chr->info);
    if (chr->isa_addr && g_str_equal(json_object_get_string_member(dev, "driver"), "isa-serial")) {
        /* an ISA address: the values given, as libvirt passes them */
        if (chr->isa_iobase)
            json_object_set_int_member(dev, "iobase", chr->isa_iobase);
        if (chr->isa_irq)
            json_object_set_int_member(dev, "irq", chr->isa_irq);
    }
    arg_json(b, "-device", dev);
    return true;
}

/* A parallel port: its chardev and QEMU's isa-parallel, as libvirt */
static bool
build_parallel(CmdBuilder *b, const VrtDomainChrDef *chr, GError **error)
{
    g_autofree char *id = g_strdup_printf("char%s", chr->info.alias ? chr->info.alias : "parallel0");
    JsonObject *dev;

    if (!build_chardev(b, chr, id, error))
        return false;
    dev = device_new("isa-parallel");
    json_object_set_string_member(dev, "chardev", id);
    add_device_info(b->def, dev, &chr->info);
    arg_json(b, "-device", dev);
    return true;
}

static bool
build_virtio_serial_port(CmdBuilder *b, const VrtDomainChrDef *chr, const char *driver, GError **error)
{
    g_autofree char *id = g_strdup_printf("char%s", chr->info.alias ? chr->info.alias : "channel");
    const VrtDomainControllerDef *c;
    JsonObject *dev;
    guint ctrl = chr->info.type == VRT_DEVICE_ADDRESS_VIRTIO_SERIAL ? chr->info.vserial.controller : 0;

    if (!vrt_qemu_command_chr_check(chr, error))
        return false;
    c = find_controller(b->def, VRT_DOMAIN_CONTROLLER_VIRTIO_SERIAL, ctrl);
    if (!c) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "'%s' needs a virtio-serial controller",
                      chr->info.alias ? chr->info.alias : "channel");
        return false;
    }
    if (!build_chardev(b, chr, id, error))
        return false;
    dev = device_new(driver);
    set_strf(dev, "bus", "%s.0", c->info.alias ? c->info.alias : "virtio-serial0");
    if (chr->info.type == VRT_DEVICE_ADDRESS_VIRTIO_SERIAL && chr->info.vserial.port)
        json_object_set_int_member(dev, "nr", chr->info.vserial.port);
    json_object_set_string_member(dev, "chardev", id);
    if (chr->target_name)
        json_object_set_string_member(dev, "name", chr->target_name);
    if (chr->info.alias)
        json_object_set_string_member(dev, "id", chr->info.alias);
    arg_json(b, "-device", dev);
    return true;
}

/* ---- the rest ---- */

/* A virtio device's <driver> options as its properties, libvirt's names. */
static void
add_virtio_options(JsonObject *dev, const VrtVirtioOptions *o)
{
    const struct {
        const char *prop;
        VrtTristate value;
    } props[] = {
        { "iommu_platform", o->iommu }, { "ats", o->ats }, { "packed", o->packed }, { "page-per-vq", o->page_per_vq }
    };

    for (guint i = 0; i < G_N_ELEMENTS(props); i++) {
        if (props[i].value != VRT_TRISTATE_DEFAULT)
            json_object_set_boolean_member(dev, props[i].prop, props[i].value == VRT_TRISTATE_YES);
    }
}

static bool
build_input(CmdBuilder *b, const VrtDomainInputDef *in, GError **error)
{
    const char *bus = in->bus ? in->bus : "ps2";
    const char *type = in->type ? in->type : "";
    g_autofree char *driver = NULL;
    JsonObject *dev;

    if (g_str_equal(type, "passthrough") || g_str_equal(type, "evdev")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "input type '%s' is not supported: vrtd gives QEMU no host input device", type);
        return false;
    }
    if (g_str_equal(bus, "ps2"))
        return true; /* the i8042 of pc and q35 provides them */
    if (g_str_equal(bus, "usb"))
        driver = g_strdup_printf("usb-%s", g_str_equal(type, "keyboard") ? "kbd" : type);
    else if (g_str_equal(bus, "virtio"))
        driver = g_strdup_printf("virtio-%s-pci", type);
    else {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported input bus '%s'", bus);
        return false;
    }
    dev = device_new(driver);
    add_virtio_options(dev, &in->virtio);
    if (g_str_equal(bus, "usb")) {
        const VrtDomainControllerDef *c = find_controller(b->def, VRT_DOMAIN_CONTROLLER_USB, 0);

        if (!c || g_strcmp0(c->model, "none") == 0) {
            json_object_unref(dev);
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "USB input '%s' needs a USB controller", type);
            return false;
        }
        set_strf(dev, "bus", "%s.0", c->info.alias ? c->info.alias : "usb");
        if (in->info.type == VRT_DEVICE_ADDRESS_USB && in->info.usb.port)
            json_object_set_string_member(dev, "port", in->info.usb.port);
    }
    add_device_info(b->def, dev, &in->info);
    arg_json(b, "-device", dev);
    return true;
}

static bool
build_graphics(CmdBuilder *b, const VrtDomainGraphicsDef *g, GError **error)
{
    g_autoptr(GString) opt = g_string_new(NULL);
    g_autofree char *listen = vrt_qemu_command_escape(g->listen ? g->listen : "127.0.0.1");

    if (g->type != VRT_DOMAIN_GRAPHICS_VNC)
        return vrt_qemu_command_graphics_refuse(g, error);
    if (!vrt_qemu_command_vnc_check(g, error))
        return false;
    if (g->listen_none)
        g_string_assign(opt, "none");
    else if (g->autoport || g->port < 0)
        g_string_printf(opt, "%s:0,to=100", listen);
    else if (g->port >= 5900)
        g_string_printf(opt, "%s:%d", listen, g->port - 5900);
    else {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "vnc port %d is below 5900", g->port);
        return false;
    }
    /* libvirt's order: websocket, share, password, power-control, audiodev */
    if (g->websocket > 0)
        g_string_append_printf(opt, ",websocket=%d", g->websocket);
    if (g->share_policy)
        g_string_append_printf(opt, ",share=%s", vrt_qemu_command_vnc_share(g));
    if (g->passwd)
        g_string_append(opt, ",password=on");
    if (g->power_control)
        g_string_append_printf(opt, ",power-control=%s", g->power_control == VRT_TRISTATE_YES ? "on" : "off");
    /* the display's audio capture plays the backend it names, else the
     * first (libvirt's choice when <graphics> names none) */
    if (g->audio_id)
        g_string_append_printf(opt, ",audiodev=audio%u", g->audio_id);
    else if (b->def->audios->len)
        g_string_append_printf(opt, ",audiodev=audio%u", ((const VrtDomainAudioDef *)b->def->audios->pdata[0])->id);
    arg(b, "-vnc");
    arg(b, opt->str);
    return true;
}

static bool
build_video(CmdBuilder *b, const VrtDomainVideoDef *v, GError **error)
{
    const char *model = v->model ? v->model : "vga";
    const char *driver;
    JsonObject *dev;

    if (g_str_equal(model, "none"))
        return true;
    if (g_str_equal(model, "vga"))
        driver = "VGA";
    else if (g_str_equal(model, "cirrus"))
        driver = "cirrus-vga";
    else if (g_str_equal(model, "qxl"))
        driver = v->primary ? "qxl-vga" : "qxl";
    else if (g_str_equal(model, "virtio"))
        driver = v->primary ? "virtio-vga" : "virtio-gpu-pci";
    else if (g_str_equal(model, "bochs"))
        driver = "bochs-display";
    else {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported video model '%s'", model);
        return false;
    }
    if (!vrt_qemu_command_video_check(v, error))
        return false;
    if (v->res_x && g_str_equal(model, "cirrus")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "video resolution is not supported for model 'cirrus' (QEMU's cirrus-vga has no xres/yres)");
        return false;
    }
    dev = device_new(driver);
    add_virtio_options(dev, &v->virtio);
    if (v->res_x) {
        json_object_set_int_member(dev, "xres", v->res_x);
        json_object_set_int_member(dev, "yres", v->res_y);
    }
    if (v->vram64 && g_str_equal(model, "qxl"))
        json_object_set_int_member(dev, "vram64_size_mb", v->vram64 / 1024);
    if (v->vram && (g_str_equal(model, "vga") || g_str_equal(model, "bochs")))
        json_object_set_int_member(dev, "vgamem_mb", v->vram / 1024);
    /* Several heads: QEMU's outputs of a virtio GPU or a QXL card. */
    if (v->heads && (g_str_equal(model, "virtio") || g_str_equal(model, "qxl")))
        json_object_set_int_member(dev, "max_outputs", v->heads);
    add_device_info(b->def, dev, &v->info);
    arg_json(b, "-device", dev);
    return true;
}

/* A <filesystem>, as libvirt passes it: virtio-9p is QEMU's own local
 * fsdev ("fsdev-" + alias) and a virtio-9p-pci device with the mount
 * tag; virtio-fs is a vhost-user-fs-pci device on the chardev of its
 * virtiofsd ("chr-vu-" + alias), which qemu_virtiofs.c starts and adds. */
static void
build_filesystem(CmdBuilder *b, const VrtDomainFsDef *fs)
{
    g_autofree char *fsdev = g_strdup_printf("fsdev-%s", fs->info.alias);
    JsonObject *dev;

    if (vrt_domain_fs_is_virtiofs(fs)) {
        g_autofree char *chardev = g_strdup_printf("chr-vu-%s", fs->info.alias);

        dev = device_new("vhost-user-fs-pci");
        json_object_set_string_member(dev, "id", fs->info.alias);
        json_object_set_string_member(dev, "chardev", chardev);
        json_object_set_string_member(dev, "tag", fs->target_dir);
    } else {
        g_autoptr(GString) opt = g_string_new("local");
        g_autofree char *path = vrt_qemu_command_escape(fs->source_dir);
        const char *model = g_str_equal(fs->accessmode, "mapped")   ? "mapped"
                            : g_str_equal(fs->accessmode, "squash") ? "none"
                                                                    : "passthrough";

        g_string_append_printf(opt, ",security_model=%s", model);
        if (fs->multidevs)
            g_string_append_printf(opt, ",multidevs=%s", fs->multidevs);
        if (fs->fmode)
            g_string_append_printf(opt, ",fmode=%04o", fs->fmode);
        if (fs->dmode)
            g_string_append_printf(opt, ",dmode=%04o", fs->dmode);
        if (fs->wrpolicy)
            g_string_append_printf(opt, ",writeout=%s", fs->wrpolicy);
        g_string_append_printf(opt, ",id=%s,path=%s", fsdev, path);
        if (fs->readonly) /* libvirt's bare ",readonly", which QEMU 7.2 warns about */
            g_string_append(opt, ",readonly=on");
        arg(b, "-fsdev");
        arg(b, opt->str);
        dev = device_new("virtio-9p-pci");
        json_object_set_string_member(dev, "id", fs->info.alias);
        json_object_set_string_member(dev, "fsdev", fsdev);
        json_object_set_string_member(dev, "mount_tag", fs->target_dir);
    }
    add_device_info(b->def, dev, &fs->info);
    arg_json(b, "-device", dev);
}

static bool
build_rng(CmdBuilder *b, const VrtDomainRngDef *rng, GError **error)
{
    g_autofree char *objid = g_strdup_printf("obj%s", rng->info.alias ? rng->info.alias : "rng");
    JsonObject *obj = json_object_new();
    JsonObject *dev;

    json_object_set_string_member(obj, "qom-type", "rng-random");
    json_object_set_string_member(obj, "id", objid);
    json_object_set_string_member(obj, "filename", rng->backend_path ? rng->backend_path : "/dev/urandom");
    arg_json(b, "-object", obj);
    dev = device_new("virtio-rng-pci");
    add_virtio_options(dev, &rng->virtio);
    json_object_set_string_member(dev, "rng", objid);
    if (rng->rate_bytes) {
        json_object_set_int_member(dev, "max-bytes", rng->rate_bytes);
        json_object_set_int_member(dev, "period", rng->rate_period ? rng->rate_period : 1000);
    }
    add_device_info(b->def, dev, &rng->info);
    arg_json(b, "-device", dev);
    return true;
}

static bool
build_watchdog(CmdBuilder *b, const VrtDomainWatchdogDef *wd, GError **error)
{
    const char *model = wd->model ? wd->model : "i6300esb";
    const char *action = wd->action ? wd->action : "reset";

    if (g_str_equal(model, "i6300esb") || g_str_equal(model, "ib700")) {
        JsonObject *dev = device_new(model);

        add_device_info(b->def, dev, &wd->info);
        arg_json(b, "-device", dev);
    } else if (!g_str_equal(model, "itco")) { /* iTCO is part of q35's ICH9 */
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported watchdog model '%s'", model);
        return false;
    }
    if (g_str_equal(action, "dump"))
        action = "pause";
    arg(b, "-watchdog-action");
    arg(b, action);
    return true;
}

/* The features the definition requires or forbids (a vendor id and
 * <feature> names cannot hold a comma: the parser refused it). */
static void
cpu_feature_props(const VrtDomainDef *def, GString *cpu)
{
    for (guint i = 0; def->cpu.features && i < def->cpu.features->len; i++) {
        const VrtDomainCpuFeature *f = g_ptr_array_index(def->cpu.features, i);

        if (g_str_equal(f->policy, "force") || g_str_equal(f->policy, "require"))
            g_string_append_printf(cpu, ",%s=on", f->name);
        else if (g_str_equal(f->policy, "disable") || g_str_equal(f->policy, "forbid"))
            g_string_append_printf(cpu, ",%s=off", f->name);
    }
}

static void
build_cpu(CmdBuilder *b)
{
    const VrtDomainDef *def = b->def;
    bool kvm = def->virt_type == VRT_DOMAIN_VIRT_KVM;
    guint maxv = def->vcpus ? def->vcpus : 1;
    guint cur = def->current_vcpus ? def->current_vcpus : maxv;
    g_autoptr(GString) smp = g_string_new(NULL);

    switch (def->cpu.mode) {
    case VRT_DOMAIN_CPU_MODE_HOST_PASSTHROUGH:
    case VRT_DOMAIN_CPU_MODE_HOST_MODEL:
    case VRT_DOMAIN_CPU_MODE_MAXIMUM: {
        /* TCG cannot pass the host CPU through */
        g_autoptr(GString) cpu = g_string_new(kvm && def->cpu.mode != VRT_DOMAIN_CPU_MODE_MAXIMUM ? "host" : "max");

        if (def->cpu.vendor_id)
            g_string_append_printf(cpu, ",vendor=%s", def->cpu.vendor_id);
        cpu_feature_props(def, cpu);
        vrt_qemu_features_cpu_props(def, cpu);
        /* after the Hyper-V enlightenments, as libvirt */
        if (vrt_qemu_command_hyperv_panic(def))
            g_string_append(cpu, ",hv-crash");
        vrt_qemu_features_cpu_tail(def, cpu);
        arg(b, "-cpu");
        arg(b, cpu->str);
        break;
    }
    case VRT_DOMAIN_CPU_MODE_NONE:
    case VRT_DOMAIN_CPU_MODE_CUSTOM:
        /* A model domain capabilities listed (QEMU's own names), with the
         * features the definition requires or forbids; without a model,
         * QEMU's default one when a feature sets a CPU property. */
        if (def->cpu.model || vrt_qemu_features_touch_cpu(def) || vrt_qemu_command_hyperv_panic(def)) {
            g_autoptr(GString) cpu = g_string_new(def->cpu.model ? def->cpu.model : vrt_qemu_features_default_cpu(def));

            if (def->cpu.vendor_id)
                g_string_append_printf(cpu, ",vendor=%s", def->cpu.vendor_id);
            cpu_feature_props(def, cpu);
            vrt_qemu_features_cpu_props(def, cpu);
            if (vrt_qemu_command_hyperv_panic(def))
                g_string_append(cpu, ",hv-crash");
            vrt_qemu_features_cpu_tail(def, cpu);
            arg(b, "-cpu");
            arg(b, cpu->str);
        }
        break;
    }

    g_string_printf(smp, "%u,maxcpus=%u", cur, maxv);
    if (def->cpu.sockets) {
        g_string_append_printf(smp, ",sockets=%u", def->cpu.sockets);
        if (def->cpu.dies)
            g_string_append_printf(smp, ",dies=%u", def->cpu.dies);
        g_string_append_printf(smp, ",cores=%u,threads=%u", def->cpu.cores ? def->cpu.cores : 1,
                               def->cpu.threads ? def->cpu.threads : 1);
    }
    arg(b, "-smp");
    arg(b, smp->str);
}

static bool
any_boot_index(const VrtDomainDef *def)
{
    for (guint i = 0; def->disks && i < def->disks->len; i++)
        if (((VrtDomainDiskDef *)g_ptr_array_index(def->disks, i))->info.boot_order)
            return true;
    for (guint i = 0; def->nets && i < def->nets->len; i++)
        if (((VrtDomainNetDef *)g_ptr_array_index(def->nets, i))->info.boot_order)
            return true;
    return false;
}

static bool
build_boot(CmdBuilder *b)
{
    const VrtDomainDef *def = b->def;
    g_autoptr(GString) order = g_string_new(NULL);

    for (guint i = 0; i < def->os.n_boot; i++) {
        switch (def->os.boot[i]) {
        case VRT_DOMAIN_BOOT_HD: g_string_append_c(order, 'c'); break;
        case VRT_DOMAIN_BOOT_CDROM: g_string_append_c(order, 'd'); break;
        case VRT_DOMAIN_BOOT_NETWORK: g_string_append_c(order, 'n'); break;
        case VRT_DOMAIN_BOOT_FD: g_string_append_c(order, 'a'); break;
        }
    }
    {
        g_autoptr(GString) opt = g_string_new(NULL);

        /* Per-device boot order (bootindex) excludes -boot order. */
        if (order->len && !any_boot_index(def))
            g_string_append_printf(opt, "order=%s,", order->str);
        if (def->os.bootmenu != VRT_TRISTATE_DEFAULT)
            g_string_append_printf(opt, "menu=%s,", def->os.bootmenu == VRT_TRISTATE_YES ? "on" : "off");
        if (def->os.bios_reboot_set)
            g_string_append_printf(opt, "reboot-timeout=%d,", def->os.bios_reboot_timeout);
        if (def->os.bootmenu_timeout >= 0)
            g_string_append_printf(opt, "splash-time=%d,", def->os.bootmenu_timeout);
        g_string_append(opt, "strict=on");
        arg(b, "-boot");
        arg(b, opt->str);
    }
    if (def->os.kernel) {
        arg(b, "-kernel");
        arg(b, def->os.kernel);
    }
    if (def->os.initrd) {
        arg(b, "-initrd");
        arg(b, def->os.initrd);
    }
    if (def->os.cmdline) {
        arg(b, "-append");
        arg(b, def->os.cmdline);
    }
    return true;
}

static gint
controller_index_cmp(gconstpointer a, gconstpointer b)
{
    const VrtDomainControllerDef *ca = *(VrtDomainControllerDef *const *)a;
    const VrtDomainControllerDef *cb = *(VrtDomainControllerDef *const *)b;

    return (gint)ca->index - (gint)cb->index;
}

/* ---- firmware ---- */

/* One pflash unit as libvirt gives it: a file node and a raw format node
 * above it, named vrt-pflashN-*; the machine's pflashN property names the
 * format node. */
static void
build_pflash(CmdBuilder *b, guint unit, const char *path, bool readonly, GString *machine)
{
    JsonObject *file = json_object_new();
    JsonObject *fmt = json_object_new();
    g_autofree char *storage = g_strdup_printf("vrt-pflash%u-storage", unit);
    g_autofree char *format = g_strdup_printf("vrt-pflash%u-format", unit);

    json_object_set_string_member(file, "driver", "file");
    json_object_set_string_member(file, "filename", path);
    json_object_set_string_member(file, "node-name", storage);
    json_object_set_boolean_member(file, "auto-read-only", TRUE);
    json_object_set_string_member(file, "discard", "unmap");
    arg_json(b, "-blockdev", file);
    json_object_set_string_member(fmt, "node-name", format);
    json_object_set_boolean_member(fmt, "read-only", readonly);
    json_object_set_string_member(fmt, "driver", "raw");
    json_object_set_string_member(fmt, "file", storage);
    arg_json(b, "-blockdev", fmt);
    g_string_append_printf(machine, ",pflash%u=%s", unit, format);
}

/* The domain's <loader> and <nvram> (the firmware='efi' of a definition
 * is resolved to them at start, qemu_firmware.c): a pflash code image and
 * its variable store, or a ROM image as -bios. Returns the -machine
 * properties that go with them. */
static char *
build_firmware(CmdBuilder *b)
{
    const VrtDomainOsFirmwareDef *fw = &b->def->os.fw;
    GString *machine = g_string_new(NULL);

    if (!fw->path)
        return g_string_free(machine, FALSE);
    if (g_strcmp0(fw->type, "pflash") == 0) {
        build_pflash(b, 0, fw->path, fw->readonly == VRT_TRISTATE_YES, machine);
        if (fw->nvram)
            build_pflash(b, 1, fw->nvram, false, machine);
        /* writes to the variable store only from SMM (Secure Boot) */
        if (fw->secure == VRT_TRISTATE_YES) {
            arg(b, "-global");
            arg(b, "driver=cfi.pflash01,property=secure,value=on");
        }
    } else {
        arg(b, "-bios");
        arg(b, fw->path);
    }
    return g_string_free(machine, FALSE);
}

/* ---- <sysinfo>: SMBIOS tables and fw_cfg entries ---- */

/* "type=N,key=value..." of one smbios section, commas in values doubled */
static void
smbios_table(CmdBuilder *b, guint type, const char *const *keys, GStrv values)
{
    g_autoptr(GString) t = g_string_new(NULL);

    if (!values)
        return;
    g_string_printf(t, "type=%u", type);
    for (guint i = 0; keys[i]; i++) {
        g_autofree char *v = NULL;

        if (!*values[i])
            continue;
        v = vrt_qemu_command_escape(values[i]);
        g_string_append_printf(t, ",%s=%s", keys[i], v);
    }
    arg(b, "-smbios");
    arg(b, t->str);
}

/* As libvirt: <os><smbios mode='sysinfo'/> gives QEMU the smbios sysinfo's
 * tables (one baseboard at most); 'host' would copy the host's, which
 * vrt does not; fwcfg entries go as -fw_cfg whatever the mode. */
static bool
build_sysinfo(CmdBuilder *b, GError **error)
{
    const VrtDomainDef *def = b->def;
    const VrtDomainSysinfoDef *smbios = NULL;

    for (guint i = 0; def->sysinfos && i < def->sysinfos->len; i++) {
        const VrtDomainSysinfoDef *s = def->sysinfos->pdata[i];

        if (!s->fwcfg && !smbios)
            smbios = s;
    }
    if (g_strcmp0(def->smbios_mode, "host") == 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "<smbios mode='host'/> is not supported: vrt does not copy the host's SMBIOS tables");
        return false;
    }
    if (g_strcmp0(def->smbios_mode, "sysinfo") == 0) {
        if (!smbios) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Domain '%s' sysinfo are not available", def->name);
            return false;
        }
        if (smbios->boards && smbios->boards->len > 1) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                          "qemu does not support more than one entry to Type 2 in SMBIOS table");
            return false;
        }
        smbios_table(b, 0, vrt_sysinfo_bios_keys, smbios->bios);
        smbios_table(b, 1, vrt_sysinfo_system_keys, smbios->system);
        for (guint i = 0; smbios->boards && i < smbios->boards->len; i++)
            smbios_table(b, 2, vrt_sysinfo_board_keys, smbios->boards->pdata[i]);
        smbios_table(b, 3, vrt_sysinfo_chassis_keys, smbios->chassis);
        if (smbios->oem) {
            g_autoptr(GString) t = g_string_new("type=11");

            for (guint i = 0; smbios->oem[i]; i++) {
                g_autofree char *v = vrt_qemu_command_escape(smbios->oem[i]);

                g_string_append_printf(t, ",value=%s", v);
            }
            arg(b, "-smbios");
            arg(b, t->str);
        }
    }
    for (guint i = 0; def->sysinfos && i < def->sysinfos->len; i++) {
        const VrtDomainSysinfoDef *s = def->sysinfos->pdata[i];

        for (guint j = 0; s->fwcfg && s->fw_names && s->fw_names[j]; j++) {
            g_autofree char *name = vrt_qemu_command_escape(s->fw_names[j]);
            g_autofree char *value = vrt_qemu_command_escape(s->fw_values[j]);

            /* QEMU would open the file as its own user, which vrt has not
             * given it: refused by name rather than failing inside QEMU */
            if (*s->fw_files[j]) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                              "fw_cfg entry '%s' from a file is not supported: give its value instead", s->fw_names[j]);
                return false;
            }
            arg(b, "-fw_cfg");
            argf(b, "name=%s,string=%s", name, value);
        }
    }
    return true;
}

/* ---- memory: backends, NUMA nodes ---- */

static void set_host_nodes(JsonObject *o, const char *nodeset, const char *policy);

/* One memory backend object as libvirt asks for it: RAM, or memfd for
 * <source type='memfd'/> and hugepages (memfd's hugetlb, from the host's
 * pool of the page size the cell's <page> names; a page of the system's
 * own size is ordinary memory, as in libvirt); shared when the domain's or
 * the cell's access mode says so. */
static void
build_memory_backend(CmdBuilder *b, const char *id, int cell, guint64 kib, const char *cell_access)
{
    const VrtDomainMemDef *mem = b->def->mem;
    JsonObject *o = json_object_new();
    guint64 page_kib = 0;
    bool huge = vrt_domain_mem_page_kib(mem, cell, &page_kib) && page_kib != (guint64)sysconf(_SC_PAGESIZE) / 1024;
    bool memfd = huge || g_strcmp0(mem->source_type, "memfd") == 0;
    /* hugepages stay memfd's hugetlb (vrt knows no hugetlbfs mounts); a
     * file source is otherwise a file in the domain's memory directory */
    bool file = !huge && g_strcmp0(mem->source_type, "file") == 0;
    const char *access = cell_access ? cell_access : mem->access_mode;
    const VrtDomainMemnode *memnode = cell >= 0 ? vrt_domain_tune_memnode(b->def->tune, (guint)cell) : NULL;
    const VrtDomainNumaCell *c =
        cell >= 0 && (guint)cell < mem->cells->len ? g_ptr_array_index(mem->cells, cell) : NULL;
    VrtTristate cell_discard = c ? (VrtTristate)c->discard : VRT_TRISTATE_DEFAULT;

    json_object_set_string_member(o, "qom-type",
                                  file    ? "memory-backend-file"
                                  : memfd ? "memory-backend-memfd"
                                          : "memory-backend-ram");
    json_object_set_string_member(o, "id", id);
    if (file) {
        g_autofree char *path = g_build_filename(b->opts->memory_dir ? b->opts->memory_dir : "", id, NULL);

        json_object_set_string_member(o, "mem-path", path);
    }
    if (huge)
        json_object_set_boolean_member(o, "hugetlb", TRUE);
    if (huge && page_kib)
        json_object_set_int_member(o, "hugetlbsize", (gint64)(page_kib * 1024));
    if (access)
        json_object_set_boolean_member(o, "share", g_str_equal(access, "shared"));
    if (g_strcmp0(mem->allocation_mode, "immediate") == 0 ||
        (huge && g_strcmp0(mem->allocation_mode, "ondemand") != 0)) {
        json_object_set_boolean_member(o, "prealloc", TRUE);
        if (mem->allocation_threads)
            json_object_set_int_member(o, "prealloc-threads", mem->allocation_threads);
    }
    /* a cell's discard= wins over the domain's <discard/> */
    if (cell_discard == VRT_TRISTATE_YES || (cell_discard == VRT_TRISTATE_DEFAULT && mem->discard))
        json_object_set_boolean_member(o, "discard-data", TRUE);
    json_object_set_int_member(o, "size", (gint64)(kib * 1024));
    /* <memnode>: the cell's memory bound to host nodes, but for
     * 'restrictive', which only the cgroup's cpuset.mems applies */
    if (memnode && !g_str_equal(memnode->mode, "restrictive"))
        set_host_nodes(o, memnode->nodeset, g_str_equal(memnode->mode, "strict") ? "bind" : memnode->mode);
    arg_json(b, "-object", o);
}

/* <cpu><numa> cells as backends and -numa nodes; without cells, a
 * <memoryBacking> as the machine's own backend (pc.ram); <locked/> as
 * -overcommit mem-lock. Returns the -machine properties. */
static char *
build_memory(CmdBuilder *b)
{
    const VrtDomainMemDef *mem = b->def->mem;
    GString *machine = g_string_new(NULL);

    if (!mem)
        return g_string_free(machine, FALSE);
    if (mem->cells->len) {
        for (guint i = 0; i < mem->cells->len; i++) {
            const VrtDomainNumaCell *c = g_ptr_array_index(mem->cells, i);
            g_autofree char *id = g_strdup_printf("ram-node%u", c->id);
            g_autoptr(GString) node = g_string_new(NULL);

            build_memory_backend(b, id, (int)c->id, c->memory_kib, c->mem_access);
            g_string_printf(node, "node,nodeid=%u", c->id);
            if (c->cpus) {
                g_auto(GStrv) ranges = g_strsplit(c->cpus, ",", -1);

                for (guint r = 0; ranges[r]; r++)
                    g_string_append_printf(node, ",cpus=%s", ranges[r]);
            }
            g_string_append_printf(node, ",memdev=%s", id);
            arg(b, "-numa");
            arg(b, node->str);
        }
    } else if (mem->hugepages || mem->source_type || mem->access_mode || mem->allocation_mode || mem->discard) {
        build_memory_backend(b, "pc.ram", -1, b->def->memory_kib, NULL);
        g_string_append(machine, ",memory-backend=pc.ram");
    }
    for (guint i = 0; vrt_domain_memdev(b->def, i); i++)
        if (vrt_domain_memdev(b->def, i)->model == VRT_MEMDEV_NVDIMM) {
            g_string_append(machine, ",nvdimm=on");
            break;
        }
    if (mem->nosharepages)
        g_string_append(machine, ",mem-merge=off");
    if (mem->locked) {
        arg(b, "-overcommit");
        arg(b, "mem-lock=on");
    }
    return g_string_free(machine, FALSE);
}

/* ---- memory devices ---- */

/* host-nodes (a canonical node set) and the policy that binds to them */
static void
set_host_nodes(JsonObject *o, const char *nodeset, const char *policy)
{
    g_auto(GStrv) ranges = g_strsplit(nodeset, ",", -1);
    JsonArray *nodes = json_array_new();

    for (guint r = 0; ranges[r]; r++) {
        const char *dash = strchr(ranges[r], '-');
        guint64 lo = g_ascii_strtoull(ranges[r], NULL, 10);
        guint64 hi = dash ? g_ascii_strtoull(dash + 1, NULL, 10) : lo;

        for (guint64 n = lo; n <= hi; n++)
            json_array_add_int_element(nodes, (gint64)n);
    }
    json_object_set_array_member(o, "host-nodes", nodes);
    json_object_set_string_member(o, "policy", policy);
}

/* libvirt's size alignment of x86 memory modules, at start: 2 MiB */
static guint64
memdev_bytes(const VrtDomainMemoryDevDef *m)
{
    return (m->size_kib + 2047) / 2048 * 2048 * 1024;
}

/* QEMU's id of a memory device as libvirt names it: dimmSLOT, nvdimmSLOT,
 * virtiomemN and virtiopmemN (N counting the devices of that model). */
static char *
memdev_alias(const VrtDomainDef *def, guint i)
{
    const VrtDomainMemoryDevDef *m = vrt_domain_memdev(def, i);
    guint n = 0;

    if (m->model == VRT_MEMDEV_DIMM || m->model == VRT_MEMDEV_NVDIMM)
        return g_strdup_printf("%s%u", m->model == VRT_MEMDEV_DIMM ? "dimm" : "nvdimm", m->slot);
    for (guint j = 0; j < i; j++)
        n += vrt_domain_memdev(def, j)->model == m->model;
    return g_strdup_printf("%s%u", m->model == VRT_MEMDEV_VIRTIO_MEM ? "virtiomem" : "virtiopmem", n);
}

/* One <memory> device: its backend object (RAM, or memfd's hugetlb for a
 * <pagesize> other than the system's; the file of an nvdimm or
 * virtio-pmem) bound to its <nodemask>, then the device on it. */
static bool
build_memory_device(CmdBuilder *b, guint i, GError **error)
{
    const VrtDomainDef *def = b->def;
    const VrtDomainMemoryDevDef *m = vrt_domain_memdev(def, i);
    g_autofree char *alias = memdev_alias(def, i);
    g_autofree char *memdev = g_strdup_printf("mem%s", alias);
    const char *access = m->access ? m->access : def->mem->access_mode;
    bool file = m->model == VRT_MEMDEV_NVDIMM || m->model == VRT_MEMDEV_VIRTIO_PMEM;
    guint64 page_kib = m->pagesize_kib;
    bool huge, prealloc;
    JsonObject *o, *dev;

    /* QEMU plugs DIMMs through ACPI alone */
    if ((m->model == VRT_MEMDEV_DIMM || m->model == VRT_MEMDEV_NVDIMM) && !(def->features & VRT_DOMAIN_FEATURE_ACPI)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "memory device '%s' needs ACPI: <features><acpi/> is missing",
                      vrt_memdev_model_names[m->model]);
        return false;
    }
    o = json_object_new();
    if (!page_kib && !file && m->node >= 0)
        vrt_domain_mem_page_kib(def->mem, m->node, &page_kib);
    huge = !file && page_kib && page_kib != (guint64)sysconf(_SC_PAGESIZE) / 1024;
    prealloc = huge || g_strcmp0(def->mem->allocation_mode, "immediate") == 0;
    json_object_set_string_member(o, "qom-type",
                                  file   ? "memory-backend-file"
                                  : huge ? "memory-backend-memfd"
                                         : "memory-backend-ram");
    json_object_set_string_member(o, "id", memdev);
    if (file)
        json_object_set_string_member(o, "mem-path", m->path);
    if (huge) {
        json_object_set_boolean_member(o, "hugetlb", TRUE);
        json_object_set_int_member(o, "hugetlbsize", (gint64)(page_kib * 1024));
    }
    if (m->model == VRT_MEMDEV_VIRTIO_MEM)
        json_object_set_boolean_member(o, "reserve", FALSE);
    if (access)
        json_object_set_boolean_member(o, "share", g_str_equal(access, "shared"));
    /* an nvdimm is preallocated unless it is real persistent memory */
    if ((prealloc && m->model != VRT_MEMDEV_VIRTIO_MEM) || (m->model == VRT_MEMDEV_NVDIMM && !m->pmem)) {
        json_object_set_boolean_member(o, "prealloc", TRUE);
        if (def->mem->allocation_threads)
            json_object_set_int_member(o, "prealloc-threads", def->mem->allocation_threads);
    }
    json_object_set_int_member(o, "size", (gint64)memdev_bytes(m));
    if (m->alignsize_kib)
        json_object_set_int_member(o, "align", (gint64)(m->alignsize_kib * 1024));
    if (m->pmem)
        json_object_set_boolean_member(o, "pmem", TRUE);
    if (m->nodemask)
        set_host_nodes(o, m->nodemask, "bind");
    if (m->discard == VRT_TRISTATE_YES || (m->discard == VRT_TRISTATE_DEFAULT && def->mem->discard))
        json_object_set_boolean_member(o, "discard-data", TRUE);
    arg_json(b, "-object", o);

    dev = device_new(m->model == VRT_MEMDEV_DIMM         ? "pc-dimm"
                     : m->model == VRT_MEMDEV_NVDIMM     ? "nvdimm"
                     : m->model == VRT_MEMDEV_VIRTIO_MEM ? "virtio-mem-pci"
                                                         : "virtio-pmem-pci");
    if (m->model != VRT_MEMDEV_VIRTIO_PMEM && m->node >= 0)
        json_object_set_int_member(dev, "node", m->node);
    if (m->label_kib)
        json_object_set_int_member(dev, "label-size", (gint64)(m->label_kib * 1024));
    if (m->readonly)
        json_object_set_boolean_member(dev, "unarmed", TRUE);
    if (m->model == VRT_MEMDEV_VIRTIO_MEM) {
        json_object_set_int_member(dev, "block-size", (gint64)(m->block_kib * 1024));
        json_object_set_int_member(dev, "requested-size", (gint64)(m->requested_kib * 1024));
    }
    json_object_set_string_member(dev, "memdev", memdev);
    if (m->model == VRT_MEMDEV_VIRTIO_MEM && prealloc)
        json_object_set_boolean_member(dev, "prealloc", TRUE);
    json_object_set_string_member(dev, "id", alias);
    if (m->dimm_addr) {
        json_object_set_int_member(dev, "slot", m->slot);
        if (m->base)
            json_object_set_int_member(dev, "addr", (gint64)m->base);
    }
    add_device_info(def, dev, &m->info);
    arg_json(b, "-device", dev);
    return true;
}

/* ---- the guest IOMMU ---- */

/* intel-iommu as libvirt gives it (id iommu0), on q35, as
 * libvirt's validation requires. */
static bool
build_iommu(CmdBuilder *b, GError **error)
{
    const VrtDomainIommuDef *iommu = b->def->iommu;
    JsonObject *dev;

    if (!iommu)
        return true;
    if (!vrt_domain_def_is_q35(b->def)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "IOMMU device: 'intel' is only supported with Q35 machines");
        return false;
    }
    dev = json_object_new();
    json_object_set_string_member(dev, "driver", "intel-iommu");
    json_object_set_string_member(dev, "id", "iommu0");
    if (iommu->intremap != VRT_TRISTATE_DEFAULT)
        json_object_set_string_member(dev, "intremap", iommu->intremap == VRT_TRISTATE_YES ? "on" : "off");
    if (iommu->caching_mode != VRT_TRISTATE_DEFAULT)
        json_object_set_boolean_member(dev, "caching-mode", iommu->caching_mode == VRT_TRISTATE_YES);
    if (iommu->eim != VRT_TRISTATE_DEFAULT)
        json_object_set_string_member(dev, "eim", iommu->eim == VRT_TRISTATE_YES ? "on" : "off");
    if (iommu->iotlb != VRT_TRISTATE_DEFAULT)
        json_object_set_boolean_member(dev, "device-iotlb", iommu->iotlb == VRT_TRISTATE_YES);
    if (iommu->aw_bits)
        json_object_set_int_member(dev, "aw-bits", iommu->aw_bits);
    arg_json(b, "-device", dev);
    return true;
}

/* ---- I/O threads ---- */

/* One iothread object per id of the domain, named iothreadN as libvirt
 * names them (the stats' iothread group reads N back). */
static void
build_iothreads(CmdBuilder *b)
{
    g_autoptr(GArray) ids = vrt_domain_iothread_ids(b->def);

    for (guint i = 0; i < ids->len; i++) {
        JsonObject *o = json_object_new();

        json_object_set_string_member(o, "qom-type", "iothread");
        set_strf(o, "id", "iothread%u", g_array_index(ids, guint, i));
        arg_json(b, "-object", o);
    }
}

#define FOREACH_DEV(arr, type, var)                    \
    for (guint _i = 0; (arr) && _i < (arr)->len; _i++) \
        for (const type *var = g_ptr_array_index((arr), _i); var; var = NULL)

GStrv
vrt_qemu_command_build(const VrtDomainDef *def, const VrtQemuCommandOptions *opts, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    CmdBuilder b = { .def = def, .opts = opts, .argv = argv, .tap_fds = opts->tap_fds, .file_fds = opts->file_fds };
    g_autofree char *name = vrt_qemu_command_escape(def->name);
    g_autofree char *machine = vrt_qemu_command_escape(opts->machine);
    char uuid[VRT_UUID_STRING_LEN];
    guint serial_index = 0;
    bool ok = true;
    g_autofree char *firmware = NULL;
    g_autofree char *memory = NULL;
    g_autofree char *accel = NULL;
    g_autofree char *rtc = NULL;
    g_autoptr(GString) features_machine = NULL;

    /* libvirt asks numad where to place an 'auto' domain; without numad
     * the placement would silently be none at all */
    if (def->tune && (def->tune->vcpu_placement_auto || def->tune->numa_placement_auto)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "automatic NUMA placement (placement='auto') needs numad, which vrt does not run; "
                      "give the <vcpu> cpuset and <numatune> nodeset instead");
        return NULL;
    }
    if (def->mem && g_strcmp0(def->mem->source_type, "file") == 0 && !opts->memory_dir) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "<memoryBacking><source type='file'/> needs a memory directory, which this start has not");
        return NULL;
    }
    /* I/O thread tuning: vrt's cgroup has no iothread children and it does
     * not look up the threads' ids, so neither could be applied */
    if (def->tune && def->tune->iothreadpins->len) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "<cputune><iothreadpin> is not supported: vrt does not pin I/O threads");
        return NULL;
    }
    /* libvirt sets these policies with sched_setscheduler on QEMU's vCPU
     * and I/O threads once they run; vrt does not look the threads up */
    if (def->tune && (def->tune->vcpu_scheds || def->tune->iothread_scheds)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "<cputune><vcpusched>/<iothreadsched> are not supported: vrt does not set the scheduling "
                      "policy of vCPU or I/O threads");
        return NULL;
    }
    if (def->tune && (def->tune->iothread_period || def->tune->iothread_quota)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "<cputune><iothread_period>/<iothread_quota> are not supported: vrt has no I/O thread cgroups");
        return NULL;
    }
    /* <shmem>: the host side (a /dev/shm object shared with other guests,
     * an ivshmem server's socket) is not vrt's to set up; QEMU 7.2 has no
     * legacy ivshmem at all, which libvirt says in its words */
    for (guint i = 0; def->shmems && i < def->shmems->len; i++) {
        const VrtDomainShmemDef *s = def->shmems->pdata[i];

        if (s->model == VRT_SHMEM_IVSHMEM)
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                          "ivshmem device is not supported with this QEMU binary");
        else
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "shmem device '%s' (%s) is not supported: vrt does not set up shared memory for ivshmem",
                          s->name, vrt_shmem_model_names[s->model]);
        return NULL;
    }
    arg(&b, opts->emulator);
    argf(&b, "-name");
    argf(&b, "guest=%s,debug-threads=on", name);
    arg(&b, "-S");
    firmware = build_firmware(&b);
    memory = build_memory(&b);
    build_iothreads(&b);
    /* QEMU wants the IOMMU before the PCI devices it translates for */
    if (!build_iommu(&b, error))
        return NULL;
    features_machine = g_string_new(NULL);
    vrt_qemu_features_machine_props(def, features_machine);
    arg(&b, "-machine");
    /* <bios useserial='yes'>: SeaBIOS's output on the serial port */
    if (def->os.bios_useserial == VRT_TRISTATE_YES)
        g_string_append(features_machine, ",graphics=off");
    /* <memory dumpCore>: off unless asked, libvirt's dump_guest_core default */
    argf(&b, "%s,usb=off,dump-guest-core=%s%s%s%s%s%s", machine, def->dump_core == VRT_TRISTATE_YES ? "on" : "off",
         firmware, memory, (def->features & VRT_DOMAIN_FEATURE_ACPI) ? "" : ",acpi=off",
         def->vmport == VRT_TRISTATE_NO    ? ",vmport=off"
         : def->vmport == VRT_TRISTATE_YES ? ",vmport=on"
                                           : "",
         features_machine->str);
    if (!(accel = vrt_qemu_features_accel(def, error)))
        return NULL;
    arg(&b, "-accel");
    arg(&b, accel);
    vrt_qemu_features_extra_args(def, argv);
    build_cpu(&b);
    arg(&b, "-m");
    if (def->mem && def->mem->max_memory_kib)
        /* the initial memory; the devices' memory comes from the hotplug space */
        argf(&b, "size=%" G_GUINT64_FORMAT "k,slots=%u,maxmem=%" G_GUINT64_FORMAT "k",
             def->memory_kib - vrt_domain_memdevs_kib(def), def->mem->slots, def->mem->max_memory_kib);
    else
        argf(&b, "size=%" G_GUINT64_FORMAT "k", def->memory_kib);
    vrt_uuid_format(def->uuid, uuid);
    arg(&b, "-uuid");
    arg(&b, uuid);
    if (!build_sysinfo(&b, error))
        return NULL;
    arg(&b, "-no-user-config");
    arg(&b, "-nodefaults");
    arg(&b, "-chardev");
    if (opts->monitor_fd > 2)
        argf(&b, "socket,id=charmonitor,fd=%d,server=on,wait=off", opts->monitor_fd);
    else {
        g_autofree char *monitor = vrt_qemu_command_escape(opts->monitor_path);

        argf(&b, "socket,id=charmonitor,path=%s,server=on,wait=off", monitor);
    }
    arg(&b, "-mon");
    arg(&b, "chardev=charmonitor,id=monitor,mode=control");
    rtc = vrt_qemu_features_rtc(def);
    arg(&b, "-rtc");
    arg(&b, rtc);
    vrt_qemu_features_timer_args(def, argv);
    /* Guest poweroff stops QEMU instead of ending it, so the SHUTDOWN event
     * is seen and on_poweroff decides; on_reboot=destroy turns reboot into
     * a shutdown. */
    arg(&b, "-no-shutdown");
    if (def->on_reboot == VRT_DOMAIN_LIFECYCLE_DESTROY)
        arg(&b, "-no-reboot");
    build_boot(&b);
    if (opts->pidfile) {
        arg(&b, "-pidfile");
        arg(&b, opts->pidfile);
    }
    if (opts->sandbox) {
        arg(&b, "-sandbox");
        arg(&b, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    }
    if (opts->incoming) {
        arg(&b, "-incoming");
        arg(&b, opts->incoming);
    }
    if (!def->graphics || def->graphics->len == 0) {
        arg(&b, "-display");
        arg(&b, "none");
    }

    /* PCI controllers first, by index, so that every bus exists before a
     * device names it; then the other controllers. */
    for (guint pass = 0; pass < 2; pass++) {
        g_autoptr(GPtrArray) ctrls = g_ptr_array_new();

        FOREACH_DEV(def->controllers, VrtDomainControllerDef, c)
        if ((c->type == VRT_DOMAIN_CONTROLLER_PCI) == (pass == 0) && c->type != VRT_DOMAIN_CONTROLLER_CCID)
            g_ptr_array_add(ctrls, (gpointer)c);
        g_ptr_array_sort(ctrls, controller_index_cmp);
        for (guint i = 0; ok && i < ctrls->len; i++)
            ok = build_controller(&b, g_ptr_array_index(ctrls, i), error);
    }
    if (ok) {
        g_autoptr(GPtrArray) hubs = g_ptr_array_new();

        /* the hubs before any device on their ports, as libvirt */
        vrt_qemu_command_hub_devices(def, hubs);
        for (guint i = 0; i < hubs->len; i++)
            arg_json(&b, "-device", hubs->pdata[i]);
        /* the smartcard readers on their USB ports after the hubs */
        FOREACH_DEV(def->controllers, VrtDomainControllerDef, c)
        if (c->type == VRT_DOMAIN_CONTROLLER_CCID)
            build_ccid(&b, c);
    }
    ok = ok && vrt_qemu_command_usbdev_refuse(def, error);
    FOREACH_DEV(def->disks, VrtDomainDiskDef, d) ok = ok && build_disk(&b, d, error);
    FOREACH_DEV(def->filesystems, VrtDomainFsDef, fs) build_filesystem(&b, fs);
    FOREACH_DEV(def->nets, VrtDomainNetDef, n) ok = ok && build_net(&b, n, error);
    ok = ok && build_smartcard(&b, error);
    FOREACH_DEV(def->hostdevs, VrtDomainHostdevDef, h)
    {
        if (ok && !h->parent_net) {
            JsonObject *dev = vrt_qemu_command_hostdev_device_props(def, h);
            arg_json(&b, "-device", dev);
        }
    }
    FOREACH_DEV(def->subsys_hostdevs, VrtDomainSubsysHostdevDef, h) ok = ok && build_subsys_hostdev(&b, h, error);
    FOREACH_DEV(def->serials, VrtDomainChrDef, s) ok = ok && build_serial(&b, s, serial_index++, error);
    FOREACH_DEV(def->parallels, VrtDomainChrDef, p) ok = ok && build_parallel(&b, p, error);
    /* A serial-type console is the first serial port (libvirt shows it in
     * both places); only without any <serial> does it make its own port. */
    FOREACH_DEV(def->consoles, VrtDomainChrDef, c)
    {
        if (!ok)
            break;
        if (g_strcmp0(c->target_type, "virtio") == 0)
            ok = build_virtio_serial_port(&b, c, "virtconsole", error);
        else if (serial_index == 0)
            ok = build_serial(&b, c, serial_index++, error);
    }
    FOREACH_DEV(def->channels, VrtDomainChrDef, c) ok = ok && build_virtio_serial_port(&b, c, "virtserialport", error);
    FOREACH_DEV(def->inputs, VrtDomainInputDef, in) ok = ok && build_input(&b, in, error);
    /* the backends before the displays that name them, as libvirt */
    for (guint i = 0; ok && i < def->audios->len; i++) {
        ok = vrt_qemu_command_audio_check(def->audios->pdata[i], opts->module_dir, error);
        if (ok)
            arg_json(&b, "-audiodev", vrt_qemu_command_audiodev_props(def->audios->pdata[i]));
    }
    FOREACH_DEV(def->graphics, VrtDomainGraphicsDef, g) ok = ok && build_graphics(&b, g, error);
    FOREACH_DEV(def->videos, VrtDomainVideoDef, v) ok = ok && build_video(&b, v, error);
    if (ok) {
        g_autoptr(GPtrArray) sounds = g_ptr_array_new();

        ok = vrt_qemu_command_sound_devices(def, sounds, error);
        for (guint i = 0; i < sounds->len; i++)
            arg_json(&b, "-device", sounds->pdata[i]);
    }
    if (ok && def->memballoon && g_strcmp0(def->memballoon->model, "none") != 0) {
        JsonObject *dev = device_new("virtio-balloon-pci");

        add_virtio_options(dev, &def->memballoon->virtio);

        if (def->memballoon->autodeflate == VRT_TRISTATE_YES)
            json_object_set_boolean_member(dev, "deflate-on-oom", TRUE);
        if (def->memballoon->free_page_reporting != VRT_TRISTATE_DEFAULT)
            json_object_set_boolean_member(dev, "free-page-reporting",
                                           def->memballoon->free_page_reporting == VRT_TRISTATE_YES);
        add_device_info(def, dev, &def->memballoon->info);
        arg_json(&b, "-device", dev);
    }
    FOREACH_DEV(def->rngs, VrtDomainRngDef, r) ok = ok && build_rng(&b, r, error);
    if (ok && def->watchdog)
        ok = build_watchdog(&b, def->watchdog, error);
    /* after the PCI controllers a virtio-mem or virtio-pmem may sit behind */
    for (guint i = 0; ok && vrt_domain_memdev(def, i); i++)
        ok = build_memory_device(&b, i, error);
    if (ok && def->vsock) {
        JsonObject *dev = vrt_qemu_command_vsock_device(def, "/dev/vhost-vsock", error);
        ok = dev != NULL;
        if (ok)
            arg_json(&b, "-device", dev);
    }
    if (ok) {
        g_autoptr(GPtrArray) panics = g_ptr_array_new();

        ok = vrt_qemu_command_panic_devices(def, panics);
        for (guint i = 0; i < panics->len; i++)
            arg_json(&b, "-device", panics->pdata[i]);
    }
    if (!ok)
        return NULL;
    arg(&b, "-msg");
    arg(&b, "timestamp=on");
    /* <qemu:commandline> arguments last, as libvirt puts them */
    for (guint i = 0; def->qemu_args && i < def->qemu_args->len; i++)
        arg(&b, def->qemu_args->pdata[i]);
    g_ptr_array_add(argv, NULL);
    return (GStrv)g_ptr_array_free(g_steal_pointer(&argv), FALSE);
}
