/*
 * The host CPU as libvirt names it (model, vendor, signature, features
 * from CPUID), shared by the capabilities (remote_host.c) and the CPU
 * comparison and baseline calls (remote_cpu.c).
 */
#pragma once

#include "conf/cpu/cpu_conf.h"
#include "daemon/daemon.h"

/* The host CPU, read on first use and kept (caller holds probe_lock; the
 * daemon owns it). A host whose CPUID names no model has a definition
 * without model (the capabilities then show none). */
const VrtCpuDef *vrt_daemon_host_cpu_locked(VrtDaemon *daemon);
/* At vrtd's end. */
void vrt_daemon_host_cpu_free(VrtDaemon *daemon);
