/*
 * Helpers shared by vrt's C unit tests: temporary roots, schema validation
 * with virt-xml-validate, the simulated SR-IOV host, and the rule for a
 * missing prerequisite (skip in a developer's run, fail under CI). See
 * testutil.h; built only for the tests (tests/clib/meson.build).
 */
#include "testutil.h"

#include "vrt-config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

bool
vrt_test_in_ci(void)
{
    const char *ci = g_getenv("CI");

    if (!ci || !*ci)
        return false;
    return g_ascii_strcasecmp(ci, "0") != 0 && g_ascii_strcasecmp(ci, "false") != 0 &&
           g_ascii_strcasecmp(ci, "no") != 0;
}

void
vrt_test_missing(const char *fmt, ...)
{
    va_list ap;
    g_autofree char *reason = NULL;

    va_start(ap, fmt);
    reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (vrt_test_in_ci())
        g_test_fail_printf("missing prerequisite (CI installs everything): %s", reason);
    else
        g_test_skip(reason);
}

int
vrt_test_missing_all(const char *fmt, ...)
{
    va_list ap;
    g_autofree char *reason = NULL;

    va_start(ap, fmt);
    reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (vrt_test_in_ci()) {
        g_printerr("missing prerequisite (CI installs everything): %s\n", reason);
        return 1;
    }
    g_printerr("skipped: %s\n", reason);
    return 77;
}

char *
vrt_test_make_root(const char *tmpl)
{
    g_autoptr(GError) err = NULL;
    char *dir;

    if (g_path_is_absolute(tmpl)) {
        dir = g_strdup(tmpl);
        if (!g_mkdtemp(dir))
            g_error("cannot make a test root from %s: %s", tmpl, g_strerror(errno));
        return dir;
    }
    dir = g_dir_make_tmp(tmpl, &err);
    g_assert_no_error(err);
    return dir;
}

static void
remove_below(const char *path, dev_t dev)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        if (st.st_dev != dev) {
            /* A mount (hostsim's FUSE tree, say) is its owner's to remove. */
            g_printerr("not removing %s: a mount point\n", path);
            return;
        }
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_below(child, dev);
        }
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

void
vrt_test_remove_tree(const char *path)
{
    struct stat st;

    if (path && lstat(path, &st) == 0)
        remove_below(path, st.st_dev);
}

void
vrt_test_assert_validates(const char *xml, const char *schema, const char *what)
{
    const char *env = g_getenv("VRT_XML_VALIDATE");
    g_autofree char *tool = env && *env ? g_strdup(env) : g_find_program_in_path("virt-xml-validate");
    g_autofree char *path = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    int fd, status = -1;

    if (!tool || !g_file_test(tool, G_FILE_TEST_IS_EXECUTABLE)) {
        vrt_test_missing("virt-xml-validate not found (Debian package libvirt-clients): schema check of %s skipped",
                         what ? what : schema);
        return;
    }
    fd = g_file_open_tmp("vrt-xml-XXXXXX.xml", &path, &error);
    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(path, xml, -1, &error));
    const char *argv[] = { tool, path, schema, NULL };
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
    g_unlink(path);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("%s does not validate against %s: %s%s\n%s", what ? what : "XML", schema, out, err, xml);
}

char *
vrt_test_hostsim_missing(void)
{
    const char *argv[] = { "/usr/bin/python3", "-c", "import fusepy", NULL };
    int status = -1;

    if (getuid() != 0)
        return g_strdup("hostsim needs root to mount FUSE");
    if (!g_file_test("/dev/fuse", G_FILE_TEST_EXISTS))
        return g_strdup("no /dev/fuse on this machine");
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                      NULL, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL))
        return g_strdup("python3-fusepy is not installed (apt-get install python3-fusepy)");
    return NULL;
}

bool
vrt_test_hostsim_run(const char *const *args, char **out, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *hostsim = g_build_filename(VRT_SOURCE_DIR, "tests", "hostsim", "hostsim", NULL);
    g_autofree char *stdout_text = NULL;
    g_autofree char *stderr_text = NULL;
    int status = -1;

    g_ptr_array_add(argv, (gpointer) "/usr/bin/python3");
    g_ptr_array_add(argv, hostsim);
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &stdout_text, &stderr_text,
                      &status, error))
        return false;
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, G_SPAWN_EXIT_ERROR, 1, "hostsim %s failed: %s", args[0], g_strstrip(stderr_text));
        return false;
    }
    if (out)
        *out = g_steal_pointer(&stdout_text);
    return true;
}

char *
vrt_test_hostsim_start(guint pfs, guint vfs, GError **error)
{
    g_autofree char *root = vrt_test_make_root("vrt-hostsim-XXXXXX");
    g_autofree char *npfs = g_strdup_printf("%u", pfs);
    g_autofree char *nvfs = g_strdup_printf("%u", vfs);
    const char *args[] = { "start", root, "--pfs", npfs, "--vfs", nvfs, NULL };

    if (!vrt_test_hostsim_run(args, NULL, error)) {
        vrt_test_remove_tree(root);
        return NULL;
    }
    return g_steal_pointer(&root);
}

void
vrt_test_hostsim_stop(const char *root)
{
    const char *args[] = { "stop", root, NULL };
    g_autoptr(GError) err = NULL;

    if (!vrt_test_hostsim_run(args, NULL, &err))
        g_printerr("%s\n", err->message);
    vrt_test_remove_tree(root);
}
