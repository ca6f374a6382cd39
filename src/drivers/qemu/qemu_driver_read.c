/*
 * The QEMU driver's reads of domains: info, state, XML, flags, autostart
 * and the lists. They work on the domain tables and objects in memory
 * alone (no QMP, no domain job), under the driver and object mutexes,
 * which are never held across QMP or host I/O, so vrtd may answer them on
 * its I/O thread (protocol/remote_procs.tsv's priority column).
 */
#include "drivers/qemu/qemu_domain.h"
#include "util/error.h"
#include "util/fileutil.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

bool
vrt_qemu_domain_get_info(VrtQemuDriver *drv, const guchar *uuid, VrtDomainInfo *info, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    pid_t pid;

    if (!obj)
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        info->state = obj->state;
        info->max_mem_kib = obj->def->memory_kib;
        info->memory_kib = obj->def->current_memory_kib ? obj->def->current_memory_kib : obj->def->memory_kib;
        info->nr_virt_cpu = obj->def->current_vcpus ? obj->def->current_vcpus : obj->def->vcpus;
        pid = obj->pid;
    }
    info->cpu_time_ns = 0;
    if (pid > 0) {
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);

        info->cpu_time_ns = vrt_qemu_proc_cpu_time(path, NULL);
    }
    return true;
}

bool
vrt_qemu_domain_get_state(VrtQemuDriver *drv, const guchar *uuid, int *state, int *reason, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);

    if (!obj)
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        *state = obj->state;
        if (reason)
            *reason = obj->reason;
    }
    return true;
}

char *
vrt_qemu_domain_get_xml(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    const VrtDomainDef *def;
    guint fmt = 0;
    char *xml;

    if (!obj)
        return NULL;
    if (flags & VRT_DOMAIN_XML_FLAG_SECURE)
        fmt |= VRT_DOMAIN_XML_SECURE;
    /* Definitions change only under the object lock: formatted in place. */
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if ((flags & VRT_DOMAIN_XML_FLAG_INACTIVE) && obj->newdef) {
            def = obj->newdef;
            fmt |= VRT_DOMAIN_XML_INACTIVE;
        } else {
            def = obj->def;
            if ((flags & VRT_DOMAIN_XML_FLAG_INACTIVE) || !vrt_qemu_dom_is_active_locked(obj))
                fmt |= VRT_DOMAIN_XML_INACTIVE;
        }
        xml = vrt_domain_def_format(def, fmt, error);
    }
    return xml;
}

char *
vrt_qemu_domain_get_os_type(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    char *type;

    if (!obj)
        return NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        type = g_strdup(obj->def->os.type ? obj->def->os.type : "hvm");
    }
    return type;
}

guint64
vrt_qemu_domain_get_max_memory(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    guint64 kib;

    if (!obj)
        return 0;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        kib = obj->def->memory_kib;
    }
    return kib;
}

enum {
    FLAG_ACTIVE,
    FLAG_PERSISTENT,
    FLAG_UPDATED,
    FLAG_AUTOSTART
};

static int
get_flag(VrtQemuDriver *drv, const guchar *uuid, int which, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    int v = -1;

    if (!obj)
        return -1;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        switch (which) {
        case FLAG_ACTIVE: v = vrt_qemu_dom_is_active_locked(obj); break;
        case FLAG_PERSISTENT: v = obj->persistent; break;
        case FLAG_UPDATED: v = obj->updated; break;
        case FLAG_AUTOSTART: v = obj->autostart; break;
        }
    }
    return v;
}

int
vrt_qemu_domain_is_active(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    return get_flag(drv, uuid, FLAG_ACTIVE, error);
}
int
vrt_qemu_domain_is_persistent(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    return get_flag(drv, uuid, FLAG_PERSISTENT, error);
}
int
vrt_qemu_domain_is_updated(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    return get_flag(drv, uuid, FLAG_UPDATED, error);
}
int
vrt_qemu_domain_get_autostart(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    return get_flag(drv, uuid, FLAG_AUTOSTART, error);
}

/* ---- lists ---- */

static bool
group_matches(guint flags, guint a_flag, guint b_flag, bool is_a)
{
    if (!(flags & (a_flag | b_flag)))
        return true;
    return is_a ? (flags & a_flag) : (flags & b_flag);
}

/* Whether obj passes libvirt's list filter (object lock held). */
static bool
list_filter_locked(VrtQemuDom *obj, guint flags)
{
    bool active = vrt_qemu_dom_is_active_locked(obj);
    guint states = flags & (VRT_CONNECT_LIST_DOMAINS_RUNNING | VRT_CONNECT_LIST_DOMAINS_PAUSED |
                            VRT_CONNECT_LIST_DOMAINS_SHUTOFF | VRT_CONNECT_LIST_DOMAINS_OTHER);

    if (!group_matches(flags, VRT_CONNECT_LIST_DOMAINS_ACTIVE, VRT_CONNECT_LIST_DOMAINS_INACTIVE, active))
        return false;
    if (!group_matches(flags, VRT_CONNECT_LIST_DOMAINS_PERSISTENT, VRT_CONNECT_LIST_DOMAINS_TRANSIENT, obj->persistent))
        return false;
    if (states) {
        guint mine = obj->state == VRT_DOMAIN_RUNNING   ? VRT_CONNECT_LIST_DOMAINS_RUNNING
                     : obj->state == VRT_DOMAIN_PAUSED  ? VRT_CONNECT_LIST_DOMAINS_PAUSED
                     : obj->state == VRT_DOMAIN_SHUTOFF ? VRT_CONNECT_LIST_DOMAINS_SHUTOFF
                                                        : VRT_CONNECT_LIST_DOMAINS_OTHER;
        if (!(states & mine))
            return false;
    }
    /* vrt keeps no checkpoints. */
    if (!group_matches(flags, VRT_CONNECT_LIST_DOMAINS_MANAGEDSAVE, VRT_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE,
                       obj->managed_save))
        return false;
    if (!group_matches(flags, VRT_CONNECT_LIST_DOMAINS_AUTOSTART, VRT_CONNECT_LIST_DOMAINS_NO_AUTOSTART,
                       obj->autostart))
        return false;
    if (!group_matches(flags, VRT_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT, VRT_CONNECT_LIST_DOMAINS_NO_SNAPSHOT,
                       obj->snapshots && obj->snapshots->len > 0))
        return false;
    if (!group_matches(flags, VRT_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT, VRT_CONNECT_LIST_DOMAINS_NO_CHECKPOINT, false))
        return false;
    return true;
}

void
vrt_qemu_domain_foreach(VrtQemuDriver *drv, guint flags, VrtDomainFunc fn, gpointer data)
{
    GHashTableIter it;
    gpointer value;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

        g_hash_table_iter_init(&it, drv->by_uuid);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            VrtQemuDom *obj = value;

            {
                g_autoptr(GMutexLocker) obj_locker = g_mutex_locker_new(&obj->lock);

                if (list_filter_locked(obj, flags))
                    fn(obj->def->name, obj->def->uuid, obj->def->id, data);
            }
        }
    }
}

static void
add_ref(const char *name, const guchar *uuid, int id, gpointer data)
{
    g_ptr_array_add(data, vrt_domain_ref_new(name, uuid, id));
}

GPtrArray *
vrt_qemu_domain_list_all(VrtQemuDriver *drv, guint flags, GError **error)
{
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_ref_free);

    vrt_qemu_domain_foreach(drv, flags, add_ref, list);
    return list;
}

int
vrt_qemu_domain_count(VrtQemuDriver *drv, bool active)
{
    g_autoptr(GPtrArray) list = vrt_qemu_domain_list_all(
        drv, active ? VRT_CONNECT_LIST_DOMAINS_ACTIVE : VRT_CONNECT_LIST_DOMAINS_INACTIVE, NULL);

    return (int)list->len;
}

static gint
int_cmp(gconstpointer a, gconstpointer b)
{
    return *(const int *)a - *(const int *)b;
}

GArray *
vrt_qemu_domain_list_ids(VrtQemuDriver *drv, int max)
{
    g_autoptr(GPtrArray) list = vrt_qemu_domain_list_all(drv, VRT_CONNECT_LIST_DOMAINS_ACTIVE, NULL);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(int));

    for (guint i = 0; i < list->len; i++)
        g_array_append_val(ids, ((VrtDomainRef *)g_ptr_array_index(list, i))->id);
    g_array_sort(ids, int_cmp);
    if (max >= 0 && ids->len > (guint)max)
        g_array_set_size(ids, max);
    return ids;
}

GPtrArray *
vrt_qemu_domain_list_defined_names(VrtQemuDriver *drv, int max)
{
    g_autoptr(GPtrArray) list = vrt_qemu_domain_list_all(drv, VRT_CONNECT_LIST_DOMAINS_INACTIVE, NULL);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < list->len && (max < 0 || names->len < (guint)max); i++)
        g_ptr_array_add(names, g_strdup(((VrtDomainRef *)g_ptr_array_index(list, i))->name));
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    return names;
}
