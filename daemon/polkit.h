/*
 * vrtd's polkit client (libpolkit-gobject-1's PolkitAuthority): the check
 * behind AUTH_POLKIT and access control (daemon/remote_polkit.c) and the
 * identity of the process it asks about.
 */
#pragma once

#include "rpc/server.h"

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* Asks polkitd whether the process (pid, its start time in clock ticks,
 * uid) may do action; details are (key, value) pairs ending in NULL. 1:
 * allowed; 0: refused (error is libvirt's auth error saying why); -1: polkitd
 * could not be asked (error says why). */
int vrt_polkit_check(const char *action, pid_t pid, guint64 start_time, uid_t uid, const char *const *details,
                     bool allow_interaction, GError **error);
/* The same question for n sets of details at once (all sent, then every
 * answer awaited, without interaction): allowed[i] for details[i]; a
 * question polkitd could not answer counts as refused. False when the
 * system bus cannot be reached. */
bool vrt_polkit_check_many(const char *action, pid_t pid, guint64 start_time, uid_t uid,
                           const char *const *const *details, guint n, gboolean *allowed, GError **error);
/* The polkit subject of a UNIX socket client: its pid, start time and uid. */
bool vrt_polkit_client_subject(VrtServerClient *client, pid_t *pid, guint64 *start_time, uid_t *uid, GError **error);
