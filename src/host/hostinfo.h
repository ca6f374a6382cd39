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
