/*
 * The virtio transport options libvirt accepts in the <driver> of every
 * virtio device (iommu, ats, packed, page_per_vq): read, written back in
 * libvirt's order after the device's own driver attributes, and checked
 * to be absent on devices that are not virtio as libvirt checks. QEMU
 * gets them as the device's iommu_platform, ats, packed and page-per-vq
 * properties (qemu_command.c).
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>

#include "util/tristate.h"

typedef struct {
    VrtTristate iommu;
    VrtTristate ats;
    VrtTristate packed;
    VrtTristate page_per_vq;
} VrtVirtioOptions;

/* Reads the four on/off attributes of a <driver> element (the caller
 * lists them among the attributes it allows: VRT_VIRTIO_OPTION_ATTRS). */
bool vrt_virtio_options_parse(xmlNodePtr driver, VrtVirtioOptions *o, GError **error);
bool vrt_virtio_options_present(const VrtVirtioOptions *o);
/* The <driver> of a device whose driver element holds only these options
 * (virtio input, video, RNG, balloon): other attributes refused, and a
 * second <driver> with options refused as libvirt's schema refuses it. */
bool vrt_virtio_driver_parse(xmlNodePtr driver, VrtVirtioOptions *o, GError **error);
/* " iommu='on' ats='off'..." in libvirt's order */
void vrt_virtio_options_format(GString *attrs, const VrtVirtioOptions *o);
/* libvirt's refusal of the options on a device that is not virtio */
bool vrt_virtio_options_check_absent(const VrtVirtioOptions *o, GError **error);

/* An attribute read as libvirt's virXMLPropEnum with
 * VIR_XML_PROP_NONZERO reads it: absent leaves *out alone, an unknown
 * value or the table's first ("default") is VIR_ERR_XML_ERROR naming it. */
bool vrt_domain_prop_enum_nonzero(xmlNodePtr node, const char *name, const char *const *table, int *out,
                                  GError **error);
/* An on/off attribute read as libvirt's virXMLPropTristateSwitch reads
 * it ('default' or another value: VIR_ERR_XML_ERROR naming it). */
bool vrt_domain_prop_switch(xmlNodePtr node, const char *name, VrtTristate *out, GError **error);

#define VRT_VIRTIO_OPTION_ATTRS "iommu", "ats", "packed", "page_per_vq"
