/*
 * The QEMU driver's public API (qemu_driver.h): the tables of domain
 * objects, loading and reconnecting at start-up, reloading on SIGHUP, and
 * one function per libvirt domain call that changes a domain (the reads are
 * in qemu_driver_read.c). Each modifying call looks the domain up, takes its
 * job, does its work with the object lock taken only around field updates,
 * and reports lifecycle events after the change.
 */
#include "drivers/qemu/qemu_agent.h"
#include "drivers/qemu/qemu_cgroup.h"
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_firmware.h"
#include "drivers/qemu/qemu_migration.h"
#include "drivers/qemu/qemu_migration_settle.h"
#include "drivers/qemu/qemu_tpm.h"
#include "drivers/qemu/qemu_save.h"
#include "drivers/qemu/qemu_snapshot.h"
#include "drivers/qemu/qemu_hostdev_domain.h"
#include "drivers/qemu/qemu_interface.h"
#include "util/error.h"
#include "util/fileutil.h"
#include "util/proc.h"
#include "util/uuid.h"
#include "util/xml.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define DRIVER_EVENT_THREADS 4

static guint
uuid_hash(gconstpointer key)
{
    guint h;

    memcpy(&h, key, sizeof(h));
    return h;
}

static gboolean
uuid_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, 16) == 0;
}

static char *
root_path(const char *root, const char *sub)
{
    if (!root || !*root || g_str_equal(root, "/"))
        return g_build_filename("/", sub, NULL);
    return g_build_filename(root, sub, NULL);
}

VrtQemuDriver *
vrt_qemu_driver_new(const VrtQemuDriverConfig *cfg, GError **error)
{
    g_autoptr(VrtQemuDriver) drv = g_new0(VrtQemuDriver, 1);
    GError *err = NULL;

    g_mutex_init(&drv->lock);
    g_mutex_init(&drv->mig_lock);
    g_cond_init(&drv->mig_cond);
    g_mutex_init(&drv->completed_lock);
    drv->mig_jobs = vrt_qemu_migration_jobs_new();
    drv->completed = g_hash_table_new_full(uuid_hash, uuid_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
    for (guint i = 0; i < 16; i++)
        drv->random_host_uuid[i] = (guchar)g_random_int_range(0, 256);
    /* Keys are copies: an object's def is replaced over its life. */
    drv->by_uuid = g_hash_table_new_full(uuid_hash, uuid_equal, g_free, (GDestroyNotify)vrt_qemu_dom_unref);
    drv->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    drv->cfg = *cfg;
    drv->root = g_strdup(cfg->root ? cfg->root : "");
    drv->cfg.root = drv->root;
    drv->emulator = g_strdup(cfg->emulator);
    drv->cfg.emulator = drv->emulator;
    drv->cfg.host_uuid = g_intern_string(cfg->host_uuid);
    drv->cfg.migration_host = g_intern_string(cfg->migration_host);
    drv->cfg.migration_address = g_intern_string(cfg->migration_address);
    drv->cfg.migrate_tls_x509_cert_dir = g_intern_string(cfg->migrate_tls_x509_cert_dir);
    if (!drv->cfg.unplug_wait_ms)
        drv->cfg.unplug_wait_ms = VRT_QEMU_UNPLUG_WAIT_MS;
    drv->config_dir = root_path(drv->root, "etc/vrt/qemu");
    drv->config_sync = vrt_state_sync_new(cfg->config_sync_ms);
    drv->cgroups = vrt_qemu_cgroup_new(cfg);
    drv->cfg.cgroup_root = NULL; /* read once, above */
    drv->autostart_dir = root_path(drv->root, "etc/vrt/qemu/autostart");
    drv->state_dir = root_path(drv->root, "run/vrt/qemu");
    drv->log_dir = root_path(drv->root, "var/log/vrt/qemu");
    drv->lib_dir = root_path(drv->root, "var/lib/vrt/qemu");
    drv->dev_kvm = g_strdup("/dev/kvm");
    /* Fault tests: the hostdev job ends vrtd at this step (qemu_hostdev.h). */
    drv->hostdev_die_at = g_strdup(g_getenv("VRT_FAULT_DIE_AT"));
    drv->fault_stop_at = g_strdup(g_getenv("VRT_FAULT_STOP_AT"));
    drv->caps = vrt_qemu_caps_new(drv->dev_kvm);
    {
        g_autofree char *cache = g_build_filename(drv->lib_dir, "capabilities", NULL);

        vrt_qemu_caps_set_cache_dir(drv->caps, cache);
    }
    drv->settler = vrt_qemu_settler_new();
    drv->evthread = vrt_qemu_event_thread_new("vrt-qemu-event");
    drv->event_pool = g_thread_pool_new(vrt_qemu_event_pool_run, drv, DRIVER_EVENT_THREADS, FALSE, &err);
    if (!drv->event_pool) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot create event threads: %s", err->message);
        g_error_free(err);
        return NULL;
    }
    if (!vrt_dir_ensure(drv->config_dir, 0755, error) || !vrt_dir_ensure(drv->autostart_dir, 0755, error) ||
        !vrt_dir_ensure(drv->state_dir, 0700, error) || !vrt_dir_ensure(drv->log_dir, 0700, error) ||
        !vrt_dir_ensure(drv->lib_dir, 0700, error))
        return NULL;
    {
        g_autofree char *sec = root_path(drv->root, "etc/vrt/qemu.conf");

        if (!vrt_qemu_sec_conf_load(&drv->sec, sec, error) || !vrt_qemu_apparmor_resolve(drv, error))
            return NULL;
        vrt_qemu_security_reachable(&drv->sec, drv->root, drv->state_dir);
    }
    return g_steal_pointer(&drv);
}

void
vrt_qemu_driver_free(VrtQemuDriver *drv)
{
    GHashTableIter it;
    gpointer value;

    if (!drv)
        return;
    /* The settling workers and the prepares' watchdogs first: they use the
     * monitors and the tables. */
    vrt_qemu_settler_free(drv->settler);
    vrt_qemu_migration_jobs_close(drv);
    /* No more events: close every monitor (QEMU keeps running), then let
     * queued event handling finish. */
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

        g_hash_table_iter_init(&it, drv->by_uuid);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            VrtQemuDom *obj = value;
            VrtQemuMonitor *mon;

            {
                g_autoptr(GMutexLocker) obj_locker = g_mutex_locker_new(&obj->lock);

                mon = obj->mon ? vrt_qemu_monitor_ref(obj->mon) : NULL;
            }
            if (mon) {
                vrt_qemu_monitor_close(mon);
                vrt_qemu_monitor_unref(mon);
            }
        }
    }
    if (drv->event_pool)
        g_thread_pool_free(drv->event_pool, FALSE, TRUE);
    g_hash_table_unref(drv->by_name);
    g_hash_table_unref(drv->by_uuid);
    if (drv->evthread)
        vrt_qemu_event_thread_free(drv->evthread);
    vrt_qemu_caps_free(drv->caps);
    vrt_state_sync_free(drv->config_sync);
    vrt_cgroups_free(drv->cgroups);
    vrt_qemu_sec_conf_clear(&drv->sec);
    g_free(drv->root);
    g_free(drv->emulator);
    g_free(drv->config_dir);
    g_free(drv->autostart_dir);
    g_free(drv->state_dir);
    g_free(drv->log_dir);
    g_free(drv->lib_dir);
    g_free(drv->aa_dir);
    g_free(drv->dev_kvm);
    g_free(drv->hostdev_die_at);
    g_free(drv->fault_stop_at);
    g_hash_table_unref(drv->mig_jobs);
    g_hash_table_unref(drv->completed);
    g_mutex_clear(&drv->mig_lock);
    g_cond_clear(&drv->mig_cond);
    g_mutex_clear(&drv->completed_lock);
    g_mutex_clear(&drv->lock);
    g_free(drv);
}

const VrtQemuCapsInfo *
vrt_qemu_driver_get_caps(VrtQemuDriver *drv, GError **error)
{
    return vrt_qemu_caps_get(drv->caps, drv->emulator, error);
}

/* ---- tables ---- */

/* Enters obj (the tables' reference) under its uuid and name. Driver lock held. */
static void
driver_add_locked(VrtQemuDriver *drv, VrtQemuDom *obj)
{
    g_hash_table_insert(drv->by_uuid, g_memdup2(obj->def->uuid, 16), obj);
    g_hash_table_insert(drv->by_name, g_strdup(obj->def->name), obj);
}

void
vrt_qemu_driver_add(VrtQemuDriver *drv, VrtQemuDom *obj)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

    driver_add_locked(drv, obj);
}

void
vrt_qemu_driver_remove(VrtQemuDriver *drv, VrtQemuDom *obj)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtQemuDom *cur = g_hash_table_lookup(drv->by_uuid, obj->def->uuid);

    if (cur != obj)
        return;
    {
        g_autoptr(GMutexLocker) obj_locker = g_mutex_locker_new(&obj->lock);

        obj->removed = true;
    }
    g_hash_table_remove(drv->by_name, obj->def->name);
    g_hash_table_remove(drv->by_uuid, obj->def->uuid);
}

static void
no_domain_uuid(GError **error, const guchar *uuid)
{
    char str[VRT_UUID_STRING_LEN];

    vrt_uuid_format(uuid, str);
    vrt_error_set(error, VIR_ERR_NO_DOMAIN, "no domain with matching uuid '%s'", str);
}

VrtQemuDom *
vrt_qemu_driver_find(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtQemuDom *obj = g_hash_table_lookup(drv->by_uuid, uuid);

    if (!obj) {
        no_domain_uuid(error, uuid);
        return NULL;
    }
    return vrt_qemu_dom_ref(obj);
}

/* Finds a domain and takes a job of kind on it into *job: a reference to
 * the domain, or NULL with VIR_ERR_NO_DOMAIN or the job's error. */
static VrtQemuDom *
find_with_job(VrtQemuDriver *drv, const guchar *uuid, VrtQemuJobKind kind, VrtQemuJob *job, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);

    if (!obj || !vrt_qemu_job_begin(job, obj, kind, error))
        return NULL;
    return g_steal_pointer(&obj);
}

/* Returns a reference to the domain with this name (driver lock held). */
static VrtQemuDom *
find_by_name_locked(VrtQemuDriver *drv, const char *name)
{
    VrtQemuDom *obj = g_hash_table_lookup(drv->by_name, name);

    return obj ? vrt_qemu_dom_ref(obj) : NULL;
}

/* A reference to the domain with this name, else uuid, else id; NULL when
 * there is none. Driver lock held (takes each object lock in turn). */
static VrtQemuDom *
lookup_locked(VrtQemuDriver *drv, const char *name, const guchar *uuid, int id)
{
    GHashTableIter it;
    gpointer value;

    if (name)
        return find_by_name_locked(drv, name);
    if (uuid) {
        VrtQemuDom *o = g_hash_table_lookup(drv->by_uuid, uuid);

        return o ? vrt_qemu_dom_ref(o) : NULL;
    }
    g_hash_table_iter_init(&it, drv->by_uuid);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        VrtQemuDom *o = value;
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&o->lock);

        if (id > 0 && o->def->id == id)
            return vrt_qemu_dom_ref(o);
    }
    return NULL;
}

VrtDomainRef *
vrt_qemu_domain_lookup(VrtQemuDriver *drv, const char *name, const guchar *uuid, int id, GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

        obj = lookup_locked(drv, name, uuid, id);
    }
    if (!obj) {
        if (name)
            vrt_error_set(error, VIR_ERR_NO_DOMAIN, "no domain with matching name '%s'", name);
        else if (uuid)
            no_domain_uuid(error, uuid);
        else
            vrt_error_set(error, VIR_ERR_NO_DOMAIN, "no domain with matching id %d", id);
        return NULL;
    }
    return vrt_qemu_dom_make_ref(obj);
}

/* ---- load ---- */

/* A definition file that reads and parses (for vrt_state_sync_recover). */
static bool
config_usable(const char *path, gpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = NULL;
    g_autoptr(VrtDomainDef) def = NULL;

    return vrt_file_read(path, &xml, NULL, NULL) && (def = vrt_domain_def_parse(xml, 0, NULL)) != NULL;
}

/* Whether entry is the temporary file of an atomic write of a definition,
 * "NAME.xml.new.XXXXXX" (six random letters and digits): never the
 * definition of a domain named, say, "a.xml.new.b", whose file ends in
 * ".xml". */
static bool
is_config_temporary(const char *entry)
{
    const char *tail = g_strrstr(entry, ".xml.new.");

    if (!tail)
        return false;
    tail += strlen(".xml.new.");
    if (strlen(tail) != 6)
        return false;
    for (; *tail; tail++)
        if (!g_ascii_isalnum(*tail))
            return false;
    return true;
}

/* After a power loss a definition changed shortly before may be incomplete;
 * its previous version is kept beside it until the new one is flushed. */
static void
recover_configs(VrtQemuDriver *drv)
{
    g_autoptr(GDir) dir = g_dir_open(drv->config_dir, 0, NULL);
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        if (g_str_has_suffix(entry, ".xml.prev"))
            g_ptr_array_add(paths, g_build_filename(drv->config_dir, entry, NULL));
        else if (is_config_temporary(entry))
            g_ptr_array_add(paths, g_build_filename(drv->config_dir, entry, NULL));
    }
    for (guint i = 0; i < paths->len; i++) {
        char *path = g_ptr_array_index(paths, i);

        if (g_str_has_suffix(path, ".prev")) {
            path[strlen(path) - strlen(".prev")] = '\0';
            vrt_state_sync_recover(path, config_usable, NULL);
        } else {
            /* A temporary file of a write that never reached its rename. */
            unlink(path);
        }
    }
}

/* Whether a domain has this uuid (takes the driver lock). */
static bool
uuid_used(VrtQemuDriver *drv, const guchar *uuid)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

    return g_hash_table_contains(drv->by_uuid, uuid);
}

static void
load_configs(VrtQemuDriver *drv)
{
    g_autoptr(GDir) dir = NULL;
    const char *entry;

    recover_configs(drv);
    dir = g_dir_open(drv->config_dir, 0, NULL);
    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *path = NULL;
        g_autofree char *xml = NULL;
        g_autofree char *link = NULL;
        g_autoptr(GError) err = NULL;
        VrtDomainDef *def;
        VrtQemuDom *obj;

        if (!g_str_has_suffix(entry, ".xml"))
            continue;
        path = g_build_filename(drv->config_dir, entry, NULL);
        if (!vrt_file_read(path, &xml, NULL, &err) || !(def = vrt_domain_def_parse(xml, 0, &err))) {
            g_warning("skipping domain config %s: %s", path, err->message);
            continue;
        }
        if (strlen(entry) != strlen(def->name) + 4 || !g_str_has_prefix(entry, def->name)) {
            g_warning("skipping domain config %s: it defines domain '%s'", path, def->name);
            vrt_domain_def_free(def);
            continue;
        }
        if (uuid_used(drv, def->uuid)) {
            g_warning("skipping domain config %s: its uuid is already used", path);
            vrt_domain_def_free(def);
            continue;
        }
        obj = vrt_qemu_dom_new(drv, def);
        obj->persistent = true;
        link = vrt_qemu_autostart_path(drv, def->name);
        obj->autostart = g_file_test(link, G_FILE_TEST_EXISTS);
        obj->managed_save = vrt_qemu_save_managed_exists(drv, def->name);
        vrt_qemu_snapshot_load(obj);
        vrt_qemu_driver_add(drv, obj);
    }
}

static void
reconnect_one(VrtQemuDriver *drv, const char *path)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtQemuStatus) st = vrt_qemu_status_read(path, &err);
    g_autoptr(VrtQemuDom) obj = NULL;
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(GPtrArray) dev_nodes = NULL;
    bool ok;

    if (!st) {
        g_warning("ignoring status file %s: %s", path, err->message);
        return;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

        obj = g_hash_table_lookup(drv->by_uuid, st->def->uuid);
        if (obj)
            vrt_qemu_dom_ref(obj);
    }
    if (!obj) {
        /* A transient domain: it exists only while its QEMU runs. */
        VrtDomainDef *copy = vrt_domain_def_copy(st->def, &err);

        if (!copy) {
            g_warning("ignoring status file %s: %s", path, err->message);
            return;
        }
        obj = vrt_qemu_dom_new(drv, copy);
        vrt_qemu_driver_add(drv, vrt_qemu_dom_ref(obj));
    }
    if (!vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_START, &err)) {
        g_warning("cannot reconnect domain %s: %s", st->def->name, err->message);
        return;
    }
    /* the groups of its host devices, before giving back a dead QEMU's
     * takes a pool's VF out of the definition */
    dev_nodes = vrt_qemu_vfio_status_dev_nodes(drv, st);
    if (st->starting) {
        /* Killed mid-start: that QEMU is ended; its VFs are given back
         * from the start's journal (vrt_qemu_hostdev_driver_load). */
        vrt_qemu_process_abort_start(obj, st);
        ok = false;
    } else {
        ok = vrt_qemu_process_reconnect(obj, st);
        /* Unfinished hostdev jobs are finished or undone once QEMU is known. */
        if (ok)
            vrt_qemu_hostdev_dom_recover(obj);
        else
            vrt_qemu_hostdev_dom_release_dead(obj, st);
    }
    if (!ok) {
        bool transient;
        int detail;
        int reason = vrt_qemu_process_dead_reason(st, &detail);

        /* Its QEMU is gone: its files get their owners back. */
        vrt_qemu_security_restore(&drv->sec, st->def, dev_nodes);
        vrt_qemu_apparmor_dom_stop(drv, st->def);

        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_SHUTOFF, reason);
            transient = !obj->persistent;
        }
        /* the taps went with QEMU; their ports are named in the status
         * file alone once a transient domain is forgotten */
        for (guint i = 0; i < st->def->nets->len; i++)
            vrt_qemu_interface_release(obj, st->def->name, g_ptr_array_index(st->def->nets, i));
        vrt_qemu_process_remove_monitor(drv, st->monitor_path);
        {
            /* An unprivileged QEMU cannot remove its pidfile from vrtd's
             * state directory at its exit: vrtd does. */
            g_autofree char *pidfile = g_strdup_printf("%s/%s.pid", drv->state_dir, st->def->name);

            unlink(pidfile);
        }
        vrt_file_remove(path, NULL);
        vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_STOPPED, detail);
        if (transient)
            vrt_qemu_driver_remove(drv, obj);
    }
}

/* A QEMU with a pidfile but no status file runs unseen and unconfigured,
 * so it is ended. A start records its QEMU in the status file before QEMU
 * runs, so only a vrtd without that record (an older one) leaves such a
 * QEMU; the pidfile also names the root on QEMU's command line. */
static void
reap_orphans(VrtQemuDriver *drv)
{
    g_autoptr(GDir) dir = g_dir_open(drv->state_dir, 0, NULL);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *name = NULL;
        g_autofree char *status = NULL;
        g_autofree char *pidfile = NULL;
        g_autofree char *text = NULL;
        pid_t pid;

        if (!g_str_has_suffix(entry, ".pid"))
            continue;
        name = g_strndup(entry, strlen(entry) - 4);
        status = vrt_qemu_status_path(drv, name);
        pidfile = g_build_filename(drv->state_dir, entry, NULL);
        if (g_file_test(status, G_FILE_TEST_EXISTS) || !g_file_get_contents(pidfile, &text, NULL, NULL))
            continue;
        pid = (pid_t)g_ascii_strtoll(text, NULL, 10);
        /* Only ours: its command line names this pidfile. */
        if (vrt_proc_pid_has_arg(NULL, pid, pidfile)) {
            g_warning("ending QEMU pid %d of domain %s: its start was never completed", (int)pid, name);
            kill(pid, SIGKILL);
        }
        unlink(pidfile);
    }
}

bool
vrt_qemu_driver_load(VrtQemuDriver *drv, GError **error)
{
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GPtrArray) autostart = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_qemu_dom_unref);
    GHashTableIter it;
    gpointer value;
    const char *entry;

    load_configs(drv);
    reap_orphans(drv);

    dir = g_dir_open(drv->state_dir, 0, NULL);
    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *path = NULL;

        if (!g_str_has_suffix(entry, ".xml"))
            continue;
        path = g_build_filename(drv->state_dir, entry, NULL);
        reconnect_one(drv, path);
    }
    vrt_qemu_hostdev_driver_load(drv);
    vrt_qemu_interface_driver_load(drv);
    vrt_qemu_process_sweep_run_dirs(drv);
    vrt_qemu_cgroup_sweep(drv);
    vrt_qemu_migration_recover(drv);

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

        g_hash_table_iter_init(&it, drv->by_uuid);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            VrtQemuDom *obj = value;

            {
                g_autoptr(GMutexLocker) obj_locker = g_mutex_locker_new(&obj->lock);

                if (obj->autostart && !vrt_qemu_dom_is_active_locked(obj))
                    g_ptr_array_add(autostart, vrt_qemu_dom_ref(obj));
            }
        }
    }
    for (guint i = 0; i < autostart->len; i++) {
        VrtQemuDom *obj = g_ptr_array_index(autostart, i);
        g_autoptr(GError) err = NULL;
        g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;

        if (!vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_START, &err)) {
            g_warning("autostart of domain %s: %s", obj->def->name, err->message);
            continue;
        }
        if (!vrt_qemu_dom_is_active_locked(obj) && !vrt_qemu_process_start(obj, 0, &err))
            g_warning("autostart of domain %s failed: %s", obj->def->name, err->message);
    }
    return true;
}

/* ---- define / undefine ---- */

/* Checks a new definition against the tables (driver lock held); on
 * success *existing is a reference to the object with the same uuid and
 * name, or NULL for a new domain. */
static bool
check_collision_locked(VrtQemuDriver *drv, const VrtDomainDef *def, VrtQemuDom **existing, GError **error)
{
    VrtQemuDom *by_uuid = g_hash_table_lookup(drv->by_uuid, def->uuid);
    VrtQemuDom *by_name = g_hash_table_lookup(drv->by_name, def->name);
    char uuid[VRT_UUID_STRING_LEN];

    *existing = NULL;
    if (by_name && by_name != by_uuid) {
        vrt_uuid_format(by_name->def->uuid, uuid);
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "domain '%s' already exists with uuid %s", def->name, uuid);
        return false;
    }
    if (by_uuid && !g_str_equal(by_uuid->def->name, def->name)) {
        vrt_uuid_format(def->uuid, uuid);
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "domain '%s' is already defined with uuid %s",
                      by_uuid->def->name, uuid);
        return false;
    }
    if (by_uuid)
        *existing = vrt_qemu_dom_ref(by_uuid);
    return true;
}

/* The domain *def (parsed, addresses to be assigned) names, a reference,
 * with a job of kind begun in *job: the existing one with its uuid and
 * name, or a new one that takes *def (*added), reserved in the tables
 * right away so that a concurrent define of the same name fails. NULL on a
 * collision or a failed job; a new domain is removed again then. */
static VrtQemuDom *
reserve_with_job(VrtQemuDriver *drv, VrtDomainDef **def, VrtQemuJobKind kind, VrtQemuJob *job, bool *added,
                 GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;

    *added = false;
    if (!*def || !vrt_domain_def_assign_addresses(*def, error))
        return NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

        if (!check_collision_locked(drv, *def, &obj, error))
            return NULL;
        if (!obj) {
            /* Under the job nothing else changes the new domain's definition. */
            VrtQemuDom *fresh = vrt_qemu_dom_new(drv, g_steal_pointer(def));

            driver_add_locked(drv, fresh);
            obj = vrt_qemu_dom_ref(fresh);
            *added = true;
        }
    }
    if (!vrt_qemu_job_begin(job, obj, kind, error)) {
        if (*added)
            vrt_qemu_driver_remove(drv, obj);
        return NULL;
    }
    return g_steal_pointer(&obj);
}

VrtQemuDom *
vrt_qemu_driver_reserve(VrtQemuDriver *drv, VrtDomainDef **def, VrtQemuJobKind kind, VrtQemuJob *job, bool *added,
                        GError **error)
{
    return reserve_with_job(drv, def, kind, job, added, error);
}

/* The start flags libvirt accepts (the server checked every bit against
 * remote_flags.tsv) that vrt does not do: refused by name, never ignored.
 * rest: the bits left after those the caller handles; func: libvirt's
 * function for a bit that is not libvirt's either. */
static bool
start_flags_supported(guint rest, const char *func, GError **error)
{
    static const struct {
        guint bit;
        const char *name;
    } unsupported[] = { { 2u, "VIR_DOMAIN_START_AUTODESTROY" },
                        { 4u, "VIR_DOMAIN_START_BYPASS_CACHE" },
                        { 32u, "VIR_DOMAIN_START_RESET_NVRAM" } };

    for (guint i = 0; i < G_N_ELEMENTS(unsupported); i++)
        if (rest & unsupported[i].bit) {
            vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "flag %s is not supported by vrt", unsupported[i].name);
            return false;
        }
    if (rest) {
        vrt_error_set_flags(error, rest, func);
        return false;
    }
    return true;
}

VrtDomainRef *
vrt_qemu_domain_define_xml(VrtQemuDriver *drv, const char *xml, guint flags, GError **error)
{
    /* VIR_DOMAIN_DEFINE_VALIDATE: libvirt's schema first, as libvirt checks */
    if ((flags & 1u) && !vrt_xml_validate_string(xml, "(domain_definition)", "domain.rng", error))
        return NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, error);
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    VrtDomainRef *ref;
    bool added;

    if (!(obj = reserve_with_job(drv, &def, VRT_QEMU_JOB_MODIFY, &job, &added, error)))
        return NULL;
    if (!vrt_qemu_dom_save_config(obj, added ? obj->def : def, error)) {
        if (added)
            vrt_qemu_driver_remove(drv, obj);
        return NULL;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!added) {
            if (vrt_qemu_dom_is_active_locked(obj)) {
                vrt_domain_def_free(obj->newdef);
                obj->newdef = g_steal_pointer(&def);
                obj->updated = obj->persistent;
            } else {
                vrt_domain_def_free(obj->def);
                obj->def = g_steal_pointer(&def);
                obj->def->id = -1;
            }
        }
        obj->persistent = true;
        ref = vrt_qemu_dom_make_ref_locked(obj);
    }
    /* The event follows the job (another call may already see the change). */
    vrt_qemu_job_end(&job);
    vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_DEFINED,
                      added ? VRT_DOMAIN_EVENT_DEFINED_ADDED : VRT_DOMAIN_EVENT_DEFINED_UPDATED);
    return ref;
}

/* ---- reload (SIGHUP) ---- */

/* The definition in config_dir/entry, which must define the domain the
 * file is named after; NULL with the reason in *error. */
static VrtDomainDef *
read_config_file(const char *path, const char *entry, GError **error)
{
    g_autofree char *xml = NULL;
    g_autoptr(VrtDomainDef) def = NULL;

    if (!vrt_file_read(path, &xml, NULL, error) || !(def = vrt_domain_def_parse(xml, 0, error)))
        return NULL;
    if (strlen(entry) != strlen(def->name) + 4 || !g_str_has_prefix(entry, def->name)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "it defines domain '%s'", def->name);
        return NULL;
    }
    return g_steal_pointer(&def);
}

/* Whether a and b format to the same persistent XML (secrets included). */
static bool
same_config(const VrtDomainDef *a, const VrtDomainDef *b)
{
    guint fmt = VRT_DOMAIN_XML_INACTIVE | VRT_DOMAIN_XML_SECURE;
    g_autofree char *xa = vrt_domain_def_format(a, fmt, NULL);
    g_autofree char *xb = vrt_domain_def_format(b, fmt, NULL);

    return xa && xb && g_str_equal(xa, xb);
}

/* Takes the definition in one file, as a define would (same collision
 * checks, the domain's job held while it changes). The file is read again
 * under the job, so a define or undefine that ran since the first read is
 * not undone. */
static void
reload_one(VrtQemuDriver *drv, const char *entry, guint *n_added, guint *n_updated)
{
    g_autofree char *path = g_build_filename(drv->config_dir, entry, NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainDef) def = read_config_file(path, entry, &err);
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autofree char *name = g_strndup(entry, strlen(entry) - 4);
    g_autofree char *link = vrt_qemu_autostart_path(drv, name);
    bool added, autostart, changed = false;

    if (!def) {
        g_warning("reload: skipping domain config %s: %s", path, err->message);
        return;
    }
    if (!(obj = reserve_with_job(drv, &def, VRT_QEMU_JOB_MODIFY, &job, &added, &err))) {
        g_warning("reload: skipping domain config %s: %s", path, err->message);
        return;
    }
    /* Under the job the file only changes by hand: read again, it is what
     * a define or undefine that ran since the first read left (a domain
     * undefined meanwhile is not brought back). */
    g_clear_pointer(&def, vrt_domain_def_free);
    if (!(def = read_config_file(path, entry, &err)) || !vrt_domain_def_assign_addresses(def, &err) ||
        (!added && memcmp(def->uuid, obj->def->uuid, 16) != 0)) {
        if (err)
            g_warning("reload: %s domain config %s: %s", added ? "skipping" : "keeping as it was", path, err->message);
        else
            g_warning("reload: skipping domain config %s: its uuid changed", path);
        if (added)
            vrt_qemu_driver_remove(drv, obj);
        return;
    }
    if (added) /* obj took the first read (a file without <uuid> gets a new one at each parse) */
        g_clear_pointer(&def, vrt_domain_def_free);
    autostart = g_file_test(link, G_FILE_TEST_EXISTS);

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!added) {
            if (vrt_qemu_dom_is_active_locked(obj)) {
                /* The running domain is left alone; the file is its next start. */
                const VrtDomainDef *cur = obj->newdef ? obj->newdef : obj->def;

                changed = !obj->persistent || !same_config(cur, def);
                if (changed) {
                    vrt_domain_def_free(obj->newdef);
                    obj->newdef = g_steal_pointer(&def);
                    obj->updated = obj->persistent;
                }
            } else if (!same_config(obj->def, def)) {
                changed = true;
                vrt_domain_def_free(obj->def);
                obj->def = g_steal_pointer(&def);
                obj->def->id = -1;
            }
        }
        obj->persistent = true;
        obj->autostart = autostart;
    }
    vrt_qemu_job_end(&job); /* before the event, as a define */
    if (added) {
        (*n_added)++;
        g_message("reload: domain '%s' added from %s", name, path);
        vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_DEFINED, VRT_DOMAIN_EVENT_DEFINED_ADDED);
    } else if (changed) {
        (*n_updated)++;
        g_message("reload: domain '%s' updated from %s", name, path);
    }
}

void
vrt_qemu_driver_reload(VrtQemuDriver *drv)
{
    g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) dir = g_dir_open(drv->config_dir, 0, &err);
    const char *entry;
    guint n_added = 0, n_updated = 0;

    if (!dir && !g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
        g_warning("reload: cannot read %s: %s", drv->config_dir, err->message);
        return;
    }
    while (dir && (entry = g_dir_read_name(dir)))
        if (g_str_has_suffix(entry, ".xml") && strlen(entry) > 4)
            g_ptr_array_add(entries, g_strdup(entry));
    /* As libvirt: a domain whose file is gone is kept (undefine removes it). */
    for (guint i = 0; i < entries->len; i++)
        reload_one(drv, g_ptr_array_index(entries, i), &n_added, &n_updated);
    g_message("reload: domains: %u added, %u updated", n_added, n_updated);
}

/* The config file and autostart link of a persistent domain (job held);
 * VIR_ERR_OPERATION_INVALID with transient_msg for a transient one. */
static bool
persistent_paths(VrtQemuDriver *drv, VrtQemuDom *obj, const char *transient_msg, char **config, char **link,
                 GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    if (!obj->persistent) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", transient_msg);
        return false;
    }
    *config = vrt_qemu_config_path(drv, obj->def->name);
    *link = vrt_qemu_autostart_path(drv, obj->def->name);
    return true;
}

/* The persistent definition's NVRAM (qemu_firmware.c's rule), judged on
 * a copy so no lock is held over the file's removal. A definition with
 * neither an NVRAM store nor a TPM has nothing to remove: it is not copied
 * (a copy is a format and a parse, a third of an undefine's CPU). */
static bool
undefine_nvram(VrtQemuDriver *drv, VrtQemuDom *obj, guint flags, GError **error)
{
    g_autoptr(VrtDomainDef) def = NULL;
    g_autofree char *nvram_dir = NULL;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        const VrtDomainDef *cur = obj->newdef ? obj->newdef : obj->def;

        if (!vrt_qemu_firmware_has_nvram(cur) && !vrt_qemu_tpm_has_state(cur))
            return true;
        def = vrt_domain_def_copy(cur, error);
    }
    nvram_dir = g_build_filename(drv->lib_dir, "nvram", NULL);
    if (!def || !vrt_qemu_firmware_undefine(def, nvram_dir, flags, error))
        return false;
    /* the TPM's state goes too unless VIR_DOMAIN_UNDEFINE_KEEP_TPM */
    {
        g_autofree char *lib_root = g_path_get_dirname(drv->lib_dir);

        return vrt_qemu_tpm_undefine(lib_root, def, flags & (1u << 6), error);
    }
}

bool
vrt_qemu_domain_undefine(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);
    g_autofree char *config = NULL;
    g_autofree char *link = NULL;
    bool active;

    if (!obj || !persistent_paths(drv, obj, "cannot undefine transient domain", &config, &link, error) ||
        !vrt_qemu_save_undefine_check(obj, flags, error) || !vrt_qemu_snapshot_undefine_check(obj, flags, error) ||
        !undefine_nvram(drv, obj, flags, error) || !vrt_state_sync_remove(drv->config_sync, config, error))
        return false;
    unlink(link);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        active = vrt_qemu_dom_is_active_locked(obj);
        obj->persistent = false;
        obj->autostart = false;
        g_clear_pointer(&obj->newdef, vrt_domain_def_free);
    }
    vrt_qemu_job_end(&job); /* before the event, as a define */
    vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_UNDEFINED, VRT_DOMAIN_EVENT_UNDEFINED_REMOVED);
    /* A running domain lives on as a transient one. */
    if (!active)
        vrt_qemu_driver_remove(drv, obj);
    return true;
}

/* ---- start / stop ---- */

static bool
require_state(VrtQemuDom *obj, bool want_active, GError **error)
{
    bool active;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        active = vrt_qemu_dom_is_active_locked(obj);
    }
    if (active == want_active)
        return true;
    if (want_active)
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
    else
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is already running");
    return false;
}

bool
vrt_qemu_domain_create(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;

    bool managed;

    if (!start_flags_supported(flags & ~(VRT_DOMAIN_START_PAUSED | VRT_DOMAIN_START_FORCE_BOOT),
                               "qemuDomainCreateWithFlags", error))
        return false;
    if (!obj || !vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_START, error) || !require_state(obj, false, error))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        managed = obj->managed_save;
    }
    /* A managed save image: the domain goes on from it (qemu_save.c). */
    if (managed)
        return vrt_qemu_save_start_managed(obj, flags, error);
    return vrt_qemu_process_start(obj, flags & VRT_DOMAIN_START_PAUSED, error);
}

VrtDomainRef *
vrt_qemu_domain_create_xml(VrtQemuDriver *drv, const char *xml, guint flags, GError **error)
{
    g_autoptr(VrtDomainDef) def = NULL;
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    bool added = false;
    const guint known = VRT_DOMAIN_START_PAUSED | VRT_DOMAIN_START_VALIDATE | VRT_QEMU_START_INCOMING;

    if (!start_flags_supported(flags & ~known, "qemuDomainCreateXML", error))
        return NULL;
    /* VIR_DOMAIN_START_VALIDATE: libvirt's schema first, as libvirt checks */
    if ((flags & VRT_DOMAIN_START_VALIDATE) &&
        !vrt_xml_validate_string(xml, "(domain_definition)", "domain.rng", error))
        return NULL;
    flags &= ~VRT_DOMAIN_START_VALIDATE;
    if (!(def = vrt_domain_def_parse(xml, 0, error)))
        return NULL;
    if (!(obj = reserve_with_job(drv, &def, VRT_QEMU_JOB_START, &job, &added, error)))
        return NULL;
    if (!added) {
        /* An inactive persistent domain runs this definition once. */
        if (!require_state(obj, false, error))
            return NULL;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            obj->newdef = obj->def;
            obj->def = g_steal_pointer(&def);
        }
    }
    if (!vrt_qemu_process_start(obj, flags, error)) {
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            if (!added && obj->newdef) {
                vrt_domain_def_free(obj->def);
                obj->def = g_steal_pointer(&obj->newdef);
            }
        }
        if (added)
            vrt_qemu_driver_remove(drv, obj);
        return NULL;
    }
    return vrt_qemu_dom_make_ref(obj);
}

bool
vrt_qemu_domain_destroy(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(GError) err = NULL;

    if (!obj || !require_state(obj, true, error))
        return false;
    /* Kill first, without the job, so that a call stuck in QMP does not
     * delay destroy; then clean up under the job. */
    vrt_qemu_fault(drv, "destroy", "kill");
    vrt_qemu_process_destroy_kill(obj);
    if (!vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_STOP, &err)) {
        /* A transient domain the EOF handler already cleaned up is gone. */
        if (vrt_error_code(err) == VIR_ERR_NO_DOMAIN)
            return true;
        g_propagate_error(error, g_steal_pointer(&err));
        return false;
    }
    /* Already cleaned up by an event handler that saw QEMU go: done. */
    vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_DESTROYED, VRT_DOMAIN_EVENT_STOPPED_DESTROYED);
    return true;
}

/* A reference to the monitor of an active domain (job held);
 * VIR_ERR_OPERATION_INVALID when it does not run. */
static VrtQemuMonitor *
active_monitor(VrtQemuDom *obj, GError **error)
{
    g_autoptr(GMutexLocker) locker = NULL;

    if (!require_state(obj, true, error))
        return NULL;
    locker = g_mutex_locker_new(&obj->lock);
    return vrt_qemu_monitor_ref(obj->mon);
}

/* Runs one monitor call on an active domain under a job of kind. */
static bool
monitor_call(VrtQemuDriver *drv, const guchar *uuid, VrtQemuJobKind kind, bool (*fn)(VrtQemuMonitor *, GError **),
             GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = find_with_job(drv, uuid, kind, &job, error);
    g_autoptr(VrtQemuMonitor) mon = NULL;

    if (!obj || !(mon = active_monitor(obj, error)))
        return false;
    return fn(mon, error);
}

/* The agent mode of shutdown and reboot, libvirt's way: asked for, or
 * (no method asked for) whenever the agent is there; falls back to the
 * ACPI button when the agent fails unless the agent alone was asked for.
 * Whether the agent did it (*done), false with the error otherwise. */
static bool
agent_shutdown(VrtQemuDriver *drv, const guchar *uuid, guint flags, bool reboot, bool *done, GError **error)
{
    bool requested = flags & VRT_DOMAIN_SHUTDOWN_GUEST_AGENT;
    bool acpi = flags & VRT_DOMAIN_SHUTDOWN_ACPI_POWER_BTN;
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(GError) local = NULL;

    *done = false;
    if (!obj || !require_state(obj, true, error))
        return false;
    if (!requested && (acpi || !vrt_qemu_agent_check(obj, NULL)))
        return true;
    if (vrt_qemu_agent_shutdown(obj, reboot, &local)) {
        *done = true;
        return true;
    }
    if (requested && !acpi) {
        g_propagate_error(error, g_steal_pointer(&local));
        return false;
    }
    return true;
}

bool
vrt_qemu_domain_shutdown(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    bool done = false;

    if (!agent_shutdown(drv, uuid, flags, false, &done, error))
        return false;
    if (done)
        return true;
    return monitor_call(drv, uuid, VRT_QEMU_JOB_MODIFY, vrt_qemu_monitor_system_powerdown, error);
}

bool
vrt_qemu_domain_reboot(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(GMutexLocker) locker = NULL;
    bool ok;

    {
        bool done = false;

        if (!agent_shutdown(drv, uuid, flags, true, &done, error))
            return false;
        if (done)
            return true;
    }
    obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);
    if (!obj || !(mon = active_monitor(obj, error)))
        return false;
    /* The guest powers off on the ACPI button; its SHUTDOWN then becomes
     * reset + cont instead of the end of QEMU. */
    ok = vrt_qemu_monitor_system_powerdown(mon, error);
    locker = g_mutex_locker_new(&obj->lock);
    obj->fake_reboot = ok;
    /* The reboot goes on (the guest got the button), but a restarted
     * daemon would take it for a poweroff: the caller is told. */
    return ok && vrt_qemu_dom_save_status_locked(obj, error);
}

bool
vrt_qemu_domain_reset(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    return monitor_call(drv, uuid, VRT_QEMU_JOB_MODIFY, vrt_qemu_monitor_system_reset, error);
}

/* Records a suspend's or resume's state change (object lock held): whether the
 * state changed; false in *ok when the status file could not record it. */
static bool
suspend_resume_state_locked(VrtQemuDom *obj, bool suspend, bool *ok, GError **error)
{
    bool changed = false;

    if (*ok && suspend && obj->state != VRT_DOMAIN_PAUSED) {
        vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_PAUSED, VRT_DOMAIN_PAUSED_USER);
        changed = true;
    } else if (*ok && !suspend && obj->state != VRT_DOMAIN_RUNNING) {
        vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_RUNNING, VRT_DOMAIN_RUNNING_UNPAUSED);
        changed = true;
    }
    /* The change happened (and its event follows), but the status file
     * still has the old state: as libvirt, the call reports the failure. */
    if (changed && !vrt_qemu_dom_save_status_locked(obj, error))
        *ok = false;
    return changed;
}

static bool
suspend_resume(VrtQemuDriver *drv, const guchar *uuid, bool suspend, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = find_with_job(drv, uuid, VRT_QEMU_JOB_SUSPEND, &job, error);
    g_autoptr(VrtQemuMonitor) mon = NULL;
    bool ok, changed;

    if (!obj || !(mon = active_monitor(obj, error)))
        return false;
    ok = suspend ? vrt_qemu_monitor_stop(mon, error) : vrt_qemu_monitor_cont(mon, error);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        changed = suspend_resume_state_locked(obj, suspend, &ok, error);
    }
    vrt_qemu_job_end(&job); /* the event follows the job */
    if (changed)
        vrt_qemu_dom_emit(obj, suspend ? VRT_DOMAIN_EVENT_SUSPENDED : VRT_DOMAIN_EVENT_RESUMED,
                          suspend ? VRT_DOMAIN_EVENT_SUSPENDED_PAUSED : VRT_DOMAIN_EVENT_RESUMED_UNPAUSED);
    return ok;
}

bool
vrt_qemu_domain_suspend(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    return suspend_resume(drv, uuid, true, error);
}

bool
vrt_qemu_domain_resume(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    return suspend_resume(drv, uuid, false, error);
}

/* ---- the QEMU program: monitor and agent commands ---- */

/* Marks obj tainted by a user's monitor command; logs it the first time
 * on this QEMU, as libvirt does. */
static void
taint_custom_monitor(VrtQemuDom *obj)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    char uuid[VRT_UUID_STRING_LEN];

    if (obj->taint_custom_monitor)
        return;
    obj->taint_custom_monitor = true;
    vrt_uuid_format(obj->def->uuid, uuid);
    g_warning("Domain id=%d name='%s' uuid=%s is tainted: custom-monitor", obj->def->id, obj->def->name, uuid);
}

char *
vrt_qemu_domain_monitor_command(VrtQemuDriver *drv, const guchar *uuid, const char *cmd, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;

    if (flags & ~VRT_DOMAIN_QEMU_MONITOR_COMMAND_HMP) {
        vrt_error_set_flags(error, flags & ~VRT_DOMAIN_QEMU_MONITOR_COMMAND_HMP,
                            "qemuDomainQemuMonitorCommandWithFiles");
        return NULL;
    }
    obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);
    if (!obj || !(mon = active_monitor(obj, error)))
        return NULL;
    taint_custom_monitor(obj);
    if (flags & VRT_DOMAIN_QEMU_MONITOR_COMMAND_HMP)
        return vrt_qemu_monitor_human(mon, cmd, error);
    return vrt_qemu_monitor_arbitrary(mon, cmd, error);
}

/* ---- autostart ---- */

bool
vrt_qemu_domain_set_autostart(VrtQemuDriver *drv, const guchar *uuid, int autostart, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);
    g_autofree char *link = NULL;
    g_autofree char *target = NULL;

    if (!obj || !persistent_paths(drv, obj, "cannot set autostart for transient domain", &target, &link, error))
        return false;
    if (autostart && !g_file_test(link, G_FILE_TEST_IS_SYMLINK)) {
        if (symlink(target, link) < 0) {
            vrt_error_set_errno(error, VIR_ERR_OPERATION_FAILED, errno, "cannot create autostart link '%s'", link);
            return false;
        }
    } else if (!autostart && unlink(link) < 0 && errno != ENOENT) {
        vrt_error_set_errno(error, VIR_ERR_OPERATION_FAILED, errno, "cannot remove autostart link '%s'", link);
        return false;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        obj->autostart = autostart != 0;
    }
    return true;
}

/* ---- memory and vcpus ---- */

/* The persistent definition to edit (object lock held): newdef while active. */
static VrtDomainDef *
config_def_locked(VrtQemuDom *obj)
{
    return obj->newdef ? obj->newdef : obj->def;
}

/* The balloon's monitor for a live memory change to kib (job held, takes
 * the object lock); NULL with the reason. */
static VrtQemuMonitor *
balloon_monitor(VrtQemuDom *obj, guint64 kib, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    bool balloon = obj->def->memballoon && g_strcmp0(obj->def->memballoon->model, "none") != 0;

    if (kib > obj->def->memory_kib) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "cannot set memory higher than max memory");
        return NULL;
    }
    if (!balloon) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                      "Unable to change memory of active domain without the balloon device");
        return NULL;
    }
    return vrt_qemu_monitor_ref(obj->mon);
}

/* The live half of set_memory (job held): the balloon, then the status. */
static bool
set_memory_live(VrtQemuDom *obj, guint64 kib, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = balloon_monitor(obj, kib, error);
    g_autoptr(GMutexLocker) locker = NULL;

    /* QMP without the object lock. */
    if (!mon || !vrt_qemu_monitor_balloon(mon, kib, error))
        return false;
    locker = g_mutex_locker_new(&obj->lock);
    obj->def->current_memory_kib = kib;
    return vrt_qemu_dom_save_status_locked(obj, error);
}

/* The persistent half of set_memory (job held, object lock NOT held). */
static bool
set_memory_config(VrtQemuDom *obj, guint64 kib, bool maximum, GError **error)
{
    g_autoptr(VrtDomainDef) copy = vrt_qemu_dom_config_copy(obj, error);

    if (!copy)
        return false;
    if (maximum) {
        copy->memory_kib = kib;
        if (copy->current_memory_kib > kib)
            copy->current_memory_kib = kib;
    } else {
        if (kib > copy->memory_kib) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "cannot set memory higher than max memory");
            return false;
        }
        copy->current_memory_kib = kib;
    }
    return vrt_qemu_dom_config_install(obj, g_steal_pointer(&copy), error);
}

bool
vrt_qemu_domain_set_memory(VrtQemuDriver *drv, const guchar *uuid, guint64 kib, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);
    bool live, config;
    bool maximum = flags & VRT_DOMAIN_MEM_MAXIMUM;

    if (!obj || !vrt_qemu_dom_affect_flags(obj, flags & ~VRT_DOMAIN_MEM_MAXIMUM, &live, &config, error))
        return false;
    if (live && maximum) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "cannot resize the maximum memory on an active domain");
        return false;
    }
    if (live && !set_memory_live(obj, kib, error))
        return false;
    return !config || set_memory_config(obj, kib, maximum, error);
}

bool
vrt_qemu_domain_set_vcpus(VrtQemuDriver *drv, const guchar *uuid, guint n, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);
    g_autoptr(VrtDomainDef) copy = NULL;
    const VrtQemuCapsInfo *caps;
    bool live, config;
    bool maximum = flags & VRT_DOMAIN_VCPU_MAXIMUM;
    guint live_max;

    if (!obj || !vrt_qemu_dom_affect_flags(obj, flags & ~VRT_DOMAIN_VCPU_MAXIMUM, &live, &config, error))
        return false;
    if (live && maximum) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "maximum vcpu count of a live domain can't be modified");
        return false;
    }
    if (n == 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "requested vcpus must be greater than 0");
        return false;
    }
    caps = vrt_qemu_driver_get_caps(drv, NULL);
    if (maximum && caps && n > caps->max_vcpus) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG,
                      "requested vcpus is greater than max allowable vcpus for the connection: %u > %u", n,
                      caps->max_vcpus);
        return false;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        live_max = obj->def->vcpus;
    }
    if (live && n > live_max) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG,
                      "requested vcpus is greater than max allowable vcpus for the live domain: %u > %u", n, live_max);
        return false;
    }
    if (config) {
        copy = vrt_qemu_dom_config_copy(obj, error);
        if (!copy)
            return false;
        if (!maximum && n > copy->vcpus) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG,
                          "requested vcpus is greater than max allowable vcpus for the persistent domain: %u > %u", n,
                          copy->vcpus);
            return false;
        }
    }
    if (live && !vrt_qemu_dom_set_vcpus_live(obj, n, error))
        return false;
    if (!config)
        return true;
    if (maximum) {
        copy->vcpus = n;
        if (copy->current_vcpus > n)
            copy->current_vcpus = n;
    } else {
        copy->current_vcpus = n;
    }
    return vrt_qemu_dom_config_install(obj, g_steal_pointer(&copy), error);
}

int
vrt_qemu_domain_get_vcpus_flags(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    bool live, config;
    const VrtDomainDef *def;
    int n;

    if (!obj || !vrt_qemu_dom_affect_flags(obj, flags & ~VRT_DOMAIN_VCPU_MAXIMUM, &live, &config, error))
        return -1;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        def = config ? config_def_locked(obj) : obj->def;
        n = (flags & VRT_DOMAIN_VCPU_MAXIMUM) || !def->current_vcpus ? (int)def->vcpus : (int)def->current_vcpus;
    }
    return n;
}

GArray *
vrt_qemu_domain_get_vcpus(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(GArray) cpus = NULL;
    GArray *out;
    pid_t pid;

    if (!obj || !require_state(obj, true, error))
        return NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        mon = obj->mon ? vrt_qemu_monitor_ref(obj->mon) : NULL;
        pid = obj->pid;
    }
    if (!mon) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    /* A query: no job, the monitor takes concurrent commands. */
    cpus = vrt_qemu_monitor_query_cpus(mon, error);
    if (!cpus)
        return NULL;
    out = g_array_new(FALSE, TRUE, sizeof(VrtVcpuInfo));
    for (guint i = 0; i < cpus->len; i++) {
        VrtQemuCpuInfo *ci = &g_array_index(cpus, VrtQemuCpuInfo, i);
        g_autofree char *path = g_strdup_printf("/proc/%d/task/%" G_GINT64_FORMAT "/stat", (int)pid, ci->thread_id);
        VrtVcpuInfo vi = { .number = ci->cpu_index, .state = 1 };

        vi.cpu_time_ns = vrt_qemu_proc_cpu_time(path, &vi.cpu);
        g_array_append_val(out, vi);
    }
    return out;
}

/* ---- devices ---- */

static bool
device_call(VrtQemuDriver *drv, const guchar *uuid, const char *xml, const char *alias, guint flags, int op,
            GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = find_with_job(drv, uuid, VRT_QEMU_JOB_MODIFY, &job, error);

    if (!obj)
        return false;
    switch (op) {
    case 0: return vrt_qemu_hotplug_attach(obj, xml, flags, error);
    case 1: return vrt_qemu_hotplug_detach(obj, xml, alias, flags, error);
    case 2: return vrt_qemu_hotplug_update(obj, xml, flags, error);
    }
    return false;
}

bool
vrt_qemu_domain_attach_device(VrtQemuDriver *drv, const guchar *uuid, const char *xml, guint flags, GError **error)
{
    return device_call(drv, uuid, xml, NULL, flags, 0, error);
}

bool
vrt_qemu_domain_detach_device(VrtQemuDriver *drv, const guchar *uuid, const char *xml, guint flags, GError **error)
{
    return device_call(drv, uuid, xml, NULL, flags, 1, error);
}

bool
vrt_qemu_domain_detach_device_alias(VrtQemuDriver *drv, const guchar *uuid, const char *alias, guint flags,
                                    GError **error)
{
    return device_call(drv, uuid, NULL, alias, flags, 1, error);
}

bool
vrt_qemu_domain_update_device(VrtQemuDriver *drv, const guchar *uuid, const char *xml, guint flags, GError **error)
{
    return device_call(drv, uuid, xml, NULL, flags, 2, error);
}
