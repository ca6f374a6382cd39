/*
 * Unit tests of QEMU's AppArmor profile (qemu_apparmor.c): the file list
 * of a domain with a qcow2 backing chain, a read-only cdrom, a shareable
 * disk, a serial file, kernel, initrd, loader, NVRAM and a VFIO host
 * device (on a simulated host's sysfs) is exactly what it must be; its
 * rules for the domain's own files are those Debian's virt-aa-helper
 * writes for the same XML (when libvirt-daemon-system is installed); and
 * the profile made from the host's template with that list is accepted
 * by apparmor_parser's parse (-Q -K: no kernel load), which refuses a
 * broken one (when the apparmor package is installed).
 */
#include "drivers/qemu/qemu_apparmor.h"
#include "util/error.h"

#include <string.h>
#include <unistd.h>

#define UUID "11111111-2222-3333-4444-555555555555"
#define TEMPLATE "/etc/apparmor.d/libvirt/TEMPLATE.qemu"
#define PARSER "/sbin/apparmor_parser"
#define AA_HELPER "/usr/lib/libvirt/virt-aa-helper"

typedef struct {
    char *dir;
    char *xml; /* the domain, with the host device */
    char *xml_nohostdev; /* the same without it, for virt-aa-helper (which reads the real sysfs) */
    VrtHost *host;
} Fixture;

static void
put(const char *dir, const char *name, const char *text, gssize len)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *d = g_path_get_dirname(path);

    g_assert_cmpint(g_mkdir_with_parents(d, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, text, len, NULL));
}

/* A qcow2 header naming backing (NULL: none), as vrt_qemu_security_qcow2_backing reads it. */
static void
put_qcow2(const char *dir, const char *name, const char *backing)
{
    guint8 buf[128] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };

    if (backing) {
        guint64 off = GUINT64_TO_BE(64);
        guint32 len = GUINT32_TO_BE((guint32)strlen(backing));

        memcpy(buf + 8, &off, 8);
        memcpy(buf + 16, &len, 4);
        memcpy(buf + 64, backing, strlen(backing));
    }
    put(dir, name, (const char *)buf, sizeof(buf));
}

static const char *DOMAIN_XML =
    "<domain type='kvm'><name>aa</name><uuid>" UUID "</uuid><memory unit='MiB'>64</memory>"
    "<os><type arch='x86_64' machine='pc'>hvm</type>"
    "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader><nvram>%1$s/img/nvram.fd</nvram>"
    "<kernel>%1$s/img/vmlinuz</kernel><initrd>%1$s/img/initrd</initrd></os><devices>"
    "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='%1$s/img/top.qcow2'/>"
    "<target dev='vda' bus='virtio'/></disk>"
    "<disk type='file' device='cdrom'><source file='%1$s/img/cd.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>"
    "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='%1$s/img/shared.img'/>"
    "<target dev='vdb' bus='virtio'/><shareable/></disk>"
    "<filesystem accessmode='mapped'><source dir='%1$s/img/share'/><target dir='s'/></filesystem>"
    "<filesystem><driver type='path'/><source dir='%1$s/img/ro/'/><target dir='r'/><readonly/></filesystem>"
    "<serial type='file'><source path='%1$s/img/serial.txt'/><target port='0'/></serial>"
    "%2$s</devices></domain>";
static const char *HOSTDEV = "<hostdev mode='subsystem' type='pci' managed='no'><source>"
                             "<address domain='0x0000' bus='0x06' slot='0x10' function='0x1'/></source></hostdev>";

static void
fixture_init(Fixture *f)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *devdir = NULL;
    g_autofree char *grpdir = NULL;
    g_autofree char *link = NULL;

    f->dir = g_dir_make_tmp("vrt-aa-XXXXXX", &err);
    g_assert_no_error(err);
    put_qcow2(f->dir, "img/base.qcow2", NULL);
    put_qcow2(f->dir, "img/top.qcow2", "base.qcow2");
    for (guint i = 0; i < 6; i++) {
        const char *n[] = { "img/cd.iso",  "img/shared.img", "img/nvram.fd",
                            "img/vmlinuz", "img/initrd",     "img/serial.txt" };
        put(f->dir, n[i], "", 0);
    }
    /* the simulated host's VF: the files libvirt gives QEMU, one it does
     * not, and its IOMMU group */
    devdir = g_build_filename(f->dir, "host/sys/bus/pci/devices/0000:06:10.1", NULL);
    for (guint i = 0; i < 6; i++) {
        const char *n[] = { "config", "device", "resource", "resource0", "vendor", "driver_override" };
        put(devdir, n[i], "", 0);
    }
    grpdir = g_build_filename(f->dir, "host/sys/kernel/iommu_groups/101", NULL);
    g_assert_cmpint(g_mkdir_with_parents(grpdir, 0755), ==, 0);
    link = g_build_filename(devdir, "iommu_group", NULL);
    g_assert_cmpint(symlink(grpdir, link), ==, 0);
    {
        g_autofree char *root = g_build_filename(f->dir, "host", NULL);

        f->host = vrt_host_new(root, &err);
        g_assert_no_error(err);
    }
    f->xml = g_strdup_printf(DOMAIN_XML, f->dir, HOSTDEV);
    f->xml_nohostdev = g_strdup_printf(DOMAIN_XML, f->dir, "");
}

static void
fixture_clear(Fixture *f)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

    g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
    vrt_host_free(f->host);
    g_free(f->dir);
    g_free(f->xml);
    g_free(f->xml_nohostdev);
}

static char *
files_for(Fixture *f, const char *xml)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &err);
    g_autofree char *run_dir = g_build_filename(f->dir, "run/domain-1-aa", NULL);
    g_autofree char *log = g_build_filename(f->dir, "log/aa.log", NULL);
    g_autofree char *pid = g_build_filename(f->dir, "run/aa.pid", NULL);
    VrtQemuAppArmorDomain dom = { .run_dir = run_dir, .log_file = log, .pidfile = pid };

    g_assert_no_error(err);
    return vrt_qemu_apparmor_files(f->host, def, &dom);
}

static void
test_files(void)
{
    Fixture f = { 0 };
    g_autofree char *got = NULL;
    g_autofree char *want = NULL;

    fixture_init(&f);
    got = files_for(&f, f.xml);
    want = g_strdup_printf("# DO NOT EDIT THIS FILE DIRECTLY. IT IS MANAGED BY LIBVIRT.\n"
                           "  \"%1$s/log/aa.log\" w,\n"
                           "  \"%1$s/run/domain-1-aa/*\" rw,\n"
                           "  \"%1$s/run/aa.pid\" rwk,\n"
                           /* the top image as the disk uses it, its backing file read-only */
                           "  \"%1$s/img/top.qcow2\" rwk,\n"
                           "  \"%1$s/img/base.qcow2\" rk,\n"
                           "  # don't audit writes to readonly files\n"
                           "  deny \"%1$s/img/base.qcow2\" w,\n"
                           "  \"%1$s/img/cd.iso\" rk,\n"
                           "  # don't audit writes to readonly files\n"
                           "  deny \"%1$s/img/cd.iso\" w,\n"
                           /* shareable: as any writable disk, as libvirt gives it */
                           "  \"%1$s/img/shared.img\" rwk,\n"
                           "  \"%1$s/img/serial.txt\" rw,\n"
                           "  \"%1$s/img/vmlinuz\" r,\n"
                           "  # don't audit writes to readonly files\n"
                           "  deny \"%1$s/img/vmlinuz\" w,\n"
                           "  \"%1$s/img/initrd\" r,\n"
                           "  # don't audit writes to readonly files\n"
                           "  deny \"%1$s/img/initrd\" w,\n"
                           "  \"/usr/share/OVMF/OVMF_CODE.fd\" rk,\n"
                           "  # don't audit writes to readonly files\n"
                           "  deny \"/usr/share/OVMF/OVMF_CODE.fd\" w,\n"
                           "  \"%1$s/img/nvram.fd\" rwk,\n"
                           /* 9p shares: the directory and its tree, a read-only one
                            * without a deny rule */
                           "  \"%1$s/img/share/\" r,\n"
                           "  \"%1$s/img/share/**\" rwl,\n"
                           "  \"%1$s/img/ro/\" r,\n"
                           "  \"%1$s/img/ro/**\" r,\n"
                           /* the VF's files libvirt gives (not driver_override), its group node */
                           "  \"%1$s/host/sys/bus/pci/devices/0000:06:10.1/config\" rw,\n"
                           "  \"%1$s/host/sys/bus/pci/devices/0000:06:10.1/device\" rw,\n"
                           "  \"%1$s/host/sys/bus/pci/devices/0000:06:10.1/resource\" rw,\n"
                           "  \"%1$s/host/sys/bus/pci/devices/0000:06:10.1/resource0\" rw,\n"
                           "  \"%1$s/host/sys/bus/pci/devices/0000:06:10.1/vendor\" rw,\n"
                           "  \"/dev/vfio/101\" rw,\n"
                           "  \"/dev/vfio/vfio\" rw,\n",
                           f.dir);
    g_assert_cmpstr(got, ==, want);
    fixture_clear(&f);
}

/* What a hotplug adds to the list before QEMU opens it: an image with its
 * backing chain, a VF's group node with the VFIO container. */
static void
test_hotplug_extra(void)
{
    Fixture f = { 0 };
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *got = NULL;
    g_autofree char *want = NULL;
    VrtQemuAppArmorDomain dom = { 0 };

    fixture_init(&f);
    def = vrt_domain_def_parse("<domain type='kvm'><name>h</name><memory unit='MiB'>64</memory>"
                               "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>",
                               0, &err);
    g_assert_no_error(err);
    g_ptr_array_add(extra, g_build_filename(f.dir, "img/top.qcow2", NULL));
    g_ptr_array_add(extra, g_strdup("/dev/vfio/7"));
    dom.extra = extra;
    got = vrt_qemu_apparmor_files(f.host, def, &dom);
    want = g_strdup_printf("# DO NOT EDIT THIS FILE DIRECTLY. IT IS MANAGED BY LIBVIRT.\n"
                           "  \"%1$s/img/top.qcow2\" rwk,\n"
                           "  \"%1$s/img/base.qcow2\" rk,\n"
                           "  # don't audit writes to readonly files\n"
                           "  deny \"%1$s/img/base.qcow2\" w,\n"
                           "  \"/dev/vfio/7\" rw,\n"
                           "  \"/dev/vfio/vfio\" rw,\n",
                           f.dir);
    g_assert_cmpstr(got, ==, want);
    fixture_clear(&f);
}

/* The rules for the files both name (the domain's own: disks, chardevs,
 * kernel, firmware), each with its deny rule, sorted: libvirt's parser
 * keeps disks grouped by bus (vda, vdb, hdc) where vrt keeps the XML's
 * order, which changes nothing a profile allows. */
static gint
by_text(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
own_rules(const char *text, const char *dir)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autofree char *quoted = g_strdup_printf("  \"%s/img/", dir);
    g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func(g_free);
    GString *out = g_string_new(NULL);

    for (guint i = 0; lines[i]; i++) {
        if (!g_str_has_prefix(lines[i], quoted) && !g_str_has_prefix(lines[i], "  \"/usr/share/OVMF/"))
            continue;
        /* the rule and, for a read-only file, its comment and deny rule */
        if (lines[i + 1] && g_str_has_prefix(lines[i + 1], "  # don't audit") && lines[i + 2])
            g_ptr_array_add(rules, g_strdup_printf("%s\n%s\n%s\n", lines[i], lines[i + 1], lines[i + 2]));
        else
            g_ptr_array_add(rules, g_strdup_printf("%s\n", lines[i]));
    }
    g_ptr_array_sort(rules, by_text);
    for (guint i = 0; i < rules->len; i++)
        g_string_append(out, g_ptr_array_index(rules, i));
    return g_string_free(out, FALSE);
}

static void
test_same_as_virt_aa_helper(void)
{
    Fixture f = { 0 };
    g_autofree char *xml_path = NULL;
    g_autofree char *cmd = NULL;
    g_autofree char *out = NULL;
    g_autofree char *got = NULL;
    g_autofree char *want = NULL;
    g_autofree char *mine = NULL;
    int status = 0;

    if (!g_file_test(AA_HELPER, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip(AA_HELPER " is not installed (libvirt-daemon-system)");
        return;
    }
    fixture_init(&f);
    xml_path = g_build_filename(f.dir, "d.xml", NULL);
    g_assert_true(g_file_set_contents(xml_path, f.xml_nohostdev, -1, NULL));
    /* -d: a dry run, printing the list (nothing written, nothing loaded) */
    cmd = g_strdup_printf("sh -c '" AA_HELPER " -d -c -u libvirt-" UUID " < %s 2>&1'", xml_path);
    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    want = own_rules(out, f.dir);
    g_assert_nonnull(strstr(want, "top.qcow2"));
    mine = files_for(&f, f.xml_nohostdev);
    got = own_rules(mine, f.dir);
    g_assert_cmpstr(got, ==, want);
    fixture_clear(&f);
}

static void
test_profile_parses(void)
{
    Fixture f = { 0 };
    g_autoptr(GError) err = NULL;
    g_autofree char *template_text = NULL;
    g_autofree char *files = NULL;
    g_autofree char *files_path = NULL;
    g_autofree char *profile = NULL;
    g_autofree char *profile_path = NULL;
    g_autofree char *broken = NULL;

    if (!g_file_get_contents(TEMPLATE, &template_text, NULL, NULL)) {
        g_test_skip(TEMPLATE " is not installed (libvirt-daemon-system)");
        return;
    }
    fixture_init(&f);
    files = files_for(&f, f.xml);
    files_path = g_build_filename(f.dir, "libvirt-" UUID ".files", NULL);
    g_assert_true(g_file_set_contents(files_path, files, -1, NULL));
    profile = vrt_qemu_apparmor_profile(template_text, "libvirt-" UUID, files_path, &err);
    g_assert_no_error(err);
    /* the template's profile named for the domain, the list included in it */
    g_assert_null(strstr(profile, "LIBVIRT_TEMPLATE"));
    g_assert_nonnull(strstr(profile, "\nprofile libvirt-" UUID " flags=(attach_disconnected) {\n"));
    {
        g_autofree char *inc = g_strdup_printf("  #include \"%s\"\n}\n", files_path);
        g_assert_true(g_str_has_suffix(profile, inc));
    }
    profile_path = g_build_filename(f.dir, "libvirt-" UUID, NULL);
    g_assert_true(g_file_set_contents(profile_path, profile, -1, NULL));
    if (!g_file_test(PARSER, G_FILE_TEST_IS_EXECUTABLE)) {
        fixture_clear(&f);
        g_test_skip(PARSER " is not installed (apparmor)");
        return;
    }
    g_assert_true(vrt_qemu_apparmor_check(PARSER, profile_path, &err));
    g_assert_no_error(err);
    /* the parse is a real check: a rule with a bad permission is refused */
    broken = g_strconcat(files, "  \"/x\" rwz,\n", NULL);
    g_assert_true(g_file_set_contents(files_path, broken, -1, NULL));
    g_assert_false(vrt_qemu_apparmor_check(PARSER, profile_path, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(err->message, "apparmor_parser exited with error"));
    fixture_clear(&f);
}

static void
test_template_without_name(void)
{
    g_autoptr(GError) err = NULL;

    g_assert_null(vrt_qemu_apparmor_profile("profile other {\n}\n", "libvirt-x", "/f", &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-apparmor/files", test_files);
    g_test_add_func("/qemu-apparmor/hotplug-extra", test_hotplug_extra);
    g_test_add_func("/qemu-apparmor/same-as-virt-aa-helper", test_same_as_virt_aa_helper);
    g_test_add_func("/qemu-apparmor/profile-parses", test_profile_parses);
    g_test_add_func("/qemu-apparmor/template-without-name", test_template_without_name);
    return g_test_run();
}
