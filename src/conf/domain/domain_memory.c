/*
 * Reading and writing <cpu><numa> and <memoryBacking> (domain_memory.h)
 * with libvirt's checks and error texts, in libvirt's layout. As libvirt,
 * a domain with NUMA cells has as much memory as its cells together: the
 * <memory> it gives is replaced by their sum.
 */
#include "conf/domain/domain_memory_dev.h"
#include "conf/domain/domain_priv.h"
#include "conf/domain/domain_tune.h"
#include "util/error.h"

#include <string.h>

#define CPUSET_MAX 4096

/* Cells go in by id, so a definition refused midway has holes. */
static void
cell_free(VrtDomainNumaCell *c)
{
    if (!c)
        return;
    g_free(c->cpus);
    g_free(c->mem_access);
    g_free(c);
}

static void
page_free(VrtDomainHugePage *p)
{
    g_free(p->nodeset);
    g_free(p);
}

void
vrt_domain_mem_free(VrtDomainMemDef *mem)
{
    if (!mem)
        return;
    g_ptr_array_unref(mem->cells);
    if (mem->pages)
        g_ptr_array_unref(mem->pages);
    if (mem->devs)
        g_ptr_array_unref(mem->devs);
    g_free(mem->source_type);
    g_free(mem->access_mode);
    g_free(mem->allocation_mode);
    g_free(mem);
}

VrtDomainMemDef *
vrt_domain_mem_get(VrtDomainDef *def)
{
    if (!def->mem) {
        def->mem = g_new0(VrtDomainMemDef, 1);
        def->mem->cells = g_ptr_array_new_with_free_func((GDestroyNotify)cell_free);
        def->mem->pages = g_ptr_array_new_with_free_func((GDestroyNotify)page_free);
        def->mem->devs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_memdev_free);
    }
    return def->mem;
}

/* libvirt's units of a memory size in KiB (virScaleInteger, rounded up) */
static bool
scale_kib(xmlNodePtr node, const char *value, const char *unit, guint64 *kib, GError **error)
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
    guint64 mult = 1024, v;
    char *end;

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
    v = g_ascii_strtoull(value, &end, 10);
    if (!*value || *end || v > G_MAXUINT64 / mult) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'memory' in element '%s': '%s'.",
                      (const char *)node->name, value);
        return false;
    }
    *kib = (v * mult + 1023) / 1024;
    return true;
}

static bool
parse_cell(xmlNodePtr node, VrtDomainMemDef *mem, guint n, guint index, GError **error)
{
    g_autofree char *cpus = vrt_xml_prop(node, "cpus");
    g_autofree char *memory = vrt_xml_prop(node, "memory");
    g_autofree char *unit = vrt_xml_prop(node, "unit");
    g_autofree char *access = vrt_xml_prop(node, "memAccess");
    VrtDomainNumaCell *cell;
    bool have_id = false;
    guint id = 0;

    VrtTristate discard = VRT_TRISTATE_DEFAULT;

    if (!vrt_xml_check_attrs(node, error, "id", "cpus", "memory", "unit", "memAccess", "discard", NULL) ||
        !vrt_xml_prop_uint(node, "id", G_MAXUINT, &id, &have_id, error) ||
        !vrt_xml_prop_tristate(node, "discard", false, &discard, error))
        return false;
    if (node->children && vrt_xml_next_element(node->children))
        return vrt_xml_unsupported(vrt_xml_next_element(node->children), error); /* distances, caches */
    /* a cell without an id is the cell of its position, as in libvirt */
    if (!have_id)
        id = index;
    if (id >= n) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s",
                      "Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous ranges or ranges not "
                      "in order is not supported");
        return false;
    }
    if (id < mem->cells->len && g_ptr_array_index(mem->cells, id)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Duplicate NUMA cell info for cell id '%u'", id);
        return false;
    }
    if (!memory) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Missing 'memory' attribute in NUMA cell");
        return false;
    }
    if (access && !g_str_equal(access, "shared") && !g_str_equal(access, "private")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'memAccess' in element 'cell': '%s'.",
                      access);
        return false;
    }
    cell = g_new0(VrtDomainNumaCell, 1);
    cell->id = id;
    cell->mem_access = g_steal_pointer(&access);
    cell->discard = discard;
    if (!scale_kib(node, memory, unit, &cell->memory_kib, error) ||
        (cpus && !(cell->cpus = vrt_cpuset_canonical(cpus, CPUSET_MAX, error)))) {
        cell_free(cell);
        return false;
    }
    if (cpus && !*cell->cpus)
        g_clear_pointer(&cell->cpus, g_free);
    if (mem->cells->len <= id)
        g_ptr_array_set_size(mem->cells, id + 1);
    mem->cells->pdata[id] = cell;
    return true;
}

bool
vrt_parse_numa(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainMemDef *mem = vrt_domain_mem_get(def);
    guint n = 0, index = 0;

    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!vrt_xml_is(c, "cell"))
            return vrt_xml_unsupported(c, error);
        n++;
    }
    g_ptr_array_set_size(mem->cells, 0);
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!parse_cell(c, mem, n, index++, error))
            return false;
    }
    return true;
}

static bool
parse_mode(xmlNodePtr node, const char *attr, const char *const *allowed, char **slot, GError **error)
{
    g_autofree char *v = vrt_xml_prop(node, attr);

    if (!vrt_xml_check_attrs(node, error, attr, NULL))
        return false;
    if (!v || !g_strv_contains(allowed, v)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute '%s' in element '%s': '%s'.", attr,
                      (const char *)node->name, v ? v : "");
        return false;
    }
    g_free(*slot);
    *slot = g_steal_pointer(&v);
    return true;
}

static void cpuset_bits(const char *set, guint8 *bits);
static bool cpuset_overlap(const char *a, const char *b);

/* <hugepages> with its <page size= unit= nodeset=> children; without any,
 * one page of the host's default size for the whole guest. */
static bool
parse_hugepages(xmlNodePtr node, VrtDomainMemDef *mem, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    mem->hugepages = true;
    g_ptr_array_set_size(mem->pages, 0);
    VRT_XML_FOREACH_CHILD(c, node)
    {
        g_autofree char *size = vrt_xml_prop(c, "size");
        g_autofree char *unit = vrt_xml_prop(c, "unit");
        g_autofree char *nodeset = vrt_xml_prop(c, "nodeset");
        VrtDomainHugePage *p;

        if (!vrt_xml_is(c, "page"))
            return vrt_xml_unsupported(c, error);
        if (!vrt_xml_check_attrs(c, error, "size", "unit", "nodeset", NULL))
            return false;
        if (!size) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing element or attribute './@size'");
            return false;
        }
        p = g_new0(VrtDomainHugePage, 1);
        g_ptr_array_add(mem->pages, p);
        if (!scale_kib(c, size, unit, &p->size_kib, error))
            return false;
        if (!p->size_kib) {
            vrt_error_set(error, VIR_ERR_XML_DETAIL, "%s", "hugepage size can't be zero");
            return false;
        }
        if (nodeset) {
            if (!(p->nodeset = vrt_cpuset_canonical(nodeset, CPUSET_MAX, error)))
                return false;
            if (!*p->nodeset) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Invalid value of 'nodeset': %s", nodeset);
                return false;
            }
        }
    }
    if (mem->pages->len == 0)
        g_ptr_array_add(mem->pages, g_new0(VrtDomainHugePage, 1));
    return true;
}

/* libvirt's rules for the pages: node sets apart, one page without a
 * node set at most, and only nodes the guest has. */
static bool
check_hugepages(const VrtDomainMemDef *mem, GError **error)
{
    for (guint i = 0; mem->pages && i < mem->pages->len; i++) {
        const VrtDomainHugePage *a = g_ptr_array_index(mem->pages, i);
        guint8 bits[CPUSET_MAX / 8] = { 0 };

        for (guint j = 0; j < i; j++) {
            const VrtDomainHugePage *b = g_ptr_array_index(mem->pages, j);

            if (a->nodeset && b->nodeset && cpuset_overlap(a->nodeset, b->nodeset)) {
                vrt_error_set(error, VIR_ERR_XML_DETAIL,
                              "nodeset attribute of hugepages of sizes %" G_GUINT64_FORMAT " and %" G_GUINT64_FORMAT
                              " intersect",
                              a->size_kib, b->size_kib);
                return false;
            }
            if (!a->nodeset && !b->nodeset) {
                vrt_error_set(error, VIR_ERR_XML_DETAIL,
                              "two master hugepages detected: %" G_GUINT64_FORMAT " and %" G_GUINT64_FORMAT,
                              a->size_kib, b->size_kib);
                return false;
            }
        }
        if (!a->nodeset)
            continue;
        cpuset_bits(a->nodeset, bits);
        for (guint n = mem->cells->len; n < CPUSET_MAX; n++) {
            if (bits[n / 8] & (1u << (n % 8))) {
                vrt_error_set(error, VIR_ERR_XML_DETAIL, "hugepages: node %u not found", n);
                return false;
            }
        }
    }
    return true;
}

bool
vrt_domain_mem_page_kib(const VrtDomainMemDef *mem, int cell, guint64 *kib)
{
    const VrtDomainHugePage *master = NULL;

    if (!mem || !mem->hugepages || !mem->pages)
        return false;
    for (guint i = 0; i < mem->pages->len; i++) {
        const VrtDomainHugePage *p = g_ptr_array_index(mem->pages, i);
        guint8 bits[CPUSET_MAX / 8] = { 0 };

        if (!p->nodeset) {
            master = p;
            continue;
        }
        cpuset_bits(p->nodeset, bits);
        if (cell >= 0 && cell < CPUSET_MAX && (bits[cell / 8] & (1u << (cell % 8)))) {
            *kib = p->size_kib;
            return true;
        }
    }
    if (!master)
        return false;
    *kib = master->size_kib;
    return true;
}

bool
vrt_parse_memory_backing(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainMemDef *mem = vrt_domain_mem_get(def);

    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    mem->backing = true;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "hugepages")) {
            if (!parse_hugepages(c, mem, error))
                return false;
        } else if (vrt_xml_is(c, "locked") || vrt_xml_is(c, "discard") || vrt_xml_is(c, "nosharepages")) {
            if (!vrt_xml_check_attrs(c, error, NULL))
                return false;
            *(vrt_xml_is(c, "locked")    ? &mem->locked
              : vrt_xml_is(c, "discard") ? &mem->discard
                                         : &mem->nosharepages) = true;
        } else if (vrt_xml_is(c, "source")) {
            if (!parse_mode(c, "type", (const char *const[]){ "anonymous", "file", "memfd", NULL }, &mem->source_type,
                            error))
                return false;
        } else if (vrt_xml_is(c, "access")) {
            if (!parse_mode(c, "mode", (const char *const[]){ "shared", "private", NULL }, &mem->access_mode, error))
                return false;
        } else if (vrt_xml_is(c, "allocation")) {
            g_autofree char *mode = vrt_xml_prop(c, "mode");

            if (!vrt_xml_check_attrs(c, error, "mode", "threads", NULL) ||
                !vrt_xml_prop_uint(c, "threads", G_MAXUINT, &mem->allocation_threads, NULL, error))
                return false;
            if (mode && !g_str_equal(mode, "immediate") && !g_str_equal(mode, "ondemand")) {
                vrt_error_set(error, VIR_ERR_XML_ERROR,
                              "Invalid value for attribute 'mode' in element 'allocation': '%s'.", mode);
                return false;
            }
            g_free(mem->allocation_mode);
            mem->allocation_mode = g_steal_pointer(&mode);
            mem->allocation_set = true;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    return true;
}

/* the CPUs of a canonical cpuset, as bits */
static void
cpuset_bits(const char *set, guint8 *bits)
{
    g_auto(GStrv) ranges = g_strsplit(set, ",", -1);

    for (guint r = 0; ranges[r]; r++) {
        const char *dash = strchr(ranges[r], '-');
        guint lo = (guint)g_ascii_strtoull(ranges[r], NULL, 10);
        guint hi = dash ? (guint)g_ascii_strtoull(dash + 1, NULL, 10) : lo;

        for (guint c = lo; c <= hi && c < CPUSET_MAX; c++)
            bits[c / 8] |= 1u << (c % 8);
    }
}

static bool
cpuset_overlap(const char *a, const char *b)
{
    guint8 x[CPUSET_MAX / 8] = { 0 }, y[CPUSET_MAX / 8] = { 0 };

    cpuset_bits(a, x);
    cpuset_bits(b, y);
    for (guint i = 0; i < sizeof(x); i++)
        if (x[i] & y[i])
            return true;
    return false;
}

bool
vrt_domain_mem_post_parse(VrtDomainDef *def, GError **error)
{
    guint64 total = 0;
    guint vcpus = def->vcpus ? def->vcpus : 1;
    guint ncells = def->mem ? def->mem->cells->len : 0;

    /* libvirt's pairing of the two automatic placements: memory placed by
     * numad puts the vCPUs there too unless they are pinned, and vCPUs
     * placed by numad take their memory from the same advice */
    if (def->tune && def->tune->numa_placement_implicit && !def->tune->vcpu_placement_auto) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s",
                      "nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
        return false;
    }
    if (def->tune && def->tune->numa_placement_auto && !def->vcpu_cpuset)
        def->tune->vcpu_placement_auto = true;
    if (def->tune && def->tune->vcpu_placement_auto && !def->tune->numa_nodeset && !def->tune->numa_placement_auto) {
        def->tune->numa_placement_auto = true;
        g_free(def->tune->numa_mode);
        def->tune->numa_mode = g_strdup("strict");
    }
    if (def->tune && def->tune->numa_placement_auto && def->tune->memnodes->len) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s",
                      "Per-node binding is not compatible with automatic NUMA placement.");
        return false;
    }
    for (guint i = 0; def->tune && i < def->tune->memnodes->len; i++) {
        const VrtDomainMemnode *m = g_ptr_array_index(def->tune->memnodes, i);

        if (!ncells) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Element 'memnode' is invalid without any guest NUMA cells");
            return false;
        }
        if (g_strcmp0(def->tune->numa_mode, "restrictive") == 0 && !g_str_equal(m->mode, "restrictive")) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s",
                          "'restrictive' mode is required in memnode element when mode is 'restrictive' in memory "
                          "element");
            return false;
        }
        if (m->cellid >= ncells) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid attribute cellid '%u' in memnode element", m->cellid);
            return false;
        }
    }
    if (!def->mem)
        return true;
    if (!check_hugepages(def->mem, error))
        return false;
    if (!def->mem->cells->len) {
        /* the devices' memory is part of <memory> */
        if (vrt_domain_memdevs_kib(def) > def->memory_kib) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Total size of memory devices exceeds the total memory size");
            return false;
        }
        return true;
    }
    for (guint i = 0; i < def->mem->cells->len; i++) {
        const VrtDomainNumaCell *a = g_ptr_array_index(def->mem->cells, i);
        g_auto(GStrv) ranges = a->cpus ? g_strsplit(a->cpus, ",", -1) : NULL;

        total += a->memory_kib;
        for (guint r = 0; ranges && ranges[r]; r++) {
            const char *dash = strchr(ranges[r], '-');
            guint hi = (guint)g_ascii_strtoull(dash ? dash + 1 : ranges[r], NULL, 10);

            if (hi >= vcpus) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Number of CPUs in <numa> exceeds the <vcpu> count");
                return false;
            }
        }
        for (guint j = 0; j < i; j++) {
            const VrtDomainNumaCell *b = g_ptr_array_index(def->mem->cells, j);

            if (a->cpus && b->cpus && cpuset_overlap(a->cpus, b->cpus)) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "NUMA cells %u and %u have overlapping vCPU ids", j, i);
                return false;
            }
        }
    }
    /* as libvirtd's define (ABI update): the cells, then the devices */
    def->memory_kib = total + vrt_domain_memdevs_kib(def);
    return true;
}

void
vrt_format_numa(VrtFmt *f, const VrtDomainMemDef *mem)
{
    if (!mem || !mem->cells->len)
        return;
    vrt_fmt_line(f, "<numa>");
    f->indent++;
    for (guint i = 0; i < mem->cells->len; i++) {
        const VrtDomainNumaCell *c = g_ptr_array_index(mem->cells, i);
        g_autoptr(GString) attrs = g_string_new(NULL);

        g_string_append_printf(attrs, " id='%u'", c->id);
        if (c->cpus)
            g_string_append_printf(attrs, " cpus='%s'", c->cpus);
        g_string_append_printf(attrs, " memory='%" G_GUINT64_FORMAT "' unit='KiB'", c->memory_kib);
        if (c->mem_access)
            g_string_append_printf(attrs, " memAccess='%s'", c->mem_access);
        if (c->discard != VRT_TRISTATE_DEFAULT)
            g_string_append_printf(attrs, " discard='%s'", c->discard == VRT_TRISTATE_YES ? "yes" : "no");
        vrt_fmt_line(f, "<cell%s/>", attrs->str);
    }
    f->indent--;
    vrt_fmt_line(f, "</numa>");
}

static void
format_hugepages(VrtFmt *f, const VrtDomainMemDef *mem)
{
    if (mem->pages->len == 1 && !((VrtDomainHugePage *)g_ptr_array_index(mem->pages, 0))->size_kib) {
        vrt_fmt_line(f, "<hugepages/>");
        return;
    }
    vrt_fmt_line(f, "<hugepages>");
    f->indent++;
    for (guint i = 0; i < mem->pages->len; i++) {
        const VrtDomainHugePage *p = g_ptr_array_index(mem->pages, i);

        if (p->nodeset)
            vrt_fmt_line(f, "<page size='%" G_GUINT64_FORMAT "' unit='KiB' nodeset='%s'/>", p->size_kib, p->nodeset);
        else
            vrt_fmt_line(f, "<page size='%" G_GUINT64_FORMAT "' unit='KiB'/>", p->size_kib);
    }
    f->indent--;
    vrt_fmt_line(f, "</hugepages>");
}

void
vrt_format_memory_backing(VrtFmt *f, const VrtDomainMemDef *mem)
{
    if (!mem || !mem->backing)
        return;
    if (!mem->hugepages && !mem->locked && !mem->discard && !mem->source_type && !mem->access_mode &&
        !mem->allocation_set && !mem->nosharepages)
        return;
    vrt_fmt_line(f, "<memoryBacking>");
    f->indent++;
    if (mem->hugepages)
        format_hugepages(f, mem);
    if (mem->nosharepages)
        vrt_fmt_line(f, "<nosharepages/>");
    if (mem->locked)
        vrt_fmt_line(f, "<locked/>");
    if (mem->source_type)
        vrt_fmt_line(f, "<source type='%s'/>", mem->source_type);
    if (mem->access_mode)
        vrt_fmt_line(f, "<access mode='%s'/>", mem->access_mode);
    if (mem->allocation_set) {
        g_autoptr(GString) attrs = g_string_new(NULL);

        if (mem->allocation_mode)
            g_string_append_printf(attrs, " mode='%s'", mem->allocation_mode);
        if (mem->allocation_threads)
            g_string_append_printf(attrs, " threads='%u'", mem->allocation_threads);
        vrt_fmt_line(f, "<allocation%s/>", attrs->str);
    }
    if (mem->discard)
        vrt_fmt_line(f, "<discard/>");
    f->indent--;
    vrt_fmt_line(f, "</memoryBacking>");
}
