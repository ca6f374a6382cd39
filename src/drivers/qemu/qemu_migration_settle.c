/*
 * The settling of a migration source whose transfer had completed when
 * vrtd ended (or whose finish failed and whose destination could not be
 * asked then): the guest may run at the destination (its finish resumed
 * it) or not, and only the destination's daemon knows; its URI is the
 * peer-to-peer source's own or the one a client-managed destination named
 * in its prepare cookie. The
 * question is asked here, on a worker thread per domain owned by the
 * driver's settler, so that vrtd starts and listens without waiting on
 * another host. Until the answer the domain stays paused and holds a job
 * of kind VRT_QEMU_JOB_MIGRATION_OUT, which refuses other jobs at once
 * (clients see a migration holding it, not a half-settled domain). The
 * destination is asked again with a growing pause while it cannot be
 * reached or still waits for its finish, for SETTLE_WAIT_S at most; then
 * the domain is left paused with its phase file, as a restart that cannot
 * ask leaves it, and the next start asks again. A shutdown wakes the
 * workers, which give their job back and leave the phase file too. A
 * destroy is the one call the job lets through: the worker sees it (or
 * its QEMU gone), forgets the phase and gives the job to the stop.
 *
 * A worker pauses on its domain's condition (obj->cond, under obj->lock),
 * which both a destroy's job request and the settler's shutdown
 * broadcast; its quit flag is read and written under that lock.
 */
#include "drivers/qemu/qemu_migration_settle.h"
#include "drivers/qemu/qemu_migration.h"
#include "util/error.h"
#include "util/proc.h"

/* The whole time a worker keeps asking, and its pauses between two asks
 * (doubled from the first to the last). */
#define SETTLE_WAIT_S 600
#define SETTLE_PAUSE_FIRST_MS 500
#define SETTLE_PAUSE_MAX_MS 10000

struct _VrtQemuSettler {
    GMutex lock;
    GPtrArray *workers; /* Settle*, joined and freed at vrt_qemu_settler_free */
    bool closed; /* vrt_qemu_settler_free began: no new workers */
};

typedef struct {
    VrtQemuDriver *drv; /* not owned: outlives the worker */
    VrtQemuDom *obj; /* ref */
    VrtQemuJob job; /* the domain's, held from _add until the worker ends */
    bool quit; /* under obj->lock: vrtd stops */
    char *uri;
    char *name;
    guchar uuid[16];
    guint flags;
    GThread *thread;
} Settle;

/* What the destination said. */
typedef enum {
    WHERE_UNKNOWN, /* it could not be asked */
    WHERE_PENDING, /* its incoming copy still waits for its finish */
    WHERE_HERE, /* not defined or not running there: the guest is ours */
    WHERE_THERE, /* active there: the destination runs the guest */
} Where;

VrtQemuSettler *
vrt_qemu_settler_new(void)
{
    VrtQemuSettler *settler = g_new0(VrtQemuSettler, 1);

    g_mutex_init(&settler->lock);
    settler->workers = g_ptr_array_new();
    return settler;
}

static void
settle_free(Settle *s)
{
    vrt_qemu_job_end(&s->job);
    vrt_qemu_dom_unref(s->obj);
    g_free(s->uri);
    g_free(s->name);
    g_free(s);
}

/* Each ask and the outcome are warnings: vrtd's default log shows how a
 * domain left paused by a crash was settled. */
static Where
ask(Settle *s, guint attempt)
{
    g_autoptr(GError) err = NULL;
    int state = 0, reason = 0;

    if (!s->drv->cfg.migration_peer_state) {
        g_warning("domain %s: ask %u: no way to ask the destination %s", s->name, attempt, s->uri);
        return WHERE_UNKNOWN;
    }
    if (!s->drv->cfg.migration_peer_state(s->uri, s->uuid, s->drv->cfg.data, &state, &reason, &err)) {
        g_warning("domain %s: ask %u: cannot ask the migration's destination %s where the guest runs: %s", s->name,
                  attempt, s->uri, err->message);
        return WHERE_UNKNOWN;
    }
    g_warning("domain %s: ask %u: the destination %s has it %s (%d)", s->name, attempt, s->uri,
              vrt_qemu_state_to_string(state), reason);
    if (state == VRT_DOMAIN_RUNNING || (state == VRT_DOMAIN_PAUSED && reason != VRT_DOMAIN_PAUSED_MIGRATION))
        return WHERE_THERE;
    if (state == VRT_DOMAIN_PAUSED)
        return WHERE_PENDING;
    return WHERE_HERE;
}

/* Why a worker stops asking before an answer. */
typedef enum {
    GO_ON,
    QUIT, /* vrtd stops */
    YIELD, /* a destroy wants the domain, or its QEMU is gone */
} Stop;

/* Object lock held. A QEMU that ended (its EOF handler waits for the
 * job) leaves no copy here to settle, as a destroy does. */
static Stop
stop_locked(Settle *s)
{
    if (s->quit)
        return QUIT;
    if (s->obj->destroying || s->obj->stop_requested || s->obj->pid <= 0 || !vrt_proc_pid_alive(NULL, s->obj->pid))
        return YIELD;
    return GO_ON;
}

/* Pauses until deadline (monotonic), a shutdown or a destroy. */
static Stop
pause_until(Settle *s, gint64 deadline)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->obj->lock);

    while (stop_locked(s) == GO_ON && g_cond_wait_until(&s->obj->cond, &s->obj->lock, deadline))
        ;
    return stop_locked(s);
}

static Stop
stopping(Settle *s)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->obj->lock);

    return stop_locked(s);
}

static gpointer
settle_thread(gpointer data)
{
    Settle *s = data;
    gint64 give_up = g_get_monotonic_time() + (gint64)SETTLE_WAIT_S * G_TIME_SPAN_SECOND;
    guint pause_ms = SETTLE_PAUSE_FIRST_MS;
    g_autoptr(GError) err = NULL;
    Where where = WHERE_UNKNOWN;
    Stop stop = GO_ON;

    for (guint attempt = 1;; attempt++) {
        gint64 next;

        if ((stop = stopping(s)) != GO_ON)
            goto stop;
        where = ask(s, attempt);
        /* A destroy asked meanwhile wins over the answer. */
        if (stopping(s) == YIELD) {
            stop = YIELD;
            goto stop;
        }
        if (where == WHERE_HERE || where == WHERE_THERE)
            break;
        next = g_get_monotonic_time() + (gint64)pause_ms * G_TIME_SPAN_MILLISECOND;
        if (next >= give_up) {
            g_warning("domain %s: its destination %s gave no answer in %d s; left paused (resume or destroy it, or "
                      "restart vrtd to ask again)",
                      s->name, s->uri, SETTLE_WAIT_S);
            vrt_qemu_job_end(&s->job);
            return NULL;
        }
        if ((stop = pause_until(s, next)) != GO_ON)
            goto stop;
        pause_ms = MIN(pause_ms * 2, SETTLE_PAUSE_MAX_MS);
    }
    if (where == WHERE_THERE)
        g_warning("domain %s: its destination %s runs it; ending the source as migrated", s->name, s->uri);
    else
        g_warning("domain %s: its destination %s does not run it; resuming it here", s->name, s->uri);
    if (!vrt_qemu_migrate_confirm_held(&s->job, s->flags, where == WHERE_HERE, &err))
        g_warning("domain %s: %s", s->name, err->message);
    return NULL;

stop:
    if (stop == YIELD) {
        /* Its owner ended this copy (or QEMU did): nothing is left to
         * settle. */
        g_warning("domain %s: destroyed or ended before its destination %s answered", s->name, s->uri);
        vrt_qemu_migration_phase_clear(s->drv, s->uuid);
    } else {
        /* The phase file stays: the next start asks again. */
        g_warning("domain %s: vrtd stops before its destination %s answered; left paused, asked again at the next "
                  "start",
                  s->name, s->uri);
    }
    vrt_qemu_job_end(&s->job);
    return NULL;
}

bool
vrt_qemu_settler_add(VrtQemuDriver *drv, VrtQemuDom *obj, const char *dconnuri, guint flags)
{
    g_autoptr(GError) err = NULL;
    Settle *s = g_new0(Settle, 1);

    s->drv = drv;
    s->obj = vrt_qemu_dom_ref(obj);
    s->uri = g_strdup(dconnuri);
    s->flags = flags;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        s->name = g_strdup(obj->def->name);
        memcpy(s->uuid, obj->def->uuid, 16);
    }
    if (!vrt_qemu_job_begin(&s->job, obj, VRT_QEMU_JOB_MIGRATION_OUT, &err)) {
        g_warning("domain %s: its destination cannot be asked where it runs: %s; left paused", s->name, err->message);
        settle_free(s);
        return false;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->settler->lock);

        if (drv->settler->closed) {
            settle_free(s);
            return false;
        }
        s->thread = g_thread_new("vrt-mig-settle", settle_thread, s);
        g_ptr_array_add(drv->settler->workers, s);
    }
    return true;
}

void
vrt_qemu_settler_free(VrtQemuSettler *settler)
{
    g_autoptr(GPtrArray) workers = NULL;

    if (!settler)
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&settler->lock);

        settler->closed = true;
        workers = g_steal_pointer(&settler->workers);
    }
    for (guint i = 0; i < workers->len; i++) {
        Settle *s = g_ptr_array_index(workers, i);
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->obj->lock);

        s->quit = true;
        g_cond_broadcast(&s->obj->cond);
    }
    /* A worker in the middle of an ask ends with it: the connection's
     * own bounds (TLS handshake, keepalive) limit that wait. */
    for (guint i = 0; i < workers->len; i++) {
        Settle *s = g_ptr_array_index(workers, i);

        g_thread_join(s->thread);
        settle_free(s);
    }
    g_mutex_clear(&settler->lock);
    g_free(settler);
}
