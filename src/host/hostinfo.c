/*
 * Host facts from /proc and sysfs under the host root (see hostinfo.h).
 * The files are read whole with GLib rather than vrt_host_read: /proc/cpuinfo
 * runs to hundreds of KiB on a large machine, past a sysfs attribute's size.
 */
#include "host/hostinfo.h"

#include <string.h>

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
