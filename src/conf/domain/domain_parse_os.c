/*
 * Reading and writing the firmware part of <os> (domain_os.h): the
 * firmware= attribute, <loader> and <nvram>, with libvirt's checks and
 * error texts and in libvirt's attribute order. Which image a domain with
 * firmware='efi' boots is decided by the QEMU driver at start from QEMU's
 * firmware descriptors (qemu_firmware.c); this file only keeps what the
 * XML says.
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

#include <string.h>

static const char *const firmware_names[] = { "bios", "efi", NULL };
static const char *const loader_type_names[] = { "rom", "pflash", NULL };

bool
vrt_domain_os_firmware_is_pflash_ro(const VrtDomainOsFirmwareDef *fw)
{
    return fw->path && fw->readonly == VRT_TRISTATE_YES && g_strcmp0(fw->type, "pflash") == 0;
}

void
vrt_domain_os_firmware_clear(VrtDomainOsFirmwareDef *fw)
{
    g_free(fw->firmware);
    g_free(fw->path);
    g_free(fw->type);
    g_free(fw->nvram);
    g_free(fw->nvram_template);
    memset(fw, 0, sizeof(*fw));
}

static bool
bad_value(xmlNodePtr node, const char *name, const char *value, GError **error)
{
    vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element '%s': '%s'.", name,
                  (const char *)node->name, value);
    return false;
}

bool
vrt_parse_os_firmware_attr(xmlNodePtr os, VrtDomainOsFirmwareDef *fw, GError **error)
{
    g_autofree char *v = vrt_xml_prop(os, "firmware");

    if (!v)
        return true;
    if (vrt_enum_from_string(firmware_names, v) < 0)
        return bad_value(os, "firmware", v, error);
    g_free(fw->firmware);
    fw->firmware = g_steal_pointer(&v);
    return true;
}

bool
vrt_parse_os_loader(xmlNodePtr node, VrtDomainOsFirmwareDef *fw, GError **error)
{
    g_autofree char *type = vrt_xml_prop(node, "type");
    g_autofree char *path = NULL;

    if (!vrt_xml_check_attrs(node, error, "readonly", "secure", "type", NULL) ||
        !vrt_xml_prop_tristate(node, "readonly", false, &fw->readonly, error) ||
        !vrt_xml_prop_tristate(node, "secure", false, &fw->secure, error))
        return false;
    if (type && vrt_enum_from_string(loader_type_names, type) < 0)
        return bad_value(node, "type", type, error);
    path = g_strstrip(vrt_xml_text(node));
    g_free(fw->type);
    fw->type = g_steal_pointer(&type);
    g_free(fw->path);
    fw->path = *path ? g_steal_pointer(&path) : NULL;
    return true;
}

bool
vrt_parse_os_nvram(xmlNodePtr node, VrtDomainOsFirmwareDef *fw, GError **error)
{
    g_autofree char *path = NULL;

    if (!vrt_xml_check_attrs(node, error, "template", NULL))
        return false;
    if (vrt_xml_next_element(node->children))
        return vrt_xml_unsupported(vrt_xml_next_element(node->children), error); /* network-backed NVRAM */
    g_free(fw->nvram_template);
    fw->nvram_template = vrt_xml_prop(node, "template");
    path = g_strstrip(vrt_xml_text(node));
    g_free(fw->nvram);
    fw->nvram = *path ? g_steal_pointer(&path) : NULL;
    return true;
}

static bool
detail(GError **error, const char *msg)
{
    vrt_error_set(error, VIR_ERR_XML_DETAIL, "%s", msg);
    return false;
}

/* libvirt's checks of the whole (virDomainDefOSValidate). Secure boot
 * needs SMM, which vrt does not give a domain: refused, named. */
bool
vrt_validate_os_firmware(const VrtDomainOsFirmwareDef *fw, bool have_loader, GError **error)
{
    if (fw->firmware) {
        if (fw->readonly != VRT_TRISTATE_DEFAULT)
            return detail(error,
                          "loader attribute 'readonly' cannot be specified when firmware autoselection is enabled");
        if (fw->type)
            return detail(error, "loader attribute 'type' cannot be specified when firmware autoselection is enabled");
        if (fw->path)
            return detail(error, "loader path cannot be specified when firmware autoselection is enabled");
        if (fw->nvram_template)
            return detail(error,
                          "nvram attribute 'template' cannot be specified when firmware autoselection is enabled");
        if (fw->secure == VRT_TRISTATE_NO)
            return detail(error,
                          "loader attribute 'secure' cannot be specified when firmware autoselection is enabled");
        if (fw->nvram && !g_str_equal(fw->firmware, "efi")) {
            vrt_error_set(error, VIR_ERR_XML_DETAIL, "firmware type '%s' does not support nvram", fw->firmware);
            return false;
        }
    } else if (have_loader && !fw->path) {
        return detail(error, "no loader path specified and firmware auto selection disabled");
    }
    if (fw->secure == VRT_TRISTATE_YES) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "Secure boot requires SMM feature enabled");
        return false;
    }
    return true;
}

void
vrt_format_os_firmware_attr(GString *attrs, const VrtDomainOsFirmwareDef *fw)
{
    if (fw->firmware)
        g_string_append_printf(attrs, " firmware='%s'", fw->firmware);
}

/* <loader> then <nvram>, each only when it says something, as libvirt */
void
vrt_format_os_loader(VrtFmt *f, const VrtDomainOsFirmwareDef *fw)
{
    g_autoptr(GString) attrs = g_string_new(NULL);
    g_autofree char *path = vrt_xml_escape(fw->path);
    g_autofree char *nvram = vrt_xml_escape(fw->nvram);

    if (fw->readonly != VRT_TRISTATE_DEFAULT)
        g_string_append_printf(attrs, " readonly='%s'", fw->readonly == VRT_TRISTATE_YES ? "yes" : "no");
    if (fw->secure != VRT_TRISTATE_DEFAULT)
        g_string_append_printf(attrs, " secure='%s'", fw->secure == VRT_TRISTATE_YES ? "yes" : "no");
    if (fw->type)
        g_string_append_printf(attrs, " type='%s'", fw->type);
    if (path)
        vrt_fmt_line(f, "<loader%s>%s</loader>", attrs->str, path);
    else if (attrs->len)
        vrt_fmt_line(f, "<loader%s/>", attrs->str);

    g_string_truncate(attrs, 0);
    vrt_xml_format_attr(attrs, "template", fw->nvram_template);
    if (nvram)
        vrt_fmt_line(f, "<nvram%s>%s</nvram>", attrs->str, nvram);
    else if (attrs->len)
        vrt_fmt_line(f, "<nvram%s/>", attrs->str);
}
