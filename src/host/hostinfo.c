/*
 * Host facts from /proc and sysfs under the host root (see hostinfo.h).
 * The files are read whole with GLib rather than vrt_host_read: /proc/cpuinfo
 * runs to hundreds of KiB on a large machine, past a sysfs attribute's size.
 */
#include "host/hostinfo.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/uuid.h"

static char *
read_whole(VrtHost *host, const char *path)
{
    g_autofree char *real = vrt_host_path(host, path);
    char *text = NULL;
    if (!g_file_get_contents(real, &text, NULL, NULL))
        return NULL;
    return text;
}

/* The start of each line in turn: NULL after the last one. */
static const char *
next_line(const char *line)
{
    const char *nl = strchr(line, '\n');
    return nl && nl[1] ? nl + 1 : NULL;
}

guint64
vrt_host_meminfo_kib(VrtHost *host, const char *key)
{
    g_autofree char *text = read_whole(host, "/proc/meminfo");
    size_t klen = strlen(key);
    for (const char *line = text; line && *line; line = next_line(line)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':')
            return g_ascii_strtoull(line + klen + 1, NULL, 10);
    }
    return 0;
}

char *
vrt_host_cpuinfo_field(VrtHost *host, const char *key)
{
    g_autofree char *text = read_whole(host, "/proc/cpuinfo");
    size_t klen = strlen(key);
    for (const char *line = text; line && *line; line = next_line(line)) {
        if (strncmp(line, key, klen) == 0 && (line[klen] == '\t' || line[klen] == ' ' || line[klen] == ':')) {
            const char *v = strchr(line, ':');
            if (!v)
                return NULL;
            const char *end = strchr(v, '\n');
            return g_strstrip(g_strndup(v + 1, end ? (gsize)(end - v - 1) : strlen(v + 1)));
        }
    }
    return NULL;
}

/* Counts the CPUs of a kernel CPU list ("0-3,8,10-11"); 0 when malformed. */
static guint
count_cpu_list(const char *list)
{
    g_auto(GStrv) parts = g_strsplit(list, ",", -1);
    guint n = 0;
    for (char **p = parts; *p; p++) {
        char *end = NULL;
        const char *s = g_strstrip(*p);
        if (!*s)
            continue;
        guint64 lo = g_ascii_strtoull(s, &end, 10), hi = lo;
        if (end == s)
            return 0;
        if (*end == '-') {
            const char *h = end + 1;
            hi = g_ascii_strtoull(h, &end, 10);
            if (end == h || hi < lo)
                return 0;
        }
        if (*end)
            return 0;
        n += (guint)(hi - lo + 1);
    }
    return n;
}

guint
vrt_host_cpus_online(VrtHost *host)
{
    g_autofree char *online = read_whole(host, "/sys/devices/system/cpu/online");
    guint n = online ? count_cpu_list(online) : 0;
    if (n > 0)
        return n;
    g_autofree char *cpuinfo = read_whole(host, "/proc/cpuinfo");
    for (const char *line = cpuinfo; line && *line; line = next_line(line)) {
        if (g_str_has_prefix(line, "processor") && (line[9] == '\t' || line[9] == ' ' || line[9] == ':'))
            n++;
    }
    return n > 0 ? n : 1;
}

bool
vrt_host_uuid(VrtHost *host, guint8 uuid[16])
{
    g_autofree char *text = read_whole(host, "/sys/class/dmi/id/product_uuid");
    if (!text)
        text = read_whole(host, "/etc/machine-id");
    return text && vrt_uuid_parse(text, uuid);
}

/* ---- node statistics ---- */

bool
vrt_host_parse_proc_stat(const char *text, int cpu, guint64 ticks[4])
{
    g_autofree char *head = cpu < 0 ? g_strdup("cpu ") : g_strdup_printf("cpu%d ", cpu);
    size_t hlen = strlen(head);

    for (const char *line = text; line && *line; line = next_line(line)) {
        guint64 v[10] = { 0 };
        const char *p = line + hlen;
        int n = 0;

        if (strncmp(line, head, hlen) != 0)
            continue;
        /* user nice system idle iowait irq softirq steal guest guest_nice;
         * older kernels stop after idle. */
        while (n < 10) {
            char *end = NULL;
            while (*p == ' ')
                p++;
            if (!g_ascii_isdigit(*p))
                break;
            v[n++] = g_ascii_strtoull(p, &end, 10);
            p = end;
        }
        if (n < 4)
            continue;
        ticks[0] = v[2] + v[5] + v[6];
        ticks[1] = v[0] + v[1];
        ticks[2] = v[3];
        ticks[3] = v[4];
        return true;
    }
    return false;
}

bool
vrt_host_cpu_stats(VrtHost *host, int cpu, VrtHostCpuStats *stats, GError **error)
{
    g_autofree char *text = read_whole(host, "/proc/stat");
    guint64 ticks[4];
    long hz = sysconf(_SC_CLK_TCK);
    guint64 ns_per_tick = 1000000000ull / (guint64)(hz > 0 ? hz : 100);

    if (!text) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open %s", "/proc/stat");
        return false;
    }
    if (!vrt_host_parse_proc_stat(text, cpu, ticks)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "Invalid cpuNum in %s", "virHostCPUGetStatsLinux");
        return false;
    }
    stats->kernel_ns = ticks[0] * ns_per_tick;
    stats->user_ns = ticks[1] * ns_per_tick;
    stats->idle_ns = ticks[2] * ns_per_tick;
    stats->iowait_ns = ticks[3] * ns_per_tick;
    return true;
}

bool
vrt_host_parse_meminfo(const char *text, const char *key, guint64 *kib)
{
    size_t klen = strlen(key);

    for (const char *line = text; line && *line; line = next_line(line)) {
        const char *p = line;

        if (g_str_has_prefix(p, "Node ")) {
            /* "Node 0 MemFree:  123 kB": skip the node's two words. */
            p = strchr(p + 5, ' ');
            if (!p)
                continue;
            p++;
        }
        if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
            *kib = g_ascii_strtoull(p + klen + 1, NULL, 10);
            return true;
        }
    }
    return false;
}

int
vrt_host_numa_max_node(VrtHost *host)
{
    g_autofree char *online = read_whole(host, "/sys/devices/system/node/online");
    g_autoptr(GPtrArray) names = NULL;
    int max = -1;

    if (online) {
        guint len = 0;
        g_autofree guint8 *set = vrt_host_parse_cpu_list(g_strstrip(online), &len);
        if (set && len > 0)
            return (int)len - 1;
    }
    names = vrt_host_list_dir(host, "/sys/devices/system/node", NULL);
    for (guint i = 0; names && i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        char *end = NULL;
        guint64 id;

        if (!g_str_has_prefix(n, "node") || !g_ascii_isdigit(n[4]))
            continue;
        id = g_ascii_strtoull(n + 4, &end, 10);
        if (*end == '\0' && id < G_MAXINT && (int)id > max)
            max = (int)id;
    }
    return max;
}

bool
vrt_host_node_meminfo(VrtHost *host, int node, guint64 *total_kib, guint64 *free_kib, GError **error)
{
    g_autofree char *path = g_strdup_printf("/sys/devices/system/node/node%d/meminfo", node);
    g_autofree char *text = read_whole(host, path);

    if (!text) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open %s", path);
        return false;
    }
    if (!vrt_host_parse_meminfo(text, "MemTotal", total_kib) || !vrt_host_parse_meminfo(text, "MemFree", free_kib)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "no available memory line found in %s", path);
        return false;
    }
    return true;
}

guint8 *
vrt_host_parse_cpu_list(const char *list, guint *len)
{
    g_auto(GStrv) parts = g_strsplit(list, ",", -1);
    g_autoptr(GByteArray) set = g_byte_array_new();
    guint top = 0;

    for (char **p = parts; *p; p++) {
        const char *s = g_strstrip(*p);
        char *end = NULL;
        guint64 lo, hi;

        if (!*s)
            continue;
        lo = hi = g_ascii_strtoull(s, &end, 10);
        if (end == s)
            return NULL;
        if (*end == '-') {
            const char *h = end + 1;
            hi = g_ascii_strtoull(h, &end, 10);
            if (end == h || hi < lo)
                return NULL;
        }
        /* Far past any machine's CPU count (libvirt's map is 2048 bytes). */
        if (*end || hi >= 65536)
            return NULL;
        if (hi + 1 > top) {
            g_byte_array_set_size(set, (guint)((hi + 8) / 8));
            for (guint i = (top + 7) / 8; i < set->len; i++)
                set->data[i] = 0;
            top = (guint)hi + 1;
        }
        for (guint64 i = lo; i <= hi; i++)
            set->data[i / 8] |= (guint8)(1u << (i % 8));
    }
    *len = top;
    return g_byte_array_free(g_steal_pointer(&set), FALSE);
}

guint8 *
vrt_host_cpu_map(VrtHost *host, guint *ncpus, guint *online, GError **error)
{
    g_autofree char *on_text = read_whole(host, "/sys/devices/system/cpu/online");
    g_autofree char *present_text = read_whole(host, "/sys/devices/system/cpu/present");
    g_autofree guint8 *map = NULL;
    guint on_len = 0, present_len = 0, count = 0;

    if (on_text) {
        map = vrt_host_parse_cpu_list(g_strstrip(on_text), &on_len);
        if (!map) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot parse %s", "/sys/devices/system/cpu/online");
            return NULL;
        }
    } else {
        g_autofree char *all = NULL;
        on_len = vrt_host_cpus_online(host);
        all = g_strdup_printf("0-%u", on_len - 1);
        map = vrt_host_parse_cpu_list(all, &on_len);
    }
    if (present_text) {
        g_autofree guint8 *present = vrt_host_parse_cpu_list(g_strstrip(present_text), &present_len);
        if (!present)
            present_len = 0;
    }
    if (present_len < on_len)
        present_len = on_len;
    /* Room for every present CPU's bit, zero past the online ones. */
    map = g_realloc(map, (present_len + 7) / 8 + 1);
    for (guint i = (on_len + 7) / 8; i < (present_len + 7) / 8 + 1; i++)
        map[i] = 0;
    for (guint i = 0; i < on_len; i++)
        count += (map[i / 8] >> (i % 8)) & 1;
    *ncpus = present_len;
    *online = count;
    return g_steal_pointer(&map);
}

char *
vrt_host_dmi(VrtHost *host, const char *attr)
{
    g_autofree char *path = g_strdup_printf("/sys/class/dmi/id/%s", attr);
    g_autofree char *text = read_whole(host, path);

    if (!text)
        return NULL;
    g_strstrip(text);
    if (!*text)
        return NULL;
    return g_steal_pointer(&text);
}

/* ---- network interface counters ---- */

bool
vrt_host_parse_net_dev(const char *text, const char *ifname, VrtHostNetDevStats *stats)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    size_t len = strlen(ifname);

    for (guint i = 0; lines[i]; i++) {
        const char *p = lines[i];
        guint64 v[16];
        char *end;
        guint n = 0;

        while (*p == ' ')
            p++;
        if (strncmp(p, ifname, len) != 0 || p[len] != ':')
            continue;
        /* "name: rx bytes packets errs drop fifo frame compressed multicast
         *  tx bytes packets errs drop fifo colls carrier compressed" */
        p += len + 1;
        for (; n < 16; n++) {
            v[n] = g_ascii_strtoull(p, &end, 10);
            if (end == p)
                break;
            p = end;
        }
        if (n < 12)
            return false;
        *stats = (VrtHostNetDevStats){
            .rx_bytes = v[0],
            .rx_packets = v[1],
            .rx_errs = v[2],
            .rx_drop = v[3],
            .tx_bytes = v[8],
            .tx_packets = v[9],
            .tx_errs = v[10],
            .tx_drop = v[11],
        };
        return true;
    }
    return false;
}

bool
vrt_host_net_dev_stats(VrtHost *host, const char *ifname, VrtHostNetDevStats *stats, GError **error)
{
    g_autofree char *text = read_whole(host, "/proc/net/dev");

    if (!text) {
        vrt_error_set_errno(error, VIR_ERR_INTERNAL_ERROR, errno, "Could not open /proc/net/dev");
        return false;
    }
    if (!vrt_host_parse_net_dev(text, ifname, stats)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "/proc/net/dev: Interface not found");
        return false;
    }
    return true;
}

/* ---- page pools ---- */

static guint
system_page_kib(void)
{
    long size = sysconf(_SC_PAGESIZE);

    return size > 0 ? (guint)(size / 1024) : 4;
}

/* The file `suffix` of node's (-1: the host's) pool of page_kib pages,
 * or NULL with libvirt's words for what is missing. */
static char *
hugepage_path(VrtHost *host, int node, guint page_kib, const char *suffix, GError **error)
{
    g_autofree char *path = node < 0 ? g_strdup_printf("/sys/kernel/mm/hugepages/hugepages-%ukB/%s", page_kib, suffix)
                                     : g_strdup_printf("/sys/devices/system/node/node%d/hugepages/hugepages-%ukB/%s",
                                                       node, page_kib, suffix);
    g_autofree char *node_dir = NULL;

    if (vrt_host_exists(host, path))
        return g_steal_pointer(&path);
    if (node < 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "page size %u is not available", page_kib);
        return NULL;
    }
    node_dir = g_strdup_printf("/sys/devices/system/node/node%d", node);
    if (!vrt_host_exists(host, node_dir))
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "NUMA node %d is not available", node);
    else
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "page size %u is not available on node %d", page_kib, node);
    return NULL;
}

/* A pool file's count: digits and the kernel's newline (a file a test
 * wrote under its host root may lack it). */
static bool
read_count(VrtHost *host, const char *path, int code, guint64 *value, GError **error)
{
    g_autofree char *text = read_whole(host, path);
    char *end = NULL;

    if (!text) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to open file '%s'", path);
        return false;
    }
    errno = 0;
    *value = g_ascii_strtoull(text, &end, 10);
    if (errno || end == text || (*end && g_strcmp0(end, "\n") != 0)) {
        g_strchomp(text);
        if (code == VIR_ERR_INTERNAL_ERROR)
            vrt_error_set(error, code, "unable to parse: %s", text);
        else
            vrt_error_set(error, code, "invalid number '%s' in '%s'", text, path);
        return false;
    }
    return true;
}

bool
vrt_host_page_info(VrtHost *host, int node, guint page_kib, guint64 *avail, guint64 *free_pages, GError **error)
{
    if (page_kib == system_page_kib()) {
        guint64 total_kib, free_kib;

        if (node < 0) {
            total_kib = vrt_host_meminfo_kib(host, "MemTotal");
            free_kib = vrt_host_meminfo_kib(host, "MemFree");
        } else if (!vrt_host_node_meminfo(host, node, &total_kib, &free_kib, error)) {
            return false;
        }
        if (avail)
            *avail = total_kib / page_kib;
        if (free_pages)
            *free_pages = free_kib / page_kib;
        return true;
    }
    if (avail) {
        g_autofree char *path = hugepage_path(host, node, page_kib, "nr_hugepages", error);

        if (!path || !read_count(host, path, VIR_ERR_INTERNAL_ERROR, avail, error))
            return false;
    }
    if (free_pages) {
        g_autofree char *path = hugepage_path(host, node, page_kib, "free_hugepages", error);

        if (!path || !read_count(host, path, VIR_ERR_INTERNAL_ERROR, free_pages, error))
            return false;
    }
    return true;
}

bool
vrt_host_page_pool_set(VrtHost *host, int node, guint page_kib, guint64 count, bool add, GError **error)
{
    g_autofree char *path = NULL;
    g_autofree char *value = NULL;
    guint64 now;

    if (page_kib == system_page_kib()) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s", "system pages pool can't be modified");
        return false;
    }
    path = hugepage_path(host, node, page_kib, "nr_hugepages", error);
    if (!path || !read_count(host, path, VIR_ERR_OPERATION_FAILED, &now, error))
        return false;
    if (add) {
        if (count == 0)
            return true;
        count += now;
    } else if (now == count) {
        return true;
    }
    /* The kernel allocates within the write, and may get fewer pages than
     * asked: read back what it made. */
    value = g_strdup_printf("%" G_GUINT64_FORMAT, count);
    if (!vrt_host_write(host, path, value, error) || !read_count(host, path, VIR_ERR_OPERATION_FAILED, &now, error))
        return false;
    if (now != count) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED,
                      "Unable to allocate %" G_GUINT64_FORMAT " pages. Allocated only %" G_GUINT64_FORMAT, count, now);
        return false;
    }
    return true;
}
