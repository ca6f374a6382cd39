/*
 * What the host's QEMU can do, probed once per emulator binary and cached:
 * machine types with their canonical names, whether KVM is usable, and the
 * vCPU limit. The daemon turns this into capabilities XML.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    char *name; /* "pc-i440fx-7.2" */
    char *alias; /* "pc" or NULL */
    bool is_default;
    bool deprecated; /* QEMU marks it "(deprecated)" */
    guint max_cpus;
} VrtQemuMachine;

typedef struct _VrtQemuCaps VrtQemuCaps;

/* A CPU model as QEMU's query-cpu-definitions and query-cpu-model-expansion
 * tell it for one accelerator. */
typedef struct {
    char *name; /* "Skylake-Client" */
    char *vendor; /* "Intel", "AMD", "Hygon"...; NULL when QEMU names none */
    bool usable; /* QEMU lists no unavailable features for it */
    bool deprecated;
    char **blockers; /* its unavailable features, libvirt's names (NULL-terminated) */
} VrtQemuCpuModel;

/* QEMU's own CPU under an accelerator (`max` under TCG, `host` under KVM)
 * as its static query-cpu-model-expansion tells it, feature names
 * translated to libvirt's. */
typedef struct {
    char *vendor; /* CPUID vendor string ("AuthenticAMD"), NULL if none */
    guint family, model, stepping;
    GPtrArray *props; /* char*: every boolean property (on or off), NULL-terminated */
    GPtrArray *enabled; /* char*: those on, NULL-terminated */
    GPtrArray *migratable; /* char*: props less those on only when not migratable, NULL-terminated */
} VrtQemuCpuHost;

typedef struct {
    char *emulator; /* absolute path */
    char *arch; /* "x86_64" */
    GPtrArray *machines; /* VrtQemuMachine* */
    bool kvm_usable; /* /dev/kvm opens read-write */
    guint max_vcpus; /* what KVM or TCG accepts for the default machine */
    GPtrArray *cpu_models[2]; /* VrtQemuCpuModel*, [0] TCG, [1] KVM; NULL until asked */
    VrtQemuCpuHost *cpu_host[2]; /* asked with cpu_models; NULL when QEMU expands none */
} VrtQemuCapsInfo;

/* A cache of probes, keyed by emulator path; thread safe. */
VrtQemuCaps *vrt_qemu_caps_new(const char *dev_kvm_path);
void vrt_qemu_caps_free(VrtQemuCaps *caps);
/* Keeps each binary's machine list (`-machine help`) also in dir, keyed by
 * the binary's path, size and mtime, so that a restarted daemon does not
 * run QEMU again to learn it. NULL: in memory only (the default). */
void vrt_qemu_caps_set_cache_dir(VrtQemuCaps *caps, const char *dir);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtQemuCaps, vrt_qemu_caps_free)

/* Probe result for emulator (NULL: the default qemu-system-x86_64 on PATH).
 * The returned info lives as long as caps. */
const VrtQemuCapsInfo *vrt_qemu_caps_get(VrtQemuCaps *caps, const char *emulator, GError **error);

/* Canonical machine name for a name or alias ("q35" -> "pc-q35-7.2");
 * NULL machine means the default. Error VIR_ERR_CONFIG_UNSUPPORTED when
 * the emulator does not know it. */
char *vrt_qemu_caps_canonical_machine(const VrtQemuCapsInfo *info, const char *machine, GError **error);

/* Whether /dev/kvm can be opened now; errno-style message in *error. */
bool vrt_qemu_caps_kvm_usable(const char *dev_kvm_path, GError **error);

/* Parses `-machine help` output (exposed for tests). */
GPtrArray *vrt_qemu_caps_parse_machines(const char *help_output);

/* The CPU models of info's emulator under KVM (kvm) or TCG, asked of QEMU
 * over QMP the first time (`-machine none`: one run for the definitions,
 * one for every model's vendor, ~0.5 s together, under the cache's lock, so
 * a domain start then waits for it) and kept, also on disk beside the
 * machine list (a file per accelerator, keyed by the binary). Only the names a domain
 * can give as a custom model: QEMU's versioned aliases ("-v1") and the
 * host, max and base pseudo-models are left out. */
const GPtrArray *vrt_qemu_caps_get_cpu_models(VrtQemuCaps *caps, const VrtQemuCapsInfo *info, bool kvm, GError **error);
/* QEMU's own CPU under KVM (kvm) or TCG, asked and kept with the models
 * (vrt_qemu_caps_get_cpu_models); NULL with *error unset when QEMU gave
 * no expansion. */
const VrtQemuCpuHost *vrt_qemu_caps_get_cpu_host(VrtQemuCaps *caps, const VrtQemuCapsInfo *info, bool kvm,
                                                 GError **error);
/* libvirt's name of a QEMU x86 feature ("lahf-lm" -> "lahf_lm"). */
const char *vrt_qemu_caps_feature_from_qemu(const char *name);
/* The expansion in QMP output (ids "h": migratable, "hn": not), or NULL.
 * Exposed for tests. */
VrtQemuCpuHost *vrt_qemu_caps_parse_cpu_host(const char *qmp_output);
void vrt_qemu_cpu_host_free(VrtQemuCpuHost *host);

/* The models of query-cpu-definitions' reply in QMP output (one JSON
 * message a line, the reply with id "defs"), and the vendors of the
 * query-cpu-model-expansion replies (ids "x:NAME") when there are any.
 * Exposed for tests. */
GPtrArray *vrt_qemu_caps_parse_cpu_models(const char *qmp_output, GError **error);
