/*
 * The hostdev job (qemu_hostdev.h) run on a QEMU domain object
 * (qemu_hostdev_domain.c): what hotplug, process start/stop and the
 * driver's reconnect call. All with the domain's job held and its object
 * lock NOT held.
 */
#pragma once

#include "drivers/qemu/qemu_domain.h"

/* Whether dev goes through the hostdev job (hostdev kinds, pool networks). */
bool vrt_qemu_hostdev_dom_wants(VrtQemuDom *obj, const VrtDomainDeviceDef *dev);
/* QEMU's access to the VFIO group of the function at addr, given before
 * its hotplug and taken back after its unplug (qemu_vfio_confine.c). */
bool vrt_qemu_vfio_grant(VrtQemuDom *obj, const VrtPciAddr *addr, GError **error);
void vrt_qemu_vfio_revoke(VrtQemuDom *obj, const VrtPciAddr *addr);
/* The device nodes (VrtQemuDevNode) QEMU's private /dev needs for def's
 * host devices: /dev/vfio/vfio and one labelled /dev/vfio/N per IOMMU
 * group, as the host seam names them (reads sysfs: no lock held). */
GPtrArray *vrt_qemu_vfio_dev_nodes(VrtQemuDriver *drv, const VrtDomainDef *def);
/* The same for a domain object's live definition. */
GPtrArray *vrt_qemu_vfio_dom_dev_nodes(VrtQemuDom *obj);
/* The same for a status file's definition and the VFs its unfinished
 * hostdev records gave QEMU (a QEMU found gone by a restarted vrtd). */
GPtrArray *vrt_qemu_vfio_status_dev_nodes(VrtQemuDriver *drv, const VrtQemuStatus *st);
bool vrt_qemu_hostdev_dom_attach(VrtQemuDom *obj, VrtDomainDeviceDef *dev, GError **error);
/* *handled false: not a device of the hostdev job (the caller goes on).
 * *removed: the alias (g_malloc'ed) when the device is gone already, for
 * the caller to finish as any removed device. */
bool vrt_qemu_hostdev_dom_detach(VrtQemuDom *obj, const char *xml, const char *alias, bool *handled, char **removed,
                                 GError **error);
/* Detaches the emulated interface alias through the same job (one
 * device_del, one wait, one pending state); *removed as above. */
bool vrt_qemu_hostdev_dom_unplug(VrtQemuDom *obj, const char *alias, char **removed, GError **error);
/* Finishes a hostdev removal on DEVICE_DELETED; false when alias is not one. */
bool vrt_qemu_hostdev_dom_device_deleted(VrtQemuDom *obj, const char *alias);
/* Start: sets up the hostdev devices of def (the definition being started);
 * freeing the result gives them back, vrt_qemu_hostdev_start_commit keeps
 * them (then vrt_qemu_hostdev_dom_release at stop gives them back). */
typedef struct _VrtQemuHostdevStart VrtQemuHostdevStart;
VrtQemuHostdevStart *vrt_qemu_hostdev_dom_prepare_start(VrtQemuDom *obj, VrtDomainDef *def, GError **error);
void vrt_qemu_hostdev_start_commit(VrtQemuHostdevStart *hs);
void vrt_qemu_hostdev_start_free(VrtQemuHostdevStart *hs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtQemuHostdevStart, vrt_qemu_hostdev_start_free)
void vrt_qemu_hostdev_dom_release(VrtQemuDom *obj);
/* Tells the driver's listeners (DEVICE_REMOVED) that alias left. */
void vrt_qemu_hostdev_dom_emit_removed(VrtQemuDom *obj, const char *alias);
/* After a reconnect: finish or undo unfinished jobs (hostdev or a pending
 * detach of an emulated interface). */
void vrt_qemu_hostdev_dom_recover(VrtQemuDom *obj);
/* QEMU died while vrtd was down: give back the VFs of the status file. */
void vrt_qemu_hostdev_dom_release_dead(VrtQemuDom *obj, VrtQemuStatus *st);
/* Driver load, after reconnecting: gives back VFs of starts a killed daemon
 * left unfinished. */
void vrt_qemu_hostdev_driver_load(VrtQemuDriver *drv);
