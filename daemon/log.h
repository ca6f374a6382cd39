/*
 * The daemon's log: GLib's structured log writer routed to the outputs of
 * log_outputs ("LEVEL:stderr", "LEVEL:file:PATH", "LEVEL:journald"), each with
 * libvirt's levels 1 debug, 2 info, 3 warning, 4 error.
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
