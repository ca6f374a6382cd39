/*
 * Unit tests of the x86 CPU driver and the <cpu> parser: a CPU's CPUID
 * bits decode back to the model and features libvirt names for them (the
 * host CPU Debian's libvirtd reports on a Zen 5 EPYC virtual machine, an
 * Intel Skylake client), and compare and baseline give libvirt's answers
 * and error texts for the cases its tests and this host exercise.
 */
#include "conf/cpu/cpu_x86.h"
#include "host/cpuleaves.h"
#include "util/error.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* What libvirtd 9.0 reported as this kind of host's CPU. */
static const char *const epyc_vm_features[] = {
    "vme",
    "ht",
    "pclmuldq",
    "ssse3",
    "fma",
    "sse4.1",
    "sse4.2",
    "movbe",
    "popcnt",
    "aes",
    "xsave",
    "osxsave",
    "avx",
    "f16c",
    "rdrand",
    "hypervisor",
    "arat",
    "fsgsbase",
    "bmi1",
    "avx2",
    "smep",
    "bmi2",
    "erms",
    "avx512f",
    "avx512dq",
    "adx",
    "smap",
    "avx512ifma",
    "clflushopt",
    "clwb",
    "avx512cd",
    "sha-ni",
    "avx512bw",
    "avx512vl",
    "avx512vbmi",
    "avx512vbmi2",
    "gfni",
    "vaes",
    "vpclmulqdq",
    "avx512vnni",
    "avx512bitalg",
    "avx512-vpopcntdq",
    "movdiri",
    "movdir64b",
    "fsrm",
    "avx512-vp2intersect",
    "avx-vnni",
    "avx512-bf16",
    "xsaveopt",
    "xsavec",
    "xgetbv1",
    "mmxext",
    "pdpe1gb",
    "lahf_lm",
    "cr8legacy",
    "abm",
    "sse4a",
    "misalignsse",
    "3dnowprefetch",
    "invtsc",
    "clzero",
    "xsaveerptr",
    NULL,
};

static VrtCpuDef *
epyc_vm_host(void)
{
    VrtCpuDef *cpu = vrt_cpu_def_new(VRT_CPU_TYPE_HOST);

    cpu->arch = g_strdup("x86_64");
    cpu->model = g_strdup("kvm64");
    cpu->vendor = g_strdup("AMD");
    cpu->sig_family = 26;
    cpu->sig_model = 2;
    cpu->sig_stepping = 1;
    for (guint i = 0; epyc_vm_features[i]; i++)
        vrt_cpu_def_add_feature(cpu, epyc_vm_features[i], VRT_CPU_FEATURE_NONE);
    return cpu;
}

/* Its CPUID bits decode to the same model, vendor, signature and features
 * in the same order. */
static void
test_decode_epyc_vm(void)
{
    g_autoptr(VrtCpuDef) host = epyc_vm_host();
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtCpuxData) data = vrt_cpux_encode(host, &err);
    g_autoptr(VrtCpuDef) decoded = NULL;
    g_autofree char *want = NULL, *got = NULL;

    g_assert_no_error(err);
    decoded = vrt_cpux_decode_host(data, &err);
    g_assert_no_error(err);
    want = vrt_cpu_def_format(host);
    got = vrt_cpu_def_format(decoded);
    g_assert_cmpstr(got, ==, want);
    g_assert_cmpuint(decoded->features->len, ==, 62);
}

/* A Skylake client's bits name Skylake-Client-IBRS (its signature's
 * model); a feature beyond it is listed, one it lacks makes an older
 * model fit instead. */
static void
test_decode_skylake(void)
{
    g_autoptr(VrtCpuDef) cpu = vrt_cpu_def_new(VRT_CPU_TYPE_HOST);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtCpuxData) data = NULL;
    g_autoptr(VrtCpuDef) decoded = NULL;

    cpu->arch = g_strdup("x86_64");
    cpu->model = g_strdup("Skylake-Client-IBRS");
    cpu->vendor = g_strdup("Intel");
    cpu->sig_family = 6;
    cpu->sig_model = 94;
    cpu->sig_stepping = 3;
    vrt_cpu_def_add_feature(cpu, "vmx", VRT_CPU_FEATURE_NONE);
    data = vrt_cpux_encode(cpu, &err);
    g_assert_no_error(err);
    decoded = vrt_cpux_decode_host(data, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(decoded->model, ==, "Skylake-Client-IBRS");
    g_assert_cmpstr(decoded->vendor, ==, "Intel");
    g_assert_cmpuint(decoded->sig_model, ==, 94);
    g_assert_cmpuint(decoded->features->len, ==, 1);
    g_assert_cmpstr(g_array_index(decoded->features, VrtCpuFeature, 0).name, ==, "vmx");
    g_assert_true(vrt_cpux_data_has_feature(data, "spec-ctrl"));
    g_assert_false(vrt_cpux_data_has_feature(data, "avx512f"));
}

static int
compare_xml(const VrtCpuDef *host, const char *xml, bool fail, GError **error)
{
    g_autoptr(VrtCpuDef) cpu = vrt_cpu_def_parse(xml, VRT_CPU_TYPE_AUTO, error);

    if (!cpu)
        return -1;
    return vrt_cpux_compare(host, cpu, fail, error);
}

static void
test_compare(void)
{
    g_autoptr(VrtCpuDef) host = epyc_vm_host();
    g_autofree char *host_xml = vrt_cpu_def_format(host);
    g_autoptr(GError) err = NULL;

    int r = compare_xml(host, host_xml, true, &err);
    g_assert_no_error(err);
    g_assert_cmpint(r, ==, 1);
    g_assert_cmpint(compare_xml(host, "<cpu><model>kvm64</model></cpu>", true, &err), ==, 2);
    g_assert_no_error(err);
    g_assert_cmpint(compare_xml(host, "<cpu><model>EPYC</model></cpu>", false, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpint(compare_xml(host, "<cpu><model>EPYC</model></cpu>", true, &err), ==, -1);
    g_assert_error(err, VRT_ERROR, VIR_ERR_CPU_INCOMPATIBLE);
    g_assert_cmpstr(err->message, ==,
                    "the CPU is incompatible with host CPU: Host CPU does not provide required features: rdseed, "
                    "fxsr_opt, rdtscp, svm, osvw");
    g_clear_error(&err);
    g_assert_cmpint(
        compare_xml(host, "<cpu><model>kvm64</model><feature policy='forbid' name='sse'/></cpu>", true, &err), ==, -1);
    g_assert_cmpstr(err->message, ==,
                    "the CPU is incompatible with host CPU: Host CPU provides forbidden features: sse");
    g_clear_error(&err);
    g_assert_cmpint(compare_xml(host, "<cpu><model>kvm64</model><vendor>Intel</vendor></cpu>", true, &err), ==, -1);
    g_assert_cmpstr(err->message, ==,
                    "the CPU is incompatible with host CPU: host CPU vendor does not match required CPU vendor Intel");
    g_clear_error(&err);
    g_assert_cmpint(compare_xml(host, "<cpu><model>Nope</model></cpu>", false, &err), ==, -1);
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
    g_assert_cmpstr(err->message, ==, "internal error: Unknown CPU model Nope");
}

static char *
baseline(const char *const *xmls, bool migratable, bool expand, GError **error)
{
    g_autoptr(GPtrArray) cpus = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_cpu_def_free);
    g_autoptr(VrtCpuDef) b = NULL;

    for (guint i = 0; xmls[i]; i++) {
        VrtCpuDef *c = vrt_cpu_def_parse(xmls[i], VRT_CPU_TYPE_HOST, error);
        if (!c)
            return NULL;
        g_ptr_array_add(cpus, c);
    }
    if (!(b = vrt_cpux_baseline((VrtCpuDef **)cpus->pdata, cpus->len, migratable, error)))
        return NULL;
    if (expand && !vrt_cpux_expand_features(b, error))
        return NULL;
    return vrt_cpu_def_format(b);
}

static void
test_baseline(void)
{
    g_autoptr(GError) err = NULL;
    const char *const two_intel[] = {
        "<cpu><arch>x86_64</arch><model>Skylake-Client-IBRS</model><vendor>Intel</vendor>"
        "<feature name='avx512f'/></cpu>",
        "<cpu><arch>x86_64</arch><model>Haswell-noTSX</model><vendor>Intel</vendor></cpu>",
        NULL,
    };
    const char *const mixed[] = {
        "<cpu><arch>x86_64</arch><model>Westmere</model><vendor>Intel</vendor></cpu>",
        "<cpu><arch>x86_64</arch><model>EPYC</model><vendor>AMD</vendor></cpu>",
        NULL,
    };
    const char *const no_arch[] = { "<cpu><model>kvm64</model></cpu>", NULL };
    g_autofree char *got = baseline(two_intel, false, false, &err);
    g_autofree char *expanded = NULL;

    g_assert_no_error(err);
    g_assert_cmpstr(got, ==,
                    "<cpu mode='custom' match='exact'>\n"
                    "  <model fallback='allow'>Haswell-noTSX</model>\n"
                    "  <vendor>Intel</vendor>\n"
                    "</cpu>\n");
    expanded = baseline(two_intel + 1, false, true, &err);
    g_assert_no_error(err);
    g_assert_true(g_str_has_prefix(expanded, "<cpu mode='custom' match='exact'>\n"
                                             "  <model fallback='forbid'>Haswell-noTSX</model>\n"
                                             "  <vendor>Intel</vendor>\n"
                                             "  <feature policy='require' name='aes'/>\n"
                                             "  <feature policy='require' name='apic'/>\n"));
    g_assert_nonnull(strstr(expanded, "<feature policy='require' name='xsave'/>\n</cpu>\n"));
    g_assert_null(baseline(mixed, false, false, &err));
    g_assert_cmpstr(err->message, ==, "operation failed: CPU vendors do not match");
    g_clear_error(&err);
    g_assert_null(baseline(no_arch, false, false, &err));
    g_assert_cmpstr(err->message, ==, "XML error: Missing CPU architecture");
}

/* A migratable baseline of this host leaves out invtsc. */
static void
test_baseline_migratable(void)
{
    g_autoptr(VrtCpuDef) host = epyc_vm_host();
    g_autofree char *xml = vrt_cpu_def_format(host);
    const char *const one[] = { xml, NULL };
    g_autoptr(GError) err = NULL;
    g_autofree char *all = baseline(one, false, false, &err);
    g_autofree char *mig = baseline(one, true, false, &err);

    g_assert_no_error(err);
    g_assert_nonnull(strstr(all, "name='invtsc'"));
    g_assert_null(strstr(mig, "name='invtsc'"));
    g_assert_true(g_str_has_prefix(mig, "<cpu mode='custom' match='exact'>\n"
                                        "  <model fallback='forbid'>kvm64</model>\n"
                                        "  <vendor>AMD</vendor>\n"));
}

static void
test_parse_errors(void)
{
    static const struct {
        const char *xml;
        int code;
        const char *msg;
    } cases[] = {
        { "<domain/>", VIR_ERR_XML_ERROR, "XML error: XML does not contain expected 'cpu' element" },
        { "<cpu", VIR_ERR_XML_DETAIL, "(CPU_definition):1: Couldn't find end of Start Tag cpu line 1\n<cpu\n----^" },
        { "", VIR_ERR_XML_DETAIL, "(CPU_definition):1: Document is empty\n(null)\n^" },
        { "<cpu><feature name='sse'/></cpu>", VIR_ERR_XML_ERROR,
          "XML error: Non-empty feature list specified without CPU model" },
        { "<cpu><vendor>AMD</vendor></cpu>", VIR_ERR_XML_ERROR, "XML error: CPU vendor specified without CPU model" },
        { "<cpu mode='bad'/>", VIR_ERR_CONFIG_UNSUPPORTED, "unsupported configuration: Invalid mode attribute 'bad'" },
        { "<cpu><arch>x86_64</arch></cpu>", VIR_ERR_XML_ERROR, "XML error: Missing CPU model name" },
        { "<cpu match='foo'><model>kvm64</model></cpu>", VIR_ERR_XML_ERROR,
          "XML error: Invalid value for attribute 'match' in element 'cpu': 'foo'." },
        { "<cpu><model>kvm64</model><feature name='sse'/><feature name='sse'/></cpu>", VIR_ERR_XML_ERROR,
          "XML error: CPU feature 'sse' specified more than once" },
        { "<cpu><model>kvm64</model><topology sockets='0' cores='1' threads='1'/></cpu>", VIR_ERR_XML_ERROR,
          "XML error: Invalid value for attribute 'sockets' in element 'topology': Zero is not permitted" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(VrtCpuDef) cpu = vrt_cpu_def_parse(cases[i].xml, VRT_CPU_TYPE_AUTO, &err);

        g_assert_null(cpu);
        g_assert_error(err, VRT_ERROR, cases[i].code);
        g_assert_cmpstr(err->message, ==, cases[i].msg);
    }
}

/* Writes one leaf as a line of the table standing for the cpuid device. */
static void
put_leaf(int fd, guint32 leaf, guint32 sub, guint32 eax, guint32 ebx, guint32 ecx, guint32 edx)
{
    g_autofree char *line = g_strdup_printf("%x %x %x %x %x %x\n", leaf, sub, eax, ebx, ecx, edx);

    g_assert_cmpint(write(fd, line, strlen(line)), ==, (gssize)strlen(line));
}

/* Under a host root the leaves come from <root>/dev/cpu/0/cpuid (here a
 * table of leaves), leaf 7's subleaves as its eax says: an AMD family 15
 * model 6 CPU is Opteron_G1 (its signature), with the features beyond it. */
static void
test_host_leaves(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *root = g_dir_make_tmp("vrt-cpuid-XXXXXX", &err);
    g_autofree char *dir = g_build_filename(root, "dev", "cpu", "0", NULL);
    g_autofree char *dev = g_build_filename(dir, "cpuid", NULL);
    g_autoptr(VrtHost) host = NULL;
    g_autoptr(GArray) leaves = NULL;
    g_autoptr(VrtCpuxData) data = vrt_cpux_data_new();
    g_autoptr(VrtCpuDef) cpu = NULL;
    int fd;

    g_assert_no_error(err);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    fd = open(dev, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    /* "AuthenticAMD"; family 15 model 6 stepping 1; kvm64's leaf 1 bits */
    put_leaf(fd, 0, 0, 7, 0x68747541, 0x444d4163, 0x69746e65);
    put_leaf(fd, 1, 0, 0x00000f61, 0, 0x00802001, 0x078bfbff);
    put_leaf(fd, 7, 0, 1, 0, 0, 0);
    put_leaf(fd, 7, 1, 0, 0, 0, 0);
    put_leaf(fd, 0x80000000, 0, 0x80000001, 0, 0, 0);
    put_leaf(fd, 0x80000001, 0, 0, 0, 0, 0x20100800);
    close(fd);
    host = vrt_host_new(root, &err);
    g_assert_no_error(err);
    leaves = vrt_host_cpuid_all(host, &err);
    g_assert_no_error(err);
    /* leaves 0-7 (7 with its subleaf 1) and 0x80000000-1 */
    g_assert_cmpuint(leaves->len, ==, 11);
    for (guint i = 0; i < leaves->len; i++) {
        const VrtHostCpuid *l = &g_array_index(leaves, VrtHostCpuid, i);
        VrtCpuxItem it = { VRT_CPUX_CPUID, l->leaf, l->sub, l->eax, l->ebx, l->ecx, l->edx };
        vrt_cpux_data_add(data, &it);
    }
    cpu = vrt_cpux_decode_host(data, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(cpu->model, ==, "Opteron_G1");
    g_assert_cmpstr(cpu->vendor, ==, "AMD");
    g_assert_cmpuint(cpu->sig_family, ==, 15);
    g_assert_cmpuint(cpu->sig_model, ==, 6);
    g_assert_cmpuint(cpu->features->len, ==, 3);
    g_assert_cmpstr(g_array_index(cpu->features, VrtCpuFeature, 0).name, ==, "vme");
    g_assert_cmpstr(g_array_index(cpu->features, VrtCpuFeature, 1).name, ==, "cx16");
    g_assert_cmpstr(g_array_index(cpu->features, VrtCpuFeature, 2).name, ==, "popcnt");
    g_assert_cmpint(unlink(dev), ==, 0);
    g_assert_cmpint(rmdir(dir), ==, 0);
    g_autofree char *cpudir = g_path_get_dirname(dir);
    g_autofree char *devdir = g_path_get_dirname(cpudir);
    rmdir(cpudir);
    rmdir(devdir);
    rmdir(root);
}

/* The hypervisor's CPU: QEMU's feature list decoded only into QEMU's
 * models, a model's blockers disabled even when the CPU has them. */
static void
test_decode_hypervisor(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtCpuDef) epyc = vrt_cpu_def_new(VRT_CPU_TYPE_GUEST);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autoptr(VrtCpuxData) data = NULL;
    g_autoptr(VrtCpuDef) cpu = NULL;
    g_autoptr(VrtCpuDef) older = NULL;
    char *blockers[] = { "sha-ni", NULL };
    VrtCpuxHvModel both[] = { { "Opteron_G1", NULL }, { "EPYC", blockers } };

    epyc->model = g_strdup("EPYC");
    g_assert_true(vrt_cpux_expand_features(epyc, &err));
    g_assert_no_error(err);
    for (guint i = 0; i < epyc->features->len; i++) {
        VrtCpuFeature *f = &g_array_index(epyc->features, VrtCpuFeature, i);
        if (f->policy != VRT_CPU_FEATURE_DISABLE)
            g_ptr_array_add(names, f->name);
    }
    g_ptr_array_add(names, (char *)"not-a-feature"); /* ignored, as libvirt */
    g_ptr_array_add(names, NULL);
    data = vrt_cpux_data_from_features("AuthenticAMD", 23, 1, 2, (const char *const *)names->pdata, &err);
    g_assert_no_error(err);

    cpu = vrt_cpux_decode_hv(data, both, G_N_ELEMENTS(both), &err);
    g_assert_no_error(err);
    g_assert_cmpstr(cpu->model, ==, "EPYC");
    g_assert_cmpstr(cpu->vendor, ==, "AMD");
    g_assert_cmpint(cpu->fallback, ==, VRT_CPU_FALLBACK_FORBID);
    g_assert_nonnull(vrt_cpu_def_find_feature(cpu, "sha-ni"));
    g_assert_cmpint(vrt_cpu_def_find_feature(cpu, "sha-ni")->policy, ==, VRT_CPU_FEATURE_DISABLE);

    /* EPYC not offered: the other model, the rest required */
    older = vrt_cpux_decode_hv(data, both, 1, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(older->model, ==, "Opteron_G1");
    g_assert_cmpint(vrt_cpu_def_find_feature(older, "sse4.2")->policy, ==, VRT_CPU_FEATURE_REQUIRE);

    g_assert_null(vrt_cpux_data_from_features("AMD", 23, 1, 2, NULL, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu-x86/decode/epyc-vm", test_decode_epyc_vm);
    g_test_add_func("/cpu-x86/decode/skylake", test_decode_skylake);
    g_test_add_func("/cpu-x86/compare", test_compare);
    g_test_add_func("/cpu-x86/baseline", test_baseline);
    g_test_add_func("/cpu-x86/baseline-migratable", test_baseline_migratable);
    g_test_add_func("/cpu-x86/parse-errors", test_parse_errors);
    g_test_add_func("/cpu-x86/host-leaves", test_host_leaves);
    g_test_add_func("/cpu-x86/decode-hypervisor", test_decode_hypervisor);
    return g_test_run();
}
