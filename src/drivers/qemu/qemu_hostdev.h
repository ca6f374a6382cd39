/*
 * SR-IOV hostdev hotplug as a journaled job. An attach or detach of a
 * hostdev-backed device (<interface type='hostdev'>, <interface
 * type='network'> on a hostdev pool, <hostdev type='pci'>) runs the rows
 * of one step table (qemu_hostdev_steps.c); so does the live detach of an
 * emulated interface. Each VF a domain holds (and each interface being
 * detached) has a record (VrtQemuHostdevRecord) that says which job runs
 * on it, the steps it has completed (and the one it started) and what is
 * needed to undo them (the VF's original driver, MAC, VLAN, spoof check
 * and trust, the network port). The record is saved, through the driver's
 * status callback, into the domain's status file before every
 * host-changing step;
 * rollback undoes the recorded steps in reverse, and after a daemon restart
 * vrt_qemu_hostdev_recover() reads the records, checks the kernel's and
 * QEMU's actual state and finishes or undoes what was left half done.
 *
 * Everything the engine touches is in one context (VrtQemuHostdevCtx): the
 * host seam, the network driver, QMP as function pointers, the status
 * writer, the lock that guards the definition and the records, and the fault
 * hook. The QEMU driver fills it per call; unit tests fill it with fakes.
 *
 * Locking: ctx->lock/unlock guard ctx->def and ctx->state (the domain's
 * object lock in the driver). The engine takes it only for list changes and
 * the status write, never across a QMP call or a host change. The caller
 * holds the domain's job for the whole call, so no other job changes the
 * same definition meanwhile.
 */
#pragma once

#include "conf/domain/domain_conf.h"
#include "drivers/network/network_driver.h"
#include "drivers/vf_registry.h"
#include "host/host.h"
#include "util/pciaddr.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

/* How long a detach waits for the guest to release a device before it
 * returns with the removal pending (libvirt's 5 s). The one constant for
 * every unplug of a domain, emulated or hostdev. */
#define VRT_QEMU_UNPLUG_WAIT_MS 5000

typedef enum {
    VRT_QEMU_HOSTDEV_JOB_NONE = 0, /* attached, nothing running */
    VRT_QEMU_HOSTDEV_JOB_ATTACH,
    VRT_QEMU_HOSTDEV_JOB_DETACH,
} VrtQemuHostdevJob;

/* The steps; the step table (qemu_hostdev_steps.c) gives their order, names
 * (which persist in the status file) and what each does, undoes and
 * recovers. Attach: claim .. commit; detach: device-del .. done. At most
 * 32 (a record keeps them as bits). */
typedef enum {
    VRT_QEMU_HOSTDEV_STEP_NONE = 0,
    VRT_QEMU_HOSTDEV_STEP_CLAIM, /* port allocated / VF checked free */
    VRT_QEMU_HOSTDEV_STEP_SAVE_VF, /* original driver, MAC, VLAN read */
    VRT_QEMU_HOSTDEV_STEP_SET_VF, /* requested MAC/VLAN set via the PF */
    VRT_QEMU_HOSTDEV_STEP_DETACH_HOST, /* VF moved to vfio-pci */
    VRT_QEMU_HOSTDEV_STEP_DEVICE_ADD, /* device_add vfio-pci */
    VRT_QEMU_HOSTDEV_STEP_COMMIT, /* in nets/hostdevs, status written */
    VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL, /* device_del sent, waiting for the guest */
    VRT_QEMU_HOSTDEV_STEP_REMOVE, /* out of nets/hostdevs */
    VRT_QEMU_HOSTDEV_STEP_NETDEV_DEL, /* an emulated interface's netdev_del */
    VRT_QEMU_HOSTDEV_STEP_REATTACH, /* VF back on its original driver */
    VRT_QEMU_HOSTDEV_STEP_RESTORE_VF, /* original MAC/VLAN set and read back */
    VRT_QEMU_HOSTDEV_STEP_RELEASE, /* network port released */
    VRT_QEMU_HOSTDEV_STEP_DONE, /* record dropped */
    VRT_QEMU_HOSTDEV_N_STEPS,
} VrtQemuHostdevStep;

G_STATIC_ASSERT(VRT_QEMU_HOSTDEV_N_STEPS <= 32);
#define VRT_QEMU_HOSTDEV_STEP_BIT(step) (1u << (step))

typedef enum {
    VRT_QEMU_HOSTDEV_KIND_NET_HOSTDEV = 0, /* <interface type='hostdev'> */
    VRT_QEMU_HOSTDEV_KIND_NET_NETWORK, /* <interface type='network'> on a pool */
    VRT_QEMU_HOSTDEV_KIND_HOSTDEV, /* standalone <hostdev> */
    VRT_QEMU_HOSTDEV_KIND_NET_EMULATED, /* an emulated interface, only while it is detached */
} VrtQemuHostdevKind;

const char *vrt_qemu_hostdev_job_to_string(VrtQemuHostdevJob job);
/* Names from the step table; from_string gives -1 for an unknown name. */
const char *vrt_qemu_hostdev_step_to_string(VrtQemuHostdevStep step);
int vrt_qemu_hostdev_step_from_string(const char *name);
const char *vrt_qemu_hostdev_kind_to_string(VrtQemuHostdevKind kind);

/* One VF held (or being taken or given back) by a domain. The job's
 * progress is the set of steps completed plus the one started and not yet
 * known to be complete; nothing else steers undo or recovery. */
typedef struct {
    char *alias; /* the device's alias (net1, hostdev0) */
    VrtQemuHostdevKind kind;
    /* The VF (or PCI function). Not set for a pool's interface before its
     * claim nor for an emulated interface (addr='' in the status file). */
    VrtPciAddr addr;
    bool addr_set;
    bool managed;
    bool is_vf; /* an SR-IOV VF (MAC/VLAN through its PF) */
    char *network; /* KIND_NET_NETWORK */
    guchar port_uuid[16];
    bool port_set; /* port_uuid holds the claimed port */
    guint8 mac[6]; /* requested MAC (interfaces) */
    VrtQemuHostdevJob job;
    guint32 done; /* VRT_QEMU_HOSTDEV_STEP_BIT of each completed step */
    VrtQemuHostdevStep running; /* started, maybe not complete; NONE: none */
    /* What undo needs (valid once save-vf is done). */
    char *orig_driver; /* NULL: it had none */
    guint8 orig_mac[6];
    guint orig_vlan;
    guint orig_qos;
    bool orig_spoofchk;
    bool orig_trust;
} VrtQemuHostdevRecord;

static inline bool
vrt_qemu_hostdev_record_done(const VrtQemuHostdevRecord *rec, VrtQemuHostdevStep step)
{
    return (rec->done & VRT_QEMU_HOSTDEV_STEP_BIT(step)) != 0;
}

/* The record's address as text, for messages: "" when it has none. */
static inline const char *
vrt_qemu_hostdev_record_addr_string(const VrtQemuHostdevRecord *rec, char out[VRT_PCI_ADDR_STRING_LEN])
{
    out[0] = '\0';
    return rec->addr_set ? vrt_pci_addr_format_buf(&rec->addr, out) : out;
}

/* device_del sent, no DEVICE_DELETED yet. */
bool vrt_qemu_hostdev_record_pending(const VrtQemuHostdevRecord *rec);

/* The status files of vrt before the step table kept only the last step
 * started (old_step); this fills rec->done and rec->running from it and
 * the record's job, kind, managed and vf flags, as the table would have
 * run them. */
void vrt_qemu_hostdev_record_from_last_step(VrtQemuHostdevRecord *rec, VrtQemuHostdevStep old_step);

void vrt_qemu_hostdev_record_free(VrtQemuHostdevRecord *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtQemuHostdevRecord, vrt_qemu_hostdev_record_free)

/* The records of one domain (kept with the domain object, saved in its
 * status file). */
typedef struct _VrtQemuHostdevState {
    GPtrArray *records; /* VrtQemuHostdevRecord* (owned) */
} VrtQemuHostdevState;

VrtQemuHostdevState *vrt_qemu_hostdev_state_new(void);
void vrt_qemu_hostdev_state_free(VrtQemuHostdevState *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtQemuHostdevState, vrt_qemu_hostdev_state_free)

VrtQemuHostdevRecord *vrt_qemu_hostdev_state_find(VrtQemuHostdevState *st, const char *alias);
/* The record holding the function at addr (multifunction ignored). */
VrtQemuHostdevRecord *vrt_qemu_hostdev_state_find_addr(VrtQemuHostdevState *st, const VrtPciAddr *addr);

/* The <hostdev-records> element for the status file (indented two
 * spaces, ending in a newline); "" when there are no records. */
char *vrt_qemu_hostdev_state_format(const VrtQemuHostdevState *st);
/* Parses a <hostdev-records> element (NULL or "" gives an empty state).
 * VIR_ERR_PARSE_FAILED naming what is wrong. */
VrtQemuHostdevState *vrt_qemu_hostdev_state_parse(const char *xml, GError **error);

/* The one error of a detach while the device's unplug is pending, for
 * every device of a domain: VIR_ERR_OPERATION_INVALID. */
void vrt_qemu_unplug_in_progress_error(GError **error, const char *alias);

/* ---- the context ---- */

/* QMP as the engine needs it. data is VrtQemuHostdevCtx.mon_data. */
typedef struct {
    /* device_add with props (borrowed). */
    bool (*device_add)(gpointer data, JsonObject *props, GError **error);
    bool (*device_del)(gpointer data, const char *alias, GError **error);
    bool (*netdev_del)(gpointer data, const char *id, GError **error);
    /* Waits up to timeout_ms for DEVICE_DELETED of alias (called without
     * the lock); true when it came (and consumes it). */
    bool (*wait_deleted)(gpointer data, const char *alias, guint timeout_ms);
    /* Ids of QEMU's devices (qom-list /machine/peripheral), char*. */
    GPtrArray *(*list_ids)(gpointer data, GError **error);
} VrtQemuHostdevMonitorOps;

/* Asked right before each step (job and step names as in the status
 * file). Returning false with error fails that step (tests); the driver's
 * hook may also end the process there (VRT_FAULT_DIE_AT). */
typedef bool (*VrtQemuHostdevFaultFunc)(const char *job, const char *step, gpointer data, GError **error);

typedef struct {
    VrtHost *host; /* required for hostdev kinds */
    VrtNetworkDriver *network; /* NULL: no network pools */
    const VrtQemuHostdevMonitorOps *mon;
    gpointer mon_data;
    /* Writes ctx->def and ctx->state to the status file atomically; called
     * with the lock held. */
    bool (*save_status)(gpointer data, GError **error);
    void (*lock)(gpointer data); /* NULL: no locking (tests) */
    void (*unlock)(gpointer data);
    gpointer data; /* for save_status, lock, unlock */
    VrtQemuHostdevFaultFunc fault; /* may be NULL */
    gpointer fault_data;
    /* The VF ownership registry (vf_registry.h): the claim step takes the
     * device there, a pool's VF is held by its port; NULL: not checked. */
    VrtVfRegistry *vfs;
    VrtDomainDef *def; /* the live definition */
    VrtQemuHostdevState *state; /* the domain's records */
    guint unplug_wait_ms; /* 0: VRT_QEMU_UNPLUG_WAIT_MS */
    /* QEMU's access to the VFIO group of the function at addr: given right
     * before its device_add (the group node labelled and made in QEMU's
     * /dev), taken back once QEMU no longer has the device. NULL: none
     * (tests). Called without the lock. */
    bool (*vfio_grant)(gpointer data, const VrtPciAddr *addr, GError **error);
    void (*vfio_revoke)(gpointer data, const VrtPciAddr *addr);
} VrtQemuHostdevCtx;

/* ---- the jobs ---- */

/* Whether a device goes through this engine: a standalone PCI hostdev, an
 * interface of type hostdev, or an interface of type network whose network
 * has <forward mode='hostdev'> (asked from the network driver). */
bool vrt_qemu_hostdev_wants_device(VrtQemuHostdevCtx *ctx, const VrtDomainDeviceDef *dev);

/* Attaches dev (a device parsed from XML; its net or hostdev is taken on
 * success and the member cleared). On failure every step taken is undone
 * in reverse, the first error is returned and the undo errors are logged. */
bool vrt_qemu_hostdev_attach(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *dev, GError **error);

/* Finds the device to detach: by the interface XML (MAC, guest PCI
 * address and alias, as libvirt's virDomainNetFindIdx), by the hostdev
 * XML of the same VF, or by alias (exactly one of xml/alias). Returns the
 * alias of the engine's record (g_malloc'ed), NULL with no error when the
 * device is not one of the engine's (the caller handles it), NULL with an
 * error when the XML is invalid, names several interfaces (a MAC shared
 * by a teaming pair) or nothing matches a hostdev source. */
char *vrt_qemu_hostdev_find(VrtQemuHostdevCtx *ctx, const char *xml, const char *alias, GError **error);

/* Sends one device_del for the device with alias and waits up to
 * unplug_wait_ms for the guest. When it answers, the VF is given back
 * (vrt_qemu_hostdev_device_deleted). When it does not, returns true with
 * the removal pending: the device stays in both lists and a second detach
 * fails with VIR_ERR_OPERATION_INVALID without sending device_del again. */
bool vrt_qemu_hostdev_detach(VrtQemuHostdevCtx *ctx, const char *alias, GError **error);

/* The same detach for an emulated interface of the domain: one
 * device_del, the same wait and the same pending state (its record lives
 * until the removal completes), then netdev_del. */
bool vrt_qemu_hostdev_detach_emulated(VrtQemuHostdevCtx *ctx, const char *alias, GError **error);

/* True when alias is one of the engine's records (a DEVICE_DELETED for it
 * belongs to vrt_qemu_hostdev_device_deleted). */
bool vrt_qemu_hostdev_owns(VrtQemuHostdevCtx *ctx, const char *alias);

/* QEMU reported the device gone: runs the rest of the detach (out of both
 * lists, the VF back to its original driver, its MAC/VLAN restored and
 * verified, the port released, or netdev_del for an emulated interface)
 * and writes the status. A step that fails stays started in the record
 * (recovery retries it); returns the first error. */
bool vrt_qemu_hostdev_device_deleted(VrtQemuHostdevCtx *ctx, const char *alias, GError **error);

/* Domain start: sets up every hostdev-backed device in ctx->def (which
 * QEMU is not yet running with): allocates ports, saves and sets VF
 * settings, detaches to vfio-pci, fills actual data and records. On
 * failure releases what it took. No device_add (the command line has them). */
bool vrt_qemu_hostdev_prepare_start(VrtQemuHostdevCtx *ctx, GError **error);

/* Domain stop (QEMU gone): gives every VF of the records back, restores
 * its settings, releases ports and drops the records. Errors are logged. */
void vrt_qemu_hostdev_release_all(VrtQemuHostdevCtx *ctx);

/* After a restart, with QEMU reachable through ctx->mon: claims again in
 * ctx->vfs every device the records hold by address (the registry's
 * rebuild), finishes or undoes every unfinished record (see the file
 * comment), re-registers the ports
 * of attached devices, releases ports owned by this domain that nothing
 * references, and saves the status. Errors are logged; returns false when
 * something could not be brought to a consistent state. */
bool vrt_qemu_hostdev_recover(VrtQemuHostdevCtx *ctx, GError **error);

/* Checks the invariants for one domain: nets and hostdevs agree, every
 * record matches a device, every VF is on vfio-pci while attached, and
 * (when ids is non-NULL) QEMU's device list has every attached device. */
bool vrt_qemu_hostdev_check(VrtQemuHostdevCtx *ctx, GPtrArray *qemu_ids, GError **error);

/* Claims the VF at a for holder in the VF registry together with the
 * other devices of its IOMMU group (VFIO hands a group to one domain), as
 * vrt_vf_registry_claim_in_group; a device with no group has no mates. */
bool vrt_qemu_hostdev_claim_group(VrtVfRegistry *vfs, VrtHost *host, const VrtPciAddr *a, VrtVfHolder *holder,
                                  GError **error);
/* Whether the host lets a domain take the device at a: the host itself
 * does not use it, and with managed='no' it is on vfio-pci already. */
bool vrt_qemu_hostdev_host_usable(VrtHost *host, const VrtPciAddr *a, bool managed, GError **error);

/* The driver's fault hook: die_at is "JOB:STEP" (VRT_FAULT_DIE_AT, read
 * once by the driver); at that step the process ends with SIGKILL. */
bool vrt_qemu_hostdev_fault_die_at(const char *job, const char *step, gpointer die_at, GError **error);
