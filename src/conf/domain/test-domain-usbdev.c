/*
 * Tests of the USB devices from outside the guest and of smartcards: USB
 * <hostdev>s, <redirdev>, <redirfilter>, <smartcard> and the ccid
 * controller, read and written back as libvirt 9 writes them (defaults,
 * ccid slots and controllers, USB ports), every output valid against
 * libvirt's schema and read again to the same text, and libvirt's
 * refusals with its code and text.
 */
#include "conf/domain/test-domain-devices.h"
#include "util/error.h"
#include "testutil.h"

#include <string.h>

static void
test_usb_hostdev(void)
{
    g_autofree char *out = roundtrip(
        HEAD "<controller type='usb' index='0' model='piix3-uhci'/>"
             "<hostdev mode='subsystem' type='usb'><source startupPolicy='optional' guestReset='off'>"
             "<vendor id='0x1234'/><product id='0xbeef'/></source><boot order='1'/></hostdev>"
             "<hostdev mode='subsystem' type='usb' managed='yes'><source><address bus='14' device='6'/></source>"
             "<alias name='ua-card'/></hostdev>" TAIL);

    assert_has(out, "<hostdev mode='subsystem' type='usb' managed='no'>\n"
                    "      <source startupPolicy='optional' guestReset='off'>\n"
                    "        <vendor id='0x1234'/>\n        <product id='0xbeef'/>\n      </source>\n"
                    "      <boot order='1'/>\n      <address type='usb' bus='0' port='1'/>\n    </hostdev>\n");
    assert_has(out, "<hostdev mode='subsystem' type='usb' managed='yes'>\n      <source>\n"
                    "        <address bus='14' device='6'/>\n      </source>\n      <alias name='ua-card'/>\n"
                    "      <address type='usb' bus='0' port='2'/>\n");
    assert_refused(HEAD "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/></source></hostdev>" TAIL,
                   VIR_ERR_INTERNAL_ERROR, "missing product");
    assert_refused(HEAD "<hostdev mode='subsystem' type='usb'><source><product id='0x1'/></source></hostdev>" TAIL,
                   VIR_ERR_INTERNAL_ERROR, "missing vendor");
    assert_refused(HEAD "<hostdev mode='subsystem' type='usb'/>" TAIL, VIR_ERR_XML_ERROR,
                   "Missing <source> element in hostdev device");
    assert_refused(HEAD "<hostdev mode='subsystem' type='usb'><source startupPolicy='maybe'>"
                        "<address bus='1' device='2'/></source></hostdev>" TAIL,
                   VIR_ERR_XML_ERROR, "Invalid value for attribute 'startupPolicy' in element 'source': 'maybe'.");
    assert_refused(HEAD "<hostdev mode='subsystem' type='usb'><source><address bus='14' device='6'/></source>"
                        "</hostdev><hostdev mode='subsystem' type='usb'><source><address bus='14' device='6'/>"
                        "</source></hostdev>" TAIL,
                   VIR_ERR_XML_ERROR, "Hostdev already exists in the domain configuration");
    assert_refused(HEAD "<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source>"
                        "<address type='pci' domain='0' bus='0' slot='5' function='0'/></hostdev>" TAIL,
                   VIR_ERR_XML_ERROR, "Invalid address for a USB device");
}

static void
test_redirdev(void)
{
    g_autofree char *out =
        roundtrip(HEAD "<controller type='usb' index='0' model='piix3-uhci'/>"
                       "<redirdev bus='usb' type='tcp'><source mode='connect' host='localhost' service='4000'/>"
                       "<protocol type='raw'/><boot order='1'/></redirdev>"
                       "<redirdev type='unix'><source mode='bind' path='/tmp/r.sock'/></redirdev>"
                       "<redirdev bus='usb' type='spicevmc'/>"
                       "<redirfilter><usbdev class='0x08' vendor='0x15E1' product='0x2007' version='9.4' "
                       "allow='yes'/><usbdev class='-1' vendor='-1' product='-1' version='-1' allow='no'/>"
                       "</redirfilter>" TAIL);

    assert_has(out, "<redirdev bus='usb' type='tcp'>\n      <source mode='connect' host='localhost' service='4000'/>\n"
                    "      <protocol type='raw'/>\n      <boot order='1'/>\n"
                    "      <address type='usb' bus='0' port='2'/>\n    </redirdev>\n"
                    "    <redirdev bus='usb' type='unix'>\n      <source mode='bind' path='/tmp/r.sock'/>\n"
                    "      <address type='usb' bus='0' port='1.1'/>\n    </redirdev>\n");
    /* UHCI has two ports: for the third device a hub is added, placed
     * first, and the ports below it are taken once the root's are full */
    assert_has(out, "<hub type='usb'>\n      <address type='usb' bus='0' port='1'/>\n    </hub>\n");
    assert_has(out, "<redirfilter>\n      <usbdev class='0x08' vendor='0x15E1' product='0x2007' version='9.40' "
                    "allow='yes'/>\n      <usbdev allow='no'/>\n    </redirfilter>\n");
    assert_refused(HEAD "<redirdev bus='pci' type='spicevmc'/>" TAIL, VIR_ERR_CONFIG_UNSUPPORTED,
                   "unknown redirdev bus 'pci'");
    assert_refused(HEAD "<redirdev bus='usb'/>" TAIL, VIR_ERR_INTERNAL_ERROR, "missing type in redirdev");
    assert_refused(HEAD "<redirdev bus='usb' type='tcp'><source mode='connect' service='1'/></redirdev>" TAIL,
                   VIR_ERR_INTERNAL_ERROR, "Missing source host attribute for char device");
    assert_refused(HEAD "<redirdev bus='usb' type='tcp'><source mode='connect' host='a' service='1'>"
                        "<reconnect enabled='yes' timeout='1'/></source></redirdev>" TAIL,
                   VIR_ERR_CONFIG_UNSUPPORTED, "element <reconnect> in <source>");
    assert_refused(HEAD "<redirfilter><usbdev class='0x100' allow='yes'/></redirfilter>" TAIL, VIR_ERR_INTERNAL_ERROR,
                   "Invalid USB Class code 0x100");
    assert_refused(HEAD "<redirfilter><usbdev version='1.x' allow='yes'/></redirfilter>" TAIL, VIR_ERR_XML_ERROR,
                   "Cannot parse USB device version 1.x");
}

static void
test_smartcard(void)
{
    g_autofree char *host = roundtrip(HEAD "<smartcard mode='host'/>" TAIL);
    g_autofree char *certs =
        roundtrip(HEAD "<smartcard mode='host-certificates'><certificate>c1</certificate><certificate>c2"
                       "</certificate><certificate>c3</certificate><database>/tmp/db</database></smartcard>"
                       "<smartcard mode='passthrough' type='tcp'><source mode='bind' host='127.0.0.1' "
                       "service='2001'/><protocol type='raw'/><address type='ccid' controller='0' slot='3'/>"
                       "</smartcard>" TAIL);

    /* the ccid controller is added, on a USB port */
    assert_has(host, "<controller type='ccid' index='0'>\n      <address type='usb' bus='0' port='1'/>\n"
                     "    </controller>\n");
    assert_has(host, "<smartcard mode='host'>\n      <address type='ccid' controller='0' slot='0'/>\n"
                     "    </smartcard>\n");
    /* a card without an address after the highest slot named */
    assert_has(certs, "<smartcard mode='host-certificates'>\n      <certificate>c1</certificate>\n"
                      "      <certificate>c2</certificate>\n      <certificate>c3</certificate>\n"
                      "      <database>/tmp/db</database>\n      <address type='ccid' controller='0' slot='4'/>\n");
    assert_has(certs, "<smartcard mode='passthrough' type='tcp'>\n"
                      "      <source mode='bind' host='127.0.0.1' service='2001'/>\n      <protocol type='raw'/>\n"
                      "      <address type='ccid' controller='0' slot='3'/>\n");
    assert_refused(HEAD "<smartcard mode='host-certificates'><certificate>c1</certificate></smartcard>" TAIL,
                   VIR_ERR_XML_ERROR, "host-certificates mode needs exactly three certificates");
    assert_refused(HEAD "<smartcard mode='host-certificates'><certificate>a</certificate><certificate>b"
                        "</certificate><certificate>c</certificate><database>db</database></smartcard>" TAIL,
                   VIR_ERR_XML_ERROR, "expecting absolute path: db");
    assert_refused(HEAD "<smartcard mode='passthrough'/>" TAIL, VIR_ERR_XML_ERROR,
                   "passthrough mode requires a character device type attribute");
    assert_refused(HEAD "<smartcard mode='remote'/>" TAIL, VIR_ERR_XML_ERROR,
                   "Invalid value for attribute 'mode' in element 'smartcard': 'remote'.");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domusbdev/hostdev-usb", test_usb_hostdev);
    g_test_add_func("/domusbdev/redirdev", test_redirdev);
    g_test_add_func("/domusbdev/smartcard", test_smartcard);
    return g_test_run();
}
