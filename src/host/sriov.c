/*
 * SR-IOV relations read from the physfn/virtfnN links and the sriov_*
 * attributes, and VF admin settings (MAC, VLAN, spoof check, trust) that
 * live in the PF and change over netlink.
 */
#include "host/sriov.h"

#include <string.h>

#include "util/error.h"

/* Host drivers for VFs of common PF drivers; a PF driver that also drives
 * its VFs (mlx5_core, bnxt_en, ...) maps to itself. */
static const struct {
    const char *pf;
    const char *vf;
} vf_drivers[] = {
    { "ixgbe", "ixgbevf" }, { "igb", "igbvf" },           { "i40e", "iavf" },           { "ice", "iavf" },
    { "ixgbevf", NULL },    { "mlx5_core", "mlx5_core" }, { "mlx4_core", "mlx4_core" }, { "bnxt_en", "bnxt_en" },
    { "qede", "qede" },     { "enic", "enic" },
};

const char *
vrt_sriov_vf_driver_for(const char *pf_driver)
{
    if (!pf_driver)
        return NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(vf_drivers); i++)
        if (strcmp(vf_drivers[i].pf, pf_driver) == 0)
            return vf_drivers[i].vf;
    return NULL;
}

static bool
link_addr(VrtHost *host, const VrtPciAddr *addr, const char *attr, VrtPciAddr *out, GError **error)
{
    g_autofree char *path = vrt_pci_sysfs_path(addr, attr);
    g_autofree char *name = NULL;
    g_autoptr(GError) err = NULL;

    name = vrt_host_link_name(host, path, &err);
    if (err) {
        g_propagate_error(error, g_steal_pointer(&err));
        return false;
    }
    if (!name)
        return false;
    return vrt_pci_addr_parse(name, out, error);
}

int
vrt_sriov_get_pf(VrtHost *host, const VrtPciAddr *addr, VrtPciAddr *pf, guint *vf_index, GError **error)
{
    g_autoptr(GPtrArray) vfs = NULL;
    g_autoptr(GError) err = NULL;

    if (!link_addr(host, addr, "physfn", pf, &err)) {
        if (err) {
            g_propagate_error(error, g_steal_pointer(&err));
            return -1;
        }
        return 0;
    }
    if (!(vfs = vrt_sriov_list_vfs(host, pf, error)))
        return -1;
    for (guint i = 0; i < vfs->len; i++) {
        if (vrt_pci_addr_equal(vfs->pdata[i], addr)) {
            *vf_index = i;
            return 1;
        }
    }
    {
        g_autofree char *s = vrt_pci_addr_format(addr);
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "VF %s is not listed by its PF", s);
    }
    return -1;
}

GPtrArray *
vrt_sriov_list_vfs(VrtHost *host, const VrtPciAddr *pf, GError **error)
{
    g_autoptr(GPtrArray) vfs = g_ptr_array_new_with_free_func(g_free);

    /* virtfnN links are numbered densely from 0 in VF index order */
    for (guint i = 0;; i++) {
        g_autofree char *attr = g_strdup_printf("virtfn%u", i);
        g_autoptr(GError) err = NULL;
        VrtPciAddr vf;

        if (!link_addr(host, pf, attr, &vf, &err)) {
            if (err) {
                g_propagate_error(error, g_steal_pointer(&err));
                return NULL;
            }
            break;
        }
        g_ptr_array_add(vfs, g_memdup2(&vf, sizeof(vf)));
    }
    return g_steal_pointer(&vfs);
}

bool
vrt_sriov_pf_from_netdev(VrtHost *host, const char *ifname, VrtPciAddr *pf, GError **error)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/device", ifname);
    g_autofree char *name = NULL;

    if (strchr(ifname, '/') || !vrt_host_exists(host, path)) {
        vrt_error_set(error, VIR_ERR_NO_NODE_DEVICE, "no PCI network interface '%s' on this host", ifname);
        return false;
    }
    if (!(name = vrt_host_link_name(host, path, error)))
        return false;
    return vrt_pci_addr_parse(name, pf, error);
}

GPtrArray *
vrt_sriov_list_vfs_by_netdev(VrtHost *host, const char *pf_ifname, GError **error)
{
    VrtPciAddr pf;

    if (!vrt_sriov_pf_from_netdev(host, pf_ifname, &pf, error))
        return NULL;
    return vrt_sriov_list_vfs(host, &pf, error);
}

static int
read_count(VrtHost *host, const VrtPciAddr *pf, const char *attr, GError **error)
{
    g_autofree char *path = vrt_pci_sysfs_path(pf, attr);
    guint64 n;

    if (!vrt_host_exists(host, path)) {
        g_autofree char *s = vrt_pci_addr_format(pf);
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s is not SR-IOV capable", s);
        return -1;
    }
    if (!vrt_host_read_u64(host, path, &n, error))
        return -1;
    return (int)MIN(n, (guint64)G_MAXINT);
}

int
vrt_sriov_get_totalvfs(VrtHost *host, const VrtPciAddr *pf, GError **error)
{
    return read_count(host, pf, "sriov_totalvfs", error);
}

char *
vrt_sriov_pf_netdev(VrtHost *host, const VrtPciAddr *pf, GError **error)
{
    g_autoptr(GPtrArray) names = vrt_pci_get_netdevs(host, pf, error);

    if (!names)
        return NULL;
    if (names->len == 0) {
        g_autofree char *s = vrt_pci_addr_format(pf);
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PF %s has no network interface (is its driver loaded?)", s);
        return NULL;
    }
    return g_strdup(names->pdata[0]);
}

/* The PF interface and VF index that netlink calls for `vf` go through. */
static bool
vf_route(VrtHost *host, const VrtPciAddr *vf, char **pf_ifname, guint *index, GError **error)
{
    VrtPciAddr pf;
    int rc = vrt_sriov_get_pf(host, vf, &pf, index, error);

    if (rc < 0)
        return false;
    if (rc == 0) {
        g_autofree char *s = vrt_pci_addr_format(vf);
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s is not an SR-IOV virtual function", s);
        return false;
    }
    *pf_ifname = vrt_sriov_pf_netdev(host, &pf, error);
    return *pf_ifname != NULL;
}

bool
vrt_sriov_get_vf_config(VrtHost *host, const VrtPciAddr *vf, VrtVfInfo *info, GError **error)
{
    g_autofree char *pf_ifname = NULL;
    guint index;

    if (!vf_route(host, vf, &pf_ifname, &index, error))
        return false;
    return vrt_netlink_get_vf(vrt_host_netlink(host), pf_ifname, index, info, error);
}

bool
vrt_sriov_set_vf_config(VrtHost *host, const VrtPciAddr *vf, const VrtVfInfo *info, guint fields, GError **error)
{
    g_autofree char *pf_ifname = NULL;
    g_autofree char *what = NULL;
    guint index;

    if (!vf_route(host, vf, &pf_ifname, &index, error))
        return false;
    what = g_strdup_printf("netlink setlink %s vf %u", pf_ifname, index);
    if (!vrt_host_check_fault(host, what, error))
        return false;
    return vrt_netlink_set_vf(vrt_host_netlink(host), pf_ifname, index, info, fields, error);
}
