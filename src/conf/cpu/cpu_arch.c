/*
 * The non-x86 CPU drivers a client of an x86 host can reach: ppc64's
 * models and baseline, ARM's baseline, and the architectures libvirt has
 * a CPU driver for, so an unknown one gets libvirt's error. The facts
 * (model names and vendors) are those of libvirt 9.0's CPU map
 * (cpu_map/ppc64_*.xml).
 */
#include "conf/cpu/cpu_arch.h"

#include "util/error.h"

typedef struct {
    const char *name;
    const char *vendor;
} Ppc64Model;

/* In the order of libvirt's cpu_map/index.xml. */
static const Ppc64Model ppc64_models[] = {
    { "POWER6", "IBM" },
    { "POWER7", "IBM" },
    { "POWER8", "IBM" },
    { "POWER9", "IBM" },
    { "POWER10", "IBM" },
    { "POWERPC_e5500", "Freescale" },
    { "POWERPC_e6500", "Freescale" },
};
static const char *const ppc64_vendors[] = { "IBM", "Freescale", NULL };

bool
vrt_arch_name_known(const char *arch)
{
    static const char *const arches[] = { "alpha",    "armv6l",  "armv7l",    "armv7b",   "aarch64",    "cris",
                                          "i686",     "ia64",    "lm32",      "m68k",     "microblaze", "microblazeel",
                                          "mips",     "mipsel",  "mips64",    "mips64el", "openrisc",   "parisc",
                                          "parisc64", "ppc",     "ppcle",     "ppc64",    "ppc64le",    "ppcemb",
                                          "riscv32",  "riscv64", "s390",      "s390x",    "sh4",        "sh4eb",
                                          "sparc",    "sparc64", "unicore32", "x86_64",   "xtensa",     "xtensaeb",
                                          NULL };

    return arch && g_strv_contains(arches, arch);
}

VrtCpuArchFamily
vrt_cpu_arch_family(const char *arch)
{
    static const struct {
        const char *arch;
        VrtCpuArchFamily family;
    } arches[] = {
        { "x86_64", VRT_CPU_ARCH_X86 },    { "i686", VRT_CPU_ARCH_X86 },    { "ppc64", VRT_CPU_ARCH_PPC64 },
        { "ppc64le", VRT_CPU_ARCH_PPC64 }, { "aarch64", VRT_CPU_ARCH_ARM }, { "armv6l", VRT_CPU_ARCH_ARM },
        { "armv7l", VRT_CPU_ARCH_ARM },    { "armv7b", VRT_CPU_ARCH_ARM },  { "s390", VRT_CPU_ARCH_S390 },
        { "s390x", VRT_CPU_ARCH_S390 },
    };

    for (guint i = 0; arch && i < G_N_ELEMENTS(arches); i++) {
        if (g_str_equal(arch, arches[i].arch))
            return arches[i].family;
    }
    return VRT_CPU_ARCH_UNKNOWN;
}

GPtrArray *
vrt_cpu_arch_model_names(const char *arch, GError **error)
{
    GPtrArray *names;

    if (!vrt_arch_name_known(arch)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "cannot find architecture %s", arch);
        return NULL;
    }
    switch (vrt_cpu_arch_family(arch)) {
    case VRT_CPU_ARCH_UNKNOWN:
    case VRT_CPU_ARCH_X86:
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "'%s' architecture is not supported by CPU driver", arch);
        return NULL;
    case VRT_CPU_ARCH_PPC64:
        names = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < G_N_ELEMENTS(ppc64_models); i++)
            g_ptr_array_add(names, g_strdup(ppc64_models[i].name));
        return names;
    case VRT_CPU_ARCH_ARM:
    case VRT_CPU_ARCH_S390: break;
    }
    return g_ptr_array_new_with_free_func(g_free);
}

static const Ppc64Model *
ppc64_model_find(const char *name)
{
    for (guint i = 0; name && i < G_N_ELEMENTS(ppc64_models); i++) {
        if (g_str_equal(name, ppc64_models[i].name))
            return &ppc64_models[i];
    }
    return NULL;
}

/* libvirt compares ppc64 models by name only: capabilities of old hosts
 * name models (power7+, power8e) the map cannot relate to each other. */
static VrtCpuDef *
ppc64_baseline(VrtCpuDef **cpus, guint ncpus, GError **error)
{
    const Ppc64Model *model = ppc64_model_find(cpus[0]->model);
    g_autoptr(VrtCpuDef) cpu = NULL;

    if (!model) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Unknown CPU model %s", cpus[0]->model);
        return NULL;
    }
    for (guint i = 0; i < ncpus; i++) {
        if (!g_str_equal(cpus[i]->model, model->name)) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "CPUs are incompatible");
            return NULL;
        }
        if (!cpus[i]->vendor)
            continue;
        if (!g_strv_contains(ppc64_vendors, cpus[i]->vendor)) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "Unknown CPU vendor %s", cpus[i]->vendor);
            return NULL;
        }
        /* every model of the map has a vendor, so libvirt's check of two
         * CPUs' vendors against each other never comes into play, and its
         * answer never names the vendor */
        if (!g_str_equal(model->vendor, cpus[i]->vendor)) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "CPU vendor %s of model %s differs from vendor %s",
                          model->vendor, model->name, cpus[i]->vendor);
            return NULL;
        }
    }
    cpu = vrt_cpu_def_new(VRT_CPU_TYPE_GUEST);
    cpu->model = g_strdup(model->name);
    cpu->match = VRT_CPU_MATCH_EXACT;
    cpu->fallback = VRT_CPU_FALLBACK_FORBID;
    return g_steal_pointer(&cpu);
}

VrtCpuDef *
vrt_cpu_arch_baseline(VrtCpuDef **cpus, guint ncpus, GError **error)
{
    VrtCpuDef *cpu;

    if (ncpus < 1) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "no CPUs given");
        return NULL;
    }
    for (guint i = 0; i < ncpus; i++) {
        if (!cpus[i]->model) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "no CPU model specified at index %u", i);
            return NULL;
        }
    }
    switch (vrt_cpu_arch_family(cpus[0]->arch)) {
    case VRT_CPU_ARCH_PPC64: return ppc64_baseline(cpus, ncpus, error);
    case VRT_CPU_ARCH_ARM:
        /* libvirt's ARM driver takes the first CPU's model, unchecked */
        cpu = vrt_cpu_def_new(VRT_CPU_TYPE_GUEST);
        cpu->model = g_strdup(cpus[0]->model);
        cpu->match = VRT_CPU_MATCH_EXACT;
        return cpu;
    case VRT_CPU_ARCH_S390:
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "cannot compute baseline CPU of %s architecture", cpus[0]->arch);
        return NULL;
    case VRT_CPU_ARCH_X86:
    case VRT_CPU_ARCH_UNKNOWN: break;
    }
    vrt_error_set(error, VIR_ERR_NO_SUPPORT, "'%s' architecture is not supported by CPU driver",
                  cpus[0]->arch ? cpus[0]->arch : "none");
    return NULL;
}
