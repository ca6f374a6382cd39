/*
 * The hypervisor's CPU as libvirt's QEMU driver shows it: the domain
 * capabilities' host-model CPU, and virConnectCompareHypervisorCPU and
 * virConnectBaselineHypervisorCPU, which answer for what QEMU can give a
 * guest (its models, their blockers, its own CPU's features) rather than
 * for the host's CPUID. QEMU's answers come from qemu_capabilities.c's
 * cached probe; what the names mean is the x86 CPU driver's.
 */
#include "conf/cpu/cpu_x86.h"
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_driver.h"
#include "util/error.h"

#include <string.h>

/* QEMU's CPU models as the x86 driver takes them (names and blockers
 * point into models, which outlives the array). */
static GArray *
hv_models(const GPtrArray *models)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(VrtCpuxHvModel));

    for (guint i = 0; i < models->len; i++) {
        const VrtQemuCpuModel *m = g_ptr_array_index(models, i);
        VrtCpuxHvModel hv = { m->name, m->blockers };
        g_array_append_val(a, hv);
    }
    return a;
}

/* The hypervisor's models and its own CPU for info and the accelerator;
 * false with error set when QEMU cannot tell them. */
static bool
hv_facts(VrtQemuDriver *drv, const VrtQemuCapsInfo *info, bool kvm, GArray **models, const VrtQemuCpuHost **host,
         GError **error)
{
    const GPtrArray *list = vrt_qemu_caps_get_cpu_models(drv->caps, info, kvm, error);

    if (!list)
        return false;
    *host = vrt_qemu_caps_get_cpu_host(drv->caps, info, kvm, error);
    *models = hv_models(list);
    return true;
}

VrtCpuDef *
vrt_qemu_driver_host_model_cpu(VrtQemuDriver *drv, const VrtQemuCapsInfo *info, bool kvm, GError **error)
{
    g_autoptr(GArray) models = NULL;
    const VrtQemuCpuHost *host = NULL;
    g_autoptr(VrtCpuxData) data = NULL;

    if (!g_str_equal(info->arch, "x86_64") && !g_str_equal(info->arch, "i686")) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                      "QEMU '%s' does not support reporting CPU model for virttype '%s'", info->emulator,
                      kvm ? "kvm" : "qemu");
        return NULL;
    }
    if (!hv_facts(drv, info, kvm, &models, &host, error))
        return NULL;
    if (!host) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                      "QEMU '%s' does not support reporting CPU model for virttype '%s'", info->emulator,
                      kvm ? "kvm" : "qemu");
        return NULL;
    }
    data = vrt_cpux_data_from_features(host->vendor, host->family, host->model, host->stepping,
                                       (const char *const *)host->enabled->pdata, error);
    if (!data)
        return NULL;
    return vrt_cpux_decode_hv(data, (const VrtCpuxHvModel *)(void *)models->data, models->len, error);
}

int
vrt_qemu_driver_compare_hypervisor_cpu(VrtQemuDriver *drv, const char *emulator, const char *arch, const char *machine,
                                       const char *virttype, const char *xml, bool fail_incompatible, GError **error)
{
    const VrtQemuCapsInfo *info;
    g_autoptr(VrtCpuDef) hv = NULL;
    g_autoptr(VrtCpuDef) cpu = NULL;
    bool kvm;

    if (!vrt_qemu_driver_lookup_default(drv, emulator, arch, machine, virttype, &info, NULL, &kvm, error))
        return -1;
    if (!(hv = vrt_qemu_driver_host_model_cpu(drv, info, kvm, error)))
        return -1;
    if (!(cpu = vrt_cpu_def_parse(xml, VRT_CPU_TYPE_AUTO, error)))
        return -1;
    return vrt_cpux_compare(hv, cpu, fail_incompatible, error);
}

VrtCpuDef *
vrt_qemu_driver_baseline_hypervisor_cpu(VrtQemuDriver *drv, const char *emulator, const char *arch, const char *machine,
                                        const char *virttype, VrtCpuDef **cpus, guint ncpus, bool expand,
                                        bool migratable, GError **error)
{
    const VrtQemuCapsInfo *info;
    g_autoptr(GArray) models = NULL;
    const VrtQemuCpuHost *host = NULL;
    const char *const *features = NULL;
    g_autoptr(VrtCpuDef) cpu = NULL;
    bool kvm;

    if (!vrt_qemu_driver_lookup_default(drv, emulator, arch, machine, virttype, &info, NULL, &kvm, error))
        return NULL;
    if (!hv_facts(drv, info, kvm, &models, &host, error))
        return NULL;
    if (models->len == 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                      "QEMU '%s' does not support any CPU models for virttype '%s'", info->emulator,
                      kvm ? "kvm" : "qemu");
        return NULL;
    }
    if (!g_str_equal(info->arch, "x86_64") && !g_str_equal(info->arch, "i686")) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                      "computing baseline hypervisor CPU is not supported for arch %s", info->arch);
        return NULL;
    }
    if (host) {
        /* QEMU's own CPU lists every feature it knows; asked for a
         * migratable CPU, only those that migrate, so the baseline needs
         * no filtering of its own (as libvirt) */
        features = (const char *const *)(migratable ? host->migratable : host->props)->pdata;
        migratable = false;
    }
    cpu = vrt_cpux_baseline_hv(cpus, ncpus, (const VrtCpuxHvModel *)(void *)models->data, models->len, features,
                               migratable, error);
    if (!cpu)
        return NULL;
    cpu->fallback = VRT_CPU_FALLBACK_FORBID;
    if (expand && !vrt_cpux_expand_features(cpu, error))
        return NULL;
    return g_steal_pointer(&cpu);
}
