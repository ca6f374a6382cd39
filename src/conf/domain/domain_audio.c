/*
 * The domain's audio backends (<audio id= type=> with its <input> and
 * <output> settings), read with libvirt 9's checks and written back in
 * libvirt's attribute and element order. Each one becomes a QEMU -audiodev
 * (qemu_audio.c). Every type libvirt 9 has but dbus is read: none, alsa,
 * oss, file (QEMU's wav), spice, pulseaudio, sdl, jack and coreaudio; the
 * QEMU driver refuses at start, by name, a backend its QEMU was built
 * without (Debian's QEMU has pulseaudio, sdl and jack only with the
 * qemu-system-gui package, and coreaudio never).
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

static const char *const audio_types[] = { "none",       "alsa", "oss",  "file",      "spice",
                                           "pulseaudio", "sdl",  "jack", "coreaudio", NULL };
static const char *const sdl_drivers[] = { "esd", "alsa", "arts", "pulseaudio", NULL };
static const char *const audio_formats[] = { "u8", "s8", "u16", "s16", "u32", "s32", "f32", NULL };

static void
audio_io_clear(VrtDomainAudioIO *io)
{
    g_free(io->format);
    g_free(io->dev);
    g_free(io->name);
    g_free(io->stream_name);
    g_free(io->server_name);
    g_free(io->client_name);
    g_free(io->connect_ports);
}

void
vrt_domain_audio_free(VrtDomainAudioDef *a)
{
    if (!a)
        return;
    g_free(a->type);
    audio_io_clear(&a->input);
    audio_io_clear(&a->output);
    g_free(a->path);
    g_free(a->server_name);
    g_free(a->sdl_driver);
    g_free(a);
}

/* A number attribute libvirt reads with VIR_XML_PROP_NONZERO. */
static bool
prop_nonzero(xmlNodePtr node, const char *name, guint *out, GError **error)
{
    bool present = false;

    if (!vrt_xml_prop_uint(node, name, G_MAXUINT, out, &present, error))
        return false;
    if (present && *out == 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "Invalid value for attribute '%s' in element '%s': '0'. Expected non-zero value", name,
                      (const char *)node->name);
        return false;
    }
    return true;
}

static bool
parse_settings(xmlNodePtr node, VrtDomainAudioIO *io, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, "frequency", "channels", "format", NULL) ||
        !prop_nonzero(node, "frequency", &io->frequency, error) ||
        !prop_nonzero(node, "channels", &io->channels, error))
        return false;
    io->format = vrt_xml_prop(node, "format");
    if (io->format && vrt_enum_from_string(audio_formats, io->format) < 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'format' in element 'settings': '%s'.",
                      io->format);
        return false;
    }
    return true;
}

static bool
parse_io(xmlNodePtr node, const char *type, VrtDomainAudioIO *io, GError **error)
{
    bool alsa = g_str_equal(type, "alsa");
    bool oss = g_str_equal(type, "oss");
    bool pa = g_str_equal(type, "pulseaudio");
    bool jack = g_str_equal(type, "jack");
    bool count = g_str_equal(type, "sdl") || g_str_equal(type, "coreaudio");
    bool settings = false;

    if (!(oss ? vrt_xml_check_attrs(node, error, "mixingEngine", "fixedSettings", "voices", "bufferLength", "dev",
                                    "bufferCount", "tryPoll", NULL)
          : alsa
              ? vrt_xml_check_attrs(node, error, "mixingEngine", "fixedSettings", "voices", "bufferLength", "dev", NULL)
          : pa    ? vrt_xml_check_attrs(node, error, "mixingEngine", "fixedSettings", "voices", "bufferLength", "name",
                                        "streamName", "latency", NULL)
          : jack  ? vrt_xml_check_attrs(node, error, "mixingEngine", "fixedSettings", "voices", "bufferLength",
                                        "serverName", "clientName", "connectPorts", "exactName", NULL)
          : count ? vrt_xml_check_attrs(node, error, "mixingEngine", "fixedSettings", "voices", "bufferLength",
                                        "bufferCount", NULL)
                  : vrt_xml_check_attrs(node, error, "mixingEngine", "fixedSettings", "voices", "bufferLength", NULL)))
        return false;
    if (!vrt_xml_prop_tristate(node, "mixingEngine", false, &io->mixing_engine, error) ||
        !vrt_xml_prop_tristate(node, "fixedSettings", false, &io->fixed_settings, error))
        return false;
    if (io->fixed_settings == VRT_TRISTATE_YES && io->mixing_engine != VRT_TRISTATE_YES) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "fixed audio settings requires mixing engine");
        return false;
    }
    if (!prop_nonzero(node, "voices", &io->voices, error) ||
        !prop_nonzero(node, "bufferLength", &io->buffer_length, error))
        return false;
    if (alsa || oss)
        io->dev = vrt_xml_prop(node, "dev");
    if ((oss || count) && !vrt_xml_prop_uint(node, "bufferCount", G_MAXUINT, &io->buffer_count, NULL, error))
        return false;
    if (oss && !vrt_xml_prop_tristate(node, "tryPoll", false, &io->try_poll, error))
        return false;
    if (pa) {
        io->name = vrt_xml_prop(node, "name");
        io->stream_name = vrt_xml_prop(node, "streamName");
        if (!vrt_xml_prop_uint(node, "latency", G_MAXUINT, &io->latency, NULL, error))
            return false;
    }
    if (jack) {
        io->server_name = vrt_xml_prop(node, "serverName");
        io->client_name = vrt_xml_prop(node, "clientName");
        io->connect_ports = vrt_xml_prop(node, "connectPorts");
        if (!vrt_xml_prop_tristate(node, "exactName", false, &io->exact_name, error))
            return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (!vrt_xml_is(c, "settings") || settings)
            return vrt_xml_unsupported(c, error);
        settings = true;
        if (io->fixed_settings != VRT_TRISTATE_YES) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "audio settings specified without fixed settings flag");
            return false;
        }
        if (!parse_settings(c, io, error))
            return false;
    }
    return true;
}

bool
vrt_parse_audio(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainAudioDef *a;
    bool present = false;
    bool oss;
    xmlNodePtr input = NULL, output = NULL;

    a = g_new0(VrtDomainAudioDef, 1);
    g_ptr_array_add(def->audios, a); /* freed with def on every error path */
    a->type = vrt_xml_prop(node, "type");
    if (!a->type || vrt_enum_from_string(audio_types, a->type) < 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "audio type '%s' is not supported", a->type ? a->type : "");
        return false;
    }
    oss = g_str_equal(a->type, "oss");
    if (!(oss ? vrt_xml_check_attrs(node, error, "id", "type", "timerPeriod", "tryMMap", "exclusive", "dspPolicy", NULL)
          : g_str_equal(a->type, "file") ? vrt_xml_check_attrs(node, error, "id", "type", "timerPeriod", "path", NULL)
          : g_str_equal(a->type, "pulseaudio")
              ? vrt_xml_check_attrs(node, error, "id", "type", "timerPeriod", "serverName", NULL)
          : g_str_equal(a->type, "sdl") ? vrt_xml_check_attrs(node, error, "id", "type", "timerPeriod", "driver", NULL)
                                        : vrt_xml_check_attrs(node, error, "id", "type", "timerPeriod", NULL)))
        return false;
    if (!vrt_xml_prop_uint(node, "id", 255, &a->id, &present, error))
        return false;
    if (!present || a->id == 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "audio needs an 'id' from 1 to 255");
        return false;
    }
    if (!prop_nonzero(node, "timerPeriod", &a->timer_period, error))
        return false;
    for (guint i = 0; i + 1 < def->audios->len; i++) {
        if (((VrtDomainAudioDef *)def->audios->pdata[i])->id == a->id) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "audio id '%u' is used more than once", a->id);
            return false;
        }
    }
    if (oss) {
        g_autofree char *policy = vrt_xml_prop(node, "dspPolicy");
        gint64 v = 0;

        if (!vrt_xml_prop_tristate(node, "tryMMap", false, &a->try_mmap, error) ||
            !vrt_xml_prop_tristate(node, "exclusive", false, &a->exclusive, error))
            return false;
        if (policy) {
            if (!g_ascii_string_to_signed(policy, 10, G_MININT, G_MAXINT, &v, NULL)) {
                vrt_error_set(
                    error, VIR_ERR_XML_ERROR,
                    "Invalid value for attribute 'dspPolicy' in element 'audio': '%s'. Expected integer value", policy);
                return false;
            }
            if (v < 0) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "cannot parse 'dspPolicy' value '%d'", (int)v);
                return false;
            }
            a->dsp_policy = (int)v;
            a->dsp_policy_set = true;
        }
    }
    if (g_str_equal(a->type, "file"))
        a->path = vrt_xml_prop(node, "path");
    if (g_str_equal(a->type, "pulseaudio"))
        a->server_name = vrt_xml_prop(node, "serverName");
    if (g_str_equal(a->type, "sdl")) {
        a->sdl_driver = vrt_xml_prop(node, "driver");
        if (a->sdl_driver && vrt_enum_from_string(sdl_drivers, a->sdl_driver) < 0) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'driver' in element 'audio': '%s'.",
                          a->sdl_driver);
            return false;
        }
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "input") && !input)
            input = c;
        else if (vrt_xml_is(c, "output") && !output)
            output = c;
        else
            return vrt_xml_unsupported(c, error);
    }
    if (input && !parse_io(input, a->type, &a->input, error))
        return false;
    if (output && !parse_io(output, a->type, &a->output, error))
        return false;
    return true;
}

static const char *
yes_no(VrtTristate t)
{
    return t == VRT_TRISTATE_YES ? "yes" : "no";
}

static void
format_io(VrtFmt *f, const VrtDomainAudioIO *io, const char *direction)
{
    g_autoptr(GString) attrs = g_string_new(NULL);

    if (io->mixing_engine)
        g_string_append_printf(attrs, " mixingEngine='%s'", yes_no(io->mixing_engine));
    if (io->fixed_settings)
        g_string_append_printf(attrs, " fixedSettings='%s'", yes_no(io->fixed_settings));
    if (io->voices)
        g_string_append_printf(attrs, " voices='%u'", io->voices);
    if (io->buffer_length)
        g_string_append_printf(attrs, " bufferLength='%u'", io->buffer_length);
    vrt_xml_format_attr(attrs, "dev", io->dev);
    if (io->buffer_count)
        g_string_append_printf(attrs, " bufferCount='%u'", io->buffer_count);
    if (io->try_poll)
        g_string_append_printf(attrs, " tryPoll='%s'", yes_no(io->try_poll));
    vrt_xml_format_attr(attrs, "name", io->name);
    vrt_xml_format_attr(attrs, "streamName", io->stream_name);
    if (io->latency)
        g_string_append_printf(attrs, " latency='%u'", io->latency);
    vrt_xml_format_attr(attrs, "serverName", io->server_name);
    vrt_xml_format_attr(attrs, "clientName", io->client_name);
    vrt_xml_format_attr(attrs, "connectPorts", io->connect_ports);
    if (io->exact_name)
        g_string_append_printf(attrs, " exactName='%s'", yes_no(io->exact_name));
    if (!attrs->len)
        return;
    if (io->fixed_settings != VRT_TRISTATE_YES) {
        vrt_fmt_line(f, "<%s%s/>", direction, attrs->str);
        return;
    }
    {
        g_autoptr(GString) settings = g_string_new(NULL);

        if (io->frequency)
            g_string_append_printf(settings, " frequency='%u'", io->frequency);
        if (io->channels)
            g_string_append_printf(settings, " channels='%u'", io->channels);
        vrt_xml_format_attr(settings, "format", io->format);
        vrt_fmt_line(f, "<%s%s>", direction, attrs->str);
        f->indent++;
        vrt_fmt_line(f, "<settings%s/>", settings->str);
        f->indent--;
        vrt_fmt_line(f, "</%s>", direction);
    }
}

static bool
io_empty(const VrtDomainAudioIO *io)
{
    return !io->mixing_engine && !io->fixed_settings && !io->voices && !io->buffer_length && !io->dev &&
           !io->buffer_count && !io->try_poll && !io->name && !io->stream_name && !io->latency && !io->server_name &&
           !io->client_name && !io->connect_ports && !io->exact_name;
}

void
vrt_format_audio(VrtFmt *f, const VrtDomainAudioDef *a)
{
    g_autoptr(GString) attrs = g_string_new(NULL);

    g_string_append_printf(attrs, " id='%u' type='%s'", a->id, a->type);
    if (a->timer_period)
        g_string_append_printf(attrs, " timerPeriod='%u'", a->timer_period);
    if (a->try_mmap)
        g_string_append_printf(attrs, " tryMMap='%s'", yes_no(a->try_mmap));
    if (a->exclusive)
        g_string_append_printf(attrs, " exclusive='%s'", yes_no(a->exclusive));
    if (a->dsp_policy_set)
        g_string_append_printf(attrs, " dspPolicy='%d'", a->dsp_policy);
    vrt_xml_format_attr(attrs, "path", a->path);
    vrt_xml_format_attr(attrs, "serverName", a->server_name);
    vrt_xml_format_attr(attrs, "driver", a->sdl_driver);
    if (io_empty(&a->input) && io_empty(&a->output)) {
        vrt_fmt_line(f, "<audio%s/>", attrs->str);
        return;
    }
    vrt_fmt_line(f, "<audio%s>", attrs->str);
    f->indent++;
    format_io(f, &a->input, "input");
    format_io(f, &a->output, "output");
    f->indent--;
    vrt_fmt_line(f, "</audio>");
}
