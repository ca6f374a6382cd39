/*
 * CONNECT_GET_CAPABILITIES: the host as /proc and sysfs under the host root
 * describe it (src/host/hostinfo.h) and the guests the installed QEMU can
 * run, as libvirt's capabilities XML. Built once and kept: none of it
 * changes while vrtd runs.
 */
#include "daemon/daemon.h"
#include "conf/domain/capabilities.h"
#include "drivers/qemu/qemu_driver.h"
#include "host/hostinfo.h"
#include "util/error.h"

#include <string.h>
#include <sys/utsname.h>

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
    guint cpus = vrt_host_cpus_online(host);
    caps->sockets = 1;
    caps->dies = 1;
    caps->cores = cpus;
    caps->threads = 1;
    VrtCapsCell *cell = vrt_caps_add_cell(caps, 0, vrt_host_meminfo_kib(host, "MemTotal"));
    for (guint i = 0; i < cpus; i++)
        vrt_caps_cell_add_cpu(cell, i, 0, 0, i, NULL);
    caps->secmodel = g_strdup("none");
    caps->secmodel_doi = g_strdup("0");

    VrtQemuDriver *drv = daemon->qemu;
    if (drv) {
        const VrtQemuCapsInfo *info = vrt_qemu_driver_get_caps(drv, error);
        if (!info)
            return NULL;
        VrtCapsGuest *guest = vrt_caps_add_guest(caps, "hvm", info->arch, 64, info->emulator);
        for (guint i = 0; i < info->machines->len; i++) {
            VrtQemuMachine *m = g_ptr_array_index(info->machines, i);
            vrt_caps_guest_add_machine(guest, m->name, NULL, m->max_cpus);
            if (m->alias)
                vrt_caps_guest_add_machine(guest, m->alias, m->name, m->max_cpus);
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
