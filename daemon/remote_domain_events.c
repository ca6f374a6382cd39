/*
 * The QEMU driver's domain events other than lifecycle, device removal and
 * metadata change (src/drivers/qemu/qemu_events.h), as the messages libvirt's
 * remote driver sends for a callback registered with
 * CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: one procedure per event ID
 * (REMOTE_PROC_DOMAIN_EVENT_CALLBACK_*, and for block-job-2 and
 * memory-failure the messages that carry their callback ID themselves).
 * io-error and io-error-reason, block-job and block-job-2 are separate IDs a
 * client registers separately, as with libvirt.
 */
#include "daemon/daemon.h"
#include "drivers/qemu/qemu_driver_stats.h"

#include <string.h>

/* The wire's remote_nonnull_domain of the event's domain (borrowed name). */
#define SET_DOM(d, name, uuid, id)    \
    do {                              \
        (d).name = (char *)(name);    \
        memcpy((d).uuid, (uuid), 16); \
        (d).id = (id);                \
    } while (0)

#define EMIT(daemon, ev_id, uuid, proc, type, msg) \
    vrt_daemon_emit_event((daemon), (ev_id), (uuid), (proc), (xdrproc_t)xdr_##type, &(msg), &(msg).callbackID)

static void
emit_graphics(VrtDaemon *daemon, const char *name, const guchar uuid[16], int id, const VrtQemuDomainEvent *ev)
{
    remote_domain_event_callback_graphics_msg m = { 0 };
    remote_domain_event_graphics_identity subject[2];
    guint n = 0;

    SET_DOM(m.msg.dom, name, uuid, id);
    m.msg.phase = ev->phase;
    m.msg.local.family = ev->local.family;
    m.msg.local.node = (char *)ev->local.node;
    m.msg.local.service = (char *)ev->local.service;
    m.msg.remote.family = ev->remote.family;
    m.msg.remote.node = (char *)ev->remote.node;
    m.msg.remote.service = (char *)ev->remote.service;
    m.msg.authScheme = (char *)ev->auth_scheme;
    /* libvirt's identities of a VNC client: its x509 name, its SASL user. */
    if (ev->x509_dname)
        subject[n++] = (remote_domain_event_graphics_identity){ "x509dname", (char *)ev->x509_dname };
    if (ev->sasl_username)
        subject[n++] = (remote_domain_event_graphics_identity){ "saslUsername", (char *)ev->sasl_username };
    m.msg.subject.subject_len = n;
    m.msg.subject.subject_val = n ? subject : NULL;
    EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_GRAPHICS, remote_domain_event_callback_graphics_msg, m);
}

void
vrt_daemon_emit_domain_event(VrtDaemon *daemon, const char *name, const guchar uuid[16], int id,
                             const VrtQemuDomainEvent *ev)
{
    switch (ev->id) {
    case VRT_EVENT_ID_REBOOT: {
        remote_domain_event_callback_reboot_msg m = { 0 };

        SET_DOM(m.msg.dom, name, uuid, id);
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_REBOOT, remote_domain_event_callback_reboot_msg, m);
        break;
    }
    case VRT_EVENT_ID_RTC_CHANGE: {
        remote_domain_event_callback_rtc_change_msg m = { 0 };

        SET_DOM(m.msg.dom, name, uuid, id);
        m.msg.offset = ev->offset;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_RTC_CHANGE,
             remote_domain_event_callback_rtc_change_msg, m);
        break;
    }
    case VRT_EVENT_ID_WATCHDOG: {
        remote_domain_event_callback_watchdog_msg m = { 0 };

        SET_DOM(m.msg.dom, name, uuid, id);
        m.msg.action = ev->action;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_WATCHDOG, remote_domain_event_callback_watchdog_msg,
             m);
        break;
    }
    case VRT_EVENT_ID_IO_ERROR: {
        remote_domain_event_callback_io_error_msg m = { 0 };

        SET_DOM(m.msg.dom, name, uuid, id);
        m.msg.srcPath = (char *)ev->src_path;
        m.msg.devAlias = (char *)ev->dev_alias;
        m.msg.action = ev->action;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_IO_ERROR, remote_domain_event_callback_io_error_msg,
             m);
        break;
    }
    case VRT_EVENT_ID_IO_ERROR_REASON: {
        remote_domain_event_callback_io_error_reason_msg m = { 0 };

        SET_DOM(m.msg.dom, name, uuid, id);
        m.msg.srcPath = (char *)ev->src_path;
        m.msg.devAlias = (char *)ev->dev_alias;
        m.msg.action = ev->action;
        m.msg.reason = (char *)ev->reason_text;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_IO_ERROR_REASON,
             remote_domain_event_callback_io_error_reason_msg, m);
        break;
    }
    case VRT_EVENT_ID_GRAPHICS: emit_graphics(daemon, name, uuid, id, ev); break;
    case VRT_EVENT_ID_BLOCK_JOB: {
        remote_domain_event_callback_block_job_msg m = { 0 };

        SET_DOM(m.msg.dom, name, uuid, id);
        m.msg.path = (char *)ev->src_path;
        m.msg.type = ev->type;
        m.msg.status = ev->status;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_BLOCK_JOB, remote_domain_event_callback_block_job_msg,
             m);
        break;
    }
    case VRT_EVENT_ID_BLOCK_JOB_2: {
        remote_domain_event_block_job_2_msg m = { 0 };

        SET_DOM(m.dom, name, uuid, id);
        m.dst = (char *)ev->dev_alias;
        m.type = ev->type;
        m.status = ev->status;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_BLOCK_JOB_2, remote_domain_event_block_job_2_msg, m);
        break;
    }
    case VRT_EVENT_ID_TRAY_CHANGE: {
        remote_domain_event_callback_tray_change_msg m = { 0 };

        SET_DOM(m.msg.dom, name, uuid, id);
        m.msg.devAlias = (char *)ev->dev_alias;
        m.msg.reason = ev->reason;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_TRAY_CHANGE,
             remote_domain_event_callback_tray_change_msg, m);
        break;
    }
    case VRT_EVENT_ID_PMWAKEUP: {
        remote_domain_event_callback_pmwakeup_msg m = { 0 };

        SET_DOM(m.msg.dom, name, uuid, id);
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_PMWAKEUP, remote_domain_event_callback_pmwakeup_msg,
             m);
        break;
    }
    case VRT_EVENT_ID_PMSUSPEND: {
        remote_domain_event_callback_pmsuspend_msg m = { 0 };

        SET_DOM(m.msg.dom, name, uuid, id);
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_PMSUSPEND, remote_domain_event_callback_pmsuspend_msg,
             m);
        break;
    }
    case VRT_EVENT_ID_PMSUSPEND_DISK: {
        remote_domain_event_callback_pmsuspend_disk_msg m = { 0 };

        SET_DOM(m.msg.dom, name, uuid, id);
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_PMSUSPEND_DISK,
             remote_domain_event_callback_pmsuspend_disk_msg, m);
        break;
    }
    case VRT_EVENT_ID_BALLOON_CHANGE: {
        remote_domain_event_callback_balloon_change_msg m = { 0 };

        SET_DOM(m.msg.dom, name, uuid, id);
        m.msg.actual = ev->actual;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_BALLOON_CHANGE,
             remote_domain_event_callback_balloon_change_msg, m);
        break;
    }
    case VRT_EVENT_ID_AGENT_LIFECYCLE: {
        remote_domain_event_callback_agent_lifecycle_msg m = { 0 };

        SET_DOM(m.dom, name, uuid, id);
        m.state = ev->state;
        m.reason = ev->reason;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_AGENT_LIFECYCLE,
             remote_domain_event_callback_agent_lifecycle_msg, m);
        break;
    }
    case VRT_EVENT_ID_JOB_COMPLETED: {
        remote_domain_event_callback_job_completed_msg m = { 0 };

        g_autofree remote_typed_param *w = g_new0(remote_typed_param, ev->params ? ev->params->len + 1 : 1);
        guint n = ev->params ? ev->params->len : 0;

        SET_DOM(m.dom, name, uuid, id);
        /* The statistics, borrowed: a ullong or the operation's int. */
        for (guint i = 0; i < n; i++) {
            const VrtTypedParam *p = g_ptr_array_index(ev->params, i);

            w[i].field = p->field;
            w[i].value.type = p->type;
            if (p->type == VRT_TYPED_PARAM_INT)
                w[i].value.remote_typed_param_value_u.i = p->v.i;
            else if (p->type == VRT_TYPED_PARAM_ULLONG)
                w[i].value.remote_typed_param_value_u.ul = p->v.ul;
        }
        m.params.params_len = n;
        m.params.params_val = w;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_JOB_COMPLETED,
             remote_domain_event_callback_job_completed_msg, m);
        break;
    }
    case VRT_EVENT_ID_DEVICE_ADDED: {
        remote_domain_event_callback_device_added_msg m = { 0 };

        SET_DOM(m.dom, name, uuid, id);
        m.devAlias = (char *)ev->dev_alias;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_ADDED,
             remote_domain_event_callback_device_added_msg, m);
        break;
    }
    case VRT_EVENT_ID_DEVICE_REMOVAL_FAILED: {
        remote_domain_event_callback_device_removal_failed_msg m = { 0 };

        SET_DOM(m.dom, name, uuid, id);
        m.devAlias = (char *)ev->dev_alias;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED,
             remote_domain_event_callback_device_removal_failed_msg, m);
        break;
    }
    case VRT_EVENT_ID_MEMORY_FAILURE: {
        remote_domain_event_memory_failure_msg m = { 0 };

        SET_DOM(m.dom, name, uuid, id);
        m.recipient = ev->type;
        m.action = ev->action;
        m.flags = ev->flags;
        EMIT(daemon, ev->id, uuid, VRT_PROC_DOMAIN_EVENT_MEMORY_FAILURE, remote_domain_event_memory_failure_msg, m);
        break;
    }
    default: g_warning("domain %s: event ID %d has no message", name, ev->id); break;
    }
}
