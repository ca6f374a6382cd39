/*
 * Formatting of the elements inside <devices>, in libvirt's layout, for
 * the three views (inactive, live, status). The live view shows what the
 * guest really has: an interface of type network shows the network port it
 * got (a hostdev-backed one appears as <interface type='hostdev'>, once);
 * the status view adds what only the daemon needs (<actual>, port ids).
 */
#include "conf/domain/domain_pci_topology.h"
#include "conf/domain/domain_priv.h"
#include "util/error.h"

#include <stdarg.h>

#define E(var, expr) g_autofree char *var = vrt_xml_escape(expr)

void
vrt_fmt_line(VrtFmt *f, const char *fmt, ...)
{
    va_list ap;

    for (guint i = 0; i < f->indent; i++)
        g_string_append(f->buf, "  ");
    va_start(ap, fmt);
    g_string_append_vprintf(f->buf, fmt, ap);
    va_end(ap);
    g_string_append_c(f->buf, '\n');
}

static bool
is_live(const VrtFmt *f)
{
    return !(f->flags & VRT_DOMAIN_XML_INACTIVE);
}

static bool
is_status(const VrtFmt *f)
{
    return (f->flags & VRT_DOMAIN_XML_STATUS) && !(f->flags & VRT_DOMAIN_XML_INACTIVE);
}

static void
format_pci_address(VrtFmt *f, const VrtPciAddr *a, bool with_type)
{
    const char *mf = a->multifunction == VRT_TRISTATE_YES  ? " multifunction='on'"
                     : a->multifunction == VRT_TRISTATE_NO ? " multifunction='off'"
                                                           : "";
    g_autoptr(GString) attrs = g_string_new(NULL);

    vrt_pci_addr_format_attrs(attrs, a);
    vrt_fmt_line(f, "<address%s%s%s/>", with_type ? " type='pci'" : "", attrs->str, mf);
}

/* boot order, alias, a USB companion's master, address: the tail every
 * device shares (master_startport -1: none) */
static void
format_info_master(VrtFmt *f, const VrtDomainDeviceInfo *info, int master_startport)
{
    if (info->boot_order)
        vrt_fmt_line(f, "<boot order='%u'/>", info->boot_order);
    if (vrt_alias_visible(info->alias, f->flags)) {
        E(esc_info_alias, info->alias);
        vrt_fmt_line(f, "<alias name='%s'/>", esc_info_alias);
    }
    if (master_startport >= 0)
        vrt_fmt_line(f, "<master startport='%d'/>", master_startport);
    vrt_device_rom_format(f->buf, f->indent, &info->rom);
    switch (info->type) {
    case VRT_DEVICE_ADDRESS_NONE: break;
    case VRT_DEVICE_ADDRESS_PCI: format_pci_address(f, &info->pci, true); break;
    case VRT_DEVICE_ADDRESS_DRIVE:
        vrt_fmt_line(f, "<address type='drive' controller='%u' bus='%u' target='%u' unit='%u'/>",
                     info->drive.controller, info->drive.bus, info->drive.target, info->drive.unit);
        break;
    case VRT_DEVICE_ADDRESS_VIRTIO_SERIAL:
        vrt_fmt_line(f, "<address type='virtio-serial' controller='%u' bus='%u' port='%u'/>", info->vserial.controller,
                     info->vserial.bus, info->vserial.port);
        break;
    case VRT_DEVICE_ADDRESS_USB:
        if (info->usb.port)
            vrt_fmt_line(f, "<address type='usb' bus='%u' port='%s'/>", info->usb.bus, info->usb.port);
        else
            vrt_fmt_line(f, "<address type='usb' bus='%u'/>", info->usb.bus);
        break;
    }
}

static void
format_info(VrtFmt *f, const VrtDomainDeviceInfo *info)
{
    format_info_master(f, info, -1);
}

void
vrt_format_device_info(VrtFmt *f, const VrtDomainDeviceInfo *info)
{
    format_info(f, info);
}

static bool
info_has_content(const VrtFmt *f, const VrtDomainDeviceInfo *info)
{
    return info->boot_order || info->type != VRT_DEVICE_ADDRESS_NONE || vrt_alias_visible(info->alias, f->flags) ||
           vrt_device_rom_present(&info->rom);
}

bool
vrt_device_info_has_content(const VrtFmt *f, const VrtDomainDeviceInfo *info)
{
    return info_has_content(f, info);
}

void
vrt_format_disk(VrtFmt *f, const VrtDomainDiskDef *d)
{
    E(esc_d_src, d->src);
    E(esc_d_target_dev, d->target_dev);
    E(esc_d_serial, d->serial);

    vrt_fmt_line(f, "<disk type='%s' device='%s'>", vrt_disk_type_names[d->type], vrt_disk_device_names[d->device]);
    f->indent++;
    if (d->driver_name || d->format || d->cache || vrt_disk_driver_tuning_present(&d->tuning)) {
        g_autoptr(GString) attrs = g_string_new(NULL);
        if (d->driver_name)
            g_string_append_printf(attrs, " name='%s'", d->driver_name);
        if (d->format)
            g_string_append_printf(attrs, " type='%s'", vrt_disk_format_names[d->format]);
        if (d->cache)
            g_string_append_printf(attrs, " cache='%s'", d->cache);
        vrt_format_disk_driver_tuning(attrs, &d->tuning);
        vrt_fmt_line(f, "<driver%s/>", attrs->str);
    }
    if (d->net && d->net->auth_username && d->net->auth_in_disk)
        vrt_format_disk_net_auth(f, d->net);
    if (d->net) {
        vrt_format_disk_net_source(f, d->net);
    } else if (d->type == VRT_DOMAIN_DISK_TYPE_VOLUME) {
        E(esc_pool, d->src_pool);
        E(esc_volume, d->src_volume);
        /* as libvirt, the pool and volume only; a status file keeps the
         * file they resolved to */
        if (d->src && (f->flags & VRT_DOMAIN_XML_STATUS))
            vrt_fmt_line(f, "<source pool='%s' volume='%s' file='%s'%s/>", esc_pool, esc_volume, esc_d_src,
                         vrt_disk_startup_attr(d->startup_policy));
        else
            vrt_fmt_line(f, "<source pool='%s' volume='%s'%s/>", esc_pool, esc_volume,
                         vrt_disk_startup_attr(d->startup_policy));
    } else if (d->src && vrt_dev_seclabels_shown(f, d->seclabels)) {
        vrt_fmt_line(f, "<source %s='%s'%s>", d->type == VRT_DOMAIN_DISK_TYPE_FILE ? "file" : "dev", esc_d_src,
                     vrt_disk_startup_attr(d->startup_policy));
        f->indent++;
        vrt_format_dev_seclabels(f, d->seclabels);
        f->indent--;
        vrt_fmt_line(f, "</source>");
    } else if (d->src) {
        vrt_fmt_line(f, "<source %s='%s'%s/>", d->type == VRT_DOMAIN_DISK_TYPE_FILE ? "file" : "dev", esc_d_src,
                     vrt_disk_startup_attr(d->startup_policy));
    } else if (d->startup_policy) {
        /* an empty cdrom or floppy keeps its policy for the next medium */
        vrt_fmt_line(f, "<source%s/>", vrt_disk_startup_attr(d->startup_policy));
    }
    vrt_disk_geometry_format(f->buf, f->indent, &d->geometry);
    {
        g_autoptr(GString) tattrs = g_string_new(NULL);

        vrt_disk_ident_format_target(tattrs, &d->ident);
        vrt_fmt_line(f, "<target dev='%s' bus='%s'%s/>", esc_d_target_dev, vrt_disk_bus_names[d->bus], tattrs->str);
    }
    vrt_disk_iotune_format(f->buf, f->indent, &d->iotune);
    if (d->readonly)
        vrt_fmt_line(f, "<readonly/>");
    if (d->shareable)
        vrt_fmt_line(f, "<shareable/>");
    if (d->serial)
        vrt_fmt_line(f, "<serial>%s</serial>", esc_d_serial);
    vrt_disk_ident_format_children(f->buf, f->indent, &d->ident);
    if (d->encryption_format) {
        E(esc_enc_secret, d->encryption_secret);
        vrt_fmt_line(f, "<encryption format='%s'>", d->encryption_format);
        vrt_fmt_line(f, "  <secret type='passphrase' uuid='%s'/>", esc_enc_secret);
        vrt_fmt_line(f, "</encryption>");
    }
    format_info(f, &d->info);
    f->indent--;
    vrt_fmt_line(f, "</disk>");
}

void
vrt_format_controller(VrtFmt *f, const VrtDomainControllerDef *c)
{
    g_autoptr(GString) attrs = g_string_new(NULL);
    /* a companion's <master>; only USB controllers have one (a controller
     * made in code with g_new0 and no -1 has none either) */
    int master = c->type == VRT_DOMAIN_CONTROLLER_USB ? c->master_startport : -1;
    g_autoptr(GString) drv = g_string_new(NULL);
    bool pci_extra;

    if (c->driver_queues)
        g_string_append_printf(drv, " queues='%u'", c->driver_queues);
    if (c->cmd_per_lun)
        g_string_append_printf(drv, " cmd_per_lun='%u'", c->cmd_per_lun);
    if (c->max_sectors)
        g_string_append_printf(drv, " max_sectors='%u'", c->max_sectors);
    if (c->ioeventfd)
        g_string_append_printf(drv, " ioeventfd='%s'", c->ioeventfd == VRT_TRISTATE_YES ? "on" : "off");
    if (c->iothread)
        g_string_append_printf(drv, " iothread='%u'", c->iothread);
    vrt_virtio_options_format(drv, &c->virtio);
    pci_extra = c->model_name || vrt_pci_ctrl_has_target(c) || master >= 0 || drv->len || c->pcihole64_set;

    g_string_append_printf(attrs, "type='%s' index='%u'", vrt_controller_type_names[c->type], c->index);
    if (c->model)
        g_string_append_printf(attrs, " model='%s'", c->model);
    if (c->ports >= 0)
        g_string_append_printf(attrs, " ports='%d'", c->ports);
    if (c->vectors_set)
        g_string_append_printf(attrs, " vectors='%u'", c->vectors);
    if (!pci_extra && !info_has_content(f, &c->info)) {
        vrt_fmt_line(f, "<controller %s/>", attrs->str);
        return;
    }
    vrt_fmt_line(f, "<controller %s>", attrs->str);
    f->indent++;
    if (c->model_name)
        vrt_fmt_line(f, "<model name='%s'/>", c->model_name);
    vrt_pci_ctrl_target_format(f, c);
    if (drv->len)
        vrt_fmt_line(f, "<driver%s/>", drv->str);
    format_info_master(f, &c->info, master);
    if (c->pcihole64_set) /* after the address, as libvirt writes it */
        vrt_fmt_line(f, "<pcihole64 unit='KiB'>%" G_GUINT64_FORMAT "</pcihole64>", c->pcihole64_kib);
    f->indent--;
    vrt_fmt_line(f, "</controller>");
}

static void
format_vlan(VrtFmt *f, const guint *tags, guint n, bool trunk)
{
    if (n == 0)
        return;
    vrt_fmt_line(f, "<vlan%s>", trunk || n > 1 ? " trunk='yes'" : "");
    f->indent++;
    for (guint i = 0; i < n; i++)
        vrt_fmt_line(f, "<tag id='%u'/>", tags[i]);
    f->indent--;
    vrt_fmt_line(f, "</vlan>");
}

/* <teaming> of an interface or a hostdev; nothing for NONE */
static void
format_teaming(VrtFmt *f, VrtDomainNetTeaming type, const char *persistent)
{
    g_autofree char *p = persistent ? vrt_xml_escape(persistent) : NULL;

    if (type == VRT_DOMAIN_NET_TEAMING_NONE)
        return;
    vrt_fmt_line(f, "<teaming type='%s'%s%s%s/>",
                 type == VRT_DOMAIN_NET_TEAMING_PERSISTENT ? "persistent" : "transient", p ? " persistent='" : "",
                 p ? p : "", p ? "'" : "");
}

/* <interface type='hostdev'> writes the address type, <hostdev> does not */
static void
format_hostdev_source(VrtFmt *f, const VrtPciAddr *a, bool with_type)
{
    vrt_fmt_line(f, "<source>");
    f->indent++;
    format_pci_address(f, a, with_type);
    f->indent--;
    vrt_fmt_line(f, "</source>");
}

/* The actual data in the status view: only vrt reads it back. */
static void
format_port_isolated(VrtFmt *f, VrtTristate isolated)
{
    if (isolated != VRT_TRISTATE_DEFAULT)
        vrt_fmt_line(f, "<port isolated='%s'/>", isolated == VRT_TRISTATE_YES ? "yes" : "no");
}

static void
format_net_actual(VrtFmt *f, const VrtDomainNetDef *net)
{
    const VrtDomainNetActual *a = &net->actual;
    E(esc_a_bridge, a->bridge);

    if (a->type == VRT_DOMAIN_NET_TYPE_HOSTDEV)
        vrt_fmt_line(f, "<actual type='hostdev' managed='%s'>", a->managed ? "yes" : "no");
    else
        vrt_fmt_line(f, "<actual type='%s'>", vrt_net_type_names[a->type]);
    f->indent++;
    if (a->type == VRT_DOMAIN_NET_TYPE_HOSTDEV)
        format_hostdev_source(f, &a->hostdev_addr, true);
    else if (a->bridge)
        vrt_fmt_line(f, "<source bridge='%s'/>", esc_a_bridge);
    format_vlan(f, a->vlan_tags, a->n_vlan_tags, false);
    vrt_bandwidth_format(f->buf, &a->bandwidth, f->indent * 2);
    format_port_isolated(f, a->port_isolated);
    f->indent--;
    vrt_fmt_line(f, "</actual>");
}

static void
format_net_source(VrtFmt *f, const VrtDomainNetDef *net, VrtDomainNetType shown)
{
    E(esc_net_source_network, net->source_network);
    E(esc_net_portgroup, net->portgroup);
    E(esc_net_source_bridge, net->source_bridge);

    if (shown == VRT_DOMAIN_NET_TYPE_HOSTDEV) {
        const VrtPciAddr *src =
            net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV ? &net->hostdev_source : &net->actual.hostdev_addr;
        format_hostdev_source(f, src, true);
        return;
    }
    if (net->type == VRT_DOMAIN_NET_TYPE_NETWORK) {
        g_autoptr(GString) attrs = g_string_new(NULL);
        g_string_append_printf(attrs, " network='%s'", esc_net_source_network);
        if (net->portgroup)
            g_string_append_printf(attrs, " portgroup='%s'", esc_net_portgroup);
        if (is_live(f) && net->port_uuid_set) {
            char uuid[VRT_UUID_STRING_LEN];
            vrt_uuid_format(net->port_uuid, uuid);
            g_string_append_printf(attrs, " portid='%s'", uuid);
        }
        if (is_live(f) && !is_status(f) && net->actual.set && net->actual.bridge) {
            g_autofree char *br = vrt_xml_escape(net->actual.bridge);
            g_string_append_printf(attrs, " bridge='%s'", br);
        }
        vrt_fmt_line(f, "<source%s/>", attrs->str);
    } else if (net->type == VRT_DOMAIN_NET_TYPE_BRIDGE) {
        vrt_fmt_line(f, "<source bridge='%s'/>", esc_net_source_bridge);
    } else if (net->type >= VRT_DOMAIN_NET_TYPE_SERVER) {
        vrt_net_socket_source_format(f->buf, f->indent, &net->socket, net->type == VRT_DOMAIN_NET_TYPE_UDP);
    }
}

static void
format_net_driver(VrtFmt *f, const VrtDomainNetDef *net)
{
    g_autoptr(GString) attrs = g_string_new(NULL);
    g_autoptr(GString) children = g_string_new(NULL);

    if (net->driver_name)
        g_string_append_printf(attrs, " name='%s'", net->driver_name);
    vrt_net_driver_opts_format_attrs(attrs, &net->driver);
    if (net->driver_queues)
        g_string_append_printf(attrs, " queues='%u'", net->driver_queues);
    vrt_net_driver_opts_format_attrs_tail(attrs, &net->driver);
    if (vrt_net_driver_opts_format_children(children, &net->driver, (f->indent + 1) * 2)) {
        vrt_fmt_line(f, "<driver%s>", attrs->str);
        g_string_append(f->buf, children->str);
        vrt_fmt_line(f, "</driver>");
    } else if (attrs->len) {
        vrt_fmt_line(f, "<driver%s/>", attrs->str);
    }
}

void
vrt_format_net(VrtFmt *f, const VrtDomainNetDef *net)
{
    /* the live view shows the type the guest got, as libvirt does */
    bool public_actual = is_live(f) && !is_status(f) && net->type == VRT_DOMAIN_NET_TYPE_NETWORK && net->actual.set;
    VrtDomainNetType shown = public_actual ? net->actual.type : net->type;
    bool managed = net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV ? net->managed : net->actual.managed;
    const guint *tags = net->vlan_tags;
    guint n_tags = net->n_vlan_tags;

    const char *trust = net->host.trust_rx_filters == VRT_TRISTATE_YES  ? " trustGuestRxFilters='yes'"
                        : net->host.trust_rx_filters == VRT_TRISTATE_NO ? " trustGuestRxFilters='no'"
                                                                        : "";

    if (shown == VRT_DOMAIN_NET_TYPE_HOSTDEV)
        vrt_fmt_line(f, "<interface type='hostdev'%s%s>", managed ? " managed='yes'" : "", trust);
    else
        vrt_fmt_line(f, "<interface type='%s'%s>", vrt_net_type_names[shown], trust);
    f->indent++;
    if (net->mac_set) {
        char mac[VRT_MAC_STRING_LEN];
        vrt_mac_format(net->mac, mac);
        vrt_fmt_line(f, "<mac address='%s'/>", mac);
    }
    if (shown == VRT_DOMAIN_NET_TYPE_HOSTDEV)
        format_net_driver(f, net); /* libvirt writes it before the source here */
    format_net_source(f, net, shown);
    if (shown == VRT_DOMAIN_NET_TYPE_ETHERNET)
        vrt_net_host_source_format(f->buf, f->indent, &net->host);
    if (is_status(f) && net->actual.set && net->type == VRT_DOMAIN_NET_TYPE_NETWORK)
        format_net_actual(f, net);
    if (public_actual && net->actual.n_vlan_tags) {
        tags = net->actual.vlan_tags;
        n_tags = net->actual.n_vlan_tags;
    }
    format_vlan(f, tags, n_tags, net->vlan_trunk);
    vrt_net_vport_format(f->buf, f->indent, &net->vport);
    /* the live view shows the bandwidth in effect (a portgroup's), as libvirt */
    vrt_bandwidth_format(f->buf, public_actual ? &net->actual.bandwidth : &net->bandwidth, f->indent * 2);
    format_port_isolated(f, public_actual ? net->actual.port_isolated : net->port_isolated);
    vrt_net_script_format(f->buf, f->indent, &net->host);
    if (net->ifname &&
        (is_live(f) || net->host.unmanaged || !g_str_has_prefix(net->ifname, VRT_DOMAIN_NET_AUTO_IFNAME_PREFIX))) {
        E(esc_net_ifname, net->ifname);
        vrt_fmt_line(f, "<target dev='%s'%s/>", esc_net_ifname, net->host.unmanaged ? " managed='no'" : "");
    } else if (net->host.unmanaged) {
        vrt_fmt_line(f, "<target managed='no'/>");
    }
    if (net->model && shown != VRT_DOMAIN_NET_TYPE_HOSTDEV)
        vrt_fmt_line(f, "<model type='%s'/>", net->model);
    if (shown != VRT_DOMAIN_NET_TYPE_HOSTDEV)
        format_net_driver(f, net);
    vrt_net_backend_format(f->buf, f->indent, &net->host);
    format_teaming(f, net->teaming, net->teaming_persistent);
    if (net->link_up != VRT_TRISTATE_DEFAULT)
        vrt_fmt_line(f, "<link state='%s'/>", net->link_up == VRT_TRISTATE_YES ? "up" : "down");
    if (net->mtu)
        vrt_fmt_line(f, "<mtu size='%u'/>", net->mtu);
    format_info(f, &net->info);
    f->indent--;
    vrt_fmt_line(f, "</interface>");
}

void
vrt_format_hostdev(VrtFmt *f, const VrtDomainHostdevDef *h)
{
    vrt_fmt_line(f, "<hostdev mode='subsystem' type='pci' managed='%s'>", h->managed ? "yes" : "no");
    f->indent++;
    if (h->driver_name)
        vrt_fmt_line(f, "<driver name='%s'/>", h->driver_name);
    format_hostdev_source(f, &h->source, false);
    format_teaming(f, h->teaming, h->teaming_persistent);
    format_info(f, h->info);
    f->indent--;
    vrt_fmt_line(f, "</hostdev>");
}

/* The <source>s of a TCP or UDP chardev, and a TCP one's <protocol>, in
 * libvirt's order. */
static void
format_chr_net_source(VrtFmt *f, const VrtDomainChrDef *chr)
{
    g_autoptr(GString) a = g_string_new(NULL);

    if (chr->type == VRT_DOMAIN_CHR_TYPE_TCP) {
        g_string_append_printf(a, " mode='%s'", chr->listen ? "bind" : "connect");
        vrt_xml_format_attr(a, "host", chr->host);
        vrt_xml_format_attr(a, "service", chr->service);
        if (chr->tls)
            g_string_append_printf(a, " tls='%s'", chr->tls == VRT_TRISTATE_YES ? "yes" : "no");
        vrt_fmt_line(f, "<source%s/>", a->str);
        vrt_fmt_line(f, "<protocol type='%s'/>", chr->telnet ? "telnet" : "raw");
    } else if (chr->type == VRT_DOMAIN_CHR_TYPE_UDP) {
        if (chr->bind_host || chr->bind_service) {
            vrt_xml_format_attr(a, "host", chr->bind_host);
            vrt_xml_format_attr(a, "service", chr->bind_service);
            vrt_fmt_line(f, "<source mode='bind'%s/>", a->str);
            g_string_truncate(a, 0);
        }
        if (chr->host || chr->service) {
            vrt_xml_format_attr(a, "host", chr->host);
            vrt_xml_format_attr(a, "service", chr->service);
            vrt_fmt_line(f, "<source mode='connect'%s/>", a->str);
        }
    }
}

void
vrt_format_chr(VrtFmt *f, const VrtDomainChrDef *chr)
{
    const char *el = vrt_chr_device_names[chr->devtype];
    bool show_path = chr->path && (chr->type != VRT_DOMAIN_CHR_TYPE_PTY || is_live(f));
    E(esc_chr_path, chr->path);
    E(esc_chr_target_name, chr->target_name);

    if (chr->type == VRT_DOMAIN_CHR_TYPE_PTY && chr->devtype == VRT_DOMAIN_CHR_DEVICE_CONSOLE && show_path)
        vrt_fmt_line(f, "<%s type='pty' tty='%s'>", el, esc_chr_path);
    else
        vrt_fmt_line(f, "<%s type='%s'>", el, vrt_chr_type_names[chr->type]);
    f->indent++;
    if (show_path) {
        bool kids = vrt_dev_seclabels_shown(f, chr->seclabels);
        const char *end = kids ? ">" : "/>";

        switch (chr->type) {
        case VRT_DOMAIN_CHR_TYPE_UNIX:
            vrt_fmt_line(f, "<source mode='%s' path='%s'%s", chr->listen ? "bind" : "connect", esc_chr_path, end);
            break;
        case VRT_DOMAIN_CHR_TYPE_FILE:
            if (chr->append != VRT_TRISTATE_DEFAULT)
                vrt_fmt_line(f, "<source path='%s' append='%s'%s", esc_chr_path,
                             chr->append == VRT_TRISTATE_YES ? "on" : "off", end);
            else
                vrt_fmt_line(f, "<source path='%s'%s", esc_chr_path, end);
            break;
        case VRT_DOMAIN_CHR_TYPE_PTY:
        case VRT_DOMAIN_CHR_TYPE_DEV:
        case VRT_DOMAIN_CHR_TYPE_PIPE: vrt_fmt_line(f, "<source path='%s'%s", esc_chr_path, end); break;
        default: break;
        }
        if (kids) {
            f->indent++;
            vrt_format_dev_seclabels(f, chr->seclabels);
            f->indent--;
            vrt_fmt_line(f, "</source>");
        }
    }
    vrt_format_chr_extra_source(f, chr);
    format_chr_net_source(f, chr);
    vrt_format_chr_log(f, chr);
    {
        g_autoptr(GString) t = g_string_new(NULL);
        if (chr->target_type)
            g_string_append_printf(t, " type='%s'", chr->target_type);
        if (chr->guestfwd_addr)
            g_string_append_printf(t, " address='%s' port='%d'", chr->guestfwd_addr, chr->target_port);
        if (chr->target_name)
            g_string_append_printf(t, " name='%s'", esc_chr_target_name);
        if (chr->target_port >= 0 && chr->devtype != VRT_DOMAIN_CHR_DEVICE_CHANNEL)
            g_string_append_printf(t, " port='%d'", chr->target_port);
        if (chr->target_model) {
            vrt_fmt_line(f, "<target%s>", t->str);
            f->indent++;
            vrt_fmt_line(f, "<model name='%s'/>", chr->target_model);
            f->indent--;
            vrt_fmt_line(f, "</target>");
        } else if (t->len) {
            vrt_fmt_line(f, "<target%s/>", t->str);
        }
    }
    format_info(f, &chr->info);
    if (chr->isa_addr) {
        g_autoptr(GString) a = g_string_new(NULL);

        /* libvirt writes the values that are not 0 */
        if (chr->isa_iobase)
            g_string_append_printf(a, " iobase='0x%x'", chr->isa_iobase);
        if (chr->isa_irq)
            g_string_append_printf(a, " irq='0x%x'", chr->isa_irq);
        vrt_fmt_line(f, "<address type='isa'%s/>", a->str);
    }
    f->indent--;
    vrt_fmt_line(f, "</%s>", el);
}

void
vrt_format_input(VrtFmt *f, const VrtDomainInputDef *in)
{
    g_autoptr(GString) driver = g_string_new(NULL);
    bool has_driver = vrt_virtio_options_present(&in->virtio);

    vrt_virtio_options_format(driver, &in->virtio);

    g_autofree char *bus = g_str_equal(in->bus, "none") ? g_strdup("") : g_strdup_printf(" bus='%s'", in->bus);

    if (!has_driver && !in->evdev && !info_has_content(f, &in->info)) {
        vrt_fmt_line(f, "<input type='%s'%s/>", in->type, bus);
        return;
    }
    vrt_fmt_line(f, "<input type='%s'%s>", in->type, bus);
    f->indent++;
    vrt_format_input_source(f, in);
    if (has_driver)
        vrt_fmt_line(f, "<driver%s/>", driver->str);
    format_info(f, &in->info);
    f->indent--;
    vrt_fmt_line(f, "</input>");
}

void
vrt_format_graphics(VrtFmt *f, const VrtDomainGraphicsDef *g)
{
    if (g->type != VRT_DOMAIN_GRAPHICS_VNC && g->type != VRT_DOMAIN_GRAPHICS_SPICE)
        vrt_format_graphics_local(f, g);
    else
        vrt_format_graphics_remote(f, g);
}

void
vrt_format_video(VrtFmt *f, const VrtDomainVideoDef *v)
{
    g_autoptr(GString) attrs = g_string_new(NULL);
    g_autoptr(GString) driver = g_string_new(NULL);

    g_string_append_printf(attrs, "type='%s'", v->model);
    if (v->ram)
        g_string_append_printf(attrs, " ram='%u'", v->ram);
    if (v->vram)
        g_string_append_printf(attrs, " vram='%u'", v->vram);
    if (v->vram64)
        g_string_append_printf(attrs, " vram64='%u'", v->vram64);
    if (v->vgamem)
        g_string_append_printf(attrs, " vgamem='%u'", v->vgamem);
    if (v->heads)
        g_string_append_printf(attrs, " heads='%u'", v->heads);
    if (v->primary)
        g_string_append(attrs, " primary='yes'");
    vrt_fmt_line(f, "<video>");
    f->indent++;
    vrt_virtio_options_format(driver, &v->virtio);
    if (vrt_virtio_options_present(&v->virtio))
        vrt_fmt_line(f, "<driver%s/>", driver->str);
    if (v->accel || v->res_x) {
        vrt_fmt_line(f, "<model %s>", attrs->str);
        f->indent++;
        vrt_format_video_model_children(f, v);
        f->indent--;
        vrt_fmt_line(f, "</model>");
    } else
        vrt_fmt_line(f, "<model %s/>", attrs->str);
    format_info(f, &v->info);
    f->indent--;
    vrt_fmt_line(f, "</video>");
}

void
vrt_format_memballoon(VrtFmt *f, const VrtDomainMemballoonDef *b)
{
    const char *ad = b->autodeflate == VRT_TRISTATE_YES  ? " autodeflate='on'"
                     : b->autodeflate == VRT_TRISTATE_NO ? " autodeflate='off'"
                                                         : "";
    const char *fpr = b->free_page_reporting == VRT_TRISTATE_YES  ? " freePageReporting='on'"
                      : b->free_page_reporting == VRT_TRISTATE_NO ? " freePageReporting='off'"
                                                                  : "";
    g_autoptr(GString) driver = g_string_new(NULL);
    bool has_driver = vrt_virtio_options_present(&b->virtio);

    vrt_virtio_options_format(driver, &b->virtio);

    if (!b->stats_period && !has_driver && !info_has_content(f, &b->info)) {
        vrt_fmt_line(f, "<memballoon model='%s'%s%s/>", b->model, ad, fpr);
        return;
    }
    vrt_fmt_line(f, "<memballoon model='%s'%s%s>", b->model, ad, fpr);
    f->indent++;
    if (b->stats_period)
        vrt_fmt_line(f, "<stats period='%u'/>", b->stats_period);
    format_info(f, &b->info);
    /* libvirt writes the balloon's <driver> after its address */
    if (has_driver)
        vrt_fmt_line(f, "<driver%s/>", driver->str);
    f->indent--;
    vrt_fmt_line(f, "</memballoon>");
}

void
vrt_format_rng(VrtFmt *f, const VrtDomainRngDef *r)
{
    g_autoptr(GString) driver = g_string_new(NULL);
    E(esc_r_backend_path, r->backend_path);

    vrt_fmt_line(f, "<rng model='%s'>", r->model);
    f->indent++;
    if (r->rate_bytes && r->rate_period)
        vrt_fmt_line(f, "<rate bytes='%u' period='%u'/>", r->rate_bytes, r->rate_period);
    else if (r->rate_bytes)
        vrt_fmt_line(f, "<rate bytes='%u'/>", r->rate_bytes);
    vrt_fmt_line(f, "<backend model='random'>%s</backend>", esc_r_backend_path);
    vrt_virtio_options_format(driver, &r->virtio);
    if (vrt_virtio_options_present(&r->virtio))
        vrt_fmt_line(f, "<driver%s/>", driver->str);
    format_info(f, &r->info);
    f->indent--;
    vrt_fmt_line(f, "</rng>");
}

void
vrt_format_watchdog(VrtFmt *f, const VrtDomainWatchdogDef *w)
{
    g_autofree char *action = w->action ? g_strdup_printf(" action='%s'", w->action) : g_strdup("");

    if (!info_has_content(f, &w->info)) {
        vrt_fmt_line(f, "<watchdog model='%s'%s/>", w->model, action);
        return;
    }
    vrt_fmt_line(f, "<watchdog model='%s'%s>", w->model, action);
    f->indent++;
    format_info(f, &w->info);
    f->indent--;
    vrt_fmt_line(f, "</watchdog>");
}

bool
vrt_format_device(VrtFmt *f, const VrtDomainDeviceDef *dev, GError **error)
{
    switch (dev->type) {
    case VRT_DOMAIN_DEVICE_DISK: vrt_format_disk(f, dev->data.disk); break;
    case VRT_DOMAIN_DEVICE_NET: vrt_format_net(f, dev->data.net); break;
    case VRT_DOMAIN_DEVICE_HOSTDEV: vrt_format_hostdev(f, dev->data.hostdev); break;
    case VRT_DOMAIN_DEVICE_CONTROLLER: vrt_format_controller(f, dev->data.controller); break;
    case VRT_DOMAIN_DEVICE_CHR: vrt_format_chr(f, dev->data.chr); break;
    case VRT_DOMAIN_DEVICE_INPUT: vrt_format_input(f, dev->data.input); break;
    case VRT_DOMAIN_DEVICE_VIDEO: vrt_format_video(f, dev->data.video); break;
    case VRT_DOMAIN_DEVICE_RNG: vrt_format_rng(f, dev->data.rng); break;
    case VRT_DOMAIN_DEVICE_WATCHDOG: vrt_format_watchdog(f, dev->data.watchdog); break;
    case VRT_DOMAIN_DEVICE_MEMBALLOON: vrt_format_memballoon(f, dev->data.memballoon); break;
    case VRT_DOMAIN_DEVICE_GRAPHICS: vrt_format_graphics(f, dev->data.graphics); break;
    case VRT_DOMAIN_DEVICE_FILESYSTEM: vrt_format_filesystem(f, dev->data.fs); break;
    default: vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "unknown device type %d", dev->type); return false;
    }
    return true;
}
