/*
 * The QEMU driver's statistics (qemu_driver_stats.h): libvirt's bulk
 * domain stats groups and the per-device counters of virsh domblkstat,
 * domifstat, domblkinfo, dommemstat and cpu-stats. A domain's facts are
 * copied under its object lock first; QMP queries, /proc reads and file
 * stats then run with no lock held and no domain job, as libvirt's
 * query jobs do not block each other either.
 */
#include "drivers/qemu/qemu_driver_stats.h"
#include "drivers/qemu/qemu_domain.h"
#include "host/hostinfo.h"
#include "util/error.h"
#include "util/mac.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libvirt's virDomainMemoryStatTags. */
enum {
    MEMORY_STAT_SWAP_IN = 0,
    MEMORY_STAT_SWAP_OUT = 1,
    MEMORY_STAT_MAJOR_FAULT = 2,
    MEMORY_STAT_MINOR_FAULT = 3,
    MEMORY_STAT_UNUSED = 4,
    MEMORY_STAT_AVAILABLE = 5,
    MEMORY_STAT_ACTUAL_BALLOON = 6,
    MEMORY_STAT_RSS = 7,
    MEMORY_STAT_USABLE = 8,
    MEMORY_STAT_LAST_UPDATE = 9,
    MEMORY_STAT_DISK_CACHES = 10,
    MEMORY_STAT_HUGETLB_PGALLOC = 11,
    MEMORY_STAT_HUGETLB_PGFAIL = 12,
};

void
vrt_typed_param_free(VrtTypedParam *p)
{
    if (!p)
        return;
    g_free(p->field);
    if (p->type == VRT_TYPED_PARAM_STRING)
        g_free(p->v.s);
    g_free(p);
}

const char *
vrt_typed_param_type_name(int type)
{
    static const char *const names[] = { "unknown", "int", "uint", "llong", "ullong", "double", "boolean", "string" };

    return type > 0 && type < (int)G_N_ELEMENTS(names) ? names[type] : names[0];
}

static int
param_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp((*(VrtTypedParam *const *)a)->field, (*(VrtTypedParam *const *)b)->field);
}

bool
vrt_typed_params_validate(GPtrArray *params, const char *const *names, const int *types, guint n, GError **error)
{
    /* borrowed pointers (a copy would free them: it keeps the free function) */
    g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new(params->len);
    const char *last = NULL;

    for (guint i = 0; i < params->len; i++)
        g_ptr_array_add(sorted, g_ptr_array_index(params, i));
    g_ptr_array_sort(sorted, param_cmp);
    for (guint i = 0; i < sorted->len; i++) {
        const VrtTypedParam *p = g_ptr_array_index(sorted, i);
        guint k = 0;

        while (k < n && !g_str_equal(names[k], p->field))
            k++;
        if (k == n) {
            vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "parameter '%s' not supported", p->field);
            return false;
        }
        if (last && g_str_equal(last, p->field)) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "parameter '%s' occurs multiple times", p->field);
            return false;
        }
        if (p->type != types[k]) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid type '%s' for parameter '%s', expected '%s'",
                          vrt_typed_param_type_name(p->type), p->field, vrt_typed_param_type_name(types[k]));
            return false;
        }
        last = p->field;
    }
    return true;
}

void
vrt_domain_stats_record_free(VrtDomainStatsRecord *rec)
{
    if (!rec)
        return;
    vrt_domain_ref_free(rec->ref);
    g_ptr_array_unref(rec->params);
    g_free(rec);
}

static VrtTypedParam *param_new(GPtrArray *params, int type, const char *fmt, va_list ap) G_GNUC_PRINTF(3, 0);

static VrtTypedParam *
param_new(GPtrArray *params, int type, const char *fmt, va_list ap)
{
    VrtTypedParam *p = g_new0(VrtTypedParam, 1);

    p->field = g_strdup_vprintf(fmt, ap);
    p->type = type;
    g_ptr_array_add(params, p);
    return p;
}

static void G_GNUC_PRINTF(3, 4) add_int(GPtrArray *params, gint v, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    param_new(params, VRT_TYPED_PARAM_INT, fmt, ap)->v.i = v;
    va_end(ap);
}

static void G_GNUC_PRINTF(3, 4) add_uint(GPtrArray *params, guint v, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    param_new(params, VRT_TYPED_PARAM_UINT, fmt, ap)->v.ui = v;
    va_end(ap);
}

static void G_GNUC_PRINTF(3, 4) add_llong(GPtrArray *params, gint64 v, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    param_new(params, VRT_TYPED_PARAM_LLONG, fmt, ap)->v.l = v;
    va_end(ap);
}

static void G_GNUC_PRINTF(3, 4) add_ullong(GPtrArray *params, guint64 v, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    param_new(params, VRT_TYPED_PARAM_ULLONG, fmt, ap)->v.ul = v;
    va_end(ap);
}

static void G_GNUC_PRINTF(3, 4) add_string(GPtrArray *params, const char *v, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    param_new(params, VRT_TYPED_PARAM_STRING, fmt, ap)->v.s = g_strdup(v);
    va_end(ap);
}

static GPtrArray *
params_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);
}

/* ---- a domain's facts, copied under its lock ---- */

typedef struct {
    char *dst; /* target dev */
    char *src; /* NULL: empty */
    char *alias;
    VrtDomainDiskFormat format;
    VrtDomainDiskType type;
} DiskSnap;

typedef struct {
    char *ifname;
    char *alias;
    guint8 mac[6];
    VrtDomainNetType type;
} NetSnap;

typedef struct {
    VrtDomainRef *ref;
    int state, reason;
    bool active;
    pid_t pid;
    VrtQemuMonitor *mon;
    guint vcpus, max_vcpus;
    guint64 mem_kib, cur_kib;
    bool balloon;
    char *balloon_alias; /* the virtio balloon's device id */
    GArray *disks; /* DiskSnap */
    GArray *nets; /* NetSnap */
} Snap;

static void
disk_snap_clear(gpointer p)
{
    DiskSnap *d = p;

    g_free(d->dst);
    g_free(d->src);
    g_free(d->alias);
}

static void
net_snap_clear(gpointer p)
{
    NetSnap *n = p;

    g_free(n->ifname);
    g_free(n->alias);
}

static void
snap_free(Snap *s)
{
    if (!s)
        return;
    vrt_domain_ref_free(s->ref);
    g_free(s->balloon_alias);
    if (s->mon)
        vrt_qemu_monitor_unref(s->mon);
    g_array_unref(s->disks);
    g_array_unref(s->nets);
    g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Snap, snap_free)

static Snap *
snap_take(VrtQemuDom *obj)
{
    Snap *s = g_new0(Snap, 1);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    const VrtDomainDef *def = obj->def;

    s->ref = vrt_qemu_dom_make_ref_locked(obj);
    s->state = obj->state;
    s->reason = obj->reason;
    s->active = vrt_qemu_dom_is_active_locked(obj);
    s->pid = obj->pid;
    s->mon = obj->mon ? vrt_qemu_monitor_ref(obj->mon) : NULL;
    s->max_vcpus = def->vcpus;
    s->vcpus = def->current_vcpus ? def->current_vcpus : def->vcpus;
    s->mem_kib = def->memory_kib;
    s->cur_kib = def->current_memory_kib ? def->current_memory_kib : def->memory_kib;
    s->balloon = def->memballoon && g_strcmp0(def->memballoon->model, "none") != 0;
    if (s->balloon)
        s->balloon_alias = g_strdup(def->memballoon->info.alias ? def->memballoon->info.alias : "balloon0");
    s->disks = g_array_new(FALSE, TRUE, sizeof(DiskSnap));
    g_array_set_clear_func(s->disks, disk_snap_clear);
    for (guint i = 0; i < def->disks->len; i++) {
        const VrtDomainDiskDef *d = g_ptr_array_index(def->disks, i);
        DiskSnap ds = {
            .dst = g_strdup(d->target_dev),
            .src = g_strdup(d->src),
            .alias = g_strdup(d->info.alias),
            .format = d->format,
            .type = d->type,
        };

        g_array_append_val(s->disks, ds);
    }
    s->nets = g_array_new(FALSE, TRUE, sizeof(NetSnap));
    g_array_set_clear_func(s->nets, net_snap_clear);
    for (guint i = 0; i < def->nets->len; i++) {
        const VrtDomainNetDef *n = g_ptr_array_index(def->nets, i);
        NetSnap ns = {
            .ifname = g_strdup(n->ifname),
            .alias = g_strdup(n->info.alias),
            .type = vrt_domain_net_get_actual_type(n),
        };

        memcpy(ns.mac, n->mac, 6);
        g_array_append_val(s->nets, ns);
    }
    return s;
}

static Snap *
snap_find(VrtQemuDriver *drv, const guchar *uuid, bool want_active, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(Snap) s = NULL;

    if (!obj)
        return NULL;
    s = snap_take(obj);
    if (want_active && (!s->active || !s->mon)) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    return g_steal_pointer(&s);
}

/* ---- QEMU's block counters, by device alias ---- */

typedef struct {
    guint64 rd_req, rd_bytes, rd_ns, wr_req, wr_bytes, wr_ns, fl_req, fl_ns;
    guint64 wr_highest;
    bool wr_highest_valid;
    guint64 capacity, physical;
} BlockEntry;

/* The device id in a qdev path: "/machine/peripheral/virtio-disk0/virtio-backend"
 * or "virtio-disk0". */
static char *
qdev_alias(const char *qdev)
{
    const char *p = qdev, *slash;

    if (g_str_has_prefix(p, "/machine/peripheral/"))
        p += strlen("/machine/peripheral/");
    slash = strchr(p, '/');
    return slash ? g_strndup(p, slash - p) : g_strdup(p);
}

static guint64
u64_member(JsonObject *o, const char *name)
{
    gint64 v = o ? json_object_get_int_member_with_default(o, name, 0) : 0;

    return v < 0 ? 0 : (guint64)v;
}

/* alias -> BlockEntry* from query-blockstats and query-block. */
static GHashTable *
block_entries(VrtQemuMonitor *mon, GError **error)
{
    g_autoptr(GHashTable) map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(JsonNode) stats = vrt_qemu_monitor_command(mon, "query-blockstats", NULL, 0, error);
    g_autoptr(JsonNode) block = NULL;
    JsonArray *arr;

    if (!stats)
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(stats)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "query-blockstats reply was not an array");
        return NULL;
    }
    arr = json_node_get_array(stats);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        const char *qdev = o ? json_object_get_string_member_with_default(o, "qdev", NULL) : NULL;
        JsonObject *st = o && json_object_has_member(o, "stats") ? json_object_get_object_member(o, "stats") : NULL;
        BlockEntry *e;

        if (!qdev || !*qdev || !st)
            continue;
        e = g_new0(BlockEntry, 1);
        e->rd_req = u64_member(st, "rd_operations");
        e->rd_bytes = u64_member(st, "rd_bytes");
        e->rd_ns = u64_member(st, "rd_total_time_ns");
        e->wr_req = u64_member(st, "wr_operations");
        e->wr_bytes = u64_member(st, "wr_bytes");
        e->wr_ns = u64_member(st, "wr_total_time_ns");
        e->fl_req = u64_member(st, "flush_operations");
        e->fl_ns = u64_member(st, "flush_total_time_ns");
        e->wr_highest = u64_member(st, "wr_highest_offset");
        e->wr_highest_valid = json_object_has_member(st, "wr_highest_offset");
        g_hash_table_replace(map, qdev_alias(qdev), e);
    }
    /* Sizes: virtual (capacity) and allocated on the host (physical). */
    block = vrt_qemu_monitor_command(mon, "query-block", NULL, 0, NULL);
    if (block && JSON_NODE_HOLDS_ARRAY(block)) {
        arr = json_node_get_array(block);
        for (guint i = 0; i < json_array_get_length(arr); i++) {
            JsonObject *o = json_array_get_object_element(arr, i);
            const char *qdev = o ? json_object_get_string_member_with_default(o, "qdev", NULL) : NULL;
            JsonObject *ins, *img;
            g_autofree char *alias = NULL;
            BlockEntry *e;

            if (!qdev || !json_object_has_member(o, "inserted"))
                continue;
            alias = qdev_alias(qdev);
            e = g_hash_table_lookup(map, alias);
            ins = json_object_get_object_member(o, "inserted");
            img = ins && json_object_has_member(ins, "image") ? json_object_get_object_member(ins, "image") : NULL;
            if (!e || !img)
                continue;
            e->capacity = u64_member(img, "virtual-size");
            e->physical = u64_member(img, "actual-size");
        }
    }
    return g_steal_pointer(&map);
}

/* Sizes of an image file of a domain not running, as libvirt reads them:
 * capacity (a qcow2 header's virtual size, else the file size), allocation
 * (blocks in use), physical (file size). */
static bool
file_sizes(const char *path, bool qcow2, guint64 *capacity, guint64 *allocation, guint64 *physical, GError **error)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot stat file '%s'", path);
        return false;
    }
    *physical = (guint64)st.st_size;
    *allocation = (guint64)st.st_blocks * 512;
    *capacity = (guint64)st.st_size;
    if (qcow2) {
        guint8 hdr[32];
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd >= 0) {
            if (pread(fd, hdr, sizeof hdr, 0) == (ssize_t)sizeof hdr && memcmp(hdr, "QFI\xfb", 4) == 0) {
                guint64 v = 0;

                for (int i = 24; i < 32; i++)
                    v = v << 8 | hdr[i];
                *capacity = v;
            }
            close(fd);
        }
    }
    return true;
}

/* The disk named by path: its target ("vda") or its source; -1 when none. */
static int
disk_index(const Snap *s, const char *path)
{
    for (guint i = 0; i < s->disks->len; i++) {
        const DiskSnap *d = &g_array_index(s->disks, DiskSnap, i);

        if (g_strcmp0(d->dst, path) == 0)
            return (int)i;
    }
    for (guint i = 0; i < s->disks->len; i++) {
        const DiskSnap *d = &g_array_index(s->disks, DiskSnap, i);

        if (d->src && g_strcmp0(d->src, path) == 0)
            return (int)i;
    }
    return -1;
}

/* ---- bulk statistics groups ---- */

static void
stats_state(const Snap *s, GPtrArray *params)
{
    add_int(params, s->state, "state.state");
    add_int(params, s->reason, "state.reason");
}

static void
stats_cpu(const Snap *s, GPtrArray *params)
{
    g_autofree char *path = NULL;
    guint64 user = 0, sys = 0, rss = 0;

    /* A domain not running has used no CPU: zeros, as libvirt reports. */
    if (s->active && s->pid > 0) {
        path = g_strdup_printf("/proc/%d/stat", (int)s->pid);
        if (!vrt_qemu_proc_stat(path, &user, &sys, &rss))
            return;
    }
    add_ullong(params, user + sys, "cpu.time");
    add_ullong(params, user, "cpu.user");
    add_ullong(params, sys, "cpu.system");
    if (!s->active)
        return;
    /* vrt sets up no resctrl cache monitors: none to report, as libvirt
     * says for a domain without <cachetune><monitor>. */
    add_uint(params, 0, "cpu.cache.monitor.count");
}

/* The guest's own memory figures, which its balloon driver reports to
 * QEMU once a statistics period is set (qom-get guest-stats), in libvirt's
 * tags and units (KiB; counts as they are). None when the domain has no
 * balloon; a figure the guest does not report (QEMU's 2^64-1) is left out,
 * its last update (0 before any) is kept, as libvirt's are. */
static GArray *
guest_balloon_stats(const Snap *s)
{
    static const struct {
        const char *name;
        int tag;
        guint div;
    } fields[] = {
        { "stat-swap-in", MEMORY_STAT_SWAP_IN, 1024 },         { "stat-swap-out", MEMORY_STAT_SWAP_OUT, 1024 },
        { "stat-major-faults", MEMORY_STAT_MAJOR_FAULT, 1 },   { "stat-minor-faults", MEMORY_STAT_MINOR_FAULT, 1 },
        { "stat-free-memory", MEMORY_STAT_UNUSED, 1024 },      { "stat-total-memory", MEMORY_STAT_AVAILABLE, 1024 },
        { "stat-available-memory", MEMORY_STAT_USABLE, 1024 }, { "last-update", MEMORY_STAT_LAST_UPDATE, 1 },
        { "stat-disk-caches", MEMORY_STAT_DISK_CACHES, 1024 }, { "stat-htlb-pgalloc", MEMORY_STAT_HUGETLB_PGALLOC, 1 },
        { "stat-htlb-pgfail", MEMORY_STAT_HUGETLB_PGFAIL, 1 },
    };
    GArray *out = g_array_new(FALSE, TRUE, sizeof(VrtMemoryStat));
    g_autoptr(JsonObject) args = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autofree char *path = NULL;
    JsonObject *data, *stats;

    if (!s->balloon || !s->mon)
        return out;
    path = g_strdup_printf("/machine/peripheral/%s", s->balloon_alias);
    args = json_object_new();
    json_object_set_string_member(args, "path", path);
    json_object_set_string_member(args, "property", "guest-stats");
    ret = vrt_qemu_monitor_command(s->mon, "qom-get", args, 0, NULL);
    if (!ret || !JSON_NODE_HOLDS_OBJECT(ret))
        return out;
    data = json_node_get_object(ret);
    stats = json_object_has_member(data, "stats") ? json_object_get_object_member(data, "stats") : NULL;
    if (!stats)
        return out;
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        JsonObject *o = g_str_equal(fields[i].name, "last-update") ? data : stats;
        JsonNode *n = json_object_has_member(o, fields[i].name) ? json_object_get_member(o, fields[i].name) : NULL;
        gint64 v;
        VrtMemoryStat st;

        if (!n || !JSON_NODE_HOLDS_VALUE(n))
            continue;
        /* QEMU sends a figure not collected as 2^64-1, past what JSON-GLib
         * holds as an integer: a double that large, or a negative or
         * saturated integer. */
        if (json_node_get_value_type(n) == G_TYPE_DOUBLE) {
            double d = json_node_get_double(n);

            if (d < 0 || d >= 9.2e18)
                continue;
            v = (gint64)d;
        } else {
            v = json_node_get_int(n);
            if (v < 0 || v == G_MAXINT64)
                continue;
        }
        st = (VrtMemoryStat){ fields[i].tag, (guint64)v / fields[i].div };
        g_array_append_val(out, st);
    }
    return out;
}

static const char *
memory_stat_name(int tag)
{
    switch (tag) {
    case MEMORY_STAT_SWAP_IN: return "swap_in";
    case MEMORY_STAT_SWAP_OUT: return "swap_out";
    case MEMORY_STAT_MAJOR_FAULT: return "major_fault";
    case MEMORY_STAT_MINOR_FAULT: return "minor_fault";
    case MEMORY_STAT_UNUSED: return "unused";
    case MEMORY_STAT_AVAILABLE: return "available";
    case MEMORY_STAT_USABLE: return "usable";
    case MEMORY_STAT_LAST_UPDATE: return "last-update";
    case MEMORY_STAT_DISK_CACHES: return "disk_caches";
    case MEMORY_STAT_HUGETLB_PGALLOC: return "hugetlb_pgalloc";
    case MEMORY_STAT_HUGETLB_PGFAIL: return "hugetlb_pgfail";
    }
    return NULL;
}

static void
stats_balloon(const Snap *s, GPtrArray *params)
{
    add_ullong(params, s->balloon ? s->cur_kib : s->mem_kib, "balloon.current");
    add_ullong(params, s->mem_kib, "balloon.maximum");
    if (s->active) {
        g_autoptr(GArray) guest = guest_balloon_stats(s);

        for (guint i = 0; i < guest->len; i++) {
            const VrtMemoryStat *st = &g_array_index(guest, VrtMemoryStat, i);

            add_ullong(params, st->val, "balloon.%s", memory_stat_name(st->tag));
        }
    }
    if (s->active && s->pid > 0) {
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)s->pid);
        guint64 user, sys, rss;

        if (vrt_qemu_proc_stat(path, &user, &sys, &rss))
            add_ullong(params, rss, "balloon.rss");
    }
}

static void
stats_vcpu(const Snap *s, GPtrArray *params)
{
    g_autoptr(GArray) cpus = NULL;

    add_uint(params, s->vcpus, "vcpu.current");
    add_uint(params, s->max_vcpus, "vcpu.maximum");
    /* An inactive domain has no vCPU threads to describe: only the counts,
     * as libvirt. */
    if (!s->active || !s->mon)
        return;
    cpus = vrt_qemu_monitor_query_cpus(s->mon, NULL);
    if (!cpus)
        return;
    for (guint i = 0; i < cpus->len; i++) {
        VrtQemuCpuInfo *ci = &g_array_index(cpus, VrtQemuCpuInfo, i);
        g_autofree char *path = g_strdup_printf("/proc/%d/task/%" G_GINT64_FORMAT "/stat", (int)s->pid, ci->thread_id);

        /* VIR_VCPU_RUNNING (1); vrt keeps no scheduler wait or delay
         * figures, which libvirt reads from schedstat: 0 as libvirt
         * reports when the kernel has none. */
        add_int(params, 1, "vcpu.%d.state", ci->cpu_index);
        add_ullong(params, vrt_qemu_proc_cpu_time(path, NULL), "vcpu.%d.time", ci->cpu_index);
        add_ullong(params, 0, "vcpu.%d.wait", ci->cpu_index);
        add_ullong(params, 0, "vcpu.%d.delay", ci->cpu_index);
    }
}

/* A tap's counters as the guest sees them: the host's rx is its tx. */
static bool
tap_stats(VrtQemuDriver *drv, const char *ifname, gint64 out[8], GError **error)
{
    VrtHostNetDevStats st;

    if (!drv->cfg.host) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "interface statistics need the host seam");
        return false;
    }
    if (!vrt_host_net_dev_stats(drv->cfg.host, ifname, &st, error))
        return false;
    out[0] = (gint64)st.tx_bytes;
    out[1] = (gint64)st.tx_packets;
    out[2] = (gint64)st.tx_errs;
    out[3] = (gint64)st.tx_drop;
    out[4] = (gint64)st.rx_bytes;
    out[5] = (gint64)st.rx_packets;
    out[6] = (gint64)st.rx_errs;
    out[7] = (gint64)st.rx_drop;
    return true;
}

static void
stats_interface(VrtQemuDriver *drv, const Snap *s, GPtrArray *params)
{
    static const char *const names[8] = { "rx.bytes", "rx.pkts", "rx.errs", "rx.drop",
                                          "tx.bytes", "tx.pkts", "tx.errs", "tx.drop" };

    if (!s->active)
        return;
    add_uint(params, s->nets->len, "net.count");
    for (guint i = 0; i < s->nets->len; i++) {
        const NetSnap *n = &g_array_index(s->nets, NetSnap, i);
        gint64 v[8];

        /* Interfaces without a host device (user, hostdev) have a count
         * slot but no entry, as with libvirt. */
        if (!n->ifname || n->type == VRT_DOMAIN_NET_TYPE_HOSTDEV)
            continue;
        add_string(params, n->ifname, "net.%u.name", i);
        if (!tap_stats(drv, n->ifname, v, NULL))
            continue;
        for (int k = 0; k < 8; k++)
            if (v[k] >= 0)
                add_ullong(params, (guint64)v[k], "net.%u.%s", i, names[k]);
    }
}

static void
stats_block(const Snap *s, GPtrArray *params)
{
    /* No QMP round trips for a domain without disks. */
    g_autoptr(GHashTable) entries = s->active && s->mon && s->disks->len ? block_entries(s->mon, NULL) : NULL;

    add_uint(params, s->disks->len, "block.count");
    for (guint i = 0; i < s->disks->len; i++) {
        const DiskSnap *d = &g_array_index(s->disks, DiskSnap, i);
        BlockEntry *e;

        add_string(params, d->dst, "block.%u.name", i);
        if (!d->src)
            continue;
        add_string(params, d->src, "block.%u.path", i);
        if (!s->active) {
            guint64 cap, alloc, phys;

            if (file_sizes(d->src, d->format == VRT_DOMAIN_DISK_FORMAT_QCOW2, &cap, &alloc, &phys, NULL)) {
                add_ullong(params, alloc, "block.%u.allocation", i);
                add_ullong(params, cap, "block.%u.capacity", i);
                add_ullong(params, phys, "block.%u.physical", i);
            }
            continue;
        }
        if (!entries || !d->alias || !(e = g_hash_table_lookup(entries, d->alias)))
            continue;
        add_ullong(params, e->rd_req, "block.%u.rd.reqs", i);
        add_ullong(params, e->rd_bytes, "block.%u.rd.bytes", i);
        add_ullong(params, e->rd_ns, "block.%u.rd.times", i);
        add_ullong(params, e->wr_req, "block.%u.wr.reqs", i);
        add_ullong(params, e->wr_bytes, "block.%u.wr.bytes", i);
        add_ullong(params, e->wr_ns, "block.%u.wr.times", i);
        add_ullong(params, e->fl_req, "block.%u.fl.reqs", i);
        add_ullong(params, e->fl_ns, "block.%u.fl.times", i);
        add_ullong(params, e->wr_highest, "block.%u.allocation", i);
        if (e->capacity)
            add_ullong(params, e->capacity, "block.%u.capacity", i);
        if (e->physical) {
            add_ullong(params, e->physical, "block.%u.physical", i);
        } else {
            struct stat st;

            if (stat(d->src, &st) == 0)
                add_ullong(params, (guint64)st.st_size, "block.%u.physical", i);
        }
    }
}

/* iothread: QEMU's I/O threads (query-iothreads), none listed when the
 * domain has none, as libvirt. */
static void
stats_iothread(const Snap *s, GPtrArray *params)
{
    g_autoptr(JsonNode) ret = NULL;
    JsonArray *arr;

    if (!s->active || !s->mon)
        return;
    ret = vrt_qemu_monitor_command(s->mon, "query-iothreads", NULL, 0, NULL);
    if (!ret || !JSON_NODE_HOLDS_ARRAY(ret) || json_array_get_length(arr = json_node_get_array(ret)) == 0)
        return;
    add_uint(params, json_array_get_length(arr), "iothread.count");
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        const char *id = o ? json_object_get_string_member_with_default(o, "id", "") : "";
        guint n = 0;

        /* libvirt's iothread ids: the number in QEMU's "iothreadN". */
        if (!o || sscanf(id, "iothread%u", &n) != 1 || !json_object_has_member(o, "poll-max-ns"))
            continue;
        add_ullong(params, (guint64)json_object_get_int_member(o, "poll-max-ns"), "iothread.%u.poll-max-ns", n);
        add_uint(params, (guint)json_object_get_int_member_with_default(o, "poll-grow", 0), "iothread.%u.poll-grow", n);
        add_uint(params, (guint)json_object_get_int_member_with_default(o, "poll-shrink", 0), "iothread.%u.poll-shrink",
                 n);
    }
}

/* dirtyrate: the last calculation QEMU made (query-dirty-rate). */
static void
stats_dirtyrate(const Snap *s, GPtrArray *params)
{
    static const char *const statuses[] = { "unstarted", "measuring", "measured", NULL };
    g_autoptr(JsonNode) ret = NULL;
    JsonObject *o;
    const char *status, *mode;
    int st = 0;

    if (!s->active || !s->mon)
        return;
    ret = vrt_qemu_monitor_command(s->mon, "query-dirty-rate", NULL, 0, NULL);
    if (!ret || !JSON_NODE_HOLDS_OBJECT(ret))
        return;
    o = json_node_get_object(ret);
    status = json_object_get_string_member_with_default(o, "status", "unstarted");
    mode = json_object_get_string_member_with_default(o, "mode", "page-sampling");
    for (int i = 0; statuses[i]; i++)
        if (g_str_equal(status, statuses[i]))
            st = i;
    add_int(params, st, "dirtyrate.calc_status");
    add_llong(params, json_object_get_int_member_with_default(o, "start-time", 0), "dirtyrate.calc_start_time");
    add_int(params, (gint)json_object_get_int_member_with_default(o, "calc-time", 0), "dirtyrate.calc_period");
    add_string(params, mode, "dirtyrate.calc_mode");
    if (st != 2)
        return;
    add_llong(params, json_object_get_int_member_with_default(o, "dirty-rate", 0), "dirtyrate.megabytes_per_second");
    if (g_str_equal(mode, "dirty-ring") && json_object_has_member(o, "vcpu-dirty-rate")) {
        JsonArray *v = json_object_get_array_member(o, "vcpu-dirty-rate");

        for (guint i = 0; v && i < json_array_get_length(v); i++) {
            JsonObject *e = json_array_get_object_element(v, i);

            if (e)
                add_ullong(params, (guint64)json_object_get_int_member_with_default(e, "dirty-rate", 0),
                           "dirtyrate.vcpu.%d.megabytes_per_second",
                           (int)json_object_get_int_member_with_default(e, "id", 0));
        }
    }
}

static GPtrArray *
domain_stats(VrtQemuDriver *drv, const Snap *s, guint stats)
{
    GPtrArray *params = params_new();

    if (stats & VRT_DOMAIN_STATS_STATE)
        stats_state(s, params);
    if (stats & VRT_DOMAIN_STATS_CPU_TOTAL)
        stats_cpu(s, params);
    if (stats & VRT_DOMAIN_STATS_BALLOON)
        stats_balloon(s, params);
    if (stats & VRT_DOMAIN_STATS_VCPU)
        stats_vcpu(s, params);
    if (stats & VRT_DOMAIN_STATS_INTERFACE)
        stats_interface(drv, s, params);
    if (stats & VRT_DOMAIN_STATS_BLOCK)
        stats_block(s, params);
    /* perf: vrt enables no perf events, so the group has none, as
     * libvirt's for a domain without <perf>. memory: no memory bandwidth
     * monitors (resctrl) are set up, so nothing either. */
    if (stats & VRT_DOMAIN_STATS_IOTHREAD)
        stats_iothread(s, params);
    if (stats & VRT_DOMAIN_STATS_DIRTYRATE)
        stats_dirtyrate(s, params);
    return params;
}

static void
add_uuid(const char *name, const guchar *uuid, int id, gpointer data)
{
    (void)name;
    (void)id;
    g_ptr_array_add(data, g_memdup2(uuid, 16));
}

GPtrArray *
vrt_qemu_connect_get_all_domain_stats(VrtQemuDriver *drv, const guchar *const *uuids, guint n, guint stats, guint flags,
                                      GError **error)
{
    const guint filters = 0xffu; /* ACTIVE .. OTHER: libvirt's list filters */
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *records;

    if (stats == 0) {
        stats = VRT_DOMAIN_STATS_SUPPORTED;
    } else if ((flags & VRT_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS) && (stats & ~VRT_DOMAIN_STATS_SUPPORTED)) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED,
                      "Stats types bits 0x%x are not supported by this daemon or QEMU",
                      stats & ~VRT_DOMAIN_STATS_SUPPORTED);
        return NULL;
    }
    stats &= VRT_DOMAIN_STATS_SUPPORTED;

    /* The domains passing the filter, in the driver's order or the caller's. */
    vrt_qemu_domain_foreach(drv, flags & filters, add_uuid, list);
    if (uuids) {
        g_autoptr(GPtrArray) all = g_steal_pointer(&list);

        list = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < n; i++)
            for (guint k = 0; k < all->len; k++)
                if (memcmp(uuids[i], g_ptr_array_index(all, k), 16) == 0) {
                    g_ptr_array_add(list, g_memdup2(uuids[i], 16));
                    break;
                }
    }

    records = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_stats_record_free);
    for (guint i = 0; i < list->len; i++) {
        g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, g_ptr_array_index(list, i), NULL);
        g_autoptr(Snap) s = NULL;
        VrtDomainStatsRecord *rec;

        if (!obj)
            continue; /* undefined meanwhile */
        s = snap_take(obj);
        rec = g_new0(VrtDomainStatsRecord, 1);
        rec->params = domain_stats(drv, s, stats);
        rec->ref = g_steal_pointer(&s->ref);
        g_ptr_array_add(records, rec);
    }
    return records;
}

/* ---- single reads ---- */

bool
vrt_qemu_domain_block_stats(VrtQemuDriver *drv, const guchar *uuid, const char *path, VrtBlockStats *out,
                            GError **error)
{
    g_autoptr(Snap) s = snap_find(drv, uuid, true, error);
    g_autoptr(GHashTable) entries = NULL;
    int idx = -1;

    if (!s)
        return false;
    if (*path) {
        idx = disk_index(s, path);
        if (idx < 0) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid path: %s", path);
            return false;
        }
    }
    entries = block_entries(s->mon, error);
    if (!entries)
        return false;
    *out = (VrtBlockStats){ .errs = -1 };
    for (guint i = 0; i < s->disks->len; i++) {
        const DiskSnap *d = &g_array_index(s->disks, DiskSnap, i);
        BlockEntry *e;

        if (idx >= 0 && (guint)idx != i)
            continue;
        if (!d->alias) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "missing disk device alias name for %s", d->dst);
            return false;
        }
        e = g_hash_table_lookup(entries, d->alias);
        if (!e) {
            if (idx < 0)
                continue; /* an empty drive in the sum */
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot find statistics for device '%s'", d->alias);
            return false;
        }
        out->rd_req += (gint64)e->rd_req;
        out->rd_bytes += (gint64)e->rd_bytes;
        out->wr_req += (gint64)e->wr_req;
        out->wr_bytes += (gint64)e->wr_bytes;
        out->fl_req += (gint64)e->fl_req;
        out->rd_ns += (gint64)e->rd_ns;
        out->wr_ns += (gint64)e->wr_ns;
        out->fl_ns += (gint64)e->fl_ns;
    }
    return true;
}

bool
vrt_qemu_domain_interface_stats(VrtQemuDriver *drv, const guchar *uuid, const char *device, gint64 out[8],
                                GError **error)
{
    g_autoptr(Snap) s = snap_find(drv, uuid, true, error);
    guint8 mac[6];
    bool is_mac;
    const NetSnap *net = NULL;

    if (!s)
        return false;
    is_mac = vrt_mac_parse(device, mac);
    for (guint i = 0; i < s->nets->len && !net; i++) {
        const NetSnap *n = &g_array_index(s->nets, NetSnap, i);

        if (is_mac ? memcmp(n->mac, mac, 6) == 0 : g_strcmp0(n->ifname, device) == 0)
            net = n;
    }
    if (!net) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "'%s' is not a known interface", device);
        return false;
    }
    if (net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV) {
        /* libvirt reads a VF's counters from its PF's netlink dump; vrt does not yet. */
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "interface statistics of a hostdev interface");
        return false;
    }
    if (!net->ifname) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Interface name not provided");
        return false;
    }
    return tap_stats(drv, net->ifname, out, error);
}

GArray *
vrt_qemu_domain_memory_stats(VrtQemuDriver *drv, const guchar *uuid, guint max, guint flags, GError **error)
{
    g_autoptr(Snap) s = NULL;
    g_autoptr(GArray) out = g_array_new(FALSE, TRUE, sizeof(VrtMemoryStat));
    g_autofree char *path = NULL;
    guint64 user, sys, rss;
    VrtMemoryStat st;

    s = snap_find(drv, uuid, true, error);
    if (!s)
        return NULL;
    /* The balloon's size: QEMU's answer when it has a balloon device. */
    st = (VrtMemoryStat){ MEMORY_STAT_ACTUAL_BALLOON, s->mem_kib };
    if (s->balloon) {
        g_autoptr(JsonNode) bal = vrt_qemu_monitor_command(s->mon, "query-balloon", NULL, 0, NULL);

        if (bal && JSON_NODE_HOLDS_OBJECT(bal))
            st.val = u64_member(json_node_get_object(bal), "actual") / 1024;
        else
            st.val = s->cur_kib;
    }
    if (out->len < max)
        g_array_append_val(out, st);
    {
        g_autoptr(GArray) guest = guest_balloon_stats(s);

        for (guint i = 0; i < guest->len && out->len < max; i++)
            g_array_append_val(out, g_array_index(guest, VrtMemoryStat, i));
    }
    path = g_strdup_printf("/proc/%d/stat", (int)s->pid);
    if (out->len < max && vrt_qemu_proc_stat(path, &user, &sys, &rss)) {
        st = (VrtMemoryStat){ MEMORY_STAT_RSS, rss };
        g_array_append_val(out, st);
    }
    return g_steal_pointer(&out);
}

bool
vrt_qemu_domain_get_block_info(VrtQemuDriver *drv, const guchar *uuid, const char *path, guint flags, guint64 out[3],
                               GError **error)
{
    g_autoptr(Snap) s = NULL;
    g_autoptr(GHashTable) entries = NULL;
    const DiskSnap *d;
    BlockEntry *e;
    guint64 alloc, phys;
    int idx;

    s = snap_find(drv, uuid, false, error);
    if (!s)
        return false;
    idx = disk_index(s, path);
    if (idx < 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid path %s not assigned to domain", path);
        return false;
    }
    d = &g_array_index(s->disks, DiskSnap, idx);
    if (!d->src) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "disk '%s' does not currently have a source assigned", path);
        return false;
    }
    if (!s->active || !s->mon)
        return file_sizes(d->src, d->format == VRT_DOMAIN_DISK_FORMAT_QCOW2, &out[1], &out[0], &out[2], error);

    entries = block_entries(s->mon, error);
    if (!entries)
        return false;
    e = d->alias ? g_hash_table_lookup(entries, d->alias) : NULL;
    if (!e) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot find statistics for device '%s'",
                      d->alias ? d->alias : d->dst);
        return false;
    }
    /* libvirt's rules: QEMU's highest written offset is the allocation of
     * a raw image, the allocated size that of a qcow2 file; a sparse file
     * (allocation 0 or equal to physical) gets its size on disk as physical. */
    alloc = !e->wr_highest_valid || d->format == VRT_DOMAIN_DISK_FORMAT_QCOW2 ? e->physical : e->wr_highest;
    phys = e->physical;
    if (e->physical == 0 || alloc == 0 || alloc == e->physical) {
        struct stat st;

        if (alloc == 0)
            alloc = e->physical;
        if (stat(d->src, &st) == 0)
            phys = (guint64)st.st_size;
    }
    out[0] = alloc;
    out[1] = e->capacity;
    out[2] = phys;
    return true;
}

GPtrArray *
vrt_qemu_domain_get_cpu_stats(VrtQemuDriver *drv, const guchar *uuid, guint nparams, int start_cpu, guint ncpus,
                              guint flags, int *count, GError **error)
{
    g_autoptr(Snap) s = NULL;
    g_autoptr(GPtrArray) params = params_new();
    g_autofree char *path = NULL;
    guint64 user = 0, sys = 0, rss;

    s = snap_find(drv, uuid, true, error);
    if (!s)
        return NULL;
    if (start_cpu != -1) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "cgroup CPUACCT controller is not mounted");
        return NULL;
    }
    (void)ncpus;
    path = g_strdup_printf("/proc/%d/stat", (int)s->pid);
    if (!vrt_qemu_proc_stat(path, &user, &sys, &rss)) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    *count = 3;
    if (nparams == 0)
        return g_steal_pointer(&params);
    add_ullong(params, user + sys, "cpu_time");
    if (nparams > 1)
        add_ullong(params, user, "user_time");
    if (nparams > 2)
        add_ullong(params, sys, "system_time");
    *count = (int)params->len;
    return g_steal_pointer(&params);
}

/* virDomainBlockPeek, as libvirt's QEMU driver reads a disk: the image
 * file itself, raw ones only (a qcow2 file's bytes are not the guest's),
 * running or not. */
bool
vrt_qemu_domain_block_peek(VrtQemuDriver *drv, const guchar *uuid, const char *path, guint64 offset, guint size,
                           guint8 *buf, GError **error)
{
    g_autoptr(Snap) s = snap_find(drv, uuid, false, error);
    const DiskSnap *d;
    gsize got = 0;
    int fd;
    int idx;

    if (!s)
        return false;
    if ((idx = disk_index(s, path)) < 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "disk '%s' not found in domain", path);
        return false;
    }
    d = &g_array_index(s->disks, DiskSnap, idx);
    if (d->format != VRT_DOMAIN_DISK_FORMAT_RAW && d->format != VRT_DOMAIN_DISK_FORMAT_NONE) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                      "peeking is only supported for disk with 'raw' format not '%s'",
                      d->format == VRT_DOMAIN_DISK_FORMAT_QCOW2 ? "qcow2" : "unknown");
        return false;
    }
    if (d->type == VRT_DOMAIN_DISK_TYPE_NETWORK || !d->src) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "storage file reading is not supported for storage type %s",
                      d->type == VRT_DOMAIN_DISK_TYPE_NETWORK ? "network" : "none");
        return false;
    }
    if ((fd = open(d->src, O_RDONLY | O_CLOEXEC)) < 0) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "cannot open file '%s': %s", d->src, g_strerror(errno));
        return false;
    }
    while (got < size) {
        ssize_t n = pread(fd, buf + got, size - got, (off_t)(offset + got));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "cannot read '%s': %s", d->src, g_strerror(errno));
            close(fd);
            return false;
        }
        if (n == 0)
            break;
        got += (gsize)n;
    }
    close(fd);
    if (got < size) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG,
                      "'%s' starting from %" G_GUINT64_FORMAT " has only %zu bytes available", path, offset, got);
        return false;
    }
    return true;
}
