/*
 * Parsing of a whole <domain> document: the top-level elements (identity,
 * memory, vcpus, os, features, cpu, clock, lifecycle, pm), dispatch of
 * <devices> to the device readers, then the post-parse rules libvirt
 * applies (defaults, a serial behind a serial console, uuid generation,
 * address conflicts). Anything not understood is refused by name.
 */
#include "conf/domain/domain_memory_dev.h"
#include "conf/domain/domain_priv.h"
#include "conf/domain/domain_tune.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>
#include <libxml/xmlsave.h>

#define VRT_DOMAIN_MAX_VCPUS 4096
/* A domain's name is a file name component: NAME.xml under etc, and under
 * run NAME.xml, NAME.pid, NAME.hostdev-start, each written through a
 * temporary "<file>.new.XXXXXX". The longest,
 * NAME.hostdev-start.new.XXXXXX, must fit in NAME_MAX (255) bytes, so a
 * name that define accepts can always be saved and loaded again. (The
 * monitor socket lives in a run directory named by the domain's id and a
 * short form of its name, so sun_path's 108 bytes do not limit names.) */
#define VRT_DOMAIN_NAME_MAX (255 - 25)

/* Memory unit suffix -> bytes: "b"/"bytes"; k m g t p e alone or with
 * "iB" (powers of 1024) or "B" (powers of 1000), case-insensitive. */
static guint64
mem_unit_scale(const char *unit)
{
    const char *powers = "kmgtpe";
    const char *p;
    guint64 base, scale = 1;

    if (g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "bytes") == 0)
        return 1;
    if (!*unit || !(p = strchr(powers, g_ascii_tolower(unit[0]))))
        return 0;
    if (!unit[1] || g_ascii_strcasecmp(unit + 1, "iB") == 0)
        base = 1024;
    else if (g_ascii_strcasecmp(unit + 1, "B") == 0)
        base = 1000;
    else
        return 0;
    for (const char *q = powers; q <= p; q++)
        scale *= base;
    return scale;
}

/* A scaled value in bytes, its unit= (default_scale bytes without one) as
 * libvirt's virParseScaledValue reads it. */
static bool
parse_scaled_bytes(xmlNodePtr node, guint64 default_scale, guint64 *bytes, GError **error)
{
    g_autofree char *unit = vrt_xml_prop(node, "unit");
    g_autofree char *text = g_strstrip(vrt_xml_text(node));
    guint64 scale = 0, value;
    char *end = NULL;

    scale = unit ? mem_unit_scale(unit) : default_scale;
    if (!scale) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown suffix '%s' in <%s>", unit, (const char *)node->name);
        return false;
    }
    errno = 0;
    value = g_ascii_strtoull(text, &end, 10);
    if (!*text || *text == '-' || errno || *end) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid value '%s' for <%s>", text, (const char *)node->name);
        return false;
    }
    /* libvirt's bound: the value in bytes fits a long long */
    if (value > (guint64)G_MAXINT64 / scale) {
        vrt_error_set(error, VIR_ERR_OVERFLOW, "value '%s %s' of <%s> is too large", text,
                      unit                 ? unit
                      : default_scale == 1 ? "B"
                                           : "KiB",
                      (const char *)node->name);
        return false;
    }
    *bytes = value * scale;
    return true;
}

/* A scaled memory value into KiB, rounded up as libvirt does. */
static bool
parse_memory_value(xmlNodePtr node, guint64 *kib, GError **error)
{
    guint64 bytes;

    if (!parse_scaled_bytes(node, 1024, &bytes, error))
        return false;
    *kib = (bytes + 1023) / 1024;
    return true;
}

/* The same, for an element whose only attribute is unit */
static bool
parse_memory(xmlNodePtr node, guint64 *kib, GError **error)
{
    return vrt_xml_check_attrs(node, error, "unit", NULL) && parse_memory_value(node, kib, error);
}

static bool
parse_vcpu(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    g_autofree char *text = g_strstrip(vrt_xml_text(node));
    g_autofree char *placement = vrt_xml_prop(node, "placement");
    guint64 v;
    bool present = false;

    if (!vrt_xml_check_attrs(node, error, "placement", "cpuset", "current", NULL))
        return false;
    {
        g_autofree char *cpuset = vrt_xml_prop(node, "cpuset");

        g_clear_pointer(&def->vcpu_cpuset, g_free);
        if (cpuset && !(def->vcpu_cpuset = vrt_cpuset_canonical(cpuset, 4096, error)))
            return false;
    }
    if (placement && !g_str_equal(placement, "static") && !g_str_equal(placement, "auto")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'placement' in element 'vcpu': '%s'.",
                      placement);
        return false;
    }
    /* 'auto': numad's advice at start, which vrt refuses there (qemu_command.c) */
    vrt_domain_tune_get(def)->vcpu_placement_auto = placement && g_str_equal(placement, "auto");
    if (!g_ascii_string_to_unsigned(text, 10, 1, VRT_DOMAIN_MAX_VCPUS, &v, NULL)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "maximum vcpus count must be an integer between 1 and %d",
                      VRT_DOMAIN_MAX_VCPUS);
        return false;
    }
    def->vcpus = (guint)v;
    if (!vrt_xml_prop_uint(node, "current", VRT_DOMAIN_MAX_VCPUS, &def->current_vcpus, &present, error))
        return false;
    if (!present) {
        def->current_vcpus = def->vcpus;
    } else if (def->current_vcpus == 0 || def->current_vcpus > def->vcpus) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "current vcpus count (%u) must be between 1 and maximum (%u)",
                      def->current_vcpus, def->vcpus);
        return false;
    }
    return true;
}

/* CPU model and feature names: letters, digits and "-_.". */
static bool
only_model_chars(const char *s)
{
    for (; *s; s++) {
        if (!g_ascii_isalnum(*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    }
    return true;
}

/* A boot menu or reboot timeout in milliseconds, in libvirt's ranges. */
static bool
parse_os_timeout(xmlNodePtr node, const char *attr, int min, int *out, bool *set, GError **error)
{
    g_autofree char *v = vrt_xml_prop(node, attr);
    gint64 n;

    if (!v)
        return true;
    if (!g_ascii_string_to_signed(v, 10, G_MININT, G_MAXINT, &n, NULL) || (min == 0 && n < 0)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element '%s': '%s'.", attr,
                      (const char *)node->name, v);
        return false;
    }
    if (min == 0 && n > 65535) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "invalid value for boot menu timeout, must be in range [0,65535]");
        return false;
    }
    if (min == -1 && (n < -1 || n > 65535)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "invalid value for rebootTimeout, must be in range [-1,65535]");
        return false;
    }
    *out = (int)n;
    if (set)
        *set = true;
    return true;
}

static bool
parse_os(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    bool have_type = false;
    bool have_loader = false;

    if (!vrt_xml_check_attrs(node, error, "firmware", NULL) || !vrt_parse_os_firmware_attr(node, &def->os.fw, error))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "type")) {
            if (!vrt_xml_check_attrs(c, error, "arch", "machine", NULL))
                return false;
            g_free(def->os.type);
            def->os.type = g_strstrip(vrt_xml_text(c));
            g_free(def->os.arch);
            def->os.arch = vrt_xml_prop(c, "arch");
            g_free(def->os.machine);
            def->os.machine = vrt_xml_prop(c, "machine");
            have_type = true;
        } else if (vrt_xml_is(c, "boot")) {
            int dev = -1;
            if (!vrt_xml_check_attrs(c, error, "dev", NULL) ||
                !vrt_xml_prop_enum(c, "dev", vrt_boot_dev_names, true, &dev, error))
                return false;
            if (def->os.n_boot == VRT_DOMAIN_MAX_BOOT_DEVS) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "too many <boot> elements (at most %d)",
                              VRT_DOMAIN_MAX_BOOT_DEVS);
                return false;
            }
            def->os.boot[def->os.n_boot++] = dev;
        } else if (vrt_xml_is(c, "loader")) {
            have_loader = true;
            if (!vrt_parse_os_loader(c, &def->os.fw, error))
                return false;
        } else if (vrt_xml_is(c, "nvram")) {
            if (!vrt_parse_os_nvram(c, &def->os.fw, error))
                return false;
        } else if (vrt_xml_is(c, "firmware")) {
            if (!vrt_parse_os_firmware_features(c, &def->os.fw, error))
                return false;
        } else if (vrt_xml_is(c, "bootmenu")) {
            if (!vrt_xml_check_attrs(c, error, "enable", "timeout", NULL) ||
                !vrt_xml_prop_tristate(c, "enable", false, &def->os.bootmenu, error) ||
                !parse_os_timeout(c, "timeout", 0, &def->os.bootmenu_timeout, NULL, error))
                return false;
            /* libvirt keeps the timeout only with the menu on */
            if (def->os.bootmenu != VRT_TRISTATE_YES)
                def->os.bootmenu_timeout = -1;
        } else if (vrt_xml_is(c, "smbios")) {
            if (!vrt_parse_os_smbios(c, def, error))
                return false;
        } else if (vrt_xml_is(c, "bios")) {
            if (!vrt_xml_check_attrs(c, error, "useserial", "rebootTimeout", NULL) ||
                !vrt_xml_prop_tristate(c, "useserial", false, &def->os.bios_useserial, error) ||
                !parse_os_timeout(c, "rebootTimeout", -1, &def->os.bios_reboot_timeout, &def->os.bios_reboot_set,
                                  error))
                return false;
        } else if (vrt_xml_is(c, "kernel") || vrt_xml_is(c, "initrd") || vrt_xml_is(c, "cmdline")) {
            char **slot = vrt_xml_is(c, "kernel")   ? &def->os.kernel
                          : vrt_xml_is(c, "initrd") ? &def->os.initrd
                                                    : &def->os.cmdline;
            if (!vrt_xml_check_attrs(c, error, NULL))
                return false;
            g_free(*slot);
            *slot = vrt_xml_text(c);
            if (slot != &def->os.cmdline)
                g_strstrip(*slot);
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    if (!have_type) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "an os <type> must be specified");
        return false;
    }
    if (!vrt_validate_os_firmware(&def->os.fw, have_loader, error))
        return false;
    if (!g_str_equal(def->os.type, "hvm")) {
        vrt_error_set(error, VIR_ERR_OS_TYPE, "%s", def->os.type);
        return false;
    }
    if (def->os.arch && !g_str_equal(def->os.arch, "x86_64") && !g_str_equal(def->os.arch, "i686")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "No guest options available for arch '%s'", def->os.arch);
        return false;
    }
    if (def->os.machine && !vrt_domain_machine_supported(def->os.machine)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "machine type '%s' is not supported", def->os.machine);
        return false;
    }
    if ((def->os.initrd || def->os.cmdline) && !def->os.kernel) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "<initrd> and <cmdline> need a <kernel>");
        return false;
    }
    return true;
}

static bool
parse_features(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "acpi") || vrt_xml_is(c, "pae")) {
            if (!vrt_xml_check_attrs(c, error, NULL))
                return false;
            def->features |= vrt_xml_is(c, "acpi") ? VRT_DOMAIN_FEATURE_ACPI : VRT_DOMAIN_FEATURE_PAE;
        } else if (vrt_xml_is(c, "vmport")) {
            if (!vrt_xml_check_attrs(c, error, "state", NULL) ||
                !vrt_xml_prop_tristate(c, "state", true, &def->vmport, error))
                return false;
            if (def->vmport == VRT_TRISTATE_DEFAULT) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "<vmport> needs a state");
                return false;
            }
        } else if (!vrt_parse_feature_ext(c, def, error)) {
            return false;
        }
    }
    return true;
}

/* <model fallback= vendor_id=>NAME</model>: a name only in custom mode;
 * host-model keeps vendor_id and, without a name, drops fallback (as
 * libvirt writes it); host-passthrough and maximum read neither. */
static bool
parse_cpu_model(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainCpuMode m = def->cpu.mode;
    g_autofree char *text = NULL;
    g_autofree char *vendor = NULL;

    if (!vrt_xml_check_attrs(node, error, "fallback", "vendor_id", NULL))
        return false;
    text = g_strstrip(vrt_xml_text(node));
    if (m != VRT_DOMAIN_CPU_MODE_CUSTOM && *text) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "a CPU model name with mode '%s' is not supported",
                      vrt_cpu_mode_names[m]);
        return false;
    }
    if (m == VRT_DOMAIN_CPU_MODE_HOST_PASSTHROUGH || m == VRT_DOMAIN_CPU_MODE_MAXIMUM)
        return true;
    vendor = vrt_xml_prop(node, "vendor_id");
    if (vendor && strlen(vendor) != 12) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "vendor_id must be exactly %d characters long", 12);
        return false;
    }
    if (vendor && strchr(vendor, ',')) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "vendor id is invalid");
        return false;
    }
    g_free(def->cpu.vendor_id);
    def->cpu.vendor_id = g_steal_pointer(&vendor);
    g_free(def->cpu.fallback);
    def->cpu.fallback = vrt_xml_prop(node, "fallback");
    if (def->cpu.fallback && !g_str_equal(def->cpu.fallback, "allow") && !g_str_equal(def->cpu.fallback, "forbid")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "Invalid fallback attribute");
        return false;
    }
    if (m != VRT_DOMAIN_CPU_MODE_CUSTOM) {
        g_clear_pointer(&def->cpu.fallback, g_free);
        return true;
    }
    if (!*text && def->cpu.vendor_id) {
        g_clear_pointer(&def->cpu.fallback, g_free);
        return true;
    }
    g_free(def->cpu.model);
    def->cpu.model = g_steal_pointer(&text);
    if (!*def->cpu.model || !only_model_chars(def->cpu.model)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid CPU model name '%s'", def->cpu.model);
        return false;
    }
    return true;
}

static bool
parse_cpu_feature(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainCpuFeature *f;

    if (!vrt_xml_check_attrs(node, error, "policy", "name", NULL))
        return false;
    f = g_new0(VrtDomainCpuFeature, 1);
    g_ptr_array_add(def->cpu.features, f);
    f->policy = vrt_xml_prop(node, "policy");
    f->name = vrt_xml_prop(node, "name");
    if (!f->policy ||
        !g_strv_contains((const char *const[]){ "force", "require", "optional", "disable", "forbid", NULL },
                         f->policy)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid CPU feature policy '%s'", f->policy ? f->policy : "");
        return false;
    }
    if (!f->name || !*f->name || !only_model_chars(f->name)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid CPU feature name '%s'", f->name ? f->name : "");
        return false;
    }
    return true;
}

/* <cache level= mode=> and <maxphysaddr mode= bits=>, one each, with
 * libvirt's QEMU rules for which go together. */
static bool
parse_cpu_cache_or_addr(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    bool cache = vrt_xml_is(node, "cache");
    const char *num = cache ? "level" : "bits";
    g_autofree char *mode = vrt_xml_prop(node, "mode");
    g_autofree char *n = NULL;
    int v = -1;

    if (!vrt_xml_check_attrs(node, error, "mode", num, NULL))
        return false;
    if (cache && def->cpu.cache_mode) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "at most one CPU cache element may be specified");
        return false;
    }
    if (!cache && def->cpu.maxphys_mode)
        return true; /* libvirt reads the first */
    if ((n = vrt_xml_prop(node, num))) {
        guint64 u;

        if (!g_ascii_string_to_unsigned(n, 10, 0, G_MAXINT, &u, NULL)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element '%s': '%s'.", num,
                          (const char *)node->name, n);
            return false;
        }
        v = (int)u;
    }
    if (cache && n && (v < 1 || v > 3)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "invalid CPU cache level, must be in range [1,3]");
        return false;
    }
    if (!mode) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'mode' in element '%s'",
                      (const char *)node->name);
        return false;
    }
    if (!g_strv_contains(cache ? (const char *const[]){ "emulate", "passthrough", "disable", NULL }
                               : (const char *const[]){ "passthrough", "emulate", NULL },
                         mode)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'mode' in element '%s': '%s'.",
                      (const char *)node->name, mode);
        return false;
    }
    if (cache) {
        def->cpu.cache_mode = g_steal_pointer(&mode);
        def->cpu.cache_level = v;
    } else {
        def->cpu.maxphys_mode = g_steal_pointer(&mode);
        def->cpu.maxphys_bits = v;
    }
    return true;
}

/* libvirt's QEMU validation of <cache> and <maxphysaddr>. */
static bool
check_cpu_cache_and_addr(const VrtDomainDef *def, GError **error)
{
    const char *cm = def->cpu.cache_mode, *am = def->cpu.maxphys_mode;

    if (am && g_str_equal(am, "passthrough") && def->cpu.maxphys_bits != -1) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "CPU maximum physical address bits number specification cannot be used with mode='%s'", am);
        return false;
    }
    if (am && g_str_equal(am, "emulate") && def->cpu.maxphys_bits == -1) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "if using CPU maximum physical address mode='%s', bits= must be specified too", am);
        return false;
    }
    if (cm && g_str_equal(cm, "emulate") && def->cpu.cache_level != 3) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "CPU cache mode '%s' can only be used with level='3'", cm);
        return false;
    }
    if (cm && g_str_equal(cm, "passthrough") && def->cpu.mode != VRT_DOMAIN_CPU_MODE_HOST_PASSTHROUGH &&
        def->cpu.mode != VRT_DOMAIN_CPU_MODE_MAXIMUM) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "CPU cache mode '%s' can only be used with 'host-passthrough' / 'maximum' CPUs", cm);
        return false;
    }
    if (cm && !g_str_equal(cm, "emulate") && def->cpu.cache_level != -1) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported CPU cache level for mode '%s'", cm);
        return false;
    }
    return true;
}

static bool
parse_cpu(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    g_autofree char *mode = vrt_xml_prop(node, "mode");
    int m;

    if (!vrt_xml_check_attrs(node, error, "mode", "check", "migratable", "match", NULL) ||
        !vrt_xml_prop_tristate(node, "migratable", true, &def->cpu.migratable, error))
        return false;
    m = mode ? vrt_enum_from_string(vrt_cpu_mode_names, mode) : VRT_DOMAIN_CPU_MODE_CUSTOM;
    if (m <= 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "CPU mode '%s' is not supported", mode);
        return false;
    }
    def->cpu.mode = m;
    def->cpu.check = vrt_xml_prop(node, "check");
    if (def->cpu.check && !g_strv_contains((const char *const[]){ "none", "partial", "full", NULL }, def->cpu.check)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid CPU check '%s'", def->cpu.check);
        return false;
    }
    def->cpu.match = vrt_xml_prop(node, "match");
    if (def->cpu.match &&
        (m != VRT_DOMAIN_CPU_MODE_CUSTOM ||
         !g_strv_contains((const char *const[]){ "exact", "minimum", "strict", NULL }, def->cpu.match))) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid CPU match '%s' for mode '%s'", def->cpu.match,
                      vrt_cpu_mode_names[m]);
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "model")) {
            if (!parse_cpu_model(c, def, error))
                return false;
        } else if (vrt_xml_is(c, "cache") || vrt_xml_is(c, "maxphysaddr")) {
            if (!parse_cpu_cache_or_addr(c, def, error))
                return false;
        } else if (vrt_xml_is(c, "feature")) {
            if (!parse_cpu_feature(c, def, error))
                return false;
        } else if (vrt_xml_is(c, "numa")) {
            if (!vrt_parse_numa(c, def, error))
                return false;
        } else if (vrt_xml_is(c, "topology")) {
            if (!vrt_xml_check_attrs(c, error, "sockets", "dies", "cores", "threads", NULL) ||
                !vrt_xml_prop_uint(c, "sockets", VRT_DOMAIN_MAX_VCPUS, &def->cpu.sockets, NULL, error) ||
                !vrt_xml_prop_uint(c, "dies", VRT_DOMAIN_MAX_VCPUS, &def->cpu.dies, NULL, error) ||
                !vrt_xml_prop_uint(c, "cores", VRT_DOMAIN_MAX_VCPUS, &def->cpu.cores, NULL, error) ||
                !vrt_xml_prop_uint(c, "threads", VRT_DOMAIN_MAX_VCPUS, &def->cpu.threads, NULL, error))
                return false;
            if (!def->cpu.sockets || !def->cpu.cores || !def->cpu.threads) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "CPU topology needs sockets, cores and threads above 0");
                return false;
            }
            if (!def->cpu.dies)
                def->cpu.dies = 1;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    if (m == VRT_DOMAIN_CPU_MODE_CUSTOM && !def->cpu.model && !def->cpu.sockets &&
        !(def->mem && def->mem->cells->len) && !def->cpu.vendor_id && !def->cpu.cache_mode && !def->cpu.maxphys_mode) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "CPU mode 'custom' needs a <model> or a <topology>");
        return false;
    }
    if (m == VRT_DOMAIN_CPU_MODE_CUSTOM && !def->cpu.model && def->cpu.features->len) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "CPU features need a CPU <model>");
        return false;
    }
    return check_cpu_cache_and_addr(def, error);
}

/* offset= with the attributes each offset reads, as libvirt reads them:
 * a number as adjustment of utc/localtime makes the offset variable. */
static bool
parse_clock_offset(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    g_autofree char *offset = vrt_xml_prop(node, "offset");
    g_autofree char *adj = vrt_xml_prop(node, "adjustment");
    g_autofree char *basis = vrt_xml_prop(node, "basis");
    g_autofree char *start = vrt_xml_prop(node, "start");
    int off = offset ? vrt_enum_from_string(vrt_clock_offset_names, offset) : VRT_DOMAIN_CLOCK_UTC;
    gint64 n = 0;

    if (off < 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown clock offset '%s'", offset);
        return false;
    }
    def->clock.offset = off;
    switch ((VrtDomainClockOffset)off) {
    case VRT_DOMAIN_CLOCK_UTC:
    case VRT_DOMAIN_CLOCK_LOCALTIME:
        if (!adj)
            break;
        if (g_str_equal(adj, "reset")) {
            def->clock.utc_reset = true;
            break;
        }
        if (!g_ascii_string_to_signed(adj, 10, G_MININT64, G_MAXINT64, &n, NULL)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "unknown clock adjustment '%s'", adj);
            return false;
        }
        def->clock.adjustment = n;
        def->clock.basis_localtime = off == VRT_DOMAIN_CLOCK_LOCALTIME;
        def->clock.offset = VRT_DOMAIN_CLOCK_VARIABLE;
        break;
    case VRT_DOMAIN_CLOCK_VARIABLE:
        /* libvirt reads an unparsable adjustment as 0 */
        if (adj && g_ascii_string_to_signed(adj, 10, G_MININT64, G_MAXINT64, &n, NULL))
            def->clock.adjustment = n;
        if (basis && !g_str_equal(basis, "utc") && !g_str_equal(basis, "localtime")) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown clock basis '%s'", basis);
            return false;
        }
        def->clock.basis_localtime = g_strcmp0(basis, "localtime") == 0;
        break;
    case VRT_DOMAIN_CLOCK_TIMEZONE:
        if (!(def->clock.timezone = vrt_xml_prop(node, "timezone"))) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s",
                          "missing 'timezone' attribute for clock with offset='timezone'");
            return false;
        }
        /* it becomes QEMU's TZ: a zone name, no line breaks or '=' tricks */
        for (const char *c = def->clock.timezone; *c; c++) {
            if (!g_ascii_isgraph(*c)) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid clock timezone '%s'", def->clock.timezone);
                return false;
            }
        }
        break;
    case VRT_DOMAIN_CLOCK_ABSOLUTE:
        if (!start || !g_ascii_string_to_unsigned(start, 10, 0, G_MAXUINT64, &def->clock.start, NULL)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s",
                          "missing 'start' attribute for clock with offset='absolute'");
            return false;
        }
        /* QEMU's -rtc base takes a date of at most year 9999 */
        if (def->clock.start > G_GUINT64_CONSTANT(253402300799)) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "clock start '%s' is past year 9999", start);
            return false;
        }
        break;
    }
    return true;
}

static bool
parse_clock(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, "offset", "adjustment", "basis", "timezone", "start", NULL) ||
        !parse_clock_offset(node, def, error))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        VrtDomainTimerDef *t;
        if (!vrt_xml_is(c, "timer"))
            return vrt_xml_unsupported(c, error);
        if (!vrt_xml_check_attrs(c, error, "name", "tickpolicy", "present", "track", "frequency", NULL))
            return false;
        t = g_new0(VrtDomainTimerDef, 1);
        g_ptr_array_add(def->clock.timers, t);
        {
            g_autofree char *freq = vrt_xml_prop(c, "frequency");

            if (freq && !g_ascii_string_to_unsigned(freq, 10, 0, G_MAXUINT64, &t->frequency, NULL)) {
                vrt_error_set(error, VIR_ERR_XML_ERROR,
                              "Invalid value for attribute 'frequency' in element 'timer': '%s'. Expected "
                              "non-negative integer value",
                              freq);
                return false;
            }
        }
        t->name = vrt_xml_prop(c, "name");
        t->tickpolicy = vrt_xml_prop(c, "tickpolicy");
        t->track = vrt_xml_prop(c, "track");
        if (t->track &&
            !g_strv_contains((const char *const[]){ "boot", "guest", "wall", "realtime", NULL }, t->track)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'track' in element 'timer': '%s'.",
                          t->track);
            return false;
        }
        if (!vrt_xml_prop_tristate(c, "present", false, &t->present, error))
            return false;
        if (!t->name ||
            !g_strv_contains((const char *const[]){ "rtc", "pit", "hpet", "kvmclock", "tsc", "hypervclock", NULL },
                             t->name)) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "timer '%s' is not supported", t->name ? t->name : "");
            return false;
        }
        if (t->tickpolicy &&
            !g_strv_contains((const char *const[]){ "delay", "catchup", "merge", "discard", NULL }, t->tickpolicy)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "unknown timer tickpolicy '%s'", t->tickpolicy);
            return false;
        }
        /* libvirt's QEMU validation: what QEMU's RTC and PIT cannot do */
        if (g_str_equal(t->name, "rtc") && g_strcmp0(t->track, "boot") == 0) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported rtc timer track '%s'", t->track);
            return false;
        }
        if (g_str_equal(t->name, "rtc") && t->tickpolicy &&
            (g_str_equal(t->tickpolicy, "merge") || g_str_equal(t->tickpolicy, "discard"))) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported rtc timer tickpolicy '%s'", t->tickpolicy);
            return false;
        }
        if (g_str_equal(t->name, "pit") && g_strcmp0(t->tickpolicy, "merge") == 0) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported pit tickpolicy '%s'", t->tickpolicy);
            return false;
        }
    }
    return true;
}

static bool
parse_lifecycle(xmlNodePtr node, VrtDomainLifecycleAction *out, GError **error)
{
    g_autofree char *text = g_strstrip(vrt_xml_text(node));
    int v = vrt_enum_from_string(vrt_lifecycle_names, text);
    bool crash = vrt_xml_is(node, "on_crash");

    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    if (v < 0 || (!crash && v >= VRT_DOMAIN_LIFECYCLE_COREDUMP_DESTROY)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid %s value: '%s'", (const char *)node->name, text);
        return false;
    }
    *out = v;
    return true;
}

static bool
parse_pm(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        VrtTristate *t;
        if (vrt_xml_is(c, "suspend-to-mem"))
            t = &def->pm.suspend_to_mem;
        else if (vrt_xml_is(c, "suspend-to-disk"))
            t = &def->pm.suspend_to_disk;
        else
            return vrt_xml_unsupported(c, error);
        if (!vrt_xml_check_attrs(c, error, "enabled", NULL) || !vrt_xml_prop_tristate(c, "enabled", false, t, error))
            return false;
    }
    return true;
}

/* Puts a parsed device into its list; takes ownership of the contents. */
static bool
def_add_device(VrtDomainDef *def, VrtDomainDeviceDef *dev, GError **error)
{
    switch (dev->type) {
    case VRT_DOMAIN_DEVICE_DISK: g_ptr_array_add(def->disks, g_steal_pointer(&dev->data.disk)); break;
    case VRT_DOMAIN_DEVICE_NET: vrt_domain_def_net_insert(def, g_steal_pointer(&dev->data.net)); break;
    case VRT_DOMAIN_DEVICE_HOSTDEV: g_ptr_array_add(def->hostdevs, g_steal_pointer(&dev->data.hostdev)); break;
    case VRT_DOMAIN_DEVICE_CONTROLLER: g_ptr_array_add(def->controllers, g_steal_pointer(&dev->data.controller)); break;
    case VRT_DOMAIN_DEVICE_CHR: {
        VrtDomainChrDef *chr = g_steal_pointer(&dev->data.chr);
        GPtrArray *list = chr->devtype == VRT_DOMAIN_CHR_DEVICE_SERIAL     ? def->serials
                          : chr->devtype == VRT_DOMAIN_CHR_DEVICE_CONSOLE  ? def->consoles
                          : chr->devtype == VRT_DOMAIN_CHR_DEVICE_PARALLEL ? def->parallels
                                                                           : def->channels;
        g_ptr_array_add(list, chr);
        break;
    }
    case VRT_DOMAIN_DEVICE_INPUT: g_ptr_array_add(def->inputs, g_steal_pointer(&dev->data.input)); break;
    case VRT_DOMAIN_DEVICE_GRAPHICS: g_ptr_array_add(def->graphics, g_steal_pointer(&dev->data.graphics)); break;
    case VRT_DOMAIN_DEVICE_VIDEO: g_ptr_array_add(def->videos, g_steal_pointer(&dev->data.video)); break;
    case VRT_DOMAIN_DEVICE_RNG: g_ptr_array_add(def->rngs, g_steal_pointer(&dev->data.rng)); break;
    case VRT_DOMAIN_DEVICE_FILESYSTEM: vrt_domain_def_fs_insert(def, g_steal_pointer(&dev->data.fs)); break;
    case VRT_DOMAIN_DEVICE_MEMBALLOON:
        if (def->memballoon) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "only one memory balloon device is supported");
            return false;
        }
        def->memballoon = g_steal_pointer(&dev->data.memballoon);
        break;
    case VRT_DOMAIN_DEVICE_WATCHDOG:
        if (def->watchdog) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "only a single watchdog device is supported");
            return false;
        }
        def->watchdog = g_steal_pointer(&dev->data.watchdog);
        break;
    }
    return true;
}

static bool
parse_devices(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        g_autofree VrtDomainDeviceDef *dev = NULL;
        bool handled = false;

        if (!vrt_parse_misc_device(ctx, c, def, &handled, error))
            return false;
        if (handled)
            continue;
        if (!vrt_parse_usb_device(ctx, c, def, &handled, error))
            return false;
        if (handled)
            continue;
        if (vrt_xml_is(c, "hostdev") && !vrt_parse_subsys_hostdev(ctx, c, def, &handled, error))
            return false;
        if (handled)
            continue;
        if (vrt_xml_is(c, "vsock")) {
            if (!vrt_parse_vsock(ctx, c, def, error))
                return false;
            continue;
        }
        if (vrt_xml_is(c, "shmem")) {
            if (!vrt_parse_shmem(ctx, c, def, error))
                return false;
            continue;
        }
        if (vrt_xml_is(c, "hub")) {
            if (!vrt_parse_hub(ctx, c, def, error))
                return false;
            continue;
        }
        if (vrt_xml_is(c, "audio")) {
            if (!vrt_parse_audio(c, def, error))
                return false;
            continue;
        }
        if (vrt_xml_is(c, "iommu")) {
            if (!vrt_parse_iommu(c, def, error))
                return false;
            continue;
        }
        if (vrt_xml_is(c, "memory")) {
            if (!vrt_parse_memory_device(ctx, c, def, error))
                return false;
            continue;
        }
        if (vrt_xml_is(c, "tpm")) {
            if (!vrt_parse_tpm(c, def, error))
                return false;
            continue;
        }
        if (vrt_xml_is(c, "filesystem")) {
            if (!vrt_parse_filesystem(ctx, c, def, error))
                return false;
            continue;
        }
        if (vrt_xml_is(c, "emulator")) {
            if (!vrt_xml_check_attrs(c, error, NULL))
                return false;
            g_free(def->emulator);
            def->emulator = g_strstrip(vrt_xml_text(c));
            continue;
        }
        dev = g_new0(VrtDomainDeviceDef, 1);
        if (!vrt_parse_device(ctx, c, dev, error) || !def_add_device(def, dev, error)) {
            /* def_add_device may have failed after nothing was stolen */
            vrt_domain_device_def_free(g_steal_pointer(&dev));
            return false;
        }
    }
    return true;
}

/* <metadata> changes nothing for vrt: kept as written, with the
 * namespace declarations it uses copied in (they may sit on <domain>),
 * so it stands alone when written back. Its elements must be namespaced,
 * as libvirt's schema requires. */
static char *
dump_metadata(xmlNodePtr node, GError **error)
{
    xmlDocPtr tmp;
    xmlNodePtr copy;
    xmlBufferPtr buf;
    char *ret;

    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!c->ns) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "element <%s> in <metadata> (line %ld) needs its own XML namespace",
                          (const char *)c->name, xmlGetLineNo(c));
            return NULL;
        }
    }
    tmp = xmlNewDoc((const xmlChar *)"1.0");
    copy = xmlNewDocNode(tmp, NULL, (const xmlChar *)"metadata", NULL);
    xmlDocSetRootElement(tmp, copy);
    /* Each child is copied on its own, so the declarations it uses from
     * outside (<domain>'s) land on it, as libvirt writes them, and not on
     * <metadata>. */
    for (xmlNodePtr c = node->children; c; c = c->next) {
        xmlNodePtr cc = xmlDocCopyNode(c, tmp, 1);

        if (!cc || !xmlAddChild(copy, cc)) {
            xmlFreeNode(cc);
            xmlFreeDoc(tmp);
            vrt_error_set(error, VIR_ERR_NO_MEMORY, "cannot copy <metadata>");
            return NULL;
        }
    }
    buf = xmlBufferCreate();
    xmlNodeDump(buf, tmp, copy, 0, 0);
    ret = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    xmlFreeDoc(tmp);
    return ret;
}

static bool
parse_name(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    g_free(def->name);
    /* Kept as written, spaces included, as libvirt does. */
    def->name = vrt_xml_text(node);
    /* libvirt's checks and messages (9.0); a newline would split the name
     * across lines of every listing. */
    if (strchr(def->name, '\n')) {
        vrt_error_set_literal(error, VIR_ERR_XML_DETAIL, "invalid char in name: \n");
        return false;
    }
    if (strchr(def->name, '/')) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "name %s cannot contain '/'", def->name);
        return false;
    }
    if (strlen(def->name) > VRT_DOMAIN_NAME_MAX) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "domain name is longer than %d bytes", VRT_DOMAIN_NAME_MAX);
        return false;
    }
    if (!g_utf8_validate(def->name, -1, NULL)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "domain name is not valid UTF-8");
        return false;
    }
    return true;
}

static bool
parse_top(const VrtParseCtx *ctx, xmlNodePtr c, VrtDomainDef *def, bool *have_uuid, bool *have_cur, GError **error)
{
    if (vrt_xml_is(c, "name"))
        return parse_name(c, def, error);
    if (vrt_xml_is(c, "uuid")) {
        g_autofree char *s = g_strstrip(vrt_xml_text(c));
        if (!vrt_xml_check_attrs(c, error, NULL))
            return false;
        if (!vrt_uuid_parse(s, def->uuid)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "malformed uuid element");
            return false;
        }
        *have_uuid = true;
        return true;
    }
    if (vrt_xml_is(c, "genid")) {
        g_autofree char *s = g_strstrip(vrt_xml_text(c));
        if (!vrt_xml_check_attrs(c, error, NULL))
            return false;
        if (!*s) {
            vrt_uuid_generate(def->genid);
        } else if (!vrt_uuid_parse(s, def->genid)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "malformed genid element");
            return false;
        }
        def->has_genid = true;
        return true;
    }
    if (vrt_xml_is(c, "title") || vrt_xml_is(c, "description")) {
        char **slot = vrt_xml_is(c, "title") ? &def->title : &def->description;
        if (!vrt_xml_check_attrs(c, error, NULL))
            return false;
        g_free(*slot);
        *slot = vrt_xml_text(c);
        if (slot == &def->title && strchr(*slot, '\n')) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Domain title can't contain newlines");
            return false;
        }
        return true;
    }
    if (vrt_xml_is(c, "metadata")) {
        g_free(def->metadata);
        def->metadata = dump_metadata(c, error);
        return def->metadata != NULL;
    }
    if (vrt_xml_is(c, "memory")) {
        g_autofree char *dump = vrt_xml_prop(c, "dumpCore");

        if (dump && !g_str_equal(dump, "on") && !g_str_equal(dump, "off")) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'dumpCore' in element 'memory': '%s'.",
                          dump);
            return false;
        }
        def->dump_core = !dump ? VRT_TRISTATE_DEFAULT : g_str_equal(dump, "on") ? VRT_TRISTATE_YES : VRT_TRISTATE_NO;
        return vrt_xml_check_attrs(c, error, "unit", "dumpCore", NULL) &&
               parse_memory_value(c, &def->memory_kib, error);
    }
    if (vrt_xml_is(c, "idmap"))
        return vrt_parse_idmap(c, def, error);
    if (vrt_xml_is(c, "sysinfo"))
        return vrt_parse_sysinfo(c, def, error);
    if (vrt_xml_is(c, "maxMemory"))
        return vrt_parse_max_memory(c, def, error);
    if (vrt_xml_is(c, "currentMemory")) {
        *have_cur = true;
        return parse_memory(c, &def->current_memory_kib, error);
    }
    if (vrt_xml_is(c, "vcpu"))
        return parse_vcpu(c, def, error);
    if (vrt_xml_is(c, "os"))
        return parse_os(c, def, error);
    if (vrt_xml_is(c, "features"))
        return parse_features(c, def, error);
    if (vrt_xml_is(c, "cpu"))
        return parse_cpu(c, def, error);
    if (vrt_xml_is(c, "clock"))
        return parse_clock(c, def, error);
    if (vrt_xml_is(c, "on_poweroff"))
        return parse_lifecycle(c, &def->on_poweroff, error);
    if (vrt_xml_is(c, "on_reboot"))
        return parse_lifecycle(c, &def->on_reboot, error);
    if (vrt_xml_is(c, "on_crash"))
        return parse_lifecycle(c, &def->on_crash, error);
    if (vrt_xml_is(c, "pm"))
        return parse_pm(c, def, error);
    if (vrt_xml_is(c, "devices"))
        return parse_devices(ctx, c, def, error);
    if (vrt_xml_is(c, "memoryBacking"))
        return vrt_parse_memory_backing(c, def, error);
    if (vrt_xml_is(c, "iothreads"))
        return vrt_parse_iothreads(c, def, error);
    if (vrt_domain_qemu_ns_is(c))
        return vrt_parse_qemu_commandline(c, def, error);
    if (vrt_xml_is(c, "iothreadids"))
        return vrt_parse_iothreadids(c, def, error);
    if (vrt_domain_tune_is_element((const char *)c->name))
        return vrt_domain_tune_parse(c, def, error);
    if (vrt_xml_is(c, "seclabel"))
        return vrt_parse_seclabel(c, ctx->flags, def, error);
    if (vrt_xml_is(c, "launchSecurity"))
        return vrt_parse_launch_security(c, def, error);
    return vrt_xml_unsupported(c, error);
}

static bool
note_boot_order(GHashTable *seen, const VrtDomainDeviceInfo *info, GError **error)
{
    if (!info->boot_order)
        return true;
    if (!g_hash_table_add(seen, GUINT_TO_POINTER(info->boot_order))) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "boot order '%u' used for more than one device", info->boot_order);
        return false;
    }
    return true;
}

/* As libvirt, the video marked primary goes first, wherever it was
 * written; two primaries are refused. */
static bool
primary_video_first(VrtDomainDef *def, GError **error)
{
    int primary = -1;

    for (guint i = 0; i < def->videos->len; i++) {
        if (!((VrtDomainVideoDef *)def->videos->pdata[i])->primary)
            continue;
        if (primary >= 0) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Only one primary video device is supported");
            return false;
        }
        primary = (int)i;
    }
    if (primary > 0) {
        gpointer v = g_ptr_array_steal_index(def->videos, (guint)primary);
        g_ptr_array_insert(def->videos, 0, v);
    }
    return true;
}

/* Per-device <boot order> and <os><boot dev> exclude each other. */
static bool
check_boot_orders(const VrtDomainDef *def, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);

    for (guint i = 0; i < def->disks->len; i++)
        if (!note_boot_order(seen, &((VrtDomainDiskDef *)def->disks->pdata[i])->info, error))
            return false;
    for (guint i = 0; i < def->nets->len; i++)
        if (!note_boot_order(seen, &((VrtDomainNetDef *)def->nets->pdata[i])->info, error))
            return false;
    for (guint i = 0; i < def->hostdevs->len; i++) {
        VrtDomainHostdevDef *h = def->hostdevs->pdata[i];
        if (!h->parent_net && !note_boot_order(seen, h->info, error))
            return false;
    }
    if (g_hash_table_size(seen) > 0 && def->os.n_boot > 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "per-device boot elements cannot be used together with os/boot elements");
        return false;
    }
    return true;
}

/* A console of target type serial stands for the first serial port;
 * libvirt adds that port when only the console is given. */
static void
post_parse_console(VrtDomainDef *def)
{
    VrtDomainChrDef *con;

    if (def->consoles->len == 0)
        return;
    con = def->consoles->pdata[0];
    if (!con->target_type)
        con->target_type = g_strdup("serial");
    if (!g_str_equal(con->target_type, "serial"))
        return;
    if (con->target_port < 0)
        con->target_port = 0;
    if (def->serials->len == 0) {
        VrtDomainChrDef *ser = g_new0(VrtDomainChrDef, 1);
        ser->devtype = VRT_DOMAIN_CHR_DEVICE_SERIAL;
        ser->type = con->type;
        ser->path = g_strdup(con->path);
        ser->listen = con->listen;
        ser->append = con->append;
        ser->host = g_strdup(con->host);
        ser->service = g_strdup(con->service);
        ser->bind_host = g_strdup(con->bind_host);
        ser->bind_service = g_strdup(con->bind_service);
        ser->telnet = con->telnet;
        ser->isa_addr = con->isa_addr;
        ser->isa_iobase = con->isa_iobase;
        ser->isa_irq = con->isa_irq;
        ser->tls = con->tls;
        ser->target_port = 0;
        g_ptr_array_add(def->serials, ser);
    }
}

static void
post_parse_serials(VrtDomainDef *def)
{
    for (guint i = 0; i < def->serials->len; i++) {
        VrtDomainChrDef *s = def->serials->pdata[i];
        if (s->target_port < 0)
            s->target_port = i;
        if (!s->target_type)
            s->target_type = g_strdup("isa-serial");
        /* libvirt's model for each target type: the device of that name */
        if (!s->target_model &&
            (g_str_equal(s->target_type, "isa-serial") || g_str_equal(s->target_type, "pci-serial") ||
             g_str_equal(s->target_type, "usb-serial")))
            s->target_model = g_strdup(s->target_type);
    }
}

/* The index an unnumbered USB2 controller shares with the USB2 group just
 * before it (the USB controller listed last before it is USB2, and that
 * group has no controller of its model yet), as libvirt groups
 * virt-install's ich9-ehci1 + ich9-uhci1..3; G_MAXUINT when none. */
static guint
usb2_group_index(VrtDomainDef *def, guint pos)
{
    VrtDomainControllerDef *c = def->controllers->pdata[pos];
    VrtDomainControllerDef *prev = NULL;

    if (!vrt_domain_controller_is_usb2(c))
        return G_MAXUINT;
    for (guint i = pos; i-- > 0 && !prev;) {
        VrtDomainControllerDef *o = def->controllers->pdata[i];
        if (o->type == VRT_DOMAIN_CONTROLLER_USB)
            prev = o;
    }
    if (!prev || !vrt_domain_controller_is_usb2(prev) || prev->index == G_MAXUINT)
        return G_MAXUINT;
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *o = def->controllers->pdata[i];
        if (o->type == VRT_DOMAIN_CONTROLLER_USB && o->index == prev->index && g_strcmp0(o->model, c->model) == 0)
            return G_MAXUINT;
    }
    return prev->index;
}

static void
post_parse_controllers(VrtDomainDef *def)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        if (c->index != G_MAXUINT)
            continue;
        /* a PCI root (also one that got its model by default) is index 0,
         * never the next free index, which its own check refuses */
        if (c->type == VRT_DOMAIN_CONTROLLER_PCI && c->model &&
            (g_str_equal(c->model, "pci-root") || g_str_equal(c->model, "pcie-root"))) {
            c->index = 0;
            continue;
        }
        c->index = usb2_group_index(def, i);
        if (c->index != G_MAXUINT)
            continue;
        /* PCI index 0 is the root bus's, written or not: any other PCI
         * controller counts from 1 */
        c->index = c->type == VRT_DOMAIN_CONTROLLER_PCI ? 1 : 0;
        for (guint j = 0; j < def->controllers->len; j++) {
            VrtDomainControllerDef *o = def->controllers->pdata[j];
            if (o != c && o->type == c->type && o->index != G_MAXUINT && o->index >= c->index)
                c->index = o->index + 1;
        }
    }
}

static bool
post_parse(VrtDomainDef *def, bool have_uuid, bool have_cur, GError **error)
{
    if (!def->name || !*def->name) {
        vrt_error_set(error, VIR_ERR_NO_NAME, "domain");
        return false;
    }
    if (!def->os.type) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "an os <type> must be specified");
        return false;
    }
    if (!vrt_domain_mem_post_parse(def, error) || !vrt_domain_memdevs_post_parse(def, error) ||
        !vrt_domain_iothreads_post_parse(def, error) || !vrt_domain_features_post_parse(def, error))
        return false;
    if (def->memory_kib == 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Memory size must be specified via <memory>");
        return false;
    }
    if (!have_cur || def->current_memory_kib > def->memory_kib || def->current_memory_kib == 0)
        def->current_memory_kib = def->memory_kib;
    if (def->vcpus == 0)
        def->vcpus = def->current_vcpus = 1;
    if (def->cpu.sockets && def->cpu.sockets * def->cpu.dies * def->cpu.cores * def->cpu.threads != def->vcpus) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "CPU topology doesn't match maximum vcpu count");
        return false;
    }
    if (!vrt_domain_sysinfo_post_parse(def, &have_uuid, error))
        return false;
    if (!have_uuid)
        vrt_uuid_generate(def->uuid);
    if (!check_boot_orders(def, error))
        return false;
    if (def->os.bios_useserial == VRT_TRISTATE_YES && def->serials->len == 0 && def->consoles->len == 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "need at least one serial port to use BIOS serial output");
        return false;
    }
    post_parse_console(def);
    post_parse_serials(def);
    post_parse_controllers(def);
    if (!primary_video_first(def, error))
        return false;
    return vrt_domain_def_validate_addresses(def, error);
}

VrtDomainDef *
vrt_domain_def_parse(const char *xml, guint flags, GError **error)
{
    g_autoptr(VrtDomainDef) def = vrt_domain_def_new();
    xmlDocPtr doc = vrt_xml_read(xml, "domain_definition", "domain", NULL, error);
    xmlNodePtr root;
    VrtParseCtx ctx = { .flags = flags };
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    bool have_uuid = false, have_cur = false, ok = false;
    int vt = -1;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!vrt_xml_check_attrs(root, error, "type", "id", NULL) ||
        !vrt_xml_prop_enum(root, "type", vrt_virt_type_names, true, &vt, error))
        goto out;
    def->virt_type = vt;
    if (flags & VRT_DOMAIN_XML_STATUS) {
        guint id = 0;
        bool present = false;
        if (!vrt_xml_prop_uint(root, "id", G_MAXINT, &id, &present, error))
            goto out;
        def->id = present ? (int)id : -1;
    }
    /* the machine type decides defaults inside <devices> */
    VRT_XML_FOREACH_CHILD(c, root)
    {
        if (vrt_xml_is(c, "os")) {
            VRT_XML_FOREACH_CHILD(t, c)
            {
                if (vrt_xml_is(t, "type")) {
                    g_autofree char *m = vrt_xml_prop(t, "machine");
                    ctx.q35 = m && (g_str_equal(m, "q35") || g_str_has_prefix(m, "pc-q35"));
                }
            }
        }
    }
    VRT_XML_FOREACH_CHILD(c, root)
    {
        /* every top-level element but <seclabel> (one per model) and
         * <sysinfo> (one per type) is a singleton in libvirt's schema */
        if (!vrt_xml_is(c, "seclabel") && !vrt_xml_is(c, "sysinfo") && !g_hash_table_add(seen, (gpointer)c->name)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "element <%s> (line %ld) appears more than once",
                          (const char *)c->name, xmlGetLineNo(c));
            goto out;
        }
        if (!parse_top(&ctx, c, def, &have_uuid, &have_cur, error))
            goto out;
    }
    ok = vrt_seclabels_post_parse(def, flags, error) && post_parse(def, have_uuid, have_cur, error);
out:
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}

VrtDomainDeviceDef *
vrt_domain_device_def_parse(const char *xml, const VrtDomainDef *def, guint flags, GError **error)
{
    g_autoptr(VrtDomainDeviceDef) dev = g_new0(VrtDomainDeviceDef, 1);
    xmlDocPtr doc = vrt_xml_read(xml, "device_definition", NULL, NULL, error);
    VrtParseCtx ctx = { .flags = flags, .q35 = def && vrt_domain_def_is_q35(def) };
    bool ok;

    if (!doc)
        return NULL;
    ok = vrt_parse_device(&ctx, xmlDocGetRootElement(doc), dev, error);
    xmlFreeDoc(doc);
    if (!ok)
        return NULL;
    if (dev->type == VRT_DOMAIN_DEVICE_CHR && dev->data.chr->devtype == VRT_DOMAIN_CHR_DEVICE_SERIAL &&
        !dev->data.chr->target_type)
        dev->data.chr->target_type = g_strdup("isa-serial");
    return g_steal_pointer(&dev);
}

/* For the tuning elements' limits (domain_tune.c). */
bool vrt_parse_memory_kib(xmlNodePtr node, guint64 *kib, GError **error);
bool
vrt_parse_memory_kib(xmlNodePtr node, guint64 *kib, GError **error)
{
    return parse_memory(node, kib, error);
}

bool
vrt_parse_scaled_kib(xmlNodePtr node, guint64 *kib, GError **error)
{
    return parse_memory(node, kib, error);
}

bool
vrt_parse_scaled_bytes(xmlNodePtr node, guint64 *bytes, GError **error)
{
    return vrt_xml_check_attrs(node, error, "unit", NULL) && parse_scaled_bytes(node, 1, bytes, error);
}
