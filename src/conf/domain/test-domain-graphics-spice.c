/*
 * Tests of what domain_graphics_spice.c, domain_chr_spice.c and
 * domain_input_evdev.c read and write: SPICE's own children and
 * attributes, socket/network/none listens, VNC's websocket, sharePolicy,
 * powerControl and <audio id>, the SPICE/vc/pipe/vdagent/dbus chardev
 * backends with <log> and guestfwd targets, and evdev/passthrough inputs.
 * Each is written back as libvirt writes it (and valid for libvirt's
 * schema), reads back to the same text, and libvirt's refusals come with
 * its code and text.
 */
#include "conf/domain/test-domain-devices.h"
#include "util/error.h"
#include "testutil.h"

#include <string.h>

static void
test_spice(void)
{
    /* children in another order than libvirt's: written in its order */
    g_autofree char *full = roundtrip(
        HEAD "<graphics type='spice' port='5903' tlsPort='5904' autoport='no' listen='127.0.0.1' defaultMode='secure'>"
             "<filetransfer enable='no'/><clipboard copypaste='no'/><mouse mode='server'/>"
             "<listen type='address' address='127.0.0.1'/><channel name='inputs' mode='insecure'/>"
             "<channel name='main' mode='secure'/><image compression='auto_glz'/><jpeg compression='auto'/>"
             "<zlib compression='never'/><playback compression='on'/><streaming mode='filter'/>"
             "<gl enable='yes' rendernode='/dev/dri/foo'/></graphics>" TAIL);
    g_autofree char *none = roundtrip(HEAD "<graphics type='spice'/>" TAIL);
    g_autofree char *autop = roundtrip(HEAD "<graphics type='spice' port='-1' tlsPort='-1'/>" TAIL);
    g_autofree char *sock =
        roundtrip(HEAD "<graphics type='spice'><listen type='socket' socket='/tmp/s'/></graphics>" TAIL);

    assert_has(full, "<graphics type='spice' port='5903' tlsPort='5904' autoport='no' listen='127.0.0.1' "
                     "defaultMode='secure'>\n"
                     "      <listen type='address' address='127.0.0.1'/>\n"
                     "      <channel name='main' mode='secure'/>\n"
                     "      <channel name='inputs' mode='insecure'/>\n"
                     "      <image compression='auto_glz'/>\n"
                     "      <jpeg compression='auto'/>\n"
                     "      <zlib compression='never'/>\n"
                     "      <playback compression='on'/>\n"
                     "      <streaming mode='filter'/>\n"
                     "      <mouse mode='server'/>\n"
                     "      <clipboard copypaste='no'/>\n"
                     "      <filetransfer enable='no'/>\n"
                     "      <gl enable='yes' rendernode='/dev/dri/foo'/>\n"
                     "    </graphics>");
    /* libvirt's post-parse: no port and no autoport listens nowhere */
    assert_has(none, "<graphics type='spice'>\n      <listen type='none'/>\n    </graphics>");
    assert_has(autop, "<graphics type='spice' autoport='yes'>\n      <listen type='address'/>");
    assert_has(sock, "<graphics type='spice'>\n      <listen type='socket' socket='/tmp/s'/>");

    assert_refused(HEAD "<graphics type='spice' port='5900'><image compression='default'/></graphics>" TAIL,
                   VIR_ERR_XML_ERROR, "Invalid value for attribute 'compression' in element 'image': 'default'.");
    assert_refused(HEAD "<graphics type='spice' port='5900'><channel name='main'/></graphics>" TAIL, VIR_ERR_XML_ERROR,
                   "Missing required attribute 'mode' in element 'channel'");
    assert_refused(HEAD "<graphics type='spice' port='5900'><channel name='bogus' mode='any'/></graphics>" TAIL,
                   VIR_ERR_XML_ERROR, "Invalid value for attribute 'name' in element 'channel': 'bogus'.");
    assert_refused(HEAD "<graphics type='spice' port='5900'><gl rendernode='/dev/dri/x'/></graphics>" TAIL,
                   VIR_ERR_XML_ERROR, "Missing required attribute 'enable' in element 'gl'");
    assert_refused(HEAD "<graphics type='spice' listen='1.2.3.4' port='5900'><listen type='address' "
                        "address='5.6.7.8'/></graphics>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED,
                   "graphics 'listen' attribute '1.2.3.4' must match 'address' attribute of first listen element "
                   "(found '5.6.7.8')");
    assert_refused(HEAD "<graphics type='spice'><listen type='none'/><gl enable='yes'/></graphics>"
                        "<graphics type='egl-headless'/>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED, "multiple OpenGL displays are not supported by QEMU");
}

static void
test_vnc(void)
{
    g_autofree char *opts =
        roundtrip(HEAD "<graphics type='vnc' powerControl='yes' sharePolicy='force-shared' websocket='5700' "
                       "port='5900' autoport='no' listen='127.0.0.1'><audio id='1'/></graphics>"
                       "<audio id='1' type='none'/>" TAIL);
    g_autofree char *sock = roundtrip(HEAD "<graphics type='vnc' socket='/tmp/v.sock'/>" TAIL);
    g_autofree char *net =
        roundtrip(HEAD "<graphics type='vnc'><listen type='network' network='default' address='1.2.3.4'/>"
                       "</graphics>" TAIL);

    assert_has(opts, "<graphics type='vnc' port='5900' autoport='no' websocket='5700' listen='127.0.0.1' "
                     "sharePolicy='force-shared' powerControl='yes'>\n"
                     "      <listen type='address' address='127.0.0.1'/>\n"
                     "      <audio id='1'/>\n"
                     "    </graphics>");
    /* the compatibility attribute becomes the socket listen, as libvirt */
    assert_has(sock, "<graphics type='vnc' socket='/tmp/v.sock'>\n"
                     "      <listen type='socket' socket='/tmp/v.sock'/>");
    /* a network listen's address is what a start resolved: not kept */
    assert_has(net, "<graphics type='vnc' port='-1' autoport='yes'>\n"
                    "      <listen type='network' network='default'/>");

    assert_refused(HEAD "<graphics type='vnc'><audio id='2'/></graphics><audio id='1' type='none'/>" TAIL,
                   VIR_ERR_XML_ERROR, "no audio device with ID 2");
    assert_refused(HEAD "<graphics type='vnc' sharePolicy='none'/>" TAIL, VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'sharePolicy' in element 'graphics': 'none'.");
    assert_refused(HEAD "<graphics type='vnc'><listen type='address' network='x'/></graphics>" TAIL, VIR_ERR_XML_ERROR,
                   "'network' attribute is valid only for listen type 'network'");
    assert_refused(HEAD "<graphics type='vnc'><listen type='address' socket='/x'/></graphics>" TAIL, VIR_ERR_XML_ERROR,
                   "'socket' attribute is valid only for listen type 'socket'");
    assert_refused(HEAD "<graphics type='vnc'><listen type='bogus'/></graphics>" TAIL, VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'type' in element 'listen': 'bogus'.");
}

static void
test_chardevs(void)
{
    g_autofree char *out = roundtrip(
        HEAD "<serial type='vc'/><serial type='spiceport'><source channel='org.qemu.console.serial.0'/></serial>"
             "<serial type='file'><source path='/tmp/s.log'/><log file='/tmp/l.log' append='off'/></serial>"
             "<channel type='spicevmc'><target type='virtio'/></channel>"
             "<channel type='qemu-vdagent'><source><mouse mode='client'/><clipboard copypaste='yes'/></source>"
             "<target type='virtio' name='com.redhat.spice.0'/></channel>"
             "<channel type='pipe'><source path='/tmp/guestfwd'/>"
             "<target type='guestfwd' address='10.0.2.1' port='4600'/></channel>" TAIL);

    assert_has(out, "<serial type='vc'>");
    assert_has(out, "<source channel='org.qemu.console.serial.0'/>");
    assert_has(out, "<source path='/tmp/s.log'/>\n      <log file='/tmp/l.log' append='off'/>");
    assert_has(out, "<channel type='spicevmc'>\n      <target type='virtio'/>\n"
                    "      <address type='virtio-serial' controller='0' bus='0' port='1'/>");
    assert_has(out, "<source>\n        <clipboard copypaste='yes'/>\n        <mouse mode='client'/>\n      </source>");
    /* a guestfwd channel has no virtio-serial port */
    assert_has(out, "<source path='/tmp/guestfwd'/>\n      <target type='guestfwd' address='10.0.2.1' port='4600'/>\n"
                    "    </channel>");

    assert_refused(HEAD "<channel type='pipe'><source path='/p'/><target type='guestfwd' address='::1' port='1'/>"
                        "</channel>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED, "guestfwd channel only supports IPv4 addresses");
    assert_refused(HEAD "<channel type='pipe'><source path='/p'/><target type='guestfwd' port='1'/></channel>" TAIL,
                   VIR_ERR_XML_ERROR, "guestfwd channel does not define a target address");
    assert_refused(HEAD "<serial type='file'><source path='/a'/><log file='/b'/><log file='/c'/></serial>" TAIL,
                   VIR_ERR_XML_ERROR, "only one log element is allowed for character device");
    assert_refused(HEAD "<channel type='qemu-vdagent'><source><mouse mode='default'/></source>"
                        "<target type='virtio'/></channel>" TAIL,
                   VIR_ERR_XML_ERROR, "Invalid value for attribute 'mode' in element 'mouse': 'default'.");
    assert_refused(HEAD "<serial type='pipe'/>" TAIL, VIR_ERR_XML_ERROR,
                   "Missing source path attribute for char device");
}

static void
test_inputs(void)
{
    g_autofree char *out =
        roundtrip(HEAD "<input type='evdev'><source dev='/dev/input/event1' repeat='on' grabToggle='alt-alt' "
                       "grab='all'/></input><input type='passthrough' bus='virtio'>"
                       "<source evdev='/dev/input/event2'/></input>" TAIL);

    assert_has(out, "<input type='evdev'>\n      <source dev='/dev/input/event1' grab='all' grabToggle='alt-alt' "
                    "repeat='on'/>\n    </input>");
    assert_has(out, "<input type='passthrough' bus='virtio'>\n      <source evdev='/dev/input/event2'/>\n"
                    "      <address type='pci'");
    g_autofree char *qxl = roundtrip(HEAD "<video><model type='qxl' vram64='131072' heads='1'/></video>" TAIL);

    assert_has(qxl,
               "<model type='qxl' ram='65536' vram='65536' vram64='131072' vgamem='16384' heads='1' primary='yes'/>");
    assert_refused(HEAD "<video><model type='vga' vram64='1024'/></video>" TAIL, VIR_ERR_CONFIG_UNSUPPORTED,
                   "vram64 attribute only supported for video type qxl");
    assert_refused(HEAD "<input type='passthrough' bus='virtio'/>" TAIL, VIR_ERR_XML_ERROR,
                   "Missing evdev path for input device");
    assert_refused(HEAD "<input type='evdev'><source dev='/d' grabToggle='x'/></input>" TAIL, VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'grabToggle' in element 'source': 'x'.");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domgfx/spice", test_spice);
    g_test_add_func("/domgfx/vnc", test_vnc);
    g_test_add_func("/domgfx/chardevs", test_chardevs);
    g_test_add_func("/domgfx/inputs", test_inputs);
    return g_test_run();
}
