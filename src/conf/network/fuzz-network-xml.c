/*
 * libFuzzer target for the network and network port XML parsers: any
 * input must either fail with a GError or parse into a definition whose
 * formatted XML parses again to the same text.
 */
#include "conf/network/network_conf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = g_strndup((const char *)data, size);

    g_autoptr(VrtNetworkDef) def = vrt_network_def_parse(xml, VRT_NETWORK_PARSE_STATUS, NULL);
    if (def) {
        g_autofree char *out = vrt_network_def_format(def);
        g_autoptr(GError) err = NULL;
        g_autoptr(VrtNetworkDef) again = vrt_network_def_parse(out, VRT_NETWORK_PARSE_STATUS, &err);
        if (!again) {
            /* our own output must parse */
            fprintf(stderr, "formatted network XML does not parse again: %s\n%s", err->message, out);
            abort();
        }
        g_autofree char *out2 = vrt_network_def_format(again);
        if (strcmp(out, out2) != 0) {
            fprintf(stderr, "formatted network XML changes when parsed again:\n%s---\n%s", out, out2);
            abort();
        }
    }
    g_autoptr(VrtNetworkPortDef) port = vrt_network_port_def_parse(xml, NULL);
    if (port) {
        g_autofree char *out = vrt_network_port_def_format(port);
        g_autoptr(GError) err = NULL;
        g_autoptr(VrtNetworkPortDef) again = vrt_network_port_def_parse(out, &err);
        if (!again) {
            fprintf(stderr, "formatted port XML does not parse again: %s\n%s", err->message, out);
            abort();
        }
        g_autofree char *out2 = vrt_network_port_def_format(again);
        if (strcmp(out, out2) != 0) {
            fprintf(stderr, "formatted port XML changes when parsed again:\n%s---\n%s", out, out2);
            abort();
        }
    }
    return 0;
}
