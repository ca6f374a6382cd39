/*
 * Formatting of libvirt's node device XML from a VrtNodedevDef, in the
 * element order nodedev.rng requires.
 */
#include "conf/nodedev/nodedev_conf.h"

#include <string.h>

#include "util/xml.h"

static const char *const cap_names[] = {
    [VRT_NODEDEV_CAP_SYSTEM] = "system",
    [VRT_NODEDEV_CAP_PCI] = "pci",
    [VRT_NODEDEV_CAP_NET] = "net",
};

const char *
vrt_nodedev_cap_type_to_string(VrtNodedevCapType type)
{
    return (guint)type < G_N_ELEMENTS(cap_names) ? cap_names[type] : "unknown";
}

VrtNodedevDef *
vrt_nodedev_def_new(VrtNodedevCapType type)
{
    VrtNodedevDef *def = g_new0(VrtNodedevDef, 1);

    def->type = type;
    def->pci.klass = G_MAXUINT;
    def->pci.iommu_group = -1;
    def->pci.numa_node = -1;
    def->pci.vfs = g_array_new(FALSE, FALSE, sizeof(VrtPciAddr));
    def->pci.iommu_addrs = g_array_new(FALSE, FALSE, sizeof(VrtPciAddr));
    return def;
}

void
vrt_nodedev_def_free(VrtNodedevDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->path);
    g_free(def->parent);
    g_free(def->driver);
    g_free(def->system.product);
    g_free(def->system.hw_vendor);
    g_free(def->system.hw_version);
    g_free(def->system.hw_serial);
    g_free(def->system.hw_uuid);
    g_free(def->system.fw_vendor);
    g_free(def->system.fw_version);
    g_free(def->system.fw_date);
    g_free(def->pci.vendor_name);
    g_free(def->pci.product_name);
    g_array_unref(def->pci.vfs);
    g_array_unref(def->pci.iommu_addrs);
    g_free(def->net.ifname);
    g_free(def->net.mac);
    g_free(def->net.link_state);
    g_free(def);
}

/* Appends <name>text</name> (escaped) at the given indent, or nothing
 * for NULL text. */
static void
elem(GString *out, int indent, const char *name, const char *text)
{
    g_autofree char *esc = NULL;

    if (!text)
        return;
    esc = vrt_xml_escape(text);
    g_string_append_printf(out, "%*s<%s>%s</%s>\n", indent, "", name, esc, name);
}

static void
addr_elem(GString *out, int indent, const VrtPciAddr *a)
{
    g_string_append_printf(out, "%*s<address", indent, "");
    vrt_pci_addr_format_attrs(out, a);
    g_string_append(out, "/>\n");
}

static void
id_elem(GString *out, const char *name, guint id, const char *text)
{
    g_autofree char *esc = vrt_xml_escape(text);

    if (esc && *esc)
        g_string_append_printf(out, "    <%s id='0x%04x'>%s</%s>\n", name, id, esc, name);
    else
        g_string_append_printf(out, "    <%s id='0x%04x'/>\n", name, id);
}

static void
format_system(GString *out, const VrtNodedevDef *def)
{
    elem(out, 4, "product", def->system.product);
    g_string_append(out, "    <hardware>\n");
    elem(out, 6, "vendor", def->system.hw_vendor);
    elem(out, 6, "version", def->system.hw_version);
    elem(out, 6, "serial", def->system.hw_serial);
    elem(out, 6, "uuid", def->system.hw_uuid ? def->system.hw_uuid : "00000000-0000-0000-0000-000000000000");
    g_string_append(out, "    </hardware>\n    <firmware>\n");
    elem(out, 6, "vendor", def->system.fw_vendor);
    elem(out, 6, "version", def->system.fw_version);
    elem(out, 6, "release_date", def->system.fw_date);
    g_string_append(out, "    </firmware>\n");
}

static void
format_pci(GString *out, const VrtNodedevDef *def)
{
    const VrtPciAddr *a = &def->pci.addr;

    if (def->pci.klass != G_MAXUINT)
        g_string_append_printf(out, "    <class>0x%06x</class>\n", def->pci.klass & 0xffffff);
    g_string_append_printf(out,
                           "    <domain>%u</domain>\n    <bus>%u</bus>\n    <slot>%u</slot>\n"
                           "    <function>%u</function>\n",
                           a->domain, a->bus, a->slot, a->function);
    id_elem(out, "product", def->pci.product_id, def->pci.product_name);
    id_elem(out, "vendor", def->pci.vendor_id, def->pci.vendor_name);
    if (def->pci.is_vf) {
        g_string_append(out, "    <capability type='phys_function'>\n");
        addr_elem(out, 6, &def->pci.pf);
        g_string_append(out, "    </capability>\n");
    }
    if (def->pci.is_pf) {
        g_string_append_printf(out, "    <capability type='virt_functions' maxCount='%u'", def->pci.max_vfs);
        if (def->pci.vfs->len == 0) {
            g_string_append(out, "/>\n");
        } else {
            g_string_append(out, ">\n");
            for (guint i = 0; i < def->pci.vfs->len; i++)
                addr_elem(out, 6, &g_array_index(def->pci.vfs, VrtPciAddr, i));
            g_string_append(out, "    </capability>\n");
        }
    }
    if (def->pci.iommu_group >= 0 && def->pci.iommu_addrs->len > 0) {
        g_string_append_printf(out, "    <iommuGroup number='%d'>\n", def->pci.iommu_group);
        for (guint i = 0; i < def->pci.iommu_addrs->len; i++)
            addr_elem(out, 6, &g_array_index(def->pci.iommu_addrs, VrtPciAddr, i));
        g_string_append(out, "    </iommuGroup>\n");
    }
    if (def->pci.numa_node >= 0)
        g_string_append_printf(out, "    <numa node='%d'/>\n", def->pci.numa_node);
}

static void
format_net(GString *out, const VrtNodedevDef *def)
{
    elem(out, 4, "interface", def->net.ifname);
    elem(out, 4, "address", def->net.mac);
    if (def->net.link_state || def->net.speed) {
        g_string_append(out, "    <link");
        if (def->net.speed)
            g_string_append_printf(out, " speed='%u'", def->net.speed);
        if (def->net.link_state)
            g_string_append_printf(out, " state='%s'", def->net.link_state);
        g_string_append(out, "/>\n");
    }
    g_string_append(out, "    <capability type='80203'/>\n");
}

char *
vrt_nodedev_def_format(const VrtNodedevDef *def)
{
    GString *out = g_string_new("<device>\n");

    elem(out, 2, "name", def->name);
    elem(out, 2, "path", def->path);
    elem(out, 2, "parent", def->parent);
    if (def->driver) {
        g_string_append(out, "  <driver>\n");
        elem(out, 4, "name", def->driver);
        g_string_append(out, "  </driver>\n");
    }
    g_string_append_printf(out, "  <capability type='%s'>\n", vrt_nodedev_cap_type_to_string(def->type));
    switch (def->type) {
    case VRT_NODEDEV_CAP_SYSTEM: format_system(out, def); break;
    case VRT_NODEDEV_CAP_PCI: format_pci(out, def); break;
    case VRT_NODEDEV_CAP_NET: format_net(out, def); break;
    }
    g_string_append(out, "  </capability>\n</device>\n");
    return g_string_free(out, FALSE);
}
