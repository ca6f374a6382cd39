/*
 * The tc commands vrtd runs for a <bandwidth>, compared with the ones
 * libvirt 9.0's own bandwidth test expects for the same XML (its
 * virnetdevbandwidthtest's tc cases): a `tc` first in PATH writes each
 * command line to a file instead of touching an interface. The
 * integration tests run the real tc on a tap in a network namespace; on a
 * kernel without sfq or the police action that can only show the
 * refusal, so this test is what pins the commands themselves.
 */
#include "drivers/network/network_virt.h"
#include "util/bandwidth.h"
#include "testutil.h"

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <string.h>

typedef struct {
    char *dir;
    char *log;
} Fixture;

static void
fixture_set_up(Fixture *fx, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) err = NULL;
    fx->dir = g_dir_make_tmp("vrt-tc-XXXXXX", &err);
    g_assert_no_error(err);
    fx->log = g_build_filename(fx->dir, "commands", NULL);
    g_autofree char *tc = g_build_filename(fx->dir, "tc", NULL);
    g_autofree char *script = g_strdup_printf("#!/bin/sh\necho \"tc $*\" >> '%s'\n", fx->log);
    g_assert_true(g_file_set_contents(tc, script, -1, &err));
    g_assert_no_error(err);
    g_assert_cmpint(g_chmod(tc, 0755), ==, 0);
    g_autofree char *path = g_strdup_printf("%s:%s", fx->dir, g_getenv("PATH") ? g_getenv("PATH") : "/usr/bin:/bin");
    g_setenv("PATH", path, TRUE);
}

static void
fixture_tear_down(Fixture *fx, gconstpointer data)
{
    (void)data;
    g_autofree char *tc = g_build_filename(fx->dir, "tc", NULL);
    g_unlink(tc);
    g_unlink(fx->log);
    g_rmdir(fx->dir);
    g_free(fx->log);
    g_free(fx->dir);
}

static void
parse(const char *xml, VrtBandwidth *bw)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "bandwidth.xml", NULL, XML_PARSE_NONET);
    g_autoptr(GError) err = NULL;
    g_assert_nonnull(doc);
    memset(bw, 0, sizeof(*bw));
    g_assert_true(vrt_bandwidth_parse(xmlDocGetRootElement(doc), true, NULL, bw, &err));
    g_assert_no_error(err);
    xmlFreeDoc(doc);
}

/* The commands the interface's <bandwidth> gives (a tap: its inbound is
 * what the interface sends to the guest), as one string. */
static char *
commands_for(Fixture *fx, const char *xml)
{
    VrtBandwidth bw;
    g_autoptr(GError) err = NULL;
    char *out = NULL;

    parse(xml, &bw);
    g_unlink(fx->log);
    g_assert_true(vrt_network_bandwidth_set("eth0", &bw, false, true, &err));
    g_assert_no_error(err);
    if (!g_file_get_contents(fx->log, &out, NULL, NULL))
        out = g_strdup("");
    return out;
}

#define TC_CLEAR "tc qdisc del dev eth0 root\ntc qdisc del dev eth0 ingress\n"

static void
test_empty_runs_nothing(Fixture *fx, gconstpointer data)
{
    (void)data;
    g_autofree char *got = commands_for(fx, "<bandwidth/>");
    g_assert_cmpstr(got, ==, "");
}

static void
test_inbound_only(Fixture *fx, gconstpointer data)
{
    (void)data;
    g_autofree char *got = commands_for(fx, "<bandwidth><inbound average='1024'/></bandwidth>");
    g_assert_cmpstr(got, ==,
                    TC_CLEAR "tc qdisc add dev eth0 root handle 1: htb default 1\n"
                             "tc class add dev eth0 parent 1: classid 1:1 htb rate 1024kbps quantum 87\n"
                             "tc qdisc add dev eth0 parent 1:1 handle 2: sfq perturb 10\n"
                             "tc filter add dev eth0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1\n");
}

static void
test_outbound_only(Fixture *fx, gconstpointer data)
{
    (void)data;
    g_autofree char *got = commands_for(fx, "<bandwidth><outbound average='1024'/></bandwidth>");
    g_assert_cmpstr(got, ==,
                    TC_CLEAR "tc qdisc add dev eth0 ingress\n"
                             "tc filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 police rate 1024kbps "
                             "burst 1024kb mtu 64kb drop flowid :1\n");
}

static void
test_all_attributes(Fixture *fx, gconstpointer data)
{
    (void)data;
    g_autofree char *got = commands_for(fx, "<bandwidth><inbound average='1' peak='2' floor='3' burst='4'/>"
                                            "<outbound average='5' peak='6' burst='7'/></bandwidth>");
    g_assert_cmpstr(got, ==,
                    TC_CLEAR
                    "tc qdisc add dev eth0 root handle 1: htb default 1\n"
                    "tc class add dev eth0 parent 1: classid 1:1 htb rate 1kbps ceil 2kbps burst 4kb quantum 1\n"
                    "tc qdisc add dev eth0 parent 1:1 handle 2: sfq perturb 10\n"
                    "tc filter add dev eth0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1\n"
                    "tc qdisc add dev eth0 ingress\n"
                    "tc filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 police rate 5kbps "
                    "burst 7kb mtu 64kb drop flowid :1\n");
}

static void
test_largest_rates(Fixture *fx, gconstpointer data)
{
    (void)data;
    g_autofree char *got = commands_for(fx, "<bandwidth><inbound average='4294967295'/>"
                                            "<outbound average='4294967295'/></bandwidth>");
    g_assert_cmpstr(got, ==,
                    TC_CLEAR "tc qdisc add dev eth0 root handle 1: htb default 1\n"
                             "tc class add dev eth0 parent 1: classid 1:1 htb rate 4294967295kbps quantum 366503875\n"
                             "tc qdisc add dev eth0 parent 1:1 handle 2: sfq perturb 10\n"
                             "tc filter add dev eth0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1\n"
                             "tc qdisc add dev eth0 ingress\n"
                             "tc filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 police rate "
                             "4294967295kbps burst 4194303kb mtu 64kb drop flowid :1\n");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/network/bandwidth/" name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
    ADD("empty-runs-nothing", test_empty_runs_nothing);
    ADD("inbound-only", test_inbound_only);
    ADD("outbound-only", test_outbound_only);
    ADD("all-attributes", test_all_attributes);
    ADD("largest-rates", test_largest_rates);
    return g_test_run();
}
