/*
 * <maxMemory slots= unit=> and the memory devices of <devices>
 * (<memory model='dimm'|'nvdimm'|'virtio-pmem'|'virtio-mem'>) read with
 * libvirt's checks and error texts and written back in libvirt's layout
 * (domain_memory_dev.h). As libvirt's define, a dimm or nvdimm without an
 * address gets the first free <address type='dimm' slot=>; virtio-mem and
 * virtio-pmem get a PCI address with the other devices (domain_addr.c).
 */
#include "conf/domain/domain_memory_dev.h"
#include "conf/domain/domain_priv.h"
#include "conf/domain/domain_tune.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>

#define NODESET_MAX 4096

const char *const vrt_memdev_model_names[] = { "dimm", "nvdimm", "virtio-pmem", "virtio-mem", NULL };

void
vrt_domain_memdev_free(VrtDomainMemoryDevDef *m)
{
    if (!m)
        return;
    g_free(m->access);
    g_free(m->nodemask);
    g_free(m->path);
    g_free(m->info.alias);
    g_free(m->info.usb.port);
    g_free(m);
}

VrtDomainMemoryDevDef *
vrt_domain_memdev(const VrtDomainDef *def, guint i)
{
    if (!def->mem || !def->mem->devs || i >= def->mem->devs->len)
        return NULL;
    return g_ptr_array_index(def->mem->devs, i);
}

guint64
vrt_domain_memdevs_kib(const VrtDomainDef *def)
{
    guint64 sum = 0;
    const VrtDomainMemoryDevDef *m;

    for (guint i = 0; (m = vrt_domain_memdev(def, i)); i++)
        sum += m->size_kib;
    return sum;
}

/* A value scaled by its unit= (libvirt's virScaleInteger, KiB rounded
 * up), for elements whose other attributes the caller checks. */
static bool
scaled_kib(xmlNodePtr node, guint64 *kib, GError **error)
{
    static const struct {
        const char *name;
        guint64 bytes;
    } units[] = {
        { "b", 1 },
        { "bytes", 1 },
        { "KB", 1000 },
        { "k", 1024 },
        { "KiB", 1024 },
        { "MB", 1000000 },
        { "M", 1048576 },
        { "MiB", 1048576 },
        { "GB", 1000000000 },
        { "G", 1073741824 },
        { "GiB", 1073741824 },
        { "TB", 1000000000000 },
        { "T", 1099511627776 },
        { "TiB", 1099511627776 },
    };
    g_autofree char *unit = vrt_xml_prop(node, "unit");
    g_autofree char *text = g_strstrip(vrt_xml_text(node));
    guint64 mult = 1024, v;
    char *end = NULL;

    if (unit) {
        guint i;

        for (i = 0; i < G_N_ELEMENTS(units) && g_ascii_strcasecmp(units[i].name, unit) != 0; i++)
            ;
        if (i == G_N_ELEMENTS(units)) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown suffix '%s'", unit);
            return false;
        }
        mult = units[i].bytes;
    }
    errno = 0;
    v = g_ascii_strtoull(text, &end, 10);
    if (!*text || *text == '-' || errno || *end) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid value '%s' for <%s>", text, (const char *)node->name);
        return false;
    }
    /* libvirt's bound: the value in bytes fits a long long */
    if (v > (guint64)G_MAXINT64 / mult) {
        vrt_error_set(error, VIR_ERR_OVERFLOW, "value '%s %s' of <%s> is too large", text, unit ? unit : "KiB",
                      (const char *)node->name);
        return false;
    }
    *kib = (v * mult + 1023) / 1024;
    return true;
}

bool
vrt_parse_max_memory(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainMemDef *mem = vrt_domain_mem_get(def);

    if (!vrt_xml_check_attrs(node, error, "slots", "unit", NULL) ||
        !vrt_xml_prop_uint(node, "slots", G_MAXUINT, &mem->slots, NULL, error) ||
        !scaled_kib(node, &mem->max_memory_kib, error))
        return false;
    return true;
}

static bool
parse_source(xmlNodePtr node, VrtDomainMemoryDevDef *m, GError **error)
{
    bool dimmish = m->model == VRT_MEMDEV_DIMM || m->model == VRT_MEMDEV_VIRTIO_MEM;

    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (dimmish && vrt_xml_is(c, "pagesize")) {
            if (!vrt_xml_check_attrs(c, error, "unit", NULL) || !scaled_kib(c, &m->pagesize_kib, error))
                return false;
        } else if (dimmish && vrt_xml_is(c, "nodemask")) {
            g_autofree char *text = g_strstrip(vrt_xml_text(c));

            g_free(m->nodemask);
            if (!vrt_xml_check_attrs(c, error, NULL) || !(m->nodemask = vrt_cpuset_canonical(text, NODESET_MAX, error)))
                return false;
            if (!*m->nodemask) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Invalid value of 'nodemask': %s", text);
                return false;
            }
        } else if (!dimmish && vrt_xml_is(c, "path")) {
            if (!vrt_xml_check_attrs(c, error, NULL))
                return false;
            g_free(m->path);
            m->path = g_strstrip(vrt_xml_text(c));
        } else if (m->model == VRT_MEMDEV_NVDIMM && vrt_xml_is(c, "alignsize")) {
            if (!vrt_xml_check_attrs(c, error, "unit", NULL) || !scaled_kib(c, &m->alignsize_kib, error))
                return false;
        } else if (m->model == VRT_MEMDEV_NVDIMM && vrt_xml_is(c, "pmem")) {
            if (!vrt_xml_check_attrs(c, error, NULL))
                return false;
            m->pmem = true;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    return true;
}

static bool
parse_target(xmlNodePtr node, VrtDomainMemoryDevDef *m, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "size")) {
            if (!vrt_xml_check_attrs(c, error, "unit", NULL) || !scaled_kib(c, &m->size_kib, error))
                return false;
        } else if (vrt_xml_is(c, "node")) {
            g_autofree char *text = g_strstrip(vrt_xml_text(c));
            char *end = NULL;
            gint64 v = g_ascii_strtoll(text, &end, 10);

            if (!vrt_xml_check_attrs(c, error, NULL))
                return false;
            if (!*text || *end || v < 0 || v > G_MAXINT) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "invalid value of memory device node");
                return false;
            }
            m->node = (int)v;
        } else if (m->model == VRT_MEMDEV_NVDIMM && vrt_xml_is(c, "label")) {
            xmlNodePtr size = c->children ? vrt_xml_next_element(c->children) : NULL;

            if (!vrt_xml_check_attrs(c, error, NULL))
                return false;
            if (size && !vrt_xml_is(size, "size"))
                return vrt_xml_unsupported(size, error);
            if (size && (!vrt_xml_check_attrs(size, error, "unit", NULL) || !scaled_kib(size, &m->label_kib, error)))
                return false;
            if (size && vrt_xml_next_element(size->next))
                return vrt_xml_unsupported(vrt_xml_next_element(size->next), error);
            if (m->label_kib < 128) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "nvdimm label must be at least 128KiB");
                return false;
            }
        } else if (m->model == VRT_MEMDEV_NVDIMM && vrt_xml_is(c, "readonly")) {
            if (!vrt_xml_check_attrs(c, error, NULL))
                return false;
            m->readonly = true;
        } else if (m->model == VRT_MEMDEV_VIRTIO_MEM && vrt_xml_is(c, "block")) {
            if (!vrt_xml_check_attrs(c, error, "unit", NULL) || !scaled_kib(c, &m->block_kib, error))
                return false;
        } else if (m->model == VRT_MEMDEV_VIRTIO_MEM && vrt_xml_is(c, "requested")) {
            if (!vrt_xml_check_attrs(c, error, "unit", NULL) || !scaled_kib(c, &m->requested_kib, error))
                return false;
        } else if (m->model == VRT_MEMDEV_VIRTIO_MEM && vrt_xml_is(c, "current")) {
            /* live only: what the guest took, read again from QEMU */
            if (!vrt_xml_check_attrs(c, error, "unit", NULL))
                return false;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    if (m->label_kib && m->label_kib >= m->size_kib) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "label size must be smaller than NVDIMM size");
        return false;
    }
    return true;
}

static bool
parse_dimm_address(xmlNodePtr node, VrtDomainMemoryDevDef *m, GError **error)
{
    g_autofree char *base = vrt_xml_prop(node, "base");

    if (!vrt_xml_check_attrs(node, error, "type", "slot", "base", NULL) ||
        !vrt_xml_prop_uint(node, "slot", G_MAXUINT, &m->slot, NULL, error))
        return false;
    if (base) {
        char *end = NULL;

        errno = 0;
        m->base = g_ascii_strtoull(base, &end, 0);
        if (!*base || *end || errno || *base == '-') {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'base' in element 'address': '%s'.",
                          base);
            return false;
        }
    }
    m->dimm_addr = true;
    return true;
}

bool
vrt_parse_memory_device(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    g_autofree char *model = vrt_xml_prop(node, "model");
    g_autofree char *access = vrt_xml_prop(node, "access");
    VrtDomainMemoryDevDef *m;
    bool have_target = false;
    int mi;

    if (!vrt_xml_check_attrs(node, error, "model", "access", "discard", NULL))
        return false;
    if (!model) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Missing required attribute 'model' in element 'memory'");
        return false;
    }
    if ((mi = vrt_enum_from_string(vrt_memdev_model_names, model)) < 0) {
        if (g_str_equal(model, "sgx-epc")) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "SGX EPC memory is not supported on this host");
            return false;
        }
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'model' in element 'memory': '%s'.",
                      model);
        return false;
    }
    if (access && !g_str_equal(access, "shared") && !g_str_equal(access, "private")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'access' in element 'memory': '%s'.",
                      access);
        return false;
    }
    m = g_new0(VrtDomainMemoryDevDef, 1);
    m->model = (VrtDomainMemoryModel)mi;
    m->node = -1;
    m->access = g_steal_pointer(&access);
    g_ptr_array_add(vrt_domain_mem_get(def)->devs, m);
    if (!vrt_xml_prop_tristate(node, "discard", false, &m->discard, error))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        g_autofree char *type = NULL;
        int r;

        if (vrt_xml_is(c, "source")) {
            if (!parse_source(c, m, error))
                return false;
            continue;
        }
        if (vrt_xml_is(c, "target")) {
            if (!parse_target(c, m, error))
                return false;
            have_target = true;
            continue;
        }
        if (vrt_xml_is(c, "address") && (type = vrt_xml_prop(c, "type")) && g_str_equal(type, "dimm")) {
            if (m->model != VRT_MEMDEV_DIMM && m->model != VRT_MEMDEV_NVDIMM) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "only 'pci' addresses are supported for the %s device",
                              model);
                return false;
            }
            if (!parse_dimm_address(c, m, error))
                return false;
            continue;
        }
        if ((r = vrt_parse_info_child(ctx, c, &m->info, false, error)) < 0)
            return false;
        if (r == 0)
            return vrt_xml_unsupported(c, error);
    }
    if (!have_target) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing <target> element for <memory> device");
        return false;
    }
    if (m->info.type != VRT_DEVICE_ADDRESS_NONE &&
        (m->info.type != VRT_DEVICE_ADDRESS_PCI || m->model == VRT_MEMDEV_DIMM || m->model == VRT_MEMDEV_NVDIMM)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      m->model == VRT_MEMDEV_DIMM || m->model == VRT_MEMDEV_NVDIMM
                          ? "only 'dimm' addresses are supported for the %s device"
                          : "only 'pci' addresses are supported for the %s device",
                      m->model == VRT_MEMDEV_DIMM ? "pc-dimm" : model);
        return false;
    }
    if ((m->model == VRT_MEMDEV_NVDIMM || m->model == VRT_MEMDEV_VIRTIO_PMEM) && !m->path) {
        vrt_error_set(error, VIR_ERR_XML_DETAIL, "path is required for model '%s'", model);
        return false;
    }
    if (m->model == VRT_MEMDEV_VIRTIO_MEM) {
        if (!m->block_kib) {
            vrt_error_set(error, VIR_ERR_XML_DETAIL, "%s", "virtio-mem device requires <block/> size");
            return false;
        }
        if (m->requested_kib > m->size_kib) {
            vrt_error_set(error, VIR_ERR_XML_DETAIL, "%s", "requested size must be smaller than or equal to @size");
            return false;
        }
    }
    if (m->size_kib == 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing element or attribute './size'");
        return false;
    }
    return true;
}

void
vrt_domain_memdevs_assign_slots(VrtDomainDef *def)
{
    g_autofree guint8 *used = NULL;
    VrtDomainMemoryDevDef *m;
    guint next = 0;

    if (!def->mem || !def->mem->slots)
        return;
    used = g_new0(guint8, def->mem->slots);
    for (guint i = 0; (m = vrt_domain_memdev(def, i)); i++)
        if (m->dimm_addr && m->slot < def->mem->slots)
            used[m->slot] = 1;
    for (guint i = 0; (m = vrt_domain_memdev(def, i)); i++) {
        if (m->dimm_addr || (m->model != VRT_MEMDEV_DIMM && m->model != VRT_MEMDEV_NVDIMM))
            continue;
        while (next < def->mem->slots && used[next])
            next++;
        if (next == def->mem->slots)
            return; /* counted against the slots in post-parse */
        used[next] = 1;
        m->dimm_addr = true;
        m->slot = next;
    }
}

bool
vrt_domain_memdevs_post_parse(VrtDomainDef *def, GError **error)
{
    const VrtDomainMemDef *mem = def->mem;
    VrtDomainMemoryDevDef *m;
    guint64 devs = vrt_domain_memdevs_kib(def), initial;
    guint n = mem && mem->devs ? mem->devs->len : 0;

    if (!mem)
        return true;
    if ((mem->max_memory_kib || mem->slots) && !(mem->max_memory_kib && mem->slots)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s",
                      "both maximum memory size and memory slot count must be specified");
        return false;
    }
    if (mem->max_memory_kib && mem->max_memory_kib < def->memory_kib) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s",
                      "maximum memory size must be equal or greater than the actual memory size");
        return false;
    }
    if (!mem->max_memory_kib) {
        if (n) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                          "cannot use/hotplug a memory device when domain 'maxMemory' is not defined");
            return false;
        }
        return true;
    }
    if (!mem->cells->len) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "At least one numa node has to be configured when enabling memory hotplug");
        return false;
    }
    if (n > mem->slots) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "memory device count '%u' exceeds slots count '%u'", n,
                      mem->slots);
        return false;
    }
    for (guint i = 0; (m = vrt_domain_memdev(def, i)); i++) {
        if (m->node < 0 && m->model != VRT_MEMDEV_VIRTIO_PMEM) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                          "target NUMA node needs to be specified for memory device");
            return false;
        }
        if (m->node >= 0 && (guint)m->node >= mem->cells->len) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "can't add memory backend for guest node '%d' as the guest has only '%u' NUMA nodes "
                          "configured",
                          m->node, mem->cells->len);
            return false;
        }
        if (m->dimm_addr && m->slot >= mem->slots) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "memory device slot '%u' exceeds slots count '%u'",
                          m->slot, mem->slots);
            return false;
        }
        for (guint j = 0; j < i; j++) {
            const VrtDomainMemoryDevDef *o = vrt_domain_memdev(def, j);

            if (m->dimm_addr && o->dimm_addr && m->slot == o->slot) {
                vrt_error_set(error, VIR_ERR_XML_ERROR,
                              "memory device slot '%u' is already being used by another "
                              "memory device",
                              m->slot);
                return false;
            }
        }
    }
    initial = def->memory_kib - devs;
    if (devs > mem->max_memory_kib - initial) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "memory device total size exceeds hotplug space");
        return false;
    }
    vrt_domain_memdevs_assign_slots(def);
    return true;
}

void
vrt_format_max_memory(VrtFmt *f, const VrtDomainDef *def)
{
    if (!def->mem || !def->mem->max_memory_kib)
        return;
    vrt_fmt_line(f, "<maxMemory slots='%u' unit='KiB'>%" G_GUINT64_FORMAT "</maxMemory>", def->mem->slots,
                 def->mem->max_memory_kib);
}

static void
format_one(VrtFmt *f, const VrtDomainMemoryDevDef *m)
{
    g_autoptr(GString) attrs = g_string_new(NULL);
    g_autofree char *path = m->path ? vrt_xml_escape(m->path) : NULL;
    bool source = m->nodemask || m->pagesize_kib || m->path || m->alignsize_kib || m->pmem;

    if (m->access)
        g_string_append_printf(attrs, " access='%s'", m->access);
    if (m->discard != VRT_TRISTATE_DEFAULT)
        g_string_append_printf(attrs, " discard='%s'", m->discard == VRT_TRISTATE_YES ? "yes" : "no");
    vrt_fmt_line(f, "<memory model='%s'%s>", vrt_memdev_model_names[m->model], attrs->str);
    f->indent++;
    if (source) {
        vrt_fmt_line(f, "<source>");
        f->indent++;
        if (m->nodemask)
            vrt_fmt_line(f, "<nodemask>%s</nodemask>", m->nodemask);
        if (m->pagesize_kib)
            vrt_fmt_line(f, "<pagesize unit='KiB'>%" G_GUINT64_FORMAT "</pagesize>", m->pagesize_kib);
        if (path)
            vrt_fmt_line(f, "<path>%s</path>", path);
        if (m->alignsize_kib)
            vrt_fmt_line(f, "<alignsize unit='KiB'>%" G_GUINT64_FORMAT "</alignsize>", m->alignsize_kib);
        if (m->pmem)
            vrt_fmt_line(f, "<pmem/>");
        f->indent--;
        vrt_fmt_line(f, "</source>");
    }
    vrt_fmt_line(f, "<target>");
    f->indent++;
    vrt_fmt_line(f, "<size unit='KiB'>%" G_GUINT64_FORMAT "</size>", m->size_kib);
    if (m->node >= 0)
        vrt_fmt_line(f, "<node>%d</node>", m->node);
    if (m->label_kib) {
        vrt_fmt_line(f, "<label>");
        f->indent++;
        vrt_fmt_line(f, "<size unit='KiB'>%" G_GUINT64_FORMAT "</size>", m->label_kib);
        f->indent--;
        vrt_fmt_line(f, "</label>");
    }
    if (m->readonly)
        vrt_fmt_line(f, "<readonly/>");
    if (m->block_kib) {
        vrt_fmt_line(f, "<block unit='KiB'>%" G_GUINT64_FORMAT "</block>", m->block_kib);
        vrt_fmt_line(f, "<requested unit='KiB'>%" G_GUINT64_FORMAT "</requested>", m->requested_kib);
    }
    f->indent--;
    vrt_fmt_line(f, "</target>");
    vrt_format_device_info(f, &m->info);
    if (m->dimm_addr && m->base)
        vrt_fmt_line(f, "<address type='dimm' slot='%u' base='0x%" G_GINT64_MODIFIER "x'/>", m->slot, m->base);
    else if (m->dimm_addr)
        vrt_fmt_line(f, "<address type='dimm' slot='%u'/>", m->slot);
    f->indent--;
    vrt_fmt_line(f, "</memory>");
}

void
vrt_format_memory_devices(VrtFmt *f, const VrtDomainDef *def)
{
    const VrtDomainMemoryDevDef *m;

    for (guint i = 0; (m = vrt_domain_memdev(def, i)); i++)
        format_one(f, m);
}
