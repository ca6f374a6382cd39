/*
 * Facts about the host's processors, memory and identity as its /proc and
 * sysfs tell them, read under the host root like every other host access,
 * so a daemon started with --host-root describes that host (a simulated one
 * in tests) and not the machine it happens to run on. Answers for
 * virNodeGetInfo, virNodeGetFreeMemory and the capabilities' <host>.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "host/host.h"

/* A "Key:  N kB" line of /proc/meminfo in KiB; 0 when the file or the key
 * is missing (as sysinfo's zeroes would say). */
guint64 vrt_host_meminfo_kib(VrtHost *host, const char *key);
/* Online CPUs: /sys/devices/system/cpu/online (as glibc's
 * _SC_NPROCESSORS_ONLN), else the "processor" entries of /proc/cpuinfo;
 * at least 1. */
guint vrt_host_cpus_online(VrtHost *host);
/* The value of the first "key : value" line of /proc/cpuinfo, or NULL. */
char *vrt_host_cpuinfo_field(VrtHost *host, const char *key);
/* The machine's SMBIOS UUID (/sys/class/dmi/id/product_uuid) when readable,
 * else systemd's machine id (/etc/machine-id); false when neither is a
 * 128-bit hex value. */
bool vrt_host_uuid(VrtHost *host, guint8 uuid[16]);

/* ---- node statistics (virsh nodecpustats, nodememstats, freecell, cpumap) ---- */

/* One CPU's (or, for cpu -1, all CPUs') times from /proc/stat in
 * nanoseconds, as libvirt sums them: kernel = system + irq + softirq,
 * user = user + nice, idle, iowait. */
typedef struct {
    guint64 kernel_ns, user_ns, idle_ns, iowait_ns;
} VrtHostCpuStats;

/* Parses /proc/stat text for cpu (-1: the "cpu " total line) into clock
 * ticks (kernel, user, idle, iowait as above); false when there is no
 * such line with at least four numbers. Exposed for tests. */
bool vrt_host_parse_proc_stat(const char *text, int cpu, guint64 ticks[4]);
/* The times of CPU cpu (-1: all); VIR_ERR_INVALID_ARG "Invalid cpuNum"
 * when /proc/stat has no line for it. */
bool vrt_host_cpu_stats(VrtHost *host, int cpu, VrtHostCpuStats *stats, GError **error);

/* The value in KiB of "Key: N kB" in meminfo text, also with the "Node N "
 * prefix of a NUMA node's meminfo; false when the key is missing. */
bool vrt_host_parse_meminfo(const char *text, const char *key, guint64 *kib);
/* The highest NUMA node the host has (/sys/devices/system/node/online, else
 * its nodeN directories), -1 when the kernel shows no NUMA nodes. */
int vrt_host_numa_max_node(VrtHost *host);
/* Total and free memory of NUMA node `node` in KiB from its meminfo. */
bool vrt_host_node_meminfo(VrtHost *host, int node, guint64 *total_kib, guint64 *free_kib, GError **error);

/* The kernel's CPU list syntax ("0-3,8") as a bit array: set[i] for each
 * CPU i listed; *len is the highest CPU + 1. NULL when malformed. Exposed
 * for tests. */
guint8 *vrt_host_parse_cpu_list(const char *list, guint *len);
/* The online CPUs as a byte map (bit i of byte i/8 for CPU i, libvirt's
 * cpumap layout) of *ncpus bits, *ncpus being the present CPUs (the highest
 * present id + 1, as libvirt counts them), and how many are online. Read
 * from /sys/devices/system/cpu/{online,present}; without them CPUs
 * 0..N-1, N from /proc/cpuinfo. */
guint8 *vrt_host_cpu_map(VrtHost *host, guint *ncpus, guint *online, GError **error);

/* An SMBIOS string the kernel exports in /sys/class/dmi/id (attr
 * "bios_vendor", "product_uuid"...), without its newline; NULL when the
 * file is missing, unreadable or empty. */
char *vrt_host_dmi(VrtHost *host, const char *attr);

/* ---- network interface counters (virsh domifstat, domstats net.*) ---- */

/* One interface's counters as the host's /proc/net/dev shows them (the
 * host's view: rx is what the host received from the interface). */
typedef struct {
    guint64 rx_bytes, rx_packets, rx_errs, rx_drop;
    guint64 tx_bytes, tx_packets, tx_errs, tx_drop;
} VrtHostNetDevStats;

/* Parses /proc/net/dev text for ifname; false when it has no such line.
 * Exposed for tests. */
bool vrt_host_parse_net_dev(const char *text, const char *ifname, VrtHostNetDevStats *stats);
/* The counters of ifname from /proc/net/dev; VIR_ERR_INTERNAL_ERROR, as
 * libvirt words it, when the file cannot be read or has no such interface. */
bool vrt_host_net_dev_stats(VrtHost *host, const char *ifname, VrtHostNetDevStats *stats, GError **error);

/* ---- page pools (virsh freepages, allocpages) ---- */

/* The pages of page_kib KiB that NUMA node `node` (-1: the whole host) has
 * in its pool (*avail) and free (*free_pages), as libvirt's
 * virNumaGetPageInfo: the system page size from the node's (or the host's)
 * meminfo, a huge page size from its hugepages-<size>kB directory.
 * VIR_ERR_OPERATION_FAILED with libvirt's text when the size or node is
 * not there. Either pointer may be NULL. */
bool vrt_host_page_info(VrtHost *host, int node, guint page_kib, guint64 *avail, guint64 *free_pages, GError **error);
/* Makes node's (-1: the host's) pool of page_kib huge pages hold count
 * pages (add: count more), as libvirt's virNumaSetPagePoolSize: refused
 * for the system page size, and an error when the kernel allocated fewer. */
bool vrt_host_page_pool_set(VrtHost *host, int node, guint page_kib, guint64 count, bool add, GError **error);
