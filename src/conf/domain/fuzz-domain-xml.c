/*
 * libFuzzer target for the domain XML parser: arbitrary bytes go through
 * vrt_domain_def_parse (then address assignment and every format view,
 * whose output must parse again and format identically) or, when the first
 * byte is odd, through vrt_domain_device_def_parse (the XML of attach and
 * detach), whose formatted device must parse and format the same. The
 * device seeds (fuzz-device-corpus/) start with the byte 0x01. Built with
 * -Dfuzzing=true (clang); see meson.build for the run target.
 */
#include "conf/domain/domain_conf.h"

#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

/* Inputs above this size only slow the search down. */
#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    xmlInitParser();
    return 0;
}

static void
check_round_trip(const VrtDomainDef *def, guint flags)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vrt_domain_def_format(def, flags, &error);
    g_autoptr(VrtDomainDef) back = NULL;
    g_autofree char *again = NULL;

    if (!xml)
        abort(); /* a parsed definition always formats */
    back = vrt_domain_def_parse(xml, flags & VRT_DOMAIN_XML_STATUS, &error);
    if (!back) {
        fprintf(stderr, "formatted XML does not parse: %s\n%s\n", error->message, xml);
        abort();
    }
    again = vrt_domain_def_format(back, flags, NULL);
    if (!again || strcmp(again, xml) != 0) {
        fprintf(stderr, "format is not stable:\n%s\n---\n%s\n", xml, again ? again : "(null)");
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = NULL;
    bool device;

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    device = data[0] & 1;
    /* the seed corpus is plain XML: its first byte '<' is even */
    text = g_strndup((const char *)data + (data[0] == '<' ? 0 : 1), size - (data[0] == '<' ? 0 : 1));
    if (device) {
        g_autoptr(VrtDomainDeviceDef) dev = vrt_domain_device_def_parse(text, NULL, 0, NULL);
        if (dev) {
            g_autoptr(GError) error = NULL;
            g_autofree char *xml = vrt_domain_device_def_format(dev, 0, NULL);
            g_autoptr(VrtDomainDeviceDef) back = NULL;
            g_autofree char *again = NULL;

            if (!xml)
                abort();
            /* what virsh dumpxml shows of a device attaches again as it is */
            if (!(back = vrt_domain_device_def_parse(xml, NULL, 0, &error))) {
                fprintf(stderr, "formatted device does not parse: %s\n%s\n", error->message, xml);
                abort();
            }
            again = vrt_domain_device_def_format(back, 0, NULL);
            if (!again || strcmp(again, xml) != 0) {
                fprintf(stderr, "device format is not stable:\n%s\n---\n%s\n", xml, again ? again : "(null)");
                abort();
            }
        }
        return 0;
    }
    {
        g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(text, 0, NULL);
        if (!def)
            return 0;
        check_round_trip(def, VRT_DOMAIN_XML_INACTIVE);
        if (vrt_domain_def_assign_addresses(def, NULL)) {
            def->id = 1;
            check_round_trip(def, VRT_DOMAIN_XML_STATUS);
            check_round_trip(def, VRT_DOMAIN_XML_INACTIVE);
        }
    }
    return 0;
}
