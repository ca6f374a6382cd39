/*
 * The network driver on a temporary root: lifecycle and libvirt's errors,
 * autostart, persistence across a new driver object, hostdev pool
 * allocation until empty, ports API, and concurrent allocation from one
 * pool never handing out a VF twice.
 */
#include "drivers/network/network_driver.h"
#include "util/error.h"
#include "testutil.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define CONCURRENT_ROUNDS 200
#define POOL_VFS 8

static const char *const hostdev_xml = "<network><name>pool</name><uuid>0f5a7a42-6a4f-47a3-8b1c-2f3a4b5c6d7e</uuid>"
                                       "<forward mode='hostdev' managed='yes'>"
                                       "<address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x0'/>"
                                       "<address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x2'/>"
                                       "<address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x4'/>"
                                       "</forward><vlan><tag id='42'/></vlan></network>";

static const char *const pf_xml =
    "<network><name>pfnet</name><forward mode='hostdev' managed='no'><pf dev='ens1'/></forward></network>";

static const char *const bridge_xml = "<network><name>br</name><forward mode='bridge'/><bridge name='br0'/></network>";

static const char *const nat_xml =
    "<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/>"
    "<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>";

static const guchar owner_uuid[16] = { 0xc7, 0xa5, 0xfd, 0xbd, 0xed, 0xaf, 0x94, 0x55,
                                       0x92, 0x6a, 0xd6, 0x5c, 0x16, 0xdb, 0x18, 0x09 };
static const guint8 mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
/* Pool VFs, as the VF registry keys them. */
static const VrtPciAddr vf_06_10_0 = { .bus = 0x06, .slot = 0x10, .function = 0 };
static const VrtPciAddr vf_06_10_2 = { .bus = 0x06, .slot = 0x10, .function = 2 };
static const VrtPciAddr vf_06_10_4 = { .bus = 0x06, .slot = 0x10, .function = 4 };

typedef struct {
    char *root;
    char *hostroot; /* a sysfs tree for the host seam: PF ens1 (0000:3b:00.0), idle VFs 0000:06:10.x */
    VrtHost *host;
} Fixture;

static void
host_mkdir(Fixture *f, const char *rel)
{
    g_autofree char *path = g_build_filename(f->hostroot, rel, NULL);
    g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
}

static void
host_link(Fixture *f, const char *rel, const char *target)
{
    g_autofree char *path = g_build_filename(f->hostroot, rel, NULL);
    (void)unlink(path);
    if (target)
        g_assert_cmpint(symlink(target, path), ==, 0);
}

/* Gives the PF ens1 n VFs (0000:3b:02.0 ...); G_MAXUINT: no ens1 at all. */
static void
set_pf_vfs(Fixture *f, guint n)
{
    for (guint i = 0; i < 64; i++) {
        g_autofree char *link = g_strdup_printf("sys/bus/pci/devices/0000:3b:00.0/virtfn%u", i);
        host_link(f, link, NULL);
    }
    host_link(f, "sys/class/net/ens1/device", n == G_MAXUINT ? NULL : "../../../bus/pci/devices/0000:3b:00.0");
    for (guint i = 0; n != G_MAXUINT && i < n; i++) {
        g_autofree char *vf = g_strdup_printf("0000:3b:%02x.%x", 2 + i / 8, i % 8);
        g_autofree char *dir = g_strdup_printf("sys/bus/pci/devices/%s", vf);
        g_autofree char *link = g_strdup_printf("sys/bus/pci/devices/0000:3b:00.0/virtfn%u", i);
        g_autofree char *target = g_strdup_printf("../%s", vf);
        host_mkdir(f, dir);
        host_link(f, link, target);
    }
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    f->root = vrt_test_make_root("vrt-network-XXXXXX");
    f->hostroot = g_build_filename(f->root, "host", NULL);
    host_mkdir(f, "sys/class/net/ens1");
    host_mkdir(f, "sys/bus/pci/devices/0000:3b:00.0");
    for (guint i = 0; i < 8; i++) {
        g_autofree char *dir = g_strdup_printf("sys/bus/pci/devices/0000:06:10.%u", i);
        host_mkdir(f, dir);
    }
    set_pf_vfs(f, 4);
    f->host = vrt_host_new(f->hostroot, &err);
    g_assert_no_error(err);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    vrt_host_free(f->host);
    vrt_test_remove_tree(f->root);
    g_free(f->hostroot);
    g_free(f->root);
}

static VrtNetworkDriver *
new_driver(Fixture *f)
{
    g_autoptr(GError) err = NULL;
    VrtNetworkDriver *drv = vrt_network_driver_new(f->root, f->host, NULL, &err);
    g_assert_no_error(err);
    g_assert_true(vrt_network_driver_load(drv, &err));
    g_assert_no_error(err);
    return drv;
}

/* Checks the error and clears it, so the next call can set one. */
static void
assert_error(GError **err, int code, const char *needle)
{
    g_assert_nonnull(*err);
    if ((*err)->code != code || !strstr((*err)->message, needle))
        g_error("got code %d '%s', want code %d containing '%s'", (*err)->code, (*err)->message, code, needle);
    g_clear_error(err);
}

/* A port's VF, in the text form of logs and port files. */
static void
assert_vf(const VrtPciAddr *addr, const char *want)
{
    char buf[VRT_PCI_ADDR_STRING_LEN];
    g_assert_cmpstr(vrt_pci_addr_format_buf(addr, buf), ==, want);
}

static void
assert_invariants(VrtNetworkDriver *drv)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(vrt_network_driver_check_invariants(drv, &err));
    g_assert_no_error(err);
}

static char *
path_in(Fixture *f, const char *rel)
{
    return g_build_filename(f->root, rel, NULL);
}

static void
test_lifecycle(Fixture *f, gconstpointer data)
{
    g_autoptr(VrtNetworkDriver) drv = new_driver(f);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkRef) ref = vrt_netdrv_define_xml(drv, hostdev_xml, 0, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(ref->name, ==, "pool");
    g_autofree char *cfg = path_in(f, "etc/vrt/network/pool.xml");
    g_assert_true(g_file_test(cfg, G_FILE_TEST_IS_REGULAR));
    g_assert_cmpint(vrt_netdrv_num_defined(drv), ==, 1);
    g_assert_cmpint(vrt_netdrv_num_active(drv), ==, 0);
    g_assert_cmpint(vrt_netdrv_is_active(drv, "pool", NULL), ==, 0);
    g_assert_cmpint(vrt_netdrv_is_persistent(drv, "pool", NULL), ==, 1);

    g_autoptr(VrtNetworkRef) byuuid = vrt_netdrv_lookup_by_uuid(drv, ref->uuid, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(byuuid->name, ==, "pool");

    g_assert_true(vrt_netdrv_create(drv, "pool", &err));
    g_assert_no_error(err);
    g_autofree char *status = path_in(f, "run/vrt/network/pool.xml");
    g_assert_true(g_file_test(status, G_FILE_TEST_IS_REGULAR));
    g_assert_cmpint(vrt_netdrv_is_active(drv, "pool", NULL), ==, 1);
    g_autoptr(GPtrArray) active = vrt_netdrv_list_all(drv, VRT_CONNECT_LIST_NETWORKS_ACTIVE, &err);
    g_assert_cmpuint(active->len, ==, 1);
    g_autoptr(GPtrArray) inactive = vrt_netdrv_list_all(drv, VRT_CONNECT_LIST_NETWORKS_INACTIVE, &err);
    g_assert_cmpuint(inactive->len, ==, 0);
    g_autoptr(GPtrArray) names = vrt_netdrv_list_names(drv, true);
    g_assert_cmpuint(names->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(names, 0), ==, "pool");

    g_assert_false(vrt_netdrv_create(drv, "pool", &err));
    assert_error(&err, VIR_ERR_OPERATION_INVALID, "network is already active");

    g_assert_true(vrt_netdrv_destroy(drv, "pool", &err));
    g_assert_false(g_file_test(status, G_FILE_TEST_EXISTS));
    g_assert_false(vrt_netdrv_destroy(drv, "pool", &err));
    assert_error(&err, VIR_ERR_OPERATION_INVALID, "network is not active");

    g_assert_true(vrt_netdrv_undefine(drv, "pool", &err));
    g_assert_false(g_file_test(cfg, G_FILE_TEST_EXISTS));
    g_assert_null(vrt_netdrv_lookup_by_name(drv, "pool", &err));
    assert_error(&err, VIR_ERR_NO_NETWORK, "no network with matching name 'pool'");
    g_assert_null(vrt_netdrv_lookup_by_uuid(drv, ref->uuid, &err));
    assert_error(&err, VIR_ERR_NO_NETWORK, "no network with matching uuid '0f5a7a42-6a4f-47a3-8b1c-2f3a4b5c6d7e'");
}

static void
test_define_rules(Fixture *f, gconstpointer data)
{
    g_autoptr(VrtNetworkDriver) drv = new_driver(f);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkRef) a = vrt_netdrv_define_xml(drv, hostdev_xml, 0, &err);
    g_assert_no_error(err);
    /* Update without uuid keeps the uuid. */
    g_autoptr(VrtNetworkRef) b = vrt_netdrv_define_xml(
        drv, "<network><name>pool</name><forward mode='hostdev'><pf dev='ens1'/></forward></network>", 0, &err);
    g_assert_no_error(err);
    g_assert_cmpmem(a->uuid, 16, b->uuid, 16);
    g_autofree char *xml = vrt_netdrv_get_xml(drv, "pool", 0, &err);
    g_assert_nonnull(strstr(xml, "0f5a7a42-6a4f-47a3-8b1c-2f3a4b5c6d7e"));
    g_assert_nonnull(strstr(xml, "<pf dev='ens1'/>"));
    /* Same name, other uuid. */
    g_assert_null(vrt_netdrv_define_xml(
        drv, "<network><name>pool</name><uuid>11111111-2222-3333-4444-555555555555</uuid></network>", 0, &err));
    assert_error(&err, VIR_ERR_OPERATION_FAILED, "network 'pool' already exists with uuid 0f5a7a42");
    /* Other name, same uuid. */
    g_assert_null(vrt_netdrv_define_xml(
        drv, "<network><name>other</name><uuid>0f5a7a42-6a4f-47a3-8b1c-2f3a4b5c6d7e</uuid></network>", 0, &err));
    assert_error(&err, VIR_ERR_OPERATION_FAILED, "network 'pool' is already defined with uuid");
    g_assert_cmpint(vrt_netdrv_num_defined(drv), ==, 1);
    /* Connection counts in a definition are dropped. */
    g_autoptr(VrtNetworkRef) c = vrt_netdrv_define_xml(
        drv,
        "<network connections='7'><name>counted</name><forward mode='hostdev'>"
        "<address type='pci' domain='0' bus='1' slot='0' function='1' connections='3'/></forward></network>",
        0, &err);
    g_assert_no_error(err);
    g_autofree char *cx = vrt_netdrv_get_xml(drv, "counted", 0, &err);
    g_assert_null(strstr(cx, "connections"));
    g_assert_true(vrt_netdrv_undefine(drv, "counted", &err));
    /* Bad XML and flags. */
    g_assert_null(vrt_netdrv_define_xml(
        drv, "<network><name>x</name><route address='10.1.0.0' prefix='16' gateway='10.0.0.2'/></network>", 0, &err));
    assert_error(&err, VIR_ERR_CONFIG_UNSUPPORTED, "unreachable static route gateway '10.0.0.2'");
    g_assert_null(vrt_netdrv_define_xml(drv, hostdev_xml, 0x80, &err));
    assert_error(&err, VIR_ERR_INVALID_ARG, "unsupported flags (0x80)");
    /* nat: defined and dumped; its bridge is not made under a host root
     * other than / (the tests' tree), and nothing is left running. */
    g_autoptr(VrtNetworkRef) n = vrt_netdrv_define_xml(drv, nat_xml, 0, &err);
    g_assert_no_error(err);
    g_assert_false(vrt_netdrv_create(drv, "default", &err));
    assert_error(&err, VIR_ERR_OPERATION_UNSUPPORTED, "create bridge 'virbr0'");
    g_assert_cmpint(vrt_netdrv_is_active(drv, "default", NULL), ==, 0);
    g_assert_cmpint(vrt_network_get_forward_mode(drv, "default", NULL), ==, VRT_NETWORK_FORWARD_NAT);
    g_assert_cmpint(vrt_network_get_forward_mode(drv, "pool", NULL), ==, VRT_NETWORK_FORWARD_HOSTDEV);
    g_assert_cmpint(vrt_network_get_forward_mode(drv, "nope", &err), ==, -1);
    assert_error(&err, VIR_ERR_NO_NETWORK, "'nope'");
    g_autofree char *bn = vrt_netdrv_get_bridge_name(drv, "default", &err);
    g_assert_cmpstr(bn, ==, "virbr0");
    g_assert_null(vrt_netdrv_get_bridge_name(drv, "pool", &err));
    assert_error(&err, VIR_ERR_INTERNAL_ERROR, "does not have a bridge name");
    g_assert_false(vrt_netdrv_create(drv, "nope", &err));
    assert_error(&err, VIR_ERR_NO_NETWORK, "no network with matching name 'nope'");
}

static void
test_transient(Fixture *f, gconstpointer data)
{
    g_autoptr(VrtNetworkDriver) drv = new_driver(f);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkRef) t = vrt_netdrv_create_xml(drv, bridge_xml, 0, &err);
    g_assert_no_error(err);
    g_assert_cmpint(vrt_netdrv_is_persistent(drv, "br", NULL), ==, 0);
    g_assert_cmpint(vrt_netdrv_is_active(drv, "br", NULL), ==, 1);
    g_autoptr(GPtrArray) tr = vrt_netdrv_list_all(drv, VRT_CONNECT_LIST_NETWORKS_TRANSIENT, &err);
    g_assert_cmpuint(tr->len, ==, 1);
    g_assert_false(vrt_netdrv_undefine(drv, "br", &err));
    assert_error(&err, VIR_ERR_OPERATION_INVALID, "cannot undefine transient network");
    g_assert_false(vrt_netdrv_set_autostart(drv, "br", true, &err));
    assert_error(&err, VIR_ERR_OPERATION_INVALID, "transient");
    g_assert_null(vrt_netdrv_create_xml(drv, bridge_xml, 0, &err));
    assert_error(&err, VIR_ERR_OPERATION_INVALID, "network is already active as 'br'");
    g_assert_true(vrt_netdrv_destroy(drv, "br", &err));
    g_assert_null(vrt_netdrv_lookup_by_name(drv, "br", NULL));

    /* A running persistent network that is undefined becomes transient. */
    g_autoptr(VrtNetworkRef) p = vrt_netdrv_define_xml(drv, hostdev_xml, 0, &err);
    g_assert_true(vrt_netdrv_create(drv, "pool", &err));
    g_assert_true(vrt_netdrv_undefine(drv, "pool", &err));
    g_assert_no_error(err);
    g_assert_cmpint(vrt_netdrv_is_active(drv, "pool", NULL), ==, 1);
    g_assert_cmpint(vrt_netdrv_is_persistent(drv, "pool", NULL), ==, 0);
    g_assert_true(vrt_netdrv_destroy(drv, "pool", &err));
    g_assert_null(vrt_netdrv_lookup_by_name(drv, "pool", NULL));
    g_assert_cmpint(vrt_netdrv_num_defined(drv), ==, 0);
}

static void
test_autostart(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    {
        g_autoptr(VrtNetworkDriver) drv = new_driver(f);
        g_autoptr(VrtNetworkRef) a = vrt_netdrv_define_xml(drv, hostdev_xml, 0, &err);
        g_autoptr(VrtNetworkRef) b = vrt_netdrv_define_xml(drv, bridge_xml, 0, &err);
        g_assert_no_error(err);
        g_assert_true(vrt_netdrv_set_autostart(drv, "pool", true, &err));
        g_assert_cmpint(vrt_netdrv_get_autostart(drv, "pool", NULL), ==, 1);
        g_assert_cmpint(vrt_netdrv_get_autostart(drv, "br", NULL), ==, 0);
        g_autofree char *link = path_in(f, "etc/vrt/network/autostart/pool.xml");
        g_assert_true(g_file_test(link, G_FILE_TEST_IS_SYMLINK));
        g_autoptr(GPtrArray) au = vrt_netdrv_list_all(drv, VRT_CONNECT_LIST_NETWORKS_AUTOSTART, &err);
        g_assert_cmpuint(au->len, ==, 1);
        g_autoptr(GPtrArray) noau = vrt_netdrv_list_all(
            drv, VRT_CONNECT_LIST_NETWORKS_NO_AUTOSTART | VRT_CONNECT_LIST_NETWORKS_PERSISTENT, &err);
        g_assert_cmpuint(noau->len, ==, 1);
        g_assert_cmpstr(((VrtNetworkRef *)g_ptr_array_index(noau, 0))->name, ==, "br");
        g_assert_null(vrt_netdrv_list_all(drv, 0x40, &err));
        assert_error(&err, VIR_ERR_INVALID_ARG, "unsupported flags");
        g_clear_error(&err);
    }
    /* A new driver on the same root starts the autostart network only. */
    g_autoptr(VrtNetworkDriver) drv = new_driver(f);
    g_assert_cmpint(vrt_netdrv_is_active(drv, "pool", NULL), ==, 1);
    g_assert_cmpint(vrt_netdrv_is_active(drv, "br", NULL), ==, 0);
    g_assert_cmpint(vrt_netdrv_get_autostart(drv, "pool", NULL), ==, 1);
    g_assert_true(vrt_netdrv_set_autostart(drv, "pool", false, &err));
    g_autofree char *link = path_in(f, "etc/vrt/network/autostart/pool.xml");
    g_assert_false(g_file_test(link, G_FILE_TEST_EXISTS));
    g_assert_true(vrt_netdrv_undefine(drv, "br", &err));
    g_assert_no_error(err);
}

static void
test_pf_pool(Fixture *f, gconstpointer data)
{
    g_autoptr(VrtNetworkDriver) drv = new_driver(f);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkRef) r = vrt_netdrv_define_xml(drv, pf_xml, 0, &err);
    g_assert_no_error(err);
    set_pf_vfs(f, G_MAXUINT);
    g_assert_false(vrt_netdrv_create(drv, "pfnet", &err));
    assert_error(&err, VIR_ERR_NO_NODE_DEVICE, "ens1");
    set_pf_vfs(f, 0);
    g_assert_false(vrt_netdrv_create(drv, "pfnet", &err));
    assert_error(&err, VIR_ERR_INTERNAL_ERROR, "no virtual functions found on SR-IOV PF 'ens1'");
    g_assert_cmpint(vrt_netdrv_is_active(drv, "pfnet", NULL), ==, 0);
    set_pf_vfs(f, 2);
    g_assert_true(vrt_netdrv_create(drv, "pfnet", &err));
    g_assert_no_error(err);
    g_autofree char *live = vrt_netdrv_get_xml(drv, "pfnet", 0, &err);
    g_assert_nonnull(strstr(live, "<pf dev='ens1'/>"));
    g_assert_nonnull(strstr(live, "<address type='pci' domain='0x0000' bus='0x3b' slot='0x02' function='0x1'/>"));
    g_autofree char *inactive = vrt_netdrv_get_xml(drv, "pfnet", VRT_NETWORK_XML_INACTIVE, &err);
    g_assert_null(strstr(inactive, "<address"));

    g_autoptr(VrtNetworkPortAlloc) p = vrt_network_port_allocate(drv, "pfnet", "g1", owner_uuid, mac, &err);
    g_assert_no_error(err);
    assert_vf(&p->pci_addr, "0000:3b:02.0");
    g_assert_false(p->managed);
    g_autofree char *live2 = vrt_netdrv_get_xml(drv, "pfnet", 0, &err);
    g_assert_true(g_str_has_prefix(live2, "<network connections='1'>"));
    g_assert_nonnull(strstr(live2, "function='0x0' connections='1'/>"));
    vrt_test_assert_validates(live2, "network", NULL);
    vrt_test_assert_validates(inactive, "network", NULL);
    g_assert_true(vrt_network_port_release(drv, "pfnet", p->port_uuid, &err));
    g_assert_true(vrt_netdrv_destroy(drv, "pfnet", &err));
}

/* Network "a.xml"'s ports and network "a"'s status file are two paths:
 * both run, keep their ports and come back after a restart. */
static const char *const clash_a_xml = "<network><name>a</name><forward mode='hostdev' managed='yes'>"
                                       "<address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x0'/>"
                                       "</forward></network>";
static const char *const clash_axml_xml = "<network><name>a.xml</name><forward mode='hostdev' managed='yes'>"
                                          "<address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x2'/>"
                                          "</forward></network>";

static void
test_names_do_not_share_files(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    {
        g_autoptr(VrtNetworkDriver) drv = new_driver(f);
        g_autoptr(VrtNetworkRef) a = vrt_netdrv_define_xml(drv, clash_a_xml, 0, &err);
        g_autoptr(VrtNetworkRef) b = vrt_netdrv_define_xml(drv, clash_axml_xml, 0, &err);
        g_assert_no_error(err);
        /* Either order: the second used to find the first's file or directory. */
        g_assert_true(vrt_netdrv_create(drv, "a.xml", &err));
        g_assert_no_error(err);
        g_assert_true(vrt_netdrv_create(drv, "a", &err));
        g_assert_no_error(err);
        g_autoptr(VrtNetworkPortAlloc) pa = vrt_network_port_allocate(drv, "a", "guest", owner_uuid, mac, &err);
        g_assert_no_error(err);
        g_autoptr(VrtNetworkPortAlloc) pb = vrt_network_port_allocate(drv, "a.xml", "guest", owner_uuid, mac, &err);
        g_assert_no_error(err);
        assert_invariants(drv);
    }
    g_autoptr(VrtNetworkDriver) drv = new_driver(f);
    g_assert_cmpint(vrt_network_ports_in_use(drv, "a", &err), ==, 1);
    g_assert_cmpint(vrt_network_ports_in_use(drv, "a.xml", &err), ==, 1);
    g_assert_no_error(err);
    assert_invariants(drv);
}

/* Ports an older vrtd kept in NAME/ports/ are found and moved. */
static void
test_ports_of_older_layout(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    {
        g_autoptr(VrtNetworkDriver) drv = new_driver(f);
        g_autoptr(VrtNetworkRef) r = vrt_netdrv_define_xml(drv, hostdev_xml, 0, &err);
        g_assert_true(vrt_netdrv_create(drv, "pool", &err));
        g_autoptr(VrtNetworkPortAlloc) a = vrt_network_port_allocate(drv, "pool", "guest", owner_uuid, mac, &err);
        g_assert_no_error(err);
    }
    g_autofree char *now = path_in(f, "run/vrt/network/ports/pool");
    g_autofree char *old_parent = path_in(f, "run/vrt/network/pool");
    g_autofree char *old = path_in(f, "run/vrt/network/pool/ports");
    g_assert_cmpint(g_mkdir_with_parents(old_parent, 0755), ==, 0);
    g_assert_cmpint(rename(now, old), ==, 0);
    g_autoptr(VrtNetworkDriver) drv = new_driver(f);
    g_assert_cmpint(vrt_network_ports_in_use(drv, "pool", &err), ==, 1);
    g_assert_no_error(err);
    g_assert_true(g_file_test(now, G_FILE_TEST_IS_DIR));
    g_assert_false(g_file_test(old_parent, G_FILE_TEST_EXISTS));
    assert_invariants(drv);
}

static void
test_allocate_until_empty(Fixture *f, gconstpointer data)
{
    g_autoptr(VrtNetworkDriver) drv = new_driver(f);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkRef) r = vrt_netdrv_define_xml(drv, hostdev_xml, 0, &err);
    g_assert_true(vrt_netdrv_create(drv, "pool", &err));
    g_assert_no_error(err);
    g_autoptr(GPtrArray) allocs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_port_alloc_free);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int i = 0; i < 3; i++) {
        VrtNetworkPortAlloc *a = vrt_network_port_allocate(drv, "pool", "guest", owner_uuid, mac, &err);
        g_assert_no_error(err);
        g_assert_cmpint(a->type, ==, VRT_NETWORK_PORT_ACTUAL_HOSTDEV);
        g_assert_true(a->managed);
        g_assert_cmpint(a->vlan, ==, 42);
        g_assert_true(g_hash_table_add(seen, vrt_pci_addr_format(&a->pci_addr)));
        g_ptr_array_add(allocs, a);
        /* The claim is on disk when allocate returns. */
        char u[VRT_UUID_STRING_LEN];
        vrt_uuid_format(a->port_uuid, u);
        g_autofree char *rel = g_strdup_printf("run/vrt/network/ports/pool/%s.xml", u);
        g_autofree char *pf = path_in(f, rel);
        g_assert_true(g_file_test(pf, G_FILE_TEST_IS_REGULAR));
    }
    g_autofree char *before = vrt_netdrv_get_xml(drv, "pool", 0, &err);
    g_assert_null(vrt_network_port_allocate(drv, "pool", "guest", owner_uuid, mac, &err));
    assert_error(&err, VIR_ERR_INTERNAL_ERROR,
                 "network 'pool' requires exclusive access to interfaces, but none are available");
    g_autofree char *after = vrt_netdrv_get_xml(drv, "pool", 0, &err);
    g_assert_cmpstr(before, ==, after);
    g_assert_true(g_str_has_prefix(after, "<network connections='3'>"));
    g_assert_cmpint(vrt_network_ports_in_use(drv, "pool", NULL), ==, 3);
    assert_invariants(drv);

    g_assert_false(vrt_netdrv_destroy(drv, "pool", &err));
    assert_error(&err, VIR_ERR_OPERATION_INVALID, "still in use by 3 ports");
    g_assert_cmpint(vrt_netdrv_is_active(drv, "pool", NULL), ==, 1);

    /* Release gives the VF back; a second release is a no-op. */
    VrtNetworkPortAlloc *mid = g_ptr_array_index(allocs, 1);
    VrtPciAddr freed = mid->pci_addr;
    g_assert_true(vrt_network_port_release(drv, "pool", mid->port_uuid, &err));
    g_assert_true(vrt_network_port_release(drv, "pool", mid->port_uuid, &err));
    g_assert_true(vrt_network_port_release(drv, "nonet", mid->port_uuid, &err));
    g_assert_no_error(err);
    g_autoptr(VrtNetworkPortAlloc) again = vrt_network_port_allocate(drv, "pool", "guest2", owner_uuid, mac, &err);
    g_assert_no_error(err);
    g_assert_true(vrt_pci_addr_equal(&again->pci_addr, &freed));
    assert_invariants(drv);

    /* A caller-chosen port uuid: a retry returns the same claim. */
    g_assert_true(vrt_network_port_release(drv, "pool", again->port_uuid, &err));
    guchar chosen[16];
    vrt_uuid_generate(chosen);
    g_autoptr(VrtNetworkPortAlloc) c1 = vrt_network_port_allocate_uuid(drv, "pool", "g", owner_uuid, mac, chosen, &err);
    g_assert_no_error(err);
    g_assert_cmpmem(c1->port_uuid, 16, chosen, 16);
    g_autoptr(VrtNetworkPortAlloc) c2 = vrt_network_port_allocate_uuid(drv, "pool", "g", owner_uuid, mac, chosen, &err);
    g_assert_no_error(err);
    g_assert_true(vrt_pci_addr_equal(&c1->pci_addr, &c2->pci_addr));
    g_assert_cmpint(vrt_network_ports_in_use(drv, "pool", NULL), ==, 3);
    static const guchar other_owner[16] = { 9 };
    g_assert_null(vrt_network_port_allocate_uuid(drv, "pool", "h", other_owner, mac, chosen, &err));
    assert_error(&err, VIR_ERR_NETWORK_PORT_EXIST, "already exists");
    assert_invariants(drv);

    /* What could not be read back after a restart is refused up front. */
    static const guint8 mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    g_assert_null(vrt_network_port_allocate(drv, "pool", "guest", owner_uuid, mcast, &err));
    assert_error(&err, VIR_ERR_INVALID_MAC, "01:00:5e:00:00:01");
    g_assert_null(vrt_network_port_allocate(drv, "pool", "", owner_uuid, mac, &err));
    assert_error(&err, VIR_ERR_INVALID_ARG, "owner name");

    /* Inactive network and unknown network. */
    g_assert_null(vrt_network_port_allocate(drv, "nonet", "g", owner_uuid, mac, &err));
    assert_error(&err, VIR_ERR_NO_NETWORK, "no network with matching name 'nonet'");
    g_autoptr(VrtNetworkRef) b = vrt_netdrv_define_xml(drv, bridge_xml, 0, &err);
    g_assert_null(vrt_network_port_allocate(drv, "br", "g", owner_uuid, mac, &err));
    assert_error(&err, VIR_ERR_OPERATION_INVALID, "network 'br' is not active");
}

static void
test_persistence(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    VrtPciAddr vf0, vf1;
    guchar port0[16], port1[16];
    {
        g_autoptr(VrtNetworkDriver) drv = new_driver(f);
        g_autoptr(VrtNetworkRef) r = vrt_netdrv_define_xml(drv, hostdev_xml, 0, &err);
        g_assert_true(vrt_netdrv_create(drv, "pool", &err));
        g_autoptr(VrtNetworkRef) t = vrt_netdrv_create_xml(drv, bridge_xml, 0, &err);
        g_assert_no_error(err);
        g_autoptr(VrtNetworkPortAlloc) a = vrt_network_port_allocate(drv, "pool", "g1", owner_uuid, mac, &err);
        g_autoptr(VrtNetworkPortAlloc) b = vrt_network_port_allocate(drv, "pool", "g2", owner_uuid, mac, &err);
        g_autoptr(VrtNetworkPortAlloc) c = vrt_network_port_allocate(drv, "br", "g3", owner_uuid, mac, &err);
        g_assert_no_error(err);
        g_assert_cmpint(c->type, ==, VRT_NETWORK_PORT_ACTUAL_BRIDGE);
        g_assert_cmpstr(c->bridge, ==, "br0");
        g_assert_cmpint(c->vlan, ==, -1);
        vf0 = a->pci_addr;
        vf1 = b->pci_addr;
        memcpy(port0, a->port_uuid, 16);
        memcpy(port1, b->port_uuid, 16);
    }
    /* As after kill -9: a new driver rebuilds pools and counts from files. */
    g_autoptr(VrtNetworkDriver) drv = new_driver(f);
    assert_invariants(drv);
    g_assert_cmpint(vrt_netdrv_is_active(drv, "pool", NULL), ==, 1);
    g_assert_cmpint(vrt_netdrv_is_active(drv, "br", NULL), ==, 1);
    g_assert_cmpint(vrt_netdrv_is_persistent(drv, "br", NULL), ==, 0);
    g_assert_cmpint(vrt_network_ports_in_use(drv, "pool", NULL), ==, 2);
    g_assert_cmpint(vrt_network_ports_in_use(drv, "br", NULL), ==, 1);
    g_autofree char *live = vrt_netdrv_get_xml(drv, "pool", 0, &err);
    g_assert_true(g_str_has_prefix(live, "<network connections='2'>"));
    g_autoptr(GPtrArray) mine = vrt_network_port_list_by_owner(drv, owner_uuid);
    g_assert_cmpuint(mine->len, ==, 3);
    static const guchar stranger[16] = { 1 };
    g_autoptr(GPtrArray) theirs = vrt_network_port_list_by_owner(drv, stranger);
    g_assert_cmpuint(theirs->len, ==, 0);
    guint hostdev = 0;
    for (guint i = 0; i < mine->len; i++) {
        VrtNetworkPortInfo *info = g_ptr_array_index(mine, i);
        if (info->alloc->type == VRT_NETWORK_PORT_ACTUAL_HOSTDEV) {
            g_assert_cmpstr(info->network, ==, "pool");
            g_assert_true(vrt_pci_addr_equal(&info->alloc->pci_addr, &vf0) ||
                          vrt_pci_addr_equal(&info->alloc->pci_addr, &vf1));
            hostdev++;
        }
    }
    g_assert_cmpuint(hostdev, ==, 2);

    /* The qemu driver re-registers what it knows: same claim is fine. */
    g_assert_true(vrt_network_port_reserve(drv, "pool", port0, "g1", owner_uuid, mac, &vf0, &err));
    g_assert_no_error(err);
    guchar other[16];
    vrt_uuid_generate(other);
    g_assert_false(vrt_network_port_reserve(drv, "pool", other, "g9", owner_uuid, mac, &vf1, &err));
    assert_error(&err, VIR_ERR_INTERNAL_ERROR, "is already in use by domain");
    static const VrtPciAddr stray_vf = { .bus = 0x99 };
    g_assert_false(vrt_network_port_reserve(drv, "pool", other, "g9", owner_uuid, mac, &stray_vf, &err));
    assert_error(&err, VIR_ERR_INTERNAL_ERROR, "not in the pool");
    g_assert_false(vrt_network_port_reserve(drv, "pool", other, "g9", owner_uuid, mac, NULL, &err));
    assert_error(&err, VIR_ERR_INVALID_ARG, "invalid VF PCI address '' for a port of network 'pool'");
    g_assert_false(vrt_network_port_reserve(drv, "pool", port0, "g1", owner_uuid, mac, &vf1, &err));
    assert_error(&err, VIR_ERR_INTERNAL_ERROR, "already registered");

    g_autoptr(VrtNetworkPortAlloc) c = vrt_network_port_allocate(drv, "pool", "g3", owner_uuid, mac, &err);
    g_assert_no_error(err);
    g_assert_false(vrt_pci_addr_equal(&c->pci_addr, &vf0));
    g_assert_false(vrt_pci_addr_equal(&c->pci_addr, &vf1));
    /* A released port can be reserved again after a restart-like rebuild. */
    g_assert_true(vrt_network_port_release(drv, "pool", port1, &err));
    g_assert_true(vrt_network_port_reserve(drv, "pool", port1, "g2", owner_uuid, mac, &vf1, &err));
    g_assert_no_error(err);
    assert_invariants(drv);

    /* A port file nobody loaded (written behind the driver's back) is caught. */
    g_autofree char *stray = path_in(f, "run/vrt/network/ports/pool/00000000-0000-0000-0000-000000000001.xml");
    g_assert_true(g_file_set_contents(stray, "<networkport/>", -1, NULL));
    g_assert_false(vrt_network_driver_check_invariants(drv, &err));
    assert_error(&err, VIR_ERR_INTERNAL_ERROR, "has no port in memory");
    g_unlink(stray);
}

static void
test_ports_api(Fixture *f, gconstpointer data)
{
    g_autoptr(VrtNetworkDriver) drv = new_driver(f);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkRef) r = vrt_netdrv_define_xml(drv, hostdev_xml, 0, &err);
    const char *noplug = "<networkport><owner><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid></owner>"
                         "<mac address='52:54:00:00:00:01'/></networkport>";
    g_assert_null(vrt_netdrv_port_create_xml(drv, r->uuid, noplug, 0, &err));
    assert_error(&err, VIR_ERR_OPERATION_INVALID, "is not active");
    g_assert_true(vrt_netdrv_create(drv, "pool", &err));

    g_autoptr(VrtNetworkPortRef) p1 = vrt_netdrv_port_create_xml(drv, r->uuid, noplug, 0, &err);
    g_assert_no_error(err);
    g_autofree char *x1 = vrt_netdrv_port_get_xml(drv, r->uuid, p1->uuid, 0, &err);
    g_assert_nonnull(strstr(x1, "<plug type='hostdev-pci' managed='yes'>"));
    g_assert_nonnull(strstr(x1, "function='0x0'/>"));
    g_assert_nonnull(strstr(x1, "<tag id='42'/>"));
    vrt_test_assert_validates(x1, "networkport", NULL);

    const char *named = "<networkport><owner><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid></owner>"
                        "<mac address='52:54:00:00:00:02'/><plug type='hostdev-pci'>"
                        "<address domain='0x0000' bus='0x06' slot='0x10' function='0x4'/></plug></networkport>";
    g_autoptr(VrtNetworkPortRef) p2 = vrt_netdrv_port_create_xml(drv, r->uuid, named, 0, &err);
    g_assert_no_error(err);
    g_assert_null(vrt_netdrv_port_create_xml(drv, r->uuid, named, 0, &err));
    assert_error(&err, VIR_ERR_INTERNAL_ERROR, "PCI device 0000:06:10.4 is already in use");

    g_autofree char *p1xml_again = g_strdup(x1);
    g_assert_null(vrt_netdrv_port_create_xml(drv, r->uuid, p1xml_again, 0, &err));
    assert_error(&err, VIR_ERR_NETWORK_PORT_EXIST, "already exists");

    g_autoptr(GPtrArray) ports = vrt_netdrv_port_list_all(drv, r->uuid, 0, &err);
    g_assert_cmpuint(ports->len, ==, 2);
    g_autoptr(VrtNetworkPortRef) look = vrt_netdrv_port_lookup_by_uuid(drv, r->uuid, p2->uuid, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(look->net->name, ==, "pool");

    g_assert_true(vrt_netdrv_port_delete(drv, r->uuid, p2->uuid, 0, &err));
    g_assert_false(vrt_netdrv_port_delete(drv, r->uuid, p2->uuid, 0, &err));
    assert_error(&err, VIR_ERR_NO_NETWORK_PORT, "no network port with matching uuid");
    g_assert_null(vrt_netdrv_port_get_xml(drv, r->uuid, p2->uuid, 0, &err));
    assert_error(&err, VIR_ERR_NO_NETWORK_PORT, "no network port");
    g_assert_true(vrt_netdrv_port_delete(drv, r->uuid, p1->uuid, 0, &err));
    g_assert_cmpint(vrt_network_ports_in_use(drv, "pool", NULL), ==, 0);
    g_assert_true(vrt_netdrv_destroy(drv, "pool", &err));
    g_assert_no_error(err);
}

typedef struct {
    VrtNetworkDriver *drv;
    GPtrArray *allocs; /* VrtNetworkPortAlloc* this thread got */
    pthread_barrier_t *start;
    const guchar *net_uuid; /* non-NULL: go through the port XML API */
} Worker;

/* The libvirt API path: create a port from XML without a plug and read
 * back which VF it got. */
static VrtNetworkPortAlloc *
allocate_by_xml(Worker *w, GError **error)
{
    static const char *const xml =
        "<networkport><owner><name>xml-racer</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid></owner>"
        "<mac address='52:54:00:00:00:09'/></networkport>";
    g_autoptr(VrtNetworkPortRef) ref = vrt_netdrv_port_create_xml(w->drv, w->net_uuid, xml, 0, error);
    if (!ref)
        return NULL;
    g_autofree char *out = vrt_netdrv_port_get_xml(w->drv, w->net_uuid, ref->uuid, 0, error);
    g_assert_nonnull(out);
    g_autoptr(VrtNetworkPortDef) def = vrt_network_port_def_parse(out, error);
    g_assert_nonnull(def);
    g_assert_cmpint(def->plug_type, ==, VRT_NETWORK_PLUG_HOSTDEV_PCI);
    VrtNetworkPortAlloc *a = g_new0(VrtNetworkPortAlloc, 1);
    memcpy(a->port_uuid, ref->uuid, 16);
    a->pci_addr = def->plug_addr;
    return a;
}

static gpointer
allocate_until_empty(gpointer data)
{
    Worker *w = data;
    pthread_barrier_wait(w->start);
    for (;;) {
        GError *err = NULL;
        VrtNetworkPortAlloc *a = w->net_uuid
                                     ? allocate_by_xml(w, &err)
                                     : vrt_network_port_allocate(w->drv, "pfnet", "racer", owner_uuid, mac, &err);
        if (!a) {
            g_assert_cmpint(err->code, ==, VIR_ERR_INTERNAL_ERROR);
            g_error_free(err);
            return NULL;
        }
        g_ptr_array_add(w->allocs, a);
    }
}

static void
test_concurrent(Fixture *f, gconstpointer data)
{
    set_pf_vfs(f, POOL_VFS);
    g_autoptr(VrtNetworkDriver) drv = new_driver(f);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkRef) r = vrt_netdrv_define_xml(drv, pf_xml, 0, &err);
    g_assert_true(vrt_netdrv_create(drv, "pfnet", &err));
    g_assert_no_error(err);
    pthread_barrier_t *start = g_new0(pthread_barrier_t, 1);
    for (int round = 0; round < CONCURRENT_ROUNDS; round++) {
        pthread_barrier_init(start, NULL, 2);
        Worker w[2];
        GThread *t[2];
        for (int i = 0; i < 2; i++) {
            w[i] = (Worker){ drv, g_ptr_array_new_with_free_func((GDestroyNotify)vrt_network_port_alloc_free), start,
                             i == 1 && round % 2 ? r->uuid : NULL };
            t[i] = g_thread_new("alloc", allocate_until_empty, &w[i]);
        }
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        guint total = 0;
        for (int i = 0; i < 2; i++) {
            g_thread_join(t[i]);
            for (guint j = 0; j < w[i].allocs->len; j++) {
                VrtNetworkPortAlloc *a = g_ptr_array_index(w[i].allocs, j);
                char *vf = vrt_pci_addr_format(&a->pci_addr);
                if (!g_hash_table_add(seen, vf))
                    g_error("round %d: VF %s handed out twice", round, vf);
                total++;
            }
        }
        g_assert_cmpuint(total, ==, POOL_VFS);
        g_assert_cmpint(vrt_network_ports_in_use(drv, "pfnet", NULL), ==, POOL_VFS);
        if (round % 50 == 0)
            assert_invariants(drv);
        for (int i = 0; i < 2; i++) {
            for (guint j = 0; j < w[i].allocs->len; j++) {
                VrtNetworkPortAlloc *a = g_ptr_array_index(w[i].allocs, j);
                g_assert_true(vrt_network_port_release(drv, "pfnet", a->port_uuid, &err));
            }
            g_ptr_array_unref(w[i].allocs);
        }
        pthread_barrier_destroy(start);
    }
    g_free(start);
    g_assert_cmpint(vrt_network_ports_in_use(drv, "pfnet", NULL), ==, 0);
    assert_invariants(drv);
}

/* Two networks over the same VFs still never share one. */
static void
test_overlapping_pools(Fixture *f, gconstpointer data)
{
    g_autoptr(VrtNetworkDriver) drv = new_driver(f);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtNetworkRef) a = vrt_netdrv_create_xml(drv, pf_xml, 0, &err);
    g_autoptr(VrtNetworkRef) b = vrt_netdrv_create_xml(
        drv,
        "<network><name>list</name><forward mode='hostdev'>"
        "<address type='pci' domain='0' bus='0x3b' slot='0x02' function='0'/></forward></network>",
        0, &err);
    g_assert_no_error(err);
    g_autoptr(VrtNetworkPortAlloc) p = vrt_network_port_allocate(drv, "pfnet", "g", owner_uuid, mac, &err);
    assert_vf(&p->pci_addr, "0000:3b:02.0");
    g_assert_null(vrt_network_port_allocate(drv, "list", "g", owner_uuid, mac, &err));
    assert_error(&err, VIR_ERR_INTERNAL_ERROR, "none are available");
    assert_invariants(drv);
}

/* VFs the host uses are skipped: one bound to a host driver, one whose
 * state cannot be read; the port's claim is in the VF registry. */
static void
test_host_busy_vfs(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtVfRegistry) vfs = vrt_vf_registry_new();
    /* 06:10.0: a VF of ens1's PF bound to a driver that is not its VF driver */
    host_mkdir(f, "sys/bus/pci/drivers/e1000e");
    host_link(f, "sys/bus/pci/devices/0000:06:10.0/driver", "../../../bus/pci/drivers/e1000e");
    host_link(f, "sys/bus/pci/devices/0000:06:10.0/physfn", "../0000:3b:00.0");
    host_link(f, "sys/bus/pci/devices/0000:3b:00.0/virtfn4", "../0000:06:10.0");
    /* 06:10.2: gone from sysfs, so nothing can be said about it */
    g_autofree char *gone = g_build_filename(f->hostroot, "sys/bus/pci/devices/0000:06:10.2", NULL);
    g_assert_cmpint(g_rmdir(gone), ==, 0);
    g_autoptr(VrtNetworkDriver) drv = vrt_network_driver_new(f->root, f->host, vfs, &err);
    g_assert_no_error(err);
    g_assert_true(vrt_network_driver_load(drv, &err));
    g_autoptr(VrtNetworkRef) r = vrt_netdrv_create_xml(drv, hostdev_xml, 0, &err);
    g_assert_no_error(err);
    g_autoptr(VrtNetworkPortAlloc) a = vrt_network_port_allocate(drv, "pool", "guest", owner_uuid, mac, &err);
    g_assert_no_error(err);
    assert_vf(&a->pci_addr, "0000:06:10.4");
    g_assert_null(vrt_network_port_allocate(drv, "pool", "guest", owner_uuid, mac, &err));
    assert_error(&err, VIR_ERR_INTERNAL_ERROR, "none are available");
    /* the skipped VFs were tried and given back */
    g_autoptr(VrtVfHolder) owner = vrt_vf_registry_lookup(vfs, &vf_06_10_4);
    g_assert_nonnull(owner);
    g_assert_cmpint(owner->kind, ==, VRT_VF_HOLDER_PORT);
    g_assert_cmpstr(owner->domain, ==, "guest");
    g_assert_cmpstr(owner->network, ==, "pool");
    g_assert_null(vrt_vf_registry_lookup(vfs, &vf_06_10_0));
    g_assert_cmpuint(vrt_vf_registry_count(vfs), ==, 1);
    assert_invariants(drv);
    g_assert_true(vrt_network_port_release(drv, "pool", a->port_uuid, &err));
    g_assert_cmpuint(vrt_vf_registry_count(vfs), ==, 0);
}

/* A domain's own <hostdev> of a pool VF, or a node device operation on
 * it, holds it in the shared registry: the pool skips it, and a port that
 * names it is refused. */
static void
test_registry_shared(Fixture *f, gconstpointer data)
{
    static const guchar dom_uuid[16] = { 0xd };
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtVfRegistry) vfs = vrt_vf_registry_new();
    g_autoptr(VrtNetworkDriver) drv = vrt_network_driver_new(f->root, f->host, vfs, &err);
    g_assert_no_error(err);
    g_assert_true(vrt_network_driver_load(drv, &err));
    g_autoptr(VrtNetworkRef) r = vrt_netdrv_create_xml(drv, hostdev_xml, 0, &err);
    g_assert_no_error(err);
    g_autoptr(VrtVfHolder) dom = vrt_vf_holder_new_domain("other", dom_uuid);
    g_autoptr(VrtVfHolder) nd = vrt_vf_holder_new_nodedev("detach");
    g_assert_true(vrt_vf_registry_claim(vfs, &vf_06_10_0, dom, NULL, NULL));
    g_assert_true(vrt_vf_registry_claim(vfs, &vf_06_10_2, nd, NULL, NULL));
    g_autoptr(VrtNetworkPortAlloc) a = vrt_network_port_allocate(drv, "pool", "guest", owner_uuid, mac, &err);
    g_assert_no_error(err);
    assert_vf(&a->pci_addr, "0000:06:10.4");
    g_assert_null(vrt_network_port_allocate(drv, "pool", "guest", owner_uuid, mac, &err));
    assert_error(&err, VIR_ERR_INTERNAL_ERROR, "none are available");
    g_autofree char *port_xml = g_strdup_printf(
        "<networkport><uuid>5d3ec0b5-6e0f-4d8e-9f3c-6d1b2b7c8e90</uuid><owner><name>g2</name>"
        "<uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid></owner><mac address='52:54:00:00:00:02'/>"
        "<plug type='hostdev-pci' managed='yes'><address type='pci' domain='0x0000' bus='0x06' slot='0x10' "
        "function='0x0'/></plug></networkport>");
    g_assert_null(vrt_netdrv_port_create_xml(drv, r->uuid, port_xml, 0, &err));
    assert_error(&err, VIR_ERR_INTERNAL_ERROR, "in use by domain 'other'");
    g_assert_cmpint(vrt_network_ports_in_use(drv, "pool", NULL), ==, 1);
    assert_invariants(drv);
}

typedef struct {
    VrtNetworkDriver *drv;
    VrtNetworkPortAlloc *alloc;
} Allocator;

static gpointer
allocate_one(gpointer data)
{
    Allocator *a = data;
    g_autoptr(GError) err = NULL;
    a->alloc = vrt_network_port_allocate(a->drv, "pool", "guest", owner_uuid, mac, &err);
    g_assert_no_error(err);
    return NULL;
}

/* The host check of a VF (sysfs, then a netlink dump) runs without the
 * driver lock: while one allocation waits on the host, the driver answers
 * other calls, and the VF it looks at is already its claim. The VF's host
 * interface flags are a FIFO here, so the check waits until the test
 * writes them; with the check under the lock, the calls below would never
 * return. */
static void
test_host_check_outside_lock(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtVfRegistry) vfs = vrt_vf_registry_new();
    host_mkdir(f, "sys/bus/pci/devices/0000:06:10.0/net/eth9");
    host_mkdir(f, "sys/class/net/eth9");
    g_autofree char *flags = g_build_filename(f->hostroot, "sys/class/net/eth9/flags", NULL);
    g_assert_cmpint(mkfifo(flags, 0600), ==, 0);
    g_autoptr(VrtNetworkDriver) drv = vrt_network_driver_new(f->root, f->host, vfs, &err);
    g_assert_no_error(err);
    g_assert_true(vrt_network_driver_load(drv, &err));
    g_autoptr(VrtNetworkRef) r = vrt_netdrv_create_xml(drv, hostdev_xml, 0, &err);
    g_assert_no_error(err);

    Allocator a = { drv, NULL };
    GThread *t = g_thread_new("alloc", allocate_one, &a);
    /* returns once the allocation reads the flags of 06:10.0's interface */
    int fd = open(flags, O_WRONLY);
    g_assert_cmpint(fd, >=, 0);
    g_autoptr(VrtVfHolder) held = vrt_vf_registry_lookup(vfs, &vf_06_10_0);
    g_assert_nonnull(held);
    g_assert_cmpint(held->kind, ==, VRT_VF_HOLDER_PORT);
    g_assert_cmpint(vrt_network_ports_in_use(drv, "pool", &err), ==, 0);
    g_autofree char *xml = vrt_netdrv_get_xml(drv, "pool", 0, &err);
    g_assert_no_error(err);
    g_autoptr(GPtrArray) names = vrt_netdrv_list_names(drv, true);
    g_assert_cmpuint(names->len, ==, 1);
    /* the pool is busy adding a port: it does not stop under it */
    g_assert_false(vrt_netdrv_destroy(drv, "pool", &err));
    assert_error(&err, VIR_ERR_OPERATION_INVALID, "still in use by 1 port");
    /* the interface is up: the VF is the host's, the next one is taken */
    g_assert_cmpint(write(fd, "0x1003\n", 7), ==, 7);
    close(fd);
    g_thread_join(t);
    g_assert_nonnull(a.alloc);
    assert_vf(&a.alloc->pci_addr, "0000:06:10.2");
    g_assert_null(vrt_vf_registry_lookup(vfs, &vf_06_10_0));
    assert_invariants(drv);
    g_assert_true(vrt_network_port_release(drv, "pool", a.alloc->port_uuid, &err));
    vrt_network_port_alloc_free(a.alloc);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/network-driver/lifecycle", test_lifecycle);
    ADD("/network-driver/define-rules", test_define_rules);
    ADD("/network-driver/transient", test_transient);
    ADD("/network-driver/autostart", test_autostart);
    ADD("/network-driver/pf-pool", test_pf_pool);
    ADD("/network-driver/allocate-until-empty", test_allocate_until_empty);
    ADD("/network-driver/persistence", test_persistence);
    ADD("/network-driver/ports-api", test_ports_api);
    ADD("/network-driver/concurrent", test_concurrent);
    ADD("/network-driver/overlapping-pools", test_overlapping_pools);
    ADD("/network-driver/host-busy-vfs", test_host_busy_vfs);
    ADD("/network-driver/registry-shared", test_registry_shared);
    ADD("/network-driver/host-check-outside-lock", test_host_check_outside_lock);
    ADD("/network-driver/names-do-not-share-files", test_names_do_not_share_files);
    ADD("/network-driver/ports-of-older-layout", test_ports_of_older_layout);
    return g_test_run();
}
