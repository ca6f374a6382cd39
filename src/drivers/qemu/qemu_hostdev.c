/*
 * The hostdev job's engine: attach and detach of SR-IOV VFs (and other
 * PCI functions), and the live detach of an emulated interface, as runs
 * of one step table (qemu_hostdev_steps.c). One forward runner, one
 * reverse walk and one recovery read the table; the fault hook gets its
 * names from it. Before a step runs, the record (the steps done, the one
 * started, what undo needs) is saved through ctx->save_status, then the
 * fault hook is asked. Here too: the devices the job takes, domain start
 * and stop, and the invariants check. See qemu_hostdev.h.
 */
#include "drivers/qemu/qemu_hostdev_priv.h"
#include "util/error.h"

#include <string.h>

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
    return dev->data.net->type == VRT_DOMAIN_NET_TYPE_NETWORK && network_is_pool(ctx, dev->data.net->source_network);
}

bool
vrt_qemu_hostdev_owns(VrtQemuHostdevCtx *ctx, const char *alias)
{
    bool owns;

    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        owns = vrt_qemu_hostdev_state_find(ctx->state, alias) != NULL;
    }
    return owns;
}

/* ---- the device's record ---- */

static VrtQemuHostdevRecord *
record_for_device(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *dev, GError **error)
{
    g_autoptr(VrtQemuHostdevRecord) rec = g_new0(VrtQemuHostdevRecord, 1);

    if (dev->type == VRT_DOMAIN_DEVICE_HOSTDEV) {
        rec->kind = VRT_QEMU_HOSTDEV_KIND_HOSTDEV;
        rec->alias = g_strdup(dev->data.hostdev->info->alias);
        rec->addr = dev->data.hostdev->source;
        rec->addr_set = true;
        rec->managed = dev->data.hostdev->managed;
    } else {
        VrtDomainNetDef *net = dev->data.net;

        rec->alias = g_strdup(net->info.alias);
        memcpy(rec->mac, net->mac, 6);
        if (net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV) {
            rec->kind = VRT_QEMU_HOSTDEV_KIND_NET_HOSTDEV;
            rec->addr = net->hostdev_source;
            rec->addr_set = true;
            rec->managed = net->managed;
        } else {
            rec->kind = VRT_QEMU_HOSTDEV_KIND_NET_NETWORK;
            rec->network = g_strdup(net->source_network);
            /* its address is known after the claim */
        }
    }
    if (!rec->alias) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "device has no alias");
        return NULL;
    }
    rec->job = VRT_QEMU_HOSTDEV_JOB_ATTACH;
    return g_steal_pointer(&rec);
}

/* Refuses a device this domain already has (same VF); a MAC may be
 * shared, as in libvirt (a teaming pair). */
static bool
check_duplicate_locked(VrtQemuHostdevCtx *ctx, VrtDomainDeviceDef *dev, GError **error)
{
    const VrtPciAddr *src = NULL;

    if (dev->type == VRT_DOMAIN_DEVICE_NET) {
        VrtDomainNetDef *net = dev->data.net;

        if (net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV)
            src = &net->hostdev_source;
    } else {
        src = &dev->data.hostdev->source;
    }
    if (src &&
        (vrt_domain_def_find_hostdev_by_source(ctx->def, src) || vrt_qemu_hostdev_state_find_addr(ctx->state, src))) {
        char addr[VRT_PCI_ADDR_STRING_LEN];

        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s is already in use by domain %s",
                      vrt_pci_addr_format_buf(src, addr), ctx->def->name);
        return false;
    }
    return true;
}

/* ---- running the table ---- */

/* Announces a step: records it as started, saves the status (unless the
 * step is itself that write), asks the fault hook. */
static bool
begin_step(Job *j, const StepDef *row, GError **error)
{
    VrtQemuHostdevCtx *ctx = j->ctx;
    VrtQemuHostdevStep old;

    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        old = j->rec->running;
        j->rec->running = row->step;
        if (!row->writes_status && !save_locked(ctx, error)) {
            j->rec->running = old;
            return false;
        }
    }
    g_debug("domain %s: %s %s: step %s", dom_name(ctx), vrt_qemu_hostdev_job_to_string(j->rec->job), j->rec->alias,
            row->name);
    return !ctx->fault || ctx->fault(vrt_qemu_hostdev_job_to_string(j->rec->job), row->name, ctx->fault_data, error);
}

static void
mark(Job *j, VrtQemuHostdevStep step, bool done)
{
    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(j->ctx);

        if (done)
            j->rec->done |= VRT_QEMU_HOSTDEV_STEP_BIT(step);
        else
            j->rec->done &= ~VRT_QEMU_HOSTDEV_STEP_BIT(step);
        if (j->rec->running == step)
            j->rec->running = VRT_QEMU_HOSTDEV_STEP_NONE;
    }
}

/* Runs the steps of the record's job that are not done yet, in table
 * order. Stops at a failure (the step stays started), when a step waits
 * for the guest, or when the job ends. */
static bool
run_steps(Job *j, GError **error)
{
    VrtQemuHostdevJob job = j->rec->job;

    for (guint i = 0; i < VRT_QEMU_HOSTDEV_N_ROWS; i++) {
        const StepDef *row = &vrt_qemu_hostdev_steps[i];

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

/* Whether the record has the step: done, or started (an undo takes back
 * a started step too: it may have changed something before it failed). */
static bool
recorded(const VrtQemuHostdevRecord *rec, VrtQemuHostdevStep step)
{
    return rec->running == step || vrt_qemu_hostdev_record_done(rec, step);
}

/* Undoes the recorded steps of job from top down. A step without undo
 * cannot be taken back: the walk stops there. So does a failed undo
 * (logged): the steps below stay recorded, so the VF is not given to
 * anyone while it is not clean. */
static bool
undo_steps(Job *j, VrtQemuHostdevJob job, VrtQemuHostdevStep top)
{
    for (guint i = VRT_QEMU_HOSTDEV_N_ROWS; i-- > 0;) {
        const StepDef *row = &vrt_qemu_hostdev_steps[i];
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

    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        if (!save_locked(ctx, &err))
            log_undo(ctx, alias, "status write", err);
    }
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
    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        if (!check_duplicate_locked(ctx, dev, error) || !vrt_domain_def_assign_device_address(ctx->def, dev, error) ||
            !(owned = record_for_device(ctx, dev, error))) {
            return false;
        }
        if (vrt_qemu_hostdev_state_find(ctx->state, owned->alias)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "a device with alias %s is already being handled",
                          owned->alias);
            return false;
        }
        j.rec = owned;
        g_ptr_array_add(ctx->state->records, g_steal_pointer(&owned));
    }

    if (run_steps(&j, error)) {
        char addr[VRT_PCI_ADDR_STRING_LEN];

        g_info("domain %s: attached %s (%s) as %s", dom_name(ctx), vrt_qemu_hostdev_record_addr_string(j.rec, addr),
               vrt_qemu_hostdev_kind_to_string(j.rec->kind), j.rec->alias);
        return true;
    }
    g_info("domain %s: attach of %s failed at step %s, undoing: %s", dom_name(ctx), j.rec->alias,
           vrt_qemu_hostdev_step_to_string(j.rec->running), error && *error ? (*error)->message : "");
    if (undo_steps(&j, VRT_QEMU_HOSTDEV_JOB_ATTACH, VRT_QEMU_HOSTDEV_STEP_COMMIT)) {
        {
            g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

            remove_record(ctx, j.rec);
        }
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

    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        if (alias) {
            rec = vrt_qemu_hostdev_state_find(ctx->state, alias);
        } else if ((dev = vrt_domain_device_def_parse(xml, ctx->def, 0, error))) {
            if (dev->type == VRT_DOMAIN_DEVICE_NET) {
                VrtDomainNetDef *net = NULL;

                VrtDomainNetDef *match = dev->data.net;
                g_autoptr(GError) miss = NULL;

                if (!match->mac_set && match->type == VRT_DOMAIN_NET_TYPE_HOSTDEV && !match->info.alias &&
                    match->info.type != VRT_DEVICE_ADDRESS_PCI)
                    net = vrt_domain_def_find_net_by_hostdev_source(ctx->def, &match->hostdev_source);
                else if (!(net = vrt_domain_def_find_net_match(ctx->def, match, &miss)) &&
                         miss->code == VIR_ERR_OPERATION_FAILED)
                    /* as libvirt: a MAC (a teaming pair's) naming several */
                    g_propagate_error(error, g_steal_pointer(&miss));
                rec = net ? vrt_qemu_hostdev_state_find(ctx->state, net->info.alias) : NULL;
            } else if (dev->type == VRT_DOMAIN_DEVICE_HOSTDEV) {
                /* The hostdev of an interface goes through the interface. */
                char addr[VRT_PCI_ADDR_STRING_LEN];

                rec = vrt_qemu_hostdev_state_find_addr(ctx->state, &dev->data.hostdev->source);
                if (!rec)
                    vrt_error_set(error, VIR_ERR_DEVICE_MISSING, "host pci device %s not found",
                                  vrt_pci_addr_format_buf(&dev->data.hostdev->source, addr));
            }
        }
        if (rec)
            ret = g_strdup(rec->alias);
    }
    return ret;
}

/* Refuses a device whose record has a job running. ctx lock (the object lock) held. */
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
        {
            g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

            j->rec->job = VRT_QEMU_HOSTDEV_JOB_NONE;
            /* An emulated interface has a record only while it is detached. */
            if (j->rec->kind == VRT_QEMU_HOSTDEV_KIND_NET_EMULATED)
                remove_record(ctx, j->rec);
        }
        save_after_undo(ctx, "detach");
    }
    return false;
}

bool
vrt_qemu_hostdev_detach(VrtQemuHostdevCtx *ctx, const char *alias, GError **error)
{
    Job j = { .ctx = ctx };

    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        j.rec = vrt_qemu_hostdev_state_find(ctx->state, alias);
        if (!j.rec) {
            vrt_error_set(error, VIR_ERR_DEVICE_MISSING, "no device found with alias %s", alias);
            return false;
        }
        if (!check_idle_locked(j.rec, error))
            return false;
        j.rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
    }
    return run_detach(&j, error);
}

bool
vrt_qemu_hostdev_detach_emulated(VrtQemuHostdevCtx *ctx, const char *alias, GError **error)
{
    Job j = { .ctx = ctx };
    VrtQemuHostdevRecord *rec;

    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        if ((rec = vrt_qemu_hostdev_state_find(ctx->state, alias)) && !check_idle_locked(rec, error))
            return false;
        if (rec || !vrt_domain_def_find_net_by_alias(ctx->def, alias)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "device %s is not an emulated interface", alias);
            return false;
        }
        rec = g_new0(VrtQemuHostdevRecord, 1);
        rec->alias = g_strdup(alias);
        rec->kind = VRT_QEMU_HOSTDEV_KIND_NET_EMULATED;
        rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
        {
            /* an interface on a network holds a port: the job's release
             * step gives it back once the device is gone */
            const VrtDomainNetDef *net = vrt_domain_def_find_net_by_alias(ctx->def, alias);

            if (net->type == VRT_DOMAIN_NET_TYPE_NETWORK && net->port_uuid_set && net->source_network) {
                rec->network = g_strdup(net->source_network);
                memcpy(rec->port_uuid, net->port_uuid, 16);
                memcpy(rec->mac, net->mac, 6);
                rec->port_set = true;
            }
        }
        g_ptr_array_add(ctx->state->records, rec);
    }
    j.rec = rec;
    return run_detach(&j, error);
}

bool
vrt_qemu_hostdev_device_deleted(VrtQemuHostdevCtx *ctx, const char *alias, GError **error)
{
    Job j = { .ctx = ctx };

    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        j.rec = vrt_qemu_hostdev_state_find(ctx->state, alias);
        if (!j.rec)
            return true;
        j.rec->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
    }
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
        char addr[VRT_PCI_ADDR_STRING_LEN];

        if (!undo_steps(&j, VRT_QEMU_HOSTDEV_JOB_ATTACH, VRT_QEMU_HOSTDEV_STEP_DETACH_HOST))
            g_warning("domain %s: VF %s of %s could not be fully given back", dom_name(ctx),
                      vrt_qemu_hostdev_record_addr_string(j.rec, addr), j.rec->alias);
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
    for (guint i = VRT_QEMU_HOSTDEV_N_ROWS; i-- > 0;) {
        if (vrt_qemu_hostdev_record_done(rec, vrt_qemu_hostdev_steps[i].step))
            return &vrt_qemu_hostdev_steps[i];
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
    char addr[VRT_PCI_ADDR_STRING_LEN];

    g_info("domain %s: recovering %s (%s, job %s, step %s)", dom_name(ctx), rec->alias,
           vrt_qemu_hostdev_record_addr_string(rec, addr), vrt_qemu_hostdev_job_to_string(rec->job),
           row ? row->name : "none");
    if (row && row->recover)
        what = row->recover(&j, ids);
    else
        what = rec->job == VRT_QEMU_HOSTDEV_JOB_DETACH ? RECOVER_FORWARD : RECOVER_ROLLBACK;
    switch (what) {
    case RECOVER_KEEP:
    case RECOVER_WAIT: return true;
    case RECOVER_FAILED: return false;
    case RECOVER_ROLLBACK:
        if (!undo_steps(&j, VRT_QEMU_HOSTDEV_JOB_ATTACH, VRT_QEMU_HOSTDEV_STEP_COMMIT))
            return false;
        {
            g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

            remove_record(ctx, rec);
        }
        return true;
    case RECOVER_FORWARD: break;
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
        char addr[VRT_PCI_ADDR_STRING_LEN];

        if (!p->alloc || p->alloc->type != VRT_NETWORK_PORT_ACTUAL_HOSTDEV || port_referenced(ctx, p->alloc->port_uuid))
            continue;
        g_info("domain %s: releasing unreferenced port of network %s (VF %s)", dom_name(ctx), p->network,
               vrt_pci_addr_format_buf(&p->alloc->pci_addr, addr));
        if (!vrt_network_port_release(ctx->network, p->network, p->alloc->port_uuid, &err))
            g_warning("domain %s: %s", dom_name(ctx), err->message);
    }
}

/* A restarted daemon's registry knows only the pools' ports (from their
 * files): the domain claims again every device it holds by address, as
 * its records say, before anything else may take one. */
static void
claim_records_locked(VrtQemuHostdevCtx *ctx)
{
    for (guint i = 0; ctx->vfs && i < ctx->state->records->len; i++) {
        VrtQemuHostdevRecord *rec = g_ptr_array_index(ctx->state->records, i);
        g_autoptr(VrtVfHolder) holder = NULL;
        g_autoptr(GError) err = NULL;

        if (rec->kind == VRT_QEMU_HOSTDEV_KIND_NET_NETWORK || !rec->addr_set)
            continue;
        holder = record_holder(ctx, rec);
        if (!vrt_vf_registry_claim(ctx->vfs, &rec->addr, holder, NULL, &err))
            g_warning("domain %s: %s: %s", dom_name(ctx), rec->alias, err->message);
    }
}

bool
vrt_qemu_hostdev_recover(VrtQemuHostdevCtx *ctx, GError **error)
{
    g_autoptr(GPtrArray) ids = NULL;
    g_autoptr(GPtrArray) aliases = g_ptr_array_new_with_free_func(g_free);
    bool ok = true;

    ctx_lock(ctx);
    claim_records_locked(ctx);
    ctx_unlock(ctx);
    ids = ctx->mon->list_ids(ctx->mon_data, error);
    if (!ids)
        return false;
    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        for (guint i = 0; i < ctx->state->records->len; i++)
            g_ptr_array_add(aliases,
                            g_strdup(((VrtQemuHostdevRecord *)g_ptr_array_index(ctx->state->records, i))->alias));
    }
    for (guint i = 0; i < aliases->len; i++) {
        VrtQemuHostdevRecord *rec;

        {
            g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

            rec = vrt_qemu_hostdev_state_find(ctx->state, g_ptr_array_index(aliases, i));
        }
        if (rec && !recover_one(ctx, rec, ids))
            ok = false;
    }
    release_orphan_ports(ctx);
    {
        g_autoptr(CtxLocker) locker = ctx_locker_new(ctx);

        if (!save_locked(ctx, error))
            ok = false;
    }
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
        char addr[VRT_PCI_ADDR_STRING_LEN];
        bool listed = rec->kind == VRT_QEMU_HOSTDEV_KIND_HOSTDEV
                          ? vrt_domain_def_find_hostdev_by_alias(def, rec->alias) != NULL
                          : vrt_domain_def_find_net_by_alias(def, rec->alias) != NULL;

        if (rec->job == VRT_QEMU_HOSTDEV_JOB_ATTACH ||
            (rec->job == VRT_QEMU_HOSTDEV_JOB_DETACH && !vrt_qemu_hostdev_record_pending(rec))) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "device %s has an unfinished %s job at step %s", rec->alias,
                          vrt_qemu_hostdev_job_to_string(rec->job), vrt_qemu_hostdev_step_to_string(rec->running));
            return false;
        }
        if (!listed) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "device %s holds VF %s but is not in the domain", rec->alias,
                          vrt_qemu_hostdev_record_addr_string(rec, addr));
            return false;
        }
        if (qemu_ids && !ids_contain(qemu_ids, rec->alias)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "device %s is in the domain but not in QEMU", rec->alias);
            return false;
        }
        if (rec->managed && ctx->host) {
            g_autofree char *drv = NULL;
            const VrtPciAddr *a = record_pci(rec, error);

            if (!a || !vrt_pci_get_driver(ctx->host, a, &drv, error))
                return false;
            if (g_strcmp0(drv, VRT_PCI_VFIO_DRIVER) != 0) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "VF %s of %s is on driver %s, not vfio-pci",
                              vrt_qemu_hostdev_record_addr_string(rec, addr), rec->alias, drv ? drv : "(none)");
                return false;
            }
        }
    }
    return true;
}
