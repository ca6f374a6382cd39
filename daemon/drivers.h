/*
 * Starting and stopping the drivers the daemon serves (QEMU domains, networks,
 * node devices) and wiring them to each other and to the event registry.
 */
#pragma once

#include "daemon/daemon.h"
#include "drivers/secret/secret_driver.h"

bool vrt_daemon_drivers_init(VrtDaemon *daemon, GError **error);
void vrt_daemon_drivers_free(VrtDaemon *daemon);
/* The secret driver's events to the connections' callbacks (remote_secret.c);
 * data is the daemon. */
void vrt_daemon_secret_lifecycle(const VrtSecretRef *ref, int event, gpointer data);
void vrt_daemon_secret_value_changed(const VrtSecretRef *ref, gpointer data);
/* SIGHUP: networks and storage pools, then domains (whose interfaces and
 * disks may name a network or a pool the reload adds), take their
 * definition files again. */
void vrt_daemon_drivers_reload(VrtDaemon *daemon);
