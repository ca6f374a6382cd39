/*
 * libFuzzer target for the rtnetlink decoders: replies come from the kernel
 * or the simulator and requests from our encoder, but the decoders must
 * hold on any bytes. Each input is fed, whole, to every decoder: as the
 * RTM_NEWLINK reply to a GETLINK (VF 1 asked for), as an RTM_SETLINK
 * request (the simulator's side) and as one datagram of an RTM_GETADDR
 * dump (sequence 7, interface 5: the numbers the seeds in
 * fuzz-netlink-corpus/ carry, made by fuzz/gen_netlink_seeds.py). What a
 * decoder accepts is encoded again and decoded once more, and must come
 * back the same: the daemon writes with these encoders what it read with
 * these decoders (a VF's saved MAC and VLAN are restored from it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/netlink.h"

#define FUZZ_VF 1
#define FUZZ_SEQ 7
#define FUZZ_IFINDEX 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_fields(const VrtVfInfo *a, const VrtVfInfo *b, guint fields)
{
    if ((fields & VRT_VF_FIELD_MAC) && memcmp(a->mac, b->mac, VRT_MAC_LEN) != 0)
        return false;
    if ((fields & VRT_VF_FIELD_VLAN) && (a->vlan != b->vlan || a->qos != b->qos))
        return false;
    if ((fields & VRT_VF_FIELD_SPOOFCHK) && a->spoofchk != b->spoofchk)
        return false;
    if ((fields & VRT_VF_FIELD_TRUST) && a->trust != b->trust)
        return false;
    return true;
}

static void
fuzz_newlink(const uint8_t *data, size_t size)
{
    VrtVfInfo vfs[FUZZ_VF + 1] = { 0 };
    VrtVfInfo again = { 0 };
    const guint all = VRT_VF_FIELD_MAC | VRT_VF_FIELD_VLAN | VRT_VF_FIELD_SPOOFCHK | VRT_VF_FIELD_TRUST;

    if (!vrt_netlink_decode_vf(data, size, FUZZ_VF, &vfs[FUZZ_VF], NULL))
        return;
    g_autoptr(GByteArray) msg = vrt_netlink_encode_newlink(FUZZ_SEQ, "pf0", vfs, FUZZ_VF + 1);
    if (!vrt_netlink_decode_vf(msg->data, msg->len, FUZZ_VF, &again, NULL) || !same_fields(&vfs[FUZZ_VF], &again, all))
        abort();
}

static void
fuzz_setlink(const uint8_t *data, size_t size)
{
    g_autofree char *ifname = NULL;
    g_autofree char *ifname2 = NULL;
    VrtVfInfo info = { 0 }, info2 = { 0 };
    guint vf, vf2, fields, fields2;

    if (!vrt_netlink_decode_setlink_vf(data, size, &ifname, &vf, &info, &fields, NULL))
        return;
    g_autoptr(GByteArray) msg = vrt_netlink_encode_setlink_vf(FUZZ_SEQ, ifname, vf, &info, fields);
    if (!vrt_netlink_decode_setlink_vf(msg->data, msg->len, &ifname2, &vf2, &info2, &fields2, NULL) ||
        strcmp(ifname, ifname2) != 0 || vf != vf2 || fields != fields2 || !same_fields(&info, &info2, fields))
        abort();
}

static void
fuzz_addr_dump(const uint8_t *data, size_t size)
{
    guint count = 0;
    bool done = false;

    if (vrt_netlink_decode_addr_dump(data, size, FUZZ_SEQ, FUZZ_IFINDEX, &count, &done, NULL)) {
        /* Each address is one message of at least a header. */
        if (count > size / 16)
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_newlink(data, size);
    fuzz_setlink(data, size);
    fuzz_addr_dump(data, size);
    return 0;
}
