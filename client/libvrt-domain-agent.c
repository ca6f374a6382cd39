/*
 * libvrt's calls served by a domain's guest agent: filesystem freeze and
 * thaw and the guest's time. Each is one remote procedure, the one virsh
 * sends (domfsfreeze, domfsthaw, domtime).
 */
#include "libvrt-private.h"

#include "rpc/message.h"

int
vrt_domain_fsfreeze(vrt_domain *dom, const char **mountpoints, unsigned int n, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_fsfreeze_args args = { .flags = flags };
    remote_domain_fsfreeze_ret ret = { 0 };
    vrt_domain_to_wire(dom, &args.dom);
    args.mountpoints.mountpoints_len = n;
    args.mountpoints.mountpoints_val = (remote_nonnull_string *)mountpoints;
    GError *gerr = NULL;
    if (!vrt_call_domain_fsfreeze(dom->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return ret.filesystems;
}

int
vrt_domain_fsthaw(vrt_domain *dom, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_fsthaw_args args = { .flags = flags };
    remote_domain_fsthaw_ret ret = { 0 };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!vrt_call_domain_fsthaw(dom->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return ret.filesystems;
}

int
vrt_domain_get_time(vrt_domain *dom, long long *seconds, unsigned int *nseconds, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_get_time_args args = { 0 };
    remote_domain_get_time_ret ret = { 0 };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!vrt_call_domain_get_time(dom->conn->rpc, &args, &ret, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    if (seconds)
        *seconds = ret.seconds;
    if (nseconds)
        *nseconds = ret.nseconds;
    return 0;
}

int
vrt_domain_set_time(vrt_domain *dom, long long seconds, unsigned int nseconds, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, -1);
    remote_domain_set_time_args args = { .seconds = seconds, .nseconds = nseconds, .flags = flags };
    vrt_domain_to_wire(dom, &args.dom);
    GError *gerr = NULL;
    if (!vrt_call_domain_set_time(dom->conn->rpc, &args, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
    return 0;
}
