/*
 * Unit tests of the device nodes a confined QEMU is given for mdev, scsi
 * and scsi_host hostdevs (qemu_hostdev_nodes.c), on a simulated host's
 * sysfs: an mdev's VFIO group (from its iommu_group link) with
 * /dev/vfio/vfio, a LUN's SCSI generic node (read-only for a <readonly/>
 * LUN), /dev/vhost-scsi, nothing for an iSCSI LUN; the AppArmor rules
 * made from them; and the errors for a LUN the host lacks.
 */
#include "drivers/qemu/qemu_apparmor.h"
#include "drivers/qemu/qemu_hostdev_nodes.h"
#include "drivers/qemu/qemu_security.h"
#include "util/error.h"

#include <string.h>
#include <unistd.h>

#define MDEV_UUID "c2177883-f1bb-47f0-914d-32a22e3a8804"

typedef struct {
    char *dir;
    VrtHost *host;
} Fixture;

static void
mkdirs(const char *root, const char *rel)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);

    g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
}

/* A host with the LUNs 0:0:0:0 (sg3) and 0:0:0:1 (sg4) and mediated
 * device MDEV_UUID in IOMMU group 17. */
static void
fixture_init(Fixture *f)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *root = NULL;
    g_autofree char *link = NULL;
    g_autofree char *group = NULL;

    f->dir = g_dir_make_tmp("vrt-hdn-XXXXXX", &err);
    g_assert_no_error(err);
    root = g_build_filename(f->dir, "host", NULL);
    mkdirs(root, "sys/bus/scsi/devices/0:0:0:0/scsi_generic/sg3");
    mkdirs(root, "sys/bus/scsi/devices/0:0:0:1/scsi_generic/sg4");
    mkdirs(root, "sys/kernel/iommu_groups/17/devices");
    mkdirs(root, "sys/bus/mdev/devices/" MDEV_UUID);
    link = g_build_filename(root, "sys/bus/mdev/devices/" MDEV_UUID "/iommu_group", NULL);
    group = g_build_filename(root, "sys/kernel/iommu_groups/17", NULL);
    g_assert_cmpint(symlink(group, link), ==, 0);
    f->host = vrt_host_new(root, &err);
    g_assert_no_error(err);
}

static void
fixture_clear(Fixture *f)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

    g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
    vrt_host_free(f->host);
    g_free(f->dir);
}

static VrtDomainDef *
parse(const char *devices)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *xml = g_strdup_printf("<domain type='kvm'><name>hdn</name><memory unit='MiB'>64</memory>"
                                           "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>%s"
                                           "</devices></domain>",
                                           devices);
    VrtDomainDef *def = vrt_domain_def_parse(xml, 0, &err);

    g_assert_no_error(err);
    vrt_domain_def_assign_addresses(def, &err);
    g_assert_no_error(err);
    return def;
}

static const char *MDEV = "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
                          "<address uuid='" MDEV_UUID "'/></source></hostdev>";
static const char *LUN = "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
                         "<address bus='0' target='0' unit='0'/></source></hostdev>";
static const char *LUN_RO = "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
                            "<address bus='0' target='0' unit='1'/></source><readonly/></hostdev>";
static const char *VHOST = "<hostdev mode='subsystem' type='scsi_host'>"
                           "<source protocol='vhost' wwpn='naa.5123456789abcde0'/></hostdev>";
static const char *ISCSI = "<hostdev mode='subsystem' type='scsi'><source protocol='iscsi' "
                           "name='iqn.1992-01.com.example/1'><host name='example.org'/></source></hostdev>";

/* nodes as "PATH HOSTPATH-RELATIVE-TO-ROOT LABEL ACCESS" lines */
static char *
describe(Fixture *f, const GPtrArray *nodes)
{
    GString *out = g_string_new(NULL);
    g_autofree char *root = g_build_filename(f->dir, "host", NULL);

    for (guint i = 0; i < nodes->len; i++) {
        const VrtQemuDevNode *n = nodes->pdata[i];

        g_assert_true(g_str_has_prefix(n->host_path, root));
        g_string_append_printf(out, "%s %s %s %s\n", n->ns_path, n->host_path + strlen(root), n->label ? "label" : "-",
                               n->readonly ? "r" : "rw");
    }
    return g_string_free(out, FALSE);
}

/* Each kind gives its node with its access; the iSCSI LUN none. */
static void
test_nodes(void)
{
    Fixture f = { 0 };
    g_autofree char *devs = NULL;
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GPtrArray) nodes = NULL;
    g_autofree char *got = NULL;

    fixture_init(&f);
    devs = g_strconcat(MDEV, LUN, LUN_RO, VHOST, ISCSI, NULL);
    def = parse(devs);
    nodes = vrt_qemu_subsys_hostdev_nodes(f.host, def);
    got = describe(&f, nodes);
    g_assert_cmpstr(got, ==,
                    "/dev/vfio/vfio /dev/vfio/vfio - rw\n"
                    "/dev/vfio/17 /dev/vfio/17 label rw\n"
                    "/dev/sg3 /dev/sg3 label rw\n"
                    "/dev/sg4 /dev/sg4 label r\n"
                    "/dev/vhost-scsi /dev/vhost-scsi label rw\n");
    fixture_clear(&f);
}

/* A domain whose only SCSI hostdev is an iSCSI LUN needs no node. */
static void
test_iscsi_none(void)
{
    Fixture f = { 0 };
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GPtrArray) nodes = NULL;

    fixture_init(&f);
    def = parse(ISCSI);
    nodes = vrt_qemu_subsys_hostdev_nodes(f.host, def);
    g_assert_cmpuint(nodes->len, ==, 0);
    fixture_clear(&f);
}

/* The PCI devices' list keeps its /dev/vfio/vfio: the mdev's adds only
 * its group. */
static void
test_merge(void)
{
    Fixture f = { 0 };
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_qemu_dev_node_free);
    g_autoptr(GPtrArray) subsys = NULL;
    const char *pci[] = { "/dev/vfio/vfio", "/dev/vfio/101" };
    g_autofree char *got = NULL;

    fixture_init(&f);
    for (guint i = 0; i < G_N_ELEMENTS(pci); i++) {
        VrtQemuDevNode *n = g_new0(VrtQemuDevNode, 1);

        n->ns_path = g_strdup(pci[i]);
        n->host_path = vrt_host_path(f.host, pci[i]);
        n->label = i > 0;
        g_ptr_array_add(nodes, n);
    }
    def = parse(MDEV);
    subsys = vrt_qemu_subsys_hostdev_nodes(f.host, def);
    vrt_qemu_dev_nodes_merge(nodes, subsys);
    g_assert_cmpuint(subsys->len, ==, 0);
    got = describe(&f, nodes);
    g_assert_cmpstr(got, ==,
                    "/dev/vfio/vfio /dev/vfio/vfio - rw\n"
                    "/dev/vfio/101 /dev/vfio/101 label rw\n"
                    "/dev/vfio/17 /dev/vfio/17 label rw\n");
    fixture_clear(&f);
}

/* The AppArmor rules: each node rw as virt-aa-helper writes it, the
 * container only with a VFIO group. */
static void
test_apparmor(void)
{
    Fixture f = { 0 };
    g_autofree char *devs = g_strconcat(MDEV, LUN, LUN_RO, VHOST, ISCSI, NULL);
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(VrtDomainDef) scsi_only = NULL;
    VrtQemuAppArmorDomain dom = { 0 };
    g_autofree char *files = NULL;
    g_autofree char *files_scsi = NULL;

    fixture_init(&f);
    def = parse(devs);
    files = vrt_qemu_apparmor_files(f.host, def, &dom);
    g_assert_nonnull(strstr(files, "  \"/dev/vfio/17\" rw,\n"));
    g_assert_nonnull(strstr(files, "  \"/dev/sg3\" rw,\n"));
    g_assert_nonnull(strstr(files, "  \"/dev/sg4\" rw,\n"));
    g_assert_nonnull(strstr(files, "  \"/dev/vhost-scsi\" rw,\n"));
    g_assert_nonnull(strstr(files, "  \"/dev/vfio/vfio\" rw,\n"));
    g_assert_null(strstr(files, "example.org"));
    scsi_only = parse(LUN);
    files_scsi = vrt_qemu_apparmor_files(f.host, scsi_only, &dom);
    g_assert_nonnull(strstr(files_scsi, "  \"/dev/sg3\" rw,\n"));
    g_assert_null(strstr(files_scsi, "/dev/vfio"));
    fixture_clear(&f);
}

/* libvirt's errors for a LUN the host lacks and an adapter it cannot
 * read; a LUN that is there gives its node. */
static void
test_sg_node(void)
{
    Fixture f = { 0 };
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GError) err = NULL;
    VrtDomainSubsysHostdevDef *h;
    g_autofree char *node = NULL;
    char *missing;

    fixture_init(&f);
    def = parse(LUN);
    h = def->subsys_hostdevs->pdata[0];
    node = vrt_qemu_scsi_hostdev_sg_node(f.host, h, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(node, ==, "/dev/sg3");
    h->scsi_unit = 5;
    missing = vrt_qemu_scsi_hostdev_sg_node(f.host, h, &err);
    g_assert_null(missing);
    g_assert_error(err, VRT_ERROR, VIR_ERR_SYSTEM_ERROR);
    g_assert_nonnull(strstr(err->message, "cannot open directory '/sys/bus/scsi/devices/0:0:0:5/scsi_generic'"));
    g_clear_error(&err);
    g_free(h->adapter);
    h->adapter = g_strdup("host0");
    g_assert_null(vrt_qemu_scsi_hostdev_sg_node(f.host, h, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(err->message, "Cannot parse adapter 'host0'"));
    fixture_clear(&f);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-hostdev-nodes/nodes", test_nodes);
    g_test_add_func("/qemu-hostdev-nodes/iscsi-none", test_iscsi_none);
    g_test_add_func("/qemu-hostdev-nodes/merge", test_merge);
    g_test_add_func("/qemu-hostdev-nodes/apparmor", test_apparmor);
    g_test_add_func("/qemu-hostdev-nodes/sg-node", test_sg_node);
    return g_test_run();
}
