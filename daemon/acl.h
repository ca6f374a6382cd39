/*
 * vrtd's access control (access_drivers = [ "polkit" ]): the check of every
 * call's permissions before it runs, and the filter of list calls
 * (daemon/remote_acl.c).
 */
#pragma once

#include "daemon/daemon.h"

#include <glib.h>
#include <stdbool.h>

/* access_drivers names polkit. */
bool vrt_acl_enabled(VrtDaemon *daemon);
/* The call's permissions (libvirt's @acl for info), each asked of polkitd;
 * false with libvirt's VIR_ERR_ACCESS_DENIED when one is refused, or the
 * lookup's error when the domain it names does not exist. */
bool vrt_acl_check_call(VrtCall *call, const VrtProcInfo *info, const void *args, GError **error);
/* A list's filter for n domains at once (names[i], uuids[i]): allowed[i]
 * says whether the caller has perm on each. */
bool vrt_acl_filter_domains(VrtCall *call, const char *object, const char *perm, guint n, const char *const *names,
                            const guchar (*uuids)[16], gboolean *allowed);

/* The attributes of the object a call names, as libvirt's polkit access
 * driver sends them (daemon/remote_acl_objects.c). */
typedef struct _VrtAclAttrs VrtAclAttrs;
/* For object (a check's, not domain or connect) of the call with args:
 * *attrs (freed with vrt_acl_attrs_free) even on failure; false with the
 * driver's error when the object named does not exist. */
bool vrt_acl_object_attrs(VrtCall *call, const VrtProcInfo *info, const char *object, const void *args,
                          VrtAclAttrs **attrs, GError **error);
/* The (key, value) pairs, NULL-terminated. */
const char *const *vrt_acl_attrs_kv(VrtAclAttrs *attrs);
void vrt_acl_attrs_free(VrtAclAttrs *attrs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtAclAttrs, vrt_acl_attrs_free)
/* Runs the call (vrt_daemon_dispatch); for a list or count call, the
 * reply then shows only the objects the caller may see (libvirt's
 * @aclfilter, OBJECT.getattr), before an old list is cut to its maxnames. */
bool vrt_acl_dispatch(VrtCall *call, const VrtProcInfo *info, void *args, void *ret, GError **error);
/* Whether conn may see the object of event message msg (of the daemon's
 * event_id family): its getattr, asked only with access control on. */
bool vrt_acl_event_allowed(VrtConn *conn, int event_id, const void *msg);
