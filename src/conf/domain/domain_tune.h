/*
 * A domain's resource tuning as libvirt writes it in the domain XML:
 * <blkiotune>, <memtune>, <cputune> (shares, periods and quotas, vcpupin,
 * emulatorpin) and <numatune><memory>. The QEMU driver applies it through
 * the domain's cgroup and CPU affinity (src/drivers/qemu/qemu_cgroup.c);
 * here it is only parsed, checked and formatted.
 */
#pragma once

#include "conf/domain/domain_conf.h"

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>

/* libvirt's VIR_DOMAIN_MEMORY_PARAM_UNLIMITED (KiB): "no limit". */
#define VRT_MEMORY_UNLIMITED 9007199254740991ULL

typedef struct {
    char *path;
    guint weight;
    guint read_iops, write_iops;
    guint64 read_bytes, write_bytes;
} VrtDomainBlkioDevice;

typedef struct {
    guint vcpu;
    char *cpuset; /* canonical ("0-2,5") */
} VrtDomainVcpuPin;

/* One thread's <vcpusched>/<iothreadsched> (domain_thread_sched.c). */
enum {
    VRT_THREAD_SCHED_BATCH = 1,
    VRT_THREAD_SCHED_IDLE,
    VRT_THREAD_SCHED_FIFO,
    VRT_THREAD_SCHED_RR
};
typedef struct {
    guint id; /* vCPU number or I/O thread id */
    int policy; /* VRT_THREAD_SCHED_* */
    int priority; /* fifo and rr only */
} VrtThreadSched;

typedef struct {
    guint cellid;
    char *mode; /* "strict", "preferred", "interleave", "restrictive" */
    char *nodeset; /* canonical */
} VrtDomainMemnode;

/* the <memnode> of guest NUMA cell `cellid`, NULL: none */
const VrtDomainMemnode *vrt_domain_tune_memnode(const struct _VrtDomainTuneDef *t, guint cellid);

struct _VrtDomainTuneDef {
    /* <blkiotune> */
    guint blkio_weight; /* 0 = unset */
    GPtrArray *blkio_devices; /* VrtDomainBlkioDevice* */
    /* <memtune>, KiB; VRT_MEMORY_UNLIMITED = unset */
    guint64 hard_limit, soft_limit, swap_hard_limit;
    /* <cputune>; 0 = unset */
    bool shares_set;
    guint64 shares;
    guint64 period, global_period, emulator_period;
    gint64 quota, global_quota, emulator_quota;
    GPtrArray *vcpupins; /* VrtDomainVcpuPin*, sorted by vcpu */
    char *emulatorpin; /* canonical cpuset, NULL */
    guint64 iothread_period; /* <iothread_period>, 0 = unset */
    gint64 iothread_quota; /* <iothread_quota>, 0 = unset */
    /* <iothreadpin iothread= cpuset=>: VrtDomainVcpuPin* whose vcpu is the
     * I/O thread's id, in the order of the domain's I/O thread ids once
     * parsed (vrt_domain_iothreads_post_parse), as libvirt writes them */
    GPtrArray *iothreadpins;
    /* <vcpusched>, <iothreadsched>: VrtThreadSched, one per thread, NULL =
     * none; once parsed, vCPUs by number and I/O threads in id order */
    GArray *vcpu_scheds, *iothread_scheds;
    /* <numatune><memory mode= nodeset=> */
    char *numa_mode; /* "strict", "preferred", "interleave", "restrictive"; NULL = unset */
    char *numa_nodeset; /* canonical, NULL */
    /* <numatune><memnode cellid= mode= nodeset=>: a guest NUMA cell's host nodes */
    GPtrArray *memnodes; /* VrtDomainMemnode*, by cellid */
    /* placement='auto' of <vcpu> and of <numatune><memory>: numad's advice */
    bool vcpu_placement_auto, numa_placement_auto;
    bool numa_placement_implicit; /* <memory> with neither nodeset nor placement */
};
typedef struct _VrtDomainTuneDef VrtDomainTuneDef;

VrtDomainTuneDef *vrt_domain_tune_new(void);
void vrt_domain_tune_free(VrtDomainTuneDef *tune);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainTuneDef, vrt_domain_tune_free)
/* def->tune, made when missing. */
VrtDomainTuneDef *vrt_domain_tune_get(VrtDomainDef *def);

/* A libvirt cpuset/nodeset ("0-3,^2,8") into its canonical form ("0-1,3,8"),
 * NULL with VIR_ERR_INVALID_ARG when malformed; max is the highest allowed
 * number. An empty set is refused. */
char *vrt_cpuset_canonical(const char *text, guint max, GError **error);
/* The numbers of a canonical cpuset, ascending. */
GArray *vrt_cpuset_to_array(const char *cpuset);

/* The vcpupin cpuset of vcpu, NULL when none. */
const char *vrt_domain_tune_vcpupin(const VrtDomainTuneDef *tune, guint vcpu);
/* Sets (cpuset non-NULL, canonical) or drops a vcpu's pin. */
void vrt_domain_tune_set_vcpupin(VrtDomainTuneDef *tune, guint vcpu, const char *cpuset);

/* Parsing of one top-level element (<blkiotune>, <memtune>, <cputune>,
 * <numatune>) into def; true when handled, false with error on a bad
 * element. Called by the domain parser. */
bool vrt_domain_tune_is_element(const char *name);
bool vrt_domain_tune_parse(xmlNodePtr node, VrtDomainDef *def, GError **error);
/* Formatting: <blkiotune> and <memtune> go before <vcpu>, <cputune> and
 * <numatune> after it, as libvirt writes them. */
void vrt_domain_tune_format_mem(GString *buf, guint indent, const VrtDomainTuneDef *tune);
void vrt_domain_tune_format_cpu(GString *buf, guint indent, const VrtDomainTuneDef *tune);
