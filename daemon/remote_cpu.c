/*
 * CONNECT_COMPARE_CPU and CONNECT_BASELINE_CPU, and the host CPU they and
 * the capabilities use: the host's CPUID leaves (src/host/cpuleaves.h) named
 * by the x86 CPU driver (src/conf/cpu/cpu_x86.h) with the topology
 * the capabilities give, the microcode version and the physical address
 * size from /proc/cpuinfo, as libvirt's QEMU driver probes its host CPU.
 */
#include "daemon/remote_cpu.h"
#include "conf/cpu/cpu_arch.h"
#include "conf/cpu/cpu_x86.h"
#include "drivers/qemu/qemu_driver.h"
#include "host/cpuleaves.h"
#include "host/hostinfo.h"
#include "util/error.h"
#include "util/xml.h"

#include <string.h>

#define COMPARE_FAIL_INCOMPATIBLE (1u << 0)
#define COMPARE_VALIDATE_XML (1u << 1)
#define BASELINE_EXPAND_FEATURES (1u << 0)
#define BASELINE_MIGRATABLE (1u << 1)

static VrtCpuDef *
probe_host_cpu(VrtDaemon *daemon)
{
    VrtHost *host = daemon->host;
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) leaves = vrt_host_cpuid_all(host, &err);
    g_autoptr(VrtCpuxData) data = vrt_cpux_data_new();
    VrtCpuDef *cpu = NULL;
    g_autofree char *microcode = NULL;
    g_autofree char *addr = NULL;

    for (guint i = 0; leaves && i < leaves->len; i++) {
        const VrtHostCpuid *l = &g_array_index(leaves, VrtHostCpuid, i);
        VrtCpuxItem it = { VRT_CPUX_CPUID, l->leaf, l->sub, l->eax, l->ebx, l->ecx, l->edx };
        vrt_cpux_data_add(data, &it);
    }
    if (leaves)
        cpu = vrt_cpux_decode_host(data, &err);
    if (!cpu) {
        g_debug("host CPU model unknown: %s", err ? err->message : "no CPUID");
        cpu = vrt_cpu_def_new(VRT_CPU_TYPE_HOST);
        return cpu;
    }
    /* the node's topology as the capabilities report it */
    cpu->sockets = 1;
    cpu->dies = 1;
    cpu->cores = vrt_host_cpus_online(host);
    cpu->threads = 1;
    microcode = vrt_host_cpuinfo_field(host, "microcode");
    if (microcode)
        cpu->microcode = (guint)g_ascii_strtoull(microcode, NULL, 16);
    addr = vrt_host_cpuinfo_field(host, "address sizes");
    if (addr) {
        guint64 bits = g_ascii_strtoull(addr, NULL, 10);
        if (bits > 0 && bits <= 64 && strstr(addr, "bits physical")) {
            cpu->addr_mode = 0;
            cpu->addr_bits = (int)bits;
        }
    }
    return cpu;
}

const VrtCpuDef *
vrt_daemon_host_cpu_locked(VrtDaemon *daemon)
{
    if (!daemon->host_cpu)
        daemon->host_cpu = probe_host_cpu(daemon);
    return daemon->host_cpu;
}

void
vrt_daemon_host_cpu_free(VrtDaemon *daemon)
{
    g_clear_pointer((VrtCpuDef **)&daemon->host_cpu, vrt_cpu_def_free);
}

static VrtCpuDef *
host_cpu_copy(VrtDaemon *daemon)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&daemon->probe_lock);

    return vrt_cpu_def_copy(vrt_daemon_host_cpu_locked(daemon));
}

/* VIR_CONNECT_COMPARE_CPU_VALIDATE_XML: a <cpu> document is checked
 * against libvirt's cpu.rng first, as libvirt checks it; another root is
 * left to the parser, which refuses it as libvirt does. */
static bool
validate_cpu_xml(const char *xml, GError **error)
{
    xmlDocPtr doc = vrt_xml_read(xml, "(CPU_definition)", NULL, NULL, error);
    xmlNodePtr root;
    bool ok;

    if (!doc)
        return false;
    root = xmlDocGetRootElement(doc);
    ok = !(root && vrt_xml_is(root, "cpu")) || vrt_xml_validate(doc, "cpu.rng", error);
    xmlFreeDoc(doc);
    return ok;
}

bool
vrt_handle_connect_compare_cpu(VrtCall *call, remote_connect_compare_cpu_args *args,
                               remote_connect_compare_cpu_ret *ret, GError **error)
{
    VrtDaemon *daemon = vrt_call_daemon(call);
    g_autoptr(VrtCpuDef) host = host_cpu_copy(daemon);
    g_autoptr(VrtCpuDef) cpu = NULL;
    int r;

    if ((args->flags & COMPARE_VALIDATE_XML) && !validate_cpu_xml(args->xml, error))
        return false;
    if (!(cpu = vrt_cpu_def_parse(args->xml, VRT_CPU_TYPE_AUTO, error)))
        return false;
    r = vrt_cpux_compare(host, cpu, args->flags & COMPARE_FAIL_INCOMPATIBLE, error);
    if (r < 0)
        return false;
    ret->result = r;
    return true;
}

/* The features a baseline for QEMU leaves out, as libvirt's QEMU driver
 * does: monitoring features QEMU cannot give a guest and the OS-enabled
 * bits the guest sets itself. */
static bool
qemu_keeps_feature(const char *name)
{
    static const char *const dropped[] = { "cmt", "mbm_total", "mbm_local", "osxsave", "ospke", NULL };

    return !g_strv_contains(dropped, name);
}

bool
vrt_handle_connect_baseline_cpu(VrtCall *call, remote_connect_baseline_cpu_args *args,
                                remote_connect_baseline_cpu_ret *ret, GError **error)
{
    g_autoptr(GPtrArray) cpus = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_cpu_def_free);
    g_autoptr(VrtCpuDef) baseline = NULL;
    (void)call;

    if (args->xmlCPUs.xmlCPUs_len == 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "no CPUs given");
        return false;
    }
    for (guint i = 0; i < args->xmlCPUs.xmlCPUs_len; i++) {
        VrtCpuDef *c = vrt_cpu_def_parse(args->xmlCPUs.xmlCPUs_val[i], VRT_CPU_TYPE_HOST, error);
        if (!c)
            return false;
        g_ptr_array_add(cpus, c);
    }
    if (vrt_cpu_arch_family(((VrtCpuDef *)g_ptr_array_index(cpus, 0))->arch) != VRT_CPU_ARCH_X86) {
        /* the other drivers neither drop nor expand features */
        if (!(baseline = vrt_cpu_arch_baseline((VrtCpuDef **)cpus->pdata, cpus->len, error)))
            return false;
        ret->cpu = vrt_cpu_def_format(baseline);
        return true;
    }
    baseline = vrt_cpux_baseline((VrtCpuDef **)cpus->pdata, cpus->len, args->flags & BASELINE_MIGRATABLE, error);
    if (!baseline)
        return false;
    for (guint i = 0; i < baseline->features->len;) {
        if (qemu_keeps_feature(g_array_index(baseline->features, VrtCpuFeature, i).name))
            i++;
        else
            g_array_remove_index(baseline->features, i);
    }
    if ((args->flags & BASELINE_EXPAND_FEATURES) && !vrt_cpux_expand_features(baseline, error))
        return false;
    ret->cpu = vrt_cpu_def_format(baseline);
    return true;
}

/* CONNECT_COMPARE_HYPERVISOR_CPU and CONNECT_BASELINE_HYPERVISOR_CPU:
 * against what QEMU offers a guest (the QEMU driver's hypervisor CPU),
 * not the host's CPUID. */
bool
vrt_handle_connect_compare_hypervisor_cpu(VrtCall *call, remote_connect_compare_hypervisor_cpu_args *args,
                                          remote_connect_compare_hypervisor_cpu_ret *ret, GError **error)
{
    VrtDaemon *daemon = vrt_call_daemon(call);
    int r;

    if (!daemon->qemu) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "this function is not supported by the connection driver: %s",
                      "virConnectCompareHypervisorCPU");
        return false;
    }
    if ((args->flags & COMPARE_VALIDATE_XML) && !validate_cpu_xml(args->xmlCPU, error))
        return false;
    r = vrt_qemu_driver_compare_hypervisor_cpu(daemon->qemu, args->emulator ? *args->emulator : NULL,
                                               args->arch ? *args->arch : NULL, args->machine ? *args->machine : NULL,
                                               args->virttype ? *args->virttype : NULL, args->xmlCPU,
                                               args->flags & COMPARE_FAIL_INCOMPATIBLE, error);

    if (r < 0)
        return false;
    ret->result = r;
    return true;
}

bool
vrt_handle_connect_baseline_hypervisor_cpu(VrtCall *call, remote_connect_baseline_hypervisor_cpu_args *args,
                                           remote_connect_baseline_hypervisor_cpu_ret *ret, GError **error)
{
    VrtDaemon *daemon = vrt_call_daemon(call);
    g_autoptr(GPtrArray) cpus = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_cpu_def_free);
    g_autoptr(VrtCpuDef) baseline = NULL;

    if (!daemon->qemu) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "this function is not supported by the connection driver: %s",
                      "virConnectBaselineHypervisorCPU");
        return false;
    }
    /* the CPUs are read before the hypervisor is looked up, as libvirt */
    for (guint i = 0; i < args->xmlCPUs.xmlCPUs_len; i++) {
        VrtCpuDef *c = vrt_cpu_def_parse(args->xmlCPUs.xmlCPUs_val[i], VRT_CPU_TYPE_AUTO, error);
        if (!c)
            return false;
        g_ptr_array_add(cpus, c);
    }
    if (cpus->len == 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "nothing to baseline");
        return false;
    }
    baseline = vrt_qemu_driver_baseline_hypervisor_cpu(
        daemon->qemu, args->emulator ? *args->emulator : NULL, args->arch ? *args->arch : NULL,
        args->machine ? *args->machine : NULL, args->virttype ? *args->virttype : NULL, (VrtCpuDef **)cpus->pdata,
        cpus->len, args->flags & BASELINE_EXPAND_FEATURES, args->flags & BASELINE_MIGRATABLE, error);
    if (!baseline)
        return false;
    ret->cpu = vrt_cpu_def_format(baseline);
    return true;
}
