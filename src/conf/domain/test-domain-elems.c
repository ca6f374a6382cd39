/*
 * Tests of the domain elements vrt applies beyond the basic set: a disk's
 * <driver> tuning (error policies, io, copy_on_read, discard,
 * detect_zeroes) and the firmware part of <os> (firmware=, <loader>,
 * <nvram>): each written back as libvirt writes it, whatever order the
 * input had, and each bad value refused with libvirt's code and text.
 */
#include "conf/domain/domain_conf.h"
#include "util/error.h"
#include "testutil.h"

#include <string.h>

#define HEAD "<domain type='qemu'><name>t</name><memory>65536</memory>"
#define DISK(driver)                                                                 \
    HEAD "<os><type>hvm</type></os><devices><disk type='file' device='disk'>" driver \
         "<source file='/i.img'/><target dev='vda' bus='virtio'/></disk></devices></domain>"

static char *
roundtrip(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &error);
    char *out;

    g_assert_no_error(error);
    out = vrt_domain_def_format(def, VRT_DOMAIN_XML_INACTIVE, &error);
    g_assert_no_error(error);
    vrt_test_assert_validates(out, "domain", "roundtrip");
    return out;
}

/* xml with addresses assigned, formatted inactive, valid against
 * domain.rng, and written back the same when read again. */
static char *
roundtrip_addressed(const char *xml, const char *what)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &error);
    g_autoptr(VrtDomainDef) again = NULL;
    g_autofree char *out2 = NULL;
    char *out;

    g_assert_no_error(error);
    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    out = vrt_domain_def_format(def, VRT_DOMAIN_XML_INACTIVE, &error);
    g_assert_no_error(error);
    vrt_test_assert_validates(out, "domain", what);
    again = vrt_domain_def_parse(out, 0, &error);
    g_assert_no_error(error);
    out2 = vrt_domain_def_format(again, VRT_DOMAIN_XML_INACTIVE, &error);
    g_assert_cmpstr(out2, ==, out);
    return out;
}

static void
assert_refused(const char *xml, int code, const char *message)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &error);

    g_assert_null(def);
    g_assert_nonnull(error);
    g_assert_cmpint(error->code, ==, code);
    if (!strstr(error->message, message))
        g_error("error '%s' lacks '%s'", error->message, message);
}

static void
test_disk_driver_order(void)
{
    /* virt-install's disk, and every attribute in another order */
    g_autofree char *vi = roundtrip(DISK("<driver name='qemu' type='raw' discard='unmap'/>"));
    g_autofree char *all =
        roundtrip(DISK("<driver detect_zeroes='unmap' discard='unmap' copy_on_read='on' io='native' "
                       "rerror_policy='report' error_policy='stop' cache='none' type='raw' name='qemu'/>"));

    g_assert_nonnull(strstr(vi, "<driver name='qemu' type='raw' discard='unmap'/>"));
    g_assert_nonnull(strstr(all, "<driver name='qemu' type='raw' cache='none' error_policy='stop' "
                                 "rerror_policy='report' io='native' copy_on_read='on' discard='unmap' "
                                 "detect_zeroes='unmap'/>"));
}

static void
test_disk_driver_refusals(void)
{
    assert_refused(DISK("<driver io='fast'/>"), VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'io' in element 'driver': 'fast'.");
    assert_refused(DISK("<driver discard='default'/>"), VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'discard' in element 'driver': 'default'.");
    assert_refused(DISK("<driver rerror_policy='enospace'/>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "Invalid disk read error policy: 'enospace'");
    assert_refused(DISK("<driver copy_on_read='yes'/>"), VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'copy_on_read' in element 'driver': 'yes'.");
}

#define GDISK(bus, dev, children)                                                                             \
    HEAD "<os><type>hvm</type></os><devices><disk type='file' device='disk'><source file='/i.img'/>" children \
         "<target dev='" dev "' bus='" bus "'/></disk></devices></domain>"

/* <geometry> and <blockio>: written after <source> and before <target>,
 * attributes in libvirt's order, whatever the input's */
static void
test_disk_geometry_blockio(void)
{
    g_autofree char *ide = roundtrip(HEAD "<os><type>hvm</type></os><devices><disk type='file' device='disk'>"
                                          "<target bus='ide' dev='hda'/><blockio physical_block_size='4096' "
                                          "logical_block_size='512'/><source file='/i.img'/>"
                                          "<geometry trans='lba' secs='63' heads='16' cyls='16383'/>"
                                          "</disk></devices></domain>");
    g_autofree char *virtio = roundtrip(GDISK("virtio", "vda",
                                              "<geometry cyls='1024' heads='255' secs='63'/>"
                                              "<blockio logical_block_size='4096'/>"));
    /* libvirt keeps a geometry only when all three numbers are given */
    g_autofree char *partial = roundtrip(GDISK("virtio", "vda", "<geometry cyls='1024'/><blockio/>"));

    g_assert_nonnull(strstr(ide, "<source file='/i.img'/>\n"
                                 "      <geometry cyls='16383' heads='16' secs='63' trans='lba'/>\n"
                                 "      <blockio logical_block_size='512' physical_block_size='4096'/>\n"
                                 "      <target dev='hda' bus='ide'/>"));
    g_assert_nonnull(strstr(virtio, "<geometry cyls='1024' heads='255' secs='63'/>\n"
                                    "      <blockio logical_block_size='4096'/>\n"));
    g_assert_null(strstr(partial, "<geometry"));
    g_assert_null(strstr(partial, "<blockio"));
}

static void
test_disk_geometry_refusals(void)
{
    assert_refused(GDISK("ide", "hda", "<geometry cyls='-1' heads='16' secs='63'/>"), VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'cyls' in element 'geometry': '-1'. Expected non-negative integer "
                   "value");
    assert_refused(GDISK("ide", "hda", "<geometry cyls='1' heads='16' secs='63' trans='default'/>"), VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'trans' in element 'geometry': 'default'.");
    assert_refused(GDISK("ide", "hda", "<geometry cyls='1' heads='16' secs='63' trans='large'/>"), VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'trans' in element 'geometry': 'large'.");
    assert_refused(GDISK("ide", "hda", "<blockio logical_block_size='0x200'/>"), VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'logical_block_size' in element 'blockio': '0x200'. Expected "
                   "non-negative integer value");
    assert_refused(GDISK("usb", "sda", "<geometry cyls='1' heads='16' secs='63'/>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "CHS geometry can not be set for 'usb' bus");
    assert_refused(GDISK("virtio", "vda", "<geometry cyls='1' heads='16' secs='63' trans='lba'/>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "CHS translation mode can only be set for 'ide' bus not 'virtio'");
}

#define DEVS(devs) HEAD "<os><type>hvm</type></os><devices>" devs "</devices></domain>"

#define ENC \
    "<encryption format='luks'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption>"

/* What vrt does not read inside a disk's <source> or a PCI <address> is
 * refused, with libvirt's words where libvirt refuses it too. */
static void
test_nested_refusals(void)
{
    assert_refused(DEVS("<disk type='file' device='disk'><source file='/i.img'>" ENC "</source>"
                        "<target dev='vda' bus='virtio'/>" ENC "</disk>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "an <encryption> definition already found for disk source");
    assert_refused(DEVS("<disk type='file' device='disk'><source file='/i.img'>" ENC "</source>"
                        "<target dev='vda' bus='virtio'/></disk>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "element <encryption> in <source>");
    assert_refused(DEVS("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                        "<address domain='0x0001' bus='0' slot='0' function='0'/></source>"
                        "<address type='pci' domain='0x0000' bus='0x00' slot='0x08' function='0x0'>"
                        "<zpci uid='0x0019' fid='0x0000001f'/></address></hostdev>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "This QEMU binary doesn't support zPCI");
    assert_refused(DEVS("<controller type='usb' index='0'><address type='pci' bus='0' slot='5'><x/></address>"
                        "</controller>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "element <x> in <address>");
}
#define NET(model, driver) \
    DEVS("<interface type='user'><mac address='52:54:00:00:00:01'/><model type='" model "'/>" driver "</interface>")

static void
assert_assign_refused(const char *xml, int code, const char *message)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &error);

    g_assert_no_error(error);
    g_assert_false(vrt_domain_def_assign_addresses(def, &error));
    g_assert_nonnull(error);
    g_assert_cmpint(error->code, ==, code);
    if (!strstr(error->message, message))
        g_error("error '%s' lacks '%s'", error->message, message);
}

/* virtio <driver> settings of disks, interfaces and controllers: written
 * back in libvirt's attribute order whatever the input's */
static void
test_virtio_driver_order(void)
{
    g_autofree char *disk = roundtrip(DISK("<driver page_per_vq='on' packed='off' ats='on' iommu='on' "
                                           "queue_size='256' queues='4' event_idx='off' ioeventfd='on' "
                                           "type='raw' name='qemu'/>"));
    g_autofree char *net =
        roundtrip(NET("virtio", "<driver iommu='off' rss_hash_report='on' rss='on' tx_queue_size='1024' "
                                "rx_queue_size='512' queues='4' event_idx='on' ioeventfd='off' txmode='iothread' "
                                "name='vhost'><guest ufo='off' csum='on'/><host mrg_rxbuf='off' gso='on'/></driver>"));
    g_autofree char *ctl =
        roundtrip(DEVS("<controller type='scsi' index='0' model='virtio-scsi'><driver packed='on' max_sectors='512' "
                       "cmd_per_lun='8' ioeventfd='off' queues='3'/></controller>"
                       "<controller type='virtio-serial' index='0' vectors='4' ports='16'>"
                       "<driver ats='on'/></controller>"));

    g_assert_nonnull(strstr(disk, "<driver name='qemu' type='raw' ioeventfd='on' event_idx='off' queues='4' "
                                  "queue_size='256' iommu='on' ats='on' packed='off' page_per_vq='on'/>"));
    g_assert_nonnull(strstr(net, "<driver name='vhost' txmode='iothread' ioeventfd='off' event_idx='on' queues='4' "
                                 "rx_queue_size='512' tx_queue_size='1024' rss='on' rss_hash_report='on' "
                                 "iommu='off'>\n"));
    g_assert_nonnull(strstr(net, "<host gso='on' mrg_rxbuf='off'/>\n"));
    g_assert_nonnull(strstr(net, "<guest csum='on' ufo='off'/>\n      </driver>"));
    g_assert_nonnull(strstr(ctl, "<driver queues='3' cmd_per_lun='8' max_sectors='512' ioeventfd='off' packed='on'/>"));
    g_assert_nonnull(strstr(ctl, "<controller type='virtio-serial' index='0' ports='16' vectors='4'>"));
    g_assert_nonnull(strstr(ctl, "<driver ats='on'/>"));
}

/* ... refused as libvirt refuses them; an e1000's virtio-net settings
 * are dropped as libvirt drops them */
static void
test_virtio_driver_refusals(void)
{
    g_autofree char *e1000 = roundtrip(NET("e1000", "<driver txmode='timer' event_idx='on'/>"));

    g_assert_null(strstr(e1000, "<driver"));
    assert_refused(DISK("<driver ats='yes'/>"), VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'ats' in element 'driver': 'yes'.");
    assert_refused(NET("e1000", "<driver iommu='on'/>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "iommu driver option is only supported for virtio devices");
    assert_refused(NET("virtio", "<driver rx_queue_size='100'/>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "rx_queue_size has to be a power of two");
    assert_refused(NET("virtio", "<driver><host tso5='on'/></driver>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "attribute 'tso5' of element <host>");
    assert_refused(DEVS("<controller type='scsi' index='0' model='lsilogic'><driver queues='2'/></controller>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "'queues' is only supported by virtio-scsi controller");
    assert_refused(DEVS("<controller type='sata' index='0'><driver packed='on'/></controller>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "packed driver option is only supported for virtio devices");
    assert_refused(DEVS("<controller type='usb' index='0' vectors='2'/>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "attribute 'vectors' of element <controller>");
    assert_refused(DEVS("<controller type='scsi' index='0' model='virtio-scsi'><driver iothread='2'/></controller>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "controller iothread '2' not defined in iothreadid");
    assert_assign_refused(DEVS("<disk type='file' device='disk'><driver name='qemu' event_idx='on'/>"
                               "<source file='/i.img'/><target dev='sda' bus='sata'/></disk>"),
                          VIR_ERR_CONFIG_UNSUPPORTED, "disk event_idx mode supported only for virtio bus");
    assert_assign_refused(DEVS("<disk type='file' device='disk'><driver name='qemu' iommu='on'/>"
                               "<source file='/i.img'/><target dev='sda' bus='sata'/></disk>"),
                          VIR_ERR_CONFIG_UNSUPPORTED, "iommu driver option is only supported for virtio devices");
}

static void
test_disk_error_policies(void)
{
    VrtDomainDiskDriverTuning t = { 0 };
    const char *w, *r;

    t.error_policy = VRT_DISK_ERROR_POLICY_STOP;
    vrt_disk_error_policies(&t, &w, &r);
    g_assert_cmpstr(w, ==, "stop");
    g_assert_cmpstr(r, ==, "stop"); /* the read policy follows */
    t.error_policy = VRT_DISK_ERROR_POLICY_ENOSPACE;
    vrt_disk_error_policies(&t, &w, &r);
    g_assert_cmpstr(w, ==, "enospc");
    g_assert_null(r);
    t.detect_zeroes = VRT_DISK_DETECT_ZEROES_UNMAP;
    g_assert_cmpint(vrt_disk_detect_zeroes_effective(&t), ==, VRT_DISK_DETECT_ZEROES_ON);
    t.discard = VRT_DISK_DISCARD_UNMAP;
    g_assert_cmpint(vrt_disk_detect_zeroes_effective(&t), ==, VRT_DISK_DETECT_ZEROES_UNMAP);
}

static void
test_os_firmware(void)
{
    g_autofree char *efi = roundtrip(HEAD "<os firmware='efi'><type>hvm</type></os></domain>");
    g_autofree char *old = roundtrip(HEAD "<os><type>hvm</type><nvram template='/t.fd'>/n.fd</nvram>"
                                          "<loader type='pflash' readonly='yes'>/c.fd</loader></os></domain>");

    g_assert_nonnull(strstr(efi, "<os firmware='efi'>\n    <type>hvm</type>\n  </os>"));
    g_assert_nonnull(strstr(old, "<type>hvm</type>\n    <loader readonly='yes' type='pflash'>/c.fd</loader>\n"
                                 "    <nvram template='/t.fd'>/n.fd</nvram>\n"));
}

static void
test_os_firmware_refusals(void)
{
    assert_refused(HEAD "<os firmware='uefi'><type>hvm</type></os></domain>", VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'firmware' in element 'os': 'uefi'.");
    assert_refused(HEAD "<os firmware='efi'><type>hvm</type><loader>/c.fd</loader></os></domain>", VIR_ERR_XML_DETAIL,
                   "loader path cannot be specified when firmware autoselection is enabled");
    assert_refused(HEAD "<os><type>hvm</type><loader readonly='yes'/></os></domain>", VIR_ERR_XML_DETAIL,
                   "no loader path specified and firmware auto selection disabled");
    assert_refused(HEAD "<os firmware='bios'><type>hvm</type><nvram>/n.fd</nvram></os></domain>", VIR_ERR_XML_DETAIL,
                   "firmware type 'bios' does not support nvram");
    assert_refused(HEAD "<os><type>hvm</type><loader type='flash'>/c.fd</loader></os></domain>", VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'type' in element 'loader': 'flash'.");
}

static void
test_numa_and_backing(void)
{
    g_autofree char *xml =
        roundtrip("<domain type='qemu'><name>t</name><memory>1</memory><vcpu>4</vcpu><os><type>hvm</type></os>"
                  "<memoryBacking><access mode='shared'/><source type='memfd'/><locked/></memoryBacking>"
                  "<cpu><topology sockets='2' cores='2' threads='1'/><numa>"
                  "<cell id='1' cpus='2,3' memory='64' unit='MiB'/>"
                  "<cell memAccess='private' cpus='0-1' id='0' memory='131072'/></numa></cpu></domain>");

    /* the memory is the cells' sum */
    g_assert_nonnull(strstr(xml, "<memory unit='KiB'>196608</memory>"));
    g_assert_nonnull(strstr(xml, "  <memoryBacking>\n    <locked/>\n    <source type='memfd'/>\n"
                                 "    <access mode='shared'/>\n  </memoryBacking>\n"));
    g_assert_nonnull(strstr(xml, "<numa>\n      <cell id='0' cpus='0-1' memory='131072' unit='KiB' "
                                 "memAccess='private'/>\n      <cell id='1' cpus='2-3' memory='65536' unit='KiB'/>\n"
                                 "    </numa>\n  </cpu>"));
}

static void
test_numa_refusals(void)
{
#define NUMA(vcpus, cells)                                                                                \
    "<domain type='qemu'><name>t</name><memory>1</memory><vcpu>" vcpus "</vcpu><os><type>hvm</type></os>" \
    "<cpu><numa>" cells "</numa></cpu></domain>"
    assert_refused(NUMA("2", "<cell id='1' cpus='0-1' memory='1'/>"), VIR_ERR_XML_ERROR,
                   "Exactly one 'cell' element per guest NUMA cell allowed");
    assert_refused(NUMA("2", "<cell id='0' cpus='0-2' memory='1'/>"), VIR_ERR_XML_ERROR,
                   "Number of CPUs in <numa> exceeds the <vcpu> count");
    assert_refused(NUMA("2", "<cell id='0' cpus='0-1' memory='1'/><cell id='1' cpus='1' memory='1'/>"),
                   VIR_ERR_XML_ERROR, "NUMA cells 0 and 1 have overlapping vCPU ids");
    assert_refused(NUMA("2", "<cell id='0' cpus='0-1' memory='1'/><cell id='0' cpus='1' memory='1'/>"),
                   VIR_ERR_XML_ERROR, "Duplicate NUMA cell info for cell id '0'");
    /* cell 1 read before the refusal leaves slot 0 empty (a crash once) */
    assert_refused(NUMA("2", "<cell id='1' cpus='1' memory='1'/><cell id='0' cpus='0'/>"), VIR_ERR_XML_ERROR,
                   "Missing 'memory' attribute in NUMA cell");
    assert_refused(HEAD "<os><type>hvm</type></os><memoryBacking><source type='tmpfs'/></memoryBacking></domain>",
                   VIR_ERR_XML_ERROR, "Invalid value for attribute 'type' in element 'source': 'tmpfs'.");
#undef NUMA
}

static void
test_iothreads(void)
{
    g_autofree char *xml = roundtrip(HEAD "<iothreadids><iothread id='4'/></iothreadids><iothreads>2</iothreads>"
                                          "<os><type>hvm</type></os><devices><disk type='file' device='disk'>"
                                          "<driver name='qemu' iothread='1'/><source file='/i.img'/>"
                                          "<target dev='vda' bus='virtio'/></disk></devices></domain>");
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &error);
    g_autoptr(GArray) ids = vrt_domain_iothread_ids(def);

    g_assert_nonnull(strstr(xml, "<iothreads>2</iothreads>\n  <iothreadids>\n    <iothread id='4'/>\n"
                                 "  </iothreadids>\n"));
    g_assert_nonnull(strstr(xml, "<driver name='qemu' iothread='1'/>"));
    /* named 4, then the lowest free one */
    g_assert_cmpuint(ids->len, ==, 2);
    g_assert_cmpuint(g_array_index(ids, guint, 0), ==, 4);
    g_assert_cmpuint(g_array_index(ids, guint, 1), ==, 1);

    assert_refused(HEAD "<iothreads>1</iothreads><os><type>hvm</type></os><devices><disk type='file' device='disk'>"
                        "<driver iothread='2'/><source file='/i.img'/><target dev='vda' bus='virtio'/></disk>"
                        "</devices></domain>",
                   VIR_ERR_CONFIG_UNSUPPORTED, "Disk iothread '2' not defined in iothreadid");
    assert_refused(HEAD "<iothreads>1</iothreads><os><type>hvm</type></os><devices><disk type='file' device='disk'>"
                        "<driver iothread='1'/><source file='/i.img'/><target dev='sda' bus='sata'/></disk>"
                        "</devices></domain>",
                   VIR_ERR_CONFIG_UNSUPPORTED, "IOThreads not available for bus sata target sda");
    assert_refused(HEAD "<iothreads>two</iothreads><os><type>hvm</type></os></domain>", VIR_ERR_XML_ERROR,
                   "invalid iothreads count 'two'");
}

static void
test_vcpu_cpuset(void)
{
    g_autofree char *xml =
        roundtrip(HEAD "<vcpu current='1' cpuset='1,0,3-4'>2</vcpu><os><type>hvm</type></os></domain>");

    g_assert_nonnull(strstr(xml, "<vcpu placement='static' cpuset='0-1,3-4' current='1'>2</vcpu>"));
}

#define QNS "http://libvirt.org/schemas/domain/qemu/1.0"

static void
test_qemu_commandline(void)
{
    g_autofree char *xml = roundtrip("<domain type='qemu' xmlns:q='" QNS "'><name>t</name><memory>65536</memory>"
                                     "<os><type>hvm</type></os><q:commandline><q:env name='A_1' value='x&amp;y'/>"
                                     "<q:arg value='-set'/><q:arg value='a=b'/></q:commandline></domain>");

    g_assert_nonnull(strstr(xml, "<domain type='qemu' xmlns:qemu='" QNS "'>"));
    g_assert_nonnull(strstr(xml, "  </devices>\n  <qemu:commandline>\n    <qemu:arg value='-set'/>\n"
                                 "    <qemu:arg value='a=b'/>\n    <qemu:env name='A_1' value='x&amp;y'/>\n"
                                 "  </qemu:commandline>\n</domain>"));
    assert_refused("<domain type='qemu' xmlns:qemu='" QNS "'><name>t</name><memory>65536</memory>"
                   "<os><type>hvm</type></os><qemu:commandline><qemu:env name='1A'/></qemu:commandline></domain>",
                   VIR_ERR_INTERNAL_ERROR, "Invalid environment name, it must begin with a letter or underscore");
    assert_refused("<domain type='qemu' xmlns:qemu='" QNS "'><name>t</name><memory>65536</memory>"
                   "<os><type>hvm</type></os><qemu:commandline><qemu:arg/></qemu:commandline></domain>",
                   VIR_ERR_INTERNAL_ERROR, "No qemu command-line argument specified");
    assert_refused("<domain type='qemu' xmlns:qemu='" QNS "'><name>t</name><memory>65536</memory>"
                   "<os><type>hvm</type></os><qemu:capabilities/></domain>",
                   VIR_ERR_CONFIG_UNSUPPORTED, "capabilities");
}

static void
test_iommu(void)
{
    g_autofree char *plain =
        roundtrip(HEAD "<os><type>hvm</type></os><devices><iommu model='intel'/></devices></domain>");
    g_autofree char *opts =
        roundtrip(HEAD "<os><type>hvm</type></os><devices><iommu model='intel'>"
                       "<driver aw_bits='48' iotlb='on' caching_mode='on'/></iommu></devices></domain>");

    g_assert_nonnull(strstr(plain, "    <iommu model='intel'/>\n  </devices>"));
    g_assert_nonnull(strstr(opts, "<iommu model='intel'>\n      <driver caching_mode='on' iotlb='on' aw_bits='48'/>\n"
                                  "    </iommu>\n"));
    assert_refused(HEAD "<os><type>hvm</type></os><devices><iommu model='intel'><driver intremap='on'/></iommu>"
                        "</devices></domain>",
                   VIR_ERR_CONFIG_UNSUPPORTED,
                   "IOMMU interrupt remapping requires split I/O APIC (ioapic driver='qemu')");
    assert_refused(HEAD "<os><type>hvm</type></os><devices><iommu model='smmuv3'/></devices></domain>",
                   VIR_ERR_CONFIG_UNSUPPORTED, "IOMMU model 'smmuv3' is not supported");
}

#define FEAT(machine, features)                                                                               \
    "<domain type='qemu'><name>t</name><memory>65536</memory><os><type machine='" machine "'>hvm</type></os>" \
    "<features>" features "</features></domain>"

/* Every <features> child written in libvirt's order and forms, whatever
 * order the input had; the bare forms get libvirt's defaults. */
static void
test_features(void)
{
    g_autofree char *all =
        roundtrip(FEAT("q35", "<tcg><tb-cache unit='MiB'>100</tb-cache></tcg><vmcoreinfo/><ioapic driver='qemu'/>"
                              "<smm><tseg>48</tseg></smm><vmport state='off'/><pmu/><pvspinlock state='off'/>"
                              "<kvm><dirty-ring state='off'/><hidden state='on'/></kvm>"
                              "<hyperv><avic state='on'/><stimer state='on'><direct state='on'/></stimer>"
                              "<vendor_id state='on' value='a&amp;b'/><spinlocks state='on' retries='4095'/></hyperv>"
                              "<pae/><apic eoi='off'/><acpi/>"));
    g_autofree char *pt =
        roundtrip(FEAT("pc", "<hyperv mode='passthrough'/><kvm/><smm state='off'><tseg>8</tseg></smm>"));

    g_assert_nonnull(strstr(all, "  <features>\n    <acpi/>\n    <apic eoi='off'/>\n    <pae/>\n"
                                 "    <hyperv mode='custom'>\n      <spinlocks state='on' retries='4095'/>\n"
                                 "      <stimer state='on'>\n        <direct state='on'/>\n      </stimer>\n"
                                 "      <vendor_id state='on' value='a&amp;b'/>\n      <avic state='on'/>\n"
                                 "    </hyperv>\n    <kvm>\n      <hidden state='on'/>\n"
                                 "      <dirty-ring state='off'/>\n    </kvm>\n    <pvspinlock state='off'/>\n"
                                 "    <pmu state='on'/>\n    <vmport state='off'/>\n    <smm state='on'>\n"
                                 "      <tseg unit='MiB'>48</tseg>\n    </smm>\n    <ioapic driver='qemu'/>\n"
                                 "    <vmcoreinfo state='on'/>\n    <tcg>\n"
                                 "      <tb-cache unit='KiB'>102400</tb-cache>\n    </tcg>\n  </features>\n"));
    /* a TSEG size counts only with SMM on */
    g_assert_nonnull(strstr(pt, "  <features>\n    <hyperv mode='passthrough'/>\n    <kvm/>\n"
                                "    <smm state='off'/>\n  </features>\n"));
}

static void
test_features_refusals(void)
{
    assert_refused(FEAT("pc", "<hyperv><spinlocks state='on' retries='4094'/></hyperv>"), VIR_ERR_XML_ERROR,
                   "HyperV spinlock retry count must be at least 4095");
    assert_refused(FEAT("pc", "<hyperv><vendor_id state='on' value='0123456789abc'/></hyperv>"), VIR_ERR_XML_ERROR,
                   "HyperV vendor_id value must not be more than 12 characters.");
    assert_refused(FEAT("pc", "<hyperv><vendor_id state='on' value='a,b'/></hyperv>"), VIR_ERR_XML_ERROR,
                   "HyperV vendor_id value is invalid");
    assert_refused(FEAT("pc", "<hyperv><relaxed/></hyperv>"), VIR_ERR_XML_ERROR,
                   "Missing required attribute 'state' in element 'relaxed'");
    assert_refused(FEAT("pc", "<hyperv><crash state='on'/></hyperv>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "unsupported HyperV Enlightenment feature: crash");
    assert_refused(FEAT("pc", "<kvm><dirty-ring state='on' size='3000'/></kvm>"), VIR_ERR_XML_ERROR,
                   "dirty ring must be power of 2 and ranges [1024, 65536]");
    assert_refused(FEAT("pc", "<smm state='on'><tseg>48</tseg></smm>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "SMM TSEG is only supported with q35 machine type");
    assert_refused(FEAT("q35", "<smm state='on'><tseg unit='KiB'>1536</tseg></smm>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "SMM TSEG size must be divisible by 1 MiB");
    assert_refused(FEAT("pc", "<tcg><tb-cache unit='KiB'>1000</tb-cache></tcg>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "tb-cache size must be an integer multiple of MiB");
    assert_refused("<domain type='kvm'><name>t</name><memory>65536</memory><os><type>hvm</type></os><features>"
                   "<tcg><tb-cache>1024</tb-cache></tcg></features></domain>",
                   VIR_ERR_CONFIG_UNSUPPORTED, "TCG features are incompatible with domain type 'kvm'");
    assert_refused(FEAT("pc", "<ioapic driver='xen'/>"), VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'driver' in element 'ioapic': 'xen'.");
    /* interrupt remapping needs QEMU's I/O APIC, wherever <features> is */
    assert_refused(HEAD "<os><type machine='q35'>hvm</type></os><devices><iommu model='intel'>"
                        "<driver intremap='on'/></iommu></devices></domain>",
                   VIR_ERR_CONFIG_UNSUPPORTED,
                   "IOMMU interrupt remapping requires split I/O APIC (ioapic driver='qemu')");
    g_free(roundtrip(HEAD "<os><type machine='q35'>hvm</type></os><devices><iommu model='intel'>"
                          "<driver intremap='on' eim='on'/></iommu></devices><features><ioapic driver='qemu'/>"
                          "</features></domain>"));
}

#define PAGES(pages, cells)                                                                                  \
    "<domain type='qemu'><name>t</name><memory>65536</memory><vcpu>2</vcpu><memoryBacking><hugepages>" pages \
    "</hugepages></memoryBacking><os><type>hvm</type></os><cpu>" cells "</cpu></domain>"
#define CELLS2 "<numa><cell id='0' cpus='0' memory='32768'/><cell id='1' cpus='1' memory='32768'/></numa>"

/* <hugepages><page>: sizes in KiB, node sets canonical, libvirt's checks. */
static void
test_hugepages_pages(void)
{
    g_autofree char *xml =
        roundtrip(PAGES("<page size='1' unit='GiB' nodeset='1,1'/><page size='2' unit='MiB'/>", CELLS2));
    g_autofree char *bare = roundtrip(HEAD "<memoryBacking><hugepages/><nosharepages/></memoryBacking>"
                                           "<os><type>hvm</type></os></domain>");
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(PAGES("<page size='2048' nodeset='1'/>", CELLS2), 0, NULL);
    guint64 kib = 1;

    g_assert_nonnull(strstr(xml, "  <memoryBacking>\n    <hugepages>\n"
                                 "      <page size='1048576' unit='KiB' nodeset='1'/>\n"
                                 "      <page size='2048' unit='KiB'/>\n    </hugepages>\n  </memoryBacking>\n"));
    g_assert_nonnull(strstr(bare, "  <memoryBacking>\n    <hugepages/>\n    <nosharepages/>\n  </memoryBacking>\n"));
    /* node 1 on 2 MiB pages, node 0 (no page names it, no master) not on huge pages */
    g_assert_true(vrt_domain_mem_page_kib(def->mem, 1, &kib));
    g_assert_cmpuint(kib, ==, 2048);
    g_assert_false(vrt_domain_mem_page_kib(def->mem, 0, &kib));

    assert_refused(PAGES("<page size='2048' nodeset='0-1'/><page size='1048576' nodeset='1'/>", CELLS2),
                   VIR_ERR_XML_DETAIL, "nodeset attribute of hugepages of sizes 1048576 and 2048 intersect");
    assert_refused(PAGES("<page size='2048'/><page size='1048576'/>", CELLS2), VIR_ERR_XML_DETAIL,
                   "two master hugepages detected: 1048576 and 2048");
    assert_refused(PAGES("<page size='2048' nodeset='2'/>", CELLS2), VIR_ERR_XML_DETAIL, "hugepages: node 2 not found");
    assert_refused(PAGES("<page size='0'/>", CELLS2), VIR_ERR_XML_DETAIL, "hugepage size can't be zero");
}

#define CPU(cpu) HEAD "<os><type>hvm</type></os>" cpu "</domain>"

/* <cpu><model vendor_id>, <cache>, <maxphysaddr>: libvirt's forms and
 * its QEMU rules for which modes they go with. */
static void
test_cpu_extras(void)
{
    g_autofree char *hm = roundtrip(CPU("<cpu mode='host-model'><maxphysaddr bits='42' mode='emulate'/>"
                                        "<cache mode='disable'/><model fallback='allow' vendor_id='Libvirt QEMU'/>"
                                        "</cpu>"));
    g_autofree char *hp = roundtrip(CPU("<cpu mode='host-passthrough'><model fallback='forbid'/>"
                                        "<cache mode='passthrough'/><maxphysaddr mode='passthrough'/></cpu>"));
    g_autofree char *cu = roundtrip(CPU("<cpu><model vendor_id='GenuineIntel'>qemu64</model>"
                                        "<cache level='3' mode='emulate'/></cpu>"));

    g_assert_nonnull(strstr(hm, "<cpu mode='host-model'>\n    <model vendor_id='Libvirt QEMU'/>\n"
                                "    <cache mode='disable'/>\n    <maxphysaddr mode='emulate' bits='42'/>\n"
                                "  </cpu>\n"));
    g_assert_nonnull(strstr(hp, "    <cache mode='passthrough'/>\n    <maxphysaddr mode='passthrough'/>\n  </cpu>\n"));
    g_assert_null(strstr(hp, "<model"));
    g_assert_nonnull(strstr(cu, "<model vendor_id='GenuineIntel'>qemu64</model>\n"
                                "    <cache level='3' mode='emulate'/>\n"));

    assert_refused(CPU("<cpu mode='host-model'><model vendor_id='short'/></cpu>"), VIR_ERR_XML_ERROR,
                   "vendor_id must be exactly 12 characters long");
    assert_refused(CPU("<cpu mode='host-model'><model vendor_id='Libvirt,QEMU'/></cpu>"), VIR_ERR_XML_ERROR,
                   "vendor id is invalid");
    assert_refused(CPU("<cpu mode='host-model'><cache mode='passthrough'/></cpu>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "CPU cache mode 'passthrough' can only be used with 'host-passthrough' / 'maximum' CPUs");
    assert_refused(CPU("<cpu mode='host-passthrough'><cache level='2' mode='emulate'/></cpu>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "CPU cache mode 'emulate' can only be used with level='3'");
    assert_refused(CPU("<cpu mode='host-passthrough'><cache level='3' mode='disable'/></cpu>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "unsupported CPU cache level for mode 'disable'");
    assert_refused(CPU("<cpu mode='host-passthrough'><cache level='4' mode='emulate'/></cpu>"), VIR_ERR_XML_ERROR,
                   "invalid CPU cache level, must be in range [1,3]");
    assert_refused(CPU("<cpu mode='host-passthrough'><cache mode='disable'/><cache mode='disable'/></cpu>"),
                   VIR_ERR_XML_ERROR, "at most one CPU cache element may be specified");
    assert_refused(CPU("<cpu mode='host-passthrough'><maxphysaddr mode='passthrough' bits='42'/></cpu>"),
                   VIR_ERR_CONFIG_UNSUPPORTED,
                   "CPU maximum physical address bits number specification cannot be used with mode='passthrough'");
    assert_refused(CPU("<cpu mode='host-passthrough'><maxphysaddr mode='emulate'/></cpu>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "if using CPU maximum physical address mode='emulate', bits= must be specified too");
}

#define CLOCK(clock) HEAD "<os><type>hvm</type></os>" clock "</domain>"

/* <clock> offsets with the attributes each reads, and the timers' track. */
static void
test_clock_offsets(void)
{
    g_autofree char *var = roundtrip(CLOCK("<clock offset='localtime' adjustment='-3600'/>"));
    g_autofree char *reset = roundtrip(CLOCK("<clock offset='utc' adjustment='reset'/>"));
    g_autofree char *tz = roundtrip(CLOCK("<clock offset='timezone' timezone='Europe/Paris'/>"));
    g_autofree char *abs = roundtrip(CLOCK("<clock offset='absolute' start='1234567890'>"
                                           "<timer name='rtc' track='wall'/></clock>"));
    g_autofree char *bare = roundtrip(CLOCK("<clock offset='variable'/>"));

    /* a number as adjustment of localtime is a variable offset from it */
    g_assert_nonnull(strstr(var, "<clock offset='variable' adjustment='-3600' basis='localtime'/>"));
    g_assert_nonnull(strstr(reset, "<clock offset='utc' adjustment='reset'/>"));
    g_assert_nonnull(strstr(tz, "<clock offset='timezone' timezone='Europe/Paris'/>"));
    g_assert_nonnull(strstr(abs, "<clock offset='absolute' start='1234567890'>\n    <timer name='rtc' track='wall'/>"));
    g_assert_nonnull(strstr(bare, "<clock offset='variable' adjustment='0' basis='utc'/>"));

    g_autofree char *boot = roundtrip(HEAD "<os><type>hvm</type><bios rebootTimeout='-1'/>"
                                           "<bootmenu enable='yes' timeout='3000'/></os></domain>");
    g_autofree char *nomenu = roundtrip(HEAD "<os><type>hvm</type><bootmenu enable='no' timeout='3000'/></os>"
                                             "</domain>");

    g_assert_nonnull(strstr(boot, "<bootmenu enable='yes' timeout='3000'/>\n    <bios rebootTimeout='-1'/>\n"));
    /* libvirt keeps a menu timeout only with the menu on */
    g_assert_nonnull(strstr(nomenu, "<bootmenu enable='no'/>\n"));
    assert_refused(HEAD "<os><type>hvm</type><bios rebootTimeout='-2'/></os></domain>", VIR_ERR_CONFIG_UNSUPPORTED,
                   "invalid value for rebootTimeout, must be in range [-1,65535]");
    assert_refused(HEAD "<os><type>hvm</type><bootmenu enable='yes' timeout='65536'/></os></domain>",
                   VIR_ERR_CONFIG_UNSUPPORTED, "invalid value for boot menu timeout, must be in range [0,65535]");
    assert_refused(HEAD "<os><type>hvm</type><bios useserial='yes'/></os></domain>", VIR_ERR_XML_ERROR,
                   "need at least one serial port to use BIOS serial output");
    assert_refused(CLOCK("<clock offset='absolute'/>"), VIR_ERR_INTERNAL_ERROR,
                   "missing 'start' attribute for clock with offset='absolute'");
    assert_refused(CLOCK("<clock offset='timezone'/>"), VIR_ERR_INTERNAL_ERROR,
                   "missing 'timezone' attribute for clock with offset='timezone'");
    assert_refused(CLOCK("<clock offset='utc' adjustment='soon'/>"), VIR_ERR_XML_ERROR,
                   "unknown clock adjustment 'soon'");
    assert_refused(CLOCK("<clock offset='variable' basis='gmt'/>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "unknown clock basis 'gmt'");
    assert_refused(CLOCK("<clock offset='martian'/>"), VIR_ERR_CONFIG_UNSUPPORTED, "unknown clock offset 'martian'");
    assert_refused(CLOCK("<clock><timer name='rtc' track='boot'/></clock>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "unsupported rtc timer track 'boot'");
    assert_refused(CLOCK("<clock><timer name='rtc' tickpolicy='merge'/></clock>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "unsupported rtc timer tickpolicy 'merge'");
    assert_refused(CLOCK("<clock><timer name='pit' tickpolicy='merge'/></clock>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "unsupported pit tickpolicy 'merge'");
}

#define PC_DEVICES(x) HEAD "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>" x "</devices></domain>"
#define SHMEM(x) PC_DEVICES(x)

/* <shmem>: libvirt's QEMU defaults filled in (4 MiB, the legacy model, a
 * doorbell's msi with ioeventfd), a PCI slot each; its refusals */
static void
test_shmem(void)
{
    g_autofree char *out =
        roundtrip_addressed(SHMEM("<shmem name='a'/><shmem name='b' role='peer'><model type='ivshmem-plain'/>"
                                  "<size unit='M'>128</size></shmem><shmem name='c'><model type='ivshmem-doorbell'/>"
                                  "<server path='/tmp//c-sock/'/><msi vectors='16'/></shmem>"
                                  "<shmem name='d'><model type='ivshmem-plain'/><size unit='K'>512</size></shmem>"),
                            "shmem");

    g_assert_nonnull(strstr(out, "<shmem name='a'>\n      <model type='ivshmem'/>\n      <size unit='M'>4</size>\n"
                                 "      <address type='pci' domain='0x0000' bus='0x00'"));
    g_assert_nonnull(strstr(out, "<shmem name='b' role='peer'>\n      <model type='ivshmem-plain'/>\n"
                                 "      <size unit='M'>128</size>\n"));
    g_assert_nonnull(strstr(out, "<model type='ivshmem-doorbell'/>\n      <server path='/tmp/c-sock'/>\n"
                                 "      <msi vectors='16' ioeventfd='on'/>\n"));
    /* below a MiB, libvirt's unit would write 0: written exactly */
    g_assert_nonnull(strstr(out, "<size unit='K'>512</size>"));
    assert_refused(SHMEM("<shmem/>"), VIR_ERR_XML_ERROR, "shmem element must contain 'name' attribute");
    assert_refused(SHMEM("<shmem name='x'><msi/></shmem>"), VIR_ERR_XML_ERROR,
                   "msi option is only supported with a server");
    assert_refused(SHMEM("<shmem name='x'><model type='ivshmem-doorbell'/></shmem>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "shmem model 'ivshmem-doorbell' is supported only with server option enabled");
    assert_refused(SHMEM("<shmem name='x'><model type='ivshmem-plain'/><server/></shmem>"), VIR_ERR_CONFIG_UNSUPPORTED,
                   "shmem model 'ivshmem-plain' is supported only with server option disabled");
    assert_refused(SHMEM("<shmem name='x'><model type='ivshmem-doorbell'/><size>1048576</size><server/></shmem>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "shmem model 'ivshmem-doorbell' does not support size setting");
    assert_refused(SHMEM("<shmem name='x' role='boss'><model type='ivshmem-plain'/></shmem>"), VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'role' in element 'shmem': 'boss'.");
    assert_refused(SHMEM("<shmem name='x'><model type='ivshmem-fancy'/></shmem>"), VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'type' in element 'model': 'ivshmem-fancy'.");
}

#define FS(x) PC_DEVICES(x)

/* <filesystem>: virtio-9p shares (no driver, or driver 'path') in
 * libvirt's form, accessmode filled, modes in octal, PCI addresses
 * before the other devices'; virtio-fs keeps its own rules; the refusals
 * as libvirt words them. */
static void
test_filesystems(void)
{
    g_autofree char *out =
        roundtrip_addressed(FS("<filesystem><source dir='/srv/a'/><target dir='a'/></filesystem>"
                               "<filesystem accessmode='mapped' fmode='644' dmode='0750'><readonly/>"
                               "<target dir='b'/><source dir='/srv/b'/><driver type='path' wrpolicy='immediate'/>"
                               "</filesystem>"
                               "<filesystem type='mount' accessmode='squash' multidevs='remap'>"
                               "<source dir='/srv/c'/><target dir='c'/></filesystem>"
                               "<filesystem type='mount' multidevs='default'><driver type='default'/>"
                               "<source dir='/srv/d'/><target dir='d'/></filesystem>"
                               "<interface type='user'><mac address='52:54:00:00:00:01'/></interface>"),
                            "filesystems");

    g_assert_nonnull(strstr(out, "<filesystem type='mount' accessmode='passthrough'>\n"
                                 "      <source dir='/srv/a'/>\n      <target dir='a'/>\n"
                                 "      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>\n"
                                 "    </filesystem>\n"));
    g_assert_nonnull(strstr(out,
                            "<filesystem type='mount' accessmode='mapped' fmode='0644' dmode='0750'>\n"
                            "      <driver type='path' wrpolicy='immediate'/>\n"
                            "      <source dir='/srv/b'/>\n      <target dir='b'/>\n      <readonly/>\n"
                            "      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n"));
    g_assert_nonnull(strstr(out, "<filesystem type='mount' accessmode='squash' multidevs='remap'>\n"));
    /* 'default' values are no values, as in libvirt */
    g_assert_nonnull(strstr(out, "<filesystem type='mount' accessmode='passthrough'>\n      <source dir='/srv/d'/>"));
    /* the interface after the four shares */
    g_assert_nonnull(strstr(out, "<mac address='52:54:00:00:00:01'/>\n"
                                 "      <address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/>"));
    assert_refused(FS("<filesystem accessmode='mapped' fmode='1000'><source dir='/a'/><target dir='a'/></filesystem>"),
                   VIR_ERR_XML_ERROR, "invalid fmode: '01000'");
    assert_refused(FS("<filesystem fmode='0644'><source dir='/a'/><target dir='a'/></filesystem>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "fmode and dmode must be used with accessmode=mapped");
    assert_refused(FS("<filesystem accessmode='mapped' dmode='9'><source dir='/a'/><target dir='a'/></filesystem>"),
                   VIR_ERR_XML_ERROR, "Invalid value for attribute 'dmode' in element 'filesystem': '9'");
    assert_refused(FS("<filesystem accessmode='open'><source dir='/a'/><target dir='a'/></filesystem>"),
                   VIR_ERR_XML_ERROR, "Invalid value for attribute 'accessmode' in element 'filesystem': 'open'.");
    assert_refused(FS("<filesystem><driver type='handle'/><source dir='/a'/><target dir='a'/></filesystem>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "Filesystem driver type not supported");
    assert_refused(FS("<filesystem><driver type='path' wrpolicy='later'/><source dir='/a'/><target dir='a'/>"
                      "</filesystem>"),
                   VIR_ERR_XML_ERROR, "Invalid value for attribute 'wrpolicy' in element 'driver': 'later'.");
    assert_refused(FS("<filesystem accessmode='mapped'><driver type='virtiofs'/><source dir='/a'/><target dir='a'/>"
                      "</filesystem>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "virtiofs only supports passthrough accessmode");
    assert_refused(FS("<filesystem><driver type='virtiofs'/><source dir='/a'/><target dir='a'/><readonly/>"
                      "</filesystem>"),
                   VIR_ERR_CONFIG_UNSUPPORTED, "virtiofs does not yet support read-only mode");
    assert_refused(FS("<filesystem><target dir='a'/></filesystem>"), VIR_ERR_NO_SOURCE,
                   "missing source element for filesystem");
}

#define SYSINFO(uuid, x)                                                 \
    "<domain type='qemu'><name>t</name>" uuid "<memory>65536</memory>" x \
    "<os><type arch='x86_64' machine='pc'>hvm</type><smbios mode='sysinfo'/></os></domain>"

/* <sysinfo>: libvirt's entries in its order (unknown and empty ones left
 * out as libvirt's XPath reads leave them), the system uuid becoming the
 * domain's; fwcfg entries; the refusals */
static void
test_sysinfo(void)
{
    g_autofree char *out = roundtrip(SYSINFO(
        "", "<sysinfo type='smbios'><system><entry name='family'>F</entry><entry name='bogus'>x</entry>"
            "<entry name='uuid'>C7A5FDBD-EDAF-9455-926A-D65C16DB1809</entry><entry name='sku'></entry></system>"
            "<bios><entry name='release'>1.2</entry><entry name='vendor'>V&amp;W</entry></bios>"
            "<baseBoard><entry name='asset'>A</entry></baseBoard><baseBoard><entry name='serial'>S</entry></baseBoard>"
            "<oemStrings><entry>a,b</entry></oemStrings></sysinfo>"
            "<sysinfo type='fwcfg'><entry name='opt/x'>v</entry><entry name='opt/y' file='/f'/></sysinfo>"));

    g_assert_nonnull(strstr(out, "<uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>"));
    g_assert_nonnull(strstr(out, "  <sysinfo type='smbios'>\n    <bios>\n      <entry name='vendor'>V&amp;W</entry>\n"
                                 "      <entry name='release'>1.2</entry>\n    </bios>\n    <system>\n"
                                 "      <entry name='uuid'>c7a5fdbd-edaf-9455-926a-d65c16db1809</entry>\n"
                                 "      <entry name='family'>F</entry>\n    </system>\n    <baseBoard>\n"
                                 "      <entry name='asset'>A</entry>\n    </baseBoard>\n    <baseBoard>\n"
                                 "      <entry name='serial'>S</entry>\n    </baseBoard>\n    <oemStrings>\n"
                                 "      <entry>a,b</entry>\n    </oemStrings>\n  </sysinfo>\n"
                                 "  <sysinfo type='fwcfg'>\n    <entry name='opt/x'>v</entry>\n"
                                 "    <entry name='opt/y' file='/f'/>\n  </sysinfo>\n  <os>"));
    g_assert_nonnull(strstr(out, "<smbios mode='sysinfo'/>\n  </os>"));
    {
        g_autofree char *again = roundtrip(out);

        g_assert_cmpstr(again, ==, out);
    }
    assert_refused(SYSINFO("<uuid>c7a5fdbd-edaf-9455-926a-d65c16db1808</uuid>",
                           "<sysinfo type='smbios'><system><entry name='uuid'>c7a5fdbd-edaf-9455-926a-d65c16db1809"
                           "</entry></system></sysinfo>"),
                   VIR_ERR_XML_DETAIL, "UUID mismatch between <uuid> and <sysinfo>");
    assert_refused(SYSINFO("", "<sysinfo type='smbios'><system><entry name='uuid'>nope</entry></system></sysinfo>"),
                   VIR_ERR_XML_DETAIL, "malformed <sysinfo> uuid element");
    assert_refused(SYSINFO("", "<sysinfo type='smbios'><bios><entry name='date'>13/01/2020</entry></bios></sysinfo>"),
                   VIR_ERR_XML_DETAIL, "Invalid BIOS 'date' format");
    assert_refused(SYSINFO("", "<sysinfo type='fwcfg'><entry>v</entry></sysinfo>"), VIR_ERR_XML_ERROR,
                   "Firmware entry is missing 'name' attribute");
    assert_refused(SYSINFO("", "<sysinfo type='fwcfg'><entry name='opt/x'/></sysinfo>"), VIR_ERR_XML_ERROR,
                   "Firmware entry must have either value or 'file' attribute");
    assert_refused(SYSINFO("", "<sysinfo type='dmi'/>"), VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'type' in element 'sysinfo': 'dmi'.");
    assert_refused("<domain type='qemu'><name>t</name><memory>65536</memory><os><type>hvm</type>"
                   "<smbios mode='guess'/></os></domain>",
                   VIR_ERR_CONFIG_UNSUPPORTED, "unknown smbios mode 'guess'");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domelems/disk-driver/order", test_disk_driver_order);
    g_test_add_func("/domelems/filesystems", test_filesystems);
    g_test_add_func("/domelems/disk-driver/refusals", test_disk_driver_refusals);
    g_test_add_func("/domelems/disk-driver/error-policies", test_disk_error_policies);
    g_test_add_func("/domelems/disk/geometry-blockio", test_disk_geometry_blockio);
    g_test_add_func("/domelems/disk/geometry-refusals", test_disk_geometry_refusals);
    g_test_add_func("/domelems/os/firmware", test_os_firmware);
    g_test_add_func("/domelems/os/firmware-refusals", test_os_firmware_refusals);
    g_test_add_func("/domelems/memory/numa-and-backing", test_numa_and_backing);
    g_test_add_func("/domelems/memory/numa-refusals", test_numa_refusals);
    g_test_add_func("/domelems/iothreads", test_iothreads);
    g_test_add_func("/domelems/vcpu-cpuset", test_vcpu_cpuset);
    g_test_add_func("/domelems/qemu-commandline", test_qemu_commandline);
    g_test_add_func("/domelems/iommu", test_iommu);
    g_test_add_func("/domelems/features", test_features);
    g_test_add_func("/domelems/cpu-extras", test_cpu_extras);
    g_test_add_func("/domelems/clock-offsets", test_clock_offsets);
    g_test_add_func("/domelems/memory/hugepages", test_hugepages_pages);
    g_test_add_func("/domelems/features/refusals", test_features_refusals);
    g_test_add_func("/domelems/virtio-driver-order", test_virtio_driver_order);
    g_test_add_func("/domelems/virtio-driver-refusals", test_virtio_driver_refusals);
    g_test_add_func("/domelems/shmem", test_shmem);
    g_test_add_func("/domelems/sysinfo", test_sysinfo);
    g_test_add_func("/domelems/nested-refusals", test_nested_refusals);
    return g_test_run();
}
