/*
 * Parsing and formatting of a domain's resource tuning (see domain_tune.h):
 * the elements and their order are libvirt 9.0's, so a definition written
 * by virsh edit or by libvirt reads back the same.
 */
#include "conf/domain/domain_tune.h"
#include "conf/domain/domain_priv.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>

/* Highest CPU or NUMA node number a set may name (libvirt's bitmaps of
 * VIR_DOMAIN_CPUMASK_LEN bits). */
#define CPUSET_MAX 1023

bool vrt_parse_memory_kib(xmlNodePtr node, guint64 *kib, GError **error);

static void
blkio_device_free(gpointer p)
{
    VrtDomainBlkioDevice *d = p;

    g_free(d->path);
    g_free(d);
}

static void
vcpupin_free(gpointer p)
{
    VrtDomainVcpuPin *v = p;

    g_free(v->cpuset);
    g_free(v);
}

static void
memnode_free(gpointer p)
{
    VrtDomainMemnode *m = p;

    g_free(m->mode);
    g_free(m->nodeset);
    g_free(m);
}

const VrtDomainMemnode *
vrt_domain_tune_memnode(const VrtDomainTuneDef *t, guint cellid)
{
    for (guint i = 0; t && i < t->memnodes->len; i++) {
        const VrtDomainMemnode *m = g_ptr_array_index(t->memnodes, i);

        if (m->cellid == cellid)
            return m;
    }
    return NULL;
}

VrtDomainTuneDef *
vrt_domain_tune_new(void)
{
    VrtDomainTuneDef *t = g_new0(VrtDomainTuneDef, 1);

    t->blkio_devices = g_ptr_array_new_with_free_func(blkio_device_free);
    t->vcpupins = g_ptr_array_new_with_free_func(vcpupin_free);
    t->iothreadpins = g_ptr_array_new_with_free_func(vcpupin_free);
    t->memnodes = g_ptr_array_new_with_free_func(memnode_free);
    t->hard_limit = t->soft_limit = t->swap_hard_limit = VRT_MEMORY_UNLIMITED;
    return t;
}

void
vrt_domain_tune_free(VrtDomainTuneDef *t)
{
    if (!t)
        return;
    g_ptr_array_unref(t->blkio_devices);
    g_ptr_array_unref(t->vcpupins);
    g_ptr_array_unref(t->iothreadpins);
    g_clear_pointer(&t->vcpu_scheds, g_array_unref);
    g_clear_pointer(&t->iothread_scheds, g_array_unref);
    g_free(t->emulatorpin);
    g_free(t->numa_mode);
    g_free(t->numa_nodeset);
    g_ptr_array_unref(t->memnodes);
    g_free(t);
}

VrtDomainTuneDef *
vrt_domain_tune_get(VrtDomainDef *def)
{
    if (!def->tune)
        def->tune = vrt_domain_tune_new();
    return def->tune;
}

/* ---- cpusets ---- */

static bool
parse_num(const char **p, guint max, guint *out)
{
    char *end = NULL;
    guint64 v;

    if (!g_ascii_isdigit(**p))
        return false;
    errno = 0;
    v = g_ascii_strtoull(*p, &end, 10);
    if (errno || v > max)
        return false;
    *out = (guint)v;
    *p = end;
    return true;
}

char *
vrt_cpuset_canonical(const char *text, guint max, GError **error)
{
    g_autofree gboolean *set = g_new0(gboolean, max + 1);
    g_autoptr(GString) out = g_string_new(NULL);
    const char *p = text;
    bool any = false;

    while (p && *p) {
        bool neg = false;
        guint a, b;

        while (*p == ' ')
            p++;
        if (*p == '^') {
            neg = true;
            p++;
        }
        if (!parse_num(&p, max, &a))
            goto bad;
        b = a;
        if (*p == '-') {
            p++;
            if (neg || !parse_num(&p, max, &b) || b < a)
                goto bad;
        }
        for (guint i = a; i <= b; i++)
            set[i] = !neg;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p)
            goto bad;
    }
    for (guint i = 0; i <= max; i++) {
        guint j = i;

        if (!set[i])
            continue;
        while (j < max && set[j + 1])
            j++;
        if (any)
            g_string_append_c(out, ',');
        if (j > i)
            g_string_append_printf(out, "%u-%u", i, j);
        else
            g_string_append_printf(out, "%u", i);
        any = true;
        i = j;
    }
    if (!any) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "Empty cpu list for pinning");
        return NULL;
    }
    return g_string_free(g_steal_pointer(&out), FALSE);

bad:
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "Failed to parse bitmap '%s'", text ? text : "");
    return NULL;
}

GArray *
vrt_cpuset_to_array(const char *cpuset)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(guint));
    g_auto(GStrv) parts = g_strsplit(cpuset ? cpuset : "", ",", -1);

    for (guint i = 0; parts[i]; i++) {
        guint lo, hi;
        const char *p = parts[i];

        if (!parse_num(&p, G_MAXUINT, &lo))
            continue;
        hi = lo;
        if (*p == '-') {
            p++;
            parse_num(&p, G_MAXUINT, &hi);
        }
        for (guint c = lo; c <= hi; c++)
            g_array_append_val(a, c);
    }
    return a;
}

const char *
vrt_domain_tune_vcpupin(const VrtDomainTuneDef *tune, guint vcpu)
{
    for (guint i = 0; tune && i < tune->vcpupins->len; i++) {
        VrtDomainVcpuPin *v = g_ptr_array_index(tune->vcpupins, i);
        if (v->vcpu == vcpu)
            return v->cpuset;
    }
    return NULL;
}

void
vrt_domain_tune_set_vcpupin(VrtDomainTuneDef *tune, guint vcpu, const char *cpuset)
{
    guint at = tune->vcpupins->len;
    VrtDomainVcpuPin *v;

    for (guint i = 0; i < tune->vcpupins->len; i++) {
        v = g_ptr_array_index(tune->vcpupins, i);
        if (v->vcpu == vcpu) {
            if (!cpuset) {
                g_ptr_array_remove_index(tune->vcpupins, i);
                return;
            }
            g_free(v->cpuset);
            v->cpuset = g_strdup(cpuset);
            return;
        }
        if (v->vcpu > vcpu && at == tune->vcpupins->len)
            at = i;
    }
    if (!cpuset)
        return;
    v = g_new0(VrtDomainVcpuPin, 1);
    v->vcpu = vcpu;
    v->cpuset = g_strdup(cpuset);
    g_ptr_array_insert(tune->vcpupins, (gint)at, v);
}

/* ---- parsing ---- */

static bool
text_u64(xmlNodePtr node, guint64 max, guint64 *out, GError **error)
{
    g_autofree char *text = g_strstrip(vrt_xml_text(node));
    char *end = NULL;

    errno = 0;
    *out = g_ascii_strtoull(text, &end, 10);
    if (!*text || *text == '-' || errno || *end || *out > max) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid value '%s' for <%s>", text, (const char *)node->name);
        return false;
    }
    return vrt_xml_check_attrs(node, error, NULL);
}

static bool
text_s64(xmlNodePtr node, gint64 *out, GError **error)
{
    g_autofree char *text = g_strstrip(vrt_xml_text(node));
    char *end = NULL;

    errno = 0;
    *out = g_ascii_strtoll(text, &end, 10);
    if (!*text || errno || *end) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid value '%s' for <%s>", text, (const char *)node->name);
        return false;
    }
    return vrt_xml_check_attrs(node, error, NULL);
}

static bool
parse_blkio_device(xmlNodePtr node, VrtDomainTuneDef *t, GError **error)
{
    g_autofree VrtDomainBlkioDevice *d = g_new0(VrtDomainBlkioDevice, 1);
    g_autofree char *path = NULL;
    guint64 v;

    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    for (xmlNodePtr c = vrt_xml_next_element(node->children); c; c = vrt_xml_next_element(c->next)) {
        if (vrt_xml_is(c, "path")) {
            g_free(path);
            path = g_strstrip(vrt_xml_text(c));
        } else if (vrt_xml_is(c, "weight")) {
            if (!text_u64(c, G_MAXUINT, &v, error))
                return false;
            d->weight = (guint)v;
        } else if (vrt_xml_is(c, "read_iops_sec")) {
            if (!text_u64(c, G_MAXUINT, &v, error))
                return false;
            d->read_iops = (guint)v;
        } else if (vrt_xml_is(c, "write_iops_sec")) {
            if (!text_u64(c, G_MAXUINT, &v, error))
                return false;
            d->write_iops = (guint)v;
        } else if (vrt_xml_is(c, "read_bytes_sec")) {
            if (!text_u64(c, G_MAXUINT64, &d->read_bytes, error))
                return false;
        } else if (vrt_xml_is(c, "write_bytes_sec")) {
            if (!text_u64(c, G_MAXUINT64, &d->write_bytes, error))
                return false;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    if (!path || !*path) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "missing per-device path");
        return false;
    }
    for (guint i = 0; i < t->blkio_devices->len; i++) {
        VrtDomainBlkioDevice *o = g_ptr_array_index(t->blkio_devices, i);
        if (g_str_equal(o->path, path)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "duplicate blkio device path '%s'", path);
            return false;
        }
    }
    d->path = g_steal_pointer(&path);
    g_ptr_array_add(t->blkio_devices, g_steal_pointer(&d));
    return true;
}

static bool
parse_blkiotune(xmlNodePtr node, VrtDomainTuneDef *t, GError **error)
{
    guint64 v;

    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    for (xmlNodePtr c = vrt_xml_next_element(node->children); c; c = vrt_xml_next_element(c->next)) {
        if (vrt_xml_is(c, "weight")) {
            if (!text_u64(c, G_MAXUINT, &v, error))
                return false;
            t->blkio_weight = (guint)v;
        } else if (vrt_xml_is(c, "device")) {
            if (!parse_blkio_device(c, t, error))
                return false;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    return true;
}

static bool
parse_memtune(xmlNodePtr node, VrtDomainTuneDef *t, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    for (xmlNodePtr c = vrt_xml_next_element(node->children); c; c = vrt_xml_next_element(c->next)) {
        guint64 *slot;

        if (vrt_xml_is(c, "hard_limit"))
            slot = &t->hard_limit;
        else if (vrt_xml_is(c, "soft_limit"))
            slot = &t->soft_limit;
        else if (vrt_xml_is(c, "swap_hard_limit"))
            slot = &t->swap_hard_limit;
        else
            return vrt_xml_unsupported(c, error);
        if (!vrt_parse_memory_kib(c, slot, error))
            return false;
        if (*slot > VRT_MEMORY_UNLIMITED)
            *slot = VRT_MEMORY_UNLIMITED;
    }
    if (t->hard_limit != VRT_MEMORY_UNLIMITED && t->swap_hard_limit != VRT_MEMORY_UNLIMITED &&
        t->swap_hard_limit < t->hard_limit) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "memory hard_limit tunable value must be lower than or equal to "
                      "swap_hard_limit");
        return false;
    }
    return true;
}

static bool
parse_cpuset_attr(xmlNodePtr node, char **slot, GError **error)
{
    g_autofree char *text = vrt_xml_prop(node, "cpuset");

    if (!text) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "missing cpuset for <%s>", (const char *)node->name);
        return false;
    }
    g_free(*slot);
    *slot = vrt_cpuset_canonical(text, CPUSET_MAX, error);
    return *slot != NULL;
}

static bool
parse_cputune(xmlNodePtr node, VrtDomainTuneDef *t, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    for (xmlNodePtr c = vrt_xml_next_element(node->children); c; c = vrt_xml_next_element(c->next)) {
        if (vrt_xml_is(c, "shares")) {
            if (!text_u64(c, G_MAXUINT64, &t->shares, error))
                return false;
            t->shares_set = true;
        } else if (vrt_xml_is(c, "period")) {
            if (!text_u64(c, G_MAXUINT64, &t->period, error))
                return false;
        } else if (vrt_xml_is(c, "global_period")) {
            if (!text_u64(c, G_MAXUINT64, &t->global_period, error))
                return false;
        } else if (vrt_xml_is(c, "emulator_period")) {
            if (!text_u64(c, G_MAXUINT64, &t->emulator_period, error))
                return false;
        } else if (vrt_xml_is(c, "quota")) {
            if (!text_s64(c, &t->quota, error))
                return false;
        } else if (vrt_xml_is(c, "global_quota")) {
            if (!text_s64(c, &t->global_quota, error))
                return false;
        } else if (vrt_xml_is(c, "emulator_quota")) {
            if (!text_s64(c, &t->emulator_quota, error))
                return false;
        } else if (vrt_xml_is(c, "vcpupin")) {
            guint vcpu;
            g_autofree char *cpuset = NULL;

            if (!vrt_xml_check_attrs(c, error, "vcpu", "cpuset", NULL) ||
                !vrt_xml_prop_uint_required(c, "vcpu", G_MAXUINT, &vcpu, error) ||
                !parse_cpuset_attr(c, &cpuset, error))
                return false;
            if (vrt_domain_tune_vcpupin(t, vcpu)) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "duplicate vcpupin for vcpu '%u'", vcpu);
                return false;
            }
            vrt_domain_tune_set_vcpupin(t, vcpu, cpuset);
        } else if (vrt_xml_is(c, "iothread_period")) {
            if (!text_u64(c, G_MAXUINT64, &t->iothread_period, error))
                return false;
        } else if (vrt_xml_is(c, "iothread_quota")) {
            if (!text_s64(c, &t->iothread_quota, error))
                return false;
        } else if (vrt_xml_is(c, "iothreadpin")) {
            VrtDomainVcpuPin *pin = g_new0(VrtDomainVcpuPin, 1);
            g_autofree char *cpuset = vrt_xml_prop(c, "cpuset");

            g_ptr_array_add(t->iothreadpins, pin); /* freed with t */
            if (!vrt_xml_check_attrs(c, error, "iothread", "cpuset", NULL) ||
                !vrt_xml_prop_uint_required(c, "iothread", G_MAXUINT, &pin->vcpu, error))
                return false;
            if (pin->vcpu == 0) {
                vrt_error_set(error, VIR_ERR_XML_ERROR,
                              "Invalid value for attribute 'iothread' in element "
                              "'iothreadpin': Zero is not permitted");
                return false;
            }
            if (!cpuset) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "missing cpuset for iothreadpin");
                return false;
            }
            if (!parse_cpuset_attr(c, &pin->cpuset, error))
                return false;
        } else if (vrt_xml_is(c, "emulatorpin")) {
            if (t->emulatorpin) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "only one emulatorpin is supported");
                return false;
            }
            if (!vrt_xml_check_attrs(c, error, "cpuset", NULL) || !parse_cpuset_attr(c, &t->emulatorpin, error))
                return false;
        } else if (vrt_xml_is(c, "vcpusched") || vrt_xml_is(c, "iothreadsched")) {
            if (!vrt_domain_thread_sched_parse(c, t, error))
                return false;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    return true;
}

static const char *const numa_modes[] = { "strict", "preferred", "interleave", "restrictive", NULL };

static gint
memnode_cmp(gconstpointer a, gconstpointer b)
{
    const VrtDomainMemnode *x = *(VrtDomainMemnode *const *)a, *y = *(VrtDomainMemnode *const *)b;

    return x->cellid < y->cellid ? -1 : x->cellid > y->cellid;
}

/* <memnode cellid= mode= nodeset=>, libvirt's checks; the cell is checked
 * against <cpu><numa> once the definition is whole (domain_memory.c). */
static bool
parse_memnode(xmlNodePtr c, VrtDomainTuneDef *t, GError **error)
{
    g_autofree char *mode = vrt_xml_prop(c, "mode");
    g_autofree char *nodeset = vrt_xml_prop(c, "nodeset");
    VrtDomainMemnode *m;
    guint cellid = 0;
    bool have = false;

    if (!vrt_xml_check_attrs(c, error, "cellid", "mode", "nodeset", NULL) ||
        !vrt_xml_prop_uint(c, "cellid", G_MAXUINT, &cellid, &have, error))
        return false;
    if (!have) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Missing required cellid attribute in memnode element");
        return false;
    }
    if (vrt_domain_tune_memnode(t, cellid)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Multiple memnode elements with cellid %u", cellid);
        return false;
    }
    if (mode && vrt_enum_from_string(numa_modes, mode) < 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid mode attribute in memnode element: %s", mode);
        return false;
    }
    if (!nodeset) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Missing required nodeset attribute in memnode element");
        return false;
    }
    m = g_new0(VrtDomainMemnode, 1);
    m->cellid = cellid;
    m->mode = g_strdup(mode ? mode : "strict");
    g_ptr_array_add(t->memnodes, m);
    if (!(m->nodeset = vrt_cpuset_canonical(nodeset, CPUSET_MAX, error)))
        return false;
    g_ptr_array_sort(t->memnodes, memnode_cmp);
    return true;
}

static bool
parse_numatune(xmlNodePtr node, VrtDomainTuneDef *t, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    g_ptr_array_set_size(t->memnodes, 0);
    for (xmlNodePtr c = vrt_xml_next_element(node->children); c; c = vrt_xml_next_element(c->next)) {
        g_autofree char *mode = NULL;
        g_autofree char *placement = NULL;
        g_autofree char *nodeset = NULL;

        if (vrt_xml_is(c, "memnode")) {
            if (!parse_memnode(c, t, error))
                return false;
            continue;
        }
        if (!vrt_xml_is(c, "memory"))
            return vrt_xml_unsupported(c, error);
        if (!vrt_xml_check_attrs(c, error, "mode", "nodeset", "placement", NULL))
            return false;
        mode = vrt_xml_prop(c, "mode");
        placement = vrt_xml_prop(c, "placement");
        nodeset = vrt_xml_prop(c, "nodeset");
        if (mode && vrt_enum_from_string(numa_modes, mode) < 0) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Unsupported NUMA memory tuning mode '%s'", mode);
            return false;
        }
        if (placement && !g_str_equal(placement, "static") && !g_str_equal(placement, "auto")) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Unsupported NUMA memory placement mode '%s'", placement);
            return false;
        }
        /* neither: the vCPUs' placement, known once the definition is whole */
        t->numa_placement_implicit = !placement && !nodeset;
        t->numa_placement_auto = (placement && g_str_equal(placement, "auto")) || t->numa_placement_implicit;
        if (t->numa_placement_auto) {
            /* the nodeset is numad's, as in libvirt */
            g_clear_pointer(&t->numa_nodeset, g_free);
            g_free(t->numa_mode);
            t->numa_mode = g_strdup(mode ? mode : "strict");
            continue;
        }
        if (!nodeset) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "nodeset for NUMA memory tuning must be set if 'placement' is "
                          "'static'");
            return false;
        }
        g_free(t->numa_nodeset);
        t->numa_nodeset = vrt_cpuset_canonical(nodeset, CPUSET_MAX, error);
        if (!t->numa_nodeset)
            return false;
        g_free(t->numa_mode);
        t->numa_mode = g_strdup(mode ? mode : "strict");
    }
    return true;
}

bool
vrt_domain_tune_is_element(const char *name)
{
    return g_str_equal(name, "blkiotune") || g_str_equal(name, "memtune") || g_str_equal(name, "cputune") ||
           g_str_equal(name, "numatune");
}

bool
vrt_domain_tune_parse(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainTuneDef *t = vrt_domain_tune_get(def);

    if (vrt_xml_is(node, "blkiotune"))
        return parse_blkiotune(node, t, error);
    if (vrt_xml_is(node, "memtune"))
        return parse_memtune(node, t, error);
    if (vrt_xml_is(node, "cputune"))
        return parse_cputune(node, t, error);
    if (vrt_xml_is(node, "numatune"))
        return parse_numatune(node, t, error);
    return vrt_xml_unsupported(node, error);
}

/* ---- formatting ---- */

void
vrt_domain_tune_format_mem(GString *buf, guint indent, const VrtDomainTuneDef *t)
{
    VrtFmt f = { .buf = buf, .indent = indent };

    if (!t)
        return;
    if (t->blkio_weight || t->blkio_devices->len) {
        vrt_fmt_line(&f, "<blkiotune>");
        f.indent++;
        if (t->blkio_weight)
            vrt_fmt_line(&f, "<weight>%u</weight>", t->blkio_weight);
        for (guint i = 0; i < t->blkio_devices->len; i++) {
            VrtDomainBlkioDevice *d = g_ptr_array_index(t->blkio_devices, i);
            g_autofree char *path = vrt_xml_escape(d->path);

            if (!d->weight && !d->read_iops && !d->write_iops && !d->read_bytes && !d->write_bytes)
                continue;
            vrt_fmt_line(&f, "<device>");
            f.indent++;
            vrt_fmt_line(&f, "<path>%s</path>", path);
            if (d->weight)
                vrt_fmt_line(&f, "<weight>%u</weight>", d->weight);
            if (d->read_iops)
                vrt_fmt_line(&f, "<read_iops_sec>%u</read_iops_sec>", d->read_iops);
            if (d->write_iops)
                vrt_fmt_line(&f, "<write_iops_sec>%u</write_iops_sec>", d->write_iops);
            if (d->read_bytes)
                vrt_fmt_line(&f, "<read_bytes_sec>%" G_GUINT64_FORMAT "</read_bytes_sec>", d->read_bytes);
            if (d->write_bytes)
                vrt_fmt_line(&f, "<write_bytes_sec>%" G_GUINT64_FORMAT "</write_bytes_sec>", d->write_bytes);
            f.indent--;
            vrt_fmt_line(&f, "</device>");
        }
        f.indent--;
        vrt_fmt_line(&f, "</blkiotune>");
    }
    if (t->hard_limit < VRT_MEMORY_UNLIMITED || t->soft_limit < VRT_MEMORY_UNLIMITED ||
        t->swap_hard_limit < VRT_MEMORY_UNLIMITED) {
        vrt_fmt_line(&f, "<memtune>");
        f.indent++;
        if (t->hard_limit < VRT_MEMORY_UNLIMITED)
            vrt_fmt_line(&f, "<hard_limit unit='KiB'>%" G_GUINT64_FORMAT "</hard_limit>", t->hard_limit);
        if (t->soft_limit < VRT_MEMORY_UNLIMITED)
            vrt_fmt_line(&f, "<soft_limit unit='KiB'>%" G_GUINT64_FORMAT "</soft_limit>", t->soft_limit);
        if (t->swap_hard_limit < VRT_MEMORY_UNLIMITED)
            vrt_fmt_line(&f, "<swap_hard_limit unit='KiB'>%" G_GUINT64_FORMAT "</swap_hard_limit>", t->swap_hard_limit);
        f.indent--;
        vrt_fmt_line(&f, "</memtune>");
    }
}

void
vrt_domain_tune_format_cpu(GString *buf, guint indent, const VrtDomainTuneDef *t)
{
    VrtFmt f = { .buf = buf, .indent = indent };

    if (!t)
        return;
    if (t->shares_set || t->period || t->quota || t->global_period || t->global_quota || t->emulator_period ||
        t->emulator_quota || t->iothread_period || t->iothread_quota || t->vcpupins->len || t->emulatorpin ||
        t->iothreadpins->len || t->vcpu_scheds || t->iothread_scheds) {
        vrt_fmt_line(&f, "<cputune>");
        f.indent++;
        if (t->shares_set)
            vrt_fmt_line(&f, "<shares>%" G_GUINT64_FORMAT "</shares>", t->shares);
        if (t->period)
            vrt_fmt_line(&f, "<period>%" G_GUINT64_FORMAT "</period>", t->period);
        if (t->quota)
            vrt_fmt_line(&f, "<quota>%" G_GINT64_FORMAT "</quota>", t->quota);
        if (t->global_period)
            vrt_fmt_line(&f, "<global_period>%" G_GUINT64_FORMAT "</global_period>", t->global_period);
        if (t->global_quota)
            vrt_fmt_line(&f, "<global_quota>%" G_GINT64_FORMAT "</global_quota>", t->global_quota);
        if (t->emulator_period)
            vrt_fmt_line(&f, "<emulator_period>%" G_GUINT64_FORMAT "</emulator_period>", t->emulator_period);
        if (t->emulator_quota)
            vrt_fmt_line(&f, "<emulator_quota>%" G_GINT64_FORMAT "</emulator_quota>", t->emulator_quota);
        if (t->iothread_period)
            vrt_fmt_line(&f, "<iothread_period>%" G_GUINT64_FORMAT "</iothread_period>", t->iothread_period);
        if (t->iothread_quota)
            vrt_fmt_line(&f, "<iothread_quota>%" G_GINT64_FORMAT "</iothread_quota>", t->iothread_quota);
        for (guint i = 0; i < t->vcpupins->len; i++) {
            VrtDomainVcpuPin *v = g_ptr_array_index(t->vcpupins, i);
            vrt_fmt_line(&f, "<vcpupin vcpu='%u' cpuset='%s'/>", v->vcpu, v->cpuset);
        }
        if (t->emulatorpin)
            vrt_fmt_line(&f, "<emulatorpin cpuset='%s'/>", t->emulatorpin);
        for (guint i = 0; i < t->iothreadpins->len; i++) {
            VrtDomainVcpuPin *v = g_ptr_array_index(t->iothreadpins, i);
            vrt_fmt_line(&f, "<iothreadpin iothread='%u' cpuset='%s'/>", v->vcpu, v->cpuset);
        }
        vrt_domain_thread_sched_format(&f, t);
        f.indent--;
        vrt_fmt_line(&f, "</cputune>");
    }
    if (t->numa_nodeset || t->memnodes->len || t->numa_placement_auto) {
        vrt_fmt_line(&f, "<numatune>");
        f.indent++;
        if (t->numa_placement_auto)
            vrt_fmt_line(&f, "<memory mode='%s' placement='auto'/>", t->numa_mode);
        else if (t->numa_nodeset)
            vrt_fmt_line(&f, "<memory mode='%s' nodeset='%s'/>", t->numa_mode, t->numa_nodeset);
        for (guint i = 0; i < t->memnodes->len; i++) {
            const VrtDomainMemnode *m = g_ptr_array_index(t->memnodes, i);

            vrt_fmt_line(&f, "<memnode cellid='%u' mode='%s' nodeset='%s'/>", m->cellid, m->mode, m->nodeset);
        }
        f.indent--;
        vrt_fmt_line(&f, "</numatune>");
    }
}
