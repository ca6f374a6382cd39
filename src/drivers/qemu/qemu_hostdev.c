/*
 * The hostdev hotplug job: attach and detach of SR-IOV VFs (and other PCI
 * functions) as a sequence of recorded steps with rollback, the pending
 * unplug, and recovery after a restart. Each step is announced by saving
 * the device's record (step + what undo needs) through ctx->save_status
 * before the host or QEMU is touched, then the fault hook is asked, then
 * the step runs. Undo and recovery never trust the record alone: they read
 * the VF's driver and settings and QEMU's device list and act on what is
 * there, so running them twice is harmless. See qemu_hostdev.h.
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
    return ctx->unplug_wait_ms ? ctx->unplug_wait_ms : VRT_QEMU_HOSTDEV_UNPLUG_WAIT_MS;
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

/* Announces a step: records it, saves the status, asks the fault hook. */
static bool
begin_step(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, VrtQemuHostdevStep step, GError **error)
{
    VrtQemuHostdevStep old;

    ctx_lock(ctx);
    old = rec->step;
    rec->step = step;
    if (!save_locked(ctx, error)) {
        rec->step = old;
        ctx_unlock(ctx);
        return false;
    }
    ctx_unlock(ctx);
    g_debug("domain %s: %s %s: step %s", dom_name(ctx), vrt_qemu_hostdev_job_to_string(rec->job), rec->alias,
            vrt_qemu_hostdev_step_to_string(step));
    if (ctx->fault &&
        !ctx->fault(vrt_qemu_hostdev_job_to_string(rec->job), vrt_qemu_hostdev_step_to_string(step),
                    ctx->fault_data, error))
        return false;
    return true;
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

static void
remove_record(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec)
{
    g_ptr_array_remove(ctx->state->records, rec);
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

/* Gives a VF back to its original driver when it is on vfio-pci because
 * of us. */
static bool
undo_detach_host(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, GError **error)
{
    g_autofree char *cur = NULL;
    VrtPciAddr a;

    if (!rec->managed || !rec->saved || g_strcmp0(rec->orig_driver, VRT_PCI_VFIO_DRIVER) == 0)
        return true;
    if (!parse_addr(rec->addr, &a, error) || !vrt_pci_get_driver(ctx->host, &a, &cur, error))
        return false;
    if (g_strcmp0(cur, rec->orig_driver) == 0)
        return true;
    return vrt_pci_reattach(ctx->host, &a, rec->orig_driver, error);
}

static bool
undo_set_vf(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, GError **error)
{
    if (!rec->is_vf || !rec->saved || rec->kind == VRT_QEMU_HOSTDEV_KIND_HOSTDEV)
        return true;
    return set_vf_verified(ctx, rec->addr, rec->orig_mac, rec->orig_vlan, rec->orig_qos, error);
}

static bool
release_port(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, GError **error)
{
    if (!rec->port_set || !ctx->network)
        return true;
    if (!vrt_network_port_release(ctx->network, rec->network, rec->port_uuid, error))
        return false;
    rec->port_set = false;
    return true;
}

/* Undoes the host side of a record from its step down (VF driver, VF
 * settings, port). Errors are logged; false when any undo failed. */
static bool
undo_host(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec)
{
    GError *err = NULL;
    bool ok = true;

    if (rec->step >= VRT_QEMU_HOSTDEV_STEP_DETACH_HOST && !undo_detach_host(ctx, rec, &err)) {
        log_undo(ctx, rec->alias, "detach from the host driver", err);
        ok = false;
        err = NULL;
    }
    if (rec->step >= VRT_QEMU_HOSTDEV_STEP_SET_VF && !undo_set_vf(ctx, rec, &err)) {
        log_undo(ctx, rec->alias, "VF MAC/VLAN", err);
        ok = false;
        err = NULL;
    }
    /* The port goes back only once the VF is clean. */
    if (ok && !release_port(ctx, rec, &err)) {
        log_undo(ctx, rec->alias, "port allocation", err);
        ok = false;
    }
    return ok;
}

/* ---- attach ---- */

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
step_claim(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, VrtDomainNetDef *net, GError **error)
{
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

static bool
step_save_vf(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, GError **error)
{
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
    rec->saved = true;
    ctx_unlock(ctx);
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

/* The host-side steps shared by hotplug and domain start. */
static bool
prepare_host(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, VrtDomainNetDef *net, GError **error)
{
    VrtPciAddr a;

    if (!begin_step(ctx, rec, VRT_QEMU_HOSTDEV_STEP_CLAIM, error) || !step_claim(ctx, rec, net, error))
        return false;
    if (!begin_step(ctx, rec, VRT_QEMU_HOSTDEV_STEP_SAVE_VF, error) || !step_save_vf(ctx, rec, error))
        return false;
    if (net && rec->is_vf) {
        if (!begin_step(ctx, rec, VRT_QEMU_HOSTDEV_STEP_SET_VF, error) ||
            !set_vf_verified(ctx, rec->addr, net->mac, net_vlan(net), 0, error))
            return false;
    }
    if (rec->managed) {
        g_autofree char *orig = NULL;

        if (!begin_step(ctx, rec, VRT_QEMU_HOSTDEV_STEP_DETACH_HOST, error) || !parse_addr(rec->addr, &a, error) ||
            !vrt_pci_detach(ctx->host, &a, &orig, error))
            return false;
    }
    return true;
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

/* Takes the device out of the engine's hands into ctx->def. Lock held. */
static void
insert_device_locked(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *dev)
{
    if (dev->type == VRT_DOMAIN_DEVICE_NET)
        vrt_domain_def_net_insert(ctx->def, g_steal_pointer(&dev->data.net));
    else
        vrt_domain_def_hostdev_insert(ctx->def, g_steal_pointer(&dev->data.hostdev));
}

/* Puts a device inserted by insert_device_locked back into dev. */
static void
uninsert_device_locked(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *dev, const char *alias)
{
    if (dev->type == VRT_DOMAIN_DEVICE_NET) {
        VrtDomainNetDef *net = vrt_domain_def_find_net_by_alias(ctx->def, alias);

        dev->data.net = net ? vrt_domain_def_net_remove(ctx->def, net) : NULL;
    } else {
        VrtDomainHostdevDef *h = vrt_domain_def_find_hostdev_by_alias(ctx->def, alias);

        dev->data.hostdev = h ? vrt_domain_def_hostdev_remove(ctx->def, h) : NULL;
    }
}

/* device_del and wait for the guest; used by rollback and recovery. */
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

bool
vrt_qemu_hostdev_attach(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *dev, GError **error)
{
    g_autoptr(VrtQemuHostdevRecord) owned = NULL;
    g_autoptr(JsonObject) props = NULL;
    VrtQemuHostdevRecord *rec;
    VrtDomainNetDef *net = dev->type == VRT_DOMAIN_DEVICE_NET ? dev->data.net : NULL;
    bool added = false;
    GError *err = NULL;

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
    rec = owned;
    g_ptr_array_add(ctx->state->records, g_steal_pointer(&owned));
    ctx_unlock(ctx);

    if (!prepare_host(ctx, rec, net, error))
        goto rollback;
    if (net && !vrt_domain_net_link_hostdev(net, error))
        goto rollback;

    if (!begin_step(ctx, rec, VRT_QEMU_HOSTDEV_STEP_DEVICE_ADD, error))
        goto rollback;
    ctx_lock(ctx);
    props = device_props_locked(ctx, dev, error);
    ctx_unlock(ctx);
    if (!props || !ctx->mon->device_add(ctx->mon_data, props, error))
        goto rollback;
    added = true;

    if (ctx->fault && !ctx->fault("attach", "commit", ctx->fault_data, error))
        goto rollback;
    ctx_lock(ctx);
    insert_device_locked(ctx, dev);
    rec->job = VRT_QEMU_HOSTDEV_JOB_NONE;
    rec->step = VRT_QEMU_HOSTDEV_STEP_COMMIT;
    if (!save_locked(ctx, error)) {
        uninsert_device_locked(ctx, dev, rec->alias);
        rec->job = VRT_QEMU_HOSTDEV_JOB_ATTACH;
        rec->step = VRT_QEMU_HOSTDEV_STEP_DEVICE_ADD;
        ctx_unlock(ctx);
        goto rollback;
    }
    ctx_unlock(ctx);
    g_info("domain %s: attached %s (%s) as %s", dom_name(ctx), rec->addr, vrt_qemu_hostdev_kind_to_string(rec->kind),
           rec->alias);
    return true;

rollback:
    g_info("domain %s: attach of %s failed at step %s, undoing: %s", dom_name(ctx), rec->alias,
           vrt_qemu_hostdev_step_to_string(rec->step), error && *error ? (*error)->message : "");
    if (added && !unplug_and_wait(ctx, rec->alias, &err))
        log_undo(ctx, rec->alias, "device_add", g_steal_pointer(&err));
    if (undo_host(ctx, rec)) {
        ctx_lock(ctx);
        remove_record(ctx, rec);
        if (!save_locked(ctx, &err))
            log_undo(ctx, "status", "status write", g_steal_pointer(&err));
        ctx_unlock(ctx);
    }
    if (net) {
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

bool
vrt_qemu_hostdev_detach(VrtQemuHostdevCtx *ctx, const char *alias, GError **error)
{
    VrtQemuHostdevRecord *rec;

    ctx_lock(ctx);
    rec = vrt_qemu_hostdev_state_find(ctx->state, alias);
    if (!rec) {
        ctx_unlock(ctx);
        vrt_error_set(error, VIR_ERR_DEVICE_MISSING, "no device found with alias %s", alias);
        return false;
    }
    if (rec->pending || rec->job == VRT_QEMU_HOSTDEV_JOB_DETACH) {
        ctx_unlock(ctx);
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED,
                      "unplug of device '%s' is already in progress: waiting for the guest to release it", alias);
        return false;
    }
    if (rec->job != VRT_QEMU_HOSTDEV_JOB_NONE) {
        ctx_unlock(ctx);
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "device '%s' is being attached", alias);
        return false;
    }
    rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
    rec->pending = true;
    ctx_unlock(ctx);

    if (!begin_step(ctx, rec, VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL, error) ||
        !ctx->mon->device_del(ctx->mon_data, alias, error)) {
        GError *err = NULL;

        ctx_lock(ctx);
        rec->job = VRT_QEMU_HOSTDEV_JOB_NONE;
        rec->step = VRT_QEMU_HOSTDEV_STEP_COMMIT;
        rec->pending = false;
        if (!save_locked(ctx, &err))
            log_undo(ctx, alias, "status write", err);
        ctx_unlock(ctx);
        return false;
    }
    g_debug("domain %s: waiting up to %u ms for the guest to release %s", dom_name(ctx), unplug_wait_ms(ctx), alias);
    if (!ctx->mon->wait_deleted(ctx->mon_data, alias, unplug_wait_ms(ctx))) {
        g_info("domain %s: guest has not released %s yet; its removal completes when QEMU reports it",
               dom_name(ctx), alias);
        return true;
    }
    return vrt_qemu_hostdev_device_deleted(ctx, alias, error);
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

bool
vrt_qemu_hostdev_device_deleted(VrtQemuHostdevCtx *ctx, const char *alias, GError **error)
{
    VrtQemuHostdevRecord *rec;

    ctx_lock(ctx);
    rec = vrt_qemu_hostdev_state_find(ctx->state, alias);
    if (!rec) {
        ctx_unlock(ctx);
        return true;
    }
    rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
    rec->pending = false;
    ctx_unlock(ctx);

    if (rec->step <= VRT_QEMU_HOSTDEV_STEP_REMOVE) {
        if (!begin_step(ctx, rec, VRT_QEMU_HOSTDEV_STEP_REMOVE, error))
            return false;
        ctx_lock(ctx);
        remove_device_locked(ctx, rec);
        if (!save_locked(ctx, error)) {
            ctx_unlock(ctx);
            return false;
        }
        ctx_unlock(ctx);
    }
    if (rec->step <= VRT_QEMU_HOSTDEV_STEP_REATTACH) {
        if (!begin_step(ctx, rec, VRT_QEMU_HOSTDEV_STEP_REATTACH, error) || !undo_detach_host(ctx, rec, error))
            return false;
    }
    if (rec->step <= VRT_QEMU_HOSTDEV_STEP_RESTORE_VF) {
        if (!begin_step(ctx, rec, VRT_QEMU_HOSTDEV_STEP_RESTORE_VF, error) || !undo_set_vf(ctx, rec, error))
            return false;
    }
    if (rec->step <= VRT_QEMU_HOSTDEV_STEP_RELEASE) {
        if (!begin_step(ctx, rec, VRT_QEMU_HOSTDEV_STEP_RELEASE, error) || !release_port(ctx, rec, error))
            return false;
    }
    if (ctx->fault && !ctx->fault("detach", "done", ctx->fault_data, error))
        return false;
    ctx_lock(ctx);
    remove_record(ctx, rec);
    if (!save_locked(ctx, error)) {
        ctx_unlock(ctx);
        return false;
    }
    ctx_unlock(ctx);
    g_info("domain %s: device %s removed and its VF given back", dom_name(ctx), alias);
    return true;
}

/* ---- domain start and stop ---- */

bool
vrt_qemu_hostdev_prepare_start(VrtQemuHostdevCtx *ctx, GError **error)
{
    g_autoptr(GPtrArray) devs = g_ptr_array_new();

    if (!ctx->def)
        return true;
    for (guint i = 0; ctx->def->nets && i < ctx->def->nets->len; i++) {
        VrtDomainNetDef *net = g_ptr_array_index(ctx->def->nets, i);
        VrtDomainDeviceDef d = { .type = VRT_DOMAIN_DEVICE_NET, .data.net = net };

        if (vrt_qemu_hostdev_wants_device(ctx, &d))
            g_ptr_array_add(devs, net);
    }
    if (devs->len == 0 && (!ctx->def->hostdevs || ctx->def->hostdevs->len == 0))
        return true;
    if (!ctx->host) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "host device assignment is not available in this daemon");
        return false;
    }
    for (guint i = 0; i < devs->len; i++) {
        VrtDomainNetDef *net = g_ptr_array_index(devs, i);
        VrtDomainDeviceDef d = { .type = VRT_DOMAIN_DEVICE_NET, .data.net = net };
        g_autoptr(VrtQemuHostdevRecord) owned = record_for_device(ctx, &d, error);
        VrtQemuHostdevRecord *rec = owned;

        if (!owned)
            goto fail;
        g_ptr_array_add(ctx->state->records, g_steal_pointer(&owned));
        if (!prepare_host(ctx, rec, net, error) || !vrt_domain_net_link_hostdev(net, error)) {
            undo_host(ctx, rec);
            remove_record(ctx, rec);
            goto fail;
        }
        /* net was already in the list: add its new hostdev to hostdevs. */
        if (net->hostdev && !g_ptr_array_find(ctx->def->hostdevs, net->hostdev, NULL))
            g_ptr_array_add(ctx->def->hostdevs, net->hostdev);
        rec->job = VRT_QEMU_HOSTDEV_JOB_NONE;
        rec->step = VRT_QEMU_HOSTDEV_STEP_COMMIT;
    }
    for (guint i = 0; ctx->def->hostdevs && i < ctx->def->hostdevs->len; i++) {
        VrtDomainHostdevDef *h = g_ptr_array_index(ctx->def->hostdevs, i);
        VrtDomainDeviceDef d = { .type = VRT_DOMAIN_DEVICE_HOSTDEV, .data.hostdev = h };
        g_autoptr(VrtQemuHostdevRecord) owned = NULL;
        VrtQemuHostdevRecord *rec;

        if (h->parent_net)
            continue;
        if (!(owned = record_for_device(ctx, &d, error)))
            goto fail;
        rec = owned;
        g_ptr_array_add(ctx->state->records, g_steal_pointer(&owned));
        if (!prepare_host(ctx, rec, NULL, error)) {
            undo_host(ctx, rec);
            remove_record(ctx, rec);
            goto fail;
        }
        rec->job = VRT_QEMU_HOSTDEV_JOB_NONE;
        rec->step = VRT_QEMU_HOSTDEV_STEP_COMMIT;
    }
    return true;

fail:
    vrt_qemu_hostdev_release_all(ctx);
    return false;
}

void
vrt_qemu_hostdev_release_all(VrtQemuHostdevCtx *ctx)
{
    while (ctx->state && ctx->state->records->len > 0) {
        VrtQemuHostdevRecord *rec = g_ptr_array_index(ctx->state->records, ctx->state->records->len - 1);

        if (!undo_host(ctx, rec))
            g_warning("domain %s: VF %s of %s could not be fully given back", dom_name(ctx), rec->addr, rec->alias);
        if (ctx->def && rec->kind == VRT_QEMU_HOSTDEV_KIND_NET_NETWORK) {
            VrtDomainNetDef *net = vrt_domain_def_find_net_by_alias(ctx->def, rec->alias);

            if (net) {
                vrt_domain_def_net_unlink_hostdev(ctx->def, net);
                net->actual.set = false;
                net->port_uuid_set = false;
            }
        }
        remove_record(ctx, rec);
    }
}

/* ---- recovery ---- */

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

static bool
recover_attach(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, GPtrArray *ids)
{
    GError *err = NULL;

    if (ids_contain(ids, rec->alias)) {
        /* device_add went through but the commit was not written: take
         * it out of the guest again before the VF goes back. */
        if (!ctx->mon->device_del(ctx->mon_data, rec->alias, &err))
            log_undo(ctx, rec->alias, "device_add", g_steal_pointer(&err));
        if (!wait_gone(ctx, rec->alias, unplug_wait_ms(ctx))) {
            g_warning("domain %s: guest still holds %s; it is given back when QEMU reports it", dom_name(ctx),
                      rec->alias);
            rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
            rec->step = VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL;
            rec->pending = true;
            return false;
        }
    }
    ctx_lock(ctx);
    remove_device_locked(ctx, rec);
    ctx_unlock(ctx);
    if (!undo_host(ctx, rec))
        return false;
    remove_record(ctx, rec);
    return true;
}

static bool
recover_one(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec, GPtrArray *ids)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *alias = g_strdup(rec->alias);

    g_info("domain %s: recovering %s (%s, job %s, step %s)", dom_name(ctx), alias, rec->addr,
           vrt_qemu_hostdev_job_to_string(rec->job), vrt_qemu_hostdev_step_to_string(rec->step));
    switch (rec->job) {
    case VRT_QEMU_HOSTDEV_JOB_ATTACH:
        return recover_attach(ctx, rec, ids);
    case VRT_QEMU_HOSTDEV_JOB_DETACH:
        if (rec->step <= VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL && ids_contain(ids, alias)) {
            /* Still in the guest: the request may never have reached QEMU,
             * so it is sent again (QEMU refuses a duplicate harmlessly). */
            rec->pending = true;
            rec->step = VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL;
            if (!ctx->mon->device_del(ctx->mon_data, alias, &err))
                g_debug("domain %s: device_del %s again: %s", dom_name(ctx), alias, err->message);
            if (!wait_gone(ctx, alias, RECOVER_UNPLUG_WAIT_MS))
                return true; /* DEVICE_DELETED finishes it later */
        }
        break;
    case VRT_QEMU_HOSTDEV_JOB_NONE:
        if (ids_contain(ids, alias)) {
            if (rec->port_set && ctx->network && rec->network &&
                !vrt_network_port_reserve(ctx->network, rec->network, rec->port_uuid, ctx->def->name,
                                          ctx->def->uuid, rec->mac, rec->addr, &err)) {
                g_warning("domain %s: port of %s: %s", dom_name(ctx), alias, err->message);
                return false;
            }
            return true;
        }
        /* Gone from QEMU while we were not looking: finish its removal. */
        break;
    }
    if (!vrt_qemu_hostdev_device_deleted(ctx, alias, &err)) {
        g_warning("domain %s: cannot finish removal of %s: %s", dom_name(ctx), alias, err->message);
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

        if (rec->job == VRT_QEMU_HOSTDEV_JOB_ATTACH || (rec->job == VRT_QEMU_HOSTDEV_JOB_DETACH && !rec->pending)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "device %s has an unfinished %s job at step %s", rec->alias,
                          vrt_qemu_hostdev_job_to_string(rec->job), vrt_qemu_hostdev_step_to_string(rec->step));
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
