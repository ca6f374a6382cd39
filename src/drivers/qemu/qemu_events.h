/*
 * The domain events a QEMU guest raises beyond lifecycle, device removal and
 * metadata changes (libvirt's register-any event IDs: reboot, RTC change,
 * watchdog, I/O error, graphics, tray, power management, balloon, block
 * job, agent lifecycle, removal failure, memory failure), as the QEMU driver
 * hands them to its user: one struct for every kind, filled from the QMP
 * event by qemu_events.c, which the daemon turns into libvirt's messages.
 * Numbers are libvirt's public values.
 */
#pragma once

#include <glib.h>

/* virDomainEventID values vrt raises through VrtQemuDomainEvent. */
enum {
    VRT_EVENT_ID_REBOOT = 1,
    VRT_EVENT_ID_RTC_CHANGE = 2,
    VRT_EVENT_ID_WATCHDOG = 3,
    VRT_EVENT_ID_IO_ERROR = 4,
    VRT_EVENT_ID_GRAPHICS = 5,
    VRT_EVENT_ID_IO_ERROR_REASON = 6,
    VRT_EVENT_ID_BLOCK_JOB = 8,
    VRT_EVENT_ID_TRAY_CHANGE = 10,
    VRT_EVENT_ID_PMWAKEUP = 11,
    VRT_EVENT_ID_PMSUSPEND = 12,
    VRT_EVENT_ID_BALLOON_CHANGE = 13,
    VRT_EVENT_ID_PMSUSPEND_DISK = 14,
    VRT_EVENT_ID_BLOCK_JOB_2 = 16,
    VRT_EVENT_ID_AGENT_LIFECYCLE = 18,
    VRT_EVENT_ID_DEVICE_ADDED = 19,
    VRT_EVENT_ID_JOB_COMPLETED = 21,
    VRT_EVENT_ID_DEVICE_REMOVAL_FAILED = 22,
    VRT_EVENT_ID_MEMORY_FAILURE = 25,
};

typedef struct {
    int family; /* virDomainEventGraphicsAddressType: ipv4 0, ipv6 1, unix 2 */
    const char *node;
    const char *service;
} VrtGraphicsAddress;

/* One event; only the members its id names are set (strings never NULL
 * where libvirt's message has a non-null string). Valid for the call. */
typedef struct {
    int id;
    gint64 offset; /* RTC_CHANGE: seconds */
    guint64 actual; /* BALLOON_CHANGE: KiB */
    int action; /* WATCHDOG, IO_ERROR(_REASON), MEMORY_FAILURE */
    int reason; /* TRAY_CHANGE, AGENT_LIFECYCLE */
    int phase; /* GRAPHICS */
    int state; /* AGENT_LIFECYCLE */
    int type; /* BLOCK_JOB(_2): virDomainBlockJobType; MEMORY_FAILURE: recipient */
    int status; /* BLOCK_JOB(_2): virConnectDomainEventBlockJobStatus */
    guint flags; /* MEMORY_FAILURE */
    const char *src_path; /* IO_ERROR(_REASON); BLOCK_JOB: the disk's path */
    const char
        *dev_alias; /* IO_ERROR(_REASON), TRAY_CHANGE, DEVICE_ADDED, DEVICE_REMOVAL_FAILED; BLOCK_JOB_2: target */
    const char *reason_text; /* IO_ERROR_REASON */
    VrtGraphicsAddress local, remote; /* GRAPHICS */
    const char *auth_scheme; /* GRAPHICS */
    const char *x509_dname, *sasl_username; /* GRAPHICS: the subject, NULL when none */
    GPtrArray *params; /* JOB_COMPLETED: the job's statistics, VrtTypedParam* (qemu_jobinfo.h) */
} VrtQemuDomainEvent;
