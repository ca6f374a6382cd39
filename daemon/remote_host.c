/*
 * CONNECT_GET_CAPABILITIES: the host as /proc and sysfs describe it and the
 * guests the installed QEMU can run, as libvirt's capabilities XML. Built once
 * and kept: none of it changes while vrtd runs.
 */
#include "daemon/daemon.h"
#include "conf/domain/capabilities.h"
#include "drivers/qemu/qemu_driver.h"
#include "util/error.h"

#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static char *
cpuinfo_field(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, klen) == 0 && (line[klen] == '\t' || line[klen] == ' ' || line[klen] == ':')) {
            const char *v = strchr(line, ':');
            if (!v)
                return NULL;
            const char *end = strchr(v, '\n');
            return g_strstrip(g_strndup(v + 1, end ? (gsize)(end - v - 1) : strlen(v + 1)));
        }
    }
    return NULL;
}

static void
host_uuid(VrtCaps *caps)
{
    g_autofree char *text = NULL;
    /* The machine's SMBIOS UUID when readable, else systemd's machine id. */
    if (g_file_get_contents("/sys/class/dmi/id/product_uuid", &text, NULL, NULL) ||
        g_file_get_contents("/etc/machine-id", &text, NULL, NULL)) {
        g_autofree char *hex = g_strdelimit(g_strstrip(text), "-", ' ');
        GString *clean = g_string_new(NULL);
        for (char *p = hex; *p; p++)
            if (g_ascii_isxdigit(*p))
                g_string_append_c(clean, *p);
        if (clean->len == 32) {
            for (int i = 0; i < 16; i++)
                caps->host_uuid[i] = (guint8)((g_ascii_xdigit_value(clean->str[2 * i]) << 4) |
                                              g_ascii_xdigit_value(clean->str[2 * i + 1]));
            caps->host_uuid_set = true;
        }
        g_string_free(clean, TRUE);
        text = NULL;
    }
}

static char *
build_caps(VrtDaemon *daemon, GError **error)
{
    struct utsname u;
    uname(&u);
    g_autoptr(VrtCaps) caps = vrt_caps_new(u.machine);
    host_uuid(caps);
    g_autofree char *cpuinfo = NULL;
    if (g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL)) {
        g_autofree char *vendor = cpuinfo_field(cpuinfo, "vendor_id");
        if (g_strcmp0(vendor, "GenuineIntel") == 0)
            caps->cpu_vendor = g_strdup("Intel");
        else if (g_strcmp0(vendor, "AuthenticAMD") == 0)
            caps->cpu_vendor = g_strdup("AMD");
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    caps->sockets = 1;
    caps->dies = 1;
    caps->cores = (guint)cpus;
    caps->threads = 1;
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    guint64 mem_kib = pages > 0 && psize > 0 ? (guint64)pages * (guint64)psize / 1024 : 0;
    VrtCapsCell *cell = vrt_caps_add_cell(caps, 0, mem_kib);
    for (long i = 0; i < cpus; i++)
        vrt_caps_cell_add_cpu(cell, (guint)i, 0, 0, (guint)i, NULL);
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
    g_mutex_lock(&daemon->probe_lock);
    if (!daemon->capabilities)
        daemon->capabilities = build_caps(daemon, error);
    char *xml = g_strdup(daemon->capabilities);
    g_mutex_unlock(&daemon->probe_lock);
    if (!xml)
        return false;
    ret->capabilities = xml;
    return true;
}
