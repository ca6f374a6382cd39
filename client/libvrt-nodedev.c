/*
 * libvrt's node device handles: listing with capability filters, XML,
 * parent and capabilities, and the PCI detach/reattach/reset calls.
 */
#include "libvrt-private.h"

#include <string.h>
#include "rpc/message.h"

#define FREE_RET(type, ret) vrt_message_free_payload((xdrproc_t)xdr_##type, &(ret))

/* virsh's --cap words in the bit order of virConnectListAllNodeDeviceFlags. */
static const char *const cap_names[] = {
    "system",  "pci",     "usb_device", "usb",          "net",       "scsi_host",  "scsi_target", "scsi",
    "storage", "fc_host", "vports",     "scsi_generic", "drm",       "mdev_types", "mdev",        "ccw",
    "css",     "vdpa",    "ap_card",    "ap_queue",     "ap_matrix", "vpd",
};

unsigned int
vrt_nodedev_cap_flag(const char *cap)
{
    for (guint i = 0; cap && i < G_N_ELEMENTS(cap_names); i++) {
        if (strcmp(cap, cap_names[i]) == 0)
            return 1u << i;
    }
    return 0;
}

static vrt_nodedev *
nodedev_new(vrt_conn *conn, const char *name)
{
    vrt_nodedev *dev = g_new0(vrt_nodedev, 1);
    dev->conn = conn;
    dev->name = g_strdup(name);
    return dev;
}

void
vrt_nodedev_free(vrt_nodedev *dev)
{
    if (!dev)
        return;
    g_free(dev->name);
    g_free(dev);
}

void
vrt_nodedev_list_free(vrt_nodedev **devs)
{
    vrt_list_free_full((void **)devs, (GDestroyNotify)vrt_nodedev_free);
}

const char *
vrt_nodedev_get_name(vrt_nodedev *dev)
{
    return dev ? dev->name : NULL;
}

int
vrt_conn_list_all_nodedevs(vrt_conn *conn, vrt_nodedev ***devs, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    remote_connect_list_all_node_devices_args args = { .need_results = devs != NULL, .flags = flags };
    remote_connect_list_all_node_devices_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_connect_list_all_node_devices(conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_NODEDEV);
    int n = ret.devices.devices_len;
    if (devs) {
        vrt_nodedev **list = g_new0(vrt_nodedev *, n + 1);
        for (int i = 0; i < n; i++)
            list[i] = nodedev_new(conn, ret.devices.devices_val[i].name);
        *devs = list;
    } else {
        n = ret.ret;
    }
    FREE_RET(remote_connect_list_all_node_devices_ret, ret);
    return n;
}

vrt_nodedev *
vrt_nodedev_lookup_by_name(vrt_conn *conn, const char *name, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    VRT_CHECK_ARG(name, err, NULL);
    remote_node_device_name_args args = { .name = (char *)name };
    remote_node_device_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_node_device_lookup_by_name(conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_NODEDEV);
        return NULL;
    }
    vrt_nodedev *dev = nodedev_new(conn, ret.dev.name);
    FREE_RET(remote_node_device_ret, ret);
    return dev;
}

char *
vrt_nodedev_get_xml_desc(vrt_nodedev *dev, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dev, err, NULL);
    remote_node_device_name_flags_args args = { .name = dev->name, .flags = flags };
    remote_string_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_node_device_get_xml_desc(dev->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_NODEDEV);
        return NULL;
    }
    char *out = g_strdup(ret.str);
    FREE_RET(remote_string_ret, ret);
    return out;
}

char *
vrt_nodedev_get_parent(vrt_nodedev *dev, vrt_error **err)
{
    VRT_CHECK_ARG(dev, err, NULL);
    remote_node_device_name_args args = { .name = dev->name };
    remote_node_device_get_parent_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_node_device_get_parent(dev->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_NODEDEV);
        return NULL;
    }
    char *out = ret.parentName ? g_strdup(*ret.parentName) : NULL;
    FREE_RET(remote_node_device_get_parent_ret, ret);
    return out;
}

char **
vrt_nodedev_list_caps(vrt_nodedev *dev, vrt_error **err)
{
    VRT_CHECK_ARG(dev, err, NULL);
    remote_node_device_list_caps_args args = { .name = dev->name, .maxnames = REMOTE_CAPS_LIST_MAX };
    remote_node_device_list_caps_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_node_device_list_caps(dev->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_NODEDEV);
        return NULL;
    }
    char **out = g_new0(char *, ret.names.names_len + 1);
    for (guint i = 0; i < ret.names.names_len; i++)
        out[i] = g_strdup(ret.names.names_val[i]);
    FREE_RET(remote_node_device_list_caps_ret, ret);
    return out;
}

int
vrt_nodedev_detach(vrt_nodedev *dev, const char *driver, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dev, err, -1);
    char *drv = (char *)driver;
    remote_node_device_detach_flags_args args = { .name = dev->name,
                                                  .driverName = driver ? &drv : NULL,
                                                  .flags = flags };
    GError *gerr = NULL;
    if (!vrt_call_node_device_detach_flags(dev->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_NODEDEV);
    return 0;
}

static int
name_call(vrt_nodedev *dev, bool (*stub)(VrtRpcClient *, remote_node_device_name_args *, GError **), vrt_error **err)
{
    VRT_CHECK_ARG(dev, err, -1);
    remote_node_device_name_args args = { .name = dev->name };
    GError *gerr = NULL;
    if (!stub(dev->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_NODEDEV);
    return 0;
}

int
vrt_nodedev_reattach(vrt_nodedev *dev, vrt_error **err)
{
    return name_call(dev, vrt_call_node_device_re_attach, err);
}

int
vrt_nodedev_reset(vrt_nodedev *dev, vrt_error **err)
{
    return name_call(dev, vrt_call_node_device_reset, err);
}
