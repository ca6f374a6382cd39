/*
 * libvrt: the client library of vrt. It speaks libvirt's remote protocol over
 * a UNIX socket to vrtd (or to a libvirtd) and gives C programs opaque handles
 * for a connection, domains, networks, network ports and node devices.
 *
 * Rules that hold for every function below:
 * - Errors: a function that can fail takes `vrt_error **err` last. On failure
 *   it returns -1 (int functions) or NULL (pointer functions) and, when err is
 *   not NULL, stores a new vrt_error the caller frees with vrt_error_free().
 *   code is libvirt's virErrorNumber (e.g. 42 = no domain), message is the
 *   text libvirt clients print ("Domain not found: no domain with matching
 *   name 'x'"). Functions answering yes/no return 1 or 0, or -1 on failure.
 * - Ownership: every returned `char *` is the caller's, freed with free() (or
 *   vrt_free()). Every returned handle is the caller's, freed with its
 *   _free() function. A returned list is a NULL-terminated array of handles
 *   (or strings) freed with the matching _list_free(), which frees the
 *   elements too. Strings passed in are never kept.
 * - Lifetime: handles point into their connection; free them before
 *   vrt_conn_close(). A handle stays usable after the object it names is
 *   undefined; calls on it then fail with "not found".
 * - Threads: one vrt_conn may be used from several threads at once; calls are
 *   matched to replies by serial. Event callbacks run on the connection's
 *   reader thread: they must return quickly and must not call libvrt
 *   functions on the same connection (that would wait for the thread that
 *   runs the callback).
 * - Flags are libvirt's numbers, listed below under the names libvirt uses
 *   with a VRT_ prefix in place of VIR_.
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VRT_UUID_BUFLEN 16
#define VRT_UUID_STRING_BUFLEN 37

typedef struct vrt_conn vrt_conn;
typedef struct vrt_domain vrt_domain;
typedef struct vrt_network vrt_network;
typedef struct vrt_network_port vrt_network_port;
typedef struct vrt_nodedev vrt_nodedev;
typedef struct vrt_storage_pool vrt_storage_pool;
typedef struct vrt_storage_vol vrt_storage_vol;
typedef struct vrt_stream vrt_stream;

/* ---- errors and memory ---- */

typedef struct {
    int code; /* libvirt's virErrorNumber */
    int domain; /* libvirt's virErrorDomain of the call's family (VRT_FROM_*) */
    char *message; /* complete message, never NULL */
} vrt_error;

/* The virErrorNumber values a caller most often tests (libvirt's numbers). */
enum {
    VRT_ERR_INTERNAL_ERROR = 1,
    VRT_ERR_NO_SUPPORT = 3, /* the daemon does not implement the call */
    VRT_ERR_INVALID_ARG = 8, /* also: a URI libvrt does not accept */
    VRT_ERR_OPERATION_FAILED = 9,
    VRT_ERR_XML_ERROR = 27,
    VRT_ERR_OPERATION_DENIED = 29, /* e.g. a change on a read-only connection */
    VRT_ERR_SYSTEM_ERROR = 38, /* e.g. the socket cannot be reached */
    VRT_ERR_RPC = 39, /* the connection broke */
    VRT_ERR_NO_DOMAIN = 42,
    VRT_ERR_NO_NETWORK = 43,
    VRT_ERR_AUTH_FAILED = 45,
    VRT_ERR_NO_NODE_DEVICE = 53,
    VRT_ERR_OPERATION_INVALID = 55, /* e.g. "domain is not running" */
    VRT_ERR_CONFIG_UNSUPPORTED = 67,
    VRT_ERR_NO_NETWORK_PORT = 107,
};

/* virErrorDomain values libvrt reports in vrt_error.domain. */
enum {
    VRT_FROM_NONE = 0,
    VRT_FROM_REMOTE = 13,
    VRT_FROM_NETWORK = 19,
    VRT_FROM_DOMAIN = 20,
    VRT_FROM_NODEDEV = 22,
    VRT_FROM_URI = 45,
};

void vrt_error_free(vrt_error *err);
/* Frees a string or array returned by libvrt (same as free()). */
void vrt_free(void *ptr);
/* Frees a NULL-terminated string array and its strings. */
void vrt_string_list_free(char **list);

/* The library's version as major * 1000000 + minor * 1000 + micro. */
unsigned long vrt_lib_version(void);

/* ---- connection ---- */

enum {
    VRT_CONNECT_RO = 1, /* read-only: the read-only socket, state changes refused */
};

/*
 * uri: NULL for qemu:///system; "qemu:///system" uses /run/vrt/vrtd-sock
 * (read-only: /run/vrt/vrtd-sock-ro); "qemu+unix:///system?socket=PATH" uses
 * PATH (vrtd's or libvirtd's). Other URIs fail with VRT_ERR_INVALID_ARG.
 * Opens as libvirt's client does: auth list (only "none" is accepted),
 * connection open, keepalive.
 */
vrt_conn *vrt_conn_open(const char *uri, unsigned int flags, vrt_error **err);
/* Asked for a credential the server's SASL wants, what is "username" or
 * "password": a malloc'd string (libvrt wipes and frees it), or NULL. */
typedef char *(*vrt_auth_cb)(const char *what, void *opaque);
/* vrt_conn_open with SASL credentials: $VRT_AUTH_USERNAME and
 * $VRT_AUTH_PASSWORD when set, else cb's answers (cb may be NULL). */
vrt_conn *vrt_conn_open_auth(const char *uri, unsigned int flags, vrt_auth_cb cb, void *opaque, vrt_error **err);
/* Closes the connection (CONNECT_CLOSE) and frees it; NULL is fine. */
void vrt_conn_close(vrt_conn *conn);
/* 1 while the connection is usable, 0 after it broke (EOF, keepalive). */
int vrt_conn_is_alive(vrt_conn *conn);

/* Versions as major * 1000000 + minor * 1000 + micro. */
int vrt_conn_get_version(vrt_conn *conn, unsigned long long *hv_version, vrt_error **err);
int vrt_conn_get_lib_version(vrt_conn *conn, unsigned long long *lib_version, vrt_error **err);
char *vrt_conn_get_type(vrt_conn *conn, vrt_error **err);
char *vrt_conn_get_hostname(vrt_conn *conn, vrt_error **err);
/* The URI the connection was opened with (as libvirt reports it). */
char *vrt_conn_get_uri(vrt_conn *conn, vrt_error **err);
char *vrt_conn_get_capabilities(vrt_conn *conn, vrt_error **err);
/* type may be NULL (the default hypervisor); returns the count or -1. */
int vrt_conn_get_max_vcpus(vrt_conn *conn, const char *type, vrt_error **err);
int vrt_conn_get_free_memory(vrt_conn *conn, unsigned long long *bytes, vrt_error **err);

typedef struct {
    char model[32]; /* NUL-terminated */
    unsigned long long memory; /* KiB */
    int cpus;
    int mhz;
    int nodes;
    int sockets; /* per node */
    int cores; /* per socket */
    int threads; /* per core */
} vrt_node_info;

int vrt_conn_get_node_info(vrt_conn *conn, vrt_node_info *info, vrt_error **err);

/* ---- domains ---- */

/* virConnectListAllDomainsFlags; 0 lists all. */
enum {
    VRT_CONNECT_LIST_DOMAINS_ACTIVE = 1 << 0,
    VRT_CONNECT_LIST_DOMAINS_INACTIVE = 1 << 1,
    VRT_CONNECT_LIST_DOMAINS_PERSISTENT = 1 << 2,
    VRT_CONNECT_LIST_DOMAINS_TRANSIENT = 1 << 3,
    VRT_CONNECT_LIST_DOMAINS_RUNNING = 1 << 4,
    VRT_CONNECT_LIST_DOMAINS_PAUSED = 1 << 5,
    VRT_CONNECT_LIST_DOMAINS_SHUTOFF = 1 << 6,
    VRT_CONNECT_LIST_DOMAINS_OTHER = 1 << 7,
    VRT_CONNECT_LIST_DOMAINS_AUTOSTART = 1 << 10,
    VRT_CONNECT_LIST_DOMAINS_NO_AUTOSTART = 1 << 11,
};

/* virDomainState: VRT_DOMAIN_NOSTATE, VRT_DOMAIN_RUNNING, ... VRT_DOMAIN_PMSUSPENDED
 * (a header of its own, shared with the daemon). */
#include "vrt_domain_state.h"

/* Flags of attach/detach/update device, detach by alias (virDomainModificationImpact). */
enum {
    VRT_DOMAIN_AFFECT_CURRENT = 0,
    VRT_DOMAIN_AFFECT_LIVE = 1 << 0,
    VRT_DOMAIN_AFFECT_CONFIG = 1 << 1,
};

enum {
    VRT_DOMAIN_START_PAUSED = 1 << 0
}; /* create flags */
enum {
    VRT_DOMAIN_XML_SECURE = 1 << 0,
    VRT_DOMAIN_XML_INACTIVE = 1 << 1
}; /* XML desc flags */
enum { /* undefine flags */
    VRT_DOMAIN_UNDEFINE_MANAGED_SAVE = 1 << 0,
    VRT_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA = 1 << 1,
    VRT_DOMAIN_UNDEFINE_NVRAM = 1 << 2,
    VRT_DOMAIN_UNDEFINE_KEEP_NVRAM = 1 << 3,
};

typedef struct {
    int state; /* VRT_DOMAIN_* state */
    unsigned long long max_mem; /* KiB */
    unsigned long long memory; /* KiB */
    unsigned int nr_virt_cpu;
    unsigned long long cpu_time; /* ns */
} vrt_domain_info;

/* Stores a NULL-terminated array of handles in *domains (free it with
 * vrt_domain_list_free()); returns the number of domains or -1. */
int vrt_conn_list_all_domains(vrt_conn *conn, vrt_domain ***domains, unsigned int flags, vrt_error **err);
void vrt_domain_list_free(vrt_domain **domains);

vrt_domain *vrt_domain_lookup_by_name(vrt_conn *conn, const char *name, vrt_error **err);
vrt_domain *vrt_domain_lookup_by_uuid(vrt_conn *conn, const unsigned char uuid[VRT_UUID_BUFLEN], vrt_error **err);
/* uuid in its 36-character text form. */
vrt_domain *vrt_domain_lookup_by_uuid_string(vrt_conn *conn, const char *uuid, vrt_error **err);
vrt_domain *vrt_domain_lookup_by_id(vrt_conn *conn, int id, vrt_error **err);
vrt_domain *vrt_domain_define_xml(vrt_conn *conn, const char *xml, unsigned int flags, vrt_error **err);
/* Starts a transient domain (flags: VRT_DOMAIN_START_PAUSED). */
vrt_domain *vrt_domain_create_xml(vrt_conn *conn, const char *xml, unsigned int flags, vrt_error **err);
void vrt_domain_free(vrt_domain *dom);

/* Borrowed: valid as long as the handle. The id is -1 when it was inactive
 * at lookup time (handles are not refreshed; look up again for a new id). */
const char *vrt_domain_get_name(vrt_domain *dom);
int vrt_domain_get_id(vrt_domain *dom);
void vrt_domain_get_uuid(vrt_domain *dom, unsigned char uuid[VRT_UUID_BUFLEN]);
/* Writes the text form (36 characters and NUL) into buf. */
void vrt_domain_get_uuid_string(vrt_domain *dom, char buf[VRT_UUID_STRING_BUFLEN]);

int vrt_domain_undefine(vrt_domain *dom, unsigned int flags, vrt_error **err);
int vrt_domain_create(vrt_domain *dom, unsigned int flags, vrt_error **err);
int vrt_domain_destroy(vrt_domain *dom, vrt_error **err);
int vrt_domain_shutdown(vrt_domain *dom, vrt_error **err);
int vrt_domain_reboot(vrt_domain *dom, unsigned int flags, vrt_error **err);
int vrt_domain_reset(vrt_domain *dom, vrt_error **err);
int vrt_domain_suspend(vrt_domain *dom, vrt_error **err);
int vrt_domain_resume(vrt_domain *dom, vrt_error **err);
int vrt_domain_get_info(vrt_domain *dom, vrt_domain_info *info, vrt_error **err);
/* reason may be NULL; values are libvirt's virDomain*Reason numbers. */
int vrt_domain_get_state(vrt_domain *dom, int *state, int *reason, vrt_error **err);
char *vrt_domain_get_xml_desc(vrt_domain *dom, unsigned int flags, vrt_error **err);
char *vrt_domain_get_os_type(vrt_domain *dom, vrt_error **err);
int vrt_domain_get_autostart(vrt_domain *dom, int *autostart, vrt_error **err);
int vrt_domain_set_autostart(vrt_domain *dom, int autostart, vrt_error **err);
int vrt_domain_is_active(vrt_domain *dom, vrt_error **err);
int vrt_domain_is_persistent(vrt_domain *dom, vrt_error **err);
int vrt_domain_attach_device(vrt_domain *dom, const char *xml, unsigned int flags, vrt_error **err);
int vrt_domain_detach_device(vrt_domain *dom, const char *xml, unsigned int flags, vrt_error **err);
int vrt_domain_detach_device_alias(vrt_domain *dom, const char *alias, unsigned int flags, vrt_error **err);
int vrt_domain_update_device(vrt_domain *dom, const char *xml, unsigned int flags, vrt_error **err);

/* Text of a state ("running", "shut off", ... as virsh prints it); static. */
const char *vrt_domain_state_to_string(int state);

/* ---- live state: vCPUs, interface addresses ---- */

#define VRT_DOMAIN_VCPU_MAXIMUM 4u

/* virDomainSetVcpusFlags: n vCPUs (AFFECT_LIVE: hotplugged into the
 * running domain; AFFECT_CONFIG; VRT_DOMAIN_VCPU_MAXIMUM with CONFIG: the
 * maximum). */
int vrt_domain_set_vcpus(vrt_domain *dom, unsigned int n, unsigned int flags, vrt_error **err);
/* virDomainGetVcpusFlags: the count (flags as above); -1 on error. */
int vrt_domain_get_vcpus(vrt_domain *dom, unsigned int flags, vrt_error **err);

/* virDomainInterfaceAddressesSource */
enum {
    VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE = 0,
    VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT = 1,
    VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP = 2,
};

typedef struct {
    int type; /* 0 IPv4, 1 IPv6 */
    char *addr;
    unsigned int prefix;
} vrt_domain_ip_addr;

typedef struct {
    char *name;
    char *hwaddr; /* NULL when unknown */
    unsigned int naddrs;
    vrt_domain_ip_addr *addrs;
} vrt_domain_iface;

/* virDomainInterfaceAddresses: the number of interfaces (*ifaces set, free
 * it with vrt_domain_iface_list_free) or -1. */
int vrt_domain_interface_addresses(vrt_domain *dom, unsigned int source, vrt_domain_iface **ifaces, vrt_error **err);
void vrt_domain_iface_list_free(vrt_domain_iface *ifaces, int n);

/* ---- migration ---- */

/* virDomainMigrateFlags. */
enum {
    VRT_MIGRATE_LIVE = 1 << 0,
    VRT_MIGRATE_PEER2PEER = 1 << 1,
    VRT_MIGRATE_TUNNELLED = 1 << 2,
    VRT_MIGRATE_PERSIST_DEST = 1 << 3,
    VRT_MIGRATE_UNDEFINE_SOURCE = 1 << 4,
    VRT_MIGRATE_PAUSED = 1 << 5,
    VRT_MIGRATE_OFFLINE = 1 << 10,
    VRT_MIGRATE_COMPRESSED = 1 << 11,
    VRT_MIGRATE_AUTO_CONVERGE = 1 << 13,
    VRT_MIGRATE_POSTCOPY = 1 << 15,
    VRT_MIGRATE_TLS = 1 << 16,
    VRT_MIGRATE_PARALLEL = 1 << 17,
};

/* The migration parameters libvrt sends (libvirt's VIR_MIGRATE_PARAM_*);
 * NULL or 0: not sent. */
typedef struct {
    const char *uri; /* migrate_uri: where QEMU's data goes */
    const char *dname; /* destination_name */
    const char *dxml; /* destination_xml */
    const char *listen_address; /* listen_address */
    unsigned long long bandwidth; /* bandwidth, MiB/s */
    int parallel_connections; /* parallel.connections */
    const char *compression; /* compression: "xbzrle", "zlib", "zstd" */
} vrt_migrate_params;

/* virDomainMigrate3: migrates dom to the daemon of dconn, this process
 * driving both (begin, prepare, perform, finish, confirm); the domain at
 * the destination, or NULL (the source keeps running it). */
vrt_domain *vrt_domain_migrate(vrt_domain *dom, vrt_conn *dconn, const vrt_migrate_params *params, unsigned int flags,
                               vrt_error **err);
/* virDomainMigrateToURI3 with VRT_MIGRATE_PEER2PEER (added): the source's
 * daemon connects to dconnuri itself. 0 or -1. */
int vrt_domain_migrate_to_uri(vrt_domain *dom, const char *dconnuri, const vrt_migrate_params *params,
                              unsigned int flags, vrt_error **err);

/* virDomainJobType and the job statistics flags. */
enum {
    VRT_DOMAIN_JOB_NONE = 0,
    VRT_DOMAIN_JOB_BOUNDED = 1,
    VRT_DOMAIN_JOB_UNBOUNDED = 2,
    VRT_DOMAIN_JOB_COMPLETED = 3,
};
#define VRT_DOMAIN_JOB_STATS_COMPLETED (1u << 0)

/* What virDomainGetJobStats tells of a domain's job (0 where not given). */
typedef struct {
    int type; /* VRT_DOMAIN_JOB_* */
    unsigned long long time_elapsed; /* ms */
    unsigned long long data_total, data_processed, data_remaining; /* bytes */
    unsigned long long memory_bps; /* bytes per second */
    unsigned long long downtime; /* ms, once known */
} vrt_domain_job_stats;

/* virDomainGetJobStats: 0 (type VRT_DOMAIN_JOB_NONE when no job runs) or -1. */
int vrt_domain_get_job_stats(vrt_domain *dom, unsigned int flags, vrt_domain_job_stats *stats, vrt_error **err);

/* ---- the guest agent ---- */

/* virDomainSetTime's flag: the guest reads its time from its RTC. */
#define VRT_DOMAIN_TIME_SYNC (1u << 0)

/* virDomainFSFreeze (n mountpoints, 0: all) and virDomainFSThaw: the number
 * of filesystems frozen or thawed, or -1. */
int vrt_domain_fsfreeze(vrt_domain *dom, const char **mountpoints, unsigned int n, unsigned int flags, vrt_error **err);
int vrt_domain_fsthaw(vrt_domain *dom, unsigned int flags, vrt_error **err);
/* virDomainGetTime / virDomainSetTime: 0 or -1. */
int vrt_domain_get_time(vrt_domain *dom, long long *seconds, unsigned int *nseconds, vrt_error **err);
int vrt_domain_set_time(vrt_domain *dom, long long seconds, unsigned int nseconds, unsigned int flags, vrt_error **err);

/* ---- streams: a domain's console, channels and screenshots ---- */

/* A stream is data that follows the call that opened it, both ways for a
 * console or channel, from the daemon for a screenshot. One thread may
 * receive while another sends. Data not received holds the connection's
 * reader once about 1 MiB waits: receive it, or finish or abort the
 * stream. Free a stream before its connection. */
enum {
    VRT_DOMAIN_CONSOLE_FORCE = 1 << 0, /* take a console another client holds */
    VRT_DOMAIN_CONSOLE_SAFE = 1 << 1,
    VRT_DOMAIN_CHANNEL_FORCE = 1 << 0,
};
/* A running domain's console or serial port (dev_name: its alias; NULL:
 * the first console, else the first serial port). Fails with libvirt's
 * VRT_ERR_OPERATION_FAILED "Active console session exists for this
 * domain" while another stream holds it, unless FORCE. */
vrt_stream *vrt_domain_open_console(vrt_domain *dom, const char *dev_name, unsigned int flags, vrt_error **err);
/* A channel (name: its alias or target name; NULL: the first one). */
vrt_stream *vrt_domain_open_channel(vrt_domain *dom, const char *name, unsigned int flags, vrt_error **err);
/* A screenshot of screen 0 of a running domain: the image's bytes follow
 * on the stream; *mime (the caller's) is their type, e.g.
 * "image/x-portable-pixmap". */
vrt_stream *vrt_domain_screenshot(vrt_domain *dom, unsigned int screen, unsigned int flags, char **mime,
                                  vrt_error **err);
/* Receives up to len bytes: their number, 0 at the stream's end (the
 * domain stopped, the image is complete), -1 on an error (the daemon's,
 * e.g. a console taken over with FORCE). timeout_ms < 0 waits as long as
 * it takes; otherwise -2 when nothing came in time. */
long vrt_stream_recv(vrt_stream *st, char *buf, size_t len, int timeout_ms, vrt_error **err);
/* A sparse stream's receive: as vrt_stream_recv, except that where the
 * daemon sent a hole it returns 0 with *hole its length in bytes (*hole is
 * 0 otherwise, and 0 is then the end). Data never runs across a hole. */
long vrt_stream_recv_sparse(vrt_stream *st, char *buf, size_t len, long long *hole, vrt_error **err);
/* Sends a hole of length bytes (a sparse upload's run of zeros). */
int vrt_stream_send_hole(vrt_stream *st, long long length, vrt_error **err);
/* Sends len bytes (to a console: what the guest reads). */
int vrt_stream_send(vrt_stream *st, const char *data, size_t len, vrt_error **err);
/* Ends the stream, waiting for the daemon to confirm (data still coming is dropped). */
int vrt_stream_finish(vrt_stream *st, vrt_error **err);
/* Ends the stream early; the daemon drops what it did not write yet. */
int vrt_stream_abort(vrt_stream *st, vrt_error **err);
void vrt_stream_free(vrt_stream *st);

/* ---- domain events ---- */

/* virDomainEventID values libvrt delivers. */
enum {
    VRT_DOMAIN_EVENT_ID_LIFECYCLE = 0,
    VRT_DOMAIN_EVENT_ID_REBOOT = 1,
    VRT_DOMAIN_EVENT_ID_RTC_CHANGE = 2,
    VRT_DOMAIN_EVENT_ID_WATCHDOG = 3,
    VRT_DOMAIN_EVENT_ID_IO_ERROR = 4,
    VRT_DOMAIN_EVENT_ID_GRAPHICS = 5,
    VRT_DOMAIN_EVENT_ID_IO_ERROR_REASON = 6,
    VRT_DOMAIN_EVENT_ID_BLOCK_JOB = 8,
    VRT_DOMAIN_EVENT_ID_TRAY_CHANGE = 10,
    VRT_DOMAIN_EVENT_ID_PMWAKEUP = 11,
    VRT_DOMAIN_EVENT_ID_PMSUSPEND = 12,
    VRT_DOMAIN_EVENT_ID_BALLOON_CHANGE = 13,
    VRT_DOMAIN_EVENT_ID_PMSUSPEND_DISK = 14,
    VRT_DOMAIN_EVENT_ID_DEVICE_REMOVED = 15,
    VRT_DOMAIN_EVENT_ID_BLOCK_JOB_2 = 16,
    VRT_DOMAIN_EVENT_ID_AGENT_LIFECYCLE = 18,
    VRT_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED = 22,
    VRT_DOMAIN_EVENT_ID_MEMORY_FAILURE = 25,
};

/* virDomainEventType (lifecycle event) */
enum {
    VRT_DOMAIN_EVENT_DEFINED = 0,
    VRT_DOMAIN_EVENT_UNDEFINED = 1,
    VRT_DOMAIN_EVENT_STARTED = 2,
    VRT_DOMAIN_EVENT_SUSPENDED = 3,
    VRT_DOMAIN_EVENT_RESUMED = 4,
    VRT_DOMAIN_EVENT_STOPPED = 5,
    VRT_DOMAIN_EVENT_SHUTDOWN = 6,
    VRT_DOMAIN_EVENT_PMSUSPENDED = 7,
    VRT_DOMAIN_EVENT_CRASHED = 8,
};

typedef struct {
    int event_id; /* VRT_DOMAIN_EVENT_ID_* */
    int callback_id; /* what the registration returned */
    const char *name; /* the domain's name */
    unsigned char uuid[VRT_UUID_BUFLEN];
    int id; /* -1 when inactive */
    int event; /* lifecycle: VRT_DOMAIN_EVENT_* */
    int detail; /* lifecycle: libvirt's detail number */
    const char *alias; /* device removed, removal failed, I/O error, tray change: the device's alias;
                        * block job 2: the disk's target */
    /* The other kinds (libvirt's callback arguments of each): */
    long long offset; /* rtc-change, seconds */
    int action; /* watchdog, io-error(-reason), memory-failure */
    const char *src_path; /* io-error(-reason); block-job: the disk's path */
    const char *reason_text; /* io-error-reason */
    int reason; /* tray-change, agent-lifecycle */
    int state; /* agent-lifecycle */
    int phase; /* graphics: connect 0, initialize 1, disconnect 2 */
    int local_family, remote_family; /* graphics: IPv4 0, IPv6 1, unix 2 */
    const char *local_node, *local_service, *remote_node, *remote_service, *auth_scheme; /* graphics */
    unsigned long long actual; /* balloon-change, KiB */
    int type; /* block-job(-2): the job's type; memory-failure: the recipient */
    int status; /* block-job(-2) */
    unsigned int flags; /* memory-failure */
} vrt_domain_event;

/* ev and its strings are valid only during the call; runs on the reader thread. */
typedef void (*vrt_domain_event_cb)(vrt_conn *conn, const vrt_domain_event *ev, void *opaque);

/* Registers cb for event_id, for one domain (dom) or all (dom NULL).
 * Returns the callback id (>= 0) or -1. */
int vrt_conn_domain_event_register(vrt_conn *conn, vrt_domain *dom, int event_id, vrt_domain_event_cb cb, void *opaque,
                                   vrt_error **err);
int vrt_conn_domain_event_deregister(vrt_conn *conn, int callback_id, vrt_error **err);
/* virsh's words for a lifecycle event and detail ("Started", "Booted"); static. */
const char *vrt_domain_event_to_string(int event);
const char *vrt_domain_event_detail_to_string(int event, int detail);
/* virsh event's name of an event ID ("lifecycle", "rtc-change"), NULL for
 * one libvrt does not deliver; and the ID of a name, -1 if none. Static. */
const char *vrt_domain_event_id_to_string(int event_id);
int vrt_domain_event_id_from_string(const char *name);

/* ---- networks ---- */

/* virConnectListAllNetworksFlags; 0 lists all. */
enum {
    VRT_CONNECT_LIST_NETWORKS_INACTIVE = 1 << 0,
    VRT_CONNECT_LIST_NETWORKS_ACTIVE = 1 << 1,
    VRT_CONNECT_LIST_NETWORKS_PERSISTENT = 1 << 2,
    VRT_CONNECT_LIST_NETWORKS_TRANSIENT = 1 << 3,
    VRT_CONNECT_LIST_NETWORKS_AUTOSTART = 1 << 4,
    VRT_CONNECT_LIST_NETWORKS_NO_AUTOSTART = 1 << 5,
};
enum {
    VRT_NETWORK_XML_INACTIVE = 1 << 0
};

int vrt_conn_list_all_networks(vrt_conn *conn, vrt_network ***nets, unsigned int flags, vrt_error **err);
void vrt_network_list_free(vrt_network **nets);
vrt_network *vrt_network_lookup_by_name(vrt_conn *conn, const char *name, vrt_error **err);
vrt_network *vrt_network_lookup_by_uuid(vrt_conn *conn, const unsigned char uuid[VRT_UUID_BUFLEN], vrt_error **err);
vrt_network *vrt_network_define_xml(vrt_conn *conn, const char *xml, vrt_error **err);
void vrt_network_free(vrt_network *net);
const char *vrt_network_get_name(vrt_network *net); /* borrowed */
void vrt_network_get_uuid_string(vrt_network *net, char buf[VRT_UUID_STRING_BUFLEN]);
int vrt_network_undefine(vrt_network *net, vrt_error **err);
int vrt_network_create(vrt_network *net, vrt_error **err);
int vrt_network_destroy(vrt_network *net, vrt_error **err);
char *vrt_network_get_xml_desc(vrt_network *net, unsigned int flags, vrt_error **err);
int vrt_network_get_autostart(vrt_network *net, int *autostart, vrt_error **err);
int vrt_network_set_autostart(vrt_network *net, int autostart, vrt_error **err);
int vrt_network_is_active(vrt_network *net, vrt_error **err);
int vrt_network_is_persistent(vrt_network *net, vrt_error **err);

int vrt_network_list_all_ports(vrt_network *net, vrt_network_port ***ports, unsigned int flags, vrt_error **err);
void vrt_network_port_list_free(vrt_network_port **ports);
vrt_network_port *vrt_network_port_create_xml(vrt_network *net, const char *xml, unsigned int flags, vrt_error **err);
/* uuid in its 36-character text form. */
vrt_network_port *vrt_network_port_lookup_by_uuid_string(vrt_network *net, const char *uuid, vrt_error **err);
void vrt_network_port_free(vrt_network_port *port);
void vrt_network_port_get_uuid_string(vrt_network_port *port, char buf[VRT_UUID_STRING_BUFLEN]);
char *vrt_network_port_get_xml_desc(vrt_network_port *port, unsigned int flags, vrt_error **err);
int vrt_network_port_delete(vrt_network_port *port, unsigned int flags, vrt_error **err);

/* ---- node devices ---- */

/* virConnectListAllNodeDeviceFlags (capability filters); 0 lists all. */
enum {
    VRT_CONNECT_LIST_NODE_DEVICES_CAP_SYSTEM = 1 << 0,
    VRT_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV = 1 << 1,
    VRT_CONNECT_LIST_NODE_DEVICES_CAP_USB_DEV = 1 << 2,
    VRT_CONNECT_LIST_NODE_DEVICES_CAP_USB_INTERFACE = 1 << 3,
    VRT_CONNECT_LIST_NODE_DEVICES_CAP_NET = 1 << 4,
    VRT_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_HOST = 1 << 5,
    VRT_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_TARGET = 1 << 6,
    VRT_CONNECT_LIST_NODE_DEVICES_CAP_SCSI = 1 << 7,
    VRT_CONNECT_LIST_NODE_DEVICES_CAP_STORAGE = 1 << 8,
};

/* The flag of a capability name as virsh's --cap takes it ("pci", "net",
 * "usb_device", ...); 0 when unknown. */
unsigned int vrt_nodedev_cap_flag(const char *cap);

int vrt_conn_list_all_nodedevs(vrt_conn *conn, vrt_nodedev ***devs, unsigned int flags, vrt_error **err);
void vrt_nodedev_list_free(vrt_nodedev **devs);
vrt_nodedev *vrt_nodedev_lookup_by_name(vrt_conn *conn, const char *name, vrt_error **err);
void vrt_nodedev_free(vrt_nodedev *dev);
const char *vrt_nodedev_get_name(vrt_nodedev *dev); /* borrowed */
char *vrt_nodedev_get_xml_desc(vrt_nodedev *dev, unsigned int flags, vrt_error **err);
/* The parent's name, or NULL without error (*err untouched) when there is none. */
char *vrt_nodedev_get_parent(vrt_nodedev *dev, vrt_error **err);
/* NULL-terminated capability names; free with vrt_string_list_free(). */
char **vrt_nodedev_list_caps(vrt_nodedev *dev, vrt_error **err);
/* driver: NULL for the default (vfio-pci) or e.g. "vfio". */
int vrt_nodedev_detach(vrt_nodedev *dev, const char *driver, unsigned int flags, vrt_error **err);
int vrt_nodedev_reattach(vrt_nodedev *dev, vrt_error **err);
int vrt_nodedev_reset(vrt_nodedev *dev, vrt_error **err);

/* ---- storage pools and volumes ---- */

/* virConnectListAllStoragePoolsFlags (the type filters as libvirt's); 0 lists all. */
enum {
    VRT_CONNECT_LIST_STORAGE_POOLS_INACTIVE = 1 << 0,
    VRT_CONNECT_LIST_STORAGE_POOLS_ACTIVE = 1 << 1,
    VRT_CONNECT_LIST_STORAGE_POOLS_PERSISTENT = 1 << 2,
    VRT_CONNECT_LIST_STORAGE_POOLS_TRANSIENT = 1 << 3,
    VRT_CONNECT_LIST_STORAGE_POOLS_AUTOSTART = 1 << 4,
    VRT_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART = 1 << 5,
    VRT_CONNECT_LIST_STORAGE_POOLS_DIR = 1 << 6,
};
enum {
    VRT_STORAGE_XML_INACTIVE = 1 << 0
};
/* virStoragePoolCreateFlags (build before starting) and virStorageVolResizeFlags */
enum {
    VRT_STORAGE_POOL_CREATE_WITH_BUILD = 1 << 0
};
enum {
    VRT_STORAGE_VOL_RESIZE_ALLOCATE = 1 << 0,
    VRT_STORAGE_VOL_RESIZE_DELTA = 1 << 1,
    VRT_STORAGE_VOL_RESIZE_SHRINK = 1 << 2,
};

typedef struct {
    int state; /* libvirt's virStoragePoolState: 0 inactive, 2 running */
    unsigned long long capacity; /* bytes */
    unsigned long long allocation;
    unsigned long long available;
} vrt_storage_pool_info;

typedef struct {
    int type; /* libvirt's virStorageVolType: 0 file */
    unsigned long long capacity; /* bytes */
    unsigned long long allocation;
} vrt_storage_vol_info;

int vrt_conn_list_all_storage_pools(vrt_conn *conn, vrt_storage_pool ***pools, unsigned int flags, vrt_error **err);
void vrt_storage_pool_list_free(vrt_storage_pool **pools);
vrt_storage_pool *vrt_storage_pool_lookup_by_name(vrt_conn *conn, const char *name, vrt_error **err);
vrt_storage_pool *vrt_storage_pool_define_xml(vrt_conn *conn, const char *xml, unsigned int flags, vrt_error **err);
void vrt_storage_pool_free(vrt_storage_pool *pool);
const char *vrt_storage_pool_get_name(vrt_storage_pool *pool); /* borrowed */
void vrt_storage_pool_get_uuid_string(vrt_storage_pool *pool, char buf[VRT_UUID_STRING_BUFLEN]);
int vrt_storage_pool_build(vrt_storage_pool *pool, unsigned int flags, vrt_error **err);
int vrt_storage_pool_create(vrt_storage_pool *pool, unsigned int flags, vrt_error **err);
int vrt_storage_pool_destroy(vrt_storage_pool *pool, vrt_error **err);
int vrt_storage_pool_delete(vrt_storage_pool *pool, unsigned int flags, vrt_error **err);
int vrt_storage_pool_undefine(vrt_storage_pool *pool, vrt_error **err);
int vrt_storage_pool_refresh(vrt_storage_pool *pool, unsigned int flags, vrt_error **err);
char *vrt_storage_pool_get_xml_desc(vrt_storage_pool *pool, unsigned int flags, vrt_error **err);
int vrt_storage_pool_get_info(vrt_storage_pool *pool, vrt_storage_pool_info *info, vrt_error **err);
int vrt_storage_pool_get_autostart(vrt_storage_pool *pool, int *autostart, vrt_error **err);
int vrt_storage_pool_set_autostart(vrt_storage_pool *pool, int autostart, vrt_error **err);
int vrt_storage_pool_is_active(vrt_storage_pool *pool, vrt_error **err);
int vrt_storage_pool_is_persistent(vrt_storage_pool *pool, vrt_error **err);

int vrt_storage_pool_list_all_volumes(vrt_storage_pool *pool, vrt_storage_vol ***vols, unsigned int flags,
                                      vrt_error **err);
void vrt_storage_vol_list_free(vrt_storage_vol **vols);
vrt_storage_vol *vrt_storage_vol_lookup_by_name(vrt_storage_pool *pool, const char *name, vrt_error **err);
vrt_storage_vol *vrt_storage_vol_create_xml(vrt_storage_pool *pool, const char *xml, unsigned int flags,
                                            vrt_error **err);
void vrt_storage_vol_free(vrt_storage_vol *vol);
const char *vrt_storage_vol_get_name(vrt_storage_vol *vol); /* borrowed */
const char *vrt_storage_vol_get_key(vrt_storage_vol *vol); /* borrowed; a file volume's path */
char *vrt_storage_vol_get_path(vrt_storage_vol *vol, vrt_error **err);
int vrt_storage_vol_get_info(vrt_storage_vol *vol, vrt_storage_vol_info *info, vrt_error **err);
char *vrt_storage_vol_get_xml_desc(vrt_storage_vol *vol, unsigned int flags, vrt_error **err);
int vrt_storage_vol_delete(vrt_storage_vol *vol, unsigned int flags, vrt_error **err);
int vrt_storage_vol_wipe(vrt_storage_vol *vol, unsigned int flags, vrt_error **err);
int vrt_storage_vol_resize(vrt_storage_vol *vol, unsigned long long capacity, unsigned int flags, vrt_error **err);

/* ---- secrets (by UUID string) ---- */
/* Returns the secret's UUID string (free with free()). */
char *vrt_secret_define_xml(vrt_conn *conn, const char *xml, unsigned int flags, vrt_error **err);
int vrt_secret_undefine(vrt_conn *conn, const char *uuid, vrt_error **err);
char *vrt_secret_get_xml_desc(vrt_conn *conn, const char *uuid, unsigned int flags, vrt_error **err);
int vrt_secret_set_value(vrt_conn *conn, const char *uuid, const unsigned char *value, size_t len, unsigned int flags,
                         vrt_error **err);
/* The value (*len bytes; free with free()); a private secret's is refused. */
unsigned char *vrt_secret_get_value(vrt_conn *conn, const char *uuid, size_t *len, unsigned int flags, vrt_error **err);
/* UUID strings, NULL-terminated (vrt_string_list_free); flags: libvirt's
 * VIR_CONNECT_LIST_SECRETS_*. */
char **vrt_conn_list_secrets(vrt_conn *conn, unsigned int flags, vrt_error **err);

/* ---- save, restore, managed save (flags: libvirt's VIR_DOMAIN_SAVE_*) ---- */
int vrt_domain_save(vrt_domain *dom, const char *path, const char *dxml, unsigned int flags, vrt_error **err);
int vrt_conn_restore(vrt_conn *conn, const char *path, const char *dxml, unsigned int flags, vrt_error **err);
int vrt_domain_managed_save(vrt_domain *dom, unsigned int flags, vrt_error **err);
int vrt_domain_managed_save_remove(vrt_domain *dom, vrt_error **err);
/* 1 when the domain has a managed save image, 0 when not, -1 on error. */
int vrt_domain_has_managed_save(vrt_domain *dom, vrt_error **err);

/* ---- snapshots (by name on a domain) ---- */
/* Returns the new snapshot's name (free with free()). */
char *vrt_domain_snapshot_create_xml(vrt_domain *dom, const char *xml, unsigned int flags, vrt_error **err);
/* Names, parents first, NULL-terminated (vrt_string_list_free); flags:
 * libvirt's VIR_DOMAIN_SNAPSHOT_LIST_*. */
char **vrt_domain_snapshot_list(vrt_domain *dom, unsigned int flags, vrt_error **err);
char *vrt_domain_snapshot_get_xml_desc(vrt_domain *dom, const char *name, unsigned int flags, vrt_error **err);
char *vrt_domain_snapshot_current(vrt_domain *dom, vrt_error **err);
int vrt_domain_snapshot_revert(vrt_domain *dom, const char *name, unsigned int flags, vrt_error **err);
int vrt_domain_snapshot_delete(vrt_domain *dom, const char *name, unsigned int flags, vrt_error **err);
/* ---- the admin interface (vrtd's admin socket; libvirt's admin program) ---- */

typedef struct vrt_admin vrt_admin;

/* The admin socket of vrtd at path (NULL: /run/vrt/vrtd-admin-sock); root only. */
vrt_admin *vrt_admin_open(const char *path, vrt_error **err);
void vrt_admin_close(vrt_admin *adm);
/* The servers' names, NULL-terminated, freed with vrt_strv_free ("vrtd", "admin"). */
char **vrt_admin_list_servers(vrt_admin *adm, vrt_error **err);
void vrt_strv_free(char **strv);

typedef struct {
    unsigned int min_workers, max_workers, n_workers, free_workers, prio_workers, job_queue_depth;
} vrt_admin_threadpool;
int vrt_admin_server_get_threadpool(vrt_admin *adm, const char *server, vrt_admin_threadpool *tp, vrt_error **err);
int vrt_admin_server_set_max_workers(vrt_admin *adm, const char *server, unsigned int max_workers, vrt_error **err);

typedef struct {
    unsigned int nclients_max, nclients, nclients_unauth_max, nclients_unauth;
} vrt_admin_client_limits;
int vrt_admin_server_get_client_limits(vrt_admin *adm, const char *server, vrt_admin_client_limits *lim,
                                       vrt_error **err);
/* A negative value leaves that limit as it is. */
int vrt_admin_server_set_client_limits(vrt_admin *adm, const char *server, long long nclients_max,
                                       long long nclients_unauth_max, vrt_error **err);

/* virClientTransport */
enum {
    VRT_ADMIN_TRANSPORT_UNIX = 0,
    VRT_ADMIN_TRANSPORT_TCP = 1,
    VRT_ADMIN_TRANSPORT_TLS = 2
};
typedef struct {
    unsigned long long id;
    long long timestamp; /* when it connected, seconds since the epoch */
    int transport; /* VRT_ADMIN_TRANSPORT_* */
} vrt_admin_client;
/* The server's clients in *clients (freed with vrt_free), their number or -1. */
int vrt_admin_server_list_clients(vrt_admin *adm, const char *server, vrt_admin_client **clients, vrt_error **err);
/* The client's identity as "name=value" strings (libvirt's typed parameter
 * names: readonly, sock_addr, unix_user_id, ...), NULL-terminated, freed
 * with vrt_strv_free. */
char **vrt_admin_client_get_info(vrt_admin *adm, const char *server, unsigned long long id, vrt_error **err);
/* Drops the client's connection (it reads EOF). */
int vrt_admin_client_close(vrt_admin *adm, const char *server, unsigned long long id, vrt_error **err);

/* The daemon's log outputs and filters (libvirt's syntax), read and set. */
char *vrt_admin_get_log_outputs(vrt_admin *adm, vrt_error **err);
char *vrt_admin_get_log_filters(vrt_admin *adm, vrt_error **err);
int vrt_admin_set_log_outputs(vrt_admin *adm, const char *outputs, vrt_error **err);
int vrt_admin_set_log_filters(vrt_admin *adm, const char *filters, vrt_error **err);

/* libvirt's virStorageVolUploadFlags and virStorageVolDownloadFlags */
enum {
    VRT_STORAGE_VOL_UPLOAD_SPARSE_STREAM = 1 << 0,
    VRT_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM = 1 << 0,
};
/* A stream into (upload) or out of (download) the volume's file from
 * offset, length bytes (0: to its end), the volume in use meanwhile. An
 * upload's bytes go into the file as they are, whatever its format; end it
 * with vrt_stream_finish. With the SPARSE_STREAM flag a download gives the
 * file's holes as holes (vrt_stream_recv_sparse) and an upload may send
 * holes (vrt_stream_send_hole). */
vrt_stream *vrt_storage_vol_upload(vrt_storage_vol *vol, unsigned long long offset, unsigned long long length,
                                   unsigned int flags, vrt_error **err);
vrt_stream *vrt_storage_vol_download(vrt_storage_vol *vol, unsigned long long offset, unsigned long long length,
                                     unsigned int flags, vrt_error **err);

#ifdef __cplusplus
}
#endif
