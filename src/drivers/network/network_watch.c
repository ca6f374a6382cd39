/*
 * The dnsmasq watcher: one thread per network driver that looks, every
 * VRT_NETWORK_WATCH_MS (default 1000; the environment may change it), for
 * running virtual networks whose dnsmasq is gone, and starts it again,
 * logging it. dnsmasq daemonizes and outlives vrtd, so after a restart it
 * is not vrtd's child and no SIGCHLD would say it died: the watcher reads
 * its pid file and /proc, as the start-up check does. The thread takes the
 * driver lock only through the driver's functions, never while holding
 * its own watch_lock, which guards nothing but the stop request.
 */
#include "drivers/network/network_driver_priv.h"
#include "drivers/network/network_virt.h"

#define WATCH_DEFAULT_MS 1000

static guint
watch_interval_ms(void)
{
    const char *env = g_getenv("VRT_NETWORK_WATCH_MS");
    guint64 ms = 0;
    if (env && g_ascii_string_to_unsigned(env, 10, 10, 3600 * 1000, &ms, NULL))
        return (guint)ms;
    return WATCH_DEFAULT_MS;
}

/* Waits interval ms or until told to stop; true when told to stop. */
static bool
watch_wait(VrtNetworkDriver *drv, guint interval)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->watch_lock);
    gint64 until = g_get_monotonic_time() + (gint64)interval * G_TIME_SPAN_MILLISECOND;
    while (!drv->watch_stop && g_cond_wait_until(&drv->watch_cond, &drv->watch_lock, until))
        ;
    return drv->watch_stop;
}

static gpointer
watch_thread(gpointer data)
{
    VrtNetworkDriver *drv = data;
    guint interval = watch_interval_ms();
    while (!watch_wait(drv, interval)) {
        g_autoptr(GPtrArray) dead = vrt_network_dead_dnsmasqs(drv);
        for (guint i = 0; i < dead->len; i++)
            vrt_network_dnsmasq_revive(drv, g_ptr_array_index(dead, i));
    }
    return NULL;
}

void
vrt_network_watch_start(VrtNetworkDriver *drv)
{
    if (drv->watch_thread)
        return;
    drv->watch_stop = false;
    drv->watch_thread = g_thread_new("vrt-net-watch", watch_thread, drv);
}

void
vrt_network_watch_stop(VrtNetworkDriver *drv)
{
    if (!drv->watch_thread)
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->watch_lock);
        drv->watch_stop = true;
        g_cond_broadcast(&drv->watch_cond);
    }
    g_thread_join(g_steal_pointer(&drv->watch_thread));
}
