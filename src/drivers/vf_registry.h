/*
 * The VF ownership registry: who holds a PCI function (an SR-IOV VF, or
 * any PCI device a domain is given) right now. One registry per daemon,
 * made by the daemon and handed to the network, QEMU and node device
 * drivers, which all claim through it instead of each asking the others:
 *   - a port of a hostdev network, for a domain (network driver);
 *   - a domain's own <hostdev> or <interface type='hostdev'> (QEMU driver);
 *   - a node device detach, reattach or reset while it changes the host
 *     (node device driver).
 * A claim is a check and a take under the registry's one lock, so two
 * claimants of one address never both succeed. The registry holds memory
 * only: each driver rebuilds its claims when the daemon starts (the network
 * driver from its port files, the QEMU driver from its domains' status) and
 * gives them back when its own state says the device is free. The lock is
 * innermost: no I/O and no call out is made while it is held, and callers
 * may hold their own locks when they call in.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "util/pciaddr.h"

typedef enum {
    VRT_VF_HOLDER_PORT = 1, /* a port of a hostdev network, for a domain */
    VRT_VF_HOLDER_DOMAIN, /* a domain's own <hostdev> / <interface type='hostdev'> */
    VRT_VF_HOLDER_NODEDEV, /* a node device detach/reattach/reset, while it runs */
} VrtVfHolderKind;

typedef struct {
    VrtVfHolderKind kind;
    char *domain; /* PORT, DOMAIN: the domain's name */
    guchar domain_uuid[16]; /* PORT, DOMAIN: who it is (the same holder is the same uuid) */
    char *network; /* PORT: the network */
    guchar port_uuid[16]; /* PORT: the port (the same holder is the same port) */
    char *what; /* NODEDEV: the operation ("detach", "reattach", "reset") */
    guint64 op; /* NODEDEV: unique per operation (the same holder is the same operation) */
} VrtVfHolder;

VrtVfHolder *vrt_vf_holder_new_port(const char *network, const guchar port_uuid[16], const char *domain,
                                    const guchar domain_uuid[16]);
VrtVfHolder *vrt_vf_holder_new_domain(const char *domain, const guchar domain_uuid[16]);
VrtVfHolder *vrt_vf_holder_new_nodedev(const char *what);
VrtVfHolder *vrt_vf_holder_copy(const VrtVfHolder *holder);
void vrt_vf_holder_free(VrtVfHolder *holder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtVfHolder, vrt_vf_holder_free)

/* Whether a and b are the same claimant: the same port, the same domain,
 * the same node device operation (each new nodedev holder is another). */
bool vrt_vf_holder_same(const VrtVfHolder *a, const VrtVfHolder *b);
/* "domain 'g'", "domain 'g' (port UUID of network 'pool')", "node device
 * detach": for messages. */
char *vrt_vf_holder_describe(const VrtVfHolder *holder);

typedef struct _VrtVfRegistry VrtVfRegistry;

VrtVfRegistry *vrt_vf_registry_new(void);
void vrt_vf_registry_free(VrtVfRegistry *reg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtVfRegistry, vrt_vf_registry_free)

/* Takes addr for holder when nobody holds it, or when holder already does (a retry or a
 * restart's rebuild). Otherwise nothing changes, *other (when not NULL)
 * gets a copy of the current holder and error says "PCI device ADDR is in
 * use by ..." (VIR_ERR_OPERATION_INVALID). */
bool vrt_vf_registry_claim(VrtVfRegistry *reg, const VrtPciAddr *addr, const VrtVfHolder *holder, VrtVfHolder **other,
                           GError **error);

/* As claim, and first, under the same lock, refuses addr when one of the
 * other functions of its IOMMU group (group: the group's addresses, addr
 * among them or not) is held for another domain: VFIO gives a group to one
 * container, so libvirt gives a group's devices to one domain at a time.
 * The refusal is libvirt's, naming the other domain's device:
 * "PCI device OTHER is in use by driver QEMU, domain NAME"
 * (VIR_ERR_OPERATION_INVALID), *other (when not NULL) its holder; addr
 * itself held by another domain is refused in the same words. A node
 * device operation on a group mate is no domain's and does not refuse. */
bool vrt_vf_registry_claim_in_group(VrtVfRegistry *reg, const VrtPciAddr *addr, const GPtrArray *group,
                                    const VrtVfHolder *holder, VrtVfHolder **other, GError **error);

/* Gives addr back if holder holds it (true); any other holder keeps it
 * (false), so a rollback never frees someone else's claim. */
bool vrt_vf_registry_release(VrtVfRegistry *reg, const VrtPciAddr *addr, const VrtVfHolder *holder);

/* A copy of addr's holder, or NULL when it is free. */
VrtVfHolder *vrt_vf_registry_lookup(VrtVfRegistry *reg, const VrtPciAddr *addr);

/* Number of addresses held (for tests and invariant checks). */
guint vrt_vf_registry_count(VrtVfRegistry *reg);
