/*
 * A network interface's offload features as libvirt's node device driver
 * reads them (virNetDevGetFeatures): the legacy ethtool get commands
 * (rx/tx checksumming, scatter-gather, TSO, GSO, GRO), the ethtool flags
 * (LRO, VLAN offloads, ntuple, receive hashing) and, from the feature
 * bitmap, UDP tunnel segmentation. Read with SIOCETHTOOL on the host's
 * kernel only: under any other host root (a simulated host, the tests'
 * trees) an interface has no features.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "host/host.h"

/* libvirt's feature names in its order ("rx", "tx", ..., "txudptnl"), or
 * an empty array when the interface answers none (never NULL). */
GPtrArray *vrt_host_net_features(VrtHost *host, const char *ifname);
