/*
 * PCI functions of the host as sysfs shows them: addresses, drivers, IOMMU
 * groups, net devices, and the driver changes vrt makes (detach to
 * vfio-pci, reattach to the host driver, reset), each verified by reading
 * sysfs back. All access goes through the VrtHost seam.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "host/host.h"
#include "util/pciaddr.h"

#define VRT_PCI_VFIO_DRIVER "vfio-pci"

/* "/sys/bus/pci/devices/0000:06:10.0[/attr]" */
char *vrt_pci_sysfs_path(const VrtPciAddr *addr, const char *attr);

bool vrt_pci_exists(VrtHost *host, const VrtPciAddr *addr);
/* Current driver name in *driver, NULL when unbound. */
bool vrt_pci_get_driver(VrtHost *host, const VrtPciAddr *addr, char **driver, GError **error);
/* IOMMU group number, -1 with error set when the device has none. */
int vrt_pci_get_iommu_group(VrtHost *host, const VrtPciAddr *addr, GError **error);
/* Addresses (VrtPciAddr *) of every device in an IOMMU group, sorted. */
GPtrArray *vrt_pci_iommu_group_devices(VrtHost *host, int group, GError **error);
/* Names of the net devices of a PCI function (empty when it has none). */
GPtrArray *vrt_pci_get_netdevs(VrtHost *host, const VrtPciAddr *addr, GError **error);

/* Binds the device to vfio-pci through driver_override, returning its
 * previous driver (NULL when it had none) in *orig_driver. Idempotent when
 * already on vfio-pci. */
bool vrt_pci_detach(VrtHost *host, const VrtPciAddr *addr, char **orig_driver, GError **error);
/* Gives the device back: clears driver_override, unbinds from vfio-pci,
 * binds to `driver` (or lets the kernel probe when NULL) and verifies. */
bool vrt_pci_reattach(VrtHost *host, const VrtPciAddr *addr, const char *driver, GError **error);
/* Function-level reset through the "reset" attribute. */
bool vrt_pci_reset(VrtHost *host, const VrtPciAddr *addr, GError **error);

/* Whether the host itself uses the function: its netdev is up, or it is
 * bound to a driver other than its PF's VF driver and vfio-pci. Returns
 * 1 (busy, *why says how), 0 (free) or -1 (error). */
int vrt_pci_is_busy_on_host(VrtHost *host, const VrtPciAddr *addr, char **why, GError **error);
