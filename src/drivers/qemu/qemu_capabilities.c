/*
 * Probes qemu-system-x86_64 once per binary (`-machine help`) and checks
 * /dev/kvm, caching the answer so that starting a domain or building
 * capabilities XML never waits on a probe twice. The machine list is also
 * kept on disk, keyed by the binary's size and mtime, so that the first
 * start after a daemon restart does not wait on it either (~25 ms). The CPU
 * models (for domain capabilities) are asked of QEMU over QMP only when a
 * client wants them (two runs of ~0.3 s) and kept the same way.
 */
#include "drivers/qemu/qemu_capabilities.h"
#include "util/error.h"
#include "util/fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
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
cpu_model_free(VrtQemuCpuModel *m)
{
    g_free(m->name);
    g_free(m->vendor);
    g_strfreev(m->blockers);
    g_free(m);
}

void
vrt_qemu_cpu_host_free(VrtQemuCpuHost *host)
{
    if (!host)
        return;
    g_free(host->vendor);
    g_ptr_array_unref(host->props);
    g_ptr_array_unref(host->enabled);
    g_ptr_array_unref(host->migratable);
    g_free(host);
}

static void
info_free(VrtQemuCapsInfo *info)
{
    for (guint i = 0; i < G_N_ELEMENTS(info->cpu_models); i++)
        if (info->cpu_models[i])
            g_ptr_array_unref(info->cpu_models[i]);
    for (guint i = 0; i < G_N_ELEMENTS(info->cpu_host); i++)
        vrt_qemu_cpu_host_free(info->cpu_host[i]);
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
        m->deprecated = strstr(sp, "(deprecated)") != NULL;
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
    /* A file that opens is not yet KVM (an empty regular file left at
     * /dev/kvm opens too, and QEMU then fails with "kvm version too old"):
     * ask it for its API version, as QEMU does. */
    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    int saved = errno;
    close(fd);
    if (version != KVM_API_VERSION) {
        if (version < 0)
            vrt_error_set_errno(error, VIR_ERR_CONFIG_UNSUPPORTED, saved,
                                "KVM is not available: '%s' is not a KVM device",
                                dev_kvm_path ? dev_kvm_path : "/dev/kvm");
        else
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "KVM is not available: '%s' has API version %d, not %d",
                          dev_kvm_path ? dev_kvm_path : "/dev/kvm", version, KVM_API_VERSION);
        return false;
    }
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

/* The cache file of one of emulator's answers ("machines", "cpus-kvm"...:
 * the kind names the file), and the key its first line must hold for the
 * rest to be that binary's. */
static char *
cache_path(const char *dir, const char *emulator, const char *kind, char **key)
{
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, emulator, -1);
    g_autofree char *file = NULL;
    struct stat st;

    if (!dir || stat(emulator, &st) < 0)
        return NULL;
    *key = g_strdup_printf("%s %lld %lld", emulator, (long long)st.st_size, (long long)st.st_mtime);
    file = g_strdup_printf("%s-%.16s", kind, sum);
    return g_build_filename(dir, file, NULL);
}

/* The cached text after the key line, or NULL when absent or stale. */
static char *
cache_read(const char *path, const char *key)
{
    g_autofree char *text = NULL;
    const char *nl;

    if (!path || !g_file_get_contents(path, &text, NULL, NULL) || !(nl = strchr(text, '\n')) ||
        (size_t)(nl - text) != strlen(key) || strncmp(text, key, strlen(key)) != 0)
        return NULL;
    return g_strdup(nl + 1);
}

static void
cache_write(const char *dir, const char *path, const char *key, const char *body)
{
    g_autofree char *entry = NULL;
    g_autoptr(GError) werr = NULL;

    if (!path)
        return;
    entry = g_strdup_printf("%s\n%s", key, body);
    /* Only a saving: without it the next daemon probes again. */
    if (!vrt_dir_ensure(dir, 0755, &werr) || !vrt_file_write_atomic(path, entry, -1, 0644, &werr))
        g_debug("cannot cache %s: %s", path, werr->message);
}

/* `emulator -machine help`, from the cache when the binary is unchanged. */
static char *
machine_help(const char *emulator, const char *cache_dir, GError **error)
{
    const char *argv[] = { emulator, "-machine", "help", NULL };
    const char *envp[] = { "LC_ALL=C", "PATH=/usr/bin:/bin", NULL };
    g_autofree char *key = NULL;
    g_autofree char *cache = cache_path(cache_dir, emulator, "machines", &key);
    g_autofree char *text = cache_read(cache, key);
    g_autofree char *out = NULL;
    g_autofree char *err_out = NULL;
    g_autoptr(GError) err = NULL;
    int status = 0;

    if (text)
        return g_steal_pointer(&text);
    if (!g_spawn_sync(NULL, (char **)argv, (char **)envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err_out, &status, &err) ||
        !g_spawn_check_wait_status(status, &err)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot probe emulator '%s': %s", emulator, err->message);
        return NULL;
    }
    cache_write(cache_dir, cache, key, out);
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
    info->arch = g_strdup(g_str_has_suffix(emulator, "qemu-system-i386") ? "i686" : "x86_64");
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

/* ---- CPU models (QMP) ---- */

/* Whether a domain names this model: not a pseudo-model, and not one of
 * QEMU's versioned names ("Skylake-Client-v4"), as libvirt lists them. */
static bool
cpu_model_listed(const char *name)
{
    const char *dash = strrchr(name, '-');

    if (g_str_equal(name, "host") || g_str_equal(name, "max") || g_str_equal(name, "base"))
        return false;
    if (dash && dash[1] == 'v' && dash[2]) {
        for (const char *p = dash + 2; *p; p++)
            if (!g_ascii_isdigit(*p))
                return true;
        return false;
    }
    return true;
}

/* libvirt's vendor names for the CPUID vendor strings. */
static const char *
cpu_vendor_name(const char *cpuid)
{
    if (g_strcmp0(cpuid, "GenuineIntel") == 0)
        return "Intel";
    if (g_strcmp0(cpuid, "AuthenticAMD") == 0)
        return "AMD";
    if (g_strcmp0(cpuid, "HygonGenuine") == 0)
        return "Hygon";
    return NULL;
}

/* The x86 features libvirt's CPU map spells otherwise than QEMU (libvirt
 * 9.0's table). */
static const char *const feature_names[][2] = {
    { "cmp_legacy", "cmp-legacy" },       { "ds_cpl", "ds-cpl" },
    { "fxsr_opt", "fxsr-opt" },           { "kvm_pv_eoi", "kvm-pv-eoi" },
    { "kvm_pv_unhalt", "kvm-pv-unhalt" }, { "lahf_lm", "lahf-lm" },
    { "nodeid_msr", "nodeid-msr" },       { "pclmuldq", "pclmulqdq" },
    { "perfctr_core", "perfctr-core" },   { "perfctr_nb", "perfctr-nb" },
    { "tsc_adjust", "tsc-adjust" },
};

const char *
vrt_qemu_caps_feature_from_qemu(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(feature_names); i++)
        if (g_str_equal(name, feature_names[i][1]))
            return feature_names[i][0];
    return name;
}

static GPtrArray *
strv_array(void)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a, NULL);
    return a;
}

/* Appends to a NULL-terminated array. */
static void
strv_array_add(GPtrArray *a, const char *s)
{
    g_ptr_array_insert(a, (gint)a->len - 1, g_strdup(s));
}

static JsonObject *
expansion_props(JsonObject *msg)
{
    JsonObject *ret = json_object_has_member(msg, "return") ? json_object_get_object_member(msg, "return") : NULL;
    JsonObject *model =
        ret && json_object_has_member(ret, "model") ? json_object_get_object_member(ret, "model") : NULL;

    return model && json_object_has_member(model, "props") ? json_object_get_object_member(model, "props") : NULL;
}

VrtQemuCpuHost *
vrt_qemu_caps_parse_cpu_host(const char *qmp_output)
{
    g_auto(GStrv) lines = g_strsplit(qmp_output, "\n", -1);
    g_autoptr(JsonParser) mig_parser = NULL;
    g_autoptr(JsonParser) all_parser = NULL;
    JsonObject *mig = NULL, *all = NULL;
    VrtQemuCpuHost *host;
    g_autoptr(GList) names = NULL;

    for (guint i = 0; lines[i]; i++) {
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonNode *root;
        const char *id;

        if (!*g_strstrip(lines[i]) || !json_parser_load_from_data(parser, lines[i], -1, NULL))
            continue;
        root = json_parser_get_root(parser);
        if (!JSON_NODE_HOLDS_OBJECT(root))
            continue;
        id = json_object_get_string_member_with_default(json_node_get_object(root), "id", "");
        if (g_str_equal(id, "h") && !mig) {
            mig = expansion_props(json_node_get_object(root));
            mig_parser = g_steal_pointer(&parser);
        } else if (g_str_equal(id, "hn") && !all) {
            all = expansion_props(json_node_get_object(root));
            all_parser = g_steal_pointer(&parser);
        }
    }
    if (!mig)
        return NULL;
    host = g_new0(VrtQemuCpuHost, 1);
    host->props = strv_array();
    host->enabled = strv_array();
    host->migratable = strv_array();
    names = json_object_get_members(mig);
    for (GList *l = names; l; l = l->next) {
        const char *qname = l->data;
        const char *name = vrt_qemu_caps_feature_from_qemu(qname);
        JsonNode *v = json_object_get_member(mig, qname);
        GType t = json_node_get_value_type(v);

        if (t == G_TYPE_BOOLEAN) {
            bool on = json_node_get_boolean(v);
            /* on only when not migratable: QEMU's own CPU has it, a
             * migratable one does not */
            bool nonmig = !on && all && json_object_has_member(all, qname) &&
                          json_node_get_value_type(json_object_get_member(all, qname)) == G_TYPE_BOOLEAN &&
                          json_object_get_boolean_member(all, qname);

            strv_array_add(host->props, name);
            if (on || nonmig)
                strv_array_add(host->enabled, name);
            if (!nonmig)
                strv_array_add(host->migratable, name);
        } else if (t == G_TYPE_STRING && g_str_equal(qname, "vendor")) {
            host->vendor = g_strdup(json_node_get_string(v));
        } else if (t == G_TYPE_INT64 && g_str_equal(qname, "family")) {
            host->family = (guint)json_node_get_int(v);
        } else if (t == G_TYPE_INT64 && g_str_equal(qname, "model")) {
            host->model = (guint)json_node_get_int(v);
        } else if (t == G_TYPE_INT64 && g_str_equal(qname, "stepping")) {
            host->stepping = (guint)json_node_get_int(v);
        }
    }
    return host;
}

GPtrArray *
vrt_qemu_caps_parse_cpu_models(const char *qmp_output, GError **error)
{
    g_autoptr(GPtrArray) models = g_ptr_array_new_with_free_func((GDestroyNotify)cpu_model_free);
    g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
    g_auto(GStrv) lines = g_strsplit(qmp_output, "\n", -1);
    bool have_defs = false;

    for (guint i = 0; lines[i]; i++) {
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonNode *root;
        JsonObject *msg;
        const char *id;

        if (!*g_strstrip(lines[i]) || !json_parser_load_from_data(parser, lines[i], -1, NULL))
            continue;
        root = json_parser_get_root(parser);
        if (!JSON_NODE_HOLDS_OBJECT(root))
            continue;
        msg = json_node_get_object(root);
        id = json_object_get_string_member_with_default(msg, "id", "");
        if (g_str_equal(id, "defs")) {
            JsonArray *defs;

            if (!json_object_has_member(msg, "return") ||
                !JSON_NODE_HOLDS_ARRAY(json_object_get_member(msg, "return"))) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "QEMU refused query-cpu-definitions: %s", lines[i]);
                return NULL;
            }
            defs = json_object_get_array_member(msg, "return");
            for (guint j = 0; j < json_array_get_length(defs); j++) {
                JsonObject *d = json_array_get_object_element(defs, j);
                const char *name = d ? json_object_get_string_member_with_default(d, "name", NULL) : NULL;
                JsonArray *missing;
                VrtQemuCpuModel *m;

                if (!name || !cpu_model_listed(name) || g_hash_table_contains(by_name, name))
                    continue;
                m = g_new0(VrtQemuCpuModel, 1);
                m->name = g_strdup(name);
                missing = json_object_has_member(d, "unavailable-features")
                              ? json_object_get_array_member(d, "unavailable-features")
                              : NULL;
                m->usable = missing && json_array_get_length(missing) == 0;
                if (missing) {
                    GPtrArray *b = strv_array();
                    for (guint k = 0; k < json_array_get_length(missing); k++) {
                        const char *f = json_array_get_string_element(missing, k);
                        if (f)
                            strv_array_add(b, vrt_qemu_caps_feature_from_qemu(f));
                    }
                    m->blockers = (char **)g_ptr_array_free(b, FALSE);
                }
                m->deprecated = json_object_get_boolean_member_with_default(d, "deprecated", FALSE);
                g_ptr_array_add(models, m);
                g_hash_table_insert(by_name, m->name, m);
            }
            have_defs = true;
        } else if (g_str_has_prefix(id, "x:") && json_object_has_member(msg, "return")) {
            VrtQemuCpuModel *m = g_hash_table_lookup(by_name, id + 2);
            JsonObject *ret = json_object_get_object_member(msg, "return");
            JsonObject *model =
                ret && json_object_has_member(ret, "model") ? json_object_get_object_member(ret, "model") : NULL;
            JsonObject *props =
                model && json_object_has_member(model, "props") ? json_object_get_object_member(model, "props") : NULL;
            const char *vendor = props ? json_object_get_string_member_with_default(props, "vendor", NULL) : NULL;

            if (m && cpu_vendor_name(vendor)) {
                g_free(m->vendor);
                m->vendor = g_strdup(cpu_vendor_name(vendor));
            }
        }
    }
    if (!have_defs) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "QEMU did not answer query-cpu-definitions");
        return NULL;
    }
    return g_steal_pointer(&models);
}

/* Runs emulator with QMP on its stdin and stdout, sends input (ending with
 * "quit") and returns everything QEMU wrote. */
static char *
qmp_run(const char *emulator, bool kvm, const char *input, GError **error)
{
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    const char *envp[] = { "LC_ALL=C", "PATH=/usr/bin:/bin", NULL };
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err_out = NULL;

    g_subprocess_launcher_set_environ(launcher, (char **)envp);
    proc = g_subprocess_launcher_spawn(launcher, &err, emulator, "-machine", kvm ? "none,accel=kvm" : "none,accel=tcg",
                                       "-nodefaults", "-no-user-config", "-display", "none", "-qmp", "stdio", NULL);
    if (!proc || !g_subprocess_communicate_utf8(proc, input, NULL, &out, &err_out, &err) ||
        !g_subprocess_wait_check(proc, NULL, &err)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot ask emulator '%s' for its CPU models: %s%s%s", emulator,
                      err ? err->message : "", err_out && *err_out ? ": " : "", err_out ? g_strstrip(err_out) : "");
        return NULL;
    }
    return g_steal_pointer(&out);
}

/* The models' cache form: one "name<TAB>vendor<TAB>usable<TAB>deprecated<TAB>blocker,..."
 * line each; then QEMU's own CPU: "=vendor<TAB>STRING", "=sig<TAB>F<TAB>M<TAB>S" and a
 * "=prop<TAB>name<TAB>on<TAB>migratable" line per boolean property. */
static char *
cpu_models_to_text(GPtrArray *models, const VrtQemuCpuHost *host)
{
    g_autoptr(GString) text = g_string_new(NULL);

    for (guint i = 0; i < models->len; i++) {
        VrtQemuCpuModel *m = g_ptr_array_index(models, i);
        g_autofree char *blockers = m->blockers ? g_strjoinv(",", m->blockers) : g_strdup("");
        g_string_append_printf(text, "%s\t%s\t%d\t%d\t%s\n", m->name, m->vendor ? m->vendor : "", m->usable,
                               m->deprecated, blockers);
    }
    if (host) {
        g_string_append_printf(text, "=vendor\t%s\n=sig\t%u\t%u\t%u\n", host->vendor ? host->vendor : "", host->family,
                               host->model, host->stepping);
        for (guint i = 0; host->props->pdata[i]; i++) {
            const char *p = host->props->pdata[i];
            g_string_append_printf(text, "=prop\t%s\t%d\t%d\n", p,
                                   g_strv_contains((const char *const *)host->enabled->pdata, p),
                                   g_strv_contains((const char *const *)host->migratable->pdata, p));
        }
    }
    return g_string_free(g_steal_pointer(&text), FALSE);
}

static GPtrArray *
cpu_models_from_text(const char *text, VrtQemuCpuHost **hostp)
{
    GPtrArray *models = g_ptr_array_new_with_free_func((GDestroyNotify)cpu_model_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    VrtQemuCpuHost *host = NULL;

    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], "\t", -1);
        guint n = g_strv_length(f);
        VrtQemuCpuModel *m;

        if (n >= 2 && f[0][0] == '=') {
            if (!host) {
                host = g_new0(VrtQemuCpuHost, 1);
                host->props = strv_array();
                host->enabled = strv_array();
                host->migratable = strv_array();
            }
            if (g_str_equal(f[0], "=vendor")) {
                host->vendor = *f[1] ? g_strdup(f[1]) : NULL;
            } else if (g_str_equal(f[0], "=sig") && n == 4) {
                host->family = (guint)g_ascii_strtoull(f[1], NULL, 10);
                host->model = (guint)g_ascii_strtoull(f[2], NULL, 10);
                host->stepping = (guint)g_ascii_strtoull(f[3], NULL, 10);
            } else if (g_str_equal(f[0], "=prop") && n == 4) {
                strv_array_add(host->props, f[1]);
                if (g_str_equal(f[2], "1"))
                    strv_array_add(host->enabled, f[1]);
                if (g_str_equal(f[3], "1"))
                    strv_array_add(host->migratable, f[1]);
            }
            continue;
        }
        if (n != 5 || !*f[0])
            continue;
        m = g_new0(VrtQemuCpuModel, 1);
        m->name = g_strdup(f[0]);
        m->vendor = *f[1] ? g_strdup(f[1]) : NULL;
        m->usable = g_str_equal(f[2], "1");
        m->deprecated = g_str_equal(f[3], "1");
        m->blockers = *f[4] ? g_strsplit(f[4], ",", -1) : g_new0(char *, 1);
        g_ptr_array_add(models, m);
    }
    *hostp = host;
    return models;
}

static GPtrArray *
cpu_models_probe(const char *emulator, bool kvm, VrtQemuCpuHost **hostp, GError **error)
{
    static const char head[] = "{\"execute\":\"qmp_capabilities\"}\n";
    g_autofree char *defs_in =
        g_strdup_printf("%s{\"execute\":\"query-cpu-definitions\",\"id\":\"defs\"}\n{\"execute\":\"quit\"}\n", head);
    g_autofree char *defs_out = qmp_run(emulator, kvm, defs_in, error);
    g_autoptr(GPtrArray) models = NULL;
    g_autoptr(GString) exp_in = g_string_new(head);
    g_autofree char *exp_out = NULL;
    g_autofree char *all = NULL;

    if (!defs_out || !(models = vrt_qemu_caps_parse_cpu_models(defs_out, error)))
        return NULL;
    /* QEMU's definitions carry no vendor: a full expansion of each model
     * does, and all of them go in one run. */
    for (guint i = 0; i < models->len; i++) {
        VrtQemuCpuModel *m = g_ptr_array_index(models, i);
        g_string_append_printf(exp_in,
                               "{\"execute\":\"query-cpu-model-expansion\",\"id\":\"x:%s\","
                               "\"arguments\":{\"type\":\"full\",\"model\":{\"name\":\"%s\"}}}\n",
                               m->name, m->name);
    }
    /* QEMU's own CPU, as libvirt probes it: a static expansion, then one
     * that is not migratable to tell which features only that one has */
    g_string_append_printf(exp_in,
                           "{\"execute\":\"query-cpu-model-expansion\",\"id\":\"h\","
                           "\"arguments\":{\"type\":\"static\",\"model\":{\"name\":\"%s\"}}}\n"
                           "{\"execute\":\"query-cpu-model-expansion\",\"id\":\"hn\","
                           "\"arguments\":{\"type\":\"static\",\"model\":{\"name\":\"%s\","
                           "\"props\":{\"migratable\":false}}}}\n",
                           kvm ? "host" : "max", kvm ? "host" : "max");
    g_string_append(exp_in, "{\"execute\":\"quit\"}\n");
    exp_out = qmp_run(emulator, kvm, exp_in->str, error);
    if (!exp_out)
        return NULL;
    *hostp = vrt_qemu_caps_parse_cpu_host(exp_out);
    all = g_strconcat(defs_out, "\n", exp_out, NULL);
    return vrt_qemu_caps_parse_cpu_models(all, error);
}

const GPtrArray *
vrt_qemu_caps_get_cpu_models(VrtQemuCaps *caps, const VrtQemuCapsInfo *cinfo, bool kvm, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&caps->lock);
    /* The probe result is filled in once, under the lock, into the info
     * the cache owns. */
    VrtQemuCapsInfo *info = (VrtQemuCapsInfo *)cinfo;
    g_autofree char *key = NULL;
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    GPtrArray *models;

    VrtQemuCpuHost *host = NULL;

    if (info->cpu_models[kvm])
        return info->cpu_models[kvm];
    /* "cpus2": the form with blockers and QEMU's own CPU */
    path = cache_path(caps->cache_dir, info->emulator, kvm ? "cpus2-kvm" : "cpus2-tcg", &key);
    text = cache_read(path, key);
    if (text) {
        models = cpu_models_from_text(text, &host);
    } else {
        g_autofree char *body = NULL;

        models = cpu_models_probe(info->emulator, kvm, &host, error);
        if (!models)
            return NULL;
        body = cpu_models_to_text(models, host);
        cache_write(caps->cache_dir, path, key, body);
    }
    info->cpu_models[kvm] = models;
    info->cpu_host[kvm] = host;
    return models;
}

const VrtQemuCpuHost *
vrt_qemu_caps_get_cpu_host(VrtQemuCaps *caps, const VrtQemuCapsInfo *info, bool kvm, GError **error)
{
    if (!vrt_qemu_caps_get_cpu_models(caps, info, kvm, error))
        return NULL;
    /* set once with the models, under the lock, never changed after */
    return info->cpu_host[kvm];
}
