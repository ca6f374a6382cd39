/*
 * The SR-IOV re-plug of a live migration. libvirt migrates a domain with
 * a PCI host device only when it is the transient half of a <teaming>
 * pair; vrt moves those (an <interface type='hostdev'> naming its VF, or a
 * plain <hostdev type='pci'> with its own <teaming>) and, beyond libvirt,
 * any interface of type network whose network is a hostdev pool (<forward
 * mode='hostdev'>). None can move with QEMU's state: its VF stays on its
 * host. So the source unplugs it through the journaled hostdev job (the
 * detach API's own) before the transfer, the migration cookie carries the
 * plan (network, MAC, VLAN, alias; a plain hostdev has neither MAC nor
 * VLAN), the destination claims a port on the network of the same name at
 * prepare (no free VF: the migration fails before anything moved; a fixed
 * VF's same address must be a VF of that host nobody uses) and plugs a VF,
 * an interface's with its MAC and VLAN, once the state has arrived, before
 * the guest runs there. Any failure after the unplug plugs the source's
 * original VF back (another from its pool when that one was taken
 * meanwhile) and the guest runs on at the source. qemu_migration.c calls
 * these at its phases, with the domain's job held.
 */
#include "drivers/qemu/qemu_migration_hostdev.h"
#include "drivers/qemu/qemu_hostdev_domain.h"
#include "drivers/vf_registry.h"
#include "host/pci.h"
#include "host/sriov.h"
#include "util/error.h"
#include "util/mac.h"
#include "util/uuid.h"
#include "util/xml.h"

/* Whether net is an interface of a hostdev pool (type network, actual
 * type hostdev). */
static bool
is_pool_hostdev(const VrtDomainNetDef *net)
{
    return net->type == VRT_DOMAIN_NET_TYPE_NETWORK && net->actual.set &&
           net->actual.type == VRT_DOMAIN_NET_TYPE_HOSTDEV;
}

/* Whether net is a fixed VF libvirt migrates: an <interface
 * type='hostdev'> that is the transient half of a teaming pair. */
static bool
is_teaming_vf(const VrtDomainNetDef *net)
{
    return net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV && net->teaming == VRT_DOMAIN_NET_TEAMING_TRANSIENT;
}

/* Whether hd is a plain <hostdev> libvirt migrates: the transient half
 * of a teaming pair. */
static bool
is_teaming_hostdev(const VrtDomainHostdevDef *hd)
{
    return !hd->parent_net && hd->teaming == VRT_DOMAIN_NET_TEAMING_TRANSIENT;
}

/* "interface" or "hostdev": what a plan entry is, for messages */
static const char *
plan_kind(const VrtMigrationHostdev *h)
{
    return h->hostdev ? "hostdev" : "interface";
}

/* "interface ALIAS (network 'NET')" / "interface ALIAS (VF ADDR)" /
 * "hostdev ALIAS (VF ADDR)", for messages. */
static char *
plan_describe(const VrtMigrationHostdev *h)
{
    char vf[VRT_PCI_ADDR_STRING_LEN];

    if (h->fixed)
        return g_strdup_printf("%s %s (VF %s)", plan_kind(h), h->alias ? h->alias : "",
                               vrt_pci_addr_format_buf(&h->vf, vf));
    return g_strdup_printf("interface %s (network '%s')", h->alias ? h->alias : "", h->network);
}

/* Plan entry h's interface in def: the hostdev-backed one with its MAC,
 * never the virtio half of a teaming pair sharing that MAC. Not by alias:
 * the destination names a re-plugged interface itself. */
static VrtDomainNetDef *
plan_net(const VrtDomainDef *def, const VrtMigrationHostdev *h)
{
    if (h->hostdev)
        return NULL;
    return vrt_domain_def_find_hostdev_net_by_mac(def, h->mac, h->fixed ? NULL : h->network, NULL);
}

/* Whether plan entry h's device is in def (an interface by its MAC, a
 * plain hostdev by its PCI address). */
static bool
plan_present(const VrtDomainDef *def, const VrtMigrationHostdev *h)
{
    const VrtDomainHostdevDef *hd;

    if (!h->hostdev)
        return plan_net(def, h) != NULL;
    hd = vrt_domain_def_find_hostdev_by_source(def, &h->vf);
    return hd && !hd->parent_net;
}

bool
vrt_qemu_migration_hostdev_plan(VrtQemuDom *obj, GPtrArray **plan, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_migration_hostdev_free);
    VrtDomainDef *def = obj->def;

    *plan = NULL;
    /* libvirt's refusals for what cannot move: a host device that is
     * neither a pool's interface nor a teaming pair's transient VF. */
    for (guint i = 0; def->hostdevs && i < def->hostdevs->len; i++) {
        VrtDomainHostdevDef *hd = g_ptr_array_index(def->hostdevs, i);

        if (is_teaming_hostdev(hd))
            continue;
        if (!hd->parent_net) {
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                          "cannot migrate a domain with <hostdev mode='subsystem' type='pci'>");
            return false;
        }
        if (!is_pool_hostdev(hd->parent_net) && !is_teaming_vf(hd->parent_net)) {
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                          "cannot migrate a domain with <interface type='hostdev'>");
            return false;
        }
    }
    if (def->subsys_hostdevs && def->subsys_hostdevs->len) {
        const VrtDomainSubsysHostdevDef *sd = def->subsys_hostdevs->pdata[0];

        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                      "cannot migrate a domain with <hostdev mode='subsystem' type='%s'>",
                      sd->type == VRT_SUBSYS_HOSTDEV_MDEV   ? "mdev"
                      : sd->type == VRT_SUBSYS_HOSTDEV_SCSI ? "scsi"
                                                            : "scsi_host");
        return false;
    }
    for (guint i = 0; def->nets && i < def->nets->len; i++) {
        VrtDomainNetDef *net = g_ptr_array_index(def->nets, i);
        VrtMigrationHostdev *h;

        if (!is_pool_hostdev(net) && !is_teaming_vf(net))
            continue;
        h = g_new0(VrtMigrationHostdev, 1);
        h->alias = g_strdup(net->info.alias);
        if (is_teaming_vf(net)) {
            h->fixed = true;
            h->vf = net->hostdev_source;
            h->managed = net->managed;
        } else {
            h->network = g_strdup(net->source_network);
        }
        memcpy(h->mac, net->mac, 6);
        /* The interface's own tags; the network's own VLAN comes with the
         * port at the destination. */
        h->n_vlan_tags = MIN(net->n_vlan_tags, G_N_ELEMENTS(h->vlan_tags));
        memcpy(h->vlan_tags, net->vlan_tags, h->n_vlan_tags * sizeof(guint));
        h->vlan_trunk = net->vlan_trunk;
        if (net->teaming == VRT_DOMAIN_NET_TEAMING_TRANSIENT)
            h->teaming_persistent = g_strdup(net->teaming_persistent);
        h->source_vf = h->fixed ? net->hostdev_source : net->actual.hostdev_addr;
        h->source_vf_set = true;
        g_ptr_array_add(out, h);
    }
    for (guint i = 0; def->hostdevs && i < def->hostdevs->len; i++) {
        VrtDomainHostdevDef *hd = g_ptr_array_index(def->hostdevs, i);
        VrtMigrationHostdev *h;

        if (!is_teaming_hostdev(hd))
            continue;
        h = g_new0(VrtMigrationHostdev, 1);
        h->alias = g_strdup(hd->info->alias);
        h->fixed = true;
        h->hostdev = true;
        h->vf = hd->source;
        h->managed = hd->managed;
        h->teaming_persistent = g_strdup(hd->teaming_persistent);
        h->source_vf = hd->source;
        h->source_vf_set = true;
        g_ptr_array_add(out, h);
    }
    if (out->len)
        *plan = g_steal_pointer(&out);
    return true;
}

char *
vrt_qemu_migration_hostdev_strip(const char *xml, const GPtrArray *plan, GError **error)
{
    g_autoptr(VrtDomainDef) def = NULL;

    if (!plan || !plan->len)
        return g_strdup(xml);
    if (!(def = vrt_domain_def_parse(xml, 0, error)))
        return NULL;
    for (guint i = 0; i < plan->len; i++) {
        const VrtMigrationHostdev *h = g_ptr_array_index(plan, i);
        VrtDomainNetDef *net = plan_net(def, h);
        VrtDomainHostdevDef *hd = h->hostdev ? vrt_domain_def_find_hostdev_by_source(def, &h->vf) : NULL;

        if (net)
            vrt_domain_net_def_free(vrt_domain_def_net_remove(def, net));
        if (hd && !hd->parent_net)
            vrt_domain_hostdev_def_free(vrt_domain_def_hostdev_remove(def, hd));
    }
    return vrt_domain_def_format(def, VRT_DOMAIN_XML_FLAG_SECURE, error);
}

void
vrt_qemu_migration_hostdev_release(VrtQemuDriver *drv, const GPtrArray *plan, GArray *ports)
{
    for (guint i = 0; plan && ports && i < plan->len && i < ports->len; i++) {
        const VrtMigrationHostdev *h = g_ptr_array_index(plan, i);
        VrtMigrationPort *port = &g_array_index(ports, VrtMigrationPort, i);
        g_autoptr(GError) err = NULL;

        if (!port->set)
            continue;
        if (h->fixed) {
            /* Claimed for the domain (port->uuid) in the registry. */
            g_autoptr(VrtVfHolder) holder = vrt_vf_holder_new_domain("", port->uuid);

            if (drv->cfg.vfs)
                vrt_vf_registry_release(drv->cfg.vfs, &port->addr, holder);
            port->set = false;
            continue;
        }
        if (!vrt_network_port_release(drv->cfg.network, h->network, port->uuid, &err))
            g_warning("network '%s': cannot release the port claimed for a migration: %s", h->network, err->message);
        else
            port->set = false;
    }
}

/* A fixed VF at the destination: the same address must be a VF of this
 * host that neither the host nor another domain uses (managed='no': one
 * already on vfio-pci, as the attach wants it); it is held for the
 * domain (name, uuid) in the VF registry until the plug takes it over. */
static bool
claim_fixed(VrtQemuDriver *drv, const char *name, const guchar *uuid, const VrtMigrationHostdev *h,
            VrtMigrationPort *port, GError **error)
{
    g_autoptr(VrtVfHolder) holder = vrt_vf_holder_new_domain(name, uuid);
    const char *alias = h->alias ? h->alias : "";
    const char *kind = plan_kind(h);
    char addr[VRT_PCI_ADDR_STRING_LEN];
    VrtPciAddr pf;
    guint index;

    vrt_pci_addr_format_buf(&h->vf, addr);
    if (!drv->cfg.host) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s", "host devices are not supported by this driver");
        return false;
    }
    if (!vrt_pci_exists(drv->cfg.host, &h->vf)) {
        vrt_error_set(error, VIR_ERR_NO_DEVICE, "PCI device %s of %s %s not found on the destination host", addr, kind,
                      alias);
        return false;
    }
    if (vrt_sriov_get_pf(drv->cfg.host, &h->vf, &pf, &index, NULL) != 1) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                      "PCI device %s of %s %s is not an SR-IOV VF on the destination host", addr, kind, alias);
        return false;
    }
    if (!vrt_qemu_hostdev_host_usable(drv->cfg.host, &h->vf, h->managed, error))
        return false;
    if (drv->cfg.vfs && !vrt_qemu_hostdev_claim_group(drv->cfg.vfs, drv->cfg.host, &h->vf, holder, error))
        return false;
    memcpy(port->uuid, uuid, 16);
    port->addr = h->vf;
    port->set = true;
    return true;
}

GArray *
vrt_qemu_migration_hostdev_claim(VrtQemuDriver *drv, const char *name, const guchar *uuid, const GPtrArray *plan,
                                 GError **error)
{
    g_autoptr(GArray) ports = g_array_sized_new(FALSE, TRUE, sizeof(VrtMigrationPort), plan->len);

    g_array_set_size(ports, plan->len);
    for (guint i = 0; i < plan->len; i++) {
        const VrtMigrationHostdev *h = g_ptr_array_index(plan, i);
        VrtMigrationPort *port = &g_array_index(ports, VrtMigrationPort, i);
        g_autoptr(VrtNetworkPortAlloc) alloc = NULL;

        if (h->fixed) {
            if (!claim_fixed(drv, name, uuid, h, port, error)) {
                vrt_qemu_migration_hostdev_release(drv, plan, ports);
                return NULL;
            }
            continue;
        }
        if (!drv->cfg.network) {
            vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "network driver is not available");
            vrt_qemu_migration_hostdev_release(drv, plan, ports);
            return NULL;
        }
        if (vrt_network_get_forward_mode(drv->cfg.network, h->network, NULL) != VRT_NETWORK_FORWARD_HOSTDEV) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                          "network '%s' of interface %s is not a hostdev pool on this host", h->network,
                          h->alias ? h->alias : "");
            vrt_qemu_migration_hostdev_release(drv, plan, ports);
            return NULL;
        }
        if (!(alloc = vrt_network_port_allocate(drv->cfg.network, h->network, name, uuid, h->mac, error))) {
            vrt_qemu_migration_hostdev_release(drv, plan, ports);
            return NULL;
        }
        memcpy(port->uuid, alloc->port_uuid, 16);
        port->addr = alloc->pci_addr;
        port->set = true;
    }
    return g_steal_pointer(&ports);
}

/* The device of plan entry h, its port given (port_uuid NULL: the pool
 * picks a VF), parsed in obj's context. */
static VrtDomainDeviceDef *
plan_device(VrtQemuDom *obj, const VrtMigrationHostdev *h, const guchar *port_uuid, GError **error)
{
    g_autoptr(GString) xml = g_string_new(NULL);
    g_autoptr(GMutexLocker) locker = NULL;
    VrtDomainDeviceDef *dev;
    char mac[VRT_MAC_STRING_LEN];

    vrt_mac_format(h->mac, mac);
    if (h->hostdev) {
        /* a plain hostdev: no MAC or VLAN of its own */
        g_string_append_printf(xml,
                               "<hostdev mode='subsystem' type='pci' managed='%s'><source>"
                               "<address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/></source>",
                               h->managed ? "yes" : "no", h->vf.domain, h->vf.bus, h->vf.slot, h->vf.function);
    } else if (h->fixed) {
        g_string_append_printf(xml,
                               "<interface type='hostdev' managed='%s'><mac address='%s'/><source>"
                               "<address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>"
                               "</source>",
                               h->managed ? "yes" : "no", mac, h->vf.domain, h->vf.bus, h->vf.slot, h->vf.function);
    } else {
        g_autofree char *network = vrt_xml_escape(h->network);

        g_string_append_printf(xml, "<interface type='network'><mac address='%s'/><source network='%s'/>", mac,
                               network);
    }
    if (h->n_vlan_tags && !h->hostdev) {
        g_string_append_printf(xml, "<vlan%s>", h->vlan_trunk ? " trunk='yes'" : "");
        for (guint t = 0; t < h->n_vlan_tags; t++)
            g_string_append_printf(xml, "<tag id='%u'/>", h->vlan_tags[t]);
        g_string_append(xml, "</vlan>");
    }
    if (h->teaming_persistent) {
        g_autofree char *partner = vrt_xml_escape(h->teaming_persistent);

        g_string_append_printf(xml, "<teaming type='transient' persistent='%s'/>", partner);
    }
    /* a plain hostdev's user alias (ua-) moves with it, as libvirt keeps it */
    if (h->hostdev && h->alias && g_str_has_prefix(h->alias, "ua-")) {
        g_autofree char *alias = vrt_xml_escape(h->alias);

        g_string_append_printf(xml, "<alias name='%s'/>", alias);
    }
    g_string_append(xml, h->hostdev ? "</hostdev>" : "</interface>");
    locker = g_mutex_locker_new(&obj->lock);
    if (!(dev = vrt_domain_device_def_parse(xml->str, obj->def, 0, error)))
        return NULL;
    if (port_uuid && !h->fixed) {
        memcpy(dev->data.net->port_uuid, port_uuid, 16);
        dev->data.net->port_uuid_set = true;
    }
    return dev;
}

bool
vrt_qemu_migration_hostdev_plug(VrtQemuDom *obj, const GPtrArray *plan, GArray *ports, GError **error)
{
    for (guint i = 0; plan && i < plan->len; i++) {
        const VrtMigrationHostdev *h = g_ptr_array_index(plan, i);
        VrtMigrationPort *port = &g_array_index(ports, VrtMigrationPort, i);
        g_autoptr(VrtDomainDeviceDef) dev = plan_device(obj, h, port->uuid, error);

        if (!dev || !vrt_qemu_hotplug_attach_hostdev(obj, dev, error)) {
            g_autofree char *what = plan_describe(h);

            g_prefix_error(error, "cannot plug %s at the destination: ", what);
            return false;
        }
        /* The port is the interface's now: the domain's stop gives it back. */
        port->set = false;
    }
    return true;
}

bool
vrt_qemu_migration_hostdev_unplug(VrtQemuDom *obj, const GPtrArray *plan, GArray **vfs, GError **error)
{
    g_autoptr(GArray) out = g_array_new(FALSE, TRUE, sizeof(VrtMigrationPort));

    *vfs = NULL;
    for (guint i = 0; plan && i < plan->len; i++) {
        const VrtMigrationHostdev *h = g_ptr_array_index(plan, i);
        VrtMigrationPort vf = { 0 };
        bool gone;

        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            VrtDomainNetDef *net = plan_net(obj->def, h);

            if (h->hostdev && plan_present(obj->def, h)) {
                vf.addr = h->vf;
                vf.set = true;
            } else if (net && net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV) {
                vf.addr = net->hostdev_source;
                vf.set = true;
            } else if (net && net->actual.set) {
                vf.addr = net->actual.hostdev_addr;
                vf.set = true;
            }
        }
        if (!vrt_qemu_hotplug_detach(obj, NULL, h->alias, VRT_DOMAIN_AFFECT_LIVE, error)) {
            vrt_qemu_migration_hostdev_replug(obj, plan, out);
            return false;
        }
        g_array_append_val(out, vf);
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            gone = !plan_present(obj->def, h);
        }
        /* The guest holds on to it: the migration cannot go on without
         * the device leaving QEMU; it leaves when the guest lets go. */
        if (!gone) {
            g_array_set_size(out, out->len - 1);
            vrt_qemu_migration_hostdev_replug(obj, plan, out);
            vrt_error_set(error, VIR_ERR_OPERATION_TIMEOUT,
                          "the guest did not release %s %s in time; the migration is not started", plan_kind(h),
                          h->alias);
            return false;
        }
    }
    *vfs = g_steal_pointer(&out);
    return true;
}

GArray *
vrt_qemu_migration_hostdev_source_vfs(const GPtrArray *plan)
{
    GArray *vfs = g_array_new(FALSE, TRUE, sizeof(VrtMigrationPort));

    for (guint i = 0; plan && i < plan->len; i++) {
        const VrtMigrationHostdev *h = g_ptr_array_index(plan, i);
        VrtMigrationPort vf = { .addr = h->source_vf, .set = h->source_vf_set };

        g_array_append_val(vfs, vf);
    }
    return vfs;
}

void
vrt_qemu_migration_hostdev_replug(VrtQemuDom *obj, const GPtrArray *plan, GArray *vfs)
{
    VrtQemuDriver *drv = obj->drv;
    g_autofree char *name = NULL;
    guchar uuid[16];

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        name = g_strdup(obj->def->name);
        memcpy(uuid, obj->def->uuid, 16);
    }
    for (guint i = 0; plan && vfs && i < plan->len && i < vfs->len; i++) {
        const VrtMigrationHostdev *h = g_ptr_array_index(plan, i);
        const VrtMigrationPort *vf = &g_array_index(vfs, VrtMigrationPort, i);
        g_autoptr(VrtDomainDeviceDef) dev = NULL;
        g_autoptr(GError) err = NULL;
        guchar port[16];
        bool reserved = false;
        bool present;

        /* Still there (a restart's re-plug after an unplug it never
         * reached): nothing to do. */
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            present = plan_present(obj->def, h);
        }
        if (present)
            continue;

        /* Its own VF again, when nobody took it meanwhile (a fixed VF:
         * the hostdev job claims it, or says who took it). */
        vrt_uuid_generate(port);
        if (!h->fixed && vf->set && drv->cfg.network) {
            g_autoptr(GError) rerr = NULL;

            reserved =
                vrt_network_port_reserve(drv->cfg.network, h->network, port, name, uuid, h->mac, &vf->addr, &rerr);
            if (!reserved)
                g_warning("domain %s: its VF for %s is taken; another one of network '%s' is plugged: %s", name,
                          h->alias, h->network, rerr->message);
        }
        if (!(dev = plan_device(obj, h, reserved ? port : NULL, &err)) ||
            !vrt_qemu_hotplug_attach_hostdev(obj, dev, &err)) {
            g_autofree char *what = plan_describe(h);

            g_warning("domain %s: cannot plug %s back after the migration failed: %s", name, what, err->message);
            if (reserved) {
                g_autoptr(GError) rel = NULL;

                if (!vrt_network_port_release(drv->cfg.network, h->network, port, &rel))
                    g_warning("network '%s': %s", h->network, rel->message);
            }
        }
    }
}
