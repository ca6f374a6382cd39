/*
 * Process facts from /proc (see proc.h for the answers and why).
 */
#include "util/proc.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "util/error.h"

static char *
pid_path(const char *proc_root, pid_t pid, const char *file)
{
    return g_strdup_printf("%s/%d/%s", proc_root ? proc_root : "/proc", (int)pid, file);
}

/* True when kill() says the pid exists (EPERM: it exists, not ours). */
static bool
pid_exists(pid_t pid)
{
    return !(kill(pid, 0) < 0 && errno == ESRCH);
}

bool
vrt_proc_pid_alive(const char *proc_root, pid_t pid)
{
    g_autofree char *path = NULL;
    g_autofree char *stat = NULL;
    const char *p;

    if (pid <= 0 || !pid_exists(pid))
        return false;
    path = pid_path(proc_root, pid, "stat");
    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return pid_exists(pid);
    /* The command name may hold spaces and ')': the state follows the last ')'. */
    p = strrchr(stat, ')');
    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

guint64
vrt_proc_pid_starttime(const char *proc_root, pid_t pid)
{
    g_autofree char *path = NULL;
    g_autofree char *stat = NULL;
    g_auto(GStrv) fields = NULL;
    const char *p;

    if (pid <= 0)
        return 0;
    path = pid_path(proc_root, pid, "stat");
    if (!g_file_get_contents(path, &stat, NULL, NULL) || !(p = strrchr(stat, ')')) || p[1] != ' ')
        return 0;
    /* After "comm) ": state is field 3, starttime field 22. */
    fields = g_strsplit(p + 2, " ", 21);
    if (g_strv_length(fields) < 21)
        return 0;
    return g_ascii_strtoull(fields[19], NULL, 10);
}

GStrv
vrt_proc_pid_cmdline(const char *proc_root, pid_t pid, GError **error)
{
    g_autofree char *path = pid_path(proc_root, pid, "cmdline");
    g_autofree char *data = NULL;
    g_autoptr(GError) err = NULL;
    GPtrArray *argv;
    gsize len = 0;

    if (pid <= 0 || !g_file_get_contents(path, &data, &len, &err)) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "cannot read the command line of process %d: %s", (int)pid,
                      err ? err->message : "no such process");
        return NULL;
    }
    argv = g_ptr_array_new();
    /* Each argument ends with a NUL; g_file_get_contents adds one after
     * the last, so a final argument without its NUL is kept too. */
    for (gsize i = 0; i < len; i += strlen(data + i) + 1)
        g_ptr_array_add(argv, g_strdup(data + i));
    g_ptr_array_add(argv, NULL);
    return (GStrv)g_ptr_array_free(argv, FALSE);
}

bool
vrt_proc_pid_has_arg(const char *proc_root, pid_t pid, const char *arg)
{
    g_auto(GStrv) argv = NULL;

    if (!vrt_proc_pid_alive(proc_root, pid) || !(argv = vrt_proc_pid_cmdline(proc_root, pid, NULL)))
        return false;
    return g_strv_contains((const char *const *)argv, arg);
}
