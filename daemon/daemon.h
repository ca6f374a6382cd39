/*
 * The daemon's top object: configuration, paths, the RPC server, the drivers
 * and the registry of clients' event callbacks. Everything mutable that the
 * daemon has lives here; handlers reach it through their call's connection.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include "daemon/config.h"
#include "drivers/qemu/qemu_events.h"
#include "rpc/server.h"
/* Generated (gen_procs.py dispatch): the handlers' prototypes and vrt_daemon_dispatch. */
#include "remote_dispatch.h"

typedef struct _VrtDaemon VrtDaemon;
typedef struct _VrtConn VrtConn;

/* Highest libvirt domain event ID a client may register (9.0). */
#define VRT_DOMAIN_EVENT_ID_LAST 26
#define VRT_DOMAIN_EVENT_ID_LIFECYCLE 0
#define VRT_DOMAIN_EVENT_ID_DEVICE_REMOVED 15
#define VRT_DOMAIN_EVENT_ID_METADATA_CHANGE 23

struct _VrtDaemon {
    char *root; /* "" for the real root, else a directory */
    char *run_dir; /* <root>/run/vrt */
    char *etc_dir; /* <root>/etc/vrt */
    char *log_dir; /* <root>/var/log/vrt */
    char *host_root; /* where sysfs, /proc and /dev are read: "/" or a simulated host */
    char *emulator; /* default QEMU binary */
    VrtConfig cfg;
    GMainContext *ctx;
    GMainLoop *loop;
    GThreadPool *reloader; /* one thread: SIGHUP reloads, in order, off the I/O thread */
    VrtRpcServer *server;
    int pidfile_fd;
    char *pidfile;

    GMutex conns_lock;
    GPtrArray *conns; /* VrtConn*, under conns_lock */

    GMutex probe_lock; /* guards the lazily probed facts below */
    bool probed;
    guint64 hv_version; /* QEMU's version as major*1e6+minor*1e3+micro */
    char *capabilities; /* capabilities XML, built on first request */
    gpointer host_cpu; /* VrtCpuDef*: the host CPU from CPUID (remote_cpu.c), read on first use */

    gpointer qemu; /* VrtQemuDriver*, when built in */
    gpointer network; /* VrtNetworkDriver* */
    gpointer nodedev; /* VrtNodedevDriver* */
    gpointer storage; /* VrtStorageDriver*: storage pools and volumes */
    gpointer nwfilter; /* VrtNwfilterDriver* */
    GMutex nodedev_events_lock; /* serializes the watcher's start (remote_nodedev_events.c) */
    gpointer nodedev_events; /* the node device event watcher (remote_nodedev_events.c), NULL until used */
    gpointer secret; /* VrtSecretDriver* */
    gpointer host; /* VrtHost* */
    gpointer vfs; /* VrtVfRegistry*: who holds which PCI device, shared by the drivers */
    gpointer log; /* VrtLog*: its outputs and filters change at run time (daemon/remote_admin.c) */
    gpointer tls; /* VrtTlsContext* of the TLS socket, when vrtd listens on it (daemon/remote_auth.c) */
    struct _VrtMigrateConns *migrations; /* the connections' migrations (daemon/remote_migrate.c) */
    struct _VrtStreamHolds *stream_holds; /* the consoles and channels held by streams (remote_domain_stream.c) */
};

/* The incoming migrations each connection prepared and the client-managed
 * performs each runs (daemon/remote_migrate.c), made and freed with the
 * daemon. */
typedef struct _VrtMigrateConns VrtMigrateConns;
VrtMigrateConns *vrt_migrate_conns_new(void);
void vrt_migrate_conns_free(VrtMigrateConns *migs);

/* Which stream holds each domain's console or channel
 * (daemon/remote_domain_stream.c), made and freed with the daemon; freed
 * once the server's streams have ended. */
typedef struct _VrtStreamHolds VrtStreamHolds;
VrtStreamHolds *vrt_stream_holds_new(void);
void vrt_stream_holds_free(VrtStreamHolds *holds);

/* A client connection as the daemon sees it. */
struct _VrtConn {
    VrtDaemon *daemon;
    VrtServerClient *client; /* not a reference: the conn lives inside the client */
    GMutex lock;
    bool opened;
    bool readonly;
    char *uri;
    GArray *callbacks; /* VrtEventCallback */
    int next_callback_id;
    gpointer sasl; /* VrtSaslSession* while an AUTH_SASL exchange runs, under lock */
};

/* Remote access (daemon/remote_auth.c): opens the TLS and TCP sockets as
 * vrtd.conf says (with --listen, or as systemd passed them: names
 * containing "tls" or "tcp"), sets up Cyrus SASL when an auth_* key asks
 * for it. */
bool vrt_daemon_remote_init(VrtDaemon *daemon, bool listen, GError **error);
/* Whether systemd passed fd as the TLS or TCP socket (by its name); then
 * serves it so. */
bool vrt_daemon_remote_add_fd(VrtDaemon *daemon, int fd, const char *name, bool *taken, GError **error);
void vrt_daemon_remote_free(VrtDaemon *daemon);
void vrt_conn_auth_clear(VrtConn *conn);

/* The event_id of a QEMU program's monitor event callback (not a libvirt
 * domain event ID). */
#define VRT_EVENT_ID_QEMU_MONITOR (-1)
/* The event_id of a network lifecycle callback (VIR_NETWORK_EVENT_ID_LIFECYCLE,
 * kept apart from the domain event IDs); has_dom/uuid then name a network. */
#define VRT_EVENT_ID_NETWORK_LIFECYCLE (-2)
/* The event_ids of the other families' callbacks: libvirt's event ID of the
 * family plus the family's base, so no two families share a number (a
 * callback gets only its own family's messages); has_dom/uuid then name the
 * pool, node device or secret. */
#define VRT_EVENT_ID_STORAGE_POOL(id) (1000 + (id))
#define VRT_EVENT_ID_NODEDEV(id) (2000 + (id))
#define VRT_EVENT_ID_SECRET(id) (3000 + (id))
#define VRT_SECRET_EVENT_ID_LAST 1
/* virConnectDomainQemuMonitorEventRegister's flags. */
#define VRT_QEMU_MONITOR_EVENT_REGISTER_REGEX (1u << 0)
#define VRT_QEMU_MONITOR_EVENT_REGISTER_NOCASE (1u << 1)

typedef struct {
    int id;
    int event_id; /* a domain event ID, or VRT_EVENT_ID_QEMU_MONITOR */
    bool has_dom;
    guchar uuid[16];
    /* Monitor events only: the QMP event name wanted (NULL: all), matched
     * as written, ignoring case (NOCASE) or by regex (REGEX, then regex). */
    char *event;
    guint flags;
    GRegex *regex;
} VrtEventCallback;
/* Frees what a callback owns (the registry's GArray clear function). */
void vrt_event_callback_clear(gpointer data);

/* The wire's uuid (XDR opaque, char[16]) as the drivers take it. */
#define WIRE_UUID(u) ((const guchar *)(u))

/* Handlers' common endings: a driver's result (negative or NULL on error,
 * with *error already set) moved into the reply. */
static inline bool
vrt_ret_int(int v, remote_int_ret *ret)
{
    if (v < 0)
        return false;
    ret->value = v;
    return true;
}

static inline bool
vrt_ret_string(char *s, remote_string_ret *ret)
{
    if (!s)
        return false;
    ret->str = s;
    return true;
}

VrtConn *vrt_call_conn(VrtCall *call);
VrtDaemon *vrt_call_daemon(VrtCall *call);

/* Registers cb (its id set here) on conn; returns the id. */
int vrt_conn_add_callback(VrtConn *conn, VrtEventCallback *cb);
/* Removes callback id of conn if it is a QEMU monitor one (qemu) or a
 * remote program one (!qemu); false when conn has none such. */
bool vrt_conn_remove_callback(VrtConn *conn, int id, bool qemu);

/* A node device event callback for one device keeps its name in `event`. */
/* Stops the node device event watcher (at shutdown). */
void vrt_nodedev_events_stop(VrtDaemon *daemon);

/* Finds QEMU's version once (cheap afterwards). */
void vrt_daemon_probe(VrtDaemon *daemon);

/* Sends a domain event to every connection that registered for it. dom_name,
 * uuid and id identify the domain as the wire's remote_nonnull_domain. */
void vrt_daemon_emit_lifecycle(VrtDaemon *daemon, const char *dom_name, const guchar uuid[16], int id, int event,
                               int detail);
/* Sends one QMP event of a domain to every connection with a matching
 * QEMU monitor event callback (the QEMU program's DOMAIN_MONITOR_EVENT). */
void vrt_daemon_emit_monitor_event(VrtDaemon *daemon, const char *dom_name, const guchar uuid[16], int id,
                                   const char *event, gint64 seconds, guint micros, const char *details);
void vrt_daemon_emit_device_removed(VrtDaemon *daemon, const char *dom_name, const guchar uuid[16], int id,
                                    const char *alias);
/* Sends a storage pool's lifecycle event (event >= 0: libvirt's
 * virStoragePoolEventLifecycleType) or its refresh event (event -1) to
 * every connection that registered for it (daemon/remote_storage.c). */
void vrt_daemon_emit_storage_pool_event(VrtDaemon *daemon, const char *name, const guchar uuid[16], int event,
                                        int detail);
/* Sends msg (an event message of procedure proc, encoded with filter) to
 * every connection with a callback for event_id matching uuid; callback_id
 * points into msg and is set per registration. */
void vrt_daemon_emit_event(VrtDaemon *daemon, int event_id, const guchar uuid[16], int proc, xdrproc_t filter,
                           const void *msg, int *callback_id);
/* remote_domain_events.c: one of the QEMU driver's other domain events
 * (qemu_events.h) as libvirt's message of its event ID. */
void vrt_daemon_emit_domain_event(VrtDaemon *daemon, const char *dom_name, const guchar uuid[16], int id,
                                  const VrtQemuDomainEvent *ev);
void vrt_daemon_emit_metadata_change(VrtDaemon *daemon, const char *dom_name, const guchar uuid[16], int id, int type,
                                     const char *nsuri);
