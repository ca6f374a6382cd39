/*
 * Tests of the display, sound and character side of a domain: <audio>
 * backends with their <input>/<output> settings, the virtio options of
 * <driver>, TCP/UDP/null chardevs and <listen type='none'>, read and
 * written back as libvirt writes them (attribute and element order), and
 * what libvirt refuses (or vrt cannot apply) refused with its code and
 * text.
 */
#include "conf/domain/test-domain-devices.h"
#include "util/error.h"
#include "testutil.h"

#include <string.h>

static void
test_audio_backends(void)
{
    /* attributes in another order than libvirt's; settings kept */
    g_autofree char *alsa =
        roundtrip(HEAD "<audio type='alsa' timerPeriod='50' id='1'>"
                       "<output dev='/dev/dsp1' voices='2' fixedSettings='yes' mixingEngine='yes' bufferLength='200'>"
                       "<settings format='f32' channels='4' frequency='22050'/></output>"
                       "<input mixingEngine='no' dev='/dev/dsp0'/></audio>" TAIL);
    g_autofree char *oss = roundtrip(HEAD "<audio id='2' type='oss' dspPolicy='3' exclusive='yes' tryMMap='no'>"
                                          "<input dev='/dev/dsp0' bufferCount='50' tryPoll='yes'/></audio>" TAIL);
    g_autofree char *file = roundtrip(HEAD "<audio id='1' type='file' path='/tmp/a.wav'/>" TAIL);
    g_autofree char *none = roundtrip(HEAD "<audio id='1' type='none'><output fixedSettings='yes' "
                                           "mixingEngine='yes'/></audio>" TAIL);

    assert_has(alsa, "<audio id='1' type='alsa' timerPeriod='50'>\n"
                     "      <input mixingEngine='no' dev='/dev/dsp0'/>\n"
                     "      <output mixingEngine='yes' fixedSettings='yes' voices='2' bufferLength='200' "
                     "dev='/dev/dsp1'>\n"
                     "        <settings frequency='22050' channels='4' format='f32'/>\n"
                     "      </output>\n"
                     "    </audio>");
    assert_has(oss, "<audio id='2' type='oss' tryMMap='no' exclusive='yes' dspPolicy='3'>\n"
                    "      <input dev='/dev/dsp0' bufferCount='50' tryPoll='yes'/>\n"
                    "    </audio>");
    assert_has(file, "<audio id='1' type='file' path='/tmp/a.wav'/>");
    /* fixed settings without <settings>: libvirt writes an empty one */
    assert_has(none, "<output mixingEngine='yes' fixedSettings='yes'>\n        <settings/>\n      </output>");
}

static void
test_audio_refusals(void)
{
    assert_refused(HEAD "<audio id='1' type='none'><input fixedSettings='yes'/></audio>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED, "fixed audio settings requires mixing engine");
    assert_refused(HEAD "<audio id='1' type='none'><input mixingEngine='yes'><settings frequency='8000'/>"
                        "</input></audio>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED, "audio settings specified without fixed settings flag");
    assert_refused(HEAD "<audio id='1' type='none' timerPeriod='0'/>" TAIL, VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'timerPeriod' in element 'audio': '0'. Expected non-zero value");
    assert_refused(HEAD "<audio id='1' type='none'><input mixingEngine='yes' fixedSettings='yes'>"
                        "<settings format='s24'/></input></audio>" TAIL,
                   VIR_ERR_XML_ERROR, "Invalid value for attribute 'format' in element 'settings': 's24'.");
    assert_refused(HEAD "<audio id='1' type='oss' dspPolicy='-1'/>" TAIL, VIR_ERR_XML_ERROR,
                   "cannot parse 'dspPolicy' value '-1'");
    assert_refused(HEAD "<audio id='1' type='spice'/>" TAIL, VIR_ERR_CONFIG_UNSUPPORTED,
                   "Spice audio is not supported without spice graphics");
    /* dbus, the D-Bus display's backend, which vrtd does not run, and an
     * attribute of another backend (pulseaudio's stream name on jack) */
    assert_refused(HEAD "<audio id='1' type='dbus'/>" TAIL, VIR_ERR_CONFIG_UNSUPPORTED,
                   "audio type 'dbus' is not supported");
    assert_refused(HEAD "<audio id='1' type='jack'><input streamName='s'/></audio>" TAIL, VIR_ERR_CONFIG_UNSUPPORTED,
                   "attribute 'streamName' of element <input>");
    assert_refused(HEAD "<audio id='1' type='none'><input dev='/dev/dsp'/></audio>" TAIL, VIR_ERR_CONFIG_UNSUPPORTED,
                   "attribute 'dev' of element <input>");
}

static void
test_virtio_options(void)
{
    g_autofree char *out =
        roundtrip(HEAD "<input type='mouse' bus='virtio'><driver packed='on' ats='on'/></input>"
                       "<video><model type='virtio'/><driver page_per_vq='on' iommu='off'/></video>"
                       "<rng model='virtio'><driver ats='off'/><backend model='random'>/dev/urandom</backend></rng>"
                       "<memballoon freePageReporting='off' model='virtio'><driver packed='on'/><stats period='5'/>"
                       "</memballoon>" TAIL);

    /* libvirt's places: first in <input> and <video>, after the backend
     * of an RNG, after the balloon's address */
    assert_has(out, "<input type='mouse' bus='virtio'>\n      <driver ats='on' packed='on'/>\n      <address ");
    assert_has(out, "<video>\n      <driver iommu='off' page_per_vq='on'/>\n      <model type='virtio'");
    assert_has(out, "</backend>\n      <driver ats='off'/>\n      <address ");
    assert_has(out, "function='0x0'/>\n      <driver packed='on'/>\n    </memballoon>");
    assert_has(out, "<memballoon model='virtio' freePageReporting='off'>");
    assert_refused(HEAD "<input type='mouse' bus='ps2'><driver ats='on'/></input>" TAIL, VIR_ERR_CONFIG_UNSUPPORTED,
                   "ats driver option is only supported for virtio devices");
    assert_refused(HEAD "<video><driver packed='on'/><model type='qxl'/></video>" TAIL, VIR_ERR_CONFIG_UNSUPPORTED,
                   "packed driver option is only supported for virtio devices");
    assert_refused(HEAD "<rng model='virtio'><backend model='random'/><driver ats='yes'/></rng>" TAIL,
                   VIR_ERR_XML_ERROR, "Invalid value for attribute 'ats' in element 'driver': 'yes'");
}

static void
test_network_chardevs(void)
{
    g_autofree char *out = roundtrip(
        HEAD "<serial type='udp'><source service='9998' host='127.0.0.1'/>"
             "<source host='127.0.0.1' mode='bind' service='9999'/><target port='0'/></serial>"
             "<serial type='tcp'><source host='::1' service='5555' tls='no'/><target port='1'/></serial>"
             "<serial type='null'/>"
             "<console type='udp'><source mode='bind' host='127.0.0.1' service='9999'/>"
             "<source mode='connect' host='127.0.0.1' service='9998'/><target type='serial' port='0'/></console>"
             "<channel type='tcp'><source mode='bind' host='0.0.0.0' service='4444'/><protocol type='telnet'/>"
             "<target type='virtio' name='org.example.0'/></channel>" TAIL);

    /* the bind end first, connect when no mode is written, raw when no
     * protocol is, and the console shows its serial's sources */
    assert_has(out, "<serial type='udp'>\n      <source mode='bind' host='127.0.0.1' service='9999'/>\n"
                    "      <source mode='connect' host='127.0.0.1' service='9998'/>\n");
    assert_has(out, "<source mode='connect' host='::1' service='5555' tls='no'/>\n      <protocol type='raw'/>");
    assert_has(out, "<serial type='null'>\n      <target type='isa-serial' port='2'>");
    assert_has(out, "<console type='udp'>\n      <source mode='bind' host='127.0.0.1' service='9999'/>\n"
                    "      <source mode='connect' host='127.0.0.1' service='9998'/>\n      <target type='serial'");
    assert_has(out, "<source mode='bind' host='0.0.0.0' service='4444'/>\n      <protocol type='telnet'/>");

    {
        /* a console alone makes its serial, which takes the console's
         * network ends (fuzzer finding: the serial had none and the
         * written XML did not parse again) */
        g_autofree char *con = roundtrip(HEAD "<console type='tcp'><source mode='bind' host='::' service='7'/>"
                                              "<protocol type='telnet'/></console>" TAIL);
        assert_has(con, "<serial type='tcp'>\n      <source mode='bind' host='::' service='7'/>\n"
                        "      <protocol type='telnet'/>\n");
    }
    assert_refused(HEAD "<serial type='tcp'><source service='1'/></serial>" TAIL, VIR_ERR_INTERNAL_ERROR,
                   "Missing source host attribute for char device");
    assert_refused(HEAD "<serial type='udp'><source mode='bind' service='1'/></serial>" TAIL, VIR_ERR_INTERNAL_ERROR,
                   "Missing source service attribute for char device");
    assert_refused(HEAD
                   "<serial type='udp'><source service='1'/><source service='2'/><source service='3'/></serial>" TAIL,
                   VIR_ERR_XML_ERROR, "only two source elements are allowed for character device");
    assert_refused(HEAD "<serial type='tcp'><source host='a' service='1'><reconnect enabled='yes' timeout='1'/>"
                        "</source></serial>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED, "element <reconnect>");
    assert_refused(HEAD "<serial type='tcp'><source host='a' service='1'/><protocol type='telnets'/></serial>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED, "character device protocol 'telnets' is not supported");
    assert_refused(HEAD "<serial type='tcp'><source host='a' service='1' tls='yes'/></serial>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED, "TLS for a TCP character device is not supported");
}

/* A host device node as chardev (type 'dev') and a serial's ISA address,
 * written back as libvirt 9.0 writes them */
static void
test_dev_chardevs(void)
{
    g_autofree char *out =
        roundtrip(HEAD "<serial type='dev'><source path='/dev/ttyS2'/><target port='0'/>"
                       "<address type='isa' iobase='0x3f8' irq='0x4'/></serial>"
                       "<console type='dev'><source path='/dev/ttyS2'/><target port='0'/>"
                       "<address type='isa' iobase='0x3f8' irq='0x4'/></console>"
                       "<parallel type='dev'><source path='/dev/parport0'/><target port='0'/></parallel>" TAIL);

    assert_has(out, "<serial type='dev'>\n      <source path='/dev/ttyS2'/>\n"
                    "      <target type='isa-serial' port='0'>\n        <model name='isa-serial'/>\n"
                    "      </target>\n      <address type='isa' iobase='0x3f8' irq='0x4'/>\n    </serial>");
    assert_has(out, "<console type='dev'>\n      <source path='/dev/ttyS2'/>\n"
                    "      <target type='serial' port='0'/>\n      <address type='isa' iobase='0x3f8' irq='0x4'/>");
    assert_has(out, "<parallel type='dev'>\n      <source path='/dev/parport0'/>\n      <target port='0'/>");
    {
        /* only what is given is written */
        g_autofree char *irq = roundtrip(HEAD "<serial type='dev'><source path='/dev/ttyS0'/>"
                                              "<address type='isa' irq='3'/></serial>" TAIL);
        assert_has(irq, "<address type='isa' irq='0x3'/>");
    }
    /* libvirt's checks */
    assert_refused(HEAD "<serial type='dev'><target port='0'/></serial>" TAIL, VIR_ERR_XML_ERROR,
                   "Missing source path attribute for char device");
    assert_refused(HEAD "<serial type='dev'><source path='/dev/ttyS0'/><address type='isa' iobase='0x10000'/>"
                        "</serial>" TAIL,
                   VIR_ERR_XML_ERROR, "Invalid value for attribute 'iobase' in element 'address': '0x10000'.");
    assert_refused(HEAD "<serial type='dev'><source path='/dev/ttyS0'/><target type='pci-serial'/>"
                        "<address type='isa' iobase='0x3f8'/></serial>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED, "Target type 'pci-serial' requires address type 'pci'");
    /* an ISA address is a serial port's alone */
    assert_refused(HEAD "<parallel type='dev'><source path='/dev/parport0'/><address type='isa' iobase='0x378'/>"
                        "</parallel>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED, "address type 'isa'");
}

static void
test_graphics_listen_none(void)
{
    g_autofree char *vnc = roundtrip(HEAD "<graphics type='vnc' keymap='de'><listen type='none'/></graphics>" TAIL);

    assert_has(vnc, "<graphics type='vnc' keymap='de'>\n      <listen type='none'/>\n    </graphics>");
    assert_refused(HEAD "<graphics type='vnc' port='5901'><listen type='none'/></graphics>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED, "graphics listen type 'none' with a port");
    assert_refused(HEAD "<graphics type='vnc'><listen type='none'/><listen type='address' address='::1'/>"
                        "</graphics>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED, "element <listen> in <graphics>");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domdevav/audio/backends", test_audio_backends);
    g_test_add_func("/domdevav/audio/refusals", test_audio_refusals);
    g_test_add_func("/domdevav/virtio-options", test_virtio_options);
    g_test_add_func("/domdevav/chardev/network", test_network_chardevs);
    g_test_add_func("/domdevav/chardev/dev", test_dev_chardevs);
    g_test_add_func("/domdevav/graphics/listen-none", test_graphics_listen_none);
    return g_test_run();
}
