/*
 * The server's worker threads (see workers.h for why not GThreadPool).
 * One mutex guards the queue and the counts; idle workers wait on one
 * condition, and a push signals it after the mutex is released, only when
 * a worker waits. A worker that finds the queue empty waits; one past max
 * (the maximum was lowered) ends instead.
 */
#include "rpc/workers.h"

struct _VrtWorkers {
    GMutex lock;
    GCond cond; /* work queued, or stopping */
    GQueue queue;
    GFunc func;
    gpointer data;
    guint max;
    guint threads; /* started and not ended */
    guint idle; /* waiting on cond */
    gboolean stopping;
    GCond ended; /* a thread ended (vrt_workers_free waits for all) */
};

static gpointer
worker_main(gpointer opaque)
{
    VrtWorkers *w = opaque;

    g_mutex_lock(&w->lock);
    for (;;) {
        gpointer item;

        while (g_queue_is_empty(&w->queue) && !w->stopping && w->threads <= w->max) {
            w->idle++;
            g_cond_wait(&w->cond, &w->lock);
            w->idle--;
        }
        if (g_queue_is_empty(&w->queue) || (w->threads > w->max && !w->stopping))
            break;
        item = g_queue_pop_head(&w->queue);
        g_mutex_unlock(&w->lock);
        w->func(item, w->data);
        g_mutex_lock(&w->lock);
    }
    w->threads--;
    /* A thread past a lowered maximum may leave queued items that were
     * pushed while no worker was idle: an idle one takes them. */
    if (!g_queue_is_empty(&w->queue))
        g_cond_signal(&w->cond);
    g_cond_broadcast(&w->ended);
    g_mutex_unlock(&w->lock);
    return NULL;
}

/* Starts a thread (lock held); false with *error if it cannot. */
static gboolean
start_thread_locked(VrtWorkers *w, GError **error)
{
    GThread *t = g_thread_try_new("vrt-worker", worker_main, w, error);

    if (!t)
        return FALSE;
    w->threads++;
    g_thread_unref(t); /* detached: vrt_workers_free waits on the count */
    return TRUE;
}

VrtWorkers *
vrt_workers_new(GFunc func, gpointer data, guint max, GError **error)
{
    VrtWorkers *w = g_new0(VrtWorkers, 1);

    g_mutex_init(&w->lock);
    g_cond_init(&w->cond);
    g_cond_init(&w->ended);
    g_queue_init(&w->queue);
    w->func = func;
    w->data = data;
    w->max = MAX(max, 1u);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->lock);

        if (start_thread_locked(w, error))
            return w;
    }
    g_cond_clear(&w->ended);
    g_cond_clear(&w->cond);
    g_mutex_clear(&w->lock);
    g_free(w);
    return NULL;
}

void
vrt_workers_push(VrtWorkers *w, gpointer item)
{
    gboolean wake;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->lock);

        g_queue_push_tail(&w->queue, item);
        /* An idle worker takes it; while there are more queued items than
         * idle workers, a new thread, if allowed (a failure leaves the
         * item to the running ones, which look at the queue before they
         * wait). */
        wake = w->idle > 0;
        if (w->queue.length > w->idle && w->threads < w->max) {
            g_autoptr(GError) err = NULL;

            if (!start_thread_locked(w, &err))
                g_warning("cannot start a worker thread: %s", err->message);
        }
    }
    if (wake)
        g_cond_signal(&w->cond);
}

void
vrt_workers_set_max(VrtWorkers *w, guint max)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->lock);

    w->max = MAX(max, 1u);
    /* Idle threads past the new maximum end now. */
    if (w->threads > w->max)
        g_cond_broadcast(&w->cond);
    /* Queued work may use the new threads now. */
    while (w->threads < w->max && w->queue.length > w->idle && start_thread_locked(w, NULL))
        ;
}

guint
vrt_workers_get_max(VrtWorkers *w)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->lock);

    return w->max;
}

guint
vrt_workers_get_num_threads(VrtWorkers *w)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->lock);

    return w->threads;
}

guint
vrt_workers_unprocessed(VrtWorkers *w)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->lock);

    return w->queue.length;
}

void
vrt_workers_free(VrtWorkers *w)
{
    if (!w)
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->lock);

        w->stopping = TRUE;
        g_cond_broadcast(&w->cond);
        while (w->threads > 0)
            g_cond_wait(&w->ended, &w->lock);
    }
    g_queue_clear(&w->queue);
    g_cond_clear(&w->ended);
    g_cond_clear(&w->cond);
    g_mutex_clear(&w->lock);
    g_free(w);
}
