/*
 * The virtio transport options of a device's <driver> (iommu, ats,
 * packed, page_per_vq), shared by disks, interfaces, filesystems and
 * controllers as libvirt shares them: one reader with libvirt's errors,
 * one writer in libvirt's order, and libvirt's refusal of the options on
 * a device that is not virtio.
 */
#include "conf/domain/domain_virtio.h"

#include "util/error.h"
#include "util/xml.h"

static const char *const onoff[] = { "default", "on", "off", NULL };

bool
vrt_domain_prop_enum_nonzero(xmlNodePtr node, const char *name, const char *const *table, int *out, GError **error)
{
    g_autofree char *s = vrt_xml_prop(node, name);
    int v;

    if (!s)
        return true;
    v = vrt_enum_from_string(table, s);
    if (v <= 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element '%s': '%s'.", name,
                      (const char *)node->name, s);
        return false;
    }
    *out = v;
    return true;
}

bool
vrt_domain_prop_switch(xmlNodePtr node, const char *name, VrtTristate *out, GError **error)
{
    int v = 0;

    if (!vrt_domain_prop_enum_nonzero(node, name, onoff, &v, error))
        return false;
    if (v)
        *out = v == 1 ? VRT_TRISTATE_YES : VRT_TRISTATE_NO;
    return true;
}

bool
vrt_virtio_options_parse(xmlNodePtr driver, VrtVirtioOptions *o, GError **error)
{
    return vrt_domain_prop_switch(driver, "iommu", &o->iommu, error) &&
           vrt_domain_prop_switch(driver, "ats", &o->ats, error) &&
           vrt_domain_prop_switch(driver, "packed", &o->packed, error) &&
           vrt_domain_prop_switch(driver, "page_per_vq", &o->page_per_vq, error);
}

bool
vrt_virtio_options_present(const VrtVirtioOptions *o)
{
    return o->iommu || o->ats || o->packed || o->page_per_vq;
}

bool
vrt_virtio_driver_parse(xmlNodePtr driver, VrtVirtioOptions *o, GError **error)
{
    if (vrt_virtio_options_present(o))
        return vrt_xml_unsupported(driver, error);
    return vrt_xml_check_attrs(driver, error, VRT_VIRTIO_OPTION_ATTRS, NULL) &&
           vrt_virtio_options_parse(driver, o, error);
}

static void
fmt_one(GString *attrs, const char *name, VrtTristate t)
{
    if (t)
        g_string_append_printf(attrs, " %s='%s'", name, t == VRT_TRISTATE_YES ? "on" : "off");
}

void
vrt_virtio_options_format(GString *attrs, const VrtVirtioOptions *o)
{
    fmt_one(attrs, "iommu", o->iommu);
    fmt_one(attrs, "ats", o->ats);
    fmt_one(attrs, "packed", o->packed);
    fmt_one(attrs, "page_per_vq", o->page_per_vq);
}

bool
vrt_virtio_options_check_absent(const VrtVirtioOptions *o, GError **error)
{
    const char *what = o->iommu         ? "iommu driver option is only supported for virtio devices"
                       : o->ats         ? "ats driver option is only supported for virtio devices"
                       : o->packed      ? "packed driver option is only supported for virtio devices"
                       : o->page_per_vq ? "page_per_vq option is only supported for virtio devices"
                                        : NULL;

    if (what) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", what);
        return false;
    }
    return true;
}
