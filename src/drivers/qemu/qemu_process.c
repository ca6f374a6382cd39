/*
 * QEMU processes of domains: start (command line, clean environment, log
 * file, QMP, cont), stop (SIGTERM then SIGKILL, cleanup), reconnect after a
 * daemon restart, and the handling of QEMU's events, which runs on a pool
 * thread per domain in arrival order so that a handler may take the
 * domain's job and talk QMP.
 *
 * A running domain's QMP socket lives in its own run directory,
 * STATE_DIR/domain-ID-SHORTNAME/monitor.sock, as libvirt's do: SHORTNAME is
 * the name's first 20 characters and ID (unique among running domains)
 * keeps two names with the same beginning apart, so the path stays within
 * sun_path's 108 bytes whatever the name's length. Domains started by an
 * older vrtd (STATE_DIR/NAME.monitor) keep their path: it is in their
 * status file.
 */
#include "drivers/qemu/qemu_disk_iotune.h"
#include "drivers/qemu/qemu_disk_startup.h"
#include "drivers/qemu/qemu_cgroup.h"
#include "drivers/qemu/qemu_save.h"
#include "drivers/qemu/qemu_command.h"
#include "drivers/qemu/qemu_block_net.h"
#include "drivers/qemu/qemu_hostdev_nodes.h"
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_firmware.h"
#include "drivers/qemu/qemu_hostdev_domain.h"
#include "drivers/qemu/qemu_interface.h"
#include "drivers/qemu/qemu_tpm.h"
#include "host/host.h"
#include "util/error.h"
#include "util/fileutil.h"
#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PROCESS_MONITOR_TIMEOUT_MS 10000 /* exec until QMP answers */
#define PROCESS_RECONNECT_TIMEOUT_MS 3000
/* SIGTERM, then SIGKILL. A healthy QEMU exits on SIGTERM within tens of ms
 * (flushing its disks); QEMU 7.2 started with -no-shutdown now and then
 * reports the signal and a SHUTDOWN event and then stays: it gets SIGKILL. */
#define PROCESS_TERM_WAIT_MS 500
#define PROCESS_KILL_WAIT_MS 5000
#define PROCESS_POLL_US 1000
#define PROCESS_LOG_TAIL 1024 /* bytes of QEMU's log in errors */
/* QEMU's descriptor of its QMP socket, which the daemon binds and listens
 * on before QEMU runs: a connection made at once waits in the backlog until
 * QEMU's main loop greets it, with no polling for the socket to appear. */
#define PROCESS_MONITOR_FD 3
/* QEMU's taps: PROCESS_TAP_FD, +1, ... (after the monitor and the
 * handshake, which is closed before exec) */
#define PROCESS_TAP_FD (PROCESS_MONITOR_FD + 2)
#define PROCESS_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define PROCESS_SHORT_NAME_MAX 20 /* characters of the name in the run directory's */
#define PROCESS_RUN_DIR_PREFIX "domain-"
#define PROCESS_MONITOR_FILE "monitor.sock"

typedef struct {
    char *name; /* QMP event name, or NULL for EOF */
    JsonObject *data;
    VrtQemuMonitor *mon; /* which connection it came from */
} QemuEvent;

void
vrt_qemu_event_free(gpointer p)
{
    QemuEvent *ev = p;

    g_free(ev->name);
    if (ev->data)
        json_object_unref(ev->data);
    if (ev->mon)
        vrt_qemu_monitor_unref(ev->mon);
    g_free(ev);
}

/* True when pid is the process recorded with starttime (0: not recorded,
 * then any). A pid the kernel gave to another process since has another
 * start time. */
static bool
pid_is_recorded(pid_t pid, guint64 starttime)
{
    return vrt_proc_pid_alive(NULL, pid) && (!starttime || vrt_proc_pid_starttime(NULL, pid) == starttime);
}

/* True when pid is the QEMU of the domain with this uuid. */
static bool
pid_is_domain_qemu(pid_t pid, const guint8 uuid[16])
{
    char uuidstr[VRT_UUID_STRING_LEN];

    vrt_uuid_format(uuid, uuidstr);
    return vrt_proc_pid_has_arg(NULL, pid, uuidstr);
}

static bool
wait_pid_gone(pid_t pid, guint ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;

    while (vrt_proc_pid_alive(NULL, pid)) {
        if (g_get_monotonic_time() >= deadline)
            return false;
        g_usleep(PROCESS_POLL_US);
    }
    return true;
}

static char *
log_path(VrtQemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.log", name);

    return g_build_filename(drv->log_dir, file, NULL);
}

/* The end of QEMU's log since offset, for error messages. */
static char *
log_tail(const char *path, off_t offset)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    const char *start;

    if (!g_file_get_contents(path, &text, &len, NULL) || (gsize)offset >= len)
        return g_strdup("");
    start = text + offset;
    if (strlen(start) > PROCESS_LOG_TAIL)
        start += strlen(start) - PROCESS_LOG_TAIL;
    return g_strchomp(g_strdup(start));
}

/* The run directory of a domain started with id: "domain-ID-" and the
 * name's first PROCESS_SHORT_NAME_MAX characters (whole UTF-8 characters,
 * which define checked: the cut never splits one), each '.' made '_'. It
 * shares the state directory with the domains' NAME.xml, NAME.pid and
 * NAME.hostdev-start files: without a '.' it is never one of them (the run
 * directory of "x.xml" started as 1 would be the status file of domain
 * "domain-1-x"), and the id, unique among running domains, tells the run
 * directories apart. */
static char *
run_dir_path(VrtQemuDriver *drv, int id, const char *name)
{
    glong chars = g_utf8_strlen(name, -1);
    const char *end = g_utf8_offset_to_pointer(name, MIN(chars, PROCESS_SHORT_NAME_MAX));
    g_autofree char *dir = g_strdup_printf(PROCESS_RUN_DIR_PREFIX "%d-%.*s", id, (int)(end - name), name);

    g_strdelimit(dir, ".", '_');

    return g_build_filename(drv->state_dir, dir, NULL);
}

void
vrt_qemu_process_remove_monitor(VrtQemuDriver *drv, const char *monitor_path)
{
    g_autofree char *dir = NULL;
    g_autofree char *parent = NULL;
    g_autofree char *base = NULL;

    if (!monitor_path || !*monitor_path)
        return;
    unlink(monitor_path);
    base = g_path_get_basename(monitor_path);
    dir = g_path_get_dirname(monitor_path);
    parent = g_path_get_dirname(dir);
    /* Only a run directory of ours; an old layout's socket sits in
     * STATE_DIR itself. */
    if (g_str_equal(base, PROCESS_MONITOR_FILE) && g_str_equal(parent, drv->state_dir)) {
        g_autofree char *dirname = g_path_get_basename(dir);
        g_autoptr(GDir) d = NULL;
        const char *entry;

        if (!g_str_has_prefix(dirname, PROCESS_RUN_DIR_PREFIX))
            return;
        /* swtpm, virtiofsd: none outlives the QEMU it served */
        vrt_qemu_helpers_kill(dir);
        {
            /* where the mount namespace's /dev was staged (qemu_security.c) */
            g_autofree char *dev = g_build_filename(dir, "dev", NULL);

            rmdir(dev);
        }
        {
            /* the memory files of <source type='file'/> (QEMU leaves them) */
            g_autofree char *ram = g_build_filename(dir, "ram", NULL);
            g_autoptr(GDir) rd = g_dir_open(ram, 0, NULL);

            while (rd && (entry = g_dir_read_name(rd))) {
                g_autofree char *path = g_build_filename(ram, entry, NULL);

                unlink(path);
            }
            rmdir(ram);
        }
        /* The channels' sockets vrt put there (a killed QEMU leaves them). */
        d = g_dir_open(dir, 0, NULL);
        while (d && (entry = g_dir_read_name(d))) {
            g_autofree char *path = g_build_filename(dir, entry, NULL);
            struct stat st;

            if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
                unlink(path);
        }
        if (rmdir(dir) < 0 && errno != ENOENT)
            g_debug("cannot remove %s: %s", dir, g_strerror(errno));
    }
}

void
vrt_qemu_process_sweep_run_dirs(VrtQemuDriver *drv)
{
    g_autoptr(GDir) dir = g_dir_open(drv->state_dir, 0, NULL);
    g_autoptr(GHashTable) used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer value;
    const char *entry;

    if (!dir)
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

        g_hash_table_iter_init(&it, drv->by_uuid);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            VrtQemuDom *obj = value;

            {
                g_autoptr(GMutexLocker) obj_locker = g_mutex_locker_new(&obj->lock);

                if (obj->monitor_path)
                    g_hash_table_add(used, g_path_get_dirname(obj->monitor_path));
            }
        }
    }
    while ((entry = g_dir_read_name(dir))) {
        g_autofree char *path = NULL;
        g_autofree char *monitor = NULL;

        if (!g_str_has_prefix(entry, PROCESS_RUN_DIR_PREFIX))
            continue;
        path = g_build_filename(drv->state_dir, entry, NULL);
        if (g_hash_table_contains(used, path) || !g_file_test(path, G_FILE_TEST_IS_DIR))
            continue;
        g_info("removing %s: no domain runs from it", path);
        monitor = g_build_filename(path, PROCESS_MONITOR_FILE, NULL);
        vrt_qemu_process_remove_monitor(drv, monitor);
    }
}

static void
cleanup_runtime_files(VrtQemuDriver *drv, const char *name, const char *monitor_path)
{
    g_autofree char *status = vrt_qemu_status_path(drv, name);
    g_autofree char *pidfile = g_strdup_printf("%s/%s.pid", drv->state_dir, name);

    vrt_qemu_process_remove_monitor(drv, monitor_path);
    unlink(pidfile);
    vrt_file_remove(status, NULL);
    vrt_qemu_cgroup_remove(drv, name);
}

/* The QEMU process between fork and exec. Only async-signal-safe calls:
 * the daemon has other threads. It waits on go (the read end of the
 * start's handshake pipe) for one byte, which the daemon writes once the
 * start is recorded with this pid; end of file instead means the daemon
 * died before recording it, and then QEMU never runs. */
static G_GNUC_NORETURN void
exec_child(char *const *argv, char *const *envp, int in, int out, int monitor, int go, const int *taps, guint ntaps,
           const VrtQemuConfine *confine)
{
    static const char msg[] = "cannot execute QEMU\n";
    const char *why;
    sigset_t none;
    char byte;
    ssize_t n;

    /* Own session: a signal to the daemon's group must not reach QEMU. */
    setsid();
    /* The spawning thread's signal mask and ignored signals survive exec:
     * QEMU starts with the defaults whichever vrtd thread starts it, so
     * destroy's SIGTERM always reaches it. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    }
    /* Above the standard descriptors first, whatever numbers they had. */
    go = fcntl(go, F_DUPFD, 10);
    monitor = fcntl(monitor, F_DUPFD, 10);
    if (go < 0 || monitor < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
        dup2(out, STDERR_FILENO) < 0 || dup2(monitor, PROCESS_MONITOR_FD) < 0 || dup2(go, PROCESS_MONITOR_FD + 1) < 0)
        _exit(127);
    /* The taps at PROCESS_TAP_FD on, as the command line names them: first
     * copied above every one of them, since a tap may sit on another's
     * target number. */
    int high = PROCESS_TAP_FD + (int)ntaps;

    for (guint i = 0; i < ntaps; i++)
        high = MAX(high, taps[i] + 1);
    for (guint i = 0; i < ntaps; i++) {
        if (dup2(taps[i], high + (int)i) < 0)
            _exit(127);
    }
    for (guint i = 0; i < ntaps; i++) {
        if (dup2(high + (int)i, PROCESS_TAP_FD + (int)i) < 0)
            _exit(127);
    }
    /* Nothing else of the daemon's: no other start's pipe either, whose
     * end of file must not wait for this process. */
    if (close_range(PROCESS_TAP_FD + ntaps, ~0U, 0) < 0) {
        struct rlimit lim;
        int max = getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 65536 ? (int)lim.rlim_cur : 65536;

        for (int fd = PROCESS_TAP_FD + (int)ntaps; fd < max; fd++)
            close(fd);
    }
    do
        n = read(PROCESS_MONITOR_FD + 1, &byte, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        _exit(0);
    close(PROCESS_MONITOR_FD + 1);
    /* Confined last, after the daemon put it in its cgroup (as root). */
    if (confine && (why = vrt_qemu_confine_child(confine))) {
        if (write(STDERR_FILENO, why, strlen(why)) < 0 || write(STDERR_FILENO, "\n", 1) < 0)
            _exit(127);
        _exit(127);
    }
    execve(argv[0], argv, envp);
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
        _exit(127);
    _exit(127);
}

/* Nothing to do but reap: GLib's child watch waits for the process, so a
 * QEMU that ends is no zombie of the daemon's for longer than a moment. */
static gboolean
reap_qemu(GPid pid, gint wait_status, gpointer data)
{
    g_spawn_close_pid(pid);
    return G_SOURCE_REMOVE;
}

/* Forks QEMU's process held before exec: *go is the write end of its
 * handshake (write a byte to let it exec, close to make it exit). One fork,
 * no intermediate process: the daemon goes on at once instead of waiting
 * for two other processes to be scheduled. QEMU is the daemon's child,
 * reaped by a child watch on the event thread, and outlives the daemon
 * (its own session). */
static bool
spawn_qemu(VrtQemuDom *obj, const VrtDomainDef *def, GStrv argv, const char *logfile, int monitor, const GArray *taps,
           const VrtQemuConfine *confine, pid_t *pid, int *go, off_t *log_start, GError **error)
{
    g_autofree char *home = g_strdup_printf("HOME=%s", obj->drv->lib_dir);
    g_autofree char *xdg_data = g_strdup_printf("XDG_DATA_HOME=%s", obj->drv->lib_dir);
    g_autofree char *xdg_cache = g_strdup_printf("XDG_CACHE_HOME=%s", obj->drv->lib_dir);
    g_autofree char *xdg_config = g_strdup_printf("XDG_CONFIG_HOME=%s", obj->drv->lib_dir);
    char *base_env[] = { "LC_ALL=C", "PATH=" PROCESS_PATH, home, xdg_data, xdg_cache, xdg_config };
    g_autoptr(GPtrArray) env_own = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) env = g_ptr_array_new();
    char **envp;
    g_autofree char *cmdline = g_strjoinv(" ", argv);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format_iso8601(now);
    g_autofree char *header = g_strdup_printf("%s: starting up\n%s\n", stamp, cmdline);
    int handshake[2] = { -1, -1 };
    int logfd, nullfd, saved_errno;
    GSource *watch;
    pid_t child;
    struct stat sb;

    /* QEMU's environment: vrt's, with <qemu:env> pairs added (one of the
     * same name replacing vrt's) */
    for (guint i = 0; i < G_N_ELEMENTS(base_env); i++) {
        bool replaced = false;

        for (guint j = 0; def->qemu_env && j + 1 < def->qemu_env->len && !replaced; j += 2) {
            const char *name = def->qemu_env->pdata[j];
            size_t n = strlen(name);

            replaced = strncmp(base_env[i], name, n) == 0 && base_env[i][n] == '=';
        }
        if (!replaced)
            g_ptr_array_add(env, base_env[i]);
    }
    for (guint j = 0; def->qemu_env && j + 1 < def->qemu_env->len; j += 2) {
        char *pair = g_strdup_printf("%s=%s", (char *)def->qemu_env->pdata[j], (char *)def->qemu_env->pdata[j + 1]);

        g_ptr_array_add(env_own, pair);
        g_ptr_array_add(env, pair);
    }
    /* <clock offset='timezone'>: QEMU's local time is the zone's */
    if (def->clock.offset == VRT_DOMAIN_CLOCK_TIMEZONE && def->clock.timezone) {
        char *pair = g_strdup_printf("TZ=%s", def->clock.timezone);

        g_ptr_array_add(env_own, pair);
        g_ptr_array_add(env, pair);
    }
    g_ptr_array_add(env, NULL);
    envp = (char **)env->pdata;

    logfd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd < 0) {
        vrt_error_set_errno(error, VIR_ERR_OPERATION_FAILED, errno, "cannot open log file '%s'", logfile);
        return false;
    }
    if (write(logfd, header, strlen(header)) < 0)
        g_debug("cannot write to %s: %s", logfile, g_strerror(errno));
    *log_start = fstat(logfd, &sb) == 0 ? sb.st_size : 0;
    nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (nullfd < 0 || pipe2(handshake, O_CLOEXEC) < 0) {
        saved_errno = errno;
        goto fail;
    }
    child = fork();
    if (child == 0)
        exec_child(argv, envp, nullfd, logfd, monitor, handshake[0], (const int *)taps->data, taps->len, confine);
    saved_errno = errno;
    if (child < 0)
        goto fail;
    watch = g_child_watch_source_new(child);
    g_source_set_callback(watch, (GSourceFunc)(void (*)(void))reap_qemu, NULL, NULL);
    g_source_set_static_name(watch, "vrt-qemu-reap");
    g_source_attach(watch, vrt_qemu_event_thread_context(obj->drv->evthread));
    g_source_unref(watch);
    close(logfd);
    close(nullfd);
    close(handshake[0]);
    *pid = child;
    *go = handshake[1];
    return true;

fail:
    for (guint i = 0; i < 2; i++) {
        if (handshake[i] >= 0)
            close(handshake[i]);
    }
    close(logfd);
    if (nullfd >= 0)
        close(nullfd);
    vrt_error_set_errno(error, VIR_ERR_INTERNAL_ERROR, saved_errno, "cannot start QEMU '%s'", argv[0]);
    return false;
}

/* The QMP socket QEMU will inherit: bound at path and listening. */
static int
monitor_listen(const char *path, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "monitor socket path '%s' is too long", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
        vrt_error_set_errno(error, VIR_ERR_OPERATION_FAILED, errno, "cannot listen on monitor socket '%s'", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Lets the held QEMU process exec (or, with run false, exit unexec'd). */
static bool
release_qemu(int go, bool run, GError **error)
{
    ssize_t n = 0;

    if (run) {
        do
            n = write(go, "g", 1);
        while (n < 0 && errno == EINTR);
    }
    if (run && n != 1) {
        vrt_error_set_errno(error, VIR_ERR_INTERNAL_ERROR, errno, "cannot let QEMU run");
        close(go);
        return false;
    }
    close(go);
    return true;
}

void
vrt_qemu_fault(VrtQemuDriver *drv, const char *job, const char *step)
{
    vrt_qemu_hostdev_fault_die_at(job, step, drv->hostdev_die_at, NULL);
    if (drv->fault_stop_at) {
        g_autofree char *here = g_strdup_printf("%s:%s", job, step);

        if (g_str_equal(here, drv->fault_stop_at)) {
            g_message("VRT_FAULT_STOP_AT=%s: stopping the process before step %s", here, step);
            raise(SIGSTOP);
        }
    }
}

/* A <disk type='volume'> gets the file of its volume (the storage
 * driver's answer, libvirt's errors) and, without a <driver type>, the
 * volume's format. */
bool
vrt_qemu_process_resolve_volume(VrtQemuDriver *drv, VrtDomainDiskDef *disk, GError **error)
{
    g_autofree char *path = NULL, *format = NULL;

    if (disk->type != VRT_DOMAIN_DISK_TYPE_VOLUME)
        return true;
    if (!drv->cfg.volume_path) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "disk '%s': storage volumes are not available",
                      disk->target_dev);
        return false;
    }
    if (!drv->cfg.volume_path(disk->src_pool, disk->src_volume, &path, &format, drv->cfg.volume_data, error))
        return false;
    g_free(disk->src);
    disk->src = g_steal_pointer(&path);
    if (disk->format == VRT_DOMAIN_DISK_FORMAT_NONE)
        disk->format = g_str_equal(format, "qcow2") ? VRT_DOMAIN_DISK_FORMAT_QCOW2 : VRT_DOMAIN_DISK_FORMAT_RAW;
    return true;
}

static bool
resolve_volumes(VrtQemuDriver *drv, VrtDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->disks->len; i++) {
        if (!vrt_qemu_process_resolve_volume(drv, g_ptr_array_index(def->disks, i), error))
            return false;
    }
    return true;
}

/* Resolves emulator and machine, checks KVM; fills def->os.machine with the
 * canonical name (as libvirt shows it in live XML). */
static bool
prepare_def(VrtQemuDom *obj, VrtDomainDef *def, char **emulator, GError **error)
{
    VrtQemuDriver *drv = obj->drv;
    const VrtQemuCapsInfo *caps = vrt_qemu_caps_get(drv->caps, def->emulator ? def->emulator : drv->emulator, error);
    char *machine;

    if (!caps)
        return false;
    if (def->virt_type == VRT_DOMAIN_VIRT_KVM) {
        g_autoptr(GError) err = NULL;

        if (!vrt_qemu_caps_kvm_usable(drv->dev_kvm, &err)) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "domain type 'kvm' needs KVM, which is not usable here (%s); use type='qemu'", err->message);
            return false;
        }
    }
    machine = vrt_qemu_caps_canonical_machine(caps, def->os.machine, error);
    if (!machine)
        return false;
    if (!resolve_volumes(drv, def, error)) {
        g_free(machine);
        return false;
    }
    g_free(def->os.machine);
    def->os.machine = machine;
    *emulator = g_strdup(caps->emulator);
    return true;
}

/* A domain with <qemu:commandline> is tainted as libvirt taints it, and
 * said so in vrtd's log. */
static void
taint_custom_argv(const VrtDomainDef *def, int id)
{
    char uuid[VRT_UUID_STRING_LEN];

    vrt_uuid_format(def->uuid, uuid);
    g_warning("Domain id=%d name='%s' uuid=%s is tainted: custom-argv", id, def->name, uuid);
}

/* <memoryBacking><hugepages> takes the host's huge page pools, which QEMU
 * (on this host, whatever vrt's root) sees in /proc/meminfo and
 * /sys/kernel/mm/hugepages: refused before QEMU runs when the pool of a
 * page size a NUMA node (or the whole guest) needs is missing or empty.
 * A page of the system's own size needs no pool. */
static bool
host_has_pages(guint64 kib)
{
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;

    if (kib == 0) {
        const char *line;

        return g_file_get_contents("/proc/meminfo", &text, NULL, NULL) && (line = strstr(text, "HugePages_Total:")) &&
               g_ascii_strtoull(line + 16, NULL, 10) > 0;
    }
    path = g_strdup_printf("/sys/kernel/mm/hugepages/hugepages-%" G_GUINT64_FORMAT "kB/nr_hugepages", kib);
    return g_file_get_contents(path, &text, NULL, NULL) && g_ascii_strtoull(text, NULL, 10) > 0;
}

static bool
check_hugepages(const VrtDomainDef *def, GError **error)
{
    guint n = def->mem && def->mem->cells->len ? def->mem->cells->len : 1;

    for (guint i = 0; def->mem && i < n; i++) {
        int cell = def->mem->cells->len ? (int)((VrtDomainNumaCell *)g_ptr_array_index(def->mem->cells, i))->id : -1;
        guint64 kib = 0;

        if (!vrt_domain_mem_page_kib(def->mem, cell, &kib) || kib == (guint64)sysconf(_SC_PAGESIZE) / 1024 ||
            host_has_pages(kib))
            continue;
        if (kib == 0)
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                          "hugepages are not available on this host: its huge page pool is empty (HugePages_Total "
                          "is 0 in /proc/meminfo)");
        else
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "hugepages of %" G_GUINT64_FORMAT " KiB are not available on this host: it has no pool of "
                          "that size or the pool is empty (/sys/kernel/mm/hugepages/hugepages-%" G_GUINT64_FORMAT
                          "kB/nr_hugepages)",
                          kib, kib);
        return false;
    }
    return true;
}

/* A unix channel without a socket path (virt-install's guest agent
 * channel) gets one in the domain's run directory, named after its target
 * as libvirt names it, and QEMU listens there. */
static bool
fill_channel_paths(VrtDomainDef *def, const char *run_dir, GError **error)
{
    for (guint i = 0; def->channels && i < def->channels->len; i++) {
        VrtDomainChrDef *ch = g_ptr_array_index(def->channels, i);

        if (ch->type != VRT_DOMAIN_CHR_TYPE_UNIX || ch->path)
            continue;
        if (!ch->target_name && ch->info.type == VRT_DEVICE_ADDRESS_VIRTIO_SERIAL) {
            /* an unnamed port's socket is named after its address, as libvirt names it */
            g_autofree char *base = g_strdup_printf("vioser-%02u-%02u-%02u.sock", ch->info.vserial.controller,
                                                    ch->info.vserial.bus, ch->info.vserial.port);
            ch->path = g_build_filename(run_dir, base, NULL);
            ch->listen = true;
            continue;
        }
        if (!ch->target_name || !*ch->target_name || strchr(ch->target_name, '/') ||
            g_str_equal(ch->target_name, ".") || g_str_equal(ch->target_name, "..")) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "a unix channel without a source path needs a virtio target name to name its socket");
            return false;
        }
        ch->path = g_build_filename(run_dir, ch->target_name, NULL);
        ch->listen = true;
    }
    return true;
}

/* A listening socket of a unix chardev in bind mode, bound at path (a
 * stale socket there removed first, as QEMU does) and given to QEMU's
 * user, as QEMU would have made it; -1 on failure. */
static int
chardev_listen(const char *path, const VrtQemuConfine *confine, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "UNIX socket path '%s' too long", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
        vrt_error_set_errno(error, VIR_ERR_OPERATION_FAILED, errno, "Failed to bind socket to %s", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!vrt_qemu_confine_give(confine, path, error)) {
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

/* The sockets of unix chardevs in bind mode, once their QEMU is gone:
 * one vrtd bound is vrtd's to remove (QEMU removes those it made). */
static void
remove_chardev_sockets(const VrtDomainDef *def)
{
    GPtrArray *lists[] = { def->serials, def->consoles, def->channels, def->parallels };

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; lists[l] && i < lists[l]->len; i++) {
            const VrtDomainChrDef *chr = g_ptr_array_index(lists[l], i);
            struct stat st;

            if (chr->type == VRT_DOMAIN_CHR_TYPE_UNIX && chr->listen && chr->path && lstat(chr->path, &st) == 0 &&
                S_ISSOCK(st.st_mode))
                unlink(chr->path);
        }
    }
    for (guint i = 0; def->smartcards && i < def->smartcards->len; i++) {
        const VrtDomainRedirdevDef *r = ((const VrtDomainSmartcardDef *)def->smartcards->pdata[i])->passthru;
        struct stat st;

        if (r && r->type == VRT_REDIRDEV_UNIX && r->bind && r->path && lstat(r->path, &st) == 0 && S_ISSOCK(st.st_mode))
            unlink(r->path);
    }
}

/* The files of file chardevs, opened by vrtd (created as root, truncated
 * unless append='on'), and the listening sockets of unix chardevs in bind
 * mode, bound by vrtd, inherited by QEMU after the taps, as libvirt passes
 * them: an unprivileged QEMU need not reach their directories nor be
 * allowed to create files there. */
static bool
open_chardev_files(VrtDomainDef *def, VrtQemuTaps *taps, const VrtQemuConfine *confine, GHashTable *file_fds,
                   GError **error)
{
    GPtrArray *lists[] = { def->serials, def->consoles, def->channels, def->parallels };

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; lists[l] && i < lists[l]->len; i++) {
            VrtDomainChrDef *chr = g_ptr_array_index(lists[l], i);
            int fd;

            if (!chr->path || g_hash_table_contains(file_fds, chr->path))
                continue;
            if (chr->type == VRT_DOMAIN_CHR_TYPE_UNIX && chr->listen)
                fd = chardev_listen(chr->path, confine, error);
            else if (chr->type == VRT_DOMAIN_CHR_TYPE_FILE)
                fd =
                    open(chr->path,
                         O_WRONLY | O_CREAT | O_CLOEXEC | (chr->append == VRT_TRISTATE_YES ? O_APPEND : O_TRUNC), 0600);
            else
                continue;
            if (fd < 0 && chr->type == VRT_DOMAIN_CHR_TYPE_UNIX)
                return false;
            if (fd < 0) {
                vrt_error_set_errno(error, VIR_ERR_OPERATION_FAILED, errno, "cannot open file '%s'", chr->path);
                return false;
            }
            /* after the taps: taps->fds is every descriptor QEMU inherits
             * from PROCESS_TAP_FD on, closed by the taps' guard */
            g_hash_table_insert(file_fds, g_strdup(chr->path), g_strdup_printf("%u", PROCESS_TAP_FD + taps->fds->len));
            g_array_append_val(taps->fds, fd);
        }
    }
    /* a passthrough smartcard's listening socket likewise */
    for (guint i = 0; def->smartcards && i < def->smartcards->len; i++) {
        const VrtDomainRedirdevDef *r = ((const VrtDomainSmartcardDef *)def->smartcards->pdata[i])->passthru;
        int fd;

        if (!r || r->type != VRT_REDIRDEV_UNIX || !r->bind || !r->path || g_hash_table_contains(file_fds, r->path))
            continue;
        fd = chardev_listen(r->path, confine, error);
        if (fd < 0)
            return false;
        g_hash_table_insert(file_fds, g_strdup(r->path), g_strdup_printf("%u", PROCESS_TAP_FD + taps->fds->len));
        g_array_append_val(taps->fds, fd);
    }
    return true;
}

/* Whether the host has `path` (the host seam's, else this machine's) */
static bool
host_has(VrtQemuDriver *drv, const char *path)
{
    return drv->cfg.host ? vrt_host_exists(drv->cfg.host, path) : g_file_test(path, G_FILE_TEST_EXISTS);
}

/* The mediated devices the domain names exist on the host, as libvirt
 * checks them at start (VIR_ERR_DEVICE_MISSING). */
static bool
check_mdevs(VrtQemuDriver *drv, const VrtDomainDef *def, GError **error)
{
    for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
        const VrtDomainSubsysHostdevDef *h = def->subsys_hostdevs->pdata[i];
        g_autofree char *path = NULL;

        if (h->type != VRT_SUBSYS_HOSTDEV_MDEV)
            continue;
        path = g_strdup_printf("/sys/bus/mdev/devices/%s", h->uuid);
        if (!host_has(drv, path)) {
            vrt_error_set(error, VIR_ERR_DEVICE_MISSING, "mediated device '%s' not found", h->uuid);
            return false;
        }
    }
    return true;
}

/* The SCSI generic node of each host adapter LUN a scsi hostdev names
 * (alias -> "/dev/sgN"), from the host's sysfs as libvirt finds it, with
 * libvirt's errors for an adapter name it cannot read and a LUN the host
 * does not have. */
static bool
find_scsi_sg_nodes(VrtQemuDriver *drv, const VrtDomainDef *def, GHashTable *sg_paths, GError **error)
{
    for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
        const VrtDomainSubsysHostdevDef *h = def->subsys_hostdevs->pdata[i];
        char *node;

        if (h->type != VRT_SUBSYS_HOSTDEV_SCSI || h->iscsi_name)
            continue;
        if (!(node = vrt_qemu_scsi_hostdev_sg_node(drv->cfg.host, h, error)))
            return false;
        g_hash_table_insert(sg_paths, g_strdup(h->info.alias), node);
    }
    return true;
}

/* /dev/vhost-scsi opened once per scsi_host hostdev, as libvirt opens it,
 * and inherited by QEMU after the taps (alias -> its number in fds) */
static bool
open_vhost_scsi(VrtQemuDriver *drv, const VrtDomainDef *def, VrtQemuTaps *taps, GHashTable *fds, GError **error)
{
    for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
        const VrtDomainSubsysHostdevDef *h = def->subsys_hostdevs->pdata[i];
        g_autofree char *path = NULL;
        int fd;

        if (h->type != VRT_SUBSYS_HOSTDEV_SCSI_HOST)
            continue;
        if (!host_has(drv, "/dev/vhost-scsi")) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "vhost-scsi device file '%s' cannot be found",
                          "/dev/vhost-scsi");
            return false;
        }
        path = drv->cfg.host ? vrt_host_path(drv->cfg.host, "/dev/vhost-scsi") : g_strdup("/dev/vhost-scsi");
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "Failed to open %s", "/dev/vhost-scsi");
            return false;
        }
        g_hash_table_insert(fds, g_strdup(h->info.alias), g_strdup_printf("%u", PROCESS_TAP_FD + taps->fds->len));
        g_array_append_val(taps->fds, fd);
    }
    return true;
}

/* Live XML shows where each pty-backed serial port or console ended up. */
static bool
has_pty(VrtDomainDef *def)
{
    GPtrArray *lists[] = { def->serials, def->consoles, def->channels, def->parallels };

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++)
        for (guint i = 0; lists[l] && i < lists[l]->len; i++)
            if (((VrtDomainChrDef *)g_ptr_array_index(lists[l], i))->type == VRT_DOMAIN_CHR_TYPE_PTY)
                return true;
    return false;
}

static void
set_pty_paths(VrtDomainDef *def, VrtQemuMonitor *mon)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GHashTable) ptys = NULL;
    GPtrArray *lists[] = { def->serials, def->consoles, def->channels, def->parallels };

    /* Without a pty there is nothing to ask QEMU (one round trip less). */
    if (!has_pty(def))
        return;
    ptys = vrt_qemu_monitor_query_pty_paths(mon, &err);
    if (!ptys) {
        g_debug("domain %s: no pty paths: %s", def->name, err->message);
        return;
    }
    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; lists[l] && i < lists[l]->len; i++) {
            VrtDomainChrDef *chr = g_ptr_array_index(lists[l], i);
            g_autofree char *id = g_strdup_printf("char%s", chr->info.alias ? chr->info.alias : "");
            const char *path = g_hash_table_lookup(ptys, id);

            if (chr->type == VRT_DOMAIN_CHR_TYPE_PTY && path) {
                g_free(chr->path);
                chr->path = g_strdup(path);
            }
        }
    }
    /* A serial-type console is the first serial port: same pty. */
    if (def->consoles && def->consoles->len && def->serials && def->serials->len) {
        VrtDomainChrDef *con = g_ptr_array_index(def->consoles, 0);
        VrtDomainChrDef *ser = g_ptr_array_index(def->serials, 0);

        if (con->type == VRT_DOMAIN_CHR_TYPE_PTY && g_strcmp0(con->target_type, "virtio") != 0 && ser->path) {
            g_free(con->path);
            con->path = g_strdup(ser->path);
        }
    }
}

/* Live XML shows the port QEMU chose for an autoport VNC server. */
static void
set_vnc_port(VrtDomainDef *def, VrtQemuMonitor *mon)
{
    g_autoptr(GError) err = NULL;
    int port = 0;

    for (guint i = 0; def->graphics && i < def->graphics->len; i++) {
        VrtDomainGraphicsDef *g = g_ptr_array_index(def->graphics, i);

        if (g->type != VRT_DOMAIN_GRAPHICS_VNC || g->listen_none || (!g->autoport && g->port >= 0))
            continue;
        if (!vrt_qemu_monitor_query_vnc_port(mon, &port, &err)) {
            g_debug("domain %s: no VNC port: %s", def->name, err->message);
            return;
        }
        if (port > 0)
            g->port = port;
        return;
    }
}

/* SIGKILL, then waits for pid to be gone; a pid still present is logged. */
static void
kill_pid_now(pid_t pid)
{
    kill(pid, SIGKILL);
    if (!wait_pid_gone(pid, PROCESS_KILL_WAIT_MS))
        g_warning("QEMU pid %d still present after SIGKILL", (int)pid);
}

/* SIGTERM, and SIGKILL when pid has not gone PROCESS_TERM_WAIT_MS later. */
static void
term_pid(pid_t pid)
{
    kill(pid, SIGTERM);
    if (wait_pid_gone(pid, PROCESS_TERM_WAIT_MS))
        return;
    g_warning("QEMU pid %d ignored SIGTERM for %d ms, sending SIGKILL", (int)pid, PROCESS_TERM_WAIT_MS);
    kill_pid_now(pid);
}

/* Kills a QEMU that never became the domain's (its start failed before
 * obj took its pid) and removes what its start left. */
static void
discard_qemu(VrtQemuDriver *drv, const char *name, pid_t pid, const char *monitor_path)
{
    if (vrt_proc_pid_alive(NULL, pid))
        kill_pid_now(pid);
    cleanup_runtime_files(drv, name, monitor_path);
}

/* The domain object takes the started QEMU: its live definition (whose
 * ownership passes to obj), the hostdevs prepared for it, its pid, start
 * time and monitor; the flags of any earlier run are reset (object lock held). */
static void
adopt_qemu_locked(VrtQemuDom *obj, VrtDomainDef *def, VrtQemuHostdevStart *hostdevs, pid_t pid, guint64 starttime,
                  const char *monitor_path, VrtQemuMonitor *mon)
{
    if (obj->persistent && !obj->newdef)
        obj->newdef = g_steal_pointer(&obj->def);
    vrt_domain_def_free(obj->def);
    obj->def = def;
    vrt_qemu_hostdev_start_commit(hostdevs); /* now released by process_stop */
    obj->pid = pid;
    obj->starttime = starttime;
    obj->starting = true;
    g_free(obj->monitor_path);
    obj->monitor_path = g_strdup(monitor_path);
    obj->mon = vrt_qemu_monitor_ref(mon);
    obj->stop_requested = false;
    obj->destroying = false;
    obj->guest_shutdown = false;
    obj->fake_reboot = false;
    obj->taint_custom_monitor = false;
    obj->taint_custom_ga = false;
    obj->updated = false;
    g_hash_table_remove_all(obj->unplug_pending);
    g_hash_table_remove_all(obj->unplug_done);
}

/* Lets the CPUs run (unless the start asked for a paused domain) and records
 * that the start is done; a start whose end is not recorded fails, or a
 * restarted daemon would kill a domain a client was told runs. */
static bool
finish_start(VrtQemuDom *obj, VrtQemuMonitor *mon, bool paused, bool incoming, GError **error)
{
    VrtQemuDriver *drv = obj->drv;
    bool restored = obj->restore != NULL; /* set by a restore under this start's job */

    /* A migration's destination stays paused until its state has come in
     * (qemu_migration.c resumes it), as libvirt's "paused, migration". */
    if (incoming)
        paused = true;

    vrt_qemu_fault(drv, "start", "cont");
    if (!paused && !vrt_qemu_monitor_cont(mon, error))
        return false;

    vrt_qemu_fault(drv, "start", "running");
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (incoming)
            vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_PAUSED, VRT_DOMAIN_PAUSED_MIGRATION);
        else if (paused)
            vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_PAUSED, VRT_DOMAIN_PAUSED_USER);
        else
            vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_RUNNING,
                                          restored ? VRT_DOMAIN_RUNNING_RESTORED : VRT_DOMAIN_RUNNING_BOOTED);
        obj->starting = false;
        /* Until this write the file says "starting". */
        if (!vrt_qemu_dom_save_status_locked(obj, error)) {
            obj->starting = true;
            return false;
        }
    }

    if (incoming) {
        vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_STARTED, VRT_DOMAIN_EVENT_STARTED_MIGRATED);
        return true;
    }
    vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_STARTED,
                      restored ? VRT_DOMAIN_EVENT_STARTED_RESTORED : VRT_DOMAIN_EVENT_STARTED_BOOTED);
    if (paused)
        vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_SUSPENDED,
                          restored ? VRT_DOMAIN_EVENT_SUSPENDED_RESTORED : VRT_DOMAIN_EVENT_SUSPENDED_PAUSED);
    return true;
}

/* A passphrase file goes with its table entry: on every return of the
 * start, and once QEMU has read it. */
static void
unlink_free(gpointer path)
{
    unlink(path);
    g_free(path);
}

/* Removes the passphrase files of write_disk_secrets (NULL: none). */
static void
remove_disk_secrets(GHashTable *secrets)
{
    if (secrets)
        g_hash_table_remove_all(secrets);
}

/* Gives a file vrtd wrote to QEMU's user: at start through confine, for a
 * running domain (confine NULL) as its hot-plugged files are given. */
static bool
give_file(VrtQemuDriver *drv, const VrtQemuConfine *confine, const char *path, GError **error)
{
    return confine ? vrt_qemu_confine_give(confine, path, error) : vrt_qemu_security_give_path(&drv->sec, path, error);
}

/* The sockets swtpm and virtiofsd made (as root) in the run directory,
 * given to QEMU's user so that a confined QEMU can connect to them. */
static bool
give_helper_sockets(const VrtDomainDef *def, const char *run_dir, const VrtQemuConfine *confine, GError **error)
{
    if (!vrt_qemu_confine_drops(confine))
        return true;
    if (def->tpms && def->tpms->len) {
        const VrtDomainTpmDef *tpm = def->tpms->pdata[0];
        g_autofree char *sock = g_build_filename(run_dir, "swtpm-sock", NULL);

        if (!g_str_equal(tpm->backend, "passthrough") && !vrt_qemu_confine_give(confine, sock, error))
            return false;
    }
    for (guint i = 0; def->filesystems && i < def->filesystems->len; i++) {
        g_autofree char *sock = g_strdup_printf("%s/fs%u-fs.sock", run_dir, i);

        if (vrt_domain_fs_is_virtiofs(def->filesystems->pdata[i]) && !vrt_qemu_confine_give(confine, sock, error))
            return false;
    }
    return true;
}

/* Writes a network source's <auth> secret value (by uuid or by usage) to
 * "<key>.secret" of the run directory, 0600, as a LUKS passphrase is
 * written, and records it under key (vrt_qemu_block_net_secret_key or
 * vrt_qemu_block_net_hostdev_secret_key, taken). */
static bool
write_auth_secret(VrtQemuDriver *drv, const VrtDiskNetSource *src, char *owned_key, const char *run_dir,
                  const VrtQemuConfine *confine, GHashTable *out, GError **error)
{
    g_autofree char *key = owned_key;
    g_autoptr(GBytes) value = NULL;
    g_autofree char *file = g_strdup_printf("%s.secret", key);
    g_autofree char *path = g_build_filename(run_dir, file, NULL);
    gsize len = 0;
    const char *data;

    if (src->auth_secret_uuid && drv->cfg.secret_lookup) {
        value = drv->cfg.secret_lookup(src->auth_secret_uuid, drv->cfg.secret_data, error);
    } else if (src->auth_secret_usage && drv->cfg.secret_lookup_usage) {
        /* libvirt's usage types: ceph 2, iscsi 3 */
        int type = g_strcmp0(src->auth_secret_type, "ceph") == 0 ? 2 : 3;
        value = drv->cfg.secret_lookup_usage(type, src->auth_secret_usage, drv->cfg.secret_data, error);
    } else {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s", "no secret driver for the disk's <auth>");
        return false;
    }
    data = value ? g_bytes_get_data(value, &len) : NULL;
    if (!value || !vrt_file_write_atomic(path, data ? data : "", len, 0600, error) ||
        !give_file(drv, confine, path, error)) {
        unlink(path);
        return false;
    }
    g_hash_table_insert(out, g_steal_pointer(&key), g_steal_pointer(&path));
    return true;
}

/* Writes one disk's secrets into out: its network <auth> secret (see
 * write_auth_secret) and its LUKS passphrase (the secret's value, from
 * the secret driver) to a file of the run directory that only QEMU's user
 * can read (0600), for QEMU's secret object: target dev -> path. */
static bool
write_one_disk_secrets(VrtQemuDriver *drv, const VrtDomainDiskDef *disk, const char *run_dir,
                       const VrtQemuConfine *confine, GHashTable *out, GError **error)
{
    g_autoptr(GBytes) value = NULL;
    g_autofree char *file = NULL;
    g_autofree char *path = NULL;
    gsize len = 0;
    const char *data;

    if (disk->net && disk->net->auth_username &&
        !write_auth_secret(drv, disk->net, vrt_qemu_block_net_secret_key(disk), run_dir, confine, out, error))
        return false;
    if (!disk->encryption_secret)
        return true;
    if (!drv->cfg.secret_lookup) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s", "no secret driver for the disk's passphrase");
        return false;
    }
    value = drv->cfg.secret_lookup(disk->encryption_secret, drv->cfg.secret_data, error);
    file = g_strdup_printf("%s.secret", disk->target_dev);
    path = g_build_filename(run_dir, file, NULL);
    data = value ? g_bytes_get_data(value, &len) : NULL;
    if (!value || !vrt_file_write_atomic(path, data ? data : "", len, 0600, error) ||
        !give_file(drv, confine, path, error)) {
        unlink(path);
        return false;
    }
    g_hash_table_insert(out, g_strdup(disk->target_dev), g_steal_pointer(&path));
    return true;
}

static GHashTable *
disk_secrets_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, unlink_free);
}

/* An iSCSI hostdev's <auth> secret (write_auth_secret) into out, under
 * vrt_qemu_block_net_hostdev_secret_key; nothing for other hostdevs. */
static bool
write_hostdev_secret(VrtQemuDriver *drv, const VrtDomainSubsysHostdevDef *h, const char *run_dir,
                     const VrtQemuConfine *confine, GHashTable *out, GError **error)
{
    g_autoptr(VrtDiskNetSource) src = NULL;

    if (h->type != VRT_SUBSYS_HOSTDEV_SCSI || !h->iscsi_name || !h->auth_username)
        return true;
    if (!(src = vrt_qemu_block_net_hostdev_source(h, error)))
        return false;
    return write_auth_secret(drv, src, vrt_qemu_block_net_hostdev_secret_key(h), run_dir, confine, out, error);
}

/* Every disk's secrets (write_one_disk_secrets) and iSCSI hostdev's
 * (write_hostdev_secret), for the command line. */
static GHashTable *
write_disk_secrets(VrtQemuDriver *drv, const VrtDomainDef *def, const char *run_dir, const VrtQemuConfine *confine,
                   GError **error)
{
    g_autoptr(GHashTable) out = disk_secrets_new();

    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        if (!write_one_disk_secrets(drv, g_ptr_array_index(def->disks, i), run_dir, confine, out, error))
            return NULL;
    }
    for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
        if (!write_hostdev_secret(drv, def->subsys_hostdevs->pdata[i], run_dir, confine, out, error))
            return NULL;
    }
    return g_steal_pointer(&out);
}

GHashTable *
vrt_qemu_process_disk_secrets(VrtQemuDom *obj, const VrtDomainDiskDef *disk, GError **error)
{
    g_autoptr(GHashTable) out = disk_secrets_new();
    g_autofree char *run_dir = NULL;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!obj->monitor_path) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
            return NULL;
        }
        run_dir = g_path_get_dirname(obj->monitor_path);
    }
    if (!write_one_disk_secrets(obj->drv, disk, run_dir, NULL, out, error))
        return NULL;
    return g_steal_pointer(&out);
}

/* Starting a domain, in the order a restarted daemon relies on:
 *   spawn    fork QEMU's process, held before exec by a pipe handshake
 *   record   the status file says "starting" with its pid and start time
 *   exec     the handshake lets it exec (QEMU starts paused, -S)
 *   monitor  QMP connected; the domain object takes the live definition
 *   cont     the CPUs run
 *   running  the status file no longer says "starting": the start is done
 * A daemon killed before "record" leaves a process that exits unexec'd
 * (the pipe's end of file); one killed after it leaves a status file that
 * makes the next daemon kill that QEMU (it checks the pid's start time, so
 * a recycled pid is spared) and mark the domain shut off, failed. So every
 * QEMU the daemon ever launched is known to it, and a second start never
 * meets a first QEMU still running. Each step has a VRT_FAULT_DIE_AT
 * point "start:<step>" right before it. */
bool
vrt_qemu_process_start(VrtQemuDom *obj, guint flags, GError **error)
{
    VrtQemuDriver *drv = obj->drv;
    g_autoptr(VrtDomainDef) def = NULL;
    g_autofree char *emulator = NULL;
    g_autofree char *run_dir = NULL;
    g_autofree char *monitor_path = NULL;
    g_autofree char *pidfile = NULL;
    g_autofree char *logfile = NULL;
    g_autofree char *memory_dir = NULL;
    g_auto(GStrv) argv = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(GError) err = NULL;
    VrtQemuCommandOptions opts = { 0 };
    pid_t pid = 0;
    guint64 starttime;
    int monitor_fd;
    off_t log_start = 0;
    bool paused = flags & VRT_DOMAIN_START_PAUSED;
    bool recorded, ok;
    int id, go = -1;
    g_autoptr(VrtQemuHostdevStart) hostdevs = NULL;
    g_autoptr(GPtrArray) dev_nodes = NULL;
    g_autoptr(VrtQemuTaps) taps = vrt_qemu_taps_new(obj);
    g_autoptr(GHashTable) disk_secrets = NULL;
    /* Declared after run_dir's guard-less cleanup paths: its free gives the
     * labels back unless the domain runs. */
    g_autoptr(VrtQemuConfine) confine = NULL;
    g_autoptr(GHashTable) file_fds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) vhost_scsi_fds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) scsi_sg_paths = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        def = vrt_domain_def_copy(obj->def, error);
    }
    /* QEMU starts every tray closed; the live definition follows its
     * DEVICE_TRAY_MOVED events from there (libvirt reads it back likewise) */
    for (guint i = 0; def && i < def->disks->len; i++)
        ((VrtDomainDiskDef *)g_ptr_array_index(def->disks, i))->ident.tray_open = false;
    if (!def || !vrt_domain_def_assign_addresses(def, error) || !prepare_def(obj, def, &emulator, error))
        return false;
    vrt_qemu_disk_startup_apply(def, !obj->restore && !(flags & VRT_QEMU_START_INCOMING));
    {
        g_autofree char *nvram_dir = g_build_filename(drv->lib_dir, "nvram", NULL);

        /* what the definition asks that this host's QEMU cannot do is
         * refused before anything is prepared on the host */
        if (def->launch_security) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                          "SEV launch security is not supported by this host (no /dev/sev)");
            return false;
        }
        if (!vrt_qemu_block_net_check(def, error) || !vrt_qemu_firmware_prepare(def, nvram_dir, false, error) ||
            !check_hugepages(def, error))
            return false;
        for (guint i = 0; def->nets && i < def->nets->len; i++)
            if (!vrt_qemu_command_net_vport_check(g_ptr_array_index(def->nets, i), error))
                return false;
        if (!vrt_qemu_disk_iotune_check(def, error) || !check_mdevs(drv, def, error) ||
            !find_scsi_sg_nodes(drv, def, scsi_sg_paths, error))
            return false;
        /* QEMU's user reaches its NVRAM (labelled at start) through the
         * nvram directory and lib_dir, as /var/lib/libvirt/qemu/nvram. */
        if (def->os.fw.nvram)
            vrt_qemu_security_reachable(&drv->sec, drv->root, nvram_dir);
    }
    /* VFs are claimed and moved to vfio-pci before QEMU opens them. */
    if (!(hostdevs = vrt_qemu_hostdev_dom_prepare_start(obj, def, error)))
        return false;
    /* Network ports and taps: released (taps closed) by the guard unless
     * the domain runs. */
    if (!vrt_qemu_interface_prepare_start(obj, def, PROCESS_TAP_FD, taps, error))
        return false;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);

        id = ++drv->next_id;
    }
    run_dir = run_dir_path(drv, id, def->name);
    if (!vrt_dir_ensure(drv->state_dir, 0700, error) || !vrt_dir_ensure(drv->log_dir, 0700, error) ||
        !vrt_dir_ensure(drv->lib_dir, 0700, error) || !vrt_dir_ensure(run_dir, 0700, error))
        return false;
    monitor_path = g_build_filename(run_dir, PROCESS_MONITOR_FILE, NULL);
    pidfile = g_strdup_printf("%s/%s.pid", drv->state_dir, def->name);
    logfile = log_path(drv, def->name);
    unlink(monitor_path);
    unlink(pidfile);

    if (!fill_channel_paths(def, run_dir, error) || !(dev_nodes = vrt_qemu_vfio_dev_nodes(drv, def)) ||
        !(confine = vrt_qemu_confine_prepare(&drv->sec, def, run_dir, pidfile, drv->dev_kvm, dev_nodes, error)) ||
        (vrt_qemu_confine_drops(confine) && !open_chardev_files(def, taps, confine, file_fds, error)) ||
        !open_vhost_scsi(drv, def, taps, vhost_scsi_fds, error)) {
        vrt_qemu_process_remove_monitor(drv, monitor_path);
        return false;
    }
    opts.sandbox = vrt_qemu_confine_sandbox(confine);
    opts.emulator = emulator;
    opts.machine = def->os.machine;
    opts.monitor_path = monitor_path;
    opts.monitor_fd = PROCESS_MONITOR_FD;
    opts.pidfile = pidfile;
    opts.tap_fds = taps->names;
    opts.file_fds = file_fds;
    opts.vhost_scsi_fds = vhost_scsi_fds;
    opts.scsi_sg_paths = scsi_sg_paths;
    /* a restore feeds QEMU its state (qemu_save.c), as does a migration's source */
    opts.incoming = obj->restore || (flags & VRT_QEMU_START_INCOMING) ? "defer" : NULL;
    if (!(disk_secrets = write_disk_secrets(drv, def, run_dir, confine, error))) {
        vrt_qemu_process_remove_monitor(drv, monitor_path);
        return false;
    }
    opts.disk_secrets = disk_secrets;
    /* <source type='file'/>: QEMU's memory files go in the run directory's
     * ram/ (removed with it at stop), given to QEMU's user */
    if (def->mem && g_strcmp0(def->mem->source_type, "file") == 0) {
        memory_dir = g_build_filename(run_dir, "ram", NULL);
        if (!vrt_dir_ensure(memory_dir, 0700, error) || !vrt_qemu_confine_give(confine, memory_dir, error)) {
            vrt_qemu_process_remove_monitor(drv, monitor_path);
            return false;
        }
        opts.memory_dir = memory_dir;
    }
    argv = vrt_qemu_command_build(def, &opts, error);
    if (!argv) {
        g_clear_pointer(&disk_secrets, g_hash_table_unref);
        vrt_qemu_process_remove_monitor(drv, monitor_path);
        return false;
    }
    /* swtpm and virtiofsd run, their pid files in the run directory, before
     * QEMU is spawned: a failed start from here on ends them with it. */
    {
        g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *lib_root = g_path_get_dirname(drv->lib_dir);

        if (!vrt_qemu_tpm_start(lib_root, def, run_dir, drv->log_dir, extra, error) ||
            !vrt_qemu_virtiofs_start(def, run_dir, drv->log_dir, extra, error) ||
            !give_helper_sockets(def, run_dir, confine, error)) {
            g_clear_pointer(&disk_secrets, g_hash_table_unref);
            vrt_qemu_process_remove_monitor(drv, monitor_path);
            return false;
        }
        if (extra->len) {
            g_autoptr(GStrvBuilder) b = g_strv_builder_new();

            g_strv_builder_addv(b, (const char **)argv);
            for (guint i = 0; i < extra->len; i++)
                g_strv_builder_add(b, extra->pdata[i]);
            g_strfreev(argv);
            argv = g_strv_builder_end(b);
        }
    }
    def->id = id;
    /* The profile is loaded before the spawn: QEMU enters it at its exec. */
    if (!vrt_qemu_apparmor_dom_start(drv, def, run_dir, confine, error)) {
        g_clear_pointer(&disk_secrets, g_hash_table_unref);
        vrt_qemu_process_remove_monitor(drv, monitor_path);
        return false;
    }

    vrt_qemu_fault(drv, "start", "spawn");
    monitor_fd = monitor_listen(monitor_path, error);
    if (monitor_fd < 0) {
        vrt_qemu_apparmor_dom_stop(drv, def);
        vrt_qemu_process_remove_monitor(drv, monitor_path);
        return false;
    }
    if (vrt_domain_has_qemu_ns(def))
        taint_custom_argv(def, id);
    ok = spawn_qemu(obj, def, argv, logfile, monitor_fd, taps->fds, confine, &pid, &go, &log_start, error);
    /* QEMU's copy alone keeps it open now: when QEMU ends, a connection
     * still waiting in its backlog ends too. */
    close(monitor_fd);
    if (!ok) {
        vrt_qemu_apparmor_dom_stop(drv, def);
        vrt_qemu_process_remove_monitor(drv, monitor_path);
        return false;
    }
    starttime = vrt_proc_pid_starttime(NULL, pid);
    g_debug("domain %s: QEMU spawned as pid %d", def->name, (int)pid);

    vrt_qemu_fault(drv, "start", "record");
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        recorded = vrt_qemu_dom_save_start_status_locked(obj, def, pid, starttime, monitor_path, error);
    }
    if (!recorded) {
        release_qemu(go, false, NULL);
        cleanup_runtime_files(drv, def->name, monitor_path);
        return false;
    }
    /* Into its cgroup with its tuning before it runs a single instruction
     * of its own: every thread QEMU makes starts there. */
    if (!vrt_qemu_cgroup_setup(obj, def, pid, error)) {
        release_qemu(go, false, NULL);
        discard_qemu(drv, def->name, pid, monitor_path);
        return false;
    }
    vrt_qemu_fault(drv, "start", "exec");
    if (!release_qemu(go, true, error)) {
        discard_qemu(drv, def->name, pid, monitor_path);
        return false;
    }

    vrt_qemu_fault(drv, "start", "monitor");
    mon = vrt_qemu_monitor_open(monitor_path, vrt_qemu_event_thread_context(drv->evthread), pid,
                                PROCESS_MONITOR_TIMEOUT_MS, &vrt_qemu_monitor_callbacks, obj, &err);
    /* QEMU has read its disks' passphrases by the time its monitor answers. */
    remove_disk_secrets(disk_secrets);
    if (!mon) {
        g_autofree char *tail = NULL;

        discard_qemu(drv, def->name, pid, monitor_path);
        tail = log_tail(logfile, log_start);
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "process exited while connecting to monitor: %s",
                      *tail ? tail : err->message);
        return false;
    }

    set_pty_paths(def, mon);
    set_vnc_port(def, mon);
    if (!vrt_qemu_cgroup_setup_vcpus(obj, def, mon, error) || !vrt_qemu_disk_iotune_apply(mon, def, error)) {
        vrt_qemu_monitor_close(mon);
        discard_qemu(drv, def->name, pid, monitor_path);
        return false;
    }

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        adopt_qemu_locked(obj, g_steal_pointer(&def), g_steal_pointer(&hostdevs), pid, starttime, monitor_path, mon);
        /* the ports are the live definition's now: a stop releases them */
        taps->keep = true;
        /* and its labels: the stop gives them back */
        vrt_qemu_confine_commit(confine);
        vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_PAUSED, VRT_DOMAIN_PAUSED_STARTING_UP);
        /* The live definition (pty paths, VNC port) with the hostdev records. */
        if (!vrt_qemu_dom_save_status_locked(obj, error))
            goto fail;
    }

    if (obj->restore && !vrt_qemu_save_load_incoming(obj, mon, error))
        goto fail;
    if (!finish_start(obj, mon, paused, flags & VRT_QEMU_START_INCOMING, error))
        goto fail;
    return true;

fail:
    /* Marks the stop requested (its EOF is no crash) before the signal. */
    vrt_qemu_process_kill(obj);
    /* Quietly: a start that failed emits no STOPPED. */
    vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_FAILED, -1);
    return false;
}

void
vrt_qemu_process_kill(VrtQemuDom *obj)
{
    pid_t pid;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        pid = obj->pid;
        obj->stop_requested = true;
    }
    if (pid > 0 && vrt_proc_pid_alive(NULL, pid))
        term_pid(pid);
}

void
vrt_qemu_process_destroy_kill(VrtQemuDom *obj)
{
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        /* Recorded before any signal: a daemon killed from here on leaves a
         * status file that says a user asked for this, so the next one ends
         * the QEMU if it still runs and shows the domain destroyed, not
         * crashed. A failed write is logged; the destroy goes on. */
        if (vrt_qemu_dom_is_active_locked(obj) && obj->pid > 0 && !obj->destroying) {
            obj->destroying = true;
            vrt_qemu_dom_save_status_locked(obj, NULL);
        }
    }
    vrt_qemu_process_kill(obj);
}

int
vrt_qemu_process_dead_reason(const VrtQemuStatus *st, int *event_detail)
{
    if (st->destroying) {
        *event_detail = VRT_DOMAIN_EVENT_STOPPED_DESTROYED;
        return VRT_DOMAIN_SHUTOFF_DESTROYED;
    }
    if (st->starting) {
        *event_detail = VRT_DOMAIN_EVENT_STOPPED_FAILED;
        return VRT_DOMAIN_SHUTOFF_FAILED;
    }
    *event_detail = VRT_DOMAIN_EVENT_STOPPED_CRASHED;
    return VRT_DOMAIN_SHUTOFF_CRASHED;
}

void
vrt_qemu_process_stop(VrtQemuDom *obj, int reason, int event_detail)
{
    VrtQemuDriver *drv = obj->drv;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autofree char *monitor_path = NULL;
    g_autofree char *name = NULL;
    g_autoptr(VrtDomainDef) live = NULL;
    g_autoptr(GPtrArray) dev_nodes = NULL;
    bool transient;

    /* Here rather than in destroy itself: the handler of QEMU's end of
     * file often does this stop before the destroy call gets the job. */
    if (reason == VRT_DOMAIN_SHUTOFF_DESTROYED)
        vrt_qemu_fault(drv, "destroy", "stop");
    vrt_qemu_process_kill(obj);
    /* the groups of its host devices, before giving those back takes a
     * pool's VF out of the definition */
    dev_nodes = vrt_qemu_vfio_dom_dev_nodes(obj);
    vrt_qemu_hostdev_dom_release(obj);
    vrt_qemu_interface_release_all(obj);

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!vrt_qemu_dom_is_active_locked(obj))
            return;
        mon = g_steal_pointer(&obj->mon);
        monitor_path = g_steal_pointer(&obj->monitor_path);
        name = g_strdup(obj->def->name);
        obj->pid = 0;
        obj->starttime = 0;
        obj->starting = false;
        obj->destroying = false;
        obj->def->id = -1;
        g_hash_table_remove_all(obj->unplug_pending);
        g_hash_table_remove_all(obj->unplug_done);
        vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_SHUTOFF, reason);
        if (obj->newdef) {
            live = obj->def;
            obj->def = g_steal_pointer(&obj->newdef);
            obj->def->id = -1;
        } else {
            live = vrt_domain_def_copy(obj->def, NULL);
        }
        transient = !obj->persistent;
    }
    /* The files of the run that ended get their owners back. */
    if (live) {
        vrt_qemu_security_restore(&drv->sec, live, dev_nodes);
        vrt_qemu_apparmor_dom_stop(drv, live);
        remove_chardev_sockets(live);
    }

    if (mon)
        vrt_qemu_monitor_close(mon);
    if (reason == VRT_DOMAIN_SHUTOFF_DESTROYED)
        vrt_qemu_fault(drv, "destroy", "cleanup");
    cleanup_runtime_files(drv, name, monitor_path);
    if (event_detail >= 0)
        vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_STOPPED, event_detail);
    if (transient)
        vrt_qemu_driver_remove(drv, obj);
}

static void queue_event(VrtQemuDom *obj, VrtQemuMonitor *mon, const char *name, JsonObject *data);

/* An unplug whose DEVICE_DELETED came while no daemon listened: QEMU's
 * device list no longer has the device, so finish its removal now. */
static void
finish_missed_unplugs(VrtQemuDom *obj, VrtQemuMonitor *mon)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) ids = NULL;
    g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer key;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (g_hash_table_size(obj->unplug_pending) == 0)
            return;
    }
    ids = vrt_qemu_monitor_list_device_ids(mon, &err);
    if (!ids) {
        g_warning("domain %s: cannot list QEMU's devices: %s", obj->def->name, err->message);
        return;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        g_hash_table_iter_init(&it, obj->unplug_pending);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            if (!g_ptr_array_find_with_equal_func(ids, key, g_str_equal, NULL)) {
                g_ptr_array_add(gone, g_strdup(key));
                g_hash_table_add(obj->unplug_done, g_strdup(key));
            }
        }
    }
    for (guint i = 0; i < gone->len; i++)
        vrt_qemu_hotplug_device_deleted(obj, g_ptr_array_index(gone, i));
}

bool
vrt_qemu_process_reconnect(VrtQemuDom *obj, VrtQemuStatus *st)
{
    VrtQemuDriver *drv = obj->drv;
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autofree char *status = NULL;
    bool running = false;

    if (!pid_is_recorded(st->pid, st->starttime) || !pid_is_domain_qemu(st->pid, st->def->uuid)) {
        g_info("domain %s: QEMU pid %d is gone", st->def->name, (int)st->pid);
        return false;
    }
    if (st->destroying) {
        /* The previous daemon was destroying it: finish that. */
        g_info("domain %s: finishing its destroy: ending QEMU pid %d", st->def->name, (int)st->pid);
        term_pid(st->pid);
        return false;
    }
    mon = vrt_qemu_monitor_open(st->monitor_path, vrt_qemu_event_thread_context(drv->evthread), st->pid,
                                PROCESS_RECONNECT_TIMEOUT_MS, &vrt_qemu_monitor_callbacks, obj, &err);
    if (!mon || !vrt_qemu_monitor_query_status(mon, &running, &status, &err)) {
        g_warning("domain %s: cannot reattach to QEMU pid %d: %s", st->def->name, (int)st->pid, err->message);
        if (mon)
            vrt_qemu_monitor_close(mon);
        /* A QEMU we cannot control must not keep running unseen. */
        kill_pid_now(st->pid);
        return false;
    }

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (obj->persistent && !obj->newdef)
            obj->newdef = g_steal_pointer(&obj->def);
        vrt_domain_def_free(obj->def);
        obj->def = g_steal_pointer(&st->def);
        obj->pid = st->pid;
        obj->starttime = st->starttime;
        obj->starting = false;
        g_free(obj->monitor_path);
        obj->monitor_path = g_strdup(st->monitor_path);
        obj->mon = vrt_qemu_monitor_ref(mon);
        obj->fake_reboot = st->fake_reboot;
        vrt_qemu_hostdev_state_free(obj->hostdevs);
        obj->hostdevs = g_steal_pointer(&st->hostdevs);
        for (guint i = 0; i < st->unplug_pending->len; i++)
            g_hash_table_add(obj->unplug_pending, g_strdup(g_ptr_array_index(st->unplug_pending, i)));
        if (running)
            vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_RUNNING,
                                          st->state == VRT_DOMAIN_RUNNING ? st->reason : VRT_DOMAIN_RUNNING_UNPAUSED);
        else if (g_str_equal(status, "shutdown"))
            vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_SHUTDOWN, VRT_DOMAIN_SHUTDOWN_USER);
        else if (g_str_equal(status, "suspended")) /* the guest suspended itself (S3) */
            vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_PMSUSPENDED, 0);
        else
            vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_PAUSED,
                                          st->state == VRT_DOMAIN_PAUSED ? st->reason : VRT_DOMAIN_PAUSED_UNKNOWN);
        /* Logged on failure; the old file still names this QEMU. */
        vrt_qemu_dom_save_status_locked(obj, NULL);
    }
    {
        /* After the object lock (driver lock < object lock); under the job
         * obj->def is ours to read. */
        g_autoptr(GMutexLocker) drv_locker = g_mutex_locker_new(&drv->lock);

        if (obj->def->id > drv->next_id)
            drv->next_id = obj->def->id;
    }
    g_info("domain %s: reconnected to QEMU pid %d (%s)", obj->def->name, (int)obj->pid, status);
    finish_missed_unplugs(obj, mon);
    if (g_str_equal(status, "shutdown")) {
        /* The guest powered off while no daemon listened: act on it as on
         * the SHUTDOWN event that was missed (after this job ends). */
        g_autoptr(JsonObject) data = json_object_new();

        json_object_set_boolean_member(data, "guest", TRUE);
        json_object_set_string_member(data, "reason", "guest-shutdown");
        queue_event(obj, mon, "SHUTDOWN", data);
    }
    return true;
}

void
vrt_qemu_process_abort_start(VrtQemuDom *obj, VrtQemuStatus *st)
{
    VrtQemuDriver *drv = obj->drv;

    /* The recorded process, exec'd or still held before exec (then it has
     * the daemon's command line): both are ended. Without a recorded start
     * time only a process with the domain's uuid on its command line is. */
    if (st->starttime ? pid_is_recorded(st->pid, st->starttime) : pid_is_domain_qemu(st->pid, st->def->uuid)) {
        g_warning("domain %s: ending QEMU pid %d: its start was never completed", st->def->name, (int)st->pid);
        kill_pid_now(st->pid);
    } else {
        g_info("domain %s: the QEMU of its unfinished start (pid %d) is gone", st->def->name, (int)st->pid);
    }
    cleanup_runtime_files(drv, st->def->name, st->monitor_path);
}

/* ---- events ---- */

static void
queue_event(VrtQemuDom *obj, VrtQemuMonitor *mon, const char *name, JsonObject *data)
{
    QemuEvent *ev = g_new0(QemuEvent, 1);
    bool schedule;

    ev->name = g_strdup(name);
    ev->data = data ? json_object_ref(data) : NULL;
    ev->mon = vrt_qemu_monitor_ref(mon);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        g_queue_push_tail(&obj->events, ev);
        schedule = !obj->events_scheduled;
        obj->events_scheduled = true;
    }
    if (schedule)
        g_thread_pool_push(obj->drv->event_pool, vrt_qemu_dom_ref(obj), NULL);
}

static void
monitor_event_cb(VrtQemuMonitor *mon, const char *name, JsonObject *data, gpointer opaque)
{
    VrtQemuDom *obj = opaque;

    if (g_str_equal(name, "DEVICE_DELETED") && data) {
        const char *alias = json_object_get_string_member_with_default(data, "device", NULL);

        /* Recorded here, on the event thread, because a detach call may be
         * waiting for it while holding the job. */
        if (alias) {
            {
                g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

                g_hash_table_add(obj->unplug_done, g_strdup(alias));
                g_cond_broadcast(&obj->cond);
            }
        }
    }
    queue_event(obj, mon, name, data);
}

static void
monitor_eof_cb(VrtQemuMonitor *mon, gpointer opaque)
{
    VrtQemuDom *obj = opaque;

    /* Wake a detach waiting for DEVICE_DELETED: it will not come now. */
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        g_cond_broadcast(&obj->cond);
    }
    queue_event(obj, mon, NULL, NULL);
}

/* Every event, as it came, to the driver's monitor event callback (the
 * QEMU program's monitor events), on the monitor thread. */
static void
monitor_raw_event_cb(VrtQemuMonitor *mon, const char *name, gint64 seconds, guint micros, const char *details,
                     gpointer opaque)
{
    VrtQemuDom *obj = opaque;
    g_autoptr(VrtDomainRef) ref = NULL;

    (void)mon;
    if (!obj->drv->cfg.monitor_event)
        return;
    ref = vrt_qemu_dom_make_ref(obj);
    obj->drv->cfg.monitor_event(ref, name, seconds, micros, details, obj->drv->cfg.data);
}

const VrtQemuMonitorCallbacks vrt_qemu_monitor_callbacks = { monitor_event_cb, monitor_eof_cb, monitor_raw_event_cb };

/* Whether ev still concerns the current QEMU of obj. Object lock held. */
static bool
event_is_current_locked(VrtQemuDom *obj, QemuEvent *ev)
{
    return vrt_qemu_dom_is_active_locked(obj) && obj->mon == ev->mon;
}

static void
handle_eof(VrtQemuDom *obj, QemuEvent *ev)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    bool requested, shutdown;

    if (!vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_STOP, NULL))
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!event_is_current_locked(obj, ev))
            return;
        requested = obj->stop_requested;
        shutdown = obj->guest_shutdown;
    }
    if (!requested)
        g_warning("domain %s: QEMU closed its monitor unexpectedly: marking it crashed", obj->def->name);
    if (shutdown)
        vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_SHUTDOWN, VRT_DOMAIN_EVENT_STOPPED_SHUTDOWN);
    else if (requested)
        vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_DESTROYED, VRT_DOMAIN_EVENT_STOPPED_DESTROYED);
    else
        vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_CRASHED, VRT_DOMAIN_EVENT_STOPPED_CRASHED);
}

/* Whether destroy asked QEMU to end (takes the object lock). */
static bool
stop_requested(VrtQemuDom *obj)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    return obj->stop_requested;
}

/* SHUTDOWN's bookkeeping under the event's job (object lock held): the
 * action to take, in *action, and a reference to the monitor; false when
 * the event is stale or destroy asked QEMU to end. */
static bool
shutdown_begin_locked(VrtQemuDom *obj, QemuEvent *ev, const char *why, VrtDomainLifecycleAction *action, bool *fake,
                      VrtQemuMonitor **mon)
{
    bool reboot;

    if (!event_is_current_locked(obj, ev) || obj->stop_requested)
        return false;
    *fake = obj->fake_reboot;
    obj->fake_reboot = false;
    /* -no-reboot turns a guest reboot into SHUTDOWN with reason guest-reset. */
    reboot = g_str_equal(why, "guest-reset") || *fake;
    *action = reboot ? obj->def->on_reboot : obj->def->on_poweroff;
    if (*fake)
        *action = VRT_DOMAIN_LIFECYCLE_RESTART;
    *mon = obj->mon ? vrt_qemu_monitor_ref(obj->mon) : NULL;
    obj->guest_shutdown = true;
    vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_SHUTDOWN, VRT_DOMAIN_SHUTDOWN_USER);
    return true;
}

static void
handle_shutdown(VrtQemuDom *obj, QemuEvent *ev)
{
    gboolean guest = ev->data ? json_object_get_boolean_member_with_default(ev->data, "guest", FALSE) : FALSE;
    const char *why = ev->data ? json_object_get_string_member_with_default(ev->data, "reason", "") : "";
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    VrtDomainLifecycleAction action;
    bool fake, begun;
    g_autoptr(GError) err = NULL;

    /* QEMU also reports SHUTDOWN when destroy's SIGTERM reaches it. */
    if (stop_requested(obj) || !vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_EVENT, NULL))
        return;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        begun = shutdown_begin_locked(obj, ev, why, &action, &fake, &mon);
    }
    if (!begun)
        return;

    g_info("domain %s: QEMU reports shutdown (guest %s, reason %s): %s", obj->def->name, guest ? "yes" : "no", why,
           vrt_domain_lifecycle_action_to_string(action));
    if (!fake)
        vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_SHUTDOWN,
                          guest ? VRT_DOMAIN_EVENT_SHUTDOWN_GUEST : VRT_DOMAIN_EVENT_SHUTDOWN_HOST);

    if (action == VRT_DOMAIN_LIFECYCLE_RESTART || action == VRT_DOMAIN_LIFECYCLE_COREDUMP_RESTART) {
        /* Reboot in place: QEMU stopped (-no-shutdown); reset and continue. */
        if (vrt_qemu_monitor_system_reset(mon, &err) && vrt_qemu_monitor_cont(mon, &err)) {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            obj->guest_shutdown = false;
            vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_RUNNING, VRT_DOMAIN_RUNNING_BOOTED);
            /* An event: no caller to tell; a failure is logged. */
            vrt_qemu_dom_save_status_locked(obj, NULL);
            return;
        }
        g_warning("domain %s: restart after shutdown failed: %s", obj->def->name, err->message);
    } else if (action == VRT_DOMAIN_LIFECYCLE_PRESERVE) {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        /* An event: no caller to tell; a failure is logged. */
        vrt_qemu_dom_save_status_locked(obj, NULL);
        return;
    }
    g_clear_pointer(&mon, vrt_qemu_monitor_unref);
    vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_SHUTDOWN, VRT_DOMAIN_EVENT_STOPPED_SHUTDOWN);
}

/* Whether QEMU's CPUs run right now (false also when it cannot tell), and
 * in *io_error whether QEMU stopped them on a disk's I/O error. */
static bool
qemu_running_now(VrtQemuMonitor *mon, bool *known, bool *io_error)
{
    g_autofree char *status = NULL;
    bool running = false;

    *known = vrt_qemu_monitor_query_status(mon, &running, &status, NULL);
    *io_error = *known && g_strcmp0(status, "io-error") == 0;
    return running;
}

/* Whether a STOP (stop) or RESUME event would change the domain's state:
 * suspend/resume/start calls set the state themselves, a stop after a guest
 * shutdown is part of it, and a domain being destroyed changes no more.
 * Object lock held. */
static bool
stop_resume_applies_locked(VrtQemuDom *obj, QemuEvent *ev, bool stop)
{
    if (!event_is_current_locked(obj, ev) || obj->job == VRT_QEMU_JOB_SUSPEND || obj->job == VRT_QEMU_JOB_START ||
        obj->state == VRT_DOMAIN_SHUTDOWN || obj->guest_shutdown || obj->stop_requested)
        return false;
    return stop ? obj->state == VRT_DOMAIN_RUNNING : obj->state == VRT_DOMAIN_PAUSED;
}

/* The same, taking the object lock. */
static bool
stop_resume_applies(VrtQemuDom *obj, QemuEvent *ev, bool stop)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    return stop_resume_applies_locked(obj, ev, stop);
}

/* Applies a STOP or RESUME to the state (object lock held): the lifecycle
 * event to emit in *event and *detail, -1 for none. A stop on a disk's I/O
 * error (error_policy='stop') is libvirt's "paused, I/O error". */
static void
stop_resume_apply_locked(VrtQemuDom *obj, QemuEvent *ev, bool stop, bool io_error, int *event, int *detail)
{
    if (!stop_resume_applies_locked(obj, ev, stop))
        return;
    if (stop && obj->state == VRT_DOMAIN_RUNNING) {
        vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_PAUSED,
                                      io_error ? VRT_DOMAIN_PAUSED_IOERROR : VRT_DOMAIN_PAUSED_UNKNOWN);
        *event = VRT_DOMAIN_EVENT_SUSPENDED;
        *detail = io_error ? VRT_DOMAIN_EVENT_SUSPENDED_IOERROR : VRT_DOMAIN_EVENT_SUSPENDED_PAUSED;
    } else if (!stop && obj->state == VRT_DOMAIN_PAUSED) {
        vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_RUNNING, VRT_DOMAIN_RUNNING_UNPAUSED);
        *event = VRT_DOMAIN_EVENT_RESUMED;
        *detail = VRT_DOMAIN_EVENT_RESUMED_UNPAUSED;
    }
    /* An event: no caller to tell; a failure is logged. */
    if (*event >= 0)
        vrt_qemu_dom_save_status_locked(obj, NULL);
}

/* Whether a start runs now (it sets the state itself when it ends). Takes
 * the object lock. */
static bool
start_runs(VrtQemuDom *obj)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    return obj->job == VRT_QEMU_JOB_START;
}

static void
handle_stop_resume(VrtQemuDom *obj, QemuEvent *ev, bool stop)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    int event = -1, detail = 0;
    bool known, running, io_error;

    /* A STOP while a start runs may be QEMU stopping right after the start's
     * cont (a disk's read fails as the firmware boots): once the start has
     * set its state, QEMU's own status says whether it still holds. (No
     * start waits for this thread: DEVICE_DELETED and the monitor's end
     * wake callers from the monitor's thread.) */
    if (stop && start_runs(obj) && !vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_MODIFY, NULL))
        return;
    if (!stop_resume_applies(obj, ev, stop))
        return;

    /* A STOP already undone (reset + cont after a reboot) or a RESUME
     * already undone is history: the state follows what QEMU does now.
     * Asked only when the event would change the state: QEMU 7.2 can hang
     * in its exit path when SIGTERM meets a command in flight, so the
     * RESUME of every start must not send one. */
    running = qemu_running_now(ev->mon, &known, &io_error);
    if (known && running == stop)
        return;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        stop_resume_apply_locked(obj, ev, stop, io_error, &event, &detail);
    }
    if (event >= 0)
        vrt_qemu_dom_emit(obj, event, detail);
}

/* Marks a panicked domain crashed (object lock held): false when ev is
 * stale; its on_crash action in *action. */
static bool
panic_apply_locked(VrtQemuDom *obj, QemuEvent *ev, VrtDomainLifecycleAction *action)
{
    if (!event_is_current_locked(obj, ev))
        return false;
    *action = obj->def->on_crash;
    vrt_qemu_dom_set_state_locked(obj, VRT_DOMAIN_CRASHED, VRT_DOMAIN_CRASHED_PANICKED);
    return true;
}

/* Ends a panicked QEMU under a stop job: false when the job was not had. */
static bool
panic_stop(VrtQemuDom *obj)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;

    if (!vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_STOP, NULL))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        obj->stop_requested = true;
    }
    vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_CRASHED, VRT_DOMAIN_EVENT_STOPPED_CRASHED);
    return true;
}

/* Starts a panicked domain again under its own start job (after the stop's
 * job ended, as any start). */
static void
panic_restart(VrtQemuDom *obj)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(GError) err = NULL;

    if (vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_START, &err) && !vrt_qemu_process_start(obj, 0, &err))
        g_warning("domain %s: restart after crash failed: %s", obj->def->name, err->message);
}

static void
handle_panic(VrtQemuDom *obj, QemuEvent *ev)
{
    VrtDomainLifecycleAction action;
    bool applied;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        applied = panic_apply_locked(obj, ev, &action);
    }
    if (!applied)
        return;
    vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_CRASHED, VRT_DOMAIN_EVENT_CRASHED_PANICKED);
    if (action == VRT_DOMAIN_LIFECYCLE_PRESERVE || !panic_stop(obj))
        return;
    if (action == VRT_DOMAIN_LIFECYCLE_RESTART || action == VRT_DOMAIN_LIFECYCLE_COREDUMP_RESTART)
        panic_restart(obj);
}

/* Whether ev still concerns the current QEMU of obj (takes the object lock). */
static bool
event_is_current(VrtQemuDom *obj, QemuEvent *ev)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    return event_is_current_locked(obj, ev);
}

/* Whether ev is current and QEMU reported alias deleted (takes the object lock). */
static bool
device_deleted_pending(VrtQemuDom *obj, QemuEvent *ev, const char *alias)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    return event_is_current_locked(obj, ev) && g_hash_table_contains(obj->unplug_done, alias);
}

static void
handle_device_deleted(VrtQemuDom *obj, QemuEvent *ev)
{
    const char *alias = ev->data ? json_object_get_string_member_with_default(ev->data, "device", NULL) : NULL;
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;

    if (!alias)
        return;
    /* A detach call still waiting consumes it itself; otherwise finish the
     * removal here under a job. */
    if (!vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_MODIFY, NULL) || !device_deleted_pending(obj, ev, alias))
        return;
    vrt_qemu_hotplug_device_deleted(obj, alias);
}

static void
handle_event(VrtQemuDom *obj, QemuEvent *ev)
{
    if (!ev->name)
        handle_eof(obj, ev);
    else if (g_str_equal(ev->name, "SHUTDOWN"))
        handle_shutdown(obj, ev);
    else if (g_str_equal(ev->name, "STOP"))
        handle_stop_resume(obj, ev, true);
    else if (g_str_equal(ev->name, "RESUME"))
        handle_stop_resume(obj, ev, false);
    else if (g_str_equal(ev->name, "GUEST_PANICKED"))
        handle_panic(obj, ev);
    else if (g_str_equal(ev->name, "DEVICE_DELETED"))
        handle_device_deleted(obj, ev);
    else if (event_is_current(obj, ev) && vrt_qemu_events_handle(obj, ev->name, ev->data))
        return;
    else
        g_debug("domain %s: QEMU event %s", obj->def->name, ev->name);
}

void
vrt_qemu_event_pool_run(gpointer data, gpointer user_data)
{
    g_autoptr(VrtQemuDom) obj = data;

    for (;;) {
        QemuEvent *ev;

        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            ev = g_queue_pop_head(&obj->events);
            if (!ev)
                obj->events_scheduled = false;
        }
        if (!ev)
            return;
        handle_event(obj, ev);
        vrt_qemu_event_free(ev);
    }
}
