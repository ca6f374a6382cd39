/*
 * The steps of the hostdev job and their table (rows {step, name, needed,
 * do, undo, recover}): what each step does to the host, QEMU and the
 * domain's lists, what takes it back, and what a restarted daemon does
 * with a record that stopped at it, after looking at QEMU. Also the step
 * names (in the status file and VRT_FAULT_DIE_AT) and the mapping of
 * records of vrt before the table (only the last step started) to the
 * steps that had run. The engine that runs the table forward, walks it
 * back and recovers is in qemu_hostdev.c. Undo and recovery never trust
 * the record alone: they read the VF's driver and settings and QEMU's
 * device list and act on what is there, so running them twice is
 * harmless. A new step is one row here plus its functions.
 */
#include "drivers/qemu/qemu_hostdev_priv.h"
#include "drivers/qemu/qemu_command.h"
#include "host/sriov.h"
#include "util/error.h"

#include <string.h>

/* How often recovery polls QEMU's device list for a device it unplugs. */
#define RECOVER_POLL_MS 50
/* How long recovery waits for a guest to release a device whose unplug it
 * re-requested; longer and the removal completes on DEVICE_DELETED. */
#define RECOVER_UNPLUG_WAIT_MS 1000

static guint
unplug_wait_ms(VrtQemuHostdevCtx *ctx)
{
    return ctx->unplug_wait_ms ? ctx->unplug_wait_ms : VRT_QEMU_UNPLUG_WAIT_MS;
}

/* Whether QEMU has the device; when it cannot say, assume it has. */
static bool
in_qemu(VrtQemuHostdevCtx *ctx, const char *alias)
{
    g_autoptr(GPtrArray) ids = ctx->mon->list_ids(ctx->mon_data, NULL);

    return !ids || ids_contain(ids, alias);
}

/* ---- the VF's settings ---- */

/* Sets MAC and VLAN and reads them back. */
static bool
set_vf_verified(VrtQemuHostdevCtx *ctx, const VrtPciAddr *addr, const guint8 mac[6], guint vlan, guint qos,
                GError **error)
{
    VrtVfInfo want = { 0 };
    VrtVfInfo got = { 0 };

    memcpy(want.mac, mac, 6);
    want.vlan = vlan;
    want.qos = qos;
    if (!vrt_sriov_set_vf_config(ctx->host, addr, &want, VRT_VF_FIELD_MAC | VRT_VF_FIELD_VLAN, error) ||
        !vrt_sriov_get_vf_config(ctx->host, addr, &got, error))
        return false;
    if (memcmp(got.mac, want.mac, 6) != 0 || got.vlan != want.vlan) {
        char m1[VRT_MAC_STRING_LEN], m2[VRT_MAC_STRING_LEN];
        char a[VRT_PCI_ADDR_STRING_LEN];

        vrt_mac_format(want.mac, m1);
        vrt_mac_format(got.mac, m2);
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "VF %s kept MAC %s VLAN %u after setting MAC %s VLAN %u",
                      vrt_pci_addr_format_buf(addr, a), m2, got.vlan, m1, want.vlan);
        return false;
    }
    return true;
}

/* ---- the steps: claim ---- */

bool
vrt_qemu_hostdev_claim_group(VrtVfRegistry *vfs, VrtHost *host, const VrtPciAddr *a, VrtVfHolder *holder,
                             GError **error)
{
    g_autoptr(GPtrArray) mates = NULL;
    int group = vrt_pci_get_iommu_group(host, a, NULL);

    if (group >= 0)
        mates = vrt_pci_iommu_group_devices(host, group, NULL);
    return vrt_vf_registry_claim_in_group(vfs, a, mates, holder, NULL, error);
}

bool
vrt_qemu_hostdev_host_usable(VrtHost *host, const VrtPciAddr *a, bool managed, GError **error)
{
    g_autofree char *why = NULL;
    g_autofree char *drv = NULL;
    char addr[VRT_PCI_ADDR_STRING_LEN];
    int busy = vrt_pci_is_busy_on_host(host, a, &why, error);

    vrt_pci_addr_format_buf(a, addr);
    if (busy < 0)
        return false;
    if (busy) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s is in use by the host: %s", addr,
                      why ? why : "busy");
        return false;
    }
    if (managed)
        return true;
    if (!vrt_pci_get_driver(host, a, &drv, error))
        return false;
    if (g_strcmp0(drv, VRT_PCI_VFIO_DRIVER) != 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                      "PCI device %s is not bound to vfio-pci (managed='no' needs nodedev-detach first)", addr);
        return false;
    }
    return true;
}

/* Claims the VF in the registry (check and take in one step: a pool's VF
 * is its port's already, a device by address becomes the domain's until
 * its last record goes; a mate of the VF's IOMMU group held for another
 * domain, running or its claim rebuilt by a restarted vrtd from its
 * status, refuses it, as libvirt's hostdev manager does), then checks
 * that the host itself does not use it; managed='no' needs it on
 * vfio-pci already. */
static bool
check_free(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, GError **error)
{
    const VrtPciAddr *a = record_pci(rec, error);
    char addr[VRT_PCI_ADDR_STRING_LEN];

    if (!a)
        return false;
    if (ctx->vfs) {
        g_autoptr(VrtVfHolder) holder = record_holder(ctx, rec);

        if (!vrt_qemu_hostdev_claim_group(ctx->vfs, ctx->host, a, holder, error))
            return false;
    }
    if (!vrt_pci_exists(ctx->host, a)) {
        vrt_error_set(error, VIR_ERR_NO_DEVICE, "PCI device %s not found on the host",
                      vrt_pci_addr_format_buf(a, addr));
        return false;
    }
    return vrt_qemu_hostdev_host_usable(ctx->host, a, rec->managed, error);
}

/* Allocates a pool port: the network driver picks a VF nobody holds in
 * the registry (another domain's <hostdev>, a node device operation, a
 * port of any network) and the host does not use. An interface that comes
 * with its port (a migration claimed it before the transfer, or keeps the
 * source's VF for its re-plug) takes that port, its VF already chosen. */
static VrtNetworkPortAlloc *
allocate_port(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, const VrtDomainNetDef *net, GError **error)
{
    if (net->port_uuid_set)
        return vrt_network_port_allocate_uuid(ctx->network, rec->network, ctx->def->name, ctx->def->uuid, net->mac,
                                              net->port_uuid, error);
    return vrt_network_port_allocate(ctx->network, rec->network, ctx->def->name, ctx->def->uuid, net->mac, error);
}

static bool
do_claim(Job *j, GError **error)
{
    VrtQemuHostdevCtx *ctx = j->ctx;
    VrtQemuHostdevRecord *rec = j->rec;
    VrtDomainNetDef *net = j->net;
    g_autoptr(VrtNetworkPortAlloc) alloc = NULL;

    if (rec->kind == VRT_QEMU_HOSTDEV_KIND_NET_NETWORK) {
        if (!ctx->network) {
            vrt_error_set(error, VIR_ERR_NO_SUPPORT, "network driver is not available");
            return false;
        }
        alloc = allocate_port(ctx, rec, net, error);
        if (!alloc)
            return false;
        if (alloc->type != VRT_NETWORK_PORT_ACTUAL_HOSTDEV) {
            GError *err = NULL;

            if (!vrt_network_port_release(ctx->network, rec->network, alloc->port_uuid, &err))
                log_undo(ctx, rec->alias, "port allocation", err);
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "network '%s' is not a hostdev pool", rec->network);
            return false;
        }
        {
            g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

            memcpy(rec->port_uuid, alloc->port_uuid, 16);
            rec->port_set = true;
            rec->addr = alloc->pci_addr;
            rec->addr_set = true;
            rec->managed = alloc->managed;
            net->actual.set = true;
            net->actual.type = VRT_DOMAIN_NET_TYPE_HOSTDEV;
            net->actual.hostdev_addr = alloc->pci_addr;
            net->actual.managed = alloc->managed;
            if (alloc->vlan >= 0 && net->n_vlan_tags == 0) {
                net->actual.vlan_tags[0] = (guint)alloc->vlan;
                net->actual.n_vlan_tags = 1;
            }
            memcpy(net->port_uuid, alloc->port_uuid, 16);
            net->port_uuid_set = true;
            /* The claim is on disk in the network driver; the port uuid goes
             * into our record now so that a restart can release it. */
            if (!save_locked(ctx, error))
                return false;
        }
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
    const VrtPciAddr *a = record_pci(rec, error);
    VrtPciAddr pf;
    VrtVfInfo info = { 0 };
    guint index;
    int is_vf;

    if (!a || !vrt_pci_get_driver(ctx->host, a, &drv, error))
        return false;
    is_vf = vrt_sriov_get_pf(ctx->host, a, &pf, &index, error);
    if (is_vf < 0)
        return false;
    if (!is_vf && rec->kind != VRT_QEMU_HOSTDEV_KIND_HOSTDEV) {
        char addr[VRT_PCI_ADDR_STRING_LEN];

        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "interface type 'hostdev' needs an SR-IOV VF; %s is not one",
                      vrt_pci_addr_format_buf(a, addr));
        return false;
    }
    if (is_vf && !vrt_sriov_get_vf_config(ctx->host, a, &info, error))
        return false;
    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        rec->is_vf = is_vf;
        g_free(rec->orig_driver);
        rec->orig_driver = g_steal_pointer(&drv);
        memcpy(rec->orig_mac, info.mac, 6);
        rec->orig_vlan = info.vlan;
        rec->orig_qos = info.qos;
        rec->orig_spoofchk = info.spoofchk;
        rec->orig_trust = info.trust;
    }
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
    const VrtPciAddr *a = record_pci(j->rec, error);

    return a && set_vf_verified(j->ctx, a, j->net->mac, net_vlan(j->net), 0, error);
}

/* Also the detach's restore-vf. */
static bool
restore_vf(Job *j, GError **error)
{
    VrtQemuHostdevRecord *rec = j->rec;
    const VrtPciAddr *a = record_pci(rec, error);

    return a && set_vf_verified(j->ctx, a, rec->orig_mac, rec->orig_vlan, rec->orig_qos, error);
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
    const VrtPciAddr *a = record_pci(j->rec, error);

    return a && vrt_pci_detach(j->ctx->host, a, &orig, error);
}

/* Gives the VF back to its original driver unless it is there already or
 * was on vfio-pci before us. Also the detach's reattach. */
static bool
reattach_host(Job *j, GError **error)
{
    VrtQemuHostdevRecord *rec = j->rec;
    g_autofree char *cur = NULL;
    const VrtPciAddr *a;

    if (g_strcmp0(rec->orig_driver, VRT_PCI_VFIO_DRIVER) == 0)
        return true;
    if (!(a = record_pci(rec, error)) || !vrt_pci_get_driver(j->ctx->host, a, &cur, error))
        return false;
    if (g_strcmp0(cur, rec->orig_driver) == 0)
        return true;
    return vrt_pci_reattach(j->ctx->host, a, rec->orig_driver, error);
}

/* ---- device-add, commit ---- */

static bool
need_hotplug(Job *j)
{
    return j->dev != NULL;
}

/* Takes the device out of the engine's hands into ctx->def. ctx lock held. */
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
    if (dev->type == VRT_DOMAIN_DEVICE_NET)
        return vrt_qemu_command_net_device_props(ctx->def, dev->data.net, error);
    return vrt_qemu_command_hostdev_device_props(ctx->def, dev->data.hostdev);
}

/* The VFIO group of the job's function, for QEMU (ctx->vfio_grant). */
static bool
vfio_grant(Job *j, GError **error)
{
    const VrtPciAddr *a;

    if (!j->ctx->vfio_grant)
        return true;
    return (a = record_pci(j->rec, error)) && j->ctx->vfio_grant(j->ctx->data, a, error);
}

static void
vfio_revoke(Job *j)
{
    const VrtPciAddr *a;
    g_autoptr(GError) err = NULL;

    if (j->ctx->vfio_revoke && (a = record_pci(j->rec, &err)))
        j->ctx->vfio_revoke(j->ctx->data, a);
}

static bool
do_device_add(Job *j, GError **error)
{
    g_autoptr(JsonObject) props = NULL;

    if (j->net && !vrt_domain_net_link_hostdev(j->net, error))
        return false;
    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(j->ctx);

        props = device_props_locked(j->ctx, j->dev, error);
    }
    if (!props || !vfio_grant(j, error))
        return false;
    if (j->ctx->mon->device_add(j->ctx->mon_data, props, error))
        return true;
    vfio_revoke(j);
    return false;
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

    if (!in_qemu(ctx, j->rec->alias) || unplug_and_wait(ctx, j->rec->alias, error)) {
        vfio_revoke(j);
        return true;
    }
    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        if (j->dev)
            insert_device_locked(ctx, j->dev);
        j->rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
        j->rec->running = VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL;
    }
    return false;
}

/* Hotplug: the device enters nets/hostdevs; start: the interface's
 * hostdev enters hostdevs. Either way the job is over (job none). */
static bool
do_commit(Job *j, GError **error)
{
    VrtQemuHostdevCtx *ctx = j->ctx;
    bool ok;

    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        if (j->dev) {
            insert_device_locked(ctx, j->dev);
        } else if (j->net) {
            if (!vrt_domain_net_link_hostdev(j->net, error))
                return false;
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
    }
    return ok;
}

/* Removes the device of rec from both lists (if still there). ctx lock held. */
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
    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(j->ctx);

        if (j->dev)
            uninsert_device_locked(j->ctx, j->dev, j->rec->alias);
        else if (j->net)
            vrt_domain_def_net_unlink_hostdev(j->ctx->def, j->net);
        else
            remove_device_locked(j->ctx, j->rec); /* recovery: the status may list it */
    }
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
        g_info("domain %s: guest has not released %s yet; its removal completes when QEMU reports it", dom_name(ctx),
               j->rec->alias);
        j->waiting = true;
    }
    return true;
}

static bool
do_remove(Job *j, GError **error)
{
    bool ok;

    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(j->ctx);

        remove_device_locked(j->ctx, j->rec);
        ok = save_locked(j->ctx, error);
    }
    /* QEMU let go of the device: its group goes back before the VF does */
    vfio_revoke(j);
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

    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(j->ctx);

        remove_record(j->ctx, j->rec);
        j->rec = NULL;
        ok = save_locked(j->ctx, error);
    }
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
    g_warning("domain %s: guest still holds %s; it is given back when QEMU reports it", dom_name(ctx), j->rec->alias);
    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        j->rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
        j->rec->running = VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL;
    }
    return RECOVER_FAILED;
}

/* The guest lost the device while nobody looked: the rest of the detach
 * runs from remove. */
static Recovery
forward_from_remove(Job *j)
{
    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(j->ctx);

        j->rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
        j->rec->done |= VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL);
        j->rec->running = VRT_QEMU_HOSTDEV_STEP_NONE;
    }
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
        !vrt_network_port_reserve(ctx->network, rec->network, rec->port_uuid, ctx->def->name, ctx->def->uuid, rec->mac,
                                  rec->addr_set ? &rec->addr : NULL, &err)) {
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
    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        j->rec->running = VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL;
    }
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

G_STATIC_ASSERT(G_N_ELEMENTS(steps) == VRT_QEMU_HOSTDEV_N_ROWS);

/* The engine reads the table through this (its size is checked above). */
const StepDef *const vrt_qemu_hostdev_steps = steps;

/* ---- step names, and records of older vrt ---- */

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
    VRT_QEMU_HOSTDEV_STEP_CLAIM,       VRT_QEMU_HOSTDEV_STEP_SAVE_VF,    VRT_QEMU_HOSTDEV_STEP_SET_VF,
    VRT_QEMU_HOSTDEV_STEP_DETACH_HOST, VRT_QEMU_HOSTDEV_STEP_DEVICE_ADD, VRT_QEMU_HOSTDEV_STEP_COMMIT,
    VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL,  VRT_QEMU_HOSTDEV_STEP_REMOVE,     VRT_QEMU_HOSTDEV_STEP_REATTACH,
    VRT_QEMU_HOSTDEV_STEP_RESTORE_VF,  VRT_QEMU_HOSTDEV_STEP_RELEASE,    VRT_QEMU_HOSTDEV_STEP_DONE,
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
