/*
 * Cyrus SASL for vrtd's AUTH_SASL_* procedures (libvirt's "sasl" auth on the
 * TCP and TLS sockets): a server session per connection, libvirt's security
 * properties (over TLS or a UNIX socket no layer is wanted and TLS's key
 * size is the external SSF; over plain TCP a mechanism with a security
 * layer of at least tcp_min_ssf, 56 bits, is required), the username
 * allow-list (sasl_allowed_username_list, globs) and, once the exchange is
 * done, the security layer as a VrtTransport the server switches to.
 * Cyrus reads its configuration, <dir>/libvirt.conf (mech_list,
 * sasldb_path...), from the directory given at initialization, so a vrtd
 * under --root never reads the host's /etc/sasl2.
 */
#pragma once

#include "rpc/transport.h"

#include <glib.h>
#include <stdbool.h>

/* libvirt's minimum SSF over plain TCP (tcp_min_ssf). */
#define VRT_SASL_TCP_MIN_SSF 56

/* Once per process: Cyrus SASL's server side with its configuration in
 * conf_dir (NULL: Cyrus's default, /etc/sasl2). */
bool vrt_sasl_server_init(const char *conf_dir, GError **error);

typedef struct _VrtSaslSession VrtSaslSession;

/* A server session: secure (TLS or UNIX: no layer), ext_ssf the TLS key
 * bits (0 without), min_ssf the layer required otherwise. */
VrtSaslSession *vrt_sasl_session_new(bool secure, unsigned int ext_ssf, unsigned int min_ssf, GError **error);
void vrt_sasl_session_free(VrtSaslSession *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtSaslSession, vrt_sasl_session_free)
/* The mechanisms offered, comma separated, as libvirt's AUTH_SASL_INIT. */
char *vrt_sasl_session_mechlist(VrtSaslSession *s, GError **error);

/* One step of the exchange: start (mech given) or step (mech NULL) with the
 * client's data (NULL: none, which SASL tells apart from empty). 1: done,
 * 0: continue, with *out and *outlen to send back (*out NULL: none); -1: failed
 * (*error says why, for the log). */
int vrt_sasl_session_step(VrtSaslSession *s, const char *mech, const char *in, unsigned int inlen, const char **out,
                          unsigned int *outlen, GError **error);

/* After a step returned 1: the user name SASL authenticated, checked
 * against allowed (globs; NULL allows every user), and the negotiated layer
 * against the session's minimum. False with *error when refused. */
bool vrt_sasl_session_check(VrtSaslSession *s, const char *const *allowed, GError **error);
const char *vrt_sasl_session_username(VrtSaslSession *s);
/* The negotiated security layer strength (0: none). */
unsigned int vrt_sasl_session_ssf(VrtSaslSession *s);

/* A client session (libvrt) for host, with user and password for the
 * mechanisms that ask (AUTHNAME, USER, PASS); local_addr and remote_addr
 * "IP;PORT" (NULL for a UNIX socket), ext_ssf TLS's key bits (0 without).
 * Over plain TCP a layer of at least VRT_SASL_TCP_MIN_SSF is required. */
VrtSaslSession *vrt_sasl_client_new(const char *host, const char *local_addr, const char *remote_addr,
                                    unsigned int ext_ssf, const char *user, const char *password, GError **error);
/* Start (mechlist given: the server's list; *mech is the one chosen) or
 * step with the server's data; as vrt_sasl_session_step. */
int vrt_sasl_client_step(VrtSaslSession *s, const char *mechlist, const char *in, unsigned int inlen, const char **mech,
                         const char **out, unsigned int *outlen, GError **error);
/* The least layer strength the session requires (0: none). */
unsigned int vrt_sasl_session_min_ssf(VrtSaslSession *s);

/* The security layer over below (NULL: the socket fd; not owned: it must
 * outlive the layer); takes s. */
VrtTransport *vrt_sasl_layer_new(VrtSaslSession *s, VrtTransport *below, int fd);
