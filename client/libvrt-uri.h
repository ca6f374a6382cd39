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

typedef struct {
    char *socket; /* the UNIX socket to connect to (NULL over ssh) */
    VrtSshTarget *ssh; /* qemu+ssh: whom to reach and how (NULL for a local socket) */
    char *remote_uri; /* what CONNECT_OPEN sends: the URI without transport and socket */
} VrtUri;

void vrt_uri_free(VrtUri *uri);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtUri, vrt_uri_free)

/* Parses uri (NULL: VRT_URI_DEFAULT). readonly picks the read-only default
 * socket. Fails with VIR_ERR_INVALID_ARG naming what is wrong. */
VrtUri *vrt_uri_parse(const char *uri, bool readonly, GError **error);
