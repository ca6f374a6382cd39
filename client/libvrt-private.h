/*
 * What libvrt's source files share and its users never see: the layout of
 * the handles, the conversion of internal GErrors into vrt_error, and
 * helpers to turn wire names into handles.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include "vrt.h"
#include "libvrt-ssh.h"
#include "vrt_client_stubs.h"
#include "util/error.h"
#include "util/uuid.h"

/* libvirt's default keepalive (seconds between PINGs, unanswered ones before closing). */
#define VRT_KEEPALIVE_INTERVAL 5
#define VRT_KEEPALIVE_COUNT 5

typedef struct {
    int callback_id;
    int event_id;
    vrt_domain_event_cb cb;
    void *opaque;
} VrtEventReg;

struct vrt_conn {
    VrtRpcClient *rpc;
    VrtSshChild *ssh; /* the ssh carrying rpc, for qemu+ssh */
    char *uri; /* as opened (the default filled in) */
    GMutex lock; /* guards events (registrations are read on the reader thread) */
    GPtrArray *events; /* VrtEventReg* */
};

struct vrt_domain {
    vrt_conn *conn;
    char *name;
    unsigned char uuid[VRT_UUID_BUFLEN];
    int id;
};

struct vrt_network {
    vrt_conn *conn;
    char *name;
    unsigned char uuid[VRT_UUID_BUFLEN];
};

struct vrt_network_port {
    vrt_network *net; /* owned copy */
    unsigned char uuid[VRT_UUID_BUFLEN];
};

struct vrt_nodedev {
    vrt_conn *conn;
    char *name;
};

/* The AUTH_SASL exchange (libvrt-sasl.c) with host's server. */
bool vrt_conn_auth_sasl(vrt_conn *conn, const char *host, vrt_auth_cb cb, void *opaque, GError **error);

/* Moves a GError (may be NULL: nothing happens) into *err; origin is the
 * virErrorDomain reported. Always frees gerr. Returns -1 for `return` chains. */
int vrt_err_take(vrt_error **err, GError *gerr, int origin);
/* Builds a vrt_error directly. */
int vrt_err_new(vrt_error **err, int code, int origin, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Frees a NULL-terminated array of handles (the *_list_free of vrt.h) and
 * each handle in it with free_one; NULL is nothing to free. */
void vrt_list_free_full(void **list, GDestroyNotify free_one);

/* Fails with VIR_ERR_INVALID_ARG (naming what) when ptr is NULL. */
#define VRT_CHECK_ARG(ptr, err, retval)                                                                          \
    do {                                                                                                         \
        if (!(ptr)) {                                                                                            \
            vrt_err_new(err, VIR_ERR_INVALID_ARG, VIR_FROM_NONE, "invalid argument: %s must not be NULL", #ptr); \
            return retval;                                                                                       \
        }                                                                                                        \
    } while (0)

vrt_domain *vrt_domain_from_wire(vrt_conn *conn, const remote_nonnull_domain *d);
void vrt_domain_to_wire(vrt_domain *dom, remote_nonnull_domain *d);
vrt_network *vrt_network_from_wire(vrt_conn *conn, const remote_nonnull_network *n);
void vrt_network_to_wire(vrt_network *net, remote_nonnull_network *n);

/* A stream of conn over the RPC stream rpc (taken). */
vrt_stream *vrt_stream_wrap(vrt_conn *conn, VrtRpcStream *rpc);

void vrt_conn_dispatch_event(vrt_conn *conn, int proc, const guint8 *frame, gsize len);
