/*
 * The helper processes a domain's QEMU talks to: swtpm for an emulated
 * <tpm> (qemu_tpm.c) and virtiofsd per virtio-fs <filesystem>
 * (qemu_virtiofs.c). Each is started before QEMU with its socket and a
 * pid file ("NAME.helper-pid") in the domain's run directory, so a
 * restarted vrtd finds them with the domain, and whoever removes the run
 * directory (a stop, a failed start, the sweep of a run directory no
 * domain uses) ends them first: a helper never outlives its QEMU.
 */
#pragma once

#include <glib.h>

#include "conf/domain/domain_conf.h"

/* Starts the domain's swtpm (its state created once, as libvirt's
 * swtpm_setup defaults do) and adds QEMU's -chardev/-tpmdev/-device to
 * args. lib_root is <root>/var/lib/vrt. */
bool vrt_qemu_tpm_start(const char *lib_root, const VrtDomainDef *def, const char *run_dir, const char *log_dir,
                        GPtrArray *args, GError **error);
/* Undefine: removes the domain's TPM state unless keep (KEEP_TPM). */
bool vrt_qemu_tpm_undefine(const char *lib_root, const VrtDomainDef *def, bool keep, GError **error);
/* Whether def has a TPM whose state vrt_qemu_tpm_undefine may remove. */
bool vrt_qemu_tpm_has_state(const VrtDomainDef *def);
/* Starts one virtiofsd per <filesystem> and adds QEMU's arguments. */
bool vrt_qemu_virtiofs_start(const VrtDomainDef *def, const char *run_dir, const char *log_dir, GPtrArray *args,
                             GError **error);
/* Ends every helper whose pid file is in run_dir (SIGTERM, then SIGKILL). */
void vrt_qemu_helpers_kill(const char *run_dir);
/* Runs argv in the background, its output appended to logfile, and records
 * its pid in run_dir/NAME.helper-pid (qemu_tpm.c). */
bool vrt_qemu_helper_spawn(const char *run_dir, const char *name, char **argv, const char *logfile, GError **error);
