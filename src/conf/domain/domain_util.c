/*
 * Small value helpers of the domain XML layer: uuids, MAC addresses, PCI
 * addresses and the enum <-> string tables shared by parser and formatter.
 */
#include "conf/domain/domain_conf.h"
#include "conf/domain/domain_priv.h"

#include <stdio.h>
#include <string.h>

void
vrt_uuid_format(const guint8 uuid[16], char out[VRT_UUID_STRING_LEN])
{
    g_snprintf(out, VRT_UUID_STRING_LEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
               uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9], uuid[10],
               uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

/* Accepts what libvirt accepts: 32 hex digits, dashes anywhere between
 * byte pairs, surrounding blanks. */
bool
vrt_uuid_parse(const char *str, guint8 uuid[16])
{
    guint i = 0;
    const char *p = str;

    if (!str)
        return false;
    while (g_ascii_isspace(*p))
        p++;
    while (i < 16) {
        if (*p == '-') {
            p++;
            continue;
        }
        if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1]))
            return false;
        uuid[i++] = (g_ascii_xdigit_value(p[0]) << 4) | g_ascii_xdigit_value(p[1]);
        p += 2;
    }
    while (g_ascii_isspace(*p))
        p++;
    return *p == '\0';
}

void
vrt_uuid_generate(guint8 uuid[16])
{
    g_autofree char *s = g_uuid_string_random();
    vrt_uuid_parse(s, uuid);
}

void
vrt_domain_mac_format(const guint8 mac[6], char out[VRT_MAC_STRING_LEN])
{
    g_snprintf(out, VRT_MAC_STRING_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
               mac[5]);
}

/* Six groups of one or two hex digits separated by ':' (or '-'). */
bool
vrt_domain_mac_parse(const char *str, guint8 mac[6])
{
    const char *p = str;

    if (!str)
        return false;
    for (guint i = 0; i < 6; i++) {
        guint v = 0, n = 0;
        while (g_ascii_isxdigit(*p) && n < 2) {
            v = (v << 4) | g_ascii_xdigit_value(*p);
            p++;
            n++;
        }
        if (n == 0)
            return false;
        mac[i] = v;
        if (i < 5) {
            if (*p != ':' && *p != '-')
                return false;
            p++;
        }
    }
    return *p == '\0';
}

char *
vrt_pci_address_to_string(const VrtPciAddress *addr)
{
    return g_strdup_printf("%04x:%02x:%02x.%x", addr->domain, addr->bus, addr->slot, addr->function);
}

bool
vrt_pci_address_equal(const VrtPciAddress *a, const VrtPciAddress *b)
{
    return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot && a->function == b->function;
}

bool
vrt_domain_def_is_q35(const VrtDomainDef *def)
{
    const char *m = def->os.machine;
    return m && (g_str_equal(m, "q35") || g_str_has_prefix(m, "pc-q35"));
}

bool
vrt_domain_machine_supported(const char *machine)
{
    return g_str_equal(machine, "pc") || g_str_equal(machine, "q35") || g_str_has_prefix(machine, "pc-i440fx-") ||
           g_str_has_prefix(machine, "pc-q35-");
}

bool
vrt_domain_controller_is_usb2(const VrtDomainControllerDef *c)
{
    return c->type == VRT_DOMAIN_CONTROLLER_USB && c->model &&
           (g_str_equal(c->model, "ich9-ehci1") || g_str_equal(c->model, "ich9-uhci1") ||
            g_str_equal(c->model, "ich9-uhci2") || g_str_equal(c->model, "ich9-uhci3"));
}

/* ---- enum tables ---------------------------------------------------- */

const char *const vrt_lifecycle_names[] = {
    "destroy", "restart", "preserve", "rename-restart", "coredump-destroy", "coredump-restart", NULL,
};
const char *const vrt_net_type_names[] = {
    "user", "network", "bridge", "ethernet", "hostdev", NULL,
};
const char *const vrt_virt_type_names[] = { "qemu", "kvm", NULL };
const char *const vrt_disk_bus_names[] = { "virtio", "sata", "scsi", "ide", NULL };
const char *const vrt_disk_device_names[] = { "disk", "cdrom", NULL };
const char *const vrt_disk_type_names[] = { "file", "block", NULL };
const char *const vrt_disk_format_names[] = { "", "raw", "qcow2", NULL };
const char *const vrt_cpu_mode_names[] = {
    "", "host-passthrough", "host-model", "maximum", "custom", NULL,
};
const char *const vrt_boot_dev_names[] = { "hd", "cdrom", "network", "fd", NULL };
const char *const vrt_controller_type_names[] = {
    "pci", "usb", "scsi", "sata", "ide", "virtio-serial", NULL,
};
const char *const vrt_chr_type_names[] = { "pty", "file", "unix", NULL };
const char *const vrt_chr_device_names[] = { "serial", "console", "channel", NULL };
const char *const vrt_graphics_type_names[] = { "vnc", "spice", NULL };
const char *const vrt_clock_offset_names[] = { "utc", "localtime", NULL };

int
vrt_enum_from_string(const char *const *table, const char *str)
{
    if (!str)
        return -1;
    for (int i = 0; table[i]; i++) {
        if (g_str_equal(table[i], str))
            return i;
    }
    return -1;
}

const char *
vrt_domain_lifecycle_action_to_string(VrtDomainLifecycleAction action)
{
    return vrt_lifecycle_names[action];
}
