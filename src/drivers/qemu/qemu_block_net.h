/*
 * <disk type='network'> for QEMU: the protocol node of its -blockdev
 * (nbd, curl's http/https/ftp/ftps, iscsi, rbd, gluster) as libvirt 9.0
 * builds it, the secret object an <auth> needs, and the check that
 * QEMU here has the block driver a protocol needs.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/domain/domain_conf.h"

/* The key of write_disk_secrets' table for disk's <auth> secret file. */
char *vrt_qemu_block_net_secret_key(const VrtDomainDiskDef *disk);

/* Refuses (VIR_ERR_CONFIG_UNSUPPORTED, naming the protocol) a network
 * disk whose protocol QEMU's block drivers installed here lack, and a
 * tls='yes' source (no TLS credentials are set up for disks). */
bool vrt_qemu_block_net_check(const VrtDomainDef *def, GError **error);

/* Fills node (the protocol node) with driver and server properties.
 * secret_path: the file holding the <auth> secret's value (NULL without
 * <auth>); then *secret_obj gets the -object secret to pass before the
 * node, with id secret_id. */
bool vrt_qemu_block_net_props(JsonObject *node, const VrtDomainDiskDef *disk, const char *secret_path,
                              const char *secret_id, JsonObject **secret_obj, GError **error);
