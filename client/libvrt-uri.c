/*
 * URI parsing for libvrt: qemu:///system, qemu+unix:///system?socket=PATH,
 * qemu+tls://HOST[:PORT]/system with libvirt's pkipath, no_verify and
 * no_sanity, qemu+tcp://HOST[:PORT]/system (SASL), and
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
    g_free(uri->host);
    g_free(uri->pkipath);
    g_free(uri);
}

static bool
parse_query(const char *uri, const char *query, VrtUri *out, GError **error)
{
    g_auto(GStrv) params = g_strsplit(query, "&", -1);
    for (char **p = params; *p; p++) {
        if (!**p)
            continue;
        const char *eq = strchr(*p, '=');
        g_autofree char *key = eq ? g_strndup(*p, eq - *p) : g_strdup(*p);
        g_autofree char *value = eq ? g_uri_unescape_string(eq + 1, NULL) : NULL;
        if (out->tls && g_str_equal(key, "pkipath") && value && value[0] == '/') {
            g_free(out->pkipath);
            out->pkipath = g_steal_pointer(&value);
            continue;
        }
        if (out->tls && g_str_equal(key, "no_verify") && value) {
            out->no_verify = g_strcmp0(value, "0") != 0;
            continue;
        }
        if (out->tls && g_str_equal(key, "no_sanity") && value) {
            out->no_sanity = g_strcmp0(value, "0") != 0;
            continue;
        }
        if (g_strcmp0(key, "socket") != 0 || out->tls || out->tcp) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported parameter '%s' in URI '%s'", key, uri);
            return false;
        }
        if (!value || value[0] != '/') {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "socket in URI '%s' must be an absolute path", uri);
            return false;
        }
        g_free(out->socket);
        out->socket = g_steal_pointer(&value);
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
    if (transport && g_strcmp0(transport, "unix") != 0 && g_strcmp0(transport, "tls") != 0 &&
        g_strcmp0(transport, "tcp") != 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG,
                      "unsupported transport '%s' in URI '%s': only 'unix', 'tls', 'tcp' and 'ssh' are supported",
                      transport, uri);
        return NULL;
    }
    g_autoptr(VrtUri) out = g_new0(VrtUri, 1);
    out->tls = g_strcmp0(transport, "tls") == 0;
    out->tcp = g_strcmp0(transport, "tcp") == 0;
    const char *rest = sep + 3;
    const char *slash = strchr(rest, '/');
    if (out->tls || out->tcp) {
        if (!slash || slash == rest) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "URI '%s': expected qemu+%s://HOST/system", uri, transport);
            return NULL;
        }
        g_autofree char *hostport = g_strndup(rest, slash - rest);
        /* [v6addr]:port, host:port or host */
        const char *port_text = NULL;
        if (hostport[0] == '[') {
            char *close = strchr(hostport, ']');
            if (!close || (close[1] && close[1] != ':')) {
                vrt_error_set(error, VIR_ERR_INVALID_ARG, "bad host in URI '%s'", uri);
                return NULL;
            }
            port_text = close[1] ? close + 2 : NULL;
            out->host = g_strndup(hostport + 1, (gsize)(close - hostport - 1));
        } else {
            char *colon = strrchr(hostport, ':');
            port_text = colon ? colon + 1 : NULL;
            out->host = colon ? g_strndup(hostport, (gsize)(colon - hostport)) : g_strdup(hostport);
        }
        guint64 port = out->tcp ? VRT_URI_TCP_PORT : VRT_URI_TLS_PORT;
        if (port_text && !g_ascii_string_to_unsigned(port_text, 10, 1, 65535, &port, NULL)) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "bad port '%s' in URI '%s'", port_text, uri);
            return NULL;
        }
        out->port = (guint)port;
    } else if (!slash || slash != rest) {
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
    if (q && !parse_query(uri, q + 1, out, error))
        return NULL;
    if (!out->socket && !out->tls && !out->tcp)
        out->socket = g_strdup(readonly ? VRT_URI_DEFAULT_SOCK_RO : VRT_URI_DEFAULT_SOCK);
    out->remote_uri = g_strdup("qemu:///system");
    return g_steal_pointer(&out);
}
