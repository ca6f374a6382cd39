/*
 * The hostdev job bound to a domain object: builds a VrtQemuHostdevCtx
 * from a VrtQemuDom (its lock, its status file, its monitor, the driver's
 * host seam, network driver, VF ownership registry and die-at fault hook) and runs the job for
 * hotplug, process start/stop and reconnect. It calls only downwards (the
 * job, the monitor, the domain object); hotplug and the process code call
 * it. Everything here runs with the domain's job held and the object lock
 * free.
 */
#include "drivers/qemu/qemu_hostdev_domain.h"
#include "util/error.h"
#include "util/fileutil.h"

#include <string.h>

/* Records of a domain being started live in <state_dir>/NAME + this until
 * QEMU runs (the status file needs a pid): a daemon that dies meanwhile
 * gives the VFs back at its next load. */
#define START_JOURNAL_SUFFIX ".hostdev-start"

typedef struct {
    VrtQemuDom *obj;
    VrtQemuMonitor *mon; /* NULL when QEMU is gone */
} DomCtx;

/* QEMU commands need a monitor; without one QEMU is gone. */
static bool
dom_ctx_running(DomCtx *g, GError **error)
{
    if (g->mon)
        return true;
    vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
    return false;
}

static bool
dom_ctx_device_add(gpointer data, JsonObject *props, GError **error)
{
    DomCtx *g = data;

    if (!dom_ctx_running(g, error))
        return false;
    return vrt_qemu_monitor_device_add(g->mon, props, error);
}

static bool
dom_ctx_device_del(gpointer data, const char *alias, GError **error)
{
    DomCtx *g = data;

    if (!dom_ctx_running(g, error))
        return false;
    return vrt_qemu_monitor_device_del(g->mon, alias, error);
}

static bool
dom_ctx_netdev_del(gpointer data, const char *id, GError **error)
{
    DomCtx *g = data;

    if (!dom_ctx_running(g, error))
        return false;
    return vrt_qemu_monitor_netdev_del(g->mon, id, error);
}

/* The one wait for a guest to release a device. DEVICE_DELETED is noted
 * in unplug_done by the monitor's event thread;
 * taking it out here means the queued event finds nothing left to do. */
static bool
dom_ctx_wait_deleted(gpointer data, const char *alias, guint timeout_ms)
{
    DomCtx *g = data;
    VrtQemuDom *obj = g->obj;
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    bool done;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        while (!(done = g_hash_table_contains(obj->unplug_done, alias)) && g->mon &&
               !vrt_qemu_monitor_is_closed(g->mon)) {
            if (!g_cond_wait_until(&obj->cond, &obj->lock, deadline))
                break;
        }
        done = g_hash_table_remove(obj->unplug_done, alias);
    }
    return done;
}

static GPtrArray *
dom_ctx_list_ids(gpointer data, GError **error)
{
    DomCtx *g = data;

    if (!g->mon) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    return vrt_qemu_monitor_list_device_ids(g->mon, error);
}

static const VrtQemuHostdevMonitorOps dom_ctx_mon_ops = {
    .device_add = dom_ctx_device_add,
    .device_del = dom_ctx_device_del,
    .netdev_del = dom_ctx_netdev_del,
    .wait_deleted = dom_ctx_wait_deleted,
    .list_ids = dom_ctx_list_ids,
};

/* The status writer of a running domain. Object lock held. */
static bool
dom_ctx_save_locked(gpointer data, GError **error)
{
    DomCtx *g = data;

    return vrt_qemu_dom_save_status_locked(g->obj, error);
}

static char *
start_journal_path(VrtQemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, START_JOURNAL_SUFFIX, NULL);

    return g_build_filename(drv->state_dir, file, NULL);
}

/* The status writer while a domain starts: only the records. Object lock held. */
static bool
dom_ctx_save_start_locked(gpointer data, GError **error)
{
    DomCtx *g = data;
    g_autofree char *path = start_journal_path(g->obj->drv, g->obj->def->name);
    g_autofree char *records = vrt_qemu_hostdev_state_format(g->obj->hostdevs);

    /* Run state, like the status file: atomic, not flushed. */
    return vrt_file_write_atomic(path, records, -1, 0600, error);
}

/* The engine's lock callbacks (VrtQemuHostdevCtx.lock/unlock): the object
 * lock taken and released in two calls, so no scoped guard here; the
 * engine pairs them in its guard (CtxLocker, qemu_hostdev_priv.h). */
static void
dom_ctx_lock(gpointer data)
{
    g_mutex_lock(&((DomCtx *)data)->obj->lock);
}

static void
dom_ctx_unlock(gpointer data)
{
    g_mutex_unlock(&((DomCtx *)data)->obj->lock);
}

static bool
dom_ctx_vfio_grant(gpointer data, const VrtPciAddr *addr, GError **error)
{
    return vrt_qemu_vfio_grant(((DomCtx *)data)->obj, addr, error);
}

static void
dom_ctx_vfio_revoke(gpointer data, const VrtPciAddr *addr)
{
    vrt_qemu_vfio_revoke(((DomCtx *)data)->obj, addr);
}

/* Fills ctx for obj; g->mon holds a monitor reference (release with
 * dom_ctx_done). def NULL means the object's live definition. */
static void
dom_ctx_init(DomCtx *g, VrtQemuHostdevCtx *ctx, VrtQemuDom *obj, VrtDomainDef *def, bool with_status)
{
    VrtQemuDriver *drv = obj->drv;

    g->obj = obj;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        g->mon = obj->mon ? vrt_qemu_monitor_ref(obj->mon) : NULL;
        *ctx = (VrtQemuHostdevCtx){
            .host = drv->cfg.host,
            .network = drv->cfg.network,
            .mon = &dom_ctx_mon_ops,
            .mon_data = g,
            .save_status = with_status ? dom_ctx_save_locked : NULL,
            .lock = dom_ctx_lock,
            .unlock = dom_ctx_unlock,
            .data = g,
            .fault = vrt_qemu_hostdev_fault_die_at,
            .fault_data = drv->hostdev_die_at,
            .unplug_wait_ms = drv->cfg.unplug_wait_ms,
            .vfs = drv->cfg.vfs,
            .def = def ? def : obj->def,
            .state = obj->hostdevs,
            .vfio_grant = dom_ctx_vfio_grant,
            .vfio_revoke = dom_ctx_vfio_revoke,
        };
    }
}

static void
dom_ctx_done(DomCtx *g)
{
    g_clear_pointer(&g->mon, vrt_qemu_monitor_unref);
}

bool
vrt_qemu_hostdev_dom_wants(VrtQemuDom *obj, const VrtDomainDeviceDef *dev)
{
    DomCtx g;
    VrtQemuHostdevCtx ctx;
    bool wants;

    dom_ctx_init(&g, &ctx, obj, NULL, false);
    wants = vrt_qemu_hostdev_wants_device(&ctx, dev);
    dom_ctx_done(&g);
    return wants;
}

bool
vrt_qemu_hostdev_dom_attach(VrtQemuDom *obj, VrtDomainDeviceDef *dev, GError **error)
{
    DomCtx g;
    VrtQemuHostdevCtx ctx;
    bool ok;

    dom_ctx_init(&g, &ctx, obj, NULL, true);
    ok = vrt_qemu_hostdev_attach(&ctx, dev, error);
    dom_ctx_done(&g);
    return ok;
}

bool
vrt_qemu_hostdev_dom_detach(VrtQemuDom *obj, const char *xml, const char *alias, bool *handled, char **removed,
                            GError **error)
{
    DomCtx g;
    VrtQemuHostdevCtx ctx;
    g_autofree char *found = NULL;
    GError *err = NULL;
    bool ok;

    dom_ctx_init(&g, &ctx, obj, NULL, true);
    found = vrt_qemu_hostdev_find(&ctx, xml, alias, &err);
    *handled = found || err;
    if (!found) {
        dom_ctx_done(&g);
        if (err)
            g_propagate_error(error, err);
        return false;
    }
    ok = vrt_qemu_hostdev_detach(&ctx, found, error);
    if (ok && !vrt_qemu_hostdev_owns(&ctx, found))
        *removed = g_steal_pointer(&found);
    dom_ctx_done(&g);
    return ok;
}

bool
vrt_qemu_hostdev_dom_unplug(VrtQemuDom *obj, const char *alias, char **removed, GError **error)
{
    DomCtx g;
    VrtQemuHostdevCtx ctx;
    bool ok;

    dom_ctx_init(&g, &ctx, obj, NULL, true);
    ok = vrt_qemu_hostdev_detach_emulated(&ctx, alias, error);
    if (ok && !vrt_qemu_hostdev_owns(&ctx, alias))
        *removed = g_strdup(alias);
    dom_ctx_done(&g);
    return ok;
}

bool
vrt_qemu_hostdev_dom_device_deleted(VrtQemuDom *obj, const char *alias)
{
    DomCtx g;
    VrtQemuHostdevCtx ctx;
    g_autoptr(GError) err = NULL;
    bool owned;

    dom_ctx_init(&g, &ctx, obj, NULL, true);
    owned = vrt_qemu_hostdev_owns(&ctx, alias);
    if (owned && !vrt_qemu_hostdev_device_deleted(&ctx, alias, &err))
        g_warning("domain %s: removal of %s left unfinished (retried at the next start of vrtd): %s", obj->def->name,
                  alias, err->message);
    dom_ctx_done(&g);
    return owned;
}

struct _VrtQemuHostdevStart {
    VrtQemuDom *obj;
};

VrtQemuHostdevStart *
vrt_qemu_hostdev_dom_prepare_start(VrtQemuDom *obj, VrtDomainDef *def, GError **error)
{
    DomCtx g;
    VrtQemuHostdevCtx ctx;
    VrtQemuHostdevStart *hs;
    bool ok;

    dom_ctx_init(&g, &ctx, obj, def, false);
    ctx.save_status = dom_ctx_save_start_locked;
    ok = vrt_qemu_hostdev_prepare_start(&ctx, error);
    dom_ctx_done(&g);
    if (!ok)
        return NULL;
    hs = g_new0(VrtQemuHostdevStart, 1);
    hs->obj = vrt_qemu_dom_ref(obj);
    return hs;
}

void
vrt_qemu_hostdev_start_commit(VrtQemuHostdevStart *hs)
{
    if (!hs)
        return;
    vrt_qemu_dom_unref(hs->obj);
    g_free(hs);
}

void
vrt_qemu_hostdev_start_free(VrtQemuHostdevStart *hs)
{
    if (!hs)
        return;
    vrt_qemu_hostdev_dom_release(hs->obj);
    vrt_qemu_hostdev_start_commit(hs);
}

void
vrt_qemu_hostdev_dom_release(VrtQemuDom *obj)
{
    DomCtx g;
    VrtQemuHostdevCtx ctx;
    g_autofree char *journal = NULL;

    dom_ctx_init(&g, &ctx, obj, NULL, false);
    if (ctx.state && ctx.state->records->len > 0)
        vrt_qemu_hostdev_release_all(&ctx);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        journal = start_journal_path(obj->drv, obj->def->name);
    }
    vrt_file_remove(journal, NULL);
    dom_ctx_done(&g);
}

/* One start journal left by a daemon that died while starting a domain. */
static void
load_start_journal(VrtQemuDriver *drv, const char *path, const char *name)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    g_autoptr(VrtQemuHostdevState) st = NULL;
    VrtQemuDom *obj;
    bool active = false;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

        obj = g_hash_table_lookup(drv->by_name, name);
        if (obj) {
            {
                g_autoptr(GMutexLocker) obj_locker = g_mutex_locker_new(&obj->lock);

                active = vrt_qemu_dom_is_active_locked(obj);
            }
        }
    }
    /* A running domain's records are in its status file already. */
    if (!active && vrt_file_read(path, &text, NULL, &err) && (st = vrt_qemu_hostdev_state_parse(text, &err))) {
        VrtQemuHostdevCtx ctx = {
            .host = drv->cfg.host,
            .network = drv->cfg.network,
            .vfs = drv->cfg.vfs,
            .state = st,
        };

        g_info("domain %s: a start was interrupted; giving back %u host devices", name, st->records->len);
        vrt_qemu_hostdev_release_all(&ctx);
    }
    if (err)
        g_warning("%s: %s", path, err->message);
    vrt_file_remove(path, NULL);
}

void
vrt_qemu_hostdev_driver_load(VrtQemuDriver *drv)
{
    g_autoptr(GDir) dir = g_dir_open(drv->state_dir, 0, NULL);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *path = NULL;
        g_autofree char *name = NULL;

        if (!g_str_has_suffix(entry, START_JOURNAL_SUFFIX))
            continue;
        name = g_strndup(entry, strlen(entry) - strlen(START_JOURNAL_SUFFIX));
        path = g_build_filename(drv->state_dir, entry, NULL);
        load_start_journal(drv, path, name);
    }
}

void
vrt_qemu_hostdev_dom_emit_removed(VrtQemuDom *obj, const char *alias)
{
    g_autoptr(VrtDomainRef) ref = NULL;

    if (!obj->drv->cfg.device_removed)
        return;
    ref = vrt_qemu_dom_make_ref(obj);
    obj->drv->cfg.device_removed(ref, alias, obj->drv->cfg.data);
}

void
vrt_qemu_hostdev_dom_recover(VrtQemuDom *obj)
{
    DomCtx g;
    VrtQemuHostdevCtx ctx;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) detaching = g_ptr_array_new_with_free_func(g_free);

    dom_ctx_init(&g, &ctx, obj, NULL, true);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        for (guint i = 0; i < obj->hostdevs->records->len; i++) {
            VrtQemuHostdevRecord *rec = g_ptr_array_index(obj->hostdevs->records, i);

            if (rec->job == VRT_QEMU_HOSTDEV_JOB_DETACH)
                g_ptr_array_add(detaching, g_strdup(rec->alias));
        }
    }
    if (!vrt_qemu_hostdev_recover(&ctx, &err))
        g_warning("domain %s: host device recovery: %s", obj->def->name, err ? err->message : "failed");
    /* A detach the previous daemon left pending that is complete now is
     * announced as any removal. */
    for (guint i = 0; i < detaching->len; i++) {
        if (!vrt_qemu_hostdev_owns(&ctx, g_ptr_array_index(detaching, i)))
            vrt_qemu_hostdev_dom_emit_removed(obj, g_ptr_array_index(detaching, i));
    }
    dom_ctx_done(&g);
}

void
vrt_qemu_hostdev_dom_release_dead(VrtQemuDom *obj, VrtQemuStatus *st)
{
    DomCtx g;
    VrtQemuHostdevCtx ctx;

    if (!st->hostdevs || st->hostdevs->records->len == 0)
        return;
    dom_ctx_init(&g, &ctx, obj, st->def, false);
    ctx.state = st->hostdevs;
    ctx.lock = NULL;
    ctx.unlock = NULL;
    g_info("domain %s: QEMU is gone; giving back %u host devices", st->def->name, st->hostdevs->records->len);
    vrt_qemu_hostdev_release_all(&ctx);
    dom_ctx_done(&g);
}
