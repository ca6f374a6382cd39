/*
 * libvirt's node device XML (nodedev.rng): the definition of one host
 * device (the computer, a PCI function or a network interface) as the
 * node device driver reads it from sysfs, and its formatter.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "util/pciaddr.h"

typedef enum {
    VRT_NODEDEV_CAP_SYSTEM,
    VRT_NODEDEV_CAP_PCI,
    VRT_NODEDEV_CAP_NET,
} VrtNodedevCapType;

/* libvirt's capability name for a type ("system", "pci", "net"). */
const char *vrt_nodedev_cap_type_to_string(VrtNodedevCapType type);

typedef struct {
    char *name; /* "pci_0000_06_10_0" */
    char *path; /* sysfs path, may be NULL */
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
    } pci;

    struct {
        char *ifname;
        char *mac; /* may be NULL */
        char *link_state; /* "up", "down", ... may be NULL */
        guint speed; /* Mb/s, 0 when unknown */
    } net;
} VrtNodedevDef;

VrtNodedevDef *vrt_nodedev_def_new(VrtNodedevCapType type);
void vrt_nodedev_def_free(VrtNodedevDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNodedevDef, vrt_nodedev_def_free)

/* The <device> document for def (caller frees). */
char *vrt_nodedev_def_format(const VrtNodedevDef *def);
