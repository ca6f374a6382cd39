/*
 * The QEMU driver against real qemu-system-x86_64 with guest-less VMs
 * (type='kvm' when /dev/kvm opens, else type='qemu'), each test in its own
 * state root: define/start/suspend/resume/destroy/undefine with libvirt's
 * errors, states and events; persistence across driver objects; reconnect
 * to a QEMU that outlived its driver; crash detection after kill -9; a
 * live NIC attach and a detach the guest never acknowledges.
 * Every QEMU started under a test root is killed at exit, also on failure.
 */
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_driver.h"
#include "util/error.h"
#include "util/proc.h"
#include "testutil.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 10000

static char *test_base; /* parent of every test root; QEMUs below it are ours */

typedef struct {
    int event;
    int detail;
    char *name;
} Event;

typedef struct {
    char *root;
    GMutex lock;
    GCond cond;
    GArray *events; /* Event */
    GPtrArray *removed; /* aliases */
    guint config_sync_ms;
    VrtQemuDriver *drv;
} Fixture;

/* Kills every process whose command line mentions test_base. */
static void
kill_our_qemus(void)
{
    DIR *d;
    struct dirent *e;

    if (!test_base)
        return;
    d = opendir("/proc");
    while (d && (e = readdir(d))) {
        g_autofree char *path = NULL;
        g_autofree char *cmd = NULL;
        gsize len = 0;
        int pid = atoi(e->d_name);

        if (pid <= 0 || pid == getpid())
            continue;
        path = g_strdup_printf("/proc/%d/cmdline", pid);
        if (!g_file_get_contents(path, &cmd, &len, NULL))
            continue;
        for (gsize i = 0; i + 1 < len; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
        if (strstr(cmd, test_base) && strstr(cmd, "qemu"))
            kill(pid, SIGKILL);
    }
    if (d)
        closedir(d);
}

static void
on_abort(int sig)
{
    kill_our_qemus();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void
lifecycle_cb(const VrtDomainRef *dom, int event, int detail, gpointer data)
{
    Fixture *fx = data;
    Event ev = { event, detail, g_strdup(dom->name) };

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fx->lock);

        g_array_append_val(fx->events, ev);
        g_cond_broadcast(&fx->cond);
    }
}

static void
removed_cb(const VrtDomainRef *dom, const char *alias, gpointer data)
{
    Fixture *fx = data;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fx->lock);

        g_ptr_array_add(fx->removed, g_strdup(alias));
        g_cond_broadcast(&fx->cond);
    }
}

static VrtQemuDriver *
driver_open(Fixture *fx)
{
    VrtQemuDriverConfig cfg = {
        .root = fx->root,
        .emulator = NULL,
        .lifecycle_event = lifecycle_cb,
        .device_removed = removed_cb,
        .data = fx,
        .config_sync_ms = fx->config_sync_ms,
    };
    g_autoptr(GError) err = NULL;
    VrtQemuDriver *drv = vrt_qemu_driver_new(&cfg, &err);

    g_assert_no_error(err);
    g_assert_true(vrt_qemu_driver_load(drv, &err));
    g_assert_no_error(err);
    return drv;
}

static void
fixture_setup(Fixture *fx, gconstpointer unused)
{
    g_autofree char *tmpl = g_build_filename(test_base, "rootXXXXXX", NULL);

    fx->root = vrt_test_make_root(tmpl);
    chmod(fx->root, 0755);
    /* QEMU as root here (qemu.conf's user = "root"): test_confine.py runs
     * it unprivileged. */
    {
        g_autofree char *etc = g_build_filename(fx->root, "etc/vrt", NULL);
        g_autofree char *conf = g_build_filename(etc, "qemu.conf", NULL);

        g_mkdir_with_parents(etc, 0755);
        g_file_set_contents(conf, "user = \"root\"\ngroup = \"root\"\n", -1, NULL);
    }
    g_mutex_init(&fx->lock);
    g_cond_init(&fx->cond);
    fx->events = g_array_new(FALSE, TRUE, sizeof(Event));
    fx->removed = g_ptr_array_new_with_free_func(g_free);
    fx->drv = driver_open(fx);
}

static void
fixture_teardown(Fixture *fx, gconstpointer unused)
{
    vrt_qemu_driver_free(fx->drv);
    kill_our_qemus();
    for (guint i = 0; i < fx->events->len; i++)
        g_free(g_array_index(fx->events, Event, i).name);
    g_array_unref(fx->events);
    g_ptr_array_unref(fx->removed);
    vrt_test_remove_tree(fx->root);
    g_free(fx->root);
    g_mutex_clear(&fx->lock);
    g_cond_clear(&fx->cond);
}

/* Waits until the event (event, detail) was seen; true if so. */
static bool
wait_event(Fixture *fx, int event, int detail)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_MS * 1000;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fx->lock);

    for (;;) {
        for (guint i = 0; i < fx->events->len; i++) {
            Event *ev = &g_array_index(fx->events, Event, i);

            if (ev->event == event && ev->detail == detail)
                return true;
        }
        if (!g_cond_wait_until(&fx->cond, &fx->lock, deadline))
            return false;
    }
}

static bool
wait_state(Fixture *fx, const guchar *uuid, int want_state, int want_reason)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_MS * 1000;
    int state = -1, reason = -1;

    while (g_get_monotonic_time() < deadline) {
        if (!vrt_qemu_domain_get_state(fx->drv, uuid, &state, &reason, NULL))
            return false;
        if (state == want_state && reason == want_reason)
            return true;
        g_usleep(10 * 1000);
    }
    g_test_message("state %d reason %d, wanted %d %d", state, reason, want_state, want_reason);
    return false;
}

static const char *
domain_type(void)
{
    return vrt_qemu_caps_kvm_usable(NULL, NULL) ? "kvm" : "qemu";
}

static char *
domain_xml(const char *name, const char *uuid, const char *extra_devices)
{
    return g_strdup_printf("<domain type='%s'><name>%s</name><uuid>%s</uuid>"
                           "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                           "<os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>"
                           "<devices><memballoon model='virtio'/>%s</devices></domain>",
                           domain_type(), name, uuid, extra_devices ? extra_devices : "");
}

static pid_t
dom_pid(Fixture *fx, const guchar *uuid)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(fx->drv, uuid, NULL);
    pid_t pid;

    g_assert_nonnull(obj);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        pid = obj->pid;
    }
    return pid;
}

static void
test_lifecycle(Fixture *fx, gconstpointer unused)
{
    g_autofree char *xml = domain_xml("life", "11111111-2222-3333-4444-555555555555",
                                      "<serial type='pty'><target port='0'/></serial>"
                                      "<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>");
    g_autofree char *clash = domain_xml("life", "11111111-2222-3333-4444-666666666666", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainRef) ref = vrt_qemu_domain_define_xml(fx->drv, xml, 0, &err);
    g_autoptr(VrtDomainRef) byname = NULL;
    g_autofree char *live = NULL;
    g_autofree char *inactive = NULL;
    g_autoptr(GArray) vcpus = NULL;
    VrtDomainInfo info;
    int state, reason;

    g_assert_no_error(err);
    g_assert_cmpint(ref->id, ==, -1);
    g_assert_true(wait_event(fx, VRT_DOMAIN_EVENT_DEFINED, VRT_DOMAIN_EVENT_DEFINED_ADDED));

    g_assert_null(vrt_qemu_domain_define_xml(fx->drv, clash, 0, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_FAILED);
    g_assert_cmpstr(err->message, ==,
                    "operation failed: domain 'life' already exists with uuid 11111111-2222-3333-4444-555555555555");
    g_clear_error(&err);

    g_assert_null(vrt_qemu_domain_lookup(fx->drv, "nope", NULL, 0, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_NO_DOMAIN);
    g_assert_cmpstr(err->message, ==, "Domain not found: no domain with matching name 'nope'");
    g_clear_error(&err);

    g_assert_false(vrt_qemu_domain_suspend(fx->drv, ref->uuid, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_assert_cmpstr(err->message, ==, "Requested operation is not valid: domain is not running");
    g_clear_error(&err);

    g_assert_true(vrt_qemu_domain_create(fx->drv, ref->uuid, 0, &err));
    g_assert_no_error(err);
    g_assert_true(wait_event(fx, VRT_DOMAIN_EVENT_STARTED, VRT_DOMAIN_EVENT_STARTED_BOOTED));
    g_assert_true(vrt_qemu_domain_get_state(fx->drv, ref->uuid, &state, &reason, &err));
    g_assert_cmpint(state, ==, VRT_DOMAIN_RUNNING);
    g_assert_cmpint(reason, ==, VRT_DOMAIN_RUNNING_BOOTED);
    byname = vrt_qemu_domain_lookup(fx->drv, "life", NULL, 0, &err);
    g_assert_cmpint(byname->id, >, 0);
    g_assert_cmpint(vrt_qemu_domain_is_active(fx->drv, ref->uuid, NULL), ==, 1);
    g_assert_cmpint(vrt_qemu_domain_count(fx->drv, true), ==, 1);

    g_assert_false(vrt_qemu_domain_create(fx->drv, ref->uuid, 0, &err));
    g_assert_cmpstr(err->message, ==, "Requested operation is not valid: domain is already running");
    g_clear_error(&err);

    live = vrt_qemu_domain_get_xml(fx->drv, ref->uuid, 0, &err);

    g_assert_no_error(err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(live, "<domain type='qemu' id='"));
    g_assert_nonnull(strstr(live, "pc-i440fx-")); /* canonical machine in live XML */
    g_assert_nonnull(strstr(live, "/dev/pts/")); /* where the serial port's pty is */
    g_assert_true(g_regex_match_simple("<graphics type='vnc' port='59[0-9][0-9]' autoport='yes'", live, 0, 0));
    inactive = vrt_qemu_domain_get_xml(fx->drv, ref->uuid, VRT_DOMAIN_XML_FLAG_INACTIVE, &err);
    g_assert_no_error(err);
    /* the running domain's id is live state; <audio id=> belongs to both */
    g_assert_null(strstr(inactive, "<domain type='qemu' id="));
    g_assert_nonnull(strstr(inactive, "<domain type='qemu'>"));

    g_assert_true(vrt_qemu_domain_get_info(fx->drv, ref->uuid, &info, &err));
    g_assert_cmpint(info.state, ==, VRT_DOMAIN_RUNNING);
    g_assert_cmpuint(info.max_mem_kib, ==, 65536);
    g_assert_cmpuint(info.nr_virt_cpu, ==, 1);
    vcpus = vrt_qemu_domain_get_vcpus(fx->drv, ref->uuid, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(vcpus->len, ==, 1);

    g_assert_true(vrt_qemu_domain_suspend(fx->drv, ref->uuid, &err));
    g_assert_true(vrt_qemu_domain_get_state(fx->drv, ref->uuid, &state, &reason, &err));
    g_assert_cmpint(state, ==, VRT_DOMAIN_PAUSED);
    g_assert_cmpint(reason, ==, VRT_DOMAIN_PAUSED_USER);
    g_assert_true(wait_event(fx, VRT_DOMAIN_EVENT_SUSPENDED, VRT_DOMAIN_EVENT_SUSPENDED_PAUSED));
    g_assert_true(vrt_qemu_domain_resume(fx->drv, ref->uuid, &err));
    g_assert_true(wait_state(fx, ref->uuid, VRT_DOMAIN_RUNNING, VRT_DOMAIN_RUNNING_UNPAUSED));
    g_assert_true(wait_event(fx, VRT_DOMAIN_EVENT_RESUMED, VRT_DOMAIN_EVENT_RESUMED_UNPAUSED));

    g_assert_true(vrt_qemu_domain_set_memory(fx->drv, ref->uuid, 32768, VRT_DOMAIN_AFFECT_LIVE, &err));
    g_assert_no_error(err);
    /* Live vCPU changes stay within the maximum (here 1). */
    g_assert_false(vrt_qemu_domain_set_vcpus(fx->drv, ref->uuid, 2, VRT_DOMAIN_AFFECT_LIVE, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_INVALID_ARG);
    g_assert_nonnull(strstr(err->message, "max allowable vcpus for the live domain: 2 > 1"));
    g_clear_error(&err);

    g_assert_true(vrt_qemu_domain_destroy(fx->drv, ref->uuid, 0, &err));
    g_assert_no_error(err);
    g_assert_true(vrt_qemu_domain_get_state(fx->drv, ref->uuid, &state, &reason, &err));
    g_assert_cmpint(state, ==, VRT_DOMAIN_SHUTOFF);
    g_assert_cmpint(reason, ==, VRT_DOMAIN_SHUTOFF_DESTROYED);
    g_assert_true(wait_event(fx, VRT_DOMAIN_EVENT_STOPPED, VRT_DOMAIN_EVENT_STOPPED_DESTROYED));

    g_assert_true(vrt_qemu_domain_undefine(fx->drv, ref->uuid, 0, &err));
    g_assert_true(wait_event(fx, VRT_DOMAIN_EVENT_UNDEFINED, VRT_DOMAIN_EVENT_UNDEFINED_REMOVED));
    g_assert_null(vrt_qemu_domain_lookup(fx->drv, NULL, ref->uuid, 0, &err));
    g_assert_cmpstr(err->message, ==,
                    "Domain not found: no domain with matching uuid '11111111-2222-3333-4444-555555555555'");
}

static void
test_transient_and_undefine_running(Fixture *fx, gconstpointer unused)
{
    g_autofree char *xml = domain_xml("tran", "21111111-2222-3333-4444-555555555555", NULL);
    g_autofree char *pxml = domain_xml("pers", "31111111-2222-3333-4444-555555555555", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainRef) t = vrt_qemu_domain_create_xml(fx->drv, xml, VRT_DOMAIN_START_PAUSED, &err);
    g_autoptr(VrtDomainRef) p = NULL;
    g_autoptr(GPtrArray) transient = NULL;
    int state, reason;

    g_assert_no_error(err);
    g_assert_true(vrt_qemu_domain_get_state(fx->drv, t->uuid, &state, &reason, &err));
    g_assert_cmpint(state, ==, VRT_DOMAIN_PAUSED);
    g_assert_cmpint(reason, ==, VRT_DOMAIN_PAUSED_USER);
    g_assert_cmpint(vrt_qemu_domain_is_persistent(fx->drv, t->uuid, NULL), ==, 0);
    g_assert_false(vrt_qemu_domain_undefine(fx->drv, t->uuid, 0, &err));
    g_assert_cmpstr(err->message, ==, "Requested operation is not valid: cannot undefine transient domain");
    g_clear_error(&err);

    p = vrt_qemu_domain_define_xml(fx->drv, pxml, 0, &err);
    g_assert_true(vrt_qemu_domain_create(fx->drv, p->uuid, 0, &err));
    transient = vrt_qemu_domain_list_all(fx->drv, VRT_CONNECT_LIST_DOMAINS_TRANSIENT, &err);
    g_assert_cmpuint(transient->len, ==, 1);
    g_assert_cmpstr(((VrtDomainRef *)g_ptr_array_index(transient, 0))->name, ==, "tran");

    /* Undefine of a running persistent domain leaves it running, transient. */
    g_assert_true(vrt_qemu_domain_undefine(fx->drv, p->uuid, 0, &err));
    g_assert_cmpint(vrt_qemu_domain_is_active(fx->drv, p->uuid, NULL), ==, 1);
    g_assert_cmpint(vrt_qemu_domain_is_persistent(fx->drv, p->uuid, NULL), ==, 0);

    /* Destroying a transient domain makes it disappear. */
    g_assert_true(vrt_qemu_domain_destroy(fx->drv, t->uuid, 0, &err));
    g_assert_true(vrt_qemu_domain_destroy(fx->drv, p->uuid, 0, &err));
    g_assert_cmpint(vrt_qemu_domain_is_active(fx->drv, t->uuid, &err), ==, -1);
    g_assert_error(err, VRT_ERROR, VIR_ERR_NO_DOMAIN);
    g_clear_error(&err);
    g_assert_cmpint(vrt_qemu_domain_count(fx->drv, true) + vrt_qemu_domain_count(fx->drv, false), ==, 0);
}

static void
test_reconnect_and_crash(Fixture *fx, gconstpointer unused)
{
    g_autofree char *xml = domain_xml("recon", "41111111-2222-3333-4444-555555555555", NULL);
    g_autofree char *xml2 = domain_xml("dead", "51111111-2222-3333-4444-555555555555", NULL);
    g_autofree char *xml3 = domain_xml("auto", "61111111-2222-3333-4444-555555555555", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainRef) a = vrt_qemu_domain_define_xml(fx->drv, xml, 0, &err);
    g_autoptr(VrtDomainRef) b = vrt_qemu_domain_define_xml(fx->drv, xml2, 0, &err);
    g_autoptr(VrtDomainRef) c = vrt_qemu_domain_define_xml(fx->drv, xml3, 0, &err);
    g_autoptr(VrtDomainRef) again = NULL;
    pid_t pa, pb;
    int state, reason, id;

    g_assert_no_error(err);
    g_assert_true(vrt_qemu_domain_create(fx->drv, a->uuid, 0, &err));
    g_assert_true(vrt_qemu_domain_create(fx->drv, b->uuid, VRT_DOMAIN_START_PAUSED, &err));
    g_assert_true(vrt_qemu_domain_set_autostart(fx->drv, c->uuid, 1, &err));
    g_assert_no_error(err);
    again = vrt_qemu_domain_lookup(fx->drv, "recon", NULL, 0, &err);
    id = again->id;
    pa = dom_pid(fx, a->uuid);
    pb = dom_pid(fx, b->uuid);

    /* The driver goes away (daemon stop); QEMU keeps running. */
    vrt_qemu_driver_free(fx->drv);
    fx->drv = NULL;
    g_assert_true(vrt_proc_pid_alive(NULL, pa));
    g_assert_true(vrt_proc_pid_alive(NULL, pb));
    /* One QEMU dies while no driver watches. */
    kill(pb, SIGKILL);
    while (vrt_proc_pid_alive(NULL, pb))
        g_usleep(1000);

    fx->drv = driver_open(fx);
    g_assert_true(vrt_qemu_domain_get_state(fx->drv, a->uuid, &state, &reason, &err));
    g_assert_cmpint(state, ==, VRT_DOMAIN_RUNNING);
    g_clear_pointer(&again, vrt_domain_ref_free);
    again = vrt_qemu_domain_lookup(fx->drv, NULL, NULL, id, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(again->name, ==, "recon");
    g_assert_true(vrt_qemu_domain_get_state(fx->drv, b->uuid, &state, &reason, &err));
    g_assert_cmpint(state, ==, VRT_DOMAIN_SHUTOFF);
    g_assert_cmpint(reason, ==, VRT_DOMAIN_SHUTOFF_CRASHED);
    /* autostart ran at load */
    g_assert_cmpint(vrt_qemu_domain_is_active(fx->drv, c->uuid, NULL), ==, 1);
    g_assert_cmpint(vrt_qemu_domain_get_autostart(fx->drv, c->uuid, NULL), ==, 1);

    /* The reconnected monitor works, and kill -9 is seen as a crash. */
    g_assert_true(vrt_qemu_domain_suspend(fx->drv, a->uuid, &err));
    g_assert_no_error(err);
    kill(pa, SIGKILL);
    g_assert_true(wait_state(fx, a->uuid, VRT_DOMAIN_SHUTOFF, VRT_DOMAIN_SHUTOFF_CRASHED));
    g_assert_true(wait_event(fx, VRT_DOMAIN_EVENT_STOPPED, VRT_DOMAIN_EVENT_STOPPED_CRASHED));
    g_assert_cmpint(vrt_qemu_domain_is_persistent(fx->drv, a->uuid, NULL), ==, 1);
    g_assert_true(vrt_qemu_domain_destroy(fx->drv, c->uuid, 0, &err));
}

/* Batched flushes of definitions: after a power loss that cut a rewrite
 * short, the loader puts back the previous version; a write's leftover
 * temporary file goes. Without a power loss the new one is simply there. */
static void
test_config_recover(Fixture *fx, gconstpointer unused)
{
    const char *uuid = "c1111111-2222-3333-4444-555555555555";
    g_autofree char *base = domain_xml("cfg", uuid, NULL);
    g_autofree char *config = g_build_filename(fx->root, "etc/vrt/qemu/cfg.xml", NULL);
    g_autofree char *prev = g_strconcat(config, ".prev", NULL);
    g_autofree char *stray = g_strconcat(config, ".new.Ab12Cd", NULL);
    g_autofree char *saved = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(GError) err = NULL;
    GString *v;
    guchar u[16];

    vrt_qemu_driver_free(fx->drv);
    fx->config_sync_ms = 60000;
    fx->drv = driver_open(fx);
    v = g_string_new(base);
    g_string_replace(v, "<name>cfg</name>", "<name>cfg</name><title>one</title>", 1);
    vrt_domain_ref_free(vrt_qemu_domain_define_xml(fx->drv, v->str, 0, &err));
    g_assert_no_error(err);
    vrt_qemu_driver_free(fx->drv); /* flushes */
    g_assert_false(g_file_test(prev, G_FILE_TEST_EXISTS));

    fx->drv = driver_open(fx);
    g_string_replace(v, "<title>one</title>", "<title>two</title>", 1);
    vrt_domain_ref_free(vrt_qemu_domain_define_xml(fx->drv, v->str, 0, &err));
    g_assert_no_error(err);
    g_string_free(v, TRUE);
    g_assert_true(g_file_get_contents(prev, &saved, NULL, NULL));
    g_assert_nonnull(strstr(saved, "<title>one</title>"));
    g_assert_true(g_file_get_contents(config, &xml, NULL, NULL));
    g_assert_nonnull(strstr(xml, "<title>two</title>"));
    g_clear_pointer(&xml, g_free);

    /* The disk as a power loss would leave it: the rewrite half there. */
    vrt_qemu_driver_free(fx->drv);
    g_assert_true(g_file_get_contents(config, &xml, NULL, NULL));
    xml[strlen(xml) / 2] = '\0';
    g_assert_true(g_file_set_contents(config, xml, -1, NULL));
    g_assert_true(g_file_set_contents(prev, saved, -1, NULL));
    g_assert_true(g_file_set_contents(stray, "<dom", -1, NULL));
    g_clear_pointer(&xml, g_free);

    g_test_expect_message("vrt", G_LOG_LEVEL_WARNING, "*cfg.xml' is missing or incomplete*");
    fx->drv = driver_open(fx);
    g_test_assert_expected_messages();
    g_assert_true(vrt_uuid_parse(uuid, u));
    xml = vrt_qemu_domain_get_xml(fx->drv, u, 0, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(xml, "<title>one</title>"));
    g_assert_false(g_file_test(prev, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(stray, G_FILE_TEST_EXISTS));
}

/* Replaces the first occurrence of from in the status file of name. */
static void
edit_status(Fixture *fx, const char *name, const char *from, const char *to)
{
    g_autofree char *file = g_strdup_printf("run/vrt/qemu/%s.xml", name);
    g_autofree char *path = g_build_filename(fx->root, file, NULL);
    g_autofree char *text = NULL;
    GString *s;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    s = g_string_new(text);
    g_assert_cmpuint(g_string_replace(s, from, to, 1), ==, 1);
    g_assert_true(g_file_set_contents(path, s->str, -1, NULL));
    g_string_free(s, TRUE);
}

/* A status file still marked starting: the restarted driver kills the
 * recorded QEMU and the domain is shut off, failed; a pid whose start time
 * is not the recorded one (a recycled pid) is left alone. */
static void
test_unfinished_start(Fixture *fx, gconstpointer unused)
{
    g_autofree char *xml = domain_xml("half", "b1111111-2222-3333-4444-555555555555", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainRef) ref = vrt_qemu_domain_define_xml(fx->drv, xml, 0, &err);
    const char *sleep_argv[] = { "/bin/sleep", "60", NULL };
    g_autofree char *pid_attr = NULL, *other_attr = NULL;
    GPid other;
    pid_t pid;
    int state, reason;

    g_assert_no_error(err);
    g_assert_true(vrt_qemu_domain_create(fx->drv, ref->uuid, 0, &err));
    pid = dom_pid(fx, ref->uuid);
    vrt_qemu_driver_free(fx->drv);
    fx->drv = NULL;
    edit_status(fx, "half", "starting='no'", "starting='yes'");
    fx->drv = driver_open(fx);
    g_assert_false(vrt_proc_pid_alive(NULL, pid));
    g_assert_true(vrt_qemu_domain_get_state(fx->drv, ref->uuid, &state, &reason, &err));
    g_assert_cmpint(state, ==, VRT_DOMAIN_SHUTOFF);
    g_assert_cmpint(reason, ==, VRT_DOMAIN_SHUTOFF_FAILED);

    /* Started again: exactly one QEMU, then a record naming another process. */
    g_assert_true(vrt_qemu_domain_create(fx->drv, ref->uuid, 0, &err));
    g_assert_no_error(err);
    pid = dom_pid(fx, ref->uuid);
    vrt_qemu_driver_free(fx->drv);
    fx->drv = NULL;
    g_assert_true(g_spawn_async(NULL, (char **)sleep_argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &other, &err));
    pid_attr = g_strdup_printf("pid='%d'", (int)pid);
    other_attr = g_strdup_printf("pid='%d'", (int)other);
    edit_status(fx, "half", "starting='no'", "starting='yes'");
    edit_status(fx, "half", pid_attr, other_attr);
    fx->drv = driver_open(fx);
    g_assert_true(vrt_proc_pid_alive(NULL, other));
    g_assert_true(vrt_qemu_domain_get_state(fx->drv, ref->uuid, &state, &reason, &err));
    g_assert_cmpint(state, ==, VRT_DOMAIN_SHUTOFF);
    kill(other, SIGKILL);
    waitpid(other, NULL, 0);
    kill(pid, SIGKILL);
}

static void
test_orphan_reaped(Fixture *fx, gconstpointer unused)
{
    g_autofree char *xml = domain_xml("orph", "a1111111-2222-3333-4444-555555555555", NULL);
    g_autofree char *status = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainRef) ref = vrt_qemu_domain_define_xml(fx->drv, xml, 0, &err);
    gint64 deadline;
    pid_t pid;

    g_assert_true(vrt_qemu_domain_create(fx->drv, ref->uuid, 0, &err));
    g_assert_no_error(err);
    pid = dom_pid(fx, ref->uuid);
    vrt_qemu_driver_free(fx->drv);
    /* As if vrtd died after spawning QEMU, before writing the status. */
    status = g_build_filename(fx->root, "run/vrt/qemu/orph.xml", NULL);
    g_assert_cmpint(unlink(status), ==, 0);
    fx->drv = driver_open(fx);
    deadline = g_get_monotonic_time() + WAIT_MS * 1000;
    while (vrt_proc_pid_alive(NULL, pid) && g_get_monotonic_time() < deadline)
        g_usleep(1000);
    g_assert_false(vrt_proc_pid_alive(NULL, pid));
    g_assert_cmpint(vrt_qemu_domain_is_active(fx->drv, ref->uuid, NULL), ==, 0);
}

static void
test_nic_hotplug(Fixture *fx, gconstpointer unused)
{
    g_autofree char *xml = domain_xml("nic", "71111111-2222-3333-4444-555555555555", NULL);
    const char *nic = "<interface type='user'><mac address='52:54:00:aa:bb:cc'/><model type='virtio'/></interface>";
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainRef) ref = vrt_qemu_domain_define_xml(fx->drv, xml, 0, &err);
    g_autofree char *live = NULL;
    g_autofree char *after = NULL;
    g_autofree char *cfg = NULL;
    bool ok;

    g_assert_true(vrt_qemu_domain_create(fx->drv, ref->uuid, 0, &err));
    g_assert_no_error(err);
    ok =
        vrt_qemu_domain_attach_device(fx->drv, ref->uuid, nic, VRT_DOMAIN_AFFECT_LIVE | VRT_DOMAIN_AFFECT_CONFIG, &err);
    g_assert_no_error(err);
    g_assert_true(ok);
    live = vrt_qemu_domain_get_xml(fx->drv, ref->uuid, 0, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(live, "52:54:00:aa:bb:cc"));
    g_assert_nonnull(strstr(live, "alias name='net0'"));
    cfg = vrt_qemu_domain_get_xml(fx->drv, ref->uuid, VRT_DOMAIN_XML_FLAG_INACTIVE, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(cfg, "52:54:00:aa:bb:cc"));

    /* Link state changes live (domif-setlink) and is shown in live XML. */
    ok = vrt_qemu_domain_update_device(fx->drv, ref->uuid,
                                       "<interface type='user'><mac address='52:54:00:aa:bb:cc'/>"
                                       "<model type='virtio'/><link state='down'/></interface>",
                                       VRT_DOMAIN_AFFECT_LIVE, &err);
    g_assert_no_error(err);
    g_assert_true(ok);
    g_clear_pointer(&live, g_free);
    live = vrt_qemu_domain_get_xml(fx->drv, ref->uuid, 0, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(live, "<link state='down'/>"));

    g_assert_false(
        vrt_qemu_domain_attach_device(fx->drv, ref->uuid,
                                      "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                                      "<address domain='0' bus='6' slot='16' function='0'/></source></hostdev>",
                                      VRT_DOMAIN_AFFECT_LIVE, &err));
    /* No host devices in this driver (no host given): a clear refusal. */
    g_assert_true(vrt_error_code(err) == VIR_ERR_OPERATION_UNSUPPORTED || vrt_error_code(err) == VIR_ERR_NO_SUPPORT);
    g_clear_error(&err);

    /* No guest OS answers the unplug: the call returns after the wait
     * with the device still there, and a second request says so. */
    g_assert_true(vrt_qemu_domain_detach_device_alias(fx->drv, ref->uuid, "net0", VRT_DOMAIN_AFFECT_LIVE, &err));
    g_assert_no_error(err);
    after = vrt_qemu_domain_get_xml(fx->drv, ref->uuid, 0, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(after, "52:54:00:aa:bb:cc"));
    g_assert_false(vrt_qemu_domain_detach_device_alias(fx->drv, ref->uuid, "net0", VRT_DOMAIN_AFFECT_LIVE, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_clear_error(&err);

    /* Config-only detach changes the definition only. */
    g_assert_true(vrt_qemu_domain_detach_device(fx->drv, ref->uuid, nic, VRT_DOMAIN_AFFECT_CONFIG, &err));
    g_clear_pointer(&cfg, g_free);
    cfg = vrt_qemu_domain_get_xml(fx->drv, ref->uuid, VRT_DOMAIN_XML_FLAG_INACTIVE, &err);
    g_assert_no_error(err);
    g_assert_null(strstr(cfg, "52:54:00:aa:bb:cc"));
    g_assert_cmpint(vrt_qemu_domain_is_updated(fx->drv, ref->uuid, NULL), ==, 1);
    g_assert_true(vrt_qemu_domain_destroy(fx->drv, ref->uuid, 0, &err));
}

static void
test_kvm_required(Fixture *fx, gconstpointer unused)
{
    g_autofree char *xml = domain_xml("kvmless", "81111111-2222-3333-4444-555555555555", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainRef) ref = NULL;
    char *p;

    /* type='kvm' on a host where /dev/kvm cannot be opened */
    p = strstr(xml, "type='qemu'");
    if (p)
        memcpy(p, "type='kvm' ", 11);
    ref = vrt_qemu_domain_define_xml(fx->drv, xml, 0, &err);
    g_assert_no_error(err);
    g_free(fx->drv->dev_kvm);
    fx->drv->dev_kvm = g_strdup("/nonexistent/kvm");
    g_assert_false(vrt_qemu_domain_create(fx->drv, ref->uuid, 0, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
    g_assert_nonnull(strstr(err->message, "/nonexistent/kvm"));
    g_assert_cmpint(vrt_qemu_domain_is_active(fx->drv, ref->uuid, NULL), ==, 0);
    g_clear_error(&err);

    /* A file that opens but is no KVM device (an empty regular file left
     * where /dev/kvm would be) is no KVM either. */
    g_autofree char *dir = g_dir_make_tmp("vrt-kvm-XXXXXX", NULL);
    g_autofree char *fake = g_build_filename(dir, "kvm", NULL);
    g_assert_true(g_file_set_contents(fake, "", 0, NULL));
    g_free(fx->drv->dev_kvm);
    fx->drv->dev_kvm = g_strdup(fake);
    g_assert_false(vrt_qemu_caps_kvm_usable(fake, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
    g_assert_nonnull(strstr(err->message, "is not a KVM device"));
    g_clear_error(&err);
    g_assert_false(vrt_qemu_domain_create(fx->drv, ref->uuid, 0, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
    g_assert_cmpint(vrt_qemu_domain_is_active(fx->drv, ref->uuid, NULL), ==, 0);
    unlink(fake);
    rmdir(dir);
}

/* ---- with the tiny test guest (tests/guest): ACPI shutdown, reboot and an
 * acknowledged unplug ---- */

#define GUEST_BOOT_MS 60000

static bool
guest_paths(char **kernel, char **initrd)
{
    const char *argv[] = { VRT_SOURCE_ROOT "/tests/guest/build-guest.sh", NULL };
    g_autofree char *out = NULL;
    g_auto(GStrv) lines = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL))
        return false;
    lines = g_strsplit(out, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], "kernel "))
            *kernel = g_strdup(lines[i] + 7);
        else if (g_str_has_prefix(lines[i], "initrd "))
            *initrd = g_strdup(lines[i] + 7);
    }
    return *kernel && *initrd;
}

/* A copy of path under root: QEMU runs as libvirt-qemu when the tests run
 * as root, and the guest's cache may be in root's 0700 home. */
static char *
reachable_copy(const char *root, const char *path)
{
    g_autofree char *data = NULL;
    g_autofree char *base = g_path_get_basename(path);
    char *copy = g_build_filename(root, base, NULL);
    gsize len;

    if (!g_file_get_contents(path, &data, &len, NULL) || !g_file_set_contents(copy, data, (gssize)len, NULL)) {
        g_free(copy);
        return g_strdup(path);
    }
    chmod(copy, 0644);
    return copy;
}

static guint
console_count(const char *path, const char *marker)
{
    g_autofree char *text = NULL;
    guint n = 0;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    for (const char *p = text; (p = strstr(p, marker)); p += strlen(marker))
        n++;
    return n;
}

static bool
wait_console(const char *path, const char *marker, guint count)
{
    gint64 deadline = g_get_monotonic_time() + GUEST_BOOT_MS * 1000;

    while (g_get_monotonic_time() < deadline) {
        if (console_count(path, marker) >= count)
            return true;
        g_usleep(50 * 1000);
    }
    return false;
}

static void
note_event(VrtQemuMonitor *mon, const char *name, JsonObject *data, gpointer opaque)
{
    if (g_str_equal(name, "DEVICE_DELETED"))
        g_atomic_int_set((gint *)opaque, 1);
}

/* Closes the driver as a dying daemon would and opens the monitor of the
 * domain's still running QEMU directly, with events to cb. */
static VrtQemuMonitor *
open_monitor_driver_down(Fixture *fx, const guchar *uuid, VrtQemuEventThread *thr, const VrtQemuMonitorCallbacks *cb,
                         gpointer opaque)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(fx->drv, uuid, NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *path = NULL;
    VrtQemuMonitor *mon;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        path = g_strdup(obj->monitor_path);
    }
    g_clear_pointer(&obj, vrt_qemu_dom_unref);
    vrt_qemu_driver_free(fx->drv);
    fx->drv = NULL;

    mon = vrt_qemu_monitor_open(path, vrt_qemu_event_thread_context(thr), 0, 2000, cb, opaque, &err);
    g_assert_no_error(err);
    return mon;
}

static void
simulate_unplug_while_down(Fixture *fx, const guchar *uuid, const char *alias)
{
    static const VrtQemuMonitorCallbacks cb = { note_event, NULL };
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(fx->drv, uuid, NULL);
    g_autoptr(VrtQemuEventThread) thr = vrt_qemu_event_thread_new("test-qmp");
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(GError) err = NULL;
    gint deleted = 0;
    gint64 deadline;

    /* What detach records before it sends device_del. */
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        g_hash_table_add(obj->unplug_pending, g_strdup(alias));
        g_assert_true(vrt_qemu_dom_save_status_locked(obj, NULL));
    }
    g_clear_pointer(&obj, vrt_qemu_dom_unref);

    mon = open_monitor_driver_down(fx, uuid, thr, &cb, &deleted);
    g_assert_true(vrt_qemu_monitor_device_del(mon, alias, &err));
    deadline = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;
    while (!g_atomic_int_get(&deleted) && g_get_monotonic_time() < deadline)
        g_usleep(10 * 1000);
    g_assert_true(g_atomic_int_get(&deleted));
    vrt_qemu_monitor_close(mon);

    fx->drv = driver_open(fx);
}

static void
poweroff_while_down(Fixture *fx, const guchar *uuid)
{
    static const VrtQemuMonitorCallbacks cb = { note_event, NULL };
    g_autoptr(VrtQemuEventThread) thr = vrt_qemu_event_thread_new("test-qmp");
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *status = NULL;
    gint64 deadline = g_get_monotonic_time() + GUEST_BOOT_MS * 1000;
    bool running = true;
    gint dummy = 0;

    mon = open_monitor_driver_down(fx, uuid, thr, &cb, &dummy);
    g_assert_true(vrt_qemu_monitor_system_powerdown(mon, &err));
    do {
        g_clear_pointer(&status, g_free);
        g_usleep(50 * 1000);
        g_assert_true(vrt_qemu_monitor_query_status(mon, &running, &status, &err));
    } while (!g_str_equal(status, "shutdown") && g_get_monotonic_time() < deadline);
    g_assert_cmpstr(status, ==, "shutdown");
    vrt_qemu_monitor_close(mon);

    fx->drv = driver_open(fx);
}

static void
test_guest(Fixture *fx, gconstpointer unused)
{
    g_autofree char *kernel = NULL;
    g_autofree char *initrd = NULL;
    g_autofree char *console = g_build_filename(fx->root, "console.log", NULL);
    g_autofree char *xml = NULL;
    g_autofree char *live = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainRef) ref = NULL;
    const char *nic = "<interface type='user'><mac address='52:54:00:aa:bb:dd'/><model type='virtio'/></interface>";
    bool ok;

    if (!guest_paths(&kernel, &initrd)) {
        vrt_test_missing("the test guest (tests/guest/build-guest.sh) is not available");
        return;
    }
    {
        char *k = reachable_copy(fx->root, kernel), *i = reachable_copy(fx->root, initrd);

        g_free(kernel);
        g_free(initrd);
        kernel = k;
        initrd = i;
    }
    xml = g_strdup_printf("<domain type='qemu'><name>guest</name><uuid>91111111-2222-3333-4444-555555555555</uuid>"
                          "<memory unit='MiB'>256</memory><vcpu>1</vcpu>"
                          "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s</kernel><initrd>%s</initrd>"
                          "<cmdline>console=ttyS0</cmdline></os><features><acpi/></features>"
                          "<devices><serial type='file'><source path='%s'/><target port='0'/></serial>"
                          "<memballoon model='none'/></devices></domain>",
                          kernel, initrd, console);
    ref = vrt_qemu_domain_define_xml(fx->drv, xml, 0, &err);
    g_assert_no_error(err);
    g_assert_true(vrt_qemu_domain_create(fx->drv, ref->uuid, 0, &err));
    g_assert_no_error(err);
    g_assert_true(wait_console(console, "VRT-GUEST-READY", 1));

    /* The guest acknowledges the unplug: the device leaves within the wait. */
    ok = vrt_qemu_domain_attach_device(fx->drv, ref->uuid, nic, VRT_DOMAIN_AFFECT_LIVE, &err);
    g_assert_no_error(err);
    g_assert_true(ok);
    g_usleep(500 * 1000); /* let the guest finish enumerating it */
    g_assert_true(vrt_qemu_domain_detach_device(fx->drv, ref->uuid, nic, VRT_DOMAIN_AFFECT_LIVE, &err));
    g_assert_no_error(err);
    live = vrt_qemu_domain_get_xml(fx->drv, ref->uuid, 0, &err);
    g_assert_no_error(err);
    g_assert_null(strstr(live, "52:54:00:aa:bb:dd"));
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fx->lock);

        g_assert_cmpuint(fx->removed->len, ==, 1);
        g_assert_cmpstr(g_ptr_array_index(fx->removed, 0), ==, "net0");
    }

    /* The daemon dies between device_del and DEVICE_DELETED: the next one
     * finds the device gone from QEMU and completes the removal. */
    ok = vrt_qemu_domain_attach_device(fx->drv, ref->uuid, nic, VRT_DOMAIN_AFFECT_LIVE, &err);
    g_assert_no_error(err);
    g_assert_true(ok);
    g_usleep(500 * 1000);
    simulate_unplug_while_down(fx, ref->uuid, "net0");
    g_clear_pointer(&live, g_free);
    live = vrt_qemu_domain_get_xml(fx->drv, ref->uuid, 0, &err);
    g_assert_no_error(err);
    g_assert_null(strstr(live, "52:54:00:aa:bb:dd"));
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fx->lock);

        g_assert_cmpuint(fx->removed->len, ==, 2);
    }

    /* Reboot: the guest powers off on the button, QEMU resets it in place. */
    g_assert_true(vrt_qemu_domain_reboot(fx->drv, ref->uuid, 0, &err));
    g_assert_no_error(err);
    g_assert_true(wait_console(console, "VRT-GUEST-READY", 2));
    g_assert_cmpint(vrt_qemu_domain_is_active(fx->drv, ref->uuid, NULL), ==, 1);

    /* The guest powers off while no driver listens: the next driver sees
     * QEMU stopped in "shutdown" and applies on_poweroff. */
    poweroff_while_down(fx, ref->uuid);
    g_assert_true(wait_state(fx, ref->uuid, VRT_DOMAIN_SHUTOFF, VRT_DOMAIN_SHUTOFF_SHUTDOWN));
    unlink(console); /* QEMU starts the file afresh */
    g_assert_true(vrt_qemu_domain_create(fx->drv, ref->uuid, 0, &err));
    g_assert_no_error(err);
    g_assert_true(wait_console(console, "VRT-GUEST-READY", 1));

    /* ACPI shutdown ends the domain (on_poweroff destroy). */
    g_assert_true(vrt_qemu_domain_shutdown(fx->drv, ref->uuid, 0, &err));
    g_assert_no_error(err);
    g_assert_true(wait_state(fx, ref->uuid, VRT_DOMAIN_SHUTOFF, VRT_DOMAIN_SHUTOFF_SHUTDOWN));
    g_assert_true(wait_event(fx, VRT_DOMAIN_EVENT_SHUTDOWN, VRT_DOMAIN_EVENT_SHUTDOWN_GUEST));
    g_assert_true(wait_event(fx, VRT_DOMAIN_EVENT_STOPPED, VRT_DOMAIN_EVENT_STOPPED_SHUTDOWN));
}

int
main(int argc, char **argv)
{
    g_autofree char *base = NULL;
    int ret;

    g_test_init(&argc, &argv, NULL);
    /* Crashes are expected here and logged as warnings. */
    g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");

    if (!qemu)
        return vrt_test_missing_all("qemu-system-x86_64 is not installed");
    /* Short: the QMP socket path must fit in sun_path. */
    base = vrt_test_make_root("/tmp/vrtqXXXXXX");
    test_base = base;
    /* QEMU runs as libvirt-qemu when the tests run as root: it must reach
     * the roots (qemu_security.c). */
    chmod(base, 0755);
    signal(SIGABRT, on_abort);
    signal(SIGTERM, on_abort);
    signal(SIGTRAP, on_abort);
    signal(SIGSEGV, on_abort);
    atexit(kill_our_qemus);

    g_test_add("/qemu/driver/lifecycle", Fixture, NULL, fixture_setup, test_lifecycle, fixture_teardown);
    g_test_add("/qemu/driver/transient", Fixture, NULL, fixture_setup, test_transient_and_undefine_running,
               fixture_teardown);
    g_test_add("/qemu/driver/reconnect-crash-autostart", Fixture, NULL, fixture_setup, test_reconnect_and_crash,
               fixture_teardown);
    g_test_add("/qemu/driver/config-recover", Fixture, NULL, fixture_setup, test_config_recover, fixture_teardown);
    g_test_add("/qemu/driver/unfinished-start", Fixture, NULL, fixture_setup, test_unfinished_start, fixture_teardown);
    g_test_add("/qemu/driver/orphan-reaped", Fixture, NULL, fixture_setup, test_orphan_reaped, fixture_teardown);
    g_test_add("/qemu/driver/nic-hotplug", Fixture, NULL, fixture_setup, test_nic_hotplug, fixture_teardown);
    g_test_add("/qemu/driver/guest", Fixture, NULL, fixture_setup, test_guest, fixture_teardown);
    g_test_add("/qemu/driver/kvm-required", Fixture, NULL, fixture_setup, test_kvm_required, fixture_teardown);
    ret = g_test_run();
    kill_our_qemus();
    vrt_test_remove_tree(base);
    test_base = NULL; /* base is freed on return; atexit must not use it */
    return ret;
}
