/*
 * The QEMU driver's status file read back: every seed of the status fuzzer
 * (fuzz-status-corpus/, files vrtd wrote) parses, formats as vrtd writes
 * it and reads back the same, and the runtime data a restarted vrtd acts
 * on comes out of the files that carry it: the start record, the destroy
 * flag, pending unplugs and the hostdev job's records. The corpus's
 * crash-* and leak-* files are what the fuzzer found: they are refused.
 */
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_driver.h"
#include "util/error.h"

#include <string.h>

static VrtQemuStatus *
read_seed(const char *name)
{
    g_autofree char *path = g_build_filename(VRT_QEMU_STATUS_CORPUS, name, NULL);
    g_autoptr(GError) err = NULL;
    VrtQemuStatus *st = vrt_qemu_status_read(path, &err);

    g_assert_no_error(err);
    g_assert_nonnull(st);
    return st;
}

/* Every seed reads, and what vrtd would write of it reads back the same. */
static void
test_seeds_round_trip(void)
{
    g_autoptr(GDir) dir = g_dir_open(VRT_QEMU_STATUS_CORPUS, 0, NULL);
    const char *name;
    guint n = 0;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir))) {
        g_autoptr(VrtQemuStatus) st = NULL;
        g_autoptr(VrtQemuStatus) back = NULL;
        g_autoptr(GError) err = NULL;
        g_autofree char *out = NULL;
        g_autofree char *again = NULL;

        g_test_message("%s", name);
        if (g_str_has_prefix(name, "crash-") || g_str_has_prefix(name, "leak-")) {
            /* What the fuzzer found: it must be refused, and (in the
             * sanitizer builds) without a leak or a crash. */
            g_autofree char *path = g_build_filename(VRT_QEMU_STATUS_CORPUS, name, NULL);

            st = vrt_qemu_status_read(path, &err);
            g_assert_null(st);
            g_assert_error(err, VRT_ERROR, VIR_ERR_PARSE_FAILED);
            continue;
        }
        st = read_seed(name);
        out = vrt_qemu_status_format(st, &err);
        g_assert_no_error(err);
        back = vrt_qemu_status_parse(out, name, &err);
        g_assert_no_error(err);
        again = vrt_qemu_status_format(back, &err);
        g_assert_no_error(err);
        g_assert_cmpstr(again, ==, out);
        g_assert_cmpint(back->pid, ==, st->pid);
        g_assert_cmpint(back->state, ==, st->state);
        g_assert_cmpint(back->reason, ==, st->reason);
        n++;
    }
    g_assert_cmpuint(n, >=, 5);
}

static void
test_runtime_data(void)
{
    g_autoptr(VrtQemuStatus) running = read_seed("running-minimal.xml");
    g_autoptr(VrtQemuStatus) starting = read_seed("starting.xml");
    g_autoptr(VrtQemuStatus) destroying = read_seed("destroying.xml");
    g_autoptr(VrtQemuStatus) paused = read_seed("paused.xml");

    g_assert_cmpint(running->state, ==, VRT_DOMAIN_RUNNING);
    g_assert_cmpint(running->reason, ==, VRT_DOMAIN_RUNNING_BOOTED);
    g_assert_false(running->starting);
    g_assert_false(running->destroying);
    g_assert_cmpuint(running->starttime, >, 0);
    g_assert_true(g_str_has_suffix(running->monitor_path, "/monitor.sock"));
    g_assert_cmpstr(running->def->name, ==, "vm1");

    /* The start record: paused, starting up, with the start time of the
     * QEMU a restarted vrtd must kill. */
    g_assert_true(starting->starting);
    g_assert_cmpint(starting->state, ==, VRT_DOMAIN_PAUSED);
    g_assert_cmpint(starting->reason, ==, VRT_DOMAIN_PAUSED_STARTING_UP);
    g_assert_cmpuint(starting->starttime, >, 0);

    g_assert_true(destroying->destroying);
    g_assert_false(destroying->starting);
    g_assert_cmpint(paused->reason, ==, VRT_DOMAIN_PAUSED_USER);
    g_assert_false(paused->destroying);
}

static void
test_hostdev_records(void)
{
    g_autoptr(VrtQemuStatus) st = read_seed("hostdev-records.xml");
    VrtQemuHostdevRecord *net0, *net1, *net3;

    g_assert_cmpuint(st->unplug_pending->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(st->unplug_pending, 0), ==, "net1");
    g_assert_cmpuint(st->hostdevs->records->len, ==, 3);
    net0 = vrt_qemu_hostdev_state_find(st->hostdevs, "net0");
    net1 = vrt_qemu_hostdev_state_find(st->hostdevs, "net1");
    net3 = vrt_qemu_hostdev_state_find(st->hostdevs, "net3");
    g_assert_nonnull(net0);
    g_assert_nonnull(net1);
    g_assert_nonnull(net3);
    g_assert_cmpint(net0->job, ==, VRT_QEMU_HOSTDEV_JOB_ATTACH);
    g_assert_cmpint(net0->running, ==, VRT_QEMU_HOSTDEV_STEP_SET_VF);
    g_assert_true(vrt_qemu_hostdev_record_done(net0, VRT_QEMU_HOSTDEV_STEP_SAVE_VF));
    g_assert_cmpstr(net0->orig_driver, ==, "ixgbevf");
    g_assert_cmpuint(net0->orig_vlan, ==, 7);
    g_assert_true(net0->port_set);
    g_assert_cmpint(net1->job, ==, VRT_QEMU_HOSTDEV_JOB_DETACH);
    g_assert_true(vrt_qemu_hostdev_record_done(net1, VRT_QEMU_HOSTDEV_STEP_COMMIT));
    g_assert_cmpint(net3->kind, ==, VRT_QEMU_HOSTDEV_KIND_NET_EMULATED);
}

/* The golden hotplug cases' expected status files are files vrtd wrote
 * (their hostdev records too: VFs of a pool, by address and as <hostdev>,
 * an emulated interface without one): with their placeholders filled in,
 * each reads and is written back byte for byte, so a vrtd restarted over
 * status files of an older vrtd reads them as they were meant. */
static void
test_golden_status_files(void)
{
    g_autoptr(GDir) dir = g_dir_open(VRT_GOLDEN_HOTPLUG_DIR, 0, NULL);
    g_autoptr(GRegex) uuid_re = g_regex_new("@UUID([0-9])@", 0, 0, NULL);
    const char *name;
    guint n = 0, records = 0;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(VRT_GOLDEN_HOTPLUG_DIR, name, "expected-status.xml", NULL);
        g_autofree char *golden = NULL;
        g_autofree char *text = NULL;
        g_autofree char *out = NULL;
        g_autoptr(VrtQemuStatus) st = NULL;
        g_autoptr(GError) err = NULL;
        g_auto(GStrv) a = NULL;
        g_auto(GStrv) b = NULL;
        g_auto(GStrv) c = NULL;
        g_autofree char *ja = NULL;
        g_autofree char *jb = NULL;

        if (!g_file_get_contents(path, &golden, NULL, NULL))
            continue;
        g_test_message("%s", name);
        a = g_strsplit(golden, "@PID@", -1);
        ja = g_strjoinv("4242", a);
        b = g_strsplit(ja, "@STARTTIME@", -1);
        jb = g_strjoinv("77", b);
        c = g_strsplit(jb, "@ROOT@", -1);
        g_free(ja);
        ja = g_strjoinv("/golden-root", c);
        text = g_regex_replace(uuid_re, ja, -1, 0, "6a1e2f3c-0d4b-4c5e-9f60-7182a3b4c5d\\1", 0, &err);
        g_assert_no_error(err);
        st = vrt_qemu_status_parse(text, path, &err);
        g_assert_no_error(err);
        out = vrt_qemu_status_format(st, &err);
        g_assert_no_error(err);
        g_assert_cmpstr(out, ==, text);
        records += st->hostdevs->records->len;
        n++;
    }
    g_assert_cmpuint(n, >=, 32);
    g_assert_cmpuint(records, >, 0);
}

/* What is not a status file is refused with a reason, not read half. */
static void
test_refused(void)
{
    static const char *const bad[] = {
        "",
        "<domain/>",
        "<domstatus state='running' reason='booted' pid='0'><monitor path='/m'/></domstatus>",
        "<domstatus state='running' reason='booted' pid='12'><monitor path='/m'/></domstatus>",
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(VrtQemuStatus) st = vrt_qemu_status_parse(bad[i], "bad", &err);

        g_assert_null(st);
        g_assert_nonnull(err);
    }
}

/* A pid or start time that is not a number in range is refused rather
 * than read as another number: pid='4294967297' used to read as pid 1,
 * the process a reconnect or an aborted start would then signal. */
static void
test_bad_numbers(void)
{
    g_autoptr(VrtQemuStatus) good = read_seed("running-minimal.xml");
    g_autofree char *text = vrt_qemu_status_format(good, NULL);
    g_autofree char *pid = g_strdup_printf("pid='%d'", (int)good->pid);
    g_autofree char *starttime = g_strdup_printf("starttime='%" G_GUINT64_FORMAT "'", good->starttime);
    static const char *const bad[] = {
        "pid='4294967297'", "pid='12abc'",    "pid=' 12'", "pid='-5'", "pid=''", "starttime='18446744073709551616'",
        "starttime='5x'",   "starttime='-1'",
    };

    g_assert_nonnull(strstr(text, pid));
    g_assert_nonnull(strstr(text, starttime));
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        const char *field = g_str_has_prefix(bad[i], "pid") ? pid : starttime;
        g_auto(GStrv) parts = g_strsplit(text, field, 2);
        g_autofree char *doc = g_strjoinv(bad[i], parts);
        g_autoptr(VrtQemuStatus) st = vrt_qemu_status_parse(doc, "bad", &err);

        g_test_message("%s", bad[i]);
        g_assert_null(st);
        g_assert_error(err, VRT_ERROR, VIR_ERR_PARSE_FAILED);
    }
}

/* A status file holds one live definition, one monitor and one set of
 * hostdev records; a second one is refused (it used to replace the first,
 * which leaked). */
static void
test_duplicate_elements(void)
{
    g_autoptr(VrtQemuStatus) good = read_seed("hostdev-records.xml");
    g_autofree char *text = vrt_qemu_status_format(good, NULL);
    static const char *const elements[] = { "<domain ", "  <hostdev-records>", "  <monitor " };
    static const char *const ends[] = { "</domain>\n", "</hostdev-records>\n", "<monitor " };

    for (guint i = 0; i < G_N_ELEMENTS(elements); i++) {
        const char *start = strstr(text, elements[i]);
        const char *end = strstr(text, ends[i]);
        g_autoptr(GError) err = NULL;
        g_autoptr(VrtQemuStatus) st = NULL;
        g_autofree char *doc = NULL;

        g_assert_nonnull(start);
        g_assert_nonnull(end);
        end = strchr(end, '\n') + 1;
        /* the element twice in a row */
        doc = g_strdup_printf("%.*s%.*s%s", (int)(end - text), text, (int)(end - start), start, end);
        st = vrt_qemu_status_parse(doc, "twice", &err);
        g_assert_null(st);
        g_assert_error(err, VRT_ERROR, VIR_ERR_PARSE_FAILED);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu/status/seeds-round-trip", test_seeds_round_trip);
    g_test_add_func("/qemu/status/runtime-data", test_runtime_data);
    g_test_add_func("/qemu/status/hostdev-records", test_hostdev_records);
    g_test_add_func("/qemu/status/golden-status-files", test_golden_status_files);
    g_test_add_func("/qemu/status/refused", test_refused);
    g_test_add_func("/qemu/status/bad-numbers", test_bad_numbers);
    g_test_add_func("/qemu/status/duplicate-elements", test_duplicate_elements);
    return g_test_run();
}
