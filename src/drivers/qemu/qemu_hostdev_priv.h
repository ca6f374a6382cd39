/*
 * What the two halves of the hostdev job share, and nothing else uses: the
 * row type of the step table (StepDef), one run of the table over a record
 * (Job), the recovery verdict a row returns (Recovery), the table itself
 * (defined in qemu_hostdev_steps.c, read by the engine in qemu_hostdev.c)
 * and the small helpers both call. Private to those two files: the rest of
 * the driver uses qemu_hostdev.h.
 */
#pragma once

#include "drivers/qemu/qemu_hostdev.h"
#include "host/pci.h"
#include "util/error.h"

#include <glib.h>
#include <stdbool.h>

/* One run of the table over one record. */
typedef struct {
    VrtQemuHostdevCtx *ctx;
    VrtQemuHostdevRecord *rec;
    VrtDomainDeviceDef *dev; /* hotplug attach: the device, taken at commit */
    VrtDomainNetDef *net; /* attach and start: the interface (NULL for a <hostdev>) */
    bool waiting; /* a step left the job waiting for the guest */
} Job;

/* What a restarted daemon does with a record, decided by the row of the
 * step it stopped at after looking at QEMU. */
typedef enum {
    RECOVER_ROLLBACK, /* undo the recorded steps */
    RECOVER_FORWARD, /* run the rest of the (detach) job */
    RECOVER_KEEP, /* attached and in QEMU: nothing to do */
    RECOVER_WAIT, /* unplug pending: DEVICE_DELETED finishes it */
    RECOVER_FAILED,
} Recovery;

typedef struct {
    VrtQemuHostdevStep step;
    const char *name; /* in the status file and VRT_FAULT_DIE_AT */
    VrtQemuHostdevJob job;
    bool (*needed)(Job *j); /* NULL: always; false skips the step */
    bool (*run)(Job *j, GError **error); /* do */
    /* NULL: cannot be taken back, a rollback stops here and recovery
     * goes forward. */
    bool (*undo)(Job *j, GError **error);
    Recovery (*recover)(Job *j, GPtrArray *qemu_ids); /* NULL: attach rolls back, detach goes on */
    bool writes_status; /* do is itself the status write: no announcement */
} StepDef;

/* The table's rows, one per step except none, in the order the forward
 * runner takes them. */
#define VRT_QEMU_HOSTDEV_N_ROWS (VRT_QEMU_HOSTDEV_N_STEPS - 1)
extern const StepDef *const vrt_qemu_hostdev_steps;

static inline const StepDef *
row_of(VrtQemuHostdevStep step)
{
    for (guint i = 0; i < VRT_QEMU_HOSTDEV_N_ROWS; i++) {
        if (vrt_qemu_hostdev_steps[i].step == step)
            return &vrt_qemu_hostdev_steps[i];
    }
    return NULL;
}

/* ---- small helpers ---- */

static inline void
ctx_lock(VrtQemuHostdevCtx *ctx)
{
    if (ctx->lock)
        ctx->lock(ctx->data);
}

static inline void
ctx_unlock(VrtQemuHostdevCtx *ctx)
{
    if (ctx->unlock)
        ctx->unlock(ctx->data);
}

/* ctx's lock as a scoped guard, as GMutexLocker for a GMutex:
 * g_autoptr(CtxLocker) locker = ctx_locker_new(ctx) releases it on every
 * return. */
typedef VrtQemuHostdevCtx CtxLocker;

static inline CtxLocker *
ctx_locker_new(VrtQemuHostdevCtx *ctx)
{
    ctx_lock(ctx);
    return ctx;
}

static inline void
ctx_locker_free(CtxLocker *ctx)
{
    ctx_unlock(ctx);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtxLocker, ctx_locker_free)
static inline const char *
dom_name(VrtQemuHostdevCtx *ctx)
{
    return ctx->def && ctx->def->name ? ctx->def->name : "?";
}

/* Logs an undo failure and drops it: the caller keeps the first error. */
static inline void
log_undo(VrtQemuHostdevCtx *ctx, const char *alias, const char *what, GError *err)
{
    g_warning("domain %s: %s: undo of %s failed: %s", dom_name(ctx), alias, what, err ? err->message : "?");
    g_clear_error(&err);
}

/* Saves the status (ctx lock, the object lock, held by the caller). */
static inline bool
save_locked(VrtQemuHostdevCtx *ctx, GError **error)
{
    return ctx->save_status ? ctx->save_status(ctx->data, error) : true;
}

static inline bool
ids_contain(GPtrArray *ids, const char *alias)
{
    for (guint i = 0; ids && i < ids->len; i++) {
        if (g_strcmp0(g_ptr_array_index(ids, i), alias) == 0)
            return true;
    }
    return false;
}
/* The registry holder of a record's device: its port for a pool's VF,
 * else the domain itself. */
static inline VrtVfHolder *
record_holder(VrtQemuHostdevCtx *ctx, const VrtQemuHostdevRecord *rec)
{
    if (rec->kind == VRT_QEMU_HOSTDEV_KIND_NET_NETWORK)
        return vrt_vf_holder_new_port(rec->network, rec->port_uuid, dom_name(ctx), ctx->def->uuid);
    return vrt_vf_holder_new_domain(dom_name(ctx), ctx->def->uuid);
}

/* The record's device for a step that acts on it. A record without one
 * (a pool's interface before its claim, an emulated interface) never
 * reaches such a step; if it did, no step acts on a made-up address. */
static inline const VrtPciAddr *
record_pci(const VrtQemuHostdevRecord *rec, GError **error)
{
    if (!rec->addr_set) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "device %s has no PCI address", rec->alias);
        return NULL;
    }
    return &rec->addr;
}

/* Drops a record. The domain's own claim of the device goes with its last
 * record of it (a pool's VF goes with its port, released by its step). */
static inline void
remove_record(VrtQemuHostdevCtx *ctx, VrtQemuHostdevRecord *rec)
{
    g_autoptr(VrtVfHolder) holder = NULL;
    VrtPciAddr pci = rec->addr;

    if (ctx->vfs && ctx->def && rec->kind != VRT_QEMU_HOSTDEV_KIND_NET_NETWORK && rec->addr_set)
        holder = record_holder(ctx, rec);
    g_ptr_array_remove(ctx->state->records, rec);
    if (holder && !vrt_qemu_hostdev_state_find_addr(ctx->state, &pci))
        vrt_vf_registry_release(ctx->vfs, &pci, holder);
}
