/*
 * Error helpers: libvirt's message prefixes and GError construction.
 * See error.h for the rule every module follows.
 */
#include "util/error.h"

#include <string.h>

/* The quark's name is stringified as written. */
/* clang-format off */
G_DEFINE_QUARK(vrt-error-quark, vrt_error)
/* clang-format on */

const char *
vrt_error_code_prefix(int code)
{
    switch ((VrtErrorCode)code) {
    case VIR_ERR_OK: return "";
    case VIR_ERR_INTERNAL_ERROR: return "internal error";
    case VIR_ERR_NO_MEMORY: return "out of memory";
    case VIR_ERR_NO_SUPPORT: return "this function is not supported by the connection driver";
    case VIR_ERR_UNKNOWN_HOST: return "unknown host";
    case VIR_ERR_NO_CONNECT: return "no connection driver available";
    case VIR_ERR_INVALID_CONN: return "invalid connection pointer in";
    case VIR_ERR_INVALID_DOMAIN: return "invalid domain pointer in";
    case VIR_ERR_INVALID_ARG: return "invalid argument";
    case VIR_ERR_OPERATION_FAILED: return "operation failed";
    case VIR_ERR_OS_TYPE: return "unknown OS type";
    case VIR_ERR_NO_SOURCE: return "missing source information for";
    case VIR_ERR_NO_TARGET: return "missing target information for";
    case VIR_ERR_NO_NAME: return "missing name information in";
    case VIR_ERR_NO_OS: return "missing operating system information for";
    case VIR_ERR_NO_DEVICE: return "missing devices information for";
    case VIR_ERR_XML_ERROR: return "XML error";
    case VIR_ERR_DOM_EXIST: return "this domain exists already";
    case VIR_ERR_OPERATION_DENIED: return "operation forbidden";
    case VIR_ERR_OPEN_FAILED: return "failed to open configuration file";
    case VIR_ERR_READ_FAILED: return "failed to read configuration file";
    case VIR_ERR_PARSE_FAILED: return "failed to parse configuration file";
    case VIR_ERR_CONF_SYNTAX: return "configuration file syntax error";
    case VIR_ERR_WRITE_FAILED: return "failed to write configuration file";
    case VIR_ERR_XML_DETAIL: return "parser error";
    case VIR_ERR_INVALID_NETWORK: return "invalid network pointer in";
    case VIR_ERR_NETWORK_EXIST: return "this network exists already";
    case VIR_ERR_SYSTEM_ERROR: return "system call error";
    case VIR_ERR_RPC: return "RPC error";
    case VIR_ERR_GNUTLS_ERROR: return "GNUTLS call error";
    case VIR_ERR_NO_DOMAIN: return "Domain not found";
    case VIR_ERR_NO_NETWORK: return "Network not found";
    case VIR_ERR_INVALID_MAC: return "invalid MAC address";
    case VIR_ERR_AUTH_FAILED: return "authentication failed";
    case VIR_ERR_INVALID_STORAGE_POOL: return "invalid storage pool pointer in";
    case VIR_ERR_INVALID_STORAGE_VOL: return "invalid storage volume pointer in";
    case VIR_ERR_NO_STORAGE_POOL: return "Storage pool not found";
    case VIR_ERR_NO_STORAGE_VOL: return "Storage volume not found";
    case VIR_ERR_INVALID_NODE_DEVICE: return "invalid node device pointer";
    case VIR_ERR_NO_NODE_DEVICE: return "Node device not found";
    case VIR_ERR_NO_SECURITY_MODEL: return "Security model not found";
    case VIR_ERR_OPERATION_INVALID: return "Requested operation is not valid";
    case VIR_ERR_NO_INTERFACE: return "Interface not found";
    case VIR_ERR_MULTIPLE_INTERFACES: return "multiple matching interfaces found";
    case VIR_ERR_INVALID_NWFILTER: return "Invalid network filter";
    case VIR_ERR_NO_NWFILTER: return "Network filter not found";
    case VIR_ERR_NO_NWFILTER_BINDING: return "Network filter binding not found";
    case VIR_ERR_INVALID_SECRET: return "Invalid secret";
    case VIR_ERR_NO_SECRET: return "Secret not found";
    case VIR_ERR_CONFIG_UNSUPPORTED: return "unsupported configuration";
    case VIR_ERR_OPERATION_TIMEOUT: return "Timed out during operation";
    case VIR_ERR_NO_DOMAIN_SNAPSHOT: return "Domain snapshot not found";
    case VIR_ERR_ARGUMENT_UNSUPPORTED: return "argument unsupported";
    case VIR_ERR_OPERATION_ABORTED: return "operation aborted";
    case VIR_ERR_NO_DOMAIN_METADATA: return "metadata not found";
    case VIR_ERR_OVERFLOW: return "value too large";
    case VIR_ERR_STORAGE_VOL_EXIST: return "this storage volume exists already";
    case VIR_ERR_OPERATION_UNSUPPORTED: return "Operation not supported";
    case VIR_ERR_NO_SERVER: return "Server not found";
    case VIR_ERR_NO_CLIENT: return "Client not found";
    case VIR_ERR_AGENT_UNRESPONSIVE: return "Guest agent is not responding";
    case VIR_ERR_RESOURCE_BUSY: return "resource busy";
    case VIR_ERR_ACCESS_DENIED: return "access denied";
    case VIR_ERR_DBUS_SERVICE: return "error from service";
    case VIR_ERR_AUTH_CANCELLED: return "authentication cancelled";
    case VIR_ERR_CPU_INCOMPATIBLE: return "the CPU is incompatible with host CPU";
    case VIR_ERR_XML_INVALID_SCHEMA: return "XML document failed to validate against schema";
    case VIR_ERR_AUTH_UNAVAILABLE: return "authentication unavailable";
    case VIR_ERR_DEVICE_MISSING: return "device not found";
    case VIR_ERR_INVALID_NETWORK_PORT: return "invalid network port pointer in";
    case VIR_ERR_NETWORK_PORT_EXIST: return "this network port exists already";
    case VIR_ERR_NO_NETWORK_PORT: return "network port not found";
    case VIR_ERR_NO_HOSTNAME: return "no hostname found";
    }
    return "unknown error";
}

static void
vrt_error_setv(GError **error, int code, const char *suffix, const char *fmt, va_list ap)
{
    if (!error)
        return;
    g_autofree char *detail = g_strdup_vprintf(fmt, ap);
    const char *prefix = vrt_error_code_prefix(code);
    g_autofree char *msg = NULL;
    if (*prefix)
        msg = g_strdup_printf("%s: %s%s", prefix, detail, suffix ? suffix : "");
    else
        msg = g_strdup_printf("%s%s", detail, suffix ? suffix : "");
    g_set_error_literal(error, VRT_ERROR, code, msg);
}

void
vrt_error_set(GError **error, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vrt_error_setv(error, code, NULL, fmt, ap);
    va_end(ap);
}

void
vrt_error_set_errno(GError **error, int code, int errnum, const char *fmt, ...)
{
    g_autofree char *suffix = g_strdup_printf(": %s", g_strerror(errnum));
    va_list ap;
    va_start(ap, fmt);
    vrt_error_setv(error, code, suffix, fmt, ap);
    va_end(ap);
}

void
vrt_error_set_literal(GError **error, int code, const char *message)
{
    g_set_error_literal(error, VRT_ERROR, code, message ? message : "unknown error");
}

int
vrt_error_code(const GError *error)
{
    if (error && error->domain == VRT_ERROR)
        return error->code;
    return VIR_ERR_INTERNAL_ERROR;
}

void
vrt_error_set_flags(GError **error, unsigned int bad, const char *func)
{
    g_autofree char *msg = g_strdup_printf("unsupported flags (0x%x) in function %s", bad, func);

    vrt_error_set_literal(error, VIR_ERR_INVALID_ARG, msg);
}
