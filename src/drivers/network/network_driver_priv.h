/*
 * Internals shared by network_driver.c (network lifecycle, load) and
 * network_port.c (pools and ports). Not part of the driver's API.
 * Functions named *_locked need drv->lock held by the caller.
 */
#pragma once

#include "drivers/network/network_driver.h"
#include "util/fileutil.h"

typedef struct {
    VrtNetworkDef *def; /* persistent definition; NULL for a transient network */
    VrtNetworkDef *live; /* running definition (pool resolved); NULL when inactive */
    bool autostart;
    GHashTable *ports; /* port uuid string -> VrtNetworkPortDef*; empty when inactive */
    /* uuid strings of ports being added or removed outside the lock: taken
     * by no one else, and the network does not stop while any is here */
    GHashTable *pending;
    /* class id -> inbound floor (guint64*) of the ports in ports or being
     * added that have one: what the network's inbound bandwidth guarantees */
    GHashTable *floors;
} VrtNetworkObj;

struct _VrtNetworkDriver {
    GMutex lock;
    char *config_dir;
    char *autostart_dir;
    char *state_dir;
    VrtDirSync *dir_sync; /* shared directory fsyncs of definition writes */
    VrtHost *host; /* borrowed; NULL: no host facts */
    VrtVfRegistry *vfs; /* borrowed, or own_vfs */
    VrtVfRegistry *own_vfs;
    GHashTable *nets; /* name -> VrtNetworkObj* */
    /* names and uuid strings of networks an operation is changing (its I/O
     * runs without the lock); others wait on changed */
    GHashTable *busy;
    GCond changed;
    guint defs_gen; /* bumped by each define, undefine and autostart change (reload) */
    /* the dnsmasq watcher (network_watch.c): its own leaf lock, never held
     * while the driver lock is taken */
    GMutex watch_lock;
    GCond watch_cond;
    bool watch_stop;
    GThread *watch_thread;
};

/* network_watch.c: a thread that checks every running virtual network's
 * dnsmasq each VRT_NETWORK_WATCH_MS and starts one that died again.
 * dnsmasq is not vrtd's child (it daemonizes, and outlives a restart), so
 * no SIGCHLD tells: its pid file and /proc are read. */
void vrt_network_watch_start(VrtNetworkDriver *drv);
void vrt_network_watch_stop(VrtNetworkDriver *drv);
/* Names of the running virtual networks whose dnsmasq is not running. */
GPtrArray *vrt_network_dead_dnsmasqs(VrtNetworkDriver *drv);
/* Starts the dnsmasq of network name again if it is still running and its
 * dnsmasq is still gone (checked while holding the network). */
void vrt_network_dnsmasq_revive(VrtNetworkDriver *drv, const char *name);

/* The definition that names the object: live when running, else config. */
const VrtNetworkDef *vrt_network_obj_def(const VrtNetworkObj *obj);

VrtNetworkObj *vrt_network_find_name_locked(VrtNetworkDriver *drv, const char *name, GError **error);
VrtNetworkObj *vrt_network_find_uuid_locked(VrtNetworkDriver *drv, const guchar uuid[16], GError **error);

/* The registry holder of a port's VF. */
VrtVfHolder *vrt_network_port_holder(const char *net_name, const VrtNetworkPortDef *port);

/* <state_dir>/NAME/ports and the file of one port in it. */
char *vrt_network_ports_dir(VrtNetworkDriver *drv, const char *net_name);
char *vrt_network_port_path(VrtNetworkDriver *drv, const char *net_name, const guchar port_uuid[16]);

/* Loads the port files of a running network and claims their VFs in the
 * registry; conflicting or broken files are logged and skipped. */
void vrt_network_load_ports_locked(VrtNetworkDriver *drv, VrtNetworkObj *obj);

/* Live definition with connection counts filled from the ports. */
VrtNetworkDef *vrt_network_live_with_counts_locked(VrtNetworkObj *obj);
