/*
 * Unit tests of the domain cgroups (cgroup.c) against a fake cgroup v2 tree
 * of plain files under a temporary directory: the test's write function
 * plays the kernel (a cgroup.subtree_control write of "+cpu" adds the word,
 * other writes replace the file). They check the scope's name and escaping,
 * the controllers enabled down to the domain, the process placement, the
 * cpu.max read-modify-write and the removal.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/cgroup.h"
#include "host/host.h"
#include "testutil.h"
#include "util/error.h"

typedef struct {
    char *root; /* the host root (the temp directory) */
} Fake;

static bool
fake_write(const char *path, const char *value, gpointer data, GError **error)
{
    Fake *fake = data;
    g_autofree char *real = g_build_filename(fake->root, path, NULL);
    g_autofree char *old = NULL;

    if (g_str_has_suffix(path, "/cgroup.subtree_control") && value[0] == '+') {
        g_autoptr(GString) s = g_string_new(NULL);
        if (g_file_get_contents(real, &old, NULL, NULL) && *g_strstrip(old))
            g_string_append_printf(s, "%s ", old);
        g_string_append(s, value + 1);
        return g_file_set_contents(real, s->str, -1, error);
    }
    return g_file_set_contents(real, value, -1, error);
}

static void
write_file(const char *root, const char *path, const char *text)
{
    g_autofree char *real = g_build_filename(root, path, NULL);
    g_autofree char *dir = g_path_get_dirname(real);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(real, text, -1, NULL));
}

static char *
read_file(const char *root, const char *path)
{
    g_autofree char *real = g_build_filename(root, path, NULL);
    char *text = NULL;

    if (!g_file_get_contents(real, &text, NULL, NULL))
        return NULL;
    return g_strstrip(text);
}

static void
test_scope_name(void)
{
    g_autofree char *plain = vrt_cgroup_scope_name("web1");
    g_autofree char *dashed = vrt_cgroup_scope_name("my-vm.x y");
    g_autofree char *dotted = vrt_cgroup_scope_name(".hidden");

    g_assert_cmpstr(plain, ==, "machine-vrt\\x2dweb1.scope");
    g_assert_cmpstr(dashed, ==, "machine-vrt\\x2dmy\\x2dvm.x\\x20y.scope");
    g_assert_cmpstr(dotted, ==, "machine-vrt\\x2d\\x2ehidden.scope");
}

static void
test_unavailable(void)
{
    g_autofree char *root = vrt_test_make_root("vrt-cgroup-XXXXXX");
    g_autoptr(VrtHost) host = vrt_host_new(root, NULL);
    g_autoptr(VrtCgroups) none = vrt_cgroups_new(host, "none");
    g_autoptr(VrtCgroups) notv2 = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *cgdir = g_build_filename(root, "cg", NULL);

    g_assert_false(vrt_cgroups_available(none));
    g_assert_true(g_mkdir_with_parents(cgdir, 0755) == 0);
    notv2 = vrt_cgroups_new(host, "/cg");
    g_assert_false(vrt_cgroups_available(notv2));
    g_assert_nonnull(strstr(vrt_cgroups_unavailable_reason(notv2), "not a cgroup v2 tree"));
    g_assert_false(vrt_cgroup_domain_create(notv2, "d", 1, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_assert_false(vrt_cgroup_domain_has_controller(notv2, "d", "cpu"));
    /* Removing what was never made is no error. */
    g_assert_true(vrt_cgroup_domain_remove(notv2, "d", NULL));
    vrt_test_remove_tree(root);
}

static void
test_domain_lifecycle(void)
{
    g_autofree char *root = vrt_test_make_root("vrt-cgroup-XXXXXX");
    Fake fake = { .root = root };
    g_autoptr(VrtHost) host = vrt_host_new(root, NULL);
    g_autoptr(VrtCgroups) cg = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) names = NULL;
    g_autofree char *slice_ctl = NULL, *procs = NULL, *type = NULL, *sub = NULL, *threads = NULL;
    g_autofree char *scope = NULL;
    gint64 quota;
    guint64 period;
    const char *S = "/cg/machine.slice/machine-vrt\\x2dweb\\x2d1.scope";

    vrt_host_set_write_func(host, fake_write, &fake);
    /* The root offers cpu, memory and pids; io and cpuset are not there. */
    write_file(root, "/cg/cgroup.controllers", "cpu memory pids\n");
    cg = vrt_cgroups_new(host, "/cg");
    g_assert_true(vrt_cgroups_available(cg));
    slice_ctl = read_file(root, "/cg/cgroup.subtree_control");
    g_assert_cmpstr(slice_ctl, ==, "cpu memory");
    g_clear_pointer(&slice_ctl, g_free);
    slice_ctl = read_file(root, "/cg/machine.slice/cgroup.subtree_control");
    g_assert_cmpstr(slice_ctl, ==, "cpu memory");

    g_assert_true(vrt_cgroup_domain_create(cg, "web-1", 4242, &err));
    g_assert_no_error(err);
    g_assert_true(vrt_cgroup_domain_exists(cg, "web-1"));
    procs = read_file(root, "/cg/machine.slice/machine-vrt\\x2dweb\\x2d1.scope/emulator/cgroup.procs");
    g_assert_cmpstr(procs, ==, "4242");
    type = read_file(root, "/cg/machine.slice/machine-vrt\\x2dweb\\x2d1.scope/emulator/cgroup.type");
    g_assert_cmpstr(type, ==, "threaded");
    sub = read_file(root, "/cg/machine.slice/machine-vrt\\x2dweb\\x2d1.scope/cgroup.subtree_control");
    g_assert_cmpstr(sub, ==, "cpu");
    g_assert_true(vrt_cgroup_domain_has_controller(cg, "web-1", "memory"));
    g_assert_false(vrt_cgroup_domain_has_controller(cg, "web-1", "io"));
    g_assert_false(vrt_cgroup_domain_has_controller(cg, "other", "cpu"));

    g_assert_true(vrt_cgroup_domain_add_vcpu(cg, "web-1", 1, 4250, &err));
    threads = read_file(root, "/cg/machine.slice/machine-vrt\\x2dweb\\x2d1.scope/vcpu1/cgroup.threads");
    g_assert_cmpstr(threads, ==, "4250");

    /* cpu.max: the quota changes, the period stays; -1 is "max". */
    scope = g_strdup_printf("%s/vcpu1/cpu.max", S);
    write_file(root, scope, "max 100000\n");
    g_assert_true(vrt_cgroup_set_cpu_max(cg, "web-1", "vcpu1", true, 50000, false, 0, &err));
    g_assert_true(vrt_cgroup_get_cpu_max(cg, "web-1", "vcpu1", &quota, &period, &err));
    g_assert_cmpint(quota, ==, 50000);
    g_assert_cmpuint(period, ==, 100000);
    g_assert_true(vrt_cgroup_set_cpu_max(cg, "web-1", "vcpu1", false, 0, true, 20000, &err));
    g_assert_true(vrt_cgroup_get_cpu_max(cg, "web-1", "vcpu1", &quota, &period, &err));
    g_assert_cmpint(quota, ==, 50000);
    g_assert_cmpuint(period, ==, 20000);
    g_assert_true(vrt_cgroup_set_cpu_max(cg, "web-1", "vcpu1", true, -1, false, 0, &err));
    g_assert_true(vrt_cgroup_get_cpu_max(cg, "web-1", "vcpu1", &quota, &period, &err));
    g_assert_cmpint(quota, ==, -1);
    g_assert_no_error(err);

    names = vrt_cgroup_list_domains(cg);
    g_assert_cmpuint(names->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(names, 0), ==, "web-1");

    /* A plain tree keeps files in the directories: clear them as the
     * kernel would before rmdir. */
    {
        const char *files[] = { "emulator/cgroup.procs", "emulator/cgroup.type", "vcpu1/cgroup.threads",
                                "vcpu1/cgroup.type",     "vcpu1/cpu.max",        "cgroup.subtree_control" };
        for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
            g_autofree char *p = g_strdup_printf("%s%s/%s", root, S, files[i]);
            g_assert_cmpint(unlink(p), ==, 0);
        }
    }
    g_assert_true(vrt_cgroup_domain_remove(cg, "web-1", &err));
    g_assert_no_error(err);
    g_assert_false(vrt_cgroup_domain_exists(cg, "web-1"));
    /* machine.slice stays. */
    g_assert_true(vrt_host_exists(host, "/cg/machine.slice"));
    vrt_test_remove_tree(root);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cgroup/scope-name", test_scope_name);
    g_test_add_func("/cgroup/unavailable", test_unavailable);
    g_test_add_func("/cgroup/domain-lifecycle", test_domain_lifecycle);
    return g_test_run();
}
