/*
 * Tests of the domain XML layer: the corpus in tests/data/domain round-trips
 * through parse and format in every view and validates against libvirt's
 * schema; each error a user can make gets libvirt's code and names the
 * culprit; addresses, aliases and MACs are assigned as libvirt does and stay
 * put; an SR-IOV interface and its hostdev stay linked in both lists.
 */
#include "conf/domain/domain_conf.h"
#include "util/error.h"
#include "vrt-config.h"
#include "testutil.h"

#include <string.h>
#include <glib/gstdio.h>

static char *
corpus_dir(void)
{
    const char *env = g_getenv("VRT_DOMAIN_CORPUS");
    return env ? g_strdup(env) : g_build_filename(VRT_SOURCE_DIR, "tests", "data", "domain", NULL);
}

static VrtDomainDef *
parse_ok(const char *xml, guint flags)
{
    g_autoptr(GError) error = NULL;
    VrtDomainDef *def = vrt_domain_def_parse(xml, flags, &error);
    g_assert_no_error(error);
    g_assert_nonnull(def);
    return def;
}

static char *
format_ok(const VrtDomainDef *def, guint flags)
{
    g_autoptr(GError) error = NULL;
    char *xml = vrt_domain_def_format(def, flags, &error);
    g_assert_no_error(error);
    g_assert_nonnull(xml);
    return xml;
}

/* format(parse(x)) == x for an x we formatted ourselves */
static void
assert_stable(const char *xml, guint parse_flags, guint format_flags)
{
    g_autoptr(VrtDomainDef) def = parse_ok(xml, parse_flags);
    g_autofree char *again = format_ok(def, format_flags);
    g_assert_cmpstr(again, ==, xml);
}

/* Pretend the driver started the domain: an id, pty paths, a port. */
static void
fake_runtime(VrtDomainDef *def)
{
    def->id = 7;
    for (guint i = 0; i < def->serials->len; i++) {
        VrtDomainChrDef *s = def->serials->pdata[i];
        if (s->type == VRT_DOMAIN_CHR_TYPE_PTY && !s->path)
            s->path = g_strdup_printf("/dev/pts/%u", 10 + i);
    }
    for (guint i = 0; i < def->nets->len; i++) {
        VrtDomainNetDef *n = def->nets->pdata[i];
        if (n->type == VRT_DOMAIN_NET_TYPE_NETWORK && !n->actual.set) {
            n->actual.set = true;
            n->actual.type = VRT_DOMAIN_NET_TYPE_NETWORK;
            n->actual.bridge = g_strdup("virbr0");
            vrt_uuid_generate(n->port_uuid);
            n->port_uuid_set = true;
            n->ifname = g_strdup_printf("vnet%u", i);
        }
    }
}

static void
test_corpus_file(gconstpointer data)
{
    const char *path = data;
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(VrtDomainDef) copy = NULL;
    g_autofree char *inactive = NULL, *live = NULL, *status = NULL, *assigned = NULL;
    g_autofree char *copied = NULL;

    g_assert_true(g_file_get_contents(path, &xml, NULL, &error));
    def = parse_ok(xml, 0);

    inactive = format_ok(def, VRT_DOMAIN_XML_INACTIVE);
    vrt_test_assert_validates(inactive, "domain", path);
    assert_stable(inactive, 0, VRT_DOMAIN_XML_INACTIVE);

    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    g_assert_no_error(error);
    assigned = format_ok(def, VRT_DOMAIN_XML_INACTIVE);
    vrt_test_assert_validates(assigned, "domain", path);
    assert_stable(assigned, 0, VRT_DOMAIN_XML_INACTIVE);

    fake_runtime(def);
    live = format_ok(def, 0);
    g_assert_nonnull(strstr(live, "<domain type='") && strstr(live, " id='7'>") ? live : NULL);
    vrt_test_assert_validates(live, "domain", path);
    status = format_ok(def, VRT_DOMAIN_XML_STATUS);
    assert_stable(status, VRT_DOMAIN_XML_STATUS, VRT_DOMAIN_XML_STATUS);
    {
        /* the live view of what was read back from status is the same */
        g_autoptr(VrtDomainDef) back = parse_ok(status, VRT_DOMAIN_XML_STATUS);
        g_autofree char *live2 = format_ok(back, 0);
        g_assert_cmpstr(live2, ==, live);
    }
    copy = vrt_domain_def_copy(def, &error);
    g_assert_no_error(error);
    copied = format_ok(copy, VRT_DOMAIN_XML_STATUS);
    g_assert_cmpstr(copied, ==, status);

    /* assigning again moves nothing */
    g_assert_true(vrt_domain_def_assign_addresses(copy, &error));
    g_clear_pointer(&copied, g_free);
    copied = format_ok(copy, VRT_DOMAIN_XML_STATUS);
    g_assert_cmpstr(copied, ==, status);
}

/* ---- errors -------------------------------------------------------- */

#define DOM_HEAD                                                        \
    "<domain type='kvm'>\n  <name>t</name>\n  <memory>65536</memory>\n" \
    "  <os><type>hvm</type></os>\n"

static void
assert_parse_error(const char *xml, int code, const char *needle)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &error);

    g_assert_null(def);
    g_assert_error(error, VRT_ERROR, code);
    if (needle && !strstr(error->message, needle))
        g_error("message '%s' does not mention '%s'", error->message, needle);
}

static void
test_error_malformed(void)
{
    assert_parse_error("<domain type='kvm'>\n  <name>t</name>\n  <memory>1</memory\n</domain>\n", VIR_ERR_XML_ERROR,
                       "line 4");
    assert_parse_error("", VIR_ERR_XML_ERROR, NULL);
    assert_parse_error("<network><name>x</name></network>", VIR_ERR_XML_ERROR, "expecting <domain>");
}

static void
test_error_unsupported(void)
{
    assert_parse_error(
        DOM_HEAD
        "  <devices>\n    <lease><lockspace>ls</lockspace><key>k</key><target path='/l'/></lease>\n  </devices>\n</domain>",
        VIR_ERR_CONFIG_UNSUPPORTED, "<lease>");
    /* what a video model holds besides <acceleration> and <resolution> was
     * once dropped without a word */
    assert_parse_error(DOM_HEAD "  <devices>\n    <video><model type='virtio'><shape/></model>"
                                "</video>\n  </devices>\n</domain>",
                       VIR_ERR_CONFIG_UNSUPPORTED, "<shape>");
    assert_parse_error(DOM_HEAD "  <iothreadids><iothread id='1' poll='2'/></iothreadids>\n</domain>",
                       VIR_ERR_CONFIG_UNSUPPORTED, "'poll'");
    assert_parse_error(DOM_HEAD "  <devices><disk type='file'><driver name='qemu' discard_no_unref='on'/>"
                                "<source file='/a'/><target dev='vda'/></disk></devices>\n</domain>",
                       VIR_ERR_CONFIG_UNSUPPORTED, "'discard_no_unref'");
    assert_parse_error(DOM_HEAD "  <devices><interface type='direct'><source dev='eth0'/></interface>"
                                "</devices>\n</domain>",
                       VIR_ERR_CONFIG_UNSUPPORTED, "'direct'");
    assert_parse_error(DOM_HEAD "  <metadata><plain/></metadata>\n</domain>", VIR_ERR_XML_ERROR, "<plain>");
    assert_parse_error("<domain type='xen'><name>t</name><memory>1</memory><os><type>hvm</type></os></domain>",
                       VIR_ERR_CONFIG_UNSUPPORTED, "'xen'");
}

static void
test_error_values(void)
{
    assert_parse_error("<domain type='kvm'><name>t</name><memory unit='furlongs'>1</memory>"
                       "<os><type>hvm</type></os></domain>",
                       VIR_ERR_INVALID_ARG, "furlongs");
    assert_parse_error("<domain type='kvm'><name>t</name><uuid>not-a-uuid</uuid><memory>1</memory>"
                       "<os><type>hvm</type></os></domain>",
                       VIR_ERR_INTERNAL_ERROR, "uuid");
    assert_parse_error(DOM_HEAD "  <devices><interface type='user'><mac address='52:54:00:zz:00:01'/>"
                                "</interface></devices>\n</domain>",
                       VIR_ERR_INVALID_MAC, "52:54:00:zz:00:01");
    assert_parse_error(
        DOM_HEAD "  <devices>\n"
                 "<interface type='user'><address type='pci' domain='0' bus='0' slot='5' function='0'/></interface>\n"
                 "<interface type='user'><address type='pci' domain='0' bus='0' slot='5' function='0'/></interface>\n"
                 "</devices>\n</domain>",
        VIR_ERR_XML_ERROR, "0000:00:05.0");
    assert_parse_error("<domain type='kvm'><memory>1</memory><os><type>hvm</type></os></domain>", VIR_ERR_NO_NAME,
                       NULL);
    /* Names, as libvirt checks them; anything else is kept as written. */
    assert_parse_error("<domain type='kvm'><name>a/b</name><memory>1</memory><os><type>hvm</type></os></domain>",
                       VIR_ERR_XML_ERROR, "name a/b cannot contain '/'");
    assert_parse_error("<domain type='kvm'><name>a\nb</name><memory>1</memory><os><type>hvm</type></os></domain>",
                       VIR_ERR_XML_DETAIL, "invalid char in name: \n");
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(VrtDomainDef) def = vrt_domain_def_parse("<domain type='kvm'><name> a\tb </name><memory>1</memory>"
                                                           "<os><type>hvm</type></os></domain>",
                                                           0, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(def->name, ==, " a\tb ");
    }
    assert_parse_error("<domain type='kvm'><name>t</name><memory>1</memory><os><type>xen</type></os></domain>",
                       VIR_ERR_OS_TYPE, "xen");
    assert_parse_error("<domain type='kvm'><name>t</name><os><type>hvm</type></os></domain>", VIR_ERR_XML_ERROR,
                       "Memory");
    assert_parse_error(DOM_HEAD "  <devices><interface type='network'/></devices>\n</domain>", VIR_ERR_XML_ERROR,
                       "network");
    assert_parse_error(DOM_HEAD "  <devices><disk type='file'><source file='/a'/></disk></devices>\n</domain>",
                       VIR_ERR_NO_TARGET, NULL);
    assert_parse_error("<domain type='kvm'><name>t</name><memory>1</memory><os><type>hvm</type><boot dev='hd'/></os>"
                       "<devices><interface type='user'><boot order='1'/></interface></devices></domain>",
                       VIR_ERR_XML_ERROR, "per-device boot");
    assert_parse_error(DOM_HEAD "  <devices><interface type='user'><boot order='2'/></interface>"
                                "<disk type='file'><source file='/a'/><target dev='vda'/><boot order='2'/></disk>"
                                "</devices>\n</domain>",
                       VIR_ERR_XML_ERROR, "boot order '2'");
    assert_parse_error(DOM_HEAD "  <devices><interface type='user'><address type='pci' slot='0x20'/>"
                                "</interface></devices>\n</domain>",
                       VIR_ERR_XML_ERROR, "slot");
}

static void
test_memory_units(void)
{
    static const struct {
        const char *unit, *value;
        guint64 kib;
    } cases[] = {
        { "KiB", "1024", 1024 }, { "k", "3", 3 },         { "MiB", "2", 2048 },   { "M", "1", 1024 },
        { "MB", "1", 977 },      { "GiB", "1", 1048576 }, { "G", "2", 2097152 },  { "GB", "1", 976563 },
        { "b", "1025", 2 },      { "bytes", "1024", 1 },  { "KB", "1024", 1000 }, { "TiB", "1", 1073741824ULL },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>m</name><memory unit='%s'>%s</memory>"
                                               "<os><type>hvm</type></os></domain>",
                                               cases[i].unit, cases[i].value);
        g_autoptr(VrtDomainDef) def = parse_ok(xml, 0);
        g_assert_cmpuint(def->memory_kib, ==, cases[i].kib);
        g_assert_cmpuint(def->current_memory_kib, ==, cases[i].kib);
    }
}

static void
test_uuid_generated(void)
{
    g_autoptr(VrtDomainDef) a = parse_ok("<domain type='qemu'><name>u</name><memory>1</memory>"
                                         "<os><type>hvm</type></os></domain>",
                                         0);
    g_autoptr(VrtDomainDef) b = parse_ok("<domain type='qemu'><name>u</name><memory>1</memory>"
                                         "<os><type>hvm</type></os></domain>",
                                         0);
    static const guint8 zero[16];
    g_assert_true(memcmp(a->uuid, zero, 16) != 0);
    g_assert_true(memcmp(a->uuid, b->uuid, 16) != 0);
}

/* ---- title, description, metadata ---------------------------------- */

/* A namespace declared on <domain> goes with the element that uses it,
 * and on that element alone, as libvirt writes <metadata>. */
static void
test_metadata_namespaces(void)
{
    g_autoptr(VrtDomainDef) def = parse_ok("<domain type='qemu' xmlns:app='http://a/'><name>m</name>"
                                           "<memory>1</memory><os><type>hvm</type></os>"
                                           "<metadata><app:x><app:y/></app:x>"
                                           "<b:z xmlns:b='http://b/'/></metadata></domain>",
                                           0);

    g_assert_cmpstr(def->metadata, ==,
                    "<metadata><app:x xmlns:app=\"http://a/\"><app:y/></app:x>"
                    "<b:z xmlns:b=\"http://b/\"/></metadata>");
}

static void
test_metadata_set_get(void)
{
    g_autoptr(VrtDomainDef) def = parse_ok("<domain type='qemu'><name>m</name><memory>1</memory>"
                                           "<os><type>hvm</type></os></domain>",
                                           0);
    g_autoptr(GError) error = NULL;
    g_autofree char *got = NULL;
    g_autofree char *title = NULL;

    g_assert_true(
        vrt_domain_def_set_metadata(def, VRT_DOMAIN_METADATA_ELEMENT, "<x><y>1</y></x>", "k", "http://k/", &error));
    g_assert_no_error(error);
    g_assert_cmpstr(def->metadata, ==, "<metadata><k:x xmlns:k=\"http://k/\"><k:y>1</k:y></k:x></metadata>");
    got = vrt_domain_def_get_metadata(def, VRT_DOMAIN_METADATA_ELEMENT, "http://k/", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, "<x>\n  <y>1</y>\n</x>");
    /* Replaced, then removed: no empty <metadata/> is left. */
    g_assert_true(vrt_domain_def_set_metadata(def, VRT_DOMAIN_METADATA_ELEMENT, "<w/>", "k", "http://k/", &error));
    g_assert_cmpstr(def->metadata, ==, "<metadata><k:w xmlns:k=\"http://k/\"/></metadata>");
    g_assert_true(vrt_domain_def_set_metadata(def, VRT_DOMAIN_METADATA_ELEMENT, NULL, NULL, "http://k/", &error));
    g_assert_null(def->metadata);
    g_assert_null(vrt_domain_def_get_metadata(def, VRT_DOMAIN_METADATA_ELEMENT, "http://k/", &error));
    g_assert_error(error, VRT_ERROR, VIR_ERR_NO_DOMAIN_METADATA);
    g_clear_error(&error);
    /* Titles are one line; an empty one removes it. */
    g_assert_false(vrt_domain_def_set_metadata(def, VRT_DOMAIN_METADATA_TITLE, "a\nb", NULL, NULL, &error));
    g_assert_error(error, VRT_ERROR, VIR_ERR_INVALID_ARG);
    g_clear_error(&error);
    g_assert_true(vrt_domain_def_set_metadata(def, VRT_DOMAIN_METADATA_TITLE, "T", NULL, NULL, &error));
    title = vrt_domain_def_get_metadata(def, VRT_DOMAIN_METADATA_TITLE, NULL, &error);
    g_assert_cmpstr(title, ==, "T");
    g_assert_true(vrt_domain_def_set_metadata(def, VRT_DOMAIN_METADATA_TITLE, "", NULL, NULL, &error));
    g_assert_null(def->title);
}

/* ---- addresses ----------------------------------------------------- */

static const char *q35_three_nets = "<domain type='kvm'><name>q</name><memory>65536</memory>"
                                    "<os><type machine='q35'>hvm</type></os><devices>"
                                    "<interface type='user'><model type='virtio'/></interface>"
                                    "<interface type='user'><model type='virtio'/></interface>"
                                    "<interface type='user'><model type='virtio'/></interface>"
                                    "<disk type='file'><source file='/a.img'/><target dev='vda'/></disk>"
                                    "<disk type='file' device='cdrom'><target dev='sda' bus='sata'/></disk>"
                                    "<serial type='pty'/><video><model type='vga'/></video>"
                                    "</devices></domain>";

static VrtDomainControllerDef *
find_pci_controller(const VrtDomainDef *def, guint index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == VRT_DOMAIN_CONTROLLER_PCI && c->index == index)
            return c;
    }
    return NULL;
}

static void
test_q35_root_ports(void)
{
    g_autoptr(VrtDomainDef) def = parse_ok(q35_three_nets, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) buses = g_hash_table_new(NULL, NULL);

    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    for (guint i = 0; i < def->nets->len; i++) {
        VrtDomainNetDef *n = def->nets->pdata[i];
        VrtDomainControllerDef *port;
        g_autofree char *alias = g_strdup_printf("net%u", i);
        g_assert_cmpint(n->info.type, ==, VRT_DEVICE_ADDRESS_PCI);
        g_assert_cmpuint(n->info.pci.slot, ==, 0);
        g_assert_cmpuint(n->info.pci.bus, >, 0);
        port = find_pci_controller(def, n->info.pci.bus);
        g_assert_nonnull(port);
        g_assert_cmpstr(port->model, ==, "pcie-root-port");
        g_assert_cmpint(port->info.type, ==, VRT_DEVICE_ADDRESS_PCI);
        g_assert_cmpuint(port->info.pci.bus, ==, 0);
        g_assert_cmpint(port->chassis, ==, (int)port->index);
        g_assert_cmpint(port->port, ==, (int)((port->info.pci.slot << 3) | port->info.pci.function));
        g_assert_false(g_hash_table_contains(buses, GUINT_TO_POINTER(n->info.pci.bus)));
        g_hash_table_add(buses, GUINT_TO_POINTER(n->info.pci.bus));
        g_assert_cmpstr(n->info.alias, ==, alias);
        g_assert_true(n->mac_set);
        g_assert_cmpuint(n->mac[0], ==, 0x52);
        g_assert_cmpuint(n->mac[1], ==, 0x54);
        g_assert_cmpuint(n->mac[2], ==, 0x00);
    }
    /* the first root port opens a multifunction slot */
    g_assert_cmpint(find_pci_controller(def, 1)->info.pci.multifunction, ==, VRT_TRISTATE_YES);
    g_assert_cmpstr(find_pci_controller(def, 1)->info.alias, ==, "pci.1");
    g_assert_cmpstr(find_pci_controller(def, 0)->model, ==, "pcie-root");
    g_assert_cmpstr(((VrtDomainDiskDef *)def->disks->pdata[0])->info.alias, ==, "virtio-disk0");
    g_assert_cmpstr(((VrtDomainDiskDef *)def->disks->pdata[1])->info.alias, ==, "sata0-0-0");
    g_assert_cmpint(((VrtDomainDiskDef *)def->disks->pdata[1])->info.type, ==, VRT_DEVICE_ADDRESS_DRIVE);
    g_assert_cmpstr(((VrtDomainChrDef *)def->serials->pdata[0])->info.alias, ==, "serial0");
    g_assert_cmpstr(((VrtDomainVideoDef *)def->videos->pdata[0])->info.alias, ==, "video0");
    g_assert_cmpuint(((VrtDomainVideoDef *)def->videos->pdata[0])->info.pci.slot, ==, 1);
    g_assert_nonnull(def->memballoon);
    g_assert_cmpstr(def->memballoon->info.alias, ==, "balloon0");
    g_assert_cmpint(def->memballoon->info.type, ==, VRT_DEVICE_ADDRESS_PCI);
}

/* conventional PCI devices on q35 sit behind root ports too, so they can
 * be unplugged */
static void
test_q35_legacy_behind_port(void)
{
    g_autoptr(VrtDomainDef) def =
        parse_ok("<domain type='kvm'><name>q</name><memory>65536</memory><os><type machine='q35'>hvm</type></os>"
                 "<devices><interface type='user'><model type='e1000'/></interface>"
                 "<watchdog model='i6300esb'/></devices></domain>",
                 0);
    g_autoptr(GError) error = NULL;
    VrtDomainNetDef *n;

    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    n = def->nets->pdata[0];
    g_assert_cmpuint(n->info.pci.bus, >, 0);
    g_assert_cmpstr(find_pci_controller(def, n->info.pci.bus)->model, ==, "pcie-root-port");
    g_assert_cmpuint(def->watchdog->info.pci.bus, >, 0);
    /* no video: root ports start in slot 1, as libvirt lays them out */
    g_assert_cmpuint(find_pci_controller(def, 1)->info.pci.slot, ==, 1);
}

static void
test_addresses_stable(void)
{
    g_autoptr(VrtDomainDef) def = parse_ok(q35_three_nets, 0);
    g_autoptr(VrtDomainDef) again = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *first = NULL, *second = NULL;
    g_autoptr(VrtDomainNetDef) extra = vrt_domain_net_def_new();
    VrtPciAddr before[3];

    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    first = format_ok(def, VRT_DOMAIN_XML_INACTIVE);
    again = parse_ok(first, 0);
    g_assert_true(vrt_domain_def_assign_addresses(again, &error));
    second = format_ok(again, VRT_DOMAIN_XML_INACTIVE);
    g_assert_cmpstr(first, ==, second);

    /* a new device takes a new place; the others stay */
    for (guint i = 0; i < 3; i++)
        before[i] = ((VrtDomainNetDef *)again->nets->pdata[i])->info.pci;
    extra->type = VRT_DOMAIN_NET_TYPE_USER;
    extra->model = g_strdup("virtio");
    vrt_domain_def_net_insert(again, extra);
    VrtDomainNetDef *added = g_steal_pointer(&extra);
    g_assert_true(vrt_domain_def_assign_addresses(again, &error));
    for (guint i = 0; i < 3; i++)
        g_assert_true(vrt_pci_addr_equal(&before[i], &((VrtDomainNetDef *)again->nets->pdata[i])->info.pci));
    for (guint i = 0; i < 3; i++)
        g_assert_cmpuint(added->info.pci.bus, !=, before[i].bus);
    g_assert_nonnull(find_pci_controller(again, added->info.pci.bus));
}

static void
test_pc_slots(void)
{
    g_autoptr(VrtDomainDef) def =
        parse_ok("<domain type='qemu'><name>p</name><memory>65536</memory><os><type machine='pc'>hvm</type></os>"
                 "<devices><interface type='user'><model type='virtio'/></interface>"
                 "<interface type='user'><model type='e1000'/></interface>"
                 "<video><model type='vga'/></video><watchdog model='i6300esb'/>"
                 "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
                 "<input type='tablet' bus='usb'/></devices></domain>",
                 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) slots = g_hash_table_new(NULL, NULL);

    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    g_assert_cmpuint(((VrtDomainVideoDef *)def->videos->pdata[0])->info.pci.slot, ==, 2);
    for (guint i = 0; i < def->nets->len; i++) {
        VrtDomainNetDef *n = def->nets->pdata[i];
        g_assert_cmpuint(n->info.pci.bus, ==, 0);
        g_assert_cmpuint(n->info.pci.slot, >=, 3);
        g_assert_false(g_hash_table_contains(slots, GUINT_TO_POINTER(n->info.pci.slot)));
        g_hash_table_add(slots, GUINT_TO_POINTER(n->info.pci.slot));
    }
    g_assert_cmpstr(def->watchdog->info.alias, ==, "watchdog0");
    g_assert_cmpstr(((VrtDomainRngDef *)def->rngs->pdata[0])->info.alias, ==, "rng0");
    g_assert_cmpstr(((VrtDomainInputDef *)def->inputs->pdata[0])->info.alias, ==, "input0");
    g_assert_cmpint(((VrtDomainInputDef *)def->inputs->pdata[0])->info.type, ==, VRT_DEVICE_ADDRESS_USB);
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == VRT_DOMAIN_CONTROLLER_USB) {
            g_assert_cmpstr(c->info.alias, ==, "usb");
            g_assert_cmpuint(c->info.pci.slot, ==, 1);
            g_assert_cmpuint(c->info.pci.function, ==, 2);
        }
        if (c->type == VRT_DOMAIN_CONTROLLER_PCI)
            g_assert_cmpstr(c->info.alias, ==, "pci.0");
    }
}

static void
test_usb_disabled(void)
{
    g_autoptr(VrtDomainDef) def =
        parse_ok("<domain type='qemu'><name>u</name><memory>65536</memory><os><type machine='pc'>hvm</type></os>"
                 "<devices><controller type='usb' model='none'/><input type='tablet' bus='usb'/></devices></domain>",
                 0);
    g_autoptr(GError) error = NULL;

    g_assert_false(vrt_domain_def_assign_addresses(def, &error));
    g_assert_error(error, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "USB is disabled"));
}

/* 'sdaport' is a valid name whose drive index (748819) would sit on SATA
 * controller 124803: refused at address assignment, never written out as
 * a definition that does not parse again (a fuzzer finding). */
static void
test_drive_past_last_controller(void)
{
    g_autoptr(VrtDomainDef) def =
        parse_ok("<domain type='qemu'><name>d</name><memory>65536</memory><os><type machine='q35'>hvm</type></os>"
                 "<devices><disk type='file' device='disk'><source file='/b.img'/>"
                 "<target dev='sdaport' bus='sata'/></disk></devices></domain>",
                 0);
    g_autoptr(VrtDomainDef) fine =
        parse_ok("<domain type='qemu'><name>d</name><memory>65536</memory><os><type machine='q35'>hvm</type></os>"
                 "<devices><disk type='file' device='disk'><source file='/b.img'/>"
                 "<target dev='sdag' bus='sata'/></disk></devices></domain>",
                 0);
    g_autoptr(GError) error = NULL;

    g_assert_false(vrt_domain_def_assign_addresses(def, &error));
    g_assert_error(error, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "controller index 124803"));
    g_clear_error(&error);
    /* sdag is drive 32: SATA controller 5, unit 2 */
    g_assert_true(vrt_domain_def_assign_addresses(fine, &error));
    g_assert_cmpuint(((VrtDomainDiskDef *)fine->disks->pdata[0])->info.drive.controller, ==, 5);
}

/* A PCI controller with neither index nor model is the root: index 0, not
 * the next free index, which a reparse refuses (a fuzzer finding). */
static void
test_pci_root_without_index(void)
{
    g_autoptr(VrtDomainDef) def =
        parse_ok("<domain type='qemu'><name>r</name><memory>65536</memory><os><type machine='q35'>hvm</type></os>"
                 "<devices><controller type='pci'/>"
                 "<controller type='pci' index='3' model='pcie-root-port'/></devices></domain>",
                 0);
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vrt_domain_def_format(def, VRT_DOMAIN_XML_INACTIVE, &error);
    g_autoptr(VrtDomainDef) again = NULL;

    g_assert_cmpstr(find_pci_controller(def, 0)->model, ==, "pcie-root");
    g_assert_nonnull(strstr(xml, "<controller type='pci' index='0' model='pcie-root'/>"));
    again = vrt_domain_def_parse(xml, 0, &error);
    g_assert_no_error(error);
    g_assert_nonnull(again);
}

/* virt-install's default USB2 set for pc: the companions take their EHCI's
 * index and share its slot (UHCI1..3 at functions 0..2, EHCI at 7), and
 * <master> survives a format and parse. */
static void
test_usb2_companions(void)
{
    g_autoptr(VrtDomainDef) def =
        parse_ok("<domain type='qemu'><name>u</name><memory>65536</memory><os><type machine='pc'>hvm</type></os>"
                 "<devices><controller type='usb' model='ich9-ehci1'/>"
                 "<controller type='usb' model='ich9-uhci1'><master startport='0'/></controller>"
                 "<controller type='usb' model='ich9-uhci2'><master startport='2'/></controller>"
                 "<controller type='usb' model='ich9-uhci3'><master startport='4'/></controller>"
                 "<controller type='usb' model='qemu-xhci'/></devices></domain>",
                 0);
    g_autoptr(VrtDomainDef) again = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    guint slot;

    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    g_assert_no_error(error);
    g_assert_true(vrt_domain_def_validate_addresses(def, &error));
    slot = ((VrtDomainControllerDef *)def->controllers->pdata[0])->info.pci.slot;
    for (guint i = 0; i < 4; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        g_assert_cmpuint(c->index, ==, 0);
        g_assert_cmpint(c->info.type, ==, VRT_DEVICE_ADDRESS_PCI);
        g_assert_cmpuint(c->info.pci.slot, ==, slot);
        g_assert_cmpuint(c->info.pci.function, ==, i == 0 ? 7 : i - 1);
        g_assert_cmpint(c->master_startport, ==, i == 0 ? -1 : (int)(i - 1) * 2);
    }
    g_assert_cmpint(((VrtDomainControllerDef *)def->controllers->pdata[1])->info.pci.multifunction, ==,
                    VRT_TRISTATE_YES);
    /* a USB controller of another kind starts a bus of its own */
    g_assert_cmpuint(((VrtDomainControllerDef *)def->controllers->pdata[4])->index, ==, 1);
    xml = vrt_domain_def_format(def, 0, &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(xml, "<master startport='4'/>"));
    again = parse_ok(xml, 0);
    g_assert_cmpint(((VrtDomainControllerDef *)again->controllers->pdata[2])->master_startport, ==, 2);

    /* two of one model on one index stay an error */
    g_assert_null(vrt_domain_def_parse(
        "<domain type='qemu'><name>u</name><memory>65536</memory><os><type machine='pc'>hvm</type></os>"
        "<devices><controller type='usb' index='0' model='ich9-ehci1'/>"
        "<controller type='usb' index='0' model='ich9-ehci1'/></devices></domain>",
        0, &error));
    g_assert_error(error, VRT_ERROR, VIR_ERR_XML_ERROR);
}

static void
test_hotplug_address(void)
{
    g_autoptr(VrtDomainDef) pc =
        parse_ok("<domain type='qemu'><name>p</name><memory>65536</memory><os><type machine='pc'>hvm</type></os>"
                 "<devices><interface type='user'><model type='virtio'/></interface></devices></domain>",
                 0);
    g_autoptr(VrtDomainDef) q35 = parse_ok(q35_three_nets, 0);
    g_autoptr(VrtDomainDeviceDef) dev = NULL;
    g_autoptr(GError) error = NULL;
    VrtDomainNetDef *existing;

    g_assert_true(vrt_domain_def_assign_addresses(pc, &error));
    existing = pc->nets->pdata[0];
    dev = vrt_domain_device_def_parse("<interface type='user'><model type='virtio'/></interface>", pc, 0, &error);
    g_assert_no_error(error);
    g_assert_true(vrt_domain_def_assign_device_address(pc, dev, &error));
    g_assert_cmpstr(dev->data.net->info.alias, ==, "net1");
    g_assert_cmpint(dev->data.net->info.type, ==, VRT_DEVICE_ADDRESS_PCI);
    g_assert_false(vrt_pci_addr_equal(&dev->data.net->info.pci, &existing->info.pci));
    g_assert_true(dev->data.net->mac_set);
    g_clear_pointer(&dev, vrt_domain_device_def_free);

    /* q35: the spare root port left at define time takes the first one */
    g_assert_true(vrt_domain_def_assign_addresses(q35, &error));
    guint ncontrollers = q35->controllers->len;
    dev = vrt_domain_device_def_parse("<interface type='user'><model type='virtio'/></interface>", q35, 0, &error);
    g_assert_true(vrt_domain_def_assign_device_address(q35, dev, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(find_pci_controller(q35, dev->data.net->info.pci.bus)->model, ==, "pcie-root-port");
    vrt_domain_def_net_insert(q35, g_steal_pointer(&dev->data.net));
    g_clear_pointer(&dev, vrt_domain_device_def_free);

    /* without a spare root port: refused, nothing added */
    dev = vrt_domain_device_def_parse("<interface type='user'><model type='virtio'/></interface>", q35, 0, &error);
    g_assert_false(vrt_domain_def_assign_device_address(q35, dev, &error));
    g_assert_error(error, VRT_ERROR, VIR_ERR_OPERATION_FAILED);
    g_assert_cmpuint(q35->controllers->len, ==, ncontrollers);
    g_clear_error(&error);
    g_clear_pointer(&dev, vrt_domain_device_def_free);

    /* with one: the device goes behind it */
    VrtDomainControllerDef *spare = g_new0(VrtDomainControllerDef, 1);
    spare->type = VRT_DOMAIN_CONTROLLER_PCI;
    spare->model = g_strdup("pcie-root-port");
    spare->index = 30;
    spare->chassis = spare->port = spare->ports = spare->master_startport = -1;
    g_ptr_array_add(q35->controllers, spare);
    g_assert_true(vrt_domain_def_assign_addresses(q35, &error));
    dev = vrt_domain_device_def_parse("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                                      "<address domain='0' bus='6' slot='0x10' function='1'/></source></hostdev>",
                                      q35, 0, &error);
    g_assert_no_error(error);
    g_assert_true(vrt_domain_def_assign_device_address(q35, dev, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(dev->data.hostdev->info->pci.bus, ==, 30);
    g_assert_cmpstr(dev->data.hostdev->info->alias, ==, "hostdev0");
}

/* ---- nets and hostdevs --------------------------------------------- */

/* A plain <hostdev> as the transient half of a teaming pair, as libvirt
 * reads, checks and writes it: <teaming> after <source>, before the
 * device's alias and address; the device parse (attach) reads it too. */
static void
test_hostdev_teaming(void)
{
    static const char *const devices = "<interface type='user'><mac address='52:54:00:7a:10:01'/><model type='virtio'/>"
                                       "<teaming type='persistent'/><alias name='ua-backup0'/></interface>"
                                       "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                                       "<address domain='0x0000' bus='0x06' slot='0x10' function='0x1'/></source>"
                                       "<teaming type='transient' persistent='ua-backup0'/></hostdev>";
    g_autofree char *xml = g_strconcat(DOM_HEAD "  <devices>", devices, "</devices>\n</domain>", NULL);
    g_autoptr(VrtDomainDef) def = parse_ok(xml, 0);
    g_autofree char *out = NULL;
    g_autoptr(VrtDomainDeviceDef) dev = NULL;
    g_autoptr(GError) error = NULL;
    const VrtDomainHostdevDef *h;

    g_assert_cmpuint(def->hostdevs->len, ==, 1);
    h = def->hostdevs->pdata[0];
    g_assert_cmpint(h->teaming, ==, VRT_DOMAIN_NET_TEAMING_TRANSIENT);
    g_assert_cmpstr(h->teaming_persistent, ==, "ua-backup0");
    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    g_assert_no_error(error);
    out = format_ok(def, VRT_DOMAIN_XML_INACTIVE);
    g_assert_nonnull(strstr(out, "        <address domain='0x0000' bus='0x06' slot='0x10' function='0x1'/>\n"
                                 "      </source>\n"
                                 "      <teaming type='transient' persistent='ua-backup0'/>\n"
                                 "      <address type='pci'"));
    vrt_test_assert_validates(out, "domain", "hostdev teaming");
    assert_stable(out, 0, VRT_DOMAIN_XML_INACTIVE);

    dev = vrt_domain_device_def_parse("<hostdev mode='subsystem' type='pci' managed='no'><source>"
                                      "<address domain='0' bus='6' slot='0x10' function='2'/></source>"
                                      "<teaming type='transient' persistent='ua-x'/></hostdev>",
                                      def, 0, &error);
    g_assert_no_error(error);
    g_assert_cmpint(dev->data.hostdev->teaming, ==, VRT_DOMAIN_NET_TEAMING_TRANSIENT);
    g_assert_cmpstr(dev->data.hostdev->teaming_persistent, ==, "ua-x");
}

/* libvirt's refusals of a hostdev's <teaming> */
static void
test_hostdev_teaming_errors(void)
{
    static const struct {
        const char *hostdev;
        const char *error;
    } cases[] = {
        { "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='6' slot='0x10' function='1'/>"
          "</source><teaming type='transient'/></hostdev>",
          "missing required persistent attribute in hostdev teaming element" },
        { "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='6' slot='0x10' function='1'/>"
          "</source><teaming type='persistent'/></hostdev>",
          "teaming hostdev devices must have type='transient'" },
        { "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='6' slot='0x10' function='1'/>"
          "</source><teaming type='standby' persistent='ua-x'/></hostdev>",
          "unknown teaming type 'standby'" },
        { "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='6' slot='0x10' function='1'/>"
          "</source><teaming persistent='ua-x'/></hostdev>",
          "unknown teaming type '(null)'" },
        { "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/><product id='0xbeef'/></source>"
          "<teaming type='transient' persistent='ua-x'/></hostdev>",
          "teaming is only supported for pci hostdev devices" },
        { "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
          "<address uuid='53764d0e-85a0-42b4-af5c-2046b460b1dc'/></source>"
          "<teaming type='transient' persistent='ua-x'/></hostdev>",
          "teaming is only supported for pci hostdev devices" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strconcat(DOM_HEAD "  <devices>", cases[i].hostdev, "</devices>\n</domain>", NULL);

        assert_parse_error(xml, VIR_ERR_CONFIG_UNSUPPORTED, cases[i].error);
    }
    /* <teaming/> naming neither is no pair, as libvirt reads it */
    {
        g_autoptr(VrtDomainDef) def =
            parse_ok(DOM_HEAD "  <devices><hostdev mode='subsystem' type='pci'><source>"
                              "<address domain='0' bus='6' slot='0x10' function='1'/></source><teaming/></hostdev>"
                              "</devices>\n</domain>",
                     0);
        g_autofree char *out = format_ok(def, VRT_DOMAIN_XML_INACTIVE);

        g_assert_null(strstr(out, "<teaming"));
    }
}

static void
test_hostdev_interface(void)
{
    g_autofree char *xml = NULL;
    g_autofree char *path = NULL;
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *live = NULL, *status = NULL;
    VrtPciAddr vf = { .domain = 0, .bus = 6, .slot = 0x10, .function = 2 };
    VrtDomainNetDef *net;

    path = g_build_filename(VRT_SOURCE_DIR, "tests", "data", "domain", "q35-hostdev.xml", NULL);
    g_assert_true(g_file_get_contents(path, &xml, NULL, &error));
    def = parse_ok(xml, 0);
    g_assert_cmpuint(def->nets->len, ==, 2);
    g_assert_cmpuint(def->hostdevs->len, ==, 3);
    net = vrt_domain_def_find_net_by_hostdev_source(def, &vf);
    g_assert_nonnull(net);
    g_assert_nonnull(net->hostdev);
    g_assert_true(net->hostdev->parent_net == net);
    g_assert_true(net->hostdev->info == &net->info);
    g_assert_true(vrt_domain_def_find_hostdev_by_source(def, &vf) == net->hostdev);
    g_assert_true(vrt_domain_def_find_net_by_mac(def, net->mac) == net);

    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    g_assert_cmpstr(net->info.alias, ==, "hostdev0");
    g_assert_true(vrt_domain_def_find_hostdev_by_alias(def, "hostdev0") == net->hostdev);
    g_assert_true(vrt_domain_def_find_net_by_alias(def, "ua-vf-net") != NULL);

    /* the network interface gets a VF from its pool */
    VrtDomainNetDef *pooled = vrt_domain_def_find_net_by_alias(def, "ua-vf-net");
    pooled->actual.set = true;
    pooled->actual.type = VRT_DOMAIN_NET_TYPE_HOSTDEV;
    pooled->actual.managed = true;
    pooled->actual.hostdev_addr = (VrtPciAddr){ .bus = 6, .slot = 0x10, .function = 3 };
    pooled->actual.vlan_tags[0] = 7;
    pooled->actual.n_vlan_tags = 1;
    vrt_uuid_generate(pooled->port_uuid);
    pooled->port_uuid_set = true;
    g_assert_true(vrt_domain_def_net_link_hostdev(def, pooled, &error));
    g_assert_true(vrt_domain_def_net_link_hostdev(def, pooled, &error)); /* twice: no-op */
    g_assert_cmpuint(def->hostdevs->len, ==, 4);
    g_assert_true(pooled->hostdev->info == &pooled->info);
    def->id = 3;

    live = format_ok(def, 0);
    vrt_test_assert_validates(live, "domain", "live hostdev domain");
    /* each VF shows once, as an interface; only the standalone ones as <hostdev> */
    g_assert_null(strstr(live, "bus='0x06' slot='0x10' function='0x2'/>\n        </source>\n      </hostdev>"));
    g_assert_nonnull(
        strstr(live, "<interface type='hostdev' managed='yes'>\n      <mac address='52:54:00:6d:90:03'/>"));
    g_assert_null(strstr(live, "sriov-pool"));
    g_assert_nonnull(strstr(live, "<tag id='7'/>"));
    {
        guint n = 0;
        for (const char *p = live; (p = strstr(p, "<hostdev ")); p++)
            n++;
        g_assert_cmpuint(n, ==, 2);
    }

    status = format_ok(def, VRT_DOMAIN_XML_STATUS);
    g_assert_nonnull(strstr(status, "<actual type='hostdev' managed='yes'>"));
    g_assert_nonnull(strstr(status, "network='sriov-pool' portid="));
    {
        g_autoptr(VrtDomainDef) back = parse_ok(status, VRT_DOMAIN_XML_STATUS);
        VrtPciAddr vf3 = { .bus = 6, .slot = 0x10, .function = 3 };
        VrtDomainNetDef *n3 = vrt_domain_def_find_net_by_hostdev_source(back, &vf3);
        g_assert_cmpint(back->id, ==, 3);
        g_assert_nonnull(n3);
        g_assert_true(n3->hostdev->parent_net == n3);
        g_assert_true(vrt_domain_def_find_hostdev_by_source(back, &vf3) == n3->hostdev);
        g_assert_cmpuint(back->hostdevs->len, ==, 4);
        g_assert_cmpstr(n3->info.alias, ==, "ua-vf-net");
    }

    /* removal keeps both lists consistent */
    VrtDomainNetDef *removed = vrt_domain_def_net_remove(def, net);
    g_assert_true(removed == net);
    g_assert_cmpuint(def->nets->len, ==, 1);
    g_assert_cmpuint(def->hostdevs->len, ==, 3);
    g_assert_null(vrt_domain_def_find_hostdev_by_source(def, &vf));
    g_assert_null(vrt_domain_def_hostdev_remove(def, pooled->hostdev)); /* linked: go through the net */
    vrt_domain_def_net_insert(def, removed);
    g_assert_cmpuint(def->hostdevs->len, ==, 4);
    g_assert_true(vrt_domain_def_find_hostdev_by_source(def, &vf) == removed->hostdev);
    vrt_domain_def_net_unlink_hostdev(def, pooled);
    g_assert_null(pooled->hostdev);
    g_assert_cmpuint(def->hostdevs->len, ==, 3);
}

/* libvirt's teaming pair: the virtio interface and its VF share a MAC
 * (QEMU's failover pairs them by it). Defined as libvirt does; a lookup
 * by MAC alone names both, as libvirt's virDomainNetFindIdx says, and the
 * hostdev paths find the VF, never the virtio half. */
static void
test_net_shared_mac(void)
{
    static const char *const xml =
        DOM_HEAD "  <devices>\n"
                 "    <interface type='user'><mac address='00:11:22:33:44:55'/><model type='virtio'/>"
                 "<teaming type='persistent'/><alias name='ua-backup0'/></interface>\n"
                 "    <interface type='hostdev' managed='yes'><mac address='00:11:22:33:44:55'/><source>"
                 "<address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x1'/></source>"
                 "<teaming type='transient' persistent='ua-backup0'/><alias name='ua-vf0'/>"
                 "<address type='pci' domain='0x0000' bus='0x00' slot='0x09' function='0x0'/></interface>\n"
                 "  </devices>\n</domain>";
    static const guint8 mac[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
    g_autoptr(VrtDomainDef) def = parse_ok(xml, 0);
    g_autoptr(GError) error = NULL;
    VrtDomainNetDef *virtio, *vf;
    VrtDomainNetDef match = { 0 };

    g_assert_true(vrt_domain_def_validate_addresses(def, &error));
    g_assert_no_error(error);
    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    g_assert_no_error(error);
    virtio = vrt_domain_def_find_net_by_alias(def, "ua-backup0");
    vf = vrt_domain_def_find_net_by_alias(def, "ua-vf0");
    g_assert_nonnull(virtio);
    g_assert_nonnull(vf);
    g_assert_cmpmem(virtio->mac, 6, vf->mac, 6);
    {
        g_autofree char *out = format_ok(def, VRT_DOMAIN_XML_INACTIVE);
        const char *first = strstr(out, "<mac address='00:11:22:33:44:55'/>");

        g_assert_nonnull(first);
        g_assert_nonnull(strstr(first + 1, "<mac address='00:11:22:33:44:55'/>"));
    }

    /* MAC alone: both match */
    memcpy(match.mac, mac, 6);
    match.mac_set = true;
    g_assert_null(vrt_domain_def_find_net_match(def, &match, &error));
    g_assert_error(error, VRT_ERROR, VIR_ERR_OPERATION_FAILED);
    g_assert_nonnull(strstr(error->message, "multiple devices matching MAC address 00:11:22:33:44:55 found"));
    g_clear_error(&error);
    /* with the alias or the guest PCI address: the one named */
    match.info.alias = (char *)"ua-vf0";
    g_assert_true(vrt_domain_def_find_net_match(def, &match, &error) == vf);
    match.info.alias = (char *)"ua-backup0";
    g_assert_true(vrt_domain_def_find_net_match(def, &match, &error) == virtio);
    match.info.alias = NULL;
    match.info.type = VRT_DEVICE_ADDRESS_PCI;
    match.info.pci = vf->info.pci;
    g_assert_true(vrt_domain_def_find_net_match(def, &match, &error) == vf);
    match.info.pci = virtio->info.pci;
    g_assert_true(vrt_domain_def_find_net_match(def, &match, &error) == virtio);
    g_assert_no_error(error);
    /* an alias and an address that name different interfaces: none */
    match.info.alias = (char *)"ua-vf0";
    g_assert_null(vrt_domain_def_find_net_match(def, &match, &error));
    g_assert_error(error, VRT_ERROR, VIR_ERR_DEVICE_MISSING);
    g_clear_error(&error);
    /* another MAC: none, in libvirt's words */
    match = (VrtDomainNetDef){ .mac = { 0x52, 0x54, 0, 1, 2, 3 }, .mac_set = true };
    g_assert_null(vrt_domain_def_find_net_match(def, &match, &error));
    g_assert_error(error, VRT_ERROR, VIR_ERR_DEVICE_MISSING);
    g_assert_nonnull(strstr(error->message, "no device found at address '(<null>)' matching MAC address "
                                            "'52:54:00:01:02:03' and alias '(<null>)'"));
    g_clear_error(&error);
    /* nothing given: every interface matches */
    match = (VrtDomainNetDef){ 0 };
    g_assert_null(vrt_domain_def_find_net_match(def, &match, &error));
    g_assert_error(error, VRT_ERROR, VIR_ERR_OPERATION_FAILED);
    g_assert_nonnull(strstr(error->message, "multiple matching devices found"));
    g_clear_error(&error);

    /* the VF's paths: the hostdev-backed one */
    g_assert_true(vrt_domain_def_find_hostdev_net_by_mac(def, mac, NULL, NULL) == vf);
    g_assert_true(vrt_domain_def_find_hostdev_net_by_mac(def, mac, NULL, "ua-vf0") == vf);
    g_assert_null(vrt_domain_def_find_hostdev_net_by_mac(def, mac, NULL, "ua-backup0"));
    /* the VF gone, the virtio half is not taken for it */
    vrt_domain_net_def_free(vrt_domain_def_net_remove(def, vf));
    g_assert_null(vrt_domain_def_find_hostdev_net_by_mac(def, mac, NULL, NULL));
    match = (VrtDomainNetDef){ .mac = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 }, .mac_set = true };
    g_assert_true(vrt_domain_def_find_net_match(def, &match, &error) == virtio);
    g_assert_no_error(error);
}

/* libvirt's net-virtio-teaming-network: both halves of type network, the
 * VF's from a hostdev pool; without runtime state the pool's network says
 * which one is the VF, with it the actual type. */
static void
test_net_shared_mac_network(void)
{
    static const char *const xml =
        DOM_HEAD "  <devices>\n"
                 "    <interface type='network'><mac address='00:11:22:33:44:55'/><source network='mybridge'/>"
                 "<model type='virtio'/><teaming type='persistent'/><alias name='ua-backup0'/></interface>\n"
                 "    <interface type='network'><mac address='00:11:22:33:44:55'/>"
                 "<source network='myhostdevpool'/><model type='virtio'/>"
                 "<teaming type='transient' persistent='ua-backup0'/></interface>\n"
                 "  </devices>\n</domain>";
    static const guint8 mac[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
    g_autoptr(VrtDomainDef) def = parse_ok(xml, 0);
    g_autoptr(GError) error = NULL;
    VrtDomainNetDef *pool;

    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    g_assert_no_error(error);
    pool = g_ptr_array_index(def->nets, 1);
    g_assert_true(vrt_domain_def_find_hostdev_net_by_mac(def, mac, "myhostdevpool", NULL) == pool);
    /* the persistent half is never the VF's, whatever network is asked */
    g_assert_null(vrt_domain_def_find_hostdev_net_by_mac(def, mac, "mybridge", NULL));
    g_assert_null(vrt_domain_def_find_hostdev_net_by_mac(def, mac, NULL, NULL));
    pool->actual.set = true;
    pool->actual.type = VRT_DOMAIN_NET_TYPE_HOSTDEV;
    g_assert_true(vrt_domain_def_find_hostdev_net_by_mac(def, mac, NULL, NULL) == pool);
}

/* A network that hands out a host bridge: the live view says type
 * 'bridge' and where it came from, and still validates and parses back. */
static void
test_network_actual_bridge(void)
{
    g_autoptr(VrtDomainDef) def =
        parse_ok("<domain type='kvm'><name>b</name><memory>65536</memory><os><type machine='pc'>hvm</type></os>"
                 "<devices><interface type='network'><source network='host-bridge'/><model type='virtio'/>"
                 "</interface></devices></domain>",
                 0);
    g_autoptr(GError) error = NULL;
    g_autofree char *live = NULL, *status = NULL;
    VrtDomainNetDef *net = def->nets->pdata[0];

    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    net->actual.set = true;
    net->actual.type = VRT_DOMAIN_NET_TYPE_BRIDGE;
    net->actual.bridge = g_strdup("br0");
    vrt_uuid_generate(net->port_uuid);
    net->port_uuid_set = true;
    net->ifname = g_strdup("vnet4");
    def->id = 9;
    live = format_ok(def, 0);
    vrt_test_assert_validates(live, "domain", "live XML of a bridge from a network");
    g_assert_nonnull(strstr(live, "<interface type='bridge'>"));
    g_assert_nonnull(strstr(live, "network='host-bridge' portid='"));
    g_assert_nonnull(strstr(live, "bridge='br0'/>"));
    g_assert_nonnull(strstr(live, "<target dev='vnet4'/>"));
    {
        /* what virsh detach-device sends back: the live element */
        g_autoptr(VrtDomainDef) cfg = parse_ok(live, 0);
        g_autofree char *inactive = format_ok(cfg, VRT_DOMAIN_XML_INACTIVE);
        g_assert_null(strstr(inactive, "vnet4"));
    }
    status = format_ok(def, VRT_DOMAIN_XML_STATUS);
    g_assert_nonnull(strstr(status, "<interface type='network'>"));
    g_assert_nonnull(strstr(status, "<actual type='bridge'>"));
    assert_stable(status, VRT_DOMAIN_XML_STATUS, VRT_DOMAIN_XML_STATUS);
}

/* An interface's <bandwidth>: written as libvirt writes it, validated by
 * libvirt's schema, the portgroup's in effect shown live and kept in the
 * status file's <actual>. */
static void
test_network_bandwidth(void)
{
    g_autoptr(VrtDomainDef) def =
        parse_ok("<domain type='kvm'><name>b</name><memory>65536</memory><os><type machine='pc'>hvm</type></os>"
                 "<devices><interface type='network'><source network='default' portgroup='slow'/>"
                 "<bandwidth><inbound burst='3' average='1' floor='4' peak='2'/><outbound average='5'/></bandwidth>"
                 "<model type='virtio'/></interface></devices></domain>",
                 0);
    g_autoptr(GError) error = NULL;
    VrtDomainNetDef *net = def->nets->pdata[0];
    g_autofree char *inactive = format_ok(def, VRT_DOMAIN_XML_INACTIVE);

    vrt_test_assert_validates(inactive, "domain", "an interface's bandwidth");
    g_assert_nonnull(strstr(inactive, "      <bandwidth>\n"
                                      "        <inbound average='1' peak='2' floor='4' burst='3'/>\n"
                                      "        <outbound average='5'/>\n"
                                      "      </bandwidth>\n"));
    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    net->actual.set = true;
    net->actual.type = VRT_DOMAIN_NET_TYPE_NETWORK;
    net->actual.bridge = g_strdup("virbr0");
    memset(&net->bandwidth, 0, sizeof(net->bandwidth));
    net->actual.bandwidth.in.present = true;
    net->actual.bandwidth.in.average = 300;
    g_autofree char *live = format_ok(def, 0);
    g_assert_nonnull(strstr(live, "<inbound average='300'/>"));
    g_autofree char *status = format_ok(def, VRT_DOMAIN_XML_STATUS);
    assert_stable(status, VRT_DOMAIN_XML_STATUS, VRT_DOMAIN_XML_STATUS);
    g_autoptr(VrtDomainDef) back = parse_ok(status, VRT_DOMAIN_XML_STATUS);
    VrtDomainNetDef *bnet = back->nets->pdata[0];
    g_assert_false(bnet->bandwidth.in.present);
    g_assert_cmpuint(bnet->actual.bandwidth.in.average, ==, 300);
}

/* A rate of 0 without floor limits nothing and is not kept, so what vrtd
 * writes parses back the same (the network's <bandwidth> twin of this
 * was found by the network XML fuzzer). */
static void
test_zero_rate_bandwidth(void)
{
    g_autoptr(VrtDomainDef) def =
        parse_ok("<domain type='kvm'><name>z</name><memory>65536</memory><os><type machine='pc'>hvm</type></os>"
                 "<devices><interface type='network'><source network='default'/>"
                 "<bandwidth><outbound average='0'/></bandwidth><model type='virtio'/></interface></devices>"
                 "</domain>",
                 0);
    g_autofree char *inactive = format_ok(def, VRT_DOMAIN_XML_INACTIVE);

    g_assert_null(strstr(inactive, "bandwidth"));
    assert_stable(inactive, 0, VRT_DOMAIN_XML_INACTIVE);
}

static void
test_device_parse(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDeviceDef) net = vrt_domain_device_def_parse(
        "<interface type='hostdev' managed='yes'><mac address='52:54:00:01:02:03'/>"
        "<source><address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x1'/></source>"
        "<vlan><tag id='42'/></vlan></interface>",
        NULL, 0, &error);
    g_autoptr(VrtDomainDeviceDef) disk = NULL;
    g_autoptr(VrtDomainDeviceDef) bad = NULL;
    g_autofree char *xml = NULL;

    g_assert_no_error(error);
    g_assert_cmpint(net->type, ==, VRT_DOMAIN_DEVICE_NET);
    g_assert_nonnull(net->data.net->hostdev);
    g_assert_true(net->data.net->managed);
    g_assert_cmpuint(net->data.net->vlan_tags[0], ==, 42);
    xml = vrt_domain_device_def_format(net, 0, &error);
    g_assert_nonnull(strstr(xml, "<interface type='hostdev' managed='yes'>"));
    g_assert_nonnull(strstr(xml, "function='0x1'/>"));

    disk = vrt_domain_device_def_parse("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                                       "<source file='/x.qcow2'/><target dev='vdb' bus='virtio'/></disk>",
                                       NULL, 0, &error);
    g_assert_no_error(error);
    g_assert_cmpint(disk->type, ==, VRT_DOMAIN_DEVICE_DISK);
    g_assert_cmpint(disk->data.disk->format, ==, VRT_DOMAIN_DISK_FORMAT_QCOW2);

    bad = vrt_domain_device_def_parse("<sound model='ich6'/>", NULL, 0, &error);
    g_assert_null(bad);
    g_assert_error(error, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "<sound>"));
    g_clear_error(&error);
    bad = vrt_domain_device_def_parse("<interface type='user'>", NULL, 0, &error);
    g_assert_error(error, VRT_ERROR, VIR_ERR_XML_ERROR);
}

static void
test_secure_and_inactive(void)
{
    g_autofree char *path = g_build_filename(VRT_SOURCE_DIR, "tests", "data", "domain", "q35-full.xml", NULL);
    g_autofree char *xml = NULL, *plain = NULL, *secure = NULL, *inactive = NULL;
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_get_contents(path, &xml, NULL, &error));
    def = parse_ok(xml, 0);
    vrt_domain_def_assign_addresses(def, &error);
    g_assert_no_error(error);
    fake_runtime(def);
    plain = format_ok(def, 0);
    secure = format_ok(def, VRT_DOMAIN_XML_SECURE);
    inactive = format_ok(def, VRT_DOMAIN_XML_INACTIVE);
    g_assert_null(strstr(plain, "s3cret"));
    g_assert_nonnull(strstr(secure, "passwd='s3cret'"));
    g_assert_null(strstr(inactive, "<domain type='kvm' id="));
    g_assert_null(strstr(inactive, "<alias name='net0'/>"));
    g_assert_null(strstr(inactive, "/dev/pts/"));
    g_assert_null(strstr(inactive, "portid="));
    g_assert_nonnull(strstr(plain, "<alias name='net0'/>"));
    g_assert_nonnull(strstr(plain, "<console type='pty' tty='/dev/pts/10'>"));
    g_assert_nonnull(strstr(plain, "bridge='virbr0'/>"));
    g_assert_nonnull(strstr(plain, "<target dev='vrttap0'/>"));
    g_assert_nonnull(strstr(inactive, "<target dev='vrttap0'/>"));
    g_assert_nonnull(strstr(inactive, "<app:owner>tests</app:owner>"));
    g_assert_cmpuint(def->current_vcpus, ==, 2);
    g_assert_cmpuint(def->vcpus, ==, 4);
    g_assert_cmpuint(def->memory_kib, ==, 1048576);
    g_assert_cmpuint(def->current_memory_kib, ==, 786432);
    /* a parse of live XML as a definition drops runtime data */
    {
        g_autoptr(VrtDomainDef) cfg = parse_ok(plain, 0);
        g_autofree char *again = format_ok(cfg, 0);
        g_assert_null(strstr(again, "<domain type='kvm' id="));
        g_assert_null(strstr(again, "<alias name='net0'/>"));
    }
}

#define THREADS 4
#define THREAD_ROUNDS 50

static gpointer
thread_round_trip(gpointer data)
{
    const char *status = data;

    for (guint i = 0; i < THREAD_ROUNDS; i++) {
        g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(status, VRT_DOMAIN_XML_STATUS, NULL);
        g_autofree char *again = def ? vrt_domain_def_format(def, VRT_DOMAIN_XML_STATUS, NULL) : NULL;
        if (g_strcmp0(again, status) != 0)
            return GINT_TO_POINTER(1);
    }
    return NULL;
}

/* The daemon parses in several worker threads at once. */
static void
test_threads(void)
{
    g_autofree char *path = g_build_filename(VRT_SOURCE_DIR, "tests", "data", "domain", "q35-full.xml", NULL);
    g_autofree char *xml = NULL, *status = NULL;
    g_autoptr(VrtDomainDef) def = NULL;
    g_autoptr(GError) error = NULL;
    GThread *threads[THREADS];

    g_assert_true(g_file_get_contents(path, &xml, NULL, &error));
    def = parse_ok(xml, 0);
    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    status = format_ok(def, VRT_DOMAIN_XML_STATUS);
    for (guint i = 0; i < THREADS; i++)
        threads[i] = g_thread_new("parse", thread_round_trip, status);
    for (guint i = 0; i < THREADS; i++)
        g_assert_null(g_thread_join(threads[i]));
}

int
main(int argc, char **argv)
{
    g_autofree char *dir = corpus_dir();
    g_autoptr(GDir) d = NULL;
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    g_test_init(&argc, &argv, NULL);
    d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".xml"))
            g_ptr_array_add(paths, g_build_filename(dir, name, NULL));
    }
    g_assert_cmpuint(paths->len, >, 0);
    for (guint i = 0; i < paths->len; i++) {
        g_autofree char *base = g_path_get_basename(paths->pdata[i]);
        g_autofree char *tname = g_strdup_printf("/domconf/corpus/%s", base);
        g_test_add_data_func(tname, paths->pdata[i], test_corpus_file);
    }
    g_test_add_func("/domconf/error/malformed", test_error_malformed);
    g_test_add_func("/domconf/zero-rate-bandwidth", test_zero_rate_bandwidth);
    g_test_add_func("/domconf/drive-past-last-controller", test_drive_past_last_controller);
    g_test_add_func("/domconf/pci-root-without-index", test_pci_root_without_index);
    g_test_add_func("/domconf/error/unsupported", test_error_unsupported);
    g_test_add_func("/domconf/error/values", test_error_values);
    g_test_add_func("/domconf/hostdev-teaming", test_hostdev_teaming);
    g_test_add_func("/domconf/error/hostdev-teaming", test_hostdev_teaming_errors);
    g_test_add_func("/domconf/memory-units", test_memory_units);
    g_test_add_func("/domconf/uuid-generated", test_uuid_generated);
    g_test_add_func("/domconf/address/q35-root-ports", test_q35_root_ports);
    g_test_add_func("/domconf/address/stable", test_addresses_stable);
    g_test_add_func("/domconf/address/q35-legacy", test_q35_legacy_behind_port);
    g_test_add_func("/domconf/address/pc-slots", test_pc_slots);
    g_test_add_func("/domconf/address/hotplug", test_hotplug_address);
    g_test_add_func("/domconf/address/usb-disabled", test_usb_disabled);
    g_test_add_func("/domconf/address/usb2-companions", test_usb2_companions);
    g_test_add_func("/domconf/net/hostdev-interface", test_hostdev_interface);
    g_test_add_func("/domconf/device-parse", test_device_parse);
    g_test_add_func("/domconf/net/actual-bridge", test_network_actual_bridge);
    g_test_add_func("/domconf/net/bandwidth", test_network_bandwidth);
    g_test_add_func("/domconf/views", test_secure_and_inactive);
    g_test_add_func("/domconf/net/shared-mac", test_net_shared_mac);
    g_test_add_func("/domconf/net/shared-mac-network", test_net_shared_mac_network);
    g_test_add_func("/domconf/threads", test_threads);
    g_test_add_func("/domconf/metadata/namespaces", test_metadata_namespaces);
    g_test_add_func("/domconf/metadata/set-get", test_metadata_set_get);
    return g_test_run();
}
