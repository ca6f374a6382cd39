/*
 * The daemon's log: GLib's structured log writer routed to the outputs of
 * log_outputs ("LEVEL:stderr", "LEVEL:file:PATH", "LEVEL:journald"), each with
 * libvirt's levels 1 debug, 2 info, 3 warning, 4 error, and log_filters
 * set at run time.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct _VrtLog VrtLog;

/* The outputs of outputs (NULL or empty: "DEFAULT_LEVEL:stderr"). A message
 * is written to an output when its level is at least default_level
 * (log_level) and at least the output's own, as libvirt's log_level and
 * log_outputs (without log_filters). */
VrtLog *vrt_log_new(int default_level, const char *outputs, GError **error);
/* Routes GLib's log to log; log must outlive every later log call. */
void vrt_log_install(VrtLog *log);
void vrt_log_free(VrtLog *log);

/* At run time (the admin interface): replaces the outputs (NULL or empty:
 * "LOG_LEVEL:stderr", as libvirt's default), or the filters, each
 * "LEVEL:MATCH" or "LEVEL:+MATCH": a message whose text or log domain
 * contains MATCH shows from LEVEL on, whatever log_level says (libvirt
 * matches its source file names, which vrt's messages do not carry). On a
 * bad item nothing changes. */
bool vrt_log_set_outputs(VrtLog *log, const char *outputs, GError **error);
bool vrt_log_set_filters(VrtLog *log, const char *filters, GError **error);
/* Their text now, libvirt's syntax, space-separated, and their number. */
char *vrt_log_get_outputs(VrtLog *log, guint *count);
char *vrt_log_get_filters(VrtLog *log, guint *count);
