/*
 * Reading and writing the firmware part of <os> (domain_os.h): the
 * firmware= attribute, <loader> and <nvram>, with libvirt's checks and
 * error texts and in libvirt's attribute order. Which image a domain with
 * firmware='efi' boots is decided by the QEMU driver at start from QEMU's
 * firmware descriptors (qemu_firmware.c); this file only keeps what the
 * XML says. <loader stateless='yes'> is a firmware without a variable
 * store; <firmware><feature> asks the automatic selection for (or
 * against) Secure Boot and pre-enrolled keys; <nvram type='file'> is the
 * same local store written the new way.
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

static bool
detail(GError **error, const char *msg)
{
    vrt_error_set(error, VIR_ERR_XML_DETAIL, "%s", msg);
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

    if (!vrt_xml_check_attrs(node, error, "readonly", "secure", "type", "stateless", NULL) ||
        !vrt_xml_prop_tristate(node, "readonly", false, &fw->readonly, error) ||
        !vrt_xml_prop_tristate(node, "secure", false, &fw->secure, error) ||
        !vrt_xml_prop_tristate(node, "stateless", false, &fw->stateless, error))
        return false;
    if (type && vrt_enum_from_string(loader_type_names, type) < 0)
        return bad_value(node, "type", type, error);
    path = g_strstrip(vrt_xml_text(node));
    g_free(fw->type);
    fw->type = g_steal_pointer(&type);
    g_free(fw->path);
    fw->path = *path ? g_steal_pointer(&path) : NULL;
    /* libvirt's default for a loader given by path */
    if (fw->path && !fw->type && !fw->firmware)
        fw->type = g_strdup("rom");
    return true;
}

/* <firmware><feature enabled='yes|no' name='enrolled-keys|secure-boot'/> */
bool
vrt_parse_os_firmware_features(xmlNodePtr node, VrtDomainOsFirmwareDef *fw, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        g_autofree char *name = NULL;
        VrtTristate en = VRT_TRISTATE_DEFAULT;

        if (!vrt_xml_is(c, "feature"))
            return vrt_xml_unsupported(c, error);
        if (!vrt_xml_check_attrs(c, error, "enabled", "name", NULL) ||
            !vrt_xml_prop_tristate(c, "enabled", false, &en, error))
            return false;
        name = vrt_xml_prop(c, "name");
        if (en == VRT_TRISTATE_DEFAULT) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'enabled' in element 'feature'");
            return false;
        }
        if (!name) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'name' in element 'feature'");
            return false;
        }
        if (g_str_equal(name, "enrolled-keys"))
            fw->feature_enrolled_keys = en;
        else if (g_str_equal(name, "secure-boot"))
            fw->feature_secure_boot = en;
        else
            return bad_value(c, "name", name, error);
    }
    /* as libvirt: enrolled keys imply Secure Boot, and say so */
    if (fw->feature_enrolled_keys == VRT_TRISTATE_YES) {
        if (fw->feature_secure_boot == VRT_TRISTATE_NO)
            return detail(error, "firmware feature 'enrolled-keys' cannot be enabled when firmware feature "
                                 "'secure-boot' is disabled");
        fw->feature_secure_boot = VRT_TRISTATE_YES;
    }
    return true;
}

bool
vrt_parse_os_nvram(xmlNodePtr node, VrtDomainOsFirmwareDef *fw, GError **error)
{
    g_autofree char *path = NULL;
    g_autofree char *type = vrt_xml_prop(node, "type");
    xmlNodePtr src = vrt_xml_next_element(node->children);

    if (!vrt_xml_check_attrs(node, error, "template", "type", NULL))
        return false;
    g_free(fw->nvram_template);
    fw->nvram_template = vrt_xml_prop(node, "template");
    fw->nvram_source_file = false;
    if (type) {
        /* the store as a storage source: a local file is the same store
         * as the text form; network stores are not supported */
        if (!g_str_equal(type, "file")) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "value '%s' of attribute 'type' of <nvram> (line %ld) is not supported", type,
                          xmlGetLineNo(node));
            return false;
        }
        if (!src || !vrt_xml_is(src, "source") || vrt_xml_next_element(src->next))
            return vrt_xml_unsupported(src ? src : node, error);
        if (!vrt_xml_check_attrs(src, error, "file", NULL))
            return false;
        path = vrt_xml_prop(src, "file");
        if (!path) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing file path for NVRAM source");
            return false;
        }
        g_free(fw->nvram);
        fw->nvram = g_steal_pointer(&path);
        fw->nvram_source_file = true;
        return true;
    }
    if (src)
        return vrt_xml_unsupported(src, error);
    path = g_strstrip(vrt_xml_text(node));
    g_free(fw->nvram);
    fw->nvram = *path ? g_steal_pointer(&path) : NULL;
    return true;
}

/* libvirt's checks of the whole (virDomainDefOSValidate). Secure boot
 * needs SMM, which vrt does not give a domain: refused, named. */
bool
vrt_validate_os_firmware(const VrtDomainOsFirmwareDef *fw, bool have_loader, GError **error)
{
    if (!fw->firmware && (fw->feature_secure_boot || fw->feature_enrolled_keys))
        return detail(error, "cannot use feature-based firmware autoselection when firmware autoselection is disabled");
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
    if (fw->stateless == VRT_TRISTATE_YES) {
        if (fw->nvram_template)
            return detail(error, "NVRAM template is not permitted when loader is stateless");
        if (fw->nvram)
            return detail(error, "NVRAM is not permitted when loader is stateless");
    } else if (fw->stateless == VRT_TRISTATE_NO) {
        if (!fw->firmware && g_strcmp0(fw->type, "pflash") != 0)
            return detail(error, "Only pflash loader type permits NVRAM");
        if (fw->firmware && !g_str_equal(fw->firmware, "efi"))
            return detail(error, "Only EFI firmware permits NVRAM");
    }
    return true;
}

/* libvirt's QEMU checks of Secure Boot (qemuValidateDomainDefBoot): a
 * q35 x86_64 machine, and SMM on when the loader is given by path (the
 * automatic selection turns SMM on itself at start). */
bool
vrt_validate_os_secure(const VrtDomainDef *def, GError **error)
{
    if (def->os.fw.secure != VRT_TRISTATE_YES)
        return true;
    if (!vrt_domain_def_is_q35(def)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "Secure boot is supported with q35 machine types only");
        return false;
    }
    if (def->os.arch && !g_str_equal(def->os.arch, "x86_64")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "Secure boot is supported for x86_64 architecture only");
        return false;
    }
    if (!def->os.fw.firmware && (!def->feat || def->feat->smm != VRT_TRISTATE_YES)) {
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

static void
format_feature(VrtFmt *f, VrtTristate v, const char *name)
{
    if (v != VRT_TRISTATE_DEFAULT)
        vrt_fmt_line(f, "<feature enabled='%s' name='%s'/>", v == VRT_TRISTATE_YES ? "yes" : "no", name);
}

/* <firmware>, <loader> then <nvram>, each only when it says something, as
 * libvirt */
void
vrt_format_os_loader(VrtFmt *f, const VrtDomainOsFirmwareDef *fw)
{
    g_autoptr(GString) attrs = g_string_new(NULL);
    g_autofree char *path = vrt_xml_escape(fw->path);
    g_autofree char *nvram = vrt_xml_escape(fw->nvram);

    if (fw->feature_enrolled_keys || fw->feature_secure_boot) {
        vrt_fmt_line(f, "<firmware>");
        f->indent++;
        format_feature(f, fw->feature_enrolled_keys, "enrolled-keys");
        format_feature(f, fw->feature_secure_boot, "secure-boot");
        f->indent--;
        vrt_fmt_line(f, "</firmware>");
    }
    if (fw->readonly != VRT_TRISTATE_DEFAULT)
        g_string_append_printf(attrs, " readonly='%s'", fw->readonly == VRT_TRISTATE_YES ? "yes" : "no");
    if (fw->secure != VRT_TRISTATE_DEFAULT)
        g_string_append_printf(attrs, " secure='%s'", fw->secure == VRT_TRISTATE_YES ? "yes" : "no");
    if (fw->type)
        g_string_append_printf(attrs, " type='%s'", fw->type);
    if (fw->stateless != VRT_TRISTATE_DEFAULT)
        g_string_append_printf(attrs, " stateless='%s'", fw->stateless == VRT_TRISTATE_YES ? "yes" : "no");
    if (path)
        vrt_fmt_line(f, "<loader%s>%s</loader>", attrs->str, path);
    else if (attrs->len)
        vrt_fmt_line(f, "<loader%s/>", attrs->str);

    g_string_truncate(attrs, 0);
    vrt_xml_format_attr(attrs, "template", fw->nvram_template);
    if (nvram && fw->nvram_source_file) {
        vrt_fmt_line(f, "<nvram%s type='file'>", attrs->str);
        f->indent++;
        vrt_fmt_line(f, "<source file='%s'/>", nvram);
        f->indent--;
        vrt_fmt_line(f, "</nvram>");
    } else if (nvram)
        vrt_fmt_line(f, "<nvram%s>%s</nvram>", attrs->str, nvram);
    else if (attrs->len)
        vrt_fmt_line(f, "<nvram%s/>", attrs->str);
}
