/*
 * The server's worker threads: a queue of calls and up to max threads that
 * run them, in the order they came. GThreadPool does the same, but it wakes
 * a worker while it still holds the queue's lock, so on every call the
 * woken worker blocks on that lock at once and is woken a second time (two
 * more futex calls and context switches per call, which on a 2-core machine
 * with 8 clients were a large part of vrtd's CPU per call). Here the lock is
 * released before the one wake-up, and a wake-up is only made when a worker
 * is idle.
 */
#pragma once

#include <glib.h>

typedef struct _VrtWorkers VrtWorkers;

/* func(item, data) runs each pushed item on a worker; threads start as
 * they are needed, at most max (at least 1). NULL with *error if the first
 * thread cannot start. */
VrtWorkers *vrt_workers_new(GFunc func, gpointer data, guint max, GError **error);
/* Queues item; a worker runs it when one is free. */
void vrt_workers_push(VrtWorkers *w, gpointer item);
/* Workers beyond max end once they are idle. */
void vrt_workers_set_max(VrtWorkers *w, guint max);
guint vrt_workers_get_max(VrtWorkers *w);
/* Threads running now (idle or busy). */
guint vrt_workers_get_num_threads(VrtWorkers *w);
/* Items queued and not begun yet. */
guint vrt_workers_unprocessed(VrtWorkers *w);
/* Runs what is queued, waits for every worker to end, frees w. */
void vrt_workers_free(VrtWorkers *w);
