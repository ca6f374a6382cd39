/*
 * The one PCI address type's codecs (see pciaddr.h): the sysfs text form,
 * libvirt's node device names and the XML attribute form. The XML
 * attributes are read by util/xml.c (vrt_xml_parse_pci_addr), which knows
 * libxml2; this file does not.
 */
#include "util/pciaddr.h"

#include <string.h>

#include "util/error.h"

static bool
parse_hex(const char *s, gsize len, guint max, guint *out)
{
    guint v = 0;

    if (len == 0 || len > 4)
        return false;
    for (gsize i = 0; i < len; i++) {
        int d = g_ascii_xdigit_value(s[i]);
        if (d < 0)
            return false;
        v = v * 16 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* Parses "[DDDD<sep>]BB<sep>SS<fsep>F". */
static bool
parse_addr(const char *text, char sep, char fsep, VrtPciAddr *addr)
{
    g_auto(GStrv) parts = NULL;
    const char *dot;
    guint n;
    VrtPciAddr a = { 0 };
    guint i = 0;

    if (!text || !(dot = strrchr(text, fsep)) || dot[1] == '\0' || dot[2] != '\0')
        return false;
    {
        g_autofree char *head = g_strndup(text, dot - text);
        char seps[2] = { sep, '\0' };
        parts = g_strsplit(head, seps, -1);
    }
    n = g_strv_length(parts);
    if (n != 2 && n != 3)
        return false;
    if (n == 3 && !parse_hex(parts[i++], strlen(parts[0]), VRT_PCI_MAX_DOMAIN, &a.domain))
        return false;
    if (!parse_hex(parts[i], strlen(parts[i]), VRT_PCI_MAX_BUS, &a.bus) ||
        !parse_hex(parts[i + 1], strlen(parts[i + 1]), VRT_PCI_MAX_SLOT, &a.slot) ||
        !parse_hex(dot + 1, 1, VRT_PCI_MAX_FUNCTION, &a.function))
        return false;
    *addr = a;
    return true;
}

bool
vrt_pci_addr_parse(const char *text, VrtPciAddr *addr, GError **error)
{
    if (!parse_addr(text, ':', '.', addr)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid PCI address '%s'", text ? text : "");
        return false;
    }
    return true;
}

bool
vrt_pci_addr_parse_nodedev_name(const char *name, VrtPciAddr *addr)
{
    /* pci_DDDD_BB_SS_F: the domain is always present in node device names */
    if (!name || !g_str_has_prefix(name, "pci_") || strlen(name) != strlen("pci_0000_00_00_0"))
        return false;
    return parse_addr(name + 4, '_', '_', addr);
}

char *
vrt_pci_addr_format(const VrtPciAddr *addr)
{
    return g_strdup_printf("%04x:%02x:%02x.%x", addr->domain, addr->bus, addr->slot, addr->function);
}

const char *
vrt_pci_addr_format_buf(const VrtPciAddr *addr, char out[VRT_PCI_ADDR_STRING_LEN])
{
    /* Fields past their maximum (never parsed so) are cut, not overrun. */
    g_snprintf(out, VRT_PCI_ADDR_STRING_LEN, "%04x:%02x:%02x.%x", addr->domain, addr->bus, addr->slot, addr->function);
    return out;
}

char *
vrt_pci_addr_nodedev_name(const VrtPciAddr *addr)
{
    return g_strdup_printf("pci_%04x_%02x_%02x_%x", addr->domain, addr->bus, addr->slot, addr->function);
}

void
vrt_pci_addr_format_attrs(GString *out, const VrtPciAddr *addr)
{
    g_string_append_printf(out, " domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'", addr->domain, addr->bus,
                           addr->slot, addr->function);
}

bool
vrt_pci_addr_equal(const VrtPciAddr *a, const VrtPciAddr *b)
{
    return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot && a->function == b->function;
}
