/*
 * The objects access control asks polkitd about, beyond domains and the
 * connection (access_drivers = [ "polkit" ]): which network, network port,
 * storage pool or volume, node device, secret, network filter or host
 * interface a call names, and its attributes as libvirt 9.0's polkit access
 * driver sends them (network_name, network_uuid, port_uuid, pool_name,
 * pool_uuid, vol_name, vol_key, node_device_name, secret_uuid and
 * secret_usage_*, nwfilter_name, nwfilter_uuid, interface_name,
 * interface_macaddr, each after connect_driver). The object is the one the
 * daemon holds under the identity the call names (a network's uuid, a
 * volume's pool and name), never a name written beside it; an object that
 * does not exist gets the driver's "not found" before any question, as in
 * libvirt. Also here: the filter of every list call's reply (libvirt's
 * @aclfilter, getattr of each listed object; counts are the length of the
 * filtered list) and the per-connection check of every event before it is
 * sent (libvirt's event callbacks check the object's getattr too).
 */
#include "daemon/acl.h"
#include "daemon/polkit.h"
#include "drivers/interface/interface.h"
#include "drivers/network/network_driver.h"
#include "drivers/nodedev/nodedev.h"
#include "drivers/nwfilter/nwfilter.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/secret/secret_driver.h"
#include "drivers/storage/storage_driver.h"
#include "conf/secret/secret_conf.h"
#include "util/error.h"
#include "util/uuid.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stddef.h>
#include <string.h>

#define ACL_DRIVER "QEMU"
#define ATTRS_MAX 10 /* (key, value) pairs, connect_driver included */

struct _VrtAclAttrs {
    const char *kv[2 * ATTRS_MAX + 1];
    guint n;
    GPtrArray *own; /* the values' copies */
};

static void
attrs_init(VrtAclAttrs *a)
{
    memset(a, 0, sizeof(*a));
    a->own = g_ptr_array_new_with_free_func(g_free);
    a->kv[0] = "connect_driver";
    a->kv[1] = ACL_DRIVER;
    a->n = 1;
}

static void
attrs_clear(VrtAclAttrs *a)
{
    g_clear_pointer(&a->own, g_ptr_array_unref);
}

/* A pair; value NULL leaves the key out (libvirt has no value to send). */
static void
attrs_add(VrtAclAttrs *a, const char *key, const char *value)
{
    if (!value || a->n >= ATTRS_MAX)
        return;
    char *v = g_strdup(value);
    g_ptr_array_add(a->own, v);
    a->kv[2 * a->n] = key;
    a->kv[2 * a->n + 1] = v;
    a->n++;
    a->kv[2 * a->n] = NULL;
}

static void
attrs_add_uuid(VrtAclAttrs *a, const char *key, const guchar uuid[16])
{
    char s[VRT_UUID_STRING_LEN];
    vrt_uuid_format(uuid, s);
    attrs_add(a, key, s);
}

const char *const *
vrt_acl_attrs_kv(VrtAclAttrs *a)
{
    return a->kv;
}

/* ---- each kind's attributes, from what the daemon holds ---- */

static void
attrs_network(VrtAclAttrs *a, const char *name, const guchar uuid[16])
{
    attrs_add(a, "network_name", name);
    attrs_add_uuid(a, "network_uuid", uuid);
}

static void
attrs_pool(VrtAclAttrs *a, const char *name, const guchar uuid[16])
{
    attrs_add(a, "pool_name", name);
    attrs_add_uuid(a, "pool_uuid", uuid);
}

static void
attrs_secret(VrtAclAttrs *a, const guchar uuid[16], int usage, const char *usage_id)
{
    attrs_add_uuid(a, "secret_uuid", uuid);
    /* libvirt names the usage of these four; a vTPM or no usage has only the uuid. */
    switch (usage) {
    case VRT_SECRET_USAGE_VOLUME: attrs_add(a, "secret_usage_volume", usage_id); break;
    case VRT_SECRET_USAGE_CEPH: attrs_add(a, "secret_usage_ceph", usage_id); break;
    case VRT_SECRET_USAGE_ISCSI: attrs_add(a, "secret_usage_target", usage_id); break;
    case VRT_SECRET_USAGE_TLS: attrs_add(a, "secret_usage_name", usage_id); break;
    default: break;
    }
}

static void
attrs_nwfilter(VrtAclAttrs *a, const char *name, const guchar uuid[16])
{
    attrs_add(a, "nwfilter_name", name);
    attrs_add_uuid(a, "nwfilter_uuid", uuid);
}

static void
attrs_iface(VrtAclAttrs *a, const char *name, const char *mac)
{
    attrs_add(a, "interface_name", name);
    attrs_add(a, "interface_macaddr", mac);
}

/* ---- lookups, with the drivers' own "not found" errors ---- */

#define DAEMON_DRV(call, field) ((vrt_call_daemon(call))->field)

static bool
add_network_by_uuid(VrtCall *call, VrtAclAttrs *a, const guchar uuid[16], GError **error)
{
    VrtNetworkDriver *drv = DAEMON_DRV(call, network);
    g_autoptr(VrtNetworkRef) ref = drv ? vrt_netdrv_lookup_by_uuid(drv, uuid, error) : NULL;
    if (!ref)
        return !drv;
    attrs_network(a, ref->name, ref->uuid);
    return true;
}

static bool
add_pool_by_uuid(VrtCall *call, VrtAclAttrs *a, const guchar uuid[16], GError **error)
{
    VrtStorageDriver *drv = DAEMON_DRV(call, storage);
    g_autoptr(VrtStoragePoolRef) ref = drv ? vrt_stordrv_pool_lookup_by_uuid(drv, uuid, error) : NULL;
    if (!ref)
        return !drv;
    attrs_pool(a, ref->name, ref->uuid);
    return true;
}

/* A volume's attributes: its pool's, its name and key. */
static bool
add_vol(VrtCall *call, VrtAclAttrs *a, const VrtStorageVolRef *vol, GError **error)
{
    VrtStorageDriver *drv = DAEMON_DRV(call, storage);
    g_autoptr(VrtStoragePoolRef) pool = vrt_stordrv_pool_lookup_by_name(drv, vol->pool, error);
    if (!pool)
        return false;
    attrs_pool(a, pool->name, pool->uuid);
    attrs_add(a, "vol_name", vol->name);
    attrs_add(a, "vol_key", vol->key);
    return true;
}

static bool
add_vol_by_name(VrtCall *call, VrtAclAttrs *a, const char *pool, const char *name, GError **error)
{
    VrtStorageDriver *drv = DAEMON_DRV(call, storage);
    g_autoptr(VrtStorageVolRef) vol = drv ? vrt_stordrv_vol_lookup_by_name(drv, pool, name, error) : NULL;
    if (!vol)
        return !drv;
    return add_vol(call, a, vol, error);
}

static bool
add_secret_by_uuid(VrtCall *call, VrtAclAttrs *a, const guchar uuid[16], GError **error)
{
    VrtSecretDriver *drv = DAEMON_DRV(call, secret);
    g_autoptr(VrtSecretRef) ref = drv ? vrt_secret_drv_lookup_by_uuid(drv, uuid, error) : NULL;
    if (!ref)
        return !drv;
    attrs_secret(a, ref->uuid, ref->usage_type, ref->usage_id);
    return true;
}

static bool
add_nwfilter_by_uuid(VrtCall *call, VrtAclAttrs *a, const guchar uuid[16], GError **error)
{
    VrtNwfilterDriver *drv = DAEMON_DRV(call, nwfilter);
    g_autoptr(VrtNwfilterRef) ref = drv ? vrt_nwfilter_lookup_by_uuid(drv, uuid, error) : NULL;
    if (!ref)
        return !drv;
    attrs_nwfilter(a, ref->name, ref->uuid);
    return true;
}

static bool
add_iface_by_name(VrtCall *call, VrtAclAttrs *a, const char *name, GError **error)
{
    g_autoptr(VrtIface) iface = vrt_iface_lookup_by_name(DAEMON_DRV(call, host), name, error);
    if (!iface)
        return false;
    attrs_iface(a, iface->name, iface->mac);
    return true;
}

static bool
add_nodedev(VrtCall *call, VrtAclAttrs *a, const char *name, GError **error)
{
    VrtNodedevDriver *drv = DAEMON_DRV(call, nodedev);
    if (drv && !vrt_nodedev_drv_exists(drv, name, error))
        return false;
    attrs_add(a, "node_device_name", name);
    return true;
}

/* The text of child `child` of the root of a definition (NULL when there
 * is none, or the XML does not parse: the driver then says why). */
static char *
xml_child(const char *xml, const char *child)
{
    xmlDocPtr doc =
        xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    char *out = NULL;

    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr n = root ? root->children : NULL; n && !out; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, child) == 0) {
            xmlChar *t = xmlNodeGetContent(n);
            out = g_strstrip(g_strdup((const char *)t));
            xmlFree(t);
        }
    }
    xmlFreeDoc(doc);
    return out;
}

/* A definition's name and uuid: its <uuid>, else the uuid of the object of
 * that name the driver holds (find), else a new one as libvirt's parser makes. */
static void
add_defined(VrtAclAttrs *a, const char *xml, const char *name_key, const char *uuid_key,
            bool (*find)(VrtCall *, const char *, guchar *), VrtCall *call)
{
    g_autofree char *name = xml_child(xml, "name");
    g_autofree char *uuidstr = xml_child(xml, "uuid");
    guchar uuid[16];

    attrs_add(a, name_key, name);
    if (!(uuidstr && vrt_uuid_parse(uuidstr, uuid)) && !(name && find && find(call, name, uuid)))
        vrt_uuid_generate(uuid);
    attrs_add_uuid(a, uuid_key, uuid);
}

static bool
find_network(VrtCall *call, const char *name, guchar *uuid)
{
    VrtNetworkDriver *drv = DAEMON_DRV(call, network);
    g_autoptr(VrtNetworkRef) ref = drv ? vrt_netdrv_lookup_by_name(drv, name, NULL) : NULL;
    if (ref)
        memcpy(uuid, ref->uuid, 16);
    return ref != NULL;
}

static bool
find_pool(VrtCall *call, const char *name, guchar *uuid)
{
    VrtStorageDriver *drv = DAEMON_DRV(call, storage);
    g_autoptr(VrtStoragePoolRef) ref = drv ? vrt_stordrv_pool_lookup_by_name(drv, name, NULL) : NULL;
    if (ref)
        memcpy(uuid, ref->uuid, 16);
    return ref != NULL;
}

static bool
find_nwfilter(VrtCall *call, const char *name, guchar *uuid)
{
    VrtNwfilterDriver *drv = DAEMON_DRV(call, nwfilter);
    g_autoptr(VrtNwfilterRef) ref = drv ? vrt_nwfilter_lookup_by_name(drv, name, NULL) : NULL;
    if (ref)
        memcpy(uuid, ref->uuid, 16);
    return ref != NULL;
}

static bool
find_domain(VrtCall *call, const char *name, guchar *uuid)
{
    VrtQemuDriver *drv = DAEMON_DRV(call, qemu);
    g_autoptr(VrtDomainRef) ref = drv ? vrt_qemu_domain_lookup(drv, name, NULL, 0, NULL) : NULL;
    if (ref)
        memcpy(uuid, ref->uuid, 16);
    return ref != NULL;
}

/* Every args type of these kinds' procedures starts with the object (or
 * its parent, or the name, uuid, key, path or XML the call names). */
#define FIRST(args, type) ((const type *)(args))
#define STR0(args) (*(char *const *)(args))

static bool
network_of(VrtCall *call, int proc, const void *args, VrtAclAttrs *a, GError **error)
{
    switch (proc) {
    case VRT_PROC_NETWORK_LOOKUP_BY_NAME: {
        VrtNetworkDriver *drv = DAEMON_DRV(call, network);
        g_autoptr(VrtNetworkRef) ref = drv ? vrt_netdrv_lookup_by_name(drv, STR0(args), error) : NULL;
        if (!ref)
            return !drv;
        attrs_network(a, ref->name, ref->uuid);
        return true;
    }
    case VRT_PROC_NETWORK_LOOKUP_BY_UUID:
        return add_network_by_uuid(call, a, WIRE_UUID(FIRST(args, remote_network_lookup_by_uuid_args)->uuid), error);
    case VRT_PROC_NETWORK_CREATE_XML:
    case VRT_PROC_NETWORK_CREATE_XML_FLAGS:
    case VRT_PROC_NETWORK_DEFINE_XML:
    case VRT_PROC_NETWORK_DEFINE_XML_FLAGS:
        add_defined(a, STR0(args), "network_name", "network_uuid", find_network, call);
        return true;
    default: return add_network_by_uuid(call, a, WIRE_UUID(FIRST(args, remote_nonnull_network)->uuid), error);
    }
}

static bool
port_of(VrtCall *call, int proc, const void *args, VrtAclAttrs *a, GError **error)
{
    VrtNetworkDriver *drv = DAEMON_DRV(call, network);
    const remote_nonnull_network *net = FIRST(args, remote_nonnull_network);
    guchar port[16];

    if (!drv)
        return true;
    if (proc == VRT_PROC_NETWORK_PORT_CREATE_XML) {
        g_autofree char *u = xml_child(FIRST(args, remote_network_port_create_xml_args)->xml, "uuid");
        if (!(u && vrt_uuid_parse(u, port)))
            vrt_uuid_generate(port);
    } else {
        /* remote_network_port_lookup_by_uuid_args and remote_nonnull_network_port
         * both hold the network, then the port's uuid. */
        const guchar *p = proc == VRT_PROC_NETWORK_PORT_LOOKUP_BY_UUID
                              ? WIRE_UUID(FIRST(args, remote_network_port_lookup_by_uuid_args)->uuid)
                              : WIRE_UUID(FIRST(args, remote_nonnull_network_port)->uuid);
        g_autoptr(VrtNetworkPortRef) ref = vrt_netdrv_port_lookup_by_uuid(drv, WIRE_UUID(net->uuid), p, error);
        if (!ref)
            return false;
        memcpy(port, ref->uuid, 16);
    }
    if (!add_network_by_uuid(call, a, WIRE_UUID(net->uuid), error))
        return false;
    attrs_add_uuid(a, "port_uuid", port);
    return true;
}

static bool
pool_of(VrtCall *call, int proc, const void *args, VrtAclAttrs *a, GError **error)
{
    VrtStorageDriver *drv = DAEMON_DRV(call, storage);
    g_autoptr(VrtStoragePoolRef) ref = NULL;

    if (!drv)
        return true;
    switch (proc) {
    case VRT_PROC_STORAGE_POOL_LOOKUP_BY_NAME: ref = vrt_stordrv_pool_lookup_by_name(drv, STR0(args), error); break;
    case VRT_PROC_STORAGE_POOL_LOOKUP_BY_TARGET_PATH:
        ref = vrt_stordrv_pool_lookup_by_target_path(drv, STR0(args), error);
        break;
    case VRT_PROC_STORAGE_POOL_LOOKUP_BY_VOLUME:
        ref = vrt_stordrv_pool_lookup_by_volume(drv, FIRST(args, remote_nonnull_storage_vol)->pool, error);
        break;
    case VRT_PROC_STORAGE_POOL_LOOKUP_BY_UUID:
        return add_pool_by_uuid(call, a, WIRE_UUID(FIRST(args, remote_storage_pool_lookup_by_uuid_args)->uuid), error);
    case VRT_PROC_STORAGE_POOL_CREATE_XML:
    case VRT_PROC_STORAGE_POOL_DEFINE_XML:
        add_defined(a, STR0(args), "pool_name", "pool_uuid", find_pool, call);
        return true;
    default: return add_pool_by_uuid(call, a, WIRE_UUID(FIRST(args, remote_nonnull_storage_pool)->uuid), error);
    }
    if (!ref)
        return false;
    attrs_pool(a, ref->name, ref->uuid);
    return true;
}

static bool
vol_of(VrtCall *call, int proc, const void *args, VrtAclAttrs *a, GError **error)
{
    VrtStorageDriver *drv = DAEMON_DRV(call, storage);
    g_autoptr(VrtStorageVolRef) vol = NULL;

    if (!drv)
        return true;
    switch (proc) {
    case VRT_PROC_STORAGE_VOL_LOOKUP_BY_KEY: vol = vrt_stordrv_vol_lookup_by_key(drv, STR0(args), error); break;
    case VRT_PROC_STORAGE_VOL_LOOKUP_BY_PATH: vol = vrt_stordrv_vol_lookup_by_path(drv, STR0(args), error); break;
    case VRT_PROC_STORAGE_VOL_LOOKUP_BY_NAME: {
        const remote_storage_vol_lookup_by_name_args *l = args;
        g_autoptr(VrtStoragePoolRef) pool = vrt_stordrv_pool_lookup_by_uuid(drv, WIRE_UUID(l->pool.uuid), error);
        return pool && add_vol_by_name(call, a, pool->name, l->name, error);
    }
    case VRT_PROC_STORAGE_VOL_CREATE_XML:
    case VRT_PROC_STORAGE_VOL_CREATE_XML_FROM: {
        /* The new volume: its pool and the name its XML gives (no key yet). */
        const remote_storage_vol_create_xml_args *c = args;
        g_autofree char *name = xml_child(c->xml, "name");
        if (!add_pool_by_uuid(call, a, WIRE_UUID(c->pool.uuid), error))
            return false;
        attrs_add(a, "vol_name", name);
        return true;
    }
    default: {
        const remote_nonnull_storage_vol *v = args;
        return add_vol_by_name(call, a, v->pool, v->name, error);
    }
    }
    return vol && add_vol(call, a, vol, error);
}

static bool
secret_of(VrtCall *call, int proc, const void *args, VrtAclAttrs *a, GError **error)
{
    VrtSecretDriver *drv = DAEMON_DRV(call, secret);

    if (!drv)
        return true;
    switch (proc) {
    case VRT_PROC_SECRET_LOOKUP_BY_UUID:
        return add_secret_by_uuid(call, a, WIRE_UUID(FIRST(args, remote_secret_lookup_by_uuid_args)->uuid), error);
    case VRT_PROC_SECRET_LOOKUP_BY_USAGE: {
        const remote_secret_lookup_by_usage_args *u = args;
        g_autoptr(VrtSecretRef) ref = vrt_secret_drv_lookup_by_usage(drv, u->usageType, u->usageID, error);
        if (!ref)
            return false;
        attrs_secret(a, ref->uuid, ref->usage_type, ref->usage_id);
        return true;
    }
    case VRT_PROC_SECRET_DEFINE_XML: {
        /* libvirt checks the definition it parsed: its error comes first. */
        g_autoptr(VrtSecretDef) def = vrt_secret_def_parse(STR0(args), error);
        if (!def)
            return false;
        attrs_secret(a, def->uuid, def->usage, def->usage_id);
        return true;
    }
    default: return add_secret_by_uuid(call, a, WIRE_UUID(FIRST(args, remote_nonnull_secret)->uuid), error);
    }
}

static bool
nwfilter_of(VrtCall *call, int proc, const void *args, VrtAclAttrs *a, GError **error)
{
    VrtNwfilterDriver *drv = DAEMON_DRV(call, nwfilter);

    if (!drv)
        return true;
    switch (proc) {
    case VRT_PROC_NWFILTER_LOOKUP_BY_NAME: {
        g_autoptr(VrtNwfilterRef) ref = vrt_nwfilter_lookup_by_name(drv, STR0(args), error);
        if (!ref)
            return false;
        attrs_nwfilter(a, ref->name, ref->uuid);
        return true;
    }
    case VRT_PROC_NWFILTER_LOOKUP_BY_UUID:
        return add_nwfilter_by_uuid(call, a, WIRE_UUID(FIRST(args, remote_nwfilter_lookup_by_uuid_args)->uuid), error);
    case VRT_PROC_NWFILTER_DEFINE_XML:
    case VRT_PROC_NWFILTER_DEFINE_XML_FLAGS:
        add_defined(a, STR0(args), "nwfilter_name", "nwfilter_uuid", find_nwfilter, call);
        return true;
    default: return add_nwfilter_by_uuid(call, a, WIRE_UUID(FIRST(args, remote_nonnull_nwfilter)->uuid), error);
    }
}

static bool
iface_of(VrtCall *call, int proc, const void *args, VrtAclAttrs *a, GError **error)
{
    switch (proc) {
    case VRT_PROC_INTERFACE_LOOKUP_BY_NAME: return add_iface_by_name(call, a, STR0(args), error);
    case VRT_PROC_INTERFACE_LOOKUP_BY_MAC_STRING: {
        g_autoptr(VrtIface) iface = vrt_iface_lookup_by_mac(DAEMON_DRV(call, host), STR0(args), error);
        if (!iface)
            return false;
        attrs_iface(a, iface->name, iface->mac);
        return true;
    }
    case VRT_PROC_INTERFACE_GET_XML_DESC:
    case VRT_PROC_INTERFACE_IS_ACTIVE:
        return add_iface_by_name(call, a, FIRST(args, remote_nonnull_interface)->name, error);
    default: return true; /* not served: nothing to look up */
    }
}

bool
vrt_acl_object_attrs(VrtCall *call, const VrtProcInfo *info, const char *object, const void *args, VrtAclAttrs **out,
                     GError **error)
{
    VrtAclAttrs *a = g_new0(VrtAclAttrs, 1);
    bool ok = true;

    attrs_init(a);
    *out = a;
    if (!args || info->prog != VRT_REMOTE_PROGRAM)
        return true;
    if (g_str_equal(object, "domain")) {
        /* A new definition: the domain it names (the others are looked up
         * by daemon/remote_acl.c). */
        if (info->proc == VRT_PROC_DOMAIN_DEFINE_XML || info->proc == VRT_PROC_DOMAIN_DEFINE_XML_FLAGS ||
            info->proc == VRT_PROC_DOMAIN_CREATE_XML)
            add_defined(a, STR0(args), "domain_name", "domain_uuid", find_domain, call);
    } else if (g_str_equal(object, "network"))
        ok = network_of(call, info->proc, args, a, error);
    else if (g_str_equal(object, "network_port"))
        ok = port_of(call, info->proc, args, a, error);
    else if (g_str_equal(object, "storage_pool"))
        ok = pool_of(call, info->proc, args, a, error);
    else if (g_str_equal(object, "storage_vol"))
        ok = vol_of(call, info->proc, args, a, error);
    else if (g_str_equal(object, "node_device"))
        ok = add_nodedev(call, a, STR0(args), error);
    else if (g_str_equal(object, "secret"))
        ok = secret_of(call, info->proc, args, a, error);
    else if (g_str_equal(object, "nwfilter"))
        ok = nwfilter_of(call, info->proc, args, a, error);
    else if (g_str_equal(object, "interface"))
        ok = iface_of(call, info->proc, args, a, error);
    return ok;
}

void
vrt_acl_attrs_free(VrtAclAttrs *a)
{
    if (!a)
        return;
    attrs_clear(a);
    g_free(a);
}

/* ---- list filters (libvirt's @aclfilter) ---- */

/* Keeps of the n objects described by attrs those the caller may see
 * (object.perm, getattr but for the domain statistics' read): keep[i].
 * polkitd unreachable: none is shown. */
static void
ask_many(VrtConn *conn, const char *object, const char *perm, guint n, VrtAclAttrs *attrs, gboolean *keep)
{
    g_autofree char *action = g_strdelimit(g_strdup_printf("org.libvirt.api.%s.%s", object, perm), "_", '-');
    g_autofree const char *const **details = g_new0(const char *const *, MAX(n, 1));
    g_autoptr(GError) why = NULL;
    pid_t pid;
    uid_t uid;
    guint64 start;

    memset(keep, 0, n * sizeof(*keep));
    if (n == 0)
        return;
    if (!vrt_polkit_client_subject(conn->client, &pid, &start, &uid, &why)) {
        g_message("polkit: %s", why->message);
        return;
    }
    for (guint i = 0; i < n; i++)
        details[i] = attrs[i].kv;
    if (!vrt_polkit_check_many(action, pid, start, uid, details, n, keep, &why)) {
        g_message("polkit: %s", why->message);
        memset(keep, 0, n * sizeof(*keep));
    }
}

/* An XDR array as rpcgen lays it out: length, then elements. */
typedef struct {
    u_int len;
    char *val;
} XdrArray;

/* Describes element i of a list (elem) into a; false drops it (an object
 * gone since it was listed). */
typedef bool (*DescribeFunc)(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a);

/* Keeps the elements of arr (each size bytes, freed by elem_free) the
 * caller may see as object; returns how many are left. */
static guint
filter_array(VrtCall *call, const char *object, const char *perm, const void *args, XdrArray *arr, size_t size,
             xdrproc_t elem_free, DescribeFunc describe)
{
    guint n = arr->len, kept = 0;
    g_autofree VrtAclAttrs *attrs = g_new0(VrtAclAttrs, MAX(n, 1));
    g_autofree gboolean *keep = g_new0(gboolean, MAX(n, 1));
    g_autofree gboolean *known = g_new0(gboolean, MAX(n, 1));

    for (guint i = 0; i < n; i++) {
        attrs_init(&attrs[i]);
        known[i] = describe(call, args, arr->val + i * size, &attrs[i]);
    }
    ask_many(vrt_call_conn(call), object, perm, n, attrs, keep);
    for (guint i = 0; i < n; i++) {
        char *e = arr->val + i * size;
        if (keep[i] && known[i]) {
            if (kept != i)
                memcpy(arr->val + kept * size, e, size);
            kept++;
        } else {
            xdr_free(elem_free, e);
        }
        attrs_clear(&attrs[i]);
    }
    arr->len = kept;
    return kept;
}

static bool
describe_network(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)call, (void)args;
    const remote_nonnull_network *n = elem;
    attrs_network(a, n->name, WIRE_UUID(n->uuid));
    return true;
}

static bool
describe_network_name(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)args;
    guchar uuid[16];
    if (!find_network(call, *(char *const *)elem, uuid))
        return false;
    attrs_network(a, *(char *const *)elem, uuid);
    return true;
}

static bool
describe_port(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)call, (void)args;
    const remote_nonnull_network_port *p = elem;
    attrs_network(a, p->net.name, WIRE_UUID(p->net.uuid));
    attrs_add_uuid(a, "port_uuid", WIRE_UUID(p->uuid));
    return true;
}

static bool
describe_pool(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)call, (void)args;
    const remote_nonnull_storage_pool *p = elem;
    attrs_pool(a, p->name, WIRE_UUID(p->uuid));
    return true;
}

static bool
describe_pool_name(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)args;
    guchar uuid[16];
    if (!find_pool(call, *(char *const *)elem, uuid))
        return false;
    attrs_pool(a, *(char *const *)elem, uuid);
    return true;
}

static bool
describe_vol(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    const remote_nonnull_storage_vol *v = elem;
    guchar uuid[16];
    (void)args;
    if (!find_pool(call, v->pool, uuid))
        return false;
    attrs_pool(a, v->pool, uuid);
    attrs_add(a, "vol_name", v->name);
    attrs_add(a, "vol_key", v->key);
    return true;
}

static bool
describe_vol_name(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    const remote_nonnull_storage_pool *pool = args;
    VrtStorageDriver *drv = DAEMON_DRV(call, storage);
    g_autoptr(VrtStoragePoolRef) p = vrt_stordrv_pool_lookup_by_uuid(drv, WIRE_UUID(pool->uuid), NULL);
    g_autoptr(VrtStorageVolRef) v = p ? vrt_stordrv_vol_lookup_by_name(drv, p->name, *(char *const *)elem, NULL) : NULL;
    if (!v)
        return false;
    attrs_pool(a, p->name, p->uuid);
    attrs_add(a, "vol_name", v->name);
    attrs_add(a, "vol_key", v->key);
    return true;
}

static bool
describe_nodedev(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)call, (void)args;
    /* remote_nonnull_node_device is its name alone, as a name list's entry. */
    attrs_add(a, "node_device_name", *(char *const *)elem);
    return true;
}

static bool
describe_secret(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)call, (void)args;
    const remote_nonnull_secret *s = elem;
    attrs_secret(a, WIRE_UUID(s->uuid), s->usageType, s->usageID);
    return true;
}

static bool
describe_secret_uuid(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)args;
    guchar uuid[16];
    VrtSecretDriver *drv = DAEMON_DRV(call, secret);
    if (!vrt_uuid_parse(*(char *const *)elem, uuid))
        return false;
    g_autoptr(VrtSecretRef) ref = drv ? vrt_secret_drv_lookup_by_uuid(drv, uuid, NULL) : NULL;
    if (!ref)
        return false;
    attrs_secret(a, ref->uuid, ref->usage_type, ref->usage_id);
    return true;
}

static bool
describe_nwfilter(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)call, (void)args;
    const remote_nonnull_nwfilter *f = elem;
    attrs_nwfilter(a, f->name, WIRE_UUID(f->uuid));
    return true;
}

static bool
describe_nwfilter_name(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)args;
    guchar uuid[16];
    if (!find_nwfilter(call, *(char *const *)elem, uuid))
        return false;
    attrs_nwfilter(a, *(char *const *)elem, uuid);
    return true;
}

static bool
describe_iface(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)call, (void)args;
    const remote_nonnull_interface *i = elem;
    attrs_iface(a, i->name, i->mac);
    return true;
}

static bool
describe_iface_name(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)args;
    return add_iface_by_name(call, a, *(char *const *)elem, NULL);
}

static bool
describe_domain_name(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)args;
    VrtQemuDriver *drv = DAEMON_DRV(call, qemu);
    g_autoptr(VrtDomainRef) d = drv ? vrt_qemu_domain_lookup(drv, *(char *const *)elem, NULL, 0, NULL) : NULL;
    if (!d)
        return false;
    attrs_add(a, "domain_name", d->name);
    attrs_add_uuid(a, "domain_uuid", d->uuid);
    return true;
}

static bool
describe_domain_id(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    (void)args;
    VrtQemuDriver *drv = DAEMON_DRV(call, qemu);
    g_autoptr(VrtDomainRef) d = drv ? vrt_qemu_domain_lookup(drv, NULL, NULL, *(const int *)elem, NULL) : NULL;
    if (!d)
        return false;
    attrs_add(a, "domain_name", d->name);
    attrs_add_uuid(a, "domain_uuid", d->uuid);
    return true;
}

/* How each list call's reply is filtered. */
typedef struct {
    int proc;
    const char *object;
    size_t array_offset; /* of the XdrArray in the reply */
    size_t elem_size;
    xdrproc_t elem_free;
    DescribeFunc describe;
    bool list_all; /* {array, unsigned int ret}: ret is the count; args have need_results */
    size_t need_results_offset; /* list_all; else the args' int maxnames (maxuuids, maxids) */
} ListKind;

#define LIST_ALL(P, OBJ, RET, MEMBER, ELEM, DESC, ARGS)                                            \
    {                                                                                              \
        VRT_PROC_##P, OBJ, offsetof(RET, MEMBER), sizeof(ELEM), (xdrproc_t)xdr_##ELEM, DESC, true, \
            offsetof(ARGS, need_results)                                                           \
    }
#define NAMES(P, OBJ, RET, MEMBER, DESC, ARGS, MAX)                                                                  \
    {                                                                                                                \
        VRT_PROC_##P, OBJ, offsetof(RET, MEMBER), sizeof(char *), (xdrproc_t)xdr_remote_nonnull_string, DESC, false, \
            offsetof(ARGS, MAX)                                                                                      \
    }

static const ListKind lists[] = {
    LIST_ALL(CONNECT_LIST_ALL_NETWORKS, "network", remote_connect_list_all_networks_ret, nets, remote_nonnull_network,
             describe_network, remote_connect_list_all_networks_args),
    NAMES(CONNECT_LIST_NETWORKS, "network", remote_names_ret, names, describe_network_name, remote_maxnames_args,
          maxnames),
    NAMES(CONNECT_LIST_DEFINED_NETWORKS, "network", remote_names_ret, names, describe_network_name,
          remote_maxnames_args, maxnames),
    LIST_ALL(NETWORK_LIST_ALL_PORTS, "network_port", remote_network_list_all_ports_ret, ports,
             remote_nonnull_network_port, describe_port, remote_network_list_all_ports_args),
    LIST_ALL(CONNECT_LIST_ALL_STORAGE_POOLS, "storage_pool", remote_connect_list_all_storage_pools_ret, pools,
             remote_nonnull_storage_pool, describe_pool, remote_connect_list_all_storage_pools_args),
    NAMES(CONNECT_LIST_STORAGE_POOLS, "storage_pool", remote_names_ret, names, describe_pool_name, remote_maxnames_args,
          maxnames),
    NAMES(CONNECT_LIST_DEFINED_STORAGE_POOLS, "storage_pool", remote_names_ret, names, describe_pool_name,
          remote_maxnames_args, maxnames),
    LIST_ALL(STORAGE_POOL_LIST_ALL_VOLUMES, "storage_vol", remote_storage_pool_list_all_volumes_ret, vols,
             remote_nonnull_storage_vol, describe_vol, remote_storage_pool_list_all_volumes_args),
    NAMES(STORAGE_POOL_LIST_VOLUMES, "storage_vol", remote_names_ret, names, describe_vol_name,
          remote_storage_pool_list_volumes_args, maxnames),
    LIST_ALL(CONNECT_LIST_ALL_NODE_DEVICES, "node_device", remote_connect_list_all_node_devices_ret, devices,
             remote_nonnull_node_device, describe_nodedev, remote_connect_list_all_node_devices_args),
    NAMES(NODE_LIST_DEVICES, "node_device", remote_names_ret, names, describe_nodedev, remote_node_list_devices_args,
          maxnames),
    LIST_ALL(CONNECT_LIST_ALL_SECRETS, "secret", remote_connect_list_all_secrets_ret, secrets, remote_nonnull_secret,
             describe_secret, remote_connect_list_all_secrets_args),
    NAMES(CONNECT_LIST_SECRETS, "secret", remote_connect_list_secrets_ret, uuids, describe_secret_uuid,
          remote_connect_list_secrets_args, maxuuids),
    LIST_ALL(CONNECT_LIST_ALL_NWFILTERS, "nwfilter", remote_connect_list_all_nwfilters_ret, filters,
             remote_nonnull_nwfilter, describe_nwfilter, remote_connect_list_all_nwfilters_args),
    NAMES(CONNECT_LIST_NWFILTERS, "nwfilter", remote_connect_list_nwfilters_ret, names, describe_nwfilter_name,
          remote_connect_list_nwfilters_args, maxnames),
    LIST_ALL(CONNECT_LIST_ALL_INTERFACES, "interface", remote_connect_list_all_interfaces_ret, ifaces,
             remote_nonnull_interface, describe_iface, remote_connect_list_all_interfaces_args),
    NAMES(CONNECT_LIST_INTERFACES, "interface", remote_connect_list_interfaces_ret, names, describe_iface_name,
          remote_connect_list_interfaces_args, maxnames),
    NAMES(CONNECT_LIST_DEFINED_INTERFACES, "interface", remote_connect_list_defined_interfaces_ret, names,
          describe_iface_name, remote_connect_list_defined_interfaces_args, maxnames),
    NAMES(CONNECT_LIST_DEFINED_DOMAINS, "domain", remote_names_ret, names, describe_domain_name, remote_maxnames_args,
          maxnames),
    { VRT_PROC_CONNECT_LIST_DOMAINS, "domain", offsetof(remote_connect_list_domains_ret, ids), sizeof(int),
      (xdrproc_t)xdr_int, describe_domain_id, false, offsetof(remote_connect_list_domains_args, maxids) },
};

/* The counts of the old API: the length of the filtered list of the old
 * list call that names the same objects (so a client sizing that list by
 * the count gets all of it). */
typedef struct {
    int proc; /* the count */
    int list_proc;
    unsigned int flags; /* of a listAll call */
} CountKind;

static const CountKind counts[] = {
    { VRT_PROC_CONNECT_NUM_OF_NETWORKS, VRT_PROC_CONNECT_LIST_NETWORKS, 0 },
    { VRT_PROC_CONNECT_NUM_OF_DEFINED_NETWORKS, VRT_PROC_CONNECT_LIST_DEFINED_NETWORKS, 0 },
    { VRT_PROC_CONNECT_NUM_OF_STORAGE_POOLS, VRT_PROC_CONNECT_LIST_STORAGE_POOLS, 0 },
    { VRT_PROC_CONNECT_NUM_OF_DEFINED_STORAGE_POOLS, VRT_PROC_CONNECT_LIST_DEFINED_STORAGE_POOLS, 0 },
    { VRT_PROC_STORAGE_POOL_NUM_OF_VOLUMES, VRT_PROC_STORAGE_POOL_LIST_VOLUMES, 0 },
    { VRT_PROC_NODE_NUM_OF_DEVICES, VRT_PROC_NODE_LIST_DEVICES, 0 },
    { VRT_PROC_CONNECT_NUM_OF_SECRETS, VRT_PROC_CONNECT_LIST_SECRETS, 0 },
    { VRT_PROC_CONNECT_NUM_OF_NWFILTERS, VRT_PROC_CONNECT_LIST_NWFILTERS, 0 },
    { VRT_PROC_CONNECT_NUM_OF_INTERFACES, VRT_PROC_CONNECT_LIST_INTERFACES, 0 },
    { VRT_PROC_CONNECT_NUM_OF_DEFINED_INTERFACES, VRT_PROC_CONNECT_LIST_DEFINED_INTERFACES, 0 },
    { VRT_PROC_CONNECT_NUM_OF_DOMAINS, VRT_PROC_CONNECT_LIST_DOMAINS, 0 },
    { VRT_PROC_CONNECT_NUM_OF_DEFINED_DOMAINS, VRT_PROC_CONNECT_LIST_DEFINED_DOMAINS, 0 },
};

static const ListKind *
list_kind(int proc)
{
    for (gsize i = 0; i < G_N_ELEMENTS(lists); i++)
        if (lists[i].proc == proc)
            return &lists[i];
    return NULL;
}

/* Runs list procedure ck->list_proc for the caller, naming what the
 * count's args (count_args) name, and returns its filtered length. */
static bool
count_visible(VrtCall *call, const CountKind *ck, const void *count_args, guint *count, GError **error)
{
    const VrtProcInfo *info = vrt_proc_find(VRT_REMOTE_PROGRAM, VRT_REMOTE_VERSION, ck->list_proc);
    g_autofree void *args = g_malloc0(MAX(info->args_size, 1));
    g_autofree void *ret = g_malloc0(MAX(info->ret_size, 1));
    const ListKind *lk = list_kind(ck->list_proc);

    switch (ck->list_proc) {
    case VRT_PROC_STORAGE_POOL_LIST_VOLUMES:
    case VRT_PROC_STORAGE_POOL_LIST_ALL_VOLUMES:
    case VRT_PROC_NETWORK_LIST_ALL_PORTS:
        /* the args of both start with the pool (network) */
        memcpy(args, count_args,
               ck->list_proc == VRT_PROC_NETWORK_LIST_ALL_PORTS ? sizeof(remote_nonnull_network)
                                                                : sizeof(remote_nonnull_storage_pool));
        break;
    case VRT_PROC_NODE_LIST_DEVICES: {
        remote_node_list_devices_args *l = args;
        l->cap = ((const remote_node_num_of_devices_args *)count_args)->cap;
        l->flags = ((const remote_node_num_of_devices_args *)count_args)->flags;
        break;
    }
    default: break;
    }
    if (lk->list_all) {
        *(int *)((char *)args + lk->need_results_offset) = 1;
        /* flags follow need_results in every listAll args type */
        *(unsigned int *)((char *)args + lk->need_results_offset + sizeof(int)) = ck->flags;
    } else {
        *(int *)((char *)args + lk->need_results_offset) = REMOTE_LIST_MAX;
    }
    if (!vrt_daemon_dispatch(call, info, args, ret, error))
        return false;
    *count = filter_array(call, lk->object, "getattr", args, (XdrArray *)((char *)ret + lk->array_offset),
                          lk->elem_size, lk->elem_free, lk->describe);
    xdr_free(info->ret_filter, ret);
    return true;
}

/* An old list call (names, uuids or ids up to maxnames): the handler
 * lists all of them, the filter keeps the visible ones, and only then are
 * they cut to the caller's maxnames, as libvirt filters before it counts
 * (a client sizes the list by the filtered count). */
static bool
dispatch_names(VrtCall *call, const VrtProcInfo *info, const ListKind *lk, void *args, void *ret, GError **error)
{
    int *maxnames = (int *)((char *)args + lk->need_results_offset);
    int want = *maxnames;

    /* (a maxnames out of the handler's range gets its refusal, or its list) */
    bool widen = want >= 0 && want <= REMOTE_LIST_MAX;

    if (widen)
        *maxnames = REMOTE_LIST_MAX;
    bool ok = vrt_daemon_dispatch(call, info, args, ret, error);
    *maxnames = want;
    if (!ok)
        return false;
    XdrArray *arr = (XdrArray *)((char *)ret + lk->array_offset);
    filter_array(call, lk->object, "getattr", args, arr, lk->elem_size, lk->elem_free, lk->describe);
    if (widen) {
        for (guint i = (guint)want; i < arr->len; i++)
            xdr_free(lk->elem_free, arr->val + i * lk->elem_size);
        arr->len = MIN(arr->len, (guint)want);
    }
    return true;
}

static bool
describe_stats(VrtCall *call, const void *args, const void *elem, VrtAclAttrs *a)
{
    const remote_domain_stats_record *r = elem;
    (void)call, (void)args;
    attrs_add(a, "domain_name", r->dom.name);
    attrs_add_uuid(a, "domain_uuid", WIRE_UUID(r->dom.uuid));
    return true;
}

bool
vrt_acl_dispatch(VrtCall *call, const VrtProcInfo *info, void *args, void *ret, GError **error)
{
    const ListKind *lk = info->prog == VRT_REMOTE_PROGRAM ? list_kind(info->proc) : NULL;

    if (lk && !lk->list_all)
        return dispatch_names(call, info, lk, args, ret, error);
    if (!vrt_daemon_dispatch(call, info, args, ret, error))
        return false;
    if (info->prog != VRT_REMOTE_PROGRAM)
        return true;
    if (info->proc == VRT_PROC_CONNECT_GET_ALL_DOMAIN_STATS) {
        /* libvirt's @aclfilter here is domain.read: no statistics of a
         * domain the caller may not read. */
        remote_connect_get_all_domain_stats_ret *r = ret;
        filter_array(call, "domain", "read", args, (XdrArray *)&r->retStats, sizeof(remote_domain_stats_record),
                     (xdrproc_t)xdr_remote_domain_stats_record, describe_stats);
        return true;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(counts); i++) {
        if (counts[i].proc != info->proc)
            continue;
        guint n = 0;
        if (!count_visible(call, &counts[i], args, &n, error))
            return false;
        /* every count's reply is one int (remote_int_ret or its own {num}) */
        *(int *)ret = (int)n;
        return true;
    }
    if (!lk)
        return true;
    XdrArray *arr = (XdrArray *)((char *)ret + lk->array_offset);
    unsigned int *count = (unsigned int *)((char *)ret + lk->array_offset + sizeof(XdrArray));
    if (*(int *)((char *)args + lk->need_results_offset)) {
        *count = filter_array(call, lk->object, "getattr", args, arr, lk->elem_size, lk->elem_free, lk->describe);
        return true;
    }
    /* Only the count was asked: it is the length of the list the caller may see. */
    CountKind ck = { info->proc, info->proc, *(unsigned int *)((char *)args + lk->need_results_offset + sizeof(int)) };
    guint n = 0;
    if (!count_visible(call, &ck, args, &n, error))
        return false;
    *count = n;
    return true;
}

/* ---- events ---- */

/* Every event message starts with its callback id, then the object. */
typedef struct {
    int callbackID;
    remote_nonnull_domain dom;
} DomainEventHead;
G_STATIC_ASSERT(offsetof(remote_domain_event_callback_lifecycle_msg, msg.dom) == offsetof(DomainEventHead, dom));
G_STATIC_ASSERT(offsetof(remote_domain_event_callback_metadata_change_msg, dom) == offsetof(DomainEventHead, dom));
G_STATIC_ASSERT(offsetof(qemu_domain_monitor_event_msg, dom) == offsetof(DomainEventHead, dom));
G_STATIC_ASSERT(offsetof(remote_domain_event_callback_reboot_msg, msg.dom) == offsetof(DomainEventHead, dom));
G_STATIC_ASSERT(offsetof(remote_domain_event_callback_device_removed_msg, msg.dom) == offsetof(DomainEventHead, dom));
G_STATIC_ASSERT(offsetof(remote_secret_event_value_changed_msg, secret) ==
                offsetof(remote_secret_event_lifecycle_msg, secret));
G_STATIC_ASSERT(offsetof(remote_storage_pool_event_lifecycle_msg, pool) ==
                offsetof(remote_storage_pool_event_refresh_msg, pool));
G_STATIC_ASSERT(offsetof(remote_node_device_event_lifecycle_msg, dev) ==
                offsetof(remote_node_device_event_update_msg, dev));

bool
vrt_acl_event_allowed(VrtConn *conn, int event_id, const void *msg)
{
    VrtAclAttrs a;
    const char *object;
    gboolean keep = FALSE;

    if (!vrt_acl_enabled(conn->daemon))
        return true;
    attrs_init(&a);
    if (event_id == VRT_EVENT_ID_NETWORK_LIFECYCLE) {
        const remote_network_event_lifecycle_msg *m = msg;
        object = "network";
        attrs_network(&a, m->net.name, WIRE_UUID(m->net.uuid));
    } else if (event_id >= VRT_EVENT_ID_SECRET(0)) {
        const remote_secret_event_lifecycle_msg *m = msg;
        object = "secret";
        attrs_secret(&a, WIRE_UUID(m->secret.uuid), m->secret.usageType, m->secret.usageID);
    } else if (event_id >= VRT_EVENT_ID_NODEDEV(0)) {
        const remote_node_device_event_update_msg *m = msg;
        object = "node_device";
        attrs_add(&a, "node_device_name", m->dev.name);
    } else if (event_id >= VRT_EVENT_ID_STORAGE_POOL(0)) {
        const remote_storage_pool_event_refresh_msg *m = msg;
        object = "storage_pool";
        attrs_pool(&a, m->pool.name, WIRE_UUID(m->pool.uuid));
    } else {
        /* a domain event of any ID, or a QEMU monitor event */
        const DomainEventHead *m = msg;
        object = "domain";
        attrs_add(&a, "domain_name", m->dom.name);
        attrs_add_uuid(&a, "domain_uuid", WIRE_UUID(m->dom.uuid));
    }
    ask_many(conn, object, "getattr", 1, &a, &keep);
    attrs_clear(&a);
    return keep;
}
