/*
 * A domain's memory hotplug space (<maxMemory slots= unit=>) and its
 * memory devices (<devices><memory model='dimm'|'nvdimm'|'virtio-mem'|
 * 'virtio-pmem'>). They live in the domain's VrtDomainMemDef; the QEMU
 * driver turns them into -m slots=,maxmem= and a backend object plus a
 * pc-dimm, nvdimm, virtio-mem-pci or virtio-pmem-pci device each.
 */
#pragma once

#include "conf/domain/domain_conf.h"

typedef enum {
    VRT_MEMDEV_DIMM = 0,
    VRT_MEMDEV_NVDIMM,
    VRT_MEMDEV_VIRTIO_PMEM,
    VRT_MEMDEV_VIRTIO_MEM,
} VrtDomainMemoryModel;

extern const char *const vrt_memdev_model_names[];

typedef struct {
    VrtDomainMemoryModel model;
    char *access; /* access='shared'|'private', NULL: the domain's */
    VrtTristate discard;
    /* <source> */
    char *nodemask; /* canonical host node set, NULL: none */
    guint64 pagesize_kib; /* 0: none */
    char *path; /* nvdimm, virtio-pmem */
    guint64 alignsize_kib;
    bool pmem;
    /* <target> */
    guint64 size_kib;
    int node; /* guest NUMA node, -1: none */
    guint64 label_kib;
    bool readonly;
    guint64 block_kib; /* virtio-mem */
    guint64 requested_kib;
    /* <address type='dimm' slot= base=> (dimm, nvdimm) */
    bool dimm_addr;
    guint slot;
    guint64 base; /* 0: none */
    VrtDomainDeviceInfo info; /* the PCI address of virtio-mem and virtio-pmem */
} VrtDomainMemoryDevDef;

/* the memory devices' total (KiB) */
guint64 vrt_domain_memdevs_kib(const VrtDomainDef *def);
/* libvirt's checks of the hotplug space and slots, once the definition is whole */
bool vrt_domain_memdevs_post_parse(VrtDomainDef *def, GError **error);
/* free <address type='dimm'> slots to the devices without one */
void vrt_domain_memdevs_assign_slots(VrtDomainDef *def);
/* the memory device `i` of the domain, NULL past the last */
VrtDomainMemoryDevDef *vrt_domain_memdev(const VrtDomainDef *def, guint i);
void vrt_domain_memdev_free(VrtDomainMemoryDevDef *m);
