/*
 * Live migration between two vrtd hosts, as libvirt's QEMU driver does it
 * for a client-managed migration of protocol version 3 (see
 * qemu_migration.h for the phases). QEMU moves the state itself over TCP
 * from the source's QMP migrate to the destination's migrate-incoming;
 * vrtd starts the destination's QEMU, watches the transfer, keeps the
 * domain's state and events true on both sides and cleans up afterwards.
 *
 * A migration running on the source is recorded in a table of this file
 * (domain -> its monitor, statistics, cancel request) so that
 * domjobinfo and domjobabort reach it without the domain's job, which the
 * transfer holds throughout (a SUSPEND job: QEMU's STOP and RESUME events
 * during it are this file's to turn into libvirt's migration states).
 */
#include "drivers/qemu/qemu_migration.h"
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_driver_stats.h"
#include "drivers/qemu/qemu_jobinfo.h"
#include "drivers/qemu/qemu_migration_hostdev.h"
#include "drivers/qemu/qemu_migration_settle.h"
#include "host/hostinfo.h"
#include "util/error.h"
#include "util/fileutil.h"
#include "util/uuid.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* How often the transfer's progress is read (query-migrate). */
#define POLL_MS 50
/* How long a destination waits for its incoming state once the source said
 * it was sent. */
#define FINISH_WAIT_MS 60000

/* libvirt's post-copy state reason and event detail. */
#define PAUSED_POSTCOPY 12
#define PAUSED_POSTCOPY_FAILED 13
#define EVENT_SUSPENDED_POSTCOPY 7

/* virDomainJobType and operation, and the job stats flags. */
#define JOB_UNBOUNDED 2
#define JOB_OPERATION_MIGRATION_OUT 5
#define JOB_STATS_COMPLETED 1u

/* What query-migrate last told about a transfer. */
typedef struct {
    gint64 started_us; /* monotonic */
    guint64 elapsed_ms;
    guint64 total, transferred, remaining;
    guint64 constant, normal, normal_bytes, bps, dirty_rate, iteration;
    guint64 downtime, setup_time;
    bool has_downtime;
} MigStats;

typedef struct {
    VrtQemuMonitor *mon; /* ref; NULL once the transfer ended */
    bool cancel; /* domjobabort asked */
    bool running;
    guint flags; /* the running migration's (migrate-postcopy checks POSTCOPY) */
    bool postcopy_asked; /* migrate-start-postcopy went to QEMU */
    bool incoming; /* destination: prepared, not finished yet */
    guint prepare_gen; /* which prepare the incoming mark is (its watchdog's) */
    MigStats stats;
    /* The SR-IOV re-plug (qemu_migration_hostdev.c): the plan
     * (VrtMigrationHostdev*) and, on a destination between prepare and
     * finish, the ports claimed for it; on a source between its unplug and
     * confirm, the VFs the interfaces had (VrtMigrationPort). */
    GPtrArray *plan;
    GArray *ports;
} MigJob;

static char *
job_key(VrtQemuDriver *drv, const guchar *uuid)
{
    char s[VRT_UUID_STRING_LEN];

    vrt_uuid_format(uuid, s);
    return g_strdup_printf("%p:%s", (void *)drv, s);
}

static void
mig_job_free(gpointer p)
{
    MigJob *j = p;

    if (j->mon)
        vrt_qemu_monitor_unref(j->mon);
    if (j->plan)
        g_ptr_array_unref(j->plan);
    if (j->ports)
        g_array_unref(j->ports);
    g_free(j);
}

GHashTable *
vrt_qemu_migration_jobs_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, mig_job_free);
}

void
vrt_qemu_migration_jobs_close(VrtQemuDriver *drv)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);

    drv->mig_closing = true;
    while (drv->prepare_watches)
        g_cond_wait(&drv->mig_cond, &drv->mig_lock);
}

/* The domain's entry, made when missing. mig_lock held. */
static MigJob *
job_get_locked(VrtQemuDriver *drv, const guchar *uuid)
{
    g_autofree char *key = job_key(drv, uuid);
    MigJob *j;

    j = g_hash_table_lookup(drv->mig_jobs, key);
    if (!j) {
        j = g_new0(MigJob, 1);
        g_hash_table_insert(drv->mig_jobs, g_steal_pointer(&key), j);
    }
    return j;
}

/* Keeps the re-plug's plan and ports (taken) with the domain's entry. */
static void
job_set_hostdevs(VrtQemuDriver *drv, const guchar *uuid, GPtrArray *plan, GArray *ports)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);
    MigJob *j = job_get_locked(drv, uuid);

    if (j->plan)
        g_ptr_array_unref(j->plan);
    if (j->ports)
        g_array_unref(j->ports);
    j->plan = plan;
    j->ports = ports;
}

/* Takes them back (both NULL when there are none). */
static void
job_take_hostdevs(VrtQemuDriver *drv, const guchar *uuid, GPtrArray **plan, GArray **ports)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);
    g_autofree char *key = job_key(drv, uuid);
    MigJob *j = g_hash_table_lookup(drv->mig_jobs, key);

    *plan = j ? g_steal_pointer(&j->plan) : NULL;
    *ports = j ? g_steal_pointer(&j->ports) : NULL;
}

/* Source: STATE_DIR/UUID.replug, written before the unplug and removed
 * once the interfaces are back or the migration went through, is the
 * plan (a <qemu-migration> document whose <hostdev-plan> names each
 * interface's own VF) a restarted vrtd plugs back when the guest is still
 * the source's (vrt_qemu_migration_recover). plan NULL removes it. */
static char *
replug_path(VrtQemuDriver *drv, const guchar *uuid)
{
    char s[VRT_UUID_STRING_LEN];
    g_autofree char *name = NULL;

    vrt_uuid_format(uuid, s);
    name = g_strconcat(s, ".replug", NULL);
    return g_build_filename(drv->state_dir, name, NULL);
}

static bool
replug_record(VrtQemuDom *obj, GPtrArray *plan, GError **error)
{
    g_autofree char *path = replug_path(obj->drv, obj->def->uuid);
    VrtMigrationCookie c = { .hostname = (char *)"localhost", .hostdevs = plan };
    g_autofree char *text = NULL;

    if (!plan) {
        if (unlink(path) < 0 && errno != ENOENT)
            g_warning("cannot remove %s: %s", path, g_strerror(errno));
        return true;
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        c.name = obj->def->name;
        memcpy(c.uuid, obj->def->uuid, 16);
        text = vrt_migration_cookie_format(&c);
    }
    return vrt_file_write_atomic(path, text, -1, 0600, error);
}

/* Destination: the ports claimed for a migration that will not finish
 * here go back to their pools. */
static void
release_claims(VrtQemuDriver *drv, const guchar *uuid)
{
    g_autoptr(GPtrArray) plan = NULL;
    g_autoptr(GArray) ports = NULL;

    job_take_hostdevs(drv, uuid, &plan, &ports);
    vrt_qemu_migration_hostdev_release(drv, plan, ports);
}

/* The plan of the replug record of uuid (its interfaces with the VFs
 * they had here), or NULL when there is none. */
static GPtrArray *
replug_read(VrtQemuDriver *drv, const guchar *uuid)
{
    g_autofree char *path = replug_path(drv, uuid);
    g_autofree char *text = NULL;
    g_autoptr(VrtMigrationCookie) c = NULL;
    g_autoptr(GError) err = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    if (!(c = vrt_migration_cookie_parse(text, strlen(text), NULL, &err))) {
        g_warning("%s: %s", path, err->message);
        return NULL;
    }
    return g_steal_pointer(&c->hostdevs);
}

/* Source: a migration that did not go through plugs the interfaces it
 * unplugged back (domain job held): the plan kept since the unplug, or
 * after a restart the one recorded before it. */
static void
replug_source(VrtQemuDom *obj)
{
    g_autoptr(GPtrArray) plan = NULL;
    g_autoptr(GArray) vfs = NULL;

    job_take_hostdevs(obj->drv, obj->def->uuid, &plan, &vfs);
    if (!plan && (plan = replug_read(obj->drv, obj->def->uuid)))
        vfs = vrt_qemu_migration_hostdev_source_vfs(plan);
    if (plan) {
        vrt_qemu_migration_hostdev_replug(obj, plan, vfs);
        replug_record(obj, NULL, NULL);
    }
}

/* ---- the phase a restart must know ---- */

/* What a vrtd killed in the middle of a migration finds at its restart:
 * STATE_DIR/UUID.migration says the domain's QEMU is an incoming one not
 * finished yet ("incoming"), or an outgoing one whose transfer was
 * started ("perform") or whose transfer completed, the guest paused for
 * the destination ("performed"). Written before the step it guards,
 * removed once the phase is over. */
#define PHASE_INCOMING "incoming"
#define PHASE_PERFORM "perform"
#define PHASE_PERFORMED "performed"

static char *
phase_path(VrtQemuDriver *drv, const guchar *uuid)
{
    char s[VRT_UUID_STRING_LEN];
    g_autofree char *name = NULL;

    vrt_uuid_format(uuid, s);
    name = g_strconcat(s, ".migration", NULL);
    return g_build_filename(drv->state_dir, name, NULL);
}

/* A phase with what its recovery needs: the "performed" of a source that
 * knows its destination's daemon (a peer-to-peer one, or a client-managed
 * one whose destination named it in its cookie) is followed by a line
 * with the migration's flags (hex) and one with that daemon's URI, which
 * a restart asks where the guest runs (qemu_migration_settle.c). */
static void
phase_set_peer(VrtQemuDriver *drv, const guchar *uuid, const char *phase, const char *peer_uri, guint flags)
{
    g_autofree char *path = phase_path(drv, uuid);
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;

    if (!phase) {
        if (unlink(path) < 0 && errno != ENOENT)
            g_warning("cannot remove %s: %s", path, g_strerror(errno));
        return;
    }
    text = peer_uri ? g_strdup_printf("%s\n%x\n%s\n", phase, flags, peer_uri) : g_strdup(phase);
    if (!vrt_file_write_atomic(path, text, -1, 0600, &err))
        g_warning("migration phase %s not recorded: %s", phase, err->message);
}

static void
phase_set(VrtQemuDriver *drv, const guchar *uuid, const char *phase)
{
    phase_set_peer(drv, uuid, phase, NULL, 0);
}

void
vrt_qemu_migration_phase_clear(VrtQemuDriver *drv, const guchar *uuid)
{
    g_autofree char *path = replug_path(drv, uuid);

    phase_set(drv, uuid, NULL);
    /* The interfaces went with the QEMU that had them unplugged. */
    if (unlink(path) < 0 && errno != ENOENT)
        g_warning("cannot remove %s: %s", path, g_strerror(errno));
}

/* ---- host facts ---- */

void
vrt_qemu_migration_host_uuid(VrtQemuDriver *drv, guchar uuid[16])
{
    if (drv->cfg.host_uuid && vrt_uuid_parse(drv->cfg.host_uuid, uuid))
        return;
    if (drv->cfg.host && vrt_host_uuid(drv->cfg.host, uuid))
        return;
    memcpy(uuid, drv->random_host_uuid, 16);
}

static const char *
host_name(VrtQemuDriver *drv)
{
    return drv->cfg.migration_host && *drv->cfg.migration_host ? drv->cfg.migration_host : g_get_host_name();
}

/* ---- helpers ---- */

static bool
check_flags(guint flags, GError **error)
{
    if (flags & VRT_MIGRATE_PEER2PEER) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s", "peer-to-peer migration is not supported by vrt yet");
        return false;
    }
    if (flags & VRT_MIGRATE_POSTCOPY_RESUME) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                      "vrt does not recover a failed post-copy migration (VIR_MIGRATE_POSTCOPY_RESUME): the domain "
                      "stays paused at its source, its destination's copy is to be destroyed");
        return false;
    }
    if (flags & ~VRT_MIGRATE_SUPPORTED) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "migration flags 0x%x are not supported by vrt",
                      flags & ~VRT_MIGRATE_SUPPORTED);
        return false;
    }
    if ((flags & VRT_MIGRATE_OFFLINE) && !(flags & VRT_MIGRATE_PERSIST_DEST)) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                      "offline migration must be specified with the persistent flag set");
        return false;
    }
    /* QEMU's multifd channels and TLS session are its own TCP connections:
     * a tunnel is one byte stream (libvirt refuses both too). */
    if ((flags & VRT_MIGRATE_TUNNELLED) && (flags & (VRT_MIGRATE_PARALLEL | VRT_MIGRATE_TLS))) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                      (flags & VRT_MIGRATE_PARALLEL) ? "Parallel migration is not supported with tunnelled migration"
                                                     : "TLS migration is not supported with tunnelled migration");
        return false;
    }
    return true;
}

/* The compression QEMU is told of for COMPRESSED, as libvirt maps it:
 * xbzrle (the default) and mt are capabilities, zlib and zstd compress
 * multifd channels and need PARALLEL. */
static bool
compression_method(const VrtMigrateParams *p, guint flags, const char **cap, const char **multifd, GError **error)
{
    const char *m = p->compression;

    *cap = *multifd = NULL;
    if (!(flags & VRT_MIGRATE_COMPRESSED) && !m)
        return true;
    if (!m || g_str_equal(m, "xbzrle"))
        *cap = "xbzrle";
    else if (g_str_equal(m, "mt"))
        *cap = "compress";
    else if (g_str_equal(m, "zlib") || g_str_equal(m, "zstd"))
        *multifd = m;
    else {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "Unsupported compression method '%s'", m);
        return false;
    }
    if (*multifd && !(flags & VRT_MIGRATE_PARALLEL)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "Compression method '%s' is only supported with parallel migration",
                      m);
        return false;
    }
    return true;
}

/* A reference to the monitor of the running domain obj, or NULL with
 * "domain is not running". */
static VrtQemuMonitor *
running_monitor(VrtQemuDom *obj, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    if (!vrt_qemu_dom_is_active_locked(obj) || !obj->mon) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "domain is not running");
        return NULL;
    }
    return vrt_qemu_monitor_ref(obj->mon);
}

static void
set_state(VrtQemuDom *obj, int state, int reason)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    vrt_qemu_dom_set_state_locked(obj, state, reason);
    /* The running state is not part of what a restart needs: a failed
     * write is logged by the writer. */
    vrt_qemu_dom_save_status_locked(obj, NULL);
}

static int
dom_state(VrtQemuDom *obj)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    return obj->state;
}

static guint64
member_u64(JsonObject *o, const char *name)
{
    if (!o || !json_object_has_member(o, name))
        return 0;
    return (guint64)json_object_get_int_member(o, name);
}

/* query-migrate: QEMU's status ("active", "completed", ...) and, when st is
 * given, its figures. */
static char *
query_migrate(VrtQemuMonitor *mon, MigStats *st, char **error_desc, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_monitor_command(mon, "query-migrate", NULL, 0, error);
    JsonObject *o, *ram;

    if (!ret)
        return NULL;
    o = JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    if (!o || !json_object_has_member(o, "status"))
        return g_strdup("none");
    if (error_desc && json_object_has_member(o, "error-desc"))
        *error_desc = g_strdup(json_object_get_string_member(o, "error-desc"));
    if (st) {
        ram = json_object_has_member(o, "ram") ? json_object_get_object_member(o, "ram") : NULL;
        st->total = member_u64(ram, "total");
        st->transferred = member_u64(ram, "transferred");
        st->remaining = member_u64(ram, "remaining");
        st->constant = member_u64(ram, "duplicate");
        st->normal = member_u64(ram, "normal");
        st->normal_bytes = member_u64(ram, "normal-bytes");
        st->bps = (guint64)(ram && json_object_has_member(ram, "mbps")
                                ? json_object_get_double_member(ram, "mbps") * 1000 * 1000 / 8
                                : 0);
        st->dirty_rate = member_u64(ram, "dirty-pages-rate");
        st->iteration = member_u64(ram, "dirty-sync-count");
        st->setup_time = member_u64(o, "setup-time");
        if (json_object_has_member(o, "downtime")) {
            st->downtime = member_u64(o, "downtime");
            st->has_downtime = true;
        }
    }
    return g_strdup(json_object_get_string_member(o, "status"));
}

static bool
set_parameter(VrtQemuMonitor *mon, const char *name, gint64 value, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) ret = NULL;

    json_object_set_int_member(args, name, value);
    ret = vrt_qemu_monitor_command(mon, "migrate-set-parameters", args, 0, error);
    return ret != NULL;
}

static bool
get_parameter(VrtQemuMonitor *mon, const char *name, guint64 *value, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_monitor_command(mon, "query-migrate-parameters", NULL, 0, error);
    JsonObject *o;

    if (!ret)
        return false;
    o = JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    if (!o || !json_object_has_member(o, name)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "QEMU did not report the migration parameter %s", name);
        return false;
    }
    *value = (guint64)json_object_get_int_member(o, name);
    return true;
}

/* The id of QEMU's migration TLS credentials object (libvirt's name). */
#define TLS_OBJECT "objlibvirt_migrate_tls0"

static bool
set_string_parameter(VrtQemuMonitor *mon, const char *name, const char *value, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) ret = NULL;

    json_object_set_string_member(args, name, value);
    ret = vrt_qemu_monitor_command(mon, "migrate-set-parameters", args, 0, error);
    return ret != NULL;
}

/* The directory of the migration's x509 certificates: qemu.conf's
 * migrate_tls_x509_cert_dir, by default libvirt's /etc/pki/qemu under the
 * root. */
static char *
tls_dir(VrtQemuDriver *drv)
{
    if (drv->cfg.migrate_tls_x509_cert_dir && *drv->cfg.migrate_tls_x509_cert_dir)
        return g_strdup(drv->cfg.migrate_tls_x509_cert_dir);
    return g_build_filename(drv->root && *drv->root ? drv->root : "/", "etc/pki/qemu", NULL);
}

/* Tells QEMU (before migrate on the source, before migrate-incoming on the
 * destination) the capabilities and parameters the flags ask for: XBZRLE or
 * multifd compression, multifd channels, post-copy, auto-converge (source
 * only) and TLS credentials (tls_host: the name the source checks the
 * destination's certificate against). Each side needs the same capabilities
 * or QEMU refuses the stream. */
static bool
migration_setup(VrtQemuDriver *drv, VrtQemuMonitor *mon, const VrtMigrateParams *p, guint flags, bool source,
                const char *tls_host, GError **error)
{
    g_autoptr(JsonArray) caps = json_array_new();
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    const char *cap = NULL;
    const char *multifd = NULL;

    if (!compression_method(p, flags, &cap, &multifd, error))
        return false;
    /* Every capability vrt manages is set, off ones too: a QEMU that came
     * in by migration keeps what its own incoming migration turned on, and
     * both sides must agree. */
    const struct {
        const char *name;
        bool on;
    } want[] = {
        { "xbzrle", g_strcmp0(cap, "xbzrle") == 0 },
        { "compress", g_strcmp0(cap, "compress") == 0 },
        { "multifd", (flags & VRT_MIGRATE_PARALLEL) != 0 },
        { "postcopy-ram", (flags & VRT_MIGRATE_POSTCOPY) != 0 },
        { "auto-converge", source && (flags & VRT_MIGRATE_AUTO_CONVERGE) },
    };
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        JsonObject *c = json_object_new();

        json_object_set_string_member(c, "capability", want[i].name);
        json_object_set_boolean_member(c, "state", want[i].on);
        json_array_add_object_element(caps, c);
    }
    json_object_set_array_member(args, "capabilities", json_array_ref(caps));
    if (!(ret = vrt_qemu_monitor_command(mon, "migrate-set-capabilities", args, 0, error)))
        return false;
    if ((flags & VRT_MIGRATE_PARALLEL) && p->parallel_connections &&
        !set_parameter(mon, "multifd-channels", p->parallel_connections, error))
        return false;
    if ((flags & VRT_MIGRATE_PARALLEL) &&
        !set_string_parameter(mon, "multifd-compression", multifd ? multifd : "none", error))
        return false;
    /* Without --tls QEMU's stream is plain, whatever an earlier migration
     * of this QEMU set. */
    if (!(flags & VRT_MIGRATE_TLS) && !set_string_parameter(mon, "tls-creds", "", error))
        return false;
    if (flags & VRT_MIGRATE_TLS) {
        g_autofree char *dir = tls_dir(drv);
        g_autofree char *ca = g_build_filename(dir, "ca-cert.pem", NULL);
        g_autoptr(JsonObject) del = json_object_new();
        g_autoptr(JsonNode) dret = NULL;
        g_autoptr(JsonObject) obj = json_object_new();
        g_autoptr(JsonNode) oret = NULL;

        if (!g_file_test(ca, G_FILE_TEST_EXISTS)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "Migration TLS is not configured: no %s", ca);
            return false;
        }
        /* A QEMU that migrated before (a failed attempt) has the object. */
        json_object_set_string_member(del, "id", TLS_OBJECT);
        dret = vrt_qemu_monitor_command(mon, "object-del", del, 0, NULL);
        json_object_set_string_member(obj, "qom-type", "tls-creds-x509");
        json_object_set_string_member(obj, "id", TLS_OBJECT);
        json_object_set_string_member(obj, "dir", dir);
        json_object_set_string_member(obj, "endpoint", source ? "client" : "server");
        json_object_set_boolean_member(obj, "verify-peer", TRUE);
        if (!(oret = vrt_qemu_monitor_command(mon, "object-add", obj, 0, error)) ||
            !set_string_parameter(mon, "tls-creds", TLS_OBJECT, error))
            return false;
        if (source && tls_host && !set_string_parameter(mon, "tls-hostname", tls_host, error))
            return false;
    }
    return true;
}

/* ---- begin (source) ---- */

/* The definition --persistent leaves at the destination (the cookie's
 * <persistent>): the persistent_xml parameter, else the domain's inactive
 * definition, else (a transient domain) its live XML, live_xml or the
 * domain's own. */
static char *
persistent_definition(VrtQemuDriver *drv, const guchar *uuid, const VrtMigrateParams *p, const char *live_xml,
                      GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;
    bool persistent;

    if (p->persist_xml)
        return g_strdup(p->persist_xml);
    if (!(obj = vrt_qemu_driver_find(drv, uuid, error)))
        return NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        persistent = obj->persistent;
    }
    if (persistent)
        return vrt_qemu_domain_get_xml(drv, uuid, VRT_DOMAIN_XML_FLAG_SECURE | VRT_DOMAIN_XML_FLAG_INACTIVE, error);
    if (live_xml)
        return g_strdup(live_xml);
    if (p->dxml)
        return g_strdup(p->dxml);
    return vrt_qemu_domain_get_xml(drv, uuid, VRT_DOMAIN_XML_FLAG_SECURE, error);
}

char *
vrt_qemu_migrate_begin(VrtQemuDriver *drv, const guchar *uuid, const VrtMigrateParams *p, guint flags,
                       char **cookie_out, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(VrtMigrationCookie) c = g_new0(VrtMigrationCookie, 1);
    g_autofree char *xml = NULL;
    bool active, persistent;

    if (!obj || !check_flags(flags, error))
        return NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        active = vrt_qemu_dom_is_active_locked(obj);
        persistent = obj->persistent;
        c->name = g_strdup(obj->def->name);
        memcpy(c->uuid, obj->def->uuid, 16);
    }
    if (!active && !(flags & VRT_MIGRATE_OFFLINE)) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "domain is not running");
        return NULL;
    }
    if ((flags & VRT_MIGRATE_OFFLINE) && !persistent) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "cannot migrate a transient domain offline");
        return NULL;
    }
    if (p->dxml)
        xml = g_strdup(p->dxml);
    else if (!(xml = vrt_qemu_domain_get_xml(drv, uuid, VRT_DOMAIN_XML_FLAG_SECURE, error)))
        return NULL;
    c->hostname = g_strdup(g_get_host_name());
    vrt_qemu_migration_host_uuid(drv, c->hostuuid);
    if ((flags & VRT_MIGRATE_PERSIST_DEST) && !(c->persistent_xml = persistent_definition(drv, uuid, p, xml, error)))
        return NULL;
    /* The SR-IOV interfaces the destination is to claim VFs for. */
    if (!(flags & VRT_MIGRATE_OFFLINE) && !vrt_qemu_migration_hostdev_plan(obj, &c->hostdevs, error))
        return NULL;
    *cookie_out = vrt_migration_cookie_format(c);
    return g_steal_pointer(&xml);
}

/* ---- prepare (destination) ---- */

/* A definition's text with its name replaced by dname (NULL: as it is). */
static char *
renamed_xml(const char *xml, const char *dname, GError **error)
{
    g_autoptr(VrtDomainDef) def = NULL;

    if (!dname)
        return g_strdup(xml);
    if (!(def = vrt_domain_def_parse(xml, 0, error)))
        return NULL;
    g_free(def->name);
    def->name = g_strdup(dname);
    return vrt_domain_def_format(def, VRT_DOMAIN_XML_FLAG_SECURE, error);
}

/* Whether port on addr can be bound now (QEMU binds it right after). */
static bool
port_free(const char *addr, guint port)
{
    struct sockaddr_storage ss = { 0 };
    socklen_t len;
    int fd, one = 1;
    bool ok;

    if (strchr(addr, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
            return false;
        len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
            return false;
        len = sizeof(*s4);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
    close(fd);
    return ok;
}

/* The port of a "tcp:HOST:PORT" or "tcp://HOST:PORT" URI; 0 when none. */
static guint
uri_port(const char *uri)
{
    const char *colon = uri ? strrchr(uri, ':') : NULL;
    guint64 port;

    if (!colon || colon[1] == '/' || !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL))
        return 0;
    return (guint)port;
}

/* The host of such a URI (without the brackets of an IPv6 address). */
static char *
uri_host(const char *uri)
{
    const char *h;
    const char *end;

    if (!uri || !g_str_has_prefix(uri, "tcp:"))
        return NULL;
    h = uri + 4;
    if (g_str_has_prefix(h, "//"))
        h += 2;
    if (*h == '[') {
        end = strchr(h, ']');
        return end ? g_strndup(h + 1, end - h - 1) : NULL;
    }
    end = strchr(h, ':');
    return end ? g_strndup(h, end - h) : g_strdup(h);
}

static void prepare_watch(VrtQemuDriver *drv, const guchar *uuid, guint gen);

/* Destination's prepare, direct (fd NULL: QEMU listens on a TCP port,
 * *uri_out tells the source where) or tunnelled (QEMU reads a socket whose
 * other end goes to *fd). */
static bool
prepare(VrtQemuDriver *drv, const VrtMigrateParams *p, const char *cookie_in, gsize cookie_len, guint flags,
        char **cookie_out, char **uri_out, int *fd, guchar uuid[16], GError **error)
{
    guchar local[16];
    g_autoptr(VrtMigrationCookie) c = NULL;
    g_autoptr(VrtMigrationCookie) out = g_new0(VrtMigrationCookie, 1);
    g_autoptr(VrtDomainRef) ref = NULL;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(JsonObject) args = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *listen = NULL;
    g_autofree char *uri_host_part = NULL;
    g_autofree char *incoming = NULL;
    guint port = 0;
    int pair[2] = { -1, -1 };
    const char *cap, *multifd;
    g_autoptr(GArray) claims = NULL;

    if (!check_flags(flags, error) || !compression_method(p, flags, &cap, &multifd, error))
        return false;
    if (!fd && (flags & VRT_MIGRATE_TUNNELLED)) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                      "tunnelled migration goes through DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS");
        return false;
    }
    vrt_qemu_migration_host_uuid(drv, local);
    if (!(c = vrt_migration_cookie_parse(cookie_in, cookie_len, local, error)))
        return false;
    if (!p->dxml) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "no domain XML passed");
        return false;
    }
    out->name = g_strdup(p->dname ? p->dname : c->name);
    memcpy(out->uuid, c->uuid, 16);
    out->hostname = g_strdup(g_get_host_name());
    memcpy(out->hostuuid, local, 16);
    out->daemon_uri = g_strdup(p->daemon_uri);
    if (flags & VRT_MIGRATE_OFFLINE) {
        /* Only the definition moves: finish defines it. libvirt's client
         * wants a URI all the same; nothing connects to it. */
        if (fd) {
            vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s", "offline migration cannot be tunnelled");
            return false;
        }
        memcpy(uuid, c->uuid, 16);
        *cookie_out = vrt_migration_cookie_format(out);
        *uri_out = g_strdup_printf("tcp:%s", host_name(drv));
        return true;
    }
    if (!(xml = renamed_xml(p->dxml, p->dname, error)))
        return false;
    /* SR-IOV interfaces: the incoming QEMU starts without them (the
     * source's QEMU unplugs them before it sends its state) and a VF of
     * each one's network (a fixed VF: the one of the same address) is
     * claimed now; none free fails the migration before anything moved. */
    if (c->hostdevs && c->hostdevs->len) {
        g_autofree char *stripped = vrt_qemu_migration_hostdev_strip(xml, c->hostdevs, error);

        if (!stripped || !(claims = vrt_qemu_migration_hostdev_claim(drv, out->name, c->uuid, c->hostdevs, error)))
            return false;
        g_free(xml);
        xml = g_steal_pointer(&stripped);
    }

    if (fd) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
            vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "cannot create a socket pair: %s", g_strerror(errno));
            vrt_qemu_migration_hostdev_release(drv, c->hostdevs, claims);
            return false;
        }
        incoming = g_strdup("fd:migrate-in");
    } else {
        /* Where QEMU listens and what the source is told. */
        if (p->listen_address)
            listen = g_strdup(p->listen_address);
        else if (drv->cfg.migration_address && *drv->cfg.migration_address)
            listen = g_strdup(drv->cfg.migration_address);
        else
            listen = g_strdup("0.0.0.0");
        port = uri_port(p->uri);
        if (!port) {
            guint lo = drv->cfg.migration_port_min ? drv->cfg.migration_port_min : 49152;
            guint hi = drv->cfg.migration_port_max ? drv->cfg.migration_port_max : 49215;

            for (guint i = lo; i <= hi && !port; i++)
                if (port_free(listen, i))
                    port = i;
            if (!port) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                              "Unable to find an unused port in range 'migration' (%u-%u)", lo, hi);
                vrt_qemu_migration_hostdev_release(drv, c->hostdevs, claims);
                return false;
            }
        }
        uri_host_part = uri_host(p->uri);
        incoming = strchr(listen, ':') ? g_strdup_printf("tcp:[%s]:%u", listen, port)
                                       : g_strdup_printf("tcp:%s:%u", listen, port);
    }

    if (!(ref = vrt_qemu_domain_create_xml(drv, xml, VRT_QEMU_START_INCOMING, error)) ||
        !(obj = vrt_qemu_driver_find(drv, ref->uuid, error))) {
        if (pair[0] >= 0) {
            close(pair[0]);
            close(pair[1]);
        }
        vrt_qemu_migration_hostdev_release(drv, c->hostdevs, claims);
        return false;
    }
    if ((mon = running_monitor(obj, error)) && migration_setup(drv, mon, p, flags, false, NULL, error) &&
        (pair[1] < 0 || vrt_qemu_monitor_getfd(mon, "migrate-in", pair[1], error))) {
        args = json_object_new();
        json_object_set_string_member(args, "uri", incoming);
        ret = vrt_qemu_monitor_command(mon, "migrate-incoming", args, 0, error);
    }
    if (pair[1] >= 0)
        close(pair[1]); /* QEMU has its copy */
    if (!ret) {
        g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;

        if (pair[0] >= 0)
            close(pair[0]);
        vrt_qemu_process_destroy_kill(obj);
        if (vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_STOP, NULL))
            vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_FAILED, VRT_DOMAIN_EVENT_STOPPED_FAILED);
        vrt_qemu_migration_hostdev_release(drv, c->hostdevs, claims);
        return false;
    }
    g_debug("domain %s: incoming migration on %s", ref->name, incoming);
    if (claims)
        job_set_hostdevs(drv, ref->uuid, g_steal_pointer(&c->hostdevs), g_steal_pointer(&claims));
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);
        MigJob *j = job_get_locked(drv, ref->uuid);

        j->incoming = true;
        prepare_watch(drv, ref->uuid, ++j->prepare_gen);
    }
    phase_set(drv, ref->uuid, PHASE_INCOMING);
    vrt_qemu_fault(drv, "migrate", "prepared");
    memcpy(uuid, ref->uuid, 16);
    if (fd) {
        *fd = pair[0];
    } else {
        const char *h = uri_host_part ? uri_host_part : host_name(drv);

        *uri_out = strchr(h, ':') ? g_strdup_printf("tcp:[%s]:%u", h, port) : g_strdup_printf("tcp:%s:%u", h, port);
    }
    *cookie_out = vrt_migration_cookie_format(out);
    return true;
}

/* ---- the prepare's time bound ---- */

typedef struct {
    VrtQemuDriver *drv;
    guchar uuid[16];
    guint gen;
} PrepareWatch;

/* Whether the incoming mark of uuid is still prepare gen's (no finish, no
 * lost client, no later prepare took it). mig_lock held. */
static bool
prepare_pending_locked(VrtQemuDriver *drv, const guchar *uuid, guint gen)
{
    g_autofree char *key = job_key(drv, uuid);
    MigJob *j = g_hash_table_lookup(drv->mig_jobs, key);

    return j && j->incoming && j->prepare_gen == gen;
}

/* Stops an incoming QEMU that got nothing of its state within the
 * prepare timeout (migration_prepare_timeout); one that is receiving is
 * looked at again a period later, since only the finish may end it. */
static void
prepare_watch_run(PrepareWatch *w)
{
    guint secs = w->drv->cfg.migration_prepare_timeout ? w->drv->cfg.migration_prepare_timeout : 300;

    for (;;) {
        gint64 until = g_get_monotonic_time() + (gint64)secs * G_USEC_PER_SEC;
        g_autoptr(VrtQemuDom) obj = NULL;
        g_autoptr(VrtQemuMonitor) mon = NULL;
        g_autofree char *status = NULL;
        g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;

        while (g_get_monotonic_time() < until) {
            {
                g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->drv->mig_lock);

                if (w->drv->mig_closing || !prepare_pending_locked(w->drv, w->uuid, w->gen))
                    return;
            }
            g_usleep(MIN(500000, MAX(1, until - g_get_monotonic_time())));
        }
        if (!(obj = vrt_qemu_driver_find(w->drv, w->uuid, NULL)))
            return;
        /* "setup": QEMU listens and nothing came; "active" and later: the
         * state is coming. */
        if ((mon = running_monitor(obj, NULL)) && (status = query_migrate(mon, NULL, NULL, NULL)) &&
            !g_str_equal(status, "setup") && !g_str_equal(status, "none"))
            continue;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->drv->mig_lock);
            g_autofree char *key = job_key(w->drv, w->uuid);

            if (!prepare_pending_locked(w->drv, w->uuid, w->gen))
                return;
            /* Taken: a finish or lost client coming now finds nothing. */
            ((MigJob *)g_hash_table_lookup(w->drv->mig_jobs, key))->incoming = false;
        }
        g_warning("domain %s: its incoming migration got no state in %u s; stopping it", obj->def->name, secs);
        phase_set(w->drv, w->uuid, NULL);
        release_claims(w->drv, w->uuid);
        vrt_qemu_process_destroy_kill(obj);
        if (vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_STOP, NULL))
            vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_FAILED, VRT_DOMAIN_EVENT_STOPPED_FAILED);
        return;
    }
}

static gpointer
prepare_watch_thread(gpointer data)
{
    g_autofree PrepareWatch *w = data;

    prepare_watch_run(w);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&w->drv->mig_lock);

        w->drv->prepare_watches--;
        g_cond_broadcast(&w->drv->mig_cond);
    }
    return NULL;
}

/* Starts the watchdog of prepare gen of uuid, counted in
 * drv->prepare_watches until it ends. mig_lock held. */
static void
prepare_watch(VrtQemuDriver *drv, const guchar *uuid, guint gen)
{
    PrepareWatch *w = g_new0(PrepareWatch, 1);

    drv->prepare_watches++;
    w->drv = drv;
    memcpy(w->uuid, uuid, 16);
    w->gen = gen;
    g_thread_unref(g_thread_new("vrt-mig-prepare", prepare_watch_thread, w));
}

bool
vrt_qemu_migrate_prepare(VrtQemuDriver *drv, const VrtMigrateParams *p, const char *cookie_in, gsize cookie_len,
                         guint flags, char **cookie_out, char **uri_out, guchar uuid[16], GError **error)
{
    return prepare(drv, p, cookie_in, cookie_len, flags, cookie_out, uri_out, NULL, uuid, error);
}

bool
vrt_qemu_migrate_prepare_tunnel(VrtQemuDriver *drv, const VrtMigrateParams *p, const char *cookie_in, gsize cookie_len,
                                guint flags, char **cookie_out, int *fd, guchar uuid[16], GError **error)
{
    g_autofree char *uri = NULL;

    *fd = -1;
    return prepare(drv, p, cookie_in, cookie_len, flags, cookie_out, &uri, fd, uuid, error);
}

/* Whether the destination's domain uuid was prepared and not finished;
 * clears the mark (finish, or the abandoned cleanup, takes it). */
static bool
take_incoming(VrtQemuDriver *drv, const guchar *uuid)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);
    g_autofree char *key = job_key(drv, uuid);
    MigJob *j = g_hash_table_lookup(drv->mig_jobs, key);
    bool was = j && j->incoming;

    if (j)
        j->incoming = false;
    return was;
}

void
vrt_qemu_migrate_incoming_abandoned(VrtQemuDriver *drv, const guchar *uuid)
{
    g_autoptr(VrtQemuDom) obj = NULL;
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;

    if (!take_incoming(drv, uuid) || !(obj = vrt_qemu_driver_find(drv, uuid, NULL)))
        return;
    g_message("domain %s: the client of its incoming migration went away; stopping it", obj->def->name);
    /* The incoming phase stays until the QEMU is stopped, as at a
     * cancelled finish: killed before its destroy is recorded, this
     * daemon's restart must still stop the unfinished QEMU, not keep it
     * as a domain paused for a finish that never comes (a peer-to-peer
     * source asking where the guest runs would wait on it). */
    vrt_qemu_fault(drv, "migrate", "abandon");
    vrt_qemu_process_destroy_kill(obj);
    if (vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_STOP, NULL))
        vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_FAILED, VRT_DOMAIN_EVENT_STOPPED_FAILED);
    phase_set(drv, uuid, NULL);
    release_claims(drv, uuid);
}

/* ---- perform (source) ---- */

/* The URI of the destination's daemon a source records with its
 * performed phase: a peer-to-peer source's own, else the one the
 * destination's prepare named in its cookie (a vrtd listening on TLS);
 * NULL when there is none (a libvirt destination, or one without TLS). */
static char *
destination_daemon(const VrtMigrateParams *p, const char *name)
{
    g_autoptr(VrtMigrationCookie) c = NULL;
    g_autoptr(GError) err = NULL;

    if (p->peer_uri)
        return g_strdup(p->peer_uri);
    if (!p->peer_cookie || !p->peer_cookie_len)
        return NULL;
    if (!(c = vrt_migration_cookie_parse(p->peer_cookie, p->peer_cookie_len, NULL, &err))) {
        g_warning("domain %s: the destination's migration cookie is not read: %s", name, err->message);
        return NULL;
    }
    if (c->daemon_uri && !g_str_has_prefix(c->daemon_uri, "qemu+tls://")) {
        g_warning("domain %s: the destination names its daemon '%s', not a qemu+tls URI; not recorded", name,
                  c->daemon_uri);
        return NULL;
    }
    return g_steal_pointer(&c->daemon_uri);
}

static void
job_publish(VrtQemuDriver *drv, const guchar *uuid, const MigStats *st, bool *cancel)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);
    MigJob *j = job_get_locked(drv, uuid);

    j->stats = *st;
    *cancel = j->cancel;
}

static void
job_finish(VrtQemuDriver *drv, const guchar *uuid, const MigStats *st, bool completed)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);
    MigJob *j = job_get_locked(drv, uuid);

    j->running = false;
    g_clear_pointer(&j->mon, vrt_qemu_monitor_unref);
    /* The completed job's figures are QEMU's own (qemu_jobinfo.c), kept
     * at confirm. */
}

/* After a transfer that did not go through: the source runs again, as
 * before it (libvirt's "running, migration canceled" and resumed-migrated). */
static void
resume_source(VrtQemuDom *obj, VrtQemuMonitor *mon)
{
    g_autoptr(GError) err = NULL;
    bool running = true;

    if (!vrt_qemu_monitor_query_status(mon, &running, NULL, &err))
        g_warning("domain %s: cannot query QEMU's state after a migration: %s", obj->def->name, err->message);
    if (!running && !vrt_qemu_monitor_cont(mon, &err)) {
        g_warning("domain %s: cannot resume after a migration: %s", obj->def->name, err->message);
        return;
    }
    if (dom_state(obj) == VRT_DOMAIN_PAUSED) {
        set_state(obj, VRT_DOMAIN_RUNNING, VRT_DOMAIN_RUNNING_MIGRATION_CANCELED);
        vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_RESUMED, VRT_DOMAIN_EVENT_RESUMED_MIGRATED);
    }
}

bool
vrt_qemu_migrate_perform(VrtQemuDriver *drv, const guchar *uuid, const VrtMigrateParams *p, guint flags,
                         char **cookie_out, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(JsonObject) args = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(VrtMigrationCookie) out = g_new0(VrtMigrationCookie, 1);
    g_autofree char *peer = NULL;
    MigStats st = { 0 };
    bool cancel = false;
    bool postcopy = false;
    bool lost = false;
    bool transferring = false;

    if (!obj || !check_flags(flags, error))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        out->name = g_strdup(obj->def->name);
        memcpy(out->uuid, obj->def->uuid, 16);
    }
    out->hostname = g_strdup(g_get_host_name());
    vrt_qemu_migration_host_uuid(drv, out->hostuuid);
    peer = destination_daemon(p, out->name);
    /* As libvirt's perform, the cookie the destination's finish reads
     * carries the definition --persistent defines there: a peer-to-peer
     * source passes finish this cookie and no destination_xml. */
    if ((flags & VRT_MIGRATE_PERSIST_DEST) && !(out->persistent_xml = persistent_definition(drv, uuid, p, NULL, error)))
        return false;
    if (flags & VRT_MIGRATE_OFFLINE) {
        *cookie_out = vrt_migration_cookie_format(out);
        return true;
    }
    if (!p->uri && p->tunnel_fd < 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s", "migration URI is not specified");
        return false;
    }
    if ((flags & VRT_MIGRATE_TUNNELLED) && p->tunnel_fd < 0) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s", "tunnelled migration requires peer-to-peer");
        return false;
    }
    if (!vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_SUSPEND, error) || !(mon = running_monitor(obj, error)))
        return false;
    if (p->bandwidth && !set_parameter(mon, "max-bandwidth", (gint64)(p->bandwidth << 20), error))
        return false;
    {
        g_autofree char *tls_host = p->tunnel_fd < 0 ? uri_host(p->uri) : NULL;

        if (!migration_setup(drv, mon, p, flags, true, tls_host, error))
            return false;
    }
    if (p->tunnel_fd >= 0 && !vrt_qemu_monitor_getfd(mon, "migrate-out", p->tunnel_fd, error))
        return false;
    /* The SR-IOV interfaces leave QEMU through the hostdev job before the
     * transfer (their VFs stay on this host); a migration that does not go
     * through plugs them back (replug_source). */
    {
        g_autoptr(GPtrArray) plan = NULL;
        g_autoptr(GArray) vfs = NULL;

        if (!vrt_qemu_migration_hostdev_plan(obj, &plan, error))
            return false;
        if (plan) {
            if (!replug_record(obj, plan, error))
                return false;
            vrt_qemu_fault(drv, "migrate", "unplug");
            if (!vrt_qemu_migration_hostdev_unplug(obj, plan, &vfs, error)) {
                replug_record(obj, NULL, NULL);
                return false;
            }
            job_set_hostdevs(drv, uuid, g_steal_pointer(&plan), g_steal_pointer(&vfs));
        }
    }

    vrt_qemu_fault(drv, "migrate", "perform");
    phase_set(drv, uuid, PHASE_PERFORM);
    st.started_us = g_get_monotonic_time();
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);
        MigJob *j = job_get_locked(drv, uuid);

        j->running = true;
        j->cancel = false;
        j->postcopy_asked = false;
        j->flags = flags;
        j->stats = st;
        g_clear_pointer(&j->mon, vrt_qemu_monitor_unref);
        j->mon = vrt_qemu_monitor_ref(mon);
    }
    args = json_object_new();
    json_object_set_string_member(args, "uri", p->tunnel_fd >= 0 ? "fd:migrate-out" : p->uri);
    if (!(ret = vrt_qemu_monitor_command(mon, "migrate", args, 0, error))) {
        job_finish(drv, uuid, &st, false);
        replug_source(obj);
        phase_set(drv, uuid, NULL);
        return false;
    }

    for (;;) {
        g_autofree char *status = NULL;
        g_autofree char *desc = NULL;
        g_autoptr(GError) err = NULL;

        g_usleep(POLL_MS * 1000);
        status = query_migrate(mon, &st, &desc, &err);
        st.elapsed_ms = (guint64)((g_get_monotonic_time() - st.started_us) / 1000);
        if (!status) {
            job_finish(drv, uuid, &st, false);
            replug_source(obj);
            phase_set(drv, uuid, NULL);
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "migration out job: %s", err->message);
            return false;
        }
        job_publish(drv, uuid, &st, &cancel);
        if (!transferring) {
            transferring = true;
            vrt_qemu_fault(drv, "migrate", "transfer");
        }
        /* QEMU asked to wait before its switch-over (pause-before-
         * switchover) has stopped the vCPUs there. */
        if (g_str_equal(status, "pre-switchover"))
            vrt_qemu_fault(drv, "migrate", "switchover");
        /* The client that drives the migration went away: nobody will
         * finish it at the destination (whose own close hook stops its
         * QEMU) nor confirm it here, so it is cancelled and the source
         * runs on. Once QEMU switched to post-copy it cannot be. */
        if (!lost && p->client_lost && g_atomic_int_get(p->client_lost) && !g_str_equal(status, "postcopy-active") &&
            !g_str_equal(status, "completed")) {
            g_autoptr(JsonNode) cret = NULL;
            g_autoptr(GError) cerr = NULL;

            lost = true;
            g_message("domain %s: the client of its outgoing migration went away; cancelling it", out->name);
            if (!(cret = vrt_qemu_monitor_command(mon, "migrate_cancel", NULL, 0, &cerr)))
                g_warning("domain %s: migrate_cancel: %s", out->name, cerr->message);
            cancel = true;
        }
        /* A post-copy phase may end between two looks: it was one all the
         * same (the destination ran the guest before the source stopped). */
        if (g_str_equal(status, "completed")) {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);

            postcopy = job_get_locked(drv, uuid)->postcopy_asked;
            break;
        }
        /* Post-copy: the destination runs the guest from here (its finish
         * resumes it) and pulls the pages it still lacks; confirm waits for
         * the end. The source can no longer take the guest back. */
        if (g_str_equal(status, "postcopy-active")) {
            postcopy = true;
            break;
        }
        if (g_str_equal(status, "failed") || g_str_equal(status, "cancelled")) {
            job_finish(drv, uuid, &st, false);
            replug_source(obj);
            resume_source(obj, mon);
            phase_set(drv, uuid, NULL);
            if (cancel || g_str_equal(status, "cancelled"))
                vrt_error_set(error, VIR_ERR_OPERATION_ABORTED, "%s", "migration out job: canceled by client");
            else
                vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "migration out job: %s",
                              desc ? desc : "unexpectedly failed");
            return false;
        }
    }
    /* QEMU stopped the vCPUs for the last round: the source is paused for
     * the migration until confirm stops it (or resumes it). */
    /* The figures go to the destination in the cookie (libvirt's
     * <statistics>): its completed job. */
    out->stats = vrt_qemu_job_query_stats(mon, VRT_DOMAIN_JOB_OPERATION_MIGRATION_OUT, NULL);
    /* From here the destination may run the guest: a restart asks the
     * destination's daemon where it runs when it is known, and otherwise
     * leaves the source paused (libvirt's "we don't know"). */
    phase_set_peer(drv, uuid, PHASE_PERFORMED, peer, flags);
    vrt_qemu_fault(drv, "migrate", "performed");
    if (postcopy) {
        job_finish(drv, uuid, &st, false);
        set_state(obj, VRT_DOMAIN_PAUSED, PAUSED_POSTCOPY);
        vrt_qemu_job_end(&job);
        vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_SUSPENDED, EVENT_SUSPENDED_POSTCOPY);
        *cookie_out = vrt_migration_cookie_format(out);
        return true;
    }
    st.remaining = 0;
    job_finish(drv, uuid, &st, true);
    set_state(obj, VRT_DOMAIN_PAUSED, VRT_DOMAIN_PAUSED_MIGRATION);
    vrt_qemu_job_end(&job);
    vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_SUSPENDED, VRT_DOMAIN_EVENT_SUSPENDED_MIGRATED);
    *cookie_out = vrt_migration_cookie_format(out);
    return true;
}

/* ---- finish (destination) ---- */

/* A reference to the domain named name, or NULL. */
static VrtQemuDom *
find_by_name(VrtQemuDriver *drv, const char *name)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    VrtQemuDom *obj = name ? g_hash_table_lookup(drv->by_name, name) : NULL;

    return obj ? vrt_qemu_dom_ref(obj) : NULL;
}

/* Defines the domain from the cookie's persistent definition (renamed to
 * dname), as --persistent asks. */
static VrtDomainRef *
define_persistent(VrtQemuDriver *drv, const VrtMigrationCookie *c, const VrtMigrateParams *p, GError **error)
{
    g_autofree char *xml = NULL;
    const char *src = p->persist_xml ? p->persist_xml : c ? c->persistent_xml : NULL;

    if (!src)
        src = p->dxml;
    if (!src) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "no persistent definition in the migration cookie");
        return NULL;
    }
    if (!(xml = renamed_xml(src, p->dname, error)))
        return NULL;
    return vrt_qemu_domain_define_xml(drv, xml, 0, error);
}

VrtDomainRef *
vrt_qemu_migrate_finish(VrtQemuDriver *drv, const VrtMigrateParams *p, const char *cookie_in, gsize cookie_len,
                        guint flags, bool cancelled, char **cookie_out, GError **error)
{
    guchar local[16];
    g_autoptr(VrtMigrationCookie) c = NULL;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    gint64 deadline;

    vrt_qemu_migration_host_uuid(drv, local);
    if (flags & VRT_MIGRATE_OFFLINE) {
        /* libvirt's client skips perform and passes no cookie: the
         * definition is the parameters' (prepare checked the host). */
        if (cancelled) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "migration failed");
            return NULL;
        }
        *cookie_out = NULL;
        return define_persistent(drv, NULL, p, error);
    }
    if (cancelled && (!cookie_in || !cookie_len)) {
        /* libvirt's client passes no cookie when perform failed: the
         * domain is the one of that name still waiting for its state. */
        g_autoptr(VrtQemuDom) waiting = find_by_name(drv, p->dname);
        g_auto(VrtQemuJob) stop = VRT_QEMU_JOB_INIT;

        if (waiting && take_incoming(drv, waiting->def->uuid)) {
            vrt_qemu_process_destroy_kill(waiting);
            if (vrt_qemu_job_begin(&stop, waiting, VRT_QEMU_JOB_STOP, NULL))
                vrt_qemu_process_stop(waiting, VRT_DOMAIN_SHUTOFF_FAILED, VRT_DOMAIN_EVENT_STOPPED_FAILED);
            phase_set(drv, waiting->def->uuid, NULL);
            release_claims(drv, waiting->def->uuid);
        }
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "migration in job: canceled by client");
        return NULL;
    }
    if (!(c = vrt_migration_cookie_parse(cookie_in, cookie_len, local, error)))
        return NULL;
    if (!(obj = vrt_qemu_driver_find(drv, c->uuid, error)))
        return NULL;
    /* From here the finish, not a lost client, decides its fate. */
    take_incoming(drv, c->uuid);
    if (cancelled) {
        /* The source keeps the domain: the incoming QEMU goes. */
        vrt_qemu_process_destroy_kill(obj);
        if (vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_STOP, NULL))
            vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_FAILED, VRT_DOMAIN_EVENT_STOPPED_FAILED);
        phase_set(drv, c->uuid, NULL);
        release_claims(drv, c->uuid);
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "migration in job: canceled by client");
        return NULL;
    }
    if (!vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_SUSPEND, error) || !(mon = running_monitor(obj, error)))
        return NULL;

    /* The source said everything was sent; QEMU here says when it has
     * loaded it. */
    deadline = g_get_monotonic_time() + (gint64)FINISH_WAIT_MS * 1000;
    for (;;) {
        g_autofree char *desc = NULL;
        g_autofree char *status = query_migrate(mon, NULL, &desc, error);

        if (!status)
            goto fail;
        /* In post-copy the guest runs here while its last pages come. */
        if (g_str_equal(status, "completed") || g_str_equal(status, "postcopy-active"))
            break;
        if (g_str_equal(status, "failed") || g_str_equal(status, "cancelled")) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "migration in job: %s", desc ? desc : "unexpectedly failed");
            goto fail;
        }
        if (g_get_monotonic_time() > deadline) {
            vrt_error_set(error, VIR_ERR_OPERATION_TIMEOUT, "%s",
                          "migration in job: the incoming state did not arrive");
            goto fail;
        }
        g_usleep(POLL_MS * 1000);
    }
    /* Defined before it runs here, as libvirt: a definition refused
     * leaves the guest to the source (the incoming QEMU goes), never
     * running on both hosts. */
    if (flags & VRT_MIGRATE_PERSIST_DEST) {
        g_autoptr(VrtDomainRef) defined = NULL;

        /* The definition is a job of its own. */
        vrt_qemu_job_end(&job);
        defined = define_persistent(drv, c, p, error);
        if (!defined) {
            g_auto(VrtQemuJob) stop = VRT_QEMU_JOB_INIT;

            vrt_qemu_process_destroy_kill(obj);
            if (vrt_qemu_job_begin(&stop, obj, VRT_QEMU_JOB_STOP, NULL))
                vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_FAILED, VRT_DOMAIN_EVENT_STOPPED_FAILED);
            phase_set(drv, c->uuid, NULL);
            release_claims(drv, c->uuid);
            return NULL;
        }
        if (!vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_SUSPEND, error))
            goto fail;
    }
    /* The SR-IOV interfaces are plugged on the VFs claimed at prepare,
     * with their MAC and VLAN, before the guest runs here; one refused
     * fails the finish, and the source takes the guest back. */
    {
        g_autoptr(GPtrArray) plan = NULL;
        g_autoptr(GArray) ports = NULL;

        job_take_hostdevs(drv, c->uuid, &plan, &ports);
        if (plan && !vrt_qemu_migration_hostdev_plug(obj, plan, ports, error)) {
            vrt_qemu_migration_hostdev_release(drv, plan, ports);
            goto fail;
        }
    }
    /* Killed from here until the guest runs, this daemon's restart stops
     * the incoming QEMU: the finish never said yes, so the source resumes. */
    vrt_qemu_fault(drv, "migrate", "finish");
    if (flags & VRT_MIGRATE_PAUSED) {
        set_state(obj, VRT_DOMAIN_PAUSED, VRT_DOMAIN_PAUSED_USER);
        vrt_qemu_job_end(&job);
        vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_SUSPENDED, VRT_DOMAIN_EVENT_SUSPENDED_PAUSED);
    } else {
        if (!vrt_qemu_monitor_cont(mon, error))
            goto fail;
        set_state(obj, VRT_DOMAIN_RUNNING, VRT_DOMAIN_RUNNING_MIGRATED);
        vrt_qemu_job_end(&job);
        vrt_qemu_dom_emit(obj, VRT_DOMAIN_EVENT_RESUMED, VRT_DOMAIN_EVENT_RESUMED_MIGRATED);
    }
    phase_set(drv, c->uuid, NULL);
    /* Killed here, the guest runs at this host and its source never hears
     * so: it must ask (vrt_qemu_migrate_settle), not resume. */
    vrt_qemu_fault(drv, "migrate", "finished");
    /* The destination's completed job: the source's figures (libvirt's
     * destination takes them from the cookie too), as an incoming one. */
    if (c->stats) {
        g_autoptr(GPtrArray) params = vrt_qemu_job_params_copy(c->stats);
        VrtTypedParam *op = g_new0(VrtTypedParam, 1);

        op->field = g_strdup("operation");
        op->type = VRT_TYPED_PARAM_INT;
        op->v.i = VRT_DOMAIN_JOB_OPERATION_MIGRATION_IN;
        g_ptr_array_insert(params, 0, op);
        vrt_qemu_job_completed_params(obj, params);
    }
    *cookie_out = NULL;
    return vrt_qemu_dom_make_ref(obj);

fail:
    vrt_qemu_process_destroy_kill(obj);
    vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_FAILED, VRT_DOMAIN_EVENT_STOPPED_FAILED);
    phase_set(drv, c->uuid, NULL);
    release_claims(drv, c->uuid);
    return NULL;
}

/* ---- confirm (source) ---- */

/* A source in post-copy sends the destination's last pages until QEMU says
 * completed; only then may it stop. Nothing to wait for otherwise. A
 * post-copy transfer that broke leaves the guest's memory split between
 * the hosts: the source is then never stopped, it stays paused
 * (libvirt's "post-copy failed"), and vrt does not recover it. */
static bool
wait_postcopy(VrtQemuDom *obj, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = running_monitor(obj, NULL);
    bool postcopy;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        postcopy = obj->state == VRT_DOMAIN_PAUSED && obj->reason == PAUSED_POSTCOPY;
    }
    while (mon) {
        g_autofree char *desc = NULL;
        g_autofree char *status = query_migrate(mon, NULL, &desc, error);

        if (!status)
            return false;
        if (g_str_equal(status, "postcopy-active")) {
            g_usleep(POLL_MS * 1000);
            continue;
        }
        if (postcopy && !g_str_equal(status, "completed")) {
            set_state(obj, VRT_DOMAIN_PAUSED, PAUSED_POSTCOPY_FAILED);
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED,
                          "post-copy migration failed (%s): the domain stays paused, vrt does not recover it",
                          desc ? desc : status);
            return false;
        }
        break;
    }
    return true;
}

/* The job a confirm runs under: a resume's (it owns the RESUME event) or
 * a stop's. */
static void
job_switch(VrtQemuJob *job, VrtQemuJobKind kind)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&job->obj->lock);

    job->obj->job = kind;
}

bool
vrt_qemu_migrate_confirm_held(VrtQemuJob *job, guint flags, bool cancelled, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_dom_ref(job->obj);
    VrtQemuDriver *drv = obj->drv;
    guchar uuid[16];
    bool persistent;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        memcpy(uuid, obj->def->uuid, 16);
        persistent = obj->persistent;
    }
    if (cancelled) {
        g_autoptr(VrtQemuMonitor) mon = NULL;

        job_switch(job, VRT_QEMU_JOB_SUSPEND);
        if ((mon = running_monitor(obj, NULL))) {
            replug_source(obj);
            resume_source(obj, mon);
        }
        phase_set(drv, uuid, NULL);
        vrt_qemu_job_end(job);
        return true;
    }
    job_switch(job, VRT_QEMU_JOB_STOP);
    if (!wait_postcopy(obj, error)) {
        vrt_qemu_job_end(job);
        return false;
    }
    /* QEMU still answers the completed transfer's figures: the source's
     * completed job and its job-completed event, before the stop. */
    {
        g_autoptr(VrtQemuMonitor) mon = running_monitor(obj, NULL);

        if (mon)
            vrt_qemu_job_completed(obj, mon, VRT_DOMAIN_JOB_OPERATION_MIGRATION_OUT);
    }
    vrt_qemu_process_kill(obj);
    vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_MIGRATED, VRT_DOMAIN_EVENT_STOPPED_MIGRATED);
    phase_set(drv, uuid, NULL);
    {
        /* The interfaces run on the destination's VFs now. */
        g_autoptr(GPtrArray) plan = NULL;
        g_autoptr(GArray) vfs = NULL;

        job_take_hostdevs(drv, uuid, &plan, &vfs);
        replug_record(obj, NULL, NULL);
    }
    vrt_qemu_job_end(job);
    if (persistent && (flags & VRT_MIGRATE_UNDEFINE_SOURCE))
        return vrt_qemu_domain_undefine(drv, uuid, 0, error);
    return true;
}

/* The URI of the destination's daemon recorded with the domain's
 * performed phase (its transfer completed), or NULL. */
static char *
performed_peer(VrtQemuDriver *drv, const guchar *uuid, guint *flags)
{
    g_autofree char *path = phase_path(drv, uuid);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    lines = g_strsplit(text, "\n", 4);
    if (!lines[0] || !g_str_equal(g_strstrip(lines[0]), PHASE_PERFORMED) || !lines[1] || !lines[2] ||
        !*g_strstrip(lines[2]))
        return NULL;
    if (flags)
        *flags = (guint)g_ascii_strtoull(lines[1], NULL, 16);
    return g_strdup(lines[2]);
}

/* A confirm; ask: a cancelled one after a completed transfer asks the
 * destination's daemon, when known, where the guest runs first. */
static bool
confirm(VrtQemuDriver *drv, const guchar *uuid, guint flags, bool cancelled, bool ask, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autofree char *peer = NULL;

    if (!obj)
        return false;
    if (flags & VRT_MIGRATE_OFFLINE) {
        if (!cancelled && (flags & VRT_MIGRATE_UNDEFINE_SOURCE))
            return vrt_qemu_domain_undefine(drv, uuid, 0, error);
        return true;
    }
    /* Killed here, the destination runs the guest and this source's
     * restart learns so from it. */
    if (!cancelled)
        vrt_qemu_fault(drv, "migrate", "confirm");
    /* A client's finish that failed after the transfer completed does not
     * tell whether the destination resumed the guest (its daemon may have
     * died after the resume): resuming here blindly could run it twice.
     * Its daemon says; one that cannot be asked leaves the guest paused
     * here, asked again on a worker (vrt_qemu_migrate_settle). */
    if (cancelled && ask && (peer = performed_peer(drv, uuid, NULL))) {
        g_autofree char *name = NULL;

        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            name = g_strdup(obj->def->name);
        }
        g_message("domain %s: its migration's finish failed after the transfer; asking %s where it runs", name, peer);
        if (vrt_qemu_migrate_settle(drv, uuid, peer, flags) >= 0)
            return true;
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED,
                      "the migration's destination %s cannot tell where domain '%s' runs: it stays paused here "
                      "while vrtd asks again",
                      peer, name);
        return false;
    }
    if (!vrt_qemu_job_begin(&job, obj, cancelled ? VRT_QEMU_JOB_SUSPEND : VRT_QEMU_JOB_STOP, error))
        return false;
    return vrt_qemu_migrate_confirm_held(&job, flags, cancelled, error);
}

bool
vrt_qemu_migrate_confirm(VrtQemuDriver *drv, const guchar *uuid, guint flags, bool cancelled, GError **error)
{
    return confirm(drv, uuid, flags, cancelled, true, error);
}

/* ---- a source that does not know where its guest runs ---- */

/* Where the destination at dconnuri has the domain: 1 active there, 0 not
 * (not defined, or not running), -1 it cannot be asked. An incoming domain
 * still paused for its migration is waited for: its finish (resumed) or
 * its close hook (stopped, the source's connection went) decides it. */
static int
peer_has_domain(VrtQemuDriver *drv, const guchar *uuid, const char *dconnuri, const char *name)
{
    /* Each look is a TLS connection of its own: every 500 ms, not every
     * POLL_MS. */
    for (guint i = 0; i < FINISH_WAIT_MS / 500; i++) {
        g_autoptr(GError) err = NULL;
        int state = 0, reason = 0;

        if (!drv->cfg.migration_peer_state(dconnuri, uuid, drv->cfg.data, &state, &reason, &err)) {
            g_warning("domain %s: cannot ask the migration's destination %s where the guest runs: %s", name, dconnuri,
                      err->message);
            return -1;
        }
        if (state == VRT_DOMAIN_RUNNING || (state == VRT_DOMAIN_PAUSED && reason != VRT_DOMAIN_PAUSED_MIGRATION))
            return 1;
        if (state != VRT_DOMAIN_PAUSED)
            return 0;
        g_usleep(500 * 1000);
    }
    g_warning("domain %s: its destination %s still waits for the migration's finish", name, dconnuri);
    return -1;
}

int
vrt_qemu_migrate_settle(VrtQemuDriver *drv, const guchar *uuid, const char *dconnuri, guint flags)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *name = NULL;
    int where;

    if (!obj)
        return -1;
    name = g_strdup(obj->def->name);
    where = drv->cfg.migration_peer_state ? peer_has_domain(drv, uuid, dconnuri, name) : -1;
    if (where < 0) {
        /* Asked again on a worker of the driver's, the domain held paused
         * under a migration job meanwhile, and at the next start. */
        g_warning("domain %s: its outgoing migration had completed and its destination may run it; left paused, "
                  "asked again",
                  name);
        phase_set_peer(drv, uuid, PHASE_PERFORMED, dconnuri, flags);
        if (drv->cfg.migration_peer_state)
            vrt_qemu_settler_add(drv, obj, dconnuri, flags);
        return -1;
    }
    if (where) {
        g_message("domain %s: its destination %s runs it; ending the source as migrated", name, dconnuri);
    } else {
        g_message("domain %s: its destination %s does not run it; resuming it here", name, dconnuri);
    }
    if (!confirm(drv, uuid, flags, where == 0, false, &err))
        g_warning("domain %s: %s", name, err->message);
    return where;
}

/* ---- a restart in the middle of a migration ---- */

/* One domain's recorded phase (its QEMU reconnected, or gone). A source
 * to settle with its destination's daemon is added to settle (its uuid),
 * for vrt_qemu_migration_recover to hand to the settler. */
static void
recover_one(VrtQemuDriver *drv, const guchar *uuid, char *text, GArray *settle)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", 4);
    const char *phase = g_strstrip(lines[0]);
    const char *peer_uri = lines[0] && lines[1] && lines[2] ? g_strstrip(lines[2]) : NULL;
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, NULL);
    g_autoptr(VrtQemuMonitor) mon = obj ? running_monitor(obj, NULL) : NULL;
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;

    if (!mon) {
        phase_set(drv, uuid, NULL);
        return;
    }
    if (g_str_equal(phase, PHASE_INCOMING)) {
        /* Its finish never resumed it, so its source keeps the guest: a
         * source that knows this daemon (peer-to-peer, or told by the
         * prepare's cookie) finds it not running here when it asks; one
         * that does not was resumed by the client's cancelled confirm. */
        g_warning("domain %s: an incoming migration was under way when vrtd ended; stopping it", obj->def->name);
        vrt_qemu_process_destroy_kill(obj);
        if (vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_STOP, NULL))
            vrt_qemu_process_stop(obj, VRT_DOMAIN_SHUTOFF_FAILED, VRT_DOMAIN_EVENT_STOPPED_FAILED);
    } else if (g_str_equal(phase, PHASE_PERFORM)) {
        /* The transfer had not completed when vrtd ended, so no finish
         * was asked of the destination for it (its client or this daemon
         * saw the perform fail, and the destination's incoming QEMU goes):
         * the guest is the source's again. */
        g_autoptr(JsonNode) ret = NULL;
        g_autoptr(GError) err = NULL;

        g_warning("domain %s: its outgoing migration was under way when vrtd ended; cancelling it", obj->def->name);
        if (!(ret = vrt_qemu_monitor_command(mon, "migrate_cancel", NULL, 0, &err)))
            g_warning("domain %s: migrate_cancel: %s", obj->def->name, err->message);
        for (guint i = 0; i < 100; i++) {
            g_autofree char *status = query_migrate(mon, NULL, NULL, NULL);

            if (!status || (!g_str_equal(status, "active") && !g_str_equal(status, "setup") &&
                            !g_str_equal(status, "cancelling") && !g_str_equal(status, "pre-switchover") &&
                            !g_str_equal(status, "device")))
                break;
            g_usleep(POLL_MS * 1000);
        }
        if (vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_SUSPEND, NULL))
            resume_source(obj, mon);
    } else if (g_str_equal(phase, PHASE_PERFORMED) && peer_uri && *peer_uri) {
        /* The destination's daemon is known (a peer-to-peer source's, or
         * named in the destination's cookie): it says where the guest
         * runs. Asked on a worker, not here: vrtd does not listen yet and
         * must not wait on another host to start. The domain stays paused
         * under a migration job until the answer; the phase file stays
         * until the confirm (or for the next start), and so does its
         * replug record: the confirm plugs its interfaces back if the
         * guest stays here. */
        g_warning("domain %s: its outgoing migration had completed when vrtd ended; asking %s where it runs",
                  obj->def->name, peer_uri);
        g_array_append_vals(settle, uuid, 1);
        return;
    } else {
        /* No daemon to ask (a destination that named none: a libvirt
         * one, or one without TLS): the destination may run it. It stays
         * paused, as libvirt leaves it, for its owner to destroy or
         * resume, or for a client's confirm (the migration's outcome). */
        g_warning("domain %s: its outgoing migration had completed when vrtd ended and its destination may run it; "
                  "left paused",
                  obj->def->name);
    }
    phase_set(drv, uuid, NULL);
}

/* Whether uuid is one of settle's (16-byte elements). */
static bool
settling(GArray *settle, const guchar *uuid)
{
    for (guint i = 0; i < settle->len; i++)
        if (memcmp(settle->data + 16 * i, uuid, 16) == 0)
            return true;
    return false;
}

/* The interfaces a killed source had unplugged for a migration: plugged
 * back when the guest runs here (its phase recovery resumed it), left out
 * when the transfer had completed (the guest may run at the
 * destination, on a VF of its own). A domain to settle (settle) keeps its
 * record for its confirm. */
static void
recover_replugs(VrtQemuDriver *drv, GArray *settle)
{
    g_autoptr(GDir) dir = g_dir_open(drv->state_dir, 0, NULL);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *path = NULL;
        g_autofree char *text = NULL;
        g_autoptr(VrtMigrationCookie) c = NULL;
        g_autoptr(VrtQemuDom) obj = NULL;
        g_autoptr(GError) err = NULL;
        g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
        int state = -1;

        if (!g_str_has_suffix(entry, ".replug"))
            continue;
        path = g_build_filename(drv->state_dir, entry, NULL);
        if (g_file_get_contents(path, &text, NULL, NULL) &&
            (c = vrt_migration_cookie_parse(text, strlen(text), NULL, &err)) && settling(settle, c->uuid))
            continue;
        if (c && (obj = vrt_qemu_driver_find(drv, c->uuid, NULL))) {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            if (vrt_qemu_dom_is_active_locked(obj))
                state = obj->state;
        }
        if (state == VRT_DOMAIN_RUNNING && c->hostdevs && vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_MODIFY, &err)) {
            g_autoptr(GArray) vfs = vrt_qemu_migration_hostdev_source_vfs(c->hostdevs);

            g_warning("domain %s: plugging back the SR-IOV interfaces its interrupted migration unplugged",
                      obj->def->name);
            vrt_qemu_migration_hostdev_replug(obj, c->hostdevs, vfs);
        } else if (c) {
            g_warning("domain %s: the SR-IOV interfaces its interrupted migration unplugged are not plugged back "
                      "(it is not running here)",
                      c->name);
        }
        unlink(path);
    }
}

void
vrt_qemu_migration_recover(VrtQemuDriver *drv)
{
    g_autoptr(GDir) dir = g_dir_open(drv->state_dir, 0, NULL);
    g_autoptr(GArray) settle = g_array_new(FALSE, FALSE, 16);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *path = NULL;
        g_autofree char *text = NULL;
        g_autofree char *uuid_text = NULL;
        guchar uuid[16];

        if (!g_str_has_suffix(entry, ".migration"))
            continue;
        path = g_build_filename(drv->state_dir, entry, NULL);
        uuid_text = g_strndup(entry, strlen(entry) - strlen(".migration"));
        if (!vrt_uuid_parse(uuid_text, uuid) || !g_file_get_contents(path, &text, NULL, NULL)) {
            unlink(path);
            continue;
        }
        recover_one(drv, uuid, text, settle);
    }
    recover_replugs(drv, settle);
    /* The workers start once the replug records were looked at: one that
     * resumes its domain plugs its interfaces back itself. */
    for (guint i = 0; i < settle->len; i++) {
        const guchar *uuid = (const guchar *)settle->data + 16 * i;
        g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, NULL);
        guint flags = 0;
        g_autofree char *peer = performed_peer(drv, uuid, &flags);

        if (obj && peer)
            vrt_qemu_settler_add(drv, obj, peer, flags);
    }
}

/* ---- post-copy ---- */

bool
vrt_qemu_migrate_start_post_copy(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(JsonNode) ret = NULL;
    guint flags = 0;
    bool running = false;

    if (!obj)
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);
        g_autofree char *key = job_key(drv, uuid);
        MigJob *j = g_hash_table_lookup(drv->mig_jobs, key);

        if (j && j->running && j->mon) {
            running = true;
            flags = j->flags;
            mon = vrt_qemu_monitor_ref(j->mon);
        }
    }
    if (!running) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s",
                      "post-copy can only be started while outgoing migration is in progress");
        return false;
    }
    if (!(flags & VRT_MIGRATE_POSTCOPY)) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s",
                      "switching to post-copy requires migration to be started with VIR_MIGRATE_POSTCOPY flag");
        return false;
    }
    ret = vrt_qemu_monitor_command(mon, "migrate-start-postcopy", NULL, 0, error);
    if (ret) {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);

        job_get_locked(drv, uuid)->postcopy_asked = true;
    }
    return ret != NULL;
}

/* ---- tunables ---- */

static VrtQemuMonitor *
find_monitor(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);

    return obj ? running_monitor(obj, error) : NULL;
}

bool
vrt_qemu_migrate_set_max_downtime(VrtQemuDriver *drv, const guchar *uuid, guint64 ms, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = find_monitor(drv, uuid, error);

    return mon && set_parameter(mon, "downtime-limit", (gint64)ms, error);
}

bool
vrt_qemu_migrate_get_max_downtime(VrtQemuDriver *drv, const guchar *uuid, guint64 *ms, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = find_monitor(drv, uuid, error);

    return mon && get_parameter(mon, "downtime-limit", ms, error);
}

bool
vrt_qemu_migrate_set_max_speed(VrtQemuDriver *drv, const guchar *uuid, guint64 mib_s, bool postcopy, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = find_monitor(drv, uuid, error);

    /* libvirt's limit: what fits QEMU's bytes per second in an int64. */
    if (mon && mib_s > (guint64)(G_MAXINT64 >> 20)) {
        vrt_error_set(error, VIR_ERR_OVERFLOW, "bandwidth must be less than %llu",
                      (unsigned long long)(G_MAXINT64 >> 20) + 1);
        return false;
    }
    return mon &&
           set_parameter(mon, postcopy ? "max-postcopy-bandwidth" : "max-bandwidth", (gint64)(mib_s << 20), error);
}

bool
vrt_qemu_migrate_get_max_speed(VrtQemuDriver *drv, const guchar *uuid, bool postcopy, guint64 *mib_s, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = find_monitor(drv, uuid, error);
    guint64 bytes = 0;

    if (!mon || !get_parameter(mon, postcopy ? "max-postcopy-bandwidth" : "max-bandwidth", &bytes, error))
        return false;
    *mib_s = bytes >> 20;
    return true;
}

/* ---- job statistics and abort ---- */

static void
add_ull(GPtrArray *params, const char *field, guint64 v)
{
    VrtTypedParam *p = g_new0(VrtTypedParam, 1);

    p->field = g_strdup(field);
    p->type = VRT_TYPED_PARAM_ULLONG;
    p->v.ul = v;
    g_ptr_array_add(params, p);
}

static GPtrArray *
stats_params(const MigStats *st, bool completed)
{
    GPtrArray *params = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);
    VrtTypedParam *op = g_new0(VrtTypedParam, 1);

    op->field = g_strdup("operation");
    op->type = VRT_TYPED_PARAM_INT;
    op->v.i = JOB_OPERATION_MIGRATION_OUT;
    g_ptr_array_add(params, op);
    add_ull(params, "time_elapsed", st->elapsed_ms);
    add_ull(params, "data_total", st->total);
    add_ull(params, "data_processed", st->transferred);
    add_ull(params, "data_remaining", completed ? 0 : st->remaining);
    add_ull(params, "memory_total", st->total);
    add_ull(params, "memory_processed", st->transferred);
    add_ull(params, "memory_remaining", completed ? 0 : st->remaining);
    add_ull(params, "memory_constant", st->constant);
    add_ull(params, "memory_normal", st->normal);
    add_ull(params, "memory_normal_bytes", st->normal_bytes);
    add_ull(params, "memory_bps", st->bps);
    add_ull(params, "memory_dirty_rate", st->dirty_rate);
    add_ull(params, "memory_iteration", st->iteration);
    add_ull(params, "setup_time", st->setup_time);
    if (st->has_downtime)
        add_ull(params, "downtime", st->downtime);
    return params;
}

bool
vrt_qemu_migration_job_stats(VrtQemuDriver *drv, const guchar *uuid, guint flags, int *type, GPtrArray **params)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);
    g_autofree char *key = job_key(drv, uuid);
    MigJob *j = g_hash_table_lookup(drv->mig_jobs, key);

    if (!j)
        return false;
    /* A completed migration is the domain's completed job
     * (qemu_jobinfo.c), answered by the generic handler. */
    if (flags & JOB_STATS_COMPLETED)
        return false;
    if (!j->running)
        return false;
    *type = JOB_UNBOUNDED;
    j->stats.elapsed_ms = (guint64)((g_get_monotonic_time() - j->stats.started_us) / 1000);
    *params = stats_params(&j->stats, false);
    return true;
}

bool
vrt_qemu_migration_abort(VrtQemuDriver *drv, const guchar *uuid, bool *handled, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(JsonNode) ret = NULL;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->mig_lock);
        g_autofree char *key = job_key(drv, uuid);
        MigJob *j = g_hash_table_lookup(drv->mig_jobs, key);

        if (j && j->incoming) {
            *handled = true;
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s",
                          "cannot abort incoming migration; use virDomainDestroy instead");
            return false;
        }
        *handled = j && j->running && j->mon;
        if (!*handled)
            return true;
        j->cancel = true;
        mon = vrt_qemu_monitor_ref(j->mon);
    }
    ret = vrt_qemu_monitor_command(mon, "migrate_cancel", NULL, 0, error);
    return ret != NULL;
}
