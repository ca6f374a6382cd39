/*
 * Unit tests of the domain tuning elements (domain_tune.c): libvirt's
 * <blkiotune>, <memtune>, <cputune> and <numatune> read and written back
 * in libvirt's order and canonical forms, cpusets, and the errors of bad
 * values.
 */
#include <string.h>

#include "conf/domain/domain_conf.h"
#include "conf/domain/domain_tune.h"
#include "testutil.h"
#include "util/error.h"

#define HEAD "<domain type='kvm'><name>t</name><memory>65536</memory><vcpu>2</vcpu><os><type>hvm</type></os>"

static void
test_roundtrip(void)
{
    const char *xml = HEAD "<cputune><emulatorpin cpuset='1,0'/><vcpupin vcpu='1' cpuset='0-3,^2'/>"
                           "<shares>2048</shares><quota>50000</quota><period>100000</period>"
                           "<emulator_quota>-1</emulator_quota><global_period>200000</global_period></cputune>"
                           "<memtune><soft_limit unit='MiB'>512</soft_limit><hard_limit>1048576</hard_limit></memtune>"
                           "<blkiotune><weight>300</weight><device><path>/dev/sda</path><read_bytes_sec>1000"
                           "</read_bytes_sec></device></blkiotune>"
                           "<numatune><memory mode='interleave' nodeset='0'/></numatune></domain>";
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &err);
    g_autofree char *out = NULL;
    g_autoptr(VrtDomainDef) again = NULL;
    g_autofree char *out2 = NULL;
    const char *mem, *vcpu, *cpu;

    g_assert_no_error(err);
    out = vrt_domain_def_format(def, VRT_DOMAIN_XML_INACTIVE, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(out, "  <blkiotune>\n    <weight>300</weight>\n    <device>\n      <path>/dev/sda</path>\n"
                                 "      <read_bytes_sec>1000</read_bytes_sec>\n    </device>\n  </blkiotune>\n"));
    g_assert_nonnull(strstr(out, "  <memtune>\n    <hard_limit unit='KiB'>1048576</hard_limit>\n"
                                 "    <soft_limit unit='KiB'>524288</soft_limit>\n  </memtune>\n"));
    g_assert_nonnull(strstr(out, "  <cputune>\n    <shares>2048</shares>\n    <period>100000</period>\n"
                                 "    <quota>50000</quota>\n    <global_period>200000</global_period>\n"
                                 "    <emulator_quota>-1</emulator_quota>\n"
                                 "    <vcpupin vcpu='1' cpuset='0-1,3'/>\n    <emulatorpin cpuset='0-1'/>\n"
                                 "  </cputune>\n"));
    g_assert_nonnull(strstr(out, "  <numatune>\n    <memory mode='interleave' nodeset='0'/>\n  </numatune>\n"));
    /* libvirt's order: blkiotune, memtune, vcpu, cputune, numatune. */
    mem = strstr(out, "<memtune>");
    vcpu = strstr(out, "<vcpu ");
    cpu = strstr(out, "<cputune>");
    g_assert_true(strstr(out, "<blkiotune>") < mem && mem < vcpu && vcpu < cpu && cpu < strstr(out, "<numatune>"));
    again = vrt_domain_def_parse(out, 0, &err);
    g_assert_no_error(err);
    out2 = vrt_domain_def_format(again, VRT_DOMAIN_XML_INACTIVE, &err);
    g_assert_cmpstr(out, ==, out2);
}

static void
test_errors(void)
{
    const char *bad[] = {
        HEAD "<cputune><vcpupin vcpu='0' cpuset='x'/></cputune></domain>",
        HEAD "<cputune><shares>-5</shares></cputune></domain>",
        HEAD "<numatune><memory mode='bogus' nodeset='0'/></numatune></domain>",
        HEAD "<memtune><hard_limit>2048</hard_limit><swap_hard_limit>1024</swap_hard_limit></memtune></domain>",
        HEAD "<cputune><bogus/></cputune></domain>",
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(bad[i], 0, &err);
        g_assert_null(def);
        g_assert_nonnull(err);
    }
}

static void
test_cpuset(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *a = vrt_cpuset_canonical("0-7,^3,^5,^6", 63, &err);
    g_autofree char *b = vrt_cpuset_canonical("^0", 63, NULL);
    g_autofree char *c = vrt_cpuset_canonical("64", 63, NULL);
    g_autoptr(GArray) arr = vrt_cpuset_to_array("0-2,4,7");

    g_assert_cmpstr(a, ==, "0-2,4,7");
    g_assert_null(b);
    g_assert_null(c);
    g_assert_cmpuint(arr->len, ==, 5);
    g_assert_cmpuint(g_array_index(arr, guint, 3), ==, 4);
}

/* <iothreadpin>, <iothread_period> and <iothread_quota>: written in the
 * I/O threads' order after the emulator's pin, as libvirt; a pin of a
 * thread that does not exist, or a second one, refused with libvirt's text */
static void
test_iothreadpin(void)
{
    const char *xml = HEAD "<iothreads>2</iothreads><iothreadids><iothread id='3'/><iothread id='1'/></iothreadids>"
                           "<cputune><iothreadpin iothread='1' cpuset='2'/><iothread_quota>-1</iothread_quota>"
                           "<iothreadpin iothread='3' cpuset='1,0'/><iothread_period>100000</iothread_period>"
                           "<emulatorpin cpuset='1'/></cputune></domain>";
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &err);
    g_autofree char *out = NULL;
    g_autoptr(VrtDomainDef) again = NULL;
    g_autofree char *out2 = NULL;

    g_assert_no_error(err);
    out = vrt_domain_def_format(def, VRT_DOMAIN_XML_INACTIVE, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(out, "  <cputune>\n    <iothread_period>100000</iothread_period>\n"
                                 "    <iothread_quota>-1</iothread_quota>\n    <emulatorpin cpuset='1'/>\n"
                                 "    <iothreadpin iothread='3' cpuset='0-1'/>\n"
                                 "    <iothreadpin iothread='1' cpuset='2'/>\n  </cputune>\n"));
    again = vrt_domain_def_parse(out, 0, &err);
    g_assert_no_error(err);
    out2 = vrt_domain_def_format(again, VRT_DOMAIN_XML_INACTIVE, &err);
    g_assert_cmpstr(out, ==, out2);

    {
        static const char *const bad[][2] = {
            { HEAD "<iothreads>1</iothreads><cputune><iothreadpin iothread='2' cpuset='0'/></cputune></domain>",
              "Cannot find 'iothread' : 2" },
            { HEAD "<iothreads>1</iothreads><cputune><iothreadpin iothread='1' cpuset='0'/>"
                   "<iothreadpin iothread='1' cpuset='1'/></cputune></domain>",
              "duplicate iothreadpin for same iothread '1'" },
            { HEAD "<iothreads>1</iothreads><cputune><iothreadpin iothread='1'/></cputune></domain>",
              "missing cpuset for iothreadpin" },
        };

        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
            g_autoptr(GError) e = NULL;
            g_autoptr(VrtDomainDef) d = vrt_domain_def_parse(bad[i][0], 0, &e);

            g_assert_null(d);
            g_assert_nonnull(e);
            if (!strstr(e->message, bad[i][1]))
                g_error("error '%s' lacks '%s'", e->message, bad[i][1]);
        }
    }
}

/* <vcpusched>/<iothreadsched>: written one per thread after the pins, as
 * libvirt writes them; libvirt's refusals with its messages. */
static void
test_thread_sched(void)
{
    const char *xml = HEAD "<iothreads>4</iothreads><cputune>"
                           "<iothreadsched iothreads='1-3,^2' scheduler='batch' priority='7'/>"
                           "<iothreadsched iothreads='2' scheduler='rr' priority='0'/>"
                           "<vcpusched vcpus='1,^1,0' scheduler='fifo' priority='-3'/>"
                           "<vcpupin vcpu='0' cpuset='0'/></cputune></domain>";
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &err);
    g_autofree char *out = NULL;
    g_autoptr(VrtDomainDef) again = NULL;
    g_autofree char *out2 = NULL;

    g_assert_no_error(err);
    out = vrt_domain_def_format(def, VRT_DOMAIN_XML_INACTIVE, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(out, "  <cputune>\n    <vcpupin vcpu='0' cpuset='0'/>\n"
                                 "    <vcpusched vcpus='0' scheduler='fifo' priority='-3'/>\n"
                                 "    <iothreadsched iothreads='1' scheduler='batch'/>\n"
                                 "    <iothreadsched iothreads='2' scheduler='rr' priority='0'/>\n"
                                 "    <iothreadsched iothreads='3' scheduler='batch'/>\n  </cputune>\n"));
    again = vrt_domain_def_parse(out, 0, &err);
    g_assert_no_error(err);
    out2 = vrt_domain_def_format(again, VRT_DOMAIN_XML_INACTIVE, &err);
    g_assert_cmpstr(out, ==, out2);

    {
#define IOT HEAD "<iothreads>1</iothreads><cputune>"
        static const char *const bad[][2] = {
            { IOT "<iothreadsched iothreads='1' scheduler='batch'/><iothreadsched iothreads='2' scheduler='fifo' "
                  "priority='1'/></cputune></domain>",
              "Cannot find 'iothread' : 2" },
            { IOT
              "<vcpusched vcpus='0-1' scheduler='idle'/><vcpusched vcpus='1' scheduler='batch'/></cputune></domain>",
              "'vcpusched' attributes 'vcpus' must not overlap" },
            { IOT "<iothreadsched iothreads='1' scheduler='idle'/><iothreadsched iothreads='1' scheduler='idle'/>"
                  "</cputune></domain>",
              "'iothreadsched' attributes 'iothreads' must not overlap" },
            { IOT "<vcpusched vcpus='2' scheduler='idle'/></cputune></domain>",
              "vCPU '2' is not present in domain definition" },
            { IOT "<vcpusched scheduler='idle'/></cputune></domain>",
              "Missing attribute 'vcpus' in element 'vcpusched'" },
            { IOT "<vcpusched vcpus='0,^0' scheduler='idle'/></cputune></domain>",
              "'vcpus' scheduler bitmap '0,^0' is empty" },
            { IOT "<vcpusched vcpus='0'/></cputune></domain>",
              "Missing required attribute 'scheduler' in element 'vcpusched'" },
            { IOT "<vcpusched vcpus='0' scheduler='none'/></cputune></domain>",
              "Invalid value for attribute 'scheduler' in element 'vcpusched': 'none'." },
            { IOT "<iothreadsched iothreads='1' scheduler='deadline'/></cputune></domain>",
              "Invalid value for attribute 'scheduler' in element 'iothreadsched': 'deadline'." },
            { IOT "<vcpusched vcpus='0' scheduler='rr'/></cputune></domain>",
              "Missing required attribute 'priority' in element 'vcpusched'" },
            { IOT "<vcpusched vcpus='0' scheduler='fifo' priority='high'/></cputune></domain>",
              "Invalid value for attribute 'priority' in element 'vcpusched': 'high'. Expected integer value" },
        };
#undef IOT

        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
            g_autoptr(GError) e = NULL;
            g_autoptr(VrtDomainDef) d = vrt_domain_def_parse(bad[i][0], 0, &e);

            g_assert_null(d);
            g_assert_nonnull(e);
            if (!strstr(e->message, bad[i][1]))
                g_error("error '%s' lacks '%s'", e->message, bad[i][1]);
        }
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-tune/roundtrip", test_roundtrip);
    g_test_add_func("/domain-tune/errors", test_errors);
    g_test_add_func("/domain-tune/cpuset", test_cpuset);
    g_test_add_func("/domain-tune/iothreadpin", test_iothreadpin);
    g_test_add_func("/domain-tune/thread-sched", test_thread_sched);
    return g_test_run();
}
