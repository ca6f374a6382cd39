/*
 * The QEMU driver's side of AppArmor (qemu_apparmor.h makes the profile):
 * whether AppArmor confines QEMU here (qemu.conf's security_driver and
 * the host, decided once when the driver is made), and the profile's life
 * along the domain's: written and loaded before QEMU's exec, which enters
 * it; its file list regenerated and reloaded when a device is hot-plugged
 * or unplugged; unloaded and removed at stop, and by a restarted vrtd
 * that finds the domain's QEMU gone. The live definition shows libvirt's
 * <seclabel type='dynamic' model='apparmor'> while it applies.
 */
#include "drivers/qemu/qemu_apparmor.h"
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_security.h"
#include "util/error.h"
#include "util/uuid.h"

#define AA_TEMPLATE "/etc/apparmor.d/libvirt/TEMPLATE.qemu"
#define AA_PARSER "/sbin/apparmor_parser"

static void
paths_of(VrtQemuDriver *drv, VrtQemuAppArmorPaths *paths)
{
    paths->profile_dir = drv->aa_dir;
    paths->template_path = AA_TEMPLATE;
    paths->parser = AA_PARSER;
}

bool
vrt_qemu_apparmor_resolve(VrtQemuDriver *drv, GError **error)
{
    VrtQemuSecConf *sec = &drv->sec;
    bool host = vrt_qemu_apparmor_host_enabled();

    /* libvirtd refuses to start on a security driver it cannot use */
    if (sec->security_driver_other) {
        bool known = g_str_equal(sec->security_driver_other, "selinux");

        vrt_error_set(error, known ? VIR_ERR_CONFIG_UNSUPPORTED : VIR_ERR_INTERNAL_ERROR,
                      known ? "Security driver %s not enabled" : "Security driver %s not found",
                      sec->security_driver_other);
        return false;
    }
    if (sec->apparmor_wanted && !host) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Security driver %s not enabled", "apparmor");
        return false;
    }
    sec->apparmor = host && !sec->apparmor_off;
    g_free(drv->aa_dir);
    drv->aa_dir = (!drv->root || !*drv->root || g_str_equal(drv->root, "/"))
                      ? g_strdup("/etc/apparmor.d/libvirt")
                      : g_build_filename(drv->root, "etc", "apparmor.d", "libvirt", NULL);
    /* once a process, as before: a daemon makes one driver */
    {
        static gsize logged;

        if (g_once_init_enter(&logged)) {
            vrt_qemu_security_log_apparmor(sec);
            g_once_init_leave(&logged, 1);
        }
    }
    return true;
}

bool
vrt_qemu_driver_apparmor_active(VrtQemuDriver *drv)
{
    return drv->sec.apparmor;
}

/* vrtd's paths for one run of def's QEMU (free with dom_paths_clear). */
typedef struct {
    char *log_file;
    char *pidfile;
    char *tpm_dir;
    VrtQemuAppArmorDomain dom;
} DomPaths;

static void
dom_paths_init(DomPaths *p, VrtQemuDriver *drv, const VrtDomainDef *def, const char *run_dir, const GPtrArray *extra)
{
    g_autofree char *log_name = g_strdup_printf("%s.log", def->name);

    p->log_file = g_build_filename(drv->log_dir, log_name, NULL);
    p->pidfile = g_strdup_printf("%s/%s.pid", drv->state_dir, def->name);
    if (def->tpms && def->tpms->len) {
        char uuid[VRT_UUID_STRING_LEN];
        g_autofree char *lib_root = g_path_get_dirname(drv->lib_dir);

        vrt_uuid_format(def->uuid, uuid);
        p->tpm_dir = g_build_filename(lib_root, "swtpm", uuid, NULL);
    }
    p->dom.run_dir = run_dir;
    p->dom.log_file = p->log_file;
    p->dom.pidfile = p->pidfile;
    p->dom.tpm_dir = p->tpm_dir;
    p->dom.extra = extra;
}

static void
dom_paths_clear(DomPaths *p)
{
    g_free(p->log_file);
    g_free(p->pidfile);
    g_free(p->tpm_dir);
}

bool
vrt_qemu_apparmor_dom_start(VrtQemuDriver *drv, VrtDomainDef *def, const char *run_dir, VrtQemuConfine *confine,
                            GError **error)
{
    VrtQemuAppArmorPaths paths;
    DomPaths p = { 0 };
    g_autofree char *name = NULL;
    VrtSecLabelDef *l;
    bool ok;

    if (!drv->sec.apparmor)
        return true;
    paths_of(drv, &paths);
    name = vrt_qemu_apparmor_profile_name(def->uuid);
    dom_paths_init(&p, drv, def, run_dir, NULL);
    ok = vrt_qemu_apparmor_load(&paths, drv->cfg.host, def, &p.dom, error);
    dom_paths_clear(&p);
    if (!ok)
        return false;
    if (!vrt_qemu_confine_set_apparmor(confine, name)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "AppArmor profile name '%s' is too long", name);
        vrt_qemu_apparmor_remove(&paths, def->uuid);
        return false;
    }
    /* libvirt's live XML: the profile is the label and the image label */
    l = (VrtSecLabelDef *)vrt_domain_def_get_seclabel(def, "apparmor");
    if (!l) {
        l = vrt_domain_def_add_seclabel(def, "apparmor");
        l->type = VRT_SECLABEL_DYNAMIC;
        l->relabel = true;
        l->implicit = true;
    }
    if (l->type == VRT_SECLABEL_DYNAMIC) {
        g_free(l->label);
        l->label = g_strdup(name);
        g_free(l->imagelabel);
        l->imagelabel = g_strdup(name);
    }
    return true;
}

void
vrt_qemu_apparmor_dom_stop(VrtQemuDriver *drv, const VrtDomainDef *def)
{
    VrtQemuAppArmorPaths paths;

    /* whatever qemu.conf says now: a profile left by a run is removed */
    if (!drv->aa_dir)
        return;
    paths_of(drv, &paths);
    vrt_qemu_apparmor_remove(&paths, def->uuid);
}

/* The copy of the live definition without the device leaving it (its
 * unplug may run before the definition drops it). */
static void
drop_leaving(VrtDomainDef *def, const char *removed_disk, const VrtPciAddr *removed_pci)
{
    for (guint i = def->disks ? def->disks->len : 0; removed_disk && i-- > 0;) {
        const VrtDomainDiskDef *d = g_ptr_array_index(def->disks, i);

        if (g_strcmp0(d->src, removed_disk) == 0)
            g_ptr_array_remove_index(def->disks, i);
    }
    for (guint i = def->hostdevs ? def->hostdevs->len : 0; removed_pci && i-- > 0;) {
        const VrtDomainHostdevDef *h = g_ptr_array_index(def->hostdevs, i);

        if (vrt_pci_addr_equal(&h->source, removed_pci))
            g_ptr_array_remove_index(def->hostdevs, i);
    }
}

bool
vrt_qemu_apparmor_dom_update(VrtQemuDom *obj, const char *added, const char *removed_disk,
                             const VrtPciAddr *removed_pci, GError **error)
{
    VrtQemuDriver *drv = obj->drv;
    VrtQemuAppArmorPaths paths;
    g_autoptr(VrtDomainDef) def = NULL;
    g_autofree char *run_dir = NULL;
    g_autoptr(GPtrArray) extra = g_ptr_array_new();
    DomPaths p = { 0 };
    bool ok;

    if (!drv->sec.apparmor)
        return true;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!obj->def || !obj->monitor_path)
            return true;
        def = vrt_domain_def_copy(obj->def, NULL);
        run_dir = g_path_get_dirname(obj->monitor_path);
    }
    drop_leaving(def, removed_disk, removed_pci);
    paths_of(drv, &paths);
    if (added)
        g_ptr_array_add(extra, (gpointer)added);
    dom_paths_init(&p, drv, def, run_dir, extra);
    ok = vrt_qemu_apparmor_load(&paths, drv->cfg.host, def, &p.dom, error);
    dom_paths_clear(&p);
    return ok;
}
