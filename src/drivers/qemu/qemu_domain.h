/*
 * Inside the QEMU driver (not for other areas): the domain object, its
 * state machine and job, the driver struct, status files, and the process
 * and event functions shared by qemu_driver.c, qemu_process.c and
 * qemu_hotplug.c.
 *
 * Locks (docs/architecture.md has the daemon's whole table): job < driver
 * lock (drv->lock) < object lock (obj->lock). The object lock is held only
 * for short field updates, never across a QMP call or a wait; a job
 * (g_auto(VrtQemuJob), vrt_qemu_job_begin) is what serializes modifying
 * calls on one domain and is held across QMP calls. A function named
 * *_locked needs the object lock held (or the driver lock, where its
 * comment says so).
 */
#pragma once

#include "conf/domain/domain_conf.h"
#include "drivers/qemu/qemu_capabilities.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_hostdev.h"
#include "drivers/qemu/qemu_monitor.h"
#include "drivers/qemu/qemu_security.h"
#include "host/cgroup.h"
#include "util/statesync.h"

#include <sys/types.h>

typedef enum {
    VRT_QEMU_JOB_NONE = 0,
    VRT_QEMU_JOB_MODIFY, /* define, config changes, hotplug, ... */
    VRT_QEMU_JOB_START,
    VRT_QEMU_JOB_STOP, /* destroy or stop after an event */
    VRT_QEMU_JOB_SUSPEND, /* suspend, resume (own the STOP/RESUME events) */
    VRT_QEMU_JOB_EVENT, /* handling a QEMU event */
    VRT_QEMU_JOB_MIGRATION_OUT, /* a restarted source asks its destination where the guest runs
                                 * (qemu_migration_settle.c): other jobs are refused at once, but a
                                 * destroy's stop, which the worker yields to */
} VrtQemuJobKind;

typedef struct _VrtQemuDom VrtQemuDom;

struct _VrtQemuDom {
    gint refs;
    GMutex lock;
    GCond cond; /* job changes, unplug acknowledgements */
    VrtQemuDriver *drv; /* not owned */

    /* Guarded by lock; changed only by the job holder. */
    VrtDomainDef *def; /* live definition when active, else the persistent one */
    VrtDomainDef *newdef; /* persistent definition while active (NULL if transient) */
    bool persistent;
    bool autostart;
    bool updated; /* config changed while running */
    bool removed; /* no longer in the driver's tables */
    int state;
    int reason;
    pid_t pid; /* 0 when inactive */
    guint64 starttime; /* of pid, in clock ticks since boot (/proc/PID/stat): tells a recycled pid */
    bool starting; /* the start is not finished: a restarted daemon ends this QEMU */
    char *monitor_path;
    VrtQemuMonitor *mon;
    bool stop_requested; /* destroy/shutdown asked: EOF is not a crash */
    bool destroying; /* destroy asked, in the status file before QEMU is signalled: a
                                 * restarted daemon finishes it and the domain reads destroyed */
    bool guest_shutdown; /* SHUTDOWN seen */
    bool fake_reboot; /* reboot asked: SHUTDOWN becomes reset + cont */
    bool taint_custom_monitor; /* a user's monitor command ran on this QEMU (libvirt's "custom-monitor") */
    bool taint_custom_ga; /* a user's agent command ran in this run (libvirt's "custom-ga-command") */
    GHashTable *unplug_pending; /* alias -> NULL: an unplug pending in a status file of older vrt */
    GHashTable *unplug_done; /* alias -> NULL: DEVICE_DELETED seen, not yet processed */
    VrtQemuHostdevState *hostdevs; /* the hostdev job's records (qemu_hostdev.h), saved in the status */
    struct _VrtQemuRestore *restore; /* set by a restore for the start it runs (qemu_save.c), under the job */
    bool managed_save; /* a managed save image exists (qemu_save.c) */
    GPtrArray *snapshots; /* VrtSnapshotDef* (conf/domain/snapshot_conf.h), qemu_snapshot.c; NULL: none loaded */

    VrtQemuJobKind job;
    GThread *job_owner;

    /* Events from the monitor, processed in order by one pool thread. */
    GQueue events;
    bool events_scheduled;
};

struct _VrtQemuDriver {
    GMutex lock;
    GHashTable *by_uuid; /* 16-byte uuid -> VrtQemuDom* (ref) */
    GHashTable *by_name; /* name -> VrtQemuDom* (no ref) */
    int next_id;
    char *root;
    char *emulator;
    char *config_dir; /* <root>/etc/vrt/qemu */
    char *autostart_dir;
    char *state_dir; /* <root>/run/vrt/qemu */
    char *log_dir; /* <root>/var/log/vrt/qemu */
    char *lib_dir; /* <root>/var/lib/vrt/qemu: QEMU's HOME */
    char *dev_kvm;
    VrtQemuDriverConfig cfg;
    VrtQemuCaps *caps;
    VrtQemuEventThread *evthread;
    GThreadPool *event_pool;
    char *hostdev_die_at; /* VRT_FAULT_DIE_AT ("job:step"), read once at creation */
    char *fault_stop_at; /* VRT_FAULT_STOP_AT ("job:step"): vrtd stops itself (SIGSTOP) there */
    VrtStateSync *config_sync; /* flushes of the definitions under config_dir */
    VrtCgroups *cgroups; /* the domains' cgroups (qemu_cgroup.h); NULL without a host */
    VrtQemuSecConf sec; /* <root>/etc/vrt/qemu.conf: QEMU's user, labels, sandbox (qemu_security.h) */
    struct _VrtQemuSettler *settler; /* workers settling restarted migration sources (qemu_migration_settle.h) */
    char *aa_dir; /* <root>/etc/apparmor.d/libvirt: the domains' AppArmor profiles (qemu_apparmor.h) */
    /* The domains' migration jobs (qemu_migration.c): "DRV:UUID" -> MigJob*, under mig_lock. */
    GMutex mig_lock;
    GHashTable *mig_jobs;
    GCond mig_cond; /* signalled when a prepare's watchdog ends */
    guint prepare_watches; /* the prepares' watchdog threads running, under mig_lock */
    bool mig_closing; /* the driver is being freed: the watchdogs stop, under mig_lock */
    /* The last completed job's statistics of each domain (qemu_jobinfo.c):
     * 16-byte UUID -> GPtrArray of VrtTypedParam*, under completed_lock. */
    GMutex completed_lock;
    GHashTable *completed;
    /* The host UUID migrations compare when neither the configuration nor
     * the host gives one (vrt_qemu_migration_host_uuid): made at random
     * with the driver. */
    guchar random_host_uuid[16];
};

/* ---- objects (qemu_domain.c) ---- */
VrtQemuDom *vrt_qemu_dom_new(VrtQemuDriver *drv, VrtDomainDef *def);
VrtQemuDom *vrt_qemu_dom_ref(VrtQemuDom *obj);
void vrt_qemu_dom_unref(VrtQemuDom *obj);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtQemuDom, vrt_qemu_dom_unref)

/* A function named *_locked is called with the object lock (obj->lock) held;
 * the others take it themselves when they need it. */
bool vrt_qemu_dom_is_active_locked(VrtQemuDom *obj);
VrtDomainRef *vrt_qemu_dom_make_ref_locked(VrtQemuDom *obj);
/* The same, taking the object lock. */
VrtDomainRef *vrt_qemu_dom_make_ref(VrtQemuDom *obj);

/* Changes state and reason and logs old -> new. Object lock held. */
void vrt_qemu_dom_set_state_locked(VrtQemuDom *obj, int state, int reason);
const char *vrt_qemu_state_to_string(int state);
const char *vrt_qemu_state_reason_to_string(int state, int reason);
int vrt_qemu_state_reason_from_string(int state, const char *str);
int vrt_qemu_state_from_string(const char *str);

/* A domain's job as its holder sees it: a scoped guard.
 *
 *     g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
 *
 *     if (!vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_MODIFY, error))
 *         return false;
 *
 * ends the job on every return, after the variables declared below it are
 * cleaned up. job.obj holds a reference to the domain while the job is
 * held, so the domain outlives its job whatever the caller releases first. */
typedef struct {
    VrtQemuDom *obj; /* a reference while the job is held, else NULL */
} VrtQemuJob;
#define VRT_QEMU_JOB_INIT \
    {                     \
        NULL              \
    }
/* Waits (bounded) for the domain's job and takes it into *job (which must
 * not hold one). Object lock NOT held. */
bool vrt_qemu_job_begin(VrtQemuJob *job, VrtQemuDom *obj, VrtQemuJobKind kind, GError **error);
/* Ends the job now (wakes the next waiter) and drops the reference; a
 * no-op when *job holds none, so the guard's own end after it is too.
 * Called early only where something must run after the job ends (an
 * event emitted in the order of the jobs, a second job). Object lock NOT held. */
void vrt_qemu_job_end(VrtQemuJob *job);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VrtQemuJob, vrt_qemu_job_end)

/* Emits a lifecycle event (lock NOT held). */
void vrt_qemu_dom_emit(VrtQemuDom *obj, int event, int detail);
/* The live half of virDomainSetVcpusFlags (called under the domain's
 * job, object lock not held): hot-adds vCPUs (query-hotpluggable-cpus,
 * device_add of the free slots, lowest first, ids "vcpuN") or removes the
 * hot-added ones (device_del, highest first, waiting for the guest),
 * then records the count in the live definition and the status file. */
bool vrt_qemu_dom_set_vcpus_live(VrtQemuDom *obj, guint n, GError **error);

/* qemu_events.c: raises the domain event a QMP event stands for (name,
 * data); false when name is none of them. On the domain's event thread. */
bool vrt_qemu_events_handle(VrtQemuDom *obj, const char *name, JsonObject *data);

/* ---- driver tables (qemu_driver.c) ---- */
/* Finds a domain by uuid and returns a reference; VIR_ERR_NO_DOMAIN. */
VrtQemuDom *vrt_qemu_driver_find(VrtQemuDriver *drv, const guchar *uuid, GError **error);
void vrt_qemu_driver_add(VrtQemuDriver *drv, VrtQemuDom *obj);
/* The domain *def names (the existing one, or a new transient one taking
 * *def: *added) with a job of kind begun in *job; a restore's way in. */
VrtQemuDom *vrt_qemu_driver_reserve(VrtQemuDriver *drv, VrtDomainDef **def, VrtQemuJobKind kind, VrtQemuJob *job,
                                    bool *added, GError **error);
void vrt_qemu_driver_remove(VrtQemuDriver *drv, VrtQemuDom *obj);

/* ---- files (qemu_domain.c) ---- */
char *vrt_qemu_config_path(VrtQemuDriver *drv, const char *name);
char *vrt_qemu_autostart_path(VrtQemuDriver *drv, const char *name);
char *vrt_qemu_status_path(VrtQemuDriver *drv, const char *name);
bool vrt_qemu_dom_save_config(VrtQemuDom *obj, const VrtDomainDef *def, GError **error);
/* A copy of the persistent definition (newdef while active) to edit.
 * Job held, lock NOT held. */
VrtDomainDef *vrt_qemu_dom_config_copy(VrtQemuDom *obj, GError **error);
/* Saves an edited copy of the persistent definition and installs it (as
 * newdef, marking the domain updated, while active). Takes def, also on
 * failure. Job held on a persistent domain, lock NOT held. */
bool vrt_qemu_dom_config_install(VrtQemuDom *obj, VrtDomainDef *def, GError **error);
/* Writes the status file (live XML + pid + monitor + state). Object lock held.
 * A failure is also logged with the domain's name: callers that cannot
 * undo their change pass the error on or at least know it is logged. */
bool vrt_qemu_dom_save_status_locked(VrtQemuDom *obj, GError **error);
/* The start's intent record: the status file of def (the definition being
 * started) marked starting, with the pid and start time of its QEMU, written
 * before that QEMU may exec. A daemon that finds it at start-up kills that
 * QEMU and leaves the domain shut off (failed). Object lock held. */
bool vrt_qemu_dom_save_start_status_locked(VrtQemuDom *obj, const VrtDomainDef *def, pid_t pid, guint64 starttime,
                                           const char *monitor_path, GError **error);
/* Reads a status file: the live def, pid, monitor path, state, reason and
 * the aliases whose unplug is pending. */
typedef struct {
    VrtDomainDef *def;
    pid_t pid;
    guint64 starttime; /* 0 when not recorded */
    bool starting; /* the start never finished */
    bool destroying; /* a destroy was under way */
    char *monitor_path;
    int state;
    int reason;
    bool fake_reboot;
    GPtrArray *unplug_pending; /* char* */
    VrtQemuHostdevState *hostdevs; /* <hostdev-records> */
} VrtQemuStatus;
VrtQemuStatus *vrt_qemu_status_read(const char *path, GError **error);
/* The same from the file's text; path names it in errors. */
VrtQemuStatus *vrt_qemu_status_parse(const char *text, const char *path, GError **error);
/* The text of a status file (what vrt_qemu_status_parse reads back).
 * Fails only when st->def does not format. */
char *vrt_qemu_status_format(const VrtQemuStatus *st, GError **error);
void vrt_qemu_status_free(VrtQemuStatus *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtQemuStatus, vrt_qemu_status_free)

/* ---- processes (qemu_process.c); job held, lock NOT held ---- */
bool vrt_qemu_process_start(VrtQemuDom *obj, guint flags, GError **error);
/* Ends QEMU (SIGTERM, then SIGKILL after a bound), cleans up the live
 * state and moves the domain to shut off with reason. Transient domains
 * leave the driver. Emits STOPPED with detail. */
void vrt_qemu_process_stop(VrtQemuDom *obj, int reason, int event_detail);
/* Sends SIGTERM/SIGKILL without the job so destroy is prompt. */
void vrt_qemu_process_kill(VrtQemuDom *obj);
/* Reattaches to a running QEMU from a status file (job held). */
bool vrt_qemu_process_reconnect(VrtQemuDom *obj, VrtQemuStatus *st);
/* A <disk type='volume'>: src and format from its storage pool, as at start. */
bool vrt_qemu_process_resolve_volume(VrtQemuDriver *drv, VrtDomainDiskDef *disk, GError **error);
/* A start the previous daemon did not finish (st->starting): kills its
 * QEMU if that pid is still the one recorded (job held). */
void vrt_qemu_process_abort_start(VrtQemuDom *obj, VrtQemuStatus *st);
/* Destroy's first step, without the job: records the intent in the status
 * file, then ends QEMU as vrt_qemu_process_kill does. */
void vrt_qemu_process_destroy_kill(VrtQemuDom *obj);
/* The shut-off reason (and STOPPED event detail) of a domain whose QEMU a
 * restarted daemon did not reconnect to: destroyed when a destroy was
 * recorded, failed for an unfinished start, else crashed. */
int vrt_qemu_process_dead_reason(const VrtQemuStatus *st, int *event_detail);
/* For a disk hot-plugged into obj's running QEMU: its LUKS passphrase
 * and network <auth> secret written into the domain's run directory for
 * QEMU's user, as a start writes them, keyed as the command line's disk
 * secrets (vrt_qemu_command_disk_props); each file goes with the table.
 * Errors: the secret driver's, or the file's. */
GHashTable *vrt_qemu_process_disk_secrets(VrtQemuDom *obj, const VrtDomainDiskDef *disk, GError **error);
/* Removes a monitor socket and, in the per-domain run directory layout
 * (STATE_DIR/domain-ID-SHORTNAME/monitor.sock), its directory. */
void vrt_qemu_process_remove_monitor(VrtQemuDriver *drv, const char *monitor_path);
/* Driver load, after reconnecting: removes the run directories no domain
 * runs from (left by a daemon killed between binding a monitor socket and
 * recording the start). */
void vrt_qemu_process_sweep_run_dirs(VrtQemuDriver *drv);
/* VRT_FAULT_DIE_AT: ends vrtd right before step of job when asked to;
 * VRT_FAULT_STOP_AT: stops it there (SIGSTOP: a daemon that hangs, its
 * connections open) until a SIGCONT. */
void vrt_qemu_fault(VrtQemuDriver *drv, const char *job, const char *step);

/* ---- events (qemu_process.c) ---- */
void vrt_qemu_event_pool_run(gpointer data, gpointer user_data);
void vrt_qemu_event_free(gpointer event);
/* The monitor callbacks (opaque: a VrtQemuDom reference owned by the monitor
 * owner, i.e. obj->mon lives no longer than obj). */
extern const VrtQemuMonitorCallbacks vrt_qemu_monitor_callbacks;

/* ---- hotplug (qemu_hotplug.c); job held ---- */
bool vrt_qemu_hotplug_attach(VrtQemuDom *obj, const char *xml, guint flags, GError **error);
bool vrt_qemu_hotplug_detach(VrtQemuDom *obj, const char *xml, const char *alias, guint flags, GError **error);
/* The live attach of dev (a hostdev-backed device, taken on success)
 * through the hostdev job, with its DEVICE_ADDED event: the migration's
 * re-plug, whose interface may carry the network port claimed for it
 * (net->port_uuid_set). */
bool vrt_qemu_hotplug_attach_hostdev(VrtQemuDom *obj, VrtDomainDeviceDef *dev, GError **error);
bool vrt_qemu_hotplug_update(VrtQemuDom *obj, const char *xml, guint flags, GError **error);
/* Completes the removal of a device QEMU reported deleted (job held). */
void vrt_qemu_hotplug_device_deleted(VrtQemuDom *obj, const char *alias);

/* ---- disk hotplug (qemu_hotplug_disk.c); job held, object lock free ---- */
/* Live attach of dev (a <disk>): address and alias, block nodes, device;
 * everything undone on failure, the live definition unchanged. */
bool vrt_qemu_hotplug_disk_attach(VrtQemuDom *obj, VrtDomainDeviceDef *dev, GError **error);
/* device_del of the disk alias and the unplug wait; without QEMU's answer
 * the disk stays (pending, in the status file) until DEVICE_DELETED. */
bool vrt_qemu_hotplug_disk_detach(VrtQemuDom *obj, const char *alias, GError **error);
/* After DEVICE_DELETED: the block nodes of disk (taken out of the live
 * definition by the caller) are deleted. */
/* libvirt's media change of the cdrom newdisk->target_dev (update-device). */
bool vrt_qemu_hotplug_disk_change_media(VrtQemuDom *obj, VrtDomainDiskDef *newdisk, GError **error);
void vrt_qemu_hotplug_disk_removed(VrtQemuDom *obj, VrtQemuMonitor *mon, const VrtDomainDiskDef *disk);
/* The confinement hook (qemu_disk_label.c): grant true before the disk's
 * blockdev-add, false after its blockdev-del (or a failed attach). */
bool vrt_qemu_disk_label(VrtQemuDom *obj, const VrtDomainDiskDef *disk, bool grant, GError **error);

/* ---- AppArmor (qemu_apparmor_dom.c) ---- */
/* Decides, once at the driver's creation, whether AppArmor confines QEMU
 * (qemu.conf's security_driver, the host). Errors as libvirtd's: a driver
 * asked for that the host has not, "Security driver NAME not enabled"
 * (VIR_ERR_CONFIG_UNSUPPORTED); an unknown one, "... not found". */
bool vrt_qemu_apparmor_resolve(VrtQemuDriver *drv, GError **error);
/* Before QEMU's spawn: the domain's profile written and loaded, QEMU set
 * to enter it at exec, def (the live definition) given libvirt's
 * apparmor <seclabel>. A no-op where AppArmor does not confine QEMU. */
bool vrt_qemu_apparmor_dom_start(VrtQemuDriver *drv, VrtDomainDef *def, const char *run_dir, VrtQemuConfine *confine,
                                 GError **error);
/* A stop, a failed start, a QEMU found gone: the profile unloaded and
 * removed. */
void vrt_qemu_apparmor_dom_stop(VrtQemuDriver *drv, const VrtDomainDef *def);
/* At hotplug and unplug: the running domain's file list made again from
 * its live definition, with added (a file being hot-plugged: an image, or
 * a group node /dev/vfio/N; NULL) and without the disk of image
 * removed_disk or the host device removed_pci (being unplugged; NULL),
 * and the profile reloaded. */
bool vrt_qemu_apparmor_dom_update(VrtQemuDom *obj, const char *added, const char *removed_disk,
                                  const VrtPciAddr *removed_pci, GError **error);

/* Splits AFFECT_CURRENT into LIVE or CONFIG and checks the combination
 * (lock NOT held). */
bool vrt_qemu_dom_affect_flags(VrtQemuDom *obj, guint flags, bool *live, bool *config, GError **error);

/* CPU time in ns of a process or thread from its /proc stat file (utime +
 * stime); *cpu receives the processor it last ran on when non-NULL; 0 when
 * the file cannot be read. */
guint64 vrt_qemu_proc_cpu_time(const char *statpath, int *cpu);
/* User and system time in ns and resident set in KiB of a process from its
 * stat file; false when it cannot be read. */
bool vrt_qemu_proc_stat(const char *statpath, guint64 *user_ns, guint64 *sys_ns, guint64 *rss_kib);
