/*
 * libvrt's streams: a domain's console, channels and screenshots, a
 * storage volume's upload and download (libvrt-storage.c opens those). The call
 * that opens one goes through the RPC client's stream call (its data
 * follows the reply with the call's serial); a vrt_stream wraps that
 * stream and the connection it belongs to.
 */
#include "libvrt-private.h"

#include <string.h>

struct vrt_stream {
    vrt_conn *conn;
    VrtRpcStream *rpc;
};

vrt_stream *
vrt_stream_wrap(vrt_conn *conn, VrtRpcStream *rpc)
{
    vrt_stream *st = g_new0(vrt_stream, 1);

    st->conn = conn;
    st->rpc = rpc;
    return st;
}

vrt_stream *
vrt_domain_open_console(vrt_domain *dom, const char *dev_name, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, NULL);
    char *name = (char *)dev_name;
    remote_domain_open_console_args args = { .dev_name = dev_name ? &name : NULL, .flags = flags };
    VrtRpcStream *rpc = NULL;
    GError *gerr = NULL;

    vrt_domain_to_wire(dom, &args.dom);
    if (!vrt_rpc_client_call_stream(dom->conn->rpc, VRT_PROC_DOMAIN_OPEN_CONSOLE,
                                    (xdrproc_t)xdr_remote_domain_open_console_args, &args, NULL, NULL, &rpc, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
        return NULL;
    }
    return vrt_stream_wrap(dom->conn, rpc);
}

vrt_stream *
vrt_domain_open_channel(vrt_domain *dom, const char *name, unsigned int flags, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, NULL);
    char *n = (char *)name;
    remote_domain_open_channel_args args = { .name = name ? &n : NULL, .flags = flags };
    VrtRpcStream *rpc = NULL;
    GError *gerr = NULL;

    vrt_domain_to_wire(dom, &args.dom);
    if (!vrt_rpc_client_call_stream(dom->conn->rpc, VRT_PROC_DOMAIN_OPEN_CHANNEL,
                                    (xdrproc_t)xdr_remote_domain_open_channel_args, &args, NULL, NULL, &rpc, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
        return NULL;
    }
    return vrt_stream_wrap(dom->conn, rpc);
}

vrt_stream *
vrt_domain_screenshot(vrt_domain *dom, unsigned int screen, unsigned int flags, char **mime, vrt_error **err)
{
    VRT_CHECK_ARG(dom, err, NULL);
    remote_domain_screenshot_args args = { .screen = screen, .flags = flags };
    remote_domain_screenshot_ret ret = { 0 };
    VrtRpcStream *rpc = NULL;
    GError *gerr = NULL;

    vrt_domain_to_wire(dom, &args.dom);
    if (!vrt_rpc_client_call_stream(dom->conn->rpc, VRT_PROC_DOMAIN_SCREENSHOT,
                                    (xdrproc_t)xdr_remote_domain_screenshot_args, &args,
                                    (xdrproc_t)xdr_remote_domain_screenshot_ret, &ret, &rpc, &gerr)) {
        vrt_err_take(err, gerr, VIR_FROM_DOMAIN);
        return NULL;
    }
    if (mime)
        *mime = ret.mime && *ret.mime ? strdup(*ret.mime) : NULL;
    xdr_free((xdrproc_t)xdr_remote_domain_screenshot_ret, (char *)&ret);
    return vrt_stream_wrap(dom->conn, rpc);
}

long
vrt_stream_recv(vrt_stream *st, char *buf, size_t len, int timeout_ms, vrt_error **err)
{
    VRT_CHECK_ARG(st, err, -1);
    GError *gerr = NULL;
    gssize n = vrt_rpc_stream_recv(st->rpc, buf, len, timeout_ms, &gerr);

    if (n == -1)
        return vrt_err_take(err, gerr, VIR_FROM_STREAMS);
    return (long)n;
}

long
vrt_stream_recv_sparse(vrt_stream *st, char *buf, size_t len, long long *hole, vrt_error **err)
{
    VRT_CHECK_ARG(st, err, -1);
    VRT_CHECK_ARG(hole, err, -1);
    GError *gerr = NULL;
    gint64 h = 0;
    gssize n = vrt_rpc_stream_recv_sparse(st->rpc, buf, len, -1, &h, &gerr);

    *hole = h;
    if (n == -1)
        return vrt_err_take(err, gerr, VIR_FROM_STREAMS);
    return (long)n;
}

int
vrt_stream_send_hole(vrt_stream *st, long long length, vrt_error **err)
{
    VRT_CHECK_ARG(st, err, -1);
    GError *gerr = NULL;

    if (length < 0)
        return vrt_err_new(err, VIR_ERR_INVALID_ARG, VIR_FROM_STREAMS, "invalid argument: negative hole length");
    if (!vrt_rpc_stream_send_hole(st->rpc, length, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_STREAMS);
    return 0;
}

int
vrt_stream_send(vrt_stream *st, const char *data, size_t len, vrt_error **err)
{
    VRT_CHECK_ARG(st, err, -1);
    GError *gerr = NULL;

    if (!vrt_rpc_stream_send(st->rpc, data, len, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_STREAMS);
    return 0;
}

int
vrt_stream_finish(vrt_stream *st, vrt_error **err)
{
    VRT_CHECK_ARG(st, err, -1);
    GError *gerr = NULL;

    if (!vrt_rpc_stream_finish(st->rpc, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_STREAMS);
    return 0;
}

int
vrt_stream_abort(vrt_stream *st, vrt_error **err)
{
    VRT_CHECK_ARG(st, err, -1);
    GError *gerr = NULL;

    if (!vrt_rpc_stream_abort(st->rpc, &gerr))
        return vrt_err_take(err, gerr, VIR_FROM_STREAMS);
    return 0;
}

void
vrt_stream_free(vrt_stream *st)
{
    if (!st)
        return;
    vrt_rpc_stream_free(st->rpc);
    g_free(st);
}
