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

/* ---- domain events ---- */

/* virDomainEventID values libvrt delivers. */
enum {
    VRT_DOMAIN_EVENT_ID_LIFECYCLE = 0,
    VRT_DOMAIN_EVENT_ID_DEVICE_REMOVED = 15,
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
    const char *alias; /* device removed: the device's alias */
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

#ifdef __cplusplus
}
#endif
