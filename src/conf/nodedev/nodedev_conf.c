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
    [VRT_NODEDEV_CAP_STORAGE] = "storage",
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
    g_free(def->devnode);
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
    g_strfreev(def->net.features);
    g_free(def->storage.block);
    g_free(def->storage.bus);
    g_free(def->storage.drive_type);
    g_free(def->storage.model);
    g_free(def->storage.vendor);
    g_free(def->storage.serial);
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

/* A PCIe link speed as libvirt names the generations (GT/s) */
static void
pcie_speed(GString *out, guint speed)
{
    static const char *const names[] = { NULL, "2.5", "5", "8", "16", "32", "64" };
    if (speed > 0 && speed < G_N_ELEMENTS(names))
        g_string_append_printf(out, " speed='%s'", names[speed]);
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
    if (def->pci.hdr_type == 1 || def->pci.hdr_type == 2)
        g_string_append_printf(out, "    <capability type='%s'/>\n",
                               def->pci.hdr_type == 1 ? "pci-bridge" : "cardbus-bridge");
    if (def->pci.iommu_group >= 0 && def->pci.iommu_addrs->len > 0) {
        g_string_append_printf(out, "    <iommuGroup number='%d'>\n", def->pci.iommu_group);
        for (guint i = 0; i < def->pci.iommu_addrs->len; i++)
            addr_elem(out, 6, &g_array_index(def->pci.iommu_addrs, VrtPciAddr, i));
        g_string_append(out, "    </iommuGroup>\n");
    }
    if (def->pci.numa_node >= 0)
        g_string_append_printf(out, "    <numa node='%d'/>\n", def->pci.numa_node);
    if (def->pci.pcie && !def->pci.pcie_link) {
        g_string_append(out, "    <pci-express/>\n");
    } else if (def->pci.pcie) {
        g_string_append(out, "    <pci-express>\n");
        g_string_append_printf(out, "      <link validity='cap' port='%u'", def->pci.link_cap_port);
        pcie_speed(out, def->pci.link_cap_speed);
        g_string_append_printf(out, " width='%u'/>\n      <link validity='sta'", def->pci.link_cap_width);
        pcie_speed(out, def->pci.link_sta_speed);
        g_string_append_printf(out, " width='%u'/>\n    </pci-express>\n", def->pci.link_sta_width);
    }
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
    for (guint i = 0; def->net.features && def->net.features[i]; i++)
        g_string_append_printf(out, "    <feature name='%s'/>\n", def->net.features[i]);
    g_string_append(out, "    <capability type='80203'/>\n");
}

/* libvirt's storage capability of a disk (no removable media) */
static void
format_storage(GString *out, const VrtNodedevDef *def)
{
    elem(out, 4, "block", def->storage.block);
    elem(out, 4, "bus", def->storage.bus);
    elem(out, 4, "drive_type", def->storage.drive_type);
    elem(out, 4, "model", def->storage.model);
    elem(out, 4, "vendor", def->storage.vendor);
    elem(out, 4, "serial", def->storage.serial);
    g_string_append_printf(out, "    <size>%" G_GUINT64_FORMAT "</size>\n", def->storage.size);
    if (def->storage.logical_block_size)
        g_string_append_printf(out, "    <logical_block_size>%" G_GUINT64_FORMAT "</logical_block_size>\n",
                               def->storage.logical_block_size);
    if (def->storage.num_blocks)
        g_string_append_printf(out, "    <num_blocks>%" G_GUINT64_FORMAT "</num_blocks>\n", def->storage.num_blocks);
}

char *
vrt_nodedev_def_format(const VrtNodedevDef *def)
{
    GString *out = g_string_new("<device>\n");

    elem(out, 2, "name", def->name);
    elem(out, 2, "path", def->path);
    if (def->devnode) {
        g_autofree char *esc = vrt_xml_escape(def->devnode);
        g_string_append_printf(out, "  <devnode type='dev'>%s</devnode>\n", esc);
    }
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
    case VRT_NODEDEV_CAP_STORAGE: format_storage(out, def); break;
    }
    g_string_append(out, "  </capability>\n</device>\n");
    return g_string_free(out, FALSE);
}
