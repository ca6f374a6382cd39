/*
 * GnuTLS sessions and libvirt's x509 checks for vrtd's TLS listener and
 * libvrt's TLS connections (see tls.h). The error texts are libvirt's
 * (virnettlscontext.c), so an administrator finds the same words in vrtd's
 * log as libvirtd's. A session is a VrtTransport: the server's read and
 * write paths use it as a socket.
 */
#include "rpc/tls.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

/* A handshake or the confirmation that takes longer than this is given up,
 * on either side: a peer that connects and sends nothing does not hold a
 * connection of the server for ever. */
#define TLS_CLIENT_TIMEOUT_MS 30000
#define TLS_SERVER_HANDSHAKE_S 30
#define TLS_MAX_CA_CERTS 16

struct _VrtTlsContext {
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t priority;
    char *priority_str;
    bool server;
    bool no_verify;
    char **allowed_dn;
    /* Credentials replaced by vrt_tls_context_reload: sessions made before
     * may still use them, so they go with the context. */
    GPtrArray *old_creds;
};

typedef struct {
    VrtTransport base;
    gnutls_session_t session;
    bool server;
} TlsSession;

static gsize gnutls_ready;

static void
tls_global_init(void)
{
    if (g_once_init_enter(&gnutls_ready)) {
        gnutls_global_init();
        g_once_init_leave(&gnutls_ready, 1);
    }
}

/* ---- certificate checks (libvirt's rules and words) ---- */

static gnutls_x509_crt_t
load_cert(const char *file, const char *what, GError **error)
{
    gnutls_datum_t data = { NULL, 0 };
    gnutls_x509_crt_t cert = NULL;
    g_autofree char *buf = NULL;
    gsize len = 0;

    if (!g_file_get_contents(file, &buf, &len, NULL)) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Cannot read %s '%s'", what, file);
        return NULL;
    }
    data.data = (unsigned char *)buf;
    data.size = (unsigned int)len;
    if (gnutls_x509_crt_init(&cert) < 0 || gnutls_x509_crt_import(cert, &data, GNUTLS_X509_FMT_PEM) < 0) {
        if (cert)
            gnutls_x509_crt_deinit(cert);
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Unable to import %s %s", what, file);
        return NULL;
    }
    return cert;
}

/* Validity dates; role names the certificate in the message. */
static bool
check_times(gnutls_x509_crt_t cert, const char *file, const char *role, GError **error)
{
    time_t now = time(NULL);

    if (gnutls_x509_crt_get_expiration_time(cert) < now) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "The %s certificate %s has expired", role, file);
        return false;
    }
    if (gnutls_x509_crt_get_activation_time(cert) > now) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "The %s certificate %s is not yet active", role, file);
        return false;
    }
    return true;
}

/* A peer's or our own certificate must not be a CA. */
static bool
check_not_ca(gnutls_x509_crt_t cert, const char *file, bool server, GError **error)
{
    unsigned int critical = 0;
    int ca = gnutls_x509_crt_get_basic_constraints(cert, &critical, NULL, NULL);

    if (ca > 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR,
                      "The certificate %s basic constraints show a CA, but we need one for a %s", file,
                      server ? "server" : "client");
        return false;
    }
    return true;
}

/* A certificate with key purposes must name TLS WWW server or client (or
 * another purpose than those two, as libvirt reads it). libvirt refuses a
 * missing purpose only when the extension is critical and warns otherwise;
 * vrt refuses it in both cases: such a certificate was made for the other
 * side. */
static bool
check_purpose(gnutls_x509_crt_t cert, const char *file, bool server, GError **error)
{
    bool allow_server = false, allow_client = false;

    for (unsigned int i = 0;; i++) {
        char buf[256];
        size_t size = sizeof(buf);
        unsigned int critical = 0;
        int rc = gnutls_x509_crt_get_key_purpose_oid(cert, i, buf, &size, &critical);
        if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            if (i == 0)
                allow_server = allow_client = true;
            break;
        }
        if (rc < 0) {
            vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Unable to query certificate %s key purpose %s", file,
                          gnutls_strerror(rc));
            return false;
        }
        if (g_str_equal(buf, GNUTLS_KP_TLS_WWW_SERVER))
            allow_server = true;
        else if (g_str_equal(buf, GNUTLS_KP_TLS_WWW_CLIENT))
            allow_client = true;
        else if (!g_str_equal(buf, GNUTLS_KP_ANY))
            allow_server = allow_client = true;
    }
    if (server ? !allow_server : !allow_client) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Certificate %s purpose does not allow use for with a TLS %s", file,
                      server ? "server" : "client");
        return false;
    }
    return true;
}

static const char *
verify_reason(unsigned int status)
{
    if (status & GNUTLS_CERT_REVOKED)
        return "The certificate has been revoked.";
    if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
        return "The certificate hasn't got a known issuer.";
    if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
        return "The certificate uses an insecure algorithm";
    if (status & GNUTLS_CERT_EXPIRED)
        return "The certificate has expired.";
    if (status & GNUTLS_CERT_NOT_ACTIVATED)
        return "The certificate is not yet active.";
    if (status & GNUTLS_CERT_INVALID)
        return "The certificate is not trusted.";
    return "Invalid certificate";
}

/* Our own certificate at start-up: dates, role, purpose, signed by the CA. */
static bool
check_own_cert(const VrtTlsConfig *cfg, bool server, GError **error)
{
    const char *role = server ? "server" : "client";
    g_autofree char *what = g_strdup_printf("%s certificate", role);
    gnutls_x509_crt_t cert = load_cert(cfg->cert_file, what, error);
    gnutls_x509_crt_t cas[TLS_MAX_CA_CERTS];
    unsigned int ncas = TLS_MAX_CA_CERTS, status = 0;
    g_autofree char *cabuf = NULL;
    gsize calen = 0;
    bool ok = false;

    if (!cert)
        return false;
    if (!check_times(cert, cfg->cert_file, role, error) || !check_not_ca(cert, cfg->cert_file, server, error) ||
        !check_purpose(cert, cfg->cert_file, server, error))
        goto out;
    if (!g_file_get_contents(cfg->ca_file, &cabuf, &calen, NULL)) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Cannot read CA certificate '%s'", cfg->ca_file);
        goto out;
    }
    gnutls_datum_t data = { (unsigned char *)cabuf, (unsigned int)calen };
    if (gnutls_x509_crt_list_import(cas, &ncas, &data, GNUTLS_X509_FMT_PEM, 0) < 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Unable to import CA certificate list %s", cfg->ca_file);
        goto out;
    }
    for (unsigned int i = 0; i < ncas; i++) {
        if (!check_times(cas[i], cfg->ca_file, "CA", error)) {
            for (unsigned int j = 0; j < ncas; j++)
                gnutls_x509_crt_deinit(cas[j]);
            goto out;
        }
    }
    int rc = gnutls_x509_crt_list_verify(&cert, 1, cas, ncas, NULL, 0, 0, &status);
    for (unsigned int j = 0; j < ncas; j++)
        gnutls_x509_crt_deinit(cas[j]);
    if (rc < 0 || status != 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Our own certificate %s failed validation against %s: %s",
                      cfg->cert_file, cfg->ca_file, rc < 0 ? gnutls_strerror(rc) : verify_reason(status));
        goto out;
    }
    ok = true;
out:
    gnutls_x509_crt_deinit(cert);
    return ok;
}

/* The peer's certificate after a handshake; NULL hostname: no name check. */
static bool
check_peer(VrtTlsContext *ctx, gnutls_session_t session, const char *hostname, GError **error)
{
    unsigned int status = 0, ncerts = 0;
    int rc = gnutls_certificate_verify_peers2(session, &status);
    const char *peer = ctx->server ? "client" : "server";

    if (rc < 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Unable to verify TLS peer: %s", gnutls_strerror(rc));
        return false;
    }
    if (status != 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Certificate failed validation: %s", verify_reason(status));
        return false;
    }
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &ncerts);
    if (!certs || ncerts == 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "%s", "The certificate has no peers");
        return false;
    }
    gnutls_x509_crt_t cert;
    if (gnutls_x509_crt_init(&cert) < 0)
        return vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "%s", "Unable to initialize certificate"), false;
    if (gnutls_x509_crt_import(cert, &certs[0], GNUTLS_X509_FMT_DER) < 0) {
        gnutls_x509_crt_deinit(cert);
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "%s", "Unable to load certificate");
        return false;
    }
    bool ok = check_times(cert, "[session]", peer, error) && check_not_ca(cert, "[session]", !ctx->server, error) &&
              check_purpose(cert, "[session]", !ctx->server, error);
    if (ok) {
        char dn[1024];
        size_t dnlen = sizeof(dn);
        rc = gnutls_x509_crt_get_dn(cert, dn, &dnlen);
        if (rc != 0) {
            vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Failed to get certificate %s distinguished name: %s",
                          "[session]", gnutls_strerror(rc));
            ok = false;
        } else if (hostname && !gnutls_x509_crt_check_hostname(cert, hostname)) {
            vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Certificate %s owner does not match the hostname %s",
                          "[session]", hostname);
            ok = false;
        } else if (ctx->allowed_dn) {
            bool found = false;
            for (char **p = ctx->allowed_dn; *p && !found; p++)
                found = g_pattern_match_simple(*p, dn);
            if (!found) {
                vrt_error_set(error, VIR_ERR_SYSTEM_ERROR,
                              "Client's Distinguished Name is not on the list of allowed clients "
                              "(tls_allowed_dn_list).  Use 'virt-pki-query-dn clientcert.pem' to view the "
                              "Distinguished Name field in the client certificate, or run this daemon in debug "
                              "mode (DN: '%s')",
                              dn);
                ok = false;
            }
        }
        if (ok)
            g_debug("TLS peer DN is %s", dn);
    }
    gnutls_x509_crt_deinit(cert);
    return ok;
}

/* The checks and libvirt's verdict on them: tls_no_verify_certificate lets a
 * failed check pass, logged. */
static bool
check_peer_policy(VrtTlsContext *ctx, gnutls_session_t session, const char *hostname, GError **error)
{
    g_autoptr(GError) why = NULL;

    if (check_peer(ctx, session, hostname, &why))
        return true;
    g_warning("Certificate check failed %s", why->message);
    if (ctx->no_verify) {
        g_message("Ignoring bad certificate at user request");
        return true;
    }
    vrt_error_set(error, VIR_ERR_AUTH_FAILED, "Failed to verify peer's certificate (%s)", why->message);
    return false;
}

/* ---- context ---- */

VrtTlsContext *
vrt_tls_context_new(const VrtTlsConfig *cfg, bool server, GError **error)
{
    g_autoptr(VrtTlsContext) ctx = g_new0(VrtTlsContext, 1);
    const char *err_pos = NULL;
    int rc;

    tls_global_init();
    ctx->server = server;
    ctx->no_verify = cfg->no_verify;
    ctx->allowed_dn = cfg->allowed_dn ? g_strdupv((char **)cfg->allowed_dn) : NULL;
    ctx->priority_str = g_strdup(cfg->priority ? cfg->priority : VRT_TLS_DEFAULT_PRIORITY);
    if ((rc = gnutls_priority_init(&ctx->priority, ctx->priority_str, &err_pos)) < 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Failed to set TLS session priority to %s: %s", ctx->priority_str,
                      gnutls_strerror(rc));
        return NULL;
    }
    if ((rc = gnutls_certificate_allocate_credentials(&ctx->cred)) < 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Unable to allocate x509 credentials: %s", gnutls_strerror(rc));
        return NULL;
    }
    if (access(cfg->ca_file, R_OK) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Cannot read CA certificate '%s'", cfg->ca_file);
        return NULL;
    }
    /* A server must have its certificate; a client may go without one. */
    bool have_cert = cfg->cert_file && (server || access(cfg->cert_file, R_OK) == 0);
    if (server || have_cert) {
        if (access(cfg->cert_file, R_OK) < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Cannot read %s certificate '%s'",
                                server ? "server" : "client", cfg->cert_file);
            return NULL;
        }
        if (access(cfg->key_file, R_OK) < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Cannot read %s key '%s'",
                                server ? "server" : "client", cfg->key_file);
            return NULL;
        }
        if (!(cfg->no_sanity && !server) && !check_own_cert(cfg, server, error))
            return NULL;
    }
    if ((rc = gnutls_certificate_set_x509_trust_file(ctx->cred, cfg->ca_file, GNUTLS_X509_FMT_PEM)) < 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Unable to set x509 CA certificate: %s: %s", cfg->ca_file,
                      gnutls_strerror(rc));
        return NULL;
    }
    if (cfg->crl_file && access(cfg->crl_file, R_OK) == 0 &&
        (rc = gnutls_certificate_set_x509_crl_file(ctx->cred, cfg->crl_file, GNUTLS_X509_FMT_PEM)) < 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Unable to set x509 certificate revocation list: %s: %s",
                      cfg->crl_file, gnutls_strerror(rc));
        return NULL;
    }
    if (have_cert && (rc = gnutls_certificate_set_x509_key_file(ctx->cred, cfg->cert_file, cfg->key_file,
                                                                GNUTLS_X509_FMT_PEM)) < 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Unable to set x509 key and certificate: %s, %s: %s", cfg->key_file,
                      cfg->cert_file, gnutls_strerror(rc));
        return NULL;
    }
    return g_steal_pointer(&ctx);
}

bool
vrt_tls_context_reload(VrtTlsContext *ctx, const VrtTlsConfig *cfg, GError **error)
{
    g_autoptr(VrtTlsContext) fresh = vrt_tls_context_new(cfg, ctx->server, error);

    if (!fresh)
        return false;
    if (!ctx->old_creds)
        ctx->old_creds = g_ptr_array_new_with_free_func((GDestroyNotify)gnutls_certificate_free_credentials);
    g_ptr_array_add(ctx->old_creds, ctx->cred);
    ctx->cred = fresh->cred;
    fresh->cred = NULL;
    return true;
}

void
vrt_tls_context_free(VrtTlsContext *ctx)
{
    if (!ctx)
        return;
    if (ctx->cred)
        gnutls_certificate_free_credentials(ctx->cred);
    if (ctx->old_creds)
        g_ptr_array_free(ctx->old_creds, TRUE);
    if (ctx->priority)
        gnutls_priority_deinit(ctx->priority);
    g_free(ctx->priority_str);
    g_strfreev(ctx->allowed_dn);
    g_free(ctx);
}

/* ---- sessions as transports ---- */

static ssize_t
tls_result(ssize_t rc)
{
    if (rc >= 0)
        return rc;
    if (rc == GNUTLS_E_AGAIN)
        errno = EAGAIN;
    else if (rc == GNUTLS_E_INTERRUPTED)
        errno = EINTR;
    else if (rc == GNUTLS_E_PREMATURE_TERMINATION)
        return 0; /* the peer closed without close_notify: the end */
    else
        errno = EIO;
    return -1;
}

static ssize_t
tls_recv(VrtTransport *t, void *buf, size_t len)
{
    return tls_result(gnutls_record_recv(((TlsSession *)t)->session, buf, len));
}

static ssize_t
tls_send(VrtTransport *t, const void *buf, size_t len)
{
    return tls_result(gnutls_record_send(((TlsSession *)t)->session, buf, len));
}

static bool
tls_pending(VrtTransport *t)
{
    return gnutls_record_check_pending(((TlsSession *)t)->session) > 0;
}

static void
tls_free(VrtTransport *t)
{
    TlsSession *s = (TlsSession *)t;
    gnutls_deinit(s->session);
    g_free(s);
}

static const VrtTransportOps tls_ops = { tls_recv, tls_send, tls_pending, tls_free };

static TlsSession *
session_new(VrtTlsContext *ctx, int fd, GError **error)
{
    TlsSession *s = g_new0(TlsSession, 1);
    int rc;

    s->base.ops = &tls_ops;
    s->base.fd = fd;
    s->base.is_tls = true;
    s->server = ctx->server;
    if ((rc = gnutls_init(&s->session, ctx->server ? GNUTLS_SERVER : GNUTLS_CLIENT)) < 0) {
        g_free(s);
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Failed to initialize TLS session: %s", gnutls_strerror(rc));
        return NULL;
    }
    if ((rc = gnutls_priority_set(s->session, ctx->priority)) < 0 ||
        (rc = gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, ctx->cred)) < 0) {
        tls_free(&s->base);
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Failed set TLS x509 credentials: %s", gnutls_strerror(rc));
        return NULL;
    }
    if (ctx->server)
        gnutls_certificate_server_set_request(s->session, GNUTLS_CERT_REQUEST);
    gnutls_transport_set_int(s->session, fd);
    return s;
}

static void
session_ready(TlsSession *s)
{
    s->base.ssf = 8 * (unsigned int)gnutls_cipher_get_key_size(gnutls_cipher_get(s->session));
}

/* ---- server: the handshake on the I/O thread ---- */

struct _VrtTlsAccept {
    VrtTlsContext *ctx;
    TlsSession *sess;
    int fd;
    GSource *source;
    GSource *timeout;
    GMainContext *main_ctx;
    bool confirming; /* the handshake and checks passed; '\1' not sent yet */
    VrtTlsAcceptDone done;
    gpointer data;
};

static gboolean accept_step(int fd, GIOCondition cond, gpointer opaque);

static void
accept_watch(VrtTlsAccept *acc, GIOCondition cond)
{
    if (acc->source) {
        g_source_destroy(acc->source);
        g_source_unref(acc->source);
    }
    acc->source = g_unix_fd_source_new(acc->fd, cond | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(acc->source, (GSourceFunc)(void (*)(void))accept_step, acc, NULL);
    g_source_attach(acc->source, acc->main_ctx);
}

static void
accept_free(VrtTlsAccept *acc, bool close_fd)
{
    if (acc->source) {
        g_source_destroy(acc->source);
        g_source_unref(acc->source);
    }
    if (acc->timeout) {
        g_source_destroy(acc->timeout);
        g_source_unref(acc->timeout);
    }
    if (acc->sess)
        tls_free(&acc->sess->base);
    if (close_fd)
        close(acc->fd);
    g_free(acc);
}

/* Ends acc with error: logged, the connection closed, done told. */
static void
accept_fail(VrtTlsAccept *acc, GError *error)
{
    int fd = acc->fd;
    g_warning("TLS client fd %d refused: %s", fd, error->message);
    VrtTlsAcceptDone done = acc->done;
    gpointer data = acc->data;
    accept_free(acc, true);
    done(NULL, fd, error, data);
    g_error_free(error);
}

static gboolean
accept_step(int fd, GIOCondition cond, gpointer opaque)
{
    VrtTlsAccept *acc = opaque;
    GError *error = NULL;
    int rc;

    if (!acc->confirming) {
        rc = gnutls_handshake(acc->sess->session);
        if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
            accept_watch(acc, gnutls_record_get_direction(acc->sess->session) ? G_IO_OUT : G_IO_IN);
            return G_SOURCE_REMOVE;
        }
        if (rc < 0) {
            vrt_error_set(&error, VIR_ERR_AUTH_FAILED, "TLS handshake failed %s", gnutls_strerror(rc));
            accept_fail(acc, error);
            return G_SOURCE_REMOVE;
        }
        if (!check_peer_policy(acc->ctx, acc->sess->session, NULL, &error)) {
            accept_fail(acc, error);
            return G_SOURCE_REMOVE;
        }
        acc->confirming = true;
    }
    /* libvirt's confirmation: one byte '\1' in the TLS stream. */
    rc = gnutls_record_send(acc->sess->session, "\1", 1);
    if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
        accept_watch(acc, G_IO_OUT);
        return G_SOURCE_REMOVE;
    }
    if (rc < 0) {
        vrt_error_set(&error, VIR_ERR_SYSTEM_ERROR, "cannot send the TLS confirmation: %s", gnutls_strerror(rc));
        accept_fail(acc, error);
        return G_SOURCE_REMOVE;
    }
    session_ready(acc->sess);
    VrtTransport *t = &g_steal_pointer(&acc->sess)->base;
    VrtTlsAcceptDone done = acc->done;
    gpointer data = acc->data;
    accept_free(acc, false);
    done(t, fd, NULL, data);
    return G_SOURCE_REMOVE;
}

static gboolean
accept_timed_out(gpointer opaque)
{
    VrtTlsAccept *acc = opaque;
    GError *error = NULL;

    vrt_error_set(&error, VIR_ERR_AUTH_FAILED, "no TLS handshake within %d seconds", TLS_SERVER_HANDSHAKE_S);
    accept_fail(acc, error);
    return G_SOURCE_REMOVE;
}

VrtTlsAccept *
vrt_tls_accept(VrtTlsContext *ctx, GMainContext *main_ctx, int fd, VrtTlsAcceptDone done, gpointer data)
{
    GError *error = NULL;
    VrtTlsAccept *acc = g_new0(VrtTlsAccept, 1);

    acc->ctx = ctx;
    acc->fd = fd;
    acc->main_ctx = main_ctx;
    acc->done = done;
    acc->data = data;
    acc->sess = session_new(ctx, fd, &error);
    if (!acc->sess) {
        accept_fail(acc, error);
        return NULL;
    }
    acc->timeout = g_timeout_source_new_seconds(TLS_SERVER_HANDSHAKE_S);
    g_source_set_callback(acc->timeout, accept_timed_out, acc, NULL);
    g_source_attach(acc->timeout, main_ctx);
    accept_watch(acc, G_IO_IN);
    return acc;
}

void
vrt_tls_accept_cancel(VrtTlsAccept *acc)
{
    if (acc)
        accept_free(acc, true);
}

/* ---- client ---- */

/* Waits until fd is ready for what the session wants; false on timeout. */
static bool
client_wait(TlsSession *s, gint64 deadline)
{
    struct pollfd p = { s->base.fd, gnutls_record_get_direction(s->session) ? POLLOUT : POLLIN, 0 };
    gint64 left = (deadline - g_get_monotonic_time()) / 1000;
    if (left <= 0)
        return false;
    return poll(&p, 1, (int)left) > 0 || errno == EINTR;
}

VrtTransport *
vrt_tls_connect(VrtTlsContext *ctx, int fd, const char *hostname, GError **error)
{
    TlsSession *s;
    gint64 deadline = g_get_monotonic_time() + (gint64)TLS_CLIENT_TIMEOUT_MS * 1000;
    int rc;
    char confirm = 0;

    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    if (!(s = session_new(ctx, fd, error)))
        return NULL;
    if (hostname)
        gnutls_server_name_set(s->session, GNUTLS_NAME_DNS, hostname, strlen(hostname));
    while ((rc = gnutls_handshake(s->session)) == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
        if (!client_wait(s, deadline)) {
            rc = GNUTLS_E_TIMEDOUT;
            break;
        }
    }
    if (rc < 0) {
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "TLS handshake failed %s", gnutls_strerror(rc));
        goto fail;
    }
    if (!check_peer_policy(ctx, s->session, hostname, error))
        goto fail;
    while ((rc = gnutls_record_recv(s->session, &confirm, 1)) == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
        if (!client_wait(s, deadline)) {
            rc = GNUTLS_E_TIMEDOUT;
            break;
        }
    }
    if (rc != 1 || confirm != '\1') {
        vrt_error_set(error, VIR_ERR_RPC, "%s", "server verification (of our certificate or IP address) failed");
        goto fail;
    }
    session_ready(s);
    return &s->base;
fail:
    tls_free(&s->base);
    return NULL;
}
