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
    caps->microcode = 240;
    caps->sig_family = 6;
    caps->sig_model = 94;
    caps->sig_stepping = 3;
    caps->maxphysaddr_bits = 39;
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
    g_assert_nonnull(strstr(xml, "<vendor>Intel</vendor>\n"
                                 "      <microcode version='240'/>\n"
                                 "      <signature family='6' model='94' stepping='3'/>\n"
                                 "      <topology sockets='1' dies='1' cores='2' threads='1'/>\n"
                                 "      <maxphysaddr mode='emulate' bits='39'/>\n"
                                 "      <feature name='vmx'/>"));
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

/* Domain capabilities as the QEMU driver fills them validate against
 * libvirt's domaincaps.rng, also with nothing optional filled in. */
static void
test_domcaps(gconstpointer data)
{
    bool full = GPOINTER_TO_INT(data);
    g_autoptr(VrtDomCaps) c = vrt_domcaps_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    VrtDomCapsItem *it;

    c->path = g_strdup("/usr/bin/qemu-system-x86_64");
    c->domain_type = g_strdup(full ? "kvm" : "qemu");
    c->arch = g_strdup("x86_64");
    if (full) {
        c->machine = g_strdup("pc-i440fx-7.2");
        c->max_vcpus = 255;
        c->host_passthrough = c->host_model = c->maximum = c->custom = true;
        g_ptr_array_add(c->firmware, g_strdup("bios"));
        g_ptr_array_add(c->loaders, g_strdup("/usr/share/OVMF/OVMF_CODE.fd"));
        g_ptr_array_add(c->loader_types, g_strdup("pflash"));
        g_ptr_array_add(c->memory_backing, g_strdup("anonymous"));
        vrt_domcaps_add_cpu_model(c, "Skylake-Client", "Intel", "no", false);
        vrt_domcaps_add_cpu_model(c, "qemu64", NULL, "yes", false);
        vrt_domcaps_add_cpu_model(c, "Icelake-Client", "Intel", "no", true);
        it = vrt_domcaps_add_item(c->devices, "disk", true);
        vrt_domcaps_item_enum(it, "bus", "virtio", "sata", NULL);
        vrt_domcaps_item_enum(it, "model", NULL);
        vrt_domcaps_add_item(c->devices, "tpm", false);
        vrt_domcaps_add_item(c->features, "genid", false);
    }
    xml = vrt_domcaps_format(c, &error);
    g_assert_no_error(error);
    vrt_test_assert_validates(xml, "domaincaps", "domain capabilities");
    g_assert_nonnull(strstr(xml, "<path>/usr/bin/qemu-system-x86_64</path>"));
    if (full) {
        g_assert_nonnull(strstr(xml, "<model usable='yes' vendor='unknown'>qemu64</model>"));
        g_assert_nonnull(strstr(xml, "<model usable='no' deprecated='yes' vendor='Intel'>Icelake-Client</model>"));
        g_assert_nonnull(strstr(xml, "<enum name='model'/>"));
    } else {
        g_assert_nonnull(strstr(xml, "<loader supported='no'/>"));
    }
}

static void
test_domcaps_missing(void)
{
    g_autoptr(VrtDomCaps) c = vrt_domcaps_new();
    g_autoptr(GError) error = NULL;

    c->path = g_strdup("/usr/bin/qemu-system-x86_64");
    g_assert_null(vrt_domcaps_format(c, &error));
    g_assert_error(error, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
}

static char *
sample_dmi(const char *attr, gpointer data)
{
    if (g_str_equal(attr, "bios_vendor"))
        return g_strdup("SeaBIOS & co");
    if (g_str_equal(attr, "product_uuid"))
        return g_strdup("3c1a3f4e-8d2b-4a51-9e77-0f1b2c3d4e5f");
    return data ? g_strdup("x") : NULL;
}

static char *
no_dmi(const char *attr, gpointer data)
{
    return NULL;
}

static void
test_sysinfo(void)
{
    g_autofree char *xml = vrt_sysinfo_format(sample_dmi, NULL);
    g_autofree char *all = vrt_sysinfo_format(sample_dmi, GINT_TO_POINTER(1));

    g_assert_cmpstr(xml, ==,
                    "<sysinfo type='smbios'>\n"
                    "  <bios>\n"
                    "    <entry name='vendor'>SeaBIOS &amp; co</entry>\n"
                    "  </bios>\n"
                    "  <system>\n"
                    "    <entry name='uuid'>3c1a3f4e-8d2b-4a51-9e77-0f1b2c3d4e5f</entry>\n"
                    "  </system>\n"
                    "</sysinfo>\n");
    g_assert_nonnull(strstr(all, "<baseBoard>\n    <entry name='manufacturer'>x</entry>"));
    g_assert_nonnull(strstr(all, "<chassis>\n    <entry name='manufacturer'>x</entry>"));
    g_assert_null(vrt_sysinfo_format(no_dmi, NULL));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/domconf/caps/flat", GINT_TO_POINTER(0), test_format);
    g_test_add_data_func("/domconf/caps/numa", GINT_TO_POINTER(1), test_format);
    g_test_add_func("/domconf/caps/missing-arch", test_missing_arch);
    g_test_add_data_func("/domconf/domcaps/full", GINT_TO_POINTER(1), test_domcaps);
    g_test_add_data_func("/domconf/domcaps/bare", GINT_TO_POINTER(0), test_domcaps);
    g_test_add_func("/domconf/domcaps/missing", test_domcaps_missing);
    g_test_add_func("/domconf/sysinfo", test_sysinfo);
    return g_test_run();
}
