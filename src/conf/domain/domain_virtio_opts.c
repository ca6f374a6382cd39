/*
 * The virtio options of a device's <driver> element (iommu, ats, packed,
 * page_per_vq, each on/off), shared by the virtio input, balloon, RNG and
 * video devices: read, refused where the device is not virtio (libvirt's
 * texts), and written in libvirt's attribute order. The QEMU driver sets
 * them as the device's iommu_platform, ats, packed and page-per-vq.
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

bool
vrt_parse_virtio_options(xmlNodePtr driver, VrtVirtioOptions *opts, GError **error)
{
    if (opts->iommu || opts->ats || opts->packed || opts->page_per_vq)
        return vrt_xml_unsupported(driver, error);
    return vrt_xml_check_attrs(driver, error, "iommu", "ats", "packed", "page_per_vq", NULL) &&
           vrt_xml_prop_tristate(driver, "iommu", true, &opts->iommu, error) &&
           vrt_xml_prop_tristate(driver, "ats", true, &opts->ats, error) &&
           vrt_xml_prop_tristate(driver, "packed", true, &opts->packed, error) &&
           vrt_xml_prop_tristate(driver, "page_per_vq", true, &opts->page_per_vq, error);
}

bool
vrt_virtio_options_absent(const VrtVirtioOptions *opts, GError **error)
{
    const char *what = opts->iommu         ? "iommu driver option is only supported for virtio devices"
                       : opts->ats         ? "ats driver option is only supported for virtio devices"
                       : opts->packed      ? "packed driver option is only supported for virtio devices"
                       : opts->page_per_vq ? "page_per_vq option is only supported for virtio devices"
                                           : NULL;

    if (what) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", what);
        return false;
    }
    return true;
}

static void
append(GString *attrs, const char *name, VrtTristate t)
{
    if (t)
        g_string_append_printf(attrs, " %s='%s'", name, t == VRT_TRISTATE_YES ? "on" : "off");
}

bool
vrt_format_virtio_options(GString *attrs, const VrtVirtioOptions *opts)
{
    gsize len = attrs->len;

    append(attrs, "iommu", opts->iommu);
    append(attrs, "ats", opts->ats);
    append(attrs, "packed", opts->packed);
    append(attrs, "page_per_vq", opts->page_per_vq);
    return attrs->len > len;
}
