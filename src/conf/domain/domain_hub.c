/*
 * <hub type='usb'> and the USB port tree it builds: each USB controller
 * is a bus with as many root ports as its model has (libvirt 9's counts:
 * 2 on UHCI, 6 on EHCI, 3 on OHCI, 4 or ports= on xHCI), each hub adds 8
 * ports below the port it sits on, and a device's port is a path
 * ("1", "1.2", "1.2.3" ...). Ports are assigned as libvirt assigns them:
 * hubs are added when the devices outnumber the ports, the addresses
 * written are reserved, hubs without one are placed first, then every
 * other USB device gets the first free port of the first bus, looking at
 * the hubs' ports (depth first, by port) only when a hub's own ports are
 * full. The QEMU driver turns hubs into usb-hub devices
 * (qemu_command_misc.c).
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

#define HUB_PORTS 8 /* a usb-hub's ports, as libvirt counts them */
#define MAX_DEPTH 4 /* a port path's numbers */

void
vrt_domain_hub_free(VrtDomainHubDef *h)
{
    if (!h)
        return;
    g_free(h->info.alias);
    g_free(h->info.usb.port);
    g_free(h);
}

bool
vrt_parse_hub(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainHubDef *h = g_new0(VrtDomainHubDef, 1);
    g_autofree char *type = NULL;

    if (!def->hubs)
        def->hubs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_hub_free);
    g_ptr_array_add(def->hubs, h); /* freed with def on every error path */
    if (!vrt_xml_check_attrs(node, error, "type", NULL))
        return false;
    type = vrt_xml_prop(node, "type");
    if (!type) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "missing hub device type");
        return false;
    }
    if (!g_str_equal(type, "usb")) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "unknown hub device type '%s'", type);
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        int r = vrt_parse_info_child(ctx, c, &h->info, false, error);
        if (r < 0)
            return false;
        if (r == 0)
            return vrt_xml_unsupported(c, error);
    }
    if (h->info.type != VRT_DEVICE_ADDRESS_NONE && h->info.type != VRT_DEVICE_ADDRESS_USB) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "hub device address type (line %ld) is not supported",
                      xmlGetLineNo(node));
        return false;
    }
    return true;
}

void
vrt_format_hubs(VrtFmt *f, const VrtDomainDef *def)
{
    for (guint i = 0; def->hubs && i < def->hubs->len; i++) {
        const VrtDomainHubDef *h = def->hubs->pdata[i];

        if (!vrt_device_info_has_content(f, &h->info)) {
            vrt_fmt_line(f, "<hub type='usb'/>");
            continue;
        }
        vrt_fmt_line(f, "<hub type='usb'>");
        f->indent++;
        vrt_format_device_info(f, &h->info);
        f->indent--;
        vrt_fmt_line(f, "</hub>");
    }
}

/* ---- the port tree ------------------------------------------------- */

typedef struct UsbHub UsbHub;
struct UsbHub {
    guint nports;
    bool *used;
    UsbHub **ports; /* the hub on each port, NULL = none */
};

static UsbHub *
hub_new(guint nports)
{
    UsbHub *h = g_new0(UsbHub, 1);
    h->nports = nports;
    h->used = g_new0(bool, nports);
    h->ports = g_new0(UsbHub *, nports);
    return h;
}

static void
hub_free(UsbHub *h)
{
    if (!h)
        return;
    for (guint i = 0; i < h->nports; i++)
        hub_free(h->ports[i]);
    g_free(h->used);
    g_free(h->ports);
    g_free(h);
}

typedef struct {
    GPtrArray *buses; /* UsbHub* by controller index, NULL = no bus */
} UsbTree;

static void
tree_clear(UsbTree *t)
{
    g_ptr_array_unref(t->buses);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(UsbTree, tree_clear)

/* libvirt's root port count of a USB controller model; 0 for the ICH9
 * UHCI companions (their ports are the EHCI master's) and 'none'. */
static guint
controller_ports(const VrtDomainControllerDef *c)
{
    const char *m = c->model;

    if (!m || g_str_equal(m, "piix3-uhci") || g_str_equal(m, "piix4-uhci") || g_str_equal(m, "vt82c686b-uhci"))
        return 2;
    if (g_str_equal(m, "ehci") || g_str_equal(m, "ich9-ehci1"))
        return 6;
    if (g_str_equal(m, "pci-ohci"))
        return 3;
    if (g_str_equal(m, "nec-xhci") || g_str_equal(m, "qemu-xhci"))
        return c->ports >= 0 ? (guint)c->ports : 4;
    if (g_str_equal(m, "qusb1") || g_str_equal(m, "qusb2"))
        return c->ports >= 0 ? (guint)c->ports : 8;
    return 0;
}

/* A port path into numbers; false when it is not one */
static guint
port_parse(const char *port, guint path[MAX_DEPTH])
{
    g_auto(GStrv) parts = port ? g_strsplit(port, ".", -1) : NULL;
    guint n = parts ? g_strv_length(parts) : 0;

    if (n == 0 || n > MAX_DEPTH)
        return 0;
    for (guint i = 0; i < n; i++) {
        guint64 v;
        if (!g_ascii_string_to_unsigned(parts[i], 10, 1, 255, &v, NULL))
            return 0;
        path[i] = (guint)v;
    }
    return n;
}

static bool
info_has_port(const VrtDomainDeviceInfo *info)
{
    guint path[MAX_DEPTH];
    return info->type == VRT_DEVICE_ADDRESS_USB && port_parse(info->usb.port, path) > 0;
}

/* The hub holding the last port of info's path, and that port's index */
static UsbHub *
find_port(UsbTree *t, const VrtDomainDeviceInfo *info, guint *target, GError **error)
{
    guint path[MAX_DEPTH];
    guint n = port_parse(info->usb.port, path);
    UsbHub *hub;

    if (info->usb.bus >= t->buses->len || !t->buses->pdata[info->usb.bus]) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing USB bus %u", info->usb.bus);
        return NULL;
    }
    hub = t->buses->pdata[info->usb.bus];
    for (guint i = 0; i + 1 < n; i++) {
        if (path[i] > hub->nports) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "port %u out of range in USB address bus: %u port: %s", path[i],
                          info->usb.bus, info->usb.port);
            return NULL;
        }
        hub = hub->ports[path[i] - 1];
        if (!hub) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "there is no hub at port %u in USB address bus: %u port: %s",
                          path[i], info->usb.bus, info->usb.port);
            return NULL;
        }
    }
    if (path[n - 1] > hub->nports) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "requested USB port %s not present on USB bus %u", info->usb.port,
                      info->usb.bus);
        return NULL;
    }
    *target = path[n - 1] - 1;
    return hub;
}

static bool
reserve(UsbTree *t, const VrtDomainDeviceInfo *info, GError **error)
{
    guint port;
    UsbHub *hub;

    if (!info_has_port(info))
        return true;
    if (!(hub = find_port(t, info, &port, error)))
        return false;
    if (hub->used[port]) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Duplicate USB address bus %u port %s", info->usb.bus, info->usb.port);
        return false;
    }
    hub->used[port] = true;
    return true;
}

static bool
add_hub(UsbTree *t, const VrtDomainHubDef *h, GError **error)
{
    guint port;
    UsbHub *hub = find_port(t, &h->info, &port, error);

    if (!hub)
        return false;
    if (hub->ports[port]) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Duplicate USB hub on bus %u port %s", h->info.usb.bus,
                      h->info.usb.port);
        return false;
    }
    hub->used[port] = true;
    hub->ports[port] = hub_new(HUB_PORTS);
    return true;
}

/* The first free port: on this hub, else (depth first) on its hubs */
static bool
find_free(UsbHub *hub, guint *path, guint level)
{
    for (guint i = 0; i < hub->nports; i++) {
        if (!hub->used[i]) {
            path[level] = i + 1;
            return true;
        }
    }
    if (level >= MAX_DEPTH - 1)
        return false;
    for (guint i = 0; i < hub->nports; i++) {
        if (hub->ports[i] && find_free(hub->ports[i], path, level + 1)) {
            path[level] = i + 1;
            return true;
        }
    }
    return false;
}

static bool
assign(UsbTree *t, VrtDomainDeviceInfo *info, GError **error)
{
    guint first = 0, last = t->buses->len;

    if (info->type == VRT_DEVICE_ADDRESS_USB) {
        if (info->usb.bus >= t->buses->len || !t->buses->pdata[info->usb.bus]) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "USB bus %u requested but no controller with that index is present",
                          info->usb.bus);
            return false;
        }
        first = info->usb.bus;
        last = first + 1;
    }
    for (guint b = first; b < last; b++) {
        guint path[MAX_DEPTH] = { 0 };
        GString *s;

        if (!t->buses->pdata[b] || !find_free(t->buses->pdata[b], path, 0))
            continue;
        s = g_string_new(NULL);
        for (guint i = 0; i < MAX_DEPTH && path[i]; i++)
            g_string_append_printf(s, "%s%u", i ? "." : "", path[i]);
        info->type = VRT_DEVICE_ADDRESS_USB;
        info->usb.bus = b;
        g_free(info->usb.port);
        info->usb.port = g_string_free(s, FALSE);
        return reserve(t, info, error);
    }
    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "No free USB ports");
    return false;
}

bool
vrt_domain_assign_usb_ports(VrtDomainDef *def, GPtrArray *infos, bool has_usb, GError **error)
{
    g_auto(UsbTree) t = { g_ptr_array_new_with_free_func((GDestroyNotify)hub_free) };
    guint avail = 0, count = infos->len + (def->hubs ? def->hubs->len : 0);

    if (!has_usb) {
        if (count) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "USB is disabled for this domain, but USB devices are present in the domain XML");
            return false;
        }
        return true;
    }
    for (guint i = 0; i < def->controllers->len; i++) {
        const VrtDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == VRT_DOMAIN_CONTROLLER_USB)
            avail += controller_ports(c);
    }
    avail += (def->hubs ? def->hubs->len : 0) * HUB_PORTS;
    /* as libvirt: enough new hubs (each taking one port) for the rest */
    if (count > avail) {
        guint need = (count - avail + 1 + HUB_PORTS - 2) / (HUB_PORTS - 1);
        if (!def->hubs)
            def->hubs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_hub_free);
        for (guint i = 0; i < need; i++)
            g_ptr_array_add(def->hubs, g_new0(VrtDomainHubDef, 1));
    }
    for (guint i = 0; i < def->controllers->len; i++) {
        const VrtDomainControllerDef *c = def->controllers->pdata[i];
        guint n = c->type == VRT_DOMAIN_CONTROLLER_USB ? controller_ports(c) : 0;
        if (!n)
            continue;
        if (c->index >= t.buses->len)
            g_ptr_array_set_size(t.buses, c->index + 1);
        if (t.buses->pdata[c->index]) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Duplicate USB controllers with index %u", c->index);
            return false;
        }
        t.buses->pdata[c->index] = hub_new(n);
    }
    for (guint i = 0; def->hubs && i < def->hubs->len; i++) {
        VrtDomainHubDef *h = def->hubs->pdata[i];
        if (info_has_port(&h->info) && !add_hub(&t, h, error))
            return false;
    }
    for (guint i = 0; i < infos->len; i++) {
        if (!reserve(&t, infos->pdata[i], error))
            return false;
    }
    for (guint i = 0; def->hubs && i < def->hubs->len; i++) {
        VrtDomainHubDef *h = def->hubs->pdata[i];
        if (info_has_port(&h->info))
            continue;
        if (!assign(&t, &h->info, error) || !add_hub(&t, h, error))
            return false;
    }
    for (guint i = 0; i < infos->len; i++) {
        VrtDomainDeviceInfo *info = infos->pdata[i];
        if (info->type != VRT_DEVICE_ADDRESS_NONE && info->type != VRT_DEVICE_ADDRESS_USB)
            continue;
        if (!info_has_port(info) && !assign(&t, info, error))
            return false;
    }
    return true;
}
