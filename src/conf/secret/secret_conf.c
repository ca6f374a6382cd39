/*
 * Secret XML parser and formatter (see secret_conf.h). Unknown elements are
 * ignored as libvirt does without VIR_SECRET_DEFINE_VALIDATE; the errors
 * and the formatted document are libvirt's, so virsh prints the same.
 */
#include "conf/secret/secret_conf.h"

#include <string.h>

#include "util/error.h"
#include "util/uuid.h"
#include "util/xml.h"

static const char *const usage_names[] = { "none", "volume", "ceph", "iscsi", "tls", "vtpm", NULL };
/* The child element holding each usage type's identifier. */
static const char *const usage_elems[] = { NULL, "volume", "name", "target", "name", "name" };
static const char *const usage_missing[] = {
    NULL,
    "volume usage specified, but volume path is missing",
    "Ceph usage specified, but name is missing",
    "iSCSI usage specified, but target is missing",
    "TLS usage specified, but name is missing",
    "vTPM usage specified, but name is missing",
};

const char *
vrt_secret_usage_to_string(VrtSecretUsage usage)
{
    return usage < VRT_SECRET_USAGE_LAST ? usage_names[usage] : "none";
}

void
vrt_secret_def_free(VrtSecretDef *def)
{
    if (!def)
        return;
    g_free(def->description);
    g_free(def->usage_id);
    g_free(def);
}

/* libvirt's virStringParseYesNo: exactly "yes" or "no". */
static bool
parse_yes_no(xmlNodePtr root, const char *attr, bool *out, GError **error)
{
    g_autofree char *v = vrt_xml_prop(root, attr);
    if (!v)
        return true;
    if (g_str_equal(v, "yes"))
        *out = true;
    else if (g_str_equal(v, "no"))
        *out = false;
    else {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid value of '%s'", attr);
        return false;
    }
    return true;
}

static xmlNodePtr
first_child(xmlNodePtr parent, const char *name)
{
    VRT_XML_FOREACH_CHILD(c, parent)
    {
        if (vrt_xml_is(c, name))
            return c;
    }
    return NULL;
}

static bool
parse_usage(xmlNodePtr usage, VrtSecretDef *def, GError **error)
{
    g_autofree char *type = vrt_xml_prop(usage, "type");
    if (!type) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "unknown secret usage type");
        return false;
    }
    int t = vrt_enum_from_string(usage_names, type);
    if (t < 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown secret usage type %s", type);
        return false;
    }
    def->usage = t;
    if (t == VRT_SECRET_USAGE_NONE)
        return true;
    xmlNodePtr id = first_child(usage, usage_elems[t]);
    if (!id) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", usage_missing[t]);
        return false;
    }
    def->usage_id = vrt_xml_text(id);
    return true;
}

VrtSecretDef *
vrt_secret_def_parse(const char *xml, GError **error)
{
    xmlDocPtr doc = vrt_xml_read(xml, "(definition_of_secret)", "secret", NULL, error);
    if (!doc)
        return NULL;
    g_autoptr(VrtSecretDef) def = g_new0(VrtSecretDef, 1);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    bool ok = parse_yes_no(root, "ephemeral", &def->ephemeral, error) &&
              parse_yes_no(root, "private", &def->isprivate, error);
    if (ok) {
        xmlNodePtr u = first_child(root, "uuid");
        if (!u)
            vrt_uuid_generate(def->uuid);
        else {
            g_autofree char *text = vrt_xml_text(u);
            if (!vrt_uuid_parse(text, def->uuid)) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "malformed uuid element");
                ok = false;
            }
        }
    }
    if (ok) {
        xmlNodePtr d = first_child(root, "description");
        if (d)
            def->description = vrt_xml_text(d);
        xmlNodePtr usage = first_child(root, "usage");
        if (usage)
            ok = parse_usage(usage, def, error);
    }
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}

static void
element(GString *out, const char *indent, const char *name, const char *text)
{
    g_autofree char *esc = vrt_xml_escape(text);
    g_string_append_printf(out, "%s<%s>%s</%s>\n", indent, name, esc, name);
}

char *
vrt_secret_def_format(const VrtSecretDef *def)
{
    GString *out = g_string_new(NULL);
    char uuid[VRT_UUID_STRING_LEN];
    vrt_uuid_format(def->uuid, uuid);
    g_string_append_printf(out, "<secret ephemeral='%s' private='%s'>\n", def->ephemeral ? "yes" : "no",
                           def->isprivate ? "yes" : "no");
    element(out, "  ", "uuid", uuid);
    if (def->description)
        element(out, "  ", "description", def->description);
    if (def->usage != VRT_SECRET_USAGE_NONE && def->usage < VRT_SECRET_USAGE_LAST) {
        g_string_append_printf(out, "  <usage type='%s'>\n", usage_names[def->usage]);
        element(out, "    ", usage_elems[def->usage], def->usage_id ? def->usage_id : "");
        g_string_append(out, "  </usage>\n");
    }
    g_string_append(out, "</secret>\n");
    return g_string_free(out, false);
}
