/*
 * QEMU's firmware descriptors (the JSON files of /usr/share/qemu/firmware
 * and /etc/qemu/firmware, Debian's ovmf package ships them) as libvirt
 * reads them: which firmware a domain with <os firmware='efi'> boots, its
 * per-domain NVRAM copied from the descriptor's template, and what the
 * domain capabilities list under <os>.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "conf/domain/capabilities.h"
#include "conf/domain/domain_conf.h"

/* Where an NVRAM store of a domain goes: DIR/NAME_VARS.fd, as libvirt
 * names it. */
char *vrt_qemu_firmware_nvram_path(const char *nvram_dir, const char *name);

/* Fills the firmware enum and the loader values of caps for machine
 * (canonical) and arch, from the descriptors vrt can boot. */
void vrt_qemu_firmware_fill_domcaps(VrtDomCaps *caps, const char *machine, const char *arch);

/* At start, on the live definition (machine canonical): firmware='efi'
 * (or 'bios') resolved to a loader and NVRAM (firmware= then cleared, as
 * libvirt's live XML shows it); a read-only pflash loader without
 * <nvram> gets DIR/NAME_VARS.fd and its descriptor's template; the NVRAM
 * file is copied from its template when it does not exist yet (or when
 * reset). */
bool vrt_qemu_firmware_prepare(VrtDomainDef *def, const char *nvram_dir, bool reset_nvram, GError **error);

/* libvirt's undefine rule for a definition's NVRAM store (its <nvram>, or
 * DIR/NAME_VARS.fd for firmware='efi'): when the file exists, the NVRAM
 * flag removes it, KEEP_NVRAM keeps it, neither refuses the undefine. */
#define VRT_QEMU_UNDEFINE_NVRAM (1u << 2)
#define VRT_QEMU_UNDEFINE_KEEP_NVRAM (1u << 3)
bool vrt_qemu_firmware_undefine(const VrtDomainDef *def, const char *nvram_dir, guint flags, GError **error);
/* Whether def has an NVRAM store for vrt_qemu_firmware_undefine to look
 * for (without it that call does nothing). */
bool vrt_qemu_firmware_has_nvram(const VrtDomainDef *def);
