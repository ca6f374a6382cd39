/*
 * The capabilities struct and its formatter, in libvirt's layout: <host>
 * (uuid, cpu, iommu, migration, NUMA topology, security model) then one
 * <guest> per os type and arch with its machines and domain types.
 */
#include "conf/domain/capabilities.h"
#include "conf/domain/domain_conf.h"
#include "util/error.h"
#include "util/xml.h"

#include <stdarg.h>

static void
machine_free(gpointer p)
{
    VrtCapsMachine *m = p;
    g_free(m->name);
    g_free(m->canonical);
    g_free(m);
}

static void
cpu_free(gpointer p)
{
    VrtCapsCpu *c = p;
    g_free(c->siblings);
    g_free(c);
}

static void
cell_free(gpointer p)
{
    VrtCapsCell *c = p;
    g_ptr_array_unref(c->cpus);
    g_free(c);
}

static void
guest_free(gpointer p)
{
    VrtCapsGuest *g = p;
    g_free(g->os_type);
    g_free(g->arch);
    g_free(g->emulator);
    g_ptr_array_unref(g->machines);
    g_free(g);
}

VrtCaps *
vrt_caps_new(const char *host_arch)
{
    VrtCaps *caps = g_new0(VrtCaps, 1);

    caps->arch = g_strdup(host_arch);
    caps->cpu_features = g_ptr_array_new_with_free_func(g_free);
    caps->page_sizes_kib = g_array_new(FALSE, FALSE, sizeof(guint));
    caps->cells = g_ptr_array_new_with_free_func(cell_free);
    caps->uri_transports = g_ptr_array_new_with_free_func(g_free);
    caps->guests = g_ptr_array_new_with_free_func(guest_free);
    caps->secmodel = g_strdup("none");
    caps->secmodel_doi = g_strdup("0");
    return caps;
}

void
vrt_caps_free(VrtCaps *caps)
{
    if (!caps)
        return;
    g_free(caps->arch);
    g_free(caps->cpu_vendor);
    g_free(caps->cpu_model);
    g_ptr_array_unref(caps->cpu_features);
    g_array_unref(caps->page_sizes_kib);
    g_ptr_array_unref(caps->cells);
    g_ptr_array_unref(caps->uri_transports);
    g_free(caps->secmodel);
    g_free(caps->secmodel_doi);
    g_free(caps->dac_baselabel);
    g_ptr_array_unref(caps->guests);
    g_free(caps);
}

VrtCapsGuest *
vrt_caps_add_guest(VrtCaps *caps, const char *os_type, const char *arch, guint wordsize, const char *emulator)
{
    VrtCapsGuest *g = g_new0(VrtCapsGuest, 1);

    g->os_type = g_strdup(os_type);
    g->arch = g_strdup(arch);
    g->wordsize = wordsize;
    g->emulator = g_strdup(emulator);
    g->machines = g_ptr_array_new_with_free_func(machine_free);
    g_ptr_array_add(caps->guests, g);
    return g;
}

void
vrt_caps_guest_add_machine(VrtCapsGuest *guest, const char *name, const char *canonical, guint max_cpus)
{
    VrtCapsMachine *m = g_new0(VrtCapsMachine, 1);

    m->name = g_strdup(name);
    m->canonical = g_strdup(canonical);
    m->max_cpus = max_cpus;
    g_ptr_array_add(guest->machines, m);
}

VrtCapsCell *
vrt_caps_add_cell(VrtCaps *caps, guint id, guint64 memory_kib)
{
    VrtCapsCell *c = g_new0(VrtCapsCell, 1);

    c->id = id;
    c->memory_kib = memory_kib;
    c->cpus = g_ptr_array_new_with_free_func(cpu_free);
    g_ptr_array_add(caps->cells, c);
    return c;
}

void
vrt_caps_cell_add_cpu(VrtCapsCell *cell, guint id, guint socket_id, guint die_id, guint core_id, const char *siblings)
{
    VrtCapsCpu *c = g_new0(VrtCapsCpu, 1);

    c->id = id;
    c->socket_id = socket_id;
    c->die_id = die_id;
    c->core_id = core_id;
    c->siblings = g_strdup(siblings);
    g_ptr_array_add(cell->cpus, c);
}

static void
format_host_cpu(GString *buf, const VrtCaps *caps)
{
    vrt_xml_line(buf, 2, "<cpu>");
    vrt_xml_line(buf, 3, "<arch>%s</arch>", caps->arch);
    if (caps->cpu_model) {
        g_autofree char *m = vrt_xml_escape(caps->cpu_model);
        vrt_xml_line(buf, 3, "<model>%s</model>", m);
    }
    if (caps->cpu_vendor) {
        g_autofree char *v = vrt_xml_escape(caps->cpu_vendor);
        vrt_xml_line(buf, 3, "<vendor>%s</vendor>", v);
    }
    if (caps->microcode)
        vrt_xml_line(buf, 3, "<microcode version='%u'/>", caps->microcode);
    if (caps->sig_family)
        vrt_xml_line(buf, 3, "<signature family='%u' model='%u' stepping='%u'/>", caps->sig_family, caps->sig_model,
                     caps->sig_stepping);
    if (caps->sockets && caps->cores && caps->threads)
        vrt_xml_line(buf, 3, "<topology sockets='%u' dies='%u' cores='%u' threads='%u'/>", caps->sockets,
                     caps->dies ? caps->dies : 1, caps->cores, caps->threads);
    if (caps->maxphysaddr_bits > 0)
        vrt_xml_line(buf, 3, "<maxphysaddr mode='emulate' bits='%d'/>", caps->maxphysaddr_bits);
    for (guint i = 0; i < caps->cpu_features->len; i++) {
        g_autofree char *f = vrt_xml_escape(caps->cpu_features->pdata[i]);
        vrt_xml_line(buf, 3, "<feature name='%s'/>", f);
    }
    for (guint i = 0; i < caps->page_sizes_kib->len; i++)
        vrt_xml_line(buf, 3, "<pages unit='KiB' size='%u'/>", g_array_index(caps->page_sizes_kib, guint, i));
    vrt_xml_line(buf, 2, "</cpu>");
}

static void
format_cell(GString *buf, const VrtCapsCell *cell)
{
    vrt_xml_line(buf, 4, "<cell id='%u'>", cell->id);
    if (cell->memory_kib)
        vrt_xml_line(buf, 5, "<memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>", cell->memory_kib);
    if (cell->cpus->len) {
        vrt_xml_line(buf, 5, "<cpus num='%u'>", cell->cpus->len);
        for (guint i = 0; i < cell->cpus->len; i++) {
            const VrtCapsCpu *c = cell->cpus->pdata[i];
            g_autofree char *sib = c->siblings ? g_strdup(c->siblings) : g_strdup_printf("%u", c->id);
            vrt_xml_line(buf, 6, "<cpu id='%u' socket_id='%u' die_id='%u' core_id='%u' siblings='%s'/>", c->id,
                         c->socket_id, c->die_id, c->core_id, sib);
        }
        vrt_xml_line(buf, 5, "</cpus>");
    }
    vrt_xml_line(buf, 4, "</cell>");
}

static void
format_host(GString *buf, const VrtCaps *caps)
{
    vrt_xml_line(buf, 1, "<host>");
    if (caps->host_uuid_set) {
        char uuid[VRT_UUID_STRING_LEN];
        vrt_uuid_format(caps->host_uuid, uuid);
        vrt_xml_line(buf, 2, "<uuid>%s</uuid>", uuid);
    }
    format_host_cpu(buf, caps);
    vrt_xml_line(buf, 2, "<power_management/>");
    vrt_xml_line(buf, 2, "<iommu support='%s'/>", caps->iommu ? "yes" : "no");
    if (caps->migration_live || caps->uri_transports->len) {
        vrt_xml_line(buf, 2, "<migration_features>");
        if (caps->migration_live)
            vrt_xml_line(buf, 3, "<live/>");
        if (caps->uri_transports->len) {
            vrt_xml_line(buf, 3, "<uri_transports>");
            for (guint i = 0; i < caps->uri_transports->len; i++)
                vrt_xml_line(buf, 4, "<uri_transport>%s</uri_transport>", (const char *)caps->uri_transports->pdata[i]);
            vrt_xml_line(buf, 3, "</uri_transports>");
        }
        vrt_xml_line(buf, 2, "</migration_features>");
    }
    if (caps->cells->len || caps->memory_kib) {
        vrt_xml_line(buf, 2, "<topology>");
        if (caps->cells->len) {
            vrt_xml_line(buf, 3, "<cells num='%u'>", caps->cells->len);
            for (guint i = 0; i < caps->cells->len; i++)
                format_cell(buf, caps->cells->pdata[i]);
        } else {
            /* one cell holding all memory: what a non-NUMA host looks like */
            VrtCapsCell whole = { .id = 0, .memory_kib = caps->memory_kib };
            g_autoptr(GPtrArray) none = g_ptr_array_new();
            whole.cpus = none;
            vrt_xml_line(buf, 3, "<cells num='1'>");
            format_cell(buf, &whole);
        }
        vrt_xml_line(buf, 3, "</cells>");
        vrt_xml_line(buf, 2, "</topology>");
    }
    if (caps->secmodel) {
        vrt_xml_line(buf, 2, "<secmodel>");
        vrt_xml_line(buf, 3, "<model>%s</model>", caps->secmodel);
        vrt_xml_line(buf, 3, "<doi>%s</doi>", caps->secmodel_doi ? caps->secmodel_doi : "0");
        vrt_xml_line(buf, 2, "</secmodel>");
    }
    if (caps->dac_baselabel) {
        g_autofree char *esc = vrt_xml_escape(caps->dac_baselabel);

        vrt_xml_line(buf, 2, "<secmodel>");
        vrt_xml_line(buf, 3, "<model>dac</model>");
        vrt_xml_line(buf, 3, "<doi>0</doi>");
        vrt_xml_line(buf, 3, "<baselabel type='kvm'>%s</baselabel>", esc);
        vrt_xml_line(buf, 3, "<baselabel type='qemu'>%s</baselabel>", esc);
        vrt_xml_line(buf, 2, "</secmodel>");
    }
    vrt_xml_line(buf, 1, "</host>");
}

static void
format_guest(GString *buf, const VrtCapsGuest *g)
{
    g_autofree char *emulator = vrt_xml_escape(g->emulator);

    vrt_xml_line(buf, 1, "<guest>");
    vrt_xml_line(buf, 2, "<os_type>%s</os_type>", g->os_type);
    vrt_xml_line(buf, 2, "<arch name='%s'>", g->arch);
    vrt_xml_line(buf, 3, "<wordsize>%u</wordsize>", g->wordsize);
    if (emulator)
        vrt_xml_line(buf, 3, "<emulator>%s</emulator>", emulator);
    for (guint i = 0; i < g->machines->len; i++) {
        const VrtCapsMachine *m = g->machines->pdata[i];
        g_autoptr(GString) attrs = g_string_new(NULL);
        if (m->canonical)
            g_string_append_printf(attrs, " canonical='%s'", m->canonical);
        if (m->max_cpus)
            g_string_append_printf(attrs, " maxCpus='%u'", m->max_cpus);
        if (m->deprecated)
            g_string_append(attrs, " deprecated='yes'");
        vrt_xml_line(buf, 3, "<machine%s>%s</machine>", attrs->str, m->name);
    }
    if (g->domain_qemu)
        vrt_xml_line(buf, 3, "<domain type='qemu'/>");
    if (g->domain_kvm)
        vrt_xml_line(buf, 3, "<domain type='kvm'/>");
    vrt_xml_line(buf, 2, "</arch>");
    vrt_xml_line(buf, 2, "<features>");
    vrt_xml_line(buf, 3, "<acpi default='on' toggle='yes'/>");
    vrt_xml_line(buf, 3, "<apic default='on' toggle='no'/>");
    vrt_xml_line(buf, 3, "<cpuselection/>");
    vrt_xml_line(buf, 3, "<deviceboot/>");
    vrt_xml_line(buf, 3, "<disksnapshot default='on' toggle='no'/>");
    if (g_strcmp0(g->arch, "i686") == 0) {
        vrt_xml_line(buf, 3, "<pae/>");
        vrt_xml_line(buf, 3, "<nonpae/>");
    }
    vrt_xml_line(buf, 2, "</features>");
    vrt_xml_line(buf, 1, "</guest>");
}

char *
vrt_caps_format(const VrtCaps *caps, GError **error)
{
    g_autoptr(GString) buf = g_string_sized_new(2048);

    if (!caps->arch) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "capabilities lack the host architecture");
        return NULL;
    }
    for (guint i = 0; i < caps->guests->len; i++) {
        const VrtCapsGuest *g = caps->guests->pdata[i];
        if (!g->os_type || !g->arch) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "capabilities guest %u lacks os type or arch", i);
            return NULL;
        }
    }
    vrt_xml_line(buf, 0, "<capabilities>");
    g_string_append_c(buf, '\n');
    format_host(buf, caps);
    for (guint i = 0; i < caps->guests->len; i++) {
        g_string_append_c(buf, '\n');
        format_guest(buf, caps->guests->pdata[i]);
    }
    g_string_append_c(buf, '\n');
    vrt_xml_line(buf, 0, "</capabilities>");
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

/* ---- domain capabilities ---- */

static void
domcaps_enum_free(gpointer p)
{
    VrtDomCapsEnum *e = p;
    g_free(e->name);
    g_ptr_array_unref(e->values);
    g_free(e);
}

static void
domcaps_item_free(gpointer p)
{
    VrtDomCapsItem *it = p;
    g_free(it->element);
    g_ptr_array_unref(it->enums);
    g_free(it);
}

static void
domcaps_model_free(gpointer p)
{
    VrtDomCapsCpuModel *m = p;
    g_free(m->name);
    g_free(m->vendor);
    g_free(m);
}

VrtDomCaps *
vrt_domcaps_new(void)
{
    VrtDomCaps *c = g_new0(VrtDomCaps, 1);

    c->firmware = g_ptr_array_new_with_free_func(g_free);
    c->loaders = g_ptr_array_new_with_free_func(g_free);
    c->loader_types = g_ptr_array_new_with_free_func(g_free);
    c->cpu_models = g_ptr_array_new_with_free_func(domcaps_model_free);
    c->memory_backing = g_ptr_array_new_with_free_func(g_free);
    c->devices = g_ptr_array_new_with_free_func(domcaps_item_free);
    c->features = g_ptr_array_new_with_free_func(domcaps_item_free);
    return c;
}

void
vrt_domcaps_free(VrtDomCaps *c)
{
    if (!c)
        return;
    g_free(c->path);
    g_free(c->domain_type);
    g_free(c->machine);
    g_free(c->arch);
    g_ptr_array_unref(c->firmware);
    g_ptr_array_unref(c->loaders);
    g_ptr_array_unref(c->loader_types);
    g_ptr_array_unref(c->cpu_models);
    vrt_cpu_def_free(c->host_model_cpu);
    g_ptr_array_unref(c->memory_backing);
    g_ptr_array_unref(c->devices);
    g_ptr_array_unref(c->features);
    g_free(c);
}

VrtDomCapsItem *
vrt_domcaps_add_item(GPtrArray *list, const char *element, bool supported)
{
    VrtDomCapsItem *it = g_new0(VrtDomCapsItem, 1);

    it->element = g_strdup(element);
    it->supported = supported;
    it->enums = g_ptr_array_new_with_free_func(domcaps_enum_free);
    g_ptr_array_add(list, it);
    return it;
}

void
vrt_domcaps_item_enum(VrtDomCapsItem *item, const char *name, ...)
{
    VrtDomCapsEnum *e = g_new0(VrtDomCapsEnum, 1);
    va_list ap;

    e->name = g_strdup(name);
    e->values = g_ptr_array_new_with_free_func(g_free);
    va_start(ap, name);
    for (const char *v = va_arg(ap, const char *); v; v = va_arg(ap, const char *))
        g_ptr_array_add(e->values, g_strdup(v));
    va_end(ap);
    g_ptr_array_add(item->enums, e);
}

void
vrt_domcaps_add_cpu_model(VrtDomCaps *caps, const char *name, const char *vendor, const char *usable, bool deprecated)
{
    VrtDomCapsCpuModel *m = g_new0(VrtDomCapsCpuModel, 1);

    m->name = g_strdup(name);
    m->vendor = g_strdup(vendor ? vendor : "unknown");
    m->usable = usable;
    m->deprecated = deprecated;
    g_ptr_array_add(caps->cpu_models, m);
}

/* <enum name='NAME'> with a <value> per entry; empty: <enum name='NAME'/>. */
static void
format_enum(GString *buf, guint indent, const char *name, GPtrArray *values)
{
    if (!values || values->len == 0) {
        vrt_xml_line(buf, indent, "<enum name='%s'/>", name);
        return;
    }
    vrt_xml_line(buf, indent, "<enum name='%s'>", name);
    for (guint i = 0; i < values->len; i++) {
        g_autofree char *v = g_markup_escape_text(values->pdata[i], -1);
        vrt_xml_line(buf, indent + 1, "<value>%s</value>", v);
    }
    vrt_xml_line(buf, indent, "</enum>");
}

static void
format_items(GString *buf, const char *wrapper, GPtrArray *items)
{
    if (!items || items->len == 0)
        return;
    vrt_xml_line(buf, 1, "<%s>", wrapper);
    for (guint i = 0; i < items->len; i++) {
        const VrtDomCapsItem *it = items->pdata[i];

        if (it->enums->len == 0) {
            vrt_xml_line(buf, 2, "<%s supported='%s'/>", it->element, it->supported ? "yes" : "no");
            continue;
        }
        vrt_xml_line(buf, 2, "<%s supported='%s'>", it->element, it->supported ? "yes" : "no");
        for (guint j = 0; j < it->enums->len; j++) {
            const VrtDomCapsEnum *e = it->enums->pdata[j];
            format_enum(buf, 3, e->name, e->values);
        }
        vrt_xml_line(buf, 2, "</%s>", it->element);
    }
    vrt_xml_line(buf, 1, "</%s>", wrapper);
}

static void
format_domcaps_cpu(GString *buf, const VrtDomCaps *c)
{
    vrt_xml_line(buf, 1, "<cpu>");
    vrt_xml_line(buf, 2, "<mode name='host-passthrough' supported='%s'/>", c->host_passthrough ? "yes" : "no");
    if (c->maximum) {
        /* libvirt lists the migratable values once QEMU can do both */
        vrt_xml_line(buf, 2, "<mode name='maximum' supported='yes'>");
        vrt_xml_line(buf, 3, "<enum name='maximumMigratable'>");
        vrt_xml_line(buf, 4, "<value>on</value>");
        vrt_xml_line(buf, 4, "<value>off</value>");
        vrt_xml_line(buf, 3, "</enum>");
        vrt_xml_line(buf, 2, "</mode>");
    } else {
        vrt_xml_line(buf, 2, "<mode name='maximum' supported='no'/>");
    }
    if (c->host_model && c->host_model_cpu) {
        vrt_xml_line(buf, 2, "<mode name='host-model' supported='yes'>");
        vrt_cpu_def_format_body(buf, c->host_model_cpu, 3);
        vrt_xml_line(buf, 2, "</mode>");
    } else {
        vrt_xml_line(buf, 2, "<mode name='host-model' supported='%s'/>", c->host_model ? "yes" : "no");
    }
    if (!c->custom || c->cpu_models->len == 0) {
        vrt_xml_line(buf, 2, "<mode name='custom' supported='%s'/>", c->custom ? "yes" : "no");
    } else {
        vrt_xml_line(buf, 2, "<mode name='custom' supported='yes'>");
        for (guint i = 0; i < c->cpu_models->len; i++) {
            const VrtDomCapsCpuModel *m = c->cpu_models->pdata[i];
            g_autofree char *name = g_markup_escape_text(m->name, -1);
            g_autofree char *vendor = g_markup_escape_text(m->vendor, -1);

            vrt_xml_line(buf, 3, "<model usable='%s'%s vendor='%s'>%s</model>", m->usable,
                         m->deprecated ? " deprecated='yes'" : "", vendor, name);
        }
        vrt_xml_line(buf, 2, "</mode>");
    }
    vrt_xml_line(buf, 1, "</cpu>");
}

char *
vrt_domcaps_format(const VrtDomCaps *c, GError **error)
{
    g_autoptr(GString) buf = g_string_new("<domainCapabilities>\n");
    g_autofree char *path = NULL;

    if (!c->path || !c->domain_type || !c->arch) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "domain capabilities need an emulator, a domain type and an arch");
        return NULL;
    }
    path = g_markup_escape_text(c->path, -1);
    vrt_xml_line(buf, 1, "<path>%s</path>", path);
    vrt_xml_line(buf, 1, "<domain>%s</domain>", c->domain_type);
    if (c->machine)
        vrt_xml_line(buf, 1, "<machine>%s</machine>", c->machine);
    vrt_xml_line(buf, 1, "<arch>%s</arch>", c->arch);
    if (c->max_vcpus)
        vrt_xml_line(buf, 1, "<vcpu max='%u'/>", c->max_vcpus);
    vrt_xml_line(buf, 1, "<iothreads supported='%s'/>", c->iothreads ? "yes" : "no");

    vrt_xml_line(buf, 1, "<os supported='yes'>");
    format_enum(buf, 2, "firmware", c->firmware);
    if (c->loaders->len == 0) {
        vrt_xml_line(buf, 2, "<loader supported='no'/>");
    } else {
        vrt_xml_line(buf, 2, "<loader supported='yes'>");
        for (guint i = 0; i < c->loaders->len; i++) {
            g_autofree char *v = g_markup_escape_text(c->loaders->pdata[i], -1);
            vrt_xml_line(buf, 3, "<value>%s</value>", v);
        }
        format_enum(buf, 3, "type", c->loader_types);
        if (c->loader_types->len) {
            /* what a <loader> may say: read-only or not; no Secure Boot
             * (it needs SMM, which no domain gets here) */
            vrt_xml_line(buf, 3, "<enum name='readonly'>");
            vrt_xml_line(buf, 4, "<value>yes</value>");
            vrt_xml_line(buf, 4, "<value>no</value>");
            vrt_xml_line(buf, 3, "</enum>");
            vrt_xml_line(buf, 3, "<enum name='secure'>");
            vrt_xml_line(buf, 4, "<value>no</value>");
            vrt_xml_line(buf, 3, "</enum>");
        }
        vrt_xml_line(buf, 2, "</loader>");
    }
    vrt_xml_line(buf, 1, "</os>");

    format_domcaps_cpu(buf, c);
    if (c->memory_backing->len) {
        vrt_xml_line(buf, 1, "<memoryBacking supported='yes'>");
        format_enum(buf, 2, "sourceType", c->memory_backing);
        vrt_xml_line(buf, 1, "</memoryBacking>");
    } else {
        vrt_xml_line(buf, 1, "<memoryBacking supported='no'/>");
    }
    format_items(buf, "devices", c->devices);
    format_items(buf, "features", c->features);
    g_string_append(buf, "</domainCapabilities>\n");
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

/* ---- host sysinfo ---- */

/* libvirt's sections and entry names, with the kernel's DMI attribute of
 * each: what dmidecode would have told libvirt for types 0 to 3. */
static const struct {
    const char *section, *entry, *attr;
} sysinfo_rows[] = {
    { "bios", "vendor", "bios_vendor" },
    { "bios", "version", "bios_version" },
    { "bios", "date", "bios_date" },
    { "bios", "release", "bios_release" },
    { "system", "manufacturer", "sys_vendor" },
    { "system", "product", "product_name" },
    { "system", "version", "product_version" },
    { "system", "serial", "product_serial" },
    { "system", "uuid", "product_uuid" },
    { "system", "sku", "product_sku" },
    { "system", "family", "product_family" },
    { "baseBoard", "manufacturer", "board_vendor" },
    { "baseBoard", "product", "board_name" },
    { "baseBoard", "version", "board_version" },
    { "baseBoard", "serial", "board_serial" },
    { "baseBoard", "asset", "board_asset_tag" },
    { "chassis", "manufacturer", "chassis_vendor" },
    { "chassis", "version", "chassis_version" },
    { "chassis", "serial", "chassis_serial" },
    { "chassis", "asset", "chassis_asset_tag" },
};

char *
vrt_sysinfo_format(char *(*lookup)(const char *attr, gpointer data), gpointer data)
{
    g_autoptr(GString) buf = g_string_new("<sysinfo type='smbios'>\n");
    g_autoptr(GString) section = g_string_new(NULL);
    bool any = false;

    for (guint i = 0; i < G_N_ELEMENTS(sysinfo_rows); i++) {
        g_autofree char *value = lookup(sysinfo_rows[i].attr, data);

        if (value) {
            g_autofree char *v = g_markup_escape_text(value, -1);
            vrt_xml_line(section, 2, "<entry name='%s'>%s</entry>", sysinfo_rows[i].entry, v);
        }
        if (i + 1 == G_N_ELEMENTS(sysinfo_rows) || !g_str_equal(sysinfo_rows[i + 1].section, sysinfo_rows[i].section)) {
            if (section->len) {
                vrt_xml_line(buf, 1, "<%s>", sysinfo_rows[i].section);
                g_string_append(buf, section->str);
                vrt_xml_line(buf, 1, "</%s>", sysinfo_rows[i].section);
                any = true;
            }
            g_string_truncate(section, 0);
        }
    }
    if (!any)
        return NULL;
    g_string_append(buf, "</sysinfo>\n");
    return g_string_free(g_steal_pointer(&buf), FALSE);
}
