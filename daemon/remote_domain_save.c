/*
 * Handlers of save, restore and managed save (virsh save, restore,
 * managedsave, save-image-*, managedsave-*), over the QEMU driver's
 * qemu_save.c.
 */
#include "daemon/daemon.h"
#include "drivers/qemu/qemu_driver.h"
#include "util/error.h"

static VrtQemuDriver *
qemu(VrtCall *call, GError **error)
{
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;
    if (!drv)
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running");
    return drv;
}

#define DRV(call, error)                        \
    VrtQemuDriver *drv = qemu((call), (error)); \
    if (!drv)                                   \
    return false

bool
vrt_handle_domain_save(VrtCall *call, remote_domain_save_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_save(drv, WIRE_UUID(args->dom.uuid), args->to, NULL, 0, error);
}

bool
vrt_handle_domain_save_flags(VrtCall *call, remote_domain_save_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_save(drv, WIRE_UUID(args->dom.uuid), args->to, args->dxml ? *args->dxml : NULL, args->flags,
                                error);
}

bool
vrt_handle_domain_restore(VrtCall *call, remote_domain_restore_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_restore(drv, args->from, NULL, 0, error);
}

bool
vrt_handle_domain_restore_flags(VrtCall *call, remote_domain_restore_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_restore(drv, args->from, args->dxml ? *args->dxml : NULL, args->flags, error);
}

bool
vrt_handle_domain_save_image_get_xml_desc(VrtCall *call, remote_domain_save_image_get_xml_desc_args *args,
                                          remote_domain_save_image_get_xml_desc_ret *ret, GError **error)
{
    DRV(call, error);
    ret->xml = vrt_qemu_domain_save_image_get_xml(drv, args->file, args->flags, error);
    return ret->xml != NULL;
}

bool
vrt_handle_domain_save_image_define_xml(VrtCall *call, remote_domain_save_image_define_xml_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_save_image_define_xml(drv, args->file, args->dxml, args->flags, error);
}

bool
vrt_handle_domain_managed_save(VrtCall *call, remote_domain_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_managed_save(drv, WIRE_UUID(args->dom.uuid), args->flags, error);
}

bool
vrt_handle_domain_managed_save_remove(VrtCall *call, remote_domain_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_managed_save_remove(drv, WIRE_UUID(args->dom.uuid), error);
}

bool
vrt_handle_domain_managed_save_get_xml_desc(VrtCall *call, remote_domain_flags_args *args,
                                            remote_domain_managed_save_get_xml_desc_ret *ret, GError **error)
{
    DRV(call, error);
    ret->xml = vrt_qemu_domain_managed_save_get_xml(drv, WIRE_UUID(args->dom.uuid), args->flags, error);
    return ret->xml != NULL;
}

bool
vrt_handle_domain_managed_save_define_xml(VrtCall *call, remote_domain_managed_save_define_xml_args *args,
                                          GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_managed_save_define_xml(drv, WIRE_UUID(args->dom.uuid), args->dxml ? *args->dxml : NULL,
                                                   args->flags, error);
}

bool
vrt_handle_domain_core_dump(VrtCall *call, remote_domain_core_dump_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_core_dump(drv, WIRE_UUID(args->dom.uuid), args->to, 0, args->flags, error);
}

bool
vrt_handle_domain_core_dump_with_format(VrtCall *call, remote_domain_core_dump_with_format_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_core_dump(drv, WIRE_UUID(args->dom.uuid), args->to, args->dumpformat, args->flags, error);
}
