/*
 * Driver wiring (see drivers.h): the host seam and the VF ownership registry
 * first, handed to every driver (their one way to host facts and to who
 * holds a device); then node devices, networks (whose load claims their
 * ports' VFs) and QEMU domains (whose reconnect claims the devices they
 * hold by address), whose events go to the daemon's event registry.
 */
#include "daemon/drivers.h"
#include "daemon/remote_migrate.h"
#include "drivers/network/network_driver.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/storage/storage_driver.h"
#include "host/host.h"
#include "drivers/nodedev/nodedev.h"
#include "drivers/nwfilter/nwfilter.h"
#include "drivers/secret/secret_driver.h"
#include "drivers/vf_registry.h"
#include "util/error.h"
#include "util/uuid.h"

/* A LUKS disk's passphrase for the QEMU driver: the secret driver's value,
 * private secrets too (the daemon's own use). */
static GBytes *
secret_lookup(const char *uuid, gpointer data, GError **error)
{
    guint8 raw[16];

    if (!vrt_uuid_parse(uuid, raw)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "malformed secret uuid '%s'", uuid);
        return NULL;
    }
    return vrt_secret_drv_get_value_internal(data, raw, error);
}

/* A network disk's <auth> secret named by usage: its value, as above. */
static GBytes *
secret_lookup_usage(int usage_type, const char *usage, gpointer data, GError **error)
{
    g_autoptr(VrtSecretRef) ref = vrt_secret_drv_lookup_by_usage(data, usage_type, usage, error);

    return ref ? vrt_secret_drv_get_value_internal(data, ref->uuid, error) : NULL;
}

static void
on_lifecycle(const VrtDomainRef *dom, int event, int detail, gpointer data)
{
    vrt_daemon_emit_lifecycle(data, dom->name, dom->uuid, dom->id, event, detail);
}

static void
on_device_removed(const VrtDomainRef *dom, const char *alias, gpointer data)
{
    vrt_daemon_emit_device_removed(data, dom->name, dom->uuid, dom->id, alias);
}

static void
on_monitor_event(const VrtDomainRef *dom, const char *event, gint64 seconds, guint micros, const char *details,
                 gpointer data)
{
    vrt_daemon_emit_monitor_event(data, dom->name, dom->uuid, dom->id, event, seconds, micros, details);
}

static void
on_metadata_change(const VrtDomainRef *dom, int type, const char *nsuri, gpointer data)
{
    vrt_daemon_emit_metadata_change(data, dom->name, dom->uuid, dom->id, type, nsuri);
}

static bool
volume_path(const char *pool, const char *vol, char **path, char **format, gpointer data, GError **error)
{
    return vrt_stordrv_volume_path(data, pool, vol, path, format, error);
}

static void
on_storage_pool_event(const char *name, const guint8 uuid[16], int event, int detail, gpointer data)
{
    vrt_daemon_emit_storage_pool_event(data, name, uuid, event, detail);
}

static void
on_domain_event(const VrtDomainRef *dom, const VrtQemuDomainEvent *ev, gpointer data)
{
    vrt_daemon_emit_domain_event(data, dom->name, dom->uuid, dom->id, ev);
}

bool
vrt_daemon_drivers_init(VrtDaemon *daemon, GError **error)
{
    daemon->host = vrt_host_new(daemon->host_root, error);
    if (!daemon->host)
        return false;
    daemon->vfs = vrt_vf_registry_new();
    daemon->nodedev = vrt_nodedev_driver_new(daemon->host, daemon->vfs, error);
    if (!daemon->nodedev)
        return false;

    daemon->secret = vrt_secret_driver_new(daemon->root, error);
    if (!daemon->secret)
        return false;
    vrt_secret_driver_set_events(daemon->secret, vrt_daemon_secret_lifecycle, vrt_daemon_secret_value_changed, daemon);

    daemon->network = vrt_network_driver_new(daemon->root, daemon->host, daemon->vfs, error);
    if (!daemon->network)
        return false;
    if (!vrt_network_driver_load(daemon->network, error))
        return false;

    /* Storage before QEMU: a domain's <disk type='volume'> is resolved
     * through it when the domain starts. */
    daemon->storage = vrt_storage_driver_new(daemon->root, NULL, on_storage_pool_event, daemon, error);
    if (!daemon->storage || !vrt_storage_driver_load(daemon->storage, error))
        return false;

    daemon->nwfilter = vrt_nwfilter_driver_new(daemon->root, error);
    if (!daemon->nwfilter)
        return false;

    VrtQemuDriverConfig cfg = {
        .root = daemon->root,
        .emulator = daemon->emulator,
        .lifecycle_event = on_lifecycle,
        .device_removed = on_device_removed,
        .monitor_event = on_monitor_event,
        .metadata_change = on_metadata_change,
        .domain_event = on_domain_event,
        .data = daemon,
        .host = daemon->host,
        .secret_lookup = secret_lookup,
        .secret_lookup_usage = secret_lookup_usage,
        .secret_data = daemon->secret,
        .network = daemon->network, /* hostdev job: VFs and pools */
        .vfs = daemon->vfs,
        .config_sync_ms = daemon->cfg.config_sync_ms,
        .volume_path = volume_path,
        .volume_data = daemon->storage,
        .cgroup_root = daemon->cfg.cgroup_root,
        .host_uuid = daemon->cfg.host_uuid,
        .migration_host = daemon->cfg.migration_host,
        .migration_address = daemon->cfg.migration_address,
        .migration_port_min = daemon->cfg.migration_port_min,
        .migration_port_max = daemon->cfg.migration_port_max,
        .migration_prepare_timeout = daemon->cfg.migration_prepare_timeout,
        .migrate_tls_x509_cert_dir = daemon->cfg.migrate_tls_x509_cert_dir,
        .migration_peer_state = vrt_migrate_peer_state,
    };
    daemon->qemu = vrt_qemu_driver_new(&cfg, error);
    if (!daemon->qemu || !vrt_qemu_driver_load(daemon->qemu, error))
        return false;
    return true;
}

void
vrt_daemon_drivers_reload(VrtDaemon *daemon)
{
    g_message("reloading domain and network definitions");
    vrt_network_driver_reload(daemon->network);
    vrt_storage_driver_reload(daemon->storage);
    vrt_qemu_driver_reload(daemon->qemu);
}

void
vrt_daemon_drivers_free(VrtDaemon *daemon)
{
    g_clear_pointer((VrtQemuDriver **)&daemon->qemu, vrt_qemu_driver_free);
    g_clear_pointer((VrtStorageDriver **)&daemon->storage, vrt_storage_driver_free);
    g_clear_pointer((VrtNetworkDriver **)&daemon->network, vrt_network_driver_free);
    vrt_nodedev_events_stop(daemon);
    g_clear_pointer((VrtNodedevDriver **)&daemon->nodedev, vrt_nodedev_driver_free);
    g_clear_pointer((VrtNwfilterDriver **)&daemon->nwfilter, vrt_nwfilter_driver_free);
    g_clear_pointer((VrtSecretDriver **)&daemon->secret, vrt_secret_driver_free);
    g_clear_pointer((VrtVfRegistry **)&daemon->vfs, vrt_vf_registry_free);
    g_clear_pointer((VrtHost **)&daemon->host, vrt_host_free);
}
