/*
 * TLS for vrtd's TLS listener and libvrt's qemu+tls:// connections, with
 * GnuTLS and libvirt's x509 rules, so virsh and vrtd accept each other as
 * they do libvirtd: the server asks for a client certificate and refuses a
 * connection without one, or with one that does not verify against the CA
 * (and CRL), is out of its validity dates, is a CA, lacks the TLS WWW client
 * purpose, or whose Distinguished Name matches no glob of
 * tls_allowed_dn_list. After its checks the server sends one byte '\1' in
 * the TLS stream (libvirt's confirmation); on a refusal it closes the
 * connection, which the client reports as libvirt does. The server's own
 * certificate is checked at start-up (readable, valid dates, TLS server
 * purpose, signed by the CA), so a bad setup fails vrtd's start, not each
 * client.
 */
#pragma once

#include "rpc/transport.h"

#include <glib.h>
#include <stdbool.h>

/* libvirt's default locations, under a root ("" for the host's). */
#define VRT_TLS_CACERT "/etc/pki/CA/cacert.pem"
#define VRT_TLS_CACRL "/etc/pki/CA/cacrl.pem"
#define VRT_TLS_SERVERCERT "/etc/pki/libvirt/servercert.pem"
#define VRT_TLS_SERVERKEY "/etc/pki/libvirt/private/serverkey.pem"
#define VRT_TLS_CLIENTCERT "/etc/pki/libvirt/clientcert.pem"
#define VRT_TLS_CLIENTKEY "/etc/pki/libvirt/private/clientkey.pem"
/* libvirt's TLS_PRIORITY default is "NORMAL"; vrt takes TLS below 1.2 out. */
#define VRT_TLS_DEFAULT_PRIORITY "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-DTLS1.0"

typedef struct _VrtTlsContext VrtTlsContext;

typedef struct {
    const char *ca_file;
    const char *crl_file; /* NULL or missing: no CRL */
    const char *cert_file;
    const char *key_file;
    const char *priority; /* NULL: VRT_TLS_DEFAULT_PRIORITY */
    bool no_verify; /* accept a peer whose certificate fails the checks (logged) */
    bool no_sanity; /* client: send our certificate without checking it first */
    const char *const *allowed_dn; /* server: NULL allows any DN */
} VrtTlsConfig;

VrtTlsContext *vrt_tls_context_new(const VrtTlsConfig *cfg, bool server, GError **error);
/* Reads cfg's CA, CRL, certificate and key again (the admin interface's
 * update of TLS files): handshakes from now on use them; on failure the
 * context keeps the ones it had. Not thread-safe against handshakes: run it
 * on the thread that runs them. */
bool vrt_tls_context_reload(VrtTlsContext *ctx, const VrtTlsConfig *cfg, GError **error);
void vrt_tls_context_free(VrtTlsContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtTlsContext, vrt_tls_context_free)

/* Server: runs the handshake and the client checks of the connection fd
 * (non-blocking) on main_ctx's thread, then calls done with its transport,
 * or with NULL and the reason after logging and closing fd. */
typedef void (*VrtTlsAcceptDone)(VrtTransport *transport, int fd, const GError *error, gpointer data);
typedef struct _VrtTlsAccept VrtTlsAccept;
VrtTlsAccept *vrt_tls_accept(VrtTlsContext *ctx, GMainContext *main_ctx, int fd, VrtTlsAcceptDone done, gpointer data);
/* Stops a handshake still under way (fd is closed, done not called). */
void vrt_tls_accept_cancel(VrtTlsAccept *acc);

/* Client: the handshake on the blocking-capable socket fd (made non-blocking
 * here), the server's certificate checked against hostname, and the server's
 * confirmation read. */
VrtTransport *vrt_tls_connect(VrtTlsContext *ctx, int fd, const char *hostname, GError **error);
