/*
 * Devices of the domain XML that stand alone, read with libvirt 9's checks
 * and written back where and as libvirt writes them: <sound> (its model,
 * <codec>s and the <audio id=> backend it plays to; written after the
 * graphics) and <panic> (the ISA pvpanic device with its optional I/O
 * port, or Hyper-V's crash MSRs; written after the rngs), and the
 * displays other than VNC and SPICE (<graphics type='sdl|egl-headless|dbus'>
 * with their <gl>), which the QEMU driver refuses at start. The QEMU driver
 * turns them into devices (qemu_command_misc.c); addresses are assigned
 * with the other devices' (domain_addr.c): sound cards on PCI after the
 * interfaces, as libvirt orders them, a USB sound card on a USB port.
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

static const char *const sound_models[] = { "sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb", "ich7", NULL };
static const char *const codec_types[] = { "duplex", "micro", "output", NULL };
static const char *const panic_models[] = { "isa", "hyperv", NULL };

static void
info_clear(VrtDomainDeviceInfo *info)
{
    g_clear_pointer(&info->alias, g_free);
    g_clear_pointer(&info->usb.port, g_free);
}

void
vrt_domain_sound_free(VrtDomainSoundDef *s)
{
    if (!s)
        return;
    g_free(s->model);
    if (s->codecs)
        g_ptr_array_unref(s->codecs);
    info_clear(&s->info);
    g_free(s);
}

void
vrt_domain_panic_free(VrtDomainPanicDef *p)
{
    if (!p)
        return;
    g_free(p->model);
    info_clear(&p->info);
    g_free(p);
}

static bool
sound_has_codecs(const char *model)
{
    return g_str_equal(model, "ich6") || g_str_equal(model, "ich9") || g_str_equal(model, "ich7");
}

static bool
parse_sound(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainSoundDef *s = g_new0(VrtDomainSoundDef, 1);

    if (!def->sounds)
        def->sounds = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_sound_free);
    g_ptr_array_add(def->sounds, s); /* freed with def on every error path */
    if (!vrt_xml_check_attrs(node, error, "model", NULL))
        return false;
    s->model = vrt_xml_prop(node, "model");
    if (!s->model) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'model' in element 'sound'");
        return false;
    }
    if (vrt_enum_from_string(sound_models, s->model) < 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'model' in element 'sound': '%s'.",
                      s->model);
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        int r;

        if (vrt_xml_is(c, "codec") && sound_has_codecs(s->model)) {
            g_autofree char *type = vrt_xml_prop(c, "type");

            if (!vrt_xml_check_attrs(c, error, "type", NULL))
                return false;
            if (!type || vrt_enum_from_string(codec_types, type) < 0) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unknown codec type '%s'", type ? type : "");
                return false;
            }
            if (!s->codecs)
                s->codecs = g_ptr_array_new_with_free_func(g_free);
            g_ptr_array_add(s->codecs, g_steal_pointer(&type));
            continue;
        }
        if (vrt_xml_is(c, "audio")) {
            bool present = false;

            if (!vrt_xml_check_attrs(c, error, "id", NULL) ||
                !vrt_xml_prop_uint(c, "id", 255, &s->audio_id, &present, error))
                return false;
            if (!present || s->audio_id == 0) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'id' in element 'audio'");
                return false;
            }
            continue;
        }
        r = vrt_parse_info_child(ctx, c, &s->info, false, error);
        if (r < 0)
            return false;
        if (r == 0)
            return vrt_xml_unsupported(c, error);
    }
    return true;
}

/* <address type='isa' iobase='0x505'/>, the one address a panic device has */
static bool
parse_isa_address(xmlNodePtr node, VrtDomainPanicDef *p, GError **error)
{
    g_autofree char *type = vrt_xml_prop(node, "type");
    g_autofree char *iobase = vrt_xml_prop(node, "iobase");
    guint64 v = 0;

    if (g_strcmp0(type, "isa") != 0 || !vrt_xml_check_attrs(node, error, "type", "iobase", NULL)) {
        if (error && !*error)
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "panic device address type '%s' (line %ld) is not supported", type ? type : "",
                          xmlGetLineNo(node));
        return false;
    }
    if (iobase) {
        char *end = NULL;

        /* libvirt reads it as C does: 0x hexadecimal, 0 octal, decimal */
        v = g_ascii_strtoull(iobase, &end, 0);
        if (!*iobase || !end || *end || v > 0xffff) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'iobase' in element 'address': '%s'.",
                          iobase);
            return false;
        }
        p->iobase = (int)v;
    }
    return true;
}

static bool
parse_panic(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainPanicDef *p = g_new0(VrtDomainPanicDef, 1);

    p->iobase = -1;
    if (!def->panics)
        def->panics = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_panic_free);
    g_ptr_array_add(def->panics, p);
    if (!vrt_xml_check_attrs(node, error, "model", NULL))
        return false;
    p->model = vrt_xml_prop(node, "model");
    /* libvirt's x86 default */
    if (!p->model || g_str_equal(p->model, "default")) {
        g_free(p->model);
        p->model = g_strdup("isa");
    }
    if (vrt_enum_from_string(panic_models, p->model) < 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "panic model '%s' is not supported", p->model);
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        int r;

        if (vrt_xml_is(c, "address") && g_str_equal(p->model, "isa")) {
            if (!parse_isa_address(c, p, error))
                return false;
            continue;
        }
        r = vrt_parse_info_child(ctx, c, &p->info, false, error);
        if (r < 0)
            return false;
        if (r == 0 || p->info.type != VRT_DEVICE_ADDRESS_NONE)
            return vrt_xml_unsupported(c, error);
    }
    for (guint i = 0; i + 1 < def->panics->len; i++) {
        if (g_str_equal(((VrtDomainPanicDef *)def->panics->pdata[i])->model, p->model)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Multiple panic devices with model '%s' are not supported",
                          p->model);
            return false;
        }
    }
    return true;
}

bool
vrt_parse_misc_device(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, bool *handled, GError **error)
{
    *handled = true;
    if (vrt_xml_is(node, "sound"))
        return parse_sound(ctx, node, def, error);
    if (vrt_xml_is(node, "panic"))
        return parse_panic(ctx, node, def, error);
    *handled = false;
    return true;
}

void
vrt_format_sounds(VrtFmt *f, const VrtDomainDef *def)
{
    for (guint i = 0; def->sounds && i < def->sounds->len; i++) {
        const VrtDomainSoundDef *s = def->sounds->pdata[i];

        if (!s->codecs && !s->audio_id && !vrt_device_info_has_content(f, &s->info)) {
            vrt_fmt_line(f, "<sound model='%s'/>", s->model);
            continue;
        }
        vrt_fmt_line(f, "<sound model='%s'>", s->model);
        f->indent++;
        for (guint j = 0; s->codecs && j < s->codecs->len; j++)
            vrt_fmt_line(f, "<codec type='%s'/>", (const char *)s->codecs->pdata[j]);
        if (s->audio_id)
            vrt_fmt_line(f, "<audio id='%u'/>", s->audio_id);
        vrt_format_device_info(f, &s->info);
        f->indent--;
        vrt_fmt_line(f, "</sound>");
    }
}

void
vrt_format_panics(VrtFmt *f, const VrtDomainDef *def)
{
    for (guint i = 0; def->panics && i < def->panics->len; i++) {
        const VrtDomainPanicDef *p = def->panics->pdata[i];

        if (p->iobase < 0 && !vrt_device_info_has_content(f, &p->info)) {
            vrt_fmt_line(f, "<panic model='%s'/>", p->model);
            continue;
        }
        vrt_fmt_line(f, "<panic model='%s'>", p->model);
        f->indent++;
        vrt_format_device_info(f, &p->info);
        if (p->iobase >= 0)
            vrt_fmt_line(f, "<address type='isa' iobase='0x%x'/>", (guint)p->iobase);
        f->indent--;
        vrt_fmt_line(f, "</panic>");
    }
}

/* <gl enable=> as libvirt requires it where it is read */
static bool
parse_gl_enable(xmlNodePtr gl, VrtDomainGraphicsDef *g, GError **error)
{
    if (!vrt_xml_prop_tristate(gl, "enable", false, &g->gl_enable, error))
        return false;
    if (g->gl_enable == VRT_TRISTATE_DEFAULT) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'enable' in element 'gl'");
        return false;
    }
    return true;
}

bool
vrt_parse_graphics_local(xmlNodePtr node, VrtDomainGraphicsDef *g, GError **error)
{
    bool sdl = g->type == VRT_DOMAIN_GRAPHICS_SDL;
    bool dbus = g->type == VRT_DOMAIN_GRAPHICS_DBUS;

    if (!(sdl    ? vrt_xml_check_attrs(node, error, "type", "display", "xauth", "fullscreen", NULL)
          : dbus ? vrt_xml_check_attrs(node, error, "type", "p2p", "address", NULL)
                 : vrt_xml_check_attrs(node, error, "type", NULL)))
        return false;
    if (sdl) {
        g->display = vrt_xml_prop(node, "display");
        g->xauth = vrt_xml_prop(node, "xauth");
        if (!vrt_xml_prop_tristate(node, "fullscreen", false, &g->fullscreen, error))
            return false;
    }
    if (dbus) {
        g->dbus_address = vrt_xml_prop(node, "address");
        if (!vrt_xml_prop_tristate(node, "p2p", false, &g->dbus_p2p, error))
            return false;
        if (g->dbus_p2p == VRT_TRISTATE_YES && g->dbus_address) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "D-Bus p2p with an address is not supported");
            return false;
        }
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (dbus && vrt_xml_is(c, "audio") && !g->audio_id) {
            /* the dbus audio backend it plays (libvirt checks its kind at start) */
            if (!vrt_xml_check_attrs(c, error, "id", NULL) ||
                !vrt_xml_prop_uint_required(c, "id", G_MAXINT, &g->audio_id, error))
                return false;
            if (!g->audio_id) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "%s",
                              "Invalid value for attribute 'id' in element 'audio': Zero is not permitted");
                return false;
            }
            continue;
        }
        if (!vrt_xml_is(c, "gl") || g->gl)
            return vrt_xml_unsupported(c, error);
        g->gl = true;
        if (!(sdl    ? vrt_xml_check_attrs(c, error, "enable", NULL)
              : dbus ? vrt_xml_check_attrs(c, error, "enable", "rendernode", NULL)
                     : vrt_xml_check_attrs(c, error, "rendernode", NULL)))
            return false;
        if (!sdl)
            g->gl_rendernode = vrt_xml_prop(c, "rendernode");
        if (!(g->type == VRT_DOMAIN_GRAPHICS_EGL_HEADLESS) && !parse_gl_enable(c, g, error))
            return false;
    }
    return true;
}

void
vrt_format_graphics_local(VrtFmt *f, const VrtDomainGraphicsDef *g)
{
    g_autoptr(GString) attrs = g_string_new(NULL);
    g_autoptr(GString) gl = g_string_new(NULL);

    g_string_append_printf(attrs, " type='%s'", vrt_graphics_type_names[g->type]);
    vrt_xml_format_attr(attrs, "display", g->display);
    vrt_xml_format_attr(attrs, "xauth", g->xauth);
    /* libvirt keeps these two as booleans: 'no' is not written */
    if (g->fullscreen == VRT_TRISTATE_YES)
        g_string_append(attrs, " fullscreen='yes'");
    if (g->dbus_p2p == VRT_TRISTATE_YES)
        g_string_append(attrs, " p2p='yes'");
    vrt_xml_format_attr(attrs, "address", g->dbus_address);
    if (g->type == VRT_DOMAIN_GRAPHICS_EGL_HEADLESS) {
        if (g->gl_rendernode)
            vrt_xml_format_attr(gl, "rendernode", g->gl_rendernode);
    } else if (g->gl_enable != VRT_TRISTATE_DEFAULT) {
        g_string_append_printf(gl, " enable='%s'", g->gl_enable == VRT_TRISTATE_YES ? "yes" : "no");
        vrt_xml_format_attr(gl, "rendernode", g->gl_rendernode);
    }
    if (!gl->len && !g->audio_id) {
        vrt_fmt_line(f, "<graphics%s/>", attrs->str);
        return;
    }
    vrt_fmt_line(f, "<graphics%s>", attrs->str);
    f->indent++;
    if (gl->len)
        vrt_fmt_line(f, "<gl%s/>", gl->str);
    if (g->audio_id)
        vrt_fmt_line(f, "<audio id='%u'/>", g->audio_id);
    f->indent--;
    vrt_fmt_line(f, "</graphics>");
}

bool
vrt_validate_misc_devices(const VrtDomainDef *def, GError **error)
{
    bool egl = false;

    for (guint i = 0; def->sounds && i < def->sounds->len; i++) {
        const VrtDomainSoundDef *s = def->sounds->pdata[i];
        bool found = !s->audio_id;

        for (guint j = 0; !found && j < def->audios->len; j++)
            found = ((const VrtDomainAudioDef *)def->audios->pdata[j])->id == s->audio_id;
        if (!found) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "no audio device with ID %u", s->audio_id);
            return false;
        }
    }
    for (guint i = 0; i < def->graphics->len; i++)
        egl = egl || ((const VrtDomainGraphicsDef *)def->graphics->pdata[i])->type == VRT_DOMAIN_GRAPHICS_EGL_HEADLESS;
    for (guint i = 0; egl && i < def->graphics->len; i++) {
        VrtDomainGraphicsType t = ((const VrtDomainGraphicsDef *)def->graphics->pdata[i])->type;

        if (t != VRT_DOMAIN_GRAPHICS_EGL_HEADLESS && t != VRT_DOMAIN_GRAPHICS_VNC && t != VRT_DOMAIN_GRAPHICS_SPICE) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                          "graphics type 'egl-headless' is only supported with one of: 'vnc', 'spice' graphics types");
            return false;
        }
    }
    return true;
}

bool
vrt_parse_video_model_children(xmlNodePtr model, VrtDomainVideoDef *v, GError **error)
{
    VRT_XML_FOREACH_CHILD(c, model)
    {
        if (vrt_xml_is(c, "acceleration") && !v->accel) {
            v->accel = true;
            if (!vrt_xml_check_attrs(c, error, "accel3d", "accel2d", "rendernode", NULL) ||
                !vrt_xml_prop_tristate(c, "accel3d", false, &v->accel3d, error) ||
                !vrt_xml_prop_tristate(c, "accel2d", false, &v->accel2d, error))
                return false;
            v->accel_rendernode = vrt_xml_prop(c, "rendernode");
            if (!v->accel3d && !v->accel2d && !v->accel_rendernode) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing values for acceleration");
                return false;
            }
        } else if (vrt_xml_is(c, "resolution") && !v->res_x) {
            bool hx = false, hy = false;

            if (!vrt_xml_check_attrs(c, error, "x", "y", NULL) ||
                !vrt_xml_prop_uint(c, "x", G_MAXINT, &v->res_x, &hx, error) ||
                !vrt_xml_prop_uint(c, "y", G_MAXINT, &v->res_y, &hy, error))
                return false;
            if (!hx || !hy) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute '%s' in element 'resolution'",
                              hx ? "y" : "x");
                return false;
            }
            if (!v->res_x || !v->res_y) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "video resolution values must be non-zero");
                return false;
            }
        } else
            return vrt_xml_unsupported(c, error);
    }
    return true;
}

void
vrt_format_video_model_children(VrtFmt *f, const VrtDomainVideoDef *v)
{
    if (v->accel) {
        g_autoptr(GString) attrs = g_string_new(NULL);

        if (v->accel3d)
            g_string_append_printf(attrs, " accel3d='%s'", v->accel3d == VRT_TRISTATE_YES ? "yes" : "no");
        if (v->accel2d)
            g_string_append_printf(attrs, " accel2d='%s'", v->accel2d == VRT_TRISTATE_YES ? "yes" : "no");
        vrt_xml_format_attr(attrs, "rendernode", v->accel_rendernode);
        vrt_fmt_line(f, "<acceleration%s/>", attrs->str);
    }
    if (v->res_x)
        vrt_fmt_line(f, "<resolution x='%u' y='%u'/>", v->res_x, v->res_y);
}
