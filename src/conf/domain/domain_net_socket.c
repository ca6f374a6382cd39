/*
 * The socket interfaces' <source> and a PCI device's <rom>, read with
 * libvirt's checks and written back as libvirt writes them (see
 * domain_net_socket.h). Kept out of domain_parse_dev.c so the interface
 * and host device parsers only call in here.
 */
#include "conf/domain/domain_net_socket.h"

#include "util/error.h"
#include "util/xml.h"

static bool
prop_required(xmlNodePtr node, const char *name, char **out, GError **error)
{
    g_autofree char *v = vrt_xml_prop(node, name);

    if (!v) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute '%s' in element '%s'", name,
                      (const char *)node->name);
        return false;
    }
    g_free(*out);
    *out = g_steal_pointer(&v);
    return true;
}

/* libvirt's virXMLPropInt, base 10, required */
static bool
prop_int_required(xmlNodePtr node, const char *name, int *out, GError **error)
{
    g_autofree char *v = NULL;
    gint64 n;

    if (!prop_required(node, name, &v, error))
        return false;
    if (!g_ascii_string_to_signed(v, 10, G_MININT, G_MAXINT, &n, NULL)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element '%s': '%s'.", name,
                      (const char *)node->name, v);
        return false;
    }
    *out = (int)n;
    return true;
}

bool
vrt_net_socket_source_parse(xmlNodePtr source, const char *type_name, bool udp, VrtNetSocketSource *s, GError **error)
{
    bool server = g_str_equal(type_name, "server");
    xmlNodePtr local = NULL;

    if (!source) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "interface type='%s' requires a 'source' element", type_name);
        return false;
    }
    if (!vrt_xml_check_attrs(source, error, "address", "port", NULL))
        return false;
    if (server) {
        g_free(s->address);
        s->address = vrt_xml_prop(source, "address");
    } else if (!prop_required(source, "address", &s->address, error)) {
        return false;
    }
    if (!prop_int_required(source, "port", &s->port, error))
        return false;
    VRT_XML_FOREACH_CHILD(c, source)
    {
        if (!udp || !vrt_xml_is(c, "local"))
            return vrt_xml_unsupported(c, error);
        local = c;
    }
    if (!udp)
        return true;
    if (!local) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "'<local>' element missing for 'udp' socket interface");
        return false;
    }
    return vrt_xml_check_attrs(local, error, "address", "port", NULL) &&
           prop_required(local, "address", &s->local_address, error) &&
           prop_int_required(local, "port", &s->local_port, error);
}

void
vrt_net_socket_source_format(GString *buf, guint indent, const VrtNetSocketSource *s, bool udp)
{
    g_autoptr(GString) a = g_string_new(NULL);

    vrt_xml_format_attr(a, "address", s->address);
    g_string_append_printf(a, " port='%d'", s->port);
    if (!udp) {
        vrt_xml_line(buf, indent, "<source%s/>", a->str);
        return;
    }
    vrt_xml_line(buf, indent, "<source%s>", a->str);
    g_string_truncate(a, 0);
    vrt_xml_format_attr(a, "address", s->local_address);
    vrt_xml_line(buf, indent + 1, "<local%s port='%d'/>", a->str, s->local_port);
    vrt_xml_line(buf, indent, "</source>");
}

void
vrt_net_socket_source_clear(VrtNetSocketSource *s)
{
    g_clear_pointer(&s->address, g_free);
    g_clear_pointer(&s->local_address, g_free);
}

bool
vrt_device_rom_parse(xmlNodePtr rom, VrtDeviceRom *r, GError **error)
{
    if (!vrt_xml_check_attrs(rom, error, "enabled", "bar", "file", NULL) ||
        !vrt_xml_prop_tristate(rom, "enabled", false, &r->enabled, error) ||
        !vrt_xml_prop_tristate(rom, "bar", true, &r->bar, error))
        return false;
    g_free(r->file);
    r->file = vrt_xml_prop(rom, "file");
    if (r->enabled == VRT_TRISTATE_NO && (r->bar != VRT_TRISTATE_DEFAULT || r->file)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "ROM tuning is not supported when ROM is disabled");
        return false;
    }
    return true;
}

bool
vrt_device_rom_present(const VrtDeviceRom *r)
{
    return r->enabled != VRT_TRISTATE_DEFAULT || r->bar != VRT_TRISTATE_DEFAULT || r->file;
}

void
vrt_device_rom_format(GString *buf, guint indent, const VrtDeviceRom *r)
{
    g_autoptr(GString) a = g_string_new(NULL);

    if (!vrt_device_rom_present(r))
        return;
    if (r->enabled != VRT_TRISTATE_DEFAULT)
        g_string_append_printf(a, " enabled='%s'", r->enabled == VRT_TRISTATE_YES ? "yes" : "no");
    if (r->bar != VRT_TRISTATE_DEFAULT)
        g_string_append_printf(a, " bar='%s'", r->bar == VRT_TRISTATE_YES ? "on" : "off");
    vrt_xml_format_attr(a, "file", r->file);
    vrt_xml_line(buf, indent, "<rom%s/>", a->str);
}

void
vrt_device_rom_clear(VrtDeviceRom *r)
{
    g_clear_pointer(&r->file, g_free);
}
