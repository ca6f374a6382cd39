/*
 * The domain's <audio> backends as QEMU -audiodev objects, with libvirt's
 * property names and its "audio<id>" ids (a VNC display names its backend
 * by that id). The file backend is QEMU's "wav" driver: QEMU opens the
 * file only once a sound device plays, and, as with libvirt, the path is
 * passed as written and not relabelled for QEMU's user.
 */
#include "drivers/qemu/qemu_command.h"

static void
set_tristate(JsonObject *o, const char *key, VrtTristate t)
{
    if (t != VRT_TRISTATE_DEFAULT)
        json_object_set_boolean_member(o, key, t == VRT_TRISTATE_YES);
}

static void
set_positive(JsonObject *o, const char *key, guint v)
{
    if (v)
        json_object_set_int_member(o, key, v);
}

static JsonObject *
io_props(const VrtDomainAudioIO *io)
{
    JsonObject *o = json_object_new();

    set_tristate(o, "mixing-engine", io->mixing_engine);
    set_tristate(o, "fixed-settings", io->fixed_settings);
    set_positive(o, "voices", io->voices);
    set_positive(o, "buffer-length", io->buffer_length);
    /* the <settings> count only with fixed settings */
    if (io->fixed_settings == VRT_TRISTATE_YES) {
        set_positive(o, "frequency", io->frequency);
        set_positive(o, "channels", io->channels);
        if (io->format)
            json_object_set_string_member(o, "format", io->format);
    }
    if (io->dev)
        json_object_set_string_member(o, "dev", io->dev);
    set_positive(o, "buffer-count", io->buffer_count);
    set_tristate(o, "try-poll", io->try_poll);
    return o;
}

JsonObject *
vrt_qemu_command_audiodev_props(const VrtDomainAudioDef *a)
{
    JsonObject *o = json_object_new();
    JsonObject *in = io_props(&a->input);
    JsonObject *out = io_props(&a->output);

    g_autofree char *id = g_strdup_printf("audio%u", a->id);

    json_object_set_string_member(o, "id", id);
    json_object_set_string_member(o, "driver", g_str_equal(a->type, "file") ? "wav" : a->type);
    set_positive(o, "timer-period", a->timer_period);
    if (g_str_equal(a->type, "oss")) {
        set_tristate(o, "try-mmap", a->try_mmap);
        set_tristate(o, "exclusive", a->exclusive);
        if (a->dsp_policy_set)
            json_object_set_int_member(o, "dsp-policy", a->dsp_policy);
    }
    if (a->path)
        json_object_set_string_member(o, "path", a->path);
    if (json_object_get_size(in))
        json_object_set_object_member(o, "in", in);
    else
        json_object_unref(in);
    if (json_object_get_size(out))
        json_object_set_object_member(o, "out", out);
    else
        json_object_unref(out);
    return o;
}
