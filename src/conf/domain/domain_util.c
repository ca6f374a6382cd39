/*
 * Small helpers of the domain XML layer: the q35 test and the enum <->
 * string tables shared by parser and formatter.
 */
#include "conf/domain/domain_conf.h"
#include "conf/domain/domain_priv.h"

#include <stdio.h>
#include <string.h>

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
    "user", "network", "bridge", "ethernet", "hostdev", "server", "client", "mcast", "udp", NULL,
};
const char *const vrt_virt_type_names[] = { "qemu", "kvm", NULL };
const char *const vrt_disk_bus_names[] = { "virtio", "sata", "scsi", "ide", "fdc", "usb", "sd", NULL };
const char *const vrt_disk_device_names[] = { "disk", "cdrom", "floppy", NULL };
const char *const vrt_disk_type_names[] = { "file", "block", "volume", "network", NULL };
const char *const vrt_disk_format_names[] = { "", "raw", "qcow2", NULL };
const char *const vrt_cpu_mode_names[] = {
    "", "host-passthrough", "host-model", "maximum", "custom", NULL,
};
const char *const vrt_boot_dev_names[] = { "hd", "cdrom", "network", "fd", NULL };
const char *const vrt_controller_type_names[] = {
    "pci", "usb", "scsi", "sata", "ide", "virtio-serial", "fdc", "ccid", NULL,
};
const char *const vrt_chr_type_names[] = { "pty",       "file",         "unix", "tcp",  "udp",
                                           "null",      "stdio",        "vc",   "pipe", "spicevmc",
                                           "spiceport", "qemu-vdagent", "dbus", "dev",  NULL };
const char *const vrt_chr_device_names[] = { "serial", "console", "channel", "parallel", NULL };
const char *const vrt_graphics_type_names[] = { "vnc", "spice", "sdl", "egl-headless", "dbus", NULL };
const char *const vrt_clock_offset_names[] = { "utc", "localtime", "variable", "timezone", "absolute", NULL };

const char *
vrt_domain_lifecycle_action_to_string(VrtDomainLifecycleAction action)
{
    return vrt_lifecycle_names[action];
}

bool
vrt_alias_visible(const char *alias, guint flags)
{
    if (!alias)
        return false;
    if (g_str_has_prefix(alias, "ua-"))
        return true;
    return !(flags & VRT_DOMAIN_XML_INACTIVE);
}
