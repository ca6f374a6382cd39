/*
 * <sysinfo type='smbios'> (bios, system, baseBoard, chassis, oemStrings)
 * and <sysinfo type='fwcfg'> (named firmware config entries), read with
 * libvirt 9's checks and errors and written back as libvirt writes them:
 * the entries libvirt knows for each section, in its order, empty ones
 * left out as libvirt's XPath reads leave them. The system uuid must be
 * the domain's (or becomes it when the domain has none), as in libvirt.
 * The QEMU driver passes a smbios sysinfo as -smbios tables when
 * <os><smbios mode='sysinfo'/> asks for it, and fwcfg entries as -fw_cfg
 * (qemu_command.c).
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"
#include "util/uuid.h"

#include <string.h>

/* the entries of each smbios section libvirt reads, in its order */
const char *const vrt_sysinfo_bios_keys[] = { "vendor", "version", "date", "release", NULL };
const char *const vrt_sysinfo_system_keys[] = { "manufacturer", "product", "version", "serial",
                                                "uuid",         "sku",     "family",  NULL };
const char *const vrt_sysinfo_board_keys[] = {
    "manufacturer", "product", "version", "serial", "asset", "location", NULL
};
const char *const vrt_sysinfo_chassis_keys[] = { "manufacturer", "version", "serial", "asset", "sku", NULL };

static const char *const smbios_mode_names[] = { "emulate", "host", "sysinfo", NULL };

void
vrt_domain_sysinfo_free(VrtDomainSysinfoDef *s)
{
    if (!s)
        return;
    g_strfreev(s->bios);
    g_strfreev(s->system);
    g_strfreev(s->chassis);
    if (s->boards)
        g_ptr_array_unref(s->boards);
    g_strfreev(s->oem);
    g_strfreev(s->fw_names);
    g_strfreev(s->fw_values);
    g_strfreev(s->fw_files);
    g_free(s);
}

/* The text of the first <entry name='key'> of section, NULL when there is
 * none or it is empty (libvirt's virXPathString). */
static char *
entry_text(xmlNodePtr section, const char *key)
{
    VRT_XML_FOREACH_CHILD(e, section)
    {
        g_autofree char *name = NULL;
        char *text;

        if (!vrt_xml_is(e, "entry"))
            continue;
        name = vrt_xml_prop(e, "name");
        if (g_strcmp0(name, key) != 0)
            continue;
        text = vrt_xml_text(e);
        if (!*text) {
            g_free(text);
            return NULL;
        }
        return text;
    }
    return NULL;
}

/* A section's known entries as a table parallel to keys (NULL where
 * absent); NULL when the section has none at all. */
static GStrv
read_section(xmlNodePtr section, const char *const *keys)
{
    guint n = g_strv_length((GStrv)keys);
    GStrv values = g_new0(char *, n + 1);
    bool any = false;

    for (guint i = 0; i < n; i++) {
        values[i] = entry_text(section, keys[i]);
        any |= values[i] != NULL;
    }
    if (any) {
        /* a NULL in the middle would end the vector early: keep a marker */
        for (guint i = 0; i < n; i++)
            if (!values[i])
                values[i] = g_strdup("");
        return values;
    }
    g_strfreev(values);
    return NULL;
}

/* mm/dd/yy or mm/dd/yyyy (from 1900), libvirt's check */
static bool
bios_date_ok(const char *date)
{
    char *end;
    long month, day, year;

    month = strtol(date, &end, 10);
    if (end == date || *end != '/')
        return false;
    date = end + 1;
    day = strtol(date, &end, 10);
    if (end == date || *end != '/')
        return false;
    date = end + 1;
    year = strtol(date, &end, 10);
    if (end == date || *end)
        return false;
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 && year >= 0 && (year < 100 || year >= 1900);
}

static bool
parse_smbios(xmlNodePtr node, VrtDomainSysinfoDef *s, GError **error)
{
    g_autoptr(GPtrArray) oem = g_ptr_array_new_with_free_func(g_free);

    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "bios") && !s->bios_seen) {
            s->bios_seen = true;
            s->bios = read_section(c, vrt_sysinfo_bios_keys);
        } else if (vrt_xml_is(c, "system") && !s->system_seen) {
            s->system_seen = true;
            s->system = read_section(c, vrt_sysinfo_system_keys);
        } else if (vrt_xml_is(c, "chassis") && !s->chassis_seen) {
            s->chassis_seen = true;
            s->chassis = read_section(c, vrt_sysinfo_chassis_keys);
        } else if (vrt_xml_is(c, "baseBoard")) {
            GStrv board = read_section(c, vrt_sysinfo_board_keys);

            if (!board)
                continue;
            if (!s->boards)
                s->boards = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
            g_ptr_array_add(s->boards, board);
        } else if (vrt_xml_is(c, "oemStrings") && !s->oem_seen) {
            s->oem_seen = true;
            VRT_XML_FOREACH_CHILD(e, c)
            if (vrt_xml_is(e, "entry"))
                g_ptr_array_add(oem, vrt_xml_text(e));
        }
    }
    if (oem->len) {
        g_ptr_array_add(oem, NULL);
        s->oem = (GStrv)g_ptr_array_free(g_steal_pointer(&oem), FALSE);
    }
    if (s->bios && *s->bios[2] && !bios_date_ok(s->bios[2])) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL, "Invalid BIOS 'date' format");
        return false;
    }
    if (s->system && *s->system[4]) {
        guint8 uuid[VRT_UUID_LEN];
        char text[VRT_UUID_STRING_LEN];

        if (!vrt_uuid_parse(s->system[4], uuid)) {
            vrt_error_set(error, VIR_ERR_XML_DETAIL, "malformed <sysinfo> uuid element");
            return false;
        }
        vrt_uuid_format(uuid, text);
        g_free(s->system[4]);
        s->system[4] = g_strdup(text);
    }
    return true;
}

static bool
parse_fwcfg(xmlNodePtr node, VrtDomainSysinfoDef *s, GError **error)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);

    VRT_XML_FOREACH_CHILD(e, node)
    {
        g_autofree char *name = NULL;
        g_autofree char *value = NULL;
        g_autofree char *file = NULL;

        if (!vrt_xml_is(e, "entry"))
            continue;
        if (!(name = vrt_xml_prop(e, "name"))) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Firmware entry is missing 'name' attribute");
            return false;
        }
        value = vrt_xml_text(e);
        file = vrt_xml_prop(e, "file");
        if (!*value)
            g_clear_pointer(&value, g_free);
        if (!value && !file) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Firmware entry must have either value or 'file' attribute");
            return false;
        }
        g_ptr_array_add(names, g_steal_pointer(&name));
        g_ptr_array_add(values, g_strdup(value ? value : ""));
        g_ptr_array_add(files, g_strdup(file ? file : ""));
    }
    g_ptr_array_add(names, NULL);
    g_ptr_array_add(values, NULL);
    g_ptr_array_add(files, NULL);
    s->fw_names = (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
    s->fw_values = (GStrv)g_ptr_array_free(g_steal_pointer(&values), FALSE);
    s->fw_files = (GStrv)g_ptr_array_free(g_steal_pointer(&files), FALSE);
    return true;
}

bool
vrt_parse_sysinfo(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainSysinfoDef *s = g_new0(VrtDomainSysinfoDef, 1);
    g_autofree char *type = vrt_xml_prop(node, "type");

    if (!def->sysinfos)
        def->sysinfos = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_sysinfo_free);
    g_ptr_array_add(def->sysinfos, s); /* freed with def on every error path */
    if (!type) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'type' in element 'sysinfo'");
        return false;
    }
    if (g_str_equal(type, "fwcfg")) {
        s->fwcfg = true;
        return parse_fwcfg(node, s, error);
    }
    if (!g_str_equal(type, "smbios")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'type' in element 'sysinfo': '%s'.", type);
        return false;
    }
    return parse_smbios(node, s, error);
}

bool
vrt_parse_os_smbios(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    g_autofree char *mode = vrt_xml_prop(node, "mode");
    int m;

    if (!vrt_xml_check_attrs(node, error, "mode", NULL) || !mode)
        return true;
    if ((m = vrt_enum_from_string(smbios_mode_names, mode)) < 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown smbios mode '%s'", mode);
        return false;
    }
    g_free(def->smbios_mode);
    def->smbios_mode = g_steal_pointer(&mode);
    return true;
}

bool
vrt_domain_sysinfo_post_parse(VrtDomainDef *def, bool *have_uuid, GError **error)
{
    for (guint i = 0; def->sysinfos && i < def->sysinfos->len; i++) {
        const VrtDomainSysinfoDef *s = def->sysinfos->pdata[i];
        guint8 uuid[VRT_UUID_LEN];

        if (!s->system || !*s->system[4] || !vrt_uuid_parse(s->system[4], uuid))
            continue;
        if (!*have_uuid) {
            memcpy(def->uuid, uuid, VRT_UUID_LEN);
            *have_uuid = true;
        } else if (memcmp(def->uuid, uuid, VRT_UUID_LEN) != 0) {
            vrt_error_set(error, VIR_ERR_XML_DETAIL, "UUID mismatch between <uuid> and <sysinfo>");
            return false;
        }
    }
    return true;
}

static void
format_section(VrtFmt *f, const char *tag, const char *const *keys, GStrv values)
{
    if (!values)
        return;
    vrt_fmt_line(f, "<%s>", tag);
    f->indent++;
    for (guint i = 0; keys[i]; i++) {
        g_autofree char *v = NULL;

        if (!*values[i])
            continue;
        v = vrt_xml_escape(values[i]);
        vrt_fmt_line(f, "<entry name='%s'>%s</entry>", keys[i], v);
    }
    f->indent--;
    vrt_fmt_line(f, "</%s>", tag);
}

void
vrt_format_sysinfos(VrtFmt *f, const VrtDomainDef *def)
{
    for (guint i = 0; def->sysinfos && i < def->sysinfos->len; i++) {
        const VrtDomainSysinfoDef *s = def->sysinfos->pdata[i];

        if (s->fwcfg) {
            if (!s->fw_names || !*s->fw_names) {
                vrt_fmt_line(f, "<sysinfo type='fwcfg'/>");
                continue;
            }
            vrt_fmt_line(f, "<sysinfo type='fwcfg'>");
            f->indent++;
            for (guint j = 0; s->fw_names[j]; j++) {
                g_autofree char *name = vrt_xml_escape(s->fw_names[j]);
                g_autofree char *value = vrt_xml_escape(s->fw_values[j]);
                g_autofree char *file = vrt_xml_escape(s->fw_files[j]);

                /* a file wins over a value, as libvirt writes them */
                if (*file)
                    vrt_fmt_line(f, "<entry name='%s' file='%s'/>", name, file);
                else
                    vrt_fmt_line(f, "<entry name='%s'>%s</entry>", name, value);
            }
            f->indent--;
            vrt_fmt_line(f, "</sysinfo>");
            continue;
        }
        if (!s->bios && !s->system && !s->boards && !s->chassis && !s->oem) {
            vrt_fmt_line(f, "<sysinfo type='smbios'/>");
            continue;
        }
        vrt_fmt_line(f, "<sysinfo type='smbios'>");
        f->indent++;
        format_section(f, "bios", vrt_sysinfo_bios_keys, s->bios);
        format_section(f, "system", vrt_sysinfo_system_keys, s->system);
        for (guint j = 0; s->boards && j < s->boards->len; j++)
            format_section(f, "baseBoard", vrt_sysinfo_board_keys, s->boards->pdata[j]);
        format_section(f, "chassis", vrt_sysinfo_chassis_keys, s->chassis);
        if (s->oem) {
            vrt_fmt_line(f, "<oemStrings>");
            f->indent++;
            for (guint j = 0; s->oem[j]; j++) {
                g_autofree char *v = vrt_xml_escape(s->oem[j]);

                vrt_fmt_line(f, "<entry>%s</entry>", v);
            }
            f->indent--;
            vrt_fmt_line(f, "</oemStrings>");
        }
        f->indent--;
        vrt_fmt_line(f, "</sysinfo>");
    }
}
