/*
 * QEMU options for a domain's <features> and paravirtual timers, as
 * libvirt 9.0 writes them (its qemuxml2argv outputs): the KVM and Hyper-V
 * switches and the PMU are properties of the guest CPU, SMM and the I/O
 * APIC's placement properties of the machine, the TSEG size a global of
 * q35's MCH, vmcoreinfo a device, the KVM dirty ring and the TCG
 * translation cache properties of the accelerator.
 */
#include "drivers/qemu/qemu_command_features.h"
#include "util/error.h"

static const char *
onoff(VrtTristate t)
{
    return t == VRT_TRISTATE_YES ? "on" : "off";
}

/* The <timer> named name, or NULL. */
static const VrtDomainTimerDef *
timer(const VrtDomainDef *def, const char *name)
{
    for (guint i = 0; def->clock.timers && i < def->clock.timers->len; i++) {
        const VrtDomainTimerDef *t = def->clock.timers->pdata[i];

        if (g_strcmp0(t->name, name) == 0)
            return t;
    }
    return NULL;
}

static void
timer_props(const VrtDomainDef *def, GString *cpu)
{
    const VrtDomainTimerDef *t;

    if ((t = timer(def, "kvmclock")) && t->present)
        g_string_append_printf(cpu, ",kvmclock=%s", t->present == VRT_TRISTATE_YES ? "on" : "off");
    if ((t = timer(def, "hypervclock")) && t->present == VRT_TRISTATE_YES)
        g_string_append(cpu, ",hv-time=on");
    if ((t = timer(def, "tsc")) && t->frequency)
        g_string_append_printf(cpu, ",tsc-frequency=%" G_GUINT64_FORMAT, t->frequency);
}

static void
hyperv_props(const VrtDomainFeaturesDef *feat, GString *cpu)
{
    if (feat->hyperv_mode == VRT_HYPERV_MODE_NONE)
        return;
    if (feat->hyperv_mode == VRT_HYPERV_MODE_PASSTHROUGH)
        g_string_append(cpu, ",hv-passthrough=on");
    for (guint i = 0; i < VRT_HYPERV_LAST; i++) {
        if (feat->hyperv[i] != VRT_TRISTATE_YES)
            continue;
        if (i == VRT_HYPERV_SPINLOCKS) {
            g_string_append_printf(cpu, ",hv-spinlocks=0x%x", feat->hyperv_spinlocks);
        } else if (i == VRT_HYPERV_VENDOR_ID) {
            /* the parser refused a comma, the only character that could
             * end the value */
            g_string_append_printf(cpu, ",hv-vendor-id=%s", feat->hyperv_vendor_id);
        } else {
            g_autofree char *name = g_strdelimit(g_strdup(vrt_hyperv_feature_names[i]), "_", '-');

            g_string_append_printf(cpu, ",hv-%s=on", name);
            if (i == VRT_HYPERV_STIMER && feat->hyperv_stimer_direct == VRT_TRISTATE_YES)
                g_string_append(cpu, ",hv-stimer-direct=on");
        }
    }
}

/* <cache> and <maxphysaddr>, after the features, as libvirt orders them */
static void
cpu_cache_props(const VrtDomainDef *def, GString *cpu)
{
    const char *cm = def->cpu.cache_mode;
    bool host = def->cpu.mode == VRT_DOMAIN_CPU_MODE_HOST_PASSTHROUGH || def->cpu.mode == VRT_DOMAIN_CPU_MODE_MAXIMUM;

    if (cm && g_str_equal(cm, "emulate")) {
        g_string_append(cpu, ",l3-cache=on");
        if (host)
            g_string_append(cpu, ",host-cache-info=off");
    } else if (cm && g_str_equal(cm, "passthrough")) {
        g_string_append(cpu, ",host-cache-info=on,l3-cache=off");
    } else if (cm) {
        g_string_append(cpu, host ? ",host-cache-info=off,l3-cache=off" : ",l3-cache=off");
    }
    if (g_strcmp0(def->cpu.maxphys_mode, "passthrough") == 0)
        g_string_append(cpu, ",host-phys-bits=on");
    else if (def->cpu.maxphys_mode)
        g_string_append_printf(cpu, ",phys-bits=%d", def->cpu.maxphys_bits);
}

void
vrt_qemu_features_cpu_props(const VrtDomainDef *def, GString *cpu)
{
    const VrtDomainFeaturesDef *feat = def->feat;

    timer_props(def, cpu);
    if (!feat)
        return;
    if (feat->apic_eoi)
        g_string_append_printf(cpu, ",kvm-pv-eoi=%s", onoff(feat->apic_eoi));
    if (feat->pvspinlock)
        g_string_append_printf(cpu, ",kvm-pv-unhalt=%s", onoff(feat->pvspinlock));
    hyperv_props(feat, cpu);
    if (feat->kvm) {
        if (feat->kvm_features[VRT_KVM_HIDDEN] == VRT_TRISTATE_YES)
            g_string_append(cpu, ",kvm=off");
        if (feat->kvm_features[VRT_KVM_HINT_DEDICATED] == VRT_TRISTATE_YES)
            g_string_append(cpu, ",kvm-hint-dedicated=on");
        if (feat->kvm_features[VRT_KVM_POLL_CONTROL] == VRT_TRISTATE_YES)
            g_string_append(cpu, ",kvm-poll-control=on");
        if (feat->kvm_features[VRT_KVM_PV_IPI] == VRT_TRISTATE_NO)
            g_string_append(cpu, ",kvm-pv-ipi=off");
    }
    if (feat->pmu)
        g_string_append_printf(cpu, ",pmu=%s", onoff(feat->pmu));
}

void
vrt_qemu_features_cpu_tail(const VrtDomainDef *def, GString *cpu)
{
    cpu_cache_props(def, cpu);
}

bool
vrt_qemu_features_touch_cpu(const VrtDomainDef *def)
{
    g_autoptr(GString) s = g_string_new(NULL);

    vrt_qemu_features_cpu_props(def, s);
    vrt_qemu_features_cpu_tail(def, s);
    return s->len > 0 || def->cpu.vendor_id;
}

const char *
vrt_qemu_features_default_cpu(const VrtDomainDef *def)
{
    return g_strcmp0(def->os.arch, "i686") == 0 ? "qemu32" : "qemu64";
}

void
vrt_qemu_features_machine_props(const VrtDomainDef *def, GString *machine)
{
    const VrtDomainFeaturesDef *feat = def->feat;

    if (!feat)
        return;
    if (feat->smm)
        g_string_append_printf(machine, ",smm=%s", onoff(feat->smm));
    /* QEMU's own I/O APIC, with the local APICs still in KVM, is the
     * "split" irqchip; KVM's is the whole in-kernel one */
    if (feat->ioapic)
        g_string_append_printf(machine, ",kernel_irqchip=%s", g_str_equal(feat->ioapic, "qemu") ? "split" : "on");
}

char *
vrt_qemu_features_accel(const VrtDomainDef *def, GError **error)
{
    const VrtDomainFeaturesDef *feat = def->feat;
    bool kvm = def->virt_type == VRT_DOMAIN_VIRT_KVM;
    GString *accel = g_string_new(kvm ? "kvm" : "tcg");

    if (feat && feat->kvm && feat->kvm_features[VRT_KVM_DIRTY_RING] == VRT_TRISTATE_YES) {
        if (!kvm) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "the KVM dirty ring needs a domain of type 'kvm'");
            g_string_free(accel, TRUE);
            return NULL;
        }
        g_string_append_printf(accel, ",dirty-ring-size=%u", feat->dirty_ring_size);
    }
    /* the parser allows a cache size only on a 'qemu' domain, in MiB */
    if (feat && feat->tb_cache_kib && !kvm)
        g_string_append_printf(accel, ",tb-size=%" G_GUINT64_FORMAT, feat->tb_cache_kib / 1024);
    return g_string_free(accel, FALSE);
}

void
vrt_qemu_features_extra_args(const VrtDomainDef *def, GPtrArray *argv)
{
    const VrtDomainFeaturesDef *feat = def->feat;

    /* <genid>: the generation ID the guest reads through ACPI */
    if (def->has_genid) {
        char genid[VRT_UUID_STRING_LEN];

        vrt_uuid_format(def->genid, genid);
        g_ptr_array_add(argv, g_strdup("-device"));
        g_ptr_array_add(argv, g_strdup_printf("{\"driver\":\"vmgenid\",\"guid\":\"%s\",\"id\":\"vmgenid0\"}", genid));
    }
    if (!feat)
        return;
    /* the parser allows a size only on q35, in whole MiB */
    if (feat->smm == VRT_TRISTATE_YES && feat->tseg_given) {
        g_ptr_array_add(argv, g_strdup("-global"));
        g_ptr_array_add(argv, g_strdup_printf("mch.extended-tseg-mbytes=%" G_GUINT64_FORMAT, feat->tseg_bytes >> 20));
    }
    if (feat->vmcoreinfo == VRT_TRISTATE_YES) {
        g_ptr_array_add(argv, g_strdup("-device"));
        g_ptr_array_add(argv, g_strdup("{\"driver\":\"vmcoreinfo\"}"));
    }
}

char *
vrt_qemu_features_rtc(const VrtDomainDef *def)
{
    GString *rtc = g_string_new(NULL);
    const VrtDomainTimerDef *t;

    switch (def->clock.offset) {
    case VRT_DOMAIN_CLOCK_UTC: g_string_append(rtc, "base=utc"); break;
    case VRT_DOMAIN_CLOCK_LOCALTIME:
    case VRT_DOMAIN_CLOCK_TIMEZONE: /* the zone is QEMU's TZ (qemu_process.c) */
        g_string_append(rtc, "base=localtime");
        break;
    case VRT_DOMAIN_CLOCK_VARIABLE: {
        /* the guest's clock starts adjustment seconds off UTC, or off the
         * host's local time with basis='localtime' (its offset now) */
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autoptr(GDateTime) local = g_date_time_new_now_local();
        gint64 adj = def->clock.adjustment;
        g_autoptr(GDateTime) then = NULL;
        g_autofree char *s = NULL;

        if (def->clock.basis_localtime)
            adj += g_date_time_get_utc_offset(local) / G_TIME_SPAN_SECOND;
        then = g_date_time_add_seconds(now, (gdouble)adj);
        s = then ? g_date_time_format(then, "%Y-%m-%dT%H:%M:%S") : g_strdup("utc");
        g_string_append_printf(rtc, "base=%s", s);
        break;
    }
    case VRT_DOMAIN_CLOCK_ABSOLUTE: {
        g_autoptr(GDateTime) then = g_date_time_new_from_unix_utc((gint64)def->clock.start);
        g_autofree char *s = then ? g_date_time_format(then, "%Y-%m-%dT%H:%M:%S") : g_strdup("utc");

        g_string_append_printf(rtc, "base=%s", s);
        break;
    }
    }
    if ((t = timer(def, "rtc"))) {
        if (g_strcmp0(t->track, "guest") == 0)
            g_string_append(rtc, ",clock=vm");
        else if (g_strcmp0(t->track, "wall") == 0)
            g_string_append(rtc, ",clock=host");
        else if (g_strcmp0(t->track, "realtime") == 0)
            g_string_append(rtc, ",clock=rt");
        if (g_strcmp0(t->tickpolicy, "catchup") == 0)
            g_string_append(rtc, ",driftfix=slew");
    }
    return g_string_free(rtc, FALSE);
}

void
vrt_qemu_features_timer_args(const VrtDomainDef *def, GPtrArray *argv)
{
    const VrtDomainTimerDef *t;

    /* the PIT's lost tick policy (the parser refused merge; catchup is
     * QEMU's default for the in-kernel PIT) */
    if ((t = timer(def, "pit")) && g_strcmp0(t->tickpolicy, "catchup") != 0) {
        g_ptr_array_add(argv, g_strdup("-global"));
        g_ptr_array_add(argv, g_strdup_printf("kvm-pit.lost_tick_policy=%s",
                                              g_strcmp0(t->tickpolicy, "discard") == 0 ? "discard" : "delay"));
    }
    if ((t = timer(def, "hpet")) && t->present == VRT_TRISTATE_NO)
        g_ptr_array_add(argv, g_strdup("-no-hpet"));
}
