/* State files (fileutil.h): what readers find after atomic and durable
 * writes, and the group commit of durable writes and removals: writers in
 * one directory share directory fsyncs, yet none returns before an fsync
 * of the directory that began after its own rename (or unlink). */
#include "util/fileutil.h"
#include "testutil.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#define WRITERS 8

typedef struct {
    char *dir;
    VrtDirSync *ds;
} Fixture;

static void
setup(Fixture *fx, gconstpointer unused)
{
    fx->dir = vrt_test_make_root("vrt-fileutil-XXXXXX");
    fx->ds = vrt_dir_sync_new();
}

static void
teardown(Fixture *fx, gconstpointer unused)
{
    vrt_dir_sync_free(fx->ds);
    vrt_test_remove_tree(fx->dir);
    g_free(fx->dir);
}

static char *
file_name(int i)
{
    return g_strdup_printf("d%d.xml", i);
}

/* What the dir fsyncs saw. A name in an fsync's listing was renamed into
 * place (or, for removals, was still there) before that fsync began. */
typedef struct {
    GMutex lock;
    const char *dir;
    bool removing;
    GPtrArray *seen; /* per fsync: a GHashTable of the names present as it began */
    GArray *ended; /* per fsync: whether it has returned */
    guint in_flight; /* fsyncs begun and not yet ended */
    guint max_in_flight;
} Syncs;

static guint
count_present(const char *dir)
{
    guint n = 0;

    for (int i = 0; i < WRITERS; i++) {
        g_autofree char *name = file_name(i);
        g_autofree char *p = g_build_filename(dir, name, NULL);

        n += g_file_test(p, G_FILE_TEST_EXISTS);
    }
    return n;
}

static void
hook(const char *dir, bool after, gpointer data)
{
    Syncs *sy = data;

    g_assert_cmpstr(dir, ==, sy->dir);
    if (after) {
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&sy->lock);

            /* They run one at a time, so the one ending is the last begun. */
            g_array_index(sy->ended, gboolean, sy->ended->len - 1) = TRUE;
            sy->in_flight--;
        }
        return;
    }
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *e;
    guint first;

    while (d && (e = g_dir_read_name(d)))
        g_hash_table_add(names, g_strdup(e));
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&sy->lock);

        g_ptr_array_add(sy->seen, names);
        gboolean no = FALSE;
        g_array_append_val(sy->ended, no);
        sy->in_flight++;
        sy->max_in_flight = MAX(sy->max_in_flight, sy->in_flight);
        first = sy->seen->len == 1;
    }
    /* The first fsync lasts until every writer has renamed (or unlinked):
     * those that did so after it began must wait for another one. */
    if (first) {
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        while (count_present(dir) != (sy->removing ? 0 : WRITERS) && g_get_monotonic_time() < deadline)
            g_usleep(500);
    }
}

typedef struct {
    Syncs *sy;
    VrtDirSync *ds;
    const char *dir;
    int index;
    GThread *thread;
    bool ok;
    bool covered; /* on return, an ended fsync had seen this writer's change */
} Writer;

static gpointer
writer_run(gpointer data)
{
    Writer *w = data;
    g_autofree char *name = file_name(w->index);
    g_autofree char *path = g_build_filename(w->dir, name, NULL);
    g_autoptr(GError) err = NULL;

    if (w->sy->removing)
        w->ok = vrt_file_remove_durable(w->ds, path, &err);
    else
        w->ok = vrt_file_write_durable(w->ds, path, "<domain/>", -1, 0600, &err);
    g_assert_no_error(err);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->sy->lock);

        for (guint i = 0; i < w->sy->seen->len; i++) {
            bool present = g_hash_table_contains(g_ptr_array_index(w->sy->seen, i), name);

            if (g_array_index(w->sy->ended, gboolean, i) && present != w->sy->removing)
                w->covered = true;
        }
    }
    return NULL;
}

static guint
run_writers(Fixture *fx, bool removing)
{
    Syncs sy = { .dir = fx->dir, .removing = removing };
    Writer w[WRITERS] = { 0 };
    guint fsyncs;

    g_mutex_init(&sy.lock);
    sy.seen = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
    sy.ended = g_array_new(FALSE, TRUE, sizeof(gboolean));
    vrt_dir_sync_set_hook(fx->ds, hook, &sy);
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (Writer){ .sy = &sy, .ds = fx->ds, .dir = fx->dir, .index = i };
        w[i].thread = g_thread_new("writer", writer_run, &w[i]);
    }
    for (int i = 0; i < WRITERS; i++) {
        g_thread_join(w[i].thread);
        g_assert_true(w[i].ok);
        /* Never back before an fsync that began after its change ended. */
        g_assert_true(w[i].covered);
    }
    vrt_dir_sync_set_hook(fx->ds, NULL, NULL);
    g_assert_cmpuint(sy.max_in_flight, ==, 1);
    fsyncs = sy.seen->len;
    g_ptr_array_unref(sy.seen);
    g_array_unref(sy.ended);
    g_mutex_clear(&sy.lock);
    return fsyncs;
}

/* Concurrent definitions in one directory share its fsyncs. */
static void
test_group_commit_writes(Fixture *fx, gconstpointer unused)
{
    guint fsyncs = run_writers(fx, false);

    g_assert_cmpuint(fsyncs, >=, 1);
    g_assert_cmpuint(fsyncs, <, WRITERS);
    g_assert_cmpuint(count_present(fx->dir), ==, WRITERS);
}

/* So do concurrent removals (undefine). */
static void
test_group_commit_removals(Fixture *fx, gconstpointer unused)
{
    for (int i = 0; i < WRITERS; i++) {
        g_autofree char *name = file_name(i);
        g_autofree char *p = g_build_filename(fx->dir, name, NULL);

        g_assert_true(vrt_file_write_atomic(p, "<domain/>", -1, 0600, NULL));
    }
    guint fsyncs = run_writers(fx, true);

    g_assert_cmpuint(fsyncs, >=, 1);
    g_assert_cmpuint(fsyncs, <, WRITERS);
    g_assert_cmpuint(count_present(fx->dir), ==, 0);
}

static void
count_hook(const char *dir, bool after, gpointer data)
{
    if (!after)
        (*(guint *)data)++;
}

/* One writer alone: one fsync of the directory per durable change, none
 * for a run-state write or for removing what is not there. */
static void
test_single_writer(Fixture *fx, gconstpointer unused)
{
    g_autofree char *path = g_build_filename(fx->dir, "d0.xml", NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *got = NULL;
    guint fsyncs = 0;

    vrt_dir_sync_set_hook(fx->ds, count_hook, &fsyncs);
    g_assert_true(vrt_file_write_durable(fx->ds, path, "<domain>v1</domain>", -1, 0640, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(fsyncs, ==, 1);
    g_assert_true(vrt_file_write_atomic(path, "<domain>v2</domain>", -1, 0640, &err));
    g_assert_cmpuint(fsyncs, ==, 1);
    g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, "<domain>v2</domain>");
    GStatBuf st;
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0640);
    g_assert_true(vrt_file_remove_durable(fx->ds, path, &err));
    g_assert_cmpuint(fsyncs, ==, 2);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_true(vrt_file_remove_durable(fx->ds, path, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(fsyncs, ==, 2);
}

/* A durable write of a new file and one over an existing file: each
 * leaves the file with its content and mode and nothing else in the
 * directory (no temporary name), and each costs one directory fsync. */
static void
test_durable_replace(Fixture *fx, gconstpointer unused)
{
    g_autofree char *path = g_build_filename(fx->dir, "d1.xml", NULL);
    g_autoptr(GError) err = NULL;
    guint fsyncs = 0;

    vrt_dir_sync_set_hook(fx->ds, count_hook, &fsyncs);
    for (int round = 0; round < 3; round++) {
        g_autofree char *want = g_strdup_printf("<domain>round %d</domain>", round);
        g_autofree char *got = NULL;
        g_autoptr(GDir) d = NULL;
        const char *e;
        GStatBuf st;
        guint entries = 0;

        g_assert_true(vrt_file_write_durable(fx->ds, path, want, -1, round == 2 ? 0600 : 0640, &err));
        g_assert_no_error(err);
        g_assert_cmpuint(fsyncs, ==, (guint)round + 1);
        g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
        g_assert_cmpstr(got, ==, want);
        g_assert_cmpint(g_stat(path, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, round == 2 ? 0600 : 0640);
        d = g_dir_open(fx->dir, 0, NULL);
        while ((e = g_dir_read_name(d))) {
            g_assert_cmpstr(e, ==, "d1.xml");
            entries++;
        }
        g_assert_cmpuint(entries, ==, 1);
    }
    g_assert_true(vrt_file_remove_durable(fx->ds, path, &err));
}

/* Failures name the path and leave no temporary file behind. */
static void
test_errors(Fixture *fx, gconstpointer unused)
{
    g_autofree char *missing = g_build_filename(fx->dir, "missing", "d0.xml", NULL);
    g_autofree char *sub = g_build_filename(fx->dir, "sub", NULL);
    g_autofree char *onto_dir = g_build_filename(sub, "x", NULL);
    g_autofree char *inside = g_build_filename(onto_dir, "y", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) d = NULL;
    const char *e;

    g_assert_false(vrt_file_write_durable(fx->ds, missing, "x", -1, 0600, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "d0.xml"));
    g_clear_error(&err);
    /* rename onto a non-empty directory fails after the temporary file exists */
    g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
    g_assert_cmpint(g_mkdir(onto_dir, 0700), ==, 0);
    g_assert_true(vrt_file_write_atomic(inside, "y", -1, 0600, NULL));
    g_assert_false(vrt_file_write_durable(fx->ds, onto_dir, "x", -1, 0600, &err));
    g_assert_nonnull(strstr(err->message, "cannot replace"));
    d = g_dir_open(sub, 0, NULL);
    while ((e = g_dir_read_name(d)))
        g_assert_cmpstr(e, ==, "x");
    g_unlink(inside);
    g_rmdir(onto_dir);
    g_rmdir(sub);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/fileutil/group-commit-writes", Fixture, NULL, setup, test_group_commit_writes, teardown);
    g_test_add("/fileutil/group-commit-removals", Fixture, NULL, setup, test_group_commit_removals, teardown);
    g_test_add("/fileutil/single-writer", Fixture, NULL, setup, test_single_writer, teardown);
    g_test_add("/fileutil/durable-replace", Fixture, NULL, setup, test_durable_replace, teardown);
    g_test_add("/fileutil/errors", Fixture, NULL, setup, test_errors, teardown);
    return g_test_run();
}
