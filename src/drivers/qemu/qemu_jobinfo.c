/*
 * The completed job's statistics and the job-completed event (see
 * qemu_jobinfo.h). QEMU's query-migrate after a completed migration
 * still answers that migration's figures; they become libvirt's typed
 * parameters as its qemuDomainMigrationJobDataToParams makes them for a
 * save (no disk, compression or throttle figures), time_elapsed being
 * QEMU's total time of the migration. The last completed job of each
 * domain is kept by its UUID, as libvirt keeps it with the domain object.
 */
#include "drivers/qemu/qemu_jobinfo.h"
#include "drivers/qemu/qemu_events.h"
#include "util/error.h"

#include <string.h>

#define VRT_DOMAIN_JOB_COMPLETED 3

static void
add_ull(GPtrArray *params, const char *field, guint64 v)
{
    VrtTypedParam *p = g_new0(VrtTypedParam, 1);

    p->field = g_strdup(field);
    p->type = VRT_TYPED_PARAM_ULLONG;
    p->v.ul = v;
    g_ptr_array_add(params, p);
}

static guint64
ull_member(JsonObject *o, const char *name, bool *present)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    bool ok = n && JSON_NODE_HOLDS_VALUE(n) &&
              (json_node_get_value_type(n) == G_TYPE_INT64 || json_node_get_value_type(n) == G_TYPE_DOUBLE);

    if (present)
        *present = ok;
    if (!ok)
        return 0;
    if (json_node_get_value_type(n) == G_TYPE_DOUBLE)
        return (guint64)json_node_get_double(n);
    return (guint64)json_node_get_int(n);
}

/* libvirt's parameters of a completed migration job from query-migrate. */
static GPtrArray *
params_from_query(JsonObject *o, int operation)
{
    GPtrArray *params = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);
    JsonObject *ram = o && json_object_has_member(o, "ram") ? json_object_get_object_member(o, "ram") : NULL;
    VrtTypedParam *op = g_new0(VrtTypedParam, 1);
    guint64 total = ull_member(ram, "total", NULL);
    guint64 transferred = ull_member(ram, "transferred", NULL);
    guint64 remaining = ull_member(ram, "remaining", NULL);
    bool set = false;
    guint64 v;

    op->field = g_strdup("operation");
    op->type = VRT_TYPED_PARAM_INT;
    op->v.i = operation;
    g_ptr_array_add(params, op);
    add_ull(params, "time_elapsed", ull_member(o, "total-time", NULL));
    if ((v = ull_member(o, "downtime", &set)), set)
        add_ull(params, "downtime", v);
    if ((v = ull_member(o, "setup-time", &set)), set)
        add_ull(params, "setup_time", v);
    add_ull(params, "data_total", total);
    add_ull(params, "data_processed", transferred);
    add_ull(params, "data_remaining", remaining);
    add_ull(params, "memory_total", total);
    add_ull(params, "memory_processed", transferred);
    add_ull(params, "memory_remaining", remaining);
    /* QEMU's mbps is megabits (10^6) per second. */
    if ((v = ull_member(ram, "mbps", NULL) * (1000 * 1000 / 8)) > 0)
        add_ull(params, "memory_bps", v);
    if ((v = ull_member(ram, "duplicate", &set)), set) {
        add_ull(params, "memory_constant", v);
        add_ull(params, "memory_normal", ull_member(ram, "normal", NULL));
        add_ull(params, "memory_normal_bytes", ull_member(ram, "normal-bytes", NULL));
    }
    add_ull(params, "memory_dirty_rate", ull_member(ram, "dirty-pages-rate", NULL));
    add_ull(params, "memory_iteration", ull_member(ram, "dirty-sync-count", NULL));
    add_ull(params, "memory_postcopy_requests", ull_member(ram, "postcopy-requests", NULL));
    if ((v = ull_member(ram, "page-size", NULL)) > 0)
        add_ull(params, "memory_page_size", v);
    return params;
}

GPtrArray *
vrt_qemu_job_params_copy(GPtrArray *src)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);

    for (guint i = 0; i < src->len; i++) {
        const VrtTypedParam *p = g_ptr_array_index(src, i);
        VrtTypedParam *c = g_new0(VrtTypedParam, 1);

        *c = *p;
        c->field = g_strdup(p->field);
        if (p->type == VRT_TYPED_PARAM_STRING)
            c->v.s = g_strdup(p->v.s);
        g_ptr_array_add(out, c);
    }
    return out;
}

GPtrArray *
vrt_qemu_job_query_stats(VrtQemuMonitor *mon, int operation, GError **error)
{
    g_autoptr(JsonNode) node = vrt_qemu_monitor_command(mon, "query-migrate", NULL, 0, error);

    if (!node)
        return NULL;
    return params_from_query(JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL, operation);
}

void
vrt_qemu_job_completed(VrtQemuDom *obj, VrtQemuMonitor *mon, int operation)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) params = vrt_qemu_job_query_stats(mon, operation, &err);

    if (!params) {
        g_warning("Could not get stats for completed job: %s", err->message);
        return;
    }
    vrt_qemu_job_completed_params(obj, params);
}

void
vrt_qemu_job_completed_params(VrtQemuDom *obj, GPtrArray *params)
{
    g_autoptr(VrtDomainRef) ref = NULL;
    guchar *key;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        key = g_memdup2(obj->def->uuid, 16);
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->drv->completed_lock);

        g_hash_table_replace(obj->drv->completed, key, vrt_qemu_job_params_copy(params));
    }
    if (!obj->drv->cfg.domain_event)
        return;
    VrtQemuDomainEvent ev = { .id = VRT_EVENT_ID_JOB_COMPLETED, .params = params };
    ref = vrt_qemu_dom_make_ref(obj);
    obj->drv->cfg.domain_event(ref, &ev, obj->drv->cfg.data);
}

GPtrArray *
vrt_qemu_job_completed_stats(VrtQemuDriver *drv, const guchar *uuid, bool keep, int *type)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->completed_lock);
    GPtrArray *params = g_hash_table_lookup(drv->completed, uuid);
    GPtrArray *out;

    if (!params)
        return NULL;
    out = vrt_qemu_job_params_copy(params);
    if (!keep)
        g_hash_table_remove(drv->completed, uuid);
    *type = VRT_DOMAIN_JOB_COMPLETED;
    return out;
}
