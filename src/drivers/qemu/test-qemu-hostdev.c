/*
 * Unit tests of the hostdev hotplug job (qemu_hostdev.c) with the REAL node
 * device and network code over the FUSE-simulated SR-IOV host
 * (tests/hostsim, one PF ens1f0 with 4 VFs 0000:06:10.0-3), a fake QMP
 * monitor and a fake status writer. The fakes keep QEMU's device list and
 * the status in files, so a child process can be killed with SIGKILL at a
 * step (the driver's VRT_FAULT_DIE_AT hook, for real) and the parent can
 * recover from exactly what was on disk. Every case checks what a user
 * would: each VF's driver, admin MAC and VLAN on the host, the pool's port
 * count, the domain's nets/hostdevs, and QEMU's device list.
 * Skipped when hostsim cannot run (no /dev/fuse, no python3-fusepy, not root).
 */
#include "drivers/qemu/qemu_hostdev.h"
#include "host/pci.h"
#include "host/sriov.h"
#include "util/error.h"
#include "util/fileutil.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOSTSIM_VFS 4
#define POOL "pool"
#define SMALL "small"
#define SHORT_UNPLUG_MS 200

static char *host_root; /* set by main when hostsim runs */

/* ---- the test environment ---- */

typedef struct {
    char *dir;
    char *ids_path; /* fake QEMU: device ids, one per line */
    char *def_path; /* fake status: the live definition */
    char *rec_path; /* fake status: the records */
    bool fail_device_add;
    bool ack; /* device_del acknowledged at once */
    int save_fail_at; /* fail the Nth status write (1-based), 0: never */
    int saves;
    guint device_adds;
    guint device_dels;
    guint netdev_dels;
    char *last_props; /* JSON of the last device_add */
    const char *fail_step; /* "job:step" the fault hook fails */
    int fail_skip; /* matches of fail_step let through first */
    VrtHost *host;
    VrtVfRegistry *vfs; /* shared by the network driver and the job, as in vrtd */
    VrtNetworkDriver *net;
    VrtDomainDef *def;
    VrtQemuHostdevState *state;
    VrtQemuHostdevCtx ctx;
} Env;

static GPtrArray *
read_ids(Env *env)
{
    g_autofree char *text = NULL;
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(env->ids_path, &text, NULL, NULL))
        return ids;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (*lines[i])
            g_ptr_array_add(ids, g_strdup(lines[i]));
    }
    return ids;
}

static void
write_ids(Env *env, GPtrArray *ids)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint i = 0; i < ids->len; i++)
        g_string_append_printf(s, "%s\n", (char *)g_ptr_array_index(ids, i));
    g_assert_true(vrt_file_write_atomic(env->ids_path, s->str, s->len, 0600, NULL));
}

static bool
ids_have(Env *env, const char *id)
{
    g_autoptr(GPtrArray) ids = read_ids(env);

    for (guint i = 0; i < ids->len; i++) {
        if (g_str_equal(g_ptr_array_index(ids, i), id))
            return true;
    }
    return false;
}

static bool
fake_device_add(gpointer data, JsonObject *props, GError **error)
{
    Env *env = data;
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), props);
    g_autoptr(GPtrArray) ids = read_ids(env);

    env->device_adds++;
    g_free(env->last_props);
    env->last_props = json_to_string(node, FALSE);
    if (env->fail_device_add) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "vfio 0000:06:10.0: failed to open /dev/vfio/devices");
        return false;
    }
    g_ptr_array_add(ids, g_strdup(json_object_get_string_member(props, "id")));
    write_ids(env, ids);
    return true;
}

static bool
fake_device_del(gpointer data, const char *alias, GError **error)
{
    Env *env = data;
    g_autoptr(GPtrArray) ids = read_ids(env);

    env->device_dels++;
    if (!ids_have(env, alias)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Device '%s' not found", alias);
        return false;
    }
    if (env->ack) {
        for (guint i = 0; i < ids->len; i++) {
            if (g_str_equal(g_ptr_array_index(ids, i), alias)) {
                g_ptr_array_remove_index(ids, i);
                break;
            }
        }
        write_ids(env, ids);
    }
    return true;
}

static bool
fake_wait_deleted(gpointer data, const char *alias, guint timeout_ms)
{
    Env *env = data;

    if (!ids_have(env, alias))
        return true;
    g_usleep((gulong)timeout_ms * 1000);
    return !ids_have(env, alias);
}

static GPtrArray *
fake_list_ids(gpointer data, GError **error)
{
    return read_ids(data);
}

static bool
fake_netdev_del(gpointer data, const char *id, GError **error)
{
    Env *env = data;

    env->netdev_dels++;
    return true;
}

static const VrtQemuHostdevMonitorOps fake_mon = {
    .device_add = fake_device_add,
    .device_del = fake_device_del,
    .netdev_del = fake_netdev_del,
    .wait_deleted = fake_wait_deleted,
    .list_ids = fake_list_ids,
};

static bool
fake_save(gpointer data, GError **error)
{
    Env *env = data;
    g_autofree char *xml = NULL;
    g_autofree char *rec = NULL;

    env->saves++;
    if (env->save_fail_at && env->saves == env->save_fail_at) {
        vrt_error_set(error, VIR_ERR_WRITE_FAILED, "cannot write status: No space left on device");
        return false;
    }
    xml = vrt_domain_def_format(env->def, VRT_DOMAIN_XML_STATUS, error);
    if (!xml)
        return false;
    rec = vrt_qemu_hostdev_state_format(env->state);
    return vrt_file_write_atomic(env->def_path, xml, -1, 0600, error) &&
           vrt_file_write_atomic(env->rec_path, rec, -1, 0600, error);
}

static bool
fail_at_step(const char *job, const char *step, gpointer data, GError **error)
{
    Env *env = data;
    g_autofree char *here = g_strdup_printf("%s:%s", job, step);

    if (env->fail_step && g_str_equal(here, env->fail_step) && env->fail_skip-- <= 0) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "injected failure at %s", here);
        return false;
    }
    return true;
}

static const char domain_xml[] =
    "<domain type='qemu'><name>guest</name><uuid>6a1e2f3c-0d4b-4c5e-9f60-7182a3b4c5d6</uuid>"
    "<memory unit='KiB'>131072</memory><vcpu>1</vcpu>"
    "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices></devices></domain>";

/* Builds the environment from what is on disk in dir (a fresh one when
 * dir is NULL): network driver, host, definition, records. */
static Env *
env_open(const char *dir)
{
    Env *env = g_new0(Env, 1);
    g_autoptr(GError) err = NULL;
    g_autofree char *netroot = NULL;
    g_autofree char *text = NULL;

    env->dir = dir ? g_strdup(dir) : g_dir_make_tmp("vrt-hostdev-XXXXXX", NULL);
    env->ids_path = g_build_filename(env->dir, "qemu-ids", NULL);
    env->def_path = g_build_filename(env->dir, "status-def.xml", NULL);
    env->rec_path = g_build_filename(env->dir, "status-records.xml", NULL);
    netroot = g_build_filename(env->dir, "root", NULL);
    env->ack = true;
    env->host = vrt_host_new(host_root, &err);
    g_assert_no_error(err);
    env->vfs = vrt_vf_registry_new();
    env->net = vrt_network_driver_new(netroot, env->host, env->vfs, &err);
    g_assert_no_error(err);
    g_assert_true(vrt_network_driver_load(env->net, &err));
    if (!dir) {
        g_autoptr(VrtNetworkRef) a = vrt_netdrv_define_xml(
            env->net,
            "<network><name>" POOL "</name><forward mode='hostdev' managed='yes'><pf dev='ens1f0'/>"
            "</forward></network>",
            0, &err);
        g_autoptr(VrtNetworkRef) b = NULL;

        g_assert_no_error(err);
        b = vrt_netdrv_define_xml(env->net,
                                  "<network><name>" SMALL "</name><forward mode='hostdev' managed='yes'>"
                                  "<address type='pci' domain='0x0000' bus='0x06' slot='0x10' "
                                  "function='0x3'/></forward></network>",
                                  0, &err);
        g_assert_no_error(err);
        g_assert_true(vrt_netdrv_create(env->net, POOL, &err));
        g_assert_true(vrt_netdrv_create(env->net, SMALL, &err));
        env->def = vrt_domain_def_parse(domain_xml, 0, &err);
        g_assert_no_error(err);
        g_assert_true(vrt_domain_def_assign_addresses(env->def, &err));
        env->def->id = 1;
        env->state = vrt_qemu_hostdev_state_new();
        g_assert_true(g_file_set_contents(env->ids_path, "", 0, NULL));
    } else {
        g_assert_true(g_file_get_contents(env->def_path, &text, NULL, NULL));
        env->def = vrt_domain_def_parse(text, VRT_DOMAIN_XML_STATUS, &err);
        g_assert_no_error(err);
        g_clear_pointer(&text, g_free);
        g_assert_true(g_file_get_contents(env->rec_path, &text, NULL, NULL));
        env->state = vrt_qemu_hostdev_state_parse(text, &err);
        g_assert_no_error(err);
    }
    env->ctx = (VrtQemuHostdevCtx){
        .host = env->host,
        .network = env->net,
        .vfs = env->vfs,
        .mon = &fake_mon,
        .mon_data = env,
        .save_status = fake_save,
        .data = env,
        .fault = fail_at_step,
        .fault_data = env,
        .def = env->def,
        .state = env->state,
    };
    if (!dir)
        g_assert_true(fake_save(env, NULL));
    return env;
}

/* Frees the environment; the files stay unless remove is set. */
static void
env_close(Env *env, bool remove)
{
    if (remove) {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", env->dir);
        g_assert_cmpint(system(cmd), ==, 0);
    }
    vrt_network_driver_free(env->net);
    vrt_vf_registry_free(env->vfs);
    vrt_host_free(env->host);
    vrt_domain_def_free(env->def);
    vrt_qemu_hostdev_state_free(env->state);
    g_free(env->last_props);
    g_free(env->dir);
    g_free(env->ids_path);
    g_free(env->def_path);
    g_free(env->rec_path);
    g_free(env);
}

/* Each VF's driver, admin MAC and VLAN as one string. */
static char *
host_snapshot(Env *env)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint k = 0; k < HOSTSIM_VFS; k++) {
        VrtPciAddr a = { 0, 6, 0x10, k };
        g_autofree char *drv = NULL;
        VrtVfInfo info = { 0 };
        char mac[VRT_MAC_STRING_LEN];

        g_assert_true(vrt_pci_get_driver(env->host, &a, &drv, NULL));
        g_assert_true(vrt_sriov_get_vf_config(env->host, &a, &info, NULL));
        vrt_mac_format(info.mac, mac);
        g_string_append_printf(s, "06:10.%u %s %s vlan %u; ", k, drv ? drv : "-", mac, info.vlan);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static char *
vf_driver(Env *env, guint k)
{
    VrtPciAddr a = { 0, 6, 0x10, k };
    char *drv = NULL;

    g_assert_true(vrt_pci_get_driver(env->host, &a, &drv, NULL));
    return drv;
}

static int
ports(Env *env, const char *network)
{
    return vrt_network_ports_in_use(env->net, network, NULL);
}

static guint
n_nets(Env *env)
{
    return env->def->nets ? env->def->nets->len : 0;
}

static guint
n_hostdevs(Env *env)
{
    return env->def->hostdevs ? env->def->hostdevs->len : 0;
}

static void
assert_consistent(Env *env)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) ids = read_ids(env);

    g_assert_true(vrt_qemu_hostdev_check(&env->ctx, ids, &err));
    g_assert_no_error(err);
    g_assert_true(vrt_network_driver_check_invariants(env->net, &err));
    g_assert_no_error(err);
    /* Every attached device is in QEMU and vice versa. */
    g_assert_cmpuint(ids->len, ==, env->state->records->len);
}

/* All given back: the host as in before, no port in the pool, no device
 * in the definition and no record left. */
static void
assert_released(Env *env, const char *before)
{
    g_autofree char *after = host_snapshot(env);

    g_assert_cmpstr(after, ==, before);
    g_assert_cmpint(ports(env, POOL), ==, 0);
    g_assert_cmpuint(n_nets(env), ==, 0);
    g_assert_cmpuint(n_hostdevs(env), ==, 0);
    g_assert_cmpuint(env->state->records->len, ==, 0);
}

static VrtDomainDeviceDef *
parse_dev(Env *env, const char *xml)
{
    g_autoptr(GError) err = NULL;
    VrtDomainDeviceDef *dev = vrt_domain_device_def_parse(xml, env->def, 0, &err);

    g_assert_no_error(err);
    return dev;
}

static bool
attach(Env *env, const char *xml, GError **error)
{
    g_autoptr(VrtDomainDeviceDef) dev = parse_dev(env, xml);

    g_assert_true(vrt_qemu_hostdev_wants_device(&env->ctx, dev));
    return vrt_qemu_hostdev_attach(&env->ctx, dev, error);
}

static const char pool_if[] = "<interface type='network'><mac address='52:54:00:aa:bb:01'/><source network='" POOL "'/>"
                              "<vlan><tag id='42'/></vlan></interface>";
static const char hostdev_if[] =
    "<interface type='hostdev' managed='yes'><mac address='52:54:00:aa:bb:02'/>"
    "<source><address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x2'/></source>"
    "<vlan><tag id='7'/></vlan></interface>";
static const char hostdev_if_hostdev_xml[] =
    "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
    "<address domain='0x0000' bus='0x06' slot='0x10' function='0x2'/></source></hostdev>";
static const char plain_hostdev[] =
    "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
    "<address domain='0x0000' bus='0x06' slot='0x10' function='0x1'/></source></hostdev>";

/* The virtio half of a teaming pair whose VF is pool_if: the same MAC,
 * put in the definition as a started domain has it. */
static void
add_team_virtio(Env *env)
{
    g_autoptr(VrtDomainDeviceDef) dev =
        parse_dev(env, "<interface type='user'><mac address='52:54:00:aa:bb:01'/><model type='virtio'/>"
                       "<teaming type='persistent'/><alias name='ua-team0'/></interface>");
    g_autoptr(GError) err = NULL;

    g_assert_true(vrt_domain_def_assign_device_address(env->def, dev, &err));
    g_assert_no_error(err);
    vrt_domain_def_net_insert(env->def, g_steal_pointer(&dev->data.net));
    g_assert_true(fake_save(env, &err));
    g_assert_no_error(err);
}

/* ---- cases ---- */

/* A pool interface: the VF gets the MAC and VLAN, goes to vfio-pci, is
 * added to QEMU with the interface's alias, stands in both lists, and is
 * given back exactly as it was. */
static void
test_pool_attach_detach(void)
{
    Env *env = env_open(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *before = host_snapshot(env);
    g_autofree char *drv = NULL;
    g_autofree char *alias = NULL;
    VrtDomainNetDef *net;
    VrtPciAddr a = { 0 };
    VrtVfInfo info = { 0 };
    char mac[VRT_MAC_STRING_LEN];

    g_assert_true(attach(env, pool_if, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(n_nets(env), ==, 1);
    g_assert_cmpuint(n_hostdevs(env), ==, 1);
    net = g_ptr_array_index(env->def->nets, 0);
    g_assert_nonnull(net->hostdev);
    g_assert_true(g_ptr_array_index(env->def->hostdevs, 0) == net->hostdev);
    g_assert_true(net->hostdev->parent_net == net);
    g_assert_cmpint(ports(env, POOL), ==, 1);
    a.bus = net->actual.hostdev_addr.bus;
    a.slot = net->actual.hostdev_addr.slot;
    a.function = net->actual.hostdev_addr.function;
    g_assert_true(vrt_pci_get_driver(env->host, &a, &drv, NULL));
    g_assert_cmpstr(drv, ==, "vfio-pci");
    g_assert_true(vrt_sriov_get_vf_config(env->host, &a, &info, NULL));
    vrt_mac_format(info.mac, mac);
    g_assert_cmpstr(mac, ==, "52:54:00:aa:bb:01");
    g_assert_cmpuint(info.vlan, ==, 42);
    g_assert_nonnull(strstr(env->last_props, "\"driver\":\"vfio-pci\""));
    g_assert_nonnull(strstr(env->last_props, "\"id\":\"net0\""));
    g_assert_true(ids_have(env, "net0"));
    assert_consistent(env);

    alias = vrt_qemu_hostdev_find(&env->ctx, pool_if, NULL, &err);
    g_assert_cmpstr(alias, ==, "net0");
    g_assert_true(vrt_qemu_hostdev_detach(&env->ctx, alias, &err));
    g_assert_no_error(err);
    assert_released(env, before);
    assert_consistent(env);
    env_close(env, true);
}

/* A VF sharing its MAC with a virtio interface (libvirt's teaming pair):
 * its attach is accepted, a detach naming the MAC alone is refused with
 * libvirt's error and changes nothing, one adding the guest PCI address
 * finds the VF, whose release leaves the virtio interface alone. */
static void
test_shared_mac(void)
{
    Env *env = env_open(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *before = host_snapshot(env);
    g_autofree char *alias = NULL;
    g_autofree char *by_addr = NULL;
    g_autofree char *snap = NULL;
    VrtDomainNetDef *vf, *virtio;

    add_team_virtio(env);
    g_assert_true(attach(env, pool_if, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(n_nets(env), ==, 2);
    vf = vrt_domain_def_find_net_by_alias(env->def, "net0");
    g_assert_nonnull(vf);
    g_assert_true(vf->actual.set && vf->actual.type == VRT_DOMAIN_NET_TYPE_HOSTDEV);
    g_assert_true(vrt_domain_def_find_hostdev_net_by_mac(env->def, vf->mac, NULL, NULL) == vf);
    assert_consistent(env);
    snap = host_snapshot(env);

    alias = vrt_qemu_hostdev_find(&env->ctx, pool_if, NULL, &err);
    g_assert_null(alias);
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_FAILED);
    g_assert_nonnull(strstr(err->message, "multiple devices matching MAC address 52:54:00:aa:bb:01 found"));
    g_clear_error(&err);
    {
        g_autofree char *now = host_snapshot(env);

        g_assert_cmpstr(now, ==, snap);
        g_assert_cmpuint(n_nets(env), ==, 2);
        g_assert_cmpuint(env->state->records->len, ==, 1);
    }

    by_addr = g_strdup_printf("<interface type='network'><mac address='52:54:00:aa:bb:01'/>"
                              "<source network='" POOL "'/><address type='pci' domain='0x%04x' bus='0x%02x' "
                              "slot='0x%02x' function='0x%x'/></interface>",
                              vf->info.pci.domain, vf->info.pci.bus, vf->info.pci.slot, vf->info.pci.function);
    alias = vrt_qemu_hostdev_find(&env->ctx, by_addr, NULL, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(alias, ==, "net0");
    g_assert_true(vrt_qemu_hostdev_detach(&env->ctx, alias, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(n_nets(env), ==, 1);
    virtio = vrt_domain_def_find_net_by_alias(env->def, "ua-team0");
    g_assert_nonnull(virtio);
    g_assert_true(virtio->type == VRT_DOMAIN_NET_TYPE_USER && !virtio->hostdev);
    /* nothing hostdev-backed with that MAC is left */
    g_assert_null(vrt_domain_def_find_hostdev_net_by_mac(env->def, virtio->mac, NULL, NULL));
    vrt_domain_net_def_free(vrt_domain_def_net_remove(env->def, virtio));
    assert_released(env, before);
    assert_consistent(env);
    env_close(env, true);
}

/* An interface naming its VF is found for detach by its <hostdev> XML and
 * by alias; a standalone hostdev has no MAC/VLAN change. */
static void
test_named_vf_and_hostdev(void)
{
    Env *env = env_open(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *before = host_snapshot(env);
    g_autofree char *alias = NULL;
    g_autofree char *alias2 = NULL;
    g_autofree char *drv = NULL;

    g_assert_true(attach(env, hostdev_if, &err));
    g_assert_no_error(err);
    g_assert_true(attach(env, plain_hostdev, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(n_nets(env), ==, 1);
    g_assert_cmpuint(n_hostdevs(env), ==, 2);
    drv = vf_driver(env, 1);
    g_assert_cmpstr(drv, ==, "vfio-pci");
    assert_consistent(env);

    /* The same VF again is refused and changes nothing. */
    g_assert_false(attach(env, plain_hostdev, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_clear_error(&err);
    g_assert_cmpuint(n_hostdevs(env), ==, 2);

    alias = vrt_qemu_hostdev_find(&env->ctx, hostdev_if_hostdev_xml, NULL, &err);
    g_assert_no_error(err);
    /* libvirt names an interface of type hostdev hostdevN too. */
    g_assert_cmpstr(alias, ==, "hostdev0");
    g_assert_true(vrt_qemu_hostdev_detach(&env->ctx, alias, &err));
    g_assert_cmpuint(n_nets(env), ==, 0);
    g_assert_cmpuint(n_hostdevs(env), ==, 1);
    alias2 = vrt_qemu_hostdev_find(&env->ctx, NULL, "hostdev1", &err);
    g_assert_cmpstr(alias2, ==, "hostdev1");
    g_assert_true(vrt_qemu_hostdev_detach(&env->ctx, alias2, &err));
    g_assert_no_error(err);
    assert_released(env, before);
    assert_consistent(env);
    env_close(env, true);
}

/* An empty pool: a clear error and nothing changes. */
static void
test_pool_exhausted(void)
{
    Env *env = env_open(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *mid = NULL;
    g_autofree char *after = NULL;

    g_assert_true(attach(env, "<interface type='network'><source network='" SMALL "'/></interface>", &err));
    g_assert_no_error(err);
    mid = host_snapshot(env);
    g_assert_false(attach(env, "<interface type='network'><source network='" SMALL "'/></interface>", &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(err->message, "none are available"));
    after = host_snapshot(env);
    g_assert_cmpstr(after, ==, mid);
    g_assert_cmpint(ports(env, SMALL), ==, 1);
    g_assert_cmpuint(n_nets(env), ==, 1);
    g_assert_cmpuint(env->state->records->len, ==, 1);
    assert_consistent(env);
    env_close(env, true);
}

/* Host faults from the real seam (netlink, sysfs) and fakes (QMP, status
 * write) at each step: everything is rolled back and the first error is
 * the one returned. */
typedef struct {
    const char *name;
    const char *host_fault; /* substring of the host change to refuse */
    bool device_add;
    int save_fail_at; /* status write to fail (counted from attach) */
    const char *step; /* engine step to fail */
    int code;
} FailCase;

/* Fails the first host change matching data->match (once, as a transient
 * kernel error would), so that the undo that follows can succeed. */
typedef struct {
    const char *match;
    bool fired;
} HostFault;

static bool
host_fault(const char *what, gpointer data, GError **error)
{
    HostFault *hf = data;

    if (hf->match && !hf->fired && strstr(what, hf->match)) {
        hf->fired = true;
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "injected host fault at %s", what);
        return false;
    }
    return true;
}

static void
test_rollback(gconstpointer data)
{
    const FailCase *fc = data;
    Env *env = env_open(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *before = host_snapshot(env);
    g_autoptr(GPtrArray) ids = NULL;
    HostFault hf = { fc->host_fault, false };

    vrt_host_set_fault_func(env->host, host_fault, &hf);
    env->fail_device_add = fc->device_add;
    env->fail_step = fc->step;
    if (fc->save_fail_at)
        env->save_fail_at = env->saves + fc->save_fail_at;
    g_assert_false(attach(env, pool_if, &err));
    g_assert_nonnull(err);
    g_test_message("%s: %s", fc->name, err->message);
    g_assert_cmpint(err->code, ==, fc->code);
    vrt_host_set_fault_func(env->host, NULL, NULL);
    assert_released(env, before);
    ids = read_ids(env);
    g_assert_cmpuint(ids->len, ==, 0);
    assert_consistent(env);
    env_close(env, true);
}

static const FailCase fail_cases[] = {
    { "vf-config", "netlink setlink", false, 0, NULL, VIR_ERR_SYSTEM_ERROR },
    { "detach-to-vfio", "driver_override", false, 0, NULL, VIR_ERR_SYSTEM_ERROR },
    { "device-add", NULL, true, 0, NULL, VIR_ERR_INTERNAL_ERROR },
    { "status-write-commit", NULL, false, 7, NULL, VIR_ERR_WRITE_FAILED },
    { "status-write-first", NULL, false, 1, NULL, VIR_ERR_WRITE_FAILED },
    { "step-claim", NULL, false, 0, "attach:claim", VIR_ERR_INTERNAL_ERROR },
    { "step-save-vf", NULL, false, 0, "attach:save-vf", VIR_ERR_INTERNAL_ERROR },
    { "step-set-vf", NULL, false, 0, "attach:set-vf", VIR_ERR_INTERNAL_ERROR },
    { "step-detach-host", NULL, false, 0, "attach:detach-host", VIR_ERR_INTERNAL_ERROR },
    { "step-device-add", NULL, false, 0, "attach:device-add", VIR_ERR_INTERNAL_ERROR },
    { "step-commit", NULL, false, 0, "attach:commit", VIR_ERR_INTERNAL_ERROR },
};

/* The guest does not answer: the call returns, the device stays listed and
 * pending, a second detach is refused without a second device_del, and the
 * late DEVICE_DELETED completes the removal. */
static void
test_pending_unplug(void)
{
    Env *env = env_open(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *before = host_snapshot(env);
    g_autoptr(GPtrArray) ids = NULL;
    VrtQemuHostdevRecord *rec;
    gint64 t0;

    env->ctx.unplug_wait_ms = SHORT_UNPLUG_MS;
    g_assert_true(attach(env, pool_if, &err));
    env->ack = false;
    t0 = g_get_monotonic_time();
    g_assert_true(vrt_qemu_hostdev_detach(&env->ctx, "net0", &err));
    g_assert_no_error(err);
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, SHORT_UNPLUG_MS * 1000);
    g_assert_cmpuint(n_nets(env), ==, 1);
    g_assert_cmpuint(n_hostdevs(env), ==, 1);
    g_assert_cmpint(ports(env, POOL), ==, 1);
    rec = vrt_qemu_hostdev_state_find(env->state, "net0");
    g_assert_true(vrt_qemu_hostdev_record_pending(rec));
    g_assert_cmpuint(env->device_dels, ==, 1);

    g_assert_false(vrt_qemu_hostdev_detach(&env->ctx, "net0", &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_clear_error(&err);
    g_assert_cmpuint(env->device_dels, ==, 1);

    /* The guest lets go. */
    ids = read_ids(env);
    g_ptr_array_set_size(ids, 0);
    write_ids(env, ids);
    g_assert_true(vrt_qemu_hostdev_device_deleted(&env->ctx, "net0", &err));
    g_assert_no_error(err);
    assert_released(env, before);
    assert_consistent(env);
    env_close(env, true);
}

/* An attach fails after device_add (here at commit) and the guest does
 * not let go of the device in time: the VF must not go back to the host
 * (nor its port to the pool) while the guest still has it. The device
 * stays listed, pending removal, and the late DEVICE_DELETED gives it
 * back. */
static void
test_rollback_guest_keeps_device(void)
{
    Env *env = env_open(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *before = host_snapshot(env);
    g_autofree char *drv = NULL;
    g_autoptr(GPtrArray) ids = NULL;
    VrtQemuHostdevRecord *rec;

    env->ctx.unplug_wait_ms = SHORT_UNPLUG_MS;
    env->ack = false;
    env->fail_step = "attach:commit";
    g_assert_false(attach(env, pool_if, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_assert_true(ids_have(env, "net0"));
    drv = vf_driver(env, 0);
    g_assert_cmpstr(drv, ==, "vfio-pci");
    g_assert_cmpint(ports(env, POOL), ==, 1);
    rec = vrt_qemu_hostdev_state_find(env->state, "net0");
    g_assert_nonnull(rec);
    g_assert_true(vrt_qemu_hostdev_record_pending(rec));
    g_assert_cmpuint(n_nets(env), ==, 1);
    assert_consistent(env);

    /* The guest lets go. */
    ids = read_ids(env);
    g_ptr_array_set_size(ids, 0);
    write_ids(env, ids);
    g_assert_true(vrt_qemu_hostdev_device_deleted(&env->ctx, "net0", &err));
    g_assert_no_error(err);
    assert_released(env, before);
    env_close(env, true);
}

/* An emulated interface is detached by the same job: one device_del, the
 * same pending state and refusal, a record in the status file while it
 * is pending that a restarted daemon finishes, then netdev_del. */
static void
test_emulated_unplug(void)
{
    Env *env = env_open(NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtDomainDeviceDef) dev = parse_dev(env, "<interface type='user'><mac address='52:54:00:aa:bb:09'/>"
                                                       "<model type='virtio'/></interface>");
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *dir = g_strdup(env->dir);
    g_autofree char *alias = NULL;
    VrtQemuHostdevRecord *rec;

    g_assert_true(vrt_domain_def_assign_device_address(env->def, dev, &err));
    alias = g_strdup(dev->data.net->info.alias);
    vrt_domain_def_net_insert(env->def, g_steal_pointer(&dev->data.net));
    g_ptr_array_add(ids, g_strdup(alias));
    write_ids(env, ids);
    g_assert_false(vrt_qemu_hostdev_owns(&env->ctx, alias));

    env->ctx.unplug_wait_ms = SHORT_UNPLUG_MS;
    env->ack = false;
    g_assert_true(vrt_qemu_hostdev_detach_emulated(&env->ctx, alias, &err));
    g_assert_no_error(err);
    rec = vrt_qemu_hostdev_state_find(env->state, alias);
    g_assert_nonnull(rec);
    g_assert_true(vrt_qemu_hostdev_record_pending(rec));
    g_assert_cmpuint(n_nets(env), ==, 1);
    g_assert_false(vrt_qemu_hostdev_detach_emulated(&env->ctx, alias, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_clear_error(&err);
    g_assert_false(vrt_qemu_hostdev_detach(&env->ctx, alias, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_clear_error(&err);
    g_assert_cmpuint(env->device_dels, ==, 1);
    g_assert_cmpuint(env->netdev_dels, ==, 0);

    /* The daemon restarts; the guest let go meanwhile. */
    env_close(env, false);
    env = env_open(dir);
    g_ptr_array_set_size(ids, 0);
    write_ids(env, ids);
    g_assert_cmpuint(env->state->records->len, ==, 1);
    g_assert_true(vrt_qemu_hostdev_recover(&env->ctx, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(env->state->records->len, ==, 0);
    g_assert_cmpuint(n_nets(env), ==, 0);
    g_assert_cmpuint(env->netdev_dels, ==, 1);
    assert_consistent(env);
    env_close(env, true);
}

/* The record round-trips through its status XML. */
static void
test_record_xml(void)
{
    g_autoptr(VrtQemuHostdevState) st = vrt_qemu_hostdev_state_new();
    g_autoptr(VrtQemuHostdevState) back = NULL;
    g_autoptr(GError) err = NULL;
    VrtQemuHostdevRecord *r = g_new0(VrtQemuHostdevRecord, 1);
    g_autofree char *xml = NULL;
    g_autofree char *xml2 = NULL;

    r->alias = g_strdup("net1");
    r->addr = (VrtPciAddr){ .bus = 6, .slot = 0x10, .function = 2 };
    r->addr_set = true;
    r->kind = VRT_QEMU_HOSTDEV_KIND_NET_NETWORK;
    r->network = g_strdup("po'ol");
    r->port_set = true;
    r->port_uuid[0] = 0xab;
    r->managed = true;
    r->is_vf = true;
    r->job = VRT_QEMU_HOSTDEV_JOB_DETACH;
    r->running = VRT_QEMU_HOSTDEV_STEP_RESTORE_VF;
    r->done = VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_CLAIM) |
              VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_SAVE_VF) |
              VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_SET_VF) |
              VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL) |
              VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_REMOVE);
    r->orig_driver = g_strdup("ixgbevf");
    r->orig_mac[5] = 7;
    r->orig_vlan = 100;
    r->orig_spoofchk = true;
    g_ptr_array_add(st->records, r);
    xml = vrt_qemu_hostdev_state_format(st);
    back = vrt_qemu_hostdev_state_parse(xml, &err);
    g_assert_no_error(err);
    xml2 = vrt_qemu_hostdev_state_format(back);
    g_assert_cmpstr(xml, ==, xml2);
    g_assert_cmpstr(((VrtQemuHostdevRecord *)back->records->pdata[0])->network, ==, "po'ol");
    g_assert_null(vrt_qemu_hostdev_state_parse("<hostdev-records><record alias='x'/></hostdev-records>", &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_PARSE_FAILED);
    g_clear_error(&err);
    /* The address is read once, here: one that is not a PCI address
     * refuses the record; addr='' is a record without a device yet. */
    g_assert_null(vrt_qemu_hostdev_state_parse("<hostdev-records><record alias='x' kind='hostdev' addr='06:10'"
                                               " job='none' step='none'/></hostdev-records>",
                                               &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_PARSE_FAILED);
    g_clear_error(&err);
    {
        g_autoptr(VrtQemuHostdevState) some = vrt_qemu_hostdev_state_parse(
            "<hostdev-records><record alias='a' kind='interface-network' addr='' job='attach' step='claim'/>"
            "<record alias='b' kind='hostdev' addr='06:10.1' job='none' step='none'/></hostdev-records>",
            &err);
        VrtPciAddr vf = { .bus = 6, .slot = 0x10, .function = 1 };

        g_assert_no_error(err);
        g_assert_false(vrt_qemu_hostdev_state_find(some, "a")->addr_set);
        g_assert_true(vrt_qemu_hostdev_state_find_addr(some, &vf) == vrt_qemu_hostdev_state_find(some, "b"));
    }
    /* Every step's name leads back to it (the table is in step order). */
    for (int s = VRT_QEMU_HOSTDEV_STEP_NONE; s < VRT_QEMU_HOSTDEV_N_STEPS; s++)
        g_assert_cmpint(vrt_qemu_hostdev_step_from_string(vrt_qemu_hostdev_step_to_string(s)), ==, s);
}

/* A record written before the step table (no done list, step = the last
 * step started) reads as the steps that had run before it. */
static void
test_old_record_steps(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtQemuHostdevState) st = vrt_qemu_hostdev_state_parse(
        "<hostdev-records>"
        "<record alias='net0' kind='interface-network' addr='0000:06:10.0' managed='yes' vf='yes' job='attach'"
        " step='set-vf' pending='no' mac='52:54:00:aa:bb:01' network='pool'"
        " port='6a1e2f3c-0d4b-4c5e-9f60-7182a3b4c5d6'><original driver='ixgbevf' mac='00:00:00:00:00:00'"
        " vlan='0' qos='0' spoofchk='yes' trust='no'/></record>"
        "<record alias='hostdev0' kind='hostdev' addr='0000:06:10.1' managed='no' vf='yes' job='none'"
        " step='commit' pending='no' mac='00:00:00:00:00:00'/>"
        "<record alias='net1' kind='interface-hostdev' addr='0000:06:10.2' managed='yes' vf='yes' job='detach'"
        " step='device-del' pending='yes' mac='52:54:00:aa:bb:02'/>"
        "<record alias='net2' kind='interface-hostdev' addr='0000:06:10.3' managed='yes' vf='yes' job='attach'"
        " step='none' pending='no' mac='52:54:00:aa:bb:03'/>"
        "</hostdev-records>",
        &err);
    VrtQemuHostdevRecord *r;

    g_assert_no_error(err);
    r = vrt_qemu_hostdev_state_find(st, "net0");
    g_assert_cmpuint(r->done, ==,
                     VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_CLAIM) |
                         VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_SAVE_VF));
    g_assert_cmpint(r->running, ==, VRT_QEMU_HOSTDEV_STEP_SET_VF);
    /* Attached, not managed, no MAC of its own: no set-vf, no detach-host. */
    r = vrt_qemu_hostdev_state_find(st, "hostdev0");
    g_assert_cmpint(r->running, ==, VRT_QEMU_HOSTDEV_STEP_NONE);
    g_assert_cmpuint(r->done, ==,
                     VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_CLAIM) |
                         VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_SAVE_VF) |
                         VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_DEVICE_ADD) |
                         VRT_QEMU_HOSTDEV_STEP_BIT(VRT_QEMU_HOSTDEV_STEP_COMMIT));
    r = vrt_qemu_hostdev_state_find(st, "net1");
    g_assert_true(vrt_qemu_hostdev_record_pending(r));
    g_assert_true(vrt_qemu_hostdev_record_done(r, VRT_QEMU_HOSTDEV_STEP_SET_VF));
    g_assert_true(vrt_qemu_hostdev_record_done(r, VRT_QEMU_HOSTDEV_STEP_DETACH_HOST));
    g_assert_false(vrt_qemu_hostdev_record_done(r, VRT_QEMU_HOSTDEV_STEP_DEVICE_DEL));
    /* Created, nothing started yet. */
    r = vrt_qemu_hostdev_state_find(st, "net2");
    g_assert_cmpuint(r->done, ==, 0);
    g_assert_cmpint(r->running, ==, VRT_QEMU_HOSTDEV_STEP_NONE);
}

/* Domain start sets up every hostdev-backed device of the definition
 * (pool interface, named VF, standalone hostdev) and stop gives them all
 * back; a failure part way releases what was taken. */
static void
set_start_def(Env *env)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *xml =
        g_strdup_printf("<domain type='qemu'><name>guest</name><uuid>6a1e2f3c-0d4b-4c5e-9f60-7182a3b4c5d6</uuid>"
                        "<memory unit='KiB'>131072</memory><vcpu>1</vcpu>"
                        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>%s%s%s</devices></domain>",
                        pool_if, hostdev_if, plain_hostdev);

    vrt_domain_def_free(env->def);
    env->def = vrt_domain_def_parse(xml, 0, &err);
    g_assert_no_error(err);
    g_assert_true(vrt_domain_def_assign_addresses(env->def, &err));
    env->ctx.def = env->def;
}

static void
test_start_release(void)
{
    Env *env = env_open(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *before = host_snapshot(env);
    g_autofree char *after = NULL;
    g_autofree char *d0 = NULL, *d1 = NULL, *d2 = NULL;
    VrtDomainNetDef *pool;

    set_start_def(env);
    g_assert_true(vrt_qemu_hostdev_prepare_start(&env->ctx, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(env->state->records->len, ==, 3);
    g_assert_cmpint(ports(env, POOL), ==, 1);
    pool = vrt_domain_def_find_net_by_mac(env->def, (const guint8[]){ 0x52, 0x54, 0, 0xaa, 0xbb, 1 });
    g_assert_nonnull(pool);
    g_assert_true(pool->actual.set);
    g_assert_nonnull(pool->hostdev);
    g_assert_cmpuint(n_hostdevs(env), ==, 3);
    d0 = vf_driver(env, 0);
    d1 = vf_driver(env, 1);
    d2 = vf_driver(env, 2);
    g_assert_cmpstr(d0, ==, "vfio-pci"); /* the pool's first free VF */
    g_assert_cmpstr(d1, ==, "vfio-pci");
    g_assert_cmpstr(d2, ==, "vfio-pci");
    vrt_qemu_hostdev_release_all(&env->ctx);
    g_assert_cmpuint(env->state->records->len, ==, 0);
    g_assert_cmpint(ports(env, POOL), ==, 0);
    g_assert_false(pool->actual.set);
    after = host_snapshot(env);
    g_assert_cmpstr(after, ==, before);

    /* The standalone hostdev (third device) fails: the first two go back. */
    env->fail_step = "attach:detach-host";
    env->fail_skip = 2;
    set_start_def(env);
    g_assert_false(vrt_qemu_hostdev_prepare_start(&env->ctx, &err));
    g_assert_nonnull(err);
    g_assert_cmpuint(env->state->records->len, ==, 0);
    g_assert_cmpint(ports(env, POOL), ==, 0);
    g_clear_pointer(&after, g_free);
    after = host_snapshot(env);
    g_assert_cmpstr(after, ==, before);
    env_close(env, true);
}

/* ---- crash and recovery ---- */

typedef struct {
    const char *die_at;
    bool detach;
    bool shared; /* the VF shares its MAC with a virtio interface (a teaming pair) */
} CrashCase;

/* In a child: open the environment from dir, run the job with the real
 * die-at hook, exit 0 if it was not killed. */
static void
run_child(const char *dir, const CrashCase *cc)
{
    Env *env = env_open(dir);
    g_autoptr(GError) err = NULL;

    env->ctx.fault = vrt_qemu_hostdev_fault_die_at;
    env->ctx.fault_data = (gpointer)cc->die_at;
    if (cc->detach)
        vrt_qemu_hostdev_detach(&env->ctx, "net0", &err);
    else
        attach(env, pool_if, &err);
    _exit(3);
}

static void
test_crash(gconstpointer data)
{
    const CrashCase *cc = data;
    Env *env = env_open(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *before = host_snapshot(env);
    g_autofree char *dir = g_strdup(env->dir);
    g_autoptr(GPtrArray) ids = NULL;
    pid_t pid;
    int status = 0;

    if (cc->shared)
        add_team_virtio(env);
    if (cc->detach)
        g_assert_true(attach(env, pool_if, &err));
    env_close(env, false);

    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0)
        run_child(dir, cc);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFSIGNALED(status));
    g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);

    env = env_open(dir);
    g_assert_true(vrt_qemu_hostdev_recover(&env->ctx, &err));
    g_assert_no_error(err);
    assert_consistent(env);
    if (cc->shared) {
        /* the replay went to the VF's interface; the virtio half sharing
         * its MAC is as it was, and leaves for the checks below */
        VrtDomainNetDef *virtio = vrt_domain_def_find_net_by_alias(env->def, "ua-team0");

        g_assert_nonnull(virtio);
        g_assert_true(virtio->type == VRT_DOMAIN_NET_TYPE_USER && !virtio->hostdev && !virtio->actual.set);
        g_assert_cmpmem(virtio->mac, 6, ((const guint8[]){ 0x52, 0x54, 0, 0xaa, 0xbb, 1 }), 6);
        g_assert_null(vrt_qemu_hostdev_state_find(env->state, "ua-team0"));
        vrt_domain_net_def_free(vrt_domain_def_net_remove(env->def, virtio));
    }
    ids = read_ids(env);
    if (env->state->records->len == 0) {
        /* Undone (attach) or finished (detach): the host is as before. */
        assert_released(env, before);
        g_assert_cmpuint(ids->len, ==, 0);
    } else {
        /* Kept (detach not yet acknowledged): one VF, one port, listed. */
        g_assert_true(cc->detach);
        g_assert_cmpint(ports(env, POOL), ==, 1);
        g_assert_cmpuint(n_nets(env), ==, 1);
        g_assert_cmpuint(n_hostdevs(env), ==, 1);
        g_assert_true(ids_have(env, "net0"));
    }
    /* Whatever is left detaches cleanly. */
    if (env->state->records->len > 0) {
        VrtQemuHostdevRecord *rec = g_ptr_array_index(env->state->records, 0);

        if (vrt_qemu_hostdev_record_pending(rec)) {
            g_autoptr(GPtrArray) none = g_ptr_array_new();

            write_ids(env, none);
            g_assert_true(vrt_qemu_hostdev_device_deleted(&env->ctx, "net0", &err));
        } else {
            g_assert_true(vrt_qemu_hostdev_detach(&env->ctx, "net0", &err));
        }
        g_assert_no_error(err);
        assert_released(env, before);
    }
    env_close(env, true);
}

static const CrashCase crash_cases[] = {
    { "attach:claim", false, false },       { "attach:save-vf", false, false },    { "attach:set-vf", false, false },
    { "attach:detach-host", false, false }, { "attach:device-add", false, false }, { "attach:commit", false, false },
    { "detach:device-del", true, false },   { "detach:remove", true, false },      { "detach:reattach", true, false },
    { "detach:restore-vf", true, false },   { "detach:release", true, false },     { "detach:done", true, false },
    { "attach:set-vf", false, true },       { "attach:device-add", false, true },  { "attach:commit", false, true },
    { "detach:device-del", true, true },    { "detach:remove", true, true },       { "detach:restore-vf", true, true },
    { "detach:done", true, true },
};

/* A daemon of the old record format died in an attach right after
 * setting the VF's MAC/VLAN (its record said step='set-vf') or after
 * moving the VF to vfio-pci (step='detach-host'); the new one reads that
 * record and gives the VF, its settings and its port back. */
typedef struct {
    const char *die_at; /* where the job stops, leaving the host in that state */
    const char *old_step; /* the step the old code had recorded there */
} OldCase;

static const OldCase old_cases[] = {
    { "attach:detach-host", "set-vf" },
    { "attach:device-add", "detach-host" },
};

static void
test_old_record_recovers(gconstpointer data)
{
    const OldCase *oc = data;
    Env *env = env_open(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *before = host_snapshot(env);
    g_autofree char *dir = g_strdup(env->dir);
    g_autofree char *text = NULL;
    g_autoptr(GRegex) done = g_regex_new(" done='[^']*'", 0, 0, NULL);
    g_autoptr(GRegex) step = g_regex_new(" step='[^']*'", 0, 0, NULL);
    g_autofree char *old1 = NULL;
    g_autofree char *old2 = NULL;
    g_autofree char *old_attr = g_strdup_printf(" step='%s'", oc->old_step);
    g_autofree char *rec_path = g_build_filename(dir, "status-records.xml", NULL);
    pid_t pid;
    int status = 0;

    env_close(env, false);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        CrashCase cc = { oc->die_at, false };

        run_child(dir, &cc);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFSIGNALED(status));
    env = env_open(dir);
    g_assert_cmpint(ports(env, POOL), ==, 1);
    g_assert_true(g_file_get_contents(env->rec_path, &text, NULL, NULL));
    old1 = g_regex_replace_literal(done, text, -1, 0, "", 0, NULL);
    old2 = g_regex_replace_literal(step, old1, -1, 0, old_attr, 0, NULL);
    g_assert_null(strstr(old2, "done="));
    env_close(env, false);
    g_assert_true(g_file_set_contents(rec_path, old2, -1, NULL));

    env = env_open(dir);
    g_assert_true(vrt_qemu_hostdev_recover(&env->ctx, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(env->state->records->len, ==, 0);
    assert_released(env, before);
    env_close(env, true);
}

/* ---- main: hostsim around the tests ---- */

static bool
hostsim(const char *cmd, const char *root, char **out)
{
    g_autofree char *line = g_strdup_printf("/usr/bin/python3 '%s/tests/hostsim/hostsim' %s '%s'%s", VRT_SOURCE_ROOT,
                                            cmd, root, g_str_equal(cmd, "start") ? " --pfs 1 --vfs 4" : "");
    g_autofree char *err = NULL;
    g_autofree char *ignored = NULL;
    int status = -1;

    if (!g_spawn_command_line_sync(line, out ? out : &ignored, &err, &status, NULL))
        return false;
    if (status != 0)
        g_printerr("hostsim %s: %s\n", cmd, err ? err : "");
    return status == 0;
}

static void
skip_all(void)
{
    g_test_skip("hostsim (FUSE simulated SR-IOV host) cannot run here: needs root, /dev/fuse, python3-fusepy");
}

int
main(int argc, char **argv)
{
    g_autofree char *tmp = NULL;
    int ret;

    g_test_init(&argc, &argv, NULL);
    /* Undo failures are logged as warnings by design; they are not test
     * failures by themselves (the assertions check the outcome). */
    g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
    g_test_add_func("/qemu/hostdev/record-xml", test_record_xml);
    g_test_add_func("/qemu/hostdev/old-record-steps", test_old_record_steps);
    tmp = g_dir_make_tmp("vrt-hostsim-XXXXXX", NULL);
    if (getuid() != 0 || !g_file_test("/dev/fuse", G_FILE_TEST_EXISTS) || !hostsim("start", tmp, NULL)) {
        g_test_add_func("/qemu/hostdev/skipped", skip_all);
        return g_test_run();
    }
    host_root = tmp;
    g_test_add_func("/qemu/hostdev/pool-attach-detach", test_pool_attach_detach);
    g_test_add_func("/qemu/hostdev/named-vf-and-hostdev", test_named_vf_and_hostdev);
    g_test_add_func("/qemu/hostdev/shared-mac", test_shared_mac);
    g_test_add_func("/qemu/hostdev/pool-exhausted", test_pool_exhausted);
    g_test_add_func("/qemu/hostdev/pending-unplug", test_pending_unplug);
    g_test_add_func("/qemu/hostdev/emulated-unplug", test_emulated_unplug);
    g_test_add_func("/qemu/hostdev/rollback-guest-keeps-device", test_rollback_guest_keeps_device);
    g_test_add_func("/qemu/hostdev/start-release", test_start_release);
    for (guint i = 0; i < G_N_ELEMENTS(old_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/hostdev/old-record-recovers/%s", old_cases[i].old_step);

        g_test_add_data_func(path, &old_cases[i], test_old_record_recovers);
    }
    for (guint i = 0; i < G_N_ELEMENTS(fail_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/hostdev/rollback/%s", fail_cases[i].name);
        g_test_add_data_func(path, &fail_cases[i], test_rollback);
    }
    for (guint i = 0; i < G_N_ELEMENTS(crash_cases); i++) {
        g_autofree char *name = g_strdelimit(g_strdup(crash_cases[i].die_at), ":", '-');
        g_autofree char *path =
            g_strdup_printf("/qemu/hostdev/crash/%s%s", name, crash_cases[i].shared ? "-shared-mac" : "");
        g_test_add_data_func(path, &crash_cases[i], test_crash);
    }
    ret = g_test_run();
    hostsim("stop", tmp, NULL);
    {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            g_printerr("cannot remove %s\n", tmp);
    }
    return ret;
}
