/*
 * The node device driver: the host's devices as libvirt's node device API
 * shows them (the computer, PCI functions, network interfaces), read from
 * sysfs through the host seam each time they are asked for, and the
 * detach/reattach/reset of PCI functions. Host facts come from the host
 * seam (VrtHost); who uses a device comes from the daemon's VF ownership
 * registry (drivers/vf_registry.h): a detach, reattach or reset claims the
 * device there before it looks at or changes anything and gives it back
 * when done, so a device a domain or a pool port holds cannot be moved by
 * hand, and no domain takes a device while it is being moved.
 *
 * Thread safety: every call may come from any thread; detach, reattach and
 * reset are serialized by the driver (its lock, taken after the claim).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "conf/nodedev/nodedev_conf.h"
#include "drivers/vf_registry.h"
#include "host/host.h"
#include "host/pci.h"

/* libvirt's virConnectListAllNodeDeviceFlags values */
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_SYSTEM (1u << 0)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV (1u << 1)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_USB_DEV (1u << 2)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_USB_INTERFACE (1u << 3)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET (1u << 4)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_HOST (1u << 5)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_TARGET (1u << 6)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI (1u << 7)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_STORAGE (1u << 8)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_FC_HOST (1u << 9)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_VPORTS (1u << 10)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_GENERIC (1u << 11)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_DRM (1u << 12)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV_TYPES (1u << 13)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV (1u << 14)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_CCW_DEV (1u << 15)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_CSS_DEV (1u << 16)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_VDPA (1u << 17)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_AP_CARD (1u << 18)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_AP_QUEUE (1u << 19)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_AP_MATRIX (1u << 20)
#define VIR_CONNECT_LIST_NODE_DEVICES_CAP_VPD (1u << 21)
#define VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE (1u << 30)
#define VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE (1u << 31)

typedef struct _VrtNodedevDriver VrtNodedevDriver;

/* The driver borrows host and vfs (the VF ownership registry; NULL: no
 * check of who uses a device), which must outlive it. */
VrtNodedevDriver *vrt_nodedev_driver_new(VrtHost *host, VrtVfRegistry *vfs, GError **error);
void vrt_nodedev_driver_free(VrtNodedevDriver *drv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNodedevDriver, vrt_nodedev_driver_free)

/* The calls vrtd serves are vrt_nodedev_drv_*: libvrt's public vrt_nodedev_*
 * are the client's side of the same libvirt API. */

/* Sorted device names matching the VIR_CONNECT_LIST_NODE_DEVICES_* flags
 * (no capability flag: all). */
GPtrArray *vrt_nodedev_drv_list(VrtNodedevDriver *drv, guint flags, GError **error);
/* Number of devices with capability `cap` ("pci", "net", "system"; NULL:
 * all), -1 on error. */
int vrt_nodedev_drv_count(VrtNodedevDriver *drv, const char *cap, GError **error);
/* Sorted names with capability `cap` (NULL: all). */
GPtrArray *vrt_nodedev_drv_list_names(VrtNodedevDriver *drv, const char *cap, GError **error);
bool vrt_nodedev_drv_exists(VrtNodedevDriver *drv, const char *name, GError **error);
/* The device's definition / XML; VIR_ERR_NO_NODE_DEVICE when unknown. */
VrtNodedevDef *vrt_nodedev_drv_get_def(VrtNodedevDriver *drv, const char *name, GError **error);
char *vrt_nodedev_drv_get_xml(VrtNodedevDriver *drv, const char *name, GError **error);
char *vrt_nodedev_drv_get_parent(VrtNodedevDriver *drv, const char *name, GError **error);
GPtrArray *vrt_nodedev_drv_list_caps(VrtNodedevDriver *drv, const char *name, GError **error);

/* Refused (VIR_ERR_OPERATION_INVALID, "PCI device ADDR is in use by
 * domain 'NAME'") while anyone else holds the device in the registry.
 * driver_name: NULL, "" or "vfio". */
bool vrt_nodedev_drv_detach(VrtNodedevDriver *drv, const char *name, const char *driver_name, GError **error);
bool vrt_nodedev_drv_reattach(VrtNodedevDriver *drv, const char *name, GError **error);
bool vrt_nodedev_drv_reset(VrtNodedevDriver *drv, const char *name, GError **error);
