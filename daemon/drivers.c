/*
 * Driver wiring (see drivers.h).
 */
#include "daemon/drivers.h"

bool
vrt_daemon_drivers_init(VrtDaemon *daemon, GError **error)
{
    return true;
}

void
vrt_daemon_drivers_free(VrtDaemon *daemon)
{
}
