/*
 * Handlers of the host interface procedures (virsh iface-list, iface-dumpxml,
 * iface-mac, iface-name): thin translations to the read-only interface
 * reader (src/drivers/interface), which reads the host's sysfs through the
 * daemon's host seam. Defining, undefining, starting, stopping interfaces
 * and the change transactions are nosupport in remote_procs.tsv, as with
 * libvirt's udev backend.
 */
#include "daemon/daemon.h"
#include "drivers/interface/interface.h"
#include "util/error.h"

#define HOST(call, error)                                                                      \
    VrtHost *host = vrt_call_daemon(call)->host;                                               \
    if (!host) {                                                                               \
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the interface driver is not running"); \
        return false;                                                                          \
    }

static void
iface_to_wire(VrtIface *iface, remote_nonnull_interface *w)
{
    w->name = g_steal_pointer(&iface->name);
    w->mac = g_steal_pointer(&iface->mac);
}

static bool
count(VrtCall *call, int which, int *num, GError **error)
{
    HOST(call, error);
    g_autoptr(GPtrArray) all = vrt_iface_list(host, which, error);

    if (!all)
        return false;
    *num = (int)all->len;
    return true;
}

static bool
names(VrtCall *call, int which, int maxnames, char ***val, u_int *len, GError **error)
{
    HOST(call, error);
    g_autoptr(GPtrArray) all = NULL;
    guint n;

    if (maxnames < 0 || maxnames > REMOTE_INTERFACE_LIST_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "%s", "maxnames > REMOTE_INTERFACE_LIST_MAX");
        return false;
    }
    all = vrt_iface_list(host, which, error);
    if (!all)
        return false;
    n = MIN(all->len, (guint)maxnames);
    *val = g_new0(char *, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        (*val)[i] = g_strdup(((VrtIface *)g_ptr_array_index(all, i))->name);
    *len = n;
    return true;
}

bool
vrt_handle_connect_num_of_interfaces(VrtCall *call, remote_connect_num_of_interfaces_ret *ret, GError **error)
{
    return count(call, 1, &ret->num, error);
}

bool
vrt_handle_connect_num_of_defined_interfaces(VrtCall *call, remote_connect_num_of_defined_interfaces_ret *ret,
                                             GError **error)
{
    return count(call, 2, &ret->num, error);
}

bool
vrt_handle_connect_list_interfaces(VrtCall *call, remote_connect_list_interfaces_args *args,
                                   remote_connect_list_interfaces_ret *ret, GError **error)
{
    return names(call, 1, args->maxnames, &ret->names.names_val, &ret->names.names_len, error);
}

bool
vrt_handle_connect_list_defined_interfaces(VrtCall *call, remote_connect_list_defined_interfaces_args *args,
                                           remote_connect_list_defined_interfaces_ret *ret, GError **error)
{
    return names(call, 2, args->maxnames, &ret->names.names_val, &ret->names.names_len, error);
}

bool
vrt_handle_connect_list_all_interfaces(VrtCall *call, remote_connect_list_all_interfaces_args *args,
                                       remote_connect_list_all_interfaces_ret *ret, GError **error)
{
    HOST(call, error);
    g_autoptr(GPtrArray) all = vrt_iface_list(host, 0, error);
    g_autoptr(GPtrArray) keep = g_ptr_array_new();

    if (!all)
        return false;
    for (guint i = 0; i < all->len; i++) {
        VrtIface *iface = g_ptr_array_index(all, i);

        guint f = args->flags;

        /* Either bit set: keep what matches one of them (both: all). */
        if ((f & (VRT_CONNECT_LIST_INTERFACES_ACTIVE | VRT_CONNECT_LIST_INTERFACES_INACTIVE)) &&
            !(((f & VRT_CONNECT_LIST_INTERFACES_ACTIVE) && iface->active) ||
              ((f & VRT_CONNECT_LIST_INTERFACES_INACTIVE) && !iface->active)))
            continue;
        g_ptr_array_add(keep, iface);
    }
    if (args->need_results) {
        ret->ifaces.ifaces_len = keep->len;
        ret->ifaces.ifaces_val = g_new0(remote_nonnull_interface, MAX(keep->len, 1));
        for (guint i = 0; i < keep->len; i++)
            iface_to_wire(g_ptr_array_index(keep, i), &ret->ifaces.ifaces_val[i]);
    }
    ret->ret = keep->len;
    return true;
}

bool
vrt_handle_interface_lookup_by_name(VrtCall *call, remote_interface_lookup_by_name_args *args,
                                    remote_interface_lookup_by_name_ret *ret, GError **error)
{
    HOST(call, error);
    g_autoptr(VrtIface) iface = vrt_iface_lookup_by_name(host, args->name, error);

    if (!iface)
        return false;
    iface_to_wire(iface, &ret->iface);
    return true;
}

bool
vrt_handle_interface_lookup_by_mac_string(VrtCall *call, remote_interface_lookup_by_mac_string_args *args,
                                          remote_interface_lookup_by_mac_string_ret *ret, GError **error)
{
    HOST(call, error);
    g_autoptr(VrtIface) iface = vrt_iface_lookup_by_mac(host, args->mac, error);

    if (!iface)
        return false;
    iface_to_wire(iface, &ret->iface);
    return true;
}

bool
vrt_handle_interface_get_xml_desc(VrtCall *call, remote_interface_get_xml_desc_args *args,
                                  remote_interface_get_xml_desc_ret *ret, GError **error)
{
    HOST(call, error);
    ret->xml = vrt_iface_get_xml(host, args->iface.name, error);
    return ret->xml != NULL;
}

bool
vrt_handle_interface_is_active(VrtCall *call, remote_interface_is_active_args *args,
                               remote_interface_is_active_ret *ret, GError **error)
{
    HOST(call, error);
    g_autoptr(VrtIface) iface = vrt_iface_lookup_by_name(host, args->iface.name, error);

    if (!iface)
        return false;
    ret->active = iface->active;
    return true;
}
