/*
 * How a failure travels through vrt.
 *
 * The rule: every function that can fail returns false, NULL or a negative
 * number and fills a GError (last argument, `GError **error`) that says what
 * failed and why, in words a user can act on. The GError domain is always
 * VRT_ERROR and its code is libvirt's error number (virErrorNumber), so the
 * RPC layer turns it into libvirt's error struct without a mapping table.
 * The message carries libvirt's prefix for that code ("Domain not found: ...")
 * because libvirt clients print the message as they receive it; set errors
 * with vrt_error_set(), which adds the prefix.
 *
 * Rollback keeps the first error: undo steps report into a scratch GError
 * that is logged, never into the one the caller sees.
 *
 * At the RPC boundary (vrt_message_encode_error in src/rpc/message.c, called
 * by the server for a failed call) a GError becomes the wire error with
 * the code, the message, the origin (VIR_FROM_*) of the procedure's family and
 * level VIR_ERR_ERROR. A GError from another domain (GIO, GLib) becomes
 * VIR_ERR_INTERNAL_ERROR.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define VRT_ERROR (vrt_error_quark())
GQuark vrt_error_quark(void);

/* libvirt's virErrorNumber values (stable wire facts). */
typedef enum {
    VIR_ERR_OK = 0,
    VIR_ERR_INTERNAL_ERROR = 1,
    VIR_ERR_NO_MEMORY = 2,
    VIR_ERR_NO_SUPPORT = 3,
    VIR_ERR_UNKNOWN_HOST = 4,
    VIR_ERR_NO_CONNECT = 5,
    VIR_ERR_INVALID_CONN = 6,
    VIR_ERR_INVALID_DOMAIN = 7,
    VIR_ERR_INVALID_ARG = 8,
    VIR_ERR_OPERATION_FAILED = 9,
    VIR_ERR_OS_TYPE = 16,
    VIR_ERR_NO_SOURCE = 19,
    VIR_ERR_NO_TARGET = 20,
    VIR_ERR_NO_NAME = 21,
    VIR_ERR_NO_OS = 22,
    VIR_ERR_NO_DEVICE = 23,
    VIR_ERR_XML_ERROR = 27,
    VIR_ERR_DOM_EXIST = 28,
    VIR_ERR_OPERATION_DENIED = 29,
    VIR_ERR_OPEN_FAILED = 30,
    VIR_ERR_READ_FAILED = 31,
    VIR_ERR_PARSE_FAILED = 32,
    VIR_ERR_CONF_SYNTAX = 33,
    VIR_ERR_WRITE_FAILED = 34,
    VIR_ERR_XML_DETAIL = 35,
    VIR_ERR_INVALID_NETWORK = 36,
    VIR_ERR_NETWORK_EXIST = 37,
    VIR_ERR_SYSTEM_ERROR = 38,
    VIR_ERR_RPC = 39,
    VIR_ERR_GNUTLS_ERROR = 40,
    VIR_ERR_NO_DOMAIN = 42,
    VIR_ERR_NO_NETWORK = 43,
    VIR_ERR_INVALID_MAC = 44,
    VIR_ERR_AUTH_FAILED = 45,
    VIR_ERR_INVALID_STORAGE_POOL = 46,
    VIR_ERR_INVALID_STORAGE_VOL = 47,
    VIR_ERR_NO_STORAGE_POOL = 49,
    VIR_ERR_NO_STORAGE_VOL = 50,
    VIR_ERR_INVALID_NODE_DEVICE = 52,
    VIR_ERR_NO_NODE_DEVICE = 53,
    VIR_ERR_NO_SECURITY_MODEL = 54,
    VIR_ERR_OPERATION_INVALID = 55,
    VIR_ERR_NO_INTERFACE = 57,
    VIR_ERR_MULTIPLE_INTERFACES = 59,
    VIR_ERR_INVALID_NWFILTER = 61,
    VIR_ERR_NO_NWFILTER = 62,
    VIR_ERR_INVALID_SECRET = 65,
    VIR_ERR_NO_SECRET = 66,
    VIR_ERR_CONFIG_UNSUPPORTED = 67,
    VIR_ERR_OPERATION_TIMEOUT = 68,
    VIR_ERR_NO_DOMAIN_SNAPSHOT = 72,
    VIR_ERR_ARGUMENT_UNSUPPORTED = 74,
    VIR_ERR_OPERATION_ABORTED = 78,
    VIR_ERR_AUTH_CANCELLED = 79,
    VIR_ERR_NO_DOMAIN_METADATA = 80,
    VIR_ERR_OVERFLOW = 82,
    VIR_ERR_STORAGE_VOL_EXIST = 90,
    VIR_ERR_OPERATION_UNSUPPORTED = 84,
    VIR_ERR_AGENT_UNRESPONSIVE = 86,
    VIR_ERR_RESOURCE_BUSY = 87,
    VIR_ERR_ACCESS_DENIED = 88,
    VIR_ERR_DBUS_SERVICE = 89,
    VIR_ERR_CPU_INCOMPATIBLE = 91,
    VIR_ERR_XML_INVALID_SCHEMA = 92,
    VIR_ERR_AUTH_UNAVAILABLE = 94,
    VIR_ERR_NO_SERVER = 95,
    VIR_ERR_NO_CLIENT = 96,
    VIR_ERR_DEVICE_MISSING = 99,
    VIR_ERR_NO_NWFILTER_BINDING = 101,
    VIR_ERR_INVALID_NETWORK_PORT = 105,
    VIR_ERR_NETWORK_PORT_EXIST = 106,
    VIR_ERR_NO_NETWORK_PORT = 107,
    VIR_ERR_NO_HOSTNAME = 108,
} VrtErrorCode;

/* libvirt's virErrorDomain values used by vrt (where an error came from). */
typedef enum {
    VIR_FROM_NONE = 0,
    VIR_FROM_XML = 5,
    VIR_FROM_DOM = 6,
    VIR_FROM_RPC = 7,
    VIR_FROM_CONF = 9,
    VIR_FROM_QEMU = 10,
    VIR_FROM_REMOTE = 13,
    VIR_FROM_STORAGE = 18,
    VIR_FROM_NETWORK = 19,
    VIR_FROM_DOMAIN = 20,
    VIR_FROM_NODEDEV = 22,
    VIR_FROM_INTERFACE = 26,
    VIR_FROM_NWFILTER = 33,
    VIR_FROM_SECURITY = 24,
    VIR_FROM_STREAMS = 38,
    VIR_FROM_SECRET = 30,
    VIR_FROM_DOMAIN_SNAPSHOT = 35,
    VIR_FROM_CAPABILITIES = 44,
    VIR_FROM_URI = 45,
    VIR_FROM_AUTH = 46,
    VIR_FROM_DEVICE = 49,
    VIR_FROM_ACCESS = 55,
    VIR_FROM_POLKIT = 60,
    VIR_FROM_ADMIN = 62,
} VrtErrorOrigin;

/* The prefix libvirt clients show for a code, e.g. "Domain not found".
 * Never NULL. */
const char *vrt_error_code_prefix(int code);

/* Sets *error (when error is non-NULL) to VRT_ERROR/code with the
 * message "<prefix for code>: <formatted detail>". */
void vrt_error_set(GError **error, int code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Like vrt_error_set() with ": <strerror(errnum)>" appended;
 * code is VIR_ERR_SYSTEM_ERROR unless the caller needs another. */
void vrt_error_set_errno(GError **error, int code, int errnum, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Sets *error to libvirt's refusal of flags bits func does not know:
 * VIR_ERR_INVALID_ARG "unsupported flags (0xBAD) in function FUNC", with
 * no code prefix, as libvirt's flag check reports it. */
void vrt_error_set_flags(GError **error, unsigned int bad, const char *func);

/* Sets *error with an already complete message (no prefix is added):
 * used by the client side for errors received from a server. */
void vrt_error_set_literal(GError **error, int code, const char *message);

/* The libvirt code of an error: its code for VRT_ERROR, otherwise
 * VIR_ERR_INTERNAL_ERROR. */
int vrt_error_code(const GError *error);
