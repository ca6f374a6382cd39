/*
 * The firmware part of a domain's <os>: firmware='efi'|'bios' (libvirt's
 * automatic selection from the firmware descriptors, done by the QEMU
 * driver at start) and the explicit <loader> and <nvram> elements
 * (an OVMF code image as a read-only pflash, its per-domain variable
 * store copied from a template).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "util/tristate.h"

typedef struct {
    char *firmware; /* <os firmware=>: "efi", "bios", NULL */
    char *path; /* <loader> text: the code image, NULL */
    VrtTristate readonly; /* <loader readonly=> */
    VrtTristate secure; /* <loader secure=> */
    char *type; /* <loader type=>: "rom", "pflash", NULL */
    char *nvram; /* <nvram> text: the domain's variable store, NULL */
    char *nvram_template; /* <nvram template=>, NULL */
    VrtTristate stateless; /* <loader stateless=>: no variable store at all */
    bool nvram_source_file; /* <nvram type='file'><source file=/>: the path in nvram */
    /* <firmware><feature enabled= name=/>: what automatic selection must
     * (yes) or must not (no) pick, in libvirt's order */
    VrtTristate feature_enrolled_keys;
    VrtTristate feature_secure_boot;
} VrtDomainOsFirmwareDef;

/* True when the domain boots UEFI from a read-only pflash image given by
 * path (libvirt's "old style" UEFI), whose NVRAM libvirt fills in. */
bool vrt_domain_os_firmware_is_pflash_ro(const VrtDomainOsFirmwareDef *fw);
void vrt_domain_os_firmware_clear(VrtDomainOsFirmwareDef *fw);
