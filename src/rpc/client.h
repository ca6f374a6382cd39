/*
 * The client side of the wire protocol, used by libvrt: one connection, calls
 * from any number of threads matched to replies by serial, event messages
 * handed to a callback, keepalive answered and sent by a reader thread.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <rpc/xdr.h>
#include "rpc/tls.h"

typedef struct _VrtRpcClient VrtRpcClient;

/* An event frame (type MESSAGE of the remote program); runs on the reader
 * thread. frame is the whole frame, valid during the call. */
typedef void (*VrtRpcEventFunc)(int proc, const guint8 *frame, gsize len, gpointer data);

VrtRpcClient *vrt_rpc_client_new_unix(const char *path, GError **error);
/* Takes ownership of a connected stream socket. */
VrtRpcClient *vrt_rpc_client_new_fd(int fd, GError **error);
/* Connects to host:port over TLS with cfg's certificates (src/rpc/tls.h:
 * the server's certificate checked against host, libvirt's confirmation
 * read before the first call). */
VrtRpcClient *vrt_rpc_client_new_tls(const char *host, guint port, const VrtTlsConfig *cfg, GError **error);
void vrt_rpc_client_free(VrtRpcClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtRpcClient, vrt_rpc_client_free)

void vrt_rpc_client_set_event_func(VrtRpcClient *client, VrtRpcEventFunc func, gpointer data);
/* Sends PINGs after interval seconds without traffic; the connection is
 * closed after count unanswered ones. interval <= 0 disables. */
void vrt_rpc_client_set_keepalive(VrtRpcClient *client, int interval, guint count);
bool vrt_rpc_client_is_open(VrtRpcClient *client);

/* One call of the remote program. args_filter/args and ret_filter/ret describe
 * the payloads (ret is zeroed and filled; free it with xdr_free). An error
 * reply becomes *error with the server's code and message. */
bool vrt_rpc_client_call(VrtRpcClient *client, int proc, xdrproc_t args_filter, void *args, xdrproc_t ret_filter,
                         void *ret, GError **error);
