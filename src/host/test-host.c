/*
 * Unit tests of the host seam: PCI address syntax, MAC parsing, the rtnetlink
 * encoder/decoder and the UNIX transport with its retry, the host root's
 * path rules, fault function and write function, host facts read under
 * the root (hostinfo.c), and the kernel's answers to our netlink.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/arp.h"
#include "host/host.h"
#include "host/hostinfo.h"
#include "host/netlink.h"
#include "host/pci.h"
#include "util/error.h"
static void
test_netlink_setlink_roundtrip(void)
{
    VrtVfInfo in = {
        .mac = { 0x52, 0x54, 0, 0xaa, 0xbb, 0xcc }, .vlan = 42, .qos = 3, .spoofchk = true, .trust = true
    };
    guint all = VRT_VF_FIELD_MAC | VRT_VF_FIELD_VLAN | VRT_VF_FIELD_SPOOFCHK | VRT_VF_FIELD_TRUST;
    guint sets[] = { VRT_VF_FIELD_MAC, VRT_VF_FIELD_VLAN, VRT_VF_FIELD_MAC | VRT_VF_FIELD_VLAN, all };

    for (gsize i = 0; i < G_N_ELEMENTS(sets); i++) {
        g_autoptr(GByteArray) msg = vrt_netlink_encode_setlink_vf(77, "ens1f0", 5, &in, sets[i]);
        struct nlmsghdr h;
        g_autofree char *ifname = NULL;
        VrtVfInfo out = { 0 };
        guint vf = 0, fields = 0;
        g_autoptr(GError) err = NULL;

        memcpy(&h, msg->data, sizeof(h));
        g_assert_cmpuint(h.nlmsg_len, ==, msg->len);
        g_assert_cmpuint(h.nlmsg_type, ==, RTM_SETLINK);
        g_assert_cmpuint(h.nlmsg_flags, ==, NLM_F_REQUEST | NLM_F_ACK);
        g_assert_cmpuint(h.nlmsg_seq, ==, 77);
        g_assert_cmpuint(msg->len % 4, ==, 0);
        g_assert_true(vrt_netlink_decode_setlink_vf(msg->data, msg->len, &ifname, &vf, &out, &fields, &err));
        g_assert_no_error(err);
        g_assert_cmpstr(ifname, ==, "ens1f0");
        g_assert_cmpuint(vf, ==, 5);
        g_assert_cmpuint(fields, ==, sets[i]);
        if (sets[i] & VRT_VF_FIELD_MAC)
            g_assert_cmpmem(out.mac, VRT_MAC_LEN, in.mac, VRT_MAC_LEN);
        if (sets[i] & VRT_VF_FIELD_VLAN) {
            g_assert_cmpuint(out.vlan, ==, 42);
            g_assert_cmpuint(out.qos, ==, 3);
        }
        if (sets[i] & VRT_VF_FIELD_TRUST)
            g_assert_true(out.trust && out.spoofchk);
    }
}

static void
test_netlink_newlink_decode(void)
{
    VrtVfInfo vfs[3] = { { .vlan = 1 },
                         { .mac = { 2, 0, 0, 0, 0, 1 }, .vlan = 100, .spoofchk = true },
                         { .vlan = 7, .trust = true } };
    g_autoptr(GByteArray) msg = vrt_netlink_encode_newlink(9, "ens1f0", vfs, 3);
    g_autoptr(GError) err = NULL;
    VrtVfInfo out;

    for (guint i = 0; i < 3; i++) {
        g_assert_true(vrt_netlink_decode_vf(msg->data, msg->len, i, &out, &err));
        g_assert_no_error(err);
        g_assert_cmpmem(out.mac, VRT_MAC_LEN, vfs[i].mac, VRT_MAC_LEN);
        g_assert_cmpuint(out.vlan, ==, vfs[i].vlan);
        g_assert_cmpint(out.spoofchk, ==, vfs[i].spoofchk);
        g_assert_cmpint(out.trust, ==, vfs[i].trust);
    }
    g_assert_false(vrt_netlink_decode_vf(msg->data, msg->len, 3, &out, &err));
    g_assert_nonnull(strstr(err->message, "VF 3"));
    g_clear_error(&err);
    /* every truncation is refused or decoded within bounds, never read past */
    for (gsize len = 0; len < msg->len; len++) {
        g_autofree guint8 *copy = g_memdup2(msg->data, len ? len : 1);
        bool ok = vrt_netlink_decode_vf(copy, len, 1, &out, &err);
        g_assert_true(ok || err);
        g_clear_error(&err);
    }
}

/* A fake PF on a UNIX socket: answers EBUSY `busy` times, then applies the
 * request and acks; a GETLINK gets an RTM_NEWLINK describing 2 VFs. */
typedef struct {
    int listen_fd;
    int busy;
    int raw_error; /* when set, the error field of every ack, as is */
    VrtVfInfo vfs[2];
} FakePf;

static gpointer
fake_pf_thread(gpointer data)
{
    FakePf *pf = data;

    for (;;) {
        int fd = accept(pf->listen_fd, NULL, NULL);
        guint8 buf[4096];
        ssize_t n;
        struct nlmsghdr h;

        if (fd < 0)
            return NULL;
        n = recv(fd, buf, sizeof(buf), 0);
        g_assert_cmpint(n, >=, (ssize_t)sizeof(h));
        memcpy(&h, buf, sizeof(h));
        if (h.nlmsg_type == RTM_GETLINK) {
            g_autoptr(GByteArray) reply = vrt_netlink_encode_newlink(h.nlmsg_seq, "ens1f0", pf->vfs, 2);
            g_assert_cmpint(send(fd, reply->data, reply->len, 0), ==, (ssize_t)reply->len);
        } else {
            struct {
                struct nlmsghdr h;
                struct nlmsgerr e;
            } ack = { .h = { .nlmsg_len = sizeof(ack), .nlmsg_type = NLMSG_ERROR, .nlmsg_seq = h.nlmsg_seq } };
            g_autofree char *ifname = NULL;
            guint vf, fields;
            VrtVfInfo info = { 0 };

            if (pf->raw_error) {
                ack.e.error = pf->raw_error;
            } else if (pf->busy > 0) {
                pf->busy--;
                ack.e.error = -EBUSY;
            } else if (!vrt_netlink_decode_setlink_vf(buf, n, &ifname, &vf, &info, &fields, NULL) || vf > 1) {
                ack.e.error = -EINVAL;
            } else {
                pf->vfs[vf] = info;
            }
            ack.e.msg = h;
            g_assert_cmpint(send(fd, &ack, sizeof(ack), 0), ==, (ssize_t)sizeof(ack));
        }
        close(fd);
    }
}

static void
test_netlink_unix_transport(void)
{
    g_autofree char *dir = g_dir_make_tmp("vrt-nl-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "netlink.sock", NULL);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    FakePf pf = { .busy = 2 };
    g_autoptr(VrtNetlink) nl = vrt_netlink_new_unix(path);
    g_autoptr(GError) err = NULL;
    VrtVfInfo set = { .mac = { 0x52, 0x54, 0, 1, 2, 3 }, .vlan = 10 };
    VrtVfInfo got;
    GThread *th;

    pf.listen_fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    g_assert_cmpint(bind(pf.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(pf.listen_fd, 4), ==, 0);
    th = g_thread_new("fake-pf", fake_pf_thread, &pf);

    /* two EBUSY answers are retried through */
    g_assert_true(vrt_netlink_set_vf(nl, "ens1f0", 1, &set, VRT_VF_FIELD_MAC | VRT_VF_FIELD_VLAN, &err));
    g_assert_no_error(err);
    g_assert_cmpint(pf.busy, ==, 0);
    g_assert_true(vrt_netlink_get_vf(nl, "ens1f0", 1, &got, &err));
    g_assert_cmpmem(got.mac, VRT_MAC_LEN, set.mac, VRT_MAC_LEN);
    g_assert_cmpuint(got.vlan, ==, 10);

    /* a lasting EBUSY gives up with the errno in the message */
    pf.busy = 100;
    g_assert_false(vrt_netlink_set_vf(nl, "ens1f0", 1, &set, VRT_VF_FIELD_MAC, &err));
    g_assert_nonnull(strstr(err->message, g_strerror(EBUSY)));
    g_clear_error(&err);
    pf.busy = 0;
    g_assert_false(vrt_netlink_set_vf(nl, "ens1f0", 7, &set, VRT_VF_FIELD_MAC, &err));
    g_assert_nonnull(strstr(err->message, "VF 7"));
    g_clear_error(&err);

    /* an error field that is no negated errno still fails with a reason */
    pf.raw_error = EINVAL;
    g_assert_false(vrt_netlink_set_vf(nl, "ens1f0", 1, &set, VRT_VF_FIELD_MAC, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, g_strerror(EPROTO)));
    g_clear_error(&err);
    pf.raw_error = G_MININT;
    g_assert_false(vrt_netlink_set_vf(nl, "ens1f0", 1, &set, VRT_VF_FIELD_MAC, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, g_strerror(EPROTO)));
    g_clear_error(&err);

    shutdown(pf.listen_fd, SHUT_RDWR);
    close(pf.listen_fd);
    g_thread_join(th);
    unlink(path);
    rmdir(dir);
}

static bool
refuse_unbind(const char *what, gpointer data, GError **error)
{
    if (g_str_has_suffix(what, "/unbind")) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "injected fault at '%s'", what);
        return false;
    }
    return true;
}

/* A kernel stand-in: notes the write and refuses a bind. */
static bool
note_write(const char *path, const char *value, gpointer data, GError **error)
{
    g_string_append_printf(data, "%s=%s;", path, value);
    if (g_str_has_suffix(path, "/bind")) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, ENODEV, "cannot write '%s' to '%s'", value, path);
        return false;
    }
    return true;
}

/* The seam resolves host paths under its root and names the host path,
 * not the real one, in its errors; the fault hook sees every write; a
 * write function takes every write the fault hook lets through, in place
 * of the file. */
static void
test_host_seam(void)
{
    g_autofree char *root = g_dir_make_tmp("vrt-host-XXXXXX", NULL);
    g_autofree char *dev = g_build_filename(root, "sys/bus/pci/devices/0000:06:10.0", NULL);
    g_autofree char *drvdir = g_build_filename(root, "sys/bus/pci/drivers/ixgbevf", NULL);
    g_autofree char *attr = g_build_filename(dev, "vendor", NULL);
    g_autofree char *unbind = g_build_filename(drvdir, "unbind", NULL);
    g_autofree char *link = g_build_filename(dev, "driver", NULL);
    g_autofree char *marker = g_build_filename(root, ".vrt-hostsim", NULL);
    g_autoptr(VrtHost) host = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) names = NULL;
    g_autofree char *text = NULL;
    g_autofree char *drv = NULL;
    guint64 v;

    g_assert_cmpint(g_mkdir_with_parents(dev, 0755), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(drvdir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(attr, "0x8086\n", -1, NULL));
    g_assert_true(g_file_set_contents(unbind, "", -1, NULL));
    g_assert_cmpint(symlink("../../../bus/pci/drivers/ixgbevf", link), ==, 0);

    host = vrt_host_new(root, &err);
    g_assert_no_error(err);
    g_assert_false(vrt_host_is_simulated(host));
    text = vrt_host_read(host, "/sys/bus/pci/devices/0000:06:10.0/vendor", &err);
    g_assert_cmpstr(text, ==, "0x8086");
    g_assert_true(vrt_host_read_u64(host, "/sys/bus/pci/devices/0000:06:10.0/vendor", &v, &err));
    g_assert_cmpuint(v, ==, 0x8086);
    drv = vrt_host_link_name(host, "/sys/bus/pci/devices/0000:06:10.0/driver", &err);
    g_assert_cmpstr(drv, ==, "ixgbevf");
    g_assert_null(vrt_host_link_name(host, "/sys/bus/pci/devices/0000:06:10.0/physfn", &err));
    g_assert_no_error(err);
    names = vrt_host_list_dir(host, "/sys/bus/pci/devices", &err);
    g_assert_cmpuint(names->len, ==, 1);
    g_assert_cmpstr(names->pdata[0], ==, "0000:06:10.0");

    g_assert_null(vrt_host_read(host, "/sys/bus/pci/devices/0000:06:10.0/class", &err));
    g_assert_nonnull(strstr(err->message, "'/sys/bus/pci/devices/0000:06:10.0/class'"));
    g_assert_null(strstr(err->message, root));
    g_clear_error(&err);

    g_assert_true(vrt_host_write(host, "/sys/bus/pci/drivers/ixgbevf/unbind", "0000:06:10.0", &err));
    g_clear_pointer(&text, g_free);
    g_assert_true(g_file_get_contents(unbind, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "0000:06:10.0");
    vrt_host_set_fault_func(host, refuse_unbind, NULL);
    g_assert_false(vrt_host_write(host, "/sys/bus/pci/drivers/ixgbevf/unbind", "0000:06:10.0", &err));
    g_assert_nonnull(strstr(err->message, "injected fault at 'write /sys/bus/pci/drivers/ixgbevf/unbind'"));
    g_clear_error(&err);

    {
        g_autoptr(GString) seen = g_string_new(NULL);
        g_autofree char *after = NULL;

        vrt_host_set_write_func(host, note_write, seen);
        g_assert_true(g_file_set_contents(unbind, "", -1, NULL));
        g_assert_false(vrt_host_write(host, "/sys/bus/pci/drivers/ixgbevf/unbind", "0000:06:10.0", &err));
        g_clear_error(&err);
        g_assert_cmpstr(seen->str, ==, "");
        vrt_host_set_fault_func(host, NULL, NULL);
        g_assert_true(vrt_host_write(host, "/sys/bus/pci/drivers/ixgbevf/unbind", "0000:06:10.0", &err));
        g_assert_false(vrt_host_write(host, "/sys/bus/pci/drivers/ixgbevf/bind", "0000:06:10.0", &err));
        g_assert_cmpint(vrt_error_code(err), ==, VIR_ERR_SYSTEM_ERROR);
        g_clear_error(&err);
        g_assert_cmpstr(
            seen->str, ==,
            "/sys/bus/pci/drivers/ixgbevf/unbind=0000:06:10.0;/sys/bus/pci/drivers/ixgbevf/bind=0000:06:10.0;");
        g_assert_true(g_file_get_contents(unbind, &after, NULL, NULL));
        g_assert_cmpstr(after, ==, "");
        vrt_host_set_write_func(host, NULL, NULL);
    }

    g_assert_null(vrt_host_new("relative/root", &err));
    g_assert_cmpint(vrt_error_code(err), ==, VIR_ERR_INVALID_ARG);
    g_clear_error(&err);
    g_assert_true(g_file_set_contents(marker, "", -1, NULL));
    {
        g_autoptr(VrtHost) sim = vrt_host_new(root, &err);
        g_assert_true(vrt_host_is_simulated(sim));
    }
    {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);
        g_assert_cmpint(system(cmd), ==, 0);
    }
}

/* The kernel parses our RTM_GETLINK: for "lo" it answers with an
 * RTM_NEWLINK (which has no VFs), for a missing name with ENODEV. */
static void
test_netlink_kernel(void)
{
    g_autoptr(VrtNetlink) nl = vrt_netlink_new_kernel();
    g_autoptr(GError) err = NULL;
    VrtVfInfo info;

    g_assert_false(vrt_netlink_get_vf(nl, "lo", 0, &info, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "no settings for VF 0"));
    g_clear_error(&err);
    g_assert_false(vrt_netlink_get_vf(nl, "vrt-nope0", 0, &info, &err));
    g_assert_nonnull(strstr(err->message, g_strerror(ENODEV)));
}

/* An address dump: the RTM_NEWADDR messages of one interface are counted,
 * others' are not, NLMSG_DONE ends it, an error or a cut message fails. */
static void
test_netlink_addr_dump(void)
{
    const guint8 v4[4] = { 192, 0, 2, 1 }, v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
    g_autoptr(GByteArray) dump = g_byte_array_new();
    g_autoptr(GByteArray) a = vrt_netlink_encode_newaddr(7, 5, AF_INET, v4, sizeof(v4));
    g_autoptr(GByteArray) b = vrt_netlink_encode_newaddr(7, 6, AF_INET, v4, sizeof(v4));
    g_autoptr(GByteArray) c = vrt_netlink_encode_newaddr(7, 5, AF_INET6, v6, sizeof(v6));
    g_autoptr(GByteArray) other = vrt_netlink_encode_newaddr(8, 5, AF_INET, v4, sizeof(v4));
    g_autoptr(GError) err = NULL;
    struct nlmsghdr done_msg = { .nlmsg_len = NLMSG_HDRLEN + 4, .nlmsg_type = NLMSG_DONE, .nlmsg_seq = 7 };
    struct nlmsghdr err_msg = { .nlmsg_len = NLMSG_HDRLEN + 4, .nlmsg_type = NLMSG_ERROR, .nlmsg_seq = 7 };
    int zero = 0, eperm = -EPERM;
    guint count = 0;
    bool done = false;

    g_byte_array_append(dump, a->data, a->len);
    g_byte_array_append(dump, b->data, b->len);
    g_byte_array_append(dump, other->data, other->len); /* another request's */
    g_byte_array_append(dump, c->data, c->len);
    g_assert_true(vrt_netlink_decode_addr_dump(dump->data, dump->len, 7, 5, &count, &done, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(count, ==, 2);
    g_assert_false(done);
    g_byte_array_append(dump, (const guint8 *)&done_msg, sizeof(done_msg));
    g_byte_array_append(dump, (const guint8 *)&zero, sizeof(zero));
    count = 0;
    g_assert_true(vrt_netlink_decode_addr_dump(dump->data, dump->len, 7, 5, &count, &done, &err));
    g_assert_true(done);
    g_assert_cmpuint(count, ==, 2);

    g_byte_array_set_size(dump, 0);
    g_byte_array_append(dump, (const guint8 *)&err_msg, sizeof(err_msg));
    g_byte_array_append(dump, (const guint8 *)&eperm, sizeof(eperm));
    g_assert_false(vrt_netlink_decode_addr_dump(dump->data, dump->len, 7, 5, &count, &done, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_SYSTEM_ERROR);
    g_clear_error(&err);
    /* A message whose length runs past the datagram. */
    g_assert_false(vrt_netlink_decode_addr_dump(a->data, a->len - 4, 7, 5, &count, &done, &err));
    g_assert_nonnull(err);
}

/* The kernel's own dump: the loopback interface (index 1) has 127.0.0.1. */
static void
test_netlink_kernel_addrs(void)
{
    g_autoptr(VrtNetlink) nl = vrt_netlink_new_kernel();
    g_autoptr(GError) err = NULL;
    guint count = 0;

    if (!vrt_netlink_count_addrs(nl, 1, &count, &err)) {
        g_test_skip(err->message);
        return;
    }
    g_assert_cmpuint(count, >=, 1);
}

/* Host facts come from the files under the root: CPU count from the
 * kernel's online list, else cpuinfo's processors; nothing found says 0 or 1,
 * as the daemon answered before it read them under the root. */
static void
test_host_info(void)
{
    g_autofree char *root = g_dir_make_tmp("vrt-hostinfo-XXXXXX", NULL);
    g_autofree char *proc = g_build_filename(root, "proc", NULL);
    g_autofree char *cpudir = g_build_filename(root, "sys/devices/system/cpu", NULL);
    g_autofree char *meminfo = g_build_filename(proc, "meminfo", NULL);
    g_autofree char *cpuinfo = g_build_filename(proc, "cpuinfo", NULL);
    g_autofree char *online = g_build_filename(cpudir, "online", NULL);
    g_autofree char *machine_id = g_build_filename(root, "etc/machine-id", NULL);
    g_autofree char *etc = g_build_filename(root, "etc", NULL);
    g_autoptr(VrtHost) host = vrt_host_new(root, NULL);
    g_autofree char *mhz = NULL;
    guint8 uuid[16];

    g_assert_nonnull(host);
    g_assert_cmpuint(vrt_host_meminfo_kib(host, "MemTotal"), ==, 0);
    g_assert_cmpuint(vrt_host_cpus_online(host), ==, 1);
    g_assert_null(vrt_host_cpuinfo_field(host, "cpu MHz"));
    g_assert_false(vrt_host_uuid(host, uuid));

    g_assert_cmpint(g_mkdir_with_parents(proc, 0755), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(cpudir, 0755), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(etc, 0755), ==, 0);
    g_assert_true(g_file_set_contents(meminfo, "MemTotal:       1000 kB\nMemFree:         250 kB\n", -1, NULL));
    g_assert_true(g_file_set_contents(cpuinfo,
                                      "processor\t: 0\ncpu MHz\t\t: 999.9\n\n"
                                      "processor\t: 1\ncpu MHz\t\t: 999.9\n\n",
                                      -1, NULL));
    g_assert_cmpuint(vrt_host_meminfo_kib(host, "MemTotal"), ==, 1000);
    g_assert_cmpuint(vrt_host_meminfo_kib(host, "MemFree"), ==, 250);
    g_assert_cmpuint(vrt_host_meminfo_kib(host, "Mem"), ==, 0);
    g_assert_cmpuint(vrt_host_cpus_online(host), ==, 2);
    mhz = vrt_host_cpuinfo_field(host, "cpu MHz");
    g_assert_cmpstr(mhz, ==, "999.9");

    g_assert_true(g_file_set_contents(online, "0-3,8,10-11\n", -1, NULL));
    g_assert_cmpuint(vrt_host_cpus_online(host), ==, 7);
    g_assert_true(g_file_set_contents(online, "3-1\n", -1, NULL)); /* malformed: cpuinfo decides */
    g_assert_cmpuint(vrt_host_cpus_online(host), ==, 2);

    g_assert_true(g_file_set_contents(machine_id, "00112233445566778899aabbccddeeff\n", -1, NULL));
    g_assert_true(vrt_host_uuid(host, uuid));
    g_assert_cmpuint(uuid[0], ==, 0x00);
    g_assert_cmpuint(uuid[15], ==, 0xff);

    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);
    g_assert_cmpint(system(cmd), ==, 0);
}

/* The node statistics' parsers, on the texts the kernel writes. */
static void
test_host_stat_parsers(void)
{
    const char *stat = "cpu  100 20 30 400 50 6 7 8 0 0\n"
                       "cpu0 60 10 20 200 25 3 4 4 0 0\n"
                       "cpu1 40 10 10 200\n"
                       "intr 12345\n";
    const char *node = "Node 1 MemTotal:        8000 kB\nNode 1 MemFree:          3000 kB\n";
    guint64 t[4], kib = 0;
    guint len = 0;
    g_autofree guint8 *set = NULL;

    g_assert_true(vrt_host_parse_proc_stat(stat, -1, t));
    g_assert_cmpuint(t[0], ==, 30 + 6 + 7); /* kernel: system, irq, softirq */
    g_assert_cmpuint(t[1], ==, 100 + 20); /* user: user, nice */
    g_assert_cmpuint(t[2], ==, 400);
    g_assert_cmpuint(t[3], ==, 50);
    g_assert_true(vrt_host_parse_proc_stat(stat, 0, t));
    g_assert_cmpuint(t[0], ==, 27);
    /* An old kernel's four columns: no iowait. */
    g_assert_true(vrt_host_parse_proc_stat(stat, 1, t));
    g_assert_cmpuint(t[1], ==, 50);
    g_assert_cmpuint(t[3], ==, 0);
    g_assert_false(vrt_host_parse_proc_stat(stat, 2, t));
    g_assert_false(vrt_host_parse_proc_stat(stat, 10, t));

    g_assert_true(vrt_host_parse_meminfo(node, "MemFree", &kib));
    g_assert_cmpuint(kib, ==, 3000);
    g_assert_true(vrt_host_parse_meminfo("MemTotal:  5 kB\nCached:  7 kB\n", "Cached", &kib));
    g_assert_cmpuint(kib, ==, 7);
    g_assert_false(vrt_host_parse_meminfo(node, "Buffers", &kib));

    set = vrt_host_parse_cpu_list("0-2,9", &len);
    g_assert_nonnull(set);
    g_assert_cmpuint(len, ==, 10);
    g_assert_cmpuint(set[0], ==, 0x07);
    g_assert_cmpuint(set[1], ==, 0x02);
    g_assert_null(vrt_host_parse_cpu_list("3-1", &len));
    g_assert_null(vrt_host_parse_cpu_list("x", &len));
}

/* Node files under a host root: NUMA nodes, the CPU map, DMI strings. */
static void
test_host_node_files(void)
{
    g_autofree char *root = g_dir_make_tmp("vrt-hostnode-XXXXXX", NULL);
    g_autofree char *nodes = g_build_filename(root, "sys/devices/system/node", NULL);
    g_autofree char *node1 = g_build_filename(nodes, "node1", NULL);
    g_autofree char *cpus = g_build_filename(root, "sys/devices/system/cpu", NULL);
    g_autofree char *dmi = g_build_filename(root, "sys/class/dmi/id", NULL);
    g_autofree char *path = NULL;
    g_autoptr(VrtHost) host = vrt_host_new(root, NULL);
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *map = NULL;
    g_autofree char *vendor = NULL;
    guint64 total = 0, free_kib = 0;
    guint n = 0, online = 0;

    g_assert_nonnull(host);
    g_assert_cmpint(vrt_host_numa_max_node(host), ==, -1);
    g_assert_null(vrt_host_dmi(host, "bios_vendor"));
    g_assert_cmpint(g_mkdir_with_parents(node1, 0755), ==, 0);
    g_assert_cmpint(vrt_host_numa_max_node(host), ==, 1);
    path = g_build_filename(node1, "meminfo", NULL);
    g_assert_true(g_file_set_contents(path, "Node 1 MemTotal: 8000 kB\nNode 1 MemFree:  3000 kB\n", -1, NULL));
    g_assert_true(vrt_host_node_meminfo(host, 1, &total, &free_kib, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(total, ==, 8000);
    g_assert_cmpuint(free_kib, ==, 3000);
    g_assert_false(vrt_host_node_meminfo(host, 0, &total, &free_kib, &error));
    g_assert_error(error, VRT_ERROR, VIR_ERR_SYSTEM_ERROR);
    g_clear_error(&error);
    g_free(path);
    path = g_build_filename(nodes, "online", NULL);
    g_assert_true(g_file_set_contents(path, "0-3\n", -1, NULL));
    g_assert_cmpint(vrt_host_numa_max_node(host), ==, 3);

    g_assert_cmpint(g_mkdir_with_parents(cpus, 0755), ==, 0);
    g_free(path);
    path = g_build_filename(cpus, "online", NULL);
    g_assert_true(g_file_set_contents(path, "0-1,3\n", -1, NULL));
    g_free(path);
    path = g_build_filename(cpus, "present", NULL);
    g_assert_true(g_file_set_contents(path, "0-11\n", -1, NULL));
    map = vrt_host_cpu_map(host, &n, &online, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(n, ==, 12);
    g_assert_cmpuint(online, ==, 3);
    g_assert_cmpuint(map[0], ==, 0x0b);
    g_assert_cmpuint(map[1], ==, 0);

    g_assert_cmpint(g_mkdir_with_parents(dmi, 0755), ==, 0);
    g_free(path);
    path = g_build_filename(dmi, "bios_vendor", NULL);
    g_assert_true(g_file_set_contents(path, "SeaBIOS\n", -1, NULL));
    vendor = vrt_host_dmi(host, "bios_vendor");
    g_assert_cmpstr(vendor, ==, "SeaBIOS");
    g_free(path);
    path = g_build_filename(dmi, "board_name", NULL);
    g_assert_true(g_file_set_contents(path, "\n", -1, NULL));
    g_assert_null(vrt_host_dmi(host, "board_name"));
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);
    g_assert_cmpint(system(cmd), ==, 0);
}

/* /proc/net/dev under a host root: a tap's counters by name, in the
 * file's column order, and libvirt's errors for a missing interface or file. */
static void
test_host_net_dev(void)
{
    g_autofree char *root = g_dir_make_tmp("vrt-hostnet-XXXXXX", NULL);
    g_autofree char *dir = g_build_filename(root, "proc/net", NULL);
    g_autofree char *path = g_build_filename(dir, "dev", NULL);
    g_autoptr(VrtHost) host = vrt_host_new(root, NULL);
    g_autoptr(GError) err = NULL;
    VrtHostNetDevStats st;
    const char *text =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
        "carrier compressed\n"
        "    lo:  100       2    0    0    0     0          0         0      100       2    0    0    0     0       0 "
        "         0\n"
        "vnet10: 5000      40    1    2    0     0          0         0     7000      60    3    4    0     0       0 "
        "         0\n"
        "vnet1:    11      12   13   14    0     0          0         0       15      16   17   18    0     0       0 "
        "         0\n";

    g_assert_nonnull(host);
    g_assert_false(vrt_host_net_dev_stats(host, "vnet1", &st, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
    g_clear_error(&err);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    g_assert_true(vrt_host_net_dev_stats(host, "vnet1", &st, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(st.rx_bytes, ==, 11);
    g_assert_cmpuint(st.rx_packets, ==, 12);
    g_assert_cmpuint(st.rx_errs, ==, 13);
    g_assert_cmpuint(st.rx_drop, ==, 14);
    g_assert_cmpuint(st.tx_bytes, ==, 15);
    g_assert_cmpuint(st.tx_packets, ==, 16);
    g_assert_cmpuint(st.tx_errs, ==, 17);
    g_assert_cmpuint(st.tx_drop, ==, 18);
    g_assert_true(vrt_host_parse_net_dev(text, "vnet10", &st));
    g_assert_cmpuint(st.rx_bytes, ==, 5000);
    g_assert_cmpuint(st.tx_drop, ==, 4);
    g_assert_false(vrt_host_net_dev_stats(host, "vnet", &st, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(err->message, "Interface not found"));
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);
    g_assert_cmpint(system(cmd), ==, 0);
}

/* /proc/net/arp: complete entries with their MAC in lower case; an
 * incomplete one (flags 0) and malformed lines are left out. */
static void
test_host_arp(void)
{
    const char *text = "IP address       HW type     Flags       HW address            Mask     Device\n"
                       "192.0.2.7        0x1         0x2         52:54:00:AA:BB:02     *        vnet9\n"
                       "192.0.2.8        0x1         0x0         00:00:00:00:00:00     *        vnet9\n"
                       "garbage\n"
                       "192.0.2.9        0x1         0x6         52:54:00:aa:bb:03     *        br0\n";
    g_autoptr(GPtrArray) t = vrt_host_parse_arp(text);

    g_assert_cmpuint(t->len, ==, 2);
    VrtHostArpEntry *e = g_ptr_array_index(t, 0);
    g_assert_cmpstr(e->ip, ==, "192.0.2.7");
    g_assert_cmpstr(e->mac, ==, "52:54:00:aa:bb:02");
    g_assert_cmpstr(e->dev, ==, "vnet9");
    e = g_ptr_array_index(t, 1);
    g_assert_cmpstr(e->ip, ==, "192.0.2.9");
    g_assert_cmpstr(e->dev, ==, "br0");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host/host-seam", test_host_seam);
    g_test_add_func("/host/info", test_host_info);
    g_test_add_func("/host/stat-parsers", test_host_stat_parsers);
    g_test_add_func("/host/node-files", test_host_node_files);
    g_test_add_func("/host/net-dev", test_host_net_dev);
    g_test_add_func("/host/arp", test_host_arp);
    g_test_add_func("/host/netlink/setlink-roundtrip", test_netlink_setlink_roundtrip);
    g_test_add_func("/host/netlink/newlink-decode", test_netlink_newlink_decode);
    g_test_add_func("/host/netlink/unix-transport-retry", test_netlink_unix_transport);
    g_test_add_func("/host/netlink/kernel-getlink", test_netlink_kernel);
    g_test_add_func("/host/netlink/addr-dump", test_netlink_addr_dump);
    g_test_add_func("/host/netlink/kernel-addrs", test_netlink_kernel_addrs);
    return g_test_run();
}
