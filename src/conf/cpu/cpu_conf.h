/*
 * libvirt's CPU definition (<cpu>) as a struct: the host CPU the
 * capabilities show, the CPU XML a client hands to virConnectCompareCPU or
 * virConnectBaselineCPU, and the guest CPU a baseline answers. Parsing
 * checks what libvirt's parser checks, with its error texts; formatting
 * writes libvirt's layout for a host or a guest CPU. What the model and
 * features mean is the x86 CPU driver's (cpu_x86.h).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef enum {
    VRT_CPU_TYPE_HOST,
    VRT_CPU_TYPE_GUEST,
    VRT_CPU_TYPE_AUTO
} VrtCpuType;
typedef enum {
    VRT_CPU_MODE_CUSTOM,
    VRT_CPU_MODE_HOST_MODEL,
    VRT_CPU_MODE_HOST_PASSTHROUGH,
    VRT_CPU_MODE_MAXIMUM
} VrtCpuMode;
typedef enum {
    VRT_CPU_MATCH_EXACT,
    VRT_CPU_MATCH_MINIMUM,
    VRT_CPU_MATCH_STRICT
} VrtCpuMatch;
typedef enum {
    VRT_CPU_FALLBACK_ALLOW,
    VRT_CPU_FALLBACK_FORBID
} VrtCpuFallback;
/* A feature's policy in a guest CPU; a host CPU's features have none (-1). */
typedef enum {
    VRT_CPU_FEATURE_NONE = -1,
    VRT_CPU_FEATURE_FORCE,
    VRT_CPU_FEATURE_REQUIRE,
    VRT_CPU_FEATURE_OPTIONAL,
    VRT_CPU_FEATURE_DISABLE,
    VRT_CPU_FEATURE_FORBID
} VrtCpuFeaturePolicy;

typedef struct {
    char *name;
    int policy; /* VrtCpuFeaturePolicy */
} VrtCpuFeature;

typedef struct {
    VrtCpuType type;
    int mode; /* VrtCpuMode; -1 for a host CPU */
    VrtCpuMatch match;
    int check; /* 0 = default (not written), 1 none, 2 partial, 3 full */
    VrtCpuFallback fallback;
    char *arch; /* host CPU: "x86_64" */
    char *model;
    char *vendor;
    char *vendor_id;
    guint microcode; /* 0 = not written */
    guint sig_family, sig_model, sig_stepping; /* family 0 = no <signature> */
    guint sockets, dies, cores, threads; /* 0 = no <topology> */
    int addr_mode; /* <maxphysaddr>: -1 none, 0 emulate, 1 passthrough */
    int addr_bits; /* -1 = not written */
    GArray *features; /* VrtCpuFeature, in order */
} VrtCpuDef;

VrtCpuDef *vrt_cpu_def_new(VrtCpuType type);
void vrt_cpu_def_free(VrtCpuDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtCpuDef, vrt_cpu_def_free)
VrtCpuDef *vrt_cpu_def_copy(const VrtCpuDef *def);

/* Appends a feature (no check for duplicates). */
void vrt_cpu_def_add_feature(VrtCpuDef *def, const char *name, int policy);
/* The feature named name, or NULL. */
VrtCpuFeature *vrt_cpu_def_find_feature(const VrtCpuDef *def, const char *name);
/* Sets name's policy, adding the feature when it is missing. */
void vrt_cpu_def_update_feature(VrtCpuDef *def, const char *name, int policy);

/* A <cpu> document as libvirt reads it for compare and baseline (type
 * AUTO: a host CPU when it has <arch>, else a guest CPU), with libvirt's
 * errors: the root must be <cpu> ("XML does not contain expected 'cpu'
 * element"), a host CPU needs <arch> and <model>, features need a model
 * and a name given once, and so on. */
VrtCpuDef *vrt_cpu_def_parse(const char *xml, VrtCpuType type, GError **error);

/* libvirt's <cpu> element, indented by indent levels of two spaces (the
 * capabilities' host CPU is at 2, an answer of its own at 0). */
void vrt_cpu_def_format_buf(GString *buf, const VrtCpuDef *def, guint indent);
/* What goes inside <cpu> (model, vendor, ..., features), each line at
 * indent: the domain capabilities' host-model mode holds it. */
void vrt_cpu_def_format_body(GString *body, const VrtCpuDef *def, guint indent);
char *vrt_cpu_def_format(const VrtCpuDef *def);
