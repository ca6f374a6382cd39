/*
 * libvirt's secret XML (secret.rng): a secret's definition (uuid,
 * description, whether it is ephemeral or private, what it is for) as
 * virsh secret-define gives it and secret-dumpxml shows it. The value is
 * not part of it (the secret driver keeps that apart).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* libvirt's virSecretUsageType (wire numbers). */
typedef enum {
    VRT_SECRET_USAGE_NONE = 0,
    VRT_SECRET_USAGE_VOLUME = 1,
    VRT_SECRET_USAGE_CEPH = 2,
    VRT_SECRET_USAGE_ISCSI = 3,
    VRT_SECRET_USAGE_TLS = 4,
    VRT_SECRET_USAGE_VTPM = 5,
    VRT_SECRET_USAGE_LAST
} VrtSecretUsage;

typedef struct {
    guint8 uuid[16];
    bool ephemeral; /* never written to disk */
    bool isprivate; /* its value is never given to a client */
    char *description; /* may be NULL */
    VrtSecretUsage usage;
    char *usage_id; /* the volume path, ceph/tls/vtpm name or iSCSI target; NULL for none */
} VrtSecretDef;

void vrt_secret_def_free(VrtSecretDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtSecretDef, vrt_secret_def_free)

/* Parses a <secret> document; a missing <uuid> is generated. Errors are
 * libvirt's (VIR_ERR_XML_ERROR for a bad yes/no or missing usage type,
 * VIR_ERR_CONFIG_UNSUPPORTED for an unknown usage type, VIR_ERR_INTERNAL_ERROR
 * for a missing usage name or a malformed uuid). */
VrtSecretDef *vrt_secret_def_parse(const char *xml, GError **error);
/* The document as libvirt formats it (secret-dumpxml). */
char *vrt_secret_def_format(const VrtSecretDef *def);
/* "volume", "ceph", ... of a usage type ("none" for NONE). */
const char *vrt_secret_usage_to_string(VrtSecretUsage usage);
