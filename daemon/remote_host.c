/*
 * CONNECT_GET_CAPABILITIES: the host as /proc and sysfs under the host root
 * describe it (src/host/hostinfo.h) and the guests the installed QEMU can
 * run, as libvirt's capabilities XML. Built once and kept: none of it
 * changes while vrtd runs. Also CONNECT_GET_DOMAIN_CAPABILITIES, which
 * the QEMU driver answers (qemu_domcaps.c), and CONNECT_GET_CPU_MODEL_NAMES:
 * the x86 CPU map's models (src/conf/cpu), as libvirt lists its map's.
 */
#include "daemon/daemon.h"
#include "daemon/remote_cpu.h"
#include "conf/cpu/cpu_arch.h"
#include "conf/cpu/cpu_x86.h"
#include "conf/domain/capabilities.h"
#include "conf/domain/domain_conf.h"
#include "drivers/qemu/qemu_driver.h"
#include "host/hostinfo.h"
#include "util/error.h"

#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static gint
uint_cmp(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *)a, y = *(const guint *)b;

    return x < y ? -1 : x > y;
}

/* The page sizes the host offers, smallest first, as libvirt lists them
 * in <cpu>: the system page and each huge page pool's size. */
static void
add_page_sizes(VrtCaps *caps, VrtHost *host)
{
    g_autoptr(GPtrArray) pools = vrt_host_list_dir(host, "/sys/kernel/mm/hugepages", NULL);
    long page = sysconf(_SC_PAGESIZE);
    guint kib = page > 0 ? (guint)(page / 1024) : 4;

    g_array_append_val(caps->page_sizes_kib, kib);
    for (guint i = 0; pools && i < pools->len; i++) {
        const char *name = pools->pdata[i];
        char *end = NULL;
        guint64 size;

        if (!g_str_has_prefix(name, "hugepages-"))
            continue;
        size = g_ascii_strtoull(name + strlen("hugepages-"), &end, 10);
        if (size == 0 || size > G_MAXUINT || g_ascii_strcasecmp(end, "kB") != 0)
            continue;
        kib = (guint)size;
        g_array_append_val(caps->page_sizes_kib, kib);
    }
    g_array_sort(caps->page_sizes_kib, uint_cmp);
}

static char *
build_caps(VrtDaemon *daemon, GError **error)
{
    struct utsname u;
    uname(&u);
    g_autoptr(VrtCaps) caps = vrt_caps_new(u.machine);
    VrtHost *host = daemon->host;
    caps->host_uuid_set = vrt_host_uuid(host, caps->host_uuid);
    g_autofree char *vendor = vrt_host_cpuinfo_field(host, "vendor_id");
    if (g_strcmp0(vendor, "GenuineIntel") == 0)
        caps->cpu_vendor = g_strdup("Intel");
    else if (g_strcmp0(vendor, "AuthenticAMD") == 0)
        caps->cpu_vendor = g_strdup("AMD");
    /* The host CPU as libvirt names it from CPUID (remote_cpu.c). */
    const VrtCpuDef *hcpu = vrt_daemon_host_cpu_locked(daemon);
    if (hcpu->model) {
        g_free(caps->cpu_vendor);
        caps->cpu_vendor = g_strdup(hcpu->vendor);
        caps->cpu_model = g_strdup(hcpu->model);
        caps->microcode = hcpu->microcode;
        caps->sig_family = hcpu->sig_family;
        caps->sig_model = hcpu->sig_model;
        caps->sig_stepping = hcpu->sig_stepping;
        caps->maxphysaddr_bits = hcpu->addr_bits > 0 ? hcpu->addr_bits : 0;
        for (guint i = 0; i < hcpu->features->len; i++)
            g_ptr_array_add(caps->cpu_features, g_strdup(g_array_index(hcpu->features, VrtCpuFeature, i).name));
    }
    add_page_sizes(caps, host);
    guint cpus = vrt_host_cpus_online(host);
    caps->sockets = 1;
    caps->dies = 1;
    caps->cores = cpus;
    caps->threads = 1;
    int max_node = vrt_host_numa_max_node(host);
    /* A NUMA host: its nodes as the kernel lists them, each with its
     * memory and CPUs (virsh freecell --all asks each of these cells). */
    for (int n = 0; n <= max_node; n++) {
        g_autofree char *list_path = g_strdup_printf("/sys/devices/system/node/node%d/cpulist", n);
        g_autofree char *list = vrt_host_read(host, list_path, NULL);
        g_autofree guint8 *set = NULL;
        guint64 total = 0, free_kib = 0;
        guint len = 0;

        if (!vrt_host_node_meminfo(host, n, &total, &free_kib, NULL))
            continue;
        VrtCapsCell *cell = vrt_caps_add_cell(caps, (guint)n, total);
        set = list ? vrt_host_parse_cpu_list(list, &len) : NULL;
        for (guint i = 0; set && i < len; i++)
            if (set[i / 8] & (1u << (i % 8)))
                vrt_caps_cell_add_cpu(cell, i, 0, 0, i, NULL);
    }
    /* Without NUMA nodes the host is one cell. */
    if (caps->cells->len == 0) {
        VrtCapsCell *cell = vrt_caps_add_cell(caps, 0, vrt_host_meminfo_kib(host, "MemTotal"));
        for (guint i = 0; i < cpus; i++)
            vrt_caps_cell_add_cpu(cell, i, 0, 0, i, NULL);
    }
    /* vrt_caps_new set the security model: none, DOI 0. */

    VrtQemuDriver *drv = daemon->qemu;
    if (drv) {
        /* and the DAC model QEMU's user labels (libvirt's second) */
        caps->dac_baselabel = vrt_qemu_driver_dac_baselabel(drv);
        /* the first model is AppArmor where it confines QEMU, as libvirtd's */
        if (vrt_qemu_driver_apparmor_active(drv)) {
            g_free(caps->secmodel);
            caps->secmodel = g_strdup("apparmor");
        }
        const VrtQemuCapsInfo *info = vrt_qemu_driver_get_caps(drv, error);
        if (!info)
            return NULL;
        VrtCapsGuest *guest = vrt_caps_add_guest(caps, "hvm", info->arch, 64, info->emulator);
        /* Only the machines vrt starts (a client picks from this list:
         * virt-install took microvm, QEMU's first, and saw it refused),
         * the default first as libvirt orders them, then QEMU's order. */
        for (int pass = 0; pass < 2; pass++) {
            for (guint i = 0; i < info->machines->len; i++) {
                VrtQemuMachine *m = g_ptr_array_index(info->machines, i);
                if (m->is_default != (pass == 0) || !vrt_domain_machine_supported(m->name))
                    continue;
                vrt_caps_guest_add_machine(guest, m->name, NULL, m->max_cpus);
                ((VrtCapsMachine *)g_ptr_array_index(guest->machines, guest->machines->len - 1))->deprecated =
                    m->deprecated;
                if (m->alias)
                    vrt_caps_guest_add_machine(guest, m->alias, m->name, m->max_cpus);
            }
        }
        guest->domain_qemu = true;
        guest->domain_kvm = info->kvm_usable;
    }
    return vrt_caps_format(caps, error);
}

bool
vrt_handle_connect_get_capabilities(VrtCall *call, remote_connect_get_capabilities_ret *ret, GError **error)
{
    VrtDaemon *daemon = vrt_call_daemon(call);
    char *xml;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&daemon->probe_lock);

        if (!daemon->capabilities)
            daemon->capabilities = build_caps(daemon, error);
        xml = g_strdup(daemon->capabilities);
    }
    if (!xml)
        return false;
    ret->capabilities = xml;
    return true;
}

bool
vrt_handle_connect_get_domain_capabilities(VrtCall *call, remote_connect_get_domain_capabilities_args *args,
                                           remote_connect_get_domain_capabilities_ret *ret, GError **error)
{
    VrtDaemon *daemon = vrt_call_daemon(call);
    g_autoptr(VrtDomCaps) caps = NULL;
    char *xml;

    if (!daemon->qemu) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "this function is not supported by the connection driver: %s",
                      "virConnectGetDomainCapabilities");
        return false;
    }
    caps = vrt_qemu_driver_domain_capabilities(daemon->qemu, args->emulatorbin ? *args->emulatorbin : NULL,
                                               args->arch ? *args->arch : NULL, args->machine ? *args->machine : NULL,
                                               args->virttype ? *args->virttype : NULL, error);
    if (!caps || !(xml = vrt_domcaps_format(caps, error)))
        return false;
    ret->capabilities = xml;
    return true;
}

bool
vrt_handle_connect_get_cpu_model_names(VrtCall *call, remote_connect_get_cpu_model_names_args *args,
                                       remote_connect_get_cpu_model_names_ret *ret, GError **error)
{
    VrtDaemon *daemon = vrt_call_daemon(call);
    g_autoptr(GPtrArray) names = NULL;

    if (!daemon->qemu) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "this function is not supported by the connection driver: %s",
                      "virConnectGetCPUModelNames");
        return false;
    }
    if (g_str_equal(args->arch, "x86_64") || g_str_equal(args->arch, "i686")) {
        /* libvirt's answer is its CPU map's models, in the map's order,
         * whatever QEMU offers (the domain capabilities say that) */
        g_auto(GStrv) map = vrt_cpux_model_names();

        names = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; map[i]; i++)
            g_ptr_array_add(names, g_strdup(map[i]));
    } else if (!(names = vrt_cpu_arch_model_names(args->arch, error))) {
        return false;
    }
    if (names->len > REMOTE_CONNECT_CPU_MODELS_MAX) {
        vrt_error_set(error, VIR_ERR_RPC, "Too many CPU models '%u' for limit '%d'", names->len,
                      REMOTE_CONNECT_CPU_MODELS_MAX);
        return false;
    }
    if (args->need_results) {
        ret->models.models_len = names->len;
        ret->models.models_val = g_new0(char *, names->len);
        for (guint i = 0; i < names->len; i++)
            ret->models.models_val[i] = g_strdup(g_ptr_array_index(names, i));
    }
    ret->ret = (int)names->len;
    return true;
}
