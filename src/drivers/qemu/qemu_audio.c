/*
 * The domain's <audio> backends as QEMU -audiodev objects, with libvirt's
 * property names and its "audio<id>" ids (a VNC display names its backend
 * by that id). The file backend is QEMU's "wav" driver: QEMU opens the
 * file only once a sound device plays, and, as with libvirt, the path is
 * passed as written and not relabelled for QEMU's user. Pulseaudio, SDL
 * and JACK are loadable modules of Debian's QEMU (qemu-system-gui) and
 * coreaudio exists only on macOS: a backend whose module is not installed
 * is refused at start by name rather than left to QEMU's own failure.
 */
#include "drivers/qemu/qemu_command.h"
#include "util/error.h"

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
    if (io->name)
        json_object_set_string_member(o, "name", io->name);
    if (io->stream_name)
        json_object_set_string_member(o, "stream-name", io->stream_name);
    set_positive(o, "latency", io->latency);
    if (io->server_name)
        json_object_set_string_member(o, "server-name", io->server_name);
    if (io->client_name)
        json_object_set_string_member(o, "client-name", io->client_name);
    if (io->connect_ports)
        json_object_set_string_member(o, "connect-ports", io->connect_ports);
    set_tristate(o, "exact-name", io->exact_name);
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
    json_object_set_string_member(o, "driver",
                                  g_str_equal(a->type, "file")         ? "wav"
                                  : g_str_equal(a->type, "pulseaudio") ? "pa"
                                                                       : a->type);
    if (a->server_name)
        json_object_set_string_member(o, "server", a->server_name);
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

/* QEMU's module of an audio backend that is one (Debian builds these as
 * modules), NULL for a backend built in. */
static const char *
audio_module(const char *type)
{
    if (g_str_equal(type, "pulseaudio"))
        return "audio-pa";
    if (g_str_equal(type, "sdl") || g_str_equal(type, "jack") || g_str_equal(type, "coreaudio"))
        return type; /* audio-sdl, audio-jack, audio-coreaudio */
    return NULL;
}

bool
vrt_qemu_command_audio_check(const VrtDomainAudioDef *a, const char *module_dir, GError **error)
{
    const char *module = audio_module(a->type);
    g_autofree char *file = NULL;
    g_autofree char *path = NULL;

    if (a->sdl_driver) {
        /* libvirt hands it to SDL as SDL_AUDIODRIVER in QEMU's environment */
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "audio type 'sdl' with driver '%s' is not supported",
                      a->sdl_driver);
        return false;
    }
    if (!module)
        return true;
    file =
        g_str_has_prefix(module, "audio-") ? g_strdup_printf("%s.so", module) : g_strdup_printf("audio-%s.so", module);
    path = g_build_filename(module_dir ? module_dir : VRT_QEMU_MODULE_DIR, file, NULL);
    if (g_file_test(path, G_FILE_TEST_EXISTS))
        return true;
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                  "audio type '%s' is not supported by this QEMU: it has no '%s' backend (%s is not installed)",
                  a->type, a->type, path);
    return false;
}
