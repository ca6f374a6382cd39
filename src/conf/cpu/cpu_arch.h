/*
 * The CPU drivers of the architectures other than x86, as far as a client
 * of an x86 host reaches them: libvirt answers cpu-models and cpu-baseline
 * for CPUs of any architecture it has a driver for, whatever the host is.
 * The ppc64 driver knows IBM's and Freescale's models of libvirt's CPU map
 * and takes a baseline only of CPUs of one model; the ARM driver takes the
 * first CPU's model; s390 has no baseline. Each answer and error is
 * libvirt's on the same input.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "conf/cpu/cpu_conf.h"

typedef enum {
    VRT_CPU_ARCH_UNKNOWN = 0,
    VRT_CPU_ARCH_X86,
    VRT_CPU_ARCH_PPC64,
    VRT_CPU_ARCH_ARM,
    VRT_CPU_ARCH_S390
} VrtCpuArchFamily;

/* Whether arch is one of the architecture names libvirt knows (its
 * virArch table), whether or not anything here serves it. */
bool vrt_arch_name_known(const char *arch);

/* The CPU driver an architecture name belongs to (x86_64 and i686;
 * ppc64, ppc64le; aarch64, armv6l, armv7l, armv7b; s390, s390x). */
VrtCpuArchFamily vrt_cpu_arch_family(const char *arch);

/* cpu-models of a non-x86 architecture: ppc64's map, in libvirt's order;
 * none for ARM and s390 (their drivers list no models); libvirt's error
 * for an architecture without a CPU driver. */
GPtrArray *vrt_cpu_arch_model_names(const char *arch, GError **error);

/* The baseline of CPUs whose first is of a non-x86 architecture, as
 * libvirt's driver for it computes it. */
VrtCpuDef *vrt_cpu_arch_baseline(VrtCpuDef **cpus, guint ncpus, GError **error);
