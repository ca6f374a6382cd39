/* Process facts from /proc (proc.h): the alive check on real processes
 * (running, zombie, reaped) and on a proc root of the test's own making
 * that is missing the pid's entry (the /proc-unreadable answer), shows a
 * zombie, or has a command name with ") Z" in it; the start time and the
 * command line read from such a root. */
#include "util/proc.h"
#include "util/error.h"
#include "testutil.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Writes <root>/<pid>/<file>. */
static void
put(const char *root, pid_t pid, const char *file, const char *data, gssize len)
{
    g_autofree char *dir = g_strdup_printf("%s/%d", root, (int)pid);
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autoptr(GError) err = NULL;

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, data, len, &err));
    g_assert_no_error(err);
}

/* A stat line with state and starttime (field 22). */
static char *
stat_line(pid_t pid, const char *comm, char state, guint64 starttime)
{
    return g_strdup_printf("%d (%s) %c 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 %" G_GUINT64_FORMAT
                           " 1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
                           (int)pid, comm, state, starttime);
}

static pid_t
child_that_exits(void)
{
    pid_t pid = fork();

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0)
        _exit(0);
    return pid;
}

static void
test_real_processes(void)
{
    pid_t pid;
    int status;

    g_assert_true(vrt_proc_pid_alive(NULL, getpid()));
    g_assert_cmpuint(vrt_proc_pid_starttime(NULL, getpid()), >, 0);
    g_assert_false(vrt_proc_pid_alive(NULL, 0));
    g_assert_false(vrt_proc_pid_alive(NULL, -1));

    /* exited, not reaped: kill() still finds it, /proc says Z */
    pid = child_that_exits();
    for (int i = 0; i < 5000; i++) {
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
        g_autofree char *stat = NULL;
        if (g_file_get_contents(path, &stat, NULL, NULL) && strstr(stat, ") Z"))
            break;
        g_usleep(1000);
    }
    g_assert_false(vrt_proc_pid_alive(NULL, pid));
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    /* reaped: gone for kill() too */
    g_assert_false(vrt_proc_pid_alive(NULL, pid));
}

static void
test_unreadable_proc(void)
{
    g_autofree char *root = vrt_test_make_root("vrt-proc-XXXXXX");
    g_autofree char *missing = g_build_filename(root, "not-mounted", NULL);
    pid_t gone = child_that_exits();
    int status;

    g_assert_cmpint(waitpid(gone, &status, 0), ==, gone);
    /* No entry for the pid under the proc root (no /proc, hidepid=):
     * a process kill() finds is alive, one it does not find is gone. */
    g_assert_true(vrt_proc_pid_alive(root, getpid()));
    g_assert_true(vrt_proc_pid_alive(missing, getpid()));
    g_assert_false(vrt_proc_pid_alive(root, gone));
    g_assert_cmpuint(vrt_proc_pid_starttime(root, getpid()), ==, 0);
    vrt_test_remove_tree(root);
}

static void
test_stat_state(void)
{
    g_autofree char *root = vrt_test_make_root("vrt-proc-XXXXXX");
    g_autofree char *zombie = stat_line(getpid(), "qemu", 'Z', 777);
    g_autofree char *dead = stat_line(getpid(), "qemu", 'X', 777);
    g_autofree char *tricky = stat_line(getpid(), "a) Z (b", 'S', 4242);

    put(root, getpid(), "stat", zombie, -1);
    g_assert_false(vrt_proc_pid_alive(root, getpid()));
    g_assert_cmpuint(vrt_proc_pid_starttime(root, getpid()), ==, 777);
    put(root, getpid(), "stat", dead, -1);
    g_assert_false(vrt_proc_pid_alive(root, getpid()));
    /* the command name may hold ") Z": the state follows the last ')' */
    put(root, getpid(), "stat", tricky, -1);
    g_assert_true(vrt_proc_pid_alive(root, getpid()));
    g_assert_cmpuint(vrt_proc_pid_starttime(root, getpid()), ==, 4242);
    put(root, getpid(), "stat", "garbage", -1);
    g_assert_cmpuint(vrt_proc_pid_starttime(root, getpid()), ==, 0);
    vrt_test_remove_tree(root);
}

static void
test_cmdline(void)
{
    g_autofree char *root = vrt_test_make_root("vrt-proc-XXXXXX");
    g_autofree char *stat = stat_line(getpid(), "qemu", 'S', 1);
    static const char args[] =
        "qemu-system-x86_64\0-uuid\0c7a5fdbd-edaf-9455-926a-d65c16db1809\0-pidfile\0/run/a b.pid";
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) err = NULL;
    pid_t gone = child_that_exits();
    int status;

    g_assert_cmpint(waitpid(gone, &status, 0), ==, gone);
    put(root, getpid(), "stat", stat, -1);
    /* the last argument without its NUL, as a process that rewrote its
     * arguments may leave it */
    put(root, getpid(), "cmdline", args, sizeof(args) - 1);
    argv = vrt_proc_pid_cmdline(root, getpid(), &err);
    g_assert_no_error(err);
    g_assert_cmpuint(g_strv_length(argv), ==, 5);
    g_assert_cmpstr(argv[0], ==, "qemu-system-x86_64");
    g_assert_cmpstr(argv[4], ==, "/run/a b.pid");
    g_assert_true(vrt_proc_pid_has_arg(root, getpid(), "c7a5fdbd-edaf-9455-926a-d65c16db1809"));
    g_assert_true(vrt_proc_pid_has_arg(root, getpid(), "/run/a b.pid"));
    g_assert_false(vrt_proc_pid_has_arg(root, getpid(), "c7a5fdbd"));
    g_assert_false(vrt_proc_pid_has_arg(root, getpid(), "-uuid c7a5fdbd-edaf-9455-926a-d65c16db1809"));
    /* a process that is gone has no arguments, whatever a stale file says */
    put(root, gone, "cmdline", args, sizeof(args));
    g_assert_false(vrt_proc_pid_has_arg(root, gone, "-uuid"));
    g_clear_pointer(&argv, g_strfreev);
    /* our own, from the real /proc */
    argv = vrt_proc_pid_cmdline(NULL, getpid(), &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(argv[0], "test-proc"));
    g_clear_pointer(&argv, g_strfreev);
    argv = vrt_proc_pid_cmdline(root, getpid() + 1, &err);
    g_assert_null(argv);
    g_assert_cmpint(vrt_error_code(err), ==, VIR_ERR_SYSTEM_ERROR);
    vrt_test_remove_tree(root);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/proc/real", test_real_processes);
    g_test_add_func("/proc/unreadable", test_unreadable_proc);
    g_test_add_func("/proc/stat-state", test_stat_state);
    g_test_add_func("/proc/cmdline", test_cmdline);
    return g_test_run();
}
