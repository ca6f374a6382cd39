/*
 * The character device backends vrtd reads and writes but does not start
 * (vc, pipe, spicevmc, spiceport, qemu-vdagent, dbus), a chardev's <log>,
 * and a channel's guestfwd target (<target type='guestfwd' address= port=>),
 * as libvirt 9.0 reads and writes them. The QEMU driver refuses each at
 * start by name (qemu_command.c's build_chardev): SPICE is not started, a
 * vc needs a display window, a pipe and a log file would be opened by a
 * confined QEMU, and guestfwd needs QEMU's user network.
 */
#include <arpa/inet.h>

#include "conf/domain/domain_priv.h"
#include "util/error.h"

static const char *const mouse_mode_names[] = { "default", "server", "client", NULL };

static bool
missing(xmlNodePtr node, const char *name, GError **error)
{
    vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute '%s' in element '%s'", name,
                  (const char *)node->name);
    return false;
}

/* qemu-vdagent's <source><clipboard copypaste=/><mouse mode=/></source> */
static bool
parse_vdagent_source(xmlNodePtr src, VrtDomainChrDef *chr, GError **error)
{
    if (!vrt_xml_check_attrs(src, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, src)
    {
        if (vrt_xml_is(c, "clipboard")) {
            VrtTristate t = VRT_TRISTATE_DEFAULT;
            if (!vrt_xml_check_attrs(c, error, "copypaste", NULL))
                return false;
            if (!xmlHasProp(c, (const xmlChar *)"copypaste"))
                return missing(c, "copypaste", error);
            if (!vrt_xml_prop_tristate(c, "copypaste", false, &t, error))
                return false;
            chr->vdagent_clipboard = chr->vdagent_clipboard ? chr->vdagent_clipboard : t;
        } else if (vrt_xml_is(c, "mouse")) {
            g_autofree char *mode = vrt_xml_prop(c, "mode");
            int v;
            if (!vrt_xml_check_attrs(c, error, "mode", NULL))
                return false;
            if (!mode)
                return missing(c, "mode", error);
            v = vrt_enum_from_string(mouse_mode_names, mode);
            if (v <= 0) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'mode' in element 'mouse': '%s'.",
                              mode);
                return false;
            }
            chr->vdagent_mouse = chr->vdagent_mouse ? chr->vdagent_mouse : v;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    return true;
}

int
vrt_parse_chr_child_extra(xmlNodePtr c, VrtDomainChrDef *chr, guint *n_sources, guint *n_logs, GError **error)
{
    if (vrt_xml_is(c, "log")) {
        if (++*n_logs > 1) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "only one log element is allowed for character device");
            return -1;
        }
        if (!vrt_xml_check_attrs(c, error, "file", "append", NULL) ||
            !vrt_xml_prop_tristate(c, "append", true, &chr->log_append, error))
            return -1;
        chr->log_file = vrt_xml_prop(c, "file");
        return 1;
    }
    if (!vrt_xml_is(c, "source"))
        return 0;
    switch (chr->type) {
    case VRT_DOMAIN_CHR_TYPE_VC:
    case VRT_DOMAIN_CHR_TYPE_SPICEVMC:
    case VRT_DOMAIN_CHR_TYPE_SPICEPORT:
    case VRT_DOMAIN_CHR_TYPE_DBUS:
    case VRT_DOMAIN_CHR_TYPE_QEMU_VDAGENT: break;
    default: return 0;
    }
    if (++*n_sources > 1) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "only one source element is allowed for character device");
        return -1;
    }
    if (chr->type == VRT_DOMAIN_CHR_TYPE_QEMU_VDAGENT)
        return parse_vdagent_source(c, chr, error) ? 1 : -1;
    if (chr->type == VRT_DOMAIN_CHR_TYPE_SPICEPORT || chr->type == VRT_DOMAIN_CHR_TYPE_DBUS) {
        if (!vrt_xml_check_attrs(c, error, "channel", NULL))
            return -1;
        chr->channel = vrt_xml_prop(c, "channel");
    } else if (!vrt_xml_check_attrs(c, error, NULL)) {
        /* vc and spicevmc have no source: libvirt ignores it */
        return -1;
    }
    VRT_XML_FOREACH_CHILD(x, c)
    return vrt_xml_unsupported(x, error) ? 1 : -1;
    return 1;
}

bool
vrt_parse_chr_guestfwd_target(xmlNodePtr c, VrtDomainChrDef *chr, GError **error)
{
    g_autofree char *addr = vrt_xml_prop(c, "address");
    struct in_addr in4;
    struct in6_addr in6;
    guint port = 0;

    if (!vrt_xml_check_attrs(c, error, "type", "address", "port", NULL))
        return false;
    if (!addr) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "guestfwd channel does not define a target address");
        return false;
    }
    if (inet_pton(AF_INET, addr, &in4) != 1) {
        if (inet_pton(AF_INET6, addr, &in6) == 1) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "guestfwd channel only supports IPv4 addresses");
            return false;
        }
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Cannot parse socket address '%s': Name or service not known", addr);
        return false;
    }
    if (!vrt_xml_prop_uint_required(c, "port", 65535, &port, error))
        return false;
    g_free(chr->guestfwd_addr);
    chr->guestfwd_addr = g_malloc0(INET_ADDRSTRLEN);
    inet_ntop(AF_INET, &in4, chr->guestfwd_addr, INET_ADDRSTRLEN);
    chr->target_port = (int)port;
    return true;
}

void
vrt_format_chr_extra_source(VrtFmt *f, const VrtDomainChrDef *chr)
{
    g_autofree char *channel = vrt_xml_escape(chr->channel);

    if ((chr->type == VRT_DOMAIN_CHR_TYPE_SPICEPORT || chr->type == VRT_DOMAIN_CHR_TYPE_DBUS) && chr->channel)
        vrt_fmt_line(f, "<source channel='%s'/>", channel);
    if (chr->type == VRT_DOMAIN_CHR_TYPE_QEMU_VDAGENT && (chr->vdagent_clipboard || chr->vdagent_mouse)) {
        vrt_fmt_line(f, "<source>");
        f->indent++;
        if (chr->vdagent_clipboard)
            vrt_fmt_line(f, "<clipboard copypaste='%s'/>", chr->vdagent_clipboard == VRT_TRISTATE_YES ? "yes" : "no");
        if (chr->vdagent_mouse)
            vrt_fmt_line(f, "<mouse mode='%s'/>", mouse_mode_names[chr->vdagent_mouse]);
        f->indent--;
        vrt_fmt_line(f, "</source>");
    }
}

void
vrt_format_chr_log(VrtFmt *f, const VrtDomainChrDef *chr)
{
    g_autoptr(GString) a = g_string_new(NULL);

    if (!chr->log_file)
        return;
    vrt_xml_format_attr(a, "file", chr->log_file);
    if (chr->log_append)
        g_string_append_printf(a, " append='%s'", chr->log_append == VRT_TRISTATE_YES ? "on" : "off");
    vrt_fmt_line(f, "<log%s/>", a->str);
}
