/*
 * QMP client for one QEMU process.
 *
 * Threading contract: every read and write on the monitor socket happens on
 * one GMainContext thread (the driver's event thread, VrtQemuEventThread).
 * Worker threads call vrt_qemu_monitor_command(), which queues the command
 * for that thread and blocks on a GCond until the matching reply (by "id"),
 * the timeout, or the end of the connection. Events and EOF are delivered to
 * the owner's callbacks ON THE EVENT THREAD: a callback must not block and
 * must not call vrt_qemu_monitor_command() (that would wait on itself); it
 * hands work to another thread instead.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

/* The thread that runs every monitor's I/O. */
typedef struct _VrtQemuEventThread VrtQemuEventThread;
VrtQemuEventThread *vrt_qemu_event_thread_new(const char *name);
GMainContext *vrt_qemu_event_thread_context(VrtQemuEventThread *thr);
void vrt_qemu_event_thread_free(VrtQemuEventThread *thr);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtQemuEventThread, vrt_qemu_event_thread_free)

typedef struct _VrtQemuMonitor VrtQemuMonitor;

typedef struct {
    /* QMP event: name ("SHUTDOWN", ...), data (may be NULL, borrowed). */
    void (*event)(VrtQemuMonitor *mon, const char *name, JsonObject *data, gpointer opaque);
    /* The connection ended (QEMU exited or closed it); called at most once
     * and never after vrt_qemu_monitor_close() returned. */
    void (*eof)(VrtQemuMonitor *mon, gpointer opaque);
    /* Optional, for every event after event(): QEMU's timestamp of it
     * (seconds, microseconds; -1 and 0 when it had none) and its "data"
     * as JSON text (NULL when it had none), as libvirt forwards QMP events
     * to its QEMU program's clients. */
    void (*raw_event)(VrtQemuMonitor *mon, const char *name, gint64 seconds, guint micros, const char *details,
                      gpointer opaque);
} VrtQemuMonitorCallbacks;

/* Default time a command may take before the caller gets an error. */
#define VRT_QEMU_MONITOR_TIMEOUT_MS 30000

/* Connects to the QMP socket at path, retrying until it accepts for up to
 * connect_timeout_ms (QEMU creates it shortly after exec); if alive_pid > 0
 * and that process disappears meanwhile, gives up at once. Then reads the
 * greeting and negotiates capabilities (qmp_capabilities). The callbacks
 * start after this returns successfully. */
VrtQemuMonitor *vrt_qemu_monitor_open(const char *path, GMainContext *ctx, pid_t alive_pid, guint connect_timeout_ms,
                                      const VrtQemuMonitorCallbacks *cb, gpointer opaque, GError **error);

VrtQemuMonitor *vrt_qemu_monitor_ref(VrtQemuMonitor *mon);
void vrt_qemu_monitor_unref(VrtQemuMonitor *mon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtQemuMonitor, vrt_qemu_monitor_unref)

/* Stops callbacks, fails pending commands and closes the socket (QEMU keeps
 * running). Safe from any thread except inside a monitor callback; idempotent. */
void vrt_qemu_monitor_close(VrtQemuMonitor *mon);

/* True once the connection ended or was closed. */
bool vrt_qemu_monitor_is_closed(VrtQemuMonitor *mon);

/* Runs one QMP command (args borrowed, may be NULL) and returns its "return"
 * member (never NULL on success: an empty object when QEMU sends one).
 * timeout_ms 0 means VRT_QEMU_MONITOR_TIMEOUT_MS. Errors: VIR_ERR_INTERNAL_ERROR
 * with QEMU's description when QEMU refuses, VIR_ERR_OPERATION_TIMEOUT,
 * VIR_ERR_OPERATION_FAILED when the monitor closed. */
JsonNode *vrt_qemu_monitor_command(VrtQemuMonitor *mon, const char *cmd, JsonObject *args, guint timeout_ms,
                                   GError **error);

/* Sends cmd, the text of one QMP command object from a user (virDomainQemu
 * MonitorCommand), with an "id" of the monitor's added, and returns QEMU's
 * whole reply as JSON text (its "return" or "error" and the id): an error
 * QEMU answers is part of the text, not a failure. Errors: VIR_ERR_INTERNAL_ERROR
 * when cmd is not a JSON object, else as vrt_qemu_monitor_command(). */
char *vrt_qemu_monitor_arbitrary(VrtQemuMonitor *mon, const char *cmd, GError **error);
/* Runs an HMP command line through QMP's human-monitor-command and returns
 * its output text; a QMP error is a failure as in vrt_qemu_monitor_command(). */
char *vrt_qemu_monitor_human(VrtQemuMonitor *mon, const char *cmdline, GError **error);
/* Convenience wrappers. */
bool vrt_qemu_monitor_simple(VrtQemuMonitor *mon, const char *cmd, GError **error);
bool vrt_qemu_monitor_cont(VrtQemuMonitor *mon, GError **error);
bool vrt_qemu_monitor_stop(VrtQemuMonitor *mon, GError **error);
bool vrt_qemu_monitor_system_powerdown(VrtQemuMonitor *mon, GError **error);
bool vrt_qemu_monitor_system_reset(VrtQemuMonitor *mon, GError **error);

/* query-status: *running and, when non-NULL, QEMU's status string
 * ("running", "paused", "shutdown", ...). */
bool vrt_qemu_monitor_query_status(VrtQemuMonitor *mon, bool *running, char **status, GError **error);

/* Ids of devices that have one (qom-list /machine/peripheral): array of char*. */
GPtrArray *vrt_qemu_monitor_list_device_ids(VrtQemuMonitor *mon, GError **error);

/* device_add with props (borrowed; must contain "driver" and "id"). */
bool vrt_qemu_monitor_device_add(VrtQemuMonitor *mon, JsonObject *props, GError **error);
bool vrt_qemu_monitor_device_del(VrtQemuMonitor *mon, const char *id, GError **error);
/* netdev_add with props (borrowed; must contain "type" and "id"). */
bool vrt_qemu_monitor_netdev_add(VrtQemuMonitor *mon, JsonObject *props, GError **error);
bool vrt_qemu_monitor_netdev_del(VrtQemuMonitor *mon, const char *id, GError **error);
/* getfd: passes a copy of fd to QEMU under fdname (SCM_RIGHTS with the
 * command); closefd drops it again. */
bool vrt_qemu_monitor_getfd(VrtQemuMonitor *mon, const char *fdname, int fd, GError **error);
bool vrt_qemu_monitor_closefd(VrtQemuMonitor *mon, const char *fdname, GError **error);

/* set_link: the guest sees the NIC's link up or down. */
bool vrt_qemu_monitor_set_link(VrtQemuMonitor *mon, const char *id, bool up, GError **error);

/* balloon target in KiB. */
bool vrt_qemu_monitor_balloon(VrtQemuMonitor *mon, guint64 kib, GError **error);

typedef struct {
    guint cpu_index;
    gint64 thread_id;
} VrtQemuCpuInfo;
/* query-cpus-fast: array of VrtQemuCpuInfo. */
GArray *vrt_qemu_monitor_query_cpus(VrtQemuMonitor *mon, GError **error);

/* query-chardev: chardev id -> pty path ("/dev/pts/3") for pty backends. */
GHashTable *vrt_qemu_monitor_query_pty_paths(VrtQemuMonitor *mon, GError **error);

/* query-vnc: the TCP port the VNC server listens on; 0 when disabled. */
bool vrt_qemu_monitor_query_vnc_port(VrtQemuMonitor *mon, int *port, GError **error);
