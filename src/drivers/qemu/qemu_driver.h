/*
 * The QEMU domain driver: libvirt's domain API over domain objects, each
 * backed by a QEMU process when active. Definitions live in
 * <root>/etc/vrt/qemu, live status in <root>/run/vrt/qemu, QEMU's output in
 * <root>/var/log/vrt/qemu. Freeing the driver leaves running VMs running;
 * the next driver reconnects to them in vrt_qemu_driver_load().
 *
 * Threading: every function may be called from any worker thread.
 * Modifying calls on one domain are serialized by a per-domain job; calls on
 * other domains and read-only calls proceed meanwhile. Callbacks in the
 * config are called from driver threads (never with a driver lock held) and
 * must not block for long.
 *
 * Numbers (states, reasons, events, flags) are libvirt's public values.
 */
#pragma once

#include "conf/domain/capabilities.h"
#include "drivers/qemu/qemu_capabilities.h"
#include "drivers/qemu/qemu_events.h"
#include "drivers/network/network_driver.h"
#include "drivers/vf_registry.h"
#include "host/host.h"
#include "protocol/vrt_domain_state.h"

#include <glib.h>
#include <stdbool.h>

/* Reasons (virDomainRunningReason, ...) used by vrt. */
enum {
    VRT_DOMAIN_RUNNING_UNKNOWN = 0,
    VRT_DOMAIN_RUNNING_BOOTED = 1,
    VRT_DOMAIN_RUNNING_RESTORED = 3,
    VRT_DOMAIN_RUNNING_MIGRATED = 2,
    VRT_DOMAIN_RUNNING_UNPAUSED = 5,
    VRT_DOMAIN_RUNNING_MIGRATION_CANCELED = 6,
    VRT_DOMAIN_PAUSED_MIGRATION = 2,
    VRT_DOMAIN_PAUSED_UNKNOWN = 0,
    VRT_DOMAIN_PAUSED_USER = 1,
    VRT_DOMAIN_PAUSED_IOERROR = 5,
    VRT_DOMAIN_PAUSED_WATCHDOG = 6,
    VRT_DOMAIN_PAUSED_SHUTTING_DOWN = 8,
    VRT_DOMAIN_PAUSED_CRASHED = 10,
    VRT_DOMAIN_PAUSED_STARTING_UP = 11,
    VRT_DOMAIN_SHUTDOWN_UNKNOWN = 0,
    VRT_DOMAIN_SHUTDOWN_USER = 1,
    VRT_DOMAIN_SHUTOFF_UNKNOWN = 0,
    VRT_DOMAIN_SHUTOFF_SHUTDOWN = 1,
    VRT_DOMAIN_SHUTOFF_DESTROYED = 2,
    VRT_DOMAIN_SHUTOFF_CRASHED = 3,
    VRT_DOMAIN_SHUTOFF_MIGRATED = 4,
    VRT_DOMAIN_SHUTOFF_FAILED = 6,
    VRT_DOMAIN_SHUTOFF_DAEMON = 8,
    VRT_DOMAIN_CRASHED_UNKNOWN = 0,
    VRT_DOMAIN_CRASHED_PANICKED = 1,
};

/* virDomainEventType and the details vrt emits. */
enum {
    VRT_DOMAIN_EVENT_DEFINED = 0,
    VRT_DOMAIN_EVENT_UNDEFINED = 1,
    VRT_DOMAIN_EVENT_STARTED = 2,
    VRT_DOMAIN_EVENT_SUSPENDED = 3,
    VRT_DOMAIN_EVENT_RESUMED = 4,
    VRT_DOMAIN_EVENT_STOPPED = 5,
    VRT_DOMAIN_EVENT_SHUTDOWN = 6,
    VRT_DOMAIN_EVENT_PMSUSPENDED = 7,
    VRT_DOMAIN_EVENT_CRASHED = 8,
};
enum {
    VRT_DOMAIN_EVENT_DEFINED_ADDED = 0,
    VRT_DOMAIN_EVENT_DEFINED_UPDATED = 1,
    VRT_DOMAIN_EVENT_UNDEFINED_REMOVED = 0,
    VRT_DOMAIN_EVENT_STARTED_BOOTED = 0,
    VRT_DOMAIN_EVENT_STARTED_RESTORED = 2,
    VRT_DOMAIN_EVENT_SUSPENDED_RESTORED = 4,
    VRT_DOMAIN_EVENT_STARTED_MIGRATED = 1,
    VRT_DOMAIN_EVENT_SUSPENDED_MIGRATED = 1,
    VRT_DOMAIN_EVENT_RESUMED_MIGRATED = 1,
    VRT_DOMAIN_EVENT_STOPPED_MIGRATED = 3,
    VRT_DOMAIN_EVENT_SUSPENDED_PAUSED = 0,
    VRT_DOMAIN_EVENT_SUSPENDED_IOERROR = 2,
    VRT_DOMAIN_EVENT_SUSPENDED_WATCHDOG = 3,
    VRT_DOMAIN_EVENT_RESUMED_UNPAUSED = 0,
    VRT_DOMAIN_EVENT_STOPPED_SHUTDOWN = 0,
    VRT_DOMAIN_EVENT_STOPPED_DESTROYED = 1,
    VRT_DOMAIN_EVENT_STOPPED_CRASHED = 2,
    VRT_DOMAIN_EVENT_STOPPED_FAILED = 5,
    VRT_DOMAIN_EVENT_SHUTDOWN_FINISHED = 0,
    VRT_DOMAIN_EVENT_SHUTDOWN_GUEST = 1,
    VRT_DOMAIN_EVENT_SHUTDOWN_HOST = 2,
    VRT_DOMAIN_EVENT_CRASHED_PANICKED = 0,
};

/* Flags (libvirt's values). */
#define VRT_DOMAIN_START_PAUSED 1u
#define VRT_DOMAIN_START_FORCE_BOOT 8u
#define VRT_DOMAIN_START_VALIDATE 16u
/* Internal (never from the wire, whose flags are checked first): the start
 * of a migration's destination, QEMU with -incoming defer, left paused for
 * the incoming state (qemu_migration.c). */
#define VRT_QEMU_START_INCOMING (1u << 30)
#define VRT_DOMAIN_XML_FLAG_SECURE 1u
#define VRT_DOMAIN_XML_FLAG_INACTIVE 2u
#define VRT_DOMAIN_AFFECT_CURRENT 0u
#define VRT_DOMAIN_AFFECT_LIVE 1u
#define VRT_DOMAIN_AFFECT_CONFIG 2u
#define VRT_DOMAIN_MEM_MAXIMUM 4u
#define VRT_DOMAIN_VCPU_MAXIMUM 4u
#define VRT_DOMAIN_SHUTDOWN_ACPI_POWER_BTN 1u
#define VRT_DOMAIN_REBOOT_ACPI_POWER_BTN 1u
#define VRT_DOMAIN_DESTROY_GRACEFUL 1u
#define VRT_CONNECT_LIST_DOMAINS_ACTIVE (1u << 0)
#define VRT_CONNECT_LIST_DOMAINS_INACTIVE (1u << 1)
#define VRT_CONNECT_LIST_DOMAINS_PERSISTENT (1u << 2)
#define VRT_CONNECT_LIST_DOMAINS_TRANSIENT (1u << 3)
#define VRT_CONNECT_LIST_DOMAINS_RUNNING (1u << 4)
#define VRT_CONNECT_LIST_DOMAINS_PAUSED (1u << 5)
#define VRT_CONNECT_LIST_DOMAINS_SHUTOFF (1u << 6)
#define VRT_CONNECT_LIST_DOMAINS_OTHER (1u << 7)
#define VRT_CONNECT_LIST_DOMAINS_MANAGEDSAVE (1u << 8)
#define VRT_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE (1u << 9)
#define VRT_CONNECT_LIST_DOMAINS_AUTOSTART (1u << 10)
#define VRT_CONNECT_LIST_DOMAINS_NO_AUTOSTART (1u << 11)
#define VRT_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT (1u << 12)
#define VRT_CONNECT_LIST_DOMAINS_NO_SNAPSHOT (1u << 13)
#define VRT_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT (1u << 14)
#define VRT_CONNECT_LIST_DOMAINS_NO_CHECKPOINT (1u << 15)

typedef struct _VrtQemuDriver VrtQemuDriver;

typedef struct {
    char *name;
    guchar uuid[16];
    int id; /* -1 when inactive */
} VrtDomainRef;
VrtDomainRef *vrt_domain_ref_new(const char *name, const guchar *uuid, int id);
void vrt_domain_ref_free(VrtDomainRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainRef, vrt_domain_ref_free)

typedef struct {
    const char *root; /* state root: <root>/etc/vrt, <root>/run/vrt, <root>/var/log/vrt ("" or "/" = host) */
    const char *emulator; /* default qemu-system-x86_64 path when the XML has none (NULL: from PATH) */
    void (*lifecycle_event)(const VrtDomainRef *dom, int event, int detail, gpointer data);
    void (*device_removed)(const VrtDomainRef *dom, const char *alias, gpointer data);
    /* Every QMP event of a domain's QEMU (libvirt's QEMU monitor events):
     * its name, QEMU's timestamp (seconds -1 when none) and its data as JSON
     * text (NULL when none). Called on the monitor thread: must not block. */
    void (*monitor_event)(const VrtDomainRef *dom, const char *event, gint64 seconds, guint micros, const char *details,
                          gpointer data);
    /* A title, description or <metadata> element (nsuri) changed (METADATA_CHANGE). */
    void (*metadata_change)(const VrtDomainRef *dom, int type, const char *nsuri, gpointer data);
    /* The other domain events (qemu_events.h: reboot, RTC, watchdog, I/O
     * error, graphics, tray, power management, balloon, block job, agent,
     * removal failure, memory failure), on the domain's event thread. */
    void (*domain_event)(const VrtDomainRef *dom, const VrtQemuDomainEvent *ev, gpointer data);
    gpointer data;
    /* For host devices (SR-IOV VFs, hostdev network pools); NULL: hostdev
     * kinds fail with VIR_ERR_OPERATION_UNSUPPORTED. Not owned; must outlive the driver. */
    VrtHost *host;
    /* A secret's value by UUID string (a LUKS disk's passphrase); NULL: such
     * disks fail to start. The daemon hands the secret driver's here. */
    GBytes *(*secret_lookup)(const char *uuid, gpointer data, GError **error);
    /* The same by libvirt's usage type and id (a network disk's <auth>
     * secret named by usage=); NULL: such disks fail to start. */
    GBytes *(*secret_lookup_usage)(int usage_type, const char *usage, gpointer data, GError **error);
    gpointer secret_data;
    VrtNetworkDriver *network;
    /* The VF ownership registry shared with the network and node device
     * drivers: a domain's own <hostdev> and <interface type='hostdev'>
     * claim their device there (NULL: not checked against other users). */
    VrtVfRegistry *vfs;
    /* Domain definitions reach the disk at most this many ms after they
     * change (statesync.h); 0: before the call that changes them returns. */
    guint config_sync_ms;
    /* Resolves a <disk type='volume'> when its domain starts: the file of
     * volume vol in storage pool pool and its format (the storage driver's
     * vrt_stordrv_volume_path); NULL: such a disk does not start. */
    bool (*volume_path)(const char *pool, const char *vol, char **path, char **format, gpointer data, GError **error);
    gpointer volume_data;
    /* vrtd.conf cgroup_root: a host path, NULL for the default (qemu_cgroup.h), "none": no cgroups. */
    const char *cgroup_root;
    /* Migration (qemu_migration.c): host_uuid (libvirtd.conf's key; NULL:
     * the SMBIOS UUID) tells a migration to this very host; the destination
     * listens on migration_address (NULL: every address) at a port of
     * migration_port_min..max (0: 49152..49215) and names itself to the
     * source as migration_host (NULL: its hostname). Copied (interned). */
    const char *host_uuid;
    const char *migration_host;
    const char *migration_address;
    guint migration_port_min, migration_port_max;
    /* migration_prepare_timeout: seconds an incoming QEMU may wait for the
     * first byte of its state before it is stopped (0: 300). */
    guint migration_prepare_timeout;
    /* QEMU's x509 credentials of a --tls migration (ca-cert.pem, server-
     * and client-cert.pem and -key.pem); NULL: <root>/etc/pki/qemu. */
    const char *migrate_tls_x509_cert_dir;
    /* A peer-to-peer source's restart (or its failed finish call) asks the
     * destination daemon at dconnuri, over a fresh connection, for the
     * state of the domain uuid: true with *state and *reason (libvirt's,
     * VRT_DOMAIN_SHUTOFF when it is not defined there), false with error
     * when it cannot be asked. NULL: never asked (the source stays paused).
     * Called with data. */
    bool (*migration_peer_state)(const char *dconnuri, const guchar *uuid, gpointer data, int *state, int *reason,
                                 GError **error);
    /* How long a detach waits for the guest to release the device before
     * it returns with the removal pending; 0: VRT_QEMU_UNPLUG_WAIT_MS
     * (libvirt's 5 s, what vrtd uses). A test whose guest is known never to
     * answer in time sets less, as libvirt's tests do. */
    guint unplug_wait_ms;
} VrtQemuDriverConfig;

VrtQemuDriver *vrt_qemu_driver_new(const VrtQemuDriverConfig *cfg, GError **error);
/* Reads definitions, reconnects to running QEMUs from status files (a dead
 * one becomes shut off, crashed), then starts autostart domains. */
bool vrt_qemu_driver_load(VrtQemuDriver *drv, GError **error);
/* SIGHUP: takes the definitions under the config directory again, as
 * libvirt's reload: a new file adds its domain, a changed file replaces an
 * inactive domain's definition or a running one's next-start definition,
 * autostart marks are read again; a file that does not parse is logged and
 * its domain kept; a domain whose file is gone is kept. Each domain under
 * its job, as a define. */
void vrt_qemu_driver_reload(VrtQemuDriver *drv);
/* Leaves running VMs running (their status files stay). */
void vrt_qemu_driver_free(VrtQemuDriver *drv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtQemuDriver, vrt_qemu_driver_free)

/* Exactly one of name / uuid / id (> 0) is given. VIR_ERR_NO_DOMAIN. */
VrtDomainRef *vrt_qemu_domain_lookup(VrtQemuDriver *drv, const char *name, const guchar *uuid, int id, GError **error);

VrtDomainRef *vrt_qemu_domain_define_xml(VrtQemuDriver *drv, const char *xml, guint flags, GError **error);
bool vrt_qemu_domain_undefine(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
bool vrt_qemu_domain_create(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
VrtDomainRef *vrt_qemu_domain_create_xml(VrtQemuDriver *drv, const char *xml, guint flags, GError **error);
bool vrt_qemu_domain_destroy(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
bool vrt_qemu_domain_shutdown(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
bool vrt_qemu_domain_reboot(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
bool vrt_qemu_domain_reset(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
bool vrt_qemu_domain_suspend(VrtQemuDriver *drv, const guchar *uuid, GError **error);
/* virDomainQemuMonitorCommand's flag: cmd is an HMP command line. */
#define VRT_DOMAIN_QEMU_MONITOR_COMMAND_HMP (1u << 0)
/* virDomainQemuMonitorCommand: cmd (a QMP command object as JSON text, or
 * with the HMP flag a human monitor command line, run through QMP's
 * human-monitor-command) on the active domain's monitor; returns QEMU's
 * whole reply as JSON text (HMP: the command's output). Marks the domain
 * tainted (custom-monitor) and logs it the first time, as libvirt. */
char *vrt_qemu_domain_monitor_command(VrtQemuDriver *drv, const guchar *uuid, const char *cmd, guint flags,
                                      GError **error);
/* virDomainQemuAgentCommand: cmd (a JSON command object) sent to the
 * domain's guest agent, its whole reply as JSON text, waiting timeout
 * seconds as libvirt (-2 forever, -1 the default, 0 not at all); marks
 * the domain tainted (custom-ga-command). See qemu_agent.c. */
char *vrt_qemu_domain_agent_command(VrtQemuDriver *drv, const guchar *uuid, const char *cmd, int timeout, guint flags,
                                    GError **error);
bool vrt_qemu_domain_resume(VrtQemuDriver *drv, const guchar *uuid, GError **error);

typedef struct {
    int state;
    guint64 max_mem_kib;
    guint64 memory_kib;
    guint nr_virt_cpu;
    guint64 cpu_time_ns;
} VrtDomainInfo;
bool vrt_qemu_domain_get_info(VrtQemuDriver *drv, const guchar *uuid, VrtDomainInfo *info, GError **error);
bool vrt_qemu_domain_get_state(VrtQemuDriver *drv, const guchar *uuid, int *state, int *reason, GError **error);
/* flags: VRT_DOMAIN_XML_FLAG_SECURE, VRT_DOMAIN_XML_FLAG_INACTIVE (libvirt's 1 and 2). */
char *vrt_qemu_domain_get_xml(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
char *vrt_qemu_domain_get_os_type(VrtQemuDriver *drv, const guchar *uuid, GError **error);
guint64 vrt_qemu_domain_get_max_memory(VrtQemuDriver *drv, const guchar *uuid, GError **error); /* 0 on error */
int vrt_qemu_domain_is_active(VrtQemuDriver *drv, const guchar *uuid, GError **error); /* -1 on error */
int vrt_qemu_domain_is_persistent(VrtQemuDriver *drv, const guchar *uuid, GError **error);
int vrt_qemu_domain_is_updated(VrtQemuDriver *drv, const guchar *uuid, GError **error);
int vrt_qemu_domain_get_autostart(VrtQemuDriver *drv, const guchar *uuid, GError **error);
bool vrt_qemu_domain_set_autostart(VrtQemuDriver *drv, const guchar *uuid, int autostart, GError **error);

/* ---- what streams read and write (qemu_driver_stream.c) ---- */
#define VRT_DOMAIN_CONSOLE_FORCE 1u /* take a console another stream holds */
#define VRT_DOMAIN_CONSOLE_SAFE 2u /* only where the device can be held safely (all of vrt's) */
#define VRT_DOMAIN_CHANNEL_FORCE 1u
/* The fd of a running domain's console or serial port (dev_name: its alias;
 * NULL: the first console, else the first serial port), a pty opened raw;
 * *key: its path, which tells who holds it. flags (FORCE, SAFE) are the
 * caller's. -1 with libvirt's error. */
int vrt_qemu_domain_open_console(VrtQemuDriver *drv, const guchar *uuid, const char *dev_name, guint flags, char **key,
                                 GError **error);
/* The same for a channel with a UNIX socket source (name: its alias or
 * target name; NULL: the first channel): a connection to it. */
int vrt_qemu_domain_open_channel(VrtQemuDriver *drv, const guchar *uuid, const char *name, guint flags, char **key,
                                 GError **error);
/* QMP screendump of a running domain's screen 0 into its run directory:
 * the file opened for reading and already removed, *mime its type. */
int vrt_qemu_domain_screenshot(VrtQemuDriver *drv, const guchar *uuid, guint screen, guint flags, char **mime,
                               GError **error);

/* ---- everyday calls (qemu_driver_everyday.c) ---- */
#define VRT_DOMAIN_BLOCK_RESIZE_BYTES 1u
/* type: VRT_DOMAIN_METADATA_* (domain_conf.h); flags: VRT_DOMAIN_AFFECT_*. */
bool vrt_qemu_domain_set_metadata(VrtQemuDriver *drv, const guchar *uuid, int type, const char *metadata,
                                  const char *key, const char *uri, guint flags, GError **error);
char *vrt_qemu_domain_get_metadata(VrtQemuDriver *drv, const guchar *uuid, int type, const char *uri, guint flags,
                                   GError **error);
/* Renames a shut-off persistent domain, its definition file and autostart link. */
bool vrt_qemu_domain_rename(VrtQemuDriver *drv, const guchar *uuid, const char *new_name, guint flags, GError **error);
/* Sends keys of libvirt's codeset (linux, xt, atset1, qnum) through QMP send-key. */
bool vrt_qemu_domain_inject_nmi(VrtQemuDriver *drv, const guchar *uuid, GError **error);
bool vrt_qemu_domain_send_key(VrtQemuDriver *drv, const guchar *uuid, guint codeset, guint holdtime,
                              const guint *keycodes, guint nkeycodes, guint flags, GError **error);
/* virDomainControlInfo of a running domain: state, details, time in it (ms). */
bool vrt_qemu_domain_get_control_info(VrtQemuDriver *drv, const guchar *uuid, guint flags, guint *state, guint *details,
                                      guint64 *state_time, GError **error);
/* No long job runs in vrt: true (job type NONE) for a running domain. */
bool vrt_qemu_domain_get_job_info(VrtQemuDriver *drv, const guchar *uuid, GError **error);
/* Fails as libvirt's does when no job runs ("no job is active on the domain"). */
bool vrt_qemu_domain_abort_job(VrtQemuDriver *drv, const guchar *uuid, GError **error);
/* Grows (or, if QEMU agrees, shrinks) a running domain's disk, named by
 * target or source path, to size KiB (bytes with VRT_DOMAIN_BLOCK_RESIZE_BYTES). */
bool vrt_qemu_domain_block_resize(VrtQemuDriver *drv, const guchar *uuid, const char *disk, guint64 size, guint flags,
                                  GError **error);

/* virDomainSetLifecycleAction: type 0 poweroff, 1 reboot, 2 crash gets
 * action (virDomainLifecycleAction's number) on the running domain (QEMU's reboot
 * action too), its persistent definition or both. */
bool vrt_qemu_domain_set_lifecycle_action(VrtQemuDriver *drv, const guchar *uuid, guint type, guint action, guint flags,
                                          GError **error);
/* virDomainPMWakeup: QEMU's system_wakeup for a running domain (a guest
 * suspended to RAM wakes up; QEMU refuses when the guest cannot). */
bool vrt_qemu_domain_pm_wakeup(VrtQemuDriver *drv, const guchar *uuid, GError **error);
/* A disk QEMU reports in error (virDomainDiskError): its target and
 * VIR_DOMAIN_DISK_ERROR_UNSPEC (1) or _NO_SPACE (2). */
typedef struct {
    char *disk;
    int error;
} VrtQemuDiskError;
void vrt_qemu_disk_error_clear(VrtQemuDiskError *e);
/* virDomainGetDiskErrors of a running domain: with max 0 only *count, its
 * number of disks; else the first max disks in error, in definition order
 * (*count of them), from query-block's io-status. */
GArray *vrt_qemu_domain_get_disk_errors(VrtQemuDriver *drv, const guchar *uuid, guint max, int *count, GError **error);

/* VrtDomainRef*, filtered by VRT_CONNECT_LIST_DOMAINS_* flags. */
GPtrArray *vrt_qemu_domain_list_all(VrtQemuDriver *drv, guint flags, GError **error);
/* Calls fn for each domain that passes the CONNECT_LIST_DOMAINS flags, with
 * the driver and the domain locked: fn must not call into the driver. */
typedef void (*VrtDomainFunc)(const char *name, const guchar *uuid, int id, gpointer data);
void vrt_qemu_domain_foreach(VrtQemuDriver *drv, guint flags, VrtDomainFunc fn, gpointer data);
int vrt_qemu_domain_count(VrtQemuDriver *drv, bool active);
GArray *vrt_qemu_domain_list_ids(VrtQemuDriver *drv, int max); /* of int */
GPtrArray *vrt_qemu_domain_list_defined_names(VrtQemuDriver *drv, int max); /* of char* */

/* flags: AFFECT_LIVE (balloon) / AFFECT_CONFIG / MEM_MAXIMUM (config only). */
bool vrt_qemu_domain_set_memory(VrtQemuDriver *drv, const guchar *uuid, guint64 kib, guint flags, GError **error);
/* flags: AFFECT_CONFIG / VCPU_MAXIMUM; live changes are refused. */
bool vrt_qemu_domain_set_vcpus(VrtQemuDriver *drv, const guchar *uuid, guint n, guint flags, GError **error);
/* vCPU count for flags (AFFECT_LIVE/CONFIG, VCPU_MAXIMUM); -1 on error. */
int vrt_qemu_domain_get_vcpus_flags(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);

typedef struct {
    guint number;
    int state; /* virVcpuState: 1 = running */
    guint64 cpu_time_ns;
    int cpu; /* host CPU it last ran on, -1 unknown */
} VrtVcpuInfo;
GArray *vrt_qemu_domain_get_vcpus(VrtQemuDriver *drv, const guchar *uuid, GError **error); /* of VrtVcpuInfo */

/* Device hotplug. Emulated interfaces (user, bridge, ethernet; network with
 * an allocated bridge) live and config; hostdev kinds and hostdev pool
 * networks go through the journaled hostdev job (qemu_hostdev.h; without
 * cfg->host they fail with VIR_ERR_NO_SUPPORT); update changes an
 * interface's link state. A detach the guest has not
 * acknowledged within 5 s returns success with the device still listed; it
 * leaves when DEVICE_DELETED arrives (device_removed callback). */
bool vrt_qemu_domain_attach_device(VrtQemuDriver *drv, const guchar *uuid, const char *xml, guint flags,
                                   GError **error);
bool vrt_qemu_domain_detach_device(VrtQemuDriver *drv, const guchar *uuid, const char *xml, guint flags,
                                   GError **error);
bool vrt_qemu_domain_detach_device_alias(VrtQemuDriver *drv, const guchar *uuid, const char *alias, guint flags,
                                         GError **error);
bool vrt_qemu_domain_update_device(VrtQemuDriver *drv, const guchar *uuid, const char *xml, guint flags,
                                   GError **error);

/* Capabilities of the default emulator, for capabilities XML: see
 * qemu_capabilities.h. Lives as long as drv. */
const VrtQemuCapsInfo *vrt_qemu_driver_get_caps(VrtQemuDriver *drv, GError **error);
/* "+UID:+GID" of the user and group QEMU runs as (the capabilities' DAC
 * base label); NULL when qemu.conf names a user that does not exist. */
char *vrt_qemu_driver_dac_baselabel(VrtQemuDriver *drv);
/* Whether AppArmor confines QEMU (qemu.conf's security_driver and the
 * host): the capabilities' first security model is then "apparmor". */
bool vrt_qemu_driver_apparmor_active(VrtQemuDriver *drv);

/* Domain capabilities for an emulator (NULL: the default), arch, machine
 * (NULL: the default one vrt starts) and domain type ("kvm", "qemu"; NULL:
 * kvm when /dev/kvm opens), with libvirt's errors for what vrt cannot
 * serve (qemu_domcaps.c). Asks QEMU for its CPU models the first time. */
VrtDomCaps *vrt_qemu_driver_domain_capabilities(VrtQemuDriver *drv, const char *emulator, const char *arch,
                                                const char *machine, const char *virttype, GError **error);
/* libvirt's virQEMUCapsCacheLookupDefault: the emulator, machine and
 * accelerator (kvm or not) a call naming these (each may be NULL) is
 * about, with libvirt's errors (qemu_domcaps.c). */
bool vrt_qemu_driver_lookup_default(VrtQemuDriver *drv, const char *emulator, const char *arch, const char *machine,
                                    const char *virttype, const VrtQemuCapsInfo **info, const VrtQemuMachine **machinep,
                                    bool *kvm, GError **error);

/* ---- the hypervisor's CPU (qemu_hvcpu.c) ---- */
/* The host-model CPU of info's emulator under KVM or TCG as libvirt
 * names it: QEMU's expansion of its own CPU (max, host) decoded into one
 * of QEMU's models, fallback forbid. NULL: QEMU expands none. */
VrtCpuDef *vrt_qemu_driver_host_model_cpu(VrtQemuDriver *drv, const VrtQemuCapsInfo *info, bool kvm, GError **error);
/* virConnectCompareHypervisorCPU: xml against the host-model CPU. */
int vrt_qemu_driver_compare_hypervisor_cpu(VrtQemuDriver *drv, const char *emulator, const char *arch,
                                           const char *machine, const char *virttype, const char *xml,
                                           bool fail_incompatible, GError **error);
/* virConnectBaselineHypervisorCPU: the CPU all cpus can run, in QEMU's
 * models and features; expand lists the model's features, migratable
 * drops what blocks migration. */
VrtCpuDef *vrt_qemu_driver_baseline_hypervisor_cpu(VrtQemuDriver *drv, const char *emulator, const char *arch,
                                                   const char *machine, const char *virttype, VrtCpuDef **cpus,
                                                   guint ncpus, bool expand, bool migratable, GError **error);

/* ---- save, restore, managed save (qemu_save.c) ---- */
/* flags: libvirt's VIR_DOMAIN_SAVE_* (BYPASS_CACHE is accepted and has no effect). */
bool vrt_qemu_domain_save(VrtQemuDriver *drv, const guchar *uuid, const char *path, const char *dxml, guint flags,
                          GError **error);
bool vrt_qemu_domain_restore(VrtQemuDriver *drv, const char *path, const char *dxml, guint flags, GError **error);
char *vrt_qemu_domain_save_image_get_xml(VrtQemuDriver *drv, const char *path, guint flags, GError **error);
bool vrt_qemu_domain_save_image_define_xml(VrtQemuDriver *drv, const char *path, const char *dxml, guint flags,
                                           GError **error);
bool vrt_qemu_domain_managed_save(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
int vrt_qemu_domain_has_managed_save(VrtQemuDriver *drv, const guchar *uuid, GError **error);
bool vrt_qemu_domain_managed_save_remove(VrtQemuDriver *drv, const guchar *uuid, GError **error);
char *vrt_qemu_domain_managed_save_get_xml(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
bool vrt_qemu_domain_managed_save_define_xml(VrtQemuDriver *drv, const guchar *uuid, const char *dxml, guint flags,
                                             GError **error);

/* virsh dump (virDomainCoreDumpWithFormat): the guest's memory written to
 * path by QEMU, as an ELF or kdump file (VIR_DUMP_MEMORY_ONLY, format
 * libvirt's VIR_DOMAIN_CORE_DUMP_FORMAT_*) or as QEMU's migration stream;
 * flags VIR_DUMP_* (BYPASS_CACHE, as for a save, has no effect). */
bool vrt_qemu_domain_core_dump(VrtQemuDriver *drv, const guchar *uuid, const char *path, guint format, guint flags,
                               GError **error);

/* ---- snapshots (qemu_snapshot.c) ---- */
/* flags: libvirt's VIR_DOMAIN_SNAPSHOT_CREATE_*; returns the new snapshot's name. */
char *vrt_qemu_snapshot_create_xml(VrtQemuDriver *drv, const guchar *uuid, const char *xml, guint flags,
                                   GError **error);
char *vrt_qemu_snapshot_get_xml(VrtQemuDriver *drv, const guchar *uuid, const char *name, guint flags, GError **error);
/* Names (char*) matching libvirt's VIR_DOMAIN_SNAPSHOT_LIST_* flags, parents
 * before children: the domain's (parent NULL; LIST_ROOTS: roots only) or
 * parent's children (LIST_DESCENDANTS, the same bit: all descendants). */
GPtrArray *vrt_qemu_snapshot_list(VrtQemuDriver *drv, const guchar *uuid, const char *parent, guint flags,
                                  GError **error);
bool vrt_qemu_snapshot_lookup(VrtQemuDriver *drv, const guchar *uuid, const char *name, GError **error);
/* The current snapshot's name; NULL with *none set when there is none. */
char *vrt_qemu_snapshot_current(VrtQemuDriver *drv, const guchar *uuid, bool *none, GError **error);
char *vrt_qemu_snapshot_get_parent(VrtQemuDriver *drv, const guchar *uuid, const char *name, GError **error);
int vrt_qemu_snapshot_is_current(VrtQemuDriver *drv, const guchar *uuid, const char *name, GError **error);
bool vrt_qemu_snapshot_revert(VrtQemuDriver *drv, const guchar *uuid, const char *name, guint flags, GError **error);
bool vrt_qemu_snapshot_delete(VrtQemuDriver *drv, const guchar *uuid, const char *name, guint flags, GError **error);
