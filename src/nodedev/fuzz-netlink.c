/*
 * Fuzzer for the rtnetlink decoders: replies come from the kernel or the
 * simulator and requests from our encoder, but the decoders must hold on
 * any bytes.
 */
#include <stddef.h>
#include <stdint.h>

#include "nodedev/netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VrtVfInfo info;
    char *ifname = NULL;
    guint vf, fields;

    vrt_netlink_decode_vf(data, size, size ? data[0] % 8 : 0, &info, NULL);
    vrt_netlink_decode_setlink_vf(data, size, &ifname, &vf, &info, &fields, NULL);
    g_free(ifname);
    {
        guint count = 0;
        bool done = false;

        vrt_netlink_decode_addr_dump(data, size, 0, size ? data[0] : 0, &count, &done, NULL);
    }
    return 0;
}
