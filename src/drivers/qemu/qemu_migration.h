/*
 * Live migration of a domain between two vrtd hosts, libvirt's protocol
 * version 3 with parameters as a client drives it ("managed direct"): the
 * source's begin (cookie and XML), the destination's prepare (QEMU started
 * with -incoming defer, listening on a port of the migration range), the
 * source's perform (QMP migrate, watched with query-migrate until done),
 * the destination's finish (resume, or kill on cancel) and the source's
 * confirm (stop and clean up, or resume after a failure). The cookie is
 * libvirt's <qemu-migration> document (qemu_migration_cookie.c). Also the
 * migration job's statistics and abort, and the tunables (max downtime,
 * bandwidth) set on QEMU with migrate-set-parameters.
 */
#pragma once

#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_driver_stats.h"

#include <glib.h>
#include <stdbool.h>

/* virDomainMigrateFlags (libvirt's values). */
#define VRT_MIGRATE_LIVE (1u << 0)
#define VRT_MIGRATE_PEER2PEER (1u << 1)
#define VRT_MIGRATE_TUNNELLED (1u << 2)
#define VRT_MIGRATE_PERSIST_DEST (1u << 3)
#define VRT_MIGRATE_UNDEFINE_SOURCE (1u << 4)
#define VRT_MIGRATE_PAUSED (1u << 5)
#define VRT_MIGRATE_CHANGE_PROTECTION (1u << 8)
#define VRT_MIGRATE_UNSAFE (1u << 9)
#define VRT_MIGRATE_OFFLINE (1u << 10)
#define VRT_MIGRATE_ABORT_ON_ERROR (1u << 12)
#define VRT_MIGRATE_COMPRESSED (1u << 11)
#define VRT_MIGRATE_AUTO_CONVERGE (1u << 13)
#define VRT_MIGRATE_POSTCOPY (1u << 15)
#define VRT_MIGRATE_TLS (1u << 16)
#define VRT_MIGRATE_PARALLEL (1u << 17)
#define VRT_MIGRATE_POSTCOPY_RESUME (1u << 19)
/* What vrt carries out; libvirt's other flags are refused as unsupported.
 * PEER2PEER is the daemon's (remote_migrate.c), which strips it; TUNNELLED
 * reaches the driver as a tunnel descriptor. */
#define VRT_MIGRATE_SUPPORTED                                                                                \
    (VRT_MIGRATE_LIVE | VRT_MIGRATE_PERSIST_DEST | VRT_MIGRATE_UNDEFINE_SOURCE | VRT_MIGRATE_PAUSED |        \
     VRT_MIGRATE_CHANGE_PROTECTION | VRT_MIGRATE_UNSAFE | VRT_MIGRATE_OFFLINE | VRT_MIGRATE_ABORT_ON_ERROR | \
     VRT_MIGRATE_AUTO_CONVERGE | VRT_MIGRATE_TUNNELLED | VRT_MIGRATE_COMPRESSED | VRT_MIGRATE_POSTCOPY |     \
     VRT_MIGRATE_TLS | VRT_MIGRATE_PARALLEL)

/* The migration parameters vrt reads (virTypedParameter list, already
 * decoded by the caller). */
typedef struct {
    const char *uri; /* "migrate_uri" */
    const char *dname; /* "destination_name" */
    const char *dxml; /* "destination_xml" */
    const char *persist_xml; /* "persistent_xml" */
    const char *listen_address; /* "listen_address" */
    guint64 bandwidth; /* "bandwidth", MiB/s; 0: unchanged */
    const char *compression; /* "compression": xbzrle, mt, zlib or zstd; NULL: xbzrle */
    int parallel_connections; /* "parallel.connections"; 0: QEMU's default */
    /* Perform of a tunnelled migration: QEMU sends its state into this
     * descriptor (a copy is passed with getfd), -1: to uri over TCP. */
    int tunnel_fd;
    /* Perform of a client-managed migration: set (atomically, by the
     * daemon) when the client that called it goes away; the transfer is
     * then cancelled and the source resumed. NULL: none to watch. */
    gint *client_lost;
    /* Perform of a peer-to-peer migration: the destination's URI, recorded
     * with the phase so that a restart can ask it where the guest runs.
     * NULL: a client-managed one. */
    const char *peer_uri;
    /* Perform of a client-managed migration: the destination's prepare
     * cookie, as the client passes it on (NULL: none), whose <daemon-uri>
     * is recorded instead when the destination named one. */
    const char *peer_cookie;
    gsize peer_cookie_len;
    /* Prepare: where this destination's own daemon is reached
     * (qemu+tls://HOST:PORT/system), put into the cookie it returns; NULL
     * when it does not listen on TLS. */
    const char *daemon_uri;
} VrtMigrateParams;

/* ---- the cookie (qemu_migration_cookie.c) ---- */
/* One device of the hostdev plan: an interface of type network whose
 * network is a hostdev pool (<forward mode='hostdev'>), or a fixed VF, the
 * transient half of a teaming pair: an <interface type='hostdev'> or a
 * plain <hostdev type='pci'> with its own <teaming>. The source unplugs it
 * before the transfer; the destination claims a VF from the network of the
 * same name (a fixed VF: the VF of the same address) at prepare and plugs
 * it, an interface with this MAC and VLAN, at finish. */
typedef struct {
    char *alias; /* the source's alias (hostdev0) */
    char *network; /* NULL for a fixed VF */
    /* a fixed VF (vf=): its PCI address and managed= */
    bool fixed;
    VrtPciAddr vf;
    bool managed;
    /* a fixed VF that is a plain <hostdev> (the cookie's <hostdev>): no
     * MAC or VLAN of its own, found by its PCI address */
    bool hostdev;
    guint8 mac[6];
    guint vlan_tags[8];
    guint n_vlan_tags;
    bool vlan_trunk;
    /* <teaming type='transient' persistent=>: the alias of its virtio
     * partner, NULL when it is no failover pair's */
    char *teaming_persistent;
    /* the VF it had at the source (source-vf=), for the source's own
     * re-plug after a restart */
    VrtPciAddr source_vf;
    bool source_vf_set;
} VrtMigrationHostdev;
void vrt_migration_hostdev_free(VrtMigrationHostdev *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtMigrationHostdev, vrt_migration_hostdev_free)

typedef struct {
    char *name;
    guchar uuid[16];
    char *hostname;
    guchar hostuuid[16];
    char *persistent_xml; /* <persistent><domain>..</domain></persistent>: NULL when absent */
    /* <statistics> (perform's, for the destination's completed job): the
     * source's figures as libvirt's typed parameters (VrtTypedParam*,
     * unsigned long long, named as libvirt names its elements there);
     * NULL when absent. */
    GPtrArray *stats;
    /* <hostdev-plan> (vrt's own element; libvirt has none): the
     * VrtMigrationHostdev* the migration re-plugs; NULL when absent. */
    GPtrArray *hostdevs;
    /* <daemon-uri> (vrt's own): a destination's prepare names the URI of
     * its daemon, which its source asks where the guest runs when it
     * cannot tell (its restart, or a finish that failed after the
     * transfer); NULL when absent. */
    char *daemon_uri;
} VrtMigrationCookie;
void vrt_migration_cookie_free(VrtMigrationCookie *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtMigrationCookie, vrt_migration_cookie_free)
/* libvirt's <qemu-migration> text for c. */
char *vrt_migration_cookie_format(const VrtMigrationCookie *c);
/* Parses a peer's cookie and refuses one from this very host (its hostuuid
 * is local_uuid): libvirt's VIR_ERR_INTERNAL_ERROR "Attempt to migrate guest
 * to the same host UUID". */
VrtMigrationCookie *vrt_migration_cookie_parse(const char *xml, gsize len, const guchar *local_uuid, GError **error);

/* ---- the phases (qemu_migration.c) ---- */
/* The host UUID migrations compare: the configured host_uuid, else the
 * machine's SMBIOS UUID from the host seam, else the one the driver made at
 * random when it was created. */
void vrt_qemu_migration_host_uuid(VrtQemuDriver *drv, guchar uuid[16]);

/* The driver's table of migration jobs ("DRV:UUID" -> the job's state),
 * made with the driver (VrtQemuDriver.mig_jobs) and freed with it. */
GHashTable *vrt_qemu_migration_jobs_new(void);
/* The driver is going: the prepares' watchdogs stop (waited for; one
 * stopping its domain finishes that first). */
void vrt_qemu_migration_jobs_close(VrtQemuDriver *drv);

/* Source: the domain's XML to send and the cookie. */
char *vrt_qemu_migrate_begin(VrtQemuDriver *drv, const guchar *uuid, const VrtMigrateParams *p, guint flags,
                             char **cookie_out, GError **error);
/* Destination: starts the incoming QEMU (not with OFFLINE) and returns the
 * URI the source sends to, its cookie and the domain's uuid (until finish,
 * vrt_qemu_migrate_incoming_abandoned drops the domain when its client goes
 * away). */
bool vrt_qemu_migrate_prepare(VrtQemuDriver *drv, const VrtMigrateParams *p, const char *cookie_in, gsize cookie_len,
                              guint flags, char **cookie_out, char **uri_out, guchar uuid[16], GError **error);
/* Destination of a tunnelled migration: as prepare, but QEMU reads its
 * incoming state from a socket whose other end is returned in *fd (the
 * caller's: the RPC stream writes into it). */
bool vrt_qemu_migrate_prepare_tunnel(VrtQemuDriver *drv, const VrtMigrateParams *p, const char *cookie_in,
                                     gsize cookie_len, guint flags, char **cookie_out, int *fd, guchar uuid[16],
                                     GError **error);
/* A destination whose client went away between prepare and finish (the
 * domain named by the prepare's cookie, uuid): its incoming QEMU is
 * killed, as libvirt's close callback does. Nothing when it already
 * finished. */
void vrt_qemu_migrate_incoming_abandoned(VrtQemuDriver *drv, const guchar *uuid);
/* Source: migrates QEMU's state to p->uri and waits until it is sent;
 * records the destination's daemon (p->peer_uri, else the <daemon-uri>
 * of p->peer_cookie) with its performed phase. */
bool vrt_qemu_migrate_perform(VrtQemuDriver *drv, const guchar *uuid, const VrtMigrateParams *p, guint flags,
                              char **cookie_out, GError **error);
/* Destination: resumes the domain (defines it with PERSIST_DEST), or with
 * cancelled ends the incoming QEMU; the domain, or NULL with the reason. */
VrtDomainRef *vrt_qemu_migrate_finish(VrtQemuDriver *drv, const VrtMigrateParams *p, const char *cookie_in,
                                      gsize cookie_len, guint flags, bool cancelled, char **cookie_out, GError **error);
/* Source: after a migration that went through, stops the source's QEMU
 * (and undefines with UNDEFINE_SOURCE); after one that failed, resumes it.
 * A cancelled one after a completed transfer whose destination's daemon
 * is known asks it first (vrt_qemu_migrate_settle): true once the guest
 * runs at one host only, false while it cannot tell (paused here). */
bool vrt_qemu_migrate_confirm(VrtQemuDriver *drv, const guchar *uuid, guint flags, bool cancelled, GError **error);
/* Source whose transfer completed but whose finish gave no answer it can
 * trust (a peer-to-peer one's finish call, a client's cancelled confirm):
 * asks the destination's daemon at dconnuri where the guest runs. It runs
 * there: the source is ended as migrated (confirm); it does not: the
 * source resumes; the destination cannot be asked: the source stays
 * paused, its phase kept, and a worker of the driver's asks again
 * (qemu_migration_settle.c). Returns 1, 0 or -1 for these. */
int vrt_qemu_migrate_settle(VrtQemuDriver *drv, const guchar *uuid, const char *dconnuri, guint flags);

/* Driver load, after the domains reconnected: the migrations this daemon
 * was in when it ended. An incoming QEMU not finished is stopped; a
 * source whose transfer had not completed is cancelled and resumed; one
 * whose transfer completed is settled with its destination's daemon when
 * it recorded one (peer-to-peer, or named in the destination's cookie; on
 * a worker of the driver's, qemu_migration_settle.c, once vrtd listens;
 * paused under a migration job until then), else stays paused (its
 * destination may run it), as libvirt leaves it. */
void vrt_qemu_migration_recover(VrtQemuDriver *drv);

/* migrate-postcopy: the running outgoing migration of the domain, started
 * with POSTCOPY, switches to post-copy (libvirt's errors otherwise). */
bool vrt_qemu_migrate_start_post_copy(VrtQemuDriver *drv, const guchar *uuid, GError **error);

/* The tunables of a running domain, on QEMU (migrate-set-parameters). */
bool vrt_qemu_migrate_set_max_downtime(VrtQemuDriver *drv, const guchar *uuid, guint64 ms, GError **error);
bool vrt_qemu_migrate_get_max_downtime(VrtQemuDriver *drv, const guchar *uuid, guint64 *ms, GError **error);
/* The bandwidth (MiB/s) of the migration, or with postcopy of its post-copy
 * phase (max-postcopy-bandwidth, VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY). */
bool vrt_qemu_migrate_set_max_speed(VrtQemuDriver *drv, const guchar *uuid, guint64 mib_s, bool postcopy,
                                    GError **error);
bool vrt_qemu_migrate_get_max_speed(VrtQemuDriver *drv, const guchar *uuid, bool postcopy, guint64 *mib_s,
                                    GError **error);

/* The job statistics of a migration running on the domain (type
 * VIR_DOMAIN_JOB_UNBOUNDED) or, with VIR_DOMAIN_JOB_STATS_COMPLETED (1), of
 * the last one completed (kept with KEEP_COMPLETED (2), else discarded):
 * false when there is none, and the caller answers as before. */
bool vrt_qemu_migration_job_stats(VrtQemuDriver *drv, const guchar *uuid, guint flags, int *type, GPtrArray **params);
/* domjobabort of a running migration (migrate_cancel): *handled false when
 * no migration runs on the domain; on a destination waiting for its
 * incoming state, libvirt's refusal (destroy it instead). */
bool vrt_qemu_migration_abort(VrtQemuDriver *drv, const guchar *uuid, bool *handled, GError **error);
