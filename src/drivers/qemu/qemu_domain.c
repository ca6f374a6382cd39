/*
 * Domain objects of the QEMU driver: reference counting, the state machine
 * (libvirt's states and reasons with their names, changed in one place that
 * logs each transition), the per-domain job, lifecycle events, and the
 * definition and status files on disk.
 */
#include "drivers/qemu/qemu_domain.h"
#include "util/error.h"
#include "util/fileutil.h"
#include "util/xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>
#include <unistd.h>

/* How long a call waits for another call's job on the same domain. */
#define JOB_WAIT_TIMEOUT_S 30
#define CLOCK_TICKS_NS(t) ((guint64)(t) * (1000000000ull / (guint64)sysconf(_SC_CLK_TCK)))

VrtDomainRef *
vrt_domain_ref_new(const char *name, const guchar *uuid, int id)
{
    VrtDomainRef *ref = g_new0(VrtDomainRef, 1);

    ref->name = g_strdup(name);
    memcpy(ref->uuid, uuid, 16);
    ref->id = id;
    return ref;
}

void
vrt_domain_ref_free(VrtDomainRef *ref)
{
    if (!ref)
        return;
    g_free(ref->name);
    g_free(ref);
}

VrtQemuDom *
vrt_qemu_dom_new(VrtQemuDriver *drv, VrtDomainDef *def)
{
    VrtQemuDom *obj = g_new0(VrtQemuDom, 1);

    obj->refs = 1;
    g_mutex_init(&obj->lock);
    g_cond_init(&obj->cond);
    obj->drv = drv;
    obj->def = def;
    obj->def->id = -1;
    obj->state = VRT_DOMAIN_SHUTOFF;
    obj->reason = VRT_DOMAIN_SHUTOFF_UNKNOWN;
    obj->unplug_pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    obj->unplug_done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    obj->hostdevs = vrt_qemu_hostdev_state_new();
    g_queue_init(&obj->events);
    return obj;
}

VrtQemuDom *
vrt_qemu_dom_ref(VrtQemuDom *obj)
{
    g_atomic_int_inc(&obj->refs);
    return obj;
}

void
vrt_qemu_dom_unref(VrtQemuDom *obj)
{
    if (!obj || !g_atomic_int_dec_and_test(&obj->refs))
        return;
    if (obj->mon) {
        vrt_qemu_monitor_close(obj->mon);
        vrt_qemu_monitor_unref(obj->mon);
    }
    vrt_domain_def_free(obj->def);
    vrt_domain_def_free(obj->newdef);
    g_free(obj->monitor_path);
    g_hash_table_unref(obj->unplug_pending);
    g_hash_table_unref(obj->unplug_done);
    vrt_qemu_hostdev_state_free(obj->hostdevs);
    if (obj->snapshots)
        g_ptr_array_unref(obj->snapshots);
    g_queue_clear_full(&obj->events, vrt_qemu_event_free);
    g_mutex_clear(&obj->lock);
    g_cond_clear(&obj->cond);
    g_free(obj);
}

bool
vrt_qemu_dom_is_active_locked(VrtQemuDom *obj)
{
    return obj->def->id >= 0;
}

VrtDomainRef *
vrt_qemu_dom_make_ref_locked(VrtQemuDom *obj)
{
    return vrt_domain_ref_new(obj->def->name, obj->def->uuid, obj->def->id);
}

VrtDomainRef *
vrt_qemu_dom_make_ref(VrtQemuDom *obj)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    return vrt_qemu_dom_make_ref_locked(obj);
}

/* ---- states ---- */

static const char *const state_names[] = {
    "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended",
};
static const char *const running_reasons[] = {
    "unknown",       "booted", "migrated", "restored",  "from snapshot", "unpaused", "migration canceled",
    "save canceled", "wakeup", "crashed",  "post-copy",
};
static const char *const paused_reasons[] = {
    "unknown",       "user",     "migration", "save",     "dump",        "ioerror",   "watchdog",
    "from snapshot", "shutdown", "snapshot",  "panicked", "starting up", "post-copy", "post-copy failed",
};
static const char *const shutdown_reasons[] = { "unknown", "user" };
static const char *const shutoff_reasons[] = {
    "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot", "daemon",
};
static const char *const crashed_reasons[] = { "unknown", "panicked" };

const char *
vrt_qemu_state_to_string(int state)
{
    if (state < 0 || state >= (int)G_N_ELEMENTS(state_names))
        return "unknown";
    return state_names[state];
}

int
vrt_qemu_state_from_string(const char *str)
{
    for (guint i = 0; str && i < G_N_ELEMENTS(state_names); i++)
        if (g_str_equal(state_names[i], str))
            return i;
    return -1;
}

static const char *const *
reason_table(int state, guint *n)
{
#define TABLE(t)              \
    do {                      \
        *n = G_N_ELEMENTS(t); \
        return t;             \
    } while (0)
    switch (state) {
    case VRT_DOMAIN_RUNNING: TABLE(running_reasons);
    case VRT_DOMAIN_PAUSED: TABLE(paused_reasons);
    case VRT_DOMAIN_SHUTDOWN: TABLE(shutdown_reasons);
    case VRT_DOMAIN_SHUTOFF: TABLE(shutoff_reasons);
    case VRT_DOMAIN_CRASHED: TABLE(crashed_reasons);
    default: *n = 0; return NULL;
    }
#undef TABLE
}

const char *
vrt_qemu_state_reason_to_string(int state, int reason)
{
    guint n;
    const char *const *t = reason_table(state, &n);

    if (!t || reason < 0 || (guint)reason >= n)
        return "unknown";
    return t[reason];
}

int
vrt_qemu_state_reason_from_string(int state, const char *str)
{
    guint n;
    const char *const *t = reason_table(state, &n);

    for (guint i = 0; t && str && i < n; i++)
        if (g_str_equal(t[i], str))
            return i;
    return 0;
}

void
vrt_qemu_dom_set_state_locked(VrtQemuDom *obj, int state, int reason)
{
    if (obj->state != state || obj->reason != reason)
        g_info("domain %s: %s (%s) -> %s (%s)", obj->def->name, vrt_qemu_state_to_string(obj->state),
               vrt_qemu_state_reason_to_string(obj->state, obj->reason), vrt_qemu_state_to_string(state),
               vrt_qemu_state_reason_to_string(state, reason));
    obj->state = state;
    obj->reason = reason;
}

/* ---- jobs ---- */

bool
vrt_qemu_job_begin(VrtQemuJob *job, VrtQemuDom *obj, VrtQemuJobKind kind, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + JOB_WAIT_TIMEOUT_S * G_TIME_SPAN_SECOND;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    bool woke_settler = false;

    while (obj->job != VRT_QEMU_JOB_NONE) {
        /* Its destination may answer only minutes later: a caller is told
         * at once rather than held for the timeout. A stop (a destroy, or
         * QEMU's end) is not refused: the worker, woken here, sees the
         * destroy or QEMU gone and gives the job up. */
        if (obj->job == VRT_QEMU_JOB_MIGRATION_OUT && kind == VRT_QEMU_JOB_STOP) {
            /* Once: two stops waking each other would spin. */
            if (!woke_settler)
                g_cond_broadcast(&obj->cond);
            woke_settler = true;
        } else if (obj->job == VRT_QEMU_JOB_MIGRATION_OUT) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED,
                          "cannot acquire state change lock (held by async=migration out): domain '%s' waits for "
                          "its migration's destination to say where it runs",
                          obj->def->name);
            return false;
        }
        g_debug("domain %s: waiting for job %d to end", obj->def->name, obj->job);
        if (!g_cond_wait_until(&obj->cond, &obj->lock, deadline) && obj->job != VRT_QEMU_JOB_NONE) {
            vrt_error_set(error, VIR_ERR_OPERATION_TIMEOUT, "cannot acquire state change lock for domain '%s'",
                          obj->def->name);
            return false;
        }
    }
    if (obj->removed) {
        char uuid[VRT_UUID_STRING_LEN];

        vrt_uuid_format(obj->def->uuid, uuid);
        vrt_error_set(error, VIR_ERR_NO_DOMAIN, "no domain with matching uuid '%s' (%s)", uuid, obj->def->name);
        return false;
    }
    g_assert(!job->obj);
    obj->job = kind;
    obj->job_owner = g_thread_self();
    job->obj = vrt_qemu_dom_ref(obj);
    return true;
}

/* Marks obj's job ended and wakes its waiters (object lock taken here). */
static void
end_job(VrtQemuDom *obj)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    obj->job = VRT_QEMU_JOB_NONE;
    obj->job_owner = NULL;
    g_cond_broadcast(&obj->cond);
}

void
vrt_qemu_job_end(VrtQemuJob *job)
{
    g_autoptr(VrtQemuDom) obj = g_steal_pointer(&job->obj);

    if (obj)
        end_job(obj);
}

void
vrt_qemu_dom_emit(VrtQemuDom *obj, int event, int detail)
{
    g_autoptr(VrtDomainRef) ref = NULL;

    if (!obj->drv->cfg.lifecycle_event)
        return;
    ref = vrt_qemu_dom_make_ref(obj);
    obj->drv->cfg.lifecycle_event(ref, event, detail, obj->drv->cfg.data);
}

bool
vrt_qemu_dom_affect_flags(VrtQemuDom *obj, guint flags, bool *live, bool *config, GError **error)
{
    bool active, persistent;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        active = vrt_qemu_dom_is_active_locked(obj);
        persistent = obj->persistent;
    }

    *live = flags & VRT_DOMAIN_AFFECT_LIVE;
    *config = flags & VRT_DOMAIN_AFFECT_CONFIG;
    if (!*live && !*config) {
        if (active)
            *live = true;
        else
            *config = true;
    }
    if (*live && !active) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
        return false;
    }
    if (*config && !persistent) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "cannot change persistent config of a transient domain");
        return false;
    }
    return true;
}

/* ---- files ---- */

char *
vrt_qemu_config_path(VrtQemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);

    return g_build_filename(drv->config_dir, file, NULL);
}

char *
vrt_qemu_autostart_path(VrtQemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);

    return g_build_filename(drv->autostart_dir, file, NULL);
}

char *
vrt_qemu_status_path(VrtQemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);

    return g_build_filename(drv->state_dir, file, NULL);
}

bool
vrt_qemu_dom_save_config(VrtQemuDom *obj, const VrtDomainDef *def, GError **error)
{
    g_autofree char *xml = vrt_domain_def_format(def, VRT_DOMAIN_XML_INACTIVE | VRT_DOMAIN_XML_SECURE, error);
    g_autofree char *path = NULL;

    if (!xml)
        return false;
    path = vrt_qemu_config_path(obj->drv, def->name);
    return vrt_state_sync_write(obj->drv->config_sync, path, xml, -1, 0600, error);
}

VrtDomainDef *
vrt_qemu_dom_config_copy(VrtQemuDom *obj, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    return vrt_domain_def_copy(obj->newdef ? obj->newdef : obj->def, error);
}

bool
vrt_qemu_dom_config_install(VrtQemuDom *obj, VrtDomainDef *def, GError **error)
{
    g_autoptr(VrtDomainDef) copy = def;

    if (!vrt_qemu_dom_save_config(obj, copy, error))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        /* Under the job a persistent domain has newdef exactly while active. */
        if (obj->newdef) {
            vrt_domain_def_free(obj->newdef);
            obj->newdef = g_steal_pointer(&copy);
            obj->updated = true;
        } else {
            copy->id = -1;
            vrt_domain_def_free(obj->def);
            obj->def = g_steal_pointer(&copy);
        }
    }
    return true;
}

/* Skips an XML declaration so the document can be embedded. */
static const char *
skip_xml_decl(const char *xml)
{
    if (g_str_has_prefix(xml, "<?xml")) {
        const char *end = strstr(xml, "?>");

        if (end)
            return end + 2;
    }
    return xml;
}

char *
vrt_qemu_status_format(const VrtQemuStatus *st, GError **error)
{
    g_autofree char *xml = vrt_domain_def_format(st->def, VRT_DOMAIN_XML_STATUS | VRT_DOMAIN_XML_SECURE, error);
    g_autoptr(GString) out = NULL;
    g_autofree char *head = NULL;
    g_autofree char *records = NULL;

    if (!xml)
        return NULL;
    out = g_string_new(NULL);
    head = g_markup_printf_escaped("<domstatus state='%s' reason='%s' pid='%d' starttime='%" G_GUINT64_FORMAT
                                   "' starting='%s' fake-reboot='%s' destroying='%s'>\n"
                                   "  <monitor path='%s' type='unix'/>\n",
                                   vrt_qemu_state_to_string(st->state),
                                   vrt_qemu_state_reason_to_string(st->state, st->reason), (int)st->pid, st->starttime,
                                   st->starting ? "yes" : "no", st->fake_reboot ? "yes" : "no",
                                   st->destroying ? "yes" : "no", st->monitor_path ? st->monitor_path : "");
    g_string_append(out, head);
    for (guint i = 0; st->unplug_pending && i < st->unplug_pending->len; i++) {
        g_autofree char *line = g_markup_printf_escaped("  <unplug-pending alias='%s'/>\n",
                                                        (const char *)g_ptr_array_index(st->unplug_pending, i));

        g_string_append(out, line);
    }
    records = vrt_qemu_hostdev_state_format(st->hostdevs);
    g_string_append(out, records);
    g_string_append(out, skip_xml_decl(xml));
    g_string_append(out, "\n</domstatus>\n");
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Formats and writes a status file; the fields not taken from obj are
 * arguments so that a start can record its intent before obj changes. */
static bool
write_status(VrtQemuDom *obj, const VrtDomainDef *def, int state, int reason, pid_t pid, guint64 starttime,
             bool starting, const char *monitor_path, GError **error)
{
    /* A view of obj and the arguments: every pointer is borrowed. */
    VrtQemuStatus view = {
        .def = (VrtDomainDef *)def,
        .pid = pid,
        .starttime = starttime,
        .starting = starting,
        .destroying = obj->destroying,
        .monitor_path = (char *)monitor_path,
        .state = state,
        .reason = reason,
        .fake_reboot = obj->fake_reboot,
        .hostdevs = obj->hostdevs,
    };
    g_autoptr(GPtrArray) unplug = g_ptr_array_new();
    g_autofree char *text = NULL;
    g_autofree char *path = NULL;
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, obj->unplug_pending);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(unplug, key);
    view.unplug_pending = unplug;
    if (!(text = vrt_qemu_status_format(&view, error)))
        return false;
    path = vrt_qemu_status_path(obj->drv, def->name);
    /* Atomic but not flushed: it describes processes that do not outlive a
     * reboot, and a killed daemon finds what the page cache holds. */
    return vrt_file_write_atomic(path, text, strlen(text), 0600, error);
}

bool
vrt_qemu_dom_save_status_locked(VrtQemuDom *obj, GError **error)
{
    g_autoptr(GError) err = NULL;

    if (write_status(obj, obj->def, obj->state, obj->reason, obj->pid, obj->starttime, obj->starting, obj->monitor_path,
                     &err))
        return true;
    /* Logged here, so that no caller can drop it silently. */
    g_warning("domain %s: cannot save its status: %s", obj->def->name, err->message);
    g_propagate_error(error, g_steal_pointer(&err));
    return false;
}

bool
vrt_qemu_dom_save_start_status_locked(VrtQemuDom *obj, const VrtDomainDef *def, pid_t pid, guint64 starttime,
                                      const char *monitor_path, GError **error)
{
    g_autoptr(GError) err = NULL;

    if (write_status(obj, def, VRT_DOMAIN_PAUSED, VRT_DOMAIN_PAUSED_STARTING_UP, pid, starttime, true, monitor_path,
                     &err))
        return true;
    g_warning("domain %s: cannot record its start: %s", def->name, err->message);
    g_propagate_error(error, g_steal_pointer(&err));
    return false;
}

void
vrt_qemu_status_free(VrtQemuStatus *st)
{
    if (!st)
        return;
    vrt_domain_def_free(st->def);
    g_free(st->monitor_path);
    if (st->unplug_pending)
        g_ptr_array_unref(st->unplug_pending);
    vrt_qemu_hostdev_state_free(st->hostdevs);
    g_free(st);
}

VrtQemuStatus *
vrt_qemu_status_read(const char *path, GError **error)
{
    g_autofree char *text = NULL;

    if (!vrt_file_read(path, &text, NULL, error))
        return NULL;
    return vrt_qemu_status_parse(text, path, error);
}

VrtQemuStatus *
vrt_qemu_status_parse(const char *text, const char *path, GError **error)
{
    g_autoptr(VrtQemuStatus) st = g_new0(VrtQemuStatus, 1);
    g_autofree char *state = NULL, *reason = NULL, *pid = NULL, *fake = NULL, *starttime = NULL, *starting = NULL;
    g_autofree char *destroying = NULL;
    xmlDocPtr doc;
    xmlNodePtr root;
    bool ok = false;

    doc = vrt_xml_read(text, path, "domstatus", NULL, NULL);
    if (!doc) {
        vrt_error_set(error, VIR_ERR_PARSE_FAILED, "%s: not a domain status document", path);
        goto out;
    }
    root = xmlDocGetRootElement(doc);
    state = vrt_xml_prop(root, "state");
    reason = vrt_xml_prop(root, "reason");
    pid = vrt_xml_prop(root, "pid");
    fake = vrt_xml_prop(root, "fake-reboot");
    starttime = vrt_xml_prop(root, "starttime");
    starting = vrt_xml_prop(root, "starting");
    destroying = vrt_xml_prop(root, "destroying");
    st->state = vrt_qemu_state_from_string(state);
    st->reason = vrt_qemu_state_reason_from_string(st->state, reason);
    /* Whole numbers in range or nothing: a pid read as another number is
     * a process vrtd would signal as its QEMU. */
    if (pid) {
        gint64 n;

        if (!g_ascii_string_to_signed(pid, 10, 1, G_MAXINT32, &n, NULL)) {
            vrt_error_set(error, VIR_ERR_PARSE_FAILED, "%s: invalid pid '%s'", path, pid);
            goto out;
        }
        st->pid = (pid_t)n;
    }
    if (starttime && !g_ascii_string_to_unsigned(starttime, 10, 0, G_MAXUINT64, &st->starttime, NULL)) {
        vrt_error_set(error, VIR_ERR_PARSE_FAILED, "%s: invalid start time '%s'", path, starttime);
        goto out;
    }
    st->fake_reboot = g_strcmp0(fake, "yes") == 0;
    st->starting = g_strcmp0(starting, "yes") == 0;
    st->destroying = g_strcmp0(destroying, "yes") == 0;
    st->unplug_pending = g_ptr_array_new_with_free_func(g_free);
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrEqual(n->name, (const xmlChar *)"monitor")) {
            if (st->monitor_path) {
                vrt_error_set(error, VIR_ERR_PARSE_FAILED, "%s: more than one <monitor>", path);
                goto out;
            }
            st->monitor_path = vrt_xml_prop(n, "path");
        } else if (xmlStrEqual(n->name, (const xmlChar *)"unplug-pending")) {
            char *alias = vrt_xml_prop(n, "alias");

            if (alias)
                g_ptr_array_add(st->unplug_pending, alias);
        } else if (xmlStrEqual(n->name, (const xmlChar *)"hostdev-records")) {
            xmlBufferPtr buf;

            /* vrtd writes one; which of two would be the truth? */
            if (st->hostdevs) {
                vrt_error_set(error, VIR_ERR_PARSE_FAILED, "%s: more than one <hostdev-records>", path);
                goto out;
            }
            buf = xmlBufferCreate();

            xmlNodeDump(buf, doc, n, 0, 0);
            st->hostdevs = vrt_qemu_hostdev_state_parse((const char *)xmlBufferContent(buf), error);
            xmlBufferFree(buf);
            if (!st->hostdevs)
                goto out;
        } else if (xmlStrEqual(n->name, (const xmlChar *)"domain")) {
            xmlBufferPtr buf;

            if (st->def) {
                vrt_error_set(error, VIR_ERR_PARSE_FAILED, "%s: more than one <domain>", path);
                goto out;
            }
            buf = xmlBufferCreate();

            xmlNodeDump(buf, doc, n, 0, 0);
            st->def = vrt_domain_def_parse((const char *)xmlBufferContent(buf), VRT_DOMAIN_XML_STATUS, error);
            xmlBufferFree(buf);
            if (!st->def)
                goto out;
        }
    }
    if (!st->hostdevs)
        st->hostdevs = vrt_qemu_hostdev_state_new();
    if (!st->def || st->state < 0 || st->pid <= 0 || !st->monitor_path || !*st->monitor_path) {
        vrt_error_set(error, VIR_ERR_PARSE_FAILED, "%s: incomplete domain status", path);
        goto out;
    }
    ok = true;
out:
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&st) : NULL;
}

/* User and system time (ns) and resident set (KiB) of a process from its
 * stat file; false when it cannot be read (the process is gone). */
bool
vrt_qemu_proc_stat(const char *statpath, guint64 *user_ns, guint64 *sys_ns, guint64 *rss_kib)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) fields = NULL;
    const char *p;

    if (!g_file_get_contents(statpath, &text, NULL, NULL) || !(p = strrchr(text, ')')))
        return false;
    fields = g_strsplit(p + 2, " ", -1);
    /* After "pid (comm) ": utime is field 14, stime 15, rss (pages) 24. */
    if (g_strv_length(fields) < 22)
        return false;
    *user_ns = CLOCK_TICKS_NS(g_ascii_strtoull(fields[11], NULL, 10));
    *sys_ns = CLOCK_TICKS_NS(g_ascii_strtoull(fields[12], NULL, 10));
    *rss_kib = g_ascii_strtoull(fields[21], NULL, 10) * (guint64)sysconf(_SC_PAGESIZE) / 1024;
    return true;
}

/* CPU time of a process or thread from its stat file (utime + stime);
 * *cpu receives the processor it last ran on when non-NULL. */
guint64
vrt_qemu_proc_cpu_time(const char *statpath, int *cpu)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) fields = NULL;
    const char *p;
    guint64 t;

    if (cpu)
        *cpu = -1;
    if (!g_file_get_contents(statpath, &text, NULL, NULL) || !(p = strrchr(text, ')')))
        return 0;
    fields = g_strsplit(p + 2, " ", -1);
    /* After "pid (comm) ": state is field 3, utime 14, stime 15, processor 39. */
    if (g_strv_length(fields) < 37)
        return 0;
    t = g_ascii_strtoull(fields[11], NULL, 10) + g_ascii_strtoull(fields[12], NULL, 10);
    if (cpu)
        *cpu = (int)g_ascii_strtoll(fields[36], NULL, 10);
    return CLOCK_TICKS_NS(t);
}
