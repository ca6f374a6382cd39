/*
 * libvrt's SASL client (libvirt's "sasl" auth): when AUTH_LIST names SASL,
 * AUTH_SASL_INIT gives the server's mechanisms, Cyrus SASL picks one and
 * AUTH_SASL_START/STEP carry the exchange. The user name and password come
 * from $VRT_AUTH_USERNAME and $VRT_AUTH_PASSWORD, else from the caller's
 * callback (vrt_conn_open_auth; `vrt` prompts on its terminal). Over plain
 * TCP the mechanism must give a security layer of at least 56 bits, which
 * then carries every later byte (sasl_encode/decode), as libvirt's client.
 */
#include "libvrt-private.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "rpc/message.h"
#include "rpc/sasl.h"
#include "util/error.h"

/* The credential what ("username", "password"): env first, then cb. */
static char *
credential(const char *env, const char *what, vrt_auth_cb cb, void *opaque)
{
    const char *v = g_getenv(env);
    if (v)
        return g_strdup(v);
    if (!cb)
        return NULL;
    char *answer = cb(what, opaque);
    char *copy = g_strdup(answer);
    if (answer) {
        explicit_bzero(answer, strlen(answer));
        free(answer);
    }
    return copy;
}

/* "IP;PORT" of a TCP socket's end (peer or local), as Cyrus wants it. */
static char *
addr_string(int fd, bool peer)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    char host[NI_MAXHOST], serv[NI_MAXSERV];

    if ((peer ? getpeername(fd, (struct sockaddr *)&sa, &len) : getsockname(fd, (struct sockaddr *)&sa, &len)) < 0 ||
        sa.ss_family == AF_UNIX ||
        getnameinfo((struct sockaddr *)&sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return NULL;
    return g_strdup_printf("%s;%s", host, serv);
}

bool
vrt_conn_auth_sasl(vrt_conn *conn, const char *host, vrt_auth_cb cb, void *opaque, GError **error)
{
    remote_auth_sasl_init_ret init = { 0 };
    if (!vrt_call_auth_sasl_init(conn->rpc, &init, error))
        return false;
    g_autofree char *mechlist = g_strdup(init.mechlist);
    vrt_message_free_payload((xdrproc_t)xdr_remote_auth_sasl_init_ret, &init);

    g_autofree char *user = credential("VRT_AUTH_USERNAME", "username", cb, opaque);
    g_autofree char *pass = credential("VRT_AUTH_PASSWORD", "password", cb, opaque);
    int fd = vrt_rpc_client_get_fd(conn->rpc);
    g_autofree char *local = addr_string(fd, false);
    g_autofree char *remote = addr_string(fd, true);
    unsigned int ext_ssf = vrt_rpc_client_tls_ssf(conn->rpc);
    g_autoptr(VrtSaslSession) sess =
        vrt_sasl_client_new(host ? host : "localhost", local, remote, ext_ssf, user, pass, error);
    if (pass)
        explicit_bzero(pass, strlen(pass));
    if (!sess)
        return false;

    const char *mech = NULL, *out = NULL;
    unsigned int outlen = 0;
    int rc = vrt_sasl_client_step(sess, mechlist, NULL, 0, &mech, &out, &outlen, error);
    if (rc < 0)
        return false;
    remote_auth_sasl_start_args sa = { .mech = (char *)mech, .nil = out ? 0 : 1 };
    sa.data.data_val = (char *)out;
    sa.data.data_len = out ? outlen : 0;
    remote_auth_sasl_start_ret sr = { 0 };
    if (!vrt_call_auth_sasl_start(conn->rpc, &sa, &sr, error))
        return false;
    bool complete = sr.complete;
    bool client_done = rc == 1;
    g_autoptr(GBytes) in = sr.nil ? NULL : g_bytes_new(sr.data.data_val, sr.data.data_len);
    vrt_message_free_payload((xdrproc_t)xdr_remote_auth_sasl_start_ret, &sr);

    while (!(complete && client_done)) {
        gsize inlen = 0;
        const char *indata = in ? g_bytes_get_data(in, &inlen) : NULL;
        rc = vrt_sasl_client_step(sess, NULL, indata, (unsigned int)inlen, NULL, &out, &outlen, error);
        if (rc < 0)
            return false;
        client_done = rc == 1;
        if (complete) {
            if (!client_done) {
                vrt_error_set(error, VIR_ERR_AUTH_FAILED, "%s",
                              "the server ended the SASL exchange before the client was done");
                return false;
            }
            break;
        }
        remote_auth_sasl_step_args st = { .nil = out ? 0 : 1 };
        st.data.data_val = (char *)out;
        st.data.data_len = out ? outlen : 0;
        remote_auth_sasl_step_ret sr2 = { 0 };
        if (!vrt_call_auth_sasl_step(conn->rpc, &st, &sr2, error))
            return false;
        complete = sr2.complete;
        g_clear_pointer(&in, g_bytes_unref);
        in = sr2.nil ? NULL : g_bytes_new(sr2.data.data_val, sr2.data.data_len);
        vrt_message_free_payload((xdrproc_t)xdr_remote_auth_sasl_step_ret, &sr2);
    }

    unsigned int ssf = vrt_sasl_session_ssf(sess);
    if (ssf < vrt_sasl_session_min_ssf(sess)) {
        vrt_error_set(error, VIR_ERR_AUTH_FAILED, "negotiation SSF %u was not strong enough", ssf);
        return false;
    }
    /* A layer was negotiated over plain TCP: it carries the connection from
     * the next call on (the server switched after its last reply). */
    if (ssf > 0 && ext_ssf == 0)
        vrt_rpc_client_push_layer(conn->rpc, vrt_sasl_layer_new(g_steal_pointer(&sess), NULL, fd));
    return true;
}
