/*
 * The QEMU driver's statistics: libvirt's virConnectGetAllDomainStats and
 * virDomainListGetStats groups (state, cpu-total, balloon with the guest's
 * own figures, vcpu, interface, block, perf, iothread, memory, dirtyrate) with libvirt's typed-parameter names, and the single-purpose
 * reads behind virsh dommemstat, domblkstat, domifstat, domblkinfo and
 * cpu-stats. They ask QEMU (query-blockstats, query-block, query-balloon,
 * query-cpus-fast, query-iothreads, query-dirty-rate, the balloon's
 * guest-stats) without a domain job, as the other queries do, read the
 * QEMU process's times from its /proc entry and the tap devices' counters
 * through the host seam.
 */
#pragma once
#include "drivers/qemu/qemu_driver.h"

/* virTypedParameterType */
enum {
    VRT_TYPED_PARAM_INT = 1,
    VRT_TYPED_PARAM_UINT = 2,
    VRT_TYPED_PARAM_LLONG = 3,
    VRT_TYPED_PARAM_ULLONG = 4,
    VRT_TYPED_PARAM_DOUBLE = 5,
    VRT_TYPED_PARAM_BOOLEAN = 6,
    VRT_TYPED_PARAM_STRING = 7,
};

typedef struct {
    char *field;
    int type;
    union {
        gint i;
        guint ui;
        gint64 l;
        guint64 ul;
        char *s;
    } v;
} VrtTypedParam;
void vrt_typed_param_free(VrtTypedParam *p);
/* virTypedParameterType's name ("int", "ullong"...), libvirt's
 * virTypedParameterTypeToString; "unknown" for any other number. */
const char *vrt_typed_param_type_name(int type);
/* libvirt's virTypedParamsValidate over params (VrtTypedParam): in the
 * names' sorted order, the first name not among the n names, name given
 * twice, or value not of its types[i] is refused with libvirt's code and
 * text. */
bool vrt_typed_params_validate(GPtrArray *params, const char *const *names, const int *types, guint n, GError **error);

/* virDomainStatsTypes vrt answers. */
#define VRT_DOMAIN_STATS_STATE (1u << 0)
#define VRT_DOMAIN_STATS_CPU_TOTAL (1u << 1)
#define VRT_DOMAIN_STATS_BALLOON (1u << 2)
#define VRT_DOMAIN_STATS_VCPU (1u << 3)
#define VRT_DOMAIN_STATS_INTERFACE (1u << 4)
#define VRT_DOMAIN_STATS_BLOCK (1u << 5)
#define VRT_DOMAIN_STATS_PERF (1u << 6)
#define VRT_DOMAIN_STATS_IOTHREAD (1u << 7)
#define VRT_DOMAIN_STATS_MEMORY (1u << 8)
#define VRT_DOMAIN_STATS_DIRTYRATE (1u << 9)
#define VRT_DOMAIN_STATS_SUPPORTED 0x3ffu
#define VRT_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT (1u << 29)
#define VRT_CONNECT_GET_ALL_DOMAINS_STATS_BACKING (1u << 30)
#define VRT_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS (1u << 31)

typedef struct {
    VrtDomainRef *ref;
    GPtrArray *params; /* VrtTypedParam* */
} VrtDomainStatsRecord;
void vrt_domain_stats_record_free(VrtDomainStatsRecord *rec);

/* virConnectGetAllDomainStats (uuids NULL, n 0) or virDomainListGetStats
 * (the given domains; those gone meanwhile are left out, as libvirt does):
 * the domains passing the list filter bits of flags, each with the groups
 * of stats (0: every group vrt answers). With ENFORCE_STATS a group vrt
 * does not answer fails the call (VIR_ERR_ARGUMENT_UNSUPPORTED); without
 * it such groups are left out. Array of VrtDomainStatsRecord*. */
GPtrArray *vrt_qemu_connect_get_all_domain_stats(VrtQemuDriver *drv, const guchar *const *uuids, guint n, guint stats,
                                                 guint flags, GError **error);

typedef struct {
    gint64 rd_req, rd_bytes, wr_req, wr_bytes, errs;
    gint64 fl_req, rd_ns, wr_ns, fl_ns; /* virDomainBlockStatsFlags only */
} VrtBlockStats;
/* virDomainBlockStats: path is a disk's target ("vda") or source path; ""
 * sums every disk. errs is -1 (QEMU does not count them). */
bool vrt_qemu_domain_block_stats(VrtQemuDriver *drv, const guchar *uuid, const char *path, VrtBlockStats *stats,
                                 GError **error);

/* virDomainInterfaceStats: device is the interface's host name (target
 * dev) or MAC; counters seen from the guest (a tap's rx is the host's tx). */
bool vrt_qemu_domain_interface_stats(VrtQemuDriver *drv, const guchar *uuid, const char *device, gint64 out[8],
                                     GError **error);

/* virDomainMemoryStats: {tag, value} pairs (libvirt's tags), at most max. */
typedef struct {
    int tag;
    guint64 val;
} VrtMemoryStat;
GArray *vrt_qemu_domain_memory_stats(VrtQemuDriver *drv, const guchar *uuid, guint max, guint flags, GError **error);

/* virDomainGetBlockInfo: allocation, capacity, physical in bytes. */
bool vrt_qemu_domain_get_block_info(VrtQemuDriver *drv, const guchar *uuid, const char *path, guint flags,
                                    guint64 out[3], GError **error);

/* virDomainBlockPeek: size bytes of a raw disk's image at offset, into buf. */
bool vrt_qemu_domain_block_peek(VrtQemuDriver *drv, const guchar *uuid, const char *path, guint64 offset, guint size,
                                guint8 *buf, GError **error);

/* virDomainGetCPUStats for the whole domain (start_cpu -1): cpu_time,
 * user_time, system_time; *count is how many there are. Per-CPU figures
 * need the cpuacct cgroup, which vrt does not make: VIR_ERR_OPERATION_INVALID
 * as libvirt without it. */
GPtrArray *vrt_qemu_domain_get_cpu_stats(VrtQemuDriver *drv, const guchar *uuid, guint nparams, int start_cpu,
                                         guint ncpus, guint flags, int *count, GError **error);
