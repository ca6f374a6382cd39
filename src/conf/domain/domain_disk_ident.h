/*
 * What a disk tells the guest about itself beyond its serial: the tray
 * of a cdrom or floppy (<target tray='open'>), whether a USB disk says
 * it is removable (<target removable=>), the rotation rate
 * (<target rotation_rate=>, 1 = solid state), and the SCSI/IDE
 * identity (<wwn>, and a SCSI disk's <vendor> and <product>). Read and
 * checked as libvirt does, written back in libvirt's places, and passed
 * to QEMU's disk device as the properties libvirt sets (qemu_command.c).
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>

#include "util/tristate.h"

typedef struct {
    bool tray_open; /* tray='open' (libvirt writes tray= only when open) */
    VrtTristate removable; /* usb bus only; QEMU is told "off" when not given */
    guint rotation_rate; /* 0 = not given */
    char *wwn; /* as written: 16 hex digits, "0x" optional */
    char *vendor; /* SCSI only, at most 8 printable characters */
    char *product; /* SCSI only, at most 16 */
} VrtDiskIdent;

/* The tray=, removable= and rotation_rate= attributes of a disk's <target> */
bool vrt_disk_ident_parse_target(xmlNodePtr target, VrtDiskIdent *id, GError **error);
/* <wwn>, <vendor>, <product>: 1 when child is one of them (read), 0 when
 * not, -1 on error */
int vrt_disk_ident_parse_child(xmlNodePtr child, VrtDiskIdent *id, GError **error);
/* libvirt's checks once the disk's device and bus are known (bus and
 * device are libvirt's names: "scsi", "ide", "sata"; "disk", "cdrom") */
bool vrt_disk_ident_validate(const VrtDiskIdent *id, const char *device, const char *bus, GError **error);
/* the attributes libvirt writes into <target> after dev= and bus= */
void vrt_disk_ident_format_target(GString *attrs, const VrtDiskIdent *id);
/* the elements libvirt writes after <serial> */
void vrt_disk_ident_format_children(GString *buf, guint indent, const VrtDiskIdent *id);
/* The wwn as QEMU's number; false when it does not fit the JSON number
 * vrt writes (above 2^63 - 1: refused at start by name) */
bool vrt_disk_ident_wwn_value(const VrtDiskIdent *id, gint64 *out);
void vrt_disk_ident_clear(VrtDiskIdent *id);
