/*
 * <disk type='network'> for QEMU: the protocol node of its -blockdev
 * (nbd, curl's http/https/ftp/ftps, iscsi, rbd, gluster) as libvirt 9.0
 * builds it, the secret object an <auth> needs, and the check that
 * QEMU here has the block driver a protocol needs; the same for the
 * iSCSI LUN of a <hostdev type='scsi'>.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/domain/domain_conf.h"

/* The key of write_disk_secrets' table for disk's <auth> secret file. */
char *vrt_qemu_block_net_secret_key(const VrtDomainDiskDef *disk);

/* The key of write_disk_secrets' table for an iSCSI hostdev's <auth>
 * secret file. */
char *vrt_qemu_block_net_hostdev_secret_key(const VrtDomainSubsysHostdevDef *h);

/* The network source an iSCSI hostdev h names (protocol iscsi, its
 * target/LUN, host and <auth>); NULL (VIR_ERR_XML_ERROR) for a port that
 * is no number. */
VrtDiskNetSource *vrt_qemu_block_net_hostdev_source(const VrtDomainSubsysHostdevDef *h, GError **error);

/* Refuses (VIR_ERR_CONFIG_UNSUPPORTED, naming the protocol) a network
 * disk or iSCSI hostdev whose protocol QEMU's block drivers installed
 * here lack, and a tls='yes' disk source (no TLS credentials are set up
 * for disks). */
bool vrt_qemu_block_net_check(const VrtDomainDef *def, GError **error);

/* Fills node (the protocol node) with driver and server properties.
 * secret_path: the file holding the <auth> secret's value (NULL without
 * <auth>); then *secret_obj gets the -object secret to pass before the
 * node, with id secret_id. */
bool vrt_qemu_block_net_props(JsonObject *node, const VrtDomainDiskDef *disk, const char *secret_path,
                              const char *secret_id, JsonObject **secret_obj, GError **error);

/* The same for any network source: initiator (NULL: none) is iscsi's
 * initiator-name; owner names the device in errors ("disk 'vda'"). */
bool vrt_qemu_block_net_source_props(JsonObject *node, const VrtDiskNetSource *src, const char *initiator,
                                     const char *owner, const char *secret_path, const char *secret_id,
                                     JsonObject **secret_obj, GError **error);
