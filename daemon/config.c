/*
 * Parser of vrtd.conf in libvirt's configuration syntax.
 */
#include "daemon/config.h"
#include "util/error.h"
#include "util/fileutil.h"

#include <string.h>

#define MAX_INT_VALUE 1000000000LL

typedef enum {
    VAL_INT,
    VAL_STRING,
    VAL_LIST
} ValueKind;

typedef struct {
    ValueKind kind;
    gint64 num;
    char *str;
    GPtrArray *list;
} Value;

static void
value_clear(Value *v)
{
    g_free(v->str);
    if (v->list)
        g_ptr_array_unref(v->list);
}

typedef struct {
    const char *path;
    const char *p;
    int line;
} Lexer;

static void
skip_blank(Lexer *lx, bool newlines)
{
    for (;;) {
        if (*lx->p == '#') {
            while (*lx->p && *lx->p != '\n')
                lx->p++;
        } else if (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r') {
            lx->p++;
        } else if (newlines && *lx->p == '\n') {
            lx->line++;
            lx->p++;
        } else {
            return;
        }
    }
}

static bool
parse_string(Lexer *lx, char **out, const char *key, GError **error)
{
    char quote = *lx->p++;
    GString *s = g_string_new(NULL);
    while (*lx->p && *lx->p != quote && *lx->p != '\n')
        g_string_append_c(s, *lx->p++);
    if (*lx->p != quote) {
        g_string_free(s, TRUE);
        vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: unterminated string", lx->path, lx->line, key);
        return false;
    }
    lx->p++;
    *out = g_string_free(s, FALSE);
    return true;
}

static bool
parse_value(Lexer *lx, const char *key, Value *v, GError **error)
{
    memset(v, 0, sizeof(*v));
    if (*lx->p == '"' || *lx->p == '\'') {
        v->kind = VAL_STRING;
        return parse_string(lx, &v->str, key, error);
    }
    if (*lx->p == '[') {
        lx->p++;
        v->kind = VAL_LIST;
        v->list = g_ptr_array_new_with_free_func(g_free);
        for (;;) {
            skip_blank(lx, true);
            if (*lx->p == ']') {
                lx->p++;
                return true;
            }
            char *item = NULL;
            if (*lx->p != '"' && *lx->p != '\'') {
                vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected a string in the list", lx->path,
                              lx->line, key);
                return false;
            }
            if (!parse_string(lx, &item, key, error))
                return false;
            g_ptr_array_add(v->list, item);
            skip_blank(lx, true);
            if (*lx->p == ',')
                lx->p++;
            else if (*lx->p != ']') {
                vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected ',' or ']' in the list", lx->path,
                              lx->line, key);
                return false;
            }
        }
    }
    if (*lx->p == '-' || g_ascii_isdigit(*lx->p)) {
        char *end = NULL;
        gint64 n = g_ascii_strtoll(lx->p, &end, 10);
        if (end == lx->p || (*end && !strchr(" \t\r\n#", *end))) {
            vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected an integer", lx->path, lx->line, key);
            return false;
        }
        lx->p = end;
        v->kind = VAL_INT;
        v->num = n;
        return true;
    }
    vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected a value (integer, \"string\" or [list])", lx->path,
                  lx->line, key);
    return false;
}

static bool
want_string(const Lexer *lx, const char *key, Value *v, char **dst, GError **error)
{
    if (v->kind != VAL_STRING) {
        vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected a string", lx->path, lx->line, key);
        return false;
    }
    g_free(*dst);
    *dst = g_steal_pointer(&v->str);
    return true;
}

static bool
want_uint(const Lexer *lx, const char *key, Value *v, gint64 min, guint *dst, GError **error)
{
    if (v->kind != VAL_INT || v->num < min || v->num > MAX_INT_VALUE) {
        vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected an integer of at least %" G_GINT64_FORMAT,
                      lx->path, lx->line, key, min);
        return false;
    }
    *dst = (guint)v->num;
    return true;
}

/* An integer in [min, max]; range describes it in the error. */
static bool
want_uint_range(const Lexer *lx, const char *key, Value *v, gint64 min, gint64 max, const char *range, guint *dst,
                GError **error)
{
    if (v->kind != VAL_INT || v->num < min || v->num > max) {
        vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected %s", lx->path, lx->line, key, range);
        return false;
    }
    *dst = (guint)v->num;
    return true;
}

static bool
want_bool(const Lexer *lx, const char *key, Value *v, bool *dst, GError **error)
{
    if (v->kind != VAL_INT || (v->num != 0 && v->num != 1)) {
        vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected 0 or 1", lx->path, lx->line, key);
        return false;
    }
    *dst = v->num == 1;
    return true;
}

static bool
want_list(const Lexer *lx, const char *key, Value *v, char ***dst, GError **error)
{
    if (v->kind != VAL_LIST) {
        vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected a list of strings", lx->path, lx->line, key);
        return false;
    }
    g_strfreev(*dst);
    g_ptr_array_add(v->list, NULL);
    *dst = (char **)g_ptr_array_free(g_steal_pointer(&v->list), FALSE);
    return true;
}

/* "none" or "sasl", the auth types of the TCP and TLS sockets (polkit needs a UNIX peer). */
static bool
want_auth(const Lexer *lx, const char *key, Value *v, char **dst, GError **error)
{
    if (v->kind != VAL_STRING || (!g_str_equal(v->str, "none") && !g_str_equal(v->str, "sasl"))) {
        vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected \"none\" or \"sasl\"", lx->path, lx->line, key);
        return false;
    }
    return want_string(lx, key, v, dst, error);
}

/* A UNIX socket's auth: "none", "polkit", and "sasl" where sasl_ok (the
 * read-write socket). */
static bool
want_unix_auth(const Lexer *lx, const char *key, Value *v, bool sasl_ok, char **dst, GError **error)
{
    if (v->kind != VAL_STRING ||
        (!g_str_equal(v->str, "none") && !g_str_equal(v->str, "polkit") && !(sasl_ok && g_str_equal(v->str, "sasl")))) {
        vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected \"none\"%s or \"polkit\"", lx->path, lx->line,
                      key, sasl_ok ? ", \"sasl\"" : "");
        return false;
    }
    return want_string(lx, key, v, dst, error);
}

/* The remote access keys (TLS, TCP, SASL); false with *handled false for
 * another key. */
static bool
apply_remote(VrtConfig *cfg, const Lexer *lx, const char *key, Value *v, bool *handled, GError **error)
{
    *handled = true;
    if (g_str_equal(key, "listen_addr"))
        return want_string(lx, key, v, &cfg->listen_addr, error);
    if (g_str_equal(key, "tls_port"))
        return want_string(lx, key, v, &cfg->tls_port, error);
    if (g_str_equal(key, "tcp_port"))
        return want_string(lx, key, v, &cfg->tcp_port, error);
    if (g_str_equal(key, "key_file"))
        return want_string(lx, key, v, &cfg->key_file, error);
    if (g_str_equal(key, "cert_file"))
        return want_string(lx, key, v, &cfg->cert_file, error);
    if (g_str_equal(key, "ca_file"))
        return want_string(lx, key, v, &cfg->ca_file, error);
    if (g_str_equal(key, "crl_file"))
        return want_string(lx, key, v, &cfg->crl_file, error);
    if (g_str_equal(key, "tls_priority"))
        return want_string(lx, key, v, &cfg->tls_priority, error);
    if (g_str_equal(key, "listen_tls"))
        return want_bool(lx, key, v, &cfg->listen_tls, error);
    if (g_str_equal(key, "listen_tcp"))
        return want_bool(lx, key, v, &cfg->listen_tcp, error);
    if (g_str_equal(key, "tls_no_verify_certificate"))
        return want_bool(lx, key, v, &cfg->tls_no_verify_certificate, error);
    if (g_str_equal(key, "tls_allowed_dn_list"))
        return want_list(lx, key, v, &cfg->tls_allowed_dn_list, error);
    if (g_str_equal(key, "access_drivers"))
        return want_list(lx, key, v, &cfg->access_drivers, error);
    if (g_str_equal(key, "sasl_allowed_username_list"))
        return want_list(lx, key, v, &cfg->sasl_allowed_username_list, error);
    if (g_str_equal(key, "auth_tls"))
        return want_auth(lx, key, v, &cfg->auth_tls, error);
    if (g_str_equal(key, "auth_tcp"))
        return want_auth(lx, key, v, &cfg->auth_tcp, error);
    if (g_str_equal(key, "auth_unix_rw"))
        return want_unix_auth(lx, key, v, true, &cfg->auth_unix_rw, error);
    if (g_str_equal(key, "auth_unix_ro"))
        return want_unix_auth(lx, key, v, false, &cfg->auth_unix_ro, error);
    if (g_str_equal(key, "tcp_min_ssf"))
        return want_uint(lx, key, v, 56, &cfg->tcp_min_ssf, error);
    *handled = false;
    return true;
}

static bool
want_perms(const Lexer *lx, const char *key, Value *v, guint *dst, GError **error)
{
    char *end = NULL;
    if (v->kind != VAL_STRING || !v->str[0]) {
        vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected an octal mode string such as \"0770\"", lx->path,
                      lx->line, key);
        return false;
    }
    guint64 mode = g_ascii_strtoull(v->str, &end, 8);
    if (*end || mode > 0777) {
        vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: '%s' is not an octal mode between 0 and 0777", lx->path,
                      lx->line, key, v->str);
        return false;
    }
    *dst = (guint)mode;
    return true;
}

static bool
apply(VrtConfig *cfg, const Lexer *lx, const char *key, Value *v, GError **error)
{
    guint u;
    if (g_str_equal(key, "unix_sock_dir"))
        return want_string(lx, key, v, &cfg->unix_sock_dir, error);
    if (g_str_equal(key, "unix_sock_group"))
        return want_string(lx, key, v, &cfg->unix_sock_group, error);
    if (g_str_equal(key, "unix_sock_ro_perms"))
        return want_perms(lx, key, v, &cfg->unix_sock_ro_perms, error);
    if (g_str_equal(key, "unix_sock_rw_perms")) {
        cfg->unix_sock_rw_perms_set = true;
        return want_perms(lx, key, v, &cfg->unix_sock_rw_perms, error);
    }
    if (g_str_equal(key, "max_clients"))
        return want_uint(lx, key, v, 1, &cfg->max_clients, error);
    if (g_str_equal(key, "max_anonymous_clients"))
        return want_uint(lx, key, v, 0, &cfg->max_anonymous_clients, error);
    if (g_str_equal(key, "max_workers"))
        return want_uint(lx, key, v, 1, &cfg->max_workers, error);
    if (g_str_equal(key, "max_client_requests"))
        return want_uint(lx, key, v, 1, &cfg->max_client_requests, error);
    if (g_str_equal(key, "keepalive_interval")) {
        if (v->kind != VAL_INT || v->num < -1 || v->num > MAX_INT_VALUE) {
            vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected an integer (-1 disables)", lx->path,
                          lx->line, key);
            return false;
        }
        cfg->keepalive_interval = (int)v->num;
        return true;
    }
    if (g_str_equal(key, "keepalive_count"))
        return want_uint(lx, key, v, 0, &cfg->keepalive_count, error);
    if (g_str_equal(key, "log_level")) {
        if (!want_uint_range(lx, key, v, 1, 4, "1 (debug) to 4 (error)", &u, error))
            return false;
        cfg->log_level = (int)u;
        return true;
    }
    if (g_str_equal(key, "log_outputs"))
        return want_string(lx, key, v, &cfg->log_outputs, error);
    if (g_str_equal(key, "host_root"))
        return want_string(lx, key, v, &cfg->host_root, error);
    if (g_str_equal(key, "cgroup_root"))
        return want_string(lx, key, v, &cfg->cgroup_root, error);
    if (g_str_equal(key, "host_uuid"))
        return want_string(lx, key, v, &cfg->host_uuid, error);
    if (g_str_equal(key, "migration_host"))
        return want_string(lx, key, v, &cfg->migration_host, error);
    if (g_str_equal(key, "migration_address"))
        return want_string(lx, key, v, &cfg->migration_address, error);
    if (g_str_equal(key, "migration_port_min"))
        return want_uint_range(lx, key, v, 1, 65535, "1 to 65535", &cfg->migration_port_min, error);
    if (g_str_equal(key, "migration_port_max"))
        return want_uint_range(lx, key, v, 1, 65535, "1 to 65535", &cfg->migration_port_max, error);
    if (g_str_equal(key, "migration_prepare_timeout"))
        return want_uint_range(lx, key, v, 1, 86400, "1 to 86400 s", &cfg->migration_prepare_timeout, error);
    if (g_str_equal(key, "migrate_tls_x509_cert_dir"))
        return want_string(lx, key, v, &cfg->migrate_tls_x509_cert_dir, error);
    if (g_str_equal(key, "config_sync_ms"))
        return want_uint_range(lx, key, v, 0, 60000, "0 (flush in the call) to 60000 ms", &cfg->config_sync_ms, error);
    bool handled;
    bool ok = apply_remote(cfg, lx, key, v, &handled, error);
    if (handled)
        return ok;
    /* libvirtd.conf keys vrt does not use are accepted so a libvirt config
     * can be reused, but said so. */
    g_message("%s:%d: ignoring unknown setting '%s'", lx->path, lx->line, key);
    return true;
}

void
vrt_config_init(VrtConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->unix_sock_ro_perms = 0777;
    cfg->unix_sock_rw_perms = 0700;
    cfg->max_clients = 5000;
    cfg->max_anonymous_clients = 20;
    cfg->max_workers = 20;
    cfg->max_client_requests = 5;
    cfg->keepalive_interval = 5;
    cfg->keepalive_count = 5;
    cfg->log_level = 3;
    cfg->config_sync_ms = 0;
    cfg->listen_tls = 1;
    cfg->tls_port = g_strdup("16514");
    cfg->tcp_port = g_strdup("16509");
    cfg->auth_tls = g_strdup("none");
    cfg->auth_tcp = g_strdup("sasl");
    cfg->auth_unix_rw = g_strdup("none");
    cfg->auth_unix_ro = g_strdup("none");
    cfg->tcp_min_ssf = 56;
}

void
vrt_config_clear(VrtConfig *cfg)
{
    g_free(cfg->unix_sock_dir);
    g_free(cfg->unix_sock_group);
    g_free(cfg->log_outputs);
    g_free(cfg->host_root);
    g_free(cfg->listen_addr);
    g_free(cfg->tls_port);
    g_free(cfg->tcp_port);
    g_free(cfg->key_file);
    g_free(cfg->cert_file);
    g_free(cfg->ca_file);
    g_free(cfg->crl_file);
    g_free(cfg->tls_priority);
    g_free(cfg->auth_tls);
    g_free(cfg->auth_tcp);
    g_free(cfg->auth_unix_rw);
    g_free(cfg->auth_unix_ro);
    g_strfreev(cfg->tls_allowed_dn_list);
    g_strfreev(cfg->sasl_allowed_username_list);
    g_strfreev(cfg->access_drivers);
    g_free(cfg->cgroup_root);
    g_free(cfg->host_uuid);
    g_free(cfg->migration_host);
    g_free(cfg->migration_address);
    g_free(cfg->migrate_tls_x509_cert_dir);
    memset(cfg, 0, sizeof(*cfg));
}

bool
vrt_config_parse(VrtConfig *cfg, const char *path, const char *text, GError **error)
{
    Lexer lx = { path, text, 1 };
    for (;;) {
        skip_blank(&lx, true);
        if (!*lx.p) {
            /* libvirtd opens the read-write socket to everyone when polkit
             * decides who may use it, unless the file says otherwise. */
            if (g_str_equal(cfg->auth_unix_rw, "polkit") && !cfg->unix_sock_rw_perms_set)
                cfg->unix_sock_rw_perms = 0777;
            return true;
        }
        const char *start = lx.p;
        while (g_ascii_isalnum(*lx.p) || *lx.p == '_')
            lx.p++;
        if (lx.p == start) {
            vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: expected a setting name", path, lx.line);
            return false;
        }
        g_autofree char *key = g_strndup(start, (gsize)(lx.p - start));
        skip_blank(&lx, false);
        if (*lx.p != '=') {
            vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: expected '=' after the name", path, lx.line, key);
            return false;
        }
        lx.p++;
        skip_blank(&lx, false);
        Value v;
        if (!parse_value(&lx, key, &v, error)) {
            value_clear(&v);
            return false;
        }
        bool ok = apply(cfg, &lx, key, &v, error);
        value_clear(&v);
        if (!ok)
            return false;
        skip_blank(&lx, false);
        if (*lx.p && *lx.p != '\n') {
            vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%d: %s: unexpected text after the value", path, lx.line, key);
            return false;
        }
    }
}

bool
vrt_config_load(VrtConfig *cfg, const char *path, GError **error)
{
    g_autofree char *text = NULL;
    if (!vrt_file_read(path, &text, NULL, error))
        return false;
    return vrt_config_parse(cfg, path, text, error);
}
