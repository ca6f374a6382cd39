/*
 * An emulated TPM as libvirt 9.0 runs one: per domain a state directory
 * <root>/var/lib/vrt/swtpm/UUID/tpm2 made once by swtpm_setup (with an EK,
 * its certificate and the platform certificate, the NVRAM locked), then an
 * swtpm in socket mode on a control socket in the domain's run directory,
 * started before QEMU and ending with it (--terminate when QEMU lets go of
 * the socket, and vrt_qemu_helpers_kill when the run directory goes). The
 * pid files of the helpers (this one's and virtiofsd's) live here too.
 */
#include "drivers/qemu/qemu_tpm.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/proc.h"
#include "util/uuid.h"

#define HELPER_PID_SUFFIX ".helper-pid"
#define HELPER_WAIT_MS 5000

static char *
tpm_state_dir(const char *lib_root, const VrtDomainDef *def)
{
    char uuid[VRT_UUID_STRING_LEN];

    vrt_uuid_format(def->uuid, uuid);
    return g_build_filename(lib_root, "swtpm", uuid, NULL);
}

bool
vrt_qemu_helper_spawn(const char *run_dir, const char *name, char **argv, const char *logfile, GError **error)
{
    g_autofree char *pidfile = g_strdup_printf("%s/%s" HELPER_PID_SUFFIX, run_dir, name);
    g_autoptr(GPtrArray) sh = g_ptr_array_new();
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;
    int status = 0;

    /* The shell leaves the helper running in the background, its parent
     * init: it must outlive a vrtd that is killed, as QEMU does. */
    g_ptr_array_add(sh, "/bin/sh");
    g_ptr_array_add(sh, "-c");
    g_ptr_array_add(sh, "pf=$1; log=$2; shift 2; \"$@\" </dev/null >>\"$log\" 2>&1 & echo $! >\"$pf\"");
    g_ptr_array_add(sh, "vrt-helper");
    g_ptr_array_add(sh, pidfile);
    g_ptr_array_add(sh, (char *)logfile);
    for (guint i = 0; argv[i]; i++)
        g_ptr_array_add(sh, argv[i]);
    g_ptr_array_add(sh, NULL);
    if (!g_spawn_sync(NULL, (char **)sh->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, &err) ||
        !g_spawn_check_wait_status(status, &err)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot start %s: %s", argv[0], err->message);
        return false;
    }
    return true;
}

/* The pid a helper's pid file names, 0 when none or not that helper's
 * (a recycled pid: its command line does not name the run directory). */
static pid_t
helper_pid(const char *path, const char *run_dir)
{
    g_autofree char *text = NULL;
    gint64 n;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    g_strstrip(text);
    if (!g_ascii_string_to_signed(text, 10, 2, G_MAXINT32, &n, NULL))
        return 0;
    {
        g_autofree char *cmdpath = g_strdup_printf("/proc/%d/cmdline", (int)n);
        g_autofree char *cmd = NULL;
        g_autofree char *dir_slash = g_strconcat(run_dir, "/", NULL);
        gsize len = 0;

        if (!g_file_get_contents(cmdpath, &cmd, &len, NULL))
            return 0;
        for (gsize i = 0; i + 1 < len; i++)
            if (!cmd[i])
                cmd[i] = ' ';
        /* "domain-1-x/" is not a prefix of "domain-1-xy/"'s paths */
        if (!strstr(cmd, dir_slash))
            return 0;
    }
    return (pid_t)n;
}

static bool
wait_gone(pid_t pid, guint ms)
{
    for (guint waited = 0; waited < ms; waited += 10) {
        if (!vrt_proc_pid_alive(NULL, pid))
            return true;
        g_usleep(10 * 1000);
    }
    return !vrt_proc_pid_alive(NULL, pid);
}

void
vrt_qemu_helpers_kill(const char *run_dir)
{
    g_autoptr(GDir) d = g_dir_open(run_dir, 0, NULL);
    const char *entry;

    while (d && (entry = g_dir_read_name(d))) {
        g_autofree char *path = NULL;
        pid_t pid;

        if (!g_str_has_suffix(entry, HELPER_PID_SUFFIX))
            continue;
        path = g_build_filename(run_dir, entry, NULL);
        if ((pid = helper_pid(path, run_dir)) > 0) {
            kill(pid, SIGTERM);
            kill(pid, SIGCONT); /* a stopped one takes its SIGTERM */
            if (!wait_gone(pid, HELPER_WAIT_MS)) {
                kill(pid, SIGKILL);
                wait_gone(pid, HELPER_WAIT_MS);
            }
        }
        unlink(path);
    }
}

/* Waits for a helper's socket to appear; false (with the log's words)
 * when it does not. */
static bool
wait_socket(const char *path, const char *what, const char *logfile, GError **error)
{
    for (guint waited = 0; waited < HELPER_WAIT_MS; waited += 10) {
        if (g_file_test(path, G_FILE_TEST_EXISTS))
            return true;
        g_usleep(10 * 1000);
    }
    {
        g_autofree char *log = NULL;

        g_file_get_contents(logfile, &log, NULL, NULL);
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s did not start: %s", what,
                      log && *log ? g_strstrip(log) : "no socket");
    }
    return false;
}

static bool
tpm_setup(const char *state, const VrtDomainDef *def, const char *logfile, GError **error)
{
    char uuid[VRT_UUID_STRING_LEN];
    g_autofree char *vmid = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;
    int status = 0;

    vrt_uuid_format(def->uuid, uuid);
    vmid = g_strdup_printf("%s:%s", def->name, uuid);
    {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        const char *rest[] = { "--tpm-state",
                               state,
                               "--vmid",
                               vmid,
                               "--logfile",
                               logfile,
                               "--createek",
                               "--create-ek-cert",
                               "--create-platform-cert",
                               "--lock-nvram",
                               "--not-overwrite",
                               NULL };

        g_ptr_array_add(argv, "swtpm_setup");
        if (g_strcmp0(((VrtDomainTpmDef *)def->tpms->pdata[0])->version, "1.2") != 0)
            g_ptr_array_add(argv, "--tpm2");
        for (guint i = 0; rest[i]; i++)
            g_ptr_array_add(argv, (char *)rest[i]);
        g_ptr_array_add(argv, NULL);
        if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &out, &status,
                          &err) ||
            !g_spawn_check_wait_status(status, &err)) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED,
                          "Could not run '%s'. exitstatus: %d; Check error log '%s' for details.", "swtpm_setup",
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1, logfile);
            return false;
        }
    }
    return true;
}

bool
vrt_qemu_tpm_start(const char *lib_root, const VrtDomainDef *def, const char *run_dir, const char *log_dir,
                   GPtrArray *args, GError **error)
{
    const VrtDomainTpmDef *tpm;
    g_autofree char *top = NULL, *state = NULL, *sock = NULL, *logfile = NULL, *ctrl = NULL, *tpmstate = NULL;
    g_autofree char *logarg = NULL;

    if (!def->tpms || !def->tpms->len)
        return true;
    tpm = def->tpms->pdata[0];
    if (g_str_equal(tpm->backend, "passthrough")) {
        if (!g_file_test(tpm->device_path, G_FILE_TEST_EXISTS)) {
            vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Cannot access %s: %s", tpm->device_path, g_strerror(ENOENT));
            return false;
        }
        g_ptr_array_add(args, g_strdup("-tpmdev"));
        g_ptr_array_add(args, g_strdup_printf("passthrough,id=tpm-tpm0,path=%s", tpm->device_path));
    } else {
        top = tpm_state_dir(lib_root, def);
        state = g_build_filename(top, g_str_equal(tpm->version, "2.0") ? "tpm2" : "tpm1.2", NULL);
        sock = g_build_filename(run_dir, "swtpm-sock", NULL);
        logfile = g_strdup_printf("%s/%s-swtpm.log", log_dir, def->name);
        if (g_mkdir_with_parents(state, 0700) < 0) {
            vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Could not create directory %s as %u:%u: %s", state,
                          (guint)getuid(), (guint)getgid(), g_strerror(errno));
            return false;
        }
        /* made once: a later start keeps the TPM's keys and NVRAM */
        {
            g_autoptr(GDir) d = g_dir_open(state, 0, NULL);

            if (!d || !g_dir_read_name(d)) {
                if (!tpm_setup(state, def, logfile, error))
                    return false;
            }
        }
        ctrl = g_strdup_printf("type=unixio,path=%s,mode=0600", sock);
        tpmstate = g_strdup_printf("dir=%s,mode=0600", state);
        logarg = g_strdup_printf("file=%s", logfile);
        {
            char *argv[] = { "swtpm", "socket", "--ctrl",      ctrl,     "--tpmstate", tpmstate,
                             "--log", logarg,   "--terminate", "--tpm2", NULL };

            if (!g_str_equal(tpm->version, "2.0"))
                argv[9] = NULL;
            if (!vrt_qemu_helper_spawn(run_dir, "swtpm", argv, logfile, error))
                return false;
        }
        if (!wait_socket(sock, "swtpm", logfile, error))
            return false;
        g_ptr_array_add(args, g_strdup("-chardev"));
        g_ptr_array_add(args, g_strdup_printf("socket,id=chrtpm,path=%s", sock));
        g_ptr_array_add(args, g_strdup("-tpmdev"));
        g_ptr_array_add(args, g_strdup("emulator,id=tpm-tpm0,chardev=chrtpm"));
    }
    g_ptr_array_add(args, g_strdup("-device"));
    g_ptr_array_add(args, g_strdup_printf("%s,tpmdev=tpm-tpm0,id=tpm0", tpm->model));
    return true;
}

bool
vrt_qemu_tpm_has_state(const VrtDomainDef *def)
{
    return def->tpms && def->tpms->len;
}

bool
vrt_qemu_tpm_undefine(const char *lib_root, const VrtDomainDef *def, bool keep, GError **error)
{
    g_autofree char *top = NULL;

    if (keep || !vrt_qemu_tpm_has_state(def))
        return true;
    top = tpm_state_dir(lib_root, def);
    if (!g_file_test(top, G_FILE_TEST_IS_DIR))
        return true;
    {
        const char *argv[] = { "rm", "-rf", "--", top, NULL };
        g_autoptr(GError) err = NULL;
        int status = 0;

        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &err) ||
            !g_spawn_check_wait_status(status, &err)) {
            vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Cannot delete directory '%s': %s", top, err->message);
            return false;
        }
    }
    return true;
}
