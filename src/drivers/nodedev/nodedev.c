/*
 * The node device driver: builds libvirt node device definitions from
 * sysfs under the host root on each request (the host, not a cache, is the
 * truth: drivers and netdevs change under us), and moves PCI functions
 * between host drivers and vfio-pci on request, refusing devices a domain
 * uses.
 */
#include "drivers/nodedev/nodedev.h"

#include <string.h>

#include "host/ethtool.h"
#include "host/sriov.h"
#include "util/error.h"

#define VRT_NODEDEV_COMPUTER "computer"
#define VRT_NODEDEV_VFIO_NAME "vfio"
static const char *const pci_ids_paths[] = { "/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids" };

struct _VrtNodedevDriver {
    VrtHost *host;
    GHashTable *ids; /* "8086" / "8086:10ed" -> name, from pci.ids */
    VrtVfRegistry *vfs; /* borrowed; NULL: nobody else's use is checked */
    GMutex lock; /* serializes detach/reattach/reset; guards orig_drivers */
    GHashTable *orig_drivers; /* PCI address -> driver it had before detach */
};

/* Loads vendor and device names from the first pci.ids found under the
 * root; names are optional in the XML, so a missing file is fine. */
static void
load_pci_ids(VrtNodedevDriver *drv)
{
    g_autofree char *text = NULL;
    char vendor[5] = "";

    for (gsize i = 0; i < G_N_ELEMENTS(pci_ids_paths) && !text; i++) {
        g_autofree char *path = vrt_host_path(drv->host, pci_ids_paths[i]);
        if (!g_file_get_contents(path, &text, NULL, NULL))
            text = NULL;
    }
    if (!text)
        return;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] == 'C' && line[1] == ' ')
            break; /* the class section follows the devices */
        if (g_ascii_isxdigit(line[0]) && strlen(line) > 6 && line[4] == ' ') {
            memcpy(vendor, line, 4);
            g_hash_table_insert(drv->ids, g_ascii_strdown(vendor, 4), g_strdup(g_strstrip(line + 4)));
        } else if (line[0] == '\t' && line[1] != '\t' && vendor[0] && strlen(line) > 7 && line[5] == ' ') {
            g_autofree char *dev = g_ascii_strdown(line + 1, 4);
            g_hash_table_insert(drv->ids, g_strdup_printf("%s:%s", vendor, dev), g_strdup(g_strstrip(line + 5)));
        }
    }
}

VrtNodedevDriver *
vrt_nodedev_driver_new(VrtHost *host, VrtVfRegistry *vfs, GError **error)
{
    VrtNodedevDriver *drv = g_new0(VrtNodedevDriver, 1);

    drv->host = host;
    drv->vfs = vfs;
    drv->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    drv->orig_drivers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_mutex_init(&drv->lock);
    load_pci_ids(drv);
    return drv;
}

void
vrt_nodedev_driver_free(VrtNodedevDriver *drv)
{
    if (!drv)
        return;
    g_hash_table_unref(drv->ids);
    g_hash_table_unref(drv->orig_drivers);
    g_mutex_clear(&drv->lock);
    g_free(drv);
}

/* ---- names ---- */

/* libvirt's net device name: net_<ifname>_<mac>, other characters as '_'. */
static char *
net_name(const char *ifname, const char *mac)
{
    char *name = g_strdup_printf("net_%s_%s", ifname, mac ? mac : "00:00:00:00:00:00");
    for (char *p = name; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '_')
            *p = '_';
    return name;
}

static char *
read_opt(VrtHost *host, const char *path)
{
    if (!vrt_host_exists(host, path))
        return NULL;
    return vrt_host_read(host, path, NULL);
}

static char *
net_attr(VrtHost *host, const char *ifname, const char *attr)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/%s", ifname, attr);
    return read_opt(host, path);
}

static char *
net_ifname_name(VrtHost *host, const char *ifname)
{
    g_autofree char *mac = net_attr(host, ifname, "address");
    return net_name(ifname, mac);
}

/* "../../devices/x/y" -> "/sys/devices/x/y" */
static char *
sysfs_canon(const char *target)
{
    while (g_str_has_prefix(target, "../"))
        target += 3;
    return g_strconcat("/sys/", target, NULL);
}

/* Node device name of the nearest device vrt reports at or above sysfs
 * path `dir`: a PCI function (skipping bus-specific levels such as
 * virtioN) or, at the top, the computer. */
static char *
parent_name_of(const char *dir)
{
    g_autofree char *cur = g_strdup(dir);

    while (g_str_has_prefix(cur, "/sys/devices/")) {
        g_autofree char *base = g_path_get_basename(cur);
        char *up;
        VrtPciAddr a;

        if (vrt_pci_addr_parse(base, &a, NULL))
            return vrt_pci_addr_nodedev_name(&a);
        up = g_path_get_dirname(cur);
        g_free(cur);
        cur = up;
    }
    return g_strdup(VRT_NODEDEV_COMPUTER);
}

/* ---- definitions ---- */

static VrtNodedevDef *
system_def(VrtNodedevDriver *drv)
{
    VrtNodedevDef *def = vrt_nodedev_def_new(VRT_NODEDEV_CAP_SYSTEM);
    VrtHost *h = drv->host;

    def->name = g_strdup(VRT_NODEDEV_COMPUTER);
    def->system.product = read_opt(h, "/sys/class/dmi/id/product_name");
    def->system.hw_vendor = read_opt(h, "/sys/class/dmi/id/sys_vendor");
    def->system.hw_version = read_opt(h, "/sys/class/dmi/id/product_version");
    def->system.hw_serial = read_opt(h, "/sys/class/dmi/id/product_serial");
    def->system.hw_uuid = read_opt(h, "/sys/class/dmi/id/product_uuid");
    def->system.fw_vendor = read_opt(h, "/sys/class/dmi/id/bios_vendor");
    def->system.fw_version = read_opt(h, "/sys/class/dmi/id/bios_version");
    def->system.fw_date = read_opt(h, "/sys/class/dmi/id/bios_date");
    if (def->system.hw_uuid && strlen(def->system.hw_uuid) != 36)
        g_clear_pointer(&def->system.hw_uuid, g_free);
    return def;
}

static guint
read_hex(VrtHost *host, const VrtPciAddr *addr, const char *attr, guint fallback)
{
    g_autofree char *path = vrt_pci_sysfs_path(addr, attr);
    guint64 v;

    if (!vrt_host_exists(host, path) || !vrt_host_read_u64(host, path, &v, NULL))
        return fallback;
    return (guint)v;
}

/* What libvirt reads from a function's config space: its header type
 * and its PCI Express capability with the link's capabilities and
 * status. A config space without a capability list counts as PCIe when
 * its file is longer than 256 bytes: libvirt's guess for the case where
 * it cannot read the whole space, which it applies to this case too. */
static void
pci_config_facts(VrtHost *h, const VrtPciAddr *addr, VrtNodedevDef *def)
{
    g_autofree char *rel = vrt_pci_sysfs_path(addr, "config");
    g_autofree char *path = vrt_host_path(h, rel);
    g_autofree guint8 *cfg = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, (char **)&cfg, &len, NULL) || len < 64)
        return;
    def->pci.hdr_type = cfg[0x0e] & 0x7f;
    guint pos = 0;
    if (cfg[0x06] & 0x10) { /* status: capability list */
        guint hops = 0;
        for (guint p = cfg[0x34]; p >= 0x40 && p != 0xff && p + 1 < len && hops < 48; p = cfg[p + 1], hops++) {
            if (cfg[p] == 0x10) { /* PCI Express */
                pos = p;
                break;
            }
        }
        def->pci.pcie = pos != 0;
    } else {
        def->pci.pcie = len != 256;
    }
    if (!pos || pos + 0x14 > len)
        return;
    guint type = (cfg[pos + 2] >> 4) & 0xf;
    if (type == 0x9 || type == 0xa)
        return; /* root complex integrated endpoint, event collector: no link */
    guint32 lnkcap = cfg[pos + 0xc] | cfg[pos + 0xd] << 8 | cfg[pos + 0xe] << 16 | (guint32)cfg[pos + 0xf] << 24;
    guint16 lnksta = cfg[pos + 0x12] | cfg[pos + 0x13] << 8;
    def->pci.pcie_link = true;
    def->pci.link_cap_port = lnkcap >> 24;
    def->pci.link_cap_speed = lnkcap & 0xf;
    def->pci.link_cap_width = (lnkcap & 0x3f0) >> 4;
    def->pci.link_sta_speed = lnksta & 0xf;
    def->pci.link_sta_width = (lnksta & 0x3f0) >> 4;
}

static VrtNodedevDef *
pci_def(VrtNodedevDriver *drv, const VrtPciAddr *addr, GError **error)
{
    g_autoptr(VrtNodedevDef) def = vrt_nodedev_def_new(VRT_NODEDEV_CAP_PCI);
    g_autofree char *link = vrt_pci_sysfs_path(addr, NULL);
    g_autofree char *target = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *numa = NULL;
    g_autofree char *numa_path = vrt_pci_sysfs_path(addr, "numa_node");
    VrtHost *h = drv->host;
    VrtPciAddr pf;
    guint index;
    int rc;

    if (!(target = vrt_host_readlink(h, link, error)))
        return NULL;
    def->name = vrt_pci_addr_nodedev_name(addr);
    def->path = sysfs_canon(target);
    dir = g_path_get_dirname(def->path);
    def->parent = parent_name_of(dir);
    if (!vrt_pci_get_driver(h, addr, &def->driver, error))
        return NULL;
    def->pci.addr = *addr;
    def->pci.klass = read_hex(h, addr, "class", G_MAXUINT);
    def->pci.vendor_id = read_hex(h, addr, "vendor", 0);
    def->pci.product_id = read_hex(h, addr, "device", 0);
    {
        g_autofree char *vkey = g_strdup_printf("%04x", def->pci.vendor_id);
        g_autofree char *pkey = g_strdup_printf("%04x:%04x", def->pci.vendor_id, def->pci.product_id);
        def->pci.vendor_name = g_strdup(g_hash_table_lookup(drv->ids, vkey));
        def->pci.product_name = g_strdup(g_hash_table_lookup(drv->ids, pkey));
    }
    if ((rc = vrt_sriov_get_pf(h, addr, &pf, &index, error)) < 0)
        return NULL;
    if (rc) {
        def->pci.is_vf = true;
        def->pci.pf = pf;
    }
    {
        g_autofree char *tot = vrt_pci_sysfs_path(addr, "sriov_totalvfs");
        if (vrt_host_exists(h, tot)) {
            g_autoptr(GPtrArray) vfs = NULL;
            int total = vrt_sriov_get_totalvfs(h, addr, error);
            if (total < 0 || !(vfs = vrt_sriov_list_vfs(h, addr, error)))
                return NULL;
            def->pci.is_pf = true;
            def->pci.max_vfs = total;
            for (guint i = 0; i < vfs->len; i++)
                g_array_append_vals(def->pci.vfs, vfs->pdata[i], 1);
        }
    }
    {
        g_autoptr(GError) err = NULL;
        int group = vrt_pci_get_iommu_group(h, addr, &err);
        if (group >= 0) {
            g_autoptr(GPtrArray) members = vrt_pci_iommu_group_devices(h, group, error);
            if (!members)
                return NULL;
            def->pci.iommu_group = group;
            for (guint i = 0; i < members->len; i++)
                g_array_append_vals(def->pci.iommu_addrs, members->pdata[i], 1);
        }
    }
    if ((numa = read_opt(h, numa_path)))
        def->pci.numa_node = (int)g_ascii_strtoll(numa, NULL, 10);
    pci_config_facts(h, addr, def);
    return g_steal_pointer(&def);
}

static VrtNodedevDef *
net_def(VrtNodedevDriver *drv, const char *ifname, GError **error)
{
    g_autoptr(VrtNodedevDef) def = vrt_nodedev_def_new(VRT_NODEDEV_CAP_NET);
    g_autofree char *link = g_strdup_printf("/sys/class/net/%s", ifname);
    g_autofree char *target = NULL;
    g_autofree char *speed = NULL;
    VrtHost *h = drv->host;

    if (!(target = vrt_host_readlink(h, link, error)))
        return NULL;
    def->path = sysfs_canon(target);
    def->net.ifname = g_strdup(ifname);
    def->net.mac = net_attr(h, ifname, "address");
    def->name = net_name(ifname, def->net.mac);
    /* no <driver>: libvirt gives the interface's own driver, which a
     * network class device never has (its PCI function has one) */
    def->net.link_state = net_attr(h, ifname, "operstate");
    if (def->net.link_state &&
        !g_strv_contains((const char *const[]){ "unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant",
                                                "up", NULL },
                         def->net.link_state))
        g_clear_pointer(&def->net.link_state, g_free);
    /* libvirt reads the speed of a link that is up only (drivers report
     * nonsense otherwise), and takes the kernel's -1 ("unknown", a virtio
     * NIC's) as the unsigned number it is: 4294967295. */
    if (g_strcmp0(def->net.link_state, "up") == 0 && (speed = net_attr(h, ifname, "speed"))) {
        gint64 s = g_ascii_strtoll(speed, NULL, 10);
        def->net.speed = s == -1 ? G_MAXUINT : s > 0 && s < G_MAXUINT ? (guint)s : 0;
    }
    {
        g_autoptr(GPtrArray) feats = vrt_host_net_features(h, ifname);
        if (feats->len) {
            g_ptr_array_add(feats, NULL);
            def->net.features = (GStrv)g_ptr_array_steal(feats, NULL);
        }
    }
    {
        /* .../<pci address>/net/<ifname>: the PCI function owns it */
        g_autofree char *netdir = g_path_get_dirname(def->path);
        g_autofree char *owner = g_path_get_dirname(netdir);
        def->parent = parent_name_of(owner);
    }
    return g_steal_pointer(&def);
}

/* ---- block devices ---- */

/* A property of a block device from udev's database (E:KEY=VALUE lines
 * of /run/udev/data/bMAJ:MIN), NULL when udev has none (no udev runs). */
static char *
udev_prop(VrtHost *h, const char *blk, const char *key)
{
    g_autofree char *devpath = g_strdup_printf("/sys/class/block/%s/dev", blk);
    g_autofree char *dev = read_opt(h, devpath);
    if (!dev)
        return NULL;
    g_autofree char *dbpath = g_strdup_printf("/run/udev/data/b%s", g_strstrip(dev));
    g_autofree char *db = read_opt(h, dbpath);
    g_autofree char *prefix = g_strdup_printf("E:%s=", key);
    if (!db)
        return NULL;
    g_auto(GStrv) lines = g_strsplit(db, "\n", -1);
    for (guint i = 0; lines[i]; i++)
        if (g_str_has_prefix(lines[i], prefix))
            return g_strdup(lines[i] + strlen(prefix));
    return NULL;
}

/* libvirt's drive type of a block device: udev's ID_TYPE, its floppy,
 * CD or SD markers, else a guess by device node (virtio and NVMe disks,
 * DASDs); NULL when libvirt would not list it (a loop or RAM device). */
static char *
block_drive_type(VrtHost *h, const char *blk)
{
    char *type = udev_prop(h, blk, "ID_TYPE");
    static const struct {
        const char *prop, *type;
    } props[] = { { "ID_DRIVE_FLOPPY", "floppy" }, { "ID_CDROM", "cd" }, { "ID_DRIVE_FLASH_SD", "sd" } };
    static const struct {
        const char *prefix, *type;
    } guesses[] = { { "vd", "disk" }, { "dasd", "dasd" }, { "nvme", "disk" } };
    if (type && strcmp(type, "generic") != 0)
        return type;
    g_free(type);
    for (gsize i = 0; i < G_N_ELEMENTS(props); i++) {
        g_autofree char *v = udev_prop(h, blk, props[i].prop);
        if (v)
            return g_strdup(props[i].type);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(guesses); i++)
        if (g_str_has_prefix(blk, guesses[i].prefix))
            return g_strdup(guesses[i].type);
    return NULL;
}

/* libvirt's name of a block device: block_<dev>[_<serial>], characters
 * other than letters, digits and '_' as '_'. */
static char *
block_name(VrtHost *h, const char *blk)
{
    g_autofree char *serial = udev_prop(h, blk, "ID_SERIAL");
    char *name = serial ? g_strdup_printf("block_%s_%s", blk, serial) : g_strdup_printf("block_%s", blk);
    for (char *p = name; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '_')
            *p = '_';
    return name;
}

/* Whether vrt lists this block device: a disk by libvirt's drive type
 * (CD, floppy, SD and DASD drives, whose removable media libvirt
 * describes, are not listed yet). */
static bool
block_listed(VrtHost *h, const char *blk)
{
    g_autofree char *type = block_drive_type(h, blk);
    return type && strcmp(type, "disk") == 0;
}

static guint64
block_u64(VrtHost *h, const char *blk, const char *attr)
{
    g_autofree char *path = g_strdup_printf("/sys/class/block/%s/%s", blk, attr);
    guint64 v = 0;
    if (!vrt_host_exists(h, path) || !vrt_host_read_u64(h, path, &v, NULL))
        return 0;
    return v;
}

static VrtNodedevDef *
block_def(VrtNodedevDriver *drv, const char *blk, GError **error)
{
    g_autoptr(VrtNodedevDef) def = vrt_nodedev_def_new(VRT_NODEDEV_CAP_STORAGE);
    g_autofree char *link = g_strdup_printf("/sys/class/block/%s", blk);
    g_autofree char *target = NULL;
    VrtHost *h = drv->host;

    if (!(target = vrt_host_readlink(h, link, error)))
        return NULL;
    def->name = block_name(h, blk);
    def->path = sysfs_canon(target);
    def->devnode = g_strdup_printf("/dev/%s", blk);
    {
        /* a partition's parent is its disk; a disk's the device above
         * its block/ directory */
        g_autofree char *up = g_path_get_dirname(def->path);
        g_autofree char *upname = g_path_get_basename(up);
        g_autofree char *uplink = g_strdup_printf("/sys/class/block/%s", upname);
        if (g_strcmp0(upname, "block") != 0 && vrt_host_exists(h, uplink)) {
            def->parent = block_name(h, upname);
        } else {
            g_autofree char *owner = g_path_get_dirname(up);
            def->parent = parent_name_of(owner);
        }
    }
    def->storage.block = g_strdup(def->devnode);
    def->storage.bus = udev_prop(h, blk, "ID_BUS");
    def->storage.serial = udev_prop(h, blk, "ID_SERIAL");
    def->storage.drive_type = block_drive_type(h, blk);
    {
        g_autofree char *vpath = g_strdup_printf("/sys/class/block/%s/device/vendor", blk);
        g_autofree char *mpath = g_strdup_printf("/sys/class/block/%s/device/model", blk);
        def->storage.vendor = read_opt(h, vpath);
        def->storage.model = read_opt(h, mpath);
        if (def->storage.vendor)
            g_strstrip(def->storage.vendor);
        if (def->storage.model)
            g_strstrip(def->storage.model);
    }
    /* libvirt's arithmetic: "size" (in 512-byte sectors) taken as the
     * number of blocks, times the logical block size */
    def->storage.num_blocks = block_u64(h, blk, "size");
    def->storage.logical_block_size = block_u64(h, blk, "queue/logical_block_size");
    def->storage.size = def->storage.num_blocks * def->storage.logical_block_size;
    return g_steal_pointer(&def);
}

/* ---- listing ---- */

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *
pci_addrs(VrtNodedevDriver *drv, GError **error)
{
    return vrt_host_list_dir(drv->host, "/sys/bus/pci/devices", error);
}

static GPtrArray *
names_with(VrtNodedevDriver *drv, bool system, bool pci, bool net, bool storage, GError **error)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

    if (system)
        g_ptr_array_add(names, g_strdup(VRT_NODEDEV_COMPUTER));
    if (pci) {
        g_autoptr(GPtrArray) addrs = pci_addrs(drv, error);
        if (!addrs)
            return NULL;
        for (guint i = 0; i < addrs->len; i++) {
            VrtPciAddr a;
            if (vrt_pci_addr_parse(addrs->pdata[i], &a, NULL))
                g_ptr_array_add(names, vrt_pci_addr_nodedev_name(&a));
        }
    }
    if (net) {
        g_autoptr(GPtrArray) ifs = vrt_host_list_dir(drv->host, "/sys/class/net", error);
        if (!ifs)
            return NULL;
        for (guint i = 0; i < ifs->len; i++)
            g_ptr_array_add(names, net_ifname_name(drv->host, ifs->pdata[i]));
    }
    if (storage && vrt_host_exists(drv->host, "/sys/class/block")) {
        g_autoptr(GPtrArray) blks = vrt_host_list_dir(drv->host, "/sys/class/block", error);
        if (!blks)
            return NULL;
        for (guint i = 0; i < blks->len; i++)
            if (block_listed(drv->host, blks->pdata[i]))
                g_ptr_array_add(names, block_name(drv->host, blks->pdata[i]));
    }
    g_ptr_array_sort(names, cmp_str);
    return g_steal_pointer(&names);
}

static bool
cap_wanted(const char *cap, const char *name)
{
    return !cap || strcmp(cap, name) == 0;
}

GPtrArray *
vrt_nodedev_drv_list_names(VrtNodedevDriver *drv, const char *cap, GError **error)
{
    return names_with(drv, cap_wanted(cap, "system"), cap_wanted(cap, "pci"), cap_wanted(cap, "net"),
                      cap_wanted(cap, "storage"), error);
}

GPtrArray *
vrt_nodedev_drv_list(VrtNodedevDriver *drv, guint flags, GError **error)
{
    const guint caps = flags & ~(VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE | VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE);
    const guint state = flags & (VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE | VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE);

    /* every device vrt reports exists on the host, so none is inactive */
    if (state == VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE)
        return g_ptr_array_new_with_free_func(g_free);
    if (!caps)
        return names_with(drv, true, true, true, true, error);
    return names_with(drv, caps & VIR_CONNECT_LIST_NODE_DEVICES_CAP_SYSTEM,
                      caps & VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV, caps & VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET,
                      caps & VIR_CONNECT_LIST_NODE_DEVICES_CAP_STORAGE, error);
}

int
vrt_nodedev_drv_count(VrtNodedevDriver *drv, const char *cap, GError **error)
{
    g_autoptr(GPtrArray) names = vrt_nodedev_drv_list_names(drv, cap, error);
    return names ? (int)names->len : -1;
}

static void
no_device(GError **error, const char *name)
{
    vrt_error_set(error, VIR_ERR_NO_NODE_DEVICE, "no node device with matching name '%s'", name);
}

VrtNodedevDef *
vrt_nodedev_drv_get_def(VrtNodedevDriver *drv, const char *name, GError **error)
{
    VrtPciAddr addr;

    if (!name) {
        no_device(error, "");
        return NULL;
    }
    if (strcmp(name, VRT_NODEDEV_COMPUTER) == 0)
        return system_def(drv);
    if (vrt_pci_addr_parse_nodedev_name(name, &addr)) {
        if (!vrt_pci_exists(drv->host, &addr)) {
            no_device(error, name);
            return NULL;
        }
        return pci_def(drv, &addr, error);
    }
    if (g_str_has_prefix(name, "net_")) {
        g_autoptr(GPtrArray) ifs = vrt_host_list_dir(drv->host, "/sys/class/net", error);
        if (!ifs)
            return NULL;
        for (guint i = 0; i < ifs->len; i++) {
            g_autofree char *n = net_ifname_name(drv->host, ifs->pdata[i]);
            if (strcmp(n, name) == 0)
                return net_def(drv, ifs->pdata[i], error);
        }
    }
    if (g_str_has_prefix(name, "block_") && vrt_host_exists(drv->host, "/sys/class/block")) {
        g_autoptr(GPtrArray) blks = vrt_host_list_dir(drv->host, "/sys/class/block", error);
        if (!blks)
            return NULL;
        for (guint i = 0; i < blks->len; i++) {
            if (!block_listed(drv->host, blks->pdata[i]))
                continue;
            g_autofree char *n = block_name(drv->host, blks->pdata[i]);
            if (strcmp(n, name) == 0)
                return block_def(drv, blks->pdata[i], error);
        }
    }
    no_device(error, name);
    return NULL;
}

bool
vrt_nodedev_drv_exists(VrtNodedevDriver *drv, const char *name, GError **error)
{
    g_autoptr(VrtNodedevDef) def = vrt_nodedev_drv_get_def(drv, name, error);
    return def != NULL;
}

char *
vrt_nodedev_drv_get_xml(VrtNodedevDriver *drv, const char *name, GError **error)
{
    g_autoptr(VrtNodedevDef) def = vrt_nodedev_drv_get_def(drv, name, error);
    return def ? vrt_nodedev_def_format(def) : NULL;
}

char *
vrt_nodedev_drv_get_parent(VrtNodedevDriver *drv, const char *name, GError **error)
{
    g_autoptr(VrtNodedevDef) def = vrt_nodedev_drv_get_def(drv, name, error);

    if (!def)
        return NULL;
    if (!def->parent) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "no parent for node device '%s'", name);
        return NULL;
    }
    return g_steal_pointer(&def->parent);
}

GPtrArray *
vrt_nodedev_drv_list_caps(VrtNodedevDriver *drv, const char *name, GError **error)
{
    g_autoptr(VrtNodedevDef) def = vrt_nodedev_drv_get_def(drv, name, error);
    GPtrArray *caps;

    if (!def)
        return NULL;
    caps = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(caps, g_strdup(vrt_nodedev_cap_type_to_string(def->type)));
    return caps;
}

/* ---- detach / reattach / reset ---- */

/* The PCI address behind a node device name, with libvirt's errors. */
static bool
pci_of(VrtNodedevDriver *drv, const char *name, VrtPciAddr *addr, GError **error)
{
    g_autoptr(VrtNodedevDef) def = vrt_nodedev_drv_get_def(drv, name, error);

    if (!def)
        return false;
    if (def->type != VRT_NODEDEV_CAP_PCI || !vrt_pci_addr_parse_nodedev_name(name, addr)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "device '%s' is not a PCI device", name);
        return false;
    }
    return true;
}

/* The device, claimed in the registry for one node device operation
 * (what): the check that nobody else uses it and the taking of it are one
 * step, so no domain or port takes it while the operation runs. Released
 * by claim_clear at the end of the caller's scope. */
typedef struct {
    VrtNodedevDriver *drv; /* NULL: nothing claimed */
    VrtPciAddr addr;
    VrtVfHolder *holder;
} Claim;

static void
claim_clear(Claim *c)
{
    if (c->drv && c->drv->vfs)
        vrt_vf_registry_release(c->drv->vfs, &c->addr, c->holder);
    g_clear_pointer(&c->holder, vrt_vf_holder_free);
    c->drv = NULL;
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Claim, claim_clear)

static bool
claim_device(VrtNodedevDriver *drv, Claim *c, const VrtPciAddr *addr, const char *what, GError **error)
{
    g_autofree char *s = vrt_pci_addr_format(addr);
    g_autoptr(VrtVfHolder) holder = vrt_vf_holder_new_nodedev(what);
    g_autoptr(VrtVfHolder) other = NULL;
    g_autoptr(GError) err = NULL;

    if (drv->vfs && !vrt_vf_registry_claim(drv->vfs, addr, holder, &other, &err)) {
        if (other && other->domain)
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s is in use by domain '%s'", s, other->domain);
        else
            g_propagate_error(error, g_steal_pointer(&err));
        return false;
    }
    c->drv = drv;
    c->addr = *addr;
    c->holder = g_steal_pointer(&holder);
    return true;
}

bool
vrt_nodedev_drv_detach(VrtNodedevDriver *drv, const char *name, const char *driver_name, GError **error)
{
    g_autofree char *orig = NULL;
    g_auto(Claim) claim = { 0 };
    VrtPciAddr addr;

    if (driver_name && *driver_name && strcmp(driver_name, VRT_NODEDEV_VFIO_NAME) != 0) {
        if (strcmp(driver_name, "kvm") == 0 || strcmp(driver_name, "xen") == 0)
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "device assignment through '%s' is not supported; use vfio", driver_name);
        else
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown driver name '%s'", driver_name);
        return false;
    }
    if (!pci_of(drv, name, &addr, error) || !claim_device(drv, &claim, &addr, "detach", error))
        return false;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    if (!vrt_pci_detach(drv->host, &addr, &orig, error))
        return false;
    if (orig)
        g_hash_table_insert(drv->orig_drivers, vrt_pci_addr_format(&addr), g_steal_pointer(&orig));
    return true;
}

/* The host driver for VFs of addr's PF, when addr is a VF and it is known. */
static char *
vf_host_driver(VrtHost *host, const VrtPciAddr *addr)
{
    g_autofree char *pf_driver = NULL;
    VrtPciAddr pf;
    guint index;

    if (vrt_sriov_get_pf(host, addr, &pf, &index, NULL) != 1 || !vrt_pci_get_driver(host, &pf, &pf_driver, NULL))
        return NULL;
    return g_strdup(vrt_sriov_vf_driver_for(pf_driver));
}

bool
vrt_nodedev_drv_reattach(VrtNodedevDriver *drv, const char *name, GError **error)
{
    g_autofree char *key = NULL;
    g_autofree char *orig = NULL;
    g_auto(Claim) claim = { 0 };
    VrtPciAddr addr;

    if (!pci_of(drv, name, &addr, error) || !claim_device(drv, &claim, &addr, "reattach", error))
        return false;
    key = vrt_pci_addr_format(&addr);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    /* the driver it had before our detach, else a VF's host VF driver, else
     * the kernel's choice */
    orig = g_strdup(g_hash_table_lookup(drv->orig_drivers, key));
    if (!orig)
        orig = vf_host_driver(drv->host, &addr);
    if (!vrt_pci_reattach(drv->host, &addr, orig, error))
        return false;
    g_hash_table_remove(drv->orig_drivers, key);
    return true;
}

bool
vrt_nodedev_drv_reset(VrtNodedevDriver *drv, const char *name, GError **error)
{
    g_auto(Claim) claim = { 0 };
    VrtPciAddr addr;

    if (!pci_of(drv, name, &addr, error) || !claim_device(drv, &claim, &addr, "reset", error))
        return false;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    return vrt_pci_reset(drv->host, &addr, error);
}
