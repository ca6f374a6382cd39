/*
 * SR-IOV relations of PCI functions (a PF's VFs in index order, a VF's PF
 * and index, VF counts) and VF settings changed through the PF over the
 * host's netlink channel.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "host/host.h"
#include "host/netlink.h"
#include "host/pci.h"

/* 1 when addr is a VF (then *pf and *vf_index are set), 0 when not, -1 on
 * error. */
int vrt_sriov_get_pf(VrtHost *host, const VrtPciAddr *addr, VrtPciAddr *pf, guint *vf_index, GError **error);
/* A PF's VFs (VrtPciAddr *) in VF index order. */
GPtrArray *vrt_sriov_list_vfs(VrtHost *host, const VrtPciAddr *pf, GError **error);
/* The PCI address of the PF behind a net device name. */
bool vrt_sriov_pf_from_netdev(VrtHost *host, const char *ifname, VrtPciAddr *pf, GError **error);
GPtrArray *vrt_sriov_list_vfs_by_netdev(VrtHost *host, const char *pf_ifname, GError **error);
/* sriov_totalvfs; -1 with error when not SR-IOV capable. */
int vrt_sriov_get_totalvfs(VrtHost *host, const VrtPciAddr *pf, GError **error);
/* First net device of the PF (the one netlink VF calls go through). */
char *vrt_sriov_pf_netdev(VrtHost *host, const VrtPciAddr *pf, GError **error);
/* The driver the host uses for VFs of a PF driver ("ixgbe" -> "ixgbevf"). */
const char *vrt_sriov_vf_driver_for(const char *pf_driver);

/* A VF's admin settings held by its PF. */
bool vrt_sriov_get_vf_config(VrtHost *host, const VrtPciAddr *vf, VrtVfInfo *info, GError **error);
bool vrt_sriov_set_vf_config(VrtHost *host, const VrtPciAddr *vf, const VrtVfInfo *info, guint fields, GError **error);
