/*
 * Checks libvirt 9.0 makes on a whole domain definition after parsing it,
 * which no single element's parser can make: the same host device given
 * twice, an xHCI controller with more ports than QEMU gives it, a USB1
 * companion controller without its master, a shared disk in a format
 * that cannot be shared. Each refusal has libvirt's error code and words,
 * so a definition libvirtd refuses is refused here the same way.
 */
#include "conf/domain/domain_conf.h"
#include "conf/domain/domain_pci_topology.h"
#include "conf/domain/domain_priv.h"
#include "util/error.h"

#include <string.h>

#define XHCI_MAX_PORTS 15

static bool
check_hostdevs(const VrtDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->hostdevs->len; i++) {
        const VrtDomainHostdevDef *a = def->hostdevs->pdata[i];
        for (guint j = i + 1; j < def->hostdevs->len; j++) {
            const VrtDomainHostdevDef *b = def->hostdevs->pdata[j];
            if (memcmp(&a->source, &b->source, sizeof(a->source)) == 0) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "Hostdev already exists in the domain configuration");
                return false;
            }
        }
    }
    return true;
}

static bool
check_usb_controllers(const VrtDomainDef *def, GError **error)
{
    bool companion = false, master = false;

    for (guint i = 0; i < def->controllers->len; i++) {
        const VrtDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type != VRT_DOMAIN_CONTROLLER_USB)
            continue;
        if (c->model && (g_str_equal(c->model, "qemu-xhci") || g_str_equal(c->model, "nec-xhci")) &&
            c->ports > XHCI_MAX_PORTS) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "'%s' controller only supports up to '%u' ports", c->model,
                          XHCI_MAX_PORTS);
            return false;
        }
        if (c->master_startport >= 0)
            companion = true;
        else
            master = true;
    }
    if (companion && !master) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL, "No master USB controller specified");
        return false;
    }
    return true;
}

/* A network disk's <auth>: only protocols that log in take one, and its
 * secret's type is the one the protocol reads (iscsi, ceph). */
static bool
check_net_auth(const VrtDiskNetSource *src, GError **error)
{
    static const char *const usages[] = { "none", "volume", "ceph", "iscsi", "tls", "vtpm", NULL };
    const char *type = src->auth_secret_type;

    if (!src->auth_username)
        return true;
    if (src->protocol == VRT_DISK_NET_NBD || src->protocol == VRT_DISK_NET_GLUSTER) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "authentication is not supported for protocol '%s'",
                      vrt_disk_net_protocol_names[src->protocol]);
        return false;
    }
    if (!type || !g_strv_contains(usages, type)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown secret type '%s'", type ? type : "<null>");
        return false;
    }
    if ((src->protocol == VRT_DISK_NET_ISCSI && !g_str_equal(type, "iscsi")) ||
        (src->protocol == VRT_DISK_NET_RBD && !g_str_equal(type, "ceph"))) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "invalid secret type '%s'", type);
        return false;
    }
    return true;
}

/* virtio-blk's own <driver> settings on a disk of another bus, refused
 * with libvirt's words */
static bool
check_disk_not_virtio(const VrtDomainDiskDef *d, GError **error)
{
    const char *what = d->tuning.queues      ? "queues attribute in disk driver element is only supported by virtio-blk"
                       : d->tuning.event_idx ? "disk event_idx mode supported only for virtio bus"
                       : d->tuning.ioeventfd ? "disk ioeventfd mode supported only for virtio bus"
                                             : NULL;

    if (what) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", what);
        return false;
    }
    return vrt_virtio_options_check_absent(&d->tuning.virtio, error);
}

static bool
check_disks(const VrtDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const VrtDomainDiskDef *d = def->disks->pdata[i];
        if (d->net && !check_net_auth(d->net, error))
            return false;
        if (d->shareable && d->format == VRT_DOMAIN_DISK_FORMAT_QCOW2) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "shared access for disk '%s' requires use of supported storage format", d->target_dev);
            return false;
        }
        if (d->bus != VRT_DOMAIN_DISK_BUS_VIRTIO && !check_disk_not_virtio(d, error))
            return false;
    }
    return true;
}

/* A 'none' video stands for "no video at all", so it must be alone. */
static bool
check_videos(const VrtDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->videos->len && def->videos->len > 1; i++) {
        const VrtDomainVideoDef *v = def->videos->pdata[i];
        if (v->model && g_str_equal(v->model, "none")) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                          "a 'none' video type must be the only video device defined for the domain");
            return false;
        }
    }
    return true;
}

/* Spice's audio backend plays through a spice client (libvirt's QEMU
 * validation). */
static bool
check_audios(const VrtDomainDef *def, GError **error)
{
    bool spice = false;

    for (guint i = 0; i < def->graphics->len; i++)
        spice = spice || ((const VrtDomainGraphicsDef *)def->graphics->pdata[i])->type == VRT_DOMAIN_GRAPHICS_SPICE;
    for (guint i = 0; i < def->audios->len; i++) {
        const VrtDomainAudioDef *a = def->audios->pdata[i];
        if (g_str_equal(a->type, "spice") && !spice) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                          "Spice audio is not supported without spice graphics");
            return false;
        }
    }
    return true;
}

/* What the machine must offer the firmware and the IOMMU, checked when
 * the definition is made, as libvirt's QEMU validation does. */
static bool
check_platform(const VrtDomainDef *def, GError **error)
{
    bool acpi = def->features & VRT_DOMAIN_FEATURE_ACPI;
    bool efi = (def->os.fw.firmware && g_str_equal(def->os.fw.firmware, "efi")) ||
               vrt_domain_os_firmware_is_pflash_ro(&def->os.fw);

    if (efi && !acpi) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "UEFI requires ACPI on this architecture");
        return false;
    }
    if (def->iommu && !vrt_domain_def_is_q35(def)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "IOMMU device: 'intel' is only supported with Q35 machines");
        return false;
    }
    return true;
}

bool
vrt_domain_def_validate(const VrtDomainDef *def, GError **error)
{
    return check_hostdevs(def, error) && check_usb_controllers(def, error) && check_disks(def, error) &&
           check_videos(def, error) && check_audios(def, error) && check_platform(def, error) &&
           vrt_validate_misc_devices(def, error) && vrt_validate_usb_devices(def, error) &&
           vrt_validate_os_secure(def, error) && vrt_pci_topology_validate(def, error) &&
           vrt_validate_graphics_audio(def, error) && vrt_subsys_hostdevs_validate(def, error);
}
