/*
 * Reading and writing the <features> of a domain that go beyond
 * acpi/apic/pae/vmport (domain_features.h): libvirt's element forms,
 * defaults (a bare <pmu/> or <vmcoreinfo/> is on, a <hyperv> without mode
 * is custom), limits and messages, and its output order, so a definition
 * written back matches what libvirtd writes.
 */
#include "conf/domain/domain_priv.h"
#include "conf/domain/domain_features.h"
#include "util/error.h"

#include <string.h>

const char *const vrt_hyperv_feature_names[] = {
    "relaxed",   "vapic",       "spinlocks",       "vpindex",  "runtime", "synic", "stimer", "reset",
    "vendor_id", "frequencies", "reenlightenment", "tlbflush", "ipi",     "evmcs", "avic",   NULL,
};

const char *const vrt_kvm_feature_names[] = {
    "hidden", "hint-dedicated", "poll-control", "pv-ipi", "dirty-ring", NULL,
};

/* libvirt's longest Hyper-V vendor id (CPUID leaf 0x40000000 has 12 bytes) */
#define VRT_HYPERV_VENDOR_ID_MAX 12

bool vrt_parse_memory_kib(xmlNodePtr node, guint64 *kib, GError **error);

void
vrt_domain_features_def_free(VrtDomainFeaturesDef *feat)
{
    if (!feat)
        return;
    g_free(feat->ioapic);
    g_free(feat->hyperv_vendor_id);
    g_free(feat);
}

static VrtDomainFeaturesDef *
feat_of(VrtDomainDef *def)
{
    if (!def->feat)
        def->feat = g_new0(VrtDomainFeaturesDef, 1);
    return def->feat;
}

/* A state='on|off' every child of <hyperv> and <kvm> must have. */
static bool
required_state(xmlNodePtr node, VrtTristate *out, GError **error)
{
    *out = VRT_TRISTATE_DEFAULT;
    if (!vrt_xml_prop_tristate(node, "state", true, out, error))
        return false;
    if (*out == VRT_TRISTATE_DEFAULT) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'state' in element '%s'",
                      (const char *)node->name);
        return false;
    }
    return true;
}

static bool
parse_hyperv_child(xmlNodePtr c, VrtDomainFeaturesDef *feat, GError **error)
{
    int i = vrt_enum_from_string(vrt_hyperv_feature_names, (const char *)c->name);
    VrtTristate st;

    if (i < 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported HyperV Enlightenment feature: %s",
                      (const char *)c->name);
        return false;
    }
    if (!vrt_xml_check_attrs(c, error, "state",
                             i == VRT_HYPERV_SPINLOCKS   ? "retries"
                             : i == VRT_HYPERV_VENDOR_ID ? "value"
                                                         : NULL,
                             NULL) ||
        !required_state(c, &st, error))
        return false;
    feat->hyperv[i] = st;
    if (i == VRT_HYPERV_STIMER) {
        feat->hyperv_stimer_direct = VRT_TRISTATE_DEFAULT;
        VRT_XML_FOREACH_CHILD(d, c)
        {
            if (!vrt_xml_is(d, "direct")) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported Hyper-V stimer feature: %s",
                              (const char *)d->name);
                return false;
            }
            if (!vrt_xml_check_attrs(d, error, "state", NULL) || !required_state(d, &feat->hyperv_stimer_direct, error))
                return false;
        }
        /* libvirt reads <direct> only under an enabled stimer */
        if (st != VRT_TRISTATE_YES)
            feat->hyperv_stimer_direct = VRT_TRISTATE_DEFAULT;
    } else if (c->children && vrt_xml_next_element(c->children)) {
        return vrt_xml_unsupported(vrt_xml_next_element(c->children), error);
    }
    if (i == VRT_HYPERV_SPINLOCKS && st == VRT_TRISTATE_YES) {
        bool present = false;

        if (!vrt_xml_prop_uint(c, "retries", G_MAXUINT, &feat->hyperv_spinlocks, &present, error))
            return false;
        if (!present) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'retries' in element 'spinlocks'");
            return false;
        }
        if (feat->hyperv_spinlocks < 0xFFF) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "HyperV spinlock retry count must be at least 4095");
            return false;
        }
    }
    if (i == VRT_HYPERV_VENDOR_ID && st == VRT_TRISTATE_YES) {
        g_free(feat->hyperv_vendor_id);
        feat->hyperv_vendor_id = vrt_xml_prop(c, "value");
        if (!feat->hyperv_vendor_id) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "missing 'value' attribute for HyperV feature 'vendor_id'");
            return false;
        }
        if (strlen(feat->hyperv_vendor_id) > VRT_HYPERV_VENDOR_ID_MAX) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "HyperV vendor_id value must not be more than %d characters.",
                          VRT_HYPERV_VENDOR_ID_MAX);
            return false;
        }
        /* it goes into QEMU's -cpu option list; so does '=' badly */
        if (strchr(feat->hyperv_vendor_id, ',')) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "HyperV vendor_id value is invalid");
            return false;
        }
    }
    return true;
}

static bool
parse_hyperv(xmlNodePtr node, VrtDomainFeaturesDef *feat, GError **error)
{
    g_autofree char *mode = vrt_xml_prop(node, "mode");

    if (!vrt_xml_check_attrs(node, error, "mode", NULL))
        return false;
    if (!mode || g_str_equal(mode, "custom")) {
        feat->hyperv_mode = VRT_HYPERV_MODE_CUSTOM;
    } else if (g_str_equal(mode, "passthrough")) {
        feat->hyperv_mode = VRT_HYPERV_MODE_PASSTHROUGH;
    } else {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'mode' in element 'hyperv': '%s'.", mode);
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!parse_hyperv_child(c, feat, error))
            return false;
    }
    return true;
}

static bool
parse_kvm(xmlNodePtr node, VrtDomainFeaturesDef *feat, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    memset(feat->kvm_features, 0, sizeof(feat->kvm_features));
    feat->dirty_ring_size = 0;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        int i = vrt_enum_from_string(vrt_kvm_feature_names, (const char *)c->name);
        VrtTristate st;

        if (i < 0) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported KVM feature: %s", (const char *)c->name);
            return false;
        }
        if (!vrt_xml_check_attrs(c, error, "state", i == VRT_KVM_DIRTY_RING ? "size" : NULL, NULL) ||
            !required_state(c, &st, error))
            return false;
        if (c->children && vrt_xml_next_element(c->children))
            return vrt_xml_unsupported(vrt_xml_next_element(c->children), error);
        feat->kvm_features[i] = st;
        if (i == VRT_KVM_DIRTY_RING) {
            feat->dirty_ring_size = 0;
            if (st == VRT_TRISTATE_YES) {
                guint size = 0;
                bool present = false;

                if (!vrt_xml_prop_uint(c, "size", G_MAXUINT, &size, &present, error))
                    return false;
                if (!present) {
                    vrt_error_set(error, VIR_ERR_XML_ERROR,
                                  "Missing required attribute 'size' in element 'dirty-ring'");
                    return false;
                }
                if ((size & (size - 1)) || size < 1024 || size > 65536) {
                    vrt_error_set(error, VIR_ERR_XML_ERROR, "dirty ring must be power of 2 and ranges [1024, 65536]");
                    return false;
                }
                feat->dirty_ring_size = size;
            }
        }
    }
    feat->kvm = true;
    return true;
}

/* <smm state=> with an optional <tseg unit=> (MiB when no unit). */
static bool
parse_smm(xmlNodePtr node, VrtDomainFeaturesDef *feat, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, "state", NULL) ||
        !vrt_xml_prop_tristate(node, "state", true, &feat->smm, error))
        return false;
    if (feat->smm == VRT_TRISTATE_DEFAULT)
        feat->smm = VRT_TRISTATE_YES;
    feat->tseg_given = false;
    feat->tseg_bytes = 0;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        g_autofree char *unit = NULL;
        guint64 kib = 0;

        if (!vrt_xml_is(c, "tseg"))
            return vrt_xml_unsupported(c, error);
        if (feat->smm != VRT_TRISTATE_YES)
            continue; /* libvirt reads it only with SMM on */
        unit = vrt_xml_prop(c, "unit");
        if (!vrt_parse_memory_kib(c, &kib, error))
            return false;
        /* read as KiB when unitless, and a number of KiB is as many MiB */
        if (!unit && kib > G_MAXUINT64 / 1024 / 1024) {
            vrt_error_set(error, VIR_ERR_OVERFLOW, "value of <tseg> is too large");
            return false;
        }
        feat->tseg_bytes = unit ? kib * 1024 : kib * 1024 * 1024;
        feat->tseg_given = true;
    }
    return true;
}

static bool
parse_tcg(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    guint64 kib = 0;

    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!vrt_xml_is(c, "tb-cache"))
            return vrt_xml_unsupported(c, error);
        if (!vrt_parse_memory_kib(c, &kib, error))
            return false;
    }
    if (kib == 0)
        return true; /* libvirt drops an empty <tcg> */
    if (def->virt_type != VRT_DOMAIN_VIRT_QEMU) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "TCG features are incompatible with domain type '%s'",
                      vrt_virt_type_names[def->virt_type]);
        return false;
    }
    if (kib & 0x3ff) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "tb-cache size must be an integer multiple of MiB");
        return false;
    }
    feat_of(def)->tb_cache_kib = kib;
    return true;
}

/* A state='on|off' feature that is on when written bare. */
static bool
parse_switch(xmlNodePtr node, VrtTristate *out, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, "state", NULL) || !vrt_xml_prop_tristate(node, "state", true, out, error))
        return false;
    if (*out == VRT_TRISTATE_DEFAULT)
        *out = VRT_TRISTATE_YES;
    VRT_XML_FOREACH_CHILD(c, node)
    return vrt_xml_unsupported(c, error);
    return true;
}

bool
vrt_parse_feature_ext(xmlNodePtr c, VrtDomainDef *def, GError **error)
{
    if (vrt_xml_is(c, "apic")) {
        if (!vrt_xml_check_attrs(c, error, "eoi", NULL))
            return false;
        def->features |= VRT_DOMAIN_FEATURE_APIC;
        feat_of(def)->apic_eoi = VRT_TRISTATE_DEFAULT;
        return vrt_xml_prop_tristate(c, "eoi", true, &def->feat->apic_eoi, error);
    }
    if (vrt_xml_is(c, "pvspinlock"))
        return parse_switch(c, &feat_of(def)->pvspinlock, error);
    if (vrt_xml_is(c, "pmu"))
        return parse_switch(c, &feat_of(def)->pmu, error);
    if (vrt_xml_is(c, "vmcoreinfo"))
        return parse_switch(c, &feat_of(def)->vmcoreinfo, error);
    if (vrt_xml_is(c, "smm"))
        return parse_smm(c, feat_of(def), error);
    if (vrt_xml_is(c, "hyperv"))
        return parse_hyperv(c, feat_of(def), error);
    if (vrt_xml_is(c, "kvm"))
        return parse_kvm(c, feat_of(def), error);
    if (vrt_xml_is(c, "tcg"))
        return parse_tcg(c, def, error);
    if (vrt_xml_is(c, "ioapic")) {
        g_autofree char *driver = vrt_xml_prop(c, "driver");

        if (!vrt_xml_check_attrs(c, error, "driver", NULL))
            return false;
        if (driver && !g_str_equal(driver, "kvm") && !g_str_equal(driver, "qemu")) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'driver' in element 'ioapic': '%s'.",
                          driver);
            return false;
        }
        g_free(feat_of(def)->ioapic);
        def->feat->ioapic = g_steal_pointer(&driver);
        return true;
    }
    return vrt_xml_unsupported(c, error);
}

static const char *
onoff(VrtTristate t)
{
    return t == VRT_TRISTATE_YES ? "on" : "off";
}

static void
format_hyperv(VrtFmt *f, const VrtDomainFeaturesDef *feat)
{
    bool any = false;

    for (guint i = 0; i < VRT_HYPERV_LAST; i++)
        any = any || feat->hyperv[i];
    if (!any) {
        vrt_fmt_line(f, "<hyperv mode='%s'/>", feat->hyperv_mode == VRT_HYPERV_MODE_CUSTOM ? "custom" : "passthrough");
        return;
    }
    vrt_fmt_line(f, "<hyperv mode='%s'>", feat->hyperv_mode == VRT_HYPERV_MODE_CUSTOM ? "custom" : "passthrough");
    f->indent++;
    for (guint i = 0; i < VRT_HYPERV_LAST; i++) {
        const char *name = vrt_hyperv_feature_names[i];
        VrtTristate st = feat->hyperv[i];

        if (!st)
            continue;
        if (i == VRT_HYPERV_SPINLOCKS && st == VRT_TRISTATE_YES) {
            vrt_fmt_line(f, "<%s state='on' retries='%u'/>", name, feat->hyperv_spinlocks);
        } else if (i == VRT_HYPERV_VENDOR_ID && st == VRT_TRISTATE_YES) {
            g_autofree char *v = vrt_xml_escape(feat->hyperv_vendor_id);

            vrt_fmt_line(f, "<%s state='on' value='%s'/>", name, v);
        } else if (i == VRT_HYPERV_STIMER && st == VRT_TRISTATE_YES && feat->hyperv_stimer_direct == VRT_TRISTATE_YES) {
            vrt_fmt_line(f, "<%s state='on'>", name);
            f->indent++;
            vrt_fmt_line(f, "<direct state='on'/>");
            f->indent--;
            vrt_fmt_line(f, "</%s>", name);
        } else {
            vrt_fmt_line(f, "<%s state='%s'/>", name, onoff(st));
        }
    }
    f->indent--;
    vrt_fmt_line(f, "</hyperv>");
}

static void
format_kvm(VrtFmt *f, const VrtDomainFeaturesDef *feat)
{
    bool any = false;

    for (guint i = 0; i < VRT_KVM_LAST; i++)
        any = any || feat->kvm_features[i];
    if (!any) {
        vrt_fmt_line(f, "<kvm/>");
        return;
    }
    vrt_fmt_line(f, "<kvm>");
    f->indent++;
    for (guint i = 0; i < VRT_KVM_LAST; i++) {
        if (!feat->kvm_features[i])
            continue;
        if (i == VRT_KVM_DIRTY_RING && feat->dirty_ring_size)
            vrt_fmt_line(f, "<%s state='%s' size='%u'/>", vrt_kvm_feature_names[i], onoff(feat->kvm_features[i]),
                         feat->dirty_ring_size);
        else
            vrt_fmt_line(f, "<%s state='%s'/>", vrt_kvm_feature_names[i], onoff(feat->kvm_features[i]));
    }
    f->indent--;
    vrt_fmt_line(f, "</kvm>");
}

void
vrt_format_apic(VrtFmt *f, const VrtDomainDef *def)
{
    if (def->feat && def->feat->apic_eoi)
        vrt_fmt_line(f, "<apic eoi='%s'/>", onoff(def->feat->apic_eoi));
    else
        vrt_fmt_line(f, "<apic/>");
}

void
vrt_format_features_mid(VrtFmt *f, const VrtDomainFeaturesDef *feat)
{
    if (!feat)
        return;
    if (feat->hyperv_mode)
        format_hyperv(f, feat);
    if (feat->kvm)
        format_kvm(f, feat);
    if (feat->pvspinlock)
        vrt_fmt_line(f, "<pvspinlock state='%s'/>", onoff(feat->pvspinlock));
    if (feat->pmu)
        vrt_fmt_line(f, "<pmu state='%s'/>", onoff(feat->pmu));
}

/* The largest binary unit that divides the size, as libvirt prints it. */
static void
format_tseg(VrtFmt *f, guint64 bytes)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    guint u = 0;

    while (u + 1 < G_N_ELEMENTS(units) && bytes && bytes % 1024 == 0) {
        bytes /= 1024;
        u++;
    }
    vrt_fmt_line(f, "<tseg unit='%s'>%" G_GUINT64_FORMAT "</tseg>", units[u], bytes);
}

void
vrt_format_features_tail(VrtFmt *f, const VrtDomainFeaturesDef *feat)
{
    if (!feat)
        return;
    if (feat->smm == VRT_TRISTATE_YES && feat->tseg_given) {
        vrt_fmt_line(f, "<smm state='on'>");
        f->indent++;
        format_tseg(f, feat->tseg_bytes);
        f->indent--;
        vrt_fmt_line(f, "</smm>");
    } else if (feat->smm) {
        vrt_fmt_line(f, "<smm state='%s'/>", onoff(feat->smm));
    }
    if (feat->ioapic)
        vrt_fmt_line(f, "<ioapic driver='%s'/>", feat->ioapic);
    if (feat->vmcoreinfo)
        vrt_fmt_line(f, "<vmcoreinfo state='%s'/>", onoff(feat->vmcoreinfo));
    if (feat->tb_cache_kib) {
        vrt_fmt_line(f, "<tcg>");
        f->indent++;
        vrt_fmt_line(f, "<tb-cache unit='KiB'>%" G_GUINT64_FORMAT "</tb-cache>", feat->tb_cache_kib);
        f->indent--;
        vrt_fmt_line(f, "</tcg>");
    }
}

bool
vrt_domain_features_any(const VrtDomainFeaturesDef *feat)
{
    return feat && (feat->pvspinlock || feat->pmu || feat->vmcoreinfo || feat->smm || feat->ioapic ||
                    feat->hyperv_mode || feat->kvm || feat->tb_cache_kib);
}

/* libvirt's rules across elements: interrupt remapping needs QEMU's I/O
 * APIC, eim needs interrupt remapping; a TSEG size only on q35, in whole
 * MiB (its QEMU post-parse). */
bool
vrt_domain_features_post_parse(const VrtDomainDef *def, GError **error)
{
    const VrtDomainFeaturesDef *feat = def->feat;

    if (def->iommu && def->iommu->intremap == VRT_TRISTATE_YES && !(feat && g_strcmp0(feat->ioapic, "qemu") == 0)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "IOMMU interrupt remapping requires split I/O APIC (ioapic driver='qemu')");
        return false;
    }
    if (def->iommu && def->iommu->eim == VRT_TRISTATE_YES && def->iommu->intremap != VRT_TRISTATE_YES) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "IOMMU eim requires interrupt remapping to be enabled");
        return false;
    }
    if (!feat || feat->smm != VRT_TRISTATE_YES || !feat->tseg_given)
        return true;
    if (!vrt_domain_def_is_q35(def)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "SMM TSEG is only supported with q35 machine type");
        return false;
    }
    if (feat->tseg_bytes & ((1u << 20) - 1)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "SMM TSEG size must be divisible by 1 MiB");
        return false;
    }
    return true;
}
