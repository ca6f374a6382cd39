/*
 * A <disk type='network'>'s source: the protocol QEMU's block layer
 * speaks (nbd, iscsi, rbd, gluster, http, https, ftp, ftps), the export,
 * image or URL path in name=, the servers as <host> elements and the
 * <auth> whose secret holds the password or key. Parsed with libvirt's
 * checks and written back as libvirt writes it; the QEMU driver turns it
 * into a -blockdev node (qemu_block_net.c).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef enum {
    VRT_DISK_NET_NBD = 0,
    VRT_DISK_NET_ISCSI,
    VRT_DISK_NET_RBD,
    VRT_DISK_NET_GLUSTER,
    VRT_DISK_NET_HTTP,
    VRT_DISK_NET_HTTPS,
    VRT_DISK_NET_FTP,
    VRT_DISK_NET_FTPS,
} VrtDiskNetProtocol;

typedef struct {
    char *name; /* host name or address; NULL for a unix socket */
    guint port; /* 0 = not written (the protocol's default) */
    bool unix_transport; /* transport='unix' */
    bool rdma; /* transport='rdma' (gluster) */
    char *socket; /* transport='unix': the socket's path */
} VrtDiskNetHost;

typedef struct {
    VrtDiskNetProtocol protocol;
    char *name; /* name=: export, target/lun, pool/image, volume/path or URL path; NULL */
    int tls; /* 0 = not written, 1 = yes, 2 = no */
    GArray *hosts; /* VrtDiskNetHost */
    /* <auth username=><secret type='iscsi|ceph' uuid=|usage=/></auth> */
    char *auth_username; /* NULL: no <auth> */
    char *auth_secret_type; /* "iscsi" or "ceph" */
    char *auth_secret_uuid; /* one of uuid and usage */
    char *auth_secret_usage;
    bool auth_in_disk; /* <auth> was a child of <disk>, not of <source> */
} VrtDiskNetSource;

extern const char *const vrt_disk_net_protocol_names[];

void vrt_disk_net_source_free(VrtDiskNetSource *src);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDiskNetSource, vrt_disk_net_source_free)
