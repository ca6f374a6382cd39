/*
 * The <features> of a domain beyond acpi/apic/pae/vmport: the paravirtual
 * switches QEMU sets on the guest CPU (<apic eoi>, <pvspinlock>, <pmu>,
 * <kvm>, <hyperv>), the machine's (<smm> with its TSEG size, <ioapic
 * driver>), <vmcoreinfo> (a device) and <tcg><tb-cache> (an accelerator
 * property). Kept as libvirt keeps them so they are written back in its
 * order and form; src/drivers/qemu/qemu_command.c turns them into QEMU
 * arguments.
 */
#pragma once

#include "util/tristate.h"

#include <glib.h>

/* <hyperv> enlightenments, in libvirt's order (its output order too). */
typedef enum {
    VRT_HYPERV_RELAXED = 0,
    VRT_HYPERV_VAPIC,
    VRT_HYPERV_SPINLOCKS,
    VRT_HYPERV_VPINDEX,
    VRT_HYPERV_RUNTIME,
    VRT_HYPERV_SYNIC,
    VRT_HYPERV_STIMER,
    VRT_HYPERV_RESET,
    VRT_HYPERV_VENDOR_ID,
    VRT_HYPERV_FREQUENCIES,
    VRT_HYPERV_REENLIGHTENMENT,
    VRT_HYPERV_TLBFLUSH,
    VRT_HYPERV_IPI,
    VRT_HYPERV_EVMCS,
    VRT_HYPERV_AVIC,
    VRT_HYPERV_LAST,
} VrtHypervFeature;

/* <kvm> switches, in libvirt's order. */
typedef enum {
    VRT_KVM_HIDDEN = 0,
    VRT_KVM_HINT_DEDICATED,
    VRT_KVM_POLL_CONTROL,
    VRT_KVM_PV_IPI,
    VRT_KVM_DIRTY_RING,
    VRT_KVM_LAST,
} VrtKvmFeature;

typedef enum {
    VRT_HYPERV_MODE_NONE = 0,
    VRT_HYPERV_MODE_CUSTOM,
    VRT_HYPERV_MODE_PASSTHROUGH,
} VrtHypervMode;

extern const char *const vrt_hyperv_feature_names[];
extern const char *const vrt_kvm_feature_names[];

typedef struct {
    VrtTristate apic_eoi; /* <apic eoi=> (only with <apic>) */
    VrtTristate pvspinlock; /* <pvspinlock state=>; YES when written without state */
    VrtTristate pmu; /* <pmu state=> */
    VrtTristate vmcoreinfo; /* <vmcoreinfo state=> */
    VrtTristate smm; /* <smm state=> */
    guint64 tseg_bytes; /* <smm><tseg>; 0 = not given */
    bool tseg_given;
    char *ioapic; /* <ioapic driver=>: "kvm", "qemu"; NULL */
    VrtHypervMode hyperv_mode; /* <hyperv mode=> */
    VrtTristate hyperv[VRT_HYPERV_LAST];
    guint hyperv_spinlocks; /* retries, with spinlocks on */
    char *hyperv_vendor_id; /* with vendor_id on */
    VrtTristate hyperv_stimer_direct;
    bool kvm; /* <kvm> present */
    VrtTristate kvm_features[VRT_KVM_LAST];
    guint dirty_ring_size; /* with dirty-ring on */
    guint64 tb_cache_kib; /* <tcg><tb-cache>; 0 = none */
} VrtDomainFeaturesDef;

void vrt_domain_features_def_free(VrtDomainFeaturesDef *feat);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainFeaturesDef, vrt_domain_features_def_free)
