/*
 * The QEMU driver's domain tuning: each running domain's cgroup (made at
 * start, removed at stop, found again after a restart: src/host/cgroup.h)
 * with the definition's <cputune>, <memtune>, <blkiotune> and <numatune>
 * applied, the vCPU and emulator threads' CPU affinity, and libvirt's
 * tuning calls (virsh schedinfo, memtune, blkiotune, numatune,
 * emulatorpin, vcpupin) with libvirt 9.0's parameter names, types and
 * errors. --config changes the definition (applied at the next start),
 * --live the running domain's cgroup, threads and live XML.
 */
#pragma once

#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_driver_stats.h"
#include "host/cgroup.h"

/* The driver's cgroups: the configured root, or with the real state root
 * ("" or "/") the host's cgroup2 mount; with a private state root (tests,
 * a second vrtd) none unless configured, so two daemons never share
 * machine.slice's scope names. */
VrtCgroups *vrt_qemu_cgroup_new(const VrtQemuDriverConfig *cfg);

/* At start, between QEMU's fork and its exec: the domain's cgroup with
 * its tuning, QEMU moved into it, the emulator pin. Fails (libvirt's
 * errors) when the definition asks for tuning the host cannot give. */
bool vrt_qemu_cgroup_setup(VrtQemuDom *obj, const VrtDomainDef *def, pid_t pid, GError **error);
/* Once the monitor answers: the vCPU threads into their cgroups, their
 * quotas and pins. */
bool vrt_qemu_cgroup_setup_vcpus(VrtQemuDom *obj, const VrtDomainDef *def, VrtQemuMonitor *mon, GError **error);
/* The cgroup device controller (qemu_cgroup_devices.c): at start, the
 * devices def's QEMU may open; at hotplug, the running domain's with the
 * device node at add (a host path) and without the one at drop (either
 * NULL). Never fails: where the controller cannot be used the reason is
 * logged once and nothing is limited. */
void vrt_qemu_cgroup_devices_setup(VrtQemuDom *obj, const VrtDomainDef *def);
void vrt_qemu_cgroup_devices_update(VrtQemuDom *obj, const char *add, const char *drop);
/* After QEMU is gone: its cgroup removed (failures logged). */
void vrt_qemu_cgroup_remove(VrtQemuDriver *drv, const char *name);
/* After the reconnects: cgroups of domains that no longer run removed. */
void vrt_qemu_cgroup_sweep(VrtQemuDriver *drv);

/* virDomainGetSchedulerType: "posix" and the parameter count. */
char *vrt_qemu_domain_get_scheduler_type(VrtQemuDriver *drv, const guchar *uuid, int *nparams, GError **error);
/* Get: VrtTypedParam* (at most max); Set: params are VrtTypedParam*. */
GPtrArray *vrt_qemu_domain_get_scheduler_params(VrtQemuDriver *drv, const guchar *uuid, int max, guint flags,
                                                GError **error);
bool vrt_qemu_domain_set_scheduler_params(VrtQemuDriver *drv, const guchar *uuid, GPtrArray *params, guint flags,
                                          GError **error);
GPtrArray *vrt_qemu_domain_get_memory_params(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
bool vrt_qemu_domain_set_memory_params(VrtQemuDriver *drv, const guchar *uuid, GPtrArray *params, guint flags,
                                       GError **error);
GPtrArray *vrt_qemu_domain_get_blkio_params(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
bool vrt_qemu_domain_set_blkio_params(VrtQemuDriver *drv, const guchar *uuid, GPtrArray *params, guint flags,
                                      GError **error);
GPtrArray *vrt_qemu_domain_get_numa_params(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
bool vrt_qemu_domain_set_numa_params(VrtQemuDriver *drv, const guchar *uuid, GPtrArray *params, guint flags,
                                     GError **error);

/* Pins as canonical cpusets ("0-1,3"); the host's CPUs when unpinned. */
char *vrt_qemu_domain_get_emulator_pin(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
bool vrt_qemu_domain_pin_emulator(VrtQemuDriver *drv, const guchar *uuid, const char *cpuset, guint flags,
                                  GError **error);
/* One cpuset per vCPU (char*), <vcpu>'s maximum of them. */
GPtrArray *vrt_qemu_domain_get_vcpu_pins(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error);
bool vrt_qemu_domain_pin_vcpu(VrtQemuDriver *drv, const guchar *uuid, guint vcpu, const char *cpuset, guint flags,
                              GError **error);
/* The host's CPU count (for cpumaps). */
guint vrt_qemu_host_ncpus(VrtQemuDriver *drv);
