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
    guint unix_sock_rw_perms; /* default 0700; 0777 with auth_unix_rw = "polkit", as libvirtd */
    bool unix_sock_rw_perms_set; /* the file gave unix_sock_rw_perms */
    guint max_clients;
    guint max_anonymous_clients; /* clients still authenticating at once (default 20; 0: no limit) */
    guint max_workers;
    guint max_client_requests;
    int keepalive_interval;
    guint keepalive_count;
    int log_level; /* 1 debug .. 4 error; default 3 */
    char *log_outputs; /* e.g. "3:stderr 1:file:/var/log/vrt/vrtd.log" */
    char *host_root; /* root of sysfs and /dev as the daemon sees them; default "/" */
    guint config_sync_ms; /* domain definitions are on disk at most this late; 0: at once */
    /* Remote access, libvirtd.conf's keys and defaults: the TCP and TLS
     * sockets are opened only with --listen (or passed by systemd). */
    bool listen_tls; /* default on */
    bool listen_tcp; /* default off */
    char *listen_addr; /* NULL: every address */
    char *tls_port; /* "16514" */
    char *tcp_port; /* "16509" */
    char *key_file, *cert_file, *ca_file, *crl_file; /* NULL: libvirt's paths under the root */
    bool tls_no_verify_certificate;
    char **tls_allowed_dn_list; /* NULL: any client DN the CA signed */
    char *tls_priority; /* NULL: TLS 1.2 and later (see src/rpc/tls.h) */
    char *auth_tls; /* "none" (the certificate is the check) or "sasl" */
    char *auth_tcp; /* "sasl" (default) or "none" */
    char *auth_unix_rw; /* "none" (default), "sasl" or "polkit" */
    char *auth_unix_ro; /* "none" (default) or "polkit" */
    char **access_drivers; /* NULL or [ "polkit" ]: every call's permission is asked of polkitd */
    char **sasl_allowed_username_list; /* NULL: any user SASL authenticates */
    guint tcp_min_ssf; /* SASL's minimum layer over plain TCP, default 56 */
    char *cgroup_root; /* domains' cgroup v2 root (host path); NULL: default, "none": off */
    char *host_uuid; /* libvirtd.conf's host_uuid: the UUID migrations compare; NULL: SMBIOS */
    char *migration_host; /* qemu.conf's: the address a destination gives its source; NULL: hostname */
    char *migration_address; /* qemu.conf's: where a destination's QEMU listens; NULL: everywhere */
    guint migration_port_min, migration_port_max; /* qemu.conf's range, 49152..49215 */
    guint migration_prepare_timeout; /* s an incoming QEMU waits for its state; 0: 300 */
    char *migrate_tls_x509_cert_dir; /* qemu.conf's: QEMU's --tls credentials; NULL: <root>/etc/pki/qemu */
} VrtConfig;

void vrt_config_init(VrtConfig *cfg);
void vrt_config_clear(VrtConfig *cfg);
/* Parses text (named path in messages) into cfg. */
bool vrt_config_parse(VrtConfig *cfg, const char *path, const char *text, GError **error);
bool vrt_config_load(VrtConfig *cfg, const char *path, GError **error);
