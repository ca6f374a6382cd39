/*
 * The PCI address (domain:bus:slot.function) every part of vrt uses: a
 * host function in sysfs, a guest device's <address type='pci'>, a hostdev
 * source, a network's VF pool, a port's plug, a node device. One type so
 * that no layer converts addresses between its own copies.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "util/tristate.h"

#define VRT_PCI_MAX_DOMAIN 0xffff
#define VRT_PCI_MAX_BUS 0xff
#define VRT_PCI_MAX_SLOT 0x1f
#define VRT_PCI_MAX_FUNCTION 0x7

typedef struct {
    guint domain; /* 0..0xffff */
    guint bus; /* 0..0xff */
    guint slot; /* 0..0x1f */
    guint function; /* 0..7 */
    /* multifunction= of a guest device's or hostdev source's <address>
     * (libvirt's virPCIDeviceAddress has it too); ignored by everything
     * else, vrt_pci_addr_equal included. */
    VrtTristate multifunction;
} VrtPciAddr;

/* "0000:06:10.0" (the domain may be omitted: "06:10.0"); anything else
 * gives VIR_ERR_INVALID_ARG naming the text. */
bool vrt_pci_addr_parse(const char *text, VrtPciAddr *addr, GError **error);
/* "pci_0000_06_10_0" (libvirt's node device name). */
bool vrt_pci_addr_parse_nodedev_name(const char *name, VrtPciAddr *addr);
/* "0000:06:10.0" */
char *vrt_pci_addr_format(const VrtPciAddr *addr);
/* The same text into a caller's buffer, for messages and files written
 * in a loop (as vrt_mac_format); returns out. */
#define VRT_PCI_ADDR_STRING_LEN 13 /* "ffff:ff:1f.7" + NUL */
const char *vrt_pci_addr_format_buf(const VrtPciAddr *addr, char out[VRT_PCI_ADDR_STRING_LEN]);
/* "pci_0000_06_10_0" */
char *vrt_pci_addr_nodedev_name(const VrtPciAddr *addr);
/* Appends the XML attributes as libvirt writes them:
 * " domain='0x0000' bus='0x06' slot='0x10' function='0x0'". */
void vrt_pci_addr_format_attrs(GString *out, const VrtPciAddr *addr);
bool vrt_pci_addr_equal(const VrtPciAddr *a, const VrtPciAddr *b);
