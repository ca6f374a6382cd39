/*
 * One frame of libvirt's wire protocol: a 4-byte big-endian length (which
 * counts itself), the 24-byte XDR header, then the XDR payload. These helpers
 * encode and decode frames; they hold no state and never touch sockets.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include "vrt_remote.h"

/* Largest frame accepted or sent, without the length word. */
#define VRT_MESSAGE_MAX 16777216u
#define VRT_MESSAGE_LEN_SIZE 4u
#define VRT_MESSAGE_HEADER_SIZE 24u

/* Reads the length word of a frame; false with *error when it is out of
 * bounds (shorter than a header, or larger than VRT_MESSAGE_MAX). */
bool vrt_message_decode_length(const guint8 buf[4], guint32 *total, GError **error);

/* Decodes the header of a complete frame buf[0..len) (length word included). */
bool vrt_message_decode_header(const guint8 *buf, gsize len, vrt_net_header *hdr, GError **error);

/* Decodes the payload of a complete frame into obj with filter (obj zeroed
 * first). Trailing bytes are an error. */
bool vrt_message_decode_payload(const guint8 *buf, gsize len, xdrproc_t filter, void *obj, GError **error);

/* Encodes a whole frame (length word, header, payload from filter/obj; filter
 * may be NULL for an empty payload). Returns the frame or NULL with *error
 * when it would exceed VRT_MESSAGE_MAX. */
GBytes *vrt_message_encode(const vrt_net_header *hdr, xdrproc_t filter, const void *obj, GError **error);

/* Encodes a reply to the call hdr carrying err as libvirt's error struct,
 * with origin (VIR_FROM_*) as its domain. Never fails. */
GBytes *vrt_message_encode_error(const vrt_net_header *call, const GError *err, int origin);

/* Encodes a frame whose payload is len raw bytes of data (a stream's data:
 * type VRT_NET_STREAM, status CONTINUE); NULL with *error past VRT_MESSAGE_MAX. */
GBytes *vrt_message_encode_raw(const vrt_net_header *hdr, const void *data, gsize len, GError **error);

/* As vrt_message_encode_error, as a message of type type (VRT_NET_STREAM
 * for an error that ends a stream). */
GBytes *vrt_message_encode_error_typed(const vrt_net_header *call, int type, const GError *err, int origin);

/* Fills *out from a received error payload; the message keeps the server's
 * text unchanged. Returns false when the payload is not an error struct. */
bool vrt_message_decode_error(const guint8 *buf, gsize len, GError **out);

/* Frees what XDR allocated inside obj (not obj itself). */
void vrt_message_free_payload(xdrproc_t filter, void *obj);
