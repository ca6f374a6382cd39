/*
 * SIOCETHTOOL queries for a network interface's features (see ethtool.h),
 * asked the way libvirt 9.0 asks them so that the node device XML lists
 * the same <feature> elements: a command that fails (the driver does not
 * implement it) leaves its feature out, as in libvirt.
 */
#include "host/ethtool.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The bit of NETIF_F_GSO_UDP_TUNNEL in the kernel's feature bitmap (the
 * same fixed number libvirt uses). */
#define VRT_ETHTOOL_TX_UDP_TNL 25

static bool
host_is_kernel(VrtHost *host)
{
    g_autofree char *proc = host ? vrt_host_path(host, "/proc") : NULL;
    return proc && g_str_equal(proc, "/proc") && !vrt_host_is_simulated(host);
}

static bool
ethtool(int fd, const char *ifname, void *cmd)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    g_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
    ifr.ifr_data = cmd;
    return ioctl(fd, SIOCETHTOOL, &ifr) == 0;
}

GPtrArray *
vrt_host_net_features(VrtHost *host, const char *ifname)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    static const struct {
        guint32 cmd;
        const char *name;
    } values[] = {
        { ETHTOOL_GRXCSUM, "rx" }, { ETHTOOL_GTXCSUM, "tx" }, { ETHTOOL_GSG, "sg" },
        { ETHTOOL_GTSO, "tso" },   { ETHTOOL_GGSO, "gso" },   { ETHTOOL_GGRO, "gro" },
    };
    static const struct {
        guint32 flag;
        const char *name;
    } flags[] = {
        { ETH_FLAG_LRO, "lro" },       { ETH_FLAG_RXVLAN, "rxvlan" }, { ETH_FLAG_TXVLAN, "txvlan" },
        { ETH_FLAG_NTUPLE, "ntuple" }, { ETH_FLAG_RXHASH, "rxhash" },
    };
    if (!host_is_kernel(host) || !ifname || strlen(ifname) >= IFNAMSIZ)
        return out;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return out;
    for (gsize i = 0; i < G_N_ELEMENTS(values); i++) {
        struct ethtool_value v = { .cmd = values[i].cmd };
        if (ethtool(fd, ifname, &v) && v.data)
            g_ptr_array_add(out, g_strdup(values[i].name));
    }
    struct ethtool_value fl = { .cmd = ETHTOOL_GFLAGS };
    if (ethtool(fd, ifname, &fl)) {
        for (gsize i = 0; i < G_N_ELEMENTS(flags); i++)
            if (fl.data & flags[i].flag)
                g_ptr_array_add(out, g_strdup(flags[i].name));
    }
    /* libvirt's "rdma" (an InfiniBand device beside the interface) comes
     * here in its order; vrt does not look for RDMA devices. */
    gsize blocks = (VRT_ETHTOOL_TX_UDP_TNL + 32) / 32;
    g_autofree struct ethtool_gfeatures *gf =
        g_malloc0(sizeof(struct ethtool_gfeatures) + blocks * sizeof(struct ethtool_get_features_block));
    gf->cmd = ETHTOOL_GFEATURES;
    gf->size = blocks;
    if (ethtool(fd, ifname, gf) &&
        (gf->features[VRT_ETHTOOL_TX_UDP_TNL / 32].active & (1u << (VRT_ETHTOOL_TX_UDP_TNL % 32))))
        g_ptr_array_add(out, g_strdup("txudptnl"));
    close(fd);
    return out;
}
