/*
 * libvirt's QEMU namespace of the domain XML: <qemu:commandline> with its
 * <qemu:arg value=> and <qemu:env name= value=> children, arguments and
 * environment the QEMU driver adds to QEMU's as they are (a domain using
 * it is tainted, custom-argv, as libvirt marks it). The namespace is
 * declared on <domain> when the definition has it, as libvirt writes it.
 * <qemu:capabilities>, <qemu:override> and <qemu:deprecation> are refused
 * as not supported.
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

#include <string.h>

bool
vrt_domain_qemu_ns_is(xmlNodePtr node)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns && node->ns->href &&
           g_str_equal((const char *)node->ns->href, VRT_DOMAIN_QEMU_NS);
}

static bool
internal(GError **error, const char *msg)
{
    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", msg);
    return false;
}

bool
vrt_parse_qemu_commandline(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    if (!g_str_equal((const char *)node->name, "commandline"))
        return vrt_xml_unsupported(node, error);
    if (!def->qemu_args) {
        def->qemu_args = g_ptr_array_new_with_free_func(g_free);
        def->qemu_env = g_ptr_array_new_with_free_func(g_free);
    }
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!vrt_domain_qemu_ns_is(c))
            return vrt_xml_unsupported(c, error);
        if (g_str_equal((const char *)c->name, "arg")) {
            char *v = vrt_xml_prop(c, "value");

            if (!v)
                return internal(error, "No qemu command-line argument specified");
            g_ptr_array_add(def->qemu_args, v);
        } else if (g_str_equal((const char *)c->name, "env")) {
            g_autofree char *name = vrt_xml_prop(c, "name");
            g_autofree char *value = vrt_xml_prop(c, "value");

            if (!name)
                return internal(error, "No qemu environment name specified");
            if (!g_ascii_isalpha(name[0]) && name[0] != '_')
                return internal(error, "Invalid environment name, it must begin with a letter or underscore");
            for (const char *p = name; *p; p++)
                if (!g_ascii_isalnum(*p) && *p != '_')
                    return internal(error,
                                    "Invalid environment name, it must contain only alphanumerics and underscore");
            g_ptr_array_add(def->qemu_env, g_steal_pointer(&name));
            g_ptr_array_add(def->qemu_env, value ? g_steal_pointer(&value) : g_strdup(""));
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    return true;
}

bool
vrt_domain_has_qemu_ns(const VrtDomainDef *def)
{
    return def->qemu_args && (def->qemu_args->len || def->qemu_env->len);
}

void
vrt_format_qemu_commandline(VrtFmt *f, const VrtDomainDef *def)
{
    if (!vrt_domain_has_qemu_ns(def))
        return;
    vrt_fmt_line(f, "<qemu:commandline>");
    f->indent++;
    for (guint i = 0; i < def->qemu_args->len; i++) {
        g_autofree char *v = vrt_xml_escape(def->qemu_args->pdata[i]);

        vrt_fmt_line(f, "<qemu:arg value='%s'/>", v);
    }
    for (guint i = 0; i + 1 < def->qemu_env->len; i += 2) {
        g_autofree char *v = vrt_xml_escape(def->qemu_env->pdata[i + 1]);

        vrt_fmt_line(f, "<qemu:env name='%s' value='%s'/>", (const char *)def->qemu_env->pdata[i], v);
    }
    f->indent--;
    vrt_fmt_line(f, "</qemu:commandline>");
}
