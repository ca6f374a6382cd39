/*
 * libvirt's domain states (virDomainState), defined once for both sides of
 * the wire: vrtd's QEMU driver keeps a domain's state in these numbers and
 * sends them (remote_domain_get_state_ret, remote_domain_get_info_ret), and
 * libvrt hands them to its callers through vrt.h.
 *
 * vrt.h includes this file, so it is one of libvrt's public headers
 * (installed beside vrt.h): plain C, standing alone, no glib, nothing of the
 * daemon. It lives here, with the wire protocol, because both the daemon's
 * drivers and the client may use protocol/ but neither may use the other.
 */
#pragma once

/* virDomainState */
enum {
    VRT_DOMAIN_NOSTATE = 0,
    VRT_DOMAIN_RUNNING = 1,
    VRT_DOMAIN_BLOCKED = 2,
    VRT_DOMAIN_PAUSED = 3,
    VRT_DOMAIN_SHUTDOWN = 4,
    VRT_DOMAIN_SHUTOFF = 5,
    VRT_DOMAIN_CRASHED = 6,
    VRT_DOMAIN_PMSUSPENDED = 7,
};
