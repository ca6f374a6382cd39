/*
 * The client side of the wire protocol, used by libvrt: one connection, calls
 * from any number of threads matched to replies by serial, event messages
 * handed to a callback, keepalive answered and sent by a reader thread, and
 * streams: a call that opens one, then its data both ways (stream.h has the
 * protocol).
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
/* A plain TCP connection (qemu+tcp://: SASL authenticates it). */
VrtRpcClient *vrt_rpc_client_new_tcp(const char *host, guint port, GError **error);
/* TLS's key bits (0 without TLS), for SASL's external SSF. */
unsigned int vrt_rpc_client_tls_ssf(VrtRpcClient *client);
int vrt_rpc_client_get_fd(VrtRpcClient *client);
/* Makes layer (a SASL security layer over the plain socket) carry every
 * byte from now on; call it between the reply that ended the SASL exchange
 * and the next call. The client frees it. */
void vrt_rpc_client_push_layer(VrtRpcClient *client, VrtTransport *layer);
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
/* The same for a call of program prog of version vers (the admin program). */
bool vrt_rpc_client_call_program(VrtRpcClient *client, unsigned int prog, unsigned int vers, int proc,
                                 xdrproc_t args_filter, void *args, xdrproc_t ret_filter, void *ret, GError **error);

/* ---- streams ---- */

typedef struct _VrtRpcStream VrtRpcStream;

/* A call that opens a stream, as vrt_rpc_client_call; on success *stream is
 * the stream of the call's serial (free it with vrt_rpc_stream_free). Its
 * messages are taken from the call's sending on, so none is lost. While
 * more than VRT_RPC_STREAM_QUEUE bytes of a stream wait for
 * vrt_rpc_stream_recv, the reader stops reading the connection (the
 * server then stops reading the stream's source). */
#define VRT_RPC_STREAM_QUEUE (1024u * 1024u)
bool vrt_rpc_client_call_stream(VrtRpcClient *client, int proc, xdrproc_t args_filter, void *args, xdrproc_t ret_filter,
                                void *ret, VrtRpcStream **stream, GError **error);
/* Receives up to len bytes: their number, 0 at the stream's end, -1 with
 * *error (the server's stream error, or the connection's end), or -2 when
 * nothing came within timeout_ms (< 0: wait as long as it takes). */
gssize vrt_rpc_stream_recv(VrtRpcStream *stream, void *buf, gsize len, int timeout_ms, GError **error);
/* Sends data (in messages of at most 256 KiB, as libvirt's clients). */
bool vrt_rpc_stream_send(VrtRpcStream *stream, const void *data, gsize len, GError **error);
/* A sparse stream's receive: as vrt_rpc_stream_recv, and when the server's
 * next message is a hole, 0 with *hole its length (*hole is 0 otherwise:
 * 0 is then the end). Data never runs across a hole. vrt_rpc_stream_recv
 * fails on a hole ("Unexpected stream hole"). */
gssize vrt_rpc_stream_recv_sparse(VrtRpcStream *stream, void *buf, gsize len, int timeout_ms, gint64 *hole,
                                  GError **error);
/* Sends a hole of length bytes (a VRT_NET_STREAM_HOLE message). */
bool vrt_rpc_stream_send_hole(VrtRpcStream *stream, gint64 length, GError **error);
/* Finishes the stream (data not received yet is dropped) and waits for
 * the server's confirmation or error. */
bool vrt_rpc_stream_finish(VrtRpcStream *stream, GError **error);
/* Aborts the stream and waits for the server's confirmation. */
bool vrt_rpc_stream_abort(VrtRpcStream *stream, GError **error);
void vrt_rpc_stream_free(VrtRpcStream *stream);
