/*
 * Handlers of the node statistics procedures that monitoring tools and
 * virsh call (nodecpustats, nodememstats, freecell, the CPU map, sysinfo),
 * of the page pools (freepages, allocpages) and of the kernel's same-page
 * merging (node-memory-tune: /sys/kernel/mm/ksm).
 * Every fact comes from the host seam (src/host/hostinfo.h) under the host
 * root; the answers follow libvirt's QEMU driver on Linux: the same
 * fields, units and argument checks, so a client cannot tell them apart.
 */
#include "daemon/daemon.h"
#include "daemon/remote_params.h"
#include "conf/domain/capabilities.h"
#include "host/hostinfo.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>

/* libvirt's "all CPUs" and "all cells" arguments. */
#define NODE_CPU_STATS_ALL_CPUS (-1)
#define NODE_MEMORY_STATS_ALL_CELLS (-1)
/* What Linux reports: kernel, user, idle, iowait; total, free, buffers,
 * cached for the host and total, free for a NUMA cell. */
#define NODE_CPU_STATS_COUNT 4
#define NODE_MEMORY_STATS_ALL 4
#define NODE_MEMORY_STATS_CELL 2

bool
vrt_handle_node_get_cpu_stats(VrtCall *call, remote_node_get_cpu_stats_args *args, remote_node_get_cpu_stats_ret *ret,
                              GError **error)
{
    VrtHostCpuStats st;

    if (args->nparams > REMOTE_NODE_CPU_STATS_MAX) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "nparams too large");
        return false;
    }
    /* nparams 0 asks how many there are (virsh asks first). */
    if (args->nparams == 0) {
        ret->nparams = NODE_CPU_STATS_COUNT;
        return true;
    }
    if (args->nparams != NODE_CPU_STATS_COUNT) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "nparams in virHostCPUGetStatsLinux must be equal to %d",
                      NODE_CPU_STATS_COUNT);
        return false;
    }
    if (!vrt_host_cpu_stats(vrt_call_daemon(call)->host, args->cpuNum < 0 ? -1 : args->cpuNum, &st, error))
        return false;
    const char *names[] = { "kernel", "user", "idle", "iowait" };
    guint64 values[] = { st.kernel_ns, st.user_ns, st.idle_ns, st.iowait_ns };
    ret->params.params_len = NODE_CPU_STATS_COUNT;
    ret->params.params_val = g_new0(remote_node_get_cpu_stats, NODE_CPU_STATS_COUNT);
    for (guint i = 0; i < NODE_CPU_STATS_COUNT; i++) {
        ret->params.params_val[i].field = g_strdup(names[i]);
        ret->params.params_val[i].value = values[i];
    }
    ret->nparams = NODE_CPU_STATS_COUNT;
    return true;
}

bool
vrt_handle_node_get_memory_stats(VrtCall *call, remote_node_get_memory_stats_args *args,
                                 remote_node_get_memory_stats_ret *ret, GError **error)
{
    VrtHost *host = vrt_call_daemon(call)->host;
    int max_node = vrt_host_numa_max_node(host);
    int cell = args->cellNum;
    const char *names[NODE_MEMORY_STATS_ALL] = { "total", "free", "buffers", "cached" };
    guint64 values[NODE_MEMORY_STATS_ALL] = { 0 };
    int n;

    if (args->nparams > REMOTE_NODE_MEMORY_STATS_MAX) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "nparams too large");
        return false;
    }
    /* Without NUMA the host is its one cell 0, as libvirt shows it. */
    if (max_node < 0 && cell == 0)
        cell = NODE_MEMORY_STATS_ALL_CELLS;
    n = cell == NODE_MEMORY_STATS_ALL_CELLS ? NODE_MEMORY_STATS_ALL : NODE_MEMORY_STATS_CELL;
    if (args->nparams == 0) {
        ret->nparams = n;
        return true;
    }
    if (args->nparams != n) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "nparams in virHostMemGetStatsLinux must be %d", n);
        return false;
    }
    if (cell == NODE_MEMORY_STATS_ALL_CELLS) {
        g_autofree char *path = vrt_host_path(host, "/proc/meminfo");
        g_autofree char *text = NULL;
        const char *keys[NODE_MEMORY_STATS_ALL] = { "MemTotal", "MemFree", "Buffers", "Cached" };
        int found = 0;

        if (!g_file_get_contents(path, &text, NULL, NULL)) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open %s", "/proc/meminfo");
            return false;
        }
        for (int i = 0; i < n; i++)
            found += vrt_host_parse_meminfo(text, keys[i], &values[i]);
        if (found == 0) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "no available memory line found");
            return false;
        }
    } else {
        if (max_node < 0) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "NUMA isn't available on this host");
            return false;
        }
        if (cell < 0 || cell > max_node) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "cellNum in virHostMemGetStats must be less than or equal to %d",
                          max_node);
            return false;
        }
        if (!vrt_host_node_meminfo(host, cell, &values[0], &values[1], error))
            return false;
    }
    ret->params.params_len = n;
    ret->params.params_val = g_new0(remote_node_get_memory_stats, n);
    for (int i = 0; i < n; i++) {
        ret->params.params_val[i].field = g_strdup(names[i]);
        ret->params.params_val[i].value = values[i];
    }
    ret->nparams = n;
    return true;
}

bool
vrt_handle_node_get_cells_free_memory(VrtCall *call, remote_node_get_cells_free_memory_args *args,
                                      remote_node_get_cells_free_memory_ret *ret, GError **error)
{
    VrtHost *host = vrt_call_daemon(call)->host;
    int max_node = vrt_host_numa_max_node(host);
    int last;

    if (args->maxcells > REMOTE_NODE_MAX_CELLS) {
        vrt_error_set(error, VIR_ERR_RPC, "maxcells > REMOTE_NODE_MAX_CELLS");
        return false;
    }
    if (args->maxcells <= 0 || args->startCell < 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "maxcells must be positive and startCell not negative");
        return false;
    }
    if (max_node < 0) {
        /* No NUMA: one cell holding the host's free memory. */
        if (args->startCell != 0) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "start cell %d out of range (0-%d)", args->startCell, 0);
            return false;
        }
        ret->cells.cells_len = 1;
        ret->cells.cells_val = g_new0(guint64, 1);
        ret->cells.cells_val[0] = vrt_host_meminfo_kib(host, "MemFree") * 1024;
        return true;
    }
    if (args->startCell > max_node) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "start cell %d out of range (0-%d)", args->startCell, max_node);
        return false;
    }
    last = MIN(max_node, args->startCell + args->maxcells - 1);
    ret->cells.cells_len = (u_int)(last - args->startCell + 1);
    ret->cells.cells_val = g_new0(guint64, ret->cells.cells_len);
    for (int n = args->startCell; n <= last; n++) {
        guint64 total = 0, free_kib = 0;

        /* A node without meminfo (memoryless, or offline) has nothing free. */
        if (vrt_host_node_meminfo(host, n, &total, &free_kib, NULL))
            ret->cells.cells_val[n - args->startCell] = free_kib * 1024;
    }
    return true;
}

bool
vrt_handle_node_get_cpu_map(VrtCall *call, remote_node_get_cpu_map_args *args, remote_node_get_cpu_map_ret *ret,
                            GError **error)
{
    guint ncpus = 0, online = 0;
    g_autofree guint8 *map = NULL;

    map = vrt_host_cpu_map(vrt_call_daemon(call)->host, &ncpus, &online, error);
    if (!map)
        return false;
    if (args->need_map) {
        ret->cpumap.cpumap_len = (ncpus + 7) / 8;
        ret->cpumap.cpumap_val = (char *)g_steal_pointer(&map);
    }
    if (args->need_online)
        ret->online = online;
    ret->ret = (int)ncpus;
    return true;
}

static char *
dmi_lookup(const char *attr, gpointer host)
{
    return vrt_host_dmi(host, attr);
}

bool
vrt_handle_connect_get_sysinfo(VrtCall *call, remote_connect_get_sysinfo_args *args,
                               remote_connect_get_sysinfo_ret *ret, GError **error)
{
    char *xml;

    xml = vrt_sysinfo_format(dmi_lookup, vrt_call_daemon(call)->host);
    if (!xml) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Host SMBIOS information is not available");
        return false;
    }
    ret->sysinfo = xml;
    return true;
}

/* ---- page pools (virsh freepages, allocpages) ---- */

/* The cells a page call walks, as libvirt's virHostMemGetFreePages: from
 * *start to *last, the host's highest NUMA node capping cellCount; a host
 * without NUMA nodes is one cell, -1 (its overall figures). */
static bool
page_cells(VrtHost *host, int start_cell, guint cell_count, int *start, int *last, GError **error)
{
    int max_node = vrt_host_numa_max_node(host);
    int last_cell = MAX(max_node, 0);

    *start = start_cell;
    if (max_node < 0 && start_cell == 0 && cell_count == 1)
        *start = -1;
    if (*start > last_cell) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "start cell %d out of range (0-%d)", *start, last_cell);
        return false;
    }
    *last = (int)MIN((gint64)last_cell, (gint64)*start + (gint64)cell_count - 1);
    return true;
}

bool
vrt_handle_node_get_free_pages(VrtCall *call, remote_node_get_free_pages_args *args,
                               remote_node_get_free_pages_ret *ret, GError **error)
{
    VrtHost *host = vrt_call_daemon(call)->host;
    g_autoptr(GArray) counts = g_array_new(FALSE, FALSE, sizeof(guint64));
    int start, last;

    if ((guint64)args->pages.pages_len * args->cellCount > REMOTE_NODE_MAX_CELLS) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "the result won't fit into REMOTE_NODE_MAX_CELLS");
        return false;
    }
    if (!page_cells(host, args->startCell, args->cellCount, &start, &last, error))
        return false;
    for (int cell = start; cell <= last; cell++) {
        for (u_int i = 0; i < args->pages.pages_len; i++) {
            guint64 free_pages;

            if (!vrt_host_page_info(host, cell, args->pages.pages_val[i], NULL, &free_pages, error))
                return false;
            g_array_append_val(counts, free_pages);
        }
    }
    if (counts->len == 0) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "no suitable info found");
        return false;
    }
    ret->counts.counts_len = counts->len;
    ret->counts.counts_val = (guint64 *)(void *)g_array_free(g_steal_pointer(&counts), FALSE);
    return true;
}

#define NODE_ALLOC_PAGES_SET 1u

bool
vrt_handle_node_alloc_pages(VrtCall *call, remote_node_alloc_pages_args *args, remote_node_alloc_pages_ret *ret,
                            GError **error)
{
    VrtHost *host = vrt_call_daemon(call)->host;
    bool add = !(args->flags & NODE_ALLOC_PAGES_SET);
    int start, last, n = 0;

    if (args->pageSizes.pageSizes_len != args->pageCounts.pageCounts_len) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "pageSizes and pageCounts differ in length");
        return false;
    }
    if (!page_cells(host, args->startCell, args->cellCount, &start, &last, error))
        return false;
    for (int cell = start; cell <= last; cell++) {
        for (u_int i = 0; i < args->pageSizes.pageSizes_len; i++, n++) {
            if (!vrt_host_page_pool_set(host, cell, args->pageSizes.pageSizes_val[i],
                                        args->pageCounts.pageCounts_val[i], add, error))
                return false;
        }
    }
    ret->ret = n;
    return true;
}

/* ---- same-page merging (virsh node-memory-tune) ---- */

#define KSM_DIR "/sys/kernel/mm/ksm/"

/* libvirt's parameters in its order: the name is "shm_" and the file. */
static const struct {
    const char *name;
    int type;
} ksm_params[] = {
    { "shm_pages_to_scan", VRT_TYPED_PARAM_UINT },    { "shm_sleep_millisecs", VRT_TYPED_PARAM_UINT },
    { "shm_pages_shared", VRT_TYPED_PARAM_ULLONG },   { "shm_pages_sharing", VRT_TYPED_PARAM_ULLONG },
    { "shm_pages_unshared", VRT_TYPED_PARAM_ULLONG }, { "shm_pages_volatile", VRT_TYPED_PARAM_ULLONG },
    { "shm_full_scans", VRT_TYPED_PARAM_ULLONG },     { "shm_merge_across_nodes", VRT_TYPED_PARAM_UINT },
};

static char *
ksm_path(const char *name)
{
    return g_strconcat(KSM_DIR, name + strlen("shm_"), NULL);
}

bool
vrt_handle_node_get_memory_parameters(VrtCall *call, remote_node_get_memory_parameters_args *args,
                                      remote_node_get_memory_parameters_ret *ret, GError **error)
{
    VrtHost *host = vrt_call_daemon(call)->host;
    g_autoptr(GPtrArray) params = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);

    if (args->nparams < 0 || args->nparams > REMOTE_NODE_MEMORY_PARAMETERS_MAX) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "nparams too large");
        return false;
    }
    if (args->nparams == 0) {
        ret->nparams = G_N_ELEMENTS(ksm_params);
        return true;
    }
    for (guint i = 0; i < G_N_ELEMENTS(ksm_params) && i < (guint)args->nparams; i++) {
        g_autofree char *path = ksm_path(ksm_params[i].name);
        VrtTypedParam *p;
        guint64 v;

        /* a kernel without the file (merge_across_nodes before 3.9) */
        if (!vrt_host_exists(host, path))
            continue;
        if (!vrt_host_read_u64(host, path, &v, error))
            return false;
        p = g_new0(VrtTypedParam, 1);
        p->field = g_strdup(ksm_params[i].name);
        p->type = ksm_params[i].type;
        if (p->type == VRT_TYPED_PARAM_UINT)
            p->v.ui = (guint)v;
        else
            p->v.ul = v;
        g_ptr_array_add(params, p);
    }
    vrt_typed_params_to_wire(params, &ret->params.params_val, &ret->params.params_len);
    return true;
}

bool
vrt_handle_node_set_memory_parameters(VrtCall *call, remote_node_set_memory_parameters_args *args, GError **error)
{
    static const char *const names[] = { "shm_pages_to_scan", "shm_sleep_millisecs", "shm_merge_across_nodes" };
    static const int types[] = { VRT_TYPED_PARAM_UINT, VRT_TYPED_PARAM_UINT, VRT_TYPED_PARAM_UINT };
    VrtHost *host = vrt_call_daemon(call)->host;
    g_autoptr(GPtrArray) params = vrt_typed_params_from_wire(args->params.params_val, args->params.params_len);

    if (!vrt_typed_params_validate(params, names, types, G_N_ELEMENTS(names), error))
        return false;
    /* all known to this kernel before any is written */
    for (guint i = 0; i < params->len; i++) {
        const VrtTypedParam *p = g_ptr_array_index(params, i);
        g_autofree char *path = ksm_path(p->field);

        if (!vrt_host_exists(host, path)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "Parameter '%s' is not supported by this kernel", p->field);
            return false;
        }
    }
    for (guint i = 0; i < params->len; i++) {
        const VrtTypedParam *p = g_ptr_array_index(params, i);
        g_autofree char *path = ksm_path(p->field);
        g_autofree char *value = g_strdup_printf("%u", p->v.ui);
        g_autoptr(GError) err = NULL;

        if (!vrt_host_write(host, path, value, &err)) {
            vrt_error_set(error, err->code, "failed to set %s: %s", p->field, err->message);
            return false;
        }
    }
    return true;
}
