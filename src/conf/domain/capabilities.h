/*
 * libvirt's capabilities XML: a description of the host (cpu, memory,
 * NUMA cells, security model, migration) and of the guests it can run
 * (os type, arch, emulator, machine types, domain types), as a struct the
 * host prober fills and a formatter that writes what `virsh capabilities`
 * shows. Probing /proc or QEMU is not done here.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "conf/cpu/cpu_conf.h"

typedef struct {
    char *name; /* "pc-q35-7.2" or an alias like "q35" */
    char *canonical; /* for an alias: the machine it stands for; NULL */
    guint max_cpus; /* 0 = not written */
    bool deprecated;
} VrtCapsMachine;

typedef struct {
    guint id;
    guint socket_id, die_id, core_id;
    char *siblings; /* "0,4"; NULL = just the id */
} VrtCapsCpu;

typedef struct {
    guint id;
    guint64 memory_kib; /* 0 = not written */
    GPtrArray *cpus; /* VrtCapsCpu* */
} VrtCapsCell;

typedef struct {
    char *os_type; /* "hvm" */
    char *arch; /* "x86_64" */
    guint wordsize; /* 64 */
    char *emulator; /* "/usr/bin/qemu-system-x86_64" */
    GPtrArray *machines; /* VrtCapsMachine* */
    bool domain_qemu; /* <domain type='qemu'/> */
    bool domain_kvm; /* <domain type='kvm'/> (when /dev/kvm is usable) */
} VrtCapsGuest;

typedef struct {
    guint8 host_uuid[16];
    bool host_uuid_set;
    char *arch; /* host arch, "x86_64" (required) */
    char *cpu_vendor; /* "Intel", "AMD"; NULL = omitted */
    char *cpu_model; /* libvirt CPU model name; NULL = omitted */
    guint microcode; /* 0 = no <microcode> */
    guint sig_family, sig_model, sig_stepping; /* family 0 = no <signature> */
    guint sockets, dies, cores, threads; /* 0 = no <topology> */
    int maxphysaddr_bits; /* <maxphysaddr mode='emulate'>; 0 = none */
    GPtrArray *cpu_features; /* char* feature names ("vmx", ...) */
    GArray *page_sizes_kib; /* guint: 4, 2048, 1048576 */
    guint64 memory_kib; /* total; used for a single cell when cells is empty */
    GPtrArray *cells; /* VrtCapsCell*; empty = no <topology> unless memory_kib */
    bool iommu; /* <iommu support='yes|no'/> */
    bool migration_live; /* <migration_features><live/> */
    GPtrArray *uri_transports; /* char*: "tcp", "rdma" */
    char *secmodel; /* "none" */
    char *secmodel_doi; /* "0" */
    /* the DAC model's base label ("+UID:+GID" of QEMU's user), written as
     * libvirt writes it: a second <secmodel> dac, DOI 0, with that label
     * for the kvm and qemu domain types; NULL: no DAC model */
    char *dac_baselabel;
    GPtrArray *guests; /* VrtCapsGuest* */
} VrtCaps;

VrtCaps *vrt_caps_new(const char *host_arch);
void vrt_caps_free(VrtCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtCaps, vrt_caps_free)

/* Adds and returns a guest (owned by caps). */
VrtCapsGuest *vrt_caps_add_guest(VrtCaps *caps, const char *os_type, const char *arch, guint wordsize,
                                 const char *emulator);
/* Adds a machine type; canonical may be NULL. */
void vrt_caps_guest_add_machine(VrtCapsGuest *guest, const char *name, const char *canonical, guint max_cpus);
/* Adds and returns a NUMA cell (owned by caps). */
VrtCapsCell *vrt_caps_add_cell(VrtCaps *caps, guint id, guint64 memory_kib);
void vrt_caps_cell_add_cpu(VrtCapsCell *cell, guint id, guint socket_id, guint die_id, guint core_id,
                           const char *siblings);

/* libvirt's capabilities XML; fails (VIR_ERR_INTERNAL_ERROR) only when
 * required pieces are missing (host arch, a guest's os type/arch). */
char *vrt_caps_format(const VrtCaps *caps, GError **error);

/* ---- domain capabilities (virsh domcapabilities) ---- */

typedef struct {
    char *name; /* "Skylake-Client" */
    char *vendor; /* "Intel", "AMD", "unknown" */
    const char *usable; /* "yes", "no", "unknown" */
    bool deprecated;
} VrtDomCapsCpuModel;

/* An <enum name=...> of allowed values. */
typedef struct {
    char *name;
    GPtrArray *values; /* char* */
} VrtDomCapsEnum;

/* An element with supported='yes|no' and its enums: a device (<disk>,
 * <graphics>...) or a feature (<genid>, <sev>...). */
typedef struct {
    char *element;
    bool supported;
    GPtrArray *enums; /* VrtDomCapsEnum* */
} VrtDomCapsItem;

typedef struct {
    char *path; /* the emulator */
    char *domain_type; /* "kvm" or "qemu" */
    char *machine; /* canonical name */
    char *arch;
    guint max_vcpus;
    bool iothreads;
    GPtrArray *firmware; /* char*: "bios", "efi" */
    GPtrArray *loaders; /* char*: loader paths that exist */
    GPtrArray *loader_types; /* char*: "rom", "pflash" */
    bool host_passthrough, maximum, host_model, custom;
    VrtCpuDef *host_model_cpu; /* what host-model gives here; NULL: not known */
    GPtrArray *cpu_models; /* VrtDomCapsCpuModel* */
    GPtrArray *memory_backing; /* char*: source types; empty = not supported */
    GPtrArray *devices; /* VrtDomCapsItem*, in the schema's order */
    GPtrArray *features; /* VrtDomCapsItem*, in the schema's order */
} VrtDomCaps;

VrtDomCaps *vrt_domcaps_new(void);
void vrt_domcaps_free(VrtDomCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomCaps, vrt_domcaps_free)

/* Adds an item (device or feature) to list and returns it; the enums
 * follow with vrt_domcaps_item_enum(item, "bus", "virtio", "sata", NULL). */
VrtDomCapsItem *vrt_domcaps_add_item(GPtrArray *list, const char *element, bool supported);
void vrt_domcaps_item_enum(VrtDomCapsItem *item, const char *name, ...) G_GNUC_NULL_TERMINATED;
void vrt_domcaps_add_cpu_model(VrtDomCaps *caps, const char *name, const char *vendor, const char *usable,
                               bool deprecated);

/* libvirt's domainCapabilities XML (valid against domaincaps.rng); fails
 * (VIR_ERR_INTERNAL_ERROR) when path, domain type or arch is missing. */
char *vrt_domcaps_format(const VrtDomCaps *caps, GError **error);

/* ---- host sysinfo (virsh sysinfo) ---- */

/* libvirt's <sysinfo type='smbios'> of the host: the bios, system,
 * baseBoard and chassis entries, each value asked of lookup by its name
 * in the kernel's /sys/class/dmi/id ("bios_vendor"; caller frees, NULL
 * when unknown). A section without any value is left out; NULL when no
 * section has one. */
char *vrt_sysinfo_format(char *(*lookup)(const char *attr, gpointer data), gpointer data);
