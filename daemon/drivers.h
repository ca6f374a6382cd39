/*
 * Starting and stopping the drivers the daemon serves (QEMU domains, networks,
 * node devices) and wiring them to each other and to the event registry.
 */
#pragma once

#include "daemon/daemon.h"

bool vrt_daemon_drivers_init(VrtDaemon *daemon, GError **error);
void vrt_daemon_drivers_free(VrtDaemon *daemon);
/* SIGHUP: networks and storage pools, then domains (whose interfaces and
 * disks may name a network or a pool the reload adds), take their
 * definition files again. */
void vrt_daemon_drivers_reload(VrtDaemon *daemon);
