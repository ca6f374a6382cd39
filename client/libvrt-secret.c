/*
 * libvrt's secrets, save/restore and snapshots. Secrets are named by their
 * UUID string and snapshots by their name on a domain, so these calls need
 * no handle types of their own.
 */
#include "libvrt-private.h"

#include <string.h>
#include "rpc/message.h"

#define FREE_RET(type, ret) vrt_message_free_payload((xdrproc_t)xdr_##type, &(ret))
#define VIR_FROM_SECRET 30
#define VIR_FROM_DOMAIN_SNAPSHOT 35

/* The wire secret of a UUID string (the daemon looks it up by UUID alone). */
static bool
secret_wire(const char *uuid, remote_nonnull_secret *s, vrt_error **err)
{
    if (!uuid || !vrt_uuid_parse(uuid, (unsigned char *)s->uuid)) {
        vrt_err_new(err, VIR_ERR_INVALID_ARG, VIR_FROM_SECRET, "invalid argument: malformed UUID '%s'",
                    uuid ? uuid : "");
        return false;
    }
    s->usageID = (char *)"";
    return true;
}

static char *
uuid_string(const char *raw)
{
    char buf[VRT_UUID_STRING_LEN];
    vrt_uuid_format((const guint8 *)raw, buf);
    return g_strdup(buf);
}

char *
vrt_secret_define_xml(vrt_conn *conn, const char *xml, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    VRT_CHECK_ARG(xml, err, NULL);
    remote_secret_define_xml_args args = { .xml = (char *)xml, .flags = flags };
    remote_secret_define_xml_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_secret_define_xml(conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_SECRET);
        return NULL;
    }
    char *out = uuid_string(ret.secret.uuid);
    FREE_RET(remote_secret_define_xml_ret, ret);
    return out;
}

int
vrt_secret_undefine(vrt_conn *conn, const char *uuid, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    remote_secret_undefine_args args = { 0 };
    GError *gerr = NULL;
    if (!secret_wire(uuid, &args.secret, err))
        return -1;
    if (!vrt_call_secret_undefine(conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_SECRET);
    return 0;
}

char *
vrt_secret_get_xml_desc(vrt_conn *conn, const char *uuid, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    remote_secret_get_xml_desc_args args = { .flags = flags };
    remote_secret_get_xml_desc_ret ret = { 0 };
    GError *gerr = NULL;
    if (!secret_wire(uuid, &args.secret, err))
        return NULL;
    if (!vrt_call_secret_get_xml_desc(conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_SECRET);
        return NULL;
    }
    char *out = g_strdup(ret.xml);
    FREE_RET(remote_secret_get_xml_desc_ret, ret);
    return out;
}

int
vrt_secret_set_value(vrt_conn *conn, const char *uuid, const unsigned char *value, size_t len, unsigned int flags,
                     vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    remote_secret_set_value_args args = { .flags = flags };
    GError *gerr = NULL;
    if (!secret_wire(uuid, &args.secret, err))
        return -1;
    args.value.value_val = (char *)value;
    args.value.value_len = len;
    if (!vrt_call_secret_set_value(conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_SECRET);
    return 0;
}

unsigned char *
vrt_secret_get_value(vrt_conn *conn, const char *uuid, size_t *len, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    VRT_CHECK_ARG(len, err, NULL);
    remote_secret_get_value_args args = { .flags = flags };
    remote_secret_get_value_ret ret = { 0 };
    GError *gerr = NULL;
    if (!secret_wire(uuid, &args.secret, err))
        return NULL;
    if (!vrt_call_secret_get_value(conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_SECRET);
        return NULL;
    }
    unsigned char *out = g_malloc(MAX(ret.value.value_len, 1));
    memcpy(out, ret.value.value_val, ret.value.value_len);
    *len = ret.value.value_len;
    FREE_RET(remote_secret_get_value_ret, ret);
    return out;
}

char **
vrt_conn_list_secrets(vrt_conn *conn, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    remote_connect_list_all_secrets_args args = { .need_results = 1, .flags = flags };
    remote_connect_list_all_secrets_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_connect_list_all_secrets(conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_SECRET);
        return NULL;
    }
    char **out = g_new0(char *, ret.secrets.secrets_len + 1);
    for (u_int i = 0; i < ret.secrets.secrets_len; i++)
        out[i] = uuid_string(ret.secrets.secrets_val[i].uuid);
    FREE_RET(remote_connect_list_all_secrets_ret, ret);
    return out;
}

/* ---- save, restore, managed save ---- */

int
vrt_domain_save(vrt_domain *dom, const char *path, const char *dxml, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    VRT_CHECK_ARG(path, err, -1);
    char *x = (char *)dxml;
    remote_domain_save_flags_args args = { .to = (char *)path, .dxml = dxml ? &x : NULL, .flags = flags };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!vrt_call_domain_save_flags(dom->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return 0;
}

int
vrt_conn_restore(vrt_conn *conn, const char *path, const char *dxml, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    VRT_CHECK_ARG(path, err, -1);
    char *x = (char *)dxml;
    remote_domain_restore_flags_args args = { .from = (char *)path, .dxml = dxml ? &x : NULL, .flags = flags };
    GError *gerr = NULL;
    if (!vrt_call_domain_restore_flags(conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return 0;
}

int
vrt_domain_managed_save(vrt_domain *dom, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_flags_args args = { .flags = flags };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!vrt_call_domain_managed_save(dom->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return 0;
}

int
vrt_domain_managed_save_remove(vrt_domain *dom, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_flags_args args = { 0 };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!vrt_call_domain_managed_save_remove(dom->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return 0;
}

int
vrt_domain_has_managed_save(vrt_domain *dom, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_flags_args args = { 0 };
    vrt_domain_to_wire(dom, &args.dom);
    remote_int_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_domain_has_managed_save_image(dom->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return ret.value;
}

/* ---- snapshots ---- */

static void
snap_wire(vrt_domain *dom, const char *name, remote_nonnull_domain_snapshot *s)
{
    s->name = (char *)name;
    vrt_domain_to_wire(dom, &s->dom);
}

char *
vrt_domain_snapshot_create_xml(vrt_domain *dom, const char *xml, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, NULL);
    VRT_CHECK_ARG(xml, err, NULL);
    remote_domain_snapshot_create_xml_args args = { .xml_desc = (char *)xml, .flags = flags };
    vrt_domain_to_wire(dom, &args.dom);
    remote_domain_snapshot_create_xml_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_domain_snapshot_create_xml(dom->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_DOMAIN_SNAPSHOT);
        return NULL;
    }
    char *out = g_strdup(ret.snap.name);
    FREE_RET(remote_domain_snapshot_create_xml_ret, ret);
    return out;
}

char **
vrt_domain_snapshot_list(vrt_domain *dom, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, NULL);
    remote_domain_list_all_snapshots_args args = { .need_results = 1, .flags = flags };
    vrt_domain_to_wire(dom, &args.dom);
    remote_domain_list_all_snapshots_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_domain_list_all_snapshots(dom->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_DOMAIN_SNAPSHOT);
        return NULL;
    }
    char **out = g_new0(char *, ret.snapshots.snapshots_len + 1);
    for (u_int i = 0; i < ret.snapshots.snapshots_len; i++)
        out[i] = g_strdup(ret.snapshots.snapshots_val[i].name);
    FREE_RET(remote_domain_list_all_snapshots_ret, ret);
    return out;
}

char *
vrt_domain_snapshot_get_xml_desc(vrt_domain *dom, const char *name, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, NULL);
    VRT_CHECK_ARG(name, err, NULL);
    remote_domain_snapshot_get_xml_desc_args args = { .flags = flags };
    snap_wire(dom, name, &args.snap);
    remote_domain_snapshot_get_xml_desc_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_domain_snapshot_get_xml_desc(dom->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_DOMAIN_SNAPSHOT);
        return NULL;
    }
    char *out = g_strdup(ret.xml);
    FREE_RET(remote_domain_snapshot_get_xml_desc_ret, ret);
    return out;
}

char *
vrt_domain_snapshot_current(vrt_domain *dom, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, NULL);
    remote_domain_snapshot_current_args args = { 0 };
    vrt_domain_to_wire(dom, &args.dom);
    remote_domain_snapshot_current_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_domain_snapshot_current(dom->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_DOMAIN_SNAPSHOT);
        return NULL;
    }
    char *out = g_strdup(ret.snap.name);
    FREE_RET(remote_domain_snapshot_current_ret, ret);
    return out;
}

int
vrt_domain_snapshot_revert(vrt_domain *dom, const char *name, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    VRT_CHECK_ARG(name, err, -1);
    remote_domain_revert_to_snapshot_args args = { .flags = flags };
    snap_wire(dom, name, &args.snap);
    GError *gerr = NULL;
    if (!vrt_call_domain_revert_to_snapshot(dom->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN_SNAPSHOT);
    return 0;
}

int
vrt_domain_snapshot_delete(vrt_domain *dom, const char *name, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    VRT_CHECK_ARG(name, err, -1);
    remote_domain_snapshot_delete_args args = { .flags = flags };
    snap_wire(dom, name, &args.snap);
    GError *gerr = NULL;
    if (!vrt_call_domain_snapshot_delete(dom->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN_SNAPSHOT);
    return 0;
}
