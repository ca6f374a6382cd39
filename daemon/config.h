/*
 * vrtd.conf: libvirt's "key = value" syntax (integers, "strings", lists of
 * strings in [ ]; # comments). Every error names the file, the line and the
 * key so an administrator can fix it.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    char *unix_sock_dir; /* NULL: <root>/run/vrt */
    char *unix_sock_group; /* NULL: leave the group alone */
    guint unix_sock_ro_perms; /* default 0777 */
    guint unix_sock_rw_perms; /* default 0700 */
    guint max_clients;
    guint max_workers;
    guint max_client_requests;
    int keepalive_interval;
    guint keepalive_count;
    int log_level; /* 1 debug .. 4 error; default 3 */
    char *log_outputs; /* e.g. "3:stderr 1:file:/var/log/vrt/vrtd.log" */
    char *host_root; /* root of sysfs and /dev as the daemon sees them; default "/" */
    guint config_sync_ms; /* domain definitions are on disk at most this late; 0: at once */
    char *cgroup_root; /* domains' cgroup v2 root (host path); NULL: default, "none": off */
} VrtConfig;

void vrt_config_init(VrtConfig *cfg);
void vrt_config_clear(VrtConfig *cfg);
/* Parses text (named path in messages) into cfg. */
bool vrt_config_parse(VrtConfig *cfg, const char *path, const char *text, GError **error);
bool vrt_config_load(VrtConfig *cfg, const char *path, GError **error);
