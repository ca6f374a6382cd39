/*
 * libvirt's node device XML (nodedev.rng): the definition of one host
 * device (the computer, a PCI function, a network interface or a block
 * device) as the node device driver reads it from sysfs, and its
 * formatter.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "util/pciaddr.h"

typedef enum {
    VRT_NODEDEV_CAP_SYSTEM,
    VRT_NODEDEV_CAP_PCI,
    VRT_NODEDEV_CAP_NET,
    VRT_NODEDEV_CAP_STORAGE,
} VrtNodedevCapType;

/* libvirt's capability name for a type ("system", "pci", "net",
 * "storage"). */
const char *vrt_nodedev_cap_type_to_string(VrtNodedevCapType type);

typedef struct {
    char *name; /* "pci_0000_06_10_0" */
    char *path; /* sysfs path, may be NULL */
    char *devnode; /* <devnode type='dev'>, NULL: none */
    char *parent; /* parent's name, NULL for the computer */
    char *driver; /* bound driver, may be NULL */
    VrtNodedevCapType type;

    struct {
        char *product;
        char *hw_vendor, *hw_version, *hw_serial, *hw_uuid;
        char *fw_vendor, *fw_version, *fw_date;
    } system;

    struct {
        guint klass; /* 0xCCSSPP, -1 (G_MAXUINT) when unknown */
        VrtPciAddr addr;
        guint vendor_id, product_id;
        char *vendor_name, *product_name;
        bool is_vf;
        VrtPciAddr pf; /* when is_vf */
        bool is_pf;
        guint max_vfs; /* when is_pf */
        GArray *vfs; /* VrtPciAddr, when is_pf */
        int iommu_group; /* -1 when none */
        GArray *iommu_addrs; /* VrtPciAddr */
        int numa_node; /* -1 when unknown */
        guint hdr_type; /* config header type: 1 pci-bridge, 2 cardbus-bridge */
        bool pcie; /* a PCI Express function (<pci-express>) */
        bool pcie_link; /* with a link: the numbers below */
        guint link_cap_port, link_cap_speed, link_cap_width; /* speed: PCIe generation 1-6, 0 unknown */
        guint link_sta_speed, link_sta_width;
    } pci;

    struct {
        char *ifname;
        char *mac; /* may be NULL */
        char *link_state; /* "up", "down", ... may be NULL */
        guint speed; /* Mb/s, 0 when not read; G_MAXUINT is the kernel's
                      * "unknown" (-1), written as libvirt writes it */
        GStrv features; /* <feature name=...> in libvirt's order, NULL: none */
    } net;

    struct {
        char *block; /* /dev/vda */
        char *bus, *drive_type, *model, *vendor, *serial; /* NULL: absent */
        guint64 size, logical_block_size, num_blocks;
    } storage;
} VrtNodedevDef;

VrtNodedevDef *vrt_nodedev_def_new(VrtNodedevCapType type);
void vrt_nodedev_def_free(VrtNodedevDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNodedevDef, vrt_nodedev_def_free)

/* The <device> document for def (caller frees). */
char *vrt_nodedev_def_format(const VrtNodedevDef *def);
