/*
 * PCI functions through sysfs (addresses are util/pciaddr.h): driver/IOMMU/netdev
 * look-ups, and the driver_override based detach/reattach that vrt uses to
 * hand a function to vfio-pci and back. Every change is read back: the
 * kernel may accept a write and still leave the device elsewhere.
 */
#include "host/pci.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "host/sriov.h"
#include "util/error.h"

char *
vrt_pci_sysfs_path(const VrtPciAddr *addr, const char *attr)
{
    g_autofree char *s = vrt_pci_addr_format(addr);
    return g_strdup_printf("/sys/bus/pci/devices/%s%s%s", s, attr ? "/" : "", attr ? attr : "");
}

bool
vrt_pci_exists(VrtHost *host, const VrtPciAddr *addr)
{
    g_autofree char *path = vrt_pci_sysfs_path(addr, NULL);
    return vrt_host_exists(host, path);
}

static bool
require_device(VrtHost *host, const VrtPciAddr *addr, GError **error)
{
    if (!vrt_pci_exists(host, addr)) {
        g_autofree char *s = vrt_pci_addr_format(addr);
        vrt_error_set(error, VIR_ERR_NO_NODE_DEVICE, "no PCI device %s on this host", s);
        return false;
    }
    return true;
}

bool
vrt_pci_get_driver(VrtHost *host, const VrtPciAddr *addr, char **driver, GError **error)
{
    g_autofree char *path = vrt_pci_sysfs_path(addr, "driver");
    g_autoptr(GError) err = NULL;

    if (!require_device(host, addr, error))
        return false;
    *driver = vrt_host_link_name(host, path, &err);
    if (err) {
        g_propagate_error(error, g_steal_pointer(&err));
        return false;
    }
    return true;
}

int
vrt_pci_get_iommu_group(VrtHost *host, const VrtPciAddr *addr, GError **error)
{
    g_autofree char *path = vrt_pci_sysfs_path(addr, "iommu_group");
    g_autofree char *name = NULL;
    g_autoptr(GError) err = NULL;
    guint64 n;

    if (!require_device(host, addr, error))
        return -1;
    name = vrt_host_link_name(host, path, &err);
    if (!name || !g_ascii_string_to_unsigned(name, 10, 0, G_MAXINT, &n, NULL)) {
        g_autofree char *s = vrt_pci_addr_format(addr);
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s has no IOMMU group (is the IOMMU on?)", s);
        return -1;
    }
    return (int)n;
}

GPtrArray *
vrt_pci_iommu_group_devices(VrtHost *host, int group, GError **error)
{
    g_autofree char *path = g_strdup_printf("/sys/kernel/iommu_groups/%d/devices", group);
    g_autoptr(GPtrArray) names = vrt_host_list_dir(host, path, error);
    g_autoptr(GPtrArray) addrs = g_ptr_array_new_with_free_func(g_free);

    if (!names)
        return NULL;
    for (guint i = 0; i < names->len; i++) {
        VrtPciAddr a;
        if (vrt_pci_addr_parse(names->pdata[i], &a, NULL))
            g_ptr_array_add(addrs, g_memdup2(&a, sizeof(a)));
    }
    return g_steal_pointer(&addrs);
}

GPtrArray *
vrt_pci_get_netdevs(VrtHost *host, const VrtPciAddr *addr, GError **error)
{
    g_autofree char *path = vrt_pci_sysfs_path(addr, "net");
    return vrt_host_list_dir(host, path, error);
}

static bool
write_addr(VrtHost *host, const char *path, const VrtPciAddr *addr, GError **error)
{
    g_autofree char *s = vrt_pci_addr_format(addr);
    return vrt_host_write(host, path, s, error);
}

static bool
set_override(VrtHost *host, const VrtPciAddr *addr, const char *driver, GError **error)
{
    g_autofree char *path = vrt_pci_sysfs_path(addr, "driver_override");
    /* a lone newline clears the override; an empty write would not reach the kernel */
    return vrt_host_write(host, path, driver ? driver : "\n", error);
}

static bool
unbind(VrtHost *host, const VrtPciAddr *addr, const char *driver, GError **error)
{
    g_autofree char *path = g_strdup_printf("/sys/bus/pci/drivers/%s/unbind", driver);
    return write_addr(host, path, addr, error);
}

static bool
probe(VrtHost *host, const VrtPciAddr *addr, GError **error)
{
    return write_addr(host, "/sys/bus/pci/drivers_probe", addr, error);
}

static bool reattach_locked(VrtHost *host, const VrtPciAddr *addr, const char *driver, GError **error);

static bool
detach_locked(VrtHost *host, const VrtPciAddr *addr, char **orig_driver, GError **error)
{
    g_autofree char *s = vrt_pci_addr_format(addr);
    g_autofree char *driver = NULL;
    g_autofree char *now = NULL;
    g_autoptr(GError) undo = NULL;

    *orig_driver = NULL;
    if (!vrt_pci_get_driver(host, addr, &driver, error))
        return false;
    if (g_strcmp0(driver, VRT_PCI_VFIO_DRIVER) == 0)
        return set_override(host, addr, VRT_PCI_VFIO_DRIVER, error);
    if (!vrt_host_exists(host, "/sys/bus/pci/drivers/" VRT_PCI_VFIO_DRIVER)) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "cannot detach PCI device %s: the vfio-pci driver is not loaded",
                      s);
        return false;
    }
    if (!set_override(host, addr, VRT_PCI_VFIO_DRIVER, error))
        return false;
    if (driver && !unbind(host, addr, driver, error))
        goto rollback;
    if (!probe(host, addr, error) || !vrt_pci_get_driver(host, addr, &now, error))
        goto rollback;
    if (g_strcmp0(now, VRT_PCI_VFIO_DRIVER) != 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "PCI device %s did not bind to vfio-pci (driver now: %s)", s,
                      now ? now : "none");
        goto rollback;
    }
    g_info("PCI device %s detached from %s to vfio-pci", s, driver ? driver : "no driver");
    *orig_driver = g_steal_pointer(&driver);
    return true;

rollback:
    if (!reattach_locked(host, addr, driver, &undo))
        g_warning("PCI device %s: cannot give it back to %s after a failed detach: %s", s,
                  driver ? driver : "its driver", undo->message);
    return false;
}

static bool
reattach_locked(VrtHost *host, const VrtPciAddr *addr, const char *driver, GError **error)
{
    g_autofree char *s = vrt_pci_addr_format(addr);
    g_autofree char *cur = NULL;
    g_autofree char *now = NULL;

    if (!vrt_pci_get_driver(host, addr, &cur, error))
        return false;
    if (!set_override(host, addr, NULL, error))
        return false;
    if (cur && driver && strcmp(cur, driver) == 0)
        return true;
    if (cur && strcmp(cur, VRT_PCI_VFIO_DRIVER) != 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s is bound to '%s', not to vfio-pci", s, cur);
        return false;
    }
    if (cur && !unbind(host, addr, cur, error))
        return false;
    if (driver) {
        g_autofree char *bind = g_strdup_printf("/sys/bus/pci/drivers/%s/bind", driver);
        g_autoptr(GError) bind_err = NULL;
        if (!write_addr(host, bind, addr, &bind_err)) {
            g_autoptr(GError) scratch = NULL;
            /* a probe may still reach the driver (or at least some driver) */
            g_warning("PCI device %s: %s; probing instead", s, bind_err->message);
            if (!probe(host, addr, &scratch) || !vrt_pci_get_driver(host, addr, &now, &scratch) ||
                g_strcmp0(now, driver) != 0) {
                g_propagate_error(error, g_steal_pointer(&bind_err));
                return false;
            }
        }
    } else if (!probe(host, addr, error)) {
        return false;
    }
    g_clear_pointer(&now, g_free);
    if (!vrt_pci_get_driver(host, addr, &now, error))
        return false;
    if (driver ? g_strcmp0(now, driver) != 0 : g_strcmp0(now, VRT_PCI_VFIO_DRIVER) == 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "PCI device %s did not bind to %s (driver now: %s)", s,
                      driver ? driver : "a host driver", now ? now : "none");
        return false;
    }
    g_info("PCI device %s reattached to %s", s, now ? now : "no driver");
    return true;
}

static bool
reset_locked(VrtHost *host, const VrtPciAddr *addr, GError **error)
{
    g_autofree char *path = vrt_pci_sysfs_path(addr, "reset");
    g_autofree char *s = vrt_pci_addr_format(addr);

    if (!require_device(host, addr, error))
        return false;
    if (!vrt_host_exists(host, path)) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED,
                      "cannot reset PCI device %s: the kernel offers no reset method for it", s);
        return false;
    }
    return vrt_host_write(host, path, "1", error);
}

bool
vrt_pci_detach(VrtHost *host, const VrtPciAddr *addr, char **orig_driver, GError **error)
{
    g_autoptr(GRecMutexLocker) locker = vrt_host_changes_locker(host);

    return detach_locked(host, addr, orig_driver, error);
}

bool
vrt_pci_reattach(VrtHost *host, const VrtPciAddr *addr, const char *driver, GError **error)
{
    g_autoptr(GRecMutexLocker) locker = vrt_host_changes_locker(host);

    return reattach_locked(host, addr, driver, error);
}

bool
vrt_pci_reset(VrtHost *host, const VrtPciAddr *addr, GError **error)
{
    g_autoptr(GRecMutexLocker) locker = vrt_host_changes_locker(host);

    return reset_locked(host, addr, error);
}

static int
netdev_up(VrtHost *host, const char *ifname, GError **error)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/flags", ifname);
    guint64 flags;

    if (!vrt_host_read_u64(host, path, &flags, error))
        return -1;
    return (flags & IFF_UP) ? 1 : 0;
}

int
vrt_pci_is_busy_on_host(VrtHost *host, const VrtPciAddr *addr, char **why, GError **error)
{
    g_autofree char *driver = NULL;
    g_autoptr(GPtrArray) netdevs = NULL;
    VrtPciAddr pf;
    guint index;
    int is_vf;

    *why = NULL;
    if (!vrt_pci_get_driver(host, addr, &driver, error))
        return -1;
    if ((is_vf = vrt_sriov_get_pf(host, addr, &pf, &index, error)) < 0)
        return -1;
    if (is_vf && driver && strcmp(driver, VRT_PCI_VFIO_DRIVER) != 0) {
        g_autofree char *pf_driver = NULL;
        const char *vf_driver;
        if (!vrt_pci_get_driver(host, &pf, &pf_driver, error))
            return -1;
        vf_driver = vrt_sriov_vf_driver_for(pf_driver);
        if (!vf_driver || strcmp(driver, vf_driver) != 0) {
            *why = g_strdup_printf("it is bound to the host driver '%s'", driver);
            return 1;
        }
    }
    if (!(netdevs = vrt_pci_get_netdevs(host, addr, error)))
        return -1;
    for (guint i = 0; i < netdevs->len; i++) {
        const char *ifname = netdevs->pdata[i];
        g_autofree char *ifindex_path = g_strdup_printf("/sys/class/net/%s/ifindex", ifname);
        guint64 ifindex = 0;
        guint addrs = 0;
        int up = netdev_up(host, ifname, error);

        if (up < 0)
            return -1;
        if (up) {
            *why = g_strdup_printf("its host interface '%s' is up", ifname);
            return 1;
        }
        /* An interface that is down may still carry addresses someone set. */
        if (!vrt_host_read_u64(host, ifindex_path, &ifindex, error) ||
            !vrt_netlink_count_addrs(vrt_host_netlink(host), (guint)ifindex, &addrs, error))
            return -1;
        if (addrs > 0) {
            *why = g_strdup_printf("its host interface '%s' has %u address%s", ifname, addrs, addrs == 1 ? "" : "es");
            return 1;
        }
    }
    return 0;
}
