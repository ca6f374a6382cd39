/*
 * Internal snapshots of a domain's qcow2 disks (virsh snapshot-*): taken,
 * reverted and deleted with qemu-img on a shut-off domain and with QEMU's
 * savevm/loadvm/delvm (disks and memory) on a running one. Their metadata,
 * libvirt's snapshot XML, lives in <lib_dir>/snapshot/NAME/SNAP.xml and is
 * loaded with the domain. Inside the QEMU driver only.
 */
#pragma once

#include "drivers/qemu/qemu_domain.h"

/* Loads obj's snapshot metadata (a new domain object, before it is shared). */
void vrt_qemu_snapshot_load(VrtQemuDom *obj);
/* Frees obj's snapshot list (VrtSnapshotDef*). */
void vrt_qemu_snapshot_clear(VrtQemuDom *obj);
/* Undefine's rule (under its job): a domain with snapshots is refused as
 * libvirt does, unless flags has VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
 * which removes their metadata. */
bool vrt_qemu_snapshot_undefine_check(VrtQemuDom *obj, guint flags, GError **error);
