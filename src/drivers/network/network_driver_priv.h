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
} VrtNetworkObj;

struct _VrtNetworkDriver {
    GMutex lock;
    char *config_dir;
    char *autostart_dir;
    char *state_dir;
    VrtDirSync *dir_sync; /* shared directory fsyncs of definition writes */
    VrtNetworkPfVfsFunc pf_vfs;
    gpointer pf_vfs_data;
    VrtNetworkVfBusyFunc vf_busy;
    gpointer vf_busy_data;
    GHashTable *nets; /* name -> VrtNetworkObj* */
    guint defs_gen; /* bumped by each define, undefine and autostart change (reload) */
};

/* The definition that names the object: live when running, else config. */
const VrtNetworkDef *vrt_network_obj_def(const VrtNetworkObj *obj);

VrtNetworkObj *vrt_network_find_name_locked(VrtNetworkDriver *drv, const char *name, GError **error);
VrtNetworkObj *vrt_network_find_uuid_locked(VrtNetworkDriver *drv, const guchar uuid[16], GError **error);

/* <state_dir>/NAME/ports and the file of one port in it. */
char *vrt_network_ports_dir(VrtNetworkDriver *drv, const char *net_name);
char *vrt_network_port_path(VrtNetworkDriver *drv, const char *net_name, const guchar port_uuid[16]);

/* Loads the port files of a running network; conflicting or broken files
 * are logged and skipped. */
void vrt_network_load_ports_locked(VrtNetworkDriver *drv, VrtNetworkObj *obj);

/* Live definition with connection counts filled from the ports. */
VrtNetworkDef *vrt_network_live_with_counts_locked(VrtNetworkObj *obj);
