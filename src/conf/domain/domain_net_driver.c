/*
 * A virtio interface's <driver> tuning (domain_net_driver.h): txmode,
 * ioeventfd, event_idx, queue sizes, rss and the <host>/<guest> offload
 * switches, read as libvirt reads them (each an on/off switch whose bad
 * value is an XML error naming the attribute) and written back in
 * libvirt's attribute and element order.
 */
#include "conf/domain/domain_net_driver.h"

#include "util/error.h"
#include "util/xml.h"

const char *const vrt_net_host_offload_names[] = { "csum", "gso", "tso4", "tso6", "ecn", "ufo", "mrg_rxbuf", NULL };
const char *const vrt_net_guest_offload_names[] = { "csum", "tso4", "tso6", "ecn", "ufo", NULL };
static const char *const txmode_names[] = { "default", "iothread", "timer", NULL };

static bool
parse_offloads(xmlNodePtr node, const char *const *names, VrtTristate *out, GError **error)
{
    for (guint i = 0; names[i]; i++)
        if (!vrt_domain_prop_switch(node, names[i], &out[i], error))
            return false;
    return true;
}

static bool
check_offload_attrs(xmlNodePtr node, const char *const *names, GError **error)
{
    for (xmlAttrPtr a = node->properties; a; a = a->next) {
        if (!g_strv_contains(names, (const char *)a->name)) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "attribute '%s' of element <%s> (line %ld) is not supported", (const char *)a->name,
                          (const char *)node->name, xmlGetLineNo(node));
            return false;
        }
    }
    return true;
}

bool
vrt_net_driver_opts_parse(xmlNodePtr driver, VrtNetDriverOpts *o, GError **error)
{
    g_autofree char *tx = vrt_xml_prop(driver, "txmode");

    if (tx) {
        int v = vrt_enum_from_string(txmode_names, tx);

        if (v <= 0) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element '%s': '%s'.", "txmode",
                          "driver", tx);
            return false;
        }
        o->txmode = v;
    }
    if (!vrt_domain_prop_switch(driver, "ioeventfd", &o->ioeventfd, error) ||
        !vrt_domain_prop_switch(driver, "event_idx", &o->event_idx, error) ||
        !vrt_xml_prop_uint(driver, "rx_queue_size", G_MAXUINT, &o->rx_queue_size, NULL, error) ||
        !vrt_xml_prop_uint(driver, "tx_queue_size", G_MAXUINT, &o->tx_queue_size, NULL, error) ||
        !vrt_domain_prop_switch(driver, "rss", &o->rss, error) ||
        !vrt_domain_prop_switch(driver, "rss_hash_report", &o->rss_hash_report, error) ||
        !vrt_virtio_options_parse(driver, &o->virtio, error))
        return false;
    VRT_XML_FOREACH_CHILD(c, driver)
    {
        if (vrt_xml_is(c, "host")) {
            if (!check_offload_attrs(c, vrt_net_host_offload_names, error) ||
                !parse_offloads(c, vrt_net_host_offload_names, o->host, error))
                return false;
        } else if (vrt_xml_is(c, "guest")) {
            if (!check_offload_attrs(c, vrt_net_guest_offload_names, error) ||
                !parse_offloads(c, vrt_net_guest_offload_names, o->guest, error))
                return false;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    return true;
}

bool
vrt_net_driver_opts_present(const VrtNetDriverOpts *o)
{
    for (guint i = 0; i < VRT_NET_HOST_N; i++)
        if (o->host[i])
            return true;
    for (guint i = 0; i < VRT_NET_GUEST_N; i++)
        if (o->guest[i])
            return true;
    return o->txmode || o->ioeventfd || o->event_idx || o->rx_queue_size || o->tx_queue_size || o->rss ||
           o->rss_hash_report;
}

static void
fmt_switch(GString *s, const char *name, VrtTristate t)
{
    if (t)
        g_string_append_printf(s, " %s='%s'", name, t == VRT_TRISTATE_YES ? "on" : "off");
}

void
vrt_net_driver_opts_format_attrs(GString *attrs, const VrtNetDriverOpts *o)
{
    if (o->txmode)
        g_string_append_printf(attrs, " txmode='%s'", txmode_names[o->txmode]);
    fmt_switch(attrs, "ioeventfd", o->ioeventfd);
    fmt_switch(attrs, "event_idx", o->event_idx);
}

void
vrt_net_driver_opts_format_attrs_tail(GString *attrs, const VrtNetDriverOpts *o)
{
    if (o->rx_queue_size)
        g_string_append_printf(attrs, " rx_queue_size='%u'", o->rx_queue_size);
    if (o->tx_queue_size)
        g_string_append_printf(attrs, " tx_queue_size='%u'", o->tx_queue_size);
    fmt_switch(attrs, "rss", o->rss);
    fmt_switch(attrs, "rss_hash_report", o->rss_hash_report);
    vrt_virtio_options_format(attrs, &o->virtio);
}

bool
vrt_net_driver_opts_format_children(GString *buf, const VrtNetDriverOpts *o, int indent)
{
    g_autoptr(GString) host = g_string_new(NULL);
    g_autoptr(GString) guest = g_string_new(NULL);

    for (guint i = 0; i < VRT_NET_HOST_N; i++)
        fmt_switch(host, vrt_net_host_offload_names[i], o->host[i]);
    for (guint i = 0; i < VRT_NET_GUEST_N; i++)
        fmt_switch(guest, vrt_net_guest_offload_names[i], o->guest[i]);
    if (host->len)
        g_string_append_printf(buf, "%*s<host%s/>\n", indent, "", host->str);
    if (guest->len)
        g_string_append_printf(buf, "%*s<guest%s/>\n", indent, "", guest->str);
    return host->len || guest->len;
}

bool
vrt_net_driver_opts_validate(const VrtNetDriverOpts *o, GError **error)
{
    if (o->rx_queue_size && (o->rx_queue_size & (o->rx_queue_size - 1))) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "rx_queue_size has to be a power of two");
        return false;
    }
    if (o->tx_queue_size && (o->tx_queue_size & (o->tx_queue_size - 1))) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "tx_queue_size has to be a power of two");
        return false;
    }
    return true;
}
