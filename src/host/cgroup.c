/*
 * Domain cgroups (cgroup v2) under the host root: see cgroup.h for the
 * layout. Every file is read and written through the host seam, so a
 * simulated host or a test's plain directory tree (with a write function
 * playing the kernel) stands in for /sys/fs/cgroup. Which controllers a
 * domain has is read from machine.slice's cgroup.subtree_control (what
 * the kernel shows as each scope's cgroup.controllers), which vrtd itself
 * writes.
 */
#include "host/cgroup.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLICE "machine.slice"

/* The controllers domain tuning uses, in the order they are enabled. */
static const char *const wanted_controllers[] = { "cpu", "cpuset", "memory", "io" };

struct _VrtCgroups {
    VrtHost *host; /* not owned */
    char *root; /* host path, NULL when none */
    char *reason; /* why cgroups are not available, NULL when they are */
};

/* Is word one of the space-separated words of list? */
static bool
has_word(const char *list, const char *word)
{
    g_auto(GStrv) words = NULL;

    if (!list)
        return false;
    words = g_strsplit_set(list, " \n", -1);
    return g_strv_contains((const char *const *)words, word);
}

/* The mount point of the host's cgroup2 file system, NULL when none. */
static char *
find_cgroup2_mount(VrtHost *host)
{
    g_autofree char *real = vrt_host_path(host, "/proc/self/mounts");
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(real, &text, NULL, NULL))
        return NULL;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], " ", 4);

        if (g_strv_length(f) >= 3 && g_str_equal(f[2], "cgroup2"))
            return g_strdup(f[1]);
    }
    return NULL;
}

static char *
slice_path(VrtCgroups *cg, const char *file)
{
    return g_build_filename(cg->root, SLICE, file, NULL);
}

/* Enables each wanted controller that `dir` offers in its
 * cgroup.subtree_control, one at a time (one the kernel refuses is left
 * out, logged). */
static void
enable_controllers(VrtCgroups *cg, const char *dir, const char *offered_file)
{
    g_autofree char *ctl = g_build_filename(dir, "cgroup.subtree_control", NULL);
    g_autofree char *offered = vrt_host_read(cg->host, offered_file, NULL);
    g_autofree char *enabled = vrt_host_read(cg->host, ctl, NULL);

    for (guint i = 0; i < G_N_ELEMENTS(wanted_controllers); i++) {
        const char *c = wanted_controllers[i];
        g_autofree char *plus = g_strdup_printf("+%s", c);
        g_autoptr(GError) err = NULL;

        if (!has_word(offered, c) || has_word(enabled, c))
            continue;
        if (!vrt_host_write(cg->host, ctl, plus, &err))
            g_info("cgroups: controller %s not enabled in %s: %s", c, dir, err->message);
    }
}

static bool
make_dir(VrtCgroups *cg, const char *path, GError **error)
{
    g_autofree char *real = vrt_host_path(cg->host, path);

    if (mkdir(real, 0755) < 0 && errno != EEXIST) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to create v2 cgroup '%s'", path);
        return false;
    }
    return true;
}

VrtCgroups *
vrt_cgroups_new(VrtHost *host, const char *root)
{
    VrtCgroups *cg = g_new0(VrtCgroups, 1);
    g_autofree char *controllers = NULL;
    g_autofree char *slice = NULL;
    g_autoptr(GError) err = NULL;

    cg->host = host;
    if (root && g_str_equal(root, "none")) {
        cg->reason = g_strdup("cgroups are turned off (cgroup_root = \"none\")");
        return cg;
    }
    cg->root = root && *root ? g_strdup(root) : find_cgroup2_mount(host);
    if (!cg->root) {
        cg->reason = g_strdup("no cgroup v2 file system is mounted");
        return cg;
    }
    controllers = g_build_filename(cg->root, "cgroup.controllers", NULL);
    if (!vrt_host_exists(host, controllers)) {
        cg->reason = g_strdup_printf("'%s' is not a cgroup v2 tree", cg->root);
        g_clear_pointer(&cg->root, g_free);
        return cg;
    }
    slice = g_build_filename(cg->root, SLICE, NULL);
    if (!make_dir(cg, slice, &err)) {
        cg->reason = g_strdup(err->message);
        return cg;
    }
    enable_controllers(cg, cg->root, controllers);
    {
        /* What the root now passes down is what machine.slice offers. */
        g_autofree char *root_ctl = g_build_filename(cg->root, "cgroup.subtree_control", NULL);
        enable_controllers(cg, slice, root_ctl);
    }
    g_info("cgroups: domains under %s/%s", cg->root, SLICE);
    return cg;
}

void
vrt_cgroups_free(VrtCgroups *cg)
{
    if (!cg)
        return;
    g_free(cg->root);
    g_free(cg->reason);
    g_free(cg);
}

bool
vrt_cgroups_available(VrtCgroups *cg)
{
    return cg && !cg->reason;
}

const char *
vrt_cgroups_unavailable_reason(VrtCgroups *cg)
{
    return cg ? cg->reason : "no cgroups";
}

const char *
vrt_cgroups_root(VrtCgroups *cg)
{
    return cg ? cg->root : NULL;
}

/* systemd's unit name escaping, as libvirt's virSystemdEscapeName. */
static void
escape_name(GString *buf, const char *name)
{
    static const char valid[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:_.";

    if (*name == '.') {
        g_string_append_printf(buf, "\\x%02x", (guchar)*name);
        name++;
    }
    for (; *name; name++) {
        if (*name == '/')
            g_string_append_c(buf, '-');
        else if (!strchr(valid, *name))
            g_string_append_printf(buf, "\\x%02x", (guchar)*name);
        else
            g_string_append_c(buf, *name);
    }
}

char *
vrt_cgroup_scope_name(const char *name)
{
    GString *buf = g_string_new("machine-vrt\\x2d");

    escape_name(buf, name);
    g_string_append(buf, ".scope");
    return g_string_free(buf, FALSE);
}

/* The inverse of escape_name for a scope name of ours; NULL otherwise. */
static char *
unescape_scope(const char *scope)
{
    static const char prefix[] = "machine-vrt\\x2d";
    g_autoptr(GString) out = g_string_new(NULL);
    const char *p, *end;

    if (!g_str_has_prefix(scope, prefix) || !g_str_has_suffix(scope, ".scope"))
        return NULL;
    p = scope + strlen(prefix);
    end = scope + strlen(scope) - strlen(".scope");
    while (p < end) {
        if (p[0] == '\\' && p + 3 < end && p[1] == 'x' && g_ascii_isxdigit(p[2]) && g_ascii_isxdigit(p[3])) {
            g_string_append_c(out, (char)(g_ascii_xdigit_value(p[2]) * 16 + g_ascii_xdigit_value(p[3])));
            p += 4;
        } else {
            g_string_append_c(out, *p == '-' ? '/' : *p);
            p++;
        }
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
vrt_cgroup_domain_path(VrtCgroups *cg, const char *name, const char *sub)
{
    g_autofree char *scope = vrt_cgroup_scope_name(name);

    return g_build_filename(cg->root, SLICE, scope, sub, NULL);
}

static bool
check_available(VrtCgroups *cg, GError **error)
{
    if (vrt_cgroups_available(cg))
        return true;
    vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "cgroups are not available: %s",
                  vrt_cgroups_unavailable_reason(cg));
    return false;
}

/* Makes child `sub` of the scope a threaded cgroup. */
static bool
make_threaded(VrtCgroups *cg, const char *name, const char *sub, GError **error)
{
    g_autofree char *dir = vrt_cgroup_domain_path(cg, name, sub);
    g_autofree char *type = g_build_filename(dir, "cgroup.type", NULL);
    g_autofree char *cur = NULL;

    if (!make_dir(cg, dir, error))
        return false;
    cur = vrt_host_read(cg->host, type, NULL);
    if (cur && g_str_equal(cur, "threaded"))
        return true;
    return vrt_host_write(cg->host, type, "threaded", error);
}

bool
vrt_cgroup_domain_create(VrtCgroups *cg, const char *name, pid_t pid, GError **error)
{
    g_autofree char *scope = NULL;
    g_autofree char *procs = NULL;
    g_autofree char *value = NULL;

    if (!check_available(cg, error))
        return false;
    scope = vrt_cgroup_domain_path(cg, name, NULL);
    if (!make_dir(cg, scope, error) || !make_threaded(cg, name, "emulator", error))
        return false;
    /* Only the threaded controllers go on below the scope; memory and io
     * act on the scope as a whole. */
    if (vrt_cgroup_domain_has_controller(cg, name, "cpu"))
        vrt_cgroup_set(cg, name, NULL, "cgroup.subtree_control", "+cpu", NULL);
    if (vrt_cgroup_domain_has_controller(cg, name, "cpuset"))
        vrt_cgroup_set(cg, name, NULL, "cgroup.subtree_control", "+cpuset", NULL);
    procs = vrt_cgroup_domain_path(cg, name, "emulator/cgroup.procs");
    value = g_strdup_printf("%d", (int)pid);
    return vrt_host_write(cg->host, procs, value, error);
}

bool
vrt_cgroup_domain_exists(VrtCgroups *cg, const char *name)
{
    g_autofree char *scope = NULL;

    if (!vrt_cgroups_available(cg))
        return false;
    scope = vrt_cgroup_domain_path(cg, name, NULL);
    return vrt_host_exists(cg->host, scope);
}

bool
vrt_cgroup_domain_add_vcpu(VrtCgroups *cg, const char *name, guint vcpu, pid_t tid, GError **error)
{
    g_autofree char *sub = g_strdup_printf("vcpu%u", vcpu);
    g_autofree char *value = g_strdup_printf("%d", (int)tid);

    if (!check_available(cg, error) || !make_threaded(cg, name, sub, error))
        return false;
    return vrt_cgroup_set(cg, name, sub, "cgroup.threads", value, error);
}

/* rmdir, waiting up to 2 s while the cgroup is busy: the last threads of
 * a QEMU that was just killed may still be exiting when its leader is
 * already a zombie (or reaped). */
static int
rmdir_busy_wait(const char *path)
{
    for (int i = 0; i < 200; i++) {
        if (rmdir(path) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            return -1;
        g_usleep(10 * 1000);
    }
    return -1;
}

bool
vrt_cgroup_domain_remove(VrtCgroups *cg, const char *name, GError **error)
{
    g_autofree char *scope = NULL;
    g_autofree char *real = NULL;
    g_autoptr(GPtrArray) subs = NULL;

    if (!vrt_cgroups_available(cg))
        return true;
    scope = vrt_cgroup_domain_path(cg, name, NULL);
    real = vrt_host_path(cg->host, scope);
    if (!g_file_test(real, G_FILE_TEST_IS_DIR))
        return true;
    subs = vrt_host_list_dir(cg->host, scope, error);
    if (!subs)
        return false;
    /* The children are directories; a cgroup's own files cannot be
     * removed (rmdir of a file fails with ENOTDIR, skipped). */
    for (guint i = 0; i < subs->len; i++) {
        g_autofree char *child = g_build_filename(real, g_ptr_array_index(subs, i), NULL);

        if (g_file_test(child, G_FILE_TEST_IS_DIR) && rmdir_busy_wait(child) < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Unable to remove cgroup '%s/%s'", scope,
                                (const char *)g_ptr_array_index(subs, i));
            return false;
        }
    }
    if (rmdir_busy_wait(real) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Unable to remove cgroup '%s'", scope);
        return false;
    }
    return true;
}

GPtrArray *
vrt_cgroup_list_domains(VrtCgroups *cg)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *slice = NULL;
    g_autoptr(GPtrArray) entries = NULL;

    if (!vrt_cgroups_available(cg))
        return names;
    slice = g_build_filename(cg->root, SLICE, NULL);
    entries = vrt_host_list_dir(cg->host, slice, NULL);
    for (guint i = 0; entries && i < entries->len; i++) {
        char *name = unescape_scope(g_ptr_array_index(entries, i));

        if (name)
            g_ptr_array_add(names, name);
    }
    return names;
}

bool
vrt_cgroup_domain_has_controller(VrtCgroups *cg, const char *name, const char *controller)
{
    g_autofree char *ctl = NULL;
    g_autofree char *enabled = NULL;
    g_autofree char *scope = NULL;

    if (!vrt_cgroups_available(cg))
        return false;
    scope = vrt_cgroup_domain_path(cg, name, NULL);
    if (!vrt_host_exists(cg->host, scope))
        return false;
    ctl = slice_path(cg, "cgroup.subtree_control");
    enabled = vrt_host_read(cg->host, ctl, NULL);
    return has_word(enabled, controller);
}

char *
vrt_cgroup_get(VrtCgroups *cg, const char *name, const char *sub, const char *file, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *path = NULL;

    if (!check_available(cg, error))
        return NULL;
    dir = vrt_cgroup_domain_path(cg, name, sub);
    path = g_build_filename(dir, file, NULL);
    return vrt_host_read(cg->host, path, error);
}

bool
vrt_cgroup_set(VrtCgroups *cg, const char *name, const char *sub, const char *file, const char *value, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *path = NULL;

    if (!check_available(cg, error))
        return false;
    dir = vrt_cgroup_domain_path(cg, name, sub);
    path = g_build_filename(dir, file, NULL);
    return vrt_host_write(cg->host, path, value, error);
}

bool
vrt_cgroup_get_cpu_max(VrtCgroups *cg, const char *name, const char *sub, gint64 *quota, guint64 *period,
                       GError **error)
{
    g_autofree char *text = vrt_cgroup_get(cg, name, sub, "cpu.max", error);
    g_auto(GStrv) f = NULL;

    if (!text)
        return false;
    f = g_strsplit(g_strstrip(text), " ", 2);
    if (g_strv_length(f) != 2) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Invalid 'cpu.max' data.");
        return false;
    }
    *quota = g_str_equal(f[0], "max") ? -1 : g_ascii_strtoll(f[0], NULL, 10);
    *period = g_ascii_strtoull(f[1], NULL, 10);
    return true;
}

bool
vrt_cgroup_set_cpu_max(VrtCgroups *cg, const char *name, const char *sub, bool set_quota, gint64 quota, bool set_period,
                       guint64 period, GError **error)
{
    gint64 cur_quota;
    guint64 cur_period;
    g_autofree char *value = NULL;

    if (!vrt_cgroup_get_cpu_max(cg, name, sub, &cur_quota, &cur_period, error))
        return false;
    if (set_quota)
        cur_quota = quota > 0 ? quota : -1;
    if (set_period)
        cur_period = period;
    if (cur_quota < 0)
        value = g_strdup_printf("max %" G_GUINT64_FORMAT, cur_period);
    else
        value = g_strdup_printf("%" G_GINT64_FORMAT " %" G_GUINT64_FORMAT, cur_quota, cur_period);
    return vrt_cgroup_set(cg, name, sub, "cpu.max", value, error);
}
