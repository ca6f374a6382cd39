/*
 * The host CPU's CPUID leaves, as libvirt reads them to name the host CPU:
 * every basic and extended leaf up to the maxima leaves 0 and 0x80000000
 * give, with the subleaves each leaf defines. On the real host (root "/")
 * the cpuid instruction answers; under another host root the leaves come
 * from <root>/dev/cpu/0/cpuid: a cpuid device (the kernel's layout: the
 * 16 bytes eax, ebx, ecx, edx at offset leaf | subleaf << 32), or a
 * regular file listing leaves as "LEAF SUBLEAF EAX EBX ECX EDX" lines in
 * hex, so a test can describe any CPU.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "host/host.h"

typedef struct {
    guint32 leaf, sub;
    guint32 eax, ebx, ecx, edx;
} VrtHostCpuid;

/* One leaf; false when it cannot be read (not an x86 host, no cpuid
 * device under a host root). */
bool vrt_host_cpuid(VrtHost *host, guint32 leaf, guint32 sub, VrtHostCpuid *out);
/* All leaves in order (GArray of VrtHostCpuid); NULL with error
 * (VIR_ERR_NO_SUPPORT) when CPUID cannot be read here. */
GArray *vrt_host_cpuid_all(VrtHost *host, GError **error);
