/*
 * Tests of the PCI topology controllers (PCIe switch ports, expander
 * buses, a PCI controller's <target>) and of an interface's host side
 * (<script>, <target managed='no'>, host <ip>/<route>, <backend>): each
 * given addresses and defaults as libvirt gives them, written as libvirt
 * writes them, parsed again to the same text, and each bad value refused
 * with libvirt's code and text.
 */
#include "conf/domain/domain_conf.h"
#include "util/error.h"
#include "testutil.h"

#include <string.h>

#define HEAD "<domain type='qemu'><name>t</name><memory>262144</memory><vcpu>2</vcpu>"
#define Q35(devs) HEAD "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>" devs "</devices></domain>"
#define PC(devs) HEAD "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>" devs "</devices></domain>"
#define PC_NUMA(devs)                                                                                  \
    HEAD "<os><type arch='x86_64' machine='pc'>hvm</type></os><cpu><numa>"                             \
         "<cell id='0' cpus='0' memory='131072'/><cell id='1' cpus='1' memory='131072'/></numa></cpu>" \
         "<devices>" devs "</devices></domain>"

/* The definition with addresses and defaults, written inactive; that
 * text parses again to the same text, and takes addresses again. */
static char *
assigned(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &error);
    g_autoptr(VrtDomainDef) again = NULL;
    g_autofree char *second = NULL;
    char *out;

    g_assert_no_error(error);
    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    g_assert_no_error(error);
    out = vrt_domain_def_format(def, VRT_DOMAIN_XML_INACTIVE, &error);
    g_assert_no_error(error);
    vrt_test_assert_validates(out, "domain", "topology");
    again = vrt_domain_def_parse(out, 0, &error);
    g_assert_no_error(error);
    second = vrt_domain_def_format(again, VRT_DOMAIN_XML_INACTIVE, &error);
    g_assert_cmpstr(second, ==, out);
    g_assert_true(vrt_domain_def_assign_addresses(again, &error));
    g_assert_no_error(error);
    return out;
}

static void
assert_has(const char *xml, const char *part)
{
    if (!strstr(xml, part))
        g_error("'%s' not in:\n%s", part, xml);
}

static void
assert_refused(const char *xml, int code, const char *message)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &error);

    if (def && vrt_domain_def_assign_addresses(def, &error))
        g_error("accepted, expected '%s'", message);
    g_assert_nonnull(error);
    g_assert_cmpint(error->code, ==, code);
    if (!strstr(error->message, message))
        g_error("error '%s' lacks '%s'", error->message, message);
}

static void
test_switch(void)
{
    g_autofree char *out = assigned(Q35("<controller type='pci' index='1' model='pcie-root-port'/>"
                                        "<controller type='pci' index='2' model='pcie-switch-upstream-port'/>"
                                        "<controller type='pci' index='3' model='pcie-switch-downstream-port'/>"
                                        "<controller type='pci' index='4' model='pcie-switch-downstream-port'>"
                                        "<target chassis='30' port='0x27' hotplug='off'/></controller>"
                                        "<interface type='user'><model type='virtio'/></interface>"));

    /* the upstream port in the root port, its downstream ports on its bus
     * (chassis = index, port = slot when not given), the interface in the
     * first free downstream port */
    assert_has(out, "<controller type='pci' index='2' model='pcie-switch-upstream-port'>\n"
                    "      <model name='x3130-upstream'/>\n"
                    "      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>");
    assert_has(out, "<controller type='pci' index='3' model='pcie-switch-downstream-port'>\n"
                    "      <model name='xio3130-downstream'/>\n"
                    "      <target chassis='3' port='0x0'/>\n"
                    "      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>");
    assert_has(out, "<target chassis='30' port='0x27' hotplug='off'/>\n"
                    "      <address type='pci' domain='0x0000' bus='0x02' slot='0x01' function='0x0'/>");
    assert_has(out, "<model type='virtio'/>\n"
                    "      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>");
}

static void
test_bridges_q35(void)
{
    g_autofree char *out = assigned(Q35("<controller type='pci' index='1' model='dmi-to-pci-bridge'/>"
                                        "<controller type='pci' index='2' model='pci-bridge'/>"));

    /* as libvirt: the DMI bridge at 00:1e, the pci-bridge behind it with
     * chassisNr = its index */
    assert_has(out, "<model name='i82801b11-bridge'/>\n"
                    "      <address type='pci' domain='0x0000' bus='0x00' slot='0x1e' function='0x0'/>");
    assert_has(out, "<model name='pci-bridge'/>\n"
                    "      <target chassisNr='2'/>\n"
                    "      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>");
}

static void
test_expander(void)
{
    g_autofree char *out = assigned(PC_NUMA("<controller type='pci' index='1' model='pci-expander-bus'>"
                                            "<target><node>1</node></target></controller>"
                                            "<controller type='pci' index='2' model='pci-expander-bus'/>"));
    g_autofree char *pcie = assigned(Q35("<controller type='pci' index='1' model='pcie-expander-bus'>"
                                         "<target busNr='100'/></controller>"));

    /* busNr counted down from 254, two at a time, as libvirt assigns it */
    assert_has(out, "<model name='pxb'/>\n"
                    "      <target busNr='254'>\n"
                    "        <node>1</node>\n"
                    "      </target>\n"
                    "      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>");
    assert_has(out, "<target busNr='252'/>");
    assert_has(pcie, "<model name='pxb-pcie'/>\n"
                     "      <target busNr='100'/>\n"
                     "      <address type='pci' domain='0x0000' bus='0x00'");
}

/* pc: once bus 0 is full, the next devices go on the pci-bridge from its
 * slot 1, as libvirt goes on (before: no free PCI slot on bus 0) */
static void
test_pc_bus_full(void)
{
    g_autoptr(GString) xml = g_string_new(HEAD "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
                                               "<controller type='pci' index='1' model='pci-bridge'/>");
    g_autofree char *out = NULL;

    for (guint i = 0; i < 32; i++)
        g_string_append_printf(xml,
                               "<interface type='user'><mac address='52:54:00:00:01:%02x'/>"
                               "<model type='e1000'/></interface>",
                               i);
    g_string_append(xml, "<memballoon model='none'/></devices></domain>");
    out = assigned(xml->str);
    assert_has(out, "<mac address='52:54:00:00:01:1f'/>\n"
                    "      <model type='e1000'/>\n"
                    "      <address type='pci' domain='0x0000' bus='0x01' slot='0x");
    assert_has(out, "bus='0x01' slot='0x01' function='0x0'/>");
}

/* A PCI controller written without index and without a root before it
 * takes index 1, not the root's 0 (its written form did not parse again:
 * found by fuzz-domain-xml) */
static void
test_autoindex_without_root(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(PC("<controller type='pci' model='pci-bridge'/>"), 0, &error);
    g_autofree char *out = NULL;
    g_autoptr(VrtDomainDef) again = NULL;

    g_assert_no_error(error);
    out = vrt_domain_def_format(def, VRT_DOMAIN_XML_INACTIVE, &error);
    g_assert_no_error(error);
    assert_has(out, "<controller type='pci' index='1' model='pci-bridge'/>");
    again = vrt_domain_def_parse(out, 0, &error);
    g_assert_no_error(error);
}

static void
test_topology_refusals(void)
{
    assert_refused(PC_NUMA("<controller type='pci' index='1' model='pci-expander-bus'>"
                           "<target><node>2</node></target></controller>"),
                   VIR_ERR_XML_ERROR,
                   "pci-expander-bus with index 1 is configured for a NUMA node (2) not present in the domain's "
                   "<cpu><numa> array (2)");
    assert_refused(PC("<controller type='pci' index='1' model='pcie-expander-bus'/>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "pcie-expander-bus controllers are not supported with this machine type");
    assert_refused(Q35("<controller type='pci' index='1' model='pci-expander-bus'/>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "pci-expander-bus controllers are only supported on 440fx-based machinetypes");
    assert_refused(PC("<controller type='pci' index='1' model='pci-bridge'/>"
                      "<controller type='pci' index='2' model='pci-expander-bus'>"
                      "<address type='pci' bus='1' slot='1'/></controller>"),
                   VIR_ERR_XML_ERROR,
                   "The device at PCI address 0000:01:01.0 cannot be plugged into the PCI controller with "
                   "index='1'. It requires a controller that accepts a pci-expander-bus.");
    assert_refused(Q35("<controller type='pci' index='1' model='pcie-root-port'/>"
                       "<controller type='pci' index='2' model='dmi-to-pci-bridge'>"
                       "<address type='pci' bus='1'/></controller>"),
                   VIR_ERR_XML_ERROR,
                   "The device at PCI address 0000:01:00.0 cannot be plugged into the PCI controller with "
                   "index='1'. It requires a controller that accepts a dmi-to-pci-bridge.");
    assert_refused(Q35("<controller type='pci' index='1' model='pcie-root-port'><target chassisNr='3'/>"
                       "</controller>"),
                   VIR_ERR_CONFIG_UNSUPPORTED,
                   "Option 'chassisNr' is not valid for PCI controller with index '1', model 'pcie-root-port' and "
                   "modelName 'pcie-root-port'");
    assert_refused(Q35("<controller type='pci' index='1' model='pcie-switch-upstream-port'>"
                       "<model name='xio3130-downstream'/></controller>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "Option 'modelName' has invalid value for PCI controller");
    assert_refused(PC("<controller type='pci' index='1' model='pci-bridge'><target chassisNr='0'/></controller>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "PCI controller chassisNr '0' out of range - must be 1-255");
    assert_refused(Q35("<controller type='pci' index='1' model='pcie-expander-bus'><target busNr='255'/>"
                       "</controller>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "PCI controller busNr '255' out of range - must be 1-254");
    assert_refused(PC("<controller type='pci' index='1' model='pci-expander-bus'><target><node>x</node></target>"
                      "</controller>"),
                   VIR_ERR_XML_ERROR, "invalid NUMA node in target");
    assert_refused(PC("<controller type='pci' index='1' model='pcie-switch-upstream-port'/>"),
                   VIR_ERR_CONFIG_UNSUPPORTED,
                   "PCI controller model 'pcie-switch-upstream-port' is not supported on machine");
}

static void
test_ethernet(void)
{
    g_autofree char *out =
        assigned(PC("<interface type='ethernet'><mac address='52:54:00:00:00:01'/>"
                    "<model type='virtio'/><target dev='vnet7' managed='no'/><script path='/etc/qemu-ifup'/>"
                    "<source><route gateway='192.168.125.2' prefix='16' address='10.20.0.0' family='ipv4'/>"
                    "<ip peer='192.168.125.2' prefix='24' address='192.168.125.1'/>"
                    "<ip address='2001:db8:0:0::1' prefix='64'/></source></interface>"));

    /* libvirt's order; the family filled in; IPv6 written in short form;
     * an unmanaged tap keeps even a vnet name */
    assert_has(out, "<interface type='ethernet'>\n"
                    "      <mac address='52:54:00:00:00:01'/>\n"
                    "      <source>\n"
                    "        <ip address='192.168.125.1' family='ipv4' prefix='24' peer='192.168.125.2'/>\n"
                    "        <ip address='2001:db8::1' family='ipv6' prefix='64'/>\n"
                    "        <route family='ipv4' address='10.20.0.0' prefix='16' gateway='192.168.125.2'/>\n"
                    "      </source>\n"
                    "      <script path='/etc/qemu-ifup'/>\n"
                    "      <target dev='vnet7' managed='no'/>\n"
                    "      <model type='virtio'/>\n");
}

static void
test_backend(void)
{
    g_autofree char *out =
        assigned(PC("<interface type='user'><mac address='52:54:00:00:00:01'/><model type='e1000'/>"
                    "<driver name='vhost' queues='4'/><backend tap='/dev/null' vhost='/dev/zero'/></interface>"
                    "<interface type='user'><mac address='52:54:00:00:00:02'/><model type='virtio'/>"
                    "<driver name='vhost' queues='1'/><backend tap='/dev/null' vhost='/dev/zero'/></interface>"));

    /* as libvirt's parser: vhost and <driver name= queues=> are virtio's
     * only, one queue is the default */
    assert_has(out, "<model type='e1000'/>\n      <backend tap='/dev/null'/>\n");
    assert_has(out, "<model type='virtio'/>\n      <driver name='vhost'/>\n"
                    "      <backend tap='/dev/null' vhost='/dev/zero'/>\n");
}

static void
test_trust_rx_filters(void)
{
    g_autofree char *out = assigned(PC("<interface trustGuestRxFilters='no' type='user'>"
                                       "<mac address='52:54:00:00:00:01'/><model type='virtio'/></interface>"));

    assert_has(out, "<interface type='user' trustGuestRxFilters='no'>\n");
    assert_refused(PC("<interface type='user' trustGuestRxFilters='maybe'/>"), VIR_ERR_XML_ERROR,
                   "trustGuestRxFilters");
}

static void
test_host_side_refusals(void)
{
    assert_refused(PC("<interface type='user'><source><ip address='10.0.0.1'/></source></interface>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "element <source> in <interface>");
    assert_refused(PC("<interface type='bridge'><source bridge='br0'/><target dev='t0' managed='no'/></interface>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "unmanaged target dev is not supported on interfaces of type 'bridge'");
    assert_refused(PC("<interface type='ethernet'><source><ip address='10.0.0.300'/></source></interface>"),
                   VIR_ERR_XML_ERROR, "Invalid address '10.0.0.300' in <ip>");
    assert_refused(PC("<interface type='ethernet'><source><ip address='10.0.0.1' prefix='33'/></source>"
                      "</interface>"),
                   VIR_ERR_XML_ERROR, "Invalid prefix value '33' in <ip>");
    assert_refused(PC("<interface type='ethernet'><source><ip/></source></interface>"), VIR_ERR_XML_ERROR,
                   "Missing required address in <ip>");
    assert_refused(PC("<interface type='ethernet'><source><route address='10.0.0.0'/></source></interface>"),
                   VIR_ERR_XML_ERROR, "Bad gateway address '' in route definition");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domtopology/switch", test_switch);
    g_test_add_func("/domtopology/bridges-q35", test_bridges_q35);
    g_test_add_func("/domtopology/expander", test_expander);
    g_test_add_func("/domtopology/pc-bus-full", test_pc_bus_full);
    g_test_add_func("/domtopology/autoindex-without-root", test_autoindex_without_root);
    g_test_add_func("/domtopology/refusals", test_topology_refusals);
    g_test_add_func("/domtopology/ethernet", test_ethernet);
    g_test_add_func("/domtopology/backend", test_backend);
    g_test_add_func("/domtopology/trust-rx-filters", test_trust_rx_filters);
    g_test_add_func("/domtopology/host-side-refusals", test_host_side_refusals);
    return g_test_run();
}
