/*
 * The QEMU driver's guest agent calls (libvirt's virDomainQemuAgentCommand,
 * virDomainFSFreeze/FSThaw, virDomainGetTime/SetTime and the agent mode of
 * shutdown and reboot), and, private to the driver, the one exchange with
 * qemu-ga they all go through (qemu_driver_live.c): the domain's
 * org.qemu.guest_agent.0 channel's unix socket, guest-sync, the command,
 * its reply within libvirt's timeout.
 */
#pragma once

#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_driver.h"

#include <json-glib/json-glib.h>

/* libvirt's agent timeouts (seconds; VIR_DOMAIN_QEMU_AGENT_COMMAND_*). */
#define VRT_QEMU_AGENT_TIMEOUT_BLOCK (-2)
#define VRT_QEMU_AGENT_TIMEOUT_DEFAULT (-1)
#define VRT_QEMU_AGENT_TIMEOUT_NOWAIT 0
#define VRT_QEMU_AGENT_TIMEOUT_SHUTDOWN 60

/* virDomainShutdownFlags' and virDomainReboot's agent mode flag. */
#define VRT_DOMAIN_SHUTDOWN_GUEST_AGENT (1u << 1)
/* virDomainSetTime's flag: the guest reads its time from its RTC. */
#define VRT_DOMAIN_TIME_SYNC (1u << 0)

/* Sends request (a JSON object's text) to the domain's agent after the
 * guest-sync handshake and returns its whole reply object (with "return"),
 * waiting timeout seconds (libvirt's -2 forever, -1 the default 5, 0 not
 * at all); no_reply: for a command qemu-ga does not answer (guest-shutdown),
 * a JSON null once it is sent. libvirt's errors: "not configured", "not
 * connected", "Guest agent not available for now", the agent's own error. */
JsonNode *vrt_qemu_agent_exchange(VrtQemuDom *obj, const char *request, int timeout, bool no_reply, GError **error);
/* Runs cmd with args (may be NULL) with the default timeout; its "return". */
JsonNode *vrt_qemu_agent_call(VrtQemuDom *obj, const char *cmd, JsonObject *args, GError **error);
/* Whether the agent can be used now (configured, guest connected); with
 * libvirt's error why not. */
bool vrt_qemu_agent_check(VrtQemuDom *obj, GError **error);
/* guest-shutdown in mode "powerdown" or "reboot" (reboot true). */
bool vrt_qemu_agent_shutdown(VrtQemuDom *obj, bool reboot, GError **error);

/* virDomainFSFreeze / virDomainFSThaw: the number of filesystems frozen
 * or thawed (mountpoints: NULL-terminated, NULL for all), -1 on error. */
int vrt_qemu_domain_fsfreeze(VrtQemuDriver *drv, const guchar *uuid, const char *const *mountpoints, guint flags,
                             GError **error);
int vrt_qemu_domain_fsthaw(VrtQemuDriver *drv, const guchar *uuid, const char *const *mountpoints, guint flags,
                           GError **error);
/* virDomainGetTime / virDomainSetTime through guest-get-time/guest-set-time
 * (then QMP rtc-reset-reinjection, as libvirt on x86). */
bool vrt_qemu_domain_get_time(VrtQemuDriver *drv, const guchar *uuid, gint64 *seconds, guint *nseconds, guint flags,
                              GError **error);
bool vrt_qemu_domain_set_time(VrtQemuDriver *drv, const guchar *uuid, gint64 seconds, guint nseconds, guint flags,
                              GError **error);
