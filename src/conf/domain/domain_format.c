/*
 * Formatting of a whole <domain> document in libvirt's layout: identity,
 * resources, os, features, cpu, clock, lifecycle, pm, then <devices> in
 * libvirt's device order. A hostdev that stands in for an interface is
 * written once, as that <interface>.
 */
#include "conf/domain/domain_priv.h"
#include "conf/domain/domain_tune.h"
#include "util/error.h"

static void
format_os(VrtFmt *f, const VrtDomainDef *def)
{
    g_autoptr(GString) attrs = g_string_new(NULL);
    g_autofree char *kernel = vrt_xml_escape(def->os.kernel);
    g_autofree char *initrd = vrt_xml_escape(def->os.initrd);
    g_autofree char *cmdline = vrt_xml_escape(def->os.cmdline);

    if (def->os.arch)
        g_string_append_printf(attrs, " arch='%s'", def->os.arch);
    if (def->os.machine)
        g_string_append_printf(attrs, " machine='%s'", def->os.machine);
    {
        g_autoptr(GString) os_attrs = g_string_new(NULL);

        vrt_format_os_firmware_attr(os_attrs, &def->os.fw);
        vrt_fmt_line(f, "<os%s>", os_attrs->str);
    }
    f->indent++;
    vrt_fmt_line(f, "<type%s>%s</type>", attrs->str, def->os.type);
    vrt_format_os_loader(f, &def->os.fw);
    if (kernel)
        vrt_fmt_line(f, "<kernel>%s</kernel>", kernel);
    if (initrd)
        vrt_fmt_line(f, "<initrd>%s</initrd>", initrd);
    if (cmdline)
        vrt_fmt_line(f, "<cmdline>%s</cmdline>", cmdline);
    for (guint i = 0; i < def->os.n_boot; i++)
        vrt_fmt_line(f, "<boot dev='%s'/>", vrt_boot_dev_names[def->os.boot[i]]);
    if (def->os.bootmenu != VRT_TRISTATE_DEFAULT && def->os.bootmenu_timeout >= 0)
        vrt_fmt_line(f, "<bootmenu enable='%s' timeout='%d'/>", def->os.bootmenu == VRT_TRISTATE_YES ? "yes" : "no",
                     def->os.bootmenu_timeout);
    else if (def->os.bootmenu != VRT_TRISTATE_DEFAULT)
        vrt_fmt_line(f, "<bootmenu enable='%s'/>", def->os.bootmenu == VRT_TRISTATE_YES ? "yes" : "no");
    if (def->os.bios_useserial || def->os.bios_reboot_set) {
        g_autoptr(GString) a = g_string_new(NULL);

        if (def->os.bios_useserial)
            g_string_append_printf(a, " useserial='%s'", def->os.bios_useserial == VRT_TRISTATE_YES ? "yes" : "no");
        if (def->os.bios_reboot_set)
            g_string_append_printf(a, " rebootTimeout='%d'", def->os.bios_reboot_timeout);
        vrt_fmt_line(f, "<bios%s/>", a->str);
    }
    if (def->smbios_mode)
        vrt_fmt_line(f, "<smbios mode='%s'/>", def->smbios_mode);
    f->indent--;
    vrt_fmt_line(f, "</os>");
}

static void
format_features(VrtFmt *f, const VrtDomainDef *def)
{
    if (!def->features && def->vmport == VRT_TRISTATE_DEFAULT && !vrt_domain_features_any(def->feat))
        return;
    vrt_fmt_line(f, "<features>");
    f->indent++;
    if (def->features & VRT_DOMAIN_FEATURE_ACPI)
        vrt_fmt_line(f, "<acpi/>");
    if (def->features & VRT_DOMAIN_FEATURE_APIC)
        vrt_format_apic(f, def);
    if (def->features & VRT_DOMAIN_FEATURE_PAE)
        vrt_fmt_line(f, "<pae/>");
    vrt_format_features_mid(f, def->feat);
    if (def->vmport != VRT_TRISTATE_DEFAULT)
        vrt_fmt_line(f, "<vmport state='%s'/>", def->vmport == VRT_TRISTATE_YES ? "on" : "off");
    vrt_format_features_tail(f, def->feat);
    f->indent--;
    vrt_fmt_line(f, "</features>");
}

static void
format_cpu(VrtFmt *f, const VrtDomainDef *def)
{
    g_autoptr(GString) attrs = g_string_new(NULL);

    if (def->cpu.mode == VRT_DOMAIN_CPU_MODE_NONE)
        return;
    g_string_append_printf(attrs, " mode='%s'", vrt_cpu_mode_names[def->cpu.mode]);
    if (def->cpu.match)
        g_string_append_printf(attrs, " match='%s'", def->cpu.match);
    if (def->cpu.check)
        g_string_append_printf(attrs, " check='%s'", def->cpu.check);
    if (def->cpu.migratable != VRT_TRISTATE_DEFAULT)
        g_string_append_printf(attrs, " migratable='%s'", def->cpu.migratable == VRT_TRISTATE_YES ? "on" : "off");
    if (!def->cpu.sockets && !def->cpu.model && def->cpu.features->len == 0 && !(def->mem && def->mem->cells->len) &&
        !def->cpu.vendor_id && !def->cpu.cache_mode && !def->cpu.maxphys_mode) {
        vrt_fmt_line(f, "<cpu%s/>", attrs->str);
        return;
    }
    vrt_fmt_line(f, "<cpu%s>", attrs->str);
    f->indent++;
    if (def->cpu.model || def->cpu.vendor_id) {
        g_autoptr(GString) m = g_string_new(NULL);

        if (def->cpu.model && def->cpu.fallback)
            g_string_append_printf(m, " fallback='%s'", def->cpu.fallback);
        vrt_xml_format_attr(m, "vendor_id", def->cpu.vendor_id);
        if (def->cpu.model)
            vrt_fmt_line(f, "<model%s>%s</model>", m->str, def->cpu.model);
        else
            vrt_fmt_line(f, "<model%s/>", m->str);
    }
    if (def->cpu.sockets)
        vrt_fmt_line(f, "<topology sockets='%u' dies='%u' cores='%u' threads='%u'/>", def->cpu.sockets, def->cpu.dies,
                     def->cpu.cores, def->cpu.threads);
    if (def->cpu.cache_mode && def->cpu.cache_level != -1)
        vrt_fmt_line(f, "<cache level='%d' mode='%s'/>", def->cpu.cache_level, def->cpu.cache_mode);
    else if (def->cpu.cache_mode)
        vrt_fmt_line(f, "<cache mode='%s'/>", def->cpu.cache_mode);
    if (def->cpu.maxphys_mode && def->cpu.maxphys_bits != -1)
        vrt_fmt_line(f, "<maxphysaddr mode='%s' bits='%d'/>", def->cpu.maxphys_mode, def->cpu.maxphys_bits);
    else if (def->cpu.maxphys_mode)
        vrt_fmt_line(f, "<maxphysaddr mode='%s'/>", def->cpu.maxphys_mode);
    for (guint i = 0; i < def->cpu.features->len; i++) {
        const VrtDomainCpuFeature *feat = def->cpu.features->pdata[i];
        vrt_fmt_line(f, "<feature policy='%s' name='%s'/>", feat->policy, feat->name);
    }
    vrt_format_numa(f, def->mem);
    f->indent--;
    vrt_fmt_line(f, "</cpu>");
}

static void
format_clock(VrtFmt *f, const VrtDomainDef *def)
{
    g_autoptr(GString) off = g_string_new(NULL);

    g_string_append_printf(off, "offset='%s'", vrt_clock_offset_names[def->clock.offset]);
    switch (def->clock.offset) {
    case VRT_DOMAIN_CLOCK_UTC:
    case VRT_DOMAIN_CLOCK_LOCALTIME:
        if (def->clock.utc_reset)
            g_string_append(off, " adjustment='reset'");
        break;
    case VRT_DOMAIN_CLOCK_VARIABLE:
        g_string_append_printf(off, " adjustment='%" G_GINT64_FORMAT "' basis='%s'", def->clock.adjustment,
                               def->clock.basis_localtime ? "localtime" : "utc");
        break;
    case VRT_DOMAIN_CLOCK_TIMEZONE: vrt_xml_format_attr(off, "timezone", def->clock.timezone); break;
    case VRT_DOMAIN_CLOCK_ABSOLUTE:
        g_string_append_printf(off, " start='%" G_GUINT64_FORMAT "'", def->clock.start);
        break;
    }
    if (def->clock.timers->len == 0) {
        vrt_fmt_line(f, "<clock %s/>", off->str);
        return;
    }
    vrt_fmt_line(f, "<clock %s>", off->str);
    f->indent++;
    for (guint i = 0; i < def->clock.timers->len; i++) {
        const VrtDomainTimerDef *t = def->clock.timers->pdata[i];
        g_autoptr(GString) attrs = g_string_new(NULL);
        g_string_append_printf(attrs, "name='%s'", t->name);
        if (t->tickpolicy)
            g_string_append_printf(attrs, " tickpolicy='%s'", t->tickpolicy);
        if (t->present != VRT_TRISTATE_DEFAULT)
            g_string_append_printf(attrs, " present='%s'", t->present == VRT_TRISTATE_YES ? "yes" : "no");
        if (t->track)
            g_string_append_printf(attrs, " track='%s'", t->track);
        /* libvirt writes a frequency for the tsc timer alone */
        if (t->frequency && g_str_equal(t->name, "tsc"))
            g_string_append_printf(attrs, " frequency='%" G_GUINT64_FORMAT "'", t->frequency);
        vrt_fmt_line(f, "<timer %s/>", attrs->str);
    }
    f->indent--;
    vrt_fmt_line(f, "</clock>");
}

static void
format_pm(VrtFmt *f, const VrtDomainDef *def)
{
    if (def->pm.suspend_to_mem == VRT_TRISTATE_DEFAULT && def->pm.suspend_to_disk == VRT_TRISTATE_DEFAULT)
        return;
    vrt_fmt_line(f, "<pm>");
    f->indent++;
    if (def->pm.suspend_to_mem != VRT_TRISTATE_DEFAULT)
        vrt_fmt_line(f, "<suspend-to-mem enabled='%s'/>", def->pm.suspend_to_mem == VRT_TRISTATE_YES ? "yes" : "no");
    if (def->pm.suspend_to_disk != VRT_TRISTATE_DEFAULT)
        vrt_fmt_line(f, "<suspend-to-disk enabled='%s'/>", def->pm.suspend_to_disk == VRT_TRISTATE_YES ? "yes" : "no");
    f->indent--;
    vrt_fmt_line(f, "</pm>");
}

/* A serial console is the first serial port seen from another side:
 * it shows that port's source and alias, as libvirt does. */
static void
format_console(VrtFmt *f, const VrtDomainDef *def, const VrtDomainChrDef *con, guint idx)
{
    VrtDomainChrDef view = *con;

    if (idx == 0 && g_strcmp0(con->target_type, "serial") == 0) {
        for (guint i = 0; i < def->serials->len; i++) {
            const VrtDomainChrDef *ser = def->serials->pdata[i];
            if (ser->target_port == (con->target_port < 0 ? 0 : con->target_port)) {
                view.type = ser->type;
                view.path = ser->path;
                view.listen = ser->listen;
                view.append = ser->append;
                view.host = ser->host;
                view.service = ser->service;
                view.bind_host = ser->bind_host;
                view.bind_service = ser->bind_service;
                view.telnet = ser->telnet;
                view.tls = ser->tls;
                view.info.alias = ser->info.alias;
                break;
            }
        }
    }
    vrt_format_chr(f, &view);
}

static void
format_devices(VrtFmt *f, const VrtDomainDef *def)
{
    g_autofree char *emulator = vrt_xml_escape(def->emulator);

    vrt_fmt_line(f, "<devices>");
    f->indent++;
    if (emulator)
        vrt_fmt_line(f, "<emulator>%s</emulator>", emulator);
    for (guint i = 0; i < def->disks->len; i++)
        vrt_format_disk(f, def->disks->pdata[i]);
    for (guint i = 0; i < def->controllers->len; i++)
        vrt_format_controller(f, def->controllers->pdata[i]);
    vrt_format_filesystems(f, def);
    for (guint i = 0; i < def->nets->len; i++)
        vrt_format_net(f, def->nets->pdata[i]);
    vrt_format_smartcards(f, def);
    for (guint i = 0; i < def->serials->len; i++)
        vrt_format_chr(f, def->serials->pdata[i]);
    for (guint i = 0; i < def->parallels->len; i++)
        vrt_format_chr(f, def->parallels->pdata[i]);
    for (guint i = 0; i < def->consoles->len; i++)
        format_console(f, def, def->consoles->pdata[i], i);
    for (guint i = 0; i < def->channels->len; i++)
        vrt_format_chr(f, def->channels->pdata[i]);
    for (guint i = 0; i < def->inputs->len; i++)
        vrt_format_input(f, def->inputs->pdata[i]);
    for (guint i = 0; i < def->graphics->len; i++)
        vrt_format_graphics(f, def->graphics->pdata[i]);
    vrt_format_sounds(f, def);
    for (guint i = 0; i < def->audios->len; i++)
        vrt_format_audio(f, def->audios->pdata[i]);
    for (guint i = 0; i < def->videos->len; i++)
        vrt_format_video(f, def->videos->pdata[i]);
    for (guint i = 0; i < def->hostdevs->len; i++) {
        const VrtDomainHostdevDef *h = def->hostdevs->pdata[i];
        if (!h->parent_net)
            vrt_format_hostdev(f, h);
    }
    vrt_format_usb_hostdevs(f, def);
    vrt_format_subsys_hostdevs(f, def);
    vrt_format_redirdevs(f, def);
    vrt_format_hubs(f, def);
    if (def->watchdog)
        vrt_format_watchdog(f, def->watchdog);
    if (def->memballoon)
        vrt_format_memballoon(f, def->memballoon);
    for (guint i = 0; i < def->rngs->len; i++)
        vrt_format_rng(f, def->rngs->pdata[i]);
    vrt_format_tpms(f, def);
    vrt_format_panics(f, def);
    vrt_format_shmems(f, def);
    vrt_format_memory_devices(f, def);
    vrt_format_iommu(f, def->iommu);
    vrt_format_vsock(f, def);
    f->indent--;
    vrt_fmt_line(f, "</devices>");
}

char *
vrt_domain_def_format(const VrtDomainDef *def, guint flags, GError **error)
{
    g_autoptr(GString) buf = g_string_sized_new(4096);
    VrtFmt f = { .buf = buf, .indent = 0, .flags = flags };
    char uuid[VRT_UUID_STRING_LEN];
    g_autofree char *name = vrt_xml_escape(def->name);
    g_autofree char *title = vrt_xml_escape(def->title);
    g_autofree char *desc = vrt_xml_escape(def->description);

    if (!def->name || !def->os.type) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "domain definition is incomplete");
        return NULL;
    }
    const char *ns = vrt_domain_has_qemu_ns(def) ? " xmlns:qemu='" VRT_DOMAIN_QEMU_NS "'" : "";
    if (def->id >= 0 && !(flags & VRT_DOMAIN_XML_INACTIVE))
        vrt_fmt_line(&f, "<domain type='%s' id='%d'%s>", vrt_virt_type_names[def->virt_type], def->id, ns);
    else
        vrt_fmt_line(&f, "<domain type='%s'%s>", vrt_virt_type_names[def->virt_type], ns);
    f.indent++;
    vrt_fmt_line(&f, "<name>%s</name>", name);
    vrt_uuid_format(def->uuid, uuid);
    vrt_fmt_line(&f, "<uuid>%s</uuid>", uuid);
    if (def->has_genid) {
        char genid[VRT_UUID_STRING_LEN];

        vrt_uuid_format(def->genid, genid);
        vrt_fmt_line(&f, "<genid>%s</genid>", genid);
    }
    if (title)
        vrt_fmt_line(&f, "<title>%s</title>", title);
    if (desc)
        vrt_fmt_line(&f, "<description>%s</description>", desc);
    if (def->metadata)
        vrt_fmt_line(&f, "%s", def->metadata);
    vrt_format_max_memory(&f, def);
    if (def->dump_core != VRT_TRISTATE_DEFAULT)
        vrt_fmt_line(&f, "<memory dumpCore='%s' unit='KiB'>%" G_GUINT64_FORMAT "</memory>",
                     def->dump_core == VRT_TRISTATE_YES ? "on" : "off", def->memory_kib);
    else
        vrt_fmt_line(&f, "<memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>", def->memory_kib);
    vrt_fmt_line(&f, "<currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>", def->current_memory_kib);
    vrt_domain_tune_format_mem(buf, f.indent, def->tune);
    vrt_format_memory_backing(&f, def->mem);
    g_autofree char *vcpu_cpuset = def->vcpu_cpuset ? g_strdup_printf(" cpuset='%s'", def->vcpu_cpuset) : g_strdup("");
    const char *placement = def->tune && def->tune->vcpu_placement_auto ? "auto" : "static";
    if (def->current_vcpus && def->current_vcpus != def->vcpus)
        vrt_fmt_line(&f, "<vcpu placement='%s'%s current='%u'>%u</vcpu>", placement, vcpu_cpuset, def->current_vcpus,
                     def->vcpus);
    else
        vrt_fmt_line(&f, "<vcpu placement='%s'%s>%u</vcpu>", placement, vcpu_cpuset, def->vcpus);
    vrt_format_iothreads(&f, def);
    vrt_domain_tune_format_cpu(buf, f.indent, def->tune);
    vrt_format_sysinfos(&f, def);
    format_os(&f, def);
    vrt_format_idmap(&f, def);
    format_features(&f, def);
    format_cpu(&f, def);
    format_clock(&f, def);
    vrt_fmt_line(&f, "<on_poweroff>%s</on_poweroff>", vrt_lifecycle_names[def->on_poweroff]);
    vrt_fmt_line(&f, "<on_reboot>%s</on_reboot>", vrt_lifecycle_names[def->on_reboot]);
    vrt_fmt_line(&f, "<on_crash>%s</on_crash>", vrt_lifecycle_names[def->on_crash]);
    format_pm(&f, def);
    format_devices(&f, def);
    vrt_format_seclabels(&f, def);
    vrt_format_launch_security(&f, def);
    vrt_format_qemu_commandline(&f, def);
    f.indent--;
    vrt_fmt_line(&f, "</domain>");
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

char *
vrt_domain_device_def_format(const VrtDomainDeviceDef *dev, guint flags, GError **error)
{
    g_autoptr(GString) buf = g_string_new(NULL);
    VrtFmt f = { .buf = buf, .indent = 0, .flags = flags };

    if (!vrt_format_device(&f, dev, error))
        return NULL;
    return g_string_free(g_steal_pointer(&buf), FALSE);
}
