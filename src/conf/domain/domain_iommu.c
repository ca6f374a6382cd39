/*
 * The guest's <iommu model='intel'> (QEMU's intel-iommu on a q35
 * machine) with its <driver> options: read with libvirt's checks and
 * written back in libvirt's attribute order. Interrupt remapping needs
 * the split I/O APIC (<features><ioapic driver='qemu'/>): checked once the
 * whole definition is read (domain_features.c).
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

void
vrt_domain_iommu_free(VrtDomainIommuDef *iommu)
{
    g_free(iommu);
}

bool
vrt_parse_iommu(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    g_autofree char *model = vrt_xml_prop(node, "model");
    g_autofree VrtDomainIommuDef *iommu = g_new0(VrtDomainIommuDef, 1);

    if (!vrt_xml_check_attrs(node, error, "model", NULL))
        return false;
    if (def->iommu) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "only a single IOMMU device is supported");
        return false;
    }
    if (!model) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Missing required attribute 'model' in element 'iommu'");
        return false;
    }
    if (!g_str_equal(model, "intel")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "IOMMU model '%s' is not supported", model);
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!vrt_xml_is(c, "driver"))
            return vrt_xml_unsupported(c, error);
        if (!vrt_xml_check_attrs(c, error, "intremap", "caching_mode", "eim", "iotlb", "aw_bits", NULL) ||
            !vrt_xml_prop_tristate(c, "intremap", true, &iommu->intremap, error) ||
            !vrt_xml_prop_tristate(c, "caching_mode", true, &iommu->caching_mode, error) ||
            !vrt_xml_prop_tristate(c, "eim", true, &iommu->eim, error) ||
            !vrt_xml_prop_tristate(c, "iotlb", true, &iommu->iotlb, error) ||
            !vrt_xml_prop_uint(c, "aw_bits", 64, &iommu->aw_bits, NULL, error))
            return false;
    }
    def->iommu = g_steal_pointer(&iommu);
    return true;
}

static void
onoff(GString *attrs, const char *name, VrtTristate v)
{
    if (v != VRT_TRISTATE_DEFAULT)
        g_string_append_printf(attrs, " %s='%s'", name, v == VRT_TRISTATE_YES ? "on" : "off");
}

void
vrt_format_iommu(VrtFmt *f, const VrtDomainIommuDef *iommu)
{
    g_autoptr(GString) attrs = g_string_new(NULL);

    if (!iommu)
        return;
    onoff(attrs, "intremap", iommu->intremap);
    onoff(attrs, "caching_mode", iommu->caching_mode);
    onoff(attrs, "eim", iommu->eim);
    onoff(attrs, "iotlb", iommu->iotlb);
    if (iommu->aw_bits)
        g_string_append_printf(attrs, " aw_bits='%u'", iommu->aw_bits);
    if (!attrs->len) {
        vrt_fmt_line(f, "<iommu model='intel'/>");
        return;
    }
    vrt_fmt_line(f, "<iommu model='intel'>");
    f->indent++;
    vrt_fmt_line(f, "<driver%s/>", attrs->str);
    f->indent--;
    vrt_fmt_line(f, "</iommu>");
}
