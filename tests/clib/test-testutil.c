/*
 * The test helper library itself (testutil.h): a test root is made and
 * removed with everything in it but what its links point to; XML is checked
 * against libvirt's schema; a missing prerequisite skips a developer's run
 * and fails a CI run; the simulated host starts, answers and goes away.
 */
#include "testutil.h"

#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

static void
test_root(void)
{
    g_autofree char *outside = vrt_test_make_root("vrt-testutil-out-XXXXXX");
    g_autofree char *root = vrt_test_make_root("vrt-testutil-XXXXXX");
    g_autofree char *deep = g_build_filename(root, "a", "b", NULL);
    g_autofree char *file = g_build_filename(deep, "f", NULL);
    g_autofree char *kept = g_build_filename(outside, "kept", NULL);
    g_autofree char *link = g_build_filename(root, "a", "link", NULL);

    g_assert_true(g_file_test(root, G_FILE_TEST_IS_DIR));
    g_assert_cmpint(g_mkdir_with_parents(deep, 0755), ==, 0);
    g_assert_true(g_file_set_contents(file, "x", -1, NULL));
    g_assert_true(g_file_set_contents(kept, "y", -1, NULL));
    g_assert_cmpint(symlink(outside, link), ==, 0);

    vrt_test_remove_tree(root);
    g_assert_false(g_file_test(root, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(kept, G_FILE_TEST_IS_REGULAR));
    vrt_test_remove_tree(root); /* already gone: nothing to do */
    vrt_test_remove_tree(outside);
    g_assert_false(g_file_test(outside, G_FILE_TEST_EXISTS));

    /* An absolute template stays where it says. */
    g_autofree char *shortroot = vrt_test_make_root("/tmp/vrtuXXXXXX");
    g_assert_true(g_str_has_prefix(shortroot, "/tmp/vrtu"));
    vrt_test_remove_tree(shortroot);
}

static void
test_validates(void)
{
    vrt_test_assert_validates("<network><name>n</name><bridge name='virbr9'/></network>", "network", "a network");
}

/* The children of test_missing_rule. */
static void
missing_in_dev(void)
{
    if (!g_getenv("VRT_TESTUTIL_CHILD"))
        return; /* run only by test_missing_rule, in a child */
    vrt_test_missing("%s is not installed", "something");
}

static void
missing_in_ci(void)
{
    if (!g_getenv("VRT_TESTUTIL_CHILD"))
        return; /* run only by test_missing_rule, in a child */
    vrt_test_missing("%s is not installed", "something");
}

static const char *self; /* argv[0] */

/* Runs the test at path in a child of this program with --tap and CI as
 * given; returns its TAP output, its exit status in *status. */
static char *
run_child(const char *path, const char *ci, int *status)
{
    const char *argv[] = { self, "--tap", "-p", path, NULL };
    g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "VRT_TESTUTIL_CHILD", "1", TRUE);
    g_autoptr(GError) err = NULL;
    char *out = NULL;

    env = ci ? g_environ_setenv(env, "CI", ci, TRUE) : g_environ_unsetenv(env, "CI");
    g_assert_true(
        g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, status, &err));
    g_assert_no_error(err);
    return out;
}

static void
test_missing_rule(void)
{
    int status = -1;
    g_autofree char *dev = run_child("/testutil/missing/dev", NULL, &status);
    g_autofree char *ci_false = NULL;
    g_autofree char *ci = NULL;

    g_assert_nonnull(strstr(dev, "# SKIP something is not installed"));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    ci_false = run_child("/testutil/missing/ci", "false", &status);
    g_assert_nonnull(strstr(ci_false, "# SKIP something is not installed"));
    ci = run_child("/testutil/missing/ci", "true", &status);
    g_assert_nonnull(strstr(ci, "not ok"));
    g_assert_nonnull(strstr(ci, "missing prerequisite"));
    g_assert_false(g_spawn_check_wait_status(status, NULL));
}

static void
test_hostsim(void)
{
    g_autofree char *missing = vrt_test_hostsim_missing();
    g_autoptr(GError) err = NULL;
    g_autoptr(GError) bad_err = NULL;
    g_autofree char *root = NULL;
    g_autofree char *show = NULL;
    g_autofree char *sys = NULL;
    bool shown, bad_ok, had_sys;

    if (missing) {
        vrt_test_missing("%s", missing);
        return;
    }
    root = vrt_test_hostsim_start(1, 2, &err);
    g_assert_no_error(err);
    /* Everything is asserted after the stop: a failed check must not leave
     * the FUSE mount behind. */
    const char *args[] = { "show", root, NULL };
    shown = vrt_test_hostsim_run(args, &show, &err);
    sys = g_build_filename(root, "sys", "bus", "pci", "devices", "0000:06:10.0", NULL);
    had_sys = g_file_test(sys, G_FILE_TEST_IS_DIR);
    const char *bad[] = { "show", "/nonexistent-vrt-host", NULL };
    bad_ok = vrt_test_hostsim_run(bad, NULL, &bad_err);
    vrt_test_hostsim_stop(root);

    g_assert_no_error(err);
    g_assert_true(shown);
    g_assert_nonnull(strstr(show, "0000:06:10.1"));
    g_assert_null(strstr(show, "0000:06:10.2"));
    g_assert_true(had_sys);
    g_assert_false(bad_ok);
    g_assert_nonnull(bad_err);
    g_assert_nonnull(strstr(bad_err->message, "hostsim show failed"));
    g_assert_false(g_file_test(root, G_FILE_TEST_EXISTS));
}

int
main(int argc, char **argv)
{
    self = argv[0];
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/testutil/root", test_root);
    g_test_add_func("/testutil/validates", test_validates);
    g_test_add_func("/testutil/missing/dev", missing_in_dev);
    g_test_add_func("/testutil/missing/ci", missing_in_ci);
    g_test_add_func("/testutil/missing-rule", test_missing_rule);
    g_test_add_func("/testutil/hostsim", test_hostsim);
    return g_test_run();
}
