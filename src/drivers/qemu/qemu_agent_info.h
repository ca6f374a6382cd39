/*
 * The QEMU driver's guest information read through the guest agent:
 * libvirt's virDomainGetGuestInfo (users, OS, timezone, hostname,
 * filesystems, disks, interfaces as libvirt's typed parameters) and
 * virDomainGetFSInfo (the mounted filesystems with the domain's disks
 * behind each).
 */
#pragma once
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_driver_stats.h"

/* virDomainGuestInfoTypes */
#define VRT_DOMAIN_GUEST_INFO_USERS (1u << 0)
#define VRT_DOMAIN_GUEST_INFO_OS (1u << 1)
#define VRT_DOMAIN_GUEST_INFO_TIMEZONE (1u << 2)
#define VRT_DOMAIN_GUEST_INFO_HOSTNAME (1u << 3)
#define VRT_DOMAIN_GUEST_INFO_FILESYSTEM (1u << 4)
#define VRT_DOMAIN_GUEST_INFO_DISKS (1u << 5)
#define VRT_DOMAIN_GUEST_INFO_INTERFACES (1u << 6)

/* virDomainGetGuestInfo: the parameters (VrtTypedParam*, a boolean one
 * with type VRT_TYPED_PARAM_BOOLEAN and its value in v.i) of the asked
 * types, all when types is 0 (then what the agent does not offer is left
 * out, as libvirt does). */
GPtrArray *vrt_qemu_domain_get_guest_info(VrtQemuDriver *drv, const guchar *uuid, guint types, guint flags,
                                          GError **error);

/* One filesystem of virDomainGetFSInfo. */
typedef struct {
    char *mountpoint;
    char *name;
    char *fstype;
    GPtrArray *dev_aliases; /* char*: the targets of the domain's disks it lies on */
} VrtDomainFSInfo;
void vrt_domain_fsinfo_free(VrtDomainFSInfo *fs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainFSInfo, vrt_domain_fsinfo_free)

/* virDomainGetFSInfo: VrtDomainFSInfo*, in mount order. */
GPtrArray *vrt_qemu_domain_get_fsinfo(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
