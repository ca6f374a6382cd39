/*
 * The x86 CPU driver: what libvirt's named CPU models and features mean in
 * CPUID (and MSR) bits (vrt's CPU map, x86_cpu_map.tsv, facts of libvirt's
 * own map), and the computations libvirt's clients see: the model and
 * extra features that describe a set of CPUID bits (the host CPU of the
 * capabilities), a CPU definition compared with the host's, the baseline
 * of several CPUs, a model expanded into its features. Each follows
 * libvirt's rules so the answers are libvirt's on the same host.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "conf/cpu/cpu_conf.h"

/* One CPUID leaf (type CPUID: in = eax_in, sub = ecx_in) or MSR (type MSR:
 * in = index, only eax and edx used) and its output registers. */
typedef enum {
    VRT_CPUX_CPUID = 1,
    VRT_CPUX_MSR = 2
} VrtCpuxItemType;
typedef struct {
    VrtCpuxItemType type;
    guint32 in, sub;
    guint32 eax, ebx, ecx, edx;
} VrtCpuxItem;

/* A set of items sorted by type, in, sub; an item is in it once. */
typedef struct {
    GArray *items; /* VrtCpuxItem */
} VrtCpuxData;

VrtCpuxData *vrt_cpux_data_new(void);
void vrt_cpux_data_free(VrtCpuxData *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtCpuxData, vrt_cpux_data_free)
/* Adds an item, or ORs its bits into the one already there. */
void vrt_cpux_data_add(VrtCpuxData *data, const VrtCpuxItem *item);
/* The item of that type and input in data, or NULL. */
const VrtCpuxItem *vrt_cpux_data_get(const VrtCpuxData *data, VrtCpuxItemType type, guint32 in, guint32 sub);

/* The x86 CPU map is read once from the built-in copy of
 * x86_cpu_map.tsv; false (VIR_ERR_INTERNAL_ERROR) only if it is broken. */
bool vrt_cpux_map_ready(GError **error);
/* Names of the map's models in its order (NULL-terminated, caller frees). */
char **vrt_cpux_model_names(void);
/* True when name is a model of the map; *vendor (if asked) is its
 * vendor's name, NULL when the map gives it none. */
bool vrt_cpux_model_known(const char *name, const char **vendor);
/* True when name is a feature of the map. */
bool vrt_cpux_has_feature(const char *name);
/* True when data has every bit of the feature called name. */
bool vrt_cpux_data_has_feature(const VrtCpuxData *data, const char *name);

/* The host CPU for data read from the CPUID instruction: the map's model
 * that leaves the fewest features over (among those whose every feature
 * the CPU has, preferring a model whose signature matches), the vendor,
 * signature and the remaining features in the map's order, as libvirt's
 * host CPU. VIR_ERR_INTERNAL_ERROR when no model fits. */
VrtCpuDef *vrt_cpux_decode_host(const VrtCpuxData *data, GError **error);

/* The CPUID bits a CPU definition stands for: its model's and required
 * features' bits, its vendor string in leaf 0 and its signature in leaf
 * 1's eax (what a CPU reporting exactly that would give). */
VrtCpuxData *vrt_cpux_encode(const VrtCpuDef *cpu, GError **error);

/* virConnectCompareCPU: cpu (host or guest) against the host CPU. Returns
 * libvirt's result (0 incompatible, 1 identical, 2 superset) or -1 with
 * error set: unknown model or feature, or, when fail_incompatible,
 * VIR_ERR_CPU_INCOMPATIBLE with libvirt's reason. */
int vrt_cpux_compare(const VrtCpuDef *host, const VrtCpuDef *cpu, bool fail_incompatible, GError **error);

/* A CPU model as the hypervisor offers it: its name (one of the map's)
 * and the features (libvirt's names) it lacks on this host, NULL-terminated. */
typedef struct {
    const char *name;
    char **blockers;
} VrtCpuxHvModel;

/* The CPUID bits of a CPU the hypervisor describes by feature names
 * (unknown ones ignored), a CPUID vendor string ("AuthenticAMD", NULL:
 * none) and a signature, as libvirt reads QEMU's CPU model expansion. */
VrtCpuxData *vrt_cpux_data_from_features(const char *vendor_string, guint family, guint model, guint stepping,
                                         const char *const *features, GError **error);

/* The guest CPU (custom, exact, fallback forbid) that describes data with
 * one of the hypervisor's models, each disabling its blockers, as
 * libvirt names the host-model CPU of its domain capabilities. */
VrtCpuDef *vrt_cpux_decode_hv(const VrtCpuxData *data, const VrtCpuxHvModel *models, guint nmodels, GError **error);

/* virConnectBaselineCPU: the guest CPU (mode custom, match exact) all
 * cpus can run, as libvirt computes it, the model preferably one of the
 * inputs'; migratable drops the features that block migration. */
VrtCpuDef *vrt_cpux_baseline(VrtCpuDef **cpus, guint ncpus, bool migratable, GError **error);
/* virConnectBaselineHypervisorCPU's: the same, decoded only into the
 * hypervisor's models (with their blockers), the result cut to the
 * features (libvirt's names) the hypervisor knows when features is given. */
VrtCpuDef *vrt_cpux_baseline_hv(VrtCpuDef **cpus, guint ncpus, const VrtCpuxHvModel *models, guint nmodels,
                                const char *const *features, bool migratable, GError **error);

/* Replaces cpu's feature list by its model's features followed by its own
 * (libvirt's EXPAND_FEATURES); a guest CPU also lists the model's removed
 * features as disabled. */
bool vrt_cpux_expand_features(VrtCpuDef *cpu, GError **error);
