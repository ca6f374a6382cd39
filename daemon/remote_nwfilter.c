/*
 * Handlers of the network filter procedures (virsh nwfilter-list,
 * nwfilter-dumpxml, nwfilter-define, nwfilter-undefine, nwfilter-binding-*):
 * thin translations to the filter definitions (src/drivers/nwfilter). vrt
 * enforces no filter, so there are never bindings: their list is empty and
 * a lookup finds none, with libvirt's errors; creating one is nosupport.
 */
#include "daemon/daemon.h"
#include "drivers/nwfilter/nwfilter.h"
#include "util/error.h"

#include <string.h>

#define DRV(call, error)                                                                            \
    VrtNwfilterDriver *drv = vrt_call_daemon(call)->nwfilter;                                       \
    if (!drv) {                                                                                     \
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the network filter driver is not running"); \
        return false;                                                                               \
    }

static bool
ref_to_wire(VrtNwfilterRef *ref, remote_nonnull_nwfilter *w)
{
    if (!ref)
        return false;
    w->name = g_steal_pointer(&ref->name);
    memcpy(w->uuid, ref->uuid, 16);
    vrt_nwfilter_ref_free(ref);
    return true;
}

bool
vrt_handle_nwfilter_lookup_by_name(VrtCall *call, remote_nwfilter_lookup_by_name_args *args,
                                   remote_nwfilter_lookup_by_name_ret *ret, GError **error)
{
    DRV(call, error);
    return ref_to_wire(vrt_nwfilter_lookup_by_name(drv, args->name, error), &ret->nwfilter);
}

bool
vrt_handle_nwfilter_lookup_by_uuid(VrtCall *call, remote_nwfilter_lookup_by_uuid_args *args,
                                   remote_nwfilter_lookup_by_uuid_ret *ret, GError **error)
{
    DRV(call, error);
    return ref_to_wire(vrt_nwfilter_lookup_by_uuid(drv, WIRE_UUID(args->uuid), error), &ret->nwfilter);
}

bool
vrt_handle_nwfilter_get_xml_desc(VrtCall *call, remote_nwfilter_get_xml_desc_args *args,
                                 remote_nwfilter_get_xml_desc_ret *ret, GError **error)
{
    DRV(call, error);
    ret->xml = vrt_nwfilter_get_xml(drv, WIRE_UUID(args->nwfilter.uuid), error);
    return ret->xml != NULL;
}

bool
vrt_handle_connect_num_of_nwfilters(VrtCall *call, remote_connect_num_of_nwfilters_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) all = vrt_nwfilter_list(drv);

    ret->num = (int)all->len;
    return true;
}

bool
vrt_handle_connect_list_nwfilters(VrtCall *call, remote_connect_list_nwfilters_args *args,
                                  remote_connect_list_nwfilters_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) all = NULL;
    guint n;

    if (args->maxnames < 0 || args->maxnames > REMOTE_NWFILTER_LIST_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "%s", "maxnames > REMOTE_NWFILTER_LIST_MAX");
        return false;
    }
    all = vrt_nwfilter_list(drv);
    n = MIN(all->len, (guint)args->maxnames);
    ret->names.names_val = g_new0(char *, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        ret->names.names_val[i] = g_strdup(((VrtNwfilterRef *)g_ptr_array_index(all, i))->name);
    ret->names.names_len = n;
    return true;
}

bool
vrt_handle_connect_list_all_nwfilters(VrtCall *call, remote_connect_list_all_nwfilters_args *args,
                                      remote_connect_list_all_nwfilters_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GPtrArray) all = vrt_nwfilter_list(drv);

    if (args->need_results) {
        ret->filters.filters_len = all->len;
        ret->filters.filters_val = g_new0(remote_nonnull_nwfilter, MAX(all->len, 1));
        for (guint i = 0; i < all->len; i++) {
            VrtNwfilterRef *ref = g_ptr_array_index(all, i);

            ret->filters.filters_val[i].name = g_strdup(ref->name);
            memcpy(ret->filters.filters_val[i].uuid, ref->uuid, 16);
        }
    }
    ret->ret = all->len;
    return true;
}

bool
vrt_handle_nwfilter_define_xml(VrtCall *call, remote_nwfilter_define_xml_args *args,
                               remote_nwfilter_define_xml_ret *ret, GError **error)
{
    DRV(call, error);
    return ref_to_wire(vrt_nwfilter_define(drv, args->xml, 0, error), &ret->nwfilter);
}

bool
vrt_handle_nwfilter_define_xml_flags(VrtCall *call, remote_nwfilter_define_xml_flags_args *args,
                                     remote_nwfilter_define_xml_flags_ret *ret, GError **error)
{
    DRV(call, error);
    return ref_to_wire(vrt_nwfilter_define(drv, args->xml, args->flags, error), &ret->nwfilter);
}

bool
vrt_handle_nwfilter_undefine(VrtCall *call, remote_nwfilter_undefine_args *args, GError **error)
{
    DRV(call, error);
    return vrt_nwfilter_undefine(drv, WIRE_UUID(args->nwfilter.uuid), error);
}

/* ---- bindings: there are none ---- */

static bool
no_binding(const char *portdev, GError **error)
{
    vrt_error_set(error, VIR_ERR_NO_NWFILTER_BINDING, "no nwfilter binding for port dev '%s'", portdev);
    return false;
}

bool
vrt_handle_nwfilter_binding_lookup_by_port_dev(VrtCall *call, remote_nwfilter_binding_lookup_by_port_dev_args *args,
                                               remote_nwfilter_binding_lookup_by_port_dev_ret *ret, GError **error)
{
    DRV(call, error);
    (void)drv;
    (void)ret;
    return no_binding(args->name, error);
}

bool
vrt_handle_nwfilter_binding_get_xml_desc(VrtCall *call, remote_nwfilter_binding_get_xml_desc_args *args,
                                         remote_nwfilter_binding_get_xml_desc_ret *ret, GError **error)
{
    DRV(call, error);
    (void)drv;
    (void)ret;
    return no_binding(args->nwfilter.portdev, error);
}

bool
vrt_handle_nwfilter_binding_delete(VrtCall *call, remote_nwfilter_binding_delete_args *args, GError **error)
{
    DRV(call, error);
    (void)drv;
    return no_binding(args->nwfilter.portdev, error);
}

bool
vrt_handle_connect_list_all_nwfilter_bindings(VrtCall *call, remote_connect_list_all_nwfilter_bindings_args *args,
                                              remote_connect_list_all_nwfilter_bindings_ret *ret, GError **error)
{
    DRV(call, error);
    (void)drv;
    if (args->need_results) {
        ret->bindings.bindings_len = 0;
        ret->bindings.bindings_val = g_new0(remote_nonnull_nwfilter_binding, 1);
    }
    ret->ret = 0;
    return true;
}
