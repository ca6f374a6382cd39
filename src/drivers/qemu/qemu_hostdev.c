/*
 * The hostdev hotplug job: attach and detach of SR-IOV VFs (and other PCI
 * functions) as one table of steps (steps[] below). Each row names a step
 * and gives what runs it (do), what takes it back (undo) and what a
 * restarted daemon does with it (recover); the record of each device keeps
 * the steps completed and the one started. One forward runner, one reverse
 * walk and one recovery read the table, and the fault hook gets its names
 * from it. Before a step runs, the record (step + what undo needs) is saved
 * through ctx->save_status, then the fault hook is asked. Undo and recovery
 * never trust the record alone: they read the VF's driver and settings and
 * QEMU's device list and act on what is there, so running them twice is
 * harmless. See qemu_hostdev.h.
 */
#include "drivers/qemu/qemu_hostdev.h"
#include "drivers/qemu/qemu_command.h"
#include "host/pci.h"
#include "host/sriov.h"
#include "util/error.h"

#include <string.h>

/* How often recovery polls QEMU's device list for a device it unplugs. */
#define RECOVER_POLL_MS 50
/* How long recovery waits for a guest to release a device whose unplug it
 * re-requested; longer and the removal completes on DEVICE_DELETED. */
#define RECOVER_UNPLUG_WAIT_MS 1000
/* Pool ports tried before giving up when VFs are held by other domains. */
#define MAX_POOL_TRIES 256

/* One run of the table over one record. */
typedef struct {
    VrtQemuHostdevCtx *ctx;
    VrtQemuHostdevRecord *rec;
    VrtDomainDeviceDef *dev;  /* hotplug attach: the device, taken at commit */
    VrtDomainNetDef *net;     /* attach and start: the interface (NULL for a <hostdev>) */
    bool waiting;             /* a step left the job waiting for the guest */
} Job;

/* What a restarted daemon does with a record, decided by the row of the
 * step it stopped at after looking at QEMU. */
typedef enum {
    RECOVER_ROLLBACK, /* undo the recorded steps */
    RECOVER_FORWARD,  /* run the rest of the (detach) job */
    RECOVER_KEEP,     /* attached and in QEMU: nothing to do */
    RECOVER_WAIT,     /* unplug pending: DEVICE_DELETED finishes it */
    RECOVER_FAILED,
} Recovery;

typedef struct {
    VrtQemuHostdevStep step;
    const char *name;               /* in the status file and VRT_FAULT_DIE_AT */
    VrtQemuHostdevJob job;
    bool (*needed)(Job *j);         /* NULL: always; false skips the step */
    bool (*run)(Job *j, GError **error);  /* do */
    /* NULL: cannot be taken back, a rollback stops here and recovery
     * goes forward. */
    bool (*undo)(Job *j, GError **error);
    Recovery (*recover)(Job *j, GPtrArray *qemu_ids); /* NULL: attach rolls back, detach goes on */
    bool writes_status;             /* do is itself the status write: no announcement */
} StepDef;

/* ---- small helpers ---- */

static void
ctx_lock(VrtQemuHostdevCtx *ctx)
{
    if (ctx->lock)
        ctx->lock(ctx->data);
}

static void
ctx_unlock(VrtQemuHostdevCtx *ctx)
{
    if (ctx->unlock)
        ctx->unlock(ctx->data);
}

static guint
unplug_wait_ms(VrtQemuHostdevCtx *ctx)
{
    return ctx->unplug_wait_ms ? ctx->unplug_wait_ms : VRT_QEMU_UNPLUG_WAIT_MS;
}

static const char *
dom_name(VrtQemuHostdevCtx *ctx)
{
    return ctx->def && ctx->def->name ? ctx->def->name : "?";
}

/* Logs an undo failure and drops it: the caller keeps the first error. */
static void
log_undo(VrtQemuHostdevCtx *ctx, const char *alias, const char *what, GError *err)
{
    g_warning("domain %s: %s: undo of %s failed: %s", dom_name(ctx), alias, what, err ? err->message : "?");
    g_clear_error(&err);
}

/* Saves the status (lock held by the caller). */
static bool
save_locked(VrtQemuHostdevCtx *ctx, GError **error)
{
    return ctx->save_status ? ctx->save_status(ctx->data, error) : true;
}

static bool
parse_addr(const char *text, VrtPciAddr *addr, GError **error)
{
    return vrt_pci_addr_parse(text, addr, error);
}

static bool
ids_contain(GPtrArray *ids, const char *alias)
{
    for (guint i = 0; ids && i < ids->len; i++) {
        if (g_strcmp0(g_ptr_array_index(ids, i), alias) == 0)
            return true;
    }
    return false;
}

/* Whether QEMU has the device; when it cannot say, assume it has. */
static bool
in_qemu(VrtQemuHostdevCtx *ctx, const char *alias)
{
    g_autoptr(GPtrArray) ids = ctx->mon->list_ids(ctx->mon_data, NULL);

    return !ids || ids_contain(ids, alias);
}

static void
remove_record(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec)
{
    g_ptr_array_remove(ctx->state->records, rec);
}

static bool
recorded(const VrtQemuHostdevRecord *rec, VrtQemuHostdevStep step)
{
    return rec->running == step || vrt_qemu_hostdev_record_done(rec, step);
}

void
vrt_qemu_unplug_in_progress_error(GError **error, const char *alias)
{
    vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                  "unplug of device '%s' is already in progress: waiting for the guest to release it", alias);
}

bool
vrt_qemu_hostdev_record_pending(const VrtQemuHostdevRecord *rec)
{
    return rec->job == VRT_QEMU_HOSTDEV_JOB_DETACH && rec->running == VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL;
}

/* ---- which devices are ours ---- */

static bool
network_is_pool(VrtQemuHostdevCtx *ctx, const char *network)
{
    return ctx->network && network &&
           vrt_network_get_forward_mode(ctx->network, network, NULL) == VRT_NETWORK_FORWARD_HOSTDEV;
}

bool
vrt_qemu_hostdev_wants_device(VrtQemuHostdevCtx *ctx, const VrtDomainDeviceDef *dev)
{
    if (dev->type == VRT_DOMAIN_DEVICE_HOSTDEV)
        return true;
    if (dev->type != VRT_DOMAIN_DEVICE_NET)
        return false;
    if (vrt_domain_net_get_actual_type(dev->data.net) == VRT_DOMAIN_NET_TYPE_HOSTDEV)
        return true;
    return dev->data.net->type == VRT_DOMAIN_NET_TYPE_NETWORK &&
           network_is_pool(ctx, dev->data.net->source_network);
}

bool
vrt_qemu_hostdev_owns(VrtQemuHostdevCtx *ctx, const char *alias)
{
    bool owns;

    ctx_lock(ctx);
    owns = vrt_qemu_hostdev_state_find(ctx->state, alias) != NULL;
    ctx_unlock(ctx);
    return owns;
}

/* ---- the VF's settings ---- */

/* Sets MAC and VLAN and reads them back. */
static bool
set_vf_verified(VrtQemuHostdevCtx *ctx, const char *addr, const guint8 mac[6], guint vlan, guint qos,
                GError **error)
{
    VrtPciAddr a;
    VrtVfInfo want = { 0 };
    VrtVfInfo got = { 0 };

    memcpy(want.mac, mac, 6);
    want.vlan = vlan;
    want.qos = qos;
    if (!parse_addr(addr, &a, error) ||
        !vrt_sriov_set_vf_config(ctx->host, &a, &want, VRT_VF_FIELD_MAC | VRT_VF_FIELD_VLAN, error) ||
        !vrt_sriov_get_vf_config(ctx->host, &a, &got, error))
        return false;
    if (memcmp(got.mac, want.mac, 6) != 0 || got.vlan != want.vlan) {
        char m1[VRT_MAC_STRING_LEN], m2[VRT_MAC_STRING_LEN];

        vrt_domain_mac_format(want.mac, m1);
        vrt_domain_mac_format(got.mac, m2);
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "VF %s kept MAC %s VLAN %u after setting MAC %s VLAN %u", addr,
                      m2, got.vlan, m1, want.vlan);
        return false;
    }
    return true;
}

/* ---- the steps: claim ---- */

/* The VF is not in this domain, not another domain's or a pool port's, not
 * used by the host itself; managed='no' needs it on vfio-pci already. */
static bool
check_free(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, GError **error)
{
    g_autofree char *owner = ctx->network ? vrt_network_vf_owner(ctx->network, rec->addr) : NULL;
    g_autofree char *why = NULL;
    g_autofree char *drv = NULL;
    VrtPciAddr a;
    int busy;

    if (!owner && ctx->vf_owner)
        owner = ctx->vf_owner(rec->addr, ctx->data);
    if (owner && g_strcmp0(owner, ctx->def->name) != 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s is in use by driver QEMU, domain %s",
                      rec->addr, owner);
        return false;
    }
    if (!parse_addr(rec->addr, &a, error))
        return false;
    if (!vrt_pci_exists(ctx->host, &a)) {
        vrt_error_set(error, VIR_ERR_NO_DEVICE, "PCI device %s not found on the host", rec->addr);
        return false;
    }
    busy = vrt_pci_is_busy_on_host(ctx->host, &a, &why, error);
    if (busy < 0)
        return false;
    if (busy) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s is in use by the host: %s", rec->addr,
                      why ? why : "busy");
        return false;
    }
    if (!rec->managed) {
        if (!vrt_pci_get_driver(ctx->host, &a, &drv, error))
            return false;
        if (g_strcmp0(drv, VRT_PCI_VFIO_DRIVER) != 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                          "PCI device %s is not bound to vfio-pci (managed='no' needs nodedev-detach first)",
                          rec->addr);
            return false;
        }
    }
    return true;
}

/* Allocates a pool port whose VF no other domain holds by name: such VFs
 * stay claimed while the next is tried (so the pool does not hand them out
 * again), then are given back. The network driver's own busy check may
 * already skip them; this keeps the rule when it does not. */
static VrtNetworkPortAlloc *
allocate_port(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, const guint8 mac[6], GError **error)
{
    g_autoptr(GPtrArray) skipped = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_port_alloc_free);
    VrtNetworkPortAlloc *alloc = NULL;

    for (guint tries = 0; tries < MAX_POOL_TRIES; tries++) {
        g_autofree char *owner = NULL;

        alloc = vrt_network_port_allocate(ctx->network, rec->network, ctx->def->name, ctx->def->uuid, mac, error);
        if (!alloc || !ctx->vf_owner || !alloc->pci_addr || !(owner = ctx->vf_owner(alloc->pci_addr, ctx->data)))
            break;
        g_info("domain %s: pool '%s' offered VF %s, which domain %s holds; trying another", dom_name(ctx),
               rec->network, alloc->pci_addr, owner);
        g_ptr_array_add(skipped, alloc);
        alloc = NULL;
    }
    for (guint i = 0; i < skipped->len; i++) {
        VrtNetworkPortAlloc *s = g_ptr_array_index(skipped, i);
        GError *err = NULL;

        if (!vrt_network_port_release(ctx->network, rec->network, s->port_uuid, &err))
            log_undo(ctx, rec->alias, "skipped port", err);
    }
    if (!alloc && error && !*error)
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                      "network '%s' requires exclusive access to interfaces, but none are available", rec->network);
    return alloc;
}

static bool
do_claim(Job *j, GError **error)
{
    VrtQemuHostdevCtx *ctx = j->ctx;
    VrtQemuHostdevRecord *rec = j->rec;
    VrtDomainNetDef *net = j->net;
    g_autoptr(VrtNetworkPortAlloc) alloc = NULL;
    VrtPciAddr a;

    if (rec->kind == VRT_QEMU_HOSTDEV_KIND_NET_NETWORK) {
        if (!ctx->network) {
            vrt_error_set(error, VIR_ERR_NO_SUPPORT, "network driver is not available");
            return false;
        }
        alloc = allocate_port(ctx, rec, net->mac, error);
        if (!alloc)
            return false;
        if (alloc->type != VRT_NETWORK_PORT_ACTUAL_HOSTDEV || !alloc->pci_addr ||
            !parse_addr(alloc->pci_addr, &a, error)) {
            GError *err = NULL;

            if (!vrt_network_port_release(ctx->network, rec->network, alloc->port_uuid, &err))
                log_undo(ctx, rec->alias, "port allocation", err);
            if (error && !*error)
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "network '%s' is not a hostdev pool", rec->network);
            return false;
        }
        ctx_lock(ctx);
        memcpy(rec->port_uuid, alloc->port_uuid, 16);
        rec->port_set = true;
        g_free(rec->addr);
        rec->addr = g_strdup(alloc->pci_addr);
        rec->managed = alloc->managed;
        net->actual.set = true;
        net->actual.type = VRT_DOMAIN_NET_TYPE_HOSTDEV;
        net->actual.hostdev_addr.domain = a.domain;
        net->actual.hostdev_addr.bus = a.bus;
        net->actual.hostdev_addr.slot = a.slot;
        net->actual.hostdev_addr.function = a.function;
        net->actual.managed = alloc->managed;
        if (alloc->vlan >= 0 && net->n_vlan_tags == 0) {
            net->actual.vlan_tags[0] = (guint)alloc->vlan;
            net->actual.n_vlan_tags = 1;
        }
        memcpy(net->port_uuid, alloc->port_uuid, 16);
        net->port_uuid_set = true;
        /* The claim is on disk in the network driver; the port uuid goes
         * into our record now so that a restart can release it. */
        if (!save_locked(ctx, error)) {
            ctx_unlock(ctx);
            return false;
        }
        ctx_unlock(ctx);
    }
    return check_free(ctx, rec, error);
}

/* Also the detach's release. */
static bool
release_port(Job *j, GError **error)
{
    VrtQemuHostdevRecord *rec = j->rec;

    if (!rec->port_set || !j->ctx->network)
        return true;
    if (!vrt_network_port_release(j->ctx->network, rec->network, rec->port_uuid, error))
        return false;
    rec->port_set = false;
    return true;
}

/* ---- save-vf, set-vf ---- */

static bool
do_save_vf(Job *j, GError **error)
{
    VrtQemuHostdevCtx *ctx = j->ctx;
    VrtQemuHostdevRecord *rec = j->rec;
    g_autofree char *drv = NULL;
    VrtPciAddr a, pf;
    VrtVfInfo info = { 0 };
    guint index;
    int is_vf;

    if (!parse_addr(rec->addr, &a, error) || !vrt_pci_get_driver(ctx->host, &a, &drv, error))
        return false;
    is_vf = vrt_sriov_get_pf(ctx->host, &a, &pf, &index, error);
    if (is_vf < 0)
        return false;
    if (!is_vf && rec->kind != VRT_QEMU_HOSTDEV_KIND_HOSTDEV) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "interface type 'hostdev' needs an SR-IOV VF; %s is not one", rec->addr);
        return false;
    }
    if (is_vf && !vrt_sriov_get_vf_config(ctx->host, &a, &info, error))
        return false;
    ctx_lock(ctx);
    rec->is_vf = is_vf;
    g_free(rec->orig_driver);
    rec->orig_driver = g_steal_pointer(&drv);
    memcpy(rec->orig_mac, info.mac, 6);
    rec->orig_vlan = info.vlan;
    rec->orig_qos = info.qos;
    rec->orig_spoofchk = info.spoofchk;
    rec->orig_trust = info.trust;
    ctx_unlock(ctx);
    return true;
}

static bool
undo_nothing(Job *j, GError **error)
{
    return true;
}

static guint
net_vlan(const VrtDomainNetDef *net)
{
    if (net->n_vlan_tags > 0)
        return net->vlan_tags[0];
    if (net->actual.set && net->actual.n_vlan_tags > 0)
        return net->actual.vlan_tags[0];
    return 0;
}

static bool
need_set_vf(Job *j)
{
    return j->net && j->rec->is_vf;
}

static bool
do_set_vf(Job *j, GError **error)
{
    return set_vf_verified(j->ctx, j->rec->addr, j->net->mac, net_vlan(j->net), 0, error);
}

/* Also the detach's restore-vf. */
static bool
restore_vf(Job *j, GError **error)
{
    VrtQemuHostdevRecord *rec = j->rec;

    return set_vf_verified(j->ctx, rec->addr, rec->orig_mac, rec->orig_vlan, rec->orig_qos, error);
}

/* ---- detach-host ---- */

static bool
need_managed(Job *j)
{
    return j->rec->managed;
}

static bool
do_detach_host(Job *j, GError **error)
{
    g_autofree char *orig = NULL;
    VrtPciAddr a;

    return parse_addr(j->rec->addr, &a, error) && vrt_pci_detach(j->ctx->host, &a, &orig, error);
}

/* Gives the VF back to its original driver unless it is there already or
 * was on vfio-pci before us. Also the detach's reattach. */
static bool
reattach_host(Job *j, GError **error)
{
    VrtQemuHostdevRecord *rec = j->rec;
    g_autofree char *cur = NULL;
    VrtPciAddr a;

    if (g_strcmp0(rec->orig_driver, VRT_PCI_VFIO_DRIVER) == 0)
        return true;
    if (!parse_addr(rec->addr, &a, error) || !vrt_pci_get_driver(j->ctx->host, &a, &cur, error))
        return false;
    if (g_strcmp0(cur, rec->orig_driver) == 0)
        return true;
    return vrt_pci_reattach(j->ctx->host, &a, rec->orig_driver, error);
}

/* ---- device-add, commit ---- */

static bool
need_hotplug(Job *j)
{
    return j->dev != NULL;
}

static VrtQemuHostdevRecord *
record_for_device(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *dev, GError **error)
{
    g_autoptr(VrtQemuHostdevRecord) rec = g_new0(VrtQemuHostdevRecord, 1);

    if (dev->type == VRT_DOMAIN_DEVICE_HOSTDEV) {
        rec->kind = VRT_QEMU_HOSTDEV_KIND_HOSTDEV;
        rec->alias = g_strdup(dev->data.hostdev->info->alias);
        rec->addr = vrt_pci_address_to_string(&dev->data.hostdev->source);
        rec->managed = dev->data.hostdev->managed;
    } else {
        VrtDomainNetDef *net = dev->data.net;

        rec->alias = g_strdup(net->info.alias);
        memcpy(rec->mac, net->mac, 6);
        if (net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV) {
            rec->kind = VRT_QEMU_HOSTDEV_KIND_NET_HOSTDEV;
            rec->addr = vrt_pci_address_to_string(&net->hostdev_source);
            rec->managed = net->managed;
        } else {
            rec->kind = VRT_QEMU_HOSTDEV_KIND_NET_NETWORK;
            rec->network = g_strdup(net->source_network);
            rec->addr = g_strdup(""); /* known after the claim */
        }
    }
    if (!rec->alias) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "device has no alias");
        return NULL;
    }
    rec->job = VRT_QEMU_HOSTDEV_JOB_ATTACH;
    return g_steal_pointer(&rec);
}

/* Refuses a device this domain already has (same MAC, VF or alias). */
static bool
check_duplicate_locked(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *dev, GError **error)
{
    const VrtPciAddress *src = NULL;

    if (dev->type == VRT_DOMAIN_DEVICE_NET) {
        VrtDomainNetDef *net = dev->data.net;

        if (net->mac_set && vrt_domain_def_find_net_by_mac(ctx->def, net->mac)) {
            char mac[VRT_MAC_STRING_LEN];

            vrt_domain_mac_format(net->mac, mac);
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "interface with MAC address %s already exists", mac);
            return false;
        }
        if (net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV)
            src = &net->hostdev_source;
    } else {
        src = &dev->data.hostdev->source;
    }
    if (src) {
        g_autofree char *addr = vrt_pci_address_to_string(src);

        if (vrt_domain_def_find_hostdev_by_source(ctx->def, src) ||
            vrt_qemu_hostdev_state_find_addr(ctx->state, addr)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s is already in use by domain %s", addr,
                          ctx->def->name);
            return false;
        }
    }
    return true;
}

/* Takes the device out of the engine's hands into ctx->def. Lock held. */
static void
insert_device_locked(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *dev)
{
    if (dev->type == VRT_DOMAIN_DEVICE_NET)
        vrt_domain_def_net_insert(ctx->def, g_steal_pointer(&dev->data.net));
    else
        vrt_domain_def_hostdev_insert(ctx->def, g_steal_pointer(&dev->data.hostdev));
}

/* Puts a device inserted by insert_device_locked back into dev (when it
 * was taken). */
static void
uninsert_device_locked(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *dev, const char *alias)
{
    if (dev->type == VRT_DOMAIN_DEVICE_NET ? dev->data.net != NULL : dev->data.hostdev != NULL)
        return;
    if (dev->type == VRT_DOMAIN_DEVICE_NET) {
        VrtDomainNetDef *net = vrt_domain_def_find_net_by_alias(ctx->def, alias);

        dev->data.net = net ? vrt_domain_def_net_remove(ctx->def, net) : NULL;
    } else {
        VrtDomainHostdevDef *h = vrt_domain_def_find_hostdev_by_alias(ctx->def, alias);

        dev->data.hostdev = h ? vrt_domain_def_hostdev_remove(ctx->def, h) : NULL;
    }
}

static JsonObject *
device_props_locked(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *dev, GError **error)
{
    VrtDomainNetDef tmp = { 0 };

    if (dev->type == VRT_DOMAIN_DEVICE_NET)
        return vrt_qemu_command_net_device_props(ctx->def, dev->data.net, error);
    /* A standalone hostdev is built as an interface of type hostdev would
     * be: same vfio-pci device, its own alias and address. */
    tmp.type = VRT_DOMAIN_NET_TYPE_HOSTDEV;
    tmp.hostdev_source = dev->data.hostdev->source;
    tmp.info = *dev->data.hostdev->info;
    return vrt_qemu_command_net_device_props(ctx->def, &tmp, error);
}

static bool
do_device_add(Job *j, GError **error)
{
    g_autoptr(JsonObject) props = NULL;

    if (j->net && !vrt_domain_net_link_hostdev(j->net, error))
        return false;
    ctx_lock(j->ctx);
    props = device_props_locked(j->ctx, j->dev, error);
    ctx_unlock(j->ctx);
    return props && j->ctx->mon->device_add(j->ctx->mon_data, props, error);
}

/* device_del and wait for the guest. */
static bool
unplug_and_wait(VrtQemuHostdevCtx *ctx, const char *alias, GError **error)
{
    if (!ctx->mon->device_del(ctx->mon_data, alias, error))
        return false;
    if (!ctx->mon->wait_deleted(ctx->mon_data, alias, unplug_wait_ms(ctx))) {
        vrt_error_set(error, VIR_ERR_OPERATION_TIMEOUT, "guest did not release device %s within %u ms", alias,
                      unplug_wait_ms(ctx));
        return false;
    }
    return true;
}

/* A guest that does not let go in time still has the VF: it must not go
 * back to the host or the pool yet. The device is then listed as an
 * attached one with its detach pending (the record becomes that job), and
 * the rollback stops; DEVICE_DELETED or recovery finish it. */
static bool
undo_device_add(Job *j, GError **error)
{
    VrtQemuHostdevCtx *ctx = j->ctx;

    if (!in_qemu(ctx, j->rec->alias) || unplug_and_wait(ctx, j->rec->alias, error))
        return true;
    ctx_lock(ctx);
    if (j->dev)
        insert_device_locked(ctx, j->dev);
    j->rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
    j->rec->running = VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL;
    ctx_unlock(ctx);
    return false;
}

/* Hotplug: the device enters nets/hostdevs; start: the interface's
 * hostdev enters hostdevs. Either way the job is over (job none). */
static bool
do_commit(Job *j, GError **error)
{
    VrtQemuHostdevCtx *ctx = j->ctx;
    bool ok;

    ctx_lock(ctx);
    if (j->dev) {
        insert_device_locked(ctx, j->dev);
    } else if (j->net) {
        if (!vrt_domain_net_link_hostdev(j->net, error)) {
            ctx_unlock(ctx);
            return false;
        }
        if (j->net->hostdev && !g_ptr_array_find(ctx->def->hostdevs, j->net->hostdev, NULL))
            g_ptr_array_add(ctx->def->hostdevs, j->net->hostdev);
    }
    j->rec->job = VRT_QEMU_HOSTDEV_JOB_NONE;
    j->rec->done |= VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_COMMIT);
    j->rec->running = VRT_QEMU_HOSTDEV_STEP_NONE;
    ok = save_locked(ctx, error);
    if (!ok) {
        j->rec->job = VRT_QEMU_HOSTDEV_JOB_ATTACH;
        j->rec->done &= ~VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_COMMIT);
        j->rec->running = VRT_QEMU_HOSTDEV_STEP_COMMIT;
    }
    ctx_unlock(ctx);
    return ok;
}

/* Removes the device of rec from both lists (if still there). Lock held. */
static void
remove_device_locked(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec)
{
    if (rec->kind == VRT_QEMU_HOSTDEV_KIND_HOSTDEV) {
        VrtDomainHostdevDef *h = vrt_domain_def_find_hostdev_by_alias(ctx->def, rec->alias);

        if (h && !h->parent_net)
            vrt_domain_hostdev_def_free(vrt_domain_def_hostdev_remove(ctx->def, h));
    } else {
        VrtDomainNetDef *net = vrt_domain_def_find_net_by_alias(ctx->def, rec->alias);

        if (net)
            vrt_domain_net_def_free(vrt_domain_def_net_remove(ctx->def, net));
    }
}

static bool
undo_commit(Job *j, GError **error)
{
    ctx_lock(j->ctx);
    if (j->dev)
        uninsert_device_locked(j->ctx, j->dev, j->rec->alias);
    else if (j->net)
        vrt_domain_def_net_unlink_hostdev(j->ctx->def, j->net);
    else
        remove_device_locked(j->ctx, j->rec); /* recovery: the status may list it */
    ctx_unlock(j->ctx);
    return true;
}

/* ---- detach: device-del, remove, reattach, restore-vf, release, done ---- */

/* One device_del, then up to unplug_wait_ms for the guest; without an
 * answer the step stays started (the unplug is pending) and
 * vrt_qemu_hostdev_device_deleted goes on from it. */
static bool
do_device_del(Job *j, GError **error)
{
    VrtQemuHostdevCtx *ctx = j->ctx;

    if (!ctx->mon->device_del(ctx->mon_data, j->rec->alias, error))
        return false;
    g_debug("domain %s: waiting up to %u ms for the guest to release %s", dom_name(ctx), unplug_wait_ms(ctx),
            j->rec->alias);
    if (!ctx->mon->wait_deleted(ctx->mon_data, j->rec->alias, unplug_wait_ms(ctx))) {
        g_info("domain %s: guest has not released %s yet; its removal completes when QEMU reports it",
               dom_name(ctx), j->rec->alias);
        j->waiting = true;
    }
    return true;
}

static bool
do_remove(Job *j, GError **error)
{
    bool ok;

    ctx_lock(j->ctx);
    remove_device_locked(j->ctx, j->rec);
    ok = save_locked(j->ctx, error);
    ctx_unlock(j->ctx);
    return ok;
}

static bool
need_netdev_del(Job *j)
{
    return j->rec->kind == VRT_QEMU_HOSTDEV_KIND_NET_EMULATED;
}

/* The interface's backend goes after its device; a netdev QEMU does not
 * have (already deleted) is no error. */
static bool
do_netdev_del(Job *j, GError **error)
{
    VrtDomainNetDef tmp = { .info.alias = j->rec->alias };
    g_autofree char *id = vrt_qemu_command_netdev_id(&tmp);
    g_autoptr(GError) err = NULL;

    if (!j->ctx->mon->netdev_del(j->ctx->mon_data, id, &err))
        g_debug("domain %s: netdev_del %s: %s", dom_name(j->ctx), id, err->message);
    return true;
}

static bool
need_reattach(Job *j)
{
    return vrt_qemu_hostdev_record_done(j->rec, VRT_QEMU_HOSTDEV_STEP_DETACH_HOST);
}

static bool
need_restore_vf(Job *j)
{
    return vrt_qemu_hostdev_record_done(j->rec, VRT_QEMU_HOSTDEV_STEP_SET_VF);
}

static bool
need_release(Job *j)
{
    return j->rec->port_set;
}

/* Drops the record: the job is over and rec is freed. */
static bool
do_done(Job *j, GError **error)
{
    bool ok;

    ctx_lock(j->ctx);
    remove_record(j->ctx, j->rec);
    j->rec = NULL;
    ok = save_locked(j->ctx, error);
    ctx_unlock(j->ctx);
    return ok;
}

/* ---- recovery decisions ---- */

static bool
wait_gone(VrtQemuHostdevCtx *ctx, const char *alias, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    do {
        g_autoptr(GPtrArray) ids = ctx->mon->list_ids(ctx->mon_data, NULL);

        if (ids && !ids_contain(ids, alias))
            return true;
        g_usleep(RECOVER_POLL_MS * 1000);
    } while (g_get_monotonic_time() < deadline);
    return false;
}

/* device_add may have gone through without the commit being written: the
 * device leaves the guest again before the VF goes back. */
static Recovery
recover_device_add(Job *j, GPtrArray *ids)
{
    VrtQemuHostdevCtx *ctx = j->ctx;
    GError *err = NULL;

    if (!ids_contain(ids, j->rec->alias))
        return RECOVER_ROLLBACK;
    if (!ctx->mon->device_del(ctx->mon_data, j->rec->alias, &err))
        log_undo(ctx, j->rec->alias, "device_add", err);
    if (wait_gone(ctx, j->rec->alias, unplug_wait_ms(ctx)))
        return RECOVER_ROLLBACK;
    g_warning("domain %s: guest still holds %s; it is given back when QEMU reports it", dom_name(ctx),
              j->rec->alias);
    ctx_lock(ctx);
    j->rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
    j->rec->running = VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL;
    ctx_unlock(ctx);
    return RECOVER_FAILED;
}

/* The guest lost the device while nobody looked: the rest of the detach
 * runs from remove. */
static Recovery
forward_from_remove(Job *j)
{
    ctx_lock(j->ctx);
    j->rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
    j->rec->done |= VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL);
    j->rec->running = VRT_QEMU_HOSTDEV_STEP_NONE;
    ctx_unlock(j->ctx);
    return RECOVER_FORWARD;
}

/* Attached (job none): still in QEMU, its port is registered again;
 * gone, its removal is finished. An attach stopped at commit: as at
 * device-add. */
static Recovery
recover_commit(Job *j, GPtrArray *ids)
{
    VrtQemuHostdevCtx *ctx = j->ctx;
    VrtQemuHostdevRecord *rec = j->rec;
    g_autoptr(GError) err = NULL;

    if (rec->job == VRT_QEMU_HOSTDEV_JOB_ATTACH)
        return recover_device_add(j, ids);
    if (!ids_contain(ids, rec->alias))
        return forward_from_remove(j);
    if (rec->port_set && ctx->network && rec->network &&
        !vrt_network_port_reserve(ctx->network, rec->network, rec->port_uuid, ctx->def->name, ctx->def->uuid,
                                  rec->mac, rec->addr, &err)) {
        g_warning("domain %s: port of %s: %s", dom_name(ctx), rec->alias, err->message);
        return RECOVER_FAILED;
    }
    return RECOVER_KEEP;
}

/* Still in the guest: the request may never have reached QEMU, so it is
 * sent again (QEMU refuses a duplicate harmlessly). */
static Recovery
recover_device_del(Job *j, GPtrArray *ids)
{
    VrtQemuHostdevCtx *ctx = j->ctx;
    g_autoptr(GError) err = NULL;

    if (!ids_contain(ids, j->rec->alias))
        return forward_from_remove(j);
    ctx_lock(ctx);
    j->rec->running = VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL;
    ctx_unlock(ctx);
    if (!ctx->mon->device_del(ctx->mon_data, j->rec->alias, &err))
        g_debug("domain %s: device_del %s again: %s", dom_name(ctx), j->rec->alias, err->message);
    if (!wait_gone(ctx, j->rec->alias, RECOVER_UNPLUG_WAIT_MS))
        return RECOVER_WAIT;
    return forward_from_remove(j);
}

/* ---- the table ---- */

#define ROW(STEP, NAME, JOB) .step = VRT_QEMU_HOSTDEV_STEP_##STEP, .name = NAME, .job = VRT_QEMU_HOSTDEV_JOB_##JOB

static const StepDef steps[] = {
    { ROW(CLAIM, "claim", ATTACH), .run = do_claim, .undo = release_port },
    { ROW(SAVE_VF, "save-vf", ATTACH), .run = do_save_vf, .undo = undo_nothing },
    { ROW(SET_VF, "set-vf", ATTACH), .needed = need_set_vf, .run = do_set_vf, .undo = restore_vf },
    { ROW(DETACH_HOST, "detach-host", ATTACH), .needed = need_managed, .run = do_detach_host, .undo = reattach_host },
    { ROW(DEVICE_ADD, "device-add", ATTACH), .needed = need_hotplug, .run = do_device_add, .undo = undo_device_add,
      .recover = recover_device_add },
    { ROW(COMMIT, "commit", ATTACH), .run = do_commit, .undo = undo_commit, .recover = recover_commit,
      .writes_status = true },
    { ROW(DEVICE_DEL, "device-del", DETACH), .run = do_device_del, .undo = undo_nothing,
      .recover = recover_device_del },
    { ROW(REMOVE, "remove", DETACH), .run = do_remove, .writes_status = true },
    { ROW(NETDEV_DEL, "netdev-del", DETACH), .needed = need_netdev_del, .run = do_netdev_del },
    { ROW(REATTACH, "reattach", DETACH), .needed = need_reattach, .run = reattach_host },
    { ROW(RESTORE_VF, "restore-vf", DETACH), .needed = need_restore_vf, .run = restore_vf },
    { ROW(RELEASE, "release", DETACH), .needed = need_release, .run = release_port },
    { ROW(DONE, "done", DETACH), .run = do_done, .writes_status = true },
};

G_STATIC_ASSERT(G_N_ELEMENTS(steps) == VRT_QEMU_HOSTDEV_N_STEPS - 1);

static const StepDef *
row_of(VrtQemuHostdevStep step)
{
    for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
        if (steps[i].step == step)
            return &steps[i];
    }
    return NULL;
}

const char *
vrt_qemu_hostdev_step_to_string(VrtQemuHostdevStep step)
{
    const StepDef *row = row_of(step);

    return step == VRT_QEMU_HOSTDEV_STEP_NONE ? "none" : row ? row->name : "unknown";
}

int
vrt_qemu_hostdev_step_from_string(const char *name)
{
    if (g_strcmp0(name, "none") == 0)
        return VRT_QEMU_HOSTDEV_STEP_NONE;
    for (guint i = 0; name && i < G_N_ELEMENTS(steps); i++) {
        if (g_str_equal(steps[i].name, name))
            return steps[i].step;
    }
    return -1;
}

/* The steps of the status format before the table, in their order. Fixed:
 * a step added to the table later never ran under the old code. */
static const VrtQemuHostdevStep old_format_steps[] = {
    VRT_QEMU_HOSTDEV_STEP_CLAIM,      VRT_QEMU_HOSTDEV_STEP_SAVE_VF,    VRT_QEMU_HOSTDEV_STEP_SET_VF,
    VRT_QEMU_HOSTDEV_STEP_DETACH_HOST, VRT_QEMU_HOSTDEV_STEP_DEVICE_ADD, VRT_QEMU_HOSTDEV_STEP_COMMIT,
    VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL, VRT_QEMU_HOSTDEV_STEP_REMOVE,     VRT_QEMU_HOSTDEV_STEP_REATTACH,
    VRT_QEMU_HOSTDEV_STEP_RESTORE_VF, VRT_QEMU_HOSTDEV_STEP_RELEASE,    VRT_QEMU_HOSTDEV_STEP_DONE,
};

void
vrt_qemu_hostdev_record_from_last_step(VrtQemuHostdevRecord *rec, VrtQemuHostdevStep old_step)
{
    bool vf_set = rec->kind != VRT_QEMU_HOSTDEV_KIND_HOSTDEV && rec->is_vf;
    /* Job none: every attach step ran; otherwise those before old_step. */
    VrtQemuHostdevStep upto = rec->job == VRT_QEMU_HOSTDEV_JOB_NONE ? VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL : old_step;

    rec->done = 0;
    rec->running = rec->job == VRT_QEMU_HOSTDEV_JOB_NONE ? VRT_QEMU_HOSTDEV_STEP_NONE : old_step;
    if (upto == VRT_QEMU_HOSTDEV_STEP_NONE)
        return;
    for (guint i = 0; i < G_N_ELEMENTS(old_format_steps) && old_format_steps[i] != upto; i++) {
        VrtQemuHostdevStep s = old_format_steps[i];

        /* The old code ran these only for an interface on a VF, and for a
         * managed device. */
        if ((s == VRT_QEMU_HOSTDEV_STEP_SET_VF || s == VRT_QEMU_HOSTDEV_STEP_RESTORE_VF) && !vf_set)
            continue;
        if ((s == VRT_QEMU_HOSTDEV_STEP_DETACH_HOST || s == VRT_QEMU_HOSTDEV_STEP_REATTACH) && !rec->managed)
            continue;
        rec->done |= VRT_QEMU_HOSTDEV_STEP_BIT(s);
    }
}

/* ---- running the table ---- */

/* Announces a step: records it as started, saves the status (unless the
 * step is itself that write), asks the fault hook. */
static bool
begin_step(Job *j, const StepDef *row, GError **error)
{
    VrtQemuHostdevCtx *ctx = j->ctx;
    VrtQemuHostdevStep old;

    ctx_lock(ctx);
    old = j->rec->running;
    j->rec->running = row->step;
    if (!row->writes_status && !save_locked(ctx, error)) {
        j->rec->running = old;
        ctx_unlock(ctx);
        return false;
    }
    ctx_unlock(ctx);
    g_debug("domain %s: %s %s: step %s", dom_name(ctx), vrt_qemu_hostdev_job_to_string(j->rec->job), j->rec->alias,
            row->name);
    return !ctx->fault || ctx->fault(vrt_qemu_hostdev_job_to_string(j->rec->job), row->name, ctx->fault_data, error);
}

static void
mark(Job *j, VrtQemuHostdevStep step, bool done)
{
    ctx_lock(j->ctx);
    if (done)
        j->rec->done |= VRT_QEMU_HOSTDEV_STEP_BIT(step);
    else
        j->rec->done &= ~VRT_QEMU_HOSTDEV_STEP_BIT(step);
    if (j->rec->running == step)
        j->rec->running = VRT_QEMU_HOSTDEV_STEP_NONE;
    ctx_unlock(j->ctx);
}

/* Runs the steps of the record's job that are not done yet, in table
 * order. Stops at a failure (the step stays started), when a step waits
 * for the guest, or when the job ends. */
static bool
run_steps(Job *j, GError **error)
{
    VrtQemuHostdevJob job = j->rec->job;

    for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
        const StepDef *row = &steps[i];

        if (row->job != job || vrt_qemu_hostdev_record_done(j->rec, row->step) || (row->needed && !row->needed(j)))
            continue;
        if (!begin_step(j, row, error) || !row->run(j, error))
            return false;
        if (!j->rec || j->waiting)
            return true;
        mark(j, row->step, true);
    }
    return true;
}

/* Undoes the recorded steps of job from top down. A step without undo
 * cannot be taken back: the walk stops there. So does a failed undo
 * (logged): the steps below stay recorded, so the VF is not given to
 * anyone while it is not clean. */
static bool
undo_steps(Job *j, VrtQemuHostdevJob job, VrtQemuHostdevStep top)
{
    for (guint i = G_N_ELEMENTS(steps); i-- > 0;) {
        const StepDef *row = &steps[i];
        GError *err = NULL;

        if (row->job != job || row->step > top || !recorded(j->rec, row->step))
            continue;
        if (!row->undo)
            return false;
        if (!row->undo(j, &err)) {
            log_undo(j->ctx, j->rec->alias, row->name, err);
            return false;
        }
        mark(j, row->step, false);
    }
    return true;
}

/* Saves after a rollback, keeping the first error. */
static void
save_after_undo(VrtQemuHostdevCtx *ctx, const char *alias)
{
    GError *err = NULL;

    ctx_lock(ctx);
    if (!save_locked(ctx, &err))
        log_undo(ctx, alias, "status write", err);
    ctx_unlock(ctx);
}

/* ---- attach ---- */

bool
vrt_qemu_hostdev_attach(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *dev, GError **error)
{
    g_autoptr(VrtQemuHostdevRecord) owned = NULL;
    VrtDomainNetDef *net = dev->type == VRT_DOMAIN_DEVICE_NET ? dev->data.net : NULL;
    Job j = { .ctx = ctx, .dev = dev, .net = net };

    if (!ctx->host) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "host device assignment is not available in this daemon");
        return false;
    }
    ctx_lock(ctx);
    if (!check_duplicate_locked(ctx, dev, error) || !vrt_domain_def_assign_device_address(ctx->def, dev, error) ||
        !(owned = record_for_device(ctx, dev, error))) {
        ctx_unlock(ctx);
        return false;
    }
    if (vrt_qemu_hostdev_state_find(ctx->state, owned->alias)) {
        ctx_unlock(ctx);
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "a device with alias %s is already being handled", owned->alias);
        return false;
    }
    j.rec = owned;
    g_ptr_array_add(ctx->state->records, g_steal_pointer(&owned));
    ctx_unlock(ctx);

    if (run_steps(&j, error)) {
        g_info("domain %s: attached %s (%s) as %s", dom_name(ctx), j.rec->addr,
               vrt_qemu_hostdev_kind_to_string(j.rec->kind), j.rec->alias);
        return true;
    }
    g_info("domain %s: attach of %s failed at step %s, undoing: %s", dom_name(ctx), j.rec->alias,
           vrt_qemu_hostdev_step_to_string(j.rec->running), error && *error ? (*error)->message : "");
    if (undo_steps(&j, VRT_QEMU_HOSTDEV_JOB_ATTACH, VRT_QEMU_HOSTDEV_STEP_COMMIT)) {
        ctx_lock(ctx);
        remove_record(ctx, j.rec);
        ctx_unlock(ctx);
    }
    save_after_undo(ctx, dev->type == VRT_DOMAIN_DEVICE_NET ? "interface" : "hostdev");
    if (net && dev->data.net) { /* still ours, not listed pending removal */
        net->actual.set = false;
        net->port_uuid_set = false;
    }
    return false;
}

/* ---- detach ---- */

char *
vrt_qemu_hostdev_find(VrtQemuHostdevCtx *ctx, const char *xml, const char *alias, GError **error)
{
    g_autoptr(VrtDomainDeviceDef) dev = NULL;
    VrtQemuHostdevRecord *rec = NULL;
    char *ret = NULL;

    ctx_lock(ctx);
    if (alias) {
        rec = vrt_qemu_hostdev_state_find(ctx->state, alias);
    } else if ((dev = vrt_domain_device_def_parse(xml, ctx->def, 0, error))) {
        if (dev->type == VRT_DOMAIN_DEVICE_NET) {
            VrtDomainNetDef *net = NULL;

            if (dev->data.net->mac_set)
                net = vrt_domain_def_find_net_by_mac(ctx->def, dev->data.net->mac);
            else if (dev->data.net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV)
                net = vrt_domain_def_find_net_by_hostdev_source(ctx->def, &dev->data.net->hostdev_source);
            else if (ctx->def->nets && ctx->def->nets->len == 1) /* as libvirt: the only one */
                net = g_ptr_array_index(ctx->def->nets, 0);
            rec = net ? vrt_qemu_hostdev_state_find(ctx->state, net->info.alias) : NULL;
        } else if (dev->type == VRT_DOMAIN_DEVICE_HOSTDEV) {
            /* The hostdev of an interface goes through the interface. */
            g_autofree char *addr = vrt_pci_address_to_string(&dev->data.hostdev->source);

            rec = vrt_qemu_hostdev_state_find_addr(ctx->state, addr);
            if (!rec)
                vrt_error_set(error, VIR_ERR_DEVICE_MISSING, "host pci device %s not found", addr);
        }
    }
    if (rec)
        ret = g_strdup(rec->alias);
    ctx_unlock(ctx);
    return ret;
}

/* Refuses a device whose record has a job running. Lock held. */
static bool
check_idle_locked(VrtQemuHostdevRecord *rec, GError **error)
{
    if (rec->job == VRT_QEMU_HOSTDEV_JOB_DETACH) {
        vrt_qemu_unplug_in_progress_error(error, rec->alias);
        return false;
    }
    if (rec->job != VRT_QEMU_HOSTDEV_JOB_NONE) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "device '%s' is being attached", rec->alias);
        return false;
    }
    return true;
}

/* Runs the detach job of j->rec (job set by the caller). */
static bool
run_detach(Job *j, GError **error)
{
    VrtQemuHostdevCtx *ctx = j->ctx;

    if (run_steps(j, error))
        return true;
    /* device_del did not go out (or QEMU refused it): the device stays
     * attached. Past it the detach cannot be taken back; recovery or the
     * next DEVICE_DELETED finishes it. */
    if (undo_steps(j, VRT_QEMU_HOSTDEV_JOB_DETACH, VRT_QEMU_HOSTDEV_STEP_DONE)) {
        ctx_lock(ctx);
        j->rec->job = VRT_QEMU_HOSTDEV_JOB_NONE;
        /* An emulated interface has a record only while it is detached. */
        if (j->rec->kind == VRT_QEMU_HOSTDEV_KIND_NET_EMULATED)
            remove_record(ctx, j->rec);
        ctx_unlock(ctx);
        save_after_undo(ctx, "detach");
    }
    return false;
}

bool
vrt_qemu_hostdev_detach(VrtQemuHostdevCtx *ctx, const char *alias, GError **error)
{
    Job j = { .ctx = ctx };

    ctx_lock(ctx);
    j.rec = vrt_qemu_hostdev_state_find(ctx->state, alias);
    if (!j.rec) {
        ctx_unlock(ctx);
        vrt_error_set(error, VIR_ERR_DEVICE_MISSING, "no device found with alias %s", alias);
        return false;
    }
    if (!check_idle_locked(j.rec, error)) {
        ctx_unlock(ctx);
        return false;
    }
    j.rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
    ctx_unlock(ctx);
    return run_detach(&j, error);
}

bool
vrt_qemu_hostdev_detach_emulated(VrtQemuHostdevCtx *ctx, const char *alias, GError **error)
{
    Job j = { .ctx = ctx };
    VrtQemuHostdevRecord *rec;

    ctx_lock(ctx);
    if ((rec = vrt_qemu_hostdev_state_find(ctx->state, alias)) && !check_idle_locked(rec, error)) {
        ctx_unlock(ctx);
        return false;
    }
    if (rec || !vrt_domain_def_find_net_by_alias(ctx->def, alias)) {
        ctx_unlock(ctx);
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "device %s is not an emulated interface", alias);
        return false;
    }
    rec = g_new0(VrtQemuHostdevRecord, 1);
    rec->alias = g_strdup(alias);
    rec->addr = g_strdup("");
    rec->kind = VRT_QEMU_HOSTDEV_KIND_NET_EMULATED;
    rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
    g_ptr_array_add(ctx->state->records, rec);
    ctx_unlock(ctx);
    j.rec = rec;
    return run_detach(&j, error);
}

bool
vrt_qemu_hostdev_device_deleted(VrtQemuHostdevCtx *ctx, const char *alias, GError **error)
{
    Job j = { .ctx = ctx };

    ctx_lock(ctx);
    j.rec = vrt_qemu_hostdev_state_find(ctx->state, alias);
    if (!j.rec) {
        ctx_unlock(ctx);
        return true;
    }
    j.rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
    ctx_unlock(ctx);
    mark(&j, VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL, true);
    if (!run_steps(&j, error))
        return false;
    g_info("domain %s: device %s removed and its VF given back", dom_name(ctx), alias);
    return true;
}

/* ---- domain start and stop ---- */

/* Runs the attach steps QEMU's start needs (no device-add) on one device;
 * on failure undoes them and drops the record. */
static bool
prepare_device(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *d, GError **error)
{
    g_autoptr(VrtQemuHostdevRecord) owned = record_for_device(ctx, d, error);
    Job j = { .ctx = ctx, .net = d->type == VRT_DOMAIN_DEVICE_NET ? d->data.net : NULL };

    if (!owned)
        return false;
    j.rec = owned;
    g_ptr_array_add(ctx->state->records, g_steal_pointer(&owned));
    if (run_steps(&j, error))
        return true;
    undo_steps(&j, VRT_QEMU_HOSTDEV_JOB_ATTACH, VRT_QEMU_HOSTDEV_STEP_COMMIT);
    remove_record(ctx, j.rec);
    return false;
}

bool
vrt_qemu_hostdev_prepare_start(VrtQemuHostdevCtx *ctx, GError **error)
{
    g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func(g_free);

    if (!ctx->def)
        return true;
    for (guint i = 0; ctx->def->nets && i < ctx->def->nets->len; i++) {
        VrtDomainDeviceDef d = { .type = VRT_DOMAIN_DEVICE_NET, .data.net = g_ptr_array_index(ctx->def->nets, i) };

        if (vrt_qemu_hostdev_wants_device(ctx, &d))
            g_ptr_array_add(devs, g_memdup2(&d, sizeof(d)));
    }
    for (guint i = 0; ctx->def->hostdevs && i < ctx->def->hostdevs->len; i++) {
        VrtDomainHostdevDef *h = g_ptr_array_index(ctx->def->hostdevs, i);
        VrtDomainDeviceDef d = { .type = VRT_DOMAIN_DEVICE_HOSTDEV, .data.hostdev = h };

        if (!h->parent_net)
            g_ptr_array_add(devs, g_memdup2(&d, sizeof(d)));
    }
    if (devs->len == 0)
        return true;
    if (!ctx->host) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "host device assignment is not available in this daemon");
        return false;
    }
    for (guint i = 0; i < devs->len; i++) {
        if (!prepare_device(ctx, g_ptr_array_index(devs, i), error)) {
            vrt_qemu_hostdev_release_all(ctx);
            return false;
        }
    }
    return true;
}

/* QEMU is gone, and with it the device_add: only the host steps are
 * undone. */
void
vrt_qemu_hostdev_release_all(VrtQemuHostdevCtx *ctx)
{
    while (ctx->state && ctx->state->records->len > 0) {
        Job j = { .ctx = ctx, .rec = g_ptr_array_index(ctx->state->records, ctx->state->records->len - 1) };

        if (!undo_steps(&j, VRT_QEMU_HOSTDEV_JOB_ATTACH, VRT_QEMU_HOSTDEV_STEP_DETACH_HOST))
            g_warning("domain %s: VF %s of %s could not be fully given back", dom_name(ctx), j.rec->addr,
                      j.rec->alias);
        if (ctx->def && j.rec->kind == VRT_QEMU_HOSTDEV_KIND_NET_NETWORK) {
            VrtDomainNetDef *net = vrt_domain_def_find_net_by_alias(ctx->def, j.rec->alias);

            if (net) {
                vrt_domain_def_net_unlink_hostdev(ctx->def, net);
                net->actual.set = false;
                net->port_uuid_set = false;
            }
        }
        remove_record(ctx, j.rec);
    }
}

/* ---- recovery ---- */

/* The row a record stopped at: the step started, else the last one done. */
static const StepDef *
current_row(const VrtQemuHostdevRecord *rec)
{
    if (rec->running != VRT_QEMU_HOSTDEV_STEP_NONE)
        return row_of(rec->running);
    for (guint i = G_N_ELEMENTS(steps); i-- > 0;) {
        if (vrt_qemu_hostdev_record_done(rec, steps[i].step))
            return &steps[i];
    }
    return NULL;
}

static bool
recover_one(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, GPtrArray *ids)
{
    g_autoptr(GError) err = NULL;
    const StepDef *row = current_row(rec);
    Job j = { .ctx = ctx, .rec = rec };
    Recovery what;

    g_info("domain %s: recovering %s (%s, job %s, step %s)", dom_name(ctx), rec->alias, rec->addr,
           vrt_qemu_hostdev_job_to_string(rec->job), row ? row->name : "none");
    if (row && row->recover)
        what = row->recover(&j, ids);
    else
        what = rec->job == VRT_QEMU_HOSTDEV_JOB_DETACH ? RECOVER_FORWARD : RECOVER_ROLLBACK;
    switch (what) {
    case RECOVER_KEEP:
    case RECOVER_WAIT:
        return true;
    case RECOVER_FAILED:
        return false;
    case RECOVER_ROLLBACK:
        if (!undo_steps(&j, VRT_QEMU_HOSTDEV_JOB_ATTACH, VRT_QEMU_HOSTDEV_STEP_COMMIT))
            return false;
        ctx_lock(ctx);
        remove_record(ctx, rec);
        ctx_unlock(ctx);
        return true;
    case RECOVER_FORWARD:
        break;
    }
    if (!run_steps(&j, &err)) {
        g_warning("domain %s: cannot finish removal of %s: %s", dom_name(ctx), rec->alias, err->message);
        return false;
    }
    return true;
}

static bool
port_referenced(VrtQemuHostdevCtx *ctx, const guchar uuid[16])
{
    for (guint i = 0; i < ctx->state->records->len; i++) {
        VrtQemuHostdevRecord *rec = g_ptr_array_index(ctx->state->records, i);

        if (rec->port_set && memcmp(rec->port_uuid, uuid, 16) == 0)
            return true;
    }
    for (guint i = 0; ctx->def->nets && i < ctx->def->nets->len; i++) {
        VrtDomainNetDef *net = g_ptr_array_index(ctx->def->nets, i);

        if (net->port_uuid_set && memcmp(net->port_uuid, uuid, 16) == 0)
            return true;
    }
    return false;
}

/* Ports claimed for this domain that nothing references: a crash between
 * the network driver's claim and our record write. Only hostdev ports are
 * released here; bridge ports belong to the emulated-interface code. */
static void
release_orphan_ports(VrtQemuHostdevCtx *ctx)
{
    g_autoptr(GPtrArray) ports = NULL;

    if (!ctx->network)
        return;
    ports = vrt_network_port_list_by_owner(ctx->network, ctx->def->uuid);
    for (guint i = 0; ports && i < ports->len; i++) {
        VrtNetworkPortInfo *p = g_ptr_array_index(ports, i);
        g_autoptr(GError) err = NULL;

        if (!p->alloc || p->alloc->type != VRT_NETWORK_PORT_ACTUAL_HOSTDEV || port_referenced(ctx, p->alloc->port_uuid))
            continue;
        g_info("domain %s: releasing unreferenced port of network %s (VF %s)", dom_name(ctx), p->network,
               p->alloc->pci_addr ? p->alloc->pci_addr : "?");
        if (!vrt_network_port_release(ctx->network, p->network, p->alloc->port_uuid, &err))
            g_warning("domain %s: %s", dom_name(ctx), err->message);
    }
}

bool
vrt_qemu_hostdev_recover(VrtQemuHostdevCtx *ctx, GError **error)
{
    g_autoptr(GPtrArray) ids = NULL;
    g_autoptr(GPtrArray) aliases = g_ptr_array_new_with_free_func(g_free);
    bool ok = true;

    ids = ctx->mon->list_ids(ctx->mon_data, error);
    if (!ids)
        return false;
    ctx_lock(ctx);
    for (guint i = 0; i < ctx->state->records->len; i++)
        g_ptr_array_add(aliases, g_strdup(((VrtQemuHostdevRecord *)g_ptr_array_index(ctx->state->records, i))->alias));
    ctx_unlock(ctx);
    for (guint i = 0; i < aliases->len; i++) {
        VrtQemuHostdevRecord *rec;

        ctx_lock(ctx);
        rec = vrt_qemu_hostdev_state_find(ctx->state, g_ptr_array_index(aliases, i));
        ctx_unlock(ctx);
        if (rec && !recover_one(ctx, rec, ids))
            ok = false;
    }
    release_orphan_ports(ctx);
    ctx_lock(ctx);
    if (!save_locked(ctx, error))
        ok = false;
    ctx_unlock(ctx);
    if (!ok && error && !*error)
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "domain %s: some host devices could not be recovered",
                      dom_name(ctx));
    return ok;
}

/* ---- invariants ---- */

bool
vrt_qemu_hostdev_check(VrtQemuHostdevCtx *ctx, GPtrArray *qemu_ids, GError **error)
{
    VrtDomainDef *def = ctx->def;

    for (guint i = 0; def->nets && i < def->nets->len; i++) {
        VrtDomainNetDef *net = g_ptr_array_index(def->nets, i);

        if (!net->hostdev)
            continue;
        if (net->hostdev->parent_net != net || !g_ptr_array_find(def->hostdevs, net->hostdev, NULL)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "interface %s and its hostdev are not linked both ways",
                          net->info.alias);
            return false;
        }
    }
    for (guint i = 0; def->hostdevs && i < def->hostdevs->len; i++) {
        VrtDomainHostdevDef *h = g_ptr_array_index(def->hostdevs, i);

        if (h->parent_net && !g_ptr_array_find(def->nets, h->parent_net, NULL)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "hostdev %s stands in for an interface that is not listed",
                          h->info->alias);
            return false;
        }
    }
    for (guint i = 0; i < ctx->state->records->len; i++) {
        VrtQemuHostdevRecord *rec = g_ptr_array_index(ctx->state->records, i);
        bool listed = rec->kind == VRT_QEMU_HOSTDEV_KIND_HOSTDEV
                          ? vrt_domain_def_find_hostdev_by_alias(def, rec->alias) != NULL
                          : vrt_domain_def_find_net_by_alias(def, rec->alias) != NULL;

        if (rec->job == VRT_QEMU_HOSTDEV_JOB_ATTACH || (rec->job == VRT_QEMU_HOSTDEV_JOB_DETACH && !vrt_qemu_hostdev_record_pending(rec))) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "device %s has an unfinished %s job at step %s", rec->alias,
                          vrt_qemu_hostdev_job_to_string(rec->job), vrt_qemu_hostdev_step_to_string(rec->running));
            return false;
        }
        if (!listed) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "device %s holds VF %s but is not in the domain", rec->alias,
                          rec->addr);
            return false;
        }
        if (qemu_ids && !ids_contain(qemu_ids, rec->alias)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "device %s is in the domain but not in QEMU", rec->alias);
            return false;
        }
        if (rec->managed && ctx->host) {
            g_autofree char *drv = NULL;
            VrtPciAddr a;

            if (!parse_addr(rec->addr, &a, error) || !vrt_pci_get_driver(ctx->host, &a, &drv, error))
                return false;
            if (g_strcmp0(drv, VRT_PCI_VFIO_DRIVER) != 0) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "VF %s of %s is on driver %s, not vfio-pci", rec->addr,
                              rec->alias, drv ? drv : "(none)");
                return false;
            }
        }
    }
    return true;
}
