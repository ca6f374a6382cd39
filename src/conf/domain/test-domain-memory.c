/*
 * Memory hotplug (<maxMemory>, <devices><memory>), <numatune><memnode>,
 * NUMA cells without an id or with discard=, and <idmap>: read, checked
 * and written back as libvirt 9.0 does, each refusal with libvirt's text.
 */
#include "test-domain-devices.h"

#define DOM(head, numa, devices)                                                                            \
    "<domain type='qemu'><name>t</name>" head "<memory unit='MiB'>512</memory><vcpu>2</vcpu>"               \
    "<os><type arch='x86_64' machine='pc'>hvm</type></os><cpu><numa>" numa "</numa></cpu><devices>" devices \
    "</devices></domain>"
#define CELLS "<cell id='0' cpus='0' memory='256' unit='MiB'/><cell id='1' cpus='1' memory='256' unit='MiB'/>"
#define MAXMEM "<maxMemory slots='4' unit='GiB'>8</maxMemory>"
#define DIMM(extra) "<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target>" extra "</memory>"

/* Refused by the parser itself (test-domain-devices.h's assert_refused
 * also takes a refusal of the define's checks after it). */
static void
assert_parse_refused(const char *xml, int code, const char *message)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &error);

    g_assert_null(def);
    g_assert_nonnull(error);
    if (error->code != code || !strstr(error->message, message))
        g_error("error '%s' lacks '%s'", error->message, message);
}

static void
test_memory_devices(void)
{
    g_autofree char *xml = roundtrip(DOM(MAXMEM, CELLS,
                                         DIMM("") "<memory model='dimm'><source><nodemask>0</nodemask>"
                                                  "<pagesize unit='KiB'>2048</pagesize></source><target>"
                                                  "<size unit='MiB'>128</size><node>1</node></target>"
                                                  "<address type='dimm' slot='0' base='0x140000000'/></memory>"
                                                  "<memory model='virtio-mem'><target><size unit='GiB'>1</size>"
                                                  "<node>0</node><block unit='MiB'>2</block><requested "
                                                  "unit='MiB'>512</requested></target></memory>"));

    /* the initial memory (the cells) and the devices' together */
    g_assert_nonnull(strstr(xml, "<maxMemory slots='4' unit='KiB'>8388608</maxMemory>\n"
                                 "  <memory unit='KiB'>1835008</memory>"));
    /* the dimm without an address takes the first slot left free */
    g_assert_nonnull(strstr(xml, "<memory model='dimm'>\n      <target>\n        <size unit='KiB'>131072</size>\n"
                                 "        <node>0</node>\n      </target>\n      <address type='dimm' slot='1'/>"));
    g_assert_nonnull(strstr(xml, "<source>\n        <nodemask>0</nodemask>\n"
                                 "        <pagesize unit='KiB'>2048</pagesize>\n      </source>"));
    g_assert_nonnull(strstr(xml, "<address type='dimm' slot='0' base='0x140000000'/>"));
    g_assert_nonnull(strstr(xml, "<block unit='KiB'>2048</block>\n        <requested unit='KiB'>524288</requested>\n"
                                 "      </target>\n      <address type='pci' domain='0x0000' bus='0x00'"));
}

/* <memory dumpCore> and <memoryBacking><source type='file'/> with its
 * access, allocation and discard, written back as libvirt writes them */
static void
test_memory_backing_file(void)
{
    g_autofree char *xml = roundtrip("<domain type='qemu'><name>t</name><memory dumpCore='off' unit='MiB'>512</memory>"
                                     "<memoryBacking><source type='file'/><access mode='shared'/>"
                                     "<allocation mode='immediate'/><discard/></memoryBacking>"
                                     "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>");

    g_assert_nonnull(strstr(xml, "<memory dumpCore='off' unit='KiB'>524288</memory>"));
    g_assert_nonnull(strstr(xml, "<memoryBacking>\n    <source type='file'/>\n    <access mode='shared'/>\n"
                                 "    <allocation mode='immediate'/>\n    <discard/>\n  </memoryBacking>"));
    assert_parse_refused("<domain type='qemu'><name>t</name><memory dumpCore='maybe'>512</memory><os><type>hvm</type>"
                         "</os></domain>",
                         VIR_ERR_XML_ERROR, "Invalid value for attribute 'dumpCore' in element 'memory': 'maybe'.");
    assert_parse_refused("<domain type='qemu'><name>t</name><memory>512</memory><memoryBacking><source type='disk'/>"
                         "</memoryBacking><os><type>hvm</type></os></domain>",
                         VIR_ERR_XML_ERROR, "Invalid value for attribute 'type' in element 'source': 'disk'.");
}

static void
test_memory_refusals(void)
{
    assert_parse_refused(DOM("", CELLS, DIMM("")), VIR_ERR_CONFIG_UNSUPPORTED,
                         "cannot use/hotplug a memory device when domain 'maxMemory' is not defined");
    assert_parse_refused(DOM("<maxMemory unit='GiB'>8</maxMemory>", CELLS, ""), VIR_ERR_XML_ERROR,
                         "both maximum memory size and memory slot count must be specified");
    assert_parse_refused(DOM("<maxMemory slots='1' unit='MiB'>600</maxMemory>", CELLS, DIMM("")), VIR_ERR_XML_ERROR,
                         "maximum memory size must be equal or greater than the actual memory size");
    assert_parse_refused(DOM("<maxMemory slots='1' unit='GiB'>8</maxMemory>", CELLS, DIMM("") DIMM("")),
                         VIR_ERR_CONFIG_UNSUPPORTED, "memory device count '2' exceeds slots count '1'");
    assert_parse_refused(DOM(MAXMEM, CELLS, DIMM("<address type='dimm' slot='4'/>")), VIR_ERR_CONFIG_UNSUPPORTED,
                         "memory device slot '4' exceeds slots count '4'");
    assert_parse_refused(
        DOM(MAXMEM, CELLS, "<memory model='dimm'><target><size unit='MiB'>128</size></target></memory>"),
        VIR_ERR_CONFIG_UNSUPPORTED, "target NUMA node needs to be specified for memory device");
    assert_parse_refused(DOM(MAXMEM, CELLS,
                             "<memory model='nvdimm'><target><size unit='MiB'>128</size><node>0</node>"
                             "</target></memory>"),
                         VIR_ERR_XML_DETAIL, "path is required for model 'nvdimm'");
    assert_parse_refused(DOM(MAXMEM, CELLS, "<memory model='dimm'/>"), VIR_ERR_XML_ERROR,
                         "missing <target> element for <memory> device");
    assert_parse_refused(DOM(MAXMEM, CELLS,
                             "<memory model='nvdimm'><source><path>/p</path></source><target><size unit='MiB'>1</size>"
                             "<node>0</node><label><size unit='KiB'>64</size></label></target></memory>"),
                         VIR_ERR_XML_ERROR, "nvdimm label must be at least 128KiB");
    assert_parse_refused(
        "<domain type='qemu'><name>t</name>" MAXMEM "<memory unit='MiB'>512</memory><os><type>hvm</type>"
        "</os><devices>" DIMM("") "</devices></domain>",
        VIR_ERR_CONFIG_UNSUPPORTED, "At least one numa node has to be configured when enabling memory hotplug");
}

static void
test_memnode(void)
{
    g_autofree char *xml =
        roundtrip(DOM("<numatune><memnode cellid='1' mode='preferred' nodeset='0'/><memory mode='strict' "
                      "nodeset='0'/><memnode cellid='0' nodeset='0,^1'/></numatune>",
                      CELLS, ""));

    g_assert_nonnull(strstr(xml, "<numatune>\n    <memory mode='strict' nodeset='0'/>\n"
                                 "    <memnode cellid='0' mode='strict' nodeset='0'/>\n"
                                 "    <memnode cellid='1' mode='preferred' nodeset='0'/>\n  </numatune>"));
    assert_parse_refused(DOM("<numatune><memnode cellid='2' nodeset='0'/></numatune>", CELLS, ""), VIR_ERR_XML_ERROR,
                         "Invalid attribute cellid '2' in memnode element");
    assert_parse_refused(
        DOM("<numatune><memnode cellid='0' nodeset='0'/><memnode cellid='0' nodeset='0'/></numatune>", CELLS, ""),
        VIR_ERR_XML_ERROR, "Multiple memnode elements with cellid 0");
    assert_parse_refused(DOM("<numatune><memory mode='restrictive' nodeset='0'/><memnode cellid='0' nodeset='0'/>"
                             "</numatune>",
                             CELLS, ""),
                         VIR_ERR_XML_ERROR, "'restrictive' mode is required in memnode element");
}

static void
test_cells_and_idmap(void)
{
    g_autofree char *xml = roundtrip(DOM("",
                                         "<cell cpus='0' memory='256' unit='MiB' discard='yes'/>"
                                         "<cell cpus='1' memory='256' unit='MiB'/>",
                                         ""));
    g_autofree char *idmap =
        roundtrip("<domain type='qemu'><name>t</name><memory>65536</memory><os><type>hvm</type></os>"
                  "<idmap><gid start='0' target='1000' count='10'/><uid start='5' target='2' count='1'/>"
                  "<uid start='0' target='1000' count='5'/></idmap></domain>");

    g_autofree char *alloc =
        roundtrip("<domain type='qemu'><name>t</name><memory>65536</memory><memoryBacking><allocation "
                  "threads='8' mode='immediate'/></memoryBacking><os><type>hvm</type></os></domain>");

    g_assert_nonnull(strstr(alloc, "<allocation mode='immediate' threads='8'/>"));
    /* a cell without an id is the cell of its position */
    g_assert_nonnull(strstr(xml, "<cell id='0' cpus='0' memory='262144' unit='KiB' discard='yes'/>\n"
                                 "      <cell id='1' cpus='1' memory='262144' unit='KiB'/>"));
    g_assert_nonnull(strstr(idmap, "</os>\n  <idmap>\n    <uid start='0' target='1000' count='5'/>\n"
                                   "    <uid start='5' target='2' count='1'/>\n"
                                   "    <gid start='0' target='1000' count='10'/>\n  </idmap>"));
}

/* libvirt's pairing of <vcpu placement='auto'> and <numatune> placement */
static void
test_placement_auto(void)
{
    g_autofree char *vcpu = roundtrip("<domain type='qemu'><name>t</name><memory>65536</memory>"
                                      "<vcpu placement='auto'>2</vcpu><os><type>hvm</type></os></domain>");
    g_autofree char *mem = roundtrip("<domain type='qemu'><name>t</name><memory>65536</memory>"
                                     "<vcpu placement='static'>2</vcpu><numatune><memory mode='interleave' "
                                     "placement='auto'/></numatune><os><type>hvm</type></os></domain>");

    g_assert_nonnull(strstr(vcpu, "<vcpu placement='auto'>2</vcpu>\n  <numatune>\n"
                                  "    <memory mode='strict' placement='auto'/>\n  </numatune>"));
    g_assert_nonnull(strstr(mem, "<vcpu placement='auto'>2</vcpu>\n  <numatune>\n"
                                 "    <memory mode='interleave' placement='auto'/>\n  </numatune>"));
    assert_parse_refused("<domain type='qemu'><name>t</name><memory>65536</memory><numatune><memory mode='strict'/>"
                         "</numatune><os><type>hvm</type></os></domain>",
                         VIR_ERR_XML_ERROR, "nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain/memory/devices", test_memory_devices);
    g_test_add_func("/domain/memory/refusals", test_memory_refusals);
    g_test_add_func("/domain/memory/backing-file", test_memory_backing_file);
    g_test_add_func("/domain/memory/memnode", test_memnode);
    g_test_add_func("/domain/memory/cells-idmap", test_cells_and_idmap);
    g_test_add_func("/domain/memory/placement-auto", test_placement_auto);
    return g_test_run();
}
