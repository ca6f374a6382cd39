/*
 * URI parsing for libvrt: qemu:///system, qemu+unix:///system?socket=PATH and
 * qemu+ssh://[user@]host[:port]/system (parsed by libvrt-ssh.c).
 * The transport and the socket parameter are local matters; the daemon is
 * sent the plain driver URI, as libvirt's remote driver does.
 */
#include "libvrt-uri.h"

#include <string.h>
#include "util/error.h"

void
vrt_uri_free(VrtUri *uri)
{
    if (!uri)
        return;
    g_free(uri->socket);
    vrt_ssh_target_free(uri->ssh);
    g_free(uri->remote_uri);
    g_free(uri);
}

static bool
parse_query(const char *uri, const char *query, char **socket, GError **error)
{
    g_auto(GStrv) params = g_strsplit(query, "&", -1);
    for (char **p = params; *p; p++) {
        if (!**p)
            continue;
        const char *eq = strchr(*p, '=');
        g_autofree char *key = eq ? g_strndup(*p, eq - *p) : g_strdup(*p);
        if (g_strcmp0(key, "socket") != 0) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported parameter '%s' in URI '%s'", key, uri);
            return false;
        }
        g_autofree char *value = eq ? g_uri_unescape_string(eq + 1, NULL) : NULL;
        if (!value || value[0] != '/') {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "socket in URI '%s' must be an absolute path", uri);
            return false;
        }
        g_free(*socket);
        *socket = g_steal_pointer(&value);
    }
    return true;
}

VrtUri *
vrt_uri_parse(const char *uri, bool readonly, GError **error)
{
    if (!uri || !*uri)
        uri = VRT_URI_DEFAULT;
    const char *sep = strstr(uri, "://");
    if (!sep) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "cannot parse URI '%s': expected qemu:///system", uri);
        return NULL;
    }
    g_autofree char *scheme = g_strndup(uri, sep - uri);
    const char *plus = strchr(scheme, '+');
    g_autofree char *driver = plus ? g_strndup(scheme, plus - scheme) : g_strdup(scheme);
    const char *transport = plus ? plus + 1 : NULL;
    if (g_strcmp0(driver, "qemu") != 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported URI '%s': only the 'qemu' driver is served", uri);
        return NULL;
    }
    if (g_strcmp0(transport, "ssh") == 0) {
        g_autoptr(VrtUri) out = g_new0(VrtUri, 1);
        out->ssh = vrt_ssh_target_parse(uri, readonly, error);
        if (!out->ssh)
            return NULL;
        out->remote_uri = g_strdup("qemu:///system");
        return g_steal_pointer(&out);
    }
    if (transport && g_strcmp0(transport, "unix") != 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG,
                      "unsupported transport '%s' in URI '%s': only 'unix' and 'ssh' are supported", transport, uri);
        return NULL;
    }
    const char *rest = sep + 3;
    const char *slash = strchr(rest, '/');
    if (!slash || slash != rest) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "URI '%s' names a host; only local UNIX sockets are supported", uri);
        return NULL;
    }
    const char *q = strchr(slash, '?');
    g_autofree char *path = q ? g_strndup(slash, q - slash) : g_strdup(slash);
    if (g_strcmp0(path, "/system") != 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported path '%s' in URI '%s': only /system is served", path,
                      uri);
        return NULL;
    }
    g_autoptr(VrtUri) out = g_new0(VrtUri, 1);
    if (q && !parse_query(uri, q + 1, &out->socket, error))
        return NULL;
    if (!out->socket)
        out->socket = g_strdup(readonly ? VRT_URI_DEFAULT_SOCK_RO : VRT_URI_DEFAULT_SOCK);
    out->remote_uri = g_strdup("qemu:///system");
    return g_steal_pointer(&out);
}
