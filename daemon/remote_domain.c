/*
 * Handlers of the domain procedures: thin translations between the wire
 * types and the QEMU driver (src/drivers/qemu/qemu_driver.h).
 */
#include "daemon/acl.h"
#include "daemon/daemon.h"
#include "daemon/remote_migrate.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_driver_stats.h"
#include "util/error.h"

#include <string.h>

static VrtQemuDriver *
qemu(VrtCall *call, GError **error)
{
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;
    if (!drv)
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "%s", "the QEMU driver is not running");
    return drv;
}

/* Moves ref's name into the wire form. */
static void
ref_to_wire(VrtDomainRef *ref, remote_nonnull_domain *dom)
{
    dom->name = g_steal_pointer(&ref->name);
    memcpy(dom->uuid, ref->uuid, 16);
    dom->id = ref->id;
}

/* Finishes a call that produced a domain reference. */
static bool
ret_domain(VrtDomainRef *ref, remote_domain_ret *ret)
{
    if (!ref)
        return false;
    ref_to_wire(ref, &ret->dom);
    vrt_domain_ref_free(ref);
    return true;
}

#define DRV(call, error)                        \
    VrtQemuDriver *drv = qemu((call), (error)); \
    if (!drv)                                   \
    return false

bool
vrt_handle_domain_lookup_by_name(VrtCall *call, remote_domain_lookup_by_name_args *args, remote_domain_ret *ret,
                                 GError **error)
{
    DRV(call, error);
    return ret_domain(vrt_qemu_domain_lookup(drv, args->name, NULL, 0, error), ret);
}

bool
vrt_handle_domain_lookup_by_uuid(VrtCall *call, remote_domain_lookup_by_uuid_args *args, remote_domain_ret *ret,
                                 GError **error)
{
    DRV(call, error);
    return ret_domain(vrt_qemu_domain_lookup(drv, NULL, (const guchar *)args->uuid, 0, error), ret);
}

bool
vrt_handle_domain_lookup_by_id(VrtCall *call, remote_domain_lookup_by_id_args *args, remote_domain_ret *ret,
                               GError **error)
{
    DRV(call, error);
    if (args->id <= 0) {
        vrt_error_set(error, VIR_ERR_NO_DOMAIN, "no domain with matching id %d", args->id);
        return false;
    }
    return ret_domain(vrt_qemu_domain_lookup(drv, NULL, NULL, args->id, error), ret);
}

bool
vrt_handle_domain_define_xml(VrtCall *call, remote_xml_args *args, remote_domain_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_domain(vrt_qemu_domain_define_xml(drv, args->xml, 0, error), ret);
}

bool
vrt_handle_domain_define_xml_flags(VrtCall *call, remote_xml_flags_args *args, remote_domain_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_domain(vrt_qemu_domain_define_xml(drv, args->xml, args->flags, error), ret);
}

bool
vrt_handle_domain_create_xml(VrtCall *call, remote_xml_flags_args *args, remote_domain_ret *ret, GError **error)
{
    DRV(call, error);
    return ret_domain(vrt_qemu_domain_create_xml(drv, args->xml, args->flags, error), ret);
}

bool
vrt_handle_domain_undefine(VrtCall *call, remote_domain_only_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_undefine(drv, WIRE_UUID(args->dom.uuid), 0, error);
}

bool
vrt_handle_domain_undefine_flags(VrtCall *call, remote_domain_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_undefine(drv, WIRE_UUID(args->dom.uuid), args->flags, error);
}

bool
vrt_handle_domain_create(VrtCall *call, remote_domain_only_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_create(drv, WIRE_UUID(args->dom.uuid), 0, error);
}

bool
vrt_handle_domain_create_with_flags(VrtCall *call, remote_domain_flags_args *args, remote_domain_ret *ret,
                                    GError **error)
{
    DRV(call, error);
    if (!vrt_qemu_domain_create(drv, WIRE_UUID(args->dom.uuid), args->flags, error))
        return false;
    /* The reply carries the domain with its new id. */
    return ret_domain(vrt_qemu_domain_lookup(drv, NULL, WIRE_UUID(args->dom.uuid), 0, error), ret);
}

bool
vrt_handle_domain_destroy(VrtCall *call, remote_domain_only_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_destroy(drv, WIRE_UUID(args->dom.uuid), 0, error);
}

bool
vrt_handle_domain_destroy_flags(VrtCall *call, remote_domain_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_destroy(drv, WIRE_UUID(args->dom.uuid), args->flags, error);
}

bool
vrt_handle_domain_shutdown(VrtCall *call, remote_domain_only_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_shutdown(drv, WIRE_UUID(args->dom.uuid), 0, error);
}

bool
vrt_handle_domain_shutdown_flags(VrtCall *call, remote_domain_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_shutdown(drv, WIRE_UUID(args->dom.uuid), args->flags, error);
}

bool
vrt_handle_domain_reboot(VrtCall *call, remote_domain_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_reboot(drv, WIRE_UUID(args->dom.uuid), args->flags, error);
}

bool
vrt_handle_domain_reset(VrtCall *call, remote_domain_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_reset(drv, WIRE_UUID(args->dom.uuid), args->flags, error);
}

bool
vrt_handle_domain_suspend(VrtCall *call, remote_domain_only_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_suspend(drv, WIRE_UUID(args->dom.uuid), error);
}

bool
vrt_handle_domain_resume(VrtCall *call, remote_domain_only_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_resume(drv, WIRE_UUID(args->dom.uuid), error);
}

bool
vrt_handle_domain_get_info(VrtCall *call, remote_domain_only_args *args, remote_domain_get_info_ret *ret,
                           GError **error)
{
    DRV(call, error);
    VrtDomainInfo info = { 0 };
    if (!vrt_qemu_domain_get_info(drv, WIRE_UUID(args->dom.uuid), &info, error))
        return false;
    ret->state = (u_char)info.state;
    ret->maxMem = info.max_mem_kib;
    ret->memory = info.memory_kib;
    ret->nrVirtCpu = (u_short)info.nr_virt_cpu;
    ret->cpuTime = info.cpu_time_ns;
    return true;
}

bool
vrt_handle_domain_get_state(VrtCall *call, remote_domain_flags_args *args, remote_domain_get_state_ret *ret,
                            GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_get_state(drv, WIRE_UUID(args->dom.uuid), &ret->state, &ret->reason, error);
}

bool
vrt_handle_domain_get_xml_desc(VrtCall *call, remote_domain_flags_args *args, remote_string_ret *ret, GError **error)
{
    DRV(call, error);
    return vrt_ret_string(vrt_qemu_domain_get_xml(drv, WIRE_UUID(args->dom.uuid), args->flags, error), ret);
}

bool
vrt_handle_domain_get_os_type(VrtCall *call, remote_domain_only_args *args, remote_string_ret *ret, GError **error)
{
    DRV(call, error);
    return vrt_ret_string(vrt_qemu_domain_get_os_type(drv, WIRE_UUID(args->dom.uuid), error), ret);
}

bool
vrt_handle_domain_get_max_memory(VrtCall *call, remote_domain_only_args *args, remote_domain_get_max_memory_ret *ret,
                                 GError **error)
{
    DRV(call, error);
    GError *local = NULL;
    ret->memory = vrt_qemu_domain_get_max_memory(drv, WIRE_UUID(args->dom.uuid), &local);
    if (local) {
        g_propagate_error(error, local);
        return false;
    }
    return true;
}

bool
vrt_handle_domain_get_max_vcpus(VrtCall *call, remote_domain_only_args *args, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    /* VIR_DOMAIN_VCPU_LIVE | VIR_DOMAIN_VCPU_MAXIMUM, as libvirt answers it. */
    return vrt_ret_int(vrt_qemu_domain_get_vcpus_flags(drv, WIRE_UUID(args->dom.uuid), 1 | 4, error), ret);
}

bool
vrt_handle_domain_get_vcpus_flags(VrtCall *call, remote_domain_flags_args *args, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_qemu_domain_get_vcpus_flags(drv, WIRE_UUID(args->dom.uuid), args->flags, error), ret);
}

bool
vrt_handle_domain_is_active(VrtCall *call, remote_domain_only_args *args, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_qemu_domain_is_active(drv, WIRE_UUID(args->dom.uuid), error), ret);
}

bool
vrt_handle_domain_is_persistent(VrtCall *call, remote_domain_only_args *args, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_qemu_domain_is_persistent(drv, WIRE_UUID(args->dom.uuid), error), ret);
}

bool
vrt_handle_domain_is_updated(VrtCall *call, remote_domain_only_args *args, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_qemu_domain_is_updated(drv, WIRE_UUID(args->dom.uuid), error), ret);
}

bool
vrt_handle_domain_get_autostart(VrtCall *call, remote_domain_only_args *args, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_qemu_domain_get_autostart(drv, WIRE_UUID(args->dom.uuid), error), ret);
}

bool
vrt_handle_domain_set_autostart(VrtCall *call, remote_domain_set_autostart_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_set_autostart(drv, WIRE_UUID(args->dom.uuid), args->autostart, error);
}

bool
vrt_handle_domain_has_managed_save_image(VrtCall *call, remote_domain_flags_args *args, remote_int_ret *ret,
                                         GError **error)
{
    DRV(call, error);
    return vrt_ret_int(vrt_qemu_domain_has_managed_save(drv, WIRE_UUID(args->dom.uuid), error), ret);
}

static bool
security_label(VrtCall *call, const guchar *uuid, remote_domain_get_security_label_ret *label, GError **error)
{
    DRV(call, error);
    g_autoptr(VrtDomainRef) ref = vrt_qemu_domain_lookup(drv, NULL, uuid, 0, error);
    if (!ref)
        return false;
    /* Security model "none": an empty label, not enforcing. */
    label->label.label_len = 1;
    label->label.label_val = g_strdup("");
    label->enforcing = 0;
    return true;
}

bool
vrt_handle_domain_get_security_label(VrtCall *call, remote_domain_only_args *args,
                                     remote_domain_get_security_label_ret *ret, GError **error)
{
    return security_label(call, WIRE_UUID(args->dom.uuid), ret, error);
}

bool
vrt_handle_domain_get_security_label_list(VrtCall *call, remote_domain_only_args *args,
                                          remote_domain_get_security_label_list_ret *ret, GError **error)
{
    ret->labels.labels_val = g_new0(remote_domain_get_security_label_ret, 1);
    if (!security_label(call, WIRE_UUID(args->dom.uuid), &ret->labels.labels_val[0], error))
        return false;
    ret->labels.labels_len = 1;
    ret->ret = 1;
    return true;
}

bool
vrt_handle_domain_set_memory(VrtCall *call, remote_domain_set_memory_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_set_memory(drv, WIRE_UUID(args->dom.uuid), args->memory, 1 /* AFFECT_LIVE */, error);
}

bool
vrt_handle_domain_set_max_memory(VrtCall *call, remote_domain_set_max_memory_args *args, GError **error)
{
    DRV(call, error);
    /* libvirt's virDomainSetMaxMemory: the maximum, of the domain's
     * current state (only a shut-off domain's can change) */
    return vrt_qemu_domain_set_memory(drv, WIRE_UUID(args->dom.uuid), args->memory, VRT_DOMAIN_MEM_MAXIMUM, error);
}

bool
vrt_handle_domain_set_memory_flags(VrtCall *call, remote_domain_set_memory_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_set_memory(drv, WIRE_UUID(args->dom.uuid), args->memory, args->flags, error);
}

bool
vrt_handle_domain_set_vcpus(VrtCall *call, remote_domain_set_vcpus_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_set_vcpus(drv, WIRE_UUID(args->dom.uuid), args->nvcpus, 1 /* AFFECT_LIVE */, error);
}

bool
vrt_handle_domain_set_vcpus_flags(VrtCall *call, remote_domain_set_vcpus_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_set_vcpus(drv, WIRE_UUID(args->dom.uuid), args->nvcpus, args->flags, error);
}

bool
vrt_handle_domain_get_vcpus(VrtCall *call, remote_domain_get_vcpus_args *args, remote_domain_get_vcpus_ret *ret,
                            GError **error)
{
    DRV(call, error);
    if (args->maxinfo < 1 || args->maxinfo > REMOTE_VCPUINFO_MAX || args->maplen < 0 ||
        (gint64)args->maxinfo * args->maplen > REMOTE_CPUMAPS_MAX) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "maxinfo or maplen out of range");
        return false;
    }
    g_autoptr(GArray) vcpus = vrt_qemu_domain_get_vcpus(drv, WIRE_UUID(args->dom.uuid), error);
    if (!vcpus)
        return false;
    guint n = MIN(vcpus->len, (guint)args->maxinfo);
    ret->info.info_len = n;
    ret->info.info_val = g_new0(remote_vcpu_info, MAX(n, 1));
    for (guint i = 0; i < n; i++) {
        VrtVcpuInfo *v = &g_array_index(vcpus, VrtVcpuInfo, i);
        ret->info.info_val[i] = (remote_vcpu_info){ v->number, v->state, v->cpu_time_ns, v->cpu };
    }
    /* Every vCPU may run on every host CPU: no pinning. */
    guint maplen = (guint)args->maplen;
    ret->cpumaps.cpumaps_len = n * maplen;
    ret->cpumaps.cpumaps_val = g_malloc0(MAX(n * maplen, 1));
    memset(ret->cpumaps.cpumaps_val, 0xff, n * maplen);
    return true;
}

typedef struct {
    guint count;
    GArray *doms; /* remote_nonnull_domain; NULL when the client wants the count only */
} ListAll;

static void
list_all_add(const char *name, const guchar *uuid, int id, gpointer data)
{
    ListAll *acc = data;
    remote_nonnull_domain d = { .name = NULL };

    acc->count++;
    if (!acc->doms || acc->count > REMOTE_DOMAIN_LIST_MAX)
        return;
    d.name = g_strdup(name);
    memcpy(d.uuid, uuid, 16);
    d.id = id;
    g_array_append_val(acc->doms, d);
}

bool
vrt_handle_connect_list_all_domains(VrtCall *call, remote_connect_list_all_domains_args *args,
                                    remote_connect_list_all_domains_ret *ret, GError **error)
{
    DRV(call, error);
    ListAll acc = { .doms = NULL };

    bool acl = vrt_acl_enabled(vrt_call_daemon(call));

    /* With access control every domain is collected, then those the caller
     * may not see (domain.getattr, libvirt's @aclfilter) are dropped, with
     * no driver lock held while polkitd answers. */
    if (args->need_results || acl)
        acc.doms = g_array_sized_new(FALSE, FALSE, sizeof(remote_nonnull_domain), 64);
    vrt_qemu_domain_foreach(drv, args->flags, list_all_add, &acc);
    if (acl && acc.count <= REMOTE_DOMAIN_LIST_MAX) {
        guint kept = 0, n = acc.doms->len;
        g_autofree const char **names = g_new0(const char *, MAX(n, 1));
        g_autofree guchar(*uuids)[16] = g_malloc0(16 * MAX(n, 1));
        g_autofree gboolean *allowed = g_new0(gboolean, MAX(n, 1));
        for (guint i = 0; i < n; i++) {
            names[i] = g_array_index(acc.doms, remote_nonnull_domain, i).name;
            memcpy(uuids[i], g_array_index(acc.doms, remote_nonnull_domain, i).uuid, 16);
        }
        vrt_acl_filter_domains(call, "domain", "getattr", n, names, (const guchar(*)[16])uuids, allowed);
        for (guint i = 0; i < n; i++) {
            remote_nonnull_domain *d = &g_array_index(acc.doms, remote_nonnull_domain, i);
            if (allowed[i])
                g_array_index(acc.doms, remote_nonnull_domain, kept++) = *d;
            else
                g_free(d->name);
        }
        g_array_set_size(acc.doms, kept);
        acc.count = kept;
        if (!args->need_results)
            g_clear_pointer(&acc.doms, g_array_unref);
    }
    if (acc.count > REMOTE_DOMAIN_LIST_MAX) {
        if (acc.doms) {
            for (guint i = 0; i < acc.doms->len; i++)
                g_free(g_array_index(acc.doms, remote_nonnull_domain, i).name);
            g_array_unref(acc.doms);
        }
        vrt_error_set(error, VIR_ERR_RPC, "too many domains '%u' for limit '%d'", acc.count, REMOTE_DOMAIN_LIST_MAX);
        return false;
    }
    if (acc.doms) {
        ret->domains.domains_len = acc.doms->len;
        if (acc.doms->len == 0)
            g_array_set_size(acc.doms, 1); /* a non-NULL array, freed by xdr_free */
        ret->domains.domains_val = (remote_nonnull_domain *)(void *)g_array_free(acc.doms, FALSE);
    }
    ret->ret = (int)acc.count;
    return true;
}

bool
vrt_handle_connect_num_of_domains(VrtCall *call, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    ret->value = vrt_qemu_domain_count(drv, true);
    return true;
}

bool
vrt_handle_connect_num_of_defined_domains(VrtCall *call, remote_int_ret *ret, GError **error)
{
    DRV(call, error);
    ret->value = vrt_qemu_domain_count(drv, false);
    return true;
}

bool
vrt_handle_connect_list_domains(VrtCall *call, remote_connect_list_domains_args *args,
                                remote_connect_list_domains_ret *ret, GError **error)
{
    DRV(call, error);
    if (args->maxids < 0 || args->maxids > REMOTE_DOMAIN_LIST_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "maxids %d out of range", args->maxids);
        return false;
    }
    g_autoptr(GArray) ids = vrt_qemu_domain_list_ids(drv, args->maxids);
    ret->ids.ids_len = ids->len;
    ret->ids.ids_val = g_new0(int, MAX(ids->len, 1));
    /* An empty GArray has no storage: its data is NULL, which memcpy may
     * not be given even for zero bytes. */
    if (ids->len)
        memcpy(ret->ids.ids_val, ids->data, sizeof(int) * ids->len);
    return true;
}

bool
vrt_handle_connect_list_defined_domains(VrtCall *call, remote_maxnames_args *args, remote_names_ret *ret,
                                        GError **error)
{
    DRV(call, error);
    if (args->maxnames < 0 || args->maxnames > REMOTE_LIST_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "maxnames %d out of range", args->maxnames);
        return false;
    }
    g_autoptr(GPtrArray) names = vrt_qemu_domain_list_defined_names(drv, args->maxnames);
    ret->names.names_len = names->len;
    ret->names.names_val = g_new0(char *, MAX(names->len, 1));
    for (guint i = 0; i < names->len; i++)
        ret->names.names_val[i] = g_strdup(g_ptr_array_index(names, i));
    return true;
}

bool
vrt_handle_domain_attach_device(VrtCall *call, remote_domain_xml_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_attach_device(drv, WIRE_UUID(args->dom.uuid), args->xml, 1 /* AFFECT_LIVE */, error);
}

bool
vrt_handle_domain_attach_device_flags(VrtCall *call, remote_domain_xml_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_attach_device(drv, WIRE_UUID(args->dom.uuid), args->xml, args->flags, error);
}

bool
vrt_handle_domain_detach_device(VrtCall *call, remote_domain_xml_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_detach_device(drv, WIRE_UUID(args->dom.uuid), args->xml, 1 /* AFFECT_LIVE */, error);
}

bool
vrt_handle_domain_detach_device_flags(VrtCall *call, remote_domain_xml_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_detach_device(drv, WIRE_UUID(args->dom.uuid), args->xml, args->flags, error);
}

bool
vrt_handle_domain_detach_device_alias(VrtCall *call, remote_domain_detach_device_alias_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_detach_device_alias(drv, WIRE_UUID(args->dom.uuid), args->alias, args->flags, error);
}

bool
vrt_handle_domain_update_device_flags(VrtCall *call, remote_domain_xml_flags_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_update_device(drv, WIRE_UUID(args->dom.uuid), args->xml, args->flags, error);
}

/* ---- everyday calls: metadata, rename, keys, control and job, block resize ---- */

bool
vrt_handle_domain_set_metadata(VrtCall *call, remote_domain_set_metadata_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_set_metadata(drv, WIRE_UUID(args->dom.uuid), args->type,
                                        args->metadata ? *args->metadata : NULL, args->key ? *args->key : NULL,
                                        args->uri ? *args->uri : NULL, args->flags, error);
}

bool
vrt_handle_domain_get_metadata(VrtCall *call, remote_domain_get_metadata_args *args,
                               remote_domain_get_metadata_ret *ret, GError **error)
{
    DRV(call, error);
    ret->metadata = vrt_qemu_domain_get_metadata(drv, WIRE_UUID(args->dom.uuid), args->type,
                                                 args->uri ? *args->uri : NULL, args->flags, error);
    return ret->metadata != NULL;
}

bool
vrt_handle_domain_rename(VrtCall *call, remote_domain_rename_args *args, remote_domain_rename_ret *ret, GError **error)
{
    DRV(call, error);
    if (!vrt_qemu_domain_rename(drv, WIRE_UUID(args->dom.uuid), args->new_name ? *args->new_name : NULL, args->flags,
                                error))
        return false;
    ret->retcode = 0;
    return true;
}

bool
vrt_handle_domain_send_key(VrtCall *call, remote_domain_send_key_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_send_key(drv, WIRE_UUID(args->dom.uuid), args->codeset, args->holdtime,
                                    args->keycodes.keycodes_val, args->keycodes.keycodes_len, args->flags, error);
}

bool
vrt_handle_domain_inject_nmi(VrtCall *call, remote_domain_inject_nmi_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_inject_nmi(drv, WIRE_UUID(args->dom.uuid), error);
}

bool
vrt_handle_domain_get_control_info(VrtCall *call, remote_domain_get_control_info_args *args,
                                   remote_domain_get_control_info_ret *ret, GError **error)
{
    DRV(call, error);
    guint64 state_time = 0;
    if (!vrt_qemu_domain_get_control_info(drv, WIRE_UUID(args->dom.uuid), args->flags, &ret->state, &ret->details,
                                          &state_time, error))
        return false;
    ret->stateTime = state_time;
    return true;
}

bool
vrt_handle_domain_get_job_info(VrtCall *call, remote_domain_get_job_info_args *args,
                               remote_domain_get_job_info_ret *ret, GError **error)
{
    DRV(call, error);
    bool handled;

    memset(ret, 0, sizeof(*ret)); /* VIR_DOMAIN_JOB_NONE */
    /* A running migration's progress (daemon/remote_migrate.c). */
    if (!vrt_migrate_job_info(call, WIRE_UUID(args->dom.uuid), ret, &handled, error))
        return false;
    if (handled)
        return true;
    return vrt_qemu_domain_get_job_info(drv, WIRE_UUID(args->dom.uuid), error);
}

bool
vrt_handle_domain_abort_job(VrtCall *call, remote_domain_abort_job_args *args, GError **error)
{
    DRV(call, error);
    bool handled;

    /* A running migration is cancelled (daemon/remote_migrate.c). */
    if (!vrt_migrate_abort_job(call, WIRE_UUID(args->dom.uuid), &handled, error))
        return false;
    if (handled)
        return true;
    return vrt_qemu_domain_abort_job(drv, WIRE_UUID(args->dom.uuid), error);
}

bool
vrt_handle_domain_block_peek(VrtCall *call, remote_domain_block_peek_args *args, remote_domain_block_peek_ret *ret,
                             GError **error)
{
    g_autofree guint8 *buf = NULL;

    DRV(call, error);
    if (args->size > REMOTE_DOMAIN_BLOCK_PEEK_BUFFER_MAX) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "size > maximum buffer size");
        return false;
    }
    if (!*args->path) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "disk in virDomainBlockPeek must not be empty");
        return false;
    }
    buf = g_malloc0(args->size ? args->size : 1);
    if (!vrt_qemu_domain_block_peek(drv, WIRE_UUID(args->dom.uuid), args->path, args->offset, args->size, buf, error))
        return false;
    ret->buffer.buffer_len = args->size;
    ret->buffer.buffer_val = (char *)g_steal_pointer(&buf);
    return true;
}

bool
vrt_handle_domain_set_lifecycle_action(VrtCall *call, remote_domain_set_lifecycle_action_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_set_lifecycle_action(drv, WIRE_UUID(args->dom.uuid), args->type, args->action, args->flags,
                                                error);
}

bool
vrt_handle_domain_pm_wakeup(VrtCall *call, remote_domain_pm_wakeup_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_pm_wakeup(drv, WIRE_UUID(args->dom.uuid), error);
}

bool
vrt_handle_domain_get_disk_errors(VrtCall *call, remote_domain_get_disk_errors_args *args,
                                  remote_domain_get_disk_errors_ret *ret, GError **error)
{
    DRV(call, error);
    g_autoptr(GArray) errs = NULL;
    int count = 0;

    if (args->maxerrors > REMOTE_DOMAIN_DISK_ERRORS_MAX) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "maxerrors too large");
        return false;
    }
    errs = vrt_qemu_domain_get_disk_errors(drv, WIRE_UUID(args->dom.uuid), args->maxerrors, &count, error);
    if (!errs)
        return false;
    ret->nerrors = count;
    if (args->maxerrors == 0)
        return true;
    ret->errors.errors_len = errs->len;
    ret->errors.errors_val = g_new0(remote_domain_disk_error, errs->len ? errs->len : 1);
    for (guint i = 0; i < errs->len; i++) {
        VrtQemuDiskError *e = &g_array_index(errs, VrtQemuDiskError, i);

        ret->errors.errors_val[i].disk = g_steal_pointer(&e->disk);
        ret->errors.errors_val[i].error = e->error;
    }
    return true;
}

bool
vrt_handle_domain_block_resize(VrtCall *call, remote_domain_block_resize_args *args, GError **error)
{
    DRV(call, error);
    return vrt_qemu_domain_block_resize(drv, WIRE_UUID(args->dom.uuid), args->disk, args->size, args->flags, error);
}
