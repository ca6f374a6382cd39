/*
 * Probes qemu-system-x86_64 once per binary (`-machine help`) and checks
 * /dev/kvm, caching the answer so that starting a domain or building
 * capabilities XML never waits on a probe twice. The machine list is also
 * kept on disk, keyed by the binary's size and mtime, so that the first
 * start after a daemon restart does not wait on it either (~25 ms).
 */
#include "drivers/qemu/qemu_capabilities.h"
#include "util/error.h"
#include "util/fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAPS_DEFAULT_EMULATOR "qemu-system-x86_64"
/* QEMU 7.2's limits per machine family (MachineClass.max_cpus). */
#define CAPS_MAX_CPUS_Q35 288
#define CAPS_MAX_CPUS_PC 255
#define CAPS_MAX_CPUS_OTHER 1

struct _VrtQemuCaps {
    GMutex lock;
    char *dev_kvm;
    char *cache_dir; /* NULL: no machine lists on disk */
    GHashTable *probes; /* emulator path -> VrtQemuCapsInfo* */
};

static void
machine_free(VrtQemuMachine *m)
{
    g_free(m->name);
    g_free(m->alias);
    g_free(m);
}

static void
info_free(VrtQemuCapsInfo *info)
{
    g_free(info->emulator);
    g_free(info->arch);
    g_ptr_array_unref(info->machines);
    g_free(info);
}

VrtQemuCaps *
vrt_qemu_caps_new(const char *dev_kvm_path)
{
    VrtQemuCaps *caps = g_new0(VrtQemuCaps, 1);

    g_mutex_init(&caps->lock);
    caps->dev_kvm = g_strdup(dev_kvm_path ? dev_kvm_path : "/dev/kvm");
    caps->probes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)info_free);
    return caps;
}

void
vrt_qemu_caps_free(VrtQemuCaps *caps)
{
    if (!caps)
        return;
    g_hash_table_unref(caps->probes);
    g_free(caps->dev_kvm);
    g_free(caps->cache_dir);
    g_mutex_clear(&caps->lock);
    g_free(caps);
}

void
vrt_qemu_caps_set_cache_dir(VrtQemuCaps *caps, const char *dir)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&caps->lock);

    g_free(caps->cache_dir);
    caps->cache_dir = g_strdup(dir);
}

static guint
machine_max_cpus(const char *name)
{
    if (g_str_has_prefix(name, "pc-q35") || g_str_equal(name, "q35"))
        return CAPS_MAX_CPUS_Q35;
    if (g_str_has_prefix(name, "pc-i440fx") || g_str_equal(name, "pc"))
        return CAPS_MAX_CPUS_PC;
    if (g_str_equal(name, "microvm"))
        return CAPS_MAX_CPUS_Q35;
    return CAPS_MAX_CPUS_OTHER;
}

GPtrArray *
vrt_qemu_caps_parse_machines(const char *help_output)
{
    g_autoptr(GPtrArray) machines = g_ptr_array_new_with_free_func((GDestroyNotify)machine_free);
    g_autoptr(GPtrArray) aliases = g_ptr_array_new_with_free_func((GDestroyNotify)machine_free);
    g_auto(GStrv) lines = g_strsplit(help_output, "\n", -1);

    /* Rows are "NAME  description [(alias of TARGET)] [(default)]". Alias
     * rows are folded into their target, which then carries the alias. */
    for (guint i = 0; lines[i]; i++) {
        const char *line = lines[i];
        const char *sp, *alias_of;
        VrtQemuMachine *m;

        if (!*line || g_ascii_isspace(*line) || g_str_has_prefix(line, "Supported machines"))
            continue;
        sp = strchr(line, ' ');
        if (!sp)
            continue;
        m = g_new0(VrtQemuMachine, 1);
        m->name = g_strndup(line, sp - line);
        m->is_default = strstr(sp, "(default)") != NULL;
        m->max_cpus = machine_max_cpus(m->name);
        alias_of = strstr(sp, "(alias of ");
        if (alias_of) {
            /* For an alias row, ->alias temporarily holds the target. */
            m->alias = g_strndup(alias_of + strlen("(alias of "), strcspn(alias_of + strlen("(alias of "), ")"));
            g_ptr_array_add(aliases, m);
        } else {
            g_ptr_array_add(machines, m);
        }
    }
    for (guint i = 0; i < aliases->len; i++) {
        VrtQemuMachine *a = g_ptr_array_index(aliases, i);

        for (guint j = 0; j < machines->len; j++) {
            VrtQemuMachine *t = g_ptr_array_index(machines, j);

            if (g_str_equal(t->name, a->alias) && !t->alias) {
                t->alias = g_strdup(a->name);
                t->is_default = t->is_default || a->is_default;
            }
        }
    }
    return g_steal_pointer(&machines);
}

bool
vrt_qemu_caps_kvm_usable(const char *dev_kvm_path, GError **error)
{
    int fd = open(dev_kvm_path ? dev_kvm_path : "/dev/kvm", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_CONFIG_UNSUPPORTED, errno, "KVM is not available: cannot open '%s'",
                            dev_kvm_path ? dev_kvm_path : "/dev/kvm");
        return false;
    }
    close(fd);
    return true;
}

static guint
kvm_max_vcpus(const char *dev_kvm_path)
{
    int fd = open(dev_kvm_path, O_RDWR | O_CLOEXEC);
    int n;

    if (fd < 0)
        return 0;
    n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (n <= 0)
        n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    close(fd);
    return n > 0 ? (guint)n : 0;
}

/* The cache file of emulator's machine list, and the key its first line
 * must hold for the rest to be that binary's answer. */
static char *
machines_cache_path(const char *dir, const char *emulator, char **key)
{
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, emulator, -1);
    g_autofree char *file = NULL;
    struct stat st;

    if (!dir || stat(emulator, &st) < 0)
        return NULL;
    *key = g_strdup_printf("%s %lld %lld", emulator, (long long)st.st_size, (long long)st.st_mtime);
    file = g_strdup_printf("machines-%.16s", sum);
    return g_build_filename(dir, file, NULL);
}

/* `emulator -machine help`, from the cache when the binary is unchanged. */
static char *
machine_help(const char *emulator, const char *cache_dir, GError **error)
{
    const char *argv[] = { emulator, "-machine", "help", NULL };
    const char *envp[] = { "LC_ALL=C", "PATH=/usr/bin:/bin", NULL };
    g_autofree char *key = NULL;
    g_autofree char *cache = machines_cache_path(cache_dir, emulator, &key);
    g_autofree char *text = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err_out = NULL;
    g_autoptr(GError) err = NULL;
    int status = 0;
    const char *nl;

    if (cache && g_file_get_contents(cache, &text, NULL, NULL) && (nl = strchr(text, '\n')) &&
        (size_t)(nl - text) == strlen(key) && strncmp(text, key, strlen(key)) == 0)
        return g_strdup(nl + 1);
    if (!g_spawn_sync(NULL, (char **)argv, (char **)envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err_out, &status, &err) ||
        !g_spawn_check_wait_status(status, &err)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot probe emulator '%s': %s", emulator, err->message);
        return NULL;
    }
    if (cache) {
        g_autofree char *entry = g_strdup_printf("%s\n%s", key, out);
        g_autoptr(GError) werr = NULL;

        /* Only a saving: without it the next daemon probes again. */
        if (!vrt_dir_ensure(cache_dir, 0755, &werr) || !vrt_file_write_atomic(cache, entry, -1, 0644, &werr))
            g_debug("cannot cache the machines of %s: %s", emulator, werr->message);
    }
    return g_steal_pointer(&out);
}

static VrtQemuCapsInfo *
caps_probe(const char *emulator, const char *dev_kvm, const char *cache_dir, GError **error)
{
    g_autofree char *out = machine_help(emulator, cache_dir, error);
    VrtQemuCapsInfo *info;
    guint kvm_max;

    if (!out)
        return NULL;
    info = g_new0(VrtQemuCapsInfo, 1);
    info->emulator = g_strdup(emulator);
    info->arch = g_strdup("x86_64");
    info->machines = vrt_qemu_caps_parse_machines(out);
    info->kvm_usable = vrt_qemu_caps_kvm_usable(dev_kvm, NULL);
    info->max_vcpus = CAPS_MAX_CPUS_Q35;
    kvm_max = info->kvm_usable ? kvm_max_vcpus(dev_kvm) : 0;
    if (kvm_max > 0 && kvm_max < info->max_vcpus)
        info->max_vcpus = kvm_max;
    g_debug("qemu caps %s: %u machines, kvm %s, max vcpus %u", emulator, info->machines->len,
            info->kvm_usable ? "usable" : "unusable", info->max_vcpus);
    return info;
}

const VrtQemuCapsInfo *
vrt_qemu_caps_get(VrtQemuCaps *caps, const char *emulator, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&caps->lock);
    g_autofree char *path = NULL;
    VrtQemuCapsInfo *info;

    if (!emulator)
        emulator = CAPS_DEFAULT_EMULATOR;
    path = g_path_is_absolute(emulator) ? g_strdup(emulator) : g_find_program_in_path(emulator);
    if (!path || !g_file_test(path, G_FILE_TEST_IS_EXECUTABLE)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Cannot find QEMU binary %s: No such file or directory",
                      emulator);
        return NULL;
    }
    info = g_hash_table_lookup(caps->probes, path);
    if (info)
        return info;
    info = caps_probe(path, caps->dev_kvm, caps->cache_dir, error);
    if (!info)
        return NULL;
    g_hash_table_insert(caps->probes, g_steal_pointer(&path), info);
    return info;
}

char *
vrt_qemu_caps_canonical_machine(const VrtQemuCapsInfo *info, const char *machine, GError **error)
{
    for (guint i = 0; i < info->machines->len; i++) {
        VrtQemuMachine *m = g_ptr_array_index(info->machines, i);

        if (machine ? (g_str_equal(m->name, machine) || g_strcmp0(m->alias, machine) == 0) : m->is_default)
            return g_strdup(m->name);
    }
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Emulator '%s' does not support machine type '%s'", info->emulator,
                  machine ? machine : "(default)");
    return NULL;
}
