/*
 * Saving a running domain's state to a file and starting it again from
 * there (virsh save / restore / managedsave), in libvirt's save image
 * format: a header ("LibvirtQemudSave", version 2, the XML's length, whether
 * the domain ran), the domain XML padded with 64 KiB of zeros, then QEMU's
 * migration stream. A file saved by vrt restores under libvirt and the
 * other way round. Inside the QEMU driver only.
 */
#pragma once

#include "drivers/qemu/qemu_domain.h"

/* What a restore hands the start it runs (obj->restore, under the start job). */
typedef struct _VrtQemuRestore {
    char *path; /* the image */
    guint64 offset; /* where QEMU's stream begins */
} VrtQemuRestore;

/* <lib_dir>/save/NAME.save */
char *vrt_qemu_save_managed_path(VrtQemuDriver *drv, const char *name);
/* Whether a domain loaded from its definition has a managed save image
 * (read once at load; the object's flag follows it afterwards). */
bool vrt_qemu_save_managed_exists(VrtQemuDriver *drv, const char *name);

/* The start of a domain that has a managed save image: restored from it
 * (the image removed once it runs), or booted with VRT_DOMAIN_START_FORCE_BOOT
 * (the image removed first). Called under the start job, domain inactive. */
bool vrt_qemu_save_start_managed(VrtQemuDom *obj, guint flags, GError **error);

/* After QEMU started with -incoming defer (obj->restore set): loads the
 * state from the image and waits until QEMU has it. */
bool vrt_qemu_save_load_incoming(VrtQemuDom *obj, VrtQemuMonitor *mon, GError **error);

/* Undefine's rule (under its job): a domain with a managed save image is
 * refused as libvirt does, unless flags has VIR_DOMAIN_UNDEFINE_MANAGED_SAVE,
 * which removes the image. */
bool vrt_qemu_save_undefine_check(VrtQemuDom *obj, guint flags, GError **error);
