/*
 * Tests of the capabilities formatter: a host like the ones vrt runs on
 * (with and without NUMA cells) gives XML that validates against libvirt's
 * capability.rng and carries what virsh and python3-libvirt read from it.
 */
#include "conf/domain/capabilities.h"
#include "conf/domain/domain_conf.h"
#include "util/error.h"
#include "testutil.h"

#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

static VrtCaps *
sample_caps(bool numa)
{
    VrtCaps *caps = vrt_caps_new("x86_64");
    VrtCapsGuest *g;
    guint sizes[] = { 4, 2048, 1048576 };

    vrt_uuid_parse("3c1a3f4e-8d2b-4a51-9e77-0f1b2c3d4e5f", caps->host_uuid);
    caps->host_uuid_set = true;
    caps->cpu_vendor = g_strdup("Intel");
    caps->cpu_model = g_strdup("Skylake-Client-IBRS");
    caps->sockets = 1;
    caps->cores = 2;
    caps->threads = 1;
    g_ptr_array_add(caps->cpu_features, g_strdup("vmx"));
    g_array_append_vals(caps->page_sizes_kib, sizes, G_N_ELEMENTS(sizes));
    caps->memory_kib = 8 * 1024 * 1024;
    if (numa) {
        VrtCapsCell *cell = vrt_caps_add_cell(caps, 0, caps->memory_kib);
        vrt_caps_cell_add_cpu(cell, 0, 0, 0, 0, NULL);
        vrt_caps_cell_add_cpu(cell, 1, 0, 0, 1, "1");
    }
    caps->migration_live = true;
    g_ptr_array_add(caps->uri_transports, g_strdup("tcp"));
    g_ptr_array_add(caps->uri_transports, g_strdup("rdma"));
    g = vrt_caps_add_guest(caps, "hvm", "x86_64", 64, "/usr/bin/qemu-system-x86_64");
    vrt_caps_guest_add_machine(g, "pc-i440fx-7.2", NULL, 255);
    vrt_caps_guest_add_machine(g, "pc", "pc-i440fx-7.2", 255);
    vrt_caps_guest_add_machine(g, "pc-q35-7.2", NULL, 288);
    vrt_caps_guest_add_machine(g, "q35", "pc-q35-7.2", 288);
    g->domain_qemu = true;
    g->domain_kvm = true;
    g = vrt_caps_add_guest(caps, "hvm", "i686", 32, "/usr/bin/qemu-system-i386");
    vrt_caps_guest_add_machine(g, "pc-i440fx-7.2", NULL, 255);
    g->domain_qemu = true;
    return caps;
}

static void
test_format(gconstpointer data)
{
    g_autoptr(VrtCaps) caps = sample_caps(GPOINTER_TO_INT(data));
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vrt_caps_format(caps, &error);

    g_assert_no_error(error);
    vrt_test_assert_validates(xml, "capability", "capabilities");
    g_assert_nonnull(strstr(xml, "<uuid>3c1a3f4e-8d2b-4a51-9e77-0f1b2c3d4e5f</uuid>"));
    g_assert_nonnull(strstr(xml, "<machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>"));
    g_assert_nonnull(strstr(xml, "<domain type='kvm'/>"));
    g_assert_nonnull(strstr(xml, "<model>none</model>"));
    g_assert_nonnull(strstr(xml, "<memory unit='KiB'>8388608</memory>"));
    g_assert_nonnull(strstr(xml, "<topology sockets='1' dies='1' cores='2' threads='1'/>"));
}

static void
test_missing_arch(void)
{
    g_autoptr(VrtCaps) caps = vrt_caps_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vrt_caps_format(caps, &error);

    g_assert_null(xml);
    g_assert_error(error, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/domconf/caps/flat", GINT_TO_POINTER(0), test_format);
    g_test_add_data_func("/domconf/caps/numa", GINT_TO_POINTER(1), test_format);
    g_test_add_func("/domconf/caps/missing-arch", test_missing_arch);
    return g_test_run();
}
