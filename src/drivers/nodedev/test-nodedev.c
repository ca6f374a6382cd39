/*
 * Unit tests of the node device driver: its XML (PCI and net/system devices
 * checked against libvirt's nodedev.rng with virt-xml-validate), and its use
 * of the VF ownership registry on a small sysfs tree: a device a domain
 * holds is not moved, and while a detach changes the host no domain can
 * take the device.
 */
#include <string.h>
#include <unistd.h>

#include "conf/nodedev/nodedev_conf.h"
#include "drivers/nodedev/nodedev.h"
#include "testutil.h"
#include "util/error.h"

/* Writes xml to a temporary file and runs virt-xml-validate on it. */
static void
assert_valid_nodedev(const char *xml)
{
    const char *validator = g_getenv("VRT_XML_VALIDATE");
    g_autofree char *path = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;
    int fd, status;

    if (!validator || !*validator) {
        g_test_skip("virt-xml-validate not found");
        return;
    }
    fd = g_file_open_tmp("vrt-nodedev-XXXXXX.xml", &path, &err);
    g_assert_no_error(err);
    close(fd);
    g_assert_true(g_file_set_contents(path, xml, -1, &err));
    const char *argv[] = { validator, path, "nodedev", NULL };
    g_assert_true(
        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, &err));
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("nodedev XML does not validate:\n%s", xml);
    unlink(path);
}
static void
test_xml_pci(void)
{
    g_autoptr(VrtNodedevDef) pf = vrt_nodedev_def_new(VRT_NODEDEV_CAP_PCI);
    g_autoptr(VrtNodedevDef) vf = vrt_nodedev_def_new(VRT_NODEDEV_CAP_PCI);
    VrtPciAddr a1 = { 0, 6, 0x10, 0 }, a2 = { 0, 6, 0x10, 2 }, p = { 0, 6, 0, 0 };
    g_autofree char *pf_xml = NULL;
    g_autofree char *vf_xml = NULL;

    pf->name = g_strdup("pci_0000_06_00_0");
    pf->path = g_strdup("/sys/devices/pci0000:00/0000:00:02.0/0000:06:00.0");
    pf->parent = g_strdup("computer");
    pf->driver = g_strdup("ixgbe");
    pf->pci.klass = 0x020000;
    pf->pci.addr = p;
    pf->pci.vendor_id = 0x8086;
    pf->pci.product_id = 0x10fb;
    pf->pci.vendor_name = g_strdup("Intel <&> Corporation");
    pf->pci.is_pf = true;
    pf->pci.max_vfs = 63;
    g_array_append_val(pf->pci.vfs, a1);
    g_array_append_val(pf->pci.vfs, a2);
    pf->pci.iommu_group = 20;
    g_array_append_val(pf->pci.iommu_addrs, p);
    pf->pci.numa_node = 0;
    pf_xml = vrt_nodedev_def_format(pf);
    g_assert_nonnull(strstr(pf_xml, "<capability type='virt_functions' maxCount='63'>\n"
                                    "      <address domain='0x0000' bus='0x06' slot='0x10' function='0x0'/>\n"
                                    "      <address domain='0x0000' bus='0x06' slot='0x10' function='0x2'/>\n"));
    g_assert_nonnull(strstr(pf_xml, "<vendor id='0x8086'>Intel &lt;&amp;&gt; Corporation</vendor>"));
    g_assert_nonnull(strstr(pf_xml, "<product id='0x10fb'/>"));
    g_assert_nonnull(strstr(pf_xml, "<iommuGroup number='20'>"));
    assert_valid_nodedev(pf_xml);

    vf->name = g_strdup("pci_0000_06_10_2");
    vf->parent = g_strdup("pci_0000_00_02_0");
    vf->pci.addr = a2;
    vf->pci.vendor_id = 0x8086;
    vf->pci.product_id = 0x10ed;
    vf->pci.is_vf = true;
    vf->pci.pf = p;
    vf_xml = vrt_nodedev_def_format(vf);
    g_assert_nonnull(strstr(vf_xml, "<capability type='phys_function'>\n"
                                    "      <address domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>\n"));
    g_assert_nonnull(strstr(vf_xml, "<slot>16</slot>\n    <function>2</function>"));
    g_assert_null(strstr(vf_xml, "<driver>"));
    g_assert_null(strstr(vf_xml, "iommuGroup"));
    assert_valid_nodedev(vf_xml);
}

static void
test_xml_net_and_system(void)
{
    g_autoptr(VrtNodedevDef) net = vrt_nodedev_def_new(VRT_NODEDEV_CAP_NET);
    g_autoptr(VrtNodedevDef) sys = vrt_nodedev_def_new(VRT_NODEDEV_CAP_SYSTEM);
    g_autofree char *net_xml = NULL;
    g_autofree char *sys_xml = NULL;

    net->name = g_strdup("net_ens1f0v0_52_54_00_aa_bb_cc");
    net->parent = g_strdup("pci_0000_06_10_0");
    net->net.ifname = g_strdup("ens1f0v0");
    net->net.mac = g_strdup("52:54:00:aa:bb:cc");
    net->net.link_state = g_strdup("up");
    net->net.speed = 10000;
    net_xml = vrt_nodedev_def_format(net);
    g_assert_nonnull(strstr(net_xml, "<interface>ens1f0v0</interface>\n    <address>52:54:00:aa:bb:cc</address>\n"
                                     "    <link speed='10000' state='up'/>"));
    assert_valid_nodedev(net_xml);

    sys->name = g_strdup("computer");
    sys_xml = vrt_nodedev_def_format(sys);
    g_assert_nonnull(strstr(sys_xml, "<capability type='system'>"));
    assert_valid_nodedev(sys_xml);
}

/* ---- the registry ---- */

static const guchar dom_uuid[16] = { 0xd };
/* The VF these tests detach, as the registry keys it. */
static const VrtPciAddr vf_06_10_2 = { .domain = 0, .bus = 0x06, .slot = 0x10, .function = 2 };

typedef struct {
    char *root; /* sysfs tree: VF 0000:06:10.2 bound to vfio-pci */
    VrtHost *host;
    VrtVfRegistry *vfs;
    VrtNodedevDriver *drv;
    guint changes; /* host changes the driver attempted */
    bool domain_got_it; /* a domain's claim during a change went through */
    bool domain_tried;
} Env;

static void
mk(Env *e, const char *rel, const char *link_target)
{
    g_autofree char *path = g_build_filename(e->root, rel, NULL);
    if (link_target) {
        g_autofree char *dir = g_path_get_dirname(path);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_cmpint(symlink(link_target, path), ==, 0);
    } else {
        g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
    }
}

/* Every host change of the driver: a domain tries to take the device right
 * then, as a hotplug racing the node device call would. */
static bool
on_change(const char *what, gpointer data, GError **error)
{
    Env *e = data;
    g_autoptr(VrtVfHolder) dom = vrt_vf_holder_new_domain("g", dom_uuid);
    g_autoptr(GError) err = NULL;

    e->changes++;
    e->domain_tried = true;
    if (vrt_vf_registry_claim(e->vfs, &vf_06_10_2, dom, NULL, &err)) {
        e->domain_got_it = true;
        vrt_vf_registry_release(e->vfs, &vf_06_10_2, dom);
    } else {
        g_assert_nonnull(strstr(err->message, "in use by node device"));
    }
    return true;
}

static Env *
env_new(void)
{
    Env *e = g_new0(Env, 1);
    g_autoptr(GError) err = NULL;

    e->root = vrt_test_make_root("vrt-nodedev-XXXXXX");
    mk(e, "sys/devices/pci0000:00/0000:06:10.2", NULL);
    mk(e, "sys/bus/pci/drivers/vfio-pci", NULL);
    mk(e, "sys/bus/pci/devices/0000:06:10.2", "../../../devices/pci0000:00/0000:06:10.2");
    mk(e, "sys/devices/pci0000:00/0000:06:10.2/driver", "../../../bus/pci/drivers/vfio-pci");
    {
        g_autofree char *f = g_build_filename(e->root, "sys/devices/pci0000:00/0000:06:10.2/driver_override", NULL);
        g_assert_true(g_file_set_contents(f, "(null)\n", -1, NULL));
    }
    e->host = vrt_host_new(e->root, &err);
    g_assert_no_error(err);
    vrt_host_set_fault_func(e->host, on_change, e);
    e->vfs = vrt_vf_registry_new();
    e->drv = vrt_nodedev_driver_new(e->host, e->vfs, &err);
    g_assert_no_error(err);
    return e;
}

static void
env_free(Env *e)
{
    vrt_nodedev_driver_free(e->drv);
    vrt_vf_registry_free(e->vfs);
    vrt_host_free(e->host);
    vrt_test_remove_tree(e->root);
    g_free(e->root);
    g_free(e);
}

/* While a detach changes the host, the device is the detach's: a domain
 * claiming it then is refused; afterwards it is free again. */
static void
test_detach_holds_device(void)
{
    Env *e = env_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtVfHolder) dom = vrt_vf_holder_new_domain("g", dom_uuid);

    g_assert_true(vrt_nodedev_drv_detach(e->drv, "pci_0000_06_10_2", NULL, &err));
    g_assert_no_error(err);
    g_assert_true(e->domain_tried);
    g_assert_cmpuint(e->changes, >, 0);
    g_assert_false(e->domain_got_it);
    g_assert_cmpuint(vrt_vf_registry_count(e->vfs), ==, 0);
    g_assert_true(vrt_vf_registry_claim(e->vfs, &vf_06_10_2, dom, NULL, &err));
    env_free(e);
}

/* A device a domain holds is neither detached, reattached nor reset, and
 * the refusal comes before any change of the host. */
static void
test_refused_while_domain_holds(void)
{
    Env *e = env_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtVfHolder) dom = vrt_vf_holder_new_domain("g", dom_uuid);

    g_assert_true(vrt_vf_registry_claim(e->vfs, &vf_06_10_2, dom, NULL, &err));
    g_assert_false(vrt_nodedev_drv_detach(e->drv, "pci_0000_06_10_2", NULL, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_assert_cmpstr(err->message, ==,
                    "Requested operation is not valid: PCI device 0000:06:10.2 is in use by domain 'g'");
    g_clear_error(&err);
    g_assert_false(vrt_nodedev_drv_reattach(e->drv, "pci_0000_06_10_2", &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_clear_error(&err);
    g_assert_false(vrt_nodedev_drv_reset(e->drv, "pci_0000_06_10_2", &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_assert_cmpuint(e->changes, ==, 0);
    /* the domain still holds it */
    g_autoptr(VrtVfHolder) cur = vrt_vf_registry_lookup(e->vfs, &vf_06_10_2);
    g_assert_true(cur && vrt_vf_holder_same(cur, dom));
    env_free(e);
}

static void
put(const char *root, const char *rel, const void *data, gssize len)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, data, len, NULL));
}

static void
link_to(const char *root, const char *rel, const char *target)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_cmpint(symlink(target, path), ==, 0);
}

/* A host tree with a PCIe function (config space with a PCI Express
 * capability and its link registers) holding a virtio disk with a
 * partition, a loop device, a bridge with a legacy config space and a
 * virtio NIC whose speed the kernel does not know: what libvirt's udev
 * backend shows of them. */
static void
test_tree_devices(void)
{
    g_autofree char *root = vrt_test_make_root("vrt-nodedev-tree-XXXXXX");
    g_autoptr(GError) err = NULL;
    const char *fn = "sys/devices/pci0000:00/0000:00:02.0";
    guint8 cfg[4096] = { 0 };
    cfg[0x06] = 0x10; /* status: capability list */
    cfg[0x34] = 0x40;
    cfg[0x40] = 0x05; /* MSI, then */
    cfg[0x41] = 0x60;
    cfg[0x60] = 0x10; /* PCI Express, endpoint (type 0) */
    cfg[0x62] = 0x02;
    cfg[0x6c] = 0x44; /* link cap: 16 GT/s (4), x4, port 7 */
    cfg[0x6f] = 0x07;
    cfg[0x72] = 0x23; /* link status: 8 GT/s (3), x2 */
    put(root, "sys/devices/pci0000:00/0000:00:02.0/config", cfg, sizeof(cfg));
    put(root, "sys/devices/pci0000:00/0000:00:02.0/vendor", "0x1af4\n", -1);
    put(root, "sys/devices/pci0000:00/0000:00:02.0/device", "0x1042\n", -1);
    put(root, "sys/devices/pci0000:00/0000:00:02.0/class", "0x010000\n", -1);
    link_to(root, "sys/bus/pci/devices/0000:00:02.0", "../../../devices/pci0000:00/0000:00:02.0");
    guint8 legacy[256] = { 0 };
    legacy[0x0e] = 0x01; /* header type: PCI-to-PCI bridge */
    put(root, "sys/devices/pci0000:00/0000:00:1e.0/config", legacy, sizeof(legacy));
    link_to(root, "sys/bus/pci/devices/0000:00:1e.0", "../../../devices/pci0000:00/0000:00:1e.0");
    g_autofree char *disk = g_strdup_printf("%s/virtio1/block/vda", fn);
    {
        g_autofree char *f = g_strdup_printf("%s/size", disk);
        put(root, f, "2097152\n", -1);
        g_free(f);
        f = g_strdup_printf("%s/queue/logical_block_size", disk);
        put(root, f, "512\n", -1);
        g_free(f);
        f = g_strdup_printf("%s/virtio1/vendor", fn);
        put(root, f, "0x1af4\n", -1);
        g_free(f);
        f = g_strdup_printf("%s/device", disk);
        link_to(root, f, "../../../virtio1");
        g_free(f);
        f = g_strdup_printf("%s/vda1/size", disk);
        put(root, f, "2048\n", -1);
    }
    link_to(root, "sys/class/block/vda", "../../devices/pci0000:00/0000:00:02.0/virtio1/block/vda");
    link_to(root, "sys/class/block/vda1", "../../devices/pci0000:00/0000:00:02.0/virtio1/block/vda/vda1");
    put(root, "sys/devices/virtual/block/loop0/size", "0\n", -1);
    link_to(root, "sys/class/block/loop0", "../../devices/virtual/block/loop0");
    put(root, "sys/devices/pci0000:00/0000:00:02.0/virtio2/net/eth0/address", "02:00:00:00:00:01\n", -1);
    put(root, "sys/devices/pci0000:00/0000:00:02.0/virtio2/net/eth0/operstate", "up\n", -1);
    put(root, "sys/devices/pci0000:00/0000:00:02.0/virtio2/net/eth0/speed", "-1\n", -1);
    link_to(root, "sys/class/net/eth0", "../../devices/pci0000:00/0000:00:02.0/virtio2/net/eth0");
    put(root, "sys/devices/virtual/net/dummy0/address", "02:00:00:00:00:02\n", -1);
    put(root, "sys/devices/virtual/net/dummy0/operstate", "down\n", -1);
    put(root, "sys/devices/virtual/net/dummy0/speed", "-1\n", -1);
    link_to(root, "sys/class/net/dummy0", "../../devices/virtual/net/dummy0");

    g_autoptr(VrtHost) host = vrt_host_new(root, &err);
    g_assert_no_error(err);
    g_autoptr(VrtNodedevDriver) drv = vrt_nodedev_driver_new(host, NULL, &err);
    g_assert_no_error(err);

    g_autoptr(GPtrArray) storage = vrt_nodedev_drv_list(drv, VIR_CONNECT_LIST_NODE_DEVICES_CAP_STORAGE, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(storage->len, ==, 2); /* the disk and its partition; no loop device */
    g_assert_cmpstr(storage->pdata[0], ==, "block_vda");
    g_assert_cmpstr(storage->pdata[1], ==, "block_vda1");

    g_autofree char *vda = vrt_nodedev_drv_get_xml(drv, "block_vda", &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(vda, "  <devnode type='dev'>/dev/vda</devnode>\n  <parent>pci_0000_00_02_0</parent>\n"
                                 "  <capability type='storage'>\n    <block>/dev/vda</block>\n"
                                 "    <drive_type>disk</drive_type>\n    <vendor>0x1af4</vendor>\n"
                                 "    <size>1073741824</size>\n    <logical_block_size>512</logical_block_size>\n"
                                 "    <num_blocks>2097152</num_blocks>\n"));
    assert_valid_nodedev(vda);
    g_autofree char *part = vrt_nodedev_drv_get_xml(drv, "block_vda1", &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(part, "<parent>block_vda</parent>"));

    g_autofree char *fn_xml = vrt_nodedev_drv_get_xml(drv, "pci_0000_00_02_0", &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(fn_xml, "    <pci-express>\n      <link validity='cap' port='7' speed='16' width='4'/>\n"
                                    "      <link validity='sta' speed='8' width='2'/>\n    </pci-express>\n"));
    assert_valid_nodedev(fn_xml);
    g_autofree char *br = vrt_nodedev_drv_get_xml(drv, "pci_0000_00_1e_0", &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(br, "<capability type='pci-bridge'/>"));
    g_assert_null(strstr(br, "pci-express"));

    g_autofree char *eth = vrt_nodedev_drv_get_xml(drv, "net_eth0_02_00_00_00_00_01", &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(eth, "<link speed='4294967295' state='up'/>"));
    g_assert_null(strstr(eth, "<driver>"));
    g_assert_null(strstr(eth, "<feature")); /* a tree, not the kernel: no ethtool */
    g_autofree char *dummy = vrt_nodedev_drv_get_xml(drv, "net_dummy0_02_00_00_00_00_02", &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(dummy, "<link state='down'/>"));
    vrt_test_remove_tree(root);
}

static void
test_xml_features(void)
{
    g_autoptr(VrtNodedevDef) net = vrt_nodedev_def_new(VRT_NODEDEV_CAP_NET);
    net->name = g_strdup("net_eth0_02_00_00_00_00_01");
    net->parent = g_strdup("computer");
    net->net.ifname = g_strdup("eth0");
    net->net.link_state = g_strdup("up");
    net->net.features = g_strsplit("rx tx sg txudptnl", " ", -1);
    g_autofree char *xml = vrt_nodedev_def_format(net);
    g_assert_nonnull(strstr(xml, "    <link state='up'/>\n    <feature name='rx'/>\n    <feature name='tx'/>\n"
                                 "    <feature name='sg'/>\n    <feature name='txudptnl'/>\n"
                                 "    <capability type='80203'/>\n"));
    assert_valid_nodedev(xml);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nodedev/xml/pci", test_xml_pci);
    g_test_add_func("/nodedev/xml/net-system", test_xml_net_and_system);
    g_test_add_func("/nodedev/xml/features", test_xml_features);
    g_test_add_func("/nodedev/tree", test_tree_devices);
    g_test_add_func("/nodedev/registry/detach-holds-device", test_detach_holds_device);
    g_test_add_func("/nodedev/registry/refused-while-domain-holds", test_refused_while_domain_holds);
    return g_test_run();
}
