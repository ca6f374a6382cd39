/*
 * The host seam: the one object through which vrt reads and changes the
 * host it runs on (sysfs, /dev/vfio, /proc, rtnetlink). A VrtHost is made from a
 * root prefix: "/" on a real host, the directory of a simulated host in
 * tests (tests/hostsim). Every path given to these helpers is an absolute
 * host path ("/sys/bus/pci/devices/0000:06:10.0/driver_override") resolved
 * under the root, and every error names that host path.
 *
 * Netlink backend: when "<root>/.vrt-hostsim" exists the host is simulated
 * and rtnetlink messages go, byte for byte as the kernel would get them,
 * over the SOCK_SEQPACKET socket "<root>/run/vrt-hostsim/netlink.sock"
 * (overridable with a "netlink=RELATIVE/PATH" line in the marker);
 * otherwise they go to the kernel over AF_NETLINK.
 *
 * Fault injection: a fault function, when set, is asked before every
 * host-changing operation (sysfs write, netlink change) and may fail it;
 * tests use it to stop at a chosen step.
 *
 * Kernel stand-in: a write function, when set, takes every sysfs write in
 * place of the file (after the fault function). The golden hotplug tests
 * use it to run the host tree as plain files and links, without FUSE: it
 * makes the change the kernel would (unbind drops the driver link, ...).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "host/netlink.h"

typedef struct _VrtHost VrtHost;

/* Asked before each host change; `what` is e.g. "write /sys/.../unbind" or
 * "netlink setlink ens1f0 vf 2". Return false and set error to fail it. */
typedef bool (*VrtHostFaultFunc)(const char *what, gpointer data, GError **error);

VrtHost *vrt_host_new(const char *root, GError **error);
void vrt_host_free(VrtHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtHost, vrt_host_free)

bool vrt_host_is_simulated(VrtHost *host);
/* The netlink channel of this host (owned by the host). */
VrtNetlink *vrt_host_netlink(VrtHost *host);
void vrt_host_set_fault_func(VrtHost *host, VrtHostFaultFunc func, gpointer data);
/* Takes every vrt_host_write(path, value) instead of the file; path is
 * the host path ("/sys/bus/pci/drivers_probe"). Set it before the host is
 * shared between threads. */
typedef bool (*VrtHostWriteFunc)(const char *path, const char *value, gpointer data, GError **error);
void vrt_host_set_write_func(VrtHost *host, VrtHostWriteFunc func, gpointer data);
/* Runs the fault function for a change described by `what`. */
bool vrt_host_check_fault(VrtHost *host, const char *what, GError **error);

/* Serializes driver changes of PCI functions (detach, reattach, reset)
 * across every user of this host; recursive. Innermost lock: take no
 * other lock while holding it. A scoped guard:
 * g_autoptr(GRecMutexLocker) locker = vrt_host_changes_locker(host); */
GRecMutexLocker *vrt_host_changes_locker(VrtHost *host);

/* The real path of a host path (caller frees). */
char *vrt_host_path(VrtHost *host, const char *path);
bool vrt_host_exists(VrtHost *host, const char *path);

/* Contents of an attribute without the trailing newline. */
char *vrt_host_read(VrtHost *host, const char *path, GError **error);
/* An attribute holding a number (decimal or 0x-prefixed hex). */
bool vrt_host_read_u64(VrtHost *host, const char *path, guint64 *value, GError **error);
/* Writes `value` in one write(2) call, as sysfs wants (the file truncated first). */
bool vrt_host_write(VrtHost *host, const char *path, const char *value, GError **error);
/* Target of a symlink, as stored. */
char *vrt_host_readlink(VrtHost *host, const char *path, GError **error);
/* Last component of a symlink's target, or NULL without error when the
 * link does not exist (e.g. "driver" of an unbound device). */
char *vrt_host_link_name(VrtHost *host, const char *path, GError **error);
/* Sorted names in a directory; an empty array when it does not exist. */
GPtrArray *vrt_host_list_dir(VrtHost *host, const char *path, GError **error);
