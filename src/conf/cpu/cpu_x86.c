/*
 * The x86 CPU driver (see cpu_x86.h). The map is vrt's x86_cpu_map.tsv,
 * built into the binary (gen_cpu_map.py makes a C string of it) and read
 * once. A model's or a feature's meaning is a set of CPUID/MSR bits; the
 * computations are set operations on those bits, in the map's order, so
 * the features listed and the model chosen are those libvirt lists and
 * chooses with the same map.
 */
#include "conf/cpu/cpu_x86.h"
#include "util/error.h"

#include <string.h>

extern const char vrt_x86_cpu_map_tsv[];

/* ---- data: sets of CPUID/MSR bits ---- */

static int
item_cmp(const VrtCpuxItem *a, VrtCpuxItemType type, guint32 in, guint32 sub)
{
    if (a->type != type)
        return a->type < type ? -1 : 1;
    if (a->in != in)
        return a->in < in ? -1 : 1;
    if (a->type == VRT_CPUX_CPUID && a->sub != sub)
        return a->sub < sub ? -1 : 1;
    return 0;
}

static bool
item_zero(const VrtCpuxItem *i)
{
    return !(i->eax | i->ebx | i->ecx | i->edx);
}

/* item's bits include every bit of mask */
static bool
item_has(const VrtCpuxItem *item, const VrtCpuxItem *mask)
{
    return (item->eax & mask->eax) == mask->eax && (item->ebx & mask->ebx) == mask->ebx &&
           (item->ecx & mask->ecx) == mask->ecx && (item->edx & mask->edx) == mask->edx;
}

static bool
item_equal(const VrtCpuxItem *a, const VrtCpuxItem *b)
{
    return a->eax == b->eax && a->ebx == b->ebx && a->ecx == b->ecx && a->edx == b->edx;
}

VrtCpuxData *
vrt_cpux_data_new(void)
{
    VrtCpuxData *d = g_new0(VrtCpuxData, 1);

    d->items = g_array_new(FALSE, TRUE, sizeof(VrtCpuxItem));
    return d;
}

void
vrt_cpux_data_free(VrtCpuxData *data)
{
    if (!data)
        return;
    g_array_unref(data->items);
    g_free(data);
}

static VrtCpuxData *
data_copy(const VrtCpuxData *src)
{
    VrtCpuxData *d = vrt_cpux_data_new();

    g_array_append_vals(d->items, src->items->data, src->items->len);
    return d;
}

static VrtCpuxItem *
data_get(const VrtCpuxData *data, const VrtCpuxItem *like)
{
    for (guint i = 0; i < data->items->len; i++) {
        VrtCpuxItem *it = &g_array_index(data->items, VrtCpuxItem, i);
        if (item_cmp(it, like->type, like->in, like->sub) == 0)
            return it;
    }
    return NULL;
}

const VrtCpuxItem *
vrt_cpux_data_get(const VrtCpuxData *data, VrtCpuxItemType type, guint32 in, guint32 sub)
{
    VrtCpuxItem like = { .type = type, .in = in, .sub = sub };

    return data_get(data, &like);
}

void
vrt_cpux_data_add(VrtCpuxData *data, const VrtCpuxItem *item)
{
    guint i;

    for (i = 0; i < data->items->len; i++) {
        VrtCpuxItem *it = &g_array_index(data->items, VrtCpuxItem, i);
        int c = item_cmp(it, item->type, item->in, item->sub);

        if (c == 0) {
            it->eax |= item->eax;
            it->ebx |= item->ebx;
            it->ecx |= item->ecx;
            it->edx |= item->edx;
            return;
        }
        if (c > 0)
            break;
    }
    g_array_insert_val(data->items, i, *item);
}

static void
data_add(VrtCpuxData *d1, const VrtCpuxData *d2)
{
    for (guint i = 0; i < d2->items->len; i++) {
        const VrtCpuxItem *it = &g_array_index(d2->items, VrtCpuxItem, i);
        if (!item_zero(it))
            vrt_cpux_data_add(d1, it);
    }
}

static void
data_subtract(VrtCpuxData *d1, const VrtCpuxData *d2)
{
    for (guint i = 0; i < d1->items->len; i++) {
        VrtCpuxItem *a = &g_array_index(d1->items, VrtCpuxItem, i);
        const VrtCpuxItem *b = data_get(d2, a);

        if (!b)
            continue;
        a->eax &= ~b->eax;
        a->ebx &= ~b->ebx;
        a->ecx &= ~b->ecx;
        a->edx &= ~b->edx;
    }
}

static void
data_intersect(VrtCpuxData *d1, const VrtCpuxData *d2)
{
    for (guint i = 0; i < d1->items->len; i++) {
        VrtCpuxItem *a = &g_array_index(d1->items, VrtCpuxItem, i);
        const VrtCpuxItem *b = data_get(d2, a);

        a->eax &= b ? b->eax : 0;
        a->ebx &= b ? b->ebx : 0;
        a->ecx &= b ? b->ecx : 0;
        a->edx &= b ? b->edx : 0;
    }
}

static bool
data_empty(const VrtCpuxData *d)
{
    for (guint i = 0; i < d->items->len; i++)
        if (!item_zero(&g_array_index(d->items, VrtCpuxItem, i)))
            return false;
    return true;
}

/* every bit of subset is in data */
static bool
data_has(const VrtCpuxData *data, const VrtCpuxData *subset)
{
    for (guint i = 0; i < subset->items->len; i++) {
        const VrtCpuxItem *s = &g_array_index(subset->items, VrtCpuxItem, i);
        const VrtCpuxItem *d;

        if (item_zero(s))
            continue;
        if (!(d = data_get(data, s)) || !item_has(d, s))
            return false;
    }
    return true;
}

/* ---- the map ---- */

typedef struct {
    char *name;
    VrtCpuxItem item; /* leaf 0's ebx, edx, ecx: the vendor string */
} Vendor;

typedef struct {
    char *name;
    bool migratable;
    VrtCpuxData *data;
} Feature;

typedef struct {
    guint family, model;
    guint32 steppings; /* bit N: stepping N; 0 = any */
} Signature;

typedef struct {
    char *name;
    int vendor; /* index in vendors, -1 = none */
    bool decode_host, decode_guest;
    GArray *sigs; /* Signature */
    VrtCpuxData *data;
    char **removed;
} Model;

typedef struct {
    GPtrArray *vendors; /* Vendor* */
    GPtrArray *features; /* Feature* */
    GPtrArray *models; /* Model* */
} Map;

static Map *the_map;

static int
vendor_find(const Map *map, const char *name)
{
    for (guint i = 0; i < map->vendors->len; i++)
        if (g_str_equal(((Vendor *)map->vendors->pdata[i])->name, name))
            return (int)i;
    return -1;
}

static const Feature *
feature_find(const Map *map, const char *name)
{
    for (guint i = 0; i < map->features->len; i++) {
        const Feature *f = map->features->pdata[i];
        if (g_str_equal(f->name, name))
            return f;
    }
    return NULL;
}

static const Model *
model_find(const Map *map, const char *name)
{
    for (guint i = 0; i < map->models->len; i++) {
        const Model *m = map->models->pdata[i];
        if (g_str_equal(m->name, name))
            return m;
    }
    return NULL;
}

static guint32
read_le32(const char *s)
{
    return (guint32)(guint8)s[0] | (guint32)(guint8)s[1] << 8 | (guint32)(guint8)s[2] << 16 |
           (guint32)(guint8)s[3] << 24;
}

static bool
parse_item(const char *text, VrtCpuxItem *item)
{
    g_auto(GStrv) p = g_strsplit(text, ":", -1);
    guint n = g_strv_length(p);
    guint64 v[6] = { 0 };

    memset(item, 0, sizeof(*item));
    for (guint i = 1; i < n && i <= 6; i++)
        v[i - 1] = g_ascii_strtoull(p[i], NULL, 0);
    if (g_str_equal(p[0], "cpuid") && n == 7) {
        *item = (VrtCpuxItem){ VRT_CPUX_CPUID, (guint32)v[0], (guint32)v[1], (guint32)v[2],
                               (guint32)v[3],  (guint32)v[4], (guint32)v[5] };
        return true;
    }
    if (g_str_equal(p[0], "msr") && n == 4) {
        *item = (VrtCpuxItem){ .type = VRT_CPUX_MSR, .in = (guint32)v[0], .eax = (guint32)v[1], .edx = (guint32)v[2] };
        return true;
    }
    return false;
}

static void
vendor_free(gpointer p)
{
    Vendor *v = p;
    g_free(v->name);
    g_free(v);
}

static void
feature_free(gpointer p)
{
    Feature *f = p;
    g_free(f->name);
    vrt_cpux_data_free(f->data);
    g_free(f);
}

static void
model_free(gpointer p)
{
    Model *m = p;
    g_free(m->name);
    g_array_unref(m->sigs);
    vrt_cpux_data_free(m->data);
    g_strfreev(m->removed);
    g_free(m);
}

static void
map_free(Map *map)
{
    g_ptr_array_unref(map->vendors);
    g_ptr_array_unref(map->features);
    g_ptr_array_unref(map->models);
    g_free(map);
}

static bool
parse_model(Map *map, char **f, guint n, GError **error)
{
    Model *m;

    if (n != 8) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "CPU map: model line with %u fields", n);
        return false;
    }
    m = g_new0(Model, 1);
    m->name = g_strdup(f[1]);
    m->vendor = g_str_equal(f[2], "-") ? -1 : vendor_find(map, f[2]);
    m->decode_host = g_str_equal(f[3], "on");
    m->decode_guest = g_str_equal(f[4], "on");
    m->sigs = g_array_new(FALSE, TRUE, sizeof(Signature));
    m->data = vrt_cpux_data_new();
    g_ptr_array_add(map->models, m);
    if (!g_str_equal(f[5], "-")) {
        g_auto(GStrv) sigs = g_strsplit(f[5], ",", -1);
        for (guint i = 0; sigs[i]; i++) {
            g_auto(GStrv) s = g_strsplit(sigs[i], "/", 3);
            Signature sig = { 0 };
            if (g_strv_length(s) != 3) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "CPU map: bad signature of model %s", m->name);
                return false;
            }
            sig.family = (guint)g_ascii_strtoull(s[0], NULL, 10);
            sig.model = (guint)g_ascii_strtoull(s[1], NULL, 10);
            sig.steppings = g_str_equal(s[2], "*") ? 0 : (guint32)g_ascii_strtoull(s[2], NULL, 0);
            g_array_append_val(m->sigs, sig);
        }
    }
    if (!g_str_equal(f[6], "-")) {
        g_auto(GStrv) feats = g_strsplit(f[6], ",", -1);
        for (guint i = 0; feats[i]; i++) {
            const Feature *ft = feature_find(map, feats[i]);
            if (!ft) {
                vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Feature %s required by CPU model %s not found", feats[i],
                              m->name);
                return false;
            }
            data_add(m->data, ft->data);
        }
    }
    m->removed = g_str_equal(f[7], "-") ? g_new0(char *, 1) : g_strsplit(f[7], ",", -1);
    return true;
}

static Map *
map_load(GError **error)
{
    g_autofree char *text = g_strdup(vrt_x86_cpu_map_tsv);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    Map *map = g_new0(Map, 1);

    map->vendors = g_ptr_array_new_with_free_func(vendor_free);
    map->features = g_ptr_array_new_with_free_func(feature_free);
    map->models = g_ptr_array_new_with_free_func(model_free);
    for (guint l = 0; lines[l]; l++) {
        g_auto(GStrv) f = NULL;
        guint n;

        if (!*lines[l] || lines[l][0] == '#')
            continue;
        f = g_strsplit(lines[l], "\t", -1);
        n = g_strv_length(f);
        if (g_str_equal(f[0], "vendor") && n == 3 && strlen(f[2]) == 12) {
            Vendor *v = g_new0(Vendor, 1);
            v->name = g_strdup(f[1]);
            v->item = (VrtCpuxItem){
                .type = VRT_CPUX_CPUID, .ebx = read_le32(f[2]), .edx = read_le32(f[2] + 4), .ecx = read_le32(f[2] + 8)
            };
            g_ptr_array_add(map->vendors, v);
        } else if (g_str_equal(f[0], "feature") && n >= 4) {
            Feature *ft = g_new0(Feature, 1);
            ft->name = g_strdup(f[1]);
            ft->migratable = !g_str_equal(f[2], "no");
            ft->data = vrt_cpux_data_new();
            g_ptr_array_add(map->features, ft);
            for (guint i = 3; i < n; i++) {
                VrtCpuxItem it;
                if (!parse_item(f[i], &it)) {
                    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "CPU map: bad data of feature %s", ft->name);
                    map_free(map);
                    return NULL;
                }
                vrt_cpux_data_add(ft->data, &it);
            }
        } else if (g_str_equal(f[0], "model")) {
            if (!parse_model(map, f, n, error)) {
                map_free(map);
                return NULL;
            }
        } else {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "CPU map: bad line %u", l + 1);
            map_free(map);
            return NULL;
        }
    }
    return map;
}

static const Map *
get_map(GError **error)
{
    static gsize once;

    if (g_once_init_enter(&once)) {
        g_autoptr(GError) err = NULL;
        the_map = map_load(&err);
        if (!the_map)
            g_critical("%s", err->message);
        g_once_init_leave(&once, 1);
    }
    if (!the_map)
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "the x86 CPU map is broken");
    return the_map;
}

bool
vrt_cpux_map_ready(GError **error)
{
    return get_map(error) != NULL;
}

char **
vrt_cpux_model_names(void)
{
    const Map *map = get_map(NULL);
    GPtrArray *names = g_ptr_array_new();

    for (guint i = 0; map && i < map->models->len; i++)
        g_ptr_array_add(names, g_strdup(((Model *)map->models->pdata[i])->name));
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(names, FALSE);
}

bool
vrt_cpux_model_known(const char *name, const char **vendor)
{
    const Map *map = get_map(NULL);
    const Model *m = map ? model_find(map, name) : NULL;

    if (!m)
        return false;
    if (vendor)
        *vendor = m->vendor >= 0 ? ((Vendor *)map->vendors->pdata[m->vendor])->name : NULL;
    return true;
}

bool
vrt_cpux_has_feature(const char *name)
{
    const Map *map = get_map(NULL);

    return map && feature_find(map, name);
}

bool
vrt_cpux_data_has_feature(const VrtCpuxData *data, const char *name)
{
    const Map *map = get_map(NULL);
    const Feature *f = map ? feature_find(map, name) : NULL;

    return f && data_has(data, f->data);
}

/* ---- decoding CPUID data into a model and features ---- */

/* Adds to cpu every feature of the map whose bits are all in data, in the
 * map's order, taking each one's bits out of data. */
static void
data_to_features(VrtCpuDef *cpu, int policy, VrtCpuxData *data, const Map *map)
{
    for (guint i = 0; i < map->features->len; i++) {
        const Feature *f = map->features->pdata[i];

        if (data_has(data, f->data)) {
            data_subtract(data, f->data);
            vrt_cpu_def_add_feature(cpu, f->name, policy);
        }
    }
}

/* The vendor whose string data's leaf 0 holds (its bits taken out), -1 if none. */
static int
data_to_vendor(VrtCpuxData *data, const Map *map)
{
    for (guint i = 0; i < map->vendors->len; i++) {
        const Vendor *v = map->vendors->pdata[i];
        VrtCpuxItem *it = data_get(data, &v->item);

        if (it && item_has(it, &v->item)) {
            it->ebx &= ~v->item.ebx;
            it->ecx &= ~v->item.ecx;
            it->edx &= ~v->item.edx;
            return (int)i;
        }
    }
    return -1;
}

/* The signature bits of leaf 1's eax (reserved bits masked). */
static guint32
data_signature(const VrtCpuxData *data)
{
    const VrtCpuxItem *it = vrt_cpux_data_get(data, VRT_CPUX_CPUID, 1, 0);

    return it ? it->eax & 0x0fff3fff : 0;
}

static void
signature_split(guint32 sig, guint *family, guint *model, guint *stepping)
{
    *family = ((sig >> 20) & 0xff) + ((sig >> 8) & 0xf);
    *model = ((sig >> 12) & 0xf0) + ((sig >> 4) & 0xf);
    *stepping = sig & 0xf;
}

static bool
signatures_match(const Model *m, guint32 sig)
{
    guint family, model, stepping;

    signature_split(sig, &family, &model, &stepping);
    for (guint i = 0; i < m->sigs->len; i++) {
        const Signature *s = &g_array_index(m->sigs, Signature, i);
        if (s->family == family && s->model == model && (!s->steppings || (s->steppings & (1u << stepping))))
            return true;
    }
    return false;
}

/* Intel's broken TSX (Haswell and early Broadwell parts) is not offered. */
static void
filter_tsx(VrtCpuxData *data, int vendor, const Map *map)
{
    guint family, model, stepping;

    if (vendor < 0 || !g_str_equal(((Vendor *)map->vendors->pdata[vendor])->name, "Intel"))
        return;
    signature_split(data_signature(data), &family, &model, &stepping);
    if (family == 6 && ((model == 63 && stepping < 4) || model == 60 || model == 69 || model == 70)) {
        const Feature *f;
        if ((f = feature_find(map, "hle")))
            data_subtract(data, f->data);
        if ((f = feature_find(map, "rtm")))
            data_subtract(data, f->data);
    }
}

/* data as model: the features data has beyond the model required, those
 * of the model it lacks disabled (a guest CPU also disables the model's
 * removed features). */
static VrtCpuDef *
data_to_cpu(const VrtCpuxData *data, const Model *model, const Map *map, const VrtCpuxHvModel *hv, VrtCpuType type)
{
    VrtCpuDef *cpu = vrt_cpu_def_new(VRT_CPU_TYPE_GUEST);
    g_autoptr(VrtCpuxData) copy = data_copy(data);
    g_autoptr(VrtCpuxData) mdata = data_copy(model->data);
    int vendor;

    cpu->model = g_strdup(model->name);
    if ((vendor = data_to_vendor(copy, map)) >= 0)
        cpu->vendor = g_strdup(((Vendor *)map->vendors->pdata[vendor])->name);
    data_subtract(copy, mdata);
    data_subtract(mdata, data);
    /* The hypervisor's version of the model may need features it cannot
     * give (its blockers): the model is usable only with them disabled. */
    for (guint i = 0; hv && hv->blockers && hv->blockers[i]; i++) {
        const Feature *f = feature_find(map, hv->blockers[i]);
        if (f && !data_has(copy, f->data))
            data_add(mdata, f->data);
    }
    data_to_features(cpu, VRT_CPU_FEATURE_REQUIRE, copy, map);
    data_to_features(cpu, VRT_CPU_FEATURE_DISABLE, mdata, map);
    if (type == VRT_CPU_TYPE_GUEST) {
        for (guint i = 0; model->removed[i]; i++)
            if (!vrt_cpu_def_find_feature(cpu, model->removed[i]))
                vrt_cpu_def_add_feature(cpu, model->removed[i], VRT_CPU_FEATURE_DISABLE);
    }
    cpu->type = type;
    return cpu;
}

/* How long the candidate's feature list is against the current one's; a
 * disabled feature of a guest CPU counts more, each one more than the
 * last. 1: the candidate is better. */
static int
compare_feature_lists(const VrtCpuDef *cur, const VrtCpuDef *cand, bool preferred)
{
    gsize current = cur->features->len, enabled_cur = current, disabled_cur = 0;
    gsize candidate = cand->features->len, enabled = candidate, disabled = 0;

    if (cand->type != VRT_CPU_TYPE_HOST) {
        int penalty = 2;
        /* As libvirt 9.0 counts: the loop's bound is the enabled count it
         * lowers as it goes, so disabled features at the end of a long
         * list (they follow the required ones) are not all seen. */
        for (guint i = 0; i < enabled_cur; i++) {
            if (g_array_index(cur->features, VrtCpuFeature, i).policy == VRT_CPU_FEATURE_DISABLE) {
                enabled_cur--;
                disabled_cur += penalty++;
            }
        }
        current = enabled_cur + disabled_cur;
        penalty = 2;
        for (guint i = 0; i < enabled; i++) {
            if (g_array_index(cand->features, VrtCpuFeature, i).policy == VRT_CPU_FEATURE_DISABLE) {
                enabled--;
                disabled += penalty++;
            }
        }
        candidate = enabled + disabled;
    }
    if (candidate < current || (candidate == current && disabled < disabled_cur))
        return 1;
    if (preferred && disabled < disabled_cur)
        return 1;
    return 0;
}

/* 0: keep the current model, 1: take the candidate, 2: take it and stop. */
static int
use_candidate(const Model *cur, const VrtCpuDef *cpu_cur, const Model *cand, VrtCpuDef *cpu_cand, guint32 sig,
              char **preferred)
{
    bool is_preferred = false;

    if (cpu_cand->type == VRT_CPU_TYPE_HOST && !cand->decode_host)
        return 0;
    if (cpu_cand->type == VRT_CPU_TYPE_GUEST && !cand->decode_guest)
        return 0;
    if (cpu_cand->type == VRT_CPU_TYPE_HOST) {
        for (guint i = 0; i < cpu_cand->features->len; i++) {
            VrtCpuFeature *f = &g_array_index(cpu_cand->features, VrtCpuFeature, i);
            if (f->policy == VRT_CPU_FEATURE_DISABLE)
                return 0;
            f->policy = VRT_CPU_FEATURE_NONE;
        }
    }
    if (preferred) {
        is_preferred = g_strv_contains((const char *const *)preferred, cpu_cand->model);
        if (is_preferred && !preferred[1])
            return 2;
    }
    if (!cpu_cur)
        return 1;
    if (sig) {
        bool cur_match = signatures_match(cur, sig), cand_match = signatures_match(cand, sig);
        if (cur_match && !cand_match)
            return 0;
        if (!cur_match && cand_match)
            return 1;
    }
    return compare_feature_lists(cpu_cur, cpu_cand, is_preferred);
}

/* Fills cpu (its type set) with the model, vendor, signature and features
 * that describe data, trying the newest models first. */
static const VrtCpuxHvModel *
hv_model_find(const VrtCpuxHvModel *models, guint nmodels, const char *name)
{
    for (guint i = 0; i < nmodels; i++)
        if (g_str_equal(models[i].name, name))
            return &models[i];
    return NULL;
}

/* models (NULL: every model of the map) are the hypervisor's, with what
 * blocks each one. */
static bool
decode(VrtCpuDef *cpu, const VrtCpuxData *in, const VrtCpuxHvModel *models, guint nmodels, char **preferred,
       bool migratable, GError **error)
{
    const Map *map = get_map(error);
    g_autoptr(VrtCpuxData) data = NULL;
    g_autoptr(VrtCpuDef) best = NULL;
    const Model *best_model = NULL;
    guint32 sig;
    int vendor;

    if (!map)
        return false;
    data = data_copy(in);
    vendor = data_to_vendor(data, map);
    sig = data_signature(data);
    filter_tsx(data, vendor, map);
    if (preferred && !preferred[0])
        preferred = NULL;
    for (guint n = map->models->len; n-- > 0;) {
        const Model *cand = map->models->pdata[n];
        const VrtCpuxHvModel *hv = NULL;
        g_autoptr(VrtCpuDef) cpu_cand = NULL;
        int rc;

        if (models && !(hv = hv_model_find(models, nmodels, cand->name)))
            continue;
        if (vendor >= 0 && cand->vendor >= 0 && vendor != cand->vendor)
            continue;
        cpu_cand = data_to_cpu(data, cand, map, hv, cpu->type);
        if ((rc = use_candidate(best_model, best, cand, cpu_cand, sig, preferred))) {
            g_clear_pointer(&best, vrt_cpu_def_free);
            best = g_steal_pointer(&cpu_cand);
            best_model = cand;
            if (rc == 2)
                break;
        }
    }
    if (!best) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Cannot find suitable CPU model for given data");
        return false;
    }
    if (migratable) {
        for (guint i = 0; i < best->features->len;) {
            const Feature *f = feature_find(map, g_array_index(best->features, VrtCpuFeature, i).name);
            if (f && !f->migratable)
                g_array_remove_index(best->features, i);
            else
                i++;
        }
    }
    g_free(cpu->vendor);
    cpu->vendor = vendor >= 0 ? g_strdup(((Vendor *)map->vendors->pdata[vendor])->name) : NULL;
    g_free(cpu->model);
    cpu->model = g_steal_pointer(&best->model);
    g_array_set_size(cpu->features, 0);
    for (guint i = 0; i < best->features->len; i++) {
        const VrtCpuFeature *f = &g_array_index(best->features, VrtCpuFeature, i);
        vrt_cpu_def_add_feature(cpu, f->name, f->policy);
    }
    signature_split(sig, &cpu->sig_family, &cpu->sig_model, &cpu->sig_stepping);
    return true;
}

VrtCpuDef *
vrt_cpux_decode_host(const VrtCpuxData *data, GError **error)
{
    g_autoptr(VrtCpuDef) cpu = vrt_cpu_def_new(VRT_CPU_TYPE_HOST);

    cpu->arch = g_strdup("x86_64");
    if (!decode(cpu, data, NULL, 0, NULL, false, error))
        return NULL;
    return g_steal_pointer(&cpu);
}

VrtCpuDef *
vrt_cpux_decode_hv(const VrtCpuxData *data, const VrtCpuxHvModel *models, guint nmodels, GError **error)
{
    g_autoptr(VrtCpuDef) cpu = vrt_cpu_def_new(VRT_CPU_TYPE_GUEST);

    cpu->mode = VRT_CPU_MODE_CUSTOM;
    cpu->match = VRT_CPU_MATCH_EXACT;
    if (!decode(cpu, data, models, nmodels, NULL, false, error))
        return NULL;
    cpu->fallback = VRT_CPU_FALLBACK_FORBID;
    return g_steal_pointer(&cpu);
}

VrtCpuxData *
vrt_cpux_data_from_features(const char *vendor_string, guint family, guint model, guint stepping,
                            const char *const *features, GError **error)
{
    const Map *map = get_map(error);
    g_autoptr(VrtCpuxData) data = NULL;
    VrtCpuxItem leaf1 = { .type = VRT_CPUX_CPUID, .in = 1 };
    guint ext = 0;

    if (!map)
        return NULL;
    data = vrt_cpux_data_new();
    for (guint i = 0; features && features[i]; i++) {
        const Feature *f = feature_find(map, features[i]);
        if (f) /* what the map does not name means nothing to it */
            data_add(data, f->data);
    }
    if (vendor_string) {
        VrtCpuxItem leaf0 = { .type = VRT_CPUX_CPUID, .in = 0 };
        if (strlen(vendor_string) != 12) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Invalid CPU vendor string '%s'", vendor_string);
            return NULL;
        }
        leaf0.ebx = read_le32(vendor_string);
        leaf0.edx = read_le32(vendor_string + 4);
        leaf0.ecx = read_le32(vendor_string + 8);
        vrt_cpux_data_add(data, &leaf0);
    }
    if (family > 0xf) {
        ext = family - 0xf;
        family = 0xf;
    }
    leaf1.eax = ext << 20 | (model >> 4) << 16 | family << 8 | (model & 0xf) << 4 | (stepping & 0xf);
    vrt_cpux_data_add(data, &leaf1);
    return g_steal_pointer(&data);
}

/* ---- compare ---- */

/* The bits of cpu's model and its features of one policy (-1: the CPU as
 * a whole: model, required and forced features, without disabled and
 * forbidden ones); a host CPU only has required features. */
static VrtCpuxData *
model_from_cpu(const VrtCpuDef *cpu, const Map *map, int policy, GError **error)
{
    g_autoptr(VrtCpuxData) data = vrt_cpux_data_new();

    if (cpu->type == VRT_CPU_TYPE_HOST && policy != VRT_CPU_FEATURE_REQUIRE && policy != -1)
        return g_steal_pointer(&data);
    if (cpu->model && (policy == VRT_CPU_FEATURE_REQUIRE || policy == -1)) {
        const Model *m = model_find(map, cpu->model);
        if (!m) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Unknown CPU model %s", cpu->model);
            return NULL;
        }
        data_add(data, m->data);
    }
    for (guint i = 0; i < cpu->features->len; i++) {
        const VrtCpuFeature *cf = &g_array_index(cpu->features, VrtCpuFeature, i);
        int fpol = cf->policy == VRT_CPU_FEATURE_NONE ? VRT_CPU_FEATURE_REQUIRE : cf->policy;
        const Feature *f;

        if ((policy == -1 && fpol == VRT_CPU_FEATURE_OPTIONAL) || (policy != -1 && fpol != policy))
            continue;
        if (!(f = feature_find(map, cf->name))) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Unknown CPU feature %s", cf->name);
            return NULL;
        }
        if (policy == -1 && (fpol == VRT_CPU_FEATURE_DISABLE || fpol == VRT_CPU_FEATURE_FORBID))
            data_subtract(data, f->data);
        else
            data_add(data, f->data);
    }
    return g_steal_pointer(&data);
}

VrtCpuxData *
vrt_cpux_encode(const VrtCpuDef *cpu, GError **error)
{
    const Map *map = get_map(error);
    VrtCpuxData *data;

    if (!map || !(data = model_from_cpu(cpu, map, -1, error)))
        return NULL;
    if (cpu->vendor) {
        int v = vendor_find(map, cpu->vendor);
        if (v < 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "Unknown CPU vendor %s", cpu->vendor);
            vrt_cpux_data_free(data);
            return NULL;
        }
        vrt_cpux_data_add(data, &((Vendor *)map->vendors->pdata[v])->item);
    }
    if (cpu->sig_family) {
        guint family = cpu->sig_family, ext = 0;
        VrtCpuxItem leaf1 = { .type = VRT_CPUX_CPUID, .in = 1 };
        if (family > 0xf) {
            ext = family - 0xf;
            family = 0xf;
        }
        leaf1.eax = ext << 20 | (cpu->sig_model >> 4) << 16 | family << 8 | (cpu->sig_model & 0xf) << 4 |
                    (cpu->sig_stepping & 0xf);
        vrt_cpux_data_add(data, &leaf1);
    }
    return data;
}

typedef enum {
    CMP_EQUAL,
    CMP_SUPERSET,
    CMP_SUBSET,
    CMP_UNRELATED
} SetRelation;

static SetRelation
relation(const VrtCpuxData *d1, const VrtCpuxData *d2)
{
    SetRelation result = CMP_EQUAL;

    for (int pass = 0; pass < 2; pass++) {
        const VrtCpuxData *a = pass ? d2 : d1, *b = pass ? d1 : d2;

        for (guint i = 0; i < a->items->len; i++) {
            const VrtCpuxItem *x = &g_array_index(a->items, VrtCpuxItem, i), *y;
            SetRelation match = pass ? CMP_SUBSET : CMP_SUPERSET;

            if (item_zero(x))
                continue;
            if ((y = data_get(b, x))) {
                if (item_equal(x, y))
                    continue;
                if (!item_has(x, y))
                    match = pass ? CMP_SUPERSET : CMP_SUBSET;
            }
            if (result == CMP_EQUAL)
                result = match;
            else if (result != match)
                return CMP_UNRELATED;
        }
    }
    return result;
}

/* "feature, feature": the map's features whose bits are all in data. */
static char *
feature_names(const Map *map, const VrtCpuxData *data)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < map->features->len; i++) {
        const Feature *f = map->features->pdata[i];
        if (data_has(data, f->data)) {
            if (s->len)
                g_string_append(s, ", ");
            g_string_append(s, f->name);
        }
    }
    return g_string_free(s, FALSE);
}

/* 0 incompatible (*message says why), 1 identical, 2 superset, -1 error */
static int
compute(const VrtCpuDef *host, const VrtCpuDef *cpu, char **message, GError **error)
{
    const Map *map = get_map(error);
    g_autoptr(VrtCpuxData) host_d = NULL, force = NULL, require = NULL, optional = NULL, disable = NULL, forbid = NULL,
                           diff = NULL;

    if (!map)
        return -1;
    if (cpu->arch && !g_str_equal(cpu->arch, "x86_64") && !g_str_equal(cpu->arch, "i686")) {
        *message = g_strdup_printf("CPU arch %s does not match host arch", cpu->arch);
        return 0;
    }
    if (cpu->vendor && (!host->vendor || !g_str_equal(cpu->vendor, host->vendor))) {
        *message = g_strdup_printf("host CPU vendor does not match required CPU vendor %s", cpu->vendor);
        return 0;
    }
    if (!(host_d = model_from_cpu(host, map, -1, error)) ||
        !(force = model_from_cpu(cpu, map, VRT_CPU_FEATURE_FORCE, error)) ||
        !(require = model_from_cpu(cpu, map, VRT_CPU_FEATURE_REQUIRE, error)) ||
        !(optional = model_from_cpu(cpu, map, VRT_CPU_FEATURE_OPTIONAL, error)) ||
        !(disable = model_from_cpu(cpu, map, VRT_CPU_FEATURE_DISABLE, error)) ||
        !(forbid = model_from_cpu(cpu, map, VRT_CPU_FEATURE_FORBID, error)))
        return -1;
    data_intersect(forbid, host_d);
    if (!data_empty(forbid)) {
        g_autofree char *names = feature_names(map, forbid);
        *message = g_strdup_printf("Host CPU provides forbidden features: %s", names);
        return 0;
    }
    data_subtract(require, force);
    data_subtract(require, optional);
    data_subtract(require, disable);
    SetRelation r = relation(host_d, require);
    if (r == CMP_SUBSET || r == CMP_UNRELATED) {
        g_autofree char *names = NULL;
        data_subtract(require, host_d);
        names = feature_names(map, require);
        *message = g_strdup_printf("Host CPU does not provide required features: %s", names);
        return 0;
    }
    diff = data_copy(host_d);
    data_subtract(diff, optional);
    data_subtract(diff, require);
    data_subtract(diff, disable);
    data_subtract(diff, force);
    if (data_empty(diff))
        return 1;
    if (cpu->type == VRT_CPU_TYPE_GUEST && cpu->match == VRT_CPU_MATCH_STRICT) {
        g_autofree char *names = feature_names(map, diff);
        *message = g_strdup_printf("Host CPU does not strictly match guest CPU: Extra features: %s", names);
        return 0;
    }
    return 2;
}

int
vrt_cpux_compare(const VrtCpuDef *host, const VrtCpuDef *cpu, bool fail_incompatible, GError **error)
{
    g_autofree char *message = NULL;
    int r;

    if (!host || !host->model) {
        if (fail_incompatible) {
            vrt_error_set_literal(error, VIR_ERR_CPU_INCOMPATIBLE,
                                  "the CPU is incompatible with host CPU: unknown host CPU");
            return -1;
        }
        return 0;
    }
    r = compute(host, cpu, &message, error);
    if (r == 0 && fail_incompatible) {
        g_autofree char *text = message ? g_strdup_printf("the CPU is incompatible with host CPU: %s", message)
                                        : g_strdup("the CPU is incompatible with host CPU");
        vrt_error_set_literal(error, VIR_ERR_CPU_INCOMPATIBLE, text);
        return -1;
    }
    return r;
}

/* ---- baseline ---- */

VrtCpuDef *
vrt_cpux_baseline(VrtCpuDef **cpus, guint ncpus, bool migratable, GError **error)
{
    return vrt_cpux_baseline_hv(cpus, ncpus, NULL, 0, NULL, migratable, error);
}

VrtCpuDef *
vrt_cpux_baseline_hv(VrtCpuDef **cpus, guint ncpus, const VrtCpuxHvModel *models, guint nmodels,
                     const char *const *features, bool migratable, GError **error)
{
    const Map *map = get_map(error);
    g_autoptr(VrtCpuxData) base = NULL;
    g_autoptr(VrtCpuDef) cpu = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    bool output_vendor = true;
    int vendor = -1;

    if (!map)
        return NULL;
    if (ncpus < 1) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "no CPUs given");
        return NULL;
    }
    for (guint i = 0; i < ncpus; i++) {
        if (!cpus[i]->model) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "no CPU model specified at index %u", i);
            return NULL;
        }
    }
    /* the hypervisor's variant is the hypervisor's architecture's, whatever the CPUs say */
    if (!models && cpus[0]->arch && !g_str_equal(cpus[0]->arch, "x86_64") && !g_str_equal(cpus[0]->arch, "i686")) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "cannot compute baseline CPU of %s architecture", cpus[0]->arch);
        return NULL;
    }
    if (!(base = model_from_cpu(cpus[0], map, -1, error)))
        return NULL;
    cpu = vrt_cpu_def_new(VRT_CPU_TYPE_GUEST);
    cpu->match = VRT_CPU_MATCH_EXACT;
    if (!cpus[0]->vendor) {
        output_vendor = false;
    } else if ((vendor = vendor_find(map, cpus[0]->vendor)) < 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "Unknown CPU vendor %s", cpus[0]->vendor);
        return NULL;
    }
    g_ptr_array_add(names, cpus[0]->model);
    for (guint i = 1; i < ncpus; i++) {
        g_autoptr(VrtCpuxData) d = NULL;
        const Model *m = model_find(map, cpus[i]->model);
        const char *vn = NULL;

        if (!g_ptr_array_find_with_equal_func(names, cpus[i]->model, g_str_equal, NULL))
            g_ptr_array_add(names, cpus[i]->model);
        if (!(d = model_from_cpu(cpus[i], map, -1, error)))
            return NULL;
        const char *mvendor = m && m->vendor >= 0 ? ((Vendor *)map->vendors->pdata[m->vendor])->name : NULL;
        if (cpus[i]->vendor && mvendor && !g_str_equal(cpus[i]->vendor, mvendor)) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "CPU vendor %s of model %s differs from vendor %s", mvendor,
                          m->name, cpus[i]->vendor);
            return NULL;
        }
        if (cpus[i]->vendor) {
            vn = cpus[i]->vendor;
        } else {
            output_vendor = false;
            vn = mvendor;
        }
        if (vn) {
            if (vendor < 0) {
                if ((vendor = vendor_find(map, vn)) < 0) {
                    vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "Unknown CPU vendor %s", vn);
                    return NULL;
                }
            } else if (!g_str_equal(((Vendor *)map->vendors->pdata[vendor])->name, vn)) {
                vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "CPU vendors do not match");
                return NULL;
            }
        }
        data_intersect(base, d);
    }
    if (features) {
        /* only what the hypervisor knows of */
        g_autoptr(VrtCpuxData) known = vrt_cpux_data_new();
        for (guint i = 0; features[i]; i++) {
            const Feature *f = feature_find(map, features[i]);
            if (f)
                data_add(known, f->data);
        }
        data_intersect(base, known);
    }
    if (data_empty(base)) {
        vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "CPUs are incompatible");
        return NULL;
    }
    if (vendor >= 0)
        vrt_cpux_data_add(base, &((Vendor *)map->vendors->pdata[vendor])->item);
    g_ptr_array_add(names, NULL);
    if (!decode(cpu, base, models, nmodels, (char **)names->pdata, migratable, error))
        return NULL;
    /* a baseline has no signature */
    cpu->sig_family = cpu->sig_model = cpu->sig_stepping = 0;
    if (names->len == 2 && g_str_equal(cpu->model, names->pdata[0]))
        cpu->fallback = VRT_CPU_FALLBACK_FORBID;
    if (!output_vendor)
        g_clear_pointer(&cpu->vendor, g_free);
    return g_steal_pointer(&cpu);
}

static gint
feature_by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(((const VrtCpuFeature *)a)->name, ((const VrtCpuFeature *)b)->name);
}

bool
vrt_cpux_expand_features(VrtCpuDef *cpu, GError **error)
{
    const Map *map = get_map(error);
    const Model *m;
    bool host = cpu->type == VRT_CPU_TYPE_HOST;
    g_autoptr(VrtCpuDef) expanded = NULL;
    g_autoptr(VrtCpuxData) data = NULL;

    if (!map)
        return false;
    if (!cpu->model || !(m = model_find(map, cpu->model))) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "unknown CPU model %s", cpu->model ? cpu->model : "(null)");
        return false;
    }
    expanded = vrt_cpu_def_new(cpu->type);
    data = data_copy(m->data);
    data_to_features(expanded, host ? VRT_CPU_FEATURE_NONE : VRT_CPU_FEATURE_REQUIRE, data, map);
    for (guint i = 0; i < cpu->features->len; i++) {
        const VrtCpuFeature *f = &g_array_index(cpu->features, VrtCpuFeature, i);
        if (!host && f->policy != VRT_CPU_FEATURE_REQUIRE && f->policy != VRT_CPU_FEATURE_DISABLE)
            continue;
        vrt_cpu_def_update_feature(expanded, f->name, f->policy);
    }
    if (!host) {
        for (guint i = 0; m->removed[i]; i++)
            if (!vrt_cpu_def_find_feature(expanded, m->removed[i]))
                vrt_cpu_def_add_feature(expanded, m->removed[i], VRT_CPU_FEATURE_DISABLE);
    }
    g_array_set_size(cpu->features, 0);
    for (guint i = 0; i < expanded->features->len; i++) {
        const VrtCpuFeature *f = &g_array_index(expanded->features, VrtCpuFeature, i);
        vrt_cpu_def_add_feature(cpu, f->name, f->policy);
    }
    /* libvirt lists an expanded CPU's features by name */
    g_array_sort(cpu->features, feature_by_name);
    return true;
}
