/*
 * Handlers of the secret procedures, over the secret driver
 * (src/drivers/secret/secret_driver.h). A secret travels as libvirt's
 * remote_nonnull_secret (uuid, usage type and id); the driver looks it up
 * again by its uuid.
 */
#include <string.h>

#include "daemon/daemon.h"
#include "daemon/drivers.h"
#include "drivers/secret/secret_driver.h"
#include "util/error.h"
#include "util/uuid.h"

static VrtSecretDriver *
secdrv(VrtCall *call, GError **error)
{
    VrtSecretDriver *drv = vrt_call_daemon(call)->secret;
    if (!drv)
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the secret driver is not running");
    return drv;
}

#define DRV(call, error)                            \
    VrtSecretDriver *drv = secdrv((call), (error)); \
    if (!drv)                                       \
    return false

static void
ref_to_wire(const VrtSecretRef *ref, remote_nonnull_secret *out)
{
    memcpy(out->uuid, ref->uuid, 16);
    out->usageType = ref->usage_type;
    out->usageID = g_strdup(ref->usage_id);
}

static bool
ret_ref(VrtSecretRef *ref, remote_nonnull_secret *out)
{
    if (!ref)
        return false;
    ref_to_wire(ref, out);
    vrt_secret_ref_free(ref);
    return true;
}

bool
vrt_handle_connect_num_of_secrets(VrtCall *call, remote_connect_num_of_secrets_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) all = vrt_secret_drv_list(drv, 0);
    ret->num = all->len;
    return true;
}

bool
vrt_handle_connect_list_secrets(VrtCall *call, remote_connect_list_secrets_args *args,
                                remote_connect_list_secrets_ret *ret, GError **error)
{
    DRV(call, error);
    if (args->maxuuids < 0 || args->maxuuids > 16384) {
        vrt_error_set(error, VIR_ERR_RPC, "%s", "maxuuids > REMOTE_SECRET_LIST_MAX");
        return false;
    }
    g_autoptr(GPtrArray) all = vrt_secret_drv_list(drv, 0);
    guint n = MIN(all->len, (guint)args->maxuuids);
    ret->uuids.uuids_val = g_new0(char *, MAX(n, 1));
    for (guint i = 0; i < n; i++) {
        char s[VRT_UUID_STRING_LEN];
        vrt_uuid_format(((VrtSecretRef *)g_ptr_array_index(all, i))->uuid, s);
        ret->uuids.uuids_val[i] = g_strdup(s);
    }
    ret->uuids.uuids_len = n;
    return true;
}

bool
vrt_handle_connect_list_all_secrets(VrtCall *call, remote_connect_list_all_secrets_args *args,
                                    remote_connect_list_all_secrets_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) all = vrt_secret_drv_list(drv, args->flags);
    if (args->need_results) {
        ret->secrets.secrets_len = all->len;
        ret->secrets.secrets_val = g_new0(remote_nonnull_secret, MAX(all->len, 1));
        for (guint i = 0; i < all->len; i++)
            ref_to_wire(g_ptr_array_index(all, i), &ret->secrets.secrets_val[i]);
    }
    ret->ret = all->len;
    return true;
}

bool
vrt_handle_secret_lookup_by_uuid(VrtCall *call, remote_secret_lookup_by_uuid_args *args,
                                 remote_secret_lookup_by_uuid_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_ref(vrt_secret_drv_lookup_by_uuid(drv, WIRE_UUID(args->uuid), error), &ret->secret);
}

bool
vrt_handle_secret_lookup_by_usage(VrtCall *call, remote_secret_lookup_by_usage_args *args,
                                  remote_secret_lookup_by_usage_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_ref(vrt_secret_drv_lookup_by_usage(drv, args->usageType, args->usageID, error), &ret->secret);
}

bool
vrt_handle_secret_define_xml(VrtCall *call, remote_secret_define_xml_args *args, remote_secret_define_xml_ret *ret,
                             GError **error)
{
    DRV(call, error);
    return ret_ref(vrt_secret_drv_define_xml(drv, args->xml, args->flags, error), &ret->secret);
}

bool
vrt_handle_secret_get_xml_desc(VrtCall *call, remote_secret_get_xml_desc_args *args,
                               remote_secret_get_xml_desc_ret *ret, GError **error)
{
    DRV(call, error);
    ret->xml = vrt_secret_drv_get_xml(drv, WIRE_UUID(args->secret.uuid), error);
    return ret->xml != NULL;
}

bool
vrt_handle_secret_set_value(VrtCall *call, remote_secret_set_value_args *args, GError **error)
{
    DRV(call, error);
    return vrt_secret_drv_set_value(drv, WIRE_UUID(args->secret.uuid), (const guint8 *)args->value.value_val,
                                    args->value.value_len, error);
}

bool
vrt_handle_secret_get_value(VrtCall *call, remote_secret_get_value_args *args, remote_secret_get_value_ret *ret,
                            GError **error)
{
    DRV(call, error);
    g_autoptr(GBytes) value = vrt_secret_drv_get_value(drv, WIRE_UUID(args->secret.uuid), error);
    if (!value)
        return false;
    gsize len = 0;
    const void *data = g_bytes_get_data(value, &len);
    ret->value.value_val = g_malloc(MAX(len, 1));
    if (len)
        memcpy(ret->value.value_val, data, len);
    ret->value.value_len = len;
    return true;
}

bool
vrt_handle_secret_undefine(VrtCall *call, remote_secret_undefine_args *args, GError **error)
{
    DRV(call, error);
    return vrt_secret_drv_undefine(drv, WIRE_UUID(args->secret.uuid), error);
}

/* ---- events ---- */

bool
vrt_handle_connect_secret_event_register_any(VrtCall *call, remote_connect_secret_event_register_any_args *args,
                                             remote_connect_secret_event_register_any_ret *ret, GError **error)
{
    if (args->eventID < 0 || args->eventID > VRT_SECRET_EVENT_ID_LAST) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported event ID %d", args->eventID);
        return false;
    }
    VrtEventCallback cb = { 0 };
    cb.event_id = VRT_EVENT_ID_SECRET(args->eventID);
    if (args->secret) {
        cb.has_dom = true;
        memcpy(cb.uuid, args->secret->uuid, 16);
    }
    ret->callbackID = vrt_conn_add_callback(vrt_call_conn(call), &cb);
    return true;
}

bool
vrt_handle_connect_secret_event_deregister_any(VrtCall *call, remote_connect_secret_event_deregister_any_args *args,
                                               GError **error)
{
    if (vrt_conn_remove_callback(vrt_call_conn(call), args->callbackID, false))
        return true;
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "callback ID %d not registered", args->callbackID);
    return false;
}

void
vrt_daemon_secret_lifecycle(const VrtSecretRef *ref, int event, gpointer data)
{
    remote_secret_event_lifecycle_msg msg = { 0 };
    memcpy(msg.secret.uuid, ref->uuid, 16);
    msg.secret.usageType = ref->usage_type;
    msg.secret.usageID = ref->usage_id;
    msg.event = event;
    msg.detail = 0;
    vrt_daemon_emit_event(data, VRT_EVENT_ID_SECRET(0), ref->uuid, VRT_PROC_SECRET_EVENT_LIFECYCLE,
                          (xdrproc_t)xdr_remote_secret_event_lifecycle_msg, &msg, &msg.callbackID);
}

void
vrt_daemon_secret_value_changed(const VrtSecretRef *ref, gpointer data)
{
    remote_secret_event_value_changed_msg msg = { 0 };
    memcpy(msg.secret.uuid, ref->uuid, 16);
    msg.secret.usageType = ref->usage_type;
    msg.secret.usageID = ref->usage_id;
    vrt_daemon_emit_event(data, VRT_EVENT_ID_SECRET(1), ref->uuid, VRT_PROC_SECRET_EVENT_VALUE_CHANGED,
                          (xdrproc_t)xdr_remote_secret_event_value_changed_msg, &msg, &msg.callbackID);
}
