/*
 * The QEMU driver's calls on a running domain's live state beside the
 * everyday ones: vCPU hotplug (virDomainSetVcpusFlags with AFFECT_LIVE),
 * job statistics (virDomainGetJobStats), interface addresses from DHCP
 * leases, the host's ARP table or the guest agent (virDomainInterfaceAddresses),
 * the guest's hostname (virDomainGetHostname), the balloon's statistics
 * period (virDomainSetMemoryStatsPeriod) and the dirty page rate
 * (virDomainStartDirtyRateCalc). Numbers, errors and behaviour are libvirt
 * 9.0's QEMU driver's.
 */
#pragma once
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_driver_stats.h"

#define VRT_DOMAIN_JOB_STATS_COMPLETED 1u
#define VRT_DOMAIN_GET_HOSTNAME_LEASE 1u
#define VRT_DOMAIN_GET_HOSTNAME_AGENT 2u
#define VRT_DOMAIN_DIRTYRATE_MODE_DIRTY_BITMAP 2u
#define VRT_DOMAIN_DIRTYRATE_MODE_DIRTY_RING 4u

/* virDomainInterfaceAddressesSource */
enum {
    VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE = 0,
    VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT = 1,
    VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP = 2,
};

typedef struct {
    int type; /* virIPAddrType: ipv4 0, ipv6 1 */
    char *addr;
    guint prefix;
} VrtDomainIpAddr;

typedef struct {
    char *name;
    char *hwaddr; /* NULL when unknown */
    GArray *addrs; /* VrtDomainIpAddr */
} VrtDomainIface;
void vrt_domain_iface_free(VrtDomainIface *iface);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainIface, vrt_domain_iface_free)

/* virDomainGetJobStats: no long job is ever current, so the type is
 * VIR_DOMAIN_JOB_NONE (0) with no parameters; the current job's needs a
 * running domain, the completed one's does not (a completed save's
 * statistics are qemu_jobinfo.h's, which the daemon's handler adds). */
bool vrt_qemu_domain_get_job_stats(VrtQemuDriver *drv, const guchar *uuid, guint flags, int *type, GError **error);

/* virDomainInterfaceAddresses: array of VrtDomainIface*. */
GPtrArray *vrt_qemu_domain_interface_addresses(VrtQemuDriver *drv, const guchar *uuid, guint source, guint flags,
                                               GError **error);
/* virDomainGetHostname (flags LEASE or AGENT, default AGENT). */
char *vrt_qemu_domain_get_hostname(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
/* virDomainSetMemoryStatsPeriod (AFFECT_LIVE / AFFECT_CONFIG). */
bool vrt_qemu_domain_set_memory_stats_period(VrtQemuDriver *drv, const guchar *uuid, int period, guint flags,
                                             GError **error);
/* virDomainStartDirtyRateCalc: QMP calc-dirty-rate for seconds (1..60). */
bool vrt_qemu_domain_start_dirty_rate_calc(VrtQemuDriver *drv, const guchar *uuid, int seconds, guint flags,
                                           GError **error);
