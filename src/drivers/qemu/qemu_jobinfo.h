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

/* The migration out of the domain (mon) completed for a job of operation:
 * reads its final statistics (query-migrate), keeps them as the domain's
 * completed job and sends the job-completed event. Errors are logged: the
 * job itself succeeded. */
void vrt_qemu_job_completed(VrtQemuDom *obj, VrtQemuMonitor *mon, int operation);

/* The completed job's statistics (VrtTypedParam*) of the domain, NULL when
 * none; they are forgotten unless keep. *type is VIR_DOMAIN_JOB_COMPLETED. */
GPtrArray *vrt_qemu_job_completed_stats(const guchar *uuid, bool keep, int *type);
