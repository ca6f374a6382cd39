/*
 * Server-side streams of libvirt's wire protocol: the data a call opens
 * (a console, a channel, a screenshot, a storage volume's upload or
 * download) flowing after the call's reply as messages of type
 * VRT_NET_STREAM with the call's program, procedure and serial.
 *
 * A handler binds a stream to a file descriptor with vrt_server_stream_new
 * during its call; the server starts it once the call's reply is queued
 * (the client must see the reply first) and discards it when the call
 * fails. What the client sends as soon as it has the reply, before the
 * start, is kept (and a finish or abort answered); an owner's abort before
 * the reply is sent after it. Then, on the I/O thread:
 *   - source (fd -> client): what the fd gives is sent as STREAM CONTINUE
 *     messages; its end (read 0, EIO or hang-up) as an empty STREAM
 *     CONTINUE, which the client reads as end of file. The fd is not read
 *     while the client's unread messages cost half its max_client_queued
 *     (or the server is past max_queued): they are queued replies like any
 *     other, charged to the client and the server. A sparse file source
 *     (vrt_server_stream_set_file) sends each hole of the file as one
 *     VRT_NET_STREAM_HOLE message, charged and flow-controlled alike.
 *   - sink (client -> fd): the client's STREAM CONTINUE data (and
 *     VRT_NET_STREAM_HOLE holes, a seek forward) is written to the fd as it
 *     takes it; what waits is charged to the client as its held calls are,
 *     so a client whose data the fd does not take stops being read.
 *   - finish: the client's empty STREAM with status OK; answered with an
 *     empty STREAM OK once everything it sent is written.
 *   - abort: the client's STREAM with status ERROR; answered with an empty
 *     STREAM OK, what it sent and was not written yet is dropped.
 *   - an error on the server's side (a failed read or write, or
 *     vrt_server_stream_abort by its owner): a STREAM message with status
 *     ERROR and libvirt's error struct; the stream is over.
 *   - the client going away ends every stream it had.
 * Each ending closes the fd and runs the end callback once (on the thread
 * that ended it, no lock held), which is where an owner lets go of what the
 * stream held (a console marked busy). Messages for a stream that has ended
 * are dropped, as libvirtd does.
 *
 * Locks: a stream's lock is taken before its client's lock, never after.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include "rpc/server.h"

typedef struct _VrtServerStream VrtServerStream;

typedef enum {
    VRT_STREAM_SOURCE = 1 << 0, /* the fd's data goes to the client */
    VRT_STREAM_SINK = 1 << 1, /* the client's data goes to the fd */
} VrtStreamDirection;

/* Why a stream ended (given to the end callback). */
typedef enum {
    VRT_STREAM_END_FINISHED, /* the client finished it */
    VRT_STREAM_END_ABORTED, /* the client aborted it */
    VRT_STREAM_END_ERROR, /* an I/O error or vrt_server_stream_abort */
    VRT_STREAM_END_CLOSED, /* the client went away, or the call failed */
} VrtStreamEnd;

typedef void (*VrtStreamEndFunc)(VrtServerStream *stream, VrtStreamEnd how, gpointer data);

/* A stream of call bound to fd (taken: closed when the stream ends, also
 * when this fails), moving data in the directions given. The fd is made
 * non-blocking. The call holds it until its reply is sent; the result is
 * the caller's reference (vrt_server_stream_unref). */
VrtServerStream *vrt_server_stream_new(VrtCall *call, int fd, VrtStreamDirection dir);
VrtServerStream *vrt_server_stream_ref(VrtServerStream *stream);
void vrt_server_stream_unref(VrtServerStream *stream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtServerStream, vrt_server_stream_unref)

/* Runs func(stream, how, data) once when the stream ends; destroy(data)
 * when the stream is freed. Set before the call returns. */
void vrt_server_stream_set_end_func(VrtServerStream *stream, VrtStreamEndFunc func, gpointer data,
                                    GDestroyNotify destroy);

/* Any thread: ends the stream, sending err to the client as a STREAM error
 * (origin: libvirt's VIR_FROM_*) when it was open. Nothing once it ended. */
void vrt_server_stream_abort(VrtServerStream *stream, const GError *err, int origin);

/* A stream of a file (a storage volume, opened at its offset): at most
 * length bytes (0: to the end of the file) go each way; a sparse source
 * sends the file's holes (SEEK_DATA/SEEK_HOLE) as VRT_NET_STREAM_HOLE
 * messages instead of zeros, each counted once as a queued message. Set
 * before the call returns. */
void vrt_server_stream_set_file(VrtServerStream *stream, guint64 length, bool sparse);

/* Whether the stream has ended. */
bool vrt_server_stream_is_closed(VrtServerStream *stream);
/* Whether its source has ended (the client was sent its end of file) or
 * the stream has: a console whose domain stopped. */
bool vrt_server_stream_source_ended(VrtServerStream *stream);

/* ---- between the server and its streams (src/rpc only) ---- */

/* The call's stream is registered with its client before the reply is
 * queued (false: the client is gone, the stream is ended) and started
 * after it; a failed call's stream is discarded. */
bool vrt_server_stream_register(VrtServerStream *stream);
void vrt_server_stream_start(VrtServerStream *stream);
void vrt_server_stream_discard(VrtServerStream *stream);
/* Whether hdr (a STREAM or STREAM_HOLE message) belongs to the stream. */
bool vrt_server_stream_matches(VrtServerStream *stream, const vrt_net_header *hdr);
/* I/O thread: a message of the client for the stream; takes frame. */
void vrt_server_stream_incoming(VrtServerStream *stream, const vrt_net_header *hdr, guint8 *frame, gsize len);
/* I/O thread: the client has room for messages again: read the fd again. */
void vrt_server_stream_resume(VrtServerStream *stream);
/* The client went away. */
void vrt_server_stream_client_closed(VrtServerStream *stream);

/* What the server gives its streams (server.c). */
void vrt_call_set_stream(VrtCall *call, VrtServerStream *stream);
const vrt_net_header *vrt_call_get_header(VrtCall *call);
GMainContext *vrt_server_client_get_context(VrtServerClient *client);
/* Queues a message (taken) for the client; false when it is gone. */
bool vrt_server_client_queue_stream_message(VrtServerClient *client, GBytes *frame);
/* Whether the client has room for more stream data now; when not, the
 * client resumes its streams once it has (vrt_server_stream_resume). */
bool vrt_server_client_stream_room(VrtServerClient *client);
/* Charges (delta > 0) or discharges stream data held for the client's sink
 * to it and the server, as its held calls are. */
void vrt_server_client_charge_input(VrtServerClient *client, gssize delta);
/* The heap cost of a frame held as received (its buffer and header). */
gsize vrt_server_frame_heap_cost(const void *frame);
/* Adds (false: the client is gone) or removes one of the client's streams. */
bool vrt_server_client_add_stream(VrtServerClient *client, VrtServerStream *stream);
void vrt_server_client_remove_stream(VrtServerClient *client, VrtServerStream *stream);
