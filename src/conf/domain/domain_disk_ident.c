/*
 * A disk's tray state, rotation rate and SCSI/IDE identity (see
 * domain_disk_ident.h), kept out of the main disk parser.
 */
#include "conf/domain/domain_disk_ident.h"

#include "util/error.h"
#include "util/xml.h"

#include <string.h>

bool
vrt_disk_ident_parse_target(xmlNodePtr target, VrtDiskIdent *id, GError **error)
{
    g_autofree char *tray = vrt_xml_prop(target, "tray");

    if (tray) {
        if (!g_str_equal(tray, "open") && !g_str_equal(tray, "closed")) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'tray' in element 'target': '%s'.",
                          tray);
            return false;
        }
        id->tray_open = g_str_equal(tray, "open");
    }
    return vrt_xml_prop_tristate(target, "removable", true, &id->removable, error) &&
           vrt_xml_prop_uint(target, "rotation_rate", G_MAXUINT, &id->rotation_rate, NULL, error);
}

static bool
printable(const char *s)
{
    for (; *s; s++)
        if (!g_ascii_isprint(*s))
            return false;
    return true;
}

int
vrt_disk_ident_parse_child(xmlNodePtr child, VrtDiskIdent *id, GError **error)
{
    char **slot = NULL;

    if (vrt_xml_is(child, "wwn"))
        slot = &id->wwn;
    else if (vrt_xml_is(child, "vendor"))
        slot = &id->vendor;
    else if (vrt_xml_is(child, "product"))
        slot = &id->product;
    else
        return 0;
    if (!vrt_xml_check_attrs(child, error, NULL))
        return -1;
    g_free(*slot);
    *slot = vrt_xml_text(child);
    return 1;
}

bool
vrt_disk_ident_validate(const VrtDiskIdent *id, const char *device, const char *bus, GError **error)
{
    bool scsi = g_str_equal(bus, "scsi");

    if (id->tray_open && !g_str_equal(device, "cdrom") && !g_str_equal(device, "floppy")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "tray is only valid for cdrom and floppy");
        return false;
    }
    if (id->vendor && !printable(id->vendor)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "disk vendor is not printable string");
        return false;
    }
    if (id->vendor && strlen(id->vendor) > 8) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk vendor is more than %d characters", 8);
        return false;
    }
    if (id->product && !printable(id->product)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "disk product is not printable string");
        return false;
    }
    if (id->product && strlen(id->product) > 16) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk product is more than %d characters", 16);
        return false;
    }
    /* libvirt reads removable= on any bus but keeps it only for usb: it
     * would be lost, so it is refused elsewhere */
    if (id->removable && !g_str_equal(bus, "usb")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "removable is only supported for usb disks");
        return false;
    }
    /* the QEMU driver's checks (libvirt's qemu_validate.c) */
    if (id->wwn && !scsi && !g_str_equal(bus, "ide")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "Only ide and scsi disk support wwn");
        return false;
    }
    if ((id->vendor || id->product) && !scsi) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "Only scsi disk supports vendor and product");
        return false;
    }
    if (id->rotation_rate && !scsi && !g_str_equal(bus, "ide") && !g_str_equal(bus, "sata")) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "rotation rate is only valid for SCSI/IDE/SATA bus");
        return false;
    }
    if (id->rotation_rate && !g_str_equal(device, "disk")) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "rotation rate is only valid for disk device");
        return false;
    }
    return true;
}

void
vrt_disk_ident_format_target(GString *attrs, const VrtDiskIdent *id)
{
    if (id->tray_open)
        g_string_append(attrs, " tray='open'");
    if (id->removable)
        g_string_append_printf(attrs, " removable='%s'", id->removable == VRT_TRISTATE_YES ? "on" : "off");
    if (id->rotation_rate)
        g_string_append_printf(attrs, " rotation_rate='%u'", id->rotation_rate);
}

void
vrt_disk_ident_format_children(GString *buf, guint indent, const VrtDiskIdent *id)
{
    const char *const names[] = { "wwn", "vendor", "product" };
    const char *const values[] = { id->wwn, id->vendor, id->product };

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *esc = vrt_xml_escape(values[i]);

        if (esc)
            vrt_xml_line(buf, indent, "<%s>%s</%s>", names[i], esc, names[i]);
    }
}

bool
vrt_disk_ident_wwn_value(const VrtDiskIdent *id, gint64 *out)
{
    const char *p = id->wwn;
    guint64 v;

    if (g_str_has_prefix(p, "0x"))
        p += 2;
    if (!g_ascii_string_to_unsigned(p, 16, 0, G_MAXINT64, &v, NULL))
        return false;
    *out = (gint64)v;
    return true;
}

void
vrt_disk_ident_clear(VrtDiskIdent *id)
{
    g_clear_pointer(&id->wwn, g_free);
    g_clear_pointer(&id->vendor, g_free);
    g_clear_pointer(&id->product, g_free);
}
