/*
 * The QEMU driver's domain tuning (see qemu_cgroup.h). Where libvirt's
 * QEMU driver reads a value back from the cgroup after setting it, so does
 * this: the live XML shows what the kernel took. The cgroup files are
 * reached through the host seam's cgroup module; thread affinity through
 * sched_setaffinity on the tids of QEMU's /proc entry and of QMP's
 * query-cpus-fast.
 */
#include "drivers/qemu/qemu_cgroup.h"
#include "conf/domain/domain_tune.h"
#include "host/hostinfo.h"
#include "util/error.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#define PERIOD_MIN 1000LL
#define PERIOD_MAX 1000000LL
#define QUOTA_MIN 1000LL
#define QUOTA_MAX 17592186044415LL /* libvirt's VIR_CGROUP_CPU_QUOTA_MAX: "max" reads as this */
#define SHARES_MIN 2ULL
#define SHARES_MAX 262144ULL
#define TYPED_PARAM_STRING_OKAY 4u

static const char *const numa_modes[] = { "strict", "preferred", "interleave", "restrictive", NULL };

/* ---- set-up ---- */

VrtCgroups *
vrt_qemu_cgroup_new(const VrtQemuDriverConfig *cfg)
{
    const char *root = cfg->cgroup_root;
    bool real_root = !cfg->root || !*cfg->root || g_str_equal(cfg->root, "/");

    if (!cfg->host)
        return NULL;
    if (!root && !real_root)
        root = "none";
    return vrt_cgroups_new(cfg->host, root);
}

guint
vrt_qemu_host_ncpus(VrtQemuDriver *drv)
{
    guint ncpus = 0, online = 0;
    g_autofree guint8 *map = drv->cfg.host ? vrt_host_cpu_map(drv->cfg.host, &ncpus, &online, NULL) : NULL;
    long n;

    if (map && ncpus)
        return ncpus;
    n = sysconf(_SC_NPROCESSORS_CONF);
    return n > 0 ? (guint)n : 1;
}

static char *
all_cpus(VrtQemuDriver *drv)
{
    guint n = vrt_qemu_host_ncpus(drv);

    return n > 1 ? g_strdup_printf("0-%u", n - 1) : g_strdup("0");
}

static bool
set_affinity(pid_t tid, const char *cpuset, GError **error)
{
    g_autoptr(GArray) cpus = vrt_cpuset_to_array(cpuset);
    cpu_set_t mask;

    CPU_ZERO(&mask);
    for (guint i = 0; i < cpus->len; i++) {
        guint c = g_array_index(cpus, guint, i);
        if (c < CPU_SETSIZE)
            CPU_SET(c, &mask);
    }
    if (sched_setaffinity(tid, sizeof(mask), &mask) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot set CPU affinity on process %d", (int)tid);
        return false;
    }
    return true;
}

/* The thread ids of QEMU's vCPUs, in vCPU order (0 where unknown). */
static GArray *
vcpu_tids(VrtQemuMonitor *mon, GError **error)
{
    g_autoptr(GArray) cpus = vrt_qemu_monitor_query_cpus(mon, error);
    GArray *tids;

    if (!cpus)
        return NULL;
    tids = g_array_new(FALSE, TRUE, sizeof(pid_t));
    for (guint i = 0; i < cpus->len; i++) {
        VrtQemuCpuInfo *ci = &g_array_index(cpus, VrtQemuCpuInfo, i);
        pid_t tid = (pid_t)ci->thread_id;

        if ((guint)ci->cpu_index >= tids->len)
            g_array_set_size(tids, ci->cpu_index + 1);
        g_array_index(tids, pid_t, ci->cpu_index) = tid;
    }
    return tids;
}

/* Pins every thread of pid that is not a vCPU. */
static bool
pin_emulator_threads(pid_t pid, GArray *vcpus, const char *cpuset, GError **error)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/task", (int)pid);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *entry;

    if (!d)
        return set_affinity(pid, cpuset, error);
    while ((entry = g_dir_read_name(d))) {
        pid_t tid = (pid_t)g_ascii_strtoll(entry, NULL, 10);
        bool is_vcpu = false;

        for (guint i = 0; vcpus && i < vcpus->len; i++)
            is_vcpu |= g_array_index(vcpus, pid_t, i) == tid;
        if (tid > 0 && !is_vcpu && !set_affinity(tid, cpuset, error))
            return false;
    }
    return true;
}

static bool
needs_cpu(const VrtDomainTuneDef *t)
{
    return t && (t->shares_set || t->period || t->quota || t->global_period || t->global_quota || t->emulator_period ||
                 t->emulator_quota);
}

static bool
needs_memory(const VrtDomainTuneDef *t)
{
    return t && (t->hard_limit < VRT_MEMORY_UNLIMITED || t->soft_limit < VRT_MEMORY_UNLIMITED ||
                 t->swap_hard_limit < VRT_MEMORY_UNLIMITED);
}

static bool
needs_io(const VrtDomainTuneDef *t)
{
    return t && (t->blkio_weight || t->blkio_devices->len);
}

static char *
kib_value(guint64 kib)
{
    if (kib >= VRT_MEMORY_UNLIMITED)
        return g_strdup("max");
    return g_strdup_printf("%" G_GUINT64_FORMAT, kib << 10);
}

static bool
set_blkio_weight(VrtCgroups *cg, const char *name, guint weight, GError **error)
{
    g_autofree char *bfq = vrt_cgroup_get(cg, name, NULL, "io.bfq.weight", NULL);
    g_autofree char *plain = NULL;
    g_autofree char *value = NULL;

    /* BFQ's own weight when the disks use it, else io.weight. */
    if (bfq) {
        value = g_strdup_printf("%u", weight);
        return vrt_cgroup_set(cg, name, NULL, "io.bfq.weight", value, error);
    }
    plain = vrt_cgroup_get(cg, name, NULL, "io.weight", NULL);
    if (!plain) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "blkio weight is valid only for bfq or cfq scheduler");
        return false;
    }
    value = g_strdup_printf("default %u", weight);
    return vrt_cgroup_set(cg, name, NULL, "io.weight", value, error);
}

bool
vrt_qemu_cgroup_setup(VrtQemuDom *obj, const VrtDomainDef *def, pid_t pid, GError **error)
{
    VrtQemuDriver *drv = obj->drv;
    VrtCgroups *cg = drv->cgroups;
    const VrtDomainTuneDef *t = def->tune;
    const char *name = def->name;
    g_autoptr(GError) err = NULL;
    bool have = false;

    if (vrt_cgroups_available(cg)) {
        /* A scope left by a QEMU of this name that is gone. */
        vrt_cgroup_domain_remove(cg, name, NULL);
        have = vrt_cgroup_domain_create(cg, name, pid, &err);
        if (!have)
            g_warning("domain %s: no cgroup: %s", name, err->message);
        else
            vrt_qemu_cgroup_devices_setup(obj, def);
    }
    if (needs_cpu(t) && !(have && vrt_cgroup_domain_has_controller(cg, name, "cpu"))) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "CPU tuning is not available on this host");
        return false;
    }
    if (needs_memory(t) && !(have && vrt_cgroup_domain_has_controller(cg, name, "memory"))) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "Memory cgroup is not available on this host");
        return false;
    }
    if (needs_io(t) && !(have && vrt_cgroup_domain_has_controller(cg, name, "io"))) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "Block I/O tuning is not available on this host");
        return false;
    }
    if (t && t->numa_nodeset && !(have && vrt_cgroup_domain_has_controller(cg, name, "cpuset"))) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "cgroup cpuset controller is not mounted");
        return false;
    }
    if (t) {
        if (t->shares_set) {
            g_autofree char *v = g_strdup_printf("%" G_GUINT64_FORMAT, t->shares);
            if (!vrt_cgroup_set(cg, name, NULL, "cpu.weight", v, error))
                return false;
        }
        if ((t->global_period || t->global_quota) &&
            !vrt_cgroup_set_cpu_max(cg, name, NULL, t->global_quota != 0, t->global_quota, t->global_period != 0,
                                    t->global_period, error))
            return false;
        if ((t->emulator_period || t->emulator_quota) &&
            !vrt_cgroup_set_cpu_max(cg, name, "emulator", t->emulator_quota != 0, t->emulator_quota,
                                    t->emulator_period != 0, t->emulator_period, error))
            return false;
        if (needs_memory(t)) {
            g_autofree char *hard = kib_value(t->hard_limit);
            g_autofree char *soft = kib_value(t->soft_limit);
            g_autofree char *swap = kib_value(t->swap_hard_limit);

            if (!vrt_cgroup_set(cg, name, NULL, "memory.max", hard, error) ||
                !vrt_cgroup_set(cg, name, NULL, "memory.high", soft, error))
                return false;
            if (t->swap_hard_limit < VRT_MEMORY_UNLIMITED &&
                !vrt_cgroup_set(cg, name, NULL, "memory.swap.max", swap, error))
                return false;
        }
        if (t->blkio_weight && !set_blkio_weight(cg, name, t->blkio_weight, error))
            return false;
        if (t->numa_nodeset && !vrt_cgroup_set(cg, name, NULL, "cpuset.mems", t->numa_nodeset, error))
            return false;
        /* Before exec: every thread QEMU makes inherits it; the vCPUs get
         * their own pins (or every CPU) once they are known. */
        if (t->emulatorpin && !set_affinity(pid, t->emulatorpin, error))
            return false;
    }
    /* <vcpu cpuset=>: the emulator's CPUs when no emulatorpin says */
    if (def->vcpu_cpuset && !(t && t->emulatorpin) && !set_affinity(pid, def->vcpu_cpuset, error))
        return false;
    return true;
}

bool
vrt_qemu_cgroup_setup_vcpus(VrtQemuDom *obj, const VrtDomainDef *def, VrtQemuMonitor *mon, GError **error)
{
    VrtQemuDriver *drv = obj->drv;
    VrtCgroups *cg = drv->cgroups;
    const VrtDomainTuneDef *t = def->tune;
    bool have = vrt_cgroup_domain_exists(cg, def->name);
    g_autoptr(GArray) tids = NULL;
    g_autofree char *all = NULL;

    if (!have && !(t && (t->vcpupins->len || t->emulatorpin)) && !def->vcpu_cpuset)
        return true;
    tids = vcpu_tids(mon, error);
    if (!tids)
        return false;
    all = all_cpus(drv);
    for (guint i = 0; i < tids->len; i++) {
        pid_t tid = g_array_index(tids, pid_t, i);
        const char *pin = vrt_domain_tune_vcpupin(t, i);

        if (!pin)
            pin = def->vcpu_cpuset; /* <vcpu cpuset=> for a vCPU not pinned */
        if (tid <= 0)
            continue;
        if (have) {
            g_autoptr(GError) err = NULL;
            if (!vrt_cgroup_domain_add_vcpu(cg, def->name, i, tid, &err))
                g_warning("domain %s: vCPU %u stays in the emulator's cgroup: %s", def->name, i, err->message);
            else if (t && (t->period || t->quota)) {
                g_autofree char *sub = g_strdup_printf("vcpu%u", i);
                if (!vrt_cgroup_set_cpu_max(cg, def->name, sub, t->quota != 0, t->quota, t->period != 0, t->period,
                                            error))
                    return false;
            }
        }
        if (pin || (t && t->emulatorpin)) {
            if (!set_affinity(tid, pin ? pin : all, error))
                return false;
        }
    }
    return true;
}

void
vrt_qemu_cgroup_remove(VrtQemuDriver *drv, const char *name)
{
    g_autoptr(GError) err = NULL;

    if (!vrt_cgroup_domain_remove(drv->cgroups, name, &err))
        g_warning("domain %s: %s", name, err->message);
}

void
vrt_qemu_cgroup_sweep(VrtQemuDriver *drv)
{
    g_autoptr(GPtrArray) names = vrt_cgroup_list_domains(drv->cgroups);

    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        bool running = false;

        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
            VrtQemuDom *obj = g_hash_table_lookup(drv->by_name, name);

            if (obj) {
                g_autoptr(GMutexLocker) obj_locker = g_mutex_locker_new(&obj->lock);
                running = vrt_qemu_dom_is_active_locked(obj);
            }
        }
        if (!running) {
            g_info("domain %s: removing the cgroup of a QEMU that is gone", name);
            vrt_qemu_cgroup_remove(drv, name);
        }
    }
}

/* ---- the calls ---- */

static VrtQemuDom *
find_with_job(VrtQemuDriver *drv, const guchar *uuid, VrtQemuJob *job, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);

    if (!obj || !vrt_qemu_job_begin(job, obj, VRT_QEMU_JOB_MODIFY, error))
        return NULL;
    return g_steal_pointer(&obj);
}

/* For getters: live or config (not both), as virDomainObjGetDefs; the
 * chosen definition copied. */
static VrtDomainDef *
getter_def(VrtQemuDom *obj, guint flags, bool *live, GError **error)
{
    g_autoptr(GMutexLocker) locker = NULL;
    bool config;

    if ((flags & VRT_DOMAIN_AFFECT_LIVE) && (flags & VRT_DOMAIN_AFFECT_CONFIG)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG,
                      "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive");
        return NULL;
    }
    if (!vrt_qemu_dom_affect_flags(obj, flags & 3u, live, &config, error))
        return NULL;
    locker = g_mutex_locker_new(&obj->lock);
    if (*live)
        return vrt_domain_def_copy(obj->def, error);
    return vrt_domain_def_copy(obj->newdef ? obj->newdef : obj->def, error);
}

static void
add_param(GPtrArray *out, const char *field, int type, ...)
{
    VrtTypedParam *p = g_new0(VrtTypedParam, 1);
    va_list ap;

    p->field = g_strdup(field);
    p->type = type;
    va_start(ap, type);
    switch (type) {
    case VRT_TYPED_PARAM_INT: p->v.i = va_arg(ap, int); break;
    case VRT_TYPED_PARAM_UINT: p->v.ui = va_arg(ap, guint); break;
    case VRT_TYPED_PARAM_LLONG: p->v.l = va_arg(ap, gint64); break;
    case VRT_TYPED_PARAM_ULLONG: p->v.ul = va_arg(ap, guint64); break;
    case VRT_TYPED_PARAM_STRING: p->v.s = g_strdup(va_arg(ap, const char *)); break;
    }
    va_end(ap);
    g_ptr_array_add(out, p);
}

static GPtrArray *
new_params(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);
}

/* Checks every param is one of names with its type (virTypedParamsValidate). */
static bool
validate(GPtrArray *params, const char *const *names, const int *types, GError **error)
{
    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);
        guint j;

        for (j = 0; names[j]; j++)
            if (g_str_equal(names[j], p->field))
                break;
        if (!names[j]) {
            vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "parameter '%s' not supported", p->field);
            return false;
        }
        if (types[j] != p->type) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid type '%d' for parameter '%s', expected '%d'", p->type,
                          p->field, types[j]);
            return false;
        }
    }
    return true;
}

static bool
check_controller(VrtQemuDriver *drv, const char *name, const char *controller, const char *message, GError **error)
{
    if (vrt_cgroup_domain_has_controller(drv->cgroups, name, controller))
        return true;
    vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", message);
    return false;
}

#define CPU_NOT_MOUNTED "cgroup CPU controller is not mounted"
#define MEM_NOT_MOUNTED "cgroup memory controller is not mounted"
#define IO_NOT_MOUNTED "blkio cgroup isn't mounted"
#define CPUSET_NOT_MOUNTED "cgroup cpuset controller is not mounted"

/* Saves the live definition (obj->def changed by fn) or installs a changed
 * copy of the persistent one. */
typedef bool (*TuneFunc)(VrtQemuDom *obj, VrtDomainDef *def, bool live, gpointer data, GError **error);

static bool
tune_call(VrtQemuDriver *drv, const guchar *uuid, guint flags, TuneFunc fn, gpointer data, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = find_with_job(drv, uuid, &job, error);
    bool live, config;

    if (!obj || !vrt_qemu_dom_affect_flags(obj, flags, &live, &config, error))
        return false;
    if (live) {
        /* The live definition changes only under the object lock; the
         * host changes are made on a copy first, outside it. */
        g_autoptr(VrtDomainDef) copy = NULL;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            copy = vrt_domain_def_copy(obj->def, error);
        }
        if (!copy || !fn(obj, copy, true, data, error))
            return false;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            VrtDomainTuneDef *tmp = obj->def->tune;

            obj->def->tune = copy->tune;
            copy->tune = tmp;
            if (!vrt_qemu_dom_save_status_locked(obj, error))
                return false;
        }
    }
    if (config) {
        g_autoptr(VrtDomainDef) copy = vrt_qemu_dom_config_copy(obj, error);

        if (!copy || !fn(obj, copy, false, data, error))
            return false;
        return vrt_qemu_dom_config_install(obj, g_steal_pointer(&copy), error);
    }
    return true;
}

static pid_t
dom_pid(VrtQemuDom *obj)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    return obj->pid;
}

static VrtQemuMonitor *
dom_monitor(VrtQemuDom *obj, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    if (!obj->mon) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    return vrt_qemu_monitor_ref(obj->mon);
}

/* -- scheduler -- */

char *
vrt_qemu_domain_get_scheduler_type(VrtQemuDriver *drv, const guchar *uuid, int *nparams, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    bool active;
    g_autofree char *name = NULL;

    if (!obj)
        return NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
        active = vrt_qemu_dom_is_active_locked(obj);
        name = g_strdup(obj->def->name);
    }
    if (active && !check_controller(drv, name, "cpu", CPU_NOT_MOUNTED, error))
        return NULL;
    *nparams = 9;
    return g_strdup("posix");
}

static bool
live_bw(VrtQemuDriver *drv, const char *name, const char *sub, guint64 *period, gint64 *quota, GError **error)
{
    if (!vrt_cgroup_get_cpu_max(drv->cgroups, name, sub, quota, period, error))
        return false;
    if (*quota < 0)
        *quota = QUOTA_MAX;
    return true;
}

GPtrArray *
vrt_qemu_domain_get_scheduler_params(VrtQemuDriver *drv, const guchar *uuid, int max, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GPtrArray) out = new_params();
    VrtDomainTuneDef data = { 0 };
    bool live;

    if (!obj || !(def = getter_def(obj, flags, &live, error)))
        return NULL;
    if (!live) {
        if (def->tune)
            data = *def->tune;
    } else {
        g_autofree char *w = NULL;
        g_autofree char *sub = NULL;

        if (!check_controller(drv, def->name, "cpu", CPU_NOT_MOUNTED, error))
            return NULL;
        w = vrt_cgroup_get(drv->cgroups, def->name, NULL, "cpu.weight", error);
        if (!w)
            return NULL;
        data.shares = g_ascii_strtoull(w, NULL, 10);
        sub = g_strdup_printf("vcpu%u", 0u);
        if (max > 1 && vrt_cgroup_domain_exists(drv->cgroups, def->name)) {
            g_autofree char *vdir = vrt_cgroup_domain_path(drv->cgroups, def->name, sub);
            g_autofree char *real = vrt_host_path(drv->cfg.host, vdir);

            if (g_file_test(real, G_FILE_TEST_IS_DIR) &&
                !live_bw(drv, def->name, sub, &data.period, &data.quota, error))
                return NULL;
        }
        if (max > 3 && !live_bw(drv, def->name, "emulator", &data.emulator_period, &data.emulator_quota, error))
            return NULL;
        if (max > 5 && !live_bw(drv, def->name, NULL, &data.global_period, &data.global_quota, error))
            return NULL;
    }
    add_param(out, "cpu_shares", VRT_TYPED_PARAM_ULLONG, data.shares);
    add_param(out, "vcpu_period", VRT_TYPED_PARAM_ULLONG, data.period);
    add_param(out, "vcpu_quota", VRT_TYPED_PARAM_LLONG, data.quota);
    add_param(out, "emulator_period", VRT_TYPED_PARAM_ULLONG, data.emulator_period);
    add_param(out, "emulator_quota", VRT_TYPED_PARAM_LLONG, data.emulator_quota);
    add_param(out, "global_period", VRT_TYPED_PARAM_ULLONG, data.global_period);
    add_param(out, "global_quota", VRT_TYPED_PARAM_LLONG, data.global_quota);
    add_param(out, "iothread_period", VRT_TYPED_PARAM_ULLONG, (guint64)0);
    add_param(out, "iothread_quota", VRT_TYPED_PARAM_LLONG, (gint64)0);
    if (max >= 0 && out->len > (guint)max)
        g_ptr_array_set_size(out, max);
    return g_steal_pointer(&out);
}

static bool
range_check(const VrtTypedParam *p, gint64 value, gint64 min, gint64 maxv, GError **error)
{
    if ((value > 0 && value < min) || value > maxv) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG,
                      "value of '%s' is out of range [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", p->field, min,
                      maxv);
        return false;
    }
    return true;
}

/* Applies the vCPUs' period/quota to each vcpuN cgroup. */
static bool
set_vcpus_bw(VrtQemuDom *obj, const char *name, bool set_quota, gint64 quota, bool set_period, guint64 period,
             GError **error)
{
    VrtCgroups *cg = obj->drv->cgroups;
    g_autoptr(VrtQemuMonitor) mon = dom_monitor(obj, error);
    g_autoptr(GArray) tids = NULL;

    if (!mon || !(tids = vcpu_tids(mon, error)))
        return false;
    for (guint i = 0; i < tids->len; i++) {
        g_autofree char *sub = g_strdup_printf("vcpu%u", i);
        pid_t tid = g_array_index(tids, pid_t, i);

        if (tid <= 0)
            continue;
        if (!vrt_cgroup_domain_add_vcpu(cg, name, i, tid, error) ||
            !vrt_cgroup_set_cpu_max(cg, name, sub, set_quota, quota, set_period, period, error))
            return false;
    }
    return true;
}

static bool
sched_apply(VrtQemuDom *obj, VrtDomainDef *def, bool live, gpointer data, GError **error)
{
    GPtrArray *params = data;
    VrtDomainTuneDef *t = vrt_domain_tune_get(def);
    VrtCgroups *cg = obj->drv->cgroups;

    if (live && !check_controller(obj->drv, def->name, "cpu", CPU_NOT_MOUNTED, error))
        return false;
    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);
        const char *f = p->field;

        if (g_str_equal(f, "cpu_shares")) {
            if (live) {
                g_autofree char *v = g_strdup_printf("%" G_GUINT64_FORMAT, p->v.ul);
                g_autofree char *back = NULL;

                if (p->v.ul < SHARES_MIN || p->v.ul > SHARES_MAX) {
                    vrt_error_set(error, VIR_ERR_INVALID_ARG,
                                  "shares '%" G_GUINT64_FORMAT "' must be in range [%llu, %llu]", p->v.ul,
                                  (unsigned long long)SHARES_MIN, (unsigned long long)SHARES_MAX);
                    return false;
                }
                if (!vrt_cgroup_set(cg, def->name, NULL, "cpu.weight", v, error) ||
                    !(back = vrt_cgroup_get(cg, def->name, NULL, "cpu.weight", error)))
                    return false;
                t->shares = g_ascii_strtoull(back, NULL, 10);
            } else {
                t->shares = p->v.ul;
            }
            t->shares_set = true;
        } else if (g_str_equal(f, "vcpu_period") || g_str_equal(f, "emulator_period") ||
                   g_str_equal(f, "global_period")) {
            guint64 *slot = f[0] == 'v' ? &t->period : f[0] == 'e' ? &t->emulator_period : &t->global_period;

            if (!range_check(p, (gint64)MIN(p->v.ul, (guint64)G_MAXINT64), PERIOD_MIN, PERIOD_MAX, error))
                return false;
            if (live && p->v.ul) {
                bool ok = f[0] == 'v' ? set_vcpus_bw(obj, def->name, false, 0, true, p->v.ul, error)
                                      : vrt_cgroup_set_cpu_max(cg, def->name, f[0] == 'e' ? "emulator" : NULL, false, 0,
                                                               true, p->v.ul, error);
                if (!ok)
                    return false;
            }
            if (!live || p->v.ul)
                *slot = p->v.ul;
        } else if (g_str_equal(f, "vcpu_quota") || g_str_equal(f, "emulator_quota") || g_str_equal(f, "global_quota")) {
            gint64 *slot = f[0] == 'v' ? &t->quota : f[0] == 'e' ? &t->emulator_quota : &t->global_quota;

            if (!range_check(p, p->v.l, QUOTA_MIN, QUOTA_MAX, error))
                return false;
            if (live && p->v.l) {
                bool ok = f[0] == 'v' ? set_vcpus_bw(obj, def->name, true, p->v.l, false, 0, error)
                                      : vrt_cgroup_set_cpu_max(cg, def->name, f[0] == 'e' ? "emulator" : NULL, true,
                                                               p->v.l, false, 0, error);
                if (!ok)
                    return false;
            }
            if (!live || p->v.l)
                *slot = p->v.l;
        }
    }
    return true;
}

bool
vrt_qemu_domain_set_scheduler_params(VrtQemuDriver *drv, const guchar *uuid, GPtrArray *params, guint flags,
                                     GError **error)
{
    static const char *const names[] = {
        "cpu_shares",    "vcpu_period",  "vcpu_quota",      "emulator_period", "emulator_quota",
        "global_period", "global_quota", "iothread_period", "iothread_quota",  NULL
    };
    static const int types[] = { VRT_TYPED_PARAM_ULLONG, VRT_TYPED_PARAM_ULLONG, VRT_TYPED_PARAM_LLONG,
                                 VRT_TYPED_PARAM_ULLONG, VRT_TYPED_PARAM_LLONG,  VRT_TYPED_PARAM_ULLONG,
                                 VRT_TYPED_PARAM_LLONG,  VRT_TYPED_PARAM_ULLONG, VRT_TYPED_PARAM_LLONG };

    if (!validate(params, names, types, error))
        return false;
    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);
        if (g_str_has_prefix(p->field, "iothread_")) {
            vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "parameter '%s' not supported: vrt has no I/O threads",
                          p->field);
            return false;
        }
    }
    return tune_call(drv, uuid, flags, sched_apply, params, error);
}

/* -- memory -- */

static guint64
read_kib(VrtQemuDriver *drv, const char *name, const char *file, GError **error, bool *ok)
{
    g_autofree char *v = vrt_cgroup_get(drv->cgroups, name, NULL, file, error);

    *ok = v != NULL;
    if (!v || g_str_has_prefix(v, "max"))
        return VRT_MEMORY_UNLIMITED;
    return MIN(g_ascii_strtoull(v, NULL, 10) >> 10, VRT_MEMORY_UNLIMITED);
}

GPtrArray *
vrt_qemu_domain_get_memory_params(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GPtrArray) out = new_params();
    guint64 hard = VRT_MEMORY_UNLIMITED, soft = VRT_MEMORY_UNLIMITED, swap = VRT_MEMORY_UNLIMITED;
    bool live, ok;

    if (!obj || !(def = getter_def(obj, flags, &live, error)))
        return NULL;
    if (!live) {
        if (def->tune) {
            hard = def->tune->hard_limit;
            soft = def->tune->soft_limit;
            swap = def->tune->swap_hard_limit;
        }
    } else {
        if (!check_controller(drv, def->name, "memory", MEM_NOT_MOUNTED, error))
            return NULL;
        hard = read_kib(drv, def->name, "memory.max", error, &ok);
        if (!ok)
            return NULL;
        soft = read_kib(drv, def->name, "memory.high", error, &ok);
        if (!ok)
            return NULL;
        /* No swap accounting: no limit to show. */
        swap = read_kib(drv, def->name, "memory.swap.max", NULL, &ok);
    }
    add_param(out, "hard_limit", VRT_TYPED_PARAM_ULLONG, hard);
    add_param(out, "soft_limit", VRT_TYPED_PARAM_ULLONG, soft);
    add_param(out, "swap_hard_limit", VRT_TYPED_PARAM_ULLONG, swap);
    return g_steal_pointer(&out);
}

static bool
mem_apply(VrtQemuDom *obj, VrtDomainDef *def, bool live, gpointer data, GError **error)
{
    GPtrArray *params = data;
    VrtDomainTuneDef *t = vrt_domain_tune_get(def);
    guint64 hard = t->hard_limit, swap = t->swap_hard_limit;

    if (live && !check_controller(obj->drv, def->name, "memory", MEM_NOT_MOUNTED, error))
        return false;
    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);
        if (g_str_equal(p->field, "hard_limit"))
            hard = MIN(p->v.ul, VRT_MEMORY_UNLIMITED);
        else if (g_str_equal(p->field, "swap_hard_limit"))
            swap = MIN(p->v.ul, VRT_MEMORY_UNLIMITED);
    }
    if (hard < VRT_MEMORY_UNLIMITED && swap < VRT_MEMORY_UNLIMITED && hard > swap) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG,
                      "memory hard_limit tunable value must be lower than or equal to swap_hard_limit");
        return false;
    }
    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);
        guint64 kib = MIN(p->v.ul, VRT_MEMORY_UNLIMITED);
        const char *file = NULL;
        guint64 *slot = NULL;

        if (g_str_equal(p->field, "hard_limit")) {
            file = "memory.max";
            slot = &t->hard_limit;
        } else if (g_str_equal(p->field, "soft_limit")) {
            file = "memory.high";
            slot = &t->soft_limit;
        } else if (g_str_equal(p->field, "swap_hard_limit")) {
            file = "memory.swap.max";
            slot = &t->swap_hard_limit;
        } else {
            continue;
        }
        if (live) {
            g_autofree char *v = kib_value(kib);
            bool ok;

            if (!vrt_cgroup_set(obj->drv->cgroups, def->name, NULL, file, v, error))
                return false;
            kib = read_kib(obj->drv, def->name, file, error, &ok);
            if (!ok)
                return false;
        }
        *slot = kib;
    }
    return true;
}

bool
vrt_qemu_domain_set_memory_params(VrtQemuDriver *drv, const guchar *uuid, GPtrArray *params, guint flags,
                                  GError **error)
{
    static const char *const names[] = { "hard_limit", "soft_limit", "swap_hard_limit", NULL };
    static const int types[] = { VRT_TYPED_PARAM_ULLONG, VRT_TYPED_PARAM_ULLONG, VRT_TYPED_PARAM_ULLONG };

    if (!validate(params, names, types, error))
        return false;
    return tune_call(drv, uuid, flags, mem_apply, params, error);
}

/* -- blkio -- */

static char *
blkio_devices_param(const VrtDomainTuneDef *t, int which)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint i = 0; t && i < t->blkio_devices->len; i++) {
        VrtDomainBlkioDevice *d = g_ptr_array_index(t->blkio_devices, i);
        guint64 v = which == 0   ? d->weight
                    : which == 1 ? d->read_iops
                    : which == 2 ? d->write_iops
                    : which == 3 ? d->read_bytes
                                 : d->write_bytes;
        if (!v)
            continue;
        g_string_append_printf(s, "%s%s,%" G_GUINT64_FORMAT, s->len ? "," : "", d->path, v);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

GPtrArray *
vrt_qemu_domain_get_blkio_params(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    static const char *const dev_names[] = { "device_weight", "device_read_iops_sec", "device_write_iops_sec",
                                             "device_read_bytes_sec", "device_write_bytes_sec" };
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GPtrArray) out = new_params();
    guint weight = 0;
    bool live;

    if (!obj || !(def = getter_def(obj, flags, &live, error)))
        return NULL;
    if (live) {
        g_autofree char *v = NULL;

        if (!check_controller(drv, def->name, "io", IO_NOT_MOUNTED, error))
            return NULL;
        v = vrt_cgroup_get(drv->cgroups, def->name, NULL, "io.bfq.weight", NULL);
        if (!v)
            v = vrt_cgroup_get(drv->cgroups, def->name, NULL, "io.weight", error);
        if (!v)
            return NULL;
        /* "default N" (then per-device lines), or a bare number. */
        weight = (guint)g_ascii_strtoull(g_str_has_prefix(v, "default ") ? v + 8 : v, NULL, 10);
    } else if (def->tune) {
        weight = def->tune->blkio_weight;
    }
    add_param(out, "weight", VRT_TYPED_PARAM_UINT, weight);
    if (flags & TYPED_PARAM_STRING_OKAY) {
        for (int i = 0; i < 5; i++) {
            g_autofree char *s = blkio_devices_param(def->tune, i);
            add_param(out, dev_names[i], VRT_TYPED_PARAM_STRING, s);
        }
    }
    return g_steal_pointer(&out);
}

static bool
blkio_apply(VrtQemuDom *obj, VrtDomainDef *def, bool live, gpointer data, GError **error)
{
    GPtrArray *params = data;
    VrtDomainTuneDef *t = vrt_domain_tune_get(def);

    if (live && !check_controller(obj->drv, def->name, "io", IO_NOT_MOUNTED, error))
        return false;
    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);

        if (!g_str_equal(p->field, "weight"))
            continue;
        if (p->v.ui > 1000 || p->v.ui < 100) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "out of blkio weight range.");
            return false;
        }
        if (live && !set_blkio_weight(obj->drv->cgroups, def->name, p->v.ui, error))
            return false;
        t->blkio_weight = p->v.ui;
    }
    return true;
}

bool
vrt_qemu_domain_set_blkio_params(VrtQemuDriver *drv, const guchar *uuid, GPtrArray *params, guint flags, GError **error)
{
    static const char *const names[] = { "weight",
                                         "device_weight",
                                         "device_read_iops_sec",
                                         "device_write_iops_sec",
                                         "device_read_bytes_sec",
                                         "device_write_bytes_sec",
                                         NULL };
    static const int types[] = { VRT_TYPED_PARAM_UINT,   VRT_TYPED_PARAM_STRING, VRT_TYPED_PARAM_STRING,
                                 VRT_TYPED_PARAM_STRING, VRT_TYPED_PARAM_STRING, VRT_TYPED_PARAM_STRING };

    if (!validate(params, names, types, error))
        return false;
    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);
        if (g_str_has_prefix(p->field, "device_")) {
            vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED,
                          "parameter '%s' not supported: vrt sets no per-device blkio tuning", p->field);
            return false;
        }
    }
    return tune_call(drv, uuid, flags, blkio_apply, params, error);
}

/* -- numa -- */

GPtrArray *
vrt_qemu_domain_get_numa_params(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GPtrArray) out = new_params();
    bool live;
    int mode = 0;

    if (!obj || !(def = getter_def(obj, flags, &live, error)))
        return NULL;
    /* no <numatune> reads as strict, as libvirt's default mode */
    for (int i = 0; def->tune && def->tune->numa_mode && numa_modes[i]; i++) {
        if (g_str_equal(numa_modes[i], def->tune->numa_mode)) {
            mode = i;
            break;
        }
    }
    add_param(out, "numa_mode", VRT_TYPED_PARAM_INT, mode);
    add_param(out, "numa_nodeset", VRT_TYPED_PARAM_STRING,
              def->tune && def->tune->numa_nodeset ? def->tune->numa_nodeset : "");
    return g_steal_pointer(&out);
}

static bool
numa_apply(VrtQemuDom *obj, VrtDomainDef *def, bool live, gpointer data, GError **error)
{
    GPtrArray *params = data;
    VrtDomainTuneDef *t = vrt_domain_tune_get(def);
    const char *mode = NULL;
    g_autofree char *nodeset = NULL;

    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);

        if (g_str_equal(p->field, "numa_mode")) {
            if (p->v.i < 0 || p->v.i >= (int)G_N_ELEMENTS(numa_modes) - 1) {
                vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported numatune mode: '%d'", p->v.i);
                return false;
            }
            mode = numa_modes[p->v.i];
        } else if (g_str_equal(p->field, "numa_nodeset")) {
            g_autoptr(GError) err = NULL;

            g_free(nodeset);
            nodeset = vrt_cpuset_canonical(p->v.s, 1023, &err);
            if (!nodeset) {
                vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "Invalid nodeset of 'numatune': %s", p->v.s);
                return false;
            }
        }
    }
    if (live) {
        /* libvirt's rules: a mode asked for must be the running one; a
         * strict nodeset cannot move; any other nodeset moves only when
         * the domain has no mode or a restrictive one */
        if (!check_controller(obj->drv, def->name, "cpuset", CPUSET_NOT_MOUNTED, error))
            return false;
        if (mode && t->numa_mode && !g_str_equal(mode, t->numa_mode)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "can't change numatune mode for running domain");
            return false;
        }
        if (mode && g_str_equal(mode, "strict")) {
            if (g_strcmp0(nodeset, t->numa_nodeset) != 0) {
                vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                              "can't change nodeset for strict mode for running domain");
                return false;
            }
        } else if (nodeset) {
            if (t->numa_mode && !g_str_equal(t->numa_mode, "restrictive")) {
                vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                              "change of nodeset for running domain requires restrictive numa mode");
                return false;
            }
            if (!vrt_cgroup_set(obj->drv->cgroups, def->name, NULL, "cpuset.mems", nodeset, error))
                return false;
        }
    }
    if (mode) {
        g_free(t->numa_mode);
        t->numa_mode = g_strdup(mode);
    }
    if (nodeset) {
        g_free(t->numa_nodeset);
        t->numa_nodeset = g_steal_pointer(&nodeset);
        if (!t->numa_mode)
            t->numa_mode = g_strdup("strict");
    }
    if (t->numa_mode && !t->numa_nodeset) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
        return false;
    }
    return true;
}

bool
vrt_qemu_domain_set_numa_params(VrtQemuDriver *drv, const guchar *uuid, GPtrArray *params, guint flags, GError **error)
{
    static const char *const names[] = { "numa_mode", "numa_nodeset", NULL };
    static const int types[] = { VRT_TYPED_PARAM_INT, VRT_TYPED_PARAM_STRING };

    if (!validate(params, names, types, error))
        return false;
    return tune_call(drv, uuid, flags, numa_apply, params, error);
}

/* -- pins -- */

char *
vrt_qemu_domain_get_emulator_pin(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(VrtDomainDef) def = NULL;
    bool live;

    if (!obj || !(def = getter_def(obj, flags, &live, error)))
        return NULL;
    if (def->tune && def->tune->emulatorpin)
        return g_strdup(def->tune->emulatorpin);
    if (def->vcpu_cpuset)
        return g_strdup(def->vcpu_cpuset);
    return all_cpus(drv);
}

static bool
emulatorpin_apply(VrtQemuDom *obj, VrtDomainDef *def, bool live, gpointer data, GError **error)
{
    const char *cpuset = data;
    VrtDomainTuneDef *t = vrt_domain_tune_get(def);

    if (live) {
        g_autoptr(VrtQemuMonitor) mon = dom_monitor(obj, error);
        g_autoptr(GArray) tids = NULL;

        if (!mon || !(tids = vcpu_tids(mon, error)) || !pin_emulator_threads(dom_pid(obj), tids, cpuset, error))
            return false;
    }
    g_free(t->emulatorpin);
    t->emulatorpin = g_strdup(cpuset);
    return true;
}

bool
vrt_qemu_domain_pin_emulator(VrtQemuDriver *drv, const guchar *uuid, const char *cpuset, guint flags, GError **error)
{
    return tune_call(drv, uuid, flags, emulatorpin_apply, (gpointer)cpuset, error);
}

GPtrArray *
vrt_qemu_domain_get_vcpu_pins(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    bool live;

    if (!obj || !(def = getter_def(obj, flags, &live, error)))
        return NULL;
    for (guint i = 0; i < def->vcpus; i++) {
        const char *pin = vrt_domain_tune_vcpupin(def->tune, i);
        if (!pin)
            pin = def->vcpu_cpuset;
        g_ptr_array_add(out, pin ? g_strdup(pin) : all_cpus(drv));
    }
    return g_steal_pointer(&out);
}

typedef struct {
    guint vcpu;
    const char *cpuset;
} VcpuPin;

static bool
vcpupin_apply(VrtQemuDom *obj, VrtDomainDef *def, bool live, gpointer data, GError **error)
{
    VcpuPin *pin = data;
    guint count = live ? (def->current_vcpus ? def->current_vcpus : def->vcpus) : def->vcpus;

    if (pin->vcpu >= count) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "vcpu %u is out of range of %s cpu count %u", pin->vcpu,
                      live ? "live" : "persistent", count);
        return false;
    }
    if (live) {
        g_autoptr(VrtQemuMonitor) mon = dom_monitor(obj, error);
        g_autoptr(GArray) tids = NULL;

        if (!mon || !(tids = vcpu_tids(mon, error)))
            return false;
        if (pin->vcpu >= tids->len || g_array_index(tids, pid_t, pin->vcpu) <= 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "vcpu %u is not online", pin->vcpu);
            return false;
        }
        if (!set_affinity(g_array_index(tids, pid_t, pin->vcpu), pin->cpuset, error))
            return false;
    }
    vrt_domain_tune_set_vcpupin(vrt_domain_tune_get(def), pin->vcpu, pin->cpuset);
    return true;
}

bool
vrt_qemu_domain_pin_vcpu(VrtQemuDriver *drv, const guchar *uuid, guint vcpu, const char *cpuset, guint flags,
                         GError **error)
{
    VcpuPin pin = { vcpu, cpuset };

    return tune_call(drv, uuid, flags, vcpupin_apply, &pin, error);
}
