/*
 * Handlers of the node device procedures, over the node device driver
 * (src/drivers/nodedev/nodedev.h).
 */
#include "daemon/daemon.h"
#include "drivers/nodedev/nodedev.h"
#include "util/error.h"

static VrtNodedevDriver *
devdrv(VrtCall *call, GError **error)
{
    VrtNodedevDriver *drv = vrt_call_daemon(call)->nodedev;
    if (!drv)
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the node device driver is not running");
    return drv;
}

#define DRV(call, error)                             \
    VrtNodedevDriver *drv = devdrv((call), (error)); \
    if (!drv)                                        \
    return false

static bool
names_to_wire(GPtrArray *names, int max, char ***val, u_int *len, GError **error)
{
    if (!names)
        return false;
    if (max < 0) {
        vrt_error_set(error, VIR_ERR_RPC, "maxnames %d out of range", max);
        g_ptr_array_unref(names);
        return false;
    }
    guint n = MIN(names->len, (guint)max);
    *val = g_new0(char *, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        (*val)[i] = g_strdup(g_ptr_array_index(names, i));
    *len = n;
    g_ptr_array_unref(names);
    return true;
}

bool
vrt_handle_connect_list_all_node_devices(VrtCall *call, remote_connect_list_all_node_devices_args *args,
                                         remote_connect_list_all_node_devices_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) names = vrt_nodedev_drv_list(drv, args->flags, error);
    if (!names)
        return false;
    if (args->need_results) {
        ret->devices.devices_len = names->len;
        ret->devices.devices_val = g_new0(remote_nonnull_node_device, MAX(names->len, 1));
        for (guint i = 0; i < names->len; i++)
            ret->devices.devices_val[i].name = g_strdup(g_ptr_array_index(names, i));
    }
    ret->ret = names->len;
    return true;
}

bool
vrt_handle_node_num_of_devices(VrtCall *call, remote_node_num_of_devices_args *args, remote_int_ret *ret,
                               GError **error)
{
    DRV(call, error);
    int n = vrt_nodedev_drv_count(drv, args->cap ? *args->cap : NULL, error);
    if (n < 0)
        return false;
    ret->value = n;
    return true;
}

bool
vrt_handle_node_list_devices(VrtCall *call, remote_node_list_devices_args *args, remote_names_ret *ret, GError **error)
{
    DRV(call, error);
    return names_to_wire(vrt_nodedev_drv_list_names(drv, args->cap ? *args->cap : NULL, error), args->maxnames,
                         &ret->names.names_val, &ret->names.names_len, error);
}

bool
vrt_handle_node_device_lookup_by_name(VrtCall *call, remote_node_device_name_args *args, remote_node_device_ret *ret,
                                      GError **error)
{
    DRV(call, error);
    if (!vrt_nodedev_drv_exists(drv, args->name, error))
        return false;
    ret->dev.name = g_strdup(args->name);
    return true;
}

bool
vrt_handle_node_device_get_xml_desc(VrtCall *call, remote_node_device_name_flags_args *args, remote_string_ret *ret,
                                    GError **error)
{
    DRV(call, error);
    ret->str = vrt_nodedev_drv_get_xml(drv, args->name, error);
    return ret->str != NULL;
}

bool
vrt_handle_node_device_get_parent(VrtCall *call, remote_node_device_name_args *args,
                                  remote_node_device_get_parent_ret *ret, GError **error)
{
    DRV(call, error);
    GError *local = NULL;
    char *parent = vrt_nodedev_drv_get_parent(drv, args->name, &local);
    if (local) {
        g_propagate_error(error, local);
        return false;
    }
    if (parent) {
        ret->parentName = g_new0(char *, 1);
        *ret->parentName = parent;
    }
    return true;
}

bool
vrt_handle_node_device_num_of_caps(VrtCall *call, remote_node_device_name_args *args, remote_int_ret *ret,
                                   GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) caps = vrt_nodedev_drv_list_caps(drv, args->name, error);
    if (!caps)
        return false;
    ret->value = (int)caps->len;
    return true;
}

bool
vrt_handle_node_device_list_caps(VrtCall *call, remote_node_device_list_caps_args *args,
                                 remote_node_device_list_caps_ret *ret, GError **error)
{
    DRV(call, error);
    return names_to_wire(vrt_nodedev_drv_list_caps(drv, args->name, error), args->maxnames, &ret->names.names_val,
                         &ret->names.names_len, error);
}

bool
vrt_handle_node_device_dettach(VrtCall *call, remote_node_device_name_args *args, GError **error)
{
    DRV(call, error);
    return vrt_nodedev_drv_detach(drv, args->name, NULL, error);
}

bool
vrt_handle_node_device_detach_flags(VrtCall *call, remote_node_device_detach_flags_args *args, GError **error)
{
    DRV(call, error);
    if (args->flags) {
        vrt_error_set_flags(error, args->flags, "virNodeDeviceDetachFlags");
        return false;
    }
    return vrt_nodedev_drv_detach(drv, args->name, args->driverName ? *args->driverName : NULL, error);
}

bool
vrt_handle_node_device_re_attach(VrtCall *call, remote_node_device_name_args *args, GError **error)
{
    DRV(call, error);
    return vrt_nodedev_drv_reattach(drv, args->name, error);
}

bool
vrt_handle_node_device_reset(VrtCall *call, remote_node_device_name_args *args, GError **error)
{
    DRV(call, error);
    return vrt_nodedev_drv_reset(drv, args->name, error);
}
