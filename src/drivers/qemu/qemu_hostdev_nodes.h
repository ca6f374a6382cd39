/*
 * The device nodes a confined QEMU opens for the domain's mdev, scsi and
 * scsi_host hostdevs, as libvirt's qemuDomainGetHostdevPath names them:
 * an mdev's VFIO group node (/dev/vfio/N, N from the mediated device's
 * iommu_group link) with the container /dev/vfio/vfio, a host adapter
 * LUN's SCSI generic node (/dev/sgN; read-only for a <readonly/> LUN) and
 * /dev/vhost-scsi for a vhost-scsi host. An iSCSI LUN has none (QEMU
 * reaches it over the network). The cgroup device list, QEMU's private
 * /dev, the DAC labels and the AppArmor profile all take them from here.
 */
#pragma once

#include "conf/domain/domain_conf.h"
#include "host/host.h"

#include <glib.h>

/* The SCSI generic node ("/dev/sgN") of the host adapter LUN a scsi
 * hostdev names, from the host's sysfs (host NULL: this machine's) as
 * libvirt finds it. Errors: libvirt's for an adapter name it cannot read
 * (VIR_ERR_INTERNAL_ERROR), a LUN the host does not have
 * (VIR_ERR_SYSTEM_ERROR) and one without an sg node. */
char *vrt_qemu_scsi_hostdev_sg_node(VrtHost *host, const VrtDomainSubsysHostdevDef *h, GError **error);

/* def's subsystem hostdevs' nodes, each once (VrtQemuDevNode of
 * qemu_security.h: ns_path as QEMU sees it, host_path as the host seam
 * names it, label for every node but the shared /dev/vfio/vfio, readonly
 * for a read-only LUN). A node the host cannot name (no such LUN, an mdev
 * without a group) is left out: the start's own checks refuse it. */
GPtrArray *vrt_qemu_subsys_hostdev_nodes(VrtHost *host, const VrtDomainDef *def);

/* Appends to nodes (VrtQemuDevNode) each of more whose ns_path nodes
 * does not have yet; more is emptied. */
void vrt_qemu_dev_nodes_merge(GPtrArray *nodes, GPtrArray *more);
