/*
 * The QEMU options that carry a domain's <features> (domain_features.h)
 * and its paravirtual timers: properties of the guest CPU (-cpu), of the
 * machine (-machine), of the accelerator (-accel), and the -global and
 * -device options some of them need, as libvirt 9.0 passes them.
 */
#pragma once

#include "conf/domain/domain_conf.h"

#include <glib.h>

/* Appends ",prop=value" for each CPU property the features and timers set. */
void vrt_qemu_features_cpu_props(const VrtDomainDef *def, GString *cpu);
/* Appends the CPU properties of <cpu><cache> and <maxphysaddr>, which
 * libvirt puts after the CPU's features. */
void vrt_qemu_features_cpu_tail(const VrtDomainDef *def, GString *cpu);
/* Whether the two above append anything, or a vendor id is set. */
bool vrt_qemu_features_touch_cpu(const VrtDomainDef *def);
/* The CPU model QEMU's -cpu names when the definition gives none but a
 * property must be set: libvirt's qemu64 (qemu32 for an i686 guest). */
const char *vrt_qemu_features_default_cpu(const VrtDomainDef *def);
/* Appends the machine properties (smm=, kernel_irqchip=). */
void vrt_qemu_features_machine_props(const VrtDomainDef *def, GString *machine);
/* The -accel value: kvm or tcg with its properties (dirty-ring-size, tb-size).
 * NULL with VIR_ERR_CONFIG_UNSUPPORTED when a property needs the other one. */
char *vrt_qemu_features_accel(const VrtDomainDef *def, GError **error);
/* Appends the -global and -device options (TSEG size, vmcoreinfo). */
void vrt_qemu_features_extra_args(const VrtDomainDef *def, GPtrArray *argv);
/* -rtc's value: the clock offset's base (a date for variable and absolute
 * offsets, computed now) with the rtc timer's clock= and driftfix=. */
char *vrt_qemu_features_rtc(const VrtDomainDef *def);
/* Appends the pit timer's -global and the hpet timer's -no-hpet. */
void vrt_qemu_features_timer_args(const VrtDomainDef *def, GPtrArray *argv);
