/*
 * Command-line generation against golden files: each testdata/NAME.xml is
 * parsed, given addresses, turned into argv and compared line by line with
 * testdata/NAME.args (VRT_TEST_REGENERATE=1 rewrites the golden files).
 * Also: what cannot run is refused by name, and the accelerator follows the
 * domain type; the machine-type probe parser reads QEMU's help output.
 */
#include "drivers/qemu/qemu_capabilities.h"
#include "drivers/qemu/qemu_command.h"
#include "drivers/qemu/qemu_disk_iotune.h"
#include "util/error.h"

#include <glib/gstdio.h>
#include <string.h>

/* A start refused: no argv, err of code, its message naming part. */
#define assert_refused(argv, err, code, part)           \
    do {                                                \
        g_assert_null(argv);                            \
        g_assert_error(err, VRT_ERROR, code);           \
        g_assert_nonnull(strstr((err)->message, part)); \
    } while (0)

static char *
data_path(const char *name, const char *ext)
{
    g_autofree char *file = g_strdup_printf("%s.%s", name, ext);

    return g_build_filename(VRT_QEMU_TESTDATA, file, NULL);
}

/* The command line of a domain's XML as vrtd builds it: parsed, given
 * addresses, and with the machine type of its chipset unless opts names one. */
static GStrv
build_xml(const char *xml, VrtQemuCommandOptions *opts, GError **error)
{
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, error);

    if (!def || !vrt_domain_def_assign_addresses(def, error))
        return NULL;
    if (!opts->machine)
        opts->machine = vrt_domain_def_is_q35(def) ? "pc-q35-7.2" : "pc-i440fx-7.2";
    return vrt_qemu_command_build(def, opts, error);
}

/* The command line of testdata/NAME.xml, its monitor named after it. */
static GStrv
build_file(const char *name, VrtQemuCommandOptions *opts, GError **error)
{
    g_autofree char *path = data_path(name, "xml");
    g_autofree char *xml = NULL;

    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    return build_xml(xml, opts, error);
}

/* A QEMU module directory with the audio backends pulseaudio and jack
 * (made in main), so that the golden files do not depend on the host's. */
static char *module_dir;

static GStrv
build_for(const char *name, GError **error)
{
    g_autofree char *monitor = g_strdup_printf("/run/vrt/qemu/%s.monitor", name);
    g_autofree char *ram = g_strdup_printf("/run/vrt/qemu/%s/ram", name);
    /* a scsi_host hostdev's /dev/vhost-scsi as the daemon passes it */
    g_autoptr(GHashTable) vhost_scsi = g_hash_table_new(g_str_hash, g_str_equal);
    /* the SCSI generic node of a scsi hostdev's LUN, as the daemon finds it */
    g_autoptr(GHashTable) sg = g_hash_table_new(g_str_hash, g_str_equal);
    /* the files of iSCSI hostdevs' <auth> secrets, as the daemon writes them */
    g_autoptr(GHashTable) secrets = g_hash_table_new(g_str_hash, g_str_equal);
    VrtQemuCommandOptions opts = {
        .emulator = "/usr/bin/qemu-system-x86_64",
        .monitor_path = monitor,
        .pidfile = NULL,
        .module_dir = module_dir,
        .memory_dir = ram,
        .vhost_scsi_fds = vhost_scsi,
        .scsi_sg_paths = sg,
        .disk_secrets = secrets,
    };

    g_hash_table_insert(vhost_scsi, "hostdev0", "3");
    g_hash_table_insert(sg, "hostdev0", "/dev/sg0");
    g_hash_table_insert(sg, "hostdev1", "/dev/sg1");
    g_hash_table_insert(sg, "hostdev2", "/dev/sg2");
    g_hash_table_insert(secrets, "hostdev-hostdev2-auth", "/run/vrt/qemu/1-d/hostdev-hostdev2-auth.secret");
    g_hash_table_insert(secrets, "hostdev-hostdev3-auth", "/run/vrt/qemu/1-d/hostdev-hostdev3-auth.secret");
    g_hash_table_insert(secrets, "hostdev-hostdev4-auth", "/run/vrt/qemu/1-d/hostdev-hostdev4-auth.secret");
    g_hash_table_insert(secrets, "hostdev-hostdev5-auth", "/run/vrt/qemu/1-d/hostdev-hostdev5-auth.secret");

    return build_file(name, &opts, error);
}

/* With a descriptor QEMU inherits its QMP socket, bound by the daemon. */
static void
test_monitor_fd(void)
{
    g_autoptr(GError) err = NULL;
    VrtQemuCommandOptions opts = {
        .emulator = "/usr/bin/qemu-system-x86_64",
        .machine = "pc-i440fx-7.2",
        .monitor_path = "/run/vrt/qemu/m.monitor",
        .monitor_fd = 3,
    };
    g_auto(GStrv) argv = build_file("pc-minimal", &opts, &err);

    g_assert_no_error(err);
    g_assert_true(g_strv_contains((const char *const *)argv, "socket,id=charmonitor,fd=3,server=on,wait=off"));
    for (guint i = 0; argv[i]; i++)
        g_assert_null(strstr(argv[i], "m.monitor"));
}

static void
test_golden(gconstpointer data)
{
    const char *name = data;
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = build_for(name, &err);
    g_autofree char *joined = NULL;
    g_autofree char *got = NULL;
    g_autofree char *want = NULL;
    g_autofree char *golden = data_path(name, "args");

    g_assert_no_error(err);
    joined = g_strjoinv("\n", argv);
    got = g_strconcat(joined, "\n", NULL);
    if (g_getenv("VRT_TEST_REGENERATE")) {
        g_assert_true(g_file_set_contents(golden, got, -1, NULL));
        return;
    }
    g_assert_true(g_file_get_contents(golden, &want, NULL, NULL));
    g_assert_cmpstr(got, ==, want);
}

static bool
argv_has(GStrv argv, const char *a, const char *b)
{
    for (guint i = 0; argv[i] && argv[i + 1]; i++)
        if (g_str_equal(argv[i], a) && strstr(argv[i + 1], b))
            return true;
    return false;
}

/* The -device argument holding needle, NULL when none */
static const char *
device_arg(GStrv argv, const char *needle)
{
    for (guint i = 0; argv[i] && argv[i + 1]; i++)
        if (g_str_equal(argv[i], "-device") && strstr(argv[i + 1], needle))
            return argv[i + 1];
    return NULL;
}

/* A teaming pair whose transient half is a plain <hostdev>: the virtio
 * interface gets failover=on, the hostdev's vfio-pci failover_pair_id=
 * its partner's alias (libvirt's net-virtio-teaming-hostdev); a hostdev
 * without <teaming> gets neither. */
static void
test_hostdev_teaming(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = build_for("hostdev-teaming", &err);
    const char *a;

    g_assert_no_error(err);
    for (guint i = 0; i < 2; i++) {
        g_autofree char *id = g_strdup_printf("\"id\":\"ua-backup%u\"", i);
        g_autofree char *host = g_strdup_printf("\"host\":\"0000:06:10.%u\"", i + 1);
        g_autofree char *pair = g_strdup_printf("\"failover_pair_id\":\"ua-backup%u\"", i);

        a = device_arg(argv, id);
        g_assert_nonnull(a);
        g_assert_nonnull(strstr(a, "\"driver\":\"virtio-net-pci\""));
        g_assert_nonnull(strstr(a, "\"failover\":true"));
        a = device_arg(argv, host);
        g_assert_nonnull(a);
        g_assert_nonnull(strstr(a, "\"driver\":\"vfio-pci\""));
        g_assert_nonnull(strstr(a, pair));
    }
    a = device_arg(argv, "\"host\":\"0000:06:10.3\"");
    g_assert_nonnull(a);
    g_assert_null(strstr(a, "failover"));
}

static void
test_properties(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) full = build_for("q35-full", &err);
    g_auto(GStrv) minimal = NULL;

    g_assert_no_error(err);
    /* What a user checks on a running VM's command line. */
    g_assert_true(argv_has(full, "-accel", "kvm"));
    g_assert_true(argv_has(full, "-name", "guest=full"));
    g_assert_true(argv_has(full, "-uuid", "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"));
    g_assert_true(argv_has(full, "-m", "size=524288k"));
    g_assert_true(argv_has(full, "-smp", "2,maxcpus=4,sockets=1,dies=1,cores=2,threads=2"));
    g_assert_true(argv_has(full, "-cpu", "host"));
    g_assert_true(argv_has(full, "-device", "\"id\":\"net0\""));
    g_assert_true(argv_has(full, "-netdev", "\"id\":\"hostnet0\""));
    g_assert_true(argv_has(full, "-device", "\"id\":\"virtio-disk0\""));
    g_assert_true(argv_has(full, "-chardev", "server=on,wait=off"));
    g_assert_true(argv_has(full, "-mon", "mode=control"));
    g_assert_true(g_strv_contains((const char *const *)full, "-S"));
    g_assert_true(g_strv_contains((const char *const *)full, "-nodefaults"));
    g_assert_true(g_strv_contains((const char *const *)full, "-no-user-config"));

    minimal = build_for("pc-minimal", &err);
    g_assert_no_error(err);
    g_assert_true(argv_has(minimal, "-accel", "tcg"));
    g_assert_true(argv_has(minimal, "-machine", "pc-i440fx-7.2"));
    g_assert_true(argv_has(minimal, "-machine", "acpi=off"));
    g_assert_true(argv_has(minimal, "-display", "none"));
    g_assert_true(g_strv_contains((const char *const *)minimal, "-no-reboot"));
}

/* A comma in a user's string is doubled in key=value options (QEMU's
 * escape), so it neither ends the value nor adds an option; JSON options
 * (-blockdev, -device) carry it as it is. */
static void
test_commas_escaped(void)
{
    static const char xml[] =
        "<domain type='qemu'><name>a,comma,,vm</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
        "<disk type='file' device='disk'><source file='/var/img,s/d,1.img'/><target dev='vda' bus='virtio'/>"
        "<serial>s,n</serial></disk>"
        "<serial type='file'><source path='/tmp/con,sole.log'/><target port='0'/></serial>"
        "<channel type='unix'><source mode='bind' path='/tmp/ch,an.sock'/>"
        "<target type='virtio' name='org.test.0'/></channel>"
        "<controller type='virtio-serial' index='0'/>"
        "<graphics type='vnc' port='5901' listen='host,name'/>"
        "</devices></domain>";
    g_autoptr(GError) err = NULL;
    g_autofree char *plain = vrt_qemu_command_escape("no commas");
    VrtQemuCommandOptions opts = {
        .emulator = "/usr/bin/qemu-system-x86_64",
        .machine = "pc-i440fx-7.2",
        .monitor_path = "/run/vrt,x/qemu/domain-1-a,comma,,vm/monitor.sock",
    };
    g_auto(GStrv) argv = build_xml(xml, &opts, &err);

    g_assert_no_error(err);
    g_assert_cmpstr(plain, ==, "no commas");
    g_assert_true(argv_has(argv, "-name", "guest=a,,comma,,,,vm,debug-threads=on"));
    g_assert_true(argv_has(argv, "-chardev", "path=/run/vrt,,x/qemu/domain-1-a,,comma,,,,vm/monitor.sock,server=on"));
    g_assert_true(argv_has(argv, "-chardev", "file,id=charserial0,path=/tmp/con,,sole.log"));
    g_assert_true(argv_has(argv, "-chardev", "path=/tmp/ch,,an.sock,server=on"));
    g_assert_true(argv_has(argv, "-vnc", "host,,name:1"));
    g_assert_true(argv_has(argv, "-blockdev", "\"filename\":\"/var/img,s/d,1.img\""));
    g_assert_true(argv_has(argv, "-device", "\"serial\":\"s,n\""));
}

/* VNC's websocket, sharePolicy, powerControl and <audio id> reach -vnc
 * in libvirt 9.0's order; what vrtd does not start is refused by name. */
static void
test_vnc_options(void)
{
    static const char xml[] = "<domain type='qemu'><name>v</name><memory unit='MiB'>64</memory>"
                              "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
                              "<graphics type='vnc' port='5900' autoport='no' websocket='5700' listen='127.0.0.1' "
                              "sharePolicy='allow-exclusive' powerControl='yes'><audio id='2'/></graphics>"
                              "<audio id='1' type='none'/><audio id='2' type='none'/>"
                              "</devices></domain>";
    static const char *const refused[][2] = {
        { "<graphics type='vnc' socket='/tmp/v.sock'/>", "graphics listen type 'socket'" },
        { "<graphics type='vnc'><listen type='network' network='default'/></graphics>",
          "graphics listen type 'network' (network 'default')" },
        { "<graphics type='vnc' websocket='-1'/>", "VNC websocket='-1'" },
        { "<serial type='vc'/>", "character device type 'vc'" },
        { "<serial type='file'><source path='/tmp/a'/><log file='/tmp/b'/></serial>", "<log file='/tmp/b'>" },
        { "<channel type='qemu-vdagent'><target type='virtio'/></channel>", "character device type 'qemu-vdagent'" },
        { "<channel type='pipe'><source path='/tmp/p'/><target type='guestfwd' address='10.0.2.1' port='1'/>"
          "</channel>",
          "channel target type 'guestfwd'" },
        { "<input type='evdev'><source dev='/dev/input/event1'/></input>", "input type 'evdev'" },
        { "<input type='passthrough'><source evdev='/dev/input/event1'/></input>", "input type 'passthrough'" },
    };
    g_autoptr(GError) err = NULL;
    VrtQemuCommandOptions opts = {
        .emulator = "/usr/bin/qemu-system-x86_64",
        .machine = "pc-i440fx-7.2",
        .monitor_path = "/run/vrt/qemu/domain-1-v/monitor.sock",
    };
    g_auto(GStrv) argv = build_xml(xml, &opts, &err);

    g_assert_no_error(err);
    g_assert_true(
        argv_has(argv, "-vnc", "127.0.0.1:0,websocket=5700,share=allow-exclusive,power-control=on,audiodev=audio2"));
    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_autoptr(GError) e = NULL;
        g_autofree char *x = g_strdup_printf("<domain type='qemu'><name>v</name><memory unit='MiB'>64</memory>"
                                             "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>%s"
                                             "</devices></domain>",
                                             refused[i][0]);
        g_auto(GStrv) r = build_xml(x, &opts, &e);

        g_assert_null(r);
        g_assert_error(e, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
        if (!strstr(e->message, refused[i][1]))
            g_error("'%s' refused with '%s'", refused[i][0], e->message);
    }
}

static void
test_spice_refused(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = build_for("q35-unsupported-spice", &err);

    assert_refused(argv, err, VIR_ERR_CONFIG_UNSUPPORTED, "spice");
}

/* An interface whose <virtualport> vrt does not set up is refused by
 * name, not started as a plain bridge port. */
/* vrt runs no interface script: an ethernet interface with one is
 * refused by name at start, not started without it */
static void
test_ethernet_script_refused(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = build_for("net-ethernet-script-refused", &err);

    assert_refused(argv, err, VIR_ERR_CONFIG_UNSUPPORTED, "<script> is not supported");
}

static void
test_virtualport_refused(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = build_for("net-virtualport-refused", &err);

    assert_refused(argv, err, VIR_ERR_CONFIG_UNSUPPORTED, "<virtualport type='openvswitch'>");
}

/* A scsi_host hostdev without the host's /dev/vhost-scsi (no descriptor
 * from the daemon) is refused with libvirt's error. */
static void
test_vhost_scsi_missing(void)
{
    g_autoptr(GError) err = NULL;
    VrtQemuCommandOptions opts = {
        .emulator = "/usr/bin/qemu-system-x86_64",
        .monitor_path = "/run/vrt/qemu/v.monitor",
    };
    g_auto(GStrv) argv = build_file("hostdev-scsi-vhost-scsi-pci", &opts, &err);

    g_assert_null(argv);
    g_assert_error(err, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
    g_assert_cmpstr(err->message, ==,
                    "unsupported configuration: vhost-scsi device file '/dev/vhost-scsi' cannot be found");
}

/* USB devices from outside the guest, which vrt does not give QEMU, are
 * refused at start naming the device, not dropped; so
 * are a smartcard on SPICE (vrt runs no SPICE) and a second smartcard
 * (QEMU's usb-ccid takes one card where libvirt places it, libvirt's
 * refusal). */
static void
test_usbdev_refused(void)
{
    static const struct {
        const char *file;
        const char *want;
    } cases[] = {
        { "usb-hostdev-refused", "USB host device 'hostdev0' (bus 14 device 6) is not supported" },
        { "redirdev-refused", "redirected USB device 'redir0' (type 'tcp') is not supported" },
        { "smartcard-passthrough-spicevmc", "character device type 'spicevmc' is not supported" },
        { "smartcard-two", "this QEMU binary lacks multiple smartcard support" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_auto(GStrv) argv = build_for(cases[i].file, &err);

        g_assert_null(argv);
        g_assert_error(err, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
        if (!strstr(err->message, cases[i].want))
            g_error("%s: '%s' lacks '%s'", cases[i].file, err->message, cases[i].want);
    }
}

/* QEMU's usb-storage does not start without a drive: an empty USB cdrom
 * is refused by name at start, not passed to fail in QEMU. */
static void
test_usb_cdrom_empty_refused(void)
{
    const char *xml = "<domain type='qemu'><name>u</name><memory>65536</memory><vcpu>1</vcpu>"
                      "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
                      "<disk type='file' device='cdrom'><target dev='sda' bus='usb'/></disk>"
                      "<controller type='usb' index='0' model='qemu-xhci'/></devices></domain>";
    VrtQemuCommandOptions opts = { .emulator = "/usr/bin/qemu-system-x86_64", .monitor_path = "/run/m" };
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = build_xml(xml, &opts, &err);

    assert_refused(argv, err, VIR_ERR_CONFIG_UNSUPPORTED, "USB disk 'sda' has no source");
}

/* A disk on bus sd is accepted as libvirt accepts it, but QEMU's x86
 * machines have no SD slot: the start is refused by name. */
static void
test_sd_disk_refused(void)
{
    const char *xml = "<domain type='qemu'><name>sd</name><memory>65536</memory><vcpu>1</vcpu>"
                      "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
                      "<disk type='file' device='disk'><source file='/some/file'/><target dev='sda' bus='sd'/></disk>"
                      "</devices></domain>";
    VrtQemuCommandOptions opts = { .emulator = "/usr/bin/qemu-system-x86_64", .monitor_path = "/run/m" };
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = build_xml(xml, &opts, &err);

    assert_refused(argv, err, VIR_ERR_CONFIG_UNSUPPORTED, "disk 'sda': bus 'sd' is not supported");
}

/* <iotune> becomes block_set_io_throttle's arguments on the disk's QOM
 * name, as libvirt sends them: the six rates, bursts and I/O size always,
 * the group and burst lengths when set. */
static void
test_iotune_args(void)
{
    const char *xml = "<domain type='qemu'><name>io</name><memory>65536</memory><vcpu>1</vcpu>"
                      "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
                      "<disk type='file' device='disk'><source file='/i.img'/><target dev='vda' bus='virtio'/>"
                      "<iotune><total_bytes_sec>5000</total_bytes_sec><total_bytes_sec_max>6000</total_bytes_sec_max>"
                      "<group_name>g1</group_name><total_bytes_sec_max_length>3</total_bytes_sec_max_length>"
                      "</iotune></disk></devices></domain>";
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &err);
    g_autoptr(JsonObject) args = NULL;
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    g_autofree char *text = NULL;

    g_assert_no_error(err);
    g_assert_true(vrt_domain_def_assign_addresses(def, &err));
    args = vrt_qemu_disk_iotune_args(g_ptr_array_index(def->disks, 0));
    json_node_set_object(node, args);
    text = json_to_string(node, FALSE);
    g_assert_cmpstr(text, ==,
                    "{\"id\":\"/machine/peripheral/virtio-disk0/virtio-backend\",\"bps\":5000,\"bps_rd\":0,"
                    "\"bps_wr\":0,\"iops\":0,\"iops_rd\":0,\"iops_wr\":0,\"bps_max\":6000,\"bps_rd_max\":0,"
                    "\"bps_wr_max\":0,\"iops_max\":0,\"iops_rd_max\":0,\"iops_wr_max\":0,\"iops_size\":0,"
                    "\"group\":\"g1\",\"bps_max_length\":3}");
}

/* What QEMU or vrt cannot do is refused at start, not dropped: numad's
 * placement, and a DIMM on a machine without ACPI. */
static void
test_memory_refused(void)
{
    static const char *const xmls[] = {
        "<domain type='qemu'><name>t</name><memory>65536</memory><vcpu placement='auto'>1</vcpu>"
        "<os><type>hvm</type></os></domain>",
        "<domain type='qemu'><name>t</name><maxMemory slots='2' unit='GiB'>1</maxMemory><memory>65536</memory>"
        "<os><type>hvm</type></os><cpu><numa><cell id='0' cpus='0' memory='65536'/></numa></cpu><devices>"
        "<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory>"
        "</devices></domain>",
    };
    static const char *const words[] = { "numad", "ACPI" };

    for (guint i = 0; i < G_N_ELEMENTS(xmls); i++) {
        g_autoptr(GError) err = NULL;
        VrtQemuCommandOptions opts = { .emulator = "/usr/bin/qemu-system-x86_64", .monitor_path = "/run/m" };
        g_auto(GStrv) argv = build_xml(xmls[i], &opts, &err);

        g_assert_null(argv);
        g_assert_error(err, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
        g_assert_nonnull(strstr(err->message, words[i]));
    }
}

/* An audio backend whose QEMU module is not installed is refused at start
 * by name, not left to QEMU. */
static void
test_audio_module_missing(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *empty = g_dir_make_tmp("vrt-qemu-modules-XXXXXX", NULL);
    VrtQemuCommandOptions opts = {
        .emulator = "/usr/bin/qemu-system-x86_64",
        .monitor_path = "/run/vrt/qemu/m.monitor",
        .module_dir = empty,
    };
    g_auto(GStrv) argv = build_file("sound-panic", &opts, &err);

    assert_refused(argv, err, VIR_ERR_CONFIG_UNSUPPORTED, "audio type 'pulseaudio'");
    g_rmdir(empty);
}

/* <vsock>: vhost-vsock-pci with its CID on the PCI slot assigned (as
 * libvirt's vhost-vsock test), refused by name without the host's vhost
 * device or without a CID. */
static void
test_vsock(void)
{
    static const char xml[] = "<domain type='qemu'><name>v</name><memory>65536</memory>"
                              "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                              "<devices><vsock model='virtio'><cid auto='no' address='4'/>"
                              "<address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/>"
                              "</vsock></devices></domain>";
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &err);
    g_autofree char *dir = g_dir_make_tmp("vrt-vsock-XXXXXX", NULL);
    g_autofree char *node = g_build_filename(dir, "vhost-vsock", NULL);
    g_autofree char *missing = g_build_filename(dir, "none", NULL);
    g_autoptr(JsonObject) dev = NULL;
    g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
    g_autofree char *got = NULL;

    g_assert_no_error(err);
    g_assert_true(vrt_domain_def_assign_addresses(def, &err));
    g_assert_true(g_file_set_contents(node, "", 0, NULL));
    dev = vrt_qemu_command_vsock_device(def, node, &err);
    g_assert_no_error(err);
    json_node_set_object(root, dev);
    got = json_to_string(root, FALSE);
    g_assert_cmpstr(got, ==,
                    "{\"driver\":\"vhost-vsock-pci\",\"id\":\"vsock0\",\"guest-cid\":4,"
                    "\"bus\":\"pci.0\",\"addr\":\"0x7\"}");

    g_assert_null(vrt_qemu_command_vsock_device(def, missing, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
    g_assert_nonnull(strstr(err->message, "vsock is not supported on this host"));
    g_clear_error(&err);

    def->vsock->auto_cid = VRT_TRISTATE_YES;
    g_assert_null(vrt_qemu_command_vsock_device(def, node, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
    g_assert_nonnull(strstr(err->message, "automatic CID"));
    g_unlink(node);
    g_rmdir(dir);
}

/* QEMU 7.2 has no PC speaker device libvirt 9.0 can give a backend: refused
 * at start by name. */
static void
test_pcspk_refused(void)
{
    static const char xml[] = "<domain type='qemu'><name>s</name><memory>65536</memory>"
                              "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                              "<devices><sound model='pcspk'/></devices></domain>";
    g_autoptr(GError) err = NULL;
    VrtQemuCommandOptions opts = {
        .emulator = "/usr/bin/qemu-system-x86_64",
        .monitor_path = "/run/vrt/qemu/m.monitor",
    };
    g_auto(GStrv) argv = build_xml(xml, &opts, &err);

    assert_refused(argv, err, VIR_ERR_CONFIG_UNSUPPORTED, "'pcspk'");
}

/* <shmem> is kept in the definition but refused at start by name, and a
 * file memory source without a memory directory too. */
static void
test_shmem_refused(void)
{
    static const char *const devs[] = { "<shmem name='sh0'><model type='ivshmem-plain'/></shmem>",
                                        "<shmem name='sh1'/>" };
    static const char *const want[] = { "shmem device 'sh0' (ivshmem-plain)",
                                        "ivshmem device is not supported with this QEMU binary" };

    for (guint i = 0; i < G_N_ELEMENTS(devs); i++) {
        g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>s</name><memory>65536</memory>"
                                               "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                                               "<devices>%s</devices></domain>",
                                               devs[i]);
        g_autoptr(GError) err = NULL;
        VrtQemuCommandOptions opts = {
            .emulator = "/usr/bin/qemu-system-x86_64",
            .monitor_path = "/run/vrt/qemu/m.monitor",
        };
        g_auto(GStrv) argv = build_xml(xml, &opts, &err);

        g_assert_null(argv);
        g_assert_error(err, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
        g_assert_nonnull(strstr(err->message, want[i]));
    }
    {
        g_autoptr(GError) err = NULL;
        VrtQemuCommandOptions opts = {
            .emulator = "/usr/bin/qemu-system-x86_64",
            .monitor_path = "/run/vrt/qemu/m.monitor",
        };
        g_auto(GStrv) argv = build_xml("<domain type='qemu'><name>s</name><memory>65536</memory><memoryBacking>"
                                       "<source type='file'/></memoryBacking><os><type arch='x86_64' "
                                       "machine='pc'>hvm</type></os></domain>",
                                       &opts, &err);

        g_assert_null(argv);
        g_assert_error(err, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
    }
    {
        /* an I/O thread pin vrt cannot apply is refused by name */
        g_autoptr(GError) err = NULL;
        VrtQemuCommandOptions opts = {
            .emulator = "/usr/bin/qemu-system-x86_64",
            .monitor_path = "/run/vrt/qemu/m.monitor",
        };
        g_auto(GStrv) argv = build_xml("<domain type='qemu'><name>s</name><memory>65536</memory>"
                                       "<iothreads>1</iothreads><cputune><iothreadpin iothread='1' cpuset='0'/>"
                                       "</cputune><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>",
                                       &opts, &err);

        assert_refused(argv, err, VIR_ERR_CONFIG_UNSUPPORTED, "iothreadpin");
    }
    {
        /* a thread scheduling policy vrt cannot apply is refused by name */
        g_autoptr(GError) err = NULL;
        VrtQemuCommandOptions opts = {
            .emulator = "/usr/bin/qemu-system-x86_64",
            .monitor_path = "/run/vrt/qemu/m.monitor",
        };
        g_auto(GStrv) argv = build_xml("<domain type='qemu'><name>s</name><memory>65536</memory>"
                                       "<iothreads>1</iothreads><cputune><iothreadsched iothreads='1' "
                                       "scheduler='batch'/></cputune>"
                                       "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>",
                                       &opts, &err);

        assert_refused(argv, err, VIR_ERR_CONFIG_UNSUPPORTED, "iothreadsched");
    }
}

/* SDL, egl-headless and D-Bus displays are kept in the definition but
 * refused at start, each by name. */
static void
test_other_displays_refused(void)
{
    static const char *const types[] = { "sdl", "egl-headless", "dbus" };

    for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
        g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>s</name><memory>65536</memory>"
                                               "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                                               "<devices><graphics type='%s'/></devices></domain>",
                                               types[i]);
        g_autofree char *want = g_strdup_printf("graphics type '%s'", types[i]);
        g_autoptr(GError) err = NULL;
        VrtQemuCommandOptions opts = {
            .emulator = "/usr/bin/qemu-system-x86_64",
            .monitor_path = "/run/vrt/qemu/m.monitor",
        };
        g_auto(GStrv) argv = build_xml(xml, &opts, &err);

        g_assert_null(argv);
        g_assert_error(err, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
        g_assert_nonnull(strstr(err->message, want));
    }
}

/* virgl (3D acceleration) needs OpenGL and a render node: refused at start
 * by name, not started without it. */
static void
test_virgl_refused(void)
{
    static const char xml[] = "<domain type='qemu'><name>s</name><memory>65536</memory>"
                              "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                              "<devices><video><model type='virtio'><acceleration accel3d='yes'/></model></video>"
                              "</devices></domain>";
    g_autoptr(GError) err = NULL;
    VrtQemuCommandOptions opts = {
        .emulator = "/usr/bin/qemu-system-x86_64",
        .monitor_path = "/run/vrt/qemu/m.monitor",
    };
    g_auto(GStrv) argv = build_xml(xml, &opts, &err);

    assert_refused(argv, err, VIR_ERR_CONFIG_UNSUPPORTED, "'accel3d'");
}

static void
test_machine_parse(void)
{
    static const char help[] = "Supported machines are:\n"
                               "microvm              microvm (i386)\n"
                               "pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)\n"
                               "pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)\n"
                               "pc-i440fx-7.1        Standard PC (i440FX + PIIX, 1996) (deprecated)\n"
                               "q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)\n"
                               "pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)\n"
                               "none                 empty machine\n";
    g_autoptr(GPtrArray) machines = vrt_qemu_caps_parse_machines(help);
    VrtQemuCapsInfo info = { .emulator = (char *)"qemu", .machines = machines };
    g_autoptr(GError) err = NULL;
    g_autofree char *q35 = vrt_qemu_caps_canonical_machine(&info, "q35", &err);
    g_autofree char *pc = vrt_qemu_caps_canonical_machine(&info, "pc", &err);
    g_autofree char *def = vrt_qemu_caps_canonical_machine(&info, NULL, &err);
    g_autofree char *exact = vrt_qemu_caps_canonical_machine(&info, "pc-i440fx-7.1", &err);

    g_assert_no_error(err);
    g_assert_cmpuint(machines->len, ==, 5);
    g_assert_cmpstr(q35, ==, "pc-q35-7.2");
    g_assert_cmpstr(pc, ==, "pc-i440fx-7.2");
    g_assert_cmpstr(def, ==, "pc-i440fx-7.2");
    g_assert_cmpstr(exact, ==, "pc-i440fx-7.1");
    g_assert_true(((VrtQemuMachine *)g_ptr_array_index(machines, 2))->deprecated);
    g_assert_false(((VrtQemuMachine *)g_ptr_array_index(machines, 1))->deprecated);
    g_assert_null(vrt_qemu_caps_canonical_machine(&info, "virt", &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
}

/* A custom CPU model reaches QEMU with the features the definition
 * requires or forbids (before, the model was dropped and QEMU ran its
 * default qemu64). */
static void
test_custom_cpu(void)
{
    static const char xml[] = "<domain type='qemu'><name>c</name><memory unit='MiB'>64</memory>"
                              "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                              "<cpu mode='custom' match='exact'><model fallback='forbid'>Westmere</model>"
                              "<feature policy='require' name='pcid'/><feature policy='disable' name='vmx'/>"
                              "<feature policy='optional' name='x2apic'/></cpu></domain>";
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &err);
    g_auto(GStrv) argv = NULL;
    VrtQemuCommandOptions opts = {
        .emulator = "/usr/bin/qemu-system-x86_64",
        .machine = "pc-i440fx-7.2",
        .monitor_path = "/run/vrt/qemu/domain-1-c/monitor.sock",
    };

    g_assert_no_error(err);
    g_assert_true(vrt_domain_def_assign_addresses(def, &err));
    argv = vrt_qemu_command_build(def, &opts, &err);
    g_assert_no_error(err);
    g_assert_true(argv_has(argv, "-cpu", "Westmere,pcid=on,vmx=off"));
}

/* QMP output as `-qmp stdio` writes it: the greeting, the answers with
 * their ids, versioned and pseudo models left out, vendors from the
 * expansions. */
static void
test_cpu_models_parse(void)
{
    static const char out[] =
        "{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}\n"
        "{\"return\": {}}\n"
        "{\"return\": [{\"name\": \"max\", \"unavailable-features\": []},"
        " {\"name\": \"qemu64-v1\", \"unavailable-features\": []},"
        " {\"name\": \"qemu64\", \"unavailable-features\": [], \"alias-of\": \"qemu64-v1\"},"
        " {\"name\": \"Westmere-IBRS\", \"unavailable-features\": [\"spec-ctrl\"], \"deprecated\": false},"
        " {\"name\": \"Icelake-Client\", \"unavailable-features\": [\"avx512f\"], \"deprecated\": true}],"
        " \"id\": \"defs\"}\n"
        "{\"return\": {}}\n"
        "{\"return\": {\"model\": {\"name\": \"Westmere-IBRS\", \"props\": {\"vendor\": \"GenuineIntel\"}}},"
        " \"id\": \"x:Westmere-IBRS\"}\n"
        "{\"return\": {\"model\": {\"name\": \"qemu64\", \"props\": {\"vendor\": \"Other\"}}},"
        " \"id\": \"x:qemu64\"}\n"
        "{\"timestamp\": {}, \"event\": \"SHUTDOWN\"}\n";
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) models = vrt_qemu_caps_parse_cpu_models(out, &err);
    VrtQemuCpuModel *m;

    g_assert_no_error(err);
    g_assert_cmpuint(models->len, ==, 3);
    m = g_ptr_array_index(models, 0);
    g_assert_cmpstr(m->name, ==, "qemu64");
    g_assert_true(m->usable);
    g_assert_null(m->vendor);
    m = g_ptr_array_index(models, 1);
    g_assert_cmpstr(m->name, ==, "Westmere-IBRS");
    g_assert_false(m->usable);
    g_assert_cmpstr(m->vendor, ==, "Intel");
    m = g_ptr_array_index(models, 2);
    g_assert_true(m->deprecated);

    g_assert_null(
        vrt_qemu_caps_parse_cpu_models("{\"error\": {\"class\": \"GenericError\"}, \"id\": \"defs\"}\n", &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
    g_clear_error(&err);
    g_assert_null(vrt_qemu_caps_parse_cpu_models("", &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
}

/* QEMU's own CPU from its two static expansions: libvirt's feature names,
 * a feature on only when not migratable, the vendor and signature; the
 * models' blockers in libvirt's names. */
static void
test_cpu_host_parse(void)
{
    static const char out[] =
        "{\"return\": {\"model\": {\"name\": \"base\", \"props\": {\"vendor\": \"AuthenticAMD\","
        " \"family\": 15, \"model\": 107, \"stepping\": 1, \"model-id\": \"QEMU\", \"lahf-lm\": true,"
        " \"sse\": true, \"invtsc\": false, \"avx512f\": false}}}, \"id\": \"h\"}\n"
        "{\"return\": {\"model\": {\"name\": \"base\", \"props\": {\"vendor\": \"AuthenticAMD\","
        " \"lahf-lm\": true, \"sse\": true, \"invtsc\": true, \"avx512f\": false}}}, \"id\": \"hn\"}\n"
        "{\"return\": [{\"name\": \"EPYC\", \"unavailable-features\": [\"fxsr-opt\", \"sha-ni\"]}],"
        " \"id\": \"defs\"}\n";
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) models = vrt_qemu_caps_parse_cpu_models(out, &err);
    VrtQemuCpuHost *host = vrt_qemu_caps_parse_cpu_host(out);
    const VrtQemuCpuModel *m;

    g_assert_no_error(err);
    m = g_ptr_array_index(models, 0);
    g_assert_false(m->usable);
    g_assert_cmpuint(g_strv_length(m->blockers), ==, 2);
    g_assert_cmpstr(m->blockers[0], ==, "fxsr_opt");
    g_assert_nonnull(host);
    g_assert_cmpstr(host->vendor, ==, "AuthenticAMD");
    g_assert_cmpuint(host->family, ==, 15);
    g_assert_cmpuint(host->model, ==, 107);
    g_assert_cmpuint(host->stepping, ==, 1);
    g_assert_cmpuint(host->props->len, ==, 5); /* four and the NULL */
    g_assert_true(g_strv_contains((const char *const *)host->enabled->pdata, "lahf_lm"));
    g_assert_true(g_strv_contains((const char *const *)host->enabled->pdata, "invtsc"));
    g_assert_false(g_strv_contains((const char *const *)host->enabled->pdata, "avx512f"));
    g_assert_false(g_strv_contains((const char *const *)host->migratable->pdata, "invtsc"));
    g_assert_true(g_strv_contains((const char *const *)host->migratable->pdata, "avx512f"));
    vrt_qemu_cpu_host_free(host);
    g_assert_null(vrt_qemu_caps_parse_cpu_host("{\"return\": [], \"id\": \"defs\"}\n"));
}

int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    module_dir = g_dir_make_tmp("vrt-qemu-modules-XXXXXX", NULL);
    for (guint i = 0; i < 2; i++) {
        g_autofree char *so = g_build_filename(module_dir, i ? "audio-jack.so" : "audio-pa.so", NULL);
        g_assert_true(g_file_set_contents(so, "", 0, NULL));
    }
    g_test_add_data_func("/qemu/command/golden/sound-panic", "sound-panic", test_golden);
    g_test_add_data_func("/qemu/command/golden/usb-hubs", "usb-hubs", test_golden);
    g_test_add_data_func("/qemu/command/golden/hostdev-mdev-precreated", "hostdev-mdev-precreated", test_golden);
    g_test_add_data_func("/qemu/command/golden/hostdev-mdev-display-ramfb", "hostdev-mdev-display-ramfb", test_golden);
    g_test_add_data_func("/qemu/command/golden/hostdev-scsi-vhost-scsi-pci", "hostdev-scsi-vhost-scsi-pci",
                         test_golden);
    g_test_add_data_func("/qemu/command/golden/hostdev-scsi-adapter", "hostdev-scsi-adapter", test_golden);
    g_test_add_data_func("/qemu/command/golden/hostdev-teaming", "hostdev-teaming", test_golden);
    g_test_add_data_func("/qemu/command/golden/hostdev-scsi-iscsi", "hostdev-scsi-iscsi", test_golden);
    g_test_add_data_func("/qemu/command/golden/hostdev-scsi-lsi", "hostdev-scsi-lsi", test_golden);
    g_test_add_data_func("/qemu/command/golden/smartcard-controller", "smartcard-controller", test_golden);
    g_test_add_data_func("/qemu/command/golden/smartcard-host", "smartcard-host", test_golden);
    g_test_add_data_func("/qemu/command/golden/smartcard-host-certificates", "smartcard-host-certificates",
                         test_golden);
    g_test_add_data_func("/qemu/command/golden/smartcard-host-certificates-database",
                         "smartcard-host-certificates-database", test_golden);
    g_test_add_data_func("/qemu/command/golden/smartcard-passthrough-tcp", "smartcard-passthrough-tcp", test_golden);
    g_test_add_data_func("/qemu/command/golden/smartcard-passthrough-unix", "smartcard-passthrough-unix", test_golden);
    g_test_add_data_func("/qemu/command/golden/pci-switch", "pci-switch", test_golden);
    g_test_add_data_func("/qemu/command/golden/pci-expander", "pci-expander", test_golden);
    g_test_add_data_func("/qemu/command/golden/parallel", "parallel", test_golden);
    g_test_add_data_func("/qemu/command/golden/chardev-dev", "chardev-dev", test_golden);
    g_test_add_func("/qemu/command/vsock", test_vsock);
    g_test_add_func("/qemu/command/audio-module-missing", test_audio_module_missing);
    g_test_add_func("/qemu/command/pcspk-refused", test_pcspk_refused);
    g_test_add_func("/qemu/command/shmem-refused", test_shmem_refused);
    g_test_add_func("/qemu/command/other-displays-refused", test_other_displays_refused);
    g_test_add_func("/qemu/command/virgl-refused", test_virgl_refused);
    g_test_add_data_func("/qemu/command/golden/q35-full", "q35-full", test_golden);
    g_test_add_data_func("/qemu/command/golden/pc-minimal", "pc-minimal", test_golden);
    g_test_add_data_func("/qemu/command/golden/q35-features", "q35-features", test_golden);
    g_test_add_data_func("/qemu/command/golden/numa-hugepages", "numa-hugepages", test_golden);
    g_test_add_data_func("/qemu/command/golden/memory-devices", "memory-devices", test_golden);
    g_test_add_data_func("/qemu/command/golden/memory-file", "memory-file", test_golden);
    g_test_add_data_func("/qemu/command/golden/sysinfo", "sysinfo", test_golden);
    g_test_add_data_func("/qemu/command/golden/cpu-extras", "cpu-extras", test_golden);
    g_test_add_data_func("/qemu/command/golden/clock-timers", "clock-timers", test_golden);
    g_test_add_data_func("/qemu/command/golden/net-socket-rom", "net-socket-rom", test_golden);
    g_test_add_data_func("/qemu/command/golden/disk-ident", "disk-ident", test_golden);
    g_test_add_data_func("/qemu/command/golden/disk-geometry", "disk-geometry", test_golden);
    g_test_add_data_func("/qemu/command/golden/firmware-secure", "firmware-secure", test_golden);
    g_test_add_data_func("/qemu/command/golden/disk-usb", "disk-usb", test_golden);
    g_test_add_data_func("/qemu/command/golden/fs9p", "fs9p", test_golden);
    g_test_add_func("/qemu/command/properties", test_properties);
    g_test_add_func("/qemu/command/hostdev-teaming", test_hostdev_teaming);
    g_test_add_func("/qemu/command/monitor-fd", test_monitor_fd);
    g_test_add_func("/qemu/command/spice-refused", test_spice_refused);
    g_test_add_func("/qemu/command/virtualport-refused", test_virtualport_refused);
    g_test_add_func("/qemu/command/usbdev-refused", test_usbdev_refused);
    g_test_add_func("/qemu/command/vhost-scsi-missing", test_vhost_scsi_missing);
    g_test_add_func("/qemu/command/ethernet-script-refused", test_ethernet_script_refused);
    g_test_add_func("/qemu/command/iotune-args", test_iotune_args);
    g_test_add_func("/qemu/command/usb-cdrom-empty-refused", test_usb_cdrom_empty_refused);
    g_test_add_func("/qemu/command/sd-disk-refused", test_sd_disk_refused);
    g_test_add_func("/qemu/command/memory-refused", test_memory_refused);
    g_test_add_func("/qemu/command/commas-escaped", test_commas_escaped);
    g_test_add_func("/qemu/caps/machine-parse", test_machine_parse);
    g_test_add_func("/qemu/caps/cpu-models-parse", test_cpu_models_parse);
    g_test_add_func("/qemu/caps/cpu-host-parse", test_cpu_host_parse);
    g_test_add_func("/qemu/command/custom-cpu", test_custom_cpu);
    g_test_add_func("/qemu/command/vnc-options", test_vnc_options);
    ret = g_test_run();
    for (guint i = 0; i < 2; i++) {
        g_autofree char *so = g_build_filename(module_dir, i ? "audio-jack.so" : "audio-pa.so", NULL);
        g_unlink(so);
    }
    g_rmdir(module_dir);
    g_free(module_dir);
    return ret;
}
