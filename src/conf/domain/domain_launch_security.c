/*
 * <launchSecurity type='sev'>: AMD SEV's memory encryption of a guest,
 * read with libvirt's element names and written back as libvirt writes
 * it (kernelHashes, cbitpos, reducedPhysBits, policy as four hex digits,
 * dhCert, session). vrt keeps the definition but this host has no SEV
 * (no /dev/sev, QEMU runs TCG), so the QEMU driver refuses a start by
 * name rather than starting a guest without the encryption it asked for.
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

#include <string.h>

void
vrt_domain_launch_security_free(VrtDomainLaunchSecurity *sec)
{
    if (!sec)
        return;
    g_free(sec->dh_cert);
    g_free(sec->session);
    g_free(sec);
}

static bool
parse_uint(xmlNodePtr node, int base, guint *out, GError **error)
{
    g_autofree char *s = g_strstrip(vrt_xml_text(node));
    guint64 v;

    if (base == 16 && (g_str_has_prefix(s, "0x") || g_str_has_prefix(s, "0X")))
        memmove(s, s + 2, strlen(s + 2) + 1);
    if (!*s || !g_ascii_string_to_unsigned(s, base, 0, G_MAXUINT32, &v, NULL)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "failed to get launch security %s", (const char *)node->name);
        return false;
    }
    *out = (guint)v;
    return true;
}

bool
vrt_parse_launch_security(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    g_autoptr(VrtDomainLaunchSecurity) sec = g_new0(VrtDomainLaunchSecurity, 1);
    g_autofree char *type = vrt_xml_prop(node, "type");
    bool have_policy = false;

    if (!vrt_xml_check_attrs(node, error, "type", "kernelHashes", NULL) ||
        !vrt_xml_prop_tristate(node, "kernelHashes", false, &sec->kernel_hashes, error))
        return false;
    if (!type) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing launch security type");
        return false;
    }
    if (!g_str_equal(type, "sev")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "value '%s' of attribute 'type' of <launchSecurity> (line %ld) is not supported", type,
                      xmlGetLineNo(node));
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!vrt_xml_check_attrs(c, error, NULL))
            return false;
        if (vrt_xml_is(c, "cbitpos")) {
            if (!parse_uint(c, 10, &sec->cbitpos, error))
                return false;
            sec->have_cbitpos = true;
        } else if (vrt_xml_is(c, "reducedPhysBits")) {
            if (!parse_uint(c, 10, &sec->reduced_phys_bits, error))
                return false;
            sec->have_reduced_phys_bits = true;
        } else if (vrt_xml_is(c, "policy")) {
            if (!parse_uint(c, 16, &sec->policy, error))
                return false;
            have_policy = true;
        } else if (vrt_xml_is(c, "dhCert") || vrt_xml_is(c, "session")) {
            char **slot = vrt_xml_is(c, "dhCert") ? &sec->dh_cert : &sec->session;

            g_free(*slot);
            *slot = g_strstrip(vrt_xml_text(c));
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    if (!have_policy) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "failed to get launch security policy");
        return false;
    }
    vrt_domain_launch_security_free(def->launch_security);
    def->launch_security = g_steal_pointer(&sec);
    return true;
}

void
vrt_format_launch_security(VrtFmt *f, const VrtDomainDef *def)
{
    const VrtDomainLaunchSecurity *sec = def->launch_security;
    g_autofree char *cert = NULL;
    g_autofree char *session = NULL;

    if (!sec)
        return;
    if (sec->kernel_hashes != VRT_TRISTATE_DEFAULT)
        vrt_fmt_line(f, "<launchSecurity type='sev' kernelHashes='%s'>",
                     sec->kernel_hashes == VRT_TRISTATE_YES ? "yes" : "no");
    else
        vrt_fmt_line(f, "<launchSecurity type='sev'>");
    f->indent++;
    if (sec->have_cbitpos)
        vrt_fmt_line(f, "<cbitpos>%u</cbitpos>", sec->cbitpos);
    if (sec->have_reduced_phys_bits)
        vrt_fmt_line(f, "<reducedPhysBits>%u</reducedPhysBits>", sec->reduced_phys_bits);
    vrt_fmt_line(f, "<policy>0x%04x</policy>", sec->policy);
    cert = vrt_xml_escape(sec->dh_cert);
    session = vrt_xml_escape(sec->session);
    if (cert)
        vrt_fmt_line(f, "<dhCert>%s</dhCert>", cert);
    if (session)
        vrt_fmt_line(f, "<session>%s</session>", session);
    f->indent--;
    vrt_fmt_line(f, "</launchSecurity>");
}
