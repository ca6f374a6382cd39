/*
 * Unit tests of the host interface reader (interface.c) on a fake sysfs
 * and /proc/net/vlan under a temporary host root: which interfaces are
 * listed (bridge ports and tap devices are not), active and inactive ones,
 * lookups by name and MAC with libvirt's errors, and the XML of an
 * ethernet, bridge, bond and VLAN interface as libvirt's udev backend
 * writes it, each valid against libvirt's interface schema.
 */
#include <string.h>
#include <unistd.h>

#include "drivers/interface/interface.h"
#include "testutil.h"
#include "util/error.h"

static void
put(const char *root, const char *path, const char *text)
{
    g_autofree char *real = g_build_filename(root, path, NULL);
    g_autofree char *dir = g_path_get_dirname(real);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(real, text, -1, NULL));
}

static void
netdev(const char *root, const char *name, const char *mac, const char *state, const char *devtype)
{
    g_autofree char *base = g_strdup_printf("/sys/class/net/%s", name);
    g_autofree char *p = NULL;

    p = g_strdup_printf("%s/address", base);
    put(root, p, mac);
    g_free(p);
    p = g_strdup_printf("%s/operstate", base);
    put(root, p, state);
    g_free(p);
    p = g_strdup_printf("%s/mtu", base);
    put(root, p, "1500\n");
    g_free(p);
    p = g_strdup_printf("%s/uevent", base);
    {
        g_autofree char *ev = devtype ? g_strdup_printf("DEVTYPE=%s\nINTERFACE=%s\n", devtype, name)
                                      : g_strdup_printf("INTERFACE=%s\n", name);
        put(root, p, ev);
    }
}

static char *
make_host(void)
{
    char *root = vrt_test_make_root("vrt-iface-XXXXXX");

    netdev(root, "eth0", "52:54:00:00:00:01\n", "up\n", NULL);
    put(root, "/sys/class/net/eth0/speed", "1000\n");
    netdev(root, "eth1", "52:54:00:00:00:02\n", "up\n", NULL);
    put(root, "/sys/class/net/eth1/brport/state", "3\n");
    netdev(root, "br0", "52:54:00:00:00:02\n", "up\n", "bridge");
    put(root, "/sys/class/net/br0/bridge/stp_state", "0\n");
    put(root, "/sys/class/net/br0/bridge/forward_delay", "1500\n");
    put(root, "/sys/class/net/br0/brif/eth1/state", "3\n");
    netdev(root, "eth2", "52:54:00:00:00:03\n", "down\n", NULL);
    netdev(root, "bond0", "52:54:00:00:00:03\n", "down\n", "bond");
    put(root, "/sys/class/net/bond0/bonding/mode", "active-backup 1\n");
    put(root, "/sys/class/net/bond0/bonding/miimon", "100\n");
    put(root, "/sys/class/net/bond0/bonding/arp_interval", "0\n");
    put(root, "/sys/class/net/bond0/bonding/downdelay", "0\n");
    put(root, "/sys/class/net/bond0/bonding/updelay", "200\n");
    put(root, "/sys/class/net/bond0/bonding/use_carrier", "1\n");
    put(root, "/sys/class/net/bond0/lower_eth2/operstate", "down\n");
    netdev(root, "eth0.10", "52:54:00:00:00:01\n", "up\n", "vlan");
    put(root, "/proc/net/vlan/eth0.10",
        "eth0.10  VID: 10\t REORDER_HDR: 1  dev->priv_flags: 1\n"
        "         total frames received            0\n"
        "Device: eth0\nINGRESS priority mappings: 0:0\n");
    netdev(root, "tap0", "fe:54:00:00:00:09\n", "up\n", NULL);
    put(root, "/sys/class/net/tap0/tun_flags", "0x1002\n");
    netdev(root, "lo", "00:00:00:00:00:00\n", "unknown\n", NULL);
    return root;
}

static GPtrArray *
names(GPtrArray *ifaces)
{
    GPtrArray *n = g_ptr_array_new();

    for (guint i = 0; i < ifaces->len; i++)
        g_ptr_array_add(n, ((VrtIface *)g_ptr_array_index(ifaces, i))->name);
    g_ptr_array_add(n, NULL);
    return n;
}

static void
test_lists(void)
{
    g_autofree char *root = make_host();
    g_autoptr(VrtHost) host = vrt_host_new(root, NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) all = vrt_iface_list(host, 0, &err);
    g_autoptr(GPtrArray) up = vrt_iface_list(host, 1, &err);
    g_autoptr(GPtrArray) down = vrt_iface_list(host, 2, &err);
    g_autoptr(GPtrArray) n_all = names(all);
    g_autoptr(GPtrArray) n_up = names(up);
    g_autoptr(GPtrArray) n_down = names(down);
    g_autofree char *s_all = g_strjoinv(" ", (char **)n_all->pdata);
    g_autofree char *s_up = g_strjoinv(" ", (char **)n_up->pdata);
    g_autofree char *s_down = g_strjoinv(" ", (char **)n_down->pdata);

    g_assert_no_error(err);
    g_assert_cmpstr(s_all, ==, "bond0 br0 eth0 eth0.10 eth2 lo");
    g_assert_cmpstr(s_up, ==, "br0 eth0 eth0.10");
    g_assert_cmpstr(s_down, ==, "bond0 eth2");
    vrt_test_remove_tree(root);
}

static void
test_lookups(void)
{
    g_autofree char *root = make_host();
    g_autoptr(VrtHost) host = vrt_host_new(root, NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtIface) e0 = vrt_iface_lookup_by_name(host, "eth0", &err);
    g_autoptr(VrtIface) bymac = NULL;
    g_autoptr(VrtIface) none = NULL;

    g_assert_no_error(err);
    g_assert_cmpstr(e0->mac, ==, "52:54:00:00:00:01");
    g_assert_true(e0->active);
    none = vrt_iface_lookup_by_name(host, "nope", &err);
    g_assert_null(none);
    g_assert_error(err, VRT_ERROR, VIR_ERR_NO_INTERFACE);
    g_clear_error(&err);
    bymac = vrt_iface_lookup_by_mac(host, "52:54:00:00:00:02", &err);
    g_assert_no_error(err);
    g_assert_cmpstr(bymac->name, ==, "br0"); /* eth1, a bridge port, is not listed */
    g_clear_pointer(&bymac, vrt_iface_free);
    bymac = vrt_iface_lookup_by_mac(host, "52:54:00:00:00:01", &err);
    g_assert_null(bymac);
    g_assert_error(err, VRT_ERROR, VIR_ERR_MULTIPLE_INTERFACES);
    vrt_test_remove_tree(root);
}

static void
test_xml(void)
{
    g_autofree char *root = make_host();
    g_autoptr(VrtHost) host = vrt_host_new(root, NULL);
    g_autoptr(GError) err = NULL;
    struct {
        const char *name, *xml;
    } cases[] = {
        { "eth0", "<interface type='ethernet' name='eth0'>\n  <mtu size='1500'/>\n"
                  "  <link speed='1000' state='up'/>\n  <mac address='52:54:00:00:00:01'/>\n</interface>\n" },
        { "br0", "<interface type='bridge' name='br0'>\n  <mtu size='1500'/>\n"
                 "  <bridge stp='off' delay='1500'>\n"
                 "    <interface type='ethernet' name='eth1'>\n      <link state='up'/>\n"
                 "      <mac address='52:54:00:00:00:02'/>\n    </interface>\n  </bridge>\n</interface>\n" },
        { "bond0", "<interface type='bond' name='bond0'>\n  <mtu size='1500'/>\n  <link state='down'/>\n"
                   "  <bond mode='active-backup'>\n    <miimon freq='100' updelay='200' carrier='netif'/>\n"
                   "    <interface type='ethernet' name='eth2'>\n      <link state='down'/>\n"
                   "      <mac address='52:54:00:00:00:03'/>\n    </interface>\n  </bond>\n</interface>\n" },
        { "eth0.10", "<interface type='vlan' name='eth0.10'>\n  <mtu size='1500'/>\n  <link state='up'/>\n"
                     "  <vlan tag='10'>\n    <interface name='eth0'/>\n  </vlan>\n</interface>\n" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = vrt_iface_get_xml(host, cases[i].name, &err);

        g_assert_no_error(err);
        g_assert_cmpstr(xml, ==, cases[i].xml);
        vrt_test_assert_validates(xml, "interface", cases[i].name);
    }
    g_assert_null(vrt_iface_get_xml(host, "nope", &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_NO_INTERFACE);
    vrt_test_remove_tree(root);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/interface/lists", test_lists);
    g_test_add_func("/interface/lookups", test_lookups);
    g_test_add_func("/interface/xml", test_xml);
    return g_test_run();
}
