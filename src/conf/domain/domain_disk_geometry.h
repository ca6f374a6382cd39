/*
 * What a disk tells the guest about its shape: the BIOS geometry
 * (<geometry cyls= heads= secs= trans=>) and the block sizes
 * (<blockio logical_block_size= physical_block_size=>). Read and checked
 * as libvirt 9.0 reads them, written back in libvirt's place (after
 * <source>, before <target>) and given to QEMU's disk device as the
 * properties libvirt sets (cyls, heads, secs, bios-chs-trans,
 * logical_block_size, physical_block_size).
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>

typedef enum {
    VRT_DISK_TRANS_DEFAULT = 0, /* not given: QEMU chooses */
    VRT_DISK_TRANS_NONE,
    VRT_DISK_TRANS_AUTO,
    VRT_DISK_TRANS_LBA,
} VrtDiskTrans;

typedef struct {
    guint cyls, heads, secs; /* 0 = not given */
    VrtDiskTrans trans;
    guint logical_block_size, physical_block_size; /* 0 = not given */
} VrtDiskGeometry;

/* <geometry>, <blockio>: 1 when child is one of them (read), 0 when not,
 * -1 on error */
int vrt_disk_geometry_parse_child(xmlNodePtr child, VrtDiskGeometry *g, GError **error);
/* libvirt's QEMU checks once the bus is known (libvirt's bus name) */
bool vrt_disk_geometry_validate(const VrtDiskGeometry *g, const char *bus, GError **error);
/* <geometry> and <blockio> as libvirt writes them, each when set */
void vrt_disk_geometry_format(GString *buf, guint indent, const VrtDiskGeometry *g);
/* QEMU's bios-chs-trans value; NULL when not given */
const char *vrt_disk_geometry_trans_name(const VrtDiskGeometry *g);
