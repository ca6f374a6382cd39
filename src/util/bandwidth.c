/*
 * <bandwidth> of every XML family (see bandwidth.h): libvirt reads average,
 * peak, burst and floor of <inbound> and <outbound> as unsigned decimal
 * numbers, wants an average or a floor, refuses peak or burst without an
 * average, a floor where the context has none and on <outbound>, a second
 * <inbound> or <outbound>, and ignores other children. It writes a
 * direction only when it has an average or a floor, attributes in the
 * order average, peak, floor, burst.
 */
#include "util/bandwidth.h"
#include "util/error.h"
#include "util/xml.h"

#include <errno.h>
#include <string.h>

static bool
parse_value(xmlNodePtr node, const char *attr, guint64 *out, GError **error)
{
    g_autofree char *text = vrt_xml_prop(node, attr);
    char *end = NULL;
    guint64 v;

    if (!text)
        return true;
    errno = 0;
    v = g_ascii_strtoull(text, &end, 10);
    if (errno || end == text || *end || strchr(text, '-')) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "could not convert bandwidth %s value '%s'", attr, text);
        return false;
    }
    *out = v;
    return true;
}

static bool
parse_rate(xmlNodePtr node, VrtBandwidthRate *rate, GError **error)
{
    g_autofree char *avg = vrt_xml_prop(node, "average");
    g_autofree char *floor = vrt_xml_prop(node, "floor");
    g_autofree char *peak = vrt_xml_prop(node, "peak");
    g_autofree char *burst = vrt_xml_prop(node, "burst");

    if (!avg && !floor) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL, "%s", "Missing mandatory average or floor attributes");
        return false;
    }
    if (!parse_value(node, "average", &rate->average, error))
        return false;
    if ((peak || burst) && !avg) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "'peak' and 'burst' require 'average' attribute");
        return false;
    }
    if (!parse_value(node, "peak", &rate->peak, error) || !parse_value(node, "burst", &rate->burst, error) ||
        !parse_value(node, "floor", &rate->floor, error))
        return false;
    /* A rate of 0 without floor limits nothing: libvirt writes no element
     * for it, so it is not kept (its output would not parse back the same). */
    rate->present = rate->average || rate->floor;
    return true;
}

bool
vrt_bandwidth_parse(xmlNodePtr node, bool allow_floor, guint *class_id, VrtBandwidth *bw, GError **error)
{
    g_autofree char *cls = vrt_xml_prop(node, "classID");
    xmlNodePtr in = NULL, out = NULL;

    memset(bw, 0, sizeof(*bw));
    if (cls && !class_id) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL, "%s",
                      "classID attribute not supported on <bandwidth> in this usage context");
        return false;
    }
    if (cls) {
        guint64 v = 0;
        if (!g_ascii_string_to_unsigned(cls, 10, 0, G_MAXUINT, &v, NULL)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Unable to parse class id '%s'", cls);
            return false;
        }
        *class_id = (guint)v;
    }
    for (xmlNodePtr c = node->children; c; c = c->next) {
        bool is_in;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        is_in = vrt_xml_is(c, "inbound");
        if (!is_in && !vrt_xml_is(c, "outbound"))
            continue; /* libvirt ignores other children */
        if ((is_in && in) || (!is_in && out)) {
            vrt_error_set(error, VIR_ERR_XML_DETAIL, "Only one child <%s> element allowed",
                          is_in ? "inbound" : "outbound");
            return false;
        }
        if (is_in)
            in = c;
        else
            out = c;
    }
    if (in) {
        if (!parse_rate(in, &bw->in, error))
            return false;
        if (bw->in.floor && !allow_floor) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "floor attribute is not supported for this config");
            return false;
        }
    }
    if (out) {
        if (!parse_rate(out, &bw->out, error))
            return false;
        if (bw->out.floor) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                          "'floor' attribute allowed only in <inbound> element");
            return false;
        }
    }
    return true;
}

static void
format_rate(GString *out, const char *elem, const VrtBandwidthRate *r, guint indent)
{
    if (!r->present || (!r->average && !r->floor))
        return;
    g_string_append_printf(out, "%*s<%s", (int)indent, "", elem);
    if (r->average)
        g_string_append_printf(out, " average='%" G_GUINT64_FORMAT "'", r->average);
    if (r->peak)
        g_string_append_printf(out, " peak='%" G_GUINT64_FORMAT "'", r->peak);
    if (r->floor)
        g_string_append_printf(out, " floor='%" G_GUINT64_FORMAT "'", r->floor);
    if (r->burst)
        g_string_append_printf(out, " burst='%" G_GUINT64_FORMAT "'", r->burst);
    g_string_append(out, "/>\n");
}

void
vrt_bandwidth_format(GString *out, const VrtBandwidth *bw, guint indent)
{
    if (!vrt_bandwidth_is_set(bw))
        return;
    g_string_append_printf(out, "%*s<bandwidth>\n", (int)indent, "");
    format_rate(out, "inbound", &bw->in, indent + 2);
    format_rate(out, "outbound", &bw->out, indent + 2);
    g_string_append_printf(out, "%*s</bandwidth>\n", (int)indent, "");
}
