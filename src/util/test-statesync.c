/* Batched flushes of durable state files (statesync.h): what a reader and a
 * loader after a power loss find at each point. */
#include "util/statesync.h"
#include "util/fileutil.h"
#include "testutil.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char *dir;
    char *path;
    char *prev;
} Fixture;

static void
setup(Fixture *fx, gconstpointer unused)
{
    fx->dir = vrt_test_make_root("vrt-statesync-XXXXXX");
    fx->path = g_build_filename(fx->dir, "d1.xml", NULL);
    fx->prev = vrt_state_sync_prev_path(fx->path);
}

static void
teardown(Fixture *fx, gconstpointer unused)
{
    vrt_test_remove_tree(fx->dir);
    g_free(fx->dir);
    g_free(fx->path);
    g_free(fx->prev);
}

static char *
contents(const char *path)
{
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return text;
}

static bool
complete(const char *path, gpointer data)
{
    g_autofree char *text = contents(path);

    return text && g_str_has_suffix(text, "</domain>");
}

/* A written file is there at once; once flushed no fallback is left. */
static void
test_write_visible_then_flushed(Fixture *fx, gconstpointer unused)
{
    g_autoptr(VrtStateSync) s = vrt_state_sync_new(60000);
    g_autoptr(GError) err = NULL;
    g_autofree char *got = NULL;

    g_assert_true(vrt_state_sync_write(s, fx->path, "<domain>v1</domain>", -1, 0600, &err));
    g_assert_no_error(err);
    got = contents(fx->path);
    g_assert_cmpstr(got, ==, "<domain>v1</domain>");
    /* A new file has no earlier version to fall back to. */
    g_assert_false(g_file_test(fx->prev, G_FILE_TEST_EXISTS));
    vrt_state_sync_flush(s);
    g_assert_false(g_file_test(fx->prev, G_FILE_TEST_EXISTS));
}

/* Until a rewrite is flushed the flushed version stays beside it; rewrites
 * before the flush keep that same version (the one on disk). */
static void
test_prev_kept_until_flush(Fixture *fx, gconstpointer unused)
{
    g_autoptr(VrtStateSync) s = vrt_state_sync_new(60000);
    g_autoptr(GError) err = NULL;
    g_autofree char *p1 = NULL, *p2 = NULL, *cur = NULL;

    g_assert_true(vrt_state_sync_write(s, fx->path, "<domain>v1</domain>", -1, 0600, &err));
    vrt_state_sync_flush(s);
    g_assert_true(vrt_state_sync_write(s, fx->path, "<domain>v2</domain>", -1, 0600, &err));
    p1 = contents(fx->prev);
    g_assert_cmpstr(p1, ==, "<domain>v1</domain>");
    g_assert_true(vrt_state_sync_write(s, fx->path, "<domain>v3</domain>", -1, 0600, &err));
    g_assert_no_error(err);
    p2 = contents(fx->prev);
    g_assert_cmpstr(p2, ==, "<domain>v1</domain>");
    cur = contents(fx->path);
    g_assert_cmpstr(cur, ==, "<domain>v3</domain>");
    vrt_state_sync_flush(s);
    g_assert_false(g_file_test(fx->prev, G_FILE_TEST_EXISTS));
}

/* What the loader does after a power loss cut a rewrite short. */
static void
test_recover(Fixture *fx, gconstpointer unused)
{
    g_autofree char *got = NULL, *kept = NULL;

    /* The new file is incomplete: the previous version comes back. */
    g_assert_true(g_file_set_contents(fx->path, "<domain>v2", -1, NULL));
    g_assert_true(g_file_set_contents(fx->prev, "<domain>v1</domain>", -1, NULL));
    g_test_expect_message("vrt", G_LOG_LEVEL_WARNING, "*d1.xml' is missing or incomplete*previous version");
    g_assert_true(vrt_state_sync_recover(fx->path, complete, NULL));
    g_test_assert_expected_messages();
    got = contents(fx->path);
    g_assert_cmpstr(got, ==, "<domain>v1</domain>");
    g_assert_false(g_file_test(fx->prev, G_FILE_TEST_EXISTS));

    /* The new file is complete: it stays and the fallback goes. */
    g_assert_true(g_file_set_contents(fx->path, "<domain>v2</domain>", -1, NULL));
    g_assert_true(g_file_set_contents(fx->prev, "<domain>v1</domain>", -1, NULL));
    g_assert_true(vrt_state_sync_recover(fx->path, complete, NULL));
    kept = contents(fx->path);
    g_assert_cmpstr(kept, ==, "<domain>v2</domain>");
    g_assert_false(g_file_test(fx->prev, G_FILE_TEST_EXISTS));

    /* Nothing to recover. */
    g_unlink(fx->path);
    g_assert_false(vrt_state_sync_recover(fx->path, complete, NULL));
}

/* Removal takes the fallback too, so an undefined domain never comes back. */
static void
test_remove(Fixture *fx, gconstpointer unused)
{
    g_autoptr(VrtStateSync) s = vrt_state_sync_new(60000);
    g_autoptr(GError) err = NULL;

    g_assert_true(vrt_state_sync_write(s, fx->path, "<domain>v1</domain>", -1, 0600, &err));
    vrt_state_sync_flush(s);
    g_assert_true(vrt_state_sync_write(s, fx->path, "<domain>v2</domain>", -1, 0600, &err));
    g_assert_true(g_file_test(fx->prev, G_FILE_TEST_EXISTS));
    g_assert_true(vrt_state_sync_remove(s, fx->path, &err));
    g_assert_no_error(err);
    g_assert_false(g_file_test(fx->path, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(fx->prev, G_FILE_TEST_EXISTS));
    /* Removing what is not there is fine. */
    g_assert_true(vrt_state_sync_remove(s, fx->path, &err));
    vrt_state_sync_flush(s);
}

/* The flusher works on its own within the delay, and free flushes the rest. */
static void
test_flusher_and_free(Fixture *fx, gconstpointer unused)
{
    VrtStateSync *s = vrt_state_sync_new(20);
    g_autoptr(GError) err = NULL;
    gint64 deadline;

    g_assert_true(vrt_state_sync_write(s, fx->path, "<domain>v1</domain>", -1, 0600, &err));
    g_assert_true(vrt_state_sync_write(s, fx->path, "<domain>v2</domain>", -1, 0600, &err));
    /* v1 was never flushed: written twice inside one delay, no fallback is
     * made from an unflushed version. */
    g_assert_false(g_file_test(fx->prev, G_FILE_TEST_EXISTS));
    vrt_state_sync_free(s);

    s = vrt_state_sync_new(20);
    g_assert_true(vrt_state_sync_write(s, fx->path, "<domain>v3</domain>", -1, 0600, &err));
    g_assert_true(g_file_test(fx->prev, G_FILE_TEST_EXISTS));
    deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (g_file_test(fx->prev, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < deadline)
        g_usleep(1000);
    g_assert_false(g_file_test(fx->prev, G_FILE_TEST_EXISTS));
    g_assert_true(vrt_state_sync_write(s, fx->path, "<domain>v4</domain>", -1, 0600, &err));
    vrt_state_sync_free(s);
    g_assert_false(g_file_test(fx->prev, G_FILE_TEST_EXISTS));
}

/* Delay 0 flushes in the call and keeps no fallback. */
static void
test_immediate(Fixture *fx, gconstpointer unused)
{
    g_autoptr(VrtStateSync) s = vrt_state_sync_new(0);
    g_autoptr(GError) err = NULL;
    g_autofree char *got = NULL;
    g_autofree char *bad = g_build_filename(fx->dir, "missing", "d2.xml", NULL);

    g_assert_true(vrt_state_sync_write(s, fx->path, "<domain>v1</domain>", -1, 0600, &err));
    g_assert_true(vrt_state_sync_write(s, fx->path, "<domain>v2</domain>", -1, 0600, &err));
    g_assert_false(g_file_test(fx->prev, G_FILE_TEST_EXISTS));
    got = contents(fx->path);
    g_assert_cmpstr(got, ==, "<domain>v2</domain>");
    /* Errors name the path. */
    g_assert_false(vrt_state_sync_write(s, bad, "x", -1, 0600, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "d2.xml"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/statesync/write-visible-then-flushed", Fixture, NULL, setup, test_write_visible_then_flushed,
               teardown);
    g_test_add("/statesync/prev-kept-until-flush", Fixture, NULL, setup, test_prev_kept_until_flush, teardown);
    g_test_add("/statesync/recover", Fixture, NULL, setup, test_recover, teardown);
    g_test_add("/statesync/remove", Fixture, NULL, setup, test_remove, teardown);
    g_test_add("/statesync/flusher-and-free", Fixture, NULL, setup, test_flusher_and_free, teardown);
    g_test_add("/statesync/immediate", Fixture, NULL, setup, test_immediate, teardown);
    return g_test_run();
}
