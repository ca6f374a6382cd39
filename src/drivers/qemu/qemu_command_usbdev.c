/*
 * The USB devices from outside the guest (a USB <hostdev>, <redirdev>) at
 * start: vrt does not give a host's /dev/bus/usb node to QEMU's confined
 * user nor run SPICE's usbredir channel or a usb-redir chardev, so a start
 * with one is refused naming the device, rather than the guest starting
 * without it. The definitions themselves are kept (domain_usbdev.c).
 */
#include "drivers/qemu/qemu_command.h"

#include "util/error.h"

bool
vrt_qemu_command_usbdev_refuse(const VrtDomainDef *def, GError **error)
{
    if (def->usb_hostdevs && def->usb_hostdevs->len > 0) {
        const VrtDomainUsbHostdevDef *h = def->usb_hostdevs->pdata[0];
        g_autofree char *what = h->vendor ? g_strdup_printf("vendor 0x%.4x product 0x%.4x", h->vendor, h->product)
                                          : g_strdup_printf("bus %u device %u", h->bus, h->device);

        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "USB host device '%s' (%s) is not supported: vrt does not pass host USB devices to QEMU",
                      h->info.alias ? h->info.alias : "hostdev", what);
        return false;
    }
    if (def->redirdevs && def->redirdevs->len > 0) {
        const VrtDomainRedirdevDef *r = def->redirdevs->pdata[0];

        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "redirected USB device '%s' (type '%s') is not supported: vrt runs no usb-redir device",
                      r->info.alias ? r->info.alias : "redirdev", vrt_redirdev_type_names[r->type]);
        return false;
    }
    return true;
}
