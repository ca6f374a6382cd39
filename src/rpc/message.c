/*
 * Frame encoding and decoding with libtirpc's XDR memory streams.
 */
#include "rpc/message.h"
#include "util/error.h"

#include <rpc/xdr.h>
#include <string.h>

bool
vrt_message_decode_length(const guint8 buf[4], guint32 *total, GError **error)
{
    guint32 len = ((guint32)buf[0] << 24) | ((guint32)buf[1] << 16) | ((guint32)buf[2] << 8) | buf[3];
    if (len < VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE) {
        vrt_error_set(error, VIR_ERR_RPC, "packet %u bytes received from client too small, want %u", len,
                      VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE);
        return false;
    }
    if (len > VRT_MESSAGE_MAX + VRT_MESSAGE_LEN_SIZE) {
        vrt_error_set(error, VIR_ERR_RPC, "packet %u bytes received from client too large, want %u", len,
                      VRT_MESSAGE_MAX + VRT_MESSAGE_LEN_SIZE);
        return false;
    }
    *total = len;
    return true;
}

bool
vrt_message_decode_header(const guint8 *buf, gsize len, vrt_net_header *hdr, GError **error)
{
    XDR xdr;
    if (len < VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE) {
        vrt_error_set(error, VIR_ERR_RPC, "%s", "frame shorter than a header");
        return false;
    }
    memset(hdr, 0, sizeof(*hdr));
    xdrmem_create(&xdr, (char *)buf + VRT_MESSAGE_LEN_SIZE, VRT_MESSAGE_HEADER_SIZE, XDR_DECODE);
    bool ok = xdr_vrt_net_header(&xdr, hdr);
    xdr_destroy(&xdr);
    if (!ok) {
        vrt_error_set(error, VIR_ERR_RPC, "%s", "unable to decode message header");
        return false;
    }
    return true;
}

bool
vrt_message_decode_payload(const guint8 *buf, gsize len, xdrproc_t filter, void *obj, GError **error)
{
    gsize off = VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE;
    XDR xdr;
    xdrmem_create(&xdr, (char *)buf + off, (u_int)(len - off), XDR_DECODE);
    bool ok = filter(&xdr, obj, 0);
    u_int used = xdr_getpos(&xdr);
    xdr_destroy(&xdr);
    if (!ok) {
        vrt_message_free_payload(filter, obj);
        vrt_error_set(error, VIR_ERR_RPC, "%s", "unable to decode message payload");
        return false;
    }
    if (used != len - off) {
        vrt_message_free_payload(filter, obj);
        vrt_error_set(error, VIR_ERR_RPC, "message payload has %u trailing bytes", (unsigned)(len - off - used));
        return false;
    }
    return true;
}

void
vrt_message_free_payload(xdrproc_t filter, void *obj)
{
    if (filter && obj)
        xdr_free(filter, obj);
}

/* Encodes hdr and obj into a frame of at most cap bytes; NULL when they do
 * not fit (or obj cannot be encoded). */
static guint8 *
encode_into(const vrt_net_header *hdr, xdrproc_t filter, const void *obj, gsize cap, gsize *total)
{
    guint8 *buf = g_malloc(cap);
    XDR xdr;
    bool ok;

    xdrmem_create(&xdr, (char *)buf + VRT_MESSAGE_LEN_SIZE, (u_int)(cap - VRT_MESSAGE_LEN_SIZE), XDR_ENCODE);
    ok = xdr_vrt_net_header(&xdr, (vrt_net_header *)hdr) && (!filter || filter(&xdr, (void *)obj, 0));
    *total = VRT_MESSAGE_LEN_SIZE + xdr_getpos(&xdr);
    xdr_destroy(&xdr);
    if (!ok) {
        g_free(buf);
        return NULL;
    }
    buf[0] = (guint8)(*total >> 24);
    buf[1] = (guint8)(*total >> 16);
    buf[2] = (guint8)(*total >> 8);
    buf[3] = (guint8)*total;
    return buf;
}

/* Most messages fit the first guess and are encoded once; a larger one is
 * measured with xdr_sizeof and encoded again. */
#define ENCODE_FIRST_GUESS (64 * 1024)

GBytes *
vrt_message_encode(const vrt_net_header *hdr, xdrproc_t filter, const void *obj, GError **error)
{
    gsize total = 0;
    guint8 *buf = encode_into(hdr, filter, obj, ENCODE_FIRST_GUESS, &total);

    if (!buf) {
        unsigned long payload = filter ? xdr_sizeof(filter, (void *)obj) : 0;
        gsize need = VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE + payload;

        if (payload > VRT_MESSAGE_MAX || need > VRT_MESSAGE_MAX + VRT_MESSAGE_LEN_SIZE) {
            vrt_error_set(error, VIR_ERR_RPC, "message of %zu bytes is larger than the protocol allows (%u)", need,
                          VRT_MESSAGE_MAX);
            return NULL;
        }
        if (need > ENCODE_FIRST_GUESS)
            buf = encode_into(hdr, filter, obj, need, &total);
        if (!buf) {
            vrt_error_set(error, VIR_ERR_RPC, "%s", "unable to encode message");
            return NULL;
        }
    } else if (total + 4096 < ENCODE_FIRST_GUESS) {
        buf = g_realloc(buf, total);
    }
    return g_bytes_new_take(buf, total);
}

GBytes *
vrt_message_encode_raw(const vrt_net_header *hdr, const void *data, gsize len, GError **error)
{
    gsize total = VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE + len;

    if (total > VRT_MESSAGE_MAX + VRT_MESSAGE_LEN_SIZE) {
        vrt_error_set(error, VIR_ERR_RPC, "message of %zu bytes is larger than the protocol allows (%u)", total,
                      VRT_MESSAGE_MAX);
        return NULL;
    }
    /* The header alone, then the data appended behind it. */
    g_autoptr(GBytes) head = vrt_message_encode(hdr, NULL, NULL, error);
    if (!head)
        return NULL;
    guint8 *buf = g_malloc(total);
    memcpy(buf, g_bytes_get_data(head, NULL), VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE);
    if (len)
        memcpy(buf + VRT_MESSAGE_LEN_SIZE + VRT_MESSAGE_HEADER_SIZE, data, len);
    buf[0] = (guint8)(total >> 24);
    buf[1] = (guint8)(total >> 16);
    buf[2] = (guint8)(total >> 8);
    buf[3] = (guint8)total;
    return g_bytes_new_take(buf, total);
}

GBytes *
vrt_message_encode_error(const vrt_net_header *call, const GError *err, int origin)
{
    return vrt_message_encode_error_typed(call, VRT_NET_REPLY, err, origin);
}

GBytes *
vrt_message_encode_error_typed(const vrt_net_header *call, int type, const GError *err, int origin)
{
    vrt_net_header hdr = *call;
    hdr.type = (vrt_net_message_type)type;
    hdr.status = VRT_NET_ERROR;
    remote_error rerr = { 0 };
    char *msg = err ? err->message : (char *)"unknown error";
    rerr.code = vrt_error_code(err);
    rerr.domain = origin;
    rerr.message = &msg;
    rerr.level = 2; /* VIR_ERR_ERROR */
    GBytes *out = vrt_message_encode(&hdr, (xdrproc_t)xdr_remote_error, &rerr, NULL);
    if (!out) {
        /* Only a message too large for a frame gets here: send a short one. */
        char *shortmsg = (char *)"internal error: error message too large";
        rerr.code = VIR_ERR_INTERNAL_ERROR;
        rerr.message = &shortmsg;
        out = vrt_message_encode(&hdr, (xdrproc_t)xdr_remote_error, &rerr, NULL);
    }
    return out;
}

bool
vrt_message_decode_error(const guint8 *buf, gsize len, GError **out)
{
    remote_error rerr = { 0 };
    if (!vrt_message_decode_payload(buf, len, (xdrproc_t)xdr_remote_error, &rerr, NULL))
        return false;
    vrt_error_set_literal(out, rerr.code ? rerr.code : VIR_ERR_INTERNAL_ERROR,
                          rerr.message && *rerr.message ? *rerr.message : "unknown error");
    xdr_free((xdrproc_t)xdr_remote_error, (char *)&rerr);
    return true;
}
