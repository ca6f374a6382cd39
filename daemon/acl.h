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
