/*
 * The secret driver: libvirt's secrets (passphrases, keys) that volumes,
 * disks and TLS refer to by UUID or usage. Definitions and values of
 * persistent secrets live in <root>/etc/vrt/secrets/UUID.xml and
 * UUID.base64 (mode 0600, written durably as every definition); ephemeral
 * ones only in memory. The QEMU driver resolves a disk's secret through
 * vrt_secret_drv_get_value_internal, which private secrets allow; clients
 * never get a private secret's value.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "conf/secret/secret_conf.h"

typedef struct _VrtSecretDriver VrtSecretDriver;

/* libvirt's virSecretEventLifecycleType and virConnectListAllSecretsFlags. */
#define VRT_SECRET_EVENT_DEFINED 0
#define VRT_SECRET_EVENT_UNDEFINED 1
#define VRT_SECRET_LIST_EPHEMERAL (1u << 0)
#define VRT_SECRET_LIST_NO_EPHEMERAL (1u << 1)
#define VRT_SECRET_LIST_PRIVATE (1u << 2)
#define VRT_SECRET_LIST_NO_PRIVATE (1u << 3)

/* What a client sees of a secret (remote_nonnull_secret). */
typedef struct {
    guint8 uuid[16];
    int usage_type;
    char *usage_id; /* "" when none */
} VrtSecretRef;

void vrt_secret_ref_free(VrtSecretRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtSecretRef, vrt_secret_ref_free)

/* Events: event is VRT_SECRET_EVENT_*; value_changed after a SetValue. */
typedef void (*VrtSecretLifecycleFunc)(const VrtSecretRef *ref, int event, gpointer data);
typedef void (*VrtSecretValueChangedFunc)(const VrtSecretRef *ref, gpointer data);

/* Loads the definitions under <root>/etc/vrt/secrets (root "" for /); a
 * file that does not parse is logged and skipped, as libvirt does. */
VrtSecretDriver *vrt_secret_driver_new(const char *root, GError **error);
void vrt_secret_driver_free(VrtSecretDriver *drv);
void vrt_secret_driver_set_events(VrtSecretDriver *drv, VrtSecretLifecycleFunc lifecycle,
                                  VrtSecretValueChangedFunc value_changed, gpointer data);

VrtSecretRef *vrt_secret_drv_define_xml(VrtSecretDriver *drv, const char *xml, guint flags, GError **error);
bool vrt_secret_drv_undefine(VrtSecretDriver *drv, const guint8 uuid[16], GError **error);
VrtSecretRef *vrt_secret_drv_lookup_by_uuid(VrtSecretDriver *drv, const guint8 uuid[16], GError **error);
VrtSecretRef *vrt_secret_drv_lookup_by_usage(VrtSecretDriver *drv, int usage_type, const char *usage_id,
                                             GError **error);
char *vrt_secret_drv_get_xml(VrtSecretDriver *drv, const guint8 uuid[16], GError **error);
bool vrt_secret_drv_set_value(VrtSecretDriver *drv, const guint8 uuid[16], const guint8 *value, gsize len,
                              GError **error);
/* A client's GetValue: a private secret is refused (VIR_ERR_INVALID_SECRET
 * "secret is private": libvirt refuses it to every client that is not the
 * daemon itself). */
GBytes *vrt_secret_drv_get_value(VrtSecretDriver *drv, const guint8 uuid[16], GError **error);
/* The daemon's own use (a disk's passphrase): private secrets too. */
GBytes *vrt_secret_drv_get_value_internal(VrtSecretDriver *drv, const guint8 uuid[16], GError **error);
/* The secrets matching flags (VRT_SECRET_LIST_*), VrtSecretRef*, sorted by UUID. */
GPtrArray *vrt_secret_drv_list(VrtSecretDriver *drv, guint flags);
