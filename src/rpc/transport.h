/*
 * A connection's byte stream above its socket: plain (no transport), TLS
 * (src/rpc/tls.c) or a SASL security layer (src/rpc/sasl.c) over either.
 * The server's and libvrt's read and write paths call these instead of
 * recv/send when a connection has one, so framing, backpressure and
 * keepalive are the same on every transport.
 *
 * recv and send behave as the socket calls with MSG_DONTWAIT on a
 * non-blocking socket: -1 with errno EAGAIN when nothing can move now, 0 from
 * recv at the end of the stream, -1 with another errno on an error. One
 * thread may receive while another sends (the server reads on its I/O thread
 * and writes from workers); an implementation locks what the two share.
 * pending tells that recv has bytes already decrypted, which the socket's
 * poll does not show.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct _VrtTransport VrtTransport;

typedef struct {
    ssize_t (*recv)(VrtTransport *t, void *buf, size_t len);
    ssize_t (*send)(VrtTransport *t, const void *buf, size_t len);
    bool (*pending)(VrtTransport *t);
    void (*free)(VrtTransport *t);
} VrtTransportOps;

struct _VrtTransport {
    const VrtTransportOps *ops;
    int fd; /* the socket below, owned by the connection, not the transport */
    /* Strength of the encryption in bits (TLS: the cipher's key size), 0
     * for none: a SASL exchange over TLS is told it as its external SSF. */
    unsigned int ssf;
    bool is_tls;
};

static inline ssize_t
vrt_transport_recv(VrtTransport *t, void *buf, size_t len)
{
    return t->ops->recv(t, buf, len);
}

static inline ssize_t
vrt_transport_send(VrtTransport *t, const void *buf, size_t len)
{
    return t->ops->send(t, buf, len);
}

static inline bool
vrt_transport_pending(VrtTransport *t)
{
    return t && t->ops->pending && t->ops->pending(t);
}

static inline void
vrt_transport_free(VrtTransport *t)
{
    if (t)
        t->ops->free(t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtTransport, vrt_transport_free)
