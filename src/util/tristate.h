/*
 * A yes/no (or on/off) setting that may also be left unset, as libvirt's
 * virTristateBool/virTristateSwitch: the XML readers (xml.h) fill it and
 * the PCI address (pciaddr.h) carries one for multifunction=.
 */
#pragma once

/* DEFAULT means absent: the formatter then writes nothing. */
typedef enum {
    VRT_TRISTATE_DEFAULT = 0,
    VRT_TRISTATE_YES,
    VRT_TRISTATE_NO,
} VrtTristate;
