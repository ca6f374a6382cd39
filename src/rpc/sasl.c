/*
 * Cyrus SASL server sessions and the SASL security layer (see sasl.h). The
 * refusals a client sees are libvirt's ("authentication failed"); why is in
 * vrtd's log, in libvirt's words where libvirt has them.
 */
#include "rpc/sasl.h"
#include "util/error.h"

#include <errno.h>
#include <sasl/sasl.h>
#include <string.h>
#include <sys/socket.h>

/* libvirt's maximum SSF and buffer size of a session. */
#define SASL_MAX_SSF 100000
#define SASL_MAX_BUF 100000
#define LAYER_READ_CHUNK 65536

struct _VrtSaslSession {
    sasl_conn_t *conn;
    unsigned int min_ssf; /* 0 when secure */
    /* A libvrt session's credentials, the context of its callbacks: freed
     * after the SASL connection. */
    struct _VrtSaslClientCreds *creds;
};

static void creds_free(gpointer p);

typedef struct {
    VrtTransport base;
    VrtSaslSession *sess;
    VrtTransport *below;
    GMutex lock; /* the SASL connection: decode (reader) and encode (writer) */
    GByteArray *decoded; /* reader only: decoded bytes not yet returned */
    gsize decoded_off;
    GByteArray *encoded; /* writer only: an encoded chunk not yet fully sent */
    gsize encoded_off;
    gsize encoded_plain; /* the plain bytes that chunk carries */
    unsigned int maxout;
} SaslLayer;

static int
get_conf_path(void *context, const char **path)
{
    *path = context;
    return SASL_OK;
}

bool
vrt_sasl_server_init(const char *conf_dir, GError **error)
{
    /* Cyrus SASL's server side is set up once per process: sasl_server_init
     * reads the application's configuration (libvirt.conf, in the directory
     * the GETCONFPATH callback names) and keeps these global callbacks until
     * sasl_server_done, so the directory (the callback's context) lives as
     * long as the process; the connections' own callbacks come too late for
     * it. */
    static sasl_callback_t callbacks[] = {
        { SASL_CB_GETCONFPATH, (int (*)(void))(void (*)(void))get_conf_path, NULL },
        { SASL_CB_LIST_END, NULL, NULL },
    };
    static gsize done;
    static int rc;

    if (g_once_init_enter(&done)) {
        callbacks[0].context = g_strdup(conf_dir);
        rc = sasl_server_init(conf_dir ? callbacks : NULL, "libvirt");
        g_once_init_leave(&done, 1);
    }
    if (rc != SASL_OK) {
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "failed to initialize SASL library: %d (%s)", rc,
                      sasl_errstring(rc, NULL, NULL));
        return false;
    }
    return true;
}

VrtSaslSession *
vrt_sasl_session_new(bool secure, unsigned int ext_ssf, unsigned int min_ssf, GError **error)
{
    g_autoptr(VrtSaslSession) s = g_new0(VrtSaslSession, 1);
    sasl_security_properties_t props = { 0 };
    int rc = sasl_server_new("libvirt", NULL, NULL, NULL, NULL, NULL, 0, &s->conn);

    if (rc != SASL_OK) {
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "Failed to create SASL server context: %d (%s)", rc,
                      sasl_errstring(rc, NULL, NULL));
        return NULL;
    }
    if (ext_ssf) {
        sasl_ssf_t ssf = ext_ssf;
        if ((rc = sasl_setprop(s->conn, SASL_SSF_EXTERNAL, &ssf)) != SASL_OK) {
            vrt_error_set(error, VIR_ERR_AUTH_FAILED, "cannot set external SSF %d (%s)", rc,
                          sasl_errstring(rc, NULL, NULL));
            return NULL;
        }
    }
    /* libvirt: no layer over TLS or UNIX (anonymous allowed), else one of at
     * least min_ssf and no anonymous login. */
    props.min_ssf = secure ? 0 : min_ssf;
    props.max_ssf = secure ? 0 : SASL_MAX_SSF;
    props.maxbufsize = SASL_MAX_BUF;
    props.security_flags = secure ? 0 : SASL_SEC_NOANONYMOUS;
    if ((rc = sasl_setprop(s->conn, SASL_SEC_PROPS, &props)) != SASL_OK) {
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "cannot set security props %d (%s)", rc,
                      sasl_errstring(rc, NULL, NULL));
        return NULL;
    }
    s->min_ssf = props.min_ssf;
    return g_steal_pointer(&s);
}

void
vrt_sasl_session_free(VrtSaslSession *s)
{
    if (!s)
        return;
    if (s->conn)
        sasl_dispose(&s->conn);
    /* Its callbacks' credentials, wiped once the connection is gone. */
    if (s->creds)
        creds_free(s->creds);
    g_free(s);
}

char *
vrt_sasl_session_mechlist(VrtSaslSession *s, GError **error)
{
    const char *list = NULL;
    int rc = sasl_listmech(s->conn, NULL, "", ",", "", &list, NULL, NULL);

    if (rc != SASL_OK) {
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "cannot list SASL mechanisms %d (%s)", rc, sasl_errdetail(s->conn));
        return NULL;
    }
    return g_strdup(list);
}

int
vrt_sasl_session_step(VrtSaslSession *s, const char *mech, const char *in, unsigned int inlen, const char **out,
                      unsigned int *outlen, GError **error)
{
    int rc = mech ? sasl_server_start(s->conn, mech, in, inlen, out, outlen)
                  : sasl_server_step(s->conn, in, inlen, out, outlen);

    if (rc == SASL_OK)
        return 1;
    if (rc == SASL_CONTINUE)
        return 0;
    vrt_error_set(error, VIR_ERR_AUTH_FAILED, "Failed to %s SASL negotiation: %d (%s)", mech ? "start" : "step", rc,
                  sasl_errdetail(s->conn));
    return -1;
}

unsigned int
vrt_sasl_session_ssf(VrtSaslSession *s)
{
    const void *val = NULL;

    if (sasl_getprop(s->conn, SASL_SSF, &val) != SASL_OK || !val)
        return 0;
    return *(const sasl_ssf_t *)val;
}

const char *
vrt_sasl_session_username(VrtSaslSession *s)
{
    const void *val = NULL;

    if (sasl_getprop(s->conn, SASL_USERNAME, &val) != SASL_OK)
        return NULL;
    return val;
}

bool
vrt_sasl_session_check(VrtSaslSession *s, const char *const *allowed, GError **error)
{
    unsigned int ssf = vrt_sasl_session_ssf(s);
    const char *user = vrt_sasl_session_username(s);

    if (ssf < s->min_ssf) {
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "negotiated SSF %u was not strong enough", ssf);
        return false;
    }
    if (!user) {
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "%s", "no client username was found");
        return false;
    }
    if (!allowed)
        return true;
    for (const char *const *p = allowed; *p; p++) {
        if (g_pattern_match_simple(*p, user))
            return true;
    }
    vrt_error_set(error, VIR_ERR_AUTH_FAILED,
                  "SASL client identity '%s' is not on the list of allowed clients (sasl_allowed_username_list)", user);
    return false;
}

/* ---- the security layer ---- */

static ssize_t
below_recv(SaslLayer *l, void *buf, size_t len)
{
    return l->below ? vrt_transport_recv(l->below, buf, len) : recv(l->base.fd, buf, len, MSG_DONTWAIT);
}

static ssize_t
below_send(SaslLayer *l, const void *buf, size_t len)
{
    return l->below ? vrt_transport_send(l->below, buf, len) : send(l->base.fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static ssize_t
layer_recv(VrtTransport *t, void *buf, size_t len)
{
    SaslLayer *l = (SaslLayer *)t;

    while (l->decoded_off >= l->decoded->len) {
        guint8 raw[LAYER_READ_CHUNK];
        const char *out = NULL;
        unsigned int outlen = 0;
        ssize_t n = below_recv(l, raw, sizeof(raw));
        if (n <= 0)
            return n;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&l->lock);

            if (sasl_decode(l->sess->conn, (const char *)raw, (unsigned int)n, &out, &outlen) != SASL_OK) {
                g_debug("SASL decode failed: %s", sasl_errdetail(l->sess->conn));
                errno = EIO;
                return -1;
            }
            g_byte_array_set_size(l->decoded, 0);
            l->decoded_off = 0;
            g_byte_array_append(l->decoded, (const guint8 *)out, outlen);
        }
        /* A part of a packet: the rest comes with a later read. */
    }
    size_t take = MIN(len, l->decoded->len - l->decoded_off);
    memcpy(buf, l->decoded->data + l->decoded_off, take);
    l->decoded_off += take;
    return (ssize_t)take;
}

/* Sends one encoded chunk of at most maxout plain bytes at a time; a chunk
 * cut short by a full socket is finished when the caller retries with the
 * same bytes (the server does) before the next is encoded. */
static ssize_t
layer_send(VrtTransport *t, const void *buf, size_t len)
{
    SaslLayer *l = (SaslLayer *)t;

    if (l->encoded_off >= l->encoded->len) {
        const char *out = NULL;
        unsigned int outlen = 0;
        size_t take = MIN(len, l->maxout);
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&l->lock);

        if (sasl_encode(l->sess->conn, buf, (unsigned int)take, &out, &outlen) != SASL_OK) {
            g_debug("SASL encode failed: %s", sasl_errdetail(l->sess->conn));
            errno = EIO;
            return -1;
        }
        g_byte_array_set_size(l->encoded, 0);
        g_byte_array_append(l->encoded, (const guint8 *)out, outlen);
        l->encoded_off = 0;
        l->encoded_plain = take;
    }
    while (l->encoded_off < l->encoded->len) {
        ssize_t n = below_send(l, l->encoded->data + l->encoded_off, l->encoded->len - l->encoded_off);
        if (n < 0)
            return -1;
        l->encoded_off += (gsize)n;
    }
    return (ssize_t)l->encoded_plain;
}

static bool
layer_pending(VrtTransport *t)
{
    SaslLayer *l = (SaslLayer *)t;
    return l->decoded_off < l->decoded->len || vrt_transport_pending(l->below);
}

static void
layer_free(VrtTransport *t)
{
    SaslLayer *l = (SaslLayer *)t;
    vrt_sasl_session_free(l->sess);
    g_byte_array_unref(l->decoded);
    g_byte_array_unref(l->encoded);
    g_mutex_clear(&l->lock);
    g_free(l);
}

static const VrtTransportOps layer_ops = { layer_recv, layer_send, layer_pending, layer_free };

VrtTransport *
vrt_sasl_layer_new(VrtSaslSession *s, VrtTransport *below, int fd)
{
    SaslLayer *l = g_new0(SaslLayer, 1);
    const void *val = NULL;

    l->base.ops = &layer_ops;
    l->base.fd = fd;
    l->base.ssf = vrt_sasl_session_ssf(s);
    l->base.is_tls = below && below->is_tls;
    l->sess = s;
    l->below = below;
    g_mutex_init(&l->lock);
    l->decoded = g_byte_array_new();
    l->encoded = g_byte_array_new();
    l->maxout = 4096;
    if (sasl_getprop(s->conn, SASL_MAXOUTBUF, &val) == SASL_OK && val && *(const unsigned int *)val > 0)
        l->maxout = *(const unsigned int *)val;
    return &l->base;
}

/* ---- the client side (libvrt) ---- */

struct _VrtSaslClientCreds {
    char *user;
    char *pass;
    sasl_secret_t *secret;
    sasl_callback_t callbacks[4];
};

static int
client_get_simple(void *context, int id, const char **result, unsigned int *len)
{
    struct _VrtSaslClientCreds *c = context;

    if (id != SASL_CB_AUTHNAME && id != SASL_CB_USER)
        return SASL_BADPARAM;
    *result = c->user ? c->user : "";
    if (len)
        *len = (unsigned int)strlen(*result);
    return SASL_OK;
}

static int
client_get_secret(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
    struct _VrtSaslClientCreds *c = context;

    (void)conn;
    if (id != SASL_CB_PASS)
        return SASL_BADPARAM;
    *psecret = c->secret;
    return SASL_OK;
}

static void
creds_free(gpointer p)
{
    struct _VrtSaslClientCreds *c = p;
    if (c->secret)
        explicit_bzero(c->secret->data, c->secret->len);
    g_free(c->secret);
    g_free(c->user);
    if (c->pass)
        explicit_bzero(c->pass, strlen(c->pass));
    g_free(c->pass);
    g_free(c);
}

VrtSaslSession *
vrt_sasl_client_new(const char *host, const char *local_addr, const char *remote_addr, unsigned int ext_ssf,
                    const char *user, const char *password, GError **error)
{
    static gsize done;
    static int init_rc;

    if (g_once_init_enter(&done)) {
        init_rc = sasl_client_init(NULL);
        g_once_init_leave(&done, 1);
    }
    if (init_rc != SASL_OK) {
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "failed to initialize SASL library: %d (%s)", init_rc,
                      sasl_errstring(init_rc, NULL, NULL));
        return NULL;
    }
    struct _VrtSaslClientCreds *c = g_new0(struct _VrtSaslClientCreds, 1);
    c->user = g_strdup(user);
    c->pass = g_strdup(password);
    gsize plen = c->pass ? strlen(c->pass) : 0;
    c->secret = g_malloc0(sizeof(sasl_secret_t) + plen + 1);
    c->secret->len = plen;
    if (plen)
        memcpy(c->secret->data, c->pass, plen);
    c->callbacks[0] = (sasl_callback_t){ SASL_CB_AUTHNAME, (int (*)(void))(void (*)(void))client_get_simple, c };
    c->callbacks[1] = (sasl_callback_t){ SASL_CB_USER, (int (*)(void))(void (*)(void))client_get_simple, c };
    c->callbacks[2] = (sasl_callback_t){ SASL_CB_PASS, (int (*)(void))(void (*)(void))client_get_secret, c };
    c->callbacks[3] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };

    g_autoptr(VrtSaslSession) s = g_new0(VrtSaslSession, 1);
    int rc = sasl_client_new("libvirt", host, local_addr, remote_addr, c->callbacks, 0, &s->conn);
    if (rc != SASL_OK) {
        creds_free(c);
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "Failed to create SASL client context: %d (%s)", rc,
                      sasl_errstring(rc, NULL, NULL));
        return NULL;
    }
    s->creds = c;
    if (ext_ssf) {
        sasl_ssf_t ssf = ext_ssf;
        if ((rc = sasl_setprop(s->conn, SASL_SSF_EXTERNAL, &ssf)) != SASL_OK) {
            vrt_error_set(error, VIR_ERR_AUTH_FAILED, "cannot set external SSF %d (%s)", rc,
                          sasl_errstring(rc, NULL, NULL));
            return NULL;
        }
    }
    /* As libvirt's client: over TLS (or a UNIX socket) no layer; over plain
     * TCP one of at least 56 bits and no anonymous login. */
    bool secure = ext_ssf > 0 || !remote_addr;
    sasl_security_properties_t props = { 0 };
    props.min_ssf = secure ? 0 : VRT_SASL_TCP_MIN_SSF;
    props.max_ssf = secure ? 0 : SASL_MAX_SSF;
    props.maxbufsize = SASL_MAX_BUF;
    props.security_flags = secure ? 0 : SASL_SEC_NOANONYMOUS;
    if ((rc = sasl_setprop(s->conn, SASL_SEC_PROPS, &props)) != SASL_OK) {
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "cannot set security props %d (%s)", rc,
                      sasl_errstring(rc, NULL, NULL));
        return NULL;
    }
    s->min_ssf = props.min_ssf;
    return g_steal_pointer(&s);
}

int
vrt_sasl_client_step(VrtSaslSession *s, const char *mechlist, const char *in, unsigned int inlen, const char **mech,
                     const char **out, unsigned int *outlen, GError **error)
{
    int rc = mechlist ? sasl_client_start(s->conn, mechlist, NULL, out, outlen, mech)
                      : sasl_client_step(s->conn, in, inlen, NULL, out, outlen);

    if (rc == SASL_OK)
        return 1;
    if (rc == SASL_CONTINUE)
        return 0;
    vrt_error_set(error, VIR_ERR_AUTH_FAILED, "Failed to %s SASL negotiation: %d (%s)", mechlist ? "start" : "step", rc,
                  sasl_errdetail(s->conn));
    return -1;
}

unsigned int
vrt_sasl_session_min_ssf(VrtSaslSession *s)
{
    return s->min_ssf;
}
