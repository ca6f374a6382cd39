/*
 * Golden-file hotplug tests: each directory under tests/golden/hotplug is
 * one case (format in tests/golden/README.md). A case gives the running
 * domain (domain.xml), optionally a hostdev pool (network.xml), the device
 * (device.xml), the operations (case) and the QMP conversation
 * (qmp.script); the runner drives the real QEMU and network drivers over a
 * simulated SR-IOV host made of plain files and links (no FUSE: the host
 * seam's write function plays the kernel, a thread here plays rtnetlink)
 * and a scripted QMP peer (no QEMU: a placeholder process stands in for
 * QEMU's pid), then compares the live XML, the status file, the host and
 * the error of each operation with the case's expected-* files.
 * VRT_GOLDEN_UPDATE=1 writes those files instead.
 *
 * A daemon "killed at a step" is a child process of this program run with
 * VRT_FAULT_DIE_AT, the driver's own fault hook; the recovery then runs on
 * a fresh driver over the same state directory, as a restarted vrtd would.
 */
#include "drivers/network/network_driver.h"
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/vf_registry.h"
#include "host/host.h"
#include "host/netlink.h"
#include "host/pci.h"
#include "host/sriov.h"
#include "util/error.h"
#include "util/fileutil.h"
#include "util/mac.h"
#include "util/proc.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

/* The simulated host: PF 0000:06:00.0 (ens1f0, ixgbe) with VFs
 * 0000:06:10.0-3 (ixgbevf, ens1f0v0-3, down, no addresses). */
#define PF_ADDR "0000:06:00.0"
#define PF_IFNAME "ens1f0"
#define N_VFS 4
#define PF_DEVICE_ID "0x10fb"
#define VF_DEVICE_ID "0x10ed"
#define NETLINK_SOCK "run/vrt-golden/netlink.sock"
/* Bounds on waits that only a broken case reaches: it then fails or stops
 * waiting; a working case never comes near them. */
#define WAIT_EVENT_MS 30000
#define POLL_MS 30000
/* The driver's wait for the guest in a case whose guest never answers a
 * device_del before the detach returns (see guest_silent): that wait ends
 * by its timeout whatever its length, so it need not last libvirt's 5 s.
 * Every other case keeps the driver's default. */
#define SILENT_UNPLUG_WAIT_MS 100

static const char *self_exe;

/* ---- the case ---- */

typedef enum {
    OP_ATTACH,
    OP_DETACH,
    OP_RELEASE, /* the guest lets go now: the script passes its next @release */
    OP_RESTART, /* the daemon stops and starts again */
} OpKind;

typedef struct {
    OpKind kind;
    guint line;
    guint flags; /* VRT_DOMAIN_AFFECT_* */
    char *xml; /* the device (device.xml, or xml=FILE) */
    char *die_at; /* VRT_FAULT_DIE_AT for this operation: run in a child */
    char *alias; /* release */
} Op;

static void
op_free(Op *op)
{
    g_free(op->xml);
    g_free(op->die_at);
    g_free(op->alias);
    g_free(op);
}

typedef enum {
    L_CONNECT,
    L_EXPECT, /* > : execute and arguments equal */
    L_EXPECT_SUBSET, /* >~ : the arguments given are there with these values */
    L_REPLY,
    L_EVENT,
    L_RELEASE,
} LineKind;

typedef struct {
    LineKind kind;
    guint line;
    JsonNode *json;
} ScriptLine;

static void
script_line_free(ScriptLine *l)
{
    if (l->json)
        json_node_unref(l->json);
    g_free(l);
}

typedef struct {
    char *name;
    char *dir;
    char *domain_xml;
    char *network_xml; /* NULL: no pool */
    GPtrArray *ops; /* Op* */
    GPtrArray *script; /* ScriptLine* */
    bool config; /* an operation changes the persistent definition */
    /* No DEVICE_DELETED in the script answers a device_del without an
     * @release between them: every detach's wait for the guest times out. */
    bool guest_silent;
} Case;

static void
case_free(Case *c)
{
    g_free(c->name);
    g_free(c->dir);
    g_free(c->domain_xml);
    g_free(c->network_xml);
    g_clear_pointer(&c->ops, g_ptr_array_unref);
    g_clear_pointer(&c->script, g_ptr_array_unref);
    g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Case, case_free)

static char *
case_file(const Case *c, const char *name)
{
    return g_build_filename(c->dir, name, NULL);
}

static char *
read_case_file(const Case *c, const char *name, bool required, GError **error)
{
    g_autofree char *path = case_file(c, name);
    char *text = NULL;

    if (!required && !g_file_test(path, G_FILE_TEST_EXISTS))
        return NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return NULL;
    return text;
}

static bool
parse_op(Case *c, const char *line, guint lineno, GError **error)
{
    g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
    g_autoptr(GError) err = NULL;
    Op *op = g_new0(Op, 1);
    const char *xml_file = "device.xml";
    guint n = 0;

    op->line = lineno;
    for (guint i = 0; words[i]; i++) {
        const char *w = words[i];

        if (!*w)
            continue;
        if (n++ == 0) {
            if (g_str_equal(w, "attach"))
                op->kind = OP_ATTACH;
            else if (g_str_equal(w, "detach"))
                op->kind = OP_DETACH;
            else if (g_str_equal(w, "release"))
                op->kind = OP_RELEASE;
            else if (g_str_equal(w, "restart"))
                op->kind = OP_RESTART;
            else
                goto bad;
        } else if (g_str_equal(w, "live")) {
            op->flags |= VRT_DOMAIN_AFFECT_LIVE;
        } else if (g_str_equal(w, "config")) {
            op->flags |= VRT_DOMAIN_AFFECT_CONFIG;
            c->config = true;
        } else if (g_str_has_prefix(w, "die-at=")) {
            op->die_at = g_strdup(w + strlen("die-at="));
        } else if (g_str_has_prefix(w, "xml=")) {
            xml_file = w + strlen("xml=");
        } else if (op->kind == OP_RELEASE && !op->alias) {
            op->alias = g_strdup(w);
        } else {
            goto bad;
        }
    }
    if ((op->kind == OP_RELEASE) != (op->alias != NULL))
        goto bad;
    if (op->kind == OP_ATTACH || op->kind == OP_DETACH) {
        op->xml = read_case_file(c, xml_file, true, &err);
        if (!op->xml) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "case:%u: %s", lineno, err->message);
            op_free(op);
            return false;
        }
    }
    g_ptr_array_add(c->ops, op);
    return true;
bad:
    op_free(op);
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "case:%u: '%s': want attach|detach [live] [config] [die-at=JOB:STEP] [xml=FILE], release ALIAS "
                "or restart",
                lineno, line);
    return false;
}

static bool
parse_script(Case *c, const char *text, GError **error)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        g_autofree char *line = g_strstrip(g_strdup(lines[i]));
        g_autoptr(JsonParser) parser = NULL;
        g_autoptr(GError) err = NULL;
        ScriptLine *sl;
        const char *json;

        if (!*line || line[0] == '#')
            continue;
        sl = g_new0(ScriptLine, 1);
        sl->line = i + 1;
        if (g_str_equal(line, "@connect")) {
            sl->kind = L_CONNECT;
        } else if (g_str_equal(line, "@release")) {
            sl->kind = L_RELEASE;
        } else if (g_str_has_prefix(line, ">~") || strchr("><!", line[0])) {
            sl->kind = g_str_has_prefix(line, ">~") ? L_EXPECT_SUBSET
                       : line[0] == '>'             ? L_EXPECT
                       : line[0] == '<'             ? L_REPLY
                                                    : L_EVENT;
            json = line + (sl->kind == L_EXPECT_SUBSET ? 2 : 1);
            parser = json_parser_new();
            if (!json_parser_load_from_data(parser, json, -1, &err) ||
                !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "qmp.script:%u: not a JSON object: %s", sl->line,
                            err ? err->message : json);
                script_line_free(sl);
                return false;
            }
            sl->json = json_node_copy(json_parser_get_root(parser));
        } else {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                        "qmp.script:%u: a line is @connect, @release, > JSON, >~ JSON, < JSON or ! JSON", i + 1);
            script_line_free(sl);
            return false;
        }
        g_ptr_array_add(c->script, sl);
    }
    return true;
}

/* Whether every DEVICE_DELETED of the script waits for an @release after
 * the device_del it answers (or there is none): then the guest never
 * answers while a detach waits, which ends by the driver's timeout. */
static bool
script_guest_silent(GPtrArray *script)
{
    bool released = true;

    for (guint i = 0; i < script->len; i++) {
        const ScriptLine *sl = g_ptr_array_index(script, i);
        JsonObject *o = sl->json ? json_node_get_object(sl->json) : NULL;

        if (sl->kind == L_RELEASE)
            released = true;
        else if ((sl->kind == L_EXPECT || sl->kind == L_EXPECT_SUBSET) && json_object_has_member(o, "execute") &&
                 g_str_equal(json_object_get_string_member(o, "execute"), "device_del"))
            released = false;
        else if (sl->kind == L_EVENT && json_object_has_member(o, "event") &&
                 g_str_equal(json_object_get_string_member(o, "event"), "DEVICE_DELETED") && !released)
            return false;
    }
    return true;
}

static Case *
case_load(const char *dir, GError **error)
{
    g_autoptr(Case) c = g_new0(Case, 1);
    g_autofree char *ops = NULL;
    g_autofree char *script = NULL;
    g_auto(GStrv) lines = NULL;

    c->dir = g_strdup(dir);
    c->name = g_path_get_basename(dir);
    c->ops = g_ptr_array_new_with_free_func((GDestroyNotify)op_free);
    c->script = g_ptr_array_new_with_free_func((GDestroyNotify)script_line_free);
    if (!(c->domain_xml = read_case_file(c, "domain.xml", true, error)) ||
        !(ops = read_case_file(c, "case", true, error)) || !(script = read_case_file(c, "qmp.script", true, error)))
        return NULL;
    c->network_xml = read_case_file(c, "network.xml", false, NULL);
    lines = g_strsplit(ops, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_autofree char *line = g_strstrip(g_strdup(lines[i]));

        if (*line && line[0] != '#' && !parse_op(c, line, i + 1, error))
            return NULL;
    }
    if (!parse_script(c, script, error))
        return NULL;
    c->guest_silent = script_guest_silent(c->script);
    return g_steal_pointer(&c);
}

/* ---- the simulated host: sysfs as plain files, the kernel's reactions ---- */

static char *
sys_path(const char *root, const char *host_path)
{
    return g_strconcat(root, host_path, NULL);
}

static char *
dev_path(const char *root, const char *addr, const char *attr)
{
    return g_strdup_printf("%s/sys/bus/pci/devices/%s%s%s", root, addr, attr ? "/" : "", attr ? attr : "");
}

static void
put(const char *path, const char *text)
{
    g_autoptr(GError) err = NULL;

    if (!g_file_set_contents(path, text, -1, &err))
        g_error("%s", err->message);
}

static void
mkdirs(const char *path)
{
    if (g_mkdir_with_parents(path, 0755) < 0)
        g_error("cannot make %s: %s", path, g_strerror(errno));
}

static void
link_to(const char *target, const char *path)
{
    if (symlink(target, path) < 0)
        g_error("cannot link %s -> %s: %s", path, target, g_strerror(errno));
}

/* Last component of a link's target, NULL when there is no link. */
static char *
link_base(const char *path)
{
    g_autofree char *target = g_file_read_link(path, NULL);

    return target ? g_path_get_basename(target) : NULL;
}

static char *
read_attr(const char *path)
{
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return g_strstrip(text);
}

/* A net device for a function bound to its net driver (the netdev name
 * and ifindex are kept in the device's .golden-netdev file). */
static void
add_netdev(const char *root, const char *addr)
{
    g_autofree char *spec_path = dev_path(root, addr, ".golden-netdev");
    g_autofree char *spec = read_attr(spec_path);
    g_auto(GStrv) parts = g_strsplit(spec ? spec : "", " ", 3);
    g_autofree char *dir = NULL;
    g_autofree char *p = NULL;

    if (g_strv_length(parts) != 3)
        g_error("%s: want 'IFNAME IFINDEX MAC'", spec_path);
    dir = g_strdup_printf("%s/sys/bus/pci/devices/%s/net/%s", root, addr, parts[0]);
    mkdirs(dir);
    p = g_build_filename(dir, "flags", NULL);
    put(p, "0x1002\n"); /* broadcast, multicast, down */
    g_free(p);
    p = g_build_filename(dir, "ifindex", NULL);
    put(p, parts[1]);
    g_free(p);
    p = g_build_filename(dir, "address", NULL);
    put(p, parts[2]);
    g_free(p);
    p = g_build_filename(dir, "device", NULL);
    {
        g_autofree char *target = g_strdup_printf("../../../%s", addr);

        link_to(target, p);
    }
    g_free(p);
    p = g_strdup_printf("%s/sys/class/net/%s", root, parts[0]);
    {
        g_autofree char *target = g_strdup_printf("../../bus/pci/devices/%s/net/%s", addr, parts[0]);

        link_to(target, p);
    }
}

static void
remove_netdevs(const char *root, const char *addr)
{
    g_autofree char *net = dev_path(root, addr, "net");
    g_autoptr(GDir) d = g_dir_open(net, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *cls = g_strdup_printf("%s/sys/class/net/%s", root, name);
        g_autofree char *dir = g_build_filename(net, name, NULL);

        g_unlink(cls);
        vrt_test_remove_tree(dir);
    }
}

static void
kernel_bind(const char *root, const char *addr, const char *driver)
{
    g_autofree char *link = dev_path(root, addr, "driver");
    g_autofree char *target = g_strdup_printf("../../drivers/%s", driver);
    g_autofree char *back = g_strdup_printf("%s/sys/bus/pci/drivers/%s/%s", root, driver, addr);
    g_autofree char *back_target = g_strdup_printf("../../devices/%s", addr);

    link_to(target, link);
    link_to(back_target, back);
    if (g_str_equal(driver, "ixgbe") || g_str_equal(driver, "ixgbevf"))
        add_netdev(root, addr);
}

static void
kernel_unbind(const char *root, const char *addr, const char *driver)
{
    g_autofree char *link = dev_path(root, addr, "driver");
    g_autofree char *back = g_strdup_printf("%s/sys/bus/pci/drivers/%s/%s", root, driver, addr);

    remove_netdevs(root, addr);
    g_unlink(link);
    g_unlink(back);
}

/* The driver a probe of an unbound function picks: its override, else
 * the driver whose id table has it. */
static char *
probe_driver(const char *root, const char *addr)
{
    g_autofree char *ov_path = dev_path(root, addr, "driver_override");
    g_autofree char *id_path = dev_path(root, addr, "device");
    g_autofree char *ov = read_attr(ov_path);
    g_autofree char *id = read_attr(id_path);

    if (ov && *ov && !g_str_equal(ov, "(null)"))
        return g_steal_pointer(&ov);
    if (g_strcmp0(id, PF_DEVICE_ID) == 0)
        return g_strdup("ixgbe");
    if (g_strcmp0(id, VF_DEVICE_ID) == 0)
        return g_strdup("ixgbevf");
    return NULL;
}

static bool
kernel_error(GError **error, int errnum, const char *path, const char *value)
{
    vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errnum, "cannot write '%s' to '%s'", value, path);
    return false;
}

/* The host seam's write function: the change the kernel makes for a
 * write to path. data is the host root. */
static bool
kernel_write(const char *path, const char *value, gpointer data, GError **error)
{
    const char *root = data;
    g_autofree char *v = g_strstrip(g_strdup(value));
    g_autofree char *real = sys_path(root, path);
    g_autofree char *cur = NULL;
    g_autofree char *drv = NULL;
    g_autofree char *dev = NULL;
    g_autofree char *driver_dir = NULL;

    if (g_str_has_prefix(path, "/sys/bus/pci/devices/") && g_str_has_suffix(path, "/driver_override")) {
        g_autofree char *text = g_strdup_printf("%s\n", *v ? v : "(null)");

        if (!g_file_test(real, G_FILE_TEST_EXISTS))
            return kernel_error(error, ENOENT, path, value);
        put(real, text);
        return true;
    }
    if (g_str_has_prefix(path, "/sys/bus/pci/devices/") && g_str_has_suffix(path, "/reset"))
        return g_file_test(real, G_FILE_TEST_EXISTS) || kernel_error(error, ENOENT, path, value);
    dev = dev_path(root, v, NULL);
    if (g_str_equal(path, "/sys/bus/pci/drivers_probe")) {
        g_autofree char *link = dev_path(root, v, "driver");

        if (!g_file_test(dev, G_FILE_TEST_IS_DIR))
            return kernel_error(error, ENODEV, path, value);
        cur = link_base(link);
        drv = probe_driver(root, v);
        driver_dir = drv ? g_strdup_printf("%s/sys/bus/pci/drivers/%s", root, drv) : NULL;
        if (!cur && driver_dir && g_file_test(driver_dir, G_FILE_TEST_IS_DIR))
            kernel_bind(root, v, drv);
        return true;
    }
    if (g_str_has_prefix(path, "/sys/bus/pci/drivers/") &&
        (g_str_has_suffix(path, "/bind") || g_str_has_suffix(path, "/unbind"))) {
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *name = g_path_get_basename(dir);
        g_autofree char *link = dev_path(root, v, "driver");
        bool bind = g_str_has_suffix(path, "/bind");

        if (!g_file_test(dev, G_FILE_TEST_IS_DIR))
            return kernel_error(error, ENODEV, path, value);
        cur = link_base(link);
        if (!bind) {
            if (g_strcmp0(cur, name) != 0)
                return kernel_error(error, ENODEV, path, value);
            kernel_unbind(root, v, name);
            return true;
        }
        drv = probe_driver(root, v);
        if (cur)
            return kernel_error(error, EBUSY, path, value);
        if (g_strcmp0(drv, name) != 0)
            return kernel_error(error, ENODEV, path, value);
        kernel_bind(root, v, name);
        return true;
    }
    /* Any other attribute holds what was written. */
    if (!g_file_test(real, G_FILE_TEST_EXISTS))
        return kernel_error(error, ENOENT, path, value);
    put(real, value);
    return true;
}

static void
build_host(const char *root)
{
    const char *drivers[] = { "ixgbe", "ixgbevf", "vfio-pci" };
    g_autofree char *p = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(drivers); i++) {
        g_autofree char *dir = g_strdup_printf("%s/sys/bus/pci/drivers/%s", root, drivers[i]);
        g_autofree char *bind = g_build_filename(dir, "bind", NULL);
        g_autofree char *unbind = g_build_filename(dir, "unbind", NULL);

        mkdirs(dir);
        put(bind, "");
        put(unbind, "");
    }
    p = g_strdup_printf("%s/sys/bus/pci/drivers_probe", root);
    put(p, "");
    g_free(p);
    p = g_strdup_printf("%s/sys/class/net", root);
    mkdirs(p);
    g_free(p);
    p = g_strdup_printf("%s/run/vrt-golden", root);
    mkdirs(p);
    g_free(p);
    p = g_build_filename(root, ".vrt-hostsim", NULL);
    put(p, "netlink=" NETLINK_SOCK "\n");
    for (guint k = 0; k <= N_VFS; k++) {
        bool pf = k == 0;
        g_autofree char *addr = pf ? g_strdup(PF_ADDR) : g_strdup_printf("0000:06:10.%u", k - 1);
        g_autofree char *dir = dev_path(root, addr, NULL);
        g_autofree char *group = g_strdup_printf("%s/sys/kernel/iommu_groups/%u/devices", root, 20 + k);
        g_autofree char *glink = g_build_filename(group, addr, NULL);
        g_autofree char *gtarget = g_strdup_printf("../../../../bus/pci/devices/%s", addr);
        g_autofree char *ilink = g_build_filename(dir, "iommu_group", NULL);
        g_autofree char *itarget = g_strdup_printf("../../../../kernel/iommu_groups/%u", 20 + k);
        g_autofree char *netdev =
            pf ? g_strdup(PF_IFNAME " 2 00:1b:21:00:00:00")
               : g_strdup_printf(PF_IFNAME "v%u %u 02:00:00:00:00:%02x", k - 1, 10 + k - 1, k - 1);
        const struct {
            const char *name;
            const char *value;
        } attrs[] = {
            { "vendor", "0x8086\n" },  { "device", pf ? PF_DEVICE_ID "\n" : VF_DEVICE_ID "\n" },
            { "class", "0x020000\n" }, { "driver_override", "(null)\n" },
            { "reset", "" },           { ".golden-netdev", netdev },
        };

        mkdirs(dir);
        mkdirs(group);
        link_to(gtarget, glink);
        link_to(itarget, ilink);
        for (guint i = 0; i < G_N_ELEMENTS(attrs); i++) {
            g_autofree char *a = g_build_filename(dir, attrs[i].name, NULL);

            put(a, attrs[i].value);
        }
        if (pf) {
            g_autofree char *total = g_build_filename(dir, "sriov_totalvfs", NULL);
            g_autofree char *num = g_build_filename(dir, "sriov_numvfs", NULL);
            g_autofree char *n = g_strdup_printf("%u\n", N_VFS);

            put(total, "8\n");
            put(num, n);
            for (guint i = 0; i < N_VFS; i++) {
                g_autofree char *l = g_strdup_printf("%s/virtfn%u", dir, i);
                g_autofree char *t = g_strdup_printf("../0000:06:10.%u", i);

                link_to(t, l);
            }
        } else {
            g_autofree char *l = g_build_filename(dir, "physfn", NULL);

            link_to("../" PF_ADDR, l);
        }
        kernel_bind(root, addr, pf ? "ixgbe" : "ixgbevf");
    }
}

/* ---- rtnetlink of the simulated host (a thread of the runner) ---- */

typedef struct {
    GMutex lock;
    VrtVfInfo vfs[N_VFS];
    int listen_fd;
    int wake[2];
    GThread *thread;
} Netlink;

static void
nl_send(int fd, const void *data, gsize len)
{
    if (send(fd, data, len, MSG_NOSIGNAL) < 0)
        g_debug("netlink reply: %s", g_strerror(errno));
}

static void
nl_error(int fd, const struct nlmsghdr *req, int errnum)
{
    struct {
        struct nlmsghdr h;
        struct nlmsgerr e;
    } msg = { 0 };

    msg.h.nlmsg_len = sizeof(msg);
    msg.h.nlmsg_type = NLMSG_ERROR;
    msg.h.nlmsg_seq = req->nlmsg_seq;
    msg.e.error = -errnum;
    msg.e.msg = *req;
    nl_send(fd, &msg, sizeof(msg));
}

/* IFLA_IFNAME of an RTM_GETLINK request. */
static char *
getlink_ifname(const guint8 *buf, gsize len)
{
    gsize off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifinfomsg));

    while (off + sizeof(struct rtattr) <= len) {
        struct rtattr a;

        memcpy(&a, buf + off, sizeof(a));
        if (a.rta_len < sizeof(a) || off + a.rta_len > len)
            break;
        if (a.rta_type == IFLA_IFNAME)
            return g_strndup((const char *)buf + off + RTA_LENGTH(0), a.rta_len - RTA_LENGTH(0));
        off += RTA_ALIGN(a.rta_len);
    }
    return NULL;
}

static void
nl_handle(Netlink *nl, int fd, const guint8 *buf, gsize len)
{
    struct nlmsghdr h;

    if (len < sizeof(h))
        return;
    memcpy(&h, buf, sizeof(h));
    if (h.nlmsg_type == RTM_GETADDR) {
        struct {
            struct nlmsghdr h;
            int status;
        } done = { { sizeof(done), NLMSG_DONE, NLM_F_MULTI, h.nlmsg_seq, 0 }, 0 };

        nl_send(fd, &done, sizeof(done));
    } else if (h.nlmsg_type == RTM_GETLINK) {
        g_autofree char *ifname = getlink_ifname(buf, len);
        g_autoptr(GByteArray) reply = NULL;

        if (g_strcmp0(ifname, PF_IFNAME) != 0) {
            nl_error(fd, &h, ENODEV);
            return;
        }
        g_mutex_lock(&nl->lock);
        reply = vrt_netlink_encode_newlink(h.nlmsg_seq, ifname, nl->vfs, N_VFS);
        g_mutex_unlock(&nl->lock);
        nl_send(fd, reply->data, reply->len);
    } else if (h.nlmsg_type == RTM_SETLINK) {
        g_autofree char *ifname = NULL;
        g_autoptr(GError) err = NULL;
        VrtVfInfo info = { 0 };
        guint vf = 0, fields = 0;

        if (!vrt_netlink_decode_setlink_vf(buf, len, &ifname, &vf, &info, &fields, &err) ||
            g_strcmp0(ifname, PF_IFNAME) != 0 || vf >= N_VFS) {
            nl_error(fd, &h, err ? EINVAL : ENODEV);
            return;
        }
        g_mutex_lock(&nl->lock);
        if (fields & VRT_VF_FIELD_MAC)
            memcpy(nl->vfs[vf].mac, info.mac, VRT_MAC_LEN);
        if (fields & VRT_VF_FIELD_VLAN) {
            nl->vfs[vf].vlan = info.vlan;
            nl->vfs[vf].qos = info.qos;
        }
        if (fields & VRT_VF_FIELD_SPOOFCHK)
            nl->vfs[vf].spoofchk = info.spoofchk;
        if (fields & VRT_VF_FIELD_TRUST)
            nl->vfs[vf].trust = info.trust;
        g_mutex_unlock(&nl->lock);
        nl_error(fd, &h, 0);
    } else {
        nl_error(fd, &h, EOPNOTSUPP);
    }
}

/* One client at a time: vrt opens a socket per request. */
static gpointer
nl_run(gpointer data)
{
    Netlink *nl = data;

    for (;;) {
        struct pollfd pfd[2] = { { nl->listen_fd, POLLIN, 0 }, { nl->wake[0], POLLIN, 0 } };
        int fd;

        if (poll(pfd, 2, -1) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents)
            break;
        if (!(pfd[0].revents & POLLIN) || (fd = accept4(nl->listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
            continue;
        for (;;) {
            guint8 buf[65536];
            struct pollfd cp[2] = { { fd, POLLIN, 0 }, { nl->wake[0], POLLIN, 0 } };
            ssize_t n;

            if (poll(cp, 2, -1) < 0 && errno != EINTR)
                break;
            if (cp[1].revents)
                break;
            n = recv(fd, buf, sizeof(buf), 0);
            if (n <= 0)
                break;
            nl_handle(nl, fd, buf, (gsize)n);
        }
        close(fd);
    }
    return NULL;
}

static int
listen_unix(const char *path, int type)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

    if (strlen(path) >= sizeof(sa.sun_path))
        g_error("socket path too long: %s", path);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
        g_error("cannot listen on %s: %s", path, g_strerror(errno));
    return fd;
}

static Netlink *
netlink_start(const char *root)
{
    Netlink *nl = g_new0(Netlink, 1);
    g_autofree char *path = g_build_filename(root, NETLINK_SOCK, NULL);

    g_mutex_init(&nl->lock);
    for (guint i = 0; i < N_VFS; i++)
        nl->vfs[i].spoofchk = true;
    nl->listen_fd = listen_unix(path, SOCK_SEQPACKET);
    if (pipe2(nl->wake, O_CLOEXEC) < 0)
        g_error("pipe: %s", g_strerror(errno));
    nl->thread = g_thread_new("golden-netlink", nl_run, nl);
    return nl;
}

static void
netlink_stop(Netlink *nl)
{
    if (write(nl->wake[1], "x", 1) < 0)
        g_error("wake: %s", g_strerror(errno));
    g_thread_join(nl->thread);
    close(nl->listen_fd);
    close(nl->wake[0]);
    close(nl->wake[1]);
    g_mutex_clear(&nl->lock);
    g_free(nl);
}

/* ---- the scripted QMP peer (a thread of the runner) ---- */

typedef struct {
    GPtrArray *script; /* ScriptLine*, borrowed from the case */
    guint pos;
    int listen_fd;
    int conn;
    GString *in;
    int wake[2];
    GMutex lock;
    GCond cond;
    bool stop; /* guarded by lock */
    guint releases; /* guarded by lock: release operations so far */
    guint releases_seen; /* @release lines passed */
    GString *failures; /* guarded by lock */
    bool broken; /* a mismatch: every further command gets an error */
    char *last_id;
    GThread *thread;
} Qmp;

static void qmp_fail(Qmp *q, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
qmp_fail(Qmp *q, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_mutex_lock(&q->lock);
    g_string_append_printf(q->failures, "qmp.script: %s\n", msg);
    g_mutex_unlock(&q->lock);
    q->broken = true;
}

static char *
json_text(JsonNode *node)
{
    return json_to_string(node, FALSE);
}

static void
qmp_send_node(Qmp *q, JsonNode *node)
{
    g_autofree char *text = json_text(node);
    g_autofree char *line = g_strconcat(text, "\r\n", NULL);

    if (q->conn >= 0 && send(q->conn, line, strlen(line), MSG_NOSIGNAL) < 0)
        g_debug("qmp send: %s", g_strerror(errno));
}

static void
qmp_send_text(Qmp *q, const char *json)
{
    g_autoptr(JsonNode) node = json_from_string(json, NULL);

    qmp_send_node(q, node);
}

static void
qmp_greet(Qmp *q)
{
    qmp_send_text(q, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
                     "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}");
}

static void
qmp_close_conn(Qmp *q)
{
    if (q->conn >= 0)
        close(q->conn);
    q->conn = -1;
    g_string_truncate(q->in, 0);
}

static bool
qmp_stopping(Qmp *q)
{
    bool stop;

    g_mutex_lock(&q->lock);
    stop = q->stop;
    g_mutex_unlock(&q->lock);
    return stop;
}

typedef enum {
    EV_STOP,
    EV_CONNECT, /* a new connection was accepted (q->conn) */
    EV_MESSAGE, /* *msg set */
    EV_EOF, /* the connection closed */
} QmpEvent;

/* Waits for the next thing the driver does. */
static QmpEvent
qmp_next(Qmp *q, JsonObject **msg)
{
    for (;;) {
        char *nl;

        if (q->conn >= 0 && (nl = memchr(q->in->str, '\n', q->in->len))) {
            g_autofree char *line = g_strndup(q->in->str, nl - q->in->str);
            g_autoptr(JsonParser) parser = json_parser_new();

            g_string_erase(q->in, 0, nl - q->in->str + 1);
            if (!*g_strstrip(line))
                continue;
            if (!json_parser_load_from_data(parser, line, -1, NULL) ||
                !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
                qmp_fail(q, "the driver sent something that is no JSON object: %s", line);
                continue;
            }
            *msg = json_object_ref(json_node_get_object(json_parser_get_root(parser)));
            return EV_MESSAGE;
        }
        struct pollfd pfd[3] = { { q->wake[0], POLLIN, 0 }, { q->listen_fd, POLLIN, 0 }, { q->conn, POLLIN, 0 } };

        if (poll(pfd, q->conn >= 0 ? 3 : 2, POLL_MS) < 0 && errno != EINTR)
            return EV_STOP;
        if (pfd[0].revents) {
            char c;

            if (read(q->wake[0], &c, 1) < 0)
                return EV_STOP;
            if (qmp_stopping(q))
                return EV_STOP;
            continue;
        }
        if (q->conn >= 0 && pfd[2].revents) {
            char buf[4096];
            ssize_t n = recv(q->conn, buf, sizeof(buf), 0);

            if (n <= 0) {
                qmp_close_conn(q);
                return EV_EOF;
            }
            g_string_append_len(q->in, buf, n);
            continue;
        }
        if (pfd[1].revents & POLLIN) {
            int fd = accept4(q->listen_fd, NULL, NULL, SOCK_CLOEXEC);

            if (fd < 0)
                continue;
            qmp_close_conn(q);
            q->conn = fd;
            qmp_greet(q);
            return EV_CONNECT;
        }
    }
}

/* The expected command of line sl matches msg. */
static bool
qmp_matches(const ScriptLine *sl, JsonObject *msg)
{
    JsonObject *want = json_node_get_object(sl->json);
    const char *we = json_object_get_string_member_with_default(want, "execute", "");
    const char *ge = json_object_get_string_member_with_default(msg, "execute", "");
    JsonNode *wa = json_object_get_member(want, "arguments");
    JsonNode *ga = json_object_get_member(msg, "arguments");

    if (!g_str_equal(we, ge))
        return false;
    if (sl->kind == L_EXPECT)
        return (!wa && !ga) || (wa && ga && json_node_equal(wa, ga));
    if (!wa)
        return true;
    if (!ga || !JSON_NODE_HOLDS_OBJECT(wa) || !JSON_NODE_HOLDS_OBJECT(ga))
        return false;
    {
        g_autoptr(GList) members = json_object_get_members(json_node_get_object(wa));

        for (GList *l = members; l; l = l->next) {
            JsonNode *g = json_object_get_member(json_node_get_object(ga), l->data);

            if (!g || !json_node_equal(json_object_get_member(json_node_get_object(wa), l->data), g))
                return false;
        }
    }
    return true;
}

/* The command as the script would write it (no "id"). */
static char *
command_text(JsonObject *msg)
{
    g_autoptr(JsonObject) copy = json_object_new();
    g_autoptr(JsonNode) node = json_node_alloc();

    json_object_set_string_member(copy, "execute", json_object_get_string_member_with_default(msg, "execute", ""));
    if (json_object_has_member(msg, "arguments"))
        json_object_set_member(copy, "arguments", json_node_copy(json_object_get_member(msg, "arguments")));
    json_node_init_object(node, copy);
    return json_text(node);
}

static void
qmp_reply_error(Qmp *q, JsonObject *msg)
{
    g_autoptr(JsonObject) reply = json_object_new();
    g_autoptr(JsonObject) err = json_object_new();
    g_autoptr(JsonNode) node = json_node_alloc();

    json_object_set_string_member(err, "class", "GenericError");
    json_object_set_string_member(err, "desc", "not in the golden script");
    json_object_set_object_member(reply, "error", g_steal_pointer(&err));
    if (json_object_has_member(msg, "id"))
        json_object_set_member(reply, "id", json_node_copy(json_object_get_member(msg, "id")));
    json_node_init_object(node, reply);
    qmp_send_node(q, node);
}

/* One script line; false to stop the thread. */
static bool
qmp_step(Qmp *q, const ScriptLine *sl)
{
    g_autoptr(JsonObject) msg = NULL;
    QmpEvent ev;

    switch (sl->kind) {
    case L_CONNECT:
        ev = qmp_next(q, &msg);
        if (ev == EV_STOP)
            return false;
        if (ev == EV_EOF)
            return qmp_step(q, sl);
        if (ev == EV_MESSAGE) {
            g_autofree char *got = command_text(msg);

            qmp_fail(q, "line %u: expected a new monitor connection, got %s", sl->line, got);
            qmp_reply_error(q, msg);
        }
        q->pos++;
        return true;
    case L_EXPECT:
    case L_EXPECT_SUBSET: {
        g_autofree char *want = json_text(sl->json);

        ev = qmp_next(q, &msg);
        if (ev == EV_STOP)
            return false;
        if (ev == EV_EOF || ev == EV_CONNECT) {
            qmp_fail(q, "line %u: expected %s, but the monitor connection %s", sl->line, want,
                     ev == EV_EOF ? "closed" : "was opened again");
            return true;
        }
        if (!qmp_matches(sl, msg)) {
            g_autofree char *got = command_text(msg);

            qmp_fail(q, "line %u: expected %s\n    got %s", sl->line, want, got);
            qmp_reply_error(q, msg);
            return true;
        }
        g_free(q->last_id);
        q->last_id = json_object_has_member(msg, "id")
                         ? g_strdup(json_object_get_string_member_with_default(msg, "id", NULL))
                         : NULL;
        q->pos++;
        return true;
    }
    case L_REPLY: {
        g_autoptr(JsonNode) node = json_node_copy(sl->json);

        if (q->last_id)
            json_object_set_string_member(json_node_get_object(node), "id", q->last_id);
        qmp_send_node(q, node);
        q->pos++;
        return true;
    }
    case L_EVENT: {
        g_autoptr(JsonNode) node = json_node_copy(sl->json);
        JsonObject *o = json_node_get_object(node);

        if (!json_object_has_member(o, "timestamp")) {
            JsonObject *ts = json_object_new();

            json_object_set_int_member(ts, "seconds", 0);
            json_object_set_int_member(ts, "microseconds", 0);
            json_object_set_object_member(o, "timestamp", ts);
        }
        qmp_send_node(q, node);
        q->pos++;
        return true;
    }
    case L_RELEASE:
        g_mutex_lock(&q->lock);
        while (!q->stop && q->releases <= q->releases_seen)
            g_cond_wait(&q->cond, &q->lock);
        g_mutex_unlock(&q->lock);
        if (qmp_stopping(q))
            return false;
        q->releases_seen++;
        q->pos++;
        return true;
    }
    return false;
}

static gpointer
qmp_run(gpointer data)
{
    Qmp *q = data;

    while (!q->broken && q->pos < q->script->len) {
        if (!qmp_step(q, g_ptr_array_index(q->script, q->pos)))
            return NULL;
    }
    /* Past the end (or after a mismatch): whatever comes is answered with
     * an error, so that the driver never waits; it is a failure unless a
     * failure was already reported. */
    for (;;) {
        g_autoptr(JsonObject) msg = NULL;
        QmpEvent ev = qmp_next(q, &msg);

        if (ev == EV_STOP)
            return NULL;
        if (ev == EV_MESSAGE) {
            g_autofree char *got = command_text(msg);

            if (!q->broken)
                qmp_fail(q, "after its last line: unexpected command %s", got);
            qmp_reply_error(q, msg);
        } else if (ev == EV_CONNECT && !q->broken) {
            qmp_fail(q, "after its last line: unexpected monitor connection");
        }
    }
}

static Qmp *
qmp_start(GPtrArray *script, const char *path)
{
    Qmp *q = g_new0(Qmp, 1);

    q->script = script;
    q->conn = -1;
    q->in = g_string_new(NULL);
    q->failures = g_string_new(NULL);
    g_mutex_init(&q->lock);
    g_cond_init(&q->cond);
    q->listen_fd = listen_unix(path, SOCK_STREAM);
    if (pipe2(q->wake, O_CLOEXEC) < 0)
        g_error("pipe: %s", g_strerror(errno));
    q->thread = g_thread_new("golden-qmp", qmp_run, q);
    return q;
}

static void
qmp_release(Qmp *q)
{
    g_mutex_lock(&q->lock);
    q->releases++;
    g_cond_broadcast(&q->cond);
    g_mutex_unlock(&q->lock);
}

/* Stops the peer; returns its failures, with the script lines never
 * reached. */
static char *
qmp_stop(Qmp *q)
{
    GString *out;

    g_mutex_lock(&q->lock);
    q->stop = true;
    g_cond_broadcast(&q->cond);
    g_mutex_unlock(&q->lock);
    if (write(q->wake[1], "x", 1) < 0)
        g_error("wake: %s", g_strerror(errno));
    g_thread_join(q->thread);
    out = q->failures;
    if (!q->broken && q->pos < q->script->len) {
        const ScriptLine *sl = g_ptr_array_index(q->script, q->pos);
        g_autofree char *what = sl->json ? json_text(sl->json) : NULL;

        g_string_append_printf(out, "qmp.script: line %u never reached (%s%s%s)\n", sl->line,
                               sl->kind == L_CONNECT   ? "@connect"
                               : sl->kind == L_RELEASE ? "@release"
                                                       : "",
                               what ? what : "",
                               sl->kind == L_EXPECT || sl->kind == L_EXPECT_SUBSET ? ": not sent" : "");
    }
    qmp_close_conn(q);
    close(q->listen_fd);
    close(q->wake[0]);
    close(q->wake[1]);
    g_string_free(q->in, TRUE);
    g_free(q->last_id);
    g_mutex_clear(&q->lock);
    g_cond_clear(&q->cond);
    g_free(q);
    return g_string_free(out, FALSE);
}

/* ---- a daemon: host seam, network driver, QEMU driver ---- */

typedef struct {
    char *root;
    VrtHost *host;
    VrtVfRegistry *vfs;
    VrtNetworkDriver *net;
    VrtQemuDriver *qemu;
    GMutex lock;
    GCond cond;
    GPtrArray *events; /* "device-removed ALIAS", "lifecycle EVENT DETAIL" */
} Daemon;

static void
daemon_event(Daemon *d, char *text)
{
    g_mutex_lock(&d->lock);
    g_ptr_array_add(d->events, text);
    g_cond_broadcast(&d->cond);
    g_mutex_unlock(&d->lock);
}

static void
on_lifecycle(const VrtDomainRef *dom, int event, int detail, gpointer data)
{
    daemon_event(data, g_strdup_printf("lifecycle %s event %d detail %d", dom->name, event, detail));
}

static void
on_device_removed(const VrtDomainRef *dom, const char *alias, gpointer data)
{
    daemon_event(data, g_strdup_printf("device-removed %s %s", dom->name, alias));
}

static void
daemon_free(Daemon *d)
{
    if (!d)
        return;
    vrt_qemu_driver_free(d->qemu);
    vrt_network_driver_free(d->net);
    vrt_vf_registry_free(d->vfs);
    vrt_host_free(d->host);
    g_ptr_array_unref(d->events);
    g_mutex_clear(&d->lock);
    g_cond_clear(&d->cond);
    g_free(d->root);
    g_free(d);
}

/* Wires the drivers as vrtd does (daemon/drivers.c) and loads them: the
 * QEMU driver reconnects to the domain and recovers its jobs. */
static Daemon *
daemon_open(const char *root, const Case *c, GError **error)
{
    Daemon *d = g_new0(Daemon, 1);
    VrtQemuDriverConfig cfg = {
        .root = root,
        .lifecycle_event = on_lifecycle,
        .device_removed = on_device_removed,
        .data = d,
    };

    d->root = g_strdup(root);
    g_mutex_init(&d->lock);
    g_cond_init(&d->cond);
    d->events = g_ptr_array_new_with_free_func(g_free);
    if (!(d->host = vrt_host_new(root, error)))
        goto fail;
    vrt_host_set_write_func(d->host, kernel_write, d->root);
    d->vfs = vrt_vf_registry_new();
    if (!(d->net = vrt_network_driver_new(root, d->host, d->vfs, error)))
        goto fail;
    if (!vrt_network_driver_load(d->net, error))
        goto fail;
    cfg.host = d->host;
    cfg.network = d->net;
    cfg.vfs = d->vfs;
    cfg.unplug_wait_ms = c->guest_silent ? SILENT_UNPLUG_WAIT_MS : 0;
    if (!(d->qemu = vrt_qemu_driver_new(&cfg, error)) || !vrt_qemu_driver_load(d->qemu, error))
        goto fail;
    return d;
fail:
    daemon_free(d);
    return NULL;
}

/* Waits for device-removed of alias; false when it does not come. */
static bool
daemon_wait_removed(Daemon *d, const char *name, const char *alias)
{
    g_autofree char *want = g_strdup_printf("device-removed %s %s", name, alias);
    gint64 deadline = g_get_monotonic_time() + WAIT_EVENT_MS * G_TIME_SPAN_MILLISECOND;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&d->lock);

    for (;;) {
        for (guint i = 0; i < d->events->len; i++) {
            if (g_str_equal(g_ptr_array_index(d->events, i), want))
                return true;
        }
        if (!g_cond_wait_until(&d->cond, &d->lock, deadline))
            return false;
    }
}

/* Runs an attach or detach; its error, if any, as one line. */
static char *
run_op(Daemon *d, const guchar *uuid, const Op *op)
{
    g_autoptr(GError) err = NULL;
    bool ok = op->kind == OP_ATTACH ? vrt_qemu_domain_attach_device(d->qemu, uuid, op->xml, op->flags, &err)
                                    : vrt_qemu_domain_detach_device(d->qemu, uuid, op->xml, op->flags, &err);

    if (ok)
        return NULL;
    return g_strdup_printf("case:%u %s: error %d: %s\n", op->line, op->kind == OP_ATTACH ? "attach" : "detach",
                           vrt_error_code(err), err ? err->message : "(no message)");
}

/* ---- the case's starting state ---- */

typedef struct {
    Case *c;
    char *root;
    VrtDomainDef *def; /* the domain as domain.xml gives it */
    char uuid_str[VRT_UUID_STRING_LEN];
    Netlink *nl;
    Qmp *qmp;
    GPid qemu_pid; /* the placeholder standing in for QEMU */
    int qemu_stdin;
    GString *errors; /* of the operations */
    GString *failures; /* of the case */
} Run;

/* A process whose command line has the domain's uuid, as QEMU's has: the
 * driver reconnects only to such a pid. It ends when the runner does. */
static void
start_placeholder(Run *r)
{
    const char *argv[] = { self_exe, "--placeholder", r->uuid_str, NULL };
    g_autoptr(GError) err = NULL;
    int out = -1;
    char c;

    if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &r->qemu_pid,
                                  &r->qemu_stdin, &out, NULL, &err))
        g_error("cannot start the placeholder: %s", err->message);
    /* Its command line is the one checked once it has said so. */
    if (read(out, &c, 1) != 1)
        g_error("the placeholder did not start");
    close(out);
}

static void
stop_placeholder(Run *r)
{
    int status;

    close(r->qemu_stdin);
    waitpid(r->qemu_pid, &status, 0);
    g_spawn_close_pid(r->qemu_pid);
}

static char *
monitor_path(const Run *r)
{
    g_autofree char *dir = g_strdup_printf("domain-1-%s", r->def->name);

    return g_build_filename(r->root, "run/vrt/qemu", dir, "monitor.sock", NULL);
}

/* The pool (network.xml) defined and started, the domain defined and
 * running: its config, and a status file as a start leaves it. */
static bool
prepare_state(Run *r, GError **error)
{
    g_autofree char *etc = g_build_filename(r->root, "etc/vrt/qemu", NULL);
    g_autofree char *run = g_build_filename(r->root, "run/vrt/qemu", NULL);
    g_autofree char *file = g_strdup_printf("%s.xml", r->def->name);
    g_autofree char *config = g_build_filename(etc, file, NULL);
    g_autofree char *status_path = g_build_filename(run, file, NULL);
    g_autofree char *mon = monitor_path(r);
    g_autofree char *mondir = g_path_get_dirname(mon);
    g_autofree char *inactive = NULL;
    g_autofree char *text = NULL;
    g_autoptr(VrtDomainDef) live = NULL;
    g_autoptr(VrtQemuHostdevState) hostdevs = vrt_qemu_hostdev_state_new();
    g_autoptr(GPtrArray) unplug = g_ptr_array_new();
    VrtQemuStatus st = { 0 };

    if (r->c->network_xml) {
        Daemon d = { .root = r->root };
        g_autoptr(VrtNetworkRef) ref = NULL;
        bool ok;

        if (!(d.host = vrt_host_new(r->root, error)))
            return false;
        vrt_host_set_write_func(d.host, kernel_write, r->root);
        d.vfs = vrt_vf_registry_new();
        d.net = vrt_network_driver_new(r->root, d.host, d.vfs, error);
        ok = d.net && vrt_network_driver_load(d.net, error) &&
             (ref = vrt_netdrv_define_xml(d.net, r->c->network_xml, 0, error)) &&
             vrt_netdrv_create(d.net, ref->name, error);
        vrt_network_driver_free(d.net);
        vrt_vf_registry_free(d.vfs);
        vrt_host_free(d.host);
        if (!ok)
            return false;
    }
    mkdirs(etc);
    mkdirs(mondir);
    /* As a define stores it: with its devices' addresses. */
    if (!vrt_domain_def_assign_addresses(r->def, error) ||
        !(inactive = vrt_domain_def_format(r->def, VRT_DOMAIN_XML_INACTIVE, error)) ||
        !g_file_set_contents(config, inactive, -1, error))
        return false;
    if (!(live = vrt_domain_def_copy(r->def, error)))
        return false;
    live->id = 1;
    st.def = live;
    st.pid = r->qemu_pid;
    st.starttime = vrt_proc_pid_starttime(NULL, r->qemu_pid);
    st.monitor_path = mon;
    st.state = VRT_DOMAIN_RUNNING;
    st.reason = VRT_DOMAIN_RUNNING_BOOTED;
    st.unplug_pending = unplug;
    st.hostdevs = hostdevs;
    if (!(text = vrt_qemu_status_format(&st, error)))
        return false;
    return g_file_set_contents(status_path, text, -1, error);
}

/* ---- outputs ---- */

/* Stands in for what changes from run to run: the state root, QEMU's pid
 * and start time, and uuids no input file has (network ports), numbered
 * in order of appearance. */
typedef struct {
    const Run *r;
    GHashTable *uuids; /* uuid -> "@UUIDn@" */
    GString *inputs; /* every input file, to tell a given uuid */
} Normalizer;

static char *
normalize(Normalizer *n, const char *text)
{
    g_autoptr(GRegex) uuid_re =
        g_regex_new("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", G_REGEX_CASELESS, 0, NULL);
    g_autoptr(GRegex) pid_re = g_regex_new(" pid='[0-9]+'", 0, 0, NULL);
    g_autoptr(GRegex) start_re = g_regex_new(" starttime='[0-9]+'", 0, 0, NULL);
    g_autoptr(GMatchInfo) mi = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;
    g_auto(GStrv) parts = g_strsplit(text, n->r->root, -1);
    g_autofree char *joined = g_strjoinv("@ROOT@", parts);
    gint last = 0;

    a = g_regex_replace_literal(pid_re, joined, -1, 0, " pid='@PID@'", 0, NULL);
    b = g_regex_replace_literal(start_re, a, -1, 0, " starttime='@STARTTIME@'", 0, NULL);
    g_regex_match(uuid_re, b, 0, &mi);
    while (g_match_info_matches(mi)) {
        g_autofree char *u = g_match_info_fetch(mi, 0);
        gint s, e;

        g_match_info_fetch_pos(mi, 0, &s, &e);
        g_string_append_len(out, b + last, s - last);
        if (strstr(n->inputs->str, u)) {
            g_string_append(out, u);
        } else {
            const char *name = g_hash_table_lookup(n->uuids, u);

            if (!name) {
                name = g_strdup_printf("@UUID%u@", g_hash_table_size(n->uuids) + 1);
                g_hash_table_insert(n->uuids, g_strdup(u), (gpointer)name);
            }
            g_string_append(out, name);
        }
        last = e;
        g_match_info_next(mi, NULL);
    }
    g_string_append(out, b + last);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Each function of the host and each port of the pool, as a user would
 * check them (lspci -k, ip link show PF, net-port-list). */
static char *
host_dump(Run *r, Daemon *d)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_autoptr(GPtrArray) ports = vrt_network_port_list_by_owner(d->net, NULL);
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

    for (guint k = 0; k <= N_VFS; k++) {
        g_autofree char *addr = k == 0 ? g_strdup(PF_ADDR) : g_strdup_printf("0000:06:10.%u", k - 1);
        g_autofree char *drv_link = dev_path(r->root, addr, "driver");
        g_autofree char *ov_path = dev_path(r->root, addr, "driver_override");
        g_autofree char *net_path = dev_path(r->root, addr, "net");
        g_autofree char *drv = link_base(drv_link);
        g_autofree char *ov = read_attr(ov_path);
        g_autoptr(GDir) nd = g_dir_open(net_path, 0, NULL);
        const char *netdev = nd ? g_dir_read_name(nd) : NULL;

        g_string_append_printf(s, "%s %s driver=%s override=%s netdev=%s", addr, k == 0 ? "pf" : "vf",
                               drv ? drv : "none", ov ? ov : "?", netdev ? netdev : "none");
        if (k > 0) {
            VrtVfInfo *vf = &r->nl->vfs[k - 1];
            char mac[VRT_MAC_STRING_LEN];

            g_mutex_lock(&r->nl->lock);
            vrt_mac_format(vf->mac, mac);
            g_string_append_printf(s, " mac=%s vlan=%u qos=%u spoofchk=%s trust=%s", mac, vf->vlan, vf->qos,
                                   vf->spoofchk ? "on" : "off", vf->trust ? "on" : "off");
            g_mutex_unlock(&r->nl->lock);
        }
        g_string_append_c(s, '\n');
    }
    for (guint i = 0; ports && i < ports->len; i++) {
        VrtNetworkPortInfo *p = g_ptr_array_index(ports, i);
        char uuid[VRT_UUID_STRING_LEN];
        char vf[VRT_PCI_ADDR_STRING_LEN] = "none";

        vrt_uuid_format(p->alloc->port_uuid, uuid);
        if (p->alloc->type == VRT_NETWORK_PORT_ACTUAL_HOSTDEV)
            vrt_pci_addr_format_buf(&p->alloc->pci_addr, vf);
        g_ptr_array_add(lines,
                        g_strdup_printf("port %s network=%s owner=%s vf=%s\n", uuid, p->network, p->owner_name, vf));
    }
    g_ptr_array_sort(lines, (GCompareFunc)g_strcmp0);
    for (guint i = 0; i < lines->len; i++)
        g_string_append(s, g_ptr_array_index(lines, i));
    g_mutex_lock(&d->lock);
    for (guint i = 0; i < d->events->len; i++)
        g_string_append_printf(s, "event %s\n", (char *)g_ptr_array_index(d->events, i));
    g_mutex_unlock(&d->lock);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static bool
update_mode(void)
{
    const char *v = g_getenv("VRT_GOLDEN_UPDATE");

    return v && *v && !g_str_equal(v, "0");
}

/* Compares actual (NULL: the file must not exist) with the case's file,
 * or writes it in update mode. */
static void
check_output(Run *r, const char *name, const char *actual)
{
    g_autofree char *path = case_file(r->c, name);
    g_autofree char *expected = NULL;

    if (update_mode()) {
        if (actual)
            put(path, actual);
        else
            g_unlink(path);
        return;
    }
    g_file_get_contents(path, &expected, NULL, NULL);
    if (g_strcmp0(expected, actual) == 0)
        return;
    if (!actual) {
        g_string_append_printf(r->failures, "%s: expected, but the run produced none\n", name);
        return;
    }
    {
        g_autofree char *dir = g_build_filename(g_get_tmp_dir(), "vrt-golden-actual", r->c->name, NULL);
        g_autofree char *out = g_build_filename(dir, name, NULL);
        g_autofree char *diff = NULL;
        g_autofree char *cmd = NULL;

        mkdirs(dir);
        put(out, actual);
        cmd = g_strdup_printf("diff -u '%s' '%s'", expected ? path : "/dev/null", out);
        g_spawn_command_line_sync(cmd, &diff, NULL, NULL, NULL);
        g_string_append_printf(r->failures, "%s differs (actual output in %s):\n%s\n", name, out, diff ? diff : "");
    }
}

static void
collect_outputs(Run *r, Daemon *d)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *file = g_strdup_printf("run/vrt/qemu/%s.xml", r->def->name);
    g_autofree char *status_path = g_build_filename(r->root, file, NULL);
    g_autofree char *live = vrt_qemu_domain_get_xml(d->qemu, r->def->uuid, 0, &err);
    g_autofree char *status = NULL;
    g_autofree char *config = NULL;
    g_autofree char *host = host_dump(r, d);
    Normalizer n = { r, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free), g_string_new(NULL) };
    const char *inputs[] = { "domain.xml", "network.xml", "device.xml", "qmp.script" };

    for (guint i = 0; i < G_N_ELEMENTS(inputs); i++) {
        g_autofree char *t = read_case_file(r->c, inputs[i], false, NULL);

        if (t)
            g_string_append(n.inputs, t);
    }
    if (!live)
        g_string_append_printf(r->failures, "cannot read the live XML: %s\n", err->message);
    g_file_get_contents(status_path, &status, NULL, NULL);
    if (r->c->config) {
        g_clear_error(&err);
        config = vrt_qemu_domain_get_xml(d->qemu, r->def->uuid, VRT_DOMAIN_XML_FLAG_INACTIVE, &err);
    }
    {
        g_autofree char *nlive = live ? normalize(&n, live) : NULL;
        g_autofree char *nstatus = status ? normalize(&n, status) : NULL;
        g_autofree char *nhost = normalize(&n, host);
        g_autofree char *nconfig = config ? normalize(&n, config) : NULL;
        g_autofree char *nerr = r->errors->len ? normalize(&n, r->errors->str) : NULL;

        check_output(r, "expected-live.xml", nlive);
        check_output(r, "expected-status.xml", nstatus);
        check_output(r, "expected-host.txt", nhost);
        check_output(r, "expected-error.txt", nerr);
        if (r->c->config || update_mode())
            check_output(r, "expected-config.xml", nconfig);
    }
    g_hash_table_unref(n.uuids);
    g_string_free(n.inputs, TRUE);
}

/* ---- one case ---- */

/* Runs op in a child daemon started with VRT_FAULT_DIE_AT: it must end
 * by SIGKILL at that step. */
static void
run_killed(Run *r, guint index, const Op *op)
{
    g_autofree char *idx = g_strdup_printf("%u", index);
    const char *argv[] = { self_exe, "--daemon", r->root, r->c->dir, idx, NULL };
    g_auto(GStrv) envp = g_environ_setenv(g_get_environ(), "VRT_FAULT_DIE_AT", op->die_at, TRUE);
    g_autoptr(GError) err = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, envp, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL, NULL, &status, &err))
        g_error("cannot run the daemon: %s", err->message);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        g_string_append_printf(r->failures, "case:%u: the daemon was not killed at %s (wait status %d)\n", op->line,
                               op->die_at, status);
}

static void
test_case(gconstpointer data)
{
    const char *dir = data;
    const char *expect_failure = g_getenv("VRT_GOLDEN_EXPECT_FAILURE");
    g_autoptr(GError) err = NULL;
    g_autoptr(Case) c = case_load(dir, &err);
    g_autofree char *qmp_failures = NULL;
    g_autofree char *mon = NULL;
    Daemon *d = NULL;
    Run r = { 0 };

    if (!c) {
        g_test_fail_printf("%s: %s", dir, err->message);
        return;
    }
    r.c = c;
    r.errors = g_string_new(NULL);
    r.failures = g_string_new(NULL);
    r.def = vrt_domain_def_parse(c->domain_xml, 0, &err);
    if (!r.def) {
        g_test_fail_printf("%s/domain.xml: %s", dir, err->message);
        return;
    }
    vrt_uuid_format(r.def->uuid, r.uuid_str);
    r.root = vrt_test_make_root("vrt-golden-XXXXXX");
    build_host(r.root);
    r.nl = netlink_start(r.root);
    start_placeholder(&r);
    if (!prepare_state(&r, &err))
        g_error("%s: cannot set the case up: %s", c->name, err->message);
    mon = monitor_path(&r);
    r.qmp = qmp_start(c->script, mon);

    for (guint i = 0; i < c->ops->len; i++) {
        const Op *op = g_ptr_array_index(c->ops, i);

        if (op->die_at) {
            /* One daemon at a time, as on a host. */
            g_clear_pointer(&d, daemon_free);
            run_killed(&r, i, op);
            /* The restarted daemon: reconnect and recovery. */
        }
        if (op->kind == OP_RESTART)
            g_clear_pointer(&d, daemon_free);
        if (!d && !(d = daemon_open(r.root, c, &err)))
            g_error("%s: the daemon does not start: %s", c->name, err->message);
        if (op->die_at || op->kind == OP_RESTART)
            continue;
        if (op->kind == OP_RELEASE) {
            qmp_release(r.qmp);
            if (!daemon_wait_removed(d, r.def->name, op->alias))
                g_string_append_printf(r.failures, "case:%u: no device-removed for %s after its release\n", op->line,
                                       op->alias);
            continue;
        }
        {
            g_autofree char *e = run_op(d, r.def->uuid, op);

            if (e)
                g_string_append(r.errors, e);
        }
    }
    if (!d && !(d = daemon_open(r.root, c, &err)))
        g_error("%s: the daemon does not start: %s", c->name, err->message);
    collect_outputs(&r, d);
    daemon_free(d);
    qmp_failures = qmp_stop(r.qmp);
    g_string_prepend(r.failures, qmp_failures);
    netlink_stop(r.nl);
    stop_placeholder(&r);
    vrt_test_remove_tree(r.root);
    g_free(r.root);
    vrt_domain_def_free(r.def);
    g_string_free(r.errors, TRUE);
    if (expect_failure) {
        /* The runner's own check: the case must fail, for this reason. */
        if (!strstr(r.failures->str, expect_failure))
            g_test_fail_printf("%s: expected a failure with '%s', got:\n%s", c->name, expect_failure, r.failures->str);
    } else if (r.failures->len) {
        g_test_fail_printf("%s:\n%s", c->name, r.failures->str);
    }
    g_string_free(r.failures, TRUE);
}

/* ---- the child modes ---- */

static int
placeholder_main(void)
{
    char buf[64];

    /* Started: the runner may check the command line now. */
    if (write(STDOUT_FILENO, "r", 1) != 1)
        return 1;
    while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
        ;
    return 0;
}

/* The daemon that is killed: loads the drivers over root and runs
 * operation index of the case; returning means the fault never fired. */
static int
daemon_main(const char *root, const char *dir, const char *index)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(Case) c = case_load(dir, &err);
    g_autoptr(VrtDomainDef) def = NULL;
    g_autofree char *e = NULL;
    guint i = (guint)g_ascii_strtoull(index, NULL, 10);
    Daemon *d;

    if (!c || i >= c->ops->len || !(def = vrt_domain_def_parse(c->domain_xml, 0, &err))) {
        g_printerr("golden daemon: %s\n", err ? err->message : "no such operation");
        return 2;
    }
    if (!(d = daemon_open(root, c, &err))) {
        g_printerr("golden daemon: %s\n", err->message);
        return 2;
    }
    e = run_op(d, def->uuid, g_ptr_array_index(c->ops, i));
    if (e)
        g_printerr("golden daemon: %s", e);
    daemon_free(d);
    return 0;
}

static gint
cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    const char *base = g_getenv("VRT_GOLDEN_DIR") ? g_getenv("VRT_GOLDEN_DIR") : VRT_GOLDEN_HOTPLUG_DIR;
    g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = NULL;
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    const char *name;

    self_exe = exe;
    if (argc == 3 && g_str_equal(argv[1], "--placeholder"))
        return placeholder_main();
    if (argc == 5 && g_str_equal(argv[1], "--daemon")) {
        /* The runner's stdout carries TAP: the daemon's messages go to
         * stderr. */
        if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
            return 2;
        return daemon_main(argv[2], argv[3], argv[4]);
    }
    g_test_init(&argc, &argv, NULL);
    /* Only the daemons a case kills get the fault hook. */
    g_unsetenv("VRT_FAULT_DIE_AT");
    /* Warnings (a failed undo, a guest that keeps a device) are part of
     * what a case shows; the outputs decide. */
    g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
    d = g_dir_open(base, 0, NULL);
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(base, name, NULL);

        if (g_file_test(path, G_FILE_TEST_IS_DIR))
            g_ptr_array_add(dirs, g_steal_pointer(&path));
    }
    g_ptr_array_sort(dirs, cmp_names);
    for (guint i = 0; i < dirs->len; i++) {
        g_autofree char *base_name = g_path_get_basename(g_ptr_array_index(dirs, i));
        g_autofree char *test = g_strdup_printf("/hotplug-golden/%s", base_name);

        g_test_add_data_func(test, g_ptr_array_index(dirs, i), test_case);
    }
    return g_test_run();
}
