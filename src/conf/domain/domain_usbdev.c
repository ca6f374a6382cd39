/*
 * USB devices that come from outside the guest: <hostdev mode='subsystem'
 * type='usb'> (a host USB device by vendor/product or by bus/device),
 * <redirdev bus='usb'> (a device redirected over SPICE, a TCP or a UNIX
 * socket) and <redirfilter> (which redirected devices are let in). They are
 * read with libvirt 9's checks and error texts and written back as libvirt
 * writes them; their USB ports are assigned with the other USB devices
 * (domain_hub.c). They live in lists of their own, apart from the PCI
 * hostdevs that the hostdev job and the VF registry manage, so that nothing
 * there mistakes one for a PCI function. The QEMU driver refuses them at
 * start by name (qemu_command_usbdev.c): vrt neither labels USB device
 * nodes for QEMU's user nor runs SPICE's usbredir channel.
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>

static const char *const startup_names[] = { "mandatory", "requisite", "optional", NULL };
static const char *const guest_reset_names[] = { "off", "uninitialized", "on", NULL };
const char *const vrt_redirdev_type_names[] = { "spicevmc", "tcp", "unix", NULL };

void
vrt_domain_usb_hostdev_free(VrtDomainUsbHostdevDef *h)
{
    if (!h)
        return;
    g_free(h->startup_policy);
    g_free(h->guest_reset);
    g_free(h->info.alias);
    g_free(h->info.usb.port);
    g_free(h);
}

void
vrt_domain_redirdev_free(VrtDomainRedirdevDef *r)
{
    if (!r)
        return;
    g_free(r->host);
    g_free(r->service);
    g_free(r->path);
    g_free(r->info.alias);
    g_free(r->info.usb.port);
    g_free(r);
}

/* libvirt refuses any address but a USB port for a USB device */
static bool
check_usb_address(const VrtDomainDeviceInfo *info, GError **error)
{
    if (info->type != VRT_DEVICE_ADDRESS_NONE && info->type != VRT_DEVICE_ADDRESS_USB) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid address for a USB device");
        return false;
    }
    return true;
}

static bool
parse_usb_source(xmlNodePtr src, VrtDomainUsbHostdevDef *h, GError **error)
{
    xmlNodePtr vendor = NULL, product = NULL;

    if (!vrt_xml_check_attrs(src, error, "startupPolicy", "guestReset", NULL) ||
        !vrt_xml_prop_choice(src, "startupPolicy", startup_names, &h->startup_policy, error) ||
        !vrt_xml_prop_choice(src, "guestReset", guest_reset_names, &h->guest_reset, error))
        return false;
    VRT_XML_FOREACH_CHILD(c, src)
    {
        if (vrt_xml_is(c, "vendor")) {
            vendor = c;
        } else if (vrt_xml_is(c, "product")) {
            product = c;
        } else if (vrt_xml_is(c, "address")) {
            if (!vrt_xml_check_attrs(c, error, "bus", "device", NULL) ||
                !vrt_xml_prop_uint_required(c, "bus", G_MAXUINT, &h->bus, error) ||
                !vrt_xml_prop_uint_required(c, "device", G_MAXUINT, &h->device, error))
                return false;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    if (vendor) {
        if (!vrt_xml_check_attrs(vendor, error, "id", NULL) ||
            !vrt_xml_prop_uint_required(vendor, "id", G_MAXUINT, &h->vendor, error))
            return false;
        if (h->vendor == 0) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'id' in element 'vendor': '0'.");
            return false;
        }
        if (!product) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "missing product");
            return false;
        }
    }
    if (product) {
        if (!vrt_xml_check_attrs(product, error, "id", NULL) ||
            !vrt_xml_prop_uint_required(product, "id", G_MAXUINT, &h->product, error))
            return false;
        if (!vendor) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "missing vendor");
            return false;
        }
    }
    return true;
}

static bool
parse_usb_hostdev(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainUsbHostdevDef *h = g_new0(VrtDomainUsbHostdevDef, 1);
    VrtTristate managed = VRT_TRISTATE_DEFAULT;
    bool have_source = false;

    if (!def->usb_hostdevs)
        def->usb_hostdevs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_usb_hostdev_free);
    g_ptr_array_add(def->usb_hostdevs, h); /* freed with def on every error path */
    if (!vrt_xml_check_attrs(node, error, "mode", "type", "managed", NULL) ||
        !vrt_xml_prop_tristate(node, "managed", false, &managed, error))
        return false;
    h->managed = managed == VRT_TRISTATE_YES;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "source")) {
            if (have_source)
                return vrt_xml_unsupported(c, error);
            if (!parse_usb_source(c, h, error))
                return false;
            have_source = true;
            continue;
        }
        if (vrt_xml_is(c, "teaming")) {
            if (!vrt_hostdev_teaming_check_non_pci(c, error))
                return false;
            continue;
        }
        int r = vrt_parse_info_child(ctx, c, &h->info, true, error);
        if (r < 0)
            return false;
        if (r == 0)
            return vrt_xml_unsupported(c, error);
    }
    if (!have_source) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing <source> element in hostdev device");
        return false;
    }
    return check_usb_address(&h->info, error);
}

/* The socket of a tcp or unix redirdev: <source mode= host= service=> or
 * <source mode= path=>, as libvirt's chardev sources. */
static bool
parse_redir_source(xmlNodePtr c, VrtDomainRedirdevDef *r, GError **error)
{
    g_autofree char *mode = vrt_xml_prop(c, "mode");

    if (!(r->type == VRT_REDIRDEV_TCP ? vrt_xml_check_attrs(c, error, "mode", "host", "service", NULL)
                                      : vrt_xml_check_attrs(c, error, "mode", "path", NULL)))
        return false;
    /* <reconnect> is not applied: refused, not dropped */
    VRT_XML_FOREACH_CHILD(child, c)
    return vrt_xml_unsupported(child, error);
    if (mode && !g_str_equal(mode, "bind") && !g_str_equal(mode, "connect")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'mode' in element 'source': '%s'.", mode);
        return false;
    }
    r->bind = g_strcmp0(mode, "bind") == 0;
    if (r->type == VRT_REDIRDEV_TCP) {
        g_free(r->host);
        r->host = vrt_xml_prop(c, "host");
        g_free(r->service);
        r->service = vrt_xml_prop(c, "service");
    } else {
        g_free(r->path);
        r->path = vrt_xml_prop(c, "path");
    }
    return true;
}

int
vrt_usb_chr_parse_child(xmlNodePtr c, VrtDomainRedirdevDef *r, GError **error)
{
    if (r->type == VRT_REDIRDEV_SPICEVMC)
        return 0;
    if (vrt_xml_is(c, "source"))
        return parse_redir_source(c, r, error) ? 1 : -1;
    if (vrt_xml_is(c, "protocol")) {
        g_autofree char *proto = vrt_xml_prop(c, "type");
        if (!vrt_xml_check_attrs(c, error, "type", NULL))
            return -1;
        if (proto && !g_str_equal(proto, "raw") && !g_str_equal(proto, "telnet")) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'type' in element 'protocol': '%s'.",
                          proto);
            return -1;
        }
        r->telnet = g_strcmp0(proto, "telnet") == 0;
        return 1;
    }
    return 0;
}

bool
vrt_usb_chr_check(const VrtDomainRedirdevDef *r, GError **error)
{
    if (r->type == VRT_REDIRDEV_UNIX && !r->path) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing source path attribute for char device");
        return false;
    }
    if (r->type == VRT_REDIRDEV_TCP && !r->host) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Missing source host attribute for char device");
        return false;
    }
    if (r->type == VRT_REDIRDEV_TCP && !r->service) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Missing source service attribute for char device");
        return false;
    }
    return true;
}

static bool
parse_redirdev(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainRedirdevDef *r = g_new0(VrtDomainRedirdevDef, 1);
    g_autofree char *bus = vrt_xml_prop(node, "bus");
    g_autofree char *type = vrt_xml_prop(node, "type");
    int t;

    if (!def->redirdevs)
        def->redirdevs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_redirdev_free);
    g_ptr_array_add(def->redirdevs, r); /* freed with def on every error path */
    if (!vrt_xml_check_attrs(node, error, "bus", "type", NULL))
        return false;
    if (bus && !g_str_equal(bus, "usb")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown redirdev bus '%s'", bus);
        return false;
    }
    if (!type) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "missing type in redirdev");
        return false;
    }
    t = vrt_enum_from_string(vrt_redirdev_type_names, type);
    if (t < 0) {
        /* a chardev type libvirt knows but vrt does not carry */
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "redirdev character device type '%s' is not supported", type);
        return false;
    }
    r->type = t;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        int rc = vrt_usb_chr_parse_child(c, r, error);
        if (rc == 0)
            rc = vrt_parse_info_child(ctx, c, &r->info, true, error);
        if (rc < 0)
            return false;
        if (rc == 0)
            return vrt_xml_unsupported(c, error);
    }
    return vrt_usb_chr_check(r, error) && check_usb_address(&r->info, error);
}

/* class=, vendor=, product=: a number (base as C reads it) or -1, any */
static bool
filter_int(xmlNodePtr node, const char *name, int *out, GError **error)
{
    g_autofree char *v = vrt_xml_prop(node, name);
    char *end = NULL;
    gint64 n;

    *out = -1;
    if (!v)
        return true;
    errno = 0;
    n = g_ascii_strtoll(v, &end, 0);
    if (errno || end == v || *end || n < G_MININT || n > G_MAXINT) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element 'usbdev': '%s'.", name, v);
        return false;
    }
    *out = (int)n;
    return true;
}

/* version='M.m' as libvirt reads it into BCD (JJ.M is JJ.M0), or -1 */
static bool
filter_version(xmlNodePtr node, int *out, GError **error)
{
    g_autofree char *v = vrt_xml_prop(node, "version");
    g_auto(GStrv) parts = NULL;
    guint64 major, minor;

    *out = -1;
    if (!v || g_str_equal(v, "-1"))
        return true;
    parts = g_strsplit(v, ".", 2);
    if (g_strv_length(parts) != 2 || !g_ascii_string_to_unsigned(parts[0], 10, 0, 99, &major, NULL) ||
        !g_ascii_string_to_unsigned(parts[1], 10, 0, 99, &minor, NULL)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Cannot parse USB device version %s", v);
        return false;
    }
    if (strlen(parts[1]) == 1)
        minor *= 10;
    *out = (int)((major / 10) << 12 | (major % 10) << 8 | (minor / 10) << 4 | (minor % 10));
    return true;
}

static bool
parse_redirfilter(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    /* libvirt keeps the last <redirfilter> */
    if (def->redirfilter)
        g_array_set_size(def->redirfilter, 0);
    else
        def->redirfilter = g_array_new(FALSE, TRUE, sizeof(VrtDomainRedirFilterRule));
    VRT_XML_FOREACH_CHILD(c, node)
    {
        VrtDomainRedirFilterRule rule = { 0 };
        int allow = -1;

        if (!vrt_xml_is(c, "usbdev"))
            return vrt_xml_unsupported(c, error);
        if (!vrt_xml_check_attrs(c, error, "class", "vendor", "product", "version", "allow", NULL) ||
            !filter_int(c, "class", &rule.usb_class, error) || !filter_int(c, "vendor", &rule.vendor, error) ||
            !filter_int(c, "product", &rule.product, error) || !filter_version(c, &rule.version, error) ||
            !vrt_xml_prop_yes_no(c, "allow", &allow, error))
            return false;
        if (rule.usb_class != -1 && (rule.usb_class & ~0xFF)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Invalid USB Class code 0x%x", (guint)rule.usb_class);
            return false;
        }
        if (allow < 0) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'allow' in element 'usbdev'");
            return false;
        }
        rule.allow = allow == 1;
        g_array_append_val(def->redirfilter, rule);
    }
    return true;
}

bool
vrt_parse_usb_device(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, bool *handled, GError **error)
{
    *handled = true;
    if (vrt_xml_is(node, "redirdev"))
        return parse_redirdev(ctx, node, def, error);
    if (vrt_xml_is(node, "redirfilter"))
        return parse_redirfilter(node, def, error);
    if (vrt_xml_is(node, "smartcard"))
        return vrt_parse_smartcard(ctx, node, def, error);
    if (vrt_xml_is(node, "hostdev")) {
        g_autofree char *mode = vrt_xml_prop(node, "mode");
        g_autofree char *type = vrt_xml_prop(node, "type");
        if ((!mode || g_str_equal(mode, "subsystem")) && g_strcmp0(type, "usb") == 0)
            return parse_usb_hostdev(ctx, node, def, error);
    }
    *handled = false;
    return true;
}

/* ---- checks over the whole definition ------------------------------ */

static bool
usb_hostdev_match(const VrtDomainUsbHostdevDef *a, const VrtDomainUsbHostdevDef *b)
{
    if (a->bus && a->device)
        return a->bus == b->bus && a->device == b->device;
    return a->vendor == b->vendor && a->product == b->product;
}

bool
vrt_validate_usb_devices(const VrtDomainDef *def, GError **error)
{
    for (guint i = 0; def->usb_hostdevs && i < def->usb_hostdevs->len; i++) {
        for (guint j = i + 1; j < def->usb_hostdevs->len; j++) {
            if (usb_hostdev_match(def->usb_hostdevs->pdata[i], def->usb_hostdevs->pdata[j])) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "Hostdev already exists in the domain configuration");
                return false;
            }
        }
    }
    return true;
}

void
vrt_usb_devices_add_infos(VrtDomainDef *def, GPtrArray *infos, bool redirdevs)
{
    if (!redirdevs) {
        for (guint i = 0; def->usb_hostdevs && i < def->usb_hostdevs->len; i++)
            g_ptr_array_add(infos, &((VrtDomainUsbHostdevDef *)def->usb_hostdevs->pdata[i])->info);
        /* then the controllers that sit on a USB port: ccid readers */
        for (guint i = 0; i < def->controllers->len; i++) {
            VrtDomainControllerDef *c = def->controllers->pdata[i];
            if (c->type == VRT_DOMAIN_CONTROLLER_CCID)
                g_ptr_array_add(infos, &c->info);
        }
        return;
    }
    for (guint i = 0; def->redirdevs && i < def->redirdevs->len; i++)
        g_ptr_array_add(infos, &((VrtDomainRedirdevDef *)def->redirdevs->pdata[i])->info);
}

/* The index after the largest "hostdevN" alias of any hostdev */
static guint
next_hostdev_index(const VrtDomainDef *def)
{
    guint next = 0;

    for (guint l = 0; l < 3; l++) {
        GPtrArray *list = l == 0 ? def->hostdevs : l == 1 ? def->usb_hostdevs : def->subsys_hostdevs;
        for (guint i = 0; list && i < list->len; i++) {
            const VrtDomainDeviceInfo *info = l == 0   ? ((VrtDomainHostdevDef *)list->pdata[i])->info
                                              : l == 1 ? &((VrtDomainUsbHostdevDef *)list->pdata[i])->info
                                                       : &((VrtDomainSubsysHostdevDef *)list->pdata[i])->info;
            guint64 n;
            if (info->alias && g_str_has_prefix(info->alias, "hostdev") &&
                g_ascii_string_to_unsigned(info->alias + 7, 10, 0, G_MAXINT, &n, NULL) && n + 1 > next)
                next = (guint)n + 1;
        }
    }
    return next;
}

void
vrt_usb_devices_assign_aliases(VrtDomainDef *def)
{
    for (guint i = 0; def->usb_hostdevs && i < def->usb_hostdevs->len; i++) {
        VrtDomainUsbHostdevDef *h = def->usb_hostdevs->pdata[i];
        if (!h->info.alias)
            h->info.alias = g_strdup_printf("hostdev%u", next_hostdev_index(def));
    }
    /* libvirt names a redirdev by its place among them */
    for (guint i = 0; def->redirdevs && i < def->redirdevs->len; i++) {
        VrtDomainRedirdevDef *r = def->redirdevs->pdata[i];
        if (!r->info.alias)
            r->info.alias = g_strdup_printf("redir%u", i);
    }
}

/* ---- writing ------------------------------------------------------- */

static void
format_usb_hostdev(VrtFmt *f, const VrtDomainUsbHostdevDef *h)
{
    g_autoptr(GString) attrs = g_string_new(NULL);

    vrt_fmt_line(f, "<hostdev mode='subsystem' type='usb' managed='%s'>", h->managed ? "yes" : "no");
    f->indent++;
    if (h->startup_policy)
        g_string_append_printf(attrs, " startupPolicy='%s'", h->startup_policy);
    if (h->guest_reset)
        g_string_append_printf(attrs, " guestReset='%s'", h->guest_reset);
    if (!h->vendor && !h->bus && !h->device) {
        vrt_fmt_line(f, "<source%s/>", attrs->str);
    } else {
        vrt_fmt_line(f, "<source%s>", attrs->str);
        f->indent++;
        if (h->vendor) {
            vrt_fmt_line(f, "<vendor id='0x%.4x'/>", h->vendor);
            vrt_fmt_line(f, "<product id='0x%.4x'/>", h->product);
        }
        if (h->bus || h->device)
            vrt_fmt_line(f, "<address bus='%u' device='%u'/>", h->bus, h->device);
        f->indent--;
        vrt_fmt_line(f, "</source>");
    }
    vrt_format_device_info(f, &h->info);
    f->indent--;
    vrt_fmt_line(f, "</hostdev>");
}

void
vrt_usb_chr_format_source(VrtFmt *f, const VrtDomainRedirdevDef *r)
{
    g_autofree char *host = vrt_xml_escape(r->host);
    g_autofree char *service = vrt_xml_escape(r->service);
    g_autofree char *path = vrt_xml_escape(r->path);
    const char *mode = r->bind ? "bind" : "connect";

    if (r->type == VRT_REDIRDEV_TCP) {
        vrt_fmt_line(f, "<source mode='%s' host='%s' service='%s'/>", mode, host, service);
        vrt_fmt_line(f, "<protocol type='%s'/>", r->telnet ? "telnet" : "raw");
    } else if (r->type == VRT_REDIRDEV_UNIX) {
        vrt_fmt_line(f, "<source mode='%s' path='%s'/>", mode, path);
    }
}

static void
format_redirdev(VrtFmt *f, const VrtDomainRedirdevDef *r)
{
    if (r->type == VRT_REDIRDEV_SPICEVMC && !vrt_device_info_has_content(f, &r->info)) {
        vrt_fmt_line(f, "<redirdev bus='usb' type='spicevmc'/>");
        return;
    }
    vrt_fmt_line(f, "<redirdev bus='usb' type='%s'>", vrt_redirdev_type_names[r->type]);
    f->indent++;
    vrt_usb_chr_format_source(f, r);
    vrt_format_device_info(f, &r->info);
    f->indent--;
    vrt_fmt_line(f, "</redirdev>");
}

static void
format_redirfilter(VrtFmt *f, const GArray *rules)
{
    /* libvirt writes no empty filter */
    if (!rules || rules->len == 0)
        return;
    vrt_fmt_line(f, "<redirfilter>");
    f->indent++;
    for (guint i = 0; i < rules->len; i++) {
        const VrtDomainRedirFilterRule *u = &g_array_index(rules, VrtDomainRedirFilterRule, i);
        g_autoptr(GString) s = g_string_new("<usbdev");

        if (u->usb_class >= 0)
            g_string_append_printf(s, " class='0x%02X'", (guint)u->usb_class);
        if (u->vendor >= 0)
            g_string_append_printf(s, " vendor='0x%04X'", (guint)u->vendor);
        if (u->product >= 0)
            g_string_append_printf(s, " product='0x%04X'", (guint)u->product);
        if (u->version >= 0)
            g_string_append_printf(s, " version='%d.%02d'",
                                   ((u->version & 0xf000) >> 12) * 10 + ((u->version & 0x0f00) >> 8),
                                   ((u->version & 0x00f0) >> 4) * 10 + (u->version & 0x000f));
        vrt_fmt_line(f, "%s allow='%s'/>", s->str, u->allow ? "yes" : "no");
    }
    f->indent--;
    vrt_fmt_line(f, "</redirfilter>");
}

void
vrt_format_usb_hostdevs(VrtFmt *f, const VrtDomainDef *def)
{
    for (guint i = 0; def->usb_hostdevs && i < def->usb_hostdevs->len; i++)
        format_usb_hostdev(f, def->usb_hostdevs->pdata[i]);
}

void
vrt_format_redirdevs(VrtFmt *f, const VrtDomainDef *def)
{
    for (guint i = 0; def->redirdevs && i < def->redirdevs->len; i++)
        format_redirdev(f, def->redirdevs->pdata[i]);
    format_redirfilter(f, def->redirfilter);
}
