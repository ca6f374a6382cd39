/*
 * virtio-fs shares: one virtiofsd per <filesystem> (Debian 12's, from
 * qemu-system-common: /usr/lib/qemu/virtiofsd; the later Rust one at
 * /usr/libexec/virtiofsd is used when present), listening on a socket in
 * the domain's run directory, started before QEMU and ended with it
 * (qemu_tpm.c's helper pid files). QEMU gets a chardev on that socket,
 * which the share's vhost-user-fs-pci device (qemu_command.c, at its PCI
 * address) uses. virtio-9p shares need no helper: QEMU serves them.
 * virtio-fs needs the guest's memory shared with virtiofsd: without
 * <access mode='shared'/> the start is refused with libvirt's words.
 */
#include "drivers/qemu/qemu_tpm.h"

#include "conf/domain/domain_memory.h"
#include "util/error.h"

static const char *
virtiofsd_path(bool *rust)
{
    *rust = g_file_test("/usr/libexec/virtiofsd", G_FILE_TEST_IS_EXECUTABLE);
    return *rust ? "/usr/libexec/virtiofsd" : "/usr/lib/qemu/virtiofsd";
}

bool
vrt_qemu_virtiofs_start(const VrtDomainDef *def, const char *run_dir, const char *log_dir, GPtrArray *args,
                        GError **error)
{
    bool rust;
    const char *bin;
    bool any = false;

    for (guint i = 0; def->filesystems && i < def->filesystems->len; i++)
        any = any || vrt_domain_fs_is_virtiofs(def->filesystems->pdata[i]);
    if (!any)
        return true;
    if (!def->mem || g_strcmp0(def->mem->access_mode, "shared") != 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "'%s' requires shared memory", "virtiofs");
        return false;
    }
    bin = virtiofsd_path(&rust);
    for (guint i = 0; i < def->filesystems->len; i++) {
        const VrtDomainFsDef *fs = def->filesystems->pdata[i];
        g_autofree char *name = g_strdup_printf("fs%u", i);
        g_autofree char *sock = g_strdup_printf("%s/fs%u-fs.sock", run_dir, i);
        g_autofree char *logfile = g_strdup_printf("%s/%s-fs%u-virtiofsd.log", log_dir, def->name, i);
        g_autofree char *sockarg = g_strdup_printf("--socket-path=%s", sock);
        g_autofree char *srcarg = NULL;

        if (!vrt_domain_fs_is_virtiofs(fs))
            continue;
        if (rust) {
            char *argv[] = { (char *)bin, sockarg, "--shared-dir", fs->source_dir, "--cache=auto", NULL };

            if (!vrt_qemu_helper_spawn(run_dir, name, argv, logfile, error))
                return false;
        } else {
            srcarg = g_strdup_printf("source=%s,cache=auto,sandbox=chroot", fs->source_dir);
            {
                char *argv[] = { (char *)bin, sockarg, "-o", srcarg, NULL };

                if (!vrt_qemu_helper_spawn(run_dir, name, argv, logfile, error))
                    return false;
            }
        }
        for (guint waited = 0; !g_file_test(sock, G_FILE_TEST_EXISTS); waited += 10) {
            if (waited >= 5000) {
                g_autofree char *log = NULL;

                g_file_get_contents(logfile, &log, NULL, NULL);
                vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "virtiofsd did not start: %s",
                              log && *log ? g_strstrip(log) : "no socket");
                return false;
            }
            g_usleep(10 * 1000);
        }
        /* the vhost-user-fs-pci device on it is in the command line */
        g_ptr_array_add(args, g_strdup("-chardev"));
        g_ptr_array_add(args, g_strdup_printf("socket,id=chr-vu-%s,path=%s", fs->info.alias, sock));
    }
    return true;
}
