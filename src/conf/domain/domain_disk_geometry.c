/*
 * A disk's BIOS geometry and block sizes (see domain_disk_geometry.h),
 * kept out of the main disk parser.
 */
#include "conf/domain/domain_disk_geometry.h"

#include "util/error.h"
#include "util/xml.h"

static const char *const trans_names[] = { "default", "none", "auto", "lba", NULL };

/* libvirt reads these numbers in base 10 only: "0x200" is refused */
static bool
prop_uint10(xmlNodePtr node, const char *name, guint *out, GError **error)
{
    g_autofree char *raw = vrt_xml_prop(node, name);
    guint64 v;

    if (!raw)
        return true;
    if (!g_ascii_string_to_unsigned(raw, 10, 0, G_MAXUINT, &v, NULL)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "Invalid value for attribute '%s' in element '%s': '%s'. Expected non-negative integer value",
                      name, (const char *)node->name, raw);
        return false;
    }
    *out = (guint)v;
    return true;
}

int
vrt_disk_geometry_parse_child(xmlNodePtr child, VrtDiskGeometry *g, GError **error)
{
    if (vrt_xml_is(child, "geometry")) {
        g_autofree char *trans = NULL;
        int t;

        if (!vrt_xml_check_attrs(child, error, "cyls", "heads", "secs", "trans", NULL) ||
            !prop_uint10(child, "cyls", &g->cyls, error) || !prop_uint10(child, "heads", &g->heads, error) ||
            !prop_uint10(child, "secs", &g->secs, error))
            return -1;
        trans = vrt_xml_prop(child, "trans");
        if (trans) {
            /* "default" is the absence of the attribute, refused as written */
            t = vrt_enum_from_string(trans_names, trans);
            if (t <= 0) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element '%s': '%s'.",
                              "trans", "geometry", trans);
                return -1;
            }
            g->trans = t;
        }
        return 1;
    }
    if (vrt_xml_is(child, "blockio")) {
        if (!vrt_xml_check_attrs(child, error, "logical_block_size", "physical_block_size", NULL) ||
            !prop_uint10(child, "logical_block_size", &g->logical_block_size, error) ||
            !prop_uint10(child, "physical_block_size", &g->physical_block_size, error))
            return -1;
        return 1;
    }
    return 0;
}

bool
vrt_disk_geometry_validate(const VrtDiskGeometry *g, const char *bus, GError **error)
{
    /* as libvirt's qemu_validate.c: checked only for a full geometry,
     * the only one libvirt writes back */
    if (!g->cyls || !g->heads || !g->secs)
        return true;
    if (g_str_equal(bus, "usb") || g_str_equal(bus, "sd")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "CHS geometry can not be set for '%s' bus", bus);
        return false;
    }
    if (g->trans != VRT_DISK_TRANS_DEFAULT && !g_str_equal(bus, "ide")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "CHS translation mode can only be set for 'ide' bus not '%s'",
                      bus);
        return false;
    }
    return true;
}

void
vrt_disk_geometry_format(GString *buf, guint indent, const VrtDiskGeometry *g)
{
    /* libvirt writes the geometry only when all three numbers are set */
    if (g->cyls && g->heads && g->secs) {
        g_autofree char *trans = g->trans ? g_strdup_printf(" trans='%s'", trans_names[g->trans]) : g_strdup("");

        vrt_xml_line(buf, indent, "<geometry cyls='%u' heads='%u' secs='%u'%s/>", g->cyls, g->heads, g->secs, trans);
    }
    if (g->logical_block_size || g->physical_block_size) {
        g_autoptr(GString) attrs = g_string_new(NULL);

        if (g->logical_block_size)
            g_string_append_printf(attrs, " logical_block_size='%u'", g->logical_block_size);
        if (g->physical_block_size)
            g_string_append_printf(attrs, " physical_block_size='%u'", g->physical_block_size);
        vrt_xml_line(buf, indent, "<blockio%s/>", attrs->str);
    }
}

const char *
vrt_disk_geometry_trans_name(const VrtDiskGeometry *g)
{
    return g->trans ? trans_names[g->trans] : NULL;
}
