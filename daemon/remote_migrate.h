/*
 * The migration's share of the generic job handlers (domjobinfo's
 * statistics and domjobabort), daemon/remote_migrate.c: each returns
 * false with *handled true when it answered (or failed) for a migration.
 * And the hook the daemon calls when a connection goes away, and the
 * question a peer-to-peer source asks its destination after a crash.
 */
#pragma once

#include "daemon/daemon.h"

/* DOMAIN_GET_JOB_STATS of a domain migrating out or with a completed
 * migration's statistics: *handled false when there is none. */
bool vrt_migrate_job_stats(VrtCall *call, remote_domain_get_job_stats_args *args, remote_domain_get_job_stats_ret *ret,
                           bool *handled, GError **error);
/* DOMAIN_GET_JOB_INFO (virDomainGetJobInfo) of a domain migrating out:
 * *handled false when none runs. */
bool vrt_migrate_job_info(VrtCall *call, const guchar *uuid, remote_domain_get_job_info_ret *ret, bool *handled,
                          GError **error);
/* DOMAIN_ABORT_JOB of a running migration: *handled false when none runs. */
bool vrt_migrate_abort_job(VrtCall *call, const guchar *uuid, bool *handled, GError **error);
/* A connection went away: the incoming migrations it prepared and did not
 * finish are stopped (on a thread of their own; called on the I/O thread). */
void vrt_migrate_conn_closed(VrtConn *conn);
/* The QEMU driver's migration_peer_state (data: the VrtDaemon): the state
 * of domain uuid at the daemon of dconnuri, asked over a connection of its
 * own with this daemon's client certificate. */
bool vrt_migrate_peer_state(const char *dconnuri, const guchar *uuid, gpointer data, int *state, int *reason,
                            GError **error);
