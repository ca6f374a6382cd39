/*
 * Driver wiring (see drivers.h): the host seam and node devices first, then
 * networks (whose hostdev pools ask the node device layer for a PF's VFs),
 * then QEMU domains, whose events go to the daemon's event registry.
 */
#include "daemon/drivers.h"
#include "drivers/network/network_driver.h"
#include "drivers/qemu/qemu_driver.h"
#include "host/host.h"
#include "drivers/nodedev/nodedev.h"
#include "host/pci.h"
#include "host/sriov.h"
#include "util/error.h"

static GPtrArray *
pf_vfs(const char *pf_dev, gpointer data, GError **error)
{
    VrtDaemon *daemon = data;
    return vrt_sriov_list_vfs_by_netdev(daemon->host, pf_dev, error);
}

/* A VF the host itself uses (netdev up, foreign driver) is not free. */
static int
vf_busy(const VrtPciAddr *addr, char **why, gpointer data, GError **error)
{
    VrtDaemon *daemon = data;
    return vrt_pci_is_busy_on_host(daemon->host, addr, why, error);
}

/* Who uses a PCI device, for node device detach/reattach refusals. */
static char *
pci_in_use(const VrtPciAddr *addr, gpointer data)
{
    VrtDaemon *daemon = data;
    g_autofree char *text = vrt_pci_addr_format(addr);
    char *owner = vrt_network_vf_owner(daemon->network, addr);
    /* A VF or device a domain holds by address, not through a pool. */
    if (!owner && daemon->qemu)
        owner = vrt_qemu_driver_pci_owner(daemon->qemu, text);
    return owner;
}

static void
on_lifecycle(const VrtDomainRef *dom, int event, int detail, gpointer data)
{
    vrt_daemon_emit_lifecycle(data, dom->name, dom->uuid, dom->id, event, detail);
}

static void
on_device_removed(const VrtDomainRef *dom, const char *alias, gpointer data)
{
    vrt_daemon_emit_device_removed(data, dom->name, dom->uuid, dom->id, alias);
}

bool
vrt_daemon_drivers_init(VrtDaemon *daemon, GError **error)
{
    daemon->host = vrt_host_new(daemon->host_root, error);
    if (!daemon->host)
        return false;
    daemon->nodedev = vrt_nodedev_driver_new(daemon->host, error);
    if (!daemon->nodedev)
        return false;

    daemon->network = vrt_network_driver_new(daemon->root, pf_vfs, daemon, error);
    if (!daemon->network)
        return false;
    vrt_network_driver_set_vf_busy_func(daemon->network, vf_busy, daemon);
    vrt_nodedev_set_in_use_func(daemon->nodedev, pci_in_use, daemon);
    if (!vrt_network_driver_load(daemon->network, error))
        return false;

    VrtQemuDriverConfig cfg = {
        .root = daemon->root,
        .emulator = daemon->emulator,
        .lifecycle_event = on_lifecycle,
        .device_removed = on_device_removed,
        .data = daemon,
        .host = daemon->host,
        .network = daemon->network, /* hostdev job: VFs and pools */
        .config_sync_ms = daemon->cfg.config_sync_ms,
    };
    daemon->qemu = vrt_qemu_driver_new(&cfg, error);
    if (!daemon->qemu || !vrt_qemu_driver_load(daemon->qemu, error))
        return false;
    return true;
}

void
vrt_daemon_drivers_reload(VrtDaemon *daemon)
{
    g_message("reloading domain and network definitions");
    vrt_network_driver_reload(daemon->network);
    vrt_qemu_driver_reload(daemon->qemu);
}

void
vrt_daemon_drivers_free(VrtDaemon *daemon)
{
    g_clear_pointer((VrtQemuDriver **)&daemon->qemu, vrt_qemu_driver_free);
    g_clear_pointer((VrtNetworkDriver **)&daemon->network, vrt_network_driver_free);
    g_clear_pointer((VrtNodedevDriver **)&daemon->nodedev, vrt_nodedev_driver_free);
    g_clear_pointer((VrtHost **)&daemon->host, vrt_host_free);
}
