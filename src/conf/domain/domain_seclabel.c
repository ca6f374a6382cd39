/*
 * <seclabel>: libvirt's security labels, the domain's (one per security
 * model, after <devices>) and a device's (inside a disk's or a character
 * device's <source>), parsed with libvirt 9.0's rules and errors and
 * written back as libvirt writes them.
 *
 * A definition (any parse but the status file's) is read as libvirt reads
 * an inactive definition: a dynamic label's <label> and <imagelabel> are
 * runtime data and dropped, a seclabel without a model takes the host's
 * first security model, which on a host with neither SELinux nor AppArmor
 * (vrt's case) is "none", turning the label into type='none'. The status
 * file keeps the labels the driver generated at start (libvirt's live
 * XML); it is read leniently since vrt copies a definition through it
 * before the labels exist. Which models a start accepts is the driver's
 * business (qemu_security.c), as in libvirt, where a define takes any.
 */
#include "conf/domain/domain_conf.h"
#include "conf/domain/domain_priv.h"
#include "util/error.h"
#include "util/xml.h"

#include <string.h>

/* The host's default model (libvirt's defSecModel): the first of the
 * capabilities' <secmodel>s, "none" where no MAC model exists. */
#define DEFAULT_MODEL "none"

static const char *const seclabel_type_names[] = { "dynamic", "static", "none", NULL };

void
vrt_seclabel_def_free(VrtSecLabelDef *l)
{
    if (!l)
        return;
    g_free(l->model);
    g_free(l->label);
    g_free(l->imagelabel);
    g_free(l->baselabel);
    g_free(l);
}

void
vrt_sec_dev_label_def_free(VrtSecDevLabelDef *l)
{
    if (!l)
        return;
    g_free(l->model);
    g_free(l->label);
    g_free(l);
}

static char *
child_text(xmlNodePtr node, const char *name)
{
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, name))
            return vrt_xml_text(c);
    }
    return NULL;
}

/* A present element with empty text counts as missing, as libvirt's
 * string() XPath gives "" for both. */
static char *
nonempty(char *s)
{
    if (s && !*s) {
        g_free(s);
        return NULL;
    }
    return s;
}

static bool
parse_yes_no(xmlNodePtr node, const char *name, bool *out, GError **error)
{
    int v = -1;

    if (!vrt_xml_prop_yes_no(node, name, &v, error))
        return false;
    if (v >= 0)
        *out = v == 1;
    return true;
}

bool
vrt_parse_seclabel(xmlNodePtr node, guint flags, VrtDomainDef *def, GError **error)
{
    g_autoptr(GPtrArray) holder = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_seclabel_def_free);
    VrtSecLabelDef *l = g_new0(VrtSecLabelDef, 1);
    bool live = flags & VRT_DOMAIN_XML_STATUS;
    int type = VRT_SECLABEL_DYNAMIC;

    g_ptr_array_add(holder, l);
    if (!vrt_xml_check_attrs(node, error, "type", "model", "relabel", NULL) ||
        !vrt_xml_prop_enum(node, "type", seclabel_type_names, false, &type, error))
        return false;
    l->type = type;
    l->model = vrt_xml_prop(node, "model");
    l->relabel = l->type == VRT_SECLABEL_DYNAMIC;
    if (!parse_yes_no(node, "relabel", &l->relabel, error))
        return false;
    if (l->type == VRT_SECLABEL_DYNAMIC && !l->relabel) {
        vrt_error_set_literal(error, VIR_ERR_CONFIG_UNSUPPORTED, "dynamic label type must use resource relabeling");
        return false;
    }
    if (l->type == VRT_SECLABEL_NONE && l->relabel) {
        vrt_error_set_literal(error, VIR_ERR_CONFIG_UNSUPPORTED,
                              "resource relabeling is not compatible with 'none' label type");
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!vrt_xml_is(c, "label") && !vrt_xml_is(c, "imagelabel") && !vrt_xml_is(c, "baselabel"))
            return vrt_xml_unsupported(c, error);
    }
    if (g_strcmp0(l->model, "none") == 0) {
        /* libvirt fixes older definitions; a live one must say none */
        if (!live) {
            l->type = VRT_SECLABEL_NONE;
            l->relabel = false;
        } else if (l->type != VRT_SECLABEL_NONE) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unsupported type='%s' to model 'none'",
                          seclabel_type_names[l->type]);
            return false;
        }
    } else {
        if (l->type == VRT_SECLABEL_STATIC || (live && l->type != VRT_SECLABEL_NONE)) {
            l->label = nonempty(child_text(node, "label"));
            if (!l->label && l->type == VRT_SECLABEL_STATIC) {
                vrt_error_set_literal(error, VIR_ERR_XML_ERROR, "security label is missing");
                return false;
            }
        }
        if (l->relabel && live && l->type != VRT_SECLABEL_NONE)
            l->imagelabel = nonempty(child_text(node, "imagelabel"));
        if (l->type == VRT_SECLABEL_DYNAMIC)
            l->baselabel = nonempty(child_text(node, "baselabel"));
    }
    if (!def->seclabels)
        def->seclabels = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_seclabel_def_free);
    for (guint i = 0; i < def->seclabels->len; i++) {
        const VrtSecLabelDef *o = def->seclabels->pdata[i];

        if (g_strcmp0(o->model, l->model) == 0) {
            vrt_error_set(error, VIR_ERR_XML_DETAIL, "seclabel for model %s is already provided",
                          l->model ? l->model : "(null)");
            return false;
        }
    }
    g_ptr_array_add(def->seclabels, g_ptr_array_steal_index(holder, 0));
    return true;
}

bool
vrt_seclabels_post_parse(VrtDomainDef *def, guint flags, GError **error)
{
    bool live = flags & VRT_DOMAIN_XML_STATUS;

    if (!def->seclabels || def->seclabels->len == 0)
        return true;
    if (def->seclabels->len == 1) {
        VrtSecLabelDef *l = def->seclabels->pdata[0];

        if (l->model)
            return true;
        /* libvirt before 0.10 wrote one seclabel without a model: the
         * host's first model is taken */
        if (l->type == VRT_SECLABEL_NONE || (l->type == VRT_SECLABEL_DYNAMIC && !l->baselabel && !live)) {
            l->model = g_strdup(DEFAULT_MODEL);
            if (!live) {
                l->type = VRT_SECLABEL_NONE;
                l->relabel = false;
                g_clear_pointer(&l->label, g_free);
                g_clear_pointer(&l->imagelabel, g_free);
            }
            return true;
        }
        vrt_error_set_literal(error, VIR_ERR_XML_ERROR, "missing security model in domain seclabel");
        return false;
    }
    for (guint i = 0; i < def->seclabels->len; i++) {
        if (!((VrtSecLabelDef *)def->seclabels->pdata[i])->model) {
            vrt_error_set_literal(error, VIR_ERR_XML_ERROR, "missing security model when using multiple labels");
            return false;
        }
    }
    return true;
}

bool
vrt_parse_dev_seclabel(xmlNodePtr node, guint flags, GPtrArray **labels, GError **error)
{
    g_autoptr(GPtrArray) holder = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_sec_dev_label_def_free);
    VrtSecDevLabelDef *l = g_new0(VrtSecDevLabelDef, 1);

    g_ptr_array_add(holder, l);
    if (!vrt_xml_check_attrs(node, error, "model", "relabel", "labelskip", NULL))
        return false;
    l->model = vrt_xml_prop(node, "model");
    for (guint i = 0; l->model && *labels && i < (*labels)->len; i++) {
        if (g_strcmp0(((VrtSecDevLabelDef *)(*labels)->pdata[i])->model, l->model) == 0) {
            vrt_error_set(error, VIR_ERR_XML_DETAIL, "seclabel for model %s is already provided", l->model);
            return false;
        }
    }
    l->relabel = true;
    if (!parse_yes_no(node, "relabel", &l->relabel, error))
        return false;
    /* labelskip is runtime data: only the status file's counts */
    if ((flags & VRT_DOMAIN_XML_STATUS) && !parse_yes_no(node, "labelskip", &l->labelskip, error))
        return false;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!vrt_xml_is(c, "label"))
            return vrt_xml_unsupported(c, error);
    }
    l->label = nonempty(child_text(node, "label"));
    if (l->label && !l->relabel) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Cannot specify a label if relabelling is turned off. model=%s",
                      l->model ? l->model : "<null>");
        return false;
    }
    if (!*labels)
        *labels = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_sec_dev_label_def_free);
    g_ptr_array_add(*labels, g_ptr_array_steal_index(holder, 0));
    return true;
}

/* ---- format ---- */

void
vrt_format_seclabels(VrtFmt *f, const VrtDomainDef *def)
{
    for (guint i = 0; def->seclabels && i < def->seclabels->len; i++) {
        const VrtSecLabelDef *l = def->seclabels->pdata[i];
        g_autofree char *model = vrt_xml_escape(l->model);
        g_autofree char *label = vrt_xml_escape(l->label);
        g_autofree char *imagelabel = vrt_xml_escape(l->relabel ? l->imagelabel : NULL);
        g_autofree char *baselabel = vrt_xml_escape(l->type == VRT_SECLABEL_DYNAMIC ? l->baselabel : NULL);
        g_autofree char *head = g_strdup_printf("<seclabel type='%s'%s%s%s", seclabel_type_names[l->type],
                                                model ? " model='" : "", model ? model : "", model ? "'" : "");

        if (l->type == VRT_SECLABEL_NONE) {
            vrt_fmt_line(f, "%s/>", head);
            continue;
        }
        if (!label && !imagelabel && !baselabel) {
            vrt_fmt_line(f, "%s relabel='%s'/>", head, l->relabel ? "yes" : "no");
            continue;
        }
        vrt_fmt_line(f, "%s relabel='%s'>", head, l->relabel ? "yes" : "no");
        f->indent++;
        if (label)
            vrt_fmt_line(f, "<label>%s</label>", label);
        if (imagelabel)
            vrt_fmt_line(f, "<imagelabel>%s</imagelabel>", imagelabel);
        if (baselabel)
            vrt_fmt_line(f, "<baselabel>%s</baselabel>", baselabel);
        f->indent--;
        vrt_fmt_line(f, "</seclabel>");
    }
}

bool
vrt_dev_seclabels_shown(const VrtFmt *f, const GPtrArray *labels)
{
    for (guint i = 0; labels && i < labels->len; i++) {
        const VrtSecDevLabelDef *l = labels->pdata[i];

        if (!(f->flags & VRT_DOMAIN_XML_INACTIVE) || l->label || !l->relabel)
            return true;
    }
    return false;
}

void
vrt_format_dev_seclabels(VrtFmt *f, const GPtrArray *labels)
{
    for (guint i = 0; labels && i < labels->len; i++) {
        const VrtSecDevLabelDef *l = labels->pdata[i];
        g_autofree char *model = vrt_xml_escape(l->model);
        g_autofree char *label = vrt_xml_escape(l->label);
        g_autofree char *head = NULL;

        /* an inactive definition drops what says nothing (a labelskip
         * read from a live one) */
        if ((f->flags & VRT_DOMAIN_XML_INACTIVE) && !l->label && l->relabel)
            continue;
        head = g_strdup_printf("<seclabel%s%s%s %s", model ? " model='" : "", model ? model : "", model ? "'" : "",
                               l->labelskip ? "labelskip='yes'"
                               : l->relabel ? "relabel='yes'"
                                            : "relabel='no'");
        if (!label) {
            vrt_fmt_line(f, "%s/>", head);
            continue;
        }
        vrt_fmt_line(f, "%s>", head);
        f->indent++;
        vrt_fmt_line(f, "<label>%s</label>", label);
        f->indent--;
        vrt_fmt_line(f, "</seclabel>");
    }
}

/* ---- lookups ---- */

const VrtSecLabelDef *
vrt_domain_def_get_seclabel(const VrtDomainDef *def, const char *model)
{
    for (guint i = 0; def->seclabels && i < def->seclabels->len; i++) {
        const VrtSecLabelDef *l = def->seclabels->pdata[i];

        if (g_strcmp0(l->model, model) == 0)
            return l;
    }
    return NULL;
}

const VrtSecDevLabelDef *
vrt_dev_seclabel_get(const GPtrArray *labels, const char *model)
{
    for (guint i = 0; labels && i < labels->len; i++) {
        const VrtSecDevLabelDef *l = labels->pdata[i];

        if (g_strcmp0(l->model, model) == 0)
            return l;
    }
    return NULL;
}

VrtSecLabelDef *
vrt_domain_def_add_seclabel(VrtDomainDef *def, const char *model)
{
    VrtSecLabelDef *l = g_new0(VrtSecLabelDef, 1);

    l->model = g_strdup(model);
    if (!def->seclabels)
        def->seclabels = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_seclabel_def_free);
    g_ptr_array_add(def->seclabels, l);
    return l;
}
