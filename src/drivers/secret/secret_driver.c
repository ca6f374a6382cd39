/*
 * Secret driver (see secret_driver.h). Two locks: `changes` serializes
 * define, undefine and set-value across their durable file writes and
 * fsyncs; `lock` guards the table and is held only for memory, so the
 * lookups, lists and reads (answered on the I/O thread) never wait for a
 * disk. Order: changes < lock. A change checks under `lock`, writes its
 * files with only `changes` held, then commits under `lock`: no other
 * change can run in between.
 */
#include "drivers/secret/secret_driver.h"

#include <string.h>

#include "util/error.h"
#include "util/fileutil.h"
#include "util/uuid.h"

#define SECRET_FILE_MODE 0600

typedef struct {
    VrtSecretDef *def;
    GBytes *value; /* NULL until set */
} SecretObj;

struct _VrtSecretDriver {
    char *dir; /* <root>/etc/vrt/secrets */
    VrtDirSync *dir_sync;
    GMutex changes;
    GMutex lock;
    GHashTable *by_uuid; /* uuid string -> SecretObj*, under lock */
    VrtSecretLifecycleFunc lifecycle;
    VrtSecretValueChangedFunc value_changed;
    gpointer event_data;
};

static void
secret_obj_free(gpointer p)
{
    SecretObj *obj = p;
    vrt_secret_def_free(obj->def);
    if (obj->value)
        g_bytes_unref(obj->value);
    g_free(obj);
}

void
vrt_secret_ref_free(VrtSecretRef *ref)
{
    if (!ref)
        return;
    g_free(ref->usage_id);
    g_free(ref);
}

static VrtSecretRef *
ref_of(const VrtSecretDef *def)
{
    VrtSecretRef *ref = g_new0(VrtSecretRef, 1);
    memcpy(ref->uuid, def->uuid, 16);
    ref->usage_type = def->usage;
    ref->usage_id = g_strdup(def->usage_id ? def->usage_id : "");
    return ref;
}

static char *
path_of(VrtSecretDriver *drv, const guint8 uuid[16], const char *suffix)
{
    char s[VRT_UUID_STRING_LEN];
    vrt_uuid_format(uuid, s);
    g_autofree char *name = g_strconcat(s, suffix, NULL);
    return g_build_filename(drv->dir, name, NULL);
}

/* Looks a secret up by uuid; call with drv->lock held. */
static SecretObj *
find_locked(VrtSecretDriver *drv, const guint8 uuid[16], GError **error)
{
    char s[VRT_UUID_STRING_LEN];
    vrt_uuid_format(uuid, s);
    SecretObj *obj = g_hash_table_lookup(drv->by_uuid, s);
    if (!obj)
        vrt_error_set(error, VIR_ERR_NO_SECRET, "no secret with matching uuid '%s'", s);
    return obj;
}

/* The secret of a usage; call with drv->lock held. */
static SecretObj *
find_usage_locked(VrtSecretDriver *drv, int usage_type, const char *usage_id)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, drv->by_uuid);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        SecretObj *obj = v;
        if ((int)obj->def->usage == usage_type && g_strcmp0(obj->def->usage_id, usage_id) == 0)
            return obj;
    }
    return NULL;
}

static bool
load_one(VrtSecretDriver *drv, const char *file, GError **error)
{
    g_autofree char *path = g_build_filename(drv->dir, file, NULL);
    g_autofree char *xml = NULL;
    if (!vrt_file_read(path, &xml, NULL, error))
        return false;
    g_autoptr(VrtSecretDef) def = vrt_secret_def_parse(xml, error);
    if (!def)
        return false;
    char s[VRT_UUID_STRING_LEN];
    vrt_uuid_format(def->uuid, s);
    g_autofree char *expect = g_strconcat(s, ".xml", NULL);
    if (!g_str_equal(expect, file)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "<uuid> does not match secret file name '%s'", path);
        return false;
    }
    SecretObj *obj = g_new0(SecretObj, 1);
    g_autofree char *b64path = path_of(drv, def->uuid, ".base64");
    g_autofree char *b64 = NULL;
    if (g_file_test(b64path, G_FILE_TEST_EXISTS)) {
        if (!vrt_file_read(b64path, &b64, NULL, error)) {
            g_free(obj);
            return false;
        }
        gsize len = 0;
        guchar *raw = g_base64_decode(g_strstrip(b64), &len);
        obj->value = g_bytes_new_take(raw, len);
    }
    obj->def = g_steal_pointer(&def);
    g_hash_table_replace(drv->by_uuid, g_strdup(s), obj);
    return true;
}

VrtSecretDriver *
vrt_secret_driver_new(const char *root, GError **error)
{
    g_autofree char *dir = g_build_filename(root && *root ? root : "/", "etc", "vrt", "secrets", NULL);
    if (!vrt_dir_ensure(dir, 0700, error))
        return NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d) {
        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "cannot open directory '%s'", dir);
        return NULL;
    }
    VrtSecretDriver *drv = g_new0(VrtSecretDriver, 1);
    drv->dir = g_steal_pointer(&dir);
    drv->dir_sync = vrt_dir_sync_new();
    g_mutex_init(&drv->changes);
    g_mutex_init(&drv->lock);
    drv->by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, secret_obj_free);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (!g_str_has_suffix(name, ".xml"))
            continue;
        g_autoptr(GError) err = NULL;
        if (!load_one(drv, name, &err))
            g_warning("secret %s not loaded: %s", name, err->message);
    }
    return drv;
}

void
vrt_secret_driver_free(VrtSecretDriver *drv)
{
    if (!drv)
        return;
    g_hash_table_destroy(drv->by_uuid);
    vrt_dir_sync_free(drv->dir_sync);
    g_mutex_clear(&drv->changes);
    g_mutex_clear(&drv->lock);
    g_free(drv->dir);
    g_free(drv);
}

void
vrt_secret_driver_set_events(VrtSecretDriver *drv, VrtSecretLifecycleFunc lifecycle,
                             VrtSecretValueChangedFunc value_changed, gpointer data)
{
    drv->lifecycle = lifecycle;
    drv->value_changed = value_changed;
    drv->event_data = data;
}

static bool
write_value(VrtSecretDriver *drv, const guint8 uuid[16], GBytes *value, GError **error)
{
    g_autofree char *path = path_of(drv, uuid, ".base64");
    gsize len = 0;
    const guchar *data = g_bytes_get_data(value, &len);
    g_autofree char *b64 = g_base64_encode(data, len);
    return vrt_file_write_durable(drv->dir_sync, path, b64, -1, SECRET_FILE_MODE, error);
}

static bool
remove_files(VrtSecretDriver *drv, const guint8 uuid[16], GError **error)
{
    g_autofree char *xml = path_of(drv, uuid, ".xml");
    g_autofree char *b64 = path_of(drv, uuid, ".base64");
    return vrt_file_remove_durable(drv->dir_sync, b64, error) && vrt_file_remove_durable(drv->dir_sync, xml, error);
}

VrtSecretRef *
vrt_secret_drv_define_xml(VrtSecretDriver *drv, const char *xml, guint flags, GError **error)
{
    (void)flags; /* VALIDATE: the parser accepts only what it understands anyway */
    g_autoptr(VrtSecretDef) def = vrt_secret_def_parse(xml, error);
    if (!def)
        return NULL;
    g_autoptr(GMutexLocker) changes = g_mutex_locker_new(&drv->changes);
    char s[VRT_UUID_STRING_LEN];
    vrt_uuid_format(def->uuid, s);
    bool existed = false, was_ephemeral = false;
    g_autoptr(GBytes) value = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        SecretObj *old = g_hash_table_lookup(drv->by_uuid, s);
        if (old) {
            if (g_strcmp0(old->def->usage_id, def->usage_id) != 0) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "a secret with UUID %s is already defined for use with %s",
                              s, old->def->usage_id ? old->def->usage_id : "(null)");
                return NULL;
            }
            if (old->def->isprivate && !def->isprivate) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "cannot change private flag on existing secret");
                return NULL;
            }
            existed = true;
            was_ephemeral = old->def->ephemeral;
            value = old->value ? g_bytes_ref(old->value) : NULL;
        } else {
            SecretObj *other =
                def->usage != VRT_SECRET_USAGE_NONE ? find_usage_locked(drv, def->usage, def->usage_id) : NULL;
            if (other) {
                char o[VRT_UUID_STRING_LEN];
                vrt_uuid_format(other->def->uuid, o);
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "a secret with UUID %s already defined for use with %s", o,
                              def->usage_id);
                return NULL;
            }
        }
    }
    /* Files: a persistent secret's definition (and its value when it was
     * ephemeral so far) is on disk before the call returns; one turning
     * ephemeral leaves the disk. */
    if (!def->ephemeral) {
        if (existed && was_ephemeral && value && !write_value(drv, def->uuid, value, error))
            return NULL;
        g_autofree char *out = vrt_secret_def_format(def);
        g_autofree char *path = path_of(drv, def->uuid, ".xml");
        if (!vrt_file_write_durable(drv->dir_sync, path, out, -1, SECRET_FILE_MODE, error)) {
            if (existed && was_ephemeral && value) {
                g_autofree char *b64 = path_of(drv, def->uuid, ".base64");
                vrt_file_remove(b64, NULL);
            }
            return NULL;
        }
    } else if (existed && !was_ephemeral && !remove_files(drv, def->uuid, error)) {
        return NULL;
    }
    VrtSecretRef *ref = ref_of(def);
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        SecretObj *obj = g_hash_table_lookup(drv->by_uuid, s);
        if (obj) {
            vrt_secret_def_free(obj->def);
            obj->def = g_steal_pointer(&def);
        } else {
            obj = g_new0(SecretObj, 1);
            obj->def = g_steal_pointer(&def);
            g_hash_table_replace(drv->by_uuid, g_strdup(s), obj);
        }
    }
    g_clear_pointer(&changes, g_mutex_locker_free);
    if (drv->lifecycle)
        drv->lifecycle(ref, VRT_SECRET_EVENT_DEFINED, drv->event_data);
    return ref;
}

bool
vrt_secret_drv_undefine(VrtSecretDriver *drv, const guint8 uuid[16], GError **error)
{
    g_autoptr(GMutexLocker) changes = g_mutex_locker_new(&drv->changes);
    bool ephemeral;
    g_autoptr(VrtSecretRef) ref = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        SecretObj *obj = find_locked(drv, uuid, error);
        if (!obj)
            return false;
        ephemeral = obj->def->ephemeral;
        ref = ref_of(obj->def);
    }
    if (!ephemeral && !remove_files(drv, uuid, error))
        return false;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        char s[VRT_UUID_STRING_LEN];
        vrt_uuid_format(uuid, s);
        g_hash_table_remove(drv->by_uuid, s);
    }
    g_clear_pointer(&changes, g_mutex_locker_free);
    if (drv->lifecycle)
        drv->lifecycle(ref, VRT_SECRET_EVENT_UNDEFINED, drv->event_data);
    return true;
}

VrtSecretRef *
vrt_secret_drv_lookup_by_uuid(VrtSecretDriver *drv, const guint8 uuid[16], GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    SecretObj *obj = find_locked(drv, uuid, error);
    return obj ? ref_of(obj->def) : NULL;
}

VrtSecretRef *
vrt_secret_drv_lookup_by_usage(VrtSecretDriver *drv, int usage_type, const char *usage_id, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    SecretObj *obj = find_usage_locked(drv, usage_type, usage_id);
    if (!obj) {
        vrt_error_set(error, VIR_ERR_NO_SECRET, "no secret with matching usage '%s'", usage_id);
        return NULL;
    }
    return ref_of(obj->def);
}

char *
vrt_secret_drv_get_xml(VrtSecretDriver *drv, const guint8 uuid[16], GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    SecretObj *obj = find_locked(drv, uuid, error);
    return obj ? vrt_secret_def_format(obj->def) : NULL;
}

bool
vrt_secret_drv_set_value(VrtSecretDriver *drv, const guint8 uuid[16], const guint8 *value, gsize len, GError **error)
{
    g_autoptr(GMutexLocker) changes = g_mutex_locker_new(&drv->changes);
    bool ephemeral;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        SecretObj *obj = find_locked(drv, uuid, error);
        if (!obj)
            return false;
        ephemeral = obj->def->ephemeral;
    }
    g_autoptr(GBytes) bytes = g_bytes_new(value, len);
    if (!ephemeral && !write_value(drv, uuid, bytes, error))
        return false;
    g_autoptr(VrtSecretRef) ref = NULL;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
        SecretObj *obj = find_locked(drv, uuid, error);
        if (!obj)
            return false;
        if (obj->value)
            g_bytes_unref(obj->value);
        obj->value = g_bytes_ref(bytes);
        ref = ref_of(obj->def);
    }
    g_clear_pointer(&changes, g_mutex_locker_free);
    if (drv->value_changed)
        drv->value_changed(ref, drv->event_data);
    return true;
}

static GBytes *
get_value(VrtSecretDriver *drv, const guint8 uuid[16], bool internal, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    SecretObj *obj = find_locked(drv, uuid, error);
    if (!obj)
        return NULL;
    if (obj->def->isprivate && !internal) {
        vrt_error_set(error, VIR_ERR_INVALID_SECRET, "%s", "secret is private");
        return NULL;
    }
    if (!obj->value) {
        char s[VRT_UUID_STRING_LEN];
        vrt_uuid_format(uuid, s);
        vrt_error_set(error, VIR_ERR_NO_SECRET, "secret '%s' does not have a value", s);
        return NULL;
    }
    return g_bytes_ref(obj->value);
}

GBytes *
vrt_secret_drv_get_value(VrtSecretDriver *drv, const guint8 uuid[16], GError **error)
{
    return get_value(drv, uuid, false, error);
}

GBytes *
vrt_secret_drv_get_value_internal(VrtSecretDriver *drv, const guint8 uuid[16], GError **error)
{
    return get_value(drv, uuid, true, error);
}

static gint
by_uuid(gconstpointer a, gconstpointer b)
{
    const VrtSecretRef *x = *(VrtSecretRef *const *)a, *y = *(VrtSecretRef *const *)b;
    return memcmp(x->uuid, y->uuid, 16);
}

static bool
matches(const VrtSecretDef *def, guint flags)
{
    if ((flags & (VRT_SECRET_LIST_EPHEMERAL | VRT_SECRET_LIST_NO_EPHEMERAL)) &&
        !((flags & VRT_SECRET_LIST_EPHEMERAL && def->ephemeral) ||
          (flags & VRT_SECRET_LIST_NO_EPHEMERAL && !def->ephemeral)))
        return false;
    if ((flags & (VRT_SECRET_LIST_PRIVATE | VRT_SECRET_LIST_NO_PRIVATE)) &&
        !((flags & VRT_SECRET_LIST_PRIVATE && def->isprivate) ||
          (flags & VRT_SECRET_LIST_NO_PRIVATE && !def->isprivate)))
        return false;
    return true;
}

GPtrArray *
vrt_secret_drv_list(VrtSecretDriver *drv, guint flags)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_secret_ref_free);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&drv->lock);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, drv->by_uuid);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        SecretObj *obj = v;
        if (matches(obj->def, flags))
            g_ptr_array_add(out, ref_of(obj->def));
    }
    g_ptr_array_sort(out, by_uuid);
    return out;
}
