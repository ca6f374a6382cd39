/*
 * libvrt's calls on a domain's live state: its vCPU count (set, with
 * hotplug into a running domain, and read) and its interfaces' addresses.
 * Each is one remote procedure, the one virsh sends.
 */
#include "libvrt-private.h"

#include "rpc/message.h"

int
vrt_domain_set_vcpus(vrt_domain *dom, unsigned int n, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_set_vcpus_flags_args args = { .nvcpus = n, .flags = flags };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!vrt_call_domain_set_vcpus_flags(dom->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return 0;
}

int
vrt_domain_get_vcpus(vrt_domain *dom, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_flags_args args = { .flags = flags };
    remote_int_ret ret = { 0 };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!vrt_call_domain_get_vcpus_flags(dom->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return ret.value;
}

void
vrt_domain_iface_list_free(vrt_domain_iface *ifaces, int n)
{
    for (int i = 0; ifaces && i < n; i++) {
        g_free(ifaces[i].name);
        g_free(ifaces[i].hwaddr);
        for (unsigned int j = 0; j < ifaces[i].naddrs; j++)
            g_free(ifaces[i].addrs[j].addr);
        g_free(ifaces[i].addrs);
    }
    g_free(ifaces);
}

int
vrt_domain_interface_addresses(vrt_domain *dom, unsigned int source, vrt_domain_iface **ifaces, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    VRT_CHECK_ARG(ifaces, err, -1);
    remote_domain_interface_addresses_args args = { .source = source };
    remote_domain_interface_addresses_ret ret = { 0 };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!vrt_call_domain_interface_addresses(dom->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    guint n = ret.ifaces.ifaces_len;
    vrt_domain_iface *out = g_new0(vrt_domain_iface, n ? n : 1);
    for (guint i = 0; i < n; i++) {
        remote_domain_interface *w = &ret.ifaces.ifaces_val[i];
        out[i].name = g_strdup(w->name);
        out[i].hwaddr = w->hwaddr ? g_strdup(*w->hwaddr) : NULL;
        out[i].naddrs = w->addrs.addrs_len;
        out[i].addrs = g_new0(vrt_domain_ip_addr, w->addrs.addrs_len ? w->addrs.addrs_len : 1);
        for (guint j = 0; j < w->addrs.addrs_len; j++) {
            out[i].addrs[j].type = w->addrs.addrs_val[j].type;
            out[i].addrs[j].addr = g_strdup(w->addrs.addrs_val[j].addr);
            out[i].addrs[j].prefix = w->addrs.addrs_val[j].prefix;
        }
    }
    vrt_message_free_payload((xdrproc_t)xdr_remote_domain_interface_addresses_ret, &ret);
    *ifaces = out;
    return (int)n;
}
