/*
 * Domain cgroups (cgroup v2) through the host seam: where each running
 * domain's QEMU is placed so that its CPU, memory, I/O and NUMA tuning can
 * be applied, as libvirt's QEMU driver does.
 *
 * Layout, under the cgroup root (a host path resolved under the host root:
 * the host's cgroup2 mount by default, or a delegated subtree given in
 * vrtd.conf as cgroup_root):
 *
 *   <root>/machine.slice/                       made by vrtd when missing
 *   <root>/machine.slice/machine-vrt\x2dNAME.scope/   the domain ("domain threaded")
 *       emulator/   threaded: QEMU's process (every thread but the vCPUs)
 *       vcpuN/      threaded: vCPU N's thread
 *
 * The scope's name is systemd's escaping of "vrt-NAME" (libvirt's
 * virSystemdMakeScopeName with "vrt" as the driver name); vrt does not
 * register the machine with systemd-machined, it makes the directories
 * itself. Memory and I/O limits are set on the scope (the resource domain
 * of every thread below it); CPU weight and the global quota on the scope,
 * the emulator's and each vCPU's quota on their threaded child.
 *
 * Cgroups are "available" when the root is a cgroup v2 tree (it has
 * cgroup.controllers) and machine.slice can be made there; a controller is
 * available to a domain when it is in its scope's cgroup.controllers.
 * Nothing here touches a cgroup it did not make: only machine.slice (made
 * when missing, never removed) and the domains' scopes.
 */
#pragma once

#include "host/host.h"

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct _VrtCgroups VrtCgroups;

/* root: a host path, NULL or "" to use the host's cgroup2 mount (from
 * /proc/self/mounts), "none" to use no cgroups. Never fails: cgroups that
 * cannot be used leave the manager unavailable (the reason is logged once
 * and given by vrt_cgroups_unavailable_reason). */
VrtCgroups *vrt_cgroups_new(VrtHost *host, const char *root);
void vrt_cgroups_free(VrtCgroups *cg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtCgroups, vrt_cgroups_free)

bool vrt_cgroups_available(VrtCgroups *cg);
const char *vrt_cgroups_unavailable_reason(VrtCgroups *cg);
/* The host path of the root (NULL when none). */
const char *vrt_cgroups_root(VrtCgroups *cg);

/* "machine-vrt\x2dNAME.scope" with systemd's escaping of NAME (caller frees). */
char *vrt_cgroup_scope_name(const char *name);
/* Host path of a domain's scope, or of its child `sub` ("emulator",
 * "vcpu0") when sub is not NULL (caller frees). */
char *vrt_cgroup_domain_path(VrtCgroups *cg, const char *name, const char *sub);

/* Makes the domain's scope and its emulator child, enables the
 * controllers the root offers (cpu, cpuset, memory, io) down to it, and
 * moves process pid (every thread) into emulator/. */
bool vrt_cgroup_domain_create(VrtCgroups *cg, const char *name, pid_t pid, GError **error);
bool vrt_cgroup_domain_exists(VrtCgroups *cg, const char *name);
/* Moves thread tid of the domain into vcpuN/ (made when missing). */
bool vrt_cgroup_domain_add_vcpu(VrtCgroups *cg, const char *name, guint vcpu, pid_t tid, GError **error);
/* Removes the scope and its children (their threads must be gone); a
 * missing scope is no error. */
bool vrt_cgroup_domain_remove(VrtCgroups *cg, const char *name, GError **error);
/* The domain names whose scopes exist under machine.slice (unescaped). */
GPtrArray *vrt_cgroup_list_domains(VrtCgroups *cg);

/* A controller ("cpu", "memory", "io", "cpuset") is usable on the domain. */
bool vrt_cgroup_domain_has_controller(VrtCgroups *cg, const char *name, const char *controller);

/* Reads or writes a file of the domain's scope (sub NULL) or child. */
char *vrt_cgroup_get(VrtCgroups *cg, const char *name, const char *sub, const char *file, GError **error);
bool vrt_cgroup_set(VrtCgroups *cg, const char *name, const char *sub, const char *file, const char *value,
                    GError **error);

/* cpu.max as quota (-1 = "max") and period. */
bool vrt_cgroup_get_cpu_max(VrtCgroups *cg, const char *name, const char *sub, gint64 *quota, guint64 *period,
                            GError **error);
/* Changes the quota (when set_quota; -1 or 0 = unlimited) and/or the period
 * (when set_period) of cpu.max, keeping the other. */
bool vrt_cgroup_set_cpu_max(VrtCgroups *cg, const char *name, const char *sub, bool set_quota, gint64 quota,
                            bool set_period, guint64 period, GError **error);
