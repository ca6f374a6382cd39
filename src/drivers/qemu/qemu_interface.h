/*
 * Tap-backed guest interfaces: <interface type='network'> on an isolated,
 * nat, route, open or bridge network, and <interface type='bridge'> on a
 * host whose root is "/". vrtd takes a network port for each (the
 * network driver persists it), opens a tap (/dev/net/tun), gives it the
 * guest's MAC with 0xFE as first byte (so the bridge never takes the
 * guest's address as its own, as libvirt) and the interface's MTU,
 * enslaves it to the bridge and hands the descriptor to QEMU: inherited
 * at start (-netdev tap,fd=N), by getfd before netdev_add at hotplug. The
 * tap lives as long as QEMU holds it; the port is released at detach,
 * stop and crash (qemu_process.c, the detach job's release step).
 */
#pragma once

#include "drivers/qemu/qemu_domain.h"

/* The taps of one start: vrtd's descriptors and the number each gets in
 * QEMU; the ports taken for them, released on free unless kept. */
typedef struct {
    GArray *fds; /* int: vrtd's copies, in the order QEMU gets them */
    GHashTable *names; /* interface alias -> descriptor number in QEMU (text) */
    GPtrArray *ports; /* (network name, port uuid) taken, for the rollback */
    VrtQemuDom *obj;
    bool keep; /* the start went through: ports stay */
} VrtQemuTaps;

VrtQemuTaps *vrt_qemu_taps_new(VrtQemuDom *obj);
void vrt_qemu_taps_free(VrtQemuTaps *taps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtQemuTaps, vrt_qemu_taps_free)

/* True when net is backed by a tap vrtd opens. */
bool vrt_qemu_interface_wants_tap(VrtQemuDom *obj, const VrtDomainNetDef *net);

/* For each such interface of def (a start's copy): port, tap, and its
 * descriptor number first_fd + i in QEMU. */
bool vrt_qemu_interface_prepare_start(VrtQemuDom *obj, VrtDomainDef *def, int first_fd, VrtQemuTaps *taps,
                                      GError **error);

/* Takes the port of one interface (type network) and opens its tap;
 * returns vrtd's descriptor (the caller closes it), -1 with an error and
 * nothing taken. net's actual data and ifname are filled. */
int vrt_qemu_interface_open(VrtQemuDom *obj, const VrtDomainDef *def, VrtDomainNetDef *net, GError **error);

/* The <bandwidth> in effect on net's tap: its port's (the interface's or
 * its portgroup's) for type network, its own otherwise. */
const VrtBandwidth *vrt_qemu_interface_bandwidth(const VrtDomainNetDef *net);

/* The <port isolated> in effect on net's bridge port: the interface's
 * own, else (type network) its network's. */
VrtTristate vrt_qemu_interface_port_isolated(const VrtDomainNetDef *net);

/* Sets that bandwidth on net's tap with tc (removes any when it has none). */
bool vrt_qemu_interface_apply_bandwidth(const VrtDomainNetDef *net, GError **error);

/* Gives the running domain's interface with this alias the portgroup
 * (network only) and <bandwidth> given: its port's bandwidth and floor
 * (the network driver), then its tap's tc, put back as they were when tc
 * refuses; the live definition and status follow. Job held, lock NOT held. */
bool vrt_qemu_interface_update_live(VrtQemuDom *obj, const char *alias, const char *portgroup, const VrtBandwidth *bw,
                                    GError **error);

/* Gives the running domain's interface with this alias its own <port
 * isolated> (DEFAULT: none, its network's applies): the tap's bridge port
 * follows, then the live definition and status (libvirt changes it live
 * too). Job held, lock NOT held. */
bool vrt_qemu_interface_update_isolated(VrtQemuDom *obj, const char *alias, VrtTristate own, GError **error);

/* domiftune (virDomainGet/SetInterfaceParameters, qemu_iftune.c): the
 * seven inbound.* and outbound.* UINT parameters of the interface named
 * by MAC or tap name, in the live or persistent definition. */
GPtrArray *vrt_qemu_domain_get_interface_params(VrtQemuDriver *drv, const guchar *uuid, const char *device, guint flags,
                                                GError **error);
bool vrt_qemu_domain_set_interface_params(VrtQemuDriver *drv, const guchar *uuid, const char *device, GPtrArray *params,
                                          guint flags, GError **error);

/* Gives back the port of one interface (nothing for one without). */
void vrt_qemu_interface_release(VrtQemuDom *obj, const char *dom_name, VrtDomainNetDef *net);

/* Gives back the ports of every tap-backed interface of the domain's live
 * definition (a stop, a crash). Takes the object lock itself. */
void vrt_qemu_interface_release_all(VrtQemuDom *obj);

/* At daemon start, after the reconnects: gives back the tap-backed ports
 * of the QEMU driver's domains that no running domain's interface holds (a
 * start or stop cut short by a kill); ports of other owners stay. */
void vrt_qemu_interface_driver_load(VrtQemuDriver *drv);
