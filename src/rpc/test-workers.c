/*
 * Unit tests of the server's worker threads (workers.c): every pushed item
 * runs once, no more threads than the maximum run at once, a lowered
 * maximum ends the idle threads past it, and freeing the workers runs what
 * is still queued before it returns.
 */
#include "rpc/workers.h"

typedef struct {
    gint done;
    gint running;
    gint most; /* the most items running at once */
    guint sleep_us;
} Counts;

static void
work(gpointer item, gpointer data)
{
    Counts *c = data;
    gint now = g_atomic_int_add(&c->running, 1) + 1;
    gint most;

    (void)item;
    while ((most = g_atomic_int_get(&c->most)) < now && !g_atomic_int_compare_and_exchange(&c->most, most, now))
        ;
    if (c->sleep_us)
        g_usleep(c->sleep_us);
    g_atomic_int_add(&c->running, -1);
    g_atomic_int_inc(&c->done);
}

static void
wait_for_done(Counts *c, gint n)
{
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

    while (g_atomic_int_get(&c->done) < n && g_get_monotonic_time() < deadline)
        g_usleep(1000);
    g_assert_cmpint(g_atomic_int_get(&c->done), ==, n);
}

static void
test_all_run_within_max(void)
{
    Counts c = { .sleep_us = 200 };
    g_autoptr(GError) err = NULL;
    VrtWorkers *w = vrt_workers_new(work, &c, 4, &err);

    g_assert_no_error(err);
    for (int i = 0; i < 400; i++)
        vrt_workers_push(w, GINT_TO_POINTER(i + 1));
    wait_for_done(&c, 400);
    g_assert_cmpint(c.most, <=, 4);
    g_assert_cmpuint(vrt_workers_get_num_threads(w), <=, 4);
    g_assert_cmpuint(vrt_workers_unprocessed(w), ==, 0);
    vrt_workers_free(w);
    g_assert_cmpint(c.done, ==, 400);
}

static void
test_lowered_max_ends_threads(void)
{
    Counts c = { .sleep_us = 2000 };
    g_autoptr(GError) err = NULL;
    VrtWorkers *w = vrt_workers_new(work, &c, 6, &err);
    gint64 deadline;

    g_assert_no_error(err);
    for (int i = 0; i < 30; i++)
        vrt_workers_push(w, GINT_TO_POINTER(i + 1));
    wait_for_done(&c, 30);
    g_assert_cmpuint(vrt_workers_get_num_threads(w), >, 1);
    vrt_workers_set_max(w, 1);
    g_assert_cmpuint(vrt_workers_get_max(w), ==, 1);
    deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (vrt_workers_get_num_threads(w) > 1 && g_get_monotonic_time() < deadline)
        g_usleep(1000);
    g_assert_cmpuint(vrt_workers_get_num_threads(w), ==, 1);
    /* The one left still runs what comes, one at a time. */
    c.most = 0;
    for (int i = 0; i < 10; i++)
        vrt_workers_push(w, GINT_TO_POINTER(i + 1));
    wait_for_done(&c, 40);
    g_assert_cmpint(c.most, ==, 1);
    vrt_workers_free(w);
}

static void
test_free_runs_queued(void)
{
    Counts c = { .sleep_us = 1000 };
    g_autoptr(GError) err = NULL;
    VrtWorkers *w = vrt_workers_new(work, &c, 2, &err);

    g_assert_no_error(err);
    for (int i = 0; i < 50; i++)
        vrt_workers_push(w, GINT_TO_POINTER(i + 1));
    vrt_workers_free(w);
    g_assert_cmpint(c.done, ==, 50);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/workers/all-run-within-max", test_all_run_within_max);
    g_test_add_func("/workers/lowered-max-ends-threads", test_lowered_max_ends_threads);
    g_test_add_func("/workers/free-runs-queued", test_free_runs_queued);
    return g_test_run();
}
