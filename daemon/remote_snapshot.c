/*
 * Handlers of the domain snapshot procedures (virsh snapshot-*), over the
 * QEMU driver's qemu_snapshot.c. A snapshot travels as libvirt's
 * remote_nonnull_domain_snapshot: its name and its domain.
 */
#include <string.h>

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

/* The wire snapshot of name on dom (a copy of the caller's domain). */
static bool
snap_to_wire(char *name, const remote_nonnull_domain *dom, remote_nonnull_domain_snapshot *out)
{
    if (!name)
        return false;
    out->name = name;
    out->dom.name = g_strdup(dom->name);
    memcpy(out->dom.uuid, dom->uuid, 16);
    out->dom.id = dom->id;
    return true;
}

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

static bool
snaps_to_wire(GPtrArray *names, const remote_nonnull_domain *dom, int need, remote_nonnull_domain_snapshot **val,
              u_int *len, int *ret)
{
    if (!names)
        return false;
    if (need) {
        *val = g_new0(remote_nonnull_domain_snapshot, MAX(names->len, 1));
        for (guint i = 0; i < names->len; i++)
            snap_to_wire(g_strdup(g_ptr_array_index(names, i)), dom, &(*val)[i]);
        *len = names->len;
    }
    *ret = names->len;
    g_ptr_array_unref(names);
    return true;
}

static bool
count(GPtrArray *names, int *out)
{
    if (!names)
        return false;
    *out = names->len;
    g_ptr_array_unref(names);
    return true;
}

bool
vrt_handle_domain_snapshot_create_xml(VrtCall *call, remote_domain_snapshot_create_xml_args *args,
                                      remote_domain_snapshot_create_xml_ret *ret, GError **error)
{
    DRV(call, error);
    return snap_to_wire(
        vrt_qemu_snapshot_create_xml(drv, WIRE_UUID(args->dom.uuid), args->xml_desc, args->flags, error), &args->dom,
        &ret->snap);
}

bool
vrt_handle_domain_snapshot_get_xml_desc(VrtCall *call, remote_domain_snapshot_get_xml_desc_args *args,
                                        remote_domain_snapshot_get_xml_desc_ret *ret, GError **error)
{
    DRV(call, error);
    ret->xml = vrt_qemu_snapshot_get_xml(drv, WIRE_UUID(args->snap.dom.uuid), args->snap.name, args->flags, error);
    return ret->xml != NULL;
}

bool
vrt_handle_domain_snapshot_num(VrtCall *call, remote_domain_snapshot_num_args *args,
                               remote_domain_snapshot_num_ret *ret, GError **error)
{
    DRV(call, error);
    return count(vrt_qemu_snapshot_list(drv, WIRE_UUID(args->dom.uuid), NULL, args->flags, error), &ret->num);
}

bool
vrt_handle_domain_snapshot_list_names(VrtCall *call, remote_domain_snapshot_list_names_args *args,
                                      remote_domain_snapshot_list_names_ret *ret, GError **error)
{
    DRV(call, error);
    return names_to_wire(vrt_qemu_snapshot_list(drv, WIRE_UUID(args->dom.uuid), NULL, args->flags, error),
                         args->maxnames, &ret->names.names_val, &ret->names.names_len, error);
}

bool
vrt_handle_domain_list_all_snapshots(VrtCall *call, remote_domain_list_all_snapshots_args *args,
                                     remote_domain_list_all_snapshots_ret *ret, GError **error)
{
    DRV(call, error);
    return snaps_to_wire(vrt_qemu_snapshot_list(drv, WIRE_UUID(args->dom.uuid), NULL, args->flags, error), &args->dom,
                         args->need_results, &ret->snapshots.snapshots_val, &ret->snapshots.snapshots_len, &ret->ret);
}

bool
vrt_handle_domain_snapshot_num_children(VrtCall *call, remote_domain_snapshot_num_children_args *args,
                                        remote_domain_snapshot_num_children_ret *ret, GError **error)
{
    DRV(call, error);
    return count(vrt_qemu_snapshot_list(drv, WIRE_UUID(args->snap.dom.uuid), args->snap.name, args->flags, error),
                 &ret->num);
}

bool
vrt_handle_domain_snapshot_list_children_names(VrtCall *call, remote_domain_snapshot_list_children_names_args *args,
                                               remote_domain_snapshot_list_children_names_ret *ret, GError **error)
{
    DRV(call, error);
    return names_to_wire(
        vrt_qemu_snapshot_list(drv, WIRE_UUID(args->snap.dom.uuid), args->snap.name, args->flags, error),
        args->maxnames, &ret->names.names_val, &ret->names.names_len, error);
}

bool
vrt_handle_domain_snapshot_list_all_children(VrtCall *call, remote_domain_snapshot_list_all_children_args *args,
                                             remote_domain_snapshot_list_all_children_ret *ret, GError **error)
{
    DRV(call, error);
    return snaps_to_wire(
        vrt_qemu_snapshot_list(drv, WIRE_UUID(args->snapshot.dom.uuid), args->snapshot.name, args->flags, error),
        &args->snapshot.dom, args->need_results, &ret->snapshots.snapshots_val, &ret->snapshots.snapshots_len,
        &ret->ret);
}

bool
vrt_handle_domain_snapshot_lookup_by_name(VrtCall *call, remote_domain_snapshot_lookup_by_name_args *args,
                                          remote_domain_snapshot_lookup_by_name_ret *ret, GError **error)
{
    DRV(call, error);
    if (!vrt_qemu_snapshot_lookup(drv, WIRE_UUID(args->dom.uuid), args->name, error))
        return false;
    return snap_to_wire(g_strdup(args->name), &args->dom, &ret->snap);
}

bool
vrt_handle_domain_has_current_snapshot(VrtCall *call, remote_domain_has_current_snapshot_args *args,
                                       remote_domain_has_current_snapshot_ret *ret, GError **error)
{
    DRV(call, error);
    bool none = false;
    GError *local = NULL;
    g_autofree char *name = vrt_qemu_snapshot_current(drv, WIRE_UUID(args->dom.uuid), &none, &local);
    if (!name && !none) {
        g_propagate_error(error, local);
        return false;
    }
    g_clear_error(&local);
    ret->result = name != NULL;
    return true;
}

bool
vrt_handle_domain_snapshot_current(VrtCall *call, remote_domain_snapshot_current_args *args,
                                   remote_domain_snapshot_current_ret *ret, GError **error)
{
    DRV(call, error);
    bool none = false;
    return snap_to_wire(vrt_qemu_snapshot_current(drv, WIRE_UUID(args->dom.uuid), &none, error), &args->dom,
                        &ret->snap);
}

bool
vrt_handle_domain_snapshot_get_parent(VrtCall *call, remote_domain_snapshot_get_parent_args *args,
                                      remote_domain_snapshot_get_parent_ret *ret, GError **error)
{
    DRV(call, error);
    return snap_to_wire(vrt_qemu_snapshot_get_parent(drv, WIRE_UUID(args->snap.dom.uuid), args->snap.name, error),
                        &args->snap.dom, &ret->snap);
}

bool
vrt_handle_domain_snapshot_is_current(VrtCall *call, remote_domain_snapshot_is_current_args *args,
                                      remote_domain_snapshot_is_current_ret *ret, GError **error)
{
    DRV(call, error);
    int v = vrt_qemu_snapshot_is_current(drv, WIRE_UUID(args->snap.dom.uuid), args->snap.name, error);
    if (v < 0)
        return false;
    ret->current = v;
    return true;
}

bool
vrt_handle_domain_snapshot_has_metadata(VrtCall *call, remote_domain_snapshot_has_metadata_args *args,
                                        remote_domain_snapshot_has_metadata_ret *ret, GError **error)
{
    DRV(call, error);
    /* Every snapshot vrt knows has its metadata. */
    if (!vrt_qemu_snapshot_lookup(drv, WIRE_UUID(args->snap.dom.uuid), args->snap.name, error))
        return false;
    ret->metadata = 1;
    return true;
}

bool
vrt_handle_domain_revert_to_snapshot(VrtCall *call, remote_domain_revert_to_snapshot_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_snapshot_revert(drv, WIRE_UUID(args->snap.dom.uuid), args->snap.name, args->flags, error);
}

bool
vrt_handle_domain_snapshot_delete(VrtCall *call, remote_domain_snapshot_delete_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_snapshot_delete(drv, WIRE_UUID(args->snap.dom.uuid), args->snap.name, args->flags, error);
}
