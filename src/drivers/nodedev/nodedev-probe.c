/*
 * vrt-nodedev-probe: runs one call of vrt's node device / PCI / SR-IOV API
 * against a host root, for the integration tests that drive the simulated
 * host (tests/integration/test_hostsim.py) and for looking at a real host.
 *
 *   vrt-nodedev-probe ROOT list [FLAGS] | count [CAP] | xml NAME | parent NAME
 *                          | caps NAME | detach NAME [DRIVER] | reattach NAME
 *                          | reset NAME | busy ADDR | vfs PF_IFNAME
 *                          | getvf ADDR | setvf ADDR MAC VLAN
 *                          | detach-inuse NAME DOMAIN
 *
 * Prints results on stdout; on failure prints "error <code>: <message>"
 * on stderr and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/nodedev/nodedev.h"
#include "host/sriov.h"
#include "util/error.h"

static void
print_names(GPtrArray *names)
{
    for (guint i = 0; i < names->len; i++)
        printf("%s\n", (char *)names->pdata[i]);
}

static bool
run(VrtHost *host, VrtNodedevDriver *drv, VrtVfRegistry *reg, int argc, char **argv, GError **error)
{
    const char *cmd = argv[0];
    const char *arg = argc > 1 ? argv[1] : NULL;
    VrtPciAddr addr;

    if (strcmp(cmd, "list") == 0) {
        g_autoptr(GPtrArray) names = vrt_nodedev_drv_list(drv, arg ? (guint)strtoul(arg, NULL, 0) : 0, error);
        if (names)
            print_names(names);
        return names != NULL;
    }
    if (strcmp(cmd, "count") == 0) {
        int n = vrt_nodedev_drv_count(drv, arg, error);
        if (n >= 0)
            printf("%d\n", n);
        return n >= 0;
    }
    if (strcmp(cmd, "xml") == 0 || strcmp(cmd, "parent") == 0) {
        g_autofree char *out =
            cmd[0] == 'x' ? vrt_nodedev_drv_get_xml(drv, arg, error) : vrt_nodedev_drv_get_parent(drv, arg, error);
        if (out)
            printf("%s%s", out, cmd[0] == 'x' ? "" : "\n");
        return out != NULL;
    }
    if (strcmp(cmd, "caps") == 0) {
        g_autoptr(GPtrArray) caps = vrt_nodedev_drv_list_caps(drv, arg, error);
        if (caps)
            print_names(caps);
        return caps != NULL;
    }
    if (strcmp(cmd, "detach") == 0)
        return vrt_nodedev_drv_detach(drv, arg, argc > 2 ? argv[2] : NULL, error);
    if (strcmp(cmd, "detach-inuse") == 0 && argc > 2) {
        /* domain argv[2] holds the device, as a running domain would */
        static const guchar dom_uuid[16] = { 1 };
        g_autoptr(VrtVfHolder) dom = vrt_vf_holder_new_domain(argv[2], dom_uuid);
        if (!vrt_pci_addr_parse_nodedev_name(arg, &addr)) {
            vrt_error_set(error, VIR_ERR_NO_NODE_DEVICE, "no node device with matching name '%s'", arg);
            return false;
        }
        if (!vrt_vf_registry_claim(reg, &addr, dom, NULL, error))
            return false;
        return vrt_nodedev_drv_detach(drv, arg, NULL, error);
    }
    if (strcmp(cmd, "reattach") == 0)
        return vrt_nodedev_drv_reattach(drv, arg, error);
    if (strcmp(cmd, "reset") == 0)
        return vrt_nodedev_drv_reset(drv, arg, error);
    if (strcmp(cmd, "vfs") == 0) {
        g_autoptr(GPtrArray) vfs = vrt_sriov_list_vfs_by_netdev(host, arg, error);
        for (guint i = 0; vfs && i < vfs->len; i++) {
            g_autofree char *s = vrt_pci_addr_format(vfs->pdata[i]);
            printf("%s\n", s);
        }
        return vfs != NULL;
    }
    if (!arg || !vrt_pci_addr_parse(arg, &addr, error)) {
        if (!arg)
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown command or missing argument '%s'", cmd);
        return false;
    }
    if (strcmp(cmd, "busy") == 0) {
        g_autofree char *why = NULL;
        int rc = vrt_pci_is_busy_on_host(host, &addr, &why, error);
        if (rc >= 0)
            printf("%s\n", rc ? why : "free");
        return rc >= 0;
    }
    if (strcmp(cmd, "getvf") == 0) {
        VrtVfInfo info;
        char mac[VRT_MAC_STRING_LEN];
        if (!vrt_sriov_get_vf_config(host, &addr, &info, error))
            return false;
        vrt_mac_format(info.mac, mac);
        printf("mac %s vlan %u qos %u spoofchk %d trust %d\n", mac, info.vlan, info.qos, info.spoofchk, info.trust);
        return true;
    }
    if (strcmp(cmd, "setvf") == 0 && argc > 3) {
        VrtVfInfo info = { 0 };
        if (!vrt_mac_parse(argv[2], info.mac)) {
            vrt_error_set(error, VIR_ERR_INVALID_MAC, "invalid MAC '%s'", argv[2]);
            return false;
        }
        info.vlan = (guint)strtoul(argv[3], NULL, 10);
        return vrt_sriov_set_vf_config(host, &addr, &info, VRT_VF_FIELD_MAC | VRT_VF_FIELD_VLAN, error);
    }
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown command '%s'", cmd);
    return false;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtHost) host = NULL;
    g_autoptr(VrtVfRegistry) vfs = vrt_vf_registry_new();
    g_autoptr(VrtNodedevDriver) drv = NULL;

    if (argc < 3) {
        fprintf(stderr, "usage: %s ROOT COMMAND [ARGS...]\n", argv[0]);
        return 2;
    }
    if (!(host = vrt_host_new(argv[1], &error)) || !(drv = vrt_nodedev_driver_new(host, vfs, &error)) ||
        !run(host, drv, vfs, argc - 2, argv + 2, &error)) {
        fprintf(stderr, "error %d: %s\n", vrt_error_code(error), error ? error->message : "unknown");
        return 1;
    }
    return 0;
}
