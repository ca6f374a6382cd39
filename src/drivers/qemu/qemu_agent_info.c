/*
 * The guest information calls (see qemu_agent_info.h): qemu-ga's
 * guest-get-users, guest-get-osinfo, guest-get-timezone,
 * guest-get-host-name, guest-get-fsinfo, guest-get-disks and
 * guest-network-get-interfaces turned into libvirt 9.0's typed parameters
 * and virDomainFSInfo records, each command one exchange through
 * vrt_qemu_agent_call under no domain job (libvirt's agent job holds up no
 * monitor call). A disk the agent reports is named by the domain's disk
 * at its address (a virtio disk's PCI address, or a drive address on the
 * controller at the agent's PCI address), as libvirt's
 * virDomainDiskByAddress does. With no type asked, libvirt leaves out what
 * the agent does not offer (its CommandNotFound or CommandDisabled
 * answer); vrt learns that from the agent's guest-info first.
 */
#include "drivers/qemu/qemu_agent_info.h"
#include "drivers/qemu/qemu_agent.h"
#include "drivers/qemu/qemu_domain.h"
#include "util/error.h"

#include <string.h>

#define ALL_TYPES                                                                                      \
    (VRT_DOMAIN_GUEST_INFO_USERS | VRT_DOMAIN_GUEST_INFO_OS | VRT_DOMAIN_GUEST_INFO_TIMEZONE |         \
     VRT_DOMAIN_GUEST_INFO_HOSTNAME | VRT_DOMAIN_GUEST_INFO_FILESYSTEM | VRT_DOMAIN_GUEST_INFO_DISKS | \
     VRT_DOMAIN_GUEST_INFO_INTERFACES)

void
vrt_domain_fsinfo_free(VrtDomainFSInfo *fs)
{
    if (!fs)
        return;
    g_free(fs->mountpoint);
    g_free(fs->name);
    g_free(fs->fstype);
    if (fs->dev_aliases)
        g_ptr_array_unref(fs->dev_aliases);
    g_free(fs);
}

/* ---- typed parameters ---- */

static VrtTypedParam *param_add(GPtrArray *params, int type, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static VrtTypedParam *
param_add(GPtrArray *params, int type, const char *fmt, ...)
{
    VrtTypedParam *p = g_new0(VrtTypedParam, 1);
    va_list ap;

    va_start(ap, fmt);
    p->field = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    p->type = type;
    g_ptr_array_add(params, p);
    return p;
}

#define ADD_UINT(params, val, ...) (param_add((params), VRT_TYPED_PARAM_UINT, __VA_ARGS__)->v.ui = (val))
#define ADD_INT(params, val, ...) (param_add((params), VRT_TYPED_PARAM_INT, __VA_ARGS__)->v.i = (val))
#define ADD_ULLONG(params, val, ...) (param_add((params), VRT_TYPED_PARAM_ULLONG, __VA_ARGS__)->v.ul = (val))
#define ADD_BOOL(params, val, ...) (param_add((params), VRT_TYPED_PARAM_BOOLEAN, __VA_ARGS__)->v.i = (val))
#define ADD_STRING(params, val, ...) (param_add((params), VRT_TYPED_PARAM_STRING, __VA_ARGS__)->v.s = g_strdup(val))

/* ---- the domain ---- */

static VrtQemuDom *
find_active(VrtQemuDriver *drv, const guchar *uuid, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);

    if (!obj)
        return NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (!vrt_qemu_dom_is_active_locked(obj)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
            return NULL;
        }
    }
    return g_steal_pointer(&obj);
}

/* A disk's address as qemu-ga reports it. */
typedef struct {
    VrtPciAddr pci; /* the disk's, or its controller's */
    guint bus, target, unit;
    char *serial;
    char *dev;
} AgentDiskAddr;

static void
agent_disk_addr_free(AgentDiskAddr *a)
{
    if (!a)
        return;
    g_free(a->serial);
    g_free(a->dev);
    g_free(a);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AgentDiskAddr, agent_disk_addr_free)

static bool
get_uint(JsonObject *o, const char *name, guint *out, GError **error)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 || json_node_get_int(n) < 0) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'%s' missing", name);
        return false;
    }
    *out = (guint)json_node_get_int(n);
    return true;
}

static const char *
get_string(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

/* libvirt's qemuAgentGetDiskAddress. */
static AgentDiskAddr *
disk_addr_parse(JsonObject *o, GError **error)
{
    g_autoptr(AgentDiskAddr) a = g_new0(AgentDiskAddr, 1);
    JsonObject *pci;

    a->serial = g_strdup(get_string(o, "serial"));
    a->dev = g_strdup(get_string(o, "dev"));
    if (!get_uint(o, "bus", &a->bus, error) || !get_uint(o, "target", &a->target, error) ||
        !get_uint(o, "unit", &a->unit, error))
        return NULL;
    pci = json_object_has_member(o, "pci-controller") ? json_object_get_object_member(o, "pci-controller") : NULL;
    if (!pci) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'pci-controller' missing");
        return NULL;
    }
    if (!get_uint(pci, "domain", &a->pci.domain, error) || !get_uint(pci, "bus", &a->pci.bus, error) ||
        !get_uint(pci, "slot", &a->pci.slot, error) || !get_uint(pci, "function", &a->pci.function, error))
        return NULL;
    return g_steal_pointer(&a);
}

/* The target of the domain's disk at the agent's address, or NULL
 * (libvirt's virDomainDiskByAddress): the disk's own PCI address, or a
 * drive address on the controller at that PCI address whose kind fits
 * the disk's bus. Called with the object's lock held. */
static const char *
disk_target_locked(const VrtDomainDef *def, const AgentDiskAddr *a)
{
    const VrtDomainControllerDef *ctrl = NULL;

    for (guint i = 0; i < def->controllers->len; i++) {
        const VrtDomainControllerDef *c = g_ptr_array_index(def->controllers, i);

        if (c->info.type == VRT_DEVICE_ADDRESS_PCI && vrt_pci_addr_equal(&c->info.pci, &a->pci)) {
            ctrl = c;
            break;
        }
    }
    for (guint i = 0; i < def->disks->len; i++) {
        const VrtDomainDiskDef *d = g_ptr_array_index(def->disks, i);

        if (d->info.type == VRT_DEVICE_ADDRESS_PCI && vrt_pci_addr_equal(&d->info.pci, &a->pci))
            return d->target_dev;
        if (d->info.type == VRT_DEVICE_ADDRESS_DRIVE && ctrl && ctrl->index == d->info.drive.controller &&
            d->info.drive.bus == a->bus && d->info.drive.target == a->target && d->info.drive.unit == a->unit &&
            ((ctrl->type == VRT_DOMAIN_CONTROLLER_SCSI && d->bus == VRT_DOMAIN_DISK_BUS_SCSI) ||
             (ctrl->type == VRT_DOMAIN_CONTROLLER_SATA && d->bus == VRT_DOMAIN_DISK_BUS_SATA) ||
             (ctrl->type == VRT_DOMAIN_CONTROLLER_IDE && d->bus == VRT_DOMAIN_DISK_BUS_IDE)))
            return d->target_dev;
    }
    return NULL;
}

static char *
disk_target(VrtQemuDom *obj, const AgentDiskAddr *a)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    return g_strdup(disk_target_locked(obj->def, a));
}

/* ---- the agent's commands ---- */

/* Names of the commands the agent offers and has enabled (guest-info). */
static GHashTable *
agent_offers(VrtQemuDom *obj, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_agent_call(obj, "guest-info", NULL, error);
    g_autoptr(GHashTable) set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    JsonObject *o;
    JsonArray *cmds;

    if (!ret)
        return NULL;
    o = JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    cmds = o && json_object_has_member(o, "supported_commands") ? json_object_get_array_member(o, "supported_commands")
                                                                : NULL;
    for (guint i = 0; cmds && i < json_array_get_length(cmds); i++) {
        JsonObject *c = json_array_get_object_element(cmds, i);
        const char *name = get_string(c, "name");

        if (name && json_object_get_boolean_member_with_default(c, "enabled", TRUE))
            g_hash_table_add(set, g_strdup(name));
    }
    return g_steal_pointer(&set);
}

static bool
users_params(VrtQemuDom *obj, GPtrArray *params, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_agent_call(obj, "guest-get-users", NULL, error);
    JsonArray *arr;

    if (!ret)
        return false;
    if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "guest-get-users reply was missing return data");
        return false;
    }
    arr = json_node_get_array(ret);
    ADD_UINT(params, json_array_get_length(arr), "user.count");
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *u = json_array_get_object_element(arr, i);
        JsonNode *t = u ? json_object_get_member(u, "login-time") : NULL;
        const char *s;

        if (!u) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "array element missing in guest-get-users return value");
            return false;
        }
        if (!(s = get_string(u, "user"))) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'user' missing in reply of guest-get-users");
            return false;
        }
        ADD_STRING(params, s, "user.%u.name", i);
        /* Only a Windows guest names the user's domain. */
        if ((s = get_string(u, "domain")))
            ADD_STRING(params, s, "user.%u.domain", i);
        if (!t || !JSON_NODE_HOLDS_VALUE(t) ||
            (json_node_get_value_type(t) != G_TYPE_DOUBLE && json_node_get_value_type(t) != G_TYPE_INT64)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'login-time' missing in reply of guest-get-users");
            return false;
        }
        /* qemu-ga's seconds as libvirt's milliseconds. */
        ADD_ULLONG(params, (guint64)(json_node_get_double(t) * 1000), "user.%u.login-time", i);
    }
    return true;
}

static bool
os_params(VrtQemuDom *obj, GPtrArray *params, GError **error)
{
    static const char *const keys[][2] = {
        { "id", "os.id" },
        { "name", "os.name" },
        { "pretty-name", "os.pretty-name" },
        { "version", "os.version" },
        { "version-id", "os.version-id" },
        { "machine", "os.machine" },
        { "variant", "os.variant" },
        { "variant-id", "os.variant-id" },
        { "kernel-release", "os.kernel-release" },
        { "kernel-version", "os.kernel-version" },
    };
    g_autoptr(JsonNode) ret = vrt_qemu_agent_call(obj, "guest-get-osinfo", NULL, error);

    if (!ret)
        return false;
    if (!JSON_NODE_HOLDS_OBJECT(ret)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "guest-get-osinfo reply was missing return data");
        return false;
    }
    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        const char *s = get_string(json_node_get_object(ret), keys[i][0]);

        if (s)
            ADD_STRING(params, s, "%s", keys[i][1]);
    }
    return true;
}

static bool
timezone_params(VrtQemuDom *obj, GPtrArray *params, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_agent_call(obj, "guest-get-timezone", NULL, error);
    JsonNode *off;
    const char *zone;

    if (!ret)
        return false;
    if (!JSON_NODE_HOLDS_OBJECT(ret)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "guest-get-timezone reply was missing return data");
        return false;
    }
    if ((zone = get_string(json_node_get_object(ret), "zone")))
        ADD_STRING(params, zone, "timezone.name");
    off = json_object_get_member(json_node_get_object(ret), "offset");
    if (!off || !JSON_NODE_HOLDS_VALUE(off) || json_node_get_value_type(off) != G_TYPE_INT64) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'offset' missing in reply of guest-get-timezone");
        return false;
    }
    ADD_INT(params, (gint)json_node_get_int(off), "timezone.offset");
    return true;
}

static bool
hostname_params(VrtQemuDom *obj, GPtrArray *params, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_agent_call(obj, "guest-get-host-name", NULL, error);
    const char *name;

    if (!ret)
        return false;
    if (!JSON_NODE_HOLDS_OBJECT(ret)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "malformed return value");
        return false;
    }
    if (!(name = get_string(json_node_get_object(ret), "host-name"))) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'host-name' missing in guest-get-host-name reply");
        return false;
    }
    ADD_STRING(params, name, "hostname");
    return true;
}

/* One filesystem of guest-get-fsinfo. */
typedef struct {
    char *mountpoint, *name, *fstype;
    gint64 used, total; /* -1: not reported (qemu-ga before 3.0) */
    GPtrArray *disks; /* AgentDiskAddr* */
} AgentFS;

static void
agent_fs_free(AgentFS *fs)
{
    if (!fs)
        return;
    g_free(fs->mountpoint);
    g_free(fs->name);
    g_free(fs->fstype);
    if (fs->disks)
        g_ptr_array_unref(fs->disks);
    g_free(fs);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AgentFS, agent_fs_free)

static bool
fs_bytes(JsonObject *e, const char *name, gint64 *out, GError **error)
{
    JsonNode *n = json_object_get_member(e, name);

    *out = -1;
    if (!n)
        return true;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Error getting '%s' in reply of guest-get-fsinfo", name);
        return false;
    }
    *out = json_node_get_int(n);
    return true;
}

/* guest-get-fsinfo as AgentFS*, in mount order (qemu-ga lists the last
 * mounted first; libvirt reverses it). */
static GPtrArray *
agent_fsinfo(VrtQemuDom *obj, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_agent_call(obj, "guest-get-fsinfo", NULL, error);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)agent_fs_free);
    JsonArray *arr;
    guint n;

    if (!ret)
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Malformed guest-get-fsinfo data array");
        return NULL;
    }
    arr = json_node_get_array(ret);
    n = json_array_get_length(arr);
    for (guint i = 0; i < n; i++) {
        JsonObject *e = json_array_get_object_element(arr, n - 1 - i);
        g_autoptr(AgentFS) fs = g_new0(AgentFS, 1);
        JsonNode *disk;
        const char *s;

        if (!e) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                          "array element '%u' of '%u' missing in guest-get-fsinfo return data", i, n);
            return NULL;
        }
        if (!(s = get_string(e, "mountpoint"))) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'mountpoint' missing in reply of guest-get-fsinfo");
            return NULL;
        }
        fs->mountpoint = g_strdup(s);
        if (!(s = get_string(e, "name"))) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'name' missing in reply of guest-get-fsinfo");
            return NULL;
        }
        fs->name = g_strdup(s);
        if (!(s = get_string(e, "type"))) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'type' missing in reply of guest-get-fsinfo");
            return NULL;
        }
        fs->fstype = g_strdup(s);
        if (!fs_bytes(e, "used-bytes", &fs->used, error) || !fs_bytes(e, "total-bytes", &fs->total, error))
            return NULL;
        if (!(disk = json_object_get_member(e, "disk"))) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'disk' missing in reply of guest-get-fsinfo");
            return NULL;
        }
        if (!JSON_NODE_HOLDS_ARRAY(disk)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Malformed guest-get-fsinfo 'disk' data array");
            return NULL;
        }
        fs->disks = g_ptr_array_new_with_free_func((GDestroyNotify)agent_disk_addr_free);
        for (guint j = 0; j < json_array_get_length(json_node_get_array(disk)); j++) {
            JsonObject *d = json_array_get_object_element(json_node_get_array(disk), j);
            AgentDiskAddr *a = d ? disk_addr_parse(d, error) : NULL;

            if (!a) {
                if (!d)
                    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                                  "array element '%u' missing in guest-get-fsinfo 'disk' data", j);
                return NULL;
            }
            g_ptr_array_add(fs->disks, a);
        }
        g_ptr_array_add(out, g_steal_pointer(&fs));
    }
    return g_steal_pointer(&out);
}

static bool
fs_params(VrtQemuDom *obj, GPtrArray *params, GError **error)
{
    g_autoptr(GPtrArray) fss = agent_fsinfo(obj, error);

    if (!fss)
        return false;
    if (!fss->len)
        return true;
    ADD_UINT(params, fss->len, "fs.count");
    for (guint i = 0; i < fss->len; i++) {
        AgentFS *fs = g_ptr_array_index(fss, i);

        ADD_STRING(params, fs->name, "fs.%u.name", i);
        ADD_STRING(params, fs->mountpoint, "fs.%u.mountpoint", i);
        ADD_STRING(params, fs->fstype, "fs.%u.fstype", i);
        if (fs->total != -1)
            ADD_ULLONG(params, (guint64)fs->total, "fs.%u.total-bytes", i);
        if (fs->used != -1)
            ADD_ULLONG(params, (guint64)fs->used, "fs.%u.used-bytes", i);
        ADD_UINT(params, fs->disks->len, "fs.%u.disk.count", i);
        for (guint j = 0; j < fs->disks->len; j++) {
            AgentDiskAddr *a = g_ptr_array_index(fs->disks, j);
            g_autofree char *target = disk_target(obj, a);

            if (target)
                ADD_STRING(params, target, "fs.%u.disk.%u.alias", i, j);
            if (a->serial)
                ADD_STRING(params, a->serial, "fs.%u.disk.%u.serial", i, j);
            if (a->dev)
                ADD_STRING(params, a->dev, "fs.%u.disk.%u.device", i, j);
        }
    }
    return true;
}

static bool
disks_params(VrtQemuDom *obj, GPtrArray *params, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_agent_call(obj, "guest-get-disks", NULL, error);
    JsonArray *arr;

    if (!ret)
        return false;
    if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "qemu agent didn't return an array of disks");
        return false;
    }
    arr = json_node_get_array(ret);
    if (!json_array_get_length(arr))
        return true;
    ADD_UINT(params, json_array_get_length(arr), "disk.count");
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *e = json_array_get_object_element(arr, i);
        JsonNode *part = e ? json_object_get_member(e, "partition") : NULL;
        JsonObject *addr = NULL;
        const char *name = e ? get_string(e, "name") : NULL;

        if (!e) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "array element missing in guest-get-disks return value");
            return false;
        }
        if (!name) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'name' missing in reply of guest-get-disks");
            return false;
        }
        if (!part || !JSON_NODE_HOLDS_VALUE(part) || json_node_get_value_type(part) != G_TYPE_BOOLEAN) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "'partition' missing in reply of guest-get-disks");
            return false;
        }
        ADD_STRING(params, name, "disk.%u.name", i);
        ADD_BOOL(params, json_node_get_boolean(part), "disk.%u.partition", i);
        if (json_object_has_member(e, "dependencies") &&
            JSON_NODE_HOLDS_ARRAY(json_object_get_member(e, "dependencies"))) {
            JsonArray *deps = json_object_get_array_member(e, "dependencies");
            guint n = json_array_get_length(deps);

            if (n)
                ADD_UINT(params, n, "disk.%u.dependency.count", i);
            for (guint j = 0; j < n; j++)
                ADD_STRING(params, json_array_get_string_element(deps, j), "disk.%u.dependency.%u.name", i, j);
        }
        if (json_object_has_member(e, "address") && JSON_NODE_HOLDS_OBJECT(json_object_get_member(e, "address")))
            addr = json_object_get_object_member(e, "address");
        if (addr) {
            g_autoptr(AgentDiskAddr) a = disk_addr_parse(addr, error);
            g_autofree char *target = NULL;

            if (!a)
                return false;
            if (a->serial)
                ADD_STRING(params, a->serial, "disk.%u.serial", i);
            if ((target = disk_target(obj, a)))
                ADD_STRING(params, target, "disk.%u.alias", i);
        }
        if (get_string(e, "alias"))
            ADD_STRING(params, get_string(e, "alias"), "disk.%u.guest_alias", i);
    }
    return true;
}

/* One interface of guest-network-get-interfaces, its aliases (eth0:1)
 * merged into it as libvirt does. */
typedef struct {
    char *name;
    char *hwaddr;
    GPtrArray *addrs; /* char*[3] triples flattened: type, addr, prefix text */
} AgentIface;

static void
agent_iface_free(AgentIface *i)
{
    g_free(i->name);
    g_free(i->hwaddr);
    g_ptr_array_unref(i->addrs);
    g_free(i);
}

static bool
ifaces_params(VrtQemuDom *obj, GPtrArray *params, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_agent_call(obj, "guest-network-get-interfaces", NULL, error);
    g_autoptr(GPtrArray) ifaces = g_ptr_array_new_with_free_func((GDestroyNotify)agent_iface_free);
    JsonArray *arr;

    if (!ret)
        return false;
    if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "qemu agent didn't return an array of interfaces");
        return false;
    }
    arr = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        const char *name = get_string(o, "name");
        g_autofree char *base = NULL;
        AgentIface *iface = NULL;
        JsonNode *ips;

        if (!name) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "qemu agent didn't provide 'name' field");
            return false;
        }
        base = g_strdup(name);
        if (strchr(base, ':'))
            *strchr(base, ':') = '\0';
        for (guint k = 0; k < ifaces->len && !iface; k++)
            if (g_str_equal(((AgentIface *)g_ptr_array_index(ifaces, k))->name, base))
                iface = g_ptr_array_index(ifaces, k);
        if (!iface) {
            iface = g_new0(AgentIface, 1);
            iface->name = g_strdup(base);
            iface->hwaddr = g_strdup(get_string(o, "hardware-address"));
            iface->addrs = g_ptr_array_new_with_free_func(g_free);
            g_ptr_array_add(ifaces, iface);
        }
        ips = json_object_get_member(o, "ip-addresses");
        if (!ips)
            continue;
        if (!JSON_NODE_HOLDS_ARRAY(ips)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Malformed ip-addresses array");
            return false;
        }
        for (guint j = 0; j < json_array_get_length(json_node_get_array(ips)); j++) {
            JsonObject *a = json_array_get_object_element(json_node_get_array(ips), j);
            const char *type = get_string(a, "ip-address-type");
            const char *addr = get_string(a, "ip-address");
            guint prefix = 0;

            if (!type) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                              "qemu agent didn't provide 'ip-address-type' field for interface '%s'", name);
                return false;
            }
            if (!g_str_equal(type, "ipv4") && !g_str_equal(type, "ipv6")) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "unknown ip address type '%s'", type);
                return false;
            }
            if (!addr) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                              "qemu agent didn't provide 'ip-address' field for interface '%s'", name);
                return false;
            }
            if (!get_uint(a, "prefix", &prefix, NULL)) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "malformed 'prefix' field");
                return false;
            }
            g_ptr_array_add(iface->addrs, g_strdup(type));
            g_ptr_array_add(iface->addrs, g_strdup(addr));
            g_ptr_array_add(iface->addrs, g_strdup_printf("%u", prefix));
        }
    }
    if (!ifaces->len)
        return true;
    ADD_UINT(params, ifaces->len, "if.count");
    for (guint i = 0; i < ifaces->len; i++) {
        AgentIface *iface = g_ptr_array_index(ifaces, i);
        guint naddrs = iface->addrs->len / 3;

        ADD_STRING(params, iface->name, "if.%u.name", i);
        if (iface->hwaddr)
            ADD_STRING(params, iface->hwaddr, "if.%u.hwaddr", i);
        ADD_UINT(params, naddrs, "if.%u.addr.count", i);
        for (guint j = 0; j < naddrs; j++) {
            ADD_STRING(params, g_ptr_array_index(iface->addrs, 3 * j), "if.%u.addr.%u.type", i, j);
            ADD_STRING(params, g_ptr_array_index(iface->addrs, 3 * j + 1), "if.%u.addr.%u.addr", i, j);
            ADD_UINT(params, (guint)g_ascii_strtoull(g_ptr_array_index(iface->addrs, 3 * j + 2), NULL, 10),
                     "if.%u.addr.%u.prefix", i, j);
        }
    }
    return true;
}

GPtrArray *
vrt_qemu_domain_get_guest_info(VrtQemuDriver *drv, const guchar *uuid, guint types, guint flags, GError **error)
{
    static const struct {
        guint type;
        const char *cmd;
        bool (*fill)(VrtQemuDom *obj, GPtrArray *params, GError **error);
    } kinds[] = {
        { VRT_DOMAIN_GUEST_INFO_USERS, "guest-get-users", users_params },
        { VRT_DOMAIN_GUEST_INFO_OS, "guest-get-osinfo", os_params },
        { VRT_DOMAIN_GUEST_INFO_TIMEZONE, "guest-get-timezone", timezone_params },
        { VRT_DOMAIN_GUEST_INFO_HOSTNAME, "guest-get-host-name", hostname_params },
        { VRT_DOMAIN_GUEST_INFO_FILESYSTEM, "guest-get-fsinfo", fs_params },
        { VRT_DOMAIN_GUEST_INFO_DISKS, "guest-get-disks", disks_params },
        { VRT_DOMAIN_GUEST_INFO_INTERFACES, "guest-network-get-interfaces", ifaces_params },
    };
    g_autoptr(GPtrArray) params = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(GHashTable) offered = NULL;

    if (flags) {
        vrt_error_set_flags(error, flags, "qemuDomainGetGuestInfo");
        return NULL;
    }
    if (types & ~ALL_TYPES) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported guest information types '0x%x'", types & ~ALL_TYPES);
        return NULL;
    }
    if (!(obj = find_active(drv, uuid, error)) || !vrt_qemu_agent_check(obj, error))
        return NULL;
    /* Everything asked for: what the agent lacks is left out. */
    if (!types && !(offered = agent_offers(obj, error)))
        return NULL;
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if (types && !(types & kinds[i].type))
            continue;
        if (offered && !g_hash_table_contains(offered, kinds[i].cmd))
            continue;
        if (!kinds[i].fill(obj, params, error))
            return NULL;
    }
    return g_steal_pointer(&params);
}

GPtrArray *
vrt_qemu_domain_get_fsinfo(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(GPtrArray) fss = NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_fsinfo_free);

    if (flags) {
        vrt_error_set_flags(error, flags, "qemuDomainGetFSInfo");
        return NULL;
    }
    if (!(obj = find_active(drv, uuid, error)) || !vrt_qemu_agent_check(obj, error))
        return NULL;
    if (!(fss = agent_fsinfo(obj, error)))
        return NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        /* libvirt checks again that the domain runs before naming disks. */
        if (!vrt_qemu_dom_is_active_locked(obj)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
            return NULL;
        }
        for (guint i = 0; i < fss->len; i++) {
            AgentFS *fs = g_ptr_array_index(fss, i);
            VrtDomainFSInfo *info = g_new0(VrtDomainFSInfo, 1);

            info->mountpoint = g_strdup(fs->mountpoint);
            info->name = g_strdup(fs->name);
            info->fstype = g_strdup(fs->fstype);
            info->dev_aliases = g_ptr_array_new_with_free_func(g_free);
            for (guint j = 0; j < fs->disks->len; j++) {
                const char *t = disk_target_locked(obj->def, g_ptr_array_index(fs->disks, j));

                if (t)
                    g_ptr_array_add(info->dev_aliases, g_strdup(t));
            }
            g_ptr_array_add(out, info);
        }
    }
    return g_steal_pointer(&out);
}
