/*
 * The URIs libvrt accepts and the socket each one names. Kept apart from the
 * connection code so that the parser is tested without a daemon.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "libvrt-ssh.h"

/* Sockets of a system vrtd (issue 2: DIR/run/vrt/... without --root). */
#define VRT_URI_DEFAULT "qemu:///system"
#define VRT_URI_DEFAULT_SOCK "/run/vrt/vrtd-sock"
#define VRT_URI_DEFAULT_SOCK_RO "/run/vrt/vrtd-sock-ro"

/* libvirt's TLS port, which qemu+tls:// connects to without a port. */
#define VRT_URI_TLS_PORT 16514
/* libvirt's TCP port, for qemu+tcp:// (SASL authenticates it). */
#define VRT_URI_TCP_PORT 16509

typedef struct {
    char *socket; /* the UNIX socket to connect to (NULL over ssh and TLS) */
    VrtSshTarget *ssh; /* qemu+ssh: whom to reach and how (NULL for a local socket) */
    char *remote_uri; /* what CONNECT_OPEN sends: the URI without transport and socket */
    /* qemu+tls://HOST[:PORT]/system[?pkipath=DIR&no_verify=1&no_sanity=1] */
    bool tls;
    bool tcp; /* qemu+tcp://HOST[:PORT]/system: plain TCP, SASL with its security layer */
    char *host;
    guint port;
    char *pkipath; /* NULL: libvirt's client certificate locations */
    bool no_verify; /* accept a server certificate that fails the checks */
    bool no_sanity; /* send our certificate without checking it first */
} VrtUri;

void vrt_uri_free(VrtUri *uri);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtUri, vrt_uri_free)

/* Parses uri (NULL: VRT_URI_DEFAULT). readonly picks the read-only default
 * socket. Fails with VIR_ERR_INVALID_ARG naming what is wrong. */
VrtUri *vrt_uri_parse(const char *uri, bool readonly, GError **error);
