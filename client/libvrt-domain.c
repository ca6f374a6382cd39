/*
 * libvrt's domain handles: lookups, listing, lifecycle, XML, autostart and
 * device hotplug. Each call is one remote procedure (the same ones virsh
 * sends), so a libvirtd answers them as vrtd does.
 */
#include "libvrt-private.h"

#include <string.h>
#include "rpc/message.h"

#define FREE_RET(type, ret) vrt_message_free_payload((xdrproc_t)xdr_##type, &(ret))

vrt_domain *
vrt_domain_from_wire(vrt_conn *conn, const remote_nonnull_domain *d)
{
    vrt_domain *dom = g_new0(vrt_domain, 1);
    dom->conn = conn;
    dom->name = g_strdup(d->name);
    memcpy(dom->uuid, d->uuid, VRT_UUID_BUFLEN);
    dom->id = d->id;
    return dom;
}

void
vrt_domain_to_wire(vrt_domain *dom, remote_nonnull_domain *d)
{
    d->name = dom->name;
    memcpy(d->uuid, dom->uuid, VRT_UUID_BUFLEN);
    d->id = dom->id;
}

void
vrt_domain_free(vrt_domain *dom)
{
    if (!dom)
        return;
    g_free(dom->name);
    g_free(dom);
}

void
vrt_domain_list_free(vrt_domain **domains)
{
    vrt_list_free_full((void **)domains, (GDestroyNotify)vrt_domain_free);
}

const char *
vrt_domain_get_name(vrt_domain *dom)
{
    return dom ? dom->name : NULL;
}

int
vrt_domain_get_id(vrt_domain *dom)
{
    return dom ? dom->id : -1;
}

void
vrt_domain_get_uuid(vrt_domain *dom, unsigned char uuid[VRT_UUID_BUFLEN])
{
    memcpy(uuid, dom->uuid, VRT_UUID_BUFLEN);
}

void
vrt_domain_get_uuid_string(vrt_domain *dom, char buf[VRT_UUID_STRING_BUFLEN])
{
    vrt_uuid_format(dom->uuid, buf);
}

int
vrt_conn_list_all_domains(vrt_conn *conn, vrt_domain ***domains, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, -1);
    remote_connect_list_all_domains_args args = { .need_results = domains != NULL, .flags = flags };
    remote_connect_list_all_domains_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_connect_list_all_domains(conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    int n = ret.domains.domains_len;
    if (domains) {
        vrt_domain **list = g_new0(vrt_domain *, n + 1);
        for (int i = 0; i < n; i++)
            list[i] = vrt_domain_from_wire(conn, &ret.domains.domains_val[i]);
        *domains = list;
    } else {
        n = ret.ret;
    }
    FREE_RET(remote_connect_list_all_domains_ret, ret);
    return n;
}

static vrt_domain *
domain_ret(vrt_conn *conn, bool ok, remote_domain_ret *ret, GError *gerr, vrt_error **err)
{
    if (!ok) {
        vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
        return NULL;
    }
    vrt_domain *dom = vrt_domain_from_wire(conn, &ret->dom);
    FREE_RET(remote_domain_ret, *ret);
    return dom;
}

vrt_domain *
vrt_domain_lookup_by_name(vrt_conn *conn, const char *name, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    VRT_CHECK_ARG(name, err, NULL);
    remote_domain_lookup_by_name_args args = { .name = (char *)name };
    remote_domain_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok = vrt_call_domain_lookup_by_name(conn->rpc, &args, &ret, &gerr);
    return domain_ret(conn, ok, &ret, gerr, err);
}

vrt_domain *
vrt_domain_lookup_by_uuid(vrt_conn *conn, const unsigned char uuid[VRT_UUID_BUFLEN], vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    VRT_CHECK_ARG(uuid, err, NULL);
    remote_domain_lookup_by_uuid_args args;
    memcpy(args.uuid, uuid, VRT_UUID_BUFLEN);
    remote_domain_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok = vrt_call_domain_lookup_by_uuid(conn->rpc, &args, &ret, &gerr);
    return domain_ret(conn, ok, &ret, gerr, err);
}

vrt_domain *
vrt_domain_lookup_by_uuid_string(vrt_conn *conn, const char *uuid, vrt_error **err)
{
    VRT_CHECK_ARG(uuid, err, NULL);
    unsigned char raw[VRT_UUID_BUFLEN];
    if (!vrt_uuid_parse(uuid, raw)) {
        vrt_err_new(err, VIR_ERR_INVALID_ARG, VIR_FROM_DOMAIN, "invalid argument: malformed UUID '%s'", uuid);
        return NULL;
    }
    return vrt_domain_lookup_by_uuid(conn, raw, err);
}

vrt_domain *
vrt_domain_lookup_by_id(vrt_conn *conn, int id, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    remote_domain_lookup_by_id_args args = { .id = id };
    remote_domain_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok = vrt_call_domain_lookup_by_id(conn->rpc, &args, &ret, &gerr);
    return domain_ret(conn, ok, &ret, gerr, err);
}

vrt_domain *
vrt_domain_define_xml(vrt_conn *conn, const char *xml, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    VRT_CHECK_ARG(xml, err, NULL);
    remote_domain_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok;
    /* Plain DEFINE_XML without flags, as virsh does, so older daemons answer too. */
    if (flags) {
        remote_xml_flags_args args = { .xml = (char *)xml, .flags = flags };
        ok = vrt_call_domain_define_xml_flags(conn->rpc, &args, &ret, &gerr);
    } else {
        remote_xml_args args = { .xml = (char *)xml };
        ok = vrt_call_domain_define_xml(conn->rpc, &args, &ret, &gerr);
    }
    return domain_ret(conn, ok, &ret, gerr, err);
}

vrt_domain *
vrt_domain_create_xml(vrt_conn *conn, const char *xml, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(conn, err, NULL);
    VRT_CHECK_ARG(xml, err, NULL);
    remote_xml_flags_args args = { .xml = (char *)xml, .flags = flags };
    remote_domain_ret ret = { 0 };
    GError *gerr = NULL;
    bool ok = vrt_call_domain_create_xml(conn->rpc, &args, &ret, &gerr);
    return domain_ret(conn, ok, &ret, gerr, err);
}

/* A call with only the domain as argument and no result. */
#define DOM_ONLY_CALL(fn, stub)                              \
    int fn(vrt_domain *dom, vrt_error **err)                 \
    {                                                        \
        VRT_CHECK_ARG(dom, err, -1);                         \
        remote_domain_only_args args;                        \
        vrt_domain_to_wire(dom, &args.dom);                  \
        GError *gerr = NULL;                                 \
        if (!stub(dom->conn->rpc, &args, &gerr))             \
            return vrt_err_take(err, gerr, VIR_FROM_DOMAIN); \
        return 0;                                            \
    }

/* A call with the domain and flags and no result. */
#define DOM_FLAGS_CALL(fn, stub)                                 \
    int fn(vrt_domain *dom, unsigned int flags, vrt_error **err) \
    {                                                            \
        VRT_CHECK_ARG(dom, err, -1);                             \
        remote_domain_flags_args args = { .flags = flags };      \
        vrt_domain_to_wire(dom, &args.dom);                      \
        GError *gerr = NULL;                                     \
        if (!stub(dom->conn->rpc, &args, &gerr))                 \
            return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);     \
        return 0;                                                \
    }

DOM_ONLY_CALL(vrt_domain_destroy, vrt_call_domain_destroy)
DOM_ONLY_CALL(vrt_domain_shutdown, vrt_call_domain_shutdown)
DOM_ONLY_CALL(vrt_domain_suspend, vrt_call_domain_suspend)
DOM_ONLY_CALL(vrt_domain_resume, vrt_call_domain_resume)
DOM_FLAGS_CALL(vrt_domain_reboot, vrt_call_domain_reboot)

int
vrt_domain_reset(vrt_domain *dom, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_flags_args args = { .flags = 0 };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!vrt_call_domain_reset(dom->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return 0;
}

int
vrt_domain_undefine(vrt_domain *dom, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    GError *gerr = NULL;
    bool ok;
    if (flags) {
        remote_domain_flags_args args = { .flags = flags };
        vrt_domain_to_wire(dom, &args.dom);
        ok = vrt_call_domain_undefine_flags(dom->conn->rpc, &args, &gerr);
    } else {
        remote_domain_only_args args;
        vrt_domain_to_wire(dom, &args.dom);
        ok = vrt_call_domain_undefine(dom->conn->rpc, &args, &gerr);
    }
    return ok ? 0 : vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
}

int
vrt_domain_create(vrt_domain *dom, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    GError *gerr = NULL;
    remote_domain_flags_args args = { .flags = flags };
    vrt_domain_to_wire(dom, &args.dom);
    remote_domain_ret ret = { 0 };
    if (!vrt_call_domain_create_with_flags(dom->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    dom->id = ret.dom.id; /* the running domain's id, as libvirt's client updates it */
    FREE_RET(remote_domain_ret, ret);
    return 0;
}

int
vrt_domain_get_info(vrt_domain *dom, vrt_domain_info *info, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    VRT_CHECK_ARG(info, err, -1);
    remote_domain_only_args args;
    vrt_domain_to_wire(dom, &args.dom);
    remote_domain_get_info_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_domain_get_info(dom->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    info->state = ret.state;
    info->max_mem = ret.maxMem;
    info->memory = ret.memory;
    info->nr_virt_cpu = ret.nrVirtCpu;
    info->cpu_time = ret.cpuTime;
    return 0;
}

int
vrt_domain_get_state(vrt_domain *dom, int *state, int *reason, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_flags_args args = { .flags = 0 };
    vrt_domain_to_wire(dom, &args.dom);
    remote_domain_get_state_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_domain_get_state(dom->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    if (state)
        *state = ret.state;
    if (reason)
        *reason = ret.reason;
    return 0;
}

char *
vrt_domain_get_xml_desc(vrt_domain *dom, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, NULL);
    remote_domain_flags_args args = { .flags = flags };
    vrt_domain_to_wire(dom, &args.dom);
    remote_string_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_domain_get_xml_desc(dom->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
        return NULL;
    }
    char *out = g_strdup(ret.str);
    FREE_RET(remote_string_ret, ret);
    return out;
}

char *
vrt_domain_get_os_type(vrt_domain *dom, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, NULL);
    remote_domain_only_args args;
    vrt_domain_to_wire(dom, &args.dom);
    remote_string_ret ret = { 0 };
    GError *gerr = NULL;
    if (!vrt_call_domain_get_os_type(dom->conn->rpc, &args, &ret, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
        return NULL;
    }
    char *out = g_strdup(ret.str);
    FREE_RET(remote_string_ret, ret);
    return out;
}

/* A call with only the domain as argument answering one int. */
static int
dom_int_call(vrt_domain *dom, bool (*stub)(VrtRpcClient *, remote_domain_only_args *, remote_int_ret *, GError **),
             int *value, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_only_args args;
    vrt_domain_to_wire(dom, &args.dom);
    remote_int_ret ret = { 0 };
    GError *gerr = NULL;
    if (!stub(dom->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    *value = ret.value;
    return 0;
}

int
vrt_domain_get_autostart(vrt_domain *dom, int *autostart, vrt_error **err)
{
    VRT_CHECK_ARG(autostart, err, -1);
    return dom_int_call(dom, vrt_call_domain_get_autostart, autostart, err);
}

int
vrt_domain_set_autostart(vrt_domain *dom, int autostart, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_set_autostart_args args = { .autostart = autostart ? 1 : 0 };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!vrt_call_domain_set_autostart(dom->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return 0;
}

int
vrt_domain_is_active(vrt_domain *dom, vrt_error **err)
{
    int v = 0;
    if (dom_int_call(dom, vrt_call_domain_is_active, &v, err) < 0)
        return -1;
    return v ? 1 : 0;
}

int
vrt_domain_is_persistent(vrt_domain *dom, vrt_error **err)
{
    int v = 0;
    if (dom_int_call(dom, vrt_call_domain_is_persistent, &v, err) < 0)
        return -1;
    return v ? 1 : 0;
}

static int
dom_xml_flags_call(vrt_domain *dom, const char *xml, unsigned int flags,
                   bool (*stub)(VrtRpcClient *, remote_domain_xml_flags_args *, GError **), vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    VRT_CHECK_ARG(xml, err, -1);
    remote_domain_xml_flags_args args = { .xml = (char *)xml, .flags = flags };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!stub(dom->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return 0;
}

int
vrt_domain_attach_device(vrt_domain *dom, const char *xml, unsigned int flags, vrt_error **err)
{
    return dom_xml_flags_call(dom, xml, flags, vrt_call_domain_attach_device_flags, err);
}

int
vrt_domain_detach_device(vrt_domain *dom, const char *xml, unsigned int flags, vrt_error **err)
{
    return dom_xml_flags_call(dom, xml, flags, vrt_call_domain_detach_device_flags, err);
}

int
vrt_domain_update_device(vrt_domain *dom, const char *xml, unsigned int flags, vrt_error **err)
{
    return dom_xml_flags_call(dom, xml, flags, vrt_call_domain_update_device_flags, err);
}

int
vrt_domain_detach_device_alias(vrt_domain *dom, const char *alias, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    VRT_CHECK_ARG(alias, err, -1);
    remote_domain_detach_device_alias_args args = { .alias = (char *)alias, .flags = flags };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!vrt_call_domain_detach_device_alias(dom->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return 0;
}

const char *
vrt_domain_state_to_string(int state)
{
    static const char *const names[] = {
        "no state", "running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended",
    };
    return state >= 0 && state < (int)G_N_ELEMENTS(names) ? names[state] : "unknown";
}
