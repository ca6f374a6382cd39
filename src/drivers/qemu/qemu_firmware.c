/*
 * QEMU firmware descriptors (docs/interop/firmware.json of QEMU) read as
 * libvirt 9.0 reads them: every *.json of /usr/share/qemu/firmware and
 * /etc/qemu/firmware, a file in /etc replacing (or, empty, hiding) the
 * one of the same name, taken in the order of their names. A domain with
 * firmware='efi' boots the first descriptor whose interface is UEFI and
 * whose target lists its architecture and a pattern matching its
 * machine, and whose features agree with the domain's <firmware>
 * features and <loader secure=|stateless=>. Unlike libvirt, descriptors
 * that need SMM (the Secure Boot builds) are taken only when the domain
 * asks for Secure Boot; choosing one turns SMM on and the loader secure,
 * as libvirt does. The NVRAM of a domain is its own copy of the
 * descriptor's template; a stateless loader has none.
 */
#include "drivers/qemu/qemu_firmware.h"
#include "conf/domain/domain_features.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const descriptor_dirs[] = { "/usr/share/qemu/firmware", "/etc/qemu/firmware", NULL };

typedef struct {
    char *path; /* the descriptor */
    bool uefi, bios;
    char *executable; /* flash: the code image; memory: the ROM */
    char *nvram_template; /* flash: the variable store template, NULL */
    bool flash; /* device "flash" (else "memory": a ROM) */
    bool requires_smm;
    bool secure_boot, enrolled_keys; /* features "secure-boot", "enrolled-keys" */
    bool stateless; /* flash mode "stateless": no variable store */
    GPtrArray *machines; /* char*: patterns for x86_64 */
} Firmware;

static void
firmware_free(Firmware *fw)
{
    g_free(fw->path);
    g_free(fw->executable);
    g_free(fw->nvram_template);
    if (fw->machines)
        g_ptr_array_unref(fw->machines);
    g_free(fw);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Firmware, firmware_free)

static const char *
obj_str(JsonObject *o, const char *member)
{
    JsonNode *n = o ? json_object_get_member(o, member) : NULL;

    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n)
                                                                                         : NULL;
}

static JsonObject *
obj_obj(JsonObject *o, const char *member)
{
    JsonNode *n = o ? json_object_get_member(o, member) : NULL;

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *
obj_arr(JsonObject *o, const char *member)
{
    JsonNode *n = o ? json_object_get_member(o, member) : NULL;

    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static bool
arr_has(JsonArray *a, const char *s)
{
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *n = json_array_get_element(a, i);

        if (JSON_NODE_HOLDS_VALUE(n) && g_strcmp0(json_node_get_string(n), s) == 0)
            return true;
    }
    return false;
}

/* One descriptor; NULL (logged) when it cannot be read or is not one vrt
 * can use (another architecture only, a kernel image, a non-raw format). */
static Firmware *
firmware_load(const char *path)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(Firmware) fw = g_new0(Firmware, 1);
    JsonObject *root, *mapping, *exe, *tmpl;
    JsonArray *targets;
    const char *device;

    if (!json_parser_load_from_file(parser, path, &err) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        g_debug("firmware descriptor %s: %s", path, err ? err->message : "not an object");
        return NULL;
    }
    root = json_node_get_object(json_parser_get_root(parser));
    fw->path = g_strdup(path);
    fw->uefi = arr_has(obj_arr(root, "interface-types"), "uefi");
    fw->bios = arr_has(obj_arr(root, "interface-types"), "bios");
    fw->requires_smm = arr_has(obj_arr(root, "features"), "requires-smm");
    fw->secure_boot = arr_has(obj_arr(root, "features"), "secure-boot");
    fw->enrolled_keys = arr_has(obj_arr(root, "features"), "enrolled-keys");
    mapping = obj_obj(root, "mapping");
    device = obj_str(mapping, "device");
    if (g_strcmp0(device, "flash") == 0) {
        const char *mode = obj_str(mapping, "mode");

        fw->flash = true;
        if (mode && !g_str_equal(mode, "split") && !g_str_equal(mode, "stateless"))
            return NULL;
        fw->stateless = mode && g_str_equal(mode, "stateless");
        exe = obj_obj(mapping, "executable");
        tmpl = obj_obj(mapping, "nvram-template");
        if (g_strcmp0(obj_str(exe, "format"), "raw") != 0 || (tmpl && g_strcmp0(obj_str(tmpl, "format"), "raw") != 0))
            return NULL;
        fw->executable = g_strdup(obj_str(exe, "filename"));
        fw->nvram_template = g_strdup(obj_str(tmpl, "filename"));
    } else if (g_strcmp0(device, "memory") == 0) {
        fw->executable = g_strdup(obj_str(mapping, "filename"));
    } else {
        return NULL;
    }
    if (!fw->executable)
        return NULL;
    fw->machines = g_ptr_array_new_with_free_func(g_free);
    targets = obj_arr(root, "targets");
    for (guint i = 0; targets && i < json_array_get_length(targets); i++) {
        JsonNode *tn = json_array_get_element(targets, i);
        JsonObject *t = JSON_NODE_HOLDS_OBJECT(tn) ? json_node_get_object(tn) : NULL;
        JsonArray *machines = obj_arr(t, "machines");

        if (g_strcmp0(obj_str(t, "architecture"), "x86_64") != 0)
            continue;
        for (guint j = 0; machines && j < json_array_get_length(machines); j++) {
            JsonNode *m = json_array_get_element(machines, j);

            if (JSON_NODE_HOLDS_VALUE(m) && json_node_get_string(m))
                g_ptr_array_add(fw->machines, g_strdup(json_node_get_string(m)));
        }
    }
    return fw->machines->len ? g_steal_pointer(&fw) : NULL;
}

static gint
cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The descriptors in libvirt's order (by file name, /etc replacing; an
 * empty file there hides the one of /usr/share). */
static GPtrArray *
firmware_list(void)
{
    g_autoptr(GHashTable) by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)firmware_free);
    GHashTableIter it;
    gpointer key;

    for (guint d = 0; descriptor_dirs[d]; d++) {
        g_autoptr(GDir) dir = g_dir_open(descriptor_dirs[d], 0, NULL);
        const char *entry;

        while (dir && (entry = g_dir_read_name(dir)))
            if (g_str_has_suffix(entry, ".json"))
                g_hash_table_insert(by_name, g_strdup(entry), g_build_filename(descriptor_dirs[d], entry, NULL));
    }
    g_hash_table_iter_init(&it, by_name);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(names, key);
    g_ptr_array_sort(names, cmp_names);
    for (guint i = 0; i < names->len; i++) {
        const char *path = g_hash_table_lookup(by_name, names->pdata[i]);
        struct stat st;
        Firmware *fw;

        if (stat(path, &st) < 0 || st.st_size == 0)
            continue;
        if ((fw = firmware_load(path)))
            g_ptr_array_add(out, fw);
    }
    return out;
}

static bool
tristate_agrees(VrtTristate want, bool has)
{
    return want == VRT_TRISTATE_DEFAULT || (want == VRT_TRISTATE_YES) == has;
}

/* libvirt's qemuFirmwareMatchDomain for what vrt reads of a descriptor */
static bool
firmware_matches_domain(const Firmware *fw, const VrtDomainDef *def)
{
    const VrtDomainOsFirmwareDef *os = &def->os.fw;
    bool want_secure = os->feature_secure_boot == VRT_TRISTATE_YES || os->secure == VRT_TRISTATE_YES;

    if (fw->requires_smm && (!want_secure || (def->feat && def->feat->smm == VRT_TRISTATE_NO)))
        return false;
    if (!tristate_agrees(os->feature_secure_boot, fw->secure_boot) ||
        !tristate_agrees(os->feature_enrolled_keys, fw->enrolled_keys))
        return false;
    if (os->secure == VRT_TRISTATE_YES && !fw->requires_smm)
        return false;
    if (fw->flash && (os->stateless == VRT_TRISTATE_YES) != fw->stateless)
        return false;
    return true;
}

static bool
firmware_matches(const Firmware *fw, const char *interface, const char *machine, const char *arch)
{
    if (arch && !g_str_equal(arch, "x86_64"))
        return false;
    if (interface && !(g_str_equal(interface, "efi") ? fw->uefi : fw->bios))
        return false;
    for (guint i = 0; i < fw->machines->len; i++)
        if (fnmatch(fw->machines->pdata[i], machine, 0) == 0)
            return true;
    return false;
}

char *
vrt_qemu_firmware_nvram_path(const char *nvram_dir, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s_VARS.fd", name);

    return g_build_filename(nvram_dir, file, NULL);
}

void
vrt_qemu_firmware_fill_domcaps(VrtDomCaps *caps, const char *machine, const char *arch)
{
    g_autoptr(GPtrArray) fws = firmware_list();
    bool efi = false, bios = false;

    for (guint i = 0; i < fws->len; i++) {
        const Firmware *fw = g_ptr_array_index(fws, i);

        if (fw->requires_smm || !firmware_matches(fw, NULL, machine, arch))
            continue;
        efi |= fw->uefi;
        bios |= fw->bios;
        if (g_file_test(fw->executable, G_FILE_TEST_EXISTS) &&
            !g_ptr_array_find_with_equal_func(caps->loaders, fw->executable, g_str_equal, NULL))
            g_ptr_array_add(caps->loaders, g_strdup(fw->executable));
    }
    /* libvirt's order of the enum: bios, efi */
    if (bios)
        g_ptr_array_add(caps->firmware, g_strdup("bios"));
    if (efi)
        g_ptr_array_add(caps->firmware, g_strdup("efi"));
    if (caps->loaders->len) {
        g_ptr_array_add(caps->loader_types, g_strdup("rom"));
        g_ptr_array_add(caps->loader_types, g_strdup("pflash"));
    }
}

/* libvirt's copy of the template: the new store is the domain's alone
 * (0600), written whole before it takes the final name. */
static bool
copy_template(const char *tmpl, const char *dest, GError **error)
{
    g_autofree char *data = NULL;
    g_autofree char *dir = g_path_get_dirname(dest);
    g_autoptr(GError) err = NULL;
    gsize len;

    if (g_mkdir_with_parents(dir, 0700) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot create directory '%s'", dir);
        return false;
    }
    if (!g_file_get_contents(tmpl, &data, &len, &err)) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Failed to open file '%s': %s", tmpl, err->message);
        return false;
    }
    if (!g_file_set_contents_full(dest, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &err)) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "Failed to create file '%s': %s", dest, err->message);
        return false;
    }
    return true;
}

bool
vrt_qemu_firmware_prepare(VrtDomainDef *def, const char *nvram_dir, bool reset_nvram, GError **error)
{
    VrtDomainOsFirmwareDef *os = &def->os.fw;
    g_autoptr(GPtrArray) fws = NULL;

    if (os->firmware) {
        const Firmware *found = NULL;

        fws = firmware_list();
        for (guint i = 0; i < fws->len && !found; i++)
            if (firmware_matches(g_ptr_array_index(fws, i), os->firmware, def->os.machine, def->os.arch) &&
                firmware_matches_domain(g_ptr_array_index(fws, i), def))
                found = g_ptr_array_index(fws, i);
        if (!found) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "Unable to find any firmware to satisfy '%s'", os->firmware);
            return false;
        }
        g_free(os->path);
        os->path = g_strdup(found->executable);
        g_free(os->type);
        if (found->flash) {
            os->type = g_strdup("pflash");
            os->readonly = VRT_TRISTATE_YES;
            if (found->nvram_template && !found->stateless) {
                g_free(os->nvram_template);
                os->nvram_template = g_strdup(found->nvram_template);
                if (!os->nvram)
                    os->nvram = vrt_qemu_firmware_nvram_path(nvram_dir, def->name);
            }
        } else {
            os->type = g_strdup("rom");
        }
        if (found->requires_smm) {
            if (!def->feat)
                def->feat = g_new0(VrtDomainFeaturesDef, 1);
            def->feat->smm = VRT_TRISTATE_YES;
            os->secure = VRT_TRISTATE_YES;
        }
        g_clear_pointer(&os->firmware, g_free);
    } else if (vrt_domain_os_firmware_is_pflash_ro(os) && os->stateless != VRT_TRISTATE_YES) {
        /* libvirt's "old style" UEFI: the NVRAM it names, and the template
         * of the descriptor whose image is this loader */
        if (!os->nvram)
            os->nvram = vrt_qemu_firmware_nvram_path(nvram_dir, def->name);
        if (!os->nvram_template) {
            fws = firmware_list();
            for (guint i = 0; i < fws->len && !os->nvram_template; i++) {
                const Firmware *fw = g_ptr_array_index(fws, i);

                if (fw->flash && g_strcmp0(fw->executable, os->path) == 0 && fw->nvram_template)
                    os->nvram_template = g_strdup(fw->nvram_template);
            }
        }
    }
    if (!os->nvram || (!reset_nvram && g_file_test(os->nvram, G_FILE_TEST_EXISTS)))
        return true;
    if (!os->nvram_template) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "unable to find any master var store for loader: %s",
                      os->path ? os->path : "");
        return false;
    }
    return copy_template(os->nvram_template, os->nvram, error);
}

bool
vrt_qemu_firmware_has_nvram(const VrtDomainDef *def)
{
    return def->os.fw.nvram || g_strcmp0(def->os.fw.firmware, "efi") == 0 ||
           vrt_domain_os_firmware_is_pflash_ro(&def->os.fw);
}

bool
vrt_qemu_firmware_undefine(const VrtDomainDef *def, const char *nvram_dir, guint flags, GError **error)
{
    g_autofree char *path = NULL;

    if (def->os.fw.nvram)
        path = g_strdup(def->os.fw.nvram);
    else if (vrt_qemu_firmware_has_nvram(def))
        path = vrt_qemu_firmware_nvram_path(nvram_dir, def->name);
    if (!path || !g_file_test(path, G_FILE_TEST_EXISTS))
        return true;
    if (flags & VRT_QEMU_UNDEFINE_NVRAM) {
        if (unlink(path) < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "failed to remove nvram: %s", path);
            return false;
        }
    } else if (!(flags & VRT_QEMU_UNDEFINE_KEEP_NVRAM)) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "%s", "cannot undefine domain with nvram");
        return false;
    }
    return true;
}
