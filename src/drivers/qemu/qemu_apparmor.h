/*
 * QEMU under an AppArmor profile of its own, as libvirt's apparmor
 * security driver and its virt-aa-helper give it on Debian: a profile
 * libvirt-UUID made from the host's template
 * (/etc/apparmor.d/libvirt/TEMPLATE.qemu, libvirt-daemon-system's) and a
 * file list libvirt-UUID.files of what this domain's QEMU may open (its
 * images and their backing chains, kernel, initrd, loader, NVRAM,
 * chardevs, run directory, log, pidfile, host devices, TPM state),
 * written under vrtd's root in libvirt's layout, loaded with
 * `apparmor_parser -r`, entered by QEMU at its exec, reloaded at hotplug
 * and unplug, removed at stop. Only where the host has AppArmor (the
 * module enabled, securityfs mounted) and qemu.conf's security_driver
 * allows it.
 */
#pragma once

#include "conf/domain/domain_conf.h"
#include "host/host.h"

#include <glib.h>
#include <stdbool.h>

/* Where the profile lives and what builds it. */
typedef struct {
    const char *profile_dir; /* <root>/etc/apparmor.d/libvirt */
    const char *template_path; /* /etc/apparmor.d/libvirt/TEMPLATE.qemu */
    const char *parser; /* /sbin/apparmor_parser */
} VrtQemuAppArmorPaths;

/* What of vrtd's own layout one run of the domain's QEMU uses. */
typedef struct {
    const char *run_dir; /* STATE_DIR/domain-ID-NAME: monitor socket, channels, helpers' sockets */
    const char *log_file; /* LOG_DIR/NAME.log */
    const char *pidfile; /* STATE_DIR/NAME.pid */
    const char *tpm_dir; /* <root>/var/lib/vrt/swtpm/UUID: TPM state, NULL without <tpm> */
    const GPtrArray *extra; /* char*: files of devices being hot-plugged, "rwk" (NULL: none) */
} VrtQemuAppArmorDomain;

/* Whether this kernel enforces AppArmor: the module's "enabled" parameter
 * is Y and securityfs shows /sys/kernel/security/apparmor. */
bool vrt_qemu_apparmor_host_enabled(void);

/* "libvirt-UUID". */
char *vrt_qemu_apparmor_profile_name(const guint8 uuid[16]);

/* The .files text for def: libvirt's header line, then one rule a line as
 * virt-aa-helper writes them ("PATH" rwk, for a writable image; rk plus a
 * deny w rule for a read-only one or a backing file; r for kernel and
 * initrd). Host devices: their sysfs files as host names them, and
 * /dev/vfio/vfio with the device's group node; an mdev's group node, a
 * SCSI hostdev's /dev/sgN and /dev/vhost-scsi (qemu_hostdev_nodes.h). */
char *vrt_qemu_apparmor_files(VrtHost *host, const VrtDomainDef *def, const VrtQemuAppArmorDomain *dom);

/* The profile text: template_text with its `profile LIBVIRT_TEMPLATE`
 * named name and an include of files_path (an absolute path: the file
 * lives under vrtd's root, not only in the parser's search path) before
 * its last closing brace. Errors (VIR_ERR_INTERNAL_ERROR): a template
 * without those. */
char *vrt_qemu_apparmor_profile(const char *template_text, const char *name, const char *files_path, GError **error);

/* Writes the profile (made from the template once, kept after) and its
 * .files for def, then asks apparmor_parser to (re)load it. Errors:
 * VIR_ERR_INTERNAL_ERROR with the parser's own words. */
bool vrt_qemu_apparmor_load(const VrtQemuAppArmorPaths *paths, VrtHost *host, const VrtDomainDef *def,
                            const VrtQemuAppArmorDomain *dom, GError **error);

/* Unloads the domain's profile (apparmor_parser -R) and removes both
 * files; nothing to do when there is no profile. Failures are logged. */
void vrt_qemu_apparmor_remove(const VrtQemuAppArmorPaths *paths, const guint8 uuid[16]);

/* Runs parser -Q -K on path (everything but the kernel load: the parse
 * test). Errors: VIR_ERR_INTERNAL_ERROR with the parser's words. */
bool vrt_qemu_apparmor_check(const char *parser, const char *path, GError **error);
