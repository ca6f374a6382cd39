/*
 * The SR-IOV re-plug of a live migration (qemu_migration_hostdev.c): the
 * hostdev plan of a domain, the destination's port claims and plug, the
 * source's unplug and re-plug. Called by qemu_migration.c with the
 * domain's job held and its object lock not held.
 */
#pragma once

#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_migration.h"

#include <glib.h>
#include <stdbool.h>

/* A port claimed at the destination (uuid) or the VF an interface had at
 * the source (addr). */
typedef struct {
    guchar uuid[16];
    VrtPciAddr addr;
    bool set;
} VrtMigrationPort;

/* Source: the plan of obj's live definition (*plan NULL when it has no
 * pool interface and no teaming pair's fixed VF); libvirt's
 * VIR_ERR_OPERATION_UNSUPPORTED for a host device that cannot move (a
 * <hostdev> or an <interface type='hostdev'> that is no teaming pair's
 * transient half). */
bool vrt_qemu_migration_hostdev_plan(VrtQemuDom *obj, GPtrArray **plan, GError **error);
/* Destination: the definition xml without the plan's devices (interfaces
 * matched by MAC, plain hostdevs by PCI address): the incoming QEMU starts
 * without them, as the source's QEMU sends its state without them. */
char *vrt_qemu_migration_hostdev_strip(const char *xml, const GPtrArray *plan, GError **error);
/* Destination's prepare: a port on each plan network for the domain (name,
 * uuid), and each fixed VF (the same address, a VF of this host neither
 * the host nor another domain uses) held for it in the VF registry;
 * VrtMigrationPort in plan order; none claimed on failure (the pool's
 * "none are available" error when it has no free VF, the registry's "PCI
 * device ADDR is in use by ..." for a fixed VF another domain holds). */
GArray *vrt_qemu_migration_hostdev_claim(VrtQemuDriver *drv, const char *name, const guchar *uuid,
                                         const GPtrArray *plan, GError **error);
/* Gives back the ports of ports still set (idempotent). */
void vrt_qemu_migration_hostdev_release(VrtQemuDriver *drv, const GPtrArray *plan, GArray *ports);
/* Destination's finish: plugs each plan device on its claimed port
 * (the port becomes the device's; unset in ports). */
bool vrt_qemu_migration_hostdev_plug(VrtQemuDom *obj, const GPtrArray *plan, GArray *ports, GError **error);
/* Source's perform: unplugs each plan device through the hostdev job
 * (the detach API's), *vfs the VFs they had; on failure the ones unplugged
 * are plugged back. */
bool vrt_qemu_migration_hostdev_unplug(VrtQemuDom *obj, const GPtrArray *plan, GArray **vfs, GError **error);
/* The source VFs the plan records (source-vf), as unplug returns them. */
GArray *vrt_qemu_migration_hostdev_source_vfs(const GPtrArray *plan);
/* Source after a failed migration: plugs the plan's devices back, each
 * on its VF of vfs when still free. Errors are logged. */
void vrt_qemu_migration_hostdev_replug(VrtQemuDom *obj, const GPtrArray *plan, GArray *vfs);
