/*
 * The statistics of a domain's completed job (a save or managed save:
 * QEMU's migration stream into the image), as libvirt 9.0 keeps them:
 * sent with the job-completed event (VIR_DOMAIN_EVENT_ID_JOB_COMPLETED)
 * when the job completes, and answered by virDomainGetJobStats with
 * VIR_DOMAIN_JOB_STATS_COMPLETED until read (or kept with KEEP_COMPLETED).
 */
#pragma once
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_driver_stats.h"
#include "drivers/qemu/qemu_monitor.h"

/* virDomainJobOperation */
#define VRT_DOMAIN_JOB_OPERATION_SAVE 2
#define VRT_DOMAIN_JOB_OPERATION_MIGRATION_IN 4
#define VRT_DOMAIN_JOB_OPERATION_MIGRATION_OUT 5

/* The migration out of the domain (mon) completed for a job of operation:
 * reads its final statistics (query-migrate), keeps them as the domain's
 * completed job and sends the job-completed event. Errors are logged: the
 * job itself succeeded. */
void vrt_qemu_job_completed(VrtQemuDom *obj, VrtQemuMonitor *mon, int operation);
/* QEMU's figures of its last migration (query-migrate) as libvirt's typed
 * parameters of a job of operation; NULL with the reason. */
GPtrArray *vrt_qemu_job_query_stats(VrtQemuMonitor *mon, int operation, GError **error);
/* Keeps params (VrtTypedParam*, copied) as the domain's completed job and
 * sends the job-completed event with them: a job whose figures came from
 * elsewhere (an incoming migration's, from the source's cookie). */
void vrt_qemu_job_completed_params(VrtQemuDom *obj, GPtrArray *params);
/* A copy of params. */
GPtrArray *vrt_qemu_job_params_copy(GPtrArray *params);

/* The completed job's statistics (VrtTypedParam*) of the domain of drv,
 * NULL when none; they are forgotten unless keep. *type is
 * VIR_DOMAIN_JOB_COMPLETED. */
GPtrArray *vrt_qemu_job_completed_stats(VrtQemuDriver *drv, const guchar *uuid, bool keep, int *type);
